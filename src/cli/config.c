/*
 * config.c - the CLI's local config file (Argo CD's localconfig layout), see cli.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "core/yaml.h"
#include "util/buf.h"
#include "util/xalloc.h"

char *fy_cli_config_default_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME");
	if (x && *x == '/')
		return fy_xasprintf("%s/ferry/config", x);
	const char *home = getenv("HOME");
	return fy_xasprintf("%s/.config/ferry/config", home && *home ? home : ".");
}

json_t *fy_cli_config_load(const char *path, struct fy_err *err)
{
	struct stat st;
	if (stat(path, &st)) {
		if (errno == ENOENT)
			return json_object();
		fy_err_set(err, FY_EIO, "config \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	if (st.st_mode & 077) {
		fy_err_set(err, FY_EFORBIDDEN, "config \"%s\" has permissions %03o, must be 0600 or 0400", path,
			   (unsigned)(st.st_mode & 0777));
		return NULL;
	}
	struct fy_yaml_limits lim = FY_YAML_LIMITS_DEFAULT;
	lim.max_bytes = 4u << 20;
	json_t *docs = fy_yaml_load_file(path, &lim, err);
	if (!docs)
		return NULL;
	json_t *d = json_array_get(docs, 0);
	if (!d) {
		json_decref(docs);
		return json_object();
	}
	if (!json_is_object(d)) {
		json_decref(docs);
		fy_err_set(err, FY_EBADREQUEST, "config \"%s\": not a mapping", path);
		return NULL;
	}
	json_incref(d);
	json_decref(docs);
	return d;
}

static int mkdirs(char *dir)
{
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(dir, 0700) && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -1;
	return 0;
}

int fy_cli_config_save(const char *path, const json_t *cfg, struct fy_err *err)
{
	int rc = 0, fd = -1;
	struct fy_buf b;
	char *dir = fy_xstrdup(path), *tmp = NULL;
	fy_buf_init(&b, 0);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdirs(dir)) {
			rc = fy_err_set(err, FY_EIO, "cannot create \"%s\": %s", dir, strerror(errno));
			goto out;
		}
	}
	if ((rc = fy_yaml_dump(cfg, &b))) {
		fy_err_set(err, rc, "cannot write the config");
		goto out;
	}
	tmp = fy_xasprintf("%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600)) {
		rc = fy_err_set(err, FY_EIO, "cannot write \"%s\": %s", tmp, strerror(errno));
		goto out;
	}
	size_t off = 0;
	while (off < b.len) {
		ssize_t n = write(fd, b.buf + off, b.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = fy_err_set(err, FY_EIO, "cannot write \"%s\": %s", tmp, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) || close(fd)) {
		fd = -1;
		rc = fy_err_set(err, FY_EIO, "cannot write \"%s\": %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path)) {
		rc = fy_err_set(err, FY_EIO, "cannot rename to \"%s\": %s", path, strerror(errno));
		goto out;
	}
out:
	if (fd >= 0)
		close(fd);
	if (rc && tmp)
		unlink(tmp);
	free(tmp);
	free(dir);
	fy_buf_release(&b);
	return rc;
}

/* the entry of list whose key equals name, created when absent */
static json_t *upsert(json_t *cfg, const char *list, const char *key, const char *name)
{
	json_t *a = json_object_get(cfg, list);
	if (!json_is_array(a)) {
		a = json_array();
		json_object_set_new(cfg, list, a);
	}
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) {
		const char *n = fy_cli_str(e, key, NULL);
		if (n && !strcmp(n, name))
			return e;
	}
	e = json_pack("{s:s}", key, name);
	json_array_append_new(a, e);
	return e;
}

void fy_cli_config_set_login(json_t *cfg, const char *server, const char *token, int insecure, int plaintext)
{
	json_t *ctx = upsert(cfg, "contexts", "name", server);
	json_object_set_new(ctx, "server", json_string(server));
	json_object_set_new(ctx, "user", json_string(server));
	json_t *srv = upsert(cfg, "servers", "server", server);
	if (insecure)
		json_object_set_new(srv, "insecure", json_true());
	else
		json_object_del(srv, "insecure");
	if (plaintext)
		json_object_set_new(srv, "plain-text", json_true());
	else
		json_object_del(srv, "plain-text");
	json_t *u = upsert(cfg, "users", "name", server);
	json_object_set_new(u, "auth-token", json_string(token));
	json_object_set_new(cfg, "current-context", json_string(server));
}

const char *fy_cli_config_logout(json_t *cfg, const char *server)
{
	const char *name = server;
	if (!name)
		name = fy_cli_str(cfg, "current-context", NULL);
	if (!name)
		return NULL;
	size_t i;
	json_t *e;
	const char *user = name;
	json_array_foreach(json_object_get(cfg, "contexts"), i, e) {
		const char *n = fy_cli_str(e, "name", NULL);
		if (n && !strcmp(n, name))
			user = fy_cli_str(e, "user", name);
	}
	json_array_foreach(json_object_get(cfg, "users"), i, e) {
		const char *n = fy_cli_str(e, "name", NULL);
		if (n && !strcmp(n, user)) {
			json_object_del(e, "auth-token");
			return name;
		}
	}
	return NULL;
}
