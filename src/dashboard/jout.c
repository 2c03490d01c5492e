/* JSON output buffer with HTML-safe string escaping (see jout.h). */
#include "jout.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/util.h"

void jout_init(struct jout *j)
{
    j->cap = 1024;
    j->p = gtp_xmalloc(j->cap);
    j->p[0] = '\0';
    j->len = 0;
}

void jout_fini(struct jout *j)
{
    if (!j)
        return;
    free(j->p);
    j->p = NULL;
    j->len = j->cap = 0;
}

void jout_reset(struct jout *j)
{
    j->len = 0;
    if (j->p)
        j->p[0] = '\0';
}

static void grow(struct jout *j, size_t n)
{
    if (!j->p)
        jout_init(j);
    if (j->len + n + 1 <= j->cap)
        return;
    while (j->len + n + 1 > j->cap)
        j->cap *= 2;
    j->p = gtp_xrealloc(j->p, j->cap);
}

void jout_raw(struct jout *j, const char *s, size_t n)
{
    grow(j, n);
    memcpy(j->p + j->len, s, n);
    j->len += n;
    j->p[j->len] = '\0';
}

void jout_lit(struct jout *j, const char *s)
{
    jout_raw(j, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid
 * (overlongs, surrogates and code points past U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

void jout_str(struct jout *j, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    /* worst case 6 bytes per input byte, plus quotes */
    grow(j, n * 6 + 2);
    j->p[j->len++] = '"';
    while (i < n) {
        unsigned c = u[i];
        size_t k;
        if (c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c == '\'' ||
            c == 0x7f) {
            char *o = j->p + j->len;
            o[0] = '\\';
            switch (c) {
            case '"':
                o[1] = '"';
                j->len += 2;
                break;
            case '\\':
                o[1] = '\\';
                j->len += 2;
                break;
            case '\n':
                o[1] = 'n';
                j->len += 2;
                break;
            case '\r':
                o[1] = 'r';
                j->len += 2;
                break;
            case '\t':
                o[1] = 't';
                j->len += 2;
                break;
            default:
                o[1] = 'u';
                o[2] = '0';
                o[3] = '0';
                o[4] = hex[c >> 4];
                o[5] = hex[c & 15];
                j->len += 6;
            }
            i++;
            continue;
        }
        k = utf8_len(u + i, n - i);
        if (k == 0) {
            memcpy(j->p + j->len, "\\ufffd", 6);
            j->len += 6;
            i++;
            continue;
        }
        /* U+2028/U+2029 are valid JSON but break JavaScript string literals */
        if (k == 3 && c == 0xe2 && u[i + 1] == 0x80 && (u[i + 2] == 0xa8 || u[i + 2] == 0xa9)) {
            memcpy(j->p + j->len, u[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
            j->len += 6;
            i += 3;
            continue;
        }
        memcpy(j->p + j->len, u + i, k);
        j->len += k;
        i += k;
    }
    j->p[j->len++] = '"';
    j->p[j->len] = '\0';
}

void jout_cstr(struct jout *j, const char *s)
{
    if (!s)
        jout_lit(j, "null");
    else
        jout_str(j, s, strlen(s));
}

void jout_i64(struct jout *j, int64_t v)
{
    char b[32];
    int n = snprintf(b, sizeof(b), "%" PRId64, v);
    jout_raw(j, b, (size_t)n);
}

void jout_num(struct jout *j, double v)
{
    /* "%.3f" of a finite double takes up to 313 bytes (-DBL_MAX: 309 digits) */
    char b[320];
    int n;
    if (!isfinite(v)) {
        jout_lit(j, "null");
        return;
    }
    n = snprintf(b, sizeof(b), "%.3f", v);
    /* trim trailing zeros: 12.500 -> 12.5, 3.000 -> 3 */
    while (n > 0 && b[n - 1] == '0')
        n--;
    if (n > 0 && b[n - 1] == '.')
        n--;
    if (n == 2 && b[0] == '-' && b[1] == '0')
        b[0] = '0', n = 1;
    jout_raw(j, b, (size_t)n);
}

char *jout_take(struct jout *j, size_t *len)
{
    char *p;
    if (!j->p)
        jout_init(j);
    p = j->p;
    if (len)
        *len = j->len;
    j->p = NULL;
    j->len = j->cap = 0;
    return p;
}
