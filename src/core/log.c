/* Logging: one line per event on stderr, assembled in a buffer and written
 * with a single write(2) so lines from librdkafka's threads never interleave. */
#include "gtp/log.h"
#include "gtp/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

volatile int gtp_log_min_level = GTP_LOG_INFO;
static const char *log_program = "gtp";

static const char *level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void gtp_log_init(const char *program)
{
    const char *slash;
    if (!program)
        return;
    slash = strrchr(program, '/');
    log_program = slash ? slash + 1 : program;
}

int gtp_log_set_level(const char *name)
{
    static const struct {
        const char *name;
        int level;
    } names[] = {{"debug", GTP_LOG_DEBUG},
                 {"info", GTP_LOG_INFO},
                 {"warn", GTP_LOG_WARN},
                 {"warning", GTP_LOG_WARN},
                 {"error", GTP_LOG_ERROR}};
    size_t i;
    if (!name)
        return GTP_ERR_INVAL;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            gtp_log_min_level = names[i].level;
            return 0;
        }
    }
    return GTP_ERR_INVAL;
}

void gtp_log_write(int level, const char *component, const char *fmt, ...)
{
    char line[2048];
    struct timeval tv;
    struct tm tm;
    size_t off;
    int n;
    va_list ap;

    if (level < GTP_LOG_DEBUG || level > GTP_LOG_ERROR)
        level = GTP_LOG_ERROR;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    off = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    n = snprintf(line + off, sizeof(line) - off, ".%03dZ %s[%d] %s %s: ", (int)(tv.tv_usec / 1000),
                 log_program, (int)getpid(), level_names[level], component ? component : "main");
    if (n > 0)
        off += (size_t)n < sizeof(line) - off ? (size_t)n : sizeof(line) - off - 1;
    va_start(ap, fmt);
    n = vsnprintf(line + off, sizeof(line) - off, fmt, ap);
    va_end(ap);
    if (n > 0)
        off += (size_t)n < sizeof(line) - off ? (size_t)n : sizeof(line) - off - 1;
    /* One event, one line: fold embedded newlines so log parsers stay in sync. */
    for (size_t i = 0; i < off; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    if (off >= sizeof(line) - 1)
        off = sizeof(line) - 2;
    line[off++] = '\n';
    if (write(STDERR_FILENO, line, off) < 0) {
        /* nowhere left to report it */
    }
}

void gtp_log_redact_url(const char *url, char *out, size_t out_size)
{
    const char *scheme, *at, *colon, *start;
    size_t n;

    if (!out || out_size == 0)
        return;
    out[0] = '\0';
    if (!url)
        return;
    scheme = strstr(url, "://");
    start = scheme ? scheme + 3 : url;
    at = strchr(start, '@');
    if (!at) {
        snprintf(out, out_size, "%s", url);
        return;
    }
    /* userinfo is start..at; the password follows the first ':' in it */
    colon = memchr(start, ':', (size_t)(at - start));
    n = (size_t)((colon ? colon + 1 : start) - url);
    snprintf(out, out_size, "%.*s***%s", (int)n, url, at);
}
