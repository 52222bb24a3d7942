/* main.c - unit test runner; see test.h */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
#include "test.h"

extern const struct fy_test fy_tests[];
static jmp_buf jb;
static char failmsg[8192];
static char root[4096];

const char *fy_test_root(void) { return root; }

void fy_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(failmsg, sizeof(failmsg), "%s:%d: ", file, line);
	va_start(ap, fmt);
	vsnprintf(failmsg + n, sizeof(failmsg) - (size_t)n, fmt, ap);
	va_end(ap);
	longjmp(jb, 1);
}

static int run_one(const struct fy_test *t)
{
	if (setjmp(jb) == 0) {
		t->fn();
		return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	const char *prefix = NULL;
	int verbose = 0, pass = 0, fail = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-s") && i + 1 < argc)
			prefix = argv[++i];
		else if (!strcmp(argv[i], "-v"))
			verbose = 1;
	}
	if (!getcwd(root, sizeof(root)))
		return 2;
	for (const struct fy_test *t = fy_tests; t->name; t++) {
		if (prefix && strncmp(t->name + 5, prefix, strlen(prefix)))
			continue;
		if (run_one(t) == 0) {
			pass++;
			if (verbose)
				printf("ok %s\n", t->name);
		} else {
			fail++;
			printf("FAIL %s\n  %s\n", t->name, failmsg);
		}
		fflush(stdout);
	}
	printf("unit: %d passed, %d failed\n", pass, fail);
	/* LeakSanitizer ends the process without flushing stdio: the tally must be out before */
	fflush(stdout);
	return fail ? 1 : 0;
}
