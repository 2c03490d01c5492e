/* Canonical uuid text <-> 16 bytes (see uuidtext.h). */
#include "gtp/uuidtext.h"

/* 0..15 for a lowercase hex digit, 16 for anything else */
static const uint8_t hexval[256] = {
    ['0'] = 0, ['1'] = 1, ['2'] = 2,  ['3'] = 3,  ['4'] = 4,  ['5'] = 5,  ['6'] = 6,  ['7'] = 7,
    ['8'] = 8, ['9'] = 9, ['a'] = 10, ['b'] = 11, ['c'] = 12, ['d'] = 13, ['e'] = 14, ['f'] = 15,
};

/* hexval above is 0 for a non-digit too: mark the digits */
static const uint8_t is_hex[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
};

bool gtp_uuidtext_pack(const char *s, size_t len, uint8_t out[16])
{
    /* where each byte's two digits start in the 8-4-4-4-12 text */
    static const uint8_t at[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
    const unsigned char *u = (const unsigned char *)s;
    unsigned bad = 0;
    if (len != GTP_UUIDTEXT_LEN || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
        return false;
    for (size_t b = 0; b < 16; b++) {
        unsigned char hi = u[at[b]], lo = u[at[b] + 1];
        bad |= (unsigned)(is_hex[hi] & is_hex[lo]) ^ 1u;
        out[b] = (uint8_t)(hexval[hi] << 4 | hexval[lo]);
    }
    return bad == 0;
}

void gtp_uuidtext_unpack(const uint8_t in[16], char out[GTP_UUIDTEXT_LEN])
{
    static const char hex[] = "0123456789abcdef";
    for (size_t b = 0, o = 0; b < 16; b++) {
        if (o == 8 || o == 13 || o == 18 || o == 23)
            out[o++] = '-';
        out[o++] = hex[in[b] >> 4];
        out[o++] = hex[in[b] & 15];
    }
}
