/* The processor's batch enrichment: whatever the number of helper threads,
 * every item of a batch holds exactly what gtp_event_process() gives for
 * its message on one thread. Messages come from librdkafka's mock cluster
 * (real rd_kafka_message_t objects with timestamps), so the test also
 * covers ownership: every message is destroyed once (ASan/LSan). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h> /* after rdkafka.h */

#include "batch.h"
#include "gtp/event.h"
#include "gtp/taxonomy.h"
#include "gtp/util.h"
#include "mock_consumer.h"

#define NMSG 3000

static const char *skills_text[] = {
    "Senior Python developer with AWS and Kubernetes",
    "Junior Java engineer, Spring Boot, SQL",
    "Data scientist: machine learning, PyTorch, pandas",
    "Rust and Go backend, PostgreSQL, Redis, Kafka",
    "",
};
static const char *locations[] = {"London, UK", "Berlin", "Remote", "Paris, France", "??"};

/* Message i of the stream: mostly valid events with varied skills, regions
 * and times; every 7th one broken in some way, some ids holding NUL. */
static size_t make_value(int i, char *buf, size_t cap)
{
    switch (i % 7 == 3 ? (i / 7) % 5 : -1) {
    case 0:
        return (size_t)snprintf(buf, cap, "{\"event_id\": \"x%d\"", i); /* truncated */
    case 1:
        return (size_t)snprintf(buf, cap, "[%d]", i);
    case 2:
        return (size_t)snprintf(buf, cap,
                                "{\"event_id\":\"f%d\",\"timestamp\":\"2099-01-01T00:00:00Z\","
                                "\"payload\":{\"job_id\":\"j\",\"title\":\"Python\"}}",
                                i);
    case 3:
        return (size_t)snprintf(buf, cap, "{\"event_id\":\"m%d\",\"payload\":{}}", i);
    case 4:
        return 0; /* empty value */
    default:
        break;
    }
    return (size_t)snprintf(
        buf, cap,
        "{\"event_id\":\"e%d%s\",\"timestamp\":\"2024-03-15T%02d:%02d:00Z\",\"payload\":{"
        "\"job_id\":\"j%d\",\"title\":\"%s\",\"company\":\"C\",\"location\":\"%s\","
        "\"description\":\"%s\"}}",
        i % 400, i % 11 == 0 ? "\\u0000z" : "", i % 24, i % 60, i, skills_text[i % 5],
        locations[i % 5], skills_text[(i / 5) % 5]);
}

struct fixture {
    rd_kafka_t *prk; /* owns the mock cluster */
    rd_kafka_mock_cluster_t *mc;
    const char *bootstraps;
    struct gtp_taxonomy *tx;
};

static int setup(void **state)
{
    struct fixture *f = gtp_xcalloc(1, sizeof(*f));
    char err[512], buf[1024];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", NULL, 0);
    f->prk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    assert_non_null(f->prk);
    f->mc = rd_kafka_mock_cluster_new(f->prk, 1);
    assert_non_null(f->mc);
    f->bootstraps = rd_kafka_mock_cluster_bootstraps(f->mc);
    assert_int_equal(rd_kafka_mock_topic_create(f->mc, "t", 3, 1), 0);

    conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", f->bootstraps, NULL, 0);
    rd_kafka_conf_set(conf, "log_level", "0", NULL, 0);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    assert_non_null(p);
    for (int i = 0; i < NMSG; i++) {
        size_t len = make_value(i, buf, sizeof(buf));
        assert_int_equal(rd_kafka_producev(p, RD_KAFKA_V_TOPIC("t"), RD_KAFKA_V_PARTITION(i % 3),
                                           RD_KAFKA_V_VALUE(buf, len),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_END),
                         0);
        rd_kafka_poll(p, 0);
    }
    assert_int_equal(rd_kafka_flush(p, 30000), 0);
    rd_kafka_destroy(p);

    f->tx = gtp_taxonomy_load(GTP_TAXONOMY_DEFAULT, err, sizeof(err));
    assert_non_null(f->tx);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    gtp_taxonomy_free(f->tx);
    rd_kafka_mock_cluster_destroy(f->mc);
    rd_kafka_destroy(f->prk);
    free(f);
    return 0;
}

static rd_kafka_t *consumer(const struct fixture *f, const char *group)
{
    return mock_consumer(f->bootstraps, group, false);
}

/* What the test keeps of each polled message: the batch gives accepted ones back. */
struct msg_copy {
    char *payload;
    size_t len;
    int64_t ts_ms, offset;
};

static void copy_msg(struct msg_copy *c, const rd_kafka_message_t *rkm)
{
    rd_kafka_timestamp_type_t tt;
    c->payload = malloc(rkm->len ? rkm->len : 1);
    memcpy(c->payload, rkm->payload, rkm->len);
    c->len = rkm->len;
    c->ts_ms = rd_kafka_message_timestamp(rkm, &tt);
    c->offset = rkm->offset;
}

/* Every item against a single-threaded gtp_event_process of its message (copies[i]); an
 * accepted item's message is already given back, a rejected one's kept for its dead letter. */
static void check_batch(const struct batch *b, struct msg_copy *copies,
                        const struct gtp_taxonomy *tx, struct gtp_event *ref, size_t *accepted)
{
    for (size_t i = 0; i < b->n; i++) {
        const struct batch_item *it = &b->items[i];
        struct msg_copy *c = &copies[i];
        assert_true(c->ts_ms > 0);
        enum gtp_reject r = gtp_event_process(ref, tx, c->payload, c->len, c->ts_ms * 1000);
        assert_int_equal(it->reject, r);
        assert_int_equal(it->epoch, (uint64_t)c->offset);
        assert_int_equal(it->offset, c->offset);
        if (r == GTP_REJECT_NONE) {
            (*accepted)++;
            assert_null(it->rkm);
            assert_true(it->posted_us == ref->posted_us);
            assert_string_equal(it->region, ref->region);
            assert_memory_equal(&it->skills, &ref->skills, sizeof(ref->skills));
            assert_int_equal(it->text_len, ref->event_id.len);
            assert_memory_equal(batch_text(b, i), ref->event_id.s, ref->event_id.len);
        } else {
            assert_non_null(it->rkm);
            assert_int_equal(it->rkm->offset, c->offset);
            assert_int_equal(it->text_len, strlen(ref->detail));
            assert_string_equal(batch_text(b, i), ref->detail);
        }
        free(c->payload);
        c->payload = NULL;
    }
}

/* Consume the whole topic in batches, two in the pipeline at a time (one
 * enriched while the other is checked), as the processor does. */
static void run_threads(const struct fixture *f, int threads)
{
    char err[256], group[32];
    static struct batch batches[2];
    static struct msg_copy copies[2][BATCH_MAX];
    struct batch *fill = &batches[0], *work = NULL;
    struct gtp_event ref;
    size_t seen = 0, accepted = 0, batches_started = 0;
    struct batch_pool *pool = batch_pool_new(threads, err, sizeof(err));
    assert_non_null(pool);
    gtp_event_init(&ref);
    snprintf(group, sizeof(group), "g%d", threads);
    rd_kafka_t *c = consumer(f, group);
    int64_t deadline = gtp_mono_ms() + 60000;

    while ((seen < NMSG || work) && gtp_mono_ms() < deadline) {
        while (fill->n < BATCH_MAX && seen + fill->n < NMSG) {
            rd_kafka_message_t *rkm = rd_kafka_consumer_poll(c, fill->n ? 0 : 100);
            if (!rkm)
                break;
            if (rkm->err) {
                rd_kafka_message_destroy(rkm);
                continue;
            }
            copy_msg(&copies[fill - batches][fill->n], rkm);
            batch_add(fill, rkm, (uint64_t)rkm->offset); /* the epoch: any tag comes back */
        }
        batch_pool_wait(pool);
        struct batch *done = work;
        work = NULL;
        if (fill->n) {
            seen += fill->n;
            batch_pool_start(pool, fill, f->tx);
            batches_started++;
            work = fill;
            fill = done ? done : &batches[work == &batches[0] ? 1 : 0];
        }
        if (done) {
            check_batch(done, copies[done - batches], f->tx, &ref, &accepted);
            batch_clear(done);
        }
    }
    assert_int_equal(seen, NMSG);
    assert_true(batches_started > 1);
    assert_true(accepted > NMSG / 2 && accepted < NMSG);
    batch_pool_free(pool);
    for (int k = 0; k < 2; k++) {
        batch_clear(&batches[k]);
        batch_fini(&batches[k]);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    gtp_event_fini(&ref);
}

static void test_inline(void **state)
{
    run_threads(*state, 0);
}

static void test_one_thread(void **state)
{
    run_threads(*state, 1);
}

static void test_three_threads(void **state)
{
    run_threads(*state, 3);
}

static void test_bad_thread_count(void **state)
{
    char err[256];
    (void)state;
    assert_null(batch_pool_new(-1, err, sizeof(err)));
    assert_null(batch_pool_new(BATCH_MAX_THREADS + 1, err, sizeof(err)));
    assert_non_null(strstr(err, "not in 0.."));
    /* freeing an idle pool: nothing to wait for */
    batch_pool_free(batch_pool_new(2, err, sizeof(err)));
    batch_pool_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_one_thread),
        cmocka_unit_test(test_three_threads),
        cmocka_unit_test(test_bad_thread_count),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
