#!/bin/sh
# t9002-up-kubeconfig: `ferry up --kubeconfig FILE` runs the controller and
# the API server against an existing cluster (here a separate `ferry kube`)
# instead of the embedded one: the Argo CD resources are installed there,
# --insecure serves plain HTTP (login --plaintext), the demo syncs, SIGINT
# stops it without touching the cluster, and a restart keeps the password.
. tests/e2e/lib.sh
command -v kubectl >/dev/null 2>&1 || test_skip_all "kubectl not installed"
export XDG_CONFIG_HOME=$TRASH/xdg
unset FERRY_SERVER FERRY_AUTH_TOKEN

start_kube cl > /dev/null 2>&1 || true
export KUBECONFIG=$cl_KC
D=$TRASH/up
start_up() {
	"$FERRY" up --kubeconfig "$cl_KC" --data "$D" --listen 127.0.0.1:0 --insecure --demo \
		> "$TRASH/up.out" 2>> "$TRASH/up.err" &
	UP_PID=$!
	echo $UP_PID >> "$TRASH/.pids"
}
start_up

test_expect_success 'ferry up --kubeconfig is up on that cluster, plain HTTP' '
	wait_for 30 grep -q "^ferry is up" $TRASH/up.out &&
	grep -q "^  API server   http://127.0.0.1:[0-9]*$" $TRASH/up.out &&
	grep -qx "  kubeconfig   $cl_KC" $TRASH/up.out &&
	! grep -q "^  cluster  " $TRASH/up.out &&
	test ! -e $D/kubeconfig &&
	grep -q "ferry login 127.0.0.1:[0-9]* --username admin --plaintext" $TRASH/up.out
'
P=$(cat "$D/server.port" 2>/dev/null)
test_expect_success 'the Argo CD resources are in the given cluster' '
	kubectl -n argocd get cm argocd-cm argocd-rbac-cm -o name | wc -l | grep -qx 2 &&
	kubectl -n argocd get appproject default -o name &&
	kubectl -n argocd get secret argocd-initial-admin-secret -o jsonpath="{.data.password}" | base64 -d > pw &&
	test $(wc -c < pw) -ge 12
'
test_expect_success 'login --plaintext, the demo apps are Synced and Healthy' '
	"$FERRY" login 127.0.0.1:$P --username admin --password "$(cat pw)" --plaintext | grep -q "logged in successfully" &&
	"$FERRY" app wait sentiment-classifier fraud-detector recommendation-engine --sync --health --timeout 60 > /dev/null &&
	kubectl -n ml-production get deploy fraud-detector -o name
'
test_expect_success 'https is not served with --insecure' '
	test_must_fail curl -sk --max-time 5 https://127.0.0.1:$P/healthz &&
	curl -sf http://127.0.0.1:$P/healthz
'
test_expect_success 'SIGINT stops ferry up; the cluster keeps running and the restart keeps the password' '
	kill -INT $UP_PID && wait_for 30 sh -c "! kill -0 $UP_PID 2>/dev/null" &&
	grep -q "shutting down" $TRASH/up.err &&
	kubectl get --raw /readyz &&
	start_up && wait_for 30 grep -q "^ferry is up" $TRASH/up.out &&
	kubectl -n argocd get secret argocd-initial-admin-secret -o jsonpath="{.data.password}" | base64 -d > pw2 &&
	cmp pw pw2 &&
	P2=$(cat $D/server.port) &&
	"$FERRY" login 127.0.0.1:$P2 --username admin --password "$(cat pw)" --plaintext | grep -q "logged in successfully" &&
	"$FERRY" app list -o name | grep -qx argocd/fraud-detector
'
test_expect_success 'no sanitizer error in the logs' '
	! grep -E "runtime error|ERROR: AddressSanitizer" $TRASH/up.err $TRASH/cl.log
'
# under ASan (gcc links libasan, clang links its runtime statically), the
# first run's exit must leave no LeakSanitizer report in up.err
if ldd "$FERRY" 2>/dev/null | grep -q libasan || grep -qa __asan_init "$FERRY"; then
	test_expect_success 'no leak reported when ferry up exits' '
		! grep -E "LeakSanitizer" $TRASH/up.err
	'
fi
test_done
