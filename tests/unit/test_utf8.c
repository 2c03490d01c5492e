/* UTF-8 validation: the boundary cases of Unicode Table 3-7 one by one
 * (overlongs, surrogates, past U+10FFFF, truncation, stray continuations),
 * the offset of the first bad byte, and every 1-, 2- and 3-byte sequence
 * (and the 4-byte ones around each boundary) held against a decoder that
 * checks the code point instead of the byte ranges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gtp/utf8.h"

static const struct {
    const char *s;
    size_t n;
    int ok;
    size_t bad_at;
} cases[] = {
    {"", 0, 1, 0},
    {"plain ascii, longer than one word", 33, 1, 0},
    {"nul\0inside", 10, 1, 0}, /* U+0000 is a character */
    {"\x7f", 1, 1, 0},
    {"caf\xc3\xa9", 5, 1, 0},
    {"\xc2\x80", 2, 1, 0},                 /* U+0080, smallest 2-byte */
    {"\xdf\xbf", 2, 1, 0},                 /* U+07FF */
    {"\xe0\xa0\x80", 3, 1, 0},             /* U+0800, smallest 3-byte */
    {"\xed\x9f\xbf", 3, 1, 0},             /* U+D7FF, just below the surrogates */
    {"\xee\x80\x80", 3, 1, 0},             /* U+E000, just above */
    {"\xef\xbf\xbf", 3, 1, 0},             /* U+FFFF */
    {"\xf0\x90\x80\x80", 4, 1, 0},         /* U+10000 */
    {"\xf4\x8f\xbf\xbf", 4, 1, 0},         /* U+10FFFF, the last one */
    {"\xc0\x80", 2, 0, 0},                 /* overlong NUL */
    {"\xc1\xbf", 2, 0, 0},                 /* overlong U+007F */
    {"\xe0\x80\x80", 3, 0, 0},             /* overlong */
    {"\xe0\x9f\xbf", 3, 0, 0},             /* overlong U+07FF */
    {"\xf0\x80\x80\x80", 4, 0, 0},         /* overlong */
    {"\xf0\x8f\xbf\xbf", 4, 0, 0},         /* overlong U+FFFF */
    {"\xed\xa0\x80", 3, 0, 0},             /* U+D800 high surrogate */
    {"\xed\xbf\xbf", 3, 0, 0},             /* U+DFFF low surrogate */
    {"\xed\xa0\xbd\xed\xb8\x80", 6, 0, 0}, /* CESU-8 surrogate pair */
    {"\xf4\x90\x80\x80", 4, 0, 0},         /* U+110000 */
    {"\xf5\x80\x80\x80", 4, 0, 0},         /* F5..FF never appear */
    {"\xf8\x88\x80\x80\x80", 5, 0, 0},     /* old 5-byte form */
    {"\xff", 1, 0, 0},
    {"\x80", 1, 0, 0}, /* stray continuation */
    {"ab\xbf", 3, 0, 2},
    {"\xc3", 1, 0, 0},                     /* truncated 2-byte */
    {"\xe2\x82", 2, 0, 0},                 /* truncated 3-byte */
    {"\xf0\x9f\x98", 3, 0, 0},             /* truncated 4-byte */
    {"ok \xe2\x82\xac \xe2\x82", 9, 0, 7}, /* truncated at the end */
    {"\xe2\x28\xa1", 3, 0, 0},             /* second byte not a continuation */
    {"\xf0\x9f\x28\x80", 4, 0, 0},         /* third byte not a continuation */
    {"\xf0\x9f\x98\x28", 4, 0, 0},         /* fourth byte not a continuation */
    {"abcdefghij\xff", 11, 0, 10},         /* bad byte after the word fast path */
    {"abcdefgh\xc3\xa9xyzabcde\xc3", 19, 0, 18},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t bad = 12345;
        int ok = gtp_utf8_valid(cases[i].s, cases[i].n, &bad);
        if (ok != cases[i].ok)
            fail_msg("case %zu: valid=%d, want %d", i, ok, cases[i].ok);
        if (!ok && bad != cases[i].bad_at)
            fail_msg("case %zu: bad_at=%zu, want %zu", i, bad, cases[i].bad_at);
        if (ok)
            assert_int_equal(bad, 12345); /* untouched on success */
        assert_int_equal(gtp_utf8_valid(cases[i].s, cases[i].n, NULL), cases[i].ok);
    }
    assert_true(gtp_utf8_valid(NULL, 0, NULL));
}

static void test_seq_len(void **state)
{
    (void)state;
    assert_int_equal(gtp_utf8_seq_len("", 0), 0);
    assert_int_equal(gtp_utf8_seq_len("a", 1), 1);
    assert_int_equal(gtp_utf8_seq_len("\0", 1), 1);
    assert_int_equal(gtp_utf8_seq_len("\xc3\xa9z", 3), 2);
    assert_int_equal(gtp_utf8_seq_len("\xe2\x82\xac", 3), 3);
    assert_int_equal(gtp_utf8_seq_len("\xe2\x82\xac", 2), 0); /* n cuts it */
    assert_int_equal(gtp_utf8_seq_len("\xf0\x9f\x98\x80", 4), 4);
    assert_int_equal(gtp_utf8_seq_len("\xed\xa0\x80", 3), 0);
    assert_int_equal(gtp_utf8_seq_len("\x80", 1), 0);
}

/* The independent model: decode by the lead byte's length, then demand the
 * shortest form, no surrogate and at most U+10FFFF. */
static size_t model_len(const unsigned char *s, size_t n)
{
    size_t need;
    uint32_t cp;
    if (n == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0)
        need = 2, cp = s[0] & 0x1F;
    else if ((s[0] & 0xF0) == 0xE0)
        need = 3, cp = s[0] & 0x0F;
    else if ((s[0] & 0xF8) == 0xF0)
        need = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (n < need)
        return 0;
    for (size_t k = 1; k < need; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000))
        return 0;
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return need;
}

static int model_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0, k; i < n; i += k)
        if ((k = model_len(s + i, n - i)) == 0)
            return 0;
    return 1;
}

static void check(const unsigned char *s, size_t n)
{
    size_t want = model_len(s, n), got = gtp_utf8_seq_len(s, n);
    if (got != want)
        fail_msg("%02x %02x %02x %02x (n=%zu): seq_len %zu, model %zu", s[0], n > 1 ? s[1] : 0,
                 n > 2 ? s[2] : 0, n > 3 ? s[3] : 0, n, got, want);
    if (gtp_utf8_valid(s, n, NULL) != model_valid(s, n))
        fail_msg("%02x %02x %02x %02x (n=%zu): valid disagrees", s[0], n > 1 ? s[1] : 0,
                 n > 2 ? s[2] : 0, n > 3 ? s[3] : 0, n);
}

static void test_against_model(void **state)
{
    static const unsigned char tails[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90,
                                          0x9f, 0xa0, 0xbf, 0xc0, 0xf4, 0xff};
    unsigned char s[4];
    (void)state;
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        check(s, 1);
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (unsigned char)b;
            check(s, 2);
            for (unsigned c = 0; c < 256; c++) {
                s[2] = (unsigned char)c;
                if (a >= 0xE0 && a <= 0xEF)
                    check(s, 3);
                if (a >= 0xF0 && a <= 0xF7)
                    for (size_t t = 0; t < sizeof(tails); t++) {
                        s[3] = tails[t];
                        check(s, 4);
                    }
            }
        }
    }
}

/* Every length and position of one multibyte character in ASCII, the bytes past the length
 * invalid: the word-at-a-time skips must stop at the length (a skip that reached it once read
 * the byte after the text) and must not step over the character. */
static void test_runs(void **state)
{
    static const char *const chars[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff",
                                        "\xc3"};
    unsigned char buf[80];
    (void)state;
    for (size_t len = 0; len <= 64; len++) {
        memset(buf, 'a', len);
        memset(buf + len, 0xff, sizeof(buf) - len);
        assert_int_equal(gtp_utf8_valid(buf, len, NULL), 1);
        for (size_t c = 0; c < sizeof(chars) / sizeof(chars[0]); c++) {
            size_t cl = strlen(chars[c]);
            for (size_t at = 0; at + cl <= len; at++) {
                size_t bad = SIZE_MAX;
                memset(buf, 'a', len);
                memcpy(buf + at, chars[c], cl);
                int want = c < 3;
                assert_int_equal(gtp_utf8_valid(buf, len, &bad), want);
                if (!want)
                    assert_int_equal(bad, at);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_seq_len),
        cmocka_unit_test(test_against_model),
        cmocka_unit_test(test_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
