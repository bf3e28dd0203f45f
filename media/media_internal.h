/*
 * media internals shared by the files of media/ and nothing else.
 *
 * A decoder backend is a `const struct decoder_ops` table. decode.c picks the
 * backend from the first bytes of the file (never from its name) and holds
 * the backend's state behind struct media_decoder.
 */
#ifndef LOAXA_MEDIA_INTERNAL_H
#define LOAXA_MEDIA_INTERNAL_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "media/media.h"

/* Bytes of the file start the sniffer looks at (after ID3v2 tags). */
#define MEDIA_SNIFF_BYTES 16384

/* What loaxa plays: sample rates and channel counts outside these are
 * MEDIA_ERR_CODEC. */
#define MEDIA_MIN_RATE 1000
#define MEDIA_MAX_RATE 768000
#define MEDIA_MAX_CHANNELS 64

/* Junk tolerated before the first MPEG frame (after ID3v2 tags): libmpg123
 * gives up looking after this many bytes, so the sniffer does too. */
#define MEDIA_MP3_SEARCH_BYTES 1024

/* What the sniffer learned from the start of the file. */
struct media_format {
	const struct decoder_ops *ops;
	char extension[8];         /* "wav", "flac", "ogg", "opus", "mp3", ... */
};

struct decoder_ops {
	const char *name;
	/*
	 * Opens the decoder on `fd`, which the backend then owns (closes it on
	 * failure too). Fills every field of *info; info->frames is the exact
	 * count read() produces. Returns 0 and sets *state, or a negative
	 * error. Must not be NULL.
	 */
	int (*open)(void **state, int fd, struct media_info *info);
	/* Up to max_frames interleaved float frames; > 0, 0 at the end, or
	 * < 0. Must not allocate. Must not be NULL. */
	long (*read)(void *state, float *frames, long max_frames);
	/* The next read starts at source frame `frame` (0 ≤ frame ≤ frames).
	 * Must not be NULL. */
	int (*seek)(void *state, int64_t frame);
	/* Frees everything open() made, closes the fd. Must not be NULL. */
	void (*close)(void *state);
	/* The title from the file's tags as UTF-8 (NUL-terminated, may be
	 * cut at `size`), or "" if none. May be NULL: no tags. */
	void (*title)(void *state, char *title, size_t size);
	/* Import check of the file's structure from its bytes alone (header
	 * sizes against the file size, frame chain): 0, MEDIA_ERR_TRUNCATED,
	 * MEDIA_ERR_CORRUPT or MEDIA_ERR_FORMAT_CHANGE, or -errno. Reads with
	 * pread, leaves the offset alone. May be NULL: nothing to check. */
	int (*check)(int fd, int64_t file_size);
};

extern const struct decoder_ops media_sndfile_ops;
extern const struct decoder_ops media_mp3_ops;

/* Picks the backend from the file's first bytes (after any ID3v2 tags).
 * Returns 0, MEDIA_ERR_EMPTY, MEDIA_ERR_FORMAT, MEDIA_ERR_CODEC or -errno.
 * Reads with pread. */
int media_sniff(int fd, int64_t file_size, struct media_format *format);

/* Reads up to `size` bytes at `offset`, retrying short reads and EINTR;
 * returns the count (short only at the end of the file) or -errno. */
long media_pread_full(int fd, void *buf, size_t size, int64_t offset);

/* The size of the ID3v2 tag (header, body, footer) at the start of `head`,
 * 0 if there is none. */
int64_t media_id3v2_size(const unsigned char *head, size_t size);

/* One MPEG audio frame header. */
struct mpeg_header {
	int version;        /* 10 = MPEG-1, 20 = MPEG-2, 25 = MPEG-2.5 */
	int layer;          /* 1, 2, 3 */
	int rate;           /* Hz */
	int channels;       /* 1 or 2 */
	int frame_bytes;    /* whole frame including the header */
	int samples;        /* per frame and channel */
	int side_info_bytes;/* layer III: bytes between header (+CRC) and data */
	int crc;            /* 1 if a 16-bit CRC follows the header */
};
/* 0 and *header filled if the 4 bytes are a usable frame header, else -1
 * (free-format bitrate is refused). */
int media_mpeg_header_parse(const unsigned char bytes[4], struct mpeg_header *header);

/* The offset in `buf` of the first of `min_frames` consecutive frames with
 * the same version, layer and rate, or -1. A shorter chain is accepted when
 * it ends exactly at buf_size and buf_size == bytes_to_end (a very short
 * file). Searches at most `search_bytes` start offsets. */
long media_mpeg_find_stream(const unsigned char *buf, size_t buf_size,
			    int64_t bytes_to_end, size_t search_bytes,
			    int min_frames, struct mpeg_header *first);

/*
 * Opens path for reading as a regular file: returns the fd, or -EISDIR, or
 * -EINVAL (not a regular file), or -errno. *size receives the file size.
 * Never blocks on a FIFO.
 */
int media_open_regular(const char *path, int64_t *size);

/* Opens a decoder on an fd the caller already opened (it is taken over,
 * closed on failure too). format may be NULL: sniffed here. */
int media_decoder_open_fd(struct media_decoder **out, int fd, int64_t file_size,
			  struct media_info *info, struct media_format *format);
/* Opens path with its next read at start_frame, a position in frames at
 * at_rate (the source's own rate: exactly that frame), taken to the nearest
 * source frame (within half of one) and clamped to info->frames. This is
 * how playout opens an item part-way in, to resume or rejoin it
 * (media_stream_open), and how import checks that this works. Errors as
 * media_decoder_open, or the seek's (MEDIA_ERR_CORRUPT); *out is NULL on
 * failure. info may be NULL. */
int media_decoder_open_at(struct media_decoder **out, const char *path,
			  struct media_info *info, int64_t start_frame, int at_rate);
/* The backend's title, "" if none. */
void media_decoder_title(struct media_decoder *dec, char *title, size_t size);

/* Copies a tag string into dst (size ≥ 1) as UTF-8: valid UTF-8 is kept,
 * anything else is read as Latin-1; the result is cut at a character
 * boundary, then cleaned by media_clean_title. */
void media_copy_text(char *dst, size_t size, const char *src, size_t len);

/*
 * The import meter (media/loudness.c): EBU R128 integrated loudness and
 * loudness range of the mono downmix, counted as dual mono (as aired), and
 * sample and true peak of every source channel, in one pass. The same
 * measurement as libebur128 in histogram mode, to within 0.001 LU and
 * 0.0001 dB (tests/unit/test_media_loudness.c), several times faster.
 * A meter belongs to one thread at a time.
 */
struct media_meter;
struct media_meter_result {
	double integrated_lufs;    /* -HUGE_VAL if no block passes the gates */
	double loudness_range_lu;  /* 0 if too short or too quiet */
	double sample_peak;        /* linear, max over the channels; 0 if silent */
	double true_peak;          /* linear, max over the channels, ≥ sample_peak */
};
/* rate ≥ 16 Hz, 1..MEDIA_MAX_CHANNELS channels: 0, -EINVAL or -ENOMEM. */
int media_meter_new(struct media_meter **out, int rate, int channels);
/* count frames: `frames` interleaved at the meter's channel count, `mono`
 * their downmix (the mean of the channels; may be `frames` itself for a
 * mono source). Does not allocate. */
void media_meter_add(struct media_meter *meter, const float *frames, const float *mono,
		     long count);
void media_meter_result(const struct media_meter *meter, struct media_meter_result *out);
void media_meter_free(struct media_meter *meter);

/* SHA-256 over a sequence of byte ranges. */
struct media_sha256 {
	void *ctx; /* SHA2_CTX (libmd) */
};
int media_sha256_init(struct media_sha256 *hash);
int media_sha256_update(struct media_sha256 *hash, const void *bytes, size_t size);
/* Writes 64 lowercase hex digits and a NUL. */
int media_sha256_final(struct media_sha256 *hash, char hex[65]);
void media_sha256_free(struct media_sha256 *hash);

#endif
