/* Programmes: ordered media items with a name and a category. */
#ifndef LOAXA_SCHEDULES_PROGRAMMES_H
#define LOAXA_SCHEDULES_PROGRAMMES_H

#include <stddef.h>
#include <stdint.h>
#include "schedules/store.h"

/* ---- programmes: ordered items with a name and a category ---- */
struct tt_programme {
	int64_t id;
	char name[512];          /* unique */
	char category[256];
	char created_at[32];
	int item_count;
	int64_t duration_ns;     /* the sum of the items' durations */
	int event_count;         /* events that play it */
};

struct tt_programme_item {
	int position;            /* 1-based, in playing order */
	int64_t media_id;
	char title[512];         /* the media item's title */
	int64_t duration_ns;
};

/* Creates an empty programme; refused if the name is empty or taken. */
int tt_programme_create(struct tt *tt, const char *name, const char *category, int64_t *id);
int tt_programme_get(struct tt *tt, int64_t id, struct tt_programme *out);
/* By exact name; TT_ERR_NOT_FOUND names the programme. */
int tt_programme_find(struct tt *tt, const char *name, struct tt_programme *out);
int tt_programme_each(struct tt *tt, int (*fn)(void *user, const struct tt_programme *p),
		      void *user);
/* The items in order; *out is malloc'd (free it), NULL when empty. */
int tt_programme_items(struct tt *tt, int64_t id, struct tt_programme_item **out, size_t *count);
/* Appends media items at the end. The events playing the programme grow
 * longer: refused with TT_ERR_CONFLICT if one then collides. */
int tt_programme_append(struct tt *tt, int64_t id, const int64_t *media_ids, size_t count);
/* Removes the item at a 1-based position (later items move up); refused if
 * it would leave a programme that events play empty. */
int tt_programme_remove_item(struct tt *tt, int64_t id, int position);
/* Refused with TT_ERR_IN_USE while events play it. */
int tt_programme_remove(struct tt *tt, int64_t id);

#endif
