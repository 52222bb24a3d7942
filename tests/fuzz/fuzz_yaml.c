/*
 * fuzz_yaml.c - fy_yaml_load_all under small limits; every document that
 * loads must dump, and the dump must load back to an equal value
 * (json_equal): the writer's quoting agrees with the reader's resolution.
 * The same input is also read with FY_YAML_SCHEMA_KYAML (kustomize's
 * go-yaml v3 rules), which must fail cleanly or give dumpable documents.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fy_yaml_limits lim = FY_YAML_LIMITS_DEFAULT;
	struct fy_err err = FY_ERR_INIT;
	lim.max_bytes = 1 << 20;
	lim.max_depth = 32;
	lim.max_nodes = 20000;
	lim.max_aliases = 200;
	struct fy_err err12 = FY_ERR_INIT;
	json_t *docs12 = fy_yaml_load_all_schema((const char *)data, size, "fuzz.yaml", &lim,
						 FY_YAML_SCHEMA_KYAML, &err12);
	if (!docs12 && (!err12.msg[0] || err12.code >= 0))
		abort();
	if (docs12) {
		struct fy_buf b12;
		fy_buf_init(&b12, 0);
		if (fy_yaml_dump_all(docs12, &b12))
			abort();
		fy_buf_release(&b12);
		json_decref(docs12);
	}
	json_t *docs = fy_yaml_load_all((const char *)data, size, "fuzz.yaml", &lim, &err);
	if (!docs) {
		if (!err.msg[0] || err.code >= 0)
			abort(); /* failures always carry a code and message */
		return 0;
	}
	for (size_t i = 0; i < json_array_size(docs); i++) {
		json_t *doc = json_array_get(docs, i);
		struct fy_buf b;
		fy_buf_init(&b, 0);
		if (fy_yaml_dump(doc, &b))
			abort();
		/* the dump has every alias expanded: give it room, keep the depth */
		struct fy_yaml_limits big = lim;
		big.max_bytes = b.len + 1;
		struct fy_err err2 = FY_ERR_INIT;
		json_t *back = fy_yaml_load(b.buf, b.len, "dump.yaml", &big, &err2);
		if (!back || !json_equal(back, doc))
			abort();
		json_decref(back);
		fy_buf_release(&b);
	}
	struct fy_buf all;
	fy_buf_init(&all, 0);
	if (fy_yaml_dump_all(docs, &all))
		abort();
	fy_buf_release(&all);
	json_decref(docs);
	return 0;
}
