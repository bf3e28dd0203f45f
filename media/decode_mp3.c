/* libmpg123 backend: MPEG-1/2/2.5 audio (layer III, and I/II), gapless, with
 * the output format pinned to the stream's own rate and channels as float. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mpg123.h>

#include "media/media_internal.h"

#define MP3_RESYNC_LIMIT MEDIA_MP3_SEARCH_BYTES
/* Frames decoded ahead of a seek target to refill the bit reservoir: it
 * holds up to 511 bytes, which low-bitrate frames of a VBR stream (60 bytes
 * of data or less) spread over many frames. libmpg123's default is too few:
 * the first frames after the seek came out silent. */
#define MP3_SEEK_PREFRAMES 32
/* libmpg123 reading an fd itself makes two read() calls per frame (header,
 * then body): 50 000 system calls for 20 minutes of MP3, twice (the length
 * scan, then the decode). It reads through this buffer instead. */
#define MP3_READ_BUFFER_BYTES 65536

struct mp3_state {
	mpg123_handle *handle;
	int fd;
	unsigned char *buffer;  /* bytes of the file from buffer_offset on */
	size_t buffer_fill, buffer_used;
	int64_t buffer_offset;
	int rate;
	int channels;
	int64_t position;   /* next frame read() returns */
	int64_t frames;
};

static const short bitrates_kbps[2][3][15] = {
	{ /* MPEG-1 */
		{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},
	},
	{ /* MPEG-2 and 2.5 */
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
	},
};

static const int rates_hz[3][3] = {
	{44100, 48000, 32000}, /* MPEG-1 */
	{22050, 24000, 16000}, /* MPEG-2 */
	{11025, 12000, 8000},  /* MPEG-2.5 */
};

int media_mpeg_header_parse(const unsigned char b[4], struct mpeg_header *h)
{
	int version_bits = (b[1] >> 3) & 3, layer_bits = (b[1] >> 1) & 3;
	int bitrate_index = b[2] >> 4, rate_index = (b[2] >> 2) & 3;
	int padding = (b[2] >> 1) & 1, lsf, bitrate;

	if (b[0] != 0xff || (b[1] & 0xe0) != 0xe0)
		return -1;
	if (version_bits == 1 || layer_bits == 0 || bitrate_index == 0 ||
	    bitrate_index == 15 || rate_index == 3 || (b[3] & 3) == 2)
		return -1;
	h->version = version_bits == 3 ? 10 : version_bits == 2 ? 20 : 25;
	h->layer = 4 - layer_bits;
	lsf = h->version != 10;
	h->rate = rates_hz[h->version == 10 ? 0 : h->version == 20 ? 1 : 2][rate_index];
	h->channels = (b[3] >> 6) == 3 ? 1 : 2;
	h->crc = !(b[1] & 1);
	bitrate = bitrates_kbps[lsf][h->layer - 1][bitrate_index] * 1000;
	switch (h->layer) {
	case 1:
		h->samples = 384;
		h->frame_bytes = (12 * bitrate / h->rate + padding) * 4;
		h->side_info_bytes = 0;
		break;
	case 2:
		h->samples = 1152;
		h->frame_bytes = 144 * bitrate / h->rate + padding;
		h->side_info_bytes = 0;
		break;
	default:
		h->samples = lsf ? 576 : 1152;
		h->frame_bytes = (lsf ? 72 : 144) * bitrate / h->rate + padding;
		if (lsf)
			h->side_info_bytes = h->channels == 1 ? 9 : 17;
		else
			h->side_info_bytes = h->channels == 1 ? 17 : 32;
		break;
	}
	return h->frame_bytes >= 4 + (h->crc ? 2 : 0) + h->side_info_bytes ? 0 : -1;
}

static int same_stream(const struct mpeg_header *a, const struct mpeg_header *b)
{
	return a->version == b->version && a->layer == b->layer && a->rate == b->rate;
}

long media_mpeg_find_stream(const unsigned char *buf, size_t buf_size,
			    int64_t bytes_to_end, size_t search_bytes,
			    int min_frames, struct mpeg_header *first)
{
	size_t start;

	for (start = 0; start < search_bytes && start + 4 <= buf_size; start++) {
		struct mpeg_header h, next;
		size_t pos;
		int count = 1;

		if (media_mpeg_header_parse(buf + start, &h) < 0)
			continue;
		pos = start + (size_t)h.frame_bytes;
		while (count < min_frames) {
			if ((int64_t)pos == bytes_to_end)
				break;
			if (pos + 3 <= buf_size && memcmp(buf + pos, "TAG", 3) == 0 &&
			    bytes_to_end - (int64_t)pos == 128)
				break;
			if (pos + 4 > buf_size || media_mpeg_header_parse(buf + pos, &next) < 0 ||
			    !same_stream(&h, &next))
				break;
			pos += (size_t)next.frame_bytes;
			count++;
		}
		if (count >= min_frames || (int64_t)pos == bytes_to_end ||
		    (pos + 3 <= buf_size && memcmp(buf + pos, "TAG", 3) == 0 &&
		     bytes_to_end - (int64_t)pos == 128)) {
			if ((int64_t)pos > bytes_to_end)
				continue;
			*first = h;
			return (long)start;
		}
	}
	return -1;
}

static int map_mpg123_error(int merr)
{
	switch (merr) {
	case MPG123_OUT_OF_MEM:
		return -ENOMEM;
	case MPG123_BAD_FILE:
	case MPG123_NO_SPACE:
	case MPG123_NO_READER:
		return MEDIA_ERR_FORMAT;
	default:
		return MEDIA_ERR_CORRUPT;
	}
}

static mpg123_ssize_t reader_read(void *handle, void *out, size_t size)
{
	struct mp3_state *st = handle;
	size_t done = 0;

	while (done < size) {
		size_t n;

		if (st->buffer_used == st->buffer_fill) {
			ssize_t got = read(st->fd, st->buffer, MP3_READ_BUFFER_BYTES);

			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				return done ? (mpg123_ssize_t)done : -1;
			if (got == 0)
				break;
			st->buffer_offset += (int64_t)st->buffer_fill;
			st->buffer_fill = (size_t)got;
			st->buffer_used = 0;
		}
		n = st->buffer_fill - st->buffer_used;
		if (n > size - done)
			n = size - done;
		memcpy((unsigned char *)out + done, st->buffer + st->buffer_used, n);
		st->buffer_used += n;
		done += n;
	}
	return (mpg123_ssize_t)done;
}

static off_t reader_lseek(void *handle, off_t offset, int whence)
{
	struct mp3_state *st = handle;
	int64_t target;
	off_t at;

	if (whence == SEEK_END) {
		at = lseek(st->fd, offset, SEEK_END);
	} else {
		/* the fd is ahead of the reader by what is left in the buffer */
		target = (int64_t)offset;
		if (whence == SEEK_CUR)
			target += st->buffer_offset + (int64_t)st->buffer_used;
		else if (whence != SEEK_SET)
			target = -1;
		if (target < 0) {
			errno = EINVAL;
			return -1;
		}
		/* within the buffer (a position query, a step back): no system call */
		if (target >= st->buffer_offset &&
		    target <= st->buffer_offset + (int64_t)st->buffer_fill) {
			st->buffer_used = (size_t)(target - st->buffer_offset);
			return (off_t)target;
		}
		at = lseek(st->fd, (off_t)target, SEEK_SET);
	}
	if (at < 0)
		return at;
	st->buffer_offset = (int64_t)at;
	st->buffer_fill = 0;
	st->buffer_used = 0;
	return at;
}

static void mp3_close(void *state)
{
	struct mp3_state *st = state;

	if (!st)
		return;
	if (st->handle) {
		mpg123_close(st->handle);
		mpg123_delete(st->handle);
	}
	if (st->fd >= 0)
		close(st->fd);
	free(st->buffer);
	free(st);
}

static int mp3_open(void **out, int fd, struct media_info *info)
{
	struct mp3_state *st = calloc(1, sizeof(*st));
	struct mpg123_frameinfo frame_info;
	long rate;
	int channels, encoding, merr = MPG123_OK, err;
	const long *rates;
	size_t rate_count, i;
	off_t length;

	*out = NULL;
	if (!st) {
		close(fd);
		return -ENOMEM;
	}
	st->fd = fd;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		err = -errno;
		goto fail;
	}
	st->buffer = malloc(MP3_READ_BUFFER_BYTES);
	if (!st->buffer) {
		err = -ENOMEM;
		goto fail;
	}
	st->handle = mpg123_new(NULL, &merr);
	if (!st->handle) {
		err = map_mpg123_error(merr);
		goto fail;
	}
	mpg123_param(st->handle, MPG123_ADD_FLAGS, MPG123_GAPLESS | MPG123_QUIET, 0.);
	mpg123_param(st->handle, MPG123_RESYNC_LIMIT, MP3_RESYNC_LIMIT, 0.);
	mpg123_param(st->handle, MPG123_PREFRAMES, MP3_SEEK_PREFRAMES, 0.);
	/* Float output from the first frame on: the decoder settles its output
	 * format when it opens the stream. */
	mpg123_rates(&rates, &rate_count);
	mpg123_format_none(st->handle);
	for (i = 0; i < rate_count; i++)
		mpg123_format(st->handle, rates[i], MPG123_MONO | MPG123_STEREO,
			      MPG123_ENC_FLOAT_32);
	if (mpg123_replace_reader_handle(st->handle, reader_read, reader_lseek, NULL) != MPG123_OK ||
	    mpg123_open_handle(st->handle, st) != MPG123_OK) {
		err = MEDIA_ERR_FORMAT;
		goto fail;
	}
	merr = mpg123_getformat(st->handle, &rate, &channels, &encoding);
	if (merr != MPG123_OK) {
		err = merr == MPG123_DONE ? MEDIA_ERR_NO_AUDIO : MEDIA_ERR_FORMAT;
		goto fail;
	}
	if (mpg123_info(st->handle, &frame_info) != MPG123_OK) {
		err = MEDIA_ERR_FORMAT;
		goto fail;
	}
	/* Then the stream's own rate and channels and nothing else, so the
	 * output never changes shape midway. */
	st->rate = (int)frame_info.rate;
	st->channels = frame_info.mode == MPG123_M_MONO ? 1 : 2;
	if (mpg123_format_none(st->handle) != MPG123_OK ||
	    mpg123_format(st->handle, st->rate, st->channels == 1 ? MPG123_MONO : MPG123_STEREO,
			  MPG123_ENC_FLOAT_32) != MPG123_OK) {
		err = MEDIA_ERR_CODEC;
		goto fail;
	}
	if (mpg123_scan(st->handle) != MPG123_OK) {
		err = MEDIA_ERR_CORRUPT;
		goto fail;
	}
	length = mpg123_length(st->handle);
	if (length < 0) {
		err = MEDIA_ERR_CORRUPT;
		goto fail;
	}
	if (mpg123_seek(st->handle, 0, SEEK_SET) < 0) {
		err = MEDIA_ERR_CORRUPT;
		goto fail;
	}
	st->frames = (int64_t)length;
	memset(info, 0, sizeof(*info));
	info->frames = st->frames;
	info->rate = st->rate;
	info->channels = st->channels;
	strcpy(info->codec, frame_info.layer == 3 ? "mp3" : frame_info.layer == 2 ? "mp2" : "mp1");
	*out = st;
	return 0;
fail:
	mp3_close(st);
	return err;
}

static long mp3_read(void *state, float *frames, long max_frames)
{
	struct mp3_state *st = state;
	size_t frame_bytes = sizeof(float) * (size_t)st->channels, done = 0;
	int64_t left = st->frames - st->position;
	int empty_reads = 0;

	if (left <= 0)
		return 0;
	if (max_frames > left)
		max_frames = (long)left;
	for (;;) {
		if (empty_reads++ > 64)
			return MEDIA_ERR_CORRUPT;
		int merr = mpg123_read(st->handle, (unsigned char *)frames,
				       (size_t)max_frames * frame_bytes, &done);

		if (merr == MPG123_NEW_FORMAT) {
			long rate;
			int channels, encoding;

			mpg123_getformat(st->handle, &rate, &channels, &encoding);
			if (rate != st->rate || channels != st->channels ||
			    encoding != MPG123_ENC_FLOAT_32)
				return MEDIA_ERR_FORMAT_CHANGE;
			if (done == 0)
				continue;
		} else if (merr == MPG123_DONE) {
			if (done == 0)
				return MEDIA_ERR_TRUNCATED;
		} else if (merr != MPG123_OK) {
			return map_mpg123_error(merr);
		} else if (done == 0) {
			continue;
		}
		break;
	}
	if (done % frame_bytes)
		return MEDIA_ERR_CORRUPT;
	st->position += (int64_t)(done / frame_bytes);
	return (long)(done / frame_bytes);
}

static int mp3_seek(void *state, int64_t frame)
{
	struct mp3_state *st = state;

	if (mpg123_seek(st->handle, (off_t)frame, SEEK_SET) < 0)
		return MEDIA_ERR_CORRUPT;
	st->position = frame;
	return 0;
}

static void mp3_title(void *state, char *title, size_t size)
{
	struct mp3_state *st = state;
	mpg123_id3v1 *v1 = NULL;
	mpg123_id3v2 *v2 = NULL;

	if (mpg123_id3(st->handle, &v1, &v2) != MPG123_OK)
		return;
	if (v2 && v2->title && v2->title->p && v2->title->fill > 1)
		media_copy_text(title, size, v2->title->p, strnlen(v2->title->p, v2->title->fill));
	if (!title[0] && v1)
		media_copy_text(title, size, v1->title, strnlen(v1->title, sizeof(v1->title)));
}

/* A window over the file for walking frame headers. */
struct byte_window {
	int fd;
	int64_t offset;
	long size;
	unsigned char bytes[65536];
};

/* Pointer to `need` bytes at `offset`, or NULL if the file has fewer. */
static const unsigned char *window_at(struct byte_window *w, int64_t offset, long need,
				      int *err)
{
	if (offset < w->offset || offset + need > w->offset + w->size) {
		long n = media_pread_full(w->fd, w->bytes, sizeof(w->bytes), offset);

		if (n < 0) {
			*err = (int)n;
			return NULL;
		}
		w->offset = offset;
		w->size = n;
		if (need > n)
			return NULL;
	}
	return w->bytes + (offset - w->offset);
}

static uint32_t be32(const unsigned char *b)
{
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) |
	       (uint32_t)b[3];
}

/* Frames the Xing/Info or VBRI header of the first frame announces, or -1. */
static int64_t announced_frames(struct byte_window *w, int64_t offset,
				const struct mpeg_header *h, int *err)
{
	const unsigned char *p;
	int64_t tag = offset + 4 + (h->crc ? 2 : 0) + h->side_info_bytes;

	if (h->layer != 3)
		return -1;
	p = window_at(w, tag, 16, err);
	if (p && (memcmp(p, "Xing", 4) == 0 || memcmp(p, "Info", 4) == 0))
		return (be32(p + 4) & 1) ? (int64_t)be32(p + 8) : -1;
	p = window_at(w, offset + 4 + 32, 18, err);
	if (p && memcmp(p, "VBRI", 4) == 0)
		return (int64_t)be32(p + 14);
	return -1;
}

/* Where the audio ends: before ID3v1 and APE tags at the end of the file. */
static int64_t audio_end(struct byte_window *w, int64_t end, int *err)
{
	const unsigned char *p;

	if (end >= 128 && (p = window_at(w, end - 128, 3, err)) && memcmp(p, "TAG", 3) == 0)
		end -= 128;
	if (end >= 32 && (p = window_at(w, end - 32, 32, err)) && memcmp(p, "APETAGEX", 8) == 0) {
		int64_t size = (int64_t)p[12] | ((int64_t)p[13] << 8) | ((int64_t)p[14] << 16) |
			       ((int64_t)p[15] << 24);
		if (p[23] & 0x80)
			size += 32;
		if (size <= end)
			end -= size;
	}
	return end;
}

/*
 * Walks the chain of frame headers through the whole file. A file is sound
 * when the frames follow one another to the end of the audio (trailing tags
 * and zero padding aside), all at one rate and channel count. The last frame
 * running past the end of the file, or fewer frames than the Xing/Info/VBRI
 * header announces, is a truncated file; anything else between frames is
 * corruption (libmpg123 would resync over it, but that is not a file to put
 * on air unheard). A file cut exactly at a frame boundary and without such a
 * header cannot be told from a whole one.
 */
static int mp3_check(int fd, int64_t file_size)
{
	struct byte_window *w = malloc(sizeof(*w));
	struct mpeg_header first, h;
	const unsigned char *p;
	int64_t offset = 0, end, announced, counted = 0, tag;
	long start;
	int err = 0;

	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->offset = 0;
	w->size = 0;
	while ((p = window_at(w, offset, 10, &err)) && (tag = media_id3v2_size(p, 10)) > 0)
		offset += tag;
	if (err < 0)
		goto out;
	end = audio_end(w, file_size, &err);
	if (err < 0)
		goto out;
	if (offset >= end) {
		err = offset > file_size ? MEDIA_ERR_TRUNCATED : MEDIA_ERR_NO_AUDIO;
		goto out;
	}
	p = window_at(w, offset, (long)(end - offset < MEDIA_SNIFF_BYTES ? end - offset :
					MEDIA_SNIFF_BYTES), &err);
	start = p ? media_mpeg_find_stream(p, (size_t)(w->size - (offset - w->offset)),
					   end - offset, MP3_RESYNC_LIMIT, 4, &first) : -1;
	if (err < 0)
		goto out;
	if (start < 0) {
		err = MEDIA_ERR_FORMAT;
		goto out;
	}
	offset += start;
	announced = announced_frames(w, offset, &first, &err);
	if (err < 0)
		goto out;
	if (announced >= 0) {
		offset += first.frame_bytes;
		if (offset > end) {
			err = MEDIA_ERR_TRUNCATED;
			goto out;
		}
	}
	while (offset < end) {
		if (end - offset < 4) {
			err = MEDIA_ERR_TRUNCATED;
			goto out;
		}
		p = window_at(w, offset, 4, &err);
		if (!p)
			goto out;
		if (media_mpeg_header_parse(p, &h) == 0) {
			if (!same_stream(&h, &first) || h.channels != first.channels) {
				err = MEDIA_ERR_FORMAT_CHANGE;
				goto out;
			}
			if (offset + h.frame_bytes > end) {
				err = MEDIA_ERR_TRUNCATED;
				goto out;
			}
			offset += h.frame_bytes;
			counted++;
			continue;
		}
		if ((p = window_at(w, offset, 10, &err)) && (tag = media_id3v2_size(p, 10)) > 0) {
			offset += tag;
			continue;
		}
		for (; offset < end; offset++) {
			p = window_at(w, offset, 1, &err);
			if (!p || *p != 0) {
				err = err < 0 ? err : MEDIA_ERR_CORRUPT;
				goto out;
			}
		}
	}
	if (announced >= 0 && counted < announced)
		err = MEDIA_ERR_TRUNCATED;
out:
	free(w);
	return err;
}

const struct decoder_ops media_mp3_ops = {
	.name = "mpg123",
	.open = mp3_open,
	.read = mp3_read,
	.seek = mp3_seek,
	.close = mp3_close,
	.title = mp3_title,
	.check = mp3_check,
};
