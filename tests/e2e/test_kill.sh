#!/bin/bash
# kill -9 at chosen instants, restarted 0–3 s later, while a priority item
# preempts a normal one: after each restart the station rebuilds the truth
# from what it wrote before dying. Each round (10 s) has a normal item N (a
# staircase of twelve 0.25 s tones, 3 s) at T and a priority item P (1 s,
# 2000 Hz) at T+1 that cuts it; N's policy is rejoin in even rounds and resume
# in odd ones. Kill instants cycle through: N alone, just after the cut, P's
# middle, P's last 350 ms, after P (N's rest), N's last 350 ms.
# Checked on the tape and in the as-run log, round by round:
#   - nothing airs twice (each step of N, P's tone at most its length);
#   - rejoin: every step of N airs at its own place on N's clock (±20 ms);
#     resume: N's steps air in order, and a cut that a kill left owed is
#     aired after P;
#   - owed audio is not lost: N's end airs when the station is up by then;
#   - every row is true: a row that started has that audio on the tape at
#     its start (±20 ms), played rows aired whole, a row cut by the kill ends
#     within 1.1 s before the kill and counts no more than the tape has.
# ROUNDS (default 6) sets the length; `make soak` runs 36.
source "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-6}
make_staircase "$WORK/staircase.wav" 12 0.25
sox -n -r 48000 -c 1 -b 16 "$WORK/priority.wav" synth 1.0 sine 2000 vol 0.5
"$LOAXA" init >/dev/null
staircase=$("$LOAXA" media import "$WORK/staircase.wav" 2>/dev/null)
priority=$("$LOAXA" media import "$WORK/priority.wav" --title priority 2>/dev/null)

base=$(( $(date +%s) + 6 ))
at_arg() { echo --date "$(date -d @"$1" +%F)" --at "$(date -d @"$1" +%T)"; }
for r in $(seq 0 $((ROUNDS - 1))); do
	t=$((base + 10 * r))
	policy=$([ $((r % 2)) = 0 ] && echo rejoin || echo resume)
	# shellcheck disable=SC2046
	"$LOAXA" schedule add $(at_arg "$t") --media "$staircase" --resume "$policy" \
		--title "N$r" >/dev/null
	# shellcheck disable=SC2046
	"$LOAXA" schedule add $(at_arg $((t + 1))) --media "$priority" --priority priority \
		--title "P$r" >/dev/null
done

TAPE=$WORK/tape.wav
DEVICE="loaxatest:TAPE=$TAPE,APPEND=true"
S=1000000000
until_ns() { while [ "$(date +%s%N)" -lt "$1" ]; do sleep 0.002; done; }
# kill instants into a round, ms after T: N alone, just after the cut, P's
# middle, P's last 350 ms, N's rest after P, N's last 350 ms (resume: of P's)
offsets=(600 1050 1500 1800 2400 2800)
: >"$WORK/kills"
start_serve "$DEVICE"
for r in $(seq 0 $((ROUNDS - 1))); do
	t=$((base + 10 * r))
	kill_ms=${offsets[$((r % ${#offsets[@]}))]}
	down_ms=$(( (r * 1237) % 3000 ))           # 0–3 s, spread over the rounds
	until_ns $((t * S + kill_ms * 1000000))
	kill_at=$(date +%s%N)
	kill_serve
	sleep "$(awk -v ms=$down_ms 'BEGIN { printf "%.3f", ms / 1000 }')"
	restart_at=$(date +%s%N)
	echo "$r $kill_at $restart_at" >>"$WORK/kills"
	start_serve "$DEVICE"
done
until_ns $(((base + 10 * ROUNDS) * S))
rc=0
stop_serve || rc=$?
check "serve stops cleanly (exit $rc)" test "$rc" -eq 0

"$TAPETOOL" segments "$TAPE" --json >"$WORK/segments.json" || fail "tapetool could not read the tape"
sqlite3 -json "$DB" "SELECT id, event_id, title, status, scheduled_ns, started_ns, ended_ns,
	frames_played, detail FROM as_run ORDER BY id" >"$WORK/rows.json"
sqlite3 -header "$DB" "SELECT id, title, status, (started_ns - scheduled_ns) / 1e6 AS late_ms,
	frames_played, detail FROM as_run ORDER BY id"

python3 - "$WORK/segments.json" "$WORK/rows.json" "$WORK/kills" "$base" "$ROOT/tests/e2e" <<'PYTHON' >"$WORK/verdicts"
import json, sys
sys.path.insert(0, sys.argv.pop())
segments = json.load(open(sys.argv[1]))
rows = json.load(open(sys.argv[2]))
kills = {int(r): (int(k), int(s)) for r, k, s in (line.split() for line in open(sys.argv[3]))}
base = int(sys.argv[4])
from tape import S, end_ns, step_of, verdict
STEP = 0.25 * S
UP_AFTER = 2.0 * S     # a restarted station is on air again within this
TAPE_LOSS = 0.6 * S    # a header interval and a period
worst_rejoin_ms = 0.0
for r, (kill_at, restart_at) in sorted(kills.items()):
    t = (base + 10 * r) * S
    policy = "rejoin" if r % 2 == 0 else "resume"
    name = f"round {r} ({policy}, killed at +{(kill_at - t) / 1e6:.0f} ms, down {(restart_at - kill_at) / 1e6:.0f} ms)"
    window = [s for s in segments if t - 0.1 * S <= s["start_realtime_ns"] < t + 9.5 * S]
    n = [(step_of(s["freq_hz"]), s) for s in window if step_of(s["freq_hz"]) is not None]
    p = [s for s in window if abs(s["freq_hz"] - 2000) < 20]
    ks = [k for k, _ in n]
    # nothing twice
    verdict(len(ks) == len(set(ks)), f"{name}: no step of N aired twice (steps {ks})")
    p_ms = sum(s["duration_ms"] for s in p)
    verdict(p_ms <= 1020, f"{name}: P aired no more than its length ({p_ms:.1f} ms)")
    if policy == "rejoin":
        # each step at its place on N's clock
        bad = []
        for k, s in n:
            start_ok = s["start_realtime_ns"] >= t + k * STEP - 0.02 * S
            end_ok = end_ns(s) <= t + (k + 1) * STEP + 0.02 * S
            if not (start_ok and end_ok):
                bad.append(f"step {k} at +{(s['start_realtime_ns'] - t) / 1e6:.1f} ms")
            worst_rejoin_ms = max(worst_rejoin_ms, max(0, (t + k * STEP - s["start_realtime_ns"]) / 1e6),
                                  max(0, (end_ns(s) - t - (k + 1) * STEP) / 1e6))
        verdict(not bad, f"{name}: every step aired at its place on N's clock ({', '.join(bad) or 'all'})")
        # owed: N's last step airs if the station was up by then
        if restart_at + UP_AFTER <= t + 11 * STEP:
            verdict(11 in ks, f"{name}: N's end aired after the restart (steps {ks})")
    else:
        verdict(ks == sorted(ks), f"{name}: N's steps aired in order (steps {ks})")
        cut_owed = t + 1 * S <= kill_at < t + 2 * S          # killed while P held N
        if cut_owed:
            verdict(ks and ks[-1] == 11 and set(range(4, 12)) <= set(ks),
                    f"{name}: the rest of N owed at the kill aired after P (steps {ks})")
    # rows
    mine = [row for row in rows if row["title"] in (f"N{r}", f"P{r}") and row["scheduled_ns"] in (t, t + S)]
    for row in mine:
        what = f"{name}: row {row['id']} {row['title']} {row['status']}"
        media_segments = p if row["title"].startswith("P") else [s for _, s in n]
        if row["started_ns"]:
            starts = [abs(s["start_realtime_ns"] - row["started_ns"]) for s in media_segments]
            near = min(starts) / 1e6 if starts else None
            # the card's tape keeps what the card consumed when the station
            # last called it and the length its header last said (every
            # 0.5 s): the last TAPE_LOSS before a kill may not be on it
            unseen = near is None and 0 <= kill_at - row["started_ns"] <= TAPE_LOSS
            verdict(near is not None and near <= 20 or unseen,
                    f"{what}: its start is on the tape ("
                    + (f"{near:.2f} ms" if near is not None else
                       f"none: it began {(kill_at - row['started_ns']) / 1e6:.0f} ms before the kill, "
                       "where the tape keeps nothing" if unseen else "none") + ")")
        if row["status"] == "played":
            length = 1.0 if row["title"].startswith("P") else 3.0
            aired = sum(s["duration_ms"] for s in media_segments
                        if row["started_ns"] - 0.02 * S <= s["start_realtime_ns"] <= row["ended_ns"]) / 1e3
            verdict(abs(aired - length) <= 0.03 and row["ended_ns"] <= kill_at + 0.02 * S or row["started_ns"] > restart_at,
                    f"{what}: aired whole before any kill ({aired:.3f} s)")
        if row["status"] == "interrupted":
            end_ms = (kill_at - row["ended_ns"]) / 1e6
            verdict(-50 <= end_ms <= 1100, f"{what}: ends at the last moment known on air ({end_ms:.0f} ms before the kill)")
            aired = sum(min(end_ns(s), kill_at) - s["start_realtime_ns"] for s in media_segments
                        if row["started_ns"] - 0.02 * S <= s["start_realtime_ns"] < kill_at) / 1e9
            counted = row["frames_played"] / 48000
            verdict(aired - 1.1 <= counted <= aired + 0.03,
                    f"{what}: counts {counted:.3f} s of the {aired:.3f} s on the tape")
        verdict(row["status"] != "playing", f"{what}: closed")
print(f"INFO worst rejoin placement {worst_rejoin_ms:.2f} ms")
PYTHON
cat "$WORK/verdicts"
record_verdicts "$WORK/verdicts"
finish
