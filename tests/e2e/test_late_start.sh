#!/bin/bash
# A late start never pushes a later airing off its second. The station starts
# 1.5 s after A's second (within the 2 s late grace, so A airs whole, late);
# B, of the same priority, is due 3 s after A: B takes the air at its second,
# and A, cut there, resumes after it (its policy), rather than B waiting.
source "$(dirname "$0")/lib.sh"

make_staircase "$WORK/a.wav" 12 0.25
sox -n -r 48000 -c 1 -b 16 "$WORK/b.wav" synth 1.0 sine 2000 vol 0.5
"$LOAXA" init >/dev/null
a=$("$LOAXA" media import "$WORK/a.wav" 2>/dev/null)
b=$("$LOAXA" media import "$WORK/b.wav" 2>/dev/null)
t=$(( $(date +%s) + 3 ))
at_arg() { echo --date "$(date -d @"$1" +%F)" --at "$(date -d @"$1" +%T)"; }
# shellcheck disable=SC2046
"$LOAXA" schedule add $(at_arg "$t") --media "$a" --resume resume --title A >/dev/null
# shellcheck disable=SC2046
"$LOAXA" schedule add $(at_arg $((t + 3))) --media "$b" --title B >/dev/null
S=1000000000
while [ "$(date +%s%N)" -lt $((t * S + 3 * S / 2)) ]; do sleep 0.005; done
start_serve "loaxatest:TAPE=$WORK/tape.wav"
while [ "$(date +%s%N)" -lt $(((t + 7) * S)) ]; do sleep 0.05; done
check "serve stops cleanly" stop_serve
"$TAPETOOL" segments "$WORK/tape.wav" --json >"$WORK/segments.json" || fail "tapetool could not read the tape"
sqlite3 -header "$DB" "SELECT title, status, (started_ns - scheduled_ns) / 1e6 AS late_ms, frames_played, detail FROM as_run ORDER BY id"
sqlite3 -json "$DB" "SELECT title, status, started_ns, frames_played FROM as_run ORDER BY id" >"$WORK/rows.json"
python3 - "$WORK/segments.json" "$WORK/rows.json" "$t" <<'PYTHON' >"$WORK/verdicts"
import json, sys
seg = json.load(open(sys.argv[1]))
rows = json.load(open(sys.argv[2]))
t = int(sys.argv[3]) * 1e9
def verdict(ok, text): print(f"{'PASS' if ok else 'FAIL'} {text}")
b = [s for s in seg if abs(s["freq_hz"] - 2000) < 20]
verdict(len(b) == 1, f"B aired once ({len(b)} segments)")
if b:
    error_ms = (b[0]["start_realtime_ns"] - t - 3e9) / 1e6
    verdict(abs(error_ms) <= 20, f"B began at its second ({error_ms:+.2f} ms)")
    verdict(abs(b[0]["duration_ms"] - 1000) <= 20, f"B aired whole ({b[0]['duration_ms']:.1f} ms)")
    steps = [s for s in seg if abs(s["freq_hz"] - 2000) >= 20]
    before = [s for s in steps if s["start_realtime_ns"] < b[0]["start_realtime_ns"]]
    after = [s for s in steps if s["start_realtime_ns"] > b[0]["start_realtime_ns"]]
    verdict(bool(before) and bool(after), f"A aired before B and resumed after it ({len(before)} + {len(after)} segments)")
    aired_ms = sum(s["duration_ms"] for s in steps)
    verdict(abs(aired_ms - 3000) <= 20, f"A aired whole across the cut, nothing twice ({aired_ms:.1f} ms)")
    if after:
        gap_ms = (after[0]["start_realtime_ns"] - b[0]["start_realtime_ns"]) / 1e6 - b[0]["duration_ms"]
        verdict(abs(gap_ms) <= 20, f"A resumed right after B ({gap_ms:+.2f} ms)")
statuses = ",".join(r["status"] for r in rows if r["title"] == "A")
verdict(statuses == "preempted,resumed", f"A's rows: preempted, resumed ({statuses})")
PYTHON
cat "$WORK/verdicts"
record_verdicts "$WORK/verdicts"
finish
