/* Canonical uuid text <-> bytes (gtp/uuidtext.h): exactly the lowercase 8-4-4-4-12 form packs,
 * and it unpacks to the same text; checked against a plain reference on mutated strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gtp/uuidtext.h"

static int ref_canonical(const char *s, size_t len)
{
    if (len != 36)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    }
    return 1;
}

static void test_round_trip_and_reference(void **state)
{
    static const char alphabet[] = "0123456789abcdefABCDEF-gz{}\0\xff";
    uint64_t x = 99;
    char s[40], back[GTP_UUIDTEXT_LEN];
    uint8_t bin[16];
    int packed = 0;
    (void)state;
    for (int round = 0; round < 200000; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        snprintf(s, sizeof(s), "%08x-%04x-%04x-%04x-%012llx", (unsigned)(x >> 32),
                 (unsigned)(x >> 16) & 0xffff, (unsigned)x & 0xffff, (unsigned)(x >> 48),
                 (unsigned long long)(x * 0x9e3779b97f4a7c15ULL) & 0xffffffffffffULL);
        size_t len = 36;
        /* most rounds change one byte or the length: every way to miss the form */
        switch ((x >> 60) % 4) {
        case 1:
            s[(x >> 8) % 36] = alphabet[(x >> 20) % (sizeof(alphabet) - 1)];
            break;
        case 2:
            len = (size_t)((x >> 24) % 40);
            break;
        default:
            break;
        }
        int want = ref_canonical(s, len);
        assert_int_equal(gtp_uuidtext_pack(s, len, bin), want);
        if (want) {
            gtp_uuidtext_unpack(bin, back);
            assert_memory_equal(back, s, 36);
            packed++;
        }
    }
    assert_true(packed > 50000 && packed < 200000); /* both kinds were tried */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
