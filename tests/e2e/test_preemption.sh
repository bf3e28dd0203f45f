#!/bin/bash
# A priority event (and, in the last case, an emergency event) cuts a normal
# one at its second; afterwards the normal one follows its resume policy. The normal item is a staircase of twelve 0.3 s
# tones (400 Hz × 1.1^k), so the tape shows exactly which part of it aired
# when. Four cases, one station run, 8 s apart:
#   resume  — after the cut, the rest of the cut step, then the remaining steps
#   restart — after the cut, the whole staircase again
#   skip    — after the cut, nothing
#   rejoin  — after the cut, the steps the clock has reached (3.0 s in)
source "$(dirname "$0")/lib.sh"

make_staircase "$WORK/staircase.wav"
sox -n -r 48000 -c 1 -b 16 "$WORK/priority.wav" synth 1.0 sine 2000 vol 0.5

"$LOAXA" init >/dev/null
staircase=$("$LOAXA" media import "$WORK/staircase.wav" 2>/dev/null)
priority=$("$LOAXA" media import "$WORK/priority.wav" 2>/dev/null)

base=$(( $(date +%s) + 6 ))
policies=(resume restart skip rejoin)
for i in 0 1 2 3; do
	at=$((base + 8 * i))
	"$LOAXA" schedule add --date "$(date -d @$at +%F)" --at "$(date -d @$at +%T)" \
		--media "$staircase" --resume "${policies[$i]}" --title "staircase ${policies[$i]}" >/dev/null
	# the last cut comes from an emergency event in the timetable: the same rules
	level=$([ $i = 3 ] && echo emergency || echo priority)
	"$LOAXA" schedule add --date "$(date -d @$((at + 2)) +%F)" --at "$(date -d @$((at + 2)) +%T)" \
		--media "$priority" --priority "$level" --title "priority ${policies[$i]}" >/dev/null
done
check "the rundown shows the events" "$LOAXA" schedule show "$(date -d @$base +%F)"

TAPE=$WORK/tape.wav
start_serve "$CARD:TAPE=$TAPE"
settled() { [ "$(date +%s)" -ge $((base + 8 * 3 + 8)) ]; }
wait_for 60 settled || true
rc=0
stop_serve || rc=$?
check "serve stops cleanly (exit $rc)" test "$rc" -eq 0
"$TAPETOOL" segments "$TAPE" --json >"$WORK/segments.json"
"$TAPETOOL" segments "$TAPE"
sqlite3 -header "$DB" "SELECT event_id, part, title, status, frames_played, detail,
	(started_ns - scheduled_ns) / 1000000.0 AS late_ms FROM as_run ORDER BY id"

sqlite3 -json "$DB" "SELECT * FROM as_run ORDER BY id" >"$WORK/as_run.json"

# What each case must show on the tape after its base second: (start s, Hz, ms).
python3 - "$WORK/segments.json" "$base" "$TAPE" "$WORK/as_run.json" <<'PYTHON' >"$WORK/verdicts"
import json, math, struct, sys
segments = json.load(open(sys.argv[1]))
base = int(sys.argv[2])
text = open(sys.argv[4]).read()
rows = json.loads(text) if text.strip() else []
step = [400 * 1.1 ** k for k in range(12)]
def staircase(from_s, first_step, first_ms, count):
    out, t = [], from_s
    for k in range(first_step, first_step + count):
        ms = first_ms if k == first_step else 300
        out.append((t, step[k], ms))
        t += ms / 1000
    return out
before = staircase(0, 0, 300, 7)              # steps 0..5 whole, step 6 cut 0.2 s in
before[-1] = (1.8, step[6], 200)
cut = [(2.0, 2000, 1000)]
expected = {
    "resume": before + cut + [(3.0, step[6], 100)] + staircase(3.1, 7, 300, 5),
    "restart": before + cut + staircase(3.0, 0, 300, 12),
    "skip": before + cut,
    "rejoin": before + cut + staircase(3.0, 10, 300, 2),
}
tape = open(sys.argv[3], "rb").read()
data = tape.find(b"data") + 8                  # S32_LE, two channels
def clean_tone(a, b, zero, hz):
    """Fits a sine of hz (phase free) to the left channel of frames a..b;
    returns the largest deviation from it relative to its amplitude."""
    x = [struct.unpack_from("<i", tape, data + 8 * n)[0] / 2**31 for n in range(a, b)]
    w = [2 * math.pi * hz * (n - zero) / 48000 for n in range(a, b)]
    s = [math.sin(v) for v in w]
    c = [math.cos(v) for v in w]
    ss, cc, sc = sum(v * v for v in s), sum(v * v for v in c), sum(p * q for p, q in zip(s, c))
    xs, xc = sum(p * q for p, q in zip(x, s)), sum(p * q for p, q in zip(x, c))
    det = ss * cc - sc * sc
    A, B = (xs * cc - xc * sc) / det, (xc * ss - xs * sc) / det
    amplitude = math.hypot(A, B) or 1e-9
    return max(abs(v - A * p - B * q) for v, p, q in zip(x, s, c)) / amplitude
for i, policy in enumerate(["resume", "restart", "skip", "rejoin"]):
    origin = (base + 8 * i) * 1e9
    seen = [s for s in segments if origin - 0.5e9 <= s["start_realtime_ns"] < origin + 7.5e9]
    want = expected[policy]
    ok = len(seen) == len(want)
    worst = 0.0
    lines = []
    for s, (at, hz, ms) in zip(seen, want):
        error_ms = (s["start_realtime_ns"] - origin) / 1e6 - at * 1000
        good = abs(error_ms) <= 20 and abs(s["freq_hz"] - hz) <= hz * 0.02 and abs(s["duration_ms"] - ms) <= 20
        worst = max(worst, abs(error_ms))
        ok = ok and good
        lines.append(f"    {'ok' if good else 'BAD'} at {at:5.2f} s {error_ms:+7.2f} ms: "
                     f"{s['freq_hz']:7.1f} Hz (want {hz:6.1f}), {s['duration_ms']:7.1f} ms (want {ms})")
    print(f"{'PASS' if ok else 'FAIL'} {policy}: {len(seen)} segments (want {len(want)}), "
          f"worst start error {worst:.2f} ms")
    for line in lines:
        print(line)
    # the as-run log says what the tape shows, to 20 ms (a missing value fails)
    cut_at = next((s for s in seen if abs(s["freq_hz"] - 2000) <= 40), None)
    later = [s for s in seen if cut_at and s["start_realtime_ns"] > cut_at["start_realtime_ns"]]
    def log(title, status):
        found = [r for r in rows if r["title"] == title and r["status"] == status]
        return found[0] if found else {}
    pairs = [("the cut", log(f"staircase {policy}", "preempted").get("ended_ns"),
              cut_at and cut_at["start_realtime_ns"]),
             ("the priority start", log(f"priority {policy}", "played").get("started_ns"),
              cut_at and cut_at["start_realtime_ns"]),
             ("the priority end", log(f"priority {policy}", "played").get("ended_ns"),
              cut_at and cut_at["start_realtime_ns"] + cut_at["duration_ms"] * 1e6)]
    if policy != "skip":
        # restarted, the item airs whole again: that row says played
        returned = "played" if policy == "restart" else "resumed"
        pairs.append(("the return", log(f"staircase {policy}", returned).get("started_ns"),
                      later[0]["start_realtime_ns"] if later else None))
    for what, log_ns, tape_ns in pairs:
        good = bool(log_ns) and bool(tape_ns) and abs(log_ns - tape_ns) <= 20e6
        print(f"{'PASS' if good else 'FAIL'} {policy}: as-run and tape agree on {what} "
              f"({(log_ns - tape_ns) / 1e6:+.2f} ms)" if log_ns and tape_ns else
              f"FAIL {policy}: as-run and tape agree on {what} (missing)")
    if seen:
        # the cut step up to the cut is the clean tone: nothing of the fade
        # (or anything else) is mixed in before the cut's frame
        first = seen[0]["start_frame"] - 1          # the sine's zero sample
        residual = clean_tone(first + 86400 + 48, first + 96000 - 1, first, 708.6)
        print(f"{'PASS' if residual < 0.01 else 'FAIL'} {policy}: the step before the cut is "
              f"the clean tone (largest deviation {residual:.4f} of its amplitude)")
PYTHON
cat "$WORK/verdicts"
record_verdicts <(grep "as-run and tape agree" "$WORK/verdicts")
for policy in resume restart skip rejoin; do
	check "tape shows policy $policy" grep -q "^PASS $policy: [0-9]* segments" "$WORK/verdicts"
	check "$(grep "^[A-Z]* $policy: the step" "$WORK/verdicts" | cut -d" " -f2-)" \
		grep -q "^PASS $policy: the step before the cut is the clean tone" "$WORK/verdicts"
done

rows() { sqlite3 "$DB" "SELECT group_concat(status, ',') FROM (SELECT status FROM as_run WHERE title = '$1' ORDER BY id)"; }
check "resume rows: preempted,resumed ($(rows 'staircase resume'))" test "$(rows 'staircase resume')" = "preempted,resumed"
# restarted, the item aired whole again: that row says played
check "restart rows: preempted,played ($(rows 'staircase restart'))" test "$(rows 'staircase restart')" = "preempted,played"
check "skip rows: preempted,skipped ($(rows 'staircase skip'))" test "$(rows 'staircase skip')" = "preempted,skipped"
check "rejoin rows: preempted,resumed ($(rows 'staircase rejoin'))" test "$(rows 'staircase rejoin')" = "preempted,resumed"
cut_frames=$(sqlite3 "$DB" "SELECT frames_played FROM as_run WHERE title = 'staircase resume' AND status = 'preempted'")
check "the cut came 2.000 s into the item ($cut_frames frames)" within "$cut_frames" 96000 48
resumed_frames=$(sqlite3 "$DB" "SELECT frames_played FROM as_run WHERE title = 'staircase resume' AND status = 'resumed'")
check "the resumed part played the rest ($resumed_frames frames)" within "$resumed_frames" $((172800 - 96000)) 48
check "every priority broadcast played" test \
	"$(sqlite3 "$DB" "SELECT count(*) FROM as_run WHERE title LIKE 'priority %' AND status = 'played'")" = 4
check "no row left playing" test "$(sqlite3 "$DB" "SELECT count(*) FROM as_run WHERE status = 'playing'")" = 0
finish
