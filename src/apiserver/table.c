/*
 * table.c - meta.k8s.io/v1 Table responses, so `kubectl get` prints the
 * usual columns. Column sets follow kube-apiserver's printers for the
 * common kinds; CRDs use their additionalPrinterColumns (simple
 * .a.b[0].c JSONPaths); everything else gets Name and Age.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "server.h"
#include "util/buf.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

static const char *js(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static json_int_t ji(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* k8s.io/apimachinery/pkg/util/duration.HumanDuration */
static void human_duration(long d, char *buf, size_t n)
{
	if (d < 0)
		d = 0;
	long s = d, m = d / 60, h = d / 3600, days = h / 24, y = days / 365;
	if (s < 120)
		snprintf(buf, n, "%lds", s);
	else if (m < 10)
		s % 60 ? snprintf(buf, n, "%ldm%lds", m, s % 60) : snprintf(buf, n, "%ldm", m);
	else if (m < 180)
		snprintf(buf, n, "%ldm", m);
	else if (h < 8)
		m % 60 ? snprintf(buf, n, "%ldh%ldm", h, m % 60) : snprintf(buf, n, "%ldh", h);
	else if (h < 48)
		snprintf(buf, n, "%ldh", h);
	else if (h < 192)
		h % 24 ? snprintf(buf, n, "%ldd%ldh", days, h % 24) : snprintf(buf, n, "%ldd", days);
	else if (days < 730)
		snprintf(buf, n, "%ldd", days);
	else if (y < 8)
		days % 365 ? snprintf(buf, n, "%ldy%ldd", y, days % 365) : snprintf(buf, n, "%ldy", y);
	else
		snprintf(buf, n, "%ldy", y);
}

static json_t *age(const json_t *obj)
{
	const char *ts = js(json_object_get(obj, "metadata"), "creationTimestamp");
	time_t t = fy_parse_rfc3339(ts);
	if (t < 0)
		return json_string("<unknown>");
	char buf[32];
	human_duration((long)(time(NULL) - t), buf, sizeof(buf));
	return json_string(buf);
}

static json_t *col(const char *name, const char *type, int priority)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:i}", "name", name, "type", type, "format",
			 !strcmp(name, "Name") ? "name" : "", "description", "", "priority", priority);
}

static json_t *images(const json_t *podspec, int names)
{
	struct fy_buf b;
	fy_buf_init(&b, 0);
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(podspec, "containers"), i, c) {
		if (i)
			fy_buf_addch(&b, ',');
		fy_buf_adds(&b, js(c, names ? "name" : "image"));
	}
	json_t *r = json_string(b.buf);
	fy_buf_release(&b);
	return r;
}

static json_t *selector_str(const json_t *sel)
{
	struct fy_buf b;
	fy_buf_init(&b, 0);
	const char *k;
	json_t *v;
	json_t *ml = json_object_get(sel, "matchLabels");
	if (!ml && json_is_object(sel) && !json_object_get(sel, "matchExpressions"))
		ml = (json_t *)sel;
	json_object_foreach(ml, k, v) {
		if (b.len)
			fy_buf_addch(&b, ',');
		fy_buf_addf(&b, "%s=%s", k, json_string_value(v) ? json_string_value(v) : "");
	}
	json_t *r = json_string(b.len ? b.buf : "<none>");
	fy_buf_release(&b);
	return r;
}

static json_t *pod_status(const json_t *pod, int *ready, int *total, long *restarts)
{
	json_t *st = json_object_get(pod, "status");
	const char *reason = js(st, "phase");
	if (*js(st, "reason"))
		reason = js(st, "reason");
	size_t i;
	json_t *cs;
	*ready = 0;
	*total = (int)json_array_size(json_object_get(json_object_get(pod, "spec"), "containers"));
	*restarts = 0;
	json_array_foreach(json_object_get(st, "containerStatuses"), i, cs) {
		*restarts += (long)ji(cs, "restartCount");
		json_t *state = json_object_get(cs, "state");
		json_t *w = json_object_get(state, "waiting"), *t = json_object_get(state, "terminated");
		if (w && *js(w, "reason"))
			reason = js(w, "reason");
		else if (t && *js(t, "reason"))
			reason = js(t, "reason");
		if (json_is_true(json_object_get(cs, "ready")))
			(*ready)++;
	}
	if (json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp"))
		reason = "Terminating";
	return json_string(*reason ? reason : "Pending");
}

/* .a.b[0].c evaluated on obj; returns a new ref or null */
static json_t *jsonpath(const json_t *obj, const char *path)
{
	const json_t *cur = obj;
	const char *p = path;
	if (*p == '{')
		p++;
	while (*p && cur) {
		if (*p == '.') {
			p++;
			size_t l = strcspn(p, ".[}");
			char key[256];
			snprintf(key, sizeof(key), "%.*s", (int)l, p);
			cur = json_object_get(cur, key);
			p += l;
		} else if (*p == '[') {
			long idx = strtol(p + 1, NULL, 10);
			cur = json_array_get(cur, (size_t)idx);
			p = strchr(p, ']');
			if (!p)
				return json_null();
			p++;
		} else if (*p == '}') {
			break;
		} else {
			return json_null();
		}
	}
	if (!cur)
		return json_null();
	if (json_is_object(cur) || json_is_array(cur)) {
		char *s = json_dumps(cur, JSON_COMPACT);
		json_t *r = json_string(s ? s : "");
		free(s);
		return r;
	}
	return json_deep_copy(cur);
}

json_t *fy_table_from_list(struct fy_reg *reg, const struct fy_kind *k, json_t *items, const char *list_rv,
			   int include_object)
{
	json_t *cols = json_array();
	json_t *rows = json_array();
	const char *kind = k->kind;
	int core = !*k->group, apps = !strcmp(k->group, "apps");
	json_t *crdcols = k->is_crd ? fy_reg_crd_columns(reg, k) : NULL;
	enum { T_DEFAULT, T_POD, T_DEPLOY, T_RS, T_STS, T_DS, T_SVC, T_JOB, T_NS, T_CM, T_SECRET, T_EVENT, T_CRD,
	       T_CRDDEF, T_EP } t = T_DEFAULT;
	if (core && !strcmp(kind, "Pod"))
		t = T_POD;
	else if (apps && !strcmp(kind, "Deployment"))
		t = T_DEPLOY;
	else if (apps && !strcmp(kind, "ReplicaSet"))
		t = T_RS;
	else if (apps && !strcmp(kind, "StatefulSet"))
		t = T_STS;
	else if (apps && !strcmp(kind, "DaemonSet"))
		t = T_DS;
	else if (core && !strcmp(kind, "Service"))
		t = T_SVC;
	else if (!strcmp(k->group, "batch") && !strcmp(kind, "Job"))
		t = T_JOB;
	else if (core && !strcmp(kind, "Namespace"))
		t = T_NS;
	else if (core && !strcmp(kind, "ConfigMap"))
		t = T_CM;
	else if (core && !strcmp(kind, "Secret"))
		t = T_SECRET;
	else if (core && !strcmp(kind, "Event"))
		t = T_EVENT;
	else if (core && !strcmp(kind, "Endpoints"))
		t = T_EP;
	else if (!strcmp(k->group, "apiextensions.k8s.io"))
		t = T_CRDDEF;
	else if (crdcols)
		t = T_CRD;

	/*
	 * Column sets, named as kube-apiserver's printers name them: '#' marks
	 * an integer column, '@' a date, '*' priority 1 (shown by -o wide).
	 */
	static const char *const printers[] = {
		[T_DEFAULT] = "Name,Age",
		[T_POD] = "Name,Ready,Status,Restarts,Age,IP*,Node*",
		[T_DEPLOY] = "Name,Ready,Up-to-date#,Available#,Age,Containers*,Images*,Selector*",
		[T_RS] = "Name,Desired#,Current#,Ready#,Age,Containers*,Images*,Selector*",
		[T_STS] = "Name,Ready,Age,Containers*,Images*",
		[T_DS] = "Name,Desired#,Current#,Ready#,Up-to-date#,Available#,Age",
		[T_SVC] = "Name,Type,Cluster-IP,External-IP,Port(s),Age,Selector*",
		[T_JOB] = "Name,Status,Completions,Age",
		[T_NS] = "Name,Status,Age",
		[T_CM] = "Name,Data#,Age",
		[T_SECRET] = "Name,Type,Data#,Age",
		[T_EVENT] = "Last Seen,Type,Reason,Object,Message",
		[T_CRDDEF] = "Name,Created At@",
		[T_EP] = "Name,Endpoints,Age",
		[T_CRD] = "Name",
	};
	for (const char *p = printers[t]; *p;) {
		size_t l = strcspn(p, ",");
		char name[64];
		int prio = 0;
		const char *type = "string";
		snprintf(name, sizeof(name), "%.*s", (int)l, p);
		for (size_t n = strlen(name); n && strchr("#@*", name[n - 1]); n--) {
			if (name[n - 1] == '#')
				type = "integer";
			else if (name[n - 1] == '@')
				type = "date";
			else
				prio = 1;
			name[n - 1] = 0;
		}
		json_array_append_new(cols, col(name, type, prio));
		p += l;
		if (*p == ',')
			p++;
	}
	if (t == T_CRD) {
		size_t ci;
		json_t *c;
		json_array_foreach(crdcols, ci, c) json_array_append_new(
			cols, col(js(c, "name"), *js(c, "type") ? js(c, "type") : "string", (int)ji(c, "priority")));
		json_array_append_new(cols, col("Age", "string", 0));
	}

	size_t i;
	json_t *obj;
	json_array_foreach(items, i, obj) {
		json_t *meta = json_object_get(obj, "metadata");
		json_t *spec = json_object_get(obj, "spec");
		json_t *st = json_object_get(obj, "status");
		json_t *podspec = json_object_get(json_object_get(spec, "template"), "spec");
		json_t *cells = json_array();
		const char *name = js(meta, "name");
		char buf[512];
		switch (t) {
		case T_POD: {
			int ready, total;
			long restarts;
			json_t *status = pod_status(obj, &ready, &total, &restarts);
			snprintf(buf, sizeof(buf), "%d/%d", ready, total);
			json_array_append_new(cells, json_string(name));
			json_array_append_new(cells, json_string(buf));
			json_array_append_new(cells, status);
			json_array_append_new(cells, json_integer(restarts));
			json_array_append_new(cells, age(obj));
			json_array_append_new(cells, json_string(*js(st, "podIP") ? js(st, "podIP") : "<none>"));
			json_array_append_new(cells,
					      json_string(*js(spec, "nodeName") ? js(spec, "nodeName") : "<none>"));
			break;
		}
		case T_DEPLOY:
			snprintf(buf, sizeof(buf), "%lld/%lld", (long long)ji(st, "readyReplicas"),
				 (long long)(json_object_get(spec, "replicas") ? ji(spec, "replicas") : 1));
			json_array_append_new(cells, json_string(name));
			json_array_append_new(cells, json_string(buf));
			json_array_append_new(cells, json_integer(ji(st, "updatedReplicas")));
			json_array_append_new(cells, json_integer(ji(st, "availableReplicas")));
			json_array_append_new(cells, age(obj));
			json_array_append_new(cells, images(podspec, 1));
			json_array_append_new(cells, images(podspec, 0));
			json_array_append_new(cells, selector_str(json_object_get(spec, "selector")));
			break;
		case T_RS:
			json_array_append_new(cells, json_string(name));
			json_array_append_new(cells, json_integer(ji(spec, "replicas")));
			json_array_append_new(cells, json_integer(ji(st, "replicas")));
			json_array_append_new(cells, json_integer(ji(st, "readyReplicas")));
			json_array_append_new(cells, age(obj));
			json_array_append_new(cells, images(podspec, 1));
			json_array_append_new(cells, images(podspec, 0));
			json_array_append_new(cells, selector_str(json_object_get(spec, "selector")));
			break;
		case T_STS:
			snprintf(buf, sizeof(buf), "%lld/%lld", (long long)ji(st, "readyReplicas"),
				 (long long)(json_object_get(spec, "replicas") ? ji(spec, "replicas") : 1));
			json_array_append_new(cells, json_string(name));
			json_array_append_new(cells, json_string(buf));
			json_array_append_new(cells, age(obj));
			json_array_append_new(cells, images(podspec, 1));
			json_array_append_new(cells, images(podspec, 0));
			break;
		case T_DS:
			json_array_append_new(cells, json_string(name));
			json_array_append_new(cells, json_integer(ji(st, "desiredNumberScheduled")));
			json_array_append_new(cells, json_integer(ji(st, "currentNumberScheduled")));
			json_array_append_new(cells, json_integer(ji(st, "numberReady")));
			json_array_append_new(cells, json_integer(ji(st, "updatedNumberScheduled")));
			json_array_append_new(cells, json_integer(ji(st, "numberAvailable")));
			json_array_append_new(cells, age(obj));
			break;
		case T_SVC: {
			struct fy_buf pb;
			fy_buf_init(&pb, 0);
			size_t j;
			json_t *p;
			json_array_foreach(json_object_get(spec, "ports"), j, p) {
				if (j)
					fy_buf_addch(&pb, ',');
				fy_buf_addf(&pb, "%lld", (long long)ji(p, "port"));
				if (ji(p, "nodePort"))
					fy_buf_addf(&pb, ":%lld", (long long)ji(p, "nodePort"));
				fy_buf_addf(&pb, "/%s", *js(p, "protocol") ? js(p, "protocol") : "TCP");
			}
			json_t *ing = json_object_get(json_object_get(st, "loadBalancer"), "ingress");
			const char *ext = "<none>";
			if (!strcmp(js(spec, "type"), "LoadBalancer"))
				ext = json_array_size(ing) ? js(json_array_get(ing, 0), "ip") : "<pending>";
			json_array_append_new(cells, json_string(name));
			json_array_append_new(cells, json_string(*js(spec, "type") ? js(spec, "type") : "ClusterIP"));
			json_array_append_new(cells,
					      json_string(*js(spec, "clusterIP") ? js(spec, "clusterIP") : "<none>"));
			json_array_append_new(cells, json_string(ext));
			json_array_append_new(cells, json_string(pb.len ? pb.buf : "<none>"));
			json_array_append_new(cells, age(obj));
			json_array_append_new(cells, selector_str(json_object_get(spec, "selector")));
			fy_buf_release(&pb);
			break;
		}
		case T_JOB: {
			const char *status = "Running";
			size_t j;
			json_t *c;
			json_array_foreach(json_object_get(st, "conditions"), j, c) {
				if (!strcmp(js(c, "status"), "True") && !strcmp(js(c, "type"), "Complete"))
					status = "Complete";
				else if (!strcmp(js(c, "status"), "True") && !strcmp(js(c, "type"), "Failed"))
					status = "Failed";
			}
			snprintf(buf, sizeof(buf), "%lld/%lld", (long long)ji(st, "succeeded"),
				 (long long)(json_object_get(spec, "completions") ? ji(spec, "completions") : 1));
			json_array_append_new(cells, json_string(name));
			json_array_append_new(cells, json_string(status));
			json_array_append_new(cells, json_string(buf));
			json_array_append_new(cells, age(obj));
			break;
		}
		case T_NS:
			json_array_append_new(cells, json_string(name));
			json_array_append_new(cells, json_string(*js(st, "phase") ? js(st, "phase") : "Active"));
			json_array_append_new(cells, age(obj));
			break;
		case T_CM:
			json_array_append_new(cells, json_string(name));
			json_array_append_new(cells, json_integer((json_int_t)(json_object_size(json_object_get(obj, "data")) +
									      json_object_size(json_object_get(obj, "binaryData")))));
			json_array_append_new(cells, age(obj));
			break;
		case T_SECRET:
			json_array_append_new(cells, json_string(name));
			json_array_append_new(cells, json_string(*js(obj, "type") ? js(obj, "type") : "Opaque"));
			json_array_append_new(cells, json_integer((json_int_t)json_object_size(json_object_get(obj, "data"))));
			json_array_append_new(cells, age(obj));
			break;
		case T_EVENT: {
			json_t *io = json_object_get(obj, "involvedObject");
			char objs[600];
			char kl[128];
			snprintf(kl, sizeof(kl), "%s", js(io, "kind"));
			for (char *p = kl; *p; p++)
				*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
			snprintf(objs, sizeof(objs), "%s/%s", kl, js(io, "name"));
			json_array_append_new(cells, age(obj));
			json_array_append_new(cells, json_string(js(obj, "type")));
			json_array_append_new(cells, json_string(js(obj, "reason")));
			json_array_append_new(cells, json_string(objs));
			json_array_append_new(cells, json_string(js(obj, "message")));
			break;
		}
		case T_CRDDEF:
			json_array_append_new(cells, json_string(name));
			json_array_append_new(cells, json_string(js(meta, "creationTimestamp")));
			break;
		case T_EP: {
			/* ip:port pairs, at most 3 then " + N more..." as kubectl prints them */
			struct fy_buf eb;
			fy_buf_init(&eb, 0);
			int shown = 0, total = 0;
			size_t j, a, q;
			json_t *sub, *addr, *port;
			json_array_foreach(json_object_get(obj, "subsets"), j, sub) {
				json_array_foreach(json_object_get(sub, "addresses"), a, addr) {
					json_t *ports = json_object_get(sub, "ports");
					if (!json_array_size(ports)) {
						total++;
						if (shown < 3) {
							fy_buf_addf(&eb, "%s%s", shown ? "," : "", js(addr, "ip"));
							shown++;
						}
					}
					json_array_foreach(ports, q, port) {
						total++;
						if (shown < 3) {
							fy_buf_addf(&eb, "%s%s:%lld", shown ? "," : "", js(addr, "ip"),
								    (long long)ji(port, "port"));
							shown++;
						}
					}
				}
			}
			if (total > shown)
				fy_buf_addf(&eb, " + %d more...", total - shown);
			json_array_append_new(cells, json_string(name));
			json_array_append_new(cells, json_string(eb.len ? eb.buf : "<none>"));
			json_array_append_new(cells, age(obj));
			fy_buf_release(&eb);
			break;
		}
		case T_CRD: {
			json_array_append_new(cells, json_string(name));
			size_t j;
			json_t *c;
			json_array_foreach(crdcols, j, c) json_array_append_new(cells, jsonpath(obj, js(c, "jsonPath")));
			json_array_append_new(cells, age(obj));
			break;
		}
		default:
			json_array_append_new(cells, json_string(name));
			json_array_append_new(cells, age(obj));
		}
		json_t *row = json_pack("{s:o}", "cells", cells);
		if (include_object)
			json_object_set_new(row, "object",
					    json_pack("{s:s,s:s,s:O}", "kind", "PartialObjectMetadata", "apiVersion",
						      "meta.k8s.io/v1", "metadata", meta ? meta : json_object()));
		json_array_append_new(rows, row);
	}
	json_decref(crdcols);
	json_t *tbl = json_pack("{s:s,s:s,s:{},s:o,s:o}", "kind", "Table", "apiVersion", "meta.k8s.io/v1", "metadata",
				"columnDefinitions", cols, "rows", rows);
	if (list_rv)
		json_object_set_new(json_object_get(tbl, "metadata"), "resourceVersion", json_string(list_rv));
	return tbl;
}
