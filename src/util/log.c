/* log.c - see log.h */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "log.h"

int fy_log_level_cur = FY_LOG_INFO;
static int log_json;

static const char *names[] = { "debug", "info", "warn", "error", "off" };

void fy_log_set_level(int level) { fy_log_level_cur = level; }
void fy_log_set_json(int on) { log_json = on; }

int fy_log_parse_level(const char *s)
{
	for (int i = 0; i <= FY_LOG_OFF; i++)
		if (!strcmp(s, names[i]))
			return i;
	if (!strcmp(s, "warning"))
		return FY_LOG_WARN;
	return -1;
}

static size_t esc(char *out, size_t cap, const char *s)
{
	size_t o = 0;
	for (; *s && o + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (c < 0x20) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = 0;
	return o;
}

void fy_log_write(int level, const char *sub, const char *kv, const char *fmt, ...)
{
	char msg[2048], emsg[4200], line[6000], ts[64];
	va_list ap;
	struct timespec now;
	struct tm tm;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(now.tv_nsec / 1000000));
	esc(emsg, sizeof(emsg), msg);
	int n;
	if (log_json)
		n = snprintf(line, sizeof(line), "{\"time\":\"%s\",\"level\":\"%s\",\"sub\":\"%s\",\"msg\":\"%s\"%s%s}\n",
			     ts, names[level], sub ? sub : "", emsg, kv ? "," : "", kv ? kv : "");
	else
		n = snprintf(line, sizeof(line), "time=%s level=%s sub=%s msg=\"%s\"%s%s\n", ts, names[level],
			     sub ? sub : "-", emsg, kv ? " " : "", kv ? kv : "");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	ssize_t w = write(2, line, (size_t)n);
	(void)w;
}
