/*
 * fuzz_kustomization.c - the kustomization parser and build pipeline.
 * The input is the content of kustomization.yaml in a small in-memory tree
 * (a Deployment, a Service, a ConfigMap source file, a base and a
 * component) so that resources, generators, patches and overlays are
 * exercised. Limits are small so no input makes the build slow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/yaml.h"
#include "render/kustomize.h"
#include "render/vfs.h"
#include "util/xalloc.h"

struct memfile {
	const char *path;
	const char *data;
	size_t len;
};

static const char deploy[] =
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\n"
	"spec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n"
	"    spec:\n      containers:\n      - name: web\n        image: nginx:1\n        envFrom:\n"
	"        - configMapRef: {name: cfg}\n";
static const char svc[] =
	"apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n"
	"  ports:\n  - port: 80\n";
static const char base_k[] = "resources:\n- cm.yaml\nnamePrefix: base-\n";
static const char base_cm[] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: b\n";
static const char comp_k[] = "kind: Component\ncommonAnnotations:\n  c: d\n";
static const char patch[] = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n";
static const char props[] = "k=v\nx=y\n";

static struct memfile files[] = {
	{ "kustomization.yaml", NULL, 0 },
	{ "deploy.yaml", deploy, sizeof(deploy) - 1 },
	{ "svc.yaml", svc, sizeof(svc) - 1 },
	{ "patch.yaml", patch, sizeof(patch) - 1 },
	{ "app.env", props, sizeof(props) - 1 },
	{ "base/kustomization.yaml", base_k, sizeof(base_k) - 1 },
	{ "base/cm.yaml", base_cm, sizeof(base_cm) - 1 },
	{ "comp/kustomization.yaml", comp_k, sizeof(comp_k) - 1 },
};
#define NFILES (sizeof(files) / sizeof(files[0]))
static const char *const dirs[] = { "", "base", "comp" };

static int mem_stat(struct fy_vfs *v, const char *path, enum fy_vfs_type *type, struct fy_err *err)
{
	*type = FY_VFS_NONE;
	for (size_t i = 0; i < NFILES; i++)
		if (!strcmp(files[i].path, path))
			*type = FY_VFS_FILE;
	for (size_t i = 0; i < 3; i++)
		if (!strcmp(dirs[i], path))
			*type = FY_VFS_DIR;
	return 0;
}

static int mem_read(struct fy_vfs *v, const char *path, struct fy_buf *out, struct fy_err *err)
{
	for (size_t i = 0; i < NFILES; i++)
		if (!strcmp(files[i].path, path))
			return fy_buf_add(out, files[i].data, files[i].len) ? fy_err_set(err, FY_ETOOLARGE, "too large")
									    : 0;
	return fy_err_set(err, FY_ENOTFOUND, "file \"%s\" not found", path);
}

static int mem_list(struct fy_vfs *v, const char *path, char ***names, struct fy_err *err)
{
	*names = fy_xcalloc(1, sizeof(char *));
	return 0;
}

static void mem_free(struct fy_vfs *v)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fy_vfs fs = { mem_stat, mem_read, mem_list, mem_free, NULL };
	struct fy_kustomize_opts opts = { NULL, 64, 1 << 20 };
	struct fy_err err = FY_ERR_INIT;
	json_t *out;

	if (size > 65536)
		return 0;
	files[0].data = (const char *)data;
	files[0].len = size;
	out = fy_kustomize_build(&fs, "", &opts, &err);
	if (out) {
		struct fy_buf b;
		fy_buf_init(&b, 0);
		fy_yaml_dump_all(out, &b);
		fy_buf_release(&b);
		json_decref(out);
	}
	return 0;
}
