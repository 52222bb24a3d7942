#!/bin/sh
# t6001-server.sh - `ferry server` (the Argo CD compatible REST API) against
# `ferry kube`, through curl: TLS, login/logout/userinfo, JWT forgeries,
# throttling that survives a restart, password change, CSRF and security
# headers, RBAC allow/deny for a read-only user (forbidden == missing),
# applications (list filters, get, refresh, create/upsert, update, delete
# with cascade/propagation, sync, rollback, terminate, resource-tree,
# managed-resources with Secret masking, manifests, revision metadata,
# events), the event stream (and its end on logout), clusters, repositories,
# projects, settings, version, metrics, webhooks (GitHub HMAC, GitLab
# token, Bitbucket UUID, bad payloads, latency, body cap) and a clean
# SIGTERM. No controller runs: the tests play its part with kubectl.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server-lib.sh"

command -v kubectl >/dev/null 2>&1 || test_skip_all "kubectl is not installed"
command -v jq >/dev/null 2>&1 || test_skip_all "jq is not installed"
command -v git >/dev/null 2>&1 || test_skip_all "git is not installed"
python3 -W ignore -c 'import crypt' 2>/dev/null || test_skip_all "python3 crypt module is missing"

export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 HOME="$TRASH"
K() { kubectl --kubeconfig "$kube_KC" "$@"; }
CANARY=CANARY-9f4c1e

start_kube kube || { echo "ferry kube did not start"; exit 1; }
K create namespace argocd >/dev/null
K apply -f "$ROOT/data/crds/" >/dev/null || { echo "cannot install CRDs"; exit 1; }

# a git repository for manifests and revision metadata
git init -q -b main "$TRASH/repo" && (cd "$TRASH/repo" && git config user.email dev@example.com &&
	git config user.name Dev && mkdir -p guestbook &&
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gb\ndata:\n  k: v\n' >guestbook/cm.yaml &&
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: gbs\nstringData:\n  password: %s\n' "$CANARY" >guestbook/secret.yaml &&
	git add -A && git commit -q -m "first commit")
REPO=file://$TRASH/repo

app_json() { # NAME [PROJECT] [REPO] [PATH]
	printf '{"metadata":{"name":"%s","labels":{"team":"a"}},"spec":{"project":"%s","source":{"repoURL":"%s","path":"%s","targetRevision":"HEAD"},"destination":{"server":"https://kubernetes.default.svc","namespace":"default"}}}' \
		"$1" "${2:-default}" "${3:-$REPO}" "${4:-guestbook}"
}

start_server || { echo "ferry server did not start"; tail -20 "$TRASH/srv.log"; exit 1; }

test_expect_success 'TLS by default with a generated certificate; health endpoints' '
	test -s srv/pki/ca.crt &&
	curl -sf --cacert srv/pki/ca.crt "$S/healthz" | grep -qx ok &&
	curl -sf --cacert srv/pki/ca.crt "$S/readyz" | grep -qx ok &&
	test_must_fail curl -sf "http://127.0.0.1:$(cat port)/healthz" &&
	test_must_fail curl -sf "$S/healthz"
'

test_expect_success 'security headers on every response' '
	expect 401 api - GET /api/v1/applications &&
	grep -qi "^Content-Security-Policy: .*frame-ancestors" headers &&
	grep -qi "^X-Frame-Options: sameorigin" headers &&
	grep -qi "^X-Content-Type-Options: nosniff" headers &&
	grep -qi "^Strict-Transport-Security:" headers &&
	! grep -qi "^Access-Control-Allow-Origin" headers
'

test_expect_success 'version and settings answer without a login, with public fields only' '
	expect 200 api - GET /api/version &&
	test "$(jbody "keys|join(\",\")")" = Version &&
	expect 200 api - GET /api/v1/settings &&
	test "$(jbody .appLabelKey)" = app.kubernetes.io/instance &&
	test "$(jbody .controllerNamespace)" = null
'

test_expect_success 'the initial admin password (seed kubectl line) and a bcrypt hash in argocd-secret' '
	kubectl --kubeconfig "$kube_KC" -n argocd get secret argocd-initial-admin-secret -o jsonpath="{.data.password}" | base64 -d >admin.pw &&
	test "$(wc -c <admin.pw)" = 16 &&
	K -n argocd get secret argocd-secret -o jsonpath="{.data.admin\.password}" | base64 -d | cut -c1-7 >prefix &&
	grep -qx "[$]2[aby][$]10[$]" prefix &&
	K -n argocd get secret argocd-secret -o jsonpath="{.data.server\.secretkey}" | base64 -d | wc -c | grep -qx 32
'

test_expect_success 'login: token with iss/sub/jti/iat/exp (24 h) and a secure cookie' '
	login admin "$(cat admin.pw)" &&
	grep -i "^Set-Cookie: argocd.token=" headers | grep -i HttpOnly | grep -i "SameSite=Lax" | grep -qi Secure &&
	cut -d. -f2 admin.tok | tr "_-" "/+" | base64 -d 2>/dev/null >claims.json; \
	test "$(jq -r .iss claims.json)" = argocd &&
	test "$(jq -r .sub claims.json)" = admin:login &&
	test "$(jq -r .jti claims.json | wc -c)" -gt 30 &&
	test "$(jq -r ".exp - .iat" claims.json)" = 86400
'

test_expect_success 'userinfo with bearer, with cookie, and without a session' '
	expect 200 api admin GET /api/v1/session/userinfo &&
	test "$(jbody .loggedIn)/$(jbody .username)/$(jbody .iss)" = true/admin/argocd &&
	expect 200 api - GET /api/v1/session/userinfo -b "argocd.token=$(cat admin.tok)" &&
	test "$(jbody .username)" = admin &&
	expect 200 api - GET /api/v1/session/userinfo &&
	test "$(jbody .loggedIn)" = false
'

test_expect_success 'no token, garbage, alg none, other key, edited payload: all 401' '
	expect 401 api - GET /api/v1/applications &&
	test "$(jbody .code)" = 16 &&
	echo garbage >bad.tok && expect 401 api bad GET /api/v1/applications &&
	h=$(printf "{\"alg\":\"none\",\"typ\":\"JWT\"}" | base64 -w0 | tr "+/" "-_" | tr -d =) &&
	echo "$h.$(cut -d. -f2 admin.tok)." >none.tok && expect 401 api none GET /api/v1/applications &&
	p=$(jq -c ".sub=\"root:login\"" claims.json | base64 -w0 | tr "+/" "-_" | tr -d =) &&
	echo "$(cut -d. -f1 admin.tok).$p.$(cut -d. -f3 admin.tok)" >edit.tok && expect 401 api edit GET /api/v1/applications &&
	h2=$(printf "{\"alg\":\"HS256\",\"typ\":\"JWT\"}" | base64 -w0 | tr "+/" "-_" | tr -d =) &&
	s2=$(printf "%s.%s" "$h2" "$(cut -d. -f2 admin.tok)" | openssl dgst -sha256 -hmac wrongkey -binary | base64 -w0 | tr "+/" "-_" | tr -d =) &&
	echo "$h2.$(cut -d. -f2 admin.tok).$s2" >wk.tok && expect 401 api wk GET /api/v1/applications &&
	expect 200 api admin GET /api/v1/applications
'

# a read-only local user, a denied project, and webhook secrets
K -n argocd create configmap argocd-cm --from-literal=accounts.reader=login >/dev/null
K -n argocd create configmap argocd-rbac-cm \
	--from-literal=policy.csv="g, reader, role:readonly
p, reader, applications, get, secret-proj/*, deny" >/dev/null
K -n argocd patch secret argocd-secret -p "{\"data\":{\"accounts.reader.password\":\"$(bcrypt_of readerpass1 | tr -d '\n' | base64 -w0)\"}}" >/dev/null
sleep 0.5

test_expect_success 'unknown user and wrong password: same status and body' '
	expect 401 api - POST /api/v1/session -d "{\"username\":\"admin\",\"password\":\"wrong\"}" && cp body b1 &&
	expect 401 api - POST /api/v1/session -d "{\"username\":\"nosuchuser\",\"password\":\"wrong\"}" &&
	test_cmp b1 body &&
	expect 401 api - POST /api/v1/session -d "{\"username\":\"admin\"}" &&
	login admin "$(cat admin.pw)"
'

test_expect_success 'the read-only user logs in (argocd-cm accounts, bcrypt in argocd-secret)' '
	wait_for 5 login reader readerpass1
'

test_expect_success 'CSRF: non-JSON content types 415, cookie auth needs a matching Origin' '
	expect 415 api_ct text/plain admin POST /api/v1/projects -d "{}" &&
	expect 415 api_ct application/x-www-form-urlencoded admin POST /api/v1/projects -d "a=b" &&
	expect 415 api_ct "multipart/form-data; boundary=x" admin POST /api/v1/projects -d "x" &&
	expect 415 api_ct "" admin DELETE /api/v1/projects/default &&
	expect 400 api_ct "application/json; charset=utf-8" admin POST /api/v1/projects -d "{}" &&
	expect 403 api - POST /api/v1/projects -b "argocd.token=$(cat admin.tok)" -H "Origin: https://evil.example" \
		-d "{\"project\":{\"metadata\":{\"name\":\"csrf\"},\"spec\":{}}}" &&
	expect 403 api - POST /api/v1/projects -b "argocd.token=$(cat admin.tok)" -H "Sec-Fetch-Site: cross-site" \
		-d "{\"project\":{\"metadata\":{\"name\":\"csrf\"},\"spec\":{}}}" &&
	! K -n argocd get appproject csrf 2>/dev/null &&
	expect 200 api - POST /api/v1/projects -b "argocd.token=$(cat admin.tok)" -H "Origin: $S" \
		-d "{\"project\":{\"metadata\":{\"name\":\"csrf\"},\"spec\":{}}}" &&
	expect 200 api admin DELETE /api/v1/projects/csrf
'

test_expect_success 'projects: create, duplicate, upsert, get, list, RBAC' '
	d="{\"project\":{\"metadata\":{\"name\":\"default\"},\"spec\":{\"sourceRepos\":[\"*\"],\"destinations\":[{\"server\":\"*\",\"namespace\":\"*\"}],\"clusterResourceWhitelist\":[{\"group\":\"*\",\"kind\":\"*\"}]}}}" &&
	expect 200 api admin POST /api/v1/projects -d "$d" &&
	expect 200 api admin POST /api/v1/projects -d "$d" &&
	r="{\"project\":{\"metadata\":{\"name\":\"restricted\"},\"spec\":{\"sourceRepos\":[\"https://allowed.example/*\"],\"destinations\":[{\"server\":\"*\",\"namespace\":\"team-*\"}]}}}" &&
	expect 200 api admin POST /api/v1/projects -d "$r" &&
	r2=$(echo "$r" | sed "s/team-\*/other/") &&
	expect 400 api admin POST /api/v1/projects -d "$r2" &&
	expect 200 api admin POST /api/v1/projects -d "$(echo "$r2" | sed "s/^{/{\"upsert\":true,/")" &&
	test "$(jbody ".spec.destinations[0].namespace")" = other &&
	expect 200 api admin POST /api/v1/projects -d "{\"project\":{\"metadata\":{\"name\":\"secret-proj\"},\"spec\":{\"sourceRepos\":[\"*\"],\"destinations\":[{\"server\":\"*\",\"namespace\":\"*\"}]}}}" &&
	expect 200 api admin GET /api/v1/projects/default &&
	expect 200 api reader GET /api/v1/projects &&
	test "$(jbody ".items|length")" = 3 &&
	expect 404 api admin GET /api/v1/projects/nope &&
	expect 403 api reader POST /api/v1/projects -d "{\"project\":{\"metadata\":{\"name\":\"x\"},\"spec\":{}}}" &&
	expect 403 api reader DELETE /api/v1/projects/restricted
'

test_expect_success 'applications: create, identical create, different needs upsert, validation' '
	expect 200 api admin POST /api/v1/applications -d "$(app_json guestbook)" &&
	test "$(jbody .metadata.namespace)" = argocd &&
	expect 200 api admin POST /api/v1/applications -d "$(app_json guestbook)" &&
	expect 400 api admin POST /api/v1/applications -d "$(app_json guestbook default "$REPO" other)" &&
	grep -q "use upsert flag" body &&
	expect 200 api admin POST "/api/v1/applications?upsert=true" -d "$(app_json guestbook default "$REPO" other)" &&
	test "$(jbody .spec.source.path)" = other &&
	expect 200 api admin POST "/api/v1/applications?upsert=true" -d "$(app_json guestbook)" &&
	expect 400 api admin POST /api/v1/applications -d "$(app_json x1 nosuchproj)" &&
	grep -q "which does not exist" body &&
	expect 400 api admin POST /api/v1/applications -d "$(app_json x2 restricted https://other.example/r.git)" &&
	grep -q "not permitted in project" body &&
	expect 400 api admin POST /api/v1/applications -d "$(app_json x3 default "--upload-pack=touch /tmp/M")" &&
	expect 200 api admin POST /api/v1/applications -d "$(app_json other-repo default https://github.com/example/elsewhere.git apps)" &&
	expect 200 api admin POST /api/v1/applications -d "$(app_json hidden secret-proj)" &&
	expect 403 api reader POST /api/v1/applications -d "$(app_json x4)"
'

test_expect_success 'list with filters (name, projects, repo, selector) and RBAC' '
	expect 200 api admin GET /api/v1/applications && test "$(jbody ".items|length")" = 3 &&
	expect 200 api admin GET "/api/v1/applications?name=guestbook" && test "$(jbody ".items[].metadata.name")" = guestbook &&
	expect 200 api admin GET "/api/v1/applications?projects=secret-proj" && test "$(jbody ".items[].metadata.name")" = hidden &&
	expect 200 api admin GET "/api/v1/applications?repo=https://github.com/Example/elsewhere" &&
	test "$(jbody ".items[].metadata.name")" = other-repo &&
	expect 200 api admin GET "/api/v1/applications?selector=team%3Da" && test "$(jbody ".items|length")" = 3 &&
	expect 200 api admin GET "/api/v1/applications?selector=team%3Db" && test "$(jbody ".items|length")" = 0 &&
	expect 200 api reader GET /api/v1/applications && test "$(jbody ".items|length")" = 2 &&
	! grep -q hidden body
'

test_expect_success 'get: forbidden and missing look the same; project-qualified missing is 404' '
	expect 200 api reader GET /api/v1/applications/guestbook &&
	expect 403 api reader GET /api/v1/applications/hidden && cp body forbidden &&
	expect 403 api reader GET /api/v1/applications/no-such-app && test_cmp forbidden body &&
	expect 403 api admin GET /api/v1/applications/no-such-app && test_cmp forbidden body &&
	expect 404 api admin GET "/api/v1/applications/no-such-app?project=default" &&
	expect 403 api reader GET "/api/v1/applications/hidden?project=secret-proj" && test_cmp forbidden body
'

test_expect_success 'read-only user cannot sync, update, delete, rollback, terminate' '
	expect 403 api reader POST /api/v1/applications/guestbook/sync -d "{}" &&
	expect 403 api reader PUT /api/v1/applications/guestbook -d "$(app_json guestbook)" &&
	expect 403 api reader DELETE /api/v1/applications/guestbook &&
	expect 403 api reader PUT /api/v1/applications/guestbook/rollback -d "{\"id\":0}" &&
	expect 403 api reader DELETE /api/v1/applications/guestbook/operation &&
	test -z "$(K -n argocd get app guestbook -o jsonpath="{.operation}")"
'

test_expect_success 'update (PUT) and PUT .../spec' '
	expect 200 api admin PUT /api/v1/applications/guestbook -d "$(app_json guestbook | sed "s/\"team\":\"a\"/\"team\":\"a\",\"tier\":\"web\"/")" &&
	test "$(K -n argocd get app guestbook -o jsonpath="{.metadata.labels.tier}")" = web &&
	expect 400 api admin PUT /api/v1/applications/guestbook -d "$(app_json other-name)" &&
	spec=$(app_json guestbook | jq -c ".spec | .source.targetRevision=\"main\"") &&
	expect 200 api admin PUT /api/v1/applications/guestbook/spec -d "$spec" &&
	test "$(jbody .source.targetRevision)" = main
'

test_expect_success 'sync sets .operation as Argo CD does; a second sync is refused' '
	expect 200 api admin POST /api/v1/applications/guestbook/sync \
		-d "{\"revision\":\"main\",\"prune\":true,\"dryRun\":true,\"strategy\":{\"apply\":{\"force\":true}},\"resources\":[{\"group\":\"\",\"kind\":\"ConfigMap\",\"name\":\"gb\"}],\"syncOptions\":{\"items\":[\"ServerSideApply=true\"]}}" &&
	K -n argocd get app guestbook -o json >app.json &&
	test "$(jq -r .operation.sync.revision app.json)" = main &&
	test "$(jq -r .operation.sync.prune app.json)/$(jq -r .operation.sync.dryRun app.json)" = true/true &&
	test "$(jq -r .operation.sync.syncStrategy.apply.force app.json)" = true &&
	test "$(jq -r ".operation.sync.resources[0].name" app.json)" = gb &&
	test "$(jq -r ".operation.sync.syncOptions[0]" app.json)" = ServerSideApply=true &&
	test "$(jq -r .operation.initiatedBy.username app.json)" = admin &&
	expect 412 api admin POST /api/v1/applications/guestbook/sync -d "{}" &&
	grep -q "another operation is already in progress" body
'

test_expect_success 'terminate: refused without a running operation, sets Terminating with one' '
	expect 400 api admin DELETE /api/v1/applications/other-repo/operation &&
	grep -q "Unable to terminate operation. No operation is in progress" body &&
	K -n argocd patch app guestbook --type merge -p "{\"status\":{\"operationState\":{\"phase\":\"Running\",\"startedAt\":\"2026-01-01T00:00:00Z\"}}}" &&
	expect 200 api admin DELETE /api/v1/applications/guestbook/operation &&
	test "$(K -n argocd get app guestbook -o jsonpath="{.status.operationState.phase}")" = Terminating &&
	K -n argocd patch app guestbook --type merge -p "{\"operation\":null,\"status\":{\"operationState\":{\"phase\":\"Terminated\"}}}"
'

test_expect_success 'rollback: apply strategy with the history entry; unknown id; refused under auto-sync' '
	K -n argocd patch app guestbook --type merge -p "{\"status\":{\"history\":[{\"id\":0,\"revision\":\"aaaaaaa\",\"source\":{\"repoURL\":\"$REPO\",\"path\":\"guestbook\",\"targetRevision\":\"HEAD\"}},{\"id\":1,\"revision\":\"bbbbbbb\"}]}}" &&
	expect 400 api admin PUT /api/v1/applications/guestbook/rollback -d "{\"id\":7}" &&
	grep -q "does not have deployment with id 7" body &&
	expect 200 api admin PUT /api/v1/applications/guestbook/rollback -d "{\"id\":\"0\",\"prune\":true}" &&
	K -n argocd get app guestbook -o json >app.json &&
	test "$(jq -r .operation.sync.revision app.json)" = aaaaaaa &&
	test "$(jq -c .operation.sync.syncStrategy app.json)" = "{\"apply\":{}}" &&
	test "$(jq -r .operation.sync.prune app.json)" = true &&
	K -n argocd patch app guestbook --type merge -p "{\"operation\":null,\"spec\":{\"syncPolicy\":{\"automated\":{}}}}" &&
	expect 412 api admin POST /api/v1/applications/guestbook/rollback -d "{\"id\":0}" &&
	grep -q "rollback cannot be initiated when auto-sync is enabled" body &&
	expect 412 api admin POST /api/v1/applications/guestbook/sync -d "{\"revision\":\"v9\"}" &&
	grep -q "auto-sync currently set to" body &&
	K -n argocd patch app guestbook --type merge -p "{\"spec\":{\"syncPolicy\":null}}"
'

test_expect_success 'get ?refresh sets the annotation and waits for the controller to clear it' '
	expect 400 api admin GET "/api/v1/applications/guestbook?refresh=bogus" &&
	(sleep 1; kubectl --kubeconfig "$kube_KC" -n argocd annotate app guestbook argocd.argoproj.io/refresh- >/dev/null) &
	expect 200 api admin GET "/api/v1/applications/guestbook?refresh=hard" &&
	test "$(jbody ".metadata.annotations[\"argocd.argoproj.io/refresh\"]")" = null
'

test_expect_success 'resource-tree and managed-resources (Secret values masked)' '
	K -n default create configmap gb --from-literal=k=v >/dev/null &&
	K -n default create secret generic gbs --from-literal=password=$CANARY --from-literal=other=x >/dev/null &&
	K -n argocd patch app guestbook --type merge -p "{\"status\":{\"resources\":[{\"version\":\"v1\",\"kind\":\"ConfigMap\",\"namespace\":\"default\",\"name\":\"gb\",\"status\":\"Synced\",\"health\":{\"status\":\"Healthy\"}},{\"version\":\"v1\",\"kind\":\"Secret\",\"namespace\":\"default\",\"name\":\"gbs\",\"status\":\"OutOfSync\"}]}}" &&
	expect 200 api reader GET /api/v1/applications/guestbook/resource-tree &&
	test "$(jbody ".nodes|length")" = 2 &&
	test "$(jbody ".nodes[0].uid|length")" -gt 10 &&
	test "$(jbody ".nodes[0].health.status")" = Healthy &&
	expect 200 api reader GET /api/v1/applications/guestbook/managed-resources &&
	test "$(jbody ".items[1].modified")" = true &&
	! grep -q "$CANARY" body && ! grep -q "$(printf %s $CANARY | base64)" body &&
	jbody ".items[1].liveState" | jq -r "[.data[]]|sort|join(\",\")" | grep -qx "++++++++,++++++++++++" &&
	test "$(jbody ".items[0].targetState" | jq -r .metadata.name)" = gb &&
	jbody ".items[0].targetState" | jq -r ".metadata.annotations[\"argocd.argoproj.io/tracking-id\"]" | grep -q "^guestbook:/ConfigMap:default/gb$" &&
	test "$(jbody ".items[1].targetState" | jq -r .kind)" = Secret
'

test_expect_success 'manifests (Secrets masked) and revision metadata from git' '
	expect 200 api reader GET /api/v1/applications/guestbook/manifests &&
	test "$(jbody ".manifests|length")" = 2 &&
	test "$(jbody .sourceType)" = Directory &&
	test "$(jbody .revision)" = "$(git -C repo rev-parse HEAD)" &&
	! grep -q "$CANARY" body &&
	expect 200 api reader GET "/api/v1/applications/guestbook/revisions/$(git -C repo rev-parse HEAD)/metadata" &&
	test "$(jbody .message)" = "first commit" &&
	jbody .author | grep -q dev@example.com &&
	expect 403 api reader GET /api/v1/applications/hidden/manifests
'

test_expect_success 'events of an application' '
	cat >ev.yaml <<-EOF &&
	apiVersion: v1
	kind: Event
	metadata: {name: guestbook.1, namespace: argocd}
	involvedObject: {kind: Application, name: guestbook, namespace: argocd, apiVersion: argoproj.io/v1alpha1}
	reason: OperationStarted
	message: started
	type: Normal
	EOF
	K create -f ev.yaml >/dev/null &&
	expect 200 api reader GET /api/v1/applications/guestbook/events &&
	test "$(jbody ".items[0].reason")" = OperationStarted &&
	expect 200 api reader GET /api/v1/applications/other-repo/events &&
	test "$(jbody ".items|length")" = 0
'

test_expect_success 'event stream: current apps, then changes; RBAC-filtered' '
	curl -sN --max-time 4 --cacert srv/pki/ca.crt -H "Authorization: Bearer $(cat admin.tok)" "$S/api/v1/stream/applications" >sse-admin &
	curl -sN --max-time 4 --cacert srv/pki/ca.crt -H "Authorization: Bearer $(cat reader.tok)" "$S/api/v1/stream/applications" >sse-reader &
	sleep 1 &&
	K -n argocd label app other-repo touched=yes >/dev/null &&
	wait &&
	grep "^data: " sse-admin | sed "s/^data: //" | jq -r ".result.type + \" \" + .result.application.metadata.name" >ev-admin &&
	grep -qx "ADDED guestbook" ev-admin && grep -qx "ADDED hidden" ev-admin &&
	grep -qx "MODIFIED other-repo" ev-admin &&
	grep "^data: " sse-reader | sed "s/^data: //" | jq -r .result.application.metadata.name >ev-reader &&
	grep -qx other-repo ev-reader && ! grep -qx hidden ev-reader
'

test_expect_success 'delete: cascade adds the resources finalizer (background variant), cascade=false removes it' '
	expect 400 api admin DELETE "/api/v1/applications/other-repo?propagationPolicy=sideways" &&
	expect 200 api admin DELETE "/api/v1/applications/other-repo?cascade=true&propagationPolicy=background" &&
	test "$(K -n argocd get app other-repo -o jsonpath="{.metadata.finalizers[0]}")" = resources-finalizer.argocd.argoproj.io/background &&
	test -n "$(K -n argocd get app other-repo -o jsonpath="{.metadata.deletionTimestamp}")" &&
	K -n argocd patch app other-repo --type merge -p "{\"metadata\":{\"finalizers\":null}}" >/dev/null &&
	expect 200 api admin POST /api/v1/applications -d "$(app_json tmp1 | jq -c ".metadata.finalizers=[\"resources-finalizer.argocd.argoproj.io\"]")" &&
	expect 200 api admin DELETE "/api/v1/applications/tmp1?cascade=false" &&
	wait_for 5 sh -c "! kubectl --kubeconfig $kube_KC -n argocd get app tmp1 2>/dev/null"
'

test_expect_success 'clusters: in-cluster, create without leaking credentials, get, RBAC, delete' '
	expect 200 api reader GET /api/v1/clusters &&
	test "$(jbody ".items[0].name")" = in-cluster &&
	expect 200 api admin GET /api/v1/clusters/https%3A%2F%2Fkubernetes.default.svc &&
	test "$(jbody .server)" = https://kubernetes.default.svc &&
	c="{\"server\":\"https://10.0.0.9:6443\",\"name\":\"prod\",\"namespaces\":[\"a\",\"b\"],\"config\":{\"bearerToken\":\"$CANARY\",\"tlsClientConfig\":{\"insecure\":true}}}" &&
	expect 403 api reader POST /api/v1/clusters -d "$c" &&
	expect 200 api admin POST /api/v1/clusters -d "$c" && ! grep -q "$CANARY" body &&
	expect 400 api admin POST /api/v1/clusters -d "$c" &&
	expect 200 api admin POST "/api/v1/clusters?upsert=true" -d "$c" &&
	expect 200 api reader GET /api/v1/clusters && ! grep -q "$CANARY" body &&
	test "$(jbody ".items|length")" = 2 &&
	expect 200 api reader GET "/api/v1/clusters/prod?id.type=name" &&
	test "$(jbody ".namespaces|join(\",\")")" = a,b && test "$(jbody .config.tlsClientConfig.insecure)" = true &&
	! grep -q "$CANARY" body &&
	expect 403 api reader GET /api/v1/clusters/https%3A%2F%2Fnope && cp body cmiss &&
	expect 403 api reader DELETE /api/v1/clusters/https%3A%2F%2F10.0.0.9%3A6443 && test_cmp cmiss body &&
	expect 200 api admin DELETE /api/v1/clusters/https%3A%2F%2F10.0.0.9%3A6443 &&
	expect 403 api admin GET /api/v1/clusters/https%3A%2F%2F10.0.0.9%3A6443
'

test_expect_success 'repositories: create (password never returned), bad URLs refused, get, delete' '
	r="{\"repo\":\"https://git.example/team/app.git\",\"username\":\"u\",\"password\":\"$CANARY\"}" &&
	expect 403 api reader POST /api/v1/repositories -d "$r" &&
	expect 200 api admin POST /api/v1/repositories -d "$r" && ! grep -q "$CANARY" body &&
	expect 400 api admin POST /api/v1/repositories -d "{\"repo\":\"javascript:alert(1)//\"}" &&
	expect 400 api admin POST /api/v1/repositories -d "{\"repo\":\"ext::sh -c touch% /tmp/M\"}" &&
	expect 400 api admin POST /api/v1/repositories -d "{\"repo\":\"-oProxyCommand=x\"}" &&
	expect 200 api reader GET /api/v1/repositories && test "$(jbody ".items[0].repo")" = https://git.example/team/app.git &&
	! grep -q "$CANARY" body &&
	expect 200 api reader GET /api/v1/repositories/https%3A%2F%2Fgit.example%2Fteam%2Fapp && ! grep -q "$CANARY" body &&
	expect 200 api admin DELETE /api/v1/repositories/https%3A%2F%2Fgit.example%2Fteam%2Fapp.git &&
	expect 403 api admin GET /api/v1/repositories/https%3A%2F%2Fgit.example%2Fteam%2Fapp.git
'

push_json() { # REF [REPO_HTML_URL]
	printf '{"ref":"%s","repository":{"html_url":"%s","clone_url":"%s.git","default_branch":"main"},"commits":[{"added":[],"modified":["guestbook/cm.yaml"],"removed":[]}]}' \
		"$1" "${2:-https://github.com/example/elsewhere}" "${2:-https://github.com/example/elsewhere}"
}

test_expect_success 'webhooks without a secret: only the matching application is refreshed' '
	expect 200 api admin POST /api/v1/applications -d "$(app_json wh-match default https://github.com/example/elsewhere.git guestbook)" &&
	expect 200 api admin POST /api/v1/applications -d "$(app_json wh-path default https://github.com/example/elsewhere.git apps/x | jq -c ".metadata.annotations={\"argocd.argoproj.io/manifest-generate-paths\":\".\"}")" &&
	expect 200 api admin POST /api/v1/applications -d "$(app_json wh-branch default https://github.com/example/elsewhere.git guestbook | jq -c ".spec.source.targetRevision=\"release\"")" &&
	sleep 0.5 &&
	push_json refs/heads/main >push.json &&
	expect 200 api - POST /api/webhook -H "X-GitHub-Event: push" --data-binary @push.json &&
	wait_for 5 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app wh-match -o jsonpath={.metadata.annotations} | grep -q refresh" &&
	sleep 0.5 &&
	! K -n argocd get app wh-path -o jsonpath="{.metadata.annotations}" | grep -q argocd.argoproj.io/refresh &&
	! K -n argocd get app wh-branch -o jsonpath="{.metadata.annotations}" | grep -q argocd.argoproj.io/refresh &&
	! K -n argocd get app guestbook -o jsonpath="{.metadata.annotations}" | grep -q argocd.argoproj.io/refresh
'

K -n argocd patch secret argocd-secret -p "{\"data\":{\"webhook.github.secret\":\"$(printf gh-s3cret | base64 -w0)\",\"webhook.gitlab.secret\":\"$(printf gl-token | base64 -w0)\",\"webhook.bitbucket.uuid\":\"$(printf '{1111-2222}' | base64 -w0)\"}}" >/dev/null
sleep 0.5

test_expect_success 'GitHub HMAC: missing and wrong signatures 401, right one 200 within 50 ms' '
	K -n argocd annotate app wh-branch argocd.argoproj.io/refresh- >/dev/null 2>&1; \
	push_json refs/heads/release >push.json &&
	expect 401 api - POST /api/webhook -H "X-GitHub-Event: push" --data-binary @push.json &&
	expect 401 api - POST /api/webhook -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: sha256=0000" --data-binary @push.json &&
	sig=$(openssl dgst -sha256 -hmac wrong -r push.json | cut -d" " -f1) &&
	expect 401 api - POST /api/webhook -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: sha256=$sig" --data-binary @push.json &&
	sleep 0.3 &&
	! K -n argocd get app wh-branch -o jsonpath="{.metadata.annotations}" | grep -q argocd.argoproj.io/refresh &&
	sig=$(openssl dgst -sha256 -hmac gh-s3cret -r push.json | cut -d" " -f1) &&
	t=$(curl -sS -o /dev/null -w "%{http_code} %{time_total}" --cacert srv/pki/ca.crt -H "Content-Type: application/json" \
		-H "X-GitHub-Event: push" -H "X-Hub-Signature-256: sha256=$sig" --data-binary @push.json "$S/api/webhook") &&
	echo "$t" && test "${t% *}" = 200 &&
	awk -v t="${t#* }" "BEGIN{exit !(t < 0.05)}" &&
	wait_for 5 sh -c "kubectl --kubeconfig $kube_KC -n argocd get app wh-branch -o jsonpath={.metadata.annotations} | grep -q refresh"
'

test_expect_success 'GitLab token, Bitbucket UUID, ping, unknown event, malformed payloads, body cap' '
	gl="{\"ref\":\"refs/heads/main\",\"project\":{\"web_url\":\"https://github.com/example/elsewhere\",\"default_branch\":\"main\"}}" &&
	expect 401 api - POST /api/webhook -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Token: nope" -d "$gl" &&
	expect 200 api - POST /api/webhook -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Token: gl-token" -d "$gl" &&
	bb="{\"repository\":{\"full_name\":\"t/r\",\"links\":{\"html\":{\"href\":\"https://bitbucket.org/t/r\"}}},\"push\":{\"changes\":[{\"new\":{\"name\":\"main\"}}]}}" &&
	expect 401 api - POST /api/webhook -H "X-Hook-UUID: {bad}" -H "X-Event-Key: repo:push" -d "$bb" &&
	expect 200 api - POST /api/webhook -H "X-Hook-UUID: {1111-2222}" -H "X-Event-Key: repo:push" -d "$bb" &&
	expect 400 api - POST /api/webhook -d "{}" &&
	expect 400 api - POST /api/webhook -H "X-Gitlab-Event: Issue Hook" -H "X-Gitlab-Token: gl-token" -d "{}" &&
	expect 400 api - POST /api/webhook -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Token: gl-token" -d "{\"ref\":[],\"project\":7}" &&
	expect 400 api - POST /api/webhook -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Token: gl-token" -d "not json" &&
	expect 400 api - POST /api/webhook -H "X-Event-Key: repo:refs_changed" -d "{\"repository\":{\"links\":{\"clone\":\"x\"}},\"changes\":[]}" &&
	head -c 11000000 /dev/zero | tr "\0" " " >big &&
	expect 413 api - POST /api/webhook -H "X-Gitlab-Event: Push Hook" --data-binary @big &&
	kill -0 $SRV_PID
'

test_expect_success 'metrics: argocd_app_info, login and webhook counters' '
	curl -sf --cacert srv/pki/ca.crt "$S/metrics" >metrics &&
	grep -q "^argocd_app_info{.*name=\"guestbook\".*project=\"default\".*} 1$" metrics &&
	grep "^argocd_app_info{.*name=\"guestbook\"" metrics | grep -q "dest_server=\"https://kubernetes.default.svc\"" &&
	grep -q "^argocd_login_request_total{status=\"failure\"} [1-9]" metrics &&
	grep -q "^argocd_webhook_requests_total{repo=\"https://github.com/example/elsewhere\"} [1-9]" metrics
'

test_expect_success 'logout revokes that token (and ends its stream), other sessions live on' '
	login admin "$(cat admin.pw)" && cp admin.tok admin2.tok &&
	login admin "$(cat admin.pw)" &&
	curl -sN --max-time 10 --cacert srv/pki/ca.crt -H "Authorization: Bearer $(cat admin2.tok)" "$S/api/v1/stream/applications" >sse-out &
	sleep 0.5 &&
	expect 200 api admin2 DELETE /api/v1/session &&
	grep -qi "^Set-Cookie: argocd.token=;" headers &&
	expect 401 api admin2 GET /api/v1/applications &&
	grep -q revoked body &&
	expect 200 api admin GET /api/v1/applications &&
	wait_for 4 sh -c "! kill -0 $! 2>/dev/null"
'

test_expect_success 'throttling: after 5 failures even the right password is refused' '
	for i in 1 2 3 4 5; do expect 401 api - POST /api/v1/session -d "{\"username\":\"reader\",\"password\":\"bad$i\"}" || return 1; done &&
	expect 401 api - POST /api/v1/session -d "{\"username\":\"reader\",\"password\":\"readerpass1\"}" &&
	for i in $(seq 1 10); do api - POST /api/v1/session -d "{\"username\":\"flood$i\",\"password\":\"x\"}" >/dev/null; done &&
	expect 401 api - POST /api/v1/session -d "{\"username\":\"reader\",\"password\":\"readerpass1\"}"
'

stop_server
test_expect_success 'SIGTERM stops the server cleanly (exit 0)' '
	test $? = 0 && grep -q "shutting down" srv.log
'

start_server ARGOCD_SESSION_FAILURE_WINDOW_SECONDS=15 || { echo "restart failed"; exit 1; }

test_expect_success 'after a restart: lockout kept, revoked token still revoked, old session valid' '
	expect 401 api - POST /api/v1/session -d "{\"username\":\"reader\",\"password\":\"readerpass1\"}" &&
	expect 401 api admin2 GET /api/v1/applications &&
	expect 200 api admin GET /api/v1/applications &&
	wait_for 20 login reader readerpass1
'

test_expect_success 'a password change invalidates every earlier token' '
	sleep 1 &&
	K -n argocd patch secret argocd-secret -p "{\"data\":{\"admin.password\":\"$(bcrypt_of newpass123 | tr -d "\n" | base64 -w0)\",\"admin.passwordMtime\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ | tr -d "\n" | base64 -w0)\"}}" >/dev/null &&
	wait_for 5 sh -c "test \"\$(curl -s -o /dev/null -w %{http_code} --cacert srv/pki/ca.crt -H \"Authorization: Bearer \$(cat admin.tok)\" $S/api/v1/applications)\" = 401" &&
	expect 401 api - POST /api/v1/session -d "{\"username\":\"admin\",\"password\":\"$(cat admin.pw)\"}" &&
	sleep 1 && login admin newpass123 &&
	expect 200 api admin GET /api/v1/applications &&
	expect 200 api reader GET /api/v1/applications
'

test_expect_success 'plaintext only with --insecure' '
	port=$(free_port) &&
	("$FERRY" server --kubeconfig "$kube_KC" --listen 127.0.0.1:$port --insecure --data "$TRASH/srv2" >srv2.log 2>&1 & echo $! >>.pids; echo $! >srv2.pid) &&
	wait_for 10 curl -sf "http://127.0.0.1:$port/healthz" &&
	curl -s -D h2 -o /dev/null "http://127.0.0.1:$port/api/version" && ! grep -qi Strict-Transport h2 &&
	kill -TERM $(cat srv2.pid)
'

test_done
