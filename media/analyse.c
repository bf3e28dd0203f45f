/* Import analysis: structure check, content hash, exact length, loudness,
 * peaks, silence, title; and the playout gain rule. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ebur128.h>

#include "media/media_internal.h"

#define ANALYSE_BLOCK_FRAMES 4096
#define HASH_BLOCK_BYTES 65536
#define SILENCE_THRESHOLD 0.001f /* -60 dBFS */

struct hash_progress {
	struct media_sha256 sha;
	int fd;
	int64_t done;        /* bytes hashed so far */
	int64_t size;
	unsigned char *buffer;
};

/* Hashes the file on to byte `upto` (clamped to its size). */
static int hash_upto(struct hash_progress *h, int64_t upto)
{
	if (upto > h->size)
		upto = h->size;
	while (h->done < upto) {
		size_t want = (size_t)(upto - h->done) < HASH_BLOCK_BYTES ?
			      (size_t)(upto - h->done) : HASH_BLOCK_BYTES;
		long n = media_pread_full(h->fd, h->buffer, want, h->done);
		int err;

		if (n < 0)
			return (int)n;
		if (n == 0)
			return MEDIA_ERR_CHANGED; /* shrank under us */
		err = media_sha256_update(&h->sha, h->buffer, (size_t)n);
		if (err < 0)
			return err;
		h->done += n;
	}
	return 0;
}

static double to_db(double linear)
{
	return linear > 0 ? 20.0 * log10(linear) : -HUGE_VAL;
}

int media_analyse(const char *path, struct media_analysis *out,
		  media_progress_fn progress, void *user)
{
	struct hash_progress hash = { .fd = -1 };
	struct media_decoder *dec = NULL;
	struct media_format format;
	ebur128_state *loudness = NULL, *peaks = NULL;
	float *block = NULL, *mono = NULL;
	int64_t size, counted = 0, first_loud = -1, last_loud = -1;
	double reported = 0, value, true_peak = 0, sample_peak = 0;
	int fd, decoder_fd = -1, err, c;
	unsigned int ch;

	memset(out, 0, sizeof(*out));
	out->integrated_lufs = -HUGE_VAL;
	out->true_peak_dbtp = -HUGE_VAL;
	out->sample_peak_dbfs = -HUGE_VAL;
	fd = media_open_regular(path, &size);
	if (fd < 0)
		return fd;
	hash.fd = fd;
	hash.size = size;
	err = media_sniff(fd, size, &format);
	if (err < 0)
		goto fail;
	if (format.ops->check) {
		err = format.ops->check(fd, size);
		if (err < 0)
			goto fail;
	}
	decoder_fd = dup(fd);
	if (decoder_fd < 0) {
		err = -errno;
		goto fail;
	}
	err = media_decoder_open_fd(&dec, decoder_fd, size, &out->info, &format);
	if (err < 0)
		goto fail;
	if (out->info.frames == 0) {
		err = MEDIA_ERR_NO_AUDIO;
		goto fail;
	}
	err = media_sha256_init(&hash.sha);
	if (err < 0)
		goto fail;
	hash.buffer = malloc(HASH_BLOCK_BYTES);
	block = malloc(sizeof(float) * ANALYSE_BLOCK_FRAMES * (size_t)out->info.channels);
	mono = malloc(sizeof(float) * ANALYSE_BLOCK_FRAMES);
	/* Loudness as aired: the mono downmix, heard on both loudspeaker
	 * channels. Peaks: the file's own channels. Histogram mode keeps the
	 * gating memory fixed however long the file (to within 0.05 LU). */
	loudness = ebur128_init(1, (unsigned long)out->info.rate,
				EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_HISTOGRAM);
	peaks = ebur128_init((unsigned int)out->info.channels, (unsigned long)out->info.rate,
			     EBUR128_MODE_SAMPLE_PEAK | EBUR128_MODE_TRUE_PEAK);
	if (!hash.buffer || !block || !mono || !loudness || !peaks) {
		err = -ENOMEM;
		goto fail;
	}
	ebur128_set_channel(loudness, 0, EBUR128_DUAL_MONO);

	for (;;) {
		long n = media_decoder_read(dec, block, ANALYSE_BLOCK_FRAMES), i;
		double fraction;

		if (n < 0) {
			err = (int)n;
			goto fail;
		}
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			const float *frame = block + (size_t)i * (size_t)out->info.channels;
			float sum = 0;
			int loud = 0;

			for (c = 0; c < out->info.channels; c++) {
				sum += frame[c];
				loud |= fabsf(frame[c]) > SILENCE_THRESHOLD;
			}
			mono[i] = sum / (float)out->info.channels;
			if (loud) {
				if (first_loud < 0)
					first_loud = counted + i;
				last_loud = counted + i;
			}
		}
		if (ebur128_add_frames_float(loudness, mono, (size_t)n) != EBUR128_SUCCESS ||
		    ebur128_add_frames_float(peaks, block, (size_t)n) != EBUR128_SUCCESS) {
			err = -ENOMEM;
			goto fail;
		}
		counted += n;
		fraction = (double)counted / (double)out->info.frames;
		err = hash_upto(&hash, (int64_t)(fraction * (double)size));
		if (err < 0)
			goto fail;
		if (progress && fraction - reported >= 0.01 && fraction < 1) {
			reported = fraction;
			progress(user, fraction);
		}
	}
	if (counted != out->info.frames) {
		err = counted < out->info.frames ? MEDIA_ERR_TRUNCATED : MEDIA_ERR_CORRUPT;
		goto fail;
	}
	err = hash_upto(&hash, size);
	if (err < 0)
		goto fail;
	err = media_sha256_final(&hash.sha, out->sha256_hex);
	if (err < 0)
		goto fail;

	if (ebur128_loudness_global(loudness, &value) == EBUR128_SUCCESS)
		out->integrated_lufs = value;
	if (ebur128_loudness_range(loudness, &value) == EBUR128_SUCCESS)
		out->loudness_range_lu = value;
	for (ch = 0; ch < (unsigned int)out->info.channels; ch++) {
		if (ebur128_true_peak(peaks, ch, &value) == EBUR128_SUCCESS && value > true_peak)
			true_peak = value;
		if (ebur128_sample_peak(peaks, ch, &value) == EBUR128_SUCCESS && value > sample_peak)
			sample_peak = value;
	}
	out->true_peak_dbtp = to_db(true_peak);
	out->sample_peak_dbfs = to_db(sample_peak);
	if (first_loud < 0) {
		out->silent = 1;
		out->leading_silence_frames = counted;
		out->trailing_silence_frames = counted;
	} else {
		out->leading_silence_frames = first_loud;
		out->trailing_silence_frames = counted - 1 - last_loud;
	}
	media_decoder_title(dec, out->title, sizeof(out->title));
	memcpy(out->extension, format.extension, sizeof(out->extension));
	if (progress)
		progress(user, 1.0);
	err = 0;
fail:
	if (err < 0) {
		struct media_info info = out->info;

		memset(out, 0, sizeof(*out));
		out->info = info;
	}
	if (loudness)
		ebur128_destroy(&loudness);
	if (peaks)
		ebur128_destroy(&peaks);
	free(block);
	free(mono);
	free(hash.buffer);
	if (hash.sha.ctx)
		media_sha256_free(&hash.sha);
	media_decoder_close(dec);
	close(fd);
	return err;
}

double media_playout_gain_db(const struct media_analysis *analysis,
			     double target_lufs, double max_true_peak_dbtp,
			     double trim_db)
{
	double gain = 0;

	if (!isfinite(trim_db))
		trim_db = 0;
	if (trim_db > 14)
		trim_db = 14;
	if (trim_db < -14)
		trim_db = -14;
	if (!analysis->silent && isfinite(analysis->integrated_lufs) && isfinite(target_lufs))
		gain = target_lufs - analysis->integrated_lufs;
	gain += trim_db;
	if (isfinite(analysis->true_peak_dbtp) && isfinite(max_true_peak_dbtp) &&
	    analysis->true_peak_dbtp + gain > max_true_peak_dbtp)
		gain = max_true_peak_dbtp - analysis->true_peak_dbtp;
	return gain;
}
