/* UTF-8 validation: the one definition of "valid UTF-8" the core uses, for
 * event values (reject reason invalid_utf8), Parquet strings and Delta log
 * fields, and the dashboard's escaping (invalid bytes become U+FFFD).
 *
 * Valid means well-formed per Unicode Table 3-7: no overlong forms (C0, C1,
 * E0 80..9F, F0 80..8F), no UTF-16 surrogates (ED A0..BF), nothing past
 * U+10FFFF (F4 90.., F5..FF), no stray continuation bytes, no sequence cut
 * short by the end of the buffer. NUL bytes are valid (U+0000). Pure
 * functions: thread safe. */
#ifndef GTP_UTF8_H
#define GTP_UTF8_H

#include <stddef.h>

/* Length (1..4) of the well-formed sequence that starts s[0..n), or 0 when
 * s does not start with one (n == 0 included). */
size_t gtp_utf8_seq_len(const void *s, size_t n);

/* 1 when buf[0..len) is valid UTF-8 (len 0 is), else 0 with the offset of the
 * first byte that does not start a well-formed sequence in *bad_at (bad_at
 * may be NULL). buf may be NULL when len is 0. */
int gtp_utf8_valid(const void *buf, size_t len, size_t *bad_at);

#endif
