/* The title memo (gtp/titlememo.h) gives what gtp_seniority_of and gtp_skills_match give, on a
 * first look-up and on a remembered one, for titles that fit a slot and titles that do not (too
 * long, too many skills), when two titles share a slot, and under a second taxonomy load. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gtp/strmap.h"
#include "gtp/taxonomy.h"
#include "gtp/titlememo.h"

static const char *const titles[] = {
    "Senior Data Engineer",
    "senior data engineer",
    "Data Engineer",
    "Junior Python Developer",
    "Lead Software Engineer (Java, Kafka)",
    "Principal ML Engineer - PyTorch / TensorFlow",
    "Head of Data",
    "Intern, Analytics",
    "Staff Engineer",
    "Sr. Backend Developer Go",
    "DevOps Engineer (Kubernetes, Terraform, AWS)",
    "",
    "C++ Developer",
    ".NET Developer",
    "Spark Scala Python SQL Kafka Airflow dbt Snowflake Engineer", /* long, many skills */
    "Python Java Go Rust Kotlin Swift Ruby PHP",                   /* eight skills, short enough */
    "Director of Engineering, Platform and Infrastructure, EMEA and Americas region",
};

static void direct(const struct gtp_taxonomy *tx, const char *t, size_t n,
                   struct gtp_skill_set *set, enum gtp_seniority_level *level)
{
    memset(set, 0, sizeof(*set));
    set->bits[0] = 1; /* something a description added before: kept */
    *level = gtp_seniority_of(tx->seniority, t, n);
    (void)gtp_skills_match(tx->skills, t, n, set);
}

static void check(struct gtp_title_memo *m, const struct gtp_taxonomy *tx, const char *t, size_t n)
{
    struct gtp_skill_set want, got;
    enum gtp_seniority_level lw, lg;
    direct(tx, t, n, &want, &lw);
    memset(&got, 0, sizeof(got));
    got.bits[0] = 1;
    lg = gtp_title_memo_enrich(m, tx, t, n, &got);
    if (lg != lw || memcmp(&got, &want, sizeof(got)) != 0)
        fail_msg("title \"%.*s\": level %d, want %d; skills %s", (int)n, t, (int)lg, (int)lw,
                 memcmp(&got, &want, sizeof(got)) ? "differ" : "equal");
}

static void test_same_answers(void **state)
{
    char err[256];
    struct gtp_taxonomy *tx = gtp_taxonomy_load(GTP_TAXONOMY_DEFAULT, err, sizeof(err));
    struct gtp_title_memo m = {0};
    size_t remembered = 0, nt = sizeof(titles) / sizeof(titles[0]);
    (void)state;
    assert_non_null(tx);
    assert_true(tx->serial != 0);
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < nt; i++)
            check(&m, tx, titles[i], strlen(titles[i]));
    /* the short ones with at most GTP_TITLE_MEMO_SKILLS skills are in their slots */
    for (size_t i = 0; i < nt; i++) {
        size_t n = strlen(titles[i]);
        const struct gtp_title_memo_slot *s =
            &m.slots[gtp_strmap_hash(titles[i], n) % GTP_TITLE_MEMO_SLOTS];
        if (s->serial == tx->serial && s->len == n && memcmp(s->key, titles[i], n) == 0)
            remembered++;
    }
    assert_true(remembered >= nt - 4);

    /* a title with NUL bytes, and two titles that share a slot, alternating */
    check(&m, tx, "Senior\0Go Engineer", 18);
    char a[32], b[32];
    size_t slot_a, na = (size_t)snprintf(a, sizeof(a), "Senior Java Engineer 0");
    slot_a = gtp_strmap_hash(a, na) % GTP_TITLE_MEMO_SLOTS;
    for (int k = 1;; k++) {
        size_t nb = (size_t)snprintf(b, sizeof(b), "Junior Rust Engineer %d", k);
        if (gtp_strmap_hash(b, nb) % GTP_TITLE_MEMO_SLOTS != slot_a)
            continue;
        for (int r = 0; r < 4; r++) {
            check(&m, tx, a, na);
            check(&m, tx, b, nb);
        }
        break;
    }
    gtp_title_memo_fini(&m);
    assert_null(m.slots);
    gtp_taxonomy_free(tx);
}

/* An answer remembered under one load is not taken under the next: its slot is filled again. */
static void test_reload(void **state)
{
    char err[256];
    struct gtp_taxonomy *t1 = gtp_taxonomy_load(GTP_TAXONOMY_DEFAULT, err, sizeof(err));
    struct gtp_taxonomy *t2 = gtp_taxonomy_load(GTP_TAXONOMY_DEFAULT, err, sizeof(err));
    struct gtp_title_memo m = {0};
    const char *t = "Senior Data Engineer";
    size_t n = strlen(t);
    (void)state;
    assert_non_null(t1);
    assert_non_null(t2);
    assert_true(t1->serial != t2->serial);
    check(&m, t1, t, n);
    const struct gtp_title_memo_slot *s = &m.slots[gtp_strmap_hash(t, n) % GTP_TITLE_MEMO_SLOTS];
    assert_true(s->serial == t1->serial);
    check(&m, t2, t, n);
    assert_true(s->serial == t2->serial);
    gtp_title_memo_fini(&m);
    gtp_taxonomy_free(t1);
    gtp_taxonomy_free(t2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_answers),
        cmocka_unit_test(test_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
