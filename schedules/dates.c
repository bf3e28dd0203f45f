#include <stdio.h>
#include <string.h>
#include <time.h>

#include "schedules/store_internal.h"

static int all_digits(const char *text, size_t length)
{
	for (size_t i = 0; i < length; i++)
		if (text[i] < '0' || text[i] > '9')
			return 0;
	return 1;
}

static int number(const char *text, size_t length)
{
	int value = 0;
	for (size_t i = 0; i < length; i++)
		value = value * 10 + (text[i] - '0');
	return value;
}

int tt_parse_time_of_day(const char *text)
{
	size_t length = strlen(text);
	if (length != 5 && length != 8)
		return -1;
	if (!all_digits(text, 2) || text[2] != ':' || !all_digits(text + 3, 2))
		return -1;
	int hours = number(text, 2), minutes = number(text + 3, 2), seconds = 0;
	if (length == 8) {
		if (text[5] != ':' || !all_digits(text + 6, 2))
			return -1;
		seconds = number(text + 6, 2);
	}
	if (hours > 23 || minutes > 59 || seconds > 59)
		return -1;
	return hours * 3600 + minutes * 60 + seconds;
}

int tt_days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return month == 2 && leap ? 29 : days[month - 1];
}

static int split_date(const char *text, int *year, int *month, int *day)
{
	if (strlen(text) != 10 || text[4] != '-' || text[7] != '-' ||
	    !all_digits(text, 4) || !all_digits(text + 5, 2) || !all_digits(text + 8, 2))
		return -1;
	*year = number(text, 4);
	*month = number(text + 5, 2);
	*day = number(text + 8, 2);
	if (*year < 1970 || *year > 9999 || *month < 1 || *month > 12 || *day < 1 ||
	    *day > tt_days_in_month(*year, *month))
		return -1;
	return 0;
}

int tt_valid_date(const char *text)
{
	int year, month, day;
	return split_date(text, &year, &month, &day) == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so date arithmetic needs no time zone. */
long tt_day_from_civil(int year, int month, int day)
{
	year -= month <= 2;
	long era = (year >= 0 ? year : year - 399) / 400;
	long year_of_era = year - era * 400;
	long day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	long day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
	return era * 146097 + day_of_era - 719468;
}

void tt_civil_from_day(long days, int *year_out, int *month_out, int *day_out)
{
	days += 719468;
	long era = (days >= 0 ? days : days - 146096) / 146097;
	long day_of_era = days - era * 146097;
	long year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
	long year = year_of_era + era * 400;
	long day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	long mp = (5 * day_of_year + 2) / 153;
	long day = day_of_year - (153 * mp + 2) / 5 + 1;
	long month = mp + (mp < 10 ? 3 : -9);
	year += month <= 2;
	*year_out = (int)year;
	*month_out = (int)month;
	*day_out = (int)day;
}

void tt_date_of_day(long day_number, char out[11])
{
	int year, month, day;
	tt_civil_from_day(day_number, &year, &month, &day);
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)year % 10000u, (unsigned)month % 100u,
		 (unsigned)day % 100u);
}

long tt_day_of(const char *date)
{
	int year, month, day;
	if (!date || split_date(date, &year, &month, &day) < 0)
		return -1;
	return tt_day_from_civil(year, month, day);
}

int tt_weekday_of_day(long day_number)
{
	/* 1970-01-01 was a Thursday (3 when Monday is 0) */
	return (int)(((day_number % 7) + 7 + 3) % 7);
}

long tt_days_between(const char *a, const char *b)
{
	return tt_day_of(b) - tt_day_of(a);
}

void tt_add_days(const char *date, int days, char out[11])
{
	long day_number = tt_day_of(date);
	if (day_number < 0) {
		out[0] = '\0';
		return;
	}
	tt_date_of_day(day_number + days, out);
}

int tt_weekday(const char *date)
{
	long day_number = tt_day_of(date);
	return day_number < 0 ? -1 : tt_weekday_of_day(day_number);
}

/* Reads 1 or 2 digits (or exactly `exact` when it is not 0) up to a
 * separator; returns the position after it, NULL if malformed. */
static const char *read_number(const char *text, int exact, char separator, int *value)
{
	size_t length = 0;
	while (text[length] >= '0' && text[length] <= '9')
		length++;
	if (length == 0 || (exact ? length != (size_t)exact : length > 2) || text[length] != separator)
		return NULL;
	*value = number(text, length);
	return text + length + (separator ? 1 : 0);
}

int tt_parse_date_lenient(const char *text, char out[11])
{
	if (tt_valid_date(text)) {
		tt_copy(out, 11, text);
		return 0;
	}
	int day, month, year;
	const char *p = read_number(text, 0, '/', &day);
	if (p)
		p = read_number(p, 0, '/', &month);
	if (p)
		p = read_number(p, 4, '\0', &year);
	if (!p || month < 1 || month > 12 || year < 1970 || day < 1 ||
	    day > tt_days_in_month(year, month))
		return -1;
	snprintf(out, 11, "%04d-%02d-%02d", year, month, day);
	return 0;
}

int tt_parse_time_lenient(const char *text)
{
	char padded[16];
	if (strlen(text) == 4 || strlen(text) == 7) {
		snprintf(padded, sizeof padded, "0%s", text);
		return tt_parse_time_of_day(padded);
	}
	return tt_parse_time_of_day(text);
}

static const char *const weekday_names[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

int tt_weekdays_parse(const char *text, unsigned *mask)
{
	*mask = 0;
	const char *p = text;
	while (*p) {
		size_t length = strcspn(p, ",");
		int found = -1;
		for (int i = 0; i < 7; i++)
			if (length == 3 && strncmp(p, weekday_names[i], 3) == 0)
				found = i;
		if (found < 0)
			return -1;
		*mask |= 1u << found;
		p += length;
		if (*p == ',' && *++p == '\0')
			return -1;
	}
	return *mask ? 0 : -1;
}

void tt_weekdays_format(unsigned mask, char *out, size_t size)
{
	tt_copy(out, size, "");
	for (int i = 0; i < 7; i++)
		if (mask >> i & 1)
			tt_append(out, size, "%s%s", out[0] ? "," : "", weekday_names[i]);
}

int64_t tt_local_instant_ns(const char *date, int second_of_day)
{
	int year, month, day;
	if (split_date(date, &year, &month, &day) < 0)
		return -1;
	struct tm local = {
		.tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day,
		.tm_hour = second_of_day / 3600, .tm_min = second_of_day / 60 % 60,
		.tm_sec = second_of_day % 60, .tm_isdst = -1,
	};
	time_t seconds = mktime(&local);
	return (int64_t)seconds * 1000000000LL;
}

void tt_local_date(int64_t instant_ns, char out[11])
{
	time_t seconds = (time_t)(instant_ns / 1000000000LL);
	if (instant_ns < 0 && instant_ns % 1000000000LL)
		seconds--;
	struct tm local;
	localtime_r(&seconds, &local);
	strftime(out, 11, "%Y-%m-%d", &local);
}

static const char *const priority_names[] = { "normal", "priority", "emergency" };
static const char *const resume_names[] = { "resume", "restart", "skip", "rejoin" };

const char *tt_priority_name(enum tt_priority priority)
{
	return (unsigned)priority < 3 ? priority_names[priority] : "?";
}

int tt_priority_parse(const char *text)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(text, priority_names[i]) == 0)
			return i;
	return -1;
}

const char *tt_resume_name(enum tt_resume resume)
{
	return (unsigned)resume < 4 ? resume_names[resume] : "?";
}

int tt_resume_parse(const char *text)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(text, resume_names[i]) == 0)
			return i;
	return -1;
}
