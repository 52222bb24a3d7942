/*
 * metrics.h - a process-wide registry of Prometheus counters, gauges and
 * histograms, for the figures that belong to one part but are exported by
 * another (in `ferry up` the API server's /metrics also shows the
 * controller's argocd_app_reconcile and the git client's
 * argocd_git_request_* series). Thread-safe (one mutex).
 *
 * labels is the preformatted label list without braces ('a="x",b="y"'),
 * built with fy_metrics_label() so values are escaped; "" for none.
 */
#ifndef FY_METRICS_H
#define FY_METRICS_H

#include <stddef.h>
#include "buf.h"

void fy_metrics_counter_add(const char *name, const char *help, const char *labels, double v);
/* Gauges: set to v, or move by v (a family is of the type it was first used as). */
void fy_metrics_gauge_set(const char *name, const char *help, const char *labels, double v);
void fy_metrics_gauge_add(const char *name, const char *help, const char *labels, double v);
/* Histogram with the buckets 0.05 0.1 0.25 0.5 1 2 4 8 16 (seconds). */
void fy_metrics_observe(const char *name, const char *help, const char *labels, double v);
/* Append `key="escaped value"` (with a leading comma unless *out is empty). */
void fy_metrics_label(char *out, size_t n, const char *key, const char *value);
/* Append every registered family in Prometheus text format. */
void fy_metrics_render(struct fy_buf *out);

#endif
