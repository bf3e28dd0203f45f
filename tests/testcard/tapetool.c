/*
 * tapetool — measures a tape recorded by the loaxatest card (a WAV file plus
 * TAPE.info) for the tests.
 *
 *   tapetool info TAPE
 *   tapetool segments TAPE [--threshold-db DB] [--min-gap-ms MS] [--json]
 *   tapetool rms TAPE FROM_FRAME TO_FRAME
 *
 * Exit status: 0 success, 1 unreadable tape or TAPE.info, 2 usage error; every
 * failure prints one line on stderr.
 *
 * Design. Single-threaded; the tape is read with pread() in blocks, so memory
 * stays bounded however long the tape is. The WAV reader parses the header
 * itself and trusts the file length when the data chunk is the last one (the
 * card patches sizes only periodically, and a killed process leaves them
 * stale). Full scale is 1.0: S16 / 32768, S32 / 2^31, float as is; so a sine
 * of amplitude 1.0 has rms_dbfs -3.01. RMS is taken over all samples of all
 * channels.
 *
 * Segments. (1) Amplitude: a segment starts at the first frame with any
 * |sample| above the threshold and ends after the last such frame before at
 * least min-gap of frames below it. (2) Frequency: inside each segment the
 * loudest channel is cut into 20 ms windows, each window's frequency is taken
 * from its positive-going zero crossings (with hysteresis and linear
 * interpolation); a change of more than 5 % between consecutive windows (or
 * across one window that straddles the change) splits the segment. The split
 * point is refined to the sample: a sinusoid (frequency, amplitude, phase,
 * least squares) is fitted on each side, on windows free of any change, and
 * the cut that minimises the squared error of the two-piece model within the
 * windows that may hold the change is chosen. Each piece is trimmed to its
 * loud frames; its freq_hz comes from all its zero crossings. Measured: cuts
 * exact to the sample for tones of 40 ms and longer; shorter pieces may be
 * merged or cut inaccurately.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_UNREADABLE 1
#define EXIT_USAGE 2
#define NS_PER_SECOND INT64_C(1000000000)
#define BLOCK_FRAMES 16384
#define WINDOW_MS 20
#define SPLIT_RELATIVE_CHANGE 0.05

enum sample_encoding { ENCODING_S16, ENCODING_S32, ENCODING_FLOAT };

struct tape {
	const char *path;
	int fd;
	enum sample_encoding encoding;
	const char *format_name;
	unsigned int channels;
	unsigned int rate;
	unsigned int bytes_per_sample;
	unsigned int frame_bytes;
	int64_t data_offset;
	int64_t frames;
	/* From TAPE.info. */
	int64_t origin_realtime_ns;
	uint64_t xruns;
};

/* One amplitude segment or piece of it, [start_frame, end_frame). */
struct span {
	int64_t start_frame;
	int64_t end_frame;
};

/* Zero crossings found in one analysis window. */
struct window_crossings {
	unsigned int count;
	double first_frame;
	double last_frame;
};

/* Streaming positive-going zero-crossing detector with hysteresis. */
struct crossing_detector {
	double hysteresis;
	bool armed;
	bool has_previous;
	double previous;
};

static void usage_error(const char *message)
{
	fprintf(stderr, "tapetool: %s (usage: tapetool info TAPE | tapetool segments TAPE "
		"[--threshold-db DB] [--min-gap-ms MS] [--json] | tapetool rms TAPE FROM_FRAME "
		"TO_FRAME)\n", message);
	exit(EXIT_USAGE);
}

static void unreadable(const struct tape *tape, const char *what)
{
	fprintf(stderr, "tapetool: %s: %s\n", tape->path, what);
	exit(EXIT_UNREADABLE);
}

static uint32_t get_u32_le(const unsigned char *bytes)
{
	return (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
	       (uint32_t)bytes[3] << 24;
}

static unsigned int get_u16_le(const unsigned char *bytes)
{
	return (unsigned int)bytes[0] | (unsigned int)bytes[1] << 8;
}

static bool read_exactly(int fd, void *buffer, size_t length, int64_t offset)
{
	unsigned char *bytes = buffer;

	while (length > 0) {
		ssize_t got = pread(fd, bytes, length, (off_t)offset);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return false;
		bytes += got;
		length -= (size_t)got;
		offset += got;
	}
	return true;
}

/*
 * True if a known RIFF chunk that fits in the file starts at position: then the
 * data chunk's size is right. Otherwise the bytes there are audio written after
 * the size was last patched (a tape of a killed process).
 */
static bool chunk_follows(int fd, int64_t position, int64_t file_size)
{
	static const char *const known_ids[] = {
		"LIST", "id3 ", "ID3 ", "fact", "cue ", "smpl", "bext", "JUNK", "junk", "PAD ",
		"iXML", "acid", "inst", "PEAK", "axml", "cart", "umid", "plst",
	};
	unsigned char chunk[8];

	if (position + 8 > file_size || !read_exactly(fd, chunk, sizeof(chunk), position))
		return false;
	if (position + 8 + (int64_t)get_u32_le(chunk + 4) > file_size)
		return false;
	for (size_t i = 0; i < sizeof(known_ids) / sizeof(known_ids[0]); i++)
		if (memcmp(chunk, known_ids[i], 4) == 0)
			return true;
	return false;
}

static void tape_parse_format(struct tape *tape, const unsigned char *fmt, uint32_t size)
{
	unsigned int tag, bits;

	if (size < 16)
		unreadable(tape, "fmt chunk too short");
	tag = get_u16_le(fmt);
	tape->channels = get_u16_le(fmt + 2);
	tape->rate = get_u32_le(fmt + 4);
	bits = get_u16_le(fmt + 14);
	if (tag == 0xfffe && size >= 26)	/* WAVE_FORMAT_EXTENSIBLE: subformat GUID */
		tag = get_u16_le(fmt + 24);
	if (tag == 1 && bits == 16) {
		tape->encoding = ENCODING_S16;
		tape->format_name = "S16_LE";
	} else if (tag == 1 && bits == 32) {
		tape->encoding = ENCODING_S32;
		tape->format_name = "S32_LE";
	} else if (tag == 3 && bits == 32) {
		tape->encoding = ENCODING_FLOAT;
		tape->format_name = "FLOAT_LE";
	} else {
		unreadable(tape, "unsupported sample format (need 16/32-bit PCM or 32-bit float)");
	}
	if (tape->channels == 0 || tape->rate == 0)
		unreadable(tape, "fmt chunk has no channels or rate");
	tape->bytes_per_sample = bits / 8;
	tape->frame_bytes = tape->bytes_per_sample * tape->channels;
}

static void tape_read_info(struct tape *tape)
{
	char *info_path;
	char line[256];
	unsigned int found = 0;
	FILE *file;

	if (asprintf(&info_path, "%s.info", tape->path) < 0)
		unreadable(tape, "out of memory");
	file = fopen(info_path, "re");
	if (!file) {
		fprintf(stderr, "tapetool: cannot read %s: %s\n", info_path, strerror(errno));
		exit(EXIT_UNREADABLE);
	}
	while (fgets(line, sizeof(line), file)) {
		char *value = strchr(line, '=');

		if (!value)
			continue;
		*value++ = '\0';
		value[strcspn(value, "\n")] = '\0';
		if (strcmp(line, "origin_realtime_ns") == 0) {
			tape->origin_realtime_ns = strtoll(value, NULL, 10);
			found |= 1;
		} else if (strcmp(line, "xruns") == 0) {
			tape->xruns = strtoull(value, NULL, 10);
		} else if (strcmp(line, "rate") == 0 && strtoul(value, NULL, 10) != tape->rate) {
			fprintf(stderr, "tapetool: %s and %s disagree on the rate\n", tape->path,
				info_path);
			exit(EXIT_UNREADABLE);
		}
	}
	fclose(file);
	if (!(found & 1)) {
		fprintf(stderr, "tapetool: %s has no origin_realtime_ns\n", info_path);
		exit(EXIT_UNREADABLE);
	}
	free(info_path);
}

static void tape_open(struct tape *tape, const char *path)
{
	unsigned char header[12], chunk[8];
	struct stat status;
	int64_t position = 12;
	bool have_format = false;

	memset(tape, 0, sizeof(*tape));
	tape->path = path;
	tape->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (tape->fd < 0 || fstat(tape->fd, &status) < 0)
		unreadable(tape, strerror(errno));
	if (!read_exactly(tape->fd, header, sizeof(header), 0) || memcmp(header, "RIFF", 4) != 0 ||
	    memcmp(header + 8, "WAVE", 4) != 0)
		unreadable(tape, "not a RIFF/WAVE file");
	for (;;) {
		uint32_t size;

		if (!read_exactly(tape->fd, chunk, sizeof(chunk), position))
			unreadable(tape, "no data chunk");
		size = get_u32_le(chunk + 4);
		if (memcmp(chunk, "fmt ", 4) == 0) {
			unsigned char format[64] = { 0 };
			uint32_t wanted = size < sizeof(format) ? size : sizeof(format);

			if (!read_exactly(tape->fd, format, wanted, position + 8))
				unreadable(tape, "truncated fmt chunk");
			tape_parse_format(tape, format, size);
			have_format = true;
		} else if (memcmp(chunk, "data", 4) == 0) {
			int64_t remaining = status.st_size - (position + 8);
			int64_t data_bytes = size;

			if (!have_format)
				unreadable(tape, "data chunk before fmt chunk");
			tape->data_offset = position + 8;
			/* Trust the file length unless another chunk follows the data. */
			if (data_bytes == 0 || size == UINT32_MAX || data_bytes > remaining) {
				data_bytes = remaining;
			} else if (data_bytes < remaining &&
				   !chunk_follows(tape->fd, tape->data_offset + data_bytes + (data_bytes & 1),
						  status.st_size)) {
				data_bytes = remaining;
			}
			tape->frames = data_bytes > 0 ? data_bytes / tape->frame_bytes : 0;
			break;
		}
		position += 8 + (int64_t)size + (size & 1);
	}
	tape_read_info(tape);
}

/* Reads frames [first, first + count) as interleaved floats; past the end reads as silence. */
static void tape_read(const struct tape *tape, int64_t first, int64_t count, float *samples)
{
	static unsigned char *bytes;
	static size_t bytes_size;
	int64_t available = tape->frames - first;
	int64_t readable = count < available ? count : available;
	size_t sample_count;

	if (readable < 0)
		readable = 0;
	memset(samples + readable * tape->channels, 0,
	       (size_t)(count - readable) * tape->channels * sizeof(float));
	if (readable == 0)
		return;
	if ((size_t)readable * tape->frame_bytes > bytes_size) {
		bytes_size = (size_t)readable * tape->frame_bytes;
		free(bytes);
		bytes = malloc(bytes_size);
		if (!bytes)
			unreadable(tape, "out of memory");
	}
	if (!read_exactly(tape->fd, bytes, (size_t)readable * tape->frame_bytes,
			  tape->data_offset + first * tape->frame_bytes))
		unreadable(tape, "read error");
	sample_count = (size_t)readable * tape->channels;
	for (size_t i = 0; i < sample_count; i++) {
		const unsigned char *sample = bytes + i * tape->bytes_per_sample;

		switch (tape->encoding) {
		case ENCODING_S16:
			samples[i] = (float)((int16_t)get_u16_le(sample) / 32768.0);
			break;
		case ENCODING_S32:
			samples[i] = (float)((int32_t)get_u32_le(sample) / 2147483648.0);
			break;
		case ENCODING_FLOAT: {
			uint32_t word = get_u32_le(sample);
			float value;

			memcpy(&value, &word, sizeof(value));
			samples[i] = value;
			break;
		}
		}
	}
}

/* Reads one channel of frames [first, first + count) into a new array. */
static float *tape_read_channel(const struct tape *tape, unsigned int channel, int64_t first,
				int64_t count)
{
	float *result = malloc((size_t)(count > 0 ? count : 1) * sizeof(float));
	float *block = malloc((size_t)BLOCK_FRAMES * tape->channels * sizeof(float));

	if (!result || !block)
		unreadable(tape, "out of memory");
	for (int64_t done = 0; done < count; done += BLOCK_FRAMES) {
		int64_t chunk = count - done < BLOCK_FRAMES ? count - done : BLOCK_FRAMES;

		tape_read(tape, first + done, chunk, block);
		for (int64_t i = 0; i < chunk; i++)
			result[done + i] = block[i * tape->channels + channel];
	}
	free(block);
	return result;
}

static double decibels(double linear)
{
	return linear > 0 ? 20.0 * log10(linear) : -INFINITY;
}

static int64_t realtime_of_frame(const struct tape *tape, int64_t frame)
{
	return tape->origin_realtime_ns + (frame / tape->rate) * NS_PER_SECOND +
	       (frame % tape->rate) * NS_PER_SECOND / tape->rate;
}

/* Feeds one sample at frame; returns true and sets *crossing_frame on a crossing. */
static bool crossing_detector_feed(struct crossing_detector *detector, double sample, int64_t frame,
				   double *crossing_frame)
{
	bool crossed = false;

	if (detector->has_previous && detector->armed && detector->previous < 0 && sample >= 0) {
		*crossing_frame = (double)(frame - 1) +
				  -detector->previous / (sample - detector->previous);
		detector->armed = false;
		crossed = true;
	}
	if (sample < -detector->hysteresis)
		detector->armed = true;
	detector->previous = sample;
	detector->has_previous = true;
	return crossed;
}

static double relative_difference(double a, double b)
{
	return fabs(a - b) / (a < b ? a : b);
}

/* Statistics of a piece: peak and rms over all channels, frequency of one channel. */
struct piece_measure {
	double peak;
	double sum_of_squares;
	int64_t samples;
	unsigned int crossings;
	double first_crossing;
	double last_crossing;
};

static void measure_piece(const struct tape *tape, struct span piece, unsigned int channel,
			  double hysteresis, struct piece_measure *measure)
{
	float *block = malloc((size_t)BLOCK_FRAMES * tape->channels * sizeof(float));
	struct crossing_detector detector = { .hysteresis = hysteresis };

	memset(measure, 0, sizeof(*measure));
	if (!block)
		unreadable(tape, "out of memory");
	for (int64_t frame = piece.start_frame; frame < piece.end_frame; frame += BLOCK_FRAMES) {
		int64_t chunk = piece.end_frame - frame < BLOCK_FRAMES ?
				piece.end_frame - frame : BLOCK_FRAMES;

		tape_read(tape, frame, chunk, block);
		for (int64_t i = 0; i < chunk; i++) {
			double crossing;

			for (unsigned int c = 0; c < tape->channels; c++) {
				double sample = block[i * tape->channels + c];

				measure->sum_of_squares += sample * sample;
				if (fabs(sample) > measure->peak)
					measure->peak = fabs(sample);
			}
			if (crossing_detector_feed(&detector, block[i * tape->channels + channel],
						   frame + i, &crossing)) {
				if (measure->crossings == 0)
					measure->first_crossing = crossing;
				measure->last_crossing = crossing;
				measure->crossings++;
			}
		}
	}
	measure->samples = (piece.end_frame - piece.start_frame) * tape->channels;
	free(block);
}

static double crossing_frequency(unsigned int count, double first, double last, unsigned int rate)
{
	if (count < 2 || last <= first)
		return 0.0;
	return (count - 1) * (double)rate / (last - first);
}

/*
 * Least-squares fit of a*cos(w t) + b*sin(w t), t counted from samples[0], at
 * frequency_hz; returns the residual energy and sets a and b.
 */
static double fit_sinusoid(const float *samples, int64_t count, double frequency_hz,
			   unsigned int rate, double *a, double *b)
{
	double step = 2.0 * M_PI * frequency_hz / rate;
	double step_cos = cos(step), step_sin = sin(step);
	double phase_cos = 1.0, phase_sin = 0.0;
	double cc = 0, ss = 0, cs = 0, xc = 0, xs = 0, xx = 0, determinant;

	for (int64_t t = 0; t < count; t++) {
		double x = samples[t];
		double next_cos;

		cc += phase_cos * phase_cos;
		ss += phase_sin * phase_sin;
		cs += phase_cos * phase_sin;
		xc += x * phase_cos;
		xs += x * phase_sin;
		xx += x * x;
		next_cos = phase_cos * step_cos - phase_sin * step_sin;
		phase_sin = phase_sin * step_cos + phase_cos * step_sin;
		phase_cos = next_cos;
		if ((t & 1023) == 1023) {	/* keep the phasor on the unit circle */
			double norm = hypot(phase_cos, phase_sin);

			phase_cos /= norm;
			phase_sin /= norm;
		}
	}
	determinant = cc * ss - cs * cs;
	if (fabs(determinant) < 1e-12) {
		*a = *b = 0;
		return xx;
	}
	*a = (xc * ss - xs * cs) / determinant;
	*b = (xs * cc - xc * cs) / determinant;
	return xx - (*a * xc + *b * xs);
}

/* A sinusoid model anchored at reference_frame. */
struct sinusoid {
	double frequency_hz;
	double a;
	double b;
	int64_t reference_frame;
};

/* Fits frequency (golden-section search around guess_hz), amplitude and phase. */
static struct sinusoid fit_tone(const float *samples, int64_t count, int64_t first_frame,
				double guess_hz, unsigned int rate)
{
	const double golden = (sqrt(5.0) - 1.0) / 2.0;
	double half_width = 0.6 * rate / (double)count;
	double low = guess_hz - half_width, high = guess_hz + half_width;
	double x1, x2, e1, e2, a, b;
	struct sinusoid model = { .reference_frame = first_frame };

	if (low < 1.0)
		low = 1.0;
	x1 = high - golden * (high - low);
	x2 = low + golden * (high - low);
	e1 = fit_sinusoid(samples, count, x1, rate, &a, &b);
	e2 = fit_sinusoid(samples, count, x2, rate, &a, &b);
	for (int iteration = 0; iteration < 48; iteration++) {
		if (e1 < e2) {
			high = x2;
			x2 = x1;
			e2 = e1;
			x1 = high - golden * (high - low);
			e1 = fit_sinusoid(samples, count, x1, rate, &a, &b);
		} else {
			low = x1;
			x1 = x2;
			e1 = e2;
			x2 = low + golden * (high - low);
			e2 = fit_sinusoid(samples, count, x2, rate, &a, &b);
		}
	}
	model.frequency_hz = (low + high) / 2;
	fit_sinusoid(samples, count, model.frequency_hz, rate, &model.a, &model.b);
	return model;
}

static double sinusoid_at(const struct sinusoid *model, int64_t frame, unsigned int rate)
{
	double phase = 2.0 * M_PI * model->frequency_hz * (double)(frame - model->reference_frame) / rate;

	return model->a * cos(phase) + model->b * sin(phase);
}

static double mean_window_frequency(const double *window_hz, int64_t first, int64_t last)
{
	double sum = 0;
	int count = 0;

	for (int64_t k = first; k <= last; k++) {
		if (window_hz[k] > 0) {
			sum += window_hz[k];
			count++;
		}
	}
	return count ? sum / count : 0.0;
}

/*
 * Finds the frame in [search.start_frame, search.end_frame) where the tone of
 * the left fit region gives way to the tone of the right one.
 */
static int64_t refine_split(const struct tape *tape, unsigned int channel, struct span search,
			    struct span left_fit, double left_hz, struct span right_fit,
			    double right_hz)
{
	int64_t first = left_fit.start_frame, last = right_fit.end_frame;
	int64_t length = search.end_frame - search.start_frame, best_frame = search.start_frame;
	double *right_error_after = malloc((size_t)(length + 1) * sizeof(double));
	double left_error_before = 0, best_error;
	struct sinusoid left, right;
	float *samples;

	if (right_fit.start_frame < first)
		first = right_fit.start_frame;
	if (search.start_frame < first)
		first = search.start_frame;
	if (left_fit.end_frame > last)
		last = left_fit.end_frame;
	if (search.end_frame > last)
		last = search.end_frame;
	samples = tape_read_channel(tape, channel, first, last - first);

	left = fit_tone(samples + (left_fit.start_frame - first),
			left_fit.end_frame - left_fit.start_frame, left_fit.start_frame, left_hz,
			tape->rate);
	right = fit_tone(samples + (right_fit.start_frame - first),
			 right_fit.end_frame - right_fit.start_frame, right_fit.start_frame, right_hz,
			 tape->rate);
	if (!right_error_after)
		unreadable(tape, "out of memory");
	/* right_error_after[i]: error of the right model over [start + i, end). */
	right_error_after[length] = 0;
	for (int64_t i = length - 1; i >= 0; i--) {
		int64_t frame = search.start_frame + i;
		double difference = samples[frame - first] - sinusoid_at(&right, frame, tape->rate);

		right_error_after[i] = right_error_after[i + 1] + difference * difference;
	}
	best_error = right_error_after[0];
	for (int64_t i = 1; i <= length; i++) {
		int64_t frame = search.start_frame + i - 1;
		double difference = samples[frame - first] - sinusoid_at(&left, frame, tape->rate);
		double error;

		left_error_before += difference * difference;
		error = left_error_before + right_error_after[i];
		if (error < best_error) {
			best_error = error;
			best_frame = search.start_frame + i;
		}
	}
	free(right_error_after);
	free(samples);
	return best_frame;
}

static bool frame_is_loud(const float *frame, unsigned int channels, double threshold)
{
	for (unsigned int c = 0; c < channels; c++)
		if (fabs(frame[c]) > threshold)
			return true;
	return false;
}

/* Shrinks a piece to its first and last loud frames; false if none is loud. */
static bool trim_piece(const struct tape *tape, struct span *piece, double threshold)
{
	float *block = malloc((size_t)BLOCK_FRAMES * tape->channels * sizeof(float));
	int64_t first_loud = -1, last_loud = -1;

	if (!block)
		unreadable(tape, "out of memory");
	for (int64_t frame = piece->start_frame; frame < piece->end_frame && first_loud < 0;
	     frame += BLOCK_FRAMES) {
		int64_t chunk = piece->end_frame - frame < BLOCK_FRAMES ?
				piece->end_frame - frame : BLOCK_FRAMES;

		tape_read(tape, frame, chunk, block);
		for (int64_t i = 0; i < chunk; i++) {
			if (frame_is_loud(block + i * tape->channels, tape->channels, threshold)) {
				first_loud = frame + i;
				break;
			}
		}
	}
	for (int64_t end = piece->end_frame; end > piece->start_frame && last_loud < 0;
	     end -= BLOCK_FRAMES) {
		int64_t chunk = end - piece->start_frame < BLOCK_FRAMES ?
				end - piece->start_frame : BLOCK_FRAMES;

		tape_read(tape, end - chunk, chunk, block);
		for (int64_t i = chunk - 1; i >= 0; i--) {
			if (frame_is_loud(block + i * tape->channels, tape->channels, threshold)) {
				last_loud = end - chunk + i;
				break;
			}
		}
	}
	free(block);
	if (first_loud < 0 || last_loud < first_loud)
		return false;
	piece->start_frame = first_loud;
	piece->end_frame = last_loud + 1;
	return true;
}

struct segment_options {
	double threshold;	/* linear */
	int64_t min_gap_frames;
	bool json;
};

struct output_state {
	int index;
};

static void print_piece(const struct tape *tape, struct span piece, unsigned int channel,
			const struct segment_options *options, struct output_state *output)
{
	struct piece_measure measure;
	double frequency_hz, rms_dbfs, peak_dbfs, duration_ms;
	int64_t start_realtime_ns;

	measure_piece(tape, piece, channel, options->threshold / 2, &measure);
	frequency_hz = crossing_frequency(measure.crossings, measure.first_crossing,
					  measure.last_crossing, tape->rate);
	rms_dbfs = 10.0 * log10(measure.sum_of_squares / (double)measure.samples);
	peak_dbfs = decibels(measure.peak);
	duration_ms = (double)(piece.end_frame - piece.start_frame) * 1000.0 / tape->rate;
	start_realtime_ns = realtime_of_frame(tape, piece.start_frame);
	if (options->json) {
		printf("%s{\"index\":%d,\"start_frame\":%" PRId64 ",\"end_frame\":%" PRId64
		       ",\"start_realtime_ns\":%" PRId64 ",\"duration_ms\":%.3f,\"freq_hz\":%.2f"
		       ",\"rms_dbfs\":%.2f,\"peak_dbfs\":%.2f}",
		       output->index ? ",\n " : "", output->index, piece.start_frame,
		       piece.end_frame, start_realtime_ns, duration_ms, frequency_hz, rms_dbfs,
		       peak_dbfs);
	} else {
		printf("segment index=%d start_frame=%" PRId64 " end_frame=%" PRId64
		       " start_realtime_ns=%" PRId64 " duration_ms=%.3f freq_hz=%.2f"
		       " rms_dbfs=%.2f peak_dbfs=%.2f\n",
		       output->index, piece.start_frame, piece.end_frame, start_realtime_ns,
		       duration_ms, frequency_hz, rms_dbfs, peak_dbfs);
	}
	output->index++;
}

/* A frequency change somewhere in windows [first_window, last_window]. */
struct change {
	int64_t first_window;
	int64_t last_window;
};

static int64_t window_start(struct span segment, int64_t window_frames, int64_t window)
{
	return segment.start_frame + window * window_frames;
}

/* Splits one amplitude segment where its frequency changes, and prints the pieces. */
static void analyse_segment(const struct tape *tape, struct span segment, unsigned int channel,
			    const struct segment_options *options, struct output_state *output)
{
	int64_t window_frames = (int64_t)tape->rate * WINDOW_MS / 1000;
	int64_t length = segment.end_frame - segment.start_frame;
	int64_t window_count = length / window_frames + (length % window_frames >= window_frames / 2);
	struct window_crossings *windows = calloc((size_t)(window_count + 1), sizeof(*windows));
	double *window_hz = calloc((size_t)(window_count + 1), sizeof(double));
	bool *change_before = calloc((size_t)(window_count + 1), sizeof(bool));
	int64_t *cuts = malloc((size_t)(window_count + 2) * sizeof(int64_t));
	struct change *changes = malloc((size_t)(window_count + 1) * sizeof(*changes));
	int64_t cut_count = 0, change_count = 0;
	float *block = malloc((size_t)BLOCK_FRAMES * tape->channels * sizeof(float));
	struct crossing_detector detector = { .hysteresis = options->threshold / 2 };

	if (!windows || !window_hz || !change_before || !cuts || !changes || !block)
		unreadable(tape, "out of memory");

	/* Zero crossings per 20 ms window. */
	for (int64_t frame = segment.start_frame; frame < segment.end_frame; frame += BLOCK_FRAMES) {
		int64_t chunk = segment.end_frame - frame < BLOCK_FRAMES ?
				segment.end_frame - frame : BLOCK_FRAMES;

		tape_read(tape, frame, chunk, block);
		for (int64_t i = 0; i < chunk; i++) {
			double crossing;
			int64_t k;

			if (!crossing_detector_feed(&detector, block[i * tape->channels + channel],
						    frame + i, &crossing))
				continue;
			k = (int64_t)((crossing - segment.start_frame) / window_frames);
			if (k < 0 || k >= window_count)
				continue;
			if (windows[k].count == 0)
				windows[k].first_frame = crossing;
			windows[k].last_frame = crossing;
			windows[k].count++;
		}
	}
	free(block);
	for (int64_t k = 0; k < window_count; k++)
		window_hz[k] = windows[k].last_frame - windows[k].first_frame >= window_frames / 4.0 ?
			       crossing_frequency(windows[k].count, windows[k].first_frame,
						  windows[k].last_frame, tape->rate) : 0.0;

	/* change_before[k]: the frequency changes near the start of window k. */
	for (int64_t k = 1; k < window_count; k++)
		if (window_hz[k - 1] > 0 && window_hz[k] > 0 &&
		    relative_difference(window_hz[k - 1], window_hz[k]) > SPLIT_RELATIVE_CHANGE)
			change_before[k] = true;

	/* Changes, each as the windows that may hold it. */
	for (int64_t k = 1; k < window_count; k++) {
		struct change *change = &changes[change_count];

		if (change_before[k]) {
			change->first_window = k - 1;
			change->last_window = k;
			if (k + 1 < window_count && change_before[k + 1]) {
				/* Window k is a blend of both tones. */
				change->last_window = k + 1;
				k++;
			}
		} else if (k + 1 < window_count && window_hz[k - 1] > 0 && window_hz[k + 1] > 0 &&
			   !change_before[k + 1] &&
			   relative_difference(window_hz[k - 1], window_hz[k + 1]) >
			   SPLIT_RELATIVE_CHANGE) {
			/* A change inside window k hidden by its blended estimate. */
			change->first_window = k - 1;
			change->last_window = k + 1;
			k++;
		} else {
			continue;
		}
		change_count++;
	}

	/*
	 * Refine each change: fit each tone on up to two windows of its own
	 * between this change and the neighbouring ones (or, if there are none,
	 * on the half window at the edge of the search region).
	 */
	for (int64_t i = 0; i < change_count; i++) {
		const struct change *change = &changes[i];
		int64_t left_clean_first = i > 0 ? changes[i - 1].last_window + 1 : 0;
		int64_t right_clean_last = i + 1 < change_count ? changes[i + 1].first_window - 1 :
					   window_count - 1;
		int64_t previous_cut = cut_count > 0 ? cuts[cut_count - 1] : segment.start_frame;
		struct span search, left_fit, right_fit;
		double left_hz, right_hz;

		search.start_frame = window_start(segment, window_frames, change->first_window);
		search.end_frame = window_start(segment, window_frames, change->last_window + 1);
		if (search.start_frame <= previous_cut)
			search.start_frame = previous_cut + 1;
		if (search.end_frame > segment.end_frame)
			search.end_frame = segment.end_frame;
		if (search.end_frame <= search.start_frame)
			continue;
		if (left_clean_first < change->first_window) {
			int64_t first = change->first_window - 2 < left_clean_first ?
					left_clean_first : change->first_window - 2;

			left_fit.start_frame = window_start(segment, window_frames, first);
			left_fit.end_frame = search.start_frame;
			left_hz = mean_window_frequency(window_hz, first, change->first_window - 1);
		} else {
			left_fit.start_frame = search.start_frame;
			left_fit.end_frame = search.start_frame + window_frames / 2;
			left_hz = window_hz[change->first_window];
		}
		if (change->last_window < right_clean_last) {
			int64_t last = change->last_window + 2 > right_clean_last ?
				       right_clean_last : change->last_window + 2;

			right_fit.start_frame = search.end_frame;
			right_fit.end_frame = window_start(segment, window_frames, last + 1);
			if (right_fit.end_frame > segment.end_frame)
				right_fit.end_frame = segment.end_frame;
			right_hz = mean_window_frequency(window_hz, change->last_window + 1, last);
		} else {
			right_fit.end_frame = search.end_frame;
			right_fit.start_frame = search.end_frame - window_frames / 2;
			right_hz = window_hz[change->last_window];
		}
		if (left_fit.end_frame - left_fit.start_frame < window_frames / 4 ||
		    right_fit.end_frame - right_fit.start_frame < window_frames / 4 ||
		    left_hz <= 0 || right_hz <= 0) {
			/* Too little to fit: cut at the boundary the windows saw. */
			cuts[cut_count++] = window_start(segment, window_frames, change->last_window);
			continue;
		}
		cuts[cut_count++] = refine_split(tape, channel, search, left_fit, left_hz, right_fit,
						 right_hz);
	}

	{
		int64_t piece_start = segment.start_frame;

		for (int64_t i = 0; i <= cut_count; i++) {
			struct span piece = {
				piece_start, i < cut_count ? cuts[i] : segment.end_frame
			};

			if (piece.end_frame > piece.start_frame &&
			    trim_piece(tape, &piece, options->threshold))
				print_piece(tape, piece, channel, options, output);
			if (i < cut_count)
				piece_start = cuts[i];
		}
	}
	free(windows);
	free(window_hz);
	free(change_before);
	free(cuts);
	free(changes);
}

/* Analyses the amplitude segment that ends with last_loud, on its loudest channel. */
static void close_segment(const struct tape *tape, int64_t segment_start, int64_t last_loud,
			  const double *channel_energy, const struct segment_options *options,
			  struct output_state *output)
{
	struct span segment = { segment_start, last_loud + 1 };
	unsigned int loudest = 0;

	for (unsigned int c = 1; c < tape->channels; c++)
		if (channel_energy[c] > channel_energy[loudest])
			loudest = c;
	analyse_segment(tape, segment, loudest, options, output);
}

static void command_segments(const struct tape *tape, const struct segment_options *options)
{
	float *block = malloc((size_t)BLOCK_FRAMES * tape->channels * sizeof(float));
	double *channel_energy = calloc(tape->channels, sizeof(double));
	struct output_state output = { 0 };
	bool in_segment = false;
	int64_t segment_start = 0, last_loud = 0;

	if (!block || !channel_energy)
		unreadable(tape, "out of memory");
	if (options->json)
		printf("[");
	for (int64_t frame = 0; frame < tape->frames; frame += BLOCK_FRAMES) {
		int64_t chunk = tape->frames - frame < BLOCK_FRAMES ? tape->frames - frame : BLOCK_FRAMES;

		tape_read(tape, frame, chunk, block);
		for (int64_t i = 0; i < chunk; i++) {
			const float *samples = block + i * tape->channels;
			bool loud = frame_is_loud(samples, tape->channels, options->threshold);

			if (loud) {
				if (!in_segment) {
					in_segment = true;
					segment_start = frame + i;
					memset(channel_energy, 0, tape->channels * sizeof(double));
				}
				last_loud = frame + i;
			}
			if (!in_segment)
				continue;
			for (unsigned int c = 0; c < tape->channels; c++)
				channel_energy[c] += (double)samples[c] * samples[c];
			if (!loud && frame + i - last_loud >= options->min_gap_frames) {
				close_segment(tape, segment_start, last_loud, channel_energy, options,
					      &output);
				in_segment = false;
			}
		}
	}
	if (in_segment)
		close_segment(tape, segment_start, last_loud, channel_energy, options, &output);
	if (options->json)
		printf("]\n");
	free(block);
	free(channel_energy);
}

static void command_rms(const struct tape *tape, int64_t from_frame, int64_t to_frame)
{
	float *block = malloc((size_t)BLOCK_FRAMES * tape->channels * sizeof(float));
	double sum_of_squares = 0;

	if (!block)
		unreadable(tape, "out of memory");
	for (int64_t frame = from_frame; frame < to_frame; frame += BLOCK_FRAMES) {
		int64_t chunk = to_frame - frame < BLOCK_FRAMES ? to_frame - frame : BLOCK_FRAMES;

		tape_read(tape, frame, chunk, block);
		for (int64_t i = 0; i < chunk * tape->channels; i++)
			sum_of_squares += (double)block[i] * block[i];
	}
	free(block);
	if (sum_of_squares > 0)
		printf("%.2f\n", 10.0 * log10(sum_of_squares /
					      ((double)(to_frame - from_frame) * tape->channels)));
	else
		printf("-inf\n");
}

static double parse_number(const char *text, const char *what)
{
	char *end;
	double value;

	errno = 0;
	value = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(value)) {
		char message[160];

		snprintf(message, sizeof(message), "%s must be a number, not \"%s\"", what, text);
		usage_error(message);
	}
	return value;
}

static int64_t parse_frame(const char *text, const char *what)
{
	char *end;
	long long value;

	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno || end == text || *end || value < 0) {
		char message[160];

		snprintf(message, sizeof(message), "%s must be a frame number >= 0, not \"%s\"",
			 what, text);
		usage_error(message);
	}
	return value;
}

int main(int argc, char **argv)
{
	struct tape tape;
	const char *command;

	if (argc < 3)
		usage_error("missing command or TAPE");
	command = argv[1];
	if (strcmp(command, "info") == 0) {
		if (argc != 3)
			usage_error("info takes only TAPE");
		tape_open(&tape, argv[2]);
		printf("rate=%u channels=%u format=%s frames=%" PRId64 " origin_realtime_ns=%" PRId64
		       " xruns=%" PRIu64 "\n", tape.rate, tape.channels, tape.format_name,
		       tape.frames, tape.origin_realtime_ns, tape.xruns);
	} else if (strcmp(command, "segments") == 0) {
		double threshold_db = -50.0, min_gap_ms = 5.0;
		struct segment_options options = { 0 };
		const char *path = NULL;

		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--json") == 0) {
				options.json = true;
			} else if (strcmp(argv[i], "--threshold-db") == 0 && i + 1 < argc) {
				threshold_db = parse_number(argv[++i], "--threshold-db");
			} else if (strcmp(argv[i], "--min-gap-ms") == 0 && i + 1 < argc) {
				min_gap_ms = parse_number(argv[++i], "--min-gap-ms");
			} else if (argv[i][0] == '-' && argv[i][1] == '-') {
				usage_error("unknown option or missing value");
			} else if (!path) {
				path = argv[i];
			} else {
				usage_error("segments takes one TAPE");
			}
		}
		if (!path)
			usage_error("missing TAPE");
		if (threshold_db >= 0 || min_gap_ms < 0)
			usage_error("--threshold-db must be below 0 and --min-gap-ms not negative");
		tape_open(&tape, path);
		options.threshold = pow(10.0, threshold_db / 20.0);
		options.min_gap_frames = llround(min_gap_ms * tape.rate / 1000.0);
		if (options.min_gap_frames < 1)
			options.min_gap_frames = 1;
		command_segments(&tape, &options);
	} else if (strcmp(command, "rms") == 0) {
		int64_t from_frame, to_frame;

		if (argc != 5)
			usage_error("rms takes TAPE FROM_FRAME TO_FRAME");
		from_frame = parse_frame(argv[3], "FROM_FRAME");
		to_frame = parse_frame(argv[4], "TO_FRAME");
		if (to_frame <= from_frame)
			usage_error("TO_FRAME must be greater than FROM_FRAME");
		tape_open(&tape, argv[2]);
		if (to_frame > tape.frames) {
			fprintf(stderr, "tapetool: TO_FRAME %" PRId64 " is past the end of %s (%" PRId64
				" frames)\n", to_frame, tape.path, tape.frames);
			return EXIT_USAGE;
		}
		command_rms(&tape, from_frame, to_frame);
	} else {
		usage_error("unknown command");
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "tapetool: cannot write output: %s\n", strerror(errno));
		return EXIT_UNREADABLE;
	}
	return 0;
}
