#!/usr/bin/env bash
# valgrind.sh - the test suite once under valgrind (memcheck): a separate
# target, not part of scripts/test.sh (it takes 20-40 times as long).
#
#   scripts/valgrind.sh [TEST...]   default: every unit test and the
#                                   integration tests listed below
#
# Unit tests run under `meson test --wrapper`; integration tests reach
# mailstage through the harness's HARNESS_WRAP.  Valgrind reports go to
# build-vg/valgrind/*.log; the last line is "N tests, N with reports" and
# the exit status is 0 only when no log holds an error or a definite leak.
# Tests that measure time or memory (deadlines, peak RSS, benchmarks) are
# left out: valgrind's slowness makes them meaningless.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind missing (apt-get install valgrind)" >&2; exit 2; }

bd=build-vg
logs=$top/$bd/valgrind
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(check fetch append copy copy-refuse batch-validate batch backup mount-names)

if [ ! -f "$bd/build.ninja" ]; then
	meson setup "$bd" -Db_sanitize=none -Dbuildtype=debug >/dev/null || exit 2
fi
ninja -C "$bd" >/dev/null || { echo "valgrind.sh: build failed" >&2; exit 2; }
rm -rf "$logs"
mkdir -p "$logs"

vg="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"
vg="$vg --track-fds=no --log-file=$logs/%p.log"

echo "== unit tests under valgrind"
meson test -C "$bd" --suite unit --wrapper "$vg" --timeout-multiplier 20 --print-errorlogs
unit_rc=$?

echo "== integration tests under valgrind: ${tests[*]}"
HARNESS_WRAP="$vg" meson test -C "$bd" --timeout-multiplier 20 --print-errorlogs "${tests[@]}"
int_rc=$?

# a log with content is a report (--quiet leaves clean runs empty)
reports=0
for f in "$logs"/*.log; do
	[ -s "$f" ] || continue
	reports=$((reports + 1))
	echo "--- $f"
	head -40 "$f"
done
echo "valgrind: unit tests exit $unit_rc, integration tests exit $int_rc"
echo "$(ls "$logs" | wc -l) processes, $reports with reports"
[ "$reports" -eq 0 ] && [ "$unit_rc" -eq 0 ] && [ "$int_rc" -eq 0 ]
