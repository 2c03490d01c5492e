/* RFC 3339 parsing (offsets, fractions, impossible dates, year range) and the
 * formatters, table-driven. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gtp/err.h"
#include "gtp/timeparse.h"
#include "gtp/util.h"

/* Expected value computed independently with timegm() from the UTC fields. */
static int64_t utc(int y, int mo, int d, int h, int mi, int s, int us)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm) * 1000000 + us;
}

static void test_valid(void **state)
{
    static const struct {
        const char *in;
        int y, mo, d, h, mi, s, us;
        const char *fmt;
    } cases[] = {
        {"2024-03-15T10:30:00Z", 2024, 3, 15, 10, 30, 0, 0, "2024-03-15T10:30:00Z"},
        {"2024-03-15t10:30:00z", 2024, 3, 15, 10, 30, 0, 0, "2024-03-15T10:30:00Z"},
        {"2024-03-15 10:30:00Z", 2024, 3, 15, 10, 30, 0, 0, "2024-03-15T10:30:00Z"},
        {"2024-03-15T10:30:00+05:30", 2024, 3, 15, 5, 0, 0, 0, "2024-03-15T05:00:00Z"},
        {"2024-03-15T10:30:00-08:00", 2024, 3, 15, 18, 30, 0, 0, "2024-03-15T18:30:00Z"},
        {"2024-03-15T23:30:00-08:00", 2024, 3, 16, 7, 30, 0, 0, "2024-03-16T07:30:00Z"},
        {"2024-03-01T01:00:00+02:00", 2024, 2, 29, 23, 0, 0, 0, "2024-02-29T23:00:00Z"},
        {"2024-03-15T10:30:00.123456Z", 2024, 3, 15, 10, 30, 0, 123456,
         "2024-03-15T10:30:00.123456Z"},
        {"2024-03-15T10:30:00.1Z", 2024, 3, 15, 10, 30, 0, 100000, "2024-03-15T10:30:00.100000Z"},
        {"2024-03-15T10:30:00.123456789Z", 2024, 3, 15, 10, 30, 0, 123456,
         "2024-03-15T10:30:00.123456Z"},
        {"2024-03-15T10:30:00.000Z", 2024, 3, 15, 10, 30, 0, 0, "2024-03-15T10:30:00Z"},
        {"2024-03-15T10:30:00.5+01:00", 2024, 3, 15, 9, 30, 0, 500000,
         "2024-03-15T09:30:00.500000Z"},
        {"2024-02-29T00:00:00Z", 2024, 2, 29, 0, 0, 0, 0, "2024-02-29T00:00:00Z"},
        {"2000-02-29T12:00:00Z", 2000, 2, 29, 12, 0, 0, 0, "2000-02-29T12:00:00Z"},
        {"2000-01-01T00:00:00Z", 2000, 1, 1, 0, 0, 0, 0, "2000-01-01T00:00:00Z"},
        {"2100-12-31T23:59:59.999999Z", 2100, 12, 31, 23, 59, 59, 999999,
         "2100-12-31T23:59:59.999999Z"},
        {"2016-12-31T23:59:60Z", 2017, 1, 1, 0, 0, 0, 0, "2017-01-01T00:00:00Z"},
        {"2024-03-15T10:30:00-00:00", 2024, 3, 15, 10, 30, 0, 0, "2024-03-15T10:30:00Z"},
    };
    (void)state;
    for (size_t i = 0; i < GTP_ARRAY_LEN(cases); i++) {
        int64_t got = 0;
        char err[128] = "", buf[GTP_TIME_RFC3339_MAX];
        int rc = gtp_time_parse(cases[i].in, strlen(cases[i].in), &got, err, sizeof(err));
        if (rc)
            fprintf(stderr, "%s: %s\n", cases[i].in, err);
        assert_int_equal(rc, 0);
        assert_int_equal(got, utc(cases[i].y, cases[i].mo, cases[i].d, cases[i].h, cases[i].mi,
                                  cases[i].s, cases[i].us));
        gtp_time_format(got, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].fmt);
    }
}

static void test_invalid(void **state)
{
    static const struct {
        const char *in;
        int err;
    } cases[] = {
        {"", GTP_ERR_PARSE},
        {"yesterday", GTP_ERR_PARSE},
        {"2024-03-15", GTP_ERR_PARSE},
        {"2024-03-15T10:30Z", GTP_ERR_PARSE},
        {"2024-03-15T10:30:00", GTP_ERR_PARSE}, /* no offset */
        {"2024-3-15T10:30:00Z", GTP_ERR_PARSE},
        {"2024-03-15T10:30:00.Z", GTP_ERR_PARSE},
        {"2024-03-15T10:30:00+0530", GTP_ERR_PARSE},
        {"2024-03-15T10:30:00+05", GTP_ERR_PARSE},
        {"2024-03-15T10:30:00Z ", GTP_ERR_PARSE},
        {" 2024-03-15T10:30:00Z", GTP_ERR_PARSE},
        {"2024-03-15T10:30:00ZZ", GTP_ERR_PARSE},
        {"2024/03/15T10:30:00Z", GTP_ERR_PARSE},
        {"15/03/2024 10:30", GTP_ERR_PARSE},
        {"1710498600", GTP_ERR_PARSE},
        {"2024-02-30T10:00:00Z", GTP_ERR_PARSE},
        {"2023-02-29T10:00:00Z", GTP_ERR_PARSE},
        {"2100-02-29T10:00:00Z", GTP_ERR_PARSE},
        {"2024-13-01T10:00:00Z", GTP_ERR_PARSE},
        {"2024-00-10T10:00:00Z", GTP_ERR_PARSE},
        {"2024-04-31T10:00:00Z", GTP_ERR_PARSE},
        {"2024-03-00T10:00:00Z", GTP_ERR_PARSE},
        {"2024-03-15T25:00:00Z", GTP_ERR_PARSE},
        {"2024-03-15T24:00:00Z", GTP_ERR_PARSE},
        {"2024-03-15T10:60:00Z", GTP_ERR_PARSE},
        {"2024-03-15T10:30:61Z", GTP_ERR_PARSE},
        {"2024-03-15T10:30:00+24:00", GTP_ERR_PARSE},
        {"2024-03-15T10:30:00+05:60", GTP_ERR_PARSE},
        {"1850-03-15T10:30:00Z", GTP_ERR_INVAL},
        {"2150-03-15T10:30:00Z", GTP_ERR_INVAL},
        {"1999-12-31T23:59:59.999999Z", GTP_ERR_INVAL},
        {"2101-01-01T00:00:00Z", GTP_ERR_INVAL},
        {"2000-01-01T00:30:00+01:00", GTP_ERR_INVAL}, /* 1999 in UTC */
        {"9999-12-31T23:59:59Z", GTP_ERR_INVAL},
        {"0000-01-01T00:00:00Z", GTP_ERR_INVAL},
    };
    (void)state;
    for (size_t i = 0; i < GTP_ARRAY_LEN(cases); i++) {
        int64_t got = 42;
        char err[128] = "";
        int rc = gtp_time_parse(cases[i].in, strlen(cases[i].in), &got, err, sizeof(err));
        if (rc != cases[i].err)
            fprintf(stderr, "%s: rc %d\n", cases[i].in, rc);
        assert_int_equal(rc, cases[i].err);
        assert_int_equal(got, 42); /* untouched on error */
        assert_true(err[0] != '\0');
    }
    /* Not NUL-terminated input: only len bytes are read. */
    int64_t t;
    assert_int_equal(gtp_time_parse("2024-03-15T10:30:00Zgarbage", 20, &t, NULL, 0), 0);
    assert_int_equal(gtp_time_parse("2024-03-15T10:30:00Z", 19, &t, NULL, 0), GTP_ERR_PARSE);
    assert_int_equal(gtp_time_parse(NULL, 0, &t, NULL, 0), GTP_ERR_PARSE);
}

static void test_formatters(void **state)
{
    char buf[GTP_TIME_RFC3339_MAX];
    int64_t t = utc(2024, 3, 15, 10, 30, 0, 0);
    (void)state;
    gtp_time_format_date(t, buf, sizeof(buf));
    assert_string_equal(buf, "2024-03-15");
    gtp_time_format_hour(t, buf, sizeof(buf));
    assert_string_equal(buf, "2024-03-15-10");
    gtp_time_format_hour(utc(2024, 12, 31, 23, 59, 59, 999999), buf, sizeof(buf));
    assert_string_equal(buf, "2024-12-31-23");
    gtp_time_format(-1, buf, sizeof(buf));
    assert_string_equal(buf, "1969-12-31T23:59:59.999999Z");
    gtp_time_format(0, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    /* Every hour of a leap year round-trips through format and parse. */
    for (int64_t u = utc(2024, 1, 1, 0, 0, 0, 7); u < utc(2025, 1, 1, 0, 0, 0, 0);
         u += INT64_C(3600000000) + 1) {
        int64_t back;
        size_t n = gtp_time_format(u, buf, sizeof(buf));
        assert_int_equal(gtp_time_parse(buf, n, &back, NULL, 0), 0);
        assert_int_equal(back, u);
    }
    /* Truncating output stays NUL-terminated. */
    char small[5];
    gtp_time_format(t, small, sizeof(small));
    assert_string_equal(small, "2024");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_formatters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
