/* Log lines for the running station: stderr, one line each, with the local
 * time and a level. Safe to call from any non-real-time thread. */
#ifndef LOAXA_LOG_H
#define LOAXA_LOG_H

enum log_level { LOG_ERROR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
int log_parse_level(const char *text);   /* -1 if unknown */
void log_message(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
