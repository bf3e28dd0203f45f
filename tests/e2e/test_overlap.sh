#!/bin/bash
# An airing due while something of equal or higher priority holds the air is
# preempted at its start and follows its resume policy (docs/timetable.md,
# "When broadcasts meet"): resume and restart air it whole once the air is
# free, rejoin joins where its own clock has reached, skip drops it with a
# row that says why. One that is owed its air has a row "preempted" (no
# frames) first, so a restart in between knows it. Sixteen cases in one
# station run, 7 s apart: a normal item (a staircase of twelve 0.25 s tones, 3 s) due 1 s into a 3.5 s holder
# (so it is held longer than the 2 s late grace), for each policy, with four
# holders:
#   priority  — a priority event of the timetable;
#   emergency — `loaxa emergency`;
#   play      — `loaxa play` (a manual broadcast of the same, normal, priority);
#   live      — `loaxa live`, ended by `loaxa stop` 3.5 s later.
# Then the timetable is replaced by an import (new event ids) while an item
# is on air: it airs once; and `loaxa live --chime` from a capture device that
# cannot be opened is refused and cuts nothing. For every airing the tape and the as-run row agree
# within 20 ms, no row says played unless the whole item aired, and nothing
# airs twice.
source "$(dirname "$0")/lib.sh"

make_staircase "$WORK/staircase.wav" 12 0.25
sox -n -r 48000 -c 1 -b 16 "$WORK/holder.wav" synth 3.5 sine 2000 vol 0.5
make_microphone 120
make_staircase "$WORK/long.wav" 12 0.5

"$LOAXA" init >/dev/null
staircase=$("$LOAXA" media import "$WORK/staircase.wav" 2>/dev/null)
holder=$("$LOAXA" media import "$WORK/holder.wav" --title "holder" 2>/dev/null)
long=$("$LOAXA" media import "$WORK/long.wav" 2>/dev/null)

holders=(priority emergency play live)
policies=(resume restart skip rejoin)
base=$(( $(date +%s) + 6 ))
at_arg() { echo --date "$(date -d @"$1" +%F)" --at "$(date -d @"$1" +%T)"; }
for h in 0 1 2 3; do
	for p in 0 1 2 3; do
		t=$((base + 7 * (4 * h + p)))
		# shellcheck disable=SC2046
		"$LOAXA" schedule add $(at_arg $((t + 1))) --media "$staircase" --resume "${policies[$p]}" \
			--title "normal ${holders[$h]} ${policies[$p]}" >/dev/null
		if [ "$h" = 0 ]; then
			# shellcheck disable=SC2046
			"$LOAXA" schedule add $(at_arg "$t") --media "$holder" --priority priority \
				--title "priority ${policies[$p]}" >/dev/null
		fi
	done
done
replace_at=$((base + 112))
# shellcheck disable=SC2046
"$LOAXA" schedule add $(at_arg "$replace_at") --media "$long" --title "replaced mid-item" >/dev/null
uncut_at=$((replace_at + 8))
# shellcheck disable=SC2046
"$LOAXA" schedule add $(at_arg "$uncut_at") --media "$staircase" --title "uncut" >/dev/null
"$LOAXA" schedule export >"$WORK/timetable.csv"

TAPE=$WORK/tape.wav
start_serve "loaxatest:TAPE=$TAPE"
check "the station answers on its socket" wait_for 10 test -S "$WORK/loaxa.sock"
until_ns() { while [ "$(date +%s%N)" -lt "$1" ]; do sleep 0.002; done; }
S=1000000000
for h in 1 2 3; do
	for p in 0 1 2 3; do
		t=$((base + 7 * (4 * h + p)))
		until_ns $((t * S))
		case ${holders[$h]} in
		emergency) "$LOAXA" emergency --media "$holder" --reason "case $h $p" >/dev/null ;;
		play) "$LOAXA" play --media "$holder" >/dev/null ;;
		live)
			"$LOAXA" live --capture loaxamic >/dev/null
			until_ns $((t * S + 7 * S / 2))
			"$LOAXA" stop >/dev/null
			;;
		esac || fail "the ${holders[$h]} holder of case $p was refused"
	done
done
# (the station sees the change on its next whole second, 1 s into the item)
until_ns $((replace_at * S + S / 5))
"$LOAXA" schedule import --replace "$WORK/timetable.csv" >/dev/null ||
	fail "the timetable could not be replaced"
# a live broadcast with a chime, from a capture device that cannot be
# opened: refused, and nothing on air is cut (no chime either)
until_ns $((uncut_at * S + S / 2))
expect_status 1 "nosuchmic" "$LOAXA" live --capture nosuchmic --chime
until_ns $(((uncut_at + 4) * S))
rc=0
stop_serve || rc=$?
check "serve stops cleanly (exit $rc)" test "$rc" -eq 0

"$TAPETOOL" segments "$TAPE" --json >"$WORK/segments.json" || fail "tapetool could not read the tape"
sqlite3 -header "$DB" "SELECT id, event_id, title, status, started_ns, frames_played, detail FROM as_run ORDER BY id" \
	>"$WORK/rows.txt"
sqlite3 -json "$DB" "SELECT id, event_id, title, status, scheduled_ns, started_ns, ended_ns, frames_played, detail
	FROM as_run ORDER BY id" >"$WORK/rows.json"
cat "$WORK/rows.txt"

python3 - "$WORK/segments.json" "$WORK/rows.json" "$base" "$replace_at" "$ROOT/tests/e2e" <<'PYTHON' >"$WORK/verdicts"
import json, sys
sys.path.insert(0, sys.argv.pop())
segments = json.load(open(sys.argv[1]))
rows = json.load(open(sys.argv[2]))
base, replace_at = int(sys.argv[3]), int(sys.argv[4])
from tape import S, end_ns, step_of, verdict
worst_log_ms = 0.0
def agree(row, first, last, what):
    """The row's start and length against the tape's, within 20 ms."""
    global worst_log_ms
    if row is None or first is None:
        verdict(False, f"{what}: a row and a tape segment to compare (row {row is not None}, tape {first is not None})")
        return
    start_ms = (row["started_ns"] - first["start_realtime_ns"]) / 1e6
    length_ms = row["frames_played"] / 48 - (end_ns(last) - first["start_realtime_ns"]) / 1e6
    worst_log_ms = max(worst_log_ms, abs(start_ms), abs(length_ms))
    verdict(abs(start_ms) <= 20 and abs(length_ms) <= 20,
            f"{what}: the row agrees with the tape (start {start_ms:+.2f} ms, length {length_ms:+.2f} ms)")

holders = ["priority", "emergency", "play", "live"]
policies = ["resume", "restart", "skip", "rejoin"]
for h, holder in enumerate(holders):
    for p, policy in enumerate(policies):
        t = (base + 7 * (4 * h + p)) * S
        window = [s for s in segments if t - 0.2 * S <= s["start_realtime_ns"] < t + 6.8 * S]
        held = [s for s in window if abs(s["freq_hz"] - (1500 if holder == "live" else 2000)) < 20]
        normal = [s for s in window if step_of(s["freq_hz"]) is not None]
        name = f"normal {holder} {policy}"
        mine = [r for r in rows if r["title"] == name]
        statuses = ",".join(r["status"] for r in mine)
        if len(held) != 1:
            verdict(False, f"{name}: the holder aired once ({len(held)} segments)")
            continue
        held_end = end_ns(held[0])
        due = t + 1 * S
        if policy == "skip":
            verdict(not normal, f"{name}: nothing of it aired ({len(normal)} segments)")
            verdict(statuses == "skipped", f"{name}: its one row says skipped ({statuses})")
            verdict(len(mine) == 1 and "held the air at its start" in mine[0]["detail"],
                    f"{name}: the row says why ({mine[0]['detail'] if mine else 'no row'})")
            continue
        if not normal:
            verdict(False, f"{name}: it aired after the holder (no segment)")
            continue
        first, last = normal[0], normal[-1]
        # the first frame after the holder's: at once (a live input ends
        # on `loaxa stop`, and a rejoin waits 100 ms for its place)
        gap_ms = (first["start_realtime_ns"] - held_end) / 1e6
        limit = 400 if holder == "live" else 20   # (under the sanitizers, loaded)
        verdict(-20 <= gap_ms <= limit, f"{name}: it began when the holder ended ({gap_ms:+.2f} ms)")
        ks = [step_of(s["freq_hz"]) for s in normal]
        if policy in ("resume", "restart"):
            whole = ks == list(range(12)) and all(abs(s["duration_ms"] - 250) <= 20 for s in normal)
            verdict(whole, f"{name}: it aired whole, once (steps {ks})")
            verdict(statuses == "preempted,played",
                    f"{name}: preempted at its start, then played whole ({statuses})")
        else:
            # rejoin: from where its own clock had reached, to its own end
            position = (first["start_realtime_ns"] - due) / S
            want_k = int(position / 0.25 + 1e-6)
            end_error_ms = (end_ns(last) - (due + 3 * S)) / 1e6
            verdict(ks == list(range(want_k, 12)), f"{name}: it rejoined at {position:.3f} s (steps {ks}, want {want_k}..11)")
            verdict(abs(end_error_ms) <= 20, f"{name}: it ended on its own clock ({end_error_ms:+.2f} ms)")
            verdict(statuses == "preempted,resumed",
                    f"{name}: preempted at its start, then resumed, not played ({statuses})")
        aired_rows = [row for row in mine if row["started_ns"]]
        verdict(all(row["frames_played"] == 0 for row in mine if row["status"] == "preempted"),
                f"{name}: its preempted row counts no frames")
        agree(aired_rows[0] if len(aired_rows) == 1 else None, first, last, name)
        holder_rows = [r for r in rows if r["started_ns"] and abs(r["started_ns"] - held[0]["start_realtime_ns"]) < 0.1 * S]
        agree(holder_rows[0] if len(holder_rows) == 1 else None, held[0], held[0], f"{holder} holder of {policy}")

# the timetable replaced while an item was on air: once, whole, one row;
# an item on air when a live broadcast is refused: whole, nothing else
for name, t, length_s in (("replaced mid-item", replace_at * S, 6.0), ("uncut", (replace_at + 8) * S, 3.0)):
    window = [s for s in segments if t - 0.2 * S <= s["start_realtime_ns"] < t + (length_s + 1.5) * S]
    ks = [step_of(s["freq_hz"]) for s in window]
    whole = ks == list(range(12)) and all(abs(s["duration_ms"] - length_s * 1000 / 12) <= 20 for s in window)
    verdict(whole, f"{name}: it aired once, whole, and nothing else did (steps {ks})")
    mine = [r for r in rows if r["title"] == name and r["scheduled_ns"] == t]
    verdict(",".join(r["status"] for r in mine) == "played",
            f"{name}: one row, played ({','.join(r['status'] for r in mine)})")
    if window and len(mine) == 1:
        agree(mine[0], window[0], window[-1], name)
print(f"INFO largest tape-vs-log difference {worst_log_ms:.2f} ms")
PYTHON
cat "$WORK/verdicts"
record_verdicts "$WORK/verdicts"
check "the analysis gave verdicts" grep -q "^PASS" "$WORK/verdicts"
check "no row says played without its whole length" test "$(sqlite3 "$DB" \
	"SELECT count(*) FROM as_run r JOIN media m ON m.id = r.media_id WHERE r.status = 'played'
	 AND abs(r.frames_played - m.frames * 48000 / m.rate) > 48")" = 0
check "no row left playing" test "$(sqlite3 "$DB" "SELECT count(*) FROM as_run WHERE status = 'playing'")" = 0
finish
