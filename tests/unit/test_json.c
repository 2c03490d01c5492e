/* JSON string escaping in both modes: the escapes byte for byte, control
 * and HTML-unsafe characters, invalid UTF-8, and random strings read back
 * with jansson (the output must decode to the input) and checked for
 * anything an HTML or <script> context could misread. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/json.h"
#include "gtp/utf8.h"

struct esc_case {
    const char *in;
    size_t n;
    const char *want;
};

static void run_cases(const struct esc_case *cases, size_t ncases, enum gtp_json_mode mode)
{
    for (size_t i = 0; i < ncases; i++) {
        struct gtp_buf b = {0};
        gtp_json_quote(&b, cases[i].in, cases[i].n, mode);
        if (strcmp(b.p, cases[i].want) != 0)
            fail_msg("mode %d case %zu: got %s want %s", (int)mode, i, b.p, cases[i].want);
        assert_int_equal(strlen(b.p), b.len);
        gtp_buf_fini(&b);
    }
}

static void test_plain(void **state)
{
    static const struct esc_case cases[] = {
        {"", 0, "\"\""},
        {"python", 6, "\"python\""},
        {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
        {"l1\nl2\t\r", 7, "\"l1\\nl2\\t\\r\""},
        {"\b\f", 2, "\"\\b\\f\""},
        {"\x01\x1f", 2, "\"\\u0001\\u001f\""},
        {"nul\0x", 5, "\"nul\\u0000x\""},
        {"\x7f<>&'/", 6, "\"\x7f<>&'/\""}, /* nothing HTML-specific */
        {"caf\xc3\xa9 \xe2\x80\xa8", 9, "\"caf\xc3\xa9 \xe2\x80\xa8\""},
        /* invalid bytes pass through: the generator's chaos events need them */
        {"bad\xff\xc0\xaf", 6, "\"bad\xff\xc0\xaf\""},
    };
    (void)state;
    run_cases(cases, sizeof(cases) / sizeof(cases[0]), GTP_JSON_PLAIN);
}

static void test_html(void **state)
{
    static const struct esc_case cases[] = {
        {"", 0, "\"\""},
        {"python", 6, "\"python\""},
        {"<script>alert(1)</script>", 25, "\"\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\""},
        {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
        {"x'&y", 4, "\"x\\u0027\\u0026y\""},
        {"l1\nl2\t\r", 7, "\"l1\\nl2\\t\\r\""},
        {"\b\f", 2, "\"\\u0008\\u000c\""},
        {"\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\""},
        {"nul\0x", 5, "\"nul\\u0000x\""},
        {"caf\xc3\xa9", 5, "\"caf\xc3\xa9\""},
        {"\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\""},
        {"bad\xff", 4, "\"bad\\ufffd\""},
        {"\xc0\xaf", 2, "\"\\ufffd\\ufffd\""},            /* overlong '/' */
        {"\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""}, /* surrogate */
        {"\xe2\x82", 2, "\"\\ufffd\\ufffd\""},            /* truncated */
        {"\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},
        {"a\xe2\x80\xa8"
         "b\xe2\x80\xa9"
         "c",
         9, "\"a\\u2028b\\u2029c\""},
        {"\xe2\x80\xaa", 3, "\"\xe2\x80\xaa\""}, /* U+202A is not a line terminator */
    };
    (void)state;
    run_cases(cases, sizeof(cases) / sizeof(cases[0]), GTP_JSON_HTML);
}

static void test_cstr_and_escape(void **state)
{
    struct gtp_buf b = {0};
    (void)state;
    gtp_json_quote_cstr(&b, NULL, GTP_JSON_HTML);
    gtp_buf_putc(&b, ',');
    gtp_json_quote_cstr(&b, "<", GTP_JSON_HTML);
    gtp_buf_putc(&b, ',');
    gtp_json_escape(&b, "q\"", 2, GTP_JSON_PLAIN); /* no quotes around */
    gtp_json_escape(&b, NULL, 0, GTP_JSON_PLAIN);
    assert_string_equal(b.p, "null,\"\\u003c\",q\\\"");
    gtp_buf_fini(&b);
}

/* Many strings into one buffer, each worst case (six bytes out per byte in):
 * the buffer grows through many reallocations and nothing is lost. */
static void test_growth(void **state)
{
    struct gtp_buf b = {0};
    char in[257];
    (void)state;
    for (int i = 0; i < 256; i++)
        in[i] = (char)(i % 32); /* all controls */
    for (int k = 0; k < 500; k++)
        gtp_json_escape(&b, in, 256, k % 2 ? GTP_JSON_HTML : GTP_JSON_PLAIN);
    assert_int_equal(strlen(b.p), b.len);
    assert_memory_equal(b.p, "\\u0000\\u0001", 12);
    assert_true(b.len > 500 * 256 * 4);
    gtp_buf_fini(&b);
}

static uint32_t rnd(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* Random bytes biased towards the interesting ones. */
static size_t random_bytes(uint32_t *seed, char *out, size_t max)
{
    static const char pool[] = "aZ09 \"\\<>&'/\n\r\t\b\f\x01\x1f\x7f";
    static const char *const seqs[] = {"\xc3\xa9",         "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                       "\xe2\x80\xa8",     "\xe2\x80\xa9", "\xed\xa0\x80",
                                       "\xc0\xaf",         "\xff",         "\xe2\x82",
                                       "\xf4\x90\x80\x80", "\xef\xbf\xbd"};
    size_t n = 0, want = rnd(seed) % max;
    while (n < want) {
        uint32_t r = rnd(seed) % 10;
        if (r < 6) {
            out[n++] = pool[rnd(seed) % (sizeof(pool) - 1)];
        } else if (r < 8) {
            const char *s = seqs[rnd(seed) % (sizeof(seqs) / sizeof(seqs[0]))];
            size_t k = strlen(s);
            if (n + k > max)
                break;
            memcpy(out + n, s, k);
            n += k;
        } else {
            out[n++] = (char)(rnd(seed) & 0xff);
        }
    }
    return n;
}

static void test_random_vs_jansson(void **state)
{
    uint32_t seed = 20261206;
    char in[64];
    (void)state;
    for (int it = 0; it < 20000; it++) {
        size_t n = random_bytes(&seed, in, sizeof(in));
        int valid = gtp_utf8_valid(in, n, NULL);
        for (int mode = GTP_JSON_PLAIN; mode <= GTP_JSON_HTML; mode++) {
            struct gtp_buf b = {0};
            json_error_t jerr;
            json_t *j;
            gtp_json_quote(&b, in, n, (enum gtp_json_mode)mode);
            if (mode == GTP_JSON_HTML) {
                /* nothing raw that HTML or a <script> could misread */
                assert_null(memchr(b.p, '<', b.len));
                assert_null(memchr(b.p, '>', b.len));
                assert_null(memchr(b.p, '&', b.len));
                assert_null(memchr(b.p, '\'', b.len));
                assert_null(strstr(b.p, "\xe2\x80\xa8"));
                assert_null(strstr(b.p, "\xe2\x80\xa9"));
                assert_true(gtp_utf8_valid(b.p, b.len, NULL));
            }
            if (!valid && mode == GTP_JSON_PLAIN) {
                gtp_buf_fini(&b);
                continue; /* plain mode copies invalid bytes: not JSON */
            }
            j = json_loadb(b.p, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
            if (!j)
                fail_msg("iteration %d mode %d: jansson rejects %s: %s", it, mode, b.p, jerr.text);
            assert_true(json_is_string(j));
            if (valid) /* then decoding gives the input back exactly */
                assert_true(json_string_length(j) == n && memcmp(json_string_value(j), in, n) == 0);
            json_decref(j);
            gtp_buf_fini(&b);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_cstr_and_escape),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_random_vs_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
