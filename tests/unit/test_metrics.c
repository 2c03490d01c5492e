/* Unit tests of the metrics registry: Prometheus text rendering, and real HTTP
 * round trips to /metrics and /healthz on an ephemeral port. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gtp/metrics.h"

static void test_render_format(void **state)
{
    (void)state;
    struct gtp_metrics *m = gtp_metrics_new();
    struct gtp_metric *ev = gtp_metrics_counter(m, "generator_events", "events generated", NULL);
    const char *l1[] = {"kind", "html", NULL};
    const char *l2[] = {"kind", "we\"ird\\\n", NULL};
    struct gtp_metric *c1 = gtp_metrics_counter(m, "generator_chaos_events", "chaos by kind", l1);
    struct gtp_metric *c2 = gtp_metrics_counter(m, "generator_chaos_events", "ignored", l2);
    struct gtp_metric *g = gtp_metrics_gauge(m, "lag_seconds", "lag", NULL);
    assert_non_null(ev);
    assert_non_null(c1);
    assert_non_null(c2);
    assert_non_null(g);
    /* same name + labels: same handle; a counter name cannot become a gauge */
    assert_ptr_equal(gtp_metrics_counter(m, "generator_chaos_events", "x", l1), c1);
    assert_null(gtp_metrics_gauge(m, "generator_events_total", "x", NULL));
    assert_null(gtp_metrics_counter(m, "bad-name", "x", NULL));
    const char *badl[] = {"bad key", "v", NULL};
    assert_null(gtp_metrics_counter(m, "ok", "x", badl));

    gtp_metric_add(ev, 41);
    gtp_metric_inc(ev);
    gtp_metric_add(c1, 3);
    gtp_metric_set(g, 2.5);
    gtp_metric_add(g, 1);
    gtp_metric_set(ev, 99); /* ignored on a counter */
    gtp_metric_inc(NULL);   /* NULL-safe */
    assert_true(gtp_metric_value(ev) == 42);
    assert_true(gtp_metric_value(g) == 3.5);

    size_t len;
    char *text = gtp_metrics_render(m, &len);
    assert_int_equal(strlen(text), len);
    const char *want = "# HELP gtp_generator_events_total events generated\n"
                       "# TYPE gtp_generator_events_total counter\n"
                       "gtp_generator_events_total 42\n"
                       "# HELP gtp_generator_chaos_events_total chaos by kind\n"
                       "# TYPE gtp_generator_chaos_events_total counter\n"
                       "gtp_generator_chaos_events_total{kind=\"html\"} 3\n"
                       "gtp_generator_chaos_events_total{kind=\"we\\\"ird\\\\\\n\"} 0\n"
                       "# HELP gtp_lag_seconds lag\n"
                       "# TYPE gtp_lag_seconds gauge\n"
                       "gtp_lag_seconds 3.5\n";
    assert_string_equal(text, want);
    free(text);
    gtp_metrics_free(m);
}

/* One HTTP/1.1 request on a fresh connection; returns the status code and
 * copies the body into body. */
static int http(int port, const char *method, const char *path, char *body, size_t body_size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    char req[256];
    bool post = strcmp(method, "POST") == 0;
    int n = snprintf(req, sizeof(req),
                     "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%s\r\n%s", method,
                     path, post ? "Content-Length: 3\r\n" : "", post ? "abc" : "");
    assert_int_equal(write(fd, req, (size_t)n), n);
    static char resp[65536];
    size_t got = 0;
    ssize_t r;
    while ((r = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
        got += (size_t)r;
    resp[got] = '\0';
    close(fd);
    int status = 0;
    sscanf(resp, "HTTP/1.1 %d", &status);
    const char *b = strstr(resp, "\r\n\r\n");
    snprintf(body, body_size, "%s", b ? b + 4 : "");
    return status;
}

static atomic_bool healthy = true;
static bool health_cb(void *opaque, char *detail, size_t detail_size)
{
    (void)opaque;
    if (atomic_load(&healthy))
        return true;
    snprintf(detail, detail_size, "producer fatal");
    return false;
}

struct bumper {
    struct gtp_metric *mt;
    atomic_bool stop;
};

static void *bump(void *arg)
{
    struct bumper *b = arg;
    while (!atomic_load(&b->stop))
        gtp_metric_inc(b->mt);
    return NULL;
}

static void test_http_round_trip(void **state)
{
    (void)state;
    struct gtp_metrics *m = gtp_metrics_new();
    struct gtp_metric *ev = gtp_metrics_counter(m, "generator_events", "events", NULL);
    gtp_metric_add(ev, 7);
    char err[256];
    struct gtp_metrics_server *s =
        gtp_metrics_server_start(m, 0, health_cb, NULL, err, sizeof(err));
    assert_non_null(s);
    int port = gtp_metrics_server_port(s);
    assert_true(port > 0);

    char body[65536];
    assert_int_equal(http(port, "GET", "/metrics", body, sizeof(body)), 200);
    assert_non_null(strstr(body, "# TYPE gtp_generator_events_total counter\n"));
    assert_non_null(strstr(body, "gtp_generator_events_total 7\n"));
    assert_int_equal(http(port, "HEAD", "/metrics", body, sizeof(body)), 200);
    assert_string_equal(body, "");
    assert_int_equal(http(port, "GET", "/healthz", body, sizeof(body)), 200);
    assert_string_equal(body, "ok\n");
    atomic_store(&healthy, false);
    assert_int_equal(http(port, "GET", "/healthz", body, sizeof(body)), 503);
    assert_non_null(strstr(body, "producer fatal"));
    atomic_store(&healthy, true);
    assert_int_equal(http(port, "POST", "/metrics", body, sizeof(body)), 405);
    assert_int_equal(http(port, "DELETE", "/healthz", body, sizeof(body)), 405);
    assert_int_equal(http(port, "GET", "/nope", body, sizeof(body)), 404);

    /* updates from another thread while the server renders; registering a new
     * series while serving is allowed too */
    struct bumper b = {.mt = ev};
    atomic_init(&b.stop, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, bump, &b), 0);
    for (int i = 0; i < 50; i++) {
        char name[32];
        snprintf(name, sizeof(name), "extra_%d", i);
        assert_non_null(gtp_metrics_gauge(m, name, "extra", NULL));
        assert_int_equal(http(port, "GET", "/metrics", body, sizeof(body)), 200);
    }
    atomic_store(&b.stop, true);
    pthread_join(th, NULL);
    assert_true(gtp_metric_value(ev) > 7);
    assert_non_null(strstr(body, "gtp_extra_49 0\n"));

    /* the port is taken now: a second server on it fails cleanly */
    struct gtp_metrics_server *s2 = gtp_metrics_server_start(m, port, NULL, NULL, err, sizeof(err));
    assert_null(s2);
    assert_true(strlen(err) > 0);

    gtp_metrics_server_stop(s);
    gtp_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_format),
        cmocka_unit_test(test_http_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
