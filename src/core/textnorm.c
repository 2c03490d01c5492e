/* Word normalization shared by the region and seniority lookups: their keys
 * and the text they look up are normalized the same way. */
#include "gtp/textnorm.h"
#include "gtp/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ASCII base letters of U+00C0..U+00FF (UTF-8 C3 80..C3 BF); ' ' for the two
 * math signs (x, ÷) that are not letters. */
static const char latin1_fold[64] = "aaaaaaaceeeeiiii"
                                    "dnooooo ouuuuyts"
                                    "aaaaaaaceeeeiiii"
                                    "dnooooo ouuuuyty";
/* ASCII base letters of U+0100..U+017F (UTF-8 C4 80..C5 BF). */
static const char latin_ext_a_fold[128] = "aaaaaaccccccccdd"
                                          "ddeeeeeeeeeegggg"
                                          "gggghhhhiiiiiiii"
                                          "iiiijjkkklllllll"
                                          "lllnnnnnnnnnoooo"
                                          "oooorrrrrrssssss"
                                          "ssttttttuuuuuuuu"
                                          "uuuuwwyyyzzzzzzs";

enum cls { C_WORD, C_DROP, C_SPACE, C_PART };

/* Writer state: pending separator is emitted lazily before the next word byte,
 * which gives single separators and no leading/trailing ones. */
struct writer {
    char *out;
    size_t cap, n, word_start;
    int pending; /* 0 none, ' ' or part separator */
    int full;
};

static void put_byte(struct writer *w, char c)
{
    if (w->full)
        return;
    if (w->pending && w->n > 0) {
        /* Separator plus at least this byte must fit. */
        if (w->n + 2 >= w->cap) {
            w->full = 1;
            return;
        }
        w->out[w->n++] = (char)w->pending;
        w->word_start = w->n;
    }
    w->pending = 0;
    if (w->n + 1 >= w->cap) {
        /* Do not leave half a word behind. */
        w->n = w->word_start;
        while (w->n > 0 && (w->out[w->n - 1] == ' ' || w->out[w->n - 1] == GTP_TEXTNORM_PART))
            w->n--;
        w->full = 1;
        return;
    }
    w->out[w->n++] = c;
}

static void sep(struct writer *w, int part)
{
    if (part)
        w->pending = GTP_TEXTNORM_PART;
    else if (w->pending != GTP_TEXTNORM_PART)
        w->pending = ' ';
}

static size_t normalize(const char *s, size_t len, char *out, size_t out_size, int parts)
{
    struct writer w = {out, out_size, 0, 0, 0, 0};
    const unsigned char *p = (const unsigned char *)s;

    if (out_size == 0)
        return 0;
    for (size_t i = 0; i < len && !w.full; i++) {
        unsigned char c = p[i];
        if (c < 0x80) {
            char lc = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c;
            if ((lc >= 'a' && lc <= 'z') || (c >= '0' && c <= '9')) {
                /* inside a word with room for it: what put_byte would do, without the call */
                if (!w.pending && w.n + 1 < w.cap)
                    w.out[w.n++] = lc;
                else
                    put_byte(&w, lc);
            } else if (c == '.' || c == '\'' || c == '`') {
                /* dropped: joins "U.S." */
            } else if (c == ',' || c == ';' || c == '/' || c == '|' || c == '(' || c == ')' ||
                       c == '[' || c == ']' || c == '{' || c == '}' || c == ':' || c == '\n' ||
                       c == '\r') {
                sep(&w, parts);
            } else if (c == '-' && i > 0 && p[i - 1] == ' ' && i + 1 < len && p[i + 1] == ' ') {
                sep(&w, parts);
            } else {
                sep(&w, 0);
            }
            continue;
        }
        if (i + 1 < len && (p[i + 1] & 0xC0) == 0x80) {
            unsigned char c2 = p[i + 1];
            char f = 0;
            if (c == 0xC3)
                f = latin1_fold[c2 - 0x80];
            else if (c == 0xC4)
                f = latin_ext_a_fold[c2 - 0x80];
            else if (c == 0xC5)
                f = latin_ext_a_fold[64 + (c2 - 0x80)];
            if (f) {
                if (f == ' ')
                    sep(&w, 0);
                else
                    put_byte(&w, f);
                i++;
                continue;
            }
            /* U+2018/2019 quotes are dropped like ', U+2013/2014 dashes end a part. */
            if (c == 0xE2 && c2 == 0x80 && i + 2 < len) {
                unsigned char c3 = p[i + 2];
                if (c3 == 0x98 || c3 == 0x99) {
                    i += 2;
                    continue;
                }
                if (c3 == 0x93 || c3 == 0x94) {
                    sep(&w, parts);
                    i += 2;
                    continue;
                }
            }
            /* U+00A0 no-break space */
            if (c == 0xC2 && c2 == 0xA0) {
                sep(&w, 0);
                i++;
                continue;
            }
        }
        put_byte(&w, (char)c);
    }
    out[w.n] = '\0';
    return w.n;
}

size_t gtp_textnorm(const char *s, size_t len, char *out, size_t out_size)
{
    return normalize(s, len, out, out_size, 1);
}

size_t gtp_textnorm_key(const char *s, size_t len, char *out, size_t out_size)
{
    return normalize(s, len, out, out_size, 0);
}
