/* The taxonomy's TSV reader (see tsv.h). */
#include "gtp/tsv.h"
#include "gtp/err.h"
#include "gtp/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

int gtp_tsv_open(struct gtp_tsv *t, const char *path, char *errstr, size_t errstr_size)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->path, sizeof(t->path), "%s", path);
    if (!(t->fp = fopen(path, "r"))) {
        gtp_errf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return GTP_ERR_IO;
    }
    return 0;
}

int gtp_tsv_next(struct gtp_tsv *t, char *errstr, size_t errstr_size)
{
    ssize_t n;
    if (!t->fp)
        return 0;
    while ((n = getline(&t->buf, &t->cap, t->fp)) >= 0) {
        char *p;
        t->line++;
        while (n > 0 && (t->buf[n - 1] == '\n' || t->buf[n - 1] == '\r'))
            t->buf[--n] = '\0';
        if (n == 0 || t->buf[0] == '#')
            continue;
        /* a NUL would silently cut a field short */
        if (memchr(t->buf, '\0', (size_t)n)) {
            gtp_tsv_errf(t, errstr, errstr_size, "NUL byte in the line");
            return GTP_ERR_CONFIG;
        }
        /* split by hand: strtok_r would merge empty fields */
        t->nfields = 0;
        for (p = t->buf; p; t->nfields++) {
            char *tab = strchr(p, '\t');
            if (tab)
                *tab++ = '\0';
            if (t->nfields < GTP_TSV_MAX_FIELDS)
                t->field[t->nfields] = p;
            p = tab;
        }
        for (size_t i = t->nfields; i < GTP_TSV_MAX_FIELDS; i++)
            t->field[i] = t->buf + n; /* the line's NUL: an empty field */
        return 1;
    }
    if (ferror(t->fp)) {
        gtp_errf(errstr, errstr_size, "%s:%ld: read error", t->path, t->line + 1);
        return GTP_ERR_IO;
    }
    return 0;
}

int gtp_tsv_expect(const struct gtp_tsv *t, size_t min, size_t max, const char *what, char *errstr,
                   size_t errstr_size)
{
    if (t->nfields >= min && t->nfields <= max)
        return 0;
    if (what)
        gtp_tsv_errf(t, errstr, errstr_size, "expected %s", what);
    else if (min == max)
        gtp_tsv_errf(t, errstr, errstr_size, "expected %zu TAB-separated fields, not %zu", min,
                     t->nfields);
    else
        gtp_tsv_errf(t, errstr, errstr_size, "expected %zu %s %zu TAB-separated fields, not %zu",
                     min, max == min + 1 ? "or" : "to", max, t->nfields);
    return GTP_ERR_CONFIG;
}

void gtp_tsv_errf(const struct gtp_tsv *t, char *errstr, size_t errstr_size, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gtp_errf(errstr, errstr_size, "%s:%ld: %s", t->path, t->line, msg);
}

void gtp_tsv_close(struct gtp_tsv *t)
{
    if (!t)
        return;
    if (t->fp)
        fclose(t->fp);
    free(t->buf);
    t->fp = NULL;
    t->buf = NULL;
    t->cap = 0;
}
