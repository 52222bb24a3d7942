#!/bin/sh
# t5005-delete-hooks.sh - Argo CD's PreDelete and PostDelete hooks on the
# cascade deletion of an Application (resources finalizer), against
# `ferry kube` and its simulator: the hooks are not run by syncs; on
# deletion the PreDelete Job runs (and completes) while the Deployment is
# still there, the Deployment goes after it, then the PostDelete Job runs
# and the app disappears; HookSucceeded hooks are deleted; a cluster-scoped
# hook gets no namespace. A failing PostDelete Job keeps the app with a
# DeletionError condition; a failing PreDelete Job blocks the deletion; a
# leftover hook is replaced (BeforeHookCreation) and a hook is created once
# across a controller restart.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null 2>&1 || test_skip_all "git is not installed"
command -v kubectl >/dev/null 2>&1 || test_skip_all "kubectl is not installed"

export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 HOME="$TRASH"
K() { kubectl --kubeconfig "$kube_KC" "$@"; }
app_field() { K -n argocd get app "$1" -o jsonpath="$2"; }
wait_app() {
	wait_for "${4:-30}" sh -c "test \"\$(kubectl --kubeconfig $kube_KC -n argocd get app $1 -o jsonpath='{.status.sync.status}/{.status.health.status}')\" = '$2/$3'" ||
		{ K -n argocd get app "$1" -o yaml; tail -30 "$TRASH/ctl.log"; return 1; }
}

# job NAME HOOK IMAGE [DELETE-POLICY] [DELAY]: a hook Job manifest
job() {
	cat <<-EOF
	apiVersion: batch/v1
	kind: Job
	metadata:
	  name: $1
	  annotations:
	    argocd.argoproj.io/hook: $2
	EOF
	[ -n "${4:-}" ] && echo "    argocd.argoproj.io/hook-delete-policy: $4"
	cat <<-EOF
	spec:
	  backoffLimit: 0
	  template:
	    metadata:
	      annotations:
	        sim.ferry.dev/startup-delay: "${5:-200ms}"
	    spec:
	      restartPolicy: Never
	      containers:
	      - name: c
	        image: $3
	EOF
}

start_kube kube || { echo "ferry kube did not start"; exit 1; }
test_expect_success 'start ferry kube' '
	K create namespace argocd
'

test_expect_success 'a repository with a Deployment, a PreDelete and a PostDelete Job' '
	git init -q -b main srv/hooks && cd srv/hooks &&
	git config user.email t@example.com && git config user.name T &&
	mkdir -p good bad &&
	cat >good/deploy.yaml <<-EOF &&
	apiVersion: apps/v1
	kind: Deployment
	metadata:
	  name: web
	spec:
	  replicas: 1
	  selector:
	    matchLabels: {app: web}
	  template:
	    metadata:
	      labels: {app: web}
	    spec:
	      containers:
	      - name: web
	        image: registry.example/web:v1
	EOF
	job pre-cleanup PreDelete registry.example/tool:v1 "" 3s >good/pre.yaml &&
	job post-cleanup PostDelete registry.example/tool:v1 HookSucceeded 1s >good/post.yaml &&
	printf "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: hk-post-marker\n  annotations:\n    argocd.argoproj.io/hook: PostDelete\nrules: []\n" >good/marker.yaml &&
	sed "s/name: web$/name: web2/; s/app: web}/app: web2}/" good/deploy.yaml >bad/deploy.yaml &&
	job post-broken PostDelete registry.example/tool-fail:v1 >bad/post.yaml &&
	mkdir prebad &&
	sed "s/name: web$/name: web3/; s/app: web}/app: web3}/" good/deploy.yaml >prebad/deploy.yaml &&
	job pre-broken PreDelete registry.example/tool-fail:v1 >prebad/pre.yaml &&
	git add -A && git commit -q -m one
'

DPORT=$(free_port)
git daemon --reuseaddr --export-all --listen=127.0.0.1 --port="$DPORT" \
	--base-path="$TRASH/srv" "$TRASH/srv" >"$TRASH/daemon.log" 2>&1 &
echo $! >> "$TRASH/.pids"
REPO="git://127.0.0.1:$DPORT/hooks"

test_expect_success 'controller starts' '
	wait_for 10 git ls-remote "$REPO" &&
	(cd "$ROOT" && "$FERRY" controller --kubeconfig "$kube_KC" --data "$TRASH/ctl" --install-crds \
		>"$TRASH/ctl.log" 2>&1 & echo $! >>"$TRASH/.pids"; echo $! >"$TRASH/ctl.pid") &&
	wait_for 20 kubectl --kubeconfig "$kube_KC" get crd applications.argoproj.io &&
	wait_for 10 grep -q "controller started" "$TRASH/ctl.log"
'

# app NAME PATH NAMESPACE
app() {
	cat <<-EOF
	apiVersion: argoproj.io/v1alpha1
	kind: Application
	metadata:
	  name: $1
	  namespace: argocd
	  finalizers:
	  - resources-finalizer.argocd.argoproj.io
	spec:
	  project: default
	  source:
	    repoURL: $REPO
	    targetRevision: main
	    path: $2
	  destination:
	    server: https://kubernetes.default.svc
	    namespace: $3
	  syncPolicy:
	    automated: {}
	    syncOptions:
	    - CreateNamespace=true
	EOF
}

test_expect_success 'the app syncs; the deletion hooks are not run by a sync' '
	app good good hk >good.yaml &&
	K apply -f good.yaml &&
	wait_app good Synced Healthy &&
	K -n hk get deploy web &&
	test -z "$(K -n hk get jobs -o name)" &&
	test "$(app_field good "{.status.resources[*].kind}")" = Deployment
'

# poll until the app "good" is gone: fail if the PostDelete Job exists
# while the Deployment does; seen_post=1 if it was seen
watch_order() {
	i=0 seen_post=0
	while [ $i -lt 300 ]; do
		d=$(K -n hk get deploy web -o name 2>/dev/null)
		p=$(K -n hk get job post-cleanup -o name 2>/dev/null)
		if [ -n "$p" ]; then
			test -z "$d" || { echo "PostDelete Job created while the Deployment exists"; return 1; }
			seen_post=1
		fi
		K -n argocd get app good >/dev/null 2>&1 || return 0
		sleep 0.1; i=$((i + 1))
	done
	echo "the app was not deleted"; return 1
}

test_expect_success 'delete: PreDelete runs while the Deployment is there, PostDelete after it is gone' '
	K -n argocd delete app good --wait=false &&
	wait_for 20 kubectl --kubeconfig "$kube_KC" -n hk get job pre-cleanup &&
	# the PreDelete Job runs for about 3 s: the Deployment is still there, not deleting
	test -z "$(K -n hk get job pre-cleanup -o jsonpath="{.status.succeeded}")" &&
	test "$(K -n hk get deploy web -o jsonpath="{.metadata.name}/{.metadata.deletionTimestamp}")" = web/ &&
	! K -n hk get job post-cleanup 2>/dev/null &&
	K -n hk get job pre-cleanup -o jsonpath="{.metadata.annotations}" | grep -q "argocd.argoproj.io/tracking-id" &&
	# then the Deployment goes, and only then the PostDelete Job appears
	watch_order &&
	test "$(K -n hk get job pre-cleanup -o jsonpath="{.status.succeeded}")" = 1 &&
	wait_for 30 sh -c "! kubectl --kubeconfig $kube_KC -n argocd get app good" &&
	! K -n hk get deploy web 2>/dev/null &&
	grep -q "created PostDelete hook Job/post-cleanup" "$TRASH/ctl.log" &&
	{ test $seen_post = 1 || grep -q "deleted hook Job/post-cleanup" "$TRASH/ctl.log"; }
'

test_expect_success 'HookSucceeded: the PostDelete Job is deleted; the default policy keeps the PreDelete one' '
	wait_for 20 sh -c "! kubectl --kubeconfig $kube_KC -n hk get job post-cleanup" &&
	K -n hk get job pre-cleanup &&
	test "$(grep -c "created PreDelete hook Job/pre-cleanup" "$TRASH/ctl.log")" = 1
'

test_expect_success 'a cluster-scoped PostDelete hook is created without a namespace' '
	K get clusterrole hk-post-marker -o jsonpath="{.metadata.annotations}" | grep -q "ferry.dev/sync-attempt"
'

test_expect_success 'a failing PostDelete hook keeps the app with a DeletionError condition' '
	app bad bad hk2 >bad.yaml &&
	K apply -f bad.yaml &&
	wait_app bad Synced Healthy &&
	K -n argocd delete app bad --wait=false &&
	wait_for 30 sh -c "! kubectl --kubeconfig $kube_KC -n hk2 get deploy web2" &&
	wait_for 30 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app bad -o jsonpath={.status.conditions[*].type} | grep -q DeletionError" &&
	app_field bad "{.status.conditions[?(@.type==\"DeletionError\")].message}" >msg &&
	grep -q "PostDelete hook(s) failed: Job/hk2/post-broken" msg &&
	sleep 2 &&
	K -n argocd get app bad -o jsonpath="{.metadata.finalizers}" | grep -q resources-finalizer &&
	test "$(grep -c "created PostDelete hook Job/post-broken" "$TRASH/ctl.log")" = 1
'

test_expect_success 'the failed hook deleted by hand: retried, fails again, app still kept' '
	K -n hk2 delete job post-broken &&
	wait_for 30 sh -c "test \$(grep -c \"created PostDelete hook Job/post-broken\" $TRASH/ctl.log) = 2" &&
	K -n argocd get app bad &&
	K -n argocd patch app bad --type merge -p "{\"metadata\":{\"finalizers\":null}}" &&
	wait_for 10 sh -c "! kubectl --kubeconfig $kube_KC -n argocd get app bad"
'

test_expect_success 'a failing PreDelete hook blocks the deletion with a DeletionError condition' '
	app prebad prebad hk3 >prebad.yaml &&
	K apply -f prebad.yaml &&
	wait_app prebad Synced Healthy &&
	K -n argocd delete app prebad --wait=false &&
	wait_for 30 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app prebad -o jsonpath={.status.conditions[*].message} | grep -q \"PreDelete hook(s) failed: Job/hk3/pre-broken\"" &&
	sleep 2 &&
	test "$(K -n hk3 get deploy web3 -o jsonpath="{.metadata.name}/{.metadata.deletionTimestamp}")" = web3/ &&
	K -n argocd patch app prebad --type merge -p "{\"metadata\":{\"finalizers\":null}}" &&
	wait_for 10 sh -c "! kubectl --kubeconfig $kube_KC -n argocd get app prebad"
'

test_expect_success 'deleted again: the leftover PreDelete Job is replaced (BeforeHookCreation), once across a controller restart' '
	K apply -f good.yaml &&
	wait_app good Synced Healthy &&
	old_uid=$(K -n hk get job pre-cleanup -o jsonpath="{.metadata.uid}") &&
	K -n argocd delete app good --wait=false &&
	wait_for 20 grep -q "deleted hook Job/pre-cleanup" "$TRASH/ctl.log" &&
	wait_for 20 sh -c "test \$(grep -c \"created PreDelete hook Job/pre-cleanup\" $TRASH/ctl.log) = 2" &&
	new_uid=$(K -n hk get job pre-cleanup -o jsonpath="{.metadata.uid}") &&
	test -n "$new_uid" && test "$new_uid" != "$old_uid" &&
	# restart the controller while the new PreDelete Job runs
	kill "$(cat "$TRASH/ctl.pid")" &&
	wait_for 10 sh -c "! kill -0 $(cat "$TRASH/ctl.pid")" &&
	(cd "$ROOT" && "$FERRY" controller --kubeconfig "$kube_KC" --data "$TRASH/ctl" \
		>"$TRASH/ctl2.log" 2>&1 & echo $! >>"$TRASH/.pids"; echo $! >"$TRASH/ctl.pid") &&
	wait_for 30 sh -c "! kubectl --kubeconfig $kube_KC -n argocd get app good" &&
	! grep -q "created PreDelete hook" "$TRASH/ctl2.log" &&
	test "$(K -n hk get job pre-cleanup -o jsonpath="{.metadata.uid}")" = "$new_uid" &&
	! K -n hk get deploy web 2>/dev/null
'

test_done
