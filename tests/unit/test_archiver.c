/* gtp-archiver's private pieces: the position and dedup state kept in the Delta log
 * (state.c) and the per-(date, region) buffers written as a roll's files (bucket.c).
 * The central property: a window rebuilt from the log after any sequence of commits gives
 * the same late/duplicate verdicts as the window that never stopped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bucket.h"
#include "gtp/pool.h"
#include "state.h"
#include "gtp/delta.h"
#include "gtp/delta_checkpoint.h"
#include "gtp/delta_optimize.h"
#include "gtp/err.h"
#include "gtp/parquet.h"
#include "gtp/skills.h"
#include "gtp/util.h"
#include "gtp/window.h"

#define H  GTP_WINDOW_US
#define T0 (1710460800LL * 1000000LL) /* 2024-03-15T00:00:00Z */

static char *tmp_root(void)
{
    char tmpl[] = "/tmp/gtp-test-archiver-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    char *root = malloc(strlen(d) + 8);
    sprintf(root, "%s/table", d);
    char err[256];
    assert_int_equal(gtp_delta_create(root, err, sizeof(err)), 0);
    return root;
}

static void rm_rf(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

static void test_file_names(void **state)
{
    static const struct {
        const char *name;
        bool ok, tmp;
        int32_t p;
        int64_t first, last;
    } cases[] = {
        {"part-3-10-20.zstd.parquet", true, false, 3, 10, 20},
        {"part-0-0-0.snappy.parquet", true, false, 0, 0, 0},
        {".part-5-7-9.zstd.parquet.tmp", true, true, 5, 7, 9},
        {"part-3-20-10.zstd.parquet", false, false, 0, 0, 0}, /* first > last */
        {"part-3-10-20.zstd.parquet.tmp", false, false, 0, 0, 0},
        {".part-3-10-20.zstd.parquet", false, false, 0, 0, 0},
        {"part-3-10-20.zstd", false, false, 0, 0, 0},
        {"part--1-10-20.zstd.parquet", false, false, 0, 0, 0},
        {"part-99999999999-1-2.zstd.parquet", false, false, 0, 0, 0},
        {"part-1-99999999999999999999-2.zstd.parquet", false, false, 0, 0, 0},
        {"other.parquet", false, false, 0, 0, 0},
        {"", false, false, 0, 0, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int32_t p = -1;
        int64_t first = -1, last = -1;
        bool tmp = false;
        bool ok = arch_file_name_parse(cases[i].name, &p, &first, &last, &tmp);
        if (ok != cases[i].ok)
            fail_msg("%s: parse %d, want %d", cases[i].name, ok, cases[i].ok);
        if (!ok)
            continue;
        assert_int_equal(p, cases[i].p);
        assert_true(first == cases[i].first && last == cases[i].last);
        assert_int_equal(tmp, cases[i].tmp);
    }
}

/* A random stream in one partition: ids re-used (duplicates), times wandering forwards
 * with some events hours behind (late). */
struct ev {
    char id[24];
    int64_t ts;
};

static void make_stream(struct ev *evs, size_t n, unsigned seed)
{
    srand(seed);
    int64_t clock = T0;
    for (size_t i = 0; i < n; i++) {
        clock += (rand() % 600) * 1000000LL; /* up to 10 minutes per event */
        int r = rand() % 100;
        if (r < 10 && i > 0) { /* exact duplicate of a recent event */
            evs[i] = evs[i - 1 - (size_t)rand() % (i < 20 ? i : 20)];
            continue;
        }
        snprintf(evs[i].id, sizeof(evs[i].id), "e%zu", i);
        evs[i].ts = r < 20 ? clock - (rand() % 6) * H : clock;
    }
}

/* A data row of event id (len bytes) at ts. */
static struct gtp_parquet_row ev_row(const char *id, size_t len, int64_t ts)
{
    struct gtp_parquet_row r = {.event_id = id,
                                .posted_at_us = ts,
                                .title = "t",
                                .job_id = "j",
                                .skills_null = true,
                                .is_remote = -1,
                                .lens_set = true};
    r.lens[GTP_PARQUET_EVENT_ID] = len;
    r.lens[GTP_PARQUET_TITLE] = 1;
    r.lens[GTP_PARQUET_JOB_ID] = 1;
    return r;
}

/* Write partition p's buffered rows as the roll [first, last]: *adds new (free()). */
static size_t roll_files(struct arch_buckets *bs, const char *root, int32_t p, int64_t first,
                         int64_t last, struct gtp_delta_add **adds)
{
    char err[512];
    if (arch_buckets_write(bs, root, p, first, last, NULL, err, sizeof(err)) != 0)
        fail_msg("roll: %s", err);
    return arch_buckets_adds(bs, adds);
}

/* Consume a stream up to a random point committing at random boundaries (also empty
 * rolls) with the rows counted or late in the roll's data files, as the archiver does,
 * with noise from another partition and topic; restore partition 2 from the log and check
 * that it gives the same verdicts as the window that never stopped. With checkpoints:
 * rolls commit two partitions at once (commitInfo.gtp arrays), a checkpoint is written at
 * random versions, sometimes followed by a compaction of every small file it covers and a
 * vacuum at once, and the commits it covers are deleted before the restore, so the restore
 * must come from the snapshot and the data files after it. */
static void restore_case(unsigned seed, bool checkpoints)
{
    enum { N = 3000 };
    static struct ev evs[N];
    char err[512];
    char *root = tmp_root();
    struct gtp_window *live = gtp_window_new();
    struct arch_buckets bs;
    size_t stop_at = 200 + (size_t)(seed * 331) % 2500, first = 0, compactions = 0;
    int64_t v = -1, last_ckpt = -1;
    arch_buckets_init(&bs, NULL);
    make_stream(evs, N, seed);
    for (size_t i = 0; i < stop_at; i++) {
        size_t len = strlen(evs[i].id);
        if (gtp_window_classify(live, evs[i].id, len, evs[i].ts) != GTP_VERDICT_DUPLICATE) {
            struct gtp_parquet_row r = ev_row(evs[i].id, len, evs[i].ts);
            assert_int_equal(arch_buckets_add(&bs, "2024-03-15", "UK", &r, err, sizeof(err)), 0);
        }
        if (rand() % 97 != 0 && i + 1 != stop_at)
            continue;
        struct gtp_delta_add *adds = NULL;
        size_t nadds = roll_files(&bs, root, 2, (int64_t)first, (int64_t)i, &adds);
        json_t *info =
            arch_state_info("t", 2, (int64_t)first, (int64_t)i, gtp_window_max_event(live));
        if (!checkpoints) {
            assert_int_equal(gtp_delta_commit_ex(root, adds, nadds, "gtp-archiver-t-2", (int64_t)i,
                                                 -1, ARCH_INFO_KEY, info, NULL, err, sizeof(err)),
                             0);
        } else {
            /* one roll for partitions 2 and 4 (4 holds nothing of interest) */
            json_t *arr = json_array();
            json_array_append_new(arr, info);
            json_array_append_new(arr, arch_state_info("t", 4, 0, 0, T0));
            struct gtp_delta_txn t[2] = {{"gtp-archiver-t-2", (int64_t)i, -1},
                                         {"gtp-archiver-t-4", 0, -1}};
            assert_int_equal(gtp_delta_commit_multi(root, adds, nadds, t, 2, ARCH_INFO_KEY, arr, &v,
                                                    NULL, err, sizeof(err)),
                             0);
            info = arr;
            if (rand() % 3 == 0) {
                assert_int_equal(
                    gtp_delta_checkpoint(root, v, &arch_state_fold, -1, 0, NULL, err, sizeof(err)),
                    0);
                last_ckpt = v;
            }
            if (rand() % 4 == 0) {
                /* what the archiver's maintenance does: the files after the snapshot stay */
                struct gtp_delta_optimize_opts o = {4096, "9999-12-31", 0, NULL, true};
                struct gtp_delta_optimize_stats st;
                if (gtp_delta_optimize(root, &o, &st, err, sizeof(err)) != 0)
                    fail_msg("compaction: %s", err);
                assert_int_equal(gtp_delta_vacuum(root, 0, 0, NULL, NULL, err, sizeof(err)), 0);
                compactions += st.files_in > 0;
            }
        }
        json_decref(info);
        free(adds);
        arch_buckets_reset(&bs);
        first = i + 1;
    }
    if (checkpoints && seed == 11)
        assert_true(compactions > 0); /* the case compacts at all */
    /* noise: another partition's files and another topic's max must not leak in */
    struct gtp_delta_add *adds = NULL;
    struct gtp_parquet_row r = ev_row(evs[stop_at].id, strlen(evs[stop_at].id), T0 + 50 * H);
    assert_int_equal(arch_buckets_add(&bs, "2024-03-15", "UK", &r, err, sizeof(err)), 0);
    size_t nadds = roll_files(&bs, root, 3, 0, 5, &adds);
    json_t *info = arch_state_info("t", 3, 0, 5, T0 + 99 * H);
    assert_int_equal(gtp_delta_commit_ex(root, adds, nadds, "gtp-archiver-t-3", 5, -1,
                                         ARCH_INFO_KEY, info, NULL, err, sizeof(err)),
                     0);
    json_decref(info);
    free(adds);
    arch_buckets_reset(&bs);
    info = arch_state_info("u", 2, 0, 5, T0 + 99 * H);
    assert_int_equal(gtp_delta_commit_ex(root, NULL, 0, "gtp-archiver-u-2", 5, -1, ARCH_INFO_KEY,
                                         info, NULL, err, sizeof(err)),
                     0);
    json_decref(info);
    if (checkpoints && last_ckpt >= 0) {
        /* what cleanup would delete: every commit the snapshot covers */
        for (int64_t k = 0; k <= last_ckpt; k++) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/_delta_log/%020lld.json", root, (long long)k);
            assert_int_equal(unlink(path), 0);
        }
    }

    struct arch_resume rs = {.partition = 2};
    int64_t latest = -1;
    if (arch_state_load(root, "t", &rs, 1, &latest, err, sizeof(err)) != 0)
        fail_msg("seed %u: restore: %s", seed, err);
    assert_true(rs.txn == (int64_t)stop_at - 1);
    assert_true(latest >= 3);
    assert_true(gtp_window_max_event(rs.win) == gtp_window_max_event(live));
    assert_true(gtp_window_watermark(rs.win) == gtp_window_watermark(live));
    /* the rest of the stream gets the same verdicts from both */
    for (size_t i = stop_at; i < N; i++) {
        size_t len = strlen(evs[i].id);
        enum gtp_verdict a = gtp_window_classify(live, evs[i].id, len, evs[i].ts);
        enum gtp_verdict b = gtp_window_classify(rs.win, evs[i].id, len, evs[i].ts);
        if (a != b)
            fail_msg("seed %u event %zu (%s): live %d, restored %d (checkpoints %d)", seed, i,
                     evs[i].id, a, b, checkpoints);
    }
    gtp_window_free(rs.win);
    gtp_window_free(live);
    arch_buckets_fini(&bs);
    rm_rf(root);
    free(root);
}

static void test_restore_equals_live(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 8; seed++)
        restore_case(seed, false);
}

static void test_restore_through_checkpoints(void **state)
{
    (void)state;
    for (unsigned seed = 11; seed <= 18; seed++)
        restore_case(seed, true);
}

static void test_info_has_no_ids(void **state)
{
    (void)state;
    json_t *info = arch_state_info("t", 0, 1, 2, T0 + 3 * H);
    assert_null(json_object_get(info, "dedup")); /* the ids live in the data files */
    assert_true(json_integer_value(json_object_get(info, "max_event_us")) == T0 + 3 * H);
    json_decref(info);
    /* no valid event yet: no max_event_us */
    info = arch_state_info("t", 0, 1, 2, INT64_MIN);
    assert_null(json_object_get(info, "max_event_us"));
    json_decref(info);
}

/* An event id may hold NUL bytes (JSON "\u0000"): a restart must treat that id (not its
 * prefix) as seen, from the data file; and a commit written before the ids moved to the
 * data files (its own "dedup" array in commitInfo) still restores its ids. */
static void test_nul_id_and_old_commits_restored(void **state)
{
    static const char nul_id[] = {'n', 'u', 'l', '\0', 'i', 'd'};
    char err[512];
    char *root = tmp_root();
    struct gtp_window *live = gtp_window_new();
    struct arch_buckets bs;
    struct gtp_delta_add *adds = NULL;
    (void)state;
    arch_buckets_init(&bs, NULL);
    assert_int_equal(gtp_window_classify(live, nul_id, sizeof(nul_id), T0), GTP_VERDICT_COUNT);
    struct gtp_parquet_row r = ev_row(nul_id, sizeof(nul_id), T0);
    assert_int_equal(arch_buckets_add(&bs, "2024-03-15", "UK", &r, err, sizeof(err)), 0);
    size_t nadds = roll_files(&bs, root, 0, 0, 0, &adds);
    json_t *info = arch_state_info("t", 0, 0, 0, gtp_window_max_event(live));
    int64_t v = -1;
    assert_int_equal(gtp_delta_commit_ex(root, adds, nadds, "gtp-archiver-t-0", 0, -1,
                                         ARCH_INFO_KEY, info, &v, err, sizeof(err)),
                     0);
    json_decref(info);
    free(adds);
    /* an old-style commit: the id "legacy" in commitInfo, no data file */
    info = arch_state_info("t", 0, 1, 1, gtp_window_max_event(live));
    json_object_set_new(
        info, "dedup",
        json_pack("[[I, s]]", (json_int_t)(gtp_window_start(T0) / 1000000), "legacy"));
    if (gtp_delta_commit_ex(root, NULL, 0, "gtp-archiver-t-0", 1, v, ARCH_INFO_KEY, info, NULL, err,
                            sizeof(err)) != 0)
        fail_msg("second commit: %s", err);
    json_decref(info);

    struct arch_resume rs = {.partition = 0};
    int64_t latest = -1;
    if (arch_state_load(root, "t", &rs, 1, &latest, err, sizeof(err)) != 0)
        fail_msg("restore: %s", err);
    assert_int_equal(gtp_window_classify(rs.win, nul_id, sizeof(nul_id), T0),
                     GTP_VERDICT_DUPLICATE);
    assert_int_equal(gtp_window_classify(rs.win, "legacy", 6, T0), GTP_VERDICT_DUPLICATE);
    assert_int_equal(gtp_window_classify(rs.win, "nul", 3, T0), GTP_VERDICT_COUNT);
    gtp_window_free(rs.win);

    /* a data file the restore needs is gone: a clear error, not a silent empty state */
    char path[4096];
    snprintf(path, sizeof(path), "%s/date_posted=2024-03-15/region=UK/part-0-0-0.zstd.parquet",
             root);
    assert_int_equal(unlink(path), 0);
    rs = (struct arch_resume){.partition = 0};
    assert_int_equal(arch_state_load(root, "t", &rs, 1, &latest, err, sizeof(err)), GTP_ERR_IO);
    assert_non_null(strstr(err, "part-0-0-0"));
    gtp_window_free(live);
    arch_buckets_fini(&bs);
    rm_rf(root);
    free(root);
}

static void test_fencing(void **state)
{
    char err[512];
    int64_t v = -1, latest = -1;
    (void)state;
    char *root = tmp_root();
    assert_int_equal(gtp_delta_latest_version(root, &latest, err, sizeof(err)), 0);
    /* we read the log at `latest`; another writer takes partition 1 over and commits */
    assert_int_equal(gtp_delta_commit_ex(root, NULL, 0, "gtp-archiver-t-1", 50, -1, NULL, NULL, &v,
                                         err, sizeof(err)),
                     0);
    /* a commit of another partition is no conflict */
    assert_int_equal(gtp_delta_commit_ex(root, NULL, 0, "gtp-archiver-t-2", 7, latest, NULL, NULL,
                                         NULL, err, sizeof(err)),
                     0);
    /* ours, based on what we saw before the takeover, is refused: nothing written */
    int64_t before = -1, after = -1;
    assert_int_equal(gtp_delta_latest_version(root, &before, err, sizeof(err)), 0);
    assert_int_equal(gtp_delta_commit_ex(root, NULL, 0, "gtp-archiver-t-1", 20, latest, NULL, NULL,
                                         NULL, err, sizeof(err)),
                     GTP_ERR_FENCED);
    assert_int_equal(gtp_delta_latest_version(root, &after, err, sizeof(err)), 0);
    assert_true(before == after);
    /* having read the takeover, we may commit again */
    assert_int_equal(gtp_delta_commit_ex(root, NULL, 0, "gtp-archiver-t-1", 60, v, NULL, NULL, NULL,
                                         err, sizeof(err)),
                     0);
    int64_t txn = -1;
    assert_int_equal(gtp_delta_txn_version(root, "gtp-archiver-t-1", &txn, err, sizeof(err)), 0);
    assert_true(txn == 60);
    rm_rf(root);
    free(root);
}

static struct gtp_parquet_row row_of(const char *id)
{
    static const char *skills[] = {"python", "spark"};
    struct gtp_parquet_row r = {
        .event_id = id,
        .posted_at_us = T0,
        .title = "Data Engineer",
        .company = NULL,
        .skills = skills,
        .n_skills = 2,
        .experience_level = "Mid",
        .job_id = "j1",
        .source = "s",
        .location = "London, UK",
        .is_remote = -1,
    };
    return r;
}

static bool exists(const char *root, const char *rel)
{
    char p[1024];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    return stat(p, &st) == 0;
}

static void touch(const char *root, const char *rel)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
}

static void test_buckets_and_clean(void **state)
{
    char err[512];
    struct arch_buckets bs;
    struct gtp_parquet_row r;
    size_t files = 0;
    (void)state;
    char *root = tmp_root();
    arch_buckets_init(&bs, NULL);
    r = row_of("a");
    assert_int_equal(arch_buckets_add(&bs, "2024-03-15", "UK", &r, err, sizeof(err)), 0);
    r = row_of("b");
    assert_int_equal(arch_buckets_add(&bs, "2024-03-15", "UK", &r, err, sizeof(err)), 0);
    r = row_of("c");
    assert_int_equal(arch_buckets_add(&bs, "2024-03-16", "US/East", &r, err, sizeof(err)), 0);
    /* a malformed string never reaches a file, and the row is not counted */
    r = row_of("\xff");
    assert_int_equal(arch_buckets_add(&bs, "2024-03-16", "UK", &r, err, sizeof(err)),
                     GTP_ERR_INVAL);
    assert_int_equal(bs.rows, 3);
    assert_true(bs.bytes > 0);
    assert_int_equal(arch_buckets_write(&bs, root, 3, 10, 20, &files, err, sizeof(err)), 0);
    assert_int_equal(files, 2);
    assert_true(exists(root, "date_posted=2024-03-15/region=UK/part-3-10-20.zstd.parquet"));
    assert_true(exists(root, "date_posted=2024-03-16/region=US%2FEast/part-3-10-20.zstd.parquet"));
    /* the bucket that refused a row stays empty and writes no file */
    assert_false(exists(root, "date_posted=2024-03-16/region=UK/part-3-10-20.zstd.parquet"));
    /* a second call writes nothing again */
    assert_int_equal(arch_buckets_write(&bs, root, 3, 10, 20, &files, err, sizeof(err)), 0);
    assert_int_equal(files, 0);
    struct gtp_delta_add *adds = NULL;
    size_t n = arch_buckets_adds(&bs, &adds);
    assert_int_equal(n, 2);
    int64_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(adds[i].size > 0);
        rows += adds[i].stats->num_rows;
    }
    assert_true(rows == 3);

    /* Before the commit, clean-up from resume 10 removes partition 3's files; a temp file
     * of partition 3 goes too; partition 4's files and partition 3's older ones stay. */
    touch(root, "date_posted=2024-03-15/region=UK/part-4-10-20.zstd.parquet");
    touch(root, "date_posted=2024-03-15/region=UK/part-3-0-9.zstd.parquet");
    touch(root, "date_posted=2024-03-15/region=UK/.part-3-0-4.zstd.parquet.tmp");
    touch(root, "date_posted=2024-03-15/region=UK/.part-4-0-4.zstd.parquet.tmp");
    size_t removed = 0;
    int32_t p3 = 3;
    int64_t from = 10;
    assert_int_equal(arch_state_clean(root, &p3, &from, 1, &removed, err, sizeof(err)), 0);
    assert_int_equal(removed, 3);
    assert_false(exists(root, "date_posted=2024-03-15/region=UK/part-3-10-20.zstd.parquet"));
    assert_false(exists(root, "date_posted=2024-03-15/region=UK/.part-3-0-4.zstd.parquet.tmp"));
    assert_true(exists(root, "date_posted=2024-03-15/region=UK/part-4-10-20.zstd.parquet"));
    assert_true(exists(root, "date_posted=2024-03-15/region=UK/part-3-0-9.zstd.parquet"));
    assert_true(exists(root, "date_posted=2024-03-15/region=UK/.part-4-0-4.zstd.parquet.tmp"));
    free(adds);

    /* A committed file is never cleaned up. */
    arch_buckets_reset(&bs);
    r = row_of("d");
    assert_int_equal(arch_buckets_add(&bs, "2024-03-15", "UK", &r, err, sizeof(err)), 0);
    assert_int_equal(arch_buckets_write(&bs, root, 3, 21, 30, &files, err, sizeof(err)), 0);
    n = arch_buckets_adds(&bs, &adds);
    assert_int_equal(
        gtp_delta_commit(root, adds, n, "gtp-archiver-t-3", 30, NULL, err, sizeof(err)), 0);
    free(adds);
    from = 21;
    assert_int_equal(arch_state_clean(root, &p3, &from, 1, &removed, err, sizeof(err)), 0);
    assert_int_equal(removed, 0);
    assert_true(exists(root, "date_posted=2024-03-15/region=UK/part-3-21-30.zstd.parquet"));
    /* several partitions in one call, each against its own resume point */
    int32_t ps[2] = {3, 4};
    int64_t froms[2] = {21, 0};
    size_t rem[2] = {9, 9};
    assert_int_equal(arch_state_clean(root, ps, froms, 2, rem, err, sizeof(err)), 0);
    assert_true(rem[0] == 0 && rem[1] == 2);
    assert_false(exists(root, "date_posted=2024-03-15/region=UK/part-4-10-20.zstd.parquet"));
    assert_false(exists(root, "date_posted=2024-03-15/region=UK/.part-4-0-4.zstd.parquet.tmp"));
    assert_true(exists(root, "date_posted=2024-03-15/region=UK/part-3-21-30.zstd.parquet"));
    arch_buckets_reset(&bs);
    assert_int_equal(bs.rows, 0);
    arch_buckets_fini(&bs);
    rm_rf(root);
    free(root);
}

/* Every item of a job runs exactly once, on a worker in range, whatever the split. */
static void count_item(void *arg, size_t i, unsigned worker)
{
    int *hits = arg;
    assert_true(worker <= GTP_POOL_MAX_HELPERS);
    __atomic_fetch_add(&hits[i], 1, __ATOMIC_RELAXED);
}

static void test_pool(void **state)
{
    char err[256];
    int hits[5000];
    (void)state;
    assert_null(gtp_pool_new(GTP_POOL_MAX_HELPERS + 1, err, sizeof(err)));
    assert_non_null(strstr(err, "not in 0..16"));
    for (int helpers = 0; helpers <= 3; helpers++) {
        struct gtp_pool *pl = gtp_pool_new(helpers, err, sizeof(err));
        assert_non_null(pl);
        assert_int_equal(gtp_pool_workers(pl), helpers + 1);
        for (size_t n = 0; n <= 5000; n += 1250) {
            for (int claim = 1; claim <= 64; claim *= 8) {
                memset(hits, 0, sizeof(hits));
                gtp_pool_run(pl, n, (size_t)claim, count_item, hits);
                for (size_t i = 0; i < 5000; i++)
                    assert_int_equal(hits[i], i < n ? 1 : 0);
                /* started on the helpers, finished with the waiting thread */
                memset(hits, 0, sizeof(hits));
                gtp_pool_start(pl, n, (size_t)claim, count_item, hits);
                gtp_pool_wait(pl);
                gtp_pool_wait(pl); /* nothing started: no-op */
                for (size_t i = 0; i < 5000; i++)
                    assert_int_equal(hits[i], i < n ? 1 : 0);
            }
        }
        gtp_pool_free(pl);
    }
    gtp_pool_free(NULL);
}

static char *slurp(const char *root, const char *rel, size_t *len)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/* A roll's files written on helper threads are the bytes the calling thread alone writes,
 * with the same stats; and the date_posted of a row is its UTC day either side of the
 * epoch and of midnight (the day text is cached between rows). */
static void test_buckets_on_threads(void **state)
{
    static const char *days[] = {"1969-12-31", "1970-01-01", "2024-03-14", "2024-03-15"};
    static const int64_t at[] = {-1, 0, T0 - 1, T0, T0 + 86399999999LL, -86400000000LL};
    static const char *want[] = {"1969-12-31", "1970-01-01", "2024-03-14",
                                 "2024-03-15", "2024-03-15", "1969-12-31"};
    char err[512];
    char *roots[2] = {tmp_root(), tmp_root()};
    struct gtp_pool *pl = gtp_pool_new(2, err, sizeof(err));
    struct gtp_skills *sk = gtp_skills_load(GTP_TAXONOMY_DEFAULT, err, sizeof(err));
    const char *ids[GTP_SKILLS_MAX];
    (void)state;
    assert_non_null(pl);
    assert_non_null(sk);
    for (int k = 0; k < 2; k++) {
        struct arch_buckets bs;
        size_t files = 0;
        arch_buckets_init(&bs, NULL);
        bs.pool = k ? pl : NULL;
        for (int i = 0; i < 400; i++) {
            char id[32];
            snprintf(id, sizeof(id), "id-%d", i);
            struct gtp_parquet_row r = row_of(id);
            assert_int_equal(
                arch_buckets_add(&bs, days[i % 4], i % 3 ? "UK" : "US", &r, err, sizeof(err)), 0);
        }
        for (size_t i = 0; i < GTP_ARRAY_LEN(at); i++) {
            struct gtp_event ev = {.event_id = {"e", 1},
                                   .title = {"t", 1},
                                   .job_id = {"j", 1},
                                   .source = {"s", 1},
                                   .location = {"Berlin", 6},
                                   .posted_us = at[i],
                                   .is_remote = -1};
            snprintf(ev.region, sizeof(ev.region), "DE");
            assert_int_equal(arch_buckets_add_event(&bs, &ev, sk, ids, err, sizeof(err)), 0);
            assert_string_equal(bs.day_text, want[i]);
        }
        assert_int_equal(arch_buckets_write(&bs, roots[k], 1, 0, 405, &files, err, sizeof(err)), 0);
        assert_int_equal(files, 12); /* 8 from the rows, 4 days of DE */
        arch_buckets_fini(&bs);
    }
    assert_true(exists(roots[1], "date_posted=1969-12-31/region=DE/part-1-0-405.zstd.parquet"));
    for (int d = 0; d < 4; d++) {
        for (int r = 0; r < 2; r++) {
            char rel[256];
            size_t n0, n1;
            snprintf(rel, sizeof(rel), "date_posted=%s/region=%s/part-1-0-405.zstd.parquet",
                     days[d], r ? "UK" : "US");
            char *a = slurp(roots[0], rel, &n0), *b = slurp(roots[1], rel, &n1);
            assert_true(n0 > 0 && n0 == n1 && memcmp(a, b, n0) == 0);
            free(a);
            free(b);
        }
    }
    gtp_skills_free(sk);
    gtp_pool_free(pl);
    for (int k = 0; k < 2; k++) {
        rm_rf(roots[k]);
        free(roots[k]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_names),
        cmocka_unit_test(test_restore_equals_live),
        cmocka_unit_test(test_restore_through_checkpoints),
        cmocka_unit_test(test_info_has_no_ids),
        cmocka_unit_test(test_nul_id_and_old_commits_restored),
        cmocka_unit_test(test_fencing),
        cmocka_unit_test(test_buckets_and_clean),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_buckets_on_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
