#!/usr/bin/env bash
# test.sh - the one test command (README quick start, .ci/run).
#
#   1. scripts/setup.sh (as root): packages, the vmail user;
#   2. build/       normal build, every meson test suite but 'long';
#   3. build-asan/  -Db_sanitize=address,undefined, every suite again but 'courier' (slow, see tests/meson.build);
#   4. scripts/fuzz-smoke.sh: each libFuzzer target for a short run.
#
# The last line it prints is "N passed, N failed" (", N skipped" when some
# were), summed over every meson test run (Ok and Expected Fail count as
# passed; Fail, Timeout and Unexpected Pass as failed) and the fuzz targets;
# a build that breaks counts as one failure.  Exit status 0 only when
# nothing failed.
#
# Knobs (environment):
#   TEST_BUDGET_MIN  minutes the whole run may take (default 80; CI stops at
#                    90).  If the normal run used more than half of it, the
#                    ASan run leaves out the 'integration' suite (said so).
#   ASAN_INTEGRATION=0   never run the 'integration' suite under ASan.
#   SKIP_ASAN=1, SKIP_FUZZ=1, SKIP_SETUP=1   leave a step out (said so).
#   MESON_TEST_ARGS  extra arguments for every `meson test`.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

passed=0
failed=0
skipped=0
start=$(date +%s)
budget=$((${TEST_BUDGET_MIN:-80} * 60))

say() { printf '\n=== test.sh: %s\n' "$*"; }

if [ "${SKIP_SETUP:-0}" = 1 ]; then
	say "setup skipped (SKIP_SETUP=1)"
elif [ "$(id -u)" -eq 0 ]; then
	say "setup"
	./scripts/setup.sh || { echo "test.sh: setup failed" >&2; failed=$((failed + 1)); }
else
	say "not root: scripts/setup.sh skipped (integration tests need root and will skip)"
fi

# configure DIR [meson options...]: set up or re-configure a build dir.
configure() {
	local dir=$1 log=$1/test.sh-setup.log
	shift
	mkdir -p "$dir"
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >"$log" 2>&1 && return 0
		meson setup --wipe "$dir" "$@" >"$log" 2>&1 && return 0
	else
		meson setup "$dir" "$@" >"$log" 2>&1 && return 0
	fi
	cat "$log" >&2
	return 1
}

# count_summary LOG: add meson test's summary lines to the totals.
count_summary() {
	local log=$1 ok xfail fail upass skip tout
	if grep -q '^No tests defined' "$log"; then
		return 0
	fi
	if ! grep -q '^Ok:' "$log"; then
		echo "test.sh: no meson test summary in $log: counted as one failure" >&2
		failed=$((failed + 1))
		return 0
	fi
	field() { awk -v k="$1" '$0 ~ "^" k ":" { print $NF }' "$log" | tail -1; }
	ok=$(field 'Ok')
	xfail=$(field 'Expected Fail')
	fail=$(field 'Fail')
	upass=$(field 'Unexpected Pass')
	skip=$(field 'Skipped')
	tout=$(field 'Timeout')
	passed=$((passed + ${ok:-0} + ${xfail:-0}))
	failed=$((failed + ${fail:-0} + ${upass:-0} + ${tout:-0}))
	skipped=$((skipped + ${skip:-0}))
}

# run_build DIR "meson test args" [meson setup options...]
run_build() {
	local dir=$1 targs=$2 log
	shift 2
	say "$dir: configure ($*)"
	if ! configure "$dir" "$@"; then
		echo "test.sh: $dir: meson setup failed: counted as one failure" >&2
		failed=$((failed + 1))
		return
	fi
	say "$dir: build"
	if ! ninja -C "$dir"; then
		echo "test.sh: $dir: build failed: counted as one failure" >&2
		failed=$((failed + 1))
		return
	fi
	say "$dir: meson test $targs"
	log=$dir/test.sh-test.log
	# the 'long' suite (hundreds of fault points) is run by hand only
	# shellcheck disable=SC2086
	meson test -C "$dir" --print-errorlogs --num-processes 2 --no-suite long $targs \
		${MESON_TEST_ARGS:-} 2>&1 | tee "$log"
	count_summary "$log"
}

run_build build "" -Db_sanitize=none

if [ "${SKIP_ASAN:-0}" = 1 ]; then
	say "ASan build skipped (SKIP_ASAN=1)"
else
	# Courier interop: one slow APPEND at a time (~12 min); the normal run has it
	asan_args="--no-suite courier"
	elapsed=$(($(date +%s) - start))
	if [ "${ASAN_INTEGRATION:-1}" = 0 ]; then
		asan_args="--no-suite integration"
		say "ASan run without the integration suite (ASAN_INTEGRATION=0)"
	elif [ "$elapsed" -gt $((budget / 2)) ]; then
		asan_args="--no-suite integration"
		say "ASan run without the integration suite: ${elapsed}s used of ${budget}s"
	fi
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		run_build build-asan "$asan_args" \
		-Db_sanitize=address,undefined -Db_lundef=false
fi

if [ "${SKIP_FUZZ:-0}" = 1 ]; then
	say "fuzz smoke skipped (SKIP_FUZZ=1)"
else
	say "fuzz smoke"
	mkdir -p build-fuzz
	./scripts/fuzz-smoke.sh 2>&1 | tee build-fuzz/test.sh-smoke.log
	line=$(grep -E '^fuzz: [0-9]+ passed, [0-9]+ failed' build-fuzz/test.sh-smoke.log | tail -1)
	if [ -n "$line" ]; then
		set -- $line
		passed=$((passed + $2))
		failed=$((failed + $4))
	elif ! grep -q '^fuzz: skipped' build-fuzz/test.sh-smoke.log; then
		echo "test.sh: fuzz smoke gave no result: counted as one failure" >&2
		failed=$((failed + 1))
	fi
fi

say "done in $(($(date +%s) - start))s"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
