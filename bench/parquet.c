/* bench_parquet: Parquet writer throughput against a JSON-lines baseline on the same
 * realistic enriched rows, and (--fixtures DIR) the fixture writer for
 * tests/integration/test_parquet_readers.py: edge-case files, a million-row file and a
 * small partitioned Delta table, each with the expected rows as JSON lines so the
 * independent readers are compared against the input, not against our own decoder.
 *
 *   bench_parquet [--rows N] [--codec zstd|snappy|none] [--level L] [--dir DIR]
 *   bench_parquet --fixtures DIR */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gtp/delta.h"
#include "gtp/delta_checkpoint.h"
#include "gtp/err.h"
#include "gtp/hive.h"
#include "gtp/parquet.h"
#include "gtp/util.h"

/* ------------------------------------------------------------------------------------------
 * Deterministic realistic rows */

static uint64_t rng_state = 0x243F6A8885A308D3ull;

static uint64_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static const char *const LEVELS[] = {"Intern", "Junior",    "Mid",      "Senior",
                                     "Lead",   "Principal", "Director", "Unspecified"};
static const char *const LEVEL_WORDS[] = {"Intern",    "Junior",      "", "Senior", "Lead",
                                          "Principal", "Director of", ""};
static const char *const ROLES[] = {"Data Engineer",
                                    "Software Engineer",
                                    "Backend Developer",
                                    "Frontend Developer",
                                    "Data Scientist",
                                    "ML Engineer",
                                    "DevOps Engineer",
                                    "Platform Engineer",
                                    "Analytics Engineer",
                                    "Mobile Developer",
                                    "SRE",
                                    "Security Engineer",
                                    "Product Analyst",
                                    "QA Engineer",
                                    "Cloud Architect",
                                    "Full Stack Developer"};
static const char *const SOURCES[] = {"linkedin_sim", "indeed_sim", "glassdoor_sim", "company_site",
                                      "referral_sim"};
static const char *const CITIES[] = {"London, UK",
                                     "Berlin, Germany",
                                     "Paris, France",
                                     "New York, NY, USA",
                                     "Austin, TX, USA",
                                     "San Francisco, CA, USA",
                                     "Toronto, Canada",
                                     "Bengaluru",
                                     "Singapore",
                                     "Sydney, Australia",
                                     "Amsterdam, Netherlands",
                                     "Remote",
                                     "Remote - UK",
                                     "Madrid, Spain",
                                     "Warsaw, Poland",
                                     "São Paulo, Brazil",
                                     "Tokyo, Japan",
                                     "Dublin, Ireland",
                                     "Zürich, Switzerland",
                                     "Stockholm, Sweden",
                                     "Lisbon, Portugal",
                                     "Seattle, WA, USA",
                                     "Munich, Germany",
                                     "Cape Town, South Africa"};
static const char *const SKILLS[] = {"python",     "java",       "javascript", "typescript",
                                     "go",         "rust",       "c",          "cpp",
                                     "scala",      "sql",        "spark",      "kafka",
                                     "airflow",    "dbt",        "snowflake",  "databricks",
                                     "pandas",     "postgresql", "mongodb",    "redis",
                                     "aws",        "azure",      "gcp",        "docker",
                                     "kubernetes", "terraform",  "react",      "nodejs",
                                     "django",     "pytorch",    "tensorflow", "machine-learning",
                                     "tableau",    "git",        "linux"};
static const char *const SYL[] = {"Tech",   "Data", "Cloud", "Nova", "Blue",   "Quant", "Hyper",
                                  "Bright", "Apex", "Lumen", "Core", "Vertex", "Atlas", "Zen"};
static const char *const SUFFIX[] = {"Corp", "Labs", "Systems", "AI",    "Analytics",
                                     "GmbH", "Ltd",  "Inc",     "Group", "Solutions"};

struct genrow {
    char event_id[40];
    char job_id[16];
    char title[96];
    char company[64];
    const char *skills[8];
    size_t n_skills;
    int level;
    int city;
    int source;
    int is_remote;
    int64_t ts;
};

static void gen_row(struct genrow *g, int64_t i)
{
    uint64_t a = rnd(), b = rnd();
    snprintf(g->event_id, sizeof(g->event_id), "%08x-%04x-4%03x-%04x-%012" PRIx64,
             (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xFFFF, (unsigned)a & 0xFFF,
             (unsigned)(0x8000 | ((b >> 48) & 0x3FFF)), (uint64_t)(b & 0xFFFFFFFFFFFFull));
    snprintf(g->job_id, sizeof(g->job_id), "%" PRIu64, 100000 + rnd() % 900000);
    g->level = (int)(rnd() % GTP_ARRAY_LEN(LEVELS));
    const char *lw = LEVEL_WORDS[g->level];
    snprintf(g->title, sizeof(g->title), "%s%s%s", lw, *lw ? " " : "",
             ROLES[rnd() % GTP_ARRAY_LEN(ROLES)]);
    /* Zipf-ish company popularity: a few big employers, a long tail. */
    uint64_t c = rnd() % 1000;
    c = c * c / 1000 / 4;
    snprintf(g->company, sizeof(g->company), "%s%s %s", SYL[c % 14], SYL[(c / 14) % 14],
             SUFFIX[c % 10]);
    g->n_skills = (size_t)(rnd() % 7);
    size_t base = (size_t)(rnd() % GTP_ARRAY_LEN(SKILLS));
    for (size_t k = 0; k < g->n_skills; k++)
        g->skills[k] = SKILLS[(base + k * 3) % GTP_ARRAY_LEN(SKILLS)];
    g->city = (int)(rnd() % GTP_ARRAY_LEN(CITIES));
    g->source = (int)(rnd() % GTP_ARRAY_LEN(SOURCES));
    g->is_remote = g->city == 11 || g->city == 12 ? 1 : (int)(rnd() % 5 == 0);
    g->ts = INT64_C(1710460800000000) + i * 1700000 + (int64_t)(rnd() % 60000000);
}

static void row_from(const struct genrow *g, struct gtp_parquet_row *r)
{
    memset(r, 0, sizeof(*r));
    r->event_id = g->event_id;
    r->posted_at_us = g->ts;
    r->title = g->title;
    r->company = g->company;
    r->skills = g->skills;
    r->n_skills = g->n_skills;
    r->experience_level = LEVELS[g->level];
    r->job_id = g->job_id;
    r->source = SOURCES[g->source];
    r->location = CITIES[g->city];
    r->is_remote = g->is_remote;
}

/* ------------------------------------------------------------------------------------------
 * JSON-lines baseline: a hand-rolled escaper, the cheapest honest serialiser */

static void json_str(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    putc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            putc('\\', f);
            putc(*p, f);
        } else if (*p < 0x20) {
            fprintf(f, "\\u%04x", *p);
        } else {
            putc(*p, f);
        }
    }
    putc('"', f);
}

static void json_row(FILE *f, const struct gtp_parquet_row *r)
{
    fputs("{\"event_id\":", f);
    json_str(f, r->event_id);
    fprintf(f, ",\"posted_at\":%" PRId64 ",\"title\":", r->posted_at_us);
    json_str(f, r->title);
    fputs(",\"company\":", f);
    json_str(f, r->company);
    fputs(",\"skills_array\":", f);
    if (r->skills_null) {
        fputs("null", f);
    } else {
        putc('[', f);
        for (size_t k = 0; k < r->n_skills; k++) {
            if (k)
                putc(',', f);
            json_str(f, r->skills[k]);
        }
        putc(']', f);
    }
    fputs(",\"experience_level\":", f);
    json_str(f, r->experience_level);
    fputs(",\"job_id\":", f);
    json_str(f, r->job_id);
    fputs(",\"source\":", f);
    json_str(f, r->source);
    fputs(",\"location\":", f);
    json_str(f, r->location);
    fprintf(f, ",\"is_remote\":%s}\n", r->is_remote < 0 ? "null" : r->is_remote ? "true" : "false");
}

/* ------------------------------------------------------------------------------------------
 * Bench */

static int bench(int64_t nrows, enum gtp_parquet_codec codec, int level, const char *dir)
{
    char err[512], path[4096];
    struct gtp_parquet_opts o;
    gtp_parquet_opts_default(&o);
    o.codec = codec;
    o.zstd_level = level;
    struct genrow *rows = gtp_xmalloc((size_t)nrows * sizeof(*rows));
    for (int64_t i = 0; i < nrows; i++)
        gen_row(&rows[i], i);
    mkdir(dir, 0755);

    /* Baseline: the same rows as JSON lines. */
    snprintf(path, sizeof(path), "%s/bench.jsonl", dir);
    int64_t t0 = gtp_mono_us();
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    for (int64_t i = 0; i < nrows; i++) {
        struct gtp_parquet_row r;
        row_from(&rows[i], &r);
        json_row(f, &r);
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        perror(path);
        return 1;
    }
    long json_size = ftell(f);
    fclose(f);
    int64_t t_json = gtp_mono_us() - t0;

    struct gtp_parquet_writer *w = gtp_parquet_writer_new(&o);
    struct gtp_parquet_file_stats st = {0};
    t0 = gtp_mono_us();
    for (int64_t i = 0; i < nrows; i++) {
        struct gtp_parquet_row r;
        row_from(&rows[i], &r);
        if (gtp_parquet_add_row(w, &r, err, sizeof(err)) != 0) {
            fprintf(stderr, "add_row: %s\n", err);
            return 1;
        }
    }
    int64_t t_add = gtp_mono_us() - t0;
    if (gtp_parquet_write_file(w, dir, "bench.parquet", &st, err, sizeof(err)) != 0) {
        fprintf(stderr, "write: %s\n", err);
        return 1;
    }
    int64_t t_pq = gtp_mono_us() - t0;

    printf("rows                 %" PRId64 "\n", nrows);
    printf("json lines           %.0f rows/s  %.1f MB  (%.3f s, incl. fsync)\n",
           (double)nrows * 1e6 / (double)t_json, json_size / 1e6, t_json / 1e6);
    printf("parquet %-12s %.0f rows/s  %.1f MB  (%.3f s: add %.3f s, encode+write+fsync %.3f "
           "s)\n",
           gtp_parquet_codec_name(codec), (double)nrows * 1e6 / (double)t_pq, st.file_size / 1e6,
           t_pq / 1e6, t_add / 1e6, (t_pq - t_add) / 1e6);
    printf("size ratio           %.3f (parquet / json lines)\n",
           (double)st.file_size / (double)json_size);
    gtp_parquet_file_stats_fini(&st);
    gtp_parquet_writer_free(w);
    free(rows);
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Fixtures */

struct fixture {
    FILE *expected;
    struct gtp_parquet_writer *w;
};

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Add a row to the writer and its expected JSON line (extra: partition columns). */
static void fx_add(struct fixture *fx, const struct gtp_parquet_row *r, const char *date,
                   const char *region)
{
    char err[256];
    if (gtp_parquet_add_row(fx->w, r, err, sizeof(err)) != 0) {
        fprintf(stderr, "fixture row rejected: %s\n", err);
        exit(1);
    }
    json_t *skills = json_null();
    if (!r->skills_null) {
        skills = json_array();
        for (size_t k = 0; k < r->n_skills; k++)
            json_array_append_new(skills, jstr(r->skills[k]));
    }
    json_t *o = json_pack("{s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "event_id",
                          jstr(r->event_id), "posted_at", (json_int_t)r->posted_at_us, "title",
                          jstr(r->title), "company", jstr(r->company), "skills_array", skills,
                          "experience_level", jstr(r->experience_level), "job_id", jstr(r->job_id),
                          "source", jstr(r->source), "location", jstr(r->location), "is_remote",
                          r->is_remote < 0 ? json_null() : json_boolean(r->is_remote));
    if (date || region) {
        json_object_set_new(o, "date_posted", jstr(date));
        json_object_set_new(o, "region", jstr(region));
    }
    char *line = json_dumps(o, JSON_COMPACT);
    fprintf(fx->expected, "%s\n", line);
    free(line);
    json_decref(o);
}

static int fx_open(struct fixture *fx, const char *dir, const char *name,
                   const struct gtp_parquet_opts *o)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.jsonl", dir, name);
    fx->expected = fopen(path, "w");
    if (!fx->expected) {
        perror(path);
        return -1;
    }
    fx->w = gtp_parquet_writer_new(o);
    return fx->w ? 0 : -1;
}

static int fx_close(struct fixture *fx, const char *dir, const char *name)
{
    char err[512], file[512];
    struct gtp_parquet_file_stats st = {0};
    snprintf(file, sizeof(file), "%s.parquet", name);
    int rc = gtp_parquet_write_file(fx->w, dir, file, &st, err, sizeof(err));
    if (rc)
        fprintf(stderr, "%s: %s\n", file, err);
    gtp_parquet_file_stats_fini(&st);
    gtp_parquet_writer_free(fx->w);
    fclose(fx->expected);
    return rc;
}

/* Edge cases: lists (null, empty, null element), empty strings, unicode, 1 MiB string,
 * nulls everywhere allowed, negative and extreme timestamps. */
static void fx_edge_rows(struct fixture *fx)
{
    static const char *const two[] = {"python", "spark"};
    static const char *const with_null[] = {"go", NULL, "rust"};
    static const char *const only_null[] = {NULL};
    static const char *const uni[] = {"c++", "日本語", "emoji 🚀", "", "ß"};
    char *big = gtp_xmalloc((1u << 20) + 1);
    for (size_t i = 0; i < (1u << 20); i++)
        big[i] = (char)('a' + i % 26);
    big[1u << 20] = 0;

    struct gtp_parquet_row r = {0};
    r = (struct gtp_parquet_row){"e-001",
                                 INT64_C(1710498600000000),
                                 "Senior Data Engineer",
                                 "Tech Corp",
                                 two,
                                 2,
                                 false,
                                 "Senior",
                                 "123456",
                                 "linkedin_sim",
                                 "London, UK",
                                 1};
    fx_add(fx, &r, NULL, NULL);
    r = (struct gtp_parquet_row){
        "e-002", INT64_C(1710498600000001), "t", NULL, NULL, 0, true, NULL, "1", NULL, NULL, -1};
    fx_add(fx, &r, NULL, NULL); /* null list, null everything optional */
    r = (struct gtp_parquet_row){"e-003", 0, "", "", NULL, 0, false, "", "", "", "", 0};
    fx_add(fx, &r, NULL, NULL); /* empty list, empty strings, epoch */
    r = (struct gtp_parquet_row){"e-004",     INT64_C(-1000001),
                                 "Pre-epoch", "Old Co",
                                 with_null,   3,
                                 false,       "Mid",
                                 "2",         "s",
                                 "Zürich",    0};
    fx_add(fx, &r, NULL, NULL);
    r = (struct gtp_parquet_row){"e-005",
                                 INT64_C(4102444799999999),
                                 "Ünïcödé 职位 🚀 Ingénieur",
                                 "Société Générale",
                                 uni,
                                 5,
                                 false,
                                 "Lead",
                                 "3",
                                 "indeed_sim",
                                 "São Paulo, Brazil",
                                 1};
    fx_add(fx, &r, NULL, NULL);
    r = (struct gtp_parquet_row){
        "e-006", INT64_C(1710498600000000), big, big, only_null, 1, false, "Intern", "4", "x", big,
        1};
    fx_add(fx, &r, NULL, NULL); /* 1 MiB strings; [null] */
    r = (struct gtp_parquet_row){"e-007",
                                 INT64_C(1710498600000000),
                                 "quotes \" back\\slash \t tab \n newline",
                                 "ctl \x01\x1f",
                                 two,
                                 1,
                                 false,
                                 "Principal",
                                 "5",
                                 "s",
                                 "a=b/c%d:e",
                                 0};
    fx_add(fx, &r, NULL, NULL);
    /* Enough repeats that dictionaries and RLE runs kick in. */
    for (int i = 0; i < 3000; i++) {
        char id[32], job[32];
        snprintf(id, sizeof(id), "r-%05d", i);
        snprintf(job, sizeof(job), "%d", i % 50);
        r = (struct gtp_parquet_row){id,
                                     INT64_C(1710000000000000) + i * INT64_C(1000003),
                                     i % 3 ? "Data Engineer" : "Analyst",
                                     i % 4 ? "Acme" : NULL,
                                     with_null,
                                     (size_t)(i % 4),
                                     i % 10 == 0,
                                     i % 2 ? "Senior" : "Junior",
                                     job,
                                     "linkedin_sim",
                                     i % 7 ? "Berlin, Germany" : NULL,
                                     i % 3 - 1};
        fx_add(fx, &r, NULL, NULL);
    }
    free(big);
}

static int fixtures(const char *dir)
{
    struct gtp_parquet_opts o;
    struct fixture fx;
    char err[512];
    int rc = 0;

    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        perror(dir);
        return 1;
    }
    static const struct {
        const char *name;
        enum gtp_parquet_codec codec;
    } codecs[] = {{"edge_zstd", GTP_PARQUET_ZSTD},
                  {"edge_snappy", GTP_PARQUET_SNAPPY},
                  {"edge_uncompressed", GTP_PARQUET_UNCOMPRESSED}};
    for (size_t c = 0; c < GTP_ARRAY_LEN(codecs) && !rc; c++) {
        gtp_parquet_opts_default(&o);
        o.codec = codecs[c].codec;
        if (fx_open(&fx, dir, codecs[c].name, &o))
            return 1;
        fx_edge_rows(&fx);
        rc = fx_close(&fx, dir, codecs[c].name);
    }

    /* Many row groups and pages, PLAIN only. */
    gtp_parquet_opts_default(&o);
    o.row_group_rows = 1000;
    o.page_bytes = 4096;
    o.no_dictionary = true;
    if (!rc && !(rc = fx_open(&fx, dir, "multi_rg_plain", &o))) {
        fx_edge_rows(&fx);
        rc = fx_close(&fx, dir, "multi_rg_plain");
    }
    /* Same with dictionaries. */
    o.no_dictionary = false;
    if (!rc && !(rc = fx_open(&fx, dir, "multi_rg_dict", &o))) {
        fx_edge_rows(&fx);
        rc = fx_close(&fx, dir, "multi_rg_dict");
    }

    /* One row; all-null optional columns; empty file. */
    gtp_parquet_opts_default(&o);
    if (!rc && !(rc = fx_open(&fx, dir, "one_row", &o))) {
        struct gtp_parquet_row r = {
            "only", INT64_C(1710498600123456), "One", NULL, NULL, 0, false, NULL, "9", NULL, NULL,
            -1};
        fx_add(&fx, &r, NULL, NULL);
        rc = fx_close(&fx, dir, "one_row");
    }
    if (!rc && !(rc = fx_open(&fx, dir, "all_null", &o))) {
        for (int i = 0; i < 500; i++) {
            char id[32];
            snprintf(id, sizeof(id), "n-%03d", i);
            struct gtp_parquet_row r = {
                id, INT64_C(1710498600000000), "T", NULL, NULL, 0, true, NULL, "j", NULL, NULL, -1};
            fx_add(&fx, &r, NULL, NULL);
        }
        rc = fx_close(&fx, dir, "all_null");
    }
    if (!rc && !(rc = fx_open(&fx, dir, "empty", &o)))
        rc = fx_close(&fx, dir, "empty");

    /* A million realistic rows. */
    if (!rc && !(rc = fx_open(&fx, dir, "million", &o))) {
        for (int64_t i = 0; i < 1000000; i++) {
            struct genrow g;
            struct gtp_parquet_row r;
            gen_row(&g, i);
            row_from(&g, &r);
            fx_add(&fx, &r, NULL, NULL);
        }
        rc = fx_close(&fx, dir, "million");
    }
    if (rc)
        return 1;

    /* A Delta table: a few partitions (incl. a null region and values that need
     * escaping), three commits, txn for two app ids. */
    char root[4096], path[4096];
    snprintf(root, sizeof(root), "%s/table", dir);
    if (gtp_delta_create(root, err, sizeof(err)) != 0) {
        fprintf(stderr, "delta create: %s\n", err);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/table.jsonl", dir);
    FILE *expected = fopen(path, "w");
    static const struct {
        const char *date;
        const char *region;
        int commit;
    } parts[] = {{"2024-03-15", "UK", 1},          {"2024-03-15", "US", 1},
                 {"2024-03-16", "UK", 1},          {"2024-03-16", NULL, 2},
                 {"2024-03-16", "US/East:1=%", 2}, {"2024-03-17", "Zürich é", 2}};
    static const char *const pcols[] = {"date_posted", "region"};
    struct gtp_delta_add adds[6];
    struct gtp_parquet_file_stats stats[6];
    char relpaths[6][512];
    int64_t seq = 0;
    memset(stats, 0, sizeof(stats));
    for (size_t p = 0; p < GTP_ARRAY_LEN(parts); p++) {
        char rel[512];
        const char *vals[] = {parts[p].date, parts[p].region};
        if (gtp_hive_partition_dir(pcols, vals, 2, rel, sizeof(rel)) < 0 ||
            gtp_hive_mkdirs(root, rel, err, sizeof(err)) != 0) {
            fprintf(stderr, "partition dir: %s\n", err);
            return 1;
        }
        gtp_parquet_opts_default(&o);
        fx.expected = expected;
        fx.w = gtp_parquet_writer_new(&o);
        int n = 50 + (int)p * 37;
        for (int i = 0; i < n; i++) {
            struct genrow g;
            struct gtp_parquet_row r;
            gen_row(&g, seq++);
            row_from(&g, &r);
            /* posted_at inside the partition's day */
            int day = parts[p].date[9] - '0' + 10 * (parts[p].date[8] - '0');
            r.posted_at_us = (INT64_C(1710460800) + (int64_t)(day - 15) * 86400) * 1000000 +
                             (int64_t)(rnd() % 86400000000ull);
            fx_add(&fx, &r, parts[p].date, parts[p].region);
        }
        char name[64], dirpath[4096];
        snprintf(name, sizeof(name), "part-%zu-%d-%d.zstd.parquet", p, 0, n - 1);
        if ((size_t)snprintf(dirpath, sizeof(dirpath), "%s/%s", root, rel) >= sizeof(dirpath))
            return 1;
        if (gtp_parquet_write_file(fx.w, dirpath, name, &stats[p], err, sizeof(err)) != 0) {
            fprintf(stderr, "write: %s\n", err);
            return 1;
        }
        gtp_parquet_writer_free(fx.w);
        if ((size_t)snprintf(relpaths[p], sizeof(relpaths[p]), "%s/%s", rel, name) >=
            sizeof(relpaths[p]))
            return 1;
        struct stat sb;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, relpaths[p]) >= sizeof(path) ||
            stat(path, &sb) != 0)
            return 1;
        adds[p] = (struct gtp_delta_add){relpaths[p],
                                         {parts[p].date, parts[p].region},
                                         sb.st_size,
                                         (int64_t)sb.st_mtime * 1000,
                                         &stats[p]};
    }
    fclose(expected);
    int64_t v;
    if (gtp_delta_commit(root, adds, 3, "gtp-archiver-p0", 41, &v, err, sizeof(err)) != 0 ||
        gtp_delta_commit(root, adds + 3, 3, "gtp-archiver-p1", 7, &v, err, sizeof(err)) != 0 ||
        gtp_delta_commit(root, NULL, 0, "gtp-archiver-p0", 99, &v, err, sizeof(err)) != 0) {
        fprintf(stderr, "delta commit: %s\n", err);
        return 1;
    }
    for (size_t p = 0; p < GTP_ARRAY_LEN(parts); p++)
        gtp_parquet_file_stats_fini(&stats[p]);
    /* and its checkpoint, which readers must be able to start from alone */
    if (gtp_delta_checkpoint(root, v, NULL, -1, 0, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "delta checkpoint: %s\n", err);
        return 1;
    }
    printf("fixtures written to %s (delta version %" PRId64 ", checkpointed)\n", dir, v);
    return 0;
}

int main(int argc, char **argv)
{
    int64_t rows = 1000000;
    enum gtp_parquet_codec codec = GTP_PARQUET_ZSTD;
    int level = 3;
    const char *dir = "bench/results";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fixtures") == 0 && i + 1 < argc)
            return fixtures(argv[i + 1]);
        if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
            rows = atoll(argv[++i]);
        else if (strcmp(argv[i], "--codec") == 0 && i + 1 < argc) {
            if (gtp_parquet_codec_parse(argv[++i], &codec) != 0) {
                fprintf(stderr, "unknown codec %s\n", argv[i]);
                return 64;
            }
        } else if (strcmp(argv[i], "--level") == 0 && i + 1 < argc)
            level = atoi(argv[++i]);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else {
            fprintf(stderr,
                    "usage: %s [--rows N] [--codec zstd|snappy|none] [--level L] [--dir DIR]\n"
                    "       %s --fixtures DIR\n",
                    argv[0], argv[0]);
            return strcmp(argv[i], "--help") == 0 ? 0 : 64;
        }
    }
    if (rows <= 0) {
        fprintf(stderr, "--rows must be positive\n");
        return 64;
    }
    return bench(rows, codec, level, dir);
}
