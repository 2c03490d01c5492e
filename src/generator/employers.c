/* The employer population of the market model: a Zipf-like ranking (the k-th
 * largest employer posts with weight k^-s), home countries spread so that
 * each country's share of postings follows the weight of its locations, and a
 * tech stack per employer. Seed-independent on purpose: "Tech Corp is big and
 * runs on the JVM" holds in every run, as it would on a real board. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/err.h"
#include "gtp/util.h"
#include "market.h"
#include "model.h"
#include "rng.h"

static const char *const name_pre[] = {
    "Blue",     "Quantum", "Nimbus", "Bright",  "Polar",   "Vertex",   "Nova",   "Atlas",
    "Cobalt",   "Lumen",   "Apex",   "Silver",  "Redwood", "Helix",    "Orbit",  "Pixel",
    "Summit",   "Zephyr",  "Ember",  "Stellar", "Harbor",  "Granite",  "Falcon", "Cedar",
    "Borealis", "Delta",   "Echo",   "Iron",    "Lotus",   "Meridian",
};
static const char *const name_suf[] = {
    "Labs",     "Systems",   "Analytics",    "Minds",    "Bank",   "Health",
    "Retail",   "Logistics", "Technologies", "Software", "Data",   "Cloud",
    "Networks", "Insurance", "Games",        "Media",    "Energy", "Robotics",
};
static const char *const name_legal[] = {"", " Inc.", " Group", " Holdings", " Partners"};

int market_employers_build(struct market *mk, size_t nnamed, char *errstr, size_t errstr_size)
{
    size_t n = mk->nemployers;
    size_t combos = GTP_ARRAY_LEN(name_pre) * GTP_ARRAY_LEN(name_suf);
    if (n - nnamed > combos * GTP_ARRAY_LEN(name_legal) * 100) {
        gtp_errf(errstr, errstr_size, "market.tsv: employers COUNT %zu is too large", n);
        return -1;
    }
    /* target share of each country: the weight of its locations */
    double target[MARKET_MAX_COUNTRIES], assigned[MARKET_MAX_COUNTRIES] = {0}, ttotal = 0;
    for (size_t c = 0; c < mk->ncountries; c++) {
        target[c] = model_country_weight(mk->country[c].code);
        ttotal += target[c];
    }
    for (size_t c = 0; c < mk->ncountries; c++)
        target[c] /= ttotal;

    mk->employers = gtp_xrealloc(mk->employers, n * sizeof(*mk->employers));
    struct rng r;
    rng_seed(&r, 0x656d706c6f79ULL); /* "employ": the same population for every seed */
    double cum = 0;
    for (size_t k = 0; k < n; k++) {
        struct market_employer *e = &mk->employers[k];
        e->w = pow((double)(k + 1), -mk->zipf_s);
        cum += e->w;
        if (k < nnamed) {
            assigned[e->home] += e->w;
            continue;
        }
        /* the country furthest below its target takes the next employer */
        size_t best = 0;
        double gap = -INFINITY;
        for (size_t c = 0; c < mk->ncountries; c++) {
            double g = target[c] * cum - assigned[c];
            if (g > gap) {
                gap = g;
                best = c;
            }
        }
        e->home = (int)best;
        assigned[best] += e->w;
        e->stack = (int)rng_below(&r, (uint32_t)mk->nstacks);
        size_t j = k - nnamed;
        char name[96];
        size_t variant = j / combos;
        if (variant < GTP_ARRAY_LEN(name_legal))
            snprintf(name, sizeof(name), "%s %s%s", name_pre[j % GTP_ARRAY_LEN(name_pre)],
                     name_suf[j / GTP_ARRAY_LEN(name_pre) % GTP_ARRAY_LEN(name_suf)],
                     name_legal[variant]);
        else
            snprintf(name, sizeof(name), "%s %s %zu", name_pre[j % GTP_ARRAY_LEN(name_pre)],
                     name_suf[j / GTP_ARRAY_LEN(name_pre) % GTP_ARRAY_LEN(name_suf)], variant);
        e->name = gtp_xstrdup(name);
        e->name_len = strlen(name);
    }
    /* the expected share of each country: home postings, and the multinationals'
     * postings abroad spread by target share */
    for (size_t c = 0; c < mk->ncountries; c++)
        mk->country[c].share = 0;
    for (size_t k = 0; k < n; k++) {
        const struct market_employer *e = &mk->employers[k];
        double abroad = k < mk->multinationals ? mk->abroad_p : 0;
        mk->country[e->home].share += e->w * (1 - abroad) / cum;
        for (size_t c = 0; c < mk->ncountries && abroad > 0; c++)
            mk->country[c].share += e->w * abroad * target[c] / cum;
    }
    return 0;
}
