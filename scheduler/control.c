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

struct client {
	int fd;                   /* -1 = unused */
	struct control_peer peer;
	char *buffer;             /* CONTROL_MAX_LINE + 1 bytes */
	size_t used;
	int discarding;           /* skipping the rest of an oversized line */
	int64_t last_active_ms;
};

struct control {
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	gid_t group;
	control_handler handler;
	void *user;
	struct client clients[CONTROL_MAX_CLIENTS];
};

static int64_t monotonic_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
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
	if (rc < 0 || chmod(path, 0660) < 0 || listen(control->listen_fd, 8) < 0) {
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
	free(client->buffer);
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

/* Writes a response line; a client that cannot take it now is dropped
 * rather than waited for. */
static void send_line(struct client *client, cJSON *response)
{
	cJSON_AddNumberToObject(response, "v", CONTROL_PROTOCOL_VERSION);
	char *text = cJSON_PrintUnformatted(response);
	if (!text) {
		drop(client);
		return;
	}
	size_t length = strlen(text);
	text[length] = '\n';
	ssize_t sent = send(client->fd, text, length + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(text);
	if (sent != (ssize_t)(length + 1))
		drop(client);
}

static void send_error(struct client *client, const char *message)
{
	cJSON *response = cJSON_CreateObject();
	cJSON_AddBoolToObject(response, "ok", 0);
	cJSON_AddStringToObject(response, "error", message);
	send_line(client, response);
	cJSON_Delete(response);
}

static void accept_client(struct control *control)
{
	int fd = accept4(control->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct client *client = NULL;
	for (int i = 0; i < CONTROL_MAX_CLIENTS && !client; i++)
		if (control->clients[i].fd < 0)
			client = &control->clients[i];
	struct ucred credentials;
	socklen_t size = sizeof credentials;
	if (!client || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) < 0) {
		close(fd);
		return;
	}
	client->fd = fd;
	client->peer.uid = credentials.uid;
	client->peer.gid = credentials.gid;
	client->peer.pid = credentials.pid;
	struct passwd *pw = getpwuid(credentials.uid);
	if (pw)
		snprintf(client->peer.user, sizeof client->peer.user, "%s", pw->pw_name);
	else
		snprintf(client->peer.user, sizeof client->peer.user, "uid %u", (unsigned)credentials.uid);
	client->last_active_ms = monotonic_ms();
	if (!allowed(control, &client->peer)) {
		send_error(client, "permission denied: only the station's user and its group may "
			   "control it");
		drop(client);
		return;
	}
	client->buffer = malloc(CONTROL_MAX_LINE + 1);
	if (!client->buffer)
		drop(client);
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
	cJSON *response = control->handler(control->user, request, &client->peer);
	cJSON_Delete(request);
	if (!response) {
		send_error(client, "out of memory");
		return;
	}
	send_line(client, response);
	cJSON_Delete(response);
}

static void read_client(struct control *control, struct client *client)
{
	for (;;) {
		ssize_t n = recv(client->fd, client->buffer + client->used,
				 CONTROL_MAX_LINE - client->used, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			drop(client);
			return;
		}
		if (n < 0)
			return;
		client->last_active_ms = monotonic_ms();
		client->used += (size_t)n;
		char *start = client->buffer;
		char *newline;
		while (client->fd >= 0 &&
		       (newline = memchr(start, '\n', client->used - (size_t)(start - client->buffer)))) {
			*newline = '\0';
			if (client->discarding)
				client->discarding = 0;
			else if (newline > start)
				handle_line(control, client, start);
			start = newline + 1;
		}
		if (client->fd < 0)
			return;
		size_t rest = client->used - (size_t)(start - client->buffer);
		memmove(client->buffer, start, rest);
		client->used = rest;
		if (client->used == CONTROL_MAX_LINE) {
			/* no newline within the limit: refuse, skip to the next line */
			send_error(client, "request too long (more than 65536 bytes)");
			if (client->fd < 0)
				return;
			client->used = 0;
			client->discarding = 1;
		}
	}
}

int control_poll_fds(struct control *control, struct pollfd *fds, int max)
{
	int count = 0;
	if (count < max)
		fds[count++] = (struct pollfd){ .fd = control->listen_fd, .events = POLLIN };
	for (int i = 0; i < CONTROL_MAX_CLIENTS && count < max; i++)
		if (control->clients[i].fd >= 0)
			fds[count++] = (struct pollfd){ .fd = control->clients[i].fd, .events = POLLIN };
	return count;
}

void control_dispatch(struct control *control, const struct pollfd *fds, int count)
{
	for (int k = 0; k < count; k++) {
		if (!fds[k].revents)
			continue;
		if (fds[k].fd == control->listen_fd) {
			accept_client(control);
			continue;
		}
		for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
			if (control->clients[i].fd == fds[k].fd)
				read_client(control, &control->clients[i]);
	}
	int64_t now = monotonic_ms();
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct client *client = &control->clients[i];
		if (client->fd >= 0 && now - client->last_active_ms > CONTROL_IDLE_MS)
			drop(client);
	}
}
