#!/bin/bash
# `loaxa report` on a large as-run log: ROWS rows (100 000) over three years,
# in four categories and forty titles, written through the chain trigger as
# the station writes them. Times the whole command (wall, median of RUNS)
# for one month and for a whole year, against the baseline measured in the
# same run: a plain `sqlite3` GROUP BY of the same rows by category and
# title over the same dates. Targets: a month <= 50 ms, a year <= 300 ms.
#   bench/bench_report.sh [BUILD_DIR] [ROWS] [RUNS]
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
ROWS=${2:-100000}
RUNS=${3:-7}
LOAXA=$BUILD/loaxa
export TZ=Asia/Ho_Chi_Minh LOAXA_CONFIG=/dev/null
WORK=$(mktemp -d)
export LOAXA_DB=$WORK/loaxa.db
trap 'rm -rf "$WORK"' EXIT

"$LOAXA" init >/dev/null
made=$(python3 - "$LOAXA_DB" "$ROWS" <<'PYTHON'
import hashlib, random, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.create_function("loaxa_sha256", 1, lambda t: hashlib.sha256((t or "").encode()).hexdigest(),
                   deterministic=True)
rows, random = int(sys.argv[2]), random.Random(7)
start = time.time()
base = 1704042000 * 10**9            # 2024-01-01 00:00 +07, three years on
day_ns = 86400 * 10**9
categories = ["Cải cách hành chính", "Thời sự", "Nông nghiệp", "An ninh trật tự"]
per_day = max(1, rows // (3 * 365))
statuses = ["played"] * 90 + ["resumed"] * 3 + ["preempted"] * 3 + ["missed"] * 3 + ["failed"]
with db:
    for i in range(rows):
        day, slot = divmod(i, per_day)
        t = base + day * day_ns + (5 * 3600 + slot * 600) * 10**9
        date = time.strftime("%Y-%m-%d", time.gmtime(t // 10**9 + 7 * 3600))
        status = random.choice(statuses)
        length = 300 * 10**9
        started = 0 if status == "missed" else t + 1000
        ended = 0 if status == "missed" else started + (length if status != "preempted" else length // 3)
        title = f"Chương trình {i % 40:02d}"
        db.execute("INSERT INTO as_run (event_id, occurrence_date, part, media_id, title, priority,"
                   " scheduled_ns, started_ns, ended_ns, frames_played, status, category, planned_ns)"
                   " VALUES (?, ?, 0, 1, ?, 0, ?, ?, ?, ?, ?, ?, ?)",
                   (1 + i % 40, date, title, t, started, ended, (ended - started) * 48000 // 10**9,
                    status, categories[i % 4], length))
print(f"{rows} rows over {3 * 365} days in {time.time() - start:.1f} s")
PYTHON
)
echo "made: $made"

median_ms() {   # median_ms COMMAND...: wall time of the whole command, median of RUNS
	python3 - "$RUNS" "$@" <<'PYTHON'
import statistics, subprocess, sys, time
runs, command = int(sys.argv[1]), sys.argv[2:]
times = []
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    times.append((time.perf_counter() - start) * 1000)
print(f"{statistics.median(times):.1f}")
PYTHON
}
group_by() {   # the baseline's SQL over [from, until]
	echo "SELECT category, title, count(*), sum(status IN ('played','resumed')),
	      sum(CASE WHEN ended_ns > started_ns THEN ended_ns - started_ns ELSE 0 END)
	      FROM as_run WHERE occurrence_date BETWEEN '$1' AND '$2' GROUP BY category, title;"
}

"$LOAXA" report --month 2025-06 --json >"$WORK/month.json"
"$LOAXA" report --from 01/01/2025 --until 31/12/2025 --json >"$WORK/year.json"
python3 - "$WORK/month.json" "$WORK/year.json" <<'PYTHON'
import json, sys
for path in sys.argv[1:]:
    d = json.load(open(path))
    print(f"  {path.rsplit('/', 1)[1]}: {d['totals']['planned']:.0f} airings planned, "
          f"{len(d['categories'])} categories, {len(d['days'])} days")
PYTHON

month_ms=$(median_ms "$LOAXA" report --month 2025-06 --json)
month_base=$(median_ms sqlite3 "$LOAXA_DB" "$(group_by 2025-06-01 2025-06-30)")
year_ms=$(median_ms "$LOAXA" report --from 01/01/2025 --until 31/12/2025 --json)
year_base=$(median_ms sqlite3 "$LOAXA_DB" "$(group_by 2025-01-01 2025-12-31)")
text_ms=$(median_ms "$LOAXA" report --month 2025-06)
verify_ms=$(median_ms "$LOAXA" log verify)
printf "report --month (json)     %8.1f ms   sqlite3 GROUP BY baseline %8.1f ms   target <= 50 ms\n" \
	"$month_ms" "$month_base"
printf "report --month (text)     %8.1f ms\n" "$text_ms"
printf "report, a year (json)     %8.1f ms   sqlite3 GROUP BY baseline %8.1f ms   target <= 300 ms\n" \
	"$year_ms" "$year_base"
printf "log verify, %d rows   %8.1f ms\n" "$ROWS" "$verify_ms"
awk -v m="$month_ms" -v y="$year_ms" 'BEGIN {
	if (m > 50 || y > 300) { print "TARGET MISSED"; exit 1 } print "targets met" }'
