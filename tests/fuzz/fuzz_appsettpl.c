/*
 * fuzz_appsettpl.c - ApplicationSet templates (src/appset/template.c).
 * Input: a template, optionally followed by NUL and a JSON params object.
 * The template is rendered in fasttemplate and goTemplate modes (with and
 * without missingkey=error), and a list generator is run over the params
 * when they are an object. Must never crash, hang, leak or read out of
 * bounds; errors are fine.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "appset/appset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *DEFAULT_PARAMS =
	"{\"a\":\"x\",\"model\":\"m\",\"path\":{\"path\":\"apps/web\",\"basename\":\"web\",\"segments\":[\"apps\",\"web\"]},"
	"\"n\":3,\"t\":true,\"e\":\"\",\"o\":{\"k\":{\"k\":\"v\"}},\"path.basename\":\"web\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *out = NULL;
	const char *nul;
	json_t *params;

	if (size > 64 * 1024)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	nul = memchr(buf, 0, size);
	params = nul ? json_loadb(nul + 1, size - (size_t)(nul + 1 - buf), 0, NULL) : NULL;
	if (!json_is_object(params)) {
		json_decref(params);
		params = json_loads(DEFAULT_PARAMS, 0, NULL);
	}
	for (int mode = 0; mode < 3; mode++) {
		struct fy_appset_tpl_opts o = { mode > 0, mode == 2 };
		struct fy_err err = FY_ERR_INIT;
		if (fy_appset_render_string(buf, params, &o, &out, &err) == 0)
			free(out);
		out = NULL;
	}
	/* a whole template document, and a list generator over the params */
	{
		struct fy_appset_tpl_opts o = { 1, 0 };
		struct fy_err err = FY_ERR_INIT;
		json_t *doc = json_pack("{s:{s:s},s:[s,{s:s}]}", "metadata", "name", buf, "spec", buf, buf, buf);
		json_t *r = doc ? fy_appset_render_json(doc, params, &o, &err) : NULL;
		json_decref(r);
		json_decref(doc);
		json_t *g = json_pack("{s:{s:[O]}}", "list", "elements", params), *sets = NULL;
		if (g && fy_appset_generate(g, NULL, 0, &sets, &err) == 0)
			json_decref(sets);
		json_decref(g);
	}
	json_decref(params);
	free(buf);
	return 0;
}
