/* The control socket's client: emergency, play, live, stop and status talk
 * to the running station (docs/control-protocol.md). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define ATTEMPT_TIMEOUT_MS 3000   /* per try; the station answers within milliseconds */
#define ATTEMPTS 3
#define MAX_REPLY 65536

/* A fresh id for this invocation's request: the station acts on an id
 * once, however often it is sent. */
static void add_request_id(cJSON *request)
{
	unsigned random = 0;
	if (getrandom(&random, sizeof random, GRND_NONBLOCK) != sizeof random)
		random = (unsigned)clock();
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char id[64];
	snprintf(id, sizeof id, "cli-%ld-%lld.%09ld-%08x", (long)getpid(), (long long)now.tv_sec,
		 now.tv_nsec, random);
	cJSON_AddStringToObject(request, "id", id);
}

/* One try: connects, sends the line, waits for the answer. Returns 0 with
 * *parsed set, 1 when it may be tried again (no answer in time, the
 * connection lost), -1 after printing why not. */
static int ask_once(const struct settings *settings, const char *text, cJSON **parsed)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	snprintf(address.sun_path, sizeof address.sun_path, "%s", settings->control_socket);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) < 0) {
		int error = errno;
		if (fd >= 0)
			close(fd);
		if (error == ENOENT || error == ECONNREFUSED)
			fail_message("the station is not running (nothing answers at %s); start it "
				     "with 'loaxa serve'", settings->control_socket);
		else if (error == EACCES)
			fail_message("permission denied on %s: only the station's user and its group "
				     "may control it", settings->control_socket);
		else
			fail_message("cannot reach the station at %s: %s", settings->control_socket,
				     strerror(error));
		return -1;
	}
	size_t length = strlen(text);
	/* a station that refuses the connection answers before closing it, so
	 * read even if sending failed */
	if (send(fd, text, length, MSG_NOSIGNAL) == (ssize_t)length)
		send(fd, "\n", 1, MSG_NOSIGNAL);
	char *reply = malloc(MAX_REPLY + 1);
	size_t used = 0;
	int rc = 1;
	while (reply && used < MAX_REPLY) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, ATTEMPT_TIMEOUT_MS) <= 0)
			break;
		ssize_t n = recv(fd, reply + used, MAX_REPLY - used, 0);
		if (n <= 0)
			break;
		used += (size_t)n;
		reply[used] = '\0';
		if (memchr(reply, '\n', used)) {
			*parsed = cJSON_Parse(reply);
			rc = *parsed ? 0 : -1;
			if (!*parsed)
				fail_message("the station's answer could not be read");
			break;
		}
	}
	free(reply);
	close(fd);
	return rc;
}

/* Sends one request, returns the parsed reply or NULL after printing why.
 * Without an answer in time it asks again with the same id, so the
 * station acts once however many tries reach it. */
static cJSON *ask_station(const struct settings *settings, cJSON *request)
{
	cJSON_AddNumberToObject(request, "v", 1);
	add_request_id(request);
	struct sockaddr_un address;
	if (strlen(settings->control_socket) >= sizeof address.sun_path) {
		fail_message("the control socket path %s is too long", settings->control_socket);
		return NULL;
	}
	char *text = cJSON_PrintUnformatted(request);
	if (!text) {
		fail_message("out of memory");
		return NULL;
	}
	cJSON *parsed = NULL;
	int rc = 1;
	for (int attempt = 1; attempt <= ATTEMPTS && rc == 1; attempt++) {
		rc = ask_once(settings, text, &parsed);
		if (rc == 1 && attempt < ATTEMPTS)
			fail_message("the station did not answer within %d s; asking again (the same "
				     "request: it is acted on once)", ATTEMPT_TIMEOUT_MS / 1000);
	}
	if (rc == 1)
		fail_message("the station did not answer within %d s (%d tries); 'loaxa status' "
			     "shows whether it acted", ATTEMPTS * ATTEMPT_TIMEOUT_MS / 1000, ATTEMPTS);
	free(text);
	return parsed;
}

/* Prints the reply (JSON as is, or the error); returns the exit status. */
static int finish_reply(cJSON *reply, int json, void (*print)(const cJSON *reply))
{
	if (!reply)
		return EXIT_REFUSED;
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(reply, "ok");
	int status = cJSON_IsTrue(ok) ? EXIT_OK : EXIT_REFUSED;
	if (json) {
		char *text = cJSON_PrintUnformatted(reply);
		printf("%s\n", text ? text : "{}");
		free(text);
	} else if (status != EXIT_OK) {
		const cJSON *error = cJSON_GetObjectItemCaseSensitive(reply, "error");
		fail_message("%s", cJSON_IsString(error) ? error->valuestring : "refused");
	} else {
		print(reply);
	}
	cJSON_Delete(reply);
	return status;
}

static const char *text_of(const cJSON *object, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
	return cJSON_IsString(item) ? item->valuestring : "";
}

static double number_of(const cJSON *object, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
	return cJSON_IsNumber(item) ? item->valuedouble : 0;
}

static void print_broadcast(const cJSON *reply)
{
	printf("on air: broadcast %.0f, '%s' (%s)", number_of(reply, "broadcast"),
	       text_of(reply, "title"), text_of(reply, "priority"));
	if (cJSON_GetObjectItemCaseSensitive(reply, "seconds"))
		printf(", %.1f s", number_of(reply, "seconds"));
	if (cJSON_GetObjectItemCaseSensitive(reply, "after_broadcast"))
		printf(" (after broadcast %.0f ends)", number_of(reply, "after_broadcast"));
	printf("\n");
}

static void print_stopped(const cJSON *reply)
{
	const cJSON *stopped = cJSON_GetObjectItemCaseSensitive(reply, "stopped");
	printf("stopped %d broadcast(s); the timetable continues\n", cJSON_GetArraySize(stopped));
}

static void print_duration(double seconds)
{
	long s = (long)seconds;
	if (s >= 3600)
		printf("%ld h %02ld min", s / 3600, s / 60 % 60);
	else if (s >= 60)
		printf("%ld min %02ld s", s / 60, s % 60);
	else
		printf("%.1f s", seconds);
}

static void print_status(const cJSON *reply)
{
	const cJSON *on_air = cJSON_GetObjectItemCaseSensitive(reply, "on_air");
	if (cJSON_IsObject(on_air)) {
		printf("on air:  '%s' (%s", text_of(on_air, "title"), text_of(on_air, "priority"));
		if (cJSON_GetObjectItemCaseSensitive(on_air, "broadcast"))
			printf(", broadcast %.0f by %s", number_of(on_air, "broadcast"),
			       text_of(on_air, "triggered_by"));
		else
			printf(", event %.0f", number_of(on_air, "event_id"));
		printf(") at %.1f s", number_of(on_air, "position_s"));
		if (number_of(on_air, "length_s") > 0)
			printf(" of %.1f s", number_of(on_air, "length_s"));
		printf("\n");
	} else {
		printf("on air:  nothing (silence)\n");
	}
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(reply, "next");
	if (cJSON_IsObject(next)) {
		printf("next:    '%s' (%s, event %.0f) at %.19s, in ", text_of(next, "title"),
		       text_of(next, "priority"), number_of(next, "event_id"), text_of(next, "at"));
		print_duration(number_of(next, "in_s"));
		printf("\n");
	} else {
		printf("next:    nothing in the timetable for the coming week\n");
	}
	const cJSON *device = cJSON_GetObjectItemCaseSensitive(reply, "device");
	printf("device:  %s: %s, %s %.0f Hz %.0f ch, buffer %.0f ms, %s\n", text_of(device, "name"),
	       text_of(device, "state"), text_of(device, "format"), number_of(device, "rate"),
	       number_of(device, "channels"), number_of(device, "buffer_ms"),
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(device, "realtime"))
		       ? "real-time priority" : "normal priority");
	const cJSON *database = cJSON_GetObjectItemCaseSensitive(reply, "database");
	if (cJSON_IsObject(database)) {
		printf("database: ");
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(database, "writable")))
			printf("writable");
		else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(database, "lost")))
			printf("LOST (%s, %.0f s ago); the air goes on, the rows wait in %s until a "
			       "database is restored%s%s", text_of(database, "lost_how"),
			       number_of(database, "unwritable_s"), text_of(database, "waiting_in"),
			       *text_of(database, "lost_copy") ? "; a copy of it: " : "",
			       text_of(database, "lost_copy"));
		else
			printf("UNWRITABLE for %.0f s (%s); the air goes on, the rows wait",
			       number_of(database, "unwritable_s"), text_of(database, "last_error"));
		printf(", %.0f row(s) waiting to be written", number_of(database, "pending_rows"));
		if (number_of(database, "spilled") > 0)
			printf(", %.0f kept in a file beside it", number_of(database, "spilled"));
		if (number_of(database, "dropped") > 0)
			printf(", %.0f LOST (see the station's log)", number_of(database, "dropped"));
		printf("\n");
	}
	printf("xruns:   %.0f\nuptime:  ", number_of(reply, "xruns"));
	print_duration(number_of(reply, "uptime_s"));
	printf("\nlast error: %s\n", *text_of(reply, "last_error") ? text_of(reply, "last_error") : "none");
}

static const char *const broadcast_usage =
	"loaxa emergency (--media ID | FILE) [--repeat N] [--gap SECONDS] [--chime] [--reason TEXT]\n"
	"       loaxa play (--media ID | FILE) [--priority normal|priority|emergency]";

static const struct option_spec broadcast_specs[] = {
	{ "media", 1 }, { "repeat", 1 }, { "gap", 1 }, { "chime", 0 }, { "reason", 1 },
	{ "priority", 1 }, { NULL, 0 },
};

static int broadcast(int argc, char **argv, const char *command)
{
	struct arguments args;
	struct settings settings;
	const struct option_spec *specs = broadcast_specs;
	int rc = parse_arguments(argc, argv, specs, &args, broadcast_usage);
	if (rc)
		return rc < 0 ? EXIT_USAGE : EXIT_OK;
	const char *media = option(&args, specs, "media");
	if ((media != NULL) + args.word_count != 1) {
		fail_message("give either --media ID or one FILE\nusage: %s", broadcast_usage);
		return EXIT_USAGE;
	}
	int emergency = strcmp(command, "emergency") == 0;
	if (emergency && option(&args, specs, "priority")) {
		fail_message("an emergency is always at emergency priority; use 'loaxa play --priority'");
		return EXIT_USAGE;
	}
	if (!emergency && (option(&args, specs, "repeat") || option(&args, specs, "gap") ||
			   option(&args, specs, "chime"))) {
		fail_message("--repeat, --gap and --chime are for 'loaxa emergency'");
		return EXIT_USAGE;
	}
	if (load_settings_for_control(&args, specs, &settings) < 0)
		return EXIT_REFUSED;
	long long repeat = 1, gap = 0;
	const char *text;
	if ((text = option(&args, specs, "repeat")) && (repeat = parse_count(text, 1, 20)) < 0) {
		fail_message("--repeat '%s' must be a whole number from 1 to 20", text);
		return EXIT_REFUSED;
	}
	if ((text = option(&args, specs, "gap")) && (gap = parse_count(text, 0, 3600)) < 0) {
		fail_message("--gap '%s' must be a whole number of seconds from 0 to 3600", text);
		return EXIT_REFUSED;
	}
	int64_t media_id;
	if (media) {
		if ((media_id = parse_count(media, 1, INT64_MAX)) < 0) {
			fail_message("'%s' is not a media id (a whole number; 'loaxa media list' shows them)",
				     media);
			return EXIT_REFUSED;
		}
	} else {
		/* a file goes through the library first, with all its checks */
		struct tt *tt = open_timetable(&settings, TT_OPEN_EXISTING);
		if (!tt)
			return EXIT_REFUSED;
		/* a long silence is a warning here: nothing holds back a
		 * broadcast the operator is starting now */
		rc = import_media_file(tt, &settings, args.words[0], NULL, emergency ? "khẩn cấp" : "",
				       0, 1, &media_id, 1);
		tt_close(tt);
		if (rc < 0)
			return EXIT_REFUSED;
	}
	cJSON *request = cJSON_CreateObject();
	cJSON_AddStringToObject(request, "cmd", command);
	cJSON_AddNumberToObject(request, "media_id", (double)media_id);
	if (emergency) {
		cJSON_AddNumberToObject(request, "repeat", (double)repeat);
		cJSON_AddNumberToObject(request, "gap", (double)gap);
		cJSON_AddBoolToObject(request, "chime", option(&args, specs, "chime") != NULL);
	} else if ((text = option(&args, specs, "priority"))) {
		cJSON_AddStringToObject(request, "priority", text);
	}
	if ((text = option(&args, specs, "reason")))
		cJSON_AddStringToObject(request, "reason", text);
	cJSON *reply = ask_station(&settings, request);
	cJSON_Delete(request);
	return finish_reply(reply, args.json, print_broadcast);
}

int cmd_emergency(int argc, char **argv)
{
	return broadcast(argc, argv, "emergency");
}

int cmd_play(int argc, char **argv)
{
	return broadcast(argc, argv, "play");
}

/* Commands whose request is just "cmd" (and live's capture device). */
static int simple(int argc, char **argv, const char *command, const char *usage,
		  void (*print)(const cJSON *reply))
{
	static const struct option_spec specs[] = {
		{ "capture", 1 }, { "reason", 1 }, { "chime", 0 }, { NULL, 0 },
	};
	struct arguments args;
	struct settings settings;
	int rc = parse_arguments(argc, argv, specs, &args, usage);
	if (rc)
		return rc < 0 ? EXIT_USAGE : EXIT_OK;
	int live = strcmp(command, "live") == 0;
	if (args.word_count || (!live && (option(&args, specs, "capture") ||
					  option(&args, specs, "reason") ||
					  option(&args, specs, "chime")))) {
		fail_message("usage: %s", usage);
		return EXIT_USAGE;
	}
	if (load_settings_for_control(&args, specs, &settings) < 0)
		return EXIT_REFUSED;
	cJSON *request = cJSON_CreateObject();
	cJSON_AddStringToObject(request, "cmd", command);
	const char *text;
	if (live && (text = option(&args, specs, "capture")))
		cJSON_AddStringToObject(request, "capture", text);
	if (live && (text = option(&args, specs, "reason")))
		cJSON_AddStringToObject(request, "reason", text);
	if (live && option(&args, specs, "chime"))
		cJSON_AddBoolToObject(request, "chime", 1);
	cJSON *reply = ask_station(&settings, request);
	cJSON_Delete(request);
	return finish_reply(reply, args.json, print);
}

int cmd_live(int argc, char **argv)
{
	return simple(argc, argv, "live", "loaxa live [--capture PCM] [--chime] [--reason TEXT]", print_broadcast);
}

int cmd_stop(int argc, char **argv)
{
	return simple(argc, argv, "stop", "loaxa stop", print_stopped);
}

int cmd_status(int argc, char **argv)
{
	return simple(argc, argv, "status", "loaxa status [--json]", print_status);
}
