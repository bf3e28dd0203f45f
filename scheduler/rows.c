/*
 * As-run rows are written once their audio has reached the card. The engine
 * reports a piece's start and end when it renders them, up to a device
 * buffer (0.1–0.4 s) before they air; a row begun or closed then would say
 * "played" for an item whose last frames a crash kept off the air, or
 * "playing" for one that never aired. So the begin and the finish of each
 * piece's row wait here, in order, until the instant they describe has
 * passed, and then go to the writer (writer.c). What still waits here when
 * the station dies had not happened on the air; when the sound device is
 * lost, the pieces whose ends wait here lost what came after that instant.
 * Serving thread only.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "scheduler/log.h"
#include "scheduler/station.h"
#include "scheduler/writer.h"

static void write_row(struct station *station, struct pending_row *row)
{
	if (!row->finish) {
		writer_run_begin(station->writer, &row->run);   /* run.id: its handle */
		/* the piece and its finish, if it waits here too, name it so */
		struct in_flight *f = sched_find_in_flight(station, row->tag);
		if (f)
			f->run.id = row->run.id;
		for (size_t i = 1; i < station->pending_count; i++) {
			struct pending_row *later =
				&station->pending_rows[(station->pending_head + i) % MAX_PENDING_ROWS];
			if (later->tag == row->tag)
				later->run.id = row->run.id;
		}
	} else if (row->run.id) {
		writer_run_finish(station->writer, &row->run);
	}
}

void rows_device_lost(struct station *station, int64_t lost_ns)
{
	for (size_t i = 0; i < station->pending_count; i++) {
		struct pending_row *row =
			&station->pending_rows[(station->pending_head + i) % MAX_PENDING_ROWS];
		struct tt_run *run = &row->run;
		if (!row->finish || run->ended_ns <= lost_ns || run->started_ns >= lost_ns)
			continue;
		int64_t lost_frames = (run->ended_ns - lost_ns) * station->rate / NS_PER_SECOND;
		run->frames_played = run->frames_played > lost_frames ? run->frames_played - lost_frames : 0;
		run->ended_ns = lost_ns;
		if (run->status == TT_RUN_PLAYED || run->status == TT_RUN_RESUMED)
			run->status = TT_RUN_INTERRUPTED;
		size_t used = strlen(run->detail);
		snprintf(run->detail + used, sizeof run->detail - used, "%s%.3f s lost with the sound "
			 "device", used ? "; " : "", (double)lost_frames / station->rate);
	}
}

void rows_flush(struct station *station, int64_t now_ns)
{
	while (station->pending_count) {
		struct pending_row *row = &station->pending_rows[station->pending_head];
		if (row->due_ns > now_ns)
			break;
		write_row(station, row);
		station->pending_head = (station->pending_head + 1) % MAX_PENDING_ROWS;
		station->pending_count--;
	}
}

static void queue_row(struct station *station, uint64_t tag, int finish, const struct tt_run *run,
		      int64_t due_ns)
{
	if (station->pending_count == MAX_PENDING_ROWS) {
		/* more pieces in a device buffer than this holds: write the
		 * oldest now rather than lose it */
		log_message(LOG_WARNING, "as-run rows: more than %d wait for the card; writing the "
			    "oldest early", MAX_PENDING_ROWS);
		rows_flush(station, station->pending_rows[station->pending_head].due_ns);
	}
	struct pending_row *row = &station->pending_rows[(station->pending_head +
							  station->pending_count) % MAX_PENDING_ROWS];
	row->due_ns = due_ns;
	row->tag = tag;
	row->finish = finish;
	row->run = *run;
	station->pending_count++;
}

void rows_begin(struct station *station, uint64_t tag, const struct tt_run *run)
{
	queue_row(station, tag, 0, run, run->started_ns);
}

void rows_finish(struct station *station, uint64_t tag, const struct tt_run *run)
{
	queue_row(station, tag, 1, run, run->ended_ns);
}

int64_t rows_next_due_ns(const struct station *station)
{
	return station->pending_count ? station->pending_rows[station->pending_head].due_ns : 0;
}
