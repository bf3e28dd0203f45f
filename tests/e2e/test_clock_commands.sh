#!/bin/bash
# Every command reads the station's clock, the test clock included
# (LOAXA_TEST_CLOCK_FILE, see playout/clock.h), not the machine's: with the
# station a day ahead, "today" (schedule show, log), "in the past" (schedule
# add), the audit trail and the import time are the station's, and an event
# added for the station's next seconds airs then, logged on its day.
source "$(dirname "$0")/lib.sh"

S=1000000000
export LOAXA_TEST_CLOCK_FILE=$WORK/clock-offset
echo $((86400 * S)) >"$LOAXA_TEST_CLOCK_FILE"     # the station is a day ahead
# station_date [+SECONDS]: the station's date (TZ is the station's, lib.sh)
station_date() { date -d "@$(( $(date +%s) + 86400 + ${1:-0} ))" +%F; }
real_today=$(date +%F)
station_today=$(station_date)
echo "  the machine's date $real_today, the station's $station_today"

"$LOAXA" init >/dev/null
sox -n -r 48000 -c 1 -b 16 "$WORK/tone.wav" synth 1.0 sine 700 vol 0.5
media=$("$LOAXA" media import "$WORK/tone.wav" 2>/dev/null)
imported=$(sqlite3 "$DB" "SELECT imported_at FROM media WHERE id = $media")
check "the import time is the station's ($imported)" test "${imported:0:10}" = "$station_today"
audit_ns=$(sqlite3 "$DB" "SELECT at_ns FROM audit WHERE action = 'media.import'")
ahead_s=$(awk -v a="$audit_ns" -v n="$(date +%s%N)" 'BEGIN { if (a != "") printf "%.0f", (a - n) / 1e9 }')
check "the audit row's instant is the station's (${ahead_s:-none} s ahead)" within "$ahead_s" 86400 60
audit_at=$(sqlite3 "$DB" "SELECT at FROM audit WHERE action = 'media.import'")
check "the audit row's text is the station's day ($audit_at)" test "${audit_at:0:10}" = "$station_today"
check "  and the same instant as its at_ns" \
	test -n "$audit_ns" -a "$(date -d "@$((audit_ns / S))" +%FT%T%z)" = "$audit_at"

"$LOAXA" schedule show --json >"$WORK/show.json"
check "schedule show without a date shows the station's today" \
	test "$(json_field "$WORK/show.json" "d['date']")" = "$station_today"
expect_status 1 "in the past" "$LOAXA" schedule add --date "$real_today" --at 23:59:59 --media "$media"
check "nothing was added for the machine's today" test "$(sqlite3 "$DB" 'SELECT count(*) FROM event')" = 0

# The station airs an event added for its next seconds, and `loaxa log`
# (its today by default) shows the row.
start_serve "loaxatest:TAPE=$WORK/tape.wav"
check "the station is up" wait_for 10 test -S "$WORK/loaxa.sock"
due=$(( $(date +%s) + 86400 + 3 ))
event=$("$LOAXA" schedule add --date "$(date -d @$due +%F)" --at "$(date -d @$due +%T)" --media "$media" --title "a day ahead")
check "an event for the station's next seconds is accepted ($event)" test -n "$event"
played() { [ "$(sqlite3 "$DB" "SELECT status FROM as_run WHERE event_id = $event")" = played ]; }
check "it airs on the station's clock" wait_for 10 played
check "serve stops cleanly on SIGTERM" stop_serve
error_ms=$(sqlite3 "$DB" "SELECT (started_ns - scheduled_ns) / 1e6 FROM as_run WHERE event_id = $event")
check "it started on its second of the station's clock ($error_ms ms)" within "$error_ms" 0 20
check "the tape has it" test "$(segment_count "$WORK/tape.wav")" = 1
"$LOAXA" log --json >"$WORK/log.json"
check "loaxa log (the station's today) lists it" \
	test "$(json_field "$WORK/log.json" "sum(1 for r in d if r['title'] == 'a day ahead')")" = 1
finish
