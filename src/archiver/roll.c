/* The archiver's roll and its fence (see roll.h and docs/archive.md). */
#include "roll.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "gtp/err.h"
#include "gtp/failpoint.h"
#include "gtp/log.h"
#include "gtp/util.h"

void roll_init(struct roll *r, struct gtp_daemon *d, const struct roll_ops *ops, void *ctx,
               const char *topic, long long roll_rows, long long roll_bytes, long long roll_seconds,
               long long catchup_rows)
{
    r->ops = ops;
    r->ctx = ctx;
    r->d = d;
    r->topic = topic;
    r->roll_rows = roll_rows;
    r->roll_bytes = roll_bytes;
    r->roll_seconds = roll_seconds;
    r->catchup_rows = catchup_rows;
}

void roll_metrics(struct roll *r, struct gtp_metrics *m)
{
    r->m_rows = gtp_metrics_counter(m, "archiver_rows_written", "rows in committed files", NULL);
    r->m_files = gtp_metrics_counter(m, "archiver_files_written", "parquet files written", NULL);
    r->m_commits = gtp_metrics_counter(m, "archiver_commits", "delta log commits", NULL);
    static const double dur[] = {GTP_METRICS_DURATION_BUCKETS};
    r->m_seconds = gtp_metrics_histogram(m, "archiver_roll_duration_seconds",
                                         "roll latency: writing files and committing", dur,
                                         GTP_ARRAY_LEN(dur), NULL);
    r->m_last =
        gtp_metrics_gauge(m, "archiver_roll_last_seconds", "duration of the last roll", NULL);
    r->m_disk_errors =
        gtp_metrics_counter(m, "archiver_disk_errors", "failed file writes or commits", NULL);
    r->m_fenced =
        gtp_metrics_counter(m, "archiver_fenced", "commits refused: partition moved on", NULL);
}

struct gtp_daemon_part *roll_part_new(void *popts, int32_t partition)
{
    struct part *pt = gtp_xcalloc(1, sizeof(*pt));
    (void)partition;
    arch_buckets_init(&pt->bk, popts);
    pt->first = -1;
    return &pt->dp;
}

void roll_part_drop(struct part *pt)
{
    gtp_window_free(pt->win);
    pt->win = NULL;
    arch_buckets_reset(&pt->bk);
    pt->first = pt->last = -1;
    pt->blocked = pt->need_seek = false;
    pt->behind = pt->caught_up = pt->end_known = false;
    pt->dp.assigned = false;
}

void roll_part_free(void *opaque, struct gtp_daemon_part *dp)
{
    struct part *pt = (struct part *)dp;
    (void)opaque;
    roll_part_drop(pt);
    arch_buckets_fini(&pt->bk);
    free(pt);
}

static struct part *part_at(struct roll *r, int p)
{
    return (struct part *)r->d->parts[p];
}

void roll_disk_error(struct roll *r, const char *what, int e, const char *err)
{
    int64_t now = gtp_mono_ms();
    gtp_metric_inc(r->m_disk_errors);
    gtp_daemon_set_healthy(r->d, false);
    /* log once per interval while the trouble lasts */
    if (now - r->last_err_log_ms >= 10000 || !r->last_err_log_ms) {
        gtp_log(GTP_LOG_ERROR, "archive", "%s failed (%s), consumption paused: %s", what,
                gtp_err_str(e), err);
        r->last_err_log_ms = now;
    }
    r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : 100;
    if (r->backoff_ms > 5000)
        r->backoff_ms = 5000;
    r->retry_at_ms = now + r->backoff_ms;
}

/* A commit was fenced: a newer owner of p committed since we read the log, so we are the
 * stale one (an owner fences on assignment, after every older owner). Remove our
 * uncommitted files, forget p and stop fetching it until Kafka's rebalance tells us what we
 * own. */
static void fenced(struct roll *r, int32_t p, struct part *pt)
{
    gtp_metric_inc(r->m_fenced);
    gtp_log(GTP_LOG_WARN, "archive", "partition %d fenced by another writer; dropping it", (int)p);
    r->ops->discard(r->ctx, pt);
    roll_part_drop(pt);
    r->ops->pause(r->ctx, p);
}

/* After a commit of version that covered pt: its position moved, its roll is done. */
static void rolled(struct roll *r, int32_t p, struct part *pt, int64_t version)
{
    pt->seen_version = version;
    gtp_metric_add(r->m_rows, pt->bk.rows);
    pt->committed = pt->last;
    pt->first = pt->last = -1;
    pt->caught_up = false;
    arch_buckets_reset(&pt->bk);
    r->ops->store_offset(r->ctx, p, pt->committed + 1);
}

static void unblock(struct roll *r, int32_t p, struct part *pt)
{
    if (!pt->blocked)
        return;
    pt->blocked = false;
    if (pt->need_seek) {
        r->ops->seek(r->ctx, p, pt->dp.next);
        pt->need_seek = false;
    }
}

/* Roll the n partitions ps (assigned, each with rows or blocked): write each one's files,
 * then ONE Delta commit with all their adds, one txn per partition and their event-time
 * state in commitInfo.gtp (an array, one entry per partition). A fenced partition is
 * dropped and the others committed again. The caller made the dead letters durable.
 * Returns 0, or an error after which every partition that did not commit is blocked with
 * its rows kept for a retry (files already written are kept too). */
static int roll_parts(struct roll *r, int32_t *ps, size_t n)
{
    char err[512];
    struct gtp_delta_add *adds = NULL;
    struct gtp_delta_txn *txns = gtp_xcalloc(n + 1, sizeof(*txns));
    char(*apps)[512] = gtp_xcalloc(n + 1, sizeof(*apps));
    int64_t t0 = gtp_mono_us(), version = -1;
    size_t nfiles = 0;
    int e = 0;

    for (size_t i = 0; i < n; i++) {
        struct part *pt = part_at(r, ps[i]);
        size_t k = 0;
        if (pt->first < 0)
            continue;
        e = r->ops->write(r->ctx, ps[i], pt, &k, err, sizeof(err));
        nfiles += k;
        if (e) {
            roll_disk_error(r, "writing files", e, err);
            goto out;
        }
    }
    gtp_metric_add(r->m_files, nfiles);
    gtp_failpoint("files");
    int64_t t_files = gtp_mono_us();
    for (;;) {
        size_t nadds = 0, ntxn = 0, fenced_at = 0;
        int32_t *who = gtp_xcalloc(n + 1, sizeof(int32_t));
        json_t *info = json_array();
        free(adds);
        adds = NULL;
        for (size_t i = 0; i < n; i++) {
            struct part *pt = part_at(r, ps[i]);
            struct gtp_delta_add *pa = NULL;
            if (!pt->dp.assigned || pt->first < 0)
                continue;
            size_t k = arch_buckets_adds(&pt->bk, &pa);
            adds = gtp_xrealloc(adds, (nadds + k + 1) * sizeof(*adds));
            memcpy(adds + nadds, pa, k * sizeof(*adds));
            nadds += k;
            free(pa);
            arch_app_id(r->topic, ps[i], apps[ntxn], sizeof(apps[ntxn]));
            txns[ntxn] = (struct gtp_delta_txn){apps[ntxn], pt->last, pt->seen_version};
            who[ntxn++] = ps[i];
            json_array_append_new(info, arch_state_info(r->topic, ps[i], pt->first, pt->last,
                                                        gtp_window_max_event(pt->win)));
        }
        e = ntxn ? r->ops->commit(r->ctx, adds, nadds, txns, ntxn, info, &version, &fenced_at, err,
                                  sizeof(err))
                 : 0;
        json_decref(info);
        if (e == GTP_ERR_FENCED) {
            fenced(r, who[fenced_at], part_at(r, who[fenced_at]));
            free(who);
            continue; /* the others again, without it */
        }
        if (e == GTP_ERR_STALE) {
            /* the log moved past what we read and was cleaned up: start over from it */
            gtp_log(GTP_LOG_WARN, "archive", "%s; reloading the rolled partitions", err);
            for (size_t i = 0; i < ntxn; i++)
                r->ops->reload(r->ctx, who[i]);
            free(who);
            e = 0;
            break;
        }
        if (e) {
            free(who);
            roll_disk_error(r, "delta commit", e, err);
            goto out;
        }
        if (!ntxn) {
            free(who);
            break;
        }
        /* Our commit holds no txn of our other partitions: whoever had read the log up to
         * the version before it has, in effect, read it up to ours. */
        for (int q = 0; q < GTP_DAEMON_MAX_PARTS; q++) {
            struct part *o = part_at(r, q);
            if (o && o->dp.assigned && o->seen_version == version - 1)
                o->seen_version = version;
        }
        gtp_failpoint("commit");
        for (size_t i = 0; i < ntxn; i++)
            rolled(r, who[i], part_at(r, who[i]), version);
        gtp_metric_inc(r->m_commits);
        gtp_metric_observe(r->m_seconds, (double)(gtp_mono_us() - t0) / 1e6);
        gtp_metric_set(r->m_last, (double)(gtp_mono_us() - t0) / 1e6);
        gtp_log(GTP_LOG_DEBUG, "archive",
                "committed %zu partition(s), %zu files as version %" PRId64
                " (files %.1f ms, commit %.1f ms)",
                ntxn, nadds, version, (double)(t_files - t0) / 1000.0,
                (double)(gtp_mono_us() - t_files) / 1000.0);
        free(who);
        if (r->ops->committed)
            r->ops->committed(r->ctx, version);
        break;
    }
    for (size_t i = 0; i < n; i++) {
        struct part *pt = part_at(r, ps[i]);
        if (pt->dp.assigned && pt->first < 0)
            unblock(r, ps[i], pt);
    }
out:
    if (e) {
        for (size_t i = 0; i < n; i++)
            if (part_at(r, ps[i])->dp.assigned && part_at(r, ps[i])->first >= 0)
                part_at(r, ps[i])->blocked = true;
    }
    free(adds);
    free(txns);
    free(apps);
    return e;
}

/* Dead letters first (they must be durable before a commit skips them). When they failed,
 * everything consumed since the last commits is re-consumed. */
static bool dlq_durable(struct roll *r)
{
    if (r->ops->dlq_durable(r->ctx))
        return true;
    for (int p = 0; p < GTP_DAEMON_MAX_PARTS; p++) {
        struct part *pt = part_at(r, p);
        if (pt && pt->dp.assigned)
            r->ops->reload(r->ctx, p);
    }
    return false;
}

bool roll_note_end(const struct roll *r, struct part *pt, int64_t low, int64_t high)
{
    int64_t pos = pt->dp.next >= 0 ? pt->dp.next : low;
    if (high < 0 || pos < 0 || r->catchup_rows <= 0)
        return pt->caught_up;
    pt->end_known = true;
    int64_t lag = high - pos;
    if (lag >= r->catchup_rows)
        pt->behind = true;
    else if (pt->behind && lag <= 0) {
        /* caught up: what the backlog left buffered need not wait for --roll-seconds */
        pt->behind = false;
        pt->caught_up = pt->first >= 0;
    }
    return pt->caught_up;
}

bool roll_part_wants(const struct roll *r, const struct part *pt, enum roll_want want,
                     int64_t now_ms)
{
    switch (want) {
    case ROLL_ALL:
        return true;
    case ROLL_REVOKING:
        return pt->revoking;
    case ROLL_DUE:
        break;
    }
    return pt->blocked || pt->bk.rows >= (size_t)r->roll_rows ||
           pt->bk.bytes >= (size_t)r->roll_bytes ||
           now_ms - pt->roll_start_ms >= r->roll_seconds * 1000;
}

/* Has rows or a failed roll to retry. */
static bool rollable(const struct part *pt)
{
    return pt && pt->dp.assigned && (pt->first >= 0 || pt->blocked);
}

bool roll_catchup_due(const struct roll *r)
{
    bool any = false;
    for (int p = 0; p < GTP_DAEMON_MAX_PARTS; p++) {
        const struct part *pt = part_at((struct roll *)r, p);
        if (!pt || !pt->dp.assigned)
            continue;
        /* its own catch-up roll will take the others along; one whose end is unknown
         * (not fetched yet) may be about to start a backlog of its own */
        if (pt->behind || !pt->end_known)
            return false;
        any |= pt->caught_up && pt->first >= 0;
    }
    return any;
}

bool roll_where(struct roll *r, enum roll_want want)
{
    int32_t *ps = NULL;
    size_t n = 0;
    bool any = false, ok = true;
    int64_t now = gtp_mono_ms();
    for (int p = 0; p < GTP_DAEMON_MAX_PARTS && !any; p++) {
        struct part *pt = part_at(r, p);
        any = rollable(pt) && roll_part_wants(r, pt, want, now);
    }
    if (!any && want == ROLL_DUE)
        any = roll_catchup_due(r);
    if (!any)
        return true;
    if (!dlq_durable(r))
        return false;
    ps = gtp_xcalloc(GTP_DAEMON_MAX_PARTS, sizeof(int32_t));
    for (int p = 0; p < GTP_DAEMON_MAX_PARTS; p++) {
        struct part *pt = part_at(r, p);
        if (rollable(pt) && (want != ROLL_REVOKING || pt->revoking))
            ps[n++] = p;
    }
    ok = roll_parts(r, ps, n) == 0;
    free(ps);
    if (ok && !gtp_daemon_healthy(r->d)) {
        gtp_log(GTP_LOG_INFO, "archive", "writing again");
        gtp_daemon_set_healthy(r->d, true);
        r->backoff_ms = 0;
        r->last_err_log_ms = 0;
    }
    return ok;
}

bool roll_retry(struct roll *r, int64_t now_ms)
{
    if (now_ms < r->retry_at_ms || !roll_where(r, ROLL_DUE))
        return false;
    for (int p = 0; p < GTP_DAEMON_MAX_PARTS; p++) {
        struct part *pt = part_at(r, p);
        if (pt && pt->dp.assigned && pt->need_seek) {
            pt->blocked = pt->need_seek = false;
            r->ops->seek(r->ctx, p, pt->dp.next);
        }
    }
    return true;
}
