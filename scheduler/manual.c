/* Requests from the control socket: manual and emergency broadcasts, live
 * input, stop, and the station's status. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/media.h"
#include "playout/clock.h"
#include "scheduler/answers.h"
#include "scheduler/control.h"
#include "scheduler/log.h"
#include "scheduler/sources.h"
#include "scheduler/station.h"
#include "scheduler/writer.h"

#define MAX_REPEAT 20
#define MAX_GAP_S 3600
#define MAX_REASON 200

static cJSON *error_response(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static cJSON *error_response(const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	cJSON *response = cJSON_CreateObject();
	cJSON_AddBoolToObject(response, "ok", 0);
	cJSON_AddStringToObject(response, "error", message);
	return response;
}

/* An optional integer field within [min, max]; -1 and an error if wrong. */
static int int_field(const cJSON *request, const char *name, int fallback, int min, int max,
		     char *error, size_t error_size)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(request, name);
	if (!item)
		return fallback;
	if (!cJSON_IsNumber(item) || item->valuedouble != (double)(int64_t)item->valuedouble ||
	    item->valuedouble < min || item->valuedouble > max) {
		snprintf(error, error_size, "\"%s\" must be a whole number from %d to %d", name, min, max);
		return -1;
	}
	return (int)item->valuedouble;
}

static const char *string_field(const cJSON *request, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(request, name);
	return cJSON_IsString(item) ? item->valuestring : NULL;
}

static struct manual *find_manual(struct station *station, int64_t id)
{
	for (int i = 0; i < MAX_MANUALS; i++)
		if (station->manuals[i].used && station->manuals[i].id == id)
			return &station->manuals[i];
	return NULL;
}

/* The latest active manual broadcast at or above `priority`: a new one of
 * the same rank waits for it. */
static struct manual *queue_tail(struct station *station, int priority)
{
	struct manual *tail = NULL;
	for (int i = 0; i < MAX_MANUALS; i++) {
		struct manual *m = &station->manuals[i];
		if (m->used && m->priority >= priority && (!tail || m->id > tail->id))
			tail = m;
	}
	return tail;
}

void sched_manual_piece_done(struct station *station, struct in_flight *piece)
{
	struct manual *m = find_manual(station, piece->manual_id);
	if (!m)
		return;
	for (int i = 0; i < MAX_IN_FLIGHT; i++) {
		struct in_flight *other = &station->in_flight[i];
		if (other != piece && other->used && other->manual_id == m->id)
			return;  /* pieces still to come */
	}
	log_message(LOG_INFO, "broadcast %" PRId64 " ('%s') is over", m->id, m->title);
	m->used = 0;
}

struct broadcast_request {
	int64_t media_id;        /* 0 for live */
	const char *capture;     /* live: the capture device */
	int priority;
	int repeat, gap_s, chime;
	const char *reason;
	const struct control_peer *peer;
};

static cJSON *start_broadcast(struct station *station, const struct broadcast_request *b)
{
	struct tt_media media = { 0 };
	void *source = NULL;
	char error[512];
	int64_t item_ns = 0;
	/* the first repetition, or the capture device, is opened before anything
	 * is cued: a file or a microphone that fails cuts nothing on air */
	void *first_source = NULL;
	const struct playout_source_ops *first_ops = &sched_media_source_ops;
	if (b->media_id > 0) {
		if (sched_open_media(station, b->media_id, 0, &media, &first_source, error, sizeof error) < 0)
			return error_response("%s", error);
		item_ns = media.frames * NS_PER_SECOND / media.rate;
	} else if (b->capture) {
		first_ops = &sched_live_source_ops;
		if (live_source_new(&first_source, b->capture, station->rate, error, sizeof error) < 0)
			return error_response("%s", error);
	}
	struct manual *m = NULL;
	for (int i = 0; i < MAX_MANUALS && !m; i++)
		if (!station->manuals[i].used)
			m = &station->manuals[i];
	if (!m) {
		if (first_source)
			first_ops->close(first_source);
		return error_response("too many manual broadcasts at once; 'loaxa stop' ends them");
	}
	struct manual *before = queue_tail(station, b->priority);
	int64_t now = station_clock_ns();
	int64_t begin = before && before->expected_end_ns > now ? before->expected_end_ns : now;
	memset(m, 0, sizeof *m);
	m->used = 1;
	m->id = ++station->next_manual_id;
	m->priority = b->priority;
	m->live = b->capture != NULL;
	snprintf(m->user, sizeof m->user, "%s", b->peer->user);
	if (b->capture)
		snprintf(m->title, sizeof m->title, "live from %s", b->capture);
	else
		snprintf(m->title, sizeof m->title, "%s", media.title);

	struct tt_airing airing = {
		.media_id = b->media_id, .priority = b->priority, .duration_ns = item_ns,
	};
	tt_local_date(now, airing.occurrence_date);
	snprintf(airing.title, sizeof airing.title, "%s", m->title);
	char note[256];
	uint64_t after = before ? before->last_tag : 0;
	int64_t total = 0;
	int pieces = 0;
	struct cue_request request = {
		.airing = &airing, .manual_id = m->id, .triggered_by = b->peer->user, .note = note,
	};

	if (b->chime) {
		int64_t frames = 0;
		if (station->config->chime_path && *station->config->chime_path) {
			struct media_stream *stream = NULL;
			int rc = media_stream_open(&stream, station->config->chime_path, station->rate, 1,
						   0.0, 0);
			if (rc < 0) {
				log_message(LOG_WARNING, "chime %s: %s; using the built-in chime",
					    station->config->chime_path, media_strerror(rc));
			} else {
				frames = media_stream_length(stream);
				request.after_tag = after;
				request.unlogged = 1;
				after = sched_cue_piece(station, &request, &sched_media_source_ops, stream);
			}
		}
		if (!frames && chime_source_new(&source, station->rate, &frames) == 0) {
			request.after_tag = after;
			request.unlogged = 1;
			after = sched_cue_piece(station, &request, &sched_generated_source_ops, source);
		}
		total += frames * NS_PER_SECOND / station->rate;
	}
	request.unlogged = 0;
	int repeat = b->capture ? 1 : b->repeat;
	for (int r = 0; r < repeat; r++) {
		airing.part = r;
		snprintf(note, sizeof note, "%s%s%s", b->reason && *b->reason ? "reason: " : "",
			 b->reason ? b->reason : "", "");
		if (repeat > 1)
			snprintf(note + strlen(note), sizeof note - strlen(note), "%s%d of %d",
				 note[0] ? "; " : "", r + 1, repeat);
		request.after_tag = after;
		request.live = b->capture != NULL;
		if (b->capture) {
			after = sched_cue_piece(station, &request, &sched_live_source_ops, first_source);
			first_source = NULL;
		} else {
			if (first_source) {
				source = first_source;
				first_source = NULL;
			} else if (sched_open_media(station, b->media_id, 0, &media, &source, error,
					      sizeof error) < 0) {
				break;
			}
			after = sched_cue_piece(station, &request, &sched_media_source_ops, source);
			total += item_ns;
		}
		if (!after)
			break;
		pieces++;
		if (b->gap_s > 0 && r + 1 < repeat) {
			int64_t frames = (int64_t)b->gap_s * station->rate;
			if (silence_source_new(&source, frames) == 0) {
				request.after_tag = after;
				request.unlogged = 1;
				after = sched_cue_piece(station, &request, &sched_generated_source_ops, source);
				request.unlogged = 0;
				total += (int64_t)b->gap_s * NS_PER_SECOND;
			}
		}
	}
	if (first_source)
		first_ops->close(first_source);
	if (!pieces) {
		m->used = 0;
		return error_response("the broadcast could not be cued; see the station's log");
	}
	m->last_tag = after;
	m->expected_end_ns = b->capture ? 0 : begin + total;
	log_message(LOG_WARNING, "%s broadcast %" PRId64 " by %s: '%s'%s%s%s",
		    tt_priority_name(b->priority), m->id, m->user, m->title,
		    b->reason && *b->reason ? " (" : "", b->reason ? b->reason : "",
		    b->reason && *b->reason ? ")" : "");
	cJSON *response = cJSON_CreateObject();
	cJSON_AddBoolToObject(response, "ok", 1);
	cJSON_AddNumberToObject(response, "broadcast", (double)m->id);
	cJSON_AddStringToObject(response, "title", m->title);
	cJSON_AddStringToObject(response, "priority", tt_priority_name(b->priority));
	if (!b->capture)
		cJSON_AddNumberToObject(response, "seconds", (double)total / 1e9);
	if (before)
		cJSON_AddNumberToObject(response, "after_broadcast", (double)before->id);
	return response;
}

static cJSON *broadcast(struct station *station, const cJSON *request,
			const struct control_peer *peer, int emergency, int live)
{
	char error[256] = "";
	struct broadcast_request b = { .peer = peer, .priority = TT_PRIORITY_EMERGENCY };
	if (!live) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(request, "media_id");
		if (!cJSON_IsNumber(id) || id->valuedouble < 1 ||
		    id->valuedouble != (double)(int64_t)id->valuedouble)
			return error_response("\"media_id\" must be a media id (a whole number)");
		b.media_id = (int64_t)id->valuedouble;
	} else {
		b.capture = string_field(request, "capture");
		if (!b.capture || !*b.capture)
			b.capture = station->config->capture_device;
		if (strlen(b.capture) > 256)
			return error_response("\"capture\" is too long");
	}
	if (!emergency && !live) {
		const char *priority = string_field(request, "priority");
		b.priority = priority ? tt_priority_parse(priority) : TT_PRIORITY_NORMAL;
		if (b.priority < 0)
			return error_response("unknown priority '%s'; use normal, priority or emergency",
					      priority);
	}
	b.repeat = int_field(request, "repeat", 1, 1, MAX_REPEAT, error, sizeof error);
	b.gap_s = int_field(request, "gap", 0, 0, MAX_GAP_S, error, sizeof error);
	if (error[0])
		return error_response("%s", error);
	const cJSON *chime = cJSON_GetObjectItemCaseSensitive(request, "chime");
	if (chime && !cJSON_IsBool(chime))
		return error_response("\"chime\" must be true or false");
	b.chime = cJSON_IsTrue(chime);
	b.reason = string_field(request, "reason");
	if (b.reason && strlen(b.reason) > MAX_REASON)
		return error_response("the reason is too long (at most %d bytes)", MAX_REASON);
	return start_broadcast(station, &b);
}

static cJSON *stop(struct station *station, const struct control_peer *peer)
{
	uint64_t tags[MAX_IN_FLIGHT];
	int count = 0, broadcasts = 0;
	cJSON *stopped = cJSON_CreateArray();
	for (int i = 0; i < MAX_MANUALS; i++) {
		struct manual *m = &station->manuals[i];
		if (!m->used)
			continue;
		cJSON_AddItemToArray(stopped, cJSON_CreateNumber((double)m->id));
		broadcasts++;
		for (int k = 0; k < MAX_IN_FLIGHT; k++) {
			struct in_flight *f = &station->in_flight[k];
			if (f->used && f->manual_id == m->id && !f->dropped) {
				snprintf(f->stopped_by, sizeof f->stopped_by, "%s", peer->user);
				tags[count++] = f->tag;
				playout_abort(station->playout, f->tag);
				if (!f->started)
					f->dropped = 1;
			}
		}
		log_message(LOG_WARNING, "broadcast %" PRId64 " stopped by %s", m->id, peer->user);
		m->used = 0;
	}
	if (!broadcasts) {
		cJSON_Delete(stopped);
		return error_response("no manual or emergency broadcast is on air or waiting");
	}
	sched_fate_after_stop(station, tags, count);
	cJSON *response = cJSON_CreateObject();
	cJSON_AddBoolToObject(response, "ok", 1);
	cJSON_AddItemToObject(response, "stopped", stopped);
	return response;
}

static void add_local_time(cJSON *object, const char *name, int64_t instant_ns)
{
	char text[40];
	sched_format_local_time(instant_ns, text, sizeof text);
	cJSON_AddStringToObject(object, name, text);
}

static cJSON *status(struct station *station)
{
	struct playout_status device;
	playout_get_status(station->playout, &device);
	int64_t now = station_clock_ns();
	cJSON *response = cJSON_CreateObject();
	cJSON_AddBoolToObject(response, "ok", 1);
	add_local_time(response, "now", now);
	cJSON_AddNumberToObject(response, "uptime_s", (double)(now - station->started_ns) / 1e9);
	struct in_flight *f = sched_find_in_flight(station, device.on_air_tag);
	if (f) {
		cJSON *on_air = cJSON_AddObjectToObject(response, "on_air");
		cJSON_AddStringToObject(on_air, "title", f->unlogged ? "attention chime or pause"
								     : f->airing.title);
		cJSON_AddStringToObject(on_air, "priority", tt_priority_name(f->airing.priority));
		cJSON_AddNumberToObject(on_air, "position_s",
					(double)f->offset_ns / 1e9 + (double)device.on_air_frames / device.rate);
		cJSON_AddNumberToObject(on_air, "length_s", (double)f->airing.duration_ns / 1e9);
		if (f->manual_id) {
			cJSON_AddNumberToObject(on_air, "broadcast", (double)f->manual_id);
			cJSON_AddStringToObject(on_air, "triggered_by", f->triggered_by);
		} else {
			cJSON_AddNumberToObject(on_air, "event_id", (double)f->airing.event_id);
		}
	} else {
		cJSON_AddNullToObject(response, "on_air");
	}
	struct tt_airing *airings = NULL;
	size_t count = 0;
	cJSON_AddNullToObject(response, "next");
	if (tt_airings_between(station->tt, now, now + 8 * 24 * 3600 * NS_PER_SECOND, &airings,
			       &count) == 0 && count > 0) {
		cJSON *next = cJSON_CreateObject();
		cJSON_AddStringToObject(next, "title", airings[0].title);
		cJSON_AddNumberToObject(next, "event_id", (double)airings[0].event_id);
		cJSON_AddStringToObject(next, "priority", tt_priority_name(airings[0].priority));
		add_local_time(next, "at", airings[0].scheduled_ns);
		cJSON_AddNumberToObject(next, "in_s", (double)(airings[0].scheduled_ns - now) / 1e9);
		cJSON_ReplaceItemInObject(response, "next", next);
	}
	free(airings);
	cJSON *card = cJSON_AddObjectToObject(response, "device");
	cJSON_AddStringToObject(card, "name", station->config->playout.device);
	cJSON_AddStringToObject(card, "state", device.device_ok ? "ok" : "lost, reopening");
	cJSON_AddStringToObject(card, "format", device.format);
	cJSON_AddNumberToObject(card, "rate", device.rate);
	cJSON_AddNumberToObject(card, "channels", device.channels);
	cJSON_AddNumberToObject(card, "buffer_ms", device.buffer_frames * 1000.0 / device.rate);
	cJSON_AddBoolToObject(card, "realtime", device.realtime);
	cJSON_AddNumberToObject(response, "xruns", (double)device.xruns);
	cJSON_AddNumberToObject(response, "events_dropped", (double)device.events_dropped);
	struct writer_health health;
	writer_health(station->writer, &health);
	cJSON *database = cJSON_AddObjectToObject(response, "database");
	cJSON_AddBoolToObject(database, "writable", health.writable);
	cJSON_AddNumberToObject(database, "unwritable_s", health.unwritable_s);
	cJSON_AddNumberToObject(database, "pending_rows", (double)health.pending_rows);
	cJSON_AddNumberToObject(database, "dropped", (double)health.dropped);
	cJSON_AddNumberToObject(database, "spilled", (double)health.spilled);
	cJSON_AddStringToObject(database, "last_error", health.last_error);
	cJSON_AddBoolToObject(database, "lost", health.lost);
	cJSON_AddStringToObject(database, "lost_how", health.lost_how);
	cJSON_AddStringToObject(database, "lost_copy", health.lost_copy);
	cJSON_AddStringToObject(database, "waiting_in", health.lost ? health.waiting_path : "");
	char unwritable[9000];
	if (health.lost)
		snprintf(unwritable, sizeof unwritable, "the database was %s %.0f s ago; %" PRId64
			 " row(s) wait in memory and in %s; restore a backup%s%s to %s", health.lost_how,
			 health.unwritable_s, health.pending_rows, health.waiting_path,
			 health.lost_copy[0] ? " or the copy " : "", health.lost_copy,
			 station->config->db_path);
	else
		snprintf(unwritable, sizeof unwritable, "the database has been unwritable for %.0f s "
			 "(%s); %" PRId64 " row(s) wait to be written", health.unwritable_s,
			 health.last_error, health.pending_rows);
	cJSON_AddStringToObject(response, "last_error",
				health.writable ? station->last_error : unwritable);
	return response;
}

static cJSON *act(struct station *station, const char *command, const cJSON *request,
		  const struct control_peer *peer)
{
	if (strcmp(command, "status") == 0)
		return status(station);
	if (strcmp(command, "emergency") == 0)
		return broadcast(station, request, peer, 1, 0);
	if (strcmp(command, "play") == 0)
		return broadcast(station, request, peer, 0, 0);
	if (strcmp(command, "live") == 0)
		return broadcast(station, request, peer, 1, 1);
	if (strcmp(command, "stop") == 0)
		return stop(station, peer);
	return error_response("unknown command '%.40s'; this station knows status, emergency, "
			      "play, live and stop", command);
}

/* A request with an "id" is acted on once: a repeat (a client retrying
 * after a timeout) gets the same answer. Status acts on nothing and is
 * answered afresh. */
cJSON *sched_handle_request(void *user, const cJSON *request, const struct control_peer *peer)
{
	struct station *station = user;
	const char *command = string_field(request, "cmd");
	if (!command)
		return error_response("the request has no \"cmd\"");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(request, "id");
	if (id && (!cJSON_IsString(id) || !id->valuestring[0] ||
		   strlen(id->valuestring) > ANSWER_ID_MAX))
		return error_response("\"id\" must be a string of 1 to %d bytes", ANSWER_ID_MAX);
	int remembered = id && strcmp(command, "status") != 0;
	if (remembered) {
		cJSON *again = answers_find(station->answers, peer->uid, id->valuestring);
		if (again) {
			log_message(LOG_INFO, "request %s from %s repeated: answered again, not acted on",
				    id->valuestring, peer->user);
			return again;
		}
	}
	cJSON *response = act(station, command, request, peer);
	if (response && id)
		cJSON_AddStringToObject(response, "id", id->valuestring);
	if (response && remembered)
		answers_keep(station->answers, peer->uid, id->valuestring, response);
	return response;
}
