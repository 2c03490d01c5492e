/* The dashboard's JSON answers: values written into a gtp_buf (buf.h). Every
 * string that comes from data (Redis members, taxonomy names, hash fields)
 * goes through jout_str, which escapes in GTP_JSON_HTML mode (json.h): valid
 * JSON, valid UTF-8 (invalid bytes become U+FFFD), and no raw '<', '>', '&'
 * or quote that an HTML context could misread. */
#ifndef DASH_JOUT_H
#define DASH_JOUT_H

#include <stddef.h>
#include <stdint.h>

#include "gtp/buf.h"

struct jout {
    /* Owned; written through b, read as p/len (b's first two members, the
     * same memory); NUL-terminated after every append. */
    union {
        struct gtp_buf b;
        struct {
            char *p;
            size_t len;
        };
    };
};

void jout_init(struct jout *j);
void jout_fini(struct jout *j); /* NULL-safe, idempotent */
void jout_reset(struct jout *j);

/* Raw bytes / a literal (the caller guarantees they are JSON). */
void jout_raw(struct jout *j, const char *s, size_t n);
void jout_lit(struct jout *j, const char *s);

/* s[0..n) as a quoted, HTML-safe JSON string. */
void jout_str(struct jout *j, const char *s, size_t n);
/* NUL-terminated; NULL writes null. */
void jout_cstr(struct jout *j, const char *s);

void jout_i64(struct jout *j, int64_t v);
/* A finite double with up to 3 decimals; non-finite writes null. */
void jout_num(struct jout *j, double v);

/* A finite double with 6 significant digits (shares, lifts, z); non-finite
 * writes null. */
void jout_g(struct jout *j, double v);

/* s[0..n) as one CSV cell (RFC 4180): quoted when it holds a comma, quote or
 * line break, and a leading = + - @ (a spreadsheet formula) is defused with
 * a leading apostrophe. */
void jout_csv(struct jout *j, const char *s, size_t n);

/* Hand the buffer over (new, free()); the jout is empty afterwards. */
char *jout_take(struct jout *j, size_t *len);

#endif
