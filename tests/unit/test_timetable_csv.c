/* Unit tests of the spreadsheet exchange: export → import → export is exact
 * (quotes, separators, line breaks, diacritics, emoji, exceptions), the
 * dialects spreadsheets write are read, and every refusal names its line,
 * says why, and changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test_timetable_fixture.h"

#define HEADER "title,at,recurrence,date,days,month_day,from,until,media,programme,priority,repeat,gap,resume,enabled,skip,move\r\n"

static char *export_text(struct tt *tt, char delimiter, int bom, const char *from, const char *until)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	struct tt_csv_options options = { .delimiter = delimiter, .bom = bom, .from_date = from,
					  .until_date = until };
	assert_int_equal(tt_export_csv(tt, out, &options), 0);
	fclose(out);
	return text;
}

static int import_text(struct tt *tt, const char *text, int replace)
{
	size_t added = 0;
	return tt_import_csv(tt, text, strlen(text), replace, "test.csv", &added);
}

/* A timetable with every awkward thing in it. */
static void fill(struct fixture *f, int64_t programme)
{
	const char *titles[] = {
		"Thông báo \"cải cách hành chính\", đợt 2; 📻",
		"  lề trái và phải  ",
		"hai\r\ndòng",
		"ba\ndòng\n",
		"",
	};
	struct tt_event e = fixture_event(f->media_id, TT_DAILY, "05:30");
	snprintf(e.title, sizeof e.title, "%s", titles[0]);
	set_dates(&e, "2026-12-01", "2027-01-31");
	e.repeat_count = 3;
	e.gap_seconds = 600;
	e.priority = TT_PRIORITY_PRIORITY;
	e.resume = TT_REJOIN;
	assert_int_equal(tt_event_add(f->tt, &e), 0);
	assert_int_equal(tt_event_skip_date(f->tt, e.id, "2026-12-24"), 0);
	assert_int_equal(tt_event_skip_date(f->tt, e.id, "2027-01-01"), 0);
	int second = tt_parse_time_of_day("06:45:30");
	assert_int_equal(tt_event_move_date(f->tt, e.id, "2026-12-25", &second, TT_PLACE_EXACT), 0);
	struct tt_event w = fixture_event(f->media_id, TT_WEEKDAYS, "17:00:05");
	w.weekdays = 0x15;
	snprintf(w.title, sizeof w.title, "%s", titles[1]);
	set_dates(&w, "2026-06-01", NULL);
	assert_int_equal(tt_event_add(f->tt, &w), 0);
	struct tt_event m = { .recurrence = TT_MONTHLY, .month_day = 31, .start_second = 20 * 3600,
			      .programme_id = programme, .repeat_count = 1, .enabled = 0,
			      .resume = TT_SKIP, .priority = TT_PRIORITY_EMERGENCY };
	snprintf(m.title, sizeof m.title, "%s", titles[2]);
	assert_int_equal(tt_event_add(f->tt, &m), 0);
	struct tt_event o = fixture_event(f->media_id, TT_ONCE, "23:59:59");
	snprintf(o.on_date, sizeof o.on_date, "2028-02-29");
	snprintf(o.title, sizeof o.title, "%s", titles[3]);
	o.resume = TT_RESTART;
	assert_int_equal(tt_event_add(f->tt, &o), 0);
	struct tt_event plain = fixture_event(f->media_id, TT_DAILY, "12:00");
	assert_int_equal(tt_event_add(f->tt, &plain), 0);
}

static int64_t make_programme(struct fixture *f)
{
	int64_t programme = 0;
	assert_int_equal(tt_programme_create(f->tt, "Thời sự, \"sáng\"; số 1", "Thời sự", &programme), 0);
	assert_int_equal(tt_programme_append(f->tt, programme, &f->media_id, 1), 0);
	return programme;
}

static void test_round_trip_exact(void **state)
{
	struct fixture *f = *state;
	fill(f, make_programme(f));
	char *first = export_text(f->tt, ',', 1, NULL, NULL);
	assert_memory_equal(first, "\xEF\xBB\xBF" HEADER, strlen(HEADER) + 3);
	assert_non_null(strstr(first, "\"Thông báo \"\"cải cách hành chính\"\", đợt 2; 📻\""));
	assert_non_null(strstr(first, "\"hai\r\ndòng\""));
	assert_non_null(strstr(first, "2026-12-24 2027-01-01,2026-12-25T06:45:30\r\n"));

	/* into a fresh database with the same library */
	struct fixture other_state = { 0 };
	struct fixture *g = &other_state;
	void *other = g;
	fixture_setup(&other);
	g = other;
	make_programme(g);
	size_t added = 0;
	assert_int_equal(tt_import_csv(g->tt, first, strlen(first), 0, "first.csv", &added), 0);
	assert_int_equal(added, 5);
	char *second = export_text(g->tt, ',', 1, NULL, NULL);
	assert_string_equal(first, second);
	/* the text itself, stored exactly */
	struct tt_event e;
	assert_int_equal(tt_event_get(g->tt, 3, &e), 0);
	assert_string_equal(e.title, "hai\r\ndòng");
	assert_int_equal(e.enabled, 0);
	assert_int_equal(e.priority, TT_PRIORITY_EMERGENCY);
	assert_int_equal(tt_event_get(g->tt, 2, &e), 0);
	assert_string_equal(e.title, "  lề trái và phải  ");
	/* semicolons and no byte order mark, read back the same */
	char *semicolon = export_text(g->tt, ';', 0, NULL, NULL);
	assert_int_equal(strncmp(semicolon, "title;at;recurrence;", 20), 0);
	assert_int_equal(import_text(g->tt, semicolon, 1), 0);
	char *third = export_text(g->tt, ',', 1, NULL, NULL);
	assert_string_equal(first, third);
	/* and over the same database with --replace */
	assert_int_equal(import_text(f->tt, first, 1), 0);
	char *fourth = export_text(f->tt, ',', 1, NULL, NULL);
	assert_string_equal(first, fourth);
	free(first);
	free(second);
	free(semicolon);
	free(third);
	free(fourth);
	fixture_teardown(&other);
}

static void test_export_range(void **state)
{
	struct fixture *f = *state;
	fill(f, make_programme(f));
	char *text = export_text(f->tt, ',', 0, "2027-02-01", "2027-12-31");
	/* the December-January campaign and the 2028 one-off are left out */
	assert_null(strstr(text, "cải cách"));
	assert_null(strstr(text, "2028-02-29"));
	assert_non_null(strstr(text, "lề trái"));
	free(text);
	struct tt_csv_options bad = { .delimiter = ',', .from_date = "2027-02-01", .until_date = "2027-01-01" };
	FILE *null = fopen("/dev/null", "w");
	assert_int_equal(tt_export_csv(f->tt, null, &bad), TT_ERR_INVALID);
	bad.delimiter = '\t';
	assert_int_equal(tt_export_csv(f->tt, null, &bad), TT_ERR_INVALID);
	fclose(null);
}

static void test_spreadsheet_dialects(void **state)
{
	struct fixture *f = *state;
	make_programme(f);
	/* LF endings, columns in another order and case, Excel's dates and
	 * times, missing trailing fields, blank rows */
	const char *text =
		"\xEF\xBB\xBF" "AT;Recurrence;Media;Title;Date;Days;From;Until;Programme\n"
		"5:30;once;1;Sáng sớm;1/12/2026\n"
		";;;;;;;;\n"
		"\n"
		"17:00:00;weekdays;1;\"Chiều; thứ hai\";;mon,FRI;01/06/2026;31/12/2026\n"
		"20:00;daily;;;;;;;Thời sự, \"sáng\"; số 1\n";
	/* the last line has an unquoted quote: refused */
	assert_int_equal(import_text(f->tt, text, 0), TT_ERR_INVALID);
	assert_non_null(strstr(tt_error(f->tt), "line 6"));
	assert_int_equal(event_count(f), 0);
	text =
		"\xEF\xBB\xBF" "AT;Recurrence;Media;Title;Date;Days;From;Until;Programme\n"
		"5:30;once;1;Sáng sớm;1/12/2026\n"
		";;;;;;;;\n"
		"\n"
		"17:00:00;weekdays;1;\"Chiều; thứ hai\";;mon,FRI;01/06/2026;31/12/2026\n"
		"20:00;daily;;;;;;;\"Thời sự, \"\"sáng\"\"; số 1\"\n";
	assert_int_equal(import_text(f->tt, text, 0), 0);
	struct tt_event e;
	assert_int_equal(tt_event_get(f->tt, 1, &e), 0);
	assert_int_equal(e.start_second, 5 * 3600 + 30 * 60);
	assert_string_equal(e.on_date, "2026-12-01");
	assert_string_equal(e.title, "Sáng sớm");
	assert_int_equal(e.repeat_count, 1);
	assert_int_equal(e.enabled, 1);
	assert_int_equal(tt_event_get(f->tt, 2, &e), 0);
	assert_string_equal(e.title, "Chiều; thứ hai");
	assert_int_equal(e.weekdays, 0x11);
	assert_string_equal(e.from_date, "2026-06-01");
	assert_string_equal(e.until_date, "2026-12-31");
	assert_int_equal(tt_event_get(f->tt, 3, &e), 0);
	assert_true(e.programme_id > 0);
	assert_int_equal(e.media_id, 0);
	/* a header alone adds nothing and is not an error */
	assert_int_equal(import_text(f->tt, HEADER, 0), 0);
	assert_int_equal(event_count(f), 3);
}

struct refusal {
	const char *rows;       /* after the header */
	const char *line;       /* "line N" */
	const char *reason;     /* a fragment of the message */
};

static void test_each_refusal_changes_nothing(void **state)
{
	struct fixture *f = *state;
	int64_t empty = 0;
	assert_int_equal(tt_programme_create(f->tt, "Trống", NULL, &empty), 0);
	struct tt_event existing = fixture_event(f->media_id, TT_DAILY, "07:00");
	assert_int_equal(tt_event_add(f->tt, &existing), 0);
	const char *good = "Tốt,09:00,daily,,,,,,1,,normal,1,0,resume,yes,,\r\n";
	const struct refusal refusals[] = {
		{ "\"không đóng,09:00,daily\r\n", "line 2", "not closed" },
		{ "\"a\"b,09:00,daily,,,,,,1\r\n", "line 2", "after a closing quote" },
		{ "a\"b,09:00,daily,,,,,,1\r\n", "line 2", "quote inside an unquoted field" },
		{ "x,09:00,daily,,,,,,1,,normal,1,0,resume,yes,,,extra\r\n", "line 2", "more fields" },
		{ "x,25:61,daily,,,,,,1\r\n", "line 2", "at: '25:61' is not a time of day" },
		{ "x,9h30,daily,,,,,,1\r\n", "line 2", "'9h30' is not a time" },
		{ "x,09:00,hourly,,,,,,1\r\n", "line 2", "recurrence: 'hourly'" },
		{ "x,09:00,once,2026-02-30,,,,,1\r\n", "line 2", "'2026-02-30' is not a real date" },
		{ "x,09:00,once,,,,,,1\r\n", "line 2", "needs its date" },
		{ "x,09:00,daily,2026-12-01,,,,,1\r\n", "line 2", "only a once event has a date" },
		{ "x,09:00,weekdays,,\"mon,xyz\",,,,1\r\n", "line 2", "not a list of weekdays" },
		{ "x,09:00,monthly,,,32,,,1\r\n", "line 2", "month_day: '32'" },
		{ "x,09:00,daily,,,,2026-12-10,2026-12-01,1\r\n", "line 2", "before --from" },
		{ "x,09:00,daily,,,,,,1,Trống\r\n", "line 2", "either a media id or a programme" },
		{ "x,09:00,daily,,,,,,,\r\n", "line 2", "either a media id or a programme" },
		{ "x,09:00,daily,,,,,,99\r\n", "line 2", "no media 99" },
		{ "x,09:00,daily,,,,,,abc\r\n", "line 2", "'abc' is not a media id" },
		{ "x,09:00,daily,,,,,,,Không có\r\n", "line 2", "no programme named \"Không có\"" },
		{ "x,09:00,daily,,,,,,,Trống\r\n", "line 2", "is empty" },
		{ "x,09:00,daily,,,,,,1,,urgent\r\n", "line 2", "priority: 'urgent'" },
		{ "x,09:00,daily,,,,,,1,,normal,0\r\n", "line 2", "repeat: '0'" },
		{ "x,09:00,daily,,,,,,1,,normal,1,-5\r\n", "line 2", "gap: '-5'" },
		{ "x,09:00,daily,,,,,,1,,normal,1,0,pause\r\n", "line 2", "resume: 'pause'" },
		{ "x,09:00,daily,,,,,,1,,normal,1,0,resume,maybe\r\n", "line 2", "enabled: 'maybe'" },
		{ "x,09:00,weekdays,,mon,,,,1,,normal,1,0,resume,yes,2027-01-05\r\n", "line 2", "does not air on 2027-01-05" },
		{ "x,09:00,daily,,,,,,1,,normal,1,0,resume,yes,,2027-01-05\r\n", "line 2", "move: '2027-01-05' is not DATE" },
		{ "x,09:00,daily,,,,,,1,,normal,1,0,resume,yes,2027-01-05,2027-01-05T10:00\r\n", "line 2", "listed twice" },
		{ "x,07:00:30,daily,,,,,,1\r\n", "line 2", "conflict on 2026-01-01: 07:00:30–07:02:00 overlaps event 1" },
		{ "x,\xff\xfe,daily,,,,,,1\r\n", "line 2", "'\xff\xfe' is not a time" },
		{ "\xc3\x28,09:00,daily,,,,,,1\r\n", "line 2", "not valid UTF-8" },
	};
	int audits = audit_count(f);
	char text[2048];
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
		/* a good row before, so all-or-nothing is tested every time */
		snprintf(text, sizeof text, "%s%s%s", HEADER, refusals[i].rows, good);
		int rc = import_text(f->tt, text, 0);
		if (rc == 0 || !strstr(tt_error(f->tt), refusals[i].line) ||
		    !strstr(tt_error(f->tt), refusals[i].reason))
			fail_msg("refusal %zu: rc %d, message '%s', wanted '%s' and '%s'", i, rc,
				 tt_error(f->tt), refusals[i].line, refusals[i].reason);
		/* now the good row first, the bad one on line 3 */
		snprintf(text, sizeof text, "%s%s%s", HEADER, good, refusals[i].rows);
		rc = import_text(f->tt, text, 0);
		if (rc == 0 || !strstr(tt_error(f->tt), "line 3"))
			fail_msg("refusal %zu (line 3): rc %d, message '%s'", i, rc, tt_error(f->tt));
		assert_int_equal(event_count(f), 1);
		assert_int_equal(audit_count(f), audits);
	}
	/* a refused replacement leaves the old timetable */
	snprintf(text, sizeof text, "%s%s%s", HEADER, good, "x,25:00,daily,,,,,,1\r\n");
	assert_int_equal(import_text(f->tt, text, 1), TT_ERR_INVALID);
	struct tt_event kept;
	assert_int_equal(tt_event_get(f->tt, existing.id, &kept), 0);
	assert_int_equal(event_count(f), 1);
	/* a conflict between two rows of the file names the other row */
	snprintf(text, sizeof text, "%s%s%s", HEADER, good, "y,09:01,once,2026-05-05,,,,,1\r\n");
	assert_int_equal(import_text(f->tt, text, 0), TT_ERR_CONFLICT);
	assert_non_null(strstr(tt_error(f->tt), "line 3: conflict on 2026-05-05"));
	assert_non_null(strstr(tt_error(f->tt), "the row on line 2"));
	/* the header */
	const struct refusal headers[] = {
		{ "title,at,colour\r\n", "line 1", "unknown column 'colour'" },
		{ "title,at,at,recurrence,media\r\n", "line 1", "'at' appears twice" },
		{ "title,recurrence,media\r\n", "line 1", "at least the columns" },
		{ "", "", "empty" },
		{ "\r\n\r\n", "", "empty" },
	};
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		assert_int_equal(import_text(f->tt, headers[i].rows, 0), TT_ERR_INVALID);
		assert_non_null(strstr(tt_error(f->tt), headers[i].line));
		assert_non_null(strstr(tt_error(f->tt), headers[i].reason));
	}
	size_t added = 0;
	assert_int_equal(tt_import_csv(f->tt, "title\0at", 8, 0, NULL, &added), TT_ERR_INVALID);
	assert_non_null(strstr(tt_error(f->tt), "NUL"));
	assert_int_equal(event_count(f), 1);
	assert_int_equal(audit_count(f), audits);
	/* a good file: one transaction, one audit row per event and one for the file */
	snprintf(text, sizeof text, "%s%s", HEADER, good);
	assert_int_equal(import_text(f->tt, text, 0), 0);
	assert_int_equal(event_count(f), 2);
	assert_int_equal(audit_count(f), audits + 2);
}

int main(void)
{
	setenv("TZ", "Asia/Ho_Chi_Minh", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_exact, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_export_range, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_spreadsheet_dialects, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_each_refusal_changes_nothing, fixture_setup,
						fixture_teardown),
	};
	return cmocka_run_group_tests_name("timetable CSV", tests, NULL, NULL);
}
