/*
 * The station's writer (writer.h). Two sides share `struct writer`:
 *   - the queuing threads (the serving loop) append to the ring `items`
 *     under `lock`, and may rewrite an entry the writer has not taken
 *     (a newer progress, a finish folded into its begin);
 *   - the writer thread takes the first `taken` entries under `lock`, then
 *     writes them without it: entries it has taken are its own until it
 *     gives them back (written: removed; failed: untaken, retried).
 * The connection `tt` and the batch scratch are the writer thread's alone;
 * the rowid map is written by it under `lock` (a full queue reads it).
 * The spill file is appended to under `lock`, and renamed under it before
 * the writer reads it. Stopped by writer_close: `stopping` under `lock`, a
 * signal on `wake`, and a join.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scheduler/log.h"
#include "scheduler/writer.h"

#define BATCH_ITEMS 64
#define OPEN_ROWS 256          /* rows "playing" whose rowid the writer remembers */
#define BUSY_TIMEOUT_MS 100
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000
#define NS_PER_MS 1000000LL
#define WATCH_MS 1000           /* the database file is looked at this often at least */
#define RESERVE_BYTES (1 << 20) /* set aside beside the database for a stop on a full disk */

/* What became of the database file the writer opened. */
enum loss { DB_PRESENT, DB_DELETED, DB_REPLACED, DB_DAMAGED };

static const char *const loss_words[] = {
	[DB_PRESENT] = "present",
	[DB_DELETED] = "deleted",
	[DB_REPLACED] = "replaced by another file",
	[DB_DAMAGED] = "no longer an SQLite database (its header is damaged)",
};

struct file_id {
	int known;
	dev_t dev;
	ino_t ino;
};

enum item_kind {
	ITEM_BEGIN, ITEM_FINISH, ITEM_PROGRESS, ITEM_STATE, ITEM_CLOSE_STALE,
	ITEM_REPLAY,              /* the rows kept in the spill file */
};

struct item {
	enum item_kind kind;
	int dead;                 /* folded into another entry: nothing to write */
	int64_t handle;
	int64_t frames_played;    /* progress */
	int64_t instant_ns;       /* progress: on air at; close_stale: last alive */
	char key[32];             /* state */
	int64_t value;            /* state */
	struct tt_run run;        /* begin, finish */
};

struct open_row {
	int64_t handle;           /* 0 = free */
	int64_t rowid;
};

struct writer {
	pthread_t thread;
	int thread_started;
	struct tt *tt;                      /* writer thread; NULL while the database is lost */
	char db_path[4096];                 /* set at open */
	char spill_path[4200];
	char replay_path[4220];
	char waiting_path[4200];            /* rows waiting while the database is lost */
	char reserve_path[4200];
	struct file_id db_id;               /* writer thread: the file tt opened */
	struct file_id stale_wal, stale_shm; /* writer thread: the lost database's */
	struct file_id refused;             /* writer thread: a file at the path that did not open */
	int64_t refused_mtime;
	struct file_id candidate;           /* writer thread: a file seen at the path, lost */
	int64_t candidate_mtime, candidate_size;
	uint64_t snapshot_version;          /* writer thread: the queue's version in waiting_path */
	int batch_replayed;                 /* writer thread */
	struct open_row open_rows[OPEN_ROWS];   /* writer thread; written under lock */
	struct open_row batch_rows[BATCH_ITEMS]; /* writer thread: mapped in this batch */
	int64_t batch_finished[BATCH_ITEMS];     /* writer thread: closed in this batch */

	pthread_mutex_t lock;
	pthread_cond_t wake;      /* queue grew, or stopping */
	pthread_cond_t drained;   /* a batch was written */
	/* under lock: */
	struct item *items;       /* ring of WRITER_QUEUE_ROWS */
	size_t head, count, taken;
	int64_t next_handle;
	int stopping;
	int64_t drain_deadline_ns;
	int64_t failing_since_ns; /* monotonic; 0 while writes succeed */
	int failure_logged;
	int64_t dropped, written, spilled;
	int spill_waiting;        /* rows kept in the spill file since its replay */
	char last_error[256];
	enum loss loss;           /* written by the writer thread */
	int back;                 /* lost, and a database file is at the path again */
	int reopen;               /* the serving thread has reopened: the writer may too */
	char lost_copy[4300];     /* where the lost database was copied, "" if not */
	uint64_t version;         /* changes with every change to the queue */
};

static int64_t monotonic_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static struct item *at(struct writer *w, size_t index)
{
	return &w->items[(w->head + index) % WRITER_QUEUE_ROWS];
}

static void describe(const struct tt_run *run, char *out, size_t size)
{
	snprintf(out, size, "'%s' (event %" PRId64 " part %d, %s), %s, started_ns %" PRId64
		 ", ended_ns %" PRId64 ", frames %" PRId64, run->title, run->event_id, run->part,
		 run->occurrence_date, tt_run_status_name(run->status), run->started_ns,
		 run->ended_ns, run->frames_played);
}

/* Appends one statement to the spill file. Under lock, or by the writer
 * thread once it has stopped. */
static int spill(struct writer *w, const struct tt_run *row)
{
	char *sql = tt_run_sql(row);
	if (!sql)
		return -ENOMEM;
	int rc = 0;
	errno = 0;
	int fd = open(w->spill_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	ssize_t length = (ssize_t)strlen(sql);
	if (fd < 0 || write(fd, sql, (size_t)length) != length)
		rc = errno ? -errno : -EIO;   /* a short write sets none */
	if (fd >= 0)
		close(fd);
	free(sql);
	return rc;
}

static int64_t open_rowid(const struct writer *w, int64_t handle)
{
	for (int i = 0; i < OPEN_ROWS; i++)
		if (w->open_rows[i].handle == handle)
			return w->open_rows[i].rowid;
	return 0;
}

/* Under lock, the queue full: a finished row goes to the spill file (the
 * writer writes it once the queue has drained); anything else is dropped.
 * Counted and logged either way. Returns 1 if the row was kept. */
static int overflow(struct writer *w, enum item_kind kind, const char *what,
		    const struct tt_run *run)
{
	char text[900] = "";
	if (run)
		describe(run, text, sizeof text);
	int keep = run && (kind == ITEM_FINISH || run->status != TT_RUN_PLAYING);
	if (keep) {
		struct tt_run row = *run;
		row.id = kind == ITEM_FINISH ? open_rowid(w, run->id) : 0;
		for (size_t i = 0; i < w->count && keep && kind == ITEM_FINISH && !row.id; i++)
			keep = !(at(w, i)->kind == ITEM_BEGIN && at(w, i)->handle == run->id);
		keep = keep && spill(w, &row) == 0;  /* (not while its begin is being written) */
	}
	double waited_s = w->failing_since_ns ? (double)(monotonic_ns() - w->failing_since_ns) / 1e9 : 0;
	if (keep) {
		w->spilled++;
		w->spill_waiting = 1;
		log_message(LOG_WARNING, "database writes queue full (%d waiting for %.0f s): %s kept in %s: %s",
			    WRITER_QUEUE_ROWS, waited_s, what, w->spill_path, text);
		return 1;
	}
	w->dropped++;
	log_message(LOG_ERROR, "database writes queue full (%d waiting for %.0f s): %s dropped%s%s",
		    WRITER_QUEUE_ROWS, waited_s, what, run ? ": " : "", text);
	return 0;
}

/* Under lock: the entry at the end of the queue, or NULL when it is full
 * (*kept: the row went to the spill file). */
static struct item *append(struct writer *w, enum item_kind kind, const char *what,
			   const struct tt_run *run, int *kept)
{
	if (kept)
		*kept = 0;
	if (w->count == WRITER_QUEUE_ROWS) {
		int spilled = overflow(w, kind, what, run);
		if (kept)
			*kept = spilled;
		return NULL;
	}
	struct item *item = at(w, w->count++);
	memset(item, 0, sizeof *item);
	item->kind = kind;
	w->version++;
	pthread_cond_signal(&w->wake);
	return item;
}

int writer_run_begin(struct writer *w, struct tt_run *run)
{
	pthread_mutex_lock(&w->lock);
	run->id = ++w->next_handle;
	int kept;
	struct item *item = append(w, ITEM_BEGIN, run->status == TT_RUN_PLAYING
				   ? "the start of an as-run row" : "an as-run row", run, &kept);
	if (item) {
		item->handle = run->id;
		item->run = *run;
	}
	pthread_mutex_unlock(&w->lock);
	return item || kept ? 0 : -ENOSPC;
}

int writer_run_finish(struct writer *w, const struct tt_run *run)
{
	int rc = 0;
	pthread_mutex_lock(&w->lock);
	struct item *begin = NULL;
	for (size_t i = w->taken; i < w->count; i++) {
		struct item *item = at(w, i);
		if (item->dead || item->handle != run->id)
			continue;
		if (item->kind == ITEM_BEGIN)
			begin = item;
		else if (item->kind == ITEM_PROGRESS)
			item->dead = 1;
	}
	if (begin) {
		begin->run = *run;   /* one INSERT of the finished row */
		w->version++;
	} else {
		int kept;
		struct item *item = append(w, ITEM_FINISH, "the end of an as-run row", run, &kept);
		if (item) {
			item->handle = run->id;
			item->run = *run;
		} else if (!kept) {
			rc = -ENOSPC;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return rc;
}

int writer_run_progress(struct writer *w, int64_t handle, int64_t frames_played,
			int64_t on_air_ns)
{
	int rc = 0;
	pthread_mutex_lock(&w->lock);
	struct item *found = NULL;
	/* the latest: an older one given back by a failed batch stays older */
	for (size_t i = w->count; i > w->taken && !found; i--) {
		struct item *item = at(w, i - 1);
		if (!item->dead && item->kind == ITEM_PROGRESS && item->handle == handle)
			found = item;
	}
	if (!found && (found = append(w, ITEM_PROGRESS, "a progress update", NULL, NULL)))
		found->handle = handle;
	if (found) {
		found->frames_played = frames_played;
		found->instant_ns = on_air_ns;
	} else {
		rc = -ENOSPC;
	}
	pthread_mutex_unlock(&w->lock);
	return rc;
}

int writer_state_set(struct writer *w, const char *key, int64_t value)
{
	int rc = 0;
	pthread_mutex_lock(&w->lock);
	struct item *found = NULL;
	for (size_t i = w->count; i > w->taken && !found; i--) {
		struct item *item = at(w, i - 1);
		if (!item->dead && item->kind == ITEM_STATE && strcmp(item->key, key) == 0)
			found = item;
	}
	if (!found && (found = append(w, ITEM_STATE, "a station state update", NULL, NULL)))
		snprintf(found->key, sizeof found->key, "%s", key);
	if (found)
		found->value = value;
	else
		rc = -ENOSPC;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

int writer_close_stale(struct writer *w, int64_t last_alive_ns)
{
	pthread_mutex_lock(&w->lock);
	struct item *item = append(w, ITEM_CLOSE_STALE, "closing rows left on air", NULL, NULL);
	if (item)
		item->instant_ns = last_alive_ns;
	pthread_mutex_unlock(&w->lock);
	return item ? 0 : -ENOSPC;
}

int writer_run_queued(struct writer *w, int64_t event_id, const char *occurrence_date, int part)
{
	int found = 0;
	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->count && !found; i++) {
		const struct item *item = at(w, i);
		found = !item->dead && (item->kind == ITEM_BEGIN || item->kind == ITEM_FINISH) &&
			item->run.event_id == event_id && item->run.part == part &&
			strcmp(item->run.occurrence_date, occurrence_date) == 0;
	}
	pthread_mutex_unlock(&w->lock);
	return found;
}

void writer_health(struct writer *w, struct writer_health *out)
{
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->count; i++)
		out->pending_rows += !at(w, i)->dead;
	if (w->failing_since_ns)
		out->unwritable_s = (double)(monotonic_ns() - w->failing_since_ns) / 1e9;
	out->writable = out->unwritable_s < WRITER_UNWRITABLE_S && w->loss == DB_PRESENT;
	out->lost = w->loss != DB_PRESENT;
	out->back = w->back;
	snprintf(out->lost_how, sizeof out->lost_how, "%s", w->loss ? loss_words[w->loss] : "");
	snprintf(out->lost_copy, sizeof out->lost_copy, "%s", w->lost_copy);
	snprintf(out->waiting_path, sizeof out->waiting_path, "%s", w->waiting_path);
	out->dropped = w->dropped;
	out->written = w->written;
	out->spilled = w->spilled;
	snprintf(out->last_error, sizeof out->last_error, "%s", w->last_error);
	pthread_mutex_unlock(&w->lock);
}

/* ---- the writer thread ---- */

static int64_t rowid_of(struct writer *w, int64_t handle, int batch_rows)
{
	for (int i = 0; i < batch_rows; i++)
		if (w->batch_rows[i].handle == handle)
			return w->batch_rows[i].rowid;
	for (int i = 0; i < OPEN_ROWS; i++)
		if (w->open_rows[i].handle == handle)
			return w->open_rows[i].rowid;
	return 0;
}

/* After a commit: the batch's new rows are remembered, its closed ones
 * forgotten. */
static void settle_rows(struct writer *w, int batch_rows, int batch_finished)
{
	pthread_mutex_lock(&w->lock);
	for (int k = 0; k < batch_finished; k++)
		for (int i = 0; i < OPEN_ROWS; i++)
			if (w->open_rows[i].handle == w->batch_finished[k])
				w->open_rows[i].handle = 0;
	for (int k = 0; k < batch_rows; k++) {
		struct open_row *slot = NULL;
		for (int i = 0; i < OPEN_ROWS && !slot; i++)
			if (w->open_rows[i].handle == 0)
				slot = &w->open_rows[i];
		if (!slot) {
			/* only a finish that never came fills it: forget the oldest */
			slot = &w->open_rows[0];
			for (int i = 1; i < OPEN_ROWS; i++)
				if (w->open_rows[i].handle < slot->handle)
					slot = &w->open_rows[i];
			log_message(LOG_WARNING, "as-run row %" PRId64 " was never finished; forgetting it",
				    slot->rowid);
		}
		*slot = w->batch_rows[k];
	}
	pthread_mutex_unlock(&w->lock);
}

/* The rows a full queue (or a stop) kept in the spill file: the file is
 * set aside under the lock (new rows start a new one), written in this
 * batch, and removed after its commit. A file set aside by a try that
 * failed goes first. */
static int replay(struct writer *w)
{
	struct stat info;
	if (stat(w->replay_path, &info) != 0) {
		pthread_mutex_lock(&w->lock);
		int moved = rename(w->spill_path, w->replay_path) == 0;
		pthread_mutex_unlock(&w->lock);
		if (!moved)
			return 0;   /* nothing kept */
	}
	FILE *file = fopen(w->replay_path, "re");
	char *text = NULL;
	long length = -1;
	if (file && fseek(file, 0, SEEK_END) == 0 && (length = ftell(file)) >= 0 &&
	    fseek(file, 0, SEEK_SET) == 0 && (text = malloc((size_t)length + 1)) &&
	    fread(text, 1, (size_t)length, file) == (size_t)length) {
		text[length] = '\0';
	} else {
		log_message(LOG_ERROR, "cannot read the kept as-run rows in %s: %s", w->replay_path,
			    strerror(errno));
		free(text);
		text = NULL;
	}
	if (file)
		fclose(file);
	if (!text)
		return 0;
	int rc = tt_run_apply_sql(w->tt, text);
	free(text);
	w->batch_replayed = rc == 0;
	return rc;
}

static int write_item(struct writer *w, struct item *item, int *batch_rows, int *batch_finished)
{
	struct tt_run run = item->run;
	int64_t rowid;
	int rc = 0;
	switch (item->kind) {
	case ITEM_BEGIN:
		rc = tt_run_begin(w->tt, &run);
		if (rc == 0 && run.status == TT_RUN_PLAYING)
			w->batch_rows[(*batch_rows)++] = (struct open_row){ item->handle, run.id };
		break;
	case ITEM_FINISH:
		rowid = rowid_of(w, item->handle, *batch_rows);
		if (rowid) {
			run.id = rowid;
			rc = tt_run_finish(w->tt, &run);
			w->batch_finished[(*batch_finished)++] = item->handle;
		} else {
			/* its begin was dropped or refused, or went to a database
			 * since lost: the whole row, once */
			rc = tt_run_store(w->tt, &run);
		}
		break;
	case ITEM_PROGRESS:
		rowid = rowid_of(w, item->handle, *batch_rows);
		if (rowid)
			rc = tt_run_progress(w->tt, rowid, item->frames_played, item->instant_ns);
		break;
	case ITEM_STATE:
		rc = tt_state_set(w->tt, item->key, item->value);
		break;
	case ITEM_REPLAY:
		rc = replay(w);
		break;
	case ITEM_CLOSE_STALE:
		rc = tt_run_close_stale(w->tt, item->instant_ns);
		if (rc > 0)
			log_message(LOG_WARNING, "%d as-run row(s) left on air by a stopped station are "
				    "now marked interrupted", rc);
		rc = rc < 0 ? rc : 0;
		break;
	}
	return rc;
}

/* Writes the taken entries in one transaction. 0 when written; 1 when an
 * entry was refused (dropped: try the rest again at once); < 0 when the
 * database could not be written (try again later). */
static int write_batch(struct writer *w, size_t count)
{
	int batch_rows = 0, batch_finished = 0;
	w->batch_replayed = 0;
	if (tt_batch_begin(w->tt) < 0)
		return -EAGAIN;
	for (size_t i = 0; i < count; i++) {
		struct item *item = at(w, i);   /* taken: ours without the lock */
		if (item->dead)
			continue;
		if (write_item(w, item, &batch_rows, &batch_finished) == 0)
			continue;
		int transient = tt_error_transient(w->tt);
		tt_batch_rollback(w->tt);
		if (transient)
			return -EAGAIN;
		char text[900] = "";
		describe(&item->run, text, sizeof text);
		log_message(LOG_ERROR, "the database refused a write (%s); dropped: %s", tt_error(w->tt),
			    text);
		pthread_mutex_lock(&w->lock);
		item->dead = 1;
		w->dropped++;
		pthread_mutex_unlock(&w->lock);
		return 1;
	}
	if (tt_batch_commit(w->tt) < 0)
		return -EAGAIN;
	settle_rows(w, batch_rows, batch_finished);
	if (w->batch_replayed) {
		unlink(w->replay_path);
		log_message(LOG_WARNING, "the as-run rows kept in %s are now in the database",
			    w->replay_path);
	}
	return 0;
}

/* Under lock: the first write failure of a streak is noted; one that lasts
 * is logged once. */
static void note_failure(struct writer *w, int64_t now)
{
	if (!w->failing_since_ns)
		w->failing_since_ns = now;
	snprintf(w->last_error, sizeof w->last_error, "%s", tt_error(w->tt));
	if (!w->failure_logged && now - w->failing_since_ns >= WRITER_UNWRITABLE_S * 1000 * NS_PER_MS) {
		size_t waiting = 0;
		for (size_t i = 0; i < w->count; i++)
			waiting += !at(w, i)->dead;
		w->failure_logged = 1;
		log_message(LOG_ERROR, "cannot write to the database for %.1f s (%s); %zu write(s) wait "
			    "and are retried; the air goes on", (double)(now - w->failing_since_ns) / 1e9,
			    w->last_error, waiting);
	}
}

static void note_success(struct writer *w, int64_t now)
{
	if (w->failure_logged)
		log_message(LOG_WARNING, "the database is writable again after %.1f s; the waiting "
			    "rows are written with their true times",
			    (double)(now - w->failing_since_ns) / 1e9);
	w->failing_since_ns = 0;
	w->failure_logged = 0;
}

static void wait_until(struct writer *w, int64_t deadline_ns)
{
	struct timespec until = { .tv_sec = deadline_ns / 1000000000LL,
				  .tv_nsec = deadline_ns % 1000000000LL };
	pthread_cond_timedwait(&w->wake, &w->lock, &until);
}

/* ---- the database file: lost, and back ---- */

static struct file_id identify(const char *path)
{
	struct stat info;
	if (stat(path, &info) != 0)
		return (struct file_id){ 0 };
	return (struct file_id){ .known = 1, .dev = info.st_dev, .ino = info.st_ino };
}

static int same_file(struct file_id a, struct file_id b)
{
	return a.known && b.known && a.dev == b.dev && a.ino == b.ino;
}

/* 1 if path begins as an SQLite database does. Only for a file no
 * connection of this process has open: closing the descriptor would drop
 * the locks SQLite holds on it. */
static int has_database_header(const char *path)
{
	static const char magic[16] = "SQLite format 3";   /* and its NUL */
	char header[16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno != ENOENT && errno != EIO;   /* unreadable to us: not judged */
	ssize_t got = read(fd, header, sizeof header);
	close(fd);
	return got == (ssize_t)sizeof header && memcmp(header, magic, sizeof magic) == 0;
}

static enum loss examine(const struct writer *w)
{
	struct file_id now = identify(w->db_path);
	if (!now.known)
		return errno == ENOENT ? DB_DELETED : DB_PRESENT;
	if (!same_file(now, w->db_id))
		return DB_REPLACED;
	return tt_file_begins_as_database(w->tt) ? DB_PRESENT : DB_DAMAGED;
}

/* Under lock: the rows to keep in a file, each as its own whole row (with
 * its rowid where the writer knows one): a row still playing, a finished
 * one; a begin whose finish is queued after it is carried by the finish.
 * malloc'd; *count set. */
static struct tt_run *rows_to_keep(struct writer *w, size_t *count)
{
	struct tt_run *rows = malloc((w->count ? w->count : 1) * sizeof *rows);
	*count = 0;
	for (size_t i = 0; rows && i < w->count; i++) {
		struct item *item = at(w, i);
		if (item->dead || (item->kind != ITEM_BEGIN && item->kind != ITEM_FINISH))
			continue;
		int finished_later = 0;
		for (size_t k = i + 1; k < w->count && item->kind == ITEM_BEGIN; k++)
			finished_later |= at(w, k)->kind == ITEM_FINISH && at(w, k)->handle == item->handle;
		if (finished_later)
			continue;
		rows[*count] = item->run;
		rows[*count].id = item->kind == ITEM_FINISH ? open_rowid(w, item->handle) : 0;
		(*count)++;
	}
	return rows;
}

/* Writes rows to path as SQL (whole, through a temporary file renamed over
 * it). 0 or -errno. */
static int write_rows(const char *path, const struct tt_run *rows, size_t count)
{
	char temporary[4300];
	snprintf(temporary, sizeof temporary, "%s.new", path);
	FILE *file = fopen(temporary, "we");
	if (!file)
		return -errno;
	int rc = 0;
	for (size_t i = 0; i < count && rc == 0; i++) {
		char *sql = tt_run_sql(&rows[i]);
		if (!sql || fputs(sql, file) == EOF)
			rc = sql ? -errno : -ENOMEM;
		free(sql);
	}
	if (fflush(file) != 0 || fsync(fileno(file)) != 0)
		rc = rc ? rc : -errno;
	if (fclose(file) != 0)
		rc = rc ? rc : -errno;
	if (rc == 0 && rename(temporary, path) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(temporary);
	return rc;
}

/* While the database is lost: the rows waiting are also in waiting_path,
 * brought up to date when the queue changes, so a crash before the
 * database is back loses none (the next start writes them first). */
static void keep_waiting_rows(struct writer *w)
{
	pthread_mutex_lock(&w->lock);
	uint64_t version = w->version;
	size_t count = 0;
	struct tt_run *rows = version != w->snapshot_version ? rows_to_keep(w, &count) : NULL;
	pthread_mutex_unlock(&w->lock);
	if (!rows)
		return;
	int rc = write_rows(w->waiting_path, rows, count);
	free(rows);
	if (rc == 0)
		w->snapshot_version = version;
	else if (w->snapshot_version != (uint64_t)-1)
		log_message(LOG_ERROR, "cannot keep the waiting as-run rows in %s (%s); they wait in "
			    "memory only", w->waiting_path, strerror(-rc));
	if (rc != 0)
		w->snapshot_version = (uint64_t)-1;   /* said once; tried again each second */
}

static void timestamp(char *out, size_t size)
{
	time_t now = time(NULL);
	struct tm local;
	localtime_r(&now, &local);
	strftime(out, size, "%Y%m%d-%H%M%S", &local);
}

/* The database file is gone, replaced or damaged: the writer stops writing
 * to it (what it wrote would be lost with it), keeps every row, copies what
 * the connection still reads of a deleted or replaced file beside it, and
 * closes. The serving thread sees it in writer_health. */
static void lose(struct writer *w, enum loss loss)
{
	char when[32], copy[4300] = "";
	timestamp(when, sizeof when);
	if (loss != DB_DAMAGED) {
		snprintf(copy, sizeof copy, "%s.lost-%s", w->db_path, when);
		if (tt_backup(w->tt, copy) < 0) {
			log_message(LOG_ERROR, "%s", tt_error(w->tt));
			copy[0] = '\0';
		}
	}
	char wal[4200], shm[4200];
	snprintf(wal, sizeof wal, "%s-wal", w->db_path);
	snprintf(shm, sizeof shm, "%s-shm", w->db_path);
	w->stale_wal = identify(wal);   /* the lost file's: set aside before a new one opens */
	w->stale_shm = identify(shm);
	tt_close_quietly(w->tt);
	w->tt = NULL;
	w->refused = (struct file_id){ 0 };
	w->candidate = (struct file_id){ 0 };
	pthread_mutex_lock(&w->lock);
	w->loss = loss;
	if (!w->failing_since_ns)
		w->failing_since_ns = monotonic_ns();
	w->back = 0;
	w->reopen = 0;
	snprintf(w->lost_copy, sizeof w->lost_copy, "%s", copy);
	memset(w->open_rows, 0, sizeof w->open_rows);   /* rowids of the lost file */
	size_t waiting = 0;
	for (size_t i = 0; i < w->count; i++)
		waiting += !at(w, i)->dead;
	snprintf(w->last_error, sizeof w->last_error, "the database %s was %s", w->db_path,
		 loss_words[loss]);
	w->snapshot_version = w->version - 1;
	pthread_mutex_unlock(&w->lock);
	log_message(LOG_ERROR, "the database %s was %s; the air goes on, and %zu waiting write(s) "
		    "and every new as-run row are kept in memory and in %s until a database is back "
		    "at %s (restore a backup%s%s there)", w->db_path, loss_words[loss], waiting,
		    w->waiting_path, w->db_path, copy[0] ? ", or the copy kept at " : "", copy);
}

/* A lost file's -wal or -shm still at the path would be read as the new
 * database's: renamed aside (beside the copy) before it opens. */
static void set_aside(const char *suffix, struct file_id stale, const char *db_path)
{
	char path[4200], aside[4300], when[32];
	snprintf(path, sizeof path, "%s%s", db_path, suffix);
	if (!same_file(identify(path), stale))
		return;
	timestamp(when, sizeof when);
	snprintf(aside, sizeof aside, "%s.lost-%s%s", db_path, when, suffix);
	if (rename(path, aside) == 0)
		log_message(LOG_WARNING, "the lost database's %s is set aside as %s", path, aside);
	else
		log_message(LOG_ERROR, "cannot set the lost database's %s aside: %s", path, strerror(errno));
}

/* Lost: is a database at the path again (a file beginning as one, not the
 * one that failed to open)? Then the serving thread reopens first, and the
 * writer after it (writer_reopened). */
static void look_for_database(struct writer *w)
{
	struct stat info;
	if (stat(w->db_path, &info) != 0)
		return;
	struct file_id candidate = identify(w->db_path);
	int64_t mtime = (int64_t)info.st_mtim.tv_sec * 1000000000LL + info.st_mtim.tv_nsec;
	if (same_file(candidate, w->refused) && mtime == w->refused_mtime)
		return;
	/* a file still being copied into place is not opened: it must look the
	 * same a second later */
	int settled = same_file(candidate, w->candidate) && mtime == w->candidate_mtime &&
		      (int64_t)info.st_size == w->candidate_size;
	w->candidate = candidate;
	w->candidate_mtime = mtime;
	w->candidate_size = (int64_t)info.st_size;
	if (!settled || !has_database_header(w->db_path))
		return;
	set_aside("-wal", w->stale_wal, w->db_path);
	set_aside("-shm", w->stale_shm, w->db_path);
	w->refused = candidate;   /* until it opens */
	w->refused_mtime = mtime;
	pthread_mutex_lock(&w->lock);
	w->back = 1;
	pthread_mutex_unlock(&w->lock);
	log_message(LOG_WARNING, "a database is at %s again; opening it", w->db_path);
}

static void reopen(struct writer *w)
{
	struct tt *tt = NULL;
	if (tt_open(&tt, w->db_path, TT_OPEN_EXISTING) < 0) {
		log_message(LOG_ERROR, "the file at %s cannot be the station's database (%s); the rows "
			    "keep waiting", w->db_path, tt_error(tt));
		tt_close(tt);
		pthread_mutex_lock(&w->lock);
		w->back = 0;
		w->reopen = 0;
		pthread_mutex_unlock(&w->lock);
		return;
	}
	tt_set_busy_timeout(tt, BUSY_TIMEOUT_MS);
	w->tt = tt;
	w->db_id = identify(w->db_path);
	pthread_mutex_lock(&w->lock);
	size_t waiting = 0;
	for (size_t i = 0; i < w->count; i++)
		waiting += !at(w, i)->dead;
	w->loss = DB_PRESENT;
	w->back = 0;
	w->reopen = 0;
	w->last_error[0] = '\0';
	w->failing_since_ns = 0;
	pthread_mutex_unlock(&w->lock);
	log_message(LOG_WARNING, "the database at %s is back; the %zu waiting write(s) are written "
		    "to it now", w->db_path, waiting);
}

/* The writer thread, at least once a second: is the file still the one it
 * opened; lost, is one back. */
static void watch(struct writer *w)
{
	pthread_mutex_lock(&w->lock);
	enum loss loss = w->loss;
	int back = w->back, may_reopen = w->reopen;
	pthread_mutex_unlock(&w->lock);
	if (loss == DB_PRESENT) {
		loss = examine(w);
		if (loss != DB_PRESENT)
			lose(w, loss);
		return;
	}
	if (may_reopen)
		reopen(w);
	else if (!back)
		look_for_database(w);
	if (w->tt == NULL)
		keep_waiting_rows(w);
}

/* A stop on a full disk: the space set aside at the start is given back,
 * for one more try. 1 if there was any. */
static int release_reserve(struct writer *w)
{
	if (unlink(w->reserve_path) != 0)
		return 0;
	log_message(LOG_WARNING, "stopping with the database unwritable (%s): the %d KiB set aside in "
		    "%s is freed for the waiting rows", w->last_error, RESERVE_BYTES / 1024,
		    w->reserve_path);
	return 1;
}

static void make_reserve(struct writer *w)
{
	int fd = open(w->reserve_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	int rc = fd < 0 ? errno : posix_fallocate(fd, 0, RESERVE_BYTES);
	if (fd >= 0)
		close(fd);
	if (rc != 0) {
		unlink(w->reserve_path);
		log_message(LOG_WARNING, "cannot set %d KiB aside in %s (%s): a stop on a full disk "
			    "may have to leave rows in memory", RESERVE_BYTES / 1024, w->reserve_path,
			    strerror(rc));
	}
}

static void *writer_thread(void *user)
{
	struct writer *w = user;
	int backoff_ms = BACKOFF_MIN_MS;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		if (!w->stopping && (w->count == 0 || w->loss != DB_PRESENT))
			wait_until(w, monotonic_ns() + WATCH_MS * NS_PER_MS);
		pthread_mutex_unlock(&w->lock);
		watch(w);
		pthread_mutex_lock(&w->lock);
		if (w->stopping && (w->count == 0 || w->loss != DB_PRESENT))
			break;
		if (w->count == 0 || w->loss != DB_PRESENT)
			continue;
		if (w->stopping && w->failing_since_ns && monotonic_ns() > w->drain_deadline_ns) {
			pthread_mutex_unlock(&w->lock);
			int released = release_reserve(w);
			pthread_mutex_lock(&w->lock);
			if (!released)
				break;
			w->drain_deadline_ns = monotonic_ns() + BACKOFF_MAX_MS * NS_PER_MS;
		}
		w->taken = w->count < BATCH_ITEMS ? w->count : BATCH_ITEMS;
		size_t taken = w->taken;
		pthread_mutex_unlock(&w->lock);
		int rc = write_batch(w, taken);
		int damaged = rc < 0 && tt_error_damaged(w->tt);
		pthread_mutex_lock(&w->lock);
		w->taken = 0;
		int64_t now = monotonic_ns();
		if (rc == 0) {
			w->head = (w->head + taken) % WRITER_QUEUE_ROWS;
			w->count -= taken;
			if (w->count == 0)
				w->head = 0;   /* the ring's first pages only, while it keeps up */
			w->written += (int64_t)taken;
			w->version++;
			note_success(w, now);
			backoff_ms = BACKOFF_MIN_MS;
			if (w->count == 0 && w->spill_waiting) {
				/* what a full queue kept aside, now there is room */
				w->spill_waiting = 0;
				append(w, ITEM_REPLAY, "the kept rows", NULL, NULL);
			}
			if (w->count == 0 && w->snapshot_version) {
				unlink(w->waiting_path);   /* all of it is in the database now */
				w->snapshot_version = 0;
			}
			pthread_cond_broadcast(&w->drained);
		} else if (damaged) {
			pthread_mutex_unlock(&w->lock);
			lose(w, DB_DAMAGED);
			pthread_mutex_lock(&w->lock);
		} else if (rc < 0) {
			note_failure(w, now);
			wait_until(w, now + backoff_ms * NS_PER_MS);
			backoff_ms = backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff_ms * 2;
		}
	}
	/* stopping with the database still unwritable or lost: the rows go to
	 * the spill file, which the next start writes first (a row still
	 * playing there is then closed as interrupted) */
	size_t count = 0, kept = 0;
	struct tt_run *rows = rows_to_keep(w, &count);
	const char *how = w->loss != DB_PRESENT ? "lost" : "unwritable";
	const char *why = w->loss != DB_PRESENT ? loss_words[w->loss] : w->last_error;
	for (size_t i = 0; rows && i < count; i++) {
		char text[900];
		describe(&rows[i], text, sizeof text);
		if (spill(w, &rows[i]) == 0) {
			kept++;
			w->spilled++;
		} else {
			log_message(LOG_ERROR, "as-run row lost (the database stayed %s: %s, and %s cannot "
				    "be written): %s", how, why, w->spill_path, text);
			w->dropped++;
		}
	}
	if (!rows)
		log_message(LOG_ERROR, "out of memory: %zu waiting write(s) lost", w->count);
	if (kept)
		log_message(LOG_WARNING, "the database stayed %s (%s): %zu as-run row(s) kept in %s; "
			    "the station writes them when it next starts", how, why, kept, w->spill_path);
	if (rows && kept == count && w->snapshot_version)
		unlink(w->waiting_path);   /* the spill file holds them all */
	free(rows);
	w->count = 0;
	pthread_cond_broadcast(&w->drained);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Appends the file from to the file to, and removes from. 0, or -1 with
 * errno set. */
static int append_file(const char *to, const char *from)
{
	FILE *in = fopen(from, "re");
	int out = open(to, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	char buffer[65536];
	size_t got;
	int rc = in && out >= 0 ? 0 : -1;
	while (rc == 0 && (got = fread(buffer, 1, sizeof buffer, in)) > 0)
		rc = write(out, buffer, got) == (ssize_t)got ? 0 : -1;
	if (rc == 0 && in && ferror(in))
		rc = -1;
	int saved = errno;
	if (in)
		fclose(in);
	if (out >= 0 && close(out) != 0 && rc == 0)
		rc = -1, saved = errno;
	if (rc == 0)
		unlink(from);
	errno = saved;
	return rc;
}

int writer_open(struct writer **out, const char *db_path, char *error, size_t error_size)
{
	int rc;
	struct writer *w = calloc(1, sizeof *w);
	*out = NULL;
	if (!w) {
		snprintf(error, error_size, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_t attributes;
	pthread_condattr_init(&attributes);
	pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &attributes);
	pthread_cond_init(&w->drained, &attributes);
	pthread_condattr_destroy(&attributes);
	w->items = calloc(WRITER_QUEUE_ROWS, sizeof *w->items);
	if (!w->items) {
		snprintf(error, error_size, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	snprintf(w->db_path, sizeof w->db_path, "%s", db_path);
	snprintf(w->spill_path, sizeof w->spill_path, "%s-unwritten.sql", db_path);
	snprintf(w->replay_path, sizeof w->replay_path, "%s-unwritten.sql.writing", db_path);
	snprintf(w->waiting_path, sizeof w->waiting_path, "%s-waiting.sql", db_path);
	snprintf(w->reserve_path, sizeof w->reserve_path, "%s-reserve", db_path);
	rc = tt_open(&w->tt, db_path, TT_OPEN_EXISTING);
	if (rc < 0) {
		snprintf(error, error_size, "%s", tt_error(w->tt));
		goto fail;
	}
	tt_set_busy_timeout(w->tt, BUSY_TIMEOUT_MS);
	w->db_id = identify(db_path);
	/* rows a stop kept, and rows a crash left waiting for a lost database,
	 * are written first (each statement stores its row once) */
	if (access(w->waiting_path, F_OK) == 0 && append_file(w->spill_path, w->waiting_path) < 0)
		log_message(LOG_ERROR, "cannot read the as-run rows kept in %s: %s; they stay there",
			    w->waiting_path, strerror(errno));
	append(w, ITEM_REPLAY, "the kept rows", NULL, NULL);
	make_reserve(w);
	rc = -pthread_create(&w->thread, NULL, writer_thread, w);
	if (rc < 0) {
		snprintf(error, error_size, "cannot start the database writer: %s", strerror(-rc));
		goto fail;
	}
	w->thread_started = 1;
	*out = w;
	return 0;
fail:
	writer_close(w, 0);
	return rc;
}

void writer_reopened(struct writer *w)
{
	pthread_mutex_lock(&w->lock);
	if (w->back)
		w->reopen = 1;
	w->back = 0;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void writer_refused(struct writer *w)
{
	pthread_mutex_lock(&w->lock);
	w->back = 0;   /* w->refused keeps the file until it changes */
	pthread_mutex_unlock(&w->lock);
}

int writer_flush(struct writer *w, int timeout_ms)
{
	int64_t deadline = monotonic_ns() + timeout_ms * NS_PER_MS;
	struct timespec until = { .tv_sec = deadline / 1000000000LL,
				  .tv_nsec = deadline % 1000000000LL };
	int rc = 0;
	pthread_mutex_lock(&w->lock);
	while (w->count > 0 && rc == 0)
		rc = -pthread_cond_timedwait(&w->drained, &w->lock, &until);
	rc = w->count > 0 ? -ETIMEDOUT : 0;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

void writer_close(struct writer *w, int drain_ms)
{
	if (!w)
		return;
	if (w->thread_started) {
		pthread_mutex_lock(&w->lock);
		w->stopping = 1;
		w->drain_deadline_ns = monotonic_ns() + drain_ms * NS_PER_MS;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
	}
	tt_close(w->tt);
	free(w->items);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->drained);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
