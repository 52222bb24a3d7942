/*
 * fuzz_ssa.c - server-side apply on arbitrary JSON: input is
 * "<selector byte><live JSON>\0<applied JSON>" (no NUL: create). The
 * selector picks the kind and force/status flags. Must not crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "kube/fieldset.h"
#include "kube/ssa.h"

static const char *const kinds[][3] = {
	{ "apps", "v1", "Deployment" },
	{ "", "v1", "ConfigMap" },
	{ "", "v1", "Service" },
	{ "example.com", "v1", "Widget" },
};

static time_t fixed(void)
{
	return 1700000000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	fy_ssa_set_clock(fixed);
	unsigned sel = data[0];
	const char *const *k = kinds[sel % 4];
	char *buf = malloc(size);
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = 0;
	size_t l1 = strlen(buf);
	json_t *live = NULL, *applied;
	if (l1 + 1 < size) {
		live = json_loadb(buf, l1, JSON_DECODE_ANY, NULL);
		applied = json_loadb(buf + l1 + 1, size - 2 - l1, JSON_DECODE_ANY, NULL);
	} else {
		applied = json_loadb(buf, l1, JSON_DECODE_ANY, NULL);
	}
	free(buf);
	if (json_is_object(applied)) {
		char gv[64];
		snprintf(gv, sizeof(gv), "%s%s%s", k[0], *k[0] ? "/" : "", k[1]);
		json_object_set_new(applied, "apiVersion", json_string(gv));
		json_object_set_new(applied, "kind", json_string(k[2]));
	}
	if (json_is_object(live) && (sel & 0x40)) {
		json_object_set_new(live, "apiVersion", json_string("x"));
	}
	json_t *res = NULL, *conf = NULL;
	struct fy_err err = FY_ERR_INIT;
	const char *mgr = (sel & 0x20) ? "kubectl" : "fuzz";
	int rc = fy_ssa_apply(json_is_object(live) ? live : NULL, applied, mgr, (sel >> 2) & 1, k[0], k[1], k[2],
			      (sel & 0x08) ? FY_SSA_STATUS_SUBRESOURCE : 0, &res, &conf, &err);
	if (conf) {
		char *m = fy_ssa_conflicts_message(conf);
		free(m);
	}
	if (!rc && res) {
		/* a second manager applies the same config, then an update */
		json_t *res2 = NULL, *conf2 = NULL;
		if (!fy_ssa_apply(res, applied, "other", 0, k[0], k[1], k[2], 0, &res2, &conf2, &err)) {
			json_t *upd = json_deep_copy(res2);
			fy_ssa_update(res2, upd, "upd", (sel & 0x10) ? "status" : NULL, NULL, 0, &err);
			json_decref(upd);
		}
		json_decref(res2);
		json_decref(conf2);
	}
	if (json_is_object(live)) {
		json_t *n = json_is_object(applied) ? json_deep_copy(applied) : json_object();
		fy_ssa_update(live, n, "u", NULL, "v1", 0, &err);
		json_decref(n);
	}
	/* the inputs as FieldsV1 */
	struct fy_fieldset *s = NULL;
	if (applied && !fy_fieldset_from_json(applied, &s, &err)) {
		json_t *j = fy_fieldset_to_json(s);
		json_decref(j);
		fy_fieldset_free(s);
	}
	json_decref(res);
	json_decref(conf);
	json_decref(live);
	json_decref(applied);
	return 0;
}
