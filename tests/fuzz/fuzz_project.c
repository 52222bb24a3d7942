/*
 * fuzz_project.c - the controller's parsers of AppProjects and repository
 * Secrets. Input: JSON text [project, application, secrets, url] (any of
 * them may be missing or of a wrong type). The project is parsed and every
 * check runs against the application; the secrets are matched against url
 * and fed to a credential store.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "controller/app.h"
#include "controller/project.h"
#include "controller/repocreds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fy_err err = FY_ERR_INIT;
	struct fy_proj p;
	struct fy_app a;
	struct fy_repocreds_match m;
	const char *ct = NULL;
	json_t *in, *proj, *app, *secrets, *v;
	const char *url;
	size_t i;

	if (size > 65536)
		return 0;
	in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!in)
		return 0;
	proj = json_array_get(in, 0);
	app = json_array_get(in, 1);
	secrets = json_array_get(in, 2);
	url = json_string_value(json_array_get(in, 3));

	fy_proj_parse(proj, &p, &err);
	fy_app_init(&a);
	if (app && fy_app_parse(app, &a, &err) == 0) {
		fy_proj_check_app(&p, &a, "argocd", &ct, &err);
		fy_proj_check_dest(&p, &a, a.dest_server ? a.dest_server : "https://kubernetes.default.svc", &err);
		fy_proj_can_sync(&p, &a, a.dest_server, 0, (time_t)1700000000);
		fy_proj_can_sync(&p, &a, a.dest_server, 1, (time_t)1700000000);
		for (i = 0; i < p.nwindows; i++)
			fy_proj_window_matches(&p.windows[i], &a, a.dest_server);
	}
	fy_app_release(&a);
	if (url) {
		fy_proj_source_permitted(&p, url);
		fy_proj_dest_permitted(&p, url, url, url);
		fy_proj_kind_permitted(&p, url, url, url, 0);
		fy_proj_check_resource(&p, "", url, url, url, 1, url, NULL, &err);
	}
	fy_proj_release(&p);

	(void)fy_repocreds_match(secrets, url ? url : "https://example.com/a.git", NULL, &m, &err);
	fy_repocreds_match_release(&m);
	struct fy_repocreds *st = fy_repocreds_new();
	json_array_foreach(secrets, i, v)
		fy_repocreds_put(st, v);
	fy_repocreds_free(st);
	json_decref(in);
	return 0;
}
