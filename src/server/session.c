/*
 * session.c - local users, login, JWT sessions, logout and failed-login
 * throttling of `ferry server`.
 *
 * Accounts: admin (argocd-secret admin.password, a bcrypt hash; disabled by
 * argocd-cm admin.enabled "false") and argocd-cm accounts.<name> with the
 * login capability (hash in argocd-secret accounts.<name>.password).
 * Tokens: HS256 with argocd-secret server.secretkey (32 random bytes,
 * created when missing), claims iss=argocd, sub=<user>:login, jti, iat,
 * nbf, exp (argocd-cm users.session.duration, default 24h). A token is
 * refused when revoked (logout; the list is persisted in DATA/
 * revoked-tokens.json until expiry), when issued before the account's
 * passwordMtime, or when the account is disabled.
 * Throttling: after FAIL_MAX failures (env ARGOCD_SESSION_FAILURE_MAX_FAIL_COUNT,
 * default 5) within the window (ARGOCD_SESSION_FAILURE_WINDOW_SECONDS,
 * default 300) every login of that user is refused until the window has
 * passed since the last counted failure (attempts while locked out are
 * refused without being counted); counters are persisted in
 * DATA/login-failures.json (survive restarts; written at most once a
 * second under a flood, flushed by the run loop and at shutdown), at most 10 000 users are
 * tracked and a full table never evicts a locked user. Every login runs
 * exactly one bcrypt compare (a dummy hash for unknown users and locked
 * accounts) and gets the same answer on failure.
 */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "internal.h"
#include "jwt.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define SUB "session"
#define MAX_TRACKED 10000
#define MAX_USER 32
#define MAX_PASSWORD 1024
#define BAD_LOGIN "Invalid username or password"

static char dummy_hash[128];

static void rand_bytes(unsigned char *b, size_t n)
{
	while (n) {
		ssize_t r = getrandom(b, n, 0);
		if (r <= 0)
			continue;
		b += r;
		n -= (size_t)r;
	}
}

static char *b64(const unsigned char *in, size_t n)
{
	char *out = fy_xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

static int bcrypt_hash(const char *password, char *out, size_t outsz)
{
	char salt[64];
	struct crypt_data *cd = fy_xcalloc(1, sizeof(*cd));
	int rc = -1;
	if (crypt_gensalt_rn("$2b$", 10, NULL, 0, salt, sizeof(salt))) {
		const char *h = crypt_r(password, salt, cd);
		if (h && h[0] == '$' && strlen(h) < outsz) {
			strcpy(out, h);
			rc = 0;
		}
	}
	free(cd);
	return rc;
}

/* 1 when password matches the bcrypt hash */
static int bcrypt_check(const char *password, const char *hash)
{
	struct crypt_data *cd = fy_xcalloc(1, sizeof(*cd));
	const char *h = crypt_r(password, hash, cd);
	size_t n = strlen(hash);
	int ok = h && h[0] == '$' && strlen(h) == n && CRYPTO_memcmp(h, hash, n) == 0;
	free(cd);
	return ok;
}

static long env_long(const char *a, const char *b, long def)
{
	const char *v = getenv(a);
	if (!v || !*v)
		v = getenv(b);
	if (!v || !*v)
		return def;
	char *end;
	long n = strtol(v, &end, 10);
	return *end || n < 0 ? def : n;
}

static long fail_max(void)
{
	return env_long("ARGOCD_SESSION_FAILURE_MAX_FAIL_COUNT", "FERRY_SESSION_FAILURE_MAX_FAIL_COUNT", 5);
}

static long fail_window(void)
{
	return env_long("ARGOCD_SESSION_FAILURE_WINDOW_SECONDS", "FERRY_SESSION_FAILURE_WINDOW_SECONDS", 300);
}

/* Go duration subset: 24h, 1h30m, 90m, 3600s; 0 on error */
static long parse_duration(const char *s)
{
	long total = 0;
	if (!s || !*s)
		return 0;
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		if (end == s)
			return 0;
		if (*end == 'h')
			total += (long)(v * 3600);
		else if (*end == 'm' && end[1] != 's')
			total += (long)(v * 60);
		else if (*end == 's')
			total += (long)v;
		else
			return 0;
		s = end + 1;
	}
	return total;
}

static time_t parse_time(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return timegm(&tm);
}

static void now_rfc3339(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ------------------------------------------------------------ init */

int fy_server_session_init(struct fy_srv *s, struct fy_err *err)
{
	int rc = 0;
	json_t *sec = NULL, *patch = NULL, *ns = NULL;
	char pw[17];

	s->failures = fy_server_load(s, "login-failures.json");
	s->revoked = fy_server_load(s, "revoked-tokens.json");
	if (bcrypt_hash("ferry-dummy-password-for-timing", dummy_hash, sizeof(dummy_hash)))
		return fy_err_set(err, FY_EIO, "bcrypt is not available in libcrypt");

	rc = fy_kc_get(s->kc, "v1", "Namespace", NULL, s->ns, NULL, &ns, err);
	if (rc == FY_ENOTFOUND) {
		json_t *obj = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata",
					"name", s->ns);
		rc = fy_kc_create(s->kc, obj, NULL, NULL, err);
		json_decref(obj);
		if (rc == FY_EEXISTS)
			rc = 0;
	}
	json_decref(ns);
	if (rc)
		goto out;

	rc = fy_kc_get(s->kc, "v1", "Secret", s->ns, "argocd-secret", NULL, &sec, err);
	if (rc == FY_ENOTFOUND) {
		sec = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s}},s:s,s:{}}", "apiVersion", "v1", "kind", "Secret",
				"metadata", "name", "argocd-secret", "namespace", s->ns, "labels",
				"app.kubernetes.io/name", "argocd-secret", "app.kubernetes.io/part-of", "argocd",
				"type", "Opaque", "data");
		json_t *created = NULL;
		rc = fy_kc_create(s->kc, sec, NULL, &created, err);
		json_decref(sec);
		sec = created;
		if (rc == FY_EEXISTS)
			rc = fy_kc_get(s->kc, "v1", "Secret", s->ns, "argocd-secret", NULL, &sec, err);
	}
	if (rc)
		goto out;
	json_t *data = json_object_get(sec, "data");
	patch = json_object();
	if (!json_string_value(json_object_get(data, "server.secretkey"))) {
		unsigned char key[32];
		rand_bytes(key, sizeof(key));
		char *k64 = b64(key, 32);
		json_object_set_new(patch, "server.secretkey", json_string(k64));
		memset(k64, 0, strlen(k64));
		free(k64);
		memset(key, 0, sizeof(key));
	}
	if (!json_string_value(json_object_get(data, "admin.password"))) {
		static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-";
		unsigned char rb[16];
		char hash[128], mtime[40];
		rand_bytes(rb, sizeof(rb));
		for (int i = 0; i < 16; i++) {
			/* rejection sampling keeps the 63-symbol alphabet uniform */
			while (rb[i] >= 252)
				rand_bytes(&rb[i], 1);
			pw[i] = alpha[rb[i] % 63];
		}
		pw[16] = 0;
		if (bcrypt_hash(pw, hash, sizeof(hash))) {
			rc = fy_err_set(err, FY_EIO, "cannot hash the admin password");
			goto out;
		}
		now_rfc3339(mtime, sizeof(mtime));
		char *h64 = b64((unsigned char *)hash, strlen(hash)), *m64 = b64((unsigned char *)mtime, strlen(mtime));
		json_object_set_new(patch, "admin.password", json_string(h64));
		json_object_set_new(patch, "admin.passwordMtime", json_string(m64));
		free(h64);
		free(m64);
		char *p64 = b64((unsigned char *)pw, 16);
		json_t *init = json_pack("{s:s,s:s,s:{s:s,s:s},s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Secret",
					 "metadata", "name", "argocd-initial-admin-secret", "namespace", s->ns, "type",
					 "Opaque", "data", "password", p64);
		memset(pw, 0, sizeof(pw));
		rc = fy_kc_create(s->kc, init, NULL, NULL, err);
		json_decref(init);
		if (rc == FY_EEXISTS) {
			/* a stale initial secret: replace its password */
			json_t *mp = json_pack("{s:{s:s}}", "data", "password", p64);
			rc = fy_kc_patch(s->kc, "v1", "Secret", s->ns, "argocd-initial-admin-secret", FY_KC_PATCH_MERGE,
					 mp, NULL, NULL, err);
			json_decref(mp);
		}
		memset(p64, 0, strlen(p64));
		free(p64);
		if (rc)
			goto out;
		fy_info(SUB, "generated the admin password into secret %s/argocd-initial-admin-secret", s->ns);
	}
	if (json_object_size(patch)) {
		json_t *mp = json_pack("{s:O}", "data", patch);
		rc = fy_kc_patch(s->kc, "v1", "Secret", s->ns, "argocd-secret", FY_KC_PATCH_MERGE, mp, NULL, NULL, err);
		json_decref(mp);
	}
out:
	json_decref(sec);
	json_decref(patch);
	return rc;
}

/* ------------------------------------------------------------ accounts */

/* The bcrypt hash of user's password (NULL: no such login account). */
static const char *account_hash(const struct fy_srv_snap *p, const char *user)
{
	char key[160];
	if (!strcmp(user, "admin")) {
		const char *en = json_string_value(json_object_get(p->cm, "admin.enabled"));
		if (en && !strcmp(en, "false"))
			return NULL;
		return json_string_value(json_object_get(p->secret, "admin.password"));
	}
	snprintf(key, sizeof(key), "accounts.%s", user);
	const char *caps = json_string_value(json_object_get(p->cm, key));
	if (!caps || !strstr(caps, "login"))
		return NULL;
	snprintf(key, sizeof(key), "accounts.%s.enabled", user);
	const char *en = json_string_value(json_object_get(p->cm, key));
	if (en && !strcmp(en, "false"))
		return NULL;
	snprintf(key, sizeof(key), "accounts.%s.password", user);
	return json_string_value(json_object_get(p->secret, key));
}

static time_t password_mtime(const struct fy_srv_snap *p, const char *user)
{
	char key[160];
	if (!strcmp(user, "admin"))
		snprintf(key, sizeof(key), "admin.passwordMtime");
	else
		snprintf(key, sizeof(key), "accounts.%s.passwordMtime", user);
	return parse_time(json_string_value(json_object_get(p->secret, key)));
}

/* ------------------------------------------------------------ authenticate */

int fy_server_authenticate(struct fy_sreq *r, const char **why)
{
	const char *h = fy_server_header(r, "Authorization");
	const char *tok = NULL;
	json_t *claims = NULL;
	struct fy_err err = FY_ERR_INIT;
	if (h && !strncasecmp(h, "Bearer ", 7)) {
		tok = h + 7;
	} else {
		tok = fy_server_cookie(r, "argocd.token");
		if (tok && *tok)
			r->cookie_auth = 1;
		else
			tok = NULL;
	}
	if (!tok)
		return 0;
	if (!r->snap || !r->snap->key) {
		*why = "server is not ready";
		return -1;
	}
	if (fy_jwt_verify(r->snap->key, r->snap->keylen, tok, time(NULL), &claims, &err)) {
		*why = strstr(err.msg, "expired") ? "token is expired" : "invalid token";
		return -1;
	}
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	const char *sub = json_string_value(json_object_get(claims, "sub"));
	const char *jti = json_string_value(json_object_get(claims, "jti"));
	json_t *iat = json_object_get(claims, "iat");
	char user[96];
	if (!iss || strcmp(iss, "argocd") || !sub || !jti || !json_is_number(iat)) {
		*why = "invalid token";
		goto bad;
	}
	size_t ul = strcspn(sub, ":");
	if (ul == 0 || ul >= sizeof(user) || (sub[ul] && strcmp(sub + ul, ":login"))) {
		*why = "invalid token";
		goto bad;
	}
	memcpy(user, sub, ul);
	user[ul] = 0;
	pthread_mutex_lock(&r->s->mu);
	int revoked = json_object_get(r->s->revoked, jti) != NULL;
	pthread_mutex_unlock(&r->s->mu);
	if (revoked) {
		*why = "token is revoked";
		goto bad;
	}
	if (!account_hash(r->snap, user)) {
		*why = "account is disabled";
		goto bad;
	}
	time_t mt = password_mtime(r->snap, user);
	if (mt && (time_t)json_number_value(iat) < mt) {
		*why = "password has changed since the token was issued";
		goto bad;
	}
	r->authed = 1;
	snprintf(r->user, sizeof(r->user), "%s", user);
	r->token = fy_xstrdup(tok);
	r->claims = claims;
	return 0;
bad:
	json_decref(claims);
	r->cookie_auth = 0;
	return -1;
}

/* ------------------------------------------------------------ throttling */

/* s->mu held. 1 when user is locked out now. */
static int locked(struct fy_srv *s, const char *user, time_t now)
{
	json_t *e = json_object_get(s->failures, user);
	long max = fail_max(), win = fail_window();
	if (!e || max <= 0)
		return 0;
	long n = (long)json_integer_value(json_object_get(e, "n"));
	time_t t = (time_t)json_integer_value(json_object_get(e, "t"));
	if (win > 0 && now - t >= win)
		return 0;
	return n >= max;
}

/*
 * Write s->failures or s->revoked (slot) to DATA/name outside s->mu: the
 * copy is taken under s->mu, the fsync'd write happens under save_mu only,
 * so slow disks never stall other requests and writes keep their order.
 */
static pthread_mutex_t save_mu = PTHREAD_MUTEX_INITIALIZER;

static void save(struct fy_srv *s, const char *name, json_t **slot)
{
	pthread_mutex_lock(&save_mu);
	pthread_mutex_lock(&s->mu);
	json_t *copy = json_deep_copy(*slot);
	pthread_mutex_unlock(&s->mu);
	fy_server_persist(s, name, copy);
	json_decref(copy);
	pthread_mutex_unlock(&save_mu);
}

void fy_server_session_flush(struct fy_srv *s, int force)
{
	static uint64_t last;
	uint64_t now = fy_now_ms();
	pthread_mutex_lock(&s->mu);
	int due = s->failures_dirty && (force || now - last >= 1000);
	if (due) {
		s->failures_dirty = 0;
		last = now;
	}
	pthread_mutex_unlock(&s->mu);
	if (due)
		save(s, "login-failures.json", &s->failures);
}

/* s->mu held; returns 1 when the table changed */
static int record_failure(struct fy_srv *s, const char *user, time_t now)
{
	json_t *e = json_object_get(s->failures, user);
	long win = fail_window(), max = fail_max();
	if (!e) {
		if (json_object_size(s->failures) >= MAX_TRACKED / 2 && win > 0) {
			/* drop entries whose window is over */
			const char *k;
			json_t *v;
			void *tmp;
			json_object_foreach_safe(s->failures, tmp, k, v) {
				if (now - (time_t)json_integer_value(json_object_get(v, "t")) >= win)
					json_object_del(s->failures, k);
			}
		}
		if (json_object_size(s->failures) >= MAX_TRACKED) {
			/* evict the oldest entry that is not locked; never a locked one */
			const char *k, *victim = NULL;
			json_t *v;
			json_int_t oldest = 0;
			json_object_foreach(s->failures, k, v) {
				json_int_t t = json_integer_value(json_object_get(v, "t"));
				long n = (long)json_integer_value(json_object_get(v, "n"));
				int lk = n >= max && (win <= 0 || now - t < win);
				if (!lk && (!victim || t < oldest)) {
					victim = k;
					oldest = t;
				}
			}
			if (!victim)
				return 0;
			json_object_del(s->failures, victim);
		}
		e = json_pack("{s:i,s:I}", "n", 0, "t", (json_int_t)now);
		json_object_set_new(s->failures, user, e);
	}
	long n = (long)json_integer_value(json_object_get(e, "n"));
	time_t t = (time_t)json_integer_value(json_object_get(e, "t"));
	if (win > 0 && now - t >= win)
		n = 0;
	json_object_set_new(e, "n", json_integer(n + 1));
	json_object_set_new(e, "t", json_integer((json_int_t)now));
	return 1;
}

/* ------------------------------------------------------------ handlers */

static void uuid(char out[37])
{
	unsigned char b[16];
	rand_bytes(b, 16);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
		 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int login(struct fy_sreq *r)
{
	struct fy_srv *s = r->s;
	int ret;
	json_t *body = fy_server_body_json(r, &ret);
	if (!body)
		return ret;
	const char *user = json_string_value(json_object_get(body, "username"));
	const char *pass = json_string_value(json_object_get(body, "password"));
	if (!user || !*user || !pass || !*pass) {
		json_decref(body);
		return fy_server_reply_err(r, G_UNAUTH, "no username or password supplied");
	}
	pthread_mutex_lock(&s->mu);
	if (s->logins >= FY_SRV_MAX_LOGINS) {
		pthread_mutex_unlock(&s->mu);
		json_decref(body);
		return fy_server_reply_err(r, G_UNAVAILABLE, "too many concurrent login requests");
	}
	s->logins++;
	time_t now = time(NULL);
	int lk = strlen(user) <= MAX_USER && locked(s, user, now);
	pthread_mutex_unlock(&s->mu);

	const char *hash = strlen(user) <= MAX_USER && r->snap ? account_hash(r->snap, user) : NULL;
	int ok = 0;
	if (strlen(pass) > MAX_PASSWORD || !hash || strncmp(hash, "$2", 2) || lk) {
		bcrypt_check(pass, dummy_hash); /* same work on every path */
	} else {
		ok = bcrypt_check(pass, hash);
	}
	int dirty = 0;
	pthread_mutex_lock(&s->mu);
	s->logins--;
	if (!ok) {
		s->n_login_fail++;
		/* attempts while locked out do not extend the lockout */
		if (strlen(user) <= MAX_USER && !lk)
			dirty = record_failure(s, user, now);
	} else {
		s->n_login_ok++;
		if (json_object_get(s->failures, user)) {
			json_object_del(s->failures, user);
			dirty = 1;
		}
	}
	if (dirty)
		s->failures_dirty = 1;
	pthread_mutex_unlock(&s->mu);
	fy_server_session_flush(s, 0);
	if (!ok) {
		fy_logkv(FY_LOG_WARN, SUB, "security=2", "failed login%s", lk ? " (account locked out)" : "");
		json_decref(body);
		return fy_server_reply_err(r, G_UNAUTH, BAD_LOGIN);
	}
	long dur = parse_duration(json_string_value(json_object_get(r->snap->cm, "users.session.duration")));
	if (dur <= 0)
		dur = 24 * 3600;
	char jti[37], sub[128];
	uuid(jti);
	snprintf(sub, sizeof(sub), "%s:login", user);
	json_t *claims = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I}", "iss", "argocd", "sub", sub, "jti", jti, "iat",
				   (json_int_t)now, "nbf", (json_int_t)now, "exp", (json_int_t)(now + dur));
	char *tok = fy_jwt_sign(r->snap->key, r->snap->keylen, claims);
	json_decref(claims);
	r->set_cookie = fy_xasprintf("argocd.token=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Lax%s", tok, dur,
				     s->tls ? "; Secure" : "");
	json_t *resp = json_pack("{s:s}", "token", tok);
	ret = fy_server_reply_json(r, 200, resp);
	json_decref(resp);
	free(tok);
	json_decref(body);
	return ret;
}

static int logout(struct fy_sreq *r)
{
	struct fy_srv *s = r->s;
	if (!r->authed)
		return fy_server_reply_err(r, G_UNAUTH, "no session information");
	const char *jti = json_string_value(json_object_get(r->claims, "jti"));
	json_int_t exp = (json_int_t)json_number_value(json_object_get(r->claims, "exp"));
	time_t now = time(NULL);
	pthread_mutex_lock(&s->mu);
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(s->revoked, tmp, k, v) {
		if (json_integer_value(v) < (json_int_t)now)
			json_object_del(s->revoked, k);
	}
	json_object_set_new(s->revoked, jti, json_integer(exp));
	pthread_mutex_unlock(&s->mu);
	save(s, "revoked-tokens.json", &s->revoked);
	r->set_cookie = fy_xasprintf("argocd.token=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
				     s->tls ? "; Secure" : "");
	return fy_server_reply(r, 200, "application/json", "{}", 2);
}

static int userinfo(struct fy_sreq *r)
{
	json_t *b;
	if (!r->authed)
		b = json_pack("{s:b}", "loggedIn", 0);
	else
		b = json_pack("{s:b,s:s,s:s,s:[]}", "loggedIn", 1, "username", r->user, "iss", "argocd", "groups");
	int ret = fy_server_reply_json(r, 200, b);
	json_decref(b);
	return ret;
}

int fy_server_h_session(struct fy_sreq *r)
{
	const char *m = r->method;
	if (!strcmp(r->url, "/api/v1/session")) {
		if (!strcmp(m, "POST"))
			return login(r);
		if (!strcmp(m, "DELETE"))
			return logout(r);
	} else if (!strcmp(r->url, "/api/v1/session/userinfo") && !strcmp(m, "GET")) {
		return userinfo(r);
	}
	return fy_server_reply_err(r, G_NOTFOUND, "Not Found");
}
