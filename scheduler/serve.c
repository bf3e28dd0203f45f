/*
 * The serving loop (`loaxa serve`). It runs on the main thread; the others
 * are the engine's feeder and output threads and the database writer's
 * thread (writer.c). It sleeps in poll() on a signalfd, the engine's event
 * descriptor and the control socket's clients, waking at least once a
 * second to sched_plan (plan.c): airings due within cue_ahead_ms are opened and
 * cued on the engine with their wall-clock instants; what the engine
 * reports becomes as-run rows (runs.c); requests on the socket start or
 * stop manual broadcasts (manual.c).
 *
 * Nothing here waits for the database. The loop reads the timetable on its
 * own connection (WAL: readers do not wait for a writer) and writes nothing
 * itself: every row and state goes to the writer's queue, shared under the
 * writer's mutex (held for a copy, never while SQLite runs), and the writer
 * thread stores them in order on its own connection, retrying while another
 * program holds the lock. `status` says when it cannot.
 *
 * Stopping: SIGTERM or SIGINT ends the loop; the engine fades out what
 * plays and its last events queue the rows' ends; writer_close writes what
 * is queued (waiting up to DRAIN_MS for a busy database, then keeping the
 * rest in its spill file for the next start) and joins its thread before
 * the database is closed.
 *
 * Each airing is judged once: cued, or logged missed. `judged` remembers the
 * recent ones in memory; the as-run log (and the writer's queue) remembers
 * the rest across restarts. A row is written "playing" when the first frame
 * airs, brought up to date every second (frames, and when it was last on
 * air) and closed when it ends, so a row never says "playing" for something
 * that stopped, except after a crash, which the next start closes as
 * "interrupted" at the last moment it was known on air.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "playout/clock.h"
#include "scheduler/answers.h"
#include "scheduler/control.h"
#include "scheduler/log.h"
#include "scheduler/scheduler.h"
#include "scheduler/station.h"
#include "scheduler/writer.h"

#define STALE_WAIT_MS 2000     /* at start, for the crash's rows to be closed */
#define DRAIN_MS 10000         /* at stop, for a busy database to take the last rows
                                  (then they are kept in the spill file) */

void sched_block_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* Waits up to timeout_ms for a signal; returns the signal number or 0. */
static int wait_signal(int signal_fd, int timeout_ms)
{
	struct pollfd fds = { .fd = signal_fd, .events = POLLIN };
	if (poll(&fds, 1, timeout_ms) <= 0)
		return 0;
	struct signalfd_siginfo info;
	if (read(signal_fd, &info, sizeof info) != sizeof info)
		return 0;
	return (int)info.ssi_signo;
}

/* Opens the sound device, retrying with backoff (a USB card may be plugged
 * in later) unless config->no_wait. Returns 0, or -1 to stop. */
static int open_device(struct station *station, int signal_fd, int *stopped)
{
	const struct sched_config *config = station->config;
	char error[512];
	int backoff_s = 1;
	for (;;) {
		if (playout_open(&station->playout, &config->playout, error, sizeof error) == 0)
			return 0;
		if (config->no_wait) {
			log_message(LOG_ERROR, "%s", error);
			return -1;
		}
		log_message(LOG_ERROR, "%s; retrying in %d s", error, backoff_s);
		int signo = wait_signal(signal_fd, backoff_s * 1000);
		if (signo == SIGTERM || signo == SIGINT) {
			log_message(LOG_INFO, "%s: stopping", strsignal(signo));
			*stopped = 1;
			return -1;
		}
		backoff_s = backoff_s * 2 > 10 ? 10 : backoff_s * 2;
	}
}

int sched_serve(struct sched_config *config)
{
	struct station station = { .config = config };
	int status = 1, signal_fd = -1, stopped = 0;
	char error[512];

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (signal_fd < 0) {
		log_message(LOG_ERROR, "signalfd: %s", strerror(errno));
		goto done;
	}
	station_clock_refresh();
	if (tt_open(&station.tt, config->db_path, TT_OPEN_EXISTING) < 0) {
		log_message(LOG_ERROR, "%s", tt_error(station.tt));
		goto done;
	}
	tt_set_busy_timeout(station.tt, READ_BUSY_MS);
	if (writer_open(&station.writer, config->db_path, error, sizeof error) < 0 ||
	    answers_new(&station.answers) < 0) {
		log_message(LOG_ERROR, "%s", station.writer ? "out of memory" : error);
		goto done;
	}
	/* rows a crash left "playing" end where they were last known on air;
	 * planning reads them (an item cut by the crash rejoins) */
	int64_t last_alive = 0;
	tt_state_get(station.tt, "last_alive_ns", &last_alive);
	writer_close_stale(station.writer, last_alive);
	if (writer_flush(station.writer, STALE_WAIT_MS) < 0)
		log_message(LOG_WARNING, "the database cannot be written yet; rows a stopped station "
			    "left on air will be closed when it can, and an item cut then does not rejoin");
	if (open_device(&station, signal_fd, &stopped) < 0) {
		status = stopped ? 0 : 1;
		goto done;
	}
	struct playout_status device;
	playout_get_status(station.playout, &device);
	station.rate = device.rate;
	log_message(LOG_INFO, "on device '%s': %s, %d Hz, %d channel(s), period %d, buffer %d frames; "
		    "output thread %s; %s", config->playout.device, device.format, device.rate,
		    device.channels, device.period_frames, device.buffer_frames,
		    device.realtime ? "at real-time priority" : "at normal priority (no real-time permission)", device.rewinds ? "rewinds honoured" : "rewinds not honoured: urgent items wait for what the device holds");

	station.started_ns = station_clock_ns();
	if (control_open(&station.control, config->control_socket, sched_handle_request, &station,
			 error, sizeof error) < 0) {
		log_message(LOG_ERROR, "%s", error);
		goto done;
	}
	log_message(LOG_INFO, "control socket %s", config->control_socket);
	int64_t data_version = -1;
	for (;;) {
		int64_t version = tt_data_version(station.tt);
		if (version != data_version) {
			/* any commit but this connection's, the station's own writer
			 * (every second, its rows and state) among them: at debug
			 * level, or the log says each second that nothing changed */
			if (data_version != -1)
				log_message(LOG_DEBUG, "the database changed; planning again");
			data_version = version;
		}
		station_clock_refresh();
		rows_flush(&station, station_clock_ns());
		sched_plan(&station);
		sched_watch_database(&station);
		struct pollfd fds[2 + 1 + CONTROL_MAX_CLIENTS] = {
			{ .fd = signal_fd, .events = POLLIN },
			{ .fd = playout_event_fd(station.playout), .events = POLLIN },
		};
		int control_count = control_poll_fds(station.control, fds + 2, 1 + CONTROL_MAX_CLIENTS);
		/* wake at each whole second, so edits are seen within one (on a
		 * test clock running fast, that second is shorter) */
		int64_t to_second_ns = NS_PER_SECOND - station_clock_ns() % NS_PER_SECOND;
		int64_t row_due_ns = rows_next_due_ns(&station);
		if (row_due_ns && row_due_ns - station_clock_ns() < to_second_ns)
			to_second_ns = row_due_ns > station_clock_ns() ? row_due_ns - station_clock_ns() : 0;
		int timeout_ms = (int)(station_clock_real_ns(to_second_ns) / NS_PER_MS) + 1;
		int control_due_ms = control_timeout_ms(station.control);
		if (control_due_ms >= 0 && control_due_ms < timeout_ms)
			timeout_ms = control_due_ms + 1;
		if (poll(fds, (nfds_t)(2 + control_count), timeout_ms) < 0 && errno != EINTR) {
			log_message(LOG_ERROR, "poll: %s", strerror(errno));
			break;
		}
		if (fds[1].revents & POLLIN)
			sched_drain_events(&station);
		control_dispatch(station.control, fds + 2, control_count);
		if (fds[1].revents & POLLIN)
			sched_drain_events(&station);
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo info;
			if (read(signal_fd, &info, sizeof info) == sizeof info) {
				if (info.ssi_signo == SIGHUP) {
					log_message(LOG_INFO, "SIGHUP: reading the configuration again");
					if (config->reload)
						config->reload(config->reload_user, config);
					continue;
				}
				log_message(LOG_INFO, "%s: stopping", strsignal((int)info.ssi_signo));
				status = 0;
				break;
			}
		}
	}
done:
	control_close(station.control);
	if (station.playout) {
		playout_stop(station.playout);
		sched_drain_events(&station);
		playout_close(station.playout);
	}
	/* the engine drained the card: what it reported has aired */
	rows_flush(&station, INT64_MAX);
	if (station.writer && station.started_ns)
		writer_state_set(station.writer, "last_alive_ns", station_clock_ns());
	writer_close(station.writer, DRAIN_MS);
	answers_free(station.answers);
	if (signal_fd >= 0)
		close(signal_fd);
	tt_close(station.tt);
	return status;
}
