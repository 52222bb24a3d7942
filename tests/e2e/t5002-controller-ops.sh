#!/bin/sh
# t5002-controller-ops.sh - operations through `ferry controller` against
# `ferry kube`, Applications applied and `.operation` patched by kubectl as
# `argocd` does: every operation gets a fresh operationState, an unknown
# revision fails the operation, a field drifted by a merge patch is
# restored, a failing PostSync hook fails the sync and runs the SyncFail
# hook, three deployed revisions in status.history and a rollback to the
# first (refused by `ferry server` while auto-sync is on), a second
# `ferry kube` registered by an Argo CD cluster Secret (destination by name
# and by server), the controller killed with kill -9 during a PreSync hook
# (the operation finishes after a restart and the hook runs once), a dry
# run that changes nothing, prune only when asked, waves that wait for
# health, and argocd-cm Lua health for a CRD of the test's own.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server-lib.sh"

command -v git >/dev/null 2>&1 || test_skip_all "git is not installed"
command -v kubectl >/dev/null 2>&1 || test_skip_all "kubectl is not installed"
command -v jq >/dev/null 2>&1 || test_skip_all "jq is not installed"

export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 HOME="$TRASH"
K() { kubectl --kubeconfig "$kube_KC" "$@"; }
K2() { kubectl --kubeconfig "$kube2_KC" "$@"; }
app_field() { K -n argocd get app "$1" -o jsonpath="$2"; }
# op APP SYNC-JSON: start an operation as `argocd app sync` does and wait
# until the controller has finished it (it removes .operation then)
op() {
	K -n argocd patch app "$1" --type merge \
		-p "{\"operation\":{\"initiatedBy\":{\"username\":\"tester\"},\"sync\":$2}}" >/dev/null &&
	wait_for "${3:-60}" sh -c "test -z \"\$(kubectl --kubeconfig $kube_KC -n argocd get app $1 -o jsonpath={.operation})\"" ||
		{ K -n argocd get app "$1" -o yaml; tail -30 "$TRASH/ctl.log"; return 1; }
}
# manual_app NAME PATH NAMESPACE [DESTINATION-YAML]
manual_app() {
	cat >"$TRASH/$1.yaml" <<-EOF
	apiVersion: argoproj.io/v1alpha1
	kind: Application
	metadata:
	  name: $1
	  namespace: argocd
	spec:
	  project: default
	  source:
	    repoURL: $REPO
	    targetRevision: main
	    path: $2
	  destination:
	    ${4:-server: https://kubernetes.default.svc}
	    namespace: $3
	  syncPolicy:
	    syncOptions:
	    - CreateNamespace=true
	EOF
	K apply -f "$TRASH/$1.yaml"
}
start_controller() {
	(cd "$ROOT" && "$FERRY" controller --kubeconfig "$kube_KC" --data "$TRASH/ctl" --install-crds \
		>>"$TRASH/ctl.log" 2>&1 & echo $! >>"$TRASH/.pids"; echo $! >"$TRASH/ctl.pid")
}

start_kube kube || { echo "ferry kube did not start"; exit 1; }
start_kube kube2 || { echo "the second ferry kube did not start"; exit 1; }
REPO=file://$TRASH/repo

test_expect_success 'a repository; the controller installs its embedded CRDs' '
	K create namespace argocd &&
	git init -q -b main repo && cd repo &&
	git config user.email t@example.com && git config user.name T &&
	mkdir -p plain hooks hist slow remote &&
	cat >plain/deploy.yaml <<-EOF &&
	apiVersion: apps/v1
	kind: Deployment
	metadata:
	  name: web
	spec:
	  replicas: 5
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
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hooked\ndata:\n  k: v\n" >hooks/cm.yaml &&
	for h in PostSync SyncFail; do
		img=busybox; test $h = PostSync && img=busybox:fail
		cat >hooks/$h.yaml <<-EOF
		apiVersion: batch/v1
		kind: Job
		metadata:
		  name: $(echo $h | tr A-Z a-z)
		  annotations:
		    argocd.argoproj.io/hook: $h
		spec:
		  backoffLimit: 0
		  template:
		    spec:
		      restartPolicy: Never
		      containers:
		      - name: c
		        image: $img
		EOF
	done &&
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hist\ndata:\n  v: \"1\"\n" >hist/cm.yaml &&
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: slow\ndata:\n  k: v\n" >slow/cm.yaml &&
	cat >slow/pre.yaml <<-EOF &&
	apiVersion: batch/v1
	kind: Job
	metadata:
	  name: pre
	  annotations:
	    argocd.argoproj.io/hook: PreSync
	spec:
	  template:
	    metadata:
	      annotations:
	        sim.ferry.dev/startup-delay: 3s
	    spec:
	      restartPolicy: Never
	      containers:
	      - name: c
	        image: busybox
	EOF
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote\ndata:\n  k: v\n" >remote/cm.yaml &&
	git add -A && git commit -q -m one && cd .. &&
	start_controller &&
	wait_for 20 kubectl --kubeconfig "$kube_KC" get crd applications.argoproj.io appprojects.argoproj.io applicationsets.argoproj.io &&
	wait_for 10 grep -q "controller started" ctl.log &&
	! grep -q "cannot open" ctl.log
'

test_expect_success 'each operation gets a fresh operationState' '
	manual_app plain plain ml-plain &&
	op plain "{\"revision\":\"main\"}" &&
	test "$(app_field plain "{.status.operationState.phase}")" = Succeeded &&
	app_field plain "{.status.operationState.startedAt}" >started1 &&
	app_field plain "{.status.operationState.finishedAt}" >finished1 &&
	app_field plain "{.status.operationState.syncResult.resources[0].message}" >msg1 &&
	grep -q created msg1 &&
	sleep 1.2 &&
	op plain "{\"revision\":\"main\",\"prune\":true}" &&
	test "$(app_field plain "{.status.operationState.phase}")" = Succeeded &&
	app_field plain "{.status.operationState.startedAt}" >started2 &&
	app_field plain "{.status.operationState.finishedAt}" >finished2 &&
	! test_cmp started1 started2 >/dev/null && ! test_cmp finished1 finished2 >/dev/null &&
	test "$(app_field plain "{.status.operationState.operation.sync.prune}")" = true &&
	app_field plain "{.status.operationState.syncResult.resources[0].message}" | grep -q unchanged
'

test_expect_success 'a revision that does not exist fails the operation' '
	op plain "{\"revision\":\"does-not-exist\"}" &&
	test "$(app_field plain "{.status.operationState.phase}")" = Error &&
	app_field plain "{.status.operationState.message}" | grep -qi "unable to resolve .does-not-exist. to a commit SHA" &&
	test -n "$(app_field plain "{.status.operationState.finishedAt}")" &&
	test -z "$(app_field plain "{.status.operationState.syncResult}")"
'

test_expect_success 'a field drifted by a merge patch is restored by the next sync' '
	K -n ml-plain patch deploy web --type merge -p "{\"spec\":{\"replicas\":2}}" &&
	wait_for 20 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app plain -o jsonpath={.status.sync.status} | grep -qx OutOfSync" &&
	op plain "{\"revision\":\"main\"}" &&
	test "$(app_field plain "{.status.operationState.phase}")" = Succeeded &&
	test "$(K -n ml-plain get deploy web -o jsonpath={.spec.replicas})" = 5 &&
	wait_for 20 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app plain -o jsonpath={.status.sync.status} | grep -qx Synced"
'

test_expect_success 'a failing PostSync hook fails the sync and runs the SyncFail hook' '
	manual_app hooks hooks ml-hooks &&
	op hooks "{\"revision\":\"main\"}" 90 &&
	test "$(app_field hooks "{.status.operationState.phase}")" = Failed &&
	K -n ml-hooks get cm hooked &&
	K -n ml-hooks get job postsync -o jsonpath="{.status.conditions[*].type}" | grep -q Failed &&
	K -n ml-hooks get job syncfail &&
	app_field hooks "{.status.operationState.syncResult.resources[*].hookType}" >types &&
	grep -q PostSync types && grep -q SyncFail types
'

test_expect_success 'three deployed revisions in status.history' '
	manual_app hist hist ml-hist &&
	op hist "{\"revision\":\"main\"}" &&
	git -C repo rev-parse HEAD >revs &&
	for v in 2 3; do
		sed -i "s/v: \".*\"/v: \"$v\"/" repo/hist/cm.yaml &&
		git -C repo commit -q -am "v$v" && git -C repo rev-parse HEAD >>revs &&
		op hist "{\"revision\":\"main\"}" || return 1
	done &&
	test "$(K -n ml-hist get cm hist -o jsonpath={.data.v})" = 3 &&
	{ app_field hist "{.status.history[*].revision}" | tr " " "\n"; echo; } >hrevs &&
	test_cmp revs hrevs &&
	test "$(app_field hist "{.status.history[*].id}")" = "0 1 2"
'

test_expect_success 'with auto-sync off, a rollback to the first revision redeploys it' '
	r1=$(head -1 revs) &&
	src=$(K -n argocd get app hist -o json | jq -c ".status.history[0].source") &&
	op hist "{\"revision\":\"$r1\",\"source\":$src,\"syncStrategy\":{\"apply\":{}}}" &&
	test "$(app_field hist "{.status.operationState.phase}")" = Succeeded &&
	test "$(K -n ml-hist get cm hist -o jsonpath={.data.v})" = 1 &&
	test "$(app_field hist "{.status.operationState.syncResult.revision}")" = "$r1" &&
	test "$(app_field hist "{.status.history[3].revision}")" = "$r1" &&
	test "$(app_field hist "{.status.history[3].id}")" = 3 &&
	wait_for 20 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app hist -o jsonpath={.status.sync.status} | grep -qx OutOfSync"
'

start_server || { echo "ferry server did not start"; tail -20 "$TRASH/srv.log"; }

test_expect_success 'with auto-sync on, a rollback is refused with Argo CD message' '
	K -n argocd get secret argocd-initial-admin-secret -o jsonpath="{.data.password}" | base64 -d >admin.pw &&
	login admin "$(cat admin.pw)" &&
	K -n argocd patch app hist --type merge -p "{\"spec\":{\"syncPolicy\":{\"automated\":{}}}}" &&
	st=$(api admin PUT /api/v1/applications/hist/rollback -d "{\"id\":0}") &&
	test "$st" != 200 &&
	jbody .message | grep -q "rollback cannot be initiated when auto-sync is enabled" &&
	wait_for 30 sh -c "test \"\$(kubectl --kubeconfig $kube_KC -n ml-hist get cm hist -o jsonpath={.data.v})\" = 3"
'

test_expect_success 'a second ferry kube registered by a cluster Secret receives an app (by name and by server)' '
	ca=$(base64 -w0 <kube2/pki/ca.crt) &&
	cfg=$(printf "{\"bearerToken\":\"%s\",\"tlsClientConfig\":{\"insecure\":false,\"caData\":\"%s\"}}" "$(cat kube2/token)" "$ca") &&
	K -n argocd create secret generic kube2-secret --from-literal=name=kube2 \
		--from-literal=server=https://127.0.0.1:$kube2_PORT --from-literal=config="$cfg" &&
	K -n argocd label secret kube2-secret argocd.argoproj.io/secret-type=cluster &&
	manual_app remote-name remote ml-remote-a "name: kube2" &&
	sed "s/name: remote-name/name: remote-server/; s#name: kube2#server: https://127.0.0.1:$kube2_PORT#; s/ml-remote-a/ml-remote-b/" \
		remote-name.yaml >remote-server.yaml &&
	K apply -f remote-server.yaml &&
	op remote-name "{\"revision\":\"main\"}" &&
	op remote-server "{\"revision\":\"main\"}" &&
	test "$(app_field remote-name "{.status.operationState.phase}")" = Succeeded &&
	test "$(app_field remote-server "{.status.operationState.phase}")" = Succeeded &&
	K2 -n ml-remote-a get cm remote && K2 -n ml-remote-b get cm remote &&
	! K get ns ml-remote-a 2>/dev/null && ! K get ns ml-remote-b 2>/dev/null &&
	wait_for 20 sh -c "test \"\$(kubectl --kubeconfig $kube_KC -n argocd get app remote-name -o jsonpath={.status.sync.status}/{.status.health.status})\" = Synced/Healthy"
'

test_expect_success 'controller killed with kill -9 during a PreSync hook: the operation finishes, the hook runs once' '
	manual_app slow slow ml-slow &&
	K create namespace ml-slow &&
	(kubectl --kubeconfig "$kube_KC" -n ml-slow get jobs -w --no-headers -o custom-columns=UID:.metadata.uid \
		>jobuids 2>/dev/null & echo $! >>"$TRASH/.pids"; echo $! >watch.pid) &&
	K -n argocd patch app slow --type merge \
		-p "{\"operation\":{\"initiatedBy\":{\"username\":\"tester\"},\"sync\":{\"revision\":\"main\"}}}" &&
	wait_for 20 kubectl --kubeconfig "$kube_KC" -n ml-slow get job pre &&
	test "$(app_field slow "{.status.operationState.phase}")" = Running &&
	uid1=$(K -n ml-slow get job pre -o jsonpath={.metadata.uid}) &&
	kill -9 "$(cat ctl.pid)" && sleep 1 &&
	! K -n ml-slow get cm slow 2>/dev/null &&
	start_controller &&
	wait_for 60 sh -c "test -z \"\$(kubectl --kubeconfig $kube_KC -n argocd get app slow -o jsonpath={.operation})\"" &&
	test "$(app_field slow "{.status.operationState.phase}")" = Succeeded &&
	K -n ml-slow get cm slow &&
	test "$(K -n ml-slow get job pre -o jsonpath={.metadata.uid})" = "$uid1" &&
	kill "$(cat watch.pid)" &&
	sort -u jobuids >uids && test "$(wc -l <uids)" = 1 &&
	app_field slow "{.status.operationState.syncResult.resources[*].hookPhase}" | grep -q Succeeded
'

test_expect_success 'manual sync: a dry run changes nothing; prune only when asked' '
	mkdir -p repo/manual &&
	for n in a b; do printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  k: v\n" $n >repo/manual/$n.yaml; done &&
	git -C repo add manual && git -C repo commit -q -m manual &&
	K create namespace ml-manual && manual_app manual manual ml-manual &&
	op manual "{\"revision\":\"main\",\"dryRun\":true}" &&
	test "$(app_field manual "{.status.operationState.phase}")" = Succeeded &&
	app_field manual "{.status.operationState.syncResult.resources[*].message}" | grep -q "dry run" &&
	! K -n ml-manual get cm a 2>/dev/null && ! K -n ml-manual get cm b 2>/dev/null &&
	test -z "$(app_field manual "{.status.history}")" &&
	test "$(app_field manual "{.status.sync.status}")" = OutOfSync &&
	op manual "{\"revision\":\"main\"}" &&
	K -n ml-manual get cm a b &&
	git -C repo rm -q manual/b.yaml && git -C repo commit -q -m "drop b" &&
	op manual "{\"revision\":\"main\"}" &&
	K -n ml-manual get cm b &&
	K -n argocd get app manual -o json | jq -r ".status.operationState.syncResult.resources[] | select(.name == \"b\") | .status" | grep -qx PruneSkipped &&
	wait_for 20 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app manual -o jsonpath={.status.sync.status} | grep -qx OutOfSync" &&
	op manual "{\"revision\":\"main\",\"prune\":true}" &&
	wait_for 20 sh -c "! kubectl --kubeconfig $kube_KC -n ml-manual get cm b" &&
	K -n argocd get app manual -o json | jq -r ".status.operationState.syncResult.resources[] | select(.name == \"b\") | .status" | grep -qx Pruned &&
	wait_for 20 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app manual -o jsonpath={.status.sync.status} | grep -qx Synced"
'

test_expect_success 'each wave is healthy before the next one starts' '
	mkdir -p repo/slowwaves &&
	cat >repo/slowwaves/deploy.yaml <<-EOF &&
	apiVersion: apps/v1
	kind: Deployment
	metadata:
	  name: first
	  annotations:
	    argocd.argoproj.io/sync-wave: "0"
	spec:
	  replicas: 1
	  selector:
	    matchLabels: {app: first}
	  template:
	    metadata:
	      labels: {app: first}
	      annotations:
	        sim.ferry.dev/startup-delay: 3s
	    spec:
	      containers:
	      - name: c
	        image: registry.example/first:v1
	EOF
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: second\n  annotations:\n    argocd.argoproj.io/sync-wave: \"1\"\n" >repo/slowwaves/cm.yaml &&
	git -C repo add slowwaves && git -C repo commit -q -m slowwaves &&
	manual_app slowwaves slowwaves ml-slowwaves &&
	op slowwaves "{\"revision\":\"main\"}" &&
	test "$(app_field slowwaves "{.status.operationState.phase}")" = Succeeded &&
	d=$(date -d "$(K -n ml-slowwaves get deploy first -o jsonpath={.metadata.creationTimestamp})" +%s) &&
	c=$(date -d "$(K -n ml-slowwaves get cm second -o jsonpath={.metadata.creationTimestamp})" +%s) &&
	test $((c - d)) -ge 2
'

test_expect_success 'Lua health in argocd-cm for a CRD of our own' '
	cat >crd.yaml <<-EOF &&
	apiVersion: apiextensions.k8s.io/v1
	kind: CustomResourceDefinition
	metadata:
	  name: widgets.example.com
	spec:
	  group: example.com
	  scope: Namespaced
	  names: {plural: widgets, singular: widget, kind: Widget}
	  versions:
	  - name: v1
	    served: true
	    storage: true
	    schema:
	      openAPIV3Schema:
	        type: object
	        x-kubernetes-preserve-unknown-fields: true
	EOF
	K apply -f crd.yaml &&
	wait_for 20 kubectl --kubeconfig "$kube_KC" get widgets -A &&
	mkdir -p repo/widgets &&
	printf "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  ready: false\n" >repo/widgets/w.yaml &&
	git -C repo add widgets && git -C repo commit -q -m widgets &&
	cat >cm.yaml <<-EOF &&
	apiVersion: v1
	kind: ConfigMap
	metadata:
	  name: argocd-cm
	  namespace: argocd
	data:
	  resource.customizations.health.example.com_Widget: |
	    hs = {}
	    if obj.spec ~= nil and obj.spec.ready then
	      hs.status = "Healthy"
	      hs.message = "widget ready"
	    else
	      hs.status = "Degraded"
	      hs.message = "widget not ready"
	    end
	    return hs
	EOF
	K apply -f cm.yaml &&
	manual_app widgets widgets ml-widgets &&
	op widgets "{\"revision\":\"main\"}" &&
	wait_for 20 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app widgets -o jsonpath={.status.health.status} | grep -qx Degraded" &&
	app_field widgets "{.status.health.message}" | grep -q "Widget:ml-widgets/w" &&
	K -n ml-widgets patch widget w --type merge -p "{\"spec\":{\"ready\":true}}" &&
	wait_for 20 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app widgets -o jsonpath={.status.health.status} | grep -qx Healthy" &&
	K -n argocd delete cm argocd-cm
'

test_expect_success 'multi-source: syncResult and history carry revisions; rollback to them' '
	mkdir -p repo/multi/a repo/multi/b &&
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ma\ndata:\n  v: \"1\"\n" >repo/multi/a/cm.yaml &&
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mb\ndata:\n  v: \"1\"\n" >repo/multi/b/cm.yaml &&
	git -C repo add multi && git -C repo commit -q -m multi &&
	cat >multi.yaml <<-EOF &&
	apiVersion: argoproj.io/v1alpha1
	kind: Application
	metadata:
	  name: multi
	  namespace: argocd
	spec:
	  project: default
	  sources:
	  - repoURL: $REPO
	    targetRevision: main
	    path: multi/a
	  - repoURL: $REPO
	    targetRevision: main
	    path: multi/b
	  destination:
	    server: https://kubernetes.default.svc
	    namespace: ml-multi
	  syncPolicy:
	    syncOptions:
	    - CreateNamespace=true
	EOF
	K apply -f multi.yaml &&
	op multi "{}" &&
	test "$(app_field multi "{.status.operationState.phase}")" = Succeeded &&
	r1=$(git -C repo rev-parse HEAD) &&
	test "$(app_field multi "{.status.operationState.syncResult.revisions}")" = "[\"$r1\",\"$r1\"]" &&
	test -z "$(app_field multi "{.status.operationState.syncResult.revision}")" &&
	test "$(app_field multi "{.status.history[0].revisions}")" = "[\"$r1\",\"$r1\"]" &&
	sed -i "s/v: \"1\"/v: \"2\"/" repo/multi/a/cm.yaml && git -C repo commit -q -am "multi v2" &&
	op multi "{}" &&
	test "$(K -n ml-multi get cm ma -o jsonpath={.data.v})" = 2 &&
	h0=$(K -n argocd get app multi -o json | jq -c ".status.history[0] | {revisions, sources}") &&
	op multi "$(echo "$h0" | jq -c ". + {syncStrategy: {apply: {}}}")" &&
	test "$(app_field multi "{.status.operationState.phase}")" = Succeeded &&
	test "$(K -n ml-multi get cm ma -o jsonpath={.data.v})" = 1 &&
	test "$(app_field multi "{.status.history[2].revisions}")" = "[\"$r1\",\"$r1\"]"
'

test_expect_success 'controller stops on SIGTERM; its log has no sanitizer report' '
	pid=$(cat "$TRASH/ctl.pid") && kill -TERM $pid &&
	wait_for 20 sh -c "! kill -0 $pid" &&
	! grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$TRASH/ctl.log"
'

test_done
