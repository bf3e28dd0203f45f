#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "init", cmd_init, "create or upgrade the database" },
	{ "media", cmd_media, "import, list, show or remove audio in the library" },
	{ "schedule", cmd_schedule, "add, list, show or change timetable events" },
	{ "programme", cmd_programme, "create and edit programmes (ordered media items)" },
	{ "audit", cmd_audit, "who changed the timetable, when, and what" },
	{ "serve", cmd_serve, "run the station (foreground)" },
	{ "log", cmd_log, "the as-run log: what really went on air" },
	{ "report", cmd_report, "what went on air over a month or a period (Vietnamese)" },
	{ "emergency", cmd_emergency, "put an emergency announcement on air now" },
	{ "play", cmd_play, "play an item now (manual broadcast)" },
	{ "live", cmd_live, "put a microphone or line input on air now" },
	{ "stop", cmd_stop, "end the emergency or manual broadcast now" },
	{ "status", cmd_status, "what is on air, what is next, the sound device" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: loaxa COMMAND [ARGS] [--db PATH] [--config FILE] [--json]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'loaxa COMMAND --help' shows a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 2, argv + 2);
	fprintf(stderr, "loaxa: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
