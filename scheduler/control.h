/*
 * The control socket: a Unix stream socket on which `loaxa serve` takes
 * requests from the command line (emergency, play, stop, status) while it
 * runs. Protocol (docs/control-protocol.md): one JSON object per line each
 * way, {"v":1,"cmd":...} → {"v":1,"ok":true|false,...}. Requests over
 * CONTROL_MAX_LINE bytes, malformed or unknown ones get an error answer;
 * a client idle for CONTROL_IDLE_MS is dropped. Only the socket's owner,
 * root and members of its group may connect (mode 0660, SO_PEERCRED).
 *
 * Everything here runs on the serving loop's thread, non-blocking: no
 * client can stall the station.
 */
#ifndef LOAXA_CONTROL_H
#define LOAXA_CONTROL_H

#include <poll.h>
#include <sys/types.h>

#define CONTROL_PROTOCOL_VERSION 1
#define CONTROL_MAX_LINE 65536
#define CONTROL_MAX_CLIENTS 16
#define CONTROL_IDLE_MS 5000

struct cJSON;
struct control;

/* Who sent a request, from the socket's credentials. */
struct control_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char user[64];
};

/* Answers one request: returns a new JSON object (the response, without
 * "v"; the server adds it) or NULL for out of memory. */
typedef struct cJSON *(*control_handler)(void *user, const struct cJSON *request,
					 const struct control_peer *peer);

/* Listens at path. A stale socket there (nobody answering) is replaced; a
 * live one, or anything that is not a socket (a file, a folder, a link), is
 * an error and is left as it is. On failure writes a sentence to error. */
int control_open(struct control **out, const char *path, control_handler handler, void *user,
		 char *error, size_t error_size);
void control_close(struct control *control);

/* The descriptors to poll (listening socket and clients); returns how many
 * were written to fds (at most max). */
int control_poll_fds(struct control *control, struct pollfd *fds, int max);
/* Handles whatever is ready on those descriptors; drops idle clients. */
void control_dispatch(struct control *control, const struct pollfd *fds, int count);

#endif
