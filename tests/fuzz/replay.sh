#!/bin/sh
# replay.sh BUILD - run every fuzz target's committed corpus through the
# standalone driver; one test per target.
B=${1:-build}
pass=0 fail=0
for src in tests/fuzz/fuzz_*.c; do
	[ -e "$src" ] || continue
	t=$(basename "$src" .c)
	dir=tests/fuzz/corpus/${t#fuzz_}
	files=$(find "$dir" -type f 2>/dev/null | sort)
	if [ -z "$files" ]; then echo "not ok $t: empty corpus $dir"; fail=$((fail+1)); continue; fi
	if echo "$files" | xargs "$B/fuzz-replay/$t" > /dev/null; then
		echo "ok $t"; pass=$((pass+1))
	else
		echo "not ok $t"; fail=$((fail+1))
	fi
done
echo "fuzz corpus: $pass passed, $fail failed"
