#!/bin/sh
# render-bench.sh - `ferry render` against `kubectl kustomize` on the same
# generated inputs (a benchmark, not a test). For 20, 1,000 and 4,000
# resources it generates a kustomize tree (base of Deployments, Services and
# ConfigMaps; overlay with namePrefix, commonLabels, images, a
# configMapGenerator, a strategic-merge patch on every Deployment and a JSON
# 6902 patch) and a plain directory of the same manifests, then reports:
#   - wall time of `ferry render` and `kubectl kustomize` (hyperfine when
#     installed, else a date +%s%N loop), their ratio (target <= 0.1 at
#     1,000 resources) and ferry's growth from 1,000 to 4,000 (target <= 4.5x);
#   - whether the two outputs are byte-identical;
#   - process forks of ferry (strace: fork/vfork/clone without CLONE_THREAD;
#     expected 0 for directory and kustomize sources);
#   - peak RSS of each run (/usr/bin/time -f %M, else none).
# Results: bench/results/render.txt. Environment: FERRY (default
# build/ferry), RENDER_BENCH_SIZES (default "20 1000 4000"),
# RENDER_BENCH_RUNS (default 10), KUBECTL (default kubectl).
set -u
cd "$(dirname "$0")/.."
FERRY=${FERRY:-build/ferry}
KUBECTL=${KUBECTL:-kubectl}
SIZES=${RENDER_BENCH_SIZES:-20 1000 4000}
RUNS=${RENDER_BENCH_RUNS:-10}
OUT=bench/results/render.txt
W=$(mktemp -d "${TMPDIR:-/tmp}/ferry-render-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
mkdir -p bench/results

have() { command -v "$1" >/dev/null 2>&1; }
have_kubectl=0
have "$KUBECTL" && have_kubectl=1

# gen DIR N: N resources (N/3 apps of Deployment + Service + ConfigMap)
gen() {
	d=$1 n=$2
	mkdir -p "$d/base" "$d/overlay" "$d/plain"
	awk -v n="$n" -v d="$d" 'BEGIN {
		apps = int(n / 3); if (apps < 1) apps = 1
		kz = d "/base/kustomization.yaml"
		print "resources:" > kz
		for (i = 1; i <= apps; i++) {
			f = sprintf("%s/base/app-%d.yaml", d, i)
			p = sprintf("%s/plain/app-%d.yaml", d, i)
			printf "- app-%d.yaml\n", i >> kz
			s = sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-%d\n  labels:\n    app: app-%d\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: app-%d\n  template:\n    metadata:\n      labels:\n        app: app-%d\n    spec:\n      containers:\n      - name: main\n        image: registry.example.com/team/app:1.%d.0\n        ports:\n        - containerPort: 8080\n        env:\n        - name: MODE\n          value: production\n        envFrom:\n        - configMapRef:\n            name: app-%d-config\n        - configMapRef:\n            name: shared\n        resources:\n          requests:\n            cpu: 100m\n            memory: 128Mi\n      - name: sidecar\n        image: busybox:1.36\n        args: [\"sleep\", \"infinity\"]\n", i, i, i, i, i % 50, i)
			s = s sprintf("---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app-%d\nspec:\n  selector:\n    app: app-%d\n  ports:\n  - port: 80\n    targetPort: 8080\n", i, i)
			s = s sprintf("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-%d-config\ndata:\n  LOG_LEVEL: info\n  FEATURE_%d: \"on\"\n  config.yaml: |\n    server:\n      port: 8080\n      name: app-%d\n", i, i, i)
			printf "%s", s > f
			printf "%s", s > p
			close(f); close(p)
		}
	}'
	cat > "$d/overlay/kustomization.yaml" <<-EOT
	resources:
	- ../base
	namePrefix: prod-
	commonLabels:
	  env: prod
	  team: payments
	images:
	- name: registry.example.com/team/app
	  newName: registry.example.com/team/app-hardened
	  newTag: "2.0.1"
	- name: busybox
	  newTag: "1.37"
	configMapGenerator:
	- name: shared
	  literals:
	  - REGION=eu-west-1
	  - TIER=gold
	patches:
	- target:
	    kind: Deployment
	  patch: |-
	    apiVersion: apps/v1
	    kind: Deployment
	    metadata:
	      name: any
	      annotations:
	        prometheus.io/scrape: "true"
	    spec:
	      replicas: 3
	- target:
	    kind: Deployment
	    name: app-1
	  patch: |-
	    - op: add
	      path: /spec/template/spec/containers/0/env/-
	      value: {name: CANARY, value: "1"}
	EOT
}

# mean wall seconds of a command (hyperfine, else a loop)
time_cmd() {
	if have hyperfine; then
		hyperfine -N --style none --warmup 1 --runs "$RUNS" --export-csv "$W/hf.csv" "$1" >/dev/null 2>&1 &&
			awk -F, 'NR == 2 { printf "%.4f\n", $2 }' "$W/hf.csv" && return 0
	fi
	i=0 start=$(date +%s%N)
	while [ $i -lt "$RUNS" ]; do sh -c "$1" >/dev/null 2>&1; i=$((i + 1)); done
	end=$(date +%s%N)
	awk -v a="$start" -v b="$end" -v n="$RUNS" 'BEGIN { printf "%.4f\n", (b - a) / n / 1e9 }'
}

# peak RSS in KiB of a command
rss_cmd() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o "$W/rss" sh -c "exec $1" >/dev/null 2>&1
		cat "$W/rss"
	else
		echo "n/a"
	fi
}

# process forks (threads excluded) made by a command
forks_cmd() {
	if have strace; then
		strace -f -qq -e trace=fork,vfork,clone,clone3 -o "$W/st" sh -c "exec $1" >/dev/null 2>&1
		grep -E "(fork|clone3?)\(" "$W/st" | grep -vc "CLONE_THREAD"
	else
		echo "n/a"
	fi
}

{
	echo "ferry render benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -m), $(nproc) cpu)"
	echo "ferry: $FERRY; kubectl: $($KUBECTL version --client 2>/dev/null | tr '\n' ' ')"
	echo "timing: $(have hyperfine && echo "hyperfine -N, $RUNS runs, 1 warmup" || echo "date +%s%N loop, $RUNS runs")"
	echo
	printf "%-10s %-9s %10s %10s %8s %10s %6s %10s %10s\n" source resources ferry_s kubectl_s ratio identical forks ferry_kb kubectl_kb
} > "$OUT"

prev_k=""
for n in $SIZES; do
	d="$W/in-$n"
	gen "$d" "$n"
	nres=$(( (n / 3 < 1 ? 1 : n / 3) * 3 ))
	fk="$FERRY render $d --path overlay"
	kk="$KUBECTL kustomize $d/overlay"
	$fk > "$W/f.yaml" 2> "$W/f.err" || { echo "bench: render: ferry failed at $n:"; cat "$W/f.err"; }
	tf=$(time_cmd "$fk")
	rf=$(rss_cmd "$fk")
	forks=$(forks_cmd "$fk")
	if [ $have_kubectl = 1 ]; then
		$kk > "$W/k.yaml" 2>/dev/null
		tk=$(time_cmd "$kk")
		rk=$(rss_cmd "$kk")
		same=no
		cmp -s "$W/f.yaml" "$W/k.yaml" && same=yes
		ratio=$(awk -v a="$tf" -v b="$tk" 'BEGIN { printf "%.3f", a / b }')
	else
		tk=n/a rk=n/a same=n/a ratio=n/a
	fi
	printf "%-10s %-9s %10s %10s %8s %10s %6s %10s %10s\n" kustomize "$((nres + 1))" "$tf" "$tk" "$ratio" "$same" "$forks" "$rf" "$rk" >> "$OUT"
	eval "tk_$n=$tf"
	fd="$FERRY render $d --path plain"
	td=$(time_cmd "$fd")
	rd=$(rss_cmd "$fd")
	forksd=$(forks_cmd "$fd")
	printf "%-10s %-9s %10s %10s %8s %10s %6s %10s %10s\n" directory "$nres" "$td" - - - "$forksd" "$rd" - >> "$OUT"
	prev_k=$tf
done

{
	echo
	t1=$(eval "echo \${tk_1000:-}") t4=$(eval "echo \${tk_4000:-}")
	if [ -n "$t1" ] && [ -n "$t4" ]; then
		awk -v a="$t1" -v b="$t4" 'BEGIN { printf "kustomize growth 1,000 -> 4,000 resources: %.2fx (target <= 4.5x)\n", b / a }'
	fi
	echo "targets: ratio <= 0.1 at 1,000 resources; zero forks for directory and kustomize sources; identical output"
} >> "$OUT"
: "$prev_k"
cat "$OUT"
