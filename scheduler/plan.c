/* Planning: which airings are due, and cueing them on the engine. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "media/media.h"
#include "playout/clock.h"
#include "scheduler/log.h"
#include "scheduler/sources.h"
#include "scheduler/station.h"
#include "scheduler/writer.h"

#define HEARTBEAT_NS (10 * NS_PER_SECOND)
#define PROGRESS_NS (900 * NS_PER_MS)   /* at each wake, once a second */
#define NOT_RUNNING "the station was not running at its time"
#define DEVICE_LOST "the sound device was lost at its time"
#define STARTUP_LOOKBACK_NS (7 * 24 * 3600 * NS_PER_SECOND)

void sched_format_local_time(int64_t instant_ns, char *out, size_t size)
{
	time_t seconds = (time_t)(instant_ns / NS_PER_SECOND);
	struct tm local;
	localtime_r(&seconds, &local);
	char text[32];
	strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
	snprintf(out, size, "%s.%03d", text, (int)(instant_ns % NS_PER_SECOND / NS_PER_MS));
}

static int64_t config_ms(int value, int fallback)
{
	return (int64_t)(value > 0 ? value : fallback) * NS_PER_MS;
}

static int same_key(const struct judged_key *k, const struct tt_airing *a)
{
	return k->event_id == a->event_id && k->part == a->part &&
	       strcmp(k->date, a->occurrence_date) == 0;
}

int sched_was_judged(const struct station *station, const struct tt_airing *a)
{
	for (size_t i = 0; i < MAX_JUDGED; i++)
		if (same_key(&station->judged[i], a))
			return 1;
	return 0;
}

void sched_remember(struct station *station, const struct tt_airing *a)
{
	if (sched_was_judged(station, a))
		return;
	struct judged_key *k = &station->judged[station->judged_next++ % MAX_JUDGED];
	k->event_id = a->event_id;
	k->part = a->part;
	k->scheduled_ns = a->scheduled_ns;
	k->media_id = a->media_id;
	snprintf(k->date, sizeof k->date, "%s", a->occurrence_date);
}

void sched_forget(struct station *station, const struct tt_airing *a)
{
	for (size_t i = 0; i < MAX_JUDGED; i++)
		if (same_key(&station->judged[i], a))
			memset(&station->judged[i], 0, sizeof station->judged[i]);
}

struct occurrence_shift *sched_find_shift(struct station *station, int64_t event_id,
				    const char *date, int create)
{
	struct occurrence_shift *free_entry = NULL;
	for (int i = 0; i < MAX_SHIFTS; i++) {
		struct occurrence_shift *s = &station->shifts[i];
		if (s->used && s->event_id == event_id && strcmp(s->date, date) == 0)
			return s;
		if (!s->used && !free_entry)
			free_entry = s;
	}
	if (!create)
		return NULL;
	if (!free_entry) {
		/* the oldest hold goes: it is long over */
		free_entry = &station->shifts[0];
		for (int i = 1; i < MAX_SHIFTS; i++)
			if (station->shifts[i].hold_until_ns < free_entry->hold_until_ns)
				free_entry = &station->shifts[i];
	}
	memset(free_entry, 0, sizeof *free_entry);
	free_entry->used = 1;
	free_entry->event_id = event_id;
	snprintf(free_entry->date, sizeof free_entry->date, "%s", date);
	return free_entry;
}

/* The in-flight piece just before this one in the same occurrence, if the
 * timetable has them back to back (programme items): this one follows it on
 * the next frame, wherever a preemption may have moved it. */
static uint64_t predecessor_tag(struct station *station, const struct tt_airing *a)
{
	uint64_t tag = 0;
	for (int i = 0; i < MAX_IN_FLIGHT; i++) {
		struct in_flight *f = &station->in_flight[i];
		if (f->used && !f->dropped && f->airing.event_id == a->event_id &&
		    f->airing.part == a->part - 1 &&
		    strcmp(f->airing.occurrence_date, a->occurrence_date) == 0 &&
		    f->airing.scheduled_ns + f->airing.duration_ns == a->scheduled_ns &&
		    f->tag > tag)
			tag = f->tag;   /* the latest piece: a continuation if it was cut */
	}
	return tag;
}

void sched_log_row(struct station *station, const struct tt_airing *a,
	     enum tt_run_status status, const char *detail)
{
	struct tt_run run = {
		.event_id = a->event_id, .part = a->part, .media_id = a->media_id,
		.priority = a->priority, .scheduled_ns = a->scheduled_ns, .status = status,
	};
	snprintf(run.occurrence_date, sizeof run.occurrence_date, "%s", a->occurrence_date);
	snprintf(run.title, sizeof run.title, "%s", a->title);
	snprintf(run.detail, sizeof run.detail, "%s", detail);
	snprintf(run.category, sizeof run.category, "%s", a->category);
	run.planned_ns = a->duration_ns;
	writer_run_begin(station->writer, &run);   /* queued; a loss is logged there */
	if (status != TT_RUN_PLAYED)
		log_message(status == TT_RUN_FAILED ? LOG_ERROR : LOG_WARNING,
			    "%s: '%s' (event %" PRId64 " part %d, %s): %s", tt_run_status_name(status),
			    a->title, a->event_id, a->part, a->occurrence_date, detail);
}

struct in_flight *sched_find_in_flight(struct station *station, uint64_t tag)
{
	for (int i = 0; i < MAX_IN_FLIGHT; i++)
		if (station->in_flight[i].used && station->in_flight[i].tag == tag)
			return &station->in_flight[i];
	return NULL;
}

void sched_note_error(struct station *station, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(station->last_error, sizeof station->last_error, fmt, ap);
	va_end(ap);
}

int sched_open_media(struct station *station, int64_t media_id, int64_t offset_ns,
	       struct tt_media *media, void **source, char *error, size_t error_size)
{
	char path[4096];
	if (tt_media_get(station->tt, media_id, media) < 0) {
		snprintf(error, error_size, "%s", tt_error(station->tt));
		return -ENOENT;
	}
	snprintf(path, sizeof path, "%s/%s", station->config->library_dir, media->path);
	struct media_stream *stream = NULL;
	int rc = media_stream_open(&stream, path, station->rate, 1, media->gain_db,
				   offset_ns * station->rate / NS_PER_SECOND);
	if (rc < 0) {
		snprintf(error, error_size, "%s: %s", path, media_strerror(rc));
		return rc;
	}
	*source = stream;
	return 0;
}

uint64_t sched_cue_piece(struct station *station, const struct cue_request *r,
		   const struct playout_source_ops *ops, void *source)
{
	const struct tt_airing *a = r->airing;
	struct in_flight *slot = NULL;
	for (int i = 0; i < MAX_IN_FLIGHT && !slot; i++)
		if (!station->in_flight[i].used)
			slot = &station->in_flight[i];
	if (!slot) {
		if (ops->close)
			ops->close(source);
		if (!r->unlogged)
			sched_log_row(station, a, TT_RUN_FAILED, "too many items cued at once");
		return 0;
	}
	uint64_t tag = ++station->next_tag;
	uint64_t after = r->after_tag;
	if (!after && !r->offset_ns && !r->manual_id && !r->continuation)
		after = predecessor_tag(station, a);
	struct playout_cue request = {
		.tag = tag, .start_realtime_ns = r->start_ns, .priority = (int)a->priority,
		.after_tag = after, .live = r->live, .on_clock_ns = r->on_clock_ns,
		/* a timetable piece not at its own second: delayed, resumed, joined */
		.displaced = !r->manual_id && (r->offset_ns || r->continuation ||
					       (r->start_ns && r->start_ns != a->scheduled_ns)),
		.ops = ops, .source = source,
	};
	memset(slot, 0, sizeof *slot);
	slot->used = 1;
	slot->tag = tag;
	slot->airing = *a;
	slot->start_ns = r->start_ns ? r->start_ns : station_clock_ns();
	slot->offset_ns = r->offset_ns;
	slot->continuation = r->continuation;
	slot->manual_id = r->manual_id;
	slot->unlogged = r->unlogged;
	slot->clock_origin_ns = r->clock_origin_ns;
	slot->after_tag = after;
	slot->seen = 1;
	snprintf(slot->note, sizeof slot->note, "%s", r->note ? r->note : "");
	snprintf(slot->triggered_by, sizeof slot->triggered_by, "%s",
		 r->triggered_by ? r->triggered_by : "");
	int rc = playout_cue(station->playout, &request);
	if (rc < 0) {
		slot->used = 0;
		if (!r->unlogged)
			sched_log_row(station, a, TT_RUN_FAILED, "the playout engine had no free slot");
		return 0;
	}
	if (!r->unlogged) {
		char when[40] = "now";
		if (r->start_ns)
			sched_format_local_time(r->start_ns, when, sizeof when);
		log_message(LOG_INFO, "cued '%s' (%s %" PRId64 " part %d) for %s%s%s", a->title,
			    r->manual_id ? "broadcast" : "event", r->manual_id ? r->manual_id : a->event_id,
			    a->part, when, r->note && *r->note ? ": " : "", r->note ? r->note : "");
	}
	return tag;
}

void sched_cue_media(struct station *station, const struct cue_request *request)
{
	const struct tt_airing *a = request->airing;
	struct tt_media media;
	void *source = NULL;
	char error[512];
	if (sched_open_media(station, a->media_id, request->offset_ns, &media, &source, error,
		       sizeof error) < 0) {
		sched_note_error(station, "cannot play '%s': %s", a->title, error);
		sched_log_row(station, a, TT_RUN_FAILED, error);
		return;
	}
	sched_cue_piece(station, request, &sched_media_source_ops, source);
}

/* Judges an airing, moved by its occurrence's shift if it was preempted
 * earlier: a later part due before the air is free is held like its first. */
static void judge(struct station *station, const struct tt_airing *a,
		  const struct occurrence_shift *shift, int64_t now)
{
	int64_t due = a->scheduled_ns + (shift ? shift->shift_ns : 0);
	if (shift && shift->skip_rest) {
		sched_remember(station, a);
		sched_log_row(station, a, TT_RUN_SKIPPED,
			"dropped: its broadcast was preempted and its policy is skip");
		return;
	}
	if (!shift || due >= shift->hold_until_ns) {
		struct fate fate = { .cause = FATE_DUE, .airing = a, .at_ns = now, .due_ns = due,
				     .missed_because = station->device_away ? DEVICE_LOST : NOT_RUNNING };
		sched_decide_fate(station, &fate);
		return;
	}
	sched_remember(station, a);
	struct fate fate = { .cause = FATE_HELD, .airing = a, .at_ns = now,
			     .free_at_ns = shift->hold_until_ns, .after_tag = shift->after_tag,
			     .holder_name = shift->holder_name };
	sched_decide_fate(station, &fate);
}

/* Where an item's position 0 was on the clock when the piece in `last`
 * began (its rows, oldest first, `earlier_frames` aired before it). */
static int64_t piece_origin(struct station *station, const struct tt_airing *a,
			    const struct tt_run *last, int first_piece, int64_t earlier_frames)
{
	if (a->resume == TT_REJOIN ||
	    (first_piece && last->started_ns - a->scheduled_ns > sched_late_grace_ns(station)))
		return a->scheduled_ns;   /* its own clock, or a join by it */
	if (first_piece || a->resume == TT_RESTART)
		return last->started_ns;
	return last->started_ns - earlier_frames * NS_PER_SECOND / station->rate;
}

/* After a restart, what the rows the stopped station wrote say it owed an
 * airing: one on air when it stopped rejoins where its clock is (the clock
 * of its latest piece, moved by a resume or restart) while that lasts; one
 * preempted (cut, or held at its start) whose rest had not aired follows
 * its policy after what is on air now. Within rejoin_grace_s. */
static void restore_after_restart(struct station *station, const struct tt_airing *a, int64_t now)
{
	struct tt_run *runs = NULL;
	size_t count = 0;
	if (tt_runs_between(station->tt, a->scheduled_ns, a->scheduled_ns + 1, &runs, &count) < 0) {
		log_message(LOG_ERROR, "cannot read what '%s' owed before the restart: %s", a->title,
			    tt_error(station->tt));
		return;
	}
	const struct tt_run *last = NULL;
	int64_t earlier_frames = 0, all_frames = 0;
	int pieces = 0;
	for (size_t i = 0; i < count; i++) {
		if (runs[i].event_id != a->event_id || runs[i].part != a->part ||
		    strcmp(runs[i].occurrence_date, a->occurrence_date) != 0)
			continue;
		if (last)
			earlier_frames += last->frames_played;
		last = &runs[i];
		all_frames += runs[i].frames_played;
		pieces++;
	}
	if (!last)
		goto done;
	int64_t join_at = now + sched_join_ahead_ns(station);
	if ((last->status == TT_RUN_INTERRUPTED || last->status == TT_RUN_PLAYING) &&
	    last->started_ns) {
		/* (playing: the writer has not closed it as interrupted yet) */
		int64_t origin = piece_origin(station, a, last, pieces == 1, earlier_frames);
		if (join_at < origin + a->duration_ns && now - origin <= sched_rejoin_grace_ns(station))
			sched_continue_item(station, a, join_at - origin, join_at, 0, origin,
				      "the station restarted");
	} else if (last->status == TT_RUN_PREEMPTED) {
		if (now - a->scheduled_ns > sched_rejoin_grace_ns(station) ||
		    (a->resume == TT_REJOIN && join_at >= a->scheduled_ns + a->duration_ns)) {
			sched_log_row(station, a, TT_RUN_MISSED, "the station was not running when the rest "
				"of it was to air");
			goto done;
		}
		log_message(LOG_INFO, "'%s' (event %" PRId64 " part %d) was preempted when the station "
			    "stopped; it goes on by its policy (%s)", a->title, a->event_id, a->part,
			    tt_resume_name(a->resume));
		struct fate fate = {
			.cause = all_frames ? FATE_CUT : FATE_HELD, .airing = a, .at_ns = now,
			.position_ns = all_frames * NS_PER_SECOND / station->rate,
			.free_at_ns = join_at,
			.holder_name = "what was on air when the station stopped",
		};
		sched_decide_fate(station, &fate);
	}
done:
	free(runs);
}

static int same_airing(const struct tt_airing *x, const struct tt_airing *y)
{
	return x->event_id == y->event_id && x->part == y->part &&
	       strcmp(x->occurrence_date, y->occurrence_date) == 0 &&
	       x->scheduled_ns == y->scheduled_ns && x->media_id == y->media_id &&
	       x->duration_ns == y->duration_ns && x->priority == y->priority;
}

/* Marks the in-flight pieces the timetable still has. */
static void mark_seen(struct station *station, const struct tt_airing *a)
{
	for (int i = 0; i < MAX_IN_FLIGHT; i++) {
		struct in_flight *f = &station->in_flight[i];
		if (f->used && same_airing(&f->airing, a))
			f->seen = 1;
	}
}

/* An import that replaces the timetable gives the broadcasts new event ids:
 * an airing judged (cued, on air or aired) at the same instant with the same
 * media, under an event the timetable no longer has, is this airing, not
 * another one to air again. A piece of it in flight takes the new identity. */
static int adopt(struct station *station, const struct tt_airing *a,
		 const struct tt_airing *airings, size_t count)
{
	for (size_t i = 0; i < MAX_JUDGED; i++) {
		const struct judged_key *k = &station->judged[i];
		if (k->event_id == 0 || k->event_id == a->event_id || k->part != a->part ||
		    k->scheduled_ns != a->scheduled_ns || k->media_id != a->media_id)
			continue;
		int still_there = 0;
		for (size_t n = 0; n < count && !still_there; n++)
			still_there = airings[n].event_id == k->event_id;
		if (still_there)
			continue;
		log_message(LOG_INFO, "'%s' (event %" PRId64 " part %d) is event %" PRId64 " in the "
			    "timetable now", a->title, k->event_id, a->part, a->event_id);
		for (int f = 0; f < MAX_IN_FLIGHT; f++) {
			struct in_flight *piece = &station->in_flight[f];
			if (piece->used && !piece->manual_id && piece->airing.event_id == k->event_id &&
			    piece->airing.part == k->part && strcmp(piece->airing.occurrence_date, k->date) == 0) {
				piece->airing = *a;
				piece->seen = 1;
			}
		}
		sched_remember(station, a);
		return 1;
	}
	return 0;
}

/* Pieces cued but not yet on air whose airing the timetable no longer has
 * (removed, disabled, moved, skipped) are withdrawn; what is on air finishes. */
static void withdraw_unseen(struct station *station, int64_t from, int64_t horizon)
{
	for (int i = 0; i < MAX_IN_FLIGHT; i++) {
		struct in_flight *f = &station->in_flight[i];
		if (!f->used || f->started || f->dropped || f->continuation || f->seen)
			continue;
		if (f->airing.scheduled_ns < from || f->airing.scheduled_ns > horizon)
			continue;
		log_message(LOG_INFO, "'%s' (event %" PRId64 " part %d) is no longer in the timetable "
			    "as cued; withdrawn", f->airing.title, f->airing.event_id, f->airing.part);
		f->dropped = 1;
		sched_forget(station, &f->airing);
		playout_abort(station->playout, f->tag);
	}
}

/* Pieces cued for an instant that is now well past without having aired
 * (the clock was stepped forward, or the machine stalled) are judged again:
 * on air by the timetable they rejoin, otherwise they are logged missed,
 * rather than airing late. One whose instant came while the sound device
 * was lost is the engine's to join when the device is back (fate.c). */
static void rejudge_overtaken(struct station *station, int64_t now)
{
	int64_t late_grace = sched_late_grace_ns(station);
	for (int i = 0; i < MAX_IN_FLIGHT; i++) {
		struct in_flight *f = &station->in_flight[i];
		if (!f->used || f->started || f->dropped || f->manual_id || f->after_tag ||
		    f->start_ns >= now)
			continue;
		if (station->device_away) {
			struct fate fate = { .cause = FATE_DEVICE_LOST, .airing = &f->airing,
					     .at_ns = now, .due_ns = f->start_ns,
					     .position_ns = f->offset_ns, .piece_tag = f->tag };
			sched_decide_fate(station, &fate);
			continue;
		}
		/* (the engine starts it at once on the device's return) */
		if (f->start_ns < station->device_back_ns && now < station->device_back_ns + late_grace)
			continue;
		if (f->continuation || f->start_ns >= now - late_grace)
			continue;
		struct tt_airing airing = f->airing;
		int64_t due = f->start_ns;
		log_message(LOG_WARNING, "'%s' (event %" PRId64 " part %d) was due %.3f s ago and has "
			    "not aired: the clock moved", airing.title, airing.event_id, airing.part,
			    (double)(now - due) / 1e9);
		f->dropped = 1;
		playout_abort(station->playout, f->tag);
		struct fate fate = { .cause = FATE_DUE, .airing = &airing, .at_ns = now, .due_ns = due,
				     .missed_because = "the clock moved past its time" };
		sched_decide_fate(station, &fate);
	}
}

void sched_plan(struct station *station)
{
	int64_t now = station_clock_ns();
	/* cued at least a second beyond the device's buffer, or its instant
	 * would already be written (as silence) when it arrives */
	int64_t cue_ahead = config_ms(station->config->cue_ahead_ms, 8000);
	int64_t least_ahead = sched_join_ahead_ns(station) + 800 * NS_PER_MS;
	if (cue_ahead < least_ahead)
		cue_ahead = least_ahead;
	int64_t horizon = now + cue_ahead;
	int64_t from = now - sched_late_grace_ns(station);
	int first = !station->first_plan_done;
	if (first) {
		/* after a stop or crash: look back to when the station was last alive */
		int64_t last_alive = 0;
		tt_state_get(station->tt, "last_alive_ns", &last_alive);
		if (last_alive > now - STARTUP_LOOKBACK_NS && last_alive < from)
			from = last_alive;
	}
	struct tt_airing *airings = NULL;
	size_t count = 0;
	/* an item that began before `from` may still be on air: look back a day */
	if (tt_airings_between(station->tt, from - DAY_NS, horizon, &airings, &count) < 0) {
		if (!station->timetable_unreadable)
			log_message(LOG_ERROR, "cannot read the timetable (%s); what is cued stays cued, "
				    "and the station reads it again each second", tt_error(station->tt));
		station->timetable_unreadable = 1;
		return;
	}
	if (station->timetable_unreadable)
		log_message(LOG_INFO, "the timetable can be read again");
	station->timetable_unreadable = 0;
	for (int i = 0; i < MAX_IN_FLIGHT; i++)
		station->in_flight[i].seen = 0;
	for (size_t i = 0; i < count; i++)
		mark_seen(station, &airings[i]);
	for (size_t i = 0; i < count; i++) {
		struct tt_airing a = airings[i];
		struct occurrence_shift *shift = sched_find_shift(station, a.event_id, a.occurrence_date, 0);
		int64_t due = a.scheduled_ns + (shift ? shift->shift_ns : 0);
		int64_t end = due + a.duration_ns;
		if (due > horizon)
			continue;
		/* long past, unless a restart finds it on air or owed */
		int long_past = due < from;
		if (long_past && !(first && now - due <= sched_rejoin_grace_ns(station)))
			continue;
		if (sched_was_judged(station, &a) || adopt(station, &a, airings, count))
			continue;
		if (sched_already_logged(station, &a)) {
			sched_remember(station, &a);
			if (first)
				restore_after_restart(station, &a, now);
			continue;
		}
		/* with no row: the station before was down then (or lost its
		 * row), unless it is on air by the timetable now */
		if (long_past && end <= now)
			continue;
		judge(station, &a, shift, now);
	}
	free(airings);
	withdraw_unseen(station, from, horizon);
	rejudge_overtaken(station, now);
	station->first_plan_done = 1;
	if (now - station->last_heartbeat_ns >= HEARTBEAT_NS) {
		station->last_heartbeat_ns = now;
		writer_state_set(station->writer, "last_alive_ns", now);
	}
	if (now - station->last_progress_ns >= PROGRESS_NS) {
		station->last_progress_ns = now;
		/* the row of what is on air says how far it got and that it was
		 * on air now, in case the station dies before its end */
		struct playout_status device;
		playout_get_status(station->playout, &device);
		struct in_flight *f = sched_find_in_flight(station, device.on_air_tag);
		if (device.on_air_tag && f && f->run.id > 0) {
			/* the engine counts what it handed to the card, a buffer
			 * ahead: what has aired by now is no more than its time */
			int64_t frames = device.on_air_frames;
			int64_t aired = (now - f->run.started_ns) * station->rate / NS_PER_SECOND;
			if (aired >= 0 && aired < frames)
				frames = aired;
			writer_run_progress(station->writer, f->run.id, frames, now);
		}
	}
}
