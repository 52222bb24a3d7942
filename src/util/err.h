/*
 * err.h - the one error convention of ferry.
 *
 * Functions that can fail return int: 0 on success, a negative FY_E* code
 * on failure, and fill a caller-provided struct fy_err with a one-line,
 * lowercase message (git style: no trailing period, subject quoted).
 * fy_err_set() returns the code so `return fy_err_set(err, ...)` reads well.
 * A NULL err is allowed everywhere: the message is then dropped.
 * The code -> HTTP status / Kubernetes Status reason mapping lives here and
 * only here (fy_err_http_status, fy_err_reason).
 */
#ifndef FY_ERR_H
#define FY_ERR_H

#include <stdarg.h>

enum fy_errcode {
	FY_OK = 0,
	FY_EGENERIC = -1,
	FY_ENOTFOUND = -2,     /* 404 NotFound */
	FY_ECONFLICT = -3,     /* 409 Conflict */
	FY_EINVALID = -4,      /* 422 Invalid (semantic validation) */
	FY_EBADREQUEST = -5,   /* 400 BadRequest (malformed input) */
	FY_ETIMEOUT = -6,      /* 504 Timeout */
	FY_EUPSTREAM = -7,     /* 502/503 upstream (git, helm, cluster) */
	FY_ETOOLARGE = -8,     /* 413 RequestEntityTooLarge */
	FY_EEXISTS = -9,       /* 409 AlreadyExists */
	FY_EGONE = -10,        /* 410 Expired / Gone */
	FY_EUNAUTHORIZED = -11,/* 401 Unauthorized */
	FY_EFORBIDDEN = -12,   /* 403 Forbidden */
	FY_EMETHOD = -13,      /* 405 MethodNotAllowed */
	FY_EUNSUPPORTED = -14, /* 415 UnsupportedMediaType */
	FY_EIO = -15,          /* 500 internal I/O failure */
	FY_ENOTACCEPTABLE = -16, /* 406 NotAcceptable */
};

struct fy_err {
	int code;
	char msg[512];
	/* optional: the field an FY_EINVALID error is about ("metadata.name"),
	 * used to build Kubernetes Status details.causes; "" if none */
	char field[128];
};

#define FY_ERR_INIT { 0, { 0 }, { 0 } }

#if defined(__GNUC__)
#define FY_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FY_PRINTF(a, b)
#endif

/* Set err (if non-NULL) and return code. */
int fy_err_set(struct fy_err *err, int code, const char *fmt, ...) FY_PRINTF(3, 4);
int fy_err_vset(struct fy_err *err, int code, const char *fmt, va_list ap);
/* Prefix an existing message: "prefix: old message". Returns err->code. */
int fy_err_prefix(struct fy_err *err, const char *fmt, ...) FY_PRINTF(2, 3);
void fy_err_clear(struct fy_err *err);

/* HTTP status code for an error code (500 for unknown). */
int fy_err_http_status(int code);
/* Kubernetes metav1.StatusReason for an error code ("InternalError" default). */
const char *fy_err_reason(int code);

#endif
