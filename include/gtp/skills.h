/* The skill matcher: skill ids found in free text, compiled once from
 * taxonomy/skills.tsv into a table-driven automaton, with a PCRE2 JIT
 * pattern of the same aliases as its reference (docs/events.md). */
#ifndef GTP_SKILLS_H
#define GTP_SKILLS_H

#include <stddef.h>
#include <stdint.h>

/* Upper bound on the number of skills a taxonomy may define. */
#define GTP_SKILLS_MAX 1024

/* A set of skill indexes (taxonomy order). Zero it before the first match. */
struct gtp_skill_set {
    uint64_t bits[GTP_SKILLS_MAX / 64];
};

/* Opaque, immutable once loaded: gtp_skills_match() may be called from
 * several threads at once on the same object. */
struct gtp_skills;

/* Load <taxonomy_dir>/skills.tsv and compile the matcher.
 * Returns a new object (free with gtp_skills_free) or NULL with errstr set
 * (the message names file:line for data errors). */
struct gtp_skills *gtp_skills_load(const char *taxonomy_dir, char *errstr, size_t errstr_size);

/* NULL-safe. */
void gtp_skills_free(struct gtp_skills *sk);

/* Number of skills; indexes run 0..count-1 in taxonomy (file) order. */
size_t gtp_skills_count(const struct gtp_skills *sk);

/* Borrowed strings, valid as long as sk. idx < count. */
const char *gtp_skills_id(const struct gtp_skills *sk, size_t idx);
const char *gtp_skills_name(const struct gtp_skills *sk, size_t idx);
const char *gtp_skills_category(const struct gtp_skills *sk, size_t idx);

/* Index of a skill id, or -1. */
int gtp_skills_find(const struct gtp_skills *sk, const char *id);

/* Tests, fuzzing and the benchmark: switch sk to its reference path, with
 * no prefilter: every word start goes to the PCRE2 pattern instead of the
 * automaton and its scanner. Its result is the reference the fast path
 * must agree with (about a third of its speed). The pattern is built
 * and compiled here, not by gtp_skills_load: the daemons never use it, and
 * doing so took 37 % of a taxonomy load's instructions (docs/events.md). Returns 0, or
 * GTP_ERR_INTERNAL with errstr when PCRE2 refuses the pattern (sk is unchanged). Call before sk is
 * shared between threads. */
int gtp_skills_disable_prefilter(struct gtp_skills *sk, char *errstr, size_t errstr_size);

/* Add to *out every skill mentioned in text[0..len) (bytes, need not be
 * NUL-terminated; invalid UTF-8 is tolerated, never matched into). One
 * pass of table lookups over the text, about 6.5 KiB of stack, no malloc.
 * Returns 0, or GTP_ERR_INTERNAL when PCRE2 hit a match limit on the
 * reference path (the skills found so far stay in *out). */
int gtp_skills_match(const struct gtp_skills *sk, const char *text, size_t len,
                     struct gtp_skill_set *out);

static inline void gtp_skill_set_add(struct gtp_skill_set *s, size_t idx)
{
    s->bits[idx / 64] |= (uint64_t)1 << (idx % 64);
}
static inline int gtp_skill_set_has(const struct gtp_skill_set *s, size_t idx)
{
    return (int)((s->bits[idx / 64] >> (idx % 64)) & 1u);
}

#endif
