#!/bin/sh
# ctrlbench.sh - the controller benchmark (a benchmark, not a test).
# One git repository (file:// URL, no git server) holds N app directories of
# R small resources each (R-2 ConfigMaps, a Deployment, a Service, all in one
# shared namespace). Against a fresh `ferry kube` and `ferry controller` it
# measures:
#   - cold sync: N Applications (automated sync, prune, selfHeal) created with
#     kubectl apply in batches of 100; time until all are Synced (polled every
#     0.5 s); objects/s = N*R / elapsed (target at least 200/s);
#   - API writes per app sync: every write in the cluster counted by the
#     cluster-wide resourceVersion before and after (target at most changed
#     objects + 2), split into managed objects, Events and the rest;
#   - no-op full refresh: every app annotated argocd.argoproj.io/refresh=normal;
#     time until the controller has removed every annotation (target at most
#     5 s), writes during it (target zero beyond what the refresh itself
#     writes) and renders (counted with a perf uprobe on fy_render_cache_put,
#     i.e. render-cache misses, when perf probe works; else "n/a");
#   - peak RSS of the controller process (VmHWM; target at most
#     32 MiB + 8 KiB per managed resource);
#   - selfHeal: one managed ConfigMap patched in H apps; time from the patch's
#     response until the watch shows it restored (p50/p99, target p99 <= 1 s).
# Results: bench/results/controller.txt (appended to by run.sh runs with
# several sizes). Environment: FERRY (default build/ferry), CTRLBENCH_SIZES
# (default "10 100 1000"), CTRLBENCH_RES (20), CTRLBENCH_HEAL (50),
# CTRLBENCH_TIMEOUT (seconds per phase, default 600), CTRLBENCH_SIMULATOR
# (1 to run ferry kube with its workload simulator; default off so that the
# write count holds only the controller's writes), CTRLBENCH_KEEP (1 keeps the
# work directory), CTRLBENCH_PERF (a file: `perf record -g` of the controller
# during the no-op refresh, one file per size: FILE.N; CTRLBENCH_PERF_CG the
# call-graph mode, default dwarf; CTRLBENCH_PERF_COLD=1 records the cold sync
# instead, at 49 Hz), KUBECTL (default kubectl).
set -u
cd "$(dirname "$0")/.." || exit 1
FERRY=${FERRY:-build/ferry}
KUBECTL=${KUBECTL:-kubectl}
SIZES=${CTRLBENCH_SIZES:-10 100 1000}
RES=${CTRLBENCH_RES:-20}
HEAL=${CTRLBENCH_HEAL:-50}
TMO=${CTRLBENCH_TIMEOUT:-600}
SIM=${CTRLBENCH_SIMULATOR:-0}
OUT=${CTRLBENCH_OUT:-bench/results/controller.txt}
TOP=$(pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/ferry-ctrlbench.XXXXXX")
KPID='' CPID='' PROBE='' SPID=''
cleanup() {
	[ -n "${PPID_REC:-}" ] && kill -INT "$PPID_REC" 2>/dev/null
	[ -n "$CPID" ] && kill "$CPID" 2>/dev/null
	[ -n "$KPID" ] && kill "$KPID" 2>/dev/null
	[ -n "$CPID" ] && wait "$CPID" 2>/dev/null
	[ -n "$KPID" ] && wait "$KPID" 2>/dev/null
	[ -n "$PROBE" ] && perf probe -q -d "$PROBE" 2>/dev/null
	if [ "${CTRLBENCH_KEEP:-0}" = 1 ]; then echo "ctrlbench: kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$(dirname "$OUT")"
command -v "$KUBECTL" >/dev/null 2>&1 || { echo "ctrlbench: kubectl not installed"; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "ctrlbench: python3 not installed"; exit 1; }
command -v git >/dev/null 2>&1 || { echo "ctrlbench: git not installed"; exit 1; }
case $FERRY in /*) ;; *) FERRY=$TOP/$FERRY ;; esac
[ -x "$FERRY" ] || { echo "ctrlbench: $FERRY not built"; exit 1; }

# --------------------------------------------------------------- python helper
# kb.py: generation and measurement (talks HTTPS to the API server directly,
# with the kubeconfig's credentials, so that polling costs little).
cat > "$W/kb.py" <<'EOF'
import base64, http.client, json, os, ssl, subprocess, sys, threading, time

def gen(repo, napps, nres):
    for a in range(napps):
        d = os.path.join(repo, "apps", "app-%04d" % a)
        os.makedirs(d, exist_ok=True)
        n = "app-%04d" % a
        with open(os.path.join(d, "configmaps.yaml"), "w") as f:
            for r in range(nres - 2):
                f.write("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s-cm-%02d\n"
                        "  labels:\n    app: %s\ndata:\n  key: value-%d\n  LOG_LEVEL: info\n"
                        "  config.yaml: |\n    server:\n      port: 8080\n      name: %s\n" % (n, r, n, r, n))
        with open(os.path.join(d, "deployment.yaml"), "w") as f:
            f.write("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\n  labels:\n    app: %s\n"
                    "spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: %s\n  template:\n"
                    "    metadata:\n      labels:\n        app: %s\n    spec:\n      containers:\n"
                    "      - name: main\n        image: registry.example.com/bench/app:1.0.0\n"
                    "        ports:\n        - containerPort: 8080\n        resources:\n"
                    "          requests:\n            cpu: 10m\n            memory: 16Mi\n" % (n, n, n, n))
        with open(os.path.join(d, "service.yaml"), "w") as f:
            f.write("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\nspec:\n  selector:\n    app: %s\n"
                    "  ports:\n  - port: 80\n    targetPort: 8080\n" % (n, n))

def apps_list(repo_url, first, count, ns):
    items = []
    for a in range(first, first + count):
        items.append({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "app-%04d" % a, "namespace": "argocd"},
            "spec": {"project": "default",
                     "source": {"repoURL": repo_url, "targetRevision": "HEAD", "path": "apps/app-%04d" % a},
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": ns},
                     "syncPolicy": {"automated": {"prune": True, "selfHeal": True}}}})
    return {"apiVersion": "v1", "kind": "List", "items": items}

class Kube:
    def __init__(self, kubeconfig, wdir):
        cfg = json.loads(subprocess.check_output(["kubectl", "--kubeconfig", kubeconfig, "config", "view", "--raw", "-o", "json"]))
        ctx = [c for c in cfg["contexts"] if c["name"] == cfg["current-context"]][0]["context"]
        cl = [c for c in cfg["clusters"] if c["name"] == ctx["cluster"]][0]["cluster"]
        us = [u for u in cfg["users"] if u["name"] == ctx["user"]][0]["user"]
        srv = cl["server"]
        self.https = srv.startswith("https://")
        hp = srv.split("://", 1)[1].rstrip("/")
        self.host, self.port = hp.rsplit(":", 1)
        self.port = int(self.port)
        self.headers = {"Accept": "application/json"}
        if us.get("token"):
            self.headers["Authorization"] = "Bearer " + us["token"]
        self.ctx = None
        if self.https:
            c = ssl.create_default_context()
            if cl.get("certificate-authority-data"):
                c.load_verify_locations(cadata=base64.b64decode(cl["certificate-authority-data"]).decode())
            elif cl.get("certificate-authority"):
                c.load_verify_locations(cafile=cl["certificate-authority"])
            if cl.get("insecure-skip-tls-verify"):
                c.check_hostname = False
                c.verify_mode = ssl.CERT_NONE
            cert = us.get("client-certificate-data")
            if cert:
                cf, kf = os.path.join(wdir, "client.crt"), os.path.join(wdir, "client.key")
                open(cf, "wb").write(base64.b64decode(cert))
                open(kf, "wb").write(base64.b64decode(us["client-key-data"]))
                c.load_cert_chain(cf, kf)
            elif us.get("client-certificate"):
                c.load_cert_chain(us["client-certificate"], us["client-key"])
            self.ctx = c
        self.local = threading.local()

    def conn(self, fresh=False):
        if fresh or not getattr(self.local, "c", None):
            if self.https:
                c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=60)
            else:
                c = http.client.HTTPConnection(self.host, self.port, timeout=60)
            if fresh:
                return c
            self.local.c = c
        return self.local.c

    def req(self, method, path, body=None, ctype="application/json"):
        h = dict(self.headers)
        if body is not None:
            h["Content-Type"] = ctype
            body = json.dumps(body)
        for attempt in range(3):
            try:
                c = self.conn()
                c.request(method, path, body=body, headers=h)
                r = c.getresponse()
                data = r.read()
                if r.status >= 300:
                    raise RuntimeError("%s %s: %d %s" % (method, path, r.status, data[:200]))
                return json.loads(data) if data else None
            except (http.client.HTTPException, OSError):
                self.local.c = None
                if attempt == 2:
                    raise

    def rv(self):
        return int(self.req("GET", "/api/v1/namespaces?limit=1")["metadata"]["resourceVersion"])

    def apps(self):
        return self.req("GET", "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications")["items"]

def cpu(pid):
    """user+system CPU seconds of pid so far"""
    try:
        f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / float(os.sysconf("SC_CLK_TCK"))
    except (OSError, IndexError, ValueError):
        return 0.0

def rss(pid):
    v = {}
    try:
        for line in open("/proc/%s/status" % pid):
            k, _, rest = line.partition(":")
            if k in ("VmHWM", "VmRSS"):
                v[k] = int(rest.split()[0])
    except OSError:
        pass
    return v

def synced(a):
    return (a.get("status") or {}).get("sync", {}).get("status") == "Synced"

def wait_synced(k, n, tmo, pid):
    """poll every 0.5 s until n apps are Synced; prints elapsed from argv t0"""
    t0 = float(os.environ["T0"])
    end = time.time() + tmo
    peak = 0
    last = -1
    while time.time() < end:
        items = k.apps()
        s = sum(1 for a in items if synced(a))
        r = rss(pid).get("VmRSS", 0)
        peak = max(peak, r)
        if s != last:
            print("  %6.1fs synced %d/%d rss %d KiB" % (time.time() - t0, s, n, r), file=sys.stderr)
            last = s
        if s >= n and len(items) >= n:
            ops = sum(1 for a in items if (a.get("status") or {}).get("operationState", {}).get("phase") == "Succeeded")
            print("elapsed=%.2f ops_succeeded=%d" % (time.time() - t0, ops))
            return 0
        time.sleep(0.5)
    print("elapsed=timeout synced=%d" % last)
    return 1

def refresh(k, tmo):
    items = k.apps()
    before = {a["metadata"]["name"]: (a.get("status") or {}).get("reconciledAt") for a in items}
    names = sorted(before)
    t0 = time.time()
    # annotate with 4 threads (what a script or the API server would do)
    def work(part):
        for nm in part:
            k.req("PATCH", "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/" + nm,
                  {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}},
                  "application/merge-patch+json")
    th = [threading.Thread(target=work, args=(names[i::4],)) for i in range(4)]
    for t in th: t.start()
    for t in th: t.join()
    t1 = time.time()
    end = t0 + tmo
    while time.time() < end:
        items = k.apps()
        left = sum(1 for a in items if "argocd.argoproj.io/refresh" in (a["metadata"].get("annotations") or {}))
        if left == 0:
            t2 = time.time()
            newer = sum(1 for a in items if (a.get("status") or {}).get("reconciledAt") != before.get(a["metadata"]["name"]))
            print("annotate_s=%.2f total_s=%.2f after_annotate_s=%.2f reconciledAt_changed=%d" % (t1 - t0, t2 - t0, t2 - t1, newer))
            return 0
        time.sleep(0.1)
    print("annotate_s=%.2f total_s=timeout left=%d" % (t1 - t0, left))
    return 1

def selfheal(k, ns, napps, nheal, tmo):
    step = max(1, napps // nheal)
    targets = ["app-%04d-cm-00" % a for a in range(0, napps, step)][:nheal]
    want = {t: "value-0" for t in targets}
    start = k.rv()
    patched = {}
    restored = {}
    lock = threading.Lock()
    ready = threading.Event()
    def watch():
        c = k.conn(fresh=True)
        c.timeout = tmo + 30
        c.request("GET", "/api/v1/namespaces/%s/configmaps?watch=1&resourceVersion=%d" % (ns, start), headers=k.headers)
        r = c.getresponse()
        ready.set()
        while True:
            line = r.readline()
            if not line:
                return
            now = time.time()
            ev = json.loads(line)
            o = ev.get("object", {})
            nm = o.get("metadata", {}).get("name")
            if nm in want and ev.get("type") == "MODIFIED" and (o.get("data") or {}).get("key") == want[nm]:
                with lock:
                    if nm in patched and nm not in restored:
                        restored[nm] = now
                        if len(restored) == len(targets):
                            return
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    ready.wait(10)
    for nm in targets:
        k.req("PATCH", "/api/v1/namespaces/%s/configmaps/%s" % (ns, nm), {"data": {"key": "drifted"}},
              "application/merge-patch+json")
        with lock:
            patched[nm] = time.time()
        time.sleep(0.02)
    t.join(tmo)
    lat = sorted(restored[n] - patched[n] for n in restored)
    def pct(p):
        if not lat: return float("nan")
        return lat[min(len(lat) - 1, int(round(p / 100.0 * len(lat) + 0.5)) - 1)]
    print("healed=%d/%d p50_s=%.3f p99_s=%.3f max_s=%.3f" % (len(lat), len(targets), pct(50), pct(99), lat[-1] if lat else float("nan")))
    return 0 if len(lat) == len(targets) else 1

def counts(k, ns):
    ev = len(k.req("GET", "/api/v1/namespaces/argocd/events")["items"])
    ev2 = len(k.req("GET", "/api/v1/namespaces/%s/events" % ns)["items"])
    print("events_argocd=%d events_ns=%d" % (ev, ev2))

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        sys.exit(0)
    if cmd == "list":
        json.dump(apps_list(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]), sys.stdout)
        sys.exit(0)
    if cmd == "cpu":
        print("%.2f" % cpu(sys.argv[2]))
        sys.exit(0)
    if cmd == "rss":
        v = rss(sys.argv[2])
        print("hwm=%d rss=%d" % (v.get("VmHWM", 0), v.get("VmRSS", 0)))
        sys.exit(0)
    k = Kube(os.environ["KUBECONFIG"], os.environ["W"])
    if cmd == "rv":
        print(k.rv())
    elif cmd == "wait-synced":
        sys.exit(wait_synced(k, int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]))
    elif cmd == "refresh":
        sys.exit(refresh(k, float(sys.argv[2])))
    elif cmd == "selfheal":
        sys.exit(selfheal(k, sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])))
    elif cmd == "counts":
        counts(k, sys.argv[2])
EOF
export W
kb() { python3 "$W/kb.py" "$@"; }
now() { python3 -c 'import time; print("%.3f" % time.time())'; }
val() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# render counter: a uprobe on render-cache misses, when perf probe works here
probe_renders() {
	PROBE=
	command -v perf >/dev/null 2>&1 || return 1
	# one event name per run, so that concurrent runs do not collide
	perf probe -q -x "$FERRY" -a "ctrlbench_put_$$=fy_render_cache_put" >/dev/null 2>&1 || return 1
	PROBE=probe_ferry:ctrlbench_put_$$
	perf list 2>/dev/null | grep -q "ctrlbench_put_$$" || { perf probe -q -d "$PROBE" 2>/dev/null; PROBE=; return 1; }
	return 0
}

run_size() {
	N=$1
	D=$W/n$N
	mkdir -p "$D"
	ns=bench
	echo "== ctrlbench: $N apps x $RES resources"
	# the repository
	t=$(now)
	kb gen "$D/repo" "$N" "$RES"
	(cd "$D/repo" && git init -q && git add -A && git -c user.name=bench -c user.email=bench@localhost commit -q -m "bench $N apps") || return 1
	echo "  repo generated in $(python3 -c "print('%.1f' % ($(now) - $t))") s"
	# the cluster
	simflag=--no-simulator
	[ "$SIM" = 1 ] && simflag=
	"$FERRY" kube --data "$D/kube" --listen 127.0.0.1:0 $simflag --log-level warn > "$D/kube.log" 2>&1 &
	KPID=$!
	KUBECONFIG=$D/kube/kubeconfig
	export KUBECONFIG
	i=0
	until [ -s "$KUBECONFIG" ] && "$KUBECTL" get ns default >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -gt 300 ] && { echo "ctrlbench: ferry kube did not start"; return 1; }
		sleep 0.1
	done
	"$KUBECTL" create namespace argocd >/dev/null && "$KUBECTL" create namespace $ns >/dev/null || return 1
	# no periodic refresh during the run: only the refresh asked for is measured
	"$KUBECTL" -n argocd create configmap argocd-cm --from-literal=timeout.reconciliation=0s >/dev/null || return 1
	"$FERRY" controller --kubeconfig "$KUBECONFIG" --data "$D/ctrl" --install-crds --crds-dir data/crds \
		--log-level info > "$D/controller.log" 2>&1 &
	CPID=$!
	i=0
	until grep -q "controller started" "$D/controller.log"; do
		i=$((i + 1)); [ $i -gt 300 ] && { echo "ctrlbench: controller did not start"; cat "$D/controller.log"; return 1; }
		kill -0 $CPID 2>/dev/null || { echo "ctrlbench: controller exited"; cat "$D/controller.log"; return 1; }
		sleep 0.1
	done
	idle=$(kb rss $CPID)
	if probe_renders; then
		perf stat -x, -e "$PROBE" -p $CPID -o "$D/renders.cold" >/dev/null 2>&1 &
		SPID=$!
		sleep 0.3
	fi

	# cold sync
	for b in $(seq 0 100 $((N - 1))); do
		c=100; [ $((b + c)) -gt "$N" ] && c=$((N - b))
		kb list "file://$D/repo" "$b" "$c" $ns > "$D/apps-$b.json"
	done
	rv0=$(kb rv)
	PPID_REC=
	if [ -n "${CTRLBENCH_PERF:-}" ] && [ "${CTRLBENCH_PERF_COLD:-0}" = 1 ]; then
		perf record -q --call-graph "${CTRLBENCH_PERF_CG:-dwarf}" -F 49 -p $CPID -o "$CTRLBENCH_PERF.$N" >/dev/null 2>&1 &
		PPID_REC=$!
		sleep 0.3
	fi
	T0=$(now)
	export T0
	cpuc0=$(kb cpu $CPID)
	for b in $(seq 0 100 $((N - 1))); do
		"$KUBECTL" apply -f "$D/apps-$b.json" >/dev/null || { echo "ctrlbench: kubectl apply failed"; return 1; }
	done
	cold=$(kb wait-synced "$N" "$TMO" $CPID)
	cpuc1=$(kb cpu $CPID)
	[ -n "$PPID_REC" ] && { kill -INT $PPID_REC 2>/dev/null; wait $PPID_REC 2>/dev/null; }
	echo "  cold sync: $cold"
	# let the operations and the last status writes settle
	sleep 3
	rv1=$(kb rv)
	rss_cold=$(kb rss $CPID)
	cnt=$(kb counts $ns)
	[ -n "$PROBE" ] && { kill -INT $SPID 2>/dev/null; wait $SPID 2>/dev/null; }

	# no-op full refresh
	if [ -n "$PROBE" ]; then
		perf stat -x, -e "$PROBE" -p $CPID -o "$D/renders.refresh" >/dev/null 2>&1 &
		SPID=$!
		sleep 0.3
	fi
	PPID_REC=
	if [ -n "${CTRLBENCH_PERF:-}" ] && [ "${CTRLBENCH_PERF_COLD:-0}" != 1 ]; then
		perf record -q --call-graph "${CTRLBENCH_PERF_CG:-dwarf}" -F 499 -p $CPID -o "$CTRLBENCH_PERF.$N" >/dev/null 2>&1 &
		PPID_REC=$!
		sleep 0.3
	fi
	rv2=$(kb rv)
	cpu0=$(kb cpu $CPID)
	ref=$(kb refresh "$TMO")
	cpu1=$(kb cpu $CPID)
	[ -n "$PPID_REC" ] && { kill -INT $PPID_REC 2>/dev/null; wait $PPID_REC 2>/dev/null; }
	sleep 2
	rv3=$(kb rv)
	echo "  refresh: $ref"
	[ -n "$PROBE" ] && { kill -INT $SPID 2>/dev/null; wait $SPID 2>/dev/null; }

	# self-heal
	h=$HEAL; [ "$h" -gt "$N" ] && h=$N
	rv4=$(kb rv)
	heal=$(kb selfheal $ns "$N" "$h" 60)
	echo "  selfheal: $heal"
	sleep 2
	rv5=$(kb rv)
	rss_end=$(kb rss $CPID)

	# report
	obj=$((N * RES))
	el=$(val "$cold" elapsed)
	ops=$(val "$cold" ops_succeeded)
	rc_w=$((rv1 - rv0))
	ev=$(val "$cnt" events_argocd)
	evn=$(val "$cnt" events_ns)
	r_cold=n/a r_ref=n/a
	[ -f "$D/renders.cold" ] && r_cold=$(grep "ctrlbench_put_$$" "$D/renders.cold" | cut -d, -f1)
	[ -f "$D/renders.refresh" ] && r_ref=$(grep "ctrlbench_put_$$" "$D/renders.refresh" | cut -d, -f1)
	hwm=$(val "$rss_end" hwm)
	limit=$((32 * 1024 + 8 * obj))
	python3 - "$N" "$RES" "$el" "$rc_w" "$ev" "$evn" "$((rv3 - rv2))" "$((rv5 - rv4))" "$hwm" "$limit" \
		"$(val "$idle" rss)" "$(val "$rss_cold" rss)" "$(val "$rss_end" rss)" "$r_cold" "$r_ref" "$ref" "$heal" "$ops" \
		"$(python3 -c "print('%.2f' % ($cpuc1 - $cpuc0))")" "$(python3 -c "print('%.2f' % ($cpu1 - $cpu0))")" "$SIM" \
		>> "$OUT" <<-'EOF'
	import sys
	(n, res, el, w, ev, evn, wref, wheal, hwm, limit, ridle, rcold, rend, rcold_n, rref_n, ref, heal, ops, cpu_cold, cpu_ref, sim) = sys.argv[1:]
	n, res, w, ev, evn, wref, wheal, hwm, limit = map(int, (n, res, w, ev, evn, wref, wheal, hwm, limit))
	obj = n * res
	kv = lambda s: dict(x.split("=", 1) for x in s.split())
	ref, heal = kv(ref), kv(heal)
	print("\n%d apps x %d resources = %d objects" % (n, res, obj))
	if el != "timeout":
	    print("  cold sync until all Synced   %8.2f s  %8.0f objects/s   (target >= 200/s); operations Succeeded: %s" % (float(el), obj / float(el), ops))
	else:
	    print("  cold sync until all Synced   timeout")
	print("  controller CPU                cold sync %s s, no-op refresh %s s (user + system)" % (cpu_cold, cpu_ref))
	other = w - obj - ev - evn
	appw = other - n  # the N creates are the benchmark's own kubectl apply
	print("  API writes during cold sync  %8d  = %.2f per app: %d managed objects, %d Events, %d other (%d Application creates by the benchmark, %d controller Application writes)" % (w, w / n, obj, ev + evn, other, n, appw))
	print("                               per app by the controller: %.2f = %.2f objects + %.2f Application writes + %.2f Events (target <= %d changed objects + 2)%s"
	      % ((w - n) / n, obj / n, appw / n, (ev + evn) / n, res, " (simulator on: its own writes are counted as Application writes)" if sim == "1" else ""))
	print("  no-op full refresh           %8s s  (annotating %s s, then %s s); writes %d (%d apps, so %.2f per app); reconciledAt moved on %s; renders %s (target <= 5 s, 0 writes beyond the refresh, 0 renders)"
	      % (ref.get("total_s"), ref.get("annotate_s"), ref.get("after_annotate_s", "-"), wref, n, wref / n, ref.get("reconciledAt_changed", "-"), rref_n))
	print("  renders during cold sync     %8s" % rcold_n)
	print("  controller RSS idle / after sync / end  %s / %s / %s KiB; peak (VmHWM) %d KiB, target <= %d KiB (%s)"
	      % (ridle, rcold, rend, hwm, limit, "ok" if hwm <= limit else "over"))
	print("  selfHeal drift restored      %s of %s; p50 %s s, p99 %s s, max %s s (target p99 <= 1 s); writes %d"
	      % (heal.get("healed", "-").split("/")[0], heal.get("healed", "-/-").split("/")[-1], heal.get("p50_s"), heal.get("p99_s"), heal.get("max_s"), wheal))
	EOF
	tail -9 "$OUT"
	kill $CPID; wait $CPID 2>/dev/null; CPID=
	kill $KPID; wait $KPID 2>/dev/null; KPID=
	[ -n "$PROBE" ] && { perf probe -q -d "$PROBE" 2>/dev/null; PROBE=; }
	cp "$D/controller.log" "$W/controller-$N.log" 2>/dev/null
	grep -c . "$D/controller.log" | sed 's/^/  controller log lines: /'
	grep -E "warn|error" "$D/controller.log" | head -5
	rm -rf "$D/repo" "$D/kube" "$D/ctrl"
	[ "$el" != timeout ]
}

{
	echo "ferry controller benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -m), $(nproc) cpu, load $(cut -d' ' -f1-3 /proc/loadavg))"
	echo "ferry: $FERRY; ferry kube $( [ "$SIM" = 1 ] && echo with || echo without) simulator; argocd-cm timeout.reconciliation=0s"
} > "$OUT"
st=0
for n in $SIZES; do
	run_size "$n" || { st=1; echo "ctrlbench: size $n failed"; break; }
done
exit $st
