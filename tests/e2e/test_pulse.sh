#!/bin/bash
# The station on a real PulseAudio, through ALSA's `pulse` device: a sound
# server accepts snd_pcm_rewind but has already taken the frames. A private
# daemon (its own socket, home and runtime folder in the scratch folder; no
# other program's `default` can reach it) plays to a null sink whose monitor
# parec records. A staircase item (policy resume) is cut by an emergency:
#   - the station sees the device does not honour rewinds, and does not
#     spin on the server's wakeups;
#   - the emergency airs whole (800 ms), the staircase before and after it
#     adds up to its 3.6 s: nothing lost, nothing repeated;
#   - the as-run log agrees with the recording (times relative to the
#     staircase's start, since the recording's own start is not exact).
# Skipped (exit 0, with a message) when PulseAudio or ALSA's pulse plugin is
# not installed (scripts/install-deps installs them).
source "$(dirname "$0")/lib.sh"

plugin_dir=$(pkg-config --variable=libdir alsa 2>/dev/null)/alsa-lib
if ! command -v pulseaudio >/dev/null || ! command -v parec >/dev/null ||
	[ ! -e "$plugin_dir/libasound_module_pcm_pulse.so" ]; then
	echo "SKIP: PulseAudio (pulseaudio, pulseaudio-utils) or ALSA's pulse plugin" \
		"(libasound2-plugins) is not installed; scripts/install-deps installs them"
	exit 0
fi

mkdir -p "$WORK/home" "$WORK/run" "$WORK/state"
export HOME=$WORK/home XDG_RUNTIME_DIR=$WORK/run PULSE_RUNTIME_PATH=$WORK/run/pulse \
	PULSE_STATE_PATH=$WORK/state PULSE_SERVER=unix:$WORK/pulse.sock
# -n: no default.pa; as root it warns and runs as this user (not --system,
# whose socket every root program would find)
pulseaudio -n --daemonize=no --exit-idle-time=-1 --use-pid-file=no --log-target=stderr \
	-L "module-null-sink sink_name=loaxa_null rate=48000 channels=2" \
	-L "module-native-protocol-unix socket=$WORK/pulse.sock auth-anonymous=1" \
	2>"$WORK/pulse.log" &
PULSE_PID=$!
PAREC_PID=
stop_helpers() {
	[ -z "$PAREC_PID" ] || kill "$PAREC_PID" 2>/dev/null || true
	kill "$PULSE_PID" 2>/dev/null || true
	wait "$PULSE_PID" 2>/dev/null || true
}
trap 'stop_helpers; cleanup' EXIT
check "the private PulseAudio answers" wait_for 10 pactl info

make_staircase "$WORK/staircase.wav"
sox -n -r 48000 -c 1 -b 16 "$WORK/storm.wav" synth 0.8 sine 2000 vol 0.5
"$LOAXA" init >/dev/null
staircase=$("$LOAXA" media import "$WORK/staircase.wav" 2>/dev/null)
storm=$("$LOAXA" media import "$WORK/storm.wav" 2>/dev/null)
# PulseAudio's latency reports read low for the first seconds of a stream
# (0 while its timing settles): the item is due once they have settled
base=$(( $(date +%s) + 7 ))
"$LOAXA" schedule add --date "$(date -d @$base +%F)" --at "$(date -d @$base +%T)" \
	--media "$staircase" --resume resume --title "staircase" >/dev/null

parec -d loaxa_null.monitor --rate=48000 --channels=2 --format=s16le --latency-msec=20 \
	>"$WORK/monitor.raw" &
PAREC_PID=$!
start_serve pulse
serve_started_s=$(date +%s)
check "the station answers on its socket" wait_for 10 test -S "$WORK/loaxa.sock"
until_ns() { while [ "$(date +%s%N)" -lt "$1" ]; do sleep 0.002; done; }
until_ns $(( base * 1000000000 + 1500000000 ))
"$LOAXA" emergency --media "$storm" >/dev/null
until_ns $(( (base + 6) * 1000000000 ))
# a sound server wakes its client whenever a period fits in its buffer: the
# output thread must not spin on that (it sleeps until a period fits)
cpu_s=$(ps -o times= -p "$SERVE_PID" | tr -d ' ')
wall_s=$(( $(date +%s) - serve_started_s ))
check "the station used ${cpu_s:-?} s of CPU in $wall_s s (under a quarter)" \
	test -n "$cpu_s" -a "$(( ${cpu_s:-999} * 4 ))" -lt "$wall_s"
rc=0
stop_serve || rc=$?
check "serve stops cleanly (exit $rc)" test "$rc" -eq 0
kill "$PAREC_PID" 2>/dev/null || true
wait "$PAREC_PID" 2>/dev/null || true
PAREC_PID=
grep "on device" "$WORK/serve.log" || true
check "the station saw that the pulse device does not take back rewound frames" \
	grep -q "rewinds not honoured" "$WORK/serve.log"

# the recording as a tape (its origin is arbitrary: times below are relative)
sox -t raw -r 48000 -c 2 -e signed -b 16 "$WORK/monitor.raw" "$WORK/monitor.wav"
printf 'origin_realtime_ns=0\nxruns=0\n' >"$WORK/monitor.wav.info"
"$TAPETOOL" segments "$WORK/monitor.wav" --json >"$WORK/segments.json"
"$TAPETOOL" segments "$WORK/monitor.wav"
sqlite3 -json "$DB" "SELECT * FROM as_run ORDER BY id" >"$WORK/as_run.json"
sqlite3 -header "$DB" "SELECT id, title, status, started_ns, ended_ns, frames_played FROM as_run ORDER BY id"
python3 - "$WORK/segments.json" "$WORK/as_run.json" <<'PYTHON' >"$WORK/verdicts"
import json, sys
seg = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
rows = json.loads(text) if text.strip() else []
def say(ok, text): print(("PASS " if ok else "FAIL ") + text)
def near(hz, want): return abs(hz - want) <= want * 0.02
def row(title, status):
    found = [r for r in rows if r["title"] == title and r["status"] == status]
    return found[0] if found else None
storms = [s for s in seg if near(s["freq_hz"], 2000)]
say(len(storms) == 1 and abs(storms[0]["duration_ms"] - 800) < 20,
    f"the emergency aired whole: {[round(s['duration_ms'], 1) for s in storms]} ms of 800")
stairs = [s for s in seg if not near(s["freq_hz"], 2000)]
total = sum(s["duration_ms"] for s in stairs)
say(abs(total - 3600) < 20, f"the staircase aired {total:.1f} ms of 3600: nothing lost, nothing repeated")
if storms and stairs:
    storm = storms[0]
    before = [s for s in stairs if s["start_realtime_ns"] < storm["start_realtime_ns"]]
    after = [s for s in stairs if s["start_realtime_ns"] > storm["start_realtime_ns"]]
    say(bool(before) and bool(after), f"order: staircase ({len(before)}), emergency, staircase ({len(after)})")
    origin = stairs[0]["start_realtime_ns"]
    first = row("staircase", "preempted")
    emergency = row("storm", "played")
    resumed = row("staircase", "resumed")
    if first and emergency and resumed:
        log_origin = first["started_ns"]
        for what, log_ns, tape_ns in [
                ("the emergency's start", emergency["started_ns"], storm["start_realtime_ns"]),
                ("the emergency's end", emergency["ended_ns"], storm["start_realtime_ns"] + storm["duration_ms"] * 1e6),
                ("the cut", first["ended_ns"], storm["start_realtime_ns"]),
                ("the resumption", resumed["started_ns"], after[0]["start_realtime_ns"] if after else 0)]:
            diff = ((log_ns - log_origin) - (tape_ns - origin)) / 1e6
            say(abs(diff) <= 20, f"as-run and recording agree on {what}, from the staircase's start ({diff:+.1f} ms)")
        cut_ms = (storm["start_realtime_ns"] - origin) / 1e6
        say(abs(first["frames_played"] / 48 - cut_ms) <= 20,
            f"frames played before the cut ({first['frames_played'] / 48:.1f} ms) are what aired ({cut_ms:.1f} ms)")
        say(abs((first["frames_played"] + resumed["frames_played"]) / 48 - 3600) <= 20,
            f"frames played in all: {(first['frames_played'] + resumed['frames_played']) / 48:.1f} ms of 3600")
    else:
        say(False, "the as-run log has the preempted, emergency and resumed rows")
PYTHON
cat "$WORK/verdicts"
record_verdicts "$WORK/verdicts"
finish
