/* Playout sources: media streams, generated chime and silence, live capture. */
#include <alsa/asoundlib.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/media.h"
#include "scheduler/sources.h"

static long stream_read(void *source, float *frames, long max_frames)
{
	return media_stream_read(source, frames, max_frames);
}

static void stream_close(void *source)
{
	media_stream_close(source);
}

const struct playout_source_ops sched_media_source_ops = {
	.read = stream_read,
	.close = stream_close,
};

/* A generated sound: the chime's notes, or silence. */
struct generated {
	int rate;
	int64_t position, length;  /* frames */
	int chime;
};

int chime_source_new(void **out, int rate, int64_t *frames)
{
	struct generated *g = calloc(1, sizeof *g);
	if (!g)
		return -ENOMEM;
	g->rate = rate;
	g->chime = 1;
	g->length = (int64_t)rate * 13 / 10;
	*frames = g->length;
	*out = g;
	return 0;
}

int silence_source_new(void **out, int64_t frames)
{
	struct generated *g = calloc(1, sizeof *g);
	if (!g)
		return -ENOMEM;
	g->length = frames;
	*out = g;
	return 0;
}

/* Three struck notes (G5, E5, C5), each decaying, like a station ident. */
static float chime_sample(const struct generated *g, int64_t frame)
{
	static const double notes_hz[] = { 784.0, 659.3, 523.3 };
	double t = (double)frame / g->rate;
	double sample = 0;
	for (int n = 0; n < 3; n++) {
		double since = t - 0.35 * n;
		if (since < 0)
			continue;
		double attack = since < 0.005 ? since / 0.005 : 1.0;
		double envelope = attack * exp(-since * 3.0);
		sample += 0.25 * envelope * sin(2 * M_PI * notes_hz[n] * since) +
			  0.05 * envelope * sin(4 * M_PI * notes_hz[n] * since);
	}
	double tail = (double)(g->length - frame) / (0.05 * g->rate);
	return (float)(sample * (tail < 1.0 ? tail : 1.0));
}

static long generated_read(void *source, float *frames, long max_frames)
{
	struct generated *g = source;
	long n = 0;
	for (; n < max_frames && g->position < g->length; n++, g->position++)
		frames[n] = g->chime ? chime_sample(g, g->position) : 0.0f;
	return n;
}

const struct playout_source_ops sched_generated_source_ops = {
	.read = generated_read,
	.close = free,
};

/* ---- live capture ---- */

struct live {
	snd_pcm_t *pcm;
	snd_pcm_uframes_t period_frames;  /* read at most this much at a time */
	int64_t overruns;
};

int live_source_new(void **out, const char *device, int rate, char *error, size_t error_size)
{
	struct live *live = calloc(1, sizeof *live);
	if (!live)
		return -ENOMEM;
	int rc = snd_pcm_open(&live->pcm, device, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK);
	if (rc < 0) {
		snprintf(error, error_size, "cannot open capture device '%s': %s; check the name "
			 "('arecord -L' lists them)", device, snd_strerror(rc));
		free(live);
		return rc;
	}
	/* mono float at the engine's rate; alsa-lib's plug layer converts */
	rc = snd_pcm_set_params(live->pcm, SND_PCM_FORMAT_FLOAT_LE, SND_PCM_ACCESS_RW_INTERLEAVED,
				1, (unsigned)rate, 1, 50000);
	snd_pcm_uframes_t buffer_frames = 0;
	if (rc == 0)
		rc = snd_pcm_get_params(live->pcm, &buffer_frames, &live->period_frames);
	if (rc == 0)
		rc = snd_pcm_start(live->pcm);
	if (rc < 0) {
		snprintf(error, error_size, "capture device '%s' refused mono %d Hz: %s", device, rate,
			 snd_strerror(rc));
		snd_pcm_close(live->pcm);
		free(live);
		return rc;
	}
	*out = live;
	return 0;
}

static long live_read(void *source, float *frames, long max_frames)
{
	struct live *live = source;
	if (live->period_frames && (snd_pcm_uframes_t)max_frames > live->period_frames)
		max_frames = (long)live->period_frames;
	snd_pcm_sframes_t n = snd_pcm_readi(live->pcm, frames, (snd_pcm_uframes_t)max_frames);
	if (n == -EAGAIN || n == 0)
		return -EAGAIN;
	if (n == -EPIPE || n == -ESTRPIPE) {
		live->overruns++;
		if (snd_pcm_recover(live->pcm, (int)n, 1) == 0 && snd_pcm_start(live->pcm) >= 0)
			return -EAGAIN;
	}
	return (long)n;
}

static void live_close(void *source)
{
	struct live *live = source;
	snd_pcm_close(live->pcm);
	free(live);
}

const struct playout_source_ops sched_live_source_ops = {
	.read = live_read,
	.close = live_close,
};
