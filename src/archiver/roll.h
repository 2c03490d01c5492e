/* The archiver's roll (docs/archive.md): when a roll is due, which partitions roll together
 * (every assigned one with rows, or blocked, in ONE Delta commit; on a revoke only the
 * revoked ones), their txn positions fenced by the log version each last read, what a fenced
 * partition, a stale read or a disk error does, and how a partition's position moves after
 * the commit. Files, the Delta log and Kafka are reached only through struct roll_ops, so
 * unit tests drive every decision without a disk or a broker. Single-threaded. */
#ifndef GTP_ARCHIVER_ROLL_H
#define GTP_ARCHIVER_ROLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bucket.h"
#include "gtp/daemon.h"
#include "gtp/delta.h"
#include "gtp/metrics.h"
#include "gtp/parquet.h"
#include "gtp/window.h"

/* One partition of the archiver (a slot of the daemon's table: dp first). */
struct part {
    struct gtp_daemon_part dp; /* assigned; next: next offset to process, -1 the beginning */
    int64_t committed;         /* txn version in the log: last offset archived, -1 none */
    int64_t first, last;       /* offsets of the current roll, first -1 when nothing consumed */
    int64_t roll_start_ms;
    int64_t seen_version; /* the log was read up to here with no foreign txn for us */
    bool blocked;         /* a roll failed: consume nothing until it is retried */
    bool need_seek;       /* messages were refused while blocked: seek back to next */
    bool revoking;        /* being revoked: rolled on its own before it goes */
    /* catching up (roll_note_end): seen at least catchup_rows behind the end of the log
     * since it was last at the end; caught_up: it then reached the end with rows to roll */
    bool behind, caught_up;
    bool end_known; /* a high watermark was seen since it was assigned */
    struct gtp_window *win;
    struct arch_buckets bk;
};

/* The seams (ctx is roll.ctx). */
struct roll_ops {
    /* Write pt's buffers as p's files of offsets [pt->first, pt->last]; *nfiles written. */
    int (*write)(void *ctx, int32_t p, struct part *pt, size_t *nfiles, char *errstr,
                 size_t errstr_size);
    /* gtp_delta_commit_multi on the table (info borrowed). */
    int (*commit)(void *ctx, const struct gtp_delta_add *adds, size_t nadds,
                  const struct gtp_delta_txn *txns, size_t ntxn, json_t *info, int64_t *version,
                  size_t *fenced_at, char *errstr, size_t errstr_size);
    /* Every dead letter so far acknowledged? false: some failed (logged). */
    bool (*dlq_durable)(void *ctx);
    /* Reload p from the log (a fencing commit, its crashed rolls removed) and consume it
     * from there; false when the log could not be read (logged). */
    bool (*reload)(void *ctx, int32_t p);
    /* Remove the files of pt's current roll that no commit references. */
    void (*discard)(void *ctx, struct part *pt);
    /* Stop fetching p (fenced: until Kafka's rebalance says what we own). */
    void (*pause)(void *ctx, int32_t p);
    /* Consume p from offset (< 0: the beginning). */
    void (*seek)(void *ctx, int32_t p, int64_t offset);
    /* Kafka's committed offset of p follows the log (for lag tools only). */
    void (*store_offset)(void *ctx, int32_t p, int64_t offset);
    /* A commit landed as version (maintenance counts them); may be NULL. */
    void (*committed)(void *ctx, int64_t version);
};

struct roll {
    const struct roll_ops *ops;
    void *ctx;
    struct gtp_daemon *d; /* borrowed: the partition table, health */
    const char *topic;    /* borrowed */
    long long roll_rows, roll_bytes, roll_seconds;
    long long catchup_rows;                           /* 0: no catch-up rolls */
    int64_t retry_at_ms, backoff_ms, last_err_log_ms; /* after a failed roll */
    /* set by roll_metrics; NULL: not counted */
    struct gtp_metric *m_rows, *m_files, *m_commits, *m_seconds, *m_last, *m_disk_errors;
    struct gtp_metric *m_fenced;
};

/* Which partitions a roll is for: due (by rows, bytes, age or blocked), every one (stop),
 * only the ones being revoked. */
enum roll_want { ROLL_DUE, ROLL_ALL, ROLL_REVOKING };

void roll_init(struct roll *r, struct gtp_daemon *d, const struct roll_ops *ops, void *ctx,
               const char *topic, long long roll_rows, long long roll_bytes, long long roll_seconds,
               long long catchup_rows);

/* Register archiver_rows_written, _files_written, _commits, _roll_duration_seconds,
 * _roll_last_seconds, _disk_errors, _fenced in m. */
void roll_metrics(struct roll *r, struct gtp_metrics *m);

/* Daemon hooks for the partition slots; popts (borrowed) is the opaque of part_new. */
struct gtp_daemon_part *roll_part_new(void *popts, int32_t partition);
void roll_part_free(void *opaque, struct gtp_daemon_part *dp);

/* Forget everything in flight for pt (its rows will be consumed again). */
void roll_part_drop(struct part *pt);

/* Note where p's log starts and ends (low, high: Kafka's watermarks as last fetched, < 0
 * unknown) after pt's messages so far were applied (a partition that consumed nothing yet
 * is at low). A partition seen at least
 * r->catchup_rows messages behind it is catching up a backlog; when it then reaches the end
 * with rows buffered it has caught up (returns true), and once no assigned partition is
 * still catching up, a roll is due at once (a catch-up roll, roll_catchup_due,
 * docs/archive.md) instead of after --roll-seconds. A partition that never falls that far
 * behind (a live stream the archiver keeps up with) never catches up, so light load does
 * not make small files. */
bool roll_note_end(const struct roll *r, struct part *pt, int64_t low, int64_t high);

/* Whether a catch-up roll is due: some assigned partition has caught up with rows to roll
 * and none is still catching up or of unknown end (one roll at the end of a backlog, not
 * one per partition as each reaches its end). roll_where(ROLL_DUE) rolls then. */
bool roll_catchup_due(const struct roll *r);

/* Whether pt must roll now for want (rows, bytes, age at now_ms, blocked). */
bool roll_part_wants(const struct roll *r, const struct part *pt, enum roll_want want,
                     int64_t now_ms);

/* A roll, when want holds for some partition: every assigned partition with rows (or
 * blocked) rolls with it in one commit, so commits and files follow the roll policy rather
 * than the number of partitions; ROLL_REVOKING takes only the partitions being revoked.
 * Dead letters are made durable first (when they failed, every partition is reloaded from
 * the log). A fenced partition is dropped and the others committed again. Returns false
 * when the roll failed: the partitions not committed are blocked with their rows kept, and
 * the next try waits for retry_at_ms. */
bool roll_where(struct roll *r, enum roll_want want);

/* After a failed roll, when its retry is due: roll again, and on success unblock every
 * partition (seeking back where messages were refused). True when rolled. */
bool roll_retry(struct roll *r, int64_t now_ms);

/* Count a disk error (what failed, e) for the metrics and /healthz, log it once per 10 s,
 * and back off the next retry (100 ms doubling to 5 s). */
void roll_disk_error(struct roll *r, const char *what, int e, const char *err);

#endif
