/* Config precedence (default < file < env < flag < -X), error classes and
 * messages, help text, URL redaction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gtp/cfg.h"
#include "gtp/err.h"
#include "gtp/log.h"
#include "gtp/util.h"

struct tcfg {
    char *brokers, *topic, *dlq_topic, *log_level;
    long long metrics_port;
    long long count;
    double chaos;
    bool verbose;
};

static const struct gtp_opt opts[] = {
    GTP_OPTS_KAFKA(struct tcfg),
    GTP_OPTS_LOG(struct tcfg),
    GTP_OPTS_METRICS(struct tcfg, "9101"),
    {"count", 'n', "GTP_COUNT", GTP_OPT_INT, offsetof(struct tcfg, count), "0", "N", "events", 0,
     1000000},
    {"chaos", 0, "GTP_CHAOS", GTP_OPT_DOUBLE, offsetof(struct tcfg, chaos), "0.05", "P", "chaos", 0,
     1},
    {"verbose", 'v', NULL, GTP_OPT_BOOL, offsetof(struct tcfg, verbose), "false", NULL, "talk", 0,
     0},
};
static const struct gtp_cli cli = {"gtp-test", "test program", opts, GTP_ARRAY_LEN(opts), true};

static char errstr[512];

static int parse(struct tcfg *c, struct gtp_kvlist *kp, int argc, const char **argv)
{
    memset(c, 0, sizeof(*c));
    memset(kp, 0, sizeof(*kp));
    errstr[0] = '\0';
    return gtp_cfg_parse(&cli, c, kp, argc, (char **)argv, errstr, sizeof(errstr));
}

static void clear_env(void)
{
    unsetenv("GTP_BROKERS");
    unsetenv("GTP_COUNT");
    unsetenv("GTP_CHAOS");
    unsetenv("GTP_CONFIG");
}

static char *write_tmp(const char *text)
{
    static char path[64];
    int fd;
    strcpy(path, "/tmp/gtp-cfg-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_defaults(void **state)
{
    struct tcfg c;
    struct gtp_kvlist kp;
    const char *argv[] = {"prog"};
    (void)state;
    clear_env();
    assert_int_equal(parse(&c, &kp, 1, argv), 0);
    assert_string_equal(c.brokers, "localhost:9092");
    assert_string_equal(c.topic, "job.postings.v1");
    assert_string_equal(c.dlq_topic, "job.postings.dlq");
    assert_int_equal(c.metrics_port, 9101);
    assert_true(c.chaos > 0.0499 && c.chaos < 0.0501);
    assert_false(c.verbose);
    assert_int_equal(kp.n, 0);
    gtp_cfg_free(&cli, &c, &kp);
}

static void test_precedence(void **state)
{
    struct tcfg c;
    struct gtp_kvlist kp;
    char *path;
    (void)state;
    clear_env();
    path = write_tmp("# comment\nbrokers = file:1\ncount = 5\nchaos=0.3\n"
                     "kafka.linger.ms = 7\n");
    /* file over default */
    {
        const char *argv[] = {"prog", "--config", path};
        assert_int_equal(parse(&c, &kp, 3, argv), 0);
        assert_string_equal(c.brokers, "file:1");
        assert_int_equal(c.count, 5);
        assert_int_equal(kp.n, 1);
        assert_string_equal(kp.items[0].key, "linger.ms");
        assert_string_equal(kp.items[0].value, "7");
        gtp_cfg_free(&cli, &c, &kp);
    }
    /* env over file (file named by GTP_CONFIG) */
    setenv("GTP_CONFIG", path, 1);
    setenv("GTP_BROKERS", "env:2", 1);
    setenv("GTP_COUNT", "6", 1);
    {
        const char *argv[] = {"prog"};
        assert_int_equal(parse(&c, &kp, 1, argv), 0);
        assert_string_equal(c.brokers, "env:2");
        assert_int_equal(c.count, 6);
        assert_true(c.chaos > 0.299 && c.chaos < 0.301);
        gtp_cfg_free(&cli, &c, &kp);
    }
    /* flags over env; -X after the file's kafka.* so it wins when applied in order */
    {
        const char *argv[] = {"prog", "-b", "flag:3",      "--count=7",
                              "-v",   "-X", "linger.ms=9", "-Xacks=all"};
        assert_int_equal(parse(&c, &kp, 8, argv), 0);
        assert_string_equal(c.brokers, "flag:3");
        assert_int_equal(c.count, 7);
        assert_true(c.verbose);
        assert_int_equal(kp.n, 3);
        assert_string_equal(kp.items[1].key, "linger.ms");
        assert_string_equal(kp.items[1].value, "9");
        assert_string_equal(kp.items[2].key, "acks");
        gtp_cfg_free(&cli, &c, &kp);
    }
    clear_env();
    unlink(path);
}

static void test_usage_errors(void **state)
{
    struct tcfg c;
    struct gtp_kvlist kp;
    (void)state;
    clear_env();
    {
        const char *argv[] = {"prog", "--bogus"};
        assert_int_equal(parse(&c, &kp, 2, argv), GTP_ERR_USAGE);
        assert_non_null(strstr(errstr, "--bogus"));
        gtp_cfg_free(&cli, &c, &kp);
    }
    {
        const char *argv[] = {"prog", "--count"};
        assert_int_equal(parse(&c, &kp, 2, argv), GTP_ERR_USAGE);
        assert_non_null(strstr(errstr, "--count"));
        gtp_cfg_free(&cli, &c, &kp);
    }
    {
        const char *argv[] = {"prog", "stray"};
        assert_int_equal(parse(&c, &kp, 2, argv), GTP_ERR_USAGE);
        gtp_cfg_free(&cli, &c, &kp);
    }
    {
        const char *argv[] = {"prog", "-X", "novalue"};
        assert_int_equal(parse(&c, &kp, 3, argv), GTP_ERR_USAGE);
        gtp_cfg_free(&cli, &c, &kp);
    }
    assert_int_equal(gtp_err_exit_code(GTP_ERR_USAGE), 64);
    assert_int_equal(gtp_err_exit_code(GTP_ERR_CONFIG), 78);
}

static void test_config_errors(void **state)
{
    struct tcfg c;
    struct gtp_kvlist kp;
    char *path;
    (void)state;
    clear_env();
    {
        const char *argv[] = {"prog", "--chaos", "1.5"};
        assert_int_equal(parse(&c, &kp, 3, argv), GTP_ERR_CONFIG);
        assert_non_null(strstr(errstr, "--chaos"));
        gtp_cfg_free(&cli, &c, &kp);
    }
    setenv("GTP_COUNT", "lots", 1);
    {
        const char *argv[] = {"prog"};
        assert_int_equal(parse(&c, &kp, 1, argv), GTP_ERR_CONFIG);
        assert_non_null(strstr(errstr, "GTP_COUNT"));
        gtp_cfg_free(&cli, &c, &kp);
    }
    clear_env();
    path = write_tmp("brokers = a\n\ncuont = 3\n");
    {
        const char *argv[] = {"prog", "--config", path};
        char want[128];
        assert_int_equal(parse(&c, &kp, 3, argv), GTP_ERR_CONFIG);
        snprintf(want, sizeof(want), "%s:3", path);
        assert_non_null(strstr(errstr, want));
        assert_non_null(strstr(errstr, "cuont"));
        gtp_cfg_free(&cli, &c, &kp);
    }
    unlink(path);
    {
        const char *argv[] = {"prog", "--config", "/nonexistent/gtp.conf"};
        assert_int_equal(parse(&c, &kp, 3, argv), GTP_ERR_CONFIG);
        assert_non_null(strstr(errstr, "/nonexistent/gtp.conf"));
        gtp_cfg_free(&cli, &c, &kp);
    }
}

static void test_help_lists_every_option(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    (void)state;
    gtp_cfg_usage(&cli, f);
    fclose(f);
    for (size_t i = 0; i < cli.nopts; i++) {
        char flag[64];
        snprintf(flag, sizeof(flag), "--%s", opts[i].name);
        assert_non_null(strstr(buf, flag));
        if (opts[i].env)
            assert_non_null(strstr(buf, opts[i].env));
    }
    free(buf);
}

static void test_redact(void **state)
{
    char out[128];
    (void)state;
    gtp_log_redact_url("redis://:s3cret@host:6379/0", out, sizeof(out));
    assert_string_equal(out, "redis://:***@host:6379/0");
    gtp_log_redact_url("redis://user:pw@h/1", out, sizeof(out));
    assert_string_equal(out, "redis://user:***@h/1");
    gtp_log_redact_url("redis://127.0.0.1:6379/0", out, sizeof(out));
    assert_string_equal(out, "redis://127.0.0.1:6379/0");
    assert_null(strstr(out, "s3cret"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_help_lists_every_option),
        cmocka_unit_test(test_redact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
