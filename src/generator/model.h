/* The synthetic job market: titles, companies, locations, and descriptions that
 * mention skills with realistic popularity, co-occurrence and trends over
 * simulated time, plus the daily cycle of the posting rate. Pure functions of
 * the PRNG stream and the simulated time, so streams are reproducible. */
#ifndef GEN_MODEL_H
#define GEN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtp/buf.h"
#include "rng.h"

#define MODEL_MAX_SKILLS 16

/* One generated posting. The strings point into the posting's own buffers or
 * into static tables; valid until the next model_make() on the same posting. */
struct posting {
    const char *title;
    size_t title_len;
    const char *company;
    size_t company_len;
    const char *location;
    const char *source;
    const char *country; /* ISO code of the location (UK for Britain), REMOTE or "" */
    struct gtp_buf title_buf, company_buf, desc;
    bool is_remote;
    /* skills mentioned (indexes into the model's table) and the surface form
     * used for each, for tests */
    size_t nskills;
    int skills[MODEL_MAX_SKILLS];
    const char *forms[MODEL_MAX_SKILLS];
};

struct model;

/* New model (immutable tables plus a cache of trend weights). Never NULL. */
struct model *model_new(void);
void model_free(struct model *m);

void posting_init(struct posting *p);
void posting_fini(struct posting *p);

/* Fill *p with a posting drawn from r at simulated time sim_us (UTC micros). */
void model_make(struct model *m, struct rng *r, int64_t sim_us, struct posting *p);

/* Relative posting intensity at sim_us: the daily cycle (peak mid-afternoon
 * UTC, trough at night) and quieter weekends; mean about 1 over a week. */
double model_intensity(int64_t sim_us);

/* Popularity multiplier of skill idx at sim_us (trend: some rise, some fall). */
double model_trend(int idx, int64_t sim_us);

/* The skill table: id (the taxonomy id of docs/events.md for the fixed skills). */
size_t model_skill_count(void);
const char *model_skill_id(int idx);
int model_skill_find(const char *id);

#endif
