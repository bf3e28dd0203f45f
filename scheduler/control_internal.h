/*
 * The control socket's mechanism apart from its sockets (control.c), for
 * its unit tests: how bytes become request lines, and which place a
 * newcomer takes.
 */
#ifndef LOAXA_CONTROL_INTERNAL_H
#define LOAXA_CONTROL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum control_frame {
	CONTROL_FRAME_MORE,       /* all the bytes were taken; the line goes on */
	CONTROL_FRAME_LINE,       /* a whole line is in framer->line */
	CONTROL_FRAME_TOO_LONG,   /* the line passed CONTROL_MAX_LINE: answer it once */
	CONTROL_FRAME_SKIPPED,    /* the end of that line: the next begins */
};

/* The line being read from one connection. Zeroed, with line set, it is
 * at the start of a line. */
struct control_framer {
	char *line;     /* CONTROL_MAX_LINE + 1 bytes (the caller's): after
			   CONTROL_FRAME_LINE, the line without its newline,
			   '\0'-terminated, used bytes long */
	size_t used;
	int skipping;   /* the rest of an oversized line is being skipped */
	int complete;   /* line holds a whole line, given by the last call */
};

/* Takes bytes from data (size of them) into the line being read; *taken
 * says how many it used (possibly 0: call again with the rest). Over a
 * line longer than CONTROL_MAX_LINE bytes it returns CONTROL_FRAME_TOO_LONG
 * once, then CONTROL_FRAME_MORE until the newline that ends it, and
 * CONTROL_FRAME_SKIPPED there. */
enum control_frame control_frame(struct control_framer *framer, const char *data, size_t size,
				 size_t *taken);

/* One place in the table, as control_choose_place sees it. */
struct control_place {
	int used;
	pid_t pid;
	uid_t uid;
	int64_t waiting_since_ns;   /* connected, or last answered */
};

/* The place for a newcomer from process pid of uid (uid_limited: its uid
 * has a share too; root's and the station's own have not) among count
 * places: its peer's longest waiting one if that peer holds its share
 * (CONTROL_MAX_PER_PEER), else a free one, else the longest waiting of
 * all. *evict says whether the connection there must be dropped first. */
int control_choose_place(const struct control_place *places, int count, pid_t pid, uid_t uid,
			 int uid_limited, int *evict);

#endif
