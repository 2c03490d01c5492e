/* The taxonomy directory itself: every file parses, codes are well formed, no
 * name or alias is claimed by two codes, enough cities; seniority cues and the
 * documented levels of common titles; a fresh load works like the first. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gtp/taxonomy.h"
#include "gtp/strmap.h"
#include "gtp/textnorm.h"
#include "gtp/util.h"

#define DIR GTP_TAXONOMY_DEFAULT

/* Map values: codes copied into a static pool (nothing to free). */
static char code_pool[8192][8];
static size_t code_pool_n;

static char *pool_code(const char *code)
{
    assert_true(code_pool_n < GTP_ARRAY_LEN(code_pool));
    snprintf(code_pool[code_pool_n], 8, "%s", code);
    return code_pool[code_pool_n++];
}

/* Rows of a code<TAB>name<TAB>aliases file; checks the code with ok_code. */
static int check_file(const char *name, int (*ok_code)(const char *), struct gtp_strmap *seen,
                      char codes[][8], size_t *ncodes)
{
    char path[1024], *line = NULL, key[256];
    size_t cap = 0;
    ssize_t n;
    int rows = 0, lineno = 0;
    snprintf(path, sizeof(path), "%s/%s", DIR, name);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    while ((n = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        char *f1 = strchr(line, '\t');
        assert_non_null(f1);
        *f1++ = '\0';
        char *f2 = strchr(f1, '\t');
        assert_non_null(f2); /* three columns, aliases may be empty */
        *f2++ = '\0';
        if (!ok_code(line)) {
            fprintf(stderr, "%s:%d: bad code '%s'\n", name, lineno, line);
            fail();
        }
        assert_true(strlen(f1) > 0);
        if (codes) {
            snprintf(codes[*ncodes], 8, "%s", line);
            (*ncodes)++;
        }
        /* name and every alias: one code per normalized key within a file kind */
        char *save = NULL;
        char *names = gtp_xmalloc(strlen(f1) + strlen(f2) + 2);
        sprintf(names, "%s,%s", f1, f2);
        for (char *a = strtok_r(names, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
            size_t kl = gtp_textnorm_key(a, strlen(a), key, sizeof(key));
            assert_true(kl > 0);
            char *code = pool_code(line);
            char *prev = gtp_strmap_put(seen, key, kl, code);
            if (prev && strcmp(prev, code) != 0) {
                fprintf(stderr, "%s:%d: '%s' is %s and %s\n", name, lineno, a, prev, code);
                fail();
            }
        }
        free(names);
        rows++;
    }
    free(line);
    fclose(fp);
    return rows;
}

static int ok_country(const char *c)
{
    if (strcmp(c, "REMOTE") == 0)
        return 1;
    return strlen(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' &&
           strcmp(c, "GB") != 0;
}

static char country_codes[400][8];
static size_t ncountry;

static int ok_city(const char *c)
{
    for (size_t i = 0; i < ncountry; i++)
        if (strcmp(country_codes[i], c) == 0)
            return strcmp(c, "REMOTE") != 0;
    return 0;
}

static int ok_state(const char *c)
{
    return strlen(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z';
}

static void test_region_files(void **state)
{
    (void)state;
    struct gtp_strmap *countries = gtp_strmap_new(), *states = gtp_strmap_new(),
                      *cities = gtp_strmap_new();
    ncountry = 0;
    int nc = check_file("countries.tsv", ok_country, countries, country_codes, &ncountry);
    int ns = check_file("us_states.tsv", ok_state, states, NULL, NULL);
    int ncity = check_file("cities.tsv", ok_city, cities, NULL, NULL);
    fprintf(stderr, "countries %d, states %d, cities %d\n", nc, ns, ncity);
    assert_true(nc >= 249);
    assert_int_equal(ns, 51);
    assert_true(ncity >= 200);
    /* codes unique */
    for (size_t i = 0; i < ncountry; i++)
        for (size_t j = i + 1; j < ncountry; j++)
            assert_string_not_equal(country_codes[i], country_codes[j]);
    /* the aliases the brief names */
    static const char *const uk[] = {"united kingdom", "uk", "england", "scotland",
                                     "great britain",  "gb"};
    for (size_t i = 0; i < GTP_ARRAY_LEN(uk); i++)
        assert_string_equal(gtp_strmap_get(countries, uk[i], strlen(uk[i])), "UK");
    static const char *const us[] = {"usa", "us", "united states of america"};
    for (size_t i = 0; i < GTP_ARRAY_LEN(us); i++)
        assert_string_equal(gtp_strmap_get(countries, us[i], strlen(us[i])), "US");
    assert_string_equal(gtp_strmap_get(countries, "deutschland", 11), "DE");
    assert_string_equal(gtp_strmap_get(countries, "uae", 3), "AE");
    assert_string_equal(gtp_strmap_get(countries, "holland", 7), "NL");
    assert_string_equal(gtp_strmap_get(cities, "bangalore", 9), "IN");
    assert_string_equal(gtp_strmap_get(cities, "nyc", 3), "US");
    assert_string_equal(gtp_strmap_get(cities, "sf", 2), "US");
    assert_string_equal(gtp_strmap_get(cities, "munchen", 7), "DE");
    gtp_strmap_free(countries);
    gtp_strmap_free(states);
    gtp_strmap_free(cities);
}

static void test_load_all(void **state)
{
    char err[512];
    (void)state;
    struct gtp_taxonomy *tx = gtp_taxonomy_load(DIR, err, sizeof(err));
    if (!tx)
        fprintf(stderr, "%s\n", err);
    assert_non_null(tx);
    assert_true(gtp_skills_count(tx->skills) >= 250);
    assert_true(gtp_seniority_cues(tx->seniority) >= 30);
    struct gtp_taxonomy *again = gtp_taxonomy_ref(tx);
    gtp_taxonomy_free(tx);
    assert_string_equal(gtp_regions_lookup(again->regions, "Berlin", 6), "DE");
    gtp_taxonomy_free(again);

    assert_null(gtp_taxonomy_load("/nonexistent", err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent"));
}

/* A broken copy of the taxonomy is rejected with file:line. */
static void test_load_errors(void **state)
{
    static const struct {
        const char *file, *content, *want;
    } cases[] = {
        {"countries.tsv", "XX\tOne\t\nYY\tTwo\tOne\n", "countries.tsv:2"},
        {"countries.tsv", "xx\tLower\t\n", "countries.tsv:1"},
        {"countries.tsv", "US\tUnited States\t\nUS\tAgain\t\n", "countries.tsv:2"},
        {"cities.tsv", "ZZ\tNowhere City\t\n", "cities.tsv:1"},
        {"cities.tsv", "US\tSpringfield\t\nFR\tSpringfield\t\n", "cities.tsv:2"},
        {"seniority.tsv", "Senior\tsr\nJunior\tsr\n", "seniority.tsv:2"},
        {"seniority.tsv", "Boss\tboss\n", "seniority.tsv:1"},
    };
    static const char *const files[] = {"countries.tsv", "us_states.tsv", "cities.tsv",
                                        "seniority.tsv"};
    char dir[] = "/tmp/gtp-taxXXXXXX", path[512], err[512], cmd[1024];
    (void)state;
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < GTP_ARRAY_LEN(cases); i++) {
        for (size_t f = 0; f < GTP_ARRAY_LEN(files); f++) {
            snprintf(path, sizeof(path), "%s/%s", dir, files[f]);
            FILE *fp = fopen(path, "w");
            assert_non_null(fp);
            if (strcmp(files[f], cases[i].file) == 0)
                fputs(cases[i].content, fp);
            else if (strcmp(files[f], "countries.tsv") == 0)
                fputs("US\tUnited States\t\n", fp);
            else if (strcmp(files[f], "seniority.tsv") == 0)
                fputs("Senior\tsenior\n", fp);
            fclose(fp);
        }
        struct gtp_regions *rg = gtp_regions_load(dir, err, sizeof(err));
        struct gtp_seniority *sn = gtp_seniority_load(dir, err + 256, sizeof(err) - 256);
        int failed =
            (!rg && strstr(err, cases[i].want)) || (!sn && strstr(err + 256, cases[i].want));
        if (!failed)
            fprintf(stderr, "case %zu: '%s' / '%s'\n", i, rg ? "" : err, sn ? "" : err + 256);
        assert_true(failed);
        gtp_regions_free(rg);
        gtp_seniority_free(sn);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_seniority_titles(void **state)
{
    static const struct {
        const char *title, *level;
    } cases[] = {
        {"Senior Data Engineer", "Senior"},
        {"Sr. Software Engineer", "Senior"},
        {"SENIOR BACKEND DEVELOPER", "Senior"},
        {"Software Engineer III", "Senior"},
        {"Data Engineer", "Unspecified"},
        {"Backend Developer", "Unspecified"},
        {"Software Engineer II", "Mid"},
        {"Mid-Level Python Developer", "Mid"},
        {"Intermediate QA Engineer", "Mid"},
        {"Junior Frontend Developer", "Junior"},
        {"Jr. Data Analyst", "Junior"},
        {"Graduate Software Engineer", "Junior"},
        {"Entry-Level Data Analyst", "Junior"},
        {"Software Engineer I", "Junior"},
        {"Software Engineering Intern", "Intern"},
        {"Data Science Internship (Summer 2025)", "Intern"},
        {"Werkstudent Data Engineering", "Intern"},
        {"Lead Data Engineer", "Lead"},
        {"Tech Lead, Platform", "Lead"},
        {"Staff Software Engineer", "Lead"},
        {"Senior Staff Engineer", "Lead"},
        {"Engineering Manager", "Lead"},
        {"Principal Engineer", "Principal"},
        {"Distinguished Engineer", "Principal"},
        {"Director of Engineering", "Director"},
        {"Senior Director, Data", "Director"},
        {"Head of Data", "Director"},
        {"VP of Engineering", "Director"},
        {"Vice President, ML", "Director"},
        {"CTO", "Director"},
        {"<script>alert(1)</script>", "Unspecified"},
        {"", "Unspecified"},
    };
    char err[256];
    (void)state;
    struct gtp_seniority *sn = gtp_seniority_load(DIR, err, sizeof(err));
    assert_non_null(sn);
    int bad = 0;
    for (size_t i = 0; i < GTP_ARRAY_LEN(cases); i++) {
        const char *got =
            gtp_seniority_name(gtp_seniority_of(sn, cases[i].title, strlen(cases[i].title)));
        if (strcmp(got, cases[i].level) != 0) {
            fprintf(stderr, "  %-40s -> %s (want %s)\n", cases[i].title, got, cases[i].level);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    assert_int_equal(gtp_seniority_of(sn, NULL, 5), GTP_SENIORITY_UNSPECIFIED);
    assert_int_equal(gtp_seniority_parse("senior"), GTP_SENIORITY_SENIOR);
    assert_int_equal(gtp_seniority_parse("Boss"), -1);
    gtp_seniority_free(sn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_region_files),
        cmocka_unit_test(test_load_all),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_seniority_titles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
