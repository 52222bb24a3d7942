/*
 * simpure.c - what the simulated controllers compute, without registry or
 * clock: failure conventions, pod-template-hash, pod / ReplicaSet /
 * Deployment / Job status. See sim.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim/sim.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

/* ---- small JSON helpers ---- */

static const json_t *getp(const json_t *obj, const char *path)
{
	char key[128];
	const char *p = path;

	while (obj && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = 0;
		obj = json_object_get(obj, key);
		p += n + (dot ? 1 : 0);
	}
	return obj;
}

long fy_sim_geti(const json_t *obj, const char *path, long dflt)
{
	const json_t *v = getp(obj, path);
	return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

const char *fy_sim_gets(const json_t *obj, const char *path)
{
	return json_string_value(getp(obj, path));
}

static int strcasestr_has(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; hay && *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return 1;
	return 0;
}

/* ---- conventions ---- */

int fy_sim_image_fate(const char *image)
{
	if (!image)
		return FY_SIM_OK;
	if (strcasestr_has(image, "pullerror"))
		return FY_SIM_PULLERROR;
	if (strcasestr_has(image, "crashloop"))
		return FY_SIM_CRASHLOOP;
	if (strcasestr_has(image, "fail"))
		return FY_SIM_FAIL;
	return FY_SIM_OK;
}

int fy_sim_image_slow(const char *image)
{
	return strcasestr_has(image, "slow");
}

static int pod_fate_override(const json_t *pod)
{
	const char *f = json_string_value(json_object_get(json_object_get(json_object_get(pod, "metadata"), "annotations"),
					      "sim.ferry.dev/fate"));
	if (!f)
		return -1;
	if (!strcmp(f, "crashloop"))
		return FY_SIM_CRASHLOOP;
	if (!strcmp(f, "pullerror"))
		return FY_SIM_PULLERROR;
	if (!strcmp(f, "fail"))
		return FY_SIM_FAIL;
	if (!strcmp(f, "ok"))
		return FY_SIM_OK;
	return -1;
}

static int container_fate(const json_t *pod, const json_t *c)
{
	int f = pod_fate_override(pod);
	return f >= 0 ? f : fy_sim_image_fate(json_string_value(json_object_get(c, "image")));
}

int fy_sim_pod_delay_ms(const json_t *pod, int default_ms)
{
	const json_t *ann = json_object_get(json_object_get(pod, "metadata"), "annotations");
	const char *d = json_string_value(json_object_get(ann, "sim.ferry.dev/startup-delay"));
	const json_t *cs = getp(pod, "spec.containers");
	size_t i;
	const json_t *c;

	if (d) {
		long v = fy_parse_duration_ms(d);
		if (v >= 0)
			return (int)v;
	}
	json_array_foreach(cs, i, c) {
		if (fy_sim_image_slow(json_string_value(json_object_get(c, "image")))) {
			long v = (long)default_ms * 10;
			return (int)(v < 10000 ? 10000 : v);
		}
	}
	return default_ms;
}

/* ---- hash ---- */

char *fy_sim_safe_encode(uint32_t v)
{
	static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789";
	char dec[16];
	int n = snprintf(dec, sizeof(dec), "%u", v);
	char *out = fy_xmalloc((size_t)n + 1);

	for (int i = 0; i < n; i++)
		out[i] = alpha[(unsigned char)dec[i] % (sizeof(alpha) - 1)];
	out[n] = 0;
	return out;
}

char *fy_sim_template_hash(const json_t *tmpl)
{
	char *s = json_dumps(tmpl ? tmpl : json_null(), JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	free(s);
	return fy_sim_safe_encode(h);
}

/* ---- time ---- */

void fy_sim_timestamp(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

time_t fy_sim_parse_time(const char *s)
{
	struct tm tm;
	const char *end;

	if (!s)
		return -1;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	if (*end == '.')
		while (isdigit((unsigned char)*++end))
			;
	if (*end != 'Z')
		return -1;
	return timegm(&tm);
}

int fy_sim_int_or_percent(const json_t *v, int total, int round_up, int dflt)
{
	const char *s;
	long pct;
	char *end;

	if (json_is_integer(v))
		return (int)json_integer_value(v);
	s = json_string_value(v);
	if (!s)
		return dflt;
	pct = strtol(s, &end, 10);
	if (end == s || *end != '%' || pct < 0 || pct > 100)
		return dflt;
	if (round_up)
		return (int)((pct * total + 99) / 100);
	return (int)(pct * total / 100);
}

/* ---- conditions ---- */

enum { CS_POD, CS_DEPLOY, CS_JOB };

static json_t *cond_find(const json_t *conds, const char *type)
{
	size_t i;
	json_t *c;
	json_array_foreach(conds, i, c)
		if (!strcmp(json_string_value(json_object_get(c, "type")) ?: "", type))
			return c;
	return NULL;
}

/* A condition object; lastTransitionTime kept from old when status unchanged. */
static json_t *cond_make(const json_t *old_conds, int style, const char *type, const char *status,
			 const char *reason, const char *msg, const char *now)
{
	json_t *old = cond_find(old_conds, type);
	const char *ltt = now;
	json_t *c = json_object();

	if (old && !strcmp(json_string_value(json_object_get(old, "status")) ?: "", status) &&
	    json_string_value(json_object_get(old, "lastTransitionTime")))
		ltt = json_string_value(json_object_get(old, "lastTransitionTime"));
	json_object_set_new(c, "type", json_string(type));
	json_object_set_new(c, "status", json_string(status));
	if (reason)
		json_object_set_new(c, "reason", json_string(reason));
	if (msg)
		json_object_set_new(c, "message", json_string(msg));
	json_object_set_new(c, "lastTransitionTime", json_string(ltt));
	if (style == CS_POD)
		json_object_set_new(c, "lastProbeTime", json_null());
	else if (style == CS_JOB)
		json_object_set_new(c, "lastProbeTime", json_string(now));
	return c;
}

/* ---- pods ---- */

int fy_sim_pod_ready(const json_t *pod)
{
	const json_t *c = cond_find(getp(pod, "status.conditions"), "Ready");
	if (getp(pod, "metadata.deletionTimestamp"))
		return 0;
	return c && !strcmp(json_string_value(json_object_get(c, "status")) ?: "", "True");
}

int fy_sim_pod_terminal(const json_t *pod)
{
	const char *ph = fy_sim_gets(pod, "status.phase");
	return ph && (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed"));
}

static void fake_digest(const char *seed, const char *salt, char out[65])
{
	uint32_t h = 2166136261u;
	for (int k = 0; k < 8; k++) {
		const char *p;
		for (p = seed ? seed : ""; *p; p++) {
			h ^= (unsigned char)*p;
			h *= 16777619u;
		}
		for (p = salt; *p; p++) {
			h ^= (unsigned char)*p;
			h *= 16777619u;
		}
		h ^= (uint32_t)k;
		h *= 16777619u;
		snprintf(out + k * 8, 9, "%08x", h);
	}
}

static const json_t *old_cstatus(const json_t *pod, const char *name)
{
	size_t i;
	const json_t *c;
	json_array_foreach(getp(pod, "status.containerStatuses"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "name")) ?: "", name))
			return c;
	return NULL;
}

static json_t *container_status(const json_t *pod, const json_t *c, int fate, const struct fy_sim_podenv *env,
				int always, const char *now, int *ready, int *pending, int *failed)
{
	const char *name = json_string_value(json_object_get(c, "name")) ?: "";
	const char *image = json_string_value(json_object_get(c, "image")) ?: "";
	const json_t *old = old_cstatus(pod, name);
	json_t *cs = json_object();
	json_t *state = json_object();
	json_t *last = json_object();
	char dig[65], cid[80];
	int rdy = 0, started = 0, restarts = 0;

	fake_digest(image, "image", dig);
	json_object_set_new(cs, "name", json_string(name));
	json_object_set_new(cs, "image", json_string(image));
	fake_digest(fy_sim_gets(pod, "metadata.uid"), name, cid);
	memmove(cid + 13, cid, 65);
	memcpy(cid, "containerd://", 13);

	if (env->stage == 0) {
		json_t *w = json_object();
		json_object_set_new(w, "reason", json_string("ContainerCreating"));
		json_object_set_new(state, "waiting", w);
		json_object_set_new(cs, "imageID", json_string(""));
		*pending = 1;
	} else if (fate == FY_SIM_PULLERROR) {
		json_t *w = json_object();
		json_object_set_new(w, "reason", json_string("ImagePullBackOff"));
		json_object_set_new(w, "message", json_sprintf("Back-off pulling image \"%s\"", image));
		json_object_set_new(state, "waiting", w);
		json_object_set_new(cs, "imageID", json_string(""));
		*pending = 1;
	} else {
		char idbuf[300];
		const char *started_at = fy_sim_gets(old, "state.running.startedAt");
		snprintf(idbuf, sizeof(idbuf), "%s@sha256:%s", image, dig);
		json_object_set_new(cs, "imageID", json_string(idbuf));
		json_object_set_new(cs, "containerID", json_string(cid));
		if ((fate == FY_SIM_CRASHLOOP || (fate == FY_SIM_FAIL && always))) {
			json_t *w = json_object(), *t = json_object();
			const char *oldfin = fy_sim_gets(old, "lastState.terminated.finishedAt");
			long bo = 10;
			restarts = env->restarts > 0 ? env->restarts : 1;
			for (int k = 1; k < restarts && bo < 300; k++)
				bo *= 2;
			if (bo > 300)
				bo = 300;
			json_object_set_new(w, "reason", json_string("CrashLoopBackOff"));
			if (bo >= 60)
				json_object_set_new(w, "message", json_sprintf(
					"back-off %ldm%lds restarting failed container=%s pod=%s_%s(%s)", bo / 60, bo % 60,
					name, fy_sim_gets(pod, "metadata.name") ?: "", fy_sim_gets(pod, "metadata.namespace") ?: "",
					fy_sim_gets(pod, "metadata.uid") ?: ""));
			else
				json_object_set_new(w, "message", json_sprintf(
					"back-off %lds restarting failed container=%s pod=%s_%s(%s)", bo, name,
					fy_sim_gets(pod, "metadata.name") ?: "", fy_sim_gets(pod, "metadata.namespace") ?: "",
					fy_sim_gets(pod, "metadata.uid") ?: ""));
			json_object_set_new(state, "waiting", w);
			json_object_set_new(t, "exitCode", json_integer(1));
			json_object_set_new(t, "reason", json_string("Error"));
			json_object_set_new(t, "containerID", json_string(cid));
			if (oldfin && (int)fy_sim_geti(old, "restartCount", 0) == restarts) {
				json_object_set_new(t, "startedAt", json_string(fy_sim_gets(old, "lastState.terminated.startedAt") ?: oldfin));
				json_object_set_new(t, "finishedAt", json_string(oldfin));
			} else {
				json_object_set_new(t, "startedAt", json_string(now));
				json_object_set_new(t, "finishedAt", json_string(now));
			}
			json_object_set_new(last, "terminated", t);
		} else if (!always && env->stage >= 2) {
			json_t *t = json_object();
			const char *oldfin = fy_sim_gets(old, "state.terminated.finishedAt");
			const char *oldstart = fy_sim_gets(old, "state.terminated.startedAt");
			int fail = fate == FY_SIM_FAIL;
			json_object_set_new(t, "exitCode", json_integer(fail ? 1 : 0));
			json_object_set_new(t, "reason", json_string(fail ? "Error" : "Completed"));
			json_object_set_new(t, "containerID", json_string(cid));
			json_object_set_new(t, "startedAt", json_string(oldstart ?: started_at ?: now));
			json_object_set_new(t, "finishedAt", json_string(oldfin ?: now));
			json_object_set_new(state, "terminated", t);
			if (fail)
				*failed = 1;
		} else {
			json_t *r = json_object();
			json_object_set_new(r, "startedAt", json_string(started_at ?: now));
			json_object_set_new(state, "running", r);
			rdy = started = 1;
		}
	}
	json_object_set_new(cs, "state", state);
	json_object_set_new(cs, "lastState", last);
	json_object_set_new(cs, "ready", json_boolean(rdy));
	json_object_set_new(cs, "started", json_boolean(started));
	json_object_set_new(cs, "restartCount", json_integer(restarts));
	if (!rdy)
		*ready = 0;
	return cs;
}

json_t *fy_sim_pod_status(const json_t *pod, const struct fy_sim_podenv *env)
{
	const json_t *oldst = json_object_get(pod, "status");
	const json_t *oldc = json_object_get(oldst, "conditions");
	const char *rp = fy_sim_gets(pod, "spec.restartPolicy");
	int always = !rp || !strcmp(rp, "Always");
	json_t *st = json_object();
	json_t *conds = json_array();
	json_t *css = json_array();
	json_t *ics = NULL;
	struct fy_buf_names { char s[512]; size_t n; } unready = { { 0 }, 0 };
	char now[32];
	int ready = 1, pending = 0, failed = 0, ncont = 0;
	size_t i;
	const json_t *c;
	const char *phase;

	fy_sim_timestamp(env->now, now);
	json_array_foreach(getp(pod, "spec.initContainers"), i, c) {
		const char *n = json_string_value(json_object_get(c, "name")) ?: "";
		json_t *cs = json_object(), *state = json_object(), *t = json_object();
		if (!ics)
			ics = json_array();
		json_object_set_new(cs, "name", json_string(n));
		json_object_set_new(cs, "image", json_string(json_string_value(json_object_get(c, "image")) ?: ""));
		json_object_set_new(cs, "imageID", json_string(""));
		if (env->stage == 0) {
			json_t *w = json_object();
			json_object_set_new(w, "reason", json_string("PodInitializing"));
			json_object_set_new(state, "waiting", w);
			json_decref(t);
		} else {
			json_object_set_new(t, "exitCode", json_integer(0));
			json_object_set_new(t, "reason", json_string("Completed"));
			json_object_set_new(t, "startedAt", json_string(now));
			json_object_set_new(t, "finishedAt", json_string(now));
			json_object_set_new(state, "terminated", t);
		}
		json_object_set_new(cs, "state", state);
		json_object_set_new(cs, "lastState", json_object());
		json_object_set_new(cs, "ready", json_boolean(env->stage > 0));
		json_object_set_new(cs, "restartCount", json_integer(0));
		json_array_append_new(ics, cs);
	}
	json_array_foreach(getp(pod, "spec.containers"), i, c) {
		int r1 = 1;
		json_t *cs = container_status(pod, c, container_fate(pod, c), env, always, now, &r1, &pending, &failed);
		ncont++;
		if (!r1) {
			const char *n = json_string_value(json_object_get(c, "name")) ?: "";
			int k = snprintf(unready.s + unready.n, sizeof(unready.s) - unready.n, "%s%s",
					 unready.n ? " " : "", n);
			if (k > 0 && (size_t)k < sizeof(unready.s) - unready.n)
				unready.n += (size_t)k;
			ready = 0;
		}
		json_array_append_new(css, cs);
	}
	if (!ncont)
		ready = 0;

	if (!always && env->stage >= 2 && !pending)
		phase = failed ? "Failed" : "Succeeded";
	else if (pending)
		phase = "Pending";
	else
		phase = "Running";

	{
		char msg[600];
		const char *why = NULL;
		snprintf(msg, sizeof(msg), "containers with unready status: [%s]", unready.s);
		if (!strcmp(phase, "Succeeded"))
			why = "PodCompleted";
		else if (!strcmp(phase, "Failed"))
			why = "PodFailed";
		json_array_append_new(conds, cond_make(oldc, CS_POD, "PodReadyToStartContainers",
						       env->stage > 0 || !pending ? "True" : "False", NULL, NULL, now));
		json_array_append_new(conds, cond_make(oldc, CS_POD, "Initialized", "True", why, NULL, now));
		json_array_append_new(conds, cond_make(oldc, CS_POD, "Ready", ready ? "True" : "False",
						       ready ? NULL : why ? why : "ContainersNotReady",
						       ready || why ? NULL : msg, now));
		json_array_append_new(conds, cond_make(oldc, CS_POD, "ContainersReady", ready ? "True" : "False",
						       ready ? NULL : why ? why : "ContainersNotReady",
						       ready || why ? NULL : msg, now));
		json_array_append_new(conds, cond_make(oldc, CS_POD, "PodScheduled", "True", NULL, NULL, now));
	}
	json_object_set_new(st, "phase", json_string(phase));
	json_object_set_new(st, "conditions", conds);
	json_object_set_new(st, "hostIP", json_string(FY_SIM_NODE_IP));
	{
		json_t *a = json_array(), *o = json_object();
		json_object_set_new(o, "ip", json_string(FY_SIM_NODE_IP));
		json_array_append_new(a, o);
		json_object_set_new(st, "hostIPs", a);
	}
	{
		const char *ip = json_string_value(json_object_get(oldst, "podIP"));
		if (!ip)
			ip = env->pod_ip;
		if (ip && (env->stage > 0)) {
			json_t *a = json_array(), *o = json_object();
			json_object_set_new(st, "podIP", json_string(ip));
			json_object_set_new(o, "ip", json_string(ip));
			json_array_append_new(a, o);
			json_object_set_new(st, "podIPs", a);
		}
	}
	json_object_set_new(st, "startTime",
			    json_string(json_string_value(json_object_get(oldst, "startTime")) ?: now));
	json_object_set_new(st, "qosClass", json_string(
		json_string_value(json_object_get(oldst, "qosClass")) ?: "BestEffort"));
	if (ics)
		json_object_set_new(st, "initContainerStatuses", ics);
	json_object_set_new(st, "containerStatuses", css);
	return st;
}

/* ---- ReplicaSet ---- */

/* Seconds a Ready pod still needs to count as available (0: available, -1: not ready). */
static long pod_avail_wait(const json_t *pod, long min_ready, time_t now)
{
	const json_t *c;
	time_t since;

	if (!fy_sim_pod_ready(pod))
		return -1;
	if (min_ready <= 0)
		return 0;
	c = cond_find(getp(pod, "status.conditions"), "Ready");
	since = fy_sim_parse_time(fy_sim_gets(c, "lastTransitionTime"));
	if (since < 0 || since + min_ready <= now)
		return 0;
	return (long)(since + min_ready - now);
}

long fy_sim_pods_available(json_t *const *pods, size_t npods, long min_ready, time_t now, long *recheck_s)
{
	long avail = 0;

	if (recheck_s)
		*recheck_s = -1;
	for (size_t i = 0; i < npods; i++) {
		long w;
		if (fy_sim_pod_terminal(pods[i]) || getp(pods[i], "metadata.deletionTimestamp"))
			continue;
		w = pod_avail_wait(pods[i], min_ready, now);
		if (!w)
			avail++;
		else if (w > 0 && recheck_s && (*recheck_s < 0 || w < *recheck_s))
			*recheck_s = w;
	}
	return avail;
}

json_t *fy_sim_rs_status(const json_t *rs, json_t *const *pods, size_t npods, time_t now, long *recheck_s)
{
	json_t *st = json_object();
	long n = 0, ready = 0, avail;
	const json_t *oldc = getp(rs, "status.conditions");

	for (size_t i = 0; i < npods; i++) {
		if (fy_sim_pod_terminal(pods[i]) || getp(pods[i], "metadata.deletionTimestamp"))
			continue;
		n++;
		if (fy_sim_pod_ready(pods[i]))
			ready++;
	}
	avail = fy_sim_pods_available(pods, npods, fy_sim_geti(rs, "spec.minReadySeconds", 0), now, recheck_s);
	json_object_set_new(st, "replicas", json_integer(n));
	if (n)
		json_object_set_new(st, "fullyLabeledReplicas", json_integer(n));
	if (ready)
		json_object_set_new(st, "readyReplicas", json_integer(ready));
	if (avail)
		json_object_set_new(st, "availableReplicas", json_integer(avail));
	if (fy_sim_geti(rs, "metadata.generation", 0))
		json_object_set_new(st, "observedGeneration", json_integer(fy_sim_geti(rs, "metadata.generation", 0)));
	if (json_array_size(oldc))
		json_object_set(st, "conditions", (json_t *)oldc);
	return st;
}

/* ---- Deployment ---- */

static long rs_stat(const json_t *rs, const char *f)
{
	return fy_sim_geti(json_object_get(rs, "status"), f, 0);
}

static void set_pos(json_t *st, const char *k, long v)
{
	if (v > 0)
		json_object_set_new(st, k, json_integer(v));
}

json_t *fy_sim_deploy_status(const json_t *d, json_t *const *rss, size_t nrs, const json_t *new_rs, int rs_event,
			     time_t now, long *recheck_s)
{
	const json_t *old = json_object_get(d, "status");
	const json_t *oldc = json_object_get(old, "conditions");
	long want = fy_sim_geti(d, "spec.replicas", 1);
	long deadline = fy_sim_geti(d, "spec.progressDeadlineSeconds", 600);
	int paused = json_is_true(getp(d, "spec.paused"));
	const char *stype = fy_sim_gets(d, "spec.strategy.type");
	long gen = fy_sim_geti(d, "metadata.generation", 1);
	long total_spec = 0, actual = 0, ready = 0, avail = 0, updated = 0, unavail, maxun = 0;
	const char *nrsname = new_rs ? fy_sim_gets(new_rs, "metadata.name") : NULL;
	json_t *st = json_object();
	json_t *conds = json_array();
	json_t *prog = NULL, *availc;
	const json_t *cur = cond_find(oldc, "Progressing");
	const char *cur_reason = cur ? fy_sim_gets(cur, "reason") : NULL;
	char nowts[32], msg[400];
	size_t i;

	*recheck_s = -1;
	fy_sim_timestamp(now, nowts);
	for (i = 0; i < nrs; i++) {
		total_spec += fy_sim_geti(rss[i], "spec.replicas", 1);
		actual += rs_stat(rss[i], "replicas");
		ready += rs_stat(rss[i], "readyReplicas");
		avail += rs_stat(rss[i], "availableReplicas");
	}
	if (new_rs)
		updated = rs_stat(new_rs, "replicas");
	unavail = total_spec - avail; /* as the controller: sum of spec.replicas minus available */
	if (unavail < 0)
		unavail = 0;
	if ((!stype || !strcmp(stype, "RollingUpdate")) && want > 0) {
		const json_t *ru = getp(d, "spec.strategy.rollingUpdate");
		int surge = fy_sim_int_or_percent(json_object_get(ru, "maxSurge"), (int)want, 1, (int)((want * 25 + 99) / 100));
		maxun = fy_sim_int_or_percent(json_object_get(ru, "maxUnavailable"), (int)want, 0, (int)(want * 25 / 100));
		if (!surge && !maxun)
			maxun = 1;
		if (maxun > want)
			maxun = want;
	}

	json_object_set_new(st, "observedGeneration", json_integer(gen));
	set_pos(st, "replicas", actual);
	set_pos(st, "updatedReplicas", updated);
	set_pos(st, "readyReplicas", ready);
	set_pos(st, "availableReplicas", avail);
	set_pos(st, "unavailableReplicas", unavail);
	if (json_object_get(old, "collisionCount"))
		json_object_set(st, "collisionCount", json_object_get(old, "collisionCount"));

	if (avail >= want - maxun)
		availc = cond_make(oldc, CS_DEPLOY, "Available", "True", "MinimumReplicasAvailable",
				   "Deployment has minimum availability.", nowts);
	else
		availc = cond_make(oldc, CS_DEPLOY, "Available", "False", "MinimumReplicasUnavailable",
				   "Deployment does not have minimum availability.", nowts);
	/* keep lastUpdateTime when status and reason are unchanged (SetDeploymentCondition) */
	{
		const json_t *oa = cond_find(oldc, "Available");
		if (oa && !strcmp(fy_sim_gets(oa, "status") ?: "", fy_sim_gets(availc, "status")) &&
		    !strcmp(fy_sim_gets(oa, "reason") ?: "", fy_sim_gets(availc, "reason"))) {
			json_decref(availc);
			availc = json_deep_copy(oa);
		} else {
			json_object_set_new(availc, "lastUpdateTime", json_string(nowts));
		}
	}
	json_array_append_new(conds, availc);

#define PROG(status, reason, ...) do { \
		snprintf(msg, sizeof(msg), __VA_ARGS__); \
		prog = cond_make(oldc, CS_DEPLOY, "Progressing", status, reason, msg, nowts); \
	} while (0)
	if (paused) {
		if (!cur_reason || strcmp(cur_reason, "DeploymentPaused"))
			PROG("Unknown", "DeploymentPaused", "Deployment is paused");
	} else if (cur_reason && !strcmp(cur_reason, "DeploymentPaused")) {
		PROG("Unknown", "DeploymentResumed", "Deployment is resumed");
	} else if (deadline > 0 && nrsname) {
		long old_repl = fy_sim_geti(old, "replicas", 0) - fy_sim_geti(old, "updatedReplicas", 0);
		int complete = updated == want && actual == want && avail == want;
		int progressing = updated > fy_sim_geti(old, "updatedReplicas", 0) ||
				  actual - updated < old_repl || ready > fy_sim_geti(old, "readyReplicas", 0) ||
				  avail > fy_sim_geti(old, "availableReplicas", 0);
		if (complete) {
			PROG("True", "NewReplicaSetAvailable", "ReplicaSet \"%s\" has successfully progressed.", nrsname);
		} else if (rs_event == FY_SIM_RS_CREATED) {
			PROG("True", "NewReplicaSetCreated", "Created new replica set \"%s\"", nrsname);
		} else if (rs_event == FY_SIM_RS_FOUND && !cur) {
			PROG("True", "FoundNewReplicaSet", "Found new replica set \"%s\"", nrsname);
		} else if (progressing) {
			PROG("True", "ReplicaSetUpdated", "ReplicaSet \"%s\" is progressing.", nrsname);
		} else if (cur_reason && !strcmp(cur_reason, "ProgressDeadlineExceeded")) {
			/* stays timed out */
		} else if (cur && cur_reason && strcmp(cur_reason, "NewReplicaSetAvailable")) {
			time_t lut = fy_sim_parse_time(fy_sim_gets(cur, "lastUpdateTime"));
			if (lut >= 0 && lut + deadline <= now)
				PROG("False", "ProgressDeadlineExceeded", "ReplicaSet \"%s\" has timed out progressing.",
				     nrsname);
			else if (lut >= 0)
				*recheck_s = (long)(lut + deadline - now);
		} else if (cur && cur_reason && !strcmp(cur_reason, "NewReplicaSetAvailable")) {
			/* a scale-up or pod loss after completion: progressing again */
			PROG("True", "ReplicaSetUpdated", "ReplicaSet \"%s\" is progressing.", nrsname);
		}
		if (prog && !strcmp(fy_sim_gets(prog, "status"), "True") && !complete)
			*recheck_s = deadline;
	}
#undef PROG
	if (prog) {
		json_object_set_new(prog, "lastUpdateTime", json_string(nowts));
		if (cur && !strcmp(fy_sim_gets(cur, "status") ?: "", fy_sim_gets(prog, "status")) &&
		    !strcmp(fy_sim_gets(cur, "reason") ?: "", fy_sim_gets(prog, "reason")) &&
		    strcmp(fy_sim_gets(prog, "reason"), "ReplicaSetUpdated")) {
			json_decref(prog);
			prog = json_deep_copy(cur);
		}
		json_array_append_new(conds, prog);
	} else if (cur) {
		json_array_append_new(conds, json_deep_copy(cur));
	}
	{
		const json_t *c;
		json_array_foreach(oldc, i, c) {
			const char *t = fy_sim_gets(c, "type") ?: "";
			if (strcmp(t, "Available") && strcmp(t, "Progressing"))
				json_array_append(conds, (json_t *)c);
		}
	}
	json_object_set_new(st, "conditions", conds);
	return st;
}

void fy_sim_deploy_plan(const json_t *d, const json_t *new_rs, json_t *const *old, size_t nold, int *new_want,
			int *old_want)
{
	long want = fy_sim_geti(d, "spec.replicas", 1);
	const char *stype = fy_sim_gets(d, "spec.strategy.type");
	const json_t *ru = getp(d, "spec.strategy.rollingUpdate");
	long surge, maxun, new_spec, old_sum = 0, all, min_avail, max_down, total = 0, avail_all, down;
	size_t i;

	if (stype && !strcmp(stype, "Recreate")) {
		long old_pods = 0;
		for (i = 0; i < nold; i++) {
			old_want[i] = 0;
			old_pods += rs_stat(old[i], "replicas");
		}
		*new_want = old_pods ? (int)fy_sim_geti(new_rs, "spec.replicas", 0) : (int)want;
		return;
	}
	/* fenceposts: surge rounds up, unavailable down, never both 0 */
	surge = fy_sim_int_or_percent(json_object_get(ru, "maxSurge"), (int)want, 1, (int)((want * 25 + 99) / 100));
	maxun = fy_sim_int_or_percent(json_object_get(ru, "maxUnavailable"), (int)want, 0, (int)(want * 25 / 100));
	if (surge < 0)
		surge = 0;
	if (maxun < 0)
		maxun = 0;
	if (!surge && !maxun)
		maxun = 1;
	new_spec = new_rs ? fy_sim_geti(new_rs, "spec.replicas", 1) : 0;
	for (i = 0; i < nold; i++) {
		old_want[i] = (int)fy_sim_geti(old[i], "spec.replicas", 1);
		old_sum += old_want[i];
	}
	all = new_spec + old_sum;

	/* the new ReplicaSet: up to desired, total pods at most desired + maxSurge */
	*new_want = (int)new_spec;
	if (new_spec > want) {
		*new_want = (int)want;
	} else if (new_spec < want && all < want + surge) {
		long up = want + surge - all;
		if (up > want - new_spec)
			up = want - new_spec;
		*new_want = (int)(new_spec + up);
	}
	if (*new_want != new_spec || !old_sum)
		return; /* one step per pass, as the controller does */

	/* old ReplicaSets: keep desired - maxUnavailable available */
	min_avail = want - maxun;
	max_down = all - min_avail - (new_spec - (new_rs ? rs_stat(new_rs, "availableReplicas") : 0));
	if (max_down <= 0)
		return;
	/* unhealthy old pods first, oldest ReplicaSet first */
	for (i = nold; i-- > 0 && total < max_down;) {
		long unhealthy = old_want[i] - rs_stat(old[i], "availableReplicas");
		if (old_want[i] <= 0 || unhealthy <= 0)
			continue;
		down = max_down - total < unhealthy ? max_down - total : unhealthy;
		old_want[i] -= (int)down;
		total += down;
	}
	/* then available ones, as long as enough stay available */
	avail_all = new_rs ? rs_stat(new_rs, "availableReplicas") : 0;
	for (i = 0; i < nold; i++)
		avail_all += rs_stat(old[i], "availableReplicas");
	if (avail_all <= min_avail)
		return;
	total = avail_all - min_avail;
	for (i = nold; i-- > 0 && total > 0;) {
		if (old_want[i] <= 0)
			continue;
		down = old_want[i] < total ? old_want[i] : total;
		old_want[i] -= (int)down;
		total -= down;
	}
}

/* ---- Job ---- */

json_t *fy_sim_job_status(const json_t *job, json_t *const *pods, size_t npods, time_t now, int *create)
{
	const json_t *old = json_object_get(job, "status");
	const json_t *oldc = json_object_get(old, "conditions");
	long completions = fy_sim_geti(job, "spec.completions",
				       fy_sim_geti(job, "spec.parallelism", -1) < 0 ? 1 : -1);
	long parallelism = fy_sim_geti(job, "spec.parallelism", 1);
	long backoff = fy_sim_geti(job, "spec.backoffLimit", 6);
	int suspend = json_is_true(getp(job, "spec.suspend"));
	long active = 0, ready = 0, succeeded = 0, failed = 0;
	json_t *st = json_object();
	json_t *conds = json_array();
	char nowts[32];
	const char *done = NULL;
	size_t i;
	const json_t *c;

	*create = 0;
	fy_sim_timestamp(now, nowts);
	for (i = 0; i < npods; i++) {
		const char *ph = fy_sim_gets(pods[i], "status.phase");
		if (ph && !strcmp(ph, "Succeeded"))
			succeeded++;
		else if (ph && !strcmp(ph, "Failed"))
			failed++;
		else if (!getp(pods[i], "metadata.deletionTimestamp")) {
			active++;
			if (fy_sim_pod_ready(pods[i]))
				ready++;
		}
	}
	/* already finished: keep what was written */
	if (cond_find(oldc, "Complete") || cond_find(oldc, "Failed")) {
		json_decref(conds);
		json_decref(st);
		return json_deep_copy(old);
	}
	json_object_set_new(st, "startTime", json_string(fy_sim_gets(old, "startTime") ?: nowts));
	if (failed > backoff) {
		done = "Failed";
		json_array_append_new(conds, cond_make(oldc, CS_JOB, "FailureTarget", "True", "BackoffLimitExceeded",
						       "Job has reached the specified backoff limit", nowts));
		json_array_append_new(conds, cond_make(oldc, CS_JOB, "Failed", "True", "BackoffLimitExceeded",
						       "Job has reached the specified backoff limit", nowts));
	} else if ((completions < 0 && succeeded > 0 && active == 0) || (completions >= 0 && succeeded >= completions)) {
		done = "Complete";
		json_array_append_new(conds, cond_make(oldc, CS_JOB, "SuccessCriteriaMet", "True", "CompletionsReached",
						       "Reached expected number of succeeded pods", nowts));
		json_array_append_new(conds, cond_make(oldc, CS_JOB, "Complete", "True", "CompletionsReached",
						       "Reached expected number of succeeded pods", nowts));
		json_object_set_new(st, "completionTime", json_string(nowts));
	} else if (suspend) {
		json_array_append_new(conds, cond_make(oldc, CS_JOB, "Suspended", "True", "JobSuspended",
						       "Job suspended", nowts));
	} else {
		long target = completions < 0 ? (succeeded ? 0 : parallelism) : completions - succeeded;
		if (target > parallelism)
			target = parallelism;
		if (target > active)
			*create = (int)(target - active);
	}
	if (!done && !suspend)
		set_pos(st, "active", active);
	json_object_set_new(st, "ready", json_integer(done ? 0 : ready));
	set_pos(st, "succeeded", succeeded);
	set_pos(st, "failed", failed);
	if (!done)
		json_object_set_new(st, "terminating", json_integer(0));
	json_object_set_new(st, "uncountedTerminatedPods", json_object());
	json_array_foreach(oldc, i, c) {
		const char *t = fy_sim_gets(c, "type") ?: "";
		if (strcmp(t, "Suspended") && !cond_find(conds, t))
			json_array_append(conds, (json_t *)c);
	}
	if (json_array_size(conds))
		json_object_set_new(st, "conditions", conds);
	else
		json_decref(conds);
	return st;
}
