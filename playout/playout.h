/*
 * playout — the real-time engine: it keeps an ALSA device running (silence
 * between items), places the first frame of each cued item on the card's
 * timeline at its wall-clock instant, lets a higher priority preempt a lower
 * one with a short fade, and reports what really aired.
 *
 * playout knows nothing of SQLite, the timetable or file formats: an item is
 * a source (an ops table) that yields float frames at the engine's rate and
 * channel count.
 *
 * Threads: the caller's control thread uses this API; the engine runs a
 * feeder thread (fills each cued item's ring from its source) and an output
 * thread (moves frames to the device; no locks, no allocation, no file I/O).
 * All functions below are for the control thread only.
 */
#ifndef LOAXA_PLAYOUT_H
#define LOAXA_PLAYOUT_H

#include <stddef.h>
#include <stdint.h>

struct playout_config {
	const char *device;     /* ALSA PCM name, e.g. "default", "hw:0", "loaxatest:TAPE=..." */
	int rate;               /* wanted rate, Hz; the device may choose another (0 = 48000) */
	int channels;           /* wanted channels (0 = 2) */
	int period_ms;          /* period length (0 = 100) */
	int periods;            /* periods in the device buffer (0 = 4) */
	int realtime_priority;  /* SCHED_FIFO priority for the output thread; 0 = none */
};

/* An item's audio: one channel (the engine mixes mono, as commune
 * loudspeaker networks are, and sends it to every channel of the device).
 * Both functions are called on the feeder thread. */
struct playout_source_ops {
	/* Writes up to max_frames frames (engine rate, samples in [-1, 1]).
	 * Returns frames written (> 0), 0 at the end, -EAGAIN when nothing is
	 * ready yet (a live input), or another negative error. Must not be NULL. */
	long (*read)(void *source, float *frames, long max_frames);
	/* Frees the source. Called exactly once per cued source, also when the
	 * cue is refused or aborted. May be NULL. */
	void (*close)(void *source);
};

struct playout_cue {
	uint64_t tag;             /* the caller's id for this item, non-zero, unique */
	int64_t start_realtime_ns;/* wall-clock instant of its first frame; 0 = now */
	uint64_t after_tag;       /* non-zero: start on the frame after that item ends,
	                             if it is still cued or playing when this one is due */
	int priority;             /* higher preempts lower; equal ones wait their turn */
	int live;                 /* a live input: may start with little buffered
	                             (otherwise the engine decodes ahead first) */
	int displaced;            /* it airs off its own second (delayed, resumed, joined):
	                             an item of equal priority due at its own second takes
	                             the air from it (as from one that starts late) */
	int64_t on_clock_ns;      /* non-zero: the source's first frame belongs at this
	                             instant on the clock (a rejoin); if the item starts
	                             later (it followed one that ran long), what it is
	                             late by is dropped so it airs at its place */
	const struct playout_source_ops *ops;
	void *source;
};

enum playout_event_kind {
	PLAYOUT_STARTED,     /* first frame aired at realtime_ns */
	PLAYOUT_FINISHED,    /* played to the end; realtime_ns = end of the last frame */
	PLAYOUT_PREEMPTED,   /* cut by a higher priority after `frames` frames */
	PLAYOUT_HELD,        /* a timed item whose start frame came while an item of
	                        equal or higher priority held the air: it did not
	                        air (frames 0) and is released; realtime_ns = its
	                        start. Items cued to start "now" wait instead. */
	PLAYOUT_ABORTED,     /* stopped by playout_abort / playout_abort_all */
	PLAYOUT_FAILED,      /* the source returned an error (error) */
	PLAYOUT_DEVICE_ERROR,/* the device failed (error); the engine retries.
	                        realtime_ns = when it stopped playing: what it
	                        held beyond that did not air (the item on air
	                        counts it skipped; an item reported ended since
	                        did not air its last frames after that instant) */
	PLAYOUT_DEVICE_OK,   /* the device works again after a failure; frames =
	                        the length of the gap. Items keep their places on
	                        the clock: the one on air goes on where its clock
	                        has reached; one whose instant came meanwhile
	                        joins where its clock has reached */
};

struct playout_event {
	enum playout_event_kind kind;
	uint64_t tag;             /* 0 for device events */
	uint64_t holder_tag;      /* PREEMPTED, HELD: the item that took or held the air */
	int64_t realtime_ns;      /* when it happened on the card's timeline */
	int64_t frames;           /* frames of the item that aired so far */
	int64_t starved_frames;   /* frames the source could not supply in time */
	int64_t skipped_frames;   /* frames dropped so the item kept its place on the
	                             clock while the device was lost */
	int64_t late_frames;      /* STARTED: frames dropped at its start to keep it
	                             on its clock (cue.on_clock_ns, or its own
	                             instant if that came while the device was lost) */
	int joined_after_loss;    /* STARTED: its instant came while the device was
	                             lost; it joined where its clock had reached */
	int xruns;                /* device underruns while it played */
	int error;                /* negative error for FAILED / DEVICE_ERROR */
};

struct playout_status {
	int rate, channels;
	char format[16];          /* device sample format, e.g. "S16_LE" */
	int period_frames, buffer_frames;
	int realtime;             /* 1 if the output thread runs SCHED_FIFO */
	int device_ok;
	int64_t xruns;            /* since open */
	uint64_t on_air_tag;      /* 0 = silence */
	int64_t on_air_frames;    /* position of the item on air */
	int rewinds;              /* 1: the device takes back rewound frames, so an
	                             urgent item (emergency, stop) cuts in at once;
	                             0: it does not (a sound server's plugin, a file):
	                             urgent items start after the frames it holds,
	                             which the engine then keeps short */
	int64_t events_dropped;   /* events lost because the consumer fell behind
	                             (playout_next_event not called); to be logged */
};

struct playout;

/* Opens the device, chooses format, rate and channels it accepts, and starts
 * the threads playing silence. On failure writes a sentence to error. */
int playout_open(struct playout **out, const struct playout_config *config,
		 char *error, size_t error_size);
/* Fades out whatever plays, reports it ABORTED, stops the threads and closes
 * every source still cued. The events it reported can still be taken with
 * playout_next_event until playout_close. */
void playout_stop(struct playout *playout);
/* Stops (if not yet) and frees the engine and the device. */
void playout_close(struct playout *playout);

void playout_get_status(struct playout *playout, struct playout_status *status);

/* Hands a source to the engine. Returns 0, or -EBUSY when all slots are in use
 * (the source is then closed). */
int playout_cue(struct playout *playout, const struct playout_cue *cue);
/* Stops the item with the tag (fading it if on air). -ENOENT if unknown. */
int playout_abort(struct playout *playout, uint64_t tag);
void playout_abort_all(struct playout *playout);

/* A sentence for a negative error from this module (ALSA or errno). */
const char *playout_strerror(int error);

/* A descriptor that polls readable while events wait. */
int playout_event_fd(const struct playout *playout);
/* Takes the next event: 1 if one was taken, 0 if none. */
int playout_next_event(struct playout *playout, struct playout_event *event);

#endif
