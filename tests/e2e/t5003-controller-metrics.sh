#!/bin/sh
# t5003-controller-metrics: `ferry controller --metrics-listen` serves the
# controller's and the git client's Prometheus series on its own port when
# it runs alone (as Argo CD's controller does on 8082).
. tests/e2e/lib.sh
command -v git >/dev/null 2>&1 || test_skip_all "git is not installed"
command -v kubectl >/dev/null 2>&1 || test_skip_all "kubectl is not installed"
export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 HOME="$TRASH"

start_kube kube || { echo "not ok: ferry kube did not start"; T_FAIL=1; test_done; exit 1; }
K() { kubectl --kubeconfig "$kube_KC" "$@"; }
MPORT=$(free_port)

test_expect_success 'a repository and the controller with --metrics-listen' '
	git init -q -b main repo && (cd repo && git config user.email t@example.com && git config user.name T &&
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"1\"\n" > cm.yaml &&
	git add . && git commit -qm one) &&
	K create namespace argocd &&
	"$FERRY" controller --kubeconfig "$kube_KC" --data "$TRASH/ctl" --install-crds \
		--metrics-listen 127.0.0.1:$MPORT > "$TRASH/ctl.log" 2>&1 &
	echo $! >> "$TRASH/.pids" &&
	wait_for 20 curl -sf http://127.0.0.1:$MPORT/metrics
'
test_expect_success 'an app syncs and its reconciles and git requests are counted' '
	wait_for 20 K get crd applications.argoproj.io &&
	printf "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: m\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: file://$TRASH/repo\n    targetRevision: main\n    path: .\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: mtest\n  syncPolicy:\n    automated: {}\n    syncOptions: [CreateNamespace=true]\n" | K apply -f - &&
	wait_for 30 sh -c "test \"\$(kubectl --kubeconfig $kube_KC -n argocd get app m -o jsonpath={.status.sync.status})\" = Synced" &&
	curl -s http://127.0.0.1:$MPORT/metrics > m &&
	grep -q "^argocd_app_reconcile_count{namespace=\"argocd\"}" m &&
	grep -q "^argocd_git_request_total{repo=\"file://.*request_type=\"ls-remote\"}" m &&
	grep -q "^argocd_cluster_api_resource_objects{server=\"https://kubernetes.default.svc\"} [1-9]" m &&
	grep -q "^argocd_cluster_api_resources{server=\"https://kubernetes.default.svc\"} [1-9]" m &&
	grep -q "^argocd_cluster_events_total{server=\"https://kubernetes.default.svc\",group=\"\",kind=\"ConfigMap\"} [1-9]" m &&
	test "$(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:$MPORT/other)" = 404
'
test_done
