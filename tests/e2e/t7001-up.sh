#!/bin/sh
# t7001-up: `ferry up --demo` from an empty state: the Argo CD resources, the
# initial admin password read as Argo CD's docs say, three models Synced and
# Healthy, clean shutdown and resume.
. tests/e2e/lib.sh
command -v kubectl >/dev/null 2>&1 || test_skip_all "kubectl not installed"

D=$TRASH/up
start_up() {
	"$FERRY" up --data "$D" --listen 127.0.0.1:0 --kube-listen 127.0.0.1:0 --demo > "$TRASH/up.out" 2> "$TRASH/up.err" &
	UP_PID=$!
	echo $UP_PID >> "$TRASH/.pids"
}
start_up

test_expect_success 'ferry up prints the API server, the kubeconfig and the password command' '
	wait_for 30 grep -q "^ferry is up" $TRASH/up.out &&
	grep -q "kubeconfig   $D/kubeconfig" $TRASH/up.out &&
	grep -q "get secret argocd-initial-admin-secret -o jsonpath=\"{.data.password}\" | base64 -d" $TRASH/up.out
'
export KUBECONFIG=$D/kubeconfig
test_expect_success 'the Argo CD resources exist' '
	kubectl -n argocd get cm argocd-cm argocd-rbac-cm -o name | wc -l | grep -q 2 &&
	kubectl -n argocd get secret argocd-secret -o jsonpath="{.data.admin\.password}" | base64 -d | grep -q "^[$]2[aby][$]" &&
	kubectl -n argocd get appproject default -o name | grep -q default &&
	kubectl get crd applications.argoproj.io applicationsets.argoproj.io appprojects.argoproj.io -o name | wc -l | grep -q 3
'
test_expect_success 'the initial admin password reads back as the seed document shows' '
	kubectl -n argocd get secret argocd-initial-admin-secret -o jsonpath="{.data.password}" | base64 -d > pw &&
	test $(wc -c < pw) -ge 12
'
test_expect_success 'the demo models are Synced and Healthy within 10 s of start' '
	wait_for 60 grep -q "demo: all 5 Applications are Synced and Healthy" $TRASH/up.out &&
	secs=$(sed -n "s/demo: all 5 Applications are Synced and Healthy after \([0-9.]*\)s/\1/p" $TRASH/up.out) &&
	echo "synced after $secs s" && awk -v s="$secs" "BEGIN { exit !(s < 10) }" &&
	kubectl -n ml-production get deploy sentiment-classifier fraud-detector recommendation-engine -o name | wc -l | grep -q 3
'
test_expect_success 'kubectl lists the Applications with their columns' '
	kubectl -n argocd get applications > apps && grep -q "SYNC STATUS" apps && grep -q "fraud-detector .*Synced .*Healthy" apps
'
test_expect_success '/metrics has the API server, controller and git series (Argo CD names)' '
	port=$(cat $D/server.port) && curl -sk https://127.0.0.1:$port/metrics > m &&
	grep -q "^argocd_app_info{.*name=\"fraud-detector\"" m &&
	grep -q "^argocd_app_reconcile_count{namespace=\"argocd\"}" m &&
	grep -q "^argocd_app_reconcile_bucket{" m &&
	grep -q "^argocd_git_request_total{repo=\"file://.*request_type=\"ls-remote\"}" m &&
	grep -q "^argocd_git_request_duration_seconds_count{" m
'
test_expect_success 'SIGTERM stops cleanly; a restart resumes with the same password' '
	cp pw pw.before &&
	kill -TERM $UP_PID && wait_for 30 sh -c "! kill -0 $UP_PID 2>/dev/null" &&
	grep -q "shutting down" $TRASH/up.err &&
	start_up && wait_for 30 grep -q "^ferry is up" $TRASH/up.out &&
	kubectl -n argocd get secret argocd-initial-admin-secret -o jsonpath="{.data.password}" | base64 -d > pw.after &&
	cmp pw.before pw.after &&
	wait_for 60 grep -q "demo: all 5 Applications are Synced and Healthy" $TRASH/up.out
'
test_expect_success 'no sanitizer report in the logs' '
	! grep -E "runtime error|AddressSanitizer|LeakSanitizer" $TRASH/up.err
'
test_done
