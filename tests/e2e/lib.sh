# Shared by the end-to-end tests: sourced, with the build directory as $1.
# Gives a scratch directory, the paced test card, and check helpers that
# count results; the test ends with `finish`.
set -euo pipefail

BUILD=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOAXA=$BUILD/loaxa
TAPETOOL=$BUILD/tapetool
export ALSA_CONFIG_PATH=/usr/share/alsa/alsa.conf:$BUILD/testcard.conf
export TZ=${TZ:-Asia/Ho_Chi_Minh}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/loaxa-e2e.XXXXXX")
DB=$WORK/loaxa.db
export LOAXA_DB=$DB
export LOAXA_CONFIG=/dev/null
# The test card the station plays to: loaxatest (like hardware: a rewind is
# taken back) or loaxatest_server (like a sound server's plugin: it is not).
CARD=${LOAXA_TEST_CARD:-loaxatest}
echo "(on the test card $CARD)"
CHECKS_PASSED=0
CHECKS_FAILED=0
SERVE_PID=

cleanup() {
	if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
		kill -KILL "$SERVE_PID" 2>/dev/null || true
	fi
	if [ "${KEEP_WORK:-0}" = 1 ] || [ "$CHECKS_FAILED" -ne 0 ]; then
		echo "(scratch files kept in $WORK)"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

pass() { CHECKS_PASSED=$((CHECKS_PASSED + 1)); echo "  ok   $*"; }
fail() { CHECKS_FAILED=$((CHECKS_FAILED + 1)); echo "  FAIL $*"; }

# check DESCRIPTION COMMAND...: passes if the command succeeds
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# expect_status STATUS PATTERN COMMAND...: the command exits with STATUS and
# its standard error matches the extended regular expression PATTERN
expect_status() {
	local want=$1 pattern=$2 rc=0
	shift 2
	"$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	if [ "$rc" -eq "$want" ] && grep -Eq -- "$pattern" "$WORK/err"; then
		pass "exit $want, '$pattern': $*"
	else
		fail "wanted exit $want and '$pattern' from: $* — got exit $rc: $(head -c 300 "$WORK/err")"
	fi
}

# is_number TEXT: TEXT is a decimal number (12, -3.5, .5, 1e9); not empty,
# not "None", "nan" or "inf"
is_number() {
	[[ ${1-} =~ ^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$ ]]
}

# within A B TOLERANCE: |A - B| <= TOLERANCE (decimals). A missing or
# non-numeric argument is a failure, said on standard error (awk alone would
# read "" as 0, and a value never measured would pass).
within() {
	local arg
	if [ $# -ne 3 ]; then
		echo "  within: wants 3 numbers, got $# argument(s): $*" >&2
		return 2
	fi
	for arg in "$@"; do
		if ! is_number "$arg"; then
			echo "  within '$1' '$2' '$3': '$arg' is not a number (a value missing?)" >&2
			return 2
		fi
	done
	awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'
}

# json EXPRESSION: evaluates a Python expression over the JSON document `d`
# read from standard input and prints its value. Fails, printing nothing
# on standard output, if the input is not JSON, the expression fails, or its
# value is None (a field that is null or missing), so a missing value cannot
# compare equal to anything.
json() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
value = eval(sys.argv[1])
if value is None:
    sys.exit("json: %s is None (missing)" % sys.argv[1])
print(value)' "$1"
}

# json_field FILE EXPRESSION: json EXPRESSION over the document in FILE
json_field() {
	json "$2" <"$1"
}

# segment_count TAPE: how many segments tapetool finds on TAPE; fails,
# printing nothing, if tapetool cannot read it
segment_count() {
	local segments
	if ! segments=$("$TAPETOOL" segments "$1"); then
		echo "  tapetool cannot read the tape $1" >&2
		return 1
	fi
	awk '/^segment / { n++ } END { print n + 0 }' <<<"$segments"
}

# start_serve DEVICE [ARGS...]: runs `loaxa serve` in the background, logging
# to $WORK/serve.log
start_serve() {
	local device=$1
	shift
	"$LOAXA" serve --device "$device" "$@" >"$WORK/serve.out" 2>"$WORK/serve.log" &
	SERVE_PID=$!
}

# stop_serve: SIGTERM and wait; returns the exit status
stop_serve() {
	local rc=0
	kill -TERM "$SERVE_PID"
	wait "$SERVE_PID" || rc=$?
	SERVE_PID=
	return $rc
}

# kill_serve: SIGKILL, as a crash or a power cut would stop it
kill_serve() {
	kill -KILL "$SERVE_PID"
	wait "$SERVE_PID" 2>/dev/null || true
	SERVE_PID=
}

# wait_for SECONDS COMMAND...: polls every 0.2 s until the command succeeds
wait_for() {
	local limit=$1
	shift
	local deadline=$((SECONDS + limit))
	while [ $SECONDS -lt $deadline ]; do
		if "$@" 2>/dev/null; then return 0; fi
		sleep 0.2
	done
	return 1
}

# record_verdicts FILE: counts each "PASS text" / "FAIL text" line of FILE
# (written by an analysis script) as a check; a file without any verdict
# (the script printed none) is a failure
record_verdicts() {
	local verdict text count=0
	while read -r verdict text; do
		[ "$verdict" = PASS ] && pass "$text" && count=$((count + 1))
		[ "$verdict" = FAIL ] && fail "$text" && count=$((count + 1))
	done <"$1"
	[ "$count" -gt 0 ] || fail "no verdicts in $1"
	return 0
}

# make_staircase FILE [COUNT [SECONDS]]: COUNT tones (12) of SECONDS each
# (0.3), step k at 400 Hz × 1.1^k, 48 kHz mono: the tape shows which part
# of it aired when
make_staircase() {
	local out=$1 count=${2:-12} seconds=${3:-0.3} k parts=()
	for k in $(seq 0 $((count - 1))); do
		sox -n -r 48000 -c 1 -b 16 "$WORK/staircase-step$k.wav" synth "$seconds" sine \
			"$(awk -v k="$k" 'BEGIN { printf "%.1f", 400 * 1.1 ^ k }')" vol 0.5
		parts+=("$WORK/staircase-step$k.wav")
	done
	sox "${parts[@]}" "$out"
}

# make_microphone SECONDS: an ALSA capture device `loaxamic` that gives a
# 1500 Hz tone for SECONDS, for `loaxa live`
make_microphone() {
	sox -n -r 48000 -c 1 -e float -b 32 -t raw "$WORK/mic.raw" synth "$1" sine 1500 vol 0.5
	cat >"$WORK/mic.conf" <<CONF
pcm.loaxamic {
	type plug
	slave.pcm { type file slave.pcm "null" file "/dev/null" infile "$WORK/mic.raw" format "raw" }
}
CONF
	export ALSA_CONFIG_PATH=$ALSA_CONFIG_PATH:$WORK/mic.conf
}

finish() {
	echo "$CHECKS_PASSED passed, $CHECKS_FAILED failed"
	[ "$CHECKS_FAILED" -eq 0 ]
}
