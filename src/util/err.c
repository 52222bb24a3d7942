/* err.c - see err.h */
#include <stdio.h>
#include <string.h>
#include "err.h"

int fy_err_vset(struct fy_err *err, int code, const char *fmt, va_list ap)
{
	if (err) {
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	}
	return code;
}

int fy_err_set(struct fy_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fy_err_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int fy_err_prefix(struct fy_err *err, const char *fmt, ...)
{
	char pre[256], old[sizeof(err->msg)];
	va_list ap;
	if (!err)
		return FY_EGENERIC;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	size_t n = strlen(pre);
	if (n > sizeof(err->msg) - 3)
		n = sizeof(err->msg) - 3;
	memcpy(err->msg, pre, n);
	memcpy(err->msg + n, ": ", 2);
	size_t rest = sizeof(err->msg) - n - 3;
	size_t ol = strnlen(old, rest);
	memcpy(err->msg + n + 2, old, ol);
	err->msg[n + 2 + ol] = 0;
	return err->code;
}

void fy_err_clear(struct fy_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = 0;
		err->field[0] = 0;
	}
}

static const struct {
	int code;
	int http;
	const char *reason;
} table[] = {
	{ FY_OK, 200, "" },
	{ FY_ENOTFOUND, 404, "NotFound" },
	{ FY_ECONFLICT, 409, "Conflict" },
	{ FY_EINVALID, 422, "Invalid" },
	{ FY_EBADREQUEST, 400, "BadRequest" },
	{ FY_ETIMEOUT, 504, "Timeout" },
	{ FY_EUPSTREAM, 503, "ServiceUnavailable" },
	{ FY_ETOOLARGE, 413, "RequestEntityTooLarge" },
	{ FY_EEXISTS, 409, "AlreadyExists" },
	{ FY_EGONE, 410, "Expired" },
	{ FY_EUNAUTHORIZED, 401, "Unauthorized" },
	{ FY_EFORBIDDEN, 403, "Forbidden" },
	{ FY_EMETHOD, 405, "MethodNotAllowed" },
	{ FY_EUNSUPPORTED, 415, "UnsupportedMediaType" },
	{ FY_ENOTACCEPTABLE, 406, "NotAcceptable" },
	{ FY_EIO, 500, "InternalError" },
};

int fy_err_http_status(int code)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].code == code)
			return table[i].http;
	return 500;
}

const char *fy_err_reason(int code)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].code == code)
			return table[i].reason;
	return "InternalError";
}
