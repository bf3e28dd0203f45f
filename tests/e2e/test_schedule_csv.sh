#!/bin/bash
# The timetable as a spreadsheet, through the `loaxa` binary: export (BOM,
# CRLF, comma or semicolon, a date range, to a file), import into another
# database and back out byte for byte, files as Excel and LibreOffice save
# them, --replace, and refusals that name the line and import nothing.
source "$(dirname "$0")/lib.sh"

sql() { sqlite3 "$DB" "$1"; }
# run_ok COMMAND...: succeeds, its output in $WORK/out and $WORK/err
run_ok() { "$@" >"$WORK/out" 2>"$WORK/err"; }
Y=$(( $(date +%Y) + 2 ))
# the same library in two databases: same files, same order, same ids
library() {
	"$LOAXA" init --db "$1" >/dev/null
	"$LOAXA" media import "$WORK/a.wav" --title "Thông báo" --db "$1" >/dev/null 2>&1
	"$LOAXA" media import "$WORK/b.wav" --title "Ca nhạc" --db "$1" >/dev/null 2>&1
	"$LOAXA" programme create 'Tối, "thứ bảy"; vui' --db "$1" >/dev/null
	"$LOAXA" programme add 'Tối, "thứ bảy"; vui' 1 2 --db "$1" >/dev/null
}
sox -n -r 48000 -c 1 -b 16 "$WORK/a.wav" synth 5 sine 500 vol 0.3
sox -n -r 48000 -c 1 -b 16 "$WORK/b.wav" synth 8 sine 700 vol 0.3
library "$DB"

"$LOAXA" schedule add --at 05:30 --daily --from "$Y-01-01" --until "$Y-03-31" --media 1 \
	--title 'Chiến dịch "cải cách hành chính", đợt 1; 📢' --repeat 3 --gap 600 >/dev/null
"$LOAXA" schedule skip 1 --date "$Y-01-01" >/dev/null
"$LOAXA" schedule move 1 --date "$Y-02-10" --at 07:15:30 >/dev/null
"$LOAXA" schedule add --at 19:30 --days sat --programme 'Tối, "thứ bảy"; vui' --priority priority \
	--title "$(printf 'Hai\ndòng')" --resume skip >/dev/null
"$LOAXA" schedule add --at 12:00 --monthly 31 --media 2 --disabled >/dev/null
"$LOAXA" schedule add --at 23:59:59 --date "$Y-12-31" --media 2 --priority emergency >/dev/null

check "export to a file" "$LOAXA" schedule export --output "$WORK/one.csv"
check "  starts with a UTF-8 byte order mark" test "$(head -c 3 "$WORK/one.csv" | od -An -tx1 | tr -d ' ')" = efbbbf
check "  lines end CRLF" test "$(head -1 "$WORK/one.csv" | od -An -c | grep -c '\\r')" = 1
check "  no partial file left" test ! -e "$WORK/one.csv.partial"
python3 - "$WORK/one.csv" <<'PYTHON' >"$WORK/parsed"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig", newline="")))
print(len(rows))
print(rows[0]["title"])
print(rows[0]["skip"], rows[0]["move"])
print(repr(rows[1]["title"]), rows[1]["programme"], rows[1]["days"])
print(rows[2]["enabled"], rows[2]["month_day"])
PYTHON
check "a CSV reader sees 4 rows" test "$(sed -n 1p "$WORK/parsed")" = 4
check "  the title exactly" test "$(sed -n 2p "$WORK/parsed")" = 'Chiến dịch "cải cách hành chính", đợt 1; 📢'
check "  skips and moves" test "$(sed -n 3p "$WORK/parsed")" = "$Y-01-01 $Y-02-10T07:15:30"
check "  a line break inside a title, the programme by name" test "$(sed -n 4p "$WORK/parsed")" = "'Hai\\ndòng' Tối, \"thứ bảy\"; vui sat"
check "  disabled and monthly" test "$(sed -n 5p "$WORK/parsed")" = "no 31"

# into a second database and out again: the same bytes
OTHER=$WORK/other.db
library "$OTHER"
check "it runs" run_ok "$LOAXA" schedule import "$WORK/one.csv" --db "$OTHER"
check "import says how many" grep -q "imported 4 events from" "$WORK/out"
"$LOAXA" schedule export --db "$OTHER" >"$WORK/two.csv"
check "export → import → export is exact" cmp "$WORK/one.csv" "$WORK/two.csv"
check "  the rundown agrees" test "$("$LOAXA" schedule show "$Y-02-10" --json --db "$OTHER" | md5sum)" \
	= "$("$LOAXA" schedule show "$Y-02-10" --json | md5sum)"
"$LOAXA" schedule export --semicolon --no-bom --db "$OTHER" >"$WORK/semi.csv"
check "semicolons, no BOM" test "$(head -c 18 "$WORK/semi.csv")" = "title;at;recurrenc"
check "importing it again is refused: every row collides" \
	bash -c "! '$LOAXA' schedule import '$WORK/semi.csv' --db '$OTHER' 2>/dev/null"
check "it runs" run_ok "$LOAXA" schedule import "$WORK/semi.csv" --replace --db "$OTHER"
check "--replace with the semicolon file" grep -q "the timetable was replaced" "$WORK/out"
"$LOAXA" schedule export --db "$OTHER" >"$WORK/three.csv"
check "  still the same timetable" cmp "$WORK/one.csv" "$WORK/three.csv"
"$LOAXA" schedule export --from "$Y-04-01" --until "$Y-12-31" >"$WORK/range.csv"
check "export --from/--until leaves out the first-quarter campaign" bash -c "! grep -q 'Chiến dịch' '$WORK/range.csv'"
check "  and keeps the rest" test "$(python3 -c "import csv,sys; print(len(list(csv.reader(open(sys.argv[1], encoding='utf-8-sig')))))" "$WORK/range.csv")" = 4

# as a spreadsheet saves it: semicolons, LF, Excel's d/m/yyyy, columns reordered
printf 'At;Title;Recurrence;Date;Media\n6:05;"Thông báo; họp xóm";once;3/4/%s;1\n\n7:00;"Hai\r\ndòng ""trích""";once;04/04/%s;2\n' "$Y" "$Y" >"$WORK/excel.csv"
before=$(sql "SELECT count(*) FROM event")
check "it runs" run_ok "$LOAXA" schedule import "$WORK/excel.csv" --operator "Anh Tuấn"
check "a hand-made sheet imports 2 rows" test "$(sql "SELECT count(*) FROM event")" = $((before + 2))
check "  dates and times read" test "$(sql "SELECT on_date, start_second FROM event WHERE title = 'Thông báo; họp xóm'")" = "$Y-04-03|21900"
check "  quotes and line breaks kept" test "$(sql "SELECT count(*) FROM event WHERE title = 'Hai' || char(13, 10) || 'dòng \"trích\"'")" = 1

# the shipped example: a commune's week
EXAMPLE=$WORK/example.db
"$LOAXA" init --db "$EXAMPLE" >/dev/null
for n in 1 2 3; do
	sox -n -r 48000 -c 1 -b 16 "$WORK/example$n.wav" synth $((n + 2)) sine $((300 * n)) vol 0.3
	"$LOAXA" media import "$WORK/example$n.wav" --db "$EXAMPLE" >/dev/null 2>&1
done
"$LOAXA" programme create "Thời sự sáng" --db "$EXAMPLE" >/dev/null
"$LOAXA" programme add "Thời sự sáng" 1 2 --db "$EXAMPLE" >/dev/null
"$LOAXA" programme create "Nông nghiệp; khuyến nông" --db "$EXAMPLE" >/dev/null
"$LOAXA" programme add "Nông nghiệp; khuyến nông" 3 --db "$EXAMPLE" >/dev/null
check "the example timetable imports" run_ok "$LOAXA" schedule import "$ROOT/schedules/examples/commune-timetable.csv" --db "$EXAMPLE"
check "  all 7 rows" grep -q "imported 7 events" "$WORK/out"
"$LOAXA" schedule export --db "$EXAMPLE" --output "$WORK/example-out.csv"
check "  and exports back to the same file" cmp "$ROOT/schedules/examples/commune-timetable.csv" "$WORK/example-out.csv"

# refusals: line and reason, nothing imported
snapshot() { sqlite3 "$DB" "SELECT * FROM event; SELECT * FROM event_exception; SELECT count(*) FROM audit;" | md5sum; }
bad() {   # bad PATTERN CSV-TEXT
	printf '%b' "$2" >"$WORK/bad.csv"
	local before
	before=$(snapshot)
	expect_status 1 "$1" "$LOAXA" schedule import "$WORK/bad.csv"
	grep -q "nothing imported" "$WORK/err" && [ "$(snapshot)" = "$before" ] && pass "  nothing imported" \
		|| fail "  something was imported"
}
H='title,at,recurrence,date,media\r\n'
bad "line 3: at: '25:61' is not a time of day" "${H}ok,08:00,once,$Y-05-01,1\r\nx,25:61,once,$Y-05-01,1\r\n"
bad "line 2: date: '$Y-02-30' is not a real date" "${H}x,08:00,once,$Y-02-30,1\r\n"
bad "line 4: a quoted field is not closed" "${H}ok,08:00,once,$Y-05-01,1\r\nok2,09:00,once,$Y-05-01,1\r\n\"never closed,08:00\r\n"
bad "line 2: there is no media 77" "${H}x,08:00,once,$Y-05-01,77\r\n"
bad "line 3: conflict on $Y-05-01: 08:00:02–08:00:07 overlaps the row on line 2" "${H}a,08:00,once,$Y-05-01,1\r\nb,08:00:02,once,$Y-05-01,1\r\n"
bad "line 2: conflict on $Y-01-02: 05:30:00–05:30:05 overlaps event 1" "${H}a,05:30,once,$Y-01-02,1\r\n"
bad "line 1: unknown column 'colour'" "title,at,colour\r\n"
bad "line 2: more fields than the header" "${H}a,08:00,once,$Y-05-01,1,extra\r\n"
bad "the file is empty" ""
expect_status 1 "cannot read $WORK/missing.csv" "$LOAXA" schedule import "$WORK/missing.csv"
expect_status 2 "needs one CSV file" "$LOAXA" schedule import
finish
