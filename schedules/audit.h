/* The audit trail: who changed what, append-only. */
#ifndef LOAXA_SCHEDULES_AUDIT_H
#define LOAXA_SCHEDULES_AUDIT_H

#include <stdint.h>
#include "schedules/store.h"

/* ---- audit: who changed what, append-only ---- */
struct tt_audit_entry {
	int64_t id;
	int64_t at_ns;
	char operator_name[128];
	char action[32];         /* e.g. "event.add", "programme.append", "schedule.import" */
	char subject[64];        /* e.g. "event 5", "programme 2", "media 3" */
	char detail[2048];       /* what changed, in a sentence */
};

/* Rows at or after since_ns, oldest first. */
int tt_audit_each(struct tt *tt, int64_t since_ns,
		  int (*fn)(void *user, const struct tt_audit_entry *entry), void *user);

#endif
