/* Private to schedules/: the connection, helpers shared by its files, and
 * the compiled form of events ("rules") that resolution and conflict checks
 * share. */
#ifndef LOAXA_STORE_INTERNAL_H
#define LOAXA_STORE_INTERNAL_H

#include <sqlite3.h>
#include "schedules/timetable.h"

/* Events added by the import under way, so a conflict names their line. */
struct tt_import_map {
	const int64_t *ids;
	const int *lines;
	size_t count;
};

struct tt {
	sqlite3 *db;
	char error[512];
	char note[512];            /* what the last successful edit adjusted, or "" */
	char operator_name[128];   /* who the audit rows name */
	long today;                /* day number conflict checks start from; 0 = now */
	int has_today;
	const struct tt_import_map *import_map;   /* during tt_import_csv, else NULL */
	int last_db_code;          /* sqlite's extended code of the last failure, 0 = none */
};

/* Records a sentence in tt->error (printf style); returns code. */
int tt_fail(struct tt *tt, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Records sqlite's message for the failed call; returns TT_ERR_DB. */
int tt_fail_db(struct tt *tt, const char *what);

int tt_begin(struct tt *tt);     /* BEGIN IMMEDIATE */
int tt_commit(struct tt *tt);
void tt_rollback(struct tt *tt);
/* Ends a change: commits when rc is 0, else rolls back; returns the result. */
int tt_finish(struct tt *tt, int rc);

/* Prepares sql; on failure records the error and returns NULL. */
sqlite3_stmt *tt_prepare(struct tt *tt, const char *sql);
/* Prepares sql, binds ?1 = id, steps once; 0 on DONE or ROW (then *value =
 * column 0 when value is not NULL and *found = 1), else TT_ERR_DB. */
int tt_query_id(struct tt *tt, const char *sql, int64_t id, int64_t *value, int *found);

/* The as-run log's chain (chain.c): each row, once final, gets the next
 * chain_seq and chain = SHA-256 of the previous row's chain, its own
 * chain_seq and every field, as hex. TT_CHAIN_ROW_TEXT is the fields of the
 * row in scope; TT_CHAIN_SQL(id) chains row `id` (an SQL expression). */
#define TT_CHAIN_ROW_TEXT \
	"id || '|' || event_id || '|' || quote(occurrence_date) || '|' || part || '|' ||" \
	" media_id || '|' || quote(title) || '|' || priority || '|' || scheduled_ns || '|' ||" \
	" started_ns || '|' || ended_ns || '|' || frames_played || '|' || quote(status) || '|' ||" \
	" xruns || '|' || quote(triggered_by) || '|' || quote(detail) || '|' || quote(category)" \
	" || '|' || planned_ns"
#define TT_CHAIN_SQL(id) \
	"UPDATE as_run SET chain_seq = (SELECT coalesce(max(chain_seq), 0) + 1 FROM as_run)" \
	"  WHERE id = " id ";" \
	"UPDATE as_run SET chain = loaxa_sha256(coalesce((SELECT p.chain FROM as_run p" \
	"  WHERE p.chain_seq = as_run.chain_seq - 1), '') || '|' || chain_seq || '|' || " \
	TT_CHAIN_ROW_TEXT ") WHERE id = " id ";" \
	"INSERT OR REPLACE INTO station_state VALUES ('as_run_chain_seq'," \
	"  (SELECT chain_seq FROM as_run WHERE id = " id "));"
/* Registers loaxa_sha256(text) on the connection. */
int tt_chain_register(sqlite3 *db);
/* Chains the final rows that have no chain yet, in id order (an upgrade). */
int tt_chain_existing(struct tt *tt);

/* SQL for the next id of a table, never one given before (id_counter). */
#define TT_NEXT_ID(table) "(SELECT value + 1 FROM id_counter WHERE name = '" table "')"

/* Prepares and runs one statement binding ?1 = id and, when text is not
 * NULL, ?2 = text; what names the step in an error. */
int tt_exec(struct tt *tt, const char *sql, int64_t id, const char *text, const char *what);

/* Copies column text into a fixed buffer (truncating, always terminated). */
void tt_column_text(sqlite3_stmt *stmt, int column, char *out, size_t size);
void tt_copy(char *out, size_t size, const char *text);
/* Appends printf text to a terminated buffer, truncating. */
void tt_append(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The station's clock now (station_clock_ns(), playout/clock.h: a test
 * clock included) as "YYYY-MM-DDTHH:MM:SS+0700" style local ISO text. */
void tt_now_text(char out[32]);
/* The same for an instant (ns since the epoch). */
void tt_instant_text(int64_t instant_ns, char out[32]);
/* Refuses text that is too long for its field or is not valid UTF-8. */
int tt_check_text(struct tt *tt, const char *what, const char *text, size_t size);

/* Appends one row to the audit table, inside the caller's transaction. The
 * subject is what changed: kind and id ("event 5"), or kind alone when id is
 * 0 ("timetable"); the detail says what changed. */
int tt_audit(struct tt *tt, const char *action, const char *kind, int64_t id, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* ---- day numbers: days since 1970-01-01 of a proleptic Gregorian date ---- */
#define TT_DAY_MIN (-1000000L)   /* an unbounded --from */
#define TT_DAY_MAX (10000000L)   /* an unbounded --until */
#define TT_DAY_SECONDS 86400
#define TT_NS 1000000000LL

long tt_day_from_civil(int year, int month, int day);
void tt_civil_from_day(long day_number, int *year, int *month, int *day);
/* "YYYY-MM-DD" → day number; -1 with an invalid date (a real date is ≥ 0). */
long tt_day_of(const char *date);
void tt_date_of_day(long day_number, char out[11]);
int tt_days_in_month(int year, int month);
/* 0 = Monday ... 6 = Sunday */
int tt_weekday_of_day(long day_number);
/* The local date of the station's clock now (or tt_set_today's date). */
long tt_today(const struct tt *tt);

/* ---- rules: events compiled for arithmetic ----
 * An event becomes one base rule plus one TT_ONCE rule for each moved date.
 * The base rule skips every date that has an exception (skipped or moved). */
struct tt_rule {
	int64_t event_id;
	enum tt_priority priority;
	enum tt_recurrence recurrence;
	long on_day;                /* TT_ONCE */
	unsigned weekdays;          /* TT_WEEKDAYS (TT_DAILY: all seven) */
	int month_day;              /* TT_MONTHLY */
	long from_day, until_day;   /* TT_DAY_MIN / TT_DAY_MAX when unbounded */
	int start_second;
	int repeat_count;
	int gap_seconds;
	int64_t length_ns;          /* one repeat: its items back to back */
	int moved;                  /* a TT_ONCE rule standing for a moved date */
	size_t exclusion_first;     /* into tt_rule_set.exclusions: sorted days */
	size_t exclusion_count;
};

struct tt_rule_set {
	struct tt_rule *rules;
	size_t count, capacity;
	long *exclusions;
	size_t exclusion_count, exclusion_capacity;
};

/* Which events tt_rules_load reads. Dates are inclusive; NULL = unbounded. */
struct tt_rule_filter {
	const char *first_date, *last_date;
	int priority;               /* -1: every priority */
	int64_t also_event_id;      /* read this event even when it is disabled */
};

/* Reads the enabled events that may occur between the filter's dates, with
 * their lengths and exceptions, appending to set (events with no playable
 * item are left out). */
int tt_rules_load(struct tt *tt, struct tt_rule_set *set, const struct tt_rule_filter *filter);
/* tt_rules_load for conflict checks: every rule that can still air (from
 * yesterday, whose occurrences may run past midnight), of one priority (or
 * -1 for all), with also_event_id read even if disabled. */
int tt_rules_load_upcoming(struct tt *tt, struct tt_rule_set *set, int priority,
			   int64_t also_event_id);
/* Appends the rules of one event (not yet stored, or stored) given its
 * length and exceptions (moved_seconds[i] < 0 = skipped). */
int tt_rules_add_event(struct tt_rule_set *set, const struct tt_event *event, int64_t length_ns,
		       const long *exception_days, const int *moved_seconds, size_t exception_count);
void tt_rules_free(struct tt_rule_set *set);
/* Empties the set, keeping its memory. */
void tt_rules_clear(struct tt_rule_set *set);
/* 1 if the rule airs on that day (after its exclusions). */
int tt_rule_occurs(const struct tt_rule_set *set, const struct tt_rule *rule, long day);
/* 1 if the event's recurrence and range include that day (exceptions aside). */
int tt_event_occurs_on(const struct tt_event *event, long day);
/* The whole occurrence, first part's start to last part's end. */
int64_t tt_rule_span_ns(const struct tt_rule *rule);
/* Start of repeat r relative to the occurrence date's midnight. */
int64_t tt_rule_repeat_start_ns(const struct tt_rule *rule, int repeat);

/* The SQL shared by the readers of events. A candidate event is `c`; the
 * WHERE clauses take ?1 first date, ?2 last date, ?3 priority or -1, ?4 an
 * event to read even if disabled, ?5 the weekdays and ?6 the days of the
 * month the window covers (bit masks; see tt_bind_filter). Once events and
 * recurring ones are read by two statements so the first uses its index. */
#define TT_RULE_COLUMNS \
	"c.id, c.priority, c.recurrence, coalesce(c.on_date, ''), c.weekdays, c.month_day," \
	" c.from_date, c.until_date, c.start_second, c.repeat_count, c.gap_seconds, c.enabled"
#define TT_RULE_COLUMN_COUNT 12
#define TT_FILTER_SQL \
	" (c.enabled = 1 OR c.id = ?4) AND (?3 < 0 OR c.priority = ?3)" \
	" AND (c.from_date = '' OR c.from_date <= ?2) AND (c.until_date = '' OR c.until_date >= ?1)"
#define TT_ONCE_SQL " WHERE c.recurrence = 'once' AND c.on_date BETWEEN ?1 AND ?2 AND" TT_FILTER_SQL
#define TT_RECURRING_SQL " WHERE c.recurrence <> 'once' AND" TT_FILTER_SQL \
	" AND CASE c.recurrence WHEN 'weekdays' THEN (c.weekdays & ?5) <> 0" \
	" WHEN 'monthly' THEN (?6 >> c.month_day) & 1 ELSE 1 END"
/* Each candidate's playable items: `p` its programme item (NULL for a media
 * event) and `m` the media; an event with none drops out. */
#define TT_ITEMS_JOIN_SQL \
	" FROM event c LEFT JOIN programme_item p ON p.programme_id = c.programme_id" \
	" JOIN media m ON m.id = coalesce(c.media_id, p.media_id)"
/* Binds a tt_rule_filter to a statement using the clauses above. */
void tt_bind_filter(sqlite3_stmt *stmt, const struct tt_rule_filter *filter);
/* Reads TT_RULE_COLUMNS starting at column 0 into an event (no title etc). */
void tt_read_rule_columns(sqlite3_stmt *stmt, struct tt_event *event);

/* The exceptions of a window, sorted by event then date. */
struct tt_exception_table {
	int64_t *event_ids;
	long *days;
	int *moved_seconds;     /* -1 = skipped */
	size_t count;
};
int tt_exceptions_load(struct tt *tt, const struct tt_rule_filter *filter,
		       struct tt_exception_table *table);
void tt_exceptions_free(struct tt_exception_table *table);
/* The slice of one event's exceptions: *first and the count returned. */
size_t tt_exceptions_of(const struct tt_exception_table *table, int64_t event_id, size_t *first);

/* ---- conflicts (conflicts.c) ---- */
struct tt_conflict {
	const struct tt_rule *rule, *other;
	long day, other_day;            /* occurrence dates */
	int64_t start_ns, end_ns;       /* the colliding repeat of rule, from rule's midnight */
	int64_t other_start_ns, other_end_ns;   /* of other, from its own midnight */
};
/* Looks for the earliest same-priority overlap between rule (a member of
 * set) and every other rule, on dates from first_day on. 1 if found. */
int tt_rule_conflict(const struct tt_rule_set *set, const struct tt_rule *rule, long first_day,
		     struct tt_conflict *out);
/* Refuses (TT_ERR_CONFLICT, tt_error naming the other event) if any rule
 * of event_id collides. With placement TT_PLACE_AFTER the event's start
 * (or, for moved_day ≥ 0, that moved date's time) is pushed past what it
 * collides with until it fits; *second is updated. */
int tt_check_event_conflicts(struct tt *tt, struct tt_rule_set *set, int64_t event_id,
			     long moved_day, enum tt_placement placement, int *second);
/* Loads every same-priority rule and checks event_id (already stored). */
int tt_check_stored_event(struct tt *tt, int64_t event_id, enum tt_priority priority);
/* The sum of the durations of the event's items, 0 if it has none. */
int tt_event_length(struct tt *tt, const struct tt_event *event, int64_t *length_ns);

/* ---- events (events.c) ---- */
/* Validates and inserts inside the caller's transaction (no audit, no
 * conflict check). */
int tt_event_insert(struct tt *tt, struct tt_event *event);
int tt_event_validate(struct tt *tt, const struct tt_event *event);
/* "daily at 05:30:00 from 2026-01-01, media 3, normal" */
void tt_event_describe(const struct tt_event *event, char *out, size_t size);
/* Re-checks a stored event after something it depends on changed: its
 * occurrence still fits 24 hours and (if enabled) collides with nothing. */
int tt_event_recheck(struct tt *tt, const struct tt_event *event);
/* Stores a skip (second < 0) or a move for one date, in the caller's
 * transaction, after checking that the event airs on it. */
int tt_exception_insert(struct tt *tt, const struct tt_event *event, const char *date, int second);

#endif
