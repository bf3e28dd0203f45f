/* The library's rows: one per imported media item. */
#ifndef LOAXA_SCHEDULES_MEDIA_ROWS_H
#define LOAXA_SCHEDULES_MEDIA_ROWS_H

#include <stdint.h>
#include "schedules/store.h"

/* ---- media ---- */
struct tt_media {
	int64_t id;
	char sha256[65];
	char path[300];          /* relative to the library directory */
	char original_name[512];
	char title[512];
	char category[256];
	char codec[24];
	int rate;
	int channels;
	int64_t frames;          /* source frames */
	double loudness_lufs;    /* NAN when silent */
	double loudness_range_lu;
	double true_peak_dbtp;   /* NAN when silent */
	double sample_peak_dbfs;
	int64_t leading_silence_frames;
	int64_t trailing_silence_frames;
	double gain_db;          /* applied at playout */
	double trim_db;
	char imported_at[32];
};

/* Adds the row, or finds the one with the same sha256 (then *existed = 1). */
int tt_media_add(struct tt *tt, const struct tt_media *media, int64_t *id, int *existed);
int tt_media_get(struct tt *tt, int64_t id, struct tt_media *out);
/* Calls fn for every media row in id order; stops when fn returns non-zero. */
int tt_media_each(struct tt *tt, int (*fn)(void *user, const struct tt_media *m), void *user);
/* Refused with TT_ERR_IN_USE while an event plays it, unless force (which
 * removes the events playing it and its programme items). */
int tt_media_remove(struct tt *tt, int64_t id, int force);

#endif
