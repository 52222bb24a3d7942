#!/bin/sh
# run.sh FERRY_BINARY [NAME...] - run every tests/e2e/t*.sh (or those whose
# file name starts with one of the NAMEs, e.g. t5001), sum their counts.
F=${1:-build/ferry}
case $F in /*) ;; *) F=$(pwd)/$F ;; esac
[ $# -gt 0 ] && shift
pass=0 fail=0
for t in tests/e2e/t[0-9]*.sh; do
	[ -e "$t" ] || continue
	if [ $# -gt 0 ]; then
		sel=0
		for n in "$@"; do case $(basename "$t") in "$n"*) sel=1 ;; esac; done
		[ $sel = 1 ] || continue
	fi
	out=$(FERRY=$F timeout 900 sh "$t" 2>&1)
	rc=$?
	echo "$out"
	line=$(echo "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
	p=$(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\2/p')
	[ -n "$p" ] || p=0; [ -n "$f" ] || f=0
	if [ $rc != 0 ] && [ "$f" = 0 ]; then f=1; echo "not ok $t exited $rc"; fi
	pass=$((pass + p)); fail=$((fail + f))
done
echo "e2e: $pass passed, $fail failed"
