/* The synthetic postings: titles, employers, locations, and descriptions that
 * mention skills with realistic popularity and co-occurrence, drawn from the
 * moving market of market.h (local working hours, regional affinities,
 * trends, spikes, Zipf employers). Pure functions of the PRNG stream, the seed
 * and the simulated time, so streams are reproducible. */
#ifndef GEN_MODEL_H
#define GEN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtp/buf.h"
#include "market.h"
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
    const char *office;  /* the employer's office country (the clock the posting followed) */
    int employer;        /* rank of the employer in the market, 0 = largest */
    struct gtp_buf title_buf, company_buf, desc;
    bool is_remote;
    /* skills mentioned (indexes into the model's table) and the surface form
     * used for each, for tests */
    size_t nskills;
    int skills[MODEL_MAX_SKILLS];
    const char *forms[MODEL_MAX_SKILLS];
};

struct model;

/* New model over a loaded market (borrowed: it must outlive the model); seed
 * and start place the spikes and the trends. Never NULL. */
struct model *model_new(const struct market *mk, uint64_t seed, int64_t start_us);
void model_free(struct model *m);

void posting_init(struct posting *p);
void posting_fini(struct posting *p);

/* Fill *p with a posting drawn from r at simulated time sim_us (UTC micros). */
void model_make(struct model *m, struct rng *r, int64_t sim_us, struct posting *p);

/* Relative posting intensity at sim_us (market_intensity(), cached per 5
 * simulated minutes, at least 0.001): the countries' working days; mean 1 over
 * a week. */
double model_intensity(struct model *m, int64_t sim_us);

/* The skill table: id (the taxonomy id of docs/events.md for the fixed skills). */
size_t model_skill_count(void);
const char *model_skill_id(int idx);
int model_skill_find(const char *id);

/* The role table (names as in titles) and the location table, for market.tsv's checks. */
int model_role_find(const char *name);
size_t model_role_count(void);
size_t model_location_count(void);
const char *model_location_country(size_t i);
/* Summed weight of the locations in a country (0 if none). */
double model_country_weight(const char *code);

#endif
