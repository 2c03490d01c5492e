/* gtp-generator's option table (docs/programs.md: one table drives parsing, env,
 * validation and --help), apart from main() so tests can parse with it. */
#ifndef GEN_OPTIONS_H
#define GEN_OPTIONS_H

#include <stdbool.h>

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

#endif
