/* gtp-processor's option table (docs/programs.md: one table drives parsing, env, validation,
 * --help and the README), apart from main(). */
#ifndef PROC_OPTIONS_H
#define PROC_OPTIONS_H

#include <stdbool.h>

#include "gtp/cfg.h"

struct proc_cfg {
    char *brokers, *topic, *dlq_topic, *redis_url, *taxonomy, *log_level;
    long long metrics_port;
    char *group;
    long long flush_ms, flush_events, flush_idle_ms, retention_s, startup_timeout_s, enrich_threads;
    bool insights;
};

extern const struct gtp_cli proc_cli;

#endif
