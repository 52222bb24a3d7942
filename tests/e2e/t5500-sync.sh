#!/bin/sh
# t5500-sync: the sync engine (src/sync) end to end against `ferry kube`.
# No CLI drives the engine on its own, so the driver is the unit binary
# built next to $FERRY: its test_sync__kube_* cases start the ferry kube
# given by FERRY_BIN and run whole operations through fy_sync_step
# (waves -1,0,1,2 each healthy before the next; a PreSync Job first; a
# failing PostSync hook failing the sync and running the SyncFail hook;
# prune, Prune=false and prune disabled; a dry run that changes nothing;
# hook delete policies; CreateNamespace with managed metadata; retry;
# resume after a lost state without running a hook twice; termination).
. "$(dirname "$0")/lib.sh"

UNIT=$(dirname "$FERRY")/unit
[ -x "$UNIT" ] || test_skip_all "no unit binary next to $FERRY"
[ -x "$FERRY" ] || test_skip_all "no ferry binary at $FERRY"

run_case() {
	(cd "$ROOT" && FERRY_BIN="$FERRY" "$UNIT" -s "sync__kube_$1") > "$TRASH/$1.out" 2>&1
	rc=$?
	cat "$TRASH/$1.out"
	grep -q "note: FERRY_BIN unset" "$TRASH/$1.out" && return 1
	grep -q "unit: [1-9][0-9]* passed, 0 failed" "$TRASH/$1.out" && [ $rc = 0 ]
}

test_expect_success 'waves -1,0,1,2 in order, each healthy before the next' 'run_case waves'
test_expect_success 'PreSync hook first; HookSucceeded and BeforeHookCreation' 'run_case hooks'
test_expect_success 'failing PostSync hook fails the sync and runs SyncFail' 'run_case failing_postsync'
test_expect_success 'prune, Prune=false, prune disabled, dry run changes nothing' 'run_case prune_and_dry_run'
test_expect_success 'CreateNamespace, dry-run failure applies nothing, retry' 'run_case create_namespace'
test_expect_success 'resume after lost state: no hook runs twice' 'run_case resume_no_double_hook'
test_expect_success 'termination deletes the running hook' 'run_case terminate'
test_done
