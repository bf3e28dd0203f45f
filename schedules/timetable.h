/*
 * timetable — the station's SQLite store: media rows, programmes, events,
 * exceptions, the resolution of events into occurrences, and the as-run log.
 *
 * One `struct tt` is one connection; use it from one thread at a time (the
 * serving process opens two: one its serving loop only reads on, one its
 * writer thread writes on). The database runs in WAL mode with foreign keys
 * and a busy timeout, so the command line can edit while the station plays
 * and readers never wait for a writer. Every function that changes data does it in one
 * transaction: it either happens whole or not at all.
 *
 * Functions return 0 on success or a negative TT_ERR_* / -errno; tt_error()
 * holds a sentence for the operator about the last failure on that handle.
 * Times of day are seconds after local midnight; dates are "YYYY-MM-DD" in the
 * station's time zone (TZ); instants are nanoseconds since the Unix epoch.
 *
 * Every edit (media, programmes, events, exceptions, imports) also appends a
 * row to the audit table in the same transaction, naming the operator
 * (tt_set_operator, else the OS user). Text (titles, names, categories) is
 * stored byte for byte; it must be valid UTF-8 and fit its field.
 */
#ifndef LOAXA_TIMETABLE_H
#define LOAXA_TIMETABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum tt_error {
	TT_ERR_DB = -20000,  /* SQLite failed (see tt_error) */
	TT_ERR_NOT_FOUND,    /* no such media, event or programme */
	TT_ERR_INVALID,      /* the request is not valid (see tt_error) */
	TT_ERR_CONFLICT,     /* the edit collides with another event */
	TT_ERR_IN_USE,       /* still used by an event */
	TT_ERR_SCHEMA,       /* the database is newer than this program */
};

#define TT_SCHEMA_VERSION 3

struct tt;

enum tt_open_mode { TT_OPEN_EXISTING = 0, TT_OPEN_CREATE = 1 };

/* Opens (and with TT_OPEN_CREATE creates) the database and applies any
 * pending migrations. On failure *out may still hold a handle whose
 * tt_error() explains; always tt_close() it. */
int tt_open(struct tt **out, const char *path, enum tt_open_mode mode);
void tt_close(struct tt *tt);
/* Closes without the checkpoint SQLite does at the last close: nothing is
 * written to the file or its -wal, which may no longer be the database the
 * connection opened. */
void tt_close_quietly(struct tt *tt);
/* 1 if the file this connection opened (even if deleted or renamed since)
 * still begins as an SQLite database, 0 if not (overwritten, emptied).
 * Read through SQLite's own descriptor: opening and closing the file in
 * this process would drop SQLite's locks on it. */
int tt_file_begins_as_database(struct tt *tt);
/* Copies the database as this connection sees it (the file it opened, even
 * if deleted since, and its -wal) to a new file at path. */
int tt_backup(struct tt *tt, const char *path);
const char *tt_error(const struct tt *tt);
int tt_schema_version(struct tt *tt);
/* Changes whenever another connection commits (PRAGMA data_version). */
int64_t tt_data_version(struct tt *tt);
/* A sentence about what the last successful edit adjusted (e.g. where
 * TT_PLACE_AFTER put an event), or "". */
const char *tt_note(const struct tt *tt);
/* Who the audit rows of later edits name (copied); NULL or "" = the OS user.
 * Refused (TT_ERR_INVALID) if longer than 127 bytes or not UTF-8. */
int tt_set_operator(struct tt *tt, const char *name);
const char *tt_operator(const struct tt *tt);
/* The date conflict checks start from (occurrences before it are past and
 * cannot collide); NULL = the local date now. For tests and planning. */
int tt_set_today(struct tt *tt, const char *date);

/* ---- media ---- */
struct tt_media {
	int64_t id;
	char sha256[65];
	char path[300];          /* relative to the library directory */
	char original_name[512];
	char title[512];
	char category[256];
	char codec[24];
	int rate;
	int channels;
	int64_t frames;          /* source frames */
	double loudness_lufs;    /* NAN when silent */
	double loudness_range_lu;
	double true_peak_dbtp;   /* NAN when silent */
	double sample_peak_dbfs;
	int64_t leading_silence_frames;
	int64_t trailing_silence_frames;
	double gain_db;          /* applied at playout */
	double trim_db;
	char imported_at[32];
};

/* Adds the row, or finds the one with the same sha256 (then *existed = 1). */
int tt_media_add(struct tt *tt, const struct tt_media *media, int64_t *id, int *existed);
int tt_media_get(struct tt *tt, int64_t id, struct tt_media *out);
/* Calls fn for every media row in id order; stops when fn returns non-zero. */
int tt_media_each(struct tt *tt, int (*fn)(void *user, const struct tt_media *m), void *user);
/* Refused with TT_ERR_IN_USE while an event plays it, unless force (which
 * removes the events playing it and its programme items). */
int tt_media_remove(struct tt *tt, int64_t id, int force);

/* ---- programmes: ordered items with a name and a category ---- */
struct tt_programme {
	int64_t id;
	char name[512];          /* unique */
	char category[256];
	char created_at[32];
	int item_count;
	int64_t duration_ns;     /* the sum of the items' durations */
	int event_count;         /* events that play it */
};

struct tt_programme_item {
	int position;            /* 1-based, in playing order */
	int64_t media_id;
	char title[512];         /* the media item's title */
	int64_t duration_ns;
};

/* Creates an empty programme; refused if the name is empty or taken. */
int tt_programme_create(struct tt *tt, const char *name, const char *category, int64_t *id);
int tt_programme_get(struct tt *tt, int64_t id, struct tt_programme *out);
/* By exact name; TT_ERR_NOT_FOUND names the programme. */
int tt_programme_find(struct tt *tt, const char *name, struct tt_programme *out);
int tt_programme_each(struct tt *tt, int (*fn)(void *user, const struct tt_programme *p),
		      void *user);
/* The items in order; *out is malloc'd (free it), NULL when empty. */
int tt_programme_items(struct tt *tt, int64_t id, struct tt_programme_item **out, size_t *count);
/* Appends media items at the end. The events playing the programme grow
 * longer: refused with TT_ERR_CONFLICT if one then collides. */
int tt_programme_append(struct tt *tt, int64_t id, const int64_t *media_ids, size_t count);
/* Removes the item at a 1-based position (later items move up); refused if
 * it would leave a programme that events play empty. */
int tt_programme_remove_item(struct tt *tt, int64_t id, int position);
/* Refused with TT_ERR_IN_USE while events play it. */
int tt_programme_remove(struct tt *tt, int64_t id);

/* ---- events ---- */
enum tt_priority { TT_PRIORITY_NORMAL = 0, TT_PRIORITY_PRIORITY = 1, TT_PRIORITY_EMERGENCY = 2 };
enum tt_recurrence { TT_ONCE, TT_DAILY, TT_WEEKDAYS, TT_MONTHLY };
enum tt_resume { TT_RESUME, TT_RESTART, TT_SKIP, TT_REJOIN };

struct tt_event {
	int64_t id;
	char title[512];
	int start_second;        /* 0..86399, local time of day */
	enum tt_recurrence recurrence;
	char on_date[11];        /* TT_ONCE */
	unsigned weekdays;       /* TT_WEEKDAYS: bit 0 = Monday ... bit 6 = Sunday */
	int month_day;           /* TT_MONTHLY: 1..31 */
	char from_date[11];      /* "" = unbounded */
	char until_date[11];     /* "" = unbounded */
	int64_t media_id;        /* exactly one of media_id / programme_id is > 0 */
	int64_t programme_id;
	enum tt_priority priority;
	int repeat_count;        /* ≥ 1 */
	int gap_seconds;         /* between repeats */
	enum tt_resume resume;
	int enabled;
};

/* How an edit that collides with an event of the same priority is treated:
 * refused (TT_ERR_CONFLICT, naming the other event, its time and date), or
 * moved later, right after what it collides with, until it fits the day. */
enum tt_placement { TT_PLACE_EXACT, TT_PLACE_AFTER };

/* Validates, checks conflicts (an enabled event, from today on) and inserts;
 * sets event->id. tt_event_add is tt_event_add_placed(..., TT_PLACE_EXACT);
 * with TT_PLACE_AFTER event->start_second is updated and tt_note() says
 * where it went. */
int tt_event_add(struct tt *tt, struct tt_event *event);
int tt_event_add_placed(struct tt *tt, struct tt_event *event, enum tt_placement placement);
/* The check alone: 0 if the event could be added, else the refusal. */
int tt_event_check(struct tt *tt, const struct tt_event *event);
int tt_event_get(struct tt *tt, int64_t id, struct tt_event *out);
/* "daily from 2026-01-01 until 2026-03-31", "on mon,fri", "monthly on day 29",
 * "once on 2026-12-01" */
void tt_event_rule_text(const struct tt_event *event, char *out, size_t size);
const char *tt_recurrence_name(enum tt_recurrence recurrence);
int tt_recurrence_parse(const char *text);   /* -1 if unknown */
int tt_event_each(struct tt *tt, int (*fn)(void *user, const struct tt_event *e), void *user);
int tt_event_remove(struct tt *tt, int64_t id);
/* Enabling re-checks conflicts (refused with TT_ERR_CONFLICT). */
int tt_event_set_enabled(struct tt *tt, int64_t id, int enabled);

/* ---- exceptions: one date of an event skipped or moved ---- */
struct tt_exception {
	int64_t event_id;
	char date[11];
	int moved_second;        /* -1 = skipped, else the new time of day */
};

/* Refused (TT_ERR_INVALID) if the event does not air on that date. */
int tt_event_skip_date(struct tt *tt, int64_t id, const char *date);
/* That date's occurrence airs at *second instead (same date); conflicts
 * are checked as for an added event, *second updated with TT_PLACE_AFTER. */
int tt_event_move_date(struct tt *tt, int64_t id, const char *date, int *second,
		       enum tt_placement placement);
/* Undoes a skip or a move (conflicts re-checked). */
int tt_event_restore_date(struct tt *tt, int64_t id, const char *date);
/* In event and date order; event_id 0 = every event. */
int tt_exception_each(struct tt *tt, int64_t event_id,
		      int (*fn)(void *user, const struct tt_exception *x), void *user);

/* ---- resolution ---- */
/* One item of one occurrence: what plays and when it is due. */
struct tt_airing {
	int64_t event_id;
	char occurrence_date[11];
	int part;                /* index within the occurrence (repeat × items + item) */
	int64_t media_id;
	char title[512];         /* the event's title, else the programme's name, else the media's */
	enum tt_priority priority;
	enum tt_resume resume;
	int64_t scheduled_ns;    /* wall-clock instant the first frame is due */
	int64_t duration_ns;     /* from the media's frames and rate */
	int64_t programme_id;    /* 0 when the event plays one media item */
	int repeat;              /* which repeat of the occurrence, from 0 */
	int repeat_count;        /* repeats in the occurrence */
	int item;                /* which item of the programme, from 0 */
	int item_count;          /* items per repeat */
	int moved;               /* 1 if this date was moved to another time */
	char item_title[512];    /* the media item's own title */
	char category[256];      /* the programme's category, else the media's */
};

/* All airings whose start falls in [from_ns, until_ns), in start order
 * (ties: higher priority first, then event id, then part). Honours
 * disabled events, skipped and moved dates. *out is malloc'd; free() it. */
int tt_airings_between(struct tt *tt, int64_t from_ns, int64_t until_ns,
		       struct tt_airing **out, size_t *count);

/* ---- the rundown of one day, as the operator reads it ---- */
enum tt_session { TT_MORNING, TT_AFTERNOON, TT_EVENING };
#define TT_SESSION_COUNT 3
/* morning before 12:00, afternoon 12:00–17:00, evening from 17:00 */
enum tt_session tt_session_of(int second_of_day);
const char *tt_session_name(enum tt_session session);

/* airings[lower] is cut by the higher-priority airings[higher] over
 * [from_ns, until_ns). */
struct tt_preemption {
	size_t lower, higher;
	int64_t from_ns, until_ns;
};

struct tt_rundown {
	char date[11];
	struct tt_airing *airings;           /* starting on that date, in order */
	size_t count;
	struct tt_preemption *preemptions;
	size_t preemption_count;
	/* time on air (overlaps counted once), by the session the airing starts in */
	int64_t session_airtime_ns[TT_SESSION_COUNT];
	int64_t total_airtime_ns;
};

int tt_rundown(struct tt *tt, const char *date, struct tt_rundown *out);
void tt_rundown_free(struct tt_rundown *rundown);

/* ---- spreadsheet exchange (layout in docs/timetable.md) ---- */
struct tt_csv_options {
	char delimiter;          /* ',' or ';' */
	int bom;                 /* start with a UTF-8 byte order mark (for Excel) */
	const char *from_date;   /* export only events airing in [from, until]; NULL = all */
	const char *until_date;
};

/* Writes the header and one row per event (with its skips and moves), in id
 * order, lines ending CRLF. */
int tt_export_csv(struct tt *tt, FILE *out, const struct tt_csv_options *options);
/* One CSV field and its delimiter (or CRLF when last), quoted when it holds
 * the delimiter, a quote, a line break, or spaces at an end. */
void tt_csv_field(FILE *out, const char *text, char delimiter, int last);
/* Adds every row of the text (UTF-8, with or without BOM, comma or
 * semicolon, the header first) as new events, or none: any bad row or
 * conflict refuses the whole file, tt_error saying "line N: why". replace
 * removes every existing event first (same transaction). source names the
 * file in the audit trail. *added = rows. */
int tt_import_csv(struct tt *tt, const char *text, size_t length, int replace, const char *source,
		  size_t *added);

/* ---- audit: who changed what, append-only ---- */
struct tt_audit_entry {
	int64_t id;
	int64_t at_ns;
	char operator_name[128];
	char action[32];         /* e.g. "event.add", "programme.append", "schedule.import" */
	char subject[64];        /* e.g. "event 5", "programme 2", "media 3" */
	char detail[2048];       /* what changed, in a sentence */
};

/* Rows at or after since_ns, oldest first. */
int tt_audit_each(struct tt *tt, int64_t since_ns,
		  int (*fn)(void *user, const struct tt_audit_entry *entry), void *user);

/* ---- as-run log ---- */
enum tt_run_status {
	TT_RUN_PLAYING, TT_RUN_PLAYED, TT_RUN_PREEMPTED, TT_RUN_RESUMED,
	TT_RUN_SKIPPED, TT_RUN_MISSED, TT_RUN_FAILED, TT_RUN_INTERRUPTED,
};
const char *tt_run_status_name(enum tt_run_status status);

struct tt_run {
	int64_t id;
	int64_t event_id;        /* 0 for a manual broadcast */
	char occurrence_date[11];
	int part;
	int64_t media_id;
	char title[512];
	enum tt_priority priority;
	int64_t scheduled_ns;    /* 0 when not scheduled */
	int64_t started_ns;      /* measured first frame on the card; 0 if never */
	int64_t ended_ns;
	int64_t frames_played;
	enum tt_run_status status;
	int xruns;
	char triggered_by[64];
	char detail[256];
	char category[256];      /* of what aired, as it was then */
	int64_t planned_ns;      /* the length it was planned to air */
};

/* Inserts a row (run->id set). */
int tt_run_begin(struct tt *tt, struct tt_run *run);
/* Updates ended_ns, frames_played, status, xruns, detail of row run->id. */
int tt_run_finish(struct tt *tt, const struct tt_run *run);
/* Brings a row still "playing" up to date: how many frames have aired and
 * the last instant it was known on air (stored as its ended_ns while it
 * plays), so a crash loses at most the time since. */
int tt_run_progress(struct tt *tt, int64_t id, int64_t frames_played, int64_t on_air_ns);
/* Rows left "playing" by a process that died become "interrupted", ending
 * where they were last known on air: their last progress, or last_alive_ns
 * (the station's last sign of life) if later and within the item's length;
 * never at the restart. Returns how many (≥ 0). */
int tt_run_close_stale(struct tt *tt, int64_t last_alive_ns);
/* The SQL statement (one line) that stores run, for a file kept while the
 * database cannot be written; malloc'd, NULL if out of memory. Pure text:
 * touches no database. With run->id > 0 it finishes that row if it still
 * plays (tt_run_finish); without, it is idempotent: it finishes the row of
 * the same airing (event, date, part) and start if that one still plays,
 * inserts the row unless the log has it (a playing row: in any state; a
 * final one: with that status), so a file written again or twice, or a
 * playing row after its finish, stores each row once. */
char *tt_run_sql(const struct tt_run *run);
/* Stores the whole row run (its id ignored) as tt_run_sql does. */
int tt_run_store(struct tt *tt, const struct tt_run *run);
/* Runs such statements, inside the batch open or in a transaction of its
 * own. */
int tt_run_apply_sql(struct tt *tt, const char *sql);
/* 1 if the log already holds a row for this airing, 0 if not, < 0 if it
 * could not be read. */
int tt_run_exists(struct tt *tt, int64_t event_id, const char *occurrence_date, int part);
/* Rows whose scheduled (or, if unscheduled, started) instant falls in
 * [from_ns, until_ns), in time order. *out is malloc'd. */
int tt_runs_between(struct tt *tt, int64_t from_ns, int64_t until_ns,
		    struct tt_run **out, size_t *count);

/* ---- the running station's own state ---- */
/* Named integers the station keeps across restarts, e.g. "last_alive_ns".
 * tt_state_get leaves *value unchanged and returns 0 when the key is absent. */
int tt_state_get(struct tt *tt, const char *key, int64_t *value);
int tt_state_set(struct tt *tt, const char *key, int64_t value);

/* ---- for a connection that only writes (the station's writer thread) ---- */
/* How long a call waits for another connection's write lock before it
 * fails busy (tt_open sets 5000 ms). */
void tt_set_busy_timeout(struct tt *tt, int timeout_ms);
/* After a failed call: 1 if the failure may pass by itself (the database
 * busy or locked by another program, the disk full, an I/O or permission
 * error), so retrying later is right; 0 if the request itself was refused
 * (a constraint, a value out of range) or nothing failed in SQLite. */
int tt_error_transient(const struct tt *tt);
/* After a failed call: 1 if SQLite found the file is not a database or is
 * corrupt. */
int tt_error_damaged(const struct tt *tt);
/* One transaction around several tt_run_* / tt_state_set calls: inside it
 * they do not commit on their own. BEGIN IMMEDIATE: fails busy while
 * another connection holds the write lock. After a failed call inside,
 * roll the batch back. */
int tt_batch_begin(struct tt *tt);
int tt_batch_commit(struct tt *tt);
void tt_batch_rollback(struct tt *tt);

/* ---- dates and times (station time zone, from TZ) ---- */
/* "HH:MM" or "HH:MM:SS" → seconds of day; -1 if malformed or impossible. */
int tt_parse_time_of_day(const char *text);
/* 1 if "YYYY-MM-DD" is a real calendar date. */
int tt_valid_date(const char *text);
/* Local midnight of date + second → ns since epoch. */
int64_t tt_local_instant_ns(const char *date, int second_of_day);
/* The local date of an instant, "YYYY-MM-DD". */
void tt_local_date(int64_t instant_ns, char out[11]);
/* date + days → out (out may equal date). */
void tt_add_days(const char *date, int days, char out[11]);
/* 0 = Monday ... 6 = Sunday */
int tt_weekday(const char *date);
/* Days from a to b (b − a); both must be valid dates. */
long tt_days_between(const char *a, const char *b);
/* Spreadsheet forms too: "YYYY-MM-DD", "D/M/YYYY" → "YYYY-MM-DD"; -1 if not
 * a real date. "H:MM[:SS]" → seconds; -1 if not a time of day. */
int tt_parse_date_lenient(const char *text, char out[11]);
int tt_parse_time_lenient(const char *text);
/* Weekday names "mon,tue,..." ↔ bit mask (bit 0 = Monday); -1 if unknown. */
int tt_weekdays_parse(const char *text, unsigned *mask);
void tt_weekdays_format(unsigned mask, char *out, size_t size);

const char *tt_priority_name(enum tt_priority priority);
int tt_priority_parse(const char *text);   /* -1 if unknown */
const char *tt_resume_name(enum tt_resume resume);
int tt_resume_parse(const char *text);     /* -1 if unknown */

#endif
