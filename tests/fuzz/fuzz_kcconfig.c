/*
 * fuzz_kcconfig.c - kclient config parsers: the input is loaded as YAML
 * (JSON is YAML) and given to the kubeconfig reader (current context and
 * a named one) and to the Argo CD cluster Secret reader; the input is also
 * base64-decoded. Must never crash, hang, or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/yaml.h"
#include "kclient/kclient.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fy_yaml_limits lim = FY_YAML_LIMITS_DEFAULT;
	struct fy_kc_config c;
	struct fy_err err = FY_ERR_INIT;
	char *s, *out = NULL;
	size_t n;

	if (size > 64 * 1024)
		return 0;
	lim.max_bytes = 64 * 1024;
	lim.max_nodes = 20000;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (fy_kc_b64decode(s, &out, &n) == 0)
		free(out);
	json_t *doc = fy_yaml_load(s, size, "fuzz", &lim, &err);
	if (doc) {
		if (fy_kc_config_from_kubeconfig_json(&c, doc, "/nonexistent", NULL, &err) == 0)
			fy_kc_config_release(&c);
		if (fy_kc_config_from_kubeconfig_json(&c, doc, NULL, "ctx", &err) == 0)
			fy_kc_config_release(&c);
		if (fy_kc_config_from_cluster_secret(&c, doc, &err) == 0)
			fy_kc_config_release(&c);
		json_decref(doc);
	}
	free(s);
	return 0;
}
