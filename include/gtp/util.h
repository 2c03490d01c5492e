/* Small helpers every module uses: allocation that aborts on OOM, clocks,
 * bounded string formatting. */
#ifndef GTP_UTIL_H
#define GTP_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Allocation wrappers: never return NULL; print a message and abort() on OOM. */
void *gtp_xmalloc(size_t n);
void *gtp_xcalloc(size_t nmemb, size_t size);
void *gtp_xrealloc(void *p, size_t n);
char *gtp_xstrdup(const char *s);            /* s may be NULL -> NULL */
char *gtp_xstrndup(const char *s, size_t n); /* copies at most n bytes, NUL-terminates */
/* Exactly n bytes (NULs included) plus a terminating NUL: for data values. */
char *gtp_xmemdup(const void *p, size_t n);

/* Monotonic clock in milliseconds / microseconds (for intervals and timeouts). */
int64_t gtp_mono_ms(void);
int64_t gtp_mono_us(void);
/* Wall clock, microseconds since the Unix epoch (UTC). */
int64_t gtp_wall_us(void);

/* snprintf into errstr that tolerates errstr == NULL or errstr_size == 0. */
void gtp_errf(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parse a whole string as a number; 0 on success, GTP_ERR_INVAL otherwise. */
int gtp_parse_ll(const char *s, long long *out);
int gtp_parse_double(const char *s, double *out);

#define GTP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
