/*
 * map.h - string-keyed hash map (separate chaining, FNV-1a, doubling).
 *
 * Keys are copied; values are opaque pointers owned by the caller.
 * Not thread-safe: the owner serialises access. Iteration order is
 * unspecified. fy_map_del returns the old value so the caller can free it.
 */
#ifndef FY_MAP_H
#define FY_MAP_H

#include <stddef.h>

struct fy_map_ent {
	struct fy_map_ent *next;
	unsigned long hash;
	void *val;
	char key[];
};

struct fy_map {
	struct fy_map_ent **b;
	size_t nb;
	size_t n;
};

void fy_map_init(struct fy_map *m);
/* Frees entries (not values). */
void fy_map_release(struct fy_map *m);
void *fy_map_get(const struct fy_map *m, const char *key);
/* Insert or replace; returns the previous value (or NULL). */
void *fy_map_put(struct fy_map *m, const char *key, void *val);
void *fy_map_del(struct fy_map *m, const char *key);
/* Iterate: for (it = NULL; (it = fy_map_next(m, it)); ) use it->key, it->val.
 * Do not modify the map while iterating. */
struct fy_map_ent *fy_map_next(const struct fy_map *m, struct fy_map_ent *it);

#endif
