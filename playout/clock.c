#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "playout/clock.h"

static _Atomic int64_t test_offset_ns;

int64_t station_clock_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec +
	       atomic_load_explicit(&test_offset_ns, memory_order_relaxed);
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
