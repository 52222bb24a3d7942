/*
 * delhooks.c - PreDelete / PostDelete hook decisions (see delhooks.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/delhooks.h"
#include "sync/internal.h"
#include "util/buf.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

static const char *mstr(const json_t *obj, const char *k)
{
	const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), k));
	return s ? s : "";
}

static const char *ostr(const json_t *obj, const char *k)
{
	const char *s = json_string_value(json_object_get(obj, k));
	return s ? s : "";
}

const char *fy_sync_delhook_type_name(unsigned type)
{
	if (type == FY_SYNC_HOOK_PREDELETE)
		return "PreDelete";
	if (type == FY_SYNC_HOOK_POSTDELETE)
		return "PostDelete";
	return "";
}

int fy_sync_is_delete_hook(const json_t *obj)
{
	unsigned t = fy_sync_hook_types(obj);
	return !(t & FY_SYNC_HOOK_INVALID) && (t & (FY_SYNC_HOOK_PREDELETE | FY_SYNC_HOOK_POSTDELETE)) != 0;
}

char *fy_sync_delhook_attempt(unsigned type, time_t deleted_at)
{
	char ts[40];

	fy_rfc3339(deleted_at, ts, sizeof(ts));
	return fy_xasprintf("%s/%s", fy_sync_delhook_type_name(type), ts);
}

json_t *fy_sync_delhooks_select(const json_t *targets, unsigned type, const char *dest_ns, const char *revision,
				time_t deleted_at)
{
	json_t *out = json_array();
	const json_t *o;
	size_t i;
	char *attempt = fy_sync_delhook_attempt(type, deleted_at);

	json_array_foreach(targets, i, o) {
		unsigned t = fy_sync_hook_types(o);
		json_t *h, *md, *ann;

		if (!json_is_object(o) || (t & FY_SYNC_HOOK_INVALID) || !(t & type))
			continue;
		h = json_deep_copy(o);
		md = json_object_get(h, "metadata");
		if (!json_is_object(md)) {
			md = json_object();
			json_object_set_new(h, "metadata", md);
		}
		if (!*mstr(h, "namespace") && dest_ns && *dest_ns)
			json_object_set_new(md, "namespace", json_string(dest_ns));
		if (!*mstr(h, "name")) {
			char rev[8], *post, *nm;

			snprintf(rev, sizeof(rev), "%s", revision ? revision : "");
			post = fy_xasprintf("%s-%s-%lld", rev, fy_sync_delhook_type_name(type), (long long)deleted_at);
			for (char *q = post; *q; q++)
				*q = (char)tolower((unsigned char)*q);
			nm = fy_xasprintf("%s%s", mstr(h, "generateName"), post);
			json_object_set_new(md, "name", json_string(nm));
			json_object_del(md, "generateName");
			free(post);
			free(nm);
		}
		ann = json_object_get(md, "annotations");
		if (!json_is_object(ann)) {
			ann = json_object();
			json_object_set_new(md, "annotations", ann);
		}
		json_object_set_new(ann, FY_SYNC_ATTEMPT_ANNOTATION, json_string(attempt));
		json_array_append_new(out, h);
	}
	free(attempt);
	return out;
}

void fy_sync_delhooks_release(struct fy_sync_delhook_step *s)
{
	json_decref(s->create);
	json_decref(s->remove);
	free(s->message);
	free(s->slow_message);
	memset(s, 0, sizeof(*s));
}

/* "Job/ns/name" of an object, malloc'd */
static char *ref_of(const json_t *obj)
{
	if (*mstr(obj, "namespace"))
		return fy_xasprintf("%s/%s/%s", ostr(obj, "kind"), mstr(obj, "namespace"), mstr(obj, "name"));
	return fy_xasprintf("%s/%s", ostr(obj, "kind"), mstr(obj, "name"));
}

/* the hook's delete policy bits, the default (none given) BeforeHookCreation */
static unsigned policy_of(const json_t *obj)
{
	unsigned p = fy_sync_hook_delete_policy(obj);
	return p ? p : FY_SYNC_DEL_BEFORE_CREATION;
}

enum hstate { H_RUNNING, H_SUCCEEDED, H_FAILED };

/* a hook's progress from its health, as the sync engine reads it */
static enum hstate hook_state(const json_t *live, const struct fy_health_config *health, char **msg)
{
	struct fy_health h = FY_HEALTH_INIT;
	struct fy_err e = FY_ERR_INIT;
	enum hstate st;
	int rc = fy_health_assess(live, health, &h, &e);

	if (rc && h.status != FY_HEALTH_UNKNOWN) {
		*msg = fy_xasprintf("failed to get resource health: %s", e.msg);
		fy_health_release(&h);
		return H_FAILED;
	}
	switch (h.status) {
	case FY_HEALTH_PROGRESSING:
	case FY_HEALTH_SUSPENDED:
		st = H_RUNNING;
		break;
	case FY_HEALTH_DEGRADED:
	case FY_HEALTH_UNKNOWN:
	case FY_HEALTH_MISSING:
		st = H_FAILED;
		break;
	default:
		st = H_SUCCEEDED;
		break;
	}
	*msg = fy_xstrdup(h.message ? h.message : "");
	fy_health_release(&h);
	return st;
}

static void add_more(struct fy_buf *b, size_t n, size_t shown)
{
	if (n > shown) {
		char tail[48];
		snprintf(tail, sizeof(tail), " and %zu more", n - shown);
		fy_buf_adds(b, tail);
	}
}

int fy_sync_delhooks_step(const json_t *hooks, unsigned type, fy_sync_get_fn get, void *ud,
			  const struct fy_health_config *health, time_t now, long slow_after_s,
			  struct fy_sync_delhook_step *out, struct fy_err *err)
{
	const json_t *h;
	size_t i, nrun = 0, nfail = 0;
	int rc = 0;
	json_t *succeeded = json_array(), *failed = json_array();
	struct fy_buf run_msg, fail_msg;
	const char *tname = fy_sync_delhook_type_name(type);
	time_t oldest = 0;
	char *oldest_ref = NULL;

	memset(out, 0, sizeof(*out));
	out->create = json_array();
	out->remove = json_array();
	fy_buf_init(&run_msg, 4096);
	fy_buf_init(&fail_msg, 4096);
	if (json_array_size(hooks) > FY_SYNC_DELHOOKS_MAX) {
		rc = fy_err_set(err, FY_ETOOLARGE, "too many %s hooks (%zu, at most %d)", tname,
				json_array_size(hooks), FY_SYNC_DELHOOKS_MAX);
		goto out;
	}
	json_array_foreach(hooks, i, h) {
		json_t *live = NULL;
		const json_t *lmd;
		char *ref = ref_of(h), *msg = NULL;
		const char *attempt = sync_annotation(h, FY_SYNC_ATTEMPT_ANNOTATION);
		const char *lattempt;
		int grc;
		enum hstate st;

		grc = get(ud, ostr(h, "apiVersion"), ostr(h, "kind"), mstr(h, "namespace"), mstr(h, "name"), &live, err);
		if (grc == FY_ENOTFOUND || (grc == 0 && !live)) {
			fy_err_clear(err);
			json_array_append(out->create, (json_t *)h);
			if (nrun++ == 0)
				fy_buf_addf(&run_msg, "waiting for completion of hook %s", ref);
			free(ref);
			continue;
		}
		if (grc) {
			rc = grc;
			free(ref);
			goto out;
		}
		lmd = json_object_get(live, "metadata");
		lattempt = sync_annotation(live, FY_SYNC_ATTEMPT_ANNOTATION);
		if (json_object_get(lmd, "deletionTimestamp") && !json_is_null(json_object_get(lmd, "deletionTimestamp"))) {
			/* going away (BeforeHookCreation, a cleanup, someone else): wait for it */
			if (nrun++ == 0)
				fy_buf_addf(&run_msg, "waiting for the deletion of %s", ref);
			json_decref(live);
			free(ref);
			continue;
		}
		if ((!lattempt || !attempt || strcmp(lattempt, attempt)) &&
		    (policy_of(h) & FY_SYNC_DEL_BEFORE_CREATION)) {
			json_array_append(out->remove, live);
			if (nrun++ == 0)
				fy_buf_addf(&run_msg, "waiting for the deletion of %s", ref);
			json_decref(live);
			free(ref);
			continue;
		}
		st = hook_state(live, health, &msg);
		if (st == H_RUNNING) {
			time_t created = fy_parse_rfc3339(ostr(lmd, "creationTimestamp"));
			if (nrun++ == 0)
				fy_buf_addf(&run_msg, "waiting for completion of hook %s", ref);
			if (created > 0 && (!oldest || created < oldest)) {
				oldest = created;
				free(oldest_ref);
				oldest_ref = fy_xstrdup(ref);
			}
		} else if (st == H_FAILED) {
			if (nfail++ < 3)
				fy_buf_addf(&fail_msg, "%s%s%s%s", nfail > 1 ? ", " : "", ref, *msg ? ": " : "", msg);
			json_array_append(failed, live);
		} else {
			json_array_append(succeeded, live);
		}
		free(msg);
		json_decref(live);
		free(ref);
	}
	if (nrun) {
		out->state = FY_SYNC_DELHOOK_RUNNING;
		add_more(&run_msg, nrun, 1);
		out->message = fy_xstrdup(run_msg.buf);
		if (oldest && slow_after_s > 0 && now - oldest > slow_after_s) {
			out->slow = 1;
			out->slow_message = fy_xasprintf("%s hook %s has been running for %lld s (more than %ld s)",
							 tname, oldest_ref, (long long)(now - oldest), slow_after_s);
		}
	} else if (nfail) {
		out->state = FY_SYNC_DELHOOK_FAILED;
		add_more(&fail_msg, nfail, 3);
		out->message = fy_xasprintf("%s hook(s) failed: %s", tname, fail_msg.buf);
		json_array_foreach(failed, i, h)
			if (policy_of(h) & FY_SYNC_DEL_FAILED)
				json_array_append(out->remove, (json_t *)h);
	} else {
		out->state = FY_SYNC_DELHOOK_DONE;
		json_array_foreach(succeeded, i, h)
			if (policy_of(h) & FY_SYNC_DEL_SUCCEEDED)
				json_array_append(out->remove, (json_t *)h);
	}
out:
	if (rc)
		fy_sync_delhooks_release(out);
	json_decref(succeeded);
	json_decref(failed);
	free(oldest_ref);
	fy_buf_release(&run_msg);
	fy_buf_release(&fail_msg);
	return rc;
}
