#!/bin/sh
# t8002-cli-resources: the resource views and actions of the API server and
# their CLI verbs, against `ferry up --demo`: the resource tree with the
# children of a Deployment and a Service, one resource's manifest (a Secret
# masked), patch-resource, delete-resource, the built-in restart action, a
# Lua action from argocd-cm, app patch, per-resource health in app get, and
# RBAC denials for a read-only user.
. tests/e2e/lib.sh
command -v kubectl >/dev/null 2>&1 || test_skip_all "kubectl not installed"
command -v jq >/dev/null 2>&1 || test_skip_all "jq not installed"

D=$TRASH/up
"$FERRY" up --data "$D" --listen 127.0.0.1:0 --kube-listen 127.0.0.1:0 --demo > "$TRASH/up.out" 2> "$TRASH/up.err" &
echo $! >> "$TRASH/.pids"
export KUBECONFIG=$D/kubeconfig
export XDG_CONFIG_HOME=$TRASH/xdg
unset FERRY_SERVER FERRY_AUTH_TOKEN

test_expect_success 'ferry up --demo is ready and admin logs in' '
	wait_for 60 grep -q "demo: all 5 Applications are Synced and Healthy" $TRASH/up.out &&
	test -s $D/server.port &&
	kubectl -n argocd get secret argocd-initial-admin-secret -o jsonpath="{.data.password}" | base64 -d > pw &&
	"$FERRY" login 127.0.0.1:$(cat $D/server.port) --username admin --password "$(cat pw)" --insecure > out &&
	curl -sk -H "Content-Type: application/json" -d "{\"username\":\"admin\",\"password\":\"$(cat pw)\"}" \
		https://127.0.0.1:$(cat $D/server.port)/api/v1/session | jq -r .token > admin.tok &&
	test -s admin.tok
'
S=https://127.0.0.1:$(cat "$D/server.port" 2>/dev/null)
# api TOKENFILE METHOD PATH [curl args]: body in ./body, prints the HTTP status
api() {
	_t=$1 _m=$2 _p=$3
	shift 3
	curl -sk -o body -w "%{http_code}" -X "$_m" -H "Content-Type: application/json" \
		-H "Authorization: Bearer $(cat "$_t")" "$@" "$S$_p"
}
A=/api/v1/applications

test_expect_success 'resource-tree: ReplicaSet and Pods below the Deployment, Endpoints below the Service' '
	test "$(api admin.tok GET $A/fraud-detector/resource-tree)" = 200 &&
	jq -e ".nodes[] | select(.kind == \"ReplicaSet\") | .parentRefs[0] | select(.kind == \"Deployment\" and .name == \"fraud-detector\")" body &&
	rs=$(jq -r ".nodes[] | select(.kind == \"ReplicaSet\") | .name" body | head -1) &&
	test "$(jq "[.nodes[] | select(.kind == \"Pod\" and .parentRefs[0].name == \"$rs\")] | length" body)" -ge 1 &&
	jq -e "[.nodes[] | select(.kind == \"Pod\")][0] | .uid and .resourceVersion and .createdAt and .health.status == \"Healthy\"" body &&
	jq -e "[.nodes[] | select(.kind == \"Pod\")][0].info[] | select(.name == \"Containers\" and .value == \"1/1\")" body &&
	jq -e "[.nodes[] | select(.kind == \"Pod\")][0].images | length > 0" body &&
	jq -e ".nodes[] | select(.kind == \"Endpoints\") | .parentRefs[0] | select(.kind == \"Service\")" body &&
	jq -e ".nodes[] | select(.kind == \"EndpointSlice\") | .parentRefs[0] | select(.kind == \"Service\")" body
'

test_expect_success 'app resources lists the managed roots with the ORPHANED column' '
	"$FERRY" app resources fraud-detector > out &&
	head -1 out | grep -q "^GROUP  *KIND  *NAMESPACE  *NAME  *ORPHANED$" &&
	grep -q "^apps  *Deployment  *ml-production  *fraud-detector  *No$" out &&
	grep -q "^ *Service  *ml-production  *fraud-detector  *No$" out &&
	! grep -q ReplicaSet out
'

test_expect_success 'app get shows the health of every resource' '
	"$FERRY" app get fraud-detector > out &&
	grep -q "^apps  *Deployment  *ml-production  *fraud-detector  *Synced  *Healthy" out &&
	grep -q "^ *Service  *ml-production  *fraud-detector  *Synced  *Healthy" out
'

test_expect_success 'resource: the live manifest of a managed object and of a child; others are refused' '
	test "$(api admin.tok GET "$A/fraud-detector/resource?namespace=ml-production&resourceName=fraud-detector&kind=Deployment&group=apps&version=v1")" = 200 &&
	jq -r .manifest body | jq -e ".kind == \"Deployment\" and (.metadata.managedFields | not)" &&
	pod=$(kubectl -n ml-production get pods -o name | grep fraud-detector | head -1 | cut -d/ -f2) &&
	test "$(api admin.tok GET "$A/fraud-detector/resource?namespace=ml-production&resourceName=$pod&kind=Pod&version=v1")" = 200 &&
	test "$(api admin.tok GET "$A/fraud-detector/resource?namespace=argocd&resourceName=argocd-secret&kind=Secret&version=v1")" = 400 &&
	jq -r .message body | grep -q "not found as part of application fraud-detector"
'

test_expect_success 'resource: a Secret of the app is masked' '
	git init -q -b main repo && mkdir repo/app &&
	printf "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ntype: Opaque\nstringData:\n  password: hunter2\n  token: hunter2\n  user: bob\n" > repo/app/secret.yaml &&
	(cd repo && git add . && git -c user.email=t@e -c user.name=t commit -q -m secret) &&
	"$FERRY" app create secret-app --repo file://$TRASH/repo --path app --dest-server https://kubernetes.default.svc \
		--dest-namespace ml-production --sync-policy automated > /dev/null &&
	wait_for 60 sh -c "\"$FERRY\" app get secret-app | grep -q \"^Sync Status: *Synced\"" &&
	test "$(api admin.tok GET "$A/secret-app/resource?namespace=ml-production&resourceName=creds&kind=Secret&version=v1")" = 200 &&
	jq -r .manifest body > m && jq -e ".data.password == \"++++++++\" and .data.token == \"++++++++\" and .data.user == \"++++++++++++\"" m &&
	! grep -q "aHVudGVyMg\|hunter2" body
'

test_expect_success 'patch-resource merges a patch into the live object' '
	"$FERRY" app patch-resource fraud-detector --kind Deployment --resource-name fraud-detector \
		--patch "{\"metadata\":{\"labels\":{\"patched\":\"yes\"}}}" > out &&
	grep -q "^Resource .fraud-detector. patched$" out &&
	test "$(kubectl -n ml-production get deploy fraud-detector -o jsonpath={.metadata.labels.patched})" = yes &&
	"$FERRY" app patch-resource fraud-detector --kind Deployment --resource-name fraud-detector \
		--patch-type application/json-patch+json --patch "[{\"op\":\"remove\",\"path\":\"/metadata/labels/patched\"}]" &&
	test -z "$(kubectl -n ml-production get deploy fraud-detector -o jsonpath={.metadata.labels.patched})"
'

test_expect_success 'patch-resource with an unknown resource or several matches fails' '
	"$FERRY" app patch-resource fraud-detector --kind Deployment --resource-name nope --patch "{}" 2> err; test $? = 20 &&
	grep -q "no matching resource" err &&
	"$FERRY" app patch-resource fraud-detector --kind Pod --patch "{}" 2> err; test $? = 20 &&
	grep -q "use --all" err
'

test_expect_success 'actions list shows the built-in restart; run sets restartedAt' '
	"$FERRY" app actions list fraud-detector --kind Deployment > out &&
	head -1 out | grep -q "^GROUP  *KIND  *NAME  *ACTION  *DISABLED$" &&
	grep -q "^apps  *Deployment  *fraud-detector  *restart  *false$" out &&
	"$FERRY" app actions run fraud-detector restart --kind Deployment --resource-name fraud-detector &&
	kubectl -n ml-production get deploy fraud-detector \
		-o jsonpath="{.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}" > at &&
	grep -q "^20[0-9-]*T[0-9:]*Z$" at
'

test_expect_success 'a Lua action from argocd-cm is listed and runs' '
	cat > patch.json <<-\EOF &&
	{"data":{"resource.customizations.actions.apps_Deployment":"discovery.lua: |\n  a = {}\n  a[\"set-tier\"] = {}\n  return a\ndefinitions:\n- name: set-tier\n  action.lua: |\n    if obj.metadata.labels == nil then obj.metadata.labels = {} end\n    obj.metadata.labels[\"tier\"] = \"gold\"\n    return obj\nmergeBuiltinActions: true\n"}}
	EOF
	kubectl -n argocd patch configmap argocd-cm --type merge -p "$(cat patch.json)" > /dev/null &&
	wait_for 10 sh -c "\"$FERRY\" app actions list fraud-detector --kind Deployment | grep -q set-tier" &&
	"$FERRY" app actions list fraud-detector --kind Deployment | grep -q "restart" &&
	"$FERRY" app actions run fraud-detector set-tier --kind Deployment --resource-name fraud-detector &&
	test "$(kubectl -n ml-production get deploy fraud-detector -o jsonpath={.metadata.labels.tier})" = gold &&
	"$FERRY" app actions run fraud-detector no-such-action --kind Deployment 2> err; test $? = 20 &&
	grep -q "no-such-action" err
'

test_expect_success 'app patch (json and merge) changes the application' '
	"$FERRY" app patch fraud-detector --patch "[{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":{\"team\":\"ml\"}}]" > out &&
	grep -q "^kind: Application$" out &&
	test "$(kubectl -n argocd get application fraud-detector -o jsonpath={.metadata.labels.team})" = ml &&
	"$FERRY" app patch fraud-detector --type merge --patch "{\"spec\":{\"source\":{\"targetRevision\":\"main\"}}}" > /dev/null &&
	"$FERRY" app patch fraud-detector --type merge --patch "{\"spec\":{\"project\":\"nope\"}}" 2> err; test $? = 20 &&
	grep -q "project nope which does not exist" err &&
	"$FERRY" app patch fraud-detector --type strategic --patch "{}" 2> err; test $? = 2
'

test_expect_success 'delete-resource deletes a child Pod (--force)' '
	# a restart above rolls the pods: pick one of the finished rollout; the server
	# caches an app'"'"'s tree for 2 s, so a pod only just created may need a retry
	kubectl -n ml-production rollout status deploy/fraud-detector --timeout=60s > /dev/null &&
	pod=$(kubectl -n ml-production get pods -o name | grep fraud-detector | head -1 | cut -d/ -f2) &&
	wait_for 10 sh -c "\"$FERRY\" app delete-resource fraud-detector --kind Pod --resource-name $pod --force > out" &&
	grep -q "^Resource .$pod. deleted$" out &&
	wait_for 20 sh -c "! kubectl -n ml-production get pod $pod > /dev/null 2>&1"
'

# a read-only user
kubectl -n argocd patch configmap argocd-cm --type merge -p '{"data":{"accounts.reader":"login"}}' > /dev/null
H=$(python3 -W ignore -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024)))' readerpass1)
kubectl -n argocd patch secret argocd-secret -p "{\"data\":{\"accounts.reader.password\":\"$(printf %s "$H" | base64 -w0)\"}}" > /dev/null
kubectl -n argocd get configmap argocd-rbac-cm > /dev/null 2>&1 ||
	kubectl -n argocd create configmap argocd-rbac-cm > /dev/null
kubectl -n argocd patch configmap argocd-rbac-cm --type merge -p '{"data":{"policy.default":"role:readonly"}}' > /dev/null

test_expect_success 'a read-only user may read resources but not patch, delete or run actions' '
	wait_for 10 sh -c "XDG_CONFIG_HOME=$TRASH/xdg-r \"$FERRY\" login 127.0.0.1:$(cat $D/server.port) --username reader --password readerpass1 --insecure" > /dev/null &&
	export XDG_CONFIG_HOME=$TRASH/xdg-r &&
	"$FERRY" app resources fraud-detector > out && grep -q Deployment out &&
	"$FERRY" app actions list fraud-detector --kind Deployment | grep -q restart &&
	{ "$FERRY" app actions run fraud-detector restart --kind Deployment 2> err; test $? = 20; } &&
	grep -q "PermissionDenied" err &&
	{ "$FERRY" app patch fraud-detector --type merge --patch "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}" 2> err; test $? = 20; } &&
	grep -q "PermissionDenied" err &&
	{ "$FERRY" app patch-resource fraud-detector --kind Deployment --patch "{}" 2> err; test $? = 20; } &&
	grep -q "PermissionDenied" err &&
	{ "$FERRY" app delete-resource fraud-detector --kind Service 2> err; test $? = 20; } &&
	grep -q "PermissionDenied" err &&
	kubectl -n ml-production get service fraud-detector > /dev/null
'

test_done
