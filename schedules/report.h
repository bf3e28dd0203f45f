/*
 * report — what went on air over a period, from the as-run log alone: each
 * row keeps the category, title and planned length of what it aired, so a
 * report does not change when the timetable or the library does later.
 *
 * An airing (an event's occurrence on a date, one part of it) counts once
 * as planned, and as exactly one of:
 *   aired    all of it went on air: a row `played`, or a row `resumed` after
 *            which the rows together aired its planned length (less 0.1 s);
 *   failed   a row `failed` (the file or the device), and it was not aired;
 *   partial  some of it aired but not all (cut and not completed, a rejoin
 *            past a preemption, stopped by a crash);
 *   missed   nothing of it aired (the station down or late past its grace,
 *            given way to a priority broadcast under the skip policy).
 * seconds_aired sums each row's time on air (ended_ns - started_ns).
 * Manual and emergency broadcasts (event 0) are listed apart.
 */
#ifndef LOAXA_REPORT_H
#define LOAXA_REPORT_H

#include <cJSON.h>

#include "schedules/store.h"

/* The report for the dates [from, until] (YYYY-MM-DD, by the date each
 * airing was planned for), all categories or only `category` (NULL: all),
 * as a JSON document (docs/reports.md), or NULL with tt_error() set. */
cJSON *tt_report(struct tt *tt, const char *from, const char *until, const char *category);

/*
 * The chain that makes a report verifiable: each as-run row, when it becomes
 * final, gets the next chain_seq and chain = SHA-256 (hex) over the previous
 * row's chain, its own chain_seq and every one of its fields (triggers in
 * the database; station_state as_run_chain_seq keeps the last). A report
 * prints the chain of the last row of its period: the record behind a
 * printed report can be shown later not to have been edited.
 */
struct tt_chain_check {
	int64_t rows;             /* chained rows read */
	int64_t bad_id;           /* the first row changed or inserted, or after a removal */
	char problem[1024];       /* a sentence, "" if the chain holds */
	char head[65];            /* the last row's chain */
	int64_t head_seq;
};
/* 0 if the chain holds, 1 with out->problem if not, < 0 if it could not be
 * read (tt_error). */
int tt_chain_verify(struct tt *tt, struct tt_chain_check *out);
/* The chain of the last row of the dates [from, until]; "" if none. */
int tt_chain_head(struct tt *tt, const char *from, const char *until, char head[65], int64_t *seq);

#endif
