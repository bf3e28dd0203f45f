#!/bin/bash
# The audit trail through the `loaxa` binary: every edit is recorded with who
# (the OS user, or --operator), when and what changed; refused edits leave
# no row; `loaxa audit` shows it (text, --json, --since); the table refuses
# changes even from sqlite3.
source "$(dirname "$0")/lib.sh"

sql() { sqlite3 "$DB" "$1"; }
Y=$(( $(date +%Y) + 2 ))
me=$(id -un)

"$LOAXA" init >/dev/null
sox -n -r 48000 -c 1 -b 16 "$WORK/a.wav" synth 3 sine 500 vol 0.3
media=$("$LOAXA" media import "$WORK/a.wav" --title "Loa" 2>/dev/null)
"$LOAXA" programme create "Bản tin" --operator "Chị Lan 👩" >/dev/null
"$LOAXA" programme add "Bản tin" "$media" --operator "Chị Lan 👩" >/dev/null
event=$("$LOAXA" schedule add --at 06:00 --daily --media "$media" --title 'Tin "sáng"' --operator "Anh Hùng")
"$LOAXA" schedule skip "$event" --date "$Y-01-05" >/dev/null
"$LOAXA" schedule move "$event" --date "$Y-01-06" --at 06:30 >/dev/null
"$LOAXA" schedule restore "$event" --date "$Y-01-05" >/dev/null
"$LOAXA" schedule disable "$event" >/dev/null
"$LOAXA" schedule enable "$event" >/dev/null
rows=$(sql "SELECT count(*) FROM audit")
expect_status 1 "conflict on .* overlaps .*same priority" "$LOAXA" schedule add --at 06:00:01 --daily --media "$media"
expect_status 1 "not a real date" "$LOAXA" schedule skip "$event" --date 2020-02-30
expect_status 1 "already a programme named" "$LOAXA" programme create "Bản tin"
check "refused edits leave no audit row" test "$(sql "SELECT count(*) FROM audit")" = "$rows"
"$LOAXA" schedule remove "$event" --operator "Anh Hùng" >/dev/null

check "who: the OS user by default" test "$(sql "SELECT operator FROM audit WHERE action = 'media.import'")" = "$me"
check "who: --operator, exactly" test "$(sql "SELECT operator FROM audit WHERE action = 'programme.create'")" = "Chị Lan 👩"
check "what: the added event described" test "$(sql "SELECT detail FROM audit WHERE action = 'event.add'")" \
	= "added \"Tin \"sáng\"\" daily at 06:00:00, media $media, normal, resume resume"
check "what: a move, from and to" grep -q "moved from 06:00:00 to 06:30:00" <(sql "SELECT detail FROM audit WHERE action = 'event.move'")
check "every kind of edit is there" test "$(sql "SELECT group_concat(action, ' ') FROM audit")" = \
	"schema.create media.import programme.create programme.append event.add event.skip event.move event.restore event.disable event.enable event.remove"
check "when: nanoseconds, in order" test "$(sql "SELECT count(*) FROM audit a JOIN audit b ON b.id = a.id + 1 WHERE b.at_ns < a.at_ns")" = 0

"$LOAXA" audit >"$WORK/audit.txt"
cat "$WORK/audit.txt"
check "audit lists the edits" test "$(wc -l <"$WORK/audit.txt")" = 11
check "  with the operator" grep -q "Anh Hùng .*event.add" "$WORK/audit.txt"
"$LOAXA" audit --json >"$WORK/audit.json"
check "audit --json" test "$(json "len(d)" <"$WORK/audit.json")" = 11
check "  exact text" test "$(json "[e['operator'] for e in d if e['action'] == 'programme.append'][0]" <"$WORK/audit.json")" = "Chị Lan 👩"
check "--since today shows them" test "$("$LOAXA" audit --json --since "$(date +%F)" | json 'len(d)')" -ge 1
"$LOAXA" audit --since "$Y-01-01" >"$WORK/none.txt"
check "--since a future date shows none" grep -q "no changes recorded since $Y-01-01" "$WORK/none.txt"
expect_status 1 "'$Y-02-30' is not a real date" "$LOAXA" audit --since "$Y-02-30"
expect_status 2 "unexpected argument" "$LOAXA" audit everything
expect_status 1 "operator name is not valid UTF-8" "$LOAXA" schedule disable 1 --operator "$(printf '\xc3\x28')"

# append-only, even for sqlite3
refused_by_sqlite() { ! sqlite3 "$DB" "$1" 2>"$WORK/err" && grep -q "append-only" "$WORK/err"; }
check "sqlite3 cannot change a row" refused_by_sqlite "UPDATE audit SET operator = 'ai đó'"
check "sqlite3 cannot delete rows" refused_by_sqlite "DELETE FROM audit"
check "the rows are still there" test "$(sql "SELECT count(*) FROM audit")" = 11
finish
