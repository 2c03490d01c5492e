/* The flush's command writer (store_command_write, store.h): what reaches the socket is
 * the command in Redis's protocol, argument for argument, across the pieces it is written
 * in — arguments shorter and longer than a piece, empty ones, binary ones, and many small
 * ones that fill several pieces. The other end of a socket pair is read by a thread and
 * parsed by hiredis's own reader. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "gtp/buf.h"
#include "gtp/err.h"
#include "gtp/rediscmd.h"
#include "store.h"

struct drain {
    int fd;
    struct gtp_buf got;
};

/* Everything until the writer closes its end. */
static void *drain_main(void *arg)
{
    struct drain *d = arg;
    char tmp[65536];
    ssize_t n;
    while ((n = read(d->fd, tmp, sizeof(tmp))) > 0)
        gtp_buf_put(&d->got, tmp, (size_t)n);
    return NULL;
}

/* a written through store_command_write and parsed back: the reply array (caller frees). */
static redisReply *round_trip(struct gtp_rediscmd *a, struct gtp_buf *scratch)
{
    int sv[2];
    pthread_t th;
    struct drain d = {0};
    char err[256];
    void *rep = NULL;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    d.fd = sv[1];
    assert_int_equal(pthread_create(&th, NULL, drain_main, &d), 0);
    redisContext *rc = redisConnectFd(sv[0]);
    assert_non_null(rc);
    assert_int_equal(store_command_write(rc, a, scratch, err, sizeof(err)), 0);
    redisFree(rc); /* closes sv[0]: the reader sees the end */
    assert_int_equal(pthread_join(th, NULL), 0);
    close(sv[1]);

    redisReader *r = redisReaderCreate();
    assert_non_null(r);
    assert_int_equal(redisReaderFeed(r, d.got.p, d.got.len), REDIS_OK);
    assert_int_equal(redisReaderGetReply(r, &rep), REDIS_OK);
    assert_non_null(rep);
    void *more = NULL;
    assert_int_equal(redisReaderGetReply(r, &more), REDIS_OK);
    assert_null(more); /* exactly one command, nothing after it */
    redisReaderFree(r);
    gtp_buf_fini(&d.got);
    return rep;
}

static void check_same(const redisReply *rep, struct gtp_rediscmd *a)
{
    assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
    assert_int_equal(rep->elements, a->argc);
    for (size_t i = 0; i < a->argc; i++) {
        size_t n;
        const char *p = gtp_rediscmd_argv(a, i, &n);
        assert_int_equal(rep->element[i]->type, REDIS_REPLY_STRING);
        assert_int_equal(rep->element[i]->len, n);
        assert_memory_equal(rep->element[i]->str, p, n);
    }
}

static void test_pieces_and_long_arguments(void **state)
{
    struct gtp_rediscmd a = {0};
    struct gtp_buf scratch = {0};
    size_t big = 3 * 256 * 1024 + 17, edge = 256 * 1024;
    char *blob = malloc(big);
    (void)state;
    assert_non_null(blob);
    for (size_t i = 0; i < big; i++)
        blob[i] = (char)(i * 131 + 7); /* binary, NUL and CR LF bytes included */

    gtp_rediscmd_arg_str(&a, "EVALSHA");
    gtp_rediscmd_arg(&a, "", 0);
    gtp_rediscmd_arg_copy(&a, blob, big);      /* longer than a piece: written directly */
    gtp_rediscmd_arg_copy(&a, blob, edge);     /* exactly a piece */
    gtp_rediscmd_arg_copy(&a, blob, edge - 1); /* just under: formatted into the scratch */
    for (int i = 0; i < 60000; i++)            /* small ones over several pieces */
        gtp_rediscmd_arg_i64(&a, (int64_t)i * 7919 - 3);
    gtp_rediscmd_arg_copy(&a, "a\r\nb\0c", 6);

    redisReply *rep = round_trip(&a, &scratch);
    check_same(rep, &a);
    freeReplyObject(rep);
    /* the scratch stays about a piece, not the size of the command */
    assert_true(scratch.cap < 2 * edge + 4096);

    gtp_rediscmd_fini(&a);
    gtp_buf_fini(&scratch);
    free(blob);
}

static void test_one_short_command(void **state)
{
    struct gtp_rediscmd a = {0};
    struct gtp_buf scratch = {0};
    (void)state;
    gtp_rediscmd_arg_str(&a, "PING");
    redisReply *rep = round_trip(&a, &scratch);
    check_same(rep, &a);
    freeReplyObject(rep);
    gtp_rediscmd_fini(&a);
    gtp_buf_fini(&scratch);
}

static void test_closed_peer_is_an_error(void **state)
{
    struct gtp_rediscmd a = {0};
    struct gtp_buf scratch = {0};
    char err[256] = "";
    int sv[2];
    (void)state;
    for (int i = 0; i < 100000; i++)
        gtp_rediscmd_arg_i64(&a, i);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    redisContext *rc = redisConnectFd(sv[0]);
    assert_non_null(rc);
    assert_int_equal(store_command_write(rc, &a, &scratch, err, sizeof(err)), GTP_ERR_REDIS);
    assert_non_null(strstr(err, "write"));
    redisFree(rc);
    gtp_rediscmd_fini(&a);
    gtp_buf_fini(&scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces_and_long_arguments),
        cmocka_unit_test(test_one_short_command),
        cmocka_unit_test(test_closed_peer_is_an_error),
    };
    signal(SIGPIPE, SIG_IGN); /* as the daemons do (gtp/sig.h): a closed peer is an error */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
