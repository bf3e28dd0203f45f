#!/bin/bash
# `loaxa report` counts what the as-run log says happened, on a station run
# on the paced test card with events in two categories:
#   - "CCHC sáng" and "Thời sự" air whole;
#   - "CCHC trưa" (policy resume) is cut by an emergency and resumed: aired;
#   - "Thời sự chiều" (policy skip) is cut by an emergency: partial;
#   - "CCHC tối" falls while the station is stopped: missed;
#   - a manual `loaxa play` and the two emergencies are listed apart.
# Then: --json counts exactly those; --format csv (with a BOM, ';') parses
# with Python's csv module to the same numbers; the text is Vietnamese with
# dd/mm/yyyy dates; and the report is byte-identical after every event and
# media item behind it is removed.
source "$(dirname "$0")/lib.sh"

sox -n -r 48000 -c 1 -b 16 "$WORK/short.wav" synth 1.0 sine 600 vol 0.5
sox -n -r 48000 -c 1 -b 16 "$WORK/long.wav" synth 3.0 sine 900 vol 0.5
sox -n -r 48000 -c 1 -b 16 "$WORK/storm.wav" synth 0.5 sine 2000 vol 0.5
"$LOAXA" init >/dev/null
cchc=$("$LOAXA" media import "$WORK/short.wav" --title "cchc" --category "Cải cách hành chính" 2>/dev/null)
cchc_long=$("$LOAXA" media import "$WORK/long.wav" --title "cchc dài" --category "Cải cách hành chính" 2>/dev/null)
news=$("$LOAXA" media import "$WORK/short.wav" --title "tin" --category "Thời sự" 2>/dev/null || true)
# the same audio twice is one media item: a second file for the news
sox -n -r 48000 -c 1 -b 16 "$WORK/news.wav" synth 1.0 sine 700 vol 0.5
news=$("$LOAXA" media import "$WORK/news.wav" --title "tin" --category "Thời sự" 2>/dev/null)
sox -n -r 48000 -c 1 -b 16 "$WORK/news-long.wav" synth 3.0 sine 1100 vol 0.5
news_long=$("$LOAXA" media import "$WORK/news-long.wav" --title "tin dài" --category "Thời sự" 2>/dev/null)
storm=$("$LOAXA" media import "$WORK/storm.wav" --title "bão" 2>/dev/null)
check "five media imported" test -n "$cchc" -a -n "$cchc_long" -a -n "$news" -a -n "$news_long" -a -n "$storm"

base=$(( $(date +%s) + 4 ))
at_arg() { echo --date "$(date -d @"$1" +%F)" --at "$(date -d @"$1" +%T)"; }
# shellcheck disable=SC2046
{
	"$LOAXA" schedule add $(at_arg $((base + 2))) --media "$cchc" --title "CCHC sáng"
	"$LOAXA" schedule add $(at_arg $((base + 4))) --media "$news" --title "Thời sự"
	"$LOAXA" schedule add $(at_arg $((base + 6))) --media "$cchc_long" --resume resume --title "CCHC trưa"
	"$LOAXA" schedule add $(at_arg $((base + 11))) --media "$news_long" --resume skip --title "Thời sự chiều"
	"$LOAXA" schedule add $(at_arg $((base + 17))) --media "$cchc" --title "CCHC tối"
} >/dev/null
until_s() { while [ "$(date +%s%N)" -lt $(( (base + $1) * 1000000000 )) ]; do sleep 0.01; done; }

start_serve "loaxatest:TAPE=$WORK/tape.wav"
check "the station starts" wait_for 10 test -S "$WORK/loaxa.sock"
until_s 7
"$LOAXA" emergency --media "$storm" --reason "bão số 9" >/dev/null
until_s 12
"$LOAXA" emergency --media "$storm" --reason "lũ" >/dev/null
until_s 15
rc=0
stop_serve || rc=$?
check "stopped before 'CCHC tối' (exit $rc)" test "$rc" -eq 0
until_s 19
start_serve "loaxatest:TAPE=$WORK/tape.wav,APPEND=true"
check "the station starts again after it" wait_for 10 test -S "$WORK/loaxa.sock"
until_s 20
"$LOAXA" play --media "$news" >/dev/null
until_s 22
rc=0
stop_serve || rc=$?
check "and stops (exit $rc)" test "$rc" -eq 0
sqlite3 -header "$DB" "SELECT title, category, status, planned_ns, frames_played, detail FROM as_run ORDER BY id"

from=$(date -d @$base +%d/%m/%Y)
until=$(date -d @$((base + 30)) +%d/%m/%Y)
"$LOAXA" report --from "$from" --until "$until" --json >"$WORK/report.json"
"$LOAXA" report --from "$from" --until "$until" --format csv --separator ';' >"$WORK/report.csv"
"$LOAXA" report --from "$from" --until "$until" >"$WORK/report.txt"
cat "$WORK/report.txt"
python3 - "$WORK/report.json" "$WORK/report.csv" <<'PYTHON' >"$WORK/verdicts"
import csv, io, json, sys
report = json.load(open(sys.argv[1]))
raw = open(sys.argv[2], "rb").read()
def say(ok, text): print(("PASS " if ok else "FAIL ") + text)
cats = {c["category"]: c for c in report["categories"]}
say(set(cats) == {"Cải cách hành chính", "Thời sự"}, f"two categories ({sorted(cats)})")
def counts(o): return (o["planned"], o["aired"], o["partial"], o["missed"], o["failed"])
want = {
    ("Cải cách hành chính", "CCHC sáng"): (1, 1, 0, 0, 0),
    ("Cải cách hành chính", "CCHC trưa"): (1, 1, 0, 0, 0),
    ("Cải cách hành chính", "CCHC tối"): (1, 0, 0, 1, 0),
    ("Thời sự", "Thời sự"): (1, 1, 0, 0, 0),
    ("Thời sự", "Thời sự chiều"): (1, 0, 1, 0, 0),
}
got = {(c["category"], t["title"]): counts(t) for c in report["categories"] for t in c["titles"]}
for key, value in want.items():
    say(got.get(key) == value, f"{key[1]}: planned/aired/partial/missed/failed {got.get(key)} (want {value})")
say(set(got) == set(want), f"no other titles ({sorted(set(got) - set(want))})")
say(counts(cats.get("Cải cách hành chính", {"planned": 0, "aired": 0, "partial": 0, "missed": 0, "failed": 0})) == (3, 2, 0, 1, 0),
    "the category sums its titles (3 planned, 2 aired, 1 missed)")
say(counts(report["totals"]) == (5, 3, 1, 1, 0), f"the totals: {counts(report['totals'])}")
cchc_seconds = cats.get("Cải cách hành chính", {}).get("seconds_aired", 0)
say(abs(cchc_seconds - 4.0) < 0.1, f"seconds aired of the category: {cchc_seconds} (1 s + 3 s)")
manual = report["manual"]
say(len(manual) == 3, f"the manual broadcasts listed apart: {len(manual)}")
reasons = sorted(m["reason"] for m in manual)
say(reasons == ["", "bão số 9", "lũ"], f"with their reasons: {reasons}")
say(all(m["triggered_by"] for m in manual), "and who triggered them")
say(sum(d["planned"] for d in report["days"]) == 5, "the days add up to the planned airings")
# the CSV: BOM, one header row, ';', the same numbers
say(raw.startswith(b"\xef\xbb\xbf"), "the CSV begins with a UTF-8 BOM")
rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
say(rows[0][:3] == ["Loại", "Chuyên mục", "Chương trình"], f"one header row ({rows[0][:3]})")
from_csv = {(r[1], r[2]): tuple(int(x) for x in r[3:8]) for r in rows[1:] if r[0] == "chương trình"}
say(from_csv == got, "the CSV has the JSON's numbers")
total = [r for r in rows[1:] if r[0] == "tổng cộng"]
say(len(total) == 1 and tuple(int(x) for x in total[0][3:8]) == (5, 3, 1, 1, 0), "and its totals")
PYTHON
cat "$WORK/verdicts"
record_verdicts "$WORK/verdicts"
check "the text has the Vietnamese heading" grep -q "BÁO CÁO KẾT QUẢ PHÁT THANH" "$WORK/report.txt"
check "and the period as dd/mm/yyyy" grep -q "Từ ngày $from đến ngày $until" "$WORK/report.txt"
check "durations in giờ/phút/giây" grep -q "giây" "$WORK/report.txt"
"$LOAXA" report --from "$from" --until "$until" --lang en >"$WORK/report-en.txt"
check "--lang en: the English heading" grep -q "^BROADCAST REPORT" "$WORK/report-en.txt"
check "  the same figures" grep -Eq "^  TOTAL +5 +3 +1 +1 +0 +60.0%" "$WORK/report-en.txt"
check "  no Vietnamese words of its own" bash -c "! grep -Eq 'Chuyên mục|TỔNG CỘNG|giây' '$WORK/report-en.txt'"
expect_status 2 "--lang is vi" "$LOAXA" report --month 2026-12 --lang fr

# the timetable and the library emptied: the report is the same
for id in $("$LOAXA" schedule list --json | python3 -c "import json,sys; print(' '.join(str(e['id']) for e in json.load(sys.stdin)))"); do
	"$LOAXA" schedule remove "$id" >/dev/null
done
for id in "$cchc" "$cchc_long" "$news" "$news_long" "$storm"; do
	"$LOAXA" media remove "$id" --force >/dev/null
done
check "every event is removed" test "$(sqlite3 "$DB" "SELECT count(*) FROM event")" = 0
check "every media item is removed" test "$(sqlite3 "$DB" "SELECT count(*) FROM media")" = 0
"$LOAXA" report --from "$from" --until "$until" --json >"$WORK/report-after.json"
"$LOAXA" report --from "$from" --until "$until" >"$WORK/report-after.txt"
check "the JSON report is byte-identical after" cmp "$WORK/report.json" "$WORK/report-after.json"
check "the text report is byte-identical after" cmp "$WORK/report.txt" "$WORK/report-after.txt"

# the HTML form, printed to PDF by headless Chromium as an office would
printf 'station_name = Đài truyền thanh xã Hòa Bình\norganisation = UBND xã Hòa Bình\n' \
	>"$WORK/station.conf"
"$LOAXA" report --from "$from" --until "$until" --format html --config "$WORK/station.conf" \
	>"$WORK/report.html"
check "the HTML page is one self-contained document" \
	bash -c "grep -q '^<!DOCTYPE html>' '$WORK/report.html' && ! grep -Eq '(src|href)=' '$WORK/report.html'"
if command -v chromium >/dev/null; then
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$WORK/chromium" --no-pdf-header-footer \
		--print-to-pdf="$WORK/report.pdf" "file://$WORK/report.html" >"$WORK/chromium.log" 2>&1 || true
	pages=$(pdfinfo "$WORK/report.pdf" 2>/dev/null | sed -n 's/^Pages: *//p')
	check "Chromium prints it to a PDF (${pages:-no} page(s))" test "${pages:-0}" -ge 1
	check "of A4 pages" grep -q "(A4)" <(pdfinfo "$WORK/report.pdf" 2>/dev/null)
	pdftotext "$WORK/report.pdf" "$WORK/report-pdf.txt" 2>/dev/null || true
	for words in "BÁO CÁO" "Kết quả phát thanh từ ngày $from đến ngày $until" "CCHC trưa" \
		"Thời sự chiều" "HÒA BÌNH" "NGƯỜI LẬP BÁO CÁO" \
		"$(json_field "$WORK/report.json" "d['chain']['head'][:16]")"; do
		check "the PDF says '$words'" grep -qF "$words" <(tr '\n' ' ' <"$WORK/report-pdf.txt")
	done
else
	fail "chromium is not installed (make deps installs it): the printed report is not checked"
fi

# `loaxa log` over the period, by category and status, as CSV
"$LOAXA" log --from "$from" --until "$until" --category "Thời sự" --format csv --separator ';' \
	>"$WORK/log.csv"
python3 - "$WORK/log.csv" <<'PYTHON' >"$WORK/log-verdicts"
import csv, sys
raw = open(sys.argv[1], "rb").read()
rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
def say(ok, text): print(("PASS " if ok else "FAIL ") + text)
say(raw.startswith(b"\xef\xbb\xbf") and rows[0][:3] == ["id", "date", "scheduled"], "log CSV: BOM and header")
got = [(r[8], r[6]) for r in rows[1:]]
say(got == [("Thời sự", "played"), ("Thời sự chiều", "preempted"), ("Thời sự chiều", "skipped")],
    f"log --category: the news rows only ({got})")
say(all(r[9] == "Thời sự" for r in rows[1:]), "each with its category")
PYTHON
record_verdicts "$WORK/log-verdicts"
"$LOAXA" log --from "$from" --until "$until" --status missed --json >"$WORK/missed.json"
check "log --status missed: 'CCHC tối' alone" \
	test "$(json_field "$WORK/missed.json" "[r['title'] for r in d]")" = "['CCHC tối']"
expect_status 2 "'lost' is not a status" "$LOAXA" log --status lost
expect_status 2 "either --date or --from" "$LOAXA" log --date "$from" --from "$from" --until "$until"

# the chain: the report names its head, `log verify` vouches for it, and
# names the row after each edit made behind the station's back
head=$(json_field "$WORK/report.json" "d['chain']['head']")
check "the report carries the chain's head ($head)" grep -Eq '^[0-9a-f]{64}$' <<<"$head"
check "the text prints it" grep -q "$head" "$WORK/report.txt"
check "and the CSV" grep -q "$head" "$WORK/report.csv"
"$LOAXA" log verify --json >"$WORK/verify.json" || true
check "log verify: intact, with the same head" \
	test "$(json_field "$WORK/verify.json" "(d['ok'], d['head'] == '$head')")" = "(True, True)"
cp "$DB" "$WORK/pristine.db"
tampered() {   # tampered SQL WANTED: log verify fails and names it
	cp "$WORK/pristine.db" "$DB"
	rm -f "$DB-wal" "$DB-shm"
	sqlite3 "$DB" "$1"
	expect_status 1 "$2" "$LOAXA" log verify
}
tampered "UPDATE as_run SET frames_played = frames_played + 1 WHERE id = 3" "row 3 .* was changed"
tampered "DELETE FROM as_run WHERE id = 4" "1 row\(s\) before row 5 .* were removed"
last=$(sqlite3 "$WORK/pristine.db" "SELECT max(id) FROM as_run")
tampered "DELETE FROM as_run WHERE id = $last" "the last 1 row\(s\) of the as-run log were removed"
cp "$WORK/pristine.db" "$DB"
refused=0
sqlite3 "$DB" "INSERT INTO as_run (title, priority, status) VALUES ('forged', 0, 'played')" \
	2>/dev/null || refused=1
check "a row inserted through the sqlite3 shell is refused (the chain needs the station)" \
	test $refused = 1
tampered "DROP TRIGGER as_run_chain_insert;
	INSERT INTO as_run (title, priority, status) VALUES ('forged', 0, 'played')" \
	"row [0-9]+ \('forged'\) was inserted into the as-run log by something other than the station"
cp "$WORK/pristine.db" "$DB"

# bad input
expect_status 1 "'2026-13' is not a month" "$LOAXA" report --month 2026-13
expect_status 1 "'31/02/2026' is not a real date" "$LOAXA" report --from 31/02/2026 --until 01/03/2026
expect_status 1 "ends \(01/12/2026\) before it begins" "$LOAXA" report --from 02/12/2026 --until 01/12/2026
expect_status 2 "say which period" "$LOAXA" report
expect_status 2 "text or csv" "$LOAXA" report --month 2026-12 --format pdf
finish
