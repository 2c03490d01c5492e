/* gtp-archiver: consumes raw events, validates and enriches them like the processor, and
 * archives every valid, non-duplicate event (late ones included, docs/archive.md) as
 * Hive-partitioned Parquet files that also form a Delta Lake table. Rejected events go to the
 * dead-letter topic (docs/kafka.md).
 *
 * Exactly-once design (docs/archive.md):
 *  - Per Kafka partition p, rows are buffered per (date_posted, region). A roll writes, for
 *    every assigned partition p with data, each buffer as
 *    date_posted=D/region=R/part-<p>-<first>-<last>.<codec>.parquet, where [first, last] is
 *    every offset of p consumed since p's previous roll (rejected and duplicate messages
 *    included), each file published atomically (temp, fsync, rename, fsync dir). Then ONE
 *    Delta commit holds all the roll's adds, one txn {appId "gtp-archiver-<topic>-<p>",
 *    version <last>} per partition and commitInfo.gtp = an array of the partitions'
 *    event-time state deltas (max event time and the dedup ids counted since the previous
 *    commit, see state.h). A roll without rows still commits, so the position moves past
 *    rejects. Rolls come every --roll-seconds (300: cold data may lag minutes behind the hot
 *    path, and files and commits stay few), or sooner at --roll-rows / --roll-bytes.
 *  - The Delta log is the only store of the position: on assignment p resumes at txn + 1
 *    (the beginning when none), and its gtp_window is rebuilt by replaying p's commitInfo.gtp
 *    entries in version order from the last checkpoint's snapshot (maintain.h), so
 *    late/duplicate verdicts continue exactly as if the archiver had never stopped, at a cost
 *    bounded by the open state and the commits since that checkpoint. Kafka's committed
 *    offsets are stored after each commit for lag tools only.
 *  - A crash between rename and commit leaves files the log does not reference: on
 *    assignment p's unreferenced files whose first offset >= the resume offset, and p's temp
 *    files, are deleted before consuming (only p's owner touches p's files); the replay then
 *    writes the same names again. Paths are unique per (p, first offset) and commits of p
 *    never overlap, so no path is added to the log twice.
 *  - Fencing: each commit checks that no other writer recorded a txn for p since the log
 *    version we last read (GTP_ERR_FENCED: someone else owns p; our files are removed and
 *    p is reloaded from the log). On assignment the new owner first commits p's txn
 *    unchanged (a fencing commit, no adds), so an old owner that has not noticed its loss
 *    cannot commit any more, and only then removes p's uncommitted files.
 *  - Dead letters are made durable before the commit that moves the position past them.
 *  - Disk errors (ENOSPC, EIO): consumption pauses, the roll is retried with backoff (files
 *    already written in that roll are kept), logged once per interval; nothing half-written
 *    becomes visible. */
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "bucket.h"
#include "maintain.h"
#include "state.h"
#include "gtp/cfg.h"
#include "gtp/consumer.h"
#include "gtp/delta.h"
#include "gtp/err.h"
#include "gtp/event.h"
#include "gtp/failpoint.h"
#include "gtp/kafka.h"
#include "gtp/log.h"
#include "gtp/metrics.h"
#include "gtp/parquet.h"
#include "gtp/program.h"
#include "gtp/sig.h"
#include "gtp/taxonomy.h"
#include "gtp/timeparse.h"
#include "gtp/util.h"
#include "gtp/window.h"

struct arch_cfg {
    char *brokers, *topic, *dlq_topic, *taxonomy, *log_level;
    long long metrics_port;
    char *group, *archive_dir, *codec;
    long long roll_rows, roll_seconds, roll_bytes, startup_timeout_s, checkpoint_interval;
    long long compact_interval_s, target_file_size;
    char *log_retention, *vacuum_retention;
    bool maintain;
};

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
    {"startup-timeout", 0, "GTP_STARTUP_TIMEOUT", GTP_OPT_INT,
     offsetof(struct arch_cfg, startup_timeout_s), "30", "SECONDS",
     "give up (exit 69) when kafka is unreachable this long at start-up", 1, 3600},
    GTP_OPTS_LOG(struct arch_cfg),
    GTP_OPTS_METRICS(struct arch_cfg, "9103"),
};

static const struct gtp_cli arch_cli = {
    "gtp-archiver",
    "consume job postings, archive them as hive-partitioned parquet files in a delta table",
    arch_opts,
    GTP_ARRAY_LEN(arch_opts),
    true,
};

/* One assigned partition. */
struct part {
    bool assigned;
    int64_t committed;   /* txn version in the log: last offset archived, -1 none */
    int64_t next;        /* next offset to process, -1: from the beginning */
    int64_t first, last; /* offsets of the current roll, first -1 when nothing consumed */
    int64_t roll_start_ms;
    int64_t seen_version; /* the log was read up to here with no foreign txn for us */
    bool blocked;         /* a roll failed: consume nothing until it is retried */
    bool need_seek;       /* messages were refused while blocked: seek back to next */
    bool revoking;        /* being revoked: rolled on its own before it goes */
    struct gtp_window *win;
    struct arch_buckets bk;
    struct gtp_idlist ids;
};

#define MAX_PARTS 4096

struct arch {
    struct arch_cfg cfg;
    struct gtp_kvlist kprops;
    struct gtp_parquet_opts popts;
    rd_kafka_t *rk;
    struct gtp_refill *refill; /* keeps the fetch queue filled while catching up */
    struct gtp_producer *dlq;
    uint64_t dlq_failed_seen;
    struct gtp_taxonomy *tx;
    struct part *parts[MAX_PARTS];
    struct gtp_event ev;
    bool paused;
    int64_t retry_at_ms, backoff_ms, last_err_log_ms;
    const char *skill_ids[GTP_SKILLS_MAX];

    struct gtp_metrics *metrics;
    struct gtp_metrics_server *msrv;
    struct gtp_metric *m_msgs, *m_valid, *m_rejected, *m_late, *m_dup, *m_rows, *m_files;
    struct gtp_metric *m_commits, *m_roll_us, *m_roll_last_ms, *m_disk_errors, *m_fenced;
    struct gtp_metric *m_rejected_by[GTP_REJECT_COUNT], *m_buffered, *m_lag, *m_write_errors;
    struct gtp_metric *m_dlq_failed;
    struct arch_maint maint;
    volatile int healthy_disk;
};

static struct part *part_get(struct arch *ar, int32_t p)
{
    if (p < 0 || p >= MAX_PARTS)
        return NULL;
    if (!ar->parts[p]) {
        ar->parts[p] = gtp_xcalloc(1, sizeof(struct part));
        arch_buckets_init(&ar->parts[p]->bk, &ar->popts);
        ar->parts[p]->first = -1;
    }
    return ar->parts[p];
}

/* Forget everything in flight for pt (its rows will be consumed again). */
static void part_drop(struct part *pt)
{
    gtp_window_free(pt->win);
    pt->win = NULL;
    arch_buckets_reset(&pt->bk);
    gtp_idlist_reset(&pt->ids);
    pt->first = pt->last = -1;
    pt->blocked = pt->need_seek = false;
    pt->assigned = false;
}

/* ---- partition state from the log ---------------------------------------------------- */

/* Load the state of n partitions from the log and delete their crashed rolls' files.
 * Returns 0 or an error (logged by the caller); on success each pt is assigned. */
static int parts_load(struct arch *ar, const int32_t *ps, size_t n, char *err, size_t errsz)
{
    struct arch_resume *rs = gtp_xcalloc(n + 1, sizeof(*rs));
    int64_t latest = -1;
    int e;
    for (size_t i = 0; i < n; i++)
        rs[i].partition = ps[i];
    e = arch_state_load(ar->cfg.archive_dir, ar->cfg.topic, rs, n, &latest, err, errsz);
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
        arch_app_id(ar->cfg.topic, ps[i], apps[i], sizeof(apps[i]));
        txns[i] = (struct gtp_delta_txn){apps[i], rs[i].txn, latest};
        resume[i] = rs[i].txn + 1;
    }
    if (!e && n)
        e = gtp_delta_commit_multi(ar->cfg.archive_dir, NULL, 0, txns, n, NULL, NULL,
                                   &fence_version, NULL, err, errsz);
    for (size_t i = 0; i < n; i++)
        rs[i].fence_version = fence_version;
    if (!e)
        e = arch_state_clean(ar->cfg.archive_dir, ps, resume, n, removed, err, errsz);
    for (size_t i = 0; !e && i < n; i++)
        if (removed[i])
            gtp_log(GTP_LOG_INFO, "archive", "partition %d: removed %zu uncommitted file(s)",
                    (int)ps[i], removed[i]);
    free(apps);
    free(txns);
    free(resume);
    free(removed);
    for (size_t i = 0; i < n; i++) {
        struct part *pt = part_get(ar, ps[i]);
        if (e) {
            gtp_window_free(rs[i].win);
            continue;
        }
        part_drop(pt);
        pt->win = rs[i].win;
        pt->committed = rs[i].txn;
        pt->next = rs[i].txn >= 0 ? rs[i].txn + 1 : -1;
        pt->seen_version = rs[i].fence_version;
        pt->assigned = true;
    }
    free(rs);
    return e;
}

static bool part_reload(struct arch *ar, int32_t p)
{
    char err[512];
    if (parts_load(ar, &p, 1, err, sizeof(err))) {
        gtp_log(GTP_LOG_ERROR, "archive", "partition %d: cannot read the log: %s", (int)p, err);
        return false;
    }
    gtp_consumer_seek(ar->rk, ar->cfg.topic, p, ar->parts[p]->next);
    return true;
}

/* ---- rolls ---------------------------------------------------------------------------- */

static void disk_error(struct arch *ar, const char *what, int e, const char *err)
{
    int64_t now = gtp_mono_ms();
    gtp_metric_inc(ar->m_disk_errors);
    ar->healthy_disk = 0;
    /* log once per interval while the trouble lasts */
    if (now - ar->last_err_log_ms >= 10000 || !ar->last_err_log_ms) {
        gtp_log(GTP_LOG_ERROR, "archive", "%s failed (%s), consumption paused: %s", what,
                gtp_err_str(e), err);
        ar->last_err_log_ms = now;
    }
    ar->backoff_ms = ar->backoff_ms ? ar->backoff_ms * 2 : 100;
    if (ar->backoff_ms > 5000)
        ar->backoff_ms = 5000;
    ar->retry_at_ms = now + ar->backoff_ms;
}

/* Remove the files of p's current roll that no commit references: temp files staged but
 * not published, and published files whose commit never happened (checked against the log:
 * a commit whose reply was lost may still have landed). Used when p leaves us with a roll
 * in flight, so no orphan stays visible to plain-Parquet readers. */
static void discard_uncommitted(struct arch *ar, struct part *pt)
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
            snprintf(full, sizeof(full), "%s/%.*s/.%s.tmp", ar->cfg.archive_dir,
                     (int)(slash - b->rel), b->rel, slash + 1);
            unlink(full);
            continue;
        }
        if (!listed) {
            if (gtp_delta_list_files(ar->cfg.archive_dir, &live, &nlive, err, sizeof(err))) {
                gtp_log(GTP_LOG_WARN, "archive", "cannot read the log to discard files: %s", err);
                break; /* keep them: the next owner's clean-up removes them */
            }
            listed = true;
        }
        bool referenced = false;
        for (size_t j = 0; j < nlive && !referenced; j++)
            referenced = strcmp(live[j], b->rel) == 0;
        if (!referenced) {
            snprintf(full, sizeof(full), "%s/%s", ar->cfg.archive_dir, b->rel);
            unlink(full);
        }
    }
    gtp_delta_paths_free(live, nlive);
}

/* A commit was fenced: a newer owner of p committed since we read the log, so we are the
 * stale one (an owner fences on assignment, after every older owner). Remove our uncommitted
 * files, forget p and stop fetching it until Kafka's rebalance tells us what we own. */
static void fenced(struct arch *ar, int32_t p, struct part *pt)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    gtp_metric_inc(ar->m_fenced);
    gtp_log(GTP_LOG_WARN, "archive", "partition %d fenced by another writer; dropping it", (int)p);
    discard_uncommitted(ar, pt);
    part_drop(pt);
    rd_kafka_topic_partition_list_add(l, ar->cfg.topic, p);
    rd_kafka_pause_partitions(ar->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

static bool want_revoking(struct arch *ar, struct part *pt);

/* After a commit of version that covered pt: its position moved, its roll is done. */
static void rolled(struct arch *ar, int32_t p, struct part *pt, int64_t version)
{
    pt->seen_version = version;
    gtp_metric_add(ar->m_rows, pt->bk.rows);
    pt->committed = pt->last;
    pt->first = pt->last = -1;
    arch_buckets_reset(&pt->bk);
    gtp_idlist_reset(&pt->ids);
    gtp_consumer_store_offset(ar->rk, ar->cfg.topic, p, pt->committed + 1);
}

static void unblock(struct arch *ar, int32_t p, struct part *pt)
{
    if (!pt->blocked)
        return;
    pt->blocked = false;
    if (pt->need_seek) {
        gtp_consumer_seek(ar->rk, ar->cfg.topic, p, pt->next);
        pt->need_seek = false;
    }
}

/* Roll the n partitions ps (assigned, each with rows or blocked): write each one's files,
 * then ONE Delta commit with all their adds, one txn per partition and their event-time
 * state in commitInfo.gtp (an array, one entry per partition). A fenced partition is
 * dropped and the others committed again. The caller made the dead letters durable.
 * Returns 0, or an error after which every partition that did not commit is blocked with
 * its rows kept for a retry (files already written are kept too). */
static int roll_parts(struct arch *ar, int32_t *ps, size_t n)
{
    char err[512];
    struct gtp_delta_add *adds = NULL;
    struct gtp_delta_txn *txns = gtp_xcalloc(n + 1, sizeof(*txns));
    char(*apps)[512] = gtp_xcalloc(n + 1, sizeof(*apps));
    int64_t t0 = gtp_mono_us(), version = -1;
    size_t nfiles = 0;
    int e = 0;

    for (size_t i = 0; i < n; i++) {
        struct part *pt = ar->parts[ps[i]];
        size_t k = 0;
        if (pt->first < 0)
            continue;
        e = arch_buckets_write(&pt->bk, ar->cfg.archive_dir, ps[i], pt->first, pt->last, &k, err,
                               sizeof(err));
        nfiles += k;
        if (e) {
            disk_error(ar, "writing files", e, err);
            goto out;
        }
    }
    gtp_metric_add(ar->m_files, nfiles);
    gtp_failpoint("files");
    int64_t t_files = gtp_mono_us();
    for (;;) {
        size_t nadds = 0, ntxn = 0, fenced_at = 0;
        int32_t *who = gtp_xcalloc(n + 1, sizeof(int32_t));
        json_t *info = json_array();
        free(adds);
        adds = NULL;
        for (size_t i = 0; i < n; i++) {
            struct part *pt = ar->parts[ps[i]];
            struct gtp_delta_add *pa = NULL;
            if (!pt->assigned || pt->first < 0)
                continue;
            size_t k = arch_buckets_adds(&pt->bk, &pa);
            adds = gtp_xrealloc(adds, (nadds + k + 1) * sizeof(*adds));
            memcpy(adds + nadds, pa, k * sizeof(*adds));
            nadds += k;
            free(pa);
            arch_app_id(ar->cfg.topic, ps[i], apps[ntxn], sizeof(apps[ntxn]));
            txns[ntxn] = (struct gtp_delta_txn){apps[ntxn], pt->last, pt->seen_version};
            who[ntxn++] = ps[i];
            json_array_append_new(info, arch_state_info(ar->cfg.topic, ps[i], pt->first, pt->last,
                                                        gtp_window_max_event(pt->win),
                                                        gtp_window_watermark(pt->win), &pt->ids));
        }
        e = ntxn ? gtp_delta_commit_multi(ar->cfg.archive_dir, adds, nadds, txns, ntxn,
                                          ARCH_INFO_KEY, info, &version, &fenced_at, err,
                                          sizeof(err))
                 : 0;
        json_decref(info);
        if (e == GTP_ERR_FENCED) {
            fenced(ar, who[fenced_at], ar->parts[who[fenced_at]]);
            free(who);
            continue; /* the others again, without it */
        }
        if (e == GTP_ERR_STALE) {
            /* the log moved past what we read and was cleaned up: start over from it */
            gtp_log(GTP_LOG_WARN, "archive", "%s; reloading the rolled partitions", err);
            for (size_t i = 0; i < ntxn; i++)
                part_reload(ar, who[i]);
            free(who);
            e = 0;
            break;
        }
        if (e) {
            free(who);
            disk_error(ar, "delta commit", e, err);
            goto out;
        }
        if (!ntxn) {
            free(who);
            break;
        }
        /* Our commit holds no txn of our other partitions: whoever had read the log up to
         * the version before it has, in effect, read it up to ours. */
        for (int q = 0; q < MAX_PARTS; q++) {
            struct part *o = ar->parts[q];
            if (o && o->assigned && o->seen_version == version - 1)
                o->seen_version = version;
        }
        gtp_failpoint("commit");
        for (size_t i = 0; i < ntxn; i++)
            rolled(ar, who[i], ar->parts[who[i]], version);
        gtp_metric_inc(ar->m_commits);
        gtp_metric_add(ar->m_roll_us, (uint64_t)(gtp_mono_us() - t0));
        gtp_metric_set(ar->m_roll_last_ms, (double)(gtp_mono_us() - t0) / 1000.0);
        gtp_log(GTP_LOG_DEBUG, "archive",
                "committed %zu partition(s), %zu files as version %" PRId64
                " (files %.1f ms, commit %.1f ms)",
                ntxn, nadds, version, (double)(t_files - t0) / 1000.0,
                (double)(gtp_mono_us() - t_files) / 1000.0);
        free(who);
        arch_maint_committed(&ar->maint, version);
        break;
    }
    for (size_t i = 0; i < n; i++) {
        struct part *pt = ar->parts[ps[i]];
        if (pt->assigned && pt->first < 0)
            unblock(ar, ps[i], pt);
    }
out:
    if (e) {
        for (size_t i = 0; i < n; i++)
            if (ar->parts[ps[i]]->assigned && ar->parts[ps[i]]->first >= 0)
                ar->parts[ps[i]]->blocked = true;
    }
    free(adds);
    free(txns);
    free(apps);
    return e;
}

/* Dead letters first (they must be durable before a commit skips them). When they failed,
 * everything consumed since the last commits is re-consumed. */
static bool dlq_durable(struct arch *ar)
{
    char err[512];
    if (!gtp_dlq_durable(ar->dlq, &ar->dlq_failed_seen, err, sizeof(err)))
        return true;
    gtp_log(GTP_LOG_ERROR, "dlq", "%s; re-consuming from the archived offsets", err);
    gtp_metric_inc(ar->m_dlq_failed);
    for (int p = 0; p < MAX_PARTS; p++) {
        struct part *pt = ar->parts[p];
        if (pt && pt->assigned)
            part_reload(ar, p);
    }
    return false;
}

/* A roll, when want() holds for some partition: every assigned partition with rows (or
 * blocked) rolls with it, in one commit, so commits and files follow the roll policy rather
 * than the number of partitions. With only, just the partitions whose `revoking` is set.
 * False when the roll failed. */
static bool roll_where(struct arch *ar, bool (*want)(struct arch *, struct part *))
{
    int32_t *ps = NULL;
    size_t n = 0;
    bool any = false, ok = true;
    for (int p = 0; p < MAX_PARTS && !any; p++) {
        struct part *pt = ar->parts[p];
        any = pt && pt->assigned && (pt->first >= 0 || pt->blocked) && want(ar, pt);
    }
    if (!any)
        return true;
    if (!dlq_durable(ar))
        return false;
    ps = gtp_xcalloc(MAX_PARTS, sizeof(int32_t));
    for (int p = 0; p < MAX_PARTS; p++) {
        struct part *pt = ar->parts[p];
        if (pt && pt->assigned && (pt->first >= 0 || pt->blocked) &&
            (want != want_revoking || pt->revoking))
            ps[n++] = p;
    }
    ok = roll_parts(ar, ps, n) == 0;
    free(ps);
    if (ok && !ar->healthy_disk) {
        gtp_log(GTP_LOG_INFO, "archive", "writing again");
        ar->healthy_disk = 1;
        ar->backoff_ms = 0;
        ar->last_err_log_ms = 0;
    }
    return ok;
}

static bool want_revoking(struct arch *ar, struct part *pt)
{
    (void)ar;
    return pt->revoking;
}

static bool want_all(struct arch *ar, struct part *pt)
{
    (void)ar;
    (void)pt;
    return true;
}

static bool want_due(struct arch *ar, struct part *pt)
{
    return pt->blocked || pt->bk.rows >= (size_t)ar->cfg.roll_rows ||
           pt->bk.bytes >= (size_t)ar->cfg.roll_bytes ||
           gtp_mono_ms() - pt->roll_start_ms >= ar->cfg.roll_seconds * 1000;
}

/* ---- consuming ------------------------------------------------------------------------ */

static void archive_row(struct arch *ar, struct part *pt, const struct gtp_event *ev)
{
    char date[16], err[512];
    const struct gtp_skills *sk = ar->tx->skills;
    size_t n = gtp_skills_count(sk), k = 0;
    for (size_t w = 0; w < (n + 63) / 64; w++) {
        uint64_t bits = ev->skills.bits[w];
        while (bits) {
            int b = __builtin_ctzll(bits);
            bits &= bits - 1;
            ar->skill_ids[k++] = gtp_skills_id(sk, w * 64 + (size_t)b);
        }
    }
    struct gtp_parquet_row row = {
        .event_id = ev->event_id.s,
        .posted_at_us = ev->posted_us,
        .title = ev->title.s,
        .company = ev->company.s,
        .skills = ar->skill_ids,
        .n_skills = k,
        .skills_null = false,
        .experience_level = gtp_seniority_name(ev->level),
        .job_id = ev->job_id.s,
        .source = ev->source.s,
        .location = ev->location.s,
        .is_remote = ev->is_remote,
        .lens_set = true, /* JSON strings may hold "\u0000": keep every byte */
    };
    row.lens[GTP_PARQUET_EVENT_ID] = ev->event_id.len;
    row.lens[GTP_PARQUET_TITLE] = ev->title.len;
    row.lens[GTP_PARQUET_COMPANY] = ev->company.len;
    row.lens[GTP_PARQUET_EXPERIENCE_LEVEL] = strlen(row.experience_level);
    row.lens[GTP_PARQUET_JOB_ID] = ev->job_id.len;
    row.lens[GTP_PARQUET_SOURCE] = ev->source.len;
    row.lens[GTP_PARQUET_LOCATION] = ev->location.len;
    gtp_time_format_date(ev->posted_us, date, sizeof(date));
    if (arch_buckets_add(&pt->bk, date, ev->region, &row, err, sizeof(err))) {
        /* cannot happen for a validated event (UTF-8 checked, values <= 1 MiB) */
        gtp_metric_inc(ar->m_write_errors);
        gtp_log(GTP_LOG_ERROR, "archive", "row of event %.*s not archived: %s",
                (int)(ev->event_id.len > 64 ? 64 : ev->event_id.len), ev->event_id.s, err);
    }
}

static void handle_message(struct arch *ar, const rd_kafka_message_t *rkm)
{
    struct part *pt = part_get(ar, rkm->partition);
    struct gtp_event *ev = &ar->ev;
    rd_kafka_timestamp_type_t tstype;
    int64_t ref_ms;
    enum gtp_reject r;

    if (!pt || !pt->assigned || !pt->win)
        return;
    if (pt->blocked) {
        /* paused partitions may still deliver what was fetched: take it again later */
        pt->need_seek = true;
        return;
    }
    /* after a seek back, messages fetched before it may still arrive */
    if (pt->next >= 0 && rkm->offset < pt->next)
        return;
    gtp_metric_inc(ar->m_msgs);
    ref_ms = rd_kafka_message_timestamp(rkm, &tstype);
    if (ref_ms < 0)
        ref_ms = gtp_wall_us() / 1000;
    r = gtp_event_process(ev, ar->tx, rkm->payload, rkm->len, ref_ms * 1000);
    if (r != GTP_REJECT_NONE) {
        char err[256];
        gtp_metric_inc(ar->m_rejected);
        gtp_metric_inc(ar->m_rejected_by[r]);
        if (gtp_dlq_send(ar->dlq, ar->cfg.dlq_topic, rkm, gtp_reject_name(r), ev->detail, err,
                         sizeof(err))) {
            /* stopping or broken: do not move past it; it is consumed again later */
            pt->need_seek = true;
            pt->blocked = true;
            return;
        }
    } else {
        gtp_metric_inc(ar->m_valid);
        switch (gtp_window_classify(pt->win, ev->event_id.s, ev->event_id.len, ev->posted_us)) {
        case GTP_VERDICT_LATE:
            gtp_metric_inc(ar->m_late);
            archive_row(ar, pt, ev);
            break;
        case GTP_VERDICT_DUPLICATE:
            gtp_metric_inc(ar->m_dup);
            break;
        case GTP_VERDICT_COUNT:
            gtp_idlist_add(&pt->ids, gtp_window_start(ev->posted_us), ev->event_id.s,
                           ev->event_id.len);
            archive_row(ar, pt, ev);
            break;
        }
    }
    if (pt->first < 0) {
        pt->first = rkm->offset;
        pt->roll_start_ms = gtp_mono_ms();
    }
    pt->last = rkm->offset;
    pt->next = rkm->offset + 1;
}

static void set_paused(struct arch *ar, bool pause)
{
    if (ar->paused == pause)
        return;
    gtp_consumer_pause_all(ar->rk, pause);
    ar->paused = pause;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct arch *ar = opaque;
    rd_kafka_error_t *e = NULL;
    char errbuf[512];

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        int32_t *ps = gtp_xcalloc((size_t)parts->cnt + 1, sizeof(int32_t));
        size_t n = 0;
        for (int i = 0; i < parts->cnt; i++)
            if (part_get(ar, parts->elems[i].partition))
                ps[n++] = parts->elems[i].partition;
        /* Resume from the position in the Delta log, not Kafka's committed offset. The
         * log must be readable: without it we cannot know where to start. */
        int64_t backoff = 100, last_log = 0;
        bool disk_failed = false;
        int lerr;
        while (!gtp_sig_stop && (lerr = parts_load(ar, ps, n, errbuf, sizeof(errbuf)))) {
            if (gtp_mono_ms() - last_log >= 10000) {
                gtp_log(GTP_LOG_ERROR, "archive", "cannot read the log, retrying: %s", errbuf);
                last_log = gtp_mono_ms();
            }
            /* Loading writes a fencing commit: on a full or failing disk we wait here, and
             * /healthz and the disk errors counter must say so as a failed roll does. */
            if (lerr == GTP_ERR_NOSPACE || lerr == GTP_ERR_IO) {
                gtp_metric_inc(ar->m_disk_errors);
                ar->healthy_disk = 0;
                disk_failed = true;
            }
            usleep((useconds_t)backoff * 1000);
            backoff = backoff < 5000 ? backoff * 2 : 5000;
        }
        if (disk_failed && !gtp_sig_stop)
            ar->healthy_disk = 1; /* the fencing commits are on disk: writing again */
        free(ps);
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &parts->elems[i];
            struct part *pt = part_get(ar, tp->partition);
            if (!pt || !pt->assigned)
                continue;
            tp->offset = pt->next < 0 ? RD_KAFKA_OFFSET_BEGINNING : pt->next;
            gtp_log(GTP_LOG_INFO, "consumer",
                    "assigned %s[%d] from offset %" PRId64 " (%zu open dedup entries)", tp->topic,
                    (int)tp->partition, pt->next, gtp_window_dedup_size(pt->win));
        }
        e = gtp_consumer_assign(rk, parts);
        if (ar->paused)
            rd_kafka_pause_partitions(rk, parts);
        else
            rd_kafka_resume_partitions(rk, parts); /* paused earlier when fenced */
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        bool lost = rd_kafka_assignment_lost(rk);
        if (!lost) {
            bool any = false;
            for (int i = 0; i < parts->cnt && !any; i++) {
                struct part *pt = part_get(ar, parts->elems[i].partition);
                any = pt && pt->assigned && pt->first >= 0;
            }
            /* Hand over a clean position: roll what we hold (one attempt; on failure the
             * next owner simply consumes it again). */
            if (any) {
                for (int i = 0; i < parts->cnt; i++) {
                    struct part *pt = part_get(ar, parts->elems[i].partition);
                    if (pt)
                        pt->revoking = true;
                }
                roll_where(ar, want_revoking);
                for (int i = 0; i < parts->cnt; i++) {
                    struct part *pt = part_get(ar, parts->elems[i].partition);
                    if (pt)
                        pt->revoking = false;
                }
            }
        }
        for (int i = 0; i < parts->cnt; i++) {
            struct part *pt = part_get(ar, parts->elems[i].partition);
            if (pt && pt->assigned)
                discard_uncommitted(ar, pt);
            if (pt)
                part_drop(pt);
            gtp_log(GTP_LOG_INFO, "consumer", "%s %s[%d]", lost ? "lost" : "revoked",
                    parts->elems[i].topic, (int)parts->elems[i].partition);
        }
        e = gtp_consumer_unassign(rk, parts);
    } else {
        gtp_log(GTP_LOG_ERROR, "consumer", "rebalance error: %s", rd_kafka_err2str(err));
        return;
    }
    if (e) {
        gtp_log(GTP_LOG_ERROR, "consumer", "rebalance: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

static void update_gauges(struct arch *ar)
{
    double lag = 0, buffered = 0;
    for (int p = 0; p < MAX_PARTS; p++) {
        struct part *pt = ar->parts[p];
        int64_t lo, hi;
        if (!pt || !pt->assigned)
            continue;
        buffered += (double)pt->bk.rows;
        if (rd_kafka_get_watermark_offsets(ar->rk, ar->cfg.topic, p, &lo, &hi) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            hi >= 0)
            lag += (double)(hi - (pt->next < 0 ? lo : pt->next));
    }
    gtp_metric_set(ar->m_lag, lag);
    gtp_metric_set(ar->m_buffered, buffered);
}

static void reload_taxonomy(struct arch *ar)
{
    char err[512];
    struct gtp_taxonomy *tx;
    gtp_sig_reload = 0;
    tx = gtp_taxonomy_load(ar->cfg.taxonomy, err, sizeof(err));
    if (!tx) {
        gtp_log(GTP_LOG_ERROR, "taxonomy", "reload failed, keeping the old one: %s", err);
        return;
    }
    /* buffered rows hold skill ids as strings of their own: switching is safe */
    gtp_taxonomy_free(ar->tx);
    ar->tx = tx;
    gtp_log(GTP_LOG_INFO, "taxonomy", "reloaded %s (%zu skills)", ar->cfg.taxonomy,
            gtp_skills_count(tx->skills));
}

/* ---- set-up ---------------------------------------------------------------------------- */

static bool health(void *opaque, char *detail, size_t detail_size)
{
    struct arch *ar = opaque;
    if (!ar->healthy_disk) {
        snprintf(detail, detail_size, "archive writes failing");
        return false;
    }
    return true;
}

static void metrics_init(struct arch *ar)
{
    struct gtp_metrics *m = gtp_metrics_new();
    const char *o[] = {"outcome", NULL, NULL};
    ar->metrics = m;
    ar->m_msgs = gtp_metrics_counter(m, "archiver_messages", "kafka messages consumed", NULL);
    o[1] = "valid";
    ar->m_valid = gtp_metrics_counter(m, "archiver_events", "kafka messages by outcome", o);
    o[1] = "rejected";
    ar->m_rejected = gtp_metrics_counter(m, "archiver_events", "kafka messages by outcome", o);
    /* names fixed by docs/windows.md */
    ar->m_late = gtp_metrics_counter(m, "late_events", "valid events behind the watermark", NULL);
    ar->m_dup =
        gtp_metrics_counter(m, "duplicate_events", "re-sent events not archived again", NULL);
    for (int r = 1; r < GTP_REJECT_COUNT; r++) {
        const char *l[] = {"reason", gtp_reject_name((enum gtp_reject)r), NULL};
        ar->m_rejected_by[r] =
            gtp_metrics_counter(m, "rejected_events", "events sent to the dlq by reason", l);
    }
    ar->m_rows = gtp_metrics_counter(m, "archiver_rows_written", "rows in committed files", NULL);
    ar->m_files = gtp_metrics_counter(m, "archiver_files_written", "parquet files written", NULL);
    ar->m_commits = gtp_metrics_counter(m, "archiver_commits", "delta log commits", NULL);
    ar->m_roll_us = gtp_metrics_counter(m, "archiver_roll_microseconds",
                                        "time spent writing files and committing", NULL);
    ar->m_roll_last_ms =
        gtp_metrics_gauge(m, "archiver_roll_last_ms", "duration of the last roll", NULL);
    ar->m_disk_errors =
        gtp_metrics_counter(m, "archiver_disk_errors", "failed file writes or commits", NULL);
    ar->m_fenced =
        gtp_metrics_counter(m, "archiver_fenced", "commits refused: partition moved on", NULL);
    ar->m_write_errors =
        gtp_metrics_counter(m, "archiver_row_errors", "valid events the writer refused", NULL);
    ar->m_buffered = gtp_metrics_gauge(m, "archiver_buffered_rows", "rows awaiting a roll", NULL);
    ar->m_lag = gtp_metrics_gauge(m, "archiver_consumer_lag", "messages behind the log end", NULL);
    ar->m_dlq_failed =
        gtp_metrics_counter(m, "archiver_dlq_failures", "dlq delivery failures", NULL);
}

static int run(struct arch *ar)
{
    rd_kafka_message_t *rkm;
    int64_t last_gauges_ms = 0, last_check_ms = 0;
    char err[512];

    while (!gtp_sig_stop) {
        if (gtp_sig_reload)
            reload_taxonomy(ar);
        /* a failed roll: retry on backoff, consume nothing meanwhile */
        if (ar->paused && gtp_mono_ms() >= ar->retry_at_ms && roll_where(ar, want_due)) {
            for (int p = 0; p < MAX_PARTS; p++) {
                struct part *pt = ar->parts[p];
                if (pt && pt->assigned && pt->need_seek) {
                    pt->blocked = pt->need_seek = false;
                    gtp_consumer_seek(ar->rk, ar->cfg.topic, p, pt->next);
                }
            }
            set_paused(ar, false);
        }

        rkm = rd_kafka_consumer_poll(ar->rk, 50);
        gtp_refill_check(ar->refill, rkm != NULL, gtp_mono_ms());
        if (rkm) {
            if (rkm->err) {
                if (gtp_consumer_failed(ar->rk, rkm)) {
                    rd_kafka_message_destroy(rkm);
                    return GTP_EXIT_SOFTWARE;
                }
            } else {
                handle_message(ar, rkm);
                struct part *pt = part_get(ar, rkm->partition);
                if (pt && !ar->paused &&
                    (pt->bk.rows >= (size_t)ar->cfg.roll_rows ||
                     pt->bk.bytes >= (size_t)ar->cfg.roll_bytes || pt->blocked) &&
                    !roll_where(ar, want_due))
                    set_paused(ar, true);
            }
            rd_kafka_message_destroy(rkm);
        }
        gtp_producer_poll(ar->dlq, 0);
        if (gtp_producer_fatal(ar->dlq, err, sizeof(err))) {
            gtp_log(GTP_LOG_ERROR, "dlq", "fatal producer error: %s", err);
            return GTP_EXIT_SOFTWARE;
        }
        int64_t now = gtp_mono_ms();
        if (!ar->paused && now - last_check_ms >= 100) {
            last_check_ms = now;
            if (!roll_where(ar, want_due))
                set_paused(ar, true);
        }
        if (now - last_gauges_ms >= 1000) {
            update_gauges(ar);
            last_gauges_ms = now;
        }
    }
    return GTP_EXIT_OK;
}

int main(int argc, char **argv)
{
    static struct arch ar; /* large: keep it off the stack */
    char err[512];
    int rc = GTP_EXIT_OK, e;
    rd_kafka_resp_err_t kerr;
    rd_kafka_topic_partition_list_t *sub = NULL;

    if (gtp_program_init(&arch_cli, &ar.cfg, &ar.kprops, argc, argv, &rc))
        goto out;
    gtp_parquet_opts_default(&ar.popts);
    if (gtp_parquet_codec_parse(ar.cfg.codec, &ar.popts.codec) ||
        ar.popts.codec == GTP_PARQUET_UNCOMPRESSED) {
        fprintf(stderr, "gtp-archiver: --codec: '%s' is not zstd or snappy\n", ar.cfg.codec);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    if (!ar.cfg.archive_dir[0]) {
        fprintf(stderr, "gtp-archiver: --archive-dir: empty\n");
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    gtp_event_init(&ar.ev);
    metrics_init(&ar);
    ar.healthy_disk = 1;

    ar.tx = gtp_taxonomy_load(ar.cfg.taxonomy, err, sizeof(err));
    if (!ar.tx) {
        gtp_log(GTP_LOG_ERROR, "taxonomy", "%s", err);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    e = gtp_delta_create(ar.cfg.archive_dir, err, sizeof(err));
    if (e) {
        gtp_log(GTP_LOG_ERROR, "archive", "--archive-dir %s: %s", ar.cfg.archive_dir, err);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    struct arch_maint_cfg mc = {ar.cfg.archive_dir,
                                ar.cfg.topic,
                                ar.cfg.checkpoint_interval,
                                -1,
                                ar.cfg.compact_interval_s,
                                ar.cfg.target_file_size,
                                -1,
                                &ar.popts};
    if (ar.cfg.log_retention[0] &&
        gtp_delta_interval_ms(ar.cfg.log_retention, &mc.log_retention_ms)) {
        fprintf(stderr, "gtp-archiver: --log-retention: '%s' is not a duration like '30 days'\n",
                ar.cfg.log_retention);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    if (ar.cfg.vacuum_retention[0] &&
        gtp_delta_interval_ms(ar.cfg.vacuum_retention, &mc.vacuum_retention_ms)) {
        fprintf(stderr, "gtp-archiver: --vacuum-retention: '%s' is not a duration like '7 days'\n",
                ar.cfg.vacuum_retention);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    arch_maint_init(&ar.maint, &mc, ar.metrics);
    if (ar.cfg.maintain) {
        e = arch_maint_once(&ar.maint, err, sizeof(err));
        if (e) {
            gtp_log(GTP_LOG_ERROR, "archive", "maintenance of %s: %s", ar.cfg.archive_dir, err);
            rc = gtp_err_exit_code(e);
        }
        goto out;
    }
    ar.dlq = gtp_producer_new(ar.cfg.brokers, &ar.kprops, err, sizeof(err));
    if (!ar.dlq) {
        gtp_log(GTP_LOG_ERROR, "dlq", "%s", err);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    ar.rk = gtp_consumer_new(ar.cfg.brokers, ar.cfg.group, &ar.kprops, rebalance_cb, &ar, err,
                             sizeof(err));
    if (!ar.rk) {
        gtp_log(GTP_LOG_ERROR, "kafka", "%s", err);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    ar.refill = gtp_refill_start(ar.rk, GTP_REFILL_LOW, GTP_REFILL_INTERVAL_MS, err, sizeof(err));
    if (!ar.refill) {
        gtp_log(GTP_LOG_ERROR, "kafka", "%s", err);
        rc = GTP_EXIT_SOFTWARE;
        goto out;
    }
    if (gtp_kafka_wait_ready(ar.rk, NULL, NULL, (int)ar.cfg.startup_timeout_s * 1000, err,
                             sizeof(err))) {
        gtp_log(GTP_LOG_ERROR, "kafka", "%s", err);
        rc = GTP_EXIT_UNAVAILABLE;
        goto out;
    }
    if (ar.cfg.metrics_port) {
        ar.msrv = gtp_metrics_server_start(ar.metrics, (int)ar.cfg.metrics_port, health, &ar, err,
                                           sizeof(err));
        if (!ar.msrv) {
            gtp_log(GTP_LOG_ERROR, "metrics", "%s", err);
            rc = GTP_EXIT_CONFIG;
            goto out;
        }
    }
    sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, ar.cfg.topic, RD_KAFKA_PARTITION_UA);
    kerr = rd_kafka_subscribe(ar.rk, sub);
    if (kerr) {
        gtp_log(GTP_LOG_ERROR, "kafka", "subscribe %s: %s", ar.cfg.topic, rd_kafka_err2str(kerr));
        rc = GTP_EXIT_SOFTWARE;
        goto out;
    }
    gtp_log(GTP_LOG_INFO, "main", "consuming %s as group %s into %s (%s)", ar.cfg.topic,
            ar.cfg.group, ar.cfg.archive_dir, gtp_parquet_codec_name(ar.popts.codec));
    rc = run(&ar);

    /* Graceful stop: intake stopped; roll what is in flight (bounded retries), then leave
     * the group (the revoke callback finds nothing left to roll). */
    if (rc == GTP_EXIT_OK) {
        int64_t until = gtp_mono_ms() + 10000;
        while (!roll_where(&ar, want_all) && gtp_mono_ms() < until)
            usleep(200 * 1000);
    }
out:
    if (sub)
        rd_kafka_topic_partition_list_destroy(sub);
    gtp_refill_stop(ar.refill);
    gtp_consumer_close(ar.rk);
    ar.rk = NULL;
    if (ar.dlq) {
        if (gtp_producer_flush(ar.dlq, 10000, err, sizeof(err)))
            gtp_log(GTP_LOG_ERROR, "dlq", "%s", err);
        gtp_producer_free(ar.dlq);
    }
    gtp_metrics_server_stop(ar.msrv);
    gtp_metrics_free(ar.metrics);
    for (int p = 0; p < MAX_PARTS; p++) {
        if (ar.parts[p]) {
            part_drop(ar.parts[p]);
            arch_buckets_fini(&ar.parts[p]->bk);
            gtp_idlist_fini(&ar.parts[p]->ids);
            free(ar.parts[p]);
        }
    }
    gtp_event_fini(&ar.ev);
    gtp_taxonomy_free(ar.tx);
    gtp_cfg_free(&arch_cli, &ar.cfg, &ar.kprops);
    return rc;
}
