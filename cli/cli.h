/*
 * The `loaxa` command line: argument parsing shared by the subcommands,
 * settings (config file, environment, defaults), and output helpers.
 * Exit statuses: 0 done, 1 refused (bad input, conflict, failure), 2 usage.
 */
#ifndef LOAXA_CLI_H
#define LOAXA_CLI_H

#include <stdio.h>

#include "schedules/timetable.h"

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2 };

/* Settings from the config file (see docs/loaxa.conf.sample). */
struct settings {
	char config_path[1024];    /* the file read, "" if none */
	char db_path[1024];
	char library_dir[1024];
	char station_name[256];     /* on reports: "Đài truyền thanh xã ..." */
	char organisation[256];     /* on reports: "UBND xã ..." */
	char device[512];
	int rate, channels, period_ms, periods, realtime_priority;
	double loudness_target_lufs, max_true_peak_dbtp;
	int cue_ahead_ms, late_grace_ms, rejoin_grace_s;
	int import_max_silence_s;   /* longest silence import takes without --force */
	char log_level[16];
	char time_zone[64];
	char control_socket[1024];
	char chime[1024];           /* "" = the built-in chime */
	char capture_device[512];
};

/* One option a subcommand accepts. */
struct option_spec {
	const char *name;      /* without the leading "--" */
	int takes_value;
};

/* Parsed arguments: options and the remaining words (positionals). */
struct arguments {
	const char *values[32];    /* by option index; "" for a flag that was given */
	const char *words[256];
	int word_count;
	int json;
	const char *program;
};

/* Parses argv after the subcommand words; --db, --config and --json are
 * always accepted. Prints the problem and returns -1 on a usage error. */
int parse_arguments(int argc, char **argv, const struct option_spec *specs,
		    struct arguments *args, const char *usage);
const char *option(const struct arguments *args, const struct option_spec *specs,
		   const char *name);
/* The start of a subcommand that takes options but no words: parses argv and
 * reads the settings. Returns -1 to go on, or the exit status to return now
 * (after --help, a usage error or a bad configuration). */
int begin_command(int argc, char **argv, const struct option_spec *specs, const char *usage,
		  struct arguments *args, struct settings *settings);

/* Reads the settings for this invocation (--config / LOAXA_CONFIG / ./loaxa.conf /
 * /etc/loaxa/loaxa.conf, then --db / LOAXA_DB). Sets TZ, and reads the test
 * clock's offset (playout/clock.h) so that now_ns() is the station's clock.
 * Returns -1 with a message printed if the config file is bad. */
int load_settings(const struct arguments *args, const struct option_spec *specs,
		  struct settings *settings);
/* The time zone (time_zone in the config, else $TZ, else Asia/Ho_Chi_Minh)
 * must be one the C library knows: a zone file (/usr/share/zoneinfo/NAME, or
 * under $TZDIR) or a POSIX TZ string with its offset ("ICT-7"); an unknown
 * one would quietly mean UTC, so load_settings refuses it with a message.
 * load_settings_for_control does not: the commands that only ask the
 * running station to act now (emergency, play, live, stop, status) use no
 * local time, and a typo in an operator's TZ must not hold back an
 * emergency. */
int load_settings_for_control(const struct arguments *args, const struct option_spec *specs,
			      struct settings *settings);

/* Opens the timetable, printing the error on failure. */
struct tt *open_timetable(const struct settings *settings, enum tt_open_mode mode);

/* Output */
void json_string(FILE *out, const char *text);
void print_local_time(FILE *out, int64_t instant_ns, int with_ms);
/* The station's clock: station_clock_ns(), the test clock included. */
int64_t now_ns(void);
void fail_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Parses a whole decimal integer; -1 if not one (or out of range). */
long long parse_count(const char *text, long long min, long long max);

/* One action of a command with actions (`loaxa schedule add ...`). */
struct action_spec {
	const char *name;              /* NULL ends the table */
	const char *const *options;    /* the command's options it takes, NULL-terminated */
	int min_words, max_words;      /* words after the command, the action's own included */
	const char *words_hint;        /* e.g. "needs one event ID"; NULL: a general message */
};
/* Parses the arguments, finds the action and checks its options and words.
 * Returns the action's index, or -1 with *status the exit status (usage
 * errors printed; EXIT_OK after --help). */
int parse_action(int argc, char **argv, const struct option_spec *specs,
		 const struct action_spec *actions, const char *command, const char *usage,
		 struct arguments *args, int *status);
/* open_timetable, then the audit trail names operator_name (NULL: the OS user). */
struct tt *open_timetable_as(const struct settings *settings, const char *operator_name);
/* --from and --until (both needed) into dates, the first not after the
 * last; 0, or the exit status with the message printed. */
int read_period_dates(const char *first, const char *last, char from[11], char until[11]);
/* --format (text or csv, NULL: text) and --separator (one character, NULL:
 * the default) are ones a table command takes; 0, or EXIT_USAGE printed. */
int check_table_format(const char *format, const char *separator);
/* "12 min 05 s", "1 h 02 min 00 s", "45 s" */
void format_duration(int64_t ns, char *out, size_t size);
/* "05:30:00" */
void format_clock(int second_of_day, char out[9]);
/* Reads a whole file into a terminated malloc'd buffer; -1 with a message. */
int read_file(const char *path, char **text, size_t *length);

/* Subcommands */
int cmd_init(int argc, char **argv);
int cmd_media(int argc, char **argv);
int cmd_schedule(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_emergency(int argc, char **argv);
int cmd_play(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* Imports one file into the library (cmd_media.c); *id receives its media
 * id. On failure prints why, naming the file, and returns -1. A silence
 * longer than settings->import_max_silence_s refuses the file unless
 * `force` (then it is only a warning). */
int import_media_file(struct tt *tt, const struct settings *settings, const char *file,
		      const char *title, const char *category, double trim_db, int force,
		      int64_t *id, int quiet);
int cmd_programme(int argc, char **argv);
int cmd_audit(int argc, char **argv);

#endif
