/* The archiver's per-partition state as it lives in the Delta table: the position (txn
 * version = last Kafka offset committed) and the event-time state (watermark and dedup
 * ids). Each commit's commitInfo holds, per partition it rolls,
 *
 *   "gtp": {"topic": T, "partition": p, "first": F, "last": L, "max_event_us": M}
 *
 * (an array of such objects when a roll covers several partitions), and the dedup ids
 * counted are the ids of the rows in the roll's data files: every counted row is archived
 * (late rows too, whose windows are final and never dedup again). A checkpoint's snapshot
 * holds one entry per partition with "dedup": [[window_start_s, "event-id"], ...], every
 * id still open at that version (arch_state_fold, which reads the data files the commits
 * since the previous snapshot added). A restore starts from the newest snapshot and reads
 * the data files of the (at most --checkpoint-interval) commits after it, so its cost and
 * the log's size are bounded by the open state, not by history. Compaction leaves those
 * files alone (gtp_delta_optimize_opts.checkpointed_only) until a checkpoint covers them.
 * Commits written before the ids moved to the data files carry "dedup" arrays of their own;
 * a restore still reads them. A table holds one topic: data file names carry the
 * partition only. */
#ifndef GTP_ARCHIVER_STATE_H
#define GTP_ARCHIVER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gtp/delta_checkpoint.h"
#include "gtp/window.h"

#define ARCH_INFO_KEY "gtp"

/* "gtp-archiver-<topic>-<p>" into out. */
void arch_app_id(const char *topic, int32_t partition, char *out, size_t out_size);

/* The commitInfo.gtp object of one roll (new reference). max_event_us INT64_MIN (no
 * valid event yet) is left out. */
json_t *arch_state_info(const char *topic, int32_t partition, int64_t first, int64_t last,
                        int64_t max_event_us);

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
