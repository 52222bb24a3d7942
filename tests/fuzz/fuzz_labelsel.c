/*
 * fuzz_labelsel - the first line is a label selector and the rest a JSON
 * labels object; parses the whole input as a label selector and as a field
 * selector too, and matches. Invariants: no crash, no leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kube/selector.h"
#include "util/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fy_xstrndup((const char *)data, size);
	char *nl = strchr(s, '\n');
	json_t *labels = NULL;
	struct fy_labelsel *ls = NULL;
	struct fy_fieldsel *fs = NULL;
	struct fy_err e = { 0 };
	if (nl) {
		*nl = 0;
		labels = json_loads(nl + 1, 0, NULL);
	}
	if (!fy_labelsel_parse(s, &ls, &e)) {
		fy_labelsel_match(ls, labels);
		fy_labelsel_free(ls);
	}
	if (!fy_labelsel_from_json(labels, &ls, &e)) {
		fy_labelsel_match(ls, labels);
		fy_labelsel_free(ls);
	}
	if (!fy_fieldsel_parse(s, &fs, &e)) {
		fy_fieldsel_match(fs, labels);
		fy_fieldsel_required(fs, "metadata.name");
		fy_fieldsel_free(fs);
	}
	json_decref(labels);
	free(s);
	return 0;
}
