/* metrics.c - see metrics.h */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"
#include "xalloc.h"

static const double buckets[] = { 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16 };
#define NB (sizeof(buckets) / sizeof(buckets[0]))

struct series {
	struct series *next;
	char *labels;
	double value;          /* counter value, or histogram sum */
	unsigned long count;   /* histogram */
	unsigned long b[NB];   /* histogram cumulative buckets */
};

struct family {
	struct family *next;
	char *name;
	char *help;
	int type;              /* COUNTER, GAUGE, HISTOGRAM */
	struct series *s;
};

enum { COUNTER, GAUGE, HISTOGRAM };
static const char *const type_name[] = { "counter", "gauge", "histogram" };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct family *families;

static struct series *find(const char *name, const char *help, int type, const char *labels)
{
	struct family *f;
	for (f = families; f; f = f->next)
		if (!strcmp(f->name, name))
			break;
	if (!f) {
		f = fy_xcalloc(1, sizeof(*f));
		f->name = fy_xstrdup(name);
		f->help = fy_xstrdup(help ? help : "");
		f->type = type;
		/* keep families in registration order */
		struct family **pp = &families;
		while (*pp)
			pp = &(*pp)->next;
		*pp = f;
	}
	struct series *s;
	for (s = f->s; s; s = s->next)
		if (!strcmp(s->labels, labels ? labels : ""))
			return s;
	s = fy_xcalloc(1, sizeof(*s));
	s->labels = fy_xstrdup(labels ? labels : "");
	s->next = f->s;
	f->s = s;
	return s;
}

void fy_metrics_counter_add(const char *name, const char *help, const char *labels, double v)
{
	pthread_mutex_lock(&mu);
	find(name, help, COUNTER, labels)->value += v;
	pthread_mutex_unlock(&mu);
}

static void gauge(const char *name, const char *help, const char *labels, double v, int add)
{
	pthread_mutex_lock(&mu);
	struct series *s = find(name, help, GAUGE, labels);
	s->value = add ? s->value + v : v;
	pthread_mutex_unlock(&mu);
}

void fy_metrics_gauge_set(const char *name, const char *help, const char *labels, double v)
{
	gauge(name, help, labels, v, 0);
}

void fy_metrics_gauge_add(const char *name, const char *help, const char *labels, double v)
{
	gauge(name, help, labels, v, 1);
}

void fy_metrics_observe(const char *name, const char *help, const char *labels, double v)
{
	pthread_mutex_lock(&mu);
	struct series *s = find(name, help, HISTOGRAM, labels);
	s->value += v;
	s->count++;
	for (size_t i = 0; i < NB; i++)
		if (v <= buckets[i])
			s->b[i]++;
	pthread_mutex_unlock(&mu);
}

void fy_metrics_label(char *out, size_t n, const char *key, const char *value)
{
	size_t o = strlen(out);
	if (o + 4 + strlen(key) >= n)
		return;
	o += (size_t)snprintf(out + o, n - o, "%s%s=\"", o ? "," : "", key);
	for (const char *p = value ? value : ""; *p && o + 3 < n; p++) {
		if (*p == '"' || *p == '\\') {
			out[o++] = '\\';
			out[o++] = *p;
		} else if (*p == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *p;
		}
	}
	if (o + 1 < n)
		out[o++] = '"';
	out[o] = 0;
}

void fy_metrics_render(struct fy_buf *out)
{
	pthread_mutex_lock(&mu);
	for (struct family *f = families; f; f = f->next) {
		fy_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
			    type_name[f->type]);
		for (struct series *s = f->s; s; s = s->next) {
			const char *sep = *s->labels ? "," : "";
			if (f->type != HISTOGRAM) {
				fy_buf_addf(out, "%s{%s} %.17g\n", f->name, s->labels, s->value);
				continue;
			}
			for (size_t i = 0; i < NB; i++)
				fy_buf_addf(out, "%s_bucket{%s%sle=\"%g\"} %lu\n", f->name, s->labels, sep, buckets[i], s->b[i]);
			fy_buf_addf(out, "%s_bucket{%s%sle=\"+Inf\"} %lu\n", f->name, s->labels, sep, s->count);
			fy_buf_addf(out, "%s_sum{%s} %.9g\n%s_count{%s} %lu\n", f->name, s->labels, s->value, f->name,
				    s->labels, s->count);
		}
	}
	pthread_mutex_unlock(&mu);
}
