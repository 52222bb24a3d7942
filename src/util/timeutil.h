/*
 * timeutil.h - time and randomness helpers shared by every module.
 */
#ifndef FY_TIMEUTIL_H
#define FY_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Monotonic milliseconds. */
uint64_t fy_now_ms(void);
/* Monotonic microseconds. */
uint64_t fy_now_us(void);
/* RFC 3339 UTC with seconds, "2026-11-26T07:15:05Z", into buf (>= 21 bytes). */
void fy_rfc3339(time_t t, char *buf, size_t n);
/* Parse RFC 3339 (Z or offset, optional fraction); -1 on error. */
time_t fy_parse_rfc3339(const char *s);
/* A duration "250" (ms), "250ms", "3s", "2m" or "1h"; -1 if invalid or over a day. */
long fy_parse_duration_ms(const char *s);
/* Fill buf with n cryptographically random bytes (getrandom). */
void fy_random_bytes(void *buf, size_t n);
/* Random UUID v4 string into out (37 bytes). */
void fy_uuid4(char out[37]);
/* n random chars from the Kubernetes name-suffix alphabet "bcdfghjklmnpqrstvwxz2456789". */
void fy_random_suffix(char *out, size_t n);

#endif
