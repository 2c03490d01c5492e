/* The processor's packed dedup ids (gtp:seen values, store.h): every id
 * comes back whole, NUL bytes included, a canonical uuid's 17-byte record as
 * its text, and a damaged value is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gtp/err.h"
#include "idlist.h"
#include "gtp/uuidtext.h"
#include "store.h"

struct seen {
    char ids[8][40];
    size_t len[8];
    int n;
};

static void collect(const char *id, size_t n, void *ctx)
{
    struct seen *s = ctx;
    assert_true(s->n < 8 && n <= sizeof(s->ids[0]));
    memcpy(s->ids[s->n], id, n);
    s->len[s->n++] = n;
}

static void test_round_trip(void **state)
{
    static const char v[] = "3:abc0:4:a\0b:10:0123456789";
    struct seen s = {0};
    (void)state;
    assert_int_equal(store_seen_each(v, sizeof(v) - 1, collect, &s), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.len[0], 3);
    assert_memory_equal(s.ids[0], "abc", 3);
    assert_int_equal(s.len[1], 0);
    assert_int_equal(s.len[2], 4);
    assert_memory_equal(s.ids[2], "a\0b:", 4);
    assert_int_equal(s.len[3], 10);
    assert_memory_equal(s.ids[3], "0123456789", 10);
    s.n = 0;
    assert_int_equal(store_seen_each("", 0, collect, &s), 0);
    assert_int_equal(s.n, 0);
}

/* 'u' records beside length-prefixed ones, as a value written partly before them and
 * partly after reads: the uuid's bytes come back as its canonical text. */
static void test_uuid_records(void **state)
{
    static const char text[] = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    uint8_t bin[16];
    char v[128];
    size_t n = 0;
    struct seen s = {0};
    (void)state;
    assert_true(gtp_uuidtext_pack(text, sizeof(text) - 1, bin));
    memcpy(v + n, "3:abc", 5), n += 5;
    v[n++] = 'u', memcpy(v + n, bin, 16), n += 16;
    memcpy(v + n, "1:u", 3), n += 3; /* an id that is the letter u, as text */
    v[n++] = 'u', memset(v + n, 0, 16), n += 16;
    assert_int_equal(store_seen_each(v, n, collect, &s), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.len[0], 3);
    assert_int_equal(s.len[1], 36);
    assert_memory_equal(s.ids[1], text, 36);
    assert_int_equal(s.len[2], 1);
    assert_memory_equal(s.ids[2], "u", 1);
    assert_int_equal(s.len[3], 36);
    assert_memory_equal(s.ids[3], "00000000-0000-0000-0000-000000000000", 36);

    /* a record cut short is damage, whatever precedes it */
    for (size_t cut = 1; cut < 17; cut++) {
        struct seen t = {0};
        assert_int_equal(store_seen_each(v + 5, cut, collect, &t), GTP_ERR_PARSE);
        assert_int_equal(t.n, 0);
    }
}

/* What the flush sends is what a reload reads: the records the pending id list writes
 * (idlist.h) give every id back whole through store_seen_each. */
static void test_idlist_round_trip(void **state)
{
    static const struct {
        const char *id;
        size_t len;
    } ids[] = {
        {"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", 36}, /* a 'u' record */
        {"0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", 36}, /* text */
        {"a\0b:", 4},
        {"", 0},
        {"u", 1},
        {"00000000-0000-0000-0000-000000000000", 36},
    };
    struct idlist l = {0};
    struct seen s = {0};
    (void)state;
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        idlist_add(&l, 3600000000LL, ids[i].id, ids[i].len);
    assert_int_equal(l.ng, 1);
    assert_int_equal(store_seen_each(l.g[0].rec.p, l.g[0].rec.len, collect, &s), 0);
    assert_int_equal(s.n, sizeof(ids) / sizeof(ids[0]));
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        assert_int_equal(s.len[i], ids[i].len);
        assert_memory_equal(s.ids[i], ids[i].id, ids[i].len);
    }
    idlist_fini(&l);
}

static void test_damaged(void **state)
{
    static const char *bad[] = {
        "3:ab",        /* shorter than its length */
        "3abc",        /* no colon */
        ":abc",        /* no length */
        "x:1",         /* not a number */
        "2:ab3",       /* a trailing length without its id */
        "123456789:a", /* a length of more than 8 digits */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct seen s = {0};
        if (store_seen_each(bad[i], strlen(bad[i]), collect, &s) != GTP_ERR_PARSE)
            fail_msg("accepted \"%s\"", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_uuid_records),
        cmocka_unit_test(test_idlist_round_trip),
        cmocka_unit_test(test_damaged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
