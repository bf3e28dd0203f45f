#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "playout/clock.h"

static _Atomic int64_t test_offset_ns;

/* LOAXA_TEST_CLOCK_SPEED, read once: the speed and where the fast clock
 * starts (CLOCK_MONOTONIC and CLOCK_REALTIME of the first reading). */
static pthread_once_t speed_once = PTHREAD_ONCE_INIT;
static int64_t speed = 1, anchor_monotonic_ns, anchor_realtime_ns;

static int64_t read_clock(clockid_t id)
{
	struct timespec now;
	clock_gettime(id, &now);
	return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static void read_speed(void)
{
	const char *text = getenv("LOAXA_TEST_CLOCK_SPEED");
	long long value = text ? atoll(text) : 1;
	if (value <= 1)
		return;
	speed = value;
	anchor_monotonic_ns = read_clock(CLOCK_MONOTONIC);
	anchor_realtime_ns = read_clock(CLOCK_REALTIME);
}

int64_t station_clock_speed(void)
{
	pthread_once(&speed_once, read_speed);
	return speed;
}

int64_t station_clock_real_ns(int64_t station_span_ns)
{
	return station_span_ns / station_clock_speed();
}

int64_t station_clock_ns(void)
{
	int64_t offset = atomic_load_explicit(&test_offset_ns, memory_order_relaxed);
	if (station_clock_speed() == 1)
		return read_clock(CLOCK_REALTIME) + offset;
	return anchor_realtime_ns + (read_clock(CLOCK_MONOTONIC) - anchor_monotonic_ns) * speed +
	       offset;
}

int64_t station_clock_from_system_ns(int64_t realtime_ns)
{
	int64_t offset = atomic_load_explicit(&test_offset_ns, memory_order_relaxed);
	if (station_clock_speed() == 1)
		return realtime_ns + offset;
	/* CLOCK_REALTIME and CLOCK_MONOTONIC advance together here: a test
	 * steps the station clock through the file, not the machine's */
	return anchor_realtime_ns + (realtime_ns - anchor_realtime_ns) * speed + offset;
}

void station_clock_refresh(void)
{
	const char *path = getenv("LOAXA_TEST_CLOCK_FILE");
	if (!path || !*path)
		return;
	FILE *file = fopen(path, "r");
	if (!file)
		return;
	long long offset;
	if (fscanf(file, "%lld", &offset) == 1)
		atomic_store(&test_offset_ns, (int64_t)offset);
	fclose(file);
}
