/*
 * The station's wall clock: CLOCK_REALTIME. For tests only, two environment
 * variables change it without changing the machine's:
 *   LOAXA_TEST_CLOCK_FILE  names a file holding a number of nanoseconds added
 *                          to it, so a test can step the clock (an NTP
 *                          correction, an operator fixing the date);
 *   LOAXA_TEST_CLOCK_SPEED an integer n > 1: from the process's first reading
 *                          the clock runs n times as fast (paced by
 *                          CLOCK_MONOTONIC), to run a day of timetable in
 *                          minutes on a test card of the same SPEED. Each
 *                          process has its own such clock: only `loaxa serve`
 *                          is meant to run on it.
 * station_clock_ns() may be called from any thread, the output thread
 * included (no I/O); station_clock_refresh() re-reads the file and is for the
 * serving loop's thread. station_clock_real_ns() turns a span of station time
 * into the real time to wait for it.
 */
#ifndef LOAXA_CLOCK_H
#define LOAXA_CLOCK_H

#include <stdint.h>

int64_t station_clock_ns(void);
void station_clock_refresh(void);
int64_t station_clock_speed(void);
int64_t station_clock_real_ns(int64_t station_span_ns);
int64_t station_clock_from_system_ns(int64_t realtime_ns);

#endif
