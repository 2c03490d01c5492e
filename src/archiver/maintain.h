/* Table maintenance run by the archiver (docs/archive.md), in the daemon on a thread of its
 * own and once for `gtp-archiver --maintain`:
 *  - a Delta checkpoint every --checkpoint-interval log versions, and the log cleanup after
 *    it (include/gtp/delta_checkpoint.h);
 *  - every --compact-interval seconds, compaction of small files (delta_optimize.h): every
 *    small file of a closed partition (its date is behind the watermark of every Kafka
 *    partition, so no row can join it but a late one), and those of an open partition once
 *    it holds ARCH_COMPACT_OPEN_FILES of them; then vacuum of the files compaction removed
 *    longer ago than --vacuum-retention.
 * None of it changes what a reader sees, so a failure is logged and counted, not fatal: the
 * next round tries again. */
#ifndef GTP_ARCHIVER_MAINTAIN_H
#define GTP_ARCHIVER_MAINTAIN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtp/metrics.h"
#include "gtp/parquet.h"

/* Small files an open partition gathers before it is compacted anyway. */
#define ARCH_COMPACT_OPEN_FILES 16

struct arch_maint_cfg {
    const char *root;              /* borrowed: the table root */
    const char *topic;             /* borrowed: whose watermarks close partitions */
    long long checkpoint_interval; /* versions between checkpoints; 0 never */
    int64_t log_retention_ms;      /* < 0: the table's delta.logRetentionDuration, else 30 d */
    long long compact_interval_s;  /* seconds between compactions in the daemon; 0 never */
    int64_t target_file_size;      /* bytes */
    int64_t vacuum_retention_ms;   /* < 0: delta.deletedFileRetentionDuration, else 7 days */
    const struct gtp_parquet_opts *popts; /* borrowed: options of compacted files */
};

struct arch_maint {
    struct arch_maint_cfg cfg;
    int64_t last_checkpoint; /* newest checkpoint version known, -1 none */
    int64_t last_compact_ms; /* monotonic */
    /* the thread (arch_maint_start): lock guards want and stop */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool started, stop;
    int64_t want; /* newest version we committed, -1 none yet */
    int64_t done; /* the newest the thread has looked at */
    struct gtp_metric *m_version, *m_checkpoints, *m_checkpoint_s, *m_since, *m_files, *m_bytes,
        *m_cleaned, *m_errors, *m_compactions, *m_compact_s, *m_compact_in, *m_compact_out,
        *m_vacuumed, *m_vacuum_bytes;
};

/* Copy cfg (its pointers stay borrowed), register the metrics in metrics (borrowed) and read
 * the table's last checkpoint. */
void arch_maint_init(struct arch_maint *m, const struct arch_maint_cfg *cfg,
                     struct gtp_metrics *metrics);

/* Run the daemon's maintenance on a thread of its own, so that a compaction or a checkpoint
 * never holds up consuming and rolling: after our commits (checkpoints, every
 * --checkpoint-interval versions) and every --compact-interval seconds, with commits or
 * without (an idle table is compacted and vacuumed too). Compaction's commits race with the
 * rolls' as with another instance's (optimistic concurrency, delta_optimize.h). Returns 0,
 * or GTP_ERR_INTERNAL (logged) when the thread cannot start. */
int arch_maint_start(struct arch_maint *m);

/* After a commit of `version` (by us): wake the thread (without one: do what is due now). */
void arch_maint_committed(struct arch_maint *m, int64_t version);

/* Stop the thread, after the round in progress if any. Accepts a never-started m. */
void arch_maint_stop(struct arch_maint *m);

/* Everything once: checkpoint the latest version, compact, vacuum, checkpoint again if the
 * compaction committed, clean up the log. Returns 0 or a gtp_err. */
int arch_maint_once(struct arch_maint *m, char *errstr, size_t errstr_size);

#endif
