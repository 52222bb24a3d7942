/*
 * stream.c - GET /api/v1/stream/applications: server-sent events of
 * Application changes, fed by the server's Application watch.
 *
 * Each event is `data: {"result":{"type":"ADDED|MODIFIED|DELETED",
 * "application":{...}}}` followed by a blank line; a comment line
 * (": ping") every 15 s keeps proxies from closing the stream. The stream
 * starts with ADDED for every current Application. RBAC (applications get)
 * is checked for every event with the current policy; the stream ends when
 * the token expires, is revoked, or when a subscriber falls more than
 * MAX_QUEUE events behind. Filters: ?name= and ?projects=.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>

#include "internal.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

#define MAX_QUEUE 2000
#define PING_MS 15000

struct fy_srv_sub {
	struct fy_srv_sub *next;
	struct fy_srv *s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	json_t *queue; /* array of {"type","application"} */
	int closed;
	char user[96];
	char *jti;
	double exp;
	char *name, *project;
	char *pending;
	size_t plen, poff;
	uint64_t last_send;
};

static void enqueue(struct fy_srv_sub *sub, const char *type, json_t *app)
{
	pthread_mutex_lock(&sub->mu);
	if (json_array_size(sub->queue) >= MAX_QUEUE)
		sub->closed = 1;
	else
		json_array_append_new(sub->queue, json_pack("{s:s,s:O}", "type", type, "application", app));
	pthread_cond_signal(&sub->cv);
	pthread_mutex_unlock(&sub->mu);
}

void fy_server_stream_publish(struct fy_srv *s, const char *type, json_t *app)
{
	pthread_mutex_lock(&s->mu);
	for (struct fy_srv_sub *sub = s->subs; sub; sub = sub->next)
		enqueue(sub, type, app);
	pthread_mutex_unlock(&s->mu);
}

void fy_server_stream_close_all(struct fy_srv *s)
{
	pthread_mutex_lock(&s->mu);
	for (struct fy_srv_sub *sub = s->subs; sub; sub = sub->next) {
		pthread_mutex_lock(&sub->mu);
		sub->closed = 1;
		pthread_cond_signal(&sub->cv);
		pthread_mutex_unlock(&sub->mu);
	}
	pthread_mutex_unlock(&s->mu);
}

static int visible(struct fy_srv_sub *sub, struct fy_srv_snap *snap, const json_t *app)
{
	const char *name = json_string_value(json_object_get(json_object_get(app, "metadata"), "name"));
	const char *proj = json_string_value(json_object_get(json_object_get(app, "spec"), "project"));
	char obj[600];
	if (!name)
		return 0;
	if (!proj || !*proj)
		proj = "default";
	if (sub->name && strcmp(sub->name, name))
		return 0;
	if (sub->project && strcmp(sub->project, proj))
		return 0;
	snprintf(obj, sizeof(obj), "%s/%s", proj, name);
	return snap && fy_rbac_enforce(snap->rbac, sub->user, NULL, "applications", "get", obj);
}

/* still allowed to stream? (expiry and revocation) */
static int session_ok(struct fy_srv_sub *sub)
{
	if ((double)time(NULL) >= sub->exp)
		return 0;
	pthread_mutex_lock(&sub->s->mu);
	int revoked = json_object_get(sub->s->revoked, sub->jti) != NULL;
	pthread_mutex_unlock(&sub->s->mu);
	return !revoked;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct fy_srv_sub *sub = cls;
	(void)pos;
	while (sub->poff >= sub->plen) {
		free(sub->pending);
		sub->pending = NULL;
		sub->plen = sub->poff = 0;
		if (*sub->s->stop || !session_ok(sub))
			return MHD_CONTENT_READER_END_OF_STREAM;
		json_t *ev = NULL;
		pthread_mutex_lock(&sub->mu);
		if (!json_array_size(sub->queue) && !sub->closed) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&sub->cv, &sub->mu, &ts);
		}
		int closed = sub->closed;
		if (!closed && json_array_size(sub->queue)) {
			ev = json_incref(json_array_get(sub->queue, 0));
			json_array_remove(sub->queue, 0);
		}
		pthread_mutex_unlock(&sub->mu);
		if (closed)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (!ev) {
			if (fy_now_ms() - sub->last_send >= PING_MS) {
				sub->pending = fy_xstrdup(": ping\n\n");
				sub->plen = strlen(sub->pending);
				sub->last_send = fy_now_ms();
			}
			continue;
		}
		struct fy_srv_snap *snap = fy_server_snap_get(sub->s);
		if (visible(sub, snap, json_object_get(ev, "application"))) {
			json_t *res = json_pack("{s:O}", "result", ev);
			char *js = json_dumps(res, JSON_COMPACT);
			sub->pending = fy_xasprintf("data: %s\n\n", js);
			sub->plen = strlen(sub->pending);
			sub->last_send = fy_now_ms();
			free(js);
			json_decref(res);
		}
		fy_server_snap_put(snap);
		json_decref(ev);
	}
	size_t n = sub->plen - sub->poff;
	if (n > max)
		n = max;
	memcpy(buf, sub->pending + sub->poff, n);
	sub->poff += n;
	return (ssize_t)n;
}

static void sub_free(void *cls)
{
	struct fy_srv_sub *sub = cls;
	struct fy_srv *s = sub->s;
	pthread_mutex_lock(&s->mu);
	for (struct fy_srv_sub **pp = &s->subs; *pp; pp = &(*pp)->next) {
		if (*pp == sub) {
			*pp = sub->next;
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
	json_decref(sub->queue);
	pthread_mutex_destroy(&sub->mu);
	pthread_cond_destroy(&sub->cv);
	free(sub->jti);
	free(sub->name);
	free(sub->project);
	free(sub->pending);
	free(sub);
}


int fy_server_h_stream(struct fy_sreq *r)
{
	struct fy_srv *s = r->s;
	if (strcmp(r->method, "GET"))
		return fy_server_reply_err(r, G_NOTFOUND, "Not Found");
	struct fy_srv_sub *sub = fy_xcalloc(1, sizeof(*sub));
	sub->s = s;
	pthread_mutex_init(&sub->mu, NULL);
	pthread_cond_init(&sub->cv, NULL);
	sub->queue = json_array();
	snprintf(sub->user, sizeof(sub->user), "%s", r->user);
	sub->jti = fy_xstrdup(json_string_value(json_object_get(r->claims, "jti")) ?
			      json_string_value(json_object_get(r->claims, "jti")) : "");
	sub->exp = json_number_value(json_object_get(r->claims, "exp"));
	const char *n = fy_server_query(r, "name"), *p = fy_server_query(r, "projects");
	if (!p)
		p = fy_server_query(r, "project");
	sub->name = n && *n ? fy_xstrdup(n) : NULL;
	sub->project = p && *p ? fy_xstrdup(p) : NULL;
	sub->last_send = fy_now_ms();
	pthread_mutex_lock(&s->mu);
	const char *k;
	json_t *app;
	json_object_foreach(s->apps, k, app) {
		if (json_array_size(sub->queue) < MAX_QUEUE)
			json_array_append_new(sub->queue, json_pack("{s:s,s:O}", "type", "ADDED", "application", app));
	}
	sub->next = s->subs;
	s->subs = sub;
	pthread_mutex_unlock(&s->mu);
	return fy_server_reply_stream(r, "text/event-stream", reader, sub, sub_free);
}
