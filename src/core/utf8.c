/* UTF-8 validation (see utf8.h). gtp_utf8_valid runs on every event the
 * processor reads, so ASCII is skipped a word at a time. */
#include "gtp/utf8.h"

#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

size_t gtp_utf8_seq_len(const void *s, size_t n)
{
    const unsigned char *u = s;
    unsigned char c, lo = 0x80, hi = 0xBF;
    size_t need;

    if (n == 0)
        return 0;
    c = u[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 overlong lead, F5..FF */
    }
    if (n - 1 < need || u[1] < lo || u[1] > hi)
        return 0;
    for (size_t k = 2; k <= need; k++)
        if ((u[k] & 0xC0) != 0x80)
            return 0;
    return need + 1;
}

int gtp_utf8_valid(const void *buf, size_t len, size_t *bad_at)
{
    const unsigned char *s = buf;
    size_t i = 0;
    while (i < len) {
        size_t k;
        /* ASCII runs dominate JSON: skip them 16 bytes at a time (a byte's high bit is its
         * sign in the movemask), then 8. */
#ifdef __SSE2__
        while (i + 16 <= len &&
               _mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + i))) == 0)
            i += 16;
        if (i == len)
            break;
#endif
        if (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & UINT64_C(0x8080808080808080))) {
                i += 8;
                continue;
            }
        }
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        k = gtp_utf8_seq_len(s + i, len - i);
        if (k == 0) {
            if (bad_at)
                *bad_at = i;
            return 0;
        }
        i += k;
    }
    return 1;
}
