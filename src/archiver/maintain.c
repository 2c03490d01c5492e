/* Checkpoints, log cleanup, compaction and vacuum on the archiver's schedule (maintain.h). */
#include "maintain.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "state.h"
#include "gtp/delta.h"
#include "gtp/delta_checkpoint.h"
#include "gtp/delta_optimize.h"
#include "gtp/err.h"
#include "gtp/log.h"
#include "gtp/util.h"

void arch_maint_init(struct arch_maint *m, const struct arch_maint_cfg *cfg,
                     struct gtp_metrics *metrics)
{
    struct gtp_metrics *x = metrics;
    m->cfg = *cfg;
    m->last_checkpoint = gtp_delta_last_checkpoint(cfg->root);
    m->last_compact_ms = gtp_mono_ms();
    m->m_version = gtp_metrics_gauge(x, "delta_table_version", "newest log version we wrote", NULL);
    m->m_checkpoints = gtp_metrics_counter(x, "delta_checkpoints", "checkpoints written", NULL);
    m->m_checkpoint_s = gtp_metrics_gauge(x, "delta_checkpoint_last_seconds",
                                          "duration of the last checkpoint", NULL);
    m->m_since = gtp_metrics_gauge(x, "delta_commits_since_checkpoint",
                                   "log versions after the last checkpoint", NULL);
    m->m_files =
        gtp_metrics_gauge(x, "delta_table_files", "data files at the last checkpoint", NULL);
    m->m_bytes = gtp_metrics_gauge(x, "delta_table_bytes", "bytes at the last checkpoint", NULL);
    m->m_cleaned = gtp_metrics_counter(x, "delta_log_files_cleaned",
                                       "log files deleted behind checkpoints", NULL);
    m->m_errors =
        gtp_metrics_counter(x, "delta_maintenance_errors", "failed maintenance steps", NULL);
    m->m_compactions = gtp_metrics_counter(x, "delta_compactions", "compaction rounds", NULL);
    m->m_compact_s = gtp_metrics_gauge(x, "delta_compaction_last_seconds",
                                       "duration of the last compaction", NULL);
    m->m_compact_in =
        gtp_metrics_counter(x, "delta_compacted_files", "small files compacted away", NULL);
    m->m_compact_out =
        gtp_metrics_counter(x, "delta_compaction_files_written", "files compaction wrote", NULL);
    m->m_vacuumed = gtp_metrics_counter(x, "delta_vacuumed_files", "files vacuum deleted", NULL);
    m->m_vacuum_bytes =
        gtp_metrics_counter(x, "delta_vacuumed_bytes", "bytes vacuum deleted", NULL);
}

static int checkpoint(struct arch_maint *m, int64_t version, char *err, size_t errsz)
{
    struct gtp_delta_checkpoint_info ci;
    size_t cleaned = 0;
    int64_t t0 = gtp_mono_us();
    /* tombstones as long as vacuum keeps their files: older ones only weigh it down */
    int e = gtp_delta_checkpoint(m->cfg.root, version, &arch_state_fold, m->cfg.vacuum_retention_ms,
                                 0, &ci, err, errsz);
    if (e)
        return e;
    int64_t took = gtp_mono_us() - t0;
    m->last_checkpoint = version;
    gtp_metric_inc(m->m_checkpoints);
    gtp_metric_set(m->m_checkpoint_s, (double)took / 1e6);
    gtp_metric_set(m->m_since, 0);
    gtp_metric_set(m->m_files, (double)ci.files);
    gtp_metric_set(m->m_bytes, (double)ci.bytes);
    gtp_log(GTP_LOG_INFO, "archive",
            "checkpoint at version %" PRId64 ": %zu actions, %zu files, %" PRId64 " bytes, %.1f ms",
            version, ci.rows, ci.files, ci.bytes, (double)took / 1000.0);
    e = gtp_delta_cleanup(m->cfg.root, m->cfg.log_retention_ms, 0, &cleaned, err, errsz);
    gtp_metric_add(m->m_cleaned, cleaned);
    if (cleaned)
        gtp_log(GTP_LOG_INFO, "archive", "log cleanup: %zu file(s) deleted", cleaned);
    return e;
}

/* Compact (closed partitions fully, open ones with open_files small files), then vacuum. */
static int compact(struct arch_maint *m, size_t open_files, char *err, size_t errsz)
{
    char closed[16] = "";
    struct gtp_delta_optimize_stats st;
    size_t vac = 0;
    int64_t vac_bytes = 0, t0 = gtp_mono_us();
    int e = arch_state_closed_before(m->cfg.root, m->cfg.topic, closed, sizeof(closed), err, errsz);
    if (e)
        return e;
    /* files not yet under a checkpoint hold dedup ids a restore reads (state.h) */
    struct gtp_delta_optimize_opts o = {m->cfg.target_file_size, closed[0] ? closed : NULL,
                                        open_files, m->cfg.popts, true};
    e = gtp_delta_optimize(m->cfg.root, &o, &st, err, errsz);
    gtp_metric_inc(m->m_compactions);
    gtp_metric_set(m->m_compact_s, (double)(gtp_mono_us() - t0) / 1e6);
    gtp_metric_add(m->m_compact_in, st.files_in);
    gtp_metric_add(m->m_compact_out, st.files_out);
    if (st.files_in)
        gtp_log(GTP_LOG_INFO, "archive",
                "compaction: %zu files (%" PRId64 " bytes) of %zu partition(s) into %zu (%" PRId64
                " bytes), %" PRId64 " rows, %.1f ms%s",
                st.files_in, st.bytes_in, st.partitions, st.files_out, st.bytes_out, st.rows,
                (double)(gtp_mono_us() - t0) / 1000.0,
                st.gave_up ? "; some left to another compactor" : "");
    if (e)
        return e;
    e = gtp_delta_vacuum(m->cfg.root, m->cfg.vacuum_retention_ms, 0, &vac, &vac_bytes, err, errsz);
    gtp_metric_add(m->m_vacuumed, vac);
    gtp_metric_add(m->m_vacuum_bytes, (uint64_t)vac_bytes);
    if (vac)
        gtp_log(GTP_LOG_INFO, "archive", "vacuum: %zu file(s), %" PRId64 " bytes deleted", vac,
                vac_bytes);
    return e;
}

/* One round: the version gauges after a commit of `version` (-1: none since the last
 * round), compaction when its interval has passed, a checkpoint when one is due. */
static void maint_round(struct arch_maint *m, int64_t version)
{
    char err[512];
    if (version >= 0) {
        gtp_metric_set(m->m_version, (double)version);
        gtp_metric_set(m->m_since,
                       (double)(version - (m->last_checkpoint < 0 ? 0 : m->last_checkpoint)));
    }
    if (m->cfg.compact_interval_s > 0 &&
        gtp_mono_ms() - m->last_compact_ms >= m->cfg.compact_interval_s * 1000) {
        m->last_compact_ms = gtp_mono_ms();
        if (compact(m, ARCH_COMPACT_OPEN_FILES, err, sizeof(err))) {
            gtp_metric_inc(m->m_errors);
            gtp_log(GTP_LOG_WARN, "archive", "compaction failed: %s", err);
        }
    }
    if (version < 0 || m->cfg.checkpoint_interval <= 0 ||
        version - m->last_checkpoint < m->cfg.checkpoint_interval)
        return;
    /* another writer may have checkpointed meanwhile */
    m->last_checkpoint = gtp_delta_last_checkpoint(m->cfg.root);
    if (version - m->last_checkpoint < m->cfg.checkpoint_interval)
        return;
    if (checkpoint(m, version, err, sizeof(err))) {
        gtp_metric_inc(m->m_errors);
        gtp_log(GTP_LOG_WARN, "archive", "checkpoint at version %" PRId64 " failed: %s", version,
                err);
    }
}

static void *maint_thread(void *arg)
{
    struct arch_maint *m = arg;
    pthread_mutex_lock(&m->lock);
    while (!m->stop) {
        int64_t now = gtp_mono_ms(), next = INT64_MAX;
        if (m->cfg.compact_interval_s > 0)
            next = m->last_compact_ms + m->cfg.compact_interval_s * 1000;
        if (m->want <= m->done && now < next) {
            if (next == INT64_MAX) {
                pthread_cond_wait(&m->wake, &m->lock);
            } else {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                int64_t ns = (int64_t)ts.tv_nsec + (next - now) * 1000000;
                ts.tv_sec += (time_t)(ns / 1000000000);
                ts.tv_nsec = (long)(ns % 1000000000);
                pthread_cond_timedwait(&m->wake, &m->lock, &ts);
            }
            continue;
        }
        int64_t v = m->want > m->done ? m->want : -1;
        m->done = m->want;
        pthread_mutex_unlock(&m->lock);
        maint_round(m, v);
        pthread_mutex_lock(&m->lock);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

int arch_maint_start(struct arch_maint *m)
{
    pthread_condattr_t ca;
    int e;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the timed wait's clock */
    pthread_cond_init(&m->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&m->lock, NULL);
    m->want = m->done = -1;
    m->stop = false;
    e = pthread_create(&m->thread, NULL, maint_thread, m);
    if (e) {
        gtp_log(GTP_LOG_ERROR, "archive", "maintenance thread: %s", strerror(e));
        pthread_cond_destroy(&m->wake);
        pthread_mutex_destroy(&m->lock);
        return GTP_ERR_INTERNAL;
    }
    m->started = true;
    return 0;
}

void arch_maint_committed(struct arch_maint *m, int64_t version)
{
    if (!m->started) {
        maint_round(m, version);
        return;
    }
    pthread_mutex_lock(&m->lock);
    if (version > m->want)
        m->want = version;
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->lock);
}

void arch_maint_stop(struct arch_maint *m)
{
    if (!m->started)
        return;
    pthread_mutex_lock(&m->lock);
    m->stop = true;
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->lock);
    m->started = false;
}

int arch_maint_once(struct arch_maint *m, char *errstr, size_t errstr_size)
{
    int64_t latest;
    int e = gtp_delta_latest_version(m->cfg.root, &latest, errstr, errstr_size);
    if (!e && latest > m->last_checkpoint)
        e = checkpoint(m, latest, errstr, errstr_size);
    /* from cron: open partitions with a few small files are worth it too */
    if (!e)
        e = compact(m, 2, errstr, errstr_size);
    if (!e)
        e = gtp_delta_latest_version(m->cfg.root, &latest, errstr, errstr_size);
    if (!e && latest > m->last_checkpoint)
        e = checkpoint(m, latest, errstr, errstr_size);
    else if (!e) {
        size_t cleaned = 0;
        e = gtp_delta_cleanup(m->cfg.root, m->cfg.log_retention_ms, 0, &cleaned, errstr,
                              errstr_size);
        gtp_metric_add(m->m_cleaned, cleaned);
    }
    return e;
}
