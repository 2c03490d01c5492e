/* The rows of one Kafka partition buffered between two rolls, one Parquet writer per
 * (date_posted, region), and writing them out as the roll's data files:
 *
 *   <root>/date_posted=YYYY-MM-DD/region=XX/part-<p>-<first>-<last>.<codec>.parquet
 *
 * Names depend only on the partition and the roll's offset range, so a replay of a roll that
 * crashed before its commit rewrites the same names. A roll that fails half way keeps the
 * files already written (and their stats) and resumes with the rest on retry. */
#ifndef GTP_ARCHIVER_BUCKET_H
#define GTP_ARCHIVER_BUCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtp/pool.h"
#include "gtp/delta.h"
#include "gtp/event.h"
#include "gtp/parquet.h"
#include "gtp/skills.h"

struct arch_bucket {
    char date[16]; /* YYYY-MM-DD; both names zero-padded (compared as arrays) */
    char region[16];
    struct gtp_parquet_writer *w;
    size_t rows;
    /* staged: written to its temp file in the current roll (rows handed to the file);
     * written: renamed into place */
    bool staged, written;
    char *rel; /* relative path of the file (Hive-escaped) */
    struct gtp_parquet_file_stats st;
    int64_t mtime_ms;
};

struct arch_buckets {
    struct arch_bucket *b;
    size_t n, cap;
    struct gtp_parquet_opts opts; /* copied at init; build borrowed */
    size_t rows;                  /* over all buckets */
    size_t bytes;                 /* buffered bytes over all buckets */
    struct gtp_pool *pool;        /* borrowed, NULL: files written on the calling thread */
    /* the last date_posted formatted (UTC day number and its text): consecutive rows
     * mostly share their day, and formatting it was a tenth of a row's cost here */
    int64_t day;
    bool day_set;
    char day_text[16];
};

void arch_buckets_init(struct arch_buckets *bs, const struct gtp_parquet_opts *opts);
void arch_buckets_fini(struct arch_buckets *bs);

/* Add one row to the (date, region) bucket (date "YYYY-MM-DD", region the enriched code).
 * Returns 0 or GTP_ERR_INVAL from the writer (row not added). */
int arch_buckets_add(struct arch_buckets *bs, const char *date, const char *region,
                     const struct gtp_parquet_row *row, char *errstr, size_t errstr_size);

/* Add a validated, enriched event as a row of its (date posted, region) bucket. skill_ids
 * is scratch space for GTP_SKILLS_MAX pointers; sk names the skill bits of ev. Returns 0 or
 * GTP_ERR_INVAL as arch_buckets_add (cannot happen for a validated event: UTF-8 checked,
 * values <= 1 MiB). */
int arch_buckets_add_event(struct arch_buckets *bs, const struct gtp_event *ev,
                           const struct gtp_skills *sk, const char **skill_ids, char *errstr,
                           size_t errstr_size);

/* Write every bucket with rows not yet written in this roll to its file under root: all
 * temp files first (on bs->pool's threads), one syncfs(), all renames, one syncfs()
 * (durable before the commit).
 * Returns 0, GTP_ERR_NOSPACE, GTP_ERR_IO, GTP_ERR_INVAL or GTP_ERR_INTERNAL; after an
 * error, calling again continues with the buckets still unwritten. *files (may be NULL)
 * gets the number of files written by this call. */
int arch_buckets_write(struct arch_buckets *bs, const char *root, int32_t partition, int64_t first,
                       int64_t last, size_t *files, char *errstr, size_t errstr_size);

/* The add actions of the written buckets: *adds new array (free()), pointing into bs. */
size_t arch_buckets_adds(const struct arch_buckets *bs, struct gtp_delta_add **adds);

/* Relative paths of the files written in this roll (pointers into bs; *paths new array). */
size_t arch_buckets_paths(const struct arch_buckets *bs, const char ***paths);

/* Forget the roll (after its commit, or to drop a partition): empty writers are kept for
 * reuse, rows dropped, written state cleared. */
void arch_buckets_reset(struct arch_buckets *bs);

#endif
