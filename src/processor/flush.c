/* The processor's flush and fence (see flush.h and docs/redis.md). */
#include "flush.h"

#include <stdlib.h>
#include <string.h>

#include "gtp/log.h"
#include "gtp/util.h"

void flush_init(struct flush *f, struct gtp_daemon *d, const struct flush_ops *ops, void *ctx,
                const char *topic, long long flush_ms, long long flush_events, long long idle_ms,
                long long ttl_s)
{
    f->ops = ops;
    f->ctx = ctx;
    f->d = d;
    f->topic = topic;
    f->flush_ms = flush_ms;
    f->flush_events = flush_events;
    f->idle_ms = idle_ms;
    f->ttl_s = ttl_s;
    agg_init(&f->agg);
    hllsent_init(&f->sent);
    f->sps = gtp_xcalloc(GTP_DAEMON_MAX_PARTS, sizeof(*f->sps));
    for (int r = 0; r < GTP_REJECT_COUNT; r++)
        f->reject_names[r] = gtp_reject_name((enum gtp_reject)r);
    f->last_ms = gtp_mono_ms();
}

void flush_fini(struct flush *f)
{
    agg_fini(&f->agg);
    hllsent_fini(&f->sent);
    free(f->sps);
    f->sps = NULL;
}

void flush_metrics(struct flush *f, struct gtp_metrics *m)
{
    f->m_flushes = gtp_metrics_counter(m, "processor_flushes", "redis flushes", NULL);
    static const double dur[] = {GTP_METRICS_DURATION_BUCKETS};
    f->m_seconds = gtp_metrics_histogram(m, "processor_flush_duration_seconds",
                                         "redis flush latency", dur, GTP_ARRAY_LEN(dur), NULL);
    f->m_last =
        gtp_metrics_gauge(m, "processor_flush_last_seconds", "duration of the last flush", NULL);
    f->m_fenced = gtp_metrics_counter(m, "processor_fenced", "flushes refused by the fence", NULL);
    f->m_dedup = gtp_metrics_gauge(m, "processor_dedup_entries", "open dedup entries", NULL);
}

struct gtp_daemon_part *flush_part_new(void *opaque, int32_t partition)
{
    (void)opaque;
    (void)partition;
    return &((struct part *)gtp_xcalloc(1, sizeof(struct part)))->dp;
}

void flush_part_drop(struct part *pt)
{
    gtp_window_free(pt->win);
    pt->win = NULL;
    idlist_reset(&pt->ids);
    pt->dp.assigned = false;
    pt->epoch++;
}

void flush_part_free(void *opaque, struct gtp_daemon_part *dp)
{
    struct part *pt = (struct part *)dp;
    (void)opaque;
    flush_part_drop(pt);
    idlist_fini(&pt->ids);
    free(pt);
}

bool flush_part_takes(const struct part *pt, int64_t offset, uint64_t epoch)
{
    if (!pt || !pt->dp.assigned || !pt->win || epoch != pt->epoch)
        return false;
    return pt->dp.next == STORE_NO_OFFSET || offset >= pt->dp.next;
}

void flush_conn_lost(struct flush *f)
{
    hllsent_forget(&f->sent); /* what the flush in flight did is unknown */
    if (f->inflight) {
        f->inflight = false;
        f->need_reload = true;
    }
}

/* The connection failed under us: what was in flight is unknown, and the owner of the
 * connection drops it. */
static void lost(struct flush *f, const char *why)
{
    flush_conn_lost(f);
    f->ops->lost(f->ctx, why);
}

bool flush_part_load(struct flush *f, int32_t p, struct part *pt)
{
    char err[256];
    int64_t next;
    struct gtp_window *w = gtp_window_new();
    if (f->ops->load(f->ctx, p, &next, w, err, sizeof(err))) {
        gtp_window_free(w);
        lost(f, err);
        return false;
    }
    gtp_window_free(pt->win);
    pt->win = w;
    idlist_reset(&pt->ids);
    pt->stored_next = next;
    pt->dp.next = next;
    pt->polled_next = next;
    pt->dp.assigned = true;
    pt->epoch++;
    return true;
}

void flush_discard(struct flush *f)
{
    flush_wait(f); /* whatever it did is in redis, which we read next */
    f->need_reload = false;
    hllsent_forget(&f->sent);
    agg_reset(&f->agg);
    f->pending_events = 0;
    for (int p = 0; p < GTP_DAEMON_MAX_PARTS; p++) {
        struct part *pt = flush_part_find(f->d, p);
        if (!pt || !pt->dp.assigned)
            continue;
        if (!f->ops->wait(f->ctx) || !flush_part_load(f, p, pt)) {
            /* stopping, or redis went away again: the next owner or our next assignment
             * reloads it */
            flush_part_drop(pt);
            continue;
        }
        f->ops->seek(f->ctx, p, pt->dp.next);
    }
}

int flush_collect(struct flush *f, int timeout_ms)
{
    char err[256];
    enum store_result res;
    int32_t fenced = -1;
    int64_t dt;
    int r;

    if (!f->inflight)
        return 1;
    r = f->ops->poll(f->ctx, timeout_ms, &res, &fenced, err, sizeof(err));
    if (r == 0)
        return 0;
    if (r < 0) {
        lost(f, err); /* sets need_reload */
        return -1;
    }
    f->inflight = false;
    dt = gtp_mono_us() - f->inflight_t0;
    gtp_metric_inc(f->m_flushes);
    gtp_metric_observe(f->m_seconds, (double)dt / 1e6);
    gtp_metric_set(f->m_last, (double)dt / 1e6);
    /* A flush costs per distinct key, not per event: when redis is slow (a backlog, a busy
     * machine), flush less often so redis spends at most about a quarter of the time on us;
     * at normal rates this stays at --flush-ms. The duration is smoothed (a quarter of
     * each new one), so one flush slowed by a busy machine does not hold the next back. */
    f->flush_avg_us += (dt - f->flush_avg_us) / 4;
    f->slow_ms = f->flush_avg_us / 1000 * 3;
    if (f->slow_ms > 5000)
        f->slow_ms = 5000;
    if (res == STORE_FENCED) {
        /* Someone else advanced a partition (a rebalance we have not seen yet, or a zombie):
         * nothing was written; start over from redis. */
        gtp_log(GTP_LOG_WARN, "store", "flush fenced on partition %d; reloading", (int)fenced);
        gtp_metric_inc(f->m_fenced);
        hllsent_forget(&f->sent);
        f->need_reload = true;
        return -1;
    }
    hllsent_commit(&f->sent); /* applied now or by an earlier attempt: in redis either way */
    for (size_t k = 0; k < f->inflight_n; k++) {
        const struct store_part *sp = &f->sps[k];
        struct part *pt = flush_part_find(f->d, sp->partition);
        if (!pt || !pt->dp.assigned)
            continue;
        pt->stored_next = sp->new_next;
        gtp_metric_set(f->m_dedup, (double)gtp_window_dedup_size(pt->win));
        /* Kafka's committed offsets follow redis (for lag tools); recovery reads redis. */
        f->ops->store_offset(f->ctx, sp->partition, sp->new_next);
    }
    return 1;
}

bool flush_wait(struct flush *f)
{
    int r;
    if (!f->inflight)
        return !f->need_reload;
    r = flush_collect(f, 10000);
    if (r == 0)
        lost(f, "no reply to a flush within 10 s");
    return r == 1;
}

bool flush_start(struct flush *f)
{
    char err[256];
    struct store_flush sf;
    size_t n = 0;

    f->last_ms = gtp_mono_ms();
    if (f->inflight || f->need_reload)
        return false;
    for (int p = 0; p < GTP_DAEMON_MAX_PARTS; p++) {
        struct part *pt = flush_part_find(f->d, p);
        int64_t wm;
        if (!pt || !pt->dp.assigned || pt->dp.next == pt->stored_next)
            continue;
        wm = gtp_window_watermark(pt->win);
        f->sps[n] = (struct store_part){
            .partition = p,
            .expected_next = pt->stored_next,
            .new_next = pt->dp.next,
            .max_event_us = gtp_window_max_event(pt->win),
            .purge_before_us = wm == GTP_WATERMARK_NONE ? INT64_MIN : gtp_window_start(wm),
            .ids = &pt->ids,
        };
        n++;
    }
    if (n == 0)
        return true;
    if (!f->ops->ensure(f->ctx))
        return false;
    /* Dead letters of the pending batch must be durable before the offsets that skip them
     * are, or a crash right after the flush loses them. */
    if (!f->ops->dlq_durable(f->ctx)) {
        flush_discard(f);
        return false;
    }
    memset(&sf, 0, sizeof(sf));
    sf.topic = f->topic;
    sf.parts = f->sps;
    sf.nparts = n;
    sf.ttl_s = f->ttl_s;
    sf.agg = &f->agg;
    sf.skills = f->d->tx ? f->d->tx->skills : NULL;
    sf.reject_names = f->reject_names;
    sf.nreject_names = GTP_REJECT_COUNT;
    hllsent_age(&f->sent, gtp_wall_us() / 1000, f->ttl_s);
    sf.sent = &f->sent;
    f->inflight_t0 = gtp_mono_us();
    if (f->ops->send(f->ctx, &sf, err, sizeof(err))) {
        lost(f, err);
        return false;
    }
    /* the command is in redis's hands: what follows is the next batch */
    f->inflight = true;
    f->inflight_n = n;
    for (size_t k = 0; k < n; k++) {
        f->sps[k].ids = NULL;
        idlist_reset(&flush_part_find(f->d, f->sps[k].partition)->ids);
    }
    agg_reset(&f->agg);
    f->pending_events = 0;
    return true;
}

bool flush_sync(struct flush *f)
{
    if (!flush_wait(f))
        return false;
    if (!flush_start(f))
        return false;
    return flush_wait(f);
}

bool flush_settle(struct flush *f)
{
    if (flush_sync(f))
        return true;
    if (f->need_reload && f->ops->ensure(f->ctx))
        flush_discard(f);
    return false;
}

/* The least time between flushes once caught up: --flush-idle-ms, or longer while flushes
 * are slow, so redis still spends at most about a quarter of its time on us. The stretch
 * makes flushes bigger only if events arrive while it runs: at the end of the log with
 * nothing arriving (quiet: a drained backlog, a stream that stopped) it would only hold
 * the pending events back, so there the flush waits --flush-idle-ms alone (the last
 * events of a 1M backlog sat 300-400 ms behind a slow machine's stretch). At the end of
 * the log with events still arriving (a live stream) the stretch shrinks as the pending
 * events near --flush-events, where a flush is due without any wait. A short poll in the
 * middle of a backlog (the fetch queue momentarily empty) is not the end, and no reason to
 * flush at all (flush_due). */
static int64_t idle_interval(const struct flush *f)
{
    if (f->at_end && f->quiet)
        return f->idle_ms;
    int64_t stretch = f->slow_ms;
    if (f->at_end && stretch > f->idle_ms && f->flush_events > 0) {
        int64_t full = f->flush_events;
        int64_t p = f->pending_events < (size_t)full ? (int64_t)f->pending_events : full;
        stretch = stretch * (full - p) / full;
    }
    return stretch > f->idle_ms ? stretch : f->idle_ms;
}

bool flush_due(const struct flush *f, int64_t now_ms, bool caught_up)
{
    int64_t since = now_ms - f->last_ms;
    if (f->inflight)
        return false;
    /* --flush-ms, stretched while flushes are slow */
    int64_t interval = f->slow_ms > f->flush_ms ? f->slow_ms : f->flush_ms;
    if (f->pending_events >= (size_t)f->flush_events || since >= interval)
        return true;
    /* Only at the end of the log: a short poll inside a backlog means the fetcher fell
     * behind for a moment, and each flush costs redis about as much whatever its size (it
     * touches every key of the open hours): flushing there made 8-9 flushes of the 1M bench
     * topic instead of 6, for no latency anyone could see behind the backlog. */
    return caught_up && f->at_end && f->idle_ms > 0 && f->pending_events > 0 &&
           since >= idle_interval(f);
}

int flush_wait_ms(const struct flush *f, int64_t now_ms, int cap)
{
    if (f->inflight)
        return cap < 5 ? cap : 5;
    if (f->idle_ms <= 0 || f->pending_events == 0 || !f->at_end)
        return cap;
    int64_t left = f->last_ms + idle_interval(f) - now_ms;
    /* at the end of the log, poll again within --flush-idle-ms: a poll that brings nothing
     * makes it quiet, and the flush due */
    if (f->at_end && left > f->idle_ms)
        left = f->idle_ms;
    return left <= 0 ? 0 : left < cap ? (int)left : cap;
}
