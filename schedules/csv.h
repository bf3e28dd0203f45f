/* Spreadsheet exchange of the timetable (layout in docs/timetable.md). */
#ifndef LOAXA_SCHEDULES_CSV_H
#define LOAXA_SCHEDULES_CSV_H

#include <stddef.h>
#include <stdio.h>
#include "schedules/store.h"

/* ---- spreadsheet exchange (layout in docs/timetable.md) ---- */
struct tt_csv_options {
	char delimiter;          /* ',' or ';' */
	int bom;                 /* start with a UTF-8 byte order mark (for Excel) */
	const char *from_date;   /* export only events airing in [from, until]; NULL = all */
	const char *until_date;
};

/* Writes the header and one row per event (with its skips and moves), in id
 * order, lines ending CRLF. */
int tt_export_csv(struct tt *tt, FILE *out, const struct tt_csv_options *options);
/* One CSV field and its delimiter (or CRLF when last), quoted when it holds
 * the delimiter, a quote, a line break, or spaces at an end. */
void tt_csv_field(FILE *out, const char *text, char delimiter, int last);
/* Adds every row of the text (UTF-8, with or without BOM, comma or
 * semicolon, the header first) as new events, or none: any bad row or
 * conflict refuses the whole file, tt_error saying "line N: why". replace
 * removes every existing event first (same transaction). source names the
 * file in the audit trail. *added = rows. */
int tt_import_csv(struct tt *tt, const char *text, size_t length, int replace, const char *source,
		  size_t *added);

#endif
