/* Programmes: named, ordered lists of media items. Editing one changes the
 * length of the events that play it, so they are re-checked in the same
 * transaction. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "schedules/store_internal.h"

#define PROGRAMME_SELECT \
	"SELECT p.id, p.name, p.category, p.created_at," \
	" (SELECT count(*) FROM programme_item WHERE programme_id = p.id)," \
	" (SELECT coalesce(sum(m.frames * 1000000000 / m.rate), 0) FROM programme_item i" \
	"  JOIN media m ON m.id = i.media_id WHERE i.programme_id = p.id)," \
	" (SELECT count(*) FROM event WHERE programme_id = p.id) FROM programme p "

static void read_programme(sqlite3_stmt *stmt, struct tt_programme *p)
{
	memset(p, 0, sizeof *p);
	p->id = sqlite3_column_int64(stmt, 0);
	tt_column_text(stmt, 1, p->name, sizeof p->name);
	tt_column_text(stmt, 2, p->category, sizeof p->category);
	tt_column_text(stmt, 3, p->created_at, sizeof p->created_at);
	p->item_count = sqlite3_column_int(stmt, 4);
	p->duration_ns = sqlite3_column_int64(stmt, 5);
	p->event_count = sqlite3_column_int(stmt, 6);
}

/* Reads one programme by id (name NULL) or by name. */
static int lookup(struct tt *tt, int64_t id, const char *name, struct tt_programme *out)
{
	sqlite3_stmt *stmt = tt_prepare(tt, name ? PROGRAMME_SELECT "WHERE p.name = ?"
						 : PROGRAMME_SELECT "WHERE p.id = ?");
	if (!stmt)
		return TT_ERR_DB;
	if (name)
		sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(stmt, 1, id);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		read_programme(stmt, out);
	sqlite3_finalize(stmt);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return tt_fail_db(tt, "reading the programme");
	if (name)
		return tt_fail(tt, TT_ERR_NOT_FOUND, "there is no programme named \"%s\"; "
			       "'loaxa programme list' shows them", name);
	return tt_fail(tt, TT_ERR_NOT_FOUND, "there is no programme %" PRId64 "; "
		       "'loaxa programme list' shows them", id);
}

int tt_programme_get(struct tt *tt, int64_t id, struct tt_programme *out)
{
	return lookup(tt, id, NULL, out);
}

int tt_programme_find(struct tt *tt, const char *name, struct tt_programme *out)
{
	return lookup(tt, 0, name, out);
}

int tt_programme_each(struct tt *tt, int (*fn)(void *user, const struct tt_programme *p),
		      void *user)
{
	sqlite3_stmt *stmt = tt_prepare(tt, PROGRAMME_SELECT "ORDER BY p.id");
	if (!stmt)
		return TT_ERR_DB;
	struct tt_programme p;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		read_programme(stmt, &p);
		if (fn(user, &p))
			break;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return tt_fail_db(tt, "listing programmes");
	return 0;
}

int tt_programme_items(struct tt *tt, int64_t id, struct tt_programme_item **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	sqlite3_stmt *stmt = tt_prepare(tt, "SELECT m.id, m.title, m.frames * 1000000000 / m.rate"
		" FROM programme_item i JOIN media m ON m.id = i.media_id"
		" WHERE i.programme_id = ? ORDER BY i.position");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, id);
	struct tt_programme_item *items = NULL;
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct tt_programme_item *grown = realloc(items, (n + 1) * sizeof *items);
		if (!grown) {
			rc = SQLITE_NOMEM;
			break;
		}
		items = grown;
		struct tt_programme_item *item = &items[n++];
		memset(item, 0, sizeof *item);
		item->position = (int)n;
		item->media_id = sqlite3_column_int64(stmt, 0);
		tt_column_text(stmt, 1, item->title, sizeof item->title);
		item->duration_ns = sqlite3_column_int64(stmt, 2);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		free(items);
		return rc == SQLITE_NOMEM ? tt_fail(tt, TT_ERR_DB, "out of memory")
					  : tt_fail_db(tt, "reading the programme");
	}
	*out = items;
	*count = n;
	return 0;
}

int tt_programme_create(struct tt *tt, const char *name, const char *category, int64_t *id)
{
	struct tt_programme p;
	if (!name || !*name)
		return tt_fail(tt, TT_ERR_INVALID, "a programme needs a name");
	category = category ? category : "";
	int rc = tt_check_text(tt, "programme name", name, sizeof p.name);
	if (rc == 0)
		rc = tt_check_text(tt, "category", category, sizeof p.category);
	if (rc < 0)
		return rc;
	if ((rc = tt_begin(tt)) < 0)
		return rc;
	rc = lookup(tt, 0, name, &p);
	if (rc == 0)
		rc = tt_fail(tt, TT_ERR_INVALID, "there is already a programme named \"%s\" "
			     "(programme %" PRId64 ")", name, p.id);
	else if (rc == TT_ERR_NOT_FOUND)
		rc = 0;
	sqlite3_stmt *stmt = NULL;
	if (rc == 0) {
		char now[32];
		tt_now_text(now);
		stmt = tt_prepare(tt, "INSERT INTO programme (id, name, category, created_at)"
				      " VALUES (" TT_NEXT_ID("programme") ", ?, ?, ?)");
		if (!stmt)
			rc = TT_ERR_DB;
		else {
			sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
			sqlite3_bind_text(stmt, 2, category, -1, SQLITE_STATIC);
			sqlite3_bind_text(stmt, 3, now, -1, SQLITE_STATIC);
			rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : tt_fail_db(tt, "creating the programme");
		}
		sqlite3_finalize(stmt);
	}
	if (rc == 0) {
		*id = sqlite3_last_insert_rowid(tt->db);
		rc = tt_audit(tt, "programme.create", "programme", *id, "created programme \"%s\" (category \"%s\")",
			      name, category);
	}
	return tt_finish(tt, rc);
}

/* Re-checks every enabled event that plays the programme against the whole
 * timetable, read once. (A disabled one is checked when enabled.) */
static int recheck_events(struct tt *tt, int64_t programme_id)
{
	sqlite3_stmt *stmt = tt_prepare(tt, "SELECT id FROM event WHERE programme_id = ?"
					    " AND enabled = 1 ORDER BY id");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, programme_id);
	int64_t *ids = NULL;
	size_t count = 0;
	int step;
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t *grown = realloc(ids, (count + 1) * sizeof *ids);
		if (!grown)
			break;
		ids = grown;
		ids[count++] = sqlite3_column_int64(stmt, 0);
	}
	sqlite3_finalize(stmt);
	int rc = step == SQLITE_DONE ? 0 : tt_fail(tt, TT_ERR_DB, "reading the programme's events");
	struct tt_rule_set set = { 0 };
	if (rc == 0 && count)
		rc = tt_rules_load_upcoming(tt, &set, -1, 0);
	for (size_t i = 0; rc == 0 && i < count; i++) {
		int second = 0;
		rc = tt_check_event_conflicts(tt, &set, ids[i], -1, TT_PLACE_EXACT, &second);
		if (rc == TT_ERR_CONFLICT || rc == TT_ERR_INVALID) {
			char reason[sizeof tt->error];
			tt_copy(reason, sizeof reason, tt->error);
			tt_fail(tt, rc, "event %" PRId64 " plays this programme: %s", ids[i], reason);
		}
	}
	tt_rules_free(&set);
	free(ids);
	return rc;
}

static int insert_item(struct tt *tt, int64_t programme_id, int position, int64_t media_id)
{
	sqlite3_stmt *stmt = tt_prepare(tt, "INSERT INTO programme_item (programme_id, position,"
					    " media_id) VALUES (?, ?, ?)");
	if (!stmt)
		return TT_ERR_DB;
	sqlite3_bind_int64(stmt, 1, programme_id);
	sqlite3_bind_int(stmt, 2, position);
	sqlite3_bind_int64(stmt, 3, media_id);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : tt_fail_db(tt, "adding to the programme");
	sqlite3_finalize(stmt);
	return rc;
}

static void duration_text(int64_t ns, char out[32])
{
	int64_t seconds = (ns + TT_NS / 2) / TT_NS;
	snprintf(out, 32, "%" PRId64 ":%02d:%02d", seconds / 3600, (int)(seconds / 60 % 60),
		 (int)(seconds % 60));
}

int tt_programme_append(struct tt *tt, int64_t id, const int64_t *media_ids, size_t count)
{
	struct tt_programme p;
	if (count == 0)
		return tt_fail(tt, TT_ERR_INVALID, "name at least one media id to add");
	int rc = tt_begin(tt);
	if (rc < 0)
		return rc;
	rc = lookup(tt, id, NULL, &p);
	int64_t last_position = 0;
	if (rc == 0)
		rc = tt_query_id(tt, "SELECT coalesce(max(position), 0) FROM programme_item"
				 " WHERE programme_id = ?", id, &last_position, NULL);
	char added[512] = "";
	for (size_t i = 0; rc == 0 && i < count; i++) {
		int found = 0;
		rc = tt_query_id(tt, "SELECT id FROM media WHERE id = ?", media_ids[i], NULL, &found);
		if (rc == 0 && !found)
			rc = tt_fail(tt, TT_ERR_NOT_FOUND, "there is no media %" PRId64 "; 'loaxa media "
				     "list' shows the library", media_ids[i]);
		if (rc == 0)
			rc = insert_item(tt, id, (int)last_position + 1 + (int)i, media_ids[i]);
		tt_append(added, sizeof added, "%s%" PRId64, i ? ", " : "", media_ids[i]);
	}
	if (rc == 0)
		rc = recheck_events(tt, id);
	if (rc == 0) {
		struct tt_programme now;
		rc = lookup(tt, id, NULL, &now);
		char length[32];
		duration_text(now.duration_ns, length);
		if (rc == 0)
			rc = tt_audit(tt, "programme.append", "programme", id, "added media %s to \"%s\" "
				      "(now %d item%s, %s)", added, p.name, now.item_count,
				      now.item_count == 1 ? "" : "s", length);
	}
	return tt_finish(tt, rc);
}

int tt_programme_remove_item(struct tt *tt, int64_t id, int position)
{
	struct tt_programme p;
	struct tt_programme_item *items = NULL;
	size_t count = 0;
	int rc = tt_begin(tt);
	if (rc < 0)
		return rc;
	rc = lookup(tt, id, NULL, &p);
	if (rc == 0)
		rc = tt_programme_items(tt, id, &items, &count);
	if (rc == 0 && (position < 1 || (size_t)position > count))
		rc = tt_fail(tt, TT_ERR_INVALID, "programme \"%s\" has %zu item(s); choose a position "
			     "from 1 to %zu", p.name, count, count);
	if (rc == 0 && count == 1 && p.event_count > 0)
		rc = tt_fail(tt, TT_ERR_IN_USE, "that would leave programme \"%s\" empty while %d "
			     "event(s) play it; remove those events first", p.name, p.event_count);
	if (rc == 0)
		rc = tt_exec(tt, "DELETE FROM programme_item WHERE programme_id = ?1", id, NULL,
			     "changing the programme");
	/* the others again, numbered from 1 */
	for (size_t i = 0, n = 0; rc == 0 && i < count; i++)
		if ((int)i != position - 1)
			rc = insert_item(tt, id, (int)++n, items[i].media_id);
	if (rc == 0) {
		rc = tt_audit(tt, "programme.remove_item", "programme", id, "removed item %d (media %" PRId64
			      " \"%s\") from \"%s\"", position, items[position - 1].media_id,
			      items[position - 1].title, p.name);
	}
	free(items);
	return tt_finish(tt, rc);
}

int tt_programme_remove(struct tt *tt, int64_t id)
{
	struct tt_programme p;
	int rc = tt_begin(tt);
	if (rc < 0)
		return rc;
	rc = lookup(tt, id, NULL, &p);
	if (rc == 0 && p.event_count > 0)
		rc = tt_fail(tt, TT_ERR_IN_USE, "programme \"%s\" is played by %d event(s); remove "
			     "those first ('loaxa schedule list' shows them)", p.name, p.event_count);
	if (rc == 0)
		rc = tt_exec(tt, "DELETE FROM programme WHERE id = ?1", id, NULL, "removing the programme");
	if (rc == 0) {
		rc = tt_audit(tt, "programme.remove", "programme", id, "removed programme \"%s\" (%d items)",
			      p.name, p.item_count);
	}
	return tt_finish(tt, rc);
}
