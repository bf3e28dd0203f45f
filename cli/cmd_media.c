#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "cli/cli.h"
#include "media/media.h"

static const struct option_spec specs[] = {
	{ "title", 1 }, { "category", 1 }, { "gain-trim", 1 }, { "force", 0 }, { NULL, 0 },
};
static const char usage[] =
	"loaxa media import FILE... [--title T] [--category C] [--gain-trim DB] [--force]\n"
	"       loaxa media list | show ID | remove ID [--force]";

struct progress {
	const char *name;
	int shown;
};

static void show_progress(void *user, double fraction)
{
	struct progress *p = user;
	fprintf(stderr, "\r  %s: %3.0f%%", p->name, fraction * 100.0);
	p->shown = 1;
}

/* Copies src into dst (cut at a character boundary to fit), each byte that
 * is not part of a valid UTF-8 character replaced by U+FFFD (a file name
 * from an old Windows zip, say). Returns how many bytes were replaced. */
static int copy_as_utf8(char *dst, size_t size, const char *src)
{
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	locale_t before = utf8 ? uselocale(utf8) : (locale_t)0;
	size_t used = 0, left = strlen(src);
	mbstate_t state;
	int replaced = 0;

	memset(&state, 0, sizeof state);
	while (left > 0) {
		/* without a UTF-8 locale the bytes go through as they are */
		size_t n = utf8 ? mbrtowc(NULL, src, left, &state) : 1, length = n;
		const char *piece = src;
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			piece = "\xef\xbf\xbd";
			length = 3;
			n = 1;
			replaced++;
			memset(&state, 0, sizeof state);
		}
		if (used + length >= size)
			break;
		memcpy(dst + used, piece, length);
		used += length;
		src += n;
		left -= n;
	}
	if (size)
		dst[used] = '\0';
	if (utf8) {
		uselocale(before);
		freelocale(utf8);
	}
	return replaced;
}

/* Why import refused the file, for the operator. */
static const char *why_not_imported(int err)
{
	switch (err) {
	case -ENOENT:
		return "there is no such file; check its name and folder";
	case -EACCES:
	case -EPERM:
		return "loaxa is not allowed to read it; check the file's permissions";
	case -EISDIR:
		return "it is a folder, not a file; import the audio files in it";
	case -EINVAL:
		return "it is not a regular file (a device, a pipe or a socket)";
	case -ENOTDIR:
		return "a part of its path is not a folder; check the path";
	default:
		return media_strerror(err);
	}
}

/* A position in the file as the operator's players show it, to the nearest
 * second: "mm:ss", or "h:mm:ss" from an hour on. */
static void format_position(int64_t frames, int rate, char *out, size_t size)
{
	int64_t seconds = rate > 0 ? (frames + rate / 2) / rate : 0;
	if (seconds >= 3600)
		snprintf(out, size, "%" PRId64 ":%02d:%02d", seconds / 3600, (int)(seconds / 60 % 60),
			 (int)(seconds % 60));
	else
		snprintf(out, size, "%02d:%02d", (int)(seconds / 60), (int)(seconds % 60));
}

static void fill_row(struct tt_media *row, const struct media_analysis *a, const char *file,
		     const char *stored, const char *title, const char *category,
		     double gain_db, double trim_db)
{
	memset(row, 0, sizeof *row);
	char copy[4096];
	snprintf(copy, sizeof copy, "%s", file);
	snprintf(row->sha256, sizeof row->sha256, "%s", a->sha256_hex);
	snprintf(row->path, sizeof row->path, "%s", stored);
	copy_as_utf8(row->original_name, sizeof row->original_name, basename(copy));
	if (title && *title) {
		copy_as_utf8(row->title, sizeof row->title, title);
	} else if (a->title[0]) {
		copy_as_utf8(row->title, sizeof row->title, a->title);
	} else {
		/* the file name without its extension */
		snprintf(row->title, sizeof row->title, "%s", row->original_name);
		char *dot = strrchr(row->title, '.');
		if (dot && dot != row->title)
			*dot = '\0';
	}
	/* one line: a file name may hold a newline or a tab */
	media_clean_title(row->title);
	if (!row->title[0])
		snprintf(row->title, sizeof row->title, "%s", a->sha256_hex);
	copy_as_utf8(row->category, sizeof row->category, category ? category : "");
	media_clean_title(row->category);
	snprintf(row->codec, sizeof row->codec, "%s", a->info.codec);
	row->rate = a->info.rate;
	row->channels = a->info.channels;
	row->frames = a->info.frames;
	row->loudness_lufs = a->silent ? NAN : a->integrated_lufs;
	row->loudness_range_lu = a->silent ? NAN : a->loudness_range_lu;
	row->true_peak_dbtp = a->silent ? NAN : a->true_peak_dbtp;
	row->sample_peak_dbfs = a->silent ? NAN : a->sample_peak_dbfs;
	row->leading_silence_frames = a->leading_silence_frames;
	row->trailing_silence_frames = a->trailing_silence_frames;
	row->gain_db = gain_db;
	row->trim_db = trim_db;
}

static void json_number(const char *key, double value)
{
	printf(",\"%s\":", key);
	if (isfinite(value))
		printf("%.2f", value);
	else
		printf("null");
}

static void print_media_json(const struct tt_media *m)
{
	printf("{\"id\":%" PRId64 ",\"title\":", m->id);
	json_string(stdout, m->title);
	printf(",\"category\":");
	json_string(stdout, m->category);
	printf(",\"original_name\":");
	json_string(stdout, m->original_name);
	printf(",\"sha256\":\"%s\",\"path\":", m->sha256);
	json_string(stdout, m->path);
	printf(",\"codec\":\"%s\",\"rate\":%d,\"channels\":%d,\"frames\":%" PRId64
	       ",\"duration_s\":%.3f", m->codec, m->rate, m->channels, m->frames,
	       (double)m->frames / m->rate);
	json_number("loudness_lufs", m->loudness_lufs);
	json_number("loudness_range_lu", m->loudness_range_lu);
	json_number("true_peak_dbtp", m->true_peak_dbtp);
	json_number("sample_peak_dbfs", m->sample_peak_dbfs);
	printf(",\"leading_silence_frames\":%" PRId64 ",\"trailing_silence_frames\":%" PRId64,
	       m->leading_silence_frames, m->trailing_silence_frames);
	json_number("gain_db", m->gain_db);
	json_number("trim_db", m->trim_db);
	printf(",\"imported_at\":\"%s\"}", m->imported_at);
}

static void print_measurements(FILE *out, const struct tt_media *m)
{
	fprintf(out, "%.3f s, %s %d Hz %d ch, ", (double)m->frames / m->rate, m->codec, m->rate,
		m->channels);
	if (isfinite(m->loudness_lufs))
		fprintf(out, "%.1f LUFS, LRA %.1f LU, true peak %.1f dBTP, gain %+.1f dB",
			m->loudness_lufs, m->loudness_range_lu, m->true_peak_dbtp, m->gain_db);
	else
		fprintf(out, "silent");
}

/* A silence longer than import_max_silence_s: refuses the file (returns -1)
 * unless force, when it is a warning; says where it is, naming the file. */
static int judge_silence(const struct settings *settings, const char *file,
			 const struct media_analysis *a, int force)
{
	int64_t limit_frames = (int64_t)settings->import_max_silence_s * a->info.rate;
	if (a->longest_silence_frames <= limit_frames)
		return 0;
	char from[32], to[32], what[160];
	format_position(a->longest_silence_start_frame, a->info.rate, from, sizeof from);
	format_position(a->longest_silence_start_frame + a->longest_silence_frames, a->info.rate,
			to, sizeof to);
	if (a->silent)
		snprintf(what, sizeof what, "it is silent from start to end (%s, nothing above "
			 "-60 dBFS)", to);
	else
		snprintf(what, sizeof what, "it is silent for %.1f s, from %s to %s (nothing above "
			 "-60 dBFS)", (double)a->longest_silence_frames / a->info.rate, from, to);
	if (force) {
		if (!a->silent) /* else import_one says it is entirely silent */
			fprintf(stderr, "loaxa: warning: %s: %s\n", file, what);
		return 0;
	}
	fprintf(stderr, "loaxa: %s: not imported: %s, longer than the %d s of silence an import "
		"may hold (import_max_silence_s in the config); %s, or import it with --force if "
		"it should air so\n", file, what, settings->import_max_silence_s,
		a->silent ? "check that the right file was chosen" : "cut the silence out");
	return -1;
}

/* Analyses, stores and records one file; prints why it failed, naming it,
 * and (unless quiet) its measurements. */
static int import_one(struct tt *tt, const struct settings *settings, const char *file,
		      const char *title, const char *category, double trim_db, int force,
		      struct tt_media *row, int *existed, int quiet)
{
	struct media_analysis analysis;
	struct progress progress = { .name = file };
	int rc = media_analyse(file, &analysis, isatty(STDERR_FILENO) ? show_progress : NULL,
			       &progress);
	if (progress.shown)
		fprintf(stderr, "\r\033[K");
	if (rc == MEDIA_ERR_UNSEEKABLE && analysis.unseekable_frame >= 0) {
		char at[32];
		format_position(analysis.unseekable_frame, analysis.info.rate, at, sizeof at);
		fprintf(stderr, "loaxa: %s: not imported: %s (the first position that failed: %s)\n",
			file, media_strerror(rc), at);
		return -1;
	}
	if (rc < 0) {
		fprintf(stderr, "loaxa: %s: not imported: %s\n", file, why_not_imported(rc));
		return -1;
	}
	if (judge_silence(settings, file, &analysis, force) < 0)
		return -1;
	double gain = media_playout_gain_db(&analysis, settings->loudness_target_lufs,
					    settings->max_true_peak_dbtp, trim_db);
	char stored[300];
	rc = media_library_store(settings->library_dir, file, &analysis, stored, sizeof stored);
	int64_t needed, available;
	struct stat source;
	if (rc == -ENOSPC && stat(file, &source) == 0 &&
	    media_library_room(settings->library_dir, source.st_size, &needed, &available) == -ENOSPC) {
		fprintf(stderr, "loaxa: %s: not imported: the library's disk (%s) has %.1f MiB free, "
			"and storing this file needs %.1f MiB (its %.1f MiB and %lld MiB kept free "
			"for the database and logs); free some space and try again\n", file,
			settings->library_dir, available / 1048576.0, needed / 1048576.0,
			source.st_size / 1048576.0, MEDIA_LIBRARY_MARGIN_BYTES / 1048576);
		return -1;
	}
	if (rc < 0) {
		fprintf(stderr, "loaxa: %s: not imported: cannot store it in %s: %s\n", file,
			settings->library_dir, media_strerror(rc));
		return -1;
	}
	fill_row(row, &analysis, file, stored, title, category, gain, trim_db);
	int64_t id;
	if (tt_media_add(tt, row, &id, existed) < 0) {
		fprintf(stderr, "loaxa: %s: not imported: %s\n", file, tt_error(tt));
		return -1;
	}
	/* the row as stored: its import time, or the earlier import's values */
	tt_media_get(tt, id, row);
	row->id = id;
	if (!quiet) {
		fprintf(stderr, "  %s → media %" PRId64 "%s: ", file, id,
			*existed ? " (already in the library)" : "");
		print_measurements(stderr, row);
		fprintf(stderr, "\n");
	}
	if (analysis.silent)
		fprintf(stderr, "loaxa: warning: %s is entirely silent\n", file);
	return 0;
}

int import_media_file(struct tt *tt, const struct settings *settings, const char *file,
		      const char *title, const char *category, double trim_db, int force,
		      int64_t *id, int quiet)
{
	struct tt_media row;
	int existed;
	if (import_one(tt, settings, file, title, category, trim_db, force, &row, &existed,
		       quiet) < 0)
		return -1;
	*id = row.id;
	return 0;
}

static int import_files(const struct arguments *args, const struct settings *settings)
{
	const char *title = option(args, specs, "title");
	const char *category = option(args, specs, "category");
	const char *trim_text = option(args, specs, "gain-trim");
	int force = option(args, specs, "force") != NULL;
	double trim_db = 0;
	if (trim_text) {
		char *end;
		trim_db = strtod(trim_text, &end);
		if (end == trim_text || *end || trim_db < -14.0 || trim_db > 14.0) {
			fail_message("--gain-trim must be a number of dB from -14 to 14");
			return EXIT_REFUSED;
		}
	}
	if (args->word_count < 2) {
		fail_message("media import needs at least one FILE\nusage: %s", usage);
		return EXIT_USAGE;
	}
	if (title && args->word_count > 2) {
		fail_message("--title applies to one file; import the files one by one to title each");
		return EXIT_USAGE;
	}
	char checked[512];
	const char *invalid = NULL;
	if (title && copy_as_utf8(checked, sizeof checked, title))
		invalid = "title";
	else if (category && copy_as_utf8(checked, sizeof checked, category))
		invalid = "category";
	if (invalid) {
		fail_message("the %s is not valid UTF-8 text; type it again or save it as UTF-8",
			     invalid);
		return EXIT_REFUSED;
	}
	if (title) {
		copy_as_utf8(checked, sizeof checked, title);
		media_clean_title(checked);
		if (!checked[0]) {
			fail_message("the --title has nothing to show (only spaces or control "
				     "characters); give a title, or leave --title out to use the file's");
			return EXIT_REFUSED;
		}
	}
	struct tt *tt = open_timetable(settings, TT_OPEN_EXISTING);
	if (!tt)
		return EXIT_REFUSED;
	int failures = 0;
	if (args->json)
		printf("[");
	int printed = 0;
	for (int i = 1; i < args->word_count; i++) {
		struct tt_media row;
		int existed;
		if (import_one(tt, settings, args->words[i], title, category, trim_db, force, &row,
			       &existed, 0) < 0) {
			failures++;
			continue;
		}
		if (args->json) {
			printf("%s", printed++ ? "," : "");
			print_media_json(&row);
		} else {
			printf("%" PRId64 "\n", row.id);
		}
	}
	if (args->json)
		printf("]\n");
	tt_close(tt);
	if (failures)
		fprintf(stderr, "loaxa: %d of %d file(s) not imported\n", failures, args->word_count - 1);
	return failures ? EXIT_REFUSED : EXIT_OK;
}

/* Prints text and spaces up to `width` characters (code points, not bytes:
 * a Vietnamese title takes more bytes than it shows). */
static void print_padded(const char *text, int width)
{
	int characters = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		characters += (*p & 0xc0) != 0x80;
	printf("%s%*s", text, characters < width ? width - characters : 0, "");
}

struct list_state {
	int json, count;
};

static int list_one(void *user, const struct tt_media *m)
{
	struct list_state *state = user;
	if (state->json) {
		printf("%s", state->count ? "," : "");
		print_media_json(m);
	} else {
		printf("%6" PRId64 "  ", m->id);
		print_padded(m->title, 40);
		printf(" ");
		print_measurements(stdout, m);
		printf("\n");
	}
	state->count++;
	return 0;
}

static int64_t parse_id(const char *text)
{
	long long id = parse_count(text, 1, INT64_MAX);
	if (id < 0)
		fail_message("'%s' is not a media id (a whole number; 'loaxa media list' shows them)",
			     text ? text : "");
	return id;
}

int cmd_media(int argc, char **argv)
{
	struct arguments args;
	struct settings settings;
	int rc = parse_arguments(argc, argv, specs, &args, usage);
	if (rc)
		return rc < 0 ? EXIT_USAGE : EXIT_OK;
	if (args.word_count < 1) {
		fail_message("media needs an action\nusage: %s", usage);
		return EXIT_USAGE;
	}
	if (load_settings(&args, specs, &settings) < 0)
		return EXIT_REFUSED;
	const char *action = args.words[0];
	if (strcmp(action, "import") == 0)
		return import_files(&args, &settings);
	int needs_id = strcmp(action, "show") == 0 || strcmp(action, "remove") == 0;
	if (strcmp(action, "list") != 0 && !needs_id) {
		fail_message("unknown media action '%s'\nusage: %s", action, usage);
		return EXIT_USAGE;
	}
	if (needs_id && args.word_count != 2) {
		fail_message("media %s needs one ID\nusage: %s", action, usage);
		return EXIT_USAGE;
	}
	int64_t id = needs_id ? parse_id(args.words[1]) : 0;
	if (id < 0)
		return EXIT_USAGE;
	struct tt *tt = open_timetable(&settings, TT_OPEN_EXISTING);
	if (!tt)
		return EXIT_REFUSED;
	int status = EXIT_OK;
	if (strcmp(action, "list") == 0) {
		struct list_state state = { .json = args.json };
		if (args.json)
			printf("[");
		rc = tt_media_each(tt, list_one, &state);
		if (args.json)
			printf("]\n");
		else if (state.count == 0)
			printf("the library is empty; add audio with 'loaxa media import FILE'\n");
	} else if (strcmp(action, "show") == 0) {
		struct tt_media m;
		rc = tt_media_get(tt, id, &m);
		if (rc == 0 && args.json) {
			print_media_json(&m);
			printf("\n");
		} else if (rc == 0) {
			printf("media %" PRId64 ": %s\n  category: %s\n  file: %s (stored as %s/%s)\n  ",
			       m.id, m.title, m.category[0] ? m.category : "-", m.original_name,
			       settings.library_dir, m.path);
			print_measurements(stdout, &m);
			printf("\n  frames: %" PRId64 ", silence: %.3f s leading, %.3f s trailing\n"
			       "  sha256: %s\n  imported: %s\n", m.frames,
			       (double)m.leading_silence_frames / m.rate,
			       (double)m.trailing_silence_frames / m.rate, m.sha256, m.imported_at);
		}
	} else {
		rc = tt_media_remove(tt, id, option(&args, specs, "force") != NULL);
		if (rc == 0)
			printf("media %" PRId64 " removed\n", id);
	}
	if (rc < 0) {
		fail_message("%s", tt_error(tt));
		status = EXIT_REFUSED;
	}
	tt_close(tt);
	return status;
}
