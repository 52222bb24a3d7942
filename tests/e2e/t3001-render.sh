#!/bin/sh
# t3001-render: `ferry render` for directory, helm (against committed output
# of the real `helm template`, see tests/data/helm/gen.sh), charts from a
# Helm repository on loopback, git sources, safety rules, usage.
. tests/e2e/lib.sh

H=$ROOT/tests/data/helm
R=$ROOT/tests/data/render/repo

# cmp_helm GOT.json EXPECTED.yaml [strip]: same objects in the same order;
# with "strip", every non-CRD object must carry a tracking id (then removed).
cmp_helm() {
	python3 - "$1" "$2" "${3:-}" <<'PY'
import json, sys, yaml
got = json.load(open(sys.argv[1]))
exp = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d is not None]
if sys.argv[3] == "strip":
    for o in got:
        meta = o.get("metadata", {})
        ann = meta.get("annotations", {})
        if o.get("kind") != "CustomResourceDefinition":
            if "argocd.argoproj.io/tracking-id" not in ann:
                print("no tracking id:", json.dumps(o)); sys.exit(1)
        ann.pop("argocd.argoproj.io/tracking-id", None)
        if "annotations" in meta and not ann:
            del meta["annotations"]
if got != exp:
    print(json.dumps(got, indent=1, sort_keys=True))
    print("---- expected")
    print(json.dumps(exp, indent=1, sort_keys=True))
    sys.exit(1)
PY
}

test_expect_success 'render --help and usage errors' '
	"$FERRY" render --help > out && grep -q "ferry render" out &&
	{ "$FERRY" render > /dev/null 2> err; test $? = 2; } &&
	{ "$FERRY" render "$R" -o xml > /dev/null 2> err; test $? = 2; } &&
	{ "$FERRY" render "$R" --no-such-flag > /dev/null 2> err; test $? = 2; } &&
	{ "$FERRY" render --chart x > /dev/null 2> err; test $? = 2; }
'

test_expect_success 'directory: yaml output, tracking ids, lists expanded, skip marker' '
	"$FERRY" render "$R" --path plain --app-name demo -n dst > out.yaml &&
	grep -q "^---$" out.yaml &&
	grep -q "argocd.argoproj.io/tracking-id: demo:/ConfigMap:dst/a1" out.yaml &&
	grep -q "argocd.argoproj.io/tracking-id: demo:/Service:explicit/a2" out.yaml &&
	grep -q "name: l2" out.yaml && ! grep -q skipped out.yaml &&
	"$FERRY" render "$R" --path plain -o json > out.json &&
	python3 -c "import json,sys; d=json.load(open(\"out.json\")); assert len(d)==9, len(d); assert all(\"annotations\" not in o[\"metadata\"] for o in d)"
'

test_expect_success 'directory: recurse, include/exclude globs' '
	"$FERRY" render "$R" --path plain --directory-recurse --directory-include "{a.yaml,sub/*}" -o json > out.json &&
	python3 -c "import json; d=json.load(open(\"out.json\")); n=[o[\"metadata\"][\"name\"] for o in d]; assert n==[\"a1\",\"a2\",\"f\",\"e\"], n"
'

test_expect_success 'kustomize source is detected and rendered like kubectl kustomize' '
	"$FERRY" render "$R" --path kust > out.yaml &&
	grep -q "name: k" out.yaml &&
	if command -v kubectl >/dev/null 2>&1; then kubectl kustomize "$R/kust" > want.yaml && test_cmp want.yaml out.yaml; fi
'

if ! command -v helm >/dev/null 2>&1; then
	echo "skip $TEST_NAME: helm cases (helm is missing; run sh scripts/helm.sh)"
	test_done
	exit $?
fi

test_expect_success 'helm: chart with CRDs, hooks and NOTES = helm template' '
	"$FERRY" render "$H" --path basic --release-name demo -n web -o json > got.json &&
	cmp_helm got.json "$H/expected/basic.yaml"
'

test_expect_success 'helm: kube version, api versions, skipCrds' '
	"$FERRY" render "$H" --path basic --release-name demo -n web --kube-version 1.29.0 \
		--api-versions monitoring.coreos.com/v1 --skip-crds -o json > got.json &&
	cmp_helm got.json "$H/expected/basic-kube.yaml"
'

test_expect_success 'helm: value files in order, --set, --set-string, --set-file, comma escaping' '
	"$FERRY" render "$H" --path values --release-name rel -n ns1 --values values-prod.yaml --values values-eu.yaml \
		--helm-set replicas=5 --helm-set "tags={a,b}" --helm-set "message=x,y" --helm-set-string number=42 \
		--helm-set-file file=config.txt -o json > got.json &&
	cmp_helm got.json "$H/expected/values.yaml"
'

test_expect_success 'helm: Application with valuesObject (wins over values), parameters, tracking' '
	"$FERRY" render --app "$H/app-values.yaml" "$H" -o json > got.json &&
	cmp_helm got.json "$H/expected/app-values.yaml" strip &&
	grep -q "myapp:/ConfigMap:prod/myapp-values" got.json
'

test_expect_success 'helm: missing file:// dependency is built, then rendered' '
	"$FERRY" render "$H" --path parent --release-name dep -n default -o json > got.json &&
	cmp_helm got.json "$H/expected/deps.yaml" &&
	test ! -d "$H/parent/charts"
'

test_expect_success 'helm: chart from a Helm repository served on loopback' '
	port=$(free_port) &&
	mkdir repo && helm package "$H/basic" -d repo > /dev/null &&
	helm repo index repo --url "http://127.0.0.1:$port" &&
	{ python3 -m http.server "$port" --bind 127.0.0.1 --directory repo > http.log 2>&1 & echo $! >> "$TRASH/.pids"; } &&
	wait_for 10 curl -sf "http://127.0.0.1:$port/index.yaml" &&
	"$FERRY" render --repo "http://127.0.0.1:$port" --chart basic --revision 0.1.0 --release-name demo -n web -o json > got.json &&
	cmp_helm got.json "$H/expected/basic.yaml" &&
	test_must_fail "$FERRY" render --repo "http://127.0.0.1:$port" --chart basic --revision 9.9.9 2> err &&
	grep -q "helm pull" err
'

test_expect_success 'helm: dependency from a Helm repository on loopback is fetched' '
	port=$(free_port) &&
	mkdir drepo && helm package "$H/child" -d drepo > /dev/null &&
	helm repo index drepo --url "http://127.0.0.1:$port" &&
	{ python3 -m http.server "$port" --bind 127.0.0.1 --directory drepo > http2.log 2>&1 & echo $! >> "$TRASH/.pids"; } &&
	wait_for 10 curl -sf "http://127.0.0.1:$port/index.yaml" &&
	mkdir -p dapp/umb/templates &&
	printf "apiVersion: v2\nname: umb\nversion: 0.1.0\ndependencies:\n- name: child\n  version: 0.2.0\n  repository: http://127.0.0.1:%s\n" "$port" > dapp/umb/Chart.yaml &&
	cp "$H/parent/templates/svc.yaml" dapp/umb/templates/ &&
	"$FERRY" render dapp --path umb --release-name r -n default -o json > got.json &&
	test ! -d dapp/umb/charts &&
	cp -r dapp want && (cd want/umb && helm dependency build . > /dev/null && helm template . --name-template r --namespace default --include-crds) > want.yaml &&
	cmp_helm got.json want.yaml
'

test_expect_success 'helm: value files outside the repository are refused (also via symlink)' '
	test_must_fail "$FERRY" render "$H" --path values --values ../../../../../etc/passwd 2> err &&
	grep -q "outside the repository" err && grep -q "etc/passwd" err && ! grep -q "root:" err &&
	mkdir -p sym/chart/templates && cp "$H/values/Chart.yaml" "$H/values/templates/cm.yaml" sym/chart/ &&
	mv sym/chart/cm.yaml sym/chart/templates/ && ln -s /etc/passwd sym/chart/values.yaml &&
	test_must_fail "$FERRY" render sym --path chart 2> err &&
	grep -q "values.yaml" err && ! grep -q "root:" err
'

test_expect_success 'option injection: paths, revisions, URLs beginning with - are refused' '
	test_must_fail "$FERRY" render "$H" --path -values 2> err && grep -q "must not begin" err &&
	test_must_fail "$FERRY" render --repo "-oProxyCommand=x" 2> err &&
	test_must_fail "$FERRY" render --repo "http://127.0.0.1:1" --chart basic --revision "--devel" 2> err &&
	grep -q "must not begin" err
'

test_expect_success 'helm path can be configured; a missing helm is a clear error' '
	"$FERRY" render "$H" --path basic --helm-path "$(command -v helm)" -o json > /dev/null &&
	test_must_fail "$FERRY" render "$H" --path basic --helm-path /nonexistent/helm 2> err &&
	grep -q "helm not found" err
'

test_expect_success 'a hung helm is killed at the timeout; temp directories are removed' '
	printf "#!/bin/sh\nsleep 30\n" > slowhelm && chmod +x slowhelm &&
	mkdir tmp && start=$(date +%s) &&
	test_must_fail env TMPDIR="$TRASH/tmp" "$FERRY" render "$H" --path basic --helm-path "$TRASH/slowhelm" --timeout 1 2> err &&
	grep -q "timed out" err && test $(( $(date +%s) - start )) -le 5 &&
	test -z "$(ls -A tmp)" &&
	TMPDIR="$TRASH/tmp" "$FERRY" render "$H" --path parent -o json > /dev/null &&
	test_must_fail env TMPDIR="$TRASH/tmp" "$FERRY" render "$H" --path values --values nope.yaml 2> err &&
	test -z "$(ls -A tmp)"
'

# ---- git sources (file://) ----
git_repo() {
	mkdir -p gitrepo && cd gitrepo && git init -q -b main . &&
	cp -r "$R/plain" "$H/basic" . &&
	git add -A && git -c user.email=t@e -c user.name=t commit -q -m one && cd ..
}

test_expect_success 'git: render a directory and a chart from file://, new commit seen, bad revision' '
	git_repo &&
	"$FERRY" render --repo "file://$TRASH/gitrepo" --revision main --path plain --cache-dir cache -o json > got.json &&
	python3 -c "import json; d=json.load(open(\"got.json\")); assert len(d)==9, len(d)" &&
	"$FERRY" render --repo "file://$TRASH/gitrepo" --path basic --release-name demo -n web --cache-dir cache -o json > got2.json &&
	cmp_helm got2.json "$H/expected/basic.yaml" &&
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: newer\n" > gitrepo/plain/z.yaml &&
	(cd gitrepo && git add -A && git -c user.email=t@e -c user.name=t commit -q -m two) &&
	"$FERRY" render --repo "file://$TRASH/gitrepo" --revision main --path plain --cache-dir cache > got.yaml &&
	grep -q "name: newer" got.yaml &&
	test_must_fail "$FERRY" render --repo "file://$TRASH/gitrepo" --revision no-such-branch --path plain 2> err &&
	grep -q "no-such-branch" err
'

test_done
