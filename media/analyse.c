/* Import analysis: structure check, content hash, exact length, loudness,
 * peaks, silence, title; and the playout gain rule. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "media/media_internal.h"

#define ANALYSE_BLOCK_FRAMES 4096
#define HASH_BLOCK_BYTES 65536
#define SILENCE_THRESHOLD 0.001f /* -60 dBFS */
/* Where import opens the file again part-way in, as playout does to resume
 * or rejoin an item: at 1/4, 2/4 and 3/4 of it, and this many frames
 * before its end. From each it must play to the end, and its first this
 * many frames must match the whole decode. */
#define SEEK_PROBES 4
#define SEEK_WINDOW_FRAMES 1024
/* How far a sample decoded after a seek may be from the same sample of the
 * whole decode. libmpg123 seeks sample-accurately after its scan and
 * decodes from MP3_SEEK_PREFRAMES frames before the target, so its samples
 * match to within float rounding (measured: at most 9e-8 on the fixtures,
 * 1.5e-8 on the benchmark's speech); every other decoder is exact. */
#define SEEK_TOLERANCE_MPEG 1e-5f

/* A stretch of the whole decode kept to be compared after a seek. */
struct seek_probe {
	int64_t start;       /* source frame */
	long frames;         /* ≤ SEEK_WINDOW_FRAMES */
	float *samples;      /* frames × channels, interleaved */
};

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

/* Where the probes go in a file of `frames`; each gets its window of
 * `storage` (SEEK_PROBES × SEEK_WINDOW_FRAMES × channels floats). */
static void place_probes(struct seek_probe *probes, int64_t frames, int channels,
			 float *storage)
{
	int k;

	for (k = 0; k < SEEK_PROBES; k++) {
		struct seek_probe *p = &probes[k];

		/* frames × (k + 1) / SEEK_PROBES, without overflow for a
		 * header that claims INT64_MAX frames */
		p->start = k < SEEK_PROBES - 1 ?
			   frames / SEEK_PROBES * (k + 1) + frames % SEEK_PROBES * (k + 1) / SEEK_PROBES :
			   frames - SEEK_WINDOW_FRAMES;
		if (p->start < 0)
			p->start = 0;
		p->frames = frames - p->start < SEEK_WINDOW_FRAMES ? (long)(frames - p->start) :
			    SEEK_WINDOW_FRAMES;
		p->samples = storage + (size_t)k * SEEK_WINDOW_FRAMES * (size_t)channels;
	}
}

/* Keeps the part of a decoded block (n frames from source frame `at`) that
 * falls in a probe's window. */
static void keep_probes(struct seek_probe *probes, const float *block, long n, int64_t at,
			int channels)
{
	int k;

	for (k = 0; k < SEEK_PROBES; k++) {
		struct seek_probe *p = &probes[k];
		int64_t from = p->start > at ? p->start : at;
		int64_t to = p->start + p->frames < at + n ? p->start + p->frames : at + n;

		if (from < to)
			memcpy(p->samples + (size_t)(from - p->start) * (size_t)channels,
			       block + (size_t)(from - at) * (size_t)channels,
			       sizeof(float) * (size_t)(to - from) * (size_t)channels);
	}
}

/* Progress over all the decoding import does: the whole file, then from
 * each probe to the end. */
struct progress_report {
	media_progress_fn fn;   /* may be NULL */
	void *user;
	double total_frames;    /* frames decoded in all */
	double reported;        /* the last fraction passed on */
};

/* Passes on the fraction for done_frames, about every 1 %, below 1. */
static void report_progress(struct progress_report *r, double done_frames)
{
	double fraction = done_frames / r->total_frames;

	if (r->fn && fraction - r->reported >= 0.01 && fraction < 1) {
		r->reported = fraction;
		r->fn(r->user, fraction);
	}
}

/*
 * Opens the file again at each probe the way playout opens an item part-way
 * in (media_decoder_open_at) and reads on to its end, as a resumed item
 * plays: the window there must match the whole decode, the reading must
 * end without an error and after exactly the frames left (a seek can leave
 * a damaged file's decoder off its count, failing or ending early long after
 * the window). `buffer` holds ANALYSE_BLOCK_FRAMES frames. 0, or
 * MEDIA_ERR_UNSEEKABLE with *at_frame the probe that failed; -errno (other
 * than a decoder's) as it came.
 */
static int check_seeks(const char *path, const struct media_info *info,
		       const struct seek_probe *probes, float *buffer, int64_t *at_frame,
		       struct progress_report *progress)
{
	float tolerance = strncmp(info->codec, "mp", 2) == 0 ? SEEK_TOLERANCE_MPEG : 0.0f;
	size_t channels = (size_t)info->channels;
	double done = (double)info->frames;
	int k, err = 0;

	for (k = 0; k < SEEK_PROBES && err == 0; k++) {
		const struct seek_probe *p = &probes[k];
		struct media_decoder *dec = NULL;
		struct media_info reopened;
		int64_t got = 0;
		long n = 0;
		size_t j;

		*at_frame = p->start;
		err = media_decoder_open_at(&dec, path, &reopened, p->start, info->rate);
		if (err == 0 && (reopened.frames != info->frames || reopened.rate != info->rate ||
				 reopened.channels != info->channels))
			err = MEDIA_ERR_UNSEEKABLE;
		while (err == 0 && got < p->frames &&
		       (n = media_decoder_read(dec, buffer + (size_t)got * channels,
					       p->frames - (long)got)) > 0)
			got += n;
		for (j = 0; err == 0 && got == p->frames && j < (size_t)p->frames * channels; j++)
			if (!(fabsf(buffer[j] - p->samples[j]) <= tolerance))
				err = MEDIA_ERR_UNSEEKABLE;
		while (err == 0 && n > 0 && (n = media_decoder_read(dec, buffer,
								    ANALYSE_BLOCK_FRAMES)) > 0) {
			got += n;
			report_progress(progress, done + (double)got);
		}
		if (err == 0 && (n < 0 || got != info->frames - p->start))
			err = MEDIA_ERR_UNSEEKABLE;
		media_decoder_close(dec);
		/* a decoder's complaint (MEDIA_ERR_*, not -errno): the whole
		 * decode had none */
		if (err <= -4096)
			err = MEDIA_ERR_UNSEEKABLE;
		done += (double)(info->frames - p->start);
	}
	return err;
}

/* Runs of frames where every channel is at or below SILENCE_THRESHOLD. */
struct silence_runs {
	int64_t first_loud;     /* the first frame that is not silent; -1 if none yet */
	int64_t last_loud;      /* the last one so far; -1 if none yet */
	int64_t longest_frames; /* the longest run so far, and where it starts */
	int64_t longest_start;
};

/* The run of silence since the last loud frame ends at frame `end`
 * (exclusive). */
static void close_run(struct silence_runs *r, int64_t end)
{
	if (end - (r->last_loud + 1) > r->longest_frames) {
		r->longest_frames = end - (r->last_loud + 1);
		r->longest_start = r->last_loud + 1;
	}
}

static void track_silence(struct silence_runs *r, const float *block, long n, int64_t at,
			  int channels)
{
	long i;
	int c;

	for (i = 0; i < n; i++) {
		const float *frame = block + (size_t)i * (size_t)channels;

		for (c = 0; c < channels && !(fabsf(frame[c]) > SILENCE_THRESHOLD); c++)
			;
		if (c == channels)
			continue;
		if (at + i > r->last_loud + 1)
			close_run(r, at + i);
		if (r->first_loud < 0)
			r->first_loud = at + i;
		r->last_loud = at + i;
	}
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
	struct media_meter *meter = NULL;
	struct media_meter_result measured;
	struct seek_probe probes[SEEK_PROBES];
	float *block = NULL, *mono = NULL, *probe_storage = NULL;
	int64_t unseekable_frame = -1;
	struct silence_runs silence = { .first_loud = -1, .last_loud = -1 };
	int64_t size, counted = 0;
	struct progress_report report = { .fn = progress, .user = user };
	int fd, decoder_fd = -1, err, c, channels;

	memset(out, 0, sizeof(*out));
	out->unseekable_frame = -1;
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
	channels = out->info.channels;
	if (out->info.frames == 0) {
		err = MEDIA_ERR_NO_AUDIO;
		goto fail;
	}
	err = media_sha256_init(&hash.sha);
	if (err < 0)
		goto fail;
	/* Loudness as aired: the mono downmix, heard on both loudspeaker
	 * channels. Peaks: the file's own channels. The meter's histograms
	 * keep its memory fixed however long the file (to within 0.05 LU). */
	err = media_meter_new(&meter, out->info.rate, out->info.channels);
	if (err < 0)
		goto fail;
	hash.buffer = malloc(HASH_BLOCK_BYTES);
	block = malloc(sizeof(float) * ANALYSE_BLOCK_FRAMES * (size_t)out->info.channels);
	mono = malloc(sizeof(float) * ANALYSE_BLOCK_FRAMES);
	probe_storage = malloc(sizeof(float) * SEEK_PROBES * SEEK_WINDOW_FRAMES *
			       (size_t)out->info.channels);
	if (!hash.buffer || !block || !mono || !probe_storage) {
		err = -ENOMEM;
		goto fail;
	}
	place_probes(probes, out->info.frames, channels, probe_storage);
	report.total_frames = (double)out->info.frames;
	for (c = 0; c < SEEK_PROBES; c++)
		report.total_frames += (double)(out->info.frames - probes[c].start);

	for (;;) {
		long n = media_decoder_read(dec, block, ANALYSE_BLOCK_FRAMES), i;
		const float *aired = mono;
		double fraction;

		if (n < 0) {
			err = (int)n;
			goto fail;
		}
		if (n == 0)
			break;
		if (channels == 1) {
			aired = block;
		} else if (channels == 2) {
			for (i = 0; i < n; i++)
				mono[i] = (block[2 * i] + block[2 * i + 1]) / 2.0f;
		} else {
			for (i = 0; i < n; i++) {
				const float *frame = block + (size_t)i * (size_t)channels;
				float sum = 0;

				for (c = 0; c < channels; c++)
					sum += frame[c];
				mono[i] = sum / (float)channels;
			}
		}
		track_silence(&silence, block, n, counted, channels);
		media_meter_add(meter, block, aired, n);
		keep_probes(probes, block, n, counted, channels);
		counted += n;
		fraction = (double)counted / (double)out->info.frames;
		err = hash_upto(&hash, (int64_t)(fraction * (double)size));
		if (err < 0)
			goto fail;
		report_progress(&report, (double)counted);
	}
	if (counted != out->info.frames) {
		err = counted < out->info.frames ? MEDIA_ERR_TRUNCATED : MEDIA_ERR_CORRUPT;
		goto fail;
	}
	err = hash_upto(&hash, size);
	if (err < 0)
		goto fail;
	err = check_seeks(path, &out->info, probes, block, &unseekable_frame, &report);
	if (err < 0)
		goto fail;
	err = media_sha256_final(&hash.sha, out->sha256_hex);
	if (err < 0)
		goto fail;

	media_meter_result(meter, &measured);
	out->integrated_lufs = measured.integrated_lufs;
	out->loudness_range_lu = measured.loudness_range_lu;
	out->true_peak_dbtp = to_db(measured.true_peak);
	out->sample_peak_dbfs = to_db(measured.sample_peak);
	close_run(&silence, counted); /* a trailing run, or the whole file */
	out->silent = silence.first_loud < 0;
	out->leading_silence_frames = out->silent ? counted : silence.first_loud;
	out->trailing_silence_frames = counted - 1 - silence.last_loud;
	out->longest_silence_frames = silence.longest_frames;
	out->longest_silence_start_frame = silence.longest_start;
	media_decoder_title(dec, out->title, sizeof(out->title));
	memcpy(out->extension, format.extension, sizeof(out->extension));
	out->unseekable_frame = -1;
	if (progress)
		progress(user, 1.0);
	err = 0;
fail:
	if (err < 0) {
		struct media_info info = out->info;

		memset(out, 0, sizeof(*out));
		out->info = info;
		out->unseekable_frame = err == MEDIA_ERR_UNSEEKABLE ? unseekable_frame : -1;
	}
	media_meter_free(meter);
	free(block);
	free(mono);
	free(probe_storage);
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
