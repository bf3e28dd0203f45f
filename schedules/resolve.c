/* Resolution of events into airings: one query reads the events that may
 * occur in the window with their items; each event's rules (base and moved
 * dates) are walked over the window's days, and each occurrence plays its
 * items back to back, repeated with gaps. */
#include <stdlib.h>
#include <string.h>

#include "schedules/store_internal.h"

struct item {
	int64_t media_id;
	int64_t duration_ns;
	char title[512];
	char category[256];
};

/* One event's columns and items, as read. */
struct event_rows {
	struct tt_event event;
	char programme_name[512];
	struct item *items;
	size_t count, capacity;
};

struct airing_list {
	struct tt_airing *items;
	size_t count, capacity;
};

static int compare_airings(const void *a, const void *b)
{
	const struct tt_airing *x = a, *y = b;
	if (x->scheduled_ns != y->scheduled_ns)
		return x->scheduled_ns < y->scheduled_ns ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	if (x->event_id != y->event_id)
		return x->event_id < y->event_id ? -1 : 1;
	return x->part - y->part;
}

/* The window's days: their dates and local midnights (and whether the
 * clock changes that day, in zones that have such days). */
#define MAX_CACHED_DAYS 8

struct window {
	int64_t from_ns, until_ns;
	long first_day, last_day;
	struct tt_exception_table exceptions;
	struct tt_rule_set rules;          /* one event's, reused */
	struct {
		char date[11];
		int64_t midnight_ns;
		int regular;                  /* 24 hours long, no clock change */
	} days[MAX_CACHED_DAYS];
};

static void cache_days(struct window *w)
{
	for (long i = 0; i < MAX_CACHED_DAYS && w->first_day + i <= w->last_day; i++) {
		char next[11];
		tt_date_of_day(w->first_day + i, w->days[i].date);
		tt_date_of_day(w->first_day + i + 1, next);
		w->days[i].midnight_ns = tt_local_instant_ns(w->days[i].date, 0);
		w->days[i].regular = tt_local_instant_ns(next, 0) - w->days[i].midnight_ns ==
				     (int64_t)TT_DAY_SECONDS * TT_NS;
	}
}

/* Adds the airings of one occurrence that start inside the window. */
static int emit_occurrence(struct airing_list *list, struct window *w,
			   const struct event_rows *rows, const struct tt_rule *rule, long day)
{
	const struct tt_event *e = &rows->event;
	long index = day - w->first_day;
	char date[11];
	int64_t midnight_ns = 0;
	if (index < MAX_CACHED_DAYS && w->days[index].regular) {
		memcpy(date, w->days[index].date, sizeof date);
		midnight_ns = w->days[index].midnight_ns;
	} else {
		/* a long window, or a clock change that day: ask the zone */
		tt_date_of_day(day, date);
		midnight_ns = tt_local_instant_ns(date, rule->start_second) -
			      (int64_t)rule->start_second * TT_NS;
	}
	const char *title = e->title[0] ? e->title
			  : rows->programme_name[0] ? rows->programme_name : NULL;
	int part = 0;
	for (int repeat = 0; repeat < rule->repeat_count; repeat++) {
		int64_t start_ns = midnight_ns + tt_rule_repeat_start_ns(rule, repeat);
		for (size_t i = 0; i < rows->count; i++, part++) {
			const struct item *item = &rows->items[i];
			if (start_ns >= w->from_ns && start_ns < w->until_ns) {
				if (list->count == list->capacity) {
					size_t capacity = list->capacity ? list->capacity * 2 : 64;
					struct tt_airing *grown = realloc(list->items, capacity * sizeof *grown);
					if (!grown)
						return -1;
					list->items = grown;
					list->capacity = capacity;
				}
				struct tt_airing *a = &list->items[list->count++];
				*a = (struct tt_airing){
					.event_id = e->id, .part = part, .media_id = item->media_id,
					.priority = e->priority, .resume = e->resume,
					.scheduled_ns = start_ns, .duration_ns = item->duration_ns,
					.programme_id = e->programme_id, .repeat = repeat,
					.repeat_count = rule->repeat_count, .item = (int)i,
					.item_count = (int)rows->count, .moved = rule->moved,
				};
				memcpy(a->occurrence_date, date, sizeof date);
				tt_copy(a->title, sizeof a->title, title ? title : item->title);
				tt_copy(a->item_title, sizeof a->item_title, item->title);
				tt_copy(a->category, sizeof a->category, item->category);
			}
			start_ns += item->duration_ns;
		}
	}
	return 0;
}

static int resolve_event(struct airing_list *list, struct window *w, const struct event_rows *rows)
{
	const struct tt_event *e = &rows->event;
	size_t first, count = tt_exceptions_of(&w->exceptions, e->id, &first);
	int64_t length_ns = 0;
	for (size_t i = 0; i < rows->count; i++)
		length_ns += rows->items[i].duration_ns;
	tt_rules_clear(&w->rules);
	int rc = tt_rules_add_event(&w->rules, e, length_ns, w->exceptions.days + first,
				    w->exceptions.moved_seconds + first, count);
	for (size_t r = 0; rc == 0 && r < w->rules.count; r++) {
		const struct tt_rule *rule = &w->rules.rules[r];
		long first_day = rule->from_day > w->first_day ? rule->from_day : w->first_day;
		long last_day = rule->until_day < w->last_day ? rule->until_day : w->last_day;
		for (long day = first_day; rc == 0 && day <= last_day; day++)
			if (tt_rule_occurs(&w->rules, rule, day))
				rc = emit_occurrence(list, w, rows, rule, day);
	}
	return rc;
}

static int add_item(struct event_rows *rows, sqlite3_stmt *stmt, int column)
{
	if (rows->count == rows->capacity) {
		size_t capacity = rows->capacity ? rows->capacity * 2 : 8;
		struct item *grown = realloc(rows->items, capacity * sizeof *grown);
		if (!grown)
			return -1;
		rows->items = grown;
		rows->capacity = capacity;
	}
	struct item *item = &rows->items[rows->count++];
	item->media_id = sqlite3_column_int64(stmt, column);
	int64_t frames = sqlite3_column_int64(stmt, column + 1);
	int rate = sqlite3_column_int(stmt, column + 2);
	item->duration_ns = rate > 0 ? frames * TT_NS / rate : 0;
	tt_column_text(stmt, column + 3, item->title, sizeof item->title);
	tt_column_text(stmt, column + 4, item->category, sizeof item->category);
	return 0;
}

/* Runs one candidate query: rows come grouped by event, items in order. */
static int resolve_query(struct tt *tt, const char *sql, const struct tt_rule_filter *filter,
			 struct window *w, struct airing_list *list, struct event_rows *rows)
{
	sqlite3_stmt *stmt = tt_prepare(tt, sql);
	if (!stmt)
		return TT_ERR_DB;
	tt_bind_filter(stmt, filter);
	const int extra = TT_RULE_COLUMN_COUNT;
	int step;
	rows->count = 0;
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(stmt, 0);
		if (rows->count && rows->event.id != id) {
			if (resolve_event(list, w, rows) < 0)
				break;
			rows->count = 0;
		}
		if (rows->count == 0) {
			tt_read_rule_columns(stmt, &rows->event);
			tt_column_text(stmt, extra, rows->event.title, sizeof rows->event.title);
			int resume = tt_resume_parse((const char *)sqlite3_column_text(stmt, extra + 1));
			rows->event.resume = resume < 0 ? TT_RESUME : resume;
			rows->event.programme_id = sqlite3_column_int64(stmt, extra + 2);
			tt_column_text(stmt, extra + 3, rows->programme_name, sizeof rows->programme_name);
		}
		if (add_item(rows, stmt, extra + 4) < 0)
			break;
	}
	sqlite3_finalize(stmt);
	if (step == SQLITE_DONE && rows->count && resolve_event(list, w, rows) < 0)
		step = SQLITE_NOMEM;
	if (step == SQLITE_DONE)
		return 0;
	if (step == SQLITE_ROW || step == SQLITE_NOMEM)
		return tt_fail(tt, TT_ERR_DB, "out of memory while resolving the timetable");
	return tt_fail_db(tt, "reading the timetable");
}

#define RESOLVE_SQL(where) \
	"SELECT " TT_RULE_COLUMNS ", c.title, c.resume_policy, coalesce(c.programme_id, 0)," \
	" coalesce(r.name, ''), m.id, m.frames, m.rate, m.title," \
	" coalesce(nullif(r.category, ''), m.category)" TT_ITEMS_JOIN_SQL \
	" LEFT JOIN programme r ON r.id = c.programme_id" where " ORDER BY c.id, p.position"

int tt_airings_between(struct tt *tt, int64_t from_ns, int64_t until_ns,
		       struct tt_airing **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	if (until_ns <= from_ns)
		return 0;
	/* An occurrence lasts at most a day: one that began the day before may
	 * still have parts due. */
	char first_date[11], last_date[11];
	tt_local_date(from_ns, first_date);
	tt_add_days(first_date, -1, first_date);
	tt_local_date(until_ns - 1, last_date);
	struct window w = { .from_ns = from_ns, .until_ns = until_ns,
			    .first_day = tt_day_of(first_date), .last_day = tt_day_of(last_date) };
	cache_days(&w);
	struct tt_rule_filter filter = { first_date, last_date, -1, 0 };
	int rc = tt_exceptions_load(tt, &filter, &w.exceptions);
	if (rc < 0)
		return rc;
	struct airing_list list = { 0 };
	struct event_rows rows = { 0 };
	rc = resolve_query(tt, RESOLVE_SQL(TT_ONCE_SQL), &filter, &w, &list, &rows);
	if (rc == 0)
		rc = resolve_query(tt, RESOLVE_SQL(TT_RECURRING_SQL), &filter, &w, &list, &rows);
	free(rows.items);
	tt_rules_free(&w.rules);
	tt_exceptions_free(&w.exceptions);
	if (rc < 0) {
		free(list.items);
		return rc;
	}
	if (list.count)
		qsort(list.items, list.count, sizeof *list.items, compare_airings);
	*out = list.items;
	*count = list.count;
	return 0;
}
