/* Spreadsheet exchange: the timetable as CSV (layout in docs/timetable.md).
 * Export writes RFC 4180 text (CRLF, fields quoted when needed) with an
 * optional UTF-8 byte order mark; import reads what Excel and LibreOffice
 * save (BOM or not, comma or semicolon, CRLF or LF, quoted fields with
 * doubled quotes and line breaks) and adds all rows in one transaction or
 * none. */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schedules/store_internal.h"

enum column {
	COL_TITLE, COL_AT, COL_RECURRENCE, COL_DATE, COL_DAYS, COL_MONTH_DAY, COL_FROM, COL_UNTIL,
	COL_MEDIA, COL_PROGRAMME, COL_PRIORITY, COL_REPEAT, COL_GAP, COL_RESUME, COL_ENABLED,
	COL_SKIP, COL_MOVE, COLUMN_COUNT
};

static const char *const column_names[COLUMN_COUNT] = {
	"title", "at", "recurrence", "date", "days", "month_day", "from", "until", "media",
	"programme", "priority", "repeat", "gap", "resume", "enabled", "skip", "move",
};

/* ---- export ---- */

void tt_csv_field(FILE *out, const char *text, char delimiter, int last)
{
	size_t length = strlen(text);
	int quote = length && (text[0] == ' ' || text[length - 1] == ' ');
	for (const char *p = text; *p && !quote; p++)
		quote = *p == delimiter || *p == '"' || *p == '\r' || *p == '\n';
	if (quote) {
		fputc('"', out);
		for (const char *p = text; *p; p++) {
			if (*p == '"')
				fputc('"', out);
			fputc(*p, out);
		}
		fputc('"', out);
	} else {
		fputs(text, out);
	}
	fputs(last ? "\r\n" : (char[]){ delimiter, '\0' }, out);
}

struct export_state {
	struct tt *tt;
	FILE *out;
	const struct tt_csv_options *options;
	struct tt_programme programme;   /* the last one looked up */
	int rc;
};

static int in_range(const struct tt_event *e, const struct tt_csv_options *o)
{
	const char *first = e->recurrence == TT_ONCE ? e->on_date : e->from_date;
	const char *last = e->recurrence == TT_ONCE ? e->on_date : e->until_date;
	if (o->until_date && first[0] && strcmp(first, o->until_date) > 0)
		return 0;
	if (o->from_date && last[0] && strcmp(last, o->from_date) < 0)
		return 0;
	return 1;
}

struct exception_text {
	char skip[4096], move[4096];
	int overflow;
};

static int collect_exception(void *user, const struct tt_exception *x)
{
	struct exception_text *t = user;
	char *list = x->moved_second < 0 ? t->skip : t->move;
	if (strlen(list) + 24 >= sizeof t->skip) {
		t->overflow = 1;
		return 1;
	}
	tt_append(list, sizeof t->skip, "%s%s", list[0] ? " " : "", x->date);
	if (x->moved_second >= 0)
		tt_append(list, sizeof t->skip, "T%02d:%02d:%02d", x->moved_second / 3600,
			  x->moved_second / 60 % 60, x->moved_second % 60);
	return 0;
}

static int export_event(void *user, const struct tt_event *e)
{
	struct export_state *s = user;
	if (!in_range(e, s->options))
		return 0;
	struct exception_text exceptions = { "", "", 0 };
	s->rc = tt_exception_each(s->tt, e->id, collect_exception, &exceptions);
	if (s->rc == 0 && exceptions.overflow)
		s->rc = tt_fail(s->tt, TT_ERR_INVALID, "event %" PRId64 " has too many exceptions to "
				"export", e->id);
	if (s->rc == 0 && e->programme_id > 0 && s->programme.id != e->programme_id)
		s->rc = tt_programme_get(s->tt, e->programme_id, &s->programme);
	if (s->rc < 0)
		return 1;
	char fields[COLUMN_COUNT][64];
	memset(fields, 0, sizeof fields);
	snprintf(fields[COL_AT], 64, "%02d:%02d:%02d", e->start_second / 3600,
		 e->start_second / 60 % 60, e->start_second % 60);
	snprintf(fields[COL_RECURRENCE], 64, "%s", tt_recurrence_name(e->recurrence));
	if (e->recurrence == TT_ONCE)
		snprintf(fields[COL_DATE], 64, "%s", e->on_date);
	if (e->recurrence == TT_WEEKDAYS)
		tt_weekdays_format(e->weekdays, fields[COL_DAYS], 64);
	if (e->recurrence == TT_MONTHLY)
		snprintf(fields[COL_MONTH_DAY], 64, "%d", e->month_day);
	snprintf(fields[COL_FROM], 64, "%s", e->from_date);
	snprintf(fields[COL_UNTIL], 64, "%s", e->until_date);
	if (e->media_id > 0)
		snprintf(fields[COL_MEDIA], 64, "%" PRId64, e->media_id);
	snprintf(fields[COL_PRIORITY], 64, "%s", tt_priority_name(e->priority));
	snprintf(fields[COL_REPEAT], 64, "%d", e->repeat_count);
	snprintf(fields[COL_GAP], 64, "%d", e->gap_seconds);
	snprintf(fields[COL_RESUME], 64, "%s", tt_resume_name(e->resume));
	snprintf(fields[COL_ENABLED], 64, "%s", e->enabled ? "yes" : "no");
	for (int c = 0; c < COLUMN_COUNT; c++) {
		const char *text = c == COL_TITLE ? e->title
				 : c == COL_PROGRAMME ? (e->programme_id > 0 ? s->programme.name : "")
				 : c == COL_SKIP ? exceptions.skip
				 : c == COL_MOVE ? exceptions.move : fields[c];
		tt_csv_field(s->out, text, s->options->delimiter, c == COLUMN_COUNT - 1);
	}
	return 0;
}

int tt_export_csv(struct tt *tt, FILE *out, const struct tt_csv_options *options)
{
	if (options->delimiter != ',' && options->delimiter != ';')
		return tt_fail(tt, TT_ERR_INVALID, "the delimiter must be a comma or a semicolon");
	if ((options->from_date && !tt_valid_date(options->from_date)) ||
	    (options->until_date && !tt_valid_date(options->until_date)))
		return tt_fail(tt, TT_ERR_INVALID, "--from and --until must be real dates (YYYY-MM-DD)");
	if (options->from_date && options->until_date &&
	    strcmp(options->until_date, options->from_date) < 0)
		return tt_fail(tt, TT_ERR_INVALID, "--until %s is before --from %s", options->until_date,
			       options->from_date);
	if (options->bom)
		fputs("\xEF\xBB\xBF", out);
	for (int c = 0; c < COLUMN_COUNT; c++)
		tt_csv_field(out, column_names[c], options->delimiter, c == COLUMN_COUNT - 1);
	struct export_state state = { .tt = tt, .out = out, .options = options };
	/* one read transaction, so the rows agree with each other */
	if (sqlite3_exec(tt->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return tt_fail_db(tt, "reading the timetable");
	int rc = tt_event_each(tt, export_event, &state);
	tt_rollback(tt);
	if (rc == 0)
		rc = state.rc;
	if (rc == 0 && ferror(out))
		rc = tt_fail(tt, TT_ERR_INVALID, "could not write the CSV (disk full?)");
	return rc;
}

/* ---- import: parsing ---- */

struct field {
	char *text;      /* terminated copy, quotes undone */
};

struct record {
	int line;        /* where it starts */
	struct field fields[COLUMN_COUNT + 8];
	int count;
	int too_many;
};

struct parser {
	const char *p, *end;
	char delimiter;
	int line;
};

static int append_char(char **buffer, size_t *length, size_t *capacity, char c)
{
	if (*length + 1 >= *capacity) {
		*capacity = *capacity ? *capacity * 2 : 64;
		char *grown = realloc(*buffer, *capacity);
		if (!grown)
			return -1;
		*buffer = grown;
	}
	(*buffer)[(*length)++] = c;
	(*buffer)[*length] = '\0';
	return 0;
}

static void free_record(struct record *r)
{
	for (int i = 0; i < r->count; i++)
		free(r->fields[i].text);
	r->count = 0;
}

/* Reads one record; 1 if read, 0 at the end, <0 with tt_error set. */
static int read_record(struct tt *tt, struct parser *ps, struct record *r)
{
	memset(r, 0, sizeof *r);
	if (ps->p >= ps->end)
		return 0;
	r->line = ps->line;
	for (;;) {
		char *text = NULL;
		size_t length = 0, capacity = 0;
		if (append_char(&text, &length, &capacity, '\0') < 0)
			goto no_memory;
		length = 0;
		if (ps->p < ps->end && *ps->p == '"') {
			int start_line = ps->line;
			ps->p++;
			for (;;) {
				if (ps->p >= ps->end) {
					free(text);
					free_record(r);
					return tt_fail(tt, TT_ERR_INVALID, "line %d: a quoted field is not "
						       "closed (a \" is missing)", start_line);
				}
				char c = *ps->p++;
				if (c == '"') {
					if (ps->p < ps->end && *ps->p == '"')
						ps->p++;
					else
						break;
				}
				if (c == '\n')
					ps->line++;
				if (append_char(&text, &length, &capacity, c) < 0) {
					free(text);
					goto no_memory;
				}
			}
			if (ps->p < ps->end && *ps->p != ps->delimiter && *ps->p != '\r' && *ps->p != '\n') {
				free(text);
				free_record(r);
				return tt_fail(tt, TT_ERR_INVALID, "line %d: text after a closing quote; "
					       "double a quote inside a quoted field (\"\")", ps->line);
			}
		} else {
			while (ps->p < ps->end && *ps->p != ps->delimiter && *ps->p != '\r' && *ps->p != '\n') {
				if (*ps->p == '"') {
					free(text);
					free_record(r);
					return tt_fail(tt, TT_ERR_INVALID, "line %d: a quote inside an unquoted "
						       "field; quote the whole field and double the quote",
						       ps->line);
				}
				if (append_char(&text, &length, &capacity, *ps->p++) < 0) {
					free(text);
					goto no_memory;
				}
			}
		}
		if (r->count < (int)(sizeof r->fields / sizeof r->fields[0]))
			r->fields[r->count++].text = text;
		else {
			r->too_many = 1;
			free(text);
		}
		if (ps->p < ps->end && *ps->p == ps->delimiter) {
			ps->p++;
			continue;
		}
		/* end of the record */
		if (ps->p < ps->end && *ps->p == '\r')
			ps->p++;
		if (ps->p < ps->end && *ps->p == '\n')
			ps->p++;
		ps->line++;
		return 1;
	}
no_memory:
	free_record(r);
	return tt_fail(tt, TT_ERR_DB, "out of memory reading the CSV");
}

static int blank_record(const struct record *r)
{
	for (int i = 0; i < r->count; i++)
		if (r->fields[i].text[0])
			return 0;
	return 1;
}

/* Trims spaces in place (for the structured columns, not for text). */
static char *trimmed(char *text)
{
	while (*text == ' ' || *text == '\t')
		text++;
	size_t n = strlen(text);
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		text[--n] = '\0';
	return text;
}

/* The delimiter of the header line: the one of ',' ';' that appears in it
 * (outside quotes) more often. */
static char detect_delimiter(const char *p, const char *end)
{
	int commas = 0, semicolons = 0, quoted = 0;
	for (; p < end && (quoted || (*p != '\n' && *p != '\r')); p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == ',')
			commas++;
		else if (!quoted && *p == ';')
			semicolons++;
	}
	return semicolons > commas ? ';' : ',';
}

/* ---- import: rows to events ---- */

struct row {
	int line;
	struct tt_event event;
	char programme[512];
	long *exception_days;
	int *moved_seconds;
	size_t exception_count;
};

static int row_fail(struct tt *tt, int line, const char *column, const char *fmt, const char *value)
{
	char reason[400];
	snprintf(reason, sizeof reason, fmt, value);
	return tt_fail(tt, TT_ERR_INVALID, "line %d: %s: %s", line, column, reason);
}

/* A whole number from min to max, or refused naming the column; an empty
 * text leaves *out as it is. */
static int number_field(struct tt *tt, int line, const char *column, const char *text,
			long long min, long long max, const char *refusal, long long *out)
{
	if (!text[0])
		return 0;
	char *end;
	long long value = strtoll(text, &end, 10);
	if (*end || value < min || value > max)
		return row_fail(tt, line, column, refusal, text);
	*out = value;
	return 0;
}

static int add_exception(struct row *row, long day, int second)
{
	for (size_t i = 0; i < row->exception_count; i++)
		if (row->exception_days[i] == day)
			return 1;
	long *days = realloc(row->exception_days, (row->exception_count + 1) * sizeof *days);
	if (days)
		row->exception_days = days;
	int *seconds = realloc(row->moved_seconds, (row->exception_count + 1) * sizeof *seconds);
	if (seconds)
		row->moved_seconds = seconds;
	if (!days || !seconds)
		return -1;
	row->exception_days[row->exception_count] = day;
	row->moved_seconds[row->exception_count++] = second;
	return 0;
}

/* The skip (moves = 0) or move (moves = 1) column: entries separated by spaces. */
static int parse_exceptions(struct tt *tt, struct row *row, char *text, int moves)
{
	const char *column = moves ? "move" : "skip";
	for (char *save = NULL, *word = strtok_r(text, " \t\r\n", &save); word;
	     word = strtok_r(NULL, " \t\r\n", &save)) {
		int second = -1;
		char *time_part = moves ? strchr(word, 'T') : NULL;
		if (moves && !time_part)
			return row_fail(tt, row->line, column, "'%s' is not DATE" "THH:MM:SS "
					"(e.g. 2026-12-01T06:00:00)", word);
		if (time_part) {
			*time_part++ = '\0';
			if ((second = tt_parse_time_lenient(time_part)) < 0)
				return row_fail(tt, row->line, column, "'%s' is not a time of day", time_part);
		}
		char date[11];
		if (tt_parse_date_lenient(word, date) < 0)
			return row_fail(tt, row->line, column, "'%s' is not a real date", word);
		int rc = add_exception(row, tt_day_of(date), second);
		if (rc < 0)
			return tt_fail(tt, TT_ERR_DB, "out of memory");
		if (rc > 0)
			return row_fail(tt, row->line, column, "%s is listed twice (skip and move "
					"together, or twice)", date);
	}
	return 0;
}

static int parse_row(struct tt *tt, const int *map, struct record *r, struct row *row)
{
	struct tt_event *e = &row->event;
	memset(row, 0, sizeof *row);
	row->line = r->line;
	*e = (struct tt_event){ .repeat_count = 1, .enabled = 1 };
	char *v[COLUMN_COUNT];
	for (int c = 0; c < COLUMN_COUNT; c++) {
		v[c] = "";
		if (map[c] >= 0 && map[c] < r->count)
			v[c] = c == COL_TITLE || c == COL_PROGRAMME ? r->fields[map[c]].text
								    : trimmed(r->fields[map[c]].text);
	}
	int line = r->line, rc;
	if ((rc = tt_check_text(tt, "title", v[COL_TITLE], sizeof e->title)) < 0)
		return row_fail(tt, line, "title", "%s", tt->error);
	tt_copy(e->title, sizeof e->title, v[COL_TITLE]);
	if ((e->start_second = tt_parse_time_lenient(v[COL_AT])) < 0)
		return row_fail(tt, line, "at", "'%s' is not a time of day (HH:MM or HH:MM:SS, "
				"00:00:00 to 23:59:59)", v[COL_AT]);
	for (char *c = v[COL_RECURRENCE]; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	int recurrence = tt_recurrence_parse(v[COL_RECURRENCE]);
	if (recurrence < 0)
		return row_fail(tt, line, "recurrence", "'%s' is not once, daily, weekdays or monthly",
				v[COL_RECURRENCE]);
	e->recurrence = recurrence;
	if ((recurrence == TT_ONCE) != (v[COL_DATE][0] != '\0'))
		return row_fail(tt, line, "date", "%s", recurrence == TT_ONCE
				? "a once event needs its date" : "only a once event has a date");
	if (recurrence == TT_ONCE && tt_parse_date_lenient(v[COL_DATE], e->on_date) < 0)
		return row_fail(tt, line, "date", "'%s' is not a real date (YYYY-MM-DD)", v[COL_DATE]);
	if ((recurrence == TT_WEEKDAYS) != (v[COL_DAYS][0] != '\0'))
		return row_fail(tt, line, "days", "%s", recurrence == TT_WEEKDAYS
				? "a weekdays event needs its days (e.g. mon,wed,fri)"
				: "only a weekdays event has days");
	for (char *c = v[COL_DAYS]; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (recurrence == TT_WEEKDAYS && tt_weekdays_parse(v[COL_DAYS], &e->weekdays) < 0)
		return row_fail(tt, line, "days", "'%s' is not a list of weekdays (e.g. mon,wed,fri)",
				v[COL_DAYS]);
	if ((recurrence == TT_MONTHLY) != (v[COL_MONTH_DAY][0] != '\0'))
		return row_fail(tt, line, "month_day", "%s", recurrence == TT_MONTHLY
				? "a monthly event needs its day of the month"
				: "only a monthly event has a day of the month");
	long long n = 0;
	if ((rc = number_field(tt, line, "month_day", v[COL_MONTH_DAY], 1, 31,
			       "'%s' is not a day of the month (1 to 31)", &n)) < 0)
		return rc;
	e->month_day = (int)n;
	if (v[COL_FROM][0] && tt_parse_date_lenient(v[COL_FROM], e->from_date) < 0)
		return row_fail(tt, line, "from", "'%s' is not a real date (YYYY-MM-DD)", v[COL_FROM]);
	if (v[COL_UNTIL][0] && tt_parse_date_lenient(v[COL_UNTIL], e->until_date) < 0)
		return row_fail(tt, line, "until", "'%s' is not a real date (YYYY-MM-DD)", v[COL_UNTIL]);
	if ((v[COL_MEDIA][0] != '\0') == (v[COL_PROGRAMME][0] != '\0'))
		return row_fail(tt, line, "media", "%s", "give either a media id or a programme name");
	n = 0;
	if ((rc = number_field(tt, line, "media", v[COL_MEDIA], 1, INT64_MAX,
			       "'%s' is not a media id (a whole number)", &n)) < 0)
		return rc;
	e->media_id = n;
	tt_copy(row->programme, sizeof row->programme, v[COL_PROGRAMME]);
	if (v[COL_PRIORITY][0]) {
		int priority = tt_priority_parse(v[COL_PRIORITY]);
		if (priority < 0)
			return row_fail(tt, line, "priority", "'%s' is not normal, priority or emergency",
					v[COL_PRIORITY]);
		e->priority = priority;
	}
	n = 1;
	if ((rc = number_field(tt, line, "repeat", v[COL_REPEAT], 1, 100,
			       "'%s' is not a whole number from 1 to 100", &n)) < 0)
		return rc;
	e->repeat_count = (int)n;
	n = 0;
	if ((rc = number_field(tt, line, "gap", v[COL_GAP], 0, 86400,
			       "'%s' is not a whole number of seconds from 0 to 86400", &n)) < 0)
		return rc;
	e->gap_seconds = (int)n;
	if (v[COL_RESUME][0]) {
		int resume = tt_resume_parse(v[COL_RESUME]);
		if (resume < 0)
			return row_fail(tt, line, "resume", "'%s' is not resume, restart, skip or rejoin",
					v[COL_RESUME]);
		e->resume = resume;
	}
	if (v[COL_ENABLED][0]) {
		const char *t = v[COL_ENABLED];
		if (!strcasecmp(t, "yes") || !strcasecmp(t, "true") || !strcmp(t, "1"))
			e->enabled = 1;
		else if (!strcasecmp(t, "no") || !strcasecmp(t, "false") || !strcmp(t, "0"))
			e->enabled = 0;
		else
			return row_fail(tt, line, "enabled", "'%s' is not yes or no", t);
	}
	if ((rc = parse_exceptions(tt, row, v[COL_SKIP], 0)) < 0)
		return rc;
	return parse_exceptions(tt, row, v[COL_MOVE], 1);
}

static int read_header(struct tt *tt, const struct record *r, int *map)
{
	for (int c = 0; c < COLUMN_COUNT; c++)
		map[c] = -1;
	if (r->too_many)
		return tt_fail(tt, TT_ERR_INVALID, "line %d: too many columns in the header", r->line);
	for (int i = 0; i < r->count; i++) {
		char *name = trimmed(r->fields[i].text);
		int found = -1;
		for (int c = 0; c < COLUMN_COUNT; c++)
			if (strcasecmp(name, column_names[c]) == 0)
				found = c;
		if (found < 0)
			return tt_fail(tt, TT_ERR_INVALID, "line %d: unknown column '%s'; the columns are "
				       "title, at, recurrence, date, days, month_day, from, until, media, "
				       "programme, priority, repeat, gap, resume, enabled, skip, move "
				       "(see docs/timetable.md)", r->line, name);
		if (map[found] >= 0)
			return tt_fail(tt, TT_ERR_INVALID, "line %d: the column '%s' appears twice",
				       r->line, name);
		map[found] = i;
	}
	if (map[COL_AT] < 0 || map[COL_RECURRENCE] < 0 || (map[COL_MEDIA] < 0 && map[COL_PROGRAMME] < 0))
		return tt_fail(tt, TT_ERR_INVALID, "line %d: the header must name at least the columns "
			       "at, recurrence and media or programme (is this a loaxa timetable?)",
			       r->line);
	return 0;
}

static void free_rows(struct row *rows, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(rows[i].exception_days);
		free(rows[i].moved_seconds);
	}
	free(rows);
}

/* Parses the whole text into rows; nothing touches the database. */
static int parse_text(struct tt *tt, const char *text, size_t length, struct row **out,
		      size_t *out_count)
{
	*out = NULL;
	*out_count = 0;
	if (length >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
		length -= 3;
	}
	if (memchr(text, '\0', length))
		return tt_fail(tt, TT_ERR_INVALID, "this is not a CSV text file (it holds NUL bytes); "
			       "save the sheet as CSV UTF-8");
	struct parser ps = { text, text + length, detect_delimiter(text, text + length), 1 };
	struct record r;
	int map[COLUMN_COUNT], rc;
	int header_count = 0;
	/* the header: the first record that is not blank */
	while ((rc = read_record(tt, &ps, &r)) > 0 && blank_record(&r))
		free_record(&r);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return tt_fail(tt, TT_ERR_INVALID, "the file is empty; it needs a header line and rows");
	rc = read_header(tt, &r, map);
	header_count = r.count;
	free_record(&r);
	if (rc < 0)
		return rc;
	struct row *rows = NULL;
	size_t count = 0;
	while ((rc = read_record(tt, &ps, &r)) > 0) {
		if (blank_record(&r)) {
			free_record(&r);
			continue;
		}
		if (r.too_many || r.count > header_count) {
			rc = tt_fail(tt, TT_ERR_INVALID, "line %d: more fields than the header's %d "
				     "columns (a missing quote around a field with a %c?)", r.line,
				     header_count, ps.delimiter);
			free_record(&r);
			break;
		}
		struct row *grown = realloc(rows, (count + 1) * sizeof *rows);
		if (!grown) {
			free_record(&r);
			rc = tt_fail(tt, TT_ERR_DB, "out of memory");
			break;
		}
		rows = grown;
		rc = parse_row(tt, map, &r, &rows[count]);
		free_record(&r);
		count++;
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		free_rows(rows, count);
		return rc;
	}
	*out = rows;
	*out_count = count;
	return 0;
}

/* ---- import: into the database ---- */

static int import_row(struct tt *tt, struct row *row, struct tt_rule_set *set)
{
	struct tt_event *e = &row->event;
	int rc = 0;
	if (row->programme[0]) {
		struct tt_programme p;
		rc = tt_programme_find(tt, row->programme, &p);
		e->programme_id = p.id;
	}
	if (rc == 0)
		rc = tt_event_insert(tt, e);
	for (size_t i = 0; rc == 0 && i < row->exception_count; i++) {
		char date[11];
		tt_date_of_day(row->exception_days[i], date);
		rc = tt_exception_insert(tt, e, date, row->moved_seconds[i]);
	}
	int64_t length_ns = 0;
	if (rc == 0 && e->enabled)
		rc = tt_event_length(tt, e, &length_ns);
	if (rc == 0 && e->enabled &&
	    tt_rules_add_event(set, e, length_ns, row->exception_days, row->moved_seconds,
			       row->exception_count) < 0)
		rc = tt_fail(tt, TT_ERR_DB, "out of memory");
	int second = e->start_second;
	if (rc == 0 && e->enabled)
		rc = tt_check_event_conflicts(tt, set, e->id, -1, TT_PLACE_EXACT, &second);
	if (rc == 0) {
		char description[1024];
		tt_event_describe(e, description, sizeof description);
		rc = tt_audit(tt, "event.import", "event", e->id, "imported from line %d: %s", row->line,
			      description);
	} else {
		char reason[sizeof tt->error];
		tt_copy(reason, sizeof reason, tt->error);
		tt_fail(tt, rc, "line %d: %s", row->line, reason);
	}
	return rc;
}

static int delete_all_events(struct tt *tt, int64_t *removed)
{
	int rc = tt_query_id(tt, "SELECT count(*) FROM event WHERE id > ?", 0, removed, NULL);
	return rc < 0 ? rc : tt_exec(tt, "DELETE FROM event WHERE id > ?1", 0, NULL,
				     "replacing the timetable");
}

int tt_import_csv(struct tt *tt, const char *text, size_t length, int replace, const char *source,
		  size_t *added)
{
	*added = 0;
	struct row *rows = NULL;
	size_t count = 0;
	int rc = parse_text(tt, text, length, &rows, &count);
	if (rc < 0)
		return rc;
	int64_t *ids = calloc(count + 1, sizeof *ids);
	int *lines = calloc(count + 1, sizeof *lines);
	struct tt_import_map map = { ids, lines, 0 };
	struct tt_rule_set set = { 0 };
	int64_t removed = 0;
	if (!ids || !lines) {
		rc = tt_fail(tt, TT_ERR_DB, "out of memory");
		goto done;
	}
	if ((rc = tt_begin(tt)) < 0)
		goto done;
	tt->import_map = &map;
	if (replace)
		rc = delete_all_events(tt, &removed);
	if (rc == 0)
		rc = tt_rules_load_upcoming(tt, &set, -1, 0);
	for (size_t i = 0; rc == 0 && i < count; i++) {
		rc = import_row(tt, &rows[i], &set);
		ids[map.count] = rows[i].event.id;
		lines[map.count++] = rows[i].line;
	}
	if (rc == 0)
		rc = tt_audit(tt, "schedule.import", "timetable", 0, "imported %zu event(s) from %s%s", count,
			      source ? source : "a CSV file",
			      replace ? " replacing the whole timetable" : "");
	if (rc == 0 && replace)
		rc = tt_audit(tt, "schedule.import", "timetable", 0, "removed the %" PRId64 " event(s) "
			      "there were before the import", removed);
	tt->import_map = NULL;
	rc = tt_finish(tt, rc);
	if (rc == 0)
		*added = count;
done:
	tt_rules_free(&set);
	free(ids);
	free(lines);
	free_rows(rows, count);
	return rc;
}
