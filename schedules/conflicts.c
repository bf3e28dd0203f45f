/* Conflict checks without resolving day by day.
 *
 * Two rules of the same priority collide when some occurrence of one, on
 * day d, overlaps an occurrence of the other on day d + delta. Since an
 * occurrence lasts at most 24 hours, only delta in {-1, 0, +1} can overlap,
 * and whether the times overlap for a given delta does not depend on d (the
 * time of day is the same every day). So for each pair and delta the times
 * are compared once; only when they overlap is a common date looked for,
 * walking the dates of the sparser rule (once < monthly < weekdays < daily)
 * from today, and not at all when two weekly patterns can never meet. A
 * daily event over a year is checked against the whole timetable in one
 * pass over its rules.
 *
 * Times of day are taken as seconds after local midnight with 24-hour days:
 * exact in the station's zone (Asia/Ho_Chi_Minh keeps no daylight saving).
 */
#include <inttypes.h>
#include <string.h>

#include "schedules/store_internal.h"

/* How far an unbounded rule is followed when looking for a common date. */
#define HORIZON_DAYS (366L * 30)
#define DAY_NS ((int64_t)TT_DAY_SECONDS * TT_NS)

static int density(const struct tt_rule *r)
{
	if (r->recurrence == TT_ONCE)
		return 0;
	if (r->recurrence == TT_MONTHLY)
		return 1;
	return 1 + __builtin_popcount(r->weekdays);
}

/* The first day ≥ day that the rule's pattern (ranges and exclusions
 * aside) may fall on; TT_DAY_MAX if none. */
static long next_candidate(const struct tt_rule *r, long day)
{
	switch (r->recurrence) {
	case TT_ONCE:
		return day <= r->on_day ? r->on_day : TT_DAY_MAX;
	case TT_DAILY:
	case TT_WEEKDAYS:
		for (int i = 0; i < 7; i++)
			if (r->weekdays >> tt_weekday_of_day(day + i) & 1)
				return day + i;
		return TT_DAY_MAX;
	case TT_MONTHLY: {
		int year, month, month_day;
		tt_civil_from_day(day, &year, &month, &month_day);
		if (month_day > r->month_day && ++month > 12) {
			month = 1;
			year++;
		}
		for (int i = 0; i < 12; i++) {
			if (r->month_day <= tt_days_in_month(year, month))
				return tt_day_from_civil(year, month, r->month_day);
			if (++month > 12) {
				month = 1;
				year++;
			}
		}
		return TT_DAY_MAX;
	}
	}
	return TT_DAY_MAX;
}

/* The earliest day dp ≥ first_day on which p occurs while q occurs on
 * dp + delta; TT_DAY_MAX if there is none. */
static long first_common_day(const struct tt_rule_set *set, const struct tt_rule *p,
			     const struct tt_rule *q, int delta, long first_day)
{
	long first = first_day;
	if (p->from_day > first)
		first = p->from_day;
	if (q->from_day - delta > first)
		first = q->from_day - delta;
	long last = p->until_day < q->until_day - delta ? p->until_day : q->until_day - delta;
	if (last > first + HORIZON_DAYS)
		last = first + HORIZON_DAYS;
	if (first > last)
		return TT_DAY_MAX;
	if (p->recurrence != TT_ONCE && p->recurrence != TT_MONTHLY &&
	    q->recurrence != TT_ONCE && q->recurrence != TT_MONTHLY) {
		/* weekday w of p meets weekday w + delta of q */
		unsigned shifted = 0;
		for (int w = 0; w < 7; w++)
			if (q->weekdays >> ((w + delta + 7) % 7) & 1)
				shifted |= 1u << w;
		if (!(p->weekdays & shifted))
			return TT_DAY_MAX;
	}
	const struct tt_rule *driver = density(q) < density(p) ? q : p;
	long shift = driver == p ? 0 : delta;   /* driver's day = p's day + shift */
	for (long d = next_candidate(driver, first + shift); d != TT_DAY_MAX && d - shift <= last;
	     d = next_candidate(driver, d + 1)) {
		long day = d - shift;
		if (tt_rule_occurs(set, p, day) && tt_rule_occurs(set, q, day + delta))
			return day;
	}
	return TT_DAY_MAX;
}

/* The earliest overlap of a repeat of p (occurring on day 0) with a repeat
 * of q (occurring on day delta); times from p's midnight, q's from its own. */
static int repeats_overlap(const struct tt_rule *p, const struct tt_rule *q, int delta,
			   int64_t *p_start, int64_t *q_start)
{
	int64_t offset = delta * DAY_NS;
	int64_t p_first = (int64_t)p->start_second * TT_NS;
	int64_t q_first = (int64_t)q->start_second * TT_NS + offset;
	if (p_first >= q_first + tt_rule_span_ns(q) || q_first >= p_first + tt_rule_span_ns(p))
		return 0;
	for (int i = 0; i < p->repeat_count; i++) {
		int64_t a = tt_rule_repeat_start_ns(p, i), a_end = a + p->length_ns;
		for (int j = 0; j < q->repeat_count; j++) {
			int64_t b = tt_rule_repeat_start_ns(q, j) + offset;
			if (b >= a_end)
				break;
			if (a < b + q->length_ns) {
				*p_start = a;
				*q_start = b - offset;
				return 1;
			}
		}
	}
	return 0;
}

int tt_rule_conflict(const struct tt_rule_set *set, const struct tt_rule *rule, long first_day,
		     struct tt_conflict *out)
{
	int found = 0;
	for (size_t j = 0; j < set->count; j++) {
		const struct tt_rule *q = &set->rules[j];
		if (q->priority != rule->priority)
			continue;
		for (int delta = -1; delta <= 1; delta++) {
			int64_t p_start, q_start;
			if ((q == rule && delta == 0) || !repeats_overlap(rule, q, delta, &p_start, &q_start))
				continue;
			long day = first_common_day(set, rule, q, delta, first_day);
			if (day == TT_DAY_MAX ||
			    (found && (day > out->day || (day == out->day && p_start >= out->start_ns))))
				continue;
			found = 1;
			*out = (struct tt_conflict){
				.rule = rule, .other = q, .day = day, .other_day = day + delta,
				.start_ns = p_start, .end_ns = p_start + rule->length_ns,
				.other_start_ns = q_start, .other_end_ns = q_start + q->length_ns,
			};
		}
	}
	return found;
}

/* "05:30:00" and the date of an instant given as a day and ns from its
 * midnight (which may run past 24 hours). */
static void day_clock(long day, int64_t ns, char date[11], char clock[9])
{
	long seconds = (long)(ns / TT_NS);
	day += seconds / TT_DAY_SECONDS;
	seconds %= TT_DAY_SECONDS;
	tt_date_of_day(day, date);
	snprintf(clock, 9, "%02ld:%02ld:%02ld", seconds / 3600, seconds / 60 % 60, seconds % 60);
}

static void event_label(struct tt *tt, int64_t id, char *out, size_t size)
{
	for (size_t i = 0; tt->import_map && i < tt->import_map->count; i++)
		if (tt->import_map->ids[i] == id) {
			snprintf(out, size, "the row on line %d", tt->import_map->lines[i]);
			return;
		}
	snprintf(out, size, "event %" PRId64, id);
	sqlite3_stmt *stmt = tt_prepare(tt, "SELECT coalesce(nullif(e.title, ''), p.name, m.title, '')"
		" FROM event e LEFT JOIN programme p ON p.id = e.programme_id"
		" LEFT JOIN media m ON m.id = e.media_id WHERE e.id = ?");
	if (!stmt)
		return;
	sqlite3_bind_int64(stmt, 1, id);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		tt_append(out, size, " \"%s\"", (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
}

/* Describes what the rule collides with: "event 3 "Bản tin" (normal, on air
 * 05:30:00–05:45:12 on 2026-12-01)". */
static void describe_other(struct tt *tt, const struct tt_conflict *c, char *out, size_t size)
{
	char label[600], date[11], start[9], end_date[11], end[9];
	if (c->other->event_id == c->rule->event_id)
		snprintf(label, sizeof label, "another occurrence of the same event");
	else
		event_label(tt, c->other->event_id, label, sizeof label);
	day_clock(c->other_day, c->other_start_ns, date, start);
	day_clock(c->other_day, c->other_end_ns, end_date, end);
	snprintf(out, size, "%s (%s, on air %s–%s on %s)", label, tt_priority_name(c->other->priority),
		 start, end, date);
}

static int conflict_refusal(struct tt *tt, const struct tt_conflict *c)
{
	char date[11], start[9], end_date[11], end[9], other[1024];
	day_clock(c->day, c->start_ns, date, start);
	day_clock(c->day, c->end_ns, end_date, end);
	describe_other(tt, c, other, sizeof other);
	return tt_fail(tt, TT_ERR_CONFLICT,
		       "conflict on %s: %s–%s overlaps %s; two broadcasts of the same priority cannot "
		       "overlap: choose another time, skip that date, or use --after to place it right "
		       "after", date, start, end, other);
}

int tt_check_event_conflicts(struct tt *tt, struct tt_rule_set *set, int64_t event_id,
			     long moved_day, enum tt_placement placement, int *second)
{
	long first_day = tt_today(tt);
	for (;;) {
		struct tt_conflict c = { 0 }, next;
		int found = 0;
		for (size_t i = 0; i < set->count; i++) {
			const struct tt_rule *r = &set->rules[i];
			if (r->event_id != event_id || (moved_day >= 0 && !(r->moved && r->on_day == moved_day)))
				continue;
			if (tt_rule_span_ns(r) > DAY_NS)
				return tt_fail(tt, TT_ERR_INVALID, "one occurrence would last more than 24 hours; "
					       "its repeats must end within 24 hours of its start");
			if (tt_rule_conflict(set, r, first_day, &next) &&
			    (!found || next.day < c.day || (next.day == c.day && next.start_ns < c.start_ns))) {
				c = next;
				found = 1;
			}
		}
		if (!found)
			return 0;
		if (placement != TT_PLACE_AFTER)
			return conflict_refusal(tt, &c);
		/* shift the whole occurrence so the colliding repeat starts as the other ends */
		struct tt_rule *r = &set->rules[c.rule - set->rules];
		int64_t other_end = (c.other_day - c.day) * DAY_NS + c.other_end_ns;
		int64_t start_ns = (int64_t)r->start_second * TT_NS + other_end - c.start_ns;
		int64_t placed = (start_ns + TT_NS - 1) / TT_NS;
		char other[1024], clock[9], date[11];
		describe_other(tt, &c, other, sizeof other);
		if (placed > TT_DAY_SECONDS - 1) {
			tt_date_of_day(c.day, date);
			return tt_fail(tt, TT_ERR_CONFLICT, "conflict on %s: no room later that day after %s; "
				       "choose another time", date, other);
		}
		r->start_second = (int)placed;
		*second = (int)placed;
		day_clock(0, placed * TT_NS, date, clock);
		snprintf(tt->note, sizeof tt->note, "placed at %s, right after %s", clock, other);
	}
}

int tt_check_stored_event(struct tt *tt, int64_t event_id, enum tt_priority priority)
{
	struct tt_rule_set set = { 0 };
	int rc = tt_rules_load_upcoming(tt, &set, (int)priority, event_id);
	int second = 0;
	if (rc == 0)
		rc = tt_check_event_conflicts(tt, &set, event_id, -1, TT_PLACE_EXACT, &second);
	tt_rules_free(&set);
	return rc;
}
