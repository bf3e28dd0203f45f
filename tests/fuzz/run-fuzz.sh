#!/bin/bash
# Runs the import fuzz target (build/fuzz_import, made by `make fuzz`) for
# SECONDS, seeded from the media fixtures, and prints its final figures.
# Exits 0 if nothing crashed, leaked or hung; otherwise the fuzzer's
# exit status, with the end of its log and the input that did it, kept in
# build/fuzz-artifacts/ (replay it: build/fuzz_import FILE).
#   tests/fuzz/run-fuzz.sh SECONDS [CORPUS_DIR] [FIXTURES_DIR]
# CORPUS_DIR keeps what the fuzzer learned for the next run (default: a
# scratch directory, removed). FIXTURES_DIR defaults to $LOAXA_FIXTURES,
# else build/fixtures (made here if missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:?usage: run-fuzz.sh SECONDS [CORPUS_DIR] [FIXTURES_DIR]}
fuzzer=$root/build/fuzz_import
fixtures=${3:-${LOAXA_FIXTURES:-$root/build/fixtures}}
[ -x "$fuzzer" ] || { echo "run-fuzz: build it first: make fuzz" >&2; exit 2; }
"$root/tests/fixtures/make-fixtures.sh" "$fixtures" >/dev/null

scratch=$(mktemp -d "${TMPDIR:-/tmp}/loaxa-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
corpus=${2:-$scratch/corpus}
mkdir -p "$corpus" "$root/build/fuzz-artifacts"
export LSAN_OPTIONS=suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# inputs up to 64 KiB (the seeds are cut there); any one input over 20 s is
# a hang; the temporary file each input is written to goes in the scratch
rc=0
TMPDIR=$scratch "$fuzzer" -max_total_time="$seconds" -max_len=65536 -timeout=20 \
	-print_final_stats=1 -artifact_prefix="$root/build/fuzz-artifacts/" \
	"$corpus" "$fixtures" >"$scratch/log" 2>&1 || rc=$?
if [ $rc -ne 0 ]; then
	tail -n 60 "$scratch/log"
	echo "run-fuzz: the fuzzer stopped with status $rc; the input is in build/fuzz-artifacts/"
	exit $rc
fi
grep -E '^(Done|INFO: seed corpus)|stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' \
	"$scratch/log" || true
echo "run-fuzz: no crash in $seconds s; corpus of $(find "$corpus" -type f | wc -l) inputs"
