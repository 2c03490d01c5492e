/* Taking partitions over from the Delta log and giving them up (docs/archive.md): on
 * assignment a partition's position and event-time state are read from the log, a fencing
 * commit (its txn unchanged) shuts out any older owner, and only then are its crashed
 * rolls' files removed; a partition that leaves with a roll in flight takes its
 * unreferenced files with it. */
#ifndef GTP_ARCHIVER_HANDOVER_H
#define GTP_ARCHIVER_HANDOVER_H

#include <stddef.h>
#include <stdint.h>

#include "roll.h"
#include "gtp/daemon.h"
#include "gtp/metrics.h"

/* Load the state of the n partitions ps of topic from the table at root with ONE fencing
 * commit for all of them, and delete their crashed rolls' files. On success each one's slot
 * in d is reset and assigned at txn + 1 (-1: the beginning) with its rebuilt window. Returns
 * 0 or an error with errstr (GTP_ERR_FENCED: someone committed after our read, try again;
 * GTP_ERR_NOSPACE / GTP_ERR_IO: the disk). */
int handover_take(struct gtp_daemon *d, const char *root, const char *topic, const int32_t *ps,
                  size_t n, char *errstr, size_t errstr_size);

/* Rebalance: take over the partitions of parts (handover_take) until it works or a stop is
 * requested: the log must be readable, without it we cannot know where to start. Retries
 * back off from 100 ms to 5 s, logged once per 10 s; while the disk fails (the fencing
 * commit is a write) /healthz says so and m_disk_errors counts. */
void handover_take_all(struct gtp_daemon *d, const char *root, const char *topic,
                       const rd_kafka_topic_partition_list_t *parts,
                       struct gtp_metric *m_disk_errors);

/* Remove the files of pt's current roll that no commit references: temp files staged but
 * not published, and published files whose commit never happened (checked against the log:
 * a commit whose reply was lost may still have landed). When the log cannot be read they
 * are kept (logged): the next owner's clean-up removes them. */
void handover_discard(const char *root, const struct part *pt);

#endif
