#!/bin/sh
# t4001-kubectl: the real kubectl against `ferry kube` (HTTPS, token auth).
. tests/e2e/lib.sh
command -v kubectl >/dev/null 2>&1 || test_skip_all "kubectl not installed"

D=$ROOT/tests/data/kube
start_kube k1 --startup-delay 100 || { echo "not ok: ferry kube did not start"; T_FAIL=1; test_done; exit 1; }
export KUBECONFIG=$k1_KC
K="kubectl --request-timeout=20s"

test_expect_success 'version and api-resources' '
	$K version -o json > v.json && grep -q "v1.32" v.json &&
	$K api-resources > ar && grep -q "^deployments .*apps/v1 .*true .*Deployment" ar &&
	grep -q "^namespaces .*ns .*v1 .*false .*Namespace" ar
'
test_expect_success 'default namespaces exist' '
	$K get ns default kube-system kube-public -o name > ns &&
	test $(wc -l < ns) = 3
'
test_expect_success 'unauthenticated requests are refused, health is public' '
	port=$k1_PORT &&
	curl -sk https://127.0.0.1:$port/healthz | grep -q ok &&
	curl -sk -o /dev/null -w "%{http_code}" https://127.0.0.1:$port/api/v1/namespaces > code &&
	test "$(cat code)" = 401
'
test_expect_success 'create namespace' '
	$K create namespace e2e && $K get ns e2e -o jsonpath="{.status.phase}" | grep -q Active
'
test_expect_success 'apply -f creates, re-apply with changes configures' '
	$K apply -f $D/deploy.yaml > out && grep -q "deployment.apps/web created" out &&
	$K apply -f $D/deploy-v2.yaml > out2 && grep -q "deployment.apps/web configured" out2 &&
	test "$($K -n e2e get deploy web -o jsonpath="{.spec.replicas}")" = 3 &&
	test "$($K -n e2e get deploy web -o jsonpath="{.spec.template.spec.containers[0].image}")" = nginx:1.26
'
test_expect_success 'rollout status and wait for Available' '
	$K -n e2e rollout status deploy/web --timeout=30s &&
	$K -n e2e wait --for=condition=Available deploy/web --timeout=30s
'
test_expect_success 'get -o json, yaml, wide' '
	$K -n e2e get deploy web -o json | python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"metadata\"][\"uid\"]; assert int(d[\"metadata\"][\"resourceVersion\"]) > 0" &&
	$K -n e2e get deploy web -o yaml | grep -q "^  generation: 2" &&
	$K -n e2e get deploy web -o wide > wide && grep -q "CONTAINERS" wide && grep -q "nginx:1.26" wide &&
	$K -n e2e get pods > pods && grep -q "Running" pods
'
test_expect_success 'diff shows a pending change and exits 1' '
	sed "s/nginx:1.26/nginx:1.27/" $D/deploy-v2.yaml > changed.yaml &&
	{ $K diff -f changed.yaml > diff.out; rc=$?; } ; test $rc = 1 && grep -q "nginx:1.27" diff.out &&
	$K diff -f $D/deploy-v2.yaml
'
test_expect_success 'apply --server-side with field manager' '
	$K apply --server-side --force-conflicts -f changed.yaml > ssa.out && grep -q "serverside-applied" ssa.out &&
	$K -n e2e get deploy web -o json --show-managed-fields | python3 -c "
import json,sys
d=json.load(sys.stdin)
m=[f[\"manager\"] for f in d[\"metadata\"][\"managedFields\"]]
assert \"kubectl\" in m, m
"
'
test_expect_success 'get -w sees the next change' '
	($K -n e2e get cm -w --request-timeout=10s > watch.out 2>&1 &) &&
	sleep 1 && $K -n e2e create configmap watched --from-literal=a=b >/dev/null 2>&1 ||
	$K -n e2e apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: watched, namespace: e2e}
data: {a: b}
EOF
	wait_for 10 grep -q watched watch.out
'
test_expect_success 'label and annotate' '
	$K -n e2e label deploy web tier=frontend &&
	$K -n e2e annotate deploy web note=hello &&
	test "$($K -n e2e get deploy -l tier=frontend -o name)" = deployment.apps/web &&
	test "$($K -n e2e get deploy web -o jsonpath="{.metadata.annotations.note}")" = hello
'
test_expect_success 'patch: strategic, merge, json' '
	$K -n e2e patch deploy web -p "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"env\":[{\"name\":\"A\",\"value\":\"1\"}]}]}}}}" &&
	test "$($K -n e2e get deploy web -o jsonpath="{.spec.template.spec.containers[0].image}")" = nginx:1.27 &&
	$K -n e2e patch deploy web --type merge -p "{\"metadata\":{\"labels\":{\"m\":\"x\"}}}" &&
	$K -n e2e patch deploy web --type json -p "[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":1}]" &&
	test "$($K -n e2e get deploy web -o jsonpath="{.metadata.labels.m}/{.spec.replicas}")" = x/1
'
test_expect_success 'scale' '
	$K -n e2e scale deploy web --replicas=4 &&
	test "$($K -n e2e get deploy web -o jsonpath="{.spec.replicas}")" = 4 &&
	$K -n e2e rollout status deploy/web --timeout=30s
'
test_expect_success 'CRD then a custom resource of it' '
	$K apply -f $D/crd.yaml &&
	$K wait --for=condition=Established crd/models.ml.example.com --timeout=10s &&
	$K apply -f $D/model.yaml &&
	$K -n e2e get models > m.out && grep -q "FRAMEWORK" m.out && grep -q pytorch m.out &&
	$K -n e2e get mdl sentiment -o jsonpath="{.spec.version}" | grep -q v1.2.0
'
test_expect_success 'an updated CRD keeps serving its kind (one kind entry, freed once at stop)' '
	$K label crd models.ml.example.com e2e=updated &&
	$K annotate crd models.ml.example.com e2e=again &&
	$K -n e2e get mdl sentiment -o jsonpath="{.spec.version}" | grep -q v1.2.0
'
test_expect_success 'deleting a CRD removes its objects' '
	$K delete crd models.ml.example.com &&
	test_must_fail $K -n e2e get models 2>/dev/null
'
test_expect_success 'delete of an object with a finalizer stays Terminating' '
	$K apply -f $D/finalizer.yaml &&
	$K -n e2e delete cm held --wait=false &&
	$K -n e2e get cm held -o jsonpath="{.metadata.deletionTimestamp}" | grep -q "T" &&
	$K -n e2e patch cm held --type json -p "[{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}]" &&
	wait_for 5 sh -c "! $K -n e2e get cm held 2>/dev/null"
'
test_expect_success 'delete --cascade=foreground removes dependents first' '
	$K -n e2e delete deploy web --cascade=foreground --timeout=30s &&
	wait_for 10 sh -c "test -z \"\$($K -n e2e get rs,pods -o name 2>/dev/null)\""
'
test_expect_success 'events are stored and listable' '
	$K -n e2e apply -f - <<EOF &&
apiVersion: v1
kind: Event
metadata: {name: e1, namespace: e2e}
involvedObject: {kind: ConfigMap, name: watched, namespace: e2e}
reason: Testing
message: hello from the test
type: Normal
EOF
	$K -n e2e get events > ev && grep -q "hello from the test" ev &&
	$K get --raw /apis/events.k8s.io/v1 | grep -q "\"events\""
'
test_expect_success 'error: bad YAML' '
	test_must_fail $K apply -f $D/bad.yaml 2> err && grep -qi "yaml" err
'
test_expect_success 'error: conflict on a stale resourceVersion' '
	$K -n e2e get cm watched -o json > cm.json &&
	$K -n e2e label cm watched bump=1 &&
	test_must_fail $K replace -f cm.json 2> err &&
	grep -q "the object has been modified; please apply your changes to the latest version and try again" err
'
test_expect_success 'error: not found' '
	test_must_fail $K -n e2e get deploy nope 2> err &&
	grep -q "Error from server (NotFound): deployments.apps \"nope\" not found" err
'
test_expect_success 'error: invalid name' '
	test_must_fail $K -n e2e create configmap Bad_Name 2> err || true;
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n  namespace: e2e\n" > badname.yaml &&
	test_must_fail $K create -f badname.yaml 2> err &&
	grep -q "is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain" err
'
test_expect_success 'namespace deletion removes what is inside' '
	$K create namespace gone && $K -n gone create configmap c1 --from-literal=a=b 2>/dev/null ||
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c1\n  namespace: gone\n" | $K apply -f - &&
	$K delete namespace gone --timeout=30s &&
	test_must_fail $K get namespace gone 2>/dev/null
'
test_expect_success 'apply a List, and list it in pages' '
	$K create namespace pages &&
	python3 -c "
import json
items=[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"p%d\" % i,\"namespace\":\"pages\"},\"data\":{\"i\":str(i)}} for i in range(25)]
print(json.dumps({\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":items}))" > list.json &&
	$K apply -f list.json > applied && test $(grep -c created applied) = 25 &&
	test $($K -n pages get cm --chunk-size=4 -o name | grep -c configmap/p) = 25
'
test_expect_success 'dryRun=All on create, update, patch and delete changes nothing' '
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry\n  namespace: pages\ndata:\n  a: \"1\"\n" > dry.yaml &&
	$K apply -f dry.yaml --dry-run=server | grep -q "created (server dry run)" &&
	test_must_fail $K -n pages get cm dry 2>/dev/null &&
	$K apply -f dry.yaml &&
	rv=$($K -n pages get cm dry -o jsonpath="{.metadata.resourceVersion}") &&
	$K -n pages patch cm dry -p "{\"data\":{\"a\":\"2\"}}" --dry-run=server -o jsonpath="{.data.a}" | grep -q 2 &&
	$K -n pages get cm dry -o json > dry.json && $K replace -f dry.json --dry-run=server &&
	$K -n pages delete cm dry --dry-run=server &&
	test "$($K -n pages get cm dry -o jsonpath="{.data.a}/{.metadata.resourceVersion}")" = "1/$rv"
'
test_expect_success 'graceful stop (SIGTERM); the log holds no sanitizer report' '
	kill -TERM $k1_PID && wait_for 20 sh -c "! kill -0 $k1_PID 2>/dev/null" &&
	! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$TRASH/k1.log"
'
test_done
