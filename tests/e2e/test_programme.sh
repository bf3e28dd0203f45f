#!/bin/bash
# Programmes through the `loaxa` binary: create, add, list, show, remove-item,
# remove; names and categories kept exactly; a programme's length is the sum
# of its items; edits that would make an event collide, or leave a scheduled
# programme empty, are refused with nothing changed.
source "$(dirname "$0")/lib.sh"

snapshot() {
	sqlite3 "$DB" "SELECT * FROM programme; SELECT * FROM programme_item; SELECT * FROM event;
		SELECT count(*) FROM audit;" | md5sum
}
refused() {
	local before
	before=$(snapshot)
	expect_status "$@"
	if [ "$(snapshot)" = "$before" ]; then pass "  nothing changed"; else fail "  the database changed"; fi
}
sql() { sqlite3 "$DB" "$1"; }
# run_ok COMMAND...: succeeds, its output in $WORK/out and $WORK/err
run_ok() { "$@" >"$WORK/out" 2>"$WORK/err"; }
Y=$(( $(date +%Y) + 2 ))

"$LOAXA" init >/dev/null
sox -n -r 48000 -c 1 -b 16 "$WORK/a.wav" synth 4 sine 500 vol 0.3
sox -n -r 44100 -c 2 -b 16 "$WORK/b.wav" synth 6.5 sine 700 vol 0.3
a=$("$LOAXA" media import "$WORK/a.wav" --title "Tin nông nghiệp" 2>/dev/null)
b=$("$LOAXA" media import "$WORK/b.wav" --title "Giá lúa 'hôm nay'" 2>/dev/null)

name='Chuyên mục "Nông thôn mới", số 1 🌾'
id=$("$LOAXA" programme create "$name" --category "Nông nghiệp")
check "create prints the id ($id)" test "$id" = 1
check "  name and category exactly" test "$(sql "SELECT name, category FROM programme")" = "$name|Nông nghiệp"
refused 1 "already a programme named" "$LOAXA" programme create "$name"
refused 1 "needs a name" "$LOAXA" programme create ""
refused 2 "programme create needs one NAME" "$LOAXA" programme create
refused 2 "does not apply to 'add'" "$LOAXA" programme add "$name" "$a" --category x
check "it runs" run_ok "$LOAXA" programme add "$name" "$a" "$b" "$a"
check "add: three items" grep -q "now has 3 items, 15 s" "$WORK/out"
check "  in order" test "$(sql "SELECT group_concat(media_id) FROM (SELECT media_id FROM programme_item ORDER BY position)")" = "$a,$b,$a"
refused 1 "no media 42" "$LOAXA" programme add "$name" "$b" 42
refused 1 "'x' is not a media id" "$LOAXA" programme add "$name" x
refused 1 "no programme named \"Không có\"" "$LOAXA" programme add "Không có" "$a"
refused 2 "programme add needs a NAME and one or more MEDIA_IDs" "$LOAXA" programme add "$name"

"$LOAXA" programme list >"$WORK/list.txt"
check "list: name, items, length, category" grep -q "$name — 3 items, 15 s, category \"Nông nghiệp\"" "$WORK/list.txt"
"$LOAXA" programme show "$name" >"$WORK/show.txt"
cat "$WORK/show.txt"
check "show: each item at its offset" grep -q " 2. +4 s  *media $b  *Giá lúa 'hôm nay' (7 s)" "$WORK/show.txt"
"$LOAXA" programme show "$name" --json >"$WORK/show.json"
check "show --json: exact name" test "$(json "d['name']" <"$WORK/show.json")" = "$name"
check "show --json: duration is the sum" test "$(json "d['duration_seconds']" <"$WORK/show.json")" = 14.5
check "show --json: items" test "$(json "[i['media_id'] for i in d['list']]" <"$WORK/show.json" | tr -d ' ')" = "[$a,$b,$a]"

# scheduled: its length counts, its edits are checked
event=$("$LOAXA" schedule add --at 06:00 --days tue --from "$Y-01-01" --programme "$name")
check "scheduled ($event)" test -n "$event"
next=$("$LOAXA" schedule add --at 06:00:20 --daily --from "$Y-01-01" --media "$a")
refused 1 "event $event plays this programme: conflict on" "$LOAXA" programme add "$name" "$b"
check "a shorter addition fits" "$LOAXA" programme add "$name" "$a"
check "  now 4 items" test "$(sql "SELECT count(*) FROM programme_item")" = 4
refused 1 "is played by 1 event" "$LOAXA" programme remove "$name"
check "remove-item 2" "$LOAXA" programme remove-item "$name" 2
check "  the others move up" test "$(sql "SELECT group_concat(position || ':' || media_id) FROM (SELECT * FROM programme_item ORDER BY position)")" = "1:$a,2:$a,3:$a"
refused 1 "choose a position from 1 to 3" "$LOAXA" programme remove-item "$name" 7
refused 1 "is not a position" "$LOAXA" programme remove-item "$name" first
"$LOAXA" programme remove-item "$name" 1 >/dev/null
"$LOAXA" programme remove-item "$name" 1 >/dev/null
refused 1 "would leave programme .* empty" "$LOAXA" programme remove-item "$name" 1
"$LOAXA" schedule remove "$event" >/dev/null
check "remove once no event plays it" "$LOAXA" programme remove "$name"
check "  gone with its items" test "$(sql "SELECT count(*) FROM programme")$(sql "SELECT count(*) FROM programme_item")" = 00
"$LOAXA" programme list >"$WORK/none.txt"
check "an empty list says how to start" grep -q "programme create" "$WORK/none.txt"
refused 2 "unknown programme action" "$LOAXA" programme rename x y
finish
