/* The growable byte buffer: empty states, growth across many reallocations,
 * the NUL after every append, formatted and varint appends, take. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/buf.h"

static void test_empty(void **state)
{
    struct gtp_buf b = {0};
    size_t len = 99;
    char *p;
    (void)state;
    gtp_buf_fini(&b); /* fini of a never-used buffer */
    gtp_buf_fini(NULL);
    gtp_buf_reset(&b); /* reset without memory */
    assert_null(b.p);
    gtp_buf_put(&b, NULL, 0); /* an empty append still leaves a C string */
    assert_non_null(b.p);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.p, "");
    gtp_buf_fini(&b);
    gtp_buf_fini(&b); /* idempotent */
    assert_null(b.p);
    assert_int_equal(b.cap, 0);
    /* take of an empty buffer gives an empty string, never NULL */
    p = gtp_buf_take(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 0);
    assert_string_equal(p, "");
    free(p);
    assert_null(b.p);
    gtp_buf_init(&b, 0);
    assert_null(b.p);
    gtp_buf_init(&b, 10);
    assert_true(b.cap >= 10);
    assert_int_equal(b.len, 0);
    gtp_buf_fini(&b);
}

static void test_growth(void **state)
{
    struct gtp_buf b = {0};
    size_t reallocs = 0, last_cap = 0;
    (void)state;
    /* 1 MB one byte at a time, then in odd-sized pieces: every byte kept,
     * always NUL-terminated, capacity only grows and stays above len. */
    for (size_t i = 0; i < 1000000; i++) {
        gtp_buf_putc(&b, 'a' + (int)(i % 26));
        if (b.cap != last_cap) {
            reallocs++;
            last_cap = b.cap;
        }
        assert_true(b.cap > b.len);
    }
    assert_true(reallocs > 10);
    assert_true(reallocs < 40); /* geometric, not one realloc per append */
    assert_int_equal(b.len, 1000000);
    assert_int_equal(b.p[b.len], '\0');
    for (size_t i = 0; i < b.len; i += 9973)
        assert_int_equal(b.p[i], 'a' + (int)(i % 26));
    gtp_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.p, "");
    assert_int_equal(b.cap, last_cap); /* reset keeps the memory */
    for (int i = 0; i < 5000; i++) {
        char piece[40];
        int n = snprintf(piece, sizeof(piece), "<%d>", i);
        gtp_buf_put(&b, piece, (size_t)n);
    }
    assert_memory_equal(b.p, "<0><1><2>", 9);
    assert_non_null(strstr(b.p, "<4998><4999>"));
    assert_int_equal(strlen(b.p), b.len);
    gtp_buf_fini(&b);
}

static void test_binary_and_reserve(void **state)
{
    struct gtp_buf b = {0};
    (void)state;
    gtp_buf_put(&b, "a\0b", 3); /* NULs are data */
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.p, "a\0b", 4);
    gtp_buf_reserve(&b, 1000);
    assert_true(b.cap > b.len + 1000);
    /* direct writes through the tail after a reserve */
    memset(gtp_buf_tail(&b), 'z', 1000);
    b.len += 1000;
    assert_int_equal(b.u[1002], 'z');
    gtp_buf_fini(&b);
}

static void test_printf(void **state)
{
    struct gtp_buf b = {0};
    char big[5000];
    (void)state;
    gtp_buf_printf(&b, "%d-%s", 42, "x");
    assert_string_equal(b.p, "42-x");
    /* longer than what is free: the second vsnprintf pass */
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    gtp_buf_printf(&b, "[%s]", big);
    assert_int_equal(b.len, 4 + 2 + 4999);
    assert_int_equal(b.p[5], 'q');
    assert_int_equal(b.p[b.len - 1], ']');
    assert_int_equal(b.p[b.len], '\0');
    gtp_buf_printf(&b, "%s", "");
    assert_int_equal(b.len, 4 + 2 + 4999);
    gtp_buf_fini(&b);
}

static void test_varint(void **state)
{
    static const struct {
        uint64_t v;
        size_t n;
        const char *want;
    } cases[] = {
        {0, 1, "\x00"},       {1, 1, "\x01"},
        {127, 1, "\x7f"},     {128, 2, "\x80\x01"},
        {300, 2, "\xac\x02"}, {UINT64_MAX, 10, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gtp_buf b = {0};
        gtp_buf_varint(&b, cases[i].v);
        assert_int_equal(b.len, cases[i].n);
        assert_memory_equal(b.u, cases[i].want, cases[i].n);
        gtp_buf_fini(&b);
    }
}

static void test_take(void **state)
{
    struct gtp_buf b = {0};
    size_t len;
    char *p;
    (void)state;
    gtp_buf_puts(&b, "hello");
    p = gtp_buf_take(&b, &len);
    assert_int_equal(len, 5);
    assert_string_equal(p, "hello");
    assert_null(b.p);
    assert_int_equal(b.len, 0);
    /* the buffer is reusable after take */
    gtp_buf_puts(&b, "again");
    assert_string_equal(b.p, "again");
    free(p);
    gtp_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_binary_and_reserve),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_varint),
        cmocka_unit_test(test_take),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
