/* Private to the event module, its unit test and its benchmark: the
 * reference (jansson-only) parser that the fast path must match exactly. */
#ifndef GTP_EVENT_INTERNAL_H
#define GTP_EVENT_INTERNAL_H

#include "gtp/event.h"

/* gtp_event_parse() without the fast path: every value goes through
 * jansson. Same contract and results as gtp_event_parse(). */
enum gtp_reject gtp_event_parse_slow(struct gtp_event *ev, const void *buf, size_t len,
                                     int64_t ref_us);

#endif
