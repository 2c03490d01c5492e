/* Redis URL forms (docs/programs.md#redis-urls): TCP with an optional ACL user,
 * unix sockets with ?db=N, Sentinel lists, percent-escapes, the errors, and a password added
 * from a file (gtp_redis_url_with_password). No server needed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/err.h"
#include "gtp/redis.h"

struct url_case {
    const char *url;
    const char *host, *socket, *user, *password;
    int port, db;
};

static const struct url_case cases[] = {
    {"redis://127.0.0.1:6379/0", "127.0.0.1", "", NULL, NULL, 6379, 0},
    {"redis://h", "h", "", NULL, NULL, 6379, 0},
    {"redis://h:7000/3", "h", "", NULL, NULL, 7000, 3},
    {"redis://:s3cret@h:1/2", "h", "", NULL, "s3cret", 1, 2},
    {"redis://alice:s3cret@h:1/2", "h", "", "alice", "s3cret", 1, 2},
    /* escapes, and an '@' left raw: userinfo ends at the last '@' */
    {"redis://al%69ce:p%40ss%3Aw%2Fd@h/1", "h", "", "alice", "p@ss:w/d", 6379, 1},
    {"redis://bob:p@ss@h", "h", "", "bob", "p@ss", 6379, 0},
    {"unix:///run/redis/redis.sock", "/run/redis/redis.sock", "/run/redis/redis.sock", NULL, NULL,
     0, 0},
    {"unix:///tmp/r.sock?db=5", "/tmp/r.sock", "/tmp/r.sock", NULL, NULL, 0, 5},
    {"unix://alice:pw@/tmp/r.sock?db=1", "/tmp/r.sock", "/tmp/r.sock", "alice", "pw", 0, 1},
    {"unix://:pw@/tmp/r.sock", "/tmp/r.sock", "/tmp/r.sock", NULL, "pw", 0, 0},
};

/* url, and what the error must say */
static const char *const bad[][2] = {
    {"http://h", "redis://, unix:// or redis-sentinel://"},
    {"redis-sentinel://h1,h2", "/master-name"},
    {"redis-sentinel://h1,h2/", "master name"},
    {"redis-sentinel://h1,,h2/m", "host"},
    {"redis-sentinel://h1:0/m", "port"},
    {"redis-sentinel://a,b,c,d,e,f,g,h,i/m", "more than 8"},
    {"redis-sentinel://h/m/x", "master name"},
    {"redis-sentinel://h/m?db=x", "database"},
    {"redis-sentinel://h/m?role=replica", "?db=N"},
    {"redis-sentinel://u:s3cret%4@h/m", "escape"},
    {"redis://", "host"},
    {"redis://h:0", "port"},
    {"redis://h:99999", "port"},
    {"redis://h/x", "database"},
    {"redis://alice@h", "needs a password"},
    {"redis://u:s3cret%4@h", "escape"},
    {"redis://u:s3cret%00@h", "escape"},
    {"unix://", "absolute"},
    {"unix://relative.sock", "absolute"},
    {"unix://x/tmp/r.sock", "unix:///path"},
    {"unix:///tmp/r.sock?db=x", "database"},
    {"unix:///tmp/r.sock?password=x", "?db=N"},
    {"unix:///tmp/"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaa.sock",
     "longer"},
};

static void test_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct url_case *c = &cases[i];
        struct gtp_redis_url u;
        char err[256] = "";
        print_message("%s\n", c->url);
        assert_int_equal(gtp_redis_url_parse(c->url, &u, err, sizeof(err)), 0);
        assert_string_equal(u.host, c->host);
        assert_string_equal(u.socket, c->socket);
        assert_int_equal(u.port, c->port);
        assert_int_equal(u.db, c->db);
        if (c->user)
            assert_string_equal(u.user, c->user);
        else
            assert_null(u.user);
        if (c->password)
            assert_string_equal(u.password, c->password);
        else
            assert_null(u.password);
        gtp_redis_url_fini(&u);
        assert_null(u.password);
    }
    for (size_t i = 0; i <= sizeof(bad) / sizeof(bad[0]); i++) {
        const char *url = i < sizeof(bad) / sizeof(bad[0]) ? bad[i][0] : NULL;
        struct gtp_redis_url u;
        char err[256] = "";
        assert_int_equal(gtp_redis_url_parse(url, &u, err, sizeof(err)), GTP_ERR_CONFIG);
        print_message("%s -> %s\n", url ? url : "(null)", err);
        assert_non_null(strstr(err, url ? bad[i][1] : "redis://, unix:// or redis-sentinel://"));
        assert_null(strstr(err, "s3cret")); /* the password never reaches a message */
        assert_null(u.password);
        assert_null(u.user);
    }
    gtp_redis_url_fini(NULL);
}

static void test_sentinel(void **state)
{
    struct gtp_redis_url u;
    char err[256] = "";
    redisContext *rc;
    (void)state;
    assert_int_equal(gtp_redis_url_parse("redis-sentinel://alice:pw@s1:26380,s2,10.0.0.3:1/"
                                         "gtp-primary?db=4",
                                         &u, err, sizeof(err)),
                     0);
    assert_string_equal(u.master, "gtp-primary");
    assert_int_equal(u.nsentinels, 3);
    assert_string_equal(u.sentinels[0].host, "s1");
    assert_int_equal(u.sentinels[0].port, 26380);
    assert_string_equal(u.sentinels[1].host, "s2");
    assert_int_equal(u.sentinels[1].port, 26379);
    assert_string_equal(u.sentinels[2].host, "10.0.0.3");
    assert_int_equal(u.sentinels[2].port, 1);
    assert_string_equal(u.host, "s1"); /* logs name the first sentinel */
    assert_int_equal(u.db, 4);
    assert_string_equal(u.user, "alice");
    assert_string_equal(u.password, "pw");
    assert_string_equal(u.socket, "");
    gtp_redis_url_fini(&u);

    /* plain urls name no master, so they connect directly */
    assert_int_equal(gtp_redis_url_parse("redis://h", &u, err, sizeof(err)), 0);
    assert_string_equal(u.master, "");
    assert_int_equal(u.nsentinels, 0);
    gtp_redis_url_fini(&u);

    /* no sentinel answers (port 1 refuses): a clear error naming the master */
    assert_int_equal(gtp_redis_url_parse("redis-sentinel://127.0.0.1:1,127.0.0.1:2/mymaster", &u,
                                         err, sizeof(err)),
                     0);
    rc = gtp_redis_connect(&u, 500, err, sizeof(err));
    assert_null(rc);
    print_message("%s\n", err);
    assert_non_null(strstr(err, "no primary for 'mymaster' through 2 sentinel(s)"));
    assert_non_null(strstr(err, "127.0.0.1:2"));
    gtp_redis_url_fini(&u);
}

static void test_with_password(void **state)
{
    static const struct {
        const char *url, *pw, *want;
    } ok[] = {
        {"redis://h:1/2", "pw", "redis://:pw@h:1/2"},
        {"redis://alice@h:1/2", "pw", "redis://alice:pw@h:1/2"},
        {"unix:///tmp/r.sock?db=3", "p@ss:w/d", "unix://:p%40ss%3Aw%2Fd@/tmp/r.sock?db=3"},
        {"unix://alice@/tmp/r.sock", "x y", "unix://alice:x%20y@/tmp/r.sock"},
        {"redis-sentinel://s1,s2:26380/m", "pw", "redis-sentinel://:pw@s1,s2:26380/m"},
    };
    char err[256];
    char *out;
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct gtp_redis_url u;
        assert_int_equal(gtp_redis_url_with_password(ok[i].url, ok[i].pw, &out, err, sizeof(err)),
                         0);
        assert_string_equal(out, ok[i].want);
        /* and it parses back to the same password */
        assert_int_equal(gtp_redis_url_parse(out, &u, err, sizeof(err)), 0);
        assert_string_equal(u.password, ok[i].pw);
        gtp_redis_url_fini(&u);
        free(out);
    }
    assert_int_equal(gtp_redis_url_with_password("redis://:old@h", "new", &out, err, sizeof(err)),
                     GTP_ERR_CONFIG);
    assert_null(out);
    assert_non_null(strstr(err, "already has a password"));
    assert_null(strstr(err, "old"));
    assert_int_equal(gtp_redis_url_with_password("http://h", "pw", &out, err, sizeof(err)),
                     GTP_ERR_CONFIG);
    assert_null(out);
    assert_int_equal(gtp_redis_url_with_password(NULL, "pw", &out, err, sizeof(err)),
                     GTP_ERR_CONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_sentinel),
        cmocka_unit_test(test_with_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
