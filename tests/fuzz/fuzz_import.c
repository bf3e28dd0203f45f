/*
 * Fuzz target for media import: the bytes become a file that goes through
 * media_analyse(), and, if it is accepted, a full read of a playout stream,
 * then a read from halfway, as a resume after an emergency opens it (the
 * analysis opened it there too, so that must work).
 *
 * With libFuzzer (clang, scripts/install-deps installs it): `make fuzz`
 * builds build/fuzz_import from the media sources with AddressSanitizer and UBSan;
 * tests/fuzz/run-fuzz.sh SECONDS [CORPUS_DIR] runs it seeded from the test
 * fixtures (`make check` runs it for 30 s; docs/media.md has the long run).
 * Without libFuzzer (any compiler, no -DLOAXA_LIBFUZZER) it is a program that
 * runs the given files through the same path, to replay a crash:
 *   build/fuzz_import FILE...   (the libFuzzer build takes a file too)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "media/media.h"

static char input_path[4096];

static int write_input(const uint8_t *data, size_t size)
{
	FILE *f;

	if (!input_path[0]) {
		const char *tmp = getenv("TMPDIR");
		int fd;

		snprintf(input_path, sizeof(input_path), "%s/loaxa-fuzz-XXXXXX",
			 tmp && tmp[0] ? tmp : "/tmp");
		fd = mkstemp(input_path);
		if (fd < 0)
			return -1;
		close(fd);
	}
	f = fopen(input_path, "wb");
	if (!f)
		return -1;
	if (size && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

static int run_path(const char *path)
{
	static float frames[4096 * 2];
	struct media_analysis analysis;
	struct media_stream *stream;
	int64_t total = 0;
	long n;
	int err = media_analyse(path, &analysis, NULL, NULL);

	if (err < 0)
		return err;
	if (analysis.info.frames <= 0 || analysis.info.channels <= 0)
		abort();
	(void)media_playout_gain_db(&analysis, -16, -1, 0);
	err = media_stream_open(&stream, path, 48000, 2, -6, 0);
	if (err < 0)
		abort(); /* analysed fine, so it must open */
	while ((n = media_stream_read(stream, frames, 4096)) > 0)
		total += n;
	if (n < 0 || total != media_stream_length(stream))
		abort();
	media_stream_close(stream);
	/* at the source's own rate the stream's halfway frame is the
	 * analysis's second seek probe */
	err = media_stream_open(&stream, path, analysis.info.rate, 1, -6, analysis.info.frames / 2);
	if (err < 0)
		abort();
	total = analysis.info.frames / 2;
	while ((n = media_stream_read(stream, frames, 4096)) > 0)
		total += n;
	if (n < 0 || total != media_stream_length(stream))
		abort();
	media_stream_close(stream);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (write_input(data, size) == 0)
		run_path(input_path);
	return 0;
}

#ifndef LOAXA_LIBFUZZER
int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		int err = run_path(argv[i]);

		printf("%s: %s\n", argv[i], err < 0 ? media_strerror(err) : "accepted");
	}
	return 0;
}
#endif
