/* Metrics registry, Prometheus text rendering, the liveness heartbeat and the
 * /metrics, /livez, /readyz (+ /healthz) HTTP server every daemon runs
 * (docs/programs.md, docs/metrics.md). */
#include "gtp/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/procstat.h"
#include "gtp/util.h"

enum mtype { MT_COUNTER, MT_GAUGE, MT_HISTOGRAM };

struct gtp_metric {
    enum mtype type;
    char *labels; /* rendered "{k=\"v\",...}" or "" */
    /* Counters count whole events; gauges hold the bits of a double so that
     * both are one lock-free atomic word. Histograms: the bits of the sum. */
    _Atomic uint64_t value;
    /* Histograms: nb finite upper bounds and nb + 1 per-bucket (not
     * cumulative) counts, the last for +Inf. The count is their total, so a
     * render never shows a count that disagrees with its buckets. */
    double *bounds;
    size_t nb;
    _Atomic uint64_t *buckets;
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
    _Atomic int64_t beat_ms;  /* monotonic time of the last main-loop turn */
    _Atomic int64_t stall_ms; /* /livez fails when the beat is older */
    atomic_bool standard;     /* render the process_* family */
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
    atomic_init(&m->beat_ms, gtp_mono_ms());
    atomic_init(&m->stall_ms, GTP_METRICS_STALL_MS_DEFAULT);
    atomic_init(&m->standard, false);
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
            free(mt->bounds);
            free((void *)mt->buckets);
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
                              const char *help, const char *const *labels, const double *bounds,
                              size_t nb)
{
    struct gtp_metric *mt = NULL;
    struct sbuf full = {0}, lab = {0};

    if (!m || !valid_name(name, true))
        return NULL;
    if (type == MT_HISTOGRAM) {
        if (!bounds || nb == 0)
            return NULL;
        for (size_t i = 0; i < nb; i++)
            if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
                return NULL;
    }
    sb_str(&full, "gtp_");
    sb_str(&full, name);
    if (type == MT_COUNTER)
        sb_str(&full, "_total");

    sb_put(&lab, "", 0);
    if (labels && labels[0]) {
        sb_str(&lab, "{");
        for (size_t i = 0; labels[i]; i += 2) {
            if (!valid_name(labels[i], false) || !labels[i + 1] ||
                (type == MT_HISTOGRAM && strcmp(labels[i], "le") == 0))
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
        if (type != MT_COUNTER) {
            double z = 0.0;
            uint64_t bits;
            memcpy(&bits, &z, sizeof(bits));
            atomic_store(&mt->value, bits);
        }
        if (type == MT_HISTOGRAM) {
            mt->nb = nb;
            mt->bounds = gtp_xmalloc(nb * sizeof(*mt->bounds));
            memcpy(mt->bounds, bounds, nb * sizeof(*mt->bounds));
            mt->buckets = gtp_xcalloc(nb + 1, sizeof(*mt->buckets));
            for (size_t i = 0; i <= nb; i++)
                atomic_init(&mt->buckets[i], 0);
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
    return reg(m, MT_COUNTER, name, help, labels, NULL, 0);
}

struct gtp_metric *gtp_metrics_gauge(struct gtp_metrics *m, const char *name, const char *help,
                                     const char *const *labels)
{
    return reg(m, MT_GAUGE, name, help, labels, NULL, 0);
}

struct gtp_metric *gtp_metrics_histogram(struct gtp_metrics *m, const char *name, const char *help,
                                         const double *bounds, size_t nbounds,
                                         const char *const *labels)
{
    return reg(m, MT_HISTOGRAM, name, help, labels, bounds, nbounds);
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

/* Add d to a double kept as bits in an atomic word. */
static void atomic_add_double(_Atomic uint64_t *w, double d)
{
    uint64_t old = atomic_load_explicit(w, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(w, &old, double_to_bits(bits_to_double(old) + d),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

void gtp_metric_observe(struct gtp_metric *mt, double v)
{
    size_t i = 0;
    if (!mt || mt->type != MT_HISTOGRAM || isnan(v))
        return;
    while (i < mt->nb && v > mt->bounds[i]) /* a dozen bounds: a scan beats a search */
        i++;
    atomic_fetch_add_explicit(&mt->buckets[i], 1, memory_order_relaxed);
    atomic_add_double(&mt->value, v);
}

void gtp_metric_add(struct gtp_metric *mt, uint64_t n)
{
    if (!mt || mt->type == MT_HISTOGRAM)
        return;
    if (mt->type == MT_COUNTER) {
        atomic_fetch_add_explicit(&mt->value, n, memory_order_relaxed);
        return;
    }
    atomic_add_double(&mt->value, (double)n);
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
    if (mt->type == MT_HISTOGRAM) { /* the count of observations */
        uint64_t n = 0;
        for (size_t i = 0; i <= mt->nb; i++)
            n += atomic_load_explicit(&mt->buckets[i], memory_order_relaxed);
        return (double)n;
    }
    return mt->type == MT_COUNTER ? (double)v : bits_to_double(v);
}

/* A sample value as the text format writes it. */
static void num_double(char *num, size_t size, double d)
{
    if (isnan(d))
        snprintf(num, size, "NaN");
    else if (isinf(d))
        snprintf(num, size, d > 0 ? "+Inf" : "-Inf");
    else
        snprintf(num, size, "%.17g", d);
}

static void num_value(char *num, size_t size, const struct gtp_metric *mt)
{
    uint64_t v = atomic_load_explicit((_Atomic uint64_t *)&mt->value, memory_order_relaxed);
    if (mt->type == MT_COUNTER)
        snprintf(num, size, "%" PRIu64, v);
    else
        num_double(num, size, bits_to_double(v));
}

/* One sample line: name suffix labels value. */
static void sample(struct sbuf *b, const char *name, const char *suffix, const char *labels,
                   const char *value)
{
    sb_str(b, name);
    sb_str(b, suffix);
    sb_str(b, labels);
    sb_str(b, " ");
    sb_str(b, value);
    sb_str(b, "\n");
}

/* name_bucket{labels,le="x"} per bound (cumulative), then _sum and _count. */
static void render_histogram(struct sbuf *b, const struct family *f, const struct gtp_metric *mt)
{
    uint64_t cum = 0;
    size_t lablen = strlen(mt->labels);
    struct sbuf lab = {0};
    char num[64];
    for (size_t i = 0; i <= mt->nb; i++) {
        char le[40];
        cum += atomic_load_explicit(&mt->buckets[i], memory_order_relaxed);
        if (i < mt->nb)
            snprintf(le, sizeof(le), "le=\"%.15g\"}", mt->bounds[i]);
        else
            snprintf(le, sizeof(le), "le=\"+Inf\"}");
        lab.len = 0; /* "{k=\"v\"}" -> "{k=\"v\",le=...}" */
        sb_put(&lab, mt->labels, lablen ? lablen - 1 : 0);
        sb_str(&lab, lablen ? "," : "{");
        sb_str(&lab, le);
        snprintf(num, sizeof(num), "%" PRIu64, cum);
        sample(b, f->name, "_bucket", lab.p, num);
    }
    free(lab.p);
    num_value(num, sizeof(num), mt);
    sample(b, f->name, "_sum", mt->labels, num);
    snprintf(num, sizeof(num), "%" PRIu64, cum);
    sample(b, f->name, "_count", mt->labels, num);
}

static void family_head(struct sbuf *b, const char *name, const char *help, const char *type)
{
    sb_str(b, "# HELP ");
    sb_str(b, name);
    sb_str(b, " ");
    sb_escaped(b, help, false);
    sb_str(b, "\n# TYPE ");
    sb_str(b, name);
    sb_str(b, " ");
    sb_str(b, type);
    sb_str(b, "\n");
}

/* The process_* family, named and described as the Prometheus client
 * libraries do so that stock dashboards and alerts work on it. */
static void render_process(struct sbuf *b)
{
    static const struct {
        const char *name, *help, *type;
        size_t off;
    } rows[] = {
        {"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter",
         offsetof(struct gtp_procstat, cpu_seconds)},
        {"process_resident_memory_bytes", "Resident memory size in bytes.", "gauge",
         offsetof(struct gtp_procstat, resident_bytes)},
        {"process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge",
         offsetof(struct gtp_procstat, virtual_bytes)},
        {"process_open_fds", "Number of open file descriptors.", "gauge",
         offsetof(struct gtp_procstat, open_fds)},
        {"process_max_fds", "Maximum number of open file descriptors.", "gauge",
         offsetof(struct gtp_procstat, max_fds)},
        {"process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
         "gauge", offsetof(struct gtp_procstat, start_time_seconds)},
    };
    struct gtp_procstat st;
    char err[128];
    /* a partial read still has the fields it got (the rest are 0) */
    (void)gtp_procstat_read(&st, err, sizeof(err));
    for (size_t i = 0; i < GTP_ARRAY_LEN(rows); i++) {
        double v;
        memcpy(&v, (const char *)&st + rows[i].off, sizeof(v));
        char num[64];
        family_head(b, rows[i].name, rows[i].help, rows[i].type);
        num_double(num, sizeof(num), v);
        sample(b, rows[i].name, "", "", num);
    }
}

char *gtp_metrics_render(struct gtp_metrics *m, size_t *len)
{
    struct sbuf b = {0};
    sb_put(&b, "", 0);
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nfam; i++) {
        const struct family *f = m->fam[i];
        family_head(&b, f->name, f->help,
                    f->type == MT_COUNTER     ? "counter"
                    : f->type == MT_HISTOGRAM ? "histogram"
                                              : "gauge");
        for (const struct gtp_metric *mt = f->head; mt; mt = mt->next) {
            if (f->type == MT_HISTOGRAM) {
                render_histogram(&b, f, mt);
                continue;
            }
            char num[64];
            num_value(num, sizeof(num), mt);
            sample(&b, f->name, "", mt->labels, num);
        }
    }
    pthread_mutex_unlock(&m->lock);
    if (atomic_load(&m->standard))
        render_process(&b);
    if (len)
        *len = b.len;
    return b.p;
}

void gtp_metrics_standard(struct gtp_metrics *m)
{
    const char *l[] = {"version", GTP_VERSION, NULL};
    if (!m)
        return;
    gtp_metric_set(gtp_metrics_gauge(m, "build_info", "build version (always 1)", l), 1);
    atomic_store(&m->standard, true);
}

/* ---- liveness --------------------------------------------------------------- */

void gtp_metrics_beat(struct gtp_metrics *m)
{
    if (m)
        atomic_store_explicit(&m->beat_ms, gtp_mono_ms(), memory_order_relaxed);
}

void gtp_metrics_set_stall_limit(struct gtp_metrics *m, int64_t ms)
{
    if (m && ms > 0)
        atomic_store(&m->stall_ms, ms);
}

bool gtp_metrics_live(struct gtp_metrics *m, char *detail, size_t detail_size)
{
    if (!m)
        return true;
    int64_t age = gtp_mono_ms() - atomic_load_explicit(&m->beat_ms, memory_order_relaxed);
    if (age <= atomic_load(&m->stall_ms))
        return true;
    gtp_errf(detail, detail_size, "main loop stalled: last turn %.1f s ago", (double)age / 1000.0);
    return false;
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
    /* /livez: is the main loop turning (restart me if not); /readyz: are my
     * dependencies up (send me work); /healthz is the readiness check of
     * older deployments (docs/programs.md). */
    bool live = strcmp(url, "/livez") == 0;
    if (live || strcmp(url, "/readyz") == 0 || strcmp(url, "/healthz") == 0) {
        char detail[256] = "";
        bool ok = live        ? gtp_metrics_live(s->m, detail, sizeof(detail))
                  : s->health ? s->health(s->opaque, detail, sizeof(detail))
                              : true;
        if (ok)
            return send_text(conn, MHD_HTTP_OK, (char *)"ok\n", 3, false, text);
        char body[300];
        int n = snprintf(body, sizeof(body), "%s%s%s\n", live ? "not live" : "unhealthy",
                         detail[0] ? ": " : "", detail);
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
    gtp_metrics_standard(m);
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
