/*
 * kinds.c - the built-in kinds served by `ferry kube`, from the embedded
 * data/kube-kinds.tsv (group, version, kind, resource, namespaced,
 * short_names), plus the few facts the table does not carry: which kinds
 * have status and scale subresources. Used by registry.c only.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "kinds.h"
#include "util/embed.h"
#include "util/xalloc.h"

static const char *status_kinds[] = {
	"/Pod", "/Service", "/Namespace", "/Node", "/PersistentVolume", "/PersistentVolumeClaim",
	"/ReplicationController", "/ResourceQuota", "apps/Deployment", "apps/StatefulSet",
	"apps/DaemonSet", "apps/ReplicaSet", "batch/Job", "batch/CronJob",
	"autoscaling/HorizontalPodAutoscaler", "policy/PodDisruptionBudget", "networking.k8s.io/Ingress",
	"apiextensions.k8s.io/CustomResourceDefinition", "apiregistration.k8s.io/APIService",
	"admissionregistration.k8s.io/ValidatingAdmissionPolicy", "storage.k8s.io/VolumeAttachment", NULL,
};

static const char *scale_kinds[] = {
	"apps/Deployment", "apps/StatefulSet", "apps/ReplicaSet", "/ReplicationController", NULL,
};

static int in_list(const char **l, const char *group, const char *kind)
{
	size_t gl = strlen(group);
	for (; *l; l++)
		if (!strncmp(*l, group, gl) && (*l)[gl] == '/' && !strcmp(*l + gl + 1, kind))
			return 1;
	return 0;
}

char **fy_kinds_split_csv(const char *s)
{
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += *p == ',';
	char **out = fy_xcalloc(n + 1, sizeof(char *));
	size_t i = 0;
	while (*s) {
		const char *e = strchr(s, ',');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		if (l)
			out[i++] = fy_xstrndup(s, l);
		s += l;
		if (*s == ',')
			s++;
	}
	out[i] = NULL;
	return out;
}

struct fy_kind *fy_kind_new(const char *group, const char *version, const char *kind, const char *resource,
			    int namespaced)
{
	struct fy_kind *k = fy_xcalloc(1, sizeof(*k));
	k->group = fy_xstrdup(group);
	k->version = fy_xstrdup(version);
	k->kind = fy_xstrdup(kind);
	k->list_kind = fy_xasprintf("%sList", kind);
	k->resource = fy_xstrdup(resource);
	k->singular = fy_xstrdup(kind);
	for (char *p = k->singular; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	k->namespaced = namespaced;
	k->short_names = fy_xcalloc(1, sizeof(char *));
	return k;
}

void fy_kind_free(struct fy_kind *k)
{
	if (!k)
		return;
	free(k->group);
	free(k->version);
	free(k->kind);
	free(k->list_kind);
	free(k->resource);
	free(k->singular);
	for (char **p = k->short_names; p && *p; p++)
		free(*p);
	free(k->short_names);
	free(k);
}

size_t fy_kinds_builtin(struct fy_kind ***out)
{
	const char *p = (const char *)fy_embed_kube_kinds;
	size_t cap = 64, n = 0;
	struct fy_kind **v = fy_xcalloc(cap, sizeof(*v));
	/* skip header */
	p = strchr(p, '\n');
	while (p && *++p) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		char *line = fy_xstrndup(p, ll);
		char *f[6] = { 0 };
		char *s = line;
		for (int i = 0; i < 6; i++) {
			f[i] = s;
			char *t = s ? strchr(s, '\t') : NULL;
			if (t) {
				*t = 0;
				s = t + 1;
			} else {
				s = NULL;
			}
		}
		if (f[3]) {
			struct fy_kind *k = fy_kind_new(f[0], f[1], f[2], f[3], !strcmp(f[4] ? f[4] : "", "true"));
			free(k->short_names);
			k->short_names = fy_kinds_split_csv(f[5] ? f[5] : "");
			k->has_status = in_list(status_kinds, k->group, k->kind);
			k->has_scale = in_list(scale_kinds, k->group, k->kind);
			if (n + 2 >= cap)
				v = fy_xrealloc(v, (cap *= 2) * sizeof(*v));
			v[n++] = k;
		}
		free(line);
		p = eol;
	}
	/* events.k8s.io/v1 Event: not in the table, required by kubectl events */
	struct fy_kind *ev = fy_kind_new("events.k8s.io", "v1", "Event", "events", 1);
	free(ev->short_names);
	ev->short_names = fy_kinds_split_csv("ev");
	v[n++] = ev;
	v[n] = NULL;
	*out = v;
	return n;
}
