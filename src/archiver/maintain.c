/* Checkpoints and log cleanup on the archiver's schedule (see maintain.h). */
#include "maintain.h"

#include <inttypes.h>

#include "state.h"
#include "gtp/delta.h"
#include "gtp/delta_checkpoint.h"
#include "gtp/err.h"
#include "gtp/log.h"
#include "gtp/util.h"

void arch_maint_init(struct arch_maint *m, const char *root, long long interval,
                     int64_t log_retention_ms, struct gtp_metrics *metrics)
{
    m->root = root;
    m->interval = interval;
    m->log_retention_ms = log_retention_ms;
    m->last_checkpoint = gtp_delta_last_checkpoint(root);
    m->m_version = gtp_metrics_gauge(metrics, "delta_table_version",
                                     "newest delta log version "
                                     "committed by this process",
                                     NULL);
    m->m_checkpoints =
        gtp_metrics_counter(metrics, "delta_checkpoints", "delta checkpoints written", NULL);
    m->m_checkpoint_ms = gtp_metrics_gauge(metrics, "delta_checkpoint_last_ms",
                                           "duration of the last checkpoint", NULL);
    m->m_since = gtp_metrics_gauge(metrics, "delta_commits_since_checkpoint",
                                   "log versions after the last checkpoint", NULL);
    m->m_files = gtp_metrics_gauge(metrics, "delta_table_files",
                                   "data files in the table at the last checkpoint", NULL);
    m->m_bytes = gtp_metrics_gauge(metrics, "delta_table_bytes",
                                   "bytes of data files at the last checkpoint", NULL);
    m->m_cleaned = gtp_metrics_counter(metrics, "delta_log_files_cleaned",
                                       "log files deleted behind checkpoints", NULL);
    m->m_errors = gtp_metrics_counter(metrics, "delta_maintenance_errors",
                                      "failed checkpoints or cleanups", NULL);
}

static int checkpoint(struct arch_maint *m, int64_t version, char *err, size_t errsz)
{
    struct gtp_delta_checkpoint_info ci;
    size_t cleaned = 0;
    int64_t t0 = gtp_mono_us();
    int e = gtp_delta_checkpoint(m->root, version, &arch_state_fold, 0, 0, &ci, err, errsz);
    if (e)
        return e;
    int64_t took = gtp_mono_us() - t0;
    m->last_checkpoint = version;
    gtp_metric_inc(m->m_checkpoints);
    gtp_metric_set(m->m_checkpoint_ms, (double)took / 1000.0);
    gtp_metric_set(m->m_since, 0);
    gtp_metric_set(m->m_files, (double)ci.files);
    gtp_metric_set(m->m_bytes, (double)ci.bytes);
    gtp_log(GTP_LOG_INFO, "archive",
            "checkpoint at version %" PRId64 ": %zu actions, %zu files, %" PRId64 " bytes, %.1f ms",
            version, ci.rows, ci.files, ci.bytes, (double)took / 1000.0);
    e = gtp_delta_cleanup(m->root, m->log_retention_ms, 0, &cleaned, err, errsz);
    gtp_metric_add(m->m_cleaned, cleaned);
    if (cleaned)
        gtp_log(GTP_LOG_INFO, "archive", "log cleanup: %zu file(s) deleted", cleaned);
    return e;
}

void arch_maint_committed(struct arch_maint *m, int64_t version)
{
    char err[512];
    gtp_metric_set(m->m_version, (double)version);
    gtp_metric_set(m->m_since,
                   (double)(version - (m->last_checkpoint < 0 ? 0 : m->last_checkpoint)));
    if (m->interval <= 0 || version - m->last_checkpoint < m->interval)
        return;
    /* another writer may have checkpointed meanwhile */
    m->last_checkpoint = gtp_delta_last_checkpoint(m->root);
    if (version - m->last_checkpoint < m->interval)
        return;
    if (checkpoint(m, version, err, sizeof(err))) {
        gtp_metric_inc(m->m_errors);
        gtp_log(GTP_LOG_WARN, "archive", "checkpoint at version %" PRId64 " failed: %s", version,
                err);
    }
}

int arch_maint_once(struct arch_maint *m, char *errstr, size_t errstr_size)
{
    int64_t latest;
    size_t cleaned = 0;
    int e = gtp_delta_latest_version(m->root, &latest, errstr, errstr_size);
    if (e)
        return e;
    if (latest > m->last_checkpoint)
        return checkpoint(m, latest, errstr, errstr_size);
    e = gtp_delta_cleanup(m->root, m->log_retention_ms, 0, &cleaned, errstr, errstr_size);
    gtp_metric_add(m->m_cleaned, cleaned);
    return e;
}
