/*
 * The output thread: it keeps the device running, one period at a time, and
 * decides sample by sample what airs.
 *
 * Timeline: `written_frames` counts every frame handed to the device since
 * the engine opened. Before each period the thread asks the device where it
 * is (snd_pcm_status: delay and timestamp), so the frame it is about to write
 * airs at  tstamp + delay / rate.  A cued item's start instant becomes a frame
 * on this timeline once it falls inside the period being written; until then
 * it is recomputed every period, so clock drift over a long cue-ahead does not
 * accumulate.
 *
 * Urgent items (an emergency, `loaxa stop`) cut in at once where the device
 * takes back rewound frames (hw, plughw, the test card): the thread rewinds
 * what is buffered and renders it again. A sound server's ALSA plugin
 * (pulse, partly PipeWire), `file` or `null` accepts snd_pcm_rewind but has
 * passed the frames on; so every rewind is checked by the device's delay,
 * which must drop by what was rewound (output_probe_device asks once at open
 * with a period of silence, each urgent rewind asks again). A device that
 * does not honour it is put back where it was (snd_pcm_forward) and used
 * without rewinds for the rest of the run: urgent items start on the frame
 * after the last one written, with the cut's fade there, and the device is
 * kept SERVER_FILL_PERIODS periods full instead of a whole buffer, so that
 * wait stays short; the thread then sleeps until a period fits (a server
 * wakes its client whenever one fits its own, larger buffer), and the
 * instants of frames come from one origin, as a server plays every frame
 * it took (see read_position). Either way, every frame and instant the
 * events report is what reached the device.
 *
 * It never locks, allocates or touches files: slots are read through their
 * atomic state, events go to a single-producer ring and an eventfd. The one
 * exception is a lost device: the thread then closes and reopens it with
 * backoff (snd_pcm_open allocates), since nothing can air meanwhile anyway.
 * A lost device played up to about its last known position: what it held
 * beyond did not air and is not counted (lose_queued). Meanwhile the items
 * keep to their clock (follow_while_away drops from their rings what the
 * clock passes), so once it is back each is where its clock has reached.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "playout/clock.h"
#include "playout/engine_internal.h"

#define NS_PER_SECOND 1000000000LL
/* How close to the card's position a rewind may go: what the card may have
 * fetched beyond the position it reports. */
#define REWIND_SAFETY_MS 5
/* A rewind shorter than this is not worth it (nor checkable). */
#define REWIND_MIN_MS 2
/* On a device that does not honour rewinds: periods kept queued on it, so
 * an urgent item waits at most this long. */
#define SERVER_FILL_PERIODS 2
/* How fast the device's clock may drift from the system's: 1000 ppm. */
#define DRIFT_NS_PER_SECOND 1000000

/* Frames in span_ns at rate, toward zero or to the nearest (halves away from
 * zero); seconds and remainder apart, so no product overflows int64 however
 * far ahead the span reaches. */
static int64_t ns_to_frames(int64_t span_ns, int rate, int nearest)
{
	int64_t seconds = span_ns / NS_PER_SECOND, remainder_ns = span_ns % NS_PER_SECOND;
	int64_t half = !nearest ? 0 : remainder_ns >= 0 ? NS_PER_SECOND / 2 : -NS_PER_SECOND / 2;
	return seconds * rate + (remainder_ns * rate + half) / NS_PER_SECOND;
}

static int64_t frames_to_ns(int64_t frames, int rate)
{
	return frames / rate * NS_PER_SECOND + frames % rate * NS_PER_SECOND / rate;
}

void engine_push_event(struct playout *engine, const struct playout_event *event)
{
	uint64_t w = atomic_load_explicit(&engine->event_write, memory_order_relaxed);
	uint64_t r = atomic_load_explicit(&engine->event_read, memory_order_acquire);
	if (w - r < ENGINE_EVENTS) {
		engine->events[w % ENGINE_EVENTS] = *event;
		atomic_store_explicit(&engine->event_write, w + 1, memory_order_release);
	} else {
		atomic_fetch_add_explicit(&engine->events_dropped, 1, memory_order_relaxed);
	}
	uint64_t one = 1;
	ssize_t ignored = write(engine->event_fd, &one, sizeof one);
	(void)ignored;
}

/* Where the period being written sits on the wall clock. */
struct period_clock {
	int64_t first_frame;      /* engine timeline index of the period's first frame */
	int64_t first_frame_ns;   /* wall-clock instant it airs */
	int rate;
};

static int64_t frame_time_ns(const struct period_clock *clock, int64_t frame)
{
	return clock->first_frame_ns + frames_to_ns(frame - clock->first_frame, clock->rate);
}

static void report_by(struct playout *engine, struct slot *slot, enum playout_event_kind kind,
		      int64_t realtime_ns, int error, const struct slot *holder)
{
	struct playout_event event = {
		.kind = kind, .tag = slot->cue.tag, .realtime_ns = realtime_ns,
		.holder_tag = holder ? holder->cue.tag : 0,
		.frames = slot->frames_played, .starved_frames = slot->starved_frames,
		.skipped_frames = slot->skipped_frames, .late_frames = slot->late_frames,
		.joined_after_loss = slot->joined_after_loss,
		.xruns = (int)(atomic_load(&engine->xruns) - slot->xruns_at_start),
		.error = error,
	};
	engine_push_event(engine, &event);
}

static void report(struct playout *engine, struct slot *slot, enum playout_event_kind kind,
		   int64_t realtime_ns, int error)
{
	report_by(engine, slot, kind, realtime_ns, error, NULL);
}

static void release(struct playout *engine, struct slot *slot)
{
	if (atomic_load(&engine->on_air_tag) == slot->cue.tag) {
		atomic_store(&engine->on_air_tag, 0);
		atomic_store(&engine->on_air_frames, 0);
	}
	atomic_store_explicit(&slot->state, SLOT_RELEASE, memory_order_release);
	engine_wake_feeder(engine);   /* to close its source and free the slot */
}

/* Is the slot this one waits for still to come or on air (and not being
 * aborted)? */
static int predecessor_pending(struct playout *engine, const struct slot *slot)
{
	if (!slot->cue.after_tag)
		return 0;
	for (int i = 0; i < ENGINE_SLOTS; i++) {
		struct slot *other = &engine->slots[i];
		int state = atomic_load_explicit(&other->state, memory_order_acquire);
		/* the state first: a free slot's cue is the control thread's; one
		 * in these states stays out of its reach while this thread looks
		 * (only this thread releases it) */
		if (other != slot &&
		    (state == SLOT_LOADING || state == SLOT_READY || state == SLOT_PLAYING) &&
		    other->cue.tag == slot->cue.after_tag &&
		    !atomic_load_explicit(&other->abort_requested, memory_order_acquire))
			return 1;
	}
	return 0;
}

/* Gives start frames to due items that do not have one yet. */
static void fix_starts(struct playout *engine, const struct period_clock *clock,
		       int64_t period_end)
{
	for (int i = 0; i < ENGINE_SLOTS; i++) {
		struct slot *slot = &engine->slots[i];
		if (atomic_load_explicit(&slot->state, memory_order_acquire) != SLOT_READY ||
		    slot->start_fixed || predecessor_pending(engine, slot))
			continue;
		int64_t start = clock->first_frame;
		if (slot->cue.start_realtime_ns > 0) {
			int64_t ahead_ns = slot->cue.start_realtime_ns - clock->first_frame_ns;
			start = clock->first_frame + ns_to_frames(ahead_ns, clock->rate, 1);
		}
		if (start >= period_end)
			continue;           /* not in this period; recompute next time */
		if (start < clock->first_frame) {
			/* late: as soon as possible, and off its second if by more
			 * than 20 ms (it gives way to an item due at its own) */
			slot->late_start = clock->first_frame - start > clock->rate / 50;
			start = clock->first_frame;
		}
		slot->start_fixed = 1;
		slot->start_frame = start;
	}
}

static int is_due(struct slot *slot, int64_t frame)
{
	int state = atomic_load_explicit(&slot->state, memory_order_acquire);
	if (state == SLOT_PLAYING)
		return 1;
	return state == SLOT_READY && slot->start_fixed && slot->start_frame <= frame;
}

/* The item that should be on air at `frame`: the highest priority due;
 * on a tie the one already on air, then the earlier start. */
/* Is it a timed item not yet on air, due at its own second? */
static int on_its_second(const struct slot *slot)
{
	return slot->cue.start_realtime_ns && !slot->cue.displaced && !slot->started &&
	       !slot->late_start;
}

/* Does `slot` airing off its own second (displaced, or started late) give
 * the air to `other`, of equal priority, due at its own? */
static int gives_way(const struct slot *slot, const struct slot *other)
{
	return (slot->cue.displaced || slot->late_start) && on_its_second(other);
}

/* At equal priority the item on air keeps the air, but one airing off its
 * own second gives it to one due at its own; then the earlier start. */
static struct slot *choose_top(struct playout *engine, struct slot *on_air, int64_t frame)
{
	struct slot *top = NULL;
	for (int i = 0; i < ENGINE_SLOTS; i++) {
		struct slot *slot = &engine->slots[i];
		if (!is_due(slot, frame))
			continue;
		if (!top || slot->cue.priority > top->cue.priority) {
			top = slot;
		} else if (slot->cue.priority == top->cue.priority && slot != top) {
			if (slot == on_air ? !gives_way(slot, top)
			    : top == on_air ? gives_way(top, slot)
			    : slot->start_frame < top->start_frame)
				top = slot;
		}
	}
	return top;
}

/* The next frame after `frame` at which an item that could take the air
 * from `top` becomes due. */
static int64_t next_boundary(struct playout *engine, struct slot *top, int64_t frame,
			     int64_t end)
{
	int64_t boundary = end;
	for (int i = 0; i < ENGINE_SLOTS; i++) {
		struct slot *slot = &engine->slots[i];
		if (atomic_load_explicit(&slot->state, memory_order_acquire) != SLOT_READY ||
		    !slot->start_fixed || slot->start_frame <= frame)
			continue;
		if (top && slot->cue.priority <= top->cue.priority &&
		    !(slot->cue.priority == top->cue.priority && gives_way(top, slot)))
			continue;
		if (slot->start_frame < boundary)
			boundary = slot->start_frame;
	}
	return boundary;
}

/* Takes up to fade_frames of the cut item's audio into the fade buffer;
 * they are mixed in under what follows, ramping down. */
static void begin_fade(struct playout *engine, struct slot *slot, int64_t frame)
{
	uint64_t got;
	if (engine->fade_from_history) {
		/* the item's next frames were rendered already and taken back */
		for (got = 0; got < (uint64_t)engine->fade_frames; got++)
			engine->fade[got] = engine->history[(frame + (int64_t)got) &
							    (engine->history_frames - 1)];
		engine->fade_from_history = 0;
	} else {
		got = frame_ring_read(&slot->ring, engine->fade, (uint64_t)engine->fade_frames);
	}
	engine->fade_length = (int)got;
	engine->fade_left = (int)got;
	engine->fade_start_frame = frame;
}

/* Mixes the fade into the period that begins at first_frame, from the frame
 * of the cut on (a timed cut falls anywhere in a period). */
static void mix_fade(struct playout *engine, float *out, int64_t first_frame, int64_t frames)
{
	int64_t i = engine->fade_start_frame - first_frame;
	if (i < 0)
		i = 0;
	for (; i < frames && engine->fade_left > 0; i++, engine->fade_left--) {
		int index = engine->fade_length - engine->fade_left;
		float gain = 0.5f + 0.5f * cosf((float)M_PI * (float)(index + 1) /
						(float)(engine->fade_length + 1));
		out[i] += gain * engine->fade[index];
	}
}

/* Ends the item on air now, by preemption or abort, with a short fade. */
static void cut(struct playout *engine, struct slot *slot, enum playout_event_kind kind,
		const struct period_clock *clock, int64_t frame, const struct slot *holder)
{
	begin_fade(engine, slot, frame);
	report_by(engine, slot, kind, frame_time_ns(clock, frame), 0, holder);
	release(engine, slot);
}

/* Timed items whose start frame has come while `top` (of equal or higher
 * priority, or it would be on top) holds the air did not air at their
 * instant: they are reported HELD and released, and the scheduler decides
 * what becomes of them. Items cued for "now" (manual broadcasts) wait for
 * the air instead. */
static void release_held(struct playout *engine, const struct slot *top,
			 const struct period_clock *clock, int64_t frame)
{
	for (int i = 0; i < ENGINE_SLOTS; i++) {
		struct slot *slot = &engine->slots[i];
		/* the state first: a free slot's fields are the control thread's */
		if (slot == top || !is_due(slot, frame) || slot->started ||
		    slot->cue.start_realtime_ns == 0)
			continue;
		report_by(engine, slot, PLAYOUT_HELD, frame_time_ns(clock, slot->start_frame), 0, top);
		release(engine, slot);
	}
}

/* Handles abort requests: items not yet on air just go. */
static void handle_aborts(struct playout *engine, struct slot **on_air,
			  const struct period_clock *clock)
{
	for (int i = 0; i < ENGINE_SLOTS; i++) {
		struct slot *slot = &engine->slots[i];
		int state = atomic_load_explicit(&slot->state, memory_order_acquire);
		if ((state != SLOT_READY && state != SLOT_PLAYING) ||
		    !atomic_load_explicit(&slot->abort_requested, memory_order_acquire))
			continue;
		if (slot == *on_air) {
			cut(engine, slot, PLAYOUT_ABORTED, clock, clock->first_frame, NULL);
			*on_air = NULL;
		} else {
			report(engine, slot, PLAYOUT_ABORTED, frame_time_ns(clock, clock->first_frame), 0);
			release(engine, slot);
		}
	}
}

/* Where an item's source is: the frames taken from its ring. */
static int64_t source_position(const struct slot *slot)
{
	return slot->late_frames + slot->frames_played + slot->skipped_frames;
}

/* Drops up to `frames` of an item's source unplayed (as far as its ring
 * holds): late, before anything of it aired, else skipped. Returns how many. */
static int64_t drop(struct slot *slot, int64_t frames)
{
	int64_t dropped = (int64_t)frame_ring_skip(&slot->ring, (uint64_t)frames);
	if (slot->frames_played == 0 && slot->skipped_frames == 0)
		slot->late_frames += dropped;
	else
		slot->skipped_frames += dropped;
	return dropped;
}

/* An item starting at started_ns: where its source's first frame belongs on
 * the clock. A rejoin (cue.on_clock_ns), or an item whose instant came while
 * the device was lost, that starts later than its place follows its clock. */
static void place_on_clock(struct slot *slot)
{
	int64_t place = slot->cue.on_clock_ns;
	if (!place && slot->joined_after_loss)
		place = slot->cue.start_realtime_ns;
	slot->clock_ns = slot->started_ns;
	if (place && place < slot->started_ns) {
		slot->clock_ns = place;
		slot->follow_clock = 1;
	}
}

/* Brings an item that follows its clock to its place at `frame`: drops what
 * its source is behind, as far as its ring holds. Returns how many frames
 * from `frame` (up to `boundary`) must be silence first: it is ahead of its
 * place (what a lost device held did not air), or its ring has not caught
 * up yet (it tries again after them); 0 once it is at its place, or its
 * source has ended. */
static int64_t follow_clock(struct slot *slot, const struct period_clock *clock, int64_t frame,
			    int64_t boundary, int *ring_low)
{
	int64_t place = ns_to_frames(frame_time_ns(clock, frame) - slot->clock_ns, clock->rate, 1);
	int64_t behind = place - source_position(slot);
	if (behind > 0) {
		behind -= drop(slot, behind);
		*ring_low = 1;
	}
	if (behind > 0 && !(atomic_load_explicit(&slot->source_ended, memory_order_acquire) &&
			    frame_ring_readable(&slot->ring) == 0))
		return boundary - frame;
	if (behind < 0)
		return -behind < boundary - frame ? -behind : boundary - frame;
	slot->follow_clock = 0;
	return 0;
}

/* After the device was away, every item keeps its place on the clock: the
 * one on air goes on where its clock has reached (follow_clock), and one
 * whose instant came meanwhile joins where its own clock has reached, unless
 * it follows an item still on air. Called with the clock of the first
 * period written after the reopen. */
static void keep_places(struct playout *engine, const struct period_clock *clock)
{
	for (int i = 0; i < ENGINE_SLOTS; i++) {
		struct slot *slot = &engine->slots[i];
		int state = atomic_load_explicit(&slot->state, memory_order_acquire);
		if (state == SLOT_PLAYING) {
			slot->follow_clock = 1;
		} else if (state == SLOT_READY && !slot->started) {
			slot->start_fixed = 0;
			int64_t due = slot->cue.start_realtime_ns;
			if (due > 0 && due < clock->first_frame_ns && !predecessor_pending(engine, slot))
				slot->joined_after_loss = 1;
		}
	}
}

/* Fills engine->mix with one period, starting at clock->first_frame. */
static void render(struct playout *engine, struct slot **on_air_slot,
		   const struct period_clock *clock, int64_t frames)
{
	float *out = engine->mix;
	int64_t frame = clock->first_frame, end = clock->first_frame + frames;
	struct slot *on_air = *on_air_slot;
	int ring_low = 0;

	handle_aborts(engine, &on_air, clock);
	if (engine->keep_places_pending) {
		/* (after the aborts: an item that followed an aborted one joins) */
		engine->keep_places_pending = 0;
		keep_places(engine, clock);
	}
	fix_starts(engine, clock, end);
	while (frame < end) {
		struct slot *top = choose_top(engine, on_air, frame);
		int64_t boundary = next_boundary(engine, top, frame, end);
		float *dest = out + (frame - clock->first_frame);
		if (top != on_air && on_air) {
			cut(engine, on_air, PLAYOUT_PREEMPTED, clock, frame, top);
			on_air = NULL;
		}
		if (top)
			release_held(engine, top, clock, frame);
		if (top != engine->segment_slot) {
			engine->segment_slot = top;
			engine->segment_start_frame = frame;
		}
		if (!top) {
			memset(dest, 0, (size_t)(boundary - frame) * sizeof(float));
			frame = boundary;
			continue;
		}
		if (!top->started) {
			top->started = 1;
			top->xruns_at_start = atomic_load(&engine->xruns);
			atomic_store_explicit(&top->state, SLOT_PLAYING, memory_order_release);
			top->started_ns = frame_time_ns(clock, frame);
			place_on_clock(top);
		}
		on_air = top;
		atomic_store(&engine->on_air_tag, top->cue.tag);
		if (top->follow_clock) {
			int64_t silence = follow_clock(top, clock, frame, boundary, &ring_low);
			if (silence > 0) {
				memset(dest, 0, (size_t)silence * sizeof(float));
				frame += silence;
				continue;
			}
		}
		if (!top->start_reported) {
			/* its first frame airs here, at its place */
			top->start_reported = 1;
			top->started_ns = frame_time_ns(clock, frame);
			report(engine, top, PLAYOUT_STARTED, top->started_ns, 0);
		}
		int64_t want = boundary - frame;
		int64_t got = (int64_t)frame_ring_read(&top->ring, dest, (uint64_t)want);
		top->frames_played += got;
		atomic_store(&engine->on_air_frames, top->frames_played);
		if (!top->cue.live && frame_ring_readable(&top->ring) < top->ring.capacity / 4 &&
		    !atomic_load_explicit(&top->source_ended, memory_order_acquire))
			ring_low = 1;
		if (got < want) {
			int ended = atomic_load_explicit(&top->source_ended, memory_order_acquire);
			/* the ring may have been refilled between the read and the check */
			if (ended && frame_ring_readable(&top->ring) == 0) {
				int error = atomic_load(&top->source_error);
				int64_t end_frame = frame + got;
				report(engine, top, error ? PLAYOUT_FAILED : PLAYOUT_FINISHED,
				       frame_time_ns(clock, end_frame), error);
				/* once released the slot may be cued again at once */
				uint64_t ended_tag = top->cue.tag;
				release(engine, top);
				on_air = NULL;
				/* items chained after it start on the next frame */
				for (int i = 0; i < ENGINE_SLOTS; i++) {
					struct slot *next = &engine->slots[i];
					/* the state first: the cue of a free slot is the
					 * control thread's */
					if (atomic_load_explicit(&next->state, memory_order_acquire) ==
						    SLOT_READY &&
					    next->cue.after_tag == ended_tag && !next->start_fixed) {
						next->start_fixed = 1;
						next->start_frame = end_frame;
					}
				}
				frame = end_frame;
				fix_starts(engine, clock, end);
				continue;
			}
			if (!ended) {
				memset(dest + got, 0, (size_t)(want - got) * sizeof(float));
				top->starved_frames += want - got;
				frame = boundary;
				continue;
			}
			frame += got;
			continue;
		}
		frame = boundary;
	}
	mix_fade(engine, out, clock->first_frame, frames);
	engine->fade_from_history = 0;   /* a rewind serves the period after it only */
	*on_air_slot = on_air;
	if (ring_low)
		engine_wake_feeder(engine);  /* sooner than it planned: frames were skipped */
}

/* Keeps at most fill_limit_frames queued on the device: all of its buffer
 * when it honours rewinds, else SERVER_FILL_PERIODS periods. The device
 * wakes the thread when a period fits under the limit, and starts once the
 * limit is queued. */
static void set_fill_limit(struct playout *engine)
{
	snd_pcm_t *pcm = engine->device.pcm;
	int64_t buffer = (int64_t)engine->device.buffer_frames;
	int64_t period = (int64_t)engine->device.period_frames;
	int64_t limit = buffer;
	if (!atomic_load(&engine->rewinds) && SERVER_FILL_PERIODS * period < buffer)
		limit = SERVER_FILL_PERIODS * period;
	engine->fill_limit_frames = limit;
	snd_pcm_sw_params_t *sw;
	snd_pcm_sw_params_alloca(&sw);
	if (snd_pcm_sw_params_current(pcm, sw) < 0)
		return;
	snd_pcm_sw_params_set_avail_min(pcm, sw, (snd_pcm_uframes_t)(buffer - limit + period));
	/* a whole number of periods: the thread writes them one at a time */
	snd_pcm_sw_params_set_start_threshold(pcm, sw, (snd_pcm_uframes_t)(limit / period * period));
	snd_pcm_sw_params(pcm, sw);
}

/* Rewinds up to `frames` and checks that the device took them back: its
 * delay must drop by about as much (more only by what played meanwhile).
 * Returns the frames taken back, 0 if none, or -1 if the device accepted
 * the rewind without honouring it; ALSA's pointer is then put forward
 * again, so it agrees with what the device holds. */
static int64_t rewind_verified(struct playout *engine, int64_t frames)
{
	snd_pcm_t *pcm = engine->device.pcm;
	snd_pcm_sframes_t before = 0, after = 0;
	struct timespec first, last;
	clock_gettime(CLOCK_MONOTONIC, &first);
	if (snd_pcm_delay(pcm, &before) < 0)
		return 0;
	snd_pcm_sframes_t taken = snd_pcm_rewind(pcm, (snd_pcm_uframes_t)frames);
	if (taken <= 0)
		return 0;
	int rc = snd_pcm_delay(pcm, &after);
	clock_gettime(CLOCK_MONOTONIC, &last);
	if (rc < 0)
		return taken;   /* an underrun meanwhile: recovered by the caller */
	int64_t elapsed_ns = (int64_t)(last.tv_sec - first.tv_sec) * NS_PER_SECOND +
			     (last.tv_nsec - first.tv_nsec);
	int64_t played = ns_to_frames(elapsed_ns * station_clock_speed(), engine->device.rate, 0) + 1;
	if ((int64_t)(before - after) - played >= taken / 2)
		return taken;
	snd_pcm_forward(pcm, (snd_pcm_uframes_t)taken);
	return -1;
}

/* Writes a period of silence to the device (prepared, not started), rewinds
 * it and sees whether the delay dropped. */
void output_probe_device(struct playout *engine)
{
	snd_pcm_t *pcm = engine->device.pcm;
	long period = (long)engine->device.period_frames;
	int rewinds = 1;   /* presumed, if the device cannot be asked */
	memset(engine->device_buffer, 0, (size_t)period * (size_t)engine->device.channels *
					 (size_t)engine->device.sample_bytes);
	snd_pcm_sframes_t written = snd_pcm_writei(pcm, engine->device_buffer,
						   (snd_pcm_uframes_t)period);
	if (written > 0) {
		engine->written_frames += written;
		snd_pcm_avail(pcm);
		/* pulse may not know its delay yet (-EIO) just after a write */
		snd_pcm_sframes_t delay;
		for (int tries = 0; tries < 20 && snd_pcm_delay(pcm, &delay) < 0; tries++) {
			struct timespec pause = { 0, 5 * 1000 * 1000 };
			nanosleep(&pause, NULL);
		}
		/* all of it: the device is then as empty as it was */
		int64_t take = snd_pcm_rewindable(pcm);
		if (take > written)
			take = written;
		int64_t taken = take > 0 ? rewind_verified(engine, take) : 0;
		if (taken > 0)
			engine->written_frames -= taken;
		else if (taken < 0)
			rewinds = 0;
	}
	atomic_store(&engine->rewinds, rewinds);
	set_fill_limit(engine);
}

/* An item that must go on air at once (start "now", above what plays), or
 * an item on air that must stop (`loaxa stop`): on a device that honours
 * rewinds, the frames already handed to it but not yet played are taken
 * back (snd_pcm_rewind), down to REWIND_SAFETY_MS ahead of the card and no
 * further back than the current item or silence has been on air, so the
 * change airs a buffer sooner. A device found not to honour it is used
 * without rewinds from then on. */
static int rewind_for_urgent(struct playout *engine, struct slot *on_air)
{
	if (!atomic_load_explicit(&engine->rewinds, memory_order_relaxed))
		return 0;
	struct slot *urgent = NULL;
	for (int i = 0; i < ENGINE_SLOTS; i++) {
		struct slot *slot = &engine->slots[i];
		if (atomic_load_explicit(&slot->state, memory_order_acquire) == SLOT_READY &&
		    !slot->started && !slot->start_fixed && slot->cue.start_realtime_ns == 0 &&
		    !predecessor_pending(engine, slot) &&
		    (!on_air || slot->cue.priority > on_air->cue.priority))
			urgent = slot;
	}
	if (!urgent && !(on_air && atomic_load_explicit(&on_air->abort_requested,
						       memory_order_acquire)))
		return 0;
	snd_pcm_avail(engine->device.pcm);  /* brings the hardware pointer up to date */
	snd_pcm_sframes_t rewindable = snd_pcm_rewindable(engine->device.pcm);
	int64_t take = (int64_t)rewindable - engine->device.rate * REWIND_SAFETY_MS / 1000;
	int64_t since_change = engine->written_frames - engine->segment_start_frame;
	if (take > since_change)
		take = since_change;
	if (on_air && take > on_air->frames_played)
		take = on_air->frames_played;
	if (take < engine->device.rate * REWIND_MIN_MS / 1000)
		return 0;
	int64_t taken = rewind_verified(engine, take);
	if (taken < 0) {
		atomic_store(&engine->rewinds, 0);
		set_fill_limit(engine);
		return 0;
	}
	if (taken == 0)
		return 0;
	engine->written_frames -= taken;
	if (on_air) {
		on_air->frames_played -= taken;
		engine->fade_from_history = 1;
	}
	engine->fade_left = 0;
	return 1;
}

/* Items not yet on air lose their start frames: after an xrun or a reopen the
 * timeline has moved. */
static void unfix_pending(struct playout *engine)
{
	engine->origin_ns = 0;   /* where the device is must be learnt again */
	for (int i = 0; i < ENGINE_SLOTS; i++) {
		struct slot *slot = &engine->slots[i];
		if (atomic_load(&slot->state) == SLOT_READY && !slot->started)
			slot->start_fixed = 0;
	}
}

/* The error a device state stands for (0 for a state that plays):
 * recover_or_reopen knows what to do with each. */
static int state_error(snd_pcm_state_t state)
{
	switch (state) {
	case SND_PCM_STATE_XRUN:
		return -EPIPE;
	case SND_PCM_STATE_SUSPENDED:
		return -ESTRPIPE;
	case SND_PCM_STATE_DISCONNECTED:
		return -ENODEV;
	default:
		return 0;
	}
}

/* Waits until the device can take a period, or the feeder says an item must
 * air at once, or timeout_ms passes. Returns 0 or a device error. */
static int wait_device(struct playout *engine, int timeout_ms)
{
	snd_pcm_t *pcm = engine->device.pcm;
	int count = snd_pcm_poll_descriptors_count(pcm);
	if (count <= 0 || count > 15)
		return snd_pcm_wait(pcm, timeout_ms) < 0 ? -EIO : 0;
	snd_pcm_poll_descriptors(pcm, engine->wait_fds, (unsigned)count);
	engine->wait_fds[count] = (struct pollfd){ .fd = engine->wake_fd, .events = POLLIN };
	if (poll(engine->wait_fds, (nfds_t)count + 1, timeout_ms) < 0)
		return 0;
	if (engine->wait_fds[count].revents & POLLIN) {
		uint64_t counter;
		ssize_t ignored = read(engine->wake_fd, &counter, sizeof counter);
		(void)ignored;
	}
	unsigned short revents = 0;
	int rc = snd_pcm_poll_descriptors_revents(pcm, engine->wait_fds, (unsigned)count, &revents);
	if (rc < 0)
		return rc;
	if (revents & POLLERR) {
		/* an underrun or a suspend is recovered in place; only a card
		 * that is gone is reopened */
		rc = state_error(snd_pcm_state(pcm));
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

/* Sleeps timeout_ms, or less if the feeder says an item must air at once. */
static void wait_wake(struct playout *engine, int timeout_ms)
{
	struct pollfd wake = { .fd = engine->wake_fd, .events = POLLIN };
	if (poll(&wake, 1, timeout_ms) > 0) {
		uint64_t counter;
		ssize_t ignored = read(engine->wake_fd, &counter, sizeof counter);
		(void)ignored;
	}
}

static void sleep_ms(int ms)
{
	struct timespec pause = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&pause, NULL);
}

/* The timeline's frames from from_frame to to_frame never aired: a write
 * failed part-way, or a lost device held them. The item on air did not air
 * them; they count as skipped (dropped, its place in the item moves on),
 * not played. */
static void not_written(struct playout *engine, struct slot *on_air, int64_t from_frame,
			int64_t to_frame)
{
	if (on_air) {
		int64_t first = engine->segment_start_frame > from_frame ? engine->segment_start_frame
									 : from_frame;
		int64_t lost = to_frame - first;
		if (lost > on_air->frames_played)
			lost = on_air->frames_played;
		if (lost > 0) {
			on_air->frames_played -= lost;
			on_air->skipped_frames += lost;
			atomic_store(&engine->on_air_frames, on_air->frames_played);
		}
	}
	if (engine->segment_start_frame > from_frame)
		engine->segment_start_frame = from_frame;
	engine->fade_left = 0;
}

/* While the device is away, the items it would be playing keep to their
 * clock: what the clock passes is dropped from their rings now, and the
 * feeder refills them, so that once it is back each is at its place at
 * once, however long it was away. */
static void follow_while_away(struct playout *engine)
{
	int64_t now_ns = station_clock_ns();
	int dropped = 0;
	for (int i = 0; i < ENGINE_SLOTS; i++) {
		struct slot *slot = &engine->slots[i];
		int state = atomic_load_explicit(&slot->state, memory_order_acquire);
		int64_t place;
		if (state == SLOT_PLAYING)
			place = slot->clock_ns;
		else if (state == SLOT_READY && !slot->started && slot->cue.start_realtime_ns > 0 &&
			 !predecessor_pending(engine, slot))
			place = slot->cue.on_clock_ns ? slot->cue.on_clock_ns : slot->cue.start_realtime_ns;
		else
			continue;
		int64_t behind = place < now_ns ? ns_to_frames(now_ns - place, engine->device.rate, 0) -
						  source_position(slot) : 0;
		if (behind > 0)
			dropped |= drop(slot, behind) > 0;
	}
	if (dropped)
		engine_wake_feeder(engine);
}

/* The device is lost: it played up to about its last known position (and
 * on since, if it was running, up to now); what it held beyond that never
 * aired. Returns the instant it stopped. */
static int64_t lose_queued(struct playout *engine)
{
	int rate = engine->device.rate;
	int64_t aired = engine->known_frame;
	if (engine->known_running)
		aired += ns_to_frames(station_clock_ns() - engine->known_ns, rate, 0);
	if (aired > engine->written_frames)
		aired = engine->written_frames;
	if (aired < engine->known_frame)
		aired = engine->known_frame;
	struct slot *slot = engine->segment_slot;
	if (aired < engine->written_frames)
		not_written(engine, slot && atomic_load_explicit(&slot->state, memory_order_acquire) ==
					       SLOT_PLAYING ? slot : NULL,
			    aired, engine->written_frames);
	return engine->known_ns + frames_to_ns(aired - engine->known_frame, rate);
}

/* The device is gone: report, then reopen with backoff until it is back or
 * the engine stops. */
static void reopen_device(struct playout *engine, int error)
{
	int64_t lost_ns = lose_queued(engine);
	struct playout_event event = { .kind = PLAYOUT_DEVICE_ERROR, .error = error,
				       .realtime_ns = lost_ns };
	engine_push_event(engine, &event);
	atomic_store(&engine->device_ok, 0);
	alsa_device_close(&engine->device);
	int backoff_ms = 50;
	char message[256];
	while (!atomic_load(&engine->output_stop)) {
		follow_while_away(engine);
		sleep_ms(backoff_ms);
		if (alsa_device_open(&engine->device, &engine->config, 1, message, sizeof message) == 0) {
			output_probe_device(engine);
			atomic_store(&engine->period_frames, (int)engine->device.period_frames);
			atomic_store(&engine->buffer_frames, (int)engine->device.buffer_frames);
			atomic_store(&engine->device_ok, 1);
			int64_t back_ns = station_clock_ns();
			engine->keep_places_pending = 1;
			engine->start_at_first_write = 1;
			engine->known_frame = engine->written_frames;
			engine->known_running = 0;
			engine->known_ns = back_ns;
			struct playout_event ok = { .kind = PLAYOUT_DEVICE_OK,
						    .realtime_ns = back_ns,
						    .frames = ns_to_frames(back_ns - lost_ns,
									   engine->device.rate, 0) };
			engine_push_event(engine, &ok);
			return;
		}
		backoff_ms = backoff_ms * 2 > 500 ? 500 : backoff_ms * 2;
	}
}

/* Reads where the device is: the clock of the next frame to write and how
 * many frames may be written now. */
static int read_position(struct playout *engine, struct period_clock *clock,
			 snd_pcm_sframes_t *avail)
{
	snd_pcm_status_t *status;
	snd_pcm_status_alloca(&status);
	int rc = snd_pcm_status(engine->device.pcm, status);
	if (rc < 0)
		return rc;
	snd_pcm_state_t state = snd_pcm_status_get_state(status);
	rc = state_error(state);
	if (rc < 0)
		return rc;
	snd_htimestamp_t tstamp;
	snd_pcm_status_get_htstamp(status, &tstamp);
	/* the timestamp is asked for on the system's wall clock, and is when
	 * the delay was true: reading the station clock now instead would add
	 * however long this thread took since (a test clock running fast
	 * multiplies that). A plugin that gives another clock, or none, is not
	 * trusted: more than 100 ms of real time off. */
	int64_t now_ns = station_clock_from_system_ns((int64_t)tstamp.tv_sec * NS_PER_SECOND +
						      tstamp.tv_nsec);
	int64_t wall_ns = station_clock_ns();
	int64_t trust_ns = NS_PER_SECOND / 10 * station_clock_speed();
	if (state != SND_PCM_STATE_RUNNING || now_ns - wall_ns > trust_ns ||
	    wall_ns - now_ns > trust_ns)
		now_ns = wall_ns;
	snd_pcm_sframes_t delay = snd_pcm_status_get_delay(status);
	*avail = (snd_pcm_sframes_t)snd_pcm_status_get_avail(status);
	clock->rate = engine->device.rate;
	clock->first_frame = engine->written_frames;
	clock->first_frame_ns = now_ns + frames_to_ns(delay, engine->device.rate);
	engine->known_frame = engine->written_frames - delay;
	engine->known_ns = now_ns;
	engine->known_running = state == SND_PCM_STATE_RUNNING;
	if (!atomic_load_explicit(&engine->rewinds, memory_order_relaxed) &&
	    state == SND_PCM_STATE_RUNNING) {
		/* A sound server plays every frame it took, at its rate, so frame
		 * 0 aired at one instant: the origin. Its delay reads low until
		 * its timing settles (pulse reports 0 for its first seconds), which
		 * makes the origin look early, never late; so the origin is the
		 * latest estimate, let down only as fast as clocks drift apart. */
		int64_t origin_ns = clock->first_frame_ns -
				    frames_to_ns(clock->first_frame, engine->device.rate);
		if (engine->origin_ns) {
			int64_t drift_ns = (now_ns - engine->origin_at_ns) / 1000 *
					   DRIFT_NS_PER_SECOND / 1000000;
			if (origin_ns < engine->origin_ns - drift_ns)
				origin_ns = engine->origin_ns - drift_ns;
		}
		engine->origin_ns = origin_ns;
		engine->origin_at_ns = now_ns;
		clock->first_frame_ns = origin_ns + frames_to_ns(clock->first_frame,
								 engine->device.rate);
	}
	return 0;
}

static void recover_or_reopen(struct playout *engine, int error)
{
	if (error == -EPIPE)
		atomic_fetch_add(&engine->xruns, 1);
	if (alsa_device_recover(&engine->device, error) < 0) {
		reopen_device(engine, error);
	} else {
		/* an underrun played all it had; a resumed card starts afresh */
		engine->known_frame = engine->written_frames;
		engine->known_running = 0;
	}
	unfix_pending(engine);
}

/* Plays out what is buffered after a final fade. */
static void finish(struct playout *engine, struct slot **on_air)
{
	if (engine->device.pcm && atomic_load(&engine->device_ok)) {
		struct period_clock clock = { .first_frame = engine->written_frames,
					      .first_frame_ns = station_clock_ns(),
					      .rate = engine->device.rate };
		if (*on_air) {
			cut(engine, *on_air, PLAYOUT_ABORTED, &clock, engine->written_frames, NULL);
			*on_air = NULL;
			long frames = (long)engine->device.period_frames;
			memset(engine->mix, 0, (size_t)frames * sizeof(float));
			mix_fade(engine, engine->mix, engine->written_frames, frames);
			alsa_device_convert(&engine->device, engine->mix, engine->device_buffer, frames);
			snd_pcm_nonblock(engine->device.pcm, 0);
			snd_pcm_writei(engine->device.pcm, engine->device_buffer, (snd_pcm_uframes_t)frames);
		}
		snd_pcm_nonblock(engine->device.pcm, 0);
		snd_pcm_drain(engine->device.pcm);
	}
}

void *output_thread_main(void *arg)
{
	struct playout *engine = arg;
	struct slot *on_air = NULL;
	long period = (long)engine->device.period_frames;

	/* after a write that left less than a period of room: wait first, then
	 * read the position once (each device call costs a wakeup's worth) */
	int wait_first = 0;
	while (!atomic_load(&engine->output_stop)) {
		if (!atomic_load(&engine->device_ok)) {
			reopen_device(engine, -ENODEV);
			wait_first = 0;
			continue;
		}
		if (wait_first) {
			wait_first = 0;
			int rc = wait_device(engine, 100);
			if (rc < 0) {
				recover_or_reopen(engine, rc);
				continue;
			}
		}
		struct period_clock clock;
		snd_pcm_sframes_t avail = 0;
		int rc = read_position(engine, &clock, &avail);
		if (rc < 0) {
			recover_or_reopen(engine, rc);
			continue;
		}
		if (rewind_for_urgent(engine, on_air)) {
			rc = read_position(engine, &clock, &avail);
			if (rc < 0) {
				recover_or_reopen(engine, rc);
				continue;
			}
		}
		long frames = period;
		int live = on_air && on_air->cue.live;
		if (live) {
			/* a live input keeps the device's queue short (LIVE_CHUNK_MS) */
			frames = engine->live_chunk_frames;
			int64_t queued = (int64_t)engine->device.buffer_frames - avail;
			if (queued > frames) {
				/* after an underrun the device waits for a full
				 * buffer to start: a live queue is started short */
				if (snd_pcm_state(engine->device.pcm) == SND_PCM_STATE_PREPARED &&
				    snd_pcm_start(engine->device.pcm) == 0)
					continue;
				wait_wake(engine, (int)((queued - frames) * 1000 / engine->device.rate) + 1);
				continue;
			}
		}
		/* room under the fill limit */
		int64_t room = (int64_t)avail -
			       ((int64_t)engine->device.buffer_frames - engine->fill_limit_frames);
		if (room < frames) {
			/* full, yet not started: the start threshold is a whole
			 * number of periods, which a rewind may have broken */
			if (snd_pcm_state(engine->device.pcm) == SND_PCM_STATE_PREPARED &&
			    snd_pcm_start(engine->device.pcm) == 0)
				continue;
			if (engine->fill_limit_frames < (int64_t)engine->device.buffer_frames) {
				/* below its own buffer a device's wakeup cannot be
				 * trusted (pulse wakes whenever a period fits in
				 * its buffer): sleep until a period fits the limit */
				int64_t wait_ns = frames_to_ns(frames - room, engine->device.rate);
				wait_wake(engine, (int)(station_clock_real_ns(wait_ns) / 1000000) + 1);
				continue;
			}
			wait_first = 1;
			continue;
		}
		render(engine, &on_air, &clock, frames);
		for (long i = 0; i < frames; i++)
			engine->history[(engine->written_frames + i) & (engine->history_frames - 1)] =
				engine->mix[i];
		alsa_device_convert(&engine->device, engine->mix, engine->device_buffer, frames);
		long done = 0;
		int failed = 0;   /* the write's error */
		while (done < frames && !atomic_load(&engine->output_stop)) {
			const char *bytes = engine->device_buffer;
			snd_pcm_sframes_t n = snd_pcm_writei(
				engine->device.pcm,
				bytes + (size_t)done * engine->device.channels * engine->device.sample_bytes,
				(snd_pcm_uframes_t)(frames - done));
			if (n == -EAGAIN) {
				snd_pcm_wait(engine->device.pcm, 100);
				continue;
			}
			if (n < 0) {
				failed = (int)n;
				break;
			}
			done += n;
		}
		if (done < frames)
			not_written(engine, on_air, engine->written_frames + done,
				    engine->written_frames + frames);
		engine->written_frames += done;
		if (engine->start_at_first_write && done > 0 && !failed) {
			engine->start_at_first_write = 0;
			if (snd_pcm_state(engine->device.pcm) == SND_PCM_STATE_PREPARED)
				snd_pcm_start(engine->device.pcm);
		}
		if (failed)
			recover_or_reopen(engine, failed);
		wait_first = !failed && !live && room - frames < period &&
			     engine->fill_limit_frames == (int64_t)engine->device.buffer_frames;
	}
	finish(engine, &on_air);
	return NULL;
}
