/*
 * log.h - leveled, structured logging to stderr.
 *
 * One line per event: `time=... level=info sub=kube msg="..." k=v ...` or,
 * with fy_log_set_json(1), one JSON object per line. The level is checked
 * before any formatting. Thread-safe (a single write(2) per line).
 * Never log secrets: callers pass redacted values.
 */
#ifndef FY_LOG_H
#define FY_LOG_H

enum fy_log_level { FY_LOG_DEBUG = 0, FY_LOG_INFO, FY_LOG_WARN, FY_LOG_ERROR, FY_LOG_OFF };

extern int fy_log_level_cur;

void fy_log_set_level(int level);
/* Parse "debug|info|warn|error|off"; returns -1 if unknown. */
int fy_log_parse_level(const char *s);
void fy_log_set_json(int on);
/* fmt produces the message; extra key=value pairs go in kv (may be NULL). */
void fy_log_write(int level, const char *sub, const char *kv, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define fy_log(level, sub, ...) \
	do { if ((level) >= fy_log_level_cur) fy_log_write((level), (sub), NULL, __VA_ARGS__); } while (0)
#define fy_logkv(level, sub, kv, ...) \
	do { if ((level) >= fy_log_level_cur) fy_log_write((level), (sub), (kv), __VA_ARGS__); } while (0)
#define fy_debug(sub, ...) fy_log(FY_LOG_DEBUG, sub, __VA_ARGS__)
#define fy_info(sub, ...) fy_log(FY_LOG_INFO, sub, __VA_ARGS__)
#define fy_warn(sub, ...) fy_log(FY_LOG_WARN, sub, __VA_ARGS__)
#define fy_error(sub, ...) fy_log(FY_LOG_ERROR, sub, __VA_ARGS__)

#endif
