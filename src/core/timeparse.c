/* RFC 3339 parsing and formatting on int64 microseconds, without the C
 * library's time zone machinery (timegm/gmtime are slow and locale-bound). */
#include "gtp/timeparse.h"
#include "gtp/err.h"
#include "gtp/util.h"

#include <stdio.h>

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SEC)

/* Howard Hinnant's days_from_civil: proleptic Gregorian, exact for any year. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

/* Exactly n ASCII digits at s[*pos]; advances *pos. */
static int digits(const char *s, size_t len, size_t *pos, int n, int *out)
{
    int v = 0;
    if (*pos + (size_t)n > len)
        return -1;
    for (int i = 0; i < n; i++) {
        char c = s[*pos + (size_t)i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *pos += (size_t)n;
    *out = v;
    return 0;
}

static int expect(const char *s, size_t len, size_t *pos, char c)
{
    if (*pos >= len || s[*pos] != c)
        return -1;
    (*pos)++;
    return 0;
}

int gtp_time_parse(const char *s, size_t len, int64_t *out_us, char *errstr, size_t errstr_size)
{
    size_t pos = 0;
    /* all set by the parse below; zeroed for compilers that cannot see it */
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, usec = 0, off_min = 0;

    if (!s)
        goto syntax;
    if (digits(s, len, &pos, 4, &y) || expect(s, len, &pos, '-') || digits(s, len, &pos, 2, &mo) ||
        expect(s, len, &pos, '-') || digits(s, len, &pos, 2, &d))
        goto syntax;
    if (pos >= len || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' '))
        goto syntax;
    pos++;
    if (digits(s, len, &pos, 2, &h) || expect(s, len, &pos, ':') || digits(s, len, &pos, 2, &mi) ||
        expect(s, len, &pos, ':') || digits(s, len, &pos, 2, &sec))
        goto syntax;
    if (pos < len && s[pos] == '.') {
        int n = 0;
        pos++;
        while (pos < len && s[pos] >= '0' && s[pos] <= '9') {
            if (n < 6)
                usec = usec * 10 + (s[pos] - '0');
            n++;
            pos++;
        }
        if (n == 0)
            goto syntax;
        for (; n < 6; n++)
            usec *= 10;
    }
    if (pos >= len)
        goto syntax;
    if (s[pos] == 'Z' || s[pos] == 'z') {
        pos++;
    } else if (s[pos] == '+' || s[pos] == '-') {
        int sign = s[pos] == '-' ? -1 : 1, oh, om;
        pos++;
        if (digits(s, len, &pos, 2, &oh) || expect(s, len, &pos, ':') ||
            digits(s, len, &pos, 2, &om))
            goto syntax;
        if (oh > 23 || om > 59) {
            gtp_errf(errstr, errstr_size, "impossible utc offset");
            return GTP_ERR_PARSE;
        }
        off_min = sign * (oh * 60 + om);
    } else {
        goto syntax;
    }
    if (pos != len)
        goto syntax;

    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60) {
        gtp_errf(errstr, errstr_size, "impossible date or time");
        return GTP_ERR_PARSE;
    }
    int64_t t = days_from_civil(y, mo, d) * US_PER_DAY +
                ((int64_t)h * 3600 + mi * 60 + sec - (int64_t)off_min * 60) * US_PER_SEC + usec;
    if (t < GTP_TIME_MIN_US || t >= GTP_TIME_MAX_US) {
        gtp_errf(errstr, errstr_size, "time outside the years 2000-2100");
        return GTP_ERR_INVAL;
    }
    *out_us = t;
    return 0;

syntax:
    gtp_errf(errstr, errstr_size, "not an rfc 3339 date-time");
    return GTP_ERR_PARSE;
}

void gtp_time_split(int64_t us, struct gtp_tm *tm)
{
    int64_t days = us / US_PER_DAY, rem = us % US_PER_DAY;
    if (rem < 0) {
        rem += US_PER_DAY;
        days--;
    }
    civil_from_days(days, &tm->year, &tm->month, &tm->day);
    int64_t secs = rem / US_PER_SEC;
    tm->usec = (int)(rem % US_PER_SEC);
    tm->hour = (int)(secs / 3600);
    tm->minute = (int)(secs / 60 % 60);
    tm->second = (int)(secs % 60);
}

size_t gtp_time_format(int64_t us, char *buf, size_t buf_size)
{
    struct gtp_tm tm;
    int n;
    gtp_time_split(us, &tm);
    if (tm.usec)
        n = snprintf(buf, buf_size, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.year, tm.month,
                     tm.day, tm.hour, tm.minute, tm.second, tm.usec);
    else
        n = snprintf(buf, buf_size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.year, tm.month, tm.day,
                     tm.hour, tm.minute, tm.second);
    return n < 0 ? 0 : (size_t)n;
}

size_t gtp_time_format_date(int64_t us, char *buf, size_t buf_size)
{
    struct gtp_tm tm;
    gtp_time_split(us, &tm);
    int n = snprintf(buf, buf_size, "%04d-%02d-%02d", tm.year, tm.month, tm.day);
    return n < 0 ? 0 : (size_t)n;
}

size_t gtp_time_format_hour(int64_t us, char *buf, size_t buf_size)
{
    struct gtp_tm tm;
    gtp_time_split(us, &tm);
    int n = snprintf(buf, buf_size, "%04d-%02d-%02d-%02d", tm.year, tm.month, tm.day, tm.hour);
    return n < 0 ? 0 : (size_t)n;
}
