/*
 * fuzz_diff - input is three parts separated by NUL bytes (or newlines if
 * there is no NUL): an ignore expression, a config JSON document and a
 * live JSON document. The expression is compiled as a jq path expression
 * and as a JSON pointer rule (and parsed as a quantity); config and live
 * are diffed with and without the rules, masked and rendered; the two raw
 * documents are also line-diffed. Invariants: no crash, no leak, no hang
 * (jq runs in a child with a timeout).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *next_part(const char *p, const char *end, char sep)
{
	const char *q = memchr(p, sep, (size_t)(end - p));
	return q ? q : end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *parts[3] = { NULL, NULL, NULL };
	const char *p, *end, *q;
	char sep;
	int i;
	json_t *config = NULL, *live = NULL;

	if (size > 32 * 1024)
		return 0;
	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = 0;
	sep = memchr(buf, 0, size) ? 0 : '\n';
	p = buf;
	end = buf + size;
	for (i = 0; i < 3 && p <= end; i++) {
		q = next_part(p, end, sep);
		parts[i] = strndup(p, (size_t)(q - p));
		p = q + 1;
	}
	free(buf);
	if (!parts[0])
		goto out;
	free(fy_diff_quantity_canonical(parts[0]));
	if (parts[1])
		config = json_loads(parts[1], 0, NULL);
	if (parts[2])
		live = json_loads(parts[2], 0, NULL);
	{
		struct fy_buf t;
		fy_buf_init(&t, 1 << 20);
		fy_diff_text(parts[1] ? parts[1] : "", parts[2] ? parts[2] : "", "a", "b",
			     size & 1 ? FY_DIFF_TEXT_UNIFIED : FY_DIFF_TEXT_NORMAL, &t);
		fy_buf_release(&t);
	}
	{
		json_t *app = json_pack("[{s:s,s:s,s:[s]},{s:s,s:s,s:[s],s:[s]}]",
					"group", "*", "kind", "*", "jqPathExpressions", parts[0],
					"group", "*", "kind", "*", "jsonPointers", parts[0],
					"managedFieldsManagers", parts[0]);
		struct fy_diff_ignore *rules = NULL;
		struct fy_err err = FY_ERR_INIT;
		int rc = app ? fy_diff_ignore_compile(app, NULL, &rules, &err) : -1;
		json_t *app2 = json_pack("[{s:s,s:s,s:[s],s:[s]}]", "group", "*", "kind", "*",
					 "jsonPointers", parts[0], "managedFieldsManagers", parts[0]);
		struct fy_diff_ignore *rules2 = NULL;
		if (rc && app2)
			fy_diff_ignore_compile(app2, NULL, &rules2, &err);
		if (json_is_object(config) || json_is_object(live)) {
			struct fy_diff_opts o = FY_DIFF_OPTS_INIT;
			struct fy_diff_result r = FY_DIFF_RESULT_INIT;
			const char *mask[] = { "a", FY_DIFF_LAST_APPLIED, NULL };
			o.rules = rc ? rules2 : rules;
			o.mask_annotations = mask;
			if (!fy_diff_resource(json_is_object(config) ? config : NULL,
					      json_is_object(live) ? live : NULL, &o, &r, &err)) {
				struct fy_buf t;
				fy_buf_init(&t, 1 << 20);
				fy_diff_render_result(&r, FY_DIFF_TEXT_UNIFIED, &t);
				fy_buf_release(&t);
				fy_diff_result_release(&r);
			}
			if (json_is_object(config) && json_is_object(live)) {
				o.rules = NULL; /* keep slow jq rules out of the second and third diff */
				if (!fy_diff_structured_merge(config, live, "argocd-controller", &o, &r, &err))
					fy_diff_result_release(&r);
				if (!fy_diff_server_side(config, live, live, "argocd-controller", 1, &o, &r, &err))
					fy_diff_result_release(&r);
			}
		}
		fy_diff_ignore_free(rules);
		fy_diff_ignore_free(rules2);
		json_decref(app);
		json_decref(app2);
	}
out:
	for (i = 0; i < 3; i++)
		free(parts[i]);
	json_decref(config);
	json_decref(live);
	return 0;
}
