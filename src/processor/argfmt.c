/* Numbers and labels of the flush's arguments (see argfmt.h). */
#include "argfmt.h"

#include <string.h>

#include "gtp/timeparse.h"

size_t argfmt_i64(char buf[ARGFMT_I64_MAX], int64_t v)
{
    char tmp[ARGFMT_I64_MAX];
    size_t n = 0, len = 0;
    /* the magnitude as unsigned: -INT64_MIN does not fit an int64_t */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = tmp[--n];
    buf[len] = '\0';
    return len;
}

void argfmt_arg_i64(struct gtp_rediscmd *c, int64_t v)
{
    char b[ARGFMT_I64_MAX];
    gtp_rediscmd_arg_copy(c, b, argfmt_i64(b, v));
}

static char *digits(char *p, int v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

#define MEMO 8 /* a flush spans a few hours and days; more only costs a re-format */

struct memo {
    int64_t unit; /* hour or day number; the slot is empty when len is 0 */
    size_t len;
    char s[24];
};

const char *argfmt_label(int64_t t_us, bool hour, size_t *len)
{
    static _Thread_local struct memo m[2][MEMO];
    const int64_t size = (hour ? INT64_C(3600) : INT64_C(86400)) * 1000000;
    int64_t unit = t_us / size - (t_us % size < 0); /* floor, for times before 1970 */
    struct memo *e = &m[hour][(uint64_t)unit % MEMO];
    if (!e->len || e->unit != unit) {
        struct gtp_tm tm;
        char *p = e->s;
        gtp_time_split(unit * size, &tm);
        if (tm.year < 0 || tm.year > 9999) { /* outside "%04d": the slow, exact way */
            e->len = hour ? gtp_time_format_hour(unit * size, e->s, sizeof(e->s))
                          : gtp_time_format_date(unit * size, e->s, sizeof(e->s));
        } else {
            p = digits(p, tm.year, 4);
            *p++ = '-';
            p = digits(p, tm.month, 2);
            *p++ = '-';
            p = digits(p, tm.day, 2);
            if (hour) {
                *p++ = '-';
                p = digits(p, tm.hour, 2);
            }
            *p = '\0';
            e->len = (size_t)(p - e->s);
        }
        e->unit = unit;
    }
    *len = e->len;
    return e->s;
}
