#!/bin/sh
# t5100-project.sh - `ferry controller` enforcing AppProjects, repository
# Secrets and sync windows, against `ferry kube`, a git daemon and an
# authenticated git http-backend on loopback: an app whose project does
# not permit its repo gets InvalidSpecError and nothing is deployed, until
# the project is changed; a blacklisted cluster-scoped kind fails the sync;
# a private repository syncs once a repository Secret exists; a deny sync
# window blocks auto-sync and a manual sync without manualSync.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null 2>&1 || test_skip_all "git is not installed"
command -v kubectl >/dev/null 2>&1 || test_skip_all "kubectl is not installed"

export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 HOME="$TRASH"
K() { kubectl --kubeconfig "$kube_KC" "$@"; }
app_field() { K -n argocd get app "$1" -o jsonpath="$2"; }
show() { K -n argocd get app "$1" -o yaml; tail -20 "$TRASH/ctl.log"; return 1; }
# wait_app NAME SYNC HEALTH [SECONDS]
wait_app() {
	wait_for "${4:-30}" sh -c "test \"\$(kubectl --kubeconfig $kube_KC -n argocd get app $1 -o jsonpath='{.status.sync.status}/{.status.health.status}')\" = '$2/$3'" ||
		show "$1"
}
# wait_cond NAME TYPE TEXT: a condition of TYPE whose message contains TEXT
wait_cond() {
	wait_for 30 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app $1 -o jsonpath='{range .status.conditions[?(@.type==\"$2\")]}{.message}{end}' | grep -qF \"$3\"" ||
		show "$1"
}
# app NAME PROJECT REPO PATH [automated]
app() {
	cat >"$1.yaml" <<-EOF
	apiVersion: argoproj.io/v1alpha1
	kind: Application
	metadata:
	  name: $1
	  namespace: argocd
	spec:
	  project: $2
	  source:
	    repoURL: $3
	    targetRevision: main
	    path: $4
	  destination:
	    server: https://kubernetes.default.svc
	    namespace: team-a
	EOF
	if test "${5:-}" = automated; then
		printf "  syncPolicy:\n    automated: {}\n" >>"$1.yaml"
	fi
	K apply -f "$1.yaml"
}
# project NAME SOURCE-REPO [extra spec lines from stdin]
project() {
	{
		cat <<-EOF
		apiVersion: argoproj.io/v1alpha1
		kind: AppProject
		metadata:
		  name: $1
		  namespace: argocd
		spec:
		  sourceRepos: ["$2"]
		  destinations:
		  - server: "*"
		    namespace: team-a
		EOF
		cat
	} >"proj-$1.yaml" &&
	K apply -f "proj-$1.yaml"
}

start_kube kube || { echo "ferry kube did not start"; exit 1; }
test_expect_success 'start ferry kube' '
	K create namespace argocd && K create namespace team-a
'

test_expect_success 'repositories: a public one, a private one' '
	git init -q -b main srv/pub && cd srv/pub &&
	git config user.email t@example.com && git config user.name T &&
	mkdir -p cm cluster win &&
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pub-cm\ndata:\n  a: \"1\"\n" >cm/cm.yaml &&
	printf "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: t5100-reader\nrules: []\n" >cluster/role.yaml &&
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t5100-cm2\ndata:\n  b: \"2\"\n" >cluster/cm.yaml &&
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: win-cm\ndata:\n  w: \"1\"\n" >win/cm.yaml &&
	git add -A && git commit -q -m one && cd ../.. &&
	git init -q -b main srv/priv && cd srv/priv &&
	git config user.email t@example.com && git config user.name T &&
	mkdir -p app &&
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: priv-cm\ndata:\n  secret: \"no\"\n" >app/cm.yaml &&
	git add -A && git commit -q -m one
'

DPORT=$(free_port)
git daemon --reuseaddr --export-all --listen=127.0.0.1 --port="$DPORT" \
	--base-path="$TRASH/srv" "$TRASH/srv" >"$TRASH/daemon.log" 2>&1 &
echo $! >> "$TRASH/.pids"
REPO="git://127.0.0.1:$DPORT/pub"
python3 "$ROOT/tests/e2e/git-http.py" --root "$TRASH/srv" --port-file "$TRASH/http.port" \
	--user alice --password s3cret >"$TRASH/http.log" 2>&1 &
echo $! >> "$TRASH/.pids"

test_expect_success 'controller starts and installs the CRDs' '
	wait_for 10 git ls-remote "$REPO" &&
	wait_for 10 test -s http.port &&
	(cd "$ROOT" && "$FERRY" controller --kubeconfig "$kube_KC" --data "$TRASH/ctl" --install-crds \
		--repo-error-grace-seconds 1 >"$TRASH/ctl.log" 2>&1 & echo $! >>"$TRASH/.pids") &&
	wait_for 20 K get crd appprojects.argoproj.io &&
	wait_for 20 grep -q "controller started" ctl.log &&
	! grep -q "projects are not enforced" ctl.log
'

test_expect_success 'a project that does not permit the repo: InvalidSpecError, nothing deployed' '
	project team "https://example.com/*" </dev/null &&
	app a1 team "$REPO" cm automated &&
	wait_cond a1 InvalidSpecError "application repo $REPO is not permitted in project '\''team'\''" &&
	test "$(app_field a1 "{.status.sync.status}")" = Unknown &&
	sleep 1 &&
	test_must_fail K -n team-a get cm pub-cm
'

test_expect_success 'an app of a project that does not exist' '
	app a0 nosuch "$REPO" cm &&
	wait_cond a0 InvalidSpecError "Application referencing project nosuch which does not exist" &&
	K -n argocd delete app a0
'

test_expect_success 'permitting the repo (kubectl apply of the project) lets it sync' '
	project team "*" </dev/null &&
	wait_app a1 Synced Healthy &&
	K -n team-a get cm pub-cm &&
	test -z "$(app_field a1 "{.status.conditions[?(@.type==\"InvalidSpecError\")].message}")"
'

test_expect_success 'a destination the project refuses' '
	sed "s/namespace: team-a$/namespace: team-b/" a1.yaml | sed "s/name: a1$/name: a5/" >a5.yaml &&
	K apply -f a5.yaml &&
	wait_cond a5 InvalidSpecError "application destination server '\''https://kubernetes.default.svc'\'' and namespace '\''team-b'\'' do not match any of the allowed destinations in project '\''team'\''" &&
	K -n argocd patch app a5 --type merge -p "{\"operation\":{\"initiatedBy\":{\"username\":\"t\"},\"sync\":{\"revision\":\"main\"}}}" &&
	wait_for 30 sh -c "test \"\$(kubectl --kubeconfig $kube_KC -n argocd get app a5 -o jsonpath={.status.operationState.phase})\" = Error" || show a5 &&
	app_field a5 "{.status.operationState.message}" | grep -q "do not match any of the allowed destinations" &&
	test -z "$(app_field a5 "{.operation}")" &&
	K -n argocd delete app a5
'

test_expect_success 'a blacklisted cluster-scoped kind fails the sync and is not applied' '
	project ops "*" <<-EOF &&
	  clusterResourceWhitelist:
	  - group: "*"
	    kind: "*"
	  clusterResourceBlacklist:
	  - group: rbac.authorization.k8s.io
	    kind: ClusterRole
	EOF
	app a2 ops "$REPO" cluster automated &&
	wait_for 30 sh -c "test \"\$(kubectl --kubeconfig $kube_KC -n argocd get app a2 -o jsonpath={.status.operationState.phase})\" = Failed" || show a2 &&
	app_field a2 "{.status.operationState.message}" >msg &&
	grep -F "one or more synchronization tasks are not valid" msg &&
	grep -F "resource rbac.authorization.k8s.io:ClusterRole is not permitted in project ops" msg &&
	app_field a2 "{.status.operationState.syncResult.resources[0].status}" | grep -q SyncFailed &&
	app_field a2 "{.status.resources[?(@.kind==\"ClusterRole\")].status}" | grep -q Unknown &&
	test_must_fail K get clusterrole t5100-reader &&
	test_must_fail K -n team-a get cm t5100-cm2
'

test_expect_success 'a private repository: ComparisonError without credentials' '
	HPORT=$(cat http.port) &&
	app a3 default "http://127.0.0.1:$HPORT/priv" app automated &&
	wait_for 30 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app a3 -o jsonpath={.status.conditions[*].type} | grep -q ComparisonError" || show a3
'

test_expect_success 'the private repository syncs once a repository Secret exists' '
	HPORT=$(cat http.port) &&
	cat >repo-secret.yaml <<-EOF &&
	apiVersion: v1
	kind: Secret
	metadata:
	  name: priv-repo
	  namespace: argocd
	  labels:
	    argocd.argoproj.io/secret-type: repository
	stringData:
	  type: git
	  url: http://127.0.0.1:$HPORT/priv
	  username: alice
	  password: s3cret
	EOF
	K apply -f repo-secret.yaml &&
	wait_app a3 Synced Healthy 40 &&
	K -n team-a get cm priv-cm &&
	! grep -q s3cret ctl.log
'

test_expect_success 'a credential template (repo-creds) works the same way' '
	HPORT=$(cat http.port) &&
	K -n argocd delete secret priv-repo &&
	K -n argocd create secret generic creds-tmpl --from-literal=url=http://127.0.0.1:$HPORT \
		--from-literal=username=alice --from-literal=password=s3cret &&
	K -n argocd label secret creds-tmpl argocd.argoproj.io/secret-type=repo-creds &&
	(cd srv/priv && printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: priv-cm2\n" >app/cm2.yaml &&
	 git add -A && git commit -q -m two) &&
	K -n argocd annotate app a3 argocd.argoproj.io/refresh=normal &&
	wait_for 40 K -n team-a get cm priv-cm2 || show a3
'

test_expect_success 'a deny sync window blocks auto-sync' '
	project win "*" <<-EOF &&
	  syncWindows:
	  - kind: deny
	    schedule: "* * * * *"
	    duration: 1h
	    applications: ["*"]
	EOF
	app a4 win "$REPO" win automated &&
	wait_app a4 OutOfSync Missing &&
	wait_for 20 grep -q "a4.*sync prevented by sync window" ctl.log &&
	test_must_fail K -n team-a get cm win-cm &&
	test -z "$(app_field a4 "{.status.operationState.phase}")"
'

test_expect_success 'a manual sync is blocked too unless manualSync' '
	K -n argocd patch app a4 --type merge -p "{\"operation\":{\"initiatedBy\":{\"username\":\"t\"},\"sync\":{\"revision\":\"main\"}}}" &&
	wait_for 30 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app a4 -o jsonpath={.status.operationState.message} | grep -q \"Sync operation blocked by sync window\"" || show a4 &&
	test "$(app_field a4 "{.status.operationState.phase}")" = Running &&
	test_must_fail K -n team-a get cm win-cm &&
	project win "*" <<-EOF &&
	  syncWindows:
	  - kind: deny
	    schedule: "* * * * *"
	    duration: 1h
	    applications: ["*"]
	    manualSync: true
	EOF
	wait_for 30 sh -c "test \"\$(kubectl --kubeconfig $kube_KC -n argocd get app a4 -o jsonpath={.status.operationState.phase})\" = Succeeded" || show a4 &&
	K -n team-a get cm win-cm
'

test_done
