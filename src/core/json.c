/* JSON string escaping (see json.h). Both the processor (every enriched
 * event) and the generator (every event it writes) escape on their hot
 * path, so runs of bytes that need nothing are found with a table and
 * copied whole. */
#include "gtp/json.h"
#include "gtp/utf8.h"

#include <string.h>

/* What a byte becomes: 0 copied, 'u' \u00XX, 'U' non-ASCII (HTML mode checks
 * the UTF-8 sequence), any other character c the two bytes \c. */
static const char plain_tab[256] = {
    [0x00 ... 0x07] = 'u', ['\b'] = 'b', ['\t'] = 't',          ['\n'] = 'n', [0x0b] = 'u',
    ['\f'] = 'f',          ['\r'] = 'r', [0x0e ... 0x1f] = 'u', ['"'] = '"',  ['\\'] = '\\',
};

/* JSON allows \b and \f; the dashboard has always written them \u0008 and
 * \u000c, and its answers stay byte for byte what they were. */
static const char html_tab[256] = {
    [0x00 ... 0x08] = 'u', ['\t'] = 't', ['\n'] = 'n',  [0x0b ... 0x0c] = 'u', ['\r'] = 'r',
    [0x0e ... 0x1f] = 'u', ['"'] = '"',  ['\\'] = '\\', ['&'] = 'u',           ['\''] = 'u',
    ['<'] = 'u',           ['>'] = 'u',  [0x7f] = 'u',  [0x80 ... 0xff] = 'U',
};

void gtp_json_escape(struct gtp_buf *b, const char *s, size_t n, enum gtp_json_mode mode)
{
    static const char hex[] = "0123456789abcdef";
    const char *tab = mode == GTP_JSON_HTML ? html_tab : plain_tab;
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    char *o;

    /* Worst case every byte becomes six (\u00XX or \ufffd). */
    gtp_buf_reserve(b, n * 6);
    o = b->p + b->len;
    while (i < n) {
        size_t run = i, k;
        unsigned char c;
        while (run < n && !tab[u[run]])
            run++;
        memcpy(o, u + i, run - i);
        o += run - i;
        if (run == n)
            break;
        c = u[run];
        i = run + 1;
        switch (tab[c]) {
        case 'U':
            k = gtp_utf8_seq_len(u + run, n - run);
            if (k == 0) {
                memcpy(o, "\\ufffd", 6);
                o += 6;
            } else if (k == 3 && c == 0xe2 && u[run + 1] == 0x80 &&
                       (u[run + 2] == 0xa8 || u[run + 2] == 0xa9)) {
                memcpy(o, u[run + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
                o += 6;
                i = run + 3;
            } else {
                memcpy(o, u + run, k);
                o += k;
                i = run + k;
            }
            break;
        case 'u':
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
            break;
        default:
            o[0] = '\\';
            o[1] = tab[c];
            o += 2;
        }
    }
    b->len = (size_t)(o - b->p);
    b->p[b->len] = '\0';
}

void gtp_json_quote(struct gtp_buf *b, const char *s, size_t n, enum gtp_json_mode mode)
{
    gtp_buf_reserve(b, n * 6 + 2);
    b->p[b->len++] = '"';
    gtp_json_escape(b, s, n, mode);
    gtp_buf_putc(b, '"');
}

void gtp_json_quote_cstr(struct gtp_buf *b, const char *s, enum gtp_json_mode mode)
{
    if (!s)
        gtp_buf_put(b, "null", 4);
    else
        gtp_json_quote(b, s, strlen(s), mode);
}
