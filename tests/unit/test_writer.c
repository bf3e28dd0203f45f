/* The station's database writer (scheduler/writer.h): rows queued while
 * another connection holds the write lock wait, in order, and are written
 * when it is released; progress coalesces, a finish folds into its queued
 * begin; health says unwritable; a full queue drops and counts; a row the
 * database refuses is dropped and the rest go on; kept rows are stored
 * once however often they are replayed; a deleted database is noticed, its
 * rows wait, and go into the database put back in its place. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "test_timetable_fixture.h"
#include "scheduler/writer.h"

static const char *const DATE = "2026-11-26";

static struct tt_run make_run(int64_t event_id, enum tt_run_status status, int64_t started_ns)
{
	struct tt_run run = { .event_id = event_id, .media_id = 1, .scheduled_ns = started_ns,
			      .started_ns = started_ns, .status = status };
	snprintf(run.occurrence_date, sizeof run.occurrence_date, "%s", DATE);
	snprintf(run.title, sizeof run.title, "event %lld", (long long)event_id);
	return run;
}

/* Another program holding the write lock, as a sqlite3 shell in BEGIN
 * IMMEDIATE would. */
static sqlite3 *hold_lock(const char *path)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE; INSERT OR REPLACE INTO station_state"
				      " VALUES ('holder', 1)", NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static void release_lock(sqlite3 *db)
{
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static struct writer *open_writer(struct fixture *f)
{
	struct writer *w = NULL;
	char error[256];
	assert_int_equal(writer_open(&w, f->path, error, sizeof error), 0);
	assert_int_equal(writer_flush(w, 5000), 0);   /* its look for a spill file */
	return w;
}

/* A row written "playing" before the test holds the lock. */
static struct tt_run on_air_row(struct writer *w, int64_t event_id, int64_t started_ns)
{
	struct tt_run run = make_run(event_id, TT_RUN_PLAYING, started_ns);
	assert_int_equal(writer_run_begin(w, &run), 0);
	assert_true(run.id > 0);
	assert_int_equal(writer_flush(w, 5000), 0);
	return run;
}

static void finish(struct writer *w, struct tt_run *run, enum tt_run_status status,
		   int64_t ended_ns, int64_t frames_played)
{
	run->status = status;
	run->ended_ns = ended_ns;
	run->frames_played = frames_played;
	assert_int_equal(writer_run_finish(w, run), 0);
}

/* Everything queued reaches the database: none waits, none lost. */
static void assert_all_written(struct writer *w)
{
	struct writer_health health;
	assert_int_equal(writer_flush(w, 5000), 0);
	writer_health(w, &health);
	assert_int_equal(health.writable, 1);
	assert_int_equal(health.lost, 0);
	assert_int_equal(health.pending_rows, 0);
	assert_int_equal(health.dropped, 0);
}

static size_t read_rows(struct fixture *f, struct tt_run **runs)
{
	size_t count = 0;
	assert_int_equal(tt_runs_between(f->tt, 0, INT64_MAX, runs, &count), 0);
	return count;
}

static void test_rows_wait_for_the_lock_in_order(void **state)
{
	struct fixture *f = *state;
	int64_t t = tt_local_instant_ns(DATE, 5 * 3600);
	struct writer *w = open_writer(f);
	struct tt_run on_air = on_air_row(w, 3, t);
	sqlite3 *holder = hold_lock(f->path);
	struct tt_run first = make_run(1, TT_RUN_PLAYING, t + 10 * NS);
	assert_int_equal(writer_run_begin(w, &first), 0);
	assert_true(first.id > on_air.id);
	for (int i = 1; i <= 10; i++) {
		assert_int_equal(writer_run_progress(w, first.id, i * 48000, t + (10 + i) * NS), 0);
		assert_int_equal(writer_run_progress(w, on_air.id, i * 48000, t + i * NS), 0);
	}
	struct tt_run missed = make_run(2, TT_RUN_MISSED, 0);
	missed.scheduled_ns = t + 20 * NS;
	assert_int_equal(writer_run_begin(w, &missed), 0);
	finish(w, &on_air, TT_RUN_PLAYED, t + 30 * NS, 30 * 48000);
	finish(w, &first, TT_RUN_PLAYED, t + 40 * NS, 30 * 48000);   /* folds into its begin */
	for (int i = 0; i < 3; i++)
		assert_int_equal(writer_state_set(w, "last_alive_ns", t + i), 0);

	assert_int_equal(writer_run_queued(w, 1, DATE, 0), 1);
	assert_int_equal(writer_run_queued(w, 2, DATE, 0), 1);
	assert_int_equal(writer_run_queued(w, 9, DATE, 0), 0);
	sleep(WRITER_UNWRITABLE_S);
	usleep(300000);
	struct writer_health health;
	writer_health(w, &health);
	assert_int_equal(health.writable, 0);
	assert_true(health.unwritable_s >= WRITER_UNWRITABLE_S);
	/* the folded row, the missed row, the on-air row's finish (its
	 * progress dropped: the finish has the frames), the state; more if the
	 * writer's retry held the begin when the finish came */
	assert_true(health.pending_rows >= 4 && health.pending_rows <= 8);
	assert_int_equal(health.dropped, 0);
	assert_non_null(strstr(health.last_error, "busy"));
	struct tt_run *runs = NULL;
	assert_int_equal(read_rows(f, &runs), 1);
	assert_int_equal(runs[0].status, TT_RUN_PLAYING);
	free(runs);

	release_lock(holder);
	assert_all_written(w);
	assert_int_equal(writer_run_queued(w, 1, DATE, 0), 0);
	assert_int_equal(tt_run_exists(f->tt, 1, DATE, 0), 1);
	size_t count = read_rows(f, &runs);
	assert_int_equal(count, 3);
	assert_int_equal(runs[0].event_id, 3);   /* updated in place, not a second row */
	assert_int_equal(runs[0].status, TT_RUN_PLAYED);
	assert_int_equal(runs[0].ended_ns, t + 30 * NS);
	assert_int_equal(runs[0].frames_played, 30 * 48000);
	assert_int_equal(runs[1].event_id, 1);   /* one row, finished */
	assert_int_equal(runs[1].status, TT_RUN_PLAYED);
	assert_int_equal(runs[1].ended_ns, t + 40 * NS);
	assert_int_equal(runs[2].event_id, 2);
	assert_int_equal(runs[2].status, TT_RUN_MISSED);
	assert_true(runs[0].id < runs[1].id && runs[1].id < runs[2].id);
	free(runs);
	int64_t alive = 0;
	assert_int_equal(tt_state_get(f->tt, "last_alive_ns", &alive), 0);
	assert_int_equal(alive, t + 2);
	writer_close(w, 1000);
}

static void test_progress_says_when_last_on_air(void **state)
{
	struct fixture *f = *state;
	int64_t t = tt_local_instant_ns(DATE, 6 * 3600);
	struct writer *w = open_writer(f);
	struct tt_run run = make_run(4, TT_RUN_PLAYING, t);
	assert_int_equal(writer_run_begin(w, &run), 0);
	assert_int_equal(writer_run_progress(w, run.id, 5 * 48000, t + 5 * NS), 0);
	assert_int_equal(writer_flush(w, 5000), 0);
	writer_close(w, 1000);   /* as if the station died here */
	assert_int_equal(tt_run_close_stale(f->tt, 0), 1);
	struct tt_run *runs = NULL;
	assert_int_equal(read_rows(f, &runs), 1);
	assert_int_equal(runs[0].status, TT_RUN_INTERRUPTED);
	assert_int_equal(runs[0].ended_ns, t + 5 * NS);
	assert_int_equal(runs[0].frames_played, 5 * 48000);
	free(runs);
}

static void test_full_queue_drops_and_counts(void **state)
{
	struct fixture *f = *state;
	int64_t t = tt_local_instant_ns(DATE, 7 * 3600);
	struct writer *w = open_writer(f);
	sqlite3 *holder = hold_lock(f->path);
	for (int i = 0; i < WRITER_QUEUE_ROWS; i++) {
		struct tt_run run = make_run(100 + i, TT_RUN_MISSED, t + i);
		assert_int_equal(writer_run_begin(w, &run), 0);
	}
	/* full: a begin is dropped (its finish will insert the whole row), a
	 * progress too */
	struct tt_run late = make_run(99, TT_RUN_PLAYING, t - NS);
	assert_int_equal(writer_run_begin(w, &late), -ENOSPC);
	assert_true(late.id > 0);
	assert_int_equal(writer_run_progress(w, late.id, 48000, t), -ENOSPC);
	/* a finished row is kept in the spill file */
	struct tt_run spilled = make_run(98, TT_RUN_MISSED, t - 2 * NS);
	assert_int_equal(writer_run_begin(w, &spilled), 0);
	char spill_path[200];
	snprintf(spill_path, sizeof spill_path, "%s-unwritten.sql", f->path);
	assert_int_equal(access(spill_path, F_OK), 0);
	struct writer_health health;
	writer_health(w, &health);
	assert_int_equal(health.pending_rows, WRITER_QUEUE_ROWS);
	assert_int_equal(health.dropped, 2);
	assert_int_equal(health.spilled, 1);
	release_lock(holder);
	assert_int_equal(writer_flush(w, 30000), 0);
	assert_int_equal(writer_flush(w, 5000), 0);   /* then the spill file */
	assert_int_not_equal(access(spill_path, F_OK), 0);
	assert_int_equal(tt_run_exists(f->tt, 98, DATE, 0), 1);
	finish(w, &late, TT_RUN_PLAYED, t, 48000);
	assert_int_equal(writer_flush(w, 5000), 0);
	struct tt_run *runs = NULL;
	size_t count = read_rows(f, &runs);
	assert_int_equal(count, WRITER_QUEUE_ROWS + 2);
	assert_int_equal(runs[0].event_id, 98);
	assert_int_equal(runs[0].status, TT_RUN_MISSED);
	assert_int_equal(runs[1].event_id, 99);
	assert_int_equal(runs[1].status, TT_RUN_PLAYED);
	assert_int_equal(runs[1].frames_played, 48000);
	free(runs);
	writer_close(w, 1000);
}

/* Stopped while the lock is held: the rows go to the spill file, and the
 * next writer writes them first, the one still playing finished in place. */
static void test_stop_while_locked_keeps_the_rows(void **state)
{
	struct fixture *f = *state;
	int64_t t = tt_local_instant_ns(DATE, 9 * 3600);
	struct writer *w = open_writer(f);
	struct tt_run on_air = on_air_row(w, 7, t);
	sqlite3 *holder = hold_lock(f->path);
	struct tt_run missed = make_run(8, TT_RUN_MISSED, t + NS);
	struct tt_run later = make_run(9, TT_RUN_PLAYING, t + 2 * NS);
	assert_int_equal(writer_run_begin(w, &missed), 0);
	assert_int_equal(writer_run_begin(w, &later), 0);
	finish(w, &on_air, TT_RUN_PLAYED, t + 3 * NS, 3 * 48000);
	finish(w, &later, TT_RUN_INTERRUPTED, t + 3 * NS, 0);
	writer_close(w, 300);
	release_lock(holder);
	struct tt_run *runs = NULL;
	assert_int_equal(read_rows(f, &runs), 1);
	free(runs);
	w = open_writer(f);
	size_t count = read_rows(f, &runs);
	assert_int_equal(count, 3);
	assert_int_equal(runs[0].event_id, 7);   /* finished in place */
	assert_int_equal(runs[0].status, TT_RUN_PLAYED);
	assert_int_equal(runs[0].frames_played, 3 * 48000);
	assert_int_equal(runs[1].event_id, 8);
	assert_int_equal(runs[1].status, TT_RUN_MISSED);
	assert_int_equal(runs[2].event_id, 9);   /* folded: one row */
	assert_int_equal(runs[2].status, TT_RUN_INTERRUPTED);
	free(runs);
	char path[200];
	snprintf(path, sizeof path, "%s-unwritten.sql", f->path);
	assert_int_not_equal(access(path, F_OK), 0);
	writer_close(w, 1000);
}

static void test_refused_row_is_dropped(void **state)
{
	struct fixture *f = *state;
	int64_t t = tt_local_instant_ns(DATE, 8 * 3600);
	struct writer *w = open_writer(f);
	struct tt_run bad = make_run(5, (enum tt_run_status)42, t);   /* fails the CHECK */
	struct tt_run good = make_run(6, TT_RUN_MISSED, t + NS);
	assert_int_equal(writer_run_begin(w, &bad), 0);
	assert_int_equal(writer_run_begin(w, &good), 0);
	assert_int_equal(writer_flush(w, 5000), 0);
	struct writer_health health;
	writer_health(w, &health);
	assert_int_equal(health.dropped, 1);
	assert_int_equal(health.writable, 1);
	struct tt_run *runs = NULL;
	assert_int_equal(read_rows(f, &runs), 1);
	assert_int_equal(runs[0].event_id, 6);
	free(runs);
	writer_close(w, 1000);
}

/* A file of kept rows replayed twice (a crash between its write and its
 * removal), and holding a row both still playing and finished: each row is
 * stored once, the finished one in place of the playing one. */
static void test_kept_rows_are_stored_once(void **state)
{
	struct fixture *f = *state;
	int64_t t = tt_local_instant_ns(DATE, 10 * 3600);
	struct tt_run missed = make_run(11, TT_RUN_MISSED, 0);
	struct tt_run playing = make_run(12, TT_RUN_PLAYING, t);
	struct tt_run played = playing;
	played.status = TT_RUN_PLAYED;
	played.ended_ns = t + 5 * NS;
	played.frames_played = 5 * 48000;
	char *sql[3] = { tt_run_sql(&missed), tt_run_sql(&playing), tt_run_sql(&played) };
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 3; i++)
			assert_int_equal(tt_run_apply_sql(f->tt, sql[i]), 0);
	assert_int_equal(tt_run_apply_sql(f->tt, sql[1]), 0);   /* playing again: no change */
	for (int i = 0; i < 3; i++)
		free(sql[i]);
	struct tt_run *runs = NULL;
	assert_int_equal(read_rows(f, &runs), 2);
	assert_int_equal(runs[0].event_id, 11);
	assert_int_equal(runs[0].status, TT_RUN_MISSED);
	assert_int_equal(runs[1].event_id, 12);
	assert_int_equal(runs[1].status, TT_RUN_PLAYED);
	assert_int_equal(runs[1].frames_played, 5 * 48000);
	free(runs);
}

static int wait_health(struct writer *w, struct writer_health *health, int lost, int back)
{
	for (int i = 0; i < 100; i++) {
		writer_health(w, health);
		if (health->lost == lost && health->back == back)
			return 1;
		usleep(50000);
	}
	return 0;
}

/* The database file deleted under the writer: within a few seconds it is
 * lost (and says how), a copy of what it still read is beside it, the rows
 * queued since wait in memory and in the waiting file; once a database is
 * back at the path and the serving side has reopened, they go into it. */
static void test_deleted_database_keeps_its_rows(void **state)
{
	struct fixture *f = *state;
	int64_t t = tt_local_instant_ns(DATE, 11 * 3600);
	struct writer *w = open_writer(f);
	struct tt_run on_air = on_air_row(w, 21, t);
	assert_int_equal(unlink(f->path), 0);
	struct writer_health health;
	assert_true(wait_health(w, &health, 1, 0));
	assert_string_equal(health.lost_how, "deleted");
	assert_int_equal(health.writable, 0);
	assert_int_equal(access(health.lost_copy, F_OK), 0);
	struct tt_run missed = make_run(22, TT_RUN_MISSED, 0);
	assert_int_equal(writer_run_begin(w, &missed), 0);
	finish(w, &on_air, TT_RUN_PLAYED, t + 4 * NS, 4 * 48000);
	char waiting[4300];
	snprintf(waiting, sizeof waiting, "%s", health.waiting_path);
	for (int i = 0; i < 60 && access(waiting, F_OK) != 0; i++)
		usleep(50000);
	assert_int_equal(access(waiting, F_OK), 0);
	/* the copy put back where the database was */
	assert_int_equal(rename(health.lost_copy, f->path), 0);
	assert_true(wait_health(w, &health, 1, 1));
	writer_reopened(w);
	assert_all_written(w);
	struct tt *restored = NULL;
	assert_int_equal(tt_open(&restored, f->path, TT_OPEN_EXISTING), 0);
	struct tt_run *runs = NULL;
	size_t count = 0;
	assert_int_equal(tt_runs_between(restored, 0, INT64_MAX, &runs, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(runs[0].event_id, 22);
	assert_int_equal(runs[0].status, TT_RUN_MISSED);
	assert_int_equal(runs[1].event_id, 21);   /* finished in the copy, not inserted again */
	assert_int_equal(runs[1].status, TT_RUN_PLAYED);
	assert_int_equal(runs[1].frames_played, 4 * 48000);
	free(runs);
	tt_close(restored);
	writer_close(w, 1000);
	assert_int_not_equal(access(waiting, F_OK), 0);
}

int main(void)
{
	setenv("TZ", "Asia/Ho_Chi_Minh", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rows_wait_for_the_lock_in_order, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_progress_says_when_last_on_air, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_full_queue_drops_and_counts, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stop_while_locked_keeps_the_rows, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_refused_row_is_dropped, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_kept_rows_are_stored_once, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_deleted_database_keeps_its_rows, fixture_setup,
						fixture_teardown),
	};
	return cmocka_run_group_tests_name("writer", tests, NULL, NULL);
}
