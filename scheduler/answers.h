/*
 * answers — what the station answered to recent requests that carried an
 * id (docs/control-protocol.md), so a client that retries after a timeout
 * or a lost connection gets the same answer and the station does not act
 * twice. Serving thread only.
 */
#ifndef LOAXA_ANSWERS_H
#define LOAXA_ANSWERS_H

#include <sys/types.h>

#define ANSWERS_KEPT 64
#define ANSWER_ID_MAX 64       /* bytes */

struct cJSON;
struct answers;

int answers_new(struct answers **out);
void answers_free(struct answers *answers);
/* A copy of the answer given to this id from this user (the caller owns
 * it), or NULL if none is remembered. */
struct cJSON *answers_find(struct answers *answers, uid_t uid, const char *id);
/* Remembers a copy of answer for (uid, id); the oldest of ANSWERS_KEPT goes. */
void answers_keep(struct answers *answers, uid_t uid, const char *id, const struct cJSON *answer);

#endif
