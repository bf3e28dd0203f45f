/* media analysis: loudness, peaks, silence, hash, tags, refusals; the
 * playout gain rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "media/media.h"
#include "media/media_internal.h"
#include "tests/fixtures/fixtures.h"

static void analyse_ok(const char *name, struct media_analysis *a)
{
	int err = media_analyse(fixture(name), a, NULL, NULL);

	if (err != 0) {
		print_error("%s: %s\n", name, media_strerror(err));
		fail();
	}
}

/* EBU Tech 3341 case 1: 1 kHz stereo sine at -23 dBFS reads -23.0 LUFS. */
static void test_loudness_reference(void **state)
{
	struct media_analysis a;
	(void)state;

	analyse_ok("sine_1k_m23_stereo.wav", &a);
	assert_int_equal(a.info.frames, 960000);
	assert_int_equal(a.info.rate, 48000);
	assert_int_equal(a.info.channels, 2);
	assert_near(a.integrated_lufs, -23.0, 0.1);
	assert_near(a.loudness_range_lu, 0.0, 0.5);
	assert_near(a.sample_peak_dbfs, -23.0, 0.01);
	/* A sine's true peak is its sample peak, give or take the
	 * oversampling filter. */
	assert_near(a.true_peak_dbtp, -23.0, 0.2);
	assert_true(a.true_peak_dbtp >= a.sample_peak_dbfs - 0.01);
	assert_false(a.silent);
	assert_in_range(a.leading_silence_frames, 0, 1);
	assert_int_equal(a.trailing_silence_frames, 0);
	assert_string_equal(a.extension, "wav");
	assert_string_equal(a.title, "");
}

/* A mono file is aired on both loudspeaker channels: it is measured as
 * dual mono, so a -33 dBFS mono sine reads -33 LUFS (not -36). */
static void test_loudness_mono(void **state)
{
	struct media_analysis a;
	(void)state;

	analyse_ok("sine_1k_m33_mono.wav", &a);
	assert_near(a.integrated_lufs, -33.0, 0.1);
	assert_near(a.sample_peak_dbfs, -33.0, 0.01);
	analyse_ok("sine_1k_m1_mono.wav", &a);
	assert_near(a.integrated_lufs, -1.0, 0.1);
	assert_near(a.true_peak_dbtp, -1.0, 0.2);
}

static void test_silence(void **state)
{
	struct media_analysis a;
	(void)state;

	/* 0.5 s of silence, 1 s of 440 Hz starting at phase 0, 0.25 s. */
	analyse_ok("tone_with_silence.wav", &a);
	assert_int_equal(a.info.frames, 22050 + 44100 + 11025);
	assert_in_range(a.leading_silence_frames, 22050, 22052);
	assert_in_range(a.trailing_silence_frames, 11024, 11026);
	assert_false(a.silent);

	assert_in_range(a.longest_silence_frames, 22050, 22052);
	assert_int_equal(a.longest_silence_start_frame, 0);

	analyse_ok("silent.wav", &a);
	assert_true(a.silent);
	assert_int_equal(a.longest_silence_frames, 88200);
	assert_int_equal(a.longest_silence_start_frame, 0);
	assert_int_equal(a.info.frames, 88200);
	assert_int_equal(a.leading_silence_frames, 88200);
	assert_int_equal(a.trailing_silence_frames, 88200);
	assert_true(isinf(a.integrated_lufs) && a.integrated_lufs < 0);
	assert_true(isinf(a.true_peak_dbtp) && a.true_peak_dbtp < 0);
}

static void file_sha256(const char *path, char hex[65])
{
	struct media_sha256 sha;
	unsigned char buf[4096];
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	assert_int_equal(media_sha256_init(&sha), 0);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		assert_int_equal(media_sha256_update(&sha, buf, n), 0);
	fclose(f);
	assert_int_equal(media_sha256_final(&sha, hex), 0);
	media_sha256_free(&sha);
}

/* A pause in the middle is found, and is the longest run of silence when
 * it is longer than the leading and trailing ones: 1 s of tone, 3 s of
 * digital silence, 1 s of tone, 0.5 s of silence, stereo; one channel
 * alone above -60 dBFS is not silence. */
static void test_silence_runs(void **state)
{
	char *dir = make_temp_dir(), path[4200];
	SF_INFO info = { .samplerate = 8000, .channels = 2,
			 .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
	static float frames[8000 * 11 / 2 * 2];
	struct media_analysis a;
	SNDFILE *file;
	long i;
	(void)state;

	for (i = 0; i < 8000 * 11 / 2; i++) {
		int loud = i < 8000 || (i >= 4 * 8000 && i < 5 * 8000);
		float tone = (float)(0.3 * sin(2 * M_PI * 500 * (i + 0.5) / 8000));

		frames[2 * i] = loud ? tone : 0;
		/* in the second second of the pause, the right channel at -57 dBFS */
		frames[2 * i + 1] = loud ? tone : i == 2 * 8000 + 100 ? 0.0014f : 0;
	}
	snprintf(path, sizeof(path), "%s/pauses.wav", dir);
	file = sf_open(path, SFM_WRITE, &info);
	assert_non_null(file);
	assert_int_equal(sf_writef_float(file, frames, 8000 * 11 / 2), 8000 * 11 / 2);
	sf_close(file);

	assert_int_equal(media_analyse(path, &a, NULL, NULL), 0);
	assert_int_equal(a.leading_silence_frames, 0);
	assert_int_equal(a.trailing_silence_frames, 4000);
	/* the pause, from just after the one loud frame to the tone */
	assert_int_equal(a.longest_silence_start_frame, 2 * 8000 + 101);
	assert_int_equal(a.longest_silence_frames, 4 * 8000 - (2 * 8000 + 101));
	assert_false(a.silent);
	remove_tree(dir);
	free(dir);
}

static void test_hash(void **state)
{
	struct media_analysis a;
	struct media_sha256 sha;
	char hex[65];
	(void)state;

	/* The SHA-256 of "abc" (FIPS 180-2). */
	assert_int_equal(media_sha256_init(&sha), 0);
	assert_int_equal(media_sha256_update(&sha, "abc", 3), 0);
	assert_int_equal(media_sha256_final(&sha, hex), 0);
	media_sha256_free(&sha);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

	analyse_ok("mp3_mpeg1_44100_stereo_cbr.mp3", &a);
	file_sha256(fixture("mp3_mpeg1_44100_stereo_cbr.mp3"), hex);
	assert_string_equal(a.sha256_hex, hex);
	analyse_ok("sine_1k_m23_stereo.wav", &a);
	file_sha256(fixture("sine_1k_m23_stereo.wav"), hex);
	assert_string_equal(a.sha256_hex, hex);
}

/* The analysis counts the frames the decoder really produces. */
static void test_formats(void **state)
{
	static const struct {
		const char *name;
		const char *extension;
		const char *title;
	} cases[] = {
		{"wav_u8_44100_mono.wav", "wav", ""},
		{"wav_f32_48000_stereo.wav", "wav", ""},
		{"flac_s24_48000_mono.flac", "flac", ""},
		{"vorbis_44100_stereo.ogg", "ogg", ""},
		{OPUS_FIXTURE, "opus", ""},
		{"mp3_mpeg1_44100_stereo_cbr.mp3", "mp3", "Thông báo cải cách hành chính"},
		{"mp3_mpeg1_48000_stereo_vbr.mp3", "mp3", ""},
		{"mp3_mpeg2_16000_mono.mp3", "mp3", "Latin-1 title"},
		{"mp3_mpeg25_8000_mono.mp3", "mp3", ""},
		{"mp3_mpeg2_24000_mono_notag.mp3", "mp3", ""},
		{"mp3_id3v1.mp3", "mp3", "Ban tin buoi sang"},
		{"flac_title.flac", "flac", "Lịch tiêm chủng tháng 5"},
		{"vorbis_title.ogg", "ogg", "Phòng chống bão lũ"},
	};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct media_analysis a;
		struct media_info info;
		int64_t frames;
		float *all;

		print_message("%s\n", cases[i].name);
		analyse_ok(cases[i].name, &a);
		all = decode_all(fixture(cases[i].name), &info, &frames);
		free(all);
		assert_int_equal(a.info.frames, frames);
		assert_int_equal(a.info.rate, info.rate);
		assert_int_equal(a.info.channels, info.channels);
		assert_string_equal(a.info.codec, info.codec);
		assert_string_equal(a.extension, cases[i].extension);
		assert_string_equal(a.title, cases[i].title);
		/* All the tones are near -6 dBFS (the Opus encoder overshoots
		 * where the tone starts abruptly). */
		assert_in_range((long)(a.sample_peak_dbfs * 10), -70, -30);
		assert_near(a.integrated_lufs, -6.0, 0.7);
	}
}

/* The extension comes from the content, not the name. */
static void test_extension_by_content(void **state)
{
	char *dir = make_temp_dir(), path[4200];
	struct media_analysis a;
	(void)state;

	snprintf(path, sizeof(path), "%s/announcement.mp3", dir);
	copy_file_part(fixture("flac_s16_44100_stereo.flac"), path, -1);
	assert_int_equal(media_analyse(path, &a, NULL, NULL), 0);
	assert_string_equal(a.extension, "flac");
	remove_tree(dir);
	free(dir);
}

static void expect_refused(const char *path, int err)
{
	struct media_analysis a;
	int got = media_analyse(path, &a, NULL, NULL);

	if (got != err) {
		print_error("%s: got %d (%s), expected %d (%s)\n", path, got, media_strerror(got), err,
			    media_strerror(err));
		fail();
	}
	assert_string_equal(a.sha256_hex, "");
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
		{"truncated.wav", MEDIA_ERR_TRUNCATED},
		{"truncated.flac", MEDIA_ERR_TRUNCATED},
		{"truncated.mp3", MEDIA_ERR_TRUNCATED},
		{"zero_frames.wav", MEDIA_ERR_NO_AUDIO},
		{"tag_only.mp3", MEDIA_ERR_NO_AUDIO},
	};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_refused(fixture(cases[i].name), cases[i].err);
	expect_refused(fixture_dir(), -EISDIR);
	expect_refused(fixture("no such file"), -ENOENT);
	expect_refused("/dev/null", -EINVAL);
	{
		char path[4200];

		snprintf(path, sizeof(path), "%s/x", fixture("silent.wav"));
		expect_refused(path, -ENOTDIR);
	}
}

/*
 * A file that decodes whole from its start but that playout cannot open
 * part-way in (a FLAC whose seek table points to the wrong bytes; one with
 * junk inside a frame) is refused, naming the first position that failed:
 * a quarter of the way in.
 * The reason: a stream opened there, as a resume after an emergency opens
 * it, fails; from the start it plays.
 */
static void test_unseekable(void **state)
{
	const char *path = fixture("flac_bad_seektable.flac");
	struct media_analysis a;
	struct media_stream *stream = NULL;
	(void)state;

	assert_int_equal(media_analyse(path, &a, NULL, NULL), MEDIA_ERR_UNSEEKABLE);
	assert_int_equal(a.info.frames, 4 * 22050);
	assert_int_equal(a.unseekable_frame, 22050);
	assert_string_equal(a.sha256_hex, "");
	assert_int_equal(media_stream_open(&stream, path, 22050, 1, 0, 0), 0);
	media_stream_close(stream);
	assert_true(media_stream_open(&stream, path, 22050, 1, 0, 22050) < 0);
	assert_null(stream);
	/* junk inside a frame: the file plays whole from its start, and the
	 * sought windows match, but read on from a quarter of the way in it
	 * ends early with an error, as a resumed broadcast of it would */
	path = fixture("flac_junk_midframe.flac");
	assert_int_equal(media_analyse(path, &a, NULL, NULL), MEDIA_ERR_UNSEEKABLE);
	assert_int_equal(a.unseekable_frame, 44100 / 4);
	assert_int_equal(media_stream_open(&stream, path, 44100, 1, 0, 44100 / 4), 0);
	{
		static float frames[4096];
		long n;

		while ((n = media_stream_read(stream, frames, 4096)) > 0)
			;
		assert_true(n < 0);
	}
	media_stream_close(stream);
	/* every fixture that is accepted was opened at its four positions */
	assert_int_equal(media_analyse(fixture("vorbis_44100_mono_s20.ogg"), &a, NULL, NULL), 0);
	assert_int_equal(a.unseekable_frame, -1);
}

/* Offsets of the frames of an MP3 without ID3v2 (frame 0 is the Info
 * frame). */
static long mp3_frame_offset(const unsigned char *bytes, long size, int index)
{
	long offset = 0;
	int i;

	for (i = 0; i < index; i++) {
		struct mpeg_header h;

		assert_true(offset + 4 <= size);
		assert_int_equal(media_mpeg_header_parse(bytes + offset, &h), 0);
		offset += h.frame_bytes;
	}
	return offset;
}

static unsigned char *read_whole(const char *path, long *size)
{
	FILE *f = fopen(path, "rb");
	unsigned char *bytes;

	assert_non_null(f);
	*size = file_size(path);
	bytes = malloc((size_t)*size);
	assert_non_null(bytes);
	assert_int_equal(fread(bytes, 1, (size_t)*size, f), *size);
	fclose(f);
	return bytes;
}

static void write_whole(const char *path, const unsigned char *bytes, long size)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, (size_t)size, f), size);
	assert_int_equal(fclose(f), 0);
}

/*
 * MP3 damage. Cut mid-frame: truncated. Cut exactly between frames: still
 * truncated when the Info header counts more frames. Junk over a frame in
 * the middle: corrupt (libmpg123 would resync and play on). A second
 * stream at another rate appended: format change. Junk before the first
 * frame beyond libmpg123's resync window: not an MP3.
 */
static void test_mp3_damage(void **state)
{
	char *dir = make_temp_dir(), path[4200];
	long size, other_size, cut;
	unsigned char *bytes = read_whole(fixture("mp3_mpeg1_44100_stereo_plain.mp3"), &size);
	unsigned char *other = read_whole(fixture("mp3_mpeg1_48000_stereo_vbr.mp3"), &other_size);
	unsigned char *joined = malloc((size_t)(size + other_size + 4096));
	(void)state;

	assert_non_null(joined);
	snprintf(path, sizeof(path), "%s/cut.mp3", dir);
	cut = mp3_frame_offset(bytes, size, 40);
	write_whole(path, bytes, cut);
	expect_refused(path, MEDIA_ERR_TRUNCATED);
	write_whole(path, bytes, cut + 100);
	expect_refused(path, MEDIA_ERR_TRUNCATED);
	write_whole(path, bytes, cut + 2);
	expect_refused(path, MEDIA_ERR_TRUNCATED);

	memcpy(joined, bytes, (size_t)size);
	memset(joined + cut, 0x55, 300);
	write_whole(path, joined, size);
	expect_refused(path, MEDIA_ERR_CORRUPT);

	memcpy(joined, bytes, (size_t)size);
	memcpy(joined + size, other, (size_t)other_size);
	write_whole(path, joined, size + other_size);
	expect_refused(path, MEDIA_ERR_FORMAT_CHANGE);

	memset(joined, 0x55, 4096);
	memcpy(joined + 4096, bytes, (size_t)size);
	write_whole(path, joined, size + 4096);
	expect_refused(path, MEDIA_ERR_FORMAT);

	/* Zero padding after the last frame and an ID3v1 tag are fine. */
	memcpy(joined, bytes, (size_t)size);
	memset(joined + size, 0, 500);
	memcpy(joined + size + 500, "TAG", 3);
	memset(joined + size + 503, ' ', 125);
	write_whole(path, joined, size + 628);
	{
		struct media_analysis a;

		assert_int_equal(media_analyse(path, &a, NULL, NULL), 0);
		assert_int_equal(a.info.frames, 88200);
	}
	free(joined);
	free(other);
	free(bytes);
	remove_tree(dir);
	free(dir);
}

struct progress_record {
	int calls;
	double last;
	int backwards;
};

static void on_progress(void *user, double fraction)
{
	struct progress_record *r = user;

	if (fraction < r->last)
		r->backwards = 1;
	r->last = fraction;
	r->calls++;
}

static void test_progress(void **state)
{
	struct progress_record record = { 0 };
	struct media_analysis a;
	(void)state;

	assert_int_equal(media_analyse(fixture("sine_1k_m23_stereo.wav"), &a, on_progress, &record),
			 0);
	assert_false(record.backwards);
	assert_near(record.last, 1.0, 0);
	/* About every 1 %. */
	assert_in_range(record.calls, 50, 101);
}

static struct media_analysis measured(double lufs, double peak_dbtp, int silent)
{
	struct media_analysis a;

	memset(&a, 0, sizeof(a));
	a.integrated_lufs = lufs;
	a.true_peak_dbtp = peak_dbtp;
	a.silent = silent;
	return a;
}

static void test_gain_rule(void **state)
{
	struct media_analysis a;
	(void)state;

	/* Up to the target when the peak allows. */
	a = measured(-30, -10, 0);
	assert_near(media_playout_gain_db(&a, -23, -1, 0), 7, 1e-9);
	/* Held down by the peak ceiling. */
	a = measured(-30, -5, 0);
	assert_near(media_playout_gain_db(&a, -23, -1, 0), 4, 1e-9);
	/* Down to the target. */
	a = measured(-10, 0, 0);
	assert_near(media_playout_gain_db(&a, -23, -1, 0), -13, 1e-9);
	/* Trim adds, clamped to ±14 dB. */
	a = measured(-23, -20, 0);
	assert_near(media_playout_gain_db(&a, -23, -1, 3), 3, 1e-9);
	assert_near(media_playout_gain_db(&a, -23, -1, 20), 14, 1e-9);
	assert_near(media_playout_gain_db(&a, -23, -1, -20), -14, 1e-9);
	/* The trim too stops at the peak ceiling. */
	a = measured(-23, -2, 0);
	assert_near(media_playout_gain_db(&a, -23, -1, 5), 1, 1e-9);
	/* Silent: no loudness gain, only the trim, still under the ceiling. */
	a = measured(-HUGE_VAL, -HUGE_VAL, 1);
	assert_near(media_playout_gain_db(&a, -23, -1, 0), 0, 0);
	assert_near(media_playout_gain_db(&a, -23, -1, 6), 6, 0);
	assert_near(media_playout_gain_db(&a, -23, -1, 30), 14, 0);
	a = measured(-75, -65, 1);
	assert_near(media_playout_gain_db(&a, -23, -1, 14), 14, 0);
	assert_near(media_playout_gain_db(&a, -23, -70, 14), -5, 1e-9);
	/* Too short to gate (under 0.4 s): no loudness, so no loudness gain. */
	a = measured(-HUGE_VAL, -6, 0);
	assert_near(media_playout_gain_db(&a, -23, -1, 0), 0, 0);
	/* A measured file. */
	analyse_ok("sine_1k_m1_mono.wav", &a);
	assert_near(media_playout_gain_db(&a, -23, -1, 0), -22, 0.2);
	analyse_ok("sine_1k_m33_mono.wav", &a);
	assert_near(media_playout_gain_db(&a, -23, -1, 0), 10, 0.2);
	assert_near(media_playout_gain_db(&a, -16, -1, 0), 17, 0.2);
	assert_near(media_playout_gain_db(&a, -10, -1, 0), 23, 0.2);
	assert_near(media_playout_gain_db(&a, -10, -15, 0), 18, 0.2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loudness_reference),
		cmocka_unit_test(test_loudness_mono),
		cmocka_unit_test(test_silence),
		cmocka_unit_test(test_silence_runs),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_extension_by_content),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_mp3_damage),
		cmocka_unit_test(test_unseekable),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_gain_rule),
	};

	return cmocka_run_group_tests_name("media_analyse", tests, NULL, NULL);
}
