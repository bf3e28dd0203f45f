/* The as-run log: what went on air, row by row. */
#ifndef LOAXA_SCHEDULES_AS_RUN_H
#define LOAXA_SCHEDULES_AS_RUN_H

#include <stddef.h>
#include <stdint.h>
#include "schedules/events.h"

/* ---- as-run log ---- */
enum tt_run_status {
	TT_RUN_PLAYING, TT_RUN_PLAYED, TT_RUN_PREEMPTED, TT_RUN_RESUMED,
	TT_RUN_SKIPPED, TT_RUN_MISSED, TT_RUN_FAILED, TT_RUN_INTERRUPTED,
};
const char *tt_run_status_name(enum tt_run_status status);

struct tt_run {
	int64_t id;
	int64_t event_id;        /* 0 for a manual broadcast */
	char occurrence_date[11];
	int part;
	int64_t media_id;
	char title[512];
	enum tt_priority priority;
	int64_t scheduled_ns;    /* 0 when not scheduled */
	int64_t started_ns;      /* measured first frame on the card; 0 if never */
	int64_t ended_ns;
	int64_t frames_played;
	enum tt_run_status status;
	int xruns;
	char triggered_by[64];
	char detail[256];
	char category[256];      /* of what aired, as it was then */
	int64_t planned_ns;      /* the length it was planned to air */
};

/* Inserts a row (run->id set). */
int tt_run_begin(struct tt *tt, struct tt_run *run);
/* Updates ended_ns, frames_played, status, xruns, detail of row run->id. */
int tt_run_finish(struct tt *tt, const struct tt_run *run);
/* Brings a row still "playing" up to date: how many frames have aired and
 * the last instant it was known on air (stored as its ended_ns while it
 * plays), so a crash loses at most the time since. */
int tt_run_progress(struct tt *tt, int64_t id, int64_t frames_played, int64_t on_air_ns);
/* Rows left "playing" by a process that died become "interrupted", ending
 * where they were last known on air: their last progress, or last_alive_ns
 * (the station's last sign of life) if later and within the item's length;
 * never at the restart. Returns how many (≥ 0). */
int tt_run_close_stale(struct tt *tt, int64_t last_alive_ns);
/* The SQL statement (one line) that stores run, for a file kept while the
 * database cannot be written; malloc'd, NULL if out of memory. Pure text:
 * touches no database. With run->id > 0 it finishes that row if it still
 * plays (tt_run_finish); without, it is idempotent: it finishes the row of
 * the same airing (event, date, part) and start if that one still plays,
 * inserts the row unless the log has it (a playing row: in any state; a
 * final one: with that status), so a file written again or twice, or a
 * playing row after its finish, stores each row once. */
char *tt_run_sql(const struct tt_run *run);
/* Stores the whole row run (its id ignored) as tt_run_sql does. */
int tt_run_store(struct tt *tt, const struct tt_run *run);
/* Runs such statements, inside the batch open or in a transaction of its
 * own. */
int tt_run_apply_sql(struct tt *tt, const char *sql);
/* 1 if the log already holds a row for this airing, 0 if not, < 0 if it
 * could not be read. */
int tt_run_exists(struct tt *tt, int64_t event_id, const char *occurrence_date, int part);
/* Rows whose scheduled (or, if unscheduled, started) instant falls in
 * [from_ns, until_ns), in time order. *out is malloc'd. */
int tt_runs_between(struct tt *tt, int64_t from_ns, int64_t until_ns,
		    struct tt_run **out, size_t *count);

#endif
