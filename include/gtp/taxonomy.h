/* Everything loaded from a taxonomy directory (skills, regions, seniority),
 * as one reference-counted object so a daemon can load a fresh one on SIGHUP
 * and swap its pointer while work that still holds the old one finishes. */
#ifndef GTP_TAXONOMY_H
#define GTP_TAXONOMY_H

#include <stddef.h>
#include <stdint.h>

#include "gtp/region.h"
#include "gtp/seniority.h"
#include "gtp/skills.h"

struct gtp_taxonomy {
    /* All three owned by the taxonomy, immutable: lookups are thread safe.
     * Skill indexes (struct gtp_skill_set bits) only mean something together
     * with the gtp_skills that produced them: convert them to ids before
     * keeping them across a reload. */
    struct gtp_skills *skills;
    struct gtp_regions *regions;
    struct gtp_seniority *seniority;
    char *dir;       /* the directory it was loaded from */
    uint64_t serial; /* this load's number (never 0), for per-thread memos (gtp/titlememo.h) */
    int refcnt;      /* private: use gtp_taxonomy_ref/_free */
};

/* Load skills.tsv, countries.tsv, us_states.tsv, cities.tsv and seniority.tsv
 * from dir. Returns a new taxonomy with one reference, or NULL with errstr set
 * (file:line for data errors). */
struct gtp_taxonomy *gtp_taxonomy_load(const char *dir, char *errstr, size_t errstr_size);

/* Take one more reference (returns tx). Thread safe. */
struct gtp_taxonomy *gtp_taxonomy_ref(struct gtp_taxonomy *tx);

/* Drop a reference; the last one frees everything. NULL-safe, thread safe. */
void gtp_taxonomy_free(struct gtp_taxonomy *tx);

#endif
