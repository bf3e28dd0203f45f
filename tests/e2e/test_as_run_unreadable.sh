#!/bin/bash
# An as-run log the station cannot read is not taken for "already logged":
# while another process has renamed the as_run table away, the station
# cannot tell whether two airings were logged; it plays both on their
# seconds (before, it took the error for "logged" and aired nothing), says
# so once in its log and in status, and writes their rows once the table is
# back.
source "$(dirname "$0")/lib.sh"

sox -n -r 48000 -c 1 -b 16 "$WORK/a.wav" synth 1.0 sine 600 vol 0.5
sox -n -r 48000 -c 1 -b 16 "$WORK/b.wav" synth 1.0 sine 900 vol 0.5
"$LOAXA" init >/dev/null
a=$("$LOAXA" media import "$WORK/a.wav" 2>/dev/null)
b=$("$LOAXA" media import "$WORK/b.wav" 2>/dev/null)

TAPE=$WORK/tape.wav
start_serve "loaxatest:TAPE=$TAPE"
check "the station answers on its socket" wait_for 10 test -S "$WORK/loaxa.sock"
check "the as_run table is taken away" sqlite3 "$DB" "ALTER TABLE as_run RENAME TO as_run_away"
at_a=$(( $(date +%s) + 4 ))
at_b=$((at_a + 2))
"$LOAXA" schedule add --date "$(date -d @$at_a +%F)" --at "$(date -d @$at_a +%T)" --media "$a" \
	--title "unreadable A" >/dev/null
"$LOAXA" schedule add --date "$(date -d @$at_b +%F)" --at "$(date -d @$at_b +%T)" --media "$b" \
	--title "unreadable B" >/dev/null
noted() { grep -q "cannot tell whether 'unreadable" "$WORK/serve.log"; }
check "the failed check is logged" wait_for 5 noted
"$LOAXA" status --json >"$WORK/status.json"
check "status's last_error says the as-run log cannot be read" \
	grep -q "cannot read the as-run log" <<<"$(json_field "$WORK/status.json" "d['last_error']")"
past_b() { [ "$(date +%s)" -ge $((at_b + 2)) ]; }
wait_for 15 past_b || true
check "the error is logged once for both airings" \
	test "$(grep -c "cannot tell whether" "$WORK/serve.log")" = 1
check "no row could be written meanwhile" \
	test "$(sqlite3 "$DB" "SELECT count(*) FROM as_run_away")" = 0
check "the as_run table is back" sqlite3 "$DB" "ALTER TABLE as_run_away RENAME TO as_run"
both_rows() { [ "$(sqlite3 "$DB" "SELECT count(*) FROM as_run WHERE status = 'played'")" = 2 ]; }
check "then both rows are written" wait_for 10 both_rows
rc=0
stop_serve || rc=$?
check "serve stops cleanly (exit $rc)" test "$rc" -eq 0

sqlite3 -header "$DB" "SELECT id, event_id, title, status, started_ns, frames_played FROM as_run ORDER BY id"
"$TAPETOOL" segments "$TAPE"
"$TAPETOOL" segments "$TAPE" --json >"$WORK/segments.json"
python3 - "$WORK/segments.json" "$DB" "$at_a" "$at_b" <<'PYTHON' >"$WORK/verdicts"
import json, sqlite3, sys
seg = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
def say(ok, text): print(("PASS " if ok else "FAIL ") + text)
say(len(seg) == 2, f"two segments on the tape ({len(seg)})")
for title, hz, due in (("unreadable A", 600, int(sys.argv[3]) * 10**9), ("unreadable B", 900, int(sys.argv[4]) * 10**9)):
    s = [x for x in seg if abs(x["freq_hz"] - hz) < hz * 0.02]
    rows = db.execute("SELECT status, started_ns FROM as_run WHERE title = ?", (title,)).fetchall()
    say(len(s) == 1, f"{title} aired ({len(s)} segments at {hz} Hz)")
    say(len(rows) == 1 and rows[0][0] == "played", f"{title} logged once, played ({rows})")
    if len(s) == 1:
        error = (s[0]["start_realtime_ns"] - due) / 1e6
        say(abs(error) <= 20, f"{title} started on its second ({error:+.3f} ms)")
        if len(rows) == 1:
            say(abs(rows[0][1] - s[0]["start_realtime_ns"]) <= 20e6,
                f"{title}: its row's start matches the tape ({(rows[0][1] - s[0]['start_realtime_ns']) / 1e6:+.3f} ms)")
PYTHON
cat "$WORK/verdicts"
record_verdicts "$WORK/verdicts"
finish
