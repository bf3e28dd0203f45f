/* `loaxa programme`: named, ordered lists of media items. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct option_spec specs[] = {
	{ "category", 1 }, { "operator", 1 }, { NULL, 0 },
};
static const char usage[] =
	"loaxa programme create NAME [--category C]\n"
	"       loaxa programme add NAME MEDIA_ID...\n"
	"       loaxa programme list | show NAME\n"
	"       loaxa programme remove NAME | remove-item NAME POSITION\n"
	"  edits accept --operator NAME (the audit trail names it instead of the OS user)";

static const char *const create_options[] = { "category", "operator", NULL };
static const char *const edit_options[] = { "operator", NULL };
static const char *const no_options[] = { NULL };

static const struct action_spec actions[] = {
	{ "create", create_options, 2, 2, "needs one NAME" },
	{ "add", edit_options, 3, 256, "needs a NAME and one or more MEDIA_IDs" },
	{ "list", no_options, 1, 1, "takes no arguments" },
	{ "show", no_options, 2, 2, "needs one NAME" },
	{ "remove", edit_options, 2, 2, "needs one NAME" },
	{ "remove-item", edit_options, 3, 3, "needs a NAME and a POSITION" },
	{ NULL, NULL, 0, 0, NULL },
};

static void print_programme_json(const struct tt_programme *p)
{
	printf("{\"id\":%" PRId64 ",\"name\":", p->id);
	json_string(stdout, p->name);
	printf(",\"category\":");
	json_string(stdout, p->category);
	printf(",\"items\":%d,\"duration_seconds\":%.3f,\"events\":%d,\"created_at\":", p->item_count,
	       (double)p->duration_ns / 1e9, p->event_count);
	json_string(stdout, p->created_at);
}

struct list_state {
	int json, count;
};

static int list_one(void *user, const struct tt_programme *p)
{
	struct list_state *state = user;
	if (state->json) {
		printf("%s", state->count ? "," : "");
		print_programme_json(p);
		printf("}");
	} else {
		char length[48];
		format_duration(p->duration_ns, length, sizeof length);
		printf("%5" PRId64 "  %s — %d item%s, %s%s%s%s, played by %d event%s\n", p->id, p->name,
		       p->item_count, p->item_count == 1 ? "" : "s", length,
		       p->category[0] ? ", category \"" : "", p->category, p->category[0] ? "\"" : "",
		       p->event_count, p->event_count == 1 ? "" : "s");
	}
	state->count++;
	return 0;
}

static int show_programme(struct tt *tt, const char *name, int json)
{
	struct tt_programme p;
	struct tt_programme_item *items = NULL;
	size_t count = 0;
	int rc = tt_programme_find(tt, name, &p);
	if (rc == 0)
		rc = tt_programme_items(tt, p.id, &items, &count);
	if (rc < 0)
		return rc;
	char length[48];
	if (json) {
		print_programme_json(&p);
		printf(",\"list\":[");
		for (size_t i = 0; i < count; i++) {
			printf("%s{\"position\":%d,\"media_id\":%" PRId64 ",\"title\":", i ? "," : "",
			       items[i].position, items[i].media_id);
			json_string(stdout, items[i].title);
			printf(",\"duration_seconds\":%.3f}", (double)items[i].duration_ns / 1e9);
		}
		printf("]}\n");
	} else {
		format_duration(p.duration_ns, length, sizeof length);
		printf("programme %" PRId64 ": %s\n  category: %s\n  length: %s, played by %d event%s\n",
		       p.id, p.name, p.category[0] ? p.category : "-", length, p.event_count,
		       p.event_count == 1 ? "" : "s");
		if (!count)
			printf("  empty; add media with 'loaxa programme add NAME MEDIA_ID...'\n");
		int64_t offset = 0;
		for (size_t i = 0; i < count; i++) {
			char at[48];
			format_duration(offset, at, sizeof at);
			format_duration(items[i].duration_ns, length, sizeof length);
			printf("  %2d. +%-12s media %-5" PRId64 " %s (%s)\n", items[i].position, at,
			       items[i].media_id, items[i].title, length);
			offset += items[i].duration_ns;
		}
	}
	free(items);
	return 0;
}

int cmd_programme(int argc, char **argv)
{
	struct arguments args;
	struct settings settings;
	int rc;
	int found = parse_action(argc, argv, specs, actions, "programme", usage, &args, &rc);
	if (found < 0)
		return rc;
	const char *action = actions[found].name;
	const char *name = args.word_count > 1 ? args.words[1] : NULL;
	int64_t media_ids[256];
	size_t media_count = 0;
	if (!strcmp(action, "add"))
		for (int i = 2; i < args.word_count; i++) {
			long long id = parse_count(args.words[i], 1, INT64_MAX);
			if (id < 0) {
				fail_message("'%s' is not a media id (a whole number; 'loaxa media list' "
					     "shows them)", args.words[i]);
				return EXIT_REFUSED;
			}
			media_ids[media_count++] = id;
		}
	long long position = 0;
	if (!strcmp(action, "remove-item") && (position = parse_count(args.words[2], 1, 100000)) < 0) {
		fail_message("'%s' is not a position (1 for the first item; 'loaxa programme show "
			     "NAME' shows them)", args.words[2]);
		return EXIT_REFUSED;
	}
	if (load_settings(&args, specs, &settings) < 0)
		return EXIT_REFUSED;
	struct tt *tt = open_timetable_as(&settings, option(&args, specs, "operator"));
	if (!tt)
		return EXIT_REFUSED;
	struct tt_programme p = { 0 };
	if (!strcmp(action, "list")) {
		struct list_state state = { .json = args.json };
		if (args.json)
			printf("[");
		rc = tt_programme_each(tt, list_one, &state);
		if (args.json)
			printf("]\n");
		else if (!state.count)
			printf("no programmes; create one with 'loaxa programme create NAME'\n");
	} else if (!strcmp(action, "show")) {
		rc = show_programme(tt, name, args.json);
	} else if (!strcmp(action, "create")) {
		int64_t id = 0;
		rc = tt_programme_create(tt, name, option(&args, specs, "category"), &id);
		if (rc == 0 && args.json)
			printf("{\"id\":%" PRId64 "}\n", id);
		else if (rc == 0)
			printf("%" PRId64 "\n", id);
	} else {
		rc = tt_programme_find(tt, name, &p);
		if (rc == 0 && !strcmp(action, "add"))
			rc = tt_programme_append(tt, p.id, media_ids, media_count);
		else if (rc == 0 && !strcmp(action, "remove"))
			rc = tt_programme_remove(tt, p.id);
		else if (rc == 0)
			rc = tt_programme_remove_item(tt, p.id, (int)position);
		if (rc == 0 && !strcmp(action, "remove"))
			printf("programme \"%s\" removed\n", p.name);
		else if (rc == 0 && (rc = tt_programme_get(tt, p.id, &p)) == 0) {
			char length[48];
			format_duration(p.duration_ns, length, sizeof length);
			printf("programme \"%s\" now has %d item%s, %s\n", p.name, p.item_count,
			       p.item_count == 1 ? "" : "s", length);
		}
	}
	if (rc < 0)
		fail_message("%s", tt_error(tt));
	tt_close(tt);
	return rc < 0 ? EXIT_REFUSED : EXIT_OK;
}
