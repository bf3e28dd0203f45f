#!/bin/bash
# The test helpers themselves: a check whose value is missing, empty or not
# a number must fail, never pass as 0. Covers within, json, json_field,
# segment_count and record_verdicts of lib.sh, the expect_* checks of
# tests/testcard/expect.sh, and tests/run-tests.sh refusing a test file it
# cannot run instead of skipping it.
source "$(dirname "$0")/lib.sh"

# passes COMMAND...: the command succeeds; refuses COMMAND...: it fails
passes() { check "passes: $*" "$@"; }
refuses() { if "$@" 2>/dev/null; then fail "should fail: $*"; else pass "fails: $*"; fi; }

echo "== within"
refuses within "" 0 20
refuses within 0 "" 20
refuses within 0 0 ""
refuses within 1 2 x
refuses within None 0 1
refuses within nan 0 1
refuses within inf 0 1e400
refuses within "1 2" 1 1
refuses within 5
refuses within 1 1 1 1
refuses within 10 0 9.99
passes within 1.0 1.01 0.02
passes within 0 0 0
passes within -3 -3.5 0.5
passes within 1e3 1000 0
passes within .5 0.4 0.1000001
passes within +7 7 0
check "within says why it fails" \
	grep -q "'' is not a number" <(within "" 0 20 2>&1 || true)

echo "== json, json_field"
check "json prints a value" test "$(echo '{"a": 0}' | json "d['a']")" = 0
check "json prints a tuple holding None" test "$(echo '{"a": null}' | json "(d['a'], 1)")" = "(None, 1)"
refuses json "d['a']" <<<'{"a": null}'
check "json prints nothing for a null value" test -z "$(json "d['a']" <<<'{"a": null}' 2>/dev/null || true)"
refuses json "d['b']" <<<'{"a": 1}'
refuses json "len(d)" <<<'not json'
refuses json "len(d)" </dev/null
echo '[{"x": 2}, {"x": 3}]' >"$WORK/doc.json"
check "json_field reads a file" test "$(json_field "$WORK/doc.json" "sum(s['x'] for s in d)")" = 5
refuses json_field "$WORK/doc.json" "d[5]"
refuses json_field "$WORK/missing.json" "len(d)"

echo "== segment_count"
refuses segment_count "$WORK/missing.wav"
check "segment_count prints nothing for a tape it cannot read" \
	test -z "$(segment_count "$WORK/missing.wav" 2>/dev/null || true)"
sox -n -r 48000 -c 1 -b 16 "$WORK/tone.wav" synth 0.5 sine 1000 vol 0.5 pad 0.5 0.5
printf 'origin_realtime_ns=1000000000\nxruns=0\n' >"$WORK/tone.wav.info"
check "segment_count counts a tone" test "$(segment_count "$WORK/tone.wav")" = 1
sox -n -r 48000 -c 1 -b 16 "$WORK/silence.wav" trim 0 1
printf 'origin_realtime_ns=1000000000\nxruns=0\n' >"$WORK/silence.wav.info"
check "segment_count of a silent tape is 0" test "$(segment_count "$WORK/silence.wav")" = 0

echo "== record_verdicts"
# counts CHECKS_PASSED CHECKS_FAILED after recording FILE, in a subshell
verdict_counts() {
	(CHECKS_PASSED=0 CHECKS_FAILED=0; record_verdicts "$1" >/dev/null; echo "$CHECKS_PASSED $CHECKS_FAILED")
}
: >"$WORK/no-verdicts"
check "no verdicts at all is a failure" test "$(verdict_counts "$WORK/no-verdicts")" = "0 1"
printf 'measured: 5 ms\nPASS one\nFAIL two\nPASS three\n' >"$WORK/verdicts"
check "PASS and FAIL lines are counted" test "$(verdict_counts "$WORK/verdicts")" = "2 1"

echo "== tests/testcard/expect.sh"
# card CHECK ARGS...: runs one check of expect.sh in a subshell; prints
# "passed failed"
card() {
	(source "$ROOT/tests/testcard/expect.sh"; "$@" >/dev/null; echo "$passed $failed")
}
card_passes() { check "passes: $*" test "$(card "$@")" = "1 0"; }
card_fails() { check "fails: $*" test "$(card "$@")" = "0 1"; }
card_fails expect_within w "" 1000 2000 "it"
card_fails expect_within w 1500 "" 2000 "it"
card_fails expect_within w 1500 1000 "" "it"
card_fails expect_within w abc 1000 2000 "it"
card_fails expect_within w 2000000000 1000 2000 "it"
card_passes expect_within w 1500 1000 2000 "it"
card_passes expect_within w 2100 1000 2000 "it (inside the 0.2 ms slack)"
card_fails expect_range r "" 0 10 ms
card_fails expect_range r abc 0 10 ms
card_fails expect_range r 0 "" "" ms
card_fails expect_range r 11 0 10 ms
card_passes expect_range r 5 0 10 ms
card_passes expect_range r -0.5 -1 0 ms
card_fails expect_near n "" 0 1 ms
card_fails expect_near n 0 "" "" ms
card_fails expect_near n 0 abc 1 ms
card_fails expect_near n 2.5 1 1 ms
card_passes expect_near n 1.05 1 0.1 ms
card_fails expect_equal e "" ""
card_fails expect_equal e "" 2
card_fails expect_equal e 3 2
card_passes expect_equal e 2 2
card_passes expect_equal e -inf -inf
check "ms_between of a missing reading prints nothing and fails" \
	test "$(source "$ROOT/tests/testcard/expect.sh"; ms_between "" 5 || echo failed)" = failed
check "ns_difference_ms of a missing reading prints nothing and fails" \
	test "$(source "$ROOT/tests/testcard/expect.sh"; ns_difference_ms 1000 "" || echo failed)" = failed
check "compute over numbers" \
	test "$(source "$ROOT/tests/testcard/expect.sh"; compute '(b - a) / 48' a=480 b=1440)" = 20
check "compute of a missing number prints nothing and fails" \
	test "$(source "$ROOT/tests/testcard/expect.sh"; compute 'a + b' a= b=2 || echo failed)" = failed
check "compute of a word fails" \
	test "$(source "$ROOT/tests/testcard/expect.sh"; compute 'a + 1' a=None || echo failed)" = failed
check "ns_difference_ms is exact for large integers" \
	test "$(source "$ROOT/tests/testcard/expect.sh"; ns_difference_ms 1764650000123456789 1764650001123456789)" = 1000.000

echo "== tests/run-tests.sh refuses a test it cannot run"
# A copy of the runner in a tree of its own: one passing test, one that is
# not executable; a stub fixture maker and test card test.
tree=$WORK/tree
mkdir -p "$tree/tests/e2e" "$tree/tests/fixtures" "$tree/tests/testcard" "$tree/build"
cp "$ROOT/tests/run-tests.sh" "$tree/tests/"
printf '#!/bin/sh\nexit 0\n' >"$tree/tests/fixtures/make-fixtures.sh"
printf '#!/bin/sh\nexit 0\n' >"$tree/tests/testcard/test_testcard.sh"
printf '#!/bin/sh\nexit 0\n' >"$tree/tests/e2e/test_good.sh"
printf '#!/bin/sh\nexit 0\n' >"$tree/tests/e2e/test_not_executable.sh"
chmod +x "$tree/tests/fixtures/make-fixtures.sh" "$tree/tests/testcard/test_testcard.sh" \
	"$tree/tests/e2e/test_good.sh"
rc=0
"$tree/tests/run-tests.sh" e2e "$tree/build" >"$WORK/runner.out" 2>&1 || rc=$?
sed 's/^/    | /' "$WORK/runner.out"
check "the runner fails (exit $rc)" test "$rc" -ne 0
check "it names the test that is not executable" \
	grep -q "FAILED: build/test_not_executable: .*test_not_executable.sh is not executable" "$WORK/runner.out"
check "it still runs the others" grep -q "^--- ok: build/test_good" "$WORK/runner.out"
check "its count says so" grep -qx "2 passed, 1 failed" "$WORK/runner.out"
rc=0
"$tree/tests/run-tests.sh" unit "$tree/build" >"$WORK/runner-unit.out" 2>&1 || rc=$?
check "no unit tests built is a failure, not a pass (exit $rc)" test "$rc" -ne 0
finish
