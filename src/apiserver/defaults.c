/*
 * defaults.c - the defaulting kube-apiserver applies to the common built-in
 * kinds (k8s.io/kubernetes pkg/apis/<group>/v1/defaults.go), so objects
 * read back look as on a real cluster: Deployment strategy and limits,
 * StatefulSet and DaemonSet update strategies, Job counts, and the pod
 * template fields every kubectl user sees (restartPolicy, dnsPolicy,
 * imagePullPolicy, terminationMessagePath, ...). Only missing fields are
 * set; nothing the client sent is changed.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "defaults.h"

static json_t *obj_at(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_object(v)) {
		v = json_object();
		json_object_set_new(o, key, v);
	}
	return v;
}

static void set_default(json_t *o, const char *key, json_t *v)
{
	if (json_is_object(o) && !json_object_get(o, key))
		json_object_set_new(o, key, v);
	else
		json_decref(v);
}

static void container_defaults(json_t *c)
{
	const char *image = json_string_value(json_object_get(c, "image"));
	if (image) {
		const char *slash = strrchr(image, '/');
		const char *tail = slash ? slash + 1 : image;
		const char *colon = strchr(tail, ':');
		int latest = !strchr(image, '@') && (!colon || !strcmp(colon, ":latest"));
		set_default(c, "imagePullPolicy", json_string(latest ? "Always" : "IfNotPresent"));
	}
	set_default(c, "terminationMessagePath", json_string("/dev/termination-log"));
	set_default(c, "terminationMessagePolicy", json_string("File"));
	set_default(c, "resources", json_object());
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(c, "ports"), i, p) set_default(p, "protocol", json_string("TCP"));
}

static void podspec_defaults(json_t *spec, int job)
{
	if (!json_is_object(spec))
		return;
	if (!job) /* a Job's pod template must choose OnFailure or Never itself */
		set_default(spec, "restartPolicy", json_string("Always"));
	set_default(spec, "dnsPolicy", json_string("ClusterFirst"));
	set_default(spec, "terminationGracePeriodSeconds", json_integer(30));
	set_default(spec, "schedulerName", json_string("default-scheduler"));
	set_default(spec, "securityContext", json_object());
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(spec, "containers"), i, c) container_defaults(c);
	json_array_foreach(json_object_get(spec, "initContainers"), i, c) container_defaults(c);
}

static void template_defaults(json_t *spec, int job)
{
	json_t *tpl = json_object_get(spec, "template");
	if (json_is_object(tpl))
		podspec_defaults(json_object_get(tpl, "spec"), job);
}

/* Secret stringData is write-only: merged into data (base64) on every write. */
static void secret_string_data(json_t *obj)
{
	json_t *sd = json_object_get(obj, "stringData");
	if (!sd)
		return;
	if (json_is_object(sd) && json_object_size(sd)) {
		json_t *data = obj_at(obj, "data");
		const char *k;
		json_t *v;
		json_object_foreach(sd, k, v) {
			const char *s = json_string_value(v);
			if (!s)
				continue;
			size_t n = strlen(s);
			char *out = malloc(4 * ((n + 2) / 3) + 1);
			if (!out)
				continue;
			EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
			json_object_set_new(data, k, json_string(out));
			free(out);
		}
	}
	json_object_del(obj, "stringData");
}

void fy_defaults_apply(const char *group, const char *kind, json_t *obj)
{
	if (!*group && !strcmp(kind, "Secret")) {
		secret_string_data(obj);
		if (!json_object_get(obj, "type"))
			json_object_set_new(obj, "type", json_string("Opaque"));
		return;
	}
	json_t *spec = json_object_get(obj, "spec");
	if (!json_is_object(spec))
		return;
	if (!strcmp(group, "apps") && !strcmp(kind, "Deployment")) {
		set_default(spec, "replicas", json_integer(1));
		set_default(spec, "revisionHistoryLimit", json_integer(10));
		set_default(spec, "progressDeadlineSeconds", json_integer(600));
		json_t *st = obj_at(spec, "strategy");
		set_default(st, "type", json_string("RollingUpdate"));
		if (!strcmp(json_string_value(json_object_get(st, "type")) ? json_string_value(json_object_get(st, "type")) : "",
			    "RollingUpdate")) {
			json_t *ru = obj_at(st, "rollingUpdate");
			set_default(ru, "maxUnavailable", json_string("25%"));
			set_default(ru, "maxSurge", json_string("25%"));
		}
		template_defaults(spec, 0);
	} else if (!strcmp(group, "apps") && !strcmp(kind, "StatefulSet")) {
		set_default(spec, "replicas", json_integer(1));
		set_default(spec, "revisionHistoryLimit", json_integer(10));
		set_default(spec, "podManagementPolicy", json_string("OrderedReady"));
		json_t *us = obj_at(spec, "updateStrategy");
		set_default(us, "type", json_string("RollingUpdate"));
		if (!strcmp(json_string_value(json_object_get(us, "type")) ? json_string_value(json_object_get(us, "type")) : "",
			    "RollingUpdate"))
			set_default(obj_at(us, "rollingUpdate"), "partition", json_integer(0));
		set_default(spec, "persistentVolumeClaimRetentionPolicy",
			    json_pack("{s:s,s:s}", "whenDeleted", "Retain", "whenScaled", "Retain"));
		template_defaults(spec, 0);
	} else if (!strcmp(group, "apps") && !strcmp(kind, "DaemonSet")) {
		set_default(spec, "revisionHistoryLimit", json_integer(10));
		json_t *us = obj_at(spec, "updateStrategy");
		set_default(us, "type", json_string("RollingUpdate"));
		if (!strcmp(json_string_value(json_object_get(us, "type")) ? json_string_value(json_object_get(us, "type")) : "",
			    "RollingUpdate")) {
			json_t *ru = obj_at(us, "rollingUpdate");
			set_default(ru, "maxUnavailable", json_integer(1));
			set_default(ru, "maxSurge", json_integer(0));
		}
		template_defaults(spec, 0);
	} else if (!strcmp(group, "apps") && !strcmp(kind, "ReplicaSet")) {
		set_default(spec, "replicas", json_integer(1));
		template_defaults(spec, 0);
	} else if (!strcmp(group, "batch") && !strcmp(kind, "Job")) {
		set_default(spec, "backoffLimit", json_integer(6));
		set_default(spec, "completions", json_integer(1));
		set_default(spec, "parallelism", json_integer(1));
		set_default(spec, "completionMode", json_string("NonIndexed"));
		set_default(spec, "suspend", json_false());
		template_defaults(spec, 1);
	} else if (!strcmp(group, "batch") && !strcmp(kind, "CronJob")) {
		set_default(spec, "concurrencyPolicy", json_string("Allow"));
		set_default(spec, "suspend", json_false());
		set_default(spec, "successfulJobsHistoryLimit", json_integer(3));
		set_default(spec, "failedJobsHistoryLimit", json_integer(1));
		json_t *jt = json_object_get(spec, "jobTemplate");
		if (json_is_object(jt) && json_is_object(json_object_get(jt, "spec")))
			template_defaults(json_object_get(jt, "spec"), 1);
	} else if (!*group && !strcmp(kind, "Pod")) {
		podspec_defaults(spec, 0);
	}
}
