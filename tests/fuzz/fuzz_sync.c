/*
 * fuzz_sync.c - the sync engine's parsers of manifest input: hook and
 * delete-policy annotations, sync waves, sync-options CSV lists (app level
 * and per resource), durations. Input: an object JSON (or YAML-free JSON
 * text); each annotation of the object is read; the raw text is also fed
 * to the option and duration parsers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "sync/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	(void)fy_sync_parse_duration_ms(s);
	(void)fy_sync_kind_order(s);
	struct fy_sync_options o;
	fy_sync_options_init(&o);
	(void)fy_sync_options_add(&o, s);
	json_t *obj = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (obj) {
		(void)fy_sync_hook_types(obj);
		(void)fy_sync_hook_delete_policy(obj);
		(void)fy_sync_wave(obj);
		fy_sync_options_add_annotation(&o, obj);
		fy_sync_options_add_json(&o, json_object_get(obj, "syncOptions"));
		json_decref(obj);
	}
	free(s);
	return 0;
}
