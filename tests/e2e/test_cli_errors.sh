#!/bin/bash
# Bad input through the `loaxa` binary: each refusal is one clear line, the
# documented exit status (1 refused, 2 usage), and nothing half-written.
source "$(dirname "$0")/lib.sh"

expect_status 1 "loaxa init" "$LOAXA" media list
check "init" "$LOAXA" init
check "init again is harmless" "$LOAXA" init
check "the documented sample configuration is accepted" "$LOAXA" init --config "$ROOT/docs/loaxa.conf.sample"
printf 'device = default\nperiods = many\n' >"$WORK/bad.conf"
expect_status 1 "bad.conf:2: 'periods' must be a whole number" "$LOAXA" init --config "$WORK/bad.conf"
version=$("$LOAXA" init --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["schema_version"])')
check "schema version $version recorded in the file" test "$(sqlite3 "$DB" 'PRAGMA user_version')" = "$version"
check "WAL journal" test "$(sqlite3 "$DB" 'PRAGMA journal_mode')" = wal

sox -n -r 48000 -c 1 -b 16 "$WORK/tone.wav" synth 0.5 sine 700 vol 0.5
media=$("$LOAXA" media import "$WORK/tone.wav")
check "import prints a media id ($media)" test "$media" = 1
check "importing the same content again gives the same id" test "$("$LOAXA" media import "$WORK/tone.wav")" = "$media"
check "one media row" test "$(sqlite3 "$DB" 'SELECT count(*) FROM media')" = 1
stored=$(sqlite3 "$DB" 'SELECT path FROM media')
check "the file is in the library under its hash" test -f "$WORK/loaxa-media/$stored"
check "stored bytes equal the original" cmp -s "$WORK/tone.wav" "$WORK/loaxa-media/$stored"

tomorrow=$(date -d tomorrow +%F)
expect_status 1 "no such file|cannot|not imported" "$LOAXA" media import "$WORK/missing.wav"
printf 'not audio at all\n' >"$WORK/notes.wav"
expect_status 1 "notes.wav: not imported" "$LOAXA" media import "$WORK/notes.wav"
: >"$WORK/empty.mp3"
expect_status 1 "empty.mp3: not imported" "$LOAXA" media import "$WORK/empty.mp3" "$WORK/tone.wav"
check "a bad file among good ones: still one media row" test "$(sqlite3 "$DB" 'SELECT count(*) FROM media')" = 1

expect_status 1 "not a time of day" "$LOAXA" schedule add --at 25:61 --date "$tomorrow" --media "$media"
expect_status 1 "not a time of day" "$LOAXA" schedule add --at 7h30 --date "$tomorrow" --media "$media"
expect_status 1 "not a real date" "$LOAXA" schedule add --at 05:30 --date 2026-02-30 --media "$media"
expect_status 1 "in the past" "$LOAXA" schedule add --at 05:30 --date 2020-01-01 --media "$media"
expect_status 1 "no media 99" "$LOAXA" schedule add --at 05:30 --date "$tomorrow" --media 99
expect_status 1 "not a media id" "$LOAXA" schedule add --at 05:30 --date "$tomorrow" --media abc
expect_status 1 "before --from" "$LOAXA" schedule add --at 05:30 --daily --from 2026-12-10 --until 2026-12-01 --media "$media"
expect_status 2 "exactly one of" "$LOAXA" schedule add --at 05:30 --media "$media"
expect_status 2 "unknown option" "$LOAXA" schedule add --at 05:30 --date "$tomorrow" --media "$media" --colour red
expect_status 2 "unknown command" "$LOAXA" frobnicate
check "no event was written by the refused edits" test "$(sqlite3 "$DB" 'SELECT count(*) FROM event')" = 0

event=$("$LOAXA" schedule add --at 05:30:15 --date "$tomorrow" --media "$media" --title "Bản tin sáng \"đặc biệt\"")
check "a good event is added ($event)" test "$event" = 1
check "title stored exactly" test "$(sqlite3 "$DB" 'SELECT title FROM event')" = 'Bản tin sáng "đặc biệt"'
expect_status 1 "used by" "$LOAXA" media remove "$media"
check "media kept while in use" test "$(sqlite3 "$DB" 'SELECT count(*) FROM media')" = 1
"$LOAXA" schedule show "$tomorrow" >"$WORK/rundown"
check "rundown shows the event at 05:30:15" grep -q "05:30:15" "$WORK/rundown"
"$LOAXA" log --date 2020-01-01 --json >"$WORK/log.json"
check "log of a day with nothing is an empty JSON list" test "$(cat "$WORK/log.json")" = "[]"
expect_status 1 "not a real date" "$LOAXA" log --date 2026-13-01

# A sound device that does not exist: with --no-wait one clear error, exit 1.
expect_status 1 "cannot open sound device 'no_such_card'.*aplay -L" timeout 20 "$LOAXA" serve --no-wait --device no_such_card
# A card that is unplugged (the test card's fault file exists): the same.
touch "$WORK/unplugged"
expect_status 1 "cannot open sound device" timeout 20 "$LOAXA" serve --no-wait --device "loaxatest:TAPE=$WORK/t.wav,FAIL=$WORK/unplugged"
# Without --no-wait the station keeps trying, saying why, and stops cleanly.
start_serve "loaxatest:TAPE=$WORK/t.wav,FAIL=$WORK/unplugged"
check "serve retries a missing card, saying so" wait_for 10 grep -q "cannot open sound device.*retrying in" "$WORK/serve.log"
check "and is still running" kill -0 "$SERVE_PID"
rc=0
stop_serve || rc=$?
check "SIGTERM while waiting for the card ends it cleanly (exit $rc)" test "$rc" -eq 0
expect_status 1 "loaxa init" "$LOAXA" serve --db "$WORK/nothing-here.db" --device null

# Something that is not a socket at the control socket's path: serve
# refuses, naming it, and removes nothing; a stale socket is replaced.
SOCKET=$WORK/loaxa.sock
echo "not a socket" >"$SOCKET"
expect_status 1 "control socket path $SOCKET is a regular file, not a socket; loaxa removes nothing" \
	timeout 20 "$LOAXA" serve --no-wait --device "loaxatest:TAPE=$WORK/t.wav"
check "the file is still there, unchanged" test "$(cat "$SOCKET")" = "not a socket"
rm "$SOCKET"
mkdir "$SOCKET"
expect_status 1 "control socket path $SOCKET is a folder, not a socket" \
	timeout 20 "$LOAXA" serve --no-wait --device "loaxatest:TAPE=$WORK/t.wav"
check "the folder is still there" test -d "$SOCKET"
rmdir "$SOCKET"
echo "kept" >"$WORK/elsewhere"
ln -s "$WORK/elsewhere" "$SOCKET"
expect_status 1 "control socket path $SOCKET is a symbolic link, not a socket" \
	timeout 20 "$LOAXA" serve --no-wait --device "loaxatest:TAPE=$WORK/t.wav"
check "the link and its target are still there" test -L "$SOCKET" -a "$(cat "$WORK/elsewhere")" = kept
rm "$SOCKET"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCKET"
check "a stale socket (bound, nobody listening) is there" test -S "$SOCKET"
start_serve "loaxatest:TAPE=$WORK/t.wav"
check "serve replaces a stale socket and answers there" wait_for 10 "$LOAXA" status
check "serve stops cleanly on SIGTERM" stop_serve

# An unknown time zone would quietly mean UTC, every broadcast 7 h off: the
# commands that use local time refuse it, naming it and what to do.
zone_refused="time zone 'Asia/Hanoii' .* is unknown: there is no zone file /usr/share/zoneinfo/Asia/Hanoii.*Asia/Ho_Chi_Minh"
expect_status 1 "$zone_refused" env TZ=Asia/Hanoii "$LOAXA" schedule show "$tomorrow"
expect_status 1 "$zone_refused" env TZ=Asia/Hanoii "$LOAXA" schedule add --at 06:00 --date "$tomorrow" --media "$media"
expect_status 1 "$zone_refused" env TZ=Asia/Hanoii "$LOAXA" log
expect_status 1 "$zone_refused" env TZ=Asia/Hanoii timeout 20 "$LOAXA" serve --no-wait --device null
check "the refused add wrote nothing" test "$(sqlite3 "$DB" 'SELECT count(*) FROM event')" = 1
printf 'time_zone = Asia/Hanoii\n' >"$WORK/zone.conf"
expect_status 1 "'Asia/Hanoii' \(time_zone in $WORK/zone.conf\) is unknown" "$LOAXA" schedule show --config "$WORK/zone.conf"
# tzdata missing (TZDIR is where the C library looks for zone files)
mkdir -p "$WORK/no-zoneinfo"
expect_status 1 "'Asia/Ho_Chi_Minh' \(the default\) is unknown: there is no zone file $WORK/no-zoneinfo/Asia/Ho_Chi_Minh.*tzdata" \
	env -u TZ TZDIR="$WORK/no-zoneinfo" "$LOAXA" schedule show
# a POSIX TZ string is a known zone, and means what it says (+0700)
sox -n -r 48000 -c 1 -b 16 "$WORK/tone2.wav" synth 0.5 sine 900 vol 0.5
check "TZ=ICT-7 is accepted" env TZ=ICT-7 "$LOAXA" media import "$WORK/tone2.wav" --json
imported=$(sqlite3 "$DB" "SELECT imported_at FROM media WHERE original_name = 'tone2.wav'")
check "and its times are UTC+7 ($imported)" test "${imported: -5}" = "+0700"
start_ns() { env TZ="$1" "$LOAXA" schedule show "$tomorrow" --json | json "d['occurrences'][0]['start_ns']"; }
vietnam_ns=$(start_ns Asia/Ho_Chi_Minh)
check "an event's instant under ICT-7 is the one under Asia/Ho_Chi_Minh ($vietnam_ns)" \
	test -n "$vietnam_ns" -a "$(start_ns ICT-7)" = "$vietnam_ns"
check "UTC0 is accepted, 7 h from it" \
	test -n "$vietnam_ns" -a "$(start_ns UTC0)" = "$(( vietnam_ns + 7 * 3600 * 1000000000 ))"
check "a zone file by absolute path is accepted" env TZ=/usr/share/zoneinfo/Asia/Ho_Chi_Minh "$LOAXA" log --json
check "a full POSIX rule is accepted" env TZ=CET-1CEST,M3.5.0,M10.5.0/3 "$LOAXA" log --json
expect_status 1 "'ICT' \(the environment's TZ\) is unknown" env TZ=ICT "$LOAXA" log
# a command that only asks the station to act now is not held back
expect_status 1 "the station is not running" env TZ=Asia/Hanoii "$LOAXA" stop
finish
