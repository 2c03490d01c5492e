/* Fuzz target: gtp_time_parse against an independent RFC 3339 reader written
 * from the header's contract, plus the formatters' round trip and their
 * truncation on short buffers. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gtp/util.h"
#include "gtp/err.h"
#include "gtp/timeparse.h"

static int digits(const uint8_t *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int mdays(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

/* Returns 0 and *us, GTP_ERR_PARSE or GTP_ERR_INVAL, as the contract says. */
static int ref_parse(const uint8_t *s, size_t n, int64_t *us)
{
    int Y, M, D, h, mi, sec, oh = 0, om = 0, sign = 0;
    int64_t frac = 0, t;
    size_t i = 19;

    if (n < 20 || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) || s[7] != '-' ||
        !digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return GTP_ERR_PARSE;
    if (M < 1 || M > 12 || D < 1 || D > mdays(Y, M) || h > 23 || mi > 59 || sec > 60)
        return GTP_ERR_PARSE;
    if (s[i] == '.') {
        size_t k = 0;
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (k < 6)
                frac = frac * 10 + (s[i] - '0');
            k++;
            i++;
        }
        if (k == 0)
            return GTP_ERR_PARSE;
        for (; k < 6; k++)
            frac *= 10;
    }
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        sign = s[i] == '+' ? 1 : -1;
        if (n - i < 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
            !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return GTP_ERR_PARSE;
        i += 6;
    } else {
        return GTP_ERR_PARSE;
    }
    if (i != n)
        return GTP_ERR_PARSE;
    t = days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + sec;
    t -= sign * (oh * 3600 + om * 60);
    t = t * 1000000 + frac;
    if (t < GTP_TIME_MIN_US || t >= GTP_TIME_MAX_US)
        return GTP_ERR_INVAL;
    *us = t;
    return 0;
}

static void check_formatters(int64_t us)
{
    char full[64], small[GTP_TIME_RFC3339_MAX];
    size_t n = gtp_time_format(us, full, sizeof(full));
    struct gtp_tm tm;

    FUZZ_CHECK(n == strlen(full) && n < GTP_TIME_RFC3339_MAX, "format length %zu", n);
    /* snprintf-like truncation with every short size, on exact-size heap buffers */
    for (size_t k = 0; k <= n + 1; k++) {
        char *b = gtp_xmalloc(k ? k : 1);
        size_t m = gtp_time_format(us, k ? b : NULL, k);
        FUZZ_CHECK(m == n, "format into %zu bytes returned %zu, not %zu", k, m, n);
        if (k)
            FUZZ_CHECK(strlen(b) == (k - 1 < n ? k - 1 : n) && memcmp(b, full, strlen(b)) == 0,
                       "truncated format differs");
        free(b);
    }
    gtp_time_split(us, &tm);
    FUZZ_CHECK(tm.month >= 1 && tm.month <= 12 && tm.day >= 1 && tm.day <= 31 && tm.hour >= 0 &&
                   tm.hour < 24 && tm.minute >= 0 && tm.minute < 60 && tm.second >= 0 &&
                   tm.second < 60 && tm.usec >= 0 && tm.usec < 1000000,
               "split out of range");
    n = gtp_time_format_date(us, small, sizeof(small));
    FUZZ_CHECK(n == strlen(small) && n < GTP_TIME_DATE_MAX, "date length");
    n = gtp_time_format_hour(us, small, sizeof(small));
    FUZZ_CHECK(n == strlen(small) && n < GTP_TIME_HOUR_MAX, "hour length");
}

int gtp_fuzz_time(const uint8_t *data, size_t size)
{
    char errstr[128];
    int64_t us = -1, ref = -1;
    uint8_t *buf = gtp_xmalloc(size ? size : 1);
    int rc, want;

    /* not NUL-terminated: an over-read hits ASan */
    if (size)
        memcpy(buf, data, size);
    errstr[0] = '\0';
    rc = gtp_time_parse((const char *)buf, size, &us, errstr, sizeof(errstr));
    want = ref_parse(data, size, &ref);
    FUZZ_CHECK(rc == want, "gtp_time_parse returned %d, the reference %d (%.*s): %s", rc, want,
               (int)(size < 64 ? size : 64), (const char *)data, errstr);
    if (rc == 0) {
        char back[64];
        int64_t us2 = -1;
        size_t n;
        FUZZ_CHECK(us == ref, "parsed %lld, the reference %lld", (long long)us, (long long)ref);
        /* the canonical form parses back to the same instant */
        n = gtp_time_format(us, back, sizeof(back));
        FUZZ_CHECK(gtp_time_parse(back, n, &us2, errstr, sizeof(errstr)) == 0 && us2 == us,
                   "format/parse round trip: %s", back);
    } else {
        FUZZ_CHECK(errstr[0] != '\0', "error without a message");
    }
    free(buf);

    /* formatters on an arbitrary instant (negative and far-future ones too) */
    if (size >= 8) {
        struct fuzz_in in = {data, size};
        /* years 0000..9999, where "YYYY" holds the year */
        const int64_t lo = INT64_C(-62167219200000000), hi = INT64_C(253402300800000000);
        int64_t t = lo + (int64_t)(fuzz_u64(&in) % (uint64_t)(hi - lo));
        check_formatters(t);
    }
    if (rc == 0)
        check_formatters(us);
    return 0;
}
