#!/bin/bash
# The media library through the `loaxa` binary (issue 3): every refused file
# named with its reason, exit status 1, and no row, audit entry or library
# file left behind; a mix of good and bad files imports the good ones;
# Vietnamese file names and titles (from the name, --title, ID3v2 UTF-16,
# Vorbis comments, and names that are not UTF-8); the measurements in
# `media show --json`; the --gain-trim limits and the true-peak ceiling; a
# silent file imported with a warning; progress only on a terminal; media
# used by an event or a programme removed only with --force.
source "$(dirname "$0")/lib.sh"

FIXTURES=${LOAXA_FIXTURES:-$BUILD/fixtures}
"$ROOT/tests/fixtures/make-fixtures.sh" "$FIXTURES" >/dev/null
LIBRARY=$WORK/loaxa-media
sql() { sqlite3 "$DB" "$1"; }
json_true() { python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
quietly() { "$@" >/dev/null 2>&1; }
# show ID EXPRESSION: a field of `media show ID --json`
show() { "$LOAXA" media show "$1" --json | json "$2"; }
library_list() { if [ -d "$LIBRARY" ]; then find "$LIBRARY" "$@" | sort; fi; }
library_files() { library_list -type f | wc -l; }
snapshot() {
	{ sqlite3 "$DB" "SELECT * FROM media; SELECT count(*) FROM audit;"; library_list; } | md5sum
}
# refused PATTERN FILE...: `media import FILE...` exits 1, its error output
# matches PATTERN, and the library and database are as they were
refused() {
	local pattern=$1 before
	shift
	before=$(snapshot)
	expect_status 1 "$pattern" "$LOAXA" media import "$@"
	if [ "$(snapshot)" = "$before" ]; then pass "  library and database unchanged"; else fail "  something was stored"; fi
}

"$LOAXA" init >/dev/null
check "an empty library says so" grep -q "library is empty" <("$LOAXA" media list)

# --- refused, one by one ------------------------------------------------------------------
cp "$FIXTURES/empty.wav" "$WORK/trống.wav"
refused "trống.wav: not imported: the file is empty" "$WORK/trống.wav"
refused "truncated.mp3: not imported: the file is truncated" "$FIXTURES/truncated.mp3"
refused "truncated.wav: not imported: the file is truncated" "$FIXTURES/truncated.wav"
refused "truncated.flac: not imported: the file is truncated" "$FIXTURES/truncated.flac"
refused "random.mp3: not imported: this is not an audio file" "$FIXTURES/random.mp3"
refused "text.wav: not imported: this is not an audio file" "$FIXTURES/text.wav"
refused "image.mp3: not imported: this is not an audio file" "$FIXTURES/image.mp3"
# an Ogg stream of another codec (Theora video): a known container
{ printf 'OggS\0\2\0\0\0\0\0\0\0\0\1\0\0\0\0\0\0\0\0\0\0\0\1\x2a\x80theora'; head -c 64 /dev/zero; } >"$WORK/video.ogg"
refused "video.ogg: not imported: .*coded in a way loaxa cannot play" "$WORK/video.ogg"
refused "zero_frames.wav: not imported: the file holds no sound" "$FIXTURES/zero_frames.wav"
refused "tag_only.mp3: not imported: the file holds no sound" "$FIXTURES/tag_only.mp3"
# decodes whole from its start, but a resume part-way in would fail
refused "flac_bad_seektable.flac: not imported: the file plays from its start, but not when opened part-way in, as a broadcast is when it resumes after an emergency .*; convert it to WAV or FLAC again.* \(the first position that failed: 00:01\)" \
	"$FIXTURES/flac_bad_seektable.flac"
mkdir "$WORK/thư mục.mp3"
refused "thư mục.mp3: not imported: it is a folder" "$WORK/thư mục.mp3"
refused "missing.mp3: not imported: there is no such file" "$WORK/missing.mp3"
refused "/dev/null: not imported: it is not a regular file" /dev/null
mkfifo "$WORK/pipe.wav"
refused "pipe.wav: not imported: it is not a regular file" "$WORK/pipe.wav"
refused "not imported: a part of its path is not a folder" "$FIXTURES/silent.wav/x.wav"
# unreadable: as root every file is readable, so the import runs as nobody
sox -n -r 22050 -c 1 -b 16 "$WORK/secret.wav" synth 1 sine 440 vol 0.3
if [ "$(id -u)" -ne 0 ]; then
	chmod 000 "$WORK/secret.wav"
	refused "secret.wav: not imported: loaxa is not allowed to read it" "$WORK/secret.wav"
	chmod 644 "$WORK/secret.wav"
elif command -v setpriv >/dev/null; then
	chmod o+x "$WORK"
	mkdir -m 777 "$WORK/nobody"
	chmod 600 "$WORK/secret.wav"
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env LOAXA_DB="$WORK/nobody/loaxa.db" "$@"; }
	as_nobody "$LOAXA" init >/dev/null
	expect_status 1 "secret.wav: not imported: loaxa is not allowed to read it" as_nobody "$LOAXA" media import "$WORK/secret.wav"
	check "  no row, no library file" test "$(sqlite3 "$WORK/nobody/loaxa.db" 'SELECT count(*) FROM media')/$(find "$WORK/nobody" -type f | wc -l)" = "0/1"
	chmod 644 "$WORK/secret.wav"
else
	pass "unreadable file: skipped (root without setpriv)"
fi
check "nothing stored at all" test "$(sql 'SELECT count(*) FROM media')/$(library_files)" = "0/0"
check "  and nothing audited but the schema" test "$(sql "SELECT group_concat(action) FROM audit")" = "schema.create"

# --- a mix: the good ones go in --------------------------------------------------------------
sox -n -r 44100 -c 1 -b 16 "$WORK/Thông báo bão số 3.wav" synth 3 sine 440 vol 0.3
cp "$FIXTURES/mp3_mpeg1_44100_stereo_cbr.mp3" "$WORK/cchc.mp3"
rc=0
"$LOAXA" media import "$WORK/Thông báo bão số 3.wav" "$FIXTURES/empty.mp3" "$WORK/cchc.mp3" \
	"$WORK/thư mục.mp3" >"$WORK/ids" 2>"$WORK/err" || rc=$?
check "a mix: exit 1" test "$rc" = 1
check "  one id per good file" test "$(tr '\n' ' ' <"$WORK/ids")" = "1 2 "
check "  each bad file named with why" grep -q "empty.mp3: not imported: the file is empty" "$WORK/err"
check "  (the folder too)" grep -q "thư mục.mp3: not imported: it is a folder" "$WORK/err"
check "  a count at the end" grep -q "2 of 4 file(s) not imported" "$WORK/err"
check "  a line of measurements per good file" grep -q "Thông báo bão số 3.wav → media 1: 3.000 s, pcm_s16 44100 Hz 1 ch, .* LUFS" "$WORK/err"
check "  two rows, two library files" test "$(sql 'SELECT count(*) FROM media')/$(library_files)" = "2/2"
check "  stored byte for byte, under the hash" cmp -s "$WORK/cchc.mp3" "$LIBRARY/$(sql 'SELECT path FROM media WHERE id = 2')"
check "  named by the SHA-256 of the content" test "$(sql 'SELECT sha256 FROM media WHERE id = 2')" = "$(sha256sum "$WORK/cchc.mp3" | cut -d' ' -f1)"
check "  no temporary file left" test -z "$(library_list -name '.*')"
check "the same content again: the same id" test "$("$LOAXA" media import "$WORK/cchc.mp3" 2>/dev/null)" = 2
check "  no new row or file" test "$(sql 'SELECT count(*) FROM media')/$(library_files)" = "2/2"
expect_status 2 "--title applies to one file" "$LOAXA" media import "$WORK/cchc.mp3" "$WORK/secret.wav" --title x

# --- Vietnamese names and titles -------------------------------------------------------------
check "title from the file name" test "$(show 1 "d['title']")" = "Thông báo bão số 3"
check "  the original name kept" test "$(show 1 "d['original_name']")" = "Thông báo bão số 3.wav"
check "title from an ID3v2 UTF-16 tag" test "$(show 2 "d['title']")" = "Thông báo cải cách hành chính"
vorbis=$("$LOAXA" media import "$FIXTURES/vorbis_title.ogg" 2>/dev/null)
check "title from a Vorbis comment" test "$(show "$vorbis" "d['title']")" = "Phòng chống bão lũ"
latin1=$("$LOAXA" media import "$FIXTURES/mp3_mpeg2_16000_mono.mp3" 2>/dev/null)
check "title from an ID3v2 Latin-1 tag" test "$(show "$latin1" "d['title']")" = "Latin-1 title"
given=$("$LOAXA" media import "$WORK/secret.wav" --title 'Lịch tiêm chủng "tháng 5" 💉' --category "Y tế" 2>/dev/null)
check "--title and --category exactly" test "$(sql "SELECT title || '|' || category FROM media WHERE id = $given")" = 'Lịch tiêm chủng "tháng 5" 💉|Y tế'
check "  and in JSON" test "$(show "$given" "d['title'] + '|' + d['category']")" = 'Lịch tiêm chủng "tháng 5" 💉|Y tế'
check "list shows the titles" grep -q "Phòng chống bão lũ" <("$LOAXA" media list)
# list columns line up however many bytes the titles take
python3 - "$LOAXA" <<'PYTHON' >"$WORK/columns"
import subprocess, sys
lines = subprocess.run([sys.argv[1], "media", "list"], capture_output=True, text=True).stdout.splitlines()
print(len({len(line.split(" s, ")[0].rsplit(" ", 1)[0]) for line in lines}))
PYTHON
check "  in columns" test "$(cat "$WORK/columns")" = 1
# a name in an old 8-bit encoding (a zip from Windows): kept readable, valid UTF-8
odd="$WORK/$(printf 'Th\xf4ng b\xe1o.wav')"
sox -n -r 16000 -c 1 -b 16 "$odd" synth 1 sine 600 vol 0.3
"$LOAXA" media import "$odd" --json >"$WORK/odd.json" 2>/dev/null
check "a name that is not UTF-8: imported, the JSON valid" test "$(json "d[0]['title']" <"$WORK/odd.json")" = "Th�ng b�o"
# a name with a newline and a tab: the title is one line, media list one
# line per item (a title of control characters only is refused)
controls="$WORK/$(printf 'Tin\nsáng\tmai.wav')"
sox -n -r 16000 -c 1 -b 16 "$controls" synth 1 sine 650 vol 0.3
"$LOAXA" media import "$controls" --json >"$WORK/controls.json" 2>/dev/null
check "a name with a newline and a tab: the title is one line" \
	test "$(json "d[0]['title']" <"$WORK/controls.json")" = "Tin sáng mai"
check "  the original name is kept as it is" \
	test "$(json "d[0]['original_name'] == 'Tin\\nsáng\\tmai.wav'" <"$WORK/controls.json")" = True
sox -n -r 16000 -c 1 -b 16 "$WORK/given-controls.wav" synth 1 sine 750 vol 0.3
"$LOAXA" media import "$WORK/given-controls.wav" --title "$(printf '\n Bản tin\r\nchiều\t')" >/dev/null 2>&1
"$LOAXA" media list --json >"$WORK/list.json"
check "--title with control characters: cleaned and trimmed" \
	test "$(json "[m['title'] for m in d if m['original_name'] == 'given-controls.wav'][0]" <"$WORK/list.json")" = "Bản tin  chiều"
check "  no title in the library holds a control character" \
	test "$(json "sum(1 for m in d if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in m['title']))" <"$WORK/list.json")" = 0
check "  none is empty or padded" \
	test "$(json "sum(1 for m in d if not m['title'] or m['title'] != m['title'].strip())" <"$WORK/list.json")" = 0
check "media list: one line per item" \
	test "$("$LOAXA" media list | wc -l)" = "$(sql 'SELECT count(*) FROM media')"
refused "the --title has nothing to show" "$WORK/cchc.mp3" --title "$(printf '\n\t')"
refused "the title is not valid UTF-8" "$WORK/cchc.mp3" --title "$(printf 'B\xe1o')"
refused "the category is not valid UTF-8" "$WORK/cchc.mp3" --category "$(printf 'Y t\xea')"

# --- the measurements ------------------------------------------------------------------------
ref=$("$LOAXA" media import "$FIXTURES/sine_1k_m23_stereo.wav" 2>/dev/null)
"$LOAXA" media show "$ref" --json >"$WORK/ref.json"
check "show --json: frames, rate, channels, codec" test "$(json "'%d %d %d %s %.3f' % (d['frames'], d['rate'], d['channels'], d['codec'], d['duration_s'])" <"$WORK/ref.json")" = "960000 48000 2 pcm_s24 20.000"
check "  -23 dBFS 1 kHz stereo reads -23.0 LUFS" within "$(json "d['loudness_lufs']" <"$WORK/ref.json")" -23.0 0.1
check "  its peaks -23 dB" within "$(json "d['true_peak_dbtp']" <"$WORK/ref.json")" -23.0 0.1
check "  gain to -18 LUFS: +5 dB" within "$(json "d['gain_db']" <"$WORK/ref.json")" 5.0 0.1
check "  no loudness range, no silence" test "$(json "'%.1f %d' % (d['loudness_range_lu'], d['trailing_silence_frames'])" <"$WORK/ref.json")" = "0.0 0"
check "  the hash, the stored path, the import time" json_true "d['sha256'] in d['path'] and d['imported_at'] != ''" <"$WORK/ref.json"
"$LOAXA" media show "$ref" >"$WORK/show.txt"
check "show in text" grep -Eq "20.000 s, pcm_s24 48000 Hz 2 ch, -2(2.9|3.0) LUFS" "$WORK/show.txt"
check "import --json: the stored rows" test "$("$LOAXA" media import "$WORK/cchc.mp3" "$WORK/secret.wav" --json 2>/dev/null | json "' '.join(str(m['id']) + (':t' if m['imported_at'] else ':-') for m in d)")" = "2:t $given:t"
check "list --json: every row" test "$("$LOAXA" media list --json | json "len(d)")" = "$(sql 'SELECT count(*) FROM media')"
# leading and trailing silence
sox -n -r 44100 -c 1 -b 16 "$WORK/pauses.wav" synth 1 sine 440 vol 0.5 pad 0.5 0.25
pauses=$("$LOAXA" media import "$WORK/pauses.wav" 2>/dev/null)
check "leading and trailing silence in frames" test "$(show "$pauses" "'%d %d' % (d['leading_silence_frames'] // 10, d['trailing_silence_frames'] // 10)")" = "2205 1102"

# --- gain trim and the true-peak ceiling ------------------------------------------------------
quiet=$("$LOAXA" media import "$FIXTURES/sine_1k_m33_mono.wav" --gain-trim 14 2>/dev/null)
check "--gain-trim 14: kept" test "$(show "$quiet" "d['trim_db']")" = 14.0
check "  added to the loudness gain (+15 +14)" within "$(show "$quiet" "d['gain_db']")" 29.0 0.1
loud=$("$LOAXA" media import "$FIXTURES/sine_1k_m1_mono.wav" --gain-trim -14 2>/dev/null)
check "--gain-trim -14: kept, gain -17 -14" within "$(show "$loud" "d['gain_db']")" -31.0 0.1
refused "--gain-trim must be a number of dB from -14 to 14" "$FIXTURES/wav_s16_22050_mono.wav" --gain-trim 14.5
refused "--gain-trim must be a number of dB from -14 to 14" "$FIXTURES/wav_s16_22050_mono.wav" --gain-trim -15
refused "--gain-trim must be a number of dB from -14 to 14" "$FIXTURES/wav_s16_22050_mono.wav" --gain-trim loud
# a quiet tone with one full-scale click: the ceiling (-1 dBTP) holds the gain down
sox -n -r 48000 -c 1 -b 16 "$WORK/tone.wav" synth 10 sine 1000 vol 0.01
sox -n -r 48000 -c 1 -b 16 "$WORK/click.wav" synth 0.005 square 1000 vol 0.99
sox "$WORK/tone.wav" "$WORK/click.wav" "$WORK/tone.wav" "$WORK/peaky.wav"
peaky=$("$LOAXA" media import "$WORK/peaky.wav" --gain-trim 6 2>/dev/null)
check "the ceiling: gain = -1 dBTP - true peak" within "$(show "$peaky" "d['gain_db'] + d['true_peak_dbtp']")" -1.0 0.02
check "  far under the loudness gain (+19 dB and more)" test "$(show "$peaky" "int(-18 - d['loudness_lufs'] + d['trim_db'] > 19 and d['gain_db'] < 0)")" = 1

# --- a silent file ---------------------------------------------------------------------------
expect_status 0 "warning: .*silent.wav is entirely silent" "$LOAXA" media import "$FIXTURES/silent.wav"
silent=$(cat "$WORK/out")
check "  imported" test -n "$silent"
check "  no loudness, no peak, no gain" test "$(show "$silent" "(d['loudness_lufs'], d['true_peak_dbtp'], d['gain_db'])")" = "(None, None, 0.0)"
check "  listed as silent" grep -Eq "^ +$silent .*silent$" <("$LOAXA" media list)

# --- progress, on a terminal only ------------------------------------------------------------
cp "$FIXTURES/vorbis_44100_mono_s20.ogg" "$WORK/long.ogg"
script -qec "'$LOAXA' media import '$WORK/long.ogg'" /dev/null >"$WORK/tty.txt" </dev/null
check "on a terminal: progress" grep -q $'\r  .*long.ogg:  [0-9 ]*[0-9]%' "$WORK/tty.txt"
check "  then the line cleared for the measurements" grep -q $'\r\e\\[K  .*long.ogg → media' "$WORK/tty.txt"
"$LOAXA" media import "$WORK/long.ogg" >/dev/null 2>"$WORK/err"
check "not on a terminal: no progress" test -z "$(grep '%' "$WORK/err")"

# --- removing -------------------------------------------------------------------------------
Y=$(( $(date +%Y) + 1 ))
event=$("$LOAXA" schedule add --at 06:00 --date "$Y-03-01" --media 1 --title "Tin bão")
"$LOAXA" programme create "Bản tin sáng" >/dev/null
"$LOAXA" programme add "Bản tin sáng" 2 >/dev/null
before=$(snapshot)
expect_status 1 "media 1 is used by 1 event.*--force" "$LOAXA" media remove 1
expect_status 1 "media 2 is used by 1 event\\(s\\) or programme item" "$LOAXA" media remove 2
check "  both kept, with their files" test "$(snapshot)" = "$before"
check "media remove --force" quietly "$LOAXA" media remove 1 --force
check "--force: the media and its event gone" test "$(sql "SELECT count(*) FROM media WHERE id = 1")/$(sql "SELECT count(*) FROM event WHERE id = $event")" = "0/0"
expect_status 1 "no media 1" "$LOAXA" media show 1
check "media remove" quietly "$LOAXA" media remove "$pauses"
check "an unused item: removed" test "$(sql "SELECT count(*) FROM media WHERE id = $pauses")" = 0
check "  audited" test "$(sql "SELECT count(*) FROM audit WHERE action = 'media.remove'")" = 2
expect_status 2 "not a media id" "$LOAXA" media remove abc
expect_status 1 "no media 999" "$LOAXA" media remove 999

# --- room on the library's disk -------------------------------------------------------------
# Import wants room for the file and 64 MiB more (the database and logs
# live there too). A real small filesystem: an 80 MiB tmpfs holds a 1 s tone
# (0.2 MiB + 64) but not 110 s (20 MiB + 64). Mounting needs root.
small=$WORK/small
if [ "$(id -u)" != 0 ]; then
	echo "  SKIPPED the full-disk case: it mounts a small tmpfs, which needs root (uid $(id -u))"
elif ! { mkdir -p "$small" && mount -t tmpfs -o size=80m loaxa-test "$small"; }; then
	fail "cannot mount an 80 MiB tmpfs at $small for the full-disk case"
else
	trap 'umount "$small" 2>/dev/null || true; cleanup' EXIT
	printf 'library = %s/library\n' "$small" >"$WORK/small.conf"
	sox -n -r 48000 -c 2 -b 16 "$WORK/big.wav" synth 110 sine 500 vol 0.3
	sox -n -r 48000 -c 2 -b 16 "$WORK/fits.wav" synth 1 sine 550 vol 0.3
	rows=$(sql "SELECT count(*) FROM media")
	expect_status 1 "big.wav: not imported: the library's disk \($small/library\) has (79|80)\.[0-9] MiB free, and storing this file needs 84.1 MiB \(its 20.1 MiB and 64 MiB kept free for the database and logs\); free some space" \
		"$LOAXA" media import "$WORK/big.wav" --config "$WORK/small.conf"
	check "  nothing stored: no row" test "$(sql "SELECT count(*) FROM media")" = "$rows"
	check "  and no file in the library" test "$(find "$small" -type f | wc -l)" = 0
	fits=$("$LOAXA" media import "$WORK/fits.wav" --config "$WORK/small.conf" 2>/dev/null)
	check "a file that leaves the margin free is stored ($fits)" \
		test -n "$fits" -a "$(find "$small/library" -type f -name '*.wav' | wc -l)" = 1
	umount "$small"
	trap cleanup EXIT
fi

finish
