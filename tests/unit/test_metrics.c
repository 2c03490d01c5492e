/* Unit tests of the metrics registry: Prometheus text rendering (histograms
 * too), the process metrics, and real HTTP round trips to /metrics, /livez,
 * /readyz and /healthz on an ephemeral port. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fcntl.h>

#include "gtp/metrics.h"
#include "gtp/procstat.h"

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

static void test_histogram(void **state)
{
    (void)state;
    struct gtp_metrics *m = gtp_metrics_new();
    static const double b[] = {0.01, 0.1, 1};
    static const double bad[] = {0.1, 0.1};
    const char *l[] = {"topic", "t", NULL};
    const char *lle[] = {"le", "x", NULL};
    struct gtp_metric *h = gtp_metrics_histogram(m, "flush_seconds", "flush latency", b, 3, NULL);
    struct gtp_metric *hl = gtp_metrics_histogram(m, "roll_seconds", "roll latency", b, 3, l);
    assert_non_null(h);
    assert_non_null(hl);
    assert_null(gtp_metrics_histogram(m, "x_seconds", "x", bad, 2, NULL)); /* not increasing */
    assert_null(gtp_metrics_histogram(m, "y_seconds", "y", b, 0, NULL));
    assert_null(gtp_metrics_histogram(m, "z_seconds", "z", b, 3, lle)); /* le is reserved */
    assert_null(gtp_metrics_gauge(m, "flush_seconds", "x", NULL));      /* type clash */

    gtp_metric_observe(h, 0.005); /* first bucket */
    gtp_metric_observe(h, 0.01);  /* bounds are inclusive */
    gtp_metric_observe(h, 0.5);
    gtp_metric_observe(h, 7);    /* +Inf only */
    gtp_metric_observe(h, NAN);  /* ignored */
    gtp_metric_observe(NULL, 1); /* NULL-safe */
    gtp_metric_add(h, 5);        /* not a counter: ignored */
    gtp_metric_observe(hl, 0.25);
    assert_true(gtp_metric_value(h) == 4);

    char *text = gtp_metrics_render(m, NULL);
    /* bounds print short (%.15g): le="0.1", not 0.10000000000000001 */
    assert_non_null(strstr(text, "# TYPE gtp_flush_seconds histogram\n"
                                 "gtp_flush_seconds_bucket{le=\"0.01\"} 2\n"
                                 "gtp_flush_seconds_bucket{le=\"0.1\"} 2\n"
                                 "gtp_flush_seconds_bucket{le=\"1\"} 3\n"
                                 "gtp_flush_seconds_bucket{le=\"+Inf\"} 4\n"
                                 "gtp_flush_seconds_sum 7.5149999999999997\n"
                                 "gtp_flush_seconds_count 4\n"));
    assert_non_null(strstr(text, "gtp_roll_seconds_bucket{topic=\"t\",le=\"0.01\"} 0\n"
                                 "gtp_roll_seconds_bucket{topic=\"t\",le=\"0.1\"} 0\n"
                                 "gtp_roll_seconds_bucket{topic=\"t\",le=\"1\"} 1\n"
                                 "gtp_roll_seconds_bucket{topic=\"t\",le=\"+Inf\"} 1\n"
                                 "gtp_roll_seconds_sum{topic=\"t\"} 0.25\n"
                                 "gtp_roll_seconds_count{topic=\"t\"} 1\n"));
    /* no process metrics unless asked for */
    assert_null(strstr(text, "process_"));
    free(text);
    gtp_metrics_free(m);
}

/* Value of a sample line "name value" in text, or -1. */
static double sample(const char *text, const char *name)
{
    char key[128];
    snprintf(key, sizeof(key), "\n%s ", name);
    const char *p = strstr(text, key);
    return p ? strtod(p + strlen(key), NULL) : -1;
}

static void test_standard(void **state)
{
    (void)state;
    struct gtp_metrics *m = gtp_metrics_new();
    gtp_metrics_standard(m);
    gtp_metrics_standard(m); /* idempotent */
    char *text = gtp_metrics_render(m, NULL);
    assert_non_null(strstr(text, "gtp_build_info{version=\"" GTP_VERSION "\"} 1\n"));
    double fds = sample(text, "process_open_fds");
    assert_true(sample(text, "process_cpu_seconds_total") >= 0);
    assert_true(sample(text, "process_resident_memory_bytes") > 1024 * 1024 / 2);
    assert_true(fds >= 3);
    assert_true(sample(text, "process_max_fds") >= fds);
    double start = sample(text, "process_start_time_seconds");
    double now = (double)time(NULL);
    assert_true(start > now - 3600 && start <= now + 1); /* this test started moments ago */
    free(text);

    /* open fds follow what we open */
    int fd[5];
    for (int i = 0; i < 5; i++)
        assert_true((fd[i] = open("/dev/null", O_RDONLY)) >= 0);
    text = gtp_metrics_render(m, NULL);
    assert_true(sample(text, "process_open_fds") == fds + 5);
    free(text);
    for (int i = 0; i < 5; i++)
        close(fd[i]);

    struct gtp_procstat st;
    char err[128];
    assert_int_equal(gtp_procstat_read(&st, err, sizeof(err)), 0);
    assert_true(st.cpu_seconds >= 0 && st.virtual_bytes >= st.resident_bytes);
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
    /* the server adds the standard metrics */
    assert_non_null(strstr(body, "\ngtp_build_info{version="));
    assert_non_null(strstr(body, "\nprocess_open_fds "));
    assert_int_equal(http(port, "HEAD", "/metrics", body, sizeof(body)), 200);
    assert_string_equal(body, "");
    assert_int_equal(http(port, "GET", "/healthz", body, sizeof(body)), 200);
    assert_string_equal(body, "ok\n");
    assert_int_equal(http(port, "GET", "/readyz", body, sizeof(body)), 200);
    atomic_store(&healthy, false);
    /* readiness fails (and /healthz with it); liveness does not depend on it */
    assert_int_equal(http(port, "GET", "/healthz", body, sizeof(body)), 503);
    assert_non_null(strstr(body, "producer fatal"));
    assert_int_equal(http(port, "GET", "/readyz", body, sizeof(body)), 503);
    assert_non_null(strstr(body, "producer fatal"));
    assert_int_equal(http(port, "GET", "/livez", body, sizeof(body)), 200);
    atomic_store(&healthy, true);

    /* liveness: a main loop that stops beating fails /livez after the limit */
    gtp_metrics_set_stall_limit(m, 150);
    gtp_metrics_beat(m);
    assert_int_equal(http(port, "GET", "/livez", body, sizeof(body)), 200);
    assert_string_equal(body, "ok\n");
    usleep(300 * 1000);
    assert_int_equal(http(port, "GET", "/livez", body, sizeof(body)), 503);
    assert_non_null(strstr(body, "stalled"));
    assert_int_equal(http(port, "GET", "/readyz", body, sizeof(body)), 200); /* still ready */
    gtp_metrics_beat(m);
    assert_int_equal(http(port, "GET", "/livez", body, sizeof(body)), 200);
    gtp_metrics_set_stall_limit(m, GTP_METRICS_STALL_MS_DEFAULT);
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
    /* on a loaded machine the bumper may not have run yet: let it */
    while (gtp_metric_value(ev) <= 7)
        usleep(1000);
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
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_standard),
        cmocka_unit_test(test_http_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
