/*
 * The serving loop (`loaxa serve`). It runs on the main thread; the engine's
 * feeder and output threads are the only others. It sleeps in poll() on a
 * signalfd, the engine's event descriptor and the control socket's clients,
 * waking at least once a second to plan (plan.c): airings due within
 * cue_ahead_ms are opened and cued on the engine with their wall-clock
 * instants; what the engine reports becomes as-run rows (runs.c); requests
 * on the socket start or stop manual broadcasts (manual.c). Stopping: SIGTERM
 * or SIGINT ends the loop; the engine fades out what plays and its last
 * events close the as-run rows before the database is closed.
 *
 * Each airing is judged once: cued, or logged missed. `judged` remembers the
 * recent ones in memory; the as-run log remembers the rest across restarts.
 * A row is written "playing" when the first frame airs and closed when it
 * ends, so a row never says "playing" for something that stopped, except
 * after a crash, which the next start closes as "interrupted".
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
#include "scheduler/control.h"
#include "scheduler/log.h"
#include "scheduler/scheduler.h"
#include "scheduler/station.h"

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
	int stale = tt_run_close_stale(station.tt, station_now_ns());
	if (stale > 0)
		log_message(LOG_WARNING, "%d as-run row(s) left on air by a stopped station are "
			    "now marked interrupted", stale);
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

	station.started_ns = station_now_ns();
	char error[512];
	if (control_open(&station.control, config->control_socket, handle_request, &station,
			 error, sizeof error) < 0) {
		log_message(LOG_ERROR, "%s", error);
		goto done;
	}
	log_message(LOG_INFO, "control socket %s", config->control_socket);
	int64_t data_version = -1;
	for (;;) {
		int64_t version = tt_data_version(station.tt);
		if (version != data_version) {
			if (data_version != -1)
				log_message(LOG_INFO, "timetable changed; planning again");
			data_version = version;
		}
		station_clock_refresh();
		plan(&station);
		struct pollfd fds[2 + 1 + CONTROL_MAX_CLIENTS] = {
			{ .fd = signal_fd, .events = POLLIN },
			{ .fd = playout_event_fd(station.playout), .events = POLLIN },
		};
		int control_count = control_poll_fds(station.control, fds + 2, 1 + CONTROL_MAX_CLIENTS);
		/* wake at each whole second, so edits are seen within one (on a
		 * test clock running fast, that second is shorter) */
		int64_t to_second_ns = NS_PER_SECOND - station_now_ns() % NS_PER_SECOND;
		int timeout_ms = (int)(station_clock_real_ns(to_second_ns) / NS_PER_MS) + 1;
		if (poll(fds, (nfds_t)(2 + control_count), timeout_ms) < 0 && errno != EINTR) {
			log_message(LOG_ERROR, "poll: %s", strerror(errno));
			break;
		}
		if (fds[1].revents & POLLIN)
			drain_events(&station);
		control_dispatch(station.control, fds + 2, control_count);
		if (fds[1].revents & POLLIN)
			drain_events(&station);
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
		drain_events(&station);
		playout_close(station.playout);
	}
	if (station.tt && station.started_ns)
		tt_state_set(station.tt, "last_alive_ns", station_now_ns());
	if (signal_fd >= 0)
		close(signal_fd);
	tt_close(station.tt);
	return status;
}
