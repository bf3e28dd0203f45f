#!/bin/bash
# Nobody can hold the control socket (docs/control-protocol.md, "Limits"):
#   1. the limits the document states are those of scheduler/control.h;
#   2. while 16 clients trickle one byte a second and 100 connect and say
#      nothing (reconnecting whenever dropped, from 29 processes),
#      `loaxa emergency` and `loaxa status` are answered and the emergency
#      is on the tape within the latency it has without them; no hostile
#      connection lives past the request deadline;
#   3. a request trickled alone is dropped at its deadline (from its first
#      byte, not reset by each byte), an idle connection at its idle
#      timeout; one process's fifth connection takes the place of its
#      first; an oversized line gets one answer and the connection goes on
#      in step; a line of exactly the limit is served;
#   4. out of file descriptors, the station waits for one without
#      spinning, then serves the connection that waited.
source "$(dirname "$0")/lib.sh"

header=$ROOT/scheduler/control.h
doc=$ROOT/docs/control-protocol.md
limit() { awk -v name="CONTROL_$1" '$1 == "#define" && $2 == name { print $3 }' "$header"; }
max_line=$(limit MAX_LINE)
request_ms=$(limit REQUEST_MS)
idle_ms=$(limit IDLE_MS)
per_peer=$(limit MAX_PER_PEER)

# 1. every limit in the header has its row in the document, with its value
while read -r name value; do
	check "the protocol document states $name = $value" \
		grep -Eq "^\|[^|]*\| *$value( [a-z]+)? *\| *\`$name\` *\|\$" "$doc"
done < <(awk '$1 == "#define" && $2 ~ /^CONTROL_/ && $2 != "CONTROL_PROTOCOL_VERSION" { print $2, $3 }' "$header")

sox -n -r 48000 -c 1 -b 16 "$WORK/storm.wav" synth 0.8 sine 2000 vol 0.5
sox -n -r 48000 -c 1 -b 16 "$WORK/flood.wav" synth 0.6 sine 3000 vol 0.5
"$LOAXA" init >/dev/null
storm=$("$LOAXA" media import "$WORK/storm.wav" --title "storm" 2>/dev/null)
flood=$("$LOAXA" media import "$WORK/flood.wav" --title "flood" 2>/dev/null)
TAPE=$WORK/tape.wav
start_serve "$CARD:TAPE=$TAPE"
SOCKET=$WORK/loaxa.sock
check "the station answers on its socket" wait_for 10 test -S "$SOCKET"
sleep 1
now_ns() { date +%s%N; }

# the usual latency: an emergency with nobody else on the socket
t0=$(now_ns)
check "an emergency with the socket quiet is answered" "$LOAXA" emergency --media "$flood"
sleep 1.5

# 2. the siege
cat >"$WORK/siege.py" <<'PYTHON'
import json, os, select, socket, sys, time
path, seconds, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
SLOW_PROCESSES, SILENT_PROCESSES, PER_PROCESS = 4, 25, 4
end = time.monotonic() + seconds

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(path)
    except OSError:
        s.close()
        return None
    s.setblocking(False)
    return s

def closed(s):
    # True once the station closed it (any data counts too: it is recorded)
    try:
        data = s.recv(4096)
    except BlockingIOError:
        return False, b""
    except OSError:
        return True, b""
    return (not data), data

def run(kind, number):
    # PER_PROCESS connections, each trickling one byte a second (slow) or
    # silent; a dropped one is replaced at once (slow) or after 1 s
    line = b'{"v":1,"cmd":"status"}\n'
    conns, records, retry_at = {}, [], {}
    def open_one(k):
        s = connect()
        if s is None:
            retry_at[k] = time.monotonic() + 0.1
            return
        conns[k] = {"s": s, "connected": time.monotonic(), "sent": 0, "next": time.monotonic(), "data": b""}
    for k in range(PER_PROCESS):
        open_one(k)
    while time.monotonic() < end:
        now = time.monotonic()
        for k, when in list(retry_at.items()):
            if now >= when:
                del retry_at[k]
                open_one(k)
        for k, c in list(conns.items()):
            if kind == "slow" and now >= c["next"]:
                try:
                    c["s"].send(line[c["sent"] % len(line):][:1])
                    c["sent"] += 1
                except OSError:
                    pass
                c["next"] += 1.0
        socks = [c["s"] for c in conns.values()]
        readable = select.select(socks, [], [], 0.05)[0] if socks else (time.sleep(0.05) or [])
        for k, c in list(conns.items()):
            if c["s"] not in readable:
                continue
            gone, data = closed(c["s"])
            c["data"] += data
            if gone:
                records.append({"kind": kind, "lived_s": time.monotonic() - c["connected"],
                                "bytes_sent": c["sent"], "answered": bool(c["data"])})
                c["s"].close()
                del conns[k]
                if kind == "slow":
                    open_one(k)
                else:
                    retry_at[k] = time.monotonic() + 1.0
    for c in conns.values():
        records.append({"kind": kind, "lived_s": time.monotonic() - c["connected"], "open": True,
                        "bytes_sent": c["sent"], "answered": bool(c["data"])})
    with open("%s.%s.%d" % (out, kind, number), "w") as f:
        json.dump(records, f)

children = []
for kind, count in (("slow", SLOW_PROCESSES), ("silent", SILENT_PROCESSES)):
    for number in range(count):
        pid = os.fork()
        if pid == 0:
            try:
                run(kind, number)
            finally:
                os._exit(0)
        children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
PYTHON
siege_s=10
python3 "$WORK/siege.py" "$SOCKET" "$siege_s" "$WORK/siege" &
SIEGE=$!
sleep 3   # every slow client has sent bytes; the table is full
t1=$(now_ns)
"$LOAXA" emergency --media "$storm" --reason "siege" --json >"$WORK/e1.json" || true
t1_answered=$(now_ns)
check "under siege the emergency is answered ($(( (t1_answered - t1) / 1000000 )) ms)" \
	test "$(json_field "$WORK/e1.json" "d['ok']")" = True
sleep 0.3
t2=$(now_ns)
"$LOAXA" status --json >"$WORK/status.json" || true
t2_answered=$(now_ns)
check "under siege status is answered ($(( (t2_answered - t2) / 1000000 )) ms) and shows the emergency" \
	test "$(json_field "$WORK/status.json" "d['on_air']['title']")" = storm
wait "$SIEGE"
python3 - "$WORK" "$request_ms" <<'PYTHON' >"$WORK/siege.verdicts"
import glob, json, sys
work, request_s = sys.argv[1], int(sys.argv[2]) / 1000
records = [r for name in glob.glob(work + "/siege.*.*") for r in json.load(open(name))]
def say(ok, text): print(("PASS " if ok else "FAIL ") + text)
for kind, want in (("slow", 16), ("silent", 100)):
    mine = [r for r in records if r["kind"] == kind]
    dropped = [r for r in mine if not r.get("open")]
    longest = max((r["lived_s"] for r in mine), default=0)
    print(f"measured: {kind}: {len(mine)} connections, {len(dropped)} dropped, longest {longest:.2f} s")
    say(len(dropped) >= want, f"{kind} clients are dropped ({len(dropped)} drops, at least {want})")
    say(longest <= request_s + 1.5, f"no {kind} connection lived past the request deadline ({longest:.2f} s, deadline {request_s:.1f} s)")
    say(not any(r["answered"] for r in mine), f"no {kind} connection got an answer")
PYTHON
cat "$WORK/siege.verdicts"
record_verdicts "$WORK/siege.verdicts"

# 3. one at a time: the deadlines, the share of a process, the long lines
python3 - "$SOCKET" "$max_line" "$per_peer" >"$WORK/probes.out" <<'PYTHON'
import json, select, socket, sys, time
path, max_line, per_peer = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def connect():
    s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(path); return s
def lines(s, want, wait=1.0):
    # reads answers until want lines, then wait s more for any extra
    data, deadline = b"", time.monotonic() + 10
    while data.count(b"\n") < want and time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = s.recv(1 << 20)
        if not chunk: break
        data += chunk
    if wait > 0:
        s.settimeout(wait)
        try:
            while True:
                chunk = s.recv(1 << 20)
                if not chunk: break
                data += chunk
        except socket.timeout:
            pass
    return [json.loads(x) for x in data.split(b"\n") if x]
def until_closed(s, started, trickle=False):
    # seconds from started until the station closes s; trickles a byte a second
    s.setblocking(False)
    line, sent = b'{"v":1,"cmd":"status"}\n', 0
    while time.monotonic() - started < 15:
        if trickle:
            try: s.send(line[sent:sent + 1]); sent += 1
            except OSError: pass
        if select.select([s], [], [], 1.0)[0]:
            try:
                if not s.recv(4096): return time.monotonic() - started
            except OSError:
                return time.monotonic() - started
    return None
status = b'{"v":1,"cmd":"status"}\n'
# at once: a request trickled from the connection on; one trickled 1.5 s
# after an answer (timed from its first byte); an idle one after an answer
import threading
results = {}
def trickled():
    s = connect()
    results["trickled-dropped-s"] = until_closed(s, time.monotonic(), trickle=True)
def trickled_after_answer():
    s = connect(); s.sendall(status); lines(s, 1, wait=0)
    time.sleep(1.5)
    results["trickled-after-answer-dropped-s"] = until_closed(s, time.monotonic(), trickle=True)
def idle():
    s = connect(); s.sendall(status); answer = lines(s, 1, wait=0)
    results["idle-answered"] = answer[0]["ok"] if answer else None
    results["idle-dropped-s"] = until_closed(s, time.monotonic())
threads = [threading.Thread(target=f) for f in (trickled, trickled_after_answer, idle)]
for t in threads: t.start()
for t in threads: t.join()
for key in sorted(results):
    print(key, "%.2f" % results[key] if isinstance(results[key], float) else results[key])
# one process's connections beyond its share
share = [connect() for _ in range(per_peer + 1)]
time.sleep(0.3)
share[0].settimeout(2)
try: print("first-of-share-closed", share[0].recv(4096) == b"")
except OSError as error: print("first-of-share-closed", type(error).__name__)
for s in share[1:]: s.sendall(status)
print("rest-of-share-answered", [a["ok"] for s in share[1:] for a in lines(s, 1, wait=0)])
# an oversized line (1 MiB), then a request on the same connection
big = connect(); big.sendall(b"x" * (1 << 20) + b"\n" + status)
answers = lines(big, 2)
print("oversized-answers", len(answers))
print("oversized-first", answers[0].get("error") if answers else None)
print("oversized-then", answers[1].get("ok") if len(answers) > 1 else None)
# a status request of exactly the limit, and a line of the limit that is no JSON
exact = connect()
pad = max_line - len(b'{"v":1,"cmd":"status","pad":""}')
exact_line = b'{"v":1,"cmd":"status","pad":"' + b"p" * pad + b'"}'
print("exact-length", len(exact_line))
exact.sendall(exact_line + b"\n" + b"y" * max_line + b"\n" + b"z" * (max_line + 1) + b"\n")
answers = lines(exact, 3)
print("exact-answers", len(answers))
print("exact-status", answers[0].get("ok") if answers else None)
print("exact-junk", answers[1].get("error") if len(answers) > 1 else None)
print("one-over", answers[2].get("error") if len(answers) > 2 else None)
PYTHON
cat "$WORK/probes.out"
probe() { awk -v key="$1" '$1 == key { $1 = ""; sub(/^ /, ""); print }' "$WORK/probes.out"; }
seconds() { awk -v ms="$1" -v plus="$2" 'BEGIN { print ms / 1000 + plus }'; }
# dropped at the deadline: not before, and within a second of the loop's wake
check "a trickled request is dropped at its deadline, $(seconds "$request_ms" 0) s ($(probe trickled-dropped-s) s)" \
	within "$(probe trickled-dropped-s)" "$(seconds "$request_ms" 0.5)" 0.55
check "after an answer, a trickled request is dropped $(seconds "$request_ms" 0) s from its first byte ($(probe trickled-after-answer-dropped-s) s)" \
	within "$(probe trickled-after-answer-dropped-s)" "$(seconds "$request_ms" 0.5)" 0.55
check "the idle connection was answered first" test "$(probe idle-answered)" = True
check "an idle connection is dropped at its idle timeout, $(seconds "$idle_ms" 0) s ($(probe idle-dropped-s) s)" \
	within "$(probe idle-dropped-s)" "$(seconds "$idle_ms" 0.5)" 0.55
check "a process's connection beyond its share takes the place of its first" \
	test "$(probe first-of-share-closed)" = True
check "and its other connections are served" \
	test "$(probe rest-of-share-answered)" = "[$(printf 'True, %.0s' $(seq 2 "$per_peer"))True]"
check "a 1 MiB line gets one answer, and the next request its own ($(probe oversized-answers) answers)" \
	test "$(probe oversized-answers)" = 2 -a "$(probe oversized-then)" = True
check "that answer says the line is too long, at the limit" \
	grep -q "^oversized-first request too long (more than $max_line bytes" "$WORK/probes.out"
check "the test's line is exactly the limit ($(probe exact-length) bytes)" test "$(probe exact-length)" = "$max_line"
check "a request of exactly $max_line bytes is served" test "$(probe exact-status)" = True
check "a line of exactly $max_line bytes is read, not refused as too long" \
	grep -q "^exact-junk malformed request" "$WORK/probes.out"
check "one byte more is too long" grep -q "^one-over request too long" "$WORK/probes.out"
check "each of the three lines got its answer" test "$(probe exact-answers)" = 3

# 4. out of file descriptors: the station may open only two more
ticks() { awk '{ print $14 + $15 }' "/proc/$SERVE_PID/stat"; }
# the lowest limit that leaves two descriptor numbers free
fd_limit=$(ls "/proc/$SERVE_PID/fd" | sort -n | awk '{ used[$1] = 1 } END {
	for (n = 0; free < 2; n++) if (!(n in used)) free++; print n }')
soft_limit=$(prlimit --pid "$SERVE_PID" --nofile --output SOFT --noheadings | tr -d ' ')
prlimit --pid "$SERVE_PID" --nofile="$fd_limit:"
cpu_before=$(ticks)
python3 - "$SOCKET" >"$WORK/emfile.out" <<'PYTHON'
import json, socket, sys, time
path = sys.argv[1]
def connect():
    s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(path); return s
held = [connect(), connect()]          # the two descriptors left, silent
time.sleep(0.3)
started = time.monotonic()
waiting = connect(); waiting.sendall(b'{"v":1,"cmd":"status"}\n')
data = b""
while not data.endswith(b"\n"):
    chunk = waiting.recv(65536)
    if not chunk: break
    data += chunk
print("waited-s %.2f" % (time.monotonic() - started))
print("waited-answer", json.loads(data)["ok"] if data else None)
PYTHON
cpu_ticks=$(( $(ticks) - cpu_before ))
prlimit --pid "$SERVE_PID" --nofile="$soft_limit:"
cat "$WORK/emfile.out"
waited_s=$(awk '$1 == "waited-s" { print $2 }' "$WORK/emfile.out")
check "the connection waiting for a descriptor is served once the held ones go ($waited_s s)" \
	grep -q "^waited-answer True" "$WORK/emfile.out"
check "meanwhile the station did not spin (${cpu_ticks} ticks of CPU in ${waited_s} s)" \
	awk -v t="$cpu_ticks" -v s="${waited_s:-0}" 'BEGIN { exit !(s > 0 && t / 100 < s / 4) }'
check "it says it ran out of descriptors" grep -q "cannot accept a connection: Too many open files" "$WORK/serve.log"
check "the station is still running" kill -0 "$SERVE_PID"
check "serve stops cleanly on SIGTERM" stop_serve

# the tape: each emergency's first sound after its command
"$TAPETOOL" segments "$TAPE" --json >"$WORK/segments.json"
python3 - "$WORK/segments.json" "$t0" "$t1" <<'PYTHON' >"$WORK/tape.verdicts"
import json, sys
segments = json.load(open(sys.argv[1]))
t0, t1 = int(sys.argv[2]), int(sys.argv[3])
def say(ok, text): print(("PASS " if ok else "FAIL ") + text)
def latency_ms(after, hz):
    found = [s for s in segments if s["start_realtime_ns"] >= after and abs(s["freq_hz"] - hz) < hz * 0.02]
    return (found[0]["start_realtime_ns"] - after) / 1e6 if found else None
quiet, siege = latency_ms(t0, 3000), latency_ms(t1, 2000)
print(f"measured: emergency on air {quiet} ms after the command with the socket quiet, {siege} ms under siege")
say(quiet is not None and quiet < 500, f"with the socket quiet the emergency is on air within 500 ms ({quiet} ms)")
say(siege is not None and siege < 500, f"under siege the emergency is on air within 500 ms ({siege} ms)")
PYTHON
cat "$WORK/tape.verdicts"
record_verdicts "$WORK/tape.verdicts"
finish
