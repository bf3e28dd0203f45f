#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "playout/clock.h"
#include "schedules/store_internal.h"

/* Forward migrations: entry i brings user_version from i to i + 1. Never edit
 * a released entry; add a new one. */
static const char *const migrations[] = {
	/* 0 → 1: the first schema */
	"CREATE TABLE media ("
	"  id INTEGER PRIMARY KEY,"
	"  sha256 TEXT NOT NULL UNIQUE,"
	"  path TEXT NOT NULL,"
	"  original_name TEXT NOT NULL,"
	"  title TEXT NOT NULL,"
	"  category TEXT NOT NULL DEFAULT '',"
	"  codec TEXT NOT NULL,"
	"  rate INTEGER NOT NULL CHECK (rate > 0),"
	"  channels INTEGER NOT NULL CHECK (channels > 0),"
	"  frames INTEGER NOT NULL CHECK (frames > 0),"
	"  loudness_lufs REAL, loudness_range_lu REAL, true_peak_dbtp REAL,"
	"  sample_peak_dbfs REAL,"
	"  leading_silence_frames INTEGER NOT NULL DEFAULT 0,"
	"  trailing_silence_frames INTEGER NOT NULL DEFAULT 0,"
	"  gain_db REAL NOT NULL DEFAULT 0,"
	"  trim_db REAL NOT NULL DEFAULT 0,"
	"  imported_at TEXT NOT NULL);"
	"CREATE TABLE programme ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  category TEXT NOT NULL DEFAULT '',"
	"  created_at TEXT NOT NULL);"
	"CREATE TABLE programme_item ("
	"  programme_id INTEGER NOT NULL REFERENCES programme(id) ON DELETE CASCADE,"
	"  position INTEGER NOT NULL,"
	"  media_id INTEGER NOT NULL REFERENCES media(id),"
	"  PRIMARY KEY (programme_id, position));"
	"CREATE TABLE event ("
	"  id INTEGER PRIMARY KEY,"
	"  title TEXT NOT NULL DEFAULT '',"
	"  start_second INTEGER NOT NULL CHECK (start_second BETWEEN 0 AND 86399),"
	"  recurrence TEXT NOT NULL CHECK (recurrence IN ('once','daily','weekdays','monthly')),"
	"  on_date TEXT,"
	"  weekdays INTEGER NOT NULL DEFAULT 0,"
	"  month_day INTEGER NOT NULL DEFAULT 0,"
	"  from_date TEXT NOT NULL DEFAULT '',"
	"  until_date TEXT NOT NULL DEFAULT '',"
	"  media_id INTEGER REFERENCES media(id),"
	"  programme_id INTEGER REFERENCES programme(id),"
	"  priority INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 2),"
	"  repeat_count INTEGER NOT NULL DEFAULT 1 CHECK (repeat_count BETWEEN 1 AND 100),"
	"  gap_seconds INTEGER NOT NULL DEFAULT 0 CHECK (gap_seconds >= 0),"
	"  resume_policy TEXT NOT NULL DEFAULT 'resume'"
	"    CHECK (resume_policy IN ('resume','restart','skip','rejoin')),"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  created_at TEXT NOT NULL,"
	"  CHECK ((media_id IS NULL) <> (programme_id IS NULL)));"
	"CREATE TABLE event_exception ("
	"  event_id INTEGER NOT NULL REFERENCES event(id) ON DELETE CASCADE,"
	"  on_date TEXT NOT NULL,"
	"  action TEXT NOT NULL CHECK (action IN ('skip','move')),"
	"  moved_second INTEGER,"
	"  PRIMARY KEY (event_id, on_date));"
	/* The as-run log keeps no foreign keys: it outlives removed events and
	 * media, and it is the proof of broadcast. */
	"CREATE TABLE as_run ("
	"  id INTEGER PRIMARY KEY,"
	"  event_id INTEGER NOT NULL DEFAULT 0,"
	"  occurrence_date TEXT NOT NULL DEFAULT '',"
	"  part INTEGER NOT NULL DEFAULT 0,"
	"  media_id INTEGER NOT NULL DEFAULT 0,"
	"  title TEXT NOT NULL,"
	"  priority INTEGER NOT NULL,"
	"  scheduled_ns INTEGER NOT NULL DEFAULT 0,"
	"  started_ns INTEGER NOT NULL DEFAULT 0,"
	"  ended_ns INTEGER NOT NULL DEFAULT 0,"
	"  frames_played INTEGER NOT NULL DEFAULT 0,"
	"  status TEXT NOT NULL CHECK (status IN ('playing','played','preempted','resumed',"
	"    'skipped','missed','failed','interrupted')),"
	"  xruns INTEGER NOT NULL DEFAULT 0,"
	"  triggered_by TEXT NOT NULL DEFAULT '',"
	"  detail TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX as_run_time ON as_run (scheduled_ns);"
	"CREATE TABLE station_state ("
	"  key TEXT PRIMARY KEY,"
	"  value INTEGER NOT NULL);"
	"CREATE INDEX as_run_occurrence ON as_run (event_id, occurrence_date, part);",

	/* 1 → 2: the audit trail (append-only: the triggers refuse any change
	 * to a written row), and indexes for resolution and conflict checks. */
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at_ns INTEGER NOT NULL,"
	"  at TEXT NOT NULL,"
	"  operator TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  subject TEXT NOT NULL DEFAULT '',"
	"  detail TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX audit_time ON audit (at_ns);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE INDEX event_once_date ON event (on_date) WHERE recurrence = 'once';"
	"CREATE INDEX event_media ON event (media_id);"
	"CREATE INDEX event_programme ON event (programme_id);"
	"CREATE INDEX programme_item_media ON programme_item (media_id);"
	"CREATE INDEX event_exception_date ON event_exception (on_date);"
	/* Ids are never given twice: the as-run log and the audit trail name
	 * events and media by id after they are removed. */
	"CREATE TABLE id_counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT INTO id_counter VALUES"
	"  ('event', max(coalesce((SELECT max(id) FROM event), 0),"
	"                coalesce((SELECT max(event_id) FROM as_run), 0))),"
	"  ('media', max(coalesce((SELECT max(id) FROM media), 0),"
	"                coalesce((SELECT max(media_id) FROM as_run), 0))),"
	"  ('programme', coalesce((SELECT max(id) FROM programme), 0));"
	"CREATE TRIGGER event_id_counter AFTER INSERT ON event BEGIN"
	"  UPDATE id_counter SET value = max(value, NEW.id) WHERE name = 'event'; END;"
	"CREATE TRIGGER media_id_counter AFTER INSERT ON media BEGIN"
	"  UPDATE id_counter SET value = max(value, NEW.id) WHERE name = 'media'; END;"
	"CREATE TRIGGER programme_id_counter AFTER INSERT ON programme BEGIN"
	"  UPDATE id_counter SET value = max(value, NEW.id) WHERE name = 'programme'; END;",

	/* 2 → 3: each as-run row keeps what a report needs of what it aired,
	 * so that editing or removing an event or media later changes no
	 * report: the category (its programme's, else its media's) and the
	 * planned length. Old rows are filled from what is still there. */
	"ALTER TABLE as_run ADD COLUMN category TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE as_run ADD COLUMN planned_ns INTEGER NOT NULL DEFAULT 0;"
	"UPDATE as_run SET"
	"  category = coalesce((SELECT nullif(r.category, '') FROM event c"
	"    JOIN programme r ON r.id = c.programme_id WHERE c.id = as_run.event_id),"
	"    (SELECT m.category FROM media m WHERE m.id = as_run.media_id), ''),"
	"  planned_ns = coalesce((SELECT m.frames * 1000000000 / m.rate FROM media m"
	"    WHERE m.id = as_run.media_id), 0);"
	/* ... and the chain that shows later whether a row was changed,
	 * inserted or removed (chain.c; old rows are chained after this) */
	"ALTER TABLE as_run ADD COLUMN chain_seq INTEGER;"
	"ALTER TABLE as_run ADD COLUMN chain TEXT;"
	"CREATE UNIQUE INDEX as_run_chain ON as_run (chain_seq);"
	"CREATE INDEX as_run_date ON as_run (occurrence_date);"   /* reports read by date */
	"CREATE TRIGGER as_run_chain_insert AFTER INSERT ON as_run"
	"  WHEN NEW.status <> 'playing' BEGIN " TT_CHAIN_SQL("NEW.id") " END;"
	"CREATE TRIGGER as_run_chain_final AFTER UPDATE OF status ON as_run"
	"  WHEN OLD.status = 'playing' AND NEW.status <> 'playing' BEGIN "
	TT_CHAIN_SQL("NEW.id") " END;",
};

#define MIGRATION_COUNT ((int)(sizeof migrations / sizeof migrations[0]))

int tt_fail(struct tt *tt, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tt->error, sizeof tt->error, fmt, ap);
	va_end(ap);
	return code;
}

int tt_fail_db(struct tt *tt, const char *what)
{
	int code = sqlite3_extended_errcode(tt->db);
	tt->last_db_code = code;
	if ((code & 0xff) == SQLITE_FULL)
		return tt_fail(tt, TT_ERR_DB, "%s: the disk is full; free space and try again", what);
	if ((code & 0xff) == SQLITE_BUSY)
		return tt_fail(tt, TT_ERR_DB, "%s: the database is busy (another program holds it); try again", what);
	return tt_fail(tt, TT_ERR_DB, "%s: %s", what, sqlite3_errmsg(tt->db));
}

void tt_append(char *out, size_t size, const char *fmt, ...)
{
	size_t used = strlen(out);
	if (used + 1 >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out + used, size - used, fmt, ap);
	va_end(ap);
}

/* Length of the UTF-8 sequence at p, 0 if it is not a valid one. */
static size_t utf8_sequence(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	size_t length = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
	if (length == 0 || p[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < length; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* overlong forms, surrogates and code points past U+10FFFF */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return length;
}

int tt_check_text(struct tt *tt, const char *what, const char *text, size_t size)
{
	size_t length = strlen(text);
	if (length >= size)
		return tt_fail(tt, TT_ERR_INVALID, "the %s is too long (%zu bytes; at most %zu)", what,
			       length, size - 1);
	for (const unsigned char *p = (const unsigned char *)text; *p;) {
		size_t n = utf8_sequence(p);
		if (n == 0)
			return tt_fail(tt, TT_ERR_INVALID, "the %s is not valid UTF-8 text; save it as "
				       "UTF-8 and try again", what);
		p += n;
	}
	return 0;
}

sqlite3_stmt *tt_prepare(struct tt *tt, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(tt->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		tt_fail_db(tt, "database query");
		return NULL;
	}
	return stmt;
}

int tt_begin(struct tt *tt)
{
	if (sqlite3_exec(tt->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return tt_fail_db(tt, "starting a change");
	return 0;
}

int tt_commit(struct tt *tt)
{
	if (sqlite3_exec(tt->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int rc = tt_fail_db(tt, "saving the change");
		tt_rollback(tt);
		return rc;
	}
	return 0;
}

void tt_rollback(struct tt *tt)
{
	if (!sqlite3_get_autocommit(tt->db))
		sqlite3_exec(tt->db, "ROLLBACK", NULL, NULL, NULL);
}

int tt_finish(struct tt *tt, int rc)
{
	if (rc < 0) {
		tt_rollback(tt);
		return rc;
	}
	return tt_commit(tt);
}

int tt_exec(struct tt *tt, const char *sql, int64_t id, const char *text, const char *what)
{
	sqlite3_stmt *stmt = tt_prepare(tt, sql);
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, id);
	if (text)
		sqlite3_bind_text(stmt, 2, text, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : tt_fail_db(tt, what);
	sqlite3_finalize(stmt);
	return rc;
}

int tt_query_id(struct tt *tt, const char *sql, int64_t id, int64_t *value, int *found)
{
	sqlite3_stmt *stmt = tt_prepare(tt, sql);
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, id);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && value)
		*value = sqlite3_column_int64(stmt, 0);
	if (found)
		*found = rc == SQLITE_ROW;
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : tt_fail_db(tt, "reading the timetable");
}

int tt_error_transient(const struct tt *tt)
{
	switch (tt->last_db_code & 0xff) {
	case SQLITE_OK:
	case SQLITE_CONSTRAINT:
	case SQLITE_TOOBIG:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
		return 0;
	default:
		return 1;
	}
}

int tt_error_damaged(const struct tt *tt)
{
	int code = tt->last_db_code & 0xff;
	return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

void tt_set_busy_timeout(struct tt *tt, int timeout_ms)
{
	sqlite3_busy_timeout(tt->db, timeout_ms);
}

int tt_batch_begin(struct tt *tt)
{
	tt->last_db_code = 0;
	return tt_begin(tt);
}

int tt_batch_commit(struct tt *tt)
{
	return tt_commit(tt);
}

void tt_batch_rollback(struct tt *tt)
{
	tt_rollback(tt);
}

const char *tt_note(const struct tt *tt)
{
	return tt ? tt->note : "";
}

int tt_set_operator(struct tt *tt, const char *name)
{
	if (name && *name) {
		int rc = tt_check_text(tt, "operator name", name, sizeof tt->operator_name);
		if (rc == 0)
			tt_copy(tt->operator_name, sizeof tt->operator_name, name);
		return rc;
	}
	struct passwd entry, *found = NULL;
	char buffer[1024];
	if (getpwuid_r(getuid(), &entry, buffer, sizeof buffer, &found) == 0 && found)
		tt_copy(tt->operator_name, sizeof tt->operator_name, found->pw_name);
	else
		snprintf(tt->operator_name, sizeof tt->operator_name, "uid %u", (unsigned)getuid());
	return 0;
}

const char *tt_operator(const struct tt *tt)
{
	return tt->operator_name;
}

int tt_set_today(struct tt *tt, const char *date)
{
	if (!date) {
		tt->has_today = 0;
		return 0;
	}
	long day = tt_day_of(date);
	if (day < 0)
		return tt_fail(tt, TT_ERR_INVALID, "'%s' is not a real date (use YYYY-MM-DD)", date);
	tt->today = day;
	tt->has_today = 1;
	return 0;
}

long tt_today(const struct tt *tt)
{
	if (tt->has_today)
		return tt->today;
	char date[11];
	tt_local_date(station_clock_ns(), date);
	return tt_day_of(date);
}

void tt_copy(char *out, size_t size, const char *text)
{
	if (size == 0)
		return;
	size_t length = text ? strlen(text) : 0;
	if (length >= size)
		length = size - 1;
	memmove(out, text ? text : "", length);
	out[length] = '\0';
}

void tt_column_text(sqlite3_stmt *stmt, int column, char *out, size_t size)
{
	tt_copy(out, size, (const char *)sqlite3_column_text(stmt, column));
}

void tt_instant_text(int64_t instant_ns, char out[32])
{
	time_t seconds = (time_t)(instant_ns / TT_NS);
	struct tm local;
	localtime_r(&seconds, &local);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S%z", &local);
}

void tt_now_text(char out[32])
{
	tt_instant_text(station_clock_ns(), out);
}

const char *tt_error(const struct tt *tt)
{
	return tt ? tt->error : "out of memory";
}

static int query_int(struct tt *tt, const char *sql, int64_t *value)
{
	sqlite3_stmt *stmt = tt_prepare(tt, sql);
	if (!stmt)
		return TT_ERR_DB;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return tt_fail_db(tt, sql);
	return 0;
}

int tt_schema_version(struct tt *tt)
{
	int64_t version = -1;
	if (query_int(tt, "PRAGMA user_version", &version) < 0)
		return -1;
	return (int)version;
}

int64_t tt_data_version(struct tt *tt)
{
	int64_t version = -1;
	query_int(tt, "PRAGMA data_version", &version);
	return version;
}

static int migrate(struct tt *tt)
{
	/* up to date: nothing to write, so no need to wait for another
	 * program's write lock (the station starts while a backup runs) */
	if (tt_schema_version(tt) == MIGRATION_COUNT)
		return 0;
	int rc = tt_begin(tt);
	if (rc < 0)
		return rc;
	int version = tt_schema_version(tt);
	if (version < 0) {
		rc = TT_ERR_DB;
		goto fail;
	}
	if (version > MIGRATION_COUNT) {
		rc = tt_fail(tt, TT_ERR_SCHEMA,
			     "the database has schema version %d but this loaxa knows only up to %d; "
			     "use a newer loaxa", version, MIGRATION_COUNT);
		goto fail;
	}
	for (int i = version; i < MIGRATION_COUNT; i++) {
		if (sqlite3_exec(tt->db, migrations[i], NULL, NULL, NULL) != SQLITE_OK) {
			rc = tt_fail_db(tt, "upgrading the database");
			goto fail;
		}
		if (i == 2 && (rc = tt_chain_existing(tt)) < 0)
			goto fail;
	}
	if (version < MIGRATION_COUNT) {
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", MIGRATION_COUNT);
		if (sqlite3_exec(tt->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			rc = tt_fail_db(tt, "upgrading the database");
			goto fail;
		}
		rc = version == 0
			? tt_audit(tt, "schema.create", "database", 0, "created with schema version %d",
				   MIGRATION_COUNT)
			: tt_audit(tt, "schema.upgrade", "database", 0, "upgraded from schema version %d to %d",
				   version, MIGRATION_COUNT);
		if (rc < 0)
			goto fail;
	}
	return tt_commit(tt);
fail:
	tt_rollback(tt);
	return rc;
}

int tt_open(struct tt **out, const char *path, enum tt_open_mode mode)
{
	struct tt *tt = calloc(1, sizeof *tt);
	*out = tt;
	if (!tt)
		return -ENOMEM;
	tt_set_operator(tt, NULL);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX;
	if (mode == TT_OPEN_CREATE)
		flags |= SQLITE_OPEN_CREATE;
	int rc = sqlite3_open_v2(path, &tt->db, flags, NULL);
	if (rc != SQLITE_OK) {
		if (rc == SQLITE_CANTOPEN && mode != TT_OPEN_CREATE)
			return tt_fail(tt, TT_ERR_NOT_FOUND,
				       "cannot open the database %s; create it with 'loaxa init --db %s'",
				       path, path);
		return tt_fail(tt, TT_ERR_DB, "cannot open the database %s: %s", path,
			       tt->db ? sqlite3_errmsg(tt->db) : "out of memory");
	}
	sqlite3_busy_timeout(tt->db, 5000);
	sqlite3_extended_result_codes(tt->db, 1);
	if (tt_chain_register(tt->db) != SQLITE_OK)
		return tt_fail_db(tt, path);
	if (sqlite3_exec(tt->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) != SQLITE_OK)
		return tt_fail_db(tt, path);
	if (sqlite3_exec(tt->db,
			 "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
			 NULL, NULL, NULL) != SQLITE_OK)
		return tt_fail_db(tt, path);
	if (mode != TT_OPEN_CREATE) {
		int64_t tables = 0;
		if (query_int(tt, "SELECT count(*) FROM sqlite_master WHERE name = 'event'", &tables) < 0)
			return tt_fail(tt, TT_ERR_DB, "%s is not a loaxa database: %s", path, tt->error);
		if (tables == 0)
			return tt_fail(tt, TT_ERR_NOT_FOUND,
				       "%s is not a loaxa database yet; run 'loaxa init --db %s'",
				       path, path);
	}
	return migrate(tt);
}

void tt_close(struct tt *tt)
{
	if (!tt)
		return;
	sqlite3_close(tt->db);
	free(tt);
}

void tt_close_quietly(struct tt *tt)
{
	if (tt && tt->db)
		sqlite3_db_config(tt->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	tt_close(tt);
}

int tt_file_begins_as_database(struct tt *tt)
{
	static const char magic[16] = "SQLite format 3";   /* and its NUL */
	char header[16];
	sqlite3_file *file = NULL;
	if (sqlite3_file_control(tt->db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK ||
	    !file || !file->pMethods)
		return 1;   /* cannot tell */
	int rc = file->pMethods->xRead(file, header, sizeof header, 0);
	if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)   /* a short read zero-fills */
		return rc == SQLITE_IOERR_READ ? 0 : 1;
	return memcmp(header, magic, sizeof magic) == 0;
}

int tt_backup(struct tt *tt, const char *path)
{
	sqlite3 *copy = NULL;
	int rc = sqlite3_open_v2(path, &copy, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	sqlite3_backup *backup = rc == SQLITE_OK ? sqlite3_backup_init(copy, "main", tt->db, "main")
						 : NULL;
	if (backup) {
		rc = sqlite3_backup_step(backup, -1);
		sqlite3_backup_finish(backup);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	} else if (rc == SQLITE_OK) {
		rc = sqlite3_errcode(copy);
	}
	if (rc != SQLITE_OK) {
		tt_fail(tt, TT_ERR_DB, "cannot copy the database to %s: %s", path,
			copy ? sqlite3_errmsg(copy) : sqlite3_errstr(rc));
		sqlite3_close(copy);
		unlink(path);
		return TT_ERR_DB;
	}
	sqlite3_close(copy);
	return 0;
}
