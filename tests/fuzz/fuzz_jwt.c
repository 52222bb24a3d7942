/*
 * fuzz_jwt.c - untrusted inputs of the API server. The first byte picks:
 *   'W' webhook payload (JSON) parsed for every provider and matched
 *   'P' argocd-rbac-cm policy.csv text loaded and enforced
 *   anything else: the whole input is a bearer token for fy_jwt_verify
 *   (plus a sign/verify round trip of the decoded payload if it is JSON).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "server/jwt.h"
#include "server/rbac.h"
#include "server/webhook.h"

static const unsigned char key[] = "fuzz-key-fuzz-key-fuzz-key-fuzz!";

static void token(const char *s)
{
	json_t *out = NULL;
	fy_jwt_verify(key, 32, s, 1700000000, &out, NULL);
	json_decref(out);
	unsigned char *raw = NULL;
	size_t n = 0;
	if (fy_jwt_b64url_decode(s, strlen(s), &raw, &n) == 0) {
		char *e = fy_jwt_b64url(raw, n);
		free(e);
		json_t *j = json_loadb((const char *)raw, n, 0, NULL);
		if (json_is_object(j)) {
			char *t = fy_jwt_sign(key, 32, j);
			fy_jwt_verify(key, 32, t, 1700000000, &out, NULL);
			json_decref(out);
			free(t);
		}
		json_decref(j);
		free(raw);
	}
}

static void webhook(const char *s, size_t n)
{
	json_t *pl = json_loadb(s, n, 0, NULL);
	json_t *app = json_loads("{\"metadata\":{\"annotations\":{\"argocd.argoproj.io/manifest-generate-paths\":"
				 "\".;../x;/y\"}},\"spec\":{\"source\":{\"repoURL\":\"https://github.com/a/b\","
				 "\"targetRevision\":\">=1.0.0\",\"path\":\"p/q\"},\"sources\":[{\"repoURL\":"
				 "\"git@github.com:a/b.git\",\"targetRevision\":\"HEAD\"}]}}",
				 0, NULL);
	for (int prov = FY_WH_GITHUB; prov <= FY_WH_GOGS; prov++) {
		struct fy_webhook_push p;
		if (fy_webhook_parse((enum fy_webhook_provider)prov, pl, &p, NULL) == 0) {
			fy_webhook_match(&p, app);
			for (size_t i = 0; i < p.nurls; i++)
				free(fy_webhook_url_key(p.urls[i]));
			fy_webhook_push_release(&p);
		}
	}
	json_decref(app);
	json_decref(pl);
}

static void policy(const char *s)
{
	json_t *d = json_pack("{s:s,s:s}", "policy.csv", s, "policy.default", "role:x");
	struct fy_rbac *r = NULL;
	if (d && fy_rbac_load(&r, d, NULL) == 0) {
		const char *groups[] = { "g1", NULL };
		fy_rbac_enforce(r, "alice", groups, "applications", "sync", "proj/app");
		fy_rbac_enforce(r, "role:x", NULL, "clusters", "get", "https://kubernetes.default.svc");
		fy_rbac_glob(s, "applications");
		fy_rbac_free(r);
	}
	json_decref(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	if (size && s[0] == 'W')
		webhook(s + 1, size - 1);
	else if (size && s[0] == 'P')
		policy(s + 1);
	else
		token(s);
	free(s);
	return 0;
}
