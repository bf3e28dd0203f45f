/* The store: one connection to the station's SQLite database, its errors,
 * the station's own state, and batches for the writer thread (timetable.h
 * says how the store behaves as a whole). */
#ifndef LOAXA_SCHEDULES_STORE_H
#define LOAXA_SCHEDULES_STORE_H

#include <stddef.h>
#include <stdint.h>

enum tt_error {
	TT_ERR_DB = -20000,  /* SQLite failed (see tt_error) */
	TT_ERR_NOT_FOUND,    /* no such media, event or programme */
	TT_ERR_INVALID,      /* the request is not valid (see tt_error) */
	TT_ERR_CONFLICT,     /* the edit collides with another event */
	TT_ERR_IN_USE,       /* still used by an event */
	TT_ERR_SCHEMA,       /* the database is newer than this program */
};

#define TT_SCHEMA_VERSION 3

struct tt;

enum tt_open_mode { TT_OPEN_EXISTING = 0, TT_OPEN_CREATE = 1 };

/* Opens (and with TT_OPEN_CREATE creates) the database and applies any
 * pending migrations. On failure *out may still hold a handle whose
 * tt_error() explains; always tt_close() it. */
int tt_open(struct tt **out, const char *path, enum tt_open_mode mode);
void tt_close(struct tt *tt);
/* Closes without the checkpoint SQLite does at the last close: nothing is
 * written to the file or its -wal, which may no longer be the database the
 * connection opened. */
void tt_close_quietly(struct tt *tt);
/* 1 if the file this connection opened (even if deleted or renamed since)
 * still begins as an SQLite database, 0 if not (overwritten, emptied).
 * Read through SQLite's own descriptor: opening and closing the file in
 * this process would drop SQLite's locks on it. */
int tt_file_begins_as_database(struct tt *tt);
/* Copies the database as this connection sees it (the file it opened, even
 * if deleted since, and its -wal) to a new file at path. */
int tt_backup(struct tt *tt, const char *path);
const char *tt_error(const struct tt *tt);
int tt_schema_version(struct tt *tt);
/* Changes whenever another connection commits (PRAGMA data_version). */
int64_t tt_data_version(struct tt *tt);
/* A sentence about what the last successful edit adjusted (e.g. where
 * TT_PLACE_AFTER put an event), or "". */
const char *tt_note(const struct tt *tt);
/* Who the audit rows of later edits name (copied); NULL or "" = the OS user.
 * Refused (TT_ERR_INVALID) if longer than 127 bytes or not UTF-8. */
int tt_set_operator(struct tt *tt, const char *name);
const char *tt_operator(const struct tt *tt);
/* The date conflict checks start from (occurrences before it are past and
 * cannot collide); NULL = the local date now. For tests and planning. */
int tt_set_today(struct tt *tt, const char *date);


/* ---- the running station's own state ---- */
/* Named integers the station keeps across restarts, e.g. "last_alive_ns".
 * tt_state_get leaves *value unchanged and returns 0 when the key is absent. */
int tt_state_get(struct tt *tt, const char *key, int64_t *value);
int tt_state_set(struct tt *tt, const char *key, int64_t value);

/* ---- for a connection that only writes (the station's writer thread) ---- */
/* How long a call waits for another connection's write lock before it
 * fails busy (tt_open sets 5000 ms). */
void tt_set_busy_timeout(struct tt *tt, int timeout_ms);
/* After a failed call: 1 if the failure may pass by itself (the database
 * busy or locked by another program, the disk full, an I/O or permission
 * error), so retrying later is right; 0 if the request itself was refused
 * (a constraint, a value out of range) or nothing failed in SQLite. */
int tt_error_transient(const struct tt *tt);
/* After a failed call: 1 if SQLite found the file is not a database or is
 * corrupt. */
int tt_error_damaged(const struct tt *tt);
/* One transaction around several tt_run_* / tt_state_set calls: inside it
 * they do not commit on their own. BEGIN IMMEDIATE: fails busy while
 * another connection holds the write lock. After a failed call inside,
 * roll the batch back. */
int tt_batch_begin(struct tt *tt);
int tt_batch_commit(struct tt *tt);
void tt_batch_rollback(struct tt *tt);

#endif
