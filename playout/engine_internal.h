/*
 * Private to playout/: the engine's shared state.
 *
 * Ownership, by thread:
 *   control — the caller of playout.h; takes `control_lock` to claim slots.
 *   feeder  — fills slot rings from their sources; closes sources.
 *   output  — the ALSA thread; never locks, allocates or touches files
 *             (except when the device is lost, see output.c).
 * A slot moves FREE → LOADING (control) → READY (feeder, ring primed) →
 * PLAYING (output) → RELEASE (output) → FREE (feeder). Whoever moves it to
 * a state owns the fields marked for that state; the moves are atomic
 * release stores, read with acquire loads.
 */
#ifndef LOAXA_ENGINE_INTERNAL_H
#define LOAXA_ENGINE_INTERNAL_H

#include <alsa/asoundlib.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include "playout/playout.h"
#include "playout/ring.h"

#define ENGINE_SLOTS 16
#define ENGINE_EVENTS 256
#define RING_SECONDS 1
/* While a live input is on air the engine writes it in chunks of this
 * length and keeps no more than one chunk queued on the device, so the
 * speaker is heard about two chunks (plus the capture's own latency) late
 * whatever the device buffer is. */
#define LIVE_CHUNK_MS 10

enum slot_state { SLOT_FREE, SLOT_LOADING, SLOT_READY, SLOT_PLAYING, SLOT_RELEASE };

struct slot {
	_Atomic int state;
	/* written by control while FREE → LOADING, read-only afterwards */
	struct playout_cue cue;
	struct frame_ring ring;
	/* feeder → output */
	_Atomic int source_ended;    /* the ring holds the rest of the item */
	_Atomic int source_error;    /* set before source_ended, 0 = none */
	/* control → output */
	_Atomic int abort_requested;
	/* output thread only */
	int start_fixed;
	int64_t start_frame;         /* on the engine's frame timeline */
	int started;                 /* it has taken the air (PLAYING) */
	int start_reported;          /* ... and its first frame aired (STARTED) */
	int64_t started_ns;          /* when its first frame aired */
	int64_t frames_played;
	int64_t starved_frames;
	int64_t skipped_frames;      /* dropped on air: the card was away */
	int late_start;              /* it started later than its instant */
	int64_t late_frames;         /* dropped before its first frame aired */
	int64_t xruns_at_start;
	/* Its place on the clock: the instant its source's first frame belongs
	 * at (its start, or cue.on_clock_ns, or its own instant when the card
	 * was away then). While follow_clock is set, the frames its source is
	 * behind that place are dropped, and it waits in silence while it is
	 * ahead (its frames a lost card had queued did not air). */
	int64_t clock_ns;
	int follow_clock;
	int joined_after_loss;       /* its start came while the card was away */
};

struct alsa_device {
	snd_pcm_t *pcm;
	snd_pcm_format_t format;
	int rate, channels;
	int sample_bytes;
	snd_pcm_uframes_t period_frames, buffer_frames;
	char name[512];
};

struct playout {
	struct playout_config config;
	struct alsa_device device;     /* output thread (and playout_open before it) */
	/* the device's setup for the other threads: rate, channels and format
	 * are fixed at open (a reopen keeps them); the output thread publishes
	 * the sizes again after a reopen */
	int rate, channels;
	snd_pcm_format_t format;
	_Atomic int period_frames, buffer_frames;

	struct slot slots[ENGINE_SLOTS];
	int stopped;                   /* control thread: playout_stop done */
	pthread_mutex_t control_lock;  /* control thread(s): claiming slots */

	/* feeder thread */
	pthread_t feeder_thread;
	_Atomic int feeder_stop;
	int feed_fd;                   /* eventfd: wakes the feeder (control: a cue or
	                                  an abort; output: a ring on air runs low) */

	/* output thread; its fields are its own except the atomics */
	pthread_t output_thread;
	_Atomic int output_stop;
	_Atomic int realtime;
	_Atomic int device_ok;
	_Atomic int64_t xruns;
	_Atomic uint64_t on_air_tag;
	_Atomic int64_t on_air_frames;
	_Atomic int rewinds;           /* the device honours snd_pcm_rewind (see output.c);
	                                  set at open, then by the output thread */
	int64_t fill_limit_frames;     /* the most frames kept queued on the device */
	/* On a device that does not honour rewinds (a sound server), when
	 * timeline frame 0 aired: see read_position. 0 = not known yet. */
	int64_t origin_ns, origin_at_ns;
	int64_t written_frames;        /* engine timeline: frames handed to the device */
	long live_chunk_frames;        /* LIVE_CHUNK_MS, at most a period */
	float *mix;                    /* period_frames, mono */
	float *fade;                   /* fade_frames, mono: tail of a cut item */
	int fade_frames, fade_left, fade_length;
	int64_t fade_start_frame;      /* timeline frame where the cut was */
	void *device_buffer;           /* period_frames in the device format */
	float *history;                /* what was rendered, by timeline frame modulo
	                                  history_frames: the frames a rewind takes back */
	int64_t history_frames;        /* a power of two ≥ buffer + 2 periods */
	struct slot *segment_slot;     /* what is on air (NULL: silence) ... */
	int64_t segment_start_frame;   /* ... since this timeline frame */
	int fade_from_history;         /* the next cut fades what was rewound */
	int keep_places_pending;       /* the device is back: realign items to the clock */
	int start_at_first_write;      /* ... and starts with the first period written,
	                                  which airs at the instant it was placed for
	                                  (not once the buffer is full) */
	/* The card's last known position: timeline frame airing at known_ns,
	 * and whether it was running then (so playing on since). A lost card
	 * played up to about there: what it held beyond never aired. */
	int64_t known_frame, known_ns;
	int known_running;

	/* feeder → output: an item to air at once is ready (eventfd) */
	int wake_fd;
	struct pollfd wait_fds[16];    /* output thread: the device's descriptors + wake_fd */

	/* output → control events (single producer, single consumer) */
	struct playout_event events[ENGINE_EVENTS];
	_Atomic uint64_t event_write, event_read;
	_Atomic int64_t events_dropped;   /* the ring was full */
	int event_fd;
};

/* playout/alsa.c */
int alsa_device_open(struct alsa_device *device, const struct playout_config *config,
		     int reopen, char *error, size_t error_size);
void alsa_device_close(struct alsa_device *device);
/* -EPIPE → prepare, -ESTRPIPE → resume then prepare. Returns 0 when the
 * device can be written again, else the error (device lost). */
int alsa_device_recover(struct alsa_device *device, int error);
void alsa_device_convert(const struct alsa_device *device, const float *in,
			 void *out, long frames);

/* playout/output.c */
void *output_thread_main(void *engine);
/* Before the threads start (and on the output thread after a reopen): asks
 * the newly opened device whether it honours a rewind, sets engine->rewinds,
 * the fill limit and the device's wakeup and start thresholds to match. */
void output_probe_device(struct playout *engine);
void engine_push_event(struct playout *engine, const struct playout_event *event);

/* playout/engine.c: any thread (a write to an eventfd) */
void engine_wake_feeder(struct playout *engine);

#endif
