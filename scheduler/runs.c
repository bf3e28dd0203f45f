/* What the engine reports becomes the as-run log; a preempted item follows
 * its resume policy. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/media.h"
#include "scheduler/log.h"
#include "scheduler/sources.h"
#include "scheduler/station.h"
#include "scheduler/writer.h"

#define DAY_NS (24 * 3600 * NS_PER_SECOND)

static void append(char *detail, size_t size, const char *fmt, double value)
{
	size_t used = strlen(detail);
	if (used)
		snprintf(detail + used, size - used, "; ");
	used = strlen(detail);
	snprintf(detail + used, size - used, fmt, value);
}

/* When the occurrence a piece belongs to will be over: its last part's end,
 * moved by any shift. */
static int64_t occurrence_end(struct station *station, const struct in_flight *f)
{
	int64_t end = f->start_ns + (f->airing.duration_ns - f->offset_ns);
	if (f->manual_id) {
		for (int i = 0; i < MAX_MANUALS; i++)
			if (station->manuals[i].used && station->manuals[i].id == f->manual_id)
				return station->manuals[i].expected_end_ns;
		return end;
	}
	struct tt_airing *airings = NULL;
	size_t count = 0;
	if (tt_airings_between(station->tt, f->airing.scheduled_ns - DAY_NS,
			       f->airing.scheduled_ns + DAY_NS, &airings, &count) == 0) {
		struct occurrence_shift *shift =
			find_shift(station, f->airing.event_id, f->airing.occurrence_date, 0);
		for (size_t i = 0; i < count; i++) {
			const struct tt_airing *a = &airings[i];
			if (a->event_id != f->airing.event_id || a->part <= f->airing.part ||
			    strcmp(a->occurrence_date, f->airing.occurrence_date) != 0)
				continue;
			int64_t part_end = a->scheduled_ns + a->duration_ns + (shift ? shift->shift_ns : 0);
			if (part_end > end)
				end = part_end;
		}
	}
	free(airings);
	return end;
}

/* A piece was cut by a higher priority at `cut_ns`, `played_ns` into it. Its
 * occurrence continues after the higher one by its resume policy:
 *   resume  — the cut item goes on from where it was cut, the rest follows;
 *   restart — the cut item starts again, the rest follows;
 *   rejoin  — the occurrence goes on where it would have been by the clock;
 *   skip    — nothing more of this occurrence airs. */
static void after_preemption(struct station *station, struct in_flight *f, int64_t cut_ns,
			     int64_t played_ns)
{
	struct playout_status status;
	playout_get_status(station->playout, &status);
	struct in_flight *higher = find_in_flight(station, status.on_air_tag);
	int64_t hold_until = higher ? occurrence_end(station, higher) : cut_ns;
	uint64_t after_tag = 0;
	if (higher && higher->manual_id) {
		/* a manual broadcast ends when it ends (or is stopped): follow it */
		for (int i = 0; i < MAX_MANUALS; i++)
			if (station->manuals[i].used && station->manuals[i].id == higher->manual_id)
				after_tag = station->manuals[i].last_tag;
	}
	if (hold_until < cut_ns)
		hold_until = cut_ns;
	struct tt_airing cut = f->airing;
	int64_t position = f->offset_ns + played_ns;   /* into the cut item */
	if (cut.event_id == 0) {
		/* a manual broadcast cut by a higher one is not resumed */
		log_row(station, &cut, TT_RUN_SKIPPED, "cut by a higher priority broadcast");
		return;
	}

	/* Later parts already cued are withdrawn; planning brings them back,
	 * moved by the shift below. */
	for (int i = 0; i < MAX_IN_FLIGHT; i++) {
		struct in_flight *later = &station->in_flight[i];
		if (later->used && !later->started && !later->dropped &&
		    later->airing.event_id == cut.event_id && later->airing.part > cut.part &&
		    strcmp(later->airing.occurrence_date, cut.occurrence_date) == 0) {
			later->dropped = 1;
			forget(station, &later->airing);
			playout_abort(station->playout, later->tag);
		}
	}
	struct occurrence_shift *shift = find_shift(station, cut.event_id, cut.occurrence_date, 1);
	int64_t timeline_start = cut.scheduled_ns + shift->shift_ns; /* of the cut item, as planned */
	shift->hold_until_ns = hold_until;
	shift->policy = cut.resume;
	char note[160];
	int64_t start = after_tag ? 0 : hold_until;
	switch (cut.resume) {
	case TT_SKIP:
		shift->skip_rest = 1;
		log_row(station, &cut, TT_RUN_SKIPPED, "the rest was dropped after a higher priority "
			"broadcast (policy skip)");
		break;
	case TT_RESUME:
		shift->shift_ns = hold_until - cut.scheduled_ns - position;
		snprintf(note, sizeof note, "resumed at %.3f s after a higher priority broadcast",
			 (double)position / 1e9);
		continue_item(station, &cut, position, start, after_tag, 0, note);
		break;
	case TT_RESTART:
		shift->shift_ns = hold_until - cut.scheduled_ns;
		continue_item(station, &cut, 0, start, after_tag, 0,
			      "restarted after a higher priority broadcast");
		break;
	case TT_REJOIN:
		continue_item(station, &cut, hold_until - timeline_start, start, after_tag,
			      timeline_start, NULL);
		break;
	}
}

static void on_started(struct station *station, struct in_flight *f,
		       const struct playout_event *event)
{
	struct tt_run *run = &f->run;
	f->started = 1;
	memset(run, 0, sizeof *run);
	run->event_id = f->airing.event_id;
	run->part = f->airing.part;
	run->media_id = f->airing.media_id;
	run->priority = f->airing.priority;
	run->scheduled_ns = f->airing.scheduled_ns;
	run->started_ns = event->realtime_ns;
	run->status = TT_RUN_PLAYING;
	snprintf(run->occurrence_date, sizeof run->occurrence_date, "%s", f->airing.occurrence_date);
	snprintf(run->title, sizeof run->title, "%s", f->airing.title);
	snprintf(run->detail, sizeof run->detail, "%s", f->note);
	snprintf(run->triggered_by, sizeof run->triggered_by, "%s", f->triggered_by);
	if (f->unlogged)
		return;
	writer_run_begin(station->writer, run);   /* run->id: its handle */
	log_message(LOG_INFO, "on air: '%s' (event %" PRId64 " part %d), start error %+.3f ms",
		    run->title, run->event_id, run->part,
		    (double)(run->started_ns - f->start_ns) / 1e6);
}

static void on_ended(struct station *station, struct in_flight *f,
		     const struct playout_event *event)
{
	struct tt_run *run = &f->run;
	switch (event->kind) {
	case PLAYOUT_FINISHED:
		run->status = f->continuation ? TT_RUN_RESUMED : TT_RUN_PLAYED;
		break;
	case PLAYOUT_PREEMPTED:
		run->status = TT_RUN_PREEMPTED;
		break;
	case PLAYOUT_ABORTED:
		run->status = TT_RUN_INTERRUPTED;
		if (f->stopped_by[0])
			snprintf(run->detail + strlen(run->detail), sizeof run->detail - strlen(run->detail),
				 "%sstopped by %s", run->detail[0] ? "; " : "", f->stopped_by);
		else
			append(run->detail, sizeof run->detail, "the station was stopped%.0s", 0);
		break;
	default:
		run->status = TT_RUN_FAILED;
		append(run->detail, sizeof run->detail, "the audio could not be read%.0s", 0);
		break;
	}
	run->ended_ns = event->realtime_ns;
	run->frames_played = event->frames;
	run->xruns = event->xruns;
	if (event->skipped_frames)
		append(run->detail, sizeof run->detail, "%.3f s lost while the sound device was away",
		       (double)event->skipped_frames / station->rate);
	if (event->starved_frames)
		append(run->detail, sizeof run->detail, "%.0f frames late from the decoder",
		       (double)event->starved_frames);
	if (f->unlogged) {
		/* a chime or a gap */
	} else if (run->id) {
		writer_run_finish(station->writer, run);
		log_message(LOG_INFO, "%s: '%s' after %.3f s", tt_run_status_name(run->status),
			    run->title, (double)event->frames / station->rate);
	} else if (event->kind != PLAYOUT_ABORTED) {
		log_row(station, &f->airing, run->status, run->detail);
	}
	if (event->kind == PLAYOUT_PREEMPTED && !f->unlogged)
		after_preemption(station, f, event->realtime_ns,
				 event->frames * NS_PER_SECOND / station->rate);
}

static void on_event(struct station *station, const struct playout_event *event)
{
	if (event->kind == PLAYOUT_DEVICE_ERROR) {
		log_message(LOG_ERROR, "sound device failed (%s); reopening it",
			    playout_strerror(event->error));
		note_error(station, "sound device failed: %s", playout_strerror(event->error));
		return;
	}
	if (event->kind == PLAYOUT_DEVICE_OK) {
		log_message(LOG_WARNING, "sound device is back after %.3f s; items kept their places "
			    "on the clock", (double)event->frames / station->rate);
		return;
	}
	struct in_flight *f = find_in_flight(station, event->tag);
	if (!f)
		return;
	if (event->kind == PLAYOUT_STARTED) {
		on_started(station, f, event);
		return;
	}
	if (!f->dropped || f->run.id)
		on_ended(station, f, event);
	if (f->manual_id)
		manual_piece_done(station, f);
	f->used = 0;
}

void drain_events(struct station *station)
{
	struct playout_event event;
	while (playout_next_event(station->playout, &event))
		on_event(station, &event);
}
