/* Unit tests of the store itself: a version-1 database (made with the first
 * schema's own SQL, as the first release wrote it) upgrades with its data
 * intact; a newer one is refused; the audit trail records every edit with
 * its operator and refuses changes; text is kept exactly; ids are never
 * given twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "tests/unit/test_timetable_fixture.h"
#include "schedules/report.h"

/* Schema version 1, exactly as released (schedules/store.c, migration 0 → 1). */
static const char schema_v1[] =
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
		"CREATE INDEX as_run_occurrence ON as_run (event_id, occurrence_date, part);";

/* What a station might hold at version 1. */
static const char data_v1[] =
	"INSERT INTO media VALUES (1, '" "aaaa" "', '00/a.wav', 'bản tin.wav', 'Bản tin \"sáng\" 📻', 'Thời sự',"
	"  'pcm_s16', 48000, 1, 4320000, -18.2, 3.1, -1.5, -2.0, 100, 200, 0.5, 0, '2026-11-01T08:00:00+0700');"
	"INSERT INTO media VALUES (2, 'bbbb', '00/b.mp3', 'b.mp3', 'Cải cách hành chính', '', 'mp3', 44100, 2,"
	"  441000, NULL, NULL, NULL, -3.0, 0, 0, 0, 0, '2026-11-01T08:01:00+0700');"
	"INSERT INTO programme VALUES (1, 'Thời sự sáng', 'Thời sự', '2026-11-01T08:02:00+0700');"
	"INSERT INTO programme_item VALUES (1, 1, 1), (1, 2, 2);"
	"INSERT INTO event (id, title, start_second, recurrence, on_date, weekdays, month_day, from_date,"
	"  until_date, media_id, programme_id, priority, repeat_count, gap_seconds, resume_policy, enabled,"
	"  created_at) VALUES"
	"  (1, 'Bản tin', 19800, 'daily', NULL, 0, 0, '2026-12-01', '2027-01-31', NULL, 1, 0, 1, 0, 'resume', 1, 'x'),"
	"  (2, '', 61200, 'weekdays', NULL, 5, 0, '', '', 2, NULL, 1, 3, 60, 'rejoin', 1, 'x'),"
	"  (4, 'Tháng', 43200, 'monthly', NULL, 0, 29, '', '', 2, NULL, 0, 1, 0, 'skip', 0, 'x');"
	"INSERT INTO event_exception VALUES (1, '2026-12-24', 'skip', NULL), (1, '2026-12-25', 'move', 21600);"
	"INSERT INTO as_run (event_id, occurrence_date, part, media_id, title, priority, scheduled_ns,"
	"  started_ns, ended_ns, frames_played, status) VALUES"
	"  (9, '2026-11-02', 0, 5, 'an old event', 0, 1793566800000000000, 1793566800001000000,"
	"   1793566890000000000, 4320000, 'played'),"
	"  (1, '2026-11-03', 1, 2, 'Bản tin', 0, 1793653290000000000, 1793653290001000000,"
	"   1793653300000000000, 441000, 'played');"
	"INSERT INTO station_state VALUES ('last_alive_ns', 1793566899000000000);"
	"PRAGMA user_version = 1;";

static void make_v1(const char *path, const char *extra)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *error = NULL;
	if (sqlite3_exec(db, schema_v1, NULL, NULL, &error) != SQLITE_OK ||
	    sqlite3_exec(db, data_v1, NULL, NULL, &error) != SQLITE_OK ||
	    (extra && sqlite3_exec(db, extra, NULL, NULL, &error) != SQLITE_OK))
		fail_msg("building the version-1 database: %s", error);
	sqlite3_close(db);
}

static int find_action(void *user, const struct tt_audit_entry *a)
{
	const char **wanted = user;
	if (strcmp(a->action, wanted[0]) == 0)
		wanted[1] = "found";
	return 0;
}

static void test_upgrade_from_version_1(void **state)
{
	(void)state;
	char dir[] = "/tmp/loaxa-unit-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/v1.db", dir);
	make_v1(path, NULL);

	struct tt *tt = NULL;
	assert_int_equal(tt_open(&tt, path, TT_OPEN_EXISTING), 0);
	assert_int_equal(tt_schema_version(tt), TT_SCHEMA_VERSION);
	tt_set_today(tt, "2026-11-20");
	/* the media, exactly */
	struct tt_media m;
	assert_int_equal(tt_media_get(tt, 1, &m), 0);
	assert_string_equal(m.title, "Bản tin \"sáng\" 📻");
	assert_string_equal(m.original_name, "bản tin.wav");
	assert_int_equal(m.frames, 4320000);
	assert_true(m.gain_db == 0.5);
	assert_int_equal(tt_media_get(tt, 2, &m), 0);
	assert_true(m.loudness_lufs != m.loudness_lufs);   /* NULL stays "silent" (NaN) */
	/* the programme and its items */
	struct tt_programme p;
	assert_int_equal(tt_programme_find(tt, "Thời sự sáng", &p), 0);
	assert_int_equal(p.item_count, 2);
	assert_int_equal(p.duration_ns, 90 * NS + 10 * NS);
	assert_int_equal(p.event_count, 1);
	/* the events and their rules */
	struct tt_event e;
	assert_int_equal(tt_event_get(tt, 1, &e), 0);
	assert_string_equal(e.title, "Bản tin");
	assert_int_equal(e.programme_id, 1);
	assert_string_equal(e.until_date, "2027-01-31");
	assert_int_equal(tt_event_get(tt, 2, &e), 0);
	assert_int_equal(e.recurrence, TT_WEEKDAYS);
	assert_int_equal(e.weekdays, 5);
	assert_int_equal(e.resume, TT_REJOIN);
	assert_int_equal(e.repeat_count, 3);
	assert_int_equal(tt_event_get(tt, 4, &e), 0);
	assert_int_equal(e.enabled, 0);
	/* the exceptions still shape the timetable: skipped, moved, usual */
	struct tt_fixture_probe { const char *date; int count; const char *at; } probes[] = {
		{ "2026-12-24", 0, NULL }, { "2026-12-25", 2, "06:00" }, { "2026-12-26", 2, "05:30" },
	};
	for (int i = 0; i < 3; i++) {
		struct tt_airing *a = NULL;
		size_t n = 0;
		char next[11];
		tt_add_days(probes[i].date, 1, next);
		assert_int_equal(tt_airings_between(tt, tt_local_instant_ns(probes[i].date, 0),
						    tt_local_instant_ns(next, 0), &a, &n), 0);
		size_t mine = 0;
		for (size_t k = 0; k < n; k++)
			if (a[k].event_id == 1) {
				if (mine == 0)
					assert_int_equal(a[k].scheduled_ns, at_ns(probes[i].date, probes[i].at));
				mine++;
			}
		assert_int_equal(mine, probes[i].count);
		free(a);
	}
	/* the as-run log and the station's state */
	struct tt_run *runs = NULL;
	size_t count = 0;
	assert_int_equal(tt_runs_between(tt, 0, INT64_MAX, &runs, &count), 0);
	assert_int_equal(count, 2);
	assert_string_equal(runs[0].title, "an old event");
	assert_int_equal(runs[0].frames_played, 4320000);
	/* filled from what is left: its event and media are gone */
	assert_string_equal(runs[0].category, "");
	assert_int_equal(runs[0].planned_ns, 0);
	/* the programme's category, the media's length */
	assert_string_equal(runs[1].category, "Thời sự");
	assert_int_equal(runs[1].planned_ns, 10 * NS);
	free(runs);
	/* and chained, in id order: the chain holds */
	struct tt_chain_check chain;
	assert_int_equal(tt_chain_verify(tt, &chain), 0);
	assert_int_equal(chain.rows, 2);
	assert_int_equal(chain.head_seq, 2);
	assert_int_equal((int)strlen(chain.head), 64);
	int64_t alive = 0;
	assert_int_equal(tt_state_get(tt, "last_alive_ns", &alive), 0);
	assert_int_equal(alive, 1793566899000000000LL);
	/* the upgrade itself is in the audit trail */
	const char *wanted[2] = { "schema.upgrade", NULL };
	assert_int_equal(tt_audit_each(tt, 0, find_action, wanted), 0);
	assert_non_null(wanted[1]);
	/* new ids follow the highest ever used, the as-run log's included */
	struct tt_event added = fixture_event(2, TT_ONCE, "10:00");
	snprintf(added.on_date, sizeof added.on_date, "2026-12-30");
	assert_int_equal(tt_event_add(tt, &added), 0);
	assert_int_equal(added.id, 10);
	struct tt_media n = m;
	snprintf(n.sha256, sizeof n.sha256, "cccc");
	int64_t media_id = 0;
	int existed = 0;
	assert_int_equal(tt_media_add(tt, &n, &media_id, &existed), 0);
	assert_int_equal(media_id, 6);
	tt_close(tt);

	/* opening again changes nothing */
	assert_int_equal(tt_open(&tt, path, TT_OPEN_EXISTING), 0);
	assert_int_equal(tt_schema_version(tt), TT_SCHEMA_VERSION);
	tt_close(tt);

	/* a database from a newer loaxa is refused and left alone */
	snprintf(path, sizeof path, "%s/v9.db", dir);
	make_v1(path, "PRAGMA user_version = 9;");
	tt = NULL;
	assert_int_equal(tt_open(&tt, path, TT_OPEN_EXISTING), TT_ERR_SCHEMA);
	assert_non_null(strstr(tt_error(tt), "newer loaxa"));
	tt_close(tt);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *stmt = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(stmt, 0), 9);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	char command[160];
	snprintf(command, sizeof command, "rm -rf '%s'", dir);
	assert_int_equal(system(command), 0);
}

struct audit_log {
	int count;
	char actions[40][32];
	char operators[40][128];
	char details[40][256];
};

static int collect_audit(void *user, const struct tt_audit_entry *a)
{
	struct audit_log *log = user;
	if (log->count < 40) {
		snprintf(log->actions[log->count], 32, "%s", a->action);
		snprintf(log->operators[log->count], 128, "%s", a->operator_name);
		snprintf(log->details[log->count], 256, "%s", a->detail);
	}
	log->count++;
	return 0;
}

static void test_audit_every_edit(void **state)
{
	struct fixture *f = *state;
	struct audit_log before = { 0 };
	assert_int_equal(tt_audit_each(f->tt, 0, collect_audit, &before), 0);
	/* the fixture's creation and media: by the OS user */
	assert_string_equal(before.actions[0], "schema.create");
	assert_string_equal(before.actions[1], "media.import");
	assert_true(before.operators[1][0] != '\0');
	assert_int_equal(tt_set_operator(f->tt, "Chị Lan (cán bộ văn hoá) 👩"), 0);
	assert_string_equal(tt_operator(f->tt), "Chị Lan (cán bộ văn hoá) 👩");
	assert_int_equal(tt_set_operator(f->tt, "\xc3\x28"), TT_ERR_INVALID);
	char long_name[200];
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	assert_int_equal(tt_set_operator(f->tt, long_name), TT_ERR_INVALID);
	assert_string_equal(tt_operator(f->tt), "Chị Lan (cán bộ văn hoá) 👩");

	int64_t programme = 0, other = fixture_media(f, 30, "Ba mươi giây");
	assert_int_equal(tt_programme_create(f->tt, "Chuyên mục", "Nông nghiệp", &programme), 0);
	assert_int_equal(tt_programme_append(f->tt, programme, &other, 1), 0);
	assert_int_equal(tt_programme_append(f->tt, programme, &other, 1), 0);
	assert_int_equal(tt_programme_remove_item(f->tt, programme, 2), 0);
	struct tt_event e = fixture_event(f->media_id, TT_DAILY, "05:30");
	snprintf(e.title, sizeof e.title, "Bản tin \"sáng\"");
	assert_int_equal(tt_event_add(f->tt, &e), 0);
	assert_int_equal(tt_event_set_enabled(f->tt, e.id, 0), 0);
	assert_int_equal(tt_event_set_enabled(f->tt, e.id, 1), 0);
	assert_int_equal(tt_event_skip_date(f->tt, e.id, "2026-03-01"), 0);
	int second = 6 * 3600;
	assert_int_equal(tt_event_move_date(f->tt, e.id, "2026-03-02", &second, TT_PLACE_EXACT), 0);
	assert_int_equal(tt_event_restore_date(f->tt, e.id, "2026-03-01"), 0);
	assert_int_equal(tt_event_remove(f->tt, e.id), 0);
	assert_int_equal(tt_programme_remove(f->tt, programme), 0);
	assert_int_equal(tt_media_remove(f->tt, other, 0), 0);
	/* refusals leave no row */
	assert_int_equal(tt_event_remove(f->tt, e.id), TT_ERR_NOT_FOUND);
	assert_int_equal(tt_programme_create(f->tt, "", NULL, &programme), TT_ERR_INVALID);

	struct audit_log log = { 0 };
	assert_int_equal(tt_audit_each(f->tt, 0, collect_audit, &log), 0);
	const char *expected[] = {
		"media.import", "programme.create", "programme.append", "programme.append",
		"programme.remove_item", "event.add", "event.disable", "event.enable", "event.skip",
		"event.move", "event.restore", "event.remove", "programme.remove", "media.remove",
	};
	int n = (int)(sizeof expected / sizeof expected[0]);
	assert_int_equal(log.count, before.count + n);
	for (int i = 0; i < n; i++) {
		assert_string_equal(log.actions[before.count + i], expected[i]);
		assert_string_equal(log.operators[before.count + i], "Chị Lan (cán bộ văn hoá) 👩");
	}
	/* what changed, in words */
	assert_non_null(strstr(log.details[before.count + 5], "\"Bản tin \"sáng\"\" daily at 05:30:00"));
	assert_non_null(strstr(log.details[before.count + 9], "on 2026-03-02 moved from 05:30:00 to 06:00:00"));
	assert_non_null(strstr(log.details[before.count + 11], "removed \"Bản tin \"sáng\"\""));
	/* --since */
	struct audit_log later = { 0 };
	assert_int_equal(tt_audit_each(f->tt, INT64_MAX, collect_audit, &later), 0);
	assert_int_equal(later.count, 0);

	/* append-only, even for someone with sqlite3 in hand */
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	char *error = NULL;
	assert_int_not_equal(sqlite3_exec(db, "UPDATE audit SET operator = 'someone'", NULL, NULL, &error),
			     SQLITE_OK);
	assert_non_null(strstr(error, "append-only"));
	sqlite3_free(error);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, &error), SQLITE_OK);
	sqlite3_free(error);
	sqlite3_close(db);
	struct audit_log after = { 0 };
	assert_int_equal(tt_audit_each(f->tt, 0, collect_audit, &after), 0);
	assert_int_equal(after.count, log.count);
}

static void test_text_exact_and_refused(void **state)
{
	struct fixture *f = *state;
	const char *titles[] = {
		"Thông báo \"khẩn\" — 'cấp' 🌀🚨", "Đ đ Ư ư Ơ ơ Ă ă Â â Ê ê Ô ô", "a,b;c\td\ne", "  ",
	};
	for (int i = 0; i < 4; i++) {
		struct tt_event e = fixture_event(f->media_id, TT_ONCE, "10:00");
		snprintf(e.on_date, sizeof e.on_date, "2026-0%d-01", i + 2);
		snprintf(e.title, sizeof e.title, "%s", titles[i]);
		assert_int_equal(tt_event_add(f->tt, &e), 0);
		struct tt_event back;
		assert_int_equal(tt_event_get(f->tt, e.id, &back), 0);
		assert_string_equal(back.title, titles[i]);
		struct tt_airing *a = NULL;
		assert_int_equal(airings_on(f, e.on_date, &a), 1);
		assert_string_equal(a[0].title, titles[i][0] ? titles[i] : "Bản tin");
		free(a);
	}
	int events = event_count(f);
	/* not UTF-8; too long to keep whole */
	struct tt_event bad = fixture_event(f->media_id, TT_DAILY, "11:00");
	snprintf(bad.title, sizeof bad.title, "Latin-1 \xe9t\xe9");
	assert_int_equal(tt_event_add(f->tt, &bad), TT_ERR_INVALID);
	assert_non_null(strstr(tt_error(f->tt), "UTF-8"));
	snprintf(bad.title, sizeof bad.title, "overlong \xc0\xaf");
	assert_int_equal(tt_event_add(f->tt, &bad), TT_ERR_INVALID);
	memset(bad.title, 'x', sizeof bad.title);
	bad.title[sizeof bad.title - 1] = '\0';     /* 511 bytes: fits */
	assert_int_equal(tt_event_add(f->tt, &bad), 0);
	assert_int_equal(event_count(f), events + 1);
	int64_t id = 0;
	char name[600];
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	assert_int_equal(tt_programme_create(f->tt, name, NULL, &id), TT_ERR_INVALID);
	assert_non_null(strstr(tt_error(f->tt), "too long"));
}

static void test_ids_never_reused(void **state)
{
	struct fixture *f = *state;
	struct tt_event e = fixture_event(f->media_id, TT_DAILY, "05:30");
	assert_int_equal(tt_event_add(f->tt, &e), 0);
	int64_t first = e.id;
	assert_int_equal(tt_event_remove(f->tt, first), 0);
	assert_int_equal(tt_event_add(f->tt, &e), 0);
	assert_true(e.id > first);
	int64_t media = fixture_media(f, 5, "năm giây");
	assert_int_equal(tt_media_remove(f->tt, media, 0), 0);
	assert_true(fixture_media(f, 5, "năm giây nữa") > media);
	/* the data version moves when another connection commits */
	struct tt *other = NULL;
	assert_int_equal(tt_open(&other, f->path, TT_OPEN_EXISTING), 0);
	int64_t version = tt_data_version(f->tt);
	assert_int_equal(tt_event_set_enabled(other, e.id, 0), 0);
	assert_true(tt_data_version(f->tt) != version);
	tt_close(other);
}

/* An up-to-date database opens while another program holds the write
 * lock (the station starts during a backup); reads work, writes are busy. */
static void test_open_while_locked(void **state)
{
	struct fixture *f = *state;
	sqlite3 *holder = NULL;
	assert_int_equal(sqlite3_open(f->path, &holder), SQLITE_OK);
	assert_int_equal(sqlite3_exec(holder, "BEGIN IMMEDIATE; INSERT OR REPLACE INTO station_state"
				      " VALUES ('holder', 1)", NULL, NULL, NULL), SQLITE_OK);
	struct tt *other = NULL;
	assert_int_equal(tt_open(&other, f->path, TT_OPEN_EXISTING), 0);
	tt_set_busy_timeout(other, 10);
	struct tt_media m;
	assert_int_equal(tt_media_get(other, f->media_id, &m), 0);
	assert_true(tt_state_set(other, "last_alive_ns", 1) < 0);
	assert_int_equal(tt_error_transient(other), 1);
	assert_int_equal(sqlite3_exec(holder, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(holder);
	assert_int_equal(tt_state_set(other, "last_alive_ns", 1), 0);
	tt_close(other);
}

int main(void)
{
	setenv("TZ", "Asia/Ho_Chi_Minh", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upgrade_from_version_1),
		cmocka_unit_test_setup_teardown(test_audit_every_edit, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_text_exact_and_refused, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_ids_never_reused, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_open_while_locked, fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests_name("timetable store", tests, NULL, NULL);
}
