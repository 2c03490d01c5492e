/* JSON string escaping: the one writer of JSON string literals in the tree
 * (enriched events, the generator's events, the dashboard's answers).
 *
 * Two modes:
 *  - GTP_JSON_PLAIN: '"', '\\' and the control bytes U+0000..U+001F are
 *    escaped (\" \\ \n \r \t \b \f, the rest \u00XX); every other byte is
 *    copied as it is. Valid UTF-8 in gives valid JSON out; the generator
 *    relies on invalid bytes passing through untouched (chaos events carry
 *    them on purpose).
 *  - GTP_JSON_HTML: safe to embed in HTML and inside a <script> element as
 *    well: additionally '<', '>', '&', '\'' and DEL become \u00XX, U+2028 and
 *    U+2029 (line terminators in JavaScript before ES2019) become \u2028 and
 *    \u2029, and every byte that does not start a well-formed UTF-8 sequence
 *    (utf8.h) becomes \ufffd, so the output is always valid UTF-8. Control
 *    bytes other than \n \r \t are written \u00XX in this mode.
 * Output goes to a gtp_buf (buf.h), NUL-terminated. Thread safe. */
#ifndef GTP_JSON_H
#define GTP_JSON_H

#include <stddef.h>

#include "gtp/buf.h"

enum gtp_json_mode {
    GTP_JSON_PLAIN = 0,
    GTP_JSON_HTML = 1,
};

/* Append s[0..n) escaped, without quotes (s may be NULL when n is 0). */
void gtp_json_escape(struct gtp_buf *b, const char *s, size_t n, enum gtp_json_mode mode);

/* Append s[0..n) as a quoted JSON string. */
void gtp_json_quote(struct gtp_buf *b, const char *s, size_t n, enum gtp_json_mode mode);

/* A NUL-terminated s quoted, or null when s is NULL. */
void gtp_json_quote_cstr(struct gtp_buf *b, const char *s, enum gtp_json_mode mode);

#endif
