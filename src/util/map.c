/* map.c - see map.h */
#include <stdlib.h>
#include <string.h>
#include "map.h"
#include "xalloc.h"

static unsigned long hash_str(const char *s)
{
	unsigned long h = 1469598103934665603UL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211UL;
	}
	return h;
}

void fy_map_init(struct fy_map *m)
{
	m->nb = 0;
	m->n = 0;
	m->b = NULL;
}

void fy_map_release(struct fy_map *m)
{
	for (size_t i = 0; i < m->nb; i++) {
		struct fy_map_ent *e = m->b[i];
		while (e) {
			struct fy_map_ent *nx = e->next;
			free(e);
			e = nx;
		}
	}
	free(m->b);
	fy_map_init(m);
}

static void grow(struct fy_map *m)
{
	size_t nb = m->nb ? m->nb * 2 : 64;
	struct fy_map_ent **b = fy_xcalloc(nb, sizeof(*b));
	for (size_t i = 0; i < m->nb; i++) {
		struct fy_map_ent *e = m->b[i];
		while (e) {
			struct fy_map_ent *nx = e->next;
			size_t j = e->hash & (nb - 1);
			e->next = b[j];
			b[j] = e;
			e = nx;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
}

void *fy_map_get(const struct fy_map *m, const char *key)
{
	if (!m->nb)
		return NULL;
	unsigned long h = hash_str(key);
	for (struct fy_map_ent *e = m->b[h & (m->nb - 1)]; e; e = e->next)
		if (e->hash == h && !strcmp(e->key, key))
			return e->val;
	return NULL;
}

void *fy_map_put(struct fy_map *m, const char *key, void *val)
{
	unsigned long h = hash_str(key);
	if (m->nb) {
		for (struct fy_map_ent *e = m->b[h & (m->nb - 1)]; e; e = e->next)
			if (e->hash == h && !strcmp(e->key, key)) {
				void *old = e->val;
				e->val = val;
				return old;
			}
	}
	if (m->n + 1 > m->nb)
		grow(m);
	size_t kl = strlen(key);
	struct fy_map_ent *e = fy_xmalloc(sizeof(*e) + kl + 1);
	memcpy(e->key, key, kl + 1);
	e->hash = h;
	e->val = val;
	size_t j = h & (m->nb - 1);
	e->next = m->b[j];
	m->b[j] = e;
	m->n++;
	return NULL;
}

void *fy_map_del(struct fy_map *m, const char *key)
{
	if (!m->nb)
		return NULL;
	unsigned long h = hash_str(key);
	struct fy_map_ent **pp = &m->b[h & (m->nb - 1)];
	for (; *pp; pp = &(*pp)->next) {
		struct fy_map_ent *e = *pp;
		if (e->hash == h && !strcmp(e->key, key)) {
			void *v = e->val;
			*pp = e->next;
			free(e);
			m->n--;
			return v;
		}
	}
	return NULL;
}

struct fy_map_ent *fy_map_next(const struct fy_map *m, struct fy_map_ent *it)
{
	size_t i = 0;
	if (it) {
		if (it->next)
			return it->next;
		i = (it->hash & (m->nb - 1)) + 1;
	}
	for (; i < m->nb; i++)
		if (m->b[i])
			return m->b[i];
	return NULL;
}
