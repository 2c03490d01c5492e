/* Unit tests of gtp-generator's event stream: determinism, chaos selection and
 * the shape of each chaos kind, the seed's JSON shape for clean events,
 * coverage of countries and fixed skill ids, trends, bad flags, and the
 * --resume header's parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "spec_skill_ids.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <math.h>
#include <unistd.h>

#include "gen.h"
#include "market.h"
#include "gtp/cfg.h"
#include "gtp/err.h"
#include "gtp/region.h"
#include "gtp/skills.h"
#include "gtp/timeparse.h"
#include "gtp/util.h"
#include "options.h"
#include "resume.h"

#define START_US INT64_C(1710460800000000) /* 2024-03-15T00:00:00Z */

/* The shipped taxonomy/market.tsv, loaded once for every test. */
static struct market *market(void)
{
    static struct market *m;
    char err[256];
    if (!m) {
        m = market_load(GTP_TAXONOMY_DEFAULT, err, sizeof(err));
        if (!m)
            fail_msg("market.tsv: %s", err);
    }
    return m;
}

static struct gen *mk(uint64_t seed, double chaos, unsigned mask, int64_t start)
{
    struct gen_opts o = {.seed = seed,
                         .chaos = chaos,
                         .chaos_mask = mask,
                         .start_us = start,
                         .density = 100,
                         .market = market()};
    return gen_new(&o);
}

/* FNV-1a over the whole stream: equal streams, equal hashes. */
static uint64_t stream_hash(uint64_t seed, double chaos, size_t n)
{
    struct gen *g = mk(seed, chaos, GEN_CHAOS_ALL, START_US);
    uint64_t h = 1469598103934665603ULL;
    struct gen_event ev;
    for (size_t i = 0; i < n; i++) {
        gen_next(g, &ev);
        for (size_t j = 0; j < ev.len; j++)
            h = (h ^ (unsigned char)ev.value[j]) * 1099511628211ULL;
        for (size_t j = 0; ev.key && j < ev.key_len; j++)
            h = (h ^ (unsigned char)ev.key[j]) * 1099511628211ULL;
        h = (h ^ '\n') * 1099511628211ULL;
    }
    gen_free(g);
    return h;
}

static void test_determinism(void **state)
{
    (void)state;
    assert_int_equal(stream_hash(7, 0.2, 5000), stream_hash(7, 0.2, 5000));
    assert_int_equal(stream_hash(7, 0, 5000), stream_hash(7, 0, 5000));
    assert_true(stream_hash(7, 0.2, 5000) != stream_hash(8, 0.2, 5000));
    assert_true(stream_hash(7, 0, 5000) != stream_hash(7, 0.2, 5000));
}

/* The clock and the postings do not depend on --chaos: a clean event at
 * index i is the same with and without chaos. */
static void test_chaos_independent_clock(void **state)
{
    (void)state;
    struct gen *a = mk(3, 0, GEN_CHAOS_ALL, START_US), *b = mk(3, 0.5, GEN_CHAOS_ALL, START_US);
    struct gen_event ea, eb;
    size_t same = 0;
    for (int i = 0; i < 2000; i++) {
        gen_next(a, &ea);
        gen_next(b, &eb);
        assert_true(ea.sim_us == eb.sim_us);
        if (eb.chaos == GEN_CHAOS_NONE) {
            assert_int_equal(ea.len, eb.len);
            assert_memory_equal(ea.value, eb.value, ea.len);
            same++;
        }
    }
    assert_true(same > 800);
    gen_free(a);
    gen_free(b);
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

static bool is_uuid_v4(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!strchr("0123456789abcdef", s[i])) {
            return false;
        }
    }
    return s[14] == '4' && strchr("89ab", s[19]);
}

/* The seed's shape: keys in this order, these types. */
static void check_clean(const struct gen_event *ev)
{
    json_error_t jerr;
    json_t *root = json_loadb(ev->value, ev->len, 0, &jerr);
    if (!root)
        fail_msg("clean event is not JSON (%s): %.*s", jerr.text, (int)ev->len, ev->value);
    static const char *const top[] = {"event_id", "timestamp", "source", "payload"};
    static const char *const pay[] = {"job_id",   "title",       "company",
                                      "location", "description", "is_remote"};
    assert_true(json_is_object(root));
    assert_int_equal(json_object_size(root), 4);
    /* key order: jansson keeps insertion order when iterating */
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        assert_string_equal(key, top[i]);
        i++;
    }
    assert_true(is_uuid_v4(json_string_value(json_object_get(root, "event_id"))));
    const char *ts = json_string_value(json_object_get(root, "timestamp"));
    assert_non_null(ts);
    int64_t us;
    assert_int_equal(gtp_time_parse(ts, strlen(ts), &us, NULL, 0), 0);
    assert_true(us / 1000000 == ev->sim_us / 1000000);
    assert_int_equal(strlen(ts), 20); /* 2024-03-15T10:30:00Z */
    assert_true(json_is_string(json_object_get(root, "source")));
    json_t *p = json_object_get(root, "payload");
    assert_true(json_is_object(p));
    assert_int_equal(json_object_size(p), 6);
    i = 0;
    json_object_foreach(p, key, v)
    {
        assert_string_equal(key, pay[i]);
        i++;
    }
    for (i = 0; i < 5; i++)
        assert_true(json_is_string(json_object_get(p, pay[i])));
    assert_true(json_is_boolean(json_object_get(p, "is_remote")));
    const char *jid = json_string_value(json_object_get(p, "job_id"));
    assert_non_null(ev->key);
    assert_int_equal(ev->key_len, strlen(jid));
    assert_memory_equal(ev->key, jid, ev->key_len);
    assert_true(valid_utf8((const unsigned char *)ev->value, ev->len));
    json_decref(root);
}

static void test_clean_shape_and_unique_ids(void **state)
{
    (void)state;
    struct gen *g = mk(7, 0, GEN_CHAOS_ALL, START_US);
    struct gen_event ev;
    size_t n = 10000;
    char(*ids)[37] = calloc(n, 37);
    int64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        gen_next(g, &ev);
        assert_int_equal(ev.chaos, GEN_CHAOS_NONE);
        assert_true(ev.sim_us >= prev);
        prev = ev.sim_us;
        check_clean(&ev);
        assert_null(memchr(ev.value, '\n', ev.len));
        memcpy(ids[i], ev.value + 14, 36); /* {"event_id": "<36>" */
    }
    qsort(ids, n, 37, (int (*)(const void *, const void *))strcmp);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(ids[i - 1], ids[i]) != 0);
    free(ids);
    gen_free(g);
}

/* Per-kind properties: what makes each chaotic event chaotic. */
static void check_chaos(const struct gen_event *ev, const char *const *history, size_t nhist)
{
    json_t *root = json_loadb(ev->value, ev->len, JSON_ALLOW_NUL, NULL);
    json_t *p = root ? json_object_get(root, "payload") : NULL;
    const char *ts = root ? json_string_value(json_object_get(root, "timestamp")) : NULL;
    int64_t us = 0;
    switch (ev->chaos) {
    case GEN_CHAOS_BAD_LOCATION: {
        assert_non_null(root);
        json_t *loc = json_object_get(p, "location");
        const char *s = json_string_value(loc);
        assert_true(json_is_null(loc) || (s && strlen(s) <= 24 && !strchr(s, ',')) ||
                    (s && strcmp(s, "Atlantis, Ocean") == 0) || (s && strcmp(s, "0.0, 0.0") == 0));
        break;
    }
    case GEN_CHAOS_BAD_DATE:
        assert_non_null(ts);
        assert_true(gtp_time_parse(ts, strlen(ts), &us, NULL, 0) != 0);
        break;
    case GEN_CHAOS_TIME_FORMAT:
        assert_non_null(ts);
        assert_int_equal(gtp_time_parse(ts, strlen(ts), &us, NULL, 0), 0);
        assert_true(us <= ev->sim_us && ev->sim_us - us < 1000000);
        assert_true(strlen(ts) > 20); /* offset or fraction */
        break;
    case GEN_CHAOS_MISSING_FIELD:
        assert_non_null(root);
        assert_true(!json_object_get(root, "event_id") || !ts || !p ||
                    !json_object_get(p, "job_id") || !json_object_get(p, "title"));
        if (!p || !json_object_get(p, "job_id"))
            assert_null(ev->key);
        break;
    case GEN_CHAOS_WRONG_TYPE:
        assert_non_null(root);
        assert_true(json_is_string(p) || json_is_integer(json_object_get(p, "title")) ||
                    json_is_integer(json_object_get(p, "job_id")) ||
                    json_is_string(json_object_get(p, "is_remote")));
        break;
    case GEN_CHAOS_MALFORMED:
        assert_null(root);
        assert_null(memchr(ev->value, '\n', ev->len));
        break;
    case GEN_CHAOS_INVALID_UTF8:
        assert_false(valid_utf8((const unsigned char *)ev->value, ev->len));
        break;
    case GEN_CHAOS_OVERSIZED:
        assert_non_null(root);
        assert_true(ev->len >= 100 * 1024 && ev->len <= 1200 * 1024);
        break;
    case GEN_CHAOS_HTML:
        assert_non_null(root);
        assert_true(memchr(ev->value, '<', ev->len) != NULL);
        break;
    case GEN_CHAOS_DUPLICATE: {
        bool found = false;
        for (size_t i = 0; i < nhist && !found; i++)
            found = strlen(history[i]) == ev->len && memcmp(history[i], ev->value, ev->len) == 0;
        assert_true(found);
        break;
    }
    case GEN_CHAOS_LATE:
        assert_non_null(ts);
        assert_int_equal(gtp_time_parse(ts, strlen(ts), &us, NULL, 0), 0);
        assert_true(ev->sim_us - us >= INT64_C(3600000000) - 1000000);
        assert_true(ev->sim_us - us <= INT64_C(12) * 3600000000);
        break;
    case GEN_CHAOS_FUTURE:
        assert_non_null(ts);
        assert_true(strncmp(ts, "209", 3) == 0);
        break;
    default:
        fail_msg("unexpected kind %d", ev->chaos);
    }
    json_decref(root);
}

static void test_chaos_fraction_and_kinds(void **state)
{
    (void)state;
    struct gen *g = mk(7, 0.2, GEN_CHAOS_ALL, START_US);
    struct gen_event ev;
    size_t n = 20000, counts[GEN_CHAOS_NKINDS] = {0}, chaotic = 0;
    /* recent clean events, for checking duplicates */
    enum { NH = 256 };
    char *hist[NH] = {0};
    size_t hpos = 0;
    bool big = false;
    for (size_t i = 0; i < n; i++) {
        gen_next(g, &ev);
        if (ev.chaos == GEN_CHAOS_NONE) {
            check_clean(&ev);
            free(hist[hpos]);
            /* ev.value is not NUL-terminated: copy exactly len bytes */
            hist[hpos] = malloc(ev.len + 1);
            memcpy(hist[hpos], ev.value, ev.len);
            hist[hpos][ev.len] = '\0';
            hpos = (hpos + 1) % NH;
            continue;
        }
        assert_true(ev.chaos >= 0 && ev.chaos < GEN_CHAOS_NKINDS);
        counts[ev.chaos]++;
        chaotic++;
        check_chaos(&ev, (const char *const *)hist, NH);
        big |= ev.len > 1024 * 1024;
    }
    double frac = (double)chaotic / (double)n;
    assert_true(frac >= 0.18 && frac <= 0.22);
    for (int k = 0; k < GEN_CHAOS_NKINDS; k++)
        if (counts[k] == 0)
            fail_msg("chaos kind %s never occurred", gen_chaos_name(k));
    (void)big;
    for (size_t i = 0; i < NH; i++)
        free(hist[i]);
    gen_free(g);
}

static void test_chaos_kinds_mask(void **state)
{
    (void)state;
    unsigned mask;
    assert_int_equal(gen_chaos_parse("late, html", &mask, NULL, 0), 0);
    assert_int_equal(mask, (1u << GEN_CHAOS_LATE) | (1u << GEN_CHAOS_HTML));
    assert_int_equal(gen_chaos_parse("all", &mask, NULL, 0), 0);
    assert_int_equal(mask, GEN_CHAOS_ALL);
    assert_int_equal(gen_chaos_parse("none", &mask, NULL, 0), 0);
    assert_int_equal(mask, 0);
    char err[256];
    assert_int_equal(gen_chaos_parse("late,bogus", &mask, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "bogus"));

    /* only the enabled kinds occur, and chaos 1 makes every event chaotic */
    struct gen *g = mk(11, 1.0, (1u << GEN_CHAOS_FUTURE) | (1u << GEN_CHAOS_OVERSIZED), START_US);
    struct gen_event ev;
    size_t over_1mib = 0, n_over = 0;
    for (int i = 0; i < 400; i++) {
        gen_next(g, &ev);
        assert_true(ev.chaos == GEN_CHAOS_FUTURE || ev.chaos == GEN_CHAOS_OVERSIZED);
        check_chaos(&ev, NULL, 0);
        if (ev.chaos == GEN_CHAOS_OVERSIZED) {
            n_over++;
            over_1mib += ev.len > 1024 * 1024;
        }
    }
    /* some oversized events exceed the 1 MiB too_large limit, most do not */
    assert_true(n_over > 10);
    assert_true(over_1mib > 0 && over_1mib < n_over);
    gen_free(g);

    /* no kinds enabled: no chaos even at 1.0 */
    g = mk(11, 1.0, 0, START_US);
    for (int i = 0; i < 100; i++) {
        gen_next(g, &ev);
        assert_int_equal(ev.chaos, GEN_CHAOS_NONE);
    }
    gen_free(g);
}

static void test_coverage_countries_and_skills(void **state)
{
    (void)state;
    struct gen *g = mk(5, 0, GEN_CHAOS_ALL, START_US);
    struct gen_event ev;
    const char *countries[128];
    size_t ncountries = 0;
    bool mentioned[GTP_ARRAY_LEN(spec_skill_ids)] = {0};
    char err[256];
    struct gtp_skills *sk = gtp_skills_load(GTP_TAXONOMY_DEFAULT, err, sizeof(err));
    struct gtp_regions *rg = gtp_regions_load(GTP_TAXONOMY_DEFAULT, err, sizeof(err));
    bool matched[GTP_ARRAY_LEN(spec_skill_ids)] = {0};
    size_t region_ok = 0, region_n = 0, false_pos = 0;
    for (int i = 0; i < 20000; i++) {
        gen_next(g, &ev);
        const struct posting *p = ev.posting;
        bool seen = false;
        for (size_t c = 0; c < ncountries; c++)
            seen |= strcmp(countries[c], p->country) == 0;
        if (!seen && strcmp(p->country, "REMOTE") != 0 && ncountries < 128)
            countries[ncountries++] = p->country;
        /* every recorded mention is really in the text */
        for (size_t s = 0; s < p->nskills; s++) {
            assert_non_null(strstr(p->desc.p, p->forms[s]));
            const char *id = model_skill_id(p->skills[s]);
            for (size_t f = 0; f < GTP_ARRAY_LEN(spec_skill_ids); f++)
                if (strcmp(id, spec_skill_ids[f]) == 0)
                    mentioned[f] = true;
        }
        if (sk) { /* the pipeline's own matcher agrees the ids are there */
            struct gtp_skill_set set = {0};
            gtp_skills_match(sk, p->desc.p, p->desc.len, &set);
            for (size_t f = 0; f < GTP_ARRAY_LEN(spec_skill_ids); f++) {
                int idx = gtp_skills_find(sk, spec_skill_ids[f]);
                if (idx >= 0 && gtp_skill_set_has(&set, (size_t)idx))
                    matched[f] = true;
            }
            /* no false positives: nothing beyond what the generator wrote
             * (the title is quoted in the description, so its skills count) */
            struct gtp_skill_set title = {0};
            gtp_skills_match(sk, p->title, p->title_len, &title);
            for (size_t s = 0; s < p->nskills; s++) {
                int idx = gtp_skills_find(sk, model_skill_id(p->skills[s]));
                if (idx >= 0)
                    gtp_skill_set_add(&title, (size_t)idx);
            }
            for (size_t idx = 0; idx < gtp_skills_count(sk); idx++)
                if (gtp_skill_set_has(&set, idx) && !gtp_skill_set_has(&title, idx)) {
                    if (++false_pos <= 5)
                        print_message("unexpected skill %s in: %s\n", gtp_skills_id(sk, idx),
                                      p->desc.p);
                    break;
                }
        }
        if (rg) {
            const char *code = gtp_regions_lookup(rg, p->location, strlen(p->location));
            region_n++;
            if (code && strcasecmp(code, p->country) == 0)
                region_ok++;
            else if (region_n - region_ok <= 5)
                print_message("region of '%s': %s, generator says %s\n", p->location,
                              code ? code : "(null)", p->country);
        }
    }
    assert_true(ncountries >= 25);
    size_t nm = 0, nmatched = 0;
    for (size_t f = 0; f < GTP_ARRAY_LEN(spec_skill_ids); f++) {
        nm += mentioned[f];
        nmatched += matched[f];
    }
    print_message("countries %zu, fixed skill ids mentioned %zu, matched by taxonomy %zu, "
                  "regions agreeing %zu/%zu, postings with unexpected skills %zu\n",
                  ncountries, nm, nmatched, region_ok, region_n, false_pos);
    assert_true(nm >= 60);
    if (sk) {
        assert_true(nmatched >= 60);
        /* a trap phrase ("excel at", "spark innovation", ...) read as a skill
         * would show up in ~2 % of the postings */
        assert_true(false_pos <= 100);
    }
    if (rg)
        assert_int_equal(region_ok, region_n);
    gtp_skills_free(sk);
    gtp_regions_free(rg);
    gen_free(g);
}

/* Mentions of skill id per posting, over n postings drawn at sim_us by a model
 * whose market started at start. */
static double share_at(int64_t start, int64_t sim_us, const char *id, size_t n)
{
    struct model *m = model_new(market(), 9, start);
    struct posting p;
    struct rng r;
    posting_init(&p);
    rng_seed(&r, 99);
    int idx = model_skill_find(id);
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        model_make(m, &r, sim_us + (int64_t)(i % 3600) * 1000000, &p);
        for (size_t s = 0; s < p.nskills; s++)
            hits += p.skills[s] == idx;
    }
    posting_fini(&p);
    model_free(m);
    return (double)hits / (double)n;
}

/* Trends move relative to --start by what market_trend() says: a rising and a
 * falling skill over six days, measured at the same hour of the week. */
static void test_trends_follow_the_model(void **state)
{
    (void)state;
    const int64_t day = MARKET_DAY_US, noon = 12 * MARKET_HOUR_US;
    const char *ids[] = {"fastapi", "hadoop", "langchain", "python"};
    for (size_t i = 0; i < GTP_ARRAY_LEN(ids); i++) {
        int s = model_skill_find(ids[i]);
        assert_true(s >= 0);
        /* 2024-03-18 is a Monday; day 7 is the next Monday */
        int64_t start = START_US + 3 * day;
        double want = market_trend(market(), s, start, start + 7 * day + noon) /
                      market_trend(market(), s, start, start + noon);
        double a = share_at(start, start + noon, ids[i], 60000);
        double b = share_at(start, start + 7 * day + noon, ids[i], 60000);
        print_message("%s: share %.4f -> %.4f, model x%.3f\n", ids[i], a, b, want);
        if (strcmp(ids[i], "langchain") == 0) { /* emerging: from near zero */
            assert_true(a < 0.002 && b > 0.02);
            continue;
        }
        assert_true(b / a > want * 0.85 && b / a < want / 0.85);
    }
}

/* Each country follows its own working day: the US and India peak at their
 * local mornings, hours apart in UTC; weekends are quiet; the world curve has
 * more than one hump. */
static void test_local_working_days(void **state)
{
    (void)state;
    const struct market *m = market();
    int us = market_country_find(m, "US"), in = market_country_find(m, "IN");
    assert_true(us >= 0 && in >= 0);
    const int64_t wed = INT64_C(1710288000000000), hour = MARKET_HOUR_US; /* 2024-03-13 */
    int peak_us = 0, peak_in = 0;
    for (int h = 0; h < 24; h++) {
        if (market_activity(m, (size_t)us, wed + h * hour) >
            market_activity(m, (size_t)us, wed + peak_us * hour))
            peak_us = h;
        if (market_activity(m, (size_t)in, wed + h * hour) >
            market_activity(m, (size_t)in, wed + peak_in * hour))
            peak_in = h;
    }
    assert_int_equal(peak_us, 15);             /* 10:00 in New York */
    assert_true(peak_in == 4 || peak_in == 5); /* 10:00 in India is 04:30 UTC */
    assert_true(market_activity(m, (size_t)us, wed + 3 * 86400000000LL + 15 * hour) <
                0.3 * market_activity(m, (size_t)us, wed + 15 * hour));
    int humps = 0;
    for (int h = 0; h < 24; h++) {
        double prev = market_intensity(m, wed + ((h + 23) % 24) * hour);
        double cur = market_intensity(m, wed + h * hour);
        double next = market_intensity(m, wed + ((h + 1) % 24) * hour);
        humps += cur > prev && cur >= next;
    }
    assert_true(humps >= 2);
    /* the simulated clock's mean rate follows density (100/s) within the cycle's range */
    struct gen *g = mk(1, 0, GEN_CHAOS_ALL, wed);
    struct gen_event ev;
    for (int i = 0; i < 100000; i++)
        gen_next(g, &ev);
    double secs = (double)(ev.sim_us - wed) / 1e6;
    assert_true(secs > 100000 / 100.0 / 2.5 && secs < 100000 / 100.0 * 2.5);
    gen_free(g);
}

/* The employers are Zipf: the top 1 % hold the share their exponent says. */
static void test_employers_zipf(void **state)
{
    (void)state;
    const struct market *m = market();
    double total = 0, top = 0;
    for (size_t k = 0; k < m->nemployers; k++) {
        total += pow((double)(k + 1), -m->zipf_s);
        if (k < m->nemployers / 100)
            top += pow((double)(k + 1), -m->zipf_s);
    }
    struct gen *g = mk(4, 0, GEN_CHAOS_ALL, START_US);
    struct gen_event ev;
    size_t n = 200000, hits = 0;
    for (size_t i = 0; i < n; i++) {
        gen_next(g, &ev);
        hits += (size_t)ev.posting->employer < m->nemployers / 100;
    }
    gen_free(g);
    print_message("top 1%% of employers: %.4f of postings, Zipf says %.4f\n", (double)hits / n,
                  top / total);
    /* a few hours of a week: the mix of awake countries moves the share a little */
    assert_true(fabs((double)hits / n - top / total) < 0.08);
}

/* Big employers re-post: the same job_id days later with a new event_id. */
static void test_reposts(void **state)
{
    (void)state;
    struct gen_opts o = {.seed = 6,
                         .chaos = 0,
                         .chaos_mask = GEN_CHAOS_ALL,
                         .start_us = START_US,
                         .density = 0.5,
                         .market = market()};
    struct gen *g = gen_new(&o);
    struct gen_event ev;
    enum { N = 200000 };
    static char jobs[N][24];
    static int64_t when[N];
    size_t reposts = 0;
    for (size_t i = 0; i < N; i++) {
        gen_next(g, &ev);
        snprintf(jobs[i], sizeof(jobs[i]), "%.*s", (int)ev.key_len, ev.key);
        when[i] = ev.sim_us;
        if (ev.sim_us - START_US < 3 * MARKET_DAY_US || reposts >= 5)
            continue;
        for (size_t j = 0; j < i; j++)
            if (strcmp(jobs[j], jobs[i]) == 0) {
                assert_true(when[i] - when[j] >= 2 * MARKET_DAY_US);
                assert_true(ev.posting->employer < 100);
                reposts++;
                break;
            }
    }
    gen_free(g);
    assert_int_equal(reposts, 5);
}

/* market.tsv: bad input is refused with file:line and the reason. */
static void test_market_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"bogus\tx\n", "market.tsv:1: unknown record 'bogus'"},
        {"country\tUS\t-5\tsat-sun\t1\t1\n", "market.tsv:1: UTC offset"},
        {"country\tUS\t-05:00\tsun\t1\t1\n", "market.tsv:1: weekend"},
        {"# c\ncountry\tUS\t-05:00\tsat-sun\t1\t1\naffinity\tUS\tnosuch\t2\n",
         "market.tsv:3: unknown skill 'nosuch'"},
        {"affinity\tXX\tpython\t2\n", "market.tsv:1: unknown country 'XX'"},
        {"trend\tpython\tabc\t7\n", "market.tsv:1: 'abc' is not a number"},
        {"trend\tpython\t2\n", "market.tsv:1: trend needs 3 fields"},
        {"activity\tweekday\t1,2,3\n", "market.tsv:1: activity needs 24 values"},
        {"emerging\trag\t3\t1\t5\tNo Such Role\n", "market.tsv:1: unknown role 'No Such Role'"},
        {"country\tUS\t-05:00\tsat-sun\t1\t1\nemployer\tBad\"q\tUS\tjvm\n",
         "market.tsv:2: employer"},
        {"country\tUS\t-05:00\tsat-sun\t1\t1\ncountry\tUS\t-05:00\tsat-sun\t1\t1\n",
         "market.tsv:2: country 'US' listed twice"},
        {"", "market.tsv: activity weekday and activity weekend are both required"},
    };
    char dir[] = "/tmp/gtp-market-XXXXXX", path[256], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/market.tsv", dir);
    for (size_t i = 0; i < GTP_ARRAY_LEN(cases); i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(cases[i].text, f);
        fclose(f);
        err[0] = '\0';
        struct market *m = market_load(dir, err, sizeof(err));
        if (m || !strstr(err, cases[i].want))
            fail_msg("case %zu: got '%s', want '%s'", i, err, cases[i].want);
    }
    unlink(path);
    rmdir(dir);
    err[0] = '\0';
    assert_null(market_load(dir, err, sizeof(err)));
    assert_non_null(strstr(err, "market.tsv"));
}

static void test_time_format(void **state)
{
    (void)state;
    char buf[64];
    const int64_t t = INT64_C(1710498600123456); /* 2024-03-15T10:30:00.123456Z */
    gen_fmt_time(buf, t, 0, 0, true);
    assert_string_equal(buf, "2024-03-15T10:30:00Z");
    gen_fmt_time(buf, t, 6, 330, false);
    assert_string_equal(buf, "2024-03-15T16:00:00.123456+05:30");
    gen_fmt_time(buf, t, 3, -480, false);
    assert_string_equal(buf, "2024-03-15T02:30:00.123-08:00");
    gen_fmt_time(buf, t, 0, 0, false);
    assert_string_equal(buf, "2024-03-15T10:30:00+00:00");
    gen_fmt_time(buf, INT64_C(-1000000), 0, 0, true);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
}

static int parse_args(const char *const *args, int n)
{
    struct gen_cfg cfg;
    struct gtp_kvlist kv = {0};
    memset(&cfg, 0, sizeof(cfg));
    char err[256];
    int rc = gtp_cfg_parse(&gen_cli, &cfg, &kv, n, (char **)args, err, sizeof(err));
    gtp_cfg_free(&gen_cli, &cfg, &kv);
    return rc;
}

static void test_bad_flags(void **state)
{
    (void)state;
    const char *bogus[] = {"gtp-generator", "--bogus"};
    assert_int_equal(parse_args(bogus, 2), GTP_ERR_USAGE);
    assert_int_equal(gtp_err_exit_code(GTP_ERR_USAGE), 64);
    const char *chaos[] = {"gtp-generator", "--chaos", "1.5"};
    assert_int_equal(parse_args(chaos, 3), GTP_ERR_CONFIG);
    const char *ok[] = {"gtp-generator", "--out", "-",  "--count",    "10", "--seed", "7",
                        "--chaos",       "0",     "-X", "linger.ms=5"};
    assert_int_equal(parse_args(ok, 11), 0);
}

/* The gtp.sim_us header comes from the topic: anything but a plain decimal
 * int64 is refused, never half-read. */
static void test_resume_header(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        int rc;
        int64_t us;
    } cases[] = {
        {"1710460813804389", 0, INT64_C(1710460813804389)},
        {"0", 0, 0},
        {"-1000000", 0, INT64_C(-1000000)},
        {"9223372036854775807", 0, INT64_MAX},
        {"9223372036854775808", -1, 0}, /* overflow */
        {"", -1, 0},
        {"12x", -1, 0},
        {"+5", -1, 0},
        {" 5", -1, 0},
        {"1.5", -1, 0},
        {"12345678901234567890123", -1, 0}, /* longer than any int64 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t us = 42;
        int rc = gen_resume_parse(cases[i].v, strlen(cases[i].v), &us);
        assert_int_equal(rc, cases[i].rc);
        assert_int_equal(us, cases[i].rc == 0 ? cases[i].us : 42);
    }
    /* not NUL-terminated: only len bytes count */
    int64_t us = 0;
    assert_int_equal(gen_resume_parse("123456", 3, &us), 0);
    assert_int_equal(us, 123);
    assert_int_equal(gen_resume_parse(NULL, 0, &us), -1);
    const char *with_out[] = {"gtp-generator", "--out", "-", "--resume"};
    assert_int_equal(parse_args(with_out, 4), 0); /* main() refuses the pair: exit 78 */
}

/* gen_options_resolve: the options the table cannot check, each refused with the flag named. */
static void test_options_resolve(void **state)
{
    (void)state;
    const int64_t now = INT64_C(1767225600000000); /* 2026-01-01T00:00:00Z */
    /* gen_cfg holds owned, mutable strings */
    char seed42[] = "42", now2h[] = "now-2h", ahead[] = "2026-01-01T01:00:00Z", bad[] = "now-3x",
         neg[] = "-1", kinds[] = "late,nonsense";
    struct gen_cfg cfg = {.seed = seed42, .chaos = 0.1, .rate = 0};
    struct gen_opts go;
    char err[256];

    assert_int_equal(gen_options_resolve(&cfg, now, &go, err, sizeof(err)), 0);
    assert_int_equal(go.seed, 42);
    assert_int_equal(go.start_us, INT64_C(1710460800000000)); /* seeded: fixed start */
    assert_int_equal(go.origin_us, go.start_us);
    assert_true(go.density > 0 && go.chaos == 0.1 && go.market == NULL);

    cfg.start = now2h;
    cfg.rate = 250;
    assert_int_equal(gen_options_resolve(&cfg, now, &go, err, sizeof(err)), 0);
    assert_int_equal(go.start_us, now - INT64_C(7200000000));
    assert_true(go.density == 250);

    cfg.start = ahead; /* an hour ahead of the wall clock */
    assert_int_equal(gen_options_resolve(&cfg, now, &go, err, sizeof(err)), GTP_ERR_CONFIG);
    assert_non_null(strstr(err, "--start"));
    cfg.start = bad;
    assert_int_equal(gen_options_resolve(&cfg, now, &go, err, sizeof(err)), GTP_ERR_CONFIG);
    assert_non_null(strstr(err, "--start"));
    cfg.start = NULL;
    cfg.seed = neg;
    assert_int_equal(gen_options_resolve(&cfg, now, &go, err, sizeof(err)), GTP_ERR_CONFIG);
    assert_non_null(strstr(err, "--seed"));
    cfg.seed = NULL; /* from the time: a start at the wall clock */
    assert_int_equal(gen_options_resolve(&cfg, now, &go, err, sizeof(err)), 0);
    assert_int_equal(go.start_us, now);
    cfg.chaos_kinds = kinds;
    assert_int_equal(gen_options_resolve(&cfg, now, &go, err, sizeof(err)), GTP_ERR_CONFIG);
    assert_non_null(strstr(err, "--chaos-kinds"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_chaos_independent_clock),
        cmocka_unit_test(test_clean_shape_and_unique_ids),
        cmocka_unit_test(test_chaos_fraction_and_kinds),
        cmocka_unit_test(test_chaos_kinds_mask),
        cmocka_unit_test(test_coverage_countries_and_skills),
        cmocka_unit_test(test_trends_follow_the_model),
        cmocka_unit_test(test_local_working_days),
        cmocka_unit_test(test_employers_zipf),
        cmocka_unit_test(test_reposts),
        cmocka_unit_test(test_market_errors),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_options_resolve),
        cmocka_unit_test(test_resume_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
