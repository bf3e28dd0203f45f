/* The ALSA device: opening with a format the card accepts, conversion from
 * the engine's float frames, and the one recovery function. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "playout/engine_internal.h"

/* Preferred first: the widest integer format, then the common ones. */
static const snd_pcm_format_t formats[] = {
	SND_PCM_FORMAT_S32_LE, SND_PCM_FORMAT_S16_LE, SND_PCM_FORMAT_FLOAT_LE,
	SND_PCM_FORMAT_S24_LE,
};

int alsa_device_open(struct alsa_device *device, const struct playout_config *config,
		     int reopen, char *error, size_t error_size)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	const char *step = "opening";
	int rc = snd_pcm_open(&device->pcm, config->device, SND_PCM_STREAM_PLAYBACK,
			      SND_PCM_NONBLOCK);
	if (rc < 0) {
		device->pcm = NULL;
		snprintf(error, error_size,
			 "cannot open sound device '%s': %s; check the device name ('aplay -L' lists them) "
			 "and that no other program holds it", config->device, snd_strerror(rc));
		return rc;
	}
	if ((rc = snd_pcm_hw_params_any(device->pcm, hw)) < 0)
		goto fail;
	step = "setting interleaved access";
	if ((rc = snd_pcm_hw_params_set_access(device->pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0)
		goto fail;
	/* loaxa resamples itself with libsoxr; take the card's own rate. */
	snd_pcm_hw_params_set_rate_resample(device->pcm, hw, 0);

	step = "choosing a sample format";
	rc = -EINVAL;
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		if (reopen && formats[i] != device->format)
			continue;
		if (snd_pcm_hw_params_test_format(device->pcm, hw, formats[i]) == 0) {
			rc = snd_pcm_hw_params_set_format(device->pcm, hw, formats[i]);
			device->format = formats[i];
			break;
		}
	}
	if (rc < 0)
		goto fail;

	step = "choosing the channel count";
	unsigned channels = reopen ? (unsigned)device->channels
				   : (unsigned)(config->channels > 0 ? config->channels : 2);
	if ((rc = snd_pcm_hw_params_set_channels_near(device->pcm, hw, &channels)) < 0)
		goto fail;
	step = "choosing the sample rate";
	unsigned rate = reopen ? (unsigned)device->rate
			       : (unsigned)(config->rate > 0 ? config->rate : 48000);
	if ((rc = snd_pcm_hw_params_set_rate_near(device->pcm, hw, &rate, NULL)) < 0)
		goto fail;
	if (reopen && (rate != (unsigned)device->rate || channels != (unsigned)device->channels)) {
		rc = -EINVAL;
		step = "keeping the rate and channels it had";
		goto fail;
	}
	step = "choosing period and buffer sizes";
	int period_ms = config->period_ms > 0 ? config->period_ms : 100;
	int periods = config->periods > 1 ? config->periods : 4;
	snd_pcm_uframes_t period = (snd_pcm_uframes_t)rate * (unsigned)period_ms / 1000;
	if ((rc = snd_pcm_hw_params_set_period_size_near(device->pcm, hw, &period, NULL)) < 0)
		goto fail;
	snd_pcm_uframes_t buffer = period * (unsigned)periods;
	if ((rc = snd_pcm_hw_params_set_buffer_size_near(device->pcm, hw, &buffer)) < 0)
		goto fail;
	step = "applying the hardware settings";
	if ((rc = snd_pcm_hw_params(device->pcm, hw)) < 0)
		goto fail;
	snd_pcm_hw_params_get_period_size(hw, &period, NULL);
	snd_pcm_hw_params_get_buffer_size(hw, &buffer);

	step = "applying the software settings";
	if ((rc = snd_pcm_sw_params_current(device->pcm, sw)) < 0)
		goto fail;
	snd_pcm_sw_params_set_avail_min(device->pcm, sw, period);
	snd_pcm_sw_params_set_start_threshold(device->pcm, sw, buffer);
	snd_pcm_sw_params_set_tstamp_mode(device->pcm, sw, SND_PCM_TSTAMP_ENABLE);
	snd_pcm_sw_params_set_tstamp_type(device->pcm, sw, SND_PCM_TSTAMP_TYPE_GETTIMEOFDAY);
	if ((rc = snd_pcm_sw_params(device->pcm, sw)) < 0)
		goto fail;

	device->rate = (int)rate;
	device->channels = (int)channels;
	device->period_frames = period;
	device->buffer_frames = buffer;
	device->sample_bytes = snd_pcm_format_physical_width(device->format) / 8;
	snprintf(device->name, sizeof device->name, "%s", config->device);
	return 0;
fail:
	snprintf(error, error_size, "sound device '%s' refused %s: %s", config->device, step,
		 snd_strerror(rc));
	snd_pcm_close(device->pcm);
	device->pcm = NULL;
	return rc;
}

void alsa_device_close(struct alsa_device *device)
{
	if (device->pcm)
		snd_pcm_close(device->pcm);
	device->pcm = NULL;
}

int alsa_device_recover(struct alsa_device *device, int error)
{
	if (error == -EPIPE)
		return snd_pcm_prepare(device->pcm);
	if (error == -ESTRPIPE) {
		int rc;
		while ((rc = snd_pcm_resume(device->pcm)) == -EAGAIN) {
			struct timespec pause = { 0, 10 * 1000 * 1000 };
			nanosleep(&pause, NULL);
		}
		if (rc < 0)
			rc = snd_pcm_prepare(device->pcm);
		return rc;
	}
	return error;
}

static inline float clamp_sample(float value)
{
	return value > 1.0f ? 1.0f : value < -1.0f ? -1.0f : value;
}

/* The engine mixes one channel (commune loudspeaker networks are mono); it
 * goes to every channel of the device. Each sample is converted once per
 * frame; 32- and 24-bit formats carry 24 significant bits (a float's own
 * precision), so one float multiply serves them all. */
/* Rounds to the nearest integer (halves away from zero): inline, where
 * lrintf is a library call per sample. `value` is within the format's range. */
static inline int32_t round_sample(float value)
{
	return (int32_t)(value + (value >= 0.0f ? 0.5f : -0.5f));
}

#define FAN_OUT(type, expression)                                            \
	do {                                                                 \
		type *dest = out;                                            \
		for (long i = 0; i < frames; i++) {                          \
			float sample = clamp_sample(mono[i]);                \
			type value = (expression);                           \
			for (int c = 0; c < channels; c++)                   \
				*dest++ = value;                             \
		}                                                            \
	} while (0)

void alsa_device_convert(const struct alsa_device *device, const float *mono, void *out,
			 long frames)
{
	int channels = device->channels;
	switch (device->format) {
	case SND_PCM_FORMAT_S16_LE:
		FAN_OUT(int16_t, (int16_t)round_sample(sample * 32767.0f));
		break;
	case SND_PCM_FORMAT_S32_LE:
		FAN_OUT(int32_t, (int32_t)((uint32_t)round_sample(sample * 8388607.0f) << 8));
		break;
	case SND_PCM_FORMAT_S24_LE:
		FAN_OUT(int32_t, round_sample(sample * 8388607.0f));
		break;
	default:
		FAN_OUT(float, sample);
		break;
	}
}
