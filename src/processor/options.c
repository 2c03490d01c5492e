/* gtp-processor's options (see options.h). */
#include "options.h"

#include <stddef.h>

#include "batch.h"
#include "gtp/util.h"

static const struct gtp_opt proc_opts[] = {
    GTP_OPTS_KAFKA(struct proc_cfg),
    GTP_OPTS_REDIS(struct proc_cfg),
    GTP_OPTS_TAXONOMY(struct proc_cfg),
    {"group", 'g', "GTP_GROUP", GTP_OPT_STR, offsetof(struct proc_cfg, group), "gtp-processor",
     "ID", "kafka consumer group", 0, 0},
    {"flush-ms", 0, "GTP_FLUSH_MS", GTP_OPT_INT, offsetof(struct proc_cfg, flush_ms), "1000", "MS",
     "flush pending counts to redis at least this often", 1, 600000},
    {"flush-events", 0, "GTP_FLUSH_EVENTS", GTP_OPT_INT, offsetof(struct proc_cfg, flush_events),
     "200000", "N", "flush after this many events even before --flush-ms", 1, 10000000},
    {"flush-idle-ms", 0, "GTP_FLUSH_IDLE_MS", GTP_OPT_INT, offsetof(struct proc_cfg, flush_idle_ms),
     "20", "MS",
     "once the consumer has caught up with the log, flush pending events after this long "
     "(low latency at light load; 0: only --flush-ms and --flush-events)",
     0, 600000},
    {"retention", 0, "GTP_RETENTION", GTP_OPT_INT, offsetof(struct proc_cfg, retention_s), "691200",
     "SECONDS", "ttl of every window key (default 8 days)", 60, 315360000},
    {"insights", 0, "GTP_INSIGHTS", GTP_OPT_BOOL, offsetof(struct proc_cfg, insights), "true", NULL,
     "also write the insights keys (posts, remote, level, pairs, employers: docs/redis.md); "
     "false measures their cost",
     0, 0},
    {"enrich-threads", 0, "GTP_ENRICH_THREADS", GTP_OPT_INT,
     offsetof(struct proc_cfg, enrich_threads), "2", "N",
     "threads that validate and enrich polled messages beside the consuming one (0: none)", 0,
     BATCH_MAX_THREADS},
    {"startup-timeout", 0, "GTP_STARTUP_TIMEOUT", GTP_OPT_INT,
     offsetof(struct proc_cfg, startup_timeout_s), "30", "SECONDS",
     "give up (exit 69) when kafka or redis is unreachable this long at start-up", 1, 3600},
    GTP_OPTS_LOG(struct proc_cfg),
    GTP_OPTS_METRICS(struct proc_cfg, "9102"),
};

const struct gtp_cli proc_cli = {
    "gtp-processor",
    "consume job postings, count skill mentions in 1-hour event-time windows, write redis",
    proc_opts,
    GTP_ARRAY_LEN(proc_opts),
    true,
};
