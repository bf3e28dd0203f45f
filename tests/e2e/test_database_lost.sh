#!/bin/bash
# Rows survive a full disk and a lost database. The database lives on a
# small filesystem of its own (a 16 MB ext4 image on a loop device); a
# 0.8 s item airs every 2 s
# on the paced test card while, in turn:
#   A. the disk fills up (then is freed): the rows wait, status says the
#      database is unwritable, and they are written once there is room;
#   B. the database file is deleted: within 5 s it is an error in the log
#      and in `status`, the station keeps a copy of what it still reads of
#      the file, and once that copy is put back the waiting rows go in;
#   C. the file is overwritten in place with garbage, then restored from a
#      backup: the same, without a copy (nothing of it is left to read);
#   D. the database's files are made immutable (chattr +i: root's
#      writes fail too), then writable again;
#   E. the station is stopped while its rows wait (the files immutable
#      again) and the disk is full: the stop keeps every row in a file
#      beside the database (in the space it set aside at its start), and
#      the next start writes them, each once.
# At the end every item has exactly one row, `played`, and its times match
# the tape.
source "$(dirname "$0")/lib.sh"

DISK=$WORK/disk
mkdir -p "$DISK"
truncate -s 16M "$WORK/disk.img"
mkfs.ext4 -q -m 0 "$WORK/disk.img"
if ! mount -o loop "$WORK/disk.img" "$DISK" 2>"$WORK/mount.err"; then
	fail "cannot mount a small filesystem for the database (root is needed): $(cat "$WORK/mount.err")"
	finish
fi
unmount() {
	if [ -n "$SERVE_PID" ]; then kill -KILL "$SERVE_PID" 2>/dev/null || true; wait 2>/dev/null || true; fi
	[ "$CHECKS_FAILED" -eq 0 ] || cp -a "$DISK" "$WORK/disk-kept" 2>/dev/null || true
	umount "$DISK" 2>/dev/null || umount -l "$DISK" 2>/dev/null || true
}
trap 'unmount; cleanup' EXIT
DB=$DISK/loaxa.db
export LOAXA_DB=$DB
echo "library = $WORK/media" >"$WORK/loaxa.conf"   # the media off the small disk
export LOAXA_CONFIG=$WORK/loaxa.conf

sox -n -r 48000 -c 1 -b 16 "$WORK/item.wav" synth 0.8 sine 700 vol 0.5
"$LOAXA" init >/dev/null
item=$("$LOAXA" media import "$WORK/item.wav" --title "item" 2>/dev/null)
ITEMS=22
base=$(( $(date +%s) + 3 ))
for k in $(seq 0 $((ITEMS - 1))); do
	t=$((base + 4 + 2 * k))
	"$LOAXA" schedule add --date "$(date -d @$t +%F)" --at "$(date -d @$t +%T)" \
		--media "$item" --title "item $k" >/dev/null
done
now_ns() { date +%s%N; }
until_s() { while [ "$(now_ns)" -lt $(( (base + $1) * 1000000000 )) ]; do sleep 0.01; done; }
status_is() { "$LOAXA" status --json >"$WORK/status.json" 2>/dev/null &&
	[ "$(json_field "$WORK/status.json" "$1")" = "$2" ]; }
rows() { sqlite3 "$DB" "SELECT count(*) FROM as_run WHERE status = 'played'" 2>/dev/null || echo 0; }
rows_at_least() {
	local n
	n=$(rows)
	echo "$n" >"$WORK/rows.count"
	[ "$n" -ge "$1" ] || { echo "    ($n rows at $(date +%T.%N))"; false; }
}
fill_disk() {
	dd if=/dev/zero of="$DISK/filler" bs=4k 2>"$WORK/dd.err" || true
	check "the disk is full" grep -q "No space left" "$WORK/dd.err"
}
# items over by t seconds after base (item k airs 4 + 2k to 4.8 + 2k)
aired_by() { echo $(( ($1 * 10 - 48) / 20 + 1 )); }

TAPE=$WORK/tape.wav
start_serve "loaxatest:TAPE=$TAPE"
check "the station starts" wait_for 10 test -S "$DISK/loaxa.sock"
check "it set space aside beside the database" test -f "$DB-reserve"

# A. the disk full from 5 s to 12 s
until_s 5
fill_disk
full_at=$SECONDS
check "status says the database is unwritable within 5 s of the first row that waits" \
	wait_for 7 status_is "d['database']['writable']" False
echo "  measured: unwritable in status $((SECONDS - full_at)) s after the disk filled"
check "the reason is the full disk" grep -qi "full" <<<"$(json_field "$WORK/status.json" "d['database']['last_error']")"
until_s 12
rm -f "$DISK/filler"
check "once there is room the rows of the full disk are written ($(aired_by 12) items)" \
	wait_for 5 rows_at_least "$(aired_by 12)"

# B. the database deleted at 14 s; the station's copy put back at 20 s
until_s 14
rm -f "$DB"
lost_at=$SECONDS
check "status says the database is lost within 5 s" wait_for 5 status_is "d['database']['lost']" True
echo "  measured: lost in status $((SECONDS - lost_at)) s after the deletion"
check "it says how: deleted" status_is "d['database']['lost_how']" deleted
check "last_error tells what to do" grep -q "restore a backup" <<<"$(json_field "$WORK/status.json" "d['last_error']")"
check "the log has the error" grep -q "error: .*was deleted" "$WORK/serve.log"
copy=$(json_field "$WORK/status.json" "d['database']['lost_copy']")
check "a copy of the deleted file is kept beside it ($copy)" test -s "$copy"
until_s 19
check "the waiting rows are in the recovery file" grep -q "INSERT INTO as_run" "$DB-waiting.sql"
until_s 20
cp "$copy" "$DB"
check "the restored database is taken back within 5 s" wait_for 5 status_is "d['database']['lost']" False
check "the rows of the deletion are written into it ($(aired_by 20) items)" \
	wait_for 5 rows_at_least "$(aired_by 20)"
check "the recovery file is gone once they are in" wait_for 3 test ! -e "$DB-waiting.sql"

# C. garbage in place at 24 s (a backup taken just before); restored at 30 s
until_s 23
sqlite3 "$DB" ".backup '$WORK/backup.db'"
until_s 24
head -c 300000 /dev/urandom >"$DB"
check "status says the database is lost within 5 s" wait_for 5 status_is "d['database']['lost']" True
check "it says how: damaged" grep -q "damaged" <<<"$(json_field "$WORK/status.json" "d['database']['lost_how']")"
check "the log has the error" grep -q "error: .*no longer an SQLite database" "$WORK/serve.log"
until_s 30
cat "$WORK/backup.db" >"$DB"
check "the restored database is taken back within 5 s" wait_for 5 status_is "d['database']['lost']" False
check "the rows of the damage are written into it ($(aired_by 30) items)" \
	wait_for 5 rows_at_least "$(aired_by 30)"
check "the restored database is sound" test "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok

# D. unwritable from 32 s to 38 s
until_s 32
chattr +i "$DB" "$DB-wal"
check "status says the database is unwritable within 5 s of the first row that waits" \
	wait_for 7 status_is "d['database']['writable']" False
until_s 38
chattr -i "$DB" "$DB-wal"
check "once writable the rows are written ($(aired_by 38) items)" \
	wait_for 5 rows_at_least "$(aired_by 38)"
echo "  ($(cat "$WORK/rows.count") rows)"

# E. unwritable and the disk full from 40 s; stopped at 47 s
until_s 40
chattr +i "$DB" "$DB-wal"
fill_disk
until_s 47
rc=0
stop_serve || rc=$?
check "serve stops cleanly on a full disk (exit $rc)" test "$rc" -eq 0
grep -E "error:|warning:" "$WORK/serve.log" | head -40 || true
check "the stop gave back the space set aside" grep -q "is freed for the waiting rows" "$WORK/serve.log"
check "the waiting rows are kept beside the database" grep -q "INSERT INTO as_run" "$DB-unwritten.sql"
chattr -i "$DB" "$DB-wal"
rm -f "$DISK/filler"
mv "$WORK/serve.log" "$WORK/serve-1.log"
start_serve "loaxatest:TAPE=$WORK/tape-2.wav"
check "the next start writes the kept rows" wait_for 10 rows_at_least "$(aired_by 47)"
rc=0
stop_serve || rc=$?
check "it stops cleanly (exit $rc)" test "$rc" -eq 0
check "the file of kept rows is gone" test ! -e "$DB-unwritten.sql"

sqlite3 "$DB" "SELECT title, status, started_ns, frames_played FROM as_run ORDER BY started_ns" \
	>"$WORK/rows.txt" || true
cat "$WORK/rows.txt"
"$TAPETOOL" segments "$TAPE" --json >"$WORK/segments.json" || echo '[]' >"$WORK/segments.json"
python3 - "$WORK/segments.json" "$DB" "$base" "$(aired_by 47)" <<'PYTHON' >"$WORK/verdicts"
import json, sqlite3, sys
seg = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
base, aired = int(sys.argv[3]), int(sys.argv[4])
def say(ok, text): print(("PASS " if ok else "FAIL ") + text)
say(len(seg) == aired, f"{aired} items on the tape ({len(seg)})")
rows = db.execute("SELECT title, status, started_ns, frames_played FROM as_run").fetchall()
say(len(rows) == aired, f"{aired} rows, one per item aired ({len(rows)})")
say(all(r[1] == "played" for r in rows), "every row says played: "
    + ", ".join(sorted({r[1] for r in rows})))
worst = 0
for k in range(aired):
    mine = [r for r in rows if r[0] == f"item {k}"]
    due = (base + 4 + 2 * k) * 10**9
    tape = [s for s in seg if abs(s["start_realtime_ns"] - due) < 500e6]
    if len(mine) != 1 or len(tape) != 1:
        say(False, f"item {k}: {len(mine)} rows, {len(tape)} segments on the tape")
        continue
    error = abs(mine[0][2] - tape[0]["start_realtime_ns"]) / 1e6
    frames = tape[0]["end_frame"] - tape[0]["start_frame"]
    worst = max(worst, error)
    if error > 20 or abs(mine[0][3] - frames) > 960:
        say(False, f"item {k}: row started {error:.1f} ms from the tape, {mine[0][3]} vs {frames} frames")
print(f"measured: worst row start vs tape {worst:.2f} ms over {aired} items")
say(worst <= 20, f"every row's start matches the tape within 20 ms (worst {worst:.2f} ms)")
PYTHON
cat "$WORK/verdicts"
record_verdicts "$WORK/verdicts"
check "nothing was dropped" bash -c "! cat '$WORK'/serve*.log | grep -q 'dropped\|row lost'"
finish
