/* Compaction (Delta's OPTIMIZE) and vacuum of the archive table (docs/archive.md).
 *
 * Compaction rewrites the small data files of a (date_posted, region) partition into files
 * near a target size: the rows of a bin of small files are read back (pqread.h), written as
 * one new file (temp, fsync, rename) named `part-compact-<uuid>.<codec>.parquet`, and ONE
 * commit removes the bin's files and adds the new one, both with dataChange=false, so
 * streaming readers see no new data. Concurrency is optimistic: a commit since the plan
 * that removed one of the bin's files (another compactor) makes the rewrite give up (its new
 * file is deleted); appends do not conflict. A crash leaves at most an unreferenced new file,
 * which vacuum deletes once it is older than the retention.
 *
 * Vacuum deletes data files the table no longer references (removed by compaction, or left
 * by a crash) once their modification time is older than the retention, so readers of any
 * version inside the retention still find their files.
 *
 * Thread safe (no shared state). */
#ifndef GTP_DELTA_OPTIMIZE_H
#define GTP_DELTA_OPTIMIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtp/parquet.h"

#define GTP_DELTA_TARGET_FILE_SIZE (128LL << 20) /* Delta's OPTIMIZE default */

struct gtp_delta_optimize_opts {
    int64_t target_file_size; /* bytes; <= 0: GTP_DELTA_TARGET_FILE_SIZE */
    /* Partitions whose date_posted is before this day ("YYYY-MM-DD") are closed: every
     * small file is compacted. NULL: none is closed. */
    const char *closed_before;
    /* Open partitions too, when they hold at least min_open_files small files (0: never). */
    size_t min_open_files;
    const struct gtp_parquet_opts *popts; /* borrowed; the new files' options (NULL: defaults) */
    /* Only files a checkpoint covers: those added at or before the snapshot replays start
     * from (none without one). For a writer that restores its state from the data files
     * its commits added since that snapshot (the archiver's dedup ids): those must stay. */
    bool checkpointed_only;
};

struct gtp_delta_optimize_stats {
    size_t partitions;    /* partitions rewritten */
    size_t files_in;      /* files removed */
    size_t files_out;     /* files added */
    int64_t bytes_in;     /* Σ size of the files removed */
    int64_t bytes_out;    /* Σ size of the files added */
    int64_t rows;         /* rows rewritten */
    size_t gave_up;       /* bins left alone: another compactor removed a file first */
    int64_t last_version; /* the last rewrite commit, -1 none */
};

/* Compact the table under root. stats (may be NULL) is filled. Returns 0, GTP_ERR_PARSE (a
 * data file or the log unreadable), GTP_ERR_NOSPACE, GTP_ERR_IO or GTP_ERR_STALE. */
/* Every row of the data file of an add action's path (URI-encoded, relative to root) through
 * fn, which returns 0 to go on or a gtp_err to stop (returned). *rows (may be NULL) gets the
 * rows passed. Returns 0, GTP_ERR_IO (the file is missing or unreadable), GTP_ERR_PARSE (a
 * bad path or not an archive file, see gtp/pqread.h) or fn's error; errstr names the file. */
int gtp_delta_read_rows(const char *root, const char *uri,
                        int (*fn)(const struct gtp_parquet_row *row, void *ctx, char *errstr,
                                  size_t errstr_size),
                        void *ctx, int64_t *rows, char *errstr, size_t errstr_size);

int gtp_delta_optimize(const char *root, const struct gtp_delta_optimize_opts *opts,
                       struct gtp_delta_optimize_stats *stats, char *errstr, size_t errstr_size);

/* Delete unreferenced data files older than retention_ms (< 0: the table's
 * delta.deletedFileRetentionDuration, else 7 days) at now_ms (0: the real clock).
 * *deleted and *bytes (each may be NULL) get what was deleted. Returns 0 or GTP_ERR_IO. */
int gtp_delta_vacuum(const char *root, int64_t retention_ms, int64_t now_ms, size_t *deleted,
                     int64_t *bytes, char *errstr, size_t errstr_size);

#endif
