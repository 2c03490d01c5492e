/* The HTTP side of gtp-dashboard on libmicrohttpd: routing, security headers,
 * the static allow-list, the short-lived answer cache, /metrics and /healthz.
 * Only GET and HEAD are served; no file path is ever built from a URL. */
#include "dash.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "api.h"
#include "cache.h"
#include "insights.h"
#include "gtp/buf.h"
#include "gtp/err.h"
#include "gtp/log.h"
#include "gtp/strmap.h"
#include "gtp/util.h"
#include "jout.h"

#define ASSET_MAX (8 << 20)
/* Memory per connection (request line, headers, the answer's headers).
 * libmicrohttpd zeroes all of it before each request of a keep-alive
 * connection: at 64 KiB that memset was a fifth of the server's CPU under
 * wrk (perf), 5-6 us of CPU per cached answer against 3.6-4.4 us at 32 KiB,
 * its default, which still holds a request with 12 KB of headers (a browser
 * sends a few hundred bytes; nginx refuses a header line over 8 KB). */
#define CONN_MEMORY ((size_t)32 * 1024)

static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
                          "object-src 'none'; base-uri 'none'; form-action 'none'; "
                          "frame-ancestors 'none'";

static const struct {
    const char *path, *file, *ctype;
} asset_table[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/index.html", "index.html", "text/html; charset=utf-8"},
    {"/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/style.css", "style.css", "text/css; charset=utf-8"},
    {"/map.json", "map.json", "application/json"},
    {"/favicon.svg", "favicon.svg", "image/svg+xml"},
};

static void security_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
}

/* ---- assets ------------------------------------------------------------------------ */

static char *read_file(const char *path, size_t *len, char *errstr, size_t errstr_size)
{
    struct gtp_buf b = {0};
    FILE *f = fopen(path, "rb");
    int err;
    if (!f) {
        gtp_errf(errstr, errstr_size, "--assets: cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    err = gtp_buf_read_file(&b, f, ASSET_MAX);
    fclose(f);
    if (err == GTP_ERR_NOMEM)
        gtp_errf(errstr, errstr_size, "--assets: %s is larger than %d bytes", path, ASSET_MAX);
    else if (err)
        gtp_errf(errstr, errstr_size, "--assets: cannot read %s", path);
    if (err) {
        gtp_buf_fini(&b);
        return NULL;
    }
    return gtp_buf_take(&b, len);
}

int dash_assets_load(struct dash *d, char *errstr, size_t errstr_size)
{
    d->nassets = GTP_ARRAY_LEN(asset_table);
    d->assets = gtp_xcalloc(d->nassets, sizeof(*d->assets));
    for (size_t i = 0; i < d->nassets; i++) {
        char path[4096];
        size_t len = 0;
        char *body;
        struct MHD_Response *resp;
        d->assets[i].path = asset_table[i].path;
        d->assets[i].file = asset_table[i].file;
        d->assets[i].ctype = asset_table[i].ctype;
        snprintf(path, sizeof(path), "%s/%s", d->cfg.assets, asset_table[i].file);
        body = read_file(path, &len, errstr, errstr_size);
        if (!body)
            return GTP_ERR_CONFIG;
        resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
            free(body);
            gtp_errf(errstr, errstr_size, "cannot create a response for %s", path);
            return GTP_ERR_INTERNAL;
        }
        security_headers(resp);
        MHD_add_response_header(resp, "Content-Type", asset_table[i].ctype);
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
        d->assets[i].resp = resp;
    }
    return 0;
}

void dash_assets_free(struct dash *d)
{
    for (size_t i = 0; d->assets && i < d->nassets; i++)
        if (d->assets[i].resp)
            MHD_destroy_response(d->assets[i].resp);
    free(d->assets);
    d->assets = NULL;
    d->nassets = 0;
}

long dash_asset_find(const struct dash *d, const char *url)
{
    for (size_t i = 0; i < d->nassets; i++)
        if (!strcmp(d->assets[i].path, url))
            return (long)i;
    return -1;
}

/* ---- responses --------------------------------------------------------------------- */

static enum dash_code code_of(unsigned status)
{
    switch (status) {
    case 200:
        return CODE_200;
    case 400:
        return CODE_400;
    case 404:
        return CODE_404;
    case 405:
        return CODE_405;
    case 502:
        return CODE_502;
    case 503:
        return CODE_503;
    default:
        return CODE_OTHER;
    }
}

static void count(struct dash *d, enum dash_route route, unsigned status)
{
    static const char *const routes[] = {"pulse",  "heatmap", "stats",  "skill",
                                         "region", "rising",  "skills", "healthz",
                                         "livez",  "metrics", "static", "other"};
    static const char *const codes[] = {"200", "400", "404", "405", "502", "503", "other"};
    enum dash_code c = code_of(status);
    struct gtp_metric *m = atomic_load(&d->m_req[route][c]);
    if (!m) {
        const char *labels[] = {"route", routes[route], "code", codes[c], NULL};
        /* registering twice returns the same handle, so a race is harmless */
        m = gtp_metrics_counter(d->metrics, "dashboard_http_requests", "http requests answered",
                                labels);
        atomic_store(&d->m_req[route][c], m);
    }
    gtp_metric_inc(m);
}

/* A new response for body (taken: freed by MHD). */
static struct MHD_Response *body_response(char *body, size_t len, const char *ctype)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return NULL;
    }
    security_headers(resp);
    MHD_add_response_header(resp, "Content-Type", ctype);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    return resp;
}

static enum MHD_Result send_body(struct MHD_Connection *conn, unsigned status, char *body,
                                 size_t len, const char *ctype, bool allow_header)
{
    struct MHD_Response *resp = body_response(body, len, ctype);
    enum MHD_Result r;
    if (!resp)
        return MHD_NO;
    if (allow_header)
        MHD_add_response_header(resp, "Allow", "GET, HEAD");
    r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
    struct jout j;
    size_t len;
    char *body;
    jout_init(&j);
    jout_lit(&j, "{\"error\":");
    jout_cstr(&j, msg);
    jout_lit(&j, "}\n");
    body = jout_take(&j, &len);
    return send_body(conn, status, body, len, "application/json", status == 405);
}

/* ---- API routes -------------------------------------------------------------------- */

static struct gtp_taxonomy *tx_get(struct dash *d)
{
    struct gtp_taxonomy *tx;
    pthread_mutex_lock(&d->tx_mu);
    tx = gtp_taxonomy_ref(d->tx);
    pthread_mutex_unlock(&d->tx_mu);
    return tx;
}

static const char *arg(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

/* ---- answers and their cache --------------------------------------------------------- */

/* dcache_compute_fn: one API answer as a reusable MHD response (ctx: the
 * dash, params: a struct dash_query). Returns GTP_ERR_INVAL (an unknown
 * skill: 400), GTP_ERR_REDIS (503), GTP_ERR_PARSE (unexpected data: 502) or
 * GTP_ERR_INTERNAL. Runs on the cache's compute and refresher threads (on
 * the request's worker with --cache-ms 0). */
static int compute_answer(void *ctx, const void *params, void **answer, char *errstr,
                          size_t errstr_size)
{
    struct dash *d = ctx;
    const struct dash_query *dq = params;
    const struct api_params *q = &dq->q;
    struct gtp_taxonomy *tx = tx_get(d);
    redisContext *rc = NULL;
    struct MHD_Response *resp;
    struct jout j;
    char *body;
    size_t len;
    int e = 0;

    jout_init(&j);
    if (q->skill[0] && gtp_skills_find(tx->skills, q->skill) < 0) {
        gtp_errf(errstr, errstr_size, "unknown skill id");
        e = GTP_ERR_INVAL;
        goto out;
    }
    if (dq->route == ROUTE_SKILLS) { /* the taxonomy alone, no Redis */
        api_skills(tx->skills, q, &j);
        goto answer;
    }
    rc = pool_get(d->pool, errstr, errstr_size);
    if (!rc) {
        gtp_metric_set(d->m_redis_up, 0);
        e = GTP_ERR_REDIS;
        goto out;
    }
    if (dq->route == ROUTE_PULSE)
        e = api_pulse(rc, tx->skills, q, &j, errstr, errstr_size);
    else if (dq->route == ROUTE_HEATMAP)
        e = api_heatmap(rc, tx->skills, q, &j, errstr, errstr_size);
    else if (dq->route == ROUTE_SKILL)
        e = api_skill(rc, tx->skills, q, &j, errstr, errstr_size);
    else if (dq->route == ROUTE_REGION)
        e = api_region(rc, tx->skills, q, &j, errstr, errstr_size);
    else if (dq->route == ROUTE_RISING)
        e = api_rising(rc, tx->skills, q, &j, errstr, errstr_size);
    else
        e = api_stats(rc, gtp_wall_us() / 1000, &j, errstr, errstr_size);
    pool_put(d->pool, rc, e == GTP_ERR_REDIS);
    if (e) {
        gtp_metric_inc(d->m_redis_err);
        gtp_log(GTP_LOG_WARN, "api", "%s", errstr);
        if (e == GTP_ERR_REDIS)
            gtp_metric_set(d->m_redis_up, 0);
        else
            e = GTP_ERR_PARSE;
        goto out;
    }
    gtp_metric_set(d->m_redis_up, 1);
answer:
    if (q->format != API_CSV)
        jout_lit(&j, "\n");
    body = jout_take(&j, &len);
    resp = body_response(body, len,
                         q->format == API_CSV ? "text/csv; charset=utf-8" : "application/json");
    if (!resp) {
        gtp_errf(errstr, errstr_size, "cannot create a response");
        e = GTP_ERR_INTERNAL;
        goto out;
    }
    *answer = resp;
out:
    jout_fini(&j);
    gtp_taxonomy_free(tx);
    return e;
}

/* dcache_use_fn: queue the answer on the connection (MHD takes a reference
 * of its own, so the cache may release its one meanwhile). */
static bool queue_answer(void *conn, void *answer)
{
    return MHD_queue_response(conn, 200, answer) == MHD_YES;
}

static void release_answer(void *answer)
{
    MHD_destroy_response(answer);
}

/* How long an expired answer may stand in for one Redis could not give. */
#define STALE_IF_ERROR_MS 10000
/* A key nobody asked for in this many cache periods is dropped (and no
 * longer refreshed). */
#define IDLE_PERIODS 10

int dash_cache_start(struct dash *d, char *errstr, size_t errstr_size)
{
    struct dcache_cfg cc = {
        .ttl_ms = d->cfg.cache_ms,
        .stale_ms = STALE_IF_ERROR_MS,
        .max_keys = (int)d->cfg.cache_keys,
        .idle_periods = IDLE_PERIODS,
        .threads = (int)d->cfg.threads,
        .params_size = sizeof(struct dash_query),
        .compute = compute_answer,
        .release = release_answer,
        .ctx = d,
        .m = d->m_cache,
    };
    if (d->cfg.cache_ms <= 0)
        return 0;
    d->cache = dcache_new(&cc, errstr, errstr_size);
    return d->cache ? 0 : GTP_ERR_INTERNAL;
}

void dash_cache_stop(struct dash *d)
{
    dcache_free(d->cache);
    d->cache = NULL;
}

void dash_cache_clear(struct dash *d)
{
    if (d->cache)
        dcache_clear(d->cache);
}

/* An API request whose key was cold: its connection is suspended while the
 * cache's compute thread works (docs/dashboard.md, "Answer cache"), so the
 * worker thread that took it goes on serving other connections. The
 * connection's request context from then on; freed by on_completed. */
struct pending {
    struct dcache_wait *w;
    enum dash_route route;
    int64_t t0;
};

/* dcache_parking: both run under the cache's lock (which is why a wake
 * cannot overtake its park): the park on this connection's worker inside the
 * access handler, the wake on the compute thread once the answer is in (or
 * on the main thread stopping the server). They only take libmicrohttpd's
 * own lock, and libmicrohttpd calls into the cache (on_completed) with none
 * of its locks held. */
static void park_conn(void *conn)
{
    MHD_suspend_connection(conn);
}

static void wake_conn(void *conn)
{
    MHD_resume_connection(conn);
}

/* Answer an API request after the cache: e is dcache_serve's code. */
static enum MHD_Result api_result(struct MHD_Connection *conn, int e, const char *err,
                                  unsigned *status)
{
    switch (e) {
    case 0:
        *status = 200;
        return MHD_YES;
    case GTP_ERR_INVAL:
        *status = 400;
        return send_error(conn, 400, err);
    case GTP_ERR_REDIS:
        *status = 503;
        return send_error(conn, 503, "redis unavailable");
    case GTP_ERR_UNAVAILABLE:
        *status = 503;
        return send_error(conn, 503, "shutting down");
    case GTP_ERR_PARSE:
        *status = 502;
        return send_error(conn, 502, "unexpected data in redis");
    default:
        return MHD_NO;
    }
}

/* status: the answer's, or 0 when the connection was suspended. */
static enum MHD_Result serve_api(struct dash *d, struct MHD_Connection *conn, enum dash_route route,
                                 void **req_cls, int64_t t0, unsigned *status)
{
    bool insight = route == ROUTE_SKILL || route == ROUTE_REGION || route == ROUTE_RISING ||
                   route == ROUTE_SKILLS;
    bool skill_arg = route == ROUTE_HEATMAP || route == ROUTE_SKILL;
    bool top_arg = route == ROUTE_PULSE || route == ROUTE_SKILL || route == ROUTE_REGION ||
                   route == ROUTE_RISING;
    bool region_arg = route == ROUTE_REGION || route == ROUTE_RISING;
    bool metric_arg = route == ROUTE_PULSE || route == ROUTE_HEATMAP;
    const char *top = top_arg ? arg(conn, "top") : NULL;
    struct dash_query dq;
    struct api_params *q = &dq.q;
    char err[512], key[DCACHE_KEY_MAX];
    int e;

    memset(&dq, 0, sizeof(dq));
    dq.route = route;
    if (route != ROUTE_STATS) {
        if (api_parse(arg(conn, "hours"), top, skill_arg ? arg(conn, "skill") : NULL, NULL, q, err,
                      sizeof(err)) ||
            api_parse_more(region_arg ? arg(conn, "region") : NULL,
                           metric_arg ? arg(conn, "metric") : NULL,
                           insight ? arg(conn, "format") : NULL, q, err, sizeof(err))) {
            *status = 400;
            return send_error(conn, 400, err);
        }
        if (insight && route != ROUTE_SKILLS && !top)
            q->top = 10;
        if (route == ROUTE_SKILL && !q->skill[0]) {
            *status = 400;
            return send_error(conn, 400, "skill is required");
        }
        if (route == ROUTE_REGION && !q->region[0]) {
            *status = 400;
            return send_error(conn, 400, "region is required");
        }
    }
    snprintf(key, sizeof(key), "%d|%d|%d|%s|%s|%d|%d", (int)route, q->hours, q->top, q->skill,
             q->region, (int)q->metric, (int)q->format);
    if (d->cache) {
        const struct dcache_parking pk = {park_conn, wake_conn, conn};
        struct dcache_wait *w = NULL;
        e = dcache_serve_async(d->cache, key, &dq, queue_answer, conn, &pk, &w, err, sizeof(err));
        if (e == DCACHE_PENDING) {
            /* the handler runs again once resumed, on this worker, not before
             * this call returns: the context can be set now */
            struct pending *p = gtp_xcalloc(1, sizeof(*p));
            p->w = w;
            p->route = route;
            p->t0 = t0;
            *req_cls = p; /* freed by on_completed */
            *status = 0;  /* suspended: answered when resumed */
            return MHD_YES;
        }
    } else {
        void *answer = NULL;
        gtp_metric_inc(d->m_cache.misses);
        e = compute_answer(d, &dq, &answer, err, sizeof(err));
        if (!e && !queue_answer(conn, answer))
            e = GTP_ERR_INTERNAL;
        if (answer)
            release_answer(answer);
    }
    return api_result(conn, e, err, status);
}

void dash_ready_check(struct dash *d)
{
    char err[256];
    redisContext *rc = pool_get(d->pool, err, sizeof(err));
    bool ok = false;
    if (rc) {
        redisReply *rep = redisCommand(rc, "PING");
        ok = rep && rep->type == REDIS_REPLY_STATUS;
        if (rep)
            freeReplyObject(rep);
        pool_put(d->pool, rc, !ok);
    }
    atomic_store(&d->redis_ready, ok);
    gtp_metric_set(d->m_redis_up, ok ? 1 : 0);
}

/* The last readiness PING's answer: no Redis round trip on an HTTP worker, which a stalled
 * Redis would hold for up to --redis-timeout-ms. */
static enum MHD_Result serve_healthz(struct dash *d, struct MHD_Connection *conn, unsigned *status)
{
    bool ok = atomic_load(&d->redis_ready);
    *status = ok ? 200 : 503;
    {
        const char *msg = ok ? "{\"status\":\"ok\",\"redis\":\"up\"}\n"
                             : "{\"status\":\"unavailable\",\"redis\":\"down\"}\n";
        return send_body(conn, *status, gtp_xstrdup(msg), strlen(msg), "application/json", false);
    }
}

/* The main loop's heartbeat (gtp_metrics_live): the http thread answering
 * proves little on its own. */
static enum MHD_Result serve_livez(struct dash *d, struct MHD_Connection *conn, unsigned *status)
{
    char detail[200] = "", body[300];
    bool ok = gtp_metrics_live(d->metrics, detail, sizeof(detail));
    int n = ok ? snprintf(body, sizeof(body), "{\"status\":\"ok\"}\n")
               : snprintf(body, sizeof(body), "{\"status\":\"stalled\",\"detail\":\"%s\"}\n",
                          detail); /* detail: our own text, no quotes */
    *status = ok ? 200 : 503;
    return send_body(conn, *status, gtp_xstrdup(body), (size_t)n, "application/json", false);
}

static enum MHD_Result serve_metrics(struct dash *d, struct MHD_Connection *conn, unsigned *status)
{
    size_t len = 0;
    char *text = gtp_metrics_render(d->metrics, &len);
    *status = 200;
    return send_body(conn, 200, text, len, "text/plain; version=0.0.4; charset=utf-8", false);
}

/* ---- the access handler -------------------------------------------------------------- */

static int request_marker;

/* The connection resumed: answer from what its computation gave. */
static enum MHD_Result answer_pending(struct dash *d, struct MHD_Connection *conn,
                                      struct pending *p)
{
    char err[DCACHE_ERR_MAX];
    unsigned status = 500;
    enum MHD_Result r;
    int e;
    if (!p->w)
        return MHD_NO; /* answered already */
    e = dcache_wait_end(d->cache, p->w, queue_answer, conn, err, sizeof(err));
    p->w = NULL;
    r = api_result(conn, e, err, &status);
    count(d, p->route, status);
    gtp_metric_observe(d->m_req_seconds, (double)(gtp_mono_us() - p->t0) / 1e6);
    return r;
}

/* MHD_OPTION_NOTIFY_COMPLETED: the request is over (answered, or the client
 * went away, or the daemon stops). */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct dash *d = cls;
    (void)conn;
    (void)toe;
    if (*req_cls && *req_cls != &request_marker) {
        struct pending *p = *req_cls;
        dcache_wait_fini(d->cache, p->w); /* an answer got but never sent */
        free(p);
    }
    *req_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct dash *d = cls;
    bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
    enum dash_route route = ROUTE_OTHER;
    unsigned status = 500;
    enum MHD_Result r;
    int64_t t0;
    long a;

    (void)version;
    (void)upload_data;
    if (!get) {
        /* answer at once: MHD then skips the body and closes the connection */
        count(d, ROUTE_OTHER, 405);
        return send_error(conn, 405, "only GET and HEAD are allowed");
    }
    /* Queue on the second call: answering on the first makes MHD close
     * keep-alive connections. */
    if (*req_cls == NULL) {
        *req_cls = &request_marker;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0; /* a GET body is ignored */
        return MHD_YES;
    }
    if (*req_cls != &request_marker)
        return answer_pending(d, conn, *req_cls);

    t0 = gtp_mono_us();
    if (!strcmp(url, "/api/pulse"))
        route = ROUTE_PULSE;
    else if (!strcmp(url, "/api/heatmap"))
        route = ROUTE_HEATMAP;
    else if (!strcmp(url, "/api/stats"))
        route = ROUTE_STATS;
    else if (!strcmp(url, "/api/skill"))
        route = ROUTE_SKILL;
    else if (!strcmp(url, "/api/region"))
        route = ROUTE_REGION;
    else if (!strcmp(url, "/api/rising"))
        route = ROUTE_RISING;
    else if (!strcmp(url, "/api/skills"))
        route = ROUTE_SKILLS;
    else if (!strcmp(url, "/readyz") || !strcmp(url, "/healthz"))
        route = ROUTE_HEALTHZ;
    else if (!strcmp(url, "/livez"))
        route = ROUTE_LIVEZ;
    else if (!strcmp(url, "/metrics"))
        route = ROUTE_METRICS;

    switch (route) {
    case ROUTE_PULSE:
    case ROUTE_HEATMAP:
    case ROUTE_STATS:
    case ROUTE_SKILL:
    case ROUTE_REGION:
    case ROUTE_RISING:
    case ROUTE_SKILLS:
        r = serve_api(d, conn, route, req_cls, t0, &status);
        break;
    case ROUTE_HEALTHZ:
        r = serve_healthz(d, conn, &status);
        break;
    case ROUTE_LIVEZ:
        r = serve_livez(d, conn, &status);
        break;
    case ROUTE_METRICS:
        r = serve_metrics(d, conn, &status);
        break;
    default:
        a = dash_asset_find(d, url);
        if (a >= 0) {
            route = ROUTE_STATIC;
            status = 200;
            r = MHD_queue_response(conn, 200, d->assets[a].resp);
        } else {
            status = 404;
            r = send_error(conn, 404, "not found");
        }
    }
    if (status) {
        count(d, route, status);
        gtp_metric_observe(d->m_req_seconds, (double)(gtp_mono_us() - t0) / 1e6);
    }
    return r;
}

/* Percent-decoding for paths and query values, as MHD's own but leaving
 * "%00" undecoded: a NUL would cut the C string short ("/index.html%00.js"
 * would become "/index.html"), so such URLs stay unmatched (404/400). */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    char *r = s, *w = s;
    (void)cls;
    (void)conn;
    while (*r) {
        if (r[0] == '%' && isxdigit((unsigned char)r[1]) && isxdigit((unsigned char)r[2])) {
            char hex[3] = {r[1], r[2], '\0'};
            unsigned long v = strtoul(hex, NULL, 16);
            if (v != 0) {
                *w++ = (char)v;
                r += 3;
                continue;
            }
        }
        *w++ = *r++;
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* ---- start / stop ------------------------------------------------------------------ */

int dash_listen_parse(const char *s, char *host, size_t host_size, int *port, char *errstr,
                      size_t errstr_size)
{
    const char *colon, *h = s;
    size_t hlen;
    long long p;
    if (!s || !*s)
        goto bad;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            goto bad;
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || strchr(s, ':') != colon)
            goto bad;
        hlen = (size_t)(colon - s);
    }
    if (hlen == 0 || hlen >= host_size || gtp_parse_ll(colon + 1, &p) || p < 0 || p > 65535)
        goto bad;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (int)p;
    return 0;
bad:
    gtp_errf(errstr, errstr_size, "--listen: expected HOST:PORT or [V6]:PORT, got '%s'",
             s ? s : "");
    return GTP_ERR_CONFIG;
}

int dash_http_start(struct dash *d, char *errstr, size_t errstr_size)
{
    char host[256], portstr[16];
    struct addrinfo hints = {0}, *ai = NULL;
    struct sockaddr_storage ss;
    /* suspend/resume: a request for a cold key waits off its worker thread */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    const union MHD_DaemonInfo *info;
    int port, e;
    struct MHD_Daemon *mhd;

    if ((e = dash_listen_parse(d->cfg.listen, host, sizeof(host), &port, errstr, errstr_size)))
        return e;
    snprintf(portstr, sizeof(portstr), "%d", port);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((e = getaddrinfo(host, portstr, &hints, &ai)) != 0 || !ai) {
        gtp_errf(errstr, errstr_size, "--listen: cannot resolve '%s': %s", host, gai_strerror(e));
        if (ai)
            freeaddrinfo(ai);
        return GTP_ERR_CONFIG;
    }
    memset(&ss, 0, sizeof(ss));
    memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    freeaddrinfo(ai);

    mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, d, MHD_OPTION_SOCK_ADDR,
                           &ss, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)d->cfg.threads,
                           MHD_OPTION_CONNECTION_LIMIT, (unsigned)d->cfg.conn_limit,
                           MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)d->cfg.per_ip_limit,
                           MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)d->cfg.conn_timeout_s,
                           MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY,
                           MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
                           MHD_OPTION_NOTIFY_COMPLETED, on_completed, d, MHD_OPTION_END);
    if (!mhd) {
        gtp_errf(errstr, errstr_size, "cannot listen on %s (port in use or not permitted)",
                 d->cfg.listen);
        return GTP_ERR_IO;
    }
    info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
    d->port = info ? info->port : port;
    d->mhd = mhd;
    return 0;
}

void dash_http_stop(struct dash *d)
{
    if (!d->mhd)
        return;
    /* MHD_stop_daemon aborts on a suspended connection: resume every one
     * still waiting for a computation (it answers 503), and suspend no more */
    if (d->cache)
        dcache_close(d->cache);
    MHD_stop_daemon(d->mhd);
    d->mhd = NULL;
}
