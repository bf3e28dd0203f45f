/*
 * The engine's control side and its feeder thread.
 *
 * Threads: the control thread (the caller) claims a FREE slot under
 * control_lock, fills in the cue and marks it LOADING; the feeder thread
 * (this file) reads sources into slot rings, marks a slot READY once its ring
 * is primed, and closes sources of RELEASEd slots; the output thread
 * (output.c) plays READY/PLAYING slots. The feeder sleeps on feed_fd until
 * a ring on air would be half empty (feeder_sleep_ns); the control thread
 * wakes it for cues and aborts, the output thread when it releases a slot
 * or a ring on air runs low sooner than planned (frames skipped after a
 * device gap).
 * Stopping: playout_close sets output_stop, joins the output thread (which
 * fades and drains), then stops and joins the feeder, which closes every
 * source still held.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "playout/clock.h"
#include "playout/engine_internal.h"

#define FEEDER_CHUNK_FRAMES 4096
#define FEEDER_MIN_SLEEP_MS 2
#define FEEDER_MAX_SLEEP_MS 250

static uint64_t power_of_two_at_least(uint64_t value)
{
	uint64_t result = 1;
	while (result < value)
		result <<= 1;
	return result;
}

static void close_source(struct slot *slot)
{
	if (slot->cue.ops && slot->cue.ops->close)
		slot->cue.ops->close(slot->cue.source);
	slot->cue.ops = NULL;
	slot->cue.source = NULL;
}

/* Reads from one slot's source while its ring has room. Returns 1 if it
 * did work. */
static int feed(struct slot *slot)
{
	int worked = 0;
	if (atomic_load_explicit(&slot->abort_requested, memory_order_acquire)) {
		if (!atomic_load(&slot->source_ended))
			atomic_store_explicit(&slot->source_ended, 1, memory_order_release);
		return 0;
	}
	while (!atomic_load_explicit(&slot->source_ended, memory_order_relaxed)) {
		uint64_t room;
		float *region = frame_ring_write_region(&slot->ring, &room);
		if (room == 0)
			break;
		if (room > FEEDER_CHUNK_FRAMES)
			room = FEEDER_CHUNK_FRAMES;
		long n = slot->cue.ops->read(slot->cue.source, region, (long)room);
		if (n == -EAGAIN)
			break;
		worked = 1;
		if (n <= 0) {
			if (n < 0)
				atomic_store(&slot->source_error, (int)n);
			atomic_store_explicit(&slot->source_ended, 1, memory_order_release);
			break;
		}
		frame_ring_commit_write(&slot->ring, (uint64_t)n);
	}
	return worked;
}

/* How long the feeder may sleep, in real time: until the ring of an item on
 * air is half empty (the rings hold a second or more, so it wakes about
 * twice a second per item), half a live chunk while a live input is cued,
 * whose source has little to give at a time, and at most
 * FEEDER_MAX_SLEEP_MS. Cues, aborts and released slots wake it at once. */
static long feeder_sleep_ns(struct playout *engine)
{
	int64_t sleep_ns = INT64_MAX;   /* station time, until converted below */
	int64_t period_ns = (int64_t)atomic_load(&engine->period_frames) * 1000000000LL /
			    engine->rate;
	for (int i = 0; i < ENGINE_SLOTS; i++) {
		struct slot *slot = &engine->slots[i];
		int state = atomic_load_explicit(&slot->state, memory_order_acquire);
		if ((state != SLOT_LOADING && state != SLOT_READY && state != SLOT_PLAYING) ||
		    atomic_load_explicit(&slot->source_ended, memory_order_acquire))
			continue;
		int64_t wait_ns;
		if (slot->cue.live) {
			wait_ns = LIVE_CHUNK_MS * 1000000LL / 2;
		} else if (state == SLOT_LOADING) {
			wait_ns = period_ns / 2;
		} else {
			int64_t readable = (int64_t)frame_ring_readable(&slot->ring);
			int64_t above_half = readable - (int64_t)slot->ring.capacity / 2;
			wait_ns = above_half * 1000000000LL / engine->rate;
		}
		if (wait_ns < sleep_ns)
			sleep_ns = wait_ns;
	}
	if (sleep_ns != INT64_MAX)
		sleep_ns = station_clock_real_ns(sleep_ns);   /* a test clock may run fast */
	if (sleep_ns > FEEDER_MAX_SLEEP_MS * 1000000LL)
		sleep_ns = FEEDER_MAX_SLEEP_MS * 1000000LL;
	return sleep_ns < FEEDER_MIN_SLEEP_MS * 1000000LL ? FEEDER_MIN_SLEEP_MS * 1000000L
							  : (long)sleep_ns;
}

static void *feeder_thread_main(void *arg)
{
	struct playout *engine = arg;
	for (;;) {
		if (atomic_load(&engine->feeder_stop))
			break;
		int worked = 0;
		for (int i = 0; i < ENGINE_SLOTS; i++) {
			struct slot *slot = &engine->slots[i];
			int state = atomic_load_explicit(&slot->state, memory_order_acquire);
			switch (state) {
			case SLOT_LOADING:
				worked |= feed(slot);
				/* primed: full ring, or the whole item */
				if (frame_ring_writable(&slot->ring) == 0 ||
				    atomic_load(&slot->source_ended) ||
				    frame_ring_readable(&slot->ring) >= (slot->cue.live
					? 2 * (uint64_t)engine->live_chunk_frames
					: (uint64_t)engine->rate / 4)) {
					atomic_store_explicit(&slot->state, SLOT_READY,
							      memory_order_release);
					if (slot->cue.start_realtime_ns == 0) {
						/* to air at once: wake the output thread */
						uint64_t one = 1;
						ssize_t ignored = write(engine->wake_fd, &one, sizeof one);
						(void)ignored;
					}
				}
				break;
			case SLOT_READY:
			case SLOT_PLAYING:
				worked |= feed(slot);
				break;
			case SLOT_RELEASE:
				close_source(slot);
				atomic_store_explicit(&slot->state, SLOT_FREE, memory_order_release);
				worked = 1;
				break;
			default:
				break;
			}
		}
		if (worked)
			continue;
		long sleep_ns = feeder_sleep_ns(engine);
		struct timespec timeout = { sleep_ns / 1000000000L, sleep_ns % 1000000000L };
		struct pollfd wake = { .fd = engine->feed_fd, .events = POLLIN };
		if (ppoll(&wake, 1, &timeout, NULL) > 0) {
			uint64_t counter;
			ssize_t ignored = read(engine->feed_fd, &counter, sizeof counter);
			(void)ignored;
		}
	}
	for (int i = 0; i < ENGINE_SLOTS; i++) {
		close_source(&engine->slots[i]);
		atomic_store(&engine->slots[i].state, SLOT_FREE);
	}
	return NULL;
}

void engine_wake_feeder(struct playout *engine)
{
	uint64_t one = 1;
	ssize_t ignored = write(engine->feed_fd, &one, sizeof one);
	(void)ignored;
}

static void stop_feeder(struct playout *engine)
{
	atomic_store(&engine->feeder_stop, 1);
	engine_wake_feeder(engine);
	pthread_join(engine->feeder_thread, NULL);
}

static int start_output_thread(struct playout *engine)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	int rc = -1;
	if (engine->config.realtime_priority > 0) {
		struct sched_param param = { .sched_priority = engine->config.realtime_priority };
		pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
		pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
		pthread_attr_setschedparam(&attr, &param);
		rc = pthread_create(&engine->output_thread, &attr, output_thread_main, engine);
		if (rc == 0)
			atomic_store(&engine->realtime, 1);
	}
	if (rc != 0) {
		pthread_attr_destroy(&attr);
		pthread_attr_init(&attr);
		rc = pthread_create(&engine->output_thread, &attr, output_thread_main, engine);
	}
	pthread_attr_destroy(&attr);
	return -rc;
}

static void free_engine(struct playout *engine)
{
	for (int i = 0; i < ENGINE_SLOTS; i++)
		free(engine->slots[i].ring.samples);
	free(engine->mix);
	free(engine->fade);
	free(engine->device_buffer);
	free(engine->history);
	if (engine->event_fd >= 0)
		close(engine->event_fd);
	if (engine->wake_fd >= 0)
		close(engine->wake_fd);
	if (engine->feed_fd >= 0)
		close(engine->feed_fd);
	alsa_device_close(&engine->device);
	pthread_mutex_destroy(&engine->control_lock);
	free(engine);
}

int playout_open(struct playout **out, const struct playout_config *config,
		 char *error, size_t error_size)
{
	*out = NULL;
	struct playout *engine = calloc(1, sizeof *engine);
	if (!engine) {
		snprintf(error, error_size, "out of memory");
		return -ENOMEM;
	}
	engine->config = *config;
	engine->event_fd = -1;
	engine->wake_fd = -1;
	engine->feed_fd = -1;
	pthread_mutex_init(&engine->control_lock, NULL);

	int rc = alsa_device_open(&engine->device, config, 0, error, error_size);
	if (rc < 0)
		goto fail;
	engine->rate = engine->device.rate;
	engine->channels = engine->device.channels;
	engine->format = engine->device.format;
	atomic_store(&engine->period_frames, (int)engine->device.period_frames);
	atomic_store(&engine->buffer_frames, (int)engine->device.buffer_frames);
	long period = (long)engine->device.period_frames;
	engine->live_chunk_frames = engine->device.rate * LIVE_CHUNK_MS / 1000;
	if (engine->live_chunk_frames > period)
		engine->live_chunk_frames = period;
	engine->mix = calloc((size_t)period, sizeof(float));
	engine->fade_frames = engine->device.rate / 200; /* 5 ms */
	engine->fade = calloc((size_t)engine->fade_frames, sizeof(float));
	engine->device_buffer = calloc((size_t)period * engine->device.channels,
				       (size_t)engine->device.sample_bytes);
	engine->history_frames = (int64_t)power_of_two_at_least(engine->device.buffer_frames +
								 2 * (uint64_t)period);
	engine->history = calloc((size_t)engine->history_frames, sizeof(float));
	/* on a test clock running n times as fast, rings hold n / 10 times as
	 * much, so they still last 100 ms of real time */
	int64_t ring_scale = station_clock_speed() > 10 ? station_clock_speed() / 10 : 1;
	uint64_t capacity = power_of_two_at_least((uint64_t)engine->device.rate * RING_SECONDS *
						  (uint64_t)ring_scale);
	for (int i = 0; i < ENGINE_SLOTS; i++) {
		struct frame_ring *ring = &engine->slots[i].ring;
		ring->capacity = capacity;
		ring->channels = 1;
		ring->samples = calloc(capacity, sizeof(float));
		if (!ring->samples)
			break;
	}
	rc = -ENOMEM;
	if (!engine->mix || !engine->fade || !engine->device_buffer || !engine->history ||
	    !engine->slots[ENGINE_SLOTS - 1].ring.samples) {
		snprintf(error, error_size, "out of memory");
		goto fail;
	}
	engine->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	engine->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	engine->feed_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (engine->event_fd < 0 || engine->wake_fd < 0 || engine->feed_fd < 0) {
		rc = -errno;
		snprintf(error, error_size, "eventfd: %s", strerror(errno));
		goto fail;
	}
	output_probe_device(engine);
	atomic_store(&engine->device_ok, 1);
	rc = -pthread_create(&engine->feeder_thread, NULL, feeder_thread_main, engine);
	if (rc < 0) {
		snprintf(error, error_size, "cannot start the feeder thread: %s", strerror(-rc));
		goto fail;
	}
	rc = start_output_thread(engine);
	if (rc < 0) {
		snprintf(error, error_size, "cannot start the output thread: %s", strerror(-rc));
		stop_feeder(engine);
		goto fail;
	}
	*out = engine;
	return 0;
fail:
	free_engine(engine);
	return rc;
}

void playout_stop(struct playout *engine)
{
	if (!engine || engine->stopped)
		return;
	engine->stopped = 1;
	atomic_store(&engine->output_stop, 1);
	pthread_join(engine->output_thread, NULL);
	stop_feeder(engine);
}

void playout_close(struct playout *engine)
{
	if (!engine)
		return;
	playout_stop(engine);
	free_engine(engine);
}

void playout_get_status(struct playout *engine, struct playout_status *status)
{
	memset(status, 0, sizeof *status);
	status->rate = engine->rate;
	status->channels = engine->channels;
	snprintf(status->format, sizeof status->format, "%s", snd_pcm_format_name(engine->format));
	status->period_frames = atomic_load(&engine->period_frames);
	status->buffer_frames = atomic_load(&engine->buffer_frames);
	status->realtime = atomic_load(&engine->realtime);
	status->device_ok = atomic_load(&engine->device_ok);
	status->xruns = atomic_load(&engine->xruns);
	status->on_air_tag = atomic_load(&engine->on_air_tag);
	status->on_air_frames = atomic_load(&engine->on_air_frames);
	status->rewinds = atomic_load(&engine->rewinds);
	status->events_dropped = atomic_load(&engine->events_dropped);
}

int playout_cue(struct playout *engine, const struct playout_cue *cue)
{
	struct slot *slot = NULL;
	pthread_mutex_lock(&engine->control_lock);
	for (int i = 0; i < ENGINE_SLOTS && !slot; i++)
		if (atomic_load_explicit(&engine->slots[i].state, memory_order_acquire) == SLOT_FREE)
			slot = &engine->slots[i];
	if (!slot) {
		pthread_mutex_unlock(&engine->control_lock);
		if (cue->ops && cue->ops->close)
			cue->ops->close(cue->source);
		return -EBUSY;
	}
	slot->cue = *cue;
	frame_ring_reset(&slot->ring);
	atomic_store(&slot->source_ended, 0);
	atomic_store(&slot->source_error, 0);
	atomic_store(&slot->abort_requested, 0);
	slot->start_fixed = 0;
	slot->start_frame = 0;
	slot->started = 0;
	slot->start_reported = 0;
	slot->frames_played = 0;
	slot->starved_frames = 0;
	slot->skipped_frames = 0;
	slot->late_start = 0;
	slot->late_frames = 0;
	slot->xruns_at_start = 0;
	slot->clock_ns = 0;
	slot->follow_clock = 0;
	slot->joined_after_loss = 0;
	atomic_store_explicit(&slot->state, SLOT_LOADING, memory_order_release);
	pthread_mutex_unlock(&engine->control_lock);
	engine_wake_feeder(engine);
	return 0;
}

int playout_abort(struct playout *engine, uint64_t tag)
{
	int found = 0;
	pthread_mutex_lock(&engine->control_lock);
	for (int i = 0; i < ENGINE_SLOTS; i++) {
		struct slot *slot = &engine->slots[i];
		int state = atomic_load(&slot->state);
		if (slot->cue.tag == tag && state != SLOT_FREE && state != SLOT_RELEASE) {
			atomic_store_explicit(&slot->abort_requested, 1, memory_order_release);
			found = 1;
		}
	}
	pthread_mutex_unlock(&engine->control_lock);
	engine_wake_feeder(engine);
	return found ? 0 : -ENOENT;
}

void playout_abort_all(struct playout *engine)
{
	pthread_mutex_lock(&engine->control_lock);
	for (int i = 0; i < ENGINE_SLOTS; i++)
		atomic_store_explicit(&engine->slots[i].abort_requested, 1, memory_order_release);
	pthread_mutex_unlock(&engine->control_lock);
	engine_wake_feeder(engine);
}

int playout_event_fd(const struct playout *engine)
{
	return engine->event_fd;
}

int playout_next_event(struct playout *engine, struct playout_event *event)
{
	uint64_t counter;
	ssize_t ignored = read(engine->event_fd, &counter, sizeof counter);
	(void)ignored;
	uint64_t r = atomic_load_explicit(&engine->event_read, memory_order_relaxed);
	uint64_t w = atomic_load_explicit(&engine->event_write, memory_order_acquire);
	if (r == w)
		return 0;
	*event = engine->events[r % ENGINE_EVENTS];
	atomic_store_explicit(&engine->event_read, r + 1, memory_order_release);
	if (r + 1 != w) {
		uint64_t one = 1;
		ignored = write(engine->event_fd, &one, sizeof one);
	}
	return 1;
}

const char *playout_strerror(int error)
{
	return snd_strerror(error);
}
