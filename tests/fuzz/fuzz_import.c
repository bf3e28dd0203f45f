/*
 * Fuzz target for media import: the bytes become a file that goes through
 * media_analyse(), and, if it is accepted, a full read of a playout stream.
 *
 * With libFuzzer (clang), seeded from the test fixtures:
 *   clang -std=c11 -D_GNU_SOURCE -DLOAXA_LIBFUZZER -g -O1 -I. \
 *     -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_import.c media/[a-z]*.c \
 *     $(pkg-config --cflags --libs sndfile libmpg123 soxr libebur128 libcrypto) -lm \
 *     -o build/fuzz_import
 *   LSAN_OPTIONS=suppressions=SUPP build/fuzz_import -max_total_time=60 \
 *     -max_len=65536 CORPUS_DIR build/fixtures
 * where SUPP holds "leak:vorbis_info_init": libsndfile 1.2.0 leaks a
 * vorbis_info when it refuses some malformed Ogg Vorbis headers (not ours).
 * Without libFuzzer (any compiler, no -DLOAXA_LIBFUZZER) it is a program that
 * runs the given files through the same path, to replay a crash:
 *   build/fuzz_import FILE...
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
