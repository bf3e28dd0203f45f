#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "schedules/report.h"

static const struct option_spec specs[] = {
	{ "date", 1 }, { "from", 1 }, { "until", 1 }, { "category", 1 }, { "status", 1 },
	{ "format", 1 }, { "separator", 1 }, { NULL, 0 },
};
static const char usage[] =
	"loaxa log [--date DATE | --from DATE --until DATE] [--category C] [--status S]\n"
	"          [--format text|csv] [--separator C] [--json]\n"
	"       loaxa log verify [--json]   (was any row changed, inserted or removed?)\n"
	"  DATE is dd/mm/yyyy or YYYY-MM-DD (default: today); S is played, resumed, preempted,\n"
	"  interrupted, skipped, missed, failed or playing";

/* `loaxa log verify`: the chain recomputed over the whole log. */
static int verify(const struct settings *settings, int json)
{
	struct tt *tt = open_timetable(settings, TT_OPEN_EXISTING);
	if (!tt)
		return EXIT_REFUSED;
	struct tt_chain_check check;
	int rc = tt_chain_verify(tt, &check);
	if (rc < 0) {
		fail_message("%s", tt_error(tt));
		tt_close(tt);
		return EXIT_REFUSED;
	}
	if (json) {
		printf("{\"ok\":%s,\"rows\":%" PRId64 ",\"head\":", rc == 0 ? "true" : "false",
		       check.rows);
		json_string(stdout, check.head);
		printf(",\"head_seq\":%" PRId64 ",\"bad_id\":%" PRId64 ",\"problem\":", check.head_seq,
		       check.bad_id);
		json_string(stdout, check.problem);
		printf("}\n");
	} else if (rc == 0) {
		printf("the as-run log is intact: %" PRId64 " row(s) chained; the last (%" PRId64
		       ") is %s\n", check.rows, check.head_seq, check.head[0] ? check.head : "(none)");
	} else {
		fail_message("%s; the chain after it cannot vouch for the log (restore the database "
			     "from a backup to see what it said)", check.problem);
	}
	tt_close(tt);
	return rc == 0 ? EXIT_OK : EXIT_REFUSED;
}

static void print_json(const struct tt_run *runs, size_t count)
{
	printf("[");
	for (size_t i = 0; i < count; i++) {
		const struct tt_run *r = &runs[i];
		printf("%s{\"id\":%" PRId64 ",\"event_id\":%" PRId64 ",\"occurrence_date\":",
		       i ? "," : "", r->id, r->event_id);
		json_string(stdout, r->occurrence_date);
		printf(",\"part\":%d,\"media_id\":%" PRId64 ",\"title\":", r->part, r->media_id);
		json_string(stdout, r->title);
		printf(",\"priority\":\"%s\",\"scheduled_ns\":%" PRId64 ",\"started_ns\":%" PRId64
		       ",\"ended_ns\":%" PRId64 ",\"frames_played\":%" PRId64 ",\"status\":\"%s\""
		       ",\"xruns\":%d,\"triggered_by\":",
		       tt_priority_name(r->priority), r->scheduled_ns, r->started_ns, r->ended_ns,
		       r->frames_played, tt_run_status_name(r->status), r->xruns);
		json_string(stdout, r->triggered_by);
		printf(",\"detail\":");
		json_string(stdout, r->detail);
		if (r->scheduled_ns && r->started_ns)
			printf(",\"start_error_ms\":%.3f", (double)(r->started_ns - r->scheduled_ns) / 1e6);
		printf("}");
	}
	printf("]\n");
}

/* One row a line, one header row: UTF-8 with a BOM, times local. */
static void print_csv(const struct tt_run *runs, size_t count, char separator)
{
	fputs("\xEF\xBB\xBF", stdout);
	static const char *const header[13] = { "id", "date", "scheduled", "on air", "error ms",
						"seconds", "status", "priority", "title", "category",
						"event", "triggered by", "detail" };
	for (int i = 0; i < 13; i++)
		tt_csv_field(stdout, header[i], separator, i == 12);
	for (size_t i = 0; i < count; i++) {
		const struct tt_run *r = &runs[i];
		char cells[8][64];
		snprintf(cells[0], sizeof cells[0], "%" PRId64, r->id);
		snprintf(cells[1], sizeof cells[1], "%.2s/%.2s/%.4s", r->occurrence_date + 8,
			 r->occurrence_date + 5, r->occurrence_date);
		for (int k = 0; k < 2; k++) {
			int64_t at = k == 0 ? r->scheduled_ns : r->started_ns;
			char *out = cells[2 + k];
			out[0] = '\0';
			if (at) {
				FILE *text = fmemopen(out, sizeof cells[2 + k], "w");
				if (text) {
					print_local_time(text, at, k == 1);
					fclose(text);
				}
			}
		}
		snprintf(cells[4], sizeof cells[4], r->scheduled_ns && r->started_ns ? "%.1f" : "",
			 (double)(r->started_ns - r->scheduled_ns) / 1e6);
		snprintf(cells[5], sizeof cells[5], r->started_ns && r->ended_ns ? "%.3f" : "",
			 (double)(r->ended_ns - r->started_ns) / 1e9);
		snprintf(cells[6], sizeof cells[6], "%" PRId64, r->event_id);
		for (int k = 0; k < 6; k++)
			tt_csv_field(stdout, cells[k], separator, 0);
		tt_csv_field(stdout, tt_run_status_name(r->status), separator, 0);
		tt_csv_field(stdout, tt_priority_name(r->priority), separator, 0);
		tt_csv_field(stdout, r->title, separator, 0);
		tt_csv_field(stdout, r->category, separator, 0);
		tt_csv_field(stdout, r->event_id ? cells[6] : "", separator, 0);
		tt_csv_field(stdout, r->triggered_by, separator, 0);
		tt_csv_field(stdout, r->detail, separator, 1);
	}
}

static void print_text(const char *from, const char *until, const struct tt_run *runs,
		       size_t count)
{
	printf("As-run log %.2s/%.2s/%.4s", from + 8, from + 5, from);
	if (strcmp(from, until) != 0)
		printf(" – %.2s/%.2s/%.4s", until + 8, until + 5, until);
	printf("\n");
	if (!count) {
		printf("  nothing went on air and nothing was due\n");
		return;
	}
	printf("  %s%-12s %-12s %9s %9s  %-11s %-9s %s\n", strcmp(from, until) ? "date       " : "",
	       "scheduled", "on air", "error ms", "seconds", "status", "priority", "title");
	for (size_t i = 0; i < count; i++) {
		const struct tt_run *r = &runs[i];
		printf("  ");
		if (strcmp(from, until) != 0)
			printf("%.2s/%.2s/%.4s ", r->occurrence_date + 8, r->occurrence_date + 5,
			       r->occurrence_date);
		print_local_time(stdout, r->scheduled_ns, 1);
		printf(" ");
		print_local_time(stdout, r->started_ns, 1);
		if (r->scheduled_ns && r->started_ns)
			printf(" %+9.1f", (double)(r->started_ns - r->scheduled_ns) / 1e6);
		else
			printf(" %9s", "");
		if (r->started_ns && r->ended_ns)
			printf(" %9.3f", (double)(r->ended_ns - r->started_ns) / 1e9);
		else
			printf(" %9s", "");
		printf("  %-11s %-9s %s", tt_run_status_name(r->status), tt_priority_name(r->priority),
		       r->title);
		if (r->event_id)
			printf(" (event %" PRId64 ")", r->event_id);
		if (r->category[0])
			printf(" [%s]", r->category);
		if (r->xruns)
			printf(" [%d underruns]", r->xruns);
		if (r->detail[0])
			printf(" — %s", r->detail);
		printf("\n");
	}
}

/* --date, or --from and --until, into the first and last dates; 0, or an
 * exit status. */
static int read_dates(const struct arguments *args, char from[11], char until[11])
{
	const char *date = option(args, specs, "date");
	const char *first = option(args, specs, "from"), *last = option(args, specs, "until");
	if (date && (first || last)) {
		fail_message("give either --date or --from and --until, not both");
		return EXIT_USAGE;
	}
	if (!date && !first && !last) {
		tt_local_date(now_ns(), from);
		snprintf(until, 11, "%s", from);
		return 0;
	}
	if (!date)
		return read_period_dates(first, last, from, until);
	if (tt_parse_date_lenient(date, from) < 0) {
		fail_message("'%s' is not a real date; use dd/mm/yyyy (or YYYY-MM-DD)", date);
		return EXIT_REFUSED;
	}
	snprintf(until, 11, "%s", from);
	return 0;
}

int cmd_log(int argc, char **argv)
{
	struct arguments args;
	struct settings settings;
	if (argc > 0 && strcmp(argv[0], "verify") == 0) {
		int rc = begin_command(argc - 1, argv + 1, specs, usage, &args, &settings);
		return rc >= 0 ? rc : verify(&settings, args.json);
	}
	int rc = begin_command(argc, argv, specs, usage, &args, &settings);
	if (rc >= 0)
		return rc;
	char from[11], until[11];
	if ((rc = read_dates(&args, from, until)) != 0)
		return rc;
	const char *status = option(&args, specs, "status");
	const char *category = option(&args, specs, "category");
	const char *format = option(&args, specs, "format");
	const char *separator = option(&args, specs, "separator");
	int wanted_status = -1;
	for (int s = TT_RUN_PLAYING; status && s <= TT_RUN_INTERRUPTED && wanted_status < 0; s++)
		if (strcmp(status, tt_run_status_name((enum tt_run_status)s)) == 0)
			wanted_status = s;
	if (status && wanted_status < 0) {
		fail_message("'%s' is not a status: played, resumed, preempted, interrupted, skipped, "
			     "missed, failed or playing", status);
		return EXIT_USAGE;
	}
	if ((rc = check_table_format(format, separator)) != 0)
		return rc;
	struct tt *tt = open_timetable(&settings, TT_OPEN_EXISTING);
	if (!tt)
		return EXIT_REFUSED;
	char next[11];
	tt_add_days(until, 1, next);
	struct tt_run *runs = NULL;
	size_t count = 0;
	rc = tt_runs_between(tt, tt_local_instant_ns(from, 0), tt_local_instant_ns(next, 0), &runs,
			     &count);
	if (rc < 0) {
		fail_message("%s", tt_error(tt));
		tt_close(tt);
		return EXIT_REFUSED;
	}
	size_t kept = 0;
	for (size_t i = 0; i < count; i++)
		if ((wanted_status < 0 || (int)runs[i].status == wanted_status) &&
		    (!category || strcmp(runs[i].category, category) == 0))
			runs[kept++] = runs[i];
	if (args.json)
		print_json(runs, kept);
	else if (format && strcmp(format, "csv") == 0)
		print_csv(runs, kept, separator ? *separator : ',');
	else
		print_text(from, until, runs, kept);
	free(runs);
	tt_close(tt);
	return EXIT_OK;
}
