/* The Delta log beyond single-partition commits: one commit for several partitions
 * (gtp_delta_commit_multi) and its fencing, replay from a snapshot when older commits were
 * cleaned up, GTP_ERR_STALE for a writer whose read position was cleaned up, and the
 * window iteration that checkpoint snapshots are built from. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gtp/delta.h"
#include "gtp/delta_checkpoint.h"
#include "gtp/err.h"
#include "gtp/window.h"

static char *make_root(void)
{
    static char tmpl[64];
    snprintf(tmpl, sizeof(tmpl), "/tmp/gtp-test-delta-XXXXXX");
    assert_non_null(mkdtemp(tmpl));
    return tmpl;
}

static void rm_rf(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

struct txns_seen {
    char app[8][32];
    int64_t version[8];
    int n;
    int gtp_entries;
};

static int collect(const char *name, json_t *val, int64_t version, void *ctx)
{
    struct txns_seen *t = ctx;
    (void)version;
    if (strcmp(name, "txn") == 0) {
        const char *app = json_string_value(json_object_get(val, "appId"));
        int i = 0;
        while (i < t->n && strcmp(t->app[i], app) != 0)
            i++;
        if (i == t->n)
            snprintf(t->app[t->n++], sizeof(t->app[0]), "%s", app);
        t->version[i] = json_integer_value(json_object_get(val, "version"));
    } else if (strcmp(name, "commitInfo") == 0) {
        json_t *g = json_object_get(val, "gtp");
        t->gtp_entries += json_is_array(g) ? (int)json_array_size(g) : g != NULL;
    }
    return 0;
}

static int64_t txn_of(const struct txns_seen *t, const char *app)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->app[i], app) == 0)
            return t->version[i];
    return -1;
}

static void test_commit_multi(void **state)
{
    (void)state;
    char *root = make_root(), err[512];
    int64_t v = -1;
    size_t fenced = 99;
    assert_int_equal(gtp_delta_create(root, err, sizeof(err)), 0);

    /* one commit, three partitions, their state as an array */
    struct gtp_delta_txn t[3] = {{"p0", 10, 0}, {"p1", 20, 0}, {"p2", 30, 0}};
    json_t *info =
        json_pack("[{s:i}, {s:i}, {s:i}]", "partition", 0, "partition", 1, "partition", 2);
    assert_int_equal(
        gtp_delta_commit_multi(root, NULL, 0, t, 3, "gtp", info, &v, &fenced, err, sizeof(err)), 0);
    assert_int_equal(v, 1);
    struct txns_seen seen = {0};
    assert_int_equal(gtp_delta_replay(root, collect, &seen, NULL, err, sizeof(err)), 0);
    assert_int_equal(seen.n, 3);
    assert_int_equal(txn_of(&seen, "p1"), 20);
    assert_int_equal(seen.gtp_entries, 3);

    /* another writer takes p1 (a fencing commit of its txn) */
    assert_int_equal(
        gtp_delta_commit_ex(root, NULL, 0, "p1", 20, 1, NULL, NULL, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 2);
    /* the first writer, having read up to version 1, is fenced on p1 only */
    struct gtp_delta_txn t2[3] = {{"p0", 11, 1}, {"p1", 21, 1}, {"p2", 31, 1}};
    assert_int_equal(
        gtp_delta_commit_multi(root, NULL, 0, t2, 3, "gtp", info, &v, &fenced, err, sizeof(err)),
        GTP_ERR_FENCED);
    assert_int_equal(fenced, 1);
    assert_non_null(strstr(err, "p1"));
    /* without p1 it commits; p0 and p2 move, p1 stays where its new owner put it */
    struct gtp_delta_txn t3[2] = {{"p0", 11, 1}, {"p2", 31, 1}};
    assert_int_equal(
        gtp_delta_commit_multi(root, NULL, 0, t3, 2, "gtp", NULL, &v, &fenced, err, sizeof(err)),
        0);
    assert_int_equal(v, 3);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(gtp_delta_replay(root, collect, &seen, NULL, err, sizeof(err)), 0);
    assert_int_equal(txn_of(&seen, "p0"), 11);
    assert_int_equal(txn_of(&seen, "p1"), 20);
    assert_int_equal(txn_of(&seen, "p2"), 31);
    json_decref(info);
    rm_rf(root);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A snapshot stands in for the commits before it: readers start there, and they do even
 * when those commits are gone; a writer whose read position was cleaned up is told so. */
static void test_replay_from_snapshot(void **state)
{
    (void)state;
    char *root = make_root(), err[512], path[4200];
    int64_t v = -1, latest = -1, from = -2;
    assert_int_equal(gtp_delta_create(root, err, sizeof(err)), 0);
    for (int i = 1; i <= 4; i++)
        assert_int_equal(
            gtp_delta_commit_ex(root, NULL, 0, "p0", i * 100, -1, NULL, NULL, &v, err, sizeof(err)),
            0);
    /* a snapshot at version 2 that says p0 is at 200 and q9 (unknown to the commits) at 7 */
    snprintf(path, sizeof(path), "%s/" GTP_DELTA_SNAPSHOT_DIR, root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/" GTP_DELTA_SNAPSHOT_DIR "/%020d.json", root, 2);
    write_text(path, "{\"txn\":{\"appId\":\"p0\",\"version\":200}}\n"
                     "{\"txn\":{\"appId\":\"q9\",\"version\":7}}\n"
                     "{\"commitInfo\":{\"gtp\":[{\"partition\":0},{\"partition\":1}]}}\n");
    struct txns_seen seen = {0};
    assert_int_equal(
        gtp_delta_replay_until(root, INT64_MAX, collect, &seen, &latest, &from, err, sizeof(err)),
        0);
    assert_int_equal(from, 2);
    assert_int_equal(latest, 4);
    assert_int_equal(txn_of(&seen, "q9"), 7); /* came from the snapshot */
    assert_int_equal(txn_of(&seen, "p0"), 400);
    assert_int_equal(seen.gtp_entries, 2);

    /* until 1: the snapshot is newer, the replay starts at version 0 */
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(
        gtp_delta_replay_until(root, 1, collect, &seen, &latest, &from, err, sizeof(err)), 0);
    assert_int_equal(from, -1);
    assert_int_equal(latest, 1);
    assert_int_equal(txn_of(&seen, "p0"), 100);
    assert_int_equal(txn_of(&seen, "q9"), -1);

    /* commits 0..2 cleaned up: still readable through the snapshot */
    for (int i = 0; i <= 2; i++) {
        snprintf(path, sizeof(path), "%s/_delta_log/%020d.json", root, i);
        assert_int_equal(unlink(path), 0);
    }
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(gtp_delta_replay(root, collect, &seen, &latest, err, sizeof(err)), 0);
    assert_int_equal(txn_of(&seen, "p0"), 400);
    /* a writer that read up to version 1 cannot be checked against version 2 any more */
    assert_int_equal(
        gtp_delta_commit_ex(root, NULL, 0, "p0", 500, 1, NULL, NULL, &v, err, sizeof(err)),
        GTP_ERR_STALE);
    /* one that read up to 4 commits */
    assert_int_equal(
        gtp_delta_commit_ex(root, NULL, 0, "p0", 500, 4, NULL, NULL, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 5);

    /* without the snapshot, the gap is an error, not a silent partial state */
    snprintf(path, sizeof(path), "%s/" GTP_DELTA_SNAPSHOT_DIR "/%020d.json", root, 2);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(gtp_delta_replay(root, collect, &seen, &latest, err, sizeof(err)),
                     GTP_ERR_PARSE);
    rm_rf(root);
}

/* root/<dir>/<20-digit v><suffix> exists */
static bool exists(const char *root, const char *dir, int64_t v, const char *suffix)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s/%020lld%s", root, dir, (long long)v, suffix);
    return access(path, F_OK) == 0;
}

/* Cleanup keeps every version inside the retention readable and deletes what the newest
 * old-enough checkpoint covers. */
static void test_cleanup(void **state)
{
    (void)state;
    char *root = make_root(), err[512];
    int64_t v = -1, latest = -1;
    size_t removed = 99;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    assert_int_equal(gtp_delta_create(root, err, sizeof(err)), 0);
    for (int i = 1; i <= 11; i++) {
        assert_int_equal(
            gtp_delta_commit_ex(root, NULL, 0, "p0", i, -1, NULL, NULL, &v, err, sizeof(err)), 0);
        if (i == 5 || i == 10)
            assert_int_equal(gtp_delta_checkpoint(root, v, NULL, -1, 0, NULL, err, sizeof(err)), 0);
    }
    assert_int_equal(gtp_delta_last_checkpoint(root), 10);
    /* everything is younger than a day: nothing goes */
    assert_int_equal(gtp_delta_cleanup(root, 86400000, now_ms, &removed, err, sizeof(err)), 0);
    assert_int_equal(removed, 0);
    assert_true(exists(root, "_delta_log", 0, ".json"));
    /* a minute later with a 1 s retention: commits 0..9, checkpoint 5 and its snapshot go */
    assert_int_equal(gtp_delta_cleanup(root, 1000, now_ms + 60000, &removed, err, sizeof(err)), 0);
    assert_int_equal(removed, 10 + 2);
    assert_false(exists(root, "_delta_log", 9, ".json"));
    assert_false(exists(root, "_delta_log", 5, ".checkpoint.parquet"));
    assert_false(exists(root, GTP_DELTA_SNAPSHOT_DIR, 5, ".json"));
    assert_true(exists(root, "_delta_log", 10, ".json"));
    assert_true(exists(root, "_delta_log", 10, ".checkpoint.parquet"));
    assert_true(exists(root, GTP_DELTA_SNAPSHOT_DIR, 10, ".json"));
    struct txns_seen seen = {0};
    assert_int_equal(gtp_delta_replay(root, collect, &seen, &latest, err, sizeof(err)), 0);
    assert_int_equal(latest, 11);
    assert_int_equal(txn_of(&seen, "p0"), 11);
    /* the table property is the default retention; intervals parse as Delta writes them */
    int64_t ms = 0;
    assert_int_equal(gtp_delta_interval_ms("interval 30 days", &ms), 0);
    assert_true(ms == 30LL * 86400000);
    assert_int_equal(gtp_delta_interval_ms("2 hours", &ms), 0);
    assert_true(ms == 7200000);
    assert_int_equal(gtp_delta_interval_ms("interval 1 week", &ms), 0);
    assert_true(ms == 604800000);
    assert_int_equal(gtp_delta_interval_ms("30 fortnights", &ms), GTP_ERR_PARSE);
    assert_int_equal(gtp_delta_interval_ms("days", &ms), GTP_ERR_PARSE);
    rm_rf(root);
}

struct ids {
    char v[64][40];
    int64_t ws[64];
    size_t len[64];
    int n;
};

static void take_id(int64_t ws, const char *id, size_t len, void *ctx)
{
    struct ids *s = ctx;
    assert_true(s->n < 64 && len < 40);
    memcpy(s->v[s->n], id, len);
    s->len[s->n] = len;
    s->ws[s->n++] = ws;
}

/* What gtp_window_foreach_id lists rebuilds the same verdicts. */
static void test_window_foreach(void **state)
{
    (void)state;
    const int64_t H = GTP_WINDOW_US, t0 = 1710496800LL * 1000000; /* 2024-03-15T10:00Z */
    struct gtp_window *w = gtp_window_new(), *r = gtp_window_new();
    static const char *const ids[] = {"3f1c2a4e-9b7d-4c1e-8f2a-0b1c2d3e4f5a", "not-a-uuid",
                                      "3F1C2A4E-9B7D-4C1E-8F2A-0B1C2D3E4F5A", "x"};
    struct ids got = {0};
    assert_int_equal(gtp_window_classify(w, ids[0], strlen(ids[0]), t0), GTP_VERDICT_COUNT);
    assert_int_equal(gtp_window_classify(w, ids[1], strlen(ids[1]), t0 + H), GTP_VERDICT_COUNT);
    assert_int_equal(gtp_window_classify(w, ids[2], strlen(ids[2]), t0 + H), GTP_VERDICT_COUNT);
    assert_int_equal(gtp_window_classify(w, "a\0b", 3, t0 + 2 * H), GTP_VERDICT_COUNT);
    assert_int_equal(gtp_window_classify(w, ids[3], 1, t0 + 3 * H), GTP_VERDICT_COUNT);
    /* t0's window is final now (W = t0 + 1h): it is not listed */
    gtp_window_foreach_id(w, take_id, &got);
    assert_int_equal(got.n, (int)gtp_window_dedup_size(w));
    assert_int_equal(got.n, 4);
    gtp_window_restore_max(r, gtp_window_max_event(w));
    for (int i = 0; i < got.n; i++)
        gtp_window_restore_id(r, got.ws[i], got.v[i], got.len[i]);
    assert_int_equal(gtp_window_dedup_size(r), 4);
    /* the same verdicts from both */
    struct {
        const char *id;
        size_t len;
        int64_t ts;
    } probe[] = {{ids[1], strlen(ids[1]), t0 + H}, {ids[2], strlen(ids[2]), t0 + H + 5},
                 {"a\0b", 3, t0 + 2 * H},          {ids[0], strlen(ids[0]), t0 + 3 * H},
                 {ids[0], strlen(ids[0]), t0},     {"fresh", 5, t0 + 4 * H}};
    for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++)
        assert_int_equal(gtp_window_classify(w, probe[i].id, probe[i].len, probe[i].ts),
                         gtp_window_classify(r, probe[i].id, probe[i].len, probe[i].ts));
    gtp_window_free(w);
    gtp_window_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_multi),
        cmocka_unit_test(test_replay_from_snapshot),
        cmocka_unit_test(test_cleanup),
        cmocka_unit_test(test_window_foreach),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
