/* Metrics registry, Prometheus text rendering and the /metrics + /healthz HTTP
 * server every daemon runs (docs/programs.md). */
#include "gtp/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/util.h"

enum mtype { MT_COUNTER, MT_GAUGE };

struct gtp_metric {
    enum mtype type;
    char *labels; /* rendered "{k=\"v\",...}" or "" */
    /* Counters count whole events; gauges hold the bits of a double so that
     * both are one lock-free atomic word. */
    _Atomic uint64_t value;
    struct gtp_metric *next;
};

struct family {
    char *name; /* full: gtp_x_total / gtp_x */
    char *help;
    enum mtype type;
    struct gtp_metric *head, *tail;
};

struct gtp_metrics {
    pthread_mutex_t lock;
    struct family **fam;
    size_t nfam, cap;
};

/* ---- growable text buffer for rendering ------------------------------------ */

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (b->len + n + 1 > cap)
            cap *= 2;
        b->p = gtp_xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* Label values and HELP text escape backslash, newline (and quotes in values). */
static void sb_escaped(struct sbuf *b, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            sb_put(b, "\\\\", 2);
        else if (*s == '\n')
            sb_put(b, "\\n", 2);
        else if (quote && *s == '"')
            sb_put(b, "\\\"", 2);
        else
            sb_put(b, s, 1);
    }
}

/* ---- registry --------------------------------------------------------------- */

static bool valid_name(const char *s, bool allow_colon)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (allow_colon && c == ':')))
            return false;
    }
    return true;
}

struct gtp_metrics *gtp_metrics_new(void)
{
    struct gtp_metrics *m = gtp_xcalloc(1, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void gtp_metrics_free(struct gtp_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nfam; i++) {
        struct family *f = m->fam[i];
        struct gtp_metric *mt = f->head;
        while (mt) {
            struct gtp_metric *next = mt->next;
            free(mt->labels);
            free(mt);
            mt = next;
        }
        free(f->name);
        free(f->help);
        free(f);
    }
    free(m->fam);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static struct gtp_metric *reg(struct gtp_metrics *m, enum mtype type, const char *name,
                              const char *help, const char *const *labels)
{
    struct gtp_metric *mt = NULL;
    struct sbuf full = {0}, lab = {0};

    if (!m || !valid_name(name, true))
        return NULL;
    sb_str(&full, "gtp_");
    sb_str(&full, name);
    if (type == MT_COUNTER)
        sb_str(&full, "_total");

    sb_put(&lab, "", 0);
    if (labels && labels[0]) {
        sb_str(&lab, "{");
        for (size_t i = 0; labels[i]; i += 2) {
            if (!valid_name(labels[i], false) || !labels[i + 1])
                goto out;
            if (i)
                sb_str(&lab, ",");
            sb_str(&lab, labels[i]);
            sb_str(&lab, "=\"");
            sb_escaped(&lab, labels[i + 1], true);
            sb_str(&lab, "\"");
        }
        sb_str(&lab, "}");
    }

    pthread_mutex_lock(&m->lock);
    struct family *f = NULL;
    for (size_t i = 0; i < m->nfam; i++) {
        if (strcmp(m->fam[i]->name, full.p) == 0) {
            f = m->fam[i];
            break;
        }
    }
    if (f && f->type != type) {
        pthread_mutex_unlock(&m->lock);
        goto out;
    }
    if (!f) {
        f = gtp_xcalloc(1, sizeof(*f));
        f->name = gtp_xstrdup(full.p);
        f->help = gtp_xstrdup(help ? help : "");
        f->type = type;
        if (m->nfam == m->cap) {
            m->cap = m->cap ? m->cap * 2 : 16;
            m->fam = gtp_xrealloc(m->fam, m->cap * sizeof(*m->fam));
        }
        m->fam[m->nfam++] = f;
    }
    for (struct gtp_metric *it = f->head; it; it = it->next) {
        if (strcmp(it->labels, lab.p) == 0) {
            mt = it;
            break;
        }
    }
    if (!mt) {
        mt = gtp_xcalloc(1, sizeof(*mt));
        mt->type = type;
        mt->labels = gtp_xstrdup(lab.p);
        atomic_init(&mt->value, 0);
        if (type == MT_GAUGE) {
            double z = 0.0;
            uint64_t bits;
            memcpy(&bits, &z, sizeof(bits));
            atomic_store(&mt->value, bits);
        }
        if (f->tail)
            f->tail->next = mt;
        else
            f->head = mt;
        f->tail = mt;
    }
    pthread_mutex_unlock(&m->lock);
out:
    free(full.p);
    free(lab.p);
    return mt;
}

struct gtp_metric *gtp_metrics_counter(struct gtp_metrics *m, const char *name, const char *help,
                                       const char *const *labels)
{
    return reg(m, MT_COUNTER, name, help, labels);
}

struct gtp_metric *gtp_metrics_gauge(struct gtp_metrics *m, const char *name, const char *help,
                                     const char *const *labels)
{
    return reg(m, MT_GAUGE, name, help, labels);
}

static double bits_to_double(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

static uint64_t double_to_bits(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    return bits;
}

void gtp_metric_add(struct gtp_metric *mt, uint64_t n)
{
    if (!mt)
        return;
    if (mt->type == MT_COUNTER) {
        atomic_fetch_add_explicit(&mt->value, n, memory_order_relaxed);
        return;
    }
    uint64_t old = atomic_load_explicit(&mt->value, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&mt->value, &old,
                                                  double_to_bits(bits_to_double(old) + (double)n),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

void gtp_metric_set(struct gtp_metric *mt, double v)
{
    if (!mt || mt->type != MT_GAUGE)
        return;
    atomic_store_explicit(&mt->value, double_to_bits(v), memory_order_relaxed);
}

double gtp_metric_value(const struct gtp_metric *mt)
{
    if (!mt)
        return 0;
    /* atomic_load on a const object is not allowed by every C11 library. */
    uint64_t v = atomic_load_explicit((_Atomic uint64_t *)&mt->value, memory_order_relaxed);
    return mt->type == MT_COUNTER ? (double)v : bits_to_double(v);
}

static void fmt_value(struct sbuf *b, const struct gtp_metric *mt)
{
    char num[64];
    uint64_t v = atomic_load_explicit((_Atomic uint64_t *)&mt->value, memory_order_relaxed);
    if (mt->type == MT_COUNTER) {
        snprintf(num, sizeof(num), "%" PRIu64, v);
    } else {
        double d = bits_to_double(v);
        if (isnan(d))
            snprintf(num, sizeof(num), "NaN");
        else if (isinf(d))
            snprintf(num, sizeof(num), d > 0 ? "+Inf" : "-Inf");
        else
            snprintf(num, sizeof(num), "%.17g", d);
    }
    sb_str(b, num);
}

char *gtp_metrics_render(struct gtp_metrics *m, size_t *len)
{
    struct sbuf b = {0};
    sb_put(&b, "", 0);
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nfam; i++) {
        const struct family *f = m->fam[i];
        sb_str(&b, "# HELP ");
        sb_str(&b, f->name);
        sb_str(&b, " ");
        sb_escaped(&b, f->help, false);
        sb_str(&b, "\n# TYPE ");
        sb_str(&b, f->name);
        sb_str(&b, f->type == MT_COUNTER ? " counter\n" : " gauge\n");
        for (const struct gtp_metric *mt = f->head; mt; mt = mt->next) {
            sb_str(&b, f->name);
            sb_str(&b, mt->labels);
            sb_str(&b, " ");
            fmt_value(&b, mt);
            sb_str(&b, "\n");
        }
    }
    pthread_mutex_unlock(&m->lock);
    if (len)
        *len = b.len;
    return b.p;
}

/* ---- HTTP server ------------------------------------------------------------ */

struct gtp_metrics_server {
    struct MHD_Daemon *d;
    struct gtp_metrics *m;
    gtp_health_fn health;
    void *opaque;
    int port;
};

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, char *body,
                                 size_t len, bool take, const char *ctype)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, body, take ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
    if (!resp) {
        if (take)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    static int first_call_marker;
    struct gtp_metrics_server *s = cls;
    const char *text = "text/plain; charset=utf-8";
    (void)version;
    (void)upload_data;

    bool get =
        strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (!get) /* answer at once: the body, if any, is never read */
        return send_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, (char *)"method not allowed\n", 19,
                         false, text);
    /* Queueing on the first call makes MHD close keep-alive connections
     * (library-notes.md), so the first call only marks the request. */
    if (*con_cls == NULL) {
        *con_cls = &first_call_marker;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/metrics") == 0) {
        size_t len = 0;
        char *body = gtp_metrics_render(s->m, &len);
        return send_text(conn, MHD_HTTP_OK, body, len, true,
                         "text/plain; version=0.0.4; charset=utf-8");
    }
    if (strcmp(url, "/healthz") == 0) {
        char detail[256] = "";
        bool ok = s->health ? s->health(s->opaque, detail, sizeof(detail)) : true;
        if (ok)
            return send_text(conn, MHD_HTTP_OK, (char *)"ok\n", 3, false, text);
        char body[300];
        int n = snprintf(body, sizeof(body), "unhealthy%s%s\n", detail[0] ? ": " : "", detail);
        if (n < 0)
            n = 0;
        if ((size_t)n >= sizeof(body))
            n = sizeof(body) - 1;
        return send_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, body, (size_t)n, false, text);
    }
    return send_text(conn, MHD_HTTP_NOT_FOUND, (char *)"not found\n", 10, false, text);
}

static struct MHD_Daemon *start_daemon(struct gtp_metrics_server *s, unsigned flags)
{
    return MHD_start_daemon(
        flags, (uint16_t)s->port, NULL, NULL, handler, s, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)10, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)16, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(64 * 1024), MHD_OPTION_END);
}

struct gtp_metrics_server *gtp_metrics_server_start(struct gtp_metrics *m, int port,
                                                    gtp_health_fn health, void *opaque,
                                                    char *errstr, size_t errstr_size)
{
    if (!m || port < 0 || port > 65535) {
        gtp_errf(errstr, errstr_size, "invalid metrics port %d", port);
        return NULL;
    }
    struct gtp_metrics_server *s = gtp_xcalloc(1, sizeof(*s));
    s->m = m;
    s->health = health;
    s->opaque = opaque;
    s->port = port;
    unsigned base = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    /* Prefer one dual-stack socket (all IPv4 and IPv6 interfaces); hosts and
     * containers without IPv6 get an IPv4 socket on all interfaces. */
    s->d = start_daemon(s, base | MHD_USE_DUAL_STACK);
    if (!s->d)
        s->d = start_daemon(s, base);
    if (!s->d) {
        gtp_errf(errstr, errstr_size, "cannot listen on port %d for /metrics (in use?)", port);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info)
        s->port = info->port;
    return s;
}

int gtp_metrics_server_port(const struct gtp_metrics_server *s)
{
    return s ? s->port : 0;
}

void gtp_metrics_server_stop(struct gtp_metrics_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->d);
    free(s);
}
