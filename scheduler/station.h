/*
 * Private to scheduler/: the serving station's state. Everything here is
 * owned by the main thread (the serving loop); the engine's threads never
 * see it.
 *
 * Each airing the timetable resolves to is judged once — cued, or logged
 * skipped or missed — and remembered in `judged` (recent ones) and the as-run
 * log (all). An occurrence cut by a higher priority gets an entry in `shifts`
 * that says how its remaining parts move, per its resume policy.
 */
#ifndef LOAXA_STATION_H
#define LOAXA_STATION_H

#include <stdint.h>

#include "playout/playout.h"
#include "scheduler/scheduler.h"
#include "schedules/timetable.h"

#define NS_PER_SECOND 1000000000LL
#define READ_BUSY_MS 250       /* the loop only reads: WAL readers wait for no writer,
                                  and no rarer lock may hold the air for long */
#define NS_PER_MS 1000000LL
#define DAY_NS (24 * 3600 * NS_PER_SECOND)
#define MAX_IN_FLIGHT 32
#define MAX_JUDGED 1024
#define MAX_SHIFTS 32
#define MAX_MANUALS 8

/* One piece of audio handed to the engine. */
struct in_flight {
	int used;
	uint64_t tag;
	struct tt_airing airing;  /* as the timetable resolves it (unshifted) */
	int64_t start_ns;         /* when this piece was cued to begin */
	int64_t offset_ns;        /* where in the item it begins */
	int continuation;         /* the rest of a preempted item: logged "resumed" */
	int started;
	int dropped;              /* aborted before airing: no row */
	int seen;                 /* plan: still in the timetable */
	char note[256];           /* detail for its as-run row */
	int64_t manual_id;        /* > 0: a piece of a manual broadcast */
	int unlogged;             /* a chime or a gap: no as-run row of its own */
	int64_t clock_origin_ns;  /* continuation by rejoin: when position 0 would air */
	int joined_after_loss;    /* its start came while the sound device was lost */
	uint64_t after_tag;       /* the piece it was chained after, 0 = timed */
	char triggered_by[64];
	char stopped_by[64];      /* `loaxa stop` ended it: who */
	struct tt_run run;        /* run.id: its row's handle in the writer, 0 until
	                             its first frame aired (then a row exists) */
};

/* A manual broadcast (emergency, play, live) made of pieces. */
struct manual {
	int used;
	int64_t id;
	int priority;
	int live;
	uint64_t last_tag;        /* its last piece: what follows chains after it */
	int64_t expected_end_ns;  /* if nothing stops it; 0 = open-ended (live) */
	char title[512];
	char user[64];
};

/* What sched_cue_piece needs besides the source. */
struct cue_request {
	const struct tt_airing *airing;
	int64_t offset_ns;        /* into the item */
	int64_t start_ns;         /* wall-clock instant; 0 = as soon as it may */
	uint64_t after_tag;       /* chain after that piece (0: after the
	                             previous part of its occurrence, if adjacent) */
	int continuation;
	int64_t manual_id;
	int unlogged;
	int live;
	int64_t clock_origin_ns;
	int64_t on_clock_ns;      /* rejoin: the instant offset_ns is the place for */
	const char *note;
	const char *triggered_by;
};

struct judged_key {
	int64_t event_id;
	char date[11];
	int part;
	int64_t scheduled_ns;     /* with media_id: the same broadcast under another */
	int64_t media_id;         /* event id (a replaced timetable) */
};

/* How the rest of a preempted occurrence airs. */
struct occurrence_shift {
	int used;
	int64_t event_id;
	char date[11];
	int skip_rest;            /* policy skip: nothing more of it airs */
	enum tt_resume policy;
	int64_t shift_ns;         /* its later parts air this much later */
	int64_t hold_until_ns;    /* nothing of it airs before this instant */
	uint64_t after_tag;       /* ... or before this piece ends (0: none) */
	char holder_name[200];    /* what held it, for rows' details */
};

/* What fate.c decides about (see there and docs/timetable.md). */
enum fate_cause {
	FATE_DUE,                 /* planning reached it (on time, late or missed) */
	FATE_HELD,                /* its start came while an equal or higher priority held the air */
	FATE_CUT,                 /* a higher priority took the air part-way through it */
	FATE_DEVICE_LOST,         /* the start of a cued piece came while the sound
	                             device was lost */
};

struct fate {
	enum fate_cause cause;
	const struct tt_airing *airing;
	int64_t at_ns;            /* DUE: now; HELD, CUT: when it happened */
	int64_t due_ns;           /* DUE: when it was to start (moved by any shift) */
	const char *missed_because; /* DUE: why it did not air at its start, if late */
	int64_t position_ns;      /* HELD, CUT: where in the item it was to go on */
	const struct in_flight *holder; /* HELD, CUT: what took or holds the air, or NULL */
	int64_t free_at_ns;       /* without a holder: when the air is free */
	uint64_t after_tag;       /* without a holder: ... or after this piece */
	const char *holder_name;  /* without a holder: what held it */
	uint64_t piece_tag;       /* DEVICE_LOST: the cued piece (due_ns its start,
	                             position_ns where in the item it begins) */
};

/* A row's begin or finish waiting for its instant to pass (rows.c). */
struct pending_row {
	int64_t due_ns;
	uint64_t tag;             /* the piece's */
	int finish;
	struct tt_run run;
};
#define MAX_PENDING_ROWS 64

struct station {
	const struct sched_config *config;
	struct tt *tt;
	struct playout *playout;
	int rate;                 /* the device's: every source is opened at it */
	struct in_flight in_flight[MAX_IN_FLIGHT];
	struct judged_key judged[MAX_JUDGED];
	size_t judged_next;
	struct occurrence_shift shifts[MAX_SHIFTS];
	struct manual manuals[MAX_MANUALS];
	int64_t next_manual_id;
	struct control *control;
	char last_error[256];
	uint64_t next_tag;
	int64_t last_heartbeat_ns;
	int64_t last_progress_ns;
	int64_t started_ns;
	int first_plan_done;
	struct writer *writer;    /* every database write goes through it */
	struct pending_row pending_rows[MAX_PENDING_ROWS]; /* ring, oldest first */
	size_t pending_head, pending_count;
	struct answers *answers;  /* recent request ids and their answers */
	int as_run_unreadable;    /* the last "already logged?" check failed */
	int timetable_unreadable; /* the last read of the timetable failed (logged once) */
	int database_unwritable;  /* the writer has been failing (noted once) */
	int database_lost;        /* the database file was deleted, replaced or damaged */
	int64_t events_dropped;   /* the engine's lost events, as last logged */
	int device_away;          /* the sound device is lost (DEVICE_ERROR, not yet OK) */
	int64_t device_lost_ns;   /* when it last stopped playing */
	int64_t device_back_ns;   /* when it last came back */
};

void sched_format_local_time(int64_t instant_ns, char *out, size_t size);

/* plan.c */
void sched_plan(struct station *station);
int sched_was_judged(const struct station *station, const struct tt_airing *a);
void sched_remember(struct station *station, const struct tt_airing *a);
void sched_forget(struct station *station, const struct tt_airing *a);
struct occurrence_shift *sched_find_shift(struct station *station, int64_t event_id,
				    const char *date, int create);
/* Opens the request's media item from its offset and cues it; a file that
 * cannot be opened gets a failed row. */
void sched_cue_media(struct station *station, const struct cue_request *request);
/* Cues any source (taken over: closed on failure). Returns its tag, or 0
 * after logging why (a failed row unless unlogged). */
uint64_t sched_cue_piece(struct station *station, const struct cue_request *request,
		   const struct playout_source_ops *ops, void *source);
/* Cues the rest of a preempted item, from offset_ns into it, at start_ns, or
 * right after after_tag if that is set. With clock_origin_ns (policy rejoin:
 * when its position 0 would have aired) an item whose time has passed is
 * logged skipped instead, and `note` names what it rejoined after. (fate.c) */
void sched_continue_item(struct station *station, const struct tt_airing *a, int64_t offset_ns,
		   int64_t start_ns, uint64_t after_tag, int64_t clock_origin_ns, const char *note);
/* Opens a media item as a source (mono at the engine rate). */
int sched_open_media(struct station *station, int64_t media_id, int64_t offset_ns,
	       struct tt_media *media, void **source, char *error, size_t error_size);
struct in_flight *sched_find_in_flight(struct station *station, uint64_t tag);
/* Records an error for `loaxa status`. */
void sched_note_error(struct station *station, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Writes a row for an airing that does not air (missed, skipped, failed). */
void sched_log_row(struct station *station, const struct tt_airing *a,
	     enum tt_run_status status, const char *detail);

/* fate.c */
void sched_decide_fate(struct station *station, const struct fate *fate);
/* How far ahead to cue an item joined where the clock is: beyond what the
 * device has buffered, so its first frame is placed at its instant. */
int64_t sched_join_ahead_ns(struct station *station);
/* Manual broadcasts were stopped (their pieces' tags) before their expected
 * end: what they held airs sooner, by its policy. */
void sched_fate_after_stop(struct station *station, const uint64_t *stopped_tags, int count);
/* late_grace_ms and rejoin_grace_s of the configuration, or their defaults. */
int64_t sched_late_grace_ns(const struct station *station);
int64_t sched_rejoin_grace_ns(const struct station *station);
/* database.c */
/* 1 if the airing has a row (written or queued), else 0; a failed read is
 * noted once and taken as 0, so the airing is judged, not lost. */
int sched_already_logged(struct station *station, const struct tt_airing *a);
/* Notes (once per spell) that the writer cannot get its rows through. */
void sched_watch_database(struct station *station);

/* rows.c: a piece's row is begun and finished once the instant passed */
void rows_begin(struct station *station, uint64_t tag, const struct tt_run *run);
void rows_finish(struct station *station, uint64_t tag, const struct tt_run *run);
/* The sound device stopped playing at lost_ns: the rows of pieces reported
 * ended since then did not air their last frames. */
void rows_device_lost(struct station *station, int64_t lost_ns);
/* Writes what is due by now_ns (INT64_MAX: everything, at a clean stop). */
void rows_flush(struct station *station, int64_t now_ns);
/* When the oldest waiting row is due; 0 if none waits. */
int64_t rows_next_due_ns(const struct station *station);

/* runs.c */
void sched_drain_events(struct station *station);

/* manual.c: the control socket's requests */
struct cJSON;
struct control_peer;
struct cJSON *sched_handle_request(void *station, const struct cJSON *request,
			     const struct control_peer *peer);
/* A manual broadcast ended (all its pieces done or stopped). */
void sched_manual_piece_done(struct station *station, struct in_flight *piece);

#endif
