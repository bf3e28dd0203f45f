/*
 * The control socket: a Unix stream socket on which `loaxa serve` takes
 * requests from the command line (emergency, play, stop, status) while it
 * runs. Protocol (docs/control-protocol.md): one JSON object per line each
 * way, {"v":1,"cmd":...} → {"v":1,"ok":true|false,...}. Malformed or
 * unknown requests get an error answer. Only the socket's owner, root and
 * members of its group may connect (mode 0660, SO_PEERCRED): they are the
 * "allowed" peers; anyone else is answered "permission denied" and closed.
 *
 * No client can hold the socket (the limits below are the protocol's; the
 * document lists them and a test holds the two to each other):
 * - a request must be whole within CONTROL_REQUEST_MS of its first byte
 *   (the first request, of the connection), however the bytes trickle in;
 *   a connection with no request under way is dropped CONTROL_IDLE_MS
 *   after its last answer;
 * - a line longer than CONTROL_MAX_LINE gets one error answer and the rest
 *   of it is skipped to its newline; the connection then goes on in step;
 * - one process holds at most CONTROL_MAX_PER_PEER connections, and so does
 *   one uid other than root's and the station's own; a newcomer beyond its
 *   share takes the place of its peer's connection that has waited longest;
 * - an allowed newcomer always gets a place: with all CONTROL_MAX_CLIENTS
 *   taken, the connection that has waited longest since it connected or was
 *   last answered is dropped for it. Answers are given as requests arrive,
 *   so no connection dropped is owed one.
 *
 * Everything here runs on the serving loop's thread, non-blocking: no
 * client can stall the station.
 */
#ifndef LOAXA_CONTROL_H
#define LOAXA_CONTROL_H

#include <poll.h>
#include <sys/types.h>

#define CONTROL_PROTOCOL_VERSION 1
#define CONTROL_MAX_LINE 65536        /* bytes of a request line, without its newline */
#define CONTROL_MAX_CLIENTS 16        /* connections served at once */
#define CONTROL_MAX_PER_PEER 4        /* connections of one process (or limited uid) */
#define CONTROL_REQUEST_MS 2000       /* a whole request, from its first byte */
#define CONTROL_IDLE_MS 5000          /* from an answer to the next request's first byte */
#define CONTROL_ACCEPT_PAUSE_MS 100   /* no accepting, out of file descriptors */
#define CONTROL_BACKLOG 64            /* connections waiting to be accepted */

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
/* Handles whatever is ready on those descriptors; drops the clients past
 * their deadline. */
void control_dispatch(struct control *control, const struct pollfd *fds, int count);
/* Milliseconds until control_dispatch has something to do without a
 * descriptor being ready (a deadline, the end of a pause), or -1: none. */
int control_timeout_ms(const struct control *control);

#endif
