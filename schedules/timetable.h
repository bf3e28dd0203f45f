/*
 * timetable — the station's SQLite store: media rows, programmes, events,
 * exceptions, the resolution of events into occurrences, and the as-run log.
 *
 * One `struct tt` is one connection; use it from one thread at a time (the
 * serving process opens two: one its serving loop only reads on, one its
 * writer thread writes on). The database runs in WAL mode with foreign keys
 * and a busy timeout, so the command line can edit while the station plays
 * and readers never wait for a writer. Every function that changes data does it in one
 * transaction: it either happens whole or not at all.
 *
 * Functions return 0 on success or a negative TT_ERR_* / -errno; tt_error()
 * holds a sentence for the operator about the last failure on that handle.
 * Times of day are seconds after local midnight; dates are "YYYY-MM-DD" in the
 * station's time zone (TZ); instants are nanoseconds since the Unix epoch.
 *
 * Every edit (media, programmes, events, exceptions, imports) also appends a
 * row to the audit table in the same transaction, naming the operator
 * (tt_set_operator, else the OS user). Text (titles, names, categories) is
 * stored byte for byte; it must be valid UTF-8 and fit its field.
 */
#ifndef LOAXA_TIMETABLE_H
#define LOAXA_TIMETABLE_H

/* The store by concern; a file needing only one of them includes that one. */
#include "schedules/store.h"
#include "schedules/dates.h"
#include "schedules/media_rows.h"
#include "schedules/programmes.h"
#include "schedules/events.h"
#include "schedules/resolve.h"
#include "schedules/csv.h"
#include "schedules/audit.h"
#include "schedules/as_run.h"

#endif
