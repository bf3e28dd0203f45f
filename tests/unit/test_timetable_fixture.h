/* Shared by the timetable unit tests: a fresh database in a scratch
 * directory, with "today" pinned so conflict checks do not depend on the
 * day the tests run, and helpers to add media and events. Include after
 * <cmocka.h>. */
#ifndef LOAXA_TEST_TIMETABLE_FIXTURE_H
#define LOAXA_TEST_TIMETABLE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schedules/timetable.h"

#define NS 1000000000LL
#define TODAY "2026-01-01"

struct fixture {
	char dir[64];
	char path[128];
	struct tt *tt;
	int64_t media_id;    /* 90 s at 48 kHz, "Bản tin" */
	int media_count;
};

static inline int64_t fixture_media(struct fixture *f, double seconds, const char *title)
{
	struct tt_media m = { .rate = 48000, .channels = 1, .frames = (int64_t)(seconds * 48000) };
	snprintf(m.sha256, sizeof m.sha256, "%064d", ++f->media_count);
	snprintf(m.path, sizeof m.path, "00/%d.wav", f->media_count);
	snprintf(m.title, sizeof m.title, "%s", title);
	snprintf(m.original_name, sizeof m.original_name, "%d.wav", f->media_count);
	snprintf(m.codec, sizeof m.codec, "pcm_s16");
	int64_t id = 0;
	int existed = -1;
	assert_int_equal(tt_media_add(f->tt, &m, &id, &existed), 0);
	assert_int_equal(existed, 0);
	return id;
}

static inline int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/loaxa-unit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
	assert_int_equal(tt_open(&f->tt, f->path, TT_OPEN_CREATE), 0);
	assert_int_equal(tt_set_today(f->tt, TODAY), 0);
	f->media_id = fixture_media(f, 90, "Bản tin");
	*state = f;
	return 0;
}

static inline int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	tt_close(f->tt);
	char command[160];
	snprintf(command, sizeof command, "rm -rf '%s'", f->dir);
	assert_int_equal(system(command), 0);
	free(f);
	return 0;
}

static inline struct tt_event fixture_event(int64_t media_id, enum tt_recurrence recurrence,
					    const char *at)
{
	struct tt_event e = { .recurrence = recurrence, .media_id = media_id, .repeat_count = 1,
			      .enabled = 1 };
	e.start_second = tt_parse_time_of_day(at);
	return e;
}

static inline void set_dates(struct tt_event *e, const char *from, const char *until)
{
	snprintf(e->from_date, sizeof e->from_date, "%s", from ? from : "");
	snprintf(e->until_date, sizeof e->until_date, "%s", until ? until : "");
}

/* The airings starting on a local date (free *out). */
static inline size_t airings_on(struct fixture *f, const char *date, struct tt_airing **out)
{
	char next[11];
	tt_add_days(date, 1, next);
	size_t count = 0;
	assert_int_equal(tt_airings_between(f->tt, tt_local_instant_ns(date, 0),
					    tt_local_instant_ns(next, 0), out, &count), 0);
	return count;
}

/* How many airings start on a date; with event_id > 0, only that event's. */
static inline size_t count_on(struct fixture *f, const char *date, int64_t event_id)
{
	struct tt_airing *a = NULL;
	size_t n = airings_on(f, date, &a), count = 0;
	for (size_t i = 0; i < n; i++)
		count += event_id <= 0 || a[i].event_id == event_id;
	free(a);
	return count;
}

static inline int64_t at_ns(const char *date, const char *clock)
{
	return tt_local_instant_ns(date, tt_parse_time_of_day(clock));
}

/* A small deterministic generator (xorshift) for the randomised tests. */
static unsigned long long fixture_seed = 0x2545F4914F6CDD1DULL;
static inline unsigned fixture_random(unsigned limit)
{
	fixture_seed ^= fixture_seed << 13;
	fixture_seed ^= fixture_seed >> 7;
	fixture_seed ^= fixture_seed << 17;
	return (unsigned)(fixture_seed % limit);
}

/* The rule read plainly, date by date: the reference the randomised tests
 * compare the store's arithmetic with. */
static inline int plain_occurs(const struct tt_event *e, const char *date)
{
	if (e->from_date[0] && strcmp(date, e->from_date) < 0)
		return 0;
	if (e->until_date[0] && strcmp(date, e->until_date) > 0)
		return 0;
	switch (e->recurrence) {
	case TT_ONCE: return strcmp(date, e->on_date) == 0;
	case TT_DAILY: return 1;
	case TT_WEEKDAYS: return (int)(e->weekdays >> tt_weekday(date) & 1);
	case TT_MONTHLY: return atoi(date + 8) == e->month_day;
	}
	return 0;
}

static inline int count_one_event(void *user, const struct tt_event *e)
{
	(void)e;
	(*(int *)user)++;
	return 0;
}

static inline int event_count(struct fixture *f)
{
	int n = 0;
	assert_int_equal(tt_event_each(f->tt, count_one_event, &n), 0);
	return n;
}

static inline int count_one_audit(void *user, const struct tt_audit_entry *a)
{
	(void)a;
	(*(int *)user)++;
	return 0;
}

static inline int audit_count(struct fixture *f)
{
	int n = 0;
	assert_int_equal(tt_audit_each(f->tt, 0, count_one_audit, &n), 0);
	return n;
}

#endif
