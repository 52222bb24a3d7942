#!/bin/sh
# t0001-cli: every command and subcommand answers --help with exit 0;
# unknown commands exit 2.
. tests/e2e/lib.sh

test_expect_success 'ferry --help lists commands' '
	"$FERRY" --help > out && grep -q "^  kube" out
'
test_expect_success 'every command answers --help' '
	for c in $("$FERRY" --help | awk "/^  [a-z]/ {print \$1}"); do
		"$FERRY" $c --help > /dev/null || { echo "$c --help failed"; exit 1; }
	done
'
test_expect_success 'unknown command exits 2' '
	"$FERRY" no-such-command 2> err; test $? = 2 && grep -q "unknown command" err
'
test_expect_success 'version' '
	"$FERRY" version | grep -q "^ferry: v"
'
test_done
