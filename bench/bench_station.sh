#!/bin/bash
# The station's cost and accuracy on the paced test card: MINUTES minutes of
# MP3 programme at 44.1 kHz (resampled to the card's 48 kHz), as items of
# 20 s scheduled back to back, through `loaxa serve`. In the same run and on
# the same files: mpg123 playing them to the same card, and Liquidsoap when
# it is installed. Prints CPU % of one core, peak RSS, and loaxa's start-error
# distribution from the tape (median, p99, max), idle and with the other
# core busy.
#   bench/bench_station.sh [BUILD_DIR] [MINUTES]
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
MINUTES=${2:-10}
LOAXA=$BUILD/loaxa
export ALSA_CONFIG_PATH=/usr/share/alsa/alsa.conf:$BUILD/testcard.conf
export TZ=Asia/Ho_Chi_Minh LOAXA_CONFIG=/dev/null
WORK=$(mktemp -d)
export LOAXA_DB=$WORK/loaxa.db
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
ITEM_S=20
ITEMS=$(( MINUTES * 60 / ITEM_S ))

# Speech-like programme: pink noise shaped by a syllable-rate tremolo,
# band-limited like a voice, a different pitch of tone under each item.
echo "making $ITEMS MP3 items of $ITEM_S s ..."
for i in $(seq 1 "$ITEMS"); do
	# (each ends with 0.1 s of silence, so the tape shows where the next begins)
	sox -n -r 44100 -c 1 -b 16 "$WORK/item$i.wav" synth "$ITEM_S" pinknoise \
		synth "$ITEM_S" sine mix $((300 + i * 7)) tremolo 4 90 sinc 200-3400 vol 0.5 \
		trim 0 "$ITEM_S" fade 0 -0.1 0 pad 0 0.1 trim 0 "$ITEM_S" 2>/dev/null
	lame --quiet -b 96 "$WORK/item$i.wav" "$WORK/item$i.mp3"
	rm "$WORK/item$i.wav"
done
"$LOAXA" init >/dev/null
ids=()
for i in $(seq 1 "$ITEMS"); do ids+=("$("$LOAXA" media import "$WORK/item$i.mp3" 2>/dev/null)"); done

# cpu_rss PID: "cpu_seconds peak_rss_kb" of a running process
cpu_rss() {
	local ticks
	ticks=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
	echo "$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { print t / hz }') $(awk '/VmHWM/ { print $2 }' "/proc/$1/status")"
}

# run_loaxa LABEL: the whole programme once; prints a result line
run_loaxa() {
	local label=$1 first
	rm -f "$WORK/loaxa.db"* && "$LOAXA" init >/dev/null
	for i in $(seq 1 "$ITEMS"); do "$LOAXA" media import "$WORK/item$i.mp3" >/dev/null 2>&1; done
	first=$(( $(date +%s) + 10 ))
	for i in $(seq 0 $((ITEMS - 1))); do
		local at=$((first + i * ITEM_S))
		"$LOAXA" schedule add --date "$(date -d @$at +%F)" --at "$(date -d @$at +%T)" --media "${ids[$i]}" >/dev/null
	done
	"$LOAXA" serve --device "loaxatest:TAPE=$WORK/tape-$label.wav" 2>"$WORK/serve-$label.log" &
	local pid=$!
	local end=$((first + ITEMS * ITEM_S + 1))
	sleep 8
	local before
	before=$(cpu_rss $pid)
	while [ "$(date +%s)" -lt $end ]; do sleep 1; done
	local after
	after=$(cpu_rss $pid)
	kill -TERM $pid
	wait $pid || true
	local cpu
	cpu=$(awk -v a="${before% *}" -v b="${after% *}" -v s=$((end - first + 2)) 'BEGIN { printf "%.2f", 100 * (b - a) / s }')
	"$BUILD/tapetool" segments "$WORK/tape-$label.wav" --json --min-gap-ms 50 >"$WORK/seg-$label.json"
	python3 - "$WORK/seg-$label.json" "$first" "$ITEMS" "$ITEM_S" "$label" "$cpu" "${after#* }" \
		"$WORK/result-${label// /-}" <<'PYTHON'
import json, statistics, sys
seg = json.load(open(sys.argv[1]))
first, items, length = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
label, cpu, rss = sys.argv[5], float(sys.argv[6]), int(sys.argv[7])
errors = []
for i in range(items):
    due = (first + i * length) * 1e9
    near = [s["start_realtime_ns"] for s in seg if abs(s["start_realtime_ns"] - due) < 0.5e9]
    if near:
        errors.append(abs(min(near, key=lambda t: abs(t - due)) - due) / 1e6)
errors.sort()
p99 = errors[min(len(errors) - 1, int(round(0.99 * (len(errors) - 1))))] if errors else float("nan")
print(f"loaxa serve ({label:10s})  CPU {cpu:5.2f} %  peak RSS {rss / 1024:6.1f} MB  "
      f"start error n={len(errors)} median {statistics.median(errors) if errors else float('nan'):.3f} ms "
      f"p99 {p99:.3f} ms max {errors[-1] if errors else float('nan'):.3f} ms")
# for the verdicts: CPU %, RSS MB, p99 ms, airings found
with open(sys.argv[8], "w") as out:
    print(f"{cpu:.2f} {rss / 1024:.1f} {p99:.3f} {len(errors)}", file=out)
PYTHON
}

# run_player LABEL COMMAND...: another player over the same files, for the
# programme's length at most
run_player() {
	local label=$1
	shift
	local length=$((ITEMS * ITEM_S))
	timeout $((length + 10)) "$@" >"$WORK/player.log" 2>&1 &
	local pid
	sleep 1
	pid=$(pgrep -P $! | head -1)
	[ -n "$pid" ] || pid=$!
	sleep 4
	local before last
	before=$(cpu_rss "$pid")
	last=$before
	local start=$SECONDS
	while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - start)) -lt $((length - 5)) ]; do
		last=$(cpu_rss "$pid" 2>/dev/null || echo "$last")
		sleep 1
	done
	local elapsed=$((SECONDS - start))
	kill -TERM "$pid" 2>/dev/null || true
	wait || true
	awk -v a="${before% *}" -v b="${last% *}" -v s=$elapsed -v r="${last#* }" -v l="$label" \
		'BEGIN { printf "%-24s  CPU %5.2f %%  peak RSS %6.1f MB\n", l, 100 * (b - a) / s, r / 1024 }' |
		tee "$WORK/player.out"
	# for the verdicts: CPU %
	awk '{ print $(NF - 5) }' "$WORK/player.out" >"$WORK/result-${label%% *}"
}

echo "== $MINUTES minutes of MP3 programme, 44.1 kHz → 48 kHz, on the paced test card"
run_loaxa idle
( while :; do :; done ) &
busy=$!
run_loaxa "core busy"
kill $busy
files=()
for i in $(seq 1 "$ITEMS"); do files+=("$WORK/item$i.mp3"); done
run_player "mpg123 (baseline)" mpg123 -q -o alsa -a "loaxatest:TAPE=$WORK/tape-mpg123.wav" -r 48000 "${files[@]}"
if command -v liquidsoap >/dev/null; then
	printf '%s\n' "${files[@]}" >"$WORK/list.m3u"
	run_player "liquidsoap (baseline)" liquidsoap "settings.init.allow_root.set(true) \
		output.alsa(device=\"loaxatest:TAPE=$WORK/tape-ls.wav\", fallible=true, \
		playlist(mode=\"normal\", \"$WORK/list.m3u\"))"
else
	echo "liquidsoap: not installed (apt-get install liquidsoap to compare)"
fi
echo "targets: CPU at most half of Liquidsoap's and no more than mpg123's; RSS under 10 MB;"
echo "         start error p99 <= 1 ms idle, <= 5 ms with the other core busy"
read -r idle_cpu idle_rss idle_p99 idle_n <"$WORK/result-idle"
read -r busy_cpu busy_rss busy_p99 busy_n <"$WORK/result-core-busy"
mpg123_cpu=$(cat "$WORK/result-mpg123")
ls_cpu=$(cat "$WORK/result-liquidsoap" 2>/dev/null || echo "")
# verdict TEXT CONDITION (awk expression over the figures)
verdict() {
	local ok
	ok=$(awk -v ic="$idle_cpu" -v bc="$busy_cpu" -v ir="$idle_rss" -v br="$busy_rss" \
		-v ip="$idle_p99" -v bp="$busy_p99" -v mc="$mpg123_cpu" -v lc="${ls_cpu:-0}" \
		-v n1="$idle_n" -v n2="$busy_n" -v items="$ITEMS" "BEGIN { print (($2) ? \"met\" : \"NOT met\") }")
	echo "  $1: $ok"
}
verdict "every item found on both tapes ($idle_n, $busy_n of $ITEMS)" "n1 == items && n2 == items"
verdict "CPU $idle_cpu % idle, $busy_cpu % busy <= mpg123's $mpg123_cpu %" "ic <= mc && bc <= mc"
if [ -n "$ls_cpu" ]; then
	verdict "CPU $idle_cpu % idle, $busy_cpu % busy <= half Liquidsoap's $ls_cpu %" "ic <= lc / 2 && bc <= lc / 2"
fi
verdict "peak RSS $idle_rss / $busy_rss MB < 10 MB" "ir < 10 && br < 10"
verdict "start error p99 $idle_p99 ms idle <= 1 ms, $busy_p99 ms busy <= 5 ms" "ip <= 1 && bp <= 5"
