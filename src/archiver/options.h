/* gtp-archiver's option table (docs/programs.md: one table drives parsing, env, validation,
 * --help and the README) and the checks the table cannot express, apart from main(). */
#ifndef ARCH_OPTIONS_H
#define ARCH_OPTIONS_H

#include <stdbool.h>

#include "maintain.h"
#include "gtp/cfg.h"
#include "gtp/parquet.h"

struct arch_cfg {
    char *brokers, *topic, *dlq_topic, *taxonomy, *log_level;
    long long metrics_port;
    char *group, *archive_dir, *codec;
    long long roll_rows, roll_seconds, roll_bytes, catchup_rows, startup_timeout_s;
    long long checkpoint_interval;
    long long compact_interval_s, target_file_size, enrich_threads;
    char *log_retention, *vacuum_retention;
    bool maintain;
};

extern const struct gtp_cli arch_cli;

/* ZSTD level of the archive's files, rolls and compaction alike (docs/archive.md): level 1
 * compressed a roll's pages with 18 % fewer instructions than level 3, and the files of these
 * rows came out no larger. */
#define ARCH_ZSTD_LEVEL 1

/* The shortest --vacuum-retention of the daemon (see arch_options_check). */
#define ARCH_MIN_VACUUM_RETENTION_MS 10000

/* Options that need more than the table's checks: the codec into *popts (defaults
 * otherwise), a non-empty --archive-dir, the retentions into *mc (the maintenance settings,
 * pointing into cfg and popts). Returns 0, or GTP_EXIT_CONFIG after saying why on stderr. */
int arch_options_check(const struct arch_cfg *cfg, struct gtp_parquet_opts *popts,
                       struct arch_maint_cfg *mc);

#endif
