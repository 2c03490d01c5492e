/* The Redis command builder: borrowed and copied arguments, formatted and
 * piecewise ones, placeholders patched later, growth across many arguments,
 * and the bytes hiredis sends (read from the other end of a socketpair, with
 * canned replies written into it, so no server is needed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gtp/err.h"
#include "gtp/rediscmd.h"

static void expect_arg(struct gtp_rediscmd *c, size_t i, const char *want, size_t n)
{
    size_t len;
    const char *got = gtp_rediscmd_argv(c, i, &len);
    if (len != n || memcmp(got, want, n) != 0)
        fail_msg("arg %zu: got '%.*s' (%zu), want '%.*s'", i, (int)len, got, len, (int)n, want);
}

static void test_empty(void **state)
{
    struct gtp_rediscmd c = {0};
    (void)state;
    assert_int_equal(c.argc, 0);
    gtp_rediscmd_reset(&c);
    gtp_rediscmd_fini(&c);
    gtp_rediscmd_fini(&c);
    gtp_rediscmd_fini(NULL);
}

static void test_kinds(void **state)
{
    struct gtp_rediscmd c = {0};
    char mine[16] = "borrowed";
    char copied[16] = "copied";
    char longkey[300];
    (void)state;
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    gtp_rediscmd_arg_str(&c, "SET");
    gtp_rediscmd_arg(&c, mine, strlen(mine));
    gtp_rediscmd_arg_copy(&c, copied, strlen(copied));
    gtp_rediscmd_arg_i64(&c, -9007199254740993LL);
    gtp_rediscmd_argf(&c, "gtp:heat:%s:%s", "2026-12-06T09", longkey); /* no length limit */
    gtp_rediscmd_arg(&c, "bin\0ary", 7);                               /* NULs are bytes */
    gtp_rediscmd_arg(&c, "", 0);
    /* a borrowed argument is the caller's memory; a copied one is not */
    memcpy(mine, "BORROWED", 8);
    memcpy(copied, "CHANGED", 7);
    assert_int_equal(c.argc, 7);
    expect_arg(&c, 0, "SET", 3);
    expect_arg(&c, 1, "BORROWED", 8);
    expect_arg(&c, 2, "copied", 6);
    expect_arg(&c, 3, "-9007199254740993", 17);
    assert_int_equal(strlen("gtp:heat:2026-12-06T09:") + 299, 322);
    {
        size_t len;
        const char *k = gtp_rediscmd_argv(&c, 4, &len);
        assert_int_equal(len, 322);
        assert_memory_equal(k, "gtp:heat:2026-12-06T09:kkk", 26);
    }
    expect_arg(&c, 5, "bin\0ary", 7);
    expect_arg(&c, 6, "", 0);
    gtp_rediscmd_reset(&c);
    assert_int_equal(c.argc, 0);
    gtp_rediscmd_arg_i64(&c, 0);
    expect_arg(&c, 0, "0", 1);
    gtp_rediscmd_fini(&c);
}

/* The flush's shapes: a count placeholder patched once the counted
 * arguments are written, and one argument packed from many pieces; with
 * enough arguments that the arena moves many times in between. */
static void test_placeholder_pieces_growth(void **state)
{
    struct gtp_rediscmd c = {0};
    size_t count_at;
    char num[32];
    (void)state;
    gtp_rediscmd_arg_str(&c, "EVALSHA");
    count_at = c.argc;
    gtp_rediscmd_arg_i64(&c, 0); /* patched below */
    for (int i = 0; i < 20000; i++)
        gtp_rediscmd_arg_i64(&c, i);
    gtp_rediscmd_arg_begin(&c);
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(num, sizeof(num), "%d:", i);
        gtp_rediscmd_arg_append(&c, num, (size_t)n);
    }
    gtp_rediscmd_set_i64(&c, count_at, 20000);
    gtp_rediscmd_arg_str(&c, "tail");
    assert_int_equal(c.argc, 2 + 20000 + 1 + 1);
    expect_arg(&c, count_at, "20000", 5);
    for (int i = 0; i < 20000; i += 997) {
        int n = snprintf(num, sizeof(num), "%d", i);
        expect_arg(&c, 2 + (size_t)i, num, (size_t)n);
    }
    {
        size_t len;
        const char *p = gtp_rediscmd_argv(&c, 20002, &len);
        assert_memory_equal(p, "0:1:2:3:", 8);
        assert_memory_equal(p + len - 4, "999:", 4);
    }
    expect_arg(&c, 20003, "tail", 4);
    gtp_rediscmd_fini(&c);
}

static void read_all(int fd, char *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        ssize_t r = read(fd, buf + got, want - got);
        assert_true(r > 0);
        got += (size_t)r;
    }
}

/* What goes on the wire is RESP arrays of bulk strings; replies come back in
 * order, one per command. */
static void test_pipeline_wire(void **state)
{
    static const char want[] = "*2\r\n$4\r\nPING\r\n$3\r\na b\r\n"
                               "*3\r\n$4\r\nZADD\r\n$1\r\n1\r\n$4\r\nx\0\r\n\r\n";
    static const char replies[] = "+a b\r\n:1\r\n";
    struct gtp_rediscmd cmds[2] = {{0}};
    redisReply *reps[2];
    char got[sizeof(want)], err[128];
    int sv[2];
    redisContext *rc;
    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    rc = redisConnectFd(sv[0]);
    assert_non_null(rc);
    gtp_rediscmd_arg_str(&cmds[0], "PING");
    gtp_rediscmd_arg_copy(&cmds[0], "a b", 3); /* a space stays inside one argument */
    gtp_rediscmd_arg_str(&cmds[1], "ZADD");
    gtp_rediscmd_arg_i64(&cmds[1], 1);
    gtp_rediscmd_arg(&cmds[1], "x\0\r\n", 4);
    /* the replies are already waiting: the pipeline writes, then reads */
    assert_int_equal(write(sv[1], replies, sizeof(replies) - 1), (ssize_t)sizeof(replies) - 1);
    assert_int_equal(gtp_rediscmd_pipeline(rc, cmds, 2, reps, err, sizeof(err)), 0);
    read_all(sv[1], got, sizeof(want) - 1);
    assert_memory_equal(got, want, sizeof(want) - 1);
    assert_int_equal(reps[0]->type, REDIS_REPLY_STATUS);
    assert_string_equal(reps[0]->str, "a b");
    assert_int_equal(reps[1]->type, REDIS_REPLY_INTEGER);
    assert_int_equal(reps[1]->integer, 1);
    freeReplyObject(reps[0]);
    freeReplyObject(reps[1]);

    /* the server goes away after one reply: an error, and no reply leaks */
    assert_int_equal(write(sv[1], "+OK\r\n", 5), 5);
    close(sv[1]);
    assert_int_equal(gtp_rediscmd_pipeline(rc, cmds, 2, reps, err, sizeof(err)), GTP_ERR_REDIS);
    assert_null(reps[0]);
    assert_null(reps[1]);
    assert_memory_equal(err, "redis: ", 7);
    redisFree(rc);
    gtp_rediscmd_fini(&cmds[0]);
    gtp_rediscmd_fini(&cmds[1]);
}

int main(void)
{
    /* the daemons ignore SIGPIPE too: a closed peer is an error return */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_placeholder_pieces_growth),
        cmocka_unit_test(test_pipeline_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
