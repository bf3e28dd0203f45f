/* `loaxa schedule`: the operator's timetable commands. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const struct option_spec specs[] = {
	{ "at", 1 }, { "date", 1 }, { "daily", 0 }, { "days", 1 }, { "monthly", 1 },
	{ "from", 1 }, { "until", 1 }, { "media", 1 }, { "programme", 1 }, { "priority", 1 },
	{ "repeat", 1 }, { "gap", 1 }, { "resume", 1 }, { "title", 1 }, { "disabled", 0 },
	{ "after", 0 }, { "operator", 1 }, { "replace", 0 }, { "output", 1 }, { "semicolon", 0 },
	{ "no-bom", 0 },
	{ NULL, 0 },
};
static const char usage[] =
	"loaxa schedule add --at HH:MM[:SS] (--date YYYY-MM-DD | --daily | --days mon,tue,... |\n"
	"                   --monthly DAY) [--from DATE] [--until DATE]\n"
	"                   (--media ID | --programme NAME) [--priority normal|priority|emergency]\n"
	"                   [--repeat N --gap SECONDS] [--resume resume|restart|skip|rejoin]\n"
	"                   [--title T] [--disabled] [--after]\n"
	"       loaxa schedule list | show [DATE]\n"
	"       loaxa schedule remove ID | disable ID | enable ID\n"
	"       loaxa schedule skip ID --date DATE | restore ID --date DATE\n"
	"       loaxa schedule move ID --date DATE --at HH:MM[:SS] [--after]\n"
	"       loaxa schedule import FILE.csv [--replace]\n"
	"       loaxa schedule export [--from DATE] [--until DATE] [--output FILE] [--semicolon] [--no-bom]\n"
	"  edits accept --operator NAME (the audit trail names it instead of the OS user)";

/* Which options each action takes. */
static const char *const add_options[] = {
	"at", "date", "daily", "days", "monthly", "from", "until", "media", "programme", "priority",
	"repeat", "gap", "resume", "title", "disabled", "after", "operator", NULL,
};
static const char *const no_options[] = { NULL };
static const char *const operator_only[] = { "operator", NULL };
static const char *const date_options[] = { "date", "operator", NULL };
static const char *const move_options[] = { "date", "at", "after", "operator", NULL };
static const char *const import_options[] = { "replace", "operator", NULL };
static const char *const export_options[] = { "from", "until", "output", "semicolon", "no-bom", NULL };

static int refuse(const char *fmt, const char *value)
{
	fprintf(stderr, "loaxa: ");
	fprintf(stderr, fmt, value);
	fprintf(stderr, "\n");
	return EXIT_REFUSED;
}

static int finish_edit(struct tt *tt, int rc)
{
	if (rc < 0)
		fail_message("%s", tt_error(tt));
	tt_close(tt);
	return rc < 0 ? EXIT_REFUSED : EXIT_OK;
}

/* ---- add ---- */

static int add_event(const struct arguments *args, const struct settings *settings)
{
	struct tt_event e = { .repeat_count = 1, .enabled = 1 };
	const char *at = option(args, specs, "at");
	const char *date = option(args, specs, "date");
	const char *days = option(args, specs, "days");
	const char *monthly = option(args, specs, "monthly");
	const char *media = option(args, specs, "media");
	const char *programme = option(args, specs, "programme");
	int daily = option(args, specs, "daily") != NULL;
	const char *text;
	if (!at) {
		fail_message("schedule add needs --at HH:MM[:SS]\nusage: %s", usage);
		return EXIT_USAGE;
	}
	if ((date != NULL) + daily + (days != NULL) + (monthly != NULL) != 1) {
		fail_message("give exactly one of --date, --daily, --days or --monthly\nusage: %s", usage);
		return EXIT_USAGE;
	}
	if ((media != NULL) == (programme != NULL)) {
		fail_message("schedule add needs either --media ID or --programme NAME\nusage: %s", usage);
		return EXIT_USAGE;
	}
	if ((e.start_second = tt_parse_time_of_day(at)) < 0)
		return refuse("'%s' is not a time of day; use HH:MM or HH:MM:SS (00:00:00 to 23:59:59)", at);
	if (date) {
		if (!tt_valid_date(date))
			return refuse("'%s' is not a real date; use YYYY-MM-DD", date);
		e.recurrence = TT_ONCE;
		snprintf(e.on_date, sizeof e.on_date, "%s", date);
		if (tt_local_instant_ns(date, e.start_second) < now_ns()) {
			fprintf(stderr, "loaxa: %s %s is in the past; a one-off broadcast must be in the "
				"future\n", date, at);
			return EXIT_REFUSED;
		}
	} else if (daily) {
		e.recurrence = TT_DAILY;
	} else if (days) {
		e.recurrence = TT_WEEKDAYS;
		if (tt_weekdays_parse(days, &e.weekdays) < 0)
			return refuse("'%s' is not a list of weekdays; use e.g. mon,wed,fri", days);
	} else {
		e.recurrence = TT_MONTHLY;
		e.month_day = (int)parse_count(monthly, 1, 31);
		if (e.month_day < 1)
			return refuse("--monthly '%s' must be a day of the month, 1 to 31", monthly);
	}
	if ((text = option(args, specs, "from")) && !tt_valid_date(text))
		return refuse("--from '%s' is not a real date; use YYYY-MM-DD", text);
	if (text)
		snprintf(e.from_date, sizeof e.from_date, "%s", text);
	if ((text = option(args, specs, "until")) && !tt_valid_date(text))
		return refuse("--until '%s' is not a real date; use YYYY-MM-DD", text);
	if (text)
		snprintf(e.until_date, sizeof e.until_date, "%s", text);
	if (media && (e.media_id = parse_count(media, 1, INT64_MAX)) < 0)
		return refuse("'%s' is not a media id (a whole number; 'loaxa media list' shows them)", media);
	if ((text = option(args, specs, "priority"))) {
		int priority = tt_priority_parse(text);
		if (priority < 0)
			return refuse("unknown priority '%s'; use normal, priority or emergency", text);
		e.priority = priority;
	}
	if ((text = option(args, specs, "resume"))) {
		int resume = tt_resume_parse(text);
		if (resume < 0)
			return refuse("unknown resume policy '%s'; use resume, restart, skip or rejoin", text);
		e.resume = resume;
	}
	if ((text = option(args, specs, "repeat")) &&
	    (e.repeat_count = (int)parse_count(text, 1, 100)) < 1)
		return refuse("--repeat '%s' must be a whole number from 1 to 100", text);
	if ((text = option(args, specs, "gap")) &&
	    (e.gap_seconds = (int)parse_count(text, 0, 86400)) < 0)
		return refuse("--gap '%s' must be a whole number of seconds from 0 to 86400", text);
	if ((text = option(args, specs, "title"))) {
		if (strlen(text) >= sizeof e.title) {
			fail_message("the title is too long (%zu bytes; at most %zu)", strlen(text),
				     sizeof e.title - 1);
			return EXIT_REFUSED;
		}
		snprintf(e.title, sizeof e.title, "%s", text);
	}
	e.enabled = option(args, specs, "disabled") == NULL;

	struct tt *tt = open_timetable_as(settings, option(args, specs, "operator"));
	if (!tt)
		return EXIT_REFUSED;
	int rc = 0;
	if (programme) {
		struct tt_programme p;
		rc = tt_programme_find(tt, programme, &p);
		e.programme_id = p.id;
	}
	int requested = e.start_second;
	if (rc == 0)
		rc = tt_event_add_placed(tt, &e, option(args, specs, "after") ? TT_PLACE_AFTER
									  : TT_PLACE_EXACT);
	if (rc == 0) {
		char clock[9];
		format_clock(e.start_second, clock);
		if (args->json) {
			printf("{\"id\":%" PRId64 ",\"at\":\"%s\",\"note\":", e.id, clock);
			json_string(stdout, tt_note(tt));
			printf("}\n");
		} else {
			printf("%" PRId64 "\n", e.id);
			if (e.start_second != requested)
				fprintf(stderr, "loaxa: event %" PRId64 " %s\n", e.id, tt_note(tt));
		}
	}
	return finish_edit(tt, rc);
}

/* ---- list ---- */

struct list_state {
	struct tt *tt;
	int json, count;
};

static int64_t event_length_ns(struct tt *tt, const struct tt_event *e, char *plays, size_t size)
{
	if (e->media_id > 0) {
		struct tt_media m;
		if (tt_media_get(tt, e->media_id, &m) < 0) {
			snprintf(plays, size, "media %" PRId64 " (missing)", e->media_id);
			return 0;
		}
		snprintf(plays, size, "media %" PRId64 " \"%s\"", e->media_id, m.title);
		return m.rate > 0 ? m.frames * 1000000000LL / m.rate : 0;
	}
	struct tt_programme p;
	if (tt_programme_get(tt, e->programme_id, &p) < 0) {
		snprintf(plays, size, "programme %" PRId64 " (missing)", e->programme_id);
		return 0;
	}
	snprintf(plays, size, "programme \"%s\" (%d item%s)", p.name, p.item_count,
		 p.item_count == 1 ? "" : "s");
	return p.duration_ns;
}

struct exception_list {
	int json, count;
	char text[2048];
};

static int gather_exception(void *user, const struct tt_exception *x)
{
	struct exception_list *l = user;
	char clock[9];
	format_clock(x->moved_second, clock);
	if (l->json) {
		printf("%s{\"date\":\"%s\",\"skipped\":%s,\"at\":", l->count ? "," : "", x->date,
		       x->moved_second < 0 ? "true" : "false");
		if (x->moved_second < 0)
			printf("null}");
		else
			printf("\"%s\"}", clock);
	} else if (strlen(l->text) + 40 < sizeof l->text) {
		size_t used = strlen(l->text);
		if (x->moved_second < 0)
			snprintf(l->text + used, sizeof l->text - used, "%sskip %s", l->count ? "; " : "", x->date);
		else
			snprintf(l->text + used, sizeof l->text - used, "%smoved %s → %s", l->count ? "; " : "",
				 x->date, clock);
	}
	l->count++;
	return 0;
}

static int list_one(void *user, const struct tt_event *e)
{
	struct list_state *state = user;
	char rule[160], plays[700], clock[9], length[48];
	tt_event_rule_text(e, rule, sizeof rule);
	format_clock(e->start_second, clock);
	int64_t length_ns = event_length_ns(state->tt, e, plays, sizeof plays);
	format_duration(length_ns, length, sizeof length);
	struct exception_list exceptions = { .json = state->json };
	if (state->json) {
		char days[64] = "";
		tt_weekdays_format(e->weekdays, days, sizeof days);
		printf("%s{\"id\":%" PRId64 ",\"title\":", state->count ? "," : "", e->id);
		json_string(stdout, e->title);
		printf(",\"at\":\"%s\",\"recurrence\":\"%s\",\"date\":", clock,
		       tt_recurrence_name(e->recurrence));
		json_string(stdout, e->on_date);
		printf(",\"days\":");
		json_string(stdout, e->recurrence == TT_WEEKDAYS ? days : "");
		printf(",\"month_day\":%d,\"from\":", e->month_day);
		json_string(stdout, e->from_date);
		printf(",\"until\":");
		json_string(stdout, e->until_date);
		printf(",\"rule\":");
		json_string(stdout, rule);
		printf(",\"media_id\":%" PRId64 ",\"programme_id\":%" PRId64 ",\"plays\":",
		       e->media_id, e->programme_id);
		json_string(stdout, plays);
		printf(",\"duration_seconds\":%.3f,\"priority\":\"%s\",\"repeat\":%d,\"gap\":%d,"
		       "\"resume\":\"%s\",\"enabled\":%s,\"exceptions\":[", (double)length_ns / 1e9,
		       tt_priority_name(e->priority), e->repeat_count, e->gap_seconds,
		       tt_resume_name(e->resume), e->enabled ? "true" : "false");
		tt_exception_each(state->tt, e->id, gather_exception, &exceptions);
		printf("]}");
	} else {
		printf("%5" PRId64 "  %s  %-9s %s — %s, %s", e->id, clock, tt_priority_name(e->priority),
		       rule, plays, length);
		if (e->repeat_count > 1)
			printf(", %d times %d s apart", e->repeat_count, e->gap_seconds);
		if (e->resume != TT_RESUME)
			printf(", on preemption %s", tt_resume_name(e->resume));
		if (e->title[0])
			printf(" — \"%s\"", e->title);
		if (!e->enabled)
			printf(" [disabled]");
		printf("\n");
		tt_exception_each(state->tt, e->id, gather_exception, &exceptions);
		if (exceptions.count)
			printf("       %s\n", exceptions.text);
	}
	state->count++;
	return 0;
}

static int list_events(struct tt *tt, int json)
{
	struct list_state state = { .tt = tt, .json = json };
	if (json)
		printf("[");
	int rc = tt_event_each(tt, list_one, &state);
	if (json)
		printf("]\n");
	else if (!state.count)
		printf("no events; add one with 'loaxa schedule add'\n");
	return rc;
}

/* ---- show: the rundown ---- */

static const char *const weekday_vi[] = {
	"Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật",
};
static const char *const weekday_en[] = {
	"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
};
static const char *const session_vi[] = { "sáng", "chiều", "tối" };

static int same_block(const struct tt_airing *a, const struct tt_airing *b)
{
	return a->event_id == b->event_id && a->repeat == b->repeat &&
	       strcmp(a->occurrence_date, b->occurrence_date) == 0;
}

/* Groups airings into blocks (one repeat of one occurrence each), in the
 * order of their first airing. block_of[i] = the block of airing i. */
static size_t make_blocks(const struct tt_rundown *r, size_t *block_of, size_t *block_first)
{
	size_t blocks = 0;
	for (size_t i = 0; i < r->count; i++) {
		size_t b = blocks;
		/* the same repeat may be interleaved with others: look back */
		for (size_t k = 0; k < blocks; k++)
			if (same_block(&r->airings[block_first[k]], &r->airings[i]))
				b = k;
		if (b == blocks)
			block_first[blocks++] = i;
		block_of[i] = b;
	}
	return blocks;
}

static void print_time(int64_t ns)
{
	print_local_time(stdout, ns, 0);
}

static void print_json_time(const char *key, int64_t ns)
{
	printf(",\"%s\":\"", key);
	print_local_time(stdout, ns, 0);
	printf("\",\"%s_ns\":%" PRId64, key, ns);
}

/* One broadcast cutting (or cut by) a block, over one stretch of time: the
 * rundown's preemptions of the block's items, joined where one broadcast
 * runs across several items. */
struct cut {
	const struct tt_airing *other;
	int64_t from_ns, until_ns;
};

static int compare_cuts(const void *a, const void *b)
{
	const struct cut *x = a, *y = b;
	if (x->other->event_id != y->other->event_id)
		return x->other->event_id < y->other->event_id ? -1 : 1;
	return x->from_ns < y->from_ns ? -1 : x->from_ns > y->from_ns;
}

/* The cuts of block b: suffered (cut_by = 1) or made; *out malloc'd. */
static size_t block_cuts(const struct tt_rundown *r, const size_t *block_of, size_t b, int cut_by,
			 struct cut **out)
{
	struct cut *cuts = calloc(r->preemption_count + 1, sizeof *cuts);
	size_t n = 0;
	for (size_t k = 0; cuts && k < r->preemption_count; k++) {
		const struct tt_preemption *p = &r->preemptions[k];
		if (block_of[cut_by ? p->lower : p->higher] != b)
			continue;
		cuts[n++] = (struct cut){ &r->airings[cut_by ? p->higher : p->lower], p->from_ns, p->until_ns };
	}
	if (n)
		qsort(cuts, n, sizeof *cuts, compare_cuts);
	size_t merged = 0;
	for (size_t k = 0; k < n; k++) {
		struct cut *last = merged ? &cuts[merged - 1] : NULL;
		if (last && last->other->event_id == cuts[k].other->event_id &&
		    strcmp(last->other->occurrence_date, cuts[k].other->occurrence_date) == 0 &&
		    cuts[k].from_ns <= last->until_ns) {
			if (cuts[k].until_ns > last->until_ns)
				last->until_ns = cuts[k].until_ns;
		} else {
			cuts[merged++] = cuts[k];
		}
	}
	*out = cuts;
	return merged;
}

static void show_json(const struct tt_rundown *r, const size_t *block_of, const size_t *block_first,
		      size_t blocks, const char *time_zone)
{
	printf("{\"date\":\"%s\",\"time_zone\":", r->date);
	json_string(stdout, time_zone);
	printf(",\"occurrences\":[");
	for (size_t b = 0; b < blocks; b++) {
		const struct tt_airing *head = &r->airings[block_first[b]];
		int64_t end = head->scheduled_ns;
		for (size_t i = 0; i < r->count; i++)
			if (block_of[i] == b && r->airings[i].scheduled_ns + r->airings[i].duration_ns > end)
				end = r->airings[i].scheduled_ns + r->airings[i].duration_ns;
		int64_t midnight = tt_local_instant_ns(r->date, 0);
		printf("%s{\"event_id\":%" PRId64 ",\"occurrence_date\":\"%s\",\"title\":", b ? "," : "",
		       head->event_id, head->occurrence_date);
		json_string(stdout, head->title);
		printf(",\"priority\":\"%s\",\"resume\":\"%s\",\"repeat\":%d,\"repeat_count\":%d,"
		       "\"moved\":%s,\"programme_id\":%" PRId64 ",\"session\":\"%s\"",
		       tt_priority_name(head->priority), tt_resume_name(head->resume), head->repeat + 1,
		       head->repeat_count, head->moved ? "true" : "false", head->programme_id,
		       tt_session_name(tt_session_of((int)((head->scheduled_ns - midnight) / 1000000000LL))));
		print_json_time("start", head->scheduled_ns);
		print_json_time("end", end);
		printf(",\"items\":[");
		int first = 1;
		for (size_t i = 0; i < r->count; i++) {
			const struct tt_airing *a = &r->airings[i];
			if (block_of[i] != b)
				continue;
			printf("%s{\"part\":%d,\"item\":%d,\"media_id\":%" PRId64 ",\"title\":", first ? "" : ",",
			       a->part, a->item + 1, a->media_id);
			json_string(stdout, a->item_title);
			print_json_time("start", a->scheduled_ns);
			print_json_time("end", a->scheduled_ns + a->duration_ns);
			printf(",\"duration_seconds\":%.3f}", (double)a->duration_ns / 1e9);
			first = 0;
		}
		for (int cut_by = 1; cut_by >= 0; cut_by--) {
			printf("],\"%s\":[", cut_by ? "preempted_by" : "preempts");
			struct cut *cuts = NULL;
			size_t n = block_cuts(r, block_of, b, cut_by, &cuts);
			for (size_t k = 0; k < n; k++) {
				printf("%s{\"event_id\":%" PRId64 ",\"title\":", k ? "," : "",
				       cuts[k].other->event_id);
				json_string(stdout, cuts[k].other->title);
				printf(",\"priority\":\"%s\"", tt_priority_name(cuts[k].other->priority));
				print_json_time("from", cuts[k].from_ns);
				print_json_time("until", cuts[k].until_ns);
				printf("}");
			}
			free(cuts);
		}
		printf("]}");
	}
	printf("],\"sessions\":[");
	for (int s = 0; s < TT_SESSION_COUNT; s++)
		printf("%s{\"name\":\"%s\",\"airtime_seconds\":%.3f}", s ? "," : "", tt_session_name(s),
		       (double)r->session_airtime_ns[s] / 1e9);
	printf("],\"total_airtime_seconds\":%.3f}\n", (double)r->total_airtime_ns / 1e9);
}

static void show_block_text(struct tt *tt, const struct tt_rundown *r, const size_t *block_of,
			    size_t b, size_t first_index)
{
	const struct tt_airing *head = &r->airings[first_index];
	int64_t end = head->scheduled_ns;
	size_t items = 0;
	for (size_t i = 0; i < r->count; i++)
		if (block_of[i] == b) {
			items++;
			if (r->airings[i].scheduled_ns + r->airings[i].duration_ns > end)
				end = r->airings[i].scheduled_ns + r->airings[i].duration_ns;
		}
	printf("  ");
	print_time(head->scheduled_ns);
	printf("–");
	print_time(end);
	printf("  %-9s %s", tt_priority_name(head->priority), head->title);
	if (head->repeat_count > 1)
		printf(" (%d/%d)", head->repeat + 1, head->repeat_count);
	printf("  [event %" PRId64, head->event_id);
	if (head->programme_id > 0) {
		struct tt_programme p;
		if (tt_programme_get(tt, head->programme_id, &p) == 0)
			printf(", programme \"%s\"", p.name);
	}
	if (head->moved) {
		struct tt_event e;
		char clock[9];
		if (tt_event_get(tt, head->event_id, &e) == 0) {
			format_clock(e.start_second, clock);
			printf(", moved from %s", clock);
		}
	}
	if (strcmp(head->occurrence_date, r->date) != 0)
		printf(", from %s", head->occurrence_date);
	printf("]\n");
	if (head->programme_id > 0 || items > 1)
		for (size_t i = 0; i < r->count; i++) {
			const struct tt_airing *a = &r->airings[i];
			if (block_of[i] != b)
				continue;
			printf("      ");
			print_time(a->scheduled_ns);
			printf("–");
			print_time(a->scheduled_ns + a->duration_ns);
			printf("  %d. %s (media %" PRId64 ")\n", a->item + 1, a->item_title, a->media_id);
		}
	static const char *const then[] = {
		"resume where it was cut", "restart from the beginning", "be dropped",
		"rejoin where it would have been",
	};
	for (int cut_by = 1; cut_by >= 0; cut_by--) {
		struct cut *cuts = NULL;
		size_t n = block_cuts(r, block_of, b, cut_by, &cuts);
		for (size_t k = 0; k < n; k++) {
			const struct tt_airing *other = cuts[k].other;
			printf("      ! %s ", cut_by ? "preempted" : "preempts");
			if (!cut_by)
				printf("%s \"%s\" (event %" PRId64 ") ", tt_priority_name(other->priority),
				       other->title, other->event_id);
			print_time(cuts[k].from_ns);
			printf("–");
			print_time(cuts[k].until_ns);
			if (cut_by)
				printf(" by %s \"%s\" (event %" PRId64 "); then it will %s",
				       tt_priority_name(other->priority), other->title, other->event_id,
				       then[(unsigned)head->resume % 4]);
			printf("\n");
		}
		free(cuts);
	}
}

static int show_day(struct tt *tt, const char *date, int json, const char *time_zone)
{
	struct tt_rundown r;
	if (tt_rundown(tt, date, &r) < 0) {
		fail_message("%s", tt_error(tt));
		return 1;
	}
	size_t *block_of = calloc(r.count + 1, sizeof *block_of);
	size_t *block_first = calloc(r.count + 1, sizeof *block_first);
	if (!block_of || !block_first) {
		free(block_of);
		free(block_first);
		tt_rundown_free(&r);
		fail_message("out of memory");
		return 1;
	}
	size_t blocks = make_blocks(&r, block_of, block_first);
	if (json) {
		show_json(&r, block_of, block_first, blocks, time_zone);
	} else {
		int weekday = tt_weekday(date);
		printf("Timetable for %s (%s) %.2s/%.2s/%.4s — %s\n", weekday_vi[weekday],
		       weekday_en[weekday], date + 8, date + 5, date, time_zone);
		int64_t midnight = tt_local_instant_ns(date, 0);
		char airtime[48];
		for (int s = 0; s < TT_SESSION_COUNT; s++) {
			printf("\n%c%s (%s)\n", "MAE"[s], tt_session_name(s) + 1, session_vi[s]);
			size_t shown = 0;
			for (size_t b = 0; b < blocks; b++) {
				int64_t start = r.airings[block_first[b]].scheduled_ns;
				if ((int)tt_session_of((int)((start - midnight) / 1000000000LL)) != s)
					continue;
				show_block_text(tt, &r, block_of, b, block_first[b]);
				shown++;
			}
			if (!shown) {
				printf("  nothing scheduled\n");
				continue;
			}
			format_duration(r.session_airtime_ns[s], airtime, sizeof airtime);
			printf("  airtime %s\n", airtime);
		}
		size_t preemptions = 0;
		for (size_t b = 0; b < blocks; b++) {
			struct cut *cuts = NULL;
			preemptions += block_cuts(&r, block_of, b, 1, &cuts);
			free(cuts);
		}
		format_duration(r.total_airtime_ns, airtime, sizeof airtime);
		printf("\nTotal airtime %s", airtime);
		if (preemptions)
			printf(", %zu preemption%s", preemptions, preemptions == 1 ? "" : "s");
		printf("\n");
	}
	free(block_of);
	free(block_first);
	tt_rundown_free(&r);
	return 0;
}

/* ---- import / export ---- */

static int import_file(struct tt *tt, const char *path, int replace, int json)
{
	char *text = NULL;
	size_t length = 0, added = 0;
	if (read_file(path, &text, &length) < 0)
		return 1;
	int rc = tt_import_csv(tt, text, length, replace, path, &added);
	free(text);
	if (rc < 0) {
		fail_message("%s: nothing imported: %s", path, tt_error(tt));
		return 1;
	}
	if (json)
		printf("{\"imported\":%zu,\"replaced\":%s}\n", added, replace ? "true" : "false");
	else
		printf("imported %zu event%s from %s%s\n", added, added == 1 ? "" : "s", path,
		       replace ? " (the timetable was replaced)" : "");
	return 0;
}

static int export_file(struct tt *tt, const struct arguments *args)
{
	struct tt_csv_options options = {
		.delimiter = option(args, specs, "semicolon") ? ';' : ',',
		.bom = option(args, specs, "no-bom") == NULL,
		.from_date = option(args, specs, "from"),
		.until_date = option(args, specs, "until"),
	};
	const char *path = option(args, specs, "output");
	FILE *out = stdout;
	char temporary[1100] = "";
	if (path) {
		/* written beside, then renamed: never a half-written file */
		snprintf(temporary, sizeof temporary, "%s.partial", path);
		if (!(out = fopen(temporary, "wb"))) {
			fail_message("cannot write %s: %s", temporary, strerror(errno));
			return 1;
		}
	}
	int rc = tt_export_csv(tt, out, &options);
	if (path) {
		if (fclose(out) != 0 && rc == 0) {
			fail_message("cannot write %s: %s", path, strerror(errno));
			rc = 1;
		} else if (rc == 0 && rename(temporary, path) != 0) {
			fail_message("cannot write %s: %s", path, strerror(errno));
			rc = 1;
		}
		if (rc != 0)
			unlink(temporary);
	} else {
		fflush(stdout);
	}
	if (rc < 0) {
		fail_message("%s", tt_error(tt));
		return 1;
	}
	return rc;
}

/* ---- dispatch ---- */

static const char needs_id[] = "needs one event ID";
static const struct action_spec actions[] = {
	{ "add", add_options, 1, 1, "takes options only" },
	{ "list", no_options, 1, 1, "takes no arguments" },
	{ "show", no_options, 1, 2, "takes one DATE at most" },
	{ "remove", operator_only, 2, 2, needs_id },
	{ "disable", operator_only, 2, 2, needs_id },
	{ "enable", operator_only, 2, 2, needs_id },
	{ "skip", date_options, 2, 2, needs_id },
	{ "restore", date_options, 2, 2, needs_id },
	{ "move", move_options, 2, 2, needs_id },
	{ "import", import_options, 2, 2, "needs one CSV file" },
	{ "export", export_options, 1, 1, "takes options only" },
	{ NULL, NULL, 0, 0, NULL },
};

int cmd_schedule(int argc, char **argv)
{
	struct arguments args;
	struct settings settings;
	int rc;
	int found = parse_action(argc, argv, specs, actions, "schedule", usage, &args, &rc);
	if (found < 0)
		return rc;
	const char *action = actions[found].name;
	int takes_id = actions[found].words_hint == needs_id;
	int64_t id = 0;
	if (takes_id && (id = parse_count(args.words[1], 1, INT64_MAX)) < 0) {
		fail_message("'%s' is not an event id (a whole number; 'loaxa schedule list' shows them)",
			     args.words[1]);
		return EXIT_USAGE;
	}
	if (load_settings(&args, specs, &settings) < 0)
		return EXIT_REFUSED;
	if (strcmp(action, "add") == 0)
		return add_event(&args, &settings);

	const char *date = option(&args, specs, "date");
	const char *at = option(&args, specs, "at");
	int needs_date = !strcmp(action, "skip") || !strcmp(action, "restore") || !strcmp(action, "move");
	if (needs_date && !date) {
		fail_message("schedule %s needs --date YYYY-MM-DD\nusage: %s", action, usage);
		return EXIT_USAGE;
	}
	if (!strcmp(action, "move") && !at) {
		fail_message("schedule move needs --at HH:MM[:SS] (the new time that day)\nusage: %s", usage);
		return EXIT_USAGE;
	}
	if (needs_date && !tt_valid_date(date))
		return refuse("'%s' is not a real date; use YYYY-MM-DD", date);
	int second = 0;
	if (at && (second = tt_parse_time_of_day(at)) < 0)
		return refuse("'%s' is not a time of day; use HH:MM or HH:MM:SS (00:00:00 to 23:59:59)", at);
	char day[11];
	if (!strcmp(action, "show")) {
		if (args.word_count == 2 && !tt_valid_date(args.words[1]))
			return refuse("'%s' is not a real date; use YYYY-MM-DD", args.words[1]);
		if (args.word_count == 2)
			snprintf(day, sizeof day, "%s", args.words[1]);
		else
			tt_local_date(now_ns(), day);
	}

	struct tt *tt = open_timetable_as(&settings, option(&args, specs, "operator"));
	if (!tt)
		return EXIT_REFUSED;
	rc = 0;
	if (!strcmp(action, "list")) {
		rc = list_events(tt, args.json);
	} else if (!strcmp(action, "show")) {
		int status = show_day(tt, day, args.json, settings.time_zone);
		tt_close(tt);
		return status ? EXIT_REFUSED : EXIT_OK;
	} else if (!strcmp(action, "import")) {
		int status = import_file(tt, args.words[1], option(&args, specs, "replace") != NULL, args.json);
		tt_close(tt);
		return status ? EXIT_REFUSED : EXIT_OK;
	} else if (!strcmp(action, "export")) {
		int status = export_file(tt, &args);
		tt_close(tt);
		return status ? EXIT_REFUSED : EXIT_OK;
	} else if (!strcmp(action, "remove")) {
		if ((rc = tt_event_remove(tt, id)) == 0)
			printf("event %" PRId64 " removed\n", id);
	} else if (!strcmp(action, "disable") || !strcmp(action, "enable")) {
		int enable = !strcmp(action, "enable");
		if ((rc = tt_event_set_enabled(tt, id, enable)) == 0)
			printf("event %" PRId64 " %s\n", id, enable ? "enabled" : "disabled");
	} else if (!strcmp(action, "skip")) {
		if ((rc = tt_event_skip_date(tt, id, date)) == 0)
			printf("event %" PRId64 " will not air on %s\n", id, date);
	} else if (!strcmp(action, "restore")) {
		if ((rc = tt_event_restore_date(tt, id, date)) == 0)
			printf("event %" PRId64 " airs on %s at its usual time again\n", id, date);
	} else {
		int requested = second;
		rc = tt_event_move_date(tt, id, date, &second, option(&args, specs, "after")
							       ? TT_PLACE_AFTER : TT_PLACE_EXACT);
		if (rc == 0) {
			char clock[9];
			format_clock(second, clock);
			printf("event %" PRId64 " airs on %s at %s\n", id, date, clock);
			if (second != requested)
				fprintf(stderr, "loaxa: %s\n", tt_note(tt));
		}
	}
	return finish_edit(tt, rc);
}
