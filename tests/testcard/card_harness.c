/*
 * card_harness — drives the loaxatest card through the ALSA calls that aplay
 * cannot reach (underrun, rewind, drop, pause, poll, mmap, status, unplug)
 * for tests/testcard/test_testcard.sh, which compiles it into its temporary
 * directory and checks the resulting tapes with tapetool.
 *
 *   card_harness SCENARIO DEVICE [FAIL_FILE]
 *
 * Each scenario plays generated tones (S16_LE, 2 channels, 48000 Hz), prints
 * the instants and figures the script needs as key=value lines on stdout
 * (realtime instants in ns), checks what only the harness can see (return
 * codes, states, wakeups), and exits 0, or 1 after a "harness:" line on
 * stderr. Single-threaded.
 */

#include <alsa/asoundlib.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RATE 48000
#define CHANNELS 2
#define NS_PER_SECOND INT64_C(1000000000)

struct tone {
	double frequency_hz;
	double amplitude;
	double phase;
};

static int64_t clock_ns(clockid_t clock_id)
{
	struct timespec now;

	clock_gettime(clock_id, &now);
	return (int64_t)now.tv_sec * NS_PER_SECOND + now.tv_nsec;
}

static void sleep_ms(int milliseconds)
{
	struct timespec duration = { milliseconds / 1000, (long)(milliseconds % 1000) * 1000000L };

	while (nanosleep(&duration, &duration) != 0 && errno == EINTR)
		;
}

static void fail(const char *what, int err)
{
	fprintf(stderr, "harness: %s: %s\n", what, err ? snd_strerror(err) : "check failed");
	exit(1);
}

/* Cheap enough to keep up with real time under valgrind: a rotating phasor. */
static void tone_fill(struct tone *tone, int16_t *samples, snd_pcm_uframes_t frames)
{
	double step = 2.0 * M_PI * tone->frequency_hz / RATE;
	double step_cos = cos(step), step_sin = sin(step);
	double phase_cos = cos(tone->phase), phase_sin = sin(tone->phase);

	for (snd_pcm_uframes_t i = 0; i < frames; i++) {
		int16_t value = (int16_t)lrint(32767.0 * tone->amplitude * phase_sin);
		double next_cos = phase_cos * step_cos - phase_sin * step_sin;

		for (int c = 0; c < CHANNELS; c++)
			samples[i * CHANNELS + c] = value;
		phase_sin = phase_sin * step_cos + phase_cos * step_sin;
		phase_cos = next_cos;
	}
	tone->phase = fmod(tone->phase + step * (double)frames, 2.0 * M_PI);
}

/* Opens and configures the card; start_threshold 0 means the whole buffer. */
static snd_pcm_t *open_card(const char *device, snd_pcm_access_t access, int mode,
			    snd_pcm_uframes_t buffer_frames, snd_pcm_uframes_t period_frames,
			    snd_pcm_uframes_t start_threshold)
{
	snd_pcm_t *pcm;
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	unsigned int rate = RATE;
	int err;

	err = snd_pcm_open(&pcm, device, SND_PCM_STREAM_PLAYBACK, mode);
	if (err < 0)
		fail("open", err);
	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_hw_params_any(pcm, hw);
	if ((err = snd_pcm_hw_params_set_access(pcm, hw, access)) < 0 ||
	    (err = snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0 ||
	    (err = snd_pcm_hw_params_set_channels(pcm, hw, CHANNELS)) < 0 ||
	    (err = snd_pcm_hw_params_set_rate_near(pcm, hw, &rate, NULL)) < 0 ||
	    (err = snd_pcm_hw_params_set_period_size(pcm, hw, period_frames, 0)) < 0 ||
	    (err = snd_pcm_hw_params_set_buffer_size(pcm, hw, buffer_frames)) < 0 ||
	    (err = snd_pcm_hw_params(pcm, hw)) < 0)
		fail("hw_params", err);
	snd_pcm_sw_params_alloca(&sw);
	snd_pcm_sw_params_current(pcm, sw);
	snd_pcm_sw_params_set_start_threshold(pcm, sw, start_threshold ? start_threshold :
					      buffer_frames);
	snd_pcm_sw_params_set_avail_min(pcm, sw, period_frames);
	if ((err = snd_pcm_sw_params(pcm, sw)) < 0)
		fail("sw_params", err);
	return pcm;
}

/* Blocking write of frames of the tone; returns 0 or the first error. */
static int play(snd_pcm_t *pcm, struct tone *tone, snd_pcm_uframes_t frames)
{
	int16_t samples[1024 * CHANNELS];

	while (frames > 0) {
		snd_pcm_uframes_t chunk = frames < 1024 ? frames : 1024;
		snd_pcm_sframes_t written;

		tone_fill(tone, samples, chunk);
		written = snd_pcm_writei(pcm, samples, chunk);
		if (written < 0)
			return (int)written;
		if ((snd_pcm_uframes_t)written != chunk)
			return -EIO;
		frames -= chunk;
	}
	return 0;
}

static void print_realtime(const char *key)
{
	printf("%s=%" PRId64 "\n", key, clock_ns(CLOCK_REALTIME));
}

/* 200 ms of tone, a 300 ms pause in writing (underrun), recover, 200 ms more. */
static void scenario_xrun(const char *device)
{
	snd_pcm_t *pcm = open_card(device, SND_PCM_ACCESS_RW_INTERLEAVED, 0, 4800, 1200, 0);
	struct tone tone = { 1000, 0.5, 0 };
	int err;

	print_realtime("first_write_realtime_ns");
	if ((err = play(pcm, &tone, 9600)) < 0)
		fail("first write", err);
	sleep_ms(300);
	err = play(pcm, &tone, 1200);
	printf("write_after_sleep=%s\n", snd_strerror(err));
	if (err != -EPIPE)
		fail("the write after the pause should report an underrun (-EPIPE)", err);
	if (snd_pcm_state(pcm) != SND_PCM_STATE_XRUN)
		fail("state after the underrun is not XRUN", 0);
	{
		snd_pcm_sframes_t delay = 0;

		err = snd_pcm_delay(pcm, &delay);
		printf("delay_in_xrun=%s\n", snd_strerror(err));
		if (err != -EPIPE)
			fail("snd_pcm_delay in XRUN should give -EPIPE", err);
	}
	if ((err = snd_pcm_recover(pcm, err, 1)) < 0)
		fail("recover", err);
	tone.phase = 0;
	/* The start threshold is the buffer (4800 frames): the restart happens
	 * within the first play() below. */
	print_realtime("restart_before_realtime_ns");
	if ((err = play(pcm, &tone, 4800)) < 0)
		fail("second write", err);
	print_realtime("restart_after_realtime_ns");
	if ((err = play(pcm, &tone, 4800)) < 0)
		fail("third write", err);
	if ((err = snd_pcm_drain(pcm)) < 0)
		fail("drain", err);
	print_realtime("drained_realtime_ns");
	snd_pcm_close(pcm);
}

/* 600 ms of 500 Hz, rewind 300 ms at once, then 400 ms of 1500 Hz. */
static void scenario_rewind(const char *device)
{
	snd_pcm_t *pcm = open_card(device, SND_PCM_ACCESS_RW_INTERLEAVED, 0, 48000, 2400, 1);
	struct tone low = { 500, 0.5, 0 }, high = { 1500, 0.5, 0 };
	snd_pcm_sframes_t rewindable, rewound, delay_before = 0, delay_after = 0;
	int err;

	if ((err = play(pcm, &low, 28800)) < 0)
		fail("write", err);
	snd_pcm_avail(pcm);	/* ioplug does not sync the pointer in rewindable */
	rewindable = snd_pcm_rewindable(pcm);
	if ((err = snd_pcm_delay(pcm, &delay_before)) < 0)
		fail("delay before the rewind", err);
	rewound = snd_pcm_rewind(pcm, 14400);
	if ((err = snd_pcm_delay(pcm, &delay_after)) < 0)
		fail("delay after the rewind", err);
	/* what the delay dropped by, beyond the frames played meanwhile (< 1 ms) */
	printf("rewindable_frames=%ld rewound_frames=%ld delay_drop_frames=%ld\n", (long)rewindable,
	       (long)rewound, (long)(delay_before - delay_after));
	if (rewindable < 14400 || rewound != 14400)
		fail("rewind of 300 ms", rewound < 0 ? (int)rewound : 0);
	if ((err = play(pcm, &high, 19200)) < 0)
		fail("write after rewind", err);
	if ((err = snd_pcm_drain(pcm)) < 0)
		fail("drain", err);
	snd_pcm_close(pcm);
}

/* 500 ms written at once, dropped after 200 ms: only what aired is on the tape. */
static void scenario_drop(const char *device)
{
	snd_pcm_t *pcm = open_card(device, SND_PCM_ACCESS_RW_INTERLEAVED, 0, 48000, 2400, 1);
	struct tone tone = { 800, 0.5, 0 };
	snd_pcm_sframes_t delay = 0;
	int err;

	print_realtime("first_write_realtime_ns");
	if ((err = play(pcm, &tone, 24000)) < 0)
		fail("write", err);
	sleep_ms(200);
	snd_pcm_delay(pcm, &delay);
	print_realtime("drop_before_realtime_ns");
	if ((err = snd_pcm_drop(pcm)) < 0)
		fail("drop", err);
	print_realtime("drop_after_realtime_ns");
	printf("delay_before_drop_frames=%ld\n", (long)delay);
	snd_pcm_close(pcm);
}

/* 500 ms written, paused after 100 ms for 200 ms, then drained. */
static void scenario_pause(const char *device)
{
	snd_pcm_t *pcm = open_card(device, SND_PCM_ACCESS_RW_INTERLEAVED, 0, 48000, 2400, 1);
	struct tone tone = { 600, 0.5, 0 };
	int err;

	if ((err = play(pcm, &tone, 24000)) < 0)
		fail("write", err);
	sleep_ms(100);
	print_realtime("pause_before_realtime_ns");
	if ((err = snd_pcm_pause(pcm, 1)) < 0)
		fail("pause", err);
	print_realtime("pause_after_realtime_ns");
	sleep_ms(200);
	print_realtime("resume_before_realtime_ns");
	if ((err = snd_pcm_pause(pcm, 0)) < 0)
		fail("resume", err);
	print_realtime("resume_after_realtime_ns");
	if ((err = snd_pcm_drain(pcm)) < 0)
		fail("drain", err);
	snd_pcm_close(pcm);
}

/* Non-blocking writes driven by poll(): 2 s of tone without an underrun. */
static void scenario_poll(const char *device)
{
	snd_pcm_t *pcm = open_card(device, SND_PCM_ACCESS_RW_INTERLEAVED, SND_PCM_NONBLOCK,
				   9600, 960, 0);
	struct tone tone = { 1200, 0.5, 0 };
	struct pollfd descriptors[4];
	int16_t samples[9600 * CHANNELS];
	snd_pcm_uframes_t remaining = 96000;
	unsigned int wakeups = 0, idle_wakeups = 0;
	int count = snd_pcm_poll_descriptors_count(pcm);
	int64_t started_ns = 0, finished_ns;
	int err;

	if (count != 1 || snd_pcm_poll_descriptors(pcm, descriptors, 4) != 1)
		fail("poll descriptors", 0);
	while (remaining > 0) {
		unsigned short revents;
		snd_pcm_sframes_t avail = snd_pcm_avail_update(pcm);

		if (avail < 0)
			fail("avail_update (underrun while polling?)", (int)avail);
		if (avail >= 960) {
			/* Whole periods, as aplay writes: wakeups then come every period. */
			snd_pcm_uframes_t chunk = (snd_pcm_uframes_t)avail / 960 * 960;
			snd_pcm_sframes_t written;

			if (chunk > remaining)
				chunk = remaining;
			tone_fill(&tone, samples, chunk);
			written = snd_pcm_writei(pcm, samples, chunk);
			if (written < 0 && written != -EAGAIN)
				fail("writei", (int)written);
			if (written > 0)
				remaining -= (snd_pcm_uframes_t)written;
			if (!started_ns && snd_pcm_state(pcm) == SND_PCM_STATE_RUNNING)
				started_ns = clock_ns(CLOCK_MONOTONIC);
			continue;
		}
		if (poll(descriptors, 1, 1000) <= 0)
			fail("poll timed out or failed", 0);
		if ((err = snd_pcm_poll_descriptors_revents(pcm, descriptors, 1, &revents)) < 0)
			fail("revents", err);
		if (revents & POLLERR)
			fail("POLLERR while playing", 0);
		if (revents & POLLOUT)
			wakeups++;
		else
			idle_wakeups++;
	}
	snd_pcm_nonblock(pcm, 0);
	if ((err = snd_pcm_drain(pcm)) < 0)
		fail("drain", err);
	finished_ns = clock_ns(CLOCK_MONOTONIC);
	printf("pollout_wakeups=%u idle_wakeups=%u playing_ms=%.1f\n", wakeups, idle_wakeups,
	       (finished_ns - started_ns) / 1e6);
	/* 2 s at 20 ms periods after a 200 ms fill: about 90 period wakeups. */
	if (wakeups < 80 || wakeups > 110 || idle_wakeups > wakeups)
		fail("wakeups are not once per period", 0);
	snd_pcm_close(pcm);
}

/* MMAP_INTERLEAVED access with begin/commit: 500 ms of 2000 Hz. */
static void scenario_mmap(const char *device)
{
	snd_pcm_t *pcm = open_card(device, SND_PCM_ACCESS_MMAP_INTERLEAVED, 0, 4800, 480, 0);
	struct tone tone = { 2000, 0.5, 0 };
	snd_pcm_uframes_t remaining = 24000;
	int err;

	while (remaining > 0) {
		const snd_pcm_channel_area_t *areas;
		snd_pcm_uframes_t offset, frames;
		snd_pcm_sframes_t avail = snd_pcm_avail_update(pcm);

		if (avail < 0)
			fail("avail_update", (int)avail);
		if ((snd_pcm_uframes_t)avail < 480) {
			if (snd_pcm_state(pcm) == SND_PCM_STATE_PREPARED) {
				if ((err = snd_pcm_start(pcm)) < 0)
					fail("start", err);
				continue;
			}
			if ((err = snd_pcm_wait(pcm, 1000)) < 0)
				fail("wait", err);
			continue;
		}
		frames = remaining;
		if ((err = snd_pcm_mmap_begin(pcm, &areas, &offset, &frames)) < 0)
			fail("mmap_begin", err);
		tone_fill(&tone, (int16_t *)areas[0].addr + offset * CHANNELS, frames);
		if (snd_pcm_mmap_commit(pcm, offset, frames) != (snd_pcm_sframes_t)frames)
			fail("mmap_commit", 0);
		remaining -= frames;
	}
	if (snd_pcm_state(pcm) == SND_PCM_STATE_PREPARED)
		snd_pcm_start(pcm);
	if ((err = snd_pcm_drain(pcm)) < 0)
		fail("drain", err);
	snd_pcm_close(pcm);
}

/*
 * 1 s of tone; from status snapshots predicts when frame 0 aired:
 * tstamp - (written - delay) / rate (CLOCK_MONOTONIC), then as realtime.
 */
static void scenario_status(const char *device)
{
	snd_pcm_t *pcm = open_card(device, SND_PCM_ACCESS_RW_INTERLEAVED, 0, 9600, 960, 0);
	struct tone tone = { 700, 0.5, 0 };
	snd_pcm_status_t *status;
	int64_t written = 0, earliest_ns = INT64_MAX, latest_ns = INT64_MIN;
	int samples_taken = 0, err;
	int64_t monotonic_before, realtime, monotonic_after;

	snd_pcm_status_alloca(&status);
	while (written < 48000) {
		if ((err = play(pcm, &tone, 960)) < 0)
			fail("write", err);
		written += 960;
		if (snd_pcm_state(pcm) != SND_PCM_STATE_RUNNING)
			continue;
		if ((err = snd_pcm_status(pcm, status)) < 0)
			fail("status", err);
		{
			snd_htimestamp_t tstamp;
			int64_t tstamp_ns, frame_zero_ns;
			snd_pcm_sframes_t delay = snd_pcm_status_get_delay(status);

			snd_pcm_status_get_htstamp(status, &tstamp);
			tstamp_ns = (int64_t)tstamp.tv_sec * NS_PER_SECOND + tstamp.tv_nsec;
			frame_zero_ns = tstamp_ns - (written - delay) * NS_PER_SECOND / RATE;
			if (frame_zero_ns < earliest_ns)
				earliest_ns = frame_zero_ns;
			if (frame_zero_ns > latest_ns)
				latest_ns = frame_zero_ns;
			samples_taken++;
		}
	}
	if ((err = snd_pcm_drain(pcm)) < 0)
		fail("drain", err);
	snd_pcm_close(pcm);
	monotonic_before = clock_ns(CLOCK_MONOTONIC);
	realtime = clock_ns(CLOCK_REALTIME);
	monotonic_after = clock_ns(CLOCK_MONOTONIC);
	printf("status_samples=%d frame0_prediction_spread_us=%.1f\n", samples_taken,
	       (latest_ns - earliest_ns) / 1e3);
	/* ioplug reads the delay after taking tstamp, so each prediction is early
	 * by that interval plus under one frame: the latest one is the closest. */
	printf("predicted_origin_realtime_ns=%" PRId64 "\n",
	       latest_ns + realtime - (monotonic_before + monotonic_after) / 2);
	if (samples_taken < 10 || latest_ns - earliest_ns > 200000)
		fail("status predictions of frame 0 disagree by more than 200 us", 0);
}

/* Plays until FAIL_FILE appears; the card must report -ENODEV and refuse to reopen. */
static void scenario_disconnect(const char *device, const char *fail_file)
{
	snd_pcm_t *pcm = open_card(device, SND_PCM_ACCESS_RW_INTERLEAVED, 0, 4800, 480, 0);
	struct tone tone = { 900, 0.5, 0 };
	int64_t started_ns = clock_ns(CLOCK_MONOTONIC), unplugged_ns = 0, error_ns;
	FILE *file;
	int err = 0;

	while (err == 0) {
		if (!unplugged_ns && clock_ns(CLOCK_MONOTONIC) - started_ns > 300 * INT64_C(1000000)) {
			file = fopen(fail_file, "w");
			if (!file)
				fail("cannot create the fail file", 0);
			fclose(file);
			unplugged_ns = clock_ns(CLOCK_MONOTONIC);
			print_realtime("unplug_realtime_ns");	/* the file exists from here */
		}
		err = play(pcm, &tone, 480);
		if (clock_ns(CLOCK_MONOTONIC) - started_ns > 3 * NS_PER_SECOND)
			fail("no error within 3 s of unplugging", 0);
	}
	error_ns = clock_ns(CLOCK_MONOTONIC);
	print_realtime("error_realtime_ns");
	printf("write_error=%s state=%s unplug_to_error_ms=%.2f\n", snd_strerror(err),
	       snd_pcm_state_name(snd_pcm_state(pcm)), (error_ns - unplugged_ns) / 1e6);
	if (err != -ENODEV || snd_pcm_state(pcm) != SND_PCM_STATE_DISCONNECTED)
		fail("an unplugged card must give -ENODEV and DISCONNECTED", err);
	if (snd_pcm_recover(pcm, err, 1) >= 0)
		fail("recover from -ENODEV should fail", 0);
	snd_pcm_close(pcm);
	err = snd_pcm_open(&pcm, device, SND_PCM_STREAM_PLAYBACK, 0);
	printf("reopen_while_unplugged=%s\n", err < 0 ? snd_strerror(err) : "ok");
	if (err != -ENODEV)
		fail("open while the fail file exists must give -ENODEV", err);
	unlink(fail_file);
	err = snd_pcm_open(&pcm, device, SND_PCM_STREAM_PLAYBACK, 0);
	printf("reopen_after_replug=%s\n", err < 0 ? snd_strerror(err) : "ok");
	if (err < 0)
		fail("open after removing the fail file", err);
	snd_pcm_close(pcm);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: card_harness xrun|rewind|drop|pause|poll|mmap|status|"
			"disconnect DEVICE [FAIL_FILE]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "xrun") == 0)
		scenario_xrun(argv[2]);
	else if (strcmp(argv[1], "rewind") == 0)
		scenario_rewind(argv[2]);
	else if (strcmp(argv[1], "drop") == 0)
		scenario_drop(argv[2]);
	else if (strcmp(argv[1], "pause") == 0)
		scenario_pause(argv[2]);
	else if (strcmp(argv[1], "poll") == 0)
		scenario_poll(argv[2]);
	else if (strcmp(argv[1], "mmap") == 0)
		scenario_mmap(argv[2]);
	else if (strcmp(argv[1], "status") == 0)
		scenario_status(argv[2]);
	else if (strcmp(argv[1], "disconnect") == 0 && argc == 4)
		scenario_disconnect(argv[2], argv[3]);
	else {
		fprintf(stderr, "harness: unknown scenario %s\n", argv[1]);
		return 2;
	}
	snd_config_update_free_global();
	return 0;
}
