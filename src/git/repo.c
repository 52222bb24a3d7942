/*
 * repo.c - libgit2 plumbing: global init, a socket stream with deadlines,
 * credential and host key callbacks, ls-remote, the bare repository cache,
 * revision resolution, commit metadata and temp checkouts.
 */
#include "git/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2/sys/stream.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "git/semver.h"
#include "git/url.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define CHECKOUT_MAX_BYTES (1024LL * 1024 * 1024)
#define CHECKOUT_MAX_ENTRIES 200000
#define CHECKOUT_MAX_DEPTH 64
#define LS_REMOTE_MAX_REFS 1000000

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;
static char init_msg[256];
static int timeout_ms = 60000;
static pthread_mutex_t timeout_mu = PTHREAD_MUTEX_INITIALIZER;

/* Deadline of the network operation running on this thread (monotonic ms). */
static _Thread_local int64_t tl_deadline;
static _Thread_local int tl_timed_out;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fy_git_set_timeout_ms(int ms)
{
	pthread_mutex_lock(&timeout_mu);
	timeout_ms = ms > 0 ? ms : 60000;
	pthread_mutex_unlock(&timeout_mu);
}

int fy_git_get_timeout_ms(void)
{
	int v;
	pthread_mutex_lock(&timeout_mu);
	v = timeout_ms;
	pthread_mutex_unlock(&timeout_mu);
	return v;
}

/* ---- a socket stream with deadlines ---- */

/* The first members mirror libgit2's git_socket_stream: its ssh transport
 * reads the file descriptor from there. */
struct tstream {
	git_stream parent;
	char *host;
	char *port;
	int s;
	int64_t deadline;
};

static int remaining_ms(int64_t deadline)
{
	int64_t r = deadline - now_ms();
	if (r <= 0)
		return 0;
	return r > INT32_MAX ? INT32_MAX : (int)r;
}

static void set_timed_out(void)
{
	tl_timed_out = 1;
	git_error_set_str(GIT_ERROR_NET, "operation timed out");
}

/* 1 ready, 0 deadline passed, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { fd, events, 0 };
		int ms = remaining_ms(deadline), r;
		if (ms == 0)
			return 0;
		r = poll(&p, 1, ms);
		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

static int ts_connect(git_stream *stream)
{
	struct tstream *st = (struct tstream *)stream;
	struct addrinfo hints, *info = NULL, *p;
	int fd = -1, e, timed_out = 0;
	char msg[300];

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	e = getaddrinfo(st->host, st->port, &hints, &info);
	if (e) {
		snprintf(msg, sizeof(msg), "failed to resolve address for %s: %s", st->host, gai_strerror(e));
		git_error_set_str(GIT_ERROR_NET, msg);
		return -1;
	}
	for (p = info; p; p = p->ai_next) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, p->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, p->ai_addr, p->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			int w = wait_fd(fd, POLLOUT, st->deadline);
			if (w == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
				break;
			if (w == 0)
				timed_out = 1;
			e = soerr ? soerr : errno;
		} else {
			e = errno;
		}
		close(fd);
		fd = -1;
		if (timed_out)
			break;
	}
	freeaddrinfo(info);
	if (fd < 0) {
		if (timed_out) {
			set_timed_out();
		} else {
			snprintf(msg, sizeof(msg), "failed to connect to %s port %s: %s", st->host, st->port, strerror(e));
			git_error_set_str(GIT_ERROR_NET, msg);
		}
		return -1;
	}
	st->s = fd;
	return 0;
}

static ssize_t ts_read(git_stream *stream, void *data, size_t len)
{
	struct tstream *st = (struct tstream *)stream;

	for (;;) {
		ssize_t n = recv(st->s, data, len, 0);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int w = wait_fd(st->s, POLLIN, st->deadline);
			if (w == 1)
				continue;
			if (w == 0) {
				set_timed_out();
				return -1;
			}
		}
		git_error_set_str(GIT_ERROR_NET, "error reading from socket");
		return -1;
	}
}

static ssize_t ts_write(git_stream *stream, const char *data, size_t len, int flags)
{
	struct tstream *st = (struct tstream *)stream;
	size_t off = 0;

	(void)flags;
	while (off < len) {
		ssize_t n = send(st->s, data + off, len - off, MSG_NOSIGNAL);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int w = wait_fd(st->s, POLLOUT, st->deadline);
			if (w == 1)
				continue;
			if (w == 0) {
				set_timed_out();
				return -1;
			}
		}
		git_error_set_str(GIT_ERROR_NET, "error writing to socket");
		return -1;
	}
	return (ssize_t)len;
}

static int ts_close(git_stream *stream)
{
	struct tstream *st = (struct tstream *)stream;
	if (st->s >= 0)
		close(st->s);
	st->s = -1;
	return 0;
}

static void ts_free(git_stream *stream)
{
	struct tstream *st = (struct tstream *)stream;
	if (st->s >= 0)
		close(st->s);
	free(st->host);
	free(st->port);
	free(st);
}

static int ts_init(git_stream **out, const char *host, const char *port)
{
	struct tstream *st = fy_xcalloc(1, sizeof(*st));

	st->parent.version = GIT_STREAM_VERSION;
	st->parent.connect = ts_connect;
	st->parent.read = ts_read;
	st->parent.write = ts_write;
	st->parent.close = ts_close;
	st->parent.free = ts_free;
	st->host = fy_xstrdup(host);
	st->port = fy_xstrdup(port ? port : "0");
	st->s = -1;
	st->deadline = tl_deadline ? tl_deadline : now_ms() + fy_git_get_timeout_ms();
	*out = &st->parent;
	return 0;
}

/* ---- global init ---- */

static void shutdown_libgit2(void)
{
	git_libgit2_shutdown();
}

static void do_init(void)
{
	git_stream_registration reg;
	int rc = git_libgit2_init();

	if (rc < 0) {
		snprintf(init_msg, sizeof(init_msg), "cannot initialise libgit2");
		init_rc = FY_EGENERIC;
		return;
	}
	atexit(shutdown_libgit2);
	/* hermetic: no ~/.gitconfig, /etc/gitconfig or XDG config */
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_PROGRAMDATA, "");
	git_libgit2_opts(GIT_OPT_SET_USER_AGENT, "ferry");
	memset(&reg, 0, sizeof(reg));
	reg.version = GIT_STREAM_VERSION;
	reg.init = ts_init;
	if (git_stream_register(GIT_STREAM_STANDARD, &reg) < 0) {
		snprintf(init_msg, sizeof(init_msg), "cannot register the git socket stream");
		init_rc = FY_EGENERIC;
	}
}

int fy_git_global_init(struct fy_err *err)
{
	pthread_once(&init_once, do_init);
	if (init_rc)
		return fy_err_set(err, init_rc, "%s", init_msg);
	return 0;
}

int fy_git_ssh_supported(void)
{
	if (fy_git_global_init(NULL))
		return 0;
	return (git_libgit2_features() & GIT_FEATURE_SSH) != 0;
}

/* ---- callbacks ---- */

struct netctx {
	const struct fy_git_creds *creds;
	const char *url;
	char port[16];
	int attempts;
	int auth_failed;
	int no_creds;
	int hostkey_failed;
	int sent_auth; /* credentials went in an Authorization header */
	char hostkey_msg[400];
	int64_t deadline;
};

static void netctx_init(struct netctx *nc, const char *url, const struct fy_git_creds *creds)
{
	const char *p, *e, *colon = NULL;

	memset(nc, 0, sizeof(*nc));
	nc->url = url;
	nc->creds = creds;
	snprintf(nc->port, sizeof(nc->port), "22");
	/* port of ssh://host:port/... (scp-style has none) */
	p = strstr(url, "://");
	if (p) {
		p += 3;
		e = p + strcspn(p, "/");
		for (const char *q = p; q < e; q++) {
			if (*q == '@')
				colon = NULL, p = q + 1;
			else if (*q == ':')
				colon = q;
		}
		if (colon && e - colon - 1 > 0 && e - colon - 1 < (long)sizeof(nc->port))
			snprintf(nc->port, sizeof(nc->port), "%.*s", (int)(e - colon - 1), colon + 1);
	}
	nc->deadline = now_ms() + fy_git_get_timeout_ms();
}

static int cred_cb(git_credential **out, const char *url, const char *user_from_url,
		   unsigned int allowed, void *payload)
{
	struct netctx *nc = payload;
	const struct fy_git_creds *c = nc->creds;
	const char *user;

	(void)url;
	if (++nc->attempts > 1 || (nc->sent_auth && (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT))) {
		nc->auth_failed = 1;
		git_error_set_str(GIT_ERROR_NET, "authentication failed");
		return GIT_EAUTH;
	}
	user = user_from_url && *user_from_url ? user_from_url : (c && c->username && *c->username ? c->username : "git");
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && c && c->ssh_private_key && *c->ssh_private_key)
		return git_credential_ssh_key_memory_new(out, user, NULL, c->ssh_private_key, NULL);
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && c &&
	    ((c->username && *c->username) || (c->password && *c->password)))
		return git_credential_userpass_plaintext_new(out, c->username ? c->username : "",
							     c->password ? c->password : "");
	if ((allowed & GIT_CREDENTIAL_USERNAME) && !(allowed & GIT_CREDENTIAL_SSH_KEY))
		return git_credential_username_new(out, user);
	nc->no_creds = 1;
	nc->auth_failed = 1;
	git_error_set_str(GIT_ERROR_NET, "authentication required but no usable credentials");
	return GIT_EAUTH;
}

/* Does one known_hosts host pattern match name ("host" or "[host]:port")? */
static int kh_host_match(const char *pat, size_t plen, const char *name)
{
	char buf[512];

	if (plen >= sizeof(buf))
		return 0;
	if (plen > 3 && !strncmp(pat, "|1|", 3)) {
		const char *salt = pat + 3, *bar = memchr(salt, '|', plen - 3);
		unsigned char mac[EVP_MAX_MD_SIZE];
		unsigned int maclen = 0;
		char *s, *h;
		size_t slen, hlen;
		int ok = 0;

		if (!bar)
			return 0;
		s = fy_git_base64_decode(salt, (size_t)(bar - salt), &slen);
		h = fy_git_base64_decode(bar + 1, plen - (size_t)(bar + 1 - pat), &hlen);
		if (s && h && HMAC(EVP_sha1(), s, (int)slen, (const unsigned char *)name, strlen(name), mac, &maclen) &&
		    maclen == hlen && !memcmp(mac, h, hlen))
			ok = 1;
		free(s);
		free(h);
		return ok;
	}
	memcpy(buf, pat, plen);
	buf[plen] = 0;
	return fnmatch(buf, name, FNM_CASEFOLD) == 0;
}

/* 1 if known_hosts lists key (raw blob) for name. */
static int known_hosts_ok(const char *kh, const char *name, const char *key, size_t keylen)
{
	const char *line = kh;

	while (line && *line) {
		const char *eol = strchr(line, '\n'), *p = line, *hosts, *hend, *k, *kend;
		size_t llen = eol ? (size_t)(eol - line) : strlen(line);
		const char *end = line + llen;
		int host_ok = 0, negated = 0;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= end || *p == '#' || *p == '@')
			goto next;
		hosts = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		hend = p;
		for (const char *h = hosts; h < hend;) {
			const char *c = memchr(h, ',', (size_t)(hend - h));
			const char *he = c ? c : hend;
			if (*h == '!') {
				if (kh_host_match(h + 1, (size_t)(he - h - 1), name))
					negated = 1;
			} else if (kh_host_match(h, (size_t)(he - h), name)) {
				host_ok = 1;
			}
			h = c ? c + 1 : hend;
		}
		if (!host_ok || negated)
			goto next;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (p < end && *p != ' ' && *p != '\t') /* key type */
			p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		k = p;
		while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		kend = p;
		if (kend > k) {
			size_t dlen;
			char *d = fy_git_base64_decode(k, (size_t)(kend - k), &dlen);
			int ok = d && dlen == keylen && !memcmp(d, key, keylen);
			free(d);
			if (ok)
				return 1;
		}
next:
		line = eol ? eol + 1 : NULL;
	}
	return 0;
}

static int cert_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	struct netctx *nc = payload;
	const struct fy_git_creds *c = nc->creds;

	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2) {
		git_cert_hostkey *hk = (git_cert_hostkey *)cert;
		char name[280];

		if (c && c->insecure)
			return 0;
		if (!strcmp(nc->port, "22"))
			snprintf(name, sizeof(name), "%s", host);
		else
			snprintf(name, sizeof(name), "[%s]:%s", host, nc->port);
		if (!(hk->type & GIT_CERT_SSH_RAW) || !hk->hostkey) {
			snprintf(nc->hostkey_msg, sizeof(nc->hostkey_msg), "no raw ssh host key from '%s'", host);
		} else if (!c || !c->known_hosts || !*c->known_hosts) {
			snprintf(nc->hostkey_msg, sizeof(nc->hostkey_msg),
				 "ssh host key of '%s' cannot be verified: no known_hosts", name);
		} else if (known_hosts_ok(c->known_hosts, name, hk->hostkey, hk->hostkey_len)) {
			return 0;
		} else {
			snprintf(nc->hostkey_msg, sizeof(nc->hostkey_msg),
				 "ssh host key of '%s' is not in known_hosts", name);
		}
		nc->hostkey_failed = 1;
		git_error_set_str(GIT_ERROR_SSH, nc->hostkey_msg);
		return GIT_ECERTIFICATE;
	}
	if (valid)
		return 0;
	if (c && c->insecure)
		return 0;
	return GIT_PASSTHROUGH;
}

static int progress_cb(const git_indexer_progress *stats, void *payload)
{
	struct netctx *nc = payload;
	(void)stats;
	if (now_ms() > nc->deadline) {
		set_timed_out();
		return -1;
	}
	return 0;
}

static int sideband_cb(const char *str, int len, void *payload)
{
	struct netctx *nc = payload;
	(void)str;
	(void)len;
	if (now_ms() > nc->deadline) {
		set_timed_out();
		return -1;
	}
	return 0;
}

static void callbacks_init(git_remote_callbacks *cb, struct netctx *nc)
{
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb->credentials = cred_cb;
	cb->certificate_check = cert_cb;
	cb->transfer_progress = progress_cb;
	cb->sideband_progress = sideband_cb;
	cb->payload = nc;
}

/*
 * Custom headers for http(s): a bearer token, or basic auth sent with the
 * first request (one round trip less, and libgit2 1.5 mishandles a second
 * 401 that carries a body). Redirects are then not followed, so the
 * credentials go to the configured host only.
 */
struct headers {
	char *line;
	char *arr[1];
	git_strarray sa;
};

static char *b64(const char *in)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), o = 0;
	char *out = fy_xmalloc(n / 3 * 4 + 5);

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = 0;
	return out;
}

static void headers_init(struct headers *h, const char *url, const struct fy_git_creds *c, struct netctx *nc)
{
	enum fy_git_url_kind k = fy_git_url_kind(url);

	memset(h, 0, sizeof(*h));
	if (!c || (k != FY_GIT_URL_HTTP && k != FY_GIT_URL_HTTPS))
		return;
	if (c->bearer_token && *c->bearer_token && !strpbrk(c->bearer_token, "\r\n")) {
		h->line = fy_xasprintf("Authorization: Bearer %s", c->bearer_token);
	} else if (((c->username && *c->username) || (c->password && *c->password)) &&
		   !(c->username && strpbrk(c->username, "\r\n:")) && !(c->password && strpbrk(c->password, "\r\n"))) {
		char *up = fy_xasprintf("%s:%s", c->username ? c->username : "", c->password ? c->password : "");
		char *enc = b64(up);
		h->line = fy_xasprintf("Authorization: Basic %s", enc);
		explicit_bzero(up, strlen(up));
		explicit_bzero(enc, strlen(enc));
		free(up);
		free(enc);
	}
	if (h->line) {
		h->arr[0] = h->line;
		h->sa.strings = h->arr;
		h->sa.count = 1;
		nc->sent_auth = 1;
	}
}

static void headers_release(struct headers *h)
{
	if (h->line) {
		explicit_bzero(h->line, strlen(h->line));
		free(h->line);
	}
	memset(h, 0, sizeof(*h));
}

/* Replace every occurrence of secret in s (in place, by "***"). */
static void redact_in(char *s, size_t size, const char *secret)
{
	size_t sl;
	char *p;

	if (!secret || (sl = strlen(secret)) < 3)
		return;
	while ((p = strstr(s, secret))) {
		size_t tail = strlen(p + sl);
		if (sl < 3)
			break;
		memcpy(p, "***", 3);
		memmove(p + 3, p + sl, tail + 1);
	}
	(void)size;
}

static void redact_msg(char *msg, size_t size, const struct fy_git_creds *c, const char *url)
{
	if (c) {
		redact_in(msg, size, c->password);
		redact_in(msg, size, c->bearer_token);
		redact_in(msg, size, c->ssh_private_key);
	}
	if (url) {
		/* a password given inside the url */
		const char *a = strstr(url, "://"), *at, *colon;
		if (a) {
			a += 3;
			at = strchr(a, '@');
			colon = at ? memchr(a, ':', (size_t)(at - a)) : NULL;
			if (colon && at - colon > 1) {
				char *pw = fy_xstrndup(colon + 1, (size_t)(at - colon - 1));
				redact_in(msg, size, pw);
				free(pw);
			}
		}
	}
}

int fy_git_err_from_libgit2(struct fy_err *err, int code, const char *what)
{
	const git_error *e = git_error_last();
	int fc = FY_EUPSTREAM;

	if (code == GIT_ENOTFOUND)
		fc = FY_ENOTFOUND;
	return fy_err_set(err, fc, "%s: %s", what, e && e->message ? e->message : "unknown libgit2 error");
}

static int net_error(struct netctx *nc, int code, const char *what, struct fy_err *err)
{
	char *ru = fy_git_url_redact(nc->url);
	const git_error *e = git_error_last();
	char msg[400];
	int rc;

	snprintf(msg, sizeof(msg), "%s", e && e->message ? e->message : "unknown error");
	redact_msg(msg, sizeof(msg), nc->creds, nc->url);
	if (tl_timed_out)
		rc = fy_err_set(err, FY_ETIMEOUT, "%s '%s': timed out after %d ms", what, ru, fy_git_get_timeout_ms());
	else if (nc->hostkey_failed)
		rc = fy_err_set(err, FY_EUPSTREAM, "%s '%s': %s", what, ru, nc->hostkey_msg);
	else if (nc->no_creds)
		rc = fy_err_set(err, FY_EUNAUTHORIZED, "%s '%s': authentication required", what, ru);
	else if (nc->auth_failed || code == GIT_EAUTH)
		rc = fy_err_set(err, FY_EUNAUTHORIZED, "%s '%s': authentication failed", what, ru);
	else if (code == GIT_ECERTIFICATE)
		rc = fy_err_set(err, FY_EUPSTREAM, "%s '%s': tls certificate verification failed: %s", what, ru, msg);
	else
		rc = fy_err_set(err, FY_EUPSTREAM, "%s '%s': %s", what, ru, msg);
	free(ru);
	return rc;
}

/* An in-memory remote; no url.*.insteadOf rewriting from any config. */
static int remote_new(git_remote **out, git_repository *repo, const char *url)
{
	git_remote_create_options o;

	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = repo;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	return git_remote_create_with_opts(out, url, &o);
}

static int check_input(const char *url, struct fy_err *err)
{
	int rc = fy_git_global_init(err);
	if (rc)
		return rc;
	if ((rc = fy_git_url_check(url, err)))
		return rc;
	if (fy_git_url_kind(url) == FY_GIT_URL_SSH && !fy_git_ssh_supported())
		return fy_err_set(err, FY_EUNSUPPORTED, "ssh repositories are not supported: libgit2 was built without ssh");
	return 0;
}

/* ---- ls-remote ---- */

void fy_git_refs_release(struct fy_git_refs *refs)
{
	if (!refs)
		return;
	for (size_t i = 0; i < refs->n; i++) {
		free(refs->v[i].name);
		free(refs->v[i].symref_target);
	}
	free(refs->v);
	refs->v = NULL;
	refs->n = 0;
}

static int ls_remote(const char *url, const struct fy_git_creds *creds, struct fy_git_refs *refs,
		     struct fy_err *err);

/* argocd_git_request_total / _duration_seconds, labelled with the redacted URL */
static void git_metrics(const char *url, const char *type, uint64_t t0_us)
{
	char labels[512] = "";
	char *red = fy_git_url_redact(url);
	fy_metrics_label(labels, sizeof(labels), "repo", red ? red : "");
	fy_metrics_label(labels, sizeof(labels), "request_type", type);
	free(red);
	fy_metrics_counter_add("argocd_git_request_total", "Number of git requests performed by repo server", labels, 1);
	fy_metrics_observe("argocd_git_request_duration_seconds", "Git requests duration seconds.", labels,
			   (double)(fy_now_us() - t0_us) / 1e6);
}

int fy_git_ls_remote(const char *url, const struct fy_git_creds *creds, struct fy_git_refs *refs,
		     struct fy_err *err)
{
	uint64_t t0 = fy_now_us();
	int rc = ls_remote(url, creds, refs, err);
	git_metrics(url, "ls-remote", t0);
	return rc;
}

static int ls_remote(const char *url, const struct fy_git_creds *creds, struct fy_git_refs *refs,
		     struct fy_err *err)
{
	git_remote *remote = NULL;
	git_remote_connect_options co;
	const git_remote_head **heads = NULL;
	size_t nheads = 0;
	struct netctx nc;
	struct headers h;
	int rc, grc;

	refs->v = NULL;
	refs->n = 0;
	if ((rc = check_input(url, err)))
		return rc;
	netctx_init(&nc, url, creds);
	headers_init(&h, url, creds, &nc);
	git_remote_connect_options_init(&co, GIT_REMOTE_CONNECT_OPTIONS_VERSION);
	callbacks_init(&co.callbacks, &nc);
	if (h.sa.count) {
		co.custom_headers = h.sa;
		co.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	}
	tl_deadline = nc.deadline;
	tl_timed_out = 0;
	grc = remote_new(&remote, NULL, url);
	if (grc < 0) {
		rc = net_error(&nc, grc, "cannot list refs of", err);
		goto out;
	}
	grc = git_remote_connect_ext(remote, GIT_DIRECTION_FETCH, &co);
	if (grc < 0) {
		rc = net_error(&nc, grc, "cannot list refs of", err);
		goto out;
	}
	grc = git_remote_ls(&heads, &nheads, remote);
	if (grc < 0) {
		rc = net_error(&nc, grc, "cannot list refs of", err);
		goto out;
	}
	if (nheads > LS_REMOTE_MAX_REFS) {
		rc = fy_err_set(err, FY_ETOOLARGE, "repository advertises too many refs (%zu)", nheads);
		goto out;
	}
	refs->v = fy_xcalloc(nheads ? nheads : 1, sizeof(*refs->v));
	for (size_t i = 0; i < nheads; i++) {
		const char *name = heads[i]->name;
		size_t nl = strlen(name);
		char hex[41];

		git_oid_tostr(hex, sizeof(hex), &heads[i]->oid);
		if (nl > 3 && !strcmp(name + nl - 3, "^{}")) {
			/* peeled annotated tag: overrides the tag object's id */
			for (size_t j = refs->n; j-- > 0;) {
				if (strlen(refs->v[j].name) == nl - 3 && !strncmp(refs->v[j].name, name, nl - 3)) {
					memcpy(refs->v[j].sha, hex, 41);
					break;
				}
			}
			continue;
		}
		refs->v[refs->n].name = fy_xstrdup(name);
		memcpy(refs->v[refs->n].sha, hex, 41);
		if (heads[i]->symref_target)
			refs->v[refs->n].symref_target = fy_xstrdup(heads[i]->symref_target);
		refs->n++;
	}
	rc = 0;
out:
	if (remote) {
		git_remote_disconnect(remote);
		git_remote_free(remote);
	}
	headers_release(&h);
	tl_deadline = 0;
	if (rc)
		fy_git_refs_release(refs);
	return rc;
}

static const char *short_name(const char *ref)
{
	static const char *const pfx[] = { "refs/heads/", "refs/tags/", "refs/remotes/", NULL };
	for (int i = 0; pfx[i]; i++)
		if (!strncmp(ref, pfx[i], strlen(pfx[i])))
			return ref + strlen(pfx[i]);
	return ref;
}

int fy_git_refs_resolve(const struct fy_git_refs *refs, const char *rev, char sha[41], struct fy_err *err)
{
	const char **tags;
	const char *want, *symtarget = NULL;
	size_t ntags = 0, best = 0;
	int is_short, rc;

	if (!rev || !*rev)
		rev = "HEAD";
	if ((rc = fy_git_rev_check(rev, err)))
		return rc;
	if (fy_git_is_sha(rev) == 1) {
		for (int i = 0; i < 40; i++)
			sha[i] = (char)(rev[i] >= 'A' && rev[i] <= 'F' ? rev[i] + 32 : rev[i]);
		sha[40] = 0;
		return 0;
	}
	want = rev;
	tags = fy_xcalloc(refs->n + 1, sizeof(*tags));
	for (size_t i = 0; i < refs->n; i++)
		if (!strncmp(refs->v[i].name, "refs/tags/", 10))
			tags[ntags++] = refs->v[i].name + 10;
	if (fy_semver_max_tag(rev, tags, ntags, &best, NULL) == 0)
		want = tags[best];
	is_short = strncmp(want, "refs/", 5) != 0;
	for (size_t i = 0; i < refs->n; i++) {
		const struct fy_git_ref *r = &refs->v[i];
		if ((is_short && !strcmp(short_name(r->name), want)) || !strcmp(r->name, want)) {
			if (r->symref_target) {
				symtarget = r->symref_target;
				for (size_t j = 0; j < refs->n; j++) {
					if (!strcmp(refs->v[j].name, symtarget)) {
						memcpy(sha, refs->v[j].sha, 41);
						free(tags);
						return 0;
					}
				}
			}
			memcpy(sha, r->sha, 41);
			free(tags);
			return 0;
		}
	}
	free(tags);
	if (fy_git_is_sha(rev) == 2)
		return 1;
	return fy_err_set(err, FY_ENOTFOUND, "unable to resolve '%s' to a commit SHA", rev);
}

/* ---- cache ---- */

struct fy_git_cache {
	pthread_mutex_t mu;
	char *dir;
	struct fy_git_repo *repos;
};

static int mkdir_p(const char *path)
{
	char *p = fy_xstrdup(path);
	int rc = 0;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0700) && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (!rc && mkdir(p, 0700) && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

int fy_git_cache_new(struct fy_git_cache **out, const char *state_dir, struct fy_err *err)
{
	struct fy_git_cache *c;
	char *repos;
	int rc;

	*out = NULL;
	if ((rc = fy_git_global_init(err)))
		return rc;
	if (!state_dir || !*state_dir)
		return fy_err_set(err, FY_EINVALID, "git cache directory is empty");
	repos = fy_xasprintf("%s/repos", state_dir);
	if (mkdir_p(repos)) {
		rc = fy_err_set(err, FY_EIO, "cannot create '%s': %s", repos, strerror(errno));
		free(repos);
		return rc;
	}
	free(repos);
	c = fy_xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	c->dir = fy_xstrdup(state_dir);
	*out = c;
	return 0;
}

void fy_git_cache_free(struct fy_git_cache *c)
{
	struct fy_git_repo *r, *next;

	if (!c)
		return;
	for (r = c->repos; r; r = next) {
		next = r->next;
		git_repository_free(r->repo);
		pthread_mutex_destroy(&r->mu);
		free(r->url);
		free(r->path);
		free(r->lockpath);
		free(r);
	}
	pthread_mutex_destroy(&c->mu);
	free(c->dir);
	free(c);
}

const char *fy_git_repo_path(const struct fy_git_repo *r)
{
	return r->path;
}

const char *fy_git_repo_url(const struct fy_git_repo *r)
{
	return r->url;
}

/* Exclusive flock on path, waiting until the deadline. Returns fd or <0. */
static int lock_file(const char *path, int64_t deadline, struct fy_err *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return fy_err_set(err, FY_EIO, "cannot open lock '%s': %s", path, strerror(errno));
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(fd);
			return fy_err_set(err, FY_EIO, "cannot lock '%s': %s", path, strerror(errno));
		}
		if (now_ms() > deadline) {
			close(fd);
			return fy_err_set(err, FY_ETIMEOUT, "timed out waiting for lock '%s'", path);
		}
		usleep(20000);
	}
}

static void unlock_file(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}

static void sha256_hex(const char *s, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	for (unsigned i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = 0;
}

int fy_git_cache_open(struct fy_git_cache *c, const char *url, struct fy_git_repo **out, struct fy_err *err)
{
	struct fy_git_repo *r;
	char *norm, hex[65], *path = NULL, *lockpath = NULL;
	git_repository *repo = NULL;
	int rc, fd = -1, grc;
	struct stat st;

	*out = NULL;
	if ((rc = check_input(url, err)))
		return rc;
	norm = fy_git_url_normalize(url);
	sha256_hex(norm, hex);
	free(norm);
	pthread_mutex_lock(&c->mu);
	for (r = c->repos; r; r = r->next) {
		if (!strcmp(r->path + strlen(r->path) - 64, hex)) {
			*out = r;
			pthread_mutex_unlock(&c->mu);
			return 0;
		}
	}
	path = fy_xasprintf("%s/repos/%s", c->dir, hex);
	lockpath = fy_xasprintf("%s/repos/%s.lock", c->dir, hex);
	fd = lock_file(lockpath, now_ms() + fy_git_get_timeout_ms(), err);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	if (stat(path, &st) == 0)
		grc = git_repository_open_bare(&repo, path);
	else
		grc = git_repository_init(&repo, path, 1);
	if (grc < 0) {
		rc = fy_git_err_from_libgit2(err, grc, "cannot open the repository cache");
		goto out;
	}
	r = fy_xcalloc(1, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->repo = repo;
	r->url = fy_xstrdup(url);
	r->path = path;
	r->lockpath = lockpath;
	path = lockpath = NULL;
	r->next = c->repos;
	c->repos = r;
	*out = r;
	rc = 0;
out:
	unlock_file(fd);
	pthread_mutex_unlock(&c->mu);
	free(path);
	free(lockpath);
	return rc;
}

/* Fetch with r->mu held. */
static int fetch_locked(struct fy_git_repo *r, const struct fy_git_creds *creds, struct fy_err *err)
{
	static char *specs[] = { "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*" };
	git_strarray refspecs = { specs, 2 };
	git_fetch_options fo;
	git_remote *remote = NULL;
	git_buf defbranch = { 0 };
	struct netctx nc;
	struct headers h;
	int rc, grc, fd;

	netctx_init(&nc, r->url, creds);
	fd = lock_file(r->lockpath, nc.deadline, err);
	if (fd < 0)
		return fd;
	headers_init(&h, r->url, creds, &nc);
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	callbacks_init(&fo.callbacks, &nc);
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.update_fetchhead = 0;
	if (h.sa.count) {
		fo.custom_headers = h.sa;
		fo.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	}
	tl_deadline = nc.deadline;
	tl_timed_out = 0;
	grc = remote_new(&remote, r->repo, r->url);
	if (grc == 0)
		grc = git_remote_fetch(remote, &refspecs, &fo, "fetch");
	if (grc < 0) {
		rc = net_error(&nc, grc, "cannot fetch", err);
		goto out;
	}
	/* remember the default branch for offline use */
	if (git_remote_default_branch(&defbranch, remote) == 0 && defbranch.ptr &&
	    !strncmp(defbranch.ptr, "refs/heads/", 11))
		git_repository_set_head(r->repo, defbranch.ptr);
	git_buf_dispose(&defbranch);
	rc = 0;
out:
	git_remote_free(remote);
	headers_release(&h);
	tl_deadline = 0;
	unlock_file(fd);
	return rc;
}

int fy_git_fetch(struct fy_git_repo *r, const struct fy_git_creds *creds, struct fy_err *err)
{
	int rc;

	uint64_t t0 = fy_now_us();
	pthread_mutex_lock(&r->mu);
	rc = fetch_locked(r, creds, err);
	pthread_mutex_unlock(&r->mu);
	git_metrics(r->url, "fetch", t0);
	return rc;
}

/* Look up rev (full or abbreviated hex) as a commit in the repository.
 * 0 found (sha = the commit), 1 absent, <0 error (ambiguous). */
static int local_commit(struct fy_git_repo *r, const char *hex, char sha[41], struct fy_err *err)
{
	git_oid oid;
	git_object *obj = NULL, *peeled = NULL;
	size_t len = strlen(hex);
	int grc;

	if (git_oid_fromstrn(&oid, hex, len) < 0)
		return 1;
	if (len == 40)
		grc = git_object_lookup(&obj, r->repo, &oid, GIT_OBJECT_ANY);
	else
		grc = git_object_lookup_prefix(&obj, r->repo, &oid, len, GIT_OBJECT_ANY);
	if (grc == GIT_ENOTFOUND)
		return 1;
	if (grc == GIT_EAMBIGUOUS)
		return fy_err_set(err, FY_ECONFLICT, "short SHA '%s' is ambiguous", hex);
	if (grc < 0)
		return fy_git_err_from_libgit2(err, grc, "cannot read the repository");
	grc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (grc < 0)
		return fy_err_set(err, FY_ENOTFOUND, "'%s' is not a commit", hex);
	git_oid_tostr(sha, 41, git_object_id(peeled));
	git_object_free(peeled);
	return 0;
}

int fy_git_resolve(struct fy_git_repo *r, const char *rev, const struct fy_git_creds *creds,
		   const struct fy_git_refs *refs, char sha[41], struct fy_err *err)
{
	struct fy_git_refs own = { NULL, 0 };
	const char *shown = rev && *rev ? rev : "HEAD";
	char want[41];
	int rc, lrc, shortsha = 0;

	sha[0] = 0;
	if ((rc = fy_git_rev_check(rev, err)))
		return rc;
	if (fy_git_is_sha(shown) == 1) {
		snprintf(want, sizeof(want), "%s", shown);
	} else {
		if (!refs) {
			if ((rc = fy_git_ls_remote(r->url, creds, &own, err)))
				return rc;
			refs = &own;
		}
		rc = fy_git_refs_resolve(refs, rev, want, err);
		fy_git_refs_release(&own);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			shortsha = 1;
			snprintf(want, sizeof(want), "%s", shown);
		}
	}
	pthread_mutex_lock(&r->mu);
	lrc = local_commit(r, want, sha, err);
	if (lrc == 1) {
		rc = fetch_locked(r, creds, err);
		if (rc)
			goto out;
		lrc = local_commit(r, want, sha, err);
	}
	if (lrc < 0) {
		rc = lrc;
		goto out;
	}
	if (lrc == 1) {
		if (shortsha || fy_git_is_sha(shown) == 1)
			rc = fy_err_set(err, FY_ENOTFOUND, "unable to resolve '%s' to a commit SHA", shown);
		else
			rc = fy_err_set(err, FY_ENOTFOUND, "revision '%s' (%s) is not in the repository after fetch",
					shown, want);
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&r->mu);
	if (rc)
		sha[0] = 0;
	return rc;
}

/* ---- commit metadata ---- */

void fy_git_commit_meta_release(struct fy_git_commit_meta *m)
{
	if (!m)
		return;
	free(m->author);
	free(m->date);
	free(m->message);
	memset(m, 0, sizeof(*m));
}

int fy_git_commit_meta(struct fy_git_repo *r, const char *sha, struct fy_git_commit_meta *m, struct fy_err *err)
{
	git_commit *commit = NULL;
	git_oid oid;
	const git_signature *a;
	const char *msg, *end;
	char date[64], full[41];
	struct tm tm;
	time_t t;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!sha || !fy_git_is_sha(sha))
		return fy_err_set(err, FY_EINVALID, "'%s' is not a commit SHA", sha ? sha : "");
	pthread_mutex_lock(&r->mu);
	rc = local_commit(r, sha, full, err);
	if (rc == 1)
		rc = fy_err_set(err, FY_ENOTFOUND, "commit '%s' not found", sha);
	if (rc)
		goto out;
	git_oid_fromstr(&oid, full);
	if (git_commit_lookup(&commit, r->repo, &oid) < 0) {
		rc = fy_git_err_from_libgit2(err, GIT_ERROR, "cannot read commit");
		goto out;
	}
	a = git_commit_author(commit);
	memcpy(m->sha, full, 41);
	m->author = fy_xasprintf("%s <%s>", a->name ? a->name : "", a->email ? a->email : "");
	t = (time_t)a->when.time;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	m->date = fy_xstrdup(date);
	msg = git_commit_message(commit);
	if (!msg)
		msg = "";
	while (*msg == ' ' || *msg == '\n' || *msg == '\t' || *msg == '\r')
		msg++;
	end = msg + strlen(msg);
	while (end > msg && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	m->message = fy_xstrndup(msg, (size_t)(end - msg));
	rc = 0;
out:
	git_commit_free(commit);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* ---- temp checkout ---- */

struct co {
	git_repository *repo;
	git_tree *root;
	long long bytes;
	long entries;
	struct fy_err *err;
};

static int co_tree(struct co *co, const git_tree *tree, int dirfd, const char *prefix, int depth)
{
	size_t n = git_tree_entrycount(tree);
	int rc = 0;

	if (depth > CHECKOUT_MAX_DEPTH)
		return fy_err_set(co->err, FY_ETOOLARGE, "repository tree is nested too deeply at '%s'", prefix);
	for (size_t i = 0; i < n && !rc; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);
		git_filemode_t mode = git_tree_entry_filemode(e);
		char *path = *prefix ? fy_xasprintf("%s/%s", prefix, name) : fy_xstrdup(name);

		if (++co->entries > CHECKOUT_MAX_ENTRIES) {
			rc = fy_err_set(co->err, FY_ETOOLARGE, "repository tree has too many entries");
		} else if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/')) {
			rc = fy_err_set(co->err, FY_EFORBIDDEN, "invalid tree entry name in '%s'", prefix);
		} else if (mode == GIT_FILEMODE_TREE) {
			git_tree *sub = NULL;
			int fd;
			if (git_tree_lookup(&sub, co->repo, git_tree_entry_id(e)) < 0) {
				rc = fy_git_err_from_libgit2(co->err, GIT_ERROR, "cannot read tree");
			} else if (mkdirat(dirfd, name, 0755) || (fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
				rc = fy_err_set(co->err, FY_EIO, "cannot create '%s': %s", path, strerror(errno));
			} else {
				rc = co_tree(co, sub, fd, path, depth + 1);
				close(fd);
			}
			git_tree_free(sub);
		} else if (mode == GIT_FILEMODE_COMMIT) {
			if (mkdirat(dirfd, name, 0755))
				rc = fy_err_set(co->err, FY_EIO, "cannot create '%s': %s", path, strerror(errno));
		} else if (mode == GIT_FILEMODE_LINK) {
			enum fy_git_res kind;
			git_oid oid;
			git_blob *blob = NULL;
			rc = fy_git_tree_resolve(co->repo, co->root, path, 1, &kind, &oid, NULL, co->err);
			if (!rc && git_blob_lookup(&blob, co->repo, git_tree_entry_id(e)) < 0)
				rc = fy_git_err_from_libgit2(co->err, GIT_ERROR, "cannot read symlink");
			if (!rc) {
				size_t len = (size_t)git_blob_rawsize(blob);
				char *target = fy_xstrndup(git_blob_rawcontent(blob), len);
				if (strlen(target) != len || symlinkat(target, dirfd, name))
					rc = fy_err_set(co->err, FY_EIO, "cannot create symlink '%s'", path);
				free(target);
			}
			git_blob_free(blob);
		} else if (mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE) {
			git_blob *blob = NULL;
			if (git_blob_lookup(&blob, co->repo, git_tree_entry_id(e)) < 0) {
				rc = fy_git_err_from_libgit2(co->err, GIT_ERROR, "cannot read blob");
			} else {
				const char *data = git_blob_rawcontent(blob);
				size_t len = (size_t)git_blob_rawsize(blob), off = 0;
				int fd;
				co->bytes += (long long)len;
				if (co->bytes > CHECKOUT_MAX_BYTES) {
					rc = fy_err_set(co->err, FY_ETOOLARGE, "repository tree is too large");
				} else if ((fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
							mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644)) < 0) {
					rc = fy_err_set(co->err, FY_EIO, "cannot create '%s': %s", path, strerror(errno));
				} else {
					while (off < len) {
						ssize_t w = write(fd, data + off, len - off);
						if (w < 0 && errno == EINTR)
							continue;
						if (w <= 0) {
							rc = fy_err_set(co->err, FY_EIO, "cannot write '%s': %s", path, strerror(errno));
							break;
						}
						off += (size_t)w;
					}
					close(fd);
				}
			}
			git_blob_free(blob);
		}
		free(path);
	}
	return rc;
}

int fy_git_checkout_tmp(struct fy_git_repo *r, const char *sha, char **dir, struct fy_err *err)
{
	const char *tmp = getenv("TMPDIR");
	char full[41], *d;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_oid oid;
	struct co co;
	int rc, fd = -1;

	*dir = NULL;
	if (!sha || !fy_git_is_sha(sha))
		return fy_err_set(err, FY_EINVALID, "'%s' is not a commit SHA", sha ? sha : "");
	if (!tmp || !*tmp || tmp[0] != '/')
		tmp = "/tmp";
	d = fy_xasprintf("%s/ferry-git-XXXXXX", tmp);
	if (!mkdtemp(d)) {
		rc = fy_err_set(err, FY_EIO, "cannot create a temporary directory: %s", strerror(errno));
		free(d);
		return rc;
	}
	pthread_mutex_lock(&r->mu);
	rc = local_commit(r, sha, full, err);
	if (rc == 1)
		rc = fy_err_set(err, FY_ENOTFOUND, "commit '%s' not found", sha);
	if (rc)
		goto out;
	git_oid_fromstr(&oid, full);
	if (git_commit_lookup(&commit, r->repo, &oid) < 0 || git_commit_tree(&tree, commit) < 0) {
		rc = fy_git_err_from_libgit2(err, GIT_ERROR, "cannot read commit");
		goto out;
	}
	fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = fy_err_set(err, FY_EIO, "cannot open '%s': %s", d, strerror(errno));
		goto out;
	}
	memset(&co, 0, sizeof(co));
	co.repo = r->repo;
	co.root = tree;
	co.err = err;
	rc = co_tree(&co, tree, fd, "", 0);
out:
	if (fd >= 0)
		close(fd);
	git_tree_free(tree);
	git_commit_free(commit);
	pthread_mutex_unlock(&r->mu);
	if (rc) {
		fy_git_tmp_remove(d);
		free(d);
		return rc;
	}
	*dir = d;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) ? -1 : 0;
}

int fy_git_tmp_remove(const char *dir)
{
	if (!dir || !*dir || !strcmp(dir, "/"))
		return FY_EINVALID;
	if (nftw(dir, rm_one, 32, FTW_DEPTH | FTW_PHYS) != 0)
		return FY_EIO;
	return 0;
}
