/* The serving loop's side of the database: whether an airing already has a
 * row (written, or still queued in the writer), and whether the writer gets
 * its rows through. Runs on the serving thread; never waits for SQLite. */
#include <inttypes.h>
#include <stdio.h>

#include "scheduler/log.h"
#include "scheduler/station.h"
#include "scheduler/writer.h"

int already_logged(struct station *station, const struct tt_airing *a)
{
	/* the queue first: a row it no longer holds is committed, so the read
	 * after it sees it */
	if (writer_run_queued(station->writer, a->event_id, a->occurrence_date, a->part))
		return 1;
	int exists = tt_run_exists(station->tt, a->event_id, a->occurrence_date, a->part);
	if (exists >= 0) {
		if (station->as_run_unreadable)
			log_message(LOG_INFO, "the as-run log can be read again");
		station->as_run_unreadable = 0;
		return exists;
	}
	/* unknown: judged as not logged, so it airs (or is logged missed) */
	if (!station->as_run_unreadable) {
		log_message(LOG_ERROR, "cannot tell whether '%s' (event %" PRId64 " part %d, %s) was "
			    "already logged (%s); planning it as not logged", a->title, a->event_id,
			    a->part, a->occurrence_date, tt_error(station->tt));
		note_error(station, "cannot read the as-run log: %s", tt_error(station->tt));
	}
	station->as_run_unreadable = 1;
	return 0;
}

void watch_database(struct station *station)
{
	struct writer_health health;
	writer_health(station->writer, &health);
	if (!health.writable && !station->database_unwritable)
		note_error(station, "the database could not be written for %.0f s (%s); %" PRId64
			   " row(s) wait", health.unwritable_s, health.last_error, health.pending_rows);
	station->database_unwritable = !health.writable;
}
