#!/bin/bash
# The air never waits for the database. On the paced test card, another
# process holds the database's write lock for 30 s (a sqlite3 shell in
# BEGIN IMMEDIATE); the station starts in the hold, and two timed items and
# two emergencies air in it:
#   - the emergency of `loaxa emergency` is answered and on the tape within
#     its usual latency, and the timed items start on their seconds;
#   - an emergency sent twice on the raw socket with the same request id
#     airs once, and both tries get the same answer;
#   - `loaxa status` says the database is unwritable and rows wait;
#   - `loaxa emergency` that gets no answer (the station stopped, SIGSTOP,
#     for 4 s) asks again with the same id: the announcement airs once;
#   - once the lock is released every row is written, with the times and
#     frames the tape shows: nothing missing, nothing twice.
source "$(dirname "$0")/lib.sh"

sox -n -r 48000 -c 1 -b 16 "$WORK/a.wav" synth 1.0 sine 600 vol 0.5
sox -n -r 48000 -c 1 -b 16 "$WORK/b.wav" synth 1.0 sine 900 vol 0.5
sox -n -r 48000 -c 1 -b 16 "$WORK/storm.wav" synth 0.8 sine 2000 vol 0.5
sox -n -r 48000 -c 1 -b 16 "$WORK/flood.wav" synth 0.6 sine 3000 vol 0.5
sox -n -r 48000 -c 1 -b 16 "$WORK/retry.wav" synth 0.5 sine 4000 vol 0.5
"$LOAXA" init >/dev/null
a=$("$LOAXA" media import "$WORK/a.wav" --title "busy A" 2>/dev/null)
b=$("$LOAXA" media import "$WORK/b.wav" --title "busy B" 2>/dev/null)
storm=$("$LOAXA" media import "$WORK/storm.wav" --title "storm" 2>/dev/null)
flood=$("$LOAXA" media import "$WORK/flood.wav" --title "flood" 2>/dev/null)
retry=$("$LOAXA" media import "$WORK/retry.wav" --title "retry" 2>/dev/null)
now_ns() { date +%s%N; }
until_ns() { while [ "$(now_ns)" -lt "$1" ]; do sleep 0.002; done; }

base=$(( $(date +%s) + 2 ))
at_a=$((base + 8))
at_b=$((base + 13))
event_a=$("$LOAXA" schedule add --date "$(date -d @$at_a +%F)" --at "$(date -d @$at_a +%T)" \
	--media "$a" --title "busy A")
event_b=$("$LOAXA" schedule add --date "$(date -d @$at_b +%F)" --at "$(date -d @$at_b +%T)" \
	--media "$b" --title "busy B")

# The lock: BEGIN IMMEDIATE and a write, held 30 s, then committed.
until_ns $(( base * 1000000000 ))
{ echo 'BEGIN IMMEDIATE;'; echo "INSERT OR REPLACE INTO station_state VALUES ('busy_db_test', 1);"
  sleep 30; echo 'COMMIT;'; } | sqlite3 "$DB" &
HOLDER=$!
held_from=$(now_ns)
sleep 0.5
locked() { ! sqlite3 -cmd ".timeout 0" "$DB" "BEGIN IMMEDIATE; ROLLBACK;" 2>"$WORK/lock.err" &&
	grep -q "locked" "$WORK/lock.err"; }
check "another process holds the write lock" locked
TAPE=$WORK/tape.wav
start_serve "loaxatest:TAPE=$TAPE"
check "the station starts in the hold and answers on its socket" wait_for 10 test -S "$WORK/loaxa.sock"
check "it says the rows a stopped station left cannot be closed yet" \
	grep -q "cannot be written yet" "$WORK/serve.log"

# 1. an emergency through the command line, 4.5 s into the hold
until_ns $(( base * 1000000000 + 4500000000 ))
t1=$(now_ns)
"$LOAXA" emergency --media "$storm" --json >"$WORK/e1.json" || true
t1_answered=$(now_ns)
check "the emergency is answered ($(( (t1_answered - t1) / 1000000 )) ms)" \
	test "$(json_field "$WORK/e1.json" "d['ok']")" = True
check "the command line sent a request id" \
	test "$(json_field "$WORK/e1.json" "d.get('id', '').startswith('cli-')")" = True

# 2. the same request twice on the raw socket, with one id
until_ns $(( base * 1000000000 + 6000000000 ))
python3 - "$WORK/loaxa.sock" "$flood" >"$WORK/twice.out" <<'PYTHON'
import json, socket, sys, time
path, media = sys.argv[1], int(sys.argv[2])
line = json.dumps({"v": 1, "cmd": "emergency", "media_id": media, "id": "busy-db-flood-1"}).encode() + b"\n"
def ask():
    s = socket.socket(socket.AF_UNIX); s.settimeout(5)
    data = b""
    try:
        s.connect(path); s.sendall(line)
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk: break
            data += chunk
    except OSError as error:
        data = f"(no answer: {error})".encode()
    s.close(); return data.decode().strip()
t0 = time.time_ns(); first = ask(); t1 = time.time_ns(); second = ask(); t2 = time.time_ns()
print("sent", t0)
print("answered-ms %.1f %.1f" % ((t1 - t0) / 1e6, (t2 - t1) / 1e6))
print("first", first)
print("second", second)
PYTHON
cat "$WORK/twice.out"
t2=$(awk '/^sent/ { print $2 }' "$WORK/twice.out")
first=$(sed -n 's/^first //p' "$WORK/twice.out")
second=$(sed -n 's/^second //p' "$WORK/twice.out")
check "the first try is acted on" grep -q '"ok":true,"broadcast":2' <<<"$first"
same_answer() { grep -q '"ok":true' <<<"$first" && [ "$first" = "$second" ]; }
check "the repeated id gets the same answer" same_answer
read -r _ answer1_ms answer2_ms < <(grep answered-ms "$WORK/twice.out") || true
check "both answered promptly ($answer1_ms, $answer2_ms ms)" \
	awk -v a="$answer1_ms" -v b="$answer2_ms" 'BEGIN { exit !(a != "" && b != "" && a + 0 < 500 && b + 0 < 500) }'

# 3. status in the hold: unwritable, rows waiting
until_ns $(( base * 1000000000 + 10000000000 ))
t3=$(now_ns)
"$LOAXA" status --json >"$WORK/status.json" || true
t3_answered=$(now_ns)
"$LOAXA" status >"$WORK/status.txt" || true
cat "$WORK/status.txt"
echo "  measured: status answered in $(( (t3_answered - t3) / 1000000 )) ms during the hold"
check "status says the database is unwritable" \
	test "$(json_field "$WORK/status.json" "d['database']['writable']")" = False
check "status says for how long ($(json_field "$WORK/status.json" "d['database']['unwritable_s']") s)" \
	test "$(json_field "$WORK/status.json" "d['database']['unwritable_s'] > 5")" = True
pending=$(json_field "$WORK/status.json" "d['database']['pending_rows']" || echo 0)
check "status says rows wait ($pending)" test "$pending" -ge 3
check "last_error says so too" grep -q "unwritable" <<<"$(json_field "$WORK/status.json" "d['last_error']")"
check "the text says so" grep -q "UNWRITABLE" "$WORK/status.txt"
check "no event of the sound engine was lost meanwhile" \
	test "$(json_field "$WORK/status.json" "d['events_dropped']")" = 0
check "no as-run row is written during the hold" \
	test "$(sqlite3 "$DB" "SELECT count(*) FROM as_run")" = 0

# 4. the station stalls 4 s just after the command line sent its request:
# no answer in 3 s, so it asks again with the same id
until_ns $(( base * 1000000000 + 16000000000 ))
kill -STOP "$SERVE_PID" || true
t4=$(now_ns)
rc=0
"$LOAXA" emergency --media "$retry" --json >"$WORK/e4.json" 2>"$WORK/e4.err" &
client=$!
sleep 4
kill -CONT "$SERVE_PID" || true
wait "$client" || rc=$?
cat "$WORK/e4.err"
check "the command line got its answer after asking again (exit $rc)" test "$rc" -eq 0
check "it said it asked again" grep -q "asking again" "$WORK/e4.err"
check "the answer is the broadcast" test "$(json_field "$WORK/e4.json" "d.get('broadcast')")" = 3
check "the station answered the repeat without acting" grep -q "repeated: answered again" "$WORK/serve.log"

# the hold ends; every row is written
wait "$HOLDER"
HOLDER=
released=$(now_ns)
echo "  measured: the lock was held $(( (released - held_from) / 1000000 )) ms"
all_rows() { [ "$(sqlite3 "$DB" "SELECT count(*) FROM as_run WHERE status <> 'playing'")" = 5 ]; }
check "after the release the five rows are written" wait_for 10 all_rows
written=$(now_ns)
echo "  measured: rows written $(( (written - released) / 1000000 )) ms after the release (0.2 s polls)"
"$LOAXA" status --json >"$WORK/status2.json" || true
check "status says writable again, nothing waiting, nothing lost" \
	test "$(json_field "$WORK/status2.json" "(d['database']['writable'], d['database']['pending_rows'], d['database']['dropped'])")" = "(True, 0, 0)"
sleep 0.5
rc=0
stop_serve || rc=$?
check "serve stops cleanly (exit $rc)" test "$rc" -eq 0

sqlite3 -header "$DB" "SELECT id, event_id, title, status, started_ns, ended_ns, frames_played FROM as_run ORDER BY id"
"$TAPETOOL" segments "$TAPE" || true
"$TAPETOOL" segments "$TAPE" --json >"$WORK/segments.json" || echo '[]' >"$WORK/segments.json"
rate=$("$TAPETOOL" info "$TAPE" | sed -n 's/.*rate=\([0-9]*\).*/\1/p' || echo 48000)
python3 - "$WORK/segments.json" "$DB" "$rate" "$t1" "$t2" "$at_a" "$at_b" "$t4" <<'PYTHON' >"$WORK/verdicts"
import json, sqlite3, sys
seg = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
rate = int(sys.argv[3])
t1, t2, t4 = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[8])
at_a, at_b = int(sys.argv[6]) * 10**9, int(sys.argv[7]) * 10**9
def say(ok, text): print(("PASS " if ok else "FAIL ") + text)
want = {"busy A": 600, "busy B": 900, "storm": 2000, "flood": 3000, "retry": 4000}
say(len(seg) == 5, f"five segments on the tape, one per airing ({len(seg)})")
for title, hz in want.items():
    on_tape = [s for s in seg if abs(s["freq_hz"] - hz) < hz * 0.02]
    rows = db.execute("SELECT status, started_ns, ended_ns, frames_played FROM as_run WHERE title = ?",
                      (title,)).fetchall()
    say(len(on_tape) == 1, f"{title}: aired once ({len(on_tape)} segments at {hz} Hz)")
    say(len(rows) == 1, f"{title}: logged once ({len(rows)} rows)")
    if len(on_tape) != 1 or len(rows) != 1:
        continue
    s, (status, started, ended, frames) = on_tape[0], rows[0]
    start = s["start_realtime_ns"]
    end = start + (s["end_frame"] - s["start_frame"]) * 10**9 // rate
    tape_frames = s["end_frame"] - s["start_frame"]
    say(status == "played", f"{title}: logged played ({status})")
    say(abs(started - start) <= 20e6, f"{title}: started_ns matches the tape ({(started - start) / 1e6:+.3f} ms)")
    say(abs(ended - end) <= 20e6, f"{title}: ended_ns matches the tape ({(ended - end) / 1e6:+.3f} ms)")
    say(abs(frames - tape_frames) <= rate // 50,
        f"{title}: frames_played matches the tape ({frames} vs {tape_frames} frames)")
    if title == "storm":
        print(f"measured: emergency on the tape {(start - t1) / 1e6:.1f} ms after the command started, during the hold")
        say(0 < start - t1 < 500e6, f"the emergency aired within its usual latency ({(start - t1) / 1e6:.1f} ms)")
    if title == "flood":
        say(0 < start - t2 < 500e6, f"the repeated request aired at the first try ({(start - t2) / 1e6:.1f} ms)")
    if title == "retry":
        say(4e9 < start - t4 < 5e9, f"the retried request aired once the station went on ({(start - t4) / 1e6:.0f} ms after the stall began)")
    if title in ("busy A", "busy B"):
        due = at_a if title == "busy A" else at_b
        print(f"measured: {title} start error {(start - due) / 1e6:+.3f} ms on the tape, during the hold")
        say(abs(start - due) <= 20e6, f"{title}: started on its second ({(start - due) / 1e6:+.3f} ms)")
PYTHON
cat "$WORK/verdicts"
record_verdicts "$WORK/verdicts"
check "no row left playing" test "$(sqlite3 "$DB" "SELECT count(*) FROM as_run WHERE status = 'playing'")" = 0
check "the emergencies are logged once each" \
	test "$(sqlite3 "$DB" "SELECT count(*) FROM as_run WHERE event_id = 0")" = 3
check "the log says the database was unwritable, and writable again" \
	grep -q "writable again" "$WORK/serve.log"
finish
