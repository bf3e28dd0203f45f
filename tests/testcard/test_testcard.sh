#!/usr/bin/env bash
# test_testcard.sh BUILD_DIR — tests the instrument itself: the paced test card
# (libasound_module_pcm_loaxatest.so + testcard.conf) and tapetool, all from
# BUILD_DIR. Plays generated tones through aplay and through card_harness.c
# (compiled here into a temporary directory), then measures the tapes with
# tapetool: content, frequency, length, position in wall-clock time, pacing,
# underrun, rewind (taken back on the default card, not on the server-mode
# card), drop, pause, poll, mmap, status/delay, unplug, SIGKILL, format
# restriction. Prints each measured figure and ends with
# "N passed, N failed"; exits non-zero if any check failed.
set -euo pipefail

BUILD_DIR=$(cd "${1:?usage: test_testcard.sh BUILD_DIR}" && pwd)
SOURCE_DIR=$(cd "$(dirname "$0")" && pwd)
TAPETOOL=$BUILD_DIR/tapetool
export ALSA_CONFIG_PATH=/usr/share/alsa/alsa.conf:$BUILD_DIR/testcard.conf
WORK=$(mktemp -d "${TMPDIR:-/tmp}/testcard.XXXXXX")
# pass, fail and the expect_* checks
source "$SOURCE_DIR/expect.sh"
summary_printed=0

finish() {
	local status=$?
	if [ "$summary_printed" = 0 ]; then
		echo "FAIL the script stopped early (status $status)"
		failed=$((failed + 1))
		echo "$passed passed, $failed failed"
	fi
	rm -rf "$WORK"
	[ "$failed" = 0 ] || exit 1
}
trap finish EXIT

now_ns() { date +%s%N; }

# expect_ran LABEL OUTPUT: the harness scenario exited 0
expect_ran() {
	if [ "$(value harness "$2")" != failed ]; then pass "$1"; else fail "$1"; fi
}

# key=value from a line of text: value KEY TEXT
value() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }
# segment_value TAPE INDEX KEY
segment_value() { value "$3" "$(timeout 30 "$TAPETOOL" segments "$1" | sed -n "$(($2 + 1))p")"; }
# segment_count TAPE: prints nothing (and fails) if tapetool cannot read it
segment_count() {
	local segments
	segments=$(timeout 30 "$TAPETOOL" segments "$1") || return 1
	awk '/^segment / { n++ } END { print n + 0 }' <<<"$segments"
}
info_value() { sed -n "s/^$2=//p" "$1.info"; }
# frame_realtime_ns TAPE FRAME: when that tape frame aired
frame_realtime_ns() {
	echo $(($(info_value "$1" origin_realtime_ns) + $2 * 1000000000 / $(info_value "$1" rate)))
}
play() { timeout 20 aplay -q -D "$@"; }

echo "== tools: $BUILD_DIR"
for file in libasound_module_pcm_loaxatest.so tapetool testcard.conf; do
	if [ -e "$BUILD_DIR/$file" ]; then pass "$file built"; else fail "$file missing"; fi
done
# shellcheck disable=SC2046 # pkg-config output is meant to be split into words
if ! cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -O2 \
	$(pkg-config --cflags alsa) -o "$WORK/card_harness" "$SOURCE_DIR/card_harness.c" \
	$(pkg-config --libs alsa) -lm; then
	fail "card_harness.c does not compile"
fi
harness() { timeout 30 "$WORK/card_harness" "$@"; }

sox -n -r 48000 -c 2 -b 16 "$WORK/tone440.wav" synth 1 sine 440 vol 0.5
sox -n -r 48000 -c 2 -b 16 "$WORK/tone1000.wav" synth 0.5 sine 1000 vol 0.5
sox -n -r 48000 -c 2 -b 16 "$WORK/tone2s.wav" synth 2 sine 300 vol 0.5
sox -n -r 44100 -c 1 -b 16 "$WORK/mono44100.wav" synth 2 sine 300 vol 0.5
sox -n -r 96000 -c 2 -b 32 "$WORK/s32.wav" synth 0.3 sine 2500 vol 0.5
sox -n -r 22050 -c 1 -e floating-point -b 32 "$WORK/float.wav" synth 0.3 sine 1500 vol 0.5
sox -n -r 48000 -c 2 -b 16 "$WORK/short.wav" synth 0.05 sine 3000 vol 0.5

echo "== two aplay runs on one tape (APPEND=true), 700 ms apart"
tape=$WORK/pair.wav
first_ns=$(now_ns)
play "loaxatest:TAPE=$tape,APPEND=true" "$WORK/tone440.wav" || fail "aplay 440 Hz"
first_end_ns=$(now_ns)
sleep 0.7
second_ns=$(now_ns)
play "loaxatest:TAPE=$tape,APPEND=true" "$WORK/tone1000.wav" || fail "aplay 1000 Hz"
second_end_ns=$(now_ns)
timeout 10 "$TAPETOOL" info "$tape" || fail "tapetool info"
timeout 10 "$TAPETOOL" segments "$tape" || fail "tapetool segments"
expect_equal "segments on the tape" "$(segment_count "$tape")" 2
expect_near "first segment frequency" "$(segment_value "$tape" 0 freq_hz)" 440 4.4 Hz
expect_near "first segment length" "$(segment_value "$tape" 0 duration_ms)" 1000 5 ms
expect_near "second segment frequency" "$(segment_value "$tape" 1 freq_hz)" 1000 10 Hz
expect_near "second segment length" "$(segment_value "$tape" 1 duration_ms)" 500 5 ms
origin_ns=$(info_value "$tape" origin_realtime_ns)
# aplay's own start-up (tens of ms, hundreds on a cold first run) is not
# the card's: each tone must lie within its aplay run, paced, ending with it
first_ms=$(ms_between "$first_ns" "$first_end_ns")
expect_range "tape origin within the first aplay, its 1 s before that ended" \
	"$(ns_difference_ms "$first_ns" "$origin_ns")" 0 "$(compute 'm - 995' m="$first_ms")" ms
expect_near "first segment starts at the origin" "$(segment_value "$tape" 0 start_frame)" 0 1 frames
second_start_ns=$(segment_value "$tape" 1 start_realtime_ns)
second_ms=$(ms_between "$second_ns" "$second_end_ns")
expect_range "second segment within the second aplay, its 0.5 s before that ended" \
	"$(ns_difference_ms "$second_ns" "$second_start_ns")" 0 "$(compute 'm - 495' m="$second_ms")" ms
first_end_frame=$(segment_value "$tape" 0 end_frame)
expect_range "silence between the segments (sleep 700 ms + aplay start-up)" \
	"$(compute '(b - a) / 48' a="$first_end_frame" b="$(segment_value "$tape" 1 start_frame)")" 695 \
	"$(compute 't - 995' t="$(ns_difference_ms "$first_ns" "$second_start_ns")")" ms
expect_range "wall time of the 1 s aplay (paced, not written at once)" "$first_ms" 995 2000 ms
expect_equal "starts in TAPE.info" "$(info_value "$tape" starts)" 2
expect_equal "xruns in TAPE.info" "$(info_value "$tape" xruns)" 0
middle_of_gap=$((first_end_frame + 4800))
expect_equal "the gap is digital silence" \
	"$(timeout 10 "$TAPETOOL" rms "$tape" "$middle_of_gap" $((middle_of_gap + 9600)))" -inf

echo "== pacing: 2 s of 48 kHz stereo (a whole number of aplay periods)"
tape=$WORK/pacing.wav
start_ns=$(now_ns)
play "loaxatest:TAPE=$tape" "$WORK/tone2s.wav" || fail "aplay 2 s"
end_ns=$(now_ns)
expect_near "wall time of the 2 s aplay" "$(ms_between "$start_ns" "$end_ns")" 2000 200 ms
expect_near "2 s segment length" "$(segment_value "$tape" 0 duration_ms)" 2000 5 ms

echo "== SPEED=20: 2 s of tone and 8 s of silence in a twentieth of the time"
tape=$WORK/speed.wav
sox -D -n -r 48000 -c 2 -b 16 "$WORK/tone_then_silence.wav" synth 2 sine 440 vol 0.5 pad 0 8
start_ns=$(now_ns)
play "loaxatest:TAPE=$tape,SPEED=20" "$WORK/tone_then_silence.wav" || fail "aplay at SPEED=20"
end_ns=$(now_ns)
expect_near "wall time of 10 s played at SPEED=20" "$(ms_between "$start_ns" "$end_ns")" 500 150 ms
expect_near "2 s segment length at SPEED=20" "$(segment_value "$tape" 0 duration_ms)" 2000 5 ms
expect_near "440 Hz at SPEED=20" "$(segment_value "$tape" 0 freq_hz)" 440 5 Hz
expect_near "the tape holds the whole 10 s" "$(value frames "$(timeout 10 "$TAPETOOL" info "$tape")")" 480000 9600 frames
# silence is a hole in the file: 8 s of it take no disk (sox -D: no dither,
# so the silence is digital zeros)
expect_near "disk blocks of the tape (KiB): the tone's 375 only" "$(du -k "$tape" | cut -f1)" 400 100 KiB
if play "loaxatest:TAPE=$tape,SPEED=20,APPEND=true" "$WORK/tone2s.wav" 2>"$WORK/speed.err"; then
	fail "SPEED with APPEND accepted"
else
	pass "SPEED with APPEND refused: $(grep -o 'append places.*' "$WORK/speed.err" | head -1)"
fi

echo "== any format: 2 s of 44.1 kHz mono (aplay pads its last period with silence)"
tape=$WORK/mono.wav
play "loaxatest:TAPE=$tape" "$WORK/mono44100.wav" || fail "aplay 44.1 kHz mono"
info=$(timeout 10 "$TAPETOOL" info "$tape" || true)
echo "$info"
expect_equal "negotiated rate" "$(value rate "$info")" 44100
expect_equal "negotiated channels" "$(value channels "$info")" 1
expect_near "44.1 kHz segment length" "$(segment_value "$tape" 0 duration_ms)" 2000 5 ms
expect_near "44.1 kHz segment frequency" "$(segment_value "$tape" 0 freq_hz)" 300 3 Hz
expect_near "44.1 kHz segment RMS (0.5 amplitude sine)" "$(segment_value "$tape" 0 rms_dbfs)" -9.03 0.1 dBFS

echo "== formats: S32_LE 96 kHz stereo, FLOAT_LE 22.05 kHz mono, bit-exact"
for name in s32 float; do
	tape=$WORK/format_$name.wav
	play "loaxatest:TAPE=$tape" "$WORK/$name.wav" || fail "aplay $name"
	info=$(timeout 10 "$TAPETOOL" info "$tape" || true)
	echo "$info"
	sox "$WORK/$name.wav" -t raw "$WORK/$name.raw"
	size=$(stat -c %s "$WORK/$name.raw")
	if cmp -s -n "$size" -i 44:0 "$tape" "$WORK/$name.raw"; then
		pass "$name tape holds exactly the frames played ($size bytes)"
	else
		fail "$name tape differs from the frames played"
	fi
done
expect_equal "S32 tape format" "$(value format "$(timeout 10 "$TAPETOOL" info "$WORK/format_s32.wav")")" S32_LE
expect_equal "float tape format" "$(value format "$(timeout 10 "$TAPETOOL" info "$WORK/format_float.wav")")" FLOAT_LE
expect_near "S32 segment frequency" "$(segment_value "$WORK/format_s32.wav" 0 freq_hz)" 2500 25 Hz
expect_near "float segment frequency" "$(segment_value "$WORK/format_float.wav" 0 freq_hz)" 1500 15 Hz

echo "== a file shorter than the buffer is started by drain"
tape=$WORK/short_tape.wav
play "loaxatest:TAPE=$tape" "$WORK/short.wav" || fail "aplay 50 ms"
expect_near "50 ms segment length" "$(segment_value "$tape" 0 duration_ms)" 50 1 ms

echo "== format restriction"
tape=$WORK/restricted.wav
device="loaxatest:TAPE=$tape,RATE=48000,CHANNELS=2,FORMAT=S16_LE"
if play "$device" "$WORK/mono44100.wav" 2> "$WORK/restricted.err"; then
	fail "a fixed S16_LE/2/48000 card accepted a 44.1 kHz mono file"
else
	pass "fixed card refused 44.1 kHz mono: $(head -n 1 "$WORK/restricted.err")"
fi
if play "loaxatest_fixed:TAPE=$tape" "$WORK/s32.wav" 2> "$WORK/fixed.err"; then
	fail "loaxatest_fixed accepted S32_LE"
else
	pass "loaxatest_fixed refused S32_LE 96 kHz: $(head -n 1 "$WORK/fixed.err")"
fi
if play "plug:\"$device\"" "$WORK/mono44100.wav"; then
	pass "through plug: the 44.1 kHz mono file plays"
else
	fail "through plug: the 44.1 kHz mono file does not play"
fi
expect_equal "rate in TAPE.info through plug" "$(info_value "$tape" rate)" 48000
expect_equal "channels in TAPE.info through plug" "$(info_value "$tape" channels)" 2
expect_equal "format in TAPE.info through plug" "$(info_value "$tape" format)" S16_LE
expect_near "resampled segment frequency" "$(segment_value "$tape" 0 freq_hz)" 300 3 Hz
expect_near "resampled segment length" "$(segment_value "$tape" 0 duration_ms)" 2000 5 ms

echo "== fault injection at open"
touch "$WORK/unplugged"
if play "loaxatest:TAPE=$WORK/unplugged.wav,FAIL=$WORK/unplugged" "$WORK/short.wav" \
	2> "$WORK/unplugged.err"; then
	fail "open succeeded while the fail file exists"
elif grep -q "No such device" "$WORK/unplugged.err"; then
	pass "open fails while the fail file exists: $(grep -m 1 'No such device' "$WORK/unplugged.err")"
else
	fail "open failed, but not with No such device: $(head -n 1 "$WORK/unplugged.err")"
fi
rm -f "$WORK/unplugged"

echo "== SIGKILL while playing: the tape stays readable"
tape=$WORK/killed.wav
sox -n -r 48000 -c 2 -b 16 "$WORK/long.wav" synth 3 sine 660 vol 0.5
start_ns=$(now_ns)
aplay -q -D "loaxatest:TAPE=$tape" "$WORK/long.wav" &
aplay_pid=$!
sleep 1.2
{
	kill -KILL "$aplay_pid"
	kill_ns=$(now_ns)
	wait "$aplay_pid" || true
} 2> /dev/null
header_bytes=$(od -An -tu4 -j40 -N4 "$tape" | tr -d ' ')
echo "header data size $header_bytes bytes, file data $(($(stat -c %s "$tape") - 44)) bytes"
if timeout 10 "$TAPETOOL" info "$tape"; then pass "killed tape is readable"; else fail "killed tape unreadable"; fi
played_ms=$(ns_difference_ms "$(info_value "$tape" origin_realtime_ns)" "$kill_ns")
expect_near "killed tape holds what aired until the last call (played $played_ms ms)" \
	"$(segment_value "$tape" 0 duration_ms)" "$(compute 'p - 100' p="$played_ms")" 100 ms
expect_near "killed tape frequency" "$(segment_value "$tape" 0 freq_hz)" 660 6.6 Hz

echo "== underrun: 200 ms, 300 ms without writing, 200 ms"
tape=$WORK/xrun.wav
output=$(harness xrun "loaxatest:TAPE=$tape" || echo "harness=failed")
echo "$output"
expect_ran "xrun scenario ran" "$output"
timeout 10 "$TAPETOOL" segments "$tape" || true
expect_equal "xruns in TAPE.info" "$(info_value "$tape" xruns)" 1
expect_equal "segments around the underrun" "$(segment_count "$tape")" 2
expect_near "tone before the underrun" "$(segment_value "$tape" 0 duration_ms)" 200 1 ms
expect_near "tone after the restart" "$(segment_value "$tape" 1 duration_ms)" 200 1 ms
expect_within "tone resumes on tape when the restarting writes ran" \
	"$(segment_value "$tape" 1 start_realtime_ns)" "$(value restart_before_realtime_ns "$output")" \
	"$(value restart_after_realtime_ns "$output")" "the restarting writes began"
gap_start=$(segment_value "$tape" 0 end_frame)
gap_end=$(segment_value "$tape" 1 start_frame)
echo "silence where the card ran dry: $(awk -v a="$gap_start" -v b="$gap_end" 'BEGIN { printf "%.3f", (b - a) / 48 }') ms"
expect_equal "that silence is digital zero" \
	"$(timeout 10 "$TAPETOOL" rms "$tape" $((gap_start + 48)) $((gap_end - 48)))" -inf

echo "== rewind of 300 ms not yet consumed"
tape=$WORK/rewind.wav
output=$(harness rewind "loaxatest:TAPE=$tape" || echo "harness=failed")
echo "$output"
expect_ran "rewind scenario ran" "$output"
expect_near "500 Hz ends where the rewind cut it" "$(segment_value "$tape" 0 end_frame)" 14400 1 frames
expect_near "1500 Hz starts at the rewound position" "$(segment_value "$tape" 1 start_frame)" 14400 1 frames
expect_near "1500 Hz frequency" "$(segment_value "$tape" 1 freq_hz)" 1500 15 Hz
expect_near "1500 Hz length" "$(segment_value "$tape" 1 duration_ms)" 400 1 ms

expect_near "the delay dropped by the 300 ms rewound" "$(value delay_drop_frames "$output")" 14400 48 frames

echo "== server mode (loaxatest_server): the same rewind is accepted but not honoured"
tape=$WORK/rewind-server.wav
output=$(harness rewind "loaxatest_server:TAPE=$tape" || echo "harness=failed")
echo "$output"
expect_ran "rewind scenario ran: the rewind returned the 14400 frames asked" "$output"
expect_near "the delay did not drop (frames played meanwhile only)" \
	"$(value delay_drop_frames "$output")" 0 48 frames
expect_equal "segments on the tape" "$(segment_count "$tape")" 2
expect_near "500 Hz airs whole: all 600 ms written" "$(segment_value "$tape" 0 duration_ms)" 600 1 ms
expect_near "1500 Hz starts after what was written before the rewind" \
	"$(segment_value "$tape" 1 start_frame)" 28800 1 frames
expect_near "1500 Hz length" "$(segment_value "$tape" 1 duration_ms)" 400 1 ms
expect_equal "no underrun in server mode" "$(info_value "$tape" xruns)" 0

echo "== server mode: 2 s of aplay, paced and whole"
tape=$WORK/server-aplay.wav
start_ns=$(now_ns)
play "loaxatest_server:TAPE=$tape" "$WORK/tone2s.wav" || fail "aplay on the server card"
server_ms=$(ms_between "$start_ns" "$(now_ns)")
expect_near "server-mode segment length" "$(segment_value "$tape" 0 duration_ms)" 2000 1 ms
expect_range "wall time of the 2 s aplay (paced)" "$server_ms" 1995 3000 ms
expect_equal "server-mode xruns" "$(info_value "$tape" xruns)" 0

echo "== drop after 200 ms of 500 ms written"
tape=$WORK/drop.wav
output=$(harness drop "loaxatest:TAPE=$tape" || echo "harness=failed")
echo "$output"
expect_ran "drop scenario ran" "$output"
expect_within "tone ends at the drop, not after the 500 ms written" \
	"$(frame_realtime_ns "$tape" "$(segment_value "$tape" 0 end_frame)")" \
	"$(value drop_before_realtime_ns "$output")" "$(value drop_after_realtime_ns "$output")" \
	"snd_pcm_drop began"

echo "== pause for 200 ms"
tape=$WORK/pause.wav
output=$(harness pause "loaxatest:TAPE=$tape" || echo "harness=failed")
echo "$output"
expect_ran "pause scenario ran" "$output"
expect_within "tone stops at the pause" \
	"$(frame_realtime_ns "$tape" "$(segment_value "$tape" 0 end_frame)")" \
	"$(value pause_before_realtime_ns "$output")" "$(value pause_after_realtime_ns "$output")" \
	"snd_pcm_pause(1) began"
expect_within "tone resumes at the resume" "$(segment_value "$tape" 1 start_realtime_ns)" \
	"$(value resume_before_realtime_ns "$output")" "$(value resume_after_realtime_ns "$output")" \
	"snd_pcm_pause(0) began"
expect_near "tone before and after the pause adds up to 500 ms" \
	"$(compute 'a + b' a="$(segment_value "$tape" 0 duration_ms)" b="$(segment_value "$tape" 1 duration_ms)")" \
	500 1 ms

echo "== non-blocking writes driven by poll()"
tape=$WORK/poll.wav
output=$(harness poll "loaxatest:TAPE=$tape" || echo "harness=failed")
echo "$output"
expect_ran "poll scenario: one POLLOUT wakeup per period" "$output"
expect_near "poll-driven segment length" "$(segment_value "$tape" 0 duration_ms)" 2000 1 ms
expect_equal "poll-driven xruns" "$(info_value "$tape" xruns)" 0

echo "== MMAP_INTERLEAVED access"
tape=$WORK/mmap.wav
output=$(harness mmap "loaxatest:TAPE=$tape" || echo "harness=failed")
expect_ran "mmap scenario ran" "$output"
expect_near "mmap segment length" "$(segment_value "$tape" 0 duration_ms)" 500 1 ms
expect_near "mmap segment frequency" "$(segment_value "$tape" 0 freq_hz)" 2000 20 Hz

echo "== status: tstamp and delay predict when frame 0 aired"
tape=$WORK/status.wav
output=$(harness status "loaxatest:TAPE=$tape" || echo "harness=failed")
echo "$output"
expect_ran "status predictions agree" "$output"
expect_near "predicted frame-0 time minus tape origin" \
	"$(ns_difference_ms "$(info_value "$tape" origin_realtime_ns)" "$(value predicted_origin_realtime_ns "$output")")" 0 0.1 ms

echo "== unplug while playing (fault-injection file), then reopen"
tape=$WORK/unplug.wav
output=$(harness disconnect "loaxatest:TAPE=$tape,APPEND=true,FAIL=$WORK/unplug" "$WORK/unplug" 2>&1 ||
	echo "harness=failed")
echo "$output"
expect_ran "unplug gives -ENODEV, DISCONNECTED, no reopen" "$output"
# The card looks for the file at most every 5 ms and wakes waiters every 5 ms.
expect_within "tone ends between the unplug and the write error" \
	"$(frame_realtime_ns "$tape" "$(segment_value "$tape" 0 end_frame)")" \
	"$(value unplug_realtime_ns "$output")" "$(value error_realtime_ns "$output")" "the unplug"

echo "== tapetool splits back-to-back tones at the sample (phases 37 %, 81 %, 12 %, 55 %)"
tape=$WORK/splits.wav
sox -n -r 48000 -c 1 -b 16 "$WORK/lead.wav" trim 0 5923s
sox -n -r 48000 -c 1 -b 16 "$WORK/a.wav" synth 14401s sine 440 0 37 vol 0.5
sox -n -r 48000 -c 1 -b 16 "$WORK/b.wav" synth 12007s sine 1000 0 81 vol 0.3
sox -n -r 48000 -c 1 -b 16 "$WORK/c.wav" synth 9611s sine 1060 0 12 vol 0.3
sox -n -r 48000 -c 1 -b 16 "$WORK/d.wav" synth 9600s sine 1040 0 55 vol 0.3
sox "$WORK/lead.wav" "$WORK/a.wav" "$WORK/b.wav" "$WORK/c.wav" "$WORK/d.wav" "$WORK/lead.wav" "$tape"
printf 'origin_realtime_ns=1000000000\nxruns=0\n' > "$tape.info"
timeout 10 "$TAPETOOL" segments "$tape" || true
expect_equal "pieces (1060 -> 1040 Hz is under 5 %, not split)" "$(segment_count "$tape")" 3
expect_near "440 Hz starts" "$(segment_value "$tape" 0 start_frame)" 5923 1 frames
expect_near "440 -> 1000 Hz cut" "$(segment_value "$tape" 1 start_frame)" 20324 1 frames
expect_near "1000 -> 1060 Hz cut (6 %)" "$(segment_value "$tape" 2 start_frame)" 32331 1 frames
expect_near "1060/1040 Hz piece ends" "$(segment_value "$tape" 2 end_frame)" 51542 1 frames
expect_equal "start_realtime_ns of the 1000 Hz piece" "$(segment_value "$tape" 1 start_realtime_ns)" \
	$((1000000000 + 20324 * 1000000000 / 48000))

echo "== tapetool usage and errors"
status=0; timeout 10 "$TAPETOOL" > /dev/null 2>&1 || status=$?
expect_equal "no arguments exits" "$status" 2
status=0; timeout 10 "$TAPETOOL" rms "$WORK/pair.wav" 10 5 > /dev/null 2>&1 || status=$?
expect_equal "rms with TO before FROM exits" "$status" 2
status=0; timeout 10 "$TAPETOOL" info "$WORK/missing.wav" > /dev/null 2>&1 || status=$?
expect_equal "missing tape exits" "$status" 1
json=$(timeout 10 "$TAPETOOL" segments "$WORK/pair.wav" --json || true)
if command -v python3 > /dev/null; then
	json_ok() { python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==2 and d[1]["freq_hz"]>900'; }
else
	json_ok() { grep -q '^\[{"index":0,.*"index":1,.*}\]$' <(tr -d '\n'); }
fi
if printf '%s' "$json" | json_ok 2> /dev/null; then
	pass "--json is a JSON array of 2 segments"
else
	fail "--json output: $json"
fi

if command -v valgrind > /dev/null; then
	echo "== valgrind: the card loaded into a program"
	# Only memory errors count here: under valgrind the harness may miss its
	# deadlines and report an underrun, which is not the card's fault.
	for scenario in xrun rewind; do
		status=0
		timeout 120 valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
			--error-exitcode=99 "$WORK/card_harness" "$scenario" \
			"loaxatest:TAPE=$WORK/valgrind.wav" > /dev/null 2> "$WORK/valgrind.err" || status=$?
		if [ "$status" = 99 ] || [ "$status" = 124 ]; then
			fail "valgrind $scenario (status $status): $(head -n 5 "$WORK/valgrind.err")"
		else
			pass "valgrind $scenario: no memory errors, no definite leaks (harness status $status)"
		fi
	done
fi

summary_printed=1
echo "$passed passed, $failed failed"
