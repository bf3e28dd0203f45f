# The checks of test_testcard.sh, sourced: each counts one result in
# `passed` or `failed` and prints it. A value that is missing, empty or not
# a number is a failure, never read as 0 (awk and bash arithmetic would).
# tests/e2e/test_lib.sh tests these helpers.
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# is_number TEXT: a decimal number (12, -3.5, .5, 1e9); is_integer TEXT: a
# whole number
is_number() { [[ ${1-} =~ ^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$ ]]; }
is_integer() { [[ ${1-} =~ ^-?[0-9]+$ ]]; }

# ms_between A_NS B_NS: (B - A) in ms; prints nothing and fails unless both
# are numbers
ms_between() {
	is_number "${1-}" && is_number "${2-}" || return 1
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e6 }'
}
# ns_difference_ms A_NS B_NS: the same for two large integers, exact in bash
ns_difference_ms() {
	is_integer "${1-}" && is_integer "${2-}" || return 1
	local d=$(($2 - $1))
	awk -v d="$d" 'BEGIN { printf "%.3f", d / 1e6 }'
}

# compute EXPRESSION NAME=NUMBER...: awk's value of EXPRESSION over the
# named numbers; prints nothing and fails if any of them is not a number
compute() {
	local expression=$1 arg
	local -a variables=()
	shift
	for arg in "$@"; do
		is_number "${arg#*=}" || return 1
		variables+=(-v "$arg")
	done
	awk "${variables[@]}" "BEGIN { printf \"%.9g\", $expression }"
}

# expect_range LABEL VALUE LOW HIGH UNIT [EXPECTED_TEXT]
expect_range() {
	local label=$1 value=${2-} low=${3-} high=${4-} unit=${5-} expected=${6:-"${3-} to ${4-}"}
	if ! is_number "$low" || ! is_number "$high"; then
		fail "$label: ${value:-nothing} $unit (the bounds '$low' and '$high' are not both numbers)"
	elif is_number "$value" && awk -v v="$value" -v l="$low" -v h="$high" \
		'BEGIN { exit !(l <= v && v <= h) }'; then
		pass "$label: $value $unit (expected $expected)"
	else
		fail "$label: ${value:-nothing} $unit (expected $expected)"
	fi
}

# expect_near LABEL VALUE EXPECTED TOLERANCE UNIT
expect_near() {
	if ! is_number "${3-}" || ! is_number "${4-}"; then
		fail "$1: ${2:-nothing} ${5-} (the expected '${3-}' ± '${4-}' is not a number)"
		return 0
	fi
	expect_range "$1" "${2-}" "$(awk -v e="$3" -v t="$4" 'BEGIN { printf "%.9g", e - t }')" \
		"$(awk -v e="$3" -v t="$4" 'BEGIN { printf "%.9g", e + t }')" "${5-}" "$3 ± $4"
}

# expect_equal LABEL VALUE EXPECTED: the same text; an empty value (or
# expectation) is nothing measured, a failure
expect_equal() {
	if [ -n "${2-}" ] && [ -n "${3-}" ] && [ "$2" = "$3" ]; then
		pass "$1: $2"
	else
		fail "$1: ${2:-nothing} (expected ${3:-nothing})"
	fi
}

# expect_within LABEL VALUE_NS LOW_NS HIGH_NS WHAT: the instant VALUE lies in
# [LOW, HIGH] (two clock readings around an ALSA call), give or take 0.2 ms.
expect_within() {
	local label=$1 value=${2-} low=${3-} high=${4-} slack=200000 text
	if ! is_integer "$value" || ! is_integer "$low" || ! is_integer "$high"; then
		fail "$label: a reading is missing (instant '$value', window '$low' to '$high' ns)"
		return 0
	fi
	text="$(ns_difference_ms "$low" "$value") ms after ${5-} (window $(ns_difference_ms "$low" "$high") ms)"
	if ((low - slack <= value && value <= high + slack)); then
		pass "$label: $text"
	else
		fail "$label: $text"
	fi
}
