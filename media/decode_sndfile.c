/* libsndfile backend: WAV (integer and float), AIFF, FLAC, Ogg Vorbis and Ogg
 * Opus, read as float. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "media/media_internal.h"

struct sndfile_state {
	SNDFILE *file;
	SF_INFO sfinfo;
	int fd;            /* libsndfile's, to see how far it read */
	int64_t file_size;
	int64_t position;  /* next frame read() returns */
	int64_t frames;    /* what read() produces in all */
};

static const char *codec_name(int format)
{
	switch (format & SF_FORMAT_SUBMASK) {
	case SF_FORMAT_PCM_S8: return "pcm_s8";
	case SF_FORMAT_PCM_U8: return "pcm_u8";
	case SF_FORMAT_PCM_16: return "pcm_s16";
	case SF_FORMAT_PCM_24: return "pcm_s24";
	case SF_FORMAT_PCM_32: return "pcm_s32";
	case SF_FORMAT_FLOAT: return "pcm_f32";
	case SF_FORMAT_DOUBLE: return "pcm_f64";
	case SF_FORMAT_ULAW: return "pcm_mulaw";
	case SF_FORMAT_ALAW: return "pcm_alaw";
	case SF_FORMAT_IMA_ADPCM: return "adpcm_ima";
	case SF_FORMAT_MS_ADPCM: return "adpcm_ms";
	case SF_FORMAT_GSM610: return "gsm610";
	case SF_FORMAT_VORBIS: return "vorbis";
	case SF_FORMAT_OPUS: return "opus";
	case SF_FORMAT_MPEG_LAYER_III: return "mp3";
	default: return "other";
	}
}

static int map_sf_error(int sf_err)
{
	switch (sf_err) {
	case SF_ERR_UNRECOGNISED_FORMAT:
		return MEDIA_ERR_FORMAT;
	case SF_ERR_UNSUPPORTED_ENCODING:
		return MEDIA_ERR_CODEC;
	case SF_ERR_MALFORMED_FILE:
		return MEDIA_ERR_CORRUPT;
	case SF_ERR_SYSTEM:
		return errno ? -errno : -EIO;
	default:
		return MEDIA_ERR_FORMAT;
	}
}

static int sndfile_open(void **out, int fd, struct media_info *info)
{
	struct sndfile_state *st = calloc(1, sizeof(*st));
	struct stat file_stat;
	int err;

	*out = NULL;
	if (!st) {
		err = -ENOMEM;
		goto fail;
	}
	if (fstat(fd, &file_stat) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		err = -errno;
		goto fail;
	}
	st->fd = fd;
	st->file_size = (int64_t)file_stat.st_size;
	errno = 0;
	/* libsndfile owns the fd from here, and closes it if it fails. */
	st->file = sf_open_fd(fd, SFM_READ, &st->sfinfo, SF_TRUE);
	fd = -1;
	if (!st->file) {
		err = map_sf_error(sf_error(NULL));
		goto fail;
	}
	if (st->sfinfo.channels < 1 || st->sfinfo.samplerate < 1 || st->sfinfo.frames < 0) {
		err = MEDIA_ERR_FORMAT;
		goto fail;
	}
	/* Floating-point files keep their values: a measured peak above full
	 * scale is information. Integers map to [-1, 1). */
	sf_command(st->file, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
	st->frames = st->sfinfo.frames;
	memset(info, 0, sizeof(*info));
	info->frames = st->frames;
	info->rate = st->sfinfo.samplerate;
	info->channels = st->sfinfo.channels;
	if ((st->sfinfo.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC)
		strcpy(info->codec, "flac");
	else
		strcpy(info->codec, codec_name(st->sfinfo.format));
	*out = st;
	return 0;
fail:
	if (st && st->file)
		sf_close(st->file);
	free(st);
	if (fd >= 0)
		close(fd);
	return err;
}

static long sndfile_read(void *state, float *frames, long max_frames)
{
	struct sndfile_state *st = state;
	int64_t left = st->frames - st->position;
	sf_count_t n;

	if (left <= 0)
		return 0;
	if (max_frames > left)
		max_frames = (long)left;
	n = sf_readf_float(st->file, frames, max_frames);
	if (n <= 0) {
		/* The header promised more than there is: a decoder that stopped
		 * at the end of the file met a truncated file. */
		off_t at = lseek(st->fd, 0, SEEK_CUR);

		return at >= st->file_size ? MEDIA_ERR_TRUNCATED : MEDIA_ERR_CORRUPT;
	}
	st->position += n;
	return (long)n;
}

/* libsndfile 1.2.0 lands a few hundred frames off seeking into an Ogg
 * Vorbis stream's last page (it counts back from the page's granule
 * position, which the encoder's end trim made smaller than what the page's
 * packets decode to; 240 frames in the fixtures). So a Vorbis seek goes this
 * many seconds before its target, where it is exact, and decodes on to it.
 * A file whose last page is longer still is refused at import, which reads
 * it after a seek 1024 frames before its end (media_analyse). */
#define VORBIS_SEEK_BACK_S 10
#define VORBIS_SKIP_SAMPLES 4096

/* Reads and drops `frames` frames. */
static int skip_frames(struct sndfile_state *st, int64_t frames)
{
	float scratch[VORBIS_SKIP_SAMPLES];
	sf_count_t step = VORBIS_SKIP_SAMPLES / st->sfinfo.channels;

	while (frames > 0) {
		sf_count_t n = sf_readf_float(st->file, scratch, frames < step ? frames : step);

		if (n <= 0)
			return MEDIA_ERR_CORRUPT;
		frames -= n;
	}
	return 0;
}

static int sndfile_seek(void *state, int64_t frame)
{
	struct sndfile_state *st = state;
	int64_t landing = frame;

	if ((st->sfinfo.format & SF_FORMAT_SUBMASK) == SF_FORMAT_VORBIS) {
		landing = frame - (int64_t)VORBIS_SEEK_BACK_S * st->sfinfo.samplerate;
		if (landing < 0)
			landing = 0;
		/* and it lands in the wrong place seeking forward from the
		 * middle; from the start it is exact */
		if (st->position > 0 && sf_seek(st->file, 0, SEEK_SET) != 0)
			return MEDIA_ERR_CORRUPT;
	}
	if (sf_seek(st->file, landing, SEEK_SET) != landing)
		return MEDIA_ERR_CORRUPT;
	if (skip_frames(st, frame - landing) < 0)
		return MEDIA_ERR_CORRUPT;
	st->position = frame;
	return 0;
}

static void sndfile_close(void *state)
{
	struct sndfile_state *st = state;

	sf_close(st->file);
	free(st);
}

static void sndfile_title(void *state, char *title, size_t size)
{
	struct sndfile_state *st = state;
	const char *s = sf_get_string(st->file, SF_STR_TITLE);

	if (s)
		media_copy_text(title, size, s, strlen(s));
}

static uint32_t le32(const unsigned char *b)
{
	return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
	       ((uint32_t)b[3] << 24);
}

static uint32_t be32(const unsigned char *b)
{
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) |
	       (uint32_t)b[3];
}

/*
 * libsndfile plays a WAV or AIFF whose sound data ends early as if it were
 * shorter. For import that is a truncated file: compare the size the header
 * gives the sound data chunk with the bytes that are there. Sizes written by
 * a recorder that never came back to fill them (0 or 0xFFFFFFFF) are not
 * judged; nor is RF64, whose sizes live elsewhere.
 */
static int sndfile_check(int fd, int64_t file_size)
{
	unsigned char head[12], chunk[8];
	int big_endian, aiff;
	int64_t offset = 12;
	long n = media_pread_full(fd, head, sizeof(head), 0);

	if (n < 0)
		return (int)n;
	if (n < 12)
		return 0;
	aiff = memcmp(head, "FORM", 4) == 0;
	if (!aiff && memcmp(head, "RIFF", 4) != 0 && memcmp(head, "RIFX", 4) != 0)
		return 0;
	big_endian = aiff || memcmp(head, "RIFX", 4) == 0;
	for (;;) {
		uint32_t size;

		n = media_pread_full(fd, chunk, sizeof(chunk), offset);
		if (n < 0)
			return (int)n;
		if (n < 8)
			return n == 0 ? 0 : MEDIA_ERR_TRUNCATED;
		size = big_endian ? be32(chunk + 4) : le32(chunk + 4);
		if (memcmp(chunk, aiff ? "SSND" : "data", 4) == 0) {
			if (size == 0 || size == 0xffffffffu)
				return 0;
			return offset + 8 + (int64_t)size > file_size ? MEDIA_ERR_TRUNCATED : 0;
		}
		offset += 8 + (int64_t)size + (size & 1);
		if (offset > file_size)
			return MEDIA_ERR_TRUNCATED;
	}
}

const struct decoder_ops media_sndfile_ops = {
	.name = "sndfile",
	.open = sndfile_open,
	.read = sndfile_read,
	.seek = sndfile_seek,
	.close = sndfile_close,
	.title = sndfile_title,
	.check = sndfile_check,
};
