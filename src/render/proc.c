/* proc.c - fork/execve with capture, caps, timeout and process-group kill. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "render/proc.h"
#include "util/xalloc.h"

extern char **environ;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *fy_proc_which(const char *name)
{
	const char *path, *p;

	if (!name || !*name)
		return NULL;
	if (strchr(name, '/'))
		return access(name, X_OK) ? NULL : fy_xstrdup(name);
	path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;;) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n) {
			char *cand = fy_xasprintf("%.*s/%s", (int)n, p, name);
			struct stat st;
			if (!stat(cand, &st) && S_ISREG(st.st_mode) && !access(cand, X_OK))
				return cand;
			free(cand);
		}
		if (!e)
			break;
		p = e + 1;
	}
	return NULL;
}

static char **build_env(const char *const *extra)
{
	size_t n = 0, ne = 0, k = 0;
	char **envp;

	for (char **e = environ; e && *e; e++)
		n++;
	for (const char *const *e = extra; e && *e; e++)
		ne++;
	envp = fy_xcalloc(n + ne + 1, sizeof(*envp));
	for (const char *const *e = extra; e && *e; e++)
		envp[k++] = (char *)*e;
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		size_t kl = eq ? (size_t)(eq - *e) : strlen(*e);
		int dup = 0;
		for (const char *const *x = extra; x && *x; x++) {
			if (!strncmp(*x, *e, kl) && (*x)[kl] == '=') {
				dup = 1;
				break;
			}
		}
		if (!dup)
			envp[k++] = *e;
	}
	envp[k] = NULL;
	return envp;
}

static void kill_group(pid_t pid, int sig)
{
	if (kill(-pid, sig) < 0)
		kill(pid, sig);
}

void fy_proc_result_release(struct fy_proc_result *res)
{
	fy_buf_release(&res->out);
	fy_buf_release(&res->err);
}

/* Wait for pid until deadline (ms since epoch of now_ms); returns 1 if reaped. */
static int wait_until(pid_t pid, int *status, long long deadline)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return 1; /* nothing to wait for */
		if (now_ms() >= deadline)
			return 0;
		struct timespec ts = { 0, 10 * 1000000 };
		nanosleep(&ts, NULL);
	}
}

int fy_proc_run(const struct fy_proc_opts *o, struct fy_proc_result *res, struct fy_err *err)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, devnull = -1;
	char *prog = NULL;
	char **envp = NULL;
	pid_t pid = -1;
	int rc = 0, status = 0, timed_out = 0, too_large = 0;
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : FY_PROC_DEFAULT_TIMEOUT_MS;
	long long deadline;

	memset(res, 0, sizeof(*res));
	fy_buf_init(&res->out, o->max_stdout ? o->max_stdout : FY_PROC_DEFAULT_MAX_OUTPUT);
	fy_buf_init(&res->err, o->max_stderr ? o->max_stderr : FY_PROC_DEFAULT_MAX_ERR);
	res->exit_code = -1;
	if (!o->argv || !o->argv[0])
		return fy_err_set(err, FY_EINVALID, "no program to run");
	prog = fy_proc_which(o->argv[0]);
	if (!prog) {
		rc = fy_err_set(err, FY_ENOTFOUND, "'%s' not found", o->argv[0]);
		goto out;
	}
	envp = build_env(o->env);
	if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		rc = fy_err_set(err, FY_EIO, "pipe: %s", strerror(errno));
		goto out;
	}
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0) {
		rc = fy_err_set(err, FY_EIO, "open '/dev/null': %s", strerror(errno));
		goto out;
	}
	deadline = now_ms() + timeout;
	pid = fork();
	if (pid < 0) {
		rc = fy_err_set(err, FY_EIO, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* child: async-signal-safe calls only */
		sigset_t none;
		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(devnull, 0) < 0 || dup2(outp[1], 1) < 0 || dup2(errp[1], 2) < 0)
			_exit(126);
		if (o->cwd && chdir(o->cwd) < 0)
			_exit(126);
		execve(prog, (char *const *)o->argv, envp);
		_exit(127);
	}
	setpgid(pid, pid);
	close(outp[1]);
	outp[1] = -1;
	close(errp[1]);
	errp[1] = -1;

	struct pollfd pfd[2] = { { outp[0], POLLIN, 0 }, { errp[0], POLLIN, 0 } };
	int open_fds = 2;
	char chunk[16384];
	while (open_fds) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		int n = poll(pfd, 2, (int)(left > 1000 ? 1000 : left));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = fy_err_set(err, FY_EIO, "poll: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t got = read(pfd[i].fd, chunk, sizeof(chunk));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				pfd[i].fd = -1;
				open_fds--;
				continue;
			}
			struct fy_buf *b = i == 0 ? &res->out : &res->err;
			if (fy_buf_add(b, chunk, (size_t)got)) {
				if (i == 0) {
					too_large = 1;
				} else {
					/* keep the head of stderr, drop the rest */
					size_t room = b->cap > b->len ? b->cap - b->len : 0;
					fy_buf_add(b, chunk, room < (size_t)got ? room : (size_t)got);
				}
			}
		}
		if (too_large)
			break;
	}
	if (timed_out || too_large || rc) {
		kill_group(pid, SIGTERM);
		if (!wait_until(pid, &status, now_ms() + 500)) {
			kill_group(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
		kill_group(pid, SIGKILL); /* stragglers of the group */
	} else if (!wait_until(pid, &status, deadline)) {
		/* output closed but the process lives on */
		timed_out = 1;
		kill_group(pid, SIGTERM);
		if (!wait_until(pid, &status, now_ms() + 500)) {
			kill_group(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
	}
	pid = -1;
	if (WIFEXITED(status)) {
		res->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		res->exit_code = -1;
		res->term_signal = WTERMSIG(status);
	}
	if (rc)
		goto out;
	if (timed_out) {
		rc = fy_err_set(err, FY_ETIMEOUT, "'%s' timed out after %d ms", o->argv[0], timeout);
		goto out;
	}
	if (too_large) {
		rc = fy_err_set(err, FY_ETOOLARGE, "output of '%s' exceeds %zu bytes", o->argv[0], res->out.cap);
		goto out;
	}
	if (res->exit_code == 127 && !res->err.len)
		rc = fy_err_set(err, FY_EIO, "cannot execute '%s'", prog);
out:
	if (outp[0] >= 0)
		close(outp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (errp[0] >= 0)
		close(errp[0]);
	if (errp[1] >= 0)
		close(errp[1]);
	if (devnull >= 0)
		close(devnull);
	free(envp);
	free(prog);
	return rc;
}

int fy_proc_tmpdir(const char *tag, char **out, struct fy_err *err)
{
	const char *base = getenv("TMPDIR");
	char *tmpl;

	if (!base || !*base)
		base = "/tmp";
	tmpl = fy_xasprintf("%s/ferry-%s.XXXXXX", base, tag ? tag : "tmp");
	if (!mkdtemp(tmpl)) {
		int e = errno;
		free(tmpl);
		*out = NULL;
		return fy_err_set(err, FY_EIO, "cannot create a temporary directory in '%s': %s", base, strerror(e));
	}
	chmod(tmpl, 0700);
	*out = tmpl;
	return 0;
}

static int rm_at(int dfd, const char *name, int depth)
{
	struct stat st;
	int rc = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
	if (depth > 512)
		return -1;
	fchmodat(dfd, name, 0700, 0);
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
			rc = -1;
		} else {
			struct dirent *de;
			while ((de = readdir(d))) {
				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
					continue;
				if (rm_at(dirfd(d), de->d_name, depth + 1))
					rc = -1;
			}
			closedir(d);
		}
	} else {
		rc = -1;
	}
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

int fy_proc_rmtree(const char *dir, struct fy_err *err)
{
	if (!dir || !*dir)
		return 0;
	if (rm_at(AT_FDCWD, dir, 0))
		return fy_err_set(err, FY_EIO, "cannot remove '%s' completely", dir);
	return 0;
}
