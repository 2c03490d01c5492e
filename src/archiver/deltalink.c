/* The archiver roll's real seams (see deltalink.h). */
#include "deltalink.h"

#include "handover.h"
#include "state.h"
#include "gtp/consumer.h"
#include "gtp/log.h"

static int write_files(void *ctx, int32_t p, struct part *pt, size_t *nfiles, char *errstr,
                       size_t errstr_size)
{
    struct deltalink *l = ctx;
    return arch_buckets_write(&pt->bk, l->root, p, pt->first, pt->last, nfiles, errstr,
                              errstr_size);
}

static int commit(void *ctx, const struct gtp_delta_add *adds, size_t nadds,
                  const struct gtp_delta_txn *txns, size_t ntxn, json_t *info, int64_t *version,
                  size_t *fenced_at, char *errstr, size_t errstr_size)
{
    struct deltalink *l = ctx;
    return gtp_delta_commit_multi(l->root, adds, nadds, txns, ntxn, ARCH_INFO_KEY, info, version,
                                  fenced_at, errstr, errstr_size);
}

static bool dlq_durable(void *ctx)
{
    return gtp_daemon_dlq_durable(((struct deltalink *)ctx)->d, "archived");
}

bool deltalink_reload(void *ctx, int32_t p)
{
    struct deltalink *l = ctx;
    char err[512];
    if (handover_take(l->d, l->root, l->topic, &p, 1, err, sizeof(err))) {
        gtp_log(GTP_LOG_ERROR, "archive", "partition %d: cannot read the log: %s", (int)p, err);
        return false;
    }
    gtp_daemon_seek(l->d, p, l->d->parts[p]->next);
    return true;
}

static void discard(void *ctx, struct part *pt)
{
    handover_discard(((struct deltalink *)ctx)->root, pt);
}

static void pause_one(void *ctx, int32_t p)
{
    gtp_daemon_pause_one(((struct deltalink *)ctx)->d, p);
}

static void seek(void *ctx, int32_t p, int64_t offset)
{
    gtp_daemon_seek(((struct deltalink *)ctx)->d, p, offset);
}

static void store_offset(void *ctx, int32_t p, int64_t offset)
{
    gtp_daemon_store_offset(((struct deltalink *)ctx)->d, p, offset);
}

static void committed(void *ctx, int64_t version)
{
    arch_maint_committed(((struct deltalink *)ctx)->maint, version);
}

const struct roll_ops deltalink_ops = {
    write_files, commit, dlq_durable,  deltalink_reload, discard,
    pause_one,   seek,   store_offset, committed,
};
