#include "cli/cli.h"

static const struct option_spec specs[] = { { NULL, 0 } };

int cmd_init(int argc, char **argv)
{
	struct arguments args;
	struct settings settings;
	int rc = parse_arguments(argc, argv, specs, &args, "loaxa init [--db PATH]");
	if (rc)
		return rc < 0 ? EXIT_USAGE : EXIT_OK;
	if (args.word_count) {
		fail_message("init takes no arguments");
		return EXIT_USAGE;
	}
	if (load_settings(&args, specs, &settings) < 0)
		return EXIT_REFUSED;
	struct tt *tt = open_timetable(&settings, TT_OPEN_CREATE);
	if (!tt)
		return EXIT_REFUSED;
	int version = tt_schema_version(tt);
	if (args.json) {
		printf("{\"database\":");
		json_string(stdout, settings.db_path);
		printf(",\"schema_version\":%d}\n", version);
	} else {
		printf("database %s ready (schema version %d)\n", settings.db_path, version);
	}
	tt_close(tt);
	return EXIT_OK;
}
