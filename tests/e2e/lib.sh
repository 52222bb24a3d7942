# lib.sh - end-to-end test library (git's test-lib idea, much smaller).
#
# A test script sources this file, then calls
#   test_expect_success 'description' 'shell code'
#   test_expect_failure ... (known breakage, counted as passed when it fails)
# and finishes with test_done. Each script gets a private trash directory
# ($TRASH), removed at the end unless FERRY_TEST_KEEP=1. $FERRY is the
# binary under test. Helpers: test_cmp, test_must_fail, start_kube,
# wait_for, free_port, seed_appset.
set -u
FERRY=${FERRY:-$(pwd)/build/ferry}
case $FERRY in /*) ;; *) FERRY=$(pwd)/$FERRY ;; esac
ROOT=$(pwd)
SHARED=${SHARED:-$ROOT/../shared}
TEST_NAME=$(basename "$0" .sh)
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/ferry-test.$TEST_NAME.XXXXXX")
T_PASS=0
T_FAIL=0
CLEANUP=""
VERBOSE=${FERRY_TEST_VERBOSE:-0}

test_when_finished() { CLEANUP="$1; $CLEANUP"; }

_cleanup() {
	eval "$CLEANUP" >/dev/null 2>&1
	for p in $(cat "$TRASH"/.pids 2>/dev/null); do kill "$p" 2>/dev/null; done
	sleep 0.1
	for p in $(cat "$TRASH"/.pids 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	if [ "${FERRY_TEST_KEEP:-0}" != 1 ] && [ "$T_FAIL" = 0 ]; then rm -rf "$TRASH"; fi
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

test_expect_success() {
	desc=$1 code=$2
	out="$TRASH/.out"
	if (cd "$TRASH" && eval "$code") > "$out" 2>&1; then
		T_PASS=$((T_PASS + 1))
		echo "ok $TEST_NAME: $desc"
		[ "$VERBOSE" = 1 ] && sed 's/^/    /' "$out"
	else
		T_FAIL=$((T_FAIL + 1))
		echo "not ok $TEST_NAME: $desc"
		sed 's/^/    /' "$out" | tail -40
	fi
	return 0
}

# test_expect_failure 'description' 'code': a known breakage. It counts as
# passed either way; the line says whether it still breaks.
test_expect_failure() {
	desc=$1 code=$2
	if (cd "$TRASH" && eval "$code") > "$TRASH/.out" 2>&1; then
		echo "ok $TEST_NAME: $desc # known breakage vanished: make it test_expect_success"
	else
		echo "ok $TEST_NAME: $desc # TODO known breakage"
	fi
	T_PASS=$((T_PASS + 1))
	return 0
}

# pids_alive: 0 if a process of $TRASH/.pids still runs (zombies do not count)
pids_alive() {
	for p in $(cat "$TRASH/.pids" 2>/dev/null); do
		st=$(ps -o stat= -p "$p" 2>/dev/null) || continue
		case $st in Z*|"") ;; *) return 0 ;; esac
	done
	return 1
}

test_done() {
	# every script ends the same way: its processes stop on SIGTERM (a
	# sanitizer build reports at exit) and no log holds a sanitizer report
	if [ -s "$TRASH/.pids" ]; then
		test_expect_success 'its processes stop on SIGTERM; no sanitizer report in any log' '
			for p in $(cat .pids); do kill "$p" 2>/dev/null; done
			n=0; while pids_alive && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
			! pids_alive &&
			! grep -E -l "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" /dev/null $(find . -name "*.log" -o -name "*.err" -o -name "*.out" | grep -v "^./.out$")
		'
	fi
	echo "$TEST_NAME: $T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" = 0 ]
}

test_must_fail() { if "$@"; then echo "expected failure: $*"; return 1; fi; return 0; }
test_cmp() { diff -u "$1" "$2"; }
test_skip_all() { echo "skip $TEST_NAME: $1"; echo "$TEST_NAME: 0 passed, 0 failed"; exit 0; }

# free_port: print a TCP port free on 127.0.0.1
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for SECONDS CMD...: poll until CMD succeeds
wait_for() {
	n=$(($1 * 10)); shift
	while [ $n -gt 0 ]; do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1; n=$((n - 1))
	done
	echo "timed out waiting for: $*"; return 1
}

# start_kube NAME [extra flags]: start `ferry kube` with state in $TRASH/NAME,
# sets KUBECONFIG-style variables: ${NAME}_KC (kubeconfig), ${NAME}_PORT, ${NAME}_PID
start_kube() {
	name=$1; shift
	port=$(free_port)
	mkdir -p "$TRASH/$name"
	"$FERRY" kube --data "$TRASH/$name" --listen "127.0.0.1:$port" "$@" > "$TRASH/$name.log" 2>&1 &
	pid=$!
	echo $pid >> "$TRASH/.pids"
	eval "${name}_PID=$pid ${name}_PORT=$port ${name}_KC=$TRASH/$name/kubeconfig"
	wait_for 20 test -s "$TRASH/$name/kubeconfig" || { cat "$TRASH/$name.log"; return 1; }
	wait_for 20 kubectl --kubeconfig "$TRASH/$name/kubeconfig" get --raw /readyz || { cat "$TRASH/$name.log"; return 1; }
}

# seed_appset FILE REPO: write the seed document's ApplicationSet (ml-models:
# a list generator over three models, one Helm Application each from
# models/{{model}}, image.tag and replicas as helm parameters) to FILE,
# re-indented (the seed's paste lost it), with repoURL REPO
seed_appset() {
	cat > "$1" <<EOF
# apps/model-appset.yaml
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: ml-models
  namespace: argocd
spec:
  generators:
  - list:
      elements:
      - model: sentiment-classifier
        version: v1.2.0
        replicas: "3"
      - model: fraud-detector
        version: v2.1.0
        replicas: "5"
      - model: recommendation-engine
        version: v1.0.0
        replicas: "2"
  template:
    metadata:
      name: '{{model}}'
    spec:
      project: default
      source:
        repoURL: $2
        targetRevision: main
        path: models/{{model}}
        helm:
          parameters:
          - name: image.tag
            value: '{{version}}'
          - name: replicas
            value: '{{replicas}}'
      destination:
        server: https://kubernetes.default.svc
        namespace: ml-production
      syncPolicy:
        automated:
          selfHeal: true
EOF
}
