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

static void append(char *detail, size_t size, const char *fmt, double value)
{
	size_t used = strlen(detail);
	if (used)
		snprintf(detail + used, size - used, "; ");
	used = strlen(detail);
	snprintf(detail + used, size - used, fmt, value);
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
	snprintf(run->category, sizeof run->category, "%s", f->airing.category);
	run->planned_ns = f->airing.duration_ns;
	f->joined_after_loss = event->joined_after_loss;
	if (event->late_frames) {
		/* a rejoin that began later than planned, or an item whose start
		 * came while the device was lost, kept to its clock */
		f->offset_ns += event->late_frames * NS_PER_SECOND / station->rate;
		if (event->joined_after_loss) {
			snprintf(run->detail, sizeof run->detail, "joined at %.3f s: the sound device "
				 "was lost at its start", (double)f->offset_ns / 1e9);
		} else {
			append(run->detail, sizeof run->detail, "on its clock from %.3f s",
			       (double)f->offset_ns / 1e9);
			if (f->offset_ns >= f->airing.duration_ns && !f->unlogged) {
				/* the air came free after its clock had run out: nothing
				 * of it airs, and no row may say it started */
				char detail[300];
				snprintf(detail, sizeof detail, "not aired: its time on the clock passed "
					 "before the air was free (%s)", f->note);
				sched_log_row(station, &f->airing, TT_RUN_SKIPPED, detail);
				f->unlogged = 1;
			}
		}
	}
	if (f->unlogged)
		return;
	rows_begin(station, f->tag, run);   /* written once it aired; then run->id is set */
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
		/* played: its whole length reached the card, from its first frame;
		 * resumed: from part-way to its end; interrupted: the card lost
		 * some of it on the way; missed: its time passed while the card
		 * was lost, before it could join */
		if (f->joined_after_loss && event->frames == 0)
			run->status = TT_RUN_MISSED;
		else if (event->skipped_frames)
			run->status = TT_RUN_INTERRUPTED;
		else
			run->status = f->offset_ns == 0 ? TT_RUN_PLAYED : TT_RUN_RESUMED;
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
	} else if (f->started) {
		rows_finish(station, f->tag, run);
		log_message(LOG_INFO, "%s: '%s' after %.3f s", tt_run_status_name(run->status),
			    run->title, (double)event->frames / station->rate);
	} else if (event->kind != PLAYOUT_ABORTED) {
		sched_log_row(station, &f->airing, run->status, run->detail);
	}
	if (event->kind == PLAYOUT_PREEMPTED && !f->unlogged) {
		struct fate fate = {
			.cause = FATE_CUT, .airing = &f->airing, .at_ns = event->realtime_ns,
			.position_ns = f->offset_ns + event->frames * NS_PER_SECOND / station->rate,
			.holder = sched_find_in_flight(station, event->holder_tag),
		};
		sched_decide_fate(station, &fate);
	}
}

/* Its start came while something of equal or higher priority held the air:
 * nothing of it aired, so it has no row of its own yet. */
static void on_held(struct station *station, struct in_flight *f, const struct playout_event *event)
{
	struct in_flight *holder = sched_find_in_flight(station, event->holder_tag);
	log_message(LOG_INFO, "'%s' (event %" PRId64 " part %d) was due while '%s' held the air; "
		    "policy %s", f->airing.title, f->airing.event_id, f->airing.part,
		    holder ? holder->airing.title : "?", tt_resume_name(f->airing.resume));
	if (!f->continuation && f->airing.resume != TT_SKIP) {
		/* preempted at its start, owed its air: a restart before it airs
		 * finds it so (a continuation already has such a row) */
		char detail[256];
		snprintf(detail, sizeof detail, "preempted at its start: '%s' held the air",
			 holder ? holder->airing.title : "a higher priority broadcast");
		sched_log_row(station, &f->airing, TT_RUN_PREEMPTED, detail);
	}
	struct fate fate = {
		.cause = FATE_HELD, .airing = &f->airing, .at_ns = event->realtime_ns,
		.position_ns = f->offset_ns, .holder = holder,
	};
	sched_decide_fate(station, &fate);
}

static void on_event(struct station *station, const struct playout_event *event)
{
	if (event->kind == PLAYOUT_DEVICE_ERROR) {
		log_message(LOG_ERROR, "sound device failed (%s); reopening it",
			    playout_strerror(event->error));
		sched_note_error(station, "sound device failed: %s", playout_strerror(event->error));
		station->device_away = 1;
		station->device_lost_ns = event->realtime_ns;
		rows_device_lost(station, event->realtime_ns);
		return;
	}
	if (event->kind == PLAYOUT_DEVICE_OK) {
		station->device_away = 0;
		station->device_back_ns = event->realtime_ns;
		log_message(LOG_WARNING, "sound device is back after %.3f s; items kept their places "
			    "on the clock", (double)event->frames / station->rate);
		return;
	}
	struct in_flight *f = sched_find_in_flight(station, event->tag);
	if (!f)
		return;
	if (event->kind == PLAYOUT_STARTED) {
		on_started(station, f, event);
		return;
	}
	if (event->kind == PLAYOUT_HELD) {
		if (!f->dropped && !f->unlogged)
			on_held(station, f, event);
	} else if (!f->dropped || f->started) {
		on_ended(station, f, event);
	}
	if (f->manual_id)
		sched_manual_piece_done(station, f);
	f->used = 0;
}

void sched_drain_events(struct station *station)
{
	struct playout_event event;
	int drained = 0;
	while (playout_next_event(station->playout, &event)) {
		on_event(station, &event);
		drained++;
	}
	if (!drained)
		return;
	/* the engine's ring was full: what those events said is not known */
	struct playout_status status;
	playout_get_status(station->playout, &status);
	if (status.events_dropped > station->events_dropped) {
		log_message(LOG_ERROR, "%" PRId64 " event(s) of the sound engine were lost (the serving "
			    "loop fell behind it); the as-run rows of what they reported may be missing",
			    status.events_dropped - station->events_dropped);
		sched_note_error(station, "%" PRId64 " sound engine event(s) lost", status.events_dropped);
		station->events_dropped = status.events_dropped;
	}
}
