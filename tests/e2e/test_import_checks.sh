#!/bin/bash
# What import checks beyond decoding the file once (issue 16): that playout
# can open it part-way in, as a resume or a rejoin does, and that it holds no
# silence longer than import_max_silence_s (30 s unless configured) unless
# --force. Each refusal names the file, says where and what to do, and
# leaves no row and no library file.
source "$(dirname "$0")/lib.sh"

FIXTURES=${LOAXA_FIXTURES:-$BUILD/fixtures}
"$ROOT/tests/fixtures/make-fixtures.sh" "$FIXTURES" >/dev/null
LIBRARY=$WORK/loaxa-media
rows() { sqlite3 "$DB" "SELECT count(*) FROM media"; }
stored() { echo "$(rows)/$(find "$LIBRARY" -type f 2>/dev/null | wc -l)"; }
# refused PATTERN ARGS...: `media import ARGS...` exits 1 saying PATTERN and
# stores nothing
refused() {
	local pattern=$1 before
	shift
	before=$(stored)
	expect_status 1 "$pattern" "$LOAXA" media import "$@"
	check "  nothing stored (rows/files $(stored))" test "$(stored)" = "$before"
}
# imported ARGS...: `media import ARGS...` prints one id and stores the file
imported() {
	local id
	id=$("$LOAXA" media import "$@" 2>"$WORK/err") || true
	check "imported ($id): $*" test -n "$id" -a "$(sqlite3 "$DB" "SELECT count(*) FROM media WHERE id = '$id'")" = 1
}

"$LOAXA" init >/dev/null

# --- opened part-way in -----------------------------------------------------------------
# decodes whole from its start; its seek table sends every seek astray
refused "flac_bad_seektable.flac: not imported: the file plays from its start, but not when opened part-way in.*\(the first position that failed: 00:01\)" \
	"$FIXTURES/flac_bad_seektable.flac"
check "  the previous import would take it: it decodes whole" \
	test "$(sox "$FIXTURES/flac_bad_seektable.flac" -n stat 2>&1 | awk '/Samples read/ { print $3 }')" = 88200

# plays whole from its start, but read on from a quarter in it ends early
refused "flac_junk_midframe.flac: not imported: the file plays from its start, but not when opened part-way in.*\(the first position that failed: 00:00\)" \
	"$FIXTURES/flac_junk_midframe.flac"

# --- silence ----------------------------------------------------------------------------
# a file of zeros (a recorder left on, a failed export): 31 s at 8 kHz
sox -n -r 8000 -c 1 -b 16 "$WORK/zeros.wav" trim 0 31
refused "zeros.wav: not imported: it is silent from start to end \(00:31, nothing above -60 dBFS\), longer than the 30 s of silence an import may hold \(import_max_silence_s in the config\); check that the right file was chosen, or import it with --force" \
	"$WORK/zeros.wav"
# an announcement followed by 35 s of dead air
sox -D -n -r 8000 -c 1 -b 16 "$WORK/dead-air.wav" synth 5 sine 400 gain -12 pad 0 35
refused "dead-air.wav: not imported: it is silent for 35.0 s, from 00:05 to 00:40 \(nothing above -60 dBFS\).*; cut the silence out, or import it with --force if it should air so" \
	"$WORK/dead-air.wav"
# speech-like (noise bursts of syllable length) with pauses of 0.3 s and 3 s
sox -D -n -r 8000 -c 1 -b 16 "$WORK/word.wav" synth 0.25 pinknoise gain -15 pad 0 0.3
sox "$WORK/word.wav" "$WORK/word.wav" "$WORK/word.wav" "$WORK/words.wav"
sox "$WORK/words.wav" "$WORK/words.wav" "$WORK/sentence.wav" pad 0 3
sox "$WORK/sentence.wav" "$WORK/sentence.wav" "$WORK/sentence.wav" "$WORK/speech.wav"
imported "$WORK/speech.wav"
check "  no warning about its pauses" test -z "$(grep warning "$WORK/err")"
# --force: stored, with the silence said as a warning
imported "$WORK/dead-air.wav" --force
check "  the silence said as a warning" \
	grep -q "warning: .*dead-air.wav: it is silent for 35.0 s, from 00:05 to 00:40" "$WORK/err"
imported "$WORK/zeros.wav" --force
check "  a file of zeros: said to be entirely silent" grep -q "warning: .*zeros.wav is entirely silent" "$WORK/err"
# a station that allows longer silences says so in its config
sox -D -n -r 8000 -c 1 -b 16 "$WORK/long-pause.wav" synth 2 sine 500 gain -12 pad 40 0
printf 'import_max_silence_s = 60\n' >"$WORK/patient.conf"
refused "long-pause.wav: not imported: it is silent for 40.0 s, from 00:00 to 00:40" "$WORK/long-pause.wav"
imported "$WORK/long-pause.wav" --config "$WORK/patient.conf"
printf 'import_max_silence_s = 0\n' >"$WORK/bad.conf"
expect_status 1 "bad.conf:1: 'import_max_silence_s' must be a whole number from 1 to 86400" \
	"$LOAXA" media import "$WORK/speech.wav" --config "$WORK/bad.conf"

finish
