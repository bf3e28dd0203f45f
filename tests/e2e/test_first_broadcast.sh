#!/bin/bash
# The first path end to end, through the built `loaxa` binary: two tones (a
# 44.1 kHz mono WAV and a 48 kHz stereo MP3) imported, scheduled a few seconds
# apart, played by `loaxa serve` on the paced test card fixed at S16_LE /
# 2 channels / 48 kHz. The tape must show each tone at its second (within
# 20 ms), in order, with its frequency and length, and the as-run log must
# agree with the tape.
source "$(dirname "$0")/lib.sh"

sox -n -r 44100 -c 1 -b 16 "$WORK/low.wav" synth 1.5 sine 440 vol 0.5
sox -n -r 48000 -c 2 -b 16 "$WORK/high.wav" synth 1.0 sine 1000 vol 0.5
lame --quiet -b 128 "$WORK/high.wav" "$WORK/high.mp3"

check "init creates the database" "$LOAXA" init
low=$("$LOAXA" media import "$WORK/low.wav")
high=$("$LOAXA" media import "$WORK/high.mp3" --title "Thông báo 1000 Hz")
check "two media ids ($low, $high)" test -n "$low" -a -n "$high" -a "$low" != "$high"

# Two broadcasts on whole seconds, the first 5 s from now, the second 3 s later.
first=$(( $(date +%s) + 5 ))
second=$((first + 3))
event_low=$("$LOAXA" schedule add --date "$(date -d @$first +%F)" --at "$(date -d @$first +%T)" --media "$low")
event_high=$("$LOAXA" schedule add --date "$(date -d @$second +%F)" --at "$(date -d @$second +%T)" --media "$high")
check "two event ids" test -n "$event_low" -a -n "$event_high"

TAPE=$WORK/tape.wav
start_serve "loaxatest_fixed:TAPE=$TAPE"
played() { [ "$(sqlite3 "$DB" "SELECT count(*) FROM as_run WHERE status = 'played'")" = 2 ]; }
check "both broadcasts played within 15 s" wait_for 15 played
sleep 0.3
rc=0
stop_serve || rc=$?
check "serve stops cleanly on SIGTERM (exit $rc)" test "$rc" -eq 0
grep -q "S16_LE, 48000 Hz, 2 channel" "$WORK/serve.log" && pass "engine negotiated the card's fixed format" \
	|| fail "engine did not report S16_LE/48000/2: $(grep 'on device' "$WORK/serve.log")"

"$TAPETOOL" info "$TAPE"
"$TAPETOOL" segments "$TAPE" --json >"$WORK/segments.json"
"$TAPETOOL" segments "$TAPE"
count=$(json_field "$WORK/segments.json" 'len(d)')
check "the tape shows exactly two tones (saw $count)" test "$count" = 2
if [ "$count" = 2 ]; then
	for i in 0 1; do
		scheduled=$([ $i = 0 ] && echo $first || echo $second)
		freq_want=$([ $i = 0 ] && echo 440 || echo 1000)
		length_want=$([ $i = 0 ] && echo 1500 || echo 1000)
		start_ns=$(json_field "$WORK/segments.json" "d[$i]['start_realtime_ns']")
		freq=$(json_field "$WORK/segments.json" "d[$i]['freq_hz']")
		length=$(json_field "$WORK/segments.json" "d[$i]['duration_ms']")
		error_ms=$(awk -v s="$start_ns" -v t="$scheduled" 'BEGIN { printf "%.3f", (s - t * 1e9) / 1e6 }')
		echo "  measured: tone $((i + 1)) start error on the tape $error_ms ms, $freq Hz, $length ms"
		check "tone $((i + 1)) starts within 20 ms of its second ($error_ms ms)" within "$error_ms" 0 20
		check "tone $((i + 1)) is $freq_want Hz ($freq)" within "$freq" "$freq_want" "$(awk -v f="$freq_want" 'BEGIN { print f * 0.01 }')"
		check "tone $((i + 1)) lasts $length_want ms ($length)" within "$length" "$length_want" 5
		# The as-run row: measured start agrees with the tape, frames as played.
		row=$(sqlite3 -separator ' ' "$DB" "SELECT started_ns, scheduled_ns, frames_played, status \
			FROM as_run WHERE event_id = $([ $i = 0 ] && echo $event_low || echo $event_high)")
		read -r started sched frames status <<<"$row"
		check "as-run row $((i + 1)) is 'played' ($status)" test "$status" = played
		check "as-run scheduled time is the event's second" test "$sched" = "$((scheduled * 1000000000))"
		agree_ms=$(awk -v a="$started" -v b="$start_ns" 'BEGIN { printf "%.3f", (a - b) / 1e6 }')
		echo "  measured: as-run start minus tape start $agree_ms ms"
		check "as-run start agrees with the tape within 2 ms ($agree_ms)" within "$agree_ms" 0 2
		check "as-run frames = $((length_want * 48)) ($frames)" test "$frames" = "$((length_want * 48))"
	done
	first_start=$(json_field "$WORK/segments.json" "d[0]['start_frame']")
	second_start=$(json_field "$WORK/segments.json" "d[1]['start_frame']")
	check "in the right order" test "$first_start" -lt "$second_start"
fi

"$LOAXA" log --date "$(date -d @$first +%F)"
"$LOAXA" log --date "$(date -d @$first +%F)" --json >"$WORK/log.json"
check "log --json lists both as played" test \
	"$(json_field "$WORK/log.json" "sum(1 for r in d if r['status'] == 'played')")" = 2
finish
