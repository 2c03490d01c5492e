/* gtp-generator's option table (docs/programs.md: one table drives parsing, env,
 * validation and --help), apart from main() so tests can parse with it. */
#ifndef GEN_OPTIONS_H
#define GEN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtp/cfg.h"

struct gen_cfg {
    char *brokers, *topic, *dlq_topic, *log_level;
    long long metrics_port;
    double rate;
    long long count;
    char *seed;
    double chaos;
    char *chaos_kinds;
    char *start;
    double speed;
    char *out;
    bool resume;
    /* the market model (taxonomy/market.tsv) */
    char *taxonomy;
    bool print_model;
    char *at;
};

extern const struct gtp_cli gen_cli;

struct gen_opts;

/* The generator's settings from cfg at wall time now_us: the seed (--seed, else from the
 * time and pid), the chaos kinds, the clock's start (--start: RFC 3339, "now" or now-N{s,m,h,d};
 * a seeded run without it starts at 2024-03-15T00:00:00Z) and the density. go->market is left
 * NULL. Returns 0, or GTP_ERR_CONFIG with the reason (naming the flag) in err. */
int gen_options_resolve(const struct gen_cfg *cfg, int64_t now_us, struct gen_opts *go, char *err,
                        size_t errsz);

#endif
