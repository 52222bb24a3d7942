/*
 * config.c - health overrides from the argocd-cm ConfigMap; see health.h.
 */
#include <stdlib.h>
#include <string.h>
#include "core/yaml.h"
#include "health/health.h"
#include "render/glob.h"
#include "util/xalloc.h"

#define MAX_CUSTOMIZATIONS_BYTES ((size_t)4 << 20)

void fy_health_config_init(struct fy_health_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

void fy_health_config_release(struct fy_health_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n; i++) {
		free(cfg->ov[i].key);
		free(cfg->ov[i].lua);
	}
	free(cfg->ov);
	cfg->ov = NULL;
	cfg->n = cfg->alloc = 0;
}

void fy_health_config_set(struct fy_health_config *cfg, const char *key, const char *lua, int use_open_libs,
			  int set_flag)
{
	struct fy_health_override *o = NULL;
	for (size_t i = 0; i < cfg->n; i++) {
		if (!strcmp(cfg->ov[i].key, key)) {
			o = &cfg->ov[i];
			break;
		}
	}
	if (!o) {
		if (cfg->n == cfg->alloc) {
			cfg->alloc = cfg->alloc ? cfg->alloc * 2 : 8;
			cfg->ov = fy_xrealloc(cfg->ov, cfg->alloc * sizeof(*cfg->ov));
		}
		o = &cfg->ov[cfg->n++];
		o->key = fy_xstrdup(key);
		o->lua = fy_xstrdup("");
		o->use_open_libs = 0;
	}
	if (lua) {
		free(o->lua);
		o->lua = fy_xstrdup(lua);
	}
	if (set_flag)
		o->use_open_libs = use_open_libs;
}

static int cmp_ov(const void *a, const void *b)
{
	return strcmp(((const struct fy_health_override *)a)->key, ((const struct fy_health_override *)b)->key);
}

const struct fy_health_override *fy_health_config_lookup(const struct fy_health_config *cfg, const char *group,
							 const char *kind)
{
	char key[512];
	const struct fy_health_override *best = NULL;
	if (!cfg || !cfg->n)
		return NULL;
	if (*group)
		snprintf(key, sizeof(key), "%s/%s", group, kind);
	else
		snprintf(key, sizeof(key), "%s", kind);
	for (size_t i = 0; i < cfg->n; i++)
		if (*cfg->ov[i].lua && !strcmp(cfg->ov[i].key, key))
			return &cfg->ov[i];
	/* Argo CD walks a Go map (random order); ferry takes the smallest key */
	for (size_t i = 0; i < cfg->n; i++) {
		const struct fy_health_override *o = &cfg->ov[i];
		if (*o->lua && fy_glob_match(o->key, key, 0) && (!best || cmp_ov(o, best) < 0))
			best = o;
	}
	return best;
}

/* Go strconv.ParseBool */
static int parse_bool(const char *s, int *out)
{
	static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False" };
	for (size_t i = 0; i < 6; i++) {
		if (!strcmp(s, t[i])) {
			*out = 1;
			return 0;
		}
		if (!strcmp(s, f[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int legacy_map(const char *yaml, struct fy_health_config *cfg, struct fy_err *err)
{
	struct fy_yaml_limits lim = FY_YAML_LIMITS_DEFAULT;
	struct fy_err ye;
	json_t *doc, *v;
	const char *k;
	int rc = 0;

	fy_err_clear(&ye);
	lim.max_bytes = MAX_CUSTOMIZATIONS_BYTES;
	doc = fy_yaml_load(yaml, strlen(yaml), "resource.customizations", &lim, &ye);
	if (!doc)
		return fy_err_set(err, FY_EINVALID, "invalid \"resource.customizations\": %s", ye.msg);
	if (json_is_null(doc))
		goto out;
	if (!json_is_object(doc)) {
		rc = fy_err_set(err, FY_EINVALID, "invalid \"resource.customizations\": not a map");
		goto out;
	}
	json_object_foreach(doc, k, v) {
		const json_t *lua, *flag;
		int open = 0;
		if (json_is_null(v))
			continue;
		if (!json_is_object(v)) {
			rc = fy_err_set(err, FY_EINVALID, "invalid \"resource.customizations\" entry \"%s\": not a map", k);
			goto out;
		}
		lua = json_object_get(v, "health.lua");
		flag = json_object_get(v, "health.lua.useOpenLibs");
		if (lua && !json_is_null(lua) && !json_is_string(lua)) {
			rc = fy_err_set(err, FY_EINVALID, "invalid \"resource.customizations\" entry \"%s\": health.lua is not a string", k);
			goto out;
		}
		if (json_is_boolean(flag)) {
			open = json_is_true(flag);
		} else if (json_is_string(flag)) {
			if (parse_bool(json_string_value(flag), &open)) {
				rc = fy_err_set(err, FY_EINVALID, "invalid \"resource.customizations\" entry \"%s\": health.lua.useOpenLibs is not a boolean", k);
				goto out;
			}
		} else if (flag && !json_is_null(flag)) {
			rc = fy_err_set(err, FY_EINVALID, "invalid \"resource.customizations\" entry \"%s\": health.lua.useOpenLibs is not a boolean", k);
			goto out;
		}
		fy_health_config_set(cfg, k, json_is_string(lua) ? json_string_value(lua) : "", open, 1);
	}
out:
	json_decref(doc);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int fy_health_config_from_cm(const json_t *cm, struct fy_health_config *cfg, struct fy_err *err)
{
	const json_t *data = cm, *v;
	const char **keys = NULL;
	size_t nk = 0, i;
	const char *k;
	int rc = 0;
	static const char prefix[] = "resource.customizations";

	if (json_is_object(json_object_get(cm, "data")))
		data = json_object_get(cm, "data");
	if (!json_is_object(data))
		return 0;
	v = json_object_get(data, prefix);
	if (json_is_string(v) && *json_string_value(v)) {
		rc = legacy_map(json_string_value(v), cfg, err);
		if (rc)
			return rc;
	}
	keys = fy_xcalloc(json_object_size(data) + 1, sizeof(*keys));
	json_object_foreach((json_t *)data, k, v)
		keys[nk++] = k;
	qsort(keys, nk, sizeof(*keys), cmp_str);
	for (i = 0; i < nk; i++) {
		const char *key = keys[i], *p, *type, *gk, *us;
		char ok[512], tbuf[64];
		if (strncmp(key, prefix, sizeof(prefix) - 1))
			continue;
		/* strings.SplitN(k, ".", 4): need three dots */
		p = strchr(key, '.');
		p = p ? strchr(p + 1, '.') : NULL;
		type = p ? p + 1 : NULL;
		p = type ? strchr(type, '.') : NULL;
		if (!p)
			continue;
		gk = p + 1;
		snprintf(tbuf, sizeof(tbuf), "%.*s", (int)(p - type), type);
		us = strchr(gk, '_');
		if (us && !strchr(us + 1, '_')) {
			snprintf(ok, sizeof(ok), "%.*s/%s", (int)(us - gk), gk, us + 1);
		} else if (!us && *gk) {
			snprintf(ok, sizeof(ok), "%s", gk);
		} else {
			rc = fy_err_set(err, FY_EINVALID,
					"group kind should be in format `resource.customizations.<type>.<group_kind>` or resource.customizations.<type>.<kind>`, got group kind: '%s'",
					gk);
			goto out;
		}
		if (!strcmp(ok, "all"))
			snprintf(ok, sizeof(ok), "*/*");
		v = json_object_get(data, key);
		const char *val = json_is_string(v) ? json_string_value(v) : "";
		if (!strcmp(tbuf, "health")) {
			fy_health_config_set(cfg, ok, val, 0, 0);
		} else if (!strcmp(tbuf, "useOpenLibs")) {
			int b;
			if (parse_bool(val, &b)) {
				rc = fy_err_set(err, FY_EINVALID, "strconv.ParseBool: parsing \"%s\": invalid syntax", val);
				goto out;
			}
			fy_health_config_set(cfg, ok, NULL, b, 1);
		} else if (strcmp(tbuf, "actions") && strcmp(tbuf, "ignoreDifferences") &&
			   strcmp(tbuf, "ignoreResourceUpdates") && strcmp(tbuf, "knownTypeFields")) {
			rc = fy_err_set(err, FY_EINVALID, "resource customization type %s not supported", tbuf);
			goto out;
		}
	}
out:
	free(keys);
	return rc;
}
