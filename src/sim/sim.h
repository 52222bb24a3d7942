/*
 * sim.h - the built-in controllers of `ferry kube`: they play
 * kube-controller-manager and the kubelet of one pretend node ("ferry-node")
 * so that resource health behaves as on a real cluster. No container runs.
 *
 * Always on:  garbage collector (ownerReferences, Background / Foreground /
 *             Orphan propagation) and namespace controller (phase Active,
 *             Terminating namespaces are emptied, then finalized).
 * Switchable: workloads (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
 *             CronJob (timer per CronJob), Endpoints and EndpointSlices,
 *             Pod lifecycle, Service ClusterIP / LoadBalancer, PVC binding,
 *             Ingress load-balancer status). The failure conventions
 *             (image names containing crashloop / pullerror / fail / slow,
 *             annotations sim.ferry.dev/fate and sim.ferry.dev/startup-delay)
 *             are documented in docs/simulator.md.
 *
 * Every change goes through the registry API (src/apiserver/registry.h) with
 * field managers "kube-controller-manager", "kubelet", "kube-scheduler" and
 * "kube-apiserver"; status is written only when it changes.
 *
 * Threads: fy_sim_start starts one thread that consumes a watch of every
 * kind; fy_sim_stop joins it and frees everything. fy_sim_stop must be
 * called before fy_reg_free.
 *
 * The pure helpers below (no registry, no clock) are what the controllers
 * compute; they are exposed for unit tests. Ownership: json_t parameters are
 * borrowed, returned json_t are new references, returned char* are
 * malloc'd (free()).
 */
#ifndef FY_SIM_H
#define FY_SIM_H

#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include "util/cron.h"
#include "util/err.h"

struct fy_reg;
struct fy_sim;

#define FY_SIM_DEFAULT_STARTUP_MS 200
#define FY_SIM_NODE "ferry-node"
#define FY_SIM_NODE_IP "172.18.0.2"

struct fy_sim_opts {
	int workloads;        /* 1: run the workload simulator */
	int startup_delay_ms; /* time a pod takes to start; 0: FY_SIM_DEFAULT_STARTUP_MS, <0: immediately */
};

int fy_sim_start(struct fy_sim **out, struct fy_reg *reg, const struct fy_sim_opts *opts, struct fy_err *err);
/* Stop the thread, free everything. NULL is allowed. */
void fy_sim_stop(struct fy_sim *s);

/* ---- pure helpers (exposed for tests) ---- */

/* Fate of a container, from the image-name convention. */
enum fy_sim_fate { FY_SIM_OK = 0, FY_SIM_CRASHLOOP, FY_SIM_PULLERROR, FY_SIM_FAIL };
/* Fate from an image reference ("crashloop", "pullerror", "fail" anywhere, case-insensitive). */
int fy_sim_image_fate(const char *image);
/* Image reference asks for a slow start ("slow" anywhere). */
int fy_sim_image_slow(const char *image);
/*
 * Start-up delay of a pod in ms: the annotation sim.ferry.dev/startup-delay
 * ("1500", "1500ms", "2s", "1m"), else a "slow" image (10x default, at least
 * 10 s), else default_ms.
 */
int fy_sim_pod_delay_ms(const json_t *pod, int default_ms);

/* Kubernetes-style pod-template-hash: FNV-1a of the canonical JSON, encoded. */
char *fy_sim_template_hash(const json_t *tmpl);
/* Encode a number with the [bcdfghjklmnpqrstvwxz2456789] alphabet, digit by digit. */
char *fy_sim_safe_encode(uint32_t v);

/* RFC 3339 UTC timestamp (seconds), and back (-1 on failure). */
void fy_sim_timestamp(time_t t, char out[32]);
time_t fy_sim_parse_time(const char *s);

/* A percent-or-int field (maxSurge "25%", 1) against total; round up or down. */
int fy_sim_int_or_percent(const json_t *v, int total, int round_up, int dflt);

/* Pod is Ready (condition Ready=True) and not being deleted. */
int fy_sim_pod_ready(const json_t *pod);
/* Pod phase is Succeeded or Failed. */
int fy_sim_pod_terminal(const json_t *pod);

/*
 * Pod lifecycle stages: 0 accepted (Pending, ContainerCreating),
 * 1 started (after the start-up delay), 2 finished (pods whose
 * restartPolicy is not Always, after a second delay).
 */
struct fy_sim_podenv {
	int stage;
	int restarts;         /* crash-looping containers: restartCount */
	const char *pod_ip;   /* used when the pod has none yet */
	time_t now;
};
/* The status the kubelet would write for pod at this stage. Timestamps of unchanged parts are kept. */
json_t *fy_sim_pod_status(const json_t *pod, const struct fy_sim_podenv *env);

/*
 * Pods that count as available: Ready, not terminating, and Ready for at
 * least min_ready seconds (the Ready condition's lastTransitionTime).
 * *recheck_s (may be NULL) is set to the seconds until the next Ready pod
 * becomes available (-1: none waiting).
 */
long fy_sim_pods_available(json_t *const *pods, size_t npods, long min_ready, time_t now, long *recheck_s);
/* ReplicaSet status from its (non-deleted) pods; spec.minReadySeconds honoured (see above). */
json_t *fy_sim_rs_status(const json_t *rs, json_t *const *pods, size_t npods, time_t now, long *recheck_s);

enum { FY_SIM_RS_NONE = 0, FY_SIM_RS_CREATED, FY_SIM_RS_FOUND };
/*
 * Deployment status as the deployment controller writes it. rss: every
 * ReplicaSet the deployment owns (new_rs among them, or NULL when none).
 * rs_event says whether new_rs was just created or found. *recheck_s is
 * set to the seconds after which the progress deadline must be checked
 * again (-1: no need).
 */
json_t *fy_sim_deploy_status(const json_t *deploy, json_t *const *rss, size_t nrs, const json_t *new_rs,
			     int rs_event, time_t now, long *recheck_s);
/*
 * Rolling-update plan, one step of the deployment controller: wanted
 * spec.replicas of the new ReplicaSet and of each old one (old sorted
 * newest first). RollingUpdate: the new ReplicaSet grows while the total
 * stays within replicas + maxSurge; when it did not grow, old ReplicaSets
 * shrink (unhealthy pods first, oldest first) while at least
 * replicas - maxUnavailable pods stay available. Recreate: old to 0, then
 * the new one to replicas.
 */
void fy_sim_deploy_plan(const json_t *deploy, const json_t *new_rs, json_t *const *old, size_t nold,
			int *new_want, int *old_want);

/*
 * Job status from its pods. *create is set to the number of pods to start
 * now (0 when complete or failed).
 */
json_t *fy_sim_job_status(const json_t *job, json_t *const *pods, size_t npods, time_t now, int *create);

/* Integer at a dotted path ("spec.replicas"), dflt when absent or not an integer. */
long fy_sim_geti(const json_t *obj, const char *path, long dflt);
/* String at a dotted path, NULL when absent. Borrowed. */
const char *fy_sim_gets(const json_t *obj, const char *path);

#endif
