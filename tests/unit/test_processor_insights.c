/* The processor's insights aggregation (docs/redis.md "Insights keys"): the contract's
 * example through insights_add and insights_emit, merging per flush, skipped fields,
 * company normalization, the switch, and reset. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "insights.h"
#include "gtp/seniority.h"
#include "gtp/timeparse.h"

static struct gtp_skills *sk;

static int setup(void **state)
{
    char err[256];
    (void)state;
    sk = gtp_skills_load(GTP_TAXONOMY_DEFAULT, err, sizeof(err));
    return sk ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gtp_skills_free(sk);
    return 0;
}

static struct gtp_skill_set skills_of(const char *const *ids)
{
    struct gtp_skill_set s;
    memset(&s, 0, sizeof(s));
    for (; *ids; ids++) {
        int i = gtp_skills_find(sk, *ids);
        assert_true(i >= 0);
        gtp_skill_set_add(&s, (size_t)i);
    }
    return s;
}

/* The emitted arguments joined with ' ' (one line, for whole-string comparisons). */
static char *emitted_sent(const struct insights *in, struct hllsent *sent)
{
    struct gtp_rediscmd c = {0};
    struct gtp_buf b = {0};
    insights_emit(in, &c, sk, sent);
    for (size_t i = 0; i < c.argc; i++) {
        size_t n;
        const char *a = gtp_rediscmd_argv(&c, i, &n);
        if (i)
            gtp_buf_putc(&b, ' ');
        gtp_buf_put(&b, a, n);
    }
    gtp_rediscmd_fini(&c);
    return gtp_buf_take(&b, NULL);
}

static char *emitted(const struct insights *in)
{
    return emitted_sent(in, NULL);
}

static int64_t at(const char *rfc3339)
{
    int64_t us;
    char err[128];
    assert_int_equal(gtp_time_parse(rfc3339, strlen(rfc3339), &us, err, sizeof(err)), 0);
    return us;
}

static void test_contract_example(void **state)
{
    static const char *const ids[] = {"spark", "python", NULL};
    struct gtp_skill_set s = skills_of(ids);
    struct insights in;
    char co[64];
    struct gtp_buf b = {0};
    size_t n = insights_company_put(&b, " \tACME Ltd \n", 12);
    (void)state;
    assert_int_equal(n, 8);
    assert_string_equal(b.p, "acme ltd");
    snprintf(co, sizeof(co), "%s", b.p);
    gtp_buf_fini(&b);

    insights_init(&in, true);
    struct insights_post p = {&s, gtp_skills_count(sk), "UK", at("2024-03-15T10:30:00Z"),
                              1,  GTP_SENIORITY_SENIOR, co,   strlen(co)};
    insights_add(&in, &p);
    char *got = emitted(&in);
    /* posts; counters (table order: checked as a set below); pairs grouped per day and
     * skill in byte order; employers grouped per skill and day */
    assert_non_null(strstr(got, "1 uk 2024-03-15-10 1 5 "));
    assert_non_null(strstr(got, "remote_posts:uk:2024-03-15-10 1"));
    assert_non_null(strstr(got, "remote:python:2024-03-15-10 1"));
    assert_non_null(strstr(got, "remote:spark:2024-03-15-10 1"));
    assert_non_null(strstr(got, "level:python:senior:2024-03-15 1"));
    assert_non_null(strstr(got, "level:spark:senior:2024-03-15 1"));
    assert_non_null(strstr(got, " 1 2024-03-15 python 1 spark 1 2 "));
    assert_non_null(strstr(got, "employers:python:2024-03-15 1 acme ltd"));
    assert_non_null(strstr(got, "employers:spark:2024-03-15 1 acme ltd"));
    free(got);

    /* the same posting again in the same flush merges; a second company adds a name;
     * no level, not remote, no company: only posts and pairs move */
    insights_add(&in, &p);
    p.company = "other";
    p.company_len = 5;
    insights_add(&in, &p);
    struct insights_post bare = {&s, gtp_skills_count(sk),      "UK", at("2024-03-15T10:59:59Z"),
                                 -1, GTP_SENIORITY_UNSPECIFIED, NULL, 0};
    insights_add(&in, &bare);
    got = emitted(&in);
    assert_non_null(strstr(got, "1 uk 2024-03-15-10 4 5 "));
    assert_non_null(strstr(got, "remote_posts:uk:2024-03-15-10 3"));
    assert_non_null(strstr(got, "remote:python:2024-03-15-10 3"));
    assert_non_null(strstr(got, "level:spark:senior:2024-03-15 3"));
    assert_non_null(strstr(got, " 1 2024-03-15 python 1 spark 4 2 "));
    /* each name once per (skill, day), in arrival order */
    assert_non_null(strstr(got, "employers:python:2024-03-15 2 acme ltd other"));
    assert_non_null(strstr(got, "employers:spark:2024-03-15 2 acme ltd other"));
    free(got);

    insights_reset(&in);
    got = emitted(&in);
    assert_string_equal(got, "0 0 0 0");
    free(got);
    insights_fini(&in);
}

static void test_no_skills_and_off(void **state)
{
    struct gtp_skill_set none;
    struct insights in;
    (void)state;
    memset(&none, 0, sizeof(none));
    insights_init(&in, true);
    struct insights_post p = {&none, gtp_skills_count(sk), "REMOTE", at("2024-03-15T23:00:00Z"),
                              1,     GTP_SENIORITY_LEAD,   "x",      1};
    insights_add(&in, &p);
    char *got = emitted(&in);
    /* a posting without skills: its posts key, and remote_posts as it is remote */
    assert_string_equal(got, "1 remote 2024-03-15-23 1 1 remote_posts:remote:2024-03-15-23 1 0 0");
    free(got);
    insights_fini(&in);

    insights_init(&in, false);
    insights_add(&in, &p);
    assert_int_equal(in.used, 0);
    insights_fini(&in);
}

static void test_company_norm(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"Acme", "acme"},
        {"  ", ""},
        {"", ""},
        {"\xc3\x84"
         "CME",
         "\xc3\x84"
         "cme"},              /* non-ASCII bytes kept as they are */
        {"a\tB c", "a\tb c"}, /* inner whitespace kept */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gtp_buf b = {0};
        size_t n = insights_company_put(&b, cases[i].in, strlen(cases[i].in));
        assert_int_equal(n, strlen(cases[i].out));
        assert_memory_equal(b.p, cases[i].out, n);
        assert_int_equal(b.p[n], '\0');
        gtp_buf_fini(&b);
    }
}

/* Employers over two days and two skills, the days interleaved: one group per (skill, day),
 * each name once in it, in the order the flush first saw the companies, names kept across
 * days. */
static void test_employers_days(void **state)
{
    static const char *const one[] = {"rust", NULL}, *const two[] = {"go", "rust", NULL};
    struct gtp_skill_set s1 = skills_of(one), s2 = skills_of(two);
    struct insights in;
    (void)state;
    insights_init(&in, true);
    static const struct {
        int two;
        const char *when, *company;
    } posts[] = {
        {0, "2024-03-15T23:10:00Z", "a"}, {1, "2024-03-16T00:10:00Z", "a"},
        {0, "2024-03-15T23:20:00Z", "b"}, {1, "2024-03-16T00:20:00Z", "b"},
        {0, "2024-03-15T23:30:00Z", "a"},
    };
    for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++) {
        struct insights_post p = {posts[i].two ? &s2 : &s1,
                                  gtp_skills_count(sk),
                                  "DE",
                                  at(posts[i].when),
                                  0,
                                  0,
                                  posts[i].company,
                                  1};
        insights_add(&in, &p);
    }
    /* 7 (posting, skill) entries, (rust, 15th, a) twice: kept once */
    assert_int_equal(in.nemp, 6);
    char *got = emitted(&in);
    char *e = strstr(got, " employers:");
    assert_non_null(e);
    /* go sorts before rust by index or not: both orders of the skills are fine */
    const char *rust = "employers:rust:2024-03-15 2 a b employers:rust:2024-03-16 2 a b";
    assert_non_null(strstr(got, "employers:go:2024-03-16 2 a b"));
    assert_non_null(strstr(got, rust));
    free(got);
    insights_fini(&in);
}

/* Names an applied flush sent are left out of the next one; a group left without names is
 * still sent (its TTL), and nothing is left out before the commit. */
static void test_employers_sent(void **state)
{
    static const char *const one[] = {"rust", NULL};
    struct gtp_skill_set s1 = skills_of(one);
    struct insights in;
    struct hllsent sent;
    char *got;
    (void)state;
    insights_init(&in, true);
    hllsent_init(&sent);
    hllsent_age(&sent, sent.since_ms, 86400);
    struct insights_post p = {
        &s1, gtp_skills_count(sk), "DE", at("2024-03-15T10:00:00Z"), 0, 0, "a", 1};
    insights_add(&in, &p);
    got = emitted_sent(&in, &sent);
    assert_non_null(strstr(got, " employers:rust:2024-03-15 1 a"));
    free(got);
    /* not applied yet: the same flush retried sends a again */
    got = emitted_sent(&in, &sent);
    assert_non_null(strstr(got, " employers:rust:2024-03-15 1 a"));
    free(got);
    hllsent_commit(&sent);
    insights_reset(&in);
    insights_add(&in, &p);
    p.company = "b";
    insights_add(&in, &p);
    p.posted_us = at("2024-03-16T10:00:00Z");
    p.company = "a";
    insights_add(&in, &p);
    got = emitted_sent(&in, &sent);
    /* a on the 15th is in redis: only b; a on the 16th is a new element */
    assert_non_null(strstr(got, " employers:rust:2024-03-15 1 b"));
    assert_non_null(strstr(got, " employers:rust:2024-03-16 1 a"));
    free(got);
    hllsent_commit(&sent);
    insights_reset(&in);
    p.posted_us = at("2024-03-15T11:00:00Z");
    insights_add(&in, &p);
    got = emitted_sent(&in, &sent);
    /* the last section: one group, no names */
    const char *tail = " 1 employers:rust:2024-03-15 0";
    assert_true(strlen(got) > strlen(tail));
    assert_string_equal(got + strlen(got) - strlen(tail), tail);
    free(got);
    hllsent_fini(&sent);
    insights_fini(&in);
}

/* Pairs come per (day, skill) group, days and skills in byte order, each pair once: in the
 * group of its first skill, with the co-skills after it (its pairs:{day} members). */
static void test_pair_groups(void **state)
{
    static const char *const three[] = {"sql", "python", "spark", NULL};
    static const char *const two[] = {"sql", "python", NULL};
    struct gtp_skill_set s3 = skills_of(three), s2 = skills_of(two);
    struct insights in;
    (void)state;
    insights_init(&in, true);
    struct insights_post p = {
        &s2, gtp_skills_count(sk), "US", at("2024-03-16T08:00:00Z"), 0, 0, NULL, 0};
    insights_add(&in, &p);
    p.skills = &s3;
    p.posted_us = at("2024-03-15T08:00:00Z");
    insights_add(&in, &p);
    insights_add(&in, &p);
    char *got = emitted(&in);
    const char *tail = " 3 2024-03-15 python 2 spark 2 sql 2 2024-03-15 spark 1 sql 2"
                       " 2024-03-16 python 1 sql 1 0";
    assert_true(strlen(got) > strlen(tail));
    assert_string_equal(got + strlen(got) - strlen(tail), tail);
    free(got);
    insights_fini(&in);
}

/* Many distinct pairs force the table through several doublings without losing a count.
 * The one employer's elements of that day spread over the employer set rather than queueing
 * behind one slot (a slot that ignored the skill made one run of occupied slots as long as
 * the skills, each probe walking it). */
static void test_growth(void **state)
{
    struct insights in;
    struct gtp_skill_set s;
    (void)state;
    insights_init(&in, true);
    memset(&s, 0, sizeof(s));
    for (size_t i = 0; i < 60; i++)
        gtp_skill_set_add(&s, i);
    struct insights_post p = {
        &s, gtp_skills_count(sk), "US", at("2024-03-15T00:00:00Z"), 0, 0, "acme", 4};
    insights_add(&in, &p);
    insights_add(&in, &p);
    assert_int_equal(in.nkind[INSIGHTS_PAIR], 60 * 59 / 2);
    int64_t sum = 0;
    for (size_t i = 0; i < in.cap; i++)
        if (in.v[i].count && in.v[i].k.kind == INSIGHTS_PAIR)
            sum += in.v[i].count;
    assert_int_equal(sum, 2 * 60 * 59 / 2);

    assert_int_equal(in.nemp, 60);
    size_t run = 0, longest = 0;
    for (size_t i = 0; i < 2 * in.emp_cap; i++) { /* twice round: a run may wrap */
        run = in.emp[i & (in.emp_cap - 1)] ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    /* 60 of 4,096 slots at random: a run of 5 is already unlikely */
    assert_true(longest <= 4);
    insights_fini(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contract_example), cmocka_unit_test(test_no_skills_and_off),
        cmocka_unit_test(test_company_norm),     cmocka_unit_test(test_employers_days),
        cmocka_unit_test(test_growth),           cmocka_unit_test(test_employers_sent),
        cmocka_unit_test(test_pair_groups),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
