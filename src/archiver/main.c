/* gtp-archiver: consumes raw events, validates and enriches them like the processor, and
 * archives every valid, non-duplicate event (late ones included, docs/archive.md) as
 * Hive-partitioned Parquet files that also form a Delta Lake table. Rejected events go to the
 * dead-letter topic (docs/kafka.md).
 *
 * Exactly-once design (docs/archive.md):
 *  - Per Kafka partition p, rows are buffered per (date_posted, region). A roll writes each
 *    buffer of every assigned partition with data as
 *    date_posted=D/region=R/part-<p>-<first>-<last>.<codec>.parquet ([first, last]: every
 *    offset of p consumed since its previous roll, rejects and duplicates included), made
 *    durable before it is renamed into place; then ONE Delta commit holds the roll's adds,
 *    one txn {appId "gtp-archiver-<topic>-<p>", version <last>} per partition and the
 *    partitions' offsets and max event times (state.h). A roll without rows still commits,
 *    so the position moves past rejects. Rolls come every --roll-seconds, or sooner at
 *    --roll-rows / --roll-bytes.
 *  - The Delta log is the only store of the position: on assignment p resumes at txn + 1,
 *    its gtp_window rebuilt from the last checkpoint's snapshot (maintain.h), the commits
 *    after it and the ids in the files they added, so late/duplicate verdicts continue as if
 *    the archiver had never stopped. Kafka's committed offsets are for lag tools only.
 *  - A crash between rename and commit leaves files the log does not reference: on
 *    assignment p's unreferenced files from the resume offset on, and its temp files, are
 *    deleted before consuming; the replay writes the same names again.
 *  - Fencing: a commit checks that no other writer recorded a txn for p since the version we
 *    read (GTP_ERR_FENCED: p is dropped and reloaded); a new owner first commits p's txn
 *    unchanged, so an old owner cannot commit any more.
 *  - Dead letters are made durable before the commit that moves the position past them.
 *  - Disk errors (ENOSPC, EIO): consumption pauses and the roll is retried with backoff;
 *    nothing half-written becomes visible.
 * The consumer-daemon skeleton (gtp/daemon.h) polls and dispatches rebalances to the hooks
 * below; each poll round is validated and enriched on helper threads and then applied here
 * in order (enrich.h); the roll and its fence live in roll.h, taking partitions over in
 * handover.h. */
#include <inttypes.h>
#include <stdbool.h>

#include <librdkafka/rdkafka.h>

#include "bucket.h"
#include "deltalink.h"
#include "enrich.h"
#include "handover.h"
#include "maintain.h"
#include "options.h"
#include "roll.h"
#include "gtp/consumer.h"
#include "gtp/daemon.h"
#include "gtp/delta.h"
#include "gtp/err.h"
#include "gtp/event.h"
#include "gtp/log.h"
#include "gtp/metrics.h"
#include "gtp/parquet.h"
#include "gtp/program.h"
#include "gtp/util.h"
#include "gtp/window.h"

struct arch {
    struct arch_cfg cfg;
    struct gtp_kvlist kprops;
    struct gtp_parquet_opts popts;
    struct gtp_daemon d; /* consumer, partitions, dead letters, taxonomy, metrics */
    struct roll roll;    /* files and Delta commits */
    struct deltalink dl; /* the roll's seams */
    struct arch_maint maint;
    struct gtp_pool *pool; /* helper threads: poll rounds, a roll's files */
    /* two poll rounds: en[cur] is being polled into; when pending, en[cur ^ 1] is the
     * round before it, enriching on the helpers (started) until after_poll applies it */
    struct arch_enrich en[2];
    int cur;
    bool pending;
    const char *skill_ids[GTP_SKILLS_MAX];
    int64_t last_check_ms;
    struct gtp_metric *m_buffered, *m_write_errors;
};

static struct part *part_get(struct arch *ar, int32_t p)
{
    return (struct part *)gtp_daemon_part(&ar->d, p);
}

/* ---- consuming ------------------------------------------------------------------------- */

/* Apply one message, processed into ev (a view, enrich.h), in offset order. */
static void handle_message(struct arch *ar, const rd_kafka_message_t *rkm,
                           const struct gtp_event *ev)
{
    struct part *pt = part_get(ar, rkm->partition);
    enum gtp_reject r = ev->reject;
    char err[512];

    if (!pt || !pt->dp.assigned || !pt->win)
        return;
    if (pt->blocked) {
        /* paused partitions may still deliver what was fetched: take it again later */
        pt->need_seek = true;
        return;
    }
    /* after a seek back, messages fetched before it may still arrive */
    if (pt->dp.next >= 0 && rkm->offset < pt->dp.next)
        return;
    if (r != GTP_REJECT_NONE) {
        gtp_daemon_count(&ar->d, r, GTP_VERDICT_COUNT);
        if (gtp_dlq_send(ar->d.dlq, ar->cfg.dlq_topic, rkm, gtp_reject_name(r), ev->detail, err,
                         sizeof(err))) {
            /* stopping or broken: do not move past it; it is consumed again later */
            pt->need_seek = true;
            pt->blocked = true;
            return;
        }
    } else {
        enum gtp_verdict v =
            gtp_window_classify(pt->win, ev->event_id.s, ev->event_id.len, ev->posted_us);
        gtp_daemon_count(&ar->d, r, v);
        /* late events are archived too; duplicates are not (the ids counted are those of
         * the rows in the roll's files, state.h) */
        if (v != GTP_VERDICT_DUPLICATE && arch_buckets_add_event(&pt->bk, ev, ar->d.tx->skills,
                                                                 ar->skill_ids, err, sizeof(err))) {
            gtp_metric_inc(ar->m_write_errors);
            gtp_log(GTP_LOG_ERROR, "archive", "row of event %.*s not archived: %s",
                    (int)(ev->event_id.len > 64 ? 64 : ev->event_id.len), ev->event_id.s, err);
        }
    }
    if (pt->first < 0) {
        pt->first = rkm->offset;
        pt->roll_start_ms = gtp_mono_ms();
    }
    pt->last = rkm->offset;
    pt->dp.next = rkm->offset + 1;
}

/* The messages of a poll round, enriched, applied in the order they were polled, each
 * followed by the roll check one message per round had (a roll may be due after any
 * message); then the round is cleared for the next poll. */
static void apply(struct arch *ar, struct arch_enrich *en)
{
    struct gtp_event ev;
    for (size_t i = 0; i < en->n; i++) {
        const rd_kafka_message_t *rkm = en->slot[i].rkm;
        struct part *pt = part_get(ar, rkm->partition);
        /* polled before a seek of its partition (a reload from the log, a retry after a
         * failed roll) that an earlier message of these rounds caused: Kafka delivers it
         * again from there, and its offset alone cannot tell (a reload moves back) */
        if (pt && en->slot[i].seeks != pt->dp.seeks)
            continue;
        arch_enrich_view(en, i, &ev);
        handle_message(ar, rkm, &ev);
        if (pt && !ar->d.paused &&
            (pt->bk.rows >= (size_t)ar->cfg.roll_rows ||
             pt->bk.bytes >= (size_t)ar->cfg.roll_bytes || pt->blocked) &&
            !roll_where(&ar->roll, ROLL_DUE))
            gtp_daemon_pause(&ar->d, true);
    }
    arch_enrich_clear(en);
}

/* After a poll: the round just polled starts enriching on the helpers, and the round
 * before it (its enrichment finished first, with this thread's help) is applied meanwhile.
 * Messages polled but not yet applied are like messages librdkafka has fetched ahead: the
 * state every decision reads (positions, pauses, blocked partitions) is the applied one. */
static void apply_pipelined(struct arch *ar)
{
    struct arch_enrich *prev = ar->pending ? &ar->en[ar->cur ^ 1] : NULL;
    if (prev)
        arch_enrich_wait(prev);
    ar->pending = false;
    if (ar->en[ar->cur].n) {
        arch_enrich_start(&ar->en[ar->cur], ar->d.tx);
        ar->cur ^= 1;
        ar->pending = true;
    }
    if (prev)
        apply(ar, prev); /* its slots are polled into next, after this call */
}

/* Every polled message applied, in order: before anything that must see them all (a
 * rebalance, the drain, a taxonomy switch). */
static void apply_round(struct arch *ar)
{
    struct arch_enrich *fill = &ar->en[ar->cur];
    if (ar->pending) {
        struct arch_enrich *prev = &ar->en[ar->cur ^ 1];
        arch_enrich_wait(prev);
        ar->pending = false;
        apply(ar, prev);
    }
    if (fill->n) {
        arch_enrich_run(fill, ar->d.tx);
        apply(ar, fill);
    }
}

/* ---- the daemon's hooks ---------------------------------------------------------------- */

static struct gtp_daemon_part *part_new(void *opaque, int32_t p)
{
    struct arch *ar = opaque;
    struct part *pt = (struct part *)roll_part_new(&ar->popts, p);
    pt->bk.pool = ar->pool; /* a roll's files on the helpers too */
    return &pt->dp;
}

static void on_assign(void *opaque, rd_kafka_topic_partition_list_t *parts)
{
    struct arch *ar = opaque;
    apply_round(ar);
    /* Resume from the position in the Delta log, not Kafka's committed offset. */
    handover_take_all(&ar->d, ar->cfg.archive_dir, ar->cfg.topic, parts, ar->roll.m_disk_errors);
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        struct part *pt = part_get(ar, tp->partition);
        if (!pt || !pt->dp.assigned)
            continue;
        tp->offset = pt->dp.next < 0 ? RD_KAFKA_OFFSET_BEGINNING : pt->dp.next;
        gtp_log(GTP_LOG_INFO, "consumer",
                "assigned %s[%d] from offset %" PRId64 " (%zu open dedup entries)", tp->topic,
                (int)tp->partition, pt->dp.next, gtp_window_dedup_size(pt->win));
    }
}

static void on_revoke(void *opaque, rd_kafka_topic_partition_list_t *parts, bool lost)
{
    struct arch *ar = opaque;
    bool any = false;
    apply_round(ar);
    for (int i = 0; i < parts->cnt && !lost && !any; i++) {
        struct part *pt = part_get(ar, parts->elems[i].partition);
        any = pt && pt->dp.assigned && pt->first >= 0;
    }
    /* Hand over a clean position: roll what we hold (one attempt; on failure the next owner
     * simply consumes it again). */
    for (int i = 0; i < parts->cnt && any; i++) {
        struct part *pt = part_get(ar, parts->elems[i].partition);
        if (pt)
            pt->revoking = true;
    }
    if (any)
        roll_where(&ar->roll, ROLL_REVOKING);
    for (int i = 0; i < parts->cnt; i++) {
        struct part *pt = part_get(ar, parts->elems[i].partition);
        if (pt && pt->dp.assigned)
            handover_discard(ar->cfg.archive_dir, pt);
        if (pt) {
            pt->revoking = false;
            roll_part_drop(pt);
        }
    }
}

/* A failed roll: retry on backoff, consume nothing meanwhile. */
static int before_poll(void *opaque)
{
    struct arch *ar = opaque;
    if (ar->d.paused && roll_retry(&ar->roll, gtp_mono_ms()))
        gtp_daemon_pause(&ar->d, false);
    return 50;
}

/* Taken into the round; applied in after_poll. */
static void on_message(void *opaque, rd_kafka_message_t *rkm)
{
    struct arch *ar = opaque;
    struct part *pt = part_get(ar, rkm->partition);
    arch_enrich_add(&ar->en[ar->cur], rkm, pt ? pt->dp.seeks : 0);
}

/* Rounds enriched with the old taxonomy are applied with it (their skill bits index it). */
static void on_reload(void *opaque)
{
    apply_round(opaque);
}

/* Whether a catch-up roll is due (roll.h): Kafka's high watermarks as last fetched, no
 * request to the broker. */
static bool caught_up(struct arch *ar)
{
    bool any = false;
    for (int p = 0; p < GTP_DAEMON_MAX_PARTS; p++) {
        struct part *pt = part_get(ar, p);
        int64_t lo, hi;
        if (!pt || !pt->dp.assigned)
            continue;
        if (rd_kafka_get_watermark_offsets(ar->d.rk, ar->cfg.topic, p, &lo, &hi) !=
            RD_KAFKA_RESP_ERR_NO_ERROR)
            lo = hi = -1;
        any |= roll_note_end(&ar->roll, pt, lo, hi);
    }
    return any && roll_catchup_due(&ar->roll);
}

/* The round applied; rolls by age (--roll-seconds) are checked ten times a second, a
 * catch-up roll after every round. */
static void after_poll(void *opaque, size_t n, int64_t now)
{
    struct arch *ar = opaque;
    (void)n;
    apply_pipelined(ar);
    /* caught_up first: it notes every partition's end after every round */
    if (!ar->d.paused && (caught_up(ar) || now - ar->last_check_ms >= 100)) {
        ar->last_check_ms = now;
        if (!roll_where(&ar->roll, ROLL_DUE))
            gtp_daemon_pause(&ar->d, true);
    }
}

static void on_gauges(void *opaque)
{
    struct arch *ar = opaque;
    double buffered = 0;
    for (int p = 0; p < GTP_DAEMON_MAX_PARTS; p++) {
        struct part *pt = (struct part *)ar->d.parts[p];
        if (pt && pt->dp.assigned)
            buffered += (double)pt->bk.rows;
    }
    gtp_metric_set(ar->m_buffered, buffered);
}

/* Graceful stop: roll what is in flight (retried for up to 10 s); then leaving the group
 * finds nothing left to roll. */
static bool on_drain(void *opaque)
{
    apply_round(opaque);
    return roll_where(&((struct arch *)opaque)->roll, ROLL_ALL);
}

/* on_reload only applies the rounds in flight: buffered rows hold skill ids as strings of
 * their own. */
static const struct gtp_daemon_hooks arch_hooks = {
    .part_new = part_new,
    .part_free = roll_part_free,
    .on_assign = on_assign,
    .on_revoke = on_revoke,
    .before_poll = before_poll,
    .on_message = on_message,
    .after_poll = after_poll,
    .on_gauges = on_gauges,
    .on_reload = on_reload,
    .on_drain = on_drain,
};

/* ---- set-up ---------------------------------------------------------------------------- */

static void metrics_init(struct arch *ar)
{
    struct gtp_metrics *m = ar->d.metrics;
    roll_metrics(&ar->roll, m);
    ar->m_write_errors =
        gtp_metrics_counter(m, "archiver_row_errors", "valid events the writer refused", NULL);
    ar->m_buffered = gtp_metrics_gauge(m, "archiver_buffered_rows", "rows awaiting a roll", NULL);
}

int main(int argc, char **argv)
{
    static struct arch ar; /* large: keep it off the stack */
    struct arch_maint_cfg mc;
    char err[512];
    int rc = GTP_EXIT_OK, e;

    if (gtp_program_init(&arch_cli, &ar.cfg, &ar.kprops, argc, argv, &rc) ||
        (rc = arch_options_check(&ar.cfg, &ar.popts, &mc)))
        goto out;
    struct gtp_daemon_cfg dc = {
        .brokers = ar.cfg.brokers,
        .topic = ar.cfg.topic,
        .group = ar.cfg.group,
        .taxonomy = ar.cfg.taxonomy,
        .kprops = &ar.kprops,
        .startup_timeout_s = ar.cfg.startup_timeout_s,
        .metrics_port = ar.cfg.metrics_port,
        .metrics_prefix = "archiver",
        .unhealthy = "archive writes failing",
        .batch_max = ARCH_ENRICH_MAX, /* applied one by one (apply_round) */
        .drain_retry_ms = 200,
        .hooks = &arch_hooks,
        .opaque = &ar,
    };
    if (!(ar.pool = gtp_pool_new((int)ar.cfg.enrich_threads, err, sizeof(err)))) {
        gtp_log(GTP_LOG_ERROR, "main", "%s", err);
        rc = GTP_EXIT_SOFTWARE;
        goto out;
    }
    arch_enrich_init(&ar.en[0], ar.pool);
    arch_enrich_init(&ar.en[1], ar.pool);
    ar.dl = (struct deltalink){ar.cfg.archive_dir, ar.cfg.topic, &ar.d, &ar.maint};
    roll_init(&ar.roll, &ar.d, &deltalink_ops, &ar.dl, ar.cfg.topic, ar.cfg.roll_rows,
              ar.cfg.roll_bytes, ar.cfg.roll_seconds, ar.cfg.catchup_rows);
    if ((e = gtp_daemon_init(&ar.d, &dc)))
        goto fail;
    gtp_daemon_set_healthy(&ar.d, true);
    metrics_init(&ar);
    e = gtp_delta_create(ar.cfg.archive_dir, err, sizeof(err));
    if (e) {
        gtp_log(GTP_LOG_ERROR, "archive", "--archive-dir %s: %s", ar.cfg.archive_dir, err);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    arch_maint_init(&ar.maint, &mc, ar.d.metrics);
    if (ar.cfg.maintain) {
        e = arch_maint_once(&ar.maint, err, sizeof(err));
        if (e)
            gtp_log(GTP_LOG_ERROR, "archive", "maintenance of %s: %s", ar.cfg.archive_dir, err);
        goto fail;
    }
    if ((e = gtp_daemon_connect(&ar.d)) || (e = gtp_daemon_start(&ar.d)) ||
        (e = arch_maint_start(&ar.maint)))
        goto fail;
    gtp_log(GTP_LOG_INFO, "main", "consuming %s as group %s into %s (%s)", ar.cfg.topic,
            ar.cfg.group, ar.cfg.archive_dir, gtp_parquet_codec_name(ar.popts.codec));
    rc = gtp_daemon_run(&ar.d);
    goto out;
fail:
    rc = gtp_err_exit_code(e);
out:
    gtp_daemon_fini(&ar.d); /* leaves the group: the revoke hook rolls what is left */
    arch_maint_stop(&ar.maint);
    gtp_pool_wait(ar.pool);      /* a round still enriching (no revoke hook ran) */
    arch_enrich_fini(&ar.en[0]); /* after the revoke hook inside gtp_daemon_fini */
    arch_enrich_fini(&ar.en[1]);
    gtp_pool_free(ar.pool);
    gtp_cfg_free(&arch_cli, &ar.cfg, &ar.kprops);
    return rc;
}
