#!/bin/sh
# t4002-python-client: two clients independent of kubectl against `ferry kube`:
# Debian's python3-kubernetes (tests/e2e/py/client_crud_watch.py, one check
# per case) and raw HTTP with curl (status codes, Status bodies, watch, 410).
. tests/e2e/lib.sh
command -v curl >/dev/null 2>&1 || test_skip_all "curl not installed"
command -v kubectl >/dev/null 2>&1 || test_skip_all "kubectl not installed (start_kube uses it)"

# the Debian client lives in the system python, not in a pyenv one
PY=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import kubernetes' >/dev/null 2>&1; then PY=$p; break; fi
done

start_kube k2 || { echo "not ok: ferry kube did not start"; T_FAIL=1; test_done; exit 1; }
TOKEN=$(cat "$TRASH/k2/token")
URL=$(sed -n 's/^ *server: *//p' "$k2_KC")

# pyclient cases: one test_expect_success per case, all in one process run
if [ -n "$PY" ]; then
	"$PY" "$ROOT/tests/e2e/py/client_crud_watch.py" "$k2_KC" > "$TRASH/py.out" 2>&1
	for c in namespace configmap_crud errors deployment_crud watch watch_single_object \
		custom_resource delete_namespace; do
		test_expect_success "python client: $c" "
			grep -q '^ok $c\$' py.out || { sed -n '/^not ok $c:/,/^\(ok\|not ok\) /p' py.out | head -40; false; }
		"
	done
	test_expect_success 'python client: no case missing or failed' '
		! grep -q "^not ok" py.out && test $(grep -c "^ok " py.out) = 8
	'
else
	echo "# python3-kubernetes not importable: python client cases skipped"
fi

# --- raw HTTP with curl ------------------------------------------------------
# req METHOD PATH [curl args...]: body to ./body, HTTP code to stdout
req() {
	m=$1 p=$2; shift 2
	curl -sk -X "$m" -H "Authorization: Bearer $TOKEN" -o body -w '%{http_code}' "$@" "$URL$p"
}
# jget FILE EXPR: print a value from a JSON file (EXPR in python on d)
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
CM=/api/v1/namespaces/raw/configmaps

test_expect_success 'curl: POST namespace and ConfigMap (JSON) give 201' '
	test "$(req POST /api/v1/namespaces -H "Content-Type: application/json" \
		-d "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"raw\"}}")" = 201 &&
	test "$(req POST $CM -H "Content-Type: application/json" \
		-d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":\"1\"}},\"data\":{\"k\":\"v\"}}")" = 201 &&
	test "$(jget body "d[\"metadata\"][\"namespace\"]")" = raw &&
	test -n "$(jget body "d[\"metadata\"][\"uid\"]")"
'
test_expect_success 'curl: POST YAML body gives 201' '
	printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ycm\ndata:\n  count: \"1\"\n  text: |\n    two\n    lines\n" > y.yaml &&
	test "$(req POST $CM -H "Content-Type: application/yaml" --data-binary @y.yaml)" = 201 &&
	test "$(jget body "d[\"data\"][\"count\"]")" = 1 &&
	test "$(jget body "repr(d[\"data\"][\"text\"])")" = "'\''two\\nlines\\n'\''"
'
test_expect_success 'curl: GET object and list' '
	test "$(req GET $CM/a)" = 200 && test "$(jget body "d[\"data\"][\"k\"]")" = v &&
	test "$(req GET "$CM?labelSelector=x%3D1")" = 200 &&
	test "$(jget body "d[\"kind\"]")" = ConfigMapList &&
	test "$(jget body "\",\".join(i[\"metadata\"][\"name\"] for i in d[\"items\"])")" = a
'
test_expect_success 'curl: PUT with current resourceVersion 200, stale 409' '
	req GET $CM/a > /dev/null && rv=$(jget body "d[\"metadata\"][\"resourceVersion\"]") &&
	body="{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"$rv\"},\"data\":{\"k\":\"w\"}}" &&
	test "$(req PUT $CM/a -H "Content-Type: application/json" -d "$body")" = 200 &&
	test "$(jget body "d[\"data\"][\"k\"]")" = w &&
	test "$(jget body "int(d[\"metadata\"][\"resourceVersion\"])")" -gt "$rv" &&
	test "$(req PUT $CM/a -H "Content-Type: application/json" -d "$body")" = 409 &&
	test "$(jget body "d[\"reason\"]")" = Conflict
'
test_expect_success 'curl: PATCH merge' '
	test "$(req PATCH $CM/a -H "Content-Type: application/merge-patch+json" -d "{\"data\":{\"m\":\"1\"}}")" = 200 &&
	test "$(jget body "\",\".join(sorted(d[\"data\"]))")" = k,m
'
test_expect_success 'curl: POST duplicate 409 AlreadyExists' '
	test "$(req POST $CM -H "Content-Type: application/json" \
		-d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"}}")" = 409 &&
	test "$(jget body "d[\"reason\"]")" = AlreadyExists &&
	test "$(jget body "d[\"kind\"]")" = Status
'
test_expect_success 'curl: DELETE 200, then GET and DELETE 404' '
	test "$(req DELETE $CM/a)" = 200 &&
	test "$(req GET $CM/a)" = 404 && test "$(jget body "d[\"reason\"]")" = NotFound &&
	grep -q "configmaps \\\\\"a\\\\\" not found" body &&
	test "$(req DELETE $CM/a)" = 404
'
test_expect_success 'curl: body over 3 MiB gets 413 Status' '
	python3 -c "import sys; sys.stdout.write(\"{\\\"data\\\":\\\"\" + \"a\" * (3 * 1024 * 1024) + \"\\\"}\")" > big.json &&
	test "$(req POST $CM -H "Content-Type: application/json" --data-binary @big.json)" = 413 &&
	test "$(jget body "d[\"code\"]")" = 413 && test "$(jget body "d[\"kind\"]")" = Status
'
test_expect_success 'curl: chunked body over 3 MiB (no Content-Length) gets 413' '
	test "$(req POST $CM -H "Content-Type: application/json" -H "Transfer-Encoding: chunked" --data-binary @big.json)" = 413
'
test_expect_success 'curl: body of exactly 3 MiB is not refused as too large' '
	python3 -c "
import json, sys
pad = 3 * 1024 * 1024
obj = {\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"big\"}, \"data\": {\"k\": \"\"}}
obj[\"data\"][\"k\"] = \"a\" * (pad - len(json.dumps(obj)))
s = json.dumps(obj); assert len(s) == pad; sys.stdout.write(s)" > exact.json &&
	code=$(req POST $CM -H "Content-Type: application/json" --data-binary @exact.json) &&
	test "$code" != 413 && test "$code" -lt 500
'
test_expect_success 'curl: malformed JSON gets 400 Status' '
	test "$(req POST $CM -H "Content-Type: application/json" -d "{\"apiVersion\":\"v1\",")" = 400 &&
	test "$(jget body "d[\"kind\"]")" = Status && test "$(jget body "d[\"reason\"]")" = BadRequest
'
test_expect_success 'curl: malformed YAML gets 400 Status' '
	printf "apiVersion: v1\nkind: [ConfigMap\nmetadata: {\n" > bad.yaml &&
	test "$(req POST $CM -H "Content-Type: application/yaml" --data-binary @bad.yaml)" = 400 &&
	test "$(jget body "d[\"kind\"]")" = Status && test "$(jget body "d[\"code\"]")" = 400
'
test_expect_success 'curl: YAML billion laughs gets 400 quickly' '
	{ echo "a: &a [x,x,x,x,x,x,x,x,x,x]"; p=a
	  for n in b c d e f g h i; do echo "$n: &$n [*$p,*$p,*$p,*$p,*$p,*$p,*$p,*$p,*$p,*$p]"; p=$n; done; } > laughs.yaml &&
	code=$(req POST $CM -H "Content-Type: application/yaml" --max-time 5 --data-binary @laughs.yaml) &&
	test "$code" = 400 -o "$code" = 413 -o "$code" = 422
'
test_expect_success 'curl: empty body and JSON that is not an object are refused with 4xx' '
	code=$(req POST $CM -H "Content-Type: application/json" --data-binary "") && test "$code" = 400 &&
	code=$(req POST $CM -H "Content-Type: application/json" -d "[1,2]") && test "$code" -ge 400 -a "$code" -lt 500 &&
	code=$(req POST $CM -H "Content-Type: application/json" -d "\"s\"") && test "$code" -ge 400 -a "$code" -lt 500
'
test_expect_success 'curl: unknown resources and groups get 404 Status' '
	test "$(req GET /api/v1/namespaces/raw/widgets)" = 404 && test "$(jget body "d[\"kind\"]")" = Status &&
	test "$(req GET /apis/nope.example.com/v1/things)" = 404 &&
	test "$(req GET /api/v9/pods)" = 404
'
test_expect_success 'curl: no token or a wrong token gets 401, health stays public' '
	test "$(curl -sk -o body -w "%{http_code}" $URL/api/v1/namespaces)" = 401 &&
	test "$(jget body "d[\"reason\"]")" = Unauthorized &&
	test "$(curl -sk -o /dev/null -w "%{http_code}" -H "Authorization: Bearer nope" $URL/api/v1/namespaces)" = 401 &&
	test "$(curl -sk -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $TOKEN$TOKEN" $URL/api/v1/namespaces)" = 401 &&
	test "$(curl -sk -o /dev/null -w "%{http_code}" $URL/readyz)" = 200 &&
	test "$(curl -sk -o /dev/null -w "%{http_code}" $URL/version)" = 200
'
test_expect_success 'curl: watch from a resourceVersion receives the next event' '
	test "$(req GET $CM)" = 200 && rv=$(jget body "d[\"metadata\"][\"resourceVersion\"]") &&
	{ curl -sk -N -H "Authorization: Bearer $TOKEN" --max-time 5 \
		"$URL$CM?watch=1&resourceVersion=$rv" > watch.out 2>/dev/null & } &&
	sleep 0.5 &&
	test "$(req POST $CM -H "Content-Type: application/json" \
		-d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"next\"}}")" = 201 &&
	wait_for 5 grep -q "\"name\":\"next\"" watch.out &&
	head -1 watch.out > ev.json && test "$(jget ev.json "d[\"type\"]")" = ADDED &&
	test "$(jget ev.json "d[\"object\"][\"metadata\"][\"name\"]")" = next &&
	test "$(jget ev.json "int(d[\"object\"][\"metadata\"][\"resourceVersion\"])")" -gt "$rv"
'
test_expect_success 'curl: watch replays events after its resourceVersion in order' '
	test "$(req GET $CM/next)" = 200 && rv=$(jget body "d[\"metadata\"][\"resourceVersion\"]") &&
	req PATCH $CM/next -H "Content-Type: application/merge-patch+json" -d "{\"data\":{\"a\":\"1\"}}" >/dev/null &&
	req DELETE $CM/next > /dev/null &&
	curl -sk -N -H "Authorization: Bearer $TOKEN" --max-time 2 "$URL$CM?watch=1&resourceVersion=$rv" > replay.out;
	python3 -c "
import json
ev = [json.loads(l) for l in open(\"replay.out\") if l.strip()]
t = [(e[\"type\"], e[\"object\"][\"metadata\"][\"name\"]) for e in ev]
assert t == [(\"MODIFIED\", \"next\"), (\"DELETED\", \"next\")], t
"
'

# restart with the same state: a watch from before the restart is refused
kill "$k2_PID"; wait_for 20 sh -c "! kill -0 $k2_PID" >/dev/null 2>&1
cp "$TRASH/k2.log" "$TRASH/k2-first.log"
start_kube k2 || { echo "not ok: ferry kube did not restart"; T_FAIL=$((T_FAIL + 1)); test_done; exit 1; }
TOKEN=$(cat "$TRASH/k2/token")
URL=$(sed -n 's/^ *server: *//p' "$k2_KC")

# gone410 FILE CODE: HTTP 410, or an ERROR watch event carrying code 410
gone410() {
	test "$2" = 410 && test "$(jget "$1" "d[\"code\"]")" = 410 && test "$(jget "$1" "d[\"reason\"]")" = Expired && return 0
	test "$2" = 200 && head -1 "$1" > ev1 && test "$(jget ev1 "d[\"type\"]")" = ERROR &&
		test "$(jget ev1 "d[\"object\"][\"code\"]")" = 410
}
test_expect_success 'after restart: objects kept, resourceVersions continue' '
	test "$(req GET $CM/ycm)" = 200 &&
	test "$(req POST $CM -H "Content-Type: application/json" \
		-d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"after\"}}")" = 201 &&
	test "$(jget body "int(d[\"metadata\"][\"resourceVersion\"])")" -gt "$(jget ev.json "int(d[\"object\"][\"metadata\"][\"resourceVersion\"])")"
'
test_expect_success 'after restart: watch from resourceVersion 1 gets 410 Gone' '
	code=$(curl -sk -N -H "Authorization: Bearer $TOKEN" --max-time 3 -o w410 -w "%{http_code}" \
		"$URL$CM?watch=1&resourceVersion=1") ; gone410 w410 "$code"
'
test_expect_success 'after restart: watch from an rv seen before the restart gets 410 Gone' '
	rv=$(jget ev.json "d[\"object\"][\"metadata\"][\"resourceVersion\"]") &&
	code=$(curl -sk -N -H "Authorization: Bearer $TOKEN" --max-time 3 -o w410b -w "%{http_code}" \
		"$URL$CM?watch=1&resourceVersion=$rv") ; gone410 w410b "$code"
'
test_expect_success 'after restart: watch from the list resourceVersion works' '
	test "$(req GET $CM)" = 200 && rv=$(jget body "d[\"metadata\"][\"resourceVersion\"]") &&
	{ curl -sk -N -H "Authorization: Bearer $TOKEN" --max-time 5 \
		"$URL$CM?watch=1&resourceVersion=$rv" > watch2.out 2>/dev/null & } &&
	sleep 0.5 &&
	test "$(req DELETE $CM/after)" = 200 &&
	wait_for 5 grep -q "\"type\":\"DELETED\"" watch2.out
'
test_expect_success 'graceful stop; server logs hold no sanitizer report' '
	pid=$(tail -1 "$TRASH/.pids") && kill "$pid" && wait_for 20 sh -c "! kill -0 $pid" &&
	! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$TRASH/k2-first.log" "$TRASH/k2.log"
'
test_done
