#include "cli/cli.h"

static const struct option_spec specs[] = { { NULL, 0 } };

int cmd_init(int argc, char **argv)
{
	struct arguments args;
	struct settings settings;
	int rc = begin_command(argc, argv, specs, "loaxa init [--db PATH]", &args, &settings);
	if (rc >= 0)
		return rc;
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
