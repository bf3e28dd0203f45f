/* Unit tests of recurrence and resolution: month and year ends, leap days,
 * weekday sets, date ranges, skipped and moved dates, programmes, repeats,
 * the rundown; and a randomised cross-check against a plain day-by-day
 * reading of the rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test_timetable_fixture.h"

static void test_daily_across_year_end(void **state)
{
	struct fixture *f = *state;
	struct tt_event e = fixture_event(f->media_id, TT_DAILY, "05:30");
	set_dates(&e, "2026-12-30", "2027-01-02");
	assert_int_equal(tt_event_add(f->tt, &e), 0);
	assert_int_equal(count_on(f, "2026-12-29", 0), 0);
	const char *days[] = { "2026-12-30", "2026-12-31", "2027-01-01", "2027-01-02" };
	for (int i = 0; i < 4; i++) {
		struct tt_airing *a = NULL;
		assert_int_equal(airings_on(f, days[i], &a), 1);
		assert_string_equal(a[0].occurrence_date, days[i]);
		assert_int_equal(a[0].scheduled_ns, at_ns(days[i], "05:30"));
		assert_int_equal(a[0].duration_ns, 90 * NS);
		free(a);
	}
	assert_int_equal(count_on(f, "2027-01-03", 0), 0);
}

static void test_weekday_sets(void **state)
{
	struct fixture *f = *state;
	struct tt_event e = fixture_event(f->media_id, TT_WEEKDAYS, "17:00");
	assert_int_equal(tt_weekdays_parse("mon,wed,fri", &e.weekdays), 0);
	set_dates(&e, "2026-11-25", "2026-12-08");   /* a Wednesday to a Tuesday, over a month end */
	assert_int_equal(tt_event_add(f->tt, &e), 0);
	struct tt_event weekend = fixture_event(f->media_id, TT_WEEKDAYS, "08:00");
	assert_int_equal(tt_weekdays_parse("sat,sun", &weekend.weekdays), 0);
	assert_int_equal(tt_event_add(f->tt, &weekend), 0);
	int total = 0, weekend_total = 0;
	char date[11] = "2026-11-23";
	for (int i = 0; i < 21; i++, tt_add_days(date, 1, date)) {
		int weekday = tt_weekday(date);
		size_t n = count_on(f, date, e.id);
		int expected = (weekday == 0 || weekday == 2 || weekday == 4) &&
			       strcmp(date, "2026-11-25") >= 0 && strcmp(date, "2026-12-08") <= 0;
		assert_int_equal(n, expected);
		total += (int)n;
		size_t w = count_on(f, date, weekend.id);
		assert_int_equal(w, weekday >= 5);
		weekend_total += (int)w;
	}
	assert_int_equal(total, 6);           /* 25, 27, 30 Nov; 2, 4 Dec; and 7 Dec */
	assert_int_equal(weekend_total, 6);
	/* bad sets are refused */
	unsigned mask;
	assert_int_equal(tt_weekdays_parse("mon,funday", &mask), -1);
	assert_int_equal(tt_weekdays_parse("", &mask), -1);
	assert_int_equal(tt_weekdays_parse("mon,", &mask), -1);
	char text[40];
	tt_weekdays_format(0x41, text, sizeof text);
	assert_string_equal(text, "mon,sun");
}

static void test_monthly_month_ends_and_leap_days(void **state)
{
	struct fixture *f = *state;
	struct tt_event last = fixture_event(f->media_id, TT_MONTHLY, "12:00");
	last.month_day = 31;
	assert_int_equal(tt_event_add(f->tt, &last), 0);
	struct tt_event leap = fixture_event(f->media_id, TT_MONTHLY, "13:00");
	leap.month_day = 29;
	assert_int_equal(tt_event_add(f->tt, &leap), 0);
	/* the 31st: seven months of 2027 */
	int months = 0;
	char date[11] = "2027-01-01";
	for (int i = 0; i < 365; i++, tt_add_days(date, 1, date))
		months += (int)count_on(f, date, last.id);
	assert_int_equal(months, 7);
	assert_int_equal(count_on(f, "2027-04-30", last.id), 0);
	assert_int_equal(count_on(f, "2027-12-31", last.id), 1);
	/* the 29th: not in February 2027 or 2100, in February 2028 and 2400 */
	assert_int_equal(count_on(f, "2027-02-28", leap.id), 0);
	assert_int_equal(count_on(f, "2027-03-01", leap.id), 0);
	assert_int_equal(count_on(f, "2028-02-29", leap.id), 1);
	assert_int_equal(count_on(f, "2100-02-28", leap.id), 0);
	assert_int_equal(count_on(f, "2100-03-01", leap.id), 0);
	struct tt_airing *a = NULL;
	assert_int_equal(airings_on(f, "2028-02-29", &a), 1);
	assert_int_equal(a[0].scheduled_ns, at_ns("2028-02-29", "13:00"));
	free(a);
	/* a one-off on a leap day; the day that does not exist is refused */
	struct tt_event once = fixture_event(f->media_id, TT_ONCE, "09:00");
	snprintf(once.on_date, sizeof once.on_date, "2028-02-29");
	assert_int_equal(tt_event_add(f->tt, &once), 0);
	assert_int_equal(count_on(f, "2028-02-29", once.id), 1);
	snprintf(once.on_date, sizeof once.on_date, "2027-02-29");
	assert_int_equal(tt_event_add(f->tt, &once), TT_ERR_INVALID);
	assert_non_null(strstr(tt_error(f->tt), "2027-02-29"));
	/* daily across the leap day */
	struct tt_event daily = fixture_event(f->media_id, TT_DAILY, "10:00");
	set_dates(&daily, "2028-02-28", "2028-03-01");
	assert_int_equal(tt_event_add(f->tt, &daily), 0);
	for (const char *d = "2028-02-28"; strcmp(d, "2028-03-02") < 0;) {
		assert_int_equal(count_on(f, d, daily.id), 1);
		tt_add_days(d, 1, date);
		d = date;
	}
	assert_int_equal(count_on(f, "2028-03-02", daily.id), 0);
}

static void test_range_bounds(void **state)
{
	struct fixture *f = *state;
	struct tt_event e = fixture_event(f->media_id, TT_DAILY, "23:59:59");
	set_dates(&e, "2027-01-31", "2027-01-31");      /* a one-day range */
	assert_int_equal(tt_event_add(f->tt, &e), 0);
	assert_int_equal(count_on(f, "2027-01-30", e.id), 0);
	assert_int_equal(count_on(f, "2027-01-31", e.id), 1);
	assert_int_equal(count_on(f, "2027-02-01", e.id), 0);
	/* a once event outside its own range, and a range backwards */
	struct tt_event once = fixture_event(f->media_id, TT_ONCE, "09:00");
	snprintf(once.on_date, sizeof once.on_date, "2027-03-01");
	set_dates(&once, "2027-03-02", NULL);
	assert_int_equal(tt_event_add(f->tt, &once), TT_ERR_INVALID);
	struct tt_event back = fixture_event(f->media_id, TT_DAILY, "09:00");
	set_dates(&back, "2027-03-02", "2027-03-01");
	assert_int_equal(tt_event_add(f->tt, &back), TT_ERR_INVALID);
	assert_non_null(strstr(tt_error(f->tt), "before --from"));
	assert_int_equal(event_count(f), 1);
}

static void test_skip_move_restore(void **state)
{
	struct fixture *f = *state;
	struct tt_event e = fixture_event(f->media_id, TT_DAILY, "05:30");
	set_dates(&e, "2026-12-01", "2027-01-31");
	assert_int_equal(tt_event_add(f->tt, &e), 0);
	assert_int_equal(tt_event_skip_date(f->tt, e.id, "2026-12-24"), 0);
	assert_int_equal(count_on(f, "2026-12-24", e.id), 0);
	assert_int_equal(count_on(f, "2026-12-23", e.id), 1);
	/* a date the event does not air on, a date that does not exist, no event */
	assert_int_equal(tt_event_skip_date(f->tt, e.id, "2027-02-01"), TT_ERR_INVALID);
	assert_non_null(strstr(tt_error(f->tt), "does not air on 2027-02-01"));
	assert_int_equal(tt_event_skip_date(f->tt, e.id, "2026-12-32"), TT_ERR_INVALID);
	assert_int_equal(tt_event_skip_date(f->tt, 999, "2026-12-24"), TT_ERR_NOT_FOUND);

	/* moved: the same date, another time */
	int second = tt_parse_time_of_day("06:15");
	assert_int_equal(tt_event_move_date(f->tt, e.id, "2026-12-25", &second, TT_PLACE_EXACT), 0);
	struct tt_airing *a = NULL;
	assert_int_equal(airings_on(f, "2026-12-25", &a), 1);
	assert_int_equal(a[0].scheduled_ns, at_ns("2026-12-25", "06:15"));
	assert_true(a[0].moved);
	assert_string_equal(a[0].occurrence_date, "2026-12-25");
	free(a);
	assert_int_equal(airings_on(f, "2026-12-26", &a), 1);
	assert_int_equal(a[0].scheduled_ns, at_ns("2026-12-26", "05:30"));
	assert_false(a[0].moved);
	free(a);
	/* moved late, with repeats that run past midnight: they belong to the 31st */
	second = tt_parse_time_of_day("23:58");
	struct tt_event campaign = fixture_event(f->media_id, TT_DAILY, "21:00");
	campaign.repeat_count = 3;
	campaign.gap_seconds = 30;
	set_dates(&campaign, "2026-12-30", "2027-01-01");
	assert_int_equal(tt_event_add(f->tt, &campaign), 0);
	assert_int_equal(tt_event_move_date(f->tt, campaign.id, "2026-12-31", &second, TT_PLACE_EXACT), 0);
	assert_int_equal(count_on(f, "2026-12-31", campaign.id), 1);     /* 23:58:00 */
	assert_int_equal(airings_on(f, "2027-01-01", &a), 6);   /* 2 after midnight, 3 at 21:00, and e */
	int after_midnight = 0;
	for (int i = 0; i < 6; i++)
		if (a[i].event_id == campaign.id && strcmp(a[i].occurrence_date, "2026-12-31") == 0) {
			after_midnight++;
			assert_true(a[i].moved);
			assert_int_equal(a[i].scheduled_ns, at_ns("2026-12-31", "23:58") + a[i].part * 120 * NS);
		}
	assert_int_equal(after_midnight, 2);
	free(a);
	/* a move to an impossible time */
	second = 86400;
	assert_int_equal(tt_event_move_date(f->tt, e.id, "2026-12-27", &second, TT_PLACE_EXACT),
			 TT_ERR_INVALID);
	/* skipping a moved date, then restoring it brings back its usual time */
	assert_int_equal(tt_event_skip_date(f->tt, e.id, "2026-12-25"), 0);
	assert_int_equal(count_on(f, "2026-12-25", e.id), 0);
	assert_int_equal(tt_event_restore_date(f->tt, e.id, "2026-12-25"), 0);
	assert_int_equal(airings_on(f, "2026-12-25", &a), 1);
	assert_int_equal(a[0].scheduled_ns, at_ns("2026-12-25", "05:30"));
	free(a);
	assert_int_equal(tt_event_restore_date(f->tt, e.id, "2026-12-25"), TT_ERR_NOT_FOUND);
}

struct exceptions_seen {
	int count;
	struct tt_exception items[8];
};

static int collect_exception(void *user, const struct tt_exception *x)
{
	struct exceptions_seen *s = user;
	if (s->count < 8)
		s->items[s->count] = *x;
	s->count++;
	return 0;
}

static void test_exception_listing(void **state)
{
	struct fixture *f = *state;
	struct tt_event e = fixture_event(f->media_id, TT_WEEKDAYS, "07:00");
	e.weekdays = 1u << 0;   /* Mondays */
	assert_int_equal(tt_event_add(f->tt, &e), 0);
	int second = tt_parse_time_of_day("07:30:15");
	assert_int_equal(tt_event_move_date(f->tt, e.id, "2027-01-11", &second, TT_PLACE_EXACT), 0);
	assert_int_equal(tt_event_skip_date(f->tt, e.id, "2027-01-04"), 0);
	assert_int_equal(tt_event_skip_date(f->tt, e.id, "2027-01-05"), TT_ERR_INVALID);  /* a Tuesday */
	struct exceptions_seen seen = { 0 };
	assert_int_equal(tt_exception_each(f->tt, e.id, collect_exception, &seen), 0);
	assert_int_equal(seen.count, 2);
	assert_string_equal(seen.items[0].date, "2027-01-04");
	assert_int_equal(seen.items[0].moved_second, -1);
	assert_string_equal(seen.items[1].date, "2027-01-11");
	assert_int_equal(seen.items[1].moved_second, 7 * 3600 + 30 * 60 + 15);
	/* removing the event removes its exceptions */
	assert_int_equal(tt_event_remove(f->tt, e.id), 0);
	seen.count = 0;
	assert_int_equal(tt_exception_each(f->tt, 0, collect_exception, &seen), 0);
	assert_int_equal(seen.count, 0);
}

static void test_programme_resolution(void **state)
{
	struct fixture *f = *state;
	int64_t items[3] = { fixture_media(f, 10, "Tin trong nước"), fixture_media(f, 20.5, "Tin địa phương"),
			     fixture_media(f, 5, "Thời tiết") };
	int64_t programme = 0;
	assert_int_equal(tt_programme_create(f->tt, "Thời sự \"sáng\"", "Thời sự", &programme), 0);
	assert_int_equal(tt_programme_append(f->tt, programme, items, 3), 0);
	struct tt_programme p;
	assert_int_equal(tt_programme_find(f->tt, "Thời sự \"sáng\"", &p), 0);
	assert_int_equal(p.item_count, 3);
	assert_int_equal(p.duration_ns, 35500000000LL);
	assert_string_equal(p.category, "Thời sự");
	struct tt_event e = { .recurrence = TT_ONCE, .start_second = 6 * 3600, .programme_id = programme,
			      .repeat_count = 2, .gap_seconds = 60, .enabled = 1 };
	snprintf(e.on_date, sizeof e.on_date, "2027-05-01");
	assert_int_equal(tt_event_add(f->tt, &e), 0);
	struct tt_airing *a = NULL;
	assert_int_equal(airings_on(f, "2027-05-01", &a), 6);
	int64_t start = at_ns("2027-05-01", "06:00");
	int64_t offsets[6] = { 0, 10000, 30500, 35500 + 60000, 35500 + 60000 + 10000, 35500 + 60000 + 30500 };
	for (int i = 0; i < 6; i++) {
		assert_int_equal(a[i].part, i);
		assert_int_equal(a[i].repeat, i / 3);
		assert_int_equal(a[i].item, i % 3);
		assert_int_equal(a[i].item_count, 3);
		assert_int_equal(a[i].repeat_count, 2);
		assert_int_equal(a[i].programme_id, programme);
		assert_int_equal(a[i].media_id, items[i % 3]);
		assert_int_equal(a[i].scheduled_ns, start + offsets[i] * 1000000LL);
		assert_string_equal(a[i].title, "Thời sự \"sáng\"");
	}
	assert_string_equal(a[1].item_title, "Tin địa phương");
	free(a);
	/* an empty programme cannot be scheduled; one in use cannot be emptied or removed */
	int64_t empty = 0;
	assert_int_equal(tt_programme_create(f->tt, "Trống", NULL, &empty), 0);
	struct tt_event none = { .recurrence = TT_DAILY, .start_second = 3600, .programme_id = empty,
				 .repeat_count = 1, .enabled = 1 };
	assert_int_equal(tt_event_add(f->tt, &none), TT_ERR_INVALID);
	assert_non_null(strstr(tt_error(f->tt), "empty"));
	assert_int_equal(tt_programme_remove(f->tt, programme), TT_ERR_IN_USE);
	assert_int_equal(tt_programme_create(f->tt, "Thời sự \"sáng\"", NULL, &empty), TT_ERR_INVALID);
	assert_int_equal(tt_programme_create(f->tt, "", NULL, &empty), TT_ERR_INVALID);
	assert_int_equal(tt_programme_append(f->tt, programme, (int64_t[]){ 4242 }, 1), TT_ERR_NOT_FOUND);
	assert_int_equal(tt_programme_find(f->tt, "Thời sự \"sáng\"", &p), 0);
	assert_int_equal(p.item_count, 3);
	/* removing an item renumbers the rest */
	assert_int_equal(tt_programme_remove_item(f->tt, programme, 2), 0);
	struct tt_programme_item *list = NULL;
	size_t count = 0;
	assert_int_equal(tt_programme_items(f->tt, programme, &list, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(list[0].position, 1);
	assert_int_equal(list[1].position, 2);
	assert_int_equal(list[1].media_id, items[2]);
	free(list);
	assert_int_equal(tt_programme_remove_item(f->tt, programme, 3), TT_ERR_INVALID);
	assert_int_equal(tt_programme_remove_item(f->tt, programme, 1), 0);
	assert_int_equal(tt_programme_remove_item(f->tt, programme, 1), TT_ERR_IN_USE);
	assert_int_equal(tt_event_remove(f->tt, e.id), 0);
	assert_int_equal(tt_programme_remove(f->tt, programme), 0);
	assert_int_equal(tt_programme_find(f->tt, "Thời sự \"sáng\"", &p), TT_ERR_NOT_FOUND);
}

static void test_range_query_order(void **state)
{
	struct fixture *f = *state;
	int64_t short_media = fixture_media(f, 10, "Ngắn");
	struct tt_event normal = fixture_event(short_media, TT_DAILY, "12:00");
	struct tt_event urgent = fixture_event(short_media, TT_DAILY, "12:00");
	urgent.priority = TT_PRIORITY_EMERGENCY;
	assert_int_equal(tt_event_add(f->tt, &normal), 0);
	assert_int_equal(tt_event_add(f->tt, &urgent), 0);
	struct tt_airing *a = NULL;
	size_t count = 0;
	assert_int_equal(tt_airings_between(f->tt, at_ns("2026-12-31", "00:00"), at_ns("2027-01-03", "00:00"),
					    &a, &count), 0);
	assert_int_equal(count, 6);
	for (size_t i = 0; i < count; i++) {
		if (i)
			assert_true(a[i].scheduled_ns >= a[i - 1].scheduled_ns);
		/* at the same instant, the higher priority comes first */
		assert_int_equal(a[i].event_id, i % 2 == 0 ? urgent.id : normal.id);
	}
	free(a);
	/* an empty or backwards window */
	assert_int_equal(tt_airings_between(f->tt, 10, 10, &a, &count), 0);
	assert_int_equal(count, 0);
	/* disabled: nothing; enabled again: back */
	assert_int_equal(tt_event_set_enabled(f->tt, normal.id, 0), 0);
	assert_int_equal(count_on(f, "2027-01-01", normal.id), 0);
	assert_int_equal(tt_event_set_enabled(f->tt, normal.id, 1), 0);
	assert_int_equal(count_on(f, "2027-01-01", normal.id), 1);
}

static void test_rundown(void **state)
{
	struct fixture *f = *state;
	int64_t ten = fixture_media(f, 600, "Mười phút"), alert = fixture_media(f, 60, "Báo bão 🌀");
	struct tt_event morning = fixture_event(ten, TT_DAILY, "05:30");
	struct tt_event noon = fixture_event(ten, TT_DAILY, "13:00");
	struct tt_event evening = fixture_event(ten, TT_DAILY, "17:00");
	struct tt_event storm = fixture_event(alert, TT_ONCE, "05:35");
	storm.priority = TT_PRIORITY_EMERGENCY;
	snprintf(storm.on_date, sizeof storm.on_date, "2027-08-01");
	assert_int_equal(tt_event_add(f->tt, &morning), 0);
	assert_int_equal(tt_event_add(f->tt, &noon), 0);
	assert_int_equal(tt_event_add(f->tt, &evening), 0);
	assert_int_equal(tt_event_add(f->tt, &storm), 0);    /* another priority: accepted */
	struct tt_rundown r;
	assert_int_equal(tt_rundown(f->tt, "2027-08-01", &r), 0);
	assert_string_equal(r.date, "2027-08-01");
	assert_int_equal(r.count, 4);
	assert_int_equal(r.preemption_count, 1);
	assert_int_equal(r.airings[r.preemptions[0].lower].event_id, morning.id);
	assert_int_equal(r.airings[r.preemptions[0].higher].event_id, storm.id);
	assert_int_equal(r.preemptions[0].from_ns, at_ns("2027-08-01", "05:35"));
	assert_int_equal(r.preemptions[0].until_ns, at_ns("2027-08-01", "05:36"));
	/* the storm warning falls inside the morning item: counted once */
	assert_int_equal(r.session_airtime_ns[TT_MORNING], 600 * NS);
	assert_int_equal(r.session_airtime_ns[TT_AFTERNOON], 600 * NS);
	assert_int_equal(r.session_airtime_ns[TT_EVENING], 600 * NS);
	assert_int_equal(r.total_airtime_ns, 1800 * NS);
	tt_rundown_free(&r);
	assert_int_equal(tt_rundown(f->tt, "2027-02-30", &r), TT_ERR_INVALID);
	assert_int_equal(tt_session_of(11 * 3600 + 3599), TT_MORNING);
	assert_int_equal(tt_session_of(12 * 3600), TT_AFTERNOON);
	assert_int_equal(tt_session_of(17 * 3600), TT_EVENING);
	assert_string_equal(tt_session_name(TT_EVENING), "evening");
}

/* ---- randomised: the resolver against a plain reading of the rules ---- */

struct plain_rule {
	struct tt_event e;
	char skip[4][11];
	char move[2][11];
	int move_second[2];
};

static void random_date(char out[11])
{
	tt_add_days("2027-01-01", (int)fixture_random(800), out);
}

static void test_random_rules_against_plain_reading(void **state)
{
	struct fixture *f = *state;
	fixture_seed = 88172645463325252ULL;
	int64_t one_second = fixture_media(f, 1, "một giây");
	enum { RULES = 120 };
	struct plain_rule *rules = calloc(RULES, sizeof *rules);
	for (int k = 0; k < RULES; k++) {
		struct plain_rule *p = &rules[k];
		/* slots 10 s apart: nothing collides; moves go after 03:00 */
		p->e = fixture_event(one_second, (enum tt_recurrence)fixture_random(4), "00:00");
		p->e.start_second = k * 10;
		if (p->e.recurrence == TT_ONCE)
			random_date(p->e.on_date);
		p->e.weekdays = 1 + fixture_random(127);
		p->e.month_day = 1 + (int)fixture_random(31);
		if (p->e.recurrence != TT_ONCE && fixture_random(3)) {
			char from[11], until[11];
			random_date(from);
			tt_add_days(from, (int)fixture_random(400), until);
			set_dates(&p->e, fixture_random(4) ? from : NULL, fixture_random(4) ? until : NULL);
		}
		assert_int_equal(tt_event_add(f->tt, &p->e), 0);
		/* some skipped and moved dates, on days it airs */
		for (int s = 0, tries = 0; s < 4 && tries < 40; tries++) {
			char date[11];
			random_date(date);
			if (!plain_occurs(&p->e, date) || fixture_random(3))
				continue;
			if (s < 2 && fixture_random(2)) {
				p->move_second[s] = 3 * 3600 + k * 10;
				int second = p->move_second[s];
				if (tt_event_move_date(f->tt, p->e.id, date, &second, TT_PLACE_EXACT) == 0) {
					snprintf(p->move[s], 11, "%s", date);
					s++;
				}
			} else if (tt_event_skip_date(f->tt, p->e.id, date) == 0) {
				int free_slot = 0;
				while (free_slot < 4 && p->skip[free_slot][0])
					free_slot++;
				if (free_slot < 4)
					snprintf(p->skip[free_slot], 11, "%s", date);
				s++;
			}
		}
	}
	/* every day of 2027 and 2028 (a leap year), read both ways */
	char date[11] = "2027-01-01";
	int checked = 0;
	for (int d = 0; d < 731; d++, tt_add_days(date, 1, date)) {
		struct tt_airing *a = NULL;
		size_t n = airings_on(f, date, &a);
		size_t expected = 0;
		for (int k = 0; k < RULES; k++) {
			struct plain_rule *p = &rules[k];
			if (!plain_occurs(&p->e, date))
				continue;
			int skipped = 0, moved = -1;
			for (int s = 0; s < 4; s++)
				skipped |= strcmp(p->skip[s], date) == 0;
			for (int s = 0; s < 2; s++)
				if (strcmp(p->move[s], date) == 0)
					moved = p->move_second[s];
			if (skipped)
				continue;
			expected++;
			int found = 0;
			for (size_t i = 0; i < n; i++)
				if (a[i].event_id == p->e.id) {
					found++;
					assert_int_equal(a[i].scheduled_ns,
							 tt_local_instant_ns(date, moved >= 0 ? moved : p->e.start_second));
					assert_int_equal(a[i].moved, moved >= 0);
				}
			assert_int_equal(found, 1);
			checked++;
		}
		assert_int_equal(n, expected);
		free(a);
	}
	assert_true(checked > 1000);
	free(rules);
}

int main(void)
{
	setenv("TZ", "Asia/Ho_Chi_Minh", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_daily_across_year_end, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_weekday_sets, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_monthly_month_ends_and_leap_days, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_range_bounds, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_skip_move_restore, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_exception_listing, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_programme_resolution, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_range_query_order, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_rundown, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_random_rules_against_plain_reading, fixture_setup,
						fixture_teardown),
	};
	return cmocka_run_group_tests_name("timetable resolution", tests, NULL, NULL);
}
