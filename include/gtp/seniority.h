/* experience_level of a job title (docs/events.md), from the cue words in
 * taxonomy/seniority.tsv. */
#ifndef GTP_SENIORITY_H
#define GTP_SENIORITY_H

#include <stddef.h>

/* Ordered: when a title has cues of several levels the highest wins. */
enum gtp_seniority_level {
    GTP_SENIORITY_UNSPECIFIED = 0, /* no cue: "Data Engineer" */
    GTP_SENIORITY_INTERN,
    GTP_SENIORITY_JUNIOR,
    GTP_SENIORITY_MID,
    GTP_SENIORITY_SENIOR,
    GTP_SENIORITY_LEAD,
    GTP_SENIORITY_PRINCIPAL,
    GTP_SENIORITY_DIRECTOR,
};
#define GTP_SENIORITY_NLEVELS 8

/* "Intern", "Junior", "Mid", "Senior", "Lead", "Principal", "Director",
 * "Unspecified" (static; "Unspecified" for out-of-range values). */
const char *gtp_seniority_name(enum gtp_seniority_level level);

/* Level of a name as written above (case-insensitive), or -1. */
int gtp_seniority_parse(const char *name);

/* Opaque, immutable once loaded (thread safe lookups). */
struct gtp_seniority;

/* Load <taxonomy_dir>/seniority.tsv. New object or NULL with errstr naming
 * file:line (unknown level, a cue listed under two levels). */
struct gtp_seniority *gtp_seniority_load(const char *taxonomy_dir, char *errstr,
                                         size_t errstr_size);

/* NULL-safe. */
void gtp_seniority_free(struct gtp_seniority *sn);

/* Level of title[0..len) (any bytes; NULL -> Unspecified). The title is
 * normalized like locations (gtp_textnorm) and every run of up to 3 words is
 * looked up; the highest level found wins; none -> GTP_SENIORITY_UNSPECIFIED.
 * Only the first 255 normalized bytes are examined. */
enum gtp_seniority_level gtp_seniority_of(const struct gtp_seniority *sn, const char *title,
                                          size_t len);

/* Number of cues loaded. */
size_t gtp_seniority_cues(const struct gtp_seniority *sn);

#endif
