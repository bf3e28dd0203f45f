/*
 * loaxatest — the paced test sound card: an alsa-lib external "ioplug" PCM
 * plugin, playback only, that behaves like a real card in time and records
 * what it "aired" on a tape (a WAV file) for the tests to measure.
 *
 * Clock. The card has one sample clock per tape, running from the tape's
 * origin (the CLOCK_MONOTONIC instant of the first start). Tape frame n airs
 * in the slot that begins at origin + n / rate; at monotonic time t the clock
 * has begun ceil((t - origin) * rate / 1e9) slots. A stream started at t0 puts
 * its frame 0 in the first slot not yet begun (tape frame s = that count at t0)
 * and its frame k in slot s + k; frames whose slot has begun are "consumed".
 * All arithmetic is exact in int64 nanoseconds and frames (seconds and
 * remainder split, no floating point), so there is no drift over hours.
 * With SPEED=n the card's monotonic clock runs n times as fast from the
 * instant it was opened (card_now_ns); everything above holds on that clock.
 *
 * Data. ioplug's pseudo-mmap mode (mmap_rw = 1) keeps the application's
 * written-but-unconsumed frames in ioplug's own ring buffer, for RW and MMAP
 * access alike. Consumed frames are copied from that ring to the tape when the
 * application next calls into the PCM (pointer, poll and stop paths), never
 * when written; so frames dropped or rewound before their slot began never
 * reach the tape. (Frames that aired after the application's last call are
 * recorded at its next call, or missing if it is killed.) Chunks of digital
 * silence are not written: the file keeps holes there, which read as zeros. The hardware pointer reported to ioplug is exactly the
 * consumed count (modulo boundary: SND_PCM_IOPLUG_FLAG_BOUNDARY_WA).
 *
 * Server mode (MODE=server) behaves like the ALSA plugin of a sound server
 * (pulse, partly PipeWire): frames are taken into the card's own queue when
 * they are written (mmap_rw = 0: the transfer callback copies them), so what
 * was written airs whatever ALSA's pointers do afterwards. snd_pcm_rewind is
 * accepted (ioplug moves the application pointer back and returns the frames
 * asked) but not honoured; the frames written after it are queued behind the
 * ones already taken. The delay callback reports the true queue, so the
 * delay does not drop after a rewind. The hardware pointer reported to ioplug
 * is kept where ALSA's fill (appl - hw) equals the queue, never moving back:
 * after a rewind it stands still until the queue has played down to ALSA's
 * fill, or until snd_pcm_forward puts the application pointer back.
 * RW interleaved access only.
 *
 * Underrun. When the clock passes the last written frame of a running stream,
 * the pointer callback puts every written frame on the tape, counts an xrun
 * and returns -EPIPE (ioplug then sets XRUN). After snd_pcm_prepare the next
 * start is a new trigger at a new tape position; the gap stays digital
 * silence (a hole in the file reads as zeros).
 *
 * Wakeups. One timerfd (CLOCK_MONOTONIC, absolute) is the poll descriptor. It
 * is re-armed on every pointer, poll_descriptors and poll_revents call: readable
 * at once when avail >= avail_min (or on xrun, disconnect, stop), otherwise at
 * the first period boundary of the stream at which avail >= avail_min (or at the
 * underrun instant, or when a drain completes; with a fail file configured, at
 * most 5 ms ahead). poll_revents turns readability into POLLOUT only if
 * avail >= avail_min, so early wakeups are harmless.
 *
 * Threads and locks. The plugin starts no thread; every callback runs in the
 * calling application thread. ioplug calls start, stop, pointer, transfer and
 * pause with its (recursive) PCM lock held, the others without it. All fields
 * of struct loaxatest below "mutable state" are protected by card->lock.
 * Lock order: PCM lock, then card->lock. Nothing calls an snd_pcm_* function
 * while holding card->lock (poll_revents calls snd_pcm_avail_update before
 * taking it).
 *
 * Tape file. A 44-byte RIFF/WAVE header (PCM or IEEE float, the negotiated
 * format), then frames; the header sizes are patched at close and at least
 * every 500 ms while frames are being recorded, so a tape of a killed process
 * is readable (tapetool also trusts the file length over stale sizes). Beside
 * it, TAPE.info holds key=value lines (origin, format, counters), rewritten
 * through a temporary file and rename() at origin, start, xrun and close.
 */

/* alsa-lib's plugin macros export a versioned symbol only when PIC is defined
 * (libtool defines it; a plain -fPIC build does not). */
#ifndef PIC
#define PIC
#endif
#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_SECOND INT64_C(1000000000)
#define NS_PER_MS INT64_C(1000000)
#define TAPE_HEADER_BYTES 44
#define HEADER_UPDATE_INTERVAL_NS (500 * NS_PER_MS)
#define FAIL_CHECK_INTERVAL_NS (5 * NS_PER_MS)
#define DEFAULT_TAPE_PATH "/tmp/loaxa-tape.wav"
/* Server mode: the queue holds this many buffers (a sound server's own
 * buffer is larger than the client's; repeated rewinds grow it). */
#define SERVER_QUEUE_BUFFERS 8

#define MIN_RATE 8000
#define MAX_RATE 192000
#define MAX_CHANNELS 8
#define MIN_PERIOD_FRAMES 64
#define MAX_PERIOD_FRAMES 65536
#define MIN_PERIODS 2
#define MAX_PERIODS 64
#define MAX_BUFFER_BYTES (16u * 1024u * 1024u)

#define WAVE_FORMAT_PCM 1
#define WAVE_FORMAT_IEEE_FLOAT 3

/* The format a tape holds; all three fields are set together. */
struct tape_format {
	unsigned int rate;
	unsigned int channels;
	snd_pcm_format_t format;
};

struct loaxatest {
	snd_pcm_ioplug_t io;

	/* Configuration, fixed at open. */
	char *tape_path;
	char *info_path;
	char *fail_path;		/* NULL when no fault injection */
	bool append;
	unsigned int config_rate;	/* 0 = any */
	unsigned int config_channels;	/* 0 = any */
	snd_pcm_format_t config_format;	/* SND_PCM_FORMAT_UNKNOWN = any */
	bool server;			/* MODE=server: a sound-server-like card (see above) */
	bool prepared_delay;		/* false: snd_pcm_delay fails (-EIO) until started */
	int64_t speed;			/* SPEED: the clock runs this many times as fast */
	int64_t speed_anchor_ns;	/* CLOCK_MONOTONIC at open: where both clocks agree */
	int timer_fd;			/* the poll descriptor */
	int64_t timer_armed_ns;	/* what the timer is set to: an instant, or
					   TIMER_AT_ONCE / TIMER_DISARMED; 0 = unknown */

	pthread_mutex_t lock;
	/* Mutable state, protected by lock. */

	/* Negotiated by hw_params / sw_params. */
	bool configured;
	struct tape_format stream_format;
	unsigned int frame_bytes;
	uint64_t buffer_frames;
	uint64_t period_frames;
	uint64_t avail_min_frames;
	uint64_t boundary_frames;	/* wrap point of the ALSA pointers */

	/* The tape. */
	int tape_fd;
	bool has_origin;
	struct tape_format tape_format;	/* valid when has_origin */
	int64_t origin_monotonic_ns;
	int64_t origin_realtime_ns;
	uint64_t tape_end_frame;	/* frames in the data chunk */
	uint64_t xruns;
	uint64_t starts;
	int64_t last_header_update_ns;
	bool tape_error_reported;

	/* The stream, reset by prepare. */
	bool running;			/* the clock consumes frames (RUNNING or DRAINING) */
	int64_t stream_start_tape_frame; /* tape frame of stream frame 0 */
	uint64_t consumed_frames;	/* stream frames consumed since prepare */
	uint64_t last_written_frames;	/* appl pointer (linear) at the last pointer call */
	/* Server mode: the card's own queue of taken frames, by stream frame
	 * modulo queue_frames; hw_frames is the pointer reported to ioplug (in
	 * hardware mode it is consumed_frames). */
	unsigned char *queue;
	uint64_t queue_frames;
	uint64_t taken_frames;		/* stream frames taken since prepare */
	uint64_t hw_frames;

	/* Fault injection. */
	bool disconnected;
	bool fail_present;
	int64_t last_fail_check_ns;
};

static int64_t clock_ns(clockid_t clock_id)
{
	struct timespec now;

	clock_gettime(clock_id, &now);
	return (int64_t)now.tv_sec * NS_PER_SECOND + now.tv_nsec;
}

/*
 * The card's clock: CLOCK_MONOTONIC, or with SPEED=n a clock running n times
 * as fast from the instant the card was opened, for running hours of
 * timetable in minutes. Every instant the card keeps is on this clock; the
 * timer is armed on the real one.
 */
static int64_t card_now_ns(const struct loaxatest *card)
{
	int64_t now_ns = clock_ns(CLOCK_MONOTONIC);

	if (card->speed <= 1)
		return now_ns;
	return card->speed_anchor_ns + (now_ns - card->speed_anchor_ns) * card->speed;
}

/* The real monotonic instant at which the card's clock shows card_ns (not before). */
static int64_t card_real_ns(const struct loaxatest *card, int64_t card_ns)
{
	if (card->speed <= 1)
		return card_ns;
	return card->speed_anchor_ns +
	       (card_ns - card->speed_anchor_ns + card->speed - 1) / card->speed;
}

/* Number of frame slots begun after elapsed_ns: ceil(elapsed_ns * rate / 1e9). */
static int64_t frames_begun_after_ns(int64_t elapsed_ns, unsigned int rate)
{
	int64_t seconds, remainder_ns;

	if (elapsed_ns <= 0)
		return 0;
	seconds = elapsed_ns / NS_PER_SECOND;
	remainder_ns = elapsed_ns % NS_PER_SECOND;
	return seconds * rate + (remainder_ns * rate + NS_PER_SECOND - 1) / NS_PER_SECOND;
}

/* Earliest elapsed_ns with frames_begun_after_ns(elapsed_ns) >= frames. */
static int64_t ns_when_frames_begun(int64_t frames, unsigned int rate)
{
	int64_t last;

	if (frames <= 0)
		return 0;
	last = frames - 1;
	return (last / rate) * NS_PER_SECOND + (last % rate) * NS_PER_SECOND / rate + 1;
}

static unsigned int sample_bytes(snd_pcm_format_t format)
{
	return (unsigned int)snd_pcm_format_physical_width(format) / 8;
}

static bool format_supported(snd_pcm_format_t format)
{
	return format == SND_PCM_FORMAT_S16_LE || format == SND_PCM_FORMAT_S32_LE ||
	       format == SND_PCM_FORMAT_FLOAT_LE;
}

static void put_u16_le(unsigned char *bytes, unsigned int value)
{
	bytes[0] = value & 0xff;
	bytes[1] = (value >> 8) & 0xff;
}

static void put_u32_le(unsigned char *bytes, uint32_t value)
{
	bytes[0] = value & 0xff;
	bytes[1] = (value >> 8) & 0xff;
	bytes[2] = (value >> 16) & 0xff;
	bytes[3] = (value >> 24) & 0xff;
}

static void report_tape_error(struct loaxatest *card, const char *what)
{
	if (card->tape_error_reported)
		return;
	card->tape_error_reported = true;
	SNDERR("loaxatest: cannot %s tape %s: %s", what, card->tape_path, strerror(errno));
}

static int write_all_at(int fd, const void *data, size_t length, off_t offset)
{
	const unsigned char *bytes = data;

	while (length > 0) {
		ssize_t written = pwrite(fd, bytes, length, offset);

		if (written < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		bytes += written;
		length -= (size_t)written;
		offset += written;
	}
	return 0;
}

/* Writes the whole 44-byte header with the current data length. */
static void tape_write_header(struct loaxatest *card)
{
	const struct tape_format *format = &card->tape_format;
	unsigned int bytes_per_sample = sample_bytes(format->format);
	unsigned int block_align = bytes_per_sample * format->channels;
	uint64_t data_bytes = card->tape_end_frame * block_align;
	uint32_t data_size = data_bytes > UINT32_MAX - 36 ? UINT32_MAX : (uint32_t)data_bytes;
	uint32_t riff_size = data_bytes > UINT32_MAX - 36 ? UINT32_MAX : (uint32_t)data_bytes + 36;
	unsigned char header[TAPE_HEADER_BYTES];

	memcpy(header, "RIFF", 4);
	put_u32_le(header + 4, riff_size);
	memcpy(header + 8, "WAVEfmt ", 8);
	put_u32_le(header + 16, 16);
	put_u16_le(header + 20, format->format == SND_PCM_FORMAT_FLOAT_LE ?
				WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM);
	put_u16_le(header + 22, format->channels);
	put_u32_le(header + 24, format->rate);
	put_u32_le(header + 28, format->rate * block_align);
	put_u16_le(header + 32, block_align);
	put_u16_le(header + 34, bytes_per_sample * 8);
	memcpy(header + 36, "data", 4);
	put_u32_le(header + 40, data_size);
	if (write_all_at(card->tape_fd, header, sizeof(header), 0) < 0)
		report_tape_error(card, "write the header of");
	/* silence at the end was not written (see tape_record): the file is
	 * extended over it, which leaves a hole that reads as zeros */
	struct stat status;
	off_t length = TAPE_HEADER_BYTES + (off_t)data_bytes;
	if (fstat(card->tape_fd, &status) == 0 && status.st_size < length &&
	    ftruncate(card->tape_fd, length) < 0)
		report_tape_error(card, "extend");
}

/* Digital silence is not written to the tape: the file keeps a hole there,
 * which reads as zeros, so hours of a quiet station take no disk. */
static bool all_zero(const unsigned char *bytes, size_t length)
{
	return length == 0 || (bytes[0] == 0 && memcmp(bytes, bytes + 1, length - 1) == 0);
}

static void read_boot_id(char *boot_id, size_t size)
{
	FILE *file = fopen("/proc/sys/kernel/random/boot_id", "re");

	boot_id[0] = '\0';
	if (!file)
		return;
	if (fgets(boot_id, (int)size, file))
		boot_id[strcspn(boot_id, "\n")] = '\0';
	fclose(file);
}

/* Rewrites TAPE.info through a temporary file and rename(). */
static void tape_write_info(struct loaxatest *card)
{
	char boot_id[64];
	char *temporary_path;
	FILE *file;
	int failed;

	read_boot_id(boot_id, sizeof(boot_id));
	if (asprintf(&temporary_path, "%s.tmp.%ld", card->info_path, (long)getpid()) < 0)
		return;
	file = fopen(temporary_path, "we");
	if (!file) {
		SNDERR("loaxatest: cannot write %s: %s", temporary_path, strerror(errno));
		free(temporary_path);
		return;
	}
	fprintf(file,
		"origin_realtime_ns=%" PRId64 "\n"
		"origin_monotonic_ns=%" PRId64 "\n"
		"boot_id=%s\n"
		"rate=%u\n"
		"channels=%u\n"
		"format=%s\n"
		"xruns=%" PRIu64 "\n"
		"starts=%" PRIu64 "\n",
		card->origin_realtime_ns, card->origin_monotonic_ns, boot_id,
		card->tape_format.rate, card->tape_format.channels,
		snd_pcm_format_name(card->tape_format.format), card->xruns, card->starts);
	failed = ferror(file);
	if (fclose(file) != 0 || failed || rename(temporary_path, card->info_path) != 0) {
		SNDERR("loaxatest: cannot write %s: %s", card->info_path, strerror(errno));
		unlink(temporary_path);
	}
	free(temporary_path);
}

/* The parts of an existing TAPE.info that append mode needs. */
struct tape_info {
	int64_t origin_realtime_ns;
	int64_t origin_monotonic_ns;
	char boot_id[64];
	struct tape_format format;
	uint64_t xruns;
	uint64_t starts;
};

static int tape_read_info(const char *info_path, struct tape_info *info)
{
	char line[256];
	unsigned int found = 0;
	FILE *file = fopen(info_path, "re");

	memset(info, 0, sizeof(*info));
	if (!file)
		return -errno;
	while (fgets(line, sizeof(line), file)) {
		char *value = strchr(line, '=');

		if (!value)
			continue;
		*value++ = '\0';
		value[strcspn(value, "\n")] = '\0';
		if (strcmp(line, "origin_realtime_ns") == 0) {
			info->origin_realtime_ns = strtoll(value, NULL, 10);
			found |= 1;
		} else if (strcmp(line, "origin_monotonic_ns") == 0) {
			info->origin_monotonic_ns = strtoll(value, NULL, 10);
			found |= 2;
		} else if (strcmp(line, "boot_id") == 0) {
			snprintf(info->boot_id, sizeof(info->boot_id), "%s", value);
		} else if (strcmp(line, "rate") == 0) {
			info->format.rate = (unsigned int)strtoul(value, NULL, 10);
			found |= 4;
		} else if (strcmp(line, "channels") == 0) {
			info->format.channels = (unsigned int)strtoul(value, NULL, 10);
			found |= 8;
		} else if (strcmp(line, "format") == 0) {
			info->format.format = snd_pcm_format_value(value);
			found |= 16;
		} else if (strcmp(line, "xruns") == 0) {
			info->xruns = strtoull(value, NULL, 10);
		} else if (strcmp(line, "starts") == 0) {
			info->starts = strtoull(value, NULL, 10);
		}
	}
	fclose(file);
	if (found != 31 || !format_supported(info->format.format) ||
	    info->format.rate == 0 || info->format.channels == 0)
		return -EINVAL;
	return 0;
}

/* Checks that an existing tape starts with the header this plugin writes. */
static bool tape_header_matches(int fd, const struct tape_format *format)
{
	unsigned char header[TAPE_HEADER_BYTES];
	unsigned int expected_tag = format->format == SND_PCM_FORMAT_FLOAT_LE ?
				    WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM;

	if (pread(fd, header, sizeof(header), 0) != (ssize_t)sizeof(header))
		return false;
	return memcmp(header, "RIFF", 4) == 0 && memcmp(header + 8, "WAVEfmt ", 8) == 0 &&
	       memcmp(header + 36, "data", 4) == 0 &&
	       (header[20] | header[21] << 8) == (int)expected_tag &&
	       (unsigned int)(header[22] | header[23] << 8) == format->channels &&
	       ((uint32_t)header[24] | (uint32_t)header[25] << 8 | (uint32_t)header[26] << 16 |
		(uint32_t)header[27] << 24) == format->rate &&
	       (unsigned int)(header[34] | header[35] << 8) == sample_bytes(format->format) * 8;
}

/* Sets the first start's instant as the tape origin and begins the tape. */
static void tape_set_origin(struct loaxatest *card, int64_t start_monotonic_ns)
{
	int64_t before_ns = card_now_ns(card);
	int64_t realtime_ns = clock_ns(CLOCK_REALTIME);
	int64_t after_ns = card_now_ns(card);

	card->has_origin = true;
	card->tape_format = card->stream_format;
	card->origin_monotonic_ns = start_monotonic_ns;
	/* (with SPEED, the real instant of the origin; the frames then run fast) */
	card->origin_realtime_ns = realtime_ns - ((before_ns + after_ns) / 2 - start_monotonic_ns) /
						 (card->speed > 1 ? card->speed : 1);
	card->tape_end_frame = 0;
	tape_write_header(card);
	card->last_header_update_ns = start_monotonic_ns;
}

/* Moves stream frames [consumed_frames, up_to_frames) from the ring to the tape. */
static void tape_record(struct loaxatest *card, snd_pcm_ioplug_t *io, uint64_t up_to_frames,
			int64_t now_ns)
{
	const snd_pcm_channel_area_t *areas;
	const unsigned char *ring;
	uint64_t end_frame;

	if (up_to_frames <= card->consumed_frames)
		return;
	uint64_t ring_frames = card->server ? card->queue_frames : card->buffer_frames;
	if (card->server) {
		ring = card->queue;
	} else {
		areas = snd_pcm_ioplug_mmap_areas(io);
		ring = areas && areas[0].addr ?
		       (const unsigned char *)areas[0].addr + areas[0].first / 8 : NULL;
	}
	if (!ring) {
		card->consumed_frames = up_to_frames;
		return;
	}
	while (card->consumed_frames < up_to_frames) {
		uint64_t ring_offset = card->consumed_frames % ring_frames;
		uint64_t chunk = up_to_frames - card->consumed_frames;
		int64_t tape_frame = card->stream_start_tape_frame + (int64_t)card->consumed_frames;

		if (chunk > ring_frames - ring_offset)
			chunk = ring_frames - ring_offset;
		if (!all_zero(ring + ring_offset * card->frame_bytes, chunk * card->frame_bytes) &&
		    write_all_at(card->tape_fd, ring + ring_offset * card->frame_bytes,
				 chunk * card->frame_bytes,
				 TAPE_HEADER_BYTES + (off_t)tape_frame * card->frame_bytes) < 0)
			report_tape_error(card, "write");
		card->consumed_frames += chunk;
	}
	end_frame = (uint64_t)card->stream_start_tape_frame + card->consumed_frames;
	if (end_frame > card->tape_end_frame)
		card->tape_end_frame = end_frame;
	if (now_ns - card->last_header_update_ns >= HEADER_UPDATE_INTERVAL_NS * card->speed) {
		tape_write_header(card);
		card->last_header_update_ns = now_ns;
	}
}

/* Stream frames whose slot has begun at now_ns (the unclamped clock). */
static uint64_t stream_clock_frames(const struct loaxatest *card, int64_t now_ns)
{
	int64_t begun = frames_begun_after_ns(now_ns - card->origin_monotonic_ns,
					      card->tape_format.rate);

	return begun > card->stream_start_tape_frame ?
	       (uint64_t)(begun - card->stream_start_tape_frame) : 0;
}

/* Monotonic instant at which the stream clock reaches stream_frames. */
static int64_t stream_time_ns(const struct loaxatest *card, uint64_t stream_frames)
{
	return card->origin_monotonic_ns +
	       ns_when_frames_begun(card->stream_start_tape_frame + (int64_t)stream_frames,
				    card->tape_format.rate);
}

/*
 * The application pointer as a count since prepare, or UINT64_MAX if it is not
 * within one buffer ahead of the consumed frames (rewound past the hardware
 * pointer, or reset while running).
 */
/* Frames of room at which a waiter wakes: avail_min, or in server mode one
 * period, as the pulse plugin wakes whenever a period fits in its buffer
 * whatever avail_min says. */
static uint64_t wake_frames(const struct loaxatest *card)
{
	return card->server ? card->period_frames : card->avail_min_frames;
}

static uint64_t hw_frames(const struct loaxatest *card)
{
	return card->server ? card->hw_frames : card->consumed_frames;
}

static uint64_t written_frames(const struct loaxatest *card, const snd_pcm_ioplug_t *io)
{
	uint64_t appl = io->appl_ptr;
	uint64_t hw_position = hw_frames(card) % card->boundary_frames;
	uint64_t ahead = (appl + card->boundary_frames - hw_position) % card->boundary_frames;

	if (ahead > card->buffer_frames)
		return UINT64_MAX;
	return hw_frames(card) + ahead;
}

/* The last frame the card will play, plus one: what the application wrote,
 * or in server mode what the card took (rewinds do not take it back). */
static uint64_t queue_end(const struct loaxatest *card, uint64_t written)
{
	return card->server ? card->taken_frames : written;
}

/* Server mode: moves the reported pointer so that ALSA's fill equals the
 * queue, never backwards and never past the application pointer. */
static void server_update_hw(struct loaxatest *card, uint64_t written)
{
	uint64_t queued = card->taken_frames - card->consumed_frames;

	if (!card->server || written == UINT64_MAX)
		return;
	if (written > queued && written - queued > card->hw_frames)
		card->hw_frames = written - queued;
	if (card->hw_frames > written)
		card->hw_frames = written;
}

static snd_pcm_sframes_t hardware_position(const struct loaxatest *card)
{
	return (snd_pcm_sframes_t)(hw_frames(card) % card->boundary_frames);
}

/* True while the fault-injection file exists; looks at most every 5 ms. */
static bool fail_file_present(struct loaxatest *card, int64_t now_ns)
{
	if (!card->fail_path)
		return false;
	if (card->last_fail_check_ns == 0 || now_ns - card->last_fail_check_ns >= FAIL_CHECK_INTERVAL_NS * card->speed) {
		card->fail_present = access(card->fail_path, F_OK) == 0;
		card->last_fail_check_ns = now_ns;
	}
	return card->fail_present;
}

/* Ends the stream as an unplugged card would: what aired stays on the tape. */
static void card_disconnect(struct loaxatest *card, snd_pcm_ioplug_t *io, int64_t now_ns)
{
	if (card->running) {
		uint64_t written = written_frames(card, io);
		uint64_t clock = stream_clock_frames(card, now_ns);
		uint64_t end = queue_end(card, written);

		if (written != UINT64_MAX)
			tape_record(card, io, clock < end ? clock : end, now_ns);
		card->running = false;
	}
	if (!card->disconnected) {
		card->disconnected = true;
		SNDERR("loaxatest: %s exists: the card is unplugged", card->fail_path);
	}
	snd_pcm_ioplug_set_state(io, SND_PCM_STATE_DISCONNECTED);
}

/*
 * Arms the poll timer for the given state. written is the application
 * pointer since prepare (UINT64_MAX if unknown). Readable at once unless the
 * application must wait; then at the first period boundary with
 * avail >= avail_min, the underrun instant, or the end of a drain.
 */
#define TIMER_AT_ONCE 1
#define TIMER_DISARMED (-1)

static void card_arm_timer(struct loaxatest *card, snd_pcm_state_t state, uint64_t written,
			   int64_t now_ns)
{
	struct itimerspec timer = { { 0, 0 }, { 0, 1 } };	/* at once */
	int64_t wake_ns = 0;				/* 0: at once, < 0: never */

	if (card->configured && written != UINT64_MAX && !card->disconnected) {
		uint64_t fill = written - hw_frames(card);
		uint64_t avail = fill < card->buffer_frames ? card->buffer_frames - fill : 0;
		uint64_t end = queue_end(card, written);

		switch (state) {
		case SND_PCM_STATE_RUNNING:
			if (card->running) {
				uint64_t clock = stream_clock_frames(card, now_ns);
				/* the pointer once the clock is recorded (server
				 * mode: ALSA's fill equal to the queue, see above) */
				uint64_t hw = clock;
				uint64_t target;

				if (card->server) {
					hw = written + clock > end ? written + clock - end : 0;
					if (hw < card->hw_frames)
						hw = card->hw_frames;
				}
				if (clock > end ||
				    written + wake_frames(card) <= card->buffer_frames + hw)
					break;
				/* consumed frames at which avail reaches avail_min */
				target = end + wake_frames(card) - card->buffer_frames;
				target = (target + card->period_frames - 1) / card->period_frames *
					 card->period_frames;
				if (target > end + 1)
					target = end + 1;
				wake_ns = stream_time_ns(card, target);
			}
			break;
		case SND_PCM_STATE_DRAINING:
			if (card->running && stream_clock_frames(card, now_ns) < end)
				wake_ns = stream_time_ns(card, end);
			break;
		case SND_PCM_STATE_PREPARED:
		case SND_PCM_STATE_PAUSED:
			if (avail < wake_frames(card))
				wake_ns = -1;
			break;
		default:
			break;
		}
	}
	/* With fault injection, waiters also wake every 5 ms to notice an unplug,
	 * as the kernel wakes them when a USB card goes away. */
	if (card->fail_path && !card->disconnected && state != SND_PCM_STATE_SETUP &&
	    state != SND_PCM_STATE_OPEN && (wake_ns < 0 || wake_ns > now_ns + FAIL_CHECK_INTERVAL_NS * card->speed))
		wake_ns = now_ns + FAIL_CHECK_INTERVAL_NS * card->speed;
	/* The timer is never read, only set again; setting it to what it already
	 * is (readable at once, disarmed, or the same instant) is skipped, since a
	 * syscall on every pointer update would cost the program under test. */
	int64_t armed = wake_ns < 0 ? TIMER_DISARMED : wake_ns > now_ns ? wake_ns : TIMER_AT_ONCE;
	if (armed == card->timer_armed_ns)
		return;
	card->timer_armed_ns = armed;
	if (wake_ns < 0) {
		timer.it_value.tv_nsec = 0;			/* disarmed */
	} else if (wake_ns > now_ns) {
		int64_t real_ns = card_real_ns(card, wake_ns);

		timer.it_value.tv_sec = real_ns / NS_PER_SECOND;
		timer.it_value.tv_nsec = real_ns % NS_PER_SECOND;
	}
	timerfd_settime(card->timer_fd, TFD_TIMER_ABSTIME, &timer, NULL);
}

static snd_pcm_sframes_t loaxatest_pointer(snd_pcm_ioplug_t *io)
{
	struct loaxatest *card = io->private_data;
	int64_t now_ns = card_now_ns(card);
	snd_pcm_state_t state = io->state;
	snd_pcm_sframes_t result;
	uint64_t written;

	pthread_mutex_lock(&card->lock);
	if (!card->configured) {
		pthread_mutex_unlock(&card->lock);
		return 0;
	}
	if (card->disconnected || (state != SND_PCM_STATE_OPEN && fail_file_present(card, now_ns))) {
		card_disconnect(card, io, now_ns);
		card_arm_timer(card, SND_PCM_STATE_DISCONNECTED, UINT64_MAX, now_ns);
		result = hardware_position(card);
		pthread_mutex_unlock(&card->lock);
		return result;
	}
	written = written_frames(card, io);
	result = hardware_position(card);
	if (state == SND_PCM_STATE_XRUN) {
		result = -EPIPE;
	} else if ((state == SND_PCM_STATE_RUNNING || state == SND_PCM_STATE_DRAINING) &&
		   card->running) {
		uint64_t clock = stream_clock_frames(card, now_ns);

		if (written == UINT64_MAX) {
			SNDERR("loaxatest: application pointer moved behind the hardware pointer; "
			       "reporting an underrun");
			card->running = false;
			card->xruns++;
			tape_write_info(card);
			result = -EPIPE;
		} else if (clock > queue_end(card, written)) {
			tape_record(card, io, queue_end(card, written), now_ns);
			server_update_hw(card, written);
			card->running = false;
			result = hardware_position(card);
			if (state == SND_PCM_STATE_RUNNING) {
				card->xruns++;
				tape_write_info(card);
				result = -EPIPE;
			}
		} else {
			tape_record(card, io, clock, now_ns);
			server_update_hw(card, written);
			card->last_written_frames = written;
			result = hardware_position(card);
		}
	}
	if (result == -EPIPE)
		card_arm_timer(card, SND_PCM_STATE_XRUN, written, now_ns);
	else
		card_arm_timer(card, state, written, now_ns);
	pthread_mutex_unlock(&card->lock);
	return result;
}

/*
 * Frames written but not yet consumed. Unlike ioplug's default, which reports
 * a stale delay with success after an underrun, this answers as the kernel
 * does: -EPIPE in XRUN, -ENODEV when unplugged, -EBADFD when not prepared.
 */
static int loaxatest_delay(snd_pcm_ioplug_t *io, snd_pcm_sframes_t *delay)
{
	struct loaxatest *card = io->private_data;
	snd_pcm_sframes_t position = loaxatest_pointer(io);	/* records what has aired */
	uint64_t written;
	int err = 0;

	if (position == -EPIPE && io->state != SND_PCM_STATE_XRUN)
		snd_pcm_ioplug_set_state(io, SND_PCM_STATE_XRUN);
	switch (io->state) {
	case SND_PCM_STATE_PREPARED:
		if (!card->prepared_delay)
			return -EIO;	/* as the pulse plugin's, now and then */
		break;
	case SND_PCM_STATE_RUNNING:
	case SND_PCM_STATE_DRAINING:
	case SND_PCM_STATE_PAUSED:
		break;
	case SND_PCM_STATE_XRUN:
		return -EPIPE;
	case SND_PCM_STATE_DISCONNECTED:
		return -ENODEV;
	default:
		return -EBADFD;
	}
	pthread_mutex_lock(&card->lock);
	written = card->configured ? written_frames(card, io) : UINT64_MAX;
	if (written == UINT64_MAX)
		err = -EBADFD;
	else
		*delay = (snd_pcm_sframes_t)(queue_end(card, written) - card->consumed_frames);
	pthread_mutex_unlock(&card->lock);
	return err;
}

static int loaxatest_start(snd_pcm_ioplug_t *io)
{
	struct loaxatest *card = io->private_data;
	int64_t now_ns = card_now_ns(card);
	int err = 0;

	pthread_mutex_lock(&card->lock);
	if (card->disconnected || fail_file_present(card, now_ns)) {
		card_disconnect(card, io, now_ns);
		err = -ENODEV;
		goto out;
	}
	if (!card->configured) {
		err = -EBADFD;
		goto out;
	}
	if (!card->has_origin)
		tape_set_origin(card, now_ns);
	card->stream_start_tape_frame = frames_begun_after_ns(now_ns - card->origin_monotonic_ns,
							      card->tape_format.rate);
	card->running = true;
	card->starts++;
	tape_write_info(card);
	card_arm_timer(card, SND_PCM_STATE_RUNNING, written_frames(card, io), now_ns);
out:
	pthread_mutex_unlock(&card->lock);
	return err;
}

static int loaxatest_stop(snd_pcm_ioplug_t *io)
{
	struct loaxatest *card = io->private_data;
	int64_t now_ns = card_now_ns(card);

	pthread_mutex_lock(&card->lock);
	if (card->running) {
		uint64_t written = written_frames(card, io);
		uint64_t clock = stream_clock_frames(card, now_ns);
		uint64_t end = queue_end(card, written);

		if (written != UINT64_MAX)
			tape_record(card, io, clock < end ? clock : end, now_ns);
		card->running = false;
	}
	card_arm_timer(card, SND_PCM_STATE_SETUP, UINT64_MAX, now_ns);
	pthread_mutex_unlock(&card->lock);
	return 0;
}

static int loaxatest_pause(snd_pcm_ioplug_t *io, int enable)
{
	struct loaxatest *card = io->private_data;
	int64_t now_ns = card_now_ns(card);
	uint64_t written;

	pthread_mutex_lock(&card->lock);
	written = written_frames(card, io);
	if (enable && card->running) {
		uint64_t clock = stream_clock_frames(card, now_ns);
		uint64_t end = queue_end(card, written);

		if (written != UINT64_MAX)
			tape_record(card, io, clock < end ? clock : end, now_ns);
		server_update_hw(card, written);
		card->running = false;
		card_arm_timer(card, SND_PCM_STATE_PAUSED, written, now_ns);
	} else if (!enable && !card->running && card->has_origin) {
		/* The next frame takes the first slot not yet begun. */
		card->stream_start_tape_frame =
			frames_begun_after_ns(now_ns - card->origin_monotonic_ns, card->tape_format.rate) -
			(int64_t)card->consumed_frames;
		card->running = true;
		card_arm_timer(card, SND_PCM_STATE_RUNNING, written, now_ns);
	}
	pthread_mutex_unlock(&card->lock);
	return 0;
}

static int loaxatest_prepare(snd_pcm_ioplug_t *io)
{
	struct loaxatest *card = io->private_data;
	int64_t now_ns = card_now_ns(card);
	int err = 0;

	pthread_mutex_lock(&card->lock);
	if (card->disconnected || fail_file_present(card, now_ns)) {
		card_disconnect(card, io, now_ns);
		err = -ENODEV;
		goto out;
	}
	if (card->running) {
		/* snd_pcm_prepare on a running stream: ioplug has already reset
		 * the pointers, so record up to what was written at the last call. */
		uint64_t clock = stream_clock_frames(card, now_ns);
		uint64_t written = queue_end(card, card->last_written_frames);

		tape_record(card, io, clock < written ? clock : written, now_ns);
		card->running = false;
	}
	card->consumed_frames = 0;
	card->last_written_frames = 0;
	card->taken_frames = 0;		/* a server flushes its queue */
	card->hw_frames = 0;
	card_arm_timer(card, SND_PCM_STATE_PREPARED, 0, now_ns);
out:
	pthread_mutex_unlock(&card->lock);
	return err;
}

static snd_pcm_sframes_t loaxatest_transfer(snd_pcm_ioplug_t *io,
					    const snd_pcm_channel_area_t *areas,
					    snd_pcm_uframes_t offset, snd_pcm_uframes_t size)
{
	struct loaxatest *card = io->private_data;
	int64_t now_ns = card_now_ns(card);
	snd_pcm_sframes_t result = (snd_pcm_sframes_t)size;

	/* Hardware mode: the frames are already in the ring (mmap_rw); they
	 * are taken from there when consumed. Server mode: they are taken into
	 * the card's queue now. */
	pthread_mutex_lock(&card->lock);
	if (card->disconnected || fail_file_present(card, now_ns)) {
		card_disconnect(card, io, now_ns);
		result = -ENODEV;
	} else if (card->server && card->queue) {
		const unsigned char *from = (const unsigned char *)areas[0].addr +
					    areas[0].first / 8 + offset * (areas[0].step / 8);
		uint64_t room = card->queue_frames - (card->taken_frames - card->consumed_frames);

		if (room == 0) {
			result = -EAGAIN;	/* rewound and written again too often */
		} else {
			if ((uint64_t)result > room)
				result = (snd_pcm_sframes_t)room;
			for (uint64_t done = 0; done < (uint64_t)result;) {
				uint64_t at = (card->taken_frames + done) % card->queue_frames;
				uint64_t chunk = (uint64_t)result - done;

				if (chunk > card->queue_frames - at)
					chunk = card->queue_frames - at;
				memcpy(card->queue + at * card->frame_bytes,
				       from + done * card->frame_bytes, chunk * card->frame_bytes);
				done += chunk;
			}
			card->taken_frames += (uint64_t)result;
		}
	}
	pthread_mutex_unlock(&card->lock);
	return result;
}

static int loaxatest_hw_params(snd_pcm_ioplug_t *io, snd_pcm_hw_params_t *params)
{
	struct loaxatest *card = io->private_data;
	int err = 0;

	(void)params;
	pthread_mutex_lock(&card->lock);
	if (!format_supported(io->format) || io->access == SND_PCM_ACCESS_RW_NONINTERLEAVED ||
	    io->access == SND_PCM_ACCESS_MMAP_NONINTERLEAVED) {
		err = -EINVAL;
		goto out;
	}
	if (card->has_origin &&
	    (io->rate != card->tape_format.rate || io->channels != card->tape_format.channels ||
	     io->format != card->tape_format.format)) {
		SNDERR("loaxatest: tape %s holds %s %u channels %u Hz; reopen the card to change format",
		       card->tape_path, snd_pcm_format_name(card->tape_format.format),
		       card->tape_format.channels, card->tape_format.rate);
		err = -EINVAL;
		goto out;
	}
	card->stream_format.rate = io->rate;
	card->stream_format.channels = io->channels;
	card->stream_format.format = io->format;
	card->frame_bytes = sample_bytes(io->format) * io->channels;
	card->buffer_frames = io->buffer_size;
	if (card->server) {
		free(card->queue);
		card->queue_frames = SERVER_QUEUE_BUFFERS * io->buffer_size;
		card->queue = calloc(card->queue_frames, card->frame_bytes);
		if (!card->queue) {
			err = -ENOMEM;
			goto out;
		}
	}
	card->period_frames = io->period_size;
	card->avail_min_frames = io->period_size;
	/* alsa-lib's default boundary; sw_params reports the real one. */
	card->boundary_frames = io->buffer_size;
	while (card->boundary_frames * 2 <= (uint64_t)LONG_MAX - io->buffer_size)
		card->boundary_frames *= 2;
	card->configured = true;
out:
	pthread_mutex_unlock(&card->lock);
	return err;
}

static int loaxatest_hw_free(snd_pcm_ioplug_t *io)
{
	struct loaxatest *card = io->private_data;

	pthread_mutex_lock(&card->lock);
	card->configured = false;
	card->running = false;
	pthread_mutex_unlock(&card->lock);
	return 0;
}

static int loaxatest_sw_params(snd_pcm_ioplug_t *io, snd_pcm_sw_params_t *params)
{
	struct loaxatest *card = io->private_data;
	snd_pcm_uframes_t avail_min = 0, boundary = 0;

	snd_pcm_sw_params_get_avail_min(params, &avail_min);
	snd_pcm_sw_params_get_boundary(params, &boundary);
	pthread_mutex_lock(&card->lock);
	if (avail_min > 0)
		card->avail_min_frames = avail_min;
	if (boundary > 0)
		card->boundary_frames = boundary;
	pthread_mutex_unlock(&card->lock);
	return 0;
}

static int loaxatest_poll_descriptors_count(snd_pcm_ioplug_t *io)
{
	(void)io;
	return 1;
}

static int loaxatest_poll_descriptors(snd_pcm_ioplug_t *io, struct pollfd *descriptors,
				      unsigned int space)
{
	struct loaxatest *card = io->private_data;
	int64_t now_ns = card_now_ns(card);

	if (space < 1)
		return 0;
	pthread_mutex_lock(&card->lock);
	card_arm_timer(card, io->state, card->configured ? written_frames(card, io) : UINT64_MAX,
		       now_ns);
	pthread_mutex_unlock(&card->lock);
	descriptors[0].fd = card->timer_fd;
	descriptors[0].events = POLLIN;
	descriptors[0].revents = 0;
	return 1;
}

static int loaxatest_poll_revents(snd_pcm_ioplug_t *io, struct pollfd *descriptors,
				  unsigned int count, unsigned short *revents)
{
	struct loaxatest *card = io->private_data;
	snd_pcm_sframes_t avail = 0;
	snd_pcm_state_t state;
	bool configured;
	uint64_t avail_min;

	*revents = 0;
	if (count != 1 || descriptors[0].fd != card->timer_fd)
		return -EINVAL;
	pthread_mutex_lock(&card->lock);
	configured = card->configured;
	pthread_mutex_unlock(&card->lock);
	/* Moves the pointer (and the tape, and the state on xrun or drain end). */
	if (configured)
		avail = snd_pcm_avail_update(io->pcm);
	state = io->state;
	pthread_mutex_lock(&card->lock);
	avail_min = wake_frames(card);
	card_arm_timer(card, state, card->configured ? written_frames(card, io) : UINT64_MAX,
		       card_now_ns(card));
	pthread_mutex_unlock(&card->lock);
	switch (state) {
	case SND_PCM_STATE_XRUN:
	case SND_PCM_STATE_DISCONNECTED:
		*revents = POLLOUT | POLLERR;
		break;
	case SND_PCM_STATE_RUNNING:
	case SND_PCM_STATE_PREPARED:
	case SND_PCM_STATE_PAUSED:
		if (avail < 0)
			*revents = POLLOUT | POLLERR;
		else if ((uint64_t)avail >= avail_min)
			*revents = POLLOUT;
		break;
	case SND_PCM_STATE_DRAINING:
		break;
	default:
		*revents = POLLOUT;
		break;
	}
	return 0;
}

static void loaxatest_dump(snd_pcm_ioplug_t *io, snd_output_t *out)
{
	struct loaxatest *card = io->private_data;

	pthread_mutex_lock(&card->lock);
	snd_output_printf(out, "loaxa paced test card, tape %s%s\n", card->tape_path,
			  card->append ? " (append)" : "");
	if (card->has_origin)
		snd_output_printf(out, "  origin_realtime_ns=%" PRId64 " frames=%" PRIu64
				  " xruns=%" PRIu64 " starts=%" PRIu64 "\n",
				  card->origin_realtime_ns, card->tape_end_frame, card->xruns,
				  card->starts);
	pthread_mutex_unlock(&card->lock);
	if (io->pcm) {
		snd_output_printf(out, "Its setup is:\n");
		snd_pcm_dump_setup(io->pcm, out);
	}
}

/* Frees everything; used by close and by a failed open. */
static void card_free(struct loaxatest *card)
{
	if (card->tape_fd >= 0)
		close(card->tape_fd);
	if (card->timer_fd >= 0)
		close(card->timer_fd);
	pthread_mutex_destroy(&card->lock);
	free(card->tape_path);
	free(card->info_path);
	free(card->fail_path);
	free(card->queue);
	free(card);
}

static int loaxatest_close(snd_pcm_ioplug_t *io)
{
	struct loaxatest *card = io->private_data;

	pthread_mutex_lock(&card->lock);
	card->running = false;
	if (card->has_origin) {
		/* The tape runs until the card is closed: silence to now. */
		int64_t end_frame = frames_begun_after_ns(card_now_ns(card) -
							  card->origin_monotonic_ns,
							  card->tape_format.rate);

		if (end_frame > (int64_t)card->tape_end_frame) {
			unsigned int frame_bytes = sample_bytes(card->tape_format.format) *
						   card->tape_format.channels;

			if (ftruncate(card->tape_fd,
				      TAPE_HEADER_BYTES + (off_t)end_frame * frame_bytes) == 0)
				card->tape_end_frame = (uint64_t)end_frame;
			else
				report_tape_error(card, "extend");
		}
		tape_write_header(card);
		tape_write_info(card);
	}
	pthread_mutex_unlock(&card->lock);
	card_free(card);
	return 0;
}

static const snd_pcm_ioplug_callback_t loaxatest_callbacks = {
	.start = loaxatest_start,
	.stop = loaxatest_stop,
	.pointer = loaxatest_pointer,
	.transfer = loaxatest_transfer,
	.close = loaxatest_close,
	.hw_params = loaxatest_hw_params,
	.hw_free = loaxatest_hw_free,
	.sw_params = loaxatest_sw_params,
	.prepare = loaxatest_prepare,
	.pause = loaxatest_pause,
	.poll_descriptors_count = loaxatest_poll_descriptors_count,
	.poll_descriptors = loaxatest_poll_descriptors,
	.poll_revents = loaxatest_poll_revents,
	.dump = loaxatest_dump,
	.delay = loaxatest_delay,
};

/* Hardware constraints from the allowed format/rate/channels (0 / UNKNOWN = any). */
static int card_set_constraints(struct loaxatest *card, unsigned int rate, unsigned int channels,
				snd_pcm_format_t format)
{
	static const unsigned int access_list[] = {
		SND_PCM_ACCESS_RW_INTERLEAVED, SND_PCM_ACCESS_MMAP_INTERLEAVED,
	};
	static const unsigned int all_formats[] = {
		SND_PCM_FORMAT_S16_LE, SND_PCM_FORMAT_S32_LE, SND_PCM_FORMAT_FLOAT_LE,
	};
	snd_pcm_ioplug_t *io = &card->io;
	unsigned int one_format = (unsigned int)format;
	unsigned int smallest_frame = (format == SND_PCM_FORMAT_UNKNOWN ? 2 : sample_bytes(format)) *
				      (channels ? channels : 1);
	unsigned int largest_frame = (format == SND_PCM_FORMAT_UNKNOWN ? 4 : sample_bytes(format)) *
				     (channels ? channels : MAX_CHANNELS);
	unsigned int largest_buffer = MAX_PERIODS * MAX_PERIOD_FRAMES * largest_frame;
	int err;

	if (largest_buffer > MAX_BUFFER_BYTES)
		largest_buffer = MAX_BUFFER_BYTES;
	/* server mode takes frames in the transfer callback: RW access only */
	err = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_ACCESS, card->server ? 1 : 2,
					    access_list);
	if (err >= 0)
		err = format == SND_PCM_FORMAT_UNKNOWN ?
		      snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_FORMAT, 3, all_formats) :
		      snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_FORMAT, 1, &one_format);
	if (err >= 0)
		err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_CHANNELS,
						      channels ? channels : 1,
						      channels ? channels : MAX_CHANNELS);
	if (err >= 0)
		err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_RATE,
						      rate ? rate : MIN_RATE, rate ? rate : MAX_RATE);
	if (err >= 0)
		err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIOD_BYTES,
						      MIN_PERIOD_FRAMES * smallest_frame,
						      MAX_PERIOD_FRAMES * largest_frame);
	if (err >= 0)
		err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIODS,
						      MIN_PERIODS, MAX_PERIODS);
	if (err >= 0)
		err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_BUFFER_BYTES,
						      MIN_PERIODS * MIN_PERIOD_FRAMES * smallest_frame,
						      largest_buffer);
	return err;
}

/* Opens the tape: continues an existing one (append) or starts it empty. */
static int card_open_tape(struct loaxatest *card)
{
	struct tape_info info;
	struct stat status;

	if (card->append && tape_read_info(card->info_path, &info) == 0) {
		int fd = open(card->tape_path, O_RDWR | O_CLOEXEC);

		if (fd >= 0 && fstat(fd, &status) == 0 && status.st_size >= TAPE_HEADER_BYTES &&
		    tape_header_matches(fd, &info.format)) {
			char boot_id[64];
			unsigned int frame_bytes = sample_bytes(info.format.format) *
						   info.format.channels;

			if ((card->config_rate && card->config_rate != info.format.rate) ||
			    (card->config_channels && card->config_channels != info.format.channels) ||
			    (card->config_format != SND_PCM_FORMAT_UNKNOWN &&
			     card->config_format != info.format.format)) {
				SNDERR("loaxatest: tape %s holds %s %u channels %u Hz, which the "
				       "configuration forbids; remove it or choose another TAPE",
				       card->tape_path, snd_pcm_format_name(info.format.format),
				       info.format.channels, info.format.rate);
				close(fd);
				return -EINVAL;
			}
			card->tape_fd = fd;
			card->has_origin = true;
			card->tape_format = info.format;
			card->origin_realtime_ns = info.origin_realtime_ns;
			read_boot_id(boot_id, sizeof(boot_id));
			if (boot_id[0] && strcmp(boot_id, info.boot_id) == 0) {
				card->origin_monotonic_ns = info.origin_monotonic_ns;
			} else {
				/* Another boot: place the origin by the wall clock. */
				card->origin_monotonic_ns = clock_ns(CLOCK_MONOTONIC) -
							    (clock_ns(CLOCK_REALTIME) - info.origin_realtime_ns);
			}
			card->tape_end_frame = (uint64_t)(status.st_size - TAPE_HEADER_BYTES) / frame_bytes;
			card->xruns = info.xruns;
			card->starts = info.starts;
			card->last_header_update_ns = card_now_ns(card);
			return card_set_constraints(card, info.format.rate, info.format.channels,
						    info.format.format);
		}
		if (fd >= 0)
			close(fd);
	}
	card->tape_fd = open(card->tape_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (card->tape_fd < 0) {
		int err = -errno;

		SNDERR("loaxatest: cannot create tape %s: %s", card->tape_path, strerror(errno));
		return err;
	}
	unlink(card->info_path);
	return card_set_constraints(card, card->config_rate, card->config_channels,
				    card->config_format);
}

static int parse_config(struct loaxatest *card, snd_config_t *conf)
{
	snd_config_iterator_t iterator, next;
	const char *tape = DEFAULT_TAPE_PATH;
	const char *fail = NULL;

	snd_config_for_each(iterator, next, conf) {
		snd_config_t *node = snd_config_iterator_entry(iterator);
		const char *id;
		long number;

		if (snd_config_get_id(node, &id) < 0)
			continue;
		if (strcmp(id, "comment") == 0 || strcmp(id, "type") == 0 ||
		    strcmp(id, "hint") == 0)
			continue;
		if (strcmp(id, "tape") == 0) {
			if (snd_config_get_string(node, &tape) < 0)
				goto invalid;
		} else if (strcmp(id, "fail") == 0) {
			if (snd_config_get_string(node, &fail) < 0)
				goto invalid;
		} else if (strcmp(id, "format") == 0) {
			const char *name;

			if (snd_config_get_string(node, &name) < 0)
				goto invalid;
			if (strcasecmp(name, "any") == 0) {
				card->config_format = SND_PCM_FORMAT_UNKNOWN;
			} else {
				card->config_format = snd_pcm_format_value(name);
				if (!format_supported(card->config_format)) {
					SNDERR("loaxatest: format %s: use any, S16_LE, S32_LE or FLOAT_LE",
					       name);
					return -EINVAL;
				}
			}
		} else if (strcmp(id, "rate") == 0) {
			if (snd_config_get_integer(node, &number) < 0 ||
			    (number != 0 && (number < MIN_RATE || number > MAX_RATE)))
				goto invalid;
			card->config_rate = (unsigned int)number;
		} else if (strcmp(id, "channels") == 0) {
			if (snd_config_get_integer(node, &number) < 0 || number < 0 ||
			    number > MAX_CHANNELS)
				goto invalid;
			card->config_channels = (unsigned int)number;
		} else if (strcmp(id, "speed") == 0) {
			if (snd_config_get_integer(node, &number) < 0 || number < 1 || number > 10000)
				goto invalid;
			card->speed = number;
		} else if (strcmp(id, "mode") == 0) {
			const char *mode_name;

			if (snd_config_get_string(node, &mode_name) < 0)
				goto invalid;
			if (strcmp(mode_name, "server") == 0) {
				card->server = true;
			} else if (strcmp(mode_name, "hardware") != 0) {
				SNDERR("loaxatest: mode %s: use hardware or server", mode_name);
				return -EINVAL;
			}
		} else if (strcmp(id, "prepared_delay") == 0) {
			int value = snd_config_get_bool(node);

			if (value < 0)
				goto invalid;
			card->prepared_delay = value;
		} else if (strcmp(id, "append") == 0) {
			int value = snd_config_get_bool(node);

			if (value < 0)
				goto invalid;
			card->append = value;
		} else {
			SNDERR("loaxatest: unknown field %s (known: tape rate channels format "
			       "append fail speed mode prepared_delay)", id);
			return -EINVAL;
		}
		continue;
invalid:
		SNDERR("loaxatest: invalid value for %s", id);
		return -EINVAL;
	}
	if (!tape[0]) {
		SNDERR("loaxatest: tape must name a file");
		return -EINVAL;
	}
	if (card->append && card->speed > 1) {
		SNDERR("loaxatest: append places a tape by the wall clock, which a fast card "
		       "does not keep; use one or the other");
		return -EINVAL;
	}
	card->tape_path = strdup(tape);
	if (!card->tape_path || asprintf(&card->info_path, "%s.info", tape) < 0) {
		card->info_path = NULL;
		return -ENOMEM;
	}
	if (fail && fail[0]) {
		card->fail_path = strdup(fail);
		if (!card->fail_path)
			return -ENOMEM;
	}
	return 0;
}

SND_PCM_PLUGIN_DEFINE_FUNC(loaxatest)
{
	struct loaxatest *card;
	int err;

	(void)root;
	if (stream != SND_PCM_STREAM_PLAYBACK) {
		SNDERR("loaxatest: %s is a playback-only test card", name);
		return -EINVAL;
	}
	card = calloc(1, sizeof(*card));
	if (!card)
		return -ENOMEM;
	card->tape_fd = -1;
	card->timer_fd = -1;
	card->config_format = SND_PCM_FORMAT_UNKNOWN;
	card->speed = 1;
	card->prepared_delay = true;
	card->speed_anchor_ns = clock_ns(CLOCK_MONOTONIC);
	pthread_mutex_init(&card->lock, NULL);

	err = parse_config(card, conf);
	if (err < 0)
		goto fail;
	if (card->fail_path && access(card->fail_path, F_OK) == 0) {
		err = -ENODEV;
		goto fail;
	}
	card->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (card->timer_fd < 0) {
		err = -errno;
		goto fail;
	}

	card->io.version = SND_PCM_IOPLUG_VERSION;
	card->io.name = "loaxa paced test card";
	card->io.flags = SND_PCM_IOPLUG_FLAG_BOUNDARY_WA | SND_PCM_IOPLUG_FLAG_MONOTONIC;
	card->io.mmap_rw = card->server ? 0 : 1;
	card->io.poll_fd = card->timer_fd;
	card->io.poll_events = POLLIN;
	card->io.callback = &loaxatest_callbacks;
	card->io.private_data = card;
	err = snd_pcm_ioplug_create(&card->io, name, stream, mode);
	if (err < 0)
		goto fail;
	/* From here on, snd_pcm_ioplug_delete calls loaxatest_close, which frees card. */
	err = card_open_tape(card);
	if (err < 0) {
		snd_pcm_ioplug_delete(&card->io);
		return err;
	}
	*pcmp = card->io.pcm;
	return 0;

fail:
	card_free(card);
	return err;
}

SND_PCM_PLUGIN_SYMBOL(loaxatest);
