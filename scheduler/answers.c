#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/answers.h"

struct answer {
	uid_t uid;
	char id[ANSWER_ID_MAX + 1];   /* "" = unused */
	cJSON *answer;
};

struct answers {
	struct answer kept[ANSWERS_KEPT];
	size_t next;                  /* the oldest, replaced next */
};

int answers_new(struct answers **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? 0 : -ENOMEM;
}

void answers_free(struct answers *answers)
{
	if (!answers)
		return;
	for (size_t i = 0; i < ANSWERS_KEPT; i++)
		cJSON_Delete(answers->kept[i].answer);
	free(answers);
}

cJSON *answers_find(struct answers *answers, uid_t uid, const char *id)
{
	for (size_t i = 0; i < ANSWERS_KEPT; i++) {
		const struct answer *a = &answers->kept[i];
		if (a->answer && a->uid == uid && strcmp(a->id, id) == 0)
			return cJSON_Duplicate(a->answer, 1);
	}
	return NULL;
}

void answers_keep(struct answers *answers, uid_t uid, const char *id, const cJSON *answer)
{
	cJSON *copy = cJSON_Duplicate(answer, 1);
	if (!copy)
		return;
	struct answer *a = &answers->kept[answers->next];
	answers->next = (answers->next + 1) % ANSWERS_KEPT;
	cJSON_Delete(a->answer);
	a->uid = uid;
	snprintf(a->id, sizeof a->id, "%s", id);
	a->answer = copy;
}
