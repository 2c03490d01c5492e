/* One-line-per-event logging to stderr in the format of docs/programs.md:
 *   2024-03-15T10:30:00.123Z gtp-processor[1234] WARN redis: connection lost
 * Thread safe (librdkafka logs from its own threads): each line is one write(2). */
#ifndef GTP_LOG_H
#define GTP_LOG_H

#include <stddef.h>

enum gtp_log_level {
    GTP_LOG_DEBUG = 0,
    GTP_LOG_INFO = 1,
    GTP_LOG_WARN = 2,
    GTP_LOG_ERROR = 3,
};

/* Current threshold; messages below it are not formatted at all. */
extern volatile int gtp_log_min_level;

/* program: borrowed, must outlive logging (argv[0] basename or a literal). */
void gtp_log_init(const char *program);

/* "debug", "info", "warn"/"warning", "error" (case-insensitive).
 * Returns 0 or GTP_ERR_INVAL for an unknown name. */
int gtp_log_set_level(const char *name);

void gtp_log_write(int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define gtp_log(level, component, ...)                                                             \
    do {                                                                                           \
        if ((level) >= gtp_log_min_level)                                                          \
            gtp_log_write((level), (component), __VA_ARGS__);                                      \
    } while (0)

/* Copy url into out with any password replaced by "***" (redis://:pw@host ->
 * redis://:***@host). Always NUL-terminates. For logging URLs from config. */
void gtp_log_redact_url(const char *url, char *out, size_t out_size);

#endif
