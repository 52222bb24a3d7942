/*
 * internal.h - declarations shared by the files of src/health only.
 * Not part of the module's public API (see health.h, luasandbox.h).
 */
#ifndef FY_HEALTH_INTERNAL_H
#define FY_HEALTH_INTERNAL_H

#include <stddef.h>

/* "apps/v1" -> "apps", "v1"; "v1" -> "", "v1" (truncating to the buffers). */
void fy_health_split_api_version(const char *apiv, char *group, size_t gn, char *version, size_t vn);

#endif
