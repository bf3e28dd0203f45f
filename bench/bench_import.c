/*
 * bench_import: how fast loaxa imports and plays long files.
 *
 *   bench_import [MINUTES]
 * Writes a 10-minute 44.1 kHz stereo programme (a tone with a slow level
 * change and noise, so loudness gating has work) as WAV and FLAC into a
 * temporary directory, then times media_analyse() on each and a full
 * media_stream read at 48 kHz stereo. Prints one line per measurement as
 * "bench_import: WHAT SECONDS s (N× real time)". Exits 1 on any failure.
 *
 *   bench_import --mp3-decode FILE...
 * The baseline of bench/bench_import.sh (the MP3 corpus benchmark): decodes
 * the files with libmpg123 alone, as loaxa's decoder sets it up (gapless,
 * float output at the stream's own rate and channels), and prints one line
 *   "bare-decode files=N audio_s=A cpu_s=C real_s=R"
 * with the seconds of audio decoded, the CPU seconds (user + system) and
 * the real seconds it took. Exits 1 if a file does not decode.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include <mpg123.h>
#include <sndfile.h>

#include "media/media.h"

#define RATE 44100
#define BLOCK 4096

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int write_programme(const char *path, int format, long frames)
{
	SF_INFO info = { .samplerate = RATE, .channels = 2, .format = format };
	SNDFILE *file = sf_open(path, SFM_WRITE, &info);
	float block[BLOCK * 2];
	unsigned int seed = 1;
	long done = 0;

	if (!file) {
		fprintf(stderr, "bench_import: %s: %s\n", path, sf_strerror(NULL));
		return -1;
	}
	while (done < frames) {
		long n = frames - done < BLOCK ? frames - done : BLOCK, i;

		for (i = 0; i < n; i++) {
			double t = (double)(done + i) / RATE;
			double level = 0.1 + 0.3 * (0.5 + 0.5 * sin(2 * M_PI * t / 20.0));
			double noise = ((seed = seed * 1103515245u + 12345u) >> 16 & 0x7fff) / 32768.0 - 0.5;
			float v = (float)(level * sin(2 * M_PI * 440.0 * t) + 0.02 * noise);

			block[2 * i] = v;
			block[2 * i + 1] = v * 0.8f;
		}
		if (sf_writef_float(file, block, n) != n) {
			sf_close(file);
			return -1;
		}
		done += n;
	}
	return sf_close(file) == 0 ? 0 : -1;
}

static int bench_file(const char *label, const char *path, double seconds_of_audio)
{
	struct media_analysis analysis;
	struct media_stream *stream;
	static float out[BLOCK * 2];
	double start = now_s(), took;
	long n;
	int err = media_analyse(path, &analysis, NULL, NULL);

	if (err < 0) {
		fprintf(stderr, "bench_import: %s: %s\n", path, media_strerror(err));
		return -1;
	}
	took = now_s() - start;
	printf("bench_import: analyse %s %.2f s (%.0f× real time) %.1f LUFS\n", label, took,
	       seconds_of_audio / took, analysis.integrated_lufs);

	start = now_s();
	err = media_stream_open(&stream, path, 48000, 2, -3.0, 0);
	if (err < 0) {
		fprintf(stderr, "bench_import: %s: %s\n", path, media_strerror(err));
		return -1;
	}
	while ((n = media_stream_read(stream, out, BLOCK)) > 0)
		;
	media_stream_close(stream);
	if (n < 0) {
		fprintf(stderr, "bench_import: %s: %s\n", path, media_strerror((int)n));
		return -1;
	}
	took = now_s() - start;
	printf("bench_import: stream %s → 48 kHz %.2f s (%.0f× real time)\n", label, took,
	       seconds_of_audio / took);
	return 0;
}

static double cpu_s(void)
{
	struct rusage usage;

	getrusage(RUSAGE_SELF, &usage);
	return (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
	       (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

/* Seconds of audio in one MP3, decoded to the end; -1 on failure. */
static double decode_mp3(mpg123_handle *handle, const char *path)
{
	static float out[1152 * 2 * 8];
	const long *rates;
	size_t rate_count, i, done;
	long rate = 0, frames = 0;
	int channels = 0, encoding, err;

	mpg123_format_none(handle);
	mpg123_rates(&rates, &rate_count);
	for (i = 0; i < rate_count; i++)
		mpg123_format(handle, rates[i], MPG123_MONO | MPG123_STEREO, MPG123_ENC_FLOAT_32);
	if (mpg123_open(handle, path) != MPG123_OK ||
	    mpg123_getformat(handle, &rate, &channels, &encoding) != MPG123_OK) {
		fprintf(stderr, "bench_import: %s: %s\n", path, mpg123_strerror(handle));
		mpg123_close(handle);
		return -1;
	}
	do {
		err = mpg123_read(handle, (unsigned char *)out, sizeof(out), &done);
		frames += (long)(done / sizeof(float) / (size_t)channels);
	} while (err == MPG123_OK || err == MPG123_NEW_FORMAT);
	mpg123_close(handle);
	if (err != MPG123_DONE) {
		fprintf(stderr, "bench_import: %s: %s\n", path, mpg123_plain_strerror(err));
		return -1;
	}
	return (double)frames / (double)rate;
}

static int bare_decode(int count, char **paths)
{
	double start = now_s(), start_cpu = cpu_s(), audio_s = 0;
	mpg123_handle *handle = mpg123_new(NULL, NULL);
	int i;

	if (!handle)
		return 1;
	mpg123_param(handle, MPG123_ADD_FLAGS, MPG123_GAPLESS | MPG123_QUIET, 0.);
	for (i = 0; i < count; i++) {
		double seconds = decode_mp3(handle, paths[i]);

		if (seconds < 0) {
			mpg123_delete(handle);
			return 1;
		}
		audio_s += seconds;
	}
	mpg123_delete(handle);
	printf("bare-decode files=%d audio_s=%.3f cpu_s=%.3f real_s=%.3f\n", count, audio_s,
	       cpu_s() - start_cpu, now_s() - start);
	return 0;
}

int main(int argc, char **argv)
{
	double minutes = argc > 1 ? atof(argv[1]) : 10;
	long frames = (long)(minutes * 60 * RATE);
	const char *tmp = getenv("TMPDIR");
	char dir[4096], wav[4200], flac[4200];
	int rc = 1;

	if (argc > 1 && strcmp(argv[1], "--mp3-decode") == 0)
		return bare_decode(argc - 2, argv + 2);
	if (frames <= 0) {
		fprintf(stderr, "usage: bench_import [MINUTES] | --mp3-decode FILE...\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/loaxa-bench-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("bench_import: mkdtemp");
		return 1;
	}
	snprintf(wav, sizeof(wav), "%s/programme.wav", dir);
	snprintf(flac, sizeof(flac), "%s/programme.flac", dir);
	if (write_programme(wav, SF_FORMAT_WAV | SF_FORMAT_PCM_16, frames) < 0 ||
	    write_programme(flac, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, frames) < 0)
		goto out;
	if (bench_file("WAV", wav, minutes * 60) < 0 || bench_file("FLAC", flac, minutes * 60) < 0)
		goto out;
	rc = 0;
out:
	unlink(wav);
	unlink(flac);
	rmdir(dir);
	return rc;
}
