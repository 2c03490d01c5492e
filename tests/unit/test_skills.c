/* Unit tests of the skill matcher: trap and positive cases, the labelled
 * corpus scored for precision/recall, taxonomy validation and robustness. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "spec_skill_ids.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gtp/skills.h"
#include "gtp/util.h"

#define TAXONOMY GTP_TEST_DATA "/../../taxonomy"

static struct gtp_skills *sk;

static int setup(void **state)
{
    char err[512];
    (void)state;
    sk = gtp_skills_load(TAXONOMY, err, sizeof(err));
    if (sk == NULL)
        fprintf(stderr, "load: %s\n", err);
    return sk == NULL;
}

static int teardown(void **state)
{
    (void)state;
    gtp_skills_free(sk);
    return 0;
}

/* Space-separated ids in taxonomy order. */
static void set_str(const struct gtp_skill_set *set, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < gtp_skills_count(sk); i++)
        if (gtp_skill_set_has(set, i))
            n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? " " : "",
                                  gtp_skills_id(sk, i));
}

/* expected: space-separated ids in any order; the match must be exactly that set. */
static int check(const char *text, const char *expected)
{
    struct gtp_skill_set got = {0}, want = {0};
    char ebuf[512], gbuf[2048], wbuf[2048];
    assert_int_equal(gtp_skills_match(sk, text, strlen(text), &got), 0);
    snprintf(ebuf, sizeof(ebuf), "%s", expected);
    for (char *save = NULL, *id = strtok_r(ebuf, " ", &save); id; id = strtok_r(NULL, " ", &save)) {
        int k = gtp_skills_find(sk, id);
        if (k < 0)
            fail_msg("unknown id in test table: %s", id);
        gtp_skill_set_add(&want, (size_t)k);
    }
    if (memcmp(&got, &want, sizeof(got)) != 0) {
        set_str(&got, gbuf, sizeof(gbuf));
        set_str(&want, wbuf, sizeof(wbuf));
        print_error("text: %s\n   got: [%s]\n  want: [%s]\n", text, gbuf, wbuf);
        return 0;
    }
    return 1;
}

static const struct {
    const char *text, *skills;
} cases[] = {
    /* the traps and aliases of docs/events.md */
    {"We need Spark, Kafka, and Python expert", "spark kafka python"},
    {"Strong C++ and C# skills; .NET and Node.js", "cpp csharp dotnet nodejs"},
    {"JavaScript and TypeScript only", "javascript typescript"},
    {"Java, JavaScript", "java javascript"},
    {"NoSQL, PostgreSQL, MySQL", "nosql postgresql mysql"},
    {"NoSQL stores like MongoDB", "nosql mongodb"},
    {"React Native developer", "react-native"},
    {"React and React Native", "react react-native"},
    {"go above and beyond", ""},
    {"Go above and beyond for our customers.", ""},
    {"Let's go!", ""},
    {"LET'S GO", ""},
    {"We spark innovation every day", ""},
    {"Spark innovation in a team that values joy", ""},
    {"You will excel at stakeholder management", ""},
    {"Excel in a fast-paced environment", ""},
    {"Join our R&D team", ""},
    {"a Series C startup", ""},
    {"Series C funded.", ""},
    {"Spring 2025 internship", ""},
    {"spring 2025 cohort", ""},
    {"Start date: Spring 2026.", ""},
    {"trust and safety", ""},
    {"swift delivery of features", ""},
    {"Swift delivery matters", ""},
    {"ruby red grapefruit", ""},
    {"the rust belt", ""},
    {"the Rust Belt", ""},
    {"C-suite reporting", ""},
    {"vitamin C", ""},
    {"golang, k8s, postgres, sklearn", "go kubernetes postgresql scikit-learn"},
    {"PySpark", "spark python"},
    {"C/C++", "c cpp"},
    {"C/C++ firmware", "c cpp embedded"},
    /* positives for the ambiguous words */
    {"Experience with Go and Rust", "go rust"},
    {"We write our services in Go.", "go"},
    {"Go developer", "go"},
    {"Go 1.22, gRPC", "go grpc"},
    {"Python, R, SQL", "python r sql"},
    {"Proficiency in R.", "r"},
    {"Embedded C developer", "c"},
    {"Programming in C.", "c"},
    {"Advanced Excel skills", "excel"},
    {"MS Excel and PowerPoint", "excel"},
    {"Java/Spring", "java spring"},
    {"Spring Boot microservices", "spring microservices"},
    {"Apache Spark", "spark"},
    {"spark, kafka and flink", "spark kafka flink"},
    {"Swift, SwiftUI", "swift swiftui"},
    {"Ruby, Python", "ruby python"},
    {"React, Angular or Vue", "react angular vue"},
    {"react quickly to incidents", ""},
    {"angular momentum sensors", ""},
    {"Hive, Presto", "hive presto"},
    {"a hive of activity", ""},
    {"airflow management for data centres", ""},
    {"Apache Airflow", "airflow"},
    {"DBT therapy skills group", ""},
    {"dbt and Snowflake", "dbt snowflake"},
    {"flasks and beakers", ""},
    {"Python (Flask)", "python flask"},
    {"Contact Sarah Jenkins", ""},
    {"Jenkins pipelines", "jenkins"},
    {"CI/CD with Jenkins", "ci-cd jenkins"},
    {"AI-powered platform", ""},
    {"5 ml of solution", ""},
    {"ML engineer", "machine-learning"},
    {"Python3 and Vue3", "python vue"},
    {"Node/Express", "nodejs express"},
    {"American Express", ""},
    {"Head Chef", ""},
    {"Chef, Puppet, Ansible", "chef puppet ansible"},
    {"Pythonic code", ""},
    {"Pythonía", ""},
    {"\xe7\x86\x9f\xe6\x82\x89Python\xe5\x92\x8cJava", "python java"},
    {"\xe2\x80\xa2 Python \xe2\x80\xa2 Kafka", "python kafka"},
    {"ASP.NET Core", "dotnet aspnet"},
    {"Apache\n   Kafka", "kafka"},
    {"mysql", "mysql"},
    {"T-SQL and PL/SQL", "sql plsql"},
    {"AWS Lambda", "aws aws-lambda"},
    {"Objective-C", "objective-c"},
    {"Unix shell scripting", "unix bash"},
    {"Microsoft SQL Server", "sql sql-server"},
    {"", ""},
};

static void test_cases(void **state)
{
    int bad = 0;
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        bad += !check(cases[i].text, cases[i].skills);
    assert_int_equal(bad, 0);
}

/* Micro-averaged precision and recall over (posting, skill) pairs. */
static void score_file(const char *path, double min_p, double min_r)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, rows = 0;
    long tp = 0, fp = 0, fn = 0;
    assert_non_null(f);
    while (getline(&line, &cap, f) > 0) {
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        assert_non_null(o);
        const char *text = json_string_value(json_object_get(o, "text"));
        json_t *arr = json_object_get(o, "skills");
        assert_non_null(text);
        assert_true(json_is_array(arr));
        struct gtp_skill_set got = {0}, want = {0};
        assert_int_equal(gtp_skills_match(sk, text, strlen(text), &got), 0);
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
            int k = gtp_skills_find(sk, json_string_value(v));
            if (k < 0)
                fail_msg("%s: unknown label %s", path, json_string_value(v));
            gtp_skill_set_add(&want, (size_t)k);
        }
        for (size_t k = 0; k < gtp_skills_count(sk); k++) {
            int g = gtp_skill_set_has(&got, k), w = gtp_skill_set_has(&want, k);
            tp += g && w;
            fp += g && !w;
            fn += !g && w;
            if (g != w)
                printf("  %s %s: %.100s\n", g ? "FP" : "FN", gtp_skills_id(sk, k), text);
        }
        rows++;
        json_decref(o);
    }
    free(line);
    fclose(f);
    double p = tp + fp ? (double)tp / (double)(tp + fp) : 1.0;
    double r = tp + fn ? (double)tp / (double)(tp + fn) : 1.0;
    printf("%s: %zu postings, tp=%ld fp=%ld fn=%ld precision=%.4f recall=%.4f\n", path, rows, tp,
           fp, fn, p, r);
    assert_true(rows >= 1);
    assert_true(p >= min_p);
    assert_true(r >= min_r);
}

static void test_corpus(void **state)
{
    (void)state;
    score_file(GTP_TEST_DATA "/skills_corpus.jsonl", 0.97, 0.97);
}

static void test_heldout(void **state)
{
    (void)state;
    if (access(GTP_TEST_DATA "/skills_heldout.jsonl", R_OK) != 0)
        skip();
    score_file(GTP_TEST_DATA "/skills_heldout.jsonl", 0.95, 0.95);
}

/* The prefilter only skips work: with it off, every text gets the same
 * skills. Texts mix the taxonomy's names and ids with case changes, digit
 * suffixes, punctuation, UTF-8 and filler words. */
static void test_prefilter_agrees(void **state)
{
    static const char *glue[] = {" ",  ", ", "/",   ".",   " and ",     "-",  "(",
                                 ") ", "\n", "++ ", "# ",  " \xc3\xa9", "3 ", "_",
                                 ":",  " .", "\t",  "2x ", "0"};
    static const char *filler[] = {"experience", "with", "the", "senior", "cloud", "data",
                                   "co",         "de",   "re",  "in",     "c",     "r",
                                   "go",         "x",    "net", "node"};
    char err[512];
    char text[600];
    struct gtp_skills *ref = gtp_skills_load(TAXONOMY, err, sizeof(err));
    size_t n = gtp_skills_count(sk);
    unsigned seed = 12345;
    (void)state;
    assert_non_null(ref);
    assert_int_equal(gtp_skills_disable_prefilter(ref, err, sizeof(err)), 0);
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0;
        int words = 1 + (int)(rand_r(&seed) % 12);
        for (int w = 0; w < words && len < sizeof(text) - 200; w++) {
            const char *src;
            unsigned r = (unsigned)rand_r(&seed);
            if (r % 3 == 0)
                src = filler[r / 3 % (sizeof(filler) / sizeof(filler[0]))];
            else if (r % 3 == 1)
                src = gtp_skills_name(sk, r / 3 % n);
            else
                src = gtp_skills_id(sk, r / 3 % n);
            size_t sl = strlen(src);
            if (sl > 100)
                sl = 100;
            for (size_t i = 0; i < sl; i++) {
                char ch = src[i];
                unsigned m = (unsigned)rand_r(&seed) % 8;
                if (m == 0 && ch >= 'a' && ch <= 'z')
                    ch = (char)(ch - 32);
                else if (m == 1 && ch >= 'A' && ch <= 'Z')
                    ch = (char)(ch + 32);
                text[len++] = ch;
            }
            const char *g = glue[(unsigned)rand_r(&seed) % (sizeof(glue) / sizeof(glue[0]))];
            memcpy(text + len, g, strlen(g));
            len += strlen(g);
        }
        struct gtp_skill_set a = {{0}}, b = {{0}};
        assert_int_equal(gtp_skills_match(sk, text, len, &a), 0);
        assert_int_equal(gtp_skills_match(ref, text, len, &b), 0);
        for (size_t i = 0; i < n; i++)
            if (gtp_skill_set_has(&a, i) != gtp_skill_set_has(&b, i))
                fail_msg("%s: %s with the prefilter, %s without, in \"%.*s\"", gtp_skills_id(sk, i),
                         gtp_skill_set_has(&a, i) ? "found" : "missed",
                         gtp_skill_set_has(&b, i) ? "found" : "missed", (int)len, text);
    }
    gtp_skills_free(ref);
}

/* The same skills from sk (the fast path) and ref (the reference, with
 * the prefilter off) for text[0..len), or a failure naming the first
 * difference. */
static void expect_agree(const struct gtp_skills *ref, const char *what, const char *text,
                         size_t len)
{
    struct gtp_skill_set a = {{0}}, b = {{0}};
    assert_int_equal(gtp_skills_match(sk, text, len, &a), 0);
    assert_int_equal(gtp_skills_match(ref, text, len, &b), 0);
    for (size_t i = 0; i < gtp_skills_count(sk); i++)
        if (gtp_skill_set_has(&a, i) != gtp_skill_set_has(&b, i))
            fail_msg("%s (%zu bytes): %s %s by the fast path, %s by the reference; text "
                     "\"%.*s\"",
                     what, len, gtp_skills_id(sk, i), gtp_skill_set_has(&a, i) ? "found" : "missed",
                     gtp_skill_set_has(&b, i) ? "found" : "missed", (int)(len < 600 ? len : 600),
                     text);
}

/* A second matcher on the reference path (the prefilter off). */
static struct gtp_skills *load_reference(void)
{
    char err[512];
    struct gtp_skills *ref = gtp_skills_load(TAXONOMY, err, sizeof(err));
    if (ref == NULL)
        fail_msg("reference: %s", err);
    if (gtp_skills_disable_prefilter(ref, err, sizeof(err)))
        fail_msg("reference pattern: %s", err);
    return ref;
}

/* Appends src to buf (cap bytes) at *len, as far as it fits. */
static void put(char *buf, size_t cap, size_t *len, const char *src, size_t n)
{
    if (n > cap - *len)
        n = cap - *len;
    memcpy(buf + *len, src, n);
    *len += n;
}

/* The fast path scans a text in windows of a few hundred bytes, two halves
 * at a time, and keeps where a walk stopped: texts far longer than one
 * window, with aliases, whitespace runs and words across every boundary,
 * and the densest stops (" .C"), must find what the reference finds. */
static void test_reference_agrees_long(void **state)
{
    static const char *glue[] = {" ",      ", ",  "/",    ".",  " and ", "-",   "(",         ") ",
                                 "\n\t  ", "++ ", "# ",   " .", "..",    " . ", "\xc3\xa9",  "3 ",
                                 "_",      ":",   "\t\n", "x.", "'s ",   "&",   "          "};
    static const char *dense[] = {" .C", "C ", " .net", ".NET ", "R, ", "Go ", "c++ ", "x.go "};
    size_t cap = 1u << 16, len, n = gtp_skills_count(sk);
    char *text = malloc(cap);
    struct gtp_skills *ref = load_reference();
    unsigned seed = 4242;
    (void)state;
    assert_non_null(text);

    /* the labelled postings, run together into texts of 1-8 KiB */
    static const char *files[] = {GTP_TEST_DATA "/skills_corpus.jsonl",
                                  GTP_TEST_DATA "/skills_heldout.jsonl"};
    for (size_t f = 0; f < GTP_ARRAY_LEN(files); f++) {
        FILE *in = fopen(files[f], "r");
        char *line = NULL;
        size_t lcap = 0;
        if (in == NULL)
            continue;
        len = 0;
        while (getline(&line, &lcap, in) > 0) {
            json_t *o = json_loads(line, 0, NULL);
            const char *s = json_string_value(json_object_get(o, "text"));
            if (s != NULL) {
                put(text, cap, &len, s, strlen(s));
                put(text, cap, &len, " ", 1);
            }
            json_decref(o);
            if (len > 1024 + (size_t)(rand_r(&seed) % 7168)) {
                expect_agree(ref, files[f], text, len);
                len = 0;
            }
        }
        expect_agree(ref, files[f], text, len);
        free(line);
        fclose(in);
    }

    /* each dense pattern repeated past several windows, at every offset */
    for (size_t d = 0; d < GTP_ARRAY_LEN(dense); d++)
        for (size_t lead = 0; lead < 8; lead++) {
            len = 0;
            put(text, cap, &len, "Python ........", lead);
            while (len < 2000)
                put(text, cap, &len, dense[d], strlen(dense[d]));
            expect_agree(ref, dense[d], text, len);
        }

    /* a multi-word alias split by a whitespace run at every position
     * around the first window boundaries, and a word longer than a window */
    for (size_t pad = 0; pad < 300; pad++) {
        len = 0;
        for (size_t i = 0; i < pad; i++)
            put(text, cap, &len, i % 7 == 6 ? " " : "w", 1);
        put(text, cap, &len, " Apache", 7);
        for (size_t i = 0; i < pad % 40 + 1; i++)
            put(text, cap, &len, pad % 3 ? " " : "\n", 1);
        put(text, cap, &len, "Spark, React   Native and Ruby on Rails", 39);
        expect_agree(ref, "padded", text, len);
    }

    /* random texts of names, ids and filler of 0.2-6 KiB with odd glue */
    for (int iter = 0; iter < 3000; iter++) {
        size_t want = 200 + (size_t)rand_r(&seed) % 6000;
        len = 0;
        while (len < want) {
            const char *src;
            unsigned r = (unsigned)rand_r(&seed);
            if (r % 4 == 0)
                src = "experience with the senior go data c r net node";
            else if (r % 4 == 1)
                src = gtp_skills_name(sk, r / 4 % n);
            else
                src = gtp_skills_id(sk, r / 4 % n);
            size_t sl = strlen(src), from = r % 4 == 0 ? (r / 4) % sl : 0;
            for (size_t i = from; i < sl && len < cap; i++) {
                char ch = src[i];
                unsigned m = (unsigned)rand_r(&seed) % 8;
                if (m == 0 && ch >= 'a' && ch <= 'z')
                    ch = (char)(ch - 32);
                text[len++] = ch;
            }
            const char *g = glue[(unsigned)rand_r(&seed) % GTP_ARRAY_LEN(glue)];
            put(text, cap, &len, g, strlen(g));
        }
        expect_agree(ref, "random", text, len);
    }
    gtp_skills_free(ref);
    free(text);
}

static void test_taxonomy(void **state)
{
    const char *const *fixed = spec_skill_ids;
    (void)state;
    size_t n = gtp_skills_count(sk);
    assert_true(n >= 250);
    assert_true(n <= GTP_SKILLS_MAX);
    for (size_t i = 0; i < sizeof(spec_skill_ids) / sizeof(spec_skill_ids[0]); i++) {
        if (gtp_skills_find(sk, fixed[i]) < 0)
            fail_msg("fixed id missing: %s", fixed[i]);
    }
    for (size_t i = 0; i < n; i++) {
        const char *id = gtp_skills_id(sk, i);
        assert_non_null(id);
        assert_true(strlen(id) > 0);
        assert_int_equal(strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-"), strlen(id));
        assert_int_equal(gtp_skills_find(sk, id), (int)i); /* unique */
        assert_true(strlen(gtp_skills_name(sk, i)) > 0);
        assert_true(strlen(gtp_skills_category(sk, i)) > 0);
    }
    assert_int_equal(gtp_skills_find(sk, "no-such-skill"), -1);
    assert_null(gtp_skills_id(sk, n));
}

/* A broken skills.tsv must be refused with file:line in the message. */
static void expect_load_error(const char *content, const char *needle)
{
    char dir[] = "/tmp/gtp-skills-XXXXXX", path[512], err[512] = "";
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/skills.tsv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    struct gtp_skills *bad = gtp_skills_load(dir, err, sizeof(err));
    unlink(path);
    rmdir(dir);
    if (bad != NULL) {
        gtp_skills_free(bad);
        fail_msg("loaded a bad taxonomy (%s)", needle);
    }
    if (strstr(err, needle) == NULL)
        fail_msg("error '%s' lacks '%s'", err, needle);
}

static void test_load_errors(void **state)
{
    (void)state;
    expect_load_error("# h\npython\tPython\tlanguage\tpython\t-\npython\tPy\tlanguage\tpy\t-\n",
                      "skills.tsv:3: duplicate id");
    expect_load_error("Python\tPython\tlanguage\tpython\t-\n", "skills.tsv:1: id 'Python'");
    expect_load_error("a\tA\tx\tfoo\t-\nb\tB\tx\tFOO\t-\n", "skills.tsv:2: alias 'FOO'");
    expect_load_error("a\tA\tx\tfoo>nope\t-\n", "skills.tsv:1: alias 'foo' implies unknown");
    expect_load_error("a\tA\tx\n", "skills.tsv:1: expected");
    expect_load_error("a\tA\tx\tfoo\tmaybe:yes\n", "skills.tsv:1: unknown rule");
    /* more than GTP_SKILLS_MAX rows */
    size_t cap = (GTP_SKILLS_MAX + 2) * 40, n = 0;
    char *big = malloc(cap);
    assert_non_null(big);
    for (int i = 0; i <= GTP_SKILLS_MAX; i++)
        n += (size_t)snprintf(big + n, cap - n, "s%d\tS\tx\talias%d\t-\n", i, i);
    expect_load_error(big, "more than");
    free(big);
    char err[256];
    assert_null(gtp_skills_load("/nonexistent-dir", err, sizeof(err)));
}

/* A taxonomy whose aliases need more automaton states than the tables
 * index is refused with a reason, not truncated. */
static void test_load_too_many_states(void **state)
{
    size_t cap = 1000 * 80, n = 0;
    char *big = malloc(cap);
    unsigned seed = 7;
    (void)state;
    assert_non_null(big);
    for (int i = 0; i < 1000; i++) {
        n += (size_t)snprintf(big + n, cap - n, "s%d\tS\tx\t", i);
        for (int j = 0; j < 40; j++)
            big[n++] = (char)('a' + rand_r(&seed) % 26);
        n += (size_t)snprintf(big + n, cap - n, "\t-\n");
    }
    big[n] = '\0';
    expect_load_error(big, "matcher states");
    free(big);
}

static void test_robustness(void **state)
{
    (void)state;
    struct gtp_skill_set set = {0};
    /* empty, NULL text */
    assert_int_equal(gtp_skills_match(sk, "", 0, &set), 0);
    assert_int_equal(gtp_skills_match(sk, NULL, 0, &set), 0);
    assert_int_equal(gtp_skills_match(NULL, "x", 1, &set), -1);
    static const uint8_t zero[sizeof(set)];
    assert_memory_equal(&set, zero, sizeof(set));
    /* invalid UTF-8 and NUL bytes around and inside words */
    static const char bad[] = "\xff\xfe Python \xc3\x28 Kafka\x00Spark \xe2\x82 Docker\xc0\x80"
                              "Jav\x00"
                              "a \xf0\x9f\x98 Go developer";
    assert_int_equal(gtp_skills_match(sk, bad, sizeof(bad) - 1, &set), 0);
    char got[512];
    set_str(&set, got, sizeof(got));
    assert_string_equal(got, "python go spark kafka docker");
    /* 1 MiB of text: repeated prose with skills, ending mid-word */
    size_t len = 1u << 20;
    char *big = malloc(len);
    assert_non_null(big);
    static const char chunk[] = "We go above and beyond with Python, Rust and Kubernetes; "
                                "our \xff team excels. ";
    for (size_t i = 0; i < len; i++)
        big[i] = chunk[i % (sizeof(chunk) - 1)];
    memset(&set, 0, sizeof(set));
    assert_int_equal(gtp_skills_match(sk, big, len, &set), 0);
    set_str(&set, got, sizeof(got));
    assert_string_equal(got, "python rust kubernetes");
    /* random bytes must not crash */
    srand(42);
    for (size_t i = 0; i < len; i++)
        big[i] = (char)(rand() & 0xff);
    memset(&set, 0, sizeof(set));
    assert_int_equal(gtp_skills_match(sk, big, len, &set), 0);
    free(big);
}

struct thr {
    const char *text;
    int ok;
};

static void *thread_main(void *arg)
{
    struct thr *t = arg;
    struct gtp_skill_set first = {0};
    gtp_skills_match(sk, t->text, strlen(t->text), &first);
    t->ok = 1;
    for (int i = 0; i < 20000; i++) {
        struct gtp_skill_set s = {0};
        if (gtp_skills_match(sk, t->text, strlen(t->text), &s) != 0 ||
            memcmp(&s, &first, sizeof(s)) != 0)
            t->ok = 0;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct thr t[3] = {{"Spark, Kafka and Python; Go developer", 0},
                       {"React, TypeScript, Node.js, AWS", 0},
                       {"Excel at teamwork. C/C++ and Rust.", 0}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, &t[i]), 0);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_true(t[i].ok);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefilter_agrees),
        cmocka_unit_test(test_taxonomy),
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_heldout),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_robustness),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_reference_agrees_long),
        cmocka_unit_test(test_load_too_many_states),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
