/*
 * proc.h - run an external tool (helm, kustomize) safely.
 *
 * fy_proc_run forks and execve()s an argv array: never a shell, the program
 * resolved on PATH by fy_proc_which when it holds no '/'. The child runs in
 * its own process group with stdin from /dev/null, the parent's environment
 * plus opts->env ("K=V", overriding keys of the same name), and opts->cwd.
 * stdout and stderr are captured into capped buffers; a stream exceeding its
 * cap kills the group and fails with FY_ETOOLARGE. When the timeout expires
 * the whole process group gets SIGTERM, then SIGKILL after a short grace,
 * and the call fails with FY_ETIMEOUT. A non-zero exit status is NOT an error
 * of fy_proc_run: check res->exit_code (-1 when killed by a signal).
 *
 * fy_proc_tmpdir makes a private (0700) random directory; fy_proc_rmtree
 * removes a tree completely, fixing permissions (mode 000 entries) on the
 * way and never following symlinks.
 *
 * Thread-safety: callable from any thread (only async-signal-safe calls
 * between fork and exec). Strings returned are malloc'd.
 */
#ifndef FY_PROC_H
#define FY_PROC_H

#include <stddef.h>
#include "util/buf.h"
#include "util/err.h"

#define FY_PROC_DEFAULT_TIMEOUT_MS 90000
#define FY_PROC_DEFAULT_MAX_OUTPUT (256u << 20) /* stdout */
#define FY_PROC_DEFAULT_MAX_ERR (1u << 20)      /* stderr */

struct fy_proc_opts {
	const char *const *argv;  /* NULL-terminated; argv[0] a path or a name on PATH */
	const char *const *env;   /* NULL or NULL-terminated "K=V" extras */
	const char *cwd;          /* NULL: inherit */
	int timeout_ms;           /* <= 0: FY_PROC_DEFAULT_TIMEOUT_MS */
	size_t max_stdout;        /* 0: FY_PROC_DEFAULT_MAX_OUTPUT */
	size_t max_stderr;        /* 0: FY_PROC_DEFAULT_MAX_ERR */
};

struct fy_proc_result {
	int exit_code;            /* exit status, or -1 if killed by a signal */
	int term_signal;          /* the signal, or 0 */
	struct fy_buf out;        /* captured stdout */
	struct fy_buf err;        /* captured stderr */
};

/* res is initialised by the call (release it even on failure). */
int fy_proc_run(const struct fy_proc_opts *o, struct fy_proc_result *res, struct fy_err *err);
void fy_proc_result_release(struct fy_proc_result *res);

/* Absolute path of name on PATH (or name itself if it holds a '/' and is executable); NULL if absent. */
char *fy_proc_which(const char *name);

/* A new private directory "<TMPDIR or /tmp>/ferry-<tag>.XXXXXX"; *out malloc'd. */
int fy_proc_tmpdir(const char *tag, char **out, struct fy_err *err);

/* Remove dir and everything below it (no symlink following). 0 or FY_EIO. */
int fy_proc_rmtree(const char *dir, struct fy_err *err);

#endif
