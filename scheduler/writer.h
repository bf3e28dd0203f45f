/*
 * writer — the serving station's one writer to the database. Every row and
 * state `loaxa serve` stores (as-run begin, finish and progress, rows for
 * airings that do not air, `last_alive_ns`, the closing of rows a crash left
 * "playing") is queued here and written by a thread of its own on a
 * connection of its own, so nothing on the air waits for SQLite: another
 * program holding the write lock (a shell in BEGIN IMMEDIATE, a backup, the
 * web console) delays the rows, never the air.
 *
 * Order: writes reach the database in the order they were queued, in
 * batches of one transaction each. While the database is busy (or the disk
 * full, or any failure that may pass) the batch is retried with backoff
 * (100 ms busy timeout, then 50 ms doubling to 1 s between tries), for as
 * long as it takes. A write SQLite refuses for itself (a constraint) is
 * dropped, counted and logged, and the rest go on.
 *
 * Handles: writer_run_begin gives the row a handle at once (run->id); later
 * finish and progress calls name the row by it, and the writer maps it to
 * the rowid when the INSERT is done. A finish queued while its begin still
 * waits is folded into it (one INSERT of the finished row).
 *
 * Bounded memory, and what gives when the database stays locked for long:
 * at most WRITER_QUEUE_ROWS writes wait in memory. Progress and state
 * updates never pile up: a newer one replaces the queued one of the same
 * row or key, so the queue holds about one entry per airing (weeks of a
 * commune's timetable). When it is full nonetheless, a finished row (a
 * finish, or a row for an airing that did not air) is appended as an SQL
 * statement to the spill file DB-unwritten.sql beside the database, which
 * the writer writes as soon as the queue has drained again (after rows
 * queued later: their times still say when they aired); a progress or
 * state update, or the begin of a row still playing, is dropped instead
 * (the row's finish still carries the whole row). A stop while the
 * database is unwritable (after drain_ms) spills every row left the same
 * way, and the next start writes the file first. Queued rows are never
 * dropped to make room. Each spill and drop is counted (writer_health,
 * `loaxa status`) and logged with the row's event, date, part, status and
 * times; a row is lost only if the spill file cannot be written either.
 *
 * A lost database: at least once a second (and before each batch) the
 * writer checks that the file at db_path is still the one it opened (its
 * device and inode) and still begins as an SQLite database (read through
 * SQLite's own descriptor). If not (deleted, replaced, overwritten), it
 * stops writing (what it wrote would go with the file), copies what its
 * connection still reads of a deleted or replaced file to
 * DB.lost-YYYYmmdd-HHMMSS, closes without a checkpoint, and keeps every row
 * queued, also in DB-waiting.sql (rewritten when the queue changes; the next
 * start writes it first after a crash). When a file beginning as a database
 * has been at the path, unchanged, for a second, the lost file's -wal and
 * -shm are set aside (they would be read as the new file's) and health says
 * `back`: the serving thread reopens its own connection, then
 * writer_reopened lets the writer open and write the waiting rows. Rows are
 * kept as idempotent SQL (tt_run_sql): replayed twice, stored once.
 *
 * A full disk: writes are retried as for a busy database; at open the
 * writer sets 1 MiB aside in DB-reserve, which a stop with writes still
 * failing frees for one more try and for the spill file.
 *
 * Threads: any thread may queue (a mutex held for a copy, never while
 * SQLite runs; with the queue full, for appending a line to the spill
 * file); the writer thread alone touches its connection, and writes the
 * handle-to-rowid map under the mutex. Stopped by writer_close, which
 * writes what is queued first, waiting up to drain_ms for a busy database.
 */
#ifndef LOAXA_WRITER_H
#define LOAXA_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "schedules/as_run.h"

#define WRITER_QUEUE_ROWS 4096
#define WRITER_UNWRITABLE_S 3   /* health says unwritable after this long failing */

struct writer;

struct writer_health {
	int writable;             /* 0 once writes have failed for WRITER_UNWRITABLE_S */
	double unwritable_s;      /* how long writes have been failing; 0 while they succeed */
	int64_t pending_rows;     /* writes queued, not yet in the database */
	int64_t dropped;          /* writes lost (queue full, refused by SQLite) */
	int64_t written;          /* writes done since writer_open */
	int64_t spilled;          /* rows kept in the spill file (queue full, stop) */
	char last_error[256];     /* the last failure, "" if none */
	int lost;                 /* the database file was deleted, replaced or damaged */
	int back;                 /* lost, and a database is at the path again: reopen */
	char lost_how[80];        /* "deleted", "replaced by another file", ... */
	char lost_copy[4300];     /* the copy made of the lost file, "" if none */
	char waiting_path[4200];  /* where rows wait while it is lost */
};

/* Opens a second connection to db_path and starts the thread; its first
 * write is whatever a spill file holds. On failure writes a sentence to
 * error. */
int writer_open(struct writer **out, const char *db_path, char *error, size_t error_size);
/* Writes what is queued (retrying a busy database for up to drain_ms), then
 * stops the thread and closes. Rows left go to the spill file. */
void writer_close(struct writer *writer, int drain_ms);

/* Queues the INSERT of run and sets run->id to its handle (> 0). A row
 * "playing" waits for its finish; any other status is final. Returns 0, or
 * -ENOSPC if the queue was full (dropped; the handle is still set). */
int writer_run_begin(struct writer *writer, struct tt_run *run);
/* The whole row of handle run->id, finished (status, ended_ns, frames...). */
int writer_run_finish(struct writer *writer, const struct tt_run *run);
/* Row `handle` has aired frames_played frames and was on air at on_air_ns. */
int writer_run_progress(struct writer *writer, int64_t handle, int64_t frames_played,
			int64_t on_air_ns);
int writer_state_set(struct writer *writer, const char *key, int64_t value);
/* tt_run_close_stale, in its turn. */
int writer_close_stale(struct writer *writer, int64_t last_alive_ns);

/* 1 if a row for that airing is queued and not yet written, else 0. With
 * tt_run_exists after it, tells whether the airing is logged. */
int writer_run_queued(struct writer *writer, int64_t event_id, const char *occurrence_date,
		      int part);
void writer_health(struct writer *writer, struct writer_health *out);
/* After writer_health said `back`: the serving thread has reopened the
 * database at the path, and the writer does (then the rows waiting are
 * written); or it could not, and the writer looks again when the file
 * changes. */
void writer_reopened(struct writer *writer);
void writer_refused(struct writer *writer);
/* Waits until nothing is queued: 0, or -ETIMEDOUT after timeout_ms. */
int writer_flush(struct writer *writer, int timeout_ms);

#endif
