/* The flush's numbers and time labels formatted without printf. Building a flush's arguments
 * runs on the consuming thread (the processor's bottleneck), and a callgrind profile of 100k
 * events with insights on had snprintf behind the hour and day labels (one per key, about
 * 2,300 instructions each), the counts and the dedup id lengths at a fifth of that thread's
 * instructions. A label is a pure function of its hour or day, so each thread keeps the last
 * few it made. */
#ifndef GTP_PROCESSOR_ARGFMT_H
#define GTP_PROCESSOR_ARGFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtp/rediscmd.h"

#define ARGFMT_I64_MAX 21 /* "-9223372036854775808" and a NUL */

/* v in decimal into buf (NUL-terminated, like "%" PRId64); returns its length. */
size_t argfmt_i64(char buf[ARGFMT_I64_MAX], int64_t v);

/* c gets v in decimal as its next argument. */
void argfmt_arg_i64(struct gtp_rediscmd *c, int64_t v);

/* "YYYY-MM-DD-HH" (hour) or "YYYY-MM-DD" of the UTC hour or day holding t_us, as
 * gtp_time_format_hour / gtp_time_format_date write them; *len its length. Borrowed: valid
 * until this thread's next call. */
const char *argfmt_label(int64_t t_us, bool hour, size_t *len);

#endif
