/* Delta Lake checkpoints and log cleanup for the archive table (docs/archive.md).
 *
 * A checkpoint at version V is the table state after V, written three ways:
 *  - `_delta_log/<V>.checkpoint.parquet`, the classic single-file checkpoint every Delta
 *    reader (Spark, delta-rs, DuckDB's delta extension) starts from: one row per live
 *    action, top-level struct columns txn, add, remove, metaData, protocol;
 *  - `GTP_DELTA_SNAPSHOT_DIR/<V>.json`, the same actions as newline-delimited JSON (plus
 *    the writer's folded commitInfo state, see struct gtp_delta_fold), which this project's
 *    own readers replay from (include/gtp/delta.h) — the core has a Parquet writer, not a
 *    reader;
 *  - `_delta_log/_last_checkpoint` {"version": V, "size": rows}, updated only forward.
 * The Parquet file and the snapshot are published atomically (temp, fsync, rename) before
 * `_last_checkpoint` names them; writing the same checkpoint twice (two archivers) gives
 * the same content. Removes whose deletionTimestamp is older than the deleted-file
 * retention are left out (vacuum may have deleted their files).
 *
 * Cleanup deletes JSON commits, checkpoints and snapshots older than the newest checkpoint
 * whose commit is older than the log retention (delta.logRetentionDuration), so every
 * version inside the retention stays readable.
 *
 * Thread safe (no shared state). */
#ifndef GTP_DELTA_CHECKPOINT_H
#define GTP_DELTA_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Delta's defaults for the two table properties. */
#define GTP_DELTA_LOG_RETENTION_MS          (30LL * 24 * 3600 * 1000)
#define GTP_DELTA_DELETED_FILE_RETENTION_MS (7LL * 24 * 3600 * 1000)

/* A writer's own state kept in commitInfo[info_key], folded into the snapshot so that a
 * replay from the snapshot ends in the same state as a replay of every commit:
 * begin() makes an empty fold, add() takes one commitInfo[info_key] value (borrowed) in
 * version order (also the values a previous snapshot stored), end() returns the new array
 * of values to store and frees the fold, discard() frees it on error. data_file (may be
 * NULL) takes every `add` action (borrowed) of the commits after the snapshot the fold
 * started from (not the snapshot's own adds), for a writer whose state lives in its data
 * files; root is the table's root, to open them. */
struct gtp_delta_fold {
    const char *info_key;
    void *(*begin)(void *opaque);
    int (*add)(void *fold, json_t *value, int64_t version, char *errstr, size_t errstr_size);
    int (*data_file)(void *fold, const char *root, json_t *add, int64_t version, char *errstr,
                     size_t errstr_size);
    json_t *(*end)(void *fold);
    void (*discard)(void *fold);
    void *opaque;
};

struct gtp_delta_checkpoint_info {
    int64_t version;    /* the version checkpointed */
    int64_t from;       /* where its replay started: a snapshot's version, or -1 (version 0) */
    size_t rows;        /* actions in the checkpoint */
    size_t files;       /* live data files (add rows) */
    int64_t bytes;      /* Σ add.size */
    int64_t parquet_sz; /* size of the .checkpoint.parquet */
};

/* Write the checkpoint of version (which must be committed) under root. fold may be NULL
 * (no writer state kept). info (may be NULL) is filled on success. Tombstones (`remove`)
 * younger than deleted_file_retention_ms are kept (< 0: the table's
 * delta.deletedFileRetentionDuration, else 7 days; pass the retention vacuum runs with: a
 * tombstone of a file vacuum deleted only weighs the checkpoint down). now_ms: the clock for
 * tombstone expiry (0 = the real clock). Returns 0, GTP_ERR_NOSPACE, GTP_ERR_IO,
 * GTP_ERR_PARSE (unreadable log) or the fold's error. */
int gtp_delta_checkpoint(const char *root, int64_t version, const struct gtp_delta_fold *fold,
                         int64_t deleted_file_retention_ms, int64_t now_ms,
                         struct gtp_delta_checkpoint_info *info, char *errstr, size_t errstr_size);

/* Version named by _last_checkpoint, -1 when there is none (or it is unreadable). */
int64_t gtp_delta_last_checkpoint(const char *root);

/* Delete what the log no longer needs (see the top of this file). log_retention_ms < 0:
 * the table's delta.logRetentionDuration, else 30 days. *removed (may be NULL) gets the
 * number of files deleted. now_ms: 0 = the real clock. Returns 0 or GTP_ERR_IO. */
int gtp_delta_cleanup(const char *root, int64_t log_retention_ms, int64_t now_ms, size_t *removed,
                      char *errstr, size_t errstr_size);

/* Parse a Delta interval property ("interval 30 days", "interval 2 hours", "1 week", …;
 * units week(s), day(s), hour(s), minute(s), second(s), millisecond(s)) into ms.
 * Returns 0 or GTP_ERR_PARSE. */
int gtp_delta_interval_ms(const char *text, int64_t *ms);

/* The table property `key` from the newest metaData (new string, NULL when unset). */
char *gtp_delta_table_property(const char *root, const char *key, char *errstr, size_t errstr_size);

/* A retention table property (key, e.g. "delta.logRetentionDuration") in ms, or fallback
 * when the table does not set it or its value is not an interval. */
int64_t gtp_delta_retention_ms(const char *root, const char *key, int64_t fallback);

#endif
