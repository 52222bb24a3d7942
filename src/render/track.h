/*
 * track.h - Argo CD resource tracking metadata stamped on generated objects.
 *
 * Annotation `argocd.argoproj.io/tracking-id` =
 * `<inst>:<group>/<kind>:<namespace>/<name>`, where <namespace> is the
 * object's namespace or, when it has none (cluster-scoped objects, and
 * namespaced objects left for the controller to place), the destination
 * namespace. The object's own metadata.namespace is never changed.
 * <inst> is the app name, or `<appNs>_<appName>` for an Application living
 * outside the control-plane namespace (fy_track_instance).
 * Label tracking writes `<label_key>: <inst>` (default key
 * `app.kubernetes.io/instance`); in annotation+label mode the label value is
 * truncated to 63 bytes. CRDs (apiextensions.k8s.io/CustomResourceDefinition)
 * are never stamped. With an installation id, the annotation
 * `argocd.argoproj.io/installation-id` is written too.
 *
 * Ownership: json_t* parameters are borrowed; fy_track_apply modifies the
 * object it is given in place. Returned strings are malloc'd.
 * Thread-safety: pure functions.
 */
#ifndef FY_TRACK_H
#define FY_TRACK_H

#include <jansson.h>
#include "util/err.h"

#define FY_TRACK_ANNOTATION_KEY "argocd.argoproj.io/tracking-id"
#define FY_TRACK_INSTALLATION_KEY "argocd.argoproj.io/installation-id"
#define FY_TRACK_DEFAULT_LABEL "app.kubernetes.io/instance"

enum fy_track_method {
	FY_TRACK_ANNOTATION = 0,  /* v3 default */
	FY_TRACK_LABEL,
	FY_TRACK_ANNOTATION_LABEL,
};

struct fy_track_opts {
	const char *instance;         /* <inst>, required */
	const char *dest_namespace;   /* used in the id of objects without a namespace */
	enum fy_track_method method;
	const char *label_key;        /* NULL: FY_TRACK_DEFAULT_LABEL */
	const char *installation_id;  /* NULL or "": none */
};

/* "annotation", "label", "annotation+label" (""/NULL: annotation); -1 if unknown. */
int fy_track_parse_method(const char *s);

/* <inst> for an app: name, or ns_name when app_ns is set and differs from control_ns. */
char *fy_track_instance(const char *app_name, const char *app_ns, const char *control_ns);

/* The API group of an apiVersion ("apps/v1" -> "apps", "v1" -> ""); malloc'd. */
char *fy_track_group(const char *api_version);

/* The tracking id of obj (uses dest_ns when obj has no namespace); malloc'd. */
char *fy_track_id(const char *inst, const json_t *obj, const char *dest_ns);

struct fy_track_ref {
	char *app, *group, *kind, *ns, *name;
};
/* Parse a tracking id; 0 or FY_EINVALID. Free with fy_track_ref_release. */
int fy_track_parse(const char *id, struct fy_track_ref *out, struct fy_err *err);
void fy_track_ref_release(struct fy_track_ref *r);

/* 1 if obj is a CustomResourceDefinition. */
int fy_track_is_crd(const json_t *obj);

/* Stamp obj (an object with metadata) per opts; CRDs are left untouched. */
int fy_track_apply(json_t *obj, const struct fy_track_opts *o, struct fy_err *err);

#endif
