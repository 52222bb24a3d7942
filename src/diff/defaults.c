/*
 * defaults.c - the part of the Kubernetes scheme defaulting
 * (k8s.io/kubernetes pkg/apis/.../defaults.go) that matters for a diff:
 * Argo CD applies the scheme defaults to the predicted and the live
 * object after the strategic merge patch, so fields a patch removes or
 * replaces (retainKeys strategies, atomic lists) come back with their
 * default values. Only absent fields are filled. Covered: workloads
 * (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod and
 * their pod templates), Service, and admission webhook configurations.
 */
#include <string.h>

#include "diff/internal.h"

static json_t *obj_at(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_object(v) ? v : NULL;
}

static const char *str_or(const json_t *v)
{
	const char *s = json_string_value(v);
	return s ? s : "";
}

static void def_str(json_t *o, const char *k, const char *v)
{
	if (json_is_object(o) && !json_object_get(o, k))
		json_object_set_new(o, k, json_string(v));
}

static void def_int(json_t *o, const char *k, long long v)
{
	if (json_is_object(o) && !json_object_get(o, k))
		json_object_set_new(o, k, json_integer(v));
}

static void def_obj(json_t *o, const char *k)
{
	if (json_is_object(o) && !json_object_get(o, k))
		json_object_set_new(o, k, json_object());
}

static void pull_policy(json_t *c)
{
	const char *img = json_string_value(json_object_get(c, "image"));
	const char *slash, *colon;

	if (!img || json_object_get(c, "imagePullPolicy"))
		return;
	slash = strrchr(img, '/');
	colon = strrchr(slash ? slash : img, ':');
	if (strchr(img, '@'))
		def_str(c, "imagePullPolicy", "IfNotPresent");
	else if (!colon || !strcmp(colon, ":latest"))
		def_str(c, "imagePullPolicy", "Always");
	else
		def_str(c, "imagePullPolicy", "IfNotPresent");
}

static void containers(json_t *list)
{
	size_t i, j;
	json_t *c, *p;

	json_array_foreach(list, i, c) {
		if (!json_is_object(c))
			continue;
		def_str(c, "terminationMessagePath", "/dev/termination-log");
		def_str(c, "terminationMessagePolicy", "File");
		pull_policy(c);
		json_array_foreach(json_object_get(c, "ports"), j, p)
			def_str(p, "protocol", "TCP");
	}
}

static void pod_spec(json_t *spec, int job)
{
	if (!spec)
		return;
	(void)job; /* Job templates must set restartPolicy; the core default is Always */
	def_str(spec, "restartPolicy", "Always");
	def_str(spec, "dnsPolicy", "ClusterFirst");
	def_str(spec, "schedulerName", "default-scheduler");
	def_obj(spec, "securityContext");
	def_int(spec, "terminationGracePeriodSeconds", 30);
	containers(json_object_get(spec, "containers"));
	containers(json_object_get(spec, "initContainers"));
}

static void pod_template(json_t *tmpl, int job)
{
	pod_spec(obj_at(tmpl, "spec"), job);
}

static void rolling(json_t *strategy, const char *key, const char *surge, const char *unavail)
{
	json_t *ru;

	if (!strategy)
		return;
	def_str(strategy, "type", "RollingUpdate");
	if (strcmp(str_or(json_object_get(strategy, "type")), "RollingUpdate"))
		return;
	def_obj(strategy, key);
	ru = obj_at(strategy, key);
	if (unavail)
		def_str(ru, "maxUnavailable", unavail);
	if (surge)
		def_str(ru, "maxSurge", surge);
}

static void webhooks(json_t *obj, int v1, int mutating)
{
	size_t i, j;
	json_t *w, *r;

	json_array_foreach(json_object_get(obj, "webhooks"), i, w) {
		if (!json_is_object(w))
			continue;
		def_str(w, "failurePolicy", v1 ? "Fail" : "Ignore");
		def_str(w, "matchPolicy", v1 ? "Equivalent" : "Exact");
		def_obj(w, "namespaceSelector");
		def_obj(w, "objectSelector");
		if (!v1)
			def_str(w, "sideEffects", "Unknown");
		def_int(w, "timeoutSeconds", v1 ? 10 : 30);
		if (mutating)
			def_str(w, "reinvocationPolicy", "Never");
		if (!v1 && !json_object_get(w, "admissionReviewVersions"))
			json_object_set_new(w, "admissionReviewVersions", json_pack("[s]", "v1beta1"));
		json_array_foreach(json_object_get(w, "rules"), j, r)
			def_str(r, "scope", "*");
		{
			json_t *svc = obj_at(obj_at(w, "clientConfig"), "service");
			def_int(svc, "port", 443);
		}
	}
}

void fy_diff__defaults(json_t *obj)
{
	char group[256];
	const char *kind = fy_diff__kind(obj), *av;
	json_t *spec = obj_at(obj, "spec");
	int v1;

	fy_diff__group(obj, group, sizeof(group));
	av = json_string_value(json_object_get(obj, "apiVersion"));
	v1 = av && strlen(av) >= 3 && !strcmp(av + strlen(av) - 3, "/v1");
	if (!strcmp(group, "apps") || !strcmp(group, "extensions")) {
		if (!spec)
			return;
		if (!strcmp(kind, "Deployment")) {
			def_obj(spec, "strategy");
			rolling(obj_at(spec, "strategy"), "rollingUpdate", "25%", "25%");
			def_int(spec, "revisionHistoryLimit", 10);
			def_int(spec, "progressDeadlineSeconds", 600);
			def_int(spec, "replicas", 1);
		} else if (!strcmp(kind, "StatefulSet")) {
			json_t *us;
			def_str(spec, "podManagementPolicy", "OrderedReady");
			def_obj(spec, "updateStrategy");
			us = obj_at(spec, "updateStrategy");
			def_str(us, "type", "RollingUpdate");
			if (!strcmp(str_or(json_object_get(us, "type")), "RollingUpdate")) {
				def_obj(us, "rollingUpdate");
				def_int(obj_at(us, "rollingUpdate"), "partition", 0);
			}
			def_int(spec, "revisionHistoryLimit", 10);
			def_int(spec, "replicas", 1);
		} else if (!strcmp(kind, "DaemonSet")) {
			def_obj(spec, "updateStrategy");
			rolling(obj_at(spec, "updateStrategy"), "rollingUpdate", "0", NULL);
			def_int(obj_at(obj_at(spec, "updateStrategy"), "rollingUpdate"), "maxUnavailable", 1);
			def_int(spec, "revisionHistoryLimit", 10);
		} else if (!strcmp(kind, "ReplicaSet")) {
			def_int(spec, "replicas", 1);
		} else {
			return;
		}
		pod_template(obj_at(spec, "template"), 0);
	} else if (!strcmp(group, "batch")) {
		if (!strcmp(kind, "Job"))
			pod_template(obj_at(spec, "template"), 1);
		else if (!strcmp(kind, "CronJob"))
			pod_template(obj_at(obj_at(obj_at(spec, "jobTemplate"), "spec"), "template"), 1);
	} else if (!*group && !strcmp(kind, "Pod")) {
		pod_spec(spec, 0);
	} else if (!*group && !strcmp(kind, "Service")) {
		size_t i;
		json_t *p;
		const char *type;
		if (!spec)
			return;
		def_str(spec, "type", "ClusterIP");
		type = json_string_value(json_object_get(spec, "type"));
		if (type && strcmp(type, "ExternalName"))
			def_str(spec, "sessionAffinity", "None");
		json_array_foreach(json_object_get(spec, "ports"), i, p) {
			if (!json_is_object(p))
				continue;
			def_str(p, "protocol", "TCP");
			if (!json_object_get(p, "targetPort") && json_object_get(p, "port"))
				json_object_set(p, "targetPort", json_object_get(p, "port"));
		}
	} else if (!strcmp(group, "admissionregistration.k8s.io")) {
		if (!strcmp(kind, "MutatingWebhookConfiguration"))
			webhooks(obj, v1, 1);
		else if (!strcmp(kind, "ValidatingWebhookConfiguration"))
			webhooks(obj, v1, 0);
	}
}
