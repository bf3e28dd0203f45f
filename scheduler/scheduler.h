/*
 * scheduler — the station's clock: it resolves the timetable into airings,
 * cues each one on the playout engine ahead of its instant, writes the
 * as-run log from what the engine reports, and re-plans when the timetable
 * changes.
 */
#ifndef LOAXA_SCHEDULER_H
#define LOAXA_SCHEDULER_H

#include "playout/playout.h"

struct sched_config {
	const char *db_path;
	const char *library_dir;      /* where media files are stored by hash */
	struct playout_config playout;
	int cue_ahead_ms;             /* how long before its instant an item is cued (0 = 8000) */
	int late_grace_ms;            /* an airing found this late still plays from its start (0 = 2000) */
	int rejoin_grace_s;           /* an airing found on air (restart) rejoins if less than this
	                                 has passed since it began; otherwise it is logged missed
	                                 (0 = 600) */
	const char *control_socket;   /* path of the control socket */
	const char *chime_path;       /* attention chime file; NULL/"" = built in */
	const char *capture_device;   /* default input for `loaxa live` */
	int no_wait;                  /* a device that cannot be opened at start ends
	                                 serve (exit 1) instead of being retried */
	/* SIGHUP: reads the configuration again into *config (may be NULL). */
	int (*reload)(void *user, struct sched_config *config);
	void *reload_user;
};

/* Runs the station until SIGTERM or SIGINT. Returns a process exit status
 * (0 after a clean stop) and logs why on failure. The caller must have
 * blocked SIGTERM, SIGINT and SIGHUP in every thread (sched_block_signals). */
int sched_serve(struct sched_config *config);
void sched_block_signals(void);

#endif
