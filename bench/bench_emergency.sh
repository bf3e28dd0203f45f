#!/bin/bash
# Emergency-to-air latency on the paced test card: the time from starting
# `loaxa emergency` to the first emergency frame on the tape, over TRIALS
# trials, while a normal item is on air, with the other core idle and then
# busy. Baseline in the same run: a fresh `aplay` of the same file started
# on an idle test card (the time any new player process takes to be heard).
#   bench/bench_emergency.sh [BUILD_DIR] [TRIALS]
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
TRIALS=${2:-20}
LOAXA=$BUILD/loaxa
export ALSA_CONFIG_PATH=/usr/share/alsa/alsa.conf:$BUILD/testcard.conf
export TZ=Asia/Ho_Chi_Minh LOAXA_CONFIG=/dev/null
WORK=$(mktemp -d)
export LOAXA_DB=$WORK/loaxa.db
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT

sox -n -r 48000 -c 1 -b 16 "$WORK/alarm.wav" synth 0.4 sine 2000 vol 0.5
sox -n -r 48000 -c 1 -b 16 "$WORK/bed.wav" synth 600 sine 500 vol 0.3
"$LOAXA" init >/dev/null
alarm=$("$LOAXA" media import "$WORK/alarm.wav" 2>/dev/null)
bed=$("$LOAXA" media import "$WORK/bed.wav" 2>/dev/null)
at=$(( $(date +%s) + 3 ))
"$LOAXA" schedule add --date "$(date -d @$at +%F)" --at "$(date -d @$at +%T)" --media "$bed" \
	--resume resume >/dev/null
"$LOAXA" serve --device "loaxatest:TAPE=$WORK/tape.wav" 2>"$WORK/serve.log" &
serve=$!
sleep 4

trial_times=()
run_trials() {
	for _ in $(seq "$TRIALS"); do
		t0=$(date +%s%N)
		"$LOAXA" emergency --media "$alarm" >/dev/null
		trial_times+=("$t0")
		sleep 0.9
	done
}
run_trials
idle_count=${#trial_times[@]}
# the other core busy
( while :; do :; done ) &
busy=$!
run_trials
kill $busy
kill -TERM $serve
wait $serve || true
"$BUILD/tapetool" segments "$WORK/tape.wav" --json >"$WORK/segments.json"

# Baseline: a new aplay process each time, idle machine.
base_times=()
for i in $(seq "$TRIALS"); do
	t0=$(date +%s%N)
	aplay -q -D "loaxatest:TAPE=$WORK/aplay$i.wav" "$WORK/alarm.wav"
	"$BUILD/tapetool" segments "$WORK/aplay$i.wav" --json >"$WORK/aplay$i.json"
	base_times+=("$t0")
done

python3 - "$WORK" "$idle_count" "${trial_times[@]}" -- "${base_times[@]}" <<'PYTHON'
import json, statistics, sys
work, idle = sys.argv[1], int(sys.argv[2])
rest = sys.argv[3:]
split = rest.index("--")
trials, bases = [int(x) for x in rest[:split]], [int(x) for x in rest[split + 1:]]
segments = [s for s in json.load(open(f"{work}/segments.json")) if abs(s["freq_hz"] - 2000) < 40]
def latency(t0):
    later = [s["start_realtime_ns"] for s in segments if s["start_realtime_ns"] >= t0]
    return (min(later) - t0) / 1e6 if later else float("nan")
def summary(name, values):
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    print(f"{name:44s} n={len(values):3d}  median {statistics.median(values):7.2f} ms"
          f"  p95 {p95:7.2f} ms  max {values[-1]:7.2f} ms")
    return p95
idle_p95 = summary("loaxa emergency, other core idle", [latency(t) for t in trials[:idle]])
summary("loaxa emergency, other core busy", [latency(t) for t in trials[idle:]])
base = []
for i, t0 in enumerate(bases, 1):
    info = dict(l.strip().split("=", 1) for l in open(f"{work}/aplay{i}.wav.info") if "=" in l)
    seg = json.load(open(f"{work}/aplay{i}.json"))
    if seg:
        base.append((seg[0]["start_realtime_ns"] - t0) / 1e6)
summary("baseline: a fresh aplay on an idle card", base)
print(f"target: p95 <= 20 ms on an idle machine: {'met' if idle_p95 <= 20 else 'NOT met'}")
PYTHON
