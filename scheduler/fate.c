/*
 * The fate of an airing: one rule, called by every path that finds an
 * airing unable to air whole at its instant (docs/timetable.md has the table).
 *
 *   due   — planning reached it. On time, or late by no more than
 *           late_grace_ms: it is cued from its start. Later, because the
 *           station was not running or the clock moved past it: if it is
 *           still on air by the timetable (and rejoin_grace_s allows) it
 *           joins where the clock is, otherwise it is logged missed.
 *   held  — its start came while something of equal or higher priority held
 *           the air (the engine says so at the frame: PLAYOUT_HELD), or a
 *           later part of an occurrence that was preempted is due before the
 *           air is free: it is preempted at its start.
 *   cut   — a higher priority took the air part-way through it.
 *   device lost — its start came while the sound device was lost: it
 *           stays cued, and the engine joins it where its clock has reached
 *           once the device is back (as it keeps the item on air on its
 *           clock); it is logged missed once its time is over before that.
 *
 * A held or cut airing follows its event's resume policy once the air is
 * free (when what holds it ends): resume goes on from where it stopped (its
 * start, if nothing aired), restart airs it whole, rejoin joins where its
 * own clock has reached (skipped if that is past its end), skip drops it
 * with a row that says why. Its later parts move with it (a shift).
 *
 * Runs on the serving thread only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "playout/clock.h"
#include "scheduler/log.h"
#include "scheduler/station.h"


int64_t sched_late_grace_ns(const struct station *station)
{
	int ms = station->config->late_grace_ms;
	return (int64_t)(ms > 0 ? ms : 2000) * NS_PER_MS;
}

int64_t sched_rejoin_grace_ns(const struct station *station)
{
	int s = station->config->rejoin_grace_s;
	return (int64_t)(s > 0 ? s : 600) * NS_PER_SECOND;
}

int64_t sched_join_ahead_ns(struct station *station)
{
	struct playout_status device;
	playout_get_status(station->playout, &device);
	return (int64_t)device.buffer_frames * NS_PER_SECOND / device.rate + 200 * NS_PER_MS;
}

static struct manual *manual_of(struct station *station, const struct in_flight *f)
{
	for (int i = 0; f && f->manual_id && i < MAX_MANUALS; i++)
		if (station->manuals[i].used && station->manuals[i].id == f->manual_id)
			return &station->manuals[i];
	return NULL;
}

/* When the occurrence a piece belongs to will be over: its last part's end,
 * moved by any shift; for a manual broadcast, its expected end (0: open). */
static int64_t occurrence_end(struct station *station, const struct in_flight *f)
{
	int64_t end = f->start_ns + (f->airing.duration_ns - f->offset_ns);
	if (f->manual_id) {
		struct manual *m = manual_of(station, f);
		return m ? m->expected_end_ns : end;
	}
	struct tt_airing *airings = NULL;
	size_t count = 0;
	if (tt_airings_between(station->tt, f->airing.scheduled_ns - DAY_NS,
			       f->airing.scheduled_ns + DAY_NS, &airings, &count) == 0) {
		struct occurrence_shift *shift =
			sched_find_shift(station, f->airing.event_id, f->airing.occurrence_date, 0);
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

/* "emergency 'Bão số 5'": what holds the air, for a row's detail. */
static void describe_holder(struct station *station, const struct in_flight *holder,
			    char *out, size_t size)
{
	if (!holder) {
		snprintf(out, size, "a higher priority broadcast");
		return;
	}
	struct manual *m = manual_of(station, holder);
	snprintf(out, size, "%s '%s'", tt_priority_name(holder->airing.priority),
		 m ? m->title : holder->airing.title);
}

/* Where the air is free again after `holder`: an instant, and the piece to
 * follow on its next frame when that end is exact (a manual broadcast, or the
 * holder's occurrence ends with the holder itself). */
static void free_after(struct station *station, const struct in_flight *holder, int64_t at_ns,
		       int64_t *free_at_ns, uint64_t *after_tag)
{
	*free_at_ns = at_ns;
	*after_tag = 0;
	if (!holder)
		return;
	int64_t end = occurrence_end(station, holder);
	struct manual *m = manual_of(station, holder);
	if (m)
		*after_tag = m->last_tag;
	else if (end == holder->start_ns + holder->airing.duration_ns - holder->offset_ns)
		*after_tag = holder->tag;
	if (end > *free_at_ns)
		*free_at_ns = end;
}

void sched_continue_item(struct station *station, const struct tt_airing *a, int64_t offset_ns,
		   int64_t start_ns, uint64_t after_tag, int64_t clock_origin_ns, const char *note)
{
	if (clock_origin_ns && offset_ns >= a->duration_ns) {
		char detail[256];
		snprintf(detail, sizeof detail, "not aired: its time passed while %s was on air "
			 "(policy rejoin)", note && *note ? note : "a higher priority broadcast");
		sched_log_row(station, a, TT_RUN_SKIPPED, detail);
		return;
	}
	if (offset_ns < 0)
		offset_ns = 0;
	char text[256];
	if (clock_origin_ns)
		snprintf(text, sizeof text, "rejoined at %.3f s after %s", (double)offset_ns / 1e9,
			 note && *note ? note : "a higher priority broadcast");
	struct cue_request request = {
		.airing = a, .offset_ns = offset_ns, .start_ns = after_tag ? 0 : start_ns,
		.after_tag = after_tag, .continuation = 1, .clock_origin_ns = clock_origin_ns,
		.on_clock_ns = clock_origin_ns ? clock_origin_ns + offset_ns : 0,
		.note = clock_origin_ns ? text : note,
	};
	sched_cue_media(station, &request);
}

/* Pieces of the same occurrence after `a`, cued but not on air: withdrawn;
 * planning brings them back, moved by the occurrence's shift. */
static void withdraw_later_parts(struct station *station, const struct tt_airing *a)
{
	for (int i = 0; i < MAX_IN_FLIGHT; i++) {
		struct in_flight *later = &station->in_flight[i];
		if (later->used && !later->started && !later->dropped &&
		    later->airing.event_id == a->event_id && later->airing.part > a->part &&
		    strcmp(later->airing.occurrence_date, a->occurrence_date) == 0) {
			later->dropped = 1;
			sched_forget(station, &later->airing);
			playout_abort(station->playout, later->tag);
		}
	}
}

/* Held or cut: the policy, once the air is free. */
static void after_holder(struct station *station, const struct fate *fate)
{
	const struct tt_airing *a = fate->airing;
	char holder[200], note[256];
	if (fate->holder)
		describe_holder(station, fate->holder, holder, sizeof holder);
	else
		snprintf(holder, sizeof holder, "%s", fate->holder_name && *fate->holder_name
			 ? fate->holder_name : "a higher priority broadcast");
	if (a->event_id == 0) {
		/* a manual broadcast cut by a higher one is not resumed */
		snprintf(note, sizeof note, "cut by %s", holder);
		sched_log_row(station, a, TT_RUN_SKIPPED, note);
		return;
	}
	int64_t free_at = fate->free_at_ns;
	uint64_t after_tag = fate->after_tag;
	if (fate->holder)
		free_after(station, fate->holder, fate->at_ns, &free_at, &after_tag);
	if (free_at < fate->at_ns)
		free_at = fate->at_ns;
	withdraw_later_parts(station, a);
	struct occurrence_shift *shift = sched_find_shift(station, a->event_id, a->occurrence_date, 1);
	int64_t timeline_start = a->scheduled_ns + shift->shift_ns; /* as planned until now */
	shift->hold_until_ns = free_at;
	shift->after_tag = after_tag;
	shift->policy = a->resume;
	snprintf(shift->holder_name, sizeof shift->holder_name, "%s", holder);
	int held = fate->cause == FATE_HELD;
	switch (a->resume) {
	case TT_SKIP:
		shift->skip_rest = 1;
		if (held)
			snprintf(note, sizeof note, "not aired: %s held the air at its start (policy skip)",
				 holder);
		else
			snprintf(note, sizeof note, "the rest was dropped after %s (policy skip)", holder);
		sched_log_row(station, a, TT_RUN_SKIPPED, note);
		break;
	case TT_RESUME:
	case TT_RESTART: {
		int64_t position = a->resume == TT_RESUME ? fate->position_ns : 0;
		shift->shift_ns = free_at - a->scheduled_ns - position;
		if (held && position == 0)
			snprintf(note, sizeof note, "delayed: %s held the air at its start (policy %s)",
				 holder, tt_resume_name(a->resume));
		else if (position == 0)
			snprintf(note, sizeof note, "restarted after %s", holder);
		else
			snprintf(note, sizeof note, "resumed at %.3f s after %s", (double)position / 1e9,
				 holder);
		sched_continue_item(station, a, position, free_at, after_tag, 0, note);
		break;
	}
	case TT_REJOIN:
		sched_continue_item(station, a, free_at - timeline_start, free_at, after_tag, timeline_start,
			      holder);
		break;
	}
}

/* Planning reached an airing: on time, late, or missed. */
static void when_due(struct station *station, const struct fate *fate)
{
	const struct tt_airing *a = fate->airing;
	int64_t late_grace = sched_late_grace_ns(station);
	int64_t rejoin_grace = sched_rejoin_grace_ns(station);
	int64_t now = fate->at_ns;
	int64_t late = now - fate->due_ns;
	int64_t end = fate->due_ns + a->duration_ns;
	sched_remember(station, a);
	if (late <= late_grace) {
		struct cue_request request = { .airing = a, .start_ns = fate->due_ns };
		sched_cue_media(station, &request);
	} else if (now < end && late <= rejoin_grace) {
		/* on air by the timetable: join it where it would be, a moment ahead */
		int64_t start = now + sched_join_ahead_ns(station);
		char note[160];
		snprintf(note, sizeof note, "joined at %.3f s: %s", (double)(start - fate->due_ns) / 1e9,
			 fate->missed_because);
		struct cue_request request = {
			.airing = a, .offset_ns = start - fate->due_ns, .start_ns = start, .note = note,
		};
		sched_cue_media(station, &request);
	} else {
		sched_log_row(station, a, TT_RUN_MISSED, fate->missed_because);
	}
}

/* A cued piece's start came while the sound device was lost. */
static void while_device_lost(struct station *station, const struct fate *fate)
{
	const struct tt_airing *a = fate->airing;
	int64_t end = fate->due_ns + a->duration_ns - fate->position_ns;
	if (end > fate->at_ns + sched_join_ahead_ns(station))
		return;   /* it joins where its clock is when the device is back */
	struct in_flight *f = sched_find_in_flight(station, fate->piece_tag);
	if (f) {
		f->dropped = 1;
		playout_abort(station->playout, f->tag);
	}
	char lost[40], detail[160];
	sched_format_local_time(station->device_lost_ns, lost, sizeof lost);
	snprintf(detail, sizeof detail, "not aired: the sound device was lost at its time "
		 "(from %s)", lost);
	sched_log_row(station, a, TT_RUN_MISSED, detail);
}

void sched_decide_fate(struct station *station, const struct fate *fate)
{
	if (fate->cause == FATE_DUE)
		when_due(station, fate);
	else if (fate->cause == FATE_DEVICE_LOST)
		while_device_lost(station, fate);
	else
		after_holder(station, fate);
}

void sched_fate_after_stop(struct station *station, const uint64_t *stopped_tags, int count)
{
	int64_t now = station_clock_ns();
	int64_t resume_at = now + 100 * NS_PER_MS;
	for (int i = 0; i < MAX_SHIFTS; i++) {
		struct occurrence_shift *shift = &station->shifts[i];
		if (!shift->used || shift->hold_until_ns <= resume_at)
			continue;
		if (shift->policy != TT_REJOIN)
			shift->shift_ns -= shift->hold_until_ns - resume_at;
		shift->hold_until_ns = resume_at;
		shift->after_tag = 0;
	}
	for (int i = 0; i < MAX_IN_FLIGHT; i++) {
		struct in_flight *f = &station->in_flight[i];
		if (!f->used || f->started || f->dropped || f->manual_id)
			continue;
		int waited = 0;
		for (int k = 0; k < count; k++)
			waited |= f->after_tag == stopped_tags[k];
		if (f->continuation && waited && f->clock_origin_ns) {
			/* rejoin: its place on the clock is further on now */
			struct tt_airing airing = f->airing;
			f->dropped = 1;
			playout_abort(station->playout, f->tag);
			struct fate fate = {
				.cause = FATE_HELD, .airing = &airing, .at_ns = now,
				.free_at_ns = resume_at,
				.holder_name = "a manual broadcast that was stopped",
			};
			sched_decide_fate(station, &fate);
		} else if (!f->continuation && sched_find_shift(station, f->airing.event_id,
							   f->airing.occurrence_date, 0)) {
			/* a later part: planned again, moved by the new shift */
			f->dropped = 1;
			sched_forget(station, &f->airing);
			playout_abort(station->playout, f->tag);
		}
	}
}
