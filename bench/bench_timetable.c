/* bench_timetable: a year's timetable of 10 000 events (one-off notices,
 * daily campaigns between two dates, weekday and monthly programmes, some
 * skipped and moved dates) in a temporary database; times
 *   - a day's rundown (tt_airings_between over one day), target < 5 ms,
 *     against the baseline "event by event": every event read and tested
 *     for the day, its exceptions and items queried one event at a time
 *     (the first implementation);
 *   - a conflict check for a daily event over the year (tt_event_check),
 *     target < 50 ms, against the baseline "day by day": the 365 days
 *     resolved one by one and the new event's time compared with each.
 * The timetable is built by CSV import (one transaction, every row checked
 * for conflicts), which is timed too. Prints the figures; exits 0.
 * BENCH_KEEP=1 keeps the database for a look with sqlite3. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "schedules/timetable.h"

#define NS 1000000000LL
#define EVENTS 10000
#define SLOT_SECONDS 8          /* each event owns one slot of the day: no collisions */
#define MOVE_ZONE 80000         /* moved dates go to free slots from here */
#define FREE_SECOND 85000       /* nothing is scheduled here */
#define RUNS 25

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;
static unsigned next_random(unsigned limit)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % limit);
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *values, int n)
{
	qsort(values, (size_t)n, sizeof *values, compare_doubles);
	return values[n / 2];
}

static void die(struct tt *tt, const char *what)
{
	fprintf(stderr, "bench_timetable: %s: %s\n", what, tt_error(tt));
	exit(1);
}

static int64_t add_media(struct tt *tt, int seconds, int n)
{
	struct tt_media m = { .rate = 48000, .channels = 1, .frames = (int64_t)seconds * 48000 };
	snprintf(m.sha256, sizeof m.sha256, "%064d", n);
	snprintf(m.path, sizeof m.path, "%02d/m%d.wav", n, n);
	snprintf(m.title, sizeof m.title, "Thông báo %d", n);
	snprintf(m.codec, sizeof m.codec, "pcm_s16");
	int64_t id = 0;
	int existed = 0;
	if (tt_media_add(tt, &m, &id, &existed) < 0)
		die(tt, "adding media");
	return id;
}

struct counts {
	int once, daily, weekdays, monthly, programme, skips, moves;
};

/* The timetable as CSV text: event k starts at slot k. */
static char *build_csv(int64_t media_id, struct counts *c)
{
	size_t capacity = (size_t)EVENTS * 200 + 4096, used = 0;
	char *text = malloc(capacity);
	used += (size_t)snprintf(text, capacity, "title,at,recurrence,date,days,month_day,from,until,"
				 "media,programme,priority,repeat,gap,resume,enabled,skip,move\r\n");
	static const char *const day_names[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
	static const char *const priorities[] = { "normal", "priority", "emergency" };
	int move_slot = 0;
	for (int k = 0; k < EVENTS; k++) {
		int second = k * SLOT_SECONDS;
		char at[16], dates[64] = "", extra[160] = "", skip[64] = "", move[64] = "";
		snprintf(at, sizeof at, "%02d:%02d:%02d", second / 3600, second / 60 % 60, second % 60);
		unsigned kind = next_random(100);
		int first_day = 1 + (int)next_random(200), length = 7 + (int)next_random(150);
		char from[11], until[11];
		struct tm tm_from = { .tm_year = 127, .tm_mon = 0, .tm_mday = first_day, .tm_hour = 12 };
		struct tm tm_until = tm_from;
		tm_until.tm_mday += length;
		mktime(&tm_from);
		mktime(&tm_until);
		strftime(from, sizeof from, "%Y-%m-%d", &tm_from);
		strftime(until, sizeof until, "%Y-%m-%d", &tm_until);
		const char *recurrence;
		if (kind < 60) {
			recurrence = "once";
			snprintf(dates, sizeof dates, "%s,,,,", from);
			c->once++;
		} else if (kind < 75) {
			recurrence = "daily";
			snprintf(dates, sizeof dates, ",,,%s,%s", from, until);
			c->daily++;
		} else if (kind < 90) {
			recurrence = "weekdays";
			unsigned mask = 1 + next_random(127);
			char days[40] = "";
			for (int d = 0; d < 7; d++)
				if (mask >> d & 1)
					snprintf(days + strlen(days), sizeof days - strlen(days), "%s%s",
						 days[0] ? "," : "", day_names[d]);
			snprintf(dates, sizeof dates, ",\"%s\",,%s,%s", days, from,
				 next_random(2) ? until : "");
			c->weekdays++;
		} else {
			recurrence = "monthly";
			snprintf(dates, sizeof dates, ",,%u,%s,", 1 + next_random(31),
				 next_random(2) ? "2027-01-01" : "");
			c->monthly++;
		}
		const char *plays = k % 20 == 0 ? ",Bản tin" : "";
		if (k % 20 == 0)
			c->programme++;
		/* daily campaigns: some dates skipped, some moved to a free slot */
		if (kind >= 60 && kind < 75 && k % 3 == 0) {
			snprintf(skip, sizeof skip, "%s", from);
			c->skips++;
			if (move_slot < (FREE_SECOND - MOVE_ZONE) / SLOT_SECONDS - 1) {
				int moved = MOVE_ZONE + SLOT_SECONDS * move_slot++;
				struct tm tm_moved = tm_from;
				tm_moved.tm_mday += 1;
				mktime(&tm_moved);
				char day[11];
				strftime(day, sizeof day, "%Y-%m-%d", &tm_moved);
				snprintf(move, sizeof move, "%sT%02d:%02d:%02d", day, moved / 3600,
					 moved / 60 % 60, moved % 60);
				c->moves++;
			}
		}
		if (!plays[0])
			snprintf(extra, sizeof extra, "%" PRId64 ",,%s,1,0,resume,yes,%s,%s", media_id,
				 priorities[next_random(3)], skip, move);
		else
			snprintf(extra, sizeof extra, ",Bản tin,%s,1,0,resume,yes,%s,%s",
				 priorities[next_random(3)], skip, move);
		if (used + 512 > capacity) {
			capacity *= 2;
			text = realloc(text, capacity);
		}
		used += (size_t)snprintf(text + used, capacity - used, "Sự kiện %d,%s,%s,%s,%s\r\n", k, at,
					 recurrence, dates, extra);
	}
	return text;
}

/* The first implementation's way: every event, tested for the day, its
 * items read one event at a time. */
struct naive {
	struct tt *tt;
	const char *date;
	int weekday, month_day, skipped;
	size_t airings;
};

static int naive_skip(void *user, const struct tt_exception *x)
{
	struct naive *n = user;
	if (x->moved_second < 0 && strcmp(x->date, n->date) == 0)
		n->skipped = 1;
	return 0;
}

static int naive_event(void *user, const struct tt_event *e)
{
	struct naive *n = user;
	if (!e->enabled || (e->from_date[0] && strcmp(n->date, e->from_date) < 0) ||
	    (e->until_date[0] && strcmp(n->date, e->until_date) > 0))
		return 0;
	int occurs = e->recurrence == TT_ONCE ? strcmp(n->date, e->on_date) == 0
		   : e->recurrence == TT_DAILY ? 1
		   : e->recurrence == TT_WEEKDAYS ? (int)(e->weekdays >> n->weekday & 1)
		   : e->month_day == n->month_day;
	if (!occurs)
		return 0;
	/* its exceptions, one query per event as the first implementation did */
	n->skipped = 0;
	if (tt_exception_each(n->tt, e->id, naive_skip, n) < 0 || n->skipped)
		return 0;
	if (e->media_id > 0) {
		struct tt_media m;
		if (tt_media_get(n->tt, e->media_id, &m) == 0)
			n->airings++;
	} else {
		struct tt_programme_item *items = NULL;
		size_t count = 0;
		if (tt_programme_items(n->tt, e->programme_id, &items, &count) == 0)
			n->airings += count;
		free(items);
	}
	return 0;
}

int main(void)
{
	setenv("TZ", "Asia/Ho_Chi_Minh", 1);
	char dir[] = "/tmp/loaxa-bench-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	char path[128];
	snprintf(path, sizeof path, "%s/bench.db", dir);
	struct tt *tt = NULL;
	if (tt_open(&tt, path, TT_OPEN_CREATE) < 0)
		die(tt, "opening");
	tt_set_today(tt, "2027-01-01");
	int64_t media = add_media(tt, 5, 1);
	int64_t parts[3] = { add_media(tt, 2, 2), add_media(tt, 2, 3), add_media(tt, 3, 4) };
	int64_t programme = 0;
	if (tt_programme_create(tt, "Bản tin", "Thời sự", &programme) < 0 ||
	    tt_programme_append(tt, programme, parts, 3) < 0)
		die(tt, "creating the programme");

	struct counts c = { 0 };
	char *csv = build_csv(media, &c);
	size_t added = 0;
	double t0 = now_ms();
	if (tt_import_csv(tt, csv, strlen(csv), 0, "bench", &added) < 0)
		die(tt, "importing");
	double import_ms = now_ms() - t0;
	free(csv);
	printf("timetable: %zu events over 2027 (%d once, %d daily between two dates, %d on weekdays, "
	       "%d monthly; %d play a 3-item programme), %d skipped and %d moved dates\n", added,
	       c.once, c.daily, c.weekdays, c.monthly, c.programme, c.skips, c.moves);
	printf("  built by CSV import, every row conflict-checked, one transaction: %.0f ms\n", import_ms);

	/* a day's rundown */
	const char *day = "2027-06-15";
	int64_t from = tt_local_instant_ns(day, 0), until = tt_local_instant_ns("2027-06-16", 0);
	double fast[RUNS], slow[RUNS];
	size_t count = 0, naive_count = 0;
	for (int i = 0; i < RUNS; i++) {
		struct tt_airing *airings = NULL;
		t0 = now_ms();
		if (tt_airings_between(tt, from, until, &airings, &count) < 0)
			die(tt, "resolving");
		fast[i] = now_ms() - t0;
		free(airings);
		struct naive n = { .tt = tt, .date = day, .weekday = tt_weekday(day), .month_day = 15 };
		t0 = now_ms();
		if (tt_event_each(tt, naive_event, &n) < 0)
			die(tt, "baseline");
		slow[i] = now_ms() - t0;
		naive_count = n.airings;
	}
	double rundown = median(fast, RUNS), rundown_base = median(slow, RUNS);
	printf("day rundown %s (%zu airings; the baseline found %zu starting that day)\n", day, count,
	       naive_count);
	printf("  tt_airings_between:           %8.3f ms median of %d   target < 5 ms: %s\n", rundown,
	       RUNS, rundown < 5 ? "met" : "MISSED");
	printf("  baseline \"event by event\":    %8.3f ms median of %d   (%.1fx slower)\n",
	       rundown_base, RUNS, rundown_base / rundown);

	/* a conflict check for a daily event over the year, at a free time */
	struct tt_event daily = { .start_second = FREE_SECOND, .recurrence = TT_DAILY,
				  .media_id = media, .repeat_count = 1, .enabled = 1 };
	snprintf(daily.from_date, sizeof daily.from_date, "2027-01-01");
	snprintf(daily.until_date, sizeof daily.until_date, "2027-12-31");
	for (int i = 0; i < 5; i++) {
		t0 = now_ms();
		if (tt_event_check(tt, &daily) < 0)
			die(tt, "checking a free time");
		fast[i] = now_ms() - t0;
	}
	double check = median(fast, 5);
	/* the same question answered day by day */
	int64_t length_ns = 5 * NS;
	t0 = now_ms();
	int collisions = 0;
	char date[11] = "2027-01-01";
	for (int d = 0; d < 365; d++, tt_add_days(date, 1, date)) {
		char next[11];
		tt_add_days(date, 1, next);
		struct tt_airing *airings = NULL;
		if (tt_airings_between(tt, tt_local_instant_ns(date, 0), tt_local_instant_ns(next, 0),
				       &airings, &count) < 0)
			die(tt, "baseline");
		int64_t start = tt_local_instant_ns(date, FREE_SECOND);
		for (size_t i = 0; i < count; i++)
			if (airings[i].priority == daily.priority && airings[i].scheduled_ns < start + length_ns &&
			    start < airings[i].scheduled_ns + airings[i].duration_ns)
				collisions++;
		free(airings);
	}
	double check_base = now_ms() - t0;
	printf("conflict check, a daily event 2027-01-01..2027-12-31 against the whole timetable\n");
	printf("  tt_event_check (free time):   %8.3f ms median of 5    target < 50 ms: %s\n", check,
	       check < 50 ? "met" : "MISSED");
	printf("  baseline \"day by day\":        %8.3f ms (365 rundowns, %d collisions)   (%.1fx slower)\n",
	       check_base, collisions, check_base / check);
	/* and one that collides with event 4 (its slot, its priority) */
	struct tt_event other;
	if (tt_event_get(tt, 4, &other) < 0)
		die(tt, "reading event 4");
	daily.start_second = other.start_second;
	daily.priority = other.priority;
	t0 = now_ms();
	int rc = tt_event_check(tt, &daily);
	printf("  tt_event_check (collides):    %8.3f ms: %s\n", now_ms() - t0,
	       rc == TT_ERR_CONFLICT ? "refused, as it must be" : "NOT REFUSED");

	tt_close(tt);
	if (getenv("BENCH_KEEP")) {
		printf("kept %s\n", path);
		return 0;
	}
	char command[160];
	snprintf(command, sizeof command, "rm -rf '%s'", dir);
	if (system(command) != 0)
		fprintf(stderr, "bench_timetable: could not remove %s\n", dir);
	return 0;
}
