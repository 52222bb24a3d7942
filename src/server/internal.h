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
