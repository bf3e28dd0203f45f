/*
 * bench_import: how fast loaxa imports and plays long files.
 *
 * Writes a 10-minute 44.1 kHz stereo programme (a tone with a slow level
 * change and noise, so loudness gating has work) as WAV and FLAC into a
 * temporary directory, then times media_analyse() on each and a full
 * media_stream read at 48 kHz stereo. Prints one line per measurement as
 * "bench_import: WHAT SECONDS s (N× real time)". Exits 1 on any failure.
 * Usage: bench_import [MINUTES]
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

int main(int argc, char **argv)
{
	double minutes = argc > 1 ? atof(argv[1]) : 10;
	long frames = (long)(minutes * 60 * RATE);
	const char *tmp = getenv("TMPDIR");
	char dir[4096], wav[4200], flac[4200];
	int rc = 1;

	if (frames <= 0) {
		fprintf(stderr, "usage: bench_import [MINUTES]\n");
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
