#!/bin/bash
# Runs loaxa's tests: tests/run-tests.sh (unit|e2e|all) BUILD_DIR [BUILD_DIR...]
# Each build directory (build/, build-asan/) gets the same tests; a
# ThreadSanitizer build (build-tsan/) runs only the engine's tests, and any
# race it reports (in any process of the test) fails that test. Every test
# program runs under a timeout. Unit tests run first, two at a time; then
# two builds' end-to-end tests side by side (see below). The last line is
# "N passed, N failed".
set -u
mode=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
passed=0
failed=0
failures=()

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# the engine's threads, where ThreadSanitizer looks (build-tsan/)
tsan_unit="test_playout_engine test_playout_convert"
# unit tests that measure time: never run beside another
timed_units="test_playout_engine"
tsan_e2e="test_emergency test_emergency_server test_preemption test_preemption_server test_first_broadcast test_pulse test_outage"
tsan_reports=

# refuse NAME WHY: a test that cannot run is a failure, not a silent skip
refuse() {
	echo "=== $1"
	echo "--- FAILED: $1: $2"
	failed=$((failed + 1))
	failures+=("$1")
}

# run_file NAME LIMIT FILE ARGS...: runs the test program FILE, or refuses
# it if it is not an executable file
run_file() {
	local name=$1 limit=$2 file=$3
	if [ ! -f "$file" ]; then
		refuse "$name" "there is no $file (build first: make)"
	elif [ ! -x "$file" ]; then
		refuse "$name" "$file is not executable (chmod +x it)"
	else
		run "$@"
	fi
}

run() {
	local name=$1 limit=$2
	shift 2
	echo "=== $name"
	local start=$SECONDS
	[ -z "$tsan_reports" ] || rm -f "$tsan_reports"/report.*
	local rc=0
	timeout -k 10 "$limit" "$@" || rc=$?
	if [ -n "$tsan_reports" ] && ls "$tsan_reports"/report.* >/dev/null 2>&1; then
		echo "--- ThreadSanitizer reports:"
		cat "$tsan_reports"/report.* | head -200
		[ $rc -ne 0 ] || rc=66
	fi
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "--- ok: $name ($((SECONDS - start)) s)"
	else
		failed=$((failed + 1))
		failures+=("$name")
		[ $rc -eq 124 ] && echo "--- TIMEOUT after $limit s: $name" || echo "--- FAILED ($rc): $name"
	fi
}

# side_by_side COMMAND ARG...: runs `COMMAND ARG` for each ARG, two at once,
# each with its output and counts kept apart, then reports them in order
side_by_side() {
	local command=$1 scratch i=0
	shift
	scratch=$(mktemp -d)
	for arg in "$@"; do
		while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
		(
			passed=0 failed=0 failures=()
			"$command" "$arg" >"$scratch/$i.out" 2>&1
			echo "$passed $failed ${failures[*]}" >"$scratch/$i.counts"
		) &
		i=$((i + 1))
	done
	wait
	for ((k = 0; k < i; k++)); do
		cat "$scratch/$k.out"
		local p=0 f=0 names=""
		read -r p f names <"$scratch/$k.counts" || { f=1; names="(a report of $command is missing)"; }
		passed=$((passed + p))
		failed=$((failed + f))
		[ -z "$names" ] || failures+=($names)
	done
	rm -rf "$scratch"
}

# unit_program FILE: one unit test program of the build set up
unit_program() { run_file "$flavour/$(basename "$1")" 300 "$1"; }

# setup BUILD: the variables of one build directory's tests (flavour, its
# fixtures, ThreadSanitizer's reports)
setup() {
	build=$(cd "$1" && pwd)
	flavour=$(basename "$build")
	if ! "$root/tests/fixtures/make-fixtures.sh" "$build/fixtures" >/dev/null; then
		echo "cannot make the test fixtures"
		exit 1
	fi
	export LOAXA_FIXTURES=$build/fixtures
	tsan=0
	tsan_reports=
	if [ "${flavour%tsan}" != "$flavour" ]; then
		tsan=1
		tsan_reports=$build/tsan-reports
		mkdir -p "$tsan_reports"
		export TSAN_OPTIONS="log_path=$tsan_reports/report suppressions=$root/tests/tsan.supp"
	fi
}

# whether a test runs on this build: all do, but on a ThreadSanitizer build
# only the engine's
wanted() { [ $tsan = 0 ] || [[ " $1 " == *" $2 "* ]]; }

unit_tests() {
	setup "$1"
	# two at a time, but for those that measure time (and all of a
	# ThreadSanitizer build, whose reports are per test), alone
	local batch=()
	for test in "$build"/tests/test_*; do
		wanted "$tsan_unit" "$(basename "$test")" || continue
		if [ $tsan = 0 ] && [[ " $timed_units " != *" $(basename "$test") "* ]]; then
			batch+=("$test")
		else
			unit_program "$test"
		fi
	done
	[ ${#batch[@]} -eq 0 ] || side_by_side unit_program "${batch[@]}"
}

e2e_tests() {
	setup "$1"
	# the card is built without sanitizers: its own test runs once
	if [ "${flavour%asan}" = "$flavour" ] && [ $tsan = 0 ]; then
		run_file "$flavour/test_testcard" 300 "$root/tests/testcard/test_testcard.sh" "$build"
	fi
	# the sanitizers slow the station three-fold: the day-long run
	# (test_day) takes the eight hours around midnight there
	local hours=24
	[ "${flavour%asan}" = "$flavour" ] || hours=8
	for test in "$root"/tests/e2e/test_*.sh; do
		wanted "$tsan_e2e" "$(basename "$test" .sh)" || continue
		LOAXA_DAY_HOURS=${LOAXA_DAY_HOURS:-$hours} \
			run_file "$flavour/$(basename "$test" .sh)" 600 "$test" "$build"
	done
}

# Unit tests first, every build's. Then the end-to-end tests: a build
# without ThreadSanitizer and one with AddressSanitizer run side by side:
# their tests are stations playing to paced test cards in real time, mostly
# waiting, with the output thread at real-time priority, and no unit test
# runs beside them. A ThreadSanitizer build (many times the CPU) runs its
# own alone, after them.
if [ "$mode" = unit ] || [ "$mode" = all ]; then
	for build in "$@"; do
		unit_tests "$build"
	done
fi
if [ "$mode" = e2e ] || [ "$mode" = all ]; then
	side=() alone=()
	for build in "$@"; do
		case "$(basename "$(cd "$build" && pwd)")" in
		*tsan) alone+=("$build") ;;
		*) side+=("$build") ;;
		esac
	done
	while [ ${#side[@]} -gt 0 ]; do
		if [ ${#side[@]} -ge 2 ]; then
			side_by_side e2e_tests "${side[0]}" "${side[1]}"
			side=("${side[@]:2}")
		else
			e2e_tests "${side[0]}"
			side=()
		fi
	done
	for build in "${alone[@]}"; do
		e2e_tests "$build"
	done
fi

# The fuzz target of the import path (make fuzz; clang with libFuzzer), once,
# for 30 s, seeded from the fixtures: passes if nothing crashes, leaks or
# hangs. A crash leaves its input in build/fuzz-artifacts/.
if [ "$mode" = unit ] || [ "$mode" = all ]; then
	if [ -x "$root/build/fuzz_import" ]; then
		run_file "fuzz_import (30 s)" 120 "$root/tests/fuzz/run-fuzz.sh" 30
	else
		echo "=== fuzz_import: not built (make fuzz; it needs clang), not run"
	fi
fi

echo
if [ $failed -ne 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
