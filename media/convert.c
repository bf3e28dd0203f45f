/* The playout stream: decode → mono → resample (libsoxr) → gain → clamp →
 * copy to every output channel, exactly media_frames_at_rate() frames long. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <soxr.h>

#include "media/media_internal.h"

#define STREAM_BLOCK_FRAMES 4096

struct media_stream {
	struct media_decoder *decoder;
	struct media_info info;
	int out_rate;
	int out_channels;
	float gain;            /* linear */
	int64_t length;        /* output frames of the whole item */
	int64_t position;      /* output frames handed out, from the item start */
	soxr_t soxr;           /* NULL when the rates are equal */
	float *source;         /* one decoded block, interleaved */
	float *mono;           /* its downmix: soxr input */
	long mono_count, mono_used;
	float *resampled;      /* mono at out_rate, ready to hand out */
	long resampled_capacity, resampled_count, resampled_used;
	int decoder_done;
	int soxr_flushed;
	int error;             /* met after frames were already handed out */
};

int64_t media_frames_at_rate(int64_t source_frames, int source_rate, int out_rate)
{
	int64_t whole, part;

	if (source_frames <= 0 || source_rate <= 0 || out_rate <= 0)
		return 0;
	if (source_rate == out_rate)
		return source_frames;
	whole = source_frames / source_rate;
	part = source_frames % source_rate;
	return whole * out_rate + (2 * part * out_rate + source_rate) / (2 * (int64_t)source_rate);
}

void media_stream_close(struct media_stream *stream)
{
	if (!stream)
		return;
	media_decoder_close(stream->decoder);
	if (stream->soxr)
		soxr_delete(stream->soxr);
	free(stream->source);
	free(stream->mono);
	free(stream->resampled);
	free(stream);
}

int media_stream_open(struct media_stream **out, const char *path, int out_rate,
		      int out_channels, double gain_db, int64_t start_frame)
{
	struct media_stream *s = NULL;
	int err;

	*out = NULL;
	if (out_rate < 1 || out_rate > 768000 || out_channels < 1 || out_channels > 64 ||
	    start_frame < 0 || !isfinite(gain_db))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = media_decoder_open_at(&s->decoder, path, &s->info, start_frame, out_rate);
	if (err < 0)
		goto fail;
	s->out_rate = out_rate;
	s->out_channels = out_channels;
	s->gain = (float)pow(10.0, gain_db / 20.0);
	s->length = media_frames_at_rate(s->info.frames, s->info.rate, out_rate);
	s->source = malloc(sizeof(float) * STREAM_BLOCK_FRAMES * (size_t)s->info.channels);
	s->mono = malloc(sizeof(float) * STREAM_BLOCK_FRAMES);
	s->resampled_capacity = STREAM_BLOCK_FRAMES;
	if (s->info.rate != out_rate) {
		soxr_error_t serr;
		soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
		soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);

		s->resampled_capacity = (long)((int64_t)STREAM_BLOCK_FRAMES * out_rate /
					       s->info.rate) + 64;
		s->soxr = soxr_create(s->info.rate, out_rate, 1, &serr, &io, &quality, NULL);
		if (!s->soxr) {
			err = -ENOMEM;
			goto fail;
		}
	}
	s->resampled = malloc(sizeof(float) * (size_t)s->resampled_capacity);
	if (!s->source || !s->mono || !s->resampled) {
		err = -ENOMEM;
		goto fail;
	}
	s->position = start_frame < s->length ? start_frame : s->length;
	*out = s;
	return 0;
fail:
	media_stream_close(s);
	return err;
}

int64_t media_stream_length(const struct media_stream *stream)
{
	return stream->length;
}

/* Decodes one block into s->mono. Returns frames (> 0), 0 at the end, < 0. */
static long decode_mono(struct media_stream *s)
{
	int channels = s->info.channels;
	long n, i;
	int c;

	n = media_decoder_read(s->decoder, s->source, STREAM_BLOCK_FRAMES);
	if (n <= 0)
		return n;
	if (channels == 1) {
		memcpy(s->mono, s->source, sizeof(float) * (size_t)n);
		return n;
	}
	for (i = 0; i < n; i++) {
		float sum = 0;

		for (c = 0; c < channels; c++)
			sum += s->source[i * channels + c];
		s->mono[i] = sum / (float)channels;
	}
	return n;
}

/* Fills s->resampled. Returns 1 with output ready, 0 at the end, < 0. */
static int refill(struct media_stream *s)
{
	s->resampled_count = s->resampled_used = 0;
	for (;;) {
		size_t in_done = 0, out_done = 0;
		soxr_error_t serr;
		long n;

		if (!s->soxr) {
			if (s->decoder_done)
				return 0;
			n = decode_mono(s);
			if (n < 0)
				return (int)n;
			if (n == 0) {
				s->decoder_done = 1;
				return 0;
			}
			memcpy(s->resampled, s->mono, sizeof(float) * (size_t)n);
			s->resampled_count = n;
			return 1;
		}
		if (s->mono_used < s->mono_count) {
			serr = soxr_process(s->soxr, s->mono + s->mono_used,
					    (size_t)(s->mono_count - s->mono_used), &in_done,
					    s->resampled, (size_t)s->resampled_capacity, &out_done);
			if (serr)
				return MEDIA_ERR_CORRUPT;
			s->mono_used += (long)in_done;
		} else if (!s->decoder_done) {
			n = decode_mono(s);
			if (n < 0)
				return (int)n;
			if (n == 0)
				s->decoder_done = 1;
			s->mono_count = n;
			s->mono_used = 0;
			continue;
		} else if (!s->soxr_flushed) {
			serr = soxr_process(s->soxr, NULL, 0, NULL, s->resampled,
					    (size_t)s->resampled_capacity, &out_done);
			if (serr)
				return MEDIA_ERR_CORRUPT;
			if (out_done == 0)
				s->soxr_flushed = 1;
		} else {
			return 0;
		}
		if (out_done > 0) {
			s->resampled_count = (long)out_done;
			return 1;
		}
	}
}

long media_stream_read(struct media_stream *s, float *frames, long max_frames)
{
	long written = 0;
	int c, err;

	if (max_frames < 0)
		return -EINVAL;
	if (s->error) {
		err = s->error;
		s->error = 0;
		return err;
	}
	while (written < max_frames && s->position < s->length) {
		long n = s->resampled_count - s->resampled_used, i;

		if (n == 0) {
			err = refill(s);
			if (err < 0) {
				if (written == 0)
					return err;
				s->error = err;
				break;
			}
			if (err == 0) {
				/* The source ended early: silence to the exact length. */
				n = max_frames - written;
				if (n > s->length - s->position)
					n = (long)(s->length - s->position);
				memset(frames + (size_t)written * (size_t)s->out_channels, 0,
				       sizeof(float) * (size_t)n * (size_t)s->out_channels);
				written += n;
				s->position += n;
			}
			continue;
		}
		if (n > max_frames - written)
			n = max_frames - written;
		if (n > s->length - s->position)
			n = (long)(s->length - s->position);
		for (i = 0; i < n; i++) {
			float v = s->resampled[s->resampled_used + i] * s->gain;
			float *frame = frames + (size_t)(written + i) * (size_t)s->out_channels;

			if (v > 1.0f)
				v = 1.0f;
			else if (v < -1.0f)
				v = -1.0f;
			else if (v != v)
				v = 0.0f;
			for (c = 0; c < s->out_channels; c++)
				frame[c] = v;
		}
		s->resampled_used += n;
		written += n;
		s->position += n;
	}
	return written;
}
