/* Unit tests of the Kafka glue against librdkafka's mock cluster (real
 * protocol on a loopback port): -X precedence and errors, the readiness probe,
 * and the producer wrapper (keys, null keys, headers, delivery counting,
 * back-pressure on a full local queue). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h> /* after rdkafka.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/cfg.h"
#include "gtp/err.h"
#include "gtp/kafka.h"
#include "gtp/util.h"
#include "mock_consumer.h"

static void free_kv(struct gtp_kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static void test_conf(void **state)
{
    (void)state;
    char err[512], buf[64];
    size_t sz = sizeof(buf);
    struct gtp_kvlist kv = {0};
    gtp_kvlist_add(&kv, "client.id", "first");
    gtp_kvlist_add(&kv, "client.id", "second"); /* later -X wins */
    rd_kafka_conf_t *conf =
        gtp_kafka_conf_new(RD_KAFKA_PRODUCER, "127.0.0.1:1", &kv, err, sizeof(err));
    assert_non_null(conf);
    assert_int_equal(rd_kafka_conf_get(conf, "client.id", buf, &sz), RD_KAFKA_CONF_OK);
    assert_string_equal(buf, "second");
    sz = sizeof(buf);
    assert_int_equal(rd_kafka_conf_get(conf, "bootstrap.servers", buf, &sz), RD_KAFKA_CONF_OK);
    assert_string_equal(buf, "127.0.0.1:1");
    rd_kafka_conf_destroy(conf);
    free_kv(&kv);

    gtp_kvlist_add(&kv, "no.such.property", "secret-value");
    assert_null(gtp_kafka_conf_new(RD_KAFKA_PRODUCER, NULL, &kv, err, sizeof(err)));
    assert_non_null(strstr(err, "no.such.property"));
    assert_null(strstr(err, "secret-value"));
    free_kv(&kv);

    /* -X overrides the producer defaults; a bad combination is refused */
    gtp_kvlist_add(&kv, "linger.ms", "77");
    struct gtp_producer *p = gtp_producer_new("127.0.0.1:1", &kv, err, sizeof(err));
    assert_non_null(p);
    sz = sizeof(buf);
    rd_kafka_conf_get(rd_kafka_conf(gtp_producer_handle(p)), "linger.ms", buf, &sz);
    assert_string_equal(buf, "77");
    sz = sizeof(buf);
    rd_kafka_conf_get(rd_kafka_conf(gtp_producer_handle(p)), "enable.idempotence", buf, &sz);
    assert_string_equal(buf, "true");
    sz = sizeof(buf);
    rd_kafka_conf_get(rd_kafka_conf(gtp_producer_handle(p)), "message.max.bytes", buf, &sz);
    assert_string_equal(buf, "4194304");
    gtp_producer_free(p);
    free_kv(&kv);
    gtp_kvlist_add(&kv, "acks", "1");
    assert_null(gtp_producer_new("127.0.0.1:1", &kv, err, sizeof(err)));
    assert_non_null(strstr(err, "acks"));
    free_kv(&kv);
}

/* One -X list feeds a daemon's consumer and its dead-letter producer: each
 * client takes only the properties that are its own (librdkafka warns with
 * CONFWARN about the others at every start). */
static void test_conf_routing(void **state)
{
    (void)state;
    char err[512], buf[64];
    size_t sz;
    struct gtp_kvlist kv = {0};

    assert_int_equal(gtp_kafka_prop_scope("group.id"), 'C');
    assert_int_equal(gtp_kafka_prop_scope("auto.offset.reset"), 'C'); /* a topic property */
    assert_int_equal(gtp_kafka_prop_scope("linger.ms"), 'P');
    assert_int_equal(gtp_kafka_prop_scope("acks"), 'P');
    assert_int_equal(gtp_kafka_prop_scope("bootstrap.servers"), '*');
    assert_int_equal(gtp_kafka_prop_scope("sasl.password"), '*');
    assert_int_equal(gtp_kafka_prop_scope("no.such.property"), 0);

    gtp_kvlist_add(&kv, "group.id", "g1");
    gtp_kvlist_add(&kv, "linger.ms", "77");
    gtp_kvlist_add(&kv, "client.id", "both");
    rd_kafka_conf_t *pc = gtp_kafka_conf_new(RD_KAFKA_PRODUCER, NULL, &kv, err, sizeof(err));
    rd_kafka_conf_t *cc = gtp_kafka_conf_new(RD_KAFKA_CONSUMER, NULL, &kv, err, sizeof(err));
    assert_non_null(pc);
    assert_non_null(cc);
    sz = sizeof(buf);
    buf[0] = 'x';
    rd_kafka_conf_get(pc, "group.id", buf, &sz);
    assert_string_not_equal(buf, "g1");
    sz = sizeof(buf);
    rd_kafka_conf_get(cc, "group.id", buf, &sz);
    assert_string_equal(buf, "g1");
    sz = sizeof(buf);
    rd_kafka_conf_get(pc, "linger.ms", buf, &sz);
    assert_string_equal(buf, "77");
    sz = sizeof(buf);
    rd_kafka_conf_get(cc, "linger.ms", buf, &sz);
    assert_string_not_equal(buf, "77");
    sz = sizeof(buf);
    rd_kafka_conf_get(pc, "client.id", buf, &sz);
    assert_string_equal(buf, "both");
    sz = sizeof(buf);
    rd_kafka_conf_get(cc, "client.id", buf, &sz);
    assert_string_equal(buf, "both");
    rd_kafka_conf_destroy(pc);
    rd_kafka_conf_destroy(cc);
    free_kv(&kv);
}

struct mock {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    const char *bootstraps;
};

static int mock_setup(void **state)
{
    struct mock *m = gtp_xcalloc(1, sizeof(*m));
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", NULL, 0);
    m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    assert_non_null(m->rk);
    m->mc = rd_kafka_mock_cluster_new(m->rk, 1);
    assert_non_null(m->mc);
    m->bootstraps = rd_kafka_mock_cluster_bootstraps(m->mc);
    assert_int_equal(rd_kafka_mock_topic_create(m->mc, "t", 3, 1), 0);
    *state = m;
    return 0;
}

static int mock_teardown(void **state)
{
    struct mock *m = *state;
    rd_kafka_mock_cluster_destroy(m->mc);
    rd_kafka_destroy(m->rk);
    free(m);
    return 0;
}

static void test_produce_and_read_back(void **state)
{
    struct mock *m = *state;
    char err[512];
    struct gtp_kvlist kv = {0};
    gtp_kvlist_add(&kv, "log_level", "0");
    gtp_kvlist_add(&kv, "queue.buffering.max.messages", "10"); /* force QUEUE_FULL */
    gtp_kvlist_add(&kv, "linger.ms", "1");
    struct gtp_producer *p = gtp_producer_new(m->bootstraps, &kv, err, sizeof(err));
    assert_non_null(p);
    bool exists = false;
    assert_int_equal(
        gtp_kafka_wait_ready(gtp_producer_handle(p), "t", &exists, 10000, err, sizeof(err)), 0);
    assert_true(exists);
    assert_int_equal(
        gtp_kafka_wait_ready(gtp_producer_handle(p), "nope", &exists, 10000, err, sizeof(err)), 0);
    assert_false(exists);

    const int n = 500;
    for (int i = 0; i < n; i++) {
        char key[16], val[32];
        snprintf(key, sizeof(key), "k%d", i);
        int vlen = snprintf(val, sizeof(val), "{\"i\": %d}", i);
        struct gtp_kafka_header h[] = {{"gtp.error.reason", "invalid_json", 12},
                                       {"gtp.source.offset", key, strlen(key)}};
        /* every 10th message has a null key and no headers */
        bool plain = i % 10 == 0;
        assert_int_equal(gtp_producer_send(p, "t", -1, plain ? NULL : key, strlen(key), val,
                                           (size_t)vlen, plain ? NULL : h, plain ? 0 : 2, err,
                                           sizeof(err)),
                         0);
    }
    assert_int_equal(gtp_producer_flush(p, 10000, err, sizeof(err)), 0);
    struct gtp_producer_stats st;
    gtp_producer_stats(p, &st);
    assert_int_equal(st.queued, n);
    assert_int_equal(st.delivered, n);
    assert_int_equal(st.failed, 0);
    assert_false(gtp_producer_fatal(p, NULL, 0));
    gtp_producer_free(p);
    free_kv(&kv);

    /* read everything back with a plain consumer */
    rd_kafka_t *c = mock_consumer(m->bootstraps, "test", true);
    int got = 0, nullkeys = 0, with_headers = 0;
    int64_t deadline = gtp_mono_ms() + 30000;
    while (got < n && gtp_mono_ms() < deadline) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(c, 200);
        if (!rkm)
            continue;
        if (!rkm->err) {
            got++;
            if (!rkm->key)
                nullkeys++;
            rd_kafka_headers_t *hdrs = NULL;
            if (rd_kafka_message_headers(rkm, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                const void *v;
                size_t vlen;
                assert_int_equal(rd_kafka_header_get_last(hdrs, "gtp.source.offset", &v, &vlen), 0);
                assert_int_equal(vlen, rkm->key_len);
                assert_memory_equal(v, rkm->key, vlen);
                with_headers++;
            }
        }
        rd_kafka_message_destroy(rkm);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    assert_int_equal(got, n);
    assert_int_equal(nullkeys, n / 10);
    assert_int_equal(with_headers, n - n / 10);
}

static void test_unreachable(void **state)
{
    (void)state;
    char err[512];
    struct gtp_kvlist kv = {0};
    gtp_kvlist_add(&kv, "log_level", "0");
    struct gtp_producer *p = gtp_producer_new("127.0.0.1:1", &kv, err, sizeof(err));
    assert_non_null(p);
    assert_int_equal(
        gtp_kafka_wait_ready(gtp_producer_handle(p), NULL, NULL, 1500, err, sizeof(err)),
        GTP_ERR_UNAVAILABLE);
    assert_non_null(strstr(err, "unreachable"));
    gtp_producer_free(p);
    free_kv(&kv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf),
        cmocka_unit_test(test_conf_routing),
        cmocka_unit_test_setup_teardown(test_produce_and_read_back, mock_setup, mock_teardown),
        cmocka_unit_test(test_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
