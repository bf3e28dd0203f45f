#include <math.h>
#include <string.h>

#include "schedules/store_internal.h"

#define MEDIA_COLUMNS \
	"id, sha256, path, original_name, title, category, codec, rate, channels, frames," \
	" loudness_lufs, loudness_range_lu, true_peak_dbtp, sample_peak_dbfs," \
	" leading_silence_frames, trailing_silence_frames, gain_db, trim_db, imported_at"

static void bind_real_or_null(sqlite3_stmt *stmt, int index, double value)
{
	if (isfinite(value))
		sqlite3_bind_double(stmt, index, value);
	else
		sqlite3_bind_null(stmt, index);
}

static double column_real_or_nan(sqlite3_stmt *stmt, int column)
{
	if (sqlite3_column_type(stmt, column) == SQLITE_NULL)
		return NAN;
	return sqlite3_column_double(stmt, column);
}

static void read_media(sqlite3_stmt *stmt, struct tt_media *m)
{
	memset(m, 0, sizeof *m);
	m->id = sqlite3_column_int64(stmt, 0);
	tt_column_text(stmt, 1, m->sha256, sizeof m->sha256);
	tt_column_text(stmt, 2, m->path, sizeof m->path);
	tt_column_text(stmt, 3, m->original_name, sizeof m->original_name);
	tt_column_text(stmt, 4, m->title, sizeof m->title);
	tt_column_text(stmt, 5, m->category, sizeof m->category);
	tt_column_text(stmt, 6, m->codec, sizeof m->codec);
	m->rate = sqlite3_column_int(stmt, 7);
	m->channels = sqlite3_column_int(stmt, 8);
	m->frames = sqlite3_column_int64(stmt, 9);
	m->loudness_lufs = column_real_or_nan(stmt, 10);
	m->loudness_range_lu = column_real_or_nan(stmt, 11);
	m->true_peak_dbtp = column_real_or_nan(stmt, 12);
	m->sample_peak_dbfs = column_real_or_nan(stmt, 13);
	m->leading_silence_frames = sqlite3_column_int64(stmt, 14);
	m->trailing_silence_frames = sqlite3_column_int64(stmt, 15);
	m->gain_db = sqlite3_column_double(stmt, 16);
	m->trim_db = sqlite3_column_double(stmt, 17);
	tt_column_text(stmt, 18, m->imported_at, sizeof m->imported_at);
}

static int find_by_hash(struct tt *tt, const char *sha256, int64_t *id)
{
	sqlite3_stmt *stmt = tt_prepare(tt, "SELECT id FROM media WHERE sha256 = ?");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_text(stmt, 1, sha256, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	int found = rc == SQLITE_ROW;
	if (found)
		*id = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return tt_fail_db(tt, "looking up media");
	return found;
}

int tt_media_add(struct tt *tt, const struct tt_media *m, int64_t *id, int *existed)
{
	sqlite3_stmt *stmt = NULL;
	int rc = tt_begin(tt);
	if (rc < 0)
		return rc;
	*existed = 0;
	rc = find_by_hash(tt, m->sha256, id);
	if (rc < 0)
		goto fail;
	if (rc == 1) {
		*existed = 1;
		return tt_commit(tt);
	}
	char now[32];
	tt_now_text(now);
	stmt = tt_prepare(tt, "INSERT INTO media (id, sha256, path, original_name, title, category,"
			      " codec, rate, channels, frames, loudness_lufs, loudness_range_lu,"
			      " true_peak_dbtp, sample_peak_dbfs, leading_silence_frames,"
			      " trailing_silence_frames, gain_db, trim_db, imported_at)"
			      " VALUES (" TT_NEXT_ID("media") ",?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
	if (!stmt) {
		rc = TT_ERR_DB;
		goto fail;
	}
	sqlite3_bind_text(stmt, 1, m->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, m->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, m->original_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, m->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, m->category, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, m->codec, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 7, m->rate);
	sqlite3_bind_int(stmt, 8, m->channels);
	sqlite3_bind_int64(stmt, 9, m->frames);
	bind_real_or_null(stmt, 10, m->loudness_lufs);
	bind_real_or_null(stmt, 11, m->loudness_range_lu);
	bind_real_or_null(stmt, 12, m->true_peak_dbtp);
	bind_real_or_null(stmt, 13, m->sample_peak_dbfs);
	sqlite3_bind_int64(stmt, 14, m->leading_silence_frames);
	sqlite3_bind_int64(stmt, 15, m->trailing_silence_frames);
	sqlite3_bind_double(stmt, 16, m->gain_db);
	sqlite3_bind_double(stmt, 17, m->trim_db);
	sqlite3_bind_text(stmt, 18, now, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		rc = tt_fail_db(tt, "adding media");
		goto fail;
	}
	*id = sqlite3_last_insert_rowid(tt->db);
	sqlite3_finalize(stmt);
	stmt = NULL;
	rc = tt_audit(tt, "media.import", "media", *id, "imported \"%s\" from %s (%s, %.1f s)", m->title,
		      m->original_name, m->codec, m->rate > 0 ? (double)m->frames / m->rate : 0.0);
	if (rc < 0)
		goto fail;
	return tt_commit(tt);
fail:
	sqlite3_finalize(stmt);
	tt_rollback(tt);
	return rc;
}

int tt_media_get(struct tt *tt, int64_t id, struct tt_media *out)
{
	sqlite3_stmt *stmt = tt_prepare(tt, "SELECT " MEDIA_COLUMNS " FROM media WHERE id = ?");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, id);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		read_media(stmt, out);
	sqlite3_finalize(stmt);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return tt_fail(tt, TT_ERR_NOT_FOUND,
			       "there is no media %lld; 'loaxa media list' shows the library",
			       (long long)id);
	return tt_fail_db(tt, "reading media");
}

int tt_media_each(struct tt *tt, int (*fn)(void *user, const struct tt_media *m), void *user)
{
	sqlite3_stmt *stmt = tt_prepare(tt, "SELECT " MEDIA_COLUMNS " FROM media ORDER BY id");
	if (!stmt)
		return TT_ERR_DB;
	int rc;
	struct tt_media m;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		read_media(stmt, &m);
		if (fn(user, &m))
			break;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return tt_fail_db(tt, "listing media");
	return 0;
}

int tt_media_remove(struct tt *tt, int64_t id, int force)
{
	sqlite3_stmt *stmt = NULL;
	int rc = tt_begin(tt);
	if (rc < 0)
		return rc;
	stmt = tt_prepare(tt, "SELECT (SELECT count(*) FROM media WHERE id = ?1),"
			      " (SELECT count(*) FROM event WHERE media_id = ?1)"
			      " + (SELECT count(*) FROM programme_item WHERE media_id = ?1),"
			      " (SELECT title FROM media WHERE id = ?1)");
	if (!stmt) {
		rc = TT_ERR_DB;
		goto fail;
	}
	sqlite3_bind_int64(stmt, 1, id);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		rc = tt_fail_db(tt, "removing media");
		goto fail;
	}
	int exists = sqlite3_column_int(stmt, 0), uses = sqlite3_column_int(stmt, 1);
	char title[512];
	tt_column_text(stmt, 2, title, sizeof title);
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (!exists) {
		rc = tt_fail(tt, TT_ERR_NOT_FOUND, "there is no media %lld", (long long)id);
		goto fail;
	}
	if (uses && !force) {
		rc = tt_fail(tt, TT_ERR_IN_USE,
			     "media %lld is used by %d event(s) or programme item(s); remove those "
			     "first or use --force", (long long)id, uses);
		goto fail;
	}
	const char *const statements[] = {
		"DELETE FROM event WHERE media_id = ?",
		"DELETE FROM programme_item WHERE media_id = ?",
		"DELETE FROM media WHERE id = ?",
	};
	for (size_t i = 0; rc == 0 && i < sizeof statements / sizeof statements[0]; i++)
		rc = tt_exec(tt, statements[i], id, NULL, "removing media");
	if (rc < 0)
		goto fail;
	rc = tt_audit(tt, "media.remove", "media", id, "removed \"%s\"%s", title,
		      uses ? " and the events and programme items that played it" : "");
	if (rc < 0)
		goto fail;
	return tt_commit(tt);
fail:
	sqlite3_finalize(stmt);
	tt_rollback(tt);
	return rc;
}
