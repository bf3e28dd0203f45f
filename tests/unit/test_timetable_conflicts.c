/* Unit tests of conflict rules: same priority refused (naming the other
 * event, its time and date), other priorities accepted, back to back is
 * fine, --after placement, long campaigns, midnight, skipped dates, and the
 * re-checks on enable, move, restore and programme edits; then a randomised
 * cross-check of the checker against brute force, day by day. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test_timetable_fixture.h"

static void test_same_priority_refused_and_named(void **state)
{
	struct fixture *f = *state;
	struct tt_event first = fixture_event(f->media_id, TT_DAILY, "05:30");
	snprintf(first.title, sizeof first.title, "Bản tin \"sáng\"");
	set_dates(&first, "2026-12-01", "2026-12-31");
	assert_int_equal(tt_event_add(f->tt, &first), 0);
	int audits = audit_count(f);
	struct tt_event second = fixture_event(f->media_id, TT_ONCE, "05:31");
	snprintf(second.on_date, sizeof second.on_date, "2026-12-15");
	assert_int_equal(tt_event_add(f->tt, &second), TT_ERR_CONFLICT);
	const char *why = tt_error(f->tt);
	char expected[64];
	snprintf(expected, sizeof expected, "event %lld \"Bản tin \"sáng\"\"", (long long)first.id);
	assert_non_null(strstr(why, expected));
	assert_non_null(strstr(why, "05:30:00–05:31:30 on 2026-12-15"));
	assert_non_null(strstr(why, "conflict on 2026-12-15: 05:31:00–05:32:30"));
	assert_non_null(strstr(why, "--after"));
	/* nothing changed */
	assert_int_equal(event_count(f), 1);
	assert_int_equal(audit_count(f), audits);
	/* tt_event_check says the same without adding */
	assert_int_equal(tt_event_check(f->tt, &second), TT_ERR_CONFLICT);
	assert_int_equal(event_count(f), 1);
	/* outside the campaign's dates it is free */
	snprintf(second.on_date, sizeof second.on_date, "2027-01-01");
	assert_int_equal(tt_event_check(f->tt, &second), 0);
	assert_int_equal(tt_event_add(f->tt, &second), 0);
}

static void test_other_priority_and_back_to_back(void **state)
{
	struct fixture *f = *state;
	struct tt_event normal = fixture_event(f->media_id, TT_DAILY, "06:00");
	assert_int_equal(tt_event_add(f->tt, &normal), 0);
	struct tt_event urgent = fixture_event(f->media_id, TT_DAILY, "06:00:30");
	urgent.priority = TT_PRIORITY_PRIORITY;
	assert_int_equal(tt_event_add(f->tt, &urgent), 0);
	struct tt_event emergency = fixture_event(f->media_id, TT_DAILY, "06:00:45");
	emergency.priority = TT_PRIORITY_EMERGENCY;
	assert_int_equal(tt_event_add(f->tt, &emergency), 0);
	/* right after the 90 s item: touching is not overlapping */
	struct tt_event next = fixture_event(f->media_id, TT_DAILY, "06:01:30");
	assert_int_equal(tt_event_add(f->tt, &next), 0);
	struct tt_event before = fixture_event(f->media_id, TT_DAILY, "05:58:30");
	assert_int_equal(tt_event_add(f->tt, &before), 0);
	struct tt_event one_early = fixture_event(f->media_id, TT_DAILY, "05:58:31");
	assert_int_equal(tt_event_add(f->tt, &one_early), TT_ERR_CONFLICT);
	/* a disabled event collides with nothing until enabled */
	struct tt_event sleeping = fixture_event(f->media_id, TT_DAILY, "06:00");
	sleeping.enabled = 0;
	assert_int_equal(tt_event_add(f->tt, &sleeping), 0);
	assert_int_equal(tt_event_set_enabled(f->tt, sleeping.id, 1), TT_ERR_CONFLICT);
	struct tt_event stored;
	assert_int_equal(tt_event_get(f->tt, sleeping.id, &stored), 0);
	assert_false(stored.enabled);
	/* disabling frees the time */
	assert_int_equal(tt_event_set_enabled(f->tt, normal.id, 0), 0);
	assert_int_equal(tt_event_set_enabled(f->tt, sleeping.id, 1), 0);
	assert_int_equal(tt_event_set_enabled(f->tt, normal.id, 1), TT_ERR_CONFLICT);
}

static void test_after_placement(void **state)
{
	struct fixture *f = *state;
	int64_t odd = fixture_media(f, 90.25, "lẻ");
	struct tt_event a = fixture_event(f->media_id, TT_DAILY, "05:30");
	struct tt_event b = fixture_event(odd, TT_DAILY, "05:31:30");
	assert_int_equal(tt_event_add(f->tt, &a), 0);
	assert_int_equal(tt_event_add(f->tt, &b), 0);
	/* collides with a, then with b: ends up after both, on a whole second */
	struct tt_event c = fixture_event(f->media_id, TT_WEEKDAYS, "05:30");
	c.weekdays = 0x1f;
	assert_int_equal(tt_event_add_placed(f->tt, &c, TT_PLACE_AFTER), 0);
	assert_int_equal(c.start_second, tt_parse_time_of_day("05:33:01"));
	char expected[32];
	snprintf(expected, sizeof expected, "right after event %lld", (long long)b.id);
	assert_non_null(strstr(tt_note(f->tt), expected));
	assert_non_null(strstr(tt_note(f->tt), "placed at 05:33:01"));
	struct tt_event stored;
	assert_int_equal(tt_event_get(f->tt, c.id, &stored), 0);
	assert_int_equal(stored.start_second, c.start_second);
	/* nothing to move: the note stays empty */
	struct tt_event d = fixture_event(f->media_id, TT_DAILY, "09:00");
	assert_int_equal(tt_event_add_placed(f->tt, &d, TT_PLACE_AFTER), 0);
	assert_int_equal(d.start_second, 9 * 3600);
	assert_string_equal(tt_note(f->tt), "");
	/* no room left that day */
	struct tt_event late = fixture_event(f->media_id, TT_DAILY, "23:59");
	assert_int_equal(tt_event_add(f->tt, &late), 0);
	struct tt_event later = fixture_event(f->media_id, TT_DAILY, "23:59:30");
	assert_int_equal(tt_event_add_placed(f->tt, &later, TT_PLACE_AFTER), TT_ERR_CONFLICT);
	assert_non_null(strstr(tt_error(f->tt), "no room"));
	/* a moved date placed after what it lands on */
	int second = tt_parse_time_of_day("05:30:10");
	assert_int_equal(tt_event_move_date(f->tt, d.id, "2026-03-03", &second, TT_PLACE_EXACT),
			 TT_ERR_CONFLICT);
	assert_int_equal(tt_event_move_date(f->tt, d.id, "2026-03-03", &second, TT_PLACE_AFTER), 0);
	assert_int_equal(second, tt_parse_time_of_day("05:34:31"));   /* after a, b and c */
	assert_int_equal(count_on(f, "2026-03-03", d.id), 1);
}

static void test_long_campaigns(void **state)
{
	struct fixture *f = *state;
	/* a one-off deep in the year, a Saturday programme, the 31st of each month */
	struct tt_event notice = fixture_event(f->media_id, TT_ONCE, "19:00");
	snprintf(notice.on_date, sizeof notice.on_date, "2027-10-15");
	assert_int_equal(tt_event_add(f->tt, &notice), 0);
	struct tt_event saturday = fixture_event(f->media_id, TT_WEEKDAYS, "20:00");
	saturday.weekdays = 1u << 5;
	set_dates(&saturday, "2027-03-10", NULL);
	assert_int_equal(tt_event_add(f->tt, &saturday), 0);
	struct tt_event monthly = fixture_event(f->media_id, TT_MONTHLY, "21:00");
	monthly.month_day = 31;
	assert_int_equal(tt_event_add(f->tt, &monthly), 0);

	struct tt_event campaign = fixture_event(f->media_id, TT_DAILY, "19:00:30");
	set_dates(&campaign, "2027-01-01", "2027-12-31");
	assert_int_equal(tt_event_check(f->tt, &campaign), TT_ERR_CONFLICT);
	assert_non_null(strstr(tt_error(f->tt), "on 2027-10-15"));
	campaign.start_second = tt_parse_time_of_day("20:00:30");
	assert_int_equal(tt_event_check(f->tt, &campaign), TT_ERR_CONFLICT);
	assert_non_null(strstr(tt_error(f->tt), "conflict on 2027-03-13"));   /* the first Saturday */
	campaign.start_second = tt_parse_time_of_day("21:00:30");
	assert_int_equal(tt_event_check(f->tt, &campaign), TT_ERR_CONFLICT);
	assert_non_null(strstr(tt_error(f->tt), "conflict on 2027-01-31"));
	/* February has no 31st: a February campaign at that time is free */
	set_dates(&campaign, "2027-02-01", "2027-02-28");
	assert_int_equal(tt_event_check(f->tt, &campaign), 0);
	/* weekdays that never meet the Saturdays */
	struct tt_event weekdays = fixture_event(f->media_id, TT_WEEKDAYS, "20:00");
	weekdays.weekdays = 0x5f;    /* all but Saturday */
	assert_int_equal(tt_event_add(f->tt, &weekdays), 0);
	/* the campaign with the colliding dates skipped */
	set_dates(&campaign, "2027-01-01", "2027-12-31");
	campaign.start_second = tt_parse_time_of_day("19:00:30");
	assert_int_equal(tt_event_skip_date(f->tt, notice.id, "2027-10-15"), 0);
	assert_int_equal(tt_event_add(f->tt, &campaign), 0);
	/* restoring the skipped date would collide now */
	assert_int_equal(tt_event_restore_date(f->tt, notice.id, "2027-10-15"), TT_ERR_CONFLICT);
	assert_int_equal(count_on(f, "2027-10-15", notice.id), 0);
	/* past dates do not count: the check starts from today */
	struct tt_event old = fixture_event(f->media_id, TT_ONCE, "08:00");
	snprintf(old.on_date, sizeof old.on_date, "2025-06-01");
	assert_int_equal(tt_event_add(f->tt, &old), 0);
	struct tt_event since = fixture_event(f->media_id, TT_DAILY, "08:00");
	set_dates(&since, "2025-01-01", NULL);
	assert_int_equal(tt_event_add(f->tt, &since), 0);
}

static void test_midnight(void **state)
{
	struct fixture *f = *state;
	struct tt_event monday = fixture_event(f->media_id, TT_WEEKDAYS, "23:59");
	monday.weekdays = 1u << 0;
	assert_int_equal(tt_event_add(f->tt, &monday), 0);
	/* Tuesday 00:00 is inside Monday's item, which ends 00:00:30 */
	struct tt_event tuesday = fixture_event(f->media_id, TT_WEEKDAYS, "00:00");
	tuesday.weekdays = 1u << 1;
	assert_int_equal(tt_event_add(f->tt, &tuesday), TT_ERR_CONFLICT);
	assert_non_null(strstr(tt_error(f->tt), "23:59:00–00:00:30"));
	tuesday.start_second = 30;
	assert_int_equal(tt_event_add(f->tt, &tuesday), 0);
	/* Monday 00:00 is a week away from the Monday before */
	struct tt_event early = fixture_event(f->media_id, TT_WEEKDAYS, "00:00");
	early.weekdays = 1u << 0;
	assert_int_equal(tt_event_add(f->tt, &early), 0);
	/* an occurrence longer than a day is refused */
	struct tt_event long_one = fixture_event(f->media_id, TT_DAILY, "10:00");
	long_one.repeat_count = 100;
	long_one.gap_seconds = 3600;
	assert_int_equal(tt_event_add(f->tt, &long_one), TT_ERR_INVALID);
	assert_non_null(strstr(tt_error(f->tt), "24 hours"));
}

static void test_programme_edits_rechecked(void **state)
{
	struct fixture *f = *state;
	int64_t ten = fixture_media(f, 10, "mười giây"), fifteen = fixture_media(f, 15, "mười lăm giây");
	int64_t programme = 0;
	assert_int_equal(tt_programme_create(f->tt, "Chuyên mục", "", &programme), 0);
	assert_int_equal(tt_programme_append(f->tt, programme, &ten, 1), 0);
	struct tt_event a = { .recurrence = TT_WEEKDAYS, .weekdays = 1u << 2, .start_second = 6 * 3600,
			      .programme_id = programme, .repeat_count = 1, .enabled = 1 };
	assert_int_equal(tt_event_add(f->tt, &a), 0);
	struct tt_event b = fixture_event(ten, TT_DAILY, "06:00:20");
	assert_int_equal(tt_event_add(f->tt, &b), 0);
	/* 10 s + 15 s would run into b on Wednesdays */
	assert_int_equal(tt_programme_append(f->tt, programme, &fifteen, 1), TT_ERR_CONFLICT);
	char expected[64];
	snprintf(expected, sizeof expected, "event %lld plays this programme", (long long)a.id);
	assert_non_null(strstr(tt_error(f->tt), expected));
	struct tt_programme p;
	assert_int_equal(tt_programme_get(f->tt, programme, &p), 0);
	assert_int_equal(p.item_count, 1);
	/* 10 s + 10 s just fits */
	assert_int_equal(tt_programme_append(f->tt, programme, &ten, 1), 0);
	assert_int_equal(tt_programme_get(f->tt, programme, &p), 0);
	assert_int_equal(p.item_count, 2);
	assert_int_equal(p.duration_ns, 20 * NS);
}

/* ---- randomised: the checker against brute force ---- */

/* A random rule inside 2026-2027 (bounded, so brute force sees it all). */
static void random_event(struct tt_event *e, int64_t media_id, int near_second)
{
	*e = (struct tt_event){ .recurrence = (enum tt_recurrence)fixture_random(4), .media_id = media_id,
				.enabled = 1 };
	int second = near_second + (int)fixture_random(1800) - 900;
	e->start_second = (second % 86400 + 86400) % 86400;
	e->repeat_count = 1 + (int)fixture_random(3);
	e->gap_seconds = (int)fixture_random(1200);
	e->weekdays = 1 + fixture_random(127);
	e->month_day = 1 + (int)fixture_random(31);
	char from[11], until[11];
	tt_add_days("2026-01-01", (int)fixture_random(600), from);
	tt_add_days(from, (int)fixture_random(130), until);
	if (e->recurrence == TT_ONCE)
		snprintf(e->on_date, sizeof e->on_date, "%s", from);
	else
		set_dates(e, from, until);
}

static void test_random_pairs_against_brute_force(void **state)
{
	struct fixture *f = *state;
	int64_t media = fixture_media(f, 600, "mười phút");
	int conflicts = 0, free_pairs = 0;
	for (int trial = 0; trial < 300; trial++) {
		/* near midnight often, to cross it */
		int near = fixture_random(3) ? 23 * 3600 + 50 * 60 : (int)fixture_random(86400);
		struct tt_event stored, candidate;
		random_event(&stored, media, near);
		random_event(&candidate, media, near);
		assert_int_equal(tt_event_add(f->tt, &stored), 0);
		if (fixture_random(2)) {
			/* skip some of the stored event's dates */
			char date[11];
			for (int i = 0; i < 30; i++) {
				tt_add_days(stored.recurrence == TT_ONCE ? stored.on_date : stored.from_date,
					    i, date);
				if (plain_occurs(&stored, date) && fixture_random(2))
					tt_event_skip_date(f->tt, stored.id, date);
			}
		}
		/* brute force: the stored event's airings, the candidate's parts, day by day */
		struct tt_airing *a = NULL;
		size_t count = 0;
		assert_int_equal(tt_airings_between(f->tt, at_ns("2025-12-31", "00:00"),
						    at_ns("2028-01-03", "00:00"), &a, &count), 0);
		int expected = 0;
		char date[11] = "2026-01-01";
		for (int d = 0; d < 740 && !expected; d++, tt_add_days(date, 1, date)) {
			if (!plain_occurs(&candidate, date))
				continue;
			int64_t start = tt_local_instant_ns(date, candidate.start_second);
			for (int r = 0; r < candidate.repeat_count && !expected; r++) {
				int64_t s = start + r * (600 + (int64_t)candidate.gap_seconds) * NS;
				for (size_t i = 0; i < count && !expected; i++)
					expected = a[i].scheduled_ns < s + 600 * NS &&
						   s < a[i].scheduled_ns + a[i].duration_ns;
			}
		}
		free(a);
		int rc = tt_event_check(f->tt, &candidate);
		if (rc != 0 && rc != TT_ERR_CONFLICT)
			fail_msg("unexpected %d: %s", rc, tt_error(f->tt));
		if ((rc == TT_ERR_CONFLICT) != expected)
			fail_msg("trial %d: checker says %s, brute force says %s (stored %d %s..%s at %d ×%d/%d,"
				 " candidate %d %s..%s at %d ×%d/%d): %s", trial, rc ? "conflict" : "free",
				 expected ? "conflict" : "free", stored.recurrence, stored.from_date,
				 stored.until_date, stored.start_second, stored.repeat_count, stored.gap_seconds,
				 candidate.recurrence, candidate.from_date, candidate.until_date,
				 candidate.start_second, candidate.repeat_count, candidate.gap_seconds,
				 tt_error(f->tt));
		conflicts += expected;
		free_pairs += !expected;
		assert_int_equal(tt_event_remove(f->tt, stored.id), 0);
	}
	/* both outcomes were exercised */
	assert_true(conflicts > 20);
	assert_true(free_pairs > 20);
}

int main(void)
{
	setenv("TZ", "Asia/Ho_Chi_Minh", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_priority_refused_and_named, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_other_priority_and_back_to_back, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_after_placement, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_long_campaigns, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_midnight, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_programme_edits_rechecked, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_random_pairs_against_brute_force, fixture_setup,
						fixture_teardown),
	};
	return cmocka_run_group_tests_name("timetable conflicts", tests, NULL, NULL);
}
