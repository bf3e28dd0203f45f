/* media stream: exact lengths at the output rate, the tone survives
 * resampling, downmix, gain and clamp, starting midway. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "media/media.h"
#include "tests/fixtures/fixtures.h"

/* Reads a whole stream in pieces of `chunk` frames. */
static float *stream_all(const char *path, int out_rate, int out_channels, double gain_db,
			 int64_t start, long chunk, int64_t *frames_out, int64_t *length_out)
{
	struct media_stream *stream;
	int64_t length, count = 0;
	float *all;
	long n;

	assert_int_equal(media_stream_open(&stream, path, out_rate, out_channels, gain_db, start), 0);
	length = media_stream_length(stream);
	all = malloc(sizeof(float) * (size_t)(length + chunk) * (size_t)out_channels);
	assert_non_null(all);
	while ((n = media_stream_read(stream, all + count * out_channels, chunk)) > 0) {
		assert_true(n <= chunk);
		count += n;
		assert_true(count <= length);
	}
	assert_int_equal(n, 0);
	assert_int_equal(media_stream_read(stream, all, chunk), 0);
	media_stream_close(stream);
	*frames_out = count;
	*length_out = length;
	return all;
}

static void test_frames_at_rate(void **state)
{
	(void)state;
	assert_int_equal(media_frames_at_rate(44100, 44100, 48000), 48000);
	assert_int_equal(media_frames_at_rate(88200, 44100, 48000), 96000);
	assert_int_equal(media_frames_at_rate(1, 44100, 48000), 1);
	/* round(1000 * 48000 / 44100) = round(1088.435) */
	assert_int_equal(media_frames_at_rate(1000, 44100, 48000), 1088);
	/* round(441 * 48000 / 44100) = 480 exactly; 22050 → 48000: 2.1768 */
	assert_int_equal(media_frames_at_rate(441, 44100, 48000), 480);
	assert_int_equal(media_frames_at_rate(1, 22050, 48000), 2);
	/* Halves round up: 3 * 8000 / 48000 = 0.5 */
	assert_int_equal(media_frames_at_rate(3, 48000, 8000), 1);
	assert_int_equal(media_frames_at_rate(12345, 48000, 48000), 12345);
	assert_int_equal(media_frames_at_rate(0, 44100, 48000), 0);
	assert_int_equal(media_frames_at_rate(100, 0, 48000), 0);
	/* A week at 44.1 kHz does not overflow. */
	assert_int_equal(media_frames_at_rate(INT64_C(44100) * 604800, 44100, 48000),
			 INT64_C(48000) * 604800);
}

/* A 2 s 1 kHz mono tone at 44.1 kHz played at 48 kHz stereo. */
static void test_resample_tone(void **state)
{
	int64_t frames, length, i;
	float *all;
	double hz;
	(void)state;

	all = stream_all(fixture("wav_s16_44100_mono_s2.wav"), 48000, 2, 0, 0, 1000, &frames,
			 &length);
	assert_int_equal(length, 96000);
	assert_int_equal(frames, 96000);
	for (i = 0; i < frames; i++)
		assert_true(all[2 * i] == all[2 * i + 1]);
	hz = tone_frequency(all, 2, 0, 4800, frames - 4800, 48000);
	assert_near(hz, 1000.0, 10.0);
	/* Level kept: the source peaks at -6 dBFS (0.501). */
	{
		float peak = 0;

		for (i = 4800; i < frames - 4800; i++)
			peak = fabsf(all[2 * i]) > peak ? fabsf(all[2 * i]) : peak;
		assert_near(peak, 0.501, 0.01);
	}
	free(all);
}

/* The resampler adds no delay: at twice the rate, output frame 2k is
 * source frame k. */
static void test_resample_aligned(void **state)
{
	struct media_info info;
	int64_t source_frames, frames, length, i;
	float *source = decode_all(fixture("wav_s16_22050_mono.wav"), &info, &source_frames);
	float *all = stream_all(fixture("wav_s16_22050_mono.wav"), 44100, 1, 0, 0, 500, &frames,
				&length);
	(void)state;

	assert_int_equal(frames, 2 * source_frames);
	for (i = 1000; i < source_frames - 1000; i++)
		assert_near(all[2 * i], source[i], 1e-4);
	free(all);
	free(source);
}

/* Every rate pair the station meets gives exactly the promised length. */
static void test_exact_lengths(void **state)
{
	static const struct {
		const char *name;
		int out_rate;
	} cases[] = {
		{"wav_s16_22050_mono.wav", 48000},
		{"wav_s24_48000_mono.wav", 44100},
		{"mp3_mpeg25_8000_mono.mp3", 48000},
		{"mp3_mpeg25_11025_mono.mp3", 44100},
		{"mp3_mpeg1_44100_stereo_cbr.mp3", 48000},
		{"mp3_mpeg2_24000_mono.mp3", 44100},
		{"vorbis_44100_stereo.ogg", 48000},
		{OPUS_FIXTURE, 44100},
		{"wav_f32_48000_stereo.wav", 8000},
	};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct media_info info;
		struct media_decoder *dec;
		int64_t frames, length;
		float *all;
		double hz;

		print_message("%s → %d\n", cases[i].name, cases[i].out_rate);
		assert_int_equal(media_decoder_open(&dec, fixture(cases[i].name), &info), 0);
		media_decoder_close(dec);
		all = stream_all(fixture(cases[i].name), cases[i].out_rate, 1, 0, 0, 777, &frames,
				 &length);
		assert_int_equal(length, media_frames_at_rate(info.frames, info.rate,
							      cases[i].out_rate));
		assert_int_equal(frames, length);
		hz = tone_frequency(all, 1, 0, frames / 10, frames - frames / 10, cases[i].out_rate);
		assert_near(hz, 1000.0, 10.0);
		free(all);
	}
}

/* Equal rates: no resampler, the samples are the source's. Stereo is
 * averaged to mono and copied to every output channel. */
static void test_same_rate_downmix(void **state)
{
	struct media_info info;
	int64_t frames, length, source_frames, i;
	float *source, *all;
	int c;
	(void)state;

	source = decode_all(fixture("wav_s16_44100_stereo.wav"), &info, &source_frames);
	all = stream_all(fixture("wav_s16_44100_stereo.wav"), 44100, 3, 0, 0, 4096, &frames,
			 &length);
	assert_int_equal(length, source_frames);
	assert_int_equal(frames, source_frames);
	for (i = 0; i < frames; i++) {
		float mono = (source[2 * i] + source[2 * i + 1]) / 2.0f;

		for (c = 0; c < 3; c++)
			assert_true(all[3 * i + c] == mono);
	}
	free(all);
	free(source);
}

static void test_gain_and_clamp(void **state)
{
	int64_t frames, length, i;
	float *quiet, *loud, *plain;
	double ratio = pow(10.0, -6.0 / 20.0);
	(void)state;

	plain = stream_all(fixture("wav_s24_48000_mono.wav"), 48000, 1, 0, 0, 1024, &frames,
			   &length);
	quiet = stream_all(fixture("wav_s24_48000_mono.wav"), 48000, 1, -6, 0, 1024, &frames,
			   &length);
	loud = stream_all(fixture("wav_s24_48000_mono.wav"), 48000, 1, 20, 0, 1024, &frames,
			  &length);
	for (i = 0; i < frames; i++) {
		assert_near(quiet[i], plain[i] * ratio, 1e-6);
		assert_true(loud[i] <= 1.0f && loud[i] >= -1.0f);
	}
	/* +20 dB on a -6 dBFS tone: flat tops at full scale. */
	{
		int64_t clipped = 0;

		for (i = 0; i < frames; i++)
			clipped += fabsf(loud[i]) == 1.0f;
		assert_true(clipped > frames / 2);
	}
	free(plain);
	free(quiet);
	free(loud);
}

/* Starting at an output frame gives the same samples as a stream from the
 * start, from that frame on: exactly at equal rates, closely when
 * resampled (the resampler starts afresh). Either way the stream ends at
 * the same total length. */
static void check_start(const char *name, int out_rate, int64_t start, double tolerance)
{
	int64_t frames, length, part_frames, part_length, i;
	float *all = stream_all(fixture(name), out_rate, 1, 0, 0, 1000, &frames, &length);
	float *part = stream_all(fixture(name), out_rate, 1, 0, start, 1000, &part_frames,
				 &part_length);
	double worst = 0;

	assert_int_equal(part_length, length);
	assert_int_equal(part_frames, length - start);
	/* Skip the resampler's settling time after the start. */
	for (i = tolerance > 0 ? 200 : 0; i < part_frames - 200; i++) {
		double d = fabs((double)part[i] - all[start + i]);

		worst = d > worst ? d : worst;
	}
	if (worst > tolerance) {
		print_error("%s from %lld: differs by %g\n", name, (long long)start, worst);
		fail();
	}
	free(all);
	free(part);
}

static void test_start_frame(void **state)
{
	struct media_stream *stream;
	float buf[64];
	(void)state;

	check_start("wav_s16_44100_mono_s2.wav", 44100, 30000, 0);
	check_start("flac_s24_48000_mono.flac", 48000, 12345, 0);
	/* 30240 at 48 kHz is exactly source frame 27783 at 44.1 kHz. */
	check_start("wav_s16_44100_mono_s2.wav", 48000, 30240, 1e-3);
	check_start("mp3_mpeg1_44100_stereo_cbr.mp3", 48000, 50400, 1e-3);
	/* 30000 is source frame 27562.5: the stream starts at 27563, half a
	 * source frame (11 µs) late; on a 1 kHz tone of 0.5 that is at most
	 * 0.5 · 2π · 1000 · 0.5 / 44100 = 0.036. */
	check_start("wav_s16_44100_mono_s2.wav", 48000, 30000, 0.037);
	/* At or past the end: nothing to play. */
	assert_int_equal(media_stream_open(&stream, fixture("wav_s16_44100_stereo.wav"), 48000, 2,
					   0, 48000), 0);
	assert_int_equal(media_stream_length(stream), 48000);
	assert_int_equal(media_stream_read(stream, buf, 32), 0);
	media_stream_close(stream);
	assert_int_equal(media_stream_open(&stream, fixture("wav_s16_44100_stereo.wav"), 48000, 2,
					   0, 1000000), 0);
	assert_int_equal(media_stream_read(stream, buf, 32), 0);
	media_stream_close(stream);
}

static void test_refused(void **state)
{
	struct media_stream *stream = (void *)1;
	(void)state;

	assert_int_equal(media_stream_open(&stream, fixture("wav_s16_44100_stereo.wav"), 0, 2, 0, 0),
			 -EINVAL);
	assert_null(stream);
	assert_int_equal(media_stream_open(&stream, fixture("wav_s16_44100_stereo.wav"), 48000, 0,
					   0, 0), -EINVAL);
	assert_int_equal(media_stream_open(&stream, fixture("wav_s16_44100_stereo.wav"), 48000, 2,
					   0, -1), -EINVAL);
	assert_int_equal(media_stream_open(&stream, fixture("wav_s16_44100_stereo.wav"), 48000, 2,
					   NAN, 0), -EINVAL);
	assert_int_equal(media_stream_open(&stream, fixture("random.mp3"), 48000, 2, 0, 0),
			 MEDIA_ERR_FORMAT);
	assert_int_equal(media_stream_open(&stream, fixture("empty.wav"), 48000, 2, 0, 0),
			 MEDIA_ERR_EMPTY);
	media_stream_close(NULL);
}

/* A file that ends before its header says is padded with silence to the
 * promised length when the decoder just stops; a decoder error is
 * reported. */
static void test_truncated_source(void **state)
{
	struct media_stream *stream;
	float buf[4096];
	long n;
	int64_t total = 0;
	(void)state;

	assert_int_equal(media_stream_open(&stream, fixture("truncated.flac"), 48000, 1, 0, 0), 0);
	while ((n = media_stream_read(stream, buf, 4096)) > 0)
		total += n;
	assert_int_equal(n, MEDIA_ERR_TRUNCATED);
	assert_true(total < media_stream_length(stream));
	media_stream_close(stream);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_at_rate),
		cmocka_unit_test(test_resample_tone),
		cmocka_unit_test(test_resample_aligned),
		cmocka_unit_test(test_exact_lengths),
		cmocka_unit_test(test_same_rate_downmix),
		cmocka_unit_test(test_gain_and_clamp),
		cmocka_unit_test(test_start_frame),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_truncated_source),
	};

	return cmocka_run_group_tests_name("media_convert", tests, NULL, NULL);
}
