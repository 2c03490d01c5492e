/* Where a previous gtp-generator run left its simulated clock on a topic, so a
 * restarted demo (--resume) continues the timeline instead of producing the
 * same hours again with new event ids (docs/events.md, "Resuming"). */
#ifndef GEN_RESUME_H
#define GEN_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtp/cfg.h"

/* The header every generated Kafka message carries: the simulated clock when
 * the event was made (decimal microseconds since the epoch, UTC). It is not
 * the event's `timestamp`, which chaos may set hours back or decades ahead. */
#define GEN_SIM_HEADER "gtp.sim_us"

/* Read the last message of every partition of topic and report the newest
 * GEN_SIM_HEADER among them in *last_us, with *found true. Since one run's
 * clock only moves forward, each partition's last message holds that
 * partition's newest simulated time, and the maximum over partitions is the
 * newest the topic holds. Empty partitions, and last messages without the
 * header (another producer, an older generator), add nothing; *found is
 * false when no partition has one (or the topic does not exist).
 * brokers and props are borrowed (the -b/-X settings). Waits at most
 * timeout_ms. Returns 0, GTP_ERR_CONFIG (a property librdkafka refused) or
 * GTP_ERR_UNAVAILABLE (the cluster did not answer, or a last message could
 * not be read in time), with errstr set. */
int gen_resume_point(const char *brokers, const struct gtp_kvlist *props, const char *topic,
                     int timeout_ms, bool *found, int64_t *last_us, char *errstr,
                     size_t errstr_size);

/* Parse a GEN_SIM_HEADER value (len bytes, not NUL-terminated): 0 and *us, or
 * -1 when it is not a decimal integer that fits in int64. */
int gen_resume_parse(const void *value, size_t len, int64_t *us);

#endif
