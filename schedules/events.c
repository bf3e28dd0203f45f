/* Events and their exceptions: validation, storage, and the edits, each in
 * one transaction with its audit row and, where it can collide, a conflict
 * check. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "schedules/store_internal.h"

static const char *const recurrence_names[] = { "once", "daily", "weekdays", "monthly" };

const char *tt_recurrence_name(enum tt_recurrence recurrence)
{
	return (unsigned)recurrence < 4 ? recurrence_names[recurrence] : "?";
}

int tt_recurrence_parse(const char *text)
{
	for (int i = 0; i < 4; i++)
		if (text && strcmp(text, recurrence_names[i]) == 0)
			return i;
	return -1;
}

#define EVENT_COLUMNS \
	"id, priority, recurrence, coalesce(on_date, ''), weekdays, month_day," \
	" from_date, until_date, start_second, repeat_count, gap_seconds, enabled," \
	" title, coalesce(media_id, 0), coalesce(programme_id, 0), resume_policy"

/* The rule columns come first, in the order tt_read_rule_columns reads. */
static void read_event(sqlite3_stmt *stmt, struct tt_event *e)
{
	tt_read_rule_columns(stmt, e);
	tt_column_text(stmt, 12, e->title, sizeof e->title);
	e->media_id = sqlite3_column_int64(stmt, 13);
	e->programme_id = sqlite3_column_int64(stmt, 14);
	int resume = tt_resume_parse((const char *)sqlite3_column_text(stmt, 15));
	e->resume = resume < 0 ? TT_RESUME : resume;
}

void tt_event_rule_text(const struct tt_event *e, char *out, size_t size)
{
	char days[64];
	switch (e->recurrence) {
	case TT_ONCE:
		snprintf(out, size, "once on %s", e->on_date);
		return;
	case TT_DAILY:
		snprintf(out, size, "daily");
		break;
	case TT_WEEKDAYS:
		tt_weekdays_format(e->weekdays, days, sizeof days);
		snprintf(out, size, "on %s", days);
		break;
	case TT_MONTHLY:
		snprintf(out, size, "monthly on day %d", e->month_day);
		break;
	}
	if (e->from_date[0])
		tt_append(out, size, " from %s", e->from_date);
	if (e->until_date[0])
		tt_append(out, size, " until %s", e->until_date);
}

void tt_event_describe(const struct tt_event *e, char *out, size_t size)
{
	char rule[160];
	tt_event_rule_text(e, rule, sizeof rule);
	snprintf(out, size, "\"%s\" %s at %02d:%02d:%02d, ", e->title, rule, e->start_second / 3600,
		 e->start_second / 60 % 60, e->start_second % 60);
	if (e->media_id > 0)
		tt_append(out, size, "media %" PRId64, e->media_id);
	else
		tt_append(out, size, "programme %" PRId64, e->programme_id);
	tt_append(out, size, ", %s", tt_priority_name(e->priority));
	if (e->repeat_count > 1)
		tt_append(out, size, ", %d times %d s apart", e->repeat_count, e->gap_seconds);
	tt_append(out, size, ", resume %s%s", tt_resume_name(e->resume), e->enabled ? "" : ", disabled");
}

int tt_event_length(struct tt *tt, const struct tt_event *e, int64_t *length_ns)
{
	*length_ns = 0;
	return tt_query_id(tt, e->media_id > 0
			   ? "SELECT frames * 1000000000 / rate FROM media WHERE id = ?"
			   : "SELECT coalesce(sum(m.frames * 1000000000 / m.rate), 0)"
			     " FROM programme_item p JOIN media m ON m.id = p.media_id"
			     " WHERE p.programme_id = ?",
			   e->media_id > 0 ? e->media_id : e->programme_id, length_ns, NULL);
}

static int check_span(struct tt *tt, const struct tt_event *e)
{
	int64_t length_ns = 0;
	int rc = tt_event_length(tt, e, &length_ns);
	if (rc < 0)
		return rc;
	int64_t span_ns = e->repeat_count * length_ns + (int64_t)(e->repeat_count - 1) * e->gap_seconds * TT_NS;
	if (span_ns > (int64_t)TT_DAY_SECONDS * TT_NS)
		return tt_fail(tt, TT_ERR_INVALID,
			       "one occurrence would last %.1f hours (%d times %.0f s, %d s apart); "
			       "its repeats must end within 24 hours of its start",
			       (double)span_ns / 3600e9, e->repeat_count, (double)length_ns / 1e9,
			       e->gap_seconds);
	return 0;
}

int tt_event_validate(struct tt *tt, const struct tt_event *e)
{
	int rc = tt_check_text(tt, "title", e->title, sizeof e->title);
	if (rc < 0)
		return rc;
	if (e->start_second < 0 || e->start_second > 86399)
		return tt_fail(tt, TT_ERR_INVALID, "the start time must be between 00:00:00 and 23:59:59");
	if ((unsigned)e->recurrence > TT_MONTHLY)
		return tt_fail(tt, TT_ERR_INVALID, "unknown recurrence; use once, daily, weekdays or monthly");
	if (e->recurrence == TT_ONCE && !tt_valid_date(e->on_date))
		return tt_fail(tt, TT_ERR_INVALID, "'%s' is not a real date (use YYYY-MM-DD)", e->on_date);
	if (e->recurrence == TT_WEEKDAYS && (e->weekdays == 0 || e->weekdays > 0x7f))
		return tt_fail(tt, TT_ERR_INVALID, "choose at least one weekday (mon,tue,wed,thu,fri,sat,sun)");
	if (e->recurrence == TT_MONTHLY && (e->month_day < 1 || e->month_day > 31))
		return tt_fail(tt, TT_ERR_INVALID, "the day of the month must be 1 to 31");
	if (e->from_date[0] && !tt_valid_date(e->from_date))
		return tt_fail(tt, TT_ERR_INVALID, "--from '%s' is not a real date (use YYYY-MM-DD)", e->from_date);
	if (e->until_date[0] && !tt_valid_date(e->until_date))
		return tt_fail(tt, TT_ERR_INVALID, "--until '%s' is not a real date (use YYYY-MM-DD)", e->until_date);
	if (e->from_date[0] && e->until_date[0] && strcmp(e->until_date, e->from_date) < 0)
		return tt_fail(tt, TT_ERR_INVALID, "--until %s is before --from %s", e->until_date, e->from_date);
	if (e->recurrence == TT_ONCE && ((e->from_date[0] && strcmp(e->on_date, e->from_date) < 0) ||
					 (e->until_date[0] && strcmp(e->on_date, e->until_date) > 0)))
		return tt_fail(tt, TT_ERR_INVALID, "the date %s is outside --from/--until", e->on_date);
	if (e->repeat_count < 1 || e->repeat_count > 100)
		return tt_fail(tt, TT_ERR_INVALID, "--repeat must be 1 to 100");
	if (e->gap_seconds < 0 || e->gap_seconds > 86400)
		return tt_fail(tt, TT_ERR_INVALID, "--gap must be 0 to 86400 seconds");
	if ((unsigned)e->priority > TT_PRIORITY_EMERGENCY)
		return tt_fail(tt, TT_ERR_INVALID, "unknown priority; use normal, priority or emergency");
	if ((unsigned)e->resume > TT_REJOIN)
		return tt_fail(tt, TT_ERR_INVALID, "unknown resume policy; use resume, restart, skip or rejoin");
	if ((e->media_id > 0) == (e->programme_id > 0))
		return tt_fail(tt, TT_ERR_INVALID, "an event plays either one media item or one programme");
	int found = 0;
	int64_t items = 0;
	if (e->media_id > 0) {
		if ((rc = tt_query_id(tt, "SELECT id FROM media WHERE id = ?", e->media_id, NULL, &found)) < 0)
			return rc;
		if (!found)
			return tt_fail(tt, TT_ERR_NOT_FOUND,
				       "there is no media %" PRId64 "; import it first ('loaxa media import "
				       "FILE'), 'loaxa media list' shows the library", e->media_id);
	} else {
		if ((rc = tt_query_id(tt, "SELECT (SELECT count(*) FROM programme_item"
				      " WHERE programme_id = ?1) FROM programme WHERE id = ?1",
				      e->programme_id, &items, &found)) < 0)
			return rc;
		if (!found)
			return tt_fail(tt, TT_ERR_NOT_FOUND, "there is no programme %" PRId64
				       "; 'loaxa programme list' shows them", e->programme_id);
		if (!items)
			return tt_fail(tt, TT_ERR_INVALID, "programme %" PRId64 " is empty; add media to it "
				       "first ('loaxa programme add NAME MEDIA_ID...')", e->programme_id);
	}
	return check_span(tt, e);
}

int tt_event_insert(struct tt *tt, struct tt_event *e)
{
	int rc = tt_event_validate(tt, e);
	if (rc < 0)
		return rc;
	char now[32];
	tt_now_text(now);
	sqlite3_stmt *stmt = tt_prepare(tt, "INSERT INTO event (id, title, start_second, recurrence,"
		" on_date, weekdays, month_day, from_date, until_date, media_id, programme_id, priority,"
		" repeat_count, gap_seconds, resume_policy, enabled, created_at)"
		" VALUES (" TT_NEXT_ID("event") ",?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_text(stmt, 1, e->title, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 2, e->start_second);
	sqlite3_bind_text(stmt, 3, recurrence_names[e->recurrence], -1, SQLITE_STATIC);
	if (e->recurrence == TT_ONCE)
		sqlite3_bind_text(stmt, 4, e->on_date, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 4);
	sqlite3_bind_int(stmt, 5, e->recurrence == TT_WEEKDAYS ? (int)e->weekdays : 0);
	sqlite3_bind_int(stmt, 6, e->recurrence == TT_MONTHLY ? e->month_day : 0);
	sqlite3_bind_text(stmt, 7, e->from_date, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 8, e->until_date, -1, SQLITE_STATIC);
	if (e->media_id > 0)
		sqlite3_bind_int64(stmt, 9, e->media_id);
	else
		sqlite3_bind_null(stmt, 9);
	if (e->programme_id > 0)
		sqlite3_bind_int64(stmt, 10, e->programme_id);
	else
		sqlite3_bind_null(stmt, 10);
	sqlite3_bind_int(stmt, 11, e->priority);
	sqlite3_bind_int(stmt, 12, e->repeat_count);
	sqlite3_bind_int(stmt, 13, e->gap_seconds);
	sqlite3_bind_text(stmt, 14, tt_resume_name(e->resume), -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 15, e->enabled ? 1 : 0);
	sqlite3_bind_text(stmt, 16, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : tt_fail_db(tt, "adding the event");
	sqlite3_finalize(stmt);
	if (rc == 0)
		e->id = sqlite3_last_insert_rowid(tt->db);
	return rc;
}

static int set_start_second(struct tt *tt, int64_t id, int second)
{
	sqlite3_stmt *stmt = tt_prepare(tt, "UPDATE event SET start_second = ? WHERE id = ?");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int(stmt, 1, second);
	sqlite3_bind_int64(stmt, 2, id);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : tt_fail_db(tt, "placing the event");
	sqlite3_finalize(stmt);
	return rc;
}

/* Inserts, checks and (with TT_PLACE_AFTER) places, in the caller's
 * transaction. */
static int insert_checked(struct tt *tt, struct tt_event *e, enum tt_placement placement)
{
	int rc = tt_event_insert(tt, e);
	if (rc < 0 || !e->enabled)
		return rc;
	struct tt_rule_set set = { 0 };
	rc = tt_rules_load_upcoming(tt, &set, e->priority, e->id);
	int second = e->start_second;
	if (rc == 0)
		rc = tt_check_event_conflicts(tt, &set, e->id, -1, placement, &second);
	tt_rules_free(&set);
	if (rc == 0 && second != e->start_second) {
		e->start_second = second;
		rc = set_start_second(tt, e->id, second);
	}
	return rc;
}

int tt_event_add_placed(struct tt *tt, struct tt_event *e, enum tt_placement placement)
{
	tt->note[0] = '\0';
	int rc = tt_begin(tt);
	if (rc < 0)
		return rc;
	rc = insert_checked(tt, e, placement);
	if (rc == 0) {
		char description[1024];
		tt_event_describe(e, description, sizeof description);
		rc = tt_audit(tt, "event.add", "event", e->id, "added %s%s%s", description,
			      tt->note[0] ? "; " : "", tt->note);
	}
	return tt_finish(tt, rc);
}

int tt_event_add(struct tt *tt, struct tt_event *e)
{
	return tt_event_add_placed(tt, e, TT_PLACE_EXACT);
}

int tt_event_check(struct tt *tt, const struct tt_event *e)
{
	struct tt_event copy = *e;
	copy.enabled = 1;
	int rc = tt_begin(tt);
	if (rc < 0)
		return rc;
	rc = insert_checked(tt, &copy, TT_PLACE_EXACT);
	tt_rollback(tt);
	return rc;
}

static int get_event(struct tt *tt, int64_t id, struct tt_event *out)
{
	sqlite3_stmt *stmt = tt_prepare(tt, "SELECT " EVENT_COLUMNS " FROM event WHERE id = ?");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, id);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		read_event(stmt, out);
	sqlite3_finalize(stmt);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return tt_fail(tt, TT_ERR_NOT_FOUND,
			       "there is no event %" PRId64 "; 'loaxa schedule list' shows the events", id);
	return tt_fail_db(tt, "reading the event");
}

int tt_event_get(struct tt *tt, int64_t id, struct tt_event *out)
{
	return get_event(tt, id, out);
}

int tt_event_each(struct tt *tt, int (*fn)(void *user, const struct tt_event *e), void *user)
{
	sqlite3_stmt *stmt = tt_prepare(tt, "SELECT " EVENT_COLUMNS " FROM event ORDER BY id");
	if (!stmt)
		return TT_ERR_DB;
	int rc;
	struct tt_event e;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		read_event(stmt, &e);
		if (fn(user, &e))
			break;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return tt_fail_db(tt, "listing events");
	return 0;
}

/* Starts a change to a stored event: begins the transaction and reads it. */
static int begin_event_change(struct tt *tt, int64_t id, struct tt_event *e)
{
	tt->note[0] = '\0';
	int rc = tt_begin(tt);
	if (rc < 0)
		return rc;
	rc = get_event(tt, id, e);
	if (rc < 0)
		tt_rollback(tt);
	return rc;
}

int tt_event_remove(struct tt *tt, int64_t id)
{
	struct tt_event e;
	char description[1024];
	int rc = begin_event_change(tt, id, &e);
	if (rc < 0)
		return rc;
	tt_event_describe(&e, description, sizeof description);
	rc = tt_exec(tt, "DELETE FROM event WHERE id = ?1", id, NULL, "removing the event");
	if (rc == 0)
		rc = tt_audit(tt, "event.remove", "event", id, "removed %s", description);
	return tt_finish(tt, rc);
}

int tt_event_recheck(struct tt *tt, const struct tt_event *e)
{
	int rc = check_span(tt, e);
	if (rc < 0 || !e->enabled)
		return rc;
	return tt_check_stored_event(tt, e->id, e->priority);
}

int tt_event_set_enabled(struct tt *tt, int64_t id, int enabled)
{
	struct tt_event e;
	int rc = begin_event_change(tt, id, &e);
	if (rc < 0)
		return rc;
	int was = e.enabled;
	rc = tt_exec(tt, enabled ? "UPDATE event SET enabled = 1 WHERE id = ?1"
				 : "UPDATE event SET enabled = 0 WHERE id = ?1",
		     id, NULL, "changing the event");
	e.enabled = enabled ? 1 : 0;
	if (rc == 0 && enabled && !was)
		rc = tt_event_recheck(tt, &e);
	if (rc == 0)
		rc = tt_audit(tt, enabled ? "event.enable" : "event.disable", "event", id, "%s \"%s\"%s",
			      enabled ? "enabled" : "disabled", e.title,
			      was == e.enabled ? " (it already was)" : "");
	return tt_finish(tt, rc);
}

int tt_exception_insert(struct tt *tt, const struct tt_event *e, const char *date, int second)
{
	long day = tt_day_of(date);
	if (day < 0)
		return tt_fail(tt, TT_ERR_INVALID, "'%s' is not a real date (use YYYY-MM-DD)", date);
	if (!tt_event_occurs_on(e, day)) {
		char rule[160];
		tt_event_rule_text(e, rule, sizeof rule);
		return tt_fail(tt, TT_ERR_INVALID, "event %" PRId64 " does not air on %s (it airs %s)",
			       e->id, date, rule);
	}
	if (second > 86399)
		return tt_fail(tt, TT_ERR_INVALID, "the new time must be between 00:00:00 and 23:59:59");
	sqlite3_stmt *stmt = tt_prepare(tt, "INSERT OR REPLACE INTO event_exception"
					    " (event_id, on_date, action, moved_second) VALUES (?, ?, ?, ?)");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, e->id);
	sqlite3_bind_text(stmt, 2, date, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, second < 0 ? "skip" : "move", -1, SQLITE_STATIC);
	if (second < 0)
		sqlite3_bind_null(stmt, 4);
	else
		sqlite3_bind_int(stmt, 4, second);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : tt_fail_db(tt, "saving the exception");
	sqlite3_finalize(stmt);
	return rc;
}

enum date_state { DATE_USUAL, DATE_SKIPPED, DATE_MOVED };

/* Starts a change to one date of a stored event: begins the transaction,
 * reads the event and what the date holds (*moved_second when moved).
 * Returns the date's state, or < 0 (rolled back). */
static int begin_date_change(struct tt *tt, int64_t id, const char *date, struct tt_event *e,
			     int *moved_second)
{
	int rc = begin_event_change(tt, id, e);
	if (rc < 0)
		return rc;
	sqlite3_stmt *stmt = tt_prepare(tt, "SELECT coalesce(moved_second, -1) FROM event_exception"
					    " WHERE event_id = ?1 AND on_date = ?2");
	if (!stmt) {
		tt_rollback(tt);
		return TT_ERR_DB;
	}
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_text(stmt, 2, date, -1, SQLITE_STATIC);
	int step = sqlite3_step(stmt), state = DATE_USUAL;
	*moved_second = -1;
	if (step == SQLITE_ROW) {
		*moved_second = sqlite3_column_int(stmt, 0);
		state = *moved_second < 0 ? DATE_SKIPPED : DATE_MOVED;
	}
	sqlite3_finalize(stmt);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		state = tt_fail_db(tt, "reading exceptions");
		tt_rollback(tt);
	}
	return state;
}

static void clock_text(int second, char out[9])
{
	snprintf(out, 9, "%02d:%02d:%02d", second / 3600 % 100, second / 60 % 60, second % 60);
}

int tt_event_skip_date(struct tt *tt, int64_t id, const char *date)
{
	struct tt_event e;
	int before;
	int state = begin_date_change(tt, id, date, &e, &before);
	if (state < 0)
		return state;
	int rc = tt_exception_insert(tt, &e, date, -1);
	if (rc == 0) {
		char was[9];
		clock_text(before, was);
		rc = tt_audit(tt, "event.skip", "event", id, "\"%s\" will not air on %s%s%s%s", e.title,
			      date, state == DATE_MOVED ? " (it had been moved to " : "",
			      state == DATE_MOVED ? was : "", state == DATE_MOVED ? ")" : "");
	}
	return tt_finish(tt, rc);
}

int tt_event_move_date(struct tt *tt, int64_t id, const char *date, int *second,
		       enum tt_placement placement)
{
	struct tt_event e;
	if (*second < 0 || *second > 86399)
		return tt_fail(tt, TT_ERR_INVALID, "the new time must be between 00:00:00 and 23:59:59");
	int before;
	int state = begin_date_change(tt, id, date, &e, &before);
	if (state < 0)
		return state;
	int rc = tt_exception_insert(tt, &e, date, *second);
	int placed = *second;
	if (rc == 0 && e.enabled) {
		struct tt_rule_set set = { 0 };
		rc = tt_rules_load_upcoming(tt, &set, e.priority, e.id);
		if (rc == 0)
			rc = tt_check_event_conflicts(tt, &set, e.id, tt_day_of(date), placement, &placed);
		tt_rules_free(&set);
		if (rc == 0 && placed != *second) {
			*second = placed;
			rc = tt_exception_insert(tt, &e, date, placed);
		}
	}
	if (rc == 0) {
		char from[9], to[9];
		clock_text(state == DATE_MOVED ? before : e.start_second, from);
		clock_text(placed, to);
		rc = tt_audit(tt, "event.move", "event", id, "\"%s\" on %s moved from %s to %s%s%s%s",
			      e.title, date, from, to, state == DATE_SKIPPED ? " (it had been skipped)" : "",
			      tt->note[0] ? "; " : "", tt->note);
	}
	return tt_finish(tt, rc);
}

int tt_event_restore_date(struct tt *tt, int64_t id, const char *date)
{
	struct tt_event e;
	int before;
	int state = begin_date_change(tt, id, date, &e, &before);
	if (state < 0)
		return state;
	int rc = state == DATE_USUAL
		? tt_fail(tt, TT_ERR_NOT_FOUND, "event %" PRId64 " has no skip or move on %s", id, date)
		: tt_exec(tt, "DELETE FROM event_exception WHERE event_id = ?1 AND on_date = ?2", id, date,
			  "restoring the date");
	if (rc == 0)
		rc = tt_event_recheck(tt, &e);
	if (rc == 0) {
		char at[9];
		clock_text(e.start_second, at);
		rc = tt_audit(tt, "event.restore", "event", id, "\"%s\" airs on %s at its usual %s again "
			      "(it had been %s)", e.title, date, at,
			      state == DATE_SKIPPED ? "skipped" : "moved");
	}
	return tt_finish(tt, rc);
}

int tt_exception_each(struct tt *tt, int64_t event_id,
		      int (*fn)(void *user, const struct tt_exception *x), void *user)
{
	sqlite3_stmt *stmt = tt_prepare(tt, "SELECT event_id, on_date, coalesce(moved_second, -1)"
					    " FROM event_exception WHERE ?1 = 0 OR event_id = ?1"
					    " ORDER BY event_id, on_date");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, event_id);
	struct tt_exception x;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&x, 0, sizeof x);
		x.event_id = sqlite3_column_int64(stmt, 0);
		tt_column_text(stmt, 1, x.date, sizeof x.date);
		x.moved_second = sqlite3_column_int(stmt, 2);
		if (fn(user, &x))
			break;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return tt_fail_db(tt, "reading exceptions");
	return 0;
}
