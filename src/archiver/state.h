/* The archiver's per-partition state as it lives in the Delta log: the position (txn
 * version = last Kafka offset committed) and the event-time state (watermark and dedup
 * ids), kept in each commit's commitInfo as
 *
 *   "gtp": {"topic": T, "partition": p, "first": F, "last": L, "max_event_us": M,
 *           "dedup": [[window_start_s, "event-id"], ...]}
 *
 * where dedup lists the ids counted since p's previous commit whose window was still open
 * at commit time. A commit that rolls several partitions holds an array of such objects,
 * one per partition; a checkpoint's snapshot holds one per partition with every id still
 * open (arch_state_fold). Replaying p's entries in version order rebuilds exactly the gtp_window
 * the archiver had (entries of windows that became final are dropped by the window itself). */
#ifndef GTP_ARCHIVER_STATE_H
#define GTP_ARCHIVER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gtp/delta_checkpoint.h"
#include "gtp/idlist.h"
#include "gtp/window.h"

#define ARCH_INFO_KEY "gtp"

/* "gtp-archiver-<topic>-<p>" into out. */
void arch_app_id(const char *topic, int32_t partition, char *out, size_t out_size);

/* The commitInfo.gtp object of one roll (new reference). Ids whose window is final under
 * watermark are left out: they can never matter again. */
json_t *arch_state_info(const char *topic, int32_t partition, int64_t first, int64_t last,
                        int64_t max_event_us, int64_t watermark, const struct gtp_idlist *ids);

/* What the log says about one partition. */
struct arch_resume {
    int32_t partition;      /* in */
    int64_t txn;            /* out: last committed offset, -1 when never committed */
    struct gtp_window *win; /* out: new restored window (gtp_window_free) */
    int64_t fence_version;  /* for the caller: log version of its fencing commit */
};

/* One replay of the log under root fills every entry of parts (n of them, partitions of
 * topic). *latest gets the highest log version read. Returns 0 or a gtp_err (errstr). */
int arch_state_load(const char *root, const char *topic, struct arch_resume *parts, size_t n,
                    int64_t *latest, char *errstr, size_t errstr_size);

/* The fold of commitInfo.gtp entries into a checkpoint's snapshot (delta_checkpoint.h):
 * every (topic, partition) of the log ends as ONE entry holding its max event time and the
 * dedup ids of its windows still open, so a replay from the snapshot restores exactly the
 * windows a replay of every commit gives, at a cost bounded by the open state. */
extern const struct gtp_delta_fold arch_state_fold;

/* The first day ("YYYY-MM-DD" into out) that is not closed for topic: every earlier day
 * ends at or before the watermark of every Kafka partition the log knows of, so only late
 * rows can still join it. out is "" when no day is closed (no partition has a watermark
 * yet). Returns 0 or a gtp_err. */
int arch_state_closed_before(const char *root, const char *topic, char *out, size_t out_size,
                             char *errstr, size_t errstr_size);

/* Parse a data file base name "part-<p>-<first>-<last>.<codec>.parquet", or the temp form
 * ".part-....parquet.tmp" (*tmp set). False for anything else. */
bool arch_file_name_parse(const char *base, int32_t *partition, int64_t *first, int64_t *last,
                          bool *tmp);

/* For each of the nparts partitions[j]: remove its files the log does not reference whose
 * first offset is >= resume[j] (files of a roll that crashed before its commit) and its
 * temp files; removed[j] (removed may be NULL) gets the count. Other partitions' files are
 * never touched. One listing of the orphans serves every partition. */
int arch_state_clean(const char *root, const int32_t *partitions, const int64_t *resume,
                     size_t nparts, size_t *removed, char *errstr, size_t errstr_size);

#endif
