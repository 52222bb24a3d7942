#!/bin/sh
# run.sh - ferry's benchmarks (not tests): `make bench` runs this after
# building build/ferry. Each benchmark has its own clearly separated
# section below; append new ones at the end, POSIX sh only.
# Environment: FERRY (binary under test, default build/ferry),
# BENCH_BUILD (where bench programs are built, default build/bench).
set -u
cd "$(dirname "$0")/.."
FERRY=${FERRY:-build/ferry}
BENCH_BUILD=${BENCH_BUILD:-build/bench}
mkdir -p "$BENCH_BUILD" bench/results

# ---------------------------------------------------------------------------
# apiserver: `ferry kube` writes/s, mutating-call latency, watch delivery
# latency with 100 watchers, RSS at 20,000 objects (bench/apibench.c).
# Results: bench/results/apiserver.txt. Knobs: APIBENCH_OBJECTS,
# APIBENCH_CLIENTS, APIBENCH_WATCHERS, APIBENCH_ARGS (extra flags).
# ---------------------------------------------------------------------------
if cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wshadow -Wvla -Wstrict-prototypes \
	-o "$BENCH_BUILD/apibench" bench/apibench.c -lcurl -ljansson -lpthread; then
	echo "== bench: apiserver"
	# shellcheck disable=SC2086 # APIBENCH_ARGS is a list of flags
	"$BENCH_BUILD/apibench" --ferry "$FERRY" \
		--objects "${APIBENCH_OBJECTS:-20000}" --clients "${APIBENCH_CLIENTS:-4}" \
		--watchers "${APIBENCH_WATCHERS:-100}" --watch-events 200 \
		--out bench/results/apiserver.txt ${APIBENCH_ARGS:-} || echo "bench: apiserver: apibench failed"
else
	echo "bench: apiserver: could not build bench/apibench.c"
fi
# --- end of apiserver section ----------------------------------------------

# ---------------------------------------------------------------------------
# render: `ferry render` vs `kubectl kustomize` on generated kustomize and
# directory inputs of 20, 1,000 and 4,000 resources: wall-time ratio,
# growth, byte-identical output, process forks, peak RSS
# (bench/render-bench.sh). Results: bench/results/render.txt. Knobs:
# RENDER_BENCH_SIZES, RENDER_BENCH_RUNS, KUBECTL.
# ---------------------------------------------------------------------------
echo "== bench: render"
FERRY="$FERRY" sh bench/render-bench.sh || echo "bench: render: render-bench.sh failed"
# --- end of render section -------------------------------------------------

# ---------------------------------------------------------------------------
# controller: `ferry controller` against a fresh `ferry kube` with 1,000
# Applications x 20 resources from one file:// git repository: cold sync
# objects/s, API writes per app sync, no-op full refresh (time, writes,
# renders), controller peak RSS, selfHeal drift p50/p99
# (bench/ctrlbench.sh). Results: bench/results/controller.txt. Knobs:
# CTRLBENCH_SIZES (default "10 100 1000"), CTRLBENCH_RES, CTRLBENCH_HEAL,
# CTRLBENCH_TIMEOUT, CTRLBENCH_SIMULATOR, KUBECTL.
# ---------------------------------------------------------------------------
echo "== bench: controller"
FERRY="$FERRY" sh bench/ctrlbench.sh || echo "bench: controller: ctrlbench.sh failed"
# --- end of controller section ---------------------------------------------

# ---------------------------------------------------------------------------
# webhooks: POST /api/webhook reply latency (GitHub push, signed with
# X-Hub-Signature-256) with 1,000 Applications over 4 repositories, p50/p99
# (target p99 <= 50 ms); webhook-to-Synced for one changed app over 10
# rounds (target p50 <= 1 s), against `ferry up` (bench/webhook-bench.sh).
# Results: bench/results/webhook.txt. Knobs: WEBHOOK_APPS, WEBHOOK_MISS,
# WEBHOOK_HIT, WEBHOOK_ROUNDS, KUBECTL.
# ---------------------------------------------------------------------------
echo "== bench: webhooks"
FERRY="$FERRY" sh bench/webhook-bench.sh || echo "bench: webhooks: webhook-bench.sh failed"
# --- end of webhooks section -----------------------------------------------
