/* The decoder front: content sniffing and dispatch to a backend. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media/media_internal.h"

struct media_decoder {
	const struct decoder_ops *ops;
	void *state;
	struct media_info info;
};

long media_pread_full(int fd, void *buf, size_t size, int64_t offset)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = pread(fd, (char *)buf + done, size - done, (off_t)(offset + (int64_t)done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (long)done;
}

int media_open_regular(const char *path, int64_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int err;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto fail;
	}
	if (fcntl(fd, F_SETFL, 0) < 0) {
		err = -errno;
		goto fail;
	}
	*size = (int64_t)st.st_size;
	return fd;
fail:
	close(fd);
	return err;
}

int64_t media_id3v2_size(const unsigned char *head, size_t size)
{
	int64_t body;

	if (size < 10 || memcmp(head, "ID3", 3) != 0 || head[3] == 0xff || head[4] == 0xff)
		return 0;
	if ((head[6] | head[7] | head[8] | head[9]) & 0x80)
		return 0;
	body = ((int64_t)head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9];
	return 10 + body + ((head[5] & 0x10) ? 10 : 0);
}

static int sniff_ogg(const unsigned char *head, size_t size, struct media_format *format)
{
	format->ops = &media_sndfile_ops;
	if (size >= 36 && memcmp(head + 28, "OpusHead", 8) == 0) {
		strcpy(format->extension, "opus");
		return 0;
	}
	if (size >= 35 && memcmp(head + 28, "\x01vorbis", 7) == 0) {
		strcpy(format->extension, "ogg");
		return 0;
	}
	return MEDIA_ERR_CODEC;
}

int media_sniff(int fd, int64_t file_size, struct media_format *format)
{
	unsigned char head[MEDIA_SNIFF_BYTES];
	struct mpeg_header first;
	int64_t offset = 0, tag;
	long n;

	memset(format, 0, sizeof(*format));
	if (file_size == 0)
		return MEDIA_ERR_EMPTY;
	n = media_pread_full(fd, head, sizeof(head), 0);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return MEDIA_ERR_EMPTY;
	if (n >= 12 && (memcmp(head, "RIFF", 4) == 0 || memcmp(head, "RIFX", 4) == 0 ||
			memcmp(head, "RF64", 4) == 0 || memcmp(head, "BW64", 4) == 0) &&
	    memcmp(head + 8, "WAVE", 4) == 0) {
		format->ops = &media_sndfile_ops;
		strcpy(format->extension, "wav");
		return 0;
	}
	if (n >= 12 && memcmp(head, "FORM", 4) == 0 &&
	    (memcmp(head + 8, "AIFF", 4) == 0 || memcmp(head + 8, "AIFC", 4) == 0)) {
		format->ops = &media_sndfile_ops;
		strcpy(format->extension, "aiff");
		return 0;
	}
	if (n >= 4 && memcmp(head, "fLaC", 4) == 0) {
		format->ops = &media_sndfile_ops;
		strcpy(format->extension, "flac");
		return 0;
	}
	if (n >= 4 && memcmp(head, "OggS", 4) == 0)
		return sniff_ogg(head, (size_t)n, format);

	/* MPEG audio, possibly behind one or more ID3v2 tags. */
	while ((tag = media_id3v2_size(head, (size_t)n)) > 0) {
		offset += tag;
		if (offset >= file_size)
			return offset > file_size ? MEDIA_ERR_TRUNCATED : MEDIA_ERR_NO_AUDIO;
		n = media_pread_full(fd, head, sizeof(head), offset);
		if (n < 0)
			return (int)n;
	}
	if (offset > 0 && n >= 4 && memcmp(head, "fLaC", 4) == 0) {
		format->ops = &media_sndfile_ops;
		strcpy(format->extension, "flac");
		return 0;
	}
	if (media_mpeg_find_stream(head, (size_t)n, file_size - offset, MEDIA_MP3_SEARCH_BYTES,
				   4, &first) < 0)
		return MEDIA_ERR_FORMAT;
	format->ops = &media_mp3_ops;
	strcpy(format->extension, first.layer == 3 ? "mp3" : first.layer == 2 ? "mp2" : "mp1");
	return 0;
}

int media_decoder_open_fd(struct media_decoder **out, int fd, int64_t file_size,
			  struct media_info *info, struct media_format *format)
{
	struct media_format sniffed;
	struct media_decoder *dec = NULL;
	int err;

	*out = NULL;
	if (!format) {
		format = &sniffed;
		err = media_sniff(fd, file_size, format);
		if (err < 0)
			goto fail;
	}
	dec = calloc(1, sizeof(*dec));
	if (!dec) {
		err = -ENOMEM;
		goto fail;
	}
	dec->ops = format->ops;
	err = dec->ops->open(&dec->state, fd, &dec->info);
	fd = -1;
	if (err < 0) {
		dec->ops = NULL;
		goto fail;
	}
	if (dec->info.rate < MEDIA_MIN_RATE || dec->info.rate > MEDIA_MAX_RATE ||
	    dec->info.channels < 1 || dec->info.channels > MEDIA_MAX_CHANNELS) {
		err = MEDIA_ERR_CODEC;
		goto fail;
	}
	if (info)
		*info = dec->info;
	*out = dec;
	return 0;
fail:
	if (dec && dec->ops)
		dec->ops->close(dec->state);
	free(dec);
	if (fd >= 0)
		close(fd);
	return err;
}

int media_decoder_open(struct media_decoder **out, const char *path,
		       struct media_info *info)
{
	int64_t size;
	int fd = media_open_regular(path, &size);

	*out = NULL;
	if (fd < 0)
		return fd;
	return media_decoder_open_fd(out, fd, size, info, NULL);
}

int media_decoder_open_at(struct media_decoder **out, const char *path,
			  struct media_info *info, int64_t start_frame, int at_rate)
{
	struct media_info opened;
	int64_t source_start;
	int err = media_decoder_open(out, path, &opened);

	if (err < 0)
		return err;
	/* at or past the end: the end (and no arithmetic on a huge start) */
	if (start_frame >= media_frames_at_rate(opened.frames, opened.rate, at_rate))
		source_start = opened.frames;
	else
		source_start = media_frames_at_rate(start_frame, at_rate, opened.rate);
	if (source_start > opened.frames)
		source_start = opened.frames;
	if (source_start > 0) {
		err = media_decoder_seek(*out, source_start);
		if (err < 0) {
			media_decoder_close(*out);
			*out = NULL;
			return err;
		}
	}
	if (info)
		*info = opened;
	return 0;
}

long media_decoder_read(struct media_decoder *dec, float *frames, long max_frames)
{
	if (max_frames <= 0)
		return max_frames < 0 ? -EINVAL : 0;
	return dec->ops->read(dec->state, frames, max_frames);
}

int media_decoder_seek(struct media_decoder *dec, int64_t frame)
{
	if (frame < 0 || frame > dec->info.frames)
		return -EINVAL;
	return dec->ops->seek(dec->state, frame);
}

void media_decoder_title(struct media_decoder *dec, char *title, size_t size)
{
	if (size == 0)
		return;
	title[0] = '\0';
	if (dec->ops->title)
		dec->ops->title(dec->state, title, size);
}

void media_decoder_close(struct media_decoder *dec)
{
	if (!dec)
		return;
	dec->ops->close(dec->state);
	free(dec);
}
