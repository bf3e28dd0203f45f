#include <string.h>

#include "cli/cli.h"
#include "scheduler/log.h"
#include "scheduler/scheduler.h"

static const struct option_spec specs[] = {
	{ "device", 1 }, { "log-level", 1 }, { "no-wait", 0 }, { NULL, 0 },
};
static const char usage[] =
	"loaxa serve [--device PCM] [--no-wait] [--log-level error|warning|info|debug] [--db PATH]";

/* What serve keeps for SIGHUP: the arguments, and the settings the running
 * configuration points into. */
struct serving {
	struct arguments args;
	struct settings settings;
};

static int apply_log_level(const struct serving *s)
{
	const char *text = option(&s->args, specs, "log-level");
	int level = log_parse_level(text ? text : s->settings.log_level);
	if (level < 0) {
		log_message(LOG_ERROR, "unknown log level '%s'; use error, warning, info or debug",
			    text ? text : s->settings.log_level);
		return -1;
	}
	log_set_level(level);
	return 0;
}

/* SIGHUP: reads the configuration again. Times, graces, the log level and
 * the chime apply at once; the database, device and socket need a restart. */
static int reload(void *user, struct sched_config *config)
{
	struct serving *s = user;
	struct settings fresh;
	if (load_settings(&s->args, specs, &fresh) < 0) {
		log_message(LOG_ERROR, "the configuration has errors (see above); keeping the old one");
		return -1;
	}
	const char *device = option(&s->args, specs, "device");
	if (device)
		snprintf(fresh.device, sizeof fresh.device, "%s", device);
	if (strcmp(fresh.device, s->settings.device) != 0 || strcmp(fresh.db_path, s->settings.db_path) ||
	    strcmp(fresh.control_socket, s->settings.control_socket) || fresh.rate != s->settings.rate ||
	    fresh.channels != s->settings.channels || fresh.period_ms != s->settings.period_ms ||
	    fresh.periods != s->settings.periods)
		log_message(LOG_WARNING, "the database, device, socket, rate, channels and buffer change "
			    "only when the station is restarted");
	snprintf(s->settings.log_level, sizeof s->settings.log_level, "%s", fresh.log_level);
	snprintf(s->settings.chime, sizeof s->settings.chime, "%s", fresh.chime);
	snprintf(s->settings.capture_device, sizeof s->settings.capture_device, "%s",
		 fresh.capture_device);
	config->cue_ahead_ms = fresh.cue_ahead_ms;
	config->late_grace_ms = fresh.late_grace_ms;
	config->rejoin_grace_s = fresh.rejoin_grace_s;
	apply_log_level(s);
	log_message(LOG_INFO, "configuration read again%s%s",
		    fresh.config_path[0] ? " from " : "", fresh.config_path);
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	static struct serving s;
	int rc = parse_arguments(argc, argv, specs, &s.args, usage);
	if (rc)
		return rc < 0 ? EXIT_USAGE : EXIT_OK;
	if (s.args.word_count) {
		fail_message("unexpected argument '%s'\nusage: %s", s.args.words[0], usage);
		return EXIT_USAGE;
	}
	if (load_settings(&s.args, specs, &s.settings) < 0)
		return EXIT_REFUSED;
	struct settings *settings = &s.settings;
	const char *device = option(&s.args, specs, "device");
	if (device)
		snprintf(settings->device, sizeof settings->device, "%s", device);
	if (apply_log_level(&s) < 0)
		return EXIT_USAGE;
	struct sched_config config = {
		.db_path = settings->db_path,
		.library_dir = settings->library_dir,
		.playout = {
			.device = settings->device, .rate = settings->rate,
			.channels = settings->channels, .period_ms = settings->period_ms,
			.periods = settings->periods, .realtime_priority = settings->realtime_priority,
		},
		.cue_ahead_ms = settings->cue_ahead_ms,
		.late_grace_ms = settings->late_grace_ms,
		.rejoin_grace_s = settings->rejoin_grace_s,
		.no_wait = option(&s.args, specs, "no-wait") != NULL,
		.control_socket = settings->control_socket,
		.chime_path = settings->chime,
		.capture_device = settings->capture_device,
		.reload = reload,
		.reload_user = &s,
	};
	log_message(LOG_INFO, "loaxa starting: database %s, library %s, time zone %s%s%s",
		    settings->db_path, settings->library_dir, settings->time_zone,
		    settings->config_path[0] ? ", config " : "", settings->config_path);
	sched_block_signals();
	return sched_serve(&config);
}
