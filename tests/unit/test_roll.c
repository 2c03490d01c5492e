/* The archiver's roll and its fence (roll.h, docs/archive.md) against a model of the Delta
 * log's txn rule: which partitions one commit carries and with which positions and read
 * versions, what a fenced partition, a stale read, a disk error or failed dead letters do,
 * and how positions move after the commit. Files, the log and Kafka are the fake
 * struct roll_ops below. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roll.h"
#include "gtp/err.h"
#include "gtp/util.h"

#define NP 8

struct fake {
    /* the log: its version and, per partition, the version of the last txn by another
     * writer (-1 none) and the txn position */
    int64_t version;
    int64_t foreign_at[NP];
    int64_t txn[NP];
    int write_err[NP]; /* the next write of p fails with this */
    int commit_err;    /* the next commit fails with this */
    bool dlq_ok;
    int writes, commits, commit_tries;
    struct gtp_delta_txn last[NP]; /* txns of the last commit that landed */
    int32_t last_parts[NP];
    size_t nlast, last_info;
    int reloads[NP], discards[NP], pauses[NP];
    int64_t seek[NP], kafka_offset[NP]; /* -2: never */
    int64_t maint_version;
};

static int32_t partition_of(const char *app_id)
{
    return (int32_t)atoi(strrchr(app_id, '-') + 1);
}

static int f_write(void *ctx, int32_t p, struct part *pt, size_t *nfiles, char *errstr,
                   size_t errstr_size)
{
    struct fake *fk = ctx;
    (void)pt;
    fk->writes++;
    if (fk->write_err[p]) {
        int e = fk->write_err[p];
        fk->write_err[p] = 0;
        snprintf(errstr, errstr_size, "disk");
        return e;
    }
    *nfiles = 1;
    return 0;
}

/* The log's rule: a txn whose partition another writer committed after the version this
 * writer read is fenced, and nothing is written. */
static int f_commit(void *ctx, const struct gtp_delta_add *adds, size_t nadds,
                    const struct gtp_delta_txn *txns, size_t ntxn, json_t *info, int64_t *version,
                    size_t *fenced_at, char *errstr, size_t errstr_size)
{
    struct fake *fk = ctx;
    (void)adds;
    (void)nadds;
    fk->commit_tries++;
    if (fk->commit_err) {
        int e = fk->commit_err;
        fk->commit_err = 0;
        snprintf(errstr, errstr_size, "log");
        return e;
    }
    for (size_t i = 0; i < ntxn; i++) {
        if (fk->foreign_at[partition_of(txns[i].app_id)] > txns[i].seen_version) {
            *fenced_at = i;
            snprintf(errstr, errstr_size, "fenced");
            return GTP_ERR_FENCED;
        }
    }
    *version = ++fk->version;
    fk->commits++;
    fk->nlast = ntxn;
    fk->last_info = json_array_size(info);
    for (size_t i = 0; i < ntxn; i++) {
        int32_t p = partition_of(txns[i].app_id);
        fk->last[i] = txns[i];
        fk->last_parts[i] = p;
        fk->txn[p] = txns[i].version;
    }
    return 0;
}

static bool f_dlq(void *ctx)
{
    return ((struct fake *)ctx)->dlq_ok;
}

static bool f_reload(void *ctx, int32_t p)
{
    ((struct fake *)ctx)->reloads[p]++;
    return true;
}

static void f_discard(void *ctx, struct part *pt)
{
    (void)pt;
    ((struct fake *)ctx)->discards[0]++;
}

static void f_pause(void *ctx, int32_t p)
{
    ((struct fake *)ctx)->pauses[p]++;
}

static void f_seek(void *ctx, int32_t p, int64_t offset)
{
    ((struct fake *)ctx)->seek[p] = offset;
}

static void f_store(void *ctx, int32_t p, int64_t offset)
{
    ((struct fake *)ctx)->kafka_offset[p] = offset;
}

static void f_committed(void *ctx, int64_t version)
{
    ((struct fake *)ctx)->maint_version = version;
}

static const struct roll_ops fake_ops = {f_write, f_commit, f_dlq,   f_reload,   f_discard,
                                         f_pause, f_seek,   f_store, f_committed};

static const struct gtp_daemon_hooks hooks = {.part_new = roll_part_new,
                                              .part_free = roll_part_free};

struct rig {
    struct fake fk;
    struct gtp_parquet_opts popts;
    struct gtp_daemon d;
    struct roll r;
};

static struct part *part(struct rig *g, int p)
{
    return (struct part *)g->d.parts[p];
}

/* Partitions 0..2 assigned as after a take-over at log version 5: 0 committed up to 99, 1 up
 * to 199, 2 never. Rolls by 1000 rows, 1 MiB or 300 s, or on catching up after 500 behind. */
static int setup(void **state)
{
    struct rig *g = calloc(1, sizeof(*g));
    g->fk.version = 5;
    g->fk.dlq_ok = true;
    for (int p = 0; p < NP; p++) {
        g->fk.foreign_at[p] = g->fk.txn[p] = -1;
        g->fk.seek[p] = g->fk.kafka_offset[p] = -2;
    }
    gtp_parquet_opts_default(&g->popts);
    g->d.cfg.hooks = &hooks;
    g->d.cfg.opaque = &g->popts;
    g->d.healthy = 1;
    roll_init(&g->r, &g->d, &fake_ops, &g->fk, "t", 1000, 1 << 20, 300, 500);
    for (int p = 0; p < 3; p++) {
        struct part *pt = (struct part *)gtp_daemon_part(&g->d, p);
        pt->dp.assigned = true;
        pt->win = gtp_window_new();
        pt->committed = p < 2 ? 99 + 100 * p : -1;
        pt->dp.next = p < 2 ? pt->committed + 1 : -1;
        pt->seen_version = 5;
    }
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    struct rig *g = *state;
    for (int p = 0; p < NP; p++)
        if (g->d.parts[p])
            roll_part_free(NULL, g->d.parts[p]);
    free(g);
    return 0;
}

/* Consume offsets [from, to] of p as handle_message does, holding rows rows in total. */
static void consume(struct rig *g, int p, int64_t from, int64_t to, size_t rows)
{
    struct part *pt = part(g, p);
    if (pt->first < 0) {
        pt->first = from;
        pt->roll_start_ms = gtp_mono_ms();
    }
    pt->last = to;
    pt->dp.next = to + 1;
    pt->bk.rows = rows;
}

static void test_when_due(void **state)
{
    struct rig *g = *state;
    struct part *pt = part(g, 0);
    int64_t now = gtp_mono_ms();
    consume(g, 0, 100, 109, 10);
    assert_false(roll_part_wants(&g->r, pt, ROLL_DUE, now));
    assert_true(roll_part_wants(&g->r, pt, ROLL_DUE, now + 300 * 1000)); /* by age */
    assert_true(roll_part_wants(&g->r, pt, ROLL_ALL, now));
    assert_false(roll_part_wants(&g->r, pt, ROLL_REVOKING, now));
    pt->bk.rows = 1000;
    assert_true(roll_part_wants(&g->r, pt, ROLL_DUE, now));
    pt->bk.rows = 10;
    pt->bk.bytes = 1 << 20;
    assert_true(roll_part_wants(&g->r, pt, ROLL_DUE, now));
    pt->bk.bytes = 0;
    pt->blocked = true;
    assert_true(roll_part_wants(&g->r, pt, ROLL_DUE, now));
    pt->blocked = false;
    /* nothing due: no dead-letter wait, no files, no commit */
    assert_true(roll_where(&g->r, ROLL_DUE));
    assert_int_equal(g->fk.writes + g->fk.commit_tries, 0);
}

/* A backlog (500 or more behind the end of the log) rolls as soon as every partition that
 * was behind has consumed it, not --roll-seconds later; a partition that keeps up with its
 * log never does. */
static void test_catch_up_roll(void **state)
{
    struct rig *g = *state;
    struct part *p0 = part(g, 0), *p1 = part(g, 1), *p2 = part(g, 2);
    int64_t now = gtp_mono_ms();
    /* p1 follows a live stream: never 500 behind, so at the end it waits for its age */
    consume(g, 1, 200, 209, 10);
    assert_false(roll_note_end(&g->r, p1, 0, 700)); /* 490 behind */
    consume(g, 1, 210, 699, 500);
    assert_false(roll_note_end(&g->r, p1, 0, 700));
    assert_false(roll_catchup_due(&g->r));
    assert_false(roll_part_wants(&g->r, p1, ROLL_DUE, now));
    /* p2 not fetched yet (end unknown), or about to start a backlog: nothing due */
    assert_false(roll_note_end(&g->r, p2, -1, -1));
    assert_false(roll_catchup_due(&g->r));
    assert_false(p2->end_known);
    /* p0 and p2 start 1000 behind: nothing due while behind, nor from unknown watermarks */
    assert_false(roll_note_end(&g->r, p2, 0, 1010)); /* nothing consumed: at low, 0 */
    assert_true(p2->behind);
    consume(g, 0, 100, 109, 10);
    assert_false(roll_note_end(&g->r, p0, 0, 1110));
    assert_false(roll_note_end(&g->r, p0, 0, -1));
    consume(g, 2, 0, 9, 10);
    assert_false(roll_note_end(&g->r, p2, 0, 1010));
    consume(g, 0, 110, 1100, 900);
    assert_false(roll_note_end(&g->r, p0, 0, 1110));
    assert_true(roll_where(&g->r, ROLL_DUE));
    assert_int_equal(g->fk.commits, 0);
    /* p0 at the end, p2 still catching up: p0 waits for it (one roll per backlog) */
    consume(g, 0, 1101, 1109, 909);
    assert_true(roll_note_end(&g->r, p0, 0, 1110));
    assert_false(roll_catchup_due(&g->r));
    assert_true(roll_where(&g->r, ROLL_DUE));
    assert_int_equal(g->fk.commits, 0);
    /* p2 at the end too: due at once, and it rolls every partition holding rows */
    consume(g, 2, 10, 1009, 1000 - 1);
    assert_true(roll_note_end(&g->r, p2, 0, 1010));
    assert_true(roll_catchup_due(&g->r));
    assert_true(roll_where(&g->r, ROLL_DUE));
    assert_int_equal(g->fk.commits, 1);
    assert_int_equal(g->fk.nlast, 3);
    assert_int_equal(p0->committed, 1109);
    assert_int_equal(p2->committed, 1009);
    /* done: the next rows at the end of the log wait for their age again */
    assert_false(roll_note_end(&g->r, p0, 0, 1110));
    consume(g, 0, 1110, 1111, 2);
    assert_false(roll_note_end(&g->r, p0, 0, 1112));
    assert_false(roll_catchup_due(&g->r));
    assert_false(roll_part_wants(&g->r, p0, ROLL_DUE, now));
    /* caught up with nothing buffered (rolled on the way): nothing due */
    p1->first = -1;
    assert_false(roll_note_end(&g->r, p1, 0, 2000));
    consume(g, 1, 700, 1999, 0);
    p1->first = -1;
    assert_false(roll_note_end(&g->r, p1, 0, 2000));
    assert_false(p1->behind);
    /* --catchup-rows 0: never */
    g->r.catchup_rows = 0;
    consume(g, 2, 1010, 1010, 1);
    assert_false(roll_note_end(&g->r, p2, 0, 100000));
    consume(g, 2, 1011, 99999, 1000);
    assert_false(roll_note_end(&g->r, p2, 0, 100000));
    assert_false(roll_catchup_due(&g->r));
}

static void test_one_commit_for_every_partition_with_rows(void **state)
{
    struct rig *g = *state;
    consume(g, 0, 100, 109, 1000); /* due */
    consume(g, 1, 200, 204, 3);    /* not due, rolls with it */
    assert_true(roll_where(&g->r, ROLL_DUE));
    assert_int_equal(g->fk.commits, 1);
    assert_int_equal(g->fk.writes, 2);
    assert_int_equal(g->fk.nlast, 2);
    assert_int_equal(g->fk.last_info, 2); /* one state entry per partition */
    assert_int_equal(g->fk.last_parts[0], 0);
    assert_int_equal(g->fk.last[0].version, 109);
    assert_int_equal(g->fk.last[0].seen_version, 5); /* the fence: what we read */
    assert_int_equal(g->fk.last_parts[1], 1);
    assert_int_equal(g->fk.last[1].version, 204);
    /* positions moved with the commit */
    assert_int_equal(part(g, 0)->committed, 109);
    assert_int_equal(part(g, 0)->first, -1);
    assert_int_equal(part(g, 0)->bk.rows, 0);
    assert_int_equal(part(g, 0)->seen_version, 6);
    assert_int_equal(part(g, 1)->committed, 204);
    assert_int_equal(g->fk.kafka_offset[0], 110);
    assert_int_equal(g->fk.kafka_offset[1], 205);
    assert_int_equal(g->fk.kafka_offset[2], -2);
    /* partition 2 had read up to 5 and our commit 6 holds no txn of it */
    assert_int_equal(part(g, 2)->seen_version, 6);
    assert_int_equal(g->fk.maint_version, 6);
}

static void test_fenced_partition_dropped_others_committed(void **state)
{
    struct rig *g = *state;
    consume(g, 0, 100, 109, 1000);
    consume(g, 1, 200, 204, 3);
    g->fk.foreign_at[1] = 6; /* a newer owner fenced partition 1 after our read */
    g->fk.version = 6;
    assert_true(roll_where(&g->r, ROLL_DUE));
    assert_int_equal(g->fk.commit_tries, 2);
    assert_int_equal(g->fk.commits, 1);
    assert_int_equal(g->fk.nlast, 1);
    assert_int_equal(g->fk.last_parts[0], 0);
    assert_false(part(g, 1)->dp.assigned);
    assert_int_equal(part(g, 1)->first, -1);
    assert_int_equal(g->fk.txn[1], -1); /* never moved by us */
    assert_int_equal(g->fk.kafka_offset[1], -2);
    assert_int_equal(g->fk.pauses[1], 1);
    assert_int_equal(g->fk.discards[0], 1);
    assert_int_equal(part(g, 0)->committed, 109);
}

static void test_stale_read_reloads(void **state)
{
    struct rig *g = *state;
    consume(g, 0, 100, 109, 1000);
    g->fk.commit_err = GTP_ERR_STALE;
    assert_true(roll_where(&g->r, ROLL_DUE));
    assert_int_equal(g->fk.commits, 0);
    assert_int_equal(g->fk.reloads[0], 1);
    assert_int_equal(g->fk.kafka_offset[0], -2);
}

static void test_disk_error_blocks_keeps_rows_and_retries(void **state)
{
    struct rig *g = *state;
    consume(g, 0, 100, 109, 1000);
    consume(g, 1, 200, 204, 3);
    part(g, 1)->need_seek = true; /* messages refused meanwhile would be re-read */
    g->fk.write_err[1] = GTP_ERR_NOSPACE;
    assert_false(roll_where(&g->r, ROLL_DUE));
    assert_int_equal(g->fk.commit_tries, 0);
    assert_true(part(g, 0)->blocked);
    assert_true(part(g, 1)->blocked);
    assert_int_equal(part(g, 1)->first, 200); /* rows kept for the retry */
    assert_int_equal(part(g, 1)->committed, 199);
    assert_false(gtp_daemon_healthy(&g->d));
    assert_true(g->r.retry_at_ms > 0);
    /* not before the backoff */
    assert_false(roll_retry(&g->r, g->r.retry_at_ms - 1));
    assert_int_equal(g->fk.commit_tries, 0);
    assert_true(roll_retry(&g->r, g->r.retry_at_ms));
    assert_int_equal(g->fk.commits, 1);
    assert_false(part(g, 1)->blocked);
    assert_int_equal(part(g, 1)->committed, 204);
    assert_int_equal(g->fk.seek[1], 205);
    assert_true(gtp_daemon_healthy(&g->d));
}

static void test_commit_error_moves_nothing(void **state)
{
    struct rig *g = *state;
    consume(g, 0, 100, 109, 1000);
    g->fk.commit_err = GTP_ERR_IO;
    assert_false(roll_where(&g->r, ROLL_DUE));
    assert_true(part(g, 0)->blocked);
    assert_int_equal(part(g, 0)->committed, 99);
    assert_int_equal(g->fk.kafka_offset[0], -2);
    assert_true(roll_where(&g->r, ROLL_DUE)); /* blocked rolls are due */
    assert_int_equal(part(g, 0)->committed, 109);
    assert_false(part(g, 0)->blocked);
}

static void test_dead_letters_first(void **state)
{
    struct rig *g = *state;
    consume(g, 0, 100, 109, 1000);
    g->fk.dlq_ok = false;
    assert_false(roll_where(&g->r, ROLL_DUE));
    assert_int_equal(g->fk.writes + g->fk.commit_tries, 0);
    for (int p = 0; p < 3; p++)
        assert_int_equal(g->fk.reloads[p], 1); /* everything re-consumed from the log */
}

static void test_revoking_rolls_only_those(void **state)
{
    struct rig *g = *state;
    consume(g, 0, 100, 109, 5);
    consume(g, 1, 200, 204, 3);
    part(g, 1)->revoking = true;
    assert_true(roll_where(&g->r, ROLL_REVOKING));
    assert_int_equal(g->fk.nlast, 1);
    assert_int_equal(g->fk.last_parts[0], 1);
    assert_int_equal(part(g, 0)->first, 100); /* still buffered */
    assert_true(roll_where(&g->r, ROLL_ALL));
    assert_int_equal(g->fk.last_parts[0], 0);
    assert_int_equal(part(g, 0)->committed, 109);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_when_due, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catch_up_roll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_commit_for_every_partition_with_rows, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fenced_partition_dropped_others_committed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stale_read_reloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_error_blocks_keeps_rows_and_retries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_commit_error_moves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_letters_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoking_rolls_only_those, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
