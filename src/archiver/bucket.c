/* Per-(date_posted, region) Parquet buffers of one partition and the roll's files (bucket.h). */
#define _GNU_SOURCE /* syncfs */
#include "bucket.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gtp/err.h"
#include "gtp/hive.h"
#include "gtp/seniority.h"
#include "gtp/timeparse.h"
#include "gtp/util.h"

#define US_PER_DAY (86400LL * 1000000)

void arch_buckets_init(struct arch_buckets *bs, const struct gtp_parquet_opts *opts)
{
    memset(bs, 0, sizeof(*bs));
    if (opts)
        bs->opts = *opts;
    else
        gtp_parquet_opts_default(&bs->opts);
}

static void bucket_clear(struct arch_bucket *b)
{
    free(b->rel);
    b->rel = NULL;
    gtp_parquet_file_stats_fini(&b->st);
    memset(&b->st, 0, sizeof(b->st));
    b->written = false;
    b->staged = false;
    b->rows = 0;
    if (b->w)
        gtp_parquet_reset(b->w);
}

void arch_buckets_fini(struct arch_buckets *bs)
{
    for (size_t i = 0; i < bs->n; i++) {
        bucket_clear(&bs->b[i]);
        gtp_parquet_writer_free(bs->b[i].w);
    }
    free(bs->b);
    memset(bs, 0, sizeof(*bs));
}

static struct arch_bucket *bucket_get(struct arch_buckets *bs, const char *date, const char *region)
{
    /* A roll of one partition touches tens of (day, region) pairs: a linear scan over a
     * small array beats hashing two short strings. The names are compared as the
     * zero-padded arrays the buckets hold (fixed-size compares, no strcmp calls: two per
     * bucket scanned were a tenth of the row's cost on the consuming thread). */
    char kd[sizeof(bs->b->date)] = {0}, kr[sizeof(bs->b->region)] = {0};
    size_t nd = strnlen(date, sizeof(kd)), nr = strnlen(region, sizeof(kr));
    if (nd >= sizeof(kd) || nr >= sizeof(kr))
        return NULL;
    memcpy(kd, date, nd);
    memcpy(kr, region, nr);
    for (size_t i = 0; i < bs->n; i++) {
        struct arch_bucket *b = &bs->b[i];
        if (memcmp(b->region, kr, sizeof(kr)) == 0 && memcmp(b->date, kd, sizeof(kd)) == 0)
            return b;
    }
    if (bs->n == bs->cap) {
        bs->cap = bs->cap ? bs->cap * 2 : 32;
        bs->b = gtp_xrealloc(bs->b, bs->cap * sizeof(*bs->b));
    }
    struct arch_bucket *b = &bs->b[bs->n];
    memset(b, 0, sizeof(*b));
    memcpy(b->date, kd, sizeof(kd));
    memcpy(b->region, kr, sizeof(kr));
    b->w = gtp_parquet_writer_new(&bs->opts);
    if (!b->w)
        return NULL;
    bs->n++;
    return b;
}

int arch_buckets_add(struct arch_buckets *bs, const char *date, const char *region,
                     const struct gtp_parquet_row *row, char *errstr, size_t errstr_size)
{
    struct arch_bucket *b = bucket_get(bs, date, region);
    if (!b) {
        gtp_errf(errstr, errstr_size, "bad partition value (%s, %s) or writer options", date,
                 region);
        return GTP_ERR_INVAL;
    }
    if (b->staged) {
        /* rows after a half-written roll would be lost with that file */
        gtp_errf(errstr, errstr_size, "bucket %s/%s already written in this roll", date, region);
        return GTP_ERR_INTERNAL;
    }
    size_t before = gtp_parquet_buffered_bytes(b->w);
    int err = gtp_parquet_add_row(b->w, row, errstr, errstr_size);
    if (err)
        return err;
    b->rows++;
    bs->rows++;
    bs->bytes += gtp_parquet_buffered_bytes(b->w) - before;
    return 0;
}

static int io_err(int e, const char *what, char *errstr, size_t errstr_size)
{
    gtp_errf(errstr, errstr_size, "%s: %s", what, strerror(e));
    return (e == ENOSPC || e == EDQUOT) ? GTP_ERR_NOSPACE : GTP_ERR_IO;
}

/* Flush every dirty page and inode of the archive's file system. One syncfs() replaces an
 * fsync() per file and per directory: a roll writes tens of files into as many directories,
 * and per-file fsyncs made rolls fsync-bound. */
static int sync_fs(const char *root, char *errstr, size_t errstr_size)
{
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;
    if (fd < 0)
        return io_err(errno, root, errstr, errstr_size);
    if (syncfs(fd) != 0)
        err = io_err(errno, "syncfs", errstr, errstr_size);
    close(fd);
    return err;
}

/* Write the bucket into dir/.name.tmp (no fsync yet). On success the writer is reset and
 * the stats are kept; on error the rows stay buffered and the temp file is removed. */
static int stage(struct arch_bucket *b, const char *root, const char *dir, const char *name,
                 char *errstr, size_t errstr_size)
{
    char tmp[4096];
    int fd, err;
    snprintf(tmp, sizeof(tmp), "%s/%s/.%s.tmp", root, dir, name);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return io_err(errno, tmp, errstr, errstr_size);
    err = gtp_parquet_write_fd(b->w, fd, &b->st, errstr, errstr_size);
    if (close(fd) != 0 && !err)
        err = io_err(errno, tmp, errstr, errstr_size);
    if (err) {
        gtp_parquet_file_stats_fini(&b->st);
        memset(&b->st, 0, sizeof(b->st));
        unlink(tmp);
    }
    return err;
}

/* One bucket to stage in a roll: where its file goes and how its write ended. */
struct stage_job {
    struct arch_bucket *b;
    const char *root;
    char dir[1024], name[256];
    int err;
    char errstr[512];
};

struct stage_jobs {
    struct stage_job *j;
    size_t n;
};

static void stage_item(void *arg, size_t i, unsigned worker)
{
    struct stage_job *j = &((struct stage_jobs *)arg)->j[i];
    (void)worker;
    j->err = gtp_hive_mkdirs(j->root, j->dir, j->errstr, sizeof(j->errstr));
    if (!j->err)
        j->err = stage(j->b, j->root, j->dir, j->name, j->errstr, sizeof(j->errstr));
}

int arch_buckets_write(struct arch_buckets *bs, const char *root, int32_t partition, int64_t first,
                       int64_t last, size_t *files, char *errstr, size_t errstr_size)
{
    const char *names[2] = {"date_posted", "region"};
    struct stage_jobs jobs = {gtp_xcalloc(bs->n + 1, sizeof(*jobs.j)), 0};
    size_t k = 0;
    int err = 0;
    bool staged_any = false;

    /* 1. every bucket into its temp file (hidden from readers: leading '.', no .parquet),
     * spread over the pool's threads: encoding and compressing a roll's files was most of
     * a roll's time, and each file is independent of the others */
    for (size_t i = 0; i < bs->n; i++) {
        struct arch_bucket *b = &bs->b[i];
        struct stage_job *j = &jobs.j[jobs.n];
        if (b->staged || b->rows == 0)
            continue;
        const char *values[2] = {b->date, b->region};
        if (gtp_hive_partition_dir(names, values, 2, j->dir, sizeof(j->dir)) < 0) {
            gtp_errf(errstr, errstr_size, "bad partition (%s, %s)", b->date, b->region);
            err = GTP_ERR_INVAL;
            break;
        }
        snprintf(j->name, sizeof(j->name), "part-%d-%" PRId64 "-%" PRId64 ".%s.parquet",
                 (int)partition, first, last, gtp_parquet_codec_name(bs->opts.codec));
        j->b = b;
        j->root = root;
        jobs.n++;
    }
    gtp_pool_run(bs->pool, jobs.n, 1, stage_item, &jobs);
    /* the first failure in bucket order is the one reported; the files staged beside it
     * are kept, as a serial roll that failed later would have kept them */
    for (size_t i = 0; i < jobs.n; i++) {
        struct stage_job *j = &jobs.j[i];
        if (j->err) {
            if (!err) {
                err = j->err;
                gtp_errf(errstr, errstr_size, "%s", j->errstr);
            }
            continue;
        }
        size_t n = strlen(j->dir) + strlen(j->name) + 2;
        j->b->rel = gtp_xmalloc(n);
        snprintf(j->b->rel, n, "%s/%s", j->dir, j->name);
        j->b->staged = true;
        staged_any = true;
    }
    free(jobs.j);
    if (err)
        goto out;
    /* 2. temp files durable before any becomes visible; 3. publish them by rename; 4. the
     * renames durable before the commit that references them */
    for (size_t i = 0; i < bs->n && !staged_any; i++)
        staged_any = bs->b[i].staged && !bs->b[i].written;
    if (!staged_any)
        goto out;
    err = sync_fs(root, errstr, errstr_size);
    for (size_t i = 0; i < bs->n && !err; i++) {
        struct arch_bucket *b = &bs->b[i];
        char tmp[4096], dst[4096];
        struct stat st;
        if (!b->staged || b->written)
            continue;
        const char *slash = strrchr(b->rel, '/');
        snprintf(tmp, sizeof(tmp), "%s/%.*s/.%s.tmp", root, (int)(slash - b->rel), b->rel,
                 slash + 1);
        snprintf(dst, sizeof(dst), "%s/%s", root, b->rel);
        if (rename(tmp, dst) != 0) {
            err = io_err(errno, dst, errstr, errstr_size);
            break;
        }
        b->mtime_ms = stat(dst, &st) == 0
                          ? (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000
                          : gtp_wall_us() / 1000;
        b->written = true;
        k++;
    }
    if (!err)
        err = sync_fs(root, errstr, errstr_size);
out:
    if (files)
        *files = k;
    return err;
}

size_t arch_buckets_adds(const struct arch_buckets *bs, struct gtp_delta_add **adds)
{
    size_t k = 0;
    *adds = gtp_xcalloc(bs->n + 1, sizeof(**adds));
    for (size_t i = 0; i < bs->n; i++) {
        const struct arch_bucket *b = &bs->b[i];
        if (!b->written)
            continue;
        struct gtp_delta_add *a = &(*adds)[k++];
        a->path = b->rel;
        a->partition_values[0] = b->date;
        a->partition_values[1] = b->region;
        a->size = b->st.file_size;
        a->modification_time_ms = b->mtime_ms;
        a->stats = &b->st;
    }
    return k;
}

size_t arch_buckets_paths(const struct arch_buckets *bs, const char ***paths)
{
    size_t k = 0;
    *paths = gtp_xcalloc(bs->n + 1, sizeof(char *));
    for (size_t i = 0; i < bs->n; i++)
        if (bs->b[i].written)
            (*paths)[k++] = bs->b[i].rel;
    return k;
}

void arch_buckets_reset(struct arch_buckets *bs)
{
    /* Keep at most a bounded number of idle writers: a stream that wandered over many days
     * must not pin a writer per day forever. */
    size_t keep = 0;
    for (size_t i = 0; i < bs->n; i++) {
        struct arch_bucket *b = &bs->b[i];
        bool used = b->rows > 0;
        bucket_clear(b);
        if (used && keep < 256) {
            bs->b[keep++] = *b;
        } else {
            gtp_parquet_writer_free(b->w);
        }
    }
    bs->n = keep;
    bs->rows = 0;
    bs->bytes = 0;
}

int arch_buckets_add_event(struct arch_buckets *bs, const struct gtp_event *ev,
                           const struct gtp_skills *sk, const char **skill_ids, char *errstr,
                           size_t errstr_size)
{
    size_t n = gtp_skills_count(sk), k = 0;
    for (size_t w = 0; w < (n + 63) / 64; w++) {
        uint64_t bits = ev->skills.bits[w];
        while (bits) {
            int b = __builtin_ctzll(bits);
            bits &= bits - 1;
            skill_ids[k++] = gtp_skills_id(sk, w * 64 + (size_t)b);
        }
    }
    struct gtp_parquet_row row = {
        .event_id = ev->event_id.s,
        .posted_at_us = ev->posted_us,
        .title = ev->title.s,
        .company = ev->company.s,
        .skills = skill_ids,
        .n_skills = k,
        .skills_null = false,
        .experience_level = gtp_seniority_name(ev->level),
        .job_id = ev->job_id.s,
        .source = ev->source.s,
        .location = ev->location.s,
        .is_remote = ev->is_remote,
        .lens_set = true, /* JSON strings may hold "\u0000": keep every byte */
        /* the event's value was checked whole (gtp_event_process); skill ids come from the
         * taxonomy's files and are still checked */
        .utf8_checked = true,
    };
    row.lens[GTP_PARQUET_EVENT_ID] = ev->event_id.len;
    row.lens[GTP_PARQUET_TITLE] = ev->title.len;
    row.lens[GTP_PARQUET_COMPANY] = ev->company.len;
    row.lens[GTP_PARQUET_EXPERIENCE_LEVEL] = strlen(row.experience_level);
    row.lens[GTP_PARQUET_JOB_ID] = ev->job_id.len;
    row.lens[GTP_PARQUET_SOURCE] = ev->source.len;
    row.lens[GTP_PARQUET_LOCATION] = ev->location.len;
    /* the UTC day of posted_us, rounded towards minus infinity as the date is */
    int64_t day = ev->posted_us / US_PER_DAY - (ev->posted_us % US_PER_DAY < 0);
    if (!bs->day_set || day != bs->day) {
        gtp_time_format_date(ev->posted_us, bs->day_text, sizeof(bs->day_text));
        bs->day = day;
        bs->day_set = true;
    }
    return arch_buckets_add(bs, bs->day_text, ev->region, &row, errstr, errstr_size);
}
