/* Table maintenance run by the archiver: a Delta checkpoint every --checkpoint-interval
 * commits and the log cleanup after it (include/gtp/delta_checkpoint.h), in the daemon after
 * its own commits and once for `gtp-archiver --maintain`. A checkpoint never changes what a
 * reader sees, so a failed one is logged and counted, not fatal: the next commit tries again. */
#ifndef GTP_ARCHIVER_MAINTAIN_H
#define GTP_ARCHIVER_MAINTAIN_H

#include <stddef.h>
#include <stdint.h>

#include "gtp/metrics.h"

struct arch_maint {
    const char *root;   /* borrowed: the table root */
    long long interval; /* checkpoint when this many versions passed since the last; 0 never */
    int64_t log_retention_ms; /* < 0: the table's delta.logRetentionDuration, else 30 days */
    int64_t last_checkpoint;  /* newest checkpoint version known, -1 none */
    struct gtp_metric *m_version, *m_checkpoints, *m_checkpoint_ms, *m_since, *m_files, *m_bytes,
        *m_cleaned, *m_errors;
};

/* Register the metrics in metrics (borrowed) and read the table's last checkpoint. */
void arch_maint_init(struct arch_maint *m, const char *root, long long interval,
                     int64_t log_retention_ms, struct gtp_metrics *metrics);

/* After a commit of `version` (by us): checkpoint and clean up when due. */
void arch_maint_committed(struct arch_maint *m, int64_t version);

/* Checkpoint the latest version (unless it has one) and clean up. Returns 0 or a gtp_err. */
int arch_maint_once(struct arch_maint *m, char *errstr, size_t errstr_size);

#endif
