/* librdkafka configuration, log routing, readiness probe and the idempotent
 * producer wrapper (docs/kafka.md). */
#include "gtp/kafka.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gtp/err.h"
#include "gtp/log.h"
#include "gtp/sig.h"
#include "gtp/util.h"

/* ---- configuration ------------------------------------------------------------ */

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    /* librdkafka uses syslog levels: 0..3 errors, 4 warning, 5..6 info, 7 debug. */
    int lvl = level <= 3   ? GTP_LOG_ERROR
              : level == 4 ? GTP_LOG_WARN
              : level <= 6 ? GTP_LOG_INFO
                           : GTP_LOG_DEBUG;
    gtp_log(lvl, "kafka", "%s: %s", fac, buf);
}

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, const char *origin,
                    char *errstr, size_t errstr_size)
{
    char rkerr[512];
    if (rd_kafka_conf_set(conf, key, value, rkerr, sizeof(rkerr)) != RD_KAFKA_CONF_OK) {
        gtp_errf(errstr, errstr_size, "%s%s: %s", origin, key, rkerr);
        return GTP_ERR_CONFIG;
    }
    return 0;
}

/* librdkafka's property table, "name | C/P | range | default | ..." per row,
 * reduced to (name, scope) pairs sorted by name. */
struct prop_scope {
    char *name;
    char scope;
};
static struct prop_scope *scopes;
static size_t nscopes;
static pthread_once_t scopes_once = PTHREAD_ONCE_INIT;

static int scope_cmp(const void *a, const void *b)
{
    return strcmp(((const struct prop_scope *)a)->name, ((const struct prop_scope *)b)->name);
}

static void scopes_load(void)
{
    char *text = NULL, *line, *save = NULL;
    size_t len = 0, cap = 0;
    FILE *f = open_memstream(&text, &len);

    if (!f)
        return;
    rd_kafka_conf_properties_show(f);
    fclose(f);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[128], scope;
        /* rows look like "group.id        |  C  |  ..."; headers and rules do not */
        if (sscanf(line, "%127s | %c |", name, &scope) != 2 ||
            (scope != 'C' && scope != 'P' && scope != '*'))
            continue;
        if (nscopes == cap) {
            cap = cap ? cap * 2 : 256;
            scopes = gtp_xrealloc(scopes, cap * sizeof(*scopes));
        }
        scopes[nscopes].name = gtp_xstrdup(name);
        scopes[nscopes++].scope = scope;
    }
    free(text);
    qsort(scopes, nscopes, sizeof(*scopes), scope_cmp);
}

char gtp_kafka_prop_scope(const char *key)
{
    struct prop_scope k = {(char *)key, 0}, *hit;
    pthread_once(&scopes_once, scopes_load);
    hit = nscopes ? bsearch(&k, scopes, nscopes, sizeof(*scopes), scope_cmp) : NULL;
    return hit ? hit->scope : 0;
}

rd_kafka_conf_t *gtp_kafka_conf_new(rd_kafka_type_t type, const char *brokers,
                                    const struct gtp_kvlist *props, char *errstr,
                                    size_t errstr_size)
{
    char other = type == RD_KAFKA_CONSUMER ? 'P' : 'C';
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, log_cb);
    if (brokers &&
        conf_set(conf, "bootstrap.servers", brokers, "--brokers ", errstr, errstr_size) != 0)
        goto fail;
    for (size_t i = 0; props && i < props->n; i++) {
        if (gtp_kafka_prop_scope(props->items[i].key) == other) {
            gtp_log(GTP_LOG_DEBUG, "kafka", "-X %s: a %s property, not applied to the %s",
                    props->items[i].key, other == 'C' ? "consumer" : "producer",
                    other == 'C' ? "producer" : "consumer");
            continue;
        }
        if (conf_set(conf, props->items[i].key, props->items[i].value, "-X ", errstr,
                     errstr_size) != 0)
            goto fail;
    }
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int gtp_kafka_wait_ready(rd_kafka_t *rk, const char *topic, bool *topic_exists, int timeout_ms,
                         char *errstr, size_t errstr_size)
{
    int64_t deadline = gtp_mono_ms() + timeout_ms;
    int backoff = 100;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TRANSPORT;
    while (!gtp_sig_stop) {
        const struct rd_kafka_metadata *md = NULL;
        int64_t left = deadline - gtp_mono_ms();
        int wait = left < 2000 ? (int)(left > 100 ? left : 100) : 2000;
        err = rd_kafka_metadata(rk, 1, NULL, &md, wait);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (topic && topic_exists) {
                *topic_exists = false;
                for (int i = 0; i < md->topic_cnt; i++)
                    if (strcmp(md->topics[i].topic, topic) == 0 &&
                        md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR)
                        *topic_exists = true;
            }
            rd_kafka_metadata_destroy(md);
            return 0;
        }
        if (gtp_mono_ms() + backoff >= deadline)
            break;
        struct timespec ts = {backoff / 1000, (long)(backoff % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
    }
    gtp_errf(errstr, errstr_size, "kafka brokers unreachable after %d ms: %s", timeout_ms,
             rd_kafka_err2str(err));
    return GTP_ERR_UNAVAILABLE;
}

/* ---- producer ----------------------------------------------------------------- */

struct topic_slot {
    char *name;
    rd_kafka_topic_t *rkt;
};

struct gtp_producer {
    rd_kafka_t *rk;
    /* Topic handles are cached: rd_kafka_producev(RD_KAFKA_V_TOPIC) would look
     * the name up under a lock for every message. */
    struct topic_slot topics[8];
    size_t ntopics;
    _Atomic uint64_t queued, delivered, failed;
    _Atomic bool fatal;
    char fatal_reason[512];
    int64_t last_fail_log_ms;
    uint64_t fails_since_log;
};

/* Producer defaults (before -X, which overrides any of them). */
static const char *const producer_defaults[][2] = {
    {"enable.idempotence", "true"},
    {"acks", "all"},
    {"linger.ms", "10"},
    {"batch.num.messages", "10000"},
    {"batch.size", "1000000"},
    {"compression.type", "lz4"},
    {"message.max.bytes", "4194304"},
    {"queue.buffering.max.messages", "500000"},
    {"queue.buffering.max.kbytes", "524288"},
};

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct gtp_producer *p = opaque;
    (void)rk;
    if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        atomic_fetch_add_explicit(&p->delivered, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&p->failed, 1, memory_order_relaxed);
    /* Per-message errors are informational; log them at most every 5 s. */
    p->fails_since_log++;
    int64_t now = gtp_mono_ms();
    if (p->last_fail_log_ms == 0 || now - p->last_fail_log_ms >= 5000) {
        gtp_log(GTP_LOG_WARN, "kafka", "delivery failed for %" PRIu64 " message(s): %s",
                p->fails_since_log, rd_kafka_err2str(rkm->err));
        p->last_fail_log_ms = now;
        p->fails_since_log = 0;
    }
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct gtp_producer *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[256];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof(buf));
        if (!atomic_load(&p->fatal)) {
            snprintf(p->fatal_reason, sizeof(p->fatal_reason), "%s: %s", rd_kafka_err2name(orig),
                     buf);
            atomic_store(&p->fatal, true);
        }
        gtp_log(GTP_LOG_ERROR, "kafka", "fatal producer error: %s", p->fatal_reason);
        return;
    }
    /* Transport errors repeat while a broker is down; librdkafka retries. */
    gtp_log(err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ? GTP_LOG_WARN : GTP_LOG_INFO, "kafka",
            "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

struct gtp_producer *gtp_producer_new(const char *brokers, const struct gtp_kvlist *props,
                                      char *errstr, size_t errstr_size)
{
    struct gtp_producer *p = NULL;
    rd_kafka_conf_t *conf = NULL;
    struct gtp_kvlist all = {0};
    char rkerr[512];

    for (size_t i = 0; i < GTP_ARRAY_LEN(producer_defaults); i++)
        gtp_kvlist_add(&all, producer_defaults[i][0], producer_defaults[i][1]);
    for (size_t i = 0; props && i < props->n; i++)
        gtp_kvlist_add(&all, props->items[i].key, props->items[i].value);
    conf = gtp_kafka_conf_new(RD_KAFKA_PRODUCER, brokers, &all, errstr, errstr_size);
    if (!conf)
        goto out;

    p = gtp_xcalloc(1, sizeof(*p));
    atomic_init(&p->queued, 0);
    atomic_init(&p->delivered, 0);
    atomic_init(&p->failed, 0);
    atomic_init(&p->fatal, false);
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rkerr, sizeof(rkerr));
    if (!p->rk) {
        gtp_errf(errstr, errstr_size, "kafka producer: %s", rkerr);
        rd_kafka_conf_destroy(conf);
        free(p);
        p = NULL;
    }
    conf = NULL; /* taken by rd_kafka_new, or destroyed above */
out:
    for (size_t i = 0; i < all.n; i++) {
        free(all.items[i].key);
        free(all.items[i].value);
    }
    free(all.items);
    return p;
}

static rd_kafka_topic_t *topic_handle(struct gtp_producer *p, const char *topic)
{
    for (size_t i = 0; i < p->ntopics; i++)
        if (strcmp(p->topics[i].name, topic) == 0)
            return p->topics[i].rkt;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(p->rk, topic, NULL);
    if (rkt && p->ntopics < GTP_ARRAY_LEN(p->topics)) {
        p->topics[p->ntopics].name = gtp_xstrdup(topic);
        p->topics[p->ntopics].rkt = rkt;
        p->ntopics++;
    }
    return rkt;
}

int gtp_producer_send(struct gtp_producer *p, const char *topic, int32_t partition, const void *key,
                      size_t key_len, const void *value, size_t len,
                      const struct gtp_kafka_header *headers, size_t nheaders, char *errstr,
                      size_t errstr_size)
{
    rd_kafka_topic_t *rkt = topic_handle(p, topic);
    bool cached = false;
    for (size_t i = 0; i < p->ntopics; i++)
        cached |= p->topics[i].rkt == rkt;
    if (!rkt) {
        gtp_errf(errstr, errstr_size, "topic %s: %s", topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        return GTP_ERR_KAFKA;
    }

    int ret = 0;
    for (;;) {
        if (atomic_load(&p->fatal)) {
            gtp_errf(errstr, errstr_size, "fatal producer error: %s", p->fatal_reason);
            ret = GTP_ERR_KAFKA;
            break;
        }
        rd_kafka_headers_t *hdrs = NULL;
        if (nheaders) {
            hdrs = rd_kafka_headers_new(nheaders);
            for (size_t i = 0; i < nheaders; i++)
                rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value,
                                    (ssize_t)headers[i].len);
        }
        rd_kafka_resp_err_t err = rd_kafka_producev(
            p->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY((void *)key, key ? key_len : 0), RD_KAFKA_V_VALUE((void *)value, len),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            atomic_fetch_add_explicit(&p->queued, 1, memory_order_relaxed);
            break; /* headers are owned by the message now */
        }
        if (hdrs)
            rd_kafka_headers_destroy(hdrs);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            gtp_errf(errstr, errstr_size, "produce to %s: %s", topic, rd_kafka_err2str(err));
            ret = err == RD_KAFKA_RESP_ERR__FATAL ? GTP_ERR_KAFKA : GTP_ERR_INVAL;
            break;
        }
        if (gtp_sig_stop) {
            gtp_errf(errstr, errstr_size, "produce to %s: local queue full while stopping", topic);
            ret = GTP_ERR_UNAVAILABLE;
            break;
        }
        /* Back-pressure: serve delivery reports until the queue has room. */
        rd_kafka_poll(p->rk, 50);
    }
    if (!cached)
        rd_kafka_topic_destroy(rkt);
    return ret;
}

void gtp_producer_poll(struct gtp_producer *p, int timeout_ms)
{
    rd_kafka_poll(p->rk, timeout_ms);
}

int gtp_producer_flush(struct gtp_producer *p, int timeout_ms, char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t err = rd_kafka_flush(p->rk, timeout_ms);
    /* flush() serves callbacks too, but one more poll picks up reports that
     * arrived in the last instant. */
    rd_kafka_poll(p->rk, 0);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        gtp_errf(errstr, errstr_size, "flush: %d message(s) still in flight after %d ms",
                 rd_kafka_outq_len(p->rk), timeout_ms);
        return GTP_ERR_KAFKA;
    }
    return 0;
}

void gtp_producer_stats(const struct gtp_producer *p, struct gtp_producer_stats *out)
{
    struct gtp_producer *q = (struct gtp_producer *)p; /* atomics only */
    out->queued = atomic_load_explicit(&q->queued, memory_order_relaxed);
    out->delivered = atomic_load_explicit(&q->delivered, memory_order_relaxed);
    out->failed = atomic_load_explicit(&q->failed, memory_order_relaxed);
}

bool gtp_producer_fatal(const struct gtp_producer *p, char *errstr, size_t errstr_size)
{
    struct gtp_producer *q = (struct gtp_producer *)p;
    if (!atomic_load(&q->fatal))
        return false;
    gtp_errf(errstr, errstr_size, "%s", q->fatal_reason);
    return true;
}

rd_kafka_t *gtp_producer_handle(struct gtp_producer *p)
{
    return p->rk;
}

void gtp_producer_free(struct gtp_producer *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ntopics; i++) {
        rd_kafka_topic_destroy(p->topics[i].rkt);
        free(p->topics[i].name);
    }
    rd_kafka_destroy(p->rk);
    free(p);
}
