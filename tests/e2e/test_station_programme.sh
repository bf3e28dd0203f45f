#!/bin/bash
# A programme of three items (WAV 48 kHz, MP3 44.1 kHz, WAV 22.05 kHz) aired
# twice with a 1 s gap: on the tape each item follows the one before on the
# next frame (no gap, no overlap), the repeat comes on its second, and the
# as-run log has a row per item.
source "$(dirname "$0")/lib.sh"

sox -n -r 48000 -c 1 -b 16 "$WORK/one.wav" synth 0.5 sine 500 vol 0.5
sox -n -r 44100 -c 2 -b 16 "$WORK/two.wav" synth 0.7 sine 700 vol 0.5
lame --quiet -b 192 "$WORK/two.wav" "$WORK/two.mp3"
sox -n -r 22050 -c 1 -b 16 "$WORK/three.wav" synth 0.4 sine 900 vol 0.5
"$LOAXA" init >/dev/null
one=$("$LOAXA" media import "$WORK/one.wav" 2>/dev/null)
two=$("$LOAXA" media import "$WORK/two.mp3" 2>/dev/null)
three=$("$LOAXA" media import "$WORK/three.wav" 2>/dev/null)
check "programme created" "$LOAXA" programme create "Bản tin trưa"
check "items added" "$LOAXA" programme add "Bản tin trưa" "$one" "$two" "$three"
at=$(( $(date +%s) + 4 ))
event=$("$LOAXA" schedule add --date "$(date -d @$at +%F)" --at "$(date -d @$at +%T)" \
	--programme "Bản tin trưa" --repeat 2 --gap 1)
check "programme scheduled ($event)" test -n "$event"

start_serve "loaxatest_fixed:TAPE=$WORK/tape.wav"
done_rows() { [ "$(sqlite3 "$DB" "SELECT count(*) FROM as_run WHERE event_id = $event AND status = 'played'")" = 6 ]; }
check "six items played" wait_for 15 done_rows
sleep 0.3
check "serve stops cleanly on SIGTERM" stop_serve
"$TAPETOOL" segments "$WORK/tape.wav" --json >"$WORK/segments.json"
"$TAPETOOL" segments "$WORK/tape.wav"
python3 - "$WORK/segments.json" "$at" <<'PYTHON' >"$WORK/verdicts"
import json, sys
seg = json.load(open(sys.argv[1]))
at = int(sys.argv[2]) * 1e9
want = [(0.0, 500, 500), (0.5, 700, 700), (1.2, 900, 400), (2.6, 500, 500), (3.1, 700, 700), (3.8, 900, 400)]
ok = len(seg) == 6
print(f"{'PASS' if ok else 'FAIL'} six segments on the tape ({len(seg)})")
for s, (t, hz, ms) in zip(seg, want):
    error = (s["start_realtime_ns"] - at) / 1e6 - t * 1000
    good = abs(error) < 2 and abs(s["freq_hz"] - hz) < hz * 0.01 and abs(s["duration_ms"] - ms) < 2
    print(f"{'PASS' if good else 'FAIL'} {hz} Hz at {t:.1f} s: {error:+.3f} ms, {s['duration_ms']:.3f} ms")
for a, b in [(0, 1), (1, 2), (3, 4), (4, 5)]:
    if len(seg) == 6:
        joint = seg[b]["start_frame"] - seg[a]["end_frame"]
        print(f"{'PASS' if abs(joint) <= 1 else 'FAIL'} item {b} follows item {a} on the next frame ({joint} frames apart)")
PYTHON
cat "$WORK/verdicts"
record_verdicts "$WORK/verdicts"
check "parts 0..5 logged in order" test "$(sqlite3 "$DB" "SELECT group_concat(part, ',') FROM (SELECT part FROM as_run WHERE event_id = $event ORDER BY id)")" = "0,1,2,3,4,5"
finish
