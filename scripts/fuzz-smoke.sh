#!/usr/bin/env bash
# fuzz-smoke.sh - build the libFuzzer targets (clang, -Dfuzzing=true, in
# build-fuzz/) and run each one for a short while from its seed corpus.
#
# Targets are the executables that fuzz/meson.build defines.  Target NAME
# reads its seeds from fuzz/corpus/NAME/ (or fuzz/corpus/NAME-without-a-
# "fuzz-"/"fuzz_"-prefix/), uses fuzz/NAME.dict when present, and writes
# what it finds to fuzz/corpus-run/NAME/ (git-ignored), so the seeds in
# git never change; a crash input lands in fuzz/corpus-run/NAME-crash-*
# (NAME-timeout-*, NAME-oom-*).
#
# Last line: "fuzz: N passed, N failed" (one per target), or
# "fuzz: skipped (REASON)" when there is nothing to run.
#   FUZZ_SECONDS  run time per target (default 20)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
secs=${FUZZ_SECONDS:-20}
dir=build-fuzz

if ! grep -qE '^[^#]*executable\(' fuzz/meson.build 2>/dev/null; then
	echo "fuzz: skipped (fuzz/meson.build defines no targets yet)"
	exit 0
fi
if ! command -v clang >/dev/null; then
	echo "fuzz: skipped (clang not installed)"
	exit 0
fi

if [ -f "$dir/build.ninja" ]; then
	setup=(meson setup --reconfigure "$dir" -Dfuzzing=true)
else
	setup=(meson setup "$dir" -Dfuzzing=true)
fi
mkdir -p "$dir"
if ! CC=clang "${setup[@]}" >"$dir/fuzz-smoke-setup.log" 2>&1; then
	cat "$dir/fuzz-smoke-setup.log" >&2
	echo "fuzz: meson setup failed"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi
if ! ninja -C "$dir"; then
	echo "fuzz: build failed"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi

mapfile -t targets < <(meson introspect "$dir" --targets | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if t["type"] == "executable" and t["defined_in"].endswith("fuzz/meson.build"):
        for f in t["filename"]:
            print(f)
')
if [ "${#targets[@]}" -eq 0 ]; then
	echo "fuzz: skipped (no fuzz targets built)"
	exit 0
fi

pass=0
fail=0
for exe in "${targets[@]}"; do
	name=$(basename "$exe")
	seeds=""
	for s in "fuzz/corpus/$name" "fuzz/corpus/${name#fuzz[-_]}"; do
		if [ -d "$s" ]; then
			seeds=$s
			break
		fi
	done
	work=fuzz/corpus-run/$name
	mkdir -p "$work"
	args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048
		-print_final_stats=1 -artifact_prefix="fuzz/corpus-run/$name-")
	[ -f "fuzz/$name.dict" ] && args+=(-dict="fuzz/$name.dict")
	echo "fuzz: $name for ${secs}s (seeds: ${seeds:-none})"
	if "$exe" "${args[@]}" "$work" ${seeds:+"$seeds"} >"$work.log" 2>&1; then
		pass=$((pass + 1))
		grep -E '^(stat::number_of_executed_units|Done)' "$work.log" | sed 's/^/    /'
	else
		fail=$((fail + 1))
		echo "fuzz: $name FAILED (log $work.log):"
		tail -n 40 "$work.log"
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
