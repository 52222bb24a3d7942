/*
 * builtin.c - the health checks Argo CD implements in Go (gitops-engine
 * pkg/health), rewritten in C from their documented behaviour; see health.h.
 *
 * Field access mimics Kubernetes' typed conversion: an absent or null field
 * reads as its zero value, a field of the wrong JSON type fails the whole
 * check ("failed to convert unstructured <Kind> to typed: ...").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "health/health.h"
#include "health/internal.h"
#include "util/buf.h"
#include "util/xalloc.h"

struct conv {
	const char *kind;	/* for the error message */
	int bad;
	char err[300];
};

static void conv_fail(struct conv *cv, const char *path, const char *want, const json_t *v)
{
	static const char *const names[] = { "object", "array", "string", "integer", "number",
					     "boolean", "boolean", "null" };
	if (cv->bad)
		return;
	cv->bad = 1;
	snprintf(cv->err, sizeof(cv->err), "field %s: expected %s, got %s", path, want,
		 names[json_typeof(v)]);
}

/* Walk a dotted path; NULL when absent or null. Non-object intermediates fail. */
static const json_t *walk(struct conv *cv, const json_t *o, const char *path)
{
	char seg[128];
	const char *p = path;
	while (o && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, p, n);
		seg[n] = 0;
		if (json_is_null(o))
			return NULL;
		if (!json_is_object(o)) {
			if (cv)
				conv_fail(cv, path, "object", o);
			return NULL;
		}
		o = json_object_get(o, seg);
		p = dot ? dot + 1 : p + n;
	}
	return json_is_null(o) ? NULL : o;
}

static long long get_int(struct conv *cv, const json_t *o, const char *path, int *present)
{
	const json_t *v = walk(cv, o, path);
	if (present)
		*present = 0;
	if (!v)
		return 0;
	if (json_is_integer(v)) {
		if (present)
			*present = 1;
		return json_integer_value(v);
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d == (double)(long long)d && d > -9.2e18 && d < 9.2e18) {
			if (present)
				*present = 1;
			return (long long)d;
		}
	}
	conv_fail(cv, path, "integer", v);
	return 0;
}

static const char *get_str(struct conv *cv, const json_t *o, const char *path)
{
	const json_t *v = walk(cv, o, path);
	if (!v)
		return "";
	if (!json_is_string(v)) {
		conv_fail(cv, path, "string", v);
		return "";
	}
	return json_string_value(v);
}

static int get_bool(struct conv *cv, const json_t *o, const char *path)
{
	const json_t *v = walk(cv, o, path);
	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		conv_fail(cv, path, "boolean", v);
		return 0;
	}
	return json_is_true(v);
}

/* An array field; NULL if absent. Elements that are not objects fail. */
static const json_t *get_objs(struct conv *cv, const json_t *o, const char *path)
{
	const json_t *v = walk(cv, o, path), *e;
	size_t i;
	if (!v)
		return NULL;
	if (!json_is_array(v)) {
		conv_fail(cv, path, "array", v);
		return NULL;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_object(e) && !json_is_null(e)) {
			conv_fail(cv, path, "array of objects", e);
			return NULL;
		}
	}
	return v;
}

static const char *estr(const json_t *e, const char *key)
{
	const json_t *v = json_is_object(e) ? json_object_get(e, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : "";
}

/* Type-check the usual condition fields of an array of conditions. */
static const json_t *get_conditions(struct conv *cv, const json_t *o, const char *path)
{
	const json_t *arr = get_objs(cv, o, path), *e;
	static const char *const keys[] = { "type", "status", "reason", "message" };
	size_t i;
	json_array_foreach(arr, i, e) {
		for (size_t k = 0; k < 4; k++) {
			const json_t *v = json_is_object(e) ? json_object_get(e, keys[k]) : NULL;
			if (v && !json_is_null(v) && !json_is_string(v)) {
				conv_fail(cv, path, "string condition fields", v);
				return NULL;
			}
		}
	}
	return arr;
}

static const json_t *find_condition(const json_t *conds, const char *type)
{
	const json_t *e;
	size_t i;
	json_array_foreach(conds, i, e) {
		if (!strcmp(estr(e, "type"), type))
			return e;
	}
	return NULL;
}

static void sethf(struct fy_health *out, enum fy_health_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void sethf(struct fy_health *out, enum fy_health_status st, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	if (!m)
		m = fy_xstrdup("");
	free(out->message);
	out->status = st;
	out->message = m;
}

/* Go's %q for the ASCII names Kubernetes allows; escapes the rest simply. */
static const char *quote(char *buf, size_t n, const char *s)
{
	size_t j = 0;
	if (n < 4)
		return "";
	buf[j++] = '"';
	for (; *s && j + 5 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[j++] = '\\';
			buf[j++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			j += (size_t)snprintf(buf + j, n - j, "\\x%02x", c);
		} else {
			buf[j++] = (char)c;
		}
	}
	buf[j++] = '"';
	buf[j] = 0;
	return buf;
}

/* ------------------------------------------------------------------ checks */

static void deployment(struct conv *cv, const json_t *o, struct fy_health *out)
{
	int has_replicas;
	char q[300];
	int paused = get_bool(cv, o, "spec.paused");
	long long gen = get_int(cv, o, "metadata.generation", NULL);
	long long ogen = get_int(cv, o, "status.observedGeneration", NULL);
	long long replicas = get_int(cv, o, "spec.replicas", &has_replicas);
	long long updated = get_int(cv, o, "status.updatedReplicas", NULL);
	long long sreplicas = get_int(cv, o, "status.replicas", NULL);
	long long available = get_int(cv, o, "status.availableReplicas", NULL);
	const json_t *conds = get_conditions(cv, o, "status.conditions");
	const char *name = get_str(cv, o, "metadata.name");
	if (cv->bad)
		return;
	if (paused) {
		sethf(out, FY_HEALTH_SUSPENDED, "Deployment is paused");
		return;
	}
	if (gen > ogen) {
		sethf(out, FY_HEALTH_PROGRESSING,
		      "Waiting for rollout to finish: observed deployment generation less than desired generation");
		return;
	}
	const json_t *c = find_condition(conds, "Progressing");
	if (c && !strcmp(estr(c, "reason"), "ProgressDeadlineExceeded"))
		sethf(out, FY_HEALTH_DEGRADED, "Deployment %s exceeded its progress deadline",
		      quote(q, sizeof(q), name));
	else if (has_replicas && updated < replicas)
		sethf(out, FY_HEALTH_PROGRESSING,
		      "Waiting for rollout to finish: %lld out of %lld new replicas have been updated...",
		      updated, replicas);
	else if (sreplicas > updated)
		sethf(out, FY_HEALTH_PROGRESSING,
		      "Waiting for rollout to finish: %lld old replicas are pending termination...",
		      sreplicas - updated);
	else if (available < updated)
		sethf(out, FY_HEALTH_PROGRESSING,
		      "Waiting for rollout to finish: %lld of %lld updated replicas are available...",
		      available, updated);
	else
		sethf(out, FY_HEALTH_HEALTHY, "%s", "");
}

static void statefulset(struct conv *cv, const json_t *o, struct fy_health *out)
{
	int has_replicas, has_partition;
	long long gen = get_int(cv, o, "metadata.generation", NULL);
	long long ogen = get_int(cv, o, "status.observedGeneration", NULL);
	long long replicas = get_int(cv, o, "spec.replicas", &has_replicas);
	long long ready = get_int(cv, o, "status.readyReplicas", NULL);
	long long updated = get_int(cv, o, "status.updatedReplicas", NULL);
	long long current = get_int(cv, o, "status.currentReplicas", NULL);
	const char *type = get_str(cv, o, "spec.updateStrategy.type");
	const json_t *ru = walk(cv, o, "spec.updateStrategy.rollingUpdate");
	long long partition = get_int(cv, o, "spec.updateStrategy.rollingUpdate.partition", &has_partition);
	const char *urev = get_str(cv, o, "status.updateRevision");
	const char *crev = get_str(cv, o, "status.currentRevision");
	if (cv->bad)
		return;
	if (ogen == 0 || gen > ogen) {
		sethf(out, FY_HEALTH_PROGRESSING, "Waiting for statefulset spec update to be observed...");
		return;
	}
	if (has_replicas && ready < replicas) {
		sethf(out, FY_HEALTH_PROGRESSING, "Waiting for %lld pods to be ready...", replicas - ready);
		return;
	}
	if (!strcmp(type, "RollingUpdate") && ru) {
		if (has_replicas && has_partition && updated < replicas - partition) {
			sethf(out, FY_HEALTH_PROGRESSING,
			      "Waiting for partitioned roll out to finish: %lld out of %lld new pods have been updated...",
			      updated, replicas - partition);
			return;
		}
		sethf(out, FY_HEALTH_HEALTHY, "partitioned roll out complete: %lld new pods have been updated...",
		      updated);
		return;
	}
	if (!strcmp(type, "OnDelete")) {
		sethf(out, FY_HEALTH_HEALTHY, "statefulset has %lld ready pods", ready);
		return;
	}
	if (strcmp(urev, crev)) {
		sethf(out, FY_HEALTH_PROGRESSING,
		      "waiting for statefulset rolling update to complete %lld pods at revision %s...", updated, urev);
		return;
	}
	sethf(out, FY_HEALTH_HEALTHY, "statefulset rolling update complete %lld pods at revision %s...", current,
	      crev);
}

static void daemonset(struct conv *cv, const json_t *o, struct fy_health *out)
{
	char q[300];
	long long gen = get_int(cv, o, "metadata.generation", NULL);
	long long ogen = get_int(cv, o, "status.observedGeneration", NULL);
	long long upd = get_int(cv, o, "status.updatedNumberScheduled", NULL);
	long long desired = get_int(cv, o, "status.desiredNumberScheduled", NULL);
	long long avail = get_int(cv, o, "status.numberAvailable", NULL);
	const char *type = get_str(cv, o, "spec.updateStrategy.type");
	const char *name = get_str(cv, o, "metadata.name");
	if (cv->bad)
		return;
	if (gen > ogen)
		sethf(out, FY_HEALTH_PROGRESSING,
		      "Waiting for rollout to finish: observed daemon set generation less than desired generation");
	else if (!strcmp(type, "OnDelete"))
		sethf(out, FY_HEALTH_HEALTHY, "daemon set %lld out of %lld new pods have been updated", upd, desired);
	else if (upd < desired)
		sethf(out, FY_HEALTH_PROGRESSING,
		      "Waiting for daemon set %s rollout to finish: %lld out of %lld new pods have been updated...",
		      quote(q, sizeof(q), name), upd, desired);
	else if (avail < desired)
		sethf(out, FY_HEALTH_PROGRESSING,
		      "Waiting for daemon set %s rollout to finish: %lld of %lld updated pods are available...",
		      quote(q, sizeof(q), name), avail, desired);
	else
		sethf(out, FY_HEALTH_HEALTHY, "%s", "");
}

static void replicaset(struct conv *cv, const json_t *o, struct fy_health *out)
{
	int has_replicas;
	long long gen = get_int(cv, o, "metadata.generation", NULL);
	long long ogen = get_int(cv, o, "status.observedGeneration", NULL);
	long long replicas = get_int(cv, o, "spec.replicas", &has_replicas);
	long long avail = get_int(cv, o, "status.availableReplicas", NULL);
	const json_t *conds = get_conditions(cv, o, "status.conditions");
	if (cv->bad)
		return;
	if (gen > ogen) {
		sethf(out, FY_HEALTH_PROGRESSING,
		      "Waiting for rollout to finish: observed replica set generation less than desired generation");
		return;
	}
	const json_t *c = find_condition(conds, "ReplicaFailure");
	if (c && !strcmp(estr(c, "status"), "True"))
		sethf(out, FY_HEALTH_DEGRADED, "%s", estr(c, "message"));
	else if (has_replicas && avail < replicas)
		sethf(out, FY_HEALTH_PROGRESSING,
		      "Waiting for rollout to finish: %lld out of %lld new replicas are available...", avail, replicas);
	else
		sethf(out, FY_HEALTH_HEALTHY, "%s", "");
}

static int has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

static int has_suffix(const char *s, const char *x)
{
	size_t n = strlen(s), m = strlen(x);
	return n >= m && !strcmp(s + n - m, x);
}

static const char *annotation(const json_t *obj, const char *key, int *present)
{
	const json_t *a = json_object_get(json_object_get(obj, "metadata"), "annotations");
	const json_t *v = json_is_object(a) ? json_object_get(a, key) : NULL;
	if (present)
		*present = v != NULL && json_is_string(v);
	return json_is_string(v) ? json_string_value(v) : "";
}

static void pod(struct conv *cv, const json_t *o, struct fy_health *out)
{
	const char *policy = get_str(cv, o, "spec.restartPolicy");
	const char *phase = get_str(cv, o, "status.phase");
	const char *smsg = get_str(cv, o, "status.message");
	const json_t *cs = get_objs(cv, o, "status.containerStatuses");
	const json_t *ics = get_objs(cv, o, "status.initContainerStatuses");
	const json_t *conds = get_conditions(cv, o, "status.conditions");
	const json_t *e;
	size_t i;
	json_array_foreach(cs, i, e) {
		get_str(cv, e, "name");
		get_str(cv, e, "state.waiting.reason");
		get_str(cv, e, "state.waiting.message");
		get_str(cv, e, "state.terminated.reason");
		get_str(cv, e, "state.terminated.message");
		get_int(cv, e, "state.terminated.exitCode", NULL);
		walk(cv, e, "lastState.terminated");
	}
	json_array_foreach(ics, i, e) {
		get_str(cv, e, "name");
		get_str(cv, e, "state.terminated.reason");
		get_str(cv, e, "state.terminated.message");
		get_int(cv, e, "state.terminated.exitCode", NULL);
	}
	if (cv->bad)
		return;
	int ignore_policy = !strcmp(annotation(o, "argocd.argoproj.io/ignore-restart-policy", NULL), "true");
	int always = !strcmp(policy, "Always") || (ignore_policy && !fy_health_is_hook(o));

	if (always) {
		struct fy_buf msgs;
		int degraded = 0;
		fy_buf_init(&msgs, 0);
		json_array_foreach(cs, i, e) {
			if (!walk(NULL, e, "state.waiting"))
				continue;
			const char *r = get_str(cv, e, "state.waiting.reason");
			if (has_prefix(r, "Err") || has_suffix(r, "Error") || has_suffix(r, "BackOff")) {
				if (degraded)
					fy_buf_adds(&msgs, ", ");
				fy_buf_adds(&msgs, get_str(cv, e, "state.waiting.message"));
				degraded = 1;
			}
		}
		if (degraded) {
			sethf(out, FY_HEALTH_DEGRADED, "%s", msgs.buf);
			fy_buf_release(&msgs);
			return;
		}
		fy_buf_release(&msgs);
	}
	if (!strcmp(phase, "Pending")) {
		sethf(out, FY_HEALTH_PROGRESSING, "%s", smsg);
	} else if (!strcmp(phase, "Succeeded")) {
		sethf(out, FY_HEALTH_HEALTHY, "%s", smsg);
	} else if (!strcmp(phase, "Failed")) {
		if (*smsg) {
			sethf(out, FY_HEALTH_DEGRADED, "%s", smsg);
			return;
		}
		for (int pass = 0; pass < 2; pass++) {
			json_array_foreach(pass ? cs : ics, i, e) {
				if (!walk(NULL, e, "state.terminated"))
					continue;
				const char *m = get_str(cv, e, "state.terminated.message");
				const char *r = get_str(cv, e, "state.terminated.reason");
				long long code = get_int(cv, e, "state.terminated.exitCode", NULL);
				char q[300];
				if (*m) {
					sethf(out, FY_HEALTH_DEGRADED, "%s", m);
					return;
				}
				if (!strcmp(r, "OOMKilled")) {
					sethf(out, FY_HEALTH_DEGRADED, "%s", r);
					return;
				}
				if (code) {
					sethf(out, FY_HEALTH_DEGRADED, "container %s failed with exit code %lld",
					      quote(q, sizeof(q), get_str(cv, e, "name")), code);
					return;
				}
			}
		}
		sethf(out, FY_HEALTH_DEGRADED, "%s", "");
	} else if (!strcmp(phase, "Running")) {
		if (always) {
			const json_t *rc = find_condition(conds, "Ready");
			if (rc && !strcmp(estr(rc, "status"), "True")) {
				sethf(out, FY_HEALTH_HEALTHY, "%s", smsg);
				return;
			}
			json_array_foreach(cs, i, e) {
				if (walk(NULL, e, "lastState.terminated")) {
					sethf(out, FY_HEALTH_DEGRADED, "%s", smsg);
					return;
				}
			}
			sethf(out, FY_HEALTH_PROGRESSING, "%s", smsg);
		} else if (!strcmp(policy, "OnFailure") || !strcmp(policy, "Never")) {
			sethf(out, FY_HEALTH_PROGRESSING, "%s", smsg);
		} else {
			sethf(out, FY_HEALTH_UNKNOWN, "%s", smsg);
		}
	} else {
		sethf(out, FY_HEALTH_UNKNOWN, "%s", smsg);
	}
}

static void service(struct conv *cv, const json_t *o, struct fy_health *out)
{
	const char *type = get_str(cv, o, "spec.type");
	const json_t *ing = get_objs(cv, o, "status.loadBalancer.ingress");
	if (cv->bad)
		return;
	if (!strcmp(type, "LoadBalancer") && json_array_size(ing) == 0)
		sethf(out, FY_HEALTH_PROGRESSING, "%s", "");
	else
		sethf(out, FY_HEALTH_HEALTHY, "%s", "");
}

static void ingress(struct conv *cv, const json_t *o, struct fy_health *out)
{
	/* unstructured.NestedSlice: a wrong type simply reads as empty */
	const json_t *ing = walk(NULL, o, "status.loadBalancer.ingress");
	(void)cv;
	if (json_is_array(ing) && json_array_size(ing) > 0)
		sethf(out, FY_HEALTH_HEALTHY, "%s", "");
	else
		sethf(out, FY_HEALTH_PROGRESSING, "%s", "");
}

static void pvc(struct conv *cv, const json_t *o, struct fy_health *out)
{
	const char *phase = get_str(cv, o, "status.phase");
	if (cv->bad)
		return;
	if (!strcmp(phase, "Lost"))
		sethf(out, FY_HEALTH_DEGRADED, "%s", "");
	else if (!strcmp(phase, "Pending"))
		sethf(out, FY_HEALTH_PROGRESSING, "%s", "");
	else if (!strcmp(phase, "Bound"))
		sethf(out, FY_HEALTH_HEALTHY, "%s", "");
	else
		sethf(out, FY_HEALTH_UNKNOWN, "%s", "");
}

static void job(struct conv *cv, const json_t *o, struct fy_health *out)
{
	const json_t *conds = get_conditions(cv, o, "status.conditions"), *c;
	int failed = 0, complete = 0, suspended = 0;
	const char *failmsg = "", *msg = "";
	size_t i;
	if (cv->bad)
		return;
	json_array_foreach(conds, i, c) {
		const char *t = estr(c, "type");
		if (!strcmp(t, "Failed")) {
			failed = complete = 1;
			failmsg = estr(c, "message");
		} else if (!strcmp(t, "Complete")) {
			complete = 1;
			msg = estr(c, "message");
		} else if (!strcmp(t, "Suspended")) {
			complete = 1;
			msg = estr(c, "message");
			if (!strcmp(estr(c, "status"), "True"))
				suspended = 1;
		}
	}
	if (!complete)
		sethf(out, FY_HEALTH_PROGRESSING, "%s", msg);
	else if (failed)
		sethf(out, FY_HEALTH_DEGRADED, "%s", failmsg);
	else if (suspended)
		sethf(out, FY_HEALTH_SUSPENDED, "%s", msg);
	else
		sethf(out, FY_HEALTH_HEALTHY, "%s", msg);
}

/* encoding/json matches struct fields case-insensitively */
static const char *ci_str(const json_t *e, const char *key)
{
	const char *k;
	const json_t *v;
	if (!json_is_object(e))
		return "";
	v = json_object_get(e, key);
	if (json_is_string(v))
		return json_string_value(v);
	json_object_foreach((json_t *)e, k, v) {
		if (!strcasecmp(k, key) && json_is_string(v))
			return json_string_value(v);
	}
	return "";
}

static int hpa_degraded(const char *type, const char *reason)
{
	static const char *const sa[] = { "FailedGetResourceMetric", "FailedGetObjectMetric",
					  "FailedGetPodsMetric", "FailedGetExternalMetric",
					  "FailedComputeMetricsReplicas", "InvalidSelector" };
	if (!strcmp(type, "AbleToScale"))
		return !strcmp(reason, "FailedGetScale") || !strcmp(reason, "FailedUpdateScale");
	if (!strcmp(type, "ScalingActive")) {
		for (size_t i = 0; i < sizeof(sa) / sizeof(sa[0]); i++)
			if (!strcmp(reason, sa[i]))
				return 1;
	}
	return 0;
}

static void hpa_conditions(const json_t *conds, struct fy_health *out)
{
	const json_t *c;
	size_t i;
	json_array_foreach(conds, i, c) {
		if (hpa_degraded(ci_str(c, "type"), ci_str(c, "reason"))) {
			sethf(out, FY_HEALTH_DEGRADED, "%s", ci_str(c, "message"));
			return;
		}
	}
	json_array_foreach(conds, i, c) {
		const char *t = ci_str(c, "type");
		if ((!strcmp(t, "AbleToScale") || !strcmp(t, "ScalingLimited")) &&
		    !strcmp(ci_str(c, "status"), "True")) {
			sethf(out, FY_HEALTH_HEALTHY, "%s", ci_str(c, "message"));
			return;
		}
	}
	sethf(out, FY_HEALTH_PROGRESSING, "Waiting to Autoscale");
}

static int hpa(struct conv *cv, const json_t *o, const char *version, struct fy_health *out,
	       struct fy_err *err)
{
	if (!strcmp(version, "v1")) {
		int present;
		const char *a = annotation(o, "autoscaling.alpha.kubernetes.io/conditions", &present);
		json_error_t je;
		json_t *conds;
		const json_t *c;
		size_t i;
		if (!present) {
			sethf(out, FY_HEALTH_PROGRESSING, "Waiting to Autoscale");
			return 0;
		}
		conds = json_loads(a, JSON_DECODE_ANY, &je);
		if (!conds || (!json_is_array(conds) && !json_is_null(conds))) {
			json_decref(conds);
			return fy_err_set(err, FY_EINVALID,
					  "failed to convert conditions annotation to typed: %s",
					  conds ? "json: cannot unmarshal into []hpaCondition" : je.text);
		}
		json_array_foreach(conds, i, c) {
			if (!json_is_object(c) && !json_is_null(c)) {
				json_decref(conds);
				return fy_err_set(err, FY_EINVALID,
						  "failed to convert conditions annotation to typed: %s",
						  "json: cannot unmarshal into hpaCondition");
			}
		}
		hpa_conditions(conds, out);
		json_decref(conds);
		return 0;
	}
	const json_t *conds = get_conditions(cv, o, "status.conditions");
	if (cv->bad)
		return 0;
	hpa_conditions(conds, out);
	return 0;
}

static void apiservice(struct conv *cv, const json_t *o, struct fy_health *out)
{
	const json_t *conds = get_conditions(cv, o, "status.conditions"), *c;
	size_t i;
	if (cv->bad)
		return;
	json_array_foreach(conds, i, c) {
		if (strcmp(estr(c, "type"), "Available"))
			continue;
		sethf(out, !strcmp(estr(c, "status"), "True") ? FY_HEALTH_HEALTHY : FY_HEALTH_PROGRESSING,
		      "%s: %s", estr(c, "reason"), estr(c, "message"));
		return;
	}
	sethf(out, FY_HEALTH_PROGRESSING, "Waiting to be processed");
}

static void workflow(const json_t *o, struct fy_health *out)
{
	const json_t *p = walk(NULL, o, "status.phase"), *m = walk(NULL, o, "status.message");
	const char *phase = json_is_string(p) ? json_string_value(p) : "";
	const char *msg = json_is_string(m) ? json_string_value(m) : "";
	enum fy_health_status st = FY_HEALTH_UNKNOWN;
	if (!*phase || !strcmp(phase, "Pending") || !strcmp(phase, "Running"))
		st = FY_HEALTH_PROGRESSING;
	else if (!strcmp(phase, "Succeeded"))
		st = FY_HEALTH_HEALTHY;
	else if (!strcmp(phase, "Failed") || !strcmp(phase, "Error"))
		st = FY_HEALTH_DEGRADED;
	sethf(out, st, "%s", msg);
}

/* ------------------------------------------------------------------ dispatch */

enum check { C_NONE, C_DEPLOY, C_STS, C_DS, C_RS, C_POD, C_SVC, C_ING, C_PVC, C_JOB, C_HPA, C_APISVC, C_WF };

static const struct {
	const char *group, *kind, *name;	/* name: in error messages */
	enum check c;
	const char *versions;	/* supported versions, space separated; NULL = any */
} table[] = {
	{ "apps", "Deployment", "Deployment", C_DEPLOY, "v1" },
	{ "apps", "StatefulSet", "StatefulSet", C_STS, "v1" },
	{ "apps", "ReplicaSet", "ReplicaSet", C_RS, "v1" },
	{ "apps", "DaemonSet", "DaemonSet", C_DS, "v1" },
	{ "extensions", "Ingress", "Ingress", C_ING, NULL },
	{ "networking.k8s.io", "Ingress", "Ingress", C_ING, NULL },
	{ "argoproj.io", "Workflow", "Workflow", C_WF, NULL },
	{ "apiregistration.k8s.io", "APIService", "APIService", C_APISVC, "v1 v1beta1" },
	{ "", "Service", "Service", C_SVC, "v1" },
	{ "", "PersistentVolumeClaim", "PersistentVolumeClaim", C_PVC, "v1" },
	{ "", "Pod", "Pod", C_POD, "v1" },
	{ "batch", "Job", "Job", C_JOB, "v1" },
	{ "autoscaling", "HorizontalPodAutoscaler", "HPA", C_HPA, "v1 v2 v2beta1 v2beta2" },
};

static int version_ok(const char *list, const char *v)
{
	size_t n = strlen(v);
	const char *p = list;
	if (!list)
		return 1;
	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t m = sp ? (size_t)(sp - p) : strlen(p);
		if (m == n && !strncmp(p, v, n))
			return 1;
		p += m;
		while (*p == ' ')
			p++;
	}
	return 0;
}

void fy_health_split_api_version(const char *apiv, char *group, size_t gn, char *version, size_t vn)
{
	const char *slash = strrchr(apiv, '/');
	if (slash) {
		size_t l = (size_t)(slash - apiv);
		if (l >= gn)
			l = gn - 1;
		memcpy(group, apiv, l);
		group[l] = 0;
		snprintf(version, vn, "%s", slash + 1);
	} else {
		group[0] = 0;
		snprintf(version, vn, "%s", apiv);
	}
}

int fy_health_builtin(const json_t *obj, struct fy_health *out, struct fy_err *errp)
{
	struct fy_err le, *err = &le;

	fy_err_clear(&le);
	char group[256], version[128];
	const json_t *av = json_object_get(obj, "apiVersion"), *kv = json_object_get(obj, "kind");
	const char *kind = json_is_string(kv) ? json_string_value(kv) : "";
	struct conv cv = { NULL, 0, { 0 } };
	int rc = 0;

	out->status = FY_HEALTH_NONE;
	out->message = NULL;
	if (!json_is_object(obj))
		return fy_err_set(errp, FY_EBADREQUEST, "object is not a JSON object");
	fy_health_split_api_version(json_is_string(av) ? json_string_value(av) : "", group, sizeof(group),
				    version, sizeof(version));
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(table[i].group, group) || strcmp(table[i].kind, kind))
			continue;
		if (!version_ok(table[i].versions, version)) {
			rc = fy_err_set(err, FY_EINVALID, "unsupported %s GVK: %s/%s, Kind=%s", table[i].name, group,
					version, kind);
			goto out;
		}
		cv.kind = table[i].name;
		switch (table[i].c) {
		case C_DEPLOY: deployment(&cv, obj, out); break;
		case C_STS: statefulset(&cv, obj, out); break;
		case C_DS: daemonset(&cv, obj, out); break;
		case C_RS: replicaset(&cv, obj, out); break;
		case C_POD: pod(&cv, obj, out); break;
		case C_SVC: service(&cv, obj, out); break;
		case C_ING: ingress(&cv, obj, out); break;
		case C_PVC: pvc(&cv, obj, out); break;
		case C_JOB: job(&cv, obj, out); break;
		case C_HPA: rc = hpa(&cv, obj, version, out, err); break;
		case C_APISVC: apiservice(&cv, obj, out); break;
		case C_WF: workflow(obj, out); break;
		case C_NONE: break;
		}
		if (cv.bad)
			rc = fy_err_set(err, FY_EINVALID, "failed to convert unstructured %s to typed: %s",
					table[i].name, cv.err);
		break;
	}
out:
	if (rc) {
		fy_health_set(out, FY_HEALTH_UNKNOWN, le.msg);
		if (errp)
			*errp = le;
	} else if (out->status != FY_HEALTH_NONE && !out->message) {
		out->message = fy_xstrdup("");
	}
	return rc;
}
