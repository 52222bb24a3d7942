/*
 * demo.h - `ferry up --demo`: create DATA/demo-repo (a Git repository with
 * the seed's ML example; kept if it exists) and its Applications, then
 * print progress until they are Synced and Healthy (or 120 s, or *stop).
 */
#ifndef FY_DEMO_H
#define FY_DEMO_H

#include <signal.h>
#include "kclient/kclient.h"
#include "util/err.h"

int fy_demo_install(struct fy_kc *kc, const char *data, const char *ns, volatile sig_atomic_t *stop,
		    struct fy_err *err);

#endif
