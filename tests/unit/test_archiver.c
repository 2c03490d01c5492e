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
#include "state.h"
#include "gtp/delta.h"
#include "gtp/delta_checkpoint.h"
#include "gtp/err.h"
#include "gtp/parquet.h"
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

/* Consume a stream up to a random point committing at random boundaries (also empty
 * rolls), with noise from another partition and topic; restore partition 2 from the log and
 * check that it gives the same verdicts as the window that never stopped. With
 * checkpoints: rolls commit two partitions at once (commitInfo.gtp arrays), a checkpoint is
 * written at random versions, and the commits it covers are deleted before the restore,
 * so the restore must come from the snapshot. */
static void restore_case(unsigned seed, bool checkpoints)
{
    enum { N = 3000 };
    static struct ev evs[N];
    char err[512];
    char *root = tmp_root();
    struct gtp_window *live = gtp_window_new();
    struct gtp_idlist ids = {0}, none = {0};
    size_t stop_at = 200 + (size_t)(seed * 331) % 2500, first = 0;
    int64_t v = -1, last_ckpt = -1;
    make_stream(evs, N, seed);
    for (size_t i = 0; i < stop_at; i++) {
        if (gtp_window_classify(live, evs[i].id, strlen(evs[i].id), evs[i].ts) == GTP_VERDICT_COUNT)
            gtp_idlist_add(&ids, gtp_window_start(evs[i].ts), evs[i].id, strlen(evs[i].id));
        if (rand() % 97 != 0 && i + 1 != stop_at)
            continue;
        json_t *info =
            arch_state_info("t", 2, (int64_t)first, (int64_t)i, gtp_window_max_event(live),
                            gtp_window_watermark(live), &ids);
        if (!checkpoints) {
            assert_int_equal(gtp_delta_commit_ex(root, NULL, 0, "gtp-archiver-t-2", (int64_t)i, -1,
                                                 ARCH_INFO_KEY, info, NULL, err, sizeof(err)),
                             0);
        } else {
            /* one roll for partitions 2 and 4 (4 holds nothing of interest) */
            json_t *arr = json_array();
            json_array_append_new(arr, info);
            json_array_append_new(arr, arch_state_info("t", 4, 0, 0, T0, T0 - 2 * H, &none));
            struct gtp_delta_txn t[2] = {{"gtp-archiver-t-2", (int64_t)i, -1},
                                         {"gtp-archiver-t-4", 0, -1}};
            assert_int_equal(gtp_delta_commit_multi(root, NULL, 0, t, 2, ARCH_INFO_KEY, arr, &v,
                                                    NULL, err, sizeof(err)),
                             0);
            info = arr;
            if (rand() % 3 == 0) {
                assert_int_equal(
                    gtp_delta_checkpoint(root, v, &arch_state_fold, 0, 0, NULL, err, sizeof(err)),
                    0);
                last_ckpt = v;
            }
        }
        json_decref(info);
        gtp_idlist_reset(&ids);
        first = i + 1;
    }
    /* noise: another partition and another topic must not leak in */
    struct gtp_idlist other = {0};
    gtp_idlist_add(&other, gtp_window_start(T0 + 50 * H), evs[stop_at].id, strlen(evs[stop_at].id));
    json_t *info = arch_state_info("t", 3, 0, 5, T0 + 99 * H, T0 + 97 * H, &other);
    assert_int_equal(gtp_delta_commit_ex(root, NULL, 0, "gtp-archiver-t-3", 5, -1, ARCH_INFO_KEY,
                                         info, NULL, err, sizeof(err)),
                     0);
    json_decref(info);
    info = arch_state_info("u", 2, 0, 5, T0 + 99 * H, T0 + 97 * H, &other);
    assert_int_equal(gtp_delta_commit_ex(root, NULL, 0, "gtp-archiver-u-2", 5, -1, ARCH_INFO_KEY,
                                         info, NULL, err, sizeof(err)),
                     0);
    json_decref(info);
    gtp_idlist_fini(&other);
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
    assert_int_equal(arch_state_load(root, "t", &rs, 1, &latest, err, sizeof(err)), 0);
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
    gtp_idlist_fini(&ids);
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

static void test_final_ids_not_carried(void **state)
{
    struct gtp_idlist ids = {0};
    (void)state;
    gtp_idlist_add(&ids, T0, "old", 3);
    gtp_idlist_add(&ids, T0 + 5 * H, "new", 3);
    /* W = T0 + 1h: window [T0, T0+1h) is final (end == W) */
    json_t *info = arch_state_info("t", 0, 1, 2, T0 + 3 * H, T0 + H, &ids);
    json_t *d = json_object_get(info, "dedup");
    assert_int_equal(json_array_size(d), 1);
    assert_string_equal(json_string_value(json_array_get(json_array_get(d, 0), 1)), "new");
    assert_true(json_integer_value(json_array_get(json_array_get(d, 0), 0)) ==
                (T0 + 5 * H) / 1000000);
    json_decref(info);
    /* no valid event yet: no max_event_us */
    gtp_idlist_reset(&ids);
    info = arch_state_info("t", 0, 1, 2, INT64_MIN, GTP_WATERMARK_NONE, &ids);
    assert_null(json_object_get(info, "max_event_us"));
    json_decref(info);
    gtp_idlist_fini(&ids);
}

/* An event id may hold NUL bytes (JSON "\u0000"): the log written with it must
 * stay readable, and a restart must treat that id (not its prefix) as seen. */
static void test_nul_id_restored(void **state)
{
    static const char nul_id[] = {'n', 'u', 'l', '\0', 'i', 'd'};
    char err[512];
    char *root = tmp_root();
    struct gtp_idlist ids = {0};
    struct gtp_window *live = gtp_window_new();
    (void)state;
    assert_int_equal(gtp_window_classify(live, nul_id, sizeof(nul_id), T0), GTP_VERDICT_COUNT);
    gtp_idlist_add(&ids, gtp_window_start(T0), nul_id, sizeof(nul_id));
    json_t *info =
        arch_state_info("t", 0, 0, 0, gtp_window_max_event(live), gtp_window_watermark(live), &ids);
    int64_t v = -1;
    assert_int_equal(gtp_delta_commit_ex(root, NULL, 0, "gtp-archiver-t-0", 0, -1, ARCH_INFO_KEY,
                                         info, &v, err, sizeof(err)),
                     0);
    json_decref(info);
    /* a second commit replays the first to check the log's versions and txn */
    gtp_idlist_reset(&ids);
    info =
        arch_state_info("t", 0, 1, 1, gtp_window_max_event(live), gtp_window_watermark(live), &ids);
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
    assert_int_equal(gtp_window_classify(rs.win, "nul", 3, T0), GTP_VERDICT_COUNT);
    gtp_window_free(rs.win);
    gtp_window_free(live);
    gtp_idlist_fini(&ids);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_names),
        cmocka_unit_test(test_restore_equals_live),
        cmocka_unit_test(test_restore_through_checkpoints),
        cmocka_unit_test(test_final_ids_not_carried),
        cmocka_unit_test(test_nul_id_restored),
        cmocka_unit_test(test_fencing),
        cmocka_unit_test(test_buckets_and_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
