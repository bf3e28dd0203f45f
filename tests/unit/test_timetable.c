/* Unit tests of the timetable store: dates, recurrence and resolution,
 * refusals that change nothing, the as-run log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/test_timetable_fixture.h"

static void test_time_of_day(void **state)
{
	(void)state;
	assert_int_equal(tt_parse_time_of_day("05:30"), 5 * 3600 + 30 * 60);
	assert_int_equal(tt_parse_time_of_day("23:59:59"), 86399);
	assert_int_equal(tt_parse_time_of_day("00:00:00"), 0);
	assert_int_equal(tt_parse_time_of_day("24:00"), -1);
	assert_int_equal(tt_parse_time_of_day("25:61"), -1);
	assert_int_equal(tt_parse_time_of_day("12:60"), -1);
	assert_int_equal(tt_parse_time_of_day("12:00:60"), -1);
	assert_int_equal(tt_parse_time_of_day("5:30"), -1);
	assert_int_equal(tt_parse_time_of_day("05:30:"), -1);
	assert_int_equal(tt_parse_time_of_day(""), -1);
}

static void test_dates(void **state)
{
	(void)state;
	assert_true(tt_valid_date("2028-02-29"));
	assert_false(tt_valid_date("2026-02-29"));
	assert_false(tt_valid_date("2026-02-30"));
	assert_false(tt_valid_date("2100-02-29"));
	assert_true(tt_valid_date("2000-02-29"));
	assert_false(tt_valid_date("2026-13-01"));
	assert_false(tt_valid_date("2026-1-01"));
	char out[11];
	tt_add_days("2026-12-31", 1, out);
	assert_string_equal(out, "2027-01-01");
	tt_add_days("2028-02-28", 1, out);
	assert_string_equal(out, "2028-02-29");
	tt_add_days("2028-03-01", -1, out);
	assert_string_equal(out, "2028-02-29");
	tt_add_days("2026-03-01", -1, out);
	assert_string_equal(out, "2026-02-28");
	assert_int_equal(tt_weekday("2026-11-26"), 3); /* a Thursday */
	assert_int_equal(tt_weekday("2026-11-30"), 0); /* a Monday */
	/* Vietnam is UTC+7 all year */
	assert_int_equal(tt_local_instant_ns("2026-11-26", 5 * 3600 + 1800),
			 (int64_t)1795645800 * NS);
	tt_local_date((int64_t)1795645800 * NS, out);
	assert_string_equal(out, "2026-11-26");
}

static struct tt_event make_event(struct fixture *f, enum tt_recurrence recurrence, int second)
{
	struct tt_event e = { .recurrence = recurrence, .start_second = second,
			      .media_id = f->media_id, .repeat_count = 1, .enabled = 1 };
	return e;
}

static void test_recurrence(void **state)
{
	struct fixture *f = *state;
	struct tt_event daily = make_event(f, TT_DAILY, 5 * 3600 + 1800);
	snprintf(daily.from_date, sizeof daily.from_date, "2026-12-30");
	snprintf(daily.until_date, sizeof daily.until_date, "2027-01-02");
	assert_int_equal(tt_event_add(f->tt, &daily), 0);
	struct tt_event weekdays = make_event(f, TT_WEEKDAYS, 17 * 3600);
	weekdays.weekdays = 1u << 0 | 1u << 4; /* Monday, Friday */
	assert_int_equal(tt_event_add(f->tt, &weekdays), 0);
	struct tt_event monthly = make_event(f, TT_MONTHLY, 12 * 3600);
	monthly.month_day = 29;
	assert_int_equal(tt_event_add(f->tt, &monthly), 0);

	struct tt_airing *a = NULL;
	/* 2026-12-29 is a Tuesday: only the monthly one */
	assert_int_equal(airings_on(f, "2026-12-29", &a), 1);
	assert_int_equal(a[0].event_id, monthly.id);
	free(a);
	/* 2027-01-01 is a Friday: daily (in range) and weekdays, in time order */
	assert_int_equal(airings_on(f, "2027-01-01", &a), 2);
	assert_int_equal(a[0].event_id, daily.id);
	assert_int_equal(a[0].scheduled_ns, tt_local_instant_ns("2027-01-01", 5 * 3600 + 1800));
	assert_int_equal(a[0].duration_ns, 90 * NS);
	assert_string_equal(a[0].occurrence_date, "2027-01-01");
	assert_int_equal(a[1].event_id, weekdays.id);
	free(a);
	/* after --until: no daily */
	assert_int_equal(airings_on(f, "2027-01-03", &a), 0);
	free(a);
	/* February 2027 has no 29th; 2028 does */
	assert_int_equal(airings_on(f, "2027-02-28", &a), 0);
	free(a);
	assert_int_equal(airings_on(f, "2028-02-29", &a), 1);
	free(a);

	/* a skipped date, then disabling */
	assert_int_equal(tt_event_skip_date(f->tt, daily.id, "2026-12-31"), 0);
	assert_int_equal(airings_on(f, "2026-12-31", &a), 0);
	free(a);
	assert_int_equal(airings_on(f, "2026-12-30", &a), 1);
	free(a);
	assert_int_equal(tt_event_set_enabled(f->tt, daily.id, 0), 0);
	assert_int_equal(airings_on(f, "2026-12-30", &a), 0);
	free(a);
}

static void test_repeats_with_gap(void **state)
{
	struct fixture *f = *state;
	struct tt_event e = make_event(f, TT_ONCE, 23 * 3600 + 59 * 60);
	snprintf(e.on_date, sizeof e.on_date, "2026-12-31");
	e.repeat_count = 3;
	e.gap_seconds = 30;
	assert_int_equal(tt_event_add(f->tt, &e), 0);
	struct tt_airing *a = NULL;
	size_t count = 0;
	int64_t start = tt_local_instant_ns("2026-12-31", 23 * 3600 + 59 * 60);
	assert_int_equal(tt_airings_between(f->tt, start, start + 3600 * NS, &a, &count), 0);
	assert_int_equal(count, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(a[i].part, i);
		assert_int_equal(a[i].scheduled_ns, start + i * (90 + 30) * NS);
		/* the occurrence keeps its date even after midnight */
		assert_string_equal(a[i].occurrence_date, "2026-12-31");
	}
	free(a);
	/* asking only for the new year still finds the parts after midnight */
	int64_t new_year = tt_local_instant_ns("2027-01-01", 0);
	assert_int_equal(tt_airings_between(f->tt, new_year, new_year + 3600 * NS, &a, &count), 0);
	assert_int_equal(count, 2);
	free(a);
}

static void test_refusals_change_nothing(void **state)
{
	struct fixture *f = *state;
	struct tt_event e = make_event(f, TT_ONCE, 3600);
	snprintf(e.on_date, sizeof e.on_date, "2026-02-30");
	assert_int_equal(tt_event_add(f->tt, &e), TT_ERR_INVALID);
	assert_non_null(strstr(tt_error(f->tt), "2026-02-30"));
	e = make_event(f, TT_DAILY, 3600);
	e.media_id = 4242;
	assert_int_equal(tt_event_add(f->tt, &e), TT_ERR_NOT_FOUND);
	assert_non_null(strstr(tt_error(f->tt), "4242"));
	e = make_event(f, TT_DAILY, 3600);
	snprintf(e.from_date, sizeof e.from_date, "2026-05-02");
	snprintf(e.until_date, sizeof e.until_date, "2026-05-01");
	assert_int_equal(tt_event_add(f->tt, &e), TT_ERR_INVALID);
	e = make_event(f, TT_WEEKDAYS, 3600);
	assert_int_equal(tt_event_add(f->tt, &e), TT_ERR_INVALID);
	assert_int_equal(event_count(f), 0);
	assert_int_equal(tt_event_remove(f->tt, 77), TT_ERR_NOT_FOUND);

	/* media in use cannot go without force */
	e = make_event(f, TT_DAILY, 3600);
	assert_int_equal(tt_event_add(f->tt, &e), 0);
	assert_int_equal(tt_media_remove(f->tt, f->media_id, 0), TT_ERR_IN_USE);
	struct tt_media m;
	assert_int_equal(tt_media_get(f->tt, f->media_id, &m), 0);
	assert_string_equal(m.title, "Bản tin");
	assert_int_equal(tt_media_remove(f->tt, f->media_id, 1), 0);
	assert_int_equal(tt_media_get(f->tt, f->media_id, &m), TT_ERR_NOT_FOUND);
	assert_int_equal(event_count(f), 0);
}

static void test_as_run(void **state)
{
	struct fixture *f = *state;
	int64_t t = tt_local_instant_ns("2026-11-26", 5 * 3600 + 1800);
	struct tt_run run = { .event_id = 3, .part = 1, .media_id = f->media_id,
			      .scheduled_ns = t, .started_ns = t + 1000, .status = TT_RUN_PLAYING };
	snprintf(run.occurrence_date, sizeof run.occurrence_date, "2026-11-26");
	snprintf(run.title, sizeof run.title, "Thông báo 'cải cách' hành chính 📻");
	assert_int_equal(tt_run_begin(f->tt, &run), 0);
	assert_true(run.id > 0);
	assert_int_equal(tt_run_exists(f->tt, 3, "2026-11-26", 1), 1);
	assert_int_equal(tt_run_exists(f->tt, 3, "2026-11-26", 0), 0);
	/* a crash leaves it playing; the next start closes it */
	assert_int_equal(tt_run_close_stale(f->tt, t + 5 * NS), 1);
	assert_int_equal(tt_run_close_stale(f->tt, t + 6 * NS), 0);
	struct tt_run *runs = NULL;
	size_t count = 0;
	assert_int_equal(tt_runs_between(f->tt, t - NS, t + NS, &runs, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(runs[0].status, TT_RUN_INTERRUPTED);
	assert_int_equal(runs[0].ended_ns, t + 5 * NS);
	assert_string_equal(runs[0].title, "Thông báo 'cải cách' hành chính 📻");
	free(runs);

	/* a crash ends a row where it was last known on air, not at the restart:
	 * its last progress, or the last sign of life if later and within the
	 * item (90 s) */
	struct tt_run later = run;
	later.part = 2;
	later.scheduled_ns = t + 100;
	assert_int_equal(tt_run_begin(f->tt, &later), 0);
	assert_int_equal(tt_run_progress(f->tt, later.id, 3 * 48000, t + 3 * NS), 0);
	assert_int_equal(tt_run_close_stale(f->tt, t + 200 * NS), 1);
	later.part = 3;
	assert_int_equal(tt_run_begin(f->tt, &later), 0);
	assert_int_equal(tt_run_progress(f->tt, later.id, 3 * 48000, t + 3 * NS), 0);
	assert_int_equal(tt_run_close_stale(f->tt, t + 4 * NS), 1);
	assert_int_equal(tt_runs_between(f->tt, t - NS, t + NS, &runs, &count), 0);
	assert_int_equal(count, 3);
	assert_int_equal(runs[1].ended_ns, t + 3 * NS);
	assert_int_equal(runs[1].frames_played, 3 * 48000);
	assert_int_equal(runs[2].ended_ns, t + 4 * NS);
	assert_int_equal(runs[2].status, TT_RUN_INTERRUPTED);
	free(runs);

	run.status = TT_RUN_PLAYED;
	run.ended_ns = t + 90 * NS;
	run.frames_played = 90 * 48000;
	assert_int_equal(tt_run_finish(f->tt, &run), 0);
	assert_int_equal(tt_runs_between(f->tt, t, t + 1, &runs, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(runs[0].status, TT_RUN_PLAYED);
	assert_int_equal(runs[0].frames_played, 90 * 48000);
	free(runs);
	/* outside the window */
	assert_int_equal(tt_runs_between(f->tt, t + 1, t + 2, &runs, &count), 0);
	assert_int_equal(count, 0);
	free(runs);
}

static void test_reopen_and_data_version(void **state)
{
	struct fixture *f = *state;
	struct tt *other = NULL;
	assert_int_equal(tt_open(&other, f->path, TT_OPEN_EXISTING), 0);
	assert_int_equal(tt_schema_version(other), TT_SCHEMA_VERSION);
	int64_t before = tt_data_version(f->tt);
	struct tt_event e = make_event(f, TT_DAILY, 60);
	assert_int_equal(tt_event_add(other, &e), 0);
	assert_true(tt_data_version(f->tt) != before);
	tt_close(other);

	/* a file that is not a loaxa database is refused, not changed */
	char path[160];
	snprintf(path, sizeof path, "%s/none.db", f->dir);
	other = NULL;
	assert_int_equal(tt_open(&other, path, TT_OPEN_EXISTING), TT_ERR_NOT_FOUND);
	assert_non_null(strstr(tt_error(other), "loaxa init"));
	tt_close(other);
	assert_int_not_equal(access(path, F_OK), 0);
}

static void test_state(void **state)
{
	struct fixture *f = *state;
	int64_t value = -5;
	assert_int_equal(tt_state_get(f->tt, "last_alive_ns", &value), 0);
	assert_int_equal(value, -5);
	assert_int_equal(tt_state_set(f->tt, "last_alive_ns", 1234), 0);
	assert_int_equal(tt_state_get(f->tt, "last_alive_ns", &value), 0);
	assert_int_equal(value, 1234);
}

int main(void)
{
	setenv("TZ", "Asia/Ho_Chi_Minh", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_of_day),
		cmocka_unit_test(test_dates),
		cmocka_unit_test_setup_teardown(test_recurrence, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_repeats_with_gap, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_refusals_change_nothing, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_as_run, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_reopen_and_data_version, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_state, fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests_name("timetable", tests, NULL, NULL);
}
