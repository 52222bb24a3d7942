/*
 * kclient.h - the Kubernetes API client (libcurl + jansson). No kubectl.
 *
 * Three layers:
 *  1. struct fy_kc_config: where and how to connect. Filled from a
 *     kubeconfig file (a named or the current context), from the in-cluster
 *     service account, or from an Argo CD cluster Secret. Plain data: the
 *     caller owns it, fy_kc_config_release frees every string.
 *  2. struct fy_kc: a connected client built from a config (deep-copied).
 *     Discovery cache, REST verbs (get/list/create/update/patch/delete),
 *     a raw request escape hatch.
 *  3. struct fy_kc_watch: list+watch ("informer") on a dedicated thread.
 *
 * Thread-safety: a struct fy_kc is shared freely between threads; every
 * function taking one may be called concurrently (internally: a pool of
 * curl easy handles, a mutex around the discovery cache, the rate limiter
 * and the exec-credential cache). A struct fy_kc_config is not shared:
 * one thread fills it, then fy_kc_new copies it. A watch's callback runs on
 * the watch's own thread; callbacks of different watches run concurrently.
 *
 * Ownership: json_t* parameters are borrowed; json_t** outputs receive a
 * new reference (the caller json_decref()s it) and are set to NULL on
 * error. Strings returned through char** are malloc'd (caller frees).
 *
 * Errors: int 0 or a negative FY_E* code with struct fy_err filled (err may
 * be NULL). HTTP status -> code: 400 FY_EBADREQUEST, 401 FY_EUNAUTHORIZED,
 * 403 FY_EFORBIDDEN, 404 FY_ENOTFOUND, 405 FY_EMETHOD, 406
 * FY_ENOTACCEPTABLE, 409 FY_ECONFLICT (reason AlreadyExists ->
 * FY_EEXISTS), 410 FY_EGONE, 413 FY_ETOOLARGE, 415 FY_EUNSUPPORTED, 422
 * FY_EINVALID (err->field = first details.causes[].field), 429/500/502/
 * 503 FY_EUPSTREAM, 504 FY_ETIMEOUT; connection failures FY_EUPSTREAM,
 * curl timeouts FY_ETIMEOUT. The message is the server's Status.message
 * when there is one ("the server's words"), else "METHOD PATH: HTTP N".
 * An unknown apiVersion/kind (not in discovery) is FY_ENOTFOUND with
 * "no resource for kind \"K\" in \"G/V\"".
 *
 * Secrets: tokens, passwords, client keys and exec plugin output are never
 * logged nor put in an error message; URLs in messages carry no
 * credentials (we never put any in URLs).
 *
 * Timeouts and retries: every request has a connect timeout and a total
 * timeout (config; per-call override in struct fy_kc_opts). Idempotent
 * requests (GET, LIST, PUT, DELETE, and the raw call when asked) are retried
 * with exponential backoff plus jitter (100 ms doubling, at most 2 s) on
 * connection errors and on 429/500/502/503/504, honouring Retry-After up to
 * 5 s, at most cfg.max_retries times. POST and PATCH are not retried after
 * the request may have reached the server (only on failure to connect).
 * Client-side rate limit: token bucket of cfg.qps per second, cfg.burst
 * deep, shared by every thread; a request waits for a token (watch
 * streams take one token per (re)connect).
 */
#ifndef FY_KCLIENT_H
#define FY_KCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include "util/err.h"

/* ---------------------------------------------------------------- config */

/* An exec credential plugin (kubeconfig users[].user.exec). */
struct fy_kc_exec {
	char *api_version;  /* client.authentication.k8s.io/v1 or v1beta1 */
	char *command;      /* looked up in PATH unless it has a '/' */
	char **args;        /* NULL-terminated (may be NULL) */
	char **env;         /* NULL-terminated "NAME=value" pairs added to ours */
	int timeout_ms;     /* 0: 30000; the plugin is killed after it */
};

struct fy_kc_config {
	char *name;             /* context or cluster name (informational) */
	char *server;           /* "https://host:port" (no trailing slash) */
	/* TLS: ca_pem takes precedence over ca_file; none = system CAs */
	char *ca_pem;
	char *ca_file;
	int insecure;           /* skip server certificate verification */
	char *tls_server_name;  /* verify the certificate for this name */
	/* credentials, first present wins: exec, token, token_file, basic;
	 * a client certificate may be combined with any of them */
	char *token;
	char *token_file;       /* re-read at most once a minute */
	char *cert_pem, *key_pem;   /* client certificate and key (PEM data) */
	char *cert_file, *key_file; /* or files (data wins) */
	char *username, *password;  /* basic auth */
	struct fy_kc_exec *exec;    /* NULL if none */
	char *namespace;        /* the context's namespace; NULL: "default" */
	/* client behaviour; 0 = default */
	double qps;             /* default $FERRY_K8S_CLIENT_QPS or 500 */
	int burst;              /* default $FERRY_K8S_CLIENT_BURST or 1000 */
	int connect_timeout_ms; /* default 10000 */
	int timeout_ms;         /* total per request, default 60000 (not watch streams) */
	int max_retries;        /* default 4; -1 = no retries */
	size_t max_response;    /* bytes per response body, default 256 MiB */
	size_t max_event;       /* bytes per watch event, default 16 MiB */
};

void fy_kc_config_init(struct fy_kc_config *cfg);
void fy_kc_config_release(struct fy_kc_config *cfg);
/* Deep copy (dst is initialised by this call). */
void fy_kc_config_copy(struct fy_kc_config *dst, const struct fy_kc_config *src);

/*
 * Load a kubeconfig file. context NULL or "" means current-context.
 * Relative file paths (certificate-authority, client-certificate,
 * client-key, tokenFile, exec command with a '/') are resolved against
 * the kubeconfig's directory. *-data fields are base64 (decoded here).
 * cfg is initialised by this call (and released on error).
 */
int fy_kc_config_from_kubeconfig(struct fy_kc_config *cfg, const char *path, const char *context,
				 struct fy_err *err);
/* Same from an already parsed kubeconfig document; dir for relative paths (may be NULL). */
int fy_kc_config_from_kubeconfig_json(struct fy_kc_config *cfg, const json_t *doc, const char *dir,
				      const char *context, struct fy_err *err);

/*
 * In-cluster config: DIR/token (as token_file), DIR/ca.crt, DIR/namespace,
 * server https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (IPv6
 * hosts bracketed). dir NULL means $FERRY_SA_DIR if set, else
 * /var/run/secrets/kubernetes.io/serviceaccount. FY_ENOTFOUND when not
 * in a cluster (no env or no token).
 */
int fy_kc_config_in_cluster(struct fy_kc_config *cfg, const char *dir, struct fy_err *err);

/*
 * Default chain: kubeconfig (path if non-NULL, else $KUBECONFIG's first
 * entry, else ~/.kube/config when it exists), else in-cluster.
 */
int fy_kc_config_default(struct fy_kc_config *cfg, const char *path, const char *context, struct fy_err *err);

/*
 * An Argo CD cluster Secret (a v1 Secret object; data.* base64, or
 * stringData.* plain): name, server, config JSON {bearerToken, username,
 * password, tlsClientConfig{insecure, caData, certData, keyData,
 * serverName}, execProviderConfig{command, args, env{}, apiVersion}}.
 * The *Data fields are base64 of PEM, as Argo CD stores them. namespaces
 * (data.namespaces) is ignored. FY_EINVALID when server is missing or the
 * label argocd.argoproj.io/secret-type is not "cluster", or config is bad.
 * cfg->name = data.name (or the server).
 */
int fy_kc_config_from_cluster_secret(struct fy_kc_config *cfg, const json_t *secret, struct fy_err *err);

/* ---------------------------------------------------------------- client */

struct fy_kc;

/* Build a client (copies cfg). Does no network I/O. */
int fy_kc_new(struct fy_kc **out, const struct fy_kc_config *cfg, struct fy_err *err);
/* Free a client. Every watch on it must be stopped first. */
void fy_kc_free(struct fy_kc *kc);
/* The server URL and the default namespace (valid while kc lives). */
const char *fy_kc_server(const struct fy_kc *kc);
const char *fy_kc_namespace(const struct fy_kc *kc);

/* Counters, for tests and metrics. */
struct fy_kc_stats {
	uint64_t requests;     /* HTTP requests sent (retries included) */
	uint64_t retries;
	uint64_t discovery;    /* discovery refreshes */
	uint64_t throttled_ms; /* total time waited for the rate limiter */
};
void fy_kc_get_stats(struct fy_kc *kc, struct fy_kc_stats *out);

/* ------------------------------------------------------------- discovery */

enum {
	FY_KC_VERB_GET = 1 << 0,
	FY_KC_VERB_LIST = 1 << 1,
	FY_KC_VERB_WATCH = 1 << 2,
	FY_KC_VERB_CREATE = 1 << 3,
	FY_KC_VERB_UPDATE = 1 << 4,
	FY_KC_VERB_PATCH = 1 << 5,
	FY_KC_VERB_DELETE = 1 << 6,
	FY_KC_VERB_DELETECOLLECTION = 1 << 7,
};

/* One API resource (no subresources). Plain value: no freeing. */
struct fy_kc_resource {
	char group[128];       /* "" for the core group */
	char version[64];
	char api_version[200]; /* "v1" or "apps/v1" */
	char kind[128];
	char name[128];        /* plural resource name, "deployments" */
	int namespaced;
	unsigned verbs;        /* FY_KC_VERB_* */
	int preferred;         /* version is its group's preferred version */
};

/*
 * Map apiVersion + kind to its resource. Served from the cache; on a miss
 * the cache is refreshed (at most once per 5 s; a refresh that fails
 * keeps the old cache), then FY_ENOTFOUND if still unknown.
 */
int fy_kc_resolve(struct fy_kc *kc, const char *api_version, const char *kind, struct fy_kc_resource *out,
		  struct fy_err *err);
/*
 * Every resource of the server (every group, every served version;
 * subresources left out; .preferred marks the group's preferred version,
 * which a cache watching "everything" should use). *out is a malloc'd array (free()), *n its size.
 * refresh nonzero forces a refresh (still rate limited to once per 5 s).
 */
int fy_kc_resources(struct fy_kc *kc, int refresh, struct fy_kc_resource **out, size_t *n, struct fy_err *err);
/* Drop the cache (after a CRD change); the next call refreshes. */
void fy_kc_discovery_invalidate(struct fy_kc *kc);

/* ------------------------------------------------------------------ REST */

/* Per-call options; a NULL struct fy_kc_opts* means all defaults. */
struct fy_kc_opts {
	int dry_run;                 /* dryRun=All */
	const char *field_manager;   /* fieldManager= (create, update, patch) */
	int force;                   /* force=true (apply patches only) */
	const char *subresource;     /* "status", "scale" (get/update/patch) */
	const char *propagation;     /* delete: Foreground|Background|Orphan */
	const char *precondition_uid;/* delete preconditions */
	const char *precondition_rv;
	int grace_period_s;          /* delete: -1 unset (use -1 or set explicitly; 0 means 0) */
	int timeout_ms;              /* 0: the client's default */
};
/* Initialise opts with every field unset (grace_period_s = -1). */
void fy_kc_opts_init(struct fy_kc_opts *o);

struct fy_kc_list_opts {
	const char *label_selector;
	const char *field_selector;
	long limit;            /* page size; 0 = server default (no paging) */
	const char *cont;      /* continue token of a previous single page */
	int single_page;       /* 1: return one page; its metadata.continue tells the next */
	const char *resource_version; /* resourceVersion= (e.g. "0"), NULL none */
};

/*
 * Object addressing: (api_version, kind) is resolved through discovery;
 * ns is ignored for cluster-scoped kinds; for namespaced kinds ns NULL or
 * "" means the client's default namespace, except list where NULL/"" means
 * all namespaces.
 */
int fy_kc_get(struct fy_kc *kc, const char *api_version, const char *kind, const char *ns, const char *name,
	      const struct fy_kc_opts *o, json_t **out, struct fy_err *err);

/*
 * LIST. Without single_page, every page is fetched (following continue)
 * and *out is one List {apiVersion, kind: "<Kind>List", metadata:
 * {resourceVersion of the first page}, items[]} where every item carries
 * apiVersion and kind (which servers omit in lists). A 410 in the middle
 * of paging restarts the whole list once.
 */
int fy_kc_list(struct fy_kc *kc, const char *api_version, const char *kind, const char *ns,
	       const struct fy_kc_list_opts *lo, json_t **out, struct fy_err *err);

/*
 * LIST item by item, for large lists: pages of lo->limit objects (500 when
 * unset; lo may be NULL), each item handed to fn (borrowed; apiVersion and
 * kind set) as its page arrives, so that at most one page is held. fn
 * returns 0 to go on; any other value stops the listing and is returned.
 * A 410 in the middle (continue token expired) is FY_EGONE: the items
 * already handed over stay handed over, the caller starts again if it
 * wants to (fy_kc_list restarts by itself as it holds everything).
 */
typedef int (*fy_kc_item_fn)(void *ud, json_t *item);
int fy_kc_list_each(struct fy_kc *kc, const char *api_version, const char *kind, const char *ns,
		    const struct fy_kc_list_opts *lo, fy_kc_item_fn fn, void *ud, struct fy_err *err);

/* POST. Namespace from obj's metadata.namespace (default namespace if empty). */
int fy_kc_create(struct fy_kc *kc, const json_t *obj, const struct fy_kc_opts *o, json_t **out,
		 struct fy_err *err);
/* PUT of the whole object (metadata.resourceVersion, if set, is the precondition). */
int fy_kc_update(struct fy_kc *kc, const json_t *obj, const struct fy_kc_opts *o, json_t **out,
		 struct fy_err *err);

enum fy_kc_patch_type {
	FY_KC_PATCH_JSON = 0,   /* application/json-patch+json (patch is an array) */
	FY_KC_PATCH_MERGE,      /* application/merge-patch+json */
	FY_KC_PATCH_STRATEGIC,  /* application/strategic-merge-patch+json */
	FY_KC_PATCH_APPLY,      /* application/apply-patch+yaml (JSON body); field_manager required */
};
int fy_kc_patch(struct fy_kc *kc, const char *api_version, const char *kind, const char *ns, const char *name,
		enum fy_kc_patch_type type, const json_t *patch, const struct fy_kc_opts *o, json_t **out,
		struct fy_err *err);

/* DELETE with DeleteOptions built from o. out (may be NULL) gets the response (object or Status). */
int fy_kc_delete(struct fy_kc *kc, const char *api_version, const char *kind, const char *ns, const char *name,
		 const struct fy_kc_opts *o, json_t **out, struct fy_err *err);

/*
 * Raw request: method "GET"..., path with query ("/api/v1/namespaces"),
 * body JSON or NULL, content_type NULL = application/json. *status gets
 * the HTTP status (0 if none); *out the parsed body (JSON null if empty,
 * a string if not JSON). Non-2xx statuses are errors as above (out still
 * set). retry nonzero allows retries (only for idempotent requests).
 */
int fy_kc_raw(struct fy_kc *kc, const char *method, const char *path, const json_t *body,
	      const char *content_type, int retry, int *status, json_t **out, struct fy_err *err);

/* Build the collection path of a resource: "/apis/apps/v1/namespaces/NS/deployments" (malloc'd). */
char *fy_kc_path(const struct fy_kc_resource *r, const char *ns, const char *name, const char *subresource);

/* ----------------------------------------------------------------- watch */

enum fy_kc_event {
	FY_KC_ADDED = 1,
	FY_KC_MODIFIED,
	FY_KC_DELETED,
	FY_KC_SYNCED,   /* a (re)list has been fully delivered; obj is NULL */
};

/*
 * Callback: obj is borrowed (json_incref to keep it); it always carries
 * apiVersion and kind. Runs on the watch thread; must not call
 * fy_kc_watch_stop on its own watch. It may call any fy_kc_* function.
 */
typedef void (*fy_kc_watch_fn)(void *ud, enum fy_kc_event type, json_t *obj);

struct fy_kc_watch_opts {
	const char *api_version, *kind; /* resolved through discovery at start */
	const char *ns;                 /* NULL/"" = all namespaces */
	const char *label_selector;
	const char *field_selector;
	long page_size;                 /* LIST page size, default 500 */
	int timeout_s;                  /* server-side timeoutSeconds per watch request, default 300 */
	fy_kc_watch_fn fn;
	void *ud;
};

struct fy_kc_watch;

/*
 * Start a list+watch on a new thread. The thread LISTs (paged), delivers
 * ADDED for every item and then FY_KC_SYNCED, then WATCHes from the list's
 * resourceVersion with allowWatchBookmarks=true and delivers ADDED/
 * MODIFIED/DELETED (bookmarks only advance the resourceVersion). After a
 * disconnect or a server-side timeout it resumes from the last seen
 * resourceVersion (after a backoff of 100 ms doubling to 5 s). On 410
 * Gone (HTTP or an ERROR event with code 410) it re-LISTs and reconciles
 * against what it has delivered: ADDED for new objects, MODIFIED for
 * objects whose resourceVersion changed, DELETED for objects gone (with a
 * stub object: apiVersion, kind, metadata {name, namespace, uid,
 * resourceVersion} as last seen), then FY_KC_SYNCED again. So the consumer
 * never misses a state change, though intermediate states may be coalesced.
 * The watch keeps one small entry per object (key, uid, resourceVersion).
 * Events larger than cfg.max_event bytes are a protocol error: the stream
 * is dropped and the watch re-LISTs.
 * Start fails (synchronously) only when the kind cannot be resolved.
 */
int fy_kc_watch_start(struct fy_kc *kc, const struct fy_kc_watch_opts *wo, struct fy_kc_watch **out,
		      struct fy_err *err);
/* Has the first list been delivered? (FY_KC_SYNCED seen) */
int fy_kc_watch_synced(struct fy_kc_watch *w);
/* The last resourceVersion seen (copied into buf). */
void fy_kc_watch_rv(struct fy_kc_watch *w, char *buf, size_t n);
/* Number of (re)lists done so far (1 after the first list). */
unsigned fy_kc_watch_lists(struct fy_kc_watch *w);
/* Stop: interrupts the stream, joins the thread, frees w. NULL is a no-op. */
void fy_kc_watch_stop(struct fy_kc_watch *w);

/* ------------------------------------------------------------- utilities */

/* Map an HTTP status (and Status.reason, may be NULL) to an FY_E* code (0 for 2xx). */
int fy_kc_status_code(int http_status, const char *reason);
/* base64 decode (standard alphabet, padding optional, whitespace skipped); malloc'd, NUL-terminated. */
int fy_kc_b64decode(const char *in, char **out, size_t *outlen);

#endif
