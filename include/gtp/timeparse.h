/* RFC 3339 timestamps <-> microseconds since the Unix epoch (UTC), for event
 * times (docs/events.md) and the labels derived from them (date_posted, Redis hours). */
#ifndef GTP_TIMEPARSE_H
#define GTP_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

/* Accepted range of event times: [2000-01-01T00:00:00Z, 2101-01-01T00:00:00Z),
 * i.e. the UTC instant must fall in the years 2000..2100. */
#define GTP_TIME_MIN_US INT64_C(946684800000000)
#define GTP_TIME_MAX_US INT64_C(4133980800000000) /* exclusive */

/* Buffer sizes that always suffice for the formatters below (with NUL). */
#define GTP_TIME_RFC3339_MAX 32 /* "2024-03-15T10:30:00.123456Z" */
#define GTP_TIME_DATE_MAX    11 /* "2024-03-15" */
#define GTP_TIME_HOUR_MAX    14 /* "2024-03-15-10" */

/* Parse an RFC 3339 date-time from s[0..len) (need not be NUL-terminated):
 *   YYYY-MM-DD ('T' | 't' | ' ') hh:mm:ss [.fraction] ('Z' | 'z' | ('+'|'-') hh:mm)
 * Offsets are converted to UTC. Fractions of any length are truncated (not
 * rounded) to microseconds. Second 60 (a leap second) is accepted and counts
 * as the first second of the next minute, as POSIX time does. Impossible dates
 * (2023-02-29, month 13, hour 24), missing parts, surrounding whitespace and
 * trailing bytes are errors, and so is an instant outside the years 2000..2100
 * (GTP_TIME_MIN_US <= t < GTP_TIME_MAX_US).
 * Returns 0 and sets *out_us, or GTP_ERR_PARSE (unparseable) / GTP_ERR_INVAL
 * (well-formed but out of range) with errstr set. Thread safe. */
int gtp_time_parse(const char *s, size_t len, int64_t *out_us, char *errstr, size_t errstr_size);

/* Format as RFC 3339 UTC: "2024-03-15T10:30:00Z" when the sub-second part is
 * zero, else always six fraction digits "2024-03-15T10:30:00.123400Z".
 * Returns the length written (buf_size >= GTP_TIME_RFC3339_MAX always fits);
 * output is truncated and NUL-terminated like snprintf. */
size_t gtp_time_format(int64_t us, char *buf, size_t buf_size);

/* "YYYY-MM-DD" of the UTC day (the archive's date_posted partition). */
size_t gtp_time_format_date(int64_t us, char *buf, size_t buf_size);

/* "YYYY-MM-DD-HH" of the UTC hour (the Redis trend key suffix). */
size_t gtp_time_format_hour(int64_t us, char *buf, size_t buf_size);

/* Broken-down UTC fields of us (negative times handled). */
struct gtp_tm {
    int year, month, day, hour, minute, second, usec;
};
void gtp_time_split(int64_t us, struct gtp_tm *tm);

#endif
