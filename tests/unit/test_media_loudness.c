/* The import meter (media/loudness.c) against libebur128, the reference it
 * reimplements for speed: the same signals, fed in the same odd-sized
 * pieces to both, must give the same integrated loudness, loudness range,
 * sample peak and true peak, at every sample rate and channel count import
 * meets. Signals: speech-like noise (syllables, phrases, pauses, a level
 * per phrase, channels that differ), EBU Tech 3341 sines, inter-sample
 * peaks that only the interpolator sees (the loudest one late, after
 * quieter ones), level steps for the range, silence, a too-short file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <ebur128.h>

#include "media/media_internal.h"

enum signal { SPEECH, SINE_M23, INTERSAMPLE, STEPS, SILENCE, SHORT };

static const char *const signal_names[] = {
	"speech-like", "sine -23 dBFS", "inter-sample peaks", "level steps", "silence", "0.3 s",
};

struct measured {
	double integrated_lufs, range_lu, sample_peak, true_peak;
};

static uint32_t random_state;

static uint32_t next_random(void)
{
	random_state = random_state * 1664525u + 1013904223u;
	return random_state >> 8;
}

static float noise(void)
{
	return (float)next_random() / (float)(1u << 24) * 2.0f - 1.0f;
}

static double seconds_of(enum signal signal)
{
	switch (signal) {
	case SPEECH: return 40;
	case SINE_M23: return 20;
	case INTERSAMPLE: return 10;
	case STEPS: return 30;
	case SILENCE: return 5;
	default: return 0.3;
	}
}

/* Interleaved frames of the signal. */
static float *make_signal(enum signal signal, int rate, int channels, long frames)
{
	float *out = calloc((size_t)frames * (size_t)channels, sizeof(float));
	float lowpass[64] = { 0 };
	long i;
	int c;

	assert_non_null(out);
	random_state = 12345;
	for (i = 0; i < frames; i++) {
		double t = (double)i / rate;

		for (c = 0; c < channels; c++) {
			float *x = &out[(size_t)i * (size_t)channels + (size_t)c];

			switch (signal) {
			case SPEECH: {
				/* 3 s phrases (2.4 s of voice) at a level of their own,
				 * four syllables a second */
				int phrase = (int)(t / 3.0);
				double in_phrase = t - 3.0 * phrase;
				double level = pow(10.0, -(6 + (phrase * 7) % 15) / 20.0);
				double syllable = sin(2 * M_PI * 4.0 * in_phrase);

				lowpass[c] += 0.3f * (noise() - lowpass[c]);
				*x = in_phrase < 2.4 ? (float)(level * syllable * syllable) * lowpass[c] * 2.5f
						     : 0.001f * noise();
				if (c > 0)
					*x = 0.7f * out[(size_t)i * (size_t)channels] + 0.3f * *x;
				break;
			}
			case SINE_M23:
				*x = (float)(pow(10.0, -23 / 20.0) * sin(2 * M_PI * 1000.0 * t));
				break;
			case INTERSAMPLE:
				/* a quarter of the rate, 45° off the samples: the
				 * samples reach 0.707 of the peak */
				*x = (float)((t < 5 ? 0.3 : 0.5 + 0.1 * c) *
					     sin(2 * M_PI * (rate / 4.0) * t + M_PI / 4));
				break;
			case STEPS:
				*x = (float)pow(10.0, (-30 + 10 * (int)(t / 10.0)) / 20.0) * noise();
				break;
			case SILENCE:
				*x = 0;
				break;
			case SHORT:
				*x = (float)(0.5 * sin(2 * M_PI * 440.0 * t));
				break;
			}
		}
	}
	return out;
}

static void measure(enum signal signal, int rate, int channels, struct measured *ours,
		    struct measured *reference)
{
	long frames = (long)(seconds_of(signal) * rate), done = 0;
	float *interleaved = make_signal(signal, rate, channels, frames);
	float *mono = malloc(sizeof(float) * (size_t)frames);
	struct media_meter *meter;
	struct media_meter_result result;
	ebur128_state *loudness = ebur128_init(1, (unsigned long)rate,
					       EBUR128_MODE_I | EBUR128_MODE_LRA |
					       EBUR128_MODE_HISTOGRAM);
	ebur128_state *peaks = ebur128_init((unsigned int)channels, (unsigned long)rate,
					    EBUR128_MODE_SAMPLE_PEAK | EBUR128_MODE_TRUE_PEAK);
	uint32_t pieces = 777;
	long i;
	int c;

	assert_non_null(mono);
	assert_non_null(loudness);
	assert_non_null(peaks);
	assert_int_equal(ebur128_set_channel(loudness, 0, EBUR128_DUAL_MONO), 0);
	assert_int_equal(media_meter_new(&meter, rate, channels), 0);
	for (i = 0; i < frames; i++) {
		float sum = 0;

		for (c = 0; c < channels; c++)
			sum += interleaved[(size_t)i * (size_t)channels + (size_t)c];
		mono[i] = sum / (float)channels;
	}
	/* pieces of 1 to 9000 frames, as decoders hand them out */
	while (done < frames) {
		long n;

		pieces = pieces * 1103515245u + 12345u;
		n = 1 + (long)((pieces >> 16) % 9000);
		if ((pieces >> 8) % 7 == 0)
			n = 1 + n % 13; /* shorter than the interpolator's reach */
		if (n > frames - done)
			n = frames - done;
		media_meter_add(meter, interleaved + (size_t)done * (size_t)channels, mono + done, n);
		assert_int_equal(ebur128_add_frames_float(loudness, mono + done, (size_t)n), 0);
		assert_int_equal(ebur128_add_frames_float(peaks, interleaved +
							   (size_t)done * (size_t)channels,
							   (size_t)n), 0);
		done += n;
	}
	media_meter_result(meter, &result);
	ours->integrated_lufs = result.integrated_lufs;
	ours->range_lu = result.loudness_range_lu;
	ours->sample_peak = result.sample_peak;
	ours->true_peak = result.true_peak;
	assert_int_equal(ebur128_loudness_global(loudness, &reference->integrated_lufs), 0);
	assert_int_equal(ebur128_loudness_range(loudness, &reference->range_lu), 0);
	reference->sample_peak = 0;
	reference->true_peak = 0;
	for (c = 0; c < channels; c++) {
		double value;

		assert_int_equal(ebur128_sample_peak(peaks, (unsigned int)c, &value), 0);
		reference->sample_peak = fmax(reference->sample_peak, value);
		assert_int_equal(ebur128_true_peak(peaks, (unsigned int)c, &value), 0);
		reference->true_peak = fmax(reference->true_peak, value);
	}
	media_meter_free(meter);
	ebur128_destroy(&loudness);
	ebur128_destroy(&peaks);
	free(interleaved);
	free(mono);
}

static double to_db(double linear)
{
	return 20 * log10(linear);
}

#define assert_agrees(what, ours, reference, tolerance)                                     \
	do {                                                                                \
		double o_ = (ours), r_ = (reference);                                       \
		if (!(o_ == r_ || fabs(o_ - r_) <= (tolerance))) {                          \
			print_error("%s: %s %.6f, libebur128 %.6f (± %g)\n", label, what, o_, \
				    r_, (double)(tolerance));                               \
			fail();                                                             \
		}                                                                           \
	} while (0)

static void check_signal(enum signal signal, int rate, int channels)
{
	struct measured ours, reference;
	char label[120];

	snprintf(label, sizeof(label), "%s, %d Hz, %d ch", signal_names[signal], rate, channels);
	measure(signal, rate, channels, &ours, &reference);
	print_message("%-34s I %8.3f / %8.3f LUFS  LRA %6.3f / %6.3f  TP %8.4f / %8.4f dB\n",
		      label, ours.integrated_lufs, reference.integrated_lufs, ours.range_lu,
		      reference.range_lu, to_db(ours.true_peak), to_db(reference.true_peak));
	/* Both sum the same block energies into the same 0.1 LU histogram;
	 * only the rounding of the filter differs. */
	assert_agrees("integrated loudness", ours.integrated_lufs, reference.integrated_lufs, 0.001);
	assert_agrees("loudness range", ours.range_lu, reference.range_lu, 0.001);
	assert_agrees("sample peak", ours.sample_peak, reference.sample_peak, 0);
	/* float sums against libebur128's double: 0.0001 dB */
	assert_agrees("true peak (dB)", to_db(ours.true_peak), to_db(reference.true_peak), 0.0001);
}

static const int rates[] = { 8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000, 192000 };

static void test_speech_like(void **state)
{
	size_t r;
	(void)state;

	for (r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		check_signal(SPEECH, rates[r], 1);
		check_signal(SPEECH, rates[r], 2);
	}
	check_signal(SPEECH, 48000, 6);
}

static void test_reference_sine(void **state)
{
	struct measured ours, reference;
	(void)state;

	check_signal(SINE_M23, 48000, 2);
	check_signal(SINE_M23, 44100, 1);
	/* and the value itself, EBU Tech 3341 case 1 */
	measure(SINE_M23, 48000, 2, &ours, &reference);
	assert_true(fabs(ours.integrated_lufs - -23.0) <= 0.1);
}

static void test_true_peak(void **state)
{
	struct measured ours, reference;
	size_t r;
	(void)state;

	for (r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		check_signal(INTERSAMPLE, rates[r], 1);
		check_signal(INTERSAMPLE, rates[r], 2);
	}
	/* the interpolator finds what the samples miss: 0.6 on channel 2,
	 * 3 dB over the sample peak */
	measure(INTERSAMPLE, 48000, 2, &ours, &reference);
	assert_true(fabs(to_db(ours.sample_peak) - to_db(0.6 * sqrt(0.5))) < 0.01);
	assert_true(fabs(to_db(ours.true_peak) - to_db(0.6)) < 0.2);
}

static void test_range_silence_short(void **state)
{
	struct measured ours, reference;
	(void)state;

	check_signal(STEPS, 44100, 2);
	measure(STEPS, 44100, 2, &ours, &reference);
	assert_true(ours.range_lu > 15 && ours.range_lu < 21);
	check_signal(SILENCE, 44100, 2);
	measure(SILENCE, 44100, 2, &ours, &reference);
	assert_true(isinf(ours.integrated_lufs) && ours.integrated_lufs < 0);
	assert_true(ours.true_peak == 0 && ours.sample_peak == 0 && ours.range_lu == 0);
	check_signal(SHORT, 22050, 1);
	measure(SHORT, 22050, 1, &ours, &reference);
	assert_true(isinf(ours.integrated_lufs));
}

static void test_arguments(void **state)
{
	struct media_meter *meter = (struct media_meter *)1;
	(void)state;

	assert_int_equal(media_meter_new(&meter, 8, 1), -EINVAL);
	assert_null(meter);
	assert_int_equal(media_meter_new(&meter, 48000, 0), -EINVAL);
	assert_int_equal(media_meter_new(&meter, 48000, MEDIA_MAX_CHANNELS + 1), -EINVAL);
	media_meter_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_speech_like),
		cmocka_unit_test(test_reference_sine),
		cmocka_unit_test(test_true_peak),
		cmocka_unit_test(test_range_silence_short),
		cmocka_unit_test(test_arguments),
	};

	return cmocka_run_group_tests_name("media_loudness", tests, NULL, NULL);
}
