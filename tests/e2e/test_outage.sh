#!/bin/bash
# The sound card is lost (the test card's FAIL file) and comes back: every
# item keeps its place on the clock, and the as-run log counts only what
# the card played. One station run, in cases a few seconds apart:
#   0.2, 2, 5, 12 — the card is away that many seconds, 1.2 s into a staircase
#                   of 0.5 s steps (400 Hz × 1.1^k) that outlasts the outage
#                   by 2.5 s: after the card is back, every step airs at its
#                   own place on the item's clock (±20 ms), and the row
#                   (interrupted) counts what the tape has, within a few ms;
#   whole         — the card is away from 1 s before a 3 s item (3000 Hz) to
#                   1 s after its end: nothing of it airs, its row is missed
#                   and says the sound device was lost;
#   joined        — the card is away from 1 s before a 5 s staircase to 2 s
#                   into it: the item joins at its place on the clock (its
#                   row says it joined late, and why), nothing before;
#   end           — the card is lost for 1 s from 0.2 s before the end of a
#                   2 s staircase, whose end the engine had handed to the
#                   card already: the row counts only what the tape has;
#   programme     — a programme of a 1 s tone (2500 Hz) then a 4 s staircase;
#                   the card is away from 1 s before it to 1.5 s into the
#                   staircase: the tone is missed, the staircase joins at its
#                   place on its own clock.
source "$(dirname "$0")/lib.sh"

"$LOAXA" init >/dev/null
STEP_S=0.5
# case: name outage_s item_s (the item starts at the case's second; the card
# fails 1.2 s into it, mid-step, or 1 s before it for whole and joined)
cases=("0.2 0.2 3.5" "2 2 5" "5 5 8" "12 12 15" "whole 5 3" "joined 3 5" "end 1 2"
       "programme 3.5 5")
media=()
for c in "${cases[@]}"; do
	read -r name outage length <<<"$c"
	case $name in
	whole) sox -n -r 48000 -c 1 -b 16 "$WORK/$name.wav" synth "$length" sine 3000 vol 0.5 ;;
	programme)
		sox -n -r 48000 -c 1 -b 16 "$WORK/first.wav" synth 1 sine 2500 vol 0.5
		make_staircase "$WORK/second.wav" 8 $STEP_S
		"$LOAXA" programme create programme >/dev/null
		"$LOAXA" programme add programme "$("$LOAXA" media import "$WORK/first.wav" 2>/dev/null)" \
			"$("$LOAXA" media import "$WORK/second.wav" 2>/dev/null)" >/dev/null
		;;
	*) make_staircase "$WORK/$name.wav" "$(awk -v l="$length" -v s=$STEP_S 'BEGIN { print l / s }')" $STEP_S ;;
	esac
	[ "$name" = programme ] && media+=("") ||
		media+=("$("$LOAXA" media import "$WORK/$name.wav" --title "$name" 2>/dev/null)")
done

at_arg() { echo --date "$(date -d @"$1" +%F)" --at "$(date -d @"$1" +%T)"; }
base=$(( $(date +%s) + 5 ))
t=$base
: >"$WORK/cases"
for i in "${!cases[@]}"; do
	read -r name outage length <<<"${cases[$i]}"
	what=(--media "${media[$i]}")
	[ "$name" = programme ] && what=(--programme programme)
	# shellcheck disable=SC2046
	"$LOAXA" schedule add $(at_arg "$t") "${what[@]}" --title "$name" >/dev/null
	case $name in
	whole|joined|programme) fail_ms=$(( t * 1000 - 1000 )) ;;
	end) fail_ms=$(( t * 1000 + 1800 )) ;;
	*) fail_ms=$(( t * 1000 + 1200 )) ;;
	esac
	back_ms=$(( fail_ms + $(awk -v o="$outage" 'BEGIN { printf "%d", o * 1000 }') ))
	echo "$name $t $length $fail_ms $back_ms" >>"$WORK/cases"
	end=$(awk -v t="$t" -v l="$length" 'BEGIN { printf "%d", t + l + 0.999 }')
	# the next case begins 1.5 s after this one's item and its outage end
	next=$(( (back_ms + 999) / 1000 > end ? (back_ms + 999) / 1000 : end ))
	t=$(( next + 2 ))
done
last=$t

FAULT=$WORK/unplugged
TAPE=$WORK/tape.wav
start_serve "$CARD:TAPE=$TAPE,APPEND=true,FAIL=$FAULT"
check "the station is up" wait_for 10 grep -q "on device" "$WORK/serve.log"
until_ms() { while [ "$(date +%s%3N)" -lt "$1" ]; do sleep 0.002; done; }
while read -r name t length fail_ms back_ms; do
	until_ms "$fail_ms"
	touch "$FAULT"
	until_ms "$back_ms"
	rm -f "$FAULT"
done <"$WORK/cases"
until_ms $(( last * 1000 ))
rc=0
stop_serve || rc=$?
check "serve stops cleanly (exit $rc)" test "$rc" -eq 0
grep -E "sound device|missed|on air" "$WORK/serve.log" || true

"$TAPETOOL" segments "$TAPE" --json >"$WORK/segments.json" || fail "tapetool could not read the tape"
sqlite3 -json "$DB" "SELECT id, title, part, status, scheduled_ns, started_ns, ended_ns, frames_played,
	detail FROM as_run ORDER BY id" >"$WORK/rows.json"
sqlite3 -header "$DB" "SELECT id, title, part, status, (started_ns - scheduled_ns) / 1e6 AS late_ms,
	frames_played, detail FROM as_run ORDER BY id"

python3 - "$WORK/segments.json" "$WORK/rows.json" "$WORK/cases" "$STEP_S" "$ROOT/tests/e2e" <<'PYTHON' >"$WORK/verdicts"
import json, sys
sys.path.insert(0, sys.argv.pop())
from tape import S, end_ns, verdict
segments = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
rows = json.loads(text) if text.strip() else []
STEP = float(sys.argv[4]) * S
RATE = 48000
def step_of(hz, count):
    for k in range(count):
        f = 400 * 1.1 ** k
        if abs(hz - f) <= f * 0.02:
            return k
    return None
for line in open(sys.argv[3]):
    name, t, length, fail_ms, back_ms = line.split()
    t, length = int(t) * S, float(length) * S
    lost, back = int(fail_ms) * 1e6, int(back_ms) * 1e6
    mine = [r for r in rows if r["title"] == name]
    window = [s for s in segments if t - 1.5 * S <= s["start_realtime_ns"] < t + length + 1.5 * S]
    if name in ("whole", "programme"):
        hz, first = (3000, mine) if name == "whole" else (2500, [r for r in mine if r["part"] == 0])
        tone = [s for s in window if abs(s["freq_hz"] - hz) < 60]
        verdict(not tone, f"{name}: nothing of the {hz} Hz item aired ({len(tone)} segments)")
        statuses = [r["status"] for r in first]
        verdict(statuses == ["missed"], f"{name}: its {hz} Hz item's row is missed ({statuses})")
        detail = first[0]["detail"] if first else ""
        verdict("sound device" in detail, f"{name}: the row says the sound device was lost ({detail!r})")
        if name == "whole":
            continue
        # the staircase after the tone, on its own clock from t + 1 s
        t, length = t + S, length - S
        mine = [r for r in mine if r["part"] == 1]
    count = round(length / STEP)
    steps = [(step_of(s["freq_hz"], count), s) for s in window]
    steps = [(k, s) for k, s in steps if k is not None]
    before = [(k, s) for k, s in steps if s["start_realtime_ns"] < lost]
    after = [(k, s) for k, s in steps if s["start_realtime_ns"] >= lost]
    tape_frames = sum(s["end_frame"] - s["start_frame"] for _, s in steps)
    counted = sum(r["frames_played"] or 0 for r in mine)
    diff_ms = (counted - tape_frames) * 1000 / RATE
    print(f"INFO {name}: rows count {counted} frames, the tape has {tape_frames} ({diff_ms:+.2f} ms)")
    verdict(abs(diff_ms) <= 10, f"{name}: the rows count what the tape has ({diff_ms:+.2f} ms)")
    statuses = [r["status"] for r in mine]
    if name == "end":
        verdict(statuses == ["interrupted"], f"{name}: its row is interrupted ({statuses})")
        verdict(not after, f"{name}: nothing of it aired after the card was lost ({len(after)} segments)")
        continue
    # each segment at its place on the item's clock: step k spans
    # [t + k STEP, t + (k + 1) STEP)
    worst, bad = 0.0, []
    for k, s in after:
        early = (t + k * STEP - s["start_realtime_ns"]) / 1e6
        overrun = (end_ns(s) - t - (k + 1) * STEP) / 1e6
        worst = max(worst, early, overrun)
        if early > 20 or overrun > 20:
            bad.append(f"step {k} at +{(s['start_realtime_ns'] - t) / 1e6:.1f} ms, "
                       f"{s['duration_ms']:.1f} ms")
    # the clock error just after the card came back: where the first step
    # that begins after the return begins, against its place
    resumed = [(k, s) for k, s in after if s["start_realtime_ns"] >= back]
    first_back = resumed[0] if resumed else None
    boundary = next(((k, s) for k, s in resumed[1:]), None)
    error_ms = (boundary[1]["start_realtime_ns"] - t - boundary[0] * STEP) / 1e6 if boundary else None
    back_ms = (first_back[1]["start_realtime_ns"] - back) / 1e6 if first_back else None
    print(f"INFO {name}: back on air {back_ms if back_ms is None else round(back_ms, 1)} ms after the "
          f"card, at step {first_back[0] if first_back else None}; first step boundary after it "
          f"{'missing' if error_ms is None else f'{error_ms:+.2f} ms'} from its clock place; "
          f"worst overrun of a step's place {worst:.2f} ms")
    verdict(not bad, f"{name}: after the outage every step aired at its place ({', '.join(bad) or 'all'})")
    verdict(error_ms is not None and abs(error_ms) <= 20,
            f"{name}: on its clock after the card came back ({error_ms} ms)")
    # (the step the card was lost in airs in two pieces)
    ks = [k for k, _ in steps]
    twice = [k for k in set(ks) if sum(s["duration_ms"] for j, s in steps if j == k) > STEP / 1e6 + 20]
    verdict(ks == sorted(ks) and not twice, f"{name}: the steps aired in order, none twice ({ks})")
    verdict(count - 1 in ks, f"{name}: its last step aired ({ks})")
    if name in ("joined", "programme"):
        verdict(not before and statuses == ["resumed"], f"{name}: joined, nothing before "
                f"({len(before)} segments before the card was lost; rows {statuses})")
        detail = mine[0]["detail"] if mine else ""
        verdict("joined" in detail and "sound device" in detail,
                f"{name}: its row says it joined late because of the sound device ({detail!r})")
        start_ms = (mine[0]["started_ns"] - steps[0][1]["start_realtime_ns"]) / 1e6 if mine and steps else None
        verdict(start_ms is not None and abs(start_ms) <= 20,
                f"{name}: its row starts where the tape does ({start_ms} ms)")
    else:
        verdict(statuses == ["interrupted"], f"{name}: its row is interrupted ({statuses})")
        first = steps[0][1]["start_realtime_ns"] if steps else None
        verdict(first is not None and abs(first - t) <= 20e6,
                f"{name}: it started on its second ({None if first is None else (first - t) / 1e6} ms)")
PYTHON
cat "$WORK/verdicts"
record_verdicts "$WORK/verdicts"
check "no row left playing" test "$(sqlite3 "$DB" "SELECT count(*) FROM as_run WHERE status = 'playing'")" = 0
finish
