/* Text normalization for the word-based taxonomy lookups (regions, seniority):
 * keys and looked-up text are normalized alike, then probed in a gtp_strmap. */
#ifndef GTP_TEXTNORM_H
#define GTP_TEXTNORM_H

#include <stddef.h>

/* Separator between parts in gtp_textnorm() output ("City, Country" has two). */
#define GTP_TEXTNORM_PART '|'

/* Normalize s[0..len) (any bytes; NUL and invalid UTF-8 tolerated) into out:
 *  - ASCII letters lowercased; Latin-1 and Latin Extended-A letters folded to
 *    their ASCII base letter ("München" -> "munchen", "Łódź" -> "lodz");
 *  - '.' and apostrophes dropped ("U.S." -> "us", "St. John's" -> "st johns");
 *  - , ; / | ( ) [ ] { } : newlines, en/em dashes and a '-' with spaces on
 *    both sides end a part (written as GTP_TEXTNORM_PART);
 *  - every other ASCII byte (spaces, '-', '&', ...) separates words;
 *  - other non-ASCII bytes are kept (they belong to words: "東京").
 * Words are separated by exactly one ' ', parts by exactly one '|', with no
 * empty parts and nothing leading or trailing. Input past what fits in out is
 * ignored (at a word boundary). Returns the length written; out is always
 * NUL-terminated (out_size >= 1). */
size_t gtp_textnorm(const char *s, size_t len, char *out, size_t out_size);

/* Same, but parts are joined with ' ' too: the key form of taxonomy data
 * ("Cocos (Keeling) Islands" -> "cocos keeling islands"). */
size_t gtp_textnorm_key(const char *s, size_t len, char *out, size_t out_size);

#endif
