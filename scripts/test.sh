#!/bin/sh
# test.sh - build the normal and the ASan+UBSan variants and run every test.
# Each runner prints a line "...: N passed, N failed"; the sums are the last line.
# FERRY_TEST_QUICK=1 skips the sanitizer variant.
set -u
cd "$(dirname "$0")/.."
LOG=build/test-logs
mkdir -p "$LOG"
J=${JOBS:-2}
pass=0 fail=0

tally() { # name logfile rc
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$2" | tail -1)
	p=$(echo "$line" | awk '{ for (i = 2; i <= NF; i++) if ($i == "passed,") print $(i - 1) }')
	f=$(echo "$line" | awk '{ for (i = 2; i <= NF; i++) if ($i == "failed" || $i == "failed,") print $(i - 1) }')
	[ -n "$p" ] || p=0
	[ -n "$f" ] || f=0
	if [ "$3" != 0 ] && [ "$f" = 0 ]; then f=1; echo "$1: runner exited $3"; fi
	pass=$((pass + p)); fail=$((fail + f))
	echo "== $1: $p passed, $f failed"
}

run() { # name cmd...
	name=$1; shift
	log="$LOG/$(echo "$name" | tr ' /' '__').log"
	"$@" > "$log" 2>&1
	rc=$?
	# a failure's name and the lines that explain it
	grep -E -A6 '^(FAIL|not ok)' "$log" | head -60
	grep -E 'failed:|ERROR|runtime error|AddressSanitizer' "$log" | head -20
	tally "$name" "$log" $rc
}

variants="build"
[ "${FERRY_TEST_QUICK:-0}" = 1 ] || variants="build build/asan"
for b in $variants; do
	if [ "$b" = build ]; then mk="make -j$J"; else mk="make -j$J SANITIZE=1 CC=${SAN_CC:-clang}"; fi
	if ! $mk all unit fuzz-replay > "$LOG/make-$(basename $b).log" 2>&1; then
		tail -30 "$LOG/make-$(basename $b).log"
		echo "build ($b): 0 passed, 1 failed"
		fail=$((fail + 1))
		continue
	fi
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
	FERRY_BIN=$(pwd)/$b/ferry; export FERRY_BIN
	run "unit ($b)" "$b/unit"
	run "fuzz corpus ($b)" sh tests/fuzz/replay.sh "$b"
	run "e2e ($b)" sh tests/e2e/run.sh "$b/ferry"
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
