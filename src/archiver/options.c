/* gtp-archiver's options (see options.h). */
#include "options.h"

#include "gtp/pool.h"

#include <stddef.h>
#include <stdio.h>

#include "gtp/delta_checkpoint.h"
#include "gtp/err.h"
#include "gtp/util.h"

static const struct gtp_opt arch_opts[] = {
    GTP_OPTS_KAFKA(struct arch_cfg),
    GTP_OPTS_TAXONOMY(struct arch_cfg),
    {"group", 'g', "GTP_GROUP", GTP_OPT_STR, offsetof(struct arch_cfg, group), "gtp-archiver", "ID",
     "kafka consumer group", 0, 0},
    {"archive-dir", 0, "GTP_ARCHIVE_DIR", GTP_OPT_STR, offsetof(struct arch_cfg, archive_dir),
     "./data/silver_job_postings", "DIR", "root of the parquet files and the delta table", 0, 0},
    {"roll-rows", 0, "GTP_ROLL_ROWS", GTP_OPT_INT, offsetof(struct arch_cfg, roll_rows), "250000",
     "N", "roll a partition's files after this many buffered rows", 1, 100000000},
    {"roll-seconds", 0, "GTP_ROLL_SECONDS", GTP_OPT_INT, offsetof(struct arch_cfg, roll_seconds),
     "300", "SECONDS", "roll the files at least this often while a partition has data", 1, 86400},
    {"roll-bytes", 0, "GTP_ROLL_BYTES", GTP_OPT_INT, offsetof(struct arch_cfg, roll_bytes),
     "67108864", "BYTES", "roll a partition's files when its buffers hold this many bytes", 65536,
     4294967296.0},
    {"catchup-rows", 0, "GTP_CATCHUP_ROWS", GTP_OPT_INT, offsetof(struct arch_cfg, catchup_rows),
     "10000", "N",
     "roll at once when a partition reaches the end of the log after being this many messages "
     "behind it (0: never)",
     0, 1000000000},
    {"codec", 0, "GTP_CODEC", GTP_OPT_STR, offsetof(struct arch_cfg, codec), "zstd", "zstd|snappy",
     "parquet page compression", 0, 0},
    {"checkpoint-interval", 0, "GTP_CHECKPOINT_INTERVAL", GTP_OPT_INT,
     offsetof(struct arch_cfg, checkpoint_interval), "10", "N",
     "write a delta checkpoint every N log versions (0: never)", 0, 1000000},
    {"log-retention", 0, "GTP_LOG_RETENTION", GTP_OPT_STR, offsetof(struct arch_cfg, log_retention),
     "", "DURATION",
     "keep log commits this long behind a checkpoint, e.g. '30 days' (default: the table's "
     "delta.logRetentionDuration, else 30 days)",
     0, 0},
    {"compact-interval", 0, "GTP_COMPACT_INTERVAL", GTP_OPT_INT,
     offsetof(struct arch_cfg, compact_interval_s), "600", "SECONDS",
     "compact small files and vacuum this often (0: never)", 0, 864000},
    {"target-file-size", 0, "GTP_TARGET_FILE_SIZE", GTP_OPT_INT,
     offsetof(struct arch_cfg, target_file_size), "134217728", "BYTES",
     "size compaction aims at; smaller files are compacted", 4096, 17179869184.0},
    {"vacuum-retention", 0, "GTP_VACUUM_RETENTION", GTP_OPT_STR,
     offsetof(struct arch_cfg, vacuum_retention), "", "DURATION",
     "delete files compaction removed this long ago, e.g. '7 days' (default: the table's "
     "delta.deletedFileRetentionDuration, else 7 days)",
     0, 0},
    {"maintain", 0, "GTP_MAINTAIN", GTP_OPT_BOOL, offsetof(struct arch_cfg, maintain), "false",
     NULL, "checkpoint, compact, vacuum and clean up the table, then exit (for cron)", 0, 0},
    {"enrich-threads", 0, "GTP_ENRICH_THREADS", GTP_OPT_INT,
     offsetof(struct arch_cfg, enrich_threads), "1", "N",
     "threads that validate and enrich polled messages and write a roll's files beside the "
     "consuming one (0: none)",
     0, GTP_POOL_MAX_HELPERS},
    {"startup-timeout", 0, "GTP_STARTUP_TIMEOUT", GTP_OPT_INT,
     offsetof(struct arch_cfg, startup_timeout_s), "30", "SECONDS",
     "give up (exit 69) when kafka is unreachable this long at start-up", 1, 3600},
    GTP_OPTS_LOG(struct arch_cfg),
    GTP_OPTS_METRICS(struct arch_cfg, "9103"),
};

const struct gtp_cli arch_cli = {
    "gtp-archiver",
    "consume job postings, archive them as hive-partitioned parquet files in a delta table",
    arch_opts,
    GTP_ARRAY_LEN(arch_opts),
    true,
};

int arch_options_check(const struct arch_cfg *cfg, struct gtp_parquet_opts *popts,
                       struct arch_maint_cfg *mc)
{
    gtp_parquet_opts_default(popts);
    popts->zstd_level = ARCH_ZSTD_LEVEL;
    if (gtp_parquet_codec_parse(cfg->codec, &popts->codec) ||
        popts->codec == GTP_PARQUET_UNCOMPRESSED) {
        fprintf(stderr, "gtp-archiver: --codec: '%s' is not zstd or snappy\n", cfg->codec);
        return GTP_EXIT_CONFIG;
    }
    if (!cfg->archive_dir[0]) {
        fprintf(stderr, "gtp-archiver: --archive-dir: empty\n");
        return GTP_EXIT_CONFIG;
    }
    *mc = (struct arch_maint_cfg){cfg->archive_dir,
                                  cfg->topic,
                                  cfg->checkpoint_interval,
                                  -1,
                                  cfg->compact_interval_s,
                                  cfg->target_file_size,
                                  -1,
                                  popts};
    if (cfg->log_retention[0] && gtp_delta_interval_ms(cfg->log_retention, &mc->log_retention_ms)) {
        fprintf(stderr, "gtp-archiver: --log-retention: '%s' is not a duration like '30 days'\n",
                cfg->log_retention);
        return GTP_EXIT_CONFIG;
    }
    if (cfg->vacuum_retention[0] &&
        gtp_delta_interval_ms(cfg->vacuum_retention, &mc->vacuum_retention_ms)) {
        fprintf(stderr, "gtp-archiver: --vacuum-retention: '%s' is not a duration like '7 days'\n",
                cfg->vacuum_retention);
        return GTP_EXIT_CONFIG;
    }
    /* Vacuum tells a file replaced by compaction from one a roll or a rewrite has published
     * but not yet committed by its age only: in the daemon, where those run beside it, a
     * shorter retention could delete a file a commit is about to reference. */
    if (!cfg->maintain && mc->vacuum_retention_ms >= 0 &&
        mc->vacuum_retention_ms < ARCH_MIN_VACUUM_RETENTION_MS) {
        fprintf(stderr,
                "gtp-archiver: --vacuum-retention: '%s' is shorter than %d seconds, the least "
                "the daemon accepts (files in flight are told apart by age; --maintain, run "
                "while no archiver writes, accepts any)\n",
                cfg->vacuum_retention, ARCH_MIN_VACUUM_RETENTION_MS / 1000);
        return GTP_EXIT_CONFIG;
    }
    return 0;
}
