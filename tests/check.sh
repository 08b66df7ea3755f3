#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The whole test suite, as `make check` runs it: unit tests in the release
# build and again under ASan+UBSan, the fuzzers, the web page in Chromium,
# then the end-to-end suite (one kvmbox boot for all of it). Prints one tally over everything at the end:
# "N passed, M failed". A skipped test is counted as failed.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
passed=0
failed=0

# meson test prints "Ok: N", "Fail: N", ... per run; count each kind.
run_meson() {
	local dir=$1 label=$2 log
	log=$(mktemp)
	echo "== unit tests ($label)"
	meson test -C "$dir" --suite unit --print-errorlogs >"$log" 2>&1
	grep -E '^ *[0-9]+/[0-9]+ ' "$log" || cat "$log"
	local ok fail skip other
	ok=$(awk '/^Ok:/{print $2}' "$log"); ok=${ok:-0}
	fail=$(awk '/^Fail:/{print $2}' "$log"); fail=${fail:-0}
	skip=$(awk '/^Skipped:/{print $2}' "$log"); skip=${skip:-0}
	other=$(awk '/^(Expected Fail|Unexpected Pass|Timeout):/{s+=$NF} END{print s+0}' "$log")
	if ! grep -q '^Ok:' "$log"; then
		echo "unit tests ($label): meson test did not run" >&2
		cat "$log" >&2
		fail=$((fail + 1))
	fi
	passed=$((passed + ok))
	failed=$((failed + fail + skip + other))
	rm -f "$log"
}

run_meson "$build" release
run_meson "$build/sanitize" "ASan+UBSan"

# Every libFuzzer target in the fuzz build, for a bounded time each, from
# its committed seeds (tests/unit/*/NAME_corpus or NAME_seeds) plus what
# earlier runs found (build/fuzz-corpus/NAME, listed first so new inputs go
# there and the committed seeds stay as they are).
declare -A max_len=([fuzz_gpu]=8192 [fuzz_blk]=4096 [fuzz_qcow2]=65536 [fuzz_virtq]=8192 [fuzz_net]=4096 [fuzz_snapfile]=16384)
echo "== fuzzers (${FUZZ_SECONDS:-20} s each)"
nfuzz=0
for f in "$build"/fuzz/tests/unit/*/fuzz_*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	nfuzz=$((nfuzz + 1))
	name=$(basename "$f")
	corpus=$build/fuzz-corpus/$name
	mkdir -p "$corpus"
	seeds=()
	for d in "$top"/tests/unit/*/"${name}"_corpus "$top"/tests/unit/*/"${name}"_seeds; do
		[ -d "$d" ] && seeds+=("$d")
	done
	if "$f" -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=2048 \
		-max_len="${max_len[$name]:-4096}" \
		-print_final_stats=1 "$corpus" "${seeds[@]}" >"$build/$name.log" 2>&1; then
		echo "PASS $name ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$build/$name.log" | awk '{print $2}') runs)"
		passed=$((passed + 1))
	else
		echo "FAIL $name (see $build/$name.log)"
		# The target's own words (a failed check, a sanitizer's
		# summary) come before libFuzzer's stack: show them too.
		grep -m 10 -E 'check failed|watchdog|ERROR: |SUMMARY: |Test unit written' "$build/$name.log"
		tail -n 30 "$build/$name.log"
		failed=$((failed + 1))
	fi
done
if [ "$nfuzz" -eq 0 ]; then
	echo "FAIL no fuzz targets in $build/fuzz (make fuzz builds them)"
	failed=$((failed + 1))
fi

# The web page in a real browser and the window in a real X server: on
# the host, no VM needed (tests/browser/).
echo "== browser and window tests"
for t in run sdl-window; do
	if PHYLLO_BUILD="$build" "$top/tests/browser/$t"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done

# The manager's daemon and CLI on the host (images need no VM), in the
# release build and under ASan+UBSan.
echo "== manager tests"
for b in "$build" "$build/sanitize"; do
	if PHYLLO_BUILD="$b" "$top/tests/manager/run"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done

echo "== end-to-end tests"
e2e_log=$(mktemp)
"$top/tests/e2e/run" 2>&1 | tee "$e2e_log"
line=$(grep -E '^e2e: [0-9]+ passed, [0-9]+ failed' "$e2e_log" | tail -n 1)
if [ -n "$line" ]; then
	passed=$((passed + $(echo "$line" | awk '{print $2}')))
	failed=$((failed + $(echo "$line" | awk '{print $4}')))
else
	echo "end-to-end suite did not report a tally" >&2
	failed=$((failed + 1))
fi
rm -f "$e2e_log"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
