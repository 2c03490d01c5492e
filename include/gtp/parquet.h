/* Parquet writer for the archive schema (docs/archive.md; format choices: docs/parquet.md).
 *
 * A writer buffers rows in memory (strings are copied into per-column arenas, no
 * per-value malloc) and writes them as ONE Parquet file, then forgets them:
 *
 *     w = gtp_parquet_writer_new(NULL);                      default options: ZSTD level 3
 *     gtp_parquet_add_row(w, &row, errstr, sizeof errstr);   ... many times
 *     gtp_parquet_write_file(w, dir, "part-0-1-9.parquet", &st, errstr, sizeof errstr);
 *
 * File layout: "PAR1", per row group the column chunks in schema order (an optional
 * dictionary page, then data pages v1 that each start on a row boundary), the
 * FileMetaData footer (Thrift compact), its length, "PAR1".
 *
 * Columns, in this order (physical type / repetition):
 *   event_id          BYTE_ARRAY STRING   REQUIRED   always present in a valid event
 *   posted_at         INT64 TIMESTAMP(isAdjustedToUTC=true, MICROS) + TIMESTAMP_MICROS, REQUIRED
 *   title             BYTE_ARRAY STRING   REQUIRED   always present in a valid event
 *   company           BYTE_ARRAY STRING   OPTIONAL
 *   skills_array      OPTIONAL group LIST { REPEATED group list { OPTIONAL BYTE_ARRAY STRING
 * element } } experience_level  BYTE_ARRAY STRING   OPTIONAL job_id            BYTE_ARRAY STRING
 * REQUIRED   always present in a valid event source            BYTE_ARRAY STRING   OPTIONAL
 *   location          BYTE_ARRAY STRING   OPTIONAL
 *   is_remote         BOOLEAN             OPTIONAL
 * Partition columns (date_posted, region) live in the directory names, not in the file.
 *
 * Encodings: PLAIN, or a dictionary page + RLE_DICTIONARY data pages per column chunk when
 * the dictionary is smaller (decided per chunk; never for event_id). Levels use the RLE /
 * bit-packed hybrid. Chunk statistics: min_value/max_value (strings in unsigned byte order,
 * posted_at as signed INT64, also in the legacy min/max fields), null_count; column_orders =
 * TypeDefinedOrder for every leaf; created_by = "gtp version <ver> (build <id>)".
 *
 * Not thread safe: one writer per thread. */
#ifndef GTP_PARQUET_H
#define GTP_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gtp_parquet_codec {
    GTP_PARQUET_UNCOMPRESSED = 0,
    GTP_PARQUET_SNAPPY = 1,
    GTP_PARQUET_ZSTD = 6,
};

/* The largest string value accepted (the raw message limit is 1 MiB, docs/events.md). */
#define GTP_PARQUET_MAX_VALUE (16u << 20)

struct gtp_parquet_opts {
    enum gtp_parquet_codec codec; /* default GTP_PARQUET_ZSTD */
    int zstd_level;               /* default 3 */
    size_t row_group_rows;        /* rows per row group, default 1,000,000 */
    size_t page_bytes;            /* target uncompressed data page size, default 1 MiB */
    bool no_dictionary;           /* PLAIN only (tests, comparisons) */
    const char *build;            /* build id in created_by; borrowed; NULL = "dev" */
};

/* Fill opts with the defaults above. */
void gtp_parquet_opts_default(struct gtp_parquet_opts *opts);

/* Codec from its name: "zstd", "snappy", "none"/"uncompressed" (case-insensitive).
 * Returns 0 or GTP_ERR_INVAL. */
int gtp_parquet_codec_parse(const char *name, enum gtp_parquet_codec *out);
/* "zstd", "snappy", "uncompressed" (static). */
const char *gtp_parquet_codec_name(enum gtp_parquet_codec codec);

/* Column indexes (top-level columns, schema order). */
enum gtp_parquet_col {
    GTP_PARQUET_EVENT_ID = 0,
    GTP_PARQUET_POSTED_AT,
    GTP_PARQUET_TITLE,
    GTP_PARQUET_COMPANY,
    GTP_PARQUET_SKILLS_ARRAY,
    GTP_PARQUET_EXPERIENCE_LEVEL,
    GTP_PARQUET_JOB_ID,
    GTP_PARQUET_SOURCE,
    GTP_PARQUET_LOCATION,
    GTP_PARQUET_IS_REMOTE,
    GTP_PARQUET_NCOLS
};

/* One row. All pointers are borrowed for the duration of gtp_parquet_add_row() only
 * (the writer copies). Strings are NUL-terminated UTF-8; NULL means SQL null. */
struct gtp_parquet_row {
    const char *event_id; /* required */
    int64_t posted_at_us; /* microseconds since the Unix epoch, UTC */
    const char *title;    /* required */
    const char *company;
    /* skills_array: NULL list when skills_null; else n_skills elements (an element may
     * be NULL = null element). skills may be NULL when n_skills is 0. */
    const char *const *skills;
    size_t n_skills;
    bool skills_null;
    const char *experience_level;
    const char *job_id; /* required */
    const char *source;
    const char *location;
    int is_remote; /* 1 true, 0 false, -1 null */
    /* Byte lengths for strings that may hold NUL bytes (JSON "\u0000"): when lens_set,
     * lens[col] is the length of the string of each top-level string column (indexed by
     * enum gtp_parquet_col; ignored for null strings and other columns) and those strings
     * need no terminator. Skill elements are always NUL-terminated. Zeroed: strlen(). */
    bool lens_set;
    size_t lens[GTP_PARQUET_NCOLS];
    /* The caller has validated the top-level strings of the row as UTF-8 (an event from
     * gtp_event_process: the whole value was checked, and its decoded strings stay valid),
     * so the writer does not scan them again; skill elements are checked all the same.
     * Zeroed: the writer checks every string. */
    bool utf8_checked;
};

/* Static name of a top-level column ("event_id", ...). */
const char *gtp_parquet_col_name(int col);

/* Per-column statistics of one written file, what Delta's add.stats needs. */
struct gtp_parquet_col_stats {
    int64_t null_count; /* rows where the column is null (skills_array: null lists) */
    bool has_minmax;    /* false when every value is null (and for skills_array) */
    /* BYTE_ARRAY columns: exact min/max (owned by the stats, NUL-terminated). */
    char *min;
    char *max;
    size_t min_len;
    size_t max_len;
    /* posted_at: µs; is_remote: 0/1. */
    int64_t min_i64;
    int64_t max_i64;
};

struct gtp_parquet_file_stats {
    int64_t num_rows;
    int64_t file_size; /* bytes */
    int num_row_groups;
    struct gtp_parquet_col_stats cols[GTP_PARQUET_NCOLS];
};

/* Free what a write put into stats (accepts NULL, and stats never written to if
 * zero-initialised). */
void gtp_parquet_file_stats_fini(struct gtp_parquet_file_stats *stats);

struct gtp_parquet_writer;

/* New writer; opts borrowed (NULL = defaults). NULL on bad options. */
struct gtp_parquet_writer *gtp_parquet_writer_new(const struct gtp_parquet_opts *opts);
void gtp_parquet_writer_free(struct gtp_parquet_writer *w); /* accepts NULL */

/* Buffer one row. Returns 0, or GTP_ERR_INVAL (row not added, reason in errstr) when a
 * required field is NULL, a string is not valid UTF-8 (a malformed value never reaches a
 * file) or longer than GTP_PARQUET_MAX_VALUE. */
int gtp_parquet_add_row(struct gtp_parquet_writer *w, const struct gtp_parquet_row *row,
                        char *errstr, size_t errstr_size);

/* Rows buffered, and an estimate of the memory they hold (for roll policies). */
size_t gtp_parquet_rows(const struct gtp_parquet_writer *w);
size_t gtp_parquet_buffered_bytes(const struct gtp_parquet_writer *w);

/* Drop the buffered rows. */
void gtp_parquet_reset(struct gtp_parquet_writer *w);

/* Write the buffered rows as one complete file to fd, which must be positioned at the
 * start of an empty file (offsets are counted from there). Zero rows make a valid empty
 * file. stats (may be NULL) receives the file's statistics (release with
 * gtp_parquet_file_stats_fini). On success the writer is reset; on error the rows stay
 * buffered so the caller can retry. Returns 0, GTP_ERR_NOSPACE (ENOSPC/EDQUOT),
 * GTP_ERR_IO or GTP_ERR_INTERNAL (compression failure). Does not fsync. */
int gtp_parquet_write_fd(struct gtp_parquet_writer *w, int fd, struct gtp_parquet_file_stats *stats,
                         char *errstr, size_t errstr_size);

/* Atomic publish: write dir/.<name>.tmp, fsync it, rename() it to dir/<name> (replacing
 * an older file of that name: names are deterministic, a replay rewrites the same file),
 * fsync dir. Readers never see a partial file. Same returns as gtp_parquet_write_fd. */
int gtp_parquet_write_file(struct gtp_parquet_writer *w, const char *dir, const char *name,
                           struct gtp_parquet_file_stats *stats, char *errstr, size_t errstr_size);

#endif
