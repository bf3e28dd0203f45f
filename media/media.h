/*
 * media — the station's audio library: decoding, conversion for playout,
 * import analysis (duration, loudness, peak, silence, content hash) and the
 * files stored under their hash.
 *
 * media/ knows nothing of time or of the timetable. Every function returns 0
 * (or a count) on success and a negative error on failure: -errno for system
 * errors, MEDIA_ERR_* for media errors. media_strerror() turns either into a
 * sentence for the operator. Nothing here prints or exits.
 *
 * Threads: a decoder or stream handle belongs to one thread at a time; the
 * functions keep no global state and may be used from several threads on
 * different handles.
 */
#ifndef LOAXA_MEDIA_H
#define LOAXA_MEDIA_H

#include <stddef.h>
#include <stdint.h>

enum media_error {
	MEDIA_ERR_EMPTY = -10000, /* the file has no bytes */
	MEDIA_ERR_FORMAT,         /* not an audio file loaxa can read */
	MEDIA_ERR_CODEC,          /* known container, unsupported codec */
	MEDIA_ERR_TRUNCATED,      /* the file ends before its header says */
	MEDIA_ERR_NO_AUDIO,       /* the file decodes to no audio frames */
	MEDIA_ERR_CORRUPT,        /* the decoder failed in the middle */
	MEDIA_ERR_FORMAT_CHANGE,  /* the stream changed rate or channels midway */
	MEDIA_ERR_CHANGED,        /* the file changed while it was being stored */
	MEDIA_ERR_UNSEEKABLE,     /* decodes whole from the start, but not when
				     opened part-way in (resume, rejoin) */
};

/* A sentence for any error this module returns (-errno or MEDIA_ERR_*). */
const char *media_strerror(int err);

struct media_info {
	int64_t frames;   /* exact frames the decoder produces (after gapless trim) */
	int rate;         /* source sample rate, Hz */
	int channels;     /* source channel count */
	char codec[24];   /* "pcm_s16", "pcm_f32", "flac", "vorbis", "opus", "mp3" ... */
};

/* Streaming decoder, bounded memory. Frames are interleaved float at the
 * source rate and channel count, nominally in [-1, 1] (floating-point and
 * lossy sources may go a little beyond; the stream below clamps).
 * The format is chosen by the file's content, never its name: WAV (PCM
 * 8/16/24/32-bit, float), AIFF, FLAC, Ogg Vorbis, Ogg Opus (libsndfile);
 * MPEG-1/2/2.5 audio, layer III and also I/II (libmpg123, gapless: with a
 * LAME/Info tag info.frames is the encoder's input length exactly).
 * open: MEDIA_ERR_EMPTY, MEDIA_ERR_FORMAT, MEDIA_ERR_CODEC, -EISDIR, -EINVAL
 * (not a regular file), -errno. *out is NULL on failure. */
struct media_decoder;
int media_decoder_open(struct media_decoder **out, const char *path,
		       struct media_info *info);
/* Returns frames read (> 0), 0 at the end, or a negative error: never more
 * than info.frames in all; MEDIA_ERR_TRUNCATED if the file ends before
 * that, MEDIA_ERR_FORMAT_CHANGE if an MP3 changes rate or channels. */
long media_decoder_read(struct media_decoder *dec, float *frames, long max_frames);
/* Position the next read at source frame `frame` (0 ≤ frame ≤ info.frames,
 * else -EINVAL). Sample-exact for PCM, FLAC, Vorbis and Opus; for MP3 the
 * samples match a straight read to within float rounding. */
int media_decoder_seek(struct media_decoder *dec, int64_t frame);
void media_decoder_close(struct media_decoder *dec);

/* Playout stream: a decoder whose output is downmixed to mono, resampled
 * (libsoxr, high quality) to out_rate, multiplied by the gain and copied to
 * every one of out_channels; samples are kept within [-1, 1].
 * start_frame is a position in output frames (to resume or rejoin); the
 * source is sought to the nearest source frame (within half a source frame).
 * The stream lasts exactly media_stream_length() frames: the resampler's
 * tail is trimmed or padded with silence, and a source that ends early is
 * padded too. Buffers are made at open; read does not allocate (libsoxr and
 * libmpg123 may still grow their own buffers on their first calls).
 * open: -EINVAL for a rate outside 1..768000, channels outside 1..64, a
 * negative start or a non-finite gain; else as media_decoder_open. */
struct media_stream;
int media_stream_open(struct media_stream **out, const char *path, int out_rate,
		      int out_channels, double gain_db, int64_t start_frame);
/* Returns output frames written to `frames` (> 0), 0 at the end, or < 0.
 * A decoder error met after some frames were written is returned by the
 * next call. */
long media_stream_read(struct media_stream *stream, float *frames, long max_frames);
/* Total length in output frames (from the start of the item, not start_frame). */
int64_t media_stream_length(const struct media_stream *stream);
void media_stream_close(struct media_stream *stream);

/* Output frames an item of `source_frames` at `source_rate` lasts at out_rate:
 * round(source_frames * out_rate / source_rate), halves up, exact in
 * integers; 0 for non-positive arguments. */
int64_t media_frames_at_rate(int64_t source_frames, int source_rate, int out_rate);

/* What import learns by reading a file once. */
struct media_analysis {
	struct media_info info;
	char sha256_hex[65];          /* content hash of the file's bytes */
	/* Loudness as aired: measured on the mono downmix that media_stream
	 * plays, counted on both loudspeaker channels (so a mono file reads
	 * as dual mono, a stereo file with equal channels as itself). */
	double integrated_lufs;       /* EBU R128 integrated loudness; -HUGE_VAL if
					 nothing passes the gate (silence, < 0.4 s) */
	double loudness_range_lu;
	double true_peak_dbtp;        /* max over the file's channels; -HUGE_VAL if
					 digital silence */
	double sample_peak_dbfs;      /* likewise */
	/* Silence: every channel at or below -60 dBFS. */
	int64_t leading_silence_frames;
	int64_t trailing_silence_frames;
	int silent;                   /* 1 if the whole file is silence (then both
					 counts above equal info.frames) */
	/* The longest run of silent frames anywhere (the leading or trailing
	 * silence, a pause, or the whole file), and its first frame; 0 and 0
	 * if no frame is silent. */
	int64_t longest_silence_frames;
	int64_t longest_silence_start_frame;
	char title[512];              /* from tags, UTF-8; empty if none */
	char extension[8];            /* by content: "wav", "mp3", "flac", "ogg",
					 "opus" (also "aiff", "mp2", "mp1") */
	int64_t unseekable_frame;     /* after MEDIA_ERR_UNSEEKABLE, the source
					 frame it could not be opened at; else -1 */
};

/* Called now and then with the fraction of the file read, from the caller's
 * thread. May be NULL. */
typedef void (*media_progress_fn)(void *user, double fraction);

/*
 * Reads the file once (the hash is taken as the decoding goes) and refuses
 * what should not go on air:
 *   MEDIA_ERR_EMPTY      0 bytes
 *   MEDIA_ERR_FORMAT     not audio (random bytes, text, an image, whatever
 *                        the name says), or an MP3 whose first frame is
 *                        beyond libmpg123's 1 KiB resync window
 *   MEDIA_ERR_CODEC      a known container with a codec loaxa cannot play
 *   MEDIA_ERR_TRUNCATED  WAV/AIFF sound data shorter than its header says;
 *                        FLAC/Ogg ending before the length in its header;
 *                        MP3 whose last frame runs past the end of the
 *                        file, or with fewer frames than its Xing/Info/VBRI
 *                        header counts. (An MP3 without such a header cut
 *                        exactly between frames cannot be told from a
 *                        whole one and is accepted.)
 *   MEDIA_ERR_NO_AUDIO   no audio frames (a WAV of 0 frames, an ID3 tag only)
 *   MEDIA_ERR_CORRUPT    the decoder failed midway; bytes other than frames,
 *                        tags or trailing zero padding between MP3 frames
 *   MEDIA_ERR_FORMAT_CHANGE  MP3 frames change rate or channels midway
 *   MEDIA_ERR_UNSEEKABLE decodes whole from the start, but opened again the
 *                        way playout resumes or rejoins an item part-way in
 *                        (media_stream_open's seek) at 1/4, 1/2, 3/4 of it
 *                        or 1024 frames before its end and read from there
 *                        to the end, the seek fails, the decoder fails or
 *                        ends off its count, or the first 1024 frames differ
 *                        from the whole decode's (beyond float rounding for
 *                        MPEG audio; exactly for the rest); unseekable_frame
 *                        says where
 *   -EISDIR, -EINVAL (not a regular file), -errno
 * So it decodes the file 2.5 times in all (for MP3 each open also rescans
 * the frame headers, as playout's does). On failure *out holds no hash. progress gets fractions in (0, 1), about
 * every 1 %, then 1.0 on success.
 */
int media_analyse(const char *path, struct media_analysis *out,
		  media_progress_fn progress, void *user);

/* Gain (dB) that brings the item to target_lufs without its true peak
 * exceeding max_true_peak_dbtp, plus trim_db (clamped to ±14 dB):
 *   gain = target_lufs − integrated_lufs (0 if silent or not measurable)
 *          + clamp(trim_db, ±14)
 *   then lowered so that true_peak_dbtp + gain ≤ max_true_peak_dbtp
 *   (the trim too; no ceiling when the true peak is -HUGE_VAL). */
double media_playout_gain_db(const struct media_analysis *analysis,
			     double target_lufs, double max_true_peak_dbtp,
			     double trim_db);

/* Makes UTF-8 text one line fit for a title, in place: each control
 * character (U+0000 to U+001F, U+007F, U+0080 to U+009F: a newline or tab
 * from a file name, say) becomes a space, and spaces at either end are
 * dropped. Titles from tags, file names and --title all go through it, so
 * `loaxa media list` keeps one line per item. */
void media_clean_title(char *text);

/* Kept free on the library's filesystem after an import, for the database,
 * its as-run log and WAL (often on the same disk, a small SD card) and the
 * system's logs: a full disk must not stop the station writing them. */
#define MEDIA_LIBRARY_MARGIN_BYTES (64LL * 1024 * 1024)

/* Is there room in directory's filesystem for a file of file_bytes plus
 * MEDIA_LIBRARY_MARGIN_BYTES (statvfs, counting only the space an
 * unprivileged writer may use)? 0 if so, -ENOSPC if not, -errno if the
 * filesystem cannot be asked. *needed_bytes and *free_bytes (each may be
 * NULL) receive the figures compared, for a message. */
int media_library_room(const char *directory, int64_t file_bytes, int64_t *needed_bytes,
		       int64_t *free_bytes);

/* Copies src_path into library_dir as <ab>/<sha256>.<extension> (temporary
 * name, fsync, rename, fsync of the directory). Already there: returns 0 and
 * leaves it. Without room for it (media_library_room): -ENOSPC, and nothing
 * is written but library_dir itself. stored_path receives the path relative to library_dir.
 * Creates library_dir and <ab>/ as needed (mode 0755); files get 0644.
 * The copy is hashed on the way: if it no longer matches the analysis,
 * MEDIA_ERR_CHANGED and nothing is kept. -EINVAL if the analysis has no
 * valid hash or extension, -ENAMETOOLONG if stored_path is too small,
 * -ENOTDIR, -errno. */
int media_library_store(const char *library_dir, const char *src_path,
			const struct media_analysis *analysis,
			char *stored_path, size_t stored_path_size);

#endif
