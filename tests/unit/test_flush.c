/* The processor's flush fence (flush.h, docs/redis.md) against a model of Redis's flush
 * script: which partitions a flush carries and with which expected positions, one flush in
 * flight, what applied / already applied / fenced replies and lost connections do to the
 * positions, and the restart from Redis afterwards. Redis and Kafka are the fake
 * struct flush_ops below; the script's rule is modelled here, independently of store.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "flush.h"
#include "gtp/err.h"

#define NP 8

/* Redis as the flush script sees it, plus what Kafka was told. */
struct fake {
    int64_t stored[NP]; /* gtp:part:{topic}:{p} next */
    bool up;            /* connection answers */
    bool dlq_ok;
    bool poll_fails, poll_pending;
    int sends, loads, losts;
    /* the flush in flight, copied at send */
    struct store_part sent[NP];
    size_t nsent;
    bool inflight;
    int64_t seek[NP], kafka_offset[NP]; /* -2: never */
};

static bool f_ensure(void *ctx)
{
    return ((struct fake *)ctx)->up;
}

static bool f_wait(void *ctx)
{
    return ((struct fake *)ctx)->up;
}

static void f_lost(void *ctx, const char *why)
{
    struct fake *fk = ctx;
    (void)why;
    fk->losts++;
}

static int f_load(void *ctx, int32_t p, int64_t *next, struct gtp_window *w, char *errstr,
                  size_t errstr_size)
{
    struct fake *fk = ctx;
    (void)w;
    if (!fk->up) {
        snprintf(errstr, errstr_size, "down");
        return GTP_ERR_REDIS;
    }
    fk->loads++;
    *next = fk->stored[p];
    return 0;
}

static int f_send(void *ctx, const struct store_flush *f, char *errstr, size_t errstr_size)
{
    struct fake *fk = ctx;
    if (!fk->up) {
        snprintf(errstr, errstr_size, "down");
        return GTP_ERR_REDIS;
    }
    assert_false(fk->inflight); /* one flush in flight per connection */
    fk->sends++;
    fk->nsent = f->nparts;
    memcpy(fk->sent, f->parts, f->nparts * sizeof(*f->parts));
    fk->inflight = true;
    return 0;
}

/* The script's rule: every partition at expected → apply; every one at new_next already →
 * "already applied"; anything else → fenced, nothing written. */
static int f_poll(void *ctx, int timeout_ms, enum store_result *res, int32_t *fenced, char *errstr,
                  size_t errstr_size)
{
    struct fake *fk = ctx;
    bool all_expected = true, all_new = true;
    (void)timeout_ms;
    assert_true(fk->inflight);
    if (fk->poll_pending)
        return 0;
    if (fk->poll_fails) {
        fk->inflight = false;
        snprintf(errstr, errstr_size, "connection reset");
        return GTP_ERR_REDIS;
    }
    fk->inflight = false;
    for (size_t k = 0; k < fk->nsent; k++) {
        const struct store_part *sp = &fk->sent[k];
        all_expected = all_expected && fk->stored[sp->partition] == sp->expected_next;
        all_new = all_new && fk->stored[sp->partition] == sp->new_next;
        if (fk->stored[sp->partition] != sp->expected_next &&
            fk->stored[sp->partition] != sp->new_next)
            *fenced = sp->partition;
    }
    if (all_expected) {
        for (size_t k = 0; k < fk->nsent; k++)
            fk->stored[fk->sent[k].partition] = fk->sent[k].new_next;
        *res = STORE_APPLIED;
    } else if (all_new) {
        *res = STORE_ALREADY;
    } else {
        *res = STORE_FENCED;
    }
    return 1;
}

static bool f_dlq(void *ctx)
{
    return ((struct fake *)ctx)->dlq_ok;
}

static void f_seek(void *ctx, int32_t p, int64_t offset)
{
    ((struct fake *)ctx)->seek[p] = offset;
}

static void f_store(void *ctx, int32_t p, int64_t offset)
{
    ((struct fake *)ctx)->kafka_offset[p] = offset;
}

static const struct flush_ops fake_ops = {f_ensure, f_wait, f_lost, f_load, f_send,
                                          f_poll,   f_dlq,  f_seek, f_store};

static const struct gtp_daemon_hooks hooks = {.part_new = flush_part_new,
                                              .part_free = flush_part_free};

struct rig {
    struct fake fk;
    struct gtp_daemon d;
    struct flush fl;
};

static struct part *part(struct rig *r, int p)
{
    return (struct part *)r->d.parts[p];
}

/* Partitions 0..2 assigned from the fake's positions: 0 at 10, 1 at 20, 2 never stored. */
static int setup(void **state)
{
    struct rig *r = calloc(1, sizeof(*r));
    r->fk.up = r->fk.dlq_ok = true;
    for (int p = 0; p < NP; p++)
        r->fk.seek[p] = r->fk.kafka_offset[p] = -2;
    r->fk.stored[0] = 10;
    r->fk.stored[1] = 20;
    r->fk.stored[2] = STORE_NO_OFFSET;
    r->d.cfg.hooks = &hooks;
    flush_init(&r->fl, &r->d, &fake_ops, &r->fk, "t", 250, 1000, 20, 3600);
    for (int p = 0; p < 3; p++)
        assert_true(flush_part_load(&r->fl, p, (struct part *)gtp_daemon_part(&r->d, p)));
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    struct rig *r = *state;
    for (int p = 0; p < NP; p++)
        if (r->d.parts[p])
            flush_part_free(NULL, r->d.parts[p]);
    flush_fini(&r->fl);
    free(r);
    return 0;
}

/* Consume up to next on p (as apply_item does). */
static void consume(struct rig *r, int p, int64_t next)
{
    part(r, p)->dp.next = next;
    r->fl.pending_events++;
}

/* An employer element as the flush's send stages it (hllsent.h), and whether the flush
 * remembers it as in redis. */
static void stage_one(struct rig *r)
{
    hllsent_stage(&r->fl.sent, 7, 0, 42);
}

static bool known_one(struct rig *r)
{
    return hllsent_known(&r->fl.sent, 7, 0, 42);
}

static void test_flush_carries_progress_fenced_by_stored(void **state)
{
    struct rig *r = *state;
    consume(r, 0, 15);
    consume(r, 2, 5);
    assert_true(flush_start(&r->fl));
    assert_int_equal(r->fk.sends, 1);
    assert_int_equal(r->fk.nsent, 2); /* partition 1 made no progress */
    assert_int_equal(r->fk.sent[0].partition, 0);
    assert_int_equal(r->fk.sent[0].expected_next, 10);
    assert_int_equal(r->fk.sent[0].new_next, 15);
    assert_int_equal(r->fk.sent[1].partition, 2);
    assert_int_equal(r->fk.sent[1].expected_next, STORE_NO_OFFSET);
    assert_int_equal(r->fk.sent[1].new_next, 5);
    assert_int_equal(r->fl.pending_events, 0);
    /* positions move only with the reply */
    assert_int_equal(part(r, 0)->stored_next, 10);
    assert_int_equal(r->fk.kafka_offset[0], -2);
    stage_one(r);
    assert_false(known_one(r));
    assert_int_equal(flush_collect(&r->fl, 0), 1);
    assert_true(known_one(r)); /* applied: its employer elements are in redis */
    assert_int_equal(part(r, 0)->stored_next, 15);
    assert_int_equal(part(r, 2)->stored_next, 5);
    assert_int_equal(r->fk.kafka_offset[0], 15);
    assert_int_equal(r->fk.kafka_offset[2], 5);
    assert_int_equal(r->fk.kafka_offset[1], -2);
    assert_false(r->fl.need_reload);
}

static void test_one_flush_in_flight(void **state)
{
    struct rig *r = *state;
    consume(r, 0, 11);
    assert_true(flush_start(&r->fl));
    r->fk.poll_pending = true;
    assert_int_equal(flush_collect(&r->fl, 0), 0);
    consume(r, 0, 12);
    assert_false(flush_due(&r->fl, INT64_MAX / 2, true));
    assert_false(flush_start(&r->fl)); /* refused, not sent */
    assert_int_equal(r->fk.sends, 1);
    r->fk.poll_pending = false;
    assert_int_equal(flush_collect(&r->fl, 0), 1);
    assert_int_equal(part(r, 0)->stored_next, 11); /* what that flush carried, no more */
    assert_true(flush_sync(&r->fl));
    assert_int_equal(r->fk.sent[0].expected_next, 11);
    assert_int_equal(part(r, 0)->stored_next, 12);
}

static void test_fenced_flush_moves_nothing_and_reloads(void **state)
{
    struct rig *r = *state;
    consume(r, 0, 15);
    consume(r, 1, 25);
    r->fk.stored[1] = 23; /* another owner flushed partition 1 meanwhile */
    assert_true(flush_start(&r->fl));
    stage_one(r);
    assert_int_equal(flush_collect(&r->fl, 0), -1);
    assert_false(known_one(r)); /* not written */
    assert_true(r->fl.need_reload);
    assert_int_equal(r->fk.stored[0], 10); /* the script wrote nothing */
    assert_int_equal(part(r, 0)->stored_next, 10);
    assert_int_equal(part(r, 1)->stored_next, 20);
    assert_int_equal(r->fk.kafka_offset[0], -2);
    assert_int_equal(r->fk.kafka_offset[1], -2);
    /* nothing more is sent until the state is reloaded from redis */
    consume(r, 0, 16);
    assert_false(flush_start(&r->fl));
    assert_false(flush_sync(&r->fl));
    assert_int_equal(r->fk.sends, 1);
    uint64_t epoch = part(r, 0)->epoch;
    assert_false(flush_settle(&r->fl)); /* discards and reloads */
    assert_false(r->fl.need_reload);
    assert_int_equal(r->fl.pending_events, 0);
    assert_int_equal(part(r, 0)->dp.next, 10);
    assert_int_equal(part(r, 1)->dp.next, 23);
    assert_int_equal(part(r, 1)->stored_next, 23);
    assert_int_equal(r->fk.seek[0], 10);
    assert_int_equal(r->fk.seek[1], 23);
    /* messages polled before the reload are not applied */
    assert_true(part(r, 0)->epoch != epoch);
    assert_false(flush_part_takes(part(r, 0), 10, epoch));
    assert_true(flush_part_takes(part(r, 0), 10, part(r, 0)->epoch));
    assert_true(flush_settle(&r->fl));
}

static void test_lost_reply_already_applied(void **state)
{
    struct rig *r = *state;
    consume(r, 0, 15);
    assert_true(flush_start(&r->fl));
    r->fk.stored[0] = 15; /* applied, and then the retry meets it again */
    stage_one(r);
    assert_int_equal(flush_collect(&r->fl, 0), 1);
    assert_true(known_one(r));
    assert_int_equal(part(r, 0)->stored_next, 15);
    assert_int_equal(r->fk.kafka_offset[0], 15);
}

static void test_connection_lost_in_flight(void **state)
{
    struct rig *r = *state;
    consume(r, 0, 15);
    assert_true(flush_start(&r->fl));
    r->fk.poll_fails = true;
    stage_one(r);
    assert_int_equal(flush_collect(&r->fl, 0), -1);
    assert_false(known_one(r)); /* outcome unknown: nothing is taken as sent */
    assert_true(r->fl.need_reload);
    assert_false(r->fl.inflight);
    assert_int_equal(r->fk.losts, 1);
    assert_int_equal(part(r, 0)->stored_next, 10);
    assert_int_equal(r->fk.kafka_offset[0], -2);
    /* the outcome is unknown: here it was applied; the reload finds it */
    r->fk.stored[0] = 15;
    flush_discard(&r->fl);
    assert_int_equal(part(r, 0)->dp.next, 15);
    assert_int_equal(r->fk.seek[0], 15);
}

static void test_connection_lost_before_send_keeps_pending(void **state)
{
    struct rig *r = *state;
    consume(r, 0, 15);
    r->fk.up = false;
    assert_false(flush_start(&r->fl));
    assert_int_equal(r->fk.sends, 0);
    assert_int_equal(r->fl.pending_events, 1); /* kept for the retry */
    assert_false(r->fl.need_reload);
    r->fk.up = true;
    assert_true(flush_sync(&r->fl));
    assert_int_equal(part(r, 0)->stored_next, 15);
}

static void test_dead_letters_first(void **state)
{
    struct rig *r = *state;
    consume(r, 0, 15);
    r->fk.dlq_ok = false;
    assert_false(flush_start(&r->fl));
    assert_int_equal(r->fk.sends, 0); /* never past a dead letter that may be lost */
    assert_int_equal(r->fl.pending_events, 0);
    assert_int_equal(part(r, 0)->dp.next, 10); /* re-consumed from the stored position */
    assert_int_equal(r->fk.seek[0], 10);
}

static void test_revoked_during_flight(void **state)
{
    struct rig *r = *state;
    consume(r, 0, 15);
    consume(r, 1, 22);
    assert_true(flush_start(&r->fl));
    flush_part_drop(part(r, 0)); /* given away while the flush is in flight */
    assert_int_equal(flush_collect(&r->fl, 0), 1);
    assert_int_equal(r->fk.kafka_offset[0], -2); /* not ours to commit any more */
    assert_int_equal(r->fk.kafka_offset[1], 22);
    assert_false(part(r, 0)->dp.assigned);
}

static void test_part_takes(void **state)
{
    struct rig *r = *state;
    struct part *p0 = part(r, 0), *p2 = part(r, 2);
    assert_false(flush_part_takes(NULL, 10, 0));
    assert_true(flush_part_takes(p0, 10, p0->epoch));
    assert_false(flush_part_takes(p0, 9, p0->epoch)); /* before the position: seen already */
    assert_false(flush_part_takes(p0, 10, p0->epoch - 1));
    assert_true(flush_part_takes(p2, 0, p2->epoch)); /* nothing stored: from the start */
    flush_part_drop(p0);
    assert_false(flush_part_takes(p0, 10, p0->epoch));
}

static void test_due(void **state)
{
    struct rig *r = *state;
    int64_t t = r->fl.last_ms;
    assert_false(flush_due(&r->fl, t + 100, false));
    assert_true(flush_due(&r->fl, t + 250, false));
    /* caught up with nothing pending: no flush before the interval */
    assert_false(flush_due(&r->fl, t + 100, true));
    assert_int_equal(flush_wait_ms(&r->fl, t, 50), 50);

    /* a short poll inside a backlog (not at the end of the log) with events pending: no
     * flush before the interval, and the poll may block until the interval */
    r->fl.pending_events = 10;
    assert_false(flush_due(&r->fl, t + 20, true));
    assert_false(flush_due(&r->fl, t + 249, true));
    assert_true(flush_due(&r->fl, t + 250, true));
    assert_int_equal(flush_wait_ms(&r->fl, t + 5, 50), 50);

    /* caught up with events pending: after --flush-idle-ms, not before */
    r->fl.at_end = true;
    assert_false(flush_due(&r->fl, t + 19, true));
    assert_true(flush_due(&r->fl, t + 20, true));
    assert_false(flush_due(&r->fl, t + 20, false)); /* polls still full: keep batching */
    assert_int_equal(flush_wait_ms(&r->fl, t + 5, 50), 15);
    assert_int_equal(flush_wait_ms(&r->fl, t + 30, 50), 0);

    /* slow flushes stretch the idle interval as well (3 x the flush's duration)... */
    r->fl.slow_ms = 120;
    r->fl.pending_events = 1;
    assert_false(flush_due(&r->fl, t + 100, true));
    assert_true(flush_due(&r->fl, t + 120, true));
    /* ...and at the end of the log less the nearer the pending events are to
     * --flush-events (1000 here): 3/4 of a full flush waits a quarter of the stretch, never
     * less than --flush-idle-ms; a short poll inside a backlog does not flush at all */
    r->fl.pending_events = 750;
    r->fl.at_end = false;
    assert_false(flush_due(&r->fl, t + 200, true));
    r->fl.at_end = true;
    assert_false(flush_due(&r->fl, t + 29, true));
    assert_true(flush_due(&r->fl, t + 30, true));
    assert_int_equal(flush_wait_ms(&r->fl, t + 10, 50), 20);
    r->fl.pending_events = 950;
    assert_false(flush_due(&r->fl, t + 19, true));
    assert_true(flush_due(&r->fl, t + 20, true));
    r->fl.pending_events = 10;
    assert_false(flush_due(&r->fl, t + 100, true)); /* a trickle: the whole stretch */
    /* ...but it looks again within --flush-idle-ms: a poll that brings nothing ends it */
    assert_int_equal(flush_wait_ms(&r->fl, t + 10, 50), 20);
    /* at the end of the log with nothing arriving, the stretch would only hold the events
     * back: --flush-idle-ms alone */
    r->fl.quiet = true;
    assert_false(flush_due(&r->fl, t + 19, true));
    assert_true(flush_due(&r->fl, t + 20, true));
    assert_int_equal(flush_wait_ms(&r->fl, t + 5, 50), 15);
    r->fl.at_end = false; /* a poll inside a backlog that brought nothing: no idle flush */
    assert_false(flush_due(&r->fl, t + 249, true));
    assert_true(flush_due(&r->fl, t + 250, true)); /* --flush-ms */
    r->fl.quiet = false;

    /* disabled: only --flush-ms and --flush-events */
    r->fl.slow_ms = 0;
    r->fl.idle_ms = 0;
    assert_false(flush_due(&r->fl, t + 100, true));
    assert_int_equal(flush_wait_ms(&r->fl, t, 50), 50);

    r->fl.pending_events = 1000;
    assert_true(flush_due(&r->fl, t, false));
    r->fl.inflight = true; /* one flush at a time; wake soon for its reply */
    assert_false(flush_due(&r->fl, t + 1000, true));
    assert_int_equal(flush_wait_ms(&r->fl, t, 50), 5);
    r->fl.inflight = false;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flush_carries_progress_fenced_by_stored, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_one_flush_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fenced_flush_moves_nothing_and_reloads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lost_reply_already_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_lost_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_lost_before_send_keeps_pending, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dead_letters_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoked_during_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_part_takes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_due, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
