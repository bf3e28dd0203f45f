/* Resolution: events into the airings of a window, and the rundown of one
 * day as the operator reads it. */
#ifndef LOAXA_SCHEDULES_RESOLVE_H
#define LOAXA_SCHEDULES_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include "schedules/events.h"

/* ---- resolution ---- */
/* One item of one occurrence: what plays and when it is due. */
struct tt_airing {
	int64_t event_id;
	char occurrence_date[11];
	int part;                /* index within the occurrence (repeat × items + item) */
	int64_t media_id;
	char title[512];         /* the event's title, else the programme's name, else the media's */
	enum tt_priority priority;
	enum tt_resume resume;
	int64_t scheduled_ns;    /* wall-clock instant the first frame is due */
	int64_t duration_ns;     /* from the media's frames and rate */
	int64_t programme_id;    /* 0 when the event plays one media item */
	int repeat;              /* which repeat of the occurrence, from 0 */
	int repeat_count;        /* repeats in the occurrence */
	int item;                /* which item of the programme, from 0 */
	int item_count;          /* items per repeat */
	int moved;               /* 1 if this date was moved to another time */
	char item_title[512];    /* the media item's own title */
	char category[256];      /* the programme's category, else the media's */
};

/* All airings whose start falls in [from_ns, until_ns), in start order
 * (ties: higher priority first, then event id, then part). Honours
 * disabled events, skipped and moved dates. *out is malloc'd; free() it. */
int tt_airings_between(struct tt *tt, int64_t from_ns, int64_t until_ns,
		       struct tt_airing **out, size_t *count);

/* ---- the rundown of one day, as the operator reads it ---- */
enum tt_session { TT_MORNING, TT_AFTERNOON, TT_EVENING };
#define TT_SESSION_COUNT 3
/* morning before 12:00, afternoon 12:00–17:00, evening from 17:00 */
enum tt_session tt_session_of(int second_of_day);
const char *tt_session_name(enum tt_session session);

/* airings[lower] is cut by the higher-priority airings[higher] over
 * [from_ns, until_ns). */
struct tt_preemption {
	size_t lower, higher;
	int64_t from_ns, until_ns;
};

struct tt_rundown {
	char date[11];
	struct tt_airing *airings;           /* starting on that date, in order */
	size_t count;
	struct tt_preemption *preemptions;
	size_t preemption_count;
	/* time on air (overlaps counted once), by the session the airing starts in */
	int64_t session_airtime_ns[TT_SESSION_COUNT];
	int64_t total_airtime_ns;
};

int tt_rundown(struct tt *tt, const char *date, struct tt_rundown *out);
void tt_rundown_free(struct tt_rundown *rundown);

#endif
