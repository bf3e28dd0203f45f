/* `loaxa audit`: who changed the timetable, when, and what. */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static const struct option_spec specs[] = { { "since", 1 }, { NULL, 0 } };
static const char usage[] = "loaxa audit [--since YYYY-MM-DD] [--json]";

struct audit_state {
	int json, count;
};

/* Prints text left-aligned in a column of width characters (not bytes). */
static void print_padded(const char *text, int width)
{
	int characters = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		characters += (*p & 0xc0) != 0x80;
	printf("%s%*s", text, characters < width ? width - characters : 0, "");
}

static int print_entry(void *user, const struct tt_audit_entry *a)
{
	struct audit_state *state = user;
	char date[11];
	tt_local_date(a->at_ns, date);
	if (state->json) {
		printf("%s{\"id\":%" PRId64 ",\"at_ns\":%" PRId64 ",\"date\":\"%s\",\"time\":\"",
		       state->count ? "," : "", a->id, a->at_ns, date);
		print_local_time(stdout, a->at_ns, 0);
		printf("\",\"operator\":");
		json_string(stdout, a->operator_name);
		printf(",\"action\":");
		json_string(stdout, a->action);
		printf(",\"subject\":");
		json_string(stdout, a->subject);
		printf(",\"detail\":");
		json_string(stdout, a->detail);
		printf("}");
	} else {
		printf("%.2s/%.2s/%.4s ", date + 8, date + 5, date);
		print_local_time(stdout, a->at_ns, 0);
		printf("  ");
		print_padded(a->operator_name, 13);
		printf("%-22s %-14s %s\n", a->action, a->subject, a->detail);
	}
	state->count++;
	return 0;
}

int cmd_audit(int argc, char **argv)
{
	struct arguments args;
	struct settings settings;
	int rc = begin_command(argc, argv, specs, usage, &args, &settings);
	if (rc >= 0)
		return rc;
	const char *since = option(&args, specs, "since");
	if (since && !tt_valid_date(since)) {
		fail_message("--since '%s' is not a real date; use YYYY-MM-DD", since);
		return EXIT_REFUSED;
	}
	struct tt *tt = open_timetable(&settings, TT_OPEN_EXISTING);
	if (!tt)
		return EXIT_REFUSED;
	struct audit_state state = { .json = args.json };
	if (args.json)
		printf("[");
	rc = tt_audit_each(tt, since ? tt_local_instant_ns(since, 0) : INT64_MIN, print_entry, &state);
	if (args.json)
		printf("]\n");
	else if (rc == 0 && !state.count)
		printf("no changes recorded%s%s\n", since ? " since " : "", since ? since : "");
	if (rc < 0)
		fail_message("%s", tt_error(tt));
	tt_close(tt);
	return rc < 0 ? EXIT_REFUSED : EXIT_OK;
}
