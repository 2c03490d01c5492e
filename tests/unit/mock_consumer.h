/* A plain librdkafka consumer subscribed to topic "t" of a mock cluster (bootstraps from
 * rd_kafka_mock_cluster_bootstraps), reading from the earliest offset: the independent
 * reader the unit tests read back what the code under test produced or committed with.
 * The caller destroys it (rd_kafka_consumer_close, rd_kafka_destroy). */
#ifndef GTP_TEST_MOCK_CONSUMER_H
#define GTP_TEST_MOCK_CONSUMER_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>

static inline rd_kafka_t *mock_consumer(const char *bootstraps, const char *group, bool auto_commit)
{
    char err[512];
    rd_kafka_conf_t *cc = rd_kafka_conf_new();
    rd_kafka_conf_set(cc, "bootstrap.servers", bootstraps, NULL, 0);
    rd_kafka_conf_set(cc, "group.id", group, NULL, 0);
    rd_kafka_conf_set(cc, "auto.offset.reset", "earliest", NULL, 0);
    rd_kafka_conf_set(cc, "enable.auto.commit", auto_commit ? "true" : "false", NULL, 0);
    rd_kafka_conf_set(cc, "log_level", "0", NULL, 0);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof(err));
    assert_non_null(c);
    rd_kafka_poll_set_consumer(c);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, "t", RD_KAFKA_PARTITION_UA);
    assert_int_equal(rd_kafka_subscribe(c, tl), 0);
    rd_kafka_topic_partition_list_destroy(tl);
    return c;
}

#endif
