/*
 * test_repocreds.c - repository Secret matching and the store
 * (src/controller/repocreds.c).
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "controller/repocreds.h"
#include "test.h"

static json_t *J(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fy_test_fail(__FILE__, __LINE__, "bad test json: %s", je.text);
	return j;
}

/* a Secret with stringData fields (a JSON object body) */
static json_t *secret(const char *name, const char *type, const char *string_data)
{
	char *s = NULL;
	json_t *o;
	if (asprintf(&s, "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"argocd.argoproj.io/secret-type\":\"%s\"}},"
		     "\"stringData\":%s}", name, type, string_data) < 0)
		abort();
	o = J(s);
	free(s);
	return o;
}

void test_repocreds__repository_exact_url(void)
{
	json_t *l = json_array();
	struct fy_repocreds_match m;
	struct fy_err err = FY_ERR_INIT;

	json_array_append_new(l, secret("other", "repository",
		"{\"url\":\"https://git.example.com/org/other\",\"username\":\"x\",\"password\":\"y\"}"));
	json_array_append_new(l, J("{\"metadata\":{\"name\":\"repo-1\",\"labels\":{\"argocd.argoproj.io/secret-type\":"
				   "\"repository\"}},\"data\":{\"url\":\"aHR0cHM6Ly9naXQuZXhhbXBsZS5jb20vb3JnL2FwcA==\","
				   "\"username\":\"YWxpY2U=\",\"password\":\"czNjcmV0\"}}"));
	json_array_append_new(l, secret("cluster", "cluster", "{\"url\":\"https://git.example.com/org/app\"}"));

	/* same repository after normalization (.git, case) */
	FY_ASSERT_INT(fy_repocreds_match(l, "https://Git.example.com/org/app.git", NULL, &m, &err), 0);
	FY_ASSERT(m.found);
	FY_ASSERT_STR(m.creds.username, "alice");
	FY_ASSERT_STR(m.creds.password, "s3cret");
	FY_ASSERT_STR(m.secret, "repo-1");
	FY_ASSERT(m.template_secret == NULL);
	fy_repocreds_match_release(&m);

	/* a URL nobody knows */
	FY_ASSERT_INT(fy_repocreds_match(l, "https://git.example.com/org/none", NULL, &m, &err), 0);
	FY_ASSERT(!m.found);
	FY_ASSERT(!fy_git_creds_has_any(&m.creds));
	fy_repocreds_match_release(&m);

	FY_ASSERT_INT(fy_repocreds_match(l, "", NULL, &m, &err), FY_EINVALID);
	fy_repocreds_match_release(&m);
	{
		json_t *bad = json_string("x");
		FY_ASSERT_INT(fy_repocreds_match(bad, "https://a/b", NULL, &m, &err), FY_EINVALID);
		json_decref(bad);
	}
	fy_repocreds_match_release(&m);
	json_decref(l);
}

void test_repocreds__templates_longest_prefix(void)
{
	json_t *l = json_object();
	struct fy_repocreds_match m;
	struct fy_err err = FY_ERR_INIT;

	json_object_set_new(l, "t-host", secret("t-host", "repo-creds",
		"{\"url\":\"https://git.example.com\",\"username\":\"host\",\"password\":\"p1\"}"));
	json_object_set_new(l, "t-org", secret("t-org", "repo-creds",
		"{\"url\":\"https://git.example.com/org\",\"username\":\"org\",\"password\":\"p2\"}"));
	json_object_set_new(l, "t-ssh", secret("t-ssh", "repo-creds",
		"{\"url\":\"git@git.example.com:org\",\"sshPrivateKey\":\"KEY\",\"insecureIgnoreHostKey\":\"true\"}"));
	/* a repository Secret without credentials inherits the template's */
	json_object_set_new(l, "bare", secret("bare", "repository",
		"{\"url\":\"https://git.example.com/org/bare\",\"insecure\":\"true\"}"));

	FY_ASSERT_INT(fy_repocreds_match(l, "https://git.example.com/org/app", NULL, &m, &err), 0);
	FY_ASSERT(m.found);
	FY_ASSERT_STR(m.creds.username, "org");
	FY_ASSERT_STR(m.template_secret, "t-org");
	fy_repocreds_match_release(&m);

	FY_ASSERT_INT(fy_repocreds_match(l, "https://git.example.com/elsewhere/app", NULL, &m, &err), 0);
	FY_ASSERT_STR(m.creds.username, "host");
	fy_repocreds_match_release(&m);

	FY_ASSERT_INT(fy_repocreds_match(l, "ssh://git@git.example.com/org/app.git", NULL, &m, &err), 0);
	FY_ASSERT_STR(m.creds.ssh_private_key, "KEY");
	FY_ASSERT(m.creds.insecure);
	FY_ASSERT(m.creds.username == NULL);
	fy_repocreds_match_release(&m);

	FY_ASSERT_INT(fy_repocreds_match(l, "https://git.example.com/org/bare", NULL, &m, &err), 0);
	FY_ASSERT_STR(m.secret, "bare");
	FY_ASSERT_STR(m.template_secret, "t-org");
	FY_ASSERT_STR(m.creds.password, "p2");
	FY_ASSERT(m.creds.insecure);
	fy_repocreds_match_release(&m);

	/* a prefix of the host name is not the host */
	FY_ASSERT_INT(fy_repocreds_match(l, "https://git.example.company/x", NULL, &m, &err), 0);
	FY_ASSERT_STR(m.creds.username, "host"); /* Argo CD compares plain string prefixes */
	fy_repocreds_match_release(&m);
	json_decref(l);
}

void test_repocreds__projects_and_types(void)
{
	json_t *l = json_array();
	struct fy_repocreds_match m;
	struct fy_err err = FY_ERR_INIT;

	json_array_append_new(l, secret("a-global", "repository",
		"{\"url\":\"https://h/r\",\"username\":\"global\",\"password\":\"g\"}"));
	json_array_append_new(l, secret("b-team", "repository",
		"{\"url\":\"https://h/r\",\"username\":\"team\",\"password\":\"t\",\"project\":\"team\"}"));
	json_array_append_new(l, secret("c-helm", "repository",
		"{\"url\":\"https://h/chart\",\"username\":\"helm\",\"type\":\"helm\"}"));
	json_array_append_new(l, secret("d-other", "repository",
		"{\"url\":\"https://h/only-other\",\"username\":\"o\",\"project\":\"other\"}"));

	FY_ASSERT_INT(fy_repocreds_match(l, "https://h/r", "team", &m, &err), 0);
	FY_ASSERT_STR(m.creds.username, "team");
	fy_repocreds_match_release(&m);
	FY_ASSERT_INT(fy_repocreds_match(l, "https://h/r", "default", &m, &err), 0);
	FY_ASSERT_STR(m.creds.username, "global");
	fy_repocreds_match_release(&m);
	/* helm repositories are not for git */
	FY_ASSERT_INT(fy_repocreds_match(l, "https://h/chart", "default", &m, &err), 0);
	FY_ASSERT(!m.found);
	fy_repocreds_match_release(&m);
	/* another project's Secret is invisible */
	FY_ASSERT_INT(fy_repocreds_match(l, "https://h/only-other", "default", &m, &err), 0);
	FY_ASSERT(!m.found);
	fy_repocreds_match_release(&m);
	json_decref(l);
}

void test_repocreds__invalid_values_skip_the_secret(void)
{
	json_t *l = json_array();
	struct fy_repocreds_match m;
	struct fy_err err = FY_ERR_INIT;

	/* bad base64, a NUL inside, a non-string: each Secret is skipped */
	json_array_append_new(l, J("{\"metadata\":{\"name\":\"a\",\"labels\":{\"argocd.argoproj.io/secret-type\":"
				   "\"repository\"}},\"data\":{\"url\":\"aHR0cHM6Ly9oL3I=\",\"password\":\"!!!!\"}}"));
	json_array_append_new(l, J("{\"metadata\":{\"name\":\"b\",\"labels\":{\"argocd.argoproj.io/secret-type\":"
				   "\"repository\"}},\"data\":{\"url\":\"aHR0cHM6Ly9oL3I=\",\"password\":\"YQBi\"}}"));
	json_array_append_new(l, J("{\"metadata\":{\"name\":\"c\",\"labels\":{\"argocd.argoproj.io/secret-type\":"
				   "\"repository\"}},\"stringData\":{\"url\":\"https://h/r\",\"password\":7}}"));
	json_array_append_new(l, J("{\"metadata\":{\"name\":\"d\",\"labels\":{\"argocd.argoproj.io/secret-type\":"
				   "\"repository\"}},\"data\":{\"url\":null}}"));
	json_array_append_new(l, json_string("junk"));
	json_array_append_new(l, J("{\"metadata\":{\"name\":\"e\",\"labels\":{\"argocd.argoproj.io/secret-type\":"
				   "\"repository\"}},\"stringData\":{\"url\":\"https://h/r\",\"password\":\"ok\"}}"));
	FY_ASSERT_INT(fy_repocreds_match(l, "https://h/r", NULL, &m, &err), 0);
	FY_ASSERT(m.found);
	FY_ASSERT_STR(m.secret, "e");
	FY_ASSERT_STR(m.creds.password, "ok");
	fy_repocreds_match_release(&m);
	json_decref(l);
}

void test_repocreds__store(void)
{
	struct fy_repocreds *r = fy_repocreds_new();
	struct fy_repocreds_match m;
	struct fy_err err = FY_ERR_INIT;
	json_t *s = secret("repo", "repository", "{\"url\":\"https://h/r\",\"username\":\"u\",\"password\":\"p\"}");
	json_t *c = secret("cl", "cluster", "{\"server\":\"https://x\"}");
	uint64_t g0 = fy_repocreds_generation(r);

	FY_ASSERT_INT(fy_repocreds_put(r, c), 0);
	FY_ASSERT_INT(fy_repocreds_put(r, s), 1);
	FY_ASSERT_INT(fy_repocreds_put(r, s), 0); /* unchanged */
	FY_ASSERT_INT(fy_repocreds_count(r), 1);
	FY_ASSERT(fy_repocreds_generation(r) == g0 + 1);
	FY_ASSERT_INT(fy_repocreds_lookup(r, "https://h/r.git", "default", &m, &err), 0);
	FY_ASSERT_STR(m.creds.password, "p");
	fy_repocreds_match_release(&m);

	/* relabelled to something else: dropped */
	json_object_set_new(json_object_get(json_object_get(s, "metadata"), "labels"),
			    "argocd.argoproj.io/secret-type", json_string("cluster"));
	FY_ASSERT_INT(fy_repocreds_put(r, s), 1);
	FY_ASSERT_INT(fy_repocreds_count(r), 0);
	FY_ASSERT_INT(fy_repocreds_del(r, "repo"), 0);
	FY_ASSERT_INT(fy_repocreds_lookup(r, "https://h/r", NULL, &m, &err), 0);
	FY_ASSERT(!m.found);
	fy_repocreds_match_release(&m);
	json_decref(s);
	json_decref(c);
	fy_repocreds_free(r);
}
