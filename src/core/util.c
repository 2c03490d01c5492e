/* Allocation wrappers that abort on OOM, clocks, number parsing. */
#include "gtp/util.h"
#include "gtp/err.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Out of memory is not recoverable in a daemon that must not lose data
 * silently: fail loudly and let the supervisor restart us from stored offsets. */
static void oom(size_t n)
{
    fprintf(stderr, "gtp: out of memory allocating %zu bytes\n", n);
    abort();
}

void *gtp_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *gtp_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    return p;
}

void *gtp_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *gtp_xstrdup(const char *s)
{
    if (!s)
        return NULL;
    return gtp_xstrndup(s, strlen(s));
}

char *gtp_xmemdup(const void *p, size_t n)
{
    char *d = gtp_xmalloc(n + 1);
    if (n)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

char *gtp_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = gtp_xmalloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

int64_t gtp_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t gtp_mono_ms(void)
{
    return gtp_mono_us() / 1000;
}

int64_t gtp_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void gtp_errf(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;
    if (!errstr || errstr_size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

int gtp_parse_ll(const char *s, long long *out)
{
    char *end = NULL;
    long long v;
    if (!s || !*s)
        return GTP_ERR_INVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || !end || *end != '\0')
        return GTP_ERR_INVAL;
    *out = v;
    return 0;
}

int gtp_parse_double(const char *s, double *out)
{
    char *end = NULL;
    double v;
    if (!s || !*s)
        return GTP_ERR_INVAL;
    errno = 0;
    v = strtod(s, &end);
    if (errno || !end || *end != '\0' || !isfinite(v))
        return GTP_ERR_INVAL;
    *out = v;
    return 0;
}
