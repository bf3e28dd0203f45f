/* Playout sources made by the station itself: media files, the attention
 * chime, silence (the gap between repeats), and a live capture device. */
#ifndef LOAXA_SOURCES_H
#define LOAXA_SOURCES_H

#include <stdint.h>

#include "playout/playout.h"

/* Over a struct media_stream * (media/media.h). */
extern const struct playout_source_ops sched_media_source_ops;

/* A generated two-tone attention chime (about 1.3 s) at `rate`. */
int chime_source_new(void **out, int rate, int64_t *frames);
/* `frames` frames of digital silence. */
int silence_source_new(void **out, int64_t frames);
extern const struct playout_source_ops sched_generated_source_ops;

/* An ALSA capture device (a microphone or line input), mono at `rate`,
 * until stopped. Opened on the caller's thread, read on the feeder thread
 * without blocking; overruns are recovered and counted. */
int live_source_new(void **out, const char *device, int rate, char *error, size_t error_size);
extern const struct playout_source_ops sched_live_source_ops;

#endif
