#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "playout/clock.h"

static const struct option_spec common_specs[] = {
	{ "db", 1 }, { "config", 1 }, { "json", 0 }, { "help", 0 },
};
#define COMMON_COUNT 4

static int spec_count(const struct option_spec *specs)
{
	int n = 0;
	while (specs && specs[n].name)
		n++;
	return n;
}

/* Looks a name up: common options are indexes 0..3, the command's follow. */
static int find_option(const struct option_spec *specs, const char *name, size_t length)
{
	for (int i = 0; i < COMMON_COUNT; i++)
		if (strlen(common_specs[i].name) == length &&
		    strncmp(common_specs[i].name, name, length) == 0)
			return i;
	for (int i = 0; i < spec_count(specs); i++)
		if (strlen(specs[i].name) == length && strncmp(specs[i].name, name, length) == 0)
			return COMMON_COUNT + i;
	return -1;
}

static int takes_value(const struct option_spec *specs, int index)
{
	return index < COMMON_COUNT ? common_specs[index].takes_value
				    : specs[index - COMMON_COUNT].takes_value;
}

int parse_arguments(int argc, char **argv, const struct option_spec *specs,
		    struct arguments *args, const char *usage)
{
	memset(args, 0, sizeof *args);
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (strncmp(arg, "--", 2) != 0 || strcmp(arg, "--") == 0 || arg[2] == '\0') {
			if (strcmp(arg, "--") == 0) {
				while (++i < argc && args->word_count < 256)
					args->words[args->word_count++] = argv[i];
				break;
			}
			if (args->word_count >= 256) {
				fprintf(stderr, "loaxa: too many arguments\n");
				return -1;
			}
			args->words[args->word_count++] = arg;
			continue;
		}
		const char *name = arg + 2;
		const char *equals = strchr(name, '=');
		size_t length = equals ? (size_t)(equals - name) : strlen(name);
		int index = find_option(specs, name, length);
		if (index < 0 || index >= 32) {
			fprintf(stderr, "loaxa: unknown option '%.*s'\nusage: %s\n", (int)(length + 2),
				arg, usage);
			return -1;
		}
		if (takes_value(specs, index)) {
			if (equals) {
				args->values[index] = equals + 1;
			} else if (i + 1 < argc) {
				args->values[index] = argv[++i];
			} else {
				fprintf(stderr, "loaxa: option '--%s' needs a value\nusage: %s\n", name, usage);
				return -1;
			}
		} else {
			if (equals) {
				fprintf(stderr, "loaxa: option '--%.*s' takes no value\n", (int)length, name);
				return -1;
			}
			args->values[index] = "";
		}
	}
	args->json = args->values[2] != NULL;
	if (args->values[3]) {
		printf("usage: %s\n", usage);
		return 1;
	}
	return 0;
}

const char *option(const struct arguments *args, const struct option_spec *specs,
		   const char *name)
{
	int index = find_option(specs, name, strlen(name));
	return index < 0 ? NULL : args->values[index];
}

static void trim(char *text)
{
	char *start = text;
	while (*start == ' ' || *start == '\t')
		start++;
	memmove(text, start, strlen(start) + 1);
	size_t n = strlen(text);
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\t' || text[n - 1] == '\n' ||
		     text[n - 1] == '\r'))
		text[--n] = '\0';
}

static int set_int(const char *path, int line, const char *key, const char *value, int *out,
		   long long min, long long max)
{
	long long v = parse_count(value, min, max);
	if (v < 0 && !(min < 0)) {
		fprintf(stderr, "loaxa: %s:%d: '%s' must be a whole number from %lld to %lld\n",
			path, line, key, min, max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int set_real(const char *path, int line, const char *key, const char *value, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(value, &end);
	if (errno || end == value || *end) {
		fprintf(stderr, "loaxa: %s:%d: '%s' must be a number\n", path, line, key);
		return -1;
	}
	*out = v;
	return 0;
}

static int read_config(const char *path, struct settings *s)
{
	FILE *file = fopen(path, "r");
	if (!file) {
		fprintf(stderr, "loaxa: cannot read the config file %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(s->config_path, sizeof s->config_path, "%s", path);
	char text[2048];
	int line = 0, rc = 0;
	while (rc == 0 && fgets(text, sizeof text, file)) {
		line++;
		char *hash = strchr(text, '#');
		if (hash)
			*hash = '\0';
		trim(text);
		if (!text[0])
			continue;
		char *equals = strchr(text, '=');
		if (!equals) {
			fprintf(stderr, "loaxa: %s:%d: expected 'key = value'\n", path, line);
			rc = -1;
			break;
		}
		*equals = '\0';
		char *key = text, *value = equals + 1;
		trim(key);
		trim(value);
		if (strcmp(key, "database") == 0)
			snprintf(s->db_path, sizeof s->db_path, "%s", value);
		else if (strcmp(key, "station_name") == 0)
			snprintf(s->station_name, sizeof s->station_name, "%s", value);
		else if (strcmp(key, "organisation") == 0)
			snprintf(s->organisation, sizeof s->organisation, "%s", value);
		else if (strcmp(key, "library") == 0)
			snprintf(s->library_dir, sizeof s->library_dir, "%s", value);
		else if (strcmp(key, "device") == 0)
			snprintf(s->device, sizeof s->device, "%s", value);
		else if (strcmp(key, "rate") == 0)
			rc = set_int(path, line, key, value, &s->rate, 8000, 192000);
		else if (strcmp(key, "channels") == 0)
			rc = set_int(path, line, key, value, &s->channels, 1, 8);
		else if (strcmp(key, "period_ms") == 0)
			rc = set_int(path, line, key, value, &s->period_ms, 1, 1000);
		else if (strcmp(key, "periods") == 0)
			rc = set_int(path, line, key, value, &s->periods, 2, 64);
		else if (strcmp(key, "realtime_priority") == 0)
			rc = set_int(path, line, key, value, &s->realtime_priority, 0, 99);
		else if (strcmp(key, "loudness_target_lufs") == 0)
			rc = set_real(path, line, key, value, &s->loudness_target_lufs);
		else if (strcmp(key, "max_true_peak_dbtp") == 0)
			rc = set_real(path, line, key, value, &s->max_true_peak_dbtp);
		else if (strcmp(key, "cue_ahead_ms") == 0)
			rc = set_int(path, line, key, value, &s->cue_ahead_ms, 1000, 600000);
		else if (strcmp(key, "late_grace_ms") == 0)
			rc = set_int(path, line, key, value, &s->late_grace_ms, 1, 600000);
		else if (strcmp(key, "rejoin_grace_s") == 0)
			rc = set_int(path, line, key, value, &s->rejoin_grace_s, 1, 86400);
		else if (strcmp(key, "import_max_silence_s") == 0)
			rc = set_int(path, line, key, value, &s->import_max_silence_s, 1, 86400);
		else if (strcmp(key, "log_level") == 0)
			snprintf(s->log_level, sizeof s->log_level, "%s", value);
		else if (strcmp(key, "time_zone") == 0)
			snprintf(s->time_zone, sizeof s->time_zone, "%s", value);
		else if (strcmp(key, "control_socket") == 0)
			snprintf(s->control_socket, sizeof s->control_socket, "%s", value);
		else if (strcmp(key, "chime") == 0)
			snprintf(s->chime, sizeof s->chime, "%s", value);
		else if (strcmp(key, "capture_device") == 0)
			snprintf(s->capture_device, sizeof s->capture_device, "%s", value);
		else {
			fprintf(stderr, "loaxa: %s:%d: unknown setting '%s'\n", path, line, key);
			rc = -1;
		}
	}
	fclose(file);
	return rc;
}

/* "hh[:mm[:ss]]" with an optional sign, hours at most max_hours: the offset
 * or rule time of a POSIX TZ string. Returns the text after it, or NULL. */
static const char *posix_time(const char *p, int max_hours)
{
	if (*p == '+' || *p == '-')
		p++;
	for (int part = 0; part < 3; part++) {
		int digits = 0, value = 0;
		while (*p >= '0' && *p <= '9' && digits < 3) {
			value = value * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0 || value > (part == 0 ? max_hours : 59))
			return NULL;
		if (*p != ':' || part == 2)
			break;
		p++;
	}
	return p;
}

/* A zone abbreviation, "ICT" or "<+07>": the text after it, or NULL. */
static const char *posix_zone_name(const char *p)
{
	const char *start = p;
	if (*p == '<') {
		while (*++p && *p != '>')
			if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			      (*p >= '0' && *p <= '9') || *p == '+' || *p == '-'))
				return NULL;
		return *p == '>' && p - start >= 4 ? p + 1 : NULL;
	}
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p - start >= 3 ? p : NULL;
}

/* A rule date: "Jn", "n" or "Mm.w.d", then an optional "/time". */
static const char *posix_rule(const char *p)
{
	char *end;
	if (*p == 'M') {
		long month = strtol(p + 1, &end, 10);
		if (end == p + 1 || month < 1 || month > 12 || *end != '.')
			return NULL;
		long week = strtol(p = end + 1, &end, 10);
		if (end == p || week < 1 || week > 5 || *end != '.')
			return NULL;
		long day = strtol(p = end + 1, &end, 10);
		if (end == p || day < 0 || day > 6)
			return NULL;
	} else {
		const char *digits = *p == 'J' ? p + 1 : p;
		if (*digits < '0' || *digits > '9')
			return NULL;
		long day = strtol(digits, &end, 10);
		if (day < (*p == 'J') || day > 365)
			return NULL;
	}
	return *end == '/' ? posix_time(end + 1, 167) : end;
}

/* A POSIX TZ string: "ICT-7", "<+07>-7", "EST5EDT,M3.2.0,M11.1.0". The
 * offset is required: without one the C library quietly means UTC. */
static int posix_time_zone(const char *p)
{
	if (!(p = posix_zone_name(p)) || !(p = posix_time(p, 24)))
		return 0;
	if (!*p)
		return 1;
	if (!(p = posix_zone_name(p)))
		return 0;
	if (*p && *p != ',' && !(p = posix_time(p, 24)))
		return 0;
	if (!*p)
		return 1;
	if (*p != ',' || !(p = posix_rule(p + 1)) || *p != ',' || !(p = posix_rule(p + 1)))
		return 0;
	return *p == '\0';
}

/* Would the C library honour zone (a TZ value) rather than quietly use UTC?
 * A zone file (under $TZDIR, else /usr/share/zoneinfo, or an absolute path;
 * a leading ':' names a file only) or a POSIX TZ string. *file receives the
 * zone file looked for. */
static int time_zone_known(const char *zone, char *file, size_t file_size)
{
	int file_only = zone[0] == ':';
	const char *name = zone + file_only;
	const char *directory = getenv("TZDIR");
	if (!directory || !*directory)
		directory = "/usr/share/zoneinfo";
	if (name[0] == '/')
		snprintf(file, file_size, "%s", name);
	else
		snprintf(file, file_size, "%s/%s", directory, name);
	char magic[4] = { 0 };
	FILE *in = name[0] ? fopen(file, "rb") : NULL;
	if (in) {
		size_t got = fread(magic, 1, sizeof magic, in);
		fclose(in);
		if (got == sizeof magic && memcmp(magic, "TZif", 4) == 0)
			return 1;
	}
	return !file_only && posix_time_zone(name);
}

/* Sets TZ to the station's time zone: the config's, else $TZ, else
 * Vietnam's. An unknown one (a misspelt name, tzdata missing) is refused
 * when check_zone is set, before TZ is changed. */
static int set_time_zone(struct settings *s, int check_zone)
{
	char zone[sizeof s->time_zone];
	const char *source;
	if (s->time_zone[0]) {
		snprintf(zone, sizeof zone, "%s", s->time_zone);
		source = "time_zone in ";
	} else if (getenv("TZ") && *getenv("TZ")) {
		snprintf(zone, sizeof zone, "%s", getenv("TZ"));
		source = "the environment's TZ";
	} else {
		snprintf(zone, sizeof zone, "Asia/Ho_Chi_Minh");
		source = "the default";
	}
	char file[1200];
	if (check_zone && !time_zone_known(zone, file, sizeof file)) {
		fail_message("the time zone '%s' (%s%s) is unknown: there is no zone file %s and it is "
			     "not a POSIX TZ string such as ICT-7, so every time would be taken as UTC "
			     "(7 hours off in Vietnam). Set time_zone in the configuration to a zone "
			     "name such as Asia/Ho_Chi_Minh (if /usr/share/zoneinfo lacks it, install "
			     "tzdata: apt-get install tzdata) or to a POSIX string such as ICT-7",
			     zone, source, s->time_zone[0] ? s->config_path : "", file);
		return -1;
	}
	setenv("TZ", zone, 1);
	snprintf(s->time_zone, sizeof s->time_zone, "%s", zone);
	tzset();
	return 0;
}

static int read_settings(const struct arguments *args, const struct option_spec *specs,
			 struct settings *s, int check_zone)
{
	memset(s, 0, sizeof *s);
	/* the program's defaults: the same values as docs/loaxa.conf.sample */
	snprintf(s->device, sizeof s->device, "default");
	s->rate = 48000;
	s->channels = 2;
	s->period_ms = 100;
	s->periods = 4;
	s->realtime_priority = 50;
	s->loudness_target_lufs = -18.0;
	s->max_true_peak_dbtp = -1.0;
	s->cue_ahead_ms = 8000;
	s->late_grace_ms = 2000;
	s->rejoin_grace_s = 600;
	s->import_max_silence_s = 30;
	snprintf(s->log_level, sizeof s->log_level, "info");
	snprintf(s->capture_device, sizeof s->capture_device, "default");

	const char *config = option(args, specs, "config");
	if (!config)
		config = getenv("LOAXA_CONFIG");
	if (config && *config) {
		if (read_config(config, s) < 0)
			return -1;
	} else if (access("loaxa.conf", R_OK) == 0) {
		if (read_config("loaxa.conf", s) < 0)
			return -1;
	} else if (access("/etc/loaxa/loaxa.conf", R_OK) == 0) {
		if (read_config("/etc/loaxa/loaxa.conf", s) < 0)
			return -1;
	}
	const char *db = option(args, specs, "db");
	if (db)
		snprintf(s->db_path, sizeof s->db_path, "%s", db);
	else if (!s->db_path[0] && getenv("LOAXA_DB") && *getenv("LOAXA_DB"))
		snprintf(s->db_path, sizeof s->db_path, "%s", getenv("LOAXA_DB"));
	else if (!s->db_path[0])
		snprintf(s->db_path, sizeof s->db_path, "loaxa.db");
	char path_copy[1024], db_dir[1024];
	snprintf(path_copy, sizeof path_copy, "%s", s->db_path);
	snprintf(db_dir, sizeof db_dir, "%s", dirname(path_copy));
	if (!s->library_dir[0])
		snprintf(s->library_dir, sizeof s->library_dir, "%s/loaxa-media", db_dir);
	if (!s->control_socket[0])
		snprintf(s->control_socket, sizeof s->control_socket, "%s/loaxa.sock", db_dir);
	if (set_time_zone(s, check_zone) < 0)
		return -1;
	/* the station's clock, a test clock's offset included, for every
	 * command: "today", "in the past", audit and import times */
	station_clock_refresh();
	return 0;
}

int load_settings(const struct arguments *args, const struct option_spec *specs,
		  struct settings *s)
{
	return read_settings(args, specs, s, 1);
}

int load_settings_for_control(const struct arguments *args, const struct option_spec *specs,
			      struct settings *s)
{
	return read_settings(args, specs, s, 0);
}

struct tt *open_timetable(const struct settings *settings, enum tt_open_mode mode)
{
	struct tt *tt = NULL;
	if (tt_open(&tt, settings->db_path, mode) < 0) {
		fprintf(stderr, "loaxa: %s\n", tt_error(tt));
		tt_close(tt);
		return NULL;
	}
	return tt;
}

void json_string(FILE *out, const char *text)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

void print_local_time(FILE *out, int64_t instant_ns, int with_ms)
{
	if (instant_ns == 0) {
		fputs(with_ms ? "--:--:--.---" : "--:--:--", out);
		return;
	}
	time_t seconds = (time_t)(instant_ns / 1000000000LL);
	struct tm local;
	localtime_r(&seconds, &local);
	char text[16];
	strftime(text, sizeof text, "%H:%M:%S", &local);
	if (with_ms)
		fprintf(out, "%s.%03d", text, (int)(instant_ns % 1000000000LL / 1000000));
	else
		fputs(text, out);
}

int64_t now_ns(void)
{
	return station_clock_ns();
}

void fail_message(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("loaxa: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

long long parse_count(const char *text, long long min, long long max)
{
	if (!text || !*text)
		return -1;
	char *end;
	errno = 0;
	long long value = strtoll(text, &end, 10);
	if (errno || *end || value < min || value > max)
		return -1;
	return value;
}

static int check_options(const struct arguments *args, const struct option_spec *specs,
			 const char *const *allowed, const char *command)
{
	for (int i = 0; specs[i].name; i++) {
		if (!args->values[COMMON_COUNT + i])
			continue;
		int ok = 0;
		for (int j = 0; allowed && allowed[j]; j++)
			ok |= strcmp(allowed[j], specs[i].name) == 0;
		if (!ok) {
			fail_message("option --%s does not apply to '%s'", specs[i].name, command);
			return -1;
		}
	}
	return 0;
}

int parse_action(int argc, char **argv, const struct option_spec *specs,
		 const struct action_spec *actions, const char *command, const char *usage,
		 struct arguments *args, int *status)
{
	int rc = parse_arguments(argc, argv, specs, args, usage);
	*status = rc < 0 ? EXIT_USAGE : EXIT_OK;
	if (rc)
		return -1;
	*status = EXIT_USAGE;
	if (args->word_count < 1) {
		fail_message("%s needs an action\nusage: %s", command, usage);
		return -1;
	}
	const char *action = args->words[0];
	for (int i = 0; actions[i].name; i++) {
		if (strcmp(action, actions[i].name) != 0)
			continue;
		if (check_options(args, specs, actions[i].options, action) < 0)
			return -1;
		if (args->word_count < actions[i].min_words || args->word_count > actions[i].max_words) {
			fail_message("%s %s %s\nusage: %s", command, action,
				     actions[i].words_hint ? actions[i].words_hint
							   : "has the wrong number of arguments", usage);
			return -1;
		}
		return i;
	}
	fail_message("unknown %s action '%s'\nusage: %s", command, action, usage);
	return -1;
}

struct tt *open_timetable_as(const struct settings *settings, const char *operator_name)
{
	struct tt *tt = open_timetable(settings, TT_OPEN_EXISTING);
	if (tt && operator_name && tt_set_operator(tt, operator_name) < 0) {
		fail_message("--operator: %s", tt_error(tt));
		tt_close(tt);
		return NULL;
	}
	return tt;
}

int read_period_dates(const char *first, const char *last, char from[11], char until[11])
{
	if (!first || !last) {
		fail_message("--from and --until go together");
		return EXIT_USAGE;
	}
	const char *bad = tt_parse_date_lenient(first, from) < 0 ? first
			  : tt_parse_date_lenient(last, until) < 0 ? last : NULL;
	if (bad) {
		fail_message("'%s' is not a real date; use dd/mm/yyyy (or YYYY-MM-DD)", bad);
		return EXIT_REFUSED;
	}
	if (strcmp(from, until) > 0) {
		fail_message("the period ends (%s) before it begins (%s)", last, first);
		return EXIT_REFUSED;
	}
	return 0;
}

int check_table_format(const char *format, const char *separator)
{
	if (format && strcmp(format, "text") != 0 && strcmp(format, "csv") != 0) {
		fail_message("--format is text or csv (and --json for JSON), not '%s'", format);
		return EXIT_USAGE;
	}
	if (separator && (strlen(separator) != 1 || strchr("\"\r\n", *separator))) {
		fail_message("--separator is one character, such as ';' or ','");
		return EXIT_USAGE;
	}
	return 0;
}

void format_duration(int64_t ns, char *out, size_t size)
{
	int64_t seconds = (ns + 500000000LL) / 1000000000LL;
	if (seconds >= 3600)
		snprintf(out, size, "%lld h %02lld min %02lld s", (long long)(seconds / 3600),
			 (long long)(seconds / 60 % 60), (long long)(seconds % 60));
	else if (seconds >= 60)
		snprintf(out, size, "%lld min %02lld s", (long long)(seconds / 60), (long long)(seconds % 60));
	else
		snprintf(out, size, "%lld s", (long long)seconds);
}

void format_clock(int second_of_day, char out[9])
{
	snprintf(out, 9, "%02d:%02d:%02d", second_of_day / 3600 % 100, second_of_day / 60 % 60,
		 second_of_day % 60);
}

int read_file(const char *path, char **text, size_t *length)
{
	*text = NULL;
	*length = 0;
	FILE *file = fopen(path, "rb");
	if (!file) {
		fail_message("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	size_t capacity = 0;
	int rc = 0;
	for (;;) {
		if (*length + 65536 > capacity) {
			capacity = capacity ? capacity * 2 : 65536;
			char *grown = realloc(*text, capacity + 1);
			if (!grown) {
				fail_message("%s is too large to read", path);
				rc = -1;
				break;
			}
			*text = grown;
		}
		size_t n = fread(*text + *length, 1, capacity - *length, file);
		*length += n;
		if (n == 0)
			break;
	}
	if (rc == 0 && ferror(file)) {
		fail_message("cannot read %s: %s", path, strerror(errno));
		rc = -1;
	}
	fclose(file);
	if (rc < 0) {
		free(*text);
		*text = NULL;
	} else {
		(*text)[*length] = '\0';
	}
	return rc;
}

int begin_command(int argc, char **argv, const struct option_spec *specs, const char *usage,
		  struct arguments *args, struct settings *settings)
{
	int rc = parse_arguments(argc, argv, specs, args, usage);
	if (rc)
		return rc < 0 ? EXIT_USAGE : EXIT_OK;
	if (args->word_count) {
		fail_message("unexpected argument '%s'\nusage: %s", args->words[0], usage);
		return EXIT_USAGE;
	}
	if (load_settings(args, specs, settings) < 0)
		return EXIT_REFUSED;
	return -1;
}
