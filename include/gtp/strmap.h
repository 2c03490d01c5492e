/* A hash map from byte strings to opaque pointers: the taxonomy lookups
 * (region names and codes, seniority cues) are hash probes, not scans.
 * Keys are copied; values are borrowed (the caller keeps them alive). Not
 * thread safe for writes; concurrent gtp_strmap_get() calls on a map nobody
 * writes are safe. */
#ifndef GTP_STRMAP_H
#define GTP_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct gtp_strmap;

/* New empty map. Never NULL (aborts on OOM). */
struct gtp_strmap *gtp_strmap_new(void);
/* NULL-safe. Frees the keys, not the values. */
void gtp_strmap_free(struct gtp_strmap *m);
/* Insert key[0..klen) -> value unless present (keys may hold NUL bytes).
 * Returns NULL when inserted, else the existing value (left unchanged). */
void *gtp_strmap_put(struct gtp_strmap *m, const char *key, size_t klen, void *value);
/* Value for key or NULL. */
void *gtp_strmap_get(const struct gtp_strmap *m, const char *key, size_t klen);
/* Number of keys. */
size_t gtp_strmap_count(const struct gtp_strmap *m);

/* The map's hash of s[0..n) (64-bit FNV-1a), for other tables keyed by byte
 * strings (the window's event ids, caches); pure, thread safe. */
uint64_t gtp_strmap_hash(const void *s, size_t n);

#endif
