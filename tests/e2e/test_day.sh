#!/bin/bash
# A whole day of timetable, from noon to noon across midnight, through a test
# card and a station clock running LOAXA_DAY_SPEED times as fast (default
# 500: the day takes about three minutes). The timetable is a commune's: a
# morning and an evening session (programmes of three items), a campaign
# announcement at a quarter past every hour between two dates, an item that
# runs across midnight and one just after it, and a Saturday announcement
# repeated three times with gaps. At the end every airing of the day has a
# "played" as-run row and a segment on the tape at its instant relative to
# the first; nothing is missed, skipped or aired twice.
#   LOAXA_DAY_HOURS shortens the day (the sanitizer build runs a part of it).
source "$(dirname "$0")/lib.sh"

SPEED=${LOAXA_DAY_SPEED:-500}
HOURS=${LOAXA_DAY_HOURS:-24}
DAY1=2027-01-15            # a Friday
DAY2=2027-01-16            # a Saturday
# the station clock starts a minute before the window, which is centred on
# midnight (noon to noon for a whole day) and ends a minute after it
START_S=$(( $(date -d "$DAY2 00:00:00" +%s) - HOURS * 1800 - 60 ))
START=$(date -d "@$START_S" '+%F %T')
END_S=$(( START_S + HOURS * 3600 + 120 ))

# The media: tones of their own pitch, so the tape tells the items apart
tone() { sox -n -r 44100 -c 1 -b 16 "$WORK/$1.wav" synth "$2" sine "$3" vol 0.5; }
tone jingle 2 500
tone bulletin 6 700
tone campaign 4 900
tone news 5 1100
tone midnight 4 1300
tone newday 2 600
tone saturday 3 1500
"$LOAXA" init >/dev/null
declare -A id
for m in jingle bulletin campaign news midnight newday saturday; do
	id[$m]=$("$LOAXA" media import "$WORK/$m.wav" 2>/dev/null)
done

# The timetable, and what it must air: python prints the commands and the
# expected airings from one list
python3 - "$DAY1" "$DAY2" >"$WORK/timetable.sh" 2>"$WORK/expected.txt" <<'PYTHON'
import sys
day1, day2 = sys.argv[1], sys.argv[2]
lengths = {"jingle": 2, "bulletin": 6, "campaign": 4, "news": 5, "midnight": 4, "newday": 2,
           "saturday": 3}
freq = {"jingle": 500, "bulletin": 700, "campaign": 900, "news": 1100, "midnight": 1300,
        "newday": 600, "saturday": 1500}
cmds, airs = [], []
def air(date, seconds, media):
    airs.append((date, seconds, media))
def hms(s):
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
cmds.append('"$LOAXA" programme create "Bản tin sáng" >/dev/null')
cmds.append('"$LOAXA" programme add "Bản tin sáng" ${id[jingle]} ${id[bulletin]} ${id[campaign]} >/dev/null')
cmds.append('"$LOAXA" programme create "Bản tin chiều" >/dev/null')
cmds.append('"$LOAXA" programme add "Bản tin chiều" ${id[jingle]} ${id[news]} ${id[campaign]} >/dev/null')
# morning session 05:30 and evening session 17:00, daily over both days
for at, prog, items in [(5 * 3600 + 1800, "Bản tin sáng", ["jingle", "bulletin", "campaign"]),
                        (17 * 3600, "Bản tin chiều", ["jingle", "news", "campaign"])]:
    cmds.append(f'"$LOAXA" schedule add --daily --from {day1} --until {day2} --at {hms(at)} '
                f'--programme "{prog}" >/dev/null')
    for date in (day1, day2):
        t = at
        for m in items:
            air(date, t, m)
            t += lengths[m]
# the campaign at a quarter past every hour, between the two dates
for hour in range(24):
    at = hour * 3600 + 900
    cmds.append(f'"$LOAXA" schedule add --daily --from {day1} --until {day2} --at {hms(at)} '
                f'--media ${{id[campaign]}} --title "Cải cách hành chính {hour}h" >/dev/null')
    for date in (day1, day2):
        air(date, at, "campaign")
# across midnight, and just after it
cmds.append(f'"$LOAXA" schedule add --date {day1} --at 23:59:58 --media ${{id[midnight]}} >/dev/null')
air(day1, 86398, "midnight")
cmds.append(f'"$LOAXA" schedule add --date {day2} --at 00:00:05 --media ${{id[newday]}} >/dev/null')
air(day2, 5, "newday")
# Saturdays at 08:00, three times, 10 s apart
cmds.append(f'"$LOAXA" schedule add --days sat --from {day1} --until {day2} --at 08:00:00 '
            f'--media ${{id[saturday]}} --repeat 3 --gap 10 >/dev/null')
for k in range(3):
    air(day2, 8 * 3600 + k * 13, "saturday")
print("\n".join(cmds))
for date, seconds, media in airs:
    print(date, hms(seconds), media, lengths[media], freq[media], file=sys.stderr)
PYTHON
source "$WORK/timetable.sh"
check "the day's timetable is in" test "$("$LOAXA" schedule list | wc -l)" -ge 28

# The station, on a fast clock: 8 kHz mono keeps the tape small. At 500x
# the 64 s buffer is 128 ms of real time for the output thread, and the
# cue-ahead leaves 36 s (72 ms of real time) beyond the buffer to open and
# decode an item before its first frame is written
cat >"$WORK/loaxa.conf" <<EOF
rate = 8000
channels = 1
period_ms = 1000
periods = 64
cue_ahead_ms = 100000
realtime_priority = 0
EOF
echo $(( ($START_S - $(date +%s)) * 1000000000 )) >"$WORK/clock"
export LOAXA_TEST_CLOCK_FILE=$WORK/clock LOAXA_TEST_CLOCK_SPEED=$SPEED
real_start=$(date +%s.%N)
LOAXA_CONFIG=$WORK/loaxa.conf start_serve \
	"loaxatest:TAPE=$WORK/tape.wav,RATE=8000,CHANNELS=1,FORMAT=S16_LE,SPEED=$SPEED"
unset LOAXA_TEST_CLOCK_SPEED
station_s() { python3 -c "print(int($START_S + ($(date +%s.%N) - $real_start) * $SPEED))"; }
echo "running $HOURS h of timetable at ${SPEED}x: about $(( (END_S - $START_S) / SPEED )) s"
while [ "$(station_s)" -lt "$END_S" ]; do
	kill -0 "$SERVE_PID" 2>/dev/null || break
	sleep 2
done
check "the station ran the whole day" kill -0 "$SERVE_PID"
check "serve stops cleanly" stop_serve

sqlite3 -separator ' ' "$DB" "SELECT scheduled_ns, started_ns, status, event_id, part, xruns FROM as_run ORDER BY scheduled_ns, id" >"$WORK/as_run.txt"
"$TAPETOOL" segments "$WORK/tape.wav" --json --min-gap-ms 50 >"$WORK/segments.json"
"$TAPETOOL" info "$WORK/tape.wav" | head -1
python3 - "$WORK/expected.txt" "$WORK/as_run.txt" "$WORK/segments.json" "$START" "$END_S" \
	<<'PYTHON' >"$WORK/verdicts"
import json, os, statistics, sys, time
os.environ["TZ"] = os.environ.get("TZ", "Asia/Ho_Chi_Minh")
time.tzset()
def instant(date, hms):
    return int(time.mktime(time.strptime(f"{date} {hms}", "%Y-%m-%d %H:%M:%S"))) * 10**9
start = instant(*sys.argv[4].split())
end = int(sys.argv[5]) * 10**9
expected = []
for line in open(sys.argv[1]):
    date, hms, media, length, freq = line.split()
    t = instant(date, hms)
    if start + 30 * 10**9 <= t and t + int(length) * 10**9 <= end:
        expected.append((t, media, int(length), int(freq)))
expected.sort()
rows = [line.split() for line in open(sys.argv[2])]
def say(ok, text):
    print(("PASS " if ok else "FAIL ") + text)
# (with nothing expected every check below would pass on nothing)
say(len(expected) > 0, f"the window holds airings to check ({len(expected)})")

# the as-run log: each expected airing played once, nothing else in the window
played = {}
others = []
for scheduled, started, status, event, part, xruns in rows:
    scheduled, started = int(scheduled), int(started)
    if not start <= scheduled <= end:
        continue
    if status == "played":
        played.setdefault(scheduled, []).append(started - scheduled)
    else:
        others.append((scheduled, status))
missing = [e for e in expected if e[0] not in played]
twice = [t for t, v in played.items() if len(v) > 1]
say(not missing, f"every airing of the day played: {len(expected) - len(missing)} of {len(expected)}"
    + (f"; missing {[time.strftime('%d %H:%M:%S', time.localtime(m[0] / 1e9)) for m in missing[:5]]}" if missing else ""))
say(not others, f"no row missed, skipped, failed or interrupted ({others[:5]})")
say(not twice and len(played) == len(expected), f"nothing aired twice or unplanned ({len(played)} rows)")
errors = sorted(abs(v[0]) / 1e6 for v in played.values())
if errors:
    print(f"measured: as-run start error over {len(errors)} airings: median "
          f"{statistics.median(errors):.3f} ms, max {errors[-1]:.3f} ms (station time)")

# the tape: one segment per airing, at its instant relative to the others
# (the tape's clock is the card's, so its origin is the median offset; the
# station may air one more before it is stopped after the window)
seg = json.load(open(sys.argv[3]))
if seg and expected:
    origin = seg[0]["start_realtime_ns"] - expected[0][0]
    seg = [s for s in seg if s["start_realtime_ns"] - origin < end]
    origin = int(statistics.median(s["start_realtime_ns"] - e[0] for s, e in zip(seg, expected)))
say(len(seg) == len(expected), f"{len(expected)} segments on the tape ({len(seg)})")
if seg and expected:
    worst = 0.0
    bad = []
    for s, (t, media, length, freq) in zip(seg, expected):
        error = (s["start_realtime_ns"] - origin - t) / 1e6
        worst = max(worst, abs(error))
        if abs(error) > 50 or abs(s["freq_hz"] - freq) > freq * 0.02 or \
           abs(s["duration_ms"] - length * 1000) > 50:
            bad.append(f"{media} at {time.strftime('%d %H:%M:%S', time.localtime(t / 1e9))}: "
                       f"{error:+.1f} ms, {s['freq_hz']:.0f} Hz, {s['duration_ms']:.1f} ms")
    say(not bad, f"each segment at its instant, pitch and length (worst start {worst:.2f} ms "
        f"from the median spacing){'; ' + '; '.join(bad[:3]) if bad else ''}")
PYTHON
cat "$WORK/verdicts"
record_verdicts "$WORK/verdicts"
echo "  measured: card underruns over the day: $(sed -n 's/^xruns=//p' "$WORK/tape.wav.info")" \
	"(at ${SPEED}x the buffer is $(( 64000 / SPEED )) ms of real time)"
check "the card was never lost" test "$(grep -c "sound device failed" "$WORK/serve.log")" -eq 0
finish
