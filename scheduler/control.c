#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "scheduler/control.h"
#include "scheduler/control_internal.h"
#include "scheduler/log.h"

struct client {
	int fd;                      /* -1 = unused */
	struct control_peer peer;    /* user: looked up at its first request */
	struct control_framer framer;
	int64_t request_started_ns;  /* the request under way began (its first
					byte; the first, the connection); 0: none */
	int64_t answered_ns;         /* connected, or last answered */
};

struct control {
	int listen_fd;
	int64_t accept_paused_until_ns;   /* out of descriptors: not accepting */
	int64_t pause_logged_ns;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	gid_t group;
	control_handler handler;
	void *user;
	struct client clients[CONTROL_MAX_CLIENTS];
};

#define NS_PER_MS 1000000

static int64_t monotonic_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* Does something answer at the socket path? 1 yes, 0 no (refused: a
 * stale socket, or gone), else -errno: cannot tell. */
static int socket_alive(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	snprintf(address.sun_path, sizeof address.sun_path, "%s", path);
	int rc = connect(fd, (struct sockaddr *)&address, sizeof address) == 0 ? 1
		 : errno == ECONNREFUSED || errno == ENOENT ? 0 : -errno;
	close(fd);
	return rc;
}

/* What is at path, for a message. */
static const char *file_kind(mode_t mode)
{
	return S_ISREG(mode) ? "a regular file" : S_ISDIR(mode) ? "a folder" :
	       S_ISLNK(mode) ? "a symbolic link" : S_ISFIFO(mode) ? "a pipe" : "a device";
}

/* Clears the way for the listening socket: nothing there, or a stale
 * socket (nobody answering), which is removed. Anything else at path — a
 * live station, a file, a folder, a link — is an error, and nothing is
 * removed. */
static int clear_stale_socket(const char *path, char *error, size_t error_size)
{
	struct stat existing;
	if (lstat(path, &existing) < 0) {
		if (errno == ENOENT)
			return 0;
		int rc = -errno;
		snprintf(error, error_size, "cannot look at the control socket path %s: %s", path,
			 strerror(errno));
		return rc;
	}
	if (!S_ISSOCK(existing.st_mode)) {
		snprintf(error, error_size, "the control socket path %s is %s, not a socket; loaxa "
			 "removes nothing there: move it away, or set control_socket in the "
			 "configuration to another path", path, file_kind(existing.st_mode));
		return -EEXIST;
	}
	int alive = socket_alive(path);
	if (alive > 0) {
		snprintf(error, error_size, "another loaxa station is already running (it answers at "
			 "%s); stop it first", path);
		return -EADDRINUSE;
	}
	if (alive < 0) {
		snprintf(error, error_size, "cannot tell whether a station answers at the control "
			 "socket %s: %s; nothing removed", path, strerror(-alive));
		return alive;
	}
	/* a stale socket left by a station that died */
	if (unlink(path) < 0 && errno != ENOENT) {
		int rc = -errno;
		snprintf(error, error_size, "cannot remove the stale control socket %s: %s", path,
			 strerror(errno));
		return rc;
	}
	return 0;
}

int control_open(struct control **out, const char *path, control_handler handler, void *user,
		 char *error, size_t error_size)
{
	*out = NULL;
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof address.sun_path) {
		snprintf(error, error_size, "control socket path %s is too long (at most %zu bytes); "
			 "set control_socket in the configuration", path, sizeof address.sun_path - 1);
		return -ENAMETOOLONG;
	}
	struct control *control = calloc(1, sizeof *control);
	if (!control) {
		snprintf(error, error_size, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		control->clients[i].fd = -1;
	control->handler = handler;
	control->user = user;
	snprintf(control->path, sizeof control->path, "%s", path);
	snprintf(address.sun_path, sizeof address.sun_path, "%s", path);
	control->listen_fd = -1;
	int rc = clear_stale_socket(path, error, error_size);
	if (rc < 0)
		goto fail;
	control->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (control->listen_fd < 0) {
		rc = -errno;
		snprintf(error, error_size, "control socket: %s", strerror(errno));
		goto fail;
	}
	mode_t old_mask = umask(0117);
	rc = bind(control->listen_fd, (struct sockaddr *)&address, sizeof address);
	umask(old_mask);
	if (rc < 0 || chmod(path, 0660) < 0 || listen(control->listen_fd, CONTROL_BACKLOG) < 0) {
		rc = -errno;
		snprintf(error, error_size, "cannot listen on the control socket %s: %s", path,
			 strerror(errno));
		goto fail;
	}
	struct stat info;
	control->group = stat(path, &info) == 0 ? info.st_gid : getegid();
	*out = control;
	return 0;
fail:
	if (control->listen_fd >= 0)
		close(control->listen_fd);
	free(control);
	return rc;
}


static void drop(struct client *client)
{
	if (client->fd >= 0)
		close(client->fd);
	free(client->framer.line);
	memset(client, 0, sizeof *client);
	client->fd = -1;
}

void control_close(struct control *control)
{
	if (!control)
		return;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		drop(&control->clients[i]);
	close(control->listen_fd);
	unlink(control->path);
	free(control);
}

/* Owner, root, or a member of the socket's group. */
static int allowed(const struct control *control, const struct control_peer *peer)
{
	if (peer->uid == 0 || peer->uid == geteuid() || peer->gid == control->group)
		return 1;
	struct passwd *pw = getpwuid(peer->uid);
	if (!pw)
		return 0;
	gid_t groups[256];
	int count = 256;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &count) < 0)
		return 0;
	for (int i = 0; i < count; i++)
		if (groups[i] == control->group)
			return 1;
	return 0;
}

enum control_frame control_frame(struct control_framer *framer, const char *data, size_t size,
				 size_t *taken)
{
	if (framer->complete) {
		framer->used = 0;
		framer->complete = 0;
	}
	const char *newline = memchr(data, '\n', size);
	size_t length = newline ? (size_t)(newline - data) : size;
	if (framer->skipping) {
		*taken = newline ? length + 1 : size;
		if (!newline)
			return CONTROL_FRAME_MORE;
		framer->skipping = 0;
		return CONTROL_FRAME_SKIPPED;
	}
	if (length > CONTROL_MAX_LINE - framer->used) {
		/* its newline, if here, is taken by the skipping that follows */
		*taken = 0;
		framer->used = 0;
		framer->skipping = 1;
		return CONTROL_FRAME_TOO_LONG;
	}
	memcpy(framer->line + framer->used, data, length);
	framer->used += length;
	if (!newline) {
		*taken = size;
		return CONTROL_FRAME_MORE;
	}
	*taken = length + 1;
	framer->line[framer->used] = '\0';
	framer->complete = 1;
	return CONTROL_FRAME_LINE;
}

/* The one of places[] matching (pid, or uid if by_uid) that has waited
 * longest, or -1; *held says how many match. */
static int longest_waiting(const struct control_place *places, int count, int by_uid, pid_t pid,
			   uid_t uid, int *held)
{
	int found = -1;
	*held = 0;
	for (int i = 0; i < count; i++) {
		const struct control_place *place = &places[i];
		if (!place->used || (by_uid ? place->uid != uid : place->pid != pid))
			continue;
		(*held)++;
		if (found < 0 || place->waiting_since_ns < places[found].waiting_since_ns)
			found = i;
	}
	return found;
}

int control_choose_place(const struct control_place *places, int count, pid_t pid, uid_t uid,
			 int uid_limited, int *evict)
{
	int held;
	*evict = 1;
	int own = longest_waiting(places, count, 0, pid, uid, &held);
	if (held >= CONTROL_MAX_PER_PEER)
		return own;
	own = longest_waiting(places, count, 1, pid, uid, &held);
	if (uid_limited && held >= CONTROL_MAX_PER_PEER)
		return own;
	int oldest = -1;
	for (int i = 0; i < count; i++) {
		if (!places[i].used) {
			*evict = 0;
			return i;
		}
		if (oldest < 0 || places[i].waiting_since_ns < places[oldest].waiting_since_ns)
			oldest = i;
	}
	return oldest;
}

static cJSON *error_response(const char *message)
{
	cJSON *response = cJSON_CreateObject();
	cJSON_AddBoolToObject(response, "ok", 0);
	cJSON_AddStringToObject(response, "error", message);
	return response;
}

/* Writes a response line without waiting: 0, or -1 if it could not be
 * written whole now. */
static int send_response(int fd, cJSON *response)
{
	if (!response)
		return -1;
	cJSON_AddNumberToObject(response, "v", CONTROL_PROTOCOL_VERSION);
	char *text = cJSON_PrintUnformatted(response);
	if (!text)
		return -1;
	size_t length = strlen(text);
	text[length] = '\n';
	ssize_t sent = send(fd, text, length + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(text);
	return sent == (ssize_t)(length + 1) ? 0 : -1;
}

/* A client that cannot take its answer now is dropped rather than waited
 * for. */
static void send_line(struct client *client, cJSON *response)
{
	if (send_response(client->fd, response) < 0)
		drop(client);
}

static void send_error(struct client *client, const char *message)
{
	cJSON *response = error_response(message);
	send_line(client, response);
	cJSON_Delete(response);
}

static void handle_line(struct control *control, struct client *client, char *line)
{
	cJSON *request = cJSON_Parse(line);
	if (!request || !cJSON_IsObject(request)) {
		send_error(client, "malformed request: send one JSON object per line");
		cJSON_Delete(request);
		return;
	}
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(request, "v");
	if (!cJSON_IsNumber(version) || version->valueint != CONTROL_PROTOCOL_VERSION) {
		send_error(client, "unsupported protocol version: this station speaks \"v\": 1");
		cJSON_Delete(request);
		return;
	}
	struct control_peer *peer = &client->peer;
	if (!peer->user[0]) {
		struct passwd *pw = getpwuid(peer->uid);
		if (pw)
			snprintf(peer->user, sizeof peer->user, "%s", pw->pw_name);
		else
			snprintf(peer->user, sizeof peer->user, "uid %u", (unsigned)peer->uid);
	}
	cJSON *response = control->handler(control->user, request, peer);
	cJSON_Delete(request);
	if (!response) {
		send_error(client, "out of memory");
		return;
	}
	send_line(client, response);
	cJSON_Delete(response);
}

/* Reads what the client sent, answering each whole request. At most a
 * line's worth per call, so one client cannot keep the loop to itself. */
static void read_client(struct control *control, struct client *client)
{
	char data[16384];
	size_t budget = CONTROL_MAX_LINE + 1;
	while (budget > 0) {
		ssize_t n = recv(client->fd, data, budget < sizeof data ? budget : sizeof data,
				 MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			drop(client);
			return;
		}
		budget -= (size_t)n;
		int64_t now = monotonic_ns();
		if (!client->request_started_ns)
			client->request_started_ns = now;
		size_t offset = 0;
		while (offset < (size_t)n) {
			size_t taken;
			enum control_frame frame = control_frame(&client->framer, data + offset,
								 (size_t)n - offset, &taken);
			offset += taken;
			if (frame == CONTROL_FRAME_MORE || (frame == CONTROL_FRAME_LINE &&
							    !client->framer.used))
				continue;   /* blank lines are no request */
			if (frame == CONTROL_FRAME_TOO_LONG) {
				char message[128];
				snprintf(message, sizeof message, "request too long (more than %d bytes "
					 "before its newline); the rest of the line is skipped",
					 CONTROL_MAX_LINE);
				send_error(client, message);
			} else if (frame == CONTROL_FRAME_LINE) {
				handle_line(control, client, client->framer.line);
			}
			if (client->fd < 0)
				return;
			if (frame != CONTROL_FRAME_TOO_LONG) {
				/* a request done: the next, if any, begins here */
				client->answered_ns = now;
				client->request_started_ns = offset < (size_t)n ? now : 0;
			}
		}
	}
}

/* Out of file descriptors: the pending connection stays queued, and the
 * listening socket is left out of the poll for a while rather than woken
 * on at once, again and again. */
static void pause_accepting(struct control *control, int64_t now, int error)
{
	control->accept_paused_until_ns = now + (int64_t)CONTROL_ACCEPT_PAUSE_MS * NS_PER_MS;
	int64_t minute_ns = (int64_t)60000 * NS_PER_MS;
	if (control->pause_logged_ns && now - control->pause_logged_ns < minute_ns)
		return;
	control->pause_logged_ns = now;
	log_message(LOG_WARNING, "control socket: cannot accept a connection: %s; trying again "
		    "every %d ms (raise the station's open file limit, LimitNOFILE=)",
		    strerror(error), CONTROL_ACCEPT_PAUSE_MS);
}

/* Takes one waiting connection: refused if its peer is not allowed, else
 * given a place (see control.h) and read at once, its request likely
 * there already. Returns 0, or -1 when there is nothing more to accept. */
static int accept_client(struct control *control, int64_t now)
{
	int fd = accept4(control->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		int error = errno;
		if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM)
			pause_accepting(control, now, error);
		return error == EINTR || error == ECONNABORTED ? 0 : -1;
	}
	struct ucred credentials;
	socklen_t size = sizeof credentials;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) < 0) {
		close(fd);
		return 0;
	}
	struct control_peer peer = { .uid = credentials.uid, .gid = credentials.gid,
				     .pid = credentials.pid };
	if (!allowed(control, &peer)) {
		cJSON *refusal = error_response("permission denied: only the station's user and "
						"its group may control it");
		send_response(fd, refusal);
		cJSON_Delete(refusal);
		close(fd);
		return 0;
	}
	struct control_place places[CONTROL_MAX_CLIENTS];
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		const struct client *held = &control->clients[i];
		places[i] = (struct control_place){ .used = held->fd >= 0, .pid = held->peer.pid,
						    .uid = held->peer.uid,
						    .waiting_since_ns = held->answered_ns };
	}
	int evict;
	int uid_limited = peer.uid != 0 && peer.uid != geteuid();
	int index = control_choose_place(places, CONTROL_MAX_CLIENTS, peer.pid, peer.uid,
					 uid_limited, &evict);
	struct client *client = &control->clients[index];
	if (evict)
		log_message(LOG_DEBUG, "control socket: dropping a connection of process %ld (uid "
			    "%u), %lld ms without a request answered, for a newcomer",
			    (long)client->peer.pid, (unsigned)client->peer.uid,
			    (long long)((now - client->answered_ns) / NS_PER_MS));
	drop(client);
	client->framer.line = malloc(CONTROL_MAX_LINE + 1);
	if (!client->framer.line) {
		close(fd);
		return 0;
	}
	client->fd = fd;
	client->peer = peer;
	client->request_started_ns = now;
	client->answered_ns = now;
	read_client(control, client);
	return 0;
}

/* Connections accepted per wake: a crowd at the door does not keep the
 * loop from the clients already in. */
#define ACCEPTS_PER_WAKE 4

int control_poll_fds(struct control *control, struct pollfd *fds, int max)
{
	int count = 0;
	if (count < max && monotonic_ns() >= control->accept_paused_until_ns)
		fds[count++] = (struct pollfd){ .fd = control->listen_fd, .events = POLLIN };
	for (int i = 0; i < CONTROL_MAX_CLIENTS && count < max; i++)
		if (control->clients[i].fd >= 0)
			fds[count++] = (struct pollfd){ .fd = control->clients[i].fd, .events = POLLIN };
	return count;
}

/* When the client is dropped if it sends nothing more. */
static int64_t deadline_ns(const struct client *client)
{
	return client->request_started_ns
	       ? client->request_started_ns + (int64_t)CONTROL_REQUEST_MS * NS_PER_MS
	       : client->answered_ns + (int64_t)CONTROL_IDLE_MS * NS_PER_MS;
}

void control_dispatch(struct control *control, const struct pollfd *fds, int count)
{
	for (int k = 0; k < count; k++) {
		if (!fds[k].revents)
			continue;
		if (fds[k].fd == control->listen_fd) {
			for (int accepted = 0; accepted < ACCEPTS_PER_WAKE; accepted++)
				if (accept_client(control, monotonic_ns()) < 0)
					break;
			continue;
		}
		/* (a descriptor closed by an eviction above and reused by a
		 * newcomer just reads nothing) */
		for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
			if (control->clients[i].fd == fds[k].fd)
				read_client(control, &control->clients[i]);
	}
	int64_t now = monotonic_ns();
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct client *client = &control->clients[i];
		if (client->fd >= 0 && now >= deadline_ns(client)) {
			log_message(LOG_DEBUG, "control socket: dropping a connection of process %ld "
				    "(uid %u): %s", (long)client->peer.pid, (unsigned)client->peer.uid,
				    client->request_started_ns ? "its request did not arrive in time"
							       : "idle");
			drop(client);
		}
	}
}

int control_timeout_ms(const struct control *control)
{
	int64_t now = monotonic_ns();
	int64_t due = control->accept_paused_until_ns > now ? control->accept_paused_until_ns : 0;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		const struct client *client = &control->clients[i];
		if (client->fd >= 0 && (!due || deadline_ns(client) < due))
			due = deadline_ns(client);
	}
	if (!due)
		return -1;
	return due > now ? (int)((due - now + NS_PER_MS - 1) / NS_PER_MS) : 0;
}
