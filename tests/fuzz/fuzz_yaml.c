/*
 * fuzz_yaml.c - fy_yaml_load_all under small limits; every document that
 * loads must dump, and the dump must load back to an equal value
 * (json_equal): the writer's quoting agrees with the reader's resolution.
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
