/* The as-run log's chain (report.h, store_internal.h): rows are chained by
 * triggers as they become final, through loaxa_sha256(), which every
 * connection of loaxa registers; verification recomputes the chain. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sha2.h>

#include "schedules/report.h"
#include "schedules/store_internal.h"

static void sha256_function(sqlite3_context *context, int argc, sqlite3_value **argv)
{
	(void)argc;
	static const char digits[] = "0123456789abcdef";
	const unsigned char *text = sqlite3_value_text(argv[0]);
	int length = sqlite3_value_bytes(argv[0]);
	uint8_t digest[SHA256_DIGEST_LENGTH];
	SHA2_CTX ctx;
	SHA256Init(&ctx);
	if (text)
		SHA256Update(&ctx, text, (size_t)length);
	SHA256Final(digest, &ctx);
	char hex[2 * SHA256_DIGEST_LENGTH + 1];
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	hex[sizeof hex - 1] = '\0';
	sqlite3_result_text(context, hex, -1, SQLITE_TRANSIENT);
}

int tt_chain_register(sqlite3 *db)
{
	return sqlite3_create_function(db, "loaxa_sha256", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
				       NULL, sha256_function, NULL, NULL);
}

int tt_chain_existing(struct tt *tt)
{
	sqlite3_stmt *stmt = tt_prepare(tt, "SELECT id FROM as_run WHERE chain_seq IS NULL"
					    " AND status <> 'playing' ORDER BY id");
	if (!stmt)
		return TT_ERR_DB;
	int rc = 0, step;
	while (rc == 0 && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
		char sql[2048], id[32];
		snprintf(id, sizeof id, "%lld", (long long)sqlite3_column_int64(stmt, 0));
		/* TT_CHAIN_SQL with the id in place of its expression */
		const char *model = TT_CHAIN_SQL("@");
		size_t used = 0;
		for (const char *p = model; *p && used + sizeof id < sizeof sql; p++) {
			if (*p == '@')
				used += (size_t)snprintf(sql + used, sizeof sql - used, "%s", id);
			else
				sql[used++] = *p;
		}
		sql[used] = '\0';
		if (sqlite3_exec(tt->db, sql, NULL, NULL, NULL) != SQLITE_OK)
			rc = tt_fail_db(tt, "chaining the as-run log");
	}
	sqlite3_finalize(stmt);
	return rc;
}

static void describe_row(sqlite3_stmt *stmt, char *out, size_t size)
{
	/* columns 5..: occurrence_date, title, scheduled_ns, started_ns */
	const char *date = (const char *)sqlite3_column_text(stmt, 5);
	const char *title = (const char *)sqlite3_column_text(stmt, 6);
	snprintf(out, size, "row %lld ('%s'%s%s)", (long long)sqlite3_column_int64(stmt, 0),
		 title ? title : "", date && *date ? ", " : "", date ? date : "");
}

int tt_chain_verify(struct tt *tt, struct tt_chain_check *out)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt = tt_prepare(tt,
		"SELECT id, chain_seq, chain, loaxa_sha256(coalesce(lag(chain) OVER w, '') || '|' ||"
		" chain_seq || '|' || " TT_CHAIN_ROW_TEXT "), lag(chain_seq) OVER w,"
		" occurrence_date, title FROM as_run WHERE chain_seq IS NOT NULL"
		" WINDOW w AS (ORDER BY chain_seq) ORDER BY chain_seq");
	if (!stmt)
		return TT_ERR_DB;
	int step;
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(stmt, 1);
		int64_t previous = sqlite3_column_type(stmt, 4) == SQLITE_NULL ? 0
				   : sqlite3_column_int64(stmt, 4);
		const char *chain = (const char *)sqlite3_column_text(stmt, 2);
		const char *expected = (const char *)sqlite3_column_text(stmt, 3);
		char row[700];
		describe_row(stmt, row, sizeof row);
		if (!out->bad_id && seq != previous + 1) {
			out->bad_id = sqlite3_column_int64(stmt, 0);
			snprintf(out->problem, sizeof out->problem, "%" PRId64 " row(s) before %s were "
				 "removed from the as-run log", seq - previous - 1, row);
		} else if (!out->bad_id && (!chain || !expected || strcmp(chain, expected) != 0)) {
			out->bad_id = sqlite3_column_int64(stmt, 0);
			snprintf(out->problem, sizeof out->problem, "%s was changed after it was written",
				 row);
		}
		out->rows++;
		out->head_seq = seq;
		snprintf(out->head, sizeof out->head, "%s", chain ? chain : "");
	}
	sqlite3_finalize(stmt);
	if (step != SQLITE_DONE)
		return tt_fail_db(tt, "verifying the as-run log");
	if (!out->bad_id) {
		stmt = tt_prepare(tt, "SELECT id, 0, 0, 0, 0, occurrence_date, title FROM as_run"
				      " WHERE chain_seq IS NULL AND status <> 'playing' ORDER BY id LIMIT 1");
		if (!stmt)
			return TT_ERR_DB;
		if ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
			char row[700];
			describe_row(stmt, row, sizeof row);
			out->bad_id = sqlite3_column_int64(stmt, 0);
			snprintf(out->problem, sizeof out->problem, "%s was inserted into the as-run log "
				 "by something other than the station (it is not chained)", row);
		}
		sqlite3_finalize(stmt);
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			return tt_fail_db(tt, "verifying the as-run log");
	}
	int64_t last = 0;
	if (!out->bad_id && tt_state_get(tt, "as_run_chain_seq", &last) == 0 && last > out->head_seq)
		snprintf(out->problem, sizeof out->problem, "the last %" PRId64 " row(s) of the as-run "
			 "log were removed (it had %" PRId64 ", it has %" PRId64 ")",
			 last - out->head_seq, last, out->head_seq);
	return out->problem[0] ? 1 : 0;
}

int tt_chain_head(struct tt *tt, const char *from, const char *until, char head[65], int64_t *seq)
{
	head[0] = '\0';
	*seq = 0;
	sqlite3_stmt *stmt = tt_prepare(tt, "SELECT chain_seq, chain FROM as_run WHERE chain_seq ="
					    " (SELECT max(chain_seq) FROM as_run WHERE occurrence_date"
					    " BETWEEN ?1 AND ?2)");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_text(stmt, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, until, -1, SQLITE_STATIC);
	int step = sqlite3_step(stmt);
	if (step == SQLITE_ROW) {
		*seq = sqlite3_column_int64(stmt, 0);
		tt_column_text(stmt, 1, head, 65);
	}
	sqlite3_finalize(stmt);
	return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : tt_fail_db(tt, "reading the chain");
}
