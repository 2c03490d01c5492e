/* Config precedence (default < file < env < flag < -X), error classes and
 * messages, help text, URL redaction; secrets from GTP_*_FILE, librdkafka
 * properties from GTP_KAFKA_<PROPERTY>, GTP_REDIS_PASSWORD_FILE. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "gtp/cfg.h"
#include "gtp/err.h"
#include "gtp/kafka.h"
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

static const char *const env_vars[] = {"GTP_BROKERS",
                                       "GTP_COUNT",
                                       "GTP_CHAOS",
                                       "GTP_CONFIG",
                                       "GTP_BROKERS_FILE",
                                       "GTP_COUNT_FILE",
                                       "GTP_KAFKA_SECURITY_PROTOCOL",
                                       "GTP_KAFKA_CLIENT_ID",
                                       "GTP_KAFKA_SASL_PASSWORD",
                                       "GTP_KAFKA_SASL_PASSWORD_FILE",
                                       "GTP_KAFKA_SECURITY_PROTOKOL",
                                       "GTP_REDIS_URL",
                                       "GTP_REDIS_PASSWORD_FILE",
                                       "GTP_KAFKA_LINGER_MS"};

static void clear_env(void)
{
    for (size_t i = 0; i < GTP_ARRAY_LEN(env_vars); i++)
        unsetenv(env_vars[i]);
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

/* Write text to a new temporary file, name it in variable var; the path
 * goes to path (for unlink). */
static void secret_env(const char *var, const char *text, char *path, size_t size)
{
    snprintf(path, size, "%s", write_tmp(text));
    setenv(var, path, 1);
}

/* GTP_X_FILE: the value from a file (one trailing newline dropped). */
static void test_env_files(void **state)
{
    struct tcfg c;
    struct gtp_kvlist kp;
    char path[64];
    (void)state;
    clear_env();
    secret_env("GTP_BROKERS_FILE", "secret-broker:9\n", path, sizeof(path));
    {
        const char *argv[] = {"prog"};
        assert_int_equal(parse(&c, &kp, 1, argv), 0);
        assert_string_equal(c.brokers, "secret-broker:9");
        gtp_cfg_free(&cli, &c, &kp);
    }
    { /* a flag still wins */
        const char *argv[] = {"prog", "-b", "flag:1"};
        assert_int_equal(parse(&c, &kp, 3, argv), 0);
        assert_string_equal(c.brokers, "flag:1");
        gtp_cfg_free(&cli, &c, &kp);
    }
    setenv("GTP_BROKERS", "env:1", 1); /* both: which one? refuse */
    {
        const char *argv[] = {"prog"};
        assert_int_equal(parse(&c, &kp, 1, argv), GTP_ERR_CONFIG);
        assert_non_null(strstr(errstr, "GTP_BROKERS and GTP_BROKERS_FILE"));
        gtp_cfg_free(&cli, &c, &kp);
    }
    clear_env();
    setenv("GTP_COUNT_FILE", "/nonexistent/count", 1);
    {
        const char *argv[] = {"prog"};
        assert_int_equal(parse(&c, &kp, 1, argv), GTP_ERR_CONFIG);
        assert_non_null(strstr(errstr, "GTP_COUNT_FILE"));
        assert_non_null(strstr(errstr, "/nonexistent/count"));
        gtp_cfg_free(&cli, &c, &kp);
    }
    unlink(path);
    clear_env();
}

/* The value of the last kprops entry for key, or NULL. */
static const char *kp_get(const struct gtp_kvlist *kp, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; i < kp->n; i++)
        if (!strcmp(kp->items[i].key, key))
            v = kp->items[i].value;
    return v;
}

static void test_kafka_env(void **state)
{
    struct tcfg c;
    struct gtp_kvlist kp;
    char pwpath[64], cfgpath[64], buf[64];
    /* variable, value, what the error must say; the value must never show */
    static const char *const bad[][3] = {
        {"GTP_KAFKA_SECURITY_PROTOKOL", "ssl", "not a librdkafka property"}, /* a typo */
        {"GTP_KAFKA_SECURITY_PROTOCOL", "bogus-proto", "invalid value"},
        {"GTP_KAFKA_SASL_PASSWORD", "inline-pw", /* and its _FILE: which one? */
         "GTP_KAFKA_SASL_PASSWORD and GTP_KAFKA_SASL_PASSWORD_FILE"},
    };
    (void)state;
    clear_env();
    secret_env("GTP_KAFKA_SASL_PASSWORD_FILE", "hunter2\n", pwpath, sizeof(pwpath));
    snprintf(cfgpath, sizeof(cfgpath), "%s", write_tmp("kafka.client.id = from-file\n"));
    setenv("GTP_KAFKA_SECURITY_PROTOCOL", "sasl_ssl", 1);
    setenv("GTP_KAFKA_CLIENT_ID", "from-env", 1);
    setenv("GTP_KAFKA_PORT", "49092", 1); /* scripts/services.sh's, not librdkafka's */
    {
        const char *argv[] = {"prog", "--config", cfgpath};
        assert_int_equal(parse(&c, &kp, 3, argv), 0);
        /* file first, then the environment sorted by variable name */
        assert_int_equal(kp.n, 4);
        assert_string_equal(kp.items[0].key, "client.id");
        assert_string_equal(kp.items[0].value, "from-file");
        assert_string_equal(kp.items[1].key, "client.id");
        assert_string_equal(kp.items[1].value, "from-env");
        assert_string_equal(kp.items[2].key, "sasl.password");
        assert_string_equal(kp.items[2].value, "hunter2");
        assert_string_equal(kp.items[3].key, "security.protocol");
        assert_string_equal(kp.items[3].value, "sasl_ssl");
        gtp_cfg_free(&cli, &c, &kp);
    }
    { /* -X wins over the environment, as applied by gtp_kafka_conf_new */
        const char *argv[] = {"prog", "-X", "client.id=from-flag"};
        static const char *const want[][2] = {{"client.id", "from-flag"},
                                              {"security.protocol", "sasl_ssl"},
                                              {"sasl.password", "hunter2"}};
        rd_kafka_conf_t *conf;
        assert_int_equal(parse(&c, &kp, 3, argv), 0);
        assert_string_equal(kp_get(&kp, "client.id"), "from-flag");
        conf = gtp_kafka_conf_new(RD_KAFKA_PRODUCER, "127.0.0.1:1", &kp, errstr, sizeof(errstr));
        assert_non_null(conf);
        for (size_t i = 0; i < GTP_ARRAY_LEN(want); i++) {
            size_t sz = sizeof(buf);
            assert_int_equal(rd_kafka_conf_get(conf, want[i][0], buf, &sz), RD_KAFKA_CONF_OK);
            assert_string_equal(buf, want[i][1]);
        }
        rd_kafka_conf_destroy(conf);
        gtp_cfg_free(&cli, &c, &kp);
    }
    { /* a program without -X ignores them */
        static const struct gtp_cli nokafka = {"gtp-x", "x", opts, GTP_ARRAY_LEN(opts), false};
        const char *argv[] = {"prog"};
        memset(&c, 0, sizeof(c));
        assert_int_equal(
            gtp_cfg_parse(&nokafka, &c, NULL, 1, (char **)argv, errstr, sizeof(errstr)), 0);
        gtp_cfg_free(&nokafka, &c, NULL);
    }
    for (size_t i = 0; i < GTP_ARRAY_LEN(bad); i++) {
        const char *argv[] = {"prog"};
        char *old = getenv(bad[i][0]) ? gtp_xstrdup(getenv(bad[i][0])) : NULL;
        setenv(bad[i][0], bad[i][1], 1);
        assert_int_equal(parse(&c, &kp, 1, argv), GTP_ERR_CONFIG);
        assert_non_null(strstr(errstr, bad[i][0]));
        assert_non_null(strstr(errstr, bad[i][2]));
        assert_null(strstr(errstr, bad[i][1]));
        gtp_cfg_free(&cli, &c, &kp);
        if (old)
            setenv(bad[i][0], old, 1);
        else
            unsetenv(bad[i][0]);
        free(old);
    }
    unlink(pwpath);
    unlink(cfgpath);
    unsetenv("GTP_KAFKA_PORT");
    clear_env();
}

struct rcfg {
    char *redis_url;
};
static const struct gtp_opt ropts[] = {GTP_OPTS_REDIS(struct rcfg)};
static const struct gtp_cli rcli = {"gtp-r", "r", ropts, GTP_ARRAY_LEN(ropts), false};

static int rparse(struct rcfg *c, int argc, const char **argv)
{
    memset(c, 0, sizeof(*c));
    errstr[0] = '\0';
    return gtp_cfg_parse(&rcli, c, NULL, argc, (char **)argv, errstr, sizeof(errstr));
}

static void test_redis_password_file(void **state)
{
    struct rcfg c;
    struct tcfg t;
    struct gtp_kvlist kp;
    char path[64];
    (void)state;
    clear_env();
    secret_env("GTP_REDIS_PASSWORD_FILE", "p@ss\n", path, sizeof(path));
    setenv("GTP_REDIS_URL", "redis://alice@h:1/2", 1);
    {
        const char *argv[] = {"prog"};
        assert_int_equal(rparse(&c, 1, argv), 0);
        assert_string_equal(c.redis_url, "redis://alice:p%40ss@h:1/2");
        gtp_cfg_free(&rcli, &c, NULL);
    }
    { /* joins the URL that won: the flag's */
        const char *argv[] = {"prog", "--redis", "unix:///tmp/r.sock?db=4"};
        assert_int_equal(rparse(&c, 3, argv), 0);
        assert_string_equal(c.redis_url, "unix://:p%40ss@/tmp/r.sock?db=4");
        gtp_cfg_free(&rcli, &c, NULL);
    }
    { /* a password in the URL as well: refuse */
        const char *argv[] = {"prog", "--redis", "redis://:other@h"};
        assert_int_equal(rparse(&c, 3, argv), GTP_ERR_CONFIG);
        assert_non_null(strstr(errstr, "GTP_REDIS_PASSWORD_FILE"));
        assert_null(strstr(errstr, "other"));
        gtp_cfg_free(&rcli, &c, NULL);
    }
    { /* a program without --redis */
        const char *argv[] = {"prog"};
        assert_int_equal(parse(&t, &kp, 1, argv), GTP_ERR_CONFIG);
        assert_non_null(strstr(errstr, "GTP_REDIS_PASSWORD_FILE"));
        gtp_cfg_free(&cli, &t, &kp);
    }
    unlink(path);
    {
        const char *argv[] = {"prog"};
        assert_int_equal(rparse(&c, 1, argv), GTP_ERR_CONFIG);
        assert_non_null(strstr(errstr, path));
        gtp_cfg_free(&rcli, &c, NULL);
    }
    clear_env();
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
        cmocka_unit_test(test_env_files),
        cmocka_unit_test(test_kafka_env),
        cmocka_unit_test(test_redis_password_file),
        cmocka_unit_test(test_help_lists_every_option),
        cmocka_unit_test(test_redact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
