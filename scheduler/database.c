/* The serving loop's side of the database: whether an airing already has a
 * row (written, or still queued in the writer), and whether the writer gets
 * its rows through. Runs on the serving thread; never waits for SQLite. */
#include <inttypes.h>
#include <stdio.h>

#include "scheduler/log.h"
#include "scheduler/station.h"
#include "scheduler/writer.h"

int sched_already_logged(struct station *station, const struct tt_airing *a)
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
		sched_note_error(station, "cannot read the as-run log: %s", tt_error(station->tt));
	}
	station->as_run_unreadable = 1;
	return 0;
}

/* A database is at the path again after a loss: the loop reads from it,
 * then the writer writes the waiting rows to it. */
static void reopen_database(struct station *station)
{
	const char *path = station->config->db_path;
	/* the old connection first: a file restored in place is the same inode,
	 * whose locks and shared memory SQLite shares between the connections
	 * of one process */
	tt_close_quietly(station->tt);
	station->tt = NULL;
	if (tt_open(&station->tt, path, TT_OPEN_EXISTING) < 0) {
		/* the handle stays, failing every read, until the file changes */
		log_message(LOG_ERROR, "the file at %s cannot be opened as the station's database (%s); "
			    "the station goes on with what it has cued, and the rows keep waiting",
			    path, tt_error(station->tt));
		sched_note_error(station, "the file at %s cannot be opened as the station's database: %s",
			   path, tt_error(station->tt));
		writer_refused(station->writer);
		return;
	}
	tt_set_busy_timeout(station->tt, READ_BUSY_MS);
	station->as_run_unreadable = 0;
	writer_reopened(station->writer);
	log_message(LOG_INFO, "the station reads its timetable from the database at %s again", path);
}

void sched_watch_database(struct station *station)
{
	struct writer_health health;
	writer_health(station->writer, &health);
	if (health.lost && !station->database_lost)
		sched_note_error(station, "the database was %s; the as-run rows wait in %s; restore a backup%s%s "
			   "to %s", health.lost_how, health.waiting_path,
			   health.lost_copy[0] ? " or the copy " : "", health.lost_copy,
			   station->config->db_path);
	station->database_lost = health.lost;
	if (health.back)
		reopen_database(station);
	if (!health.writable && !health.lost && !station->database_unwritable)
		sched_note_error(station, "the database could not be written for %.0f s (%s); %" PRId64
			   " row(s) wait", health.unwritable_s, health.last_error, health.pending_rows);
	station->database_unwritable = !health.writable;
}
