/* The report over a period, from the as-run log (report.h): one query per
 * table, each over the same judged airings. */
#include <stdio.h>
#include <string.h>

#include "schedules/report.h"
#include "schedules/store_internal.h"

/* Each airing of the period, once, with its outcome. ?1..?2 the dates,
 * ?3 the category or NULL. */
#define JUDGED_SQL \
	"WITH airing AS (" \
	"  SELECT event_id, occurrence_date AS day, part, max(category) AS category," \
	"    max(title) AS title, max(planned_ns) AS planned_ns," \
	"    max(status = 'played') AS played, max(status = 'resumed') AS resumed," \
	"    max(status = 'failed') AS failed," \
	"    sum(CASE WHEN started_ns > 0 AND ended_ns > started_ns" \
	"        THEN ended_ns - started_ns ELSE 0 END) AS aired_ns" \
	"  FROM as_run WHERE event_id <> 0 AND status <> 'playing'" \
	"    AND occurrence_date BETWEEN ?1 AND ?2 AND (?3 IS NULL OR category = ?3)" \
	"  GROUP BY event_id, occurrence_date, part)," \
	" judged AS (SELECT *, CASE" \
	"    WHEN played OR (resumed AND aired_ns >= planned_ns - 100000000) THEN 'aired'" \
	"    WHEN failed THEN 'failed' WHEN aired_ns > 0 THEN 'partial' ELSE 'missed' END" \
	"    AS outcome FROM airing)"

#define COUNTS_SQL \
	"count(*), sum(outcome = 'aired'), sum(outcome = 'partial'), sum(outcome = 'missed')," \
	" sum(outcome = 'failed'), sum(aired_ns)"

/* Manual and emergency broadcasts of the period. */
#define MANUAL_WHERE \
	" FROM as_run WHERE event_id = 0 AND status <> 'playing'" \
	" AND occurrence_date BETWEEN ?1 AND ?2 AND (?3 IS NULL OR category = ?3)"

static sqlite3_stmt *prepare(struct tt *tt, const char *sql, const char *from, const char *until,
			     const char *category)
{
	sqlite3_stmt *stmt = tt_prepare(tt, sql);
	if (!stmt)
		return NULL;
	sqlite3_bind_text(stmt, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, until, -1, SQLITE_STATIC);
	if (category)
		sqlite3_bind_text(stmt, 3, category, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 3);
	return stmt;
}

static double seconds(int64_t ns)
{
	return (double)(ns / 1000000) / 1e3;   /* to the millisecond */
}

/* The counts of COUNTS_SQL from column `first` on, into object. */
static void add_counts(cJSON *object, sqlite3_stmt *stmt, int first)
{
	int64_t planned = sqlite3_column_int64(stmt, first);
	int64_t aired = sqlite3_column_int64(stmt, first + 1);
	cJSON_AddNumberToObject(object, "planned", (double)planned);
	cJSON_AddNumberToObject(object, "aired", (double)aired);
	cJSON_AddNumberToObject(object, "partial", (double)sqlite3_column_int64(stmt, first + 2));
	cJSON_AddNumberToObject(object, "missed", (double)sqlite3_column_int64(stmt, first + 3));
	cJSON_AddNumberToObject(object, "failed", (double)sqlite3_column_int64(stmt, first + 4));
	cJSON_AddNumberToObject(object, "seconds_aired", seconds(sqlite3_column_int64(stmt, first + 5)));
	if (planned)
		cJSON_AddNumberToObject(object, "rate", (double)aired / (double)planned);
	else
		cJSON_AddNullToObject(object, "rate");
}

static const char *text_of(sqlite3_stmt *stmt, int column)
{
	const char *text = (const char *)sqlite3_column_text(stmt, column);
	return text ? text : "";
}

/* Per category, and per title within it. */
static int add_categories(struct tt *tt, cJSON *report, const char *from, const char *until,
			  const char *category)
{
	sqlite3_stmt *stmt = prepare(tt, JUDGED_SQL " SELECT category, title, " COUNTS_SQL
				     " FROM judged GROUP BY category, title ORDER BY category, title",
				     from, until, category);
	if (!stmt)
		return TT_ERR_DB;
	cJSON *categories = cJSON_AddArrayToObject(report, "categories");
	cJSON *current = NULL, *titles = NULL;
	int64_t sums[6] = { 0 };
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *name = text_of(stmt, 0);
		if (!current || strcmp(name, cJSON_GetObjectItem(current, "category")->valuestring) != 0) {
			current = cJSON_CreateObject();
			cJSON_AddItemToArray(categories, current);
			cJSON_AddStringToObject(current, "category", name);
			titles = cJSON_AddArrayToObject(current, "titles");
		}
		cJSON *title = cJSON_CreateObject();
		cJSON_AddStringToObject(title, "title", text_of(stmt, 1));
		add_counts(title, stmt, 2);
		cJSON_AddItemToArray(titles, title);
		for (int i = 0; i < 6; i++)
			sums[i] += sqlite3_column_int64(stmt, 2 + i);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return tt_fail_db(tt, "reading the as-run log for the report");
	/* each category's own counts: the sum of its titles' */
	cJSON *each;
	cJSON_ArrayForEach(each, categories) {
		double total[6] = { 0 };
		static const char *const keys[6] = { "planned", "aired", "partial", "missed", "failed",
						     "seconds_aired" };
		cJSON *t;
		cJSON_ArrayForEach(t, cJSON_GetObjectItem(each, "titles"))
			for (int i = 0; i < 6; i++)
				total[i] += cJSON_GetObjectItem(t, keys[i])->valuedouble;
		for (int i = 0; i < 6; i++)
			cJSON_AddNumberToObject(each, keys[i], total[i]);
		if (total[0] > 0)
			cJSON_AddNumberToObject(each, "rate", total[1] / total[0]);
		else
			cJSON_AddNullToObject(each, "rate");
	}
	cJSON *totals = cJSON_AddObjectToObject(report, "totals");
	cJSON_AddNumberToObject(totals, "planned", (double)sums[0]);
	cJSON_AddNumberToObject(totals, "aired", (double)sums[1]);
	cJSON_AddNumberToObject(totals, "partial", (double)sums[2]);
	cJSON_AddNumberToObject(totals, "missed", (double)sums[3]);
	cJSON_AddNumberToObject(totals, "failed", (double)sums[4]);
	cJSON_AddNumberToObject(totals, "seconds_aired", seconds(sums[5]));
	if (sums[0])
		cJSON_AddNumberToObject(totals, "rate", (double)sums[1] / (double)sums[0]);
	else
		cJSON_AddNullToObject(totals, "rate");
	return 0;
}

static int add_manual(struct tt *tt, cJSON *report, const char *from, const char *until,
		      const char *category)
{
	sqlite3_stmt *stmt = prepare(tt, "SELECT started_ns, ended_ns, title, priority, status,"
				     " triggered_by, detail, occurrence_date" MANUAL_WHERE
				     " ORDER BY started_ns, id", from, until, category);
	if (!stmt)
		return TT_ERR_DB;
	cJSON *manual = cJSON_AddArrayToObject(report, "manual");
	int64_t total_ns = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t started = sqlite3_column_int64(stmt, 0), ended = sqlite3_column_int64(stmt, 1);
		int64_t on_air = started > 0 && ended > started ? ended - started : 0;
		total_ns += on_air;
		cJSON *row = cJSON_CreateObject();
		cJSON_AddStringToObject(row, "date", text_of(stmt, 7));
		cJSON_AddNumberToObject(row, "started_ns", (double)started);
		cJSON_AddStringToObject(row, "title", text_of(stmt, 2));
		cJSON_AddStringToObject(row, "priority",
					tt_priority_name((enum tt_priority)sqlite3_column_int(stmt, 3)));
		cJSON_AddStringToObject(row, "status", text_of(stmt, 4));
		cJSON_AddNumberToObject(row, "seconds", seconds(on_air));
		cJSON_AddStringToObject(row, "triggered_by", text_of(stmt, 5));
		const char *reason = text_of(stmt, 6);   /* as `loaxa emergency --reason` wrote it */
		if (strncmp(reason, "reason: ", 8) == 0)
			reason += 8;
		cJSON_AddStringToObject(row, "reason", reason);
		cJSON_AddItemToArray(manual, row);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return tt_fail_db(tt, "reading the manual broadcasts for the report");
	cJSON *totals = cJSON_GetObjectItem(report, "totals");
	cJSON_AddNumberToObject(totals, "manual", (double)cJSON_GetArraySize(manual));
	cJSON_AddNumberToObject(totals, "manual_seconds", seconds(total_ns));
	return 0;
}

static int add_days(struct tt *tt, cJSON *report, const char *from, const char *until,
		    const char *category)
{
	sqlite3_stmt *stmt = prepare(tt, JUDGED_SQL
		" SELECT day, sum(planned), sum(aired), sum(manual), sum(aired_ns) FROM ("
		"  SELECT day, 1 AS planned, outcome <> 'missed' AND aired_ns > 0 AS aired,"
		"   0 AS manual, aired_ns FROM judged"
		"  UNION ALL SELECT occurrence_date, 0, 1, 1, CASE WHEN started_ns > 0 AND"
		"   ended_ns > started_ns THEN ended_ns - started_ns ELSE 0 END" MANUAL_WHERE
		" ) GROUP BY day ORDER BY day", from, until, category);
	if (!stmt)
		return TT_ERR_DB;
	cJSON *days = cJSON_AddArrayToObject(report, "days");
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		cJSON *day = cJSON_CreateObject();
		cJSON_AddStringToObject(day, "date", text_of(stmt, 0));
		cJSON_AddNumberToObject(day, "planned", (double)sqlite3_column_int64(stmt, 1));
		cJSON_AddNumberToObject(day, "airings", (double)sqlite3_column_int64(stmt, 2));
		cJSON_AddNumberToObject(day, "manual", (double)sqlite3_column_int64(stmt, 3));
		cJSON_AddNumberToObject(day, "seconds_aired", seconds(sqlite3_column_int64(stmt, 4)));
		cJSON_AddItemToArray(days, day);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return tt_fail_db(tt, "reading the days for the report");
	return 0;
}

cJSON *tt_report(struct tt *tt, const char *from, const char *until, const char *category)
{
	cJSON *report = cJSON_CreateObject();
	if (!report) {
		tt_fail(tt, TT_ERR_DB, "out of memory");
		return NULL;
	}
	cJSON *period = cJSON_AddObjectToObject(report, "period");
	cJSON_AddStringToObject(period, "from", from);
	cJSON_AddStringToObject(period, "until", until);
	if (category)
		cJSON_AddStringToObject(report, "category", category);
	else
		cJSON_AddNullToObject(report, "category");
	/* one read transaction: the tables agree with each other */
	int rc = sqlite3_exec(tt->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0
		 : tt_fail_db(tt, "reading the as-run log for the report");
	if (rc == 0)
		rc = add_categories(tt, report, from, until, category);
	if (rc == 0)
		rc = add_manual(tt, report, from, until, category);
	if (rc == 0)
		rc = add_days(tt, report, from, until, category);
	char head[65];
	int64_t seq = 0;
	if (rc == 0 && (rc = tt_chain_head(tt, from, until, head, &seq)) == 0) {
		cJSON *chain = cJSON_AddObjectToObject(report, "chain");
		cJSON_AddStringToObject(chain, "head", head);
		cJSON_AddNumberToObject(chain, "seq", (double)seq);
	}
	sqlite3_exec(tt->db, "COMMIT", NULL, NULL, NULL);
	if (rc < 0) {
		cJSON_Delete(report);
		return NULL;
	}
	return report;
}
