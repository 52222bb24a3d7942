#!/bin/sh
# t5600-appset.sh - the ApplicationSet controller under `ferry up`, with a
# git daemon on loopback: the seed document's ApplicationSet (ml-models,
# list generator, {{model}} in the path and in helm parameter values)
# applied by kubectl as written (repoURL excepted) generates the three
# Applications; removing an element deletes its Application; a git
# directories generator (with an exclude) follows a new commit; a
# duplicate name is reported in status.conditions; `ferry appset
# list|get|create|delete` through the API server.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null 2>&1 || test_skip_all "git is not installed"
command -v kubectl >/dev/null 2>&1 || test_skip_all "kubectl is not installed"

export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 HOME="$TRASH"
export XDG_CONFIG_HOME=$TRASH/xdg
unset FERRY_SERVER FERRY_AUTH_TOKEN
D=$TRASH/up
export KUBECONFIG=$D/kubeconfig
K() { kubectl -n argocd "$@"; }
app_field() { K get app "$1" -o jsonpath="$2"; }
apps_of() { K get app -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | sort; }

test_expect_success 'a repository with the seed models and some apps' '
	git init -q -b main srv/ml && cd srv/ml &&
	git config user.email t@example.com && git config user.name T &&
	for m in sentiment-classifier fraud-detector recommendation-engine; do
		mkdir -p models/$m &&
		printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  model: %s\n" $m $m >models/$m/cm.yaml || return 1
	done &&
	mkdir -p apps/guestbook apps/web apps/skip &&
	for a in guestbook web skip; do
		printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n" $a >apps/$a/cm.yaml || return 1
	done &&
	git add -A && git commit -q -m one
'

DPORT=$(free_port)
git daemon --reuseaddr --export-all --listen=127.0.0.1 --port="$DPORT" \
	--base-path="$TRASH/srv" "$TRASH/srv" >"$TRASH/daemon.log" 2>&1 &
echo $! >> "$TRASH/.pids"
REPO="git://127.0.0.1:$DPORT/ml"

test_expect_success 'ferry up starts the ApplicationSet controller' '
	wait_for 10 git ls-remote "$REPO" &&
	("$FERRY" up --data "$D" --listen 127.0.0.1:0 --kube-listen 127.0.0.1:0 >"$TRASH/up.out" 2>"$TRASH/up.err" &
	 echo $! >>"$TRASH/.pids") &&
	wait_for 60 grep -q "applicationset controller started" "$TRASH/up.err" &&
	wait_for 20 test -s "$D/server.port"
'

# the seed's ApplicationSet, repoURL pointing at the daemon
seed_appset "$TRASH/model-appset.yaml" "$REPO"

test_expect_success 'the seed ApplicationSet generates its three Applications' '
	kubectl apply -f "$TRASH/model-appset.yaml" | grep -q "applicationset.argoproj.io/ml-models created" &&
	wait_for 30 sh -c "test \$(kubectl -n argocd get app -o name | wc -l) = 3" &&
	printf "fraud-detector\nrecommendation-engine\nsentiment-classifier\n" >expect &&
	apps_of >actual && test_cmp expect actual &&
	test "$(app_field fraud-detector "{.spec.source.path}")" = models/fraud-detector &&
	test "$(app_field fraud-detector "{.spec.source.helm.parameters[0].value}")" = v2.1.0 &&
	test "$(app_field fraud-detector "{.spec.source.helm.parameters[1].value}")" = 5 &&
	test "$(app_field sentiment-classifier "{.spec.source.helm.parameters[1].value}")" = 3 &&
	test "$(app_field recommendation-engine "{.spec.destination.namespace}")" = ml-production &&
	test "$(app_field fraud-detector "{.spec.syncPolicy.automated.selfHeal}")" = true &&
	test "$(app_field fraud-detector "{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}")" = ApplicationSet/ml-models/true &&
	test "$(app_field fraud-detector "{.metadata.finalizers[0]}")" = resources-finalizer.argocd.argoproj.io
'

test_expect_success 'status conditions are written' '
	wait_for 20 sh -c "kubectl -n argocd get applicationset ml-models -o jsonpath={.status.conditions[?\(@.type==\\\"ResourcesUpToDate\\\"\)].status} | grep -q True" &&
	K get applicationset ml-models -o jsonpath="{.status.conditions[?(@.type==\"ErrorOccurred\")].status}" | grep -qx False
'

test_expect_success 'a manual edit of a generated Application is reverted' '
	K patch app fraud-detector --type merge -p "{\"spec\":{\"destination\":{\"namespace\":\"elsewhere\"}}}" &&
	wait_for 20 sh -c "test \$(kubectl -n argocd get app fraud-detector -o jsonpath={.spec.destination.namespace}) = ml-production"
'

test_expect_success 'removing an element deletes its Application' '
	sed "/- model: fraud-detector/,/replicas: \"5\"/d" "$TRASH/model-appset.yaml" >two.yaml &&
	! grep -q fraud two.yaml &&
	kubectl apply -f two.yaml | grep -q configured &&
	wait_for 30 sh -c "! kubectl -n argocd get app fraud-detector -o name 2>/dev/null | grep -q ." &&
	printf "recommendation-engine\nsentiment-classifier\n" >expect &&
	apps_of >actual && test_cmp expect actual
'

test_expect_success 'a git directories generator with an exclude follows new commits' '
	cat >dirs.yaml <<-EOF &&
	apiVersion: argoproj.io/v1alpha1
	kind: ApplicationSet
	metadata:
	  name: dirs
	  namespace: argocd
	spec:
	  syncPolicy:
	    preserveResourcesOnDeletion: true
	  generators:
	  - git:
	      repoURL: $REPO
	      revision: HEAD
	      requeueAfterSeconds: 2
	      directories:
	      - path: apps/*
	      - path: apps/skip
	        exclude: true
	  template:
	    metadata:
	      name: "dir-{{path.basename}}"
	      labels:
	        first-segment: "{{path[0]}}"
	    spec:
	      project: default
	      source:
	        repoURL: $REPO
	        targetRevision: HEAD
	        path: "{{path}}"
	      destination:
	        server: https://kubernetes.default.svc
	        namespace: "{{path.basename}}"
	EOF
	kubectl apply -f dirs.yaml &&
	wait_for 30 sh -c "kubectl -n argocd get app dir-web -o name" &&
	wait_for 10 sh -c "kubectl -n argocd get app dir-guestbook -o name" &&
	test_must_fail K get app dir-skip &&
	test "$(app_field dir-web "{.spec.source.path}")" = apps/web &&
	test "$(app_field dir-web "{.metadata.labels.first-segment}")" = apps &&
	test -z "$(app_field dir-web "{.metadata.finalizers}")" &&
	(cd "$TRASH/srv/ml" && mkdir apps/api && cp apps/web/cm.yaml apps/api/ && git add -A && git commit -q -m two) &&
	wait_for 30 sh -c "kubectl -n argocd get app dir-api -o name"
'

test_expect_success 'a duplicate generated name is reported, nothing is applied' '
	cat >dup.yaml <<-EOF &&
	apiVersion: argoproj.io/v1alpha1
	kind: ApplicationSet
	metadata:
	  name: dup
	  namespace: argocd
	spec:
	  generators:
	  - list:
	      elements:
	      - {name: same, v: "1"}
	      - {name: same, v: "2"}
	  template:
	    metadata:
	      name: "dup-{{name}}"
	    spec:
	      project: default
	      source: {repoURL: $REPO, path: apps/web}
	      destination: {server: https://kubernetes.default.svc, namespace: dup}
	EOF
	kubectl apply -f dup.yaml &&
	wait_for 20 sh -c "kubectl -n argocd get applicationset dup -o jsonpath={.status.conditions} | grep -q \"duplicate name: dup-same\"" &&
	test_must_fail K get app dup-same
'

test_expect_success 'create-only: no update, no delete, the Applications outlive their ApplicationSet' '
	cat >co.yaml <<-EOF &&
	apiVersion: argoproj.io/v1alpha1
	kind: ApplicationSet
	metadata:
	  name: co
	  namespace: argocd
	spec:
	  goTemplate: true
	  syncPolicy:
	    applicationsSync: create-only
	  generators:
	  - list:
	      elements:
	      - {name: one}
	      - {name: two}
	  template:
	    metadata:
	      name: "co-{{ .name }}"
	    spec:
	      project: default
	      source: {repoURL: $REPO, path: apps/web, targetRevision: HEAD}
	      destination: {server: https://kubernetes.default.svc, namespace: "{{ .name | upper | lower }}"}
	EOF
	kubectl apply -f co.yaml &&
	wait_for 20 sh -c "kubectl -n argocd get app co-two -o name" &&
	test "$(app_field co-one "{.spec.destination.namespace}")" = one &&
	sed "s/path: apps\/web/path: apps\/guestbook/; /- {name: two}/d" co.yaml >co2.yaml &&
	kubectl apply -f co2.yaml &&
	sleep 2 &&
	test "$(app_field co-one "{.spec.source.path}")" = apps/web &&
	K get app co-two &&
	K delete applicationset co &&
	wait_for 20 sh -c "test -z \"\$(kubectl -n argocd get app co-one -o jsonpath={.metadata.ownerReferences})\"" &&
	sleep 1 && K get app co-one && K get app co-two
'

S=127.0.0.1:$(cat "$D/server.port" 2>/dev/null)
test_expect_success 'ferry appset list and get through the API server' '
	kubectl -n argocd get secret argocd-initial-admin-secret -o jsonpath="{.data.password}" | base64 -d >pw &&
	"$FERRY" login $S --username admin --password "$(cat pw)" --insecure >out &&
	"$FERRY" appset list >list &&
	head -1 list | grep -q "^NAME  *PROJECT  *SYNCPOLICY  *CONDITIONS$" &&
	grep -q "^argocd/ml-models  *default  *nil  *\[{ParametersGenerated" list &&
	grep -q "^argocd/dirs " list &&
	"$FERRY" appset list -o wide | head -1 | grep -q "REPO  *PATH  *TARGET$" &&
	"$FERRY" appset list -o name | sort >names &&
	printf "dirs\ndup\nml-models\n" >expect && test_cmp expect names &&
	"$FERRY" appset get ml-models >get &&
	grep -q "^Name: *argocd/ml-models$" get &&
	grep -q "^  Path: *models/{{model}}$" get &&
	grep -q "^SyncPolicy: *Automated$" get &&
	grep -q "^ResourcesUpToDate  *True" get &&
	"$FERRY" appset get ml-models -o json | jq -e ".spec.generators[0].list.elements | length == 2" &&
	test_must_fail "$FERRY" appset get nosuch 2>err &&
	grep -q "not found" err
'

test_expect_success 'ferry appset create, upsert and delete' '
	sed "s/name: dup$/name: dup2/; s/dup-{{name}}/dup2-{{v}}/" dup.yaml >dup2.yaml &&
	"$FERRY" appset create dup2.yaml 2>err >out &&
	grep -q "ApplicationSet .dup2. created" err &&
	wait_for 20 sh -c "kubectl -n argocd get app dup2-1 -o name" &&
	"$FERRY" appset create dup2.yaml 2>err && grep -q "unchanged" err &&
	sed "s/v: \"2\"/v: \"3\"/" dup2.yaml >dup3.yaml &&
	test_must_fail "$FERRY" appset create dup3.yaml 2>err && grep -q "use upsert flag" err &&
	"$FERRY" appset create dup3.yaml --upsert 2>err && grep -q "updated" err &&
	wait_for 20 sh -c "kubectl -n argocd get app dup2-3 -o name" &&
	wait_for 20 sh -c "! kubectl -n argocd get app dup2-2 -o name 2>/dev/null | grep -q ." &&
	"$FERRY" appset delete dup2 -y | grep -q "applicationset .dup2. deleted" &&
	wait_for 30 sh -c "! kubectl -n argocd get app dup2-1 -o name 2>/dev/null | grep -q ." &&
	test_must_fail K get applicationset dup2
'

test_done
