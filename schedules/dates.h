/* Dates and times in the station's time zone (from TZ). */
#ifndef LOAXA_SCHEDULES_DATES_H
#define LOAXA_SCHEDULES_DATES_H

#include <stddef.h>
#include <stdint.h>

/* ---- dates and times (station time zone, from TZ) ---- */
/* "HH:MM" or "HH:MM:SS" → seconds of day; -1 if malformed or impossible. */
int tt_parse_time_of_day(const char *text);
/* 1 if "YYYY-MM-DD" is a real calendar date. */
int tt_valid_date(const char *text);
/* Local midnight of date + second → ns since epoch. */
int64_t tt_local_instant_ns(const char *date, int second_of_day);
/* The local date of an instant, "YYYY-MM-DD". */
void tt_local_date(int64_t instant_ns, char out[11]);
/* date + days → out (out may equal date). */
void tt_add_days(const char *date, int days, char out[11]);
/* 0 = Monday ... 6 = Sunday */
int tt_weekday(const char *date);
/* Days from a to b (b − a); both must be valid dates. */
long tt_days_between(const char *a, const char *b);
/* Spreadsheet forms too: "YYYY-MM-DD", "D/M/YYYY" → "YYYY-MM-DD"; -1 if not
 * a real date. "H:MM[:SS]" → seconds; -1 if not a time of day. */
int tt_parse_date_lenient(const char *text, char out[11]);
int tt_parse_time_lenient(const char *text);
/* Weekday names "mon,tue,..." ↔ bit mask (bit 0 = Monday); -1 if unknown. */
int tt_weekdays_parse(const char *text, unsigned *mask);
void tt_weekdays_format(unsigned mask, char *out, size_t size);

#endif
