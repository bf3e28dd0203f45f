#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "schedules/report.h"

static const struct option_spec specs[] = { { "date", 1 }, { NULL, 0 } };
static const char usage[] = "loaxa log [--date YYYY-MM-DD] [--json]\n"
			    "       loaxa log verify [--json]   (was any row changed, inserted or removed?)";

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

static void print_text(const char *date, const struct tt_run *runs, size_t count)
{
	printf("As-run log %.2s/%.2s/%.4s\n", date + 8, date + 5, date);
	if (!count) {
		printf("  nothing went on air and nothing was due\n");
		return;
	}
	printf("  %-12s %-12s %9s %9s  %-11s %-9s %s\n", "scheduled", "on air", "error ms",
	       "seconds", "status", "priority", "title");
	for (size_t i = 0; i < count; i++) {
		const struct tt_run *r = &runs[i];
		printf("  ");
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
		if (r->xruns)
			printf(" [%d underruns]", r->xruns);
		if (r->detail[0])
			printf(" — %s", r->detail);
		printf("\n");
	}
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
	char date[11];
	const char *given = option(&args, specs, "date");
	if (given) {
		if (!tt_valid_date(given)) {
			fail_message("'%s' is not a real date; use YYYY-MM-DD", given);
			return EXIT_REFUSED;
		}
		snprintf(date, sizeof date, "%s", given);
	} else {
		tt_local_date(now_ns(), date);
	}
	struct tt *tt = open_timetable(&settings, TT_OPEN_EXISTING);
	if (!tt)
		return EXIT_REFUSED;
	char next[11];
	tt_add_days(date, 1, next);
	struct tt_run *runs = NULL;
	size_t count = 0;
	rc = tt_runs_between(tt, tt_local_instant_ns(date, 0), tt_local_instant_ns(next, 0), &runs, &count);
	if (rc < 0) {
		fail_message("%s", tt_error(tt));
		tt_close(tt);
		return EXIT_REFUSED;
	}
	if (args.json)
		print_json(runs, count);
	else
		print_text(date, runs, count);
	free(runs);
	tt_close(tt);
	return EXIT_OK;
}
