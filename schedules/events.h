/* Events (what airs when, and how often) and their exceptions (one date
 * skipped or moved); priorities and resume policies. */
#ifndef LOAXA_SCHEDULES_EVENTS_H
#define LOAXA_SCHEDULES_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include "schedules/store.h"

/* ---- events ---- */
enum tt_priority { TT_PRIORITY_NORMAL = 0, TT_PRIORITY_PRIORITY = 1, TT_PRIORITY_EMERGENCY = 2 };
enum tt_recurrence { TT_ONCE, TT_DAILY, TT_WEEKDAYS, TT_MONTHLY };
enum tt_resume { TT_RESUME, TT_RESTART, TT_SKIP, TT_REJOIN };

struct tt_event {
	int64_t id;
	char title[512];
	int start_second;        /* 0..86399, local time of day */
	enum tt_recurrence recurrence;
	char on_date[11];        /* TT_ONCE */
	unsigned weekdays;       /* TT_WEEKDAYS: bit 0 = Monday ... bit 6 = Sunday */
	int month_day;           /* TT_MONTHLY: 1..31 */
	char from_date[11];      /* "" = unbounded */
	char until_date[11];     /* "" = unbounded */
	int64_t media_id;        /* exactly one of media_id / programme_id is > 0 */
	int64_t programme_id;
	enum tt_priority priority;
	int repeat_count;        /* ≥ 1 */
	int gap_seconds;         /* between repeats */
	enum tt_resume resume;
	int enabled;
};

/* How an edit that collides with an event of the same priority is treated:
 * refused (TT_ERR_CONFLICT, naming the other event, its time and date), or
 * moved later, right after what it collides with, until it fits the day. */
enum tt_placement { TT_PLACE_EXACT, TT_PLACE_AFTER };

/* Validates, checks conflicts (an enabled event, from today on) and inserts;
 * sets event->id. tt_event_add is tt_event_add_placed(..., TT_PLACE_EXACT);
 * with TT_PLACE_AFTER event->start_second is updated and tt_note() says
 * where it went. */
int tt_event_add(struct tt *tt, struct tt_event *event);
int tt_event_add_placed(struct tt *tt, struct tt_event *event, enum tt_placement placement);
/* The check alone: 0 if the event could be added, else the refusal. */
int tt_event_check(struct tt *tt, const struct tt_event *event);
int tt_event_get(struct tt *tt, int64_t id, struct tt_event *out);
/* "daily from 2026-01-01 until 2026-03-31", "on mon,fri", "monthly on day 29",
 * "once on 2026-12-01" */
void tt_event_rule_text(const struct tt_event *event, char *out, size_t size);
const char *tt_recurrence_name(enum tt_recurrence recurrence);
int tt_recurrence_parse(const char *text);   /* -1 if unknown */
int tt_event_each(struct tt *tt, int (*fn)(void *user, const struct tt_event *e), void *user);
int tt_event_remove(struct tt *tt, int64_t id);
/* Enabling re-checks conflicts (refused with TT_ERR_CONFLICT). */
int tt_event_set_enabled(struct tt *tt, int64_t id, int enabled);

/* ---- exceptions: one date of an event skipped or moved ---- */
struct tt_exception {
	int64_t event_id;
	char date[11];
	int moved_second;        /* -1 = skipped, else the new time of day */
};

/* Refused (TT_ERR_INVALID) if the event does not air on that date. */
int tt_event_skip_date(struct tt *tt, int64_t id, const char *date);
/* That date's occurrence airs at *second instead (same date); conflicts
 * are checked as for an added event, *second updated with TT_PLACE_AFTER. */
int tt_event_move_date(struct tt *tt, int64_t id, const char *date, int *second,
		       enum tt_placement placement);
/* Undoes a skip or a move (conflicts re-checked). */
int tt_event_restore_date(struct tt *tt, int64_t id, const char *date);
/* In event and date order; event_id 0 = every event. */
int tt_exception_each(struct tt *tt, int64_t event_id,
		      int (*fn)(void *user, const struct tt_exception *x), void *user);


const char *tt_priority_name(enum tt_priority priority);
int tt_priority_parse(const char *text);   /* -1 if unknown */
const char *tt_resume_name(enum tt_resume resume);
int tt_resume_parse(const char *text);     /* -1 if unknown */

#endif
