/*
 * The station's wall clock: CLOCK_REALTIME. For tests only, the environment
 * variable LOAXA_TEST_CLOCK_FILE names a file holding a number of
 * nanoseconds added to it, so a test can step the clock (an NTP correction,
 * an operator fixing the date) without changing the machine's.
 * station_clock_ns() may be called from any thread, the output thread
 * included (no I/O); station_clock_refresh() re-reads the file and is for the
 * serving loop's thread.
 */
#ifndef LOAXA_CLOCK_H
#define LOAXA_CLOCK_H

#include <stdint.h>

int64_t station_clock_ns(void);
void station_clock_refresh(void);

#endif
