/* gtp-dashboard's pure pieces: JSON escaping, API parameter validation,
 * ranking of ZUNION answers, hour windows, the stats document, --listen
 * parsing and the static allow-list. The Redis and HTTP paths are covered by
 * tests/integration/test_dashboard.py against real servers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "dash.h"
#include "growth.h"
#include "gtp/err.h"
#include "jout.h"

static char *esc(const char *s, size_t n)
{
    struct jout j;
    jout_init(&j);
    jout_str(&j, s, n);
    return jout_take(&j, NULL);
}

static void test_jout_escaping(void **state)
{
    static const struct {
        const char *in;
        size_t n;
        const char *want;
    } cases[] = {
        {"python", 6, "\"python\""},
        {"<script>alert(1)</script>", 25, "\"\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\""},
        {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
        {"x'&y", 4, "\"x\\u0027\\u0026y\""},
        {"l1\nl2\t\r", 7, "\"l1\\nl2\\t\\r\""},
        {"\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\""},
        {"nul\0x", 5, "\"nul\\u0000x\""},
        {"caf\xc3\xa9", 5, "\"caf\xc3\xa9\""},           /* valid UTF-8 kept */
        {"\xe2\x82\xac", 3, "\"\xe2\x82\xac\""},         /* euro sign */
        {"\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\""}, /* emoji */
        {"bad\xff", 4, "\"bad\\ufffd\""},
        {"\xc0\xaf", 2, "\"\\ufffd\\ufffd\""},            /* overlong '/' */
        {"\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""}, /* surrogate */
        {"\xe2\x82", 2, "\"\\ufffd\\ufffd\""},            /* truncated */
        {"\xe2\x80\xa8", 3, "\"\\u2028\""},
        {"", 0, "\"\""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = esc(cases[i].in, cases[i].n);
        if (strcmp(got, cases[i].want))
            fail_msg("case %zu: got %s want %s", i, got, cases[i].want);
        free(got);
    }
}

static void test_jout_numbers(void **state)
{
    struct jout j;
    (void)state;
    jout_init(&j);
    jout_i64(&j, -42);
    jout_lit(&j, ",");
    jout_num(&j, 12.5);
    jout_lit(&j, ",");
    jout_num(&j, 3.0);
    jout_lit(&j, ",");
    jout_num(&j, -0.0001);
    jout_lit(&j, ",");
    jout_num(&j, 1.0 / 0.0);
    jout_lit(&j, ",");
    jout_cstr(&j, NULL);
    assert_string_equal(j.p, "-42,12.5,3,0,null,null");
    jout_fini(&j);
    jout_fini(&j); /* idempotent */
}

static void test_api_parse(void **state)
{
    static const struct {
        const char *hours, *top, *skill;
        int ok, want_hours, want_top;
    } cases[] = {
        {NULL, NULL, NULL, 1, 24, 5},
        {"1", "1", NULL, 1, 1, 1},
        {"168", "20", NULL, 1, 168, 20},
        {"007", NULL, NULL, 1, 7, 5},
        {"0", NULL, NULL, 0, 0, 0},
        {"169", NULL, NULL, 0, 0, 0},
        {"-1", NULL, NULL, 0, 0, 0},
        {"99999", NULL, NULL, 0, 0, 0},
        {"", NULL, NULL, 0, 0, 0},
        {" 24", NULL, NULL, 0, 0, 0},
        {"24 ", NULL, NULL, 0, 0, 0},
        {"1e2", NULL, NULL, 0, 0, 0},
        {"+5", NULL, NULL, 0, 0, 0},
        {"9999999999999", NULL, NULL, 0, 0, 0},
        {NULL, "abc", NULL, 0, 0, 0},
        {NULL, "0", NULL, 0, 0, 0},
        {NULL, "21", NULL, 0, 0, 0},
        {NULL, NULL, "python", 1, 24, 5},
        {NULL, NULL, "react-native", 1, 24, 5},
        {NULL, NULL, "", 0, 0, 0},
        {NULL, NULL, "Python", 0, 0, 0},
        {NULL, NULL, "<script>", 0, 0, 0},
        {NULL, NULL, "a:b", 0, 0, 0},
        {NULL, NULL, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 0, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct api_params q;
        char err[256] = "";
        int e = api_parse(cases[i].hours, cases[i].top, cases[i].skill, NULL, &q, err, sizeof(err));
        if (cases[i].ok) {
            if (e)
                fail_msg("case %zu: rejected: %s", i, err);
            assert_int_equal(q.hours, cases[i].want_hours);
            assert_int_equal(q.top, cases[i].want_top);
            assert_string_equal(q.skill, cases[i].skill ? cases[i].skill : "");
        } else {
            if (e != GTP_ERR_INVAL)
                fail_msg("case %zu accepted", i);
            assert_true(err[0] != '\0');
        }
    }
}

static void test_api_parse_taxonomy(void **state)
{
    char err[256];
    struct api_params q;
    struct gtp_skills *sk = gtp_skills_load(GTP_TEST_DATA "/../../taxonomy", err, sizeof(err));
    (void)state;
    if (!sk)
        fail_msg("%s", err);
    assert_int_equal(api_parse(NULL, NULL, "python", sk, &q, err, sizeof(err)), 0);
    assert_string_equal(q.skill, "python");
    assert_int_equal(api_parse(NULL, NULL, "react-native", sk, &q, err, sizeof(err)), 0);
    assert_int_equal(api_parse(NULL, NULL, "not-a-skill", sk, &q, err, sizeof(err)), GTP_ERR_INVAL);
    assert_string_equal(err, "unknown skill id");
    gtp_skills_free(sk);
}

/* ---- hand-made redis replies --------------------------------------------------------- */

static redisReply *rstr(const char *s)
{
    redisReply *r = calloc(1, sizeof(*r));
    r->type = REDIS_REPLY_STRING;
    r->str = strdup(s);
    r->len = strlen(s);
    return r;
}

static redisReply *rarr(size_t n, ...)
{
    va_list ap;
    redisReply *r = calloc(1, sizeof(*r));
    r->type = REDIS_REPLY_ARRAY;
    r->elements = n;
    r->element = calloc(n ? n : 1, sizeof(*r->element));
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        r->element[i] = va_arg(ap, redisReply *);
    va_end(ap);
    return r;
}

static void rfree(redisReply *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        rfree(r->element[i]);
    free(r->element);
    free(r->str);
    free(r);
}

static void test_rank(void **state)
{
    struct api_rank *rk;
    redisReply *rep;
    long n;
    (void)state;
    /* redis order (score ascending), ties by member */
    rep = rarr(8, rstr("sql"), rstr("3"), rstr("rust"), rstr("7"), rstr("go"), rstr("7"),
               rstr("python"), rstr("12"));
    n = api_rank_parse(rep, &rk);
    assert_int_equal(n, 4);
    assert_int_equal(rk[0].count, 12);
    assert_memory_equal(rk[0].member, "python", 6);
    assert_memory_equal(rk[1].member, "go", 2); /* equal counts: id ascending */
    assert_memory_equal(rk[2].member, "rust", 4);
    assert_int_equal(rk[3].count, 3);
    free(rk);
    rfree(rep);

    rep = rarr(0);
    assert_int_equal(api_rank_parse(rep, &rk), 0);
    free(rk);
    rfree(rep);

    /* wrong shapes */
    rep = rarr(1, rstr("x"));
    assert_int_equal(api_rank_parse(rep, &rk), -1);
    rfree(rep);
    rep = rarr(2, rstr("x"), rstr("nan"));
    assert_int_equal(api_rank_parse(rep, &rk), -1);
    rfree(rep);
    rep = rarr(2, rstr("x"), rstr("12abc"));
    assert_int_equal(api_rank_parse(rep, &rk), -1);
    rfree(rep);
    rep = rstr("not an array");
    assert_int_equal(api_rank_parse(rep, &rk), -1);
    rfree(rep);
    assert_int_equal(api_rank_parse(NULL, &rk), -1);
}

static void test_hour_labels(void **state)
{
    char labels[3][16];
    (void)state;
    /* 2024-01-01T01:00:00Z = 1704070800: the window crosses the year */
    api_hour_labels(1704070800, 3, labels);
    assert_string_equal(labels[0], "2023-12-31-23");
    assert_string_equal(labels[1], "2024-01-01-00");
    assert_string_equal(labels[2], "2024-01-01-01");
    /* leap day */
    api_hour_labels(1709251200, 1, labels); /* 2024-03-01T00:00Z */
    assert_string_equal(labels[0], "2024-03-01-00");
    api_hour_labels(1709251200 - 3600, 1, labels);
    assert_string_equal(labels[0], "2024-02-29-23");
}

static void test_stats_json(void **state)
{
    struct jout j;
    char err[128];
    redisReply *rep;
    (void)state;
    jout_init(&j);
    rep = rarr(16, rstr("events_total"), rstr("100"), rstr("rejected_total"), rstr("7"),
               rstr("rejected:invalid_json"), rstr("5"), rstr("rejected:<b>x</b>"), rstr("2"),
               rstr("rejected:invalid_utf8"), rstr("3"), rstr("late_total"), rstr("garbage"),
               rstr("last_event_us"), rstr("1710498600000000"), rstr("last_flush_ms"),
               rstr("1710498610000"));
    assert_int_equal(api_stats_json(rep, 1710498612500, &j, err, sizeof(err)), 0);
    assert_string_equal(
        j.p, "{\"events_total\":100,\"valid_total\":0,\"rejected_total\":7,\"counted_total\":0,"
             "\"late_total\":0,\"duplicates_total\":0,\"mentions_total\":0,"
             /* a field that is not a reason slug is not shown at all */
             "\"rejected_by_reason\":{\"invalid_json\":5,\"invalid_utf8\":3},"
             "\"last_event_time\":\"2024-03-15T10:30:00Z\",\"event_lag_seconds\":12.5,"
             "\"last_flush_time\":\"2024-03-15T10:30:10Z\",\"freshness_seconds\":2.5}");
    rfree(rep);

    jout_reset(&j);
    rep = rarr(0);
    assert_int_equal(api_stats_json(rep, 0, &j, err, sizeof(err)), 0);
    assert_non_null(strstr(j.p, "\"last_event_time\":null"));
    assert_non_null(strstr(j.p, "\"freshness_seconds\":null"));
    rfree(rep);

    rep = rstr("x");
    assert_int_equal(api_stats_json(rep, 0, &j, err, sizeof(err)), GTP_ERR_PARSE);
    rfree(rep);
    jout_fini(&j);
}

static void test_listen_parse(void **state)
{
    static const struct {
        const char *in, *host;
        int port;
    } ok[] = {
        {"127.0.0.1:8501", "127.0.0.1", 8501},
        {"0.0.0.0:0", "0.0.0.0", 0},
        {"localhost:80", "localhost", 80},
        {"[::1]:8501", "::1", 8501},
    };
    static const char *const bad[] = {"",     "8501",      "host:",    ":8501", "h:70000",
                                      "h:-1", "[::1]8501", "::1:8501", "h:80x", "[]:80"};
    char host[64], err[128];
    int port;
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(dash_listen_parse(ok[i].in, host, sizeof(host), &port, err, sizeof(err)),
                         0);
        assert_string_equal(host, ok[i].host);
        assert_int_equal(port, ok[i].port);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (dash_listen_parse(bad[i], host, sizeof(host), &port, err, sizeof(err)) !=
            GTP_ERR_CONFIG)
            fail_msg("accepted '%s'", bad[i]);
}

static void test_assets(void **state)
{
    static struct dash d;
    char err[512];
    static const char *const no[] = {"",
                                     "/..",
                                     "/../etc/passwd",
                                     "/app.js/",
                                     "//app.js",
                                     "/APP.JS",
                                     "/app.js/../../etc/passwd",
                                     "/index.html\n",
                                     "/map.json.tmp",
                                     "/dashboard/app.js",
                                     "app.js"};
    (void)state;
    memset(&d, 0, sizeof(d));
    d.cfg.assets = (char *)GTP_TEST_DATA "/../../dashboard";
    if (dash_assets_load(&d, err, sizeof(err)))
        fail_msg("%s", err);
    assert_true(dash_asset_find(&d, "/") >= 0);
    assert_true(dash_asset_find(&d, "/app.js") >= 0);
    assert_true(dash_asset_find(&d, "/map.json") >= 0);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (dash_asset_find(&d, no[i]) >= 0)
            fail_msg("served '%s'", no[i]);
    dash_assets_free(&d);

    /* a missing directory is a configuration error, not a crash */
    d.cfg.assets = (char *)"/nonexistent-gtp-assets";
    assert_int_equal(dash_assets_load(&d, err, sizeof(err)), GTP_ERR_CONFIG);
    assert_non_null(strstr(err, "--assets"));
    dash_assets_free(&d);
}

/* The worked examples of docs/dashboard.md#growth, computed by hand:
 * 60 of 1000 postings now against 30 of 1000 before: p1 .06, p0 .03, pooled
 * p = 90/2000 = .045, p(1-p) = .042975, (1/1000 + 1/1000) = .002, variance
 * .00008595, sd .0092710, z = .03 / .0092710 = 3.236: rising. 5 of 1000
 * against 1 of 1000 ("+400 %"): support 6 < 10 and z = .004 / .0024464 =
 * 1.635 < 1.96: not shown. 40 of 800 against 90 of 1200: p1 .05, p0 .075,
 * p = 130/2000 = .065, variance .060775 * .00208333 = .00012661, sd .011252,
 * z = -.025 / .011252 = -2.222: falling. */
static void test_growth(void **state)
{
    struct growth g, h;
    (void)state;
    assert_int_equal(growth_compute(60, 1000, 30, 1000, &g), 0);
    assert_true(fabs(g.share_now - 0.06) < 1e-12 && fabs(g.share_before - 0.03) < 1e-12);
    assert_true(fabs(g.diff - 0.03) < 1e-12);
    assert_true(fabs(g.change - 1.0) < 1e-12);
    assert_true(fabs(g.z - 3.236) < 0.001);
    assert_true(g.supported && g.significant);

    assert_int_equal(growth_compute(5, 1000, 1, 1000, &g), 0);
    assert_true(fabs(g.change - 4.0) < 1e-12); /* the "+400 %" ... */
    assert_true(fabs(g.z - 1.635) < 0.001);
    assert_false(g.supported);
    assert_false(g.significant); /* ... that nobody is shown */

    assert_int_equal(growth_compute(40, 800, 90, 1200, &g), 0);
    assert_true(fabs(g.diff + 0.025) < 1e-12);
    assert_true(fabs(g.z + 2.222) < 0.001);
    assert_true(g.significant);

    /* supported but within noise: 12 of 400 against 6 of 400, z 1.430 */
    assert_int_equal(growth_compute(12, 400, 6, 400, &g), 0);
    assert_true(g.supported && !g.significant);
    assert_true(fabs(g.z - 1.430) < 0.001);

    /* new skill: no share before, change undefined, z still defined */
    assert_int_equal(growth_compute(30, 1000, 0, 1000, &g), 0);
    assert_true(isnan(g.change));
    assert_true(g.z > 5 && g.significant);

    /* no variance (every posting mentions it both times) */
    assert_int_equal(growth_compute(10, 10, 10, 10, &g), 0);
    assert_true(g.z == 0 && !g.significant);

    /* not shares */
    assert_int_equal(growth_compute(1, 0, 1, 10, &g), -1);
    assert_int_equal(growth_compute(11, 10, 1, 10, &g), -1);
    assert_int_equal(growth_compute(-1, 10, 1, 10, &g), -1);
    assert_int_equal(growth_compute(1, 10, 2, 1, &g), -1);

    /* order: rising by z descending, falling by z ascending */
    assert_int_equal(growth_compute(60, 1000, 30, 1000, &g), 0);
    assert_int_equal(growth_compute(40, 1000, 30, 1000, &h), 0);
    assert_true(growth_cmp_rising(&g, &h) < 0 && growth_cmp_rising(&h, &g) > 0);
    assert_true(growth_cmp_falling(&h, &g) < 0);
    assert_int_equal(growth_cmp_rising(&g, &g), 0);
}

static void test_parse_more(void **state)
{
    struct api_params q;
    char err[256];
    static const struct {
        const char *region, *metric, *format;
        int ok;
        const char *want_region;
    } cases[] = {
        {NULL, NULL, NULL, 1, ""},
        {"UK", "share", "csv", 1, "uk"},
        {"remote", "mentions", "json", 1, "remote"},
        {"abcdefghijklmnop", NULL, NULL, 1, "abcdefghijklmnop"},
        {"abcdefghijklmnopq", NULL, NULL, 0, ""}, /* 17 chars */
        {"", NULL, NULL, 0, ""},
        {"u k", NULL, NULL, 0, ""},
        {"<b>", NULL, NULL, 0, ""},
        {NULL, "lift", NULL, 0, ""},
        {NULL, "", NULL, 0, ""},
        {NULL, "SHARE", NULL, 0, ""},
        {NULL, NULL, "xml", 0, ""},
        {NULL, NULL, "", 0, ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc;
        memset(&q, 0, sizeof(q));
        err[0] = '\0';
        rc =
            api_parse_more(cases[i].region, cases[i].metric, cases[i].format, &q, err, sizeof(err));
        if (cases[i].ok) {
            assert_int_equal(rc, 0);
            assert_string_equal(q.region, cases[i].want_region);
        } else {
            assert_int_equal(rc, GTP_ERR_INVAL);
            assert_true(err[0] != '\0');
        }
    }
    assert_int_equal(api_parse_more(NULL, "share", "csv", &q, err, sizeof(err)), 0);
    assert_int_equal(q.metric, API_SHARE);
    assert_int_equal(q.format, API_CSV);
}

static void test_jout_csv_g(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"python", "python"},
        {"C, C++", "\"C, C++\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"=HYPERLINK(1)", "\"'=HYPERLINK(1)\""},
        {"-2+3", "\"'-2+3\""},
        {"@cmd", "\"'@cmd\""},
        {"two\nlines", "\"two\nlines\""},
        {"", ""},
    };
    struct jout j;
    char *got;
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        jout_init(&j);
        jout_csv(&j, cases[i].in, strlen(cases[i].in));
        got = jout_take(&j, NULL);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
    jout_init(&j);
    jout_g(&j, 0.06);
    jout_lit(&j, " ");
    jout_g(&j, 3.2359240084);
    jout_lit(&j, " ");
    jout_g(&j, 1.0 / 3000);
    jout_lit(&j, " ");
    jout_g(&j, NAN);
    got = jout_take(&j, NULL);
    assert_string_equal(got, "0.06 3.23592 0.000333333 null");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jout_escaping), cmocka_unit_test(test_jout_numbers),
        cmocka_unit_test(test_api_parse),     cmocka_unit_test(test_api_parse_taxonomy),
        cmocka_unit_test(test_rank),          cmocka_unit_test(test_hour_labels),
        cmocka_unit_test(test_stats_json),    cmocka_unit_test(test_listen_parse),
        cmocka_unit_test(test_assets),        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_parse_more),    cmocka_unit_test(test_jout_csv_g),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
