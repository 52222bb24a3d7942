#!/bin/sh
# t5001-controller.sh - `ferry controller` against `ferry kube` and a git
# daemon on loopback, with the seed document's Applications applied by
# kubectl as written (repoURL excepted): auto-sync with CreateNamespace,
# ignoreDifferences on /spec/replicas, self-heal, a new commit deployed, a
# removed manifest pruned, staging + production apps, a manual app synced by
# patching .operation, a crash-looping image reported Degraded, cascade
# deletion through the resources finalizer (and none without it), and a
# ComparisonError while git is down.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null 2>&1 || test_skip_all "git is not installed"
command -v kubectl >/dev/null 2>&1 || test_skip_all "kubectl is not installed"

export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 HOME="$TRASH"
K() { kubectl --kubeconfig "$kube_KC" "$@"; }
app_field() { K -n argocd get app "$1" -o jsonpath="$2"; }
# wait_app NAME SYNC HEALTH [SECONDS]
wait_app() {
	wait_for "${4:-30}" sh -c "test \"\$(kubectl --kubeconfig $kube_KC -n argocd get app $1 -o jsonpath='{.status.sync.status}/{.status.health.status}')\" = '$2/$3'" ||
		{ K -n argocd get app "$1" -o yaml; tail -30 "$TRASH/ctl.log"; return 1; }
}

start_kube kube || { echo "ferry kube did not start"; exit 1; }
test_expect_success 'start ferry kube' '
	K create namespace argocd
'

test_expect_success 'a repository with production and staging overlays' '
	git init -q -b main srv/ml && cd srv/ml &&
	git config user.email t@example.com && git config user.name T &&
	mkdir -p base overlays/production overlays/staging bad &&
	cat >base/deploy.yaml <<-EOF &&
	apiVersion: apps/v1
	kind: Deployment
	metadata:
	  name: model-server
	spec:
	  replicas: 2
	  selector:
	    matchLabels: {app: model-server}
	  template:
	    metadata:
	      labels: {app: model-server}
	    spec:
	      containers:
	      - name: server
	        image: registry.example/model:v1
	EOF
	cat >base/svc.yaml <<-EOF &&
	apiVersion: v1
	kind: Service
	metadata:
	  name: model-server
	spec:
	  selector: {app: model-server}
	  ports:
	  - port: 80
	EOF
	printf "resources:\n- deploy.yaml\n- svc.yaml\n" >base/kustomization.yaml &&
	printf "resources:\n- ../../base\n" >overlays/production/kustomization.yaml &&
	printf "resources:\n- ../../base\nnamePrefix: stg-\n" >overlays/staging/kustomization.yaml &&
	sed "s/model:v1/model-crashloop:v1/; s/name: model-server$/name: bad-server/" base/deploy.yaml >bad/deploy.yaml &&
	git add -A && git commit -q -m one
'

DPORT=$(free_port)
git daemon --reuseaddr --export-all --listen=127.0.0.1 --port="$DPORT" \
	--base-path="$TRASH/srv" "$TRASH/srv" >"$TRASH/daemon.log" 2>&1 &
echo $! >> "$TRASH/.pids"
DAEMON_PID=$!
REPO="git://127.0.0.1:$DPORT/ml"

test_expect_success 'controller starts and installs the CRDs' '
	wait_for 10 git ls-remote "$REPO" &&
	(cd "$ROOT" && "$FERRY" controller --kubeconfig "$kube_KC" --data "$TRASH/ctl" --install-crds \
		--repo-error-grace-seconds 3 >"$TRASH/ctl.log" 2>&1 & echo $! >>"$TRASH/.pids"; echo $! >"$TRASH/ctl.pid") &&
	wait_for 20 kubectl --kubeconfig "$kube_KC" get crd applications.argoproj.io &&
	K get crd applications.argoproj.io -o jsonpath="{.spec.names.shortNames}" | grep -q "\"app\"" &&
	wait_for 10 grep -q "controller started" "$TRASH/ctl.log"
'

test_expect_success 'seed model-server app becomes Synced and Healthy with CreateNamespace' '
	cat >app.yaml <<-EOF &&
	# apps/model-server-app.yaml
	apiVersion: argoproj.io/v1alpha1
	kind: Application
	metadata:
	  name: model-server
	  namespace: argocd
	  finalizers:
	  - resources-finalizer.argocd.argoproj.io
	spec:
	  project: default
	  source:
	    repoURL: $REPO
	    targetRevision: main
	    path: overlays/production
	  destination:
	    server: https://kubernetes.default.svc
	    namespace: ml-production
	  syncPolicy:
	    automated:
	      prune: true
	      selfHeal: true
	    syncOptions:
	    - CreateNamespace=true
	  # Health checks for ML workloads
	  ignoreDifferences:
	  - group: apps
	    kind: Deployment
	    jsonPointers:
	    - /spec/replicas # Ignore HPA-managed replicas
	EOF
	K apply -f app.yaml &&
	wait_app model-server Synced Healthy &&
	K get ns ml-production &&
	K -n ml-production get deploy/model-server svc/model-server &&
	test "$(app_field model-server "{.status.sync.revision}")" = "$(git -C srv/ml rev-parse HEAD)" &&
	test "$(app_field model-server "{.status.operationState.phase}")" = Succeeded &&
	test "$(app_field model-server "{.status.history[0].id}")" = 0 &&
	K -n ml-production get deploy model-server -o jsonpath="{.metadata.annotations}" | grep -q "argocd.argoproj.io/tracking-id"
'

test_expect_success 'status.resources sorted, summary images, kubectl columns' '
	{ app_field model-server "{.status.resources[*].kind}"; echo; } >kinds &&
	echo "Service Deployment" >expect && test_cmp expect kinds &&
	app_field model-server "{.status.summary.images[0]}" | grep -q model:v1 &&
	K -n argocd get app -o wide | grep -q "Synced *Healthy *[0-9a-f]\{40\} *default"
'

test_expect_success 'kubectl scale does not make the app OutOfSync' '
	K -n ml-production scale deploy model-server --replicas 5 &&
	sleep 2 &&
	test "$(app_field model-server "{.status.sync.status}")" = Synced &&
	test "$(K -n ml-production get deploy model-server -o jsonpath="{.spec.replicas}")" = 5
'

test_expect_success 'kubectl set image is reverted by self-heal' '
	K -n ml-production set image deploy/model-server server=registry.example/model:hacked &&
	wait_for 20 sh -c "kubectl --kubeconfig $kube_KC -n ml-production get deploy model-server -o jsonpath={.spec.template.spec.containers[0].image} | grep -q model:v1" &&
	wait_app model-server Synced Healthy
'

test_expect_success 'a commit changing the image is deployed; a removed manifest is pruned' '
	(cd srv/ml && sed -i "s/model:v1/model:v2/" base/deploy.yaml &&
	 printf "resources:\n- deploy.yaml\n" >base/kustomization.yaml && git commit -q -am two) &&
	K -n argocd annotate app model-server argocd.argoproj.io/refresh=normal &&
	wait_for 30 sh -c "kubectl --kubeconfig $kube_KC -n ml-production get deploy model-server -o jsonpath={.spec.template.spec.containers[0].image} | grep -q model:v2" &&
	wait_for 20 sh -c "! kubectl --kubeconfig $kube_KC -n ml-production get svc model-server" &&
	wait_app model-server Synced Healthy &&
	test "$(app_field model-server "{.status.sync.revision}")" = "$(git -C srv/ml rev-parse HEAD)" &&
	test "$(app_field model-server "{.status.history[1].id}")" = 1 &&
	test -z "$(app_field model-server "{.metadata.annotations.argocd\.argoproj\.io/refresh}")"
'

test_expect_success 'Events are recorded on the Application' '
	K -n argocd get events --field-selector involvedObject.name=model-server -o jsonpath="{.items[*].reason}" >reasons &&
	grep -q OperationCompleted reasons
'

test_expect_success 'one Event per Application write, the changes of the write joined' '
	K -n argocd get events --field-selector involvedObject.name=model-server \
		-o jsonpath="{range .items[*]}{.reason}|{.message}{\"\\n\"}{end}" >events &&
	# the first sync ran in the reconcile that started it: one write, one Event
	grep -q "^OperationCompleted|Initiated automated sync to .[0-9a-f]*.; Sync operation to [0-9a-f]* succeeded; Updated sync status:  -> Synced; Updated health status:  -> " events &&
	! grep -q "^ResourceUpdated|Updated sync status:  -> OutOfSync$" events
'

test_expect_success 'per-resource health is in status.resources' '
	app_field model-server "{.status.resources[?(@.kind==\"Deployment\")].health.status}" >rhealth &&
	grep -q Healthy rhealth &&
	test -z "$(app_field model-server "{.status.resourceHealthSource}")"
'

test_expect_success 'deleting an app with the resources finalizer deletes its resources' '
	K -n argocd delete app model-server --wait=false &&
	wait_for 30 sh -c "! kubectl --kubeconfig $kube_KC -n argocd get app model-server" &&
	! K -n ml-production get deploy model-server 2>/dev/null
'

test_expect_success 'watch the Applications from here on' '
	(K -n argocd get app -w -o json --output-watch-events >appwatch.json 2>/dev/null &
	 echo $! >>"$TRASH/.pids"; echo $! >appwatch.pid) &&
	sleep 1
'

test_expect_success 'staging and production apps from one repository' '
	for env in staging production; do
		cat >$env.yaml <<-EOF
		apiVersion: argoproj.io/v1alpha1
		kind: Application
		metadata:
		  name: model-server-$env
		  namespace: argocd
		spec:
		  source:
		    repoURL: $REPO
		    targetRevision: main
		    path: overlays/$env
		  destination:
		    server: https://kubernetes.default.svc
		    namespace: ml-$env
		  syncPolicy:
		    automated:
		      selfHeal: true
		      prune: true
		EOF
		K apply -f $env.yaml || return 1
	done &&
	K create namespace ml-staging &&
	wait_app model-server-staging Synced Healthy &&
	K -n ml-staging get deploy stg-model-server &&
	test "$(app_field model-server-staging "{.spec.project}")" = "" &&
	wait_for 20 sh -c "kubectl --kubeconfig $kube_KC -n ml-production get deploy model-server"
'

# the controller's writes of one app, from the watch: {op, phase, sync, retry}
app_writes() {
	jq -s -c "[.[] | select(.type == \"MODIFIED\" and .object.metadata.name == \"$1\") | .object |
		{op: (.operation != null), phase: .status.operationState.phase, sync: .status.sync.status,
		 retry: (.status.operationState.retryCount // 0)}]" appwatch.json
}

test_expect_success 'an automated sync done in one step is one Application write; a longer one writes its start, then its end' '
	sleep 1 && kill "$(cat appwatch.pid)" &&
	app_writes model-server-production >prod &&
	app_writes model-server-staging >stg &&
	cat prod stg &&
	# its namespace exists: one attempt, one write (then only health moves)
	test "$(jq "[.[] | select(.op)] | length" prod)" = 0 &&
	test "$(jq -c ".[0]" prod)" = "{\"op\":false,\"phase\":\"Succeeded\",\"sync\":\"Synced\",\"retry\":0}" &&
	# the staging namespace came later: a retry shows as progress, the end is still one write
	test "$(jq -c ".[0].phase" stg)" = "\"Running\"" &&
	test "$(jq "[.[] | select(.op)] | length" stg)" -le "$(jq "[.[].retry] | max + 1" stg)" &&
	test "$(jq -c "[.[] | select(.op | not)][0] | [.phase, .sync]" stg)" = "[\"Succeeded\",\"Synced\"]"
'

test_expect_success 'manual sync policy: OutOfSync until .operation is patched' '
	cat >manual.yaml <<-EOF &&
	apiVersion: argoproj.io/v1alpha1
	kind: Application
	metadata:
	  name: manual
	  namespace: argocd
	spec:
	  project: default
	  source:
	    repoURL: $REPO
	    targetRevision: main
	    path: overlays/staging
	  destination:
	    server: https://kubernetes.default.svc
	    namespace: ml-manual
	  syncPolicy: {} # No automated sync
	EOF
	K create namespace ml-manual && K apply -f manual.yaml &&
	wait_app manual OutOfSync Missing &&
	sleep 2 && test "$(app_field manual "{.status.sync.status}")" = OutOfSync &&
	! K -n ml-manual get deploy stg-model-server 2>/dev/null &&
	K -n argocd patch app manual --type merge -p "{\"operation\":{\"initiatedBy\":{\"username\":\"tester\"},\"sync\":{\"revision\":\"main\",\"prune\":true}}}" &&
	wait_app manual Synced Healthy &&
	K -n ml-manual get deploy stg-model-server &&
	test -z "$(app_field manual "{.operation}")"
'

test_expect_success 'a crash-looping image makes the app Degraded with the pod reason' '
	sed "s#path: overlays/staging#path: bad#; s/name: manual/name: bad/; s/ml-manual/ml-bad/; s/syncPolicy: {}.*/syncPolicy: {automated: {}}/" manual.yaml >bad.yaml &&
	K create namespace ml-bad && K apply -f bad.yaml &&
	wait_app bad Synced Degraded 60 &&
	app_field bad "{.status.health.message}" | grep -q "CrashLoopBackOff\|back-off\|Error"
'

test_expect_success 'an invalid destination is an InvalidSpecError' '
	sed "s/name: manual/name: invalid/; s#server: https://kubernetes.default.svc#name: nowhere#" manual.yaml >invalid.yaml &&
	K apply -f invalid.yaml &&
	wait_for 20 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app invalid -o jsonpath={.status.conditions[0].type} | grep -q InvalidSpecError" &&
	app_field invalid "{.status.conditions[0].message}" | grep -q "there are no clusters with this name: nowhere" &&
	test "$(app_field invalid "{.status.sync.status}")" = Unknown
'

test_expect_success 'deleting an app without the finalizer leaves its resources' '
	K -n argocd delete app model-server-staging &&
	sleep 2 &&
	K -n ml-staging get deploy stg-model-server
'

test_expect_success 'git down: nothing pruned, ComparisonError after the grace period, recovery' '
	kill $DAEMON_PID && sleep 0.5 &&
	K -n argocd annotate app manual argocd.argoproj.io/refresh=normal --overwrite &&
	wait_for 30 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app manual -o jsonpath={.status.conditions[*].type} | grep -q ComparisonError" &&
	K -n ml-manual get deploy stg-model-server &&
	(git daemon --reuseaddr --export-all --listen=127.0.0.1 --port="$DPORT" \
		--base-path="$TRASH/srv" "$TRASH/srv" >"$TRASH/daemon2.log" 2>&1 & echo $! >>"$TRASH/.pids") &&
	wait_for 10 git ls-remote "$REPO" &&
	K -n argocd annotate app manual argocd.argoproj.io/refresh=hard --overwrite &&
	wait_for 30 sh -c "! kubectl --kubeconfig $kube_KC -n argocd get app manual -o jsonpath={.status.conditions[*].type} | grep -q ComparisonError"
'

test_expect_success 'custom Lua health in argocd-cm changes reported health' '
	cat >cm.yaml <<-EOF &&
	apiVersion: v1
	kind: ConfigMap
	metadata:
	  name: argocd-cm
	  namespace: argocd
	data:
	  resource.customizations.health.argoproj.io_Application: |
	    hs = {}
	    hs.status = "Progressing"
	    hs.message = ""
	    if obj.status ~= nil then
	      if obj.status.health ~= nil then
	        hs.status = obj.status.health.status
	        if obj.status.health.message ~= nil then
	          hs.message = obj.status.health.message
	        end
	      end
	    end
	    return hs
	  resource.customizations.health.apps_Deployment: |
	    return {status = "Degraded", message = "deployments are out of fashion"}
	EOF
	K apply -f cm.yaml &&
	wait_for 20 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app manual -o jsonpath={.status.health.status} | grep -q Degraded" &&
	app_field manual "{.status.health.message}" | grep -q "Deployment" &&
	K -n argocd delete cm argocd-cm &&
	wait_app manual Synced Healthy
'

test_expect_success 'sync waves in order and a PreSync hook first' '
	mkdir -p srv/ml/waves &&
	for w in -1 0 1 2; do
		cat >srv/ml/waves/cm$w.yaml <<-EOF
		apiVersion: v1
		kind: ConfigMap
		metadata:
		  name: wave$w
		  annotations:
		    argocd.argoproj.io/sync-wave: "$w"
		data:
		  w: "$w"
		EOF
	done &&
	cat >srv/ml/waves/pre.yaml <<-EOF &&
	apiVersion: batch/v1
	kind: Job
	metadata:
	  name: pre
	  annotations:
	    argocd.argoproj.io/hook: PreSync
	spec:
	  template:
	    spec:
	      restartPolicy: Never
	      containers:
	      - name: c
	        image: busybox
	EOF
	(cd srv/ml && git add waves && git commit -q -m waves) &&
	sed "s#path: overlays/staging#path: waves#; s/name: manual/name: waves/; s/ml-manual/ml-waves/; s/syncPolicy: {}.*/syncPolicy: {automated: {}}/" manual.yaml >waves.yaml &&
	K create namespace ml-waves && K apply -f waves.yaml &&
	wait_app waves Synced Healthy 60 &&
	for w in -1 0 1 2; do K -n ml-waves get cm wave$w -o jsonpath="{.metadata.creationTimestamp} {.metadata.resourceVersion}{\"\\n\"}" || return 1; done >order &&
	sort -n -k2 order >sorted && test_cmp order sorted &&
	K -n ml-waves get job pre &&
	test "$(K -n ml-waves get job pre -o jsonpath={.metadata.resourceVersion})" -lt "$(K -n ml-waves get cm wave-1 -o jsonpath={.metadata.resourceVersion})" &&
	app_field waves "{.status.operationState.syncResult.resources[*].hookType}" | grep -q PreSync
'

test_expect_success 'controller stops on SIGTERM; its log has no sanitizer report' '
	pid=$(cat "$TRASH/ctl.pid") && kill -TERM $pid &&
	wait_for 20 sh -c "! kill -0 $pid" &&
	! grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$TRASH/ctl.log"
'

test_done
