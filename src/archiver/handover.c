/* Partitions taken over from the Delta log and given up (see handover.h). */
#include "handover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "gtp/delta.h"
#include "gtp/err.h"
#include "gtp/log.h"
#include "gtp/sig.h"
#include "gtp/util.h"

int handover_take(struct gtp_daemon *d, const char *root, const char *topic, const int32_t *ps,
                  size_t n, char *errstr, size_t errstr_size)
{
    struct arch_resume *rs = gtp_xcalloc(n + 1, sizeof(*rs));
    int64_t latest = -1;
    int e;
    for (size_t i = 0; i < n; i++)
        rs[i].partition = ps[i];
    e = arch_state_load(root, topic, rs, n, &latest, errstr, errstr_size);
    /* Fence before touching files: a commit with p's txn unchanged makes any earlier owner
     * of p that still believes it owns p (a "lost" consumer that has not noticed yet) fail
     * its next commit, so the files removed below can never be referenced by it. If such
     * an owner committed after our read, we are fenced ourselves: read again (the caller
     * retries). */
    /* one fencing commit for all of them */
    char(*apps)[512] = gtp_xcalloc(n + 1, sizeof(*apps));
    struct gtp_delta_txn *txns = gtp_xcalloc(n + 1, sizeof(*txns));
    int64_t *resume = gtp_xcalloc(n + 1, sizeof(int64_t)), fence_version = -1;
    size_t *removed = gtp_xcalloc(n + 1, sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        arch_app_id(topic, ps[i], apps[i], sizeof(apps[i]));
        txns[i] = (struct gtp_delta_txn){apps[i], rs[i].txn, latest};
        resume[i] = rs[i].txn + 1;
    }
    if (!e && n)
        e = gtp_delta_commit_multi(root, NULL, 0, txns, n, NULL, NULL, &fence_version, NULL, errstr,
                                   errstr_size);
    for (size_t i = 0; i < n; i++)
        rs[i].fence_version = fence_version;
    if (!e)
        e = arch_state_clean(root, ps, resume, n, removed, errstr, errstr_size);
    for (size_t i = 0; !e && i < n; i++)
        if (removed[i])
            gtp_log(GTP_LOG_INFO, "archive", "partition %d: removed %zu uncommitted file(s)",
                    (int)ps[i], removed[i]);
    free(apps);
    free(txns);
    free(resume);
    free(removed);
    for (size_t i = 0; i < n; i++) {
        struct part *pt = (struct part *)gtp_daemon_part(d, ps[i]);
        if (e) {
            gtp_window_free(rs[i].win);
            continue;
        }
        roll_part_drop(pt);
        pt->win = rs[i].win;
        pt->committed = rs[i].txn;
        pt->dp.next = rs[i].txn >= 0 ? rs[i].txn + 1 : -1;
        pt->seen_version = rs[i].fence_version;
        pt->dp.assigned = true;
    }
    free(rs);
    return e;
}

void handover_take_all(struct gtp_daemon *d, const char *root, const char *topic,
                       const rd_kafka_topic_partition_list_t *parts,
                       struct gtp_metric *m_disk_errors)
{
    char err[512];
    int32_t *ps = gtp_xcalloc((size_t)parts->cnt + 1, sizeof(int32_t));
    size_t n = 0;
    int64_t backoff = 100, last_log = 0;
    bool disk_failed = false;
    int e;
    for (int i = 0; i < parts->cnt; i++)
        if (gtp_daemon_part(d, parts->elems[i].partition))
            ps[n++] = parts->elems[i].partition;
    while (!gtp_sig_stop && (e = handover_take(d, root, topic, ps, n, err, sizeof(err)))) {
        if (gtp_mono_ms() - last_log >= 10000) {
            gtp_log(GTP_LOG_ERROR, "archive", "cannot read the log, retrying: %s", err);
            last_log = gtp_mono_ms();
        }
        /* Loading writes a fencing commit: on a full or failing disk we wait here, and
         * /healthz and the disk errors counter must say so as a failed roll does. */
        if (e == GTP_ERR_NOSPACE || e == GTP_ERR_IO) {
            gtp_metric_inc(m_disk_errors);
            gtp_daemon_set_healthy(d, false);
            disk_failed = true;
        }
        usleep((useconds_t)backoff * 1000);
        backoff = backoff < 5000 ? backoff * 2 : 5000;
    }
    if (disk_failed && !gtp_sig_stop)
        gtp_daemon_set_healthy(d, true); /* the fencing commits are on disk: writing again */
    free(ps);
}

void handover_discard(const char *root, const struct part *pt)
{
    char err[512], full[8192];
    char **live = NULL;
    size_t nlive = 0;
    bool listed = false;
    for (size_t i = 0; i < pt->bk.n; i++) {
        struct arch_bucket *b = &pt->bk.b[i];
        if (!b->staged)
            continue;
        if (!b->written) {
            const char *slash = strrchr(b->rel, '/');
            snprintf(full, sizeof(full), "%s/%.*s/.%s.tmp", root, (int)(slash - b->rel), b->rel,
                     slash + 1);
            unlink(full);
            continue;
        }
        if (!listed) {
            if (gtp_delta_list_files(root, &live, &nlive, err, sizeof(err))) {
                gtp_log(GTP_LOG_WARN, "archive", "cannot read the log to discard files: %s", err);
                break; /* keep them: the next owner's clean-up removes them */
            }
            listed = true;
        }
        bool referenced = false;
        for (size_t j = 0; j < nlive && !referenced; j++)
            referenced = strcmp(live[j], b->rel) == 0;
        if (!referenced) {
            snprintf(full, sizeof(full), "%s/%s", root, b->rel);
            unlink(full);
        }
    }
    gtp_delta_paths_free(live, nlive);
}
