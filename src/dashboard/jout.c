/* The dashboard's JSON value writer (see jout.h). */
#include "jout.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/json.h"

void jout_init(struct jout *j)
{
    gtp_buf_init(&j->b, 1024);
}

void jout_fini(struct jout *j)
{
    if (j)
        gtp_buf_fini(&j->b);
}

void jout_reset(struct jout *j)
{
    gtp_buf_reset(&j->b);
}

void jout_raw(struct jout *j, const char *s, size_t n)
{
    gtp_buf_put(&j->b, s, n);
}

void jout_lit(struct jout *j, const char *s)
{
    gtp_buf_puts(&j->b, s);
}

void jout_str(struct jout *j, const char *s, size_t n)
{
    gtp_json_quote(&j->b, s, n, GTP_JSON_HTML);
}

void jout_cstr(struct jout *j, const char *s)
{
    gtp_json_quote_cstr(&j->b, s, GTP_JSON_HTML);
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

void jout_g(struct jout *j, double v)
{
    char b[40];
    int n;
    if (!isfinite(v)) {
        jout_lit(j, "null");
        return;
    }
    n = snprintf(b, sizeof(b), "%.6g", v);
    jout_raw(j, b, (size_t)n);
}

void jout_csv(struct jout *j, const char *s, size_t n)
{
    bool formula = n > 0 && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@');
    bool quote = formula;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        jout_raw(j, s, n);
        return;
    }
    jout_lit(j, formula ? "\"'" : "\"");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            jout_lit(j, "\"\"");
        else
            jout_raw(j, s + i, 1);
    }
    jout_lit(j, "\"");
}

char *jout_take(struct jout *j, size_t *len)
{
    return gtp_buf_take(&j->b, len);
}
