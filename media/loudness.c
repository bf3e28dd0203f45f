/*
 * The import meter: EBU R128 integrated loudness and loudness range of the
 * mono downmix (counted as dual mono, as aired), and sample and true peak
 * of every source channel, in one pass.
 *
 * It is libebur128's measurement (histogram mode), redone for speed: the
 * same K-weighting filter, 400 ms gating blocks every 100 ms, 3 s
 * short-term blocks every second, the same 0.1 LU histograms and the same
 * 49-tap true-peak interpolator (4× below 96 kHz, 2× below 192 kHz, none
 * above). What is faster: the filter state lives in registers, block
 * energies are sums of 100 ms sums, and the interpolator is not run over a
 * block whose samples cannot raise the true peak found so far (its output
 * is at most the sum of its coefficients' magnitudes times the largest
 * input in reach), which is most blocks of speech. The results agree with
 * libebur128 to rounding: tests/unit/test_media_loudness.c holds them to it.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "media/media_internal.h"

#define METER_CHUNK_FRAMES 4096
#define METER_TILE_FRAMES 64        /* the true-peak skip decides per tile */
#define METER_TAPS 49
#define METER_MAX_DELAY 25         /* (taps + factor - 1) / factor, factor ≥ 2 */
#define METER_MAX_FACTOR 4
#define HISTOGRAM_BINS 1000
#define SHORT_TERM_BLOCKS 30       /* 100 ms blocks in a short-term block */

struct media_meter {
	int channels;
	long frames_per_100ms;
	/* K-weighting: a high shelf then a high pass, as two biquads */
	double shelf_b[3], shelf_a[3], pass_b[3], pass_a[3];
	double shelf_s1, shelf_s2, pass_s1, pass_s2;
	/* the 100 ms block being filled, and the last 30 finished ones */
	double block_sum;
	long block_frames;
	double recent_sums[SHORT_TERM_BLOCKS];
	int64_t blocks_done;
	unsigned long gating_histogram[HISTOGRAM_BINS];
	unsigned long short_term_histogram[HISTOGRAM_BINS];
	/* bin i: the energy it stands for, and its lower boundary */
	double histogram_energies[HISTOGRAM_BINS];
	double histogram_boundaries[HISTOGRAM_BINS + 1];
	/* true peak: coefficients by phase, over the last `delay` inputs */
	int factor, delay;
	float phase_coefficients[METER_MAX_FACTOR][METER_MAX_DELAY];
	int phase_is_identity[METER_MAX_FACTOR];
	double interpolator_gain;  /* max over phases of the sum of |coefficient| */
	float *lane;               /* one channel: delay - 1 inputs of history, then a chunk */
	float *history;            /* per channel: its last delay - 1 inputs */
	float *history_peak;       /* per channel: max |x| over them */
	float *sample_peak;        /* per channel */
	float *true_peak;          /* per channel */
};

/* 0.1 LU bins from -70 LUFS (the absolute gate) up. */
static void make_histogram_tables(struct media_meter *m)
{
	int i;

	for (i = 0; i < HISTOGRAM_BINS; i++)
		m->histogram_energies[i] = pow(10.0, ((double)i / 10.0 - 69.95 + 0.691) / 10.0);
	for (i = 0; i <= HISTOGRAM_BINS; i++)
		m->histogram_boundaries[i] = pow(10.0, ((double)i / 10.0 - 70.0 + 0.691) / 10.0);
}

static size_t histogram_index(const struct media_meter *m, double energy)
{
	size_t low = 0, high = HISTOGRAM_BINS;

	do {
		size_t mid = (low + high) / 2;

		if (energy >= m->histogram_boundaries[mid])
			low = mid;
		else
			high = mid;
	} while (high - low != 1);
	return low;
}

static double energy_to_lufs(double energy)
{
	return 10.0 * log10(energy) - 0.691;
}

/* BS.1770 pre-filter and RLB high pass (libebur128's derivation). */
static void init_filter(struct media_meter *m, int rate)
{
	double f0 = 1681.974450955533, gain_db = 3.999843853973347, q = 0.7071752369554196;
	double k = tan(M_PI * f0 / rate), vh = pow(10.0, gain_db / 20.0);
	double vb = pow(vh, 0.4996667741545416), a0 = 1.0 + k / q + k * k;

	m->shelf_b[0] = (vh + vb * k / q + k * k) / a0;
	m->shelf_b[1] = 2.0 * (k * k - vh) / a0;
	m->shelf_b[2] = (vh - vb * k / q + k * k) / a0;
	m->shelf_a[1] = 2.0 * (k * k - 1.0) / a0;
	m->shelf_a[2] = (1.0 - k / q + k * k) / a0;
	f0 = 38.13547087602444;
	q = 0.5003270373238773;
	k = tan(M_PI * f0 / rate);
	m->pass_b[0] = 1.0;
	m->pass_b[1] = -2.0;
	m->pass_b[2] = 1.0;
	m->pass_a[1] = 2.0 * (k * k - 1.0) / (1.0 + k / q + k * k);
	m->pass_a[2] = (1.0 - k / q + k * k) / (1.0 + k / q + k * k);
}

static void init_interpolator(struct media_meter *m, int rate)
{
	int j, f;

	m->factor = rate < 96000 ? 4 : rate < 192000 ? 2 : 1;
	if (m->factor == 1)
		return;
	m->delay = (METER_TAPS + m->factor - 1) / m->factor;
	for (j = 0; j < METER_TAPS; j++) {
		double x = (double)j - (METER_TAPS - 1) / 2.0, c = 1.0;

		if (fabs(x) > 0.000001)
			c = sin(x * M_PI / m->factor) / (x * M_PI / m->factor);
		c *= 0.5 * (1 - cos(2 * M_PI * j / (METER_TAPS - 1)));
		if (fabs(c) > 0.000001)
			m->phase_coefficients[j % m->factor][j / m->factor] = (float)c;
	}
	for (f = 0; f < m->factor; f++) {
		double sum = 0;
		int nonzero = 0, unit = 0;

		for (j = 0; j < m->delay; j++) {
			sum += fabs(m->phase_coefficients[f][j]);
			nonzero += m->phase_coefficients[f][j] != 0;
			unit += m->phase_coefficients[f][j] == 1.0f;
		}
		/* a phase that only repeats an input is the sample peak */
		m->phase_is_identity[f] = nonzero == 1 && unit == 1;
		if (sum > m->interpolator_gain)
			m->interpolator_gain = sum;
	}
}

int media_meter_new(struct media_meter **out, int rate, int channels)
{
	struct media_meter *m;
	size_t history;

	*out = NULL;
	if (rate < 16 || channels < 1 || channels > MEDIA_MAX_CHANNELS)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	make_histogram_tables(m);
	m->channels = channels;
	m->frames_per_100ms = (rate + 5) / 10;
	init_filter(m, rate);
	init_interpolator(m, rate);
	history = m->delay > 1 ? (size_t)m->delay - 1 : 0;
	m->lane = malloc(sizeof(float) * (history + METER_CHUNK_FRAMES));
	m->history = calloc((size_t)channels * (history + 1), sizeof(float));
	m->history_peak = calloc((size_t)channels, sizeof(float));
	m->sample_peak = calloc((size_t)channels, sizeof(float));
	m->true_peak = calloc((size_t)channels, sizeof(float));
	if (!m->lane || !m->history || !m->history_peak || !m->sample_peak || !m->true_peak) {
		media_meter_free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

void media_meter_free(struct media_meter *m)
{
	if (!m)
		return;
	free(m->lane);
	free(m->history);
	free(m->history_peak);
	free(m->sample_peak);
	free(m->true_peak);
	free(m);
}

/* A 100 ms block is complete: a gating block ends here from the 4th on, a
 * short-term block at 3 s and every second after. Energies count the mono
 * signal twice (dual mono). */
static void finish_block(struct media_meter *m)
{
	int64_t k = m->blocks_done;
	double energy;
	int i;

	m->recent_sums[k % SHORT_TERM_BLOCKS] = m->block_sum;
	m->block_sum = 0;
	m->block_frames = 0;
	m->blocks_done++;
	if (k >= 3) {
		energy = 0;
		for (i = 0; i < 4; i++)
			energy += m->recent_sums[(k - i) % SHORT_TERM_BLOCKS];
		energy = 2.0 * energy / (double)(4 * m->frames_per_100ms);
		if (energy >= m->histogram_boundaries[0])
			m->gating_histogram[histogram_index(m, energy)]++;
	}
	if (k >= SHORT_TERM_BLOCKS - 1 && (k - (SHORT_TERM_BLOCKS - 1)) % 10 == 0) {
		energy = 0;
		for (i = 0; i < SHORT_TERM_BLOCKS; i++)
			energy += m->recent_sums[i];
		energy = 2.0 * energy / (double)(SHORT_TERM_BLOCKS * m->frames_per_100ms);
		if (energy >= m->histogram_boundaries[0])
			m->short_term_histogram[histogram_index(m, energy)]++;
	}
}

static double flush_tiny(double state)
{
	/* far above the subnormals, far below any audible level */
	return fabs(state) < 1e-30 ? 0.0 : state;
}

static void add_loudness(struct media_meter *m, const float *mono, long count)
{
	/* Transposed direct form II, rewritten so that each state depends on
	 * its previous value through one multiply and one add (the same sums,
	 * rounded in another order): shelf = b0 x + s1, s1' = (b1 - a1 b0) x +
	 * s2 - a1 s1, s2' = (b2 - a2 b0) x - a2 s1; the high pass likewise,
	 * with b = 1, -2, 1. */
	const double sb0 = m->shelf_b[0], sa1 = m->shelf_a[1], sa2 = m->shelf_a[2];
	const double sk1 = m->shelf_b[1] - sa1 * sb0, sk2 = m->shelf_b[2] - sa2 * sb0;
	const double pa1 = m->pass_a[1], pa2 = m->pass_a[2];
	const double pk1 = -2.0 - pa1, pk2 = 1.0 - pa2;

	while (count > 0) {
		long n = m->frames_per_100ms - m->block_frames, i;
		double s1 = m->shelf_s1, s2 = m->shelf_s2, p1 = m->pass_s1, p2 = m->pass_s2;
		double sum = 0;

		if (n > count)
			n = count;
		for (i = 0; i < n; i++) {
			double x = mono[i];
			double shelf = sb0 * x + s1;
			double y = shelf + p1;
			double s1_before = s1, p1_before = p1;

			s1 = (sk1 * x + s2) - sa1 * s1_before;
			s2 = sk2 * x - sa2 * s1_before;
			p1 = (pk1 * shelf + p2) - pa1 * p1_before;
			p2 = pk2 * shelf - pa2 * p1_before;
			sum += y * y;
		}
		m->shelf_s1 = flush_tiny(s1);
		m->shelf_s2 = flush_tiny(s2);
		m->pass_s1 = flush_tiny(p1);
		m->pass_s2 = flush_tiny(p2);
		m->block_sum += sum;
		m->block_frames += n;
		mono += n;
		count -= n;
		if (m->block_frames == m->frames_per_100ms)
			finish_block(m);
	}
}

/* The largest |output| of the interpolator for the n inputs at x (the
 * delay - 1 before them readable too). */
static float interpolated_peak(const struct media_meter *m, const float *x, long n)
{
	float acc[METER_TILE_FRAMES], peak = 0;
	int f, t;
	long i;

	for (f = 0; f < m->factor; f++) {
		const float *c = m->phase_coefficients[f];

		if (m->phase_is_identity[f])
			continue;
		if (n == METER_TILE_FRAMES) {
			/* the common case, with a trip count the compiler knows */
			for (i = 0; i < METER_TILE_FRAMES; i++)
				acc[i] = 0;
			for (t = 0; t < m->delay; t++)
				for (i = 0; i < METER_TILE_FRAMES; i++)
					acc[i] += c[t] * x[i - t];
		} else {
			for (i = 0; i < n; i++)
				acc[i] = 0;
			for (t = 0; t < m->delay; t++)
				for (i = 0; i < n; i++)
					acc[i] += c[t] * x[i - t];
		}
		for (i = 0; i < n; i++)
			peak = fabsf(acc[i]) > peak ? fabsf(acc[i]) : peak;
	}
	return peak;
}

static void add_peaks(struct media_meter *m, const float *frames, long count)
{
	const int channels = m->channels, history = m->delay > 1 ? m->delay - 1 : 0;
	const float gain = (float)(m->interpolator_gain * 1.00001); /* + float rounding */
	float tile_peaks[METER_CHUNK_FRAMES / METER_TILE_FRAMES];
	long tiles = (count + METER_TILE_FRAMES - 1) / METER_TILE_FRAMES, i, k;
	int c;

	for (c = 0; c < channels; c++) {
		float *saved = m->history + (size_t)c * (size_t)(history + 1);
		float *lane = m->lane + history, before;

		/* the channel alone, after its last inputs; the peak of each tile */
		memcpy(m->lane, saved, sizeof(float) * (size_t)history);
		for (k = 0; k < tiles; k++) {
			long end = (k + 1) * METER_TILE_FRAMES < count ? (k + 1) * METER_TILE_FRAMES : count;
			float peak = 0;

			for (i = k * METER_TILE_FRAMES; i < end; i++) {
				float x = frames[(size_t)i * (size_t)channels + (size_t)c];

				lane[i] = x;
				peak = fabsf(x) > peak ? fabsf(x) : peak;
			}
			tile_peaks[k] = peak;
			if (peak > m->sample_peak[c])
				m->sample_peak[c] = peak;
		}
		/* The interpolator's output over a tile is at most its gain times
		 * the largest input in reach (the tile and the delay - 1 before
		 * it): only where that could top the true peak so far is it run. */
		before = m->history_peak[c];
		for (k = 0; m->factor > 1 && k < tiles; k++) {
			float reach = tile_peaks[k] > before ? tile_peaks[k] : before;
			long start = k * METER_TILE_FRAMES;

			before = tile_peaks[k];
			if (gain * reach > m->true_peak[c]) {
				float peak = interpolated_peak(m, lane + start,
							       count - start < METER_TILE_FRAMES ?
							       count - start : METER_TILE_FRAMES);

				if (peak > m->true_peak[c])
					m->true_peak[c] = peak;
			}
		}
		/* keep the last inputs for the next chunk */
		memcpy(saved, m->lane + count, sizeof(float) * (size_t)history);
		before = 0;
		for (i = 0; i < history; i++)
			before = fabsf(saved[i]) > before ? fabsf(saved[i]) : before;
		m->history_peak[c] = before;
	}
}

void media_meter_add(struct media_meter *m, const float *frames, const float *mono, long count)
{
	while (count > 0) {
		long n = count < METER_CHUNK_FRAMES ? count : METER_CHUNK_FRAMES;

		add_loudness(m, mono, n);
		add_peaks(m, frames, n);
		frames += (size_t)n * (size_t)m->channels;
		mono += n;
		count -= n;
	}
}

/* The start of the relative gate in the histogram, libebur128's way. */
static size_t gate_index(const struct media_meter *m, double threshold)
{
	size_t index;

	if (threshold < m->histogram_boundaries[0])
		return 0;
	index = histogram_index(m, threshold);
	if (threshold > m->histogram_energies[index])
		index++;
	return index;
}

static double integrated_lufs(const struct media_meter *m)
{
	double power = 0, gated = 0;
	unsigned long count = 0, above = 0;
	size_t i;

	for (i = 0; i < HISTOGRAM_BINS; i++) {
		power += (double)m->gating_histogram[i] * m->histogram_energies[i];
		count += m->gating_histogram[i];
	}
	if (!count)
		return -HUGE_VAL;
	/* relative gate: 10 LU under the absolute-gated loudness */
	for (i = gate_index(m, power / (double)count * 0.1); i < HISTOGRAM_BINS; i++) {
		gated += (double)m->gating_histogram[i] * m->histogram_energies[i];
		above += m->gating_histogram[i];
	}
	if (!above)
		return -HUGE_VAL;
	return energy_to_lufs(gated / (double)above);
}

/* EBU Tech 3342: from the 10th to the 95th percentile of the short-term
 * loudness, gated 20 LU under its mean. */
static double loudness_range_lu(const struct media_meter *m)
{
	double power = 0, low, high;
	unsigned long count = 0, cumulated = 0;
	size_t i, start, low_rank, high_rank;

	for (i = 0; i < HISTOGRAM_BINS; i++) {
		count += m->short_term_histogram[i];
		power += (double)m->short_term_histogram[i] * m->histogram_energies[i];
	}
	if (!count)
		return 0;
	start = gate_index(m, power / (double)count * 0.01);
	count = 0;
	for (i = start; i < HISTOGRAM_BINS; i++)
		count += m->short_term_histogram[i];
	if (!count)
		return 0;
	low_rank = (size_t)((double)(count - 1) * 0.1 + 0.5);
	high_rank = (size_t)((double)(count - 1) * 0.95 + 0.5);
	i = start;
	while (cumulated <= low_rank)
		cumulated += m->short_term_histogram[i++];
	low = m->histogram_energies[i - 1];
	while (cumulated <= high_rank)
		cumulated += m->short_term_histogram[i++];
	high = m->histogram_energies[i - 1];
	return energy_to_lufs(high) - energy_to_lufs(low);
}

void media_meter_result(const struct media_meter *m, struct media_meter_result *out)
{
	int c;

	out->integrated_lufs = integrated_lufs(m);
	out->loudness_range_lu = loudness_range_lu(m);
	out->sample_peak = 0;
	out->true_peak = 0;
	for (c = 0; c < m->channels; c++) {
		if (m->sample_peak[c] > out->sample_peak)
			out->sample_peak = m->sample_peak[c];
		if (m->true_peak[c] > out->true_peak)
			out->true_peak = m->true_peak[c];
	}
	if (out->sample_peak > out->true_peak)
		out->true_peak = out->sample_peak;
}
