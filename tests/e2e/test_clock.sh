#!/bin/bash
# Wall-clock steps while the station runs (an NTP correction, an operator
# fixing the date), through the test clock: LOAXA_TEST_CLOCK_FILE holds
# nanoseconds added to the station's clock. A step back does not air an item
# twice; a small step forward over an item's start still airs it (late, and
# the log says by how much); a big step forward logs what it jumped over as
# missed instead of airing it late; items after a step air on the new clock.
source "$(dirname "$0")/lib.sh"

export LOAXA_TEST_CLOCK_FILE=$WORK/clock-offset
echo 0 >"$LOAXA_TEST_CLOCK_FILE"
"$LOAXA" init >/dev/null
declare -A media
for name in a:500 b:700 c:900 d:1100 e:1300; do
	sox -n -r 48000 -c 1 -b 16 "$WORK/${name%:*}.wav" synth 1.0 sine "${name#*:}" vol 0.5
	media[${name%:*}]=$("$LOAXA" media import "$WORK/${name%:*}.wav" 2>/dev/null)
done
t0=$(( $(date +%s) + 5 ))
declare -A event
for spec in a:0 b:5 c:8 d:20 e:75; do
	at=$((t0 + ${spec#*:}))
	event[${spec%:*}]=$("$LOAXA" schedule add --date "$(date -d @$at +%F)" --at "$(date -d @$at +%T)" \
		--media "${media[${spec%:*}]}" --title "${spec%:*}")
done
until_real() { while [ "$(date +%s%N)" -lt "$1" ]; do sleep 0.01; done; }
S=1000000000

start_serve "loaxatest:TAPE=$WORK/tape.wav"
until_real $(( (t0 + 2) * S ))
echo $(( -3 * S )) >"$LOAXA_TEST_CLOCK_FILE"        # back 3 s: A's second comes again
# (the station reads the clock file on each whole second)
until_real $(( (t0 + 9) * S + S / 2 ))
echo $(( -S / 2 )) >"$LOAXA_TEST_CLOCK_FILE"        # forward 2.5 s, over C's start
until_real $(( (t0 + 13) * S ))
echo $(( 595 * S / 10 )) >"$LOAXA_TEST_CLOCK_FILE"  # forward 60 s, over D
until_real $(( (t0 + 17) * S + S / 2 ))
check "serve stops cleanly on SIGTERM" stop_serve

sqlite3 -header "$DB" "SELECT title, status, CASE WHEN started_ns THEN (started_ns - scheduled_ns) / 1e6 END AS error_ms, detail FROM as_run ORDER BY id"
rows() { sqlite3 "$DB" "SELECT group_concat(status, ',') FROM as_run WHERE event_id = ${event[$1]}"; }
error_ms() { sqlite3 "$DB" "SELECT (started_ns - scheduled_ns) / 1e6 FROM as_run WHERE event_id = ${event[$1]}"; }
check "A aired once, not again after the step back ($(rows a))" test "$(rows a)" = played
check "B aired on the stepped clock ($(rows b))" test "$(rows b)" = played
check "B started on its second of the station's clock ($(error_ms b) ms)" within "$(error_ms b)" 0 20
check "C, whose start was stepped over by 2.5 s, still aired ($(rows c))" test "$(rows c)" = played
check "C's row says it was 1.5 s late ($(error_ms c) ms)" within "$(error_ms c)" 1500 600
check "D, jumped over by a minute, is logged missed ($(rows d))" test "$(rows d)" = missed
check "D's row says why" test "$(sqlite3 "$DB" "SELECT detail FROM as_run WHERE event_id = ${event[d]}")" = "the clock moved past its time"
check "E aired on the new clock ($(rows e))" test "$(rows e)" = played
check "E started on its second of the station's clock ($(error_ms e) ms)" within "$(error_ms e)" 0 20

"$TAPETOOL" segments "$WORK/tape.wav" --json >"$WORK/segments.json"
"$TAPETOOL" segments "$WORK/tape.wav"
count() { json_field "$WORK/segments.json" "sum(1 for s in d if abs(s['freq_hz'] - $1) < 10)"; }
check "the tape has A once ($(count 500))" test "$(count 500)" = 1
check "the tape has no D ($(count 1100))" test "$(count 1100)" = 0
real_start() { json_field "$WORK/segments.json" "[s['start_realtime_ns'] for s in d if abs(s['freq_hz'] - $1) < 10][0] / 1e9 - $t0"; }
check "B aired 8 s after A by the machine's clock ($(real_start 700) s)" within "$(real_start 700)" 8 0.03
check "E aired 15.5 s after A by the machine's clock ($(real_start 1300) s)" within "$(real_start 1300)" 15.5 0.03
finish
