/* The roll's seams wired to the real world: files and commits in the Delta table at root,
 * partitions taken over again from its log, dead letters, and the Kafka consumer (seek,
 * pause, offsets for lag tools), maintenance after each commit. */
#ifndef GTP_ARCHIVER_DELTALINK_H
#define GTP_ARCHIVER_DELTALINK_H

#include <stdbool.h>
#include <stdint.h>

#include "maintain.h"
#include "roll.h"
#include "gtp/daemon.h"

struct deltalink {
    const char *root, *topic; /* borrowed */
    struct gtp_daemon *d;     /* borrowed: consumer, dead letters, partition table */
    struct arch_maint *maint; /* borrowed */
};

/* The roll's ops on a struct deltalink (the ctx). */
extern const struct roll_ops deltalink_ops;

/* Take partition p over again from the log (as on assignment) and consume it from there;
 * false when the log could not be read (logged). ctx is a struct deltalink. */
bool deltalink_reload(void *ctx, int32_t p);

#endif
