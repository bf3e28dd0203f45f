/* Events compiled into rules: recurrence as day-number arithmetic, lengths
 * from the media, exceptions as sorted exclusions plus one-date rules for
 * moved occurrences. Resolution and conflict checks both read these. */
#include <stdlib.h>
#include <string.h>

#include "schedules/store_internal.h"

static const char FIRST_DATE[] = "0000-00-00", LAST_DATE[] = "9999-99-99";

/* The weekdays (bit 0 = Monday) and days of the month (bit d) that the
 * filter's window covers; everything for a long or unbounded window. */
static void window_masks(const struct tt_rule_filter *filter, int64_t *weekdays, int64_t *month_days)
{
	*weekdays = 0x7f;
	*month_days = 0xfffffffeLL;
	long first = tt_day_of(filter->first_date), last = tt_day_of(filter->last_date);
	if (first < 0 || last < 0 || last - first >= 31)
		return;
	*month_days = 0;
	if (last - first < 7)
		*weekdays = 0;
	for (long day = first; day <= last; day++) {
		int year, month, month_day;
		tt_civil_from_day(day, &year, &month, &month_day);
		*month_days |= 1LL << month_day;
		if (last - first < 7)
			*weekdays |= 1LL << tt_weekday_of_day(day);
	}
}

void tt_bind_filter(sqlite3_stmt *stmt, const struct tt_rule_filter *filter)
{
	int64_t weekdays, month_days;
	window_masks(filter, &weekdays, &month_days);
	sqlite3_bind_text(stmt, 1, filter->first_date ? filter->first_date : FIRST_DATE, -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 2, filter->last_date ? filter->last_date : LAST_DATE, -1,
			  SQLITE_TRANSIENT);
	/* the exceptions' statement has only the dates */
	if (sqlite3_bind_parameter_count(stmt) < 3)
		return;
	sqlite3_bind_int(stmt, 3, filter->priority);
	sqlite3_bind_int64(stmt, 4, filter->also_event_id);
	sqlite3_bind_int64(stmt, 5, weekdays);
	sqlite3_bind_int64(stmt, 6, month_days);
}

void tt_read_rule_columns(sqlite3_stmt *stmt, struct tt_event *e)
{
	memset(e, 0, sizeof *e);
	e->id = sqlite3_column_int64(stmt, 0);
	e->priority = sqlite3_column_int(stmt, 1);
	int recurrence = tt_recurrence_parse((const char *)sqlite3_column_text(stmt, 2));
	e->recurrence = recurrence < 0 ? TT_ONCE : recurrence;
	tt_column_text(stmt, 3, e->on_date, sizeof e->on_date);
	e->weekdays = (unsigned)sqlite3_column_int(stmt, 4);
	e->month_day = sqlite3_column_int(stmt, 5);
	tt_column_text(stmt, 6, e->from_date, sizeof e->from_date);
	tt_column_text(stmt, 7, e->until_date, sizeof e->until_date);
	e->start_second = sqlite3_column_int(stmt, 8);
	e->repeat_count = sqlite3_column_int(stmt, 9);
	e->gap_seconds = sqlite3_column_int(stmt, 10);
	e->enabled = sqlite3_column_int(stmt, 11);
}

int tt_exceptions_load(struct tt *tt, const struct tt_rule_filter *filter,
		       struct tt_exception_table *table)
{
	memset(table, 0, sizeof *table);
	sqlite3_stmt *stmt = tt_prepare(tt, "SELECT event_id, on_date, coalesce(moved_second, -1)"
					    " FROM event_exception WHERE on_date BETWEEN ?1 AND ?2"
					    " ORDER BY event_id, on_date");
	if (!stmt)
		return TT_ERR_DB;
	tt_bind_filter(stmt, filter);
	size_t capacity = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (table->count == capacity) {
			capacity = capacity ? capacity * 2 : 64;
			int64_t *ids = realloc(table->event_ids, capacity * sizeof *ids);
			if (ids)
				table->event_ids = ids;
			long *days = realloc(table->days, capacity * sizeof *days);
			if (days)
				table->days = days;
			int *moved = realloc(table->moved_seconds, capacity * sizeof *moved);
			if (moved)
				table->moved_seconds = moved;
			if (!ids || !days || !moved) {
				rc = SQLITE_NOMEM;
				break;
			}
		}
		table->event_ids[table->count] = sqlite3_column_int64(stmt, 0);
		table->days[table->count] = tt_day_of((const char *)sqlite3_column_text(stmt, 1));
		table->moved_seconds[table->count++] = sqlite3_column_int(stmt, 2);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		tt_exceptions_free(table);
		return rc == SQLITE_NOMEM ? tt_fail(tt, TT_ERR_DB, "out of memory")
					  : tt_fail_db(tt, "reading exceptions");
	}
	return 0;
}

void tt_exceptions_free(struct tt_exception_table *table)
{
	free(table->event_ids);
	free(table->days);
	free(table->moved_seconds);
	memset(table, 0, sizeof *table);
}

size_t tt_exceptions_of(const struct tt_exception_table *table, int64_t event_id, size_t *first)
{
	size_t low = 0, high = table->count;
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		if (table->event_ids[middle] < event_id)
			low = middle + 1;
		else
			high = middle;
	}
	*first = low;
	size_t end = low;
	while (end < table->count && table->event_ids[end] == event_id)
		end++;
	return end - low;
}

static struct tt_rule *push_rule(struct tt_rule_set *set)
{
	if (set->count == set->capacity) {
		size_t capacity = set->capacity ? set->capacity * 2 : 64;
		struct tt_rule *grown = realloc(set->rules, capacity * sizeof *grown);
		if (!grown)
			return NULL;
		set->rules = grown;
		set->capacity = capacity;
	}
	struct tt_rule *rule = &set->rules[set->count++];
	memset(rule, 0, sizeof *rule);
	return rule;
}

static int push_exclusion(struct tt_rule_set *set, long day)
{
	if (set->exclusion_count == set->exclusion_capacity) {
		size_t capacity = set->exclusion_capacity ? set->exclusion_capacity * 2 : 64;
		long *grown = realloc(set->exclusions, capacity * sizeof *grown);
		if (!grown)
			return -1;
		set->exclusions = grown;
		set->exclusion_capacity = capacity;
	}
	set->exclusions[set->exclusion_count++] = day;
	return 0;
}

static int compare_days(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

int tt_rules_add_event(struct tt_rule_set *set, const struct tt_event *e, int64_t length_ns,
		       const long *exception_days, const int *moved_seconds, size_t exception_count)
{
	struct tt_rule *base = push_rule(set);
	if (!base)
		return -1;
	base->event_id = e->id;
	base->priority = e->priority;
	base->recurrence = e->recurrence;
	base->weekdays = e->recurrence == TT_DAILY ? 0x7f : e->weekdays;
	base->month_day = e->month_day;
	base->from_day = e->from_date[0] ? tt_day_of(e->from_date) : TT_DAY_MIN;
	base->until_day = e->until_date[0] ? tt_day_of(e->until_date) : TT_DAY_MAX;
	if (e->recurrence == TT_ONCE) {
		base->on_day = tt_day_of(e->on_date);
		if (base->on_day > base->from_day)
			base->from_day = base->on_day;
		if (base->on_day < base->until_day)
			base->until_day = base->on_day;
	}
	base->start_second = e->start_second;
	base->repeat_count = e->repeat_count > 0 ? e->repeat_count : 1;
	base->gap_seconds = e->gap_seconds;
	base->length_ns = length_ns;
	base->exclusion_first = set->exclusion_count;
	for (size_t i = 0; i < exception_count; i++)
		if (push_exclusion(set, exception_days[i]) < 0)
			return -1;
	base->exclusion_count = exception_count;
	if (exception_count)
		qsort(set->exclusions + base->exclusion_first, exception_count, sizeof (long), compare_days);
	struct tt_rule copy = *base;
	for (size_t i = 0; i < exception_count; i++) {
		if (moved_seconds[i] < 0)
			continue;
		struct tt_rule *moved = push_rule(set);
		if (!moved)
			return -1;
		*moved = copy;
		moved->recurrence = TT_ONCE;
		moved->on_day = moved->from_day = moved->until_day = exception_days[i];
		moved->start_second = moved_seconds[i];
		moved->moved = 1;
		moved->exclusion_count = 0;
	}
	return 0;
}

void tt_rules_clear(struct tt_rule_set *set)
{
	set->count = 0;
	set->exclusion_count = 0;
}

void tt_rules_free(struct tt_rule_set *set)
{
	free(set->rules);
	free(set->exclusions);
	memset(set, 0, sizeof *set);
}

static int rule_matches(const struct tt_rule *r, long day)
{
	if (day < r->from_day || day > r->until_day)
		return 0;
	switch (r->recurrence) {
	case TT_ONCE:
		return day == r->on_day;
	case TT_DAILY:
	case TT_WEEKDAYS:
		return r->weekdays >> tt_weekday_of_day(day) & 1;
	case TT_MONTHLY: {
		int year, month, month_day;
		tt_civil_from_day(day, &year, &month, &month_day);
		return month_day == r->month_day;
	}
	}
	return 0;
}

int tt_rule_occurs(const struct tt_rule_set *set, const struct tt_rule *r, long day)
{
	if (!rule_matches(r, day))
		return 0;
	return r->exclusion_count == 0 ||
	       !bsearch(&day, set->exclusions + r->exclusion_first, r->exclusion_count,
			sizeof (long), compare_days);
}

int tt_event_occurs_on(const struct tt_event *e, long day)
{
	struct tt_rule_set set = { 0 };
	int occurs = tt_rules_add_event(&set, e, 0, NULL, NULL, 0) == 0 &&
		     tt_rule_occurs(&set, &set.rules[0], day);
	tt_rules_free(&set);
	return occurs;
}

int64_t tt_rule_repeat_start_ns(const struct tt_rule *r, int repeat)
{
	return (int64_t)r->start_second * TT_NS +
	       repeat * (r->length_ns + (int64_t)r->gap_seconds * TT_NS);
}

int64_t tt_rule_span_ns(const struct tt_rule *r)
{
	return tt_rule_repeat_start_ns(r, r->repeat_count - 1) + r->length_ns -
	       (int64_t)r->start_second * TT_NS;
}

int tt_rules_load(struct tt *tt, struct tt_rule_set *set, const struct tt_rule_filter *filter)
{
	struct tt_exception_table exceptions;
	int rc = tt_exceptions_load(tt, filter, &exceptions);
	if (rc < 0)
		return rc;
	static const char *const queries[] = {
		"SELECT " TT_RULE_COLUMNS ", sum(m.frames * 1000000000 / m.rate)" TT_ITEMS_JOIN_SQL
		TT_ONCE_SQL " GROUP BY c.id",
		"SELECT " TT_RULE_COLUMNS ", sum(m.frames * 1000000000 / m.rate)" TT_ITEMS_JOIN_SQL
		TT_RECURRING_SQL " GROUP BY c.id",
	};
	for (size_t q = 0; rc == 0 && q < 2; q++) {
		sqlite3_stmt *stmt = tt_prepare(tt, queries[q]);
		if (!stmt) {
			rc = TT_ERR_DB;
			break;
		}
		tt_bind_filter(stmt, filter);
		struct tt_event e;
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			tt_read_rule_columns(stmt, &e);
			size_t first, count = tt_exceptions_of(&exceptions, e.id, &first);
			if (tt_rules_add_event(set, &e, sqlite3_column_int64(stmt, TT_RULE_COLUMN_COUNT),
					       exceptions.days + first, exceptions.moved_seconds + first,
					       count) < 0) {
				rc = SQLITE_NOMEM;
				break;
			}
		}
		sqlite3_finalize(stmt);
		if (rc == SQLITE_DONE)
			rc = 0;
		else if (rc == SQLITE_NOMEM)
			rc = tt_fail(tt, TT_ERR_DB, "out of memory");
		else
			rc = tt_fail_db(tt, "reading the timetable");
	}
	tt_exceptions_free(&exceptions);
	return rc;
}

int tt_rules_load_upcoming(struct tt *tt, struct tt_rule_set *set, int priority,
			   int64_t also_event_id)
{
	char first[11];
	tt_date_of_day(tt_today(tt) - 1, first);
	struct tt_rule_filter filter = { first, NULL, priority, also_event_id };
	return tt_rules_load(tt, set, &filter);
}
