/* The output thread's conversion of the mono mix to the device's format:
 * every channel gets the frame, samples are rounded and clamped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "playout/engine_internal.h"

static const float mono[] = { 0.0f, 1.0f, -1.0f, 0.5f, -0.5f, 2.0f, -3.0f, 1e-6f };
#define FRAMES ((long)(sizeof mono / sizeof mono[0]))

static struct alsa_device device_of(snd_pcm_format_t format, int channels)
{
	struct alsa_device device;
	memset(&device, 0, sizeof device);
	device.format = format;
	device.channels = channels;
	return device;
}

static void test_s16_stereo(void **state)
{
	(void)state;
	static const int16_t want[] = { 0, 32767, -32767, 16384, -16384, 32767, -32767, 0 };
	int16_t out[FRAMES * 2];
	struct alsa_device device = device_of(SND_PCM_FORMAT_S16_LE, 2);
	alsa_device_convert(&device, mono, out, FRAMES);
	for (long i = 0; i < FRAMES; i++) {
		assert_int_equal(out[2 * i], want[i]);
		assert_int_equal(out[2 * i + 1], want[i]);
	}
}

static void test_s32_three_channels(void **state)
{
	(void)state;
	/* 24 significant bits in the top of the word */
	static const int32_t want[] = { 0, 8388607 * 256, -8388607 * 256, 4194304 * 256,
					-4194304 * 256, 8388607 * 256, -8388607 * 256, 8 * 256 };
	int32_t out[FRAMES * 3];
	struct alsa_device device = device_of(SND_PCM_FORMAT_S32_LE, 3);
	alsa_device_convert(&device, mono, out, FRAMES);
	for (long i = 0; i < FRAMES; i++)
		for (int c = 0; c < 3; c++)
			assert_int_equal(out[3 * i + c], want[i]);
}

static void test_s24_mono(void **state)
{
	(void)state;
	static const int32_t want[] = { 0, 8388607, -8388607, 4194304, -4194304, 8388607,
					-8388607, 8 };
	int32_t out[FRAMES];
	struct alsa_device device = device_of(SND_PCM_FORMAT_S24_LE, 1);
	alsa_device_convert(&device, mono, out, FRAMES);
	for (long i = 0; i < FRAMES; i++)
		assert_int_equal(out[i], want[i]);
}

static void test_float_clamps(void **state)
{
	(void)state;
	float out[FRAMES * 2];
	struct alsa_device device = device_of(SND_PCM_FORMAT_FLOAT_LE, 2);
	alsa_device_convert(&device, mono, out, FRAMES);
	for (long i = 0; i < FRAMES; i++) {
		float want = mono[i] > 1.0f ? 1.0f : mono[i] < -1.0f ? -1.0f : mono[i];
		assert_true(out[2 * i] == want && out[2 * i + 1] == want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s16_stereo),
		cmocka_unit_test(test_s32_three_channels),
		cmocka_unit_test(test_s24_mono),
		cmocka_unit_test(test_float_clamps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
