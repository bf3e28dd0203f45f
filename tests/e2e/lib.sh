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

# within A B TOLERANCE: |A - B| <= TOLERANCE (decimals)
within() {
	awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'
}

# json_field FILE EXPRESSION: evaluates a Python expression over the JSON
# document `d` read from FILE
json_field() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
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

# make_staircase FILE: twelve 0.3 s tones, 400 Hz × 1.1^k (k = 0..11), mono
# 48 kHz, so a tape shows exactly which part of the item aired when
make_staircase() {
	local steps=() k
	for k in $(seq 0 11); do
		sox -n -r 48000 -c 1 -b 16 "$WORK/step$k.wav" synth 0.3 sine \
			"$(awk -v k=$k 'BEGIN { printf "%.1f", 400 * 1.1 ^ k }')" vol 0.5
		steps+=("$WORK/step$k.wav")
	done
	sox "${steps[@]}" "$1"
}

# record_verdicts FILE: counts each "PASS text" / "FAIL text" line of FILE
# (written by an analysis script) as a check
record_verdicts() {
	local verdict text
	while read -r verdict text; do
		[ "$verdict" = PASS ] && pass "$text"
		[ "$verdict" = FAIL ] && fail "$text"
	done <"$1"
	return 0
}

finish() {
	echo "$CHECKS_PASSED passed, $CHECKS_FAILED failed"
	[ "$CHECKS_FAILED" -eq 0 ]
}
