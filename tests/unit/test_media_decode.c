/* media decoder: every format, exact lengths, the tone that went in, seeking,
 * tags, sniffing by content, refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "media/media.h"
#include "media/media_internal.h"
#include "tests/fixtures/fixtures.h"

struct expected {
	const char *name;
	int rate;
	int channels;
	int64_t frames;
	const char *codec;
};

/* Sources are 1 s (WAV, FLAC, Vorbis, Opus) or 2 s (MP3) of 1 kHz. With a
 * LAME Info tag, libmpg123's gapless decoding gives back the source length
 * exactly, for MPEG-1, 2 and 2.5 alike. */
static const struct expected formats[] = {
	{"wav_u8_44100_mono.wav", 44100, 1, 44100, "pcm_u8"},
	{"wav_s16_44100_stereo.wav", 44100, 2, 44100, "pcm_s16"},
	{"wav_s24_48000_mono.wav", 48000, 1, 48000, "pcm_s24"},
	{"wav_s32_44100_stereo.wav", 44100, 2, 44100, "pcm_s32"},
	{"wav_f32_48000_stereo.wav", 48000, 2, 48000, "pcm_f32"},
	{"flac_s16_44100_stereo.flac", 44100, 2, 44100, "flac"},
	{"flac_s24_48000_mono.flac", 48000, 1, 48000, "flac"},
	{"vorbis_44100_stereo.ogg", 44100, 2, 44100, "vorbis"},
	{"vorbis_44100_mono_s20.ogg", 44100, 1, 882000, "vorbis"},
	{OPUS_FIXTURE, 48000, 2, 48000, "opus"},
	{"mp3_mpeg1_44100_stereo_cbr.mp3", 44100, 2, 88200, "mp3"},
	{"mp3_mpeg1_44100_stereo_plain.mp3", 44100, 2, 88200, "mp3"},
	{"mp3_mpeg1_48000_stereo_vbr.mp3", 48000, 2, 96000, "mp3"},
	{"mp3_id3v1.mp3", 44100, 2, 88200, "mp3"},
	{"mp3_mpeg2_22050_mono.mp3", 22050, 1, 44100, "mp3"},
	{"mp3_mpeg2_24000_mono.mp3", 24000, 1, 48000, "mp3"},
	{"mp3_mpeg2_16000_mono.mp3", 16000, 1, 32000, "mp3"},
	{"mp3_mpeg25_8000_mono.mp3", 8000, 1, 16000, "mp3"},
	{"mp3_mpeg25_11025_mono.mp3", 11025, 1, 22050, "mp3"},
};

static void test_formats(void **state)
{
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		const struct expected *e = &formats[i];
		struct media_info info;
		int64_t frames;
		float *all;
		double hz;
		int c;

		print_message("%s\n", e->name);
		all = decode_all(fixture(e->name), &info, &frames);
		assert_int_equal(info.rate, e->rate);
		assert_int_equal(info.channels, e->channels);
		assert_string_equal(info.codec, e->codec);
		assert_int_equal(info.frames, e->frames);
		assert_int_equal(frames, e->frames);
		for (c = 0; c < info.channels; c++) {
			hz = tone_frequency(all, info.channels, c, frames / 10, frames - frames / 10,
					    info.rate);
			assert_near(hz, 1000.0, 10.0);
		}
		free(all);
	}
}

/* Without the Info tag (LAME leaves it out of frames too small to hold it)
 * libmpg123 cannot trim the encoder delay and padding: every frame of 576
 * samples comes out, a little more than the source, less than 3 frames. */
static void test_mp3_without_gapless_tag(void **state)
{
	struct media_info info;
	int64_t frames;
	float *all;
	(void)state;

	all = decode_all(fixture("mp3_mpeg2_24000_mono_notag.mp3"), &info, &frames);
	assert_int_equal(frames, info.frames);
	assert_int_equal(info.frames % 576, 0);
	assert_in_range(info.frames, 48000, 48000 + 3 * 576 - 1);
	free(all);
}

static void check_seek(const char *name, int64_t at, long count, double tolerance)
{
	struct media_decoder *dec;
	struct media_info info;
	int64_t frames;
	float *all = decode_all(fixture(name), &info, &frames);
	float *part;
	double worst = 0;
	long n, got = 0, i;

	part = malloc(sizeof(float) * (size_t)count * (size_t)info.channels);
	assert_non_null(part);
	assert_int_equal(media_decoder_open(&dec, fixture(name), &info), 0);
	/* Read a little first, so the seek goes backwards and forwards. */
	assert_true(media_decoder_read(dec, part, 100) > 0);
	assert_int_equal(media_decoder_seek(dec, at), 0);
	while (got < count && (n = media_decoder_read(dec, part + got * info.channels,
						      count - got)) > 0)
		got += n;
	assert_int_equal(got, count);
	for (i = 0; i < count * info.channels; i++) {
		double d = fabs((double)part[i] - all[at * info.channels + i]);

		if (d > worst)
			worst = d;
	}
	if (worst > tolerance) {
		print_error("%s: seek to %lld differs by %g\n", name, (long long)at, worst);
		fail();
	}
	/* Seeking to the end leaves nothing to read; past it is refused. */
	assert_int_equal(media_decoder_seek(dec, info.frames), 0);
	assert_int_equal(media_decoder_read(dec, part, count), 0);
	assert_int_equal(media_decoder_seek(dec, info.frames + 1), -EINVAL);
	assert_int_equal(media_decoder_seek(dec, -1), -EINVAL);
	media_decoder_close(dec);
	free(part);
	free(all);
}

static void test_seek_exact(void **state)
{
	(void)state;
	check_seek("wav_s16_44100_stereo.wav", 12345, 4000, 0);
	check_seek("wav_s24_48000_mono.wav", 47000, 1000, 0);
	check_seek("flac_s16_44100_stereo.flac", 30001, 5000, 0);
	check_seek("flac_s24_48000_mono.flac", 7, 3000, 0);
	check_seek("vorbis_44100_stereo.ogg", 22222, 4000, 0);
	check_seek("vorbis_44100_stereo.ogg", 40000, 4000, 0);
	check_seek("vorbis_44100_mono_s20.ogg", 44100 * 13 + 17, 4000, 0);
	check_seek("vorbis_44100_mono_s20.ogg", 50, 4000, 0);
	/* into the last page, which libsndfile alone lands 240 frames off */
	check_seek("vorbis_44100_mono_s20.ogg", 44100 * 20 - 1024, 1024, 0);
	check_seek("vorbis_44100_mono_s20.ogg", 44100 * 19, 4000, 0);
	check_seek(OPUS_FIXTURE, 33333, 4000, 0);
}

/* libmpg123 seeks sample-accurately after its scan, decoding from a few
 * frames before the target to refill the bit reservoir; the samples match
 * a straight read to within float rounding. */
static void test_seek_mp3(void **state)
{
	(void)state;
	check_seek("mp3_mpeg1_44100_stereo_cbr.mp3", 50000, 10000, 1e-4);
	check_seek("mp3_mpeg1_48000_stereo_vbr.mp3", 33333, 10000, 1e-4);
	check_seek("mp3_mpeg2_22050_mono.mp3", 20000, 5000, 1e-4);
	check_seek("mp3_mpeg25_8000_mono.mp3", 9001, 2000, 1e-4);
	check_seek("mp3_mpeg2_16000_mono.mp3", 20000, 5000, 1e-4);
	check_seek("mp3_mpeg1_48000_stereo_vbr.mp3", 60000, 10000, 1e-4);
}

static void test_titles(void **state)
{
	struct media_decoder *dec;
	struct media_info info;
	char title[512];
	(void)state;

	/* UTF-16 ID3v2 behind a 300 KB picture. */
	assert_true(file_size(fixture("mp3_mpeg1_44100_stereo_cbr.mp3")) > 300000);
	assert_int_equal(media_decoder_open(&dec, fixture("mp3_mpeg1_44100_stereo_cbr.mp3"),
					    &info), 0);
	media_decoder_title(dec, title, sizeof(title));
	assert_string_equal(title, "Thông báo cải cách hành chính");
	/* A short buffer cuts at a character boundary. */
	media_decoder_title(dec, title, 4);
	assert_string_equal(title, "Th");
	media_decoder_close(dec);

	assert_int_equal(media_decoder_open(&dec, fixture("mp3_mpeg2_16000_mono.mp3"), &info), 0);
	media_decoder_title(dec, title, sizeof(title));
	assert_string_equal(title, "Latin-1 title");
	media_decoder_close(dec);

	assert_int_equal(media_decoder_open(&dec, fixture("mp3_id3v1.mp3"), &info), 0);
	media_decoder_title(dec, title, sizeof(title));
	assert_string_equal(title, "Ban tin buoi sang");
	media_decoder_close(dec);

	assert_int_equal(media_decoder_open(&dec, fixture("wav_s16_44100_stereo.wav"), &info), 0);
	media_decoder_title(dec, title, sizeof(title));
	assert_string_equal(title, "");
	media_decoder_close(dec);
}

/* The format is chosen by content: a WAV named .mp3, an MP3 named .wav. */
static void test_sniff_by_content(void **state)
{
	char *dir = make_temp_dir(), path[4200];
	struct media_decoder *dec;
	struct media_info info;
	(void)state;

	snprintf(path, sizeof(path), "%s/really_a_wav.mp3", dir);
	copy_file_part(fixture("wav_s16_44100_stereo.wav"), path, -1);
	assert_int_equal(media_decoder_open(&dec, path, &info), 0);
	assert_string_equal(info.codec, "pcm_s16");
	media_decoder_close(dec);

	snprintf(path, sizeof(path), "%s/really_an_mp3.wav", dir);
	copy_file_part(fixture("mp3_mpeg2_24000_mono.mp3"), path, -1);
	assert_int_equal(media_decoder_open(&dec, path, &info), 0);
	assert_string_equal(info.codec, "mp3");
	assert_int_equal(info.frames, 48000);
	media_decoder_close(dec);
	remove_tree(dir);
	free(dir);
}

static void test_refused(void **state)
{
	static const struct {
		const char *name;
		int err;
	} cases[] = {
		{"empty.wav", MEDIA_ERR_EMPTY},
		{"empty.mp3", MEDIA_ERR_EMPTY},
		{"random.mp3", MEDIA_ERR_FORMAT},
		{"random.wav", MEDIA_ERR_FORMAT},
		{"text.wav", MEDIA_ERR_FORMAT},
		{"image.mp3", MEDIA_ERR_FORMAT},
		{"tag_only.mp3", MEDIA_ERR_NO_AUDIO},
	};
	struct media_decoder *dec = (void *)1;
	struct media_info info;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].name);
		assert_int_equal(media_decoder_open(&dec, fixture(cases[i].name), &info),
				 cases[i].err);
		assert_null(dec);
	}
	assert_int_equal(media_decoder_open(&dec, fixture_dir(), &info), -EISDIR);
	assert_int_equal(media_decoder_open(&dec, fixture("no such file"), &info), -ENOENT);
	assert_int_equal(media_decoder_open(&dec, "/dev/null", &info), -EINVAL);
}

/* A truncated FLAC opens (its header is whole) but reading ends early. */
static void test_truncated_read(void **state)
{
	struct media_decoder *dec;
	struct media_info info;
	float buf[4096 * 2];
	long n;
	(void)state;

	assert_int_equal(media_decoder_open(&dec, fixture("truncated.flac"), &info), 0);
	while ((n = media_decoder_read(dec, buf, 4096)) > 0)
		;
	assert_int_equal(n, MEDIA_ERR_TRUNCATED);
	media_decoder_close(dec);
}

static void test_mpeg_header(void **state)
{
	static const unsigned char mpeg1[4] = {0xff, 0xfb, 0x90, 0x64};
	static const unsigned char mpeg25[4] = {0xff, 0xe3, 0x28, 0xc4};
	static const unsigned char bad[4] = {0xff, 0xfb, 0xf0, 0x64};
	struct mpeg_header h;
	(void)state;

	assert_int_equal(media_mpeg_header_parse(mpeg1, &h), 0);
	assert_int_equal(h.version, 10);
	assert_int_equal(h.layer, 3);
	assert_int_equal(h.rate, 44100);
	assert_int_equal(h.channels, 2);
	assert_int_equal(h.frame_bytes, 417);
	assert_int_equal(h.samples, 1152);
	assert_int_equal(media_mpeg_header_parse(mpeg25, &h), 0);
	assert_int_equal(h.version, 25);
	assert_int_equal(h.rate, 8000);
	assert_int_equal(h.channels, 1);
	assert_int_equal(h.samples, 576);
	assert_int_equal(media_mpeg_header_parse(bad, &h), -1);
}

static void test_copy_text(void **state)
{
	char out[16];
	(void)state;

	media_copy_text(out, sizeof(out), "  Tin sáng\t ", 13);
	assert_string_equal(out, "Tin sáng");
	/* Not UTF-8: read as Latin-1. */
	media_copy_text(out, sizeof(out), "caf\xe9", 4);
	assert_string_equal(out, "café");
	/* Cut at a character boundary: "ả" is 3 bytes. */
	media_copy_text(out, 5, "aảb", 5);
	assert_string_equal(out, "aả");
	media_copy_text(out, 4, "aảb", 5);
	assert_string_equal(out, "a");
	media_copy_text(out, sizeof(out), "", 0);
	assert_string_equal(out, "");
	/* control characters, here a Latin-1 NEL (0x85, U+0085), become spaces */
	media_copy_text(out, sizeof(out), "a\nb\x85" "c", 5);
	assert_string_equal(out, "a b c");
}

/* media_clean_title(in) gives want */
static void assert_cleaned(const char *in, const char *want)
{
	char text[64];

	snprintf(text, sizeof(text), "%s", in);
	media_clean_title(text);
	assert_string_equal(text, want);
}

static void test_clean_title(void **state)
{
	(void)state;

	assert_cleaned("line1\nline2\tx", "line1 line2 x");
	assert_cleaned("\r\n  Thông báo \x7f\n", "Thông báo");
	/* C1 controls in UTF-8 (U+0085 NEL, U+009B CSI): one space each; a
	 * no-break space (U+00A0) is not a control */
	assert_cleaned("a\xc2\x85" "b\xc2\x9b" "c\xc2\xa0" "d", "a b c\xc2\xa0" "d");
	assert_cleaned("\x1b[31mred", "[31mred");
	assert_cleaned("\n\t ", "");
	assert_cleaned("", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_mp3_without_gapless_tag),
		cmocka_unit_test(test_seek_exact),
		cmocka_unit_test(test_seek_mp3),
		cmocka_unit_test(test_titles),
		cmocka_unit_test(test_sniff_by_content),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_truncated_read),
		cmocka_unit_test(test_mpeg_header),
		cmocka_unit_test(test_copy_text),
		cmocka_unit_test(test_clean_title),
	};

	return cmocka_run_group_tests_name("media_decode", tests, NULL, NULL);
}
