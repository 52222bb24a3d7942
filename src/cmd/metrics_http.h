/*
 * metrics_http.h - a plain-HTTP /metrics endpoint serving the process-wide
 * registry (util/metrics.h), for parts that run alone (`ferry controller
 * --metrics-listen HOST:PORT`, like Argo CD's controller metrics port).
 */
#ifndef FY_METRICS_HTTP_H
#define FY_METRICS_HTTP_H

#include "util/err.h"

struct fy_metrics_http;

int fy_metrics_http_start(struct fy_metrics_http **out, const char *listen, struct fy_err *err);
void fy_metrics_http_stop(struct fy_metrics_http *m);

#endif
