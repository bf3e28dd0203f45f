#!/bin/bash
# Import speed on MP3 speech, against two baselines measured in the same run:
#   - bare decode: the corpus decoded by libmpg123 alone, set up as loaxa's
#     decoder is (build/bench/bench_import --mp3-decode);
#   - loudgain, where installed, doing the same analysis on the same files
#     (integrated loudness, loudness range, true peak, a gain for -18 LUFS
#     held under -1 dBTP; no tags written: -s s).
# The corpus: Vietnamese announcements spoken by espeak-ng, over a little
# pink noise, at several levels, encoded by lame as the district and the
# phone deliver them (44.1/48 kHz stereo CBR and VBR, 44.1/22.05/16 kHz mono)
# — 6 files, 33 minutes. It is made once and kept in BUILD_DIR/bench-corpus.
# Each tool runs RUNS times (default 3) over the whole corpus in one process;
# the fastest run counts. CPU seconds are user + system of the process and
# its children (bash's `time`). Targets: import at least 2× as fast as
# loudgain, and at least 0.5× the speed of the bare decode.
#   bench/bench_import.sh [BUILD_DIR] [RUNS]
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
RUNS=${2:-3}
LOAXA=$BUILD/loaxa
CORPUS=$BUILD/bench-corpus
export LOAXA_CONFIG=/dev/null LC_ALL=C.UTF-8
WORK=$(mktemp -d "${TMPDIR:-/tmp}/loaxa-bench-import.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

for tool in sox lame espeak-ng; do
	command -v "$tool" >/dev/null || { echo "bench_import: $tool is needed (scripts/install-deps)" >&2; exit 1; }
done
if [ ! -x "$LOAXA" ] || [ ! -x "$BUILD/bench/bench_import" ]; then
	echo "bench_import: build first (make)" >&2
	exit 1
fi

# --- the corpus --------------------------------------------------------------
paragraphs=(
	"Thông báo của Ủy ban nhân dân xã về việc phòng chống bão lụt. Đề nghị bà con nhân dân chủ động gia cố nhà cửa, chằng chống mái tôn, thu hoạch lúa và hoa màu trước khi bão đổ bộ."
	"Các hộ gia đình ở vùng trũng thấp chuẩn bị di dời đến nơi an toàn theo hướng dẫn của ban chỉ huy phòng chống thiên tai và tìm kiếm cứu nạn xã."
	"Thực hiện kế hoạch cải cách hành chính năm nay, bộ phận một cửa của xã tiếp nhận hồ sơ từ bảy giờ sáng đến năm giờ chiều, từ thứ hai đến thứ sáu hằng tuần."
	"Trạm y tế xã tổ chức tiêm chủng mở rộng cho trẻ em dưới năm tuổi vào sáng thứ bảy tuần này. Đề nghị các bậc phụ huynh mang theo sổ tiêm chủng."
	"Hội nông dân xã thông báo lịch gieo cấy vụ đông xuân. Bà con chú ý phòng trừ rầy nâu, bệnh đạo ôn và sử dụng thuốc bảo vệ thực vật đúng cách."
	"Nhằm đảm bảo an toàn giao thông, đề nghị người dân không phơi rơm rạ trên đường liên thôn, đội mũ bảo hiểm khi đi xe máy và không lái xe sau khi uống rượu bia."
	"Ban văn hóa xã mời bà con đến dự buổi giao lưu văn nghệ chào mừng ngày Đại đoàn kết toàn dân tộc, tổ chức tại nhà văn hóa thôn Đông vào tối thứ bảy."
)
# name : espeak speed (words/min), pitch : level (dB) : sox rate and channels : lame options
specs=(
	"thông-báo-bão-lụt.mp3:160:50:-4:44100 2:-b 128"
	"cải-cách-hành-chính.mp3:150:40:-9:44100 1:-V 5"
	"tiêm-chủng.mp3:170:60:-6:48000 2:-V 2"
	"lịch-gieo-cấy.mp3:155:45:-12:22050 1:-b 64"
	"an-toàn-giao-thông.mp3:165:55:-3:44100 2:-b 96"
	"điện-thoại-trưởng-thôn.mp3:145:35:-8:16000 1:-b 32"
)
corpus_sum=$( { sed -n '/^paragraphs=(/,/^# --- measure/p' "$0"; espeak-ng --version; lame --version | head -1; } | sha256sum | cut -d' ' -f1)
if [[ ! -f $CORPUS/.stamp || $(cat "$CORPUS/.stamp") != "$corpus_sum" ]]; then
	echo "bench_import: making the corpus in $CORPUS"
	rm -rf "$CORPUS"
	mkdir -p "$CORPUS"
	i=0
	for spec in "${specs[@]}"; do
		IFS=: read -r name speed pitch level format lame_options <<<"$spec"
		read -r rate channels <<<"$format"
		: >"$WORK/text"
		for repeat in $(seq 0 4); do
			for p in $(seq 0 $((${#paragraphs[@]} - 1))); do
				echo "${paragraphs[$(( (p + i + repeat) % ${#paragraphs[@]} ))]}" >>"$WORK/text"
			done
		done
		espeak-ng -v vi -s "$speed" -p "$pitch" -f "$WORK/text" -w "$WORK/voice.wav"
		seconds=$(soxi -D "$WORK/voice.wav")
		# a room and a line: pink noise 45 dB under full scale, seeded
		sox -D -R -n -r 22050 -c 1 "$WORK/noise.wav" synth "$seconds" pinknoise vol 0.006
		sox -D -R -m "$WORK/voice.wav" "$WORK/noise.wav" -r "$rate" -c "$channels" -b 16 \
			"$WORK/mix.wav" gain "$level"
		# shellcheck disable=SC2086 # the options are words
		lame --quiet $lame_options --tt "${paragraphs[$i]:0:40}" "$WORK/mix.wav" "$CORPUS/$name"
		i=$((i + 1))
	done
	echo "$corpus_sum" >"$CORPUS/.stamp"
fi
files=("$CORPUS"/*.mp3)

# --- measure -------------------------------------------------------------------
# best_of NAME COMMAND...: runs the command RUNS times; prints "REAL CPU" of
# the run with the least CPU time (user + system, children included).
best_of() {
	local name=$1 best_cpu="" best_real="" run
	shift
	for run in $(seq "$RUNS"); do
		local out=$WORK/$name.$run
		{ TIMEFORMAT='%R %U %S'; time "$@" >"$out.stdout" 2>"$out.stderr"; } 2>"$out.time" ||
			{ echo "bench_import: $name failed:" >&2; cat "$out.stderr" >&2; return 1; }
		read -r real user sys <"$out.time"
		cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
		if [ -z "$best_cpu" ] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then
			best_cpu=$cpu
			best_real=$real
			cp "$out.stdout" "$WORK/$name.best"
			cp "$out.stderr" "$WORK/$name.best.stderr"
		fi
	done
	echo "$best_real $best_cpu"
}

# Import: a new database and library for each run, all files in one call.
import_corpus() {
	rm -rf "$WORK/import"
	mkdir -p "$WORK/import"
	LOAXA_DB=$WORK/import/loaxa.db "$LOAXA" init >/dev/null
	LOAXA_DB=$WORK/import/loaxa.db "$LOAXA" media import "${files[@]}" --json
}

read -r decode_real decode_cpu < <(best_of decode "$BUILD/bench/bench_import" --mp3-decode "${files[@]}")
audio_s=$(sed -n 's/.*audio_s=\([0-9.]*\).*/\1/p' "$WORK/decode.best")
awk -v a="$audio_s" 'BEGIN { exit !(a >= 1800) }' || { echo "bench_import: the corpus is under 30 minutes" >&2; exit 1; }
read -r import_real import_cpu < <(best_of import import_corpus)
imported=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/import.best")
[ "$imported" = "${#files[@]}" ] || { echo "bench_import: only $imported of ${#files[@]} files imported" >&2; exit 1; }
loudgain_real="" loudgain_cpu=""
if command -v loudgain >/dev/null; then
	read -r loudgain_real loudgain_cpu < <(best_of loudgain loudgain -q -k -s s -O "${files[@]}")
fi

# --- report --------------------------------------------------------------------
echo "bench_import: corpus ${#files[@]} MP3 files, $(awk -v a="$audio_s" 'BEGIN { printf "%.1f", a / 60 }') minutes of speech, $(du -sh "$CORPUS" | cut -f1) ($CORPUS); best of $RUNS runs"
line() { # LABEL REAL CPU
	awk -v l="$1" -v r="$2" -v c="$3" -v a="$audio_s" \
		'BEGIN { printf "bench_import: %-28s %7.3f s CPU %7.3f s real  %6.0f× real time (CPU)\n", l, c, r, a / c }'
}
line "bare libmpg123 decode" "$decode_real" "$decode_cpu"
line "loaxa media import" "$import_real" "$import_cpu"
if [ -n "$loudgain_cpu" ]; then
	line "loudgain (-k -s s)" "$loudgain_real" "$loudgain_cpu"
else
	printf 'bench_import: %-28s not installed (apt-get install loudgain to compare)\n' loudgain
fi
verdict() { # LABEL RATIO TARGET
	awk -v l="$1" -v r="$2" -v t="$3" \
		'BEGIN { printf "bench_import: %-44s %5.2f×  (target ≥ %.1f×: %s)\n", l, r, t, (r >= t ? "met" : "NOT MET") }'
}
verdict "import speed vs bare decode" "$(awk -v d="$decode_cpu" -v i="$import_cpu" 'BEGIN { print d / i }')" 0.5
if [ -n "$loudgain_cpu" ]; then
	verdict "import speed vs loudgain" "$(awk -v l="$loudgain_cpu" -v i="$import_cpu" 'BEGIN { print l / i }')" 2
	# the two analyses side by side (loudgain reads a mono file as one
	# channel, loaxa as the two loudspeaker channels it is aired on: +3 LU)
	python3 - "$WORK/import.best" "$WORK/loudgain.best" <<'PYTHON'
import json, os, sys
loaxa = {m["original_name"]: m for m in json.load(open(sys.argv[1]))}
print("bench_import:   file                              loaxa LUFS  dBTP | loudgain LUFS  dBTP")
for row in open(sys.argv[2]).read().splitlines()[1:]:
    f = row.split("\t")
    name = os.path.basename(f[0])
    m = loaxa.get(name)
    if m:
        print("bench_import:   %-32s %8.2f %6.2f | %8s %6s" % (name, m["loudness_lufs"], m["true_peak_dbtp"],
              f[1].split()[0], f[4].split()[0]))
PYTHON
fi
