/* Delta Lake transaction log for the archive (docs/archive.md).
 *
 * The table root holds Hive-partitioned Parquet files and `_delta_log/<20-digit>.json`
 * commits. Version 0 (gtp_delta_create) carries protocol (reader 1 / writer 2) and
 * metaData: the schema of parquet.h plus the partition columns date_posted DATE and
 * region STRING. Each later commit (gtp_delta_commit) carries add actions, an optional
 * txn {appId, version, lastUpdated} (the archiver's position per Kafka partition) and
 * commitInfo.
 *
 * Commits are published atomically without ever replacing an existing version: the JSON is
 * written to `_delta_log/.<version>.json.<pid>-<seq>.tmp`, fsynced, then renamed with
 * renameat2(RENAME_NOREPLACE) (link()+unlink() where the file system lacks it), and the
 * directory fsynced. Losing the race (EEXIST) means another writer took that version:
 * the commit is retried at the next one, unless that writer already recorded a txn of the
 * same appId at or past ours (then GTP_ERR_FENCED).
 *
 * Checkpoints (delta_checkpoint.h) write, beside the Parquet checkpoint that other readers
 * use, a snapshot of the same table state as newline-delimited JSON actions in
 * GTP_DELTA_SNAPSHOT_DIR/<20-digit version>.json (plus the folded commitInfo state of the
 * writer, see gtp_delta_fold). Every reader here replays from the newest snapshot whose later
 * commits are all present, else from version 0; commits older than a snapshot may have been
 * cleaned up. Delta readers list _delta_log non-recursively, so the subdirectory is invisible
 * to them. All functions are thread safe (no shared state); ENOSPC/EDQUOT map to
 * GTP_ERR_NOSPACE. */
#ifndef GTP_DELTA_H
#define GTP_DELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtp/parquet.h"

/* Where the JSON snapshots of checkpoints live, relative to the table root. */
#define GTP_DELTA_SNAPSHOT_DIR "_delta_log/_gtp"
/* The pseudo-action a replay passes first when it starts at a snapshot, value
 * {"version": v}: every later action with version v is the snapshot's (the table state
 * up to v), every action with a higher version is a commit's. Callbacks that only look
 * for Delta's action names never match it. */
#define GTP_DELTA_SNAPSHOT_ACTION "gtp.snapshot"

/* Partition columns, in directory order. */
#define GTP_DELTA_NPART 2
extern const char *const gtp_delta_partition_columns[GTP_DELTA_NPART]; /* date_posted, region */

struct gtp_delta_add {
    /* Path relative to the root as on disk (Hive-escaped, not URI-encoded): the commit
     * URI-encodes it. Borrowed. */
    const char *path;
    /* date_posted ("YYYY-MM-DD") and region; NULL = null partition value. Borrowed. */
    const char *partition_values[GTP_DELTA_NPART];
    int64_t size;                 /* bytes */
    int64_t modification_time_ms; /* file mtime, ms since the epoch */
    /* Becomes add.stats (NULL: no stats). Borrowed. */
    const struct gtp_parquet_file_stats *stats;
};

/* Make root (and parents) and root/_delta_log, and publish version 0 unless some version
 * exists already (a concurrent creator winning the race is fine). Returns 0 or an error. */
int gtp_delta_create(const char *root, char *errstr, size_t errstr_size);

/* Append a commit with n add actions (n may be 0, e.g. to move a txn), a txn action when
 * app_id is not NULL, and commitInfo. *version_out (may be NULL) receives the version
 * written. Returns 0, GTP_ERR_FENCED (a commit by someone else already holds a txn for
 * app_id >= txn_version: nothing written), GTP_ERR_NOSPACE, GTP_ERR_IO, GTP_ERR_PARSE
 * (unreadable log) or GTP_ERR_INVAL. */
int gtp_delta_commit(const char *root, const struct gtp_delta_add *adds, size_t n,
                     const char *app_id, int64_t txn_version, int64_t *version_out, char *errstr,
                     size_t errstr_size);

/* Highest committed version, -1 when the table has none. */
int gtp_delta_latest_version(const char *root, int64_t *version, char *errstr, size_t errstr_size);

/* Latest txn.version recorded for app_id, -1 when none. */
int gtp_delta_txn_version(const char *root, const char *app_id, int64_t *version, char *errstr,
                          size_t errstr_size);

/* Live data files (added and not removed), as on-disk relative paths (URI-decoded),
 * sorted. *paths is new: free with gtp_delta_paths_free. */
int gtp_delta_list_files(const char *root, char ***paths, size_t *n, char *errstr,
                         size_t errstr_size);

/* Files under root that readers could see but the log does not reference: `*.parquet`
 * files not in the log, and leftover temp files (`.*.tmp`) of crashed writers. Skips
 * `_delta_log`. Relative paths, sorted; free with gtp_delta_paths_free. The archiver
 * deletes these on start-up, before it writes anything. */
int gtp_delta_orphans(const char *root, char ***paths, size_t *n, char *errstr, size_t errstr_size);

void gtp_delta_paths_free(char **paths, size_t n); /* accepts NULL */

/* The add.stats JSON text for a file (numRecords, minValues, maxValues, nullCount):
 * strings cut to 32 characters for min (a prefix is still a lower bound) and left out of
 * max when longer; posted_at as yyyy-MM-ddTHH:mm:ss.SSSZ floored to ms; no min/max for
 * skills_array and is_remote. New string (free()). */
char *gtp_delta_stats_json(const struct gtp_parquet_file_stats *stats);

/* Atomically publish data as dir/name: temp file `.name.<pid>-<seq>.tmp` in dir, fsync, rename,
 * fsync dir. noreplace: fail with GTP_ERR_IO and errno-reason "exists" (*exists set) when
 * dir/name is already there; otherwise replace it. exists may be NULL. */
int gtp_delta_publish(const char *dir, const char *name, const void *data, size_t len,
                      bool noreplace, bool *exists, char *errstr, size_t errstr_size);

/* ---- streaming writers (the archiver) ------------------------------------------------------ */

struct json_t;

/* Called for every action of every commit: name is the action key ("add", "txn",
 * "commitInfo", ...), value is borrowed for the call only. Return 0 to go on, or a negative
 * gtp_err to stop the replay (it is returned). */
typedef int (*gtp_delta_action_fn)(const char *name, struct json_t *value, int64_t version,
                                   void *ctx);

/* Replay every commit from version 0 in version order through fn. *latest (may be NULL)
 * receives the highest version replayed (-1 for an empty log). Returns 0, fn's error,
 * GTP_ERR_PARSE (bad JSON, missing version) or GTP_ERR_IO. */
int gtp_delta_replay(const char *root, gtp_delta_action_fn fn, void *ctx, int64_t *latest,
                     char *errstr, size_t errstr_size);

/* gtp_delta_replay of the versions <= until only, starting at the newest snapshot <= until
 * whose later commits are all present (*from_snapshot, may be NULL, gets its version, -1
 * when the replay started at version 0). The snapshot's actions are passed with the
 * snapshot's version, after a GTP_DELTA_SNAPSHOT_ACTION. */
int gtp_delta_replay_until(const char *root, int64_t until, gtp_delta_action_fn fn, void *ctx,
                           int64_t *latest, int64_t *from_snapshot, char *errstr,
                           size_t errstr_size);

/* gtp_delta_commit for a writer that owns app_id (one Kafka partition), with:
 *  - seen_version >= 0: the caller has read the log up to that version. Any txn of app_id
 *    in a later commit, or in the commit that wins a race for our version, means another
 *    writer took the partition over: GTP_ERR_FENCED, nothing written. seen_version < 0:
 *    only gtp_delta_commit's check (the race winner holds a txn >= txn_version).
 *  - info_key and info_value (both NULL, or both set): an extra field of commitInfo,
 *    e.g. the writer's state; info_value is borrowed (not stolen).
 * Same returns as gtp_delta_commit, and GTP_ERR_STALE when a commit after seen_version was
 * cleaned up (the caller must reload its state from the log).
 */
int gtp_delta_commit_ex(const char *root, const struct gtp_delta_add *adds, size_t n,
                        const char *app_id, int64_t txn_version, int64_t seen_version,
                        const char *info_key, struct json_t *info_value, int64_t *version_out,
                        char *errstr, size_t errstr_size);

/* One txn action of a commit: a writer's position for one app_id (Kafka partition). */
struct gtp_delta_txn {
    const char *app_id;   /* borrowed */
    int64_t version;      /* txn.version: the last offset archived */
    int64_t seen_version; /* as gtp_delta_commit_ex's seen_version */
};

/* gtp_delta_commit_ex for a writer that owns several app_ids: ONE commit with n adds, ntxn
 * txn actions and commitInfo[info_key] = info_value (borrowed; NULL for none). On
 * GTP_ERR_FENCED nothing is written and *fenced_index (may be NULL) names one fenced txn:
 * the caller gives that partition up and commits the others again. Same returns as
 * gtp_delta_commit_ex. */
int gtp_delta_commit_multi(const char *root, const struct gtp_delta_add *adds, size_t n,
                           const struct gtp_delta_txn *txns, size_t ntxn, const char *info_key,
                           struct json_t *info_value, int64_t *version_out, size_t *fenced_index,
                           char *errstr, size_t errstr_size);

/* A rewrite (compaction) commit: `removes` (a JSON array of the live add actions being
 * replaced, borrowed; each becomes a remove with deletionTimestamp now and dataChange false)
 * and n adds with dataChange false, operation OPTIMIZE. Optimistic concurrency: the caller
 * planned from the log at read_version; appends since then are fine, but a commit that
 * removed one of the same files (another compaction) makes this one GTP_ERR_FENCED with
 * nothing written (plan again). GTP_ERR_STALE when commits after read_version were cleaned
 * up. Otherwise as gtp_delta_commit. */
int gtp_delta_commit_rewrite(const char *root, struct json_t *removes,
                             const struct gtp_delta_add *adds, size_t n, int64_t read_version,
                             int64_t *version_out, char *errstr, size_t errstr_size);

#endif
