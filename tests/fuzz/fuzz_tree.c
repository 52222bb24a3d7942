/*
 * fuzz_tree.c - the API server's resource-tree builder. Input: JSON text
 * [managed, objects] (either may be missing or of a wrong type); the tree
 * is built (ownerReference cycles, duplicate uids, huge fan-out, odd types)
 * and every node is looked up again by its identity.
 */
#include <stdint.h>
#include <stdlib.h>
#include <jansson.h>
#include "server/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *in, *tree, *n;
	size_t i;

	if (size > 65536)
		return 0;
	in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!in)
		return 0;
	tree = fy_server_tree_build(json_array_get(in, 0), json_array_get(in, 1), NULL);
	json_array_foreach(json_object_get(tree, "nodes"), i, n)
		(void)fy_server_tree_find(tree, json_string_value(json_object_get(n, "group")),
					  json_string_value(json_object_get(n, "kind")),
					  json_string_value(json_object_get(n, "namespace")),
					  json_string_value(json_object_get(n, "name")));
	json_decref(tree);
	json_decref(in);
	return 0;
}
