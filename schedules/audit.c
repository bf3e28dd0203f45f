/* The audit trail: one row per edit, written in the edit's own transaction.
 * The table refuses updates and deletes (triggers in the schema). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "playout/clock.h"
#include "schedules/store_internal.h"

int tt_audit(struct tt *tt, const char *action, const char *kind, int64_t id, const char *fmt, ...)
{
	char detail[2048], subject[64];
	if (id > 0)
		snprintf(subject, sizeof subject, "%s %" PRId64, kind, id);
	else
		tt_copy(subject, sizeof subject, kind);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	/* one reading: at_ns and its text agree */
	int64_t now_ns = station_clock_ns();
	char at[32];
	tt_instant_text(now_ns, at);
	sqlite3_stmt *stmt = tt_prepare(tt, "INSERT INTO audit (at_ns, at, operator, action, subject,"
					    " detail) VALUES (?, ?, ?, ?, ?, ?)");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, now_ns);
	sqlite3_bind_text(stmt, 2, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, tt->operator_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, detail, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : tt_fail_db(tt, "writing the audit trail");
	sqlite3_finalize(stmt);
	return rc;
}

int tt_audit_each(struct tt *tt, int64_t since_ns,
		  int (*fn)(void *user, const struct tt_audit_entry *entry), void *user)
{
	sqlite3_stmt *stmt = tt_prepare(tt, "SELECT id, at_ns, operator, action, subject, detail"
					    " FROM audit WHERE at_ns >= ? ORDER BY id");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, since_ns);
	struct tt_audit_entry entry;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&entry, 0, sizeof entry);
		entry.id = sqlite3_column_int64(stmt, 0);
		entry.at_ns = sqlite3_column_int64(stmt, 1);
		tt_column_text(stmt, 2, entry.operator_name, sizeof entry.operator_name);
		tt_column_text(stmt, 3, entry.action, sizeof entry.action);
		tt_column_text(stmt, 4, entry.subject, sizeof entry.subject);
		tt_column_text(stmt, 5, entry.detail, sizeof entry.detail);
		if (fn(user, &entry))
			break;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return tt_fail_db(tt, "reading the audit trail");
	return 0;
}
