/*
 * kustomize.h - native Kustomize (the `kubectl kustomize` of kustomize v5.5)
 *
 * fy_kustomize_build() reads the kustomization at `path` (a directory of the
 * vfs holding kustomization.yaml, kustomization.yml or Kustomization) and
 * returns what `kubectl kustomize <path>` prints, as a JSON array of
 * resource objects in kustomize's output order (legacy kind order unless the
 * top kustomization's sortOptions says otherwise). Dumping it with
 * fy_yaml_dump_all() gives kubectl's bytes.
 *
 * Supported: resources (files, directories, nested overlays), components,
 * namespace, namePrefix/nameSuffix with name-reference updates, labels,
 * commonLabels, commonAnnotations, images, replicas, configMapGenerator,
 * secretGenerator (hash suffixes as kustomize computes them), generatorOptions,
 * patches / patchesStrategicMerge / patchesJson6902 (through kube/smp.h and
 * kube/jsonpatch.h), replacements, vars, sortOptions, crds, configurations,
 * buildMetadata (ignored where it only adds annotations). vars: $(NAME) in
 * the varReference fields, resolved at the top after hash suffixes and name
 * back-references (typed when a whole value is one var, $$ escapes, unknown
 * names left as they are); crds: OpenAPI definition files whose
 * x-kubernetes-* property extensions add name-reference, label, annotation
 * and prefix field specs. Resources and strategic-merge patches are read as
 * kyaml does (FY_YAML_SCHEMA_KYAML: yes/no are strings, timestamps become
 * RFC 3339 text); kustomization files and JSON 6902 patches as YAML 1.1.
 * Known difference: kyaml's strategic merge drops fields written with an
 * empty value ("key:") from a patched resource; we keep them as null.
 * Refused with FY_EUNSUPPORTED and a message naming the field: helmCharts,
 * helmChartInflationGenerator, generators, transformers, validators,
 * openapi, remote (URL) resources.
 *
 * Overrides: opts->source is an Argo CD `spec.source.kustomize` object
 * (namePrefix, nameSuffix, images ["name=new:tag"...], commonLabels,
 * commonAnnotations, forceCommonLabels, forceCommonAnnotations, namespace,
 * replicas [{name,count}], patches, components). They are applied to the top
 * kustomization the way `kustomize edit set|add` would, before building.
 *
 * Limits: opts->max_files (files read), opts->max_bytes (bytes read in
 * total); 0 picks the defaults (10000 files, 256 MiB). Overlay nesting is
 * capped at depth 64 and cycles are refused.
 *
 * Errors: NULL is returned and err names the file and field at fault.
 * Ownership: opts and its JSON are borrowed; the returned array is a new
 * reference. Thread-safety: independent calls may run concurrently (the vfs
 * is used by one call only).
 */
#ifndef FY_KUSTOMIZE_H
#define FY_KUSTOMIZE_H

#include <stddef.h>
#include <jansson.h>
#include "render/vfs.h"
#include "util/err.h"

struct fy_kustomize_opts {
	const json_t *source;  /* Argo CD spec.source.kustomize overrides, or NULL */
	size_t max_files;      /* 0 = default */
	size_t max_bytes;      /* 0 = default */
};

json_t *fy_kustomize_build(struct fy_vfs *fs, const char *path,
			   const struct fy_kustomize_opts *opts, struct fy_err *err);

/*
 * The name suffix kustomize appends to a generated ConfigMap or Secret
 * (10 characters), computed from obj (kind, name, data, binaryData /
 * type, stringData). out must hold 11 bytes.
 */
int fy_kustomize_hash(const json_t *obj, char out[11]);

#endif
