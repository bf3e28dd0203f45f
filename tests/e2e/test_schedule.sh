#!/bin/bash
# The timetable through the `loaxa` binary: schedule add (media, programme,
# every recurrence), conflicts and --after, preemptions in the rundown,
# skip/move/restore, disable/enable, remove, list and show (text and JSON),
# the schema upgrade from version 1, and every refusal: exit status 1 or 2,
# a clear message, and not a byte changed in the database.
source "$(dirname "$0")/lib.sh"

# A digest of everything an edit could touch.
snapshot() {
	sqlite3 "$DB" "SELECT * FROM event; SELECT * FROM event_exception; SELECT * FROM programme;
		SELECT * FROM programme_item; SELECT * FROM media; SELECT count(*) FROM audit;" | md5sum
}
# refused STATUS PATTERN COMMAND...: exits STATUS, says PATTERN, changes nothing
refused() {
	local before
	before=$(snapshot)
	expect_status "$@"
	if [ "$(snapshot)" = "$before" ]; then pass "  nothing changed"; else fail "  the database changed"; fi
}
sql() { sqlite3 "$DB" "$1"; }

# Dates in a year to come, so nothing is in the past whenever this runs.
Y=$(( $(date +%Y) + 2 ))
LEAP=$Y
while [ $((LEAP % 4)) -ne 0 ] || { [ $((LEAP % 100)) -eq 0 ] && [ $((LEAP % 400)) -ne 0 ]; }; do
	LEAP=$((LEAP + 1))
done

check "init" "$LOAXA" init
sox -n -r 48000 -c 1 -b 16 "$WORK/news.wav" synth 6 sine 500 vol 0.3
sox -n -r 48000 -c 1 -b 16 "$WORK/local.wav" synth 10 sine 600 vol 0.3
sox -n -r 48000 -c 1 -b 16 "$WORK/alert.wav" synth 3 sine 900 vol 0.3
news=$("$LOAXA" media import "$WORK/news.wav" --title "Tin trong nước" 2>/dev/null)
local_news=$("$LOAXA" media import "$WORK/local.wav" --title "Tin địa phương" 2>/dev/null)
alert=$("$LOAXA" media import "$WORK/alert.wav" --title "Báo bão" 2>/dev/null)
check "three media ($news $local_news $alert)" test "$news,$local_news,$alert" = "1,2,3"
check "the schema is version 3" test "$(sql 'PRAGMA user_version')" = 3

# --- add: every recurrence, media and programme ------------------------------
title='Bản tin sáng "đặc biệt" — cải cách 📻'
daily=$("$LOAXA" schedule add --at 05:30 --daily --from "$Y-01-01" --until "$Y-12-31" --media "$news" \
	--title "$title" --repeat 2 --gap 60 --resume rejoin)
check "daily event added ($daily)" test -n "$daily"
check "its row" test "$(sql "SELECT start_second, recurrence, from_date, until_date, media_id, repeat_count,
	gap_seconds, resume_policy, priority FROM event WHERE id = $daily")" \
	= "19800|daily|$Y-01-01|$Y-12-31|$news|2|60|rejoin|0"
check "the title stored exactly" test "$(sql "SELECT title FROM event WHERE id = $daily")" = "$title"
weekly=$("$LOAXA" schedule add --at 17:00:05 --days mon,wed,fri --media "$local_news" --priority priority)
check "weekday event ($weekly): mask 21" test "$(sql "SELECT weekdays FROM event WHERE id = $weekly")" = 21
monthly=$("$LOAXA" schedule add --at 12:00 --monthly 29 --media "$alert" --title "Ngày 29")
check "monthly event ($monthly)" test "$(sql "SELECT month_day FROM event WHERE id = $monthly")" = 29
"$LOAXA" programme create "Thời sự tối" --category "Thời sự" >/dev/null
"$LOAXA" programme add "Thời sự tối" "$news" "$local_news" >/dev/null
evening=$("$LOAXA" schedule add --at 19:00 --date "$Y-06-15" --programme "Thời sự tối")
check "programme event ($evening)" test "$(sql "SELECT programme_id, media_id IS NULL FROM event
	WHERE id = $evening")" = "1|1"

# --- refusals: bad input (exit 1) and usage (exit 2) -------------------------
refused 1 "'25:61' is not a time of day" "$LOAXA" schedule add --at 25:61 --daily --media "$news"
refused 1 "'$Y-02-30' is not a real date" "$LOAXA" schedule add --at 05:00 --date "$Y-02-30" --media "$news"
refused 1 "--until $Y-01-01 is before --from $Y-02-01" "$LOAXA" schedule add --at 04:00 --daily \
	--from "$Y-02-01" --until "$Y-01-01" --media "$news"
refused 1 "no media 99" "$LOAXA" schedule add --at 04:00 --daily --media 99
refused 1 "no programme named \"Không có\"" "$LOAXA" schedule add --at 04:00 --daily --programme "Không có"
"$LOAXA" programme create "Trống" >/dev/null
refused 1 "is empty" "$LOAXA" schedule add --at 04:00 --daily --programme "Trống"
refused 1 "--monthly '32'" "$LOAXA" schedule add --at 04:00 --monthly 32 --media "$news"
refused 1 "not a list of weekdays" "$LOAXA" schedule add --at 04:00 --days mon,funday --media "$news"
refused 1 "unknown priority 'urgent'" "$LOAXA" schedule add --at 04:00 --daily --media "$news" --priority urgent
refused 1 "--repeat '0'" "$LOAXA" schedule add --at 04:00 --daily --media "$news" --repeat 0
refused 1 "in the past" "$LOAXA" schedule add --at 04:00 --date 2020-01-01 --media "$news"
refused 2 "either --media ID or --programme NAME" "$LOAXA" schedule add --at 04:00 --daily \
	--media "$news" --programme "Thời sự tối"
refused 2 "needs --at" "$LOAXA" schedule add --daily --media "$news"
refused 2 "exactly one of" "$LOAXA" schedule add --at 04:00 --daily --days mon --media "$news"
refused 2 "does not apply to 'list'" "$LOAXA" schedule list --at 05:00
refused 2 "unknown schedule action 'frobnicate'" "$LOAXA" schedule frobnicate
refused 2 "needs one event ID" "$LOAXA" schedule remove
refused 2 "not an event id" "$LOAXA" schedule remove abc
refused 2 "needs --date" "$LOAXA" schedule skip "$daily"
# a removed media item cannot be scheduled
sox -n -r 48000 -c 1 -b 16 "$WORK/gone.wav" synth 1 sine 300 vol 0.3
gone=$("$LOAXA" media import "$WORK/gone.wav" 2>/dev/null)
"$LOAXA" media remove "$gone" >/dev/null
refused 1 "no media $gone" "$LOAXA" schedule add --at 04:00 --daily --media "$gone"

# --- conflicts -----------------------------------------------------------------
# 05:30 daily runs 05:30:00–05:30:06 and 05:31:06–05:31:12 (two 6 s repeats, 60 s apart)
refused 1 "conflict on $Y-01-01: 05:31:10–05:31:16 overlaps event $daily \"Bản tin sáng \"đặc biệt\" — cải cách 📻\" \(normal, on air 05:31:06–05:31:12 on $Y-01-01\)" \
	"$LOAXA" schedule add --at 05:31:10 --days sat,sun --from "$Y-01-01" --media "$news"
grep -q -- "--after" "$WORK/err" && pass "the refusal offers --after" || fail "no --after hint"
check "touching is not overlapping" "$LOAXA" schedule add --at 05:30:06 --date "$Y-03-01" --media "$alert"
after=$("$LOAXA" schedule add --at 05:31:10 --days sat,sun --from "$Y-01-01" --media "$news" --after 2>"$WORK/err")
check "--after places it ($after)" test -n "$after"
check "  right after the colliding repeat: 05:31:12" test "$(sql "SELECT start_second FROM event WHERE id = $after")" = $((5 * 3600 + 31 * 60 + 12))
grep -q "placed at 05:31:12, right after event $daily" "$WORK/err" && pass "  and says so" \
	|| fail "  no note: $(cat "$WORK/err")"
storm=$("$LOAXA" schedule add --at 19:00:04 --date "$Y-06-15" --media "$alert" --priority emergency --title "Bão số 5")
check "another priority may overlap ($storm)" test -n "$storm"

# --- the rundown ------------------------------------------------------------
"$LOAXA" schedule show "$Y-06-15" >"$WORK/show.txt"
cat "$WORK/show.txt"
check "the day's heading, dd/mm/yyyy" grep -q "15/06/$Y" "$WORK/show.txt"
check "start–end of the morning news" grep -q "05:30:00–05:30:06  normal    $title (1/2)" "$WORK/show.txt"
check "the programme's items" grep -q "19:00:06–19:00:16  2. Tin địa phương" "$WORK/show.txt"
check "the preemption, on the cut one" grep -q "preempted 19:00:04–19:00:07 by emergency \"Bão số 5\"" "$WORK/show.txt"
check "and on the one that cuts" grep -q "preempts normal \"Thời sự tối\"" "$WORK/show.txt"
check "airtime per session" grep -q "airtime 12 s" "$WORK/show.txt"
check "one line for a cut across two items" test "$(grep -c "preempted 19:00:04–19:00:07 by emergency" "$WORK/show.txt")" = 1
check "the day's total" grep -q "Total airtime 28 s, 1 preemption$" "$WORK/show.txt"
check "sessions named" grep -q "Evening (tối)" "$WORK/show.txt"
"$LOAXA" schedule show "$Y-06-15" --json >"$WORK/show.json"
check "show --json parses" json "len(d['occurrences'])" <"$WORK/show.json"
check "  the day's occurrences, in order (a $(date -d "$Y-06-15" +%A))" \
	test "$(json "[o['event_id'] for o in d['occurrences']]" <"$WORK/show.json" | tr -d ' ')" \
	= "$(python3 -c "
import datetime
d = datetime.date($Y, 6, 15)
ids = [$daily, $daily]
if d.weekday() in (5, 6): ids[1:1] = [$after]
if d.weekday() in (0, 2, 4): ids.append($weekly)
ids += [$evening, $storm]
print(str(ids).replace(' ', ''))")"
check "  the evening programme has two items" test "$(json "[len(o['items']) for o in d['occurrences'] if o['event_id'] == $evening][0]" <"$WORK/show.json")" = 2
check "  preempted_by names the storm" test "$(json "[o['preempted_by'][0]['event_id'] for o in d['occurrences'] if o['event_id'] == $evening][0]" <"$WORK/show.json")" = "$storm"
check "  evening airtime counts the overlap once" \
	test "$(json "[s['airtime_seconds'] for s in d['sessions'] if s['name'] == 'evening'][0]" <"$WORK/show.json")" \
	= "$(date -d "$Y-06-15" +%u | awk '{print ($1==1||$1==3||$1==5) ? "26.0" : "16.0"}')"
check "  the title comes back exactly" test "$(json "d['occurrences'][0]['title']" <"$WORK/show.json")" = "$title"
"$LOAXA" schedule show "$LEAP-02-29" >"$WORK/leap.txt"
check "a leap day has the 29th's event" grep -q "12:00:00–12:00:03  normal    Ngày 29" "$WORK/leap.txt"
refused 1 "'$Y-13-01' is not a real date" "$LOAXA" schedule show "$Y-13-01"

# --- list ---------------------------------------------------------------------
"$LOAXA" schedule list >"$WORK/list.txt"
cat "$WORK/list.txt"
check "list shows the rule" grep -q "daily from $Y-01-01 until $Y-12-31" "$WORK/list.txt"
check "list shows weekdays" grep -q "on mon,wed,fri" "$WORK/list.txt"
check "list shows the programme" grep -q "programme \"Thời sự tối\" (2 items)" "$WORK/list.txt"
"$LOAXA" schedule list --json >"$WORK/list.json"
check "list --json: the title exactly" test "$(json "[e['title'] for e in d if e['id'] == $daily][0]" <"$WORK/list.json")" = "$title"

# --- skip, move, restore -------------------------------------------------------
check "skip a date" "$LOAXA" schedule skip "$daily" --date "$Y-06-15"
check "  stored" test "$(sql "SELECT action FROM event_exception WHERE event_id = $daily AND on_date = '$Y-06-15'")" = skip
"$LOAXA" schedule show "$Y-06-15" --json >"$WORK/skip.json"
check "  gone from that day" test "$(json "sum(1 for o in d['occurrences'] if o['event_id'] == $daily)" <"$WORK/skip.json")" = 0
refused 1 "does not air on $((Y + 1))-01-01" "$LOAXA" schedule skip "$daily" --date "$((Y + 1))-01-01"
refused 1 "no event 999" "$LOAXA" schedule skip 999 --date "$Y-06-15"
check "move a date" "$LOAXA" schedule move "$daily" --date "$Y-06-16" --at 06:10
check "  stored" test "$(sql "SELECT action, moved_second FROM event_exception WHERE event_id = $daily AND on_date = '$Y-06-16'")" = "move|22200"
"$LOAXA" schedule show "$Y-06-16" >"$WORK/moved.txt"
check "  the rundown shows the new time and the old one" grep -q "06:10:00–06:10:06.*moved from 05:30:00" "$WORK/moved.txt"
refused 1 "conflict on $Y-06-15: 19:00:10–19:00:16 overlaps event $evening" \
	"$LOAXA" schedule move "$daily" --date "$Y-06-15" --at 19:00:10
check "a moved date placed --after" "$LOAXA" schedule move "$daily" --date "$Y-06-15" --at 19:00:10 --after
check "  after the programme: 19:00:16" test "$(sql "SELECT moved_second FROM event_exception WHERE event_id = $daily AND on_date = '$Y-06-15'")" = $((19 * 3600 + 16))
check "restore a date" "$LOAXA" schedule restore "$daily" --date "$Y-06-16"
check "  the exception is gone" test "$(sql "SELECT count(*) FROM event_exception WHERE on_date = '$Y-06-16'")" = 0
refused 1 "has no skip or move on $Y-06-16" "$LOAXA" schedule restore "$daily" --date "$Y-06-16"
refused 1 "'24:00' is not a time of day" "$LOAXA" schedule move "$daily" --date "$Y-06-17" --at 24:00
refused 2 "needs --at" "$LOAXA" schedule move "$daily" --date "$Y-06-17"

# --- disable, enable, remove ----------------------------------------------------
check "disable" "$LOAXA" schedule disable "$daily"
check "  stored" test "$(sql "SELECT enabled FROM event WHERE id = $daily")" = 0
blocker=$("$LOAXA" schedule add --at 05:30 --date "$Y-07-01" --media "$news")
check "  its time is free while disabled ($blocker)" test -n "$blocker"
refused 1 "conflict on $Y-07-01" "$LOAXA" schedule enable "$daily"
check "  still disabled" test "$(sql "SELECT enabled FROM event WHERE id = $daily")" = 0
check "remove the blocker" "$LOAXA" schedule remove "$blocker"
check "enable" "$LOAXA" schedule enable "$daily"
refused 1 "no event 999" "$LOAXA" schedule remove 999
check "remove" "$LOAXA" schedule remove "$after"
check "  gone, with its exceptions" test "$(sql "SELECT count(*) FROM event WHERE id = $after")" = 0
blocker_again=$("$LOAXA" schedule add --at 03:00 --date "$Y-07-01" --media "$news")
check "ids are not given twice ($blocker_again > $blocker)" test "$blocker_again" -gt "$blocker"

# --- a version-1 database upgrades, data intact ----------------------------------
V1=$WORK/v1.db
python3 - "$ROOT/schedules/store.c" <<'PYTHON' | sqlite3 "$V1"
import re, sys
source = open(sys.argv[1], encoding="utf-8").read()
block = source[source.index("/* 0 → 1"):source.index("/* 1 → 2")]
print("".join(bytes(s, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
              for s in re.findall(r'"((?:[^"\\]|\\.)*)"', block)))
print("PRAGMA user_version = 1;")
PYTHON
sqlite3 "$V1" "INSERT INTO media VALUES (1, 'aa', '00/a.wav', 'a.wav', 'Bản tin cũ', '', 'pcm_s16', 48000, 1,
	48000, -18, 1, -1, -1, 0, 0, 0, 0, 'x');
	INSERT INTO event (title, start_second, recurrence, from_date, until_date, media_id, created_at)
	VALUES ('Cũ \"1\"', 21600, 'daily', '', '', 1, 'x');
	INSERT INTO event_exception VALUES (1, '$Y-05-05', 'move', 25200);"
check "a version-1 database" test "$(sqlite3 "$V1" 'PRAGMA user_version')" = 1
"$LOAXA" init --db "$V1" >"$WORK/out"
check "  init upgrades it" grep -q "ready (schema version 3)" "$WORK/out"
check "  the event is intact" test "$(sqlite3 "$V1" "SELECT title, start_second FROM event")" = 'Cũ "1"|21600'
"$LOAXA" schedule show "$Y-05-05" --db "$V1" >"$WORK/v1.txt"
check "  its moved date still moved" grep -q "07:00:00–07:00:01  normal    Cũ \"1\"" "$WORK/v1.txt"
check "  the upgrade is audited" test "$(sqlite3 "$V1" "SELECT count(*) FROM audit WHERE action = 'schema.upgrade'")" = 1
finish
