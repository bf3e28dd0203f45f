/* The rundown of one day: its airings, where a higher priority cuts a lower
 * one, and the airtime of each session. */
#include <stdlib.h>
#include <string.h>

#include "schedules/store_internal.h"

enum tt_session tt_session_of(int second_of_day)
{
	if (second_of_day < 12 * 3600)
		return TT_MORNING;
	return second_of_day < 17 * 3600 ? TT_AFTERNOON : TT_EVENING;
}

const char *tt_session_name(enum tt_session session)
{
	static const char *const names[] = { "morning", "afternoon", "evening" };
	return (unsigned)session < TT_SESSION_COUNT ? names[session] : "?";
}

static int add_preemption(struct tt_rundown *r, size_t *capacity, size_t lower, size_t higher)
{
	if (r->preemption_count == *capacity) {
		*capacity = *capacity ? *capacity * 2 : 8;
		struct tt_preemption *grown = realloc(r->preemptions, *capacity * sizeof *grown);
		if (!grown)
			return -1;
		r->preemptions = grown;
	}
	const struct tt_airing *a = &r->airings[lower], *b = &r->airings[higher];
	int64_t a_end = a->scheduled_ns + a->duration_ns, b_end = b->scheduled_ns + b->duration_ns;
	r->preemptions[r->preemption_count++] = (struct tt_preemption){
		.lower = lower, .higher = higher,
		.from_ns = a->scheduled_ns > b->scheduled_ns ? a->scheduled_ns : b->scheduled_ns,
		.until_ns = a_end < b_end ? a_end : b_end,
	};
	return 0;
}

int tt_rundown(struct tt *tt, const char *date, struct tt_rundown *out)
{
	memset(out, 0, sizeof *out);
	if (!tt_valid_date(date))
		return tt_fail(tt, TT_ERR_INVALID, "'%s' is not a real date (use YYYY-MM-DD)", date);
	tt_copy(out->date, sizeof out->date, date);
	char next[11];
	tt_add_days(date, 1, next);
	int64_t midnight_ns = tt_local_instant_ns(date, 0);
	int rc = tt_airings_between(tt, midnight_ns, tt_local_instant_ns(next, 0), &out->airings,
				    &out->count);
	if (rc < 0)
		return rc;
	size_t capacity = 0;
	for (size_t i = 0; i < out->count; i++) {
		const struct tt_airing *a = &out->airings[i];
		int64_t end = a->scheduled_ns + a->duration_ns;
		/* sorted by start: only later starts before a's end overlap it */
		for (size_t j = i + 1; j < out->count && out->airings[j].scheduled_ns < end; j++) {
			const struct tt_airing *b = &out->airings[j];
			if (b->priority == a->priority || b->duration_ns == 0)
				continue;
			int a_lower = a->priority < b->priority;
			if (add_preemption(out, &capacity, a_lower ? i : j, a_lower ? j : i) < 0) {
				tt_rundown_free(out);
				return tt_fail(tt, TT_ERR_DB, "out of memory");
			}
		}
	}
	/* airtime: the union of the airings' times, by the session they start in */
	int64_t covered_until = 0;
	for (size_t i = 0; i < out->count; i++) {
		const struct tt_airing *a = &out->airings[i];
		int64_t start = a->scheduled_ns > covered_until ? a->scheduled_ns : covered_until;
		int64_t end = a->scheduled_ns + a->duration_ns;
		if (end <= start)
			continue;
		enum tt_session s = tt_session_of((int)((a->scheduled_ns - midnight_ns) / TT_NS));
		out->session_airtime_ns[s] += end - start;
		out->total_airtime_ns += end - start;
		covered_until = end;
	}
	return 0;
}

void tt_rundown_free(struct tt_rundown *r)
{
	free(r->airings);
	free(r->preemptions);
	memset(r, 0, sizeof *r);
}
