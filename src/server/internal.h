/*
 * internal.h - shared between the files of src/server/ (not a public API).
 *
 * struct fy_srv is the server; struct fy_sreq one HTTP request. Handlers
 * return the MHD result of queuing a response (fy_server_reply*).
 * Settings (argocd-cm, argocd-rbac-cm, argocd-secret) live in a
 * refcounted immutable snapshot swapped by the watch threads; a request
 * holds one snapshot for its whole life. s->mu guards apps, snap, subs,
 * the session state and counters.
 */
#ifndef FY_SERVER_INTERNAL_H
#define FY_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <jansson.h>
#include <microhttpd.h>

#include "kclient/kclient.h"
#include "rbac.h"
#include "server.h"

#define FY_SRV_MAX_BODY (4u * 1024u * 1024u)
#define FY_SRV_MAX_WEBHOOK_BODY (10u * 1024u * 1024u)
#define FY_SRV_WEBHOOK_QUEUE 1024
#define FY_SRV_MAX_LOGINS 50

/* grpc status codes used in error bodies */
enum { G_INVALID = 3, G_NOTFOUND = 5, G_EXISTS = 6, G_DENIED = 7, G_PRECOND = 9, G_INTERNAL = 13,
       G_UNAVAILABLE = 14, G_UNAUTH = 16 };

struct fy_srv_snap {
	int refs;
	json_t *cm;        /* argocd-cm .data (object) */
	json_t *rbac_cm;   /* argocd-rbac-cm .data (object) */
	json_t *secret;    /* argocd-secret .data decoded (key -> string) */
	struct fy_rbac *rbac;
	unsigned char *key; /* server.secretkey */
	size_t keylen;
};

struct fy_srv_sub; /* an event-stream subscriber (stream.c) */
struct fy_srv_wh;  /* webhook queue (webhook.c) */

struct fy_srv {
	struct fy_kc *kc;
	char *ns;
	char *data_dir;
	int tls;
	void *daemon;
	int port;
	volatile sig_atomic_t *stop;

	pthread_mutex_t mu;
	struct fy_srv_snap *snap;
	json_t *cm_raw, *rbac_raw, *secret_raw; /* last seen objects' data */
	json_t *apps;     /* name -> Application */
	int apps_synced;
	struct fy_kc_watch *w_apps, *w_cm, *w_secret;
	struct fy_srv_sub *subs;

	/* sessions (session.c) */
	json_t *failures;  /* user -> {"n":count,"t":last failure unix} */
	json_t *revoked;   /* jti -> exp */
	int logins;        /* in flight */
	int failures_dirty;

	struct fy_srv_wh *wh;

	/* counters for /metrics */
	uint64_t n_login_ok, n_login_fail, n_requests;
	json_t *wh_counts; /* provider -> count */
	/* app name -> {"project","dest_server","phases":{phase: count}}: finished
	 * operations seen by the Application watch (argocd_app_sync_total) */
	json_t *sync_counts;
};

struct fy_sreq {
	struct fy_srv *s;
	void *conn; /* struct MHD_Connection */
	const char *method, *url;
	char *body;
	size_t body_len;
	int too_large;
	int responded;
	struct fy_srv_snap *snap;
	/* authentication */
	int authed;
	int cookie_auth;
	char user[96];
	char *token;
	json_t *claims;
	char *set_cookie;
};

/* core.c */
int fy_server_reply(struct fy_sreq *r, int status, const char *ctype, const char *body, size_t len);
int fy_server_reply_json(struct fy_sreq *r, int status, const json_t *body);
/* a 200 response whose body a callback produces (event streams) */
int fy_server_reply_stream(struct fy_sreq *r, const char *ctype, MHD_ContentReaderCallback fn, void *cls,
			   MHD_ContentReaderFreeCallback fr);
/* grpc-gateway error body {"error","code","message"} with the HTTP status of code */
int fy_server_reply_err(struct fy_sreq *r, int grpc_code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int fy_server_reply_fyerr(struct fy_sreq *r, const struct fy_err *err);
const char *fy_server_query(struct fy_sreq *r, const char *key);
const char *fy_server_header(struct fy_sreq *r, const char *key);
const char *fy_server_cookie(struct fy_sreq *r, const char *name);
/* load argocd-cm, argocd-rbac-cm and argocd-secret now (before the watches deliver) */
void fy_server_settings_load(struct fy_srv *s);
/* RBAC for the request's user */
int fy_server_can(struct fy_sreq *r, const char *resource, const char *action, const char *object);
struct fy_srv_snap *fy_server_snap_get(struct fy_srv *s);
void fy_server_snap_put(struct fy_srv_snap *p);
/* the request body as a JSON object (NULL with a reply queued in *ret) */
json_t *fy_server_body_json(struct fy_sreq *r, int *ret);
int fy_server_is_true(const char *v);
/* atomically write a JSON document to DATA/name (fsync + rename) */
int fy_server_persist(struct fy_srv *s, const char *name, const json_t *doc);
json_t *fy_server_load(struct fy_srv *s, const char *name);
void fy_server_urldecode(char *s);

/* session.c */
int fy_server_session_init(struct fy_srv *s, struct fy_err *err);
/* authenticate r from its token (sets r->authed, r->user); 0 ok or missing, <0 with *why */
int fy_server_authenticate(struct fy_sreq *r, const char **why);
int fy_server_h_session(struct fy_sreq *r);
/* write the failed-login table if it changed (force: even within a second of the last write) */
void fy_server_session_flush(struct fy_srv *s, int force);

/* apps.c */
int fy_server_h_apps(struct fy_sreq *r, char **seg, int nseg);
/* /api/v1/applicationsets[/NAME] (appsets.c); seg after "applicationsets" */
int fy_server_h_appsets(struct fy_sreq *r, char **seg, int nseg);
/*
 * Fetch Application name and check the RBAC action on it (applications
 * resource). NULL with a reply queued in *ret on failure.
 */
json_t *fy_server_load_app(struct fy_sreq *r, const char *name, const char *action, int *ret);
/* Argo CD HideSecretData: a Secret's values become '+' runs (in place); other kinds untouched */
void fy_server_mask_secret(json_t *obj);
/* one resource of an application, named by the query (?namespace, resourceName, version, kind, group) */
struct fy_srv_res {
	json_t *app;  /* the Application */
	json_t *live; /* the live object (unmasked, no managedFields) */
	const char *group, *version, *kind, *ns, *name;
};
/*
 * Load the application (RBAC app_action), read the query and the live
 * object, which must be a node of the application's resource tree
 * (managed or a child). ids (may be NULL): an object whose string fields
 * of those names win over the query (the v2 actions body); q's strings
 * point into it or the query. 0, or -1 with a reply queued in *ret.
 */
int fy_server_res_open(struct fy_sreq *r, const char *app, const char *app_action, const json_t *ids,
		       struct fy_srv_res *q, int *ret);
void fy_server_res_close(struct fy_srv_res *q);
/* the reply {manifest: "<masked object JSON>"} */
int fy_server_reply_manifest(struct fy_sreq *r, const json_t *obj);
/* the request body as any JSON value (a reply queued in *ret and NULL on error; "" body: NULL, *ret -1) */
json_t *fy_server_body_any(struct fy_sreq *r, int *ret);

/* actions.c: GET/POST /api/v1/applications/{name}/resource/actions[/v2] */
int fy_server_h_actions(struct fy_sreq *r, const char *app, int v2);

/* tree.c */
#define FY_SRV_TREE_MAX_MANAGED 1000  /* managed objects read per tree */
#define FY_SRV_TREE_MAX_OBJECTS 2000  /* objects per child-kind list */
#define FY_SRV_TREE_TTL_MS 2000       /* a built tree is reused this long */
struct fy_health_config;
/*
 * Build an ApplicationTree {nodes, orphanedNodes: [], hosts: []} (new
 * reference) from the managed live objects (array of objects, or of
 * {"live": obj, "health": {status, message}} to reuse a known health) and
 * candidate children (array of objects): every object whose
 * ownerReferences name a node's uid becomes a node with parentRefs,
 * recursively; a v1 Endpoints joins the Service of its name. Nodes carry
 * group, version, kind, namespace, name, uid, resourceVersion, createdAt,
 * health (computed with hcfg, may be NULL, when not given), info, images,
 * networkingInfo. At most 5000 nodes. Pure: no I/O.
 */
json_t *fy_server_tree_build(const json_t *managed, const json_t *objects, const struct fy_health_config *hcfg);
/* the node of tree with that identity (ns NULL/"" matches any), borrowed, or NULL */
const json_t *fy_server_tree_find(const json_t *tree, const char *group, const char *kind, const char *ns,
				  const char *name);
/* the live tree of app (new reference; cached FY_SRV_TREE_TTL_MS per app and resourceVersion) */
json_t *fy_server_tree_get(struct fy_srv *s, const json_t *app, const struct fy_health_config *hcfg);
void fy_server_tree_cache_clear(void);
/* cfg initialised from the request's argocd-cm (health Lua overrides); release it */
void fy_server_health_config(struct fy_sreq *r, struct fy_health_config *cfg);
/* GET one live object without managedFields (new reference), NULL if absent or unreadable */
json_t *fy_server_live_get(struct fy_srv *s, const char *group, const char *version, const char *kind, const char *ns,
			   const char *name);

/* resources.c */
int fy_server_h_clusters(struct fy_sreq *r, const char *id);
int fy_server_h_repos(struct fy_sreq *r, const char *id);
int fy_server_h_projects(struct fy_sreq *r, char **seg, int nseg);
int fy_server_h_settings(struct fy_sreq *r);
int fy_server_h_version(struct fy_sreq *r);
int fy_server_h_metrics(struct fy_sreq *r);

/* stream.c */
int fy_server_h_stream(struct fy_sreq *r);
void fy_server_stream_publish(struct fy_srv *s, const char *type, json_t *app);
void fy_server_stream_close_all(struct fy_srv *s);

/* webhook.c */
int fy_server_webhook_start(struct fy_srv *s);
void fy_server_webhook_stop(struct fy_srv *s);
int fy_server_h_webhook(struct fy_sreq *r);

#endif
