#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "schedules/store_internal.h"

static const char *const status_names[] = {
	"playing", "played", "preempted", "resumed", "skipped", "missed", "failed", "interrupted",
};

const char *tt_run_status_name(enum tt_run_status status)
{
	return (unsigned)status < sizeof status_names / sizeof status_names[0]
		? status_names[status] : "?";
}

static enum tt_run_status parse_status(const char *text)
{
	for (unsigned i = 0; i < sizeof status_names / sizeof status_names[0]; i++)
		if (text && strcmp(text, status_names[i]) == 0)
			return i;
	return TT_RUN_FAILED;
}

/* Runs one prepared statement to completion inside its own transaction,
 * or inside the batch already open (tt_batch_begin), which the caller then
 * commits or rolls back. */
static int run_alone(struct tt *tt, sqlite3_stmt *stmt, const char *what)
{
	int own = sqlite3_get_autocommit(tt->db);
	int rc = own ? tt_begin(tt) : 0;
	if (rc < 0) {
		sqlite3_finalize(stmt);
		return rc;
	}
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		rc = tt_fail_db(tt, what);
		sqlite3_finalize(stmt);
		if (own)
			tt_rollback(tt);
		return rc;
	}
	sqlite3_finalize(stmt);
	return own ? tt_commit(tt) : 0;
}

int tt_run_begin(struct tt *tt, struct tt_run *run)
{
	sqlite3_stmt *stmt = tt_prepare(tt,
		"INSERT INTO as_run (event_id, occurrence_date, part, media_id, title, priority,"
		" scheduled_ns, started_ns, ended_ns, frames_played, status, xruns, triggered_by, detail,"
		" category, planned_ns) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, run->event_id);
	sqlite3_bind_text(stmt, 2, run->occurrence_date, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(stmt, 3, run->part);
	sqlite3_bind_int64(stmt, 4, run->media_id);
	sqlite3_bind_text(stmt, 5, run->title, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(stmt, 6, run->priority);
	sqlite3_bind_int64(stmt, 7, run->scheduled_ns);
	sqlite3_bind_int64(stmt, 8, run->started_ns);
	sqlite3_bind_int64(stmt, 9, run->ended_ns);
	sqlite3_bind_int64(stmt, 10, run->frames_played);
	sqlite3_bind_text(stmt, 11, tt_run_status_name(run->status), -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 12, run->xruns);
	sqlite3_bind_text(stmt, 13, run->triggered_by, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 14, run->detail, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 15, run->category, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 16, run->planned_ns);
	int rc = run_alone(tt, stmt, "writing the as-run log");
	if (rc == 0)
		run->id = sqlite3_last_insert_rowid(tt->db);
	return rc;
}

int tt_run_finish(struct tt *tt, const struct tt_run *run)
{
	sqlite3_stmt *stmt = tt_prepare(tt,
		"UPDATE as_run SET started_ns = ?, ended_ns = ?, frames_played = ?, status = ?,"
		" xruns = ?, detail = ? WHERE id = ?");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, run->started_ns);
	sqlite3_bind_int64(stmt, 2, run->ended_ns);
	sqlite3_bind_int64(stmt, 3, run->frames_played);
	sqlite3_bind_text(stmt, 4, tt_run_status_name(run->status), -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 5, run->xruns);
	sqlite3_bind_text(stmt, 6, run->detail, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 7, run->id);
	return run_alone(tt, stmt, "writing the as-run log");
}

int tt_run_progress(struct tt *tt, int64_t id, int64_t frames_played, int64_t on_air_ns)
{
	sqlite3_stmt *stmt = tt_prepare(tt, "UPDATE as_run SET frames_played = ?, ended_ns = ?"
					    " WHERE id = ? AND status = 'playing'");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, frames_played);
	sqlite3_bind_int64(stmt, 2, on_air_ns);
	sqlite3_bind_int64(stmt, 3, id);
	return run_alone(tt, stmt, "writing the as-run log");
}

char *tt_run_sql(const struct tt_run *run)
{
	/* a row without a rowid is named by its airing and its start: the
	 * statement finishes it if it is there still playing; inserts it unless
	 * the log has it already (a row still playing: in any state; a final
	 * one: with that status), so it does nothing a second time */
	char *sql = run->id > 0
		? sqlite3_mprintf(
			"UPDATE as_run SET started_ns = %lld, ended_ns = %lld, frames_played = %lld,"
			" status = %Q, xruns = %d, detail = %Q WHERE id = %lld AND status = 'playing';\n",
			(long long)run->started_ns, (long long)run->ended_ns,
			(long long)run->frames_played, tt_run_status_name(run->status), run->xruns,
			run->detail, (long long)run->id)
		: sqlite3_mprintf(
			"UPDATE as_run SET ended_ns = %lld, frames_played = %lld, status = %Q, xruns = %d,"
			" detail = %Q WHERE event_id = %lld AND occurrence_date = %Q AND part = %d"
			" AND started_ns = %lld AND status = 'playing';"
			" INSERT INTO as_run (event_id, occurrence_date, part, media_id, title, priority,"
			" scheduled_ns, started_ns, ended_ns, frames_played, status, xruns, triggered_by,"
			" detail, category, planned_ns)"
			" SELECT %lld, %Q, %d, %lld, %Q, %d, %lld, %lld, %lld, %lld, %Q, %d, %Q, %Q, %Q, %lld"
			" WHERE NOT EXISTS (SELECT 1 FROM as_run WHERE event_id = %lld AND"
			" occurrence_date = %Q AND part = %d AND started_ns = %lld"
			" AND (%Q = 'playing' OR status = %Q));\n",
			(long long)run->ended_ns, (long long)run->frames_played,
			tt_run_status_name(run->status), run->xruns, run->detail,
			(long long)run->event_id, run->occurrence_date, run->part,
			(long long)run->started_ns,
			(long long)run->event_id, run->occurrence_date, run->part,
			(long long)run->media_id, run->title, (int)run->priority,
			(long long)run->scheduled_ns, (long long)run->started_ns,
			(long long)run->ended_ns, (long long)run->frames_played,
			tt_run_status_name(run->status), run->xruns, run->triggered_by, run->detail,
			run->category, (long long)run->planned_ns,
			(long long)run->event_id, run->occurrence_date, run->part,
			(long long)run->started_ns, tt_run_status_name(run->status),
			tt_run_status_name(run->status));
	char *copy = sql ? strdup(sql) : NULL;
	sqlite3_free(sql);
	return copy;
}

int tt_run_store(struct tt *tt, const struct tt_run *run)
{
	struct tt_run whole = *run;
	whole.id = 0;
	char *sql = tt_run_sql(&whole);
	if (!sql)
		return -ENOMEM;
	int rc = tt_run_apply_sql(tt, sql);
	free(sql);
	return rc;
}

int tt_run_apply_sql(struct tt *tt, const char *sql)
{
	int own = sqlite3_get_autocommit(tt->db);
	int rc = own ? tt_begin(tt) : 0;
	if (rc < 0)
		return rc;
	if (sqlite3_exec(tt->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		rc = tt_fail_db(tt, "writing kept as-run rows");
		if (own)
			tt_rollback(tt);
		return rc;
	}
	return own ? tt_commit(tt) : 0;
}

int tt_run_close_stale(struct tt *tt, int64_t last_alive_ns)
{
	/* the row ends where it was last known on air: its last progress, or
	 * the station's last sign of life if that is later and the item (by its
	 * media's length) was not over by then */
	sqlite3_stmt *stmt = tt_prepare(tt,
		"UPDATE as_run SET status = 'interrupted', ended_ns = max(started_ns, ended_ns,"
		" CASE WHEN ?1 <= started_ns + coalesce((SELECT media.frames * 1000000000 / media.rate"
		" FROM media WHERE media.id = as_run.media_id), 0) THEN ?1 ELSE 0 END),"
		" detail = 'the station stopped while this was on air' WHERE status = 'playing'");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, last_alive_ns);
	int rc = run_alone(tt, stmt, "closing unfinished as-run rows");
	return rc < 0 ? rc : sqlite3_changes(tt->db);
}

int tt_run_exists(struct tt *tt, int64_t event_id, const char *occurrence_date, int part)
{
	sqlite3_stmt *stmt = tt_prepare(tt, "SELECT count(*) FROM as_run WHERE event_id = ?"
					    " AND occurrence_date = ? AND part = ?");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, event_id);
	sqlite3_bind_text(stmt, 2, occurrence_date, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 3, part);
	int rc = sqlite3_step(stmt), found = 0;
	if (rc == SQLITE_ROW)
		found = sqlite3_column_int(stmt, 0) > 0;
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? found : tt_fail_db(tt, "reading the as-run log");
}

int tt_runs_between(struct tt *tt, int64_t from_ns, int64_t until_ns,
		    struct tt_run **out, size_t *count)
{
	sqlite3_stmt *stmt = tt_prepare(tt,
		"SELECT id, event_id, occurrence_date, part, media_id, title, priority, scheduled_ns,"
		" started_ns, ended_ns, frames_played, status, xruns, triggered_by, detail, category,"
		" planned_ns FROM as_run WHERE CASE WHEN scheduled_ns <> 0 THEN scheduled_ns ELSE started_ns END"
		" BETWEEN ? AND ? - 1 ORDER BY CASE WHEN scheduled_ns <> 0 THEN scheduled_ns"
		" ELSE started_ns END, id");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, from_ns);
	sqlite3_bind_int64(stmt, 2, until_ns);
	struct tt_run *runs = NULL;
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct tt_run *grown = realloc(runs, (n + 1) * sizeof *runs);
		if (!grown) {
			rc = SQLITE_NOMEM;
			break;
		}
		runs = grown;
		struct tt_run *r = &runs[n++];
		memset(r, 0, sizeof *r);
		r->id = sqlite3_column_int64(stmt, 0);
		r->event_id = sqlite3_column_int64(stmt, 1);
		tt_column_text(stmt, 2, r->occurrence_date, sizeof r->occurrence_date);
		r->part = sqlite3_column_int(stmt, 3);
		r->media_id = sqlite3_column_int64(stmt, 4);
		tt_column_text(stmt, 5, r->title, sizeof r->title);
		r->priority = sqlite3_column_int(stmt, 6);
		r->scheduled_ns = sqlite3_column_int64(stmt, 7);
		r->started_ns = sqlite3_column_int64(stmt, 8);
		r->ended_ns = sqlite3_column_int64(stmt, 9);
		r->frames_played = sqlite3_column_int64(stmt, 10);
		r->status = parse_status((const char *)sqlite3_column_text(stmt, 11));
		r->xruns = sqlite3_column_int(stmt, 12);
		tt_column_text(stmt, 13, r->triggered_by, sizeof r->triggered_by);
		tt_column_text(stmt, 14, r->detail, sizeof r->detail);
		tt_column_text(stmt, 15, r->category, sizeof r->category);
		r->planned_ns = sqlite3_column_int64(stmt, 16);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		free(runs);
		return tt_fail_db(tt, "reading the as-run log");
	}
	*out = runs;
	*count = n;
	return 0;
}

int tt_state_get(struct tt *tt, const char *key, int64_t *value)
{
	sqlite3_stmt *stmt = tt_prepare(tt, "SELECT value FROM station_state WHERE key = ?");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : tt_fail_db(tt, "reading the station state");
}

int tt_state_set(struct tt *tt, const char *key, int64_t value)
{
	sqlite3_stmt *stmt = tt_prepare(tt, "INSERT OR REPLACE INTO station_state (key, value)"
					    " VALUES (?, ?)");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 2, value);
	return run_alone(tt, stmt, "saving the station state");
}
