/* --resume: read the last message of every partition of the generator's topic
 * and find the newest simulated time a previous run produced (resume.h). A
 * consumer with assign() only, so it joins no group and commits nothing. */
#include "resume.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gtp/err.h"
#include "gtp/kafka.h"
#include "gtp/log.h"
#include "gtp/sig.h"
#include "gtp/util.h"

int gen_resume_parse(const void *value, size_t len, int64_t *us)
{
    char buf[24];
    long long v;
    if (!value || len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, value, len);
    buf[len] = '\0';
    if (buf[0] == '+' || buf[0] == ' ' || gtp_parse_ll(buf, &v) != 0)
        return -1;
    *us = (int64_t)v;
    return 0;
}

static int left_ms(int64_t deadline)
{
    int64_t left = deadline - gtp_mono_ms();
    return left > 0 ? (int)left : 0;
}

/* One last message: its header, if any, may raise *last_us. */
static void take(const rd_kafka_message_t *rkm, bool *found, int64_t *last_us)
{
    rd_kafka_headers_t *hdrs = NULL;
    const void *v = NULL;
    size_t n = 0;
    int64_t us;
    if (rd_kafka_message_headers(rkm, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(hdrs, GEN_SIM_HEADER, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        gtp_log(GTP_LOG_DEBUG, "resume", "partition %" PRId32 " offset %" PRId64 ": no %s header",
                rkm->partition, rkm->offset, GEN_SIM_HEADER);
        return;
    }
    if (gen_resume_parse(v, n, &us) != 0) {
        gtp_log(GTP_LOG_WARN, "resume", "partition %" PRId32 " offset %" PRId64 ": bad %s header",
                rkm->partition, rkm->offset, GEN_SIM_HEADER);
        return;
    }
    if (!*found || us > *last_us)
        *last_us = us;
    *found = true;
}

/* A topic just created has partitions whose leader is not known yet ("not
 * leader for partition", "leader not available"): ask again until deadline. */
static rd_kafka_resp_err_t end_offsets(rd_kafka_t *rk, const char *topic, int32_t p, int64_t *lo,
                                       int64_t *hi, int64_t deadline)
{
    for (;;) {
        int wait = left_ms(deadline);
        rd_kafka_resp_err_t err =
            rd_kafka_query_watermark_offsets(rk, topic, p, lo, hi, wait > 0 ? wait : 1);
        if (!err || left_ms(deadline) == 0 || gtp_sig_stop)
            return err;
        gtp_log(GTP_LOG_DEBUG, "resume", "end offset of %s [%" PRId32 "]: %s: asking again", topic,
                p, rd_kafka_err2str(err));
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int gen_resume_point(const char *brokers, const struct gtp_kvlist *props, const char *topic,
                     int timeout_ms, bool *found, int64_t *last_us, char *errstr,
                     size_t errstr_size)
{
    int64_t deadline = gtp_mono_ms() + timeout_ms;
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_t *rkt = NULL;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL;
    bool *pending = NULL;
    int npending = 0, rc = 0;
    rd_kafka_resp_err_t err;

    *found = false;
    *last_us = 0;
    conf = gtp_kafka_conf_new(RD_KAFKA_CONSUMER, brokers, props, errstr, errstr_size);
    if (!conf) {
        rc = GTP_ERR_CONFIG;
        goto out;
    }
    /* EOF events tell an empty tail (a transaction marker at the end) from a
     * slow fetch. librdkafka's assign() needs a group.id, but with explicit
     * offsets and no subscribe() the group is never joined nor committed to. */
    if (rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, errstr_size) ||
        rd_kafka_conf_set(conf, "group.id", "gtp-generator-resume", errstr, errstr_size) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errstr_size)) {
        rc = GTP_ERR_INTERNAL;
        goto out;
    }
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
    if (!rk) {
        rc = GTP_ERR_CONFIG;
        goto out;
    }
    conf = NULL; /* taken by rd_kafka_new */

    rkt = rd_kafka_topic_new(rk, topic, NULL);
    err = rd_kafka_metadata(rk, 0, rkt, &md, left_ms(deadline) > 0 ? left_ms(deadline) : 1);
    if (err) {
        gtp_errf(errstr, errstr_size, "resume: metadata of %s: %s", topic, rd_kafka_err2str(err));
        rc = GTP_ERR_UNAVAILABLE;
        goto out;
    }
    if (md->topic_cnt != 1 || md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        goto out; /* nothing produced yet */
    if (md->topics[0].err) {
        gtp_errf(errstr, errstr_size, "resume: metadata of %s: %s", topic,
                 rd_kafka_err2str(md->topics[0].err));
        rc = GTP_ERR_UNAVAILABLE;
        goto out;
    }

    const struct rd_kafka_metadata_topic *mt = &md->topics[0];
    int32_t maxp = -1;
    for (int i = 0; i < mt->partition_cnt; i++)
        if (mt->partitions[i].id > maxp)
            maxp = mt->partitions[i].id;
    pending = gtp_xcalloc((size_t)maxp + 1, sizeof(*pending));
    parts = rd_kafka_topic_partition_list_new(mt->partition_cnt > 0 ? mt->partition_cnt : 1);
    for (int i = 0; i < mt->partition_cnt; i++) {
        int32_t p = mt->partitions[i].id;
        int64_t lo = 0, hi = 0;
        err = end_offsets(rk, topic, p, &lo, &hi, deadline);
        if (err) {
            gtp_errf(errstr, errstr_size, "resume: end offset of %s [%" PRId32 "]: %s", topic, p,
                     rd_kafka_err2str(err));
            rc = GTP_ERR_UNAVAILABLE;
            goto out;
        }
        if (hi <= lo)
            continue; /* empty, or everything deleted by retention */
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = hi - 1;
        pending[p] = true;
        npending++;
    }
    if (npending == 0)
        goto out;
    err = rd_kafka_assign(rk, parts);
    if (err) {
        gtp_errf(errstr, errstr_size, "resume: assign: %s", rd_kafka_err2str(err));
        rc = GTP_ERR_KAFKA;
        goto out;
    }

    while (npending > 0 && !gtp_sig_stop) {
        int wait = left_ms(deadline);
        if (wait == 0) {
            gtp_errf(errstr, errstr_size,
                     "resume: the last message of %d partition(s) of %s not read in %d ms",
                     npending, topic, timeout_ms);
            rc = GTP_ERR_UNAVAILABLE;
            goto out;
        }
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, wait < 100 ? wait : 100);
        if (!rkm)
            continue;
        int32_t p = rkm->partition;
        if (rkm->err && rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            gtp_log(GTP_LOG_WARN, "resume", "%s", rd_kafka_message_errstr(rkm));
        } else if (p >= 0 && p <= maxp && pending[p]) {
            if (!rkm->err)
                take(rkm, found, last_us);
            pending[p] = false;
            npending--;
        }
        rd_kafka_message_destroy(rkm);
    }

out:
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    if (md)
        rd_kafka_metadata_destroy(md);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (rk) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    free(pending);
    return rc;
}
