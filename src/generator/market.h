/* The moving job market behind gtp-generator (docs/events.md, "The market model"):
 * per-country clocks and working weeks, regional skill affinities, skill trends
 * relative to --start, emerging skills, hiring spikes, and the Zipf population
 * of employers with their home countries and tech stacks. The data comes from
 * <taxonomy>/market.tsv, so it can change without recompiling; everything here
 * is a pure function of that file, the seed and the simulated time, which is
 * what lets --print-model state the ground truth the stream was drawn from. */
#ifndef GEN_MARKET_H
#define GEN_MARKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MARKET_MAX_COUNTRIES 64
#define MARKET_MAX_LIST      16 /* skills of a stack or spike list, roles of an emerging skill */
#define MARKET_DAY_US        INT64_C(86400000000)
#define MARKET_HOUR_US       INT64_C(3600000000)

struct market_country {
    char code[8];
    int offset_min;    /* local = UTC + offset (one fixed offset, no daylight saving) */
    int weekend_first; /* first weekend day, 0 = Monday: 5 sat-sun, 4 fri-sat */
    double junior;     /* multiplier of junior titles */
    double remote;     /* multiplier of remote postings */
    double share;      /* expected share of postings over a week (from the employers) */
};

struct market_emerging {
    int skill;
    double mid_day, width_days, weight;
    size_t nroles;
    int roles[MARKET_MAX_LIST];
};

struct market_stack {
    char name[32];
    size_t n;
    int skills[MARKET_MAX_LIST];
};

struct market_employer {
    char *name; /* JSON-safe, owned by the market */
    size_t name_len;
    int home;  /* country index */
    int stack; /* stack index */
    double w;  /* Zipf weight rank^-s */
};

struct market {
    size_t ncountries;
    struct market_country country[MARKET_MAX_COUNTRIES];
    double act[2][24]; /* weekday, weekend activity by local hour */
    double act_max;
    size_t nskills, nroles;
    double *affinity;     /* [country * nskills + skill], 1 when not listed */
    double *trend_factor; /* [skill]: 1 = no trend */
    double *trend_days;   /* [skill] */
    double *weight_max;   /* [skill]: the largest weight the skill can reach anywhere */
    int *emerging_of;     /* [skill]: index into emerging or -1 */
    size_t nemerging;
    struct market_emerging *emerging;
    size_t spikes_per_day, nspike_skills;
    double spike_factor, spike_min_h, spike_max_h;
    int spike_skills[MARKET_MAX_LIST];
    size_t nstacks;
    struct market_stack *stacks;
    double *role_remote, *role_junior; /* [role] */
    /* employers: named ones first (rank order), then made-up names */
    size_t nemployers, multinationals;
    double zipf_s, abroad_p;
    struct market_employer *employers;
    double repost_p, repost_min_days;
    size_t repost_max_rank;
    double intensity_norm; /* weekly mean of the raw intensity, so market_intensity averages 1 */
};

/* Load <taxonomy_dir>/market.tsv and build the employer population. New market,
 * or NULL with errstr naming market.tsv:LINE and the reason. */
struct market *market_load(const char *taxonomy_dir, char *errstr, size_t errstr_size);
void market_free(struct market *mk);

/* Country index of a region code, or -1. */
int market_country_find(const struct market *mk, const char *code);

/* Activity of country c at sim_us: its working-day curve at local time, 0..act_max. */
double market_activity(const struct market *mk, size_t c, int64_t sim_us);

/* Relative posting intensity at sim_us: the countries' activities weighted by
 * their shares, normalised to mean 1 over a week. */
double market_intensity(const struct market *mk, int64_t sim_us);

/* Demand multiplier of a skill over time (trend times emergence), the same in
 * every country; 1 for a skill that does not move. */
double market_trend(const struct market *mk, int skill, int64_t start_us, int64_t sim_us);

/* One hiring spike: skill demand times factor in one country during [from, to). */
struct market_spike {
    int skill, country;
    int64_t from_us, to_us;
    double factor;
};

/* The spikes that start on simulated day `day` (0 = the day from --start), a
 * pure function of seed and start. Writes up to max into out; returns how many. */
size_t market_spikes_of_day(const struct market *mk, uint64_t seed, int64_t start_us, int64_t day,
                            struct market_spike *out, size_t max);

/* The full expected weight of a skill in country c at sim_us: trend x emergence
 * x affinity x active spikes. Postings in c at that time mention the skill
 * with a probability proportional to it (docs/events.md). */
double market_weight(const struct market *mk, uint64_t seed, int64_t start_us, int skill, size_t c,
                     int64_t sim_us);

/* --at: RFC 3339, or +N{s,m,h,d} after start_us. Returns 0, or -1 with errstr. */
int market_parse_at(const char *s, int64_t start_us, int64_t *out, char *errstr,
                    size_t errstr_size);

/* Write the model at at_us as one JSON document (shape in docs/events.md).
 * Returns 0, or -1 if the write failed. */
int market_print(const struct market *mk, FILE *f, uint64_t seed, int64_t start_us, int64_t at_us);

/* Build the employer population (employers.c, called by market_load): made-up
 * names beyond the named ones, Zipf weights, homes spread so each country's
 * share follows its locations' weight. Returns 0 or -1 with errstr. */
int market_employers_build(struct market *mk, size_t nnamed, char *errstr, size_t errstr_size);

#endif
