#!/bin/sh
# t4003-durability: kill -9 `ferry kube` in the middle of a write loop, restart
# it on the same --data, and check that every acknowledged write (HTTP 201 or
# 200 received by the client) is there and that resourceVersions continue.
# Three rounds, killed at different moments; the checks are cumulative.
. tests/e2e/lib.sh
command -v kubectl >/dev/null 2>&1 || test_skip_all "kubectl not installed (start_kube uses it)"

NS=dur
cat > "$TRASH/writer.py" <<'EOF'
# writer.py URL TOKEN ACKFILE TAG SECONDS: 4 threads, each with one
# keep-alive HTTPS connection, create ConfigMaps (and every 4th call replace
# one made earlier) until the server dies or SECONDS pass. Every response
# with 201/200 is appended to ACKFILE as "op name rv" and flushed before the
# next request is sent; any error ends the thread.
import http.client, json, ssl, sys, threading, time, urllib.parse
url, token, ackfile, tag, secs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
u = urllib.parse.urlsplit(url)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
lock = threading.Lock()
ack = open(ackfile, "a")
end = time.time() + secs
base = "/api/v1/namespaces/dur/configmaps"
hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

def record(op, name, body):
    rv = json.loads(body)["metadata"]["resourceVersion"]
    with lock:
        ack.write("%s %s %s\n" % (op, name, rv))
        ack.flush()

def run(t):
    if u.scheme == "https":
        c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)
    else:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    made = []
    i = 0
    try:
        while time.time() < end:
            i += 1
            if i % 4 == 0 and made:
                name, rv = made[-1]
                obj = {"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": name, "resourceVersion": rv}, "data": {"i": str(i)}}
                c.request("PUT", base + "/" + name, json.dumps(obj), hdr)
                r = c.getresponse(); body = r.read()
                if r.status == 200:
                    made[-1] = (name, json.loads(body)["metadata"]["resourceVersion"])
                    record("upd", name, body)
                elif r.status != 409:
                    break
                continue
            name = "%s-%d-%d" % (tag, t, i)
            obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                   "data": {"i": str(i), "pad": "x" * 200}}
            c.request("POST", base, json.dumps(obj), hdr)
            r = c.getresponse(); body = r.read()
            if r.status != 201:
                break
            made.append((name, json.loads(body)["metadata"]["resourceVersion"]))
            record("add", name, body)
    except Exception:
        pass

ts = [threading.Thread(target=run, args=(t,)) for t in range(4)]
for t in ts: t.start()
for t in ts: t.join()
EOF

cat > "$TRASH/check.py" <<'EOF'
# check.py URL TOKEN ACKFILE: every acknowledged write is present with a
# resourceVersion at least the acknowledged one (a later, unacknowledged
# update may have landed); a new write gets an rv above every rv seen.
import http.client, json, ssl, sys, urllib.parse
url, token, ackfile = sys.argv[1:4]
u = urllib.parse.urlsplit(url)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30)
hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
c.request("GET", "/api/v1/namespaces/dur/configmaps", headers=hdr)
r = c.getresponse(); lst = json.loads(r.read())
assert r.status == 200, r.status
have = {o["metadata"]["name"]: int(o["metadata"]["resourceVersion"]) for o in lst["items"]}
want = {}
maxrv = int(lst["metadata"]["resourceVersion"])
n = 0
for line in open(ackfile):
    op, name, rv = line.split()
    want[name] = max(want.get(name, 0), int(rv))
    maxrv = max(maxrv, int(rv))
    n += 1
missing = [k for k in want if k not in have]
older = [(k, have[k], v) for k, v in want.items() if k in have and have[k] < v]
print("acknowledged writes: %d (objects %d), stored objects: %d, max rv seen: %d" % (n, len(want), len(have), maxrv))
assert not missing, "acknowledged but missing: %s" % missing[:10]
assert not older, "stored rv older than acknowledged: %s" % older[:10]
obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "probe-"}}
c.request("POST", "/api/v1/namespaces/dur/configmaps", json.dumps(obj), hdr)
r = c.getresponse(); made = json.loads(r.read())
assert r.status == 201, (r.status, made)
rv = int(made["metadata"]["resourceVersion"])
assert rv > maxrv, "new write rv %d is not above %d" % (rv, maxrv)
print("new write rv %d > %d" % (rv, maxrv))
EOF

ACK=$TRASH/acks
: > "$ACK"
start_kube kd || { echo "not ok: ferry kube did not start"; T_FAIL=1; test_done; exit 1; }
test_expect_success 'create the namespace' '
	kubectl --kubeconfig "$kd_KC" create namespace $NS
'

# round N DELAY: write for DELAY seconds, kill -9 mid-stream, restart, check.
# Each test runs in a subshell, so the live server's pid is read from the
# last line of $TRASH/.pids (start_kube appends to it) rather than $kd_PID.
round() {
	rnd=$1 delay=$2
	url=$(sed -n 's/^ *server: *//p' "$kd_KC")
	token=$(cat "$TRASH/kd/token")
	before=$(wc -l < "$ACK")
	python3 "$TRASH/writer.py" "$url" "$token" "$ACK" "r$rnd" 30 &
	wpid=$!
	# count the delay from the first acknowledged write (slow sanitizer builds)
	wait_for 20 sh -c "test \$(wc -l < '$ACK') -gt $before" || return 1
	sleep "$delay"
	kill -9 "$(tail -1 "$TRASH/.pids")"
	wait "$wpid"
	echo "round $rnd: killed ${delay}s after its first ack, $(( $(wc -l < "$ACK") - before )) writes acknowledged in this round"
	start_kube kd >/dev/null 2>&1 || { cat "$TRASH/kd.log"; return 1; }
	url=$(sed -n 's/^ *server: *//p' "$kd_KC")
	token=$(cat "$TRASH/kd/token")
	test $(( $(wc -l < "$ACK") - before )) -gt 0 &&
	python3 "$TRASH/check.py" "$url" "$token" "$ACK"
}

test_expect_success 'kill -9 0.1 s into the writes: no acknowledged write lost' 'round 1 0.1'
test_expect_success 'kill -9 1.3 s into the writes: no acknowledged write lost' 'round 2 1.3'
test_expect_success 'kill -9 2.2 s into the writes: no acknowledged write lost' 'round 3 2.2'
test_expect_success 'after the restarts kubectl lists every acknowledged object' '
	test "$(kubectl --kubeconfig "$kd_KC" -n $NS get cm -o name | grep -c "configmap/r[123]-")" -ge "$(cut -d" " -f2 "$ACK" | sort -u | wc -l)"
'
test_expect_success 'a graceful stop and restart keeps everything too' '
	pid=$(tail -1 "$TRASH/.pids") && kill "$pid" && wait_for 20 sh -c "! kill -0 $pid" &&
	cp "$TRASH/kd.log" "$TRASH/kd-stopped.log" &&
	start_kube kd >/dev/null 2>&1 &&
	python3 "$TRASH/check.py" "$(sed -n "s/^ *server: *//p" "$kd_KC")" "$(cat "$TRASH/kd/token")" "$ACK" &&
	! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$TRASH/kd-stopped.log"
'
test_done
