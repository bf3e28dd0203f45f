/* The engine on the paced test card (build/testcard.conf, found beside this
 * program's folder): what it reports must be what reached the device.
 *   - a write that fails part-way through a period, and the device given up
 *     and reopened: the item's frames played are what the tape has, not the
 *     period rendered nor what the device held when it was given up;
 *   - the event ring full: the events lost are counted, exactly;
 *   - an item cued days ahead waits (no int64 overflow placing it);
 *   - a card that could not be asked at open, and turns out not to honour
 *     a rewind: the urgent item's reported start is where the tape has it.
 * snd_pcm_writei is interposed here (this program's definition wins over
 * libasound's) to count the non-silent frames the device took and to make
 * one write fail half-way. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "playout/clock.h"
#include "playout/engine_internal.h"

/* --- the interposed write ------------------------------------------------ */

static _Atomic int fail_next_write;      /* 1: the next write of > 1 frame fails half-way */
static _Atomic int fail_rest;            /* the call after it returns -EIO */
static _Atomic int64_t voiced_frames;    /* non-zero frames the device took */
static _Atomic int frame_bytes, sample_bytes;

snd_pcm_sframes_t snd_pcm_writei(snd_pcm_t *pcm, const void *buffer, snd_pcm_uframes_t size)
{
	static snd_pcm_sframes_t (*real)(snd_pcm_t *, const void *, snd_pcm_uframes_t);
	if (!real)
		real = (snd_pcm_sframes_t (*)(snd_pcm_t *, const void *, snd_pcm_uframes_t))
			dlsym(RTLD_NEXT, "snd_pcm_writei");
	if (atomic_exchange(&fail_rest, 0))
		return -EIO;
	snd_pcm_uframes_t ask = size;
	if (size > 1 && atomic_exchange(&fail_next_write, 0)) {
		ask = size / 2;
		atomic_store(&fail_rest, 1);
	}
	snd_pcm_sframes_t n = real(pcm, buffer, ask);
	int step = atomic_load(&frame_bytes), width = atomic_load(&sample_bytes);
	for (snd_pcm_sframes_t i = 0; i < n && step > 0; i++) {
		const unsigned char *frame = (const unsigned char *)buffer + (size_t)i * (size_t)step;
		int zero = 1;
		for (int b = 0; b < width; b++)
			zero &= frame[b] == 0;
		if (!zero)
			atomic_fetch_add(&voiced_frames, 1);
	}
	return n;
}

/* --- a constant source ----------------------------------------------------- */

struct constant {
	long frames_left;
	float value;
};

static long constant_read(void *source, float *frames, long max_frames)
{
	struct constant *constant = source;
	long n = constant->frames_left < max_frames ? constant->frames_left : max_frames;
	for (long i = 0; i < n; i++)
		frames[i] = constant->value;
	constant->frames_left -= n;
	return n;
}

static void constant_close(void *source)
{
	free(source);
}

static const struct playout_source_ops constant_ops = { constant_read, constant_close };

static struct playout_cue level_cue(uint64_t tag, long frames, int64_t start_ns, float value,
			     int priority)
{
	struct constant *constant = malloc(sizeof *constant);
	assert_non_null(constant);
	constant->frames_left = frames;
	constant->value = value;
	return (struct playout_cue){ .tag = tag, .start_realtime_ns = start_ns,
				     .priority = priority, .ops = &constant_ops,
				     .source = constant };
}

static struct playout_cue constant_cue(uint64_t tag, long frames, int64_t start_ns)
{
	return level_cue(tag, frames, start_ns, 0.5f, 1);
}

/* --- the engine on the card ---------------------------------------------- */

static char work[] = "/tmp/loaxa-engine-test.XXXXXX";
static char device[PATH_MAX + 64];

static void sleep_ms(int ms)
{
	struct timespec pause = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&pause, NULL);
}

static struct playout *open_engine(void)
{
	struct playout_config config = { .device = device };
	atomic_store(&fail_next_write, 0);
	atomic_store(&fail_rest, 0);
	struct playout *engine;
	char error[512];
	int rc = playout_open(&engine, &config, error, sizeof error);
	if (rc < 0)
		fail_msg("cannot open %s: %s", device, error);
	struct playout_status status;
	playout_get_status(engine, &status);
	assert_string_equal(status.format, "S32_LE");
	atomic_store(&sample_bytes, 4);
	atomic_store(&frame_bytes, 4 * status.channels);
	return engine;
}

/* Waits up to timeout_ms for an event of that kind and tag. */
static int wait_event(struct playout *engine, enum playout_event_kind kind, uint64_t tag,
		      int timeout_ms, struct playout_event *found)
{
	for (int waited = 0; waited < timeout_ms; waited += 5) {
		struct playout_event event;
		while (playout_next_event(engine, &event)) {
			if (getenv("DEBUG_EVENTS"))
				fprintf(stderr, "event %d tag %llu frames %lld error %d\n", event.kind,
					(unsigned long long)event.tag, (long long)event.frames, event.error);
			if (event.kind == kind && event.tag == tag) {
				*found = event;
				return 1;
			}
		}
		sleep_ms(5);
	}
	return 0;
}

/* On a tape (S32_LE, `channels` channels, the card's 44-byte header): how
 * many frames hold exactly the sample of `low`, and where the first frame
 * at or above `high` aired and how many there are. */
struct tape_levels {
	int64_t low_frames, high_frames, high_first_ns;
};

static int32_t s32_of(float value)
{
	return (int32_t)((uint32_t)(int32_t)(value * 8388607.0f + 0.5f) << 8);
}

static struct tape_levels tape_levels(const char *tape, int channels, float low, float high)
{
	char info_path[PATH_MAX + 8], line[256];
	snprintf(info_path, sizeof info_path, "%s.info", tape);
	FILE *info = fopen(info_path, "r");
	assert_non_null(info);
	long long origin_ns = 0;
	while (fgets(line, sizeof line, info))
		sscanf(line, "origin_realtime_ns=%lld", &origin_ns);
	fclose(info);
	assert_true(origin_ns > 0);
	FILE *file = fopen(tape, "rb");
	assert_non_null(file);
	assert_int_equal(fseek(file, 44, SEEK_SET), 0);
	struct tape_levels levels = { 0 };
	int32_t frame[8], low_sample = s32_of(low), high_sample = s32_of(high) - 256;
	int64_t index = 0, first = -1;
	while (fread(frame, sizeof frame[0], (size_t)channels, file) == (size_t)channels) {
		if (frame[0] == low_sample)
			levels.low_frames++;
		if (frame[0] >= high_sample) {
			if (first < 0)
				first = index;
			levels.high_frames++;
		}
		index++;
	}
	fclose(file);
	assert_true(first >= 0);
	levels.high_first_ns = origin_ns + first * 1000000000LL / 48000;
	return levels;
}

static void test_failed_write_counts_only_what_was_written(void **state)
{
	(void)state;
	char saved[sizeof device], tape[PATH_MAX];
	memcpy(saved, device, sizeof device);
	snprintf(tape, sizeof tape, "%s/failed.wav", work);
	/* one tape across the reopen that follows the failure */
	snprintf(device, sizeof device, "loaxatest:TAPE=%s,APPEND=true", tape);
	struct playout *engine = open_engine();
	atomic_store(&voiced_frames, 0);
	struct playout_cue cue = constant_cue(1, 48000, 0);
	assert_int_equal(playout_cue(engine, &cue), 0);
	struct playout_event event = { 0 };
	assert_true(wait_event(engine, PLAYOUT_STARTED, 1, 2000, &event));
	sleep_ms(300);
	atomic_store(&fail_next_write, 1);
	assert_true(wait_event(engine, PLAYOUT_FINISHED, 1, 5000, &event));
	struct playout_status status;
	playout_get_status(engine, &status);
	playout_close(engine);
	memcpy(device, saved, sizeof device);
	assert_int_equal(atomic_load(&fail_next_write), 0);   /* the fault happened */
	struct tape_levels levels = tape_levels(tape, status.channels, 0.25f, 0.5f);
	print_message("frames played %lld, skipped %lld, taken by the device %lld, on the tape %lld\n",
		      (long long)event.frames, (long long)event.skipped_frames,
		      (long long)atomic_load(&voiced_frames), (long long)levels.high_frames);
	/* what the device held when it was given up did not air: 5 ms */
	assert_true(llabs(event.frames - levels.high_frames) <= 240);
	assert_true(event.frames <= atomic_load(&voiced_frames));
	assert_int_equal(event.frames + event.skipped_frames, 48000);
}

static void test_dropped_events_are_counted(void **state)
{
	(void)state;
	struct playout *engine = open_engine();
	enum { ITEMS = 140 };   /* STARTED + FINISHED each: 280 events, the ring holds 256 */
	for (int i = 1; i <= ITEMS; i++) {
		for (int tries = 0;; tries++) {
			struct playout_cue cue = constant_cue((uint64_t)i, 100, 0);
			int rc = playout_cue(engine, &cue);   /* closes the source on -EBUSY */
			if (rc == 0)
				break;
			assert_int_equal(rc, -EBUSY);
			assert_true(tries < 1000);
			sleep_ms(5);
		}
	}
	struct playout_status status;
	for (int waited = 0; waited < 5000; waited += 10) {
		playout_get_status(engine, &status);
		if (status.events_dropped >= 2 * ITEMS - ENGINE_EVENTS)
			break;
		sleep_ms(10);
	}
	sleep_ms(200);
	playout_get_status(engine, &status);
	assert_int_equal(status.events_dropped, 2 * ITEMS - ENGINE_EVENTS);
	int taken = 0;
	struct playout_event event;
	int kinds[8] = { 0 };
	while (playout_next_event(engine, &event)) {
		taken++;
		kinds[event.kind & 7]++;
	}
	print_message("started %d finished %d preempted %d aborted %d failed %d device %d/%d\n",
		      kinds[0], kinds[1], kinds[2], kinds[3], kinds[4], kinds[5], kinds[6]);
	assert_int_equal(taken, ENGINE_EVENTS);
	playout_close(engine);
}

static void test_cue_days_ahead_waits(void **state)
{
	(void)state;
	struct playout *engine = open_engine();
	int64_t three_days_ns = 3LL * 24 * 3600 * 1000000000LL;
	struct playout_cue cue = constant_cue(7, 4800, station_clock_ns() + three_days_ns);
	assert_int_equal(playout_cue(engine, &cue), 0);
	struct playout_event event;
	assert_false(wait_event(engine, PLAYOUT_STARTED, 7, 600, &event));
	struct playout_status status;
	playout_get_status(engine, &status);
	assert_int_equal(status.on_air_tag, 0);
	playout_close(engine);
}

static void test_unasked_card_found_out_at_the_urgent_rewind(void **state)
{
	(void)state;
	char saved[sizeof device], tape[PATH_MAX];
	memcpy(saved, device, sizeof device);
	snprintf(tape, sizeof tape, "%s/unasked.wav", work);
	snprintf(device, sizeof device, "loaxatest:TAPE=%s,MODE=server,PREPARED_DELAY=false", tape);
	struct playout *engine = open_engine();
	struct playout_status status;
	playout_get_status(engine, &status);
	assert_int_equal(status.rewinds, 1);     /* presumed: the probe got no delay */
	sleep_ms(300);
	/* a normal item on air, cut by an urgent one 600 ms in */
	struct playout_cue normal = level_cue(8, 96000, 0, 0.25f, 0);
	assert_int_equal(playout_cue(engine, &normal), 0);
	struct playout_event started = { 0 }, finished = { 0 }, cut = { 0 };
	assert_true(wait_event(engine, PLAYOUT_STARTED, 8, 2000, &started));
	sleep_ms(600);
	struct playout_cue cue = constant_cue(9, 4800, 0);
	assert_int_equal(playout_cue(engine, &cue), 0);
	assert_true(wait_event(engine, PLAYOUT_PREEMPTED, 8, 2000, &cut));
	assert_true(wait_event(engine, PLAYOUT_STARTED, 9, 2000, &started));
	assert_true(wait_event(engine, PLAYOUT_FINISHED, 9, 2000, &finished));
	playout_get_status(engine, &status);
	assert_int_equal(status.rewinds, 0);     /* found out by the delay */
	int channels = status.channels;
	playout_close(engine);
	memcpy(device, saved, sizeof device);
	struct tape_levels levels = tape_levels(tape, channels, 0.25f, 0.5f);
	print_message("cut item: %lld frames reported, %lld on the tape; urgent item: start "
		      "%+.3f ms from the tape's, %lld frames on the tape\n", (long long)cut.frames,
		      (long long)levels.low_frames,
		      (double)(started.realtime_ns - levels.high_first_ns) / 1e6,
		      (long long)levels.high_frames);
	assert_int_equal(cut.frames, levels.low_frames);
	assert_true(llabs(started.realtime_ns - levels.high_first_ns) < 1000000);   /* 1 ms */
	assert_int_equal(levels.high_frames, 4800);
	assert_int_equal(finished.frames, 4800);
}

static void test_card_modes_are_told_apart(void **state)
{
	(void)state;
	struct playout *engine = open_engine();
	struct playout_status status;
	playout_get_status(engine, &status);
	assert_int_equal(status.rewinds, 1);
	playout_close(engine);
	char saved[sizeof device];
	memcpy(saved, device, sizeof device);
	snprintf(device, sizeof device, "loaxatest_server:TAPE=%s/server.wav", work);
	engine = open_engine();
	playout_get_status(engine, &status);
	assert_int_equal(status.rewinds, 0);
	playout_close(engine);
	memcpy(device, saved, sizeof device);
}

int main(void)
{
	char exe[PATH_MAX], config[2 * PATH_MAX];
	ssize_t length = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (length <= 0)
		return 1;
	exe[length] = '\0';
	*strrchr(exe, '/') = '\0';           /* BUILD/tests */
	*strrchr(exe, '/') = '\0';           /* BUILD */
	snprintf(config, sizeof config, "/usr/share/alsa/alsa.conf:%s/testcard.conf", exe);
	setenv("ALSA_CONFIG_PATH", config, 1);
	if (!mkdtemp(work))
		return 1;
	snprintf(device, sizeof device, "loaxatest:TAPE=%s/tape.wav", work);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_card_modes_are_told_apart),
		cmocka_unit_test(test_failed_write_counts_only_what_was_written),
		cmocka_unit_test(test_dropped_events_are_counted),
		cmocka_unit_test(test_cue_days_ahead_waits),
		cmocka_unit_test(test_unasked_card_found_out_at_the_urgent_rewind),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	char command[PATH_MAX + 16];
	snprintf(command, sizeof command, "rm -rf '%s'", work);
	if (system(command) != 0)
		failed++;
	return failed;
}
