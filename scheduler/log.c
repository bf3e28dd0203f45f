#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scheduler/log.h"

static enum log_level threshold = LOG_INFO;
static const char *const names[] = { "error", "warning", "info", "debug" };

void log_set_level(enum log_level level)
{
	threshold = level;
}

int log_parse_level(const char *text)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(text, names[i]) == 0)
			return i;
	return -1;
}

void log_message(enum log_level level, const char *fmt, ...)
{
	if (level > threshold)
		return;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm local;
	localtime_r(&now.tv_sec, &local);
	char stamp[40];
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &local);
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* one write per line so lines from threads do not interleave */
	fprintf(stderr, "%s.%03ld %s: %s\n", stamp, now.tv_nsec / 1000000, names[level], line);
}
