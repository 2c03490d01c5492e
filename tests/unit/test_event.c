/* Event validation and enrichment: every reject reason from a crafted event,
 * the precedence between them, exact enriched fields, and hostile input
 * (invalid UTF-8, >1 MiB values, 100k-deep nesting, NUL bytes) that must
 * never crash. The fast path is checked against the jansson path on
 * generator events, mutations and crafted edge cases: identical results.
 * Run under ASan+UBSan in CI. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/event.h"
#include "gtp/taxonomy.h"
#include "gtp/timeparse.h"
#include "gtp/util.h"

#include "../../src/core/event_internal.h"

static struct gtp_taxonomy *tx;
static int64_t ref_us; /* 2024-03-16T00:00:00Z */

static int setup(void **state)
{
    char err[512];
    (void)state;
    tx = gtp_taxonomy_load(GTP_TAXONOMY_DEFAULT, err, sizeof(err));
    if (!tx)
        fprintf(stderr, "taxonomy: %s\n", err);
    gtp_time_parse("2024-03-16T00:00:00Z", 20, &ref_us, NULL, 0);
    return tx ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gtp_taxonomy_free(tx);
    return 0;
}

#define GOOD_PAYLOAD                                                                               \
    "{\"job_id\": \"123456\", \"title\": \"Senior Data Engineer\", \"company\": \"Tech Corp\", "   \
    "\"location\": \"London, UK\", \"description\": \"We need Spark, Kafka, and Python "           \
    "expert...\", \"is_remote\": true}"
#define EV(id, ts, payload)                                                                        \
    "{\"event_id\": " id ", \"timestamp\": " ts                                                    \
    ", \"source\": \"linkedin_sim\", \"payload\": " payload "}"

static const struct {
    const char *name, *json;
    enum gtp_reject want;
} cases[] = {
    {"seed event", EV("\"e1\"", "\"2024-03-15T10:30:00Z\"", GOOD_PAYLOAD), GTP_REJECT_NONE},
    {"offset", EV("\"e1\"", "\"2024-03-15T10:30:00+05:30\"", GOOD_PAYLOAD), GTP_REJECT_NONE},
    {"fraction", EV("\"e1\"", "\"2024-03-15T10:30:00.123Z\"", GOOD_PAYLOAD), GTP_REJECT_NONE},
    {"minimal",
     "{\"event_id\":\"e\",\"timestamp\":\"2024-03-15T10:30:00Z\",\"payload\":{\"job_id\":\"1\","
     "\"title\":\"t\"}}",
     GTP_REJECT_NONE},
    {"nulls in optional fields",
     "{\"event_id\":\"e\",\"timestamp\":\"2024-03-15T10:30:00Z\",\"source\":null,\"payload\":{"
     "\"job_id\":\"1\",\"title\":\"t\",\"company\":null,\"location\":null,\"description\":null,"
     "\"is_remote\":null}}",
     GTP_REJECT_NONE},
    {"extra fields", EV("\"e1\"", "\"2024-03-15T10:30:00Z\"", GOOD_PAYLOAD) "  \n",
     GTP_REJECT_NONE},
    {"exactly 1 h ahead", EV("\"e1\"", "\"2024-03-16T01:00:00Z\"", GOOD_PAYLOAD), GTP_REJECT_NONE},
    {"nul in description",
     "{\"event_id\":\"e\",\"timestamp\":\"2024-03-15T10:30:00Z\",\"payload\":{\"job_id\":\"1\","
     "\"title\":\"t\",\"description\":\"a\\u0000Python\"}}",
     GTP_REJECT_NONE},
    {"html in text",
     "{\"event_id\":\"e\",\"timestamp\":\"2024-03-15T10:30:00Z\",\"payload\":{\"job_id\":\"1\","
     "\"title\":\"<script>alert(1)</script>Engineer\",\"location\":\"<b onerror=x>Paris</b>\"}}",
     GTP_REJECT_NONE},

    {"truncated", "{\"event_id\": \"e1\", \"timestamp\": \"2024-03-15T10:30:00Z\", \"payl",
     GTP_REJECT_INVALID_JSON},
    {"not json", "hello world", GTP_REJECT_INVALID_JSON},
    {"empty", "", GTP_REJECT_INVALID_JSON},
    {"trailing garbage", EV("\"e1\"", "\"2024-03-15T10:30:00Z\"", GOOD_PAYLOAD) "x",
     GTP_REJECT_INVALID_JSON},
    {"raw control char", "{\"event_id\": \"e\x01\"}", GTP_REJECT_INVALID_JSON},
    {"lone surrogate escape", "{\"event_id\": \"\\ud800\"}", GTP_REJECT_INVALID_JSON},

    {"invalid byte", "{\"event_id\": \"\xff\"}", GTP_REJECT_INVALID_UTF8},
    {"overlong", "{\"event_id\": \"\xc0\xaf\"}", GTP_REJECT_INVALID_UTF8},
    {"surrogate bytes", "{\"event_id\": \"\xed\xa0\x80\"}", GTP_REJECT_INVALID_UTF8},
    {"above U+10FFFF", "{\"event_id\": \"\xf4\x90\x80\x80\"}", GTP_REJECT_INVALID_UTF8},
    {"truncated sequence at end", "{\"event_id\": \"\xe2\x82", GTP_REJECT_INVALID_UTF8},
    {"utf8 before json", "not json \xfe", GTP_REJECT_INVALID_UTF8},

    {"array", "[1, 2, 3]", GTP_REJECT_WRONG_TYPE},
    {"string", "\"event\"", GTP_REJECT_WRONG_TYPE},
    {"no event_id", "{\"timestamp\": \"2024-03-15T10:30:00Z\", \"payload\": " GOOD_PAYLOAD "}",
     GTP_REJECT_MISSING_FIELD},
    {"null event_id", EV("null", "\"2024-03-15T10:30:00Z\"", GOOD_PAYLOAD),
     GTP_REJECT_MISSING_FIELD},
    {"empty event_id", EV("\"\"", "\"2024-03-15T10:30:00Z\"", GOOD_PAYLOAD),
     GTP_REJECT_MISSING_FIELD},
    {"empty title", EV("\"e\"", "\"2024-03-15T10:30:00Z\"", "{\"job_id\": \"1\", \"title\": \"\"}"),
     GTP_REJECT_MISSING_FIELD},
    {"empty timestamp", EV("\"e\"", "\"\"", GOOD_PAYLOAD), GTP_REJECT_BAD_TIMESTAMP},
    {"no timestamp", "{\"event_id\": \"e\", \"payload\": " GOOD_PAYLOAD "}",
     GTP_REJECT_MISSING_FIELD},
    {"no payload", "{\"event_id\": \"e\", \"timestamp\": \"2024-03-15T10:30:00Z\"}",
     GTP_REJECT_MISSING_FIELD},
    {"no job_id", EV("\"e\"", "\"2024-03-15T10:30:00Z\"", "{\"title\": \"Senior Data Engineer\"}"),
     GTP_REJECT_MISSING_FIELD},
    {"no title", EV("\"e\"", "\"2024-03-15T10:30:00Z\"", "{\"job_id\": \"1\"}"),
     GTP_REJECT_MISSING_FIELD},
    {"missing before wrong type later", "{\"timestamp\": 5, \"payload\": " GOOD_PAYLOAD "}",
     GTP_REJECT_MISSING_FIELD},

    {"numeric event_id", EV("42", "\"2024-03-15T10:30:00Z\"", GOOD_PAYLOAD), GTP_REJECT_WRONG_TYPE},
    {"numeric timestamp", EV("\"e\"", "1710498600", GOOD_PAYLOAD), GTP_REJECT_WRONG_TYPE},
    {"payload string", EV("\"e\"", "\"2024-03-15T10:30:00Z\"", "\"{}\""), GTP_REJECT_WRONG_TYPE},
    {"numeric job_id",
     EV("\"e\"", "\"2024-03-15T10:30:00Z\"", "{\"job_id\": 123456, \"title\": \"t\"}"),
     GTP_REJECT_WRONG_TYPE},
    {"numeric title", EV("\"e\"", "\"2024-03-15T10:30:00Z\"", "{\"job_id\": \"1\", \"title\": 7}"),
     GTP_REJECT_WRONG_TYPE},
    {"is_remote yes",
     EV("\"e\"", "\"2024-03-15T10:30:00Z\"",
        "{\"job_id\": \"1\", \"title\": \"t\", \"is_remote\": \"yes\"}"),
     GTP_REJECT_WRONG_TYPE},
    {"location number",
     EV("\"e\"", "\"2024-03-15T10:30:00Z\"",
        "{\"job_id\": \"1\", \"title\": \"t\", \"location\": 44}"),
     GTP_REJECT_WRONG_TYPE},
    {"company object",
     EV("\"e\"", "\"2024-03-15T10:30:00Z\"",
        "{\"job_id\": \"1\", \"title\": \"t\", \"company\": {}}"),
     GTP_REJECT_WRONG_TYPE},
    {"description array",
     EV("\"e\"", "\"2024-03-15T10:30:00Z\"",
        "{\"job_id\": \"1\", \"title\": \"t\", \"description\": [\"Python\"]}"),
     GTP_REJECT_WRONG_TYPE},
    {"source bool",
     "{\"event_id\":\"e\",\"timestamp\":\"2024-03-15T10:30:00Z\",\"source\":true,"
     "\"payload\":{\"job_id\":\"1\",\"title\":\"t\"}}",
     GTP_REJECT_WRONG_TYPE},
    {"field order: job_id type before missing title",
     EV("\"e\"", "\"yesterday\"", "{\"job_id\": 1}"), GTP_REJECT_WRONG_TYPE},
    {"field order: missing title before bad timestamp",
     EV("\"e\"", "\"yesterday\"", "{\"job_id\": \"1\"}"), GTP_REJECT_MISSING_FIELD},
    {"optional type before bad timestamp",
     EV("\"e\"", "\"yesterday\"", "{\"job_id\": \"1\", \"title\": \"t\", \"is_remote\": 1}"),
     GTP_REJECT_WRONG_TYPE},

    {"yesterday", EV("\"e\"", "\"yesterday\"", GOOD_PAYLOAD), GTP_REJECT_BAD_TIMESTAMP},
    {"feb 30", EV("\"e\"", "\"2024-02-30T10:00:00Z\"", GOOD_PAYLOAD), GTP_REJECT_BAD_TIMESTAMP},
    {"month 13", EV("\"e\"", "\"2024-13-01T10:00:00Z\"", GOOD_PAYLOAD), GTP_REJECT_BAD_TIMESTAMP},
    {"hour 25", EV("\"e\"", "\"2024-03-15T25:00:00Z\"", GOOD_PAYLOAD), GTP_REJECT_BAD_TIMESTAMP},
    {"year 1850", EV("\"e\"", "\"1850-03-15T10:00:00Z\"", GOOD_PAYLOAD), GTP_REJECT_BAD_TIMESTAMP},
    {"year 2150", EV("\"e\"", "\"2150-03-15T10:00:00Z\"", GOOD_PAYLOAD), GTP_REJECT_BAD_TIMESTAMP},
    {"nul in timestamp", EV("\"e\"", "\"2024-03-15T10:00:00Z\\u0000\"", GOOD_PAYLOAD),
     GTP_REJECT_BAD_TIMESTAMP},
    {"no zone", EV("\"e\"", "\"2024-03-15T10:00:00\"", GOOD_PAYLOAD), GTP_REJECT_BAD_TIMESTAMP},

    {"far future", EV("\"e\"", "\"2095-06-01T00:00:00Z\"", GOOD_PAYLOAD),
     GTP_REJECT_FUTURE_TIMESTAMP},
    {"1 h + 1 us ahead", EV("\"e\"", "\"2024-03-16T01:00:00.000001Z\"", GOOD_PAYLOAD),
     GTP_REJECT_FUTURE_TIMESTAMP},
    {"ahead via offset", EV("\"e\"", "\"2024-03-16T00:30:00-01:00\"", GOOD_PAYLOAD),
     GTP_REJECT_FUTURE_TIMESTAMP},
};

static void test_reject_table(void **state)
{
    struct gtp_event ev;
    int seen[GTP_REJECT_COUNT] = {0};
    (void)state;
    gtp_event_init(&ev);
    for (size_t i = 0; i < GTP_ARRAY_LEN(cases); i++) {
        enum gtp_reject r =
            gtp_event_process(&ev, tx, cases[i].json, strlen(cases[i].json), ref_us);
        if (r != cases[i].want)
            fprintf(stderr, "%s: got %s (%s), want %s\n", cases[i].name, gtp_reject_name(r),
                    ev.detail, gtp_reject_name(cases[i].want));
        assert_int_equal(r, cases[i].want);
        assert_int_equal(ev.reject, r);
        if (r)
            assert_true(ev.detail[0] != '\0');
        seen[r]++;
    }
    /* too_large is covered by test_oversize; every other reason is in the table. */
    for (int r = 0; r < GTP_REJECT_COUNT; r++)
        if (r != GTP_REJECT_TOO_LARGE)
            assert_true(seen[r] > 0);
    gtp_event_fini(&ev);
}

static void test_names(void **state)
{
    static const char *const want[] = {
        "none",       "invalid_json",  "invalid_utf8",     "missing_field",
        "wrong_type", "bad_timestamp", "future_timestamp", "too_large"};
    (void)state;
    for (int r = 0; r < GTP_REJECT_COUNT; r++) {
        assert_string_equal(gtp_reject_name((enum gtp_reject)r), want[r]);
        if (r)
            assert_int_equal(gtp_reject_parse(want[r]), r);
    }
    assert_string_equal(gtp_reject_name((enum gtp_reject)99), "unknown");
    assert_int_equal(gtp_reject_parse("nope"), -1);
}

/* The enriched record of the seed event, serialized, field by field. */
static void test_enriched_exact(void **state)
{
    static const char *in = EV("\"e1\"", "\"2024-03-15T16:00:00.25+05:30\"", GOOD_PAYLOAD);
    static const char *want =
        "{\"event_id\":\"e1\",\"posted_at\":\"2024-03-15T10:30:00.250000Z\","
        "\"date_posted\":\"2024-03-15\",\"title\":\"Senior Data Engineer\",\"company\":\"Tech "
        "Corp\",\"skills_array\":[\"python\",\"spark\",\"kafka\"],\"experience_level\":\"Senior\","
        "\"region\":\"UK\",\"job_id\":\"123456\",\"source\":\"linkedin_sim\",\"location\":"
        "\"London, UK\",\"is_remote\":true}";
    struct gtp_event ev;
    char *buf = NULL;
    size_t cap = 0, n;
    (void)state;
    gtp_event_init(&ev);
    assert_int_equal(gtp_event_process(&ev, tx, in, strlen(in), ref_us), GTP_REJECT_NONE);
    n = gtp_event_to_json(&ev, tx->skills, &buf, &cap);
    assert_int_equal(n, strlen(want));
    assert_string_equal(buf, want);
    assert_string_equal(ev.region, "UK");
    assert_int_equal(ev.level, GTP_SENIORITY_SENIOR);
    assert_int_equal(ev.is_remote, 1);

    /* Optional fields absent -> null; remote region; NUL escaped; no skills. */
    static const char *in2 =
        "{\"event_id\":\"e\\u0000x\",\"timestamp\":\"2024-03-15T10:30:00Z\",\"payload\":{"
        "\"job_id\":\"1\",\"title\":\"Data Engineer\",\"location\":\"Remote\"}}";
    static const char *want2 =
        "{\"event_id\":\"e\\u0000x\",\"posted_at\":\"2024-03-15T10:30:00Z\",\"date_posted\":"
        "\"2024-03-15\",\"title\":\"Data Engineer\",\"company\":null,\"skills_array\":[],"
        "\"experience_level\":\"Unspecified\",\"region\":\"REMOTE\",\"job_id\":\"1\",\"source\":"
        "null,\"location\":\"Remote\",\"is_remote\":null}";
    assert_int_equal(gtp_event_process(&ev, tx, in2, strlen(in2), ref_us), GTP_REJECT_NONE);
    assert_int_equal(ev.event_id.len, 3);
    gtp_event_to_json(&ev, tx->skills, &buf, &cap);
    assert_string_equal(buf, want2);

    /* Garbage location -> UNKNOWN; the output parses back as JSON. */
    static const char *in3 =
        "{\"event_id\":\"e\",\"timestamp\":\"2024-03-15T10:30:00Z\",\"payload\":{\"job_id\":\"1\","
        "\"title\":\"Lead \\\"Data\\\" Engineer\\n\",\"location\":\"%%%###\",\"is_remote\":false,"
        "\"description\":\"PyTorch and k8s\"}}";
    assert_int_equal(gtp_event_process(&ev, tx, in3, strlen(in3), ref_us), GTP_REJECT_NONE);
    n = gtp_event_to_json(&ev, tx->skills, &buf, &cap);
    json_error_t jerr;
    json_t *back = json_loadb(buf, n, 0, &jerr);
    assert_non_null(back);
    assert_string_equal(json_string_value(json_object_get(back, "region")), "UNKNOWN");
    assert_string_equal(json_string_value(json_object_get(back, "experience_level")), "Lead");
    assert_string_equal(json_string_value(json_object_get(back, "title")),
                        "Lead \"Data\" Engineer\n");
    assert_true(json_is_false(json_object_get(back, "is_remote")));
    assert_int_equal(json_array_size(json_object_get(back, "skills_array")), 2);
    json_decref(back);

    /* Reject JSON. */
    assert_int_equal(gtp_event_process(&ev, tx, "{", 1, ref_us), GTP_REJECT_INVALID_JSON);
    gtp_event_reject_json(&ev, &buf, &cap);
    back = json_loads(buf, 0, &jerr);
    assert_non_null(back);
    assert_string_equal(json_string_value(json_object_get(back, "rejected")), "invalid_json");
    json_decref(back);
    free(buf);
    gtp_event_fini(&ev);
}

/* A valid event whose description pads the value to exactly n bytes. */
static char *sized_event(size_t n)
{
    static const char *head = "{\"event_id\":\"e\",\"timestamp\":\"2024-03-15T10:30:00Z\","
                              "\"payload\":{\"job_id\":\"1\",\"title\":\"t\",\"description\":\"";
    static const char *tail = "\"}}";
    size_t h = strlen(head), t = strlen(tail);
    char *s = gtp_xmalloc(n + 1);
    memcpy(s, head, h);
    for (size_t i = h; i < n - t; i++)
        s[i] = "Python Spark "[i % 13];
    memcpy(s + n - t, tail, t + 1);
    return s;
}

static void test_oversize(void **state)
{
    struct gtp_event ev;
    (void)state;
    gtp_event_init(&ev);
    char *s = sized_event(GTP_EVENT_MAX_BYTES);
    assert_int_equal(gtp_event_process(&ev, tx, s, GTP_EVENT_MAX_BYTES, ref_us), GTP_REJECT_NONE);
    /* head (up to the description's opening quote) and tail ("}}) of sized_event */
    assert_int_equal(ev.description.len,
                     GTP_EVENT_MAX_BYTES - (size_t)(strstr(s, "\"description\":\"") + 15 - s) - 3);
    free(s);
    s = sized_event(GTP_EVENT_MAX_BYTES + 1);
    assert_int_equal(gtp_event_process(&ev, tx, s, GTP_EVENT_MAX_BYTES + 1, ref_us),
                     GTP_REJECT_TOO_LARGE);
    /* Size is checked first, even for garbage. */
    memset(s, 0xff, GTP_EVENT_MAX_BYTES + 1);
    assert_int_equal(gtp_event_process(&ev, tx, s, GTP_EVENT_MAX_BYTES + 1, ref_us),
                     GTP_REJECT_TOO_LARGE);
    free(s);
    gtp_event_fini(&ev);
}

static void test_hostile(void **state)
{
    struct gtp_event ev;
    size_t depth = 100000;
    char *s = gtp_xmalloc(2 * depth + 200);
    (void)state;
    gtp_event_init(&ev);

    /* 100k levels of nesting, bare and inside a payload field. */
    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    assert_int_equal(gtp_event_process(&ev, tx, s, 2 * depth, ref_us), GTP_REJECT_INVALID_JSON);
    size_t n = (size_t)sprintf(s, "{\"event_id\":\"e\",\"timestamp\":\"2024-03-15T10:30:00Z\","
                                  "\"payload\":{\"job_id\":\"1\",\"title\":\"t\",\"x\":");
    memset(s + n, '[', depth);
    n += depth;
    memcpy(s + n, "}}", 2);
    assert_int_equal(gtp_event_process(&ev, tx, s, n + 2, ref_us), GTP_REJECT_INVALID_JSON);

    /* Raw NUL bytes anywhere: never valid JSON, never a crash. */
    static const char nul[] = "{\"event_id\":\"e\0\",\"timestamp\":\"x\"}";
    assert_int_equal(gtp_event_process(&ev, tx, nul, sizeof(nul) - 1, ref_us),
                     GTP_REJECT_INVALID_JSON);
    assert_int_equal(gtp_event_process(&ev, tx, "\0\0\0", 3, ref_us), GTP_REJECT_INVALID_JSON);
    assert_int_equal(gtp_event_process(&ev, tx, NULL, 0, ref_us), GTP_REJECT_INVALID_JSON);

    /* Every single-byte value at a string position, and random mutations of a
     * good event: each gets some verdict, and accepted ones serialize. */
    const char *good = EV("\"e1\"", "\"2024-03-15T10:30:00Z\"", GOOD_PAYLOAD);
    size_t glen = strlen(good);
    char *m = gtp_xmalloc(glen + 1), *out = NULL;
    size_t cap = 0;
    uint64_t x = 88172645463325252ULL;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(m, good, glen);
        for (int k = 0; k < 1 + iter % 4; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            m[x % glen] = (char)(iter < 256 ? iter : (int)(x >> 32));
        }
        size_t len = glen - (iter % 7 == 0 ? x % glen : 0);
        enum gtp_reject r = gtp_event_process(&ev, tx, m, len, ref_us);
        assert_true(r >= 0 && r < GTP_REJECT_COUNT);
        if (r == GTP_REJECT_NONE)
            gtp_event_to_json(&ev, tx->skills, &out, &cap);
        else
            gtp_event_reject_json(&ev, &out, &cap);
        assert_true(gtp_utf8_valid(out, strlen(out), NULL));
    }
    free(out);
    free(m);
    free(s);
    gtp_event_fini(&ev);
}

static void test_utf8(void **state)
{
    static const struct {
        const char *s;
        int ok;
    } utf8_cases[] = {
        {"", 1},
        {"plain ascii long enough for the fast path", 1},
        {"caf\xc3\xa9", 1},
        {"\xe2\x82\xac euro", 1},
        {"\xf0\x9f\x98\x80", 1},
        {"\xef\xbf\xbf", 1},
        {"\xf4\x8f\xbf\xbf", 1},
        {"\xc3", 0},
        {"\xc1\xbf", 0},
        {"\xe0\x9f\xbf", 0},
        {"\xed\xbf\xbf", 0},
        {"\xf0\x8f\xbf\xbf", 0},
        {"\xf5\x80\x80\x80", 0},
        {"\x80", 0},
        {"abcdefgh\xff", 0},
        {"\xe2\x28\xa1", 0},
    };
    (void)state;
    for (size_t i = 0; i < GTP_ARRAY_LEN(utf8_cases); i++)
        assert_int_equal(gtp_utf8_valid(utf8_cases[i].s, strlen(utf8_cases[i].s), NULL),
                         utf8_cases[i].ok);
    size_t bad = 0;
    assert_false(gtp_utf8_valid("abcdefghij\xff", 11, &bad));
    assert_int_equal(bad, 10);
}

/* ---- fast path vs jansson path ------------------------------------------------- */

struct diff_stats {
    size_t n, fast, fast_by[GTP_REJECT_COUNT], by[GTP_REJECT_COUNT];
    size_t shape, shape_by[GTP_REJECT_COUNT]; /* read by the remembered layout */
};

static int str_same(struct gtp_str a, struct gtp_str b)
{
    if (!a.s || !b.s)
        return !a.s && !b.s;
    return a.len == b.len && memcmp(a.s, b.s, a.len) == 0;
}

/* Run buf through gtp_event_process() and through the jansson path plus
 * gtp_event_enrich(); every observable result must be the same. */
static void check_same(struct gtp_event *fa, struct gtp_event *sl, const char *buf, size_t len,
                       struct diff_stats *st)
{
    static char *out_f, *out_s;
    static size_t cap_f, cap_s;
    const char *bad = NULL;
    enum gtp_reject rf = gtp_event_process(fa, tx, buf, len, ref_us);
    enum gtp_reject rs = gtp_event_parse_slow(sl, buf, len, ref_us);
    if (rs == GTP_REJECT_NONE)
        gtp_event_enrich(sl, tx);

    static const size_t offs[] = {
        offsetof(struct gtp_event, event_id), offsetof(struct gtp_event, timestamp),
        offsetof(struct gtp_event, source),   offsetof(struct gtp_event, job_id),
        offsetof(struct gtp_event, title),    offsetof(struct gtp_event, company),
        offsetof(struct gtp_event, location), offsetof(struct gtp_event, description),
    };
    if (rf != rs || fa->reject != sl->reject)
        bad = "reject reason";
    else if (strcmp(fa->detail, sl->detail) != 0)
        bad = "detail";
    else if (fa->posted_us != sl->posted_us)
        bad = "posted_us";
    else if (fa->is_remote != sl->is_remote)
        bad = "is_remote";
    else if (strcmp(fa->region, sl->region) != 0 || fa->level != sl->level)
        bad = "region/level";
    else if (memcmp(&fa->skills, &sl->skills, sizeof(fa->skills)) != 0)
        bad = "skills";
    else if (fa->parsed_fast && fa->root)
        bad = "root kept on the fast path";
    for (size_t i = 0; !bad && i < GTP_ARRAY_LEN(offs); i++) {
        const struct gtp_str *a = (const void *)((const char *)fa + offs[i]);
        const struct gtp_str *b = (const void *)((const char *)sl + offs[i]);
        if (!str_same(*a, *b))
            bad = "a string field";
        else if (a->s && a->s[a->len] != '\0')
            bad = "a string field not NUL-terminated";
    }
    if (!bad && rf == GTP_REJECT_NONE) {
        size_t nf = gtp_event_to_json(fa, tx->skills, &out_f, &cap_f);
        size_t ns = gtp_event_to_json(sl, tx->skills, &out_s, &cap_s);
        if (nf != ns || memcmp(out_f, out_s, nf) != 0)
            bad = "serialized record";
    }
    if (bad) {
        fprintf(stderr,
                "fast and jansson paths differ in %s (fast path taken: %d) on %zu bytes: "
                "%.*s\n  fast:    %s (%s)\n  jansson: %s (%s)\n",
                bad, fa->parsed_fast, len, (int)(len < 400 ? len : 400), buf ? buf : "",
                gtp_reject_name(rf), fa->detail, gtp_reject_name(rs), sl->detail);
        fail();
    }
    st->n++;
    st->by[rf]++;
    if (fa->parsed_fast) {
        st->fast++;
        st->fast_by[rf]++;
    }
    if (fa->parsed_shape) {
        st->shape++;
        st->shape_by[rf]++;
    }
}

static void report(const char *what, const struct diff_stats *st)
{
    fprintf(stderr,
            "%s: %zu events, %zu on the fast path (accepted %zu of %zu), %zu by the remembered "
            "layout (accepted %zu, missing_field %zu, wrong_type %zu, bad_timestamp %zu)\n",
            what, st->n, st->fast, st->fast_by[GTP_REJECT_NONE], st->by[GTP_REJECT_NONE], st->shape,
            st->shape_by[GTP_REJECT_NONE], st->shape_by[GTP_REJECT_MISSING_FIELD],
            st->shape_by[GTP_REJECT_WRONG_TYPE], st->shape_by[GTP_REJECT_BAD_TIMESTAMP]);
}

/* Lines of `gtp-generator --out -` (seeded: the same bytes every run). */
static char **generator_lines(const char *args, size_t *count, size_t **lens)
{
    const char *dir = getenv("GTP_BUILD_DIR");
    char cmd[1024], *line = NULL, **v = NULL;
    size_t cap = 0, n = 0, vcap = 0;
    ssize_t got;

    snprintf(cmd, sizeof(cmd), "%s/gtp-generator --out - --metrics-port 0 --rate 0 %s 2>/dev/null",
             dir ? dir : ".", args);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    while ((got = getline(&line, &cap, f)) > 0) {
        if (n == vcap) {
            vcap = vcap ? vcap * 2 : 1024;
            v = gtp_xrealloc(v, vcap * sizeof(*v));
            *lens = gtp_xrealloc(*lens, vcap * sizeof(**lens));
        }
        if (line[got - 1] == '\n')
            got--;
        v[n] = gtp_xmalloc((size_t)got + 1);
        memcpy(v[n], line, (size_t)got);
        v[n][got] = '\0';
        (*lens)[n++] = (size_t)got;
    }
    free(line);
    if (pclose(f) != 0 || n == 0)
        fprintf(stderr, "cannot run %s (set GTP_BUILD_DIR to the build tree)\n", cmd);
    *count = n;
    return v;
}

static void free_lines(char **v, size_t n, size_t *lens)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    free(lens);
}

/* (a) 20,000 chaotic generator events. */
static void test_diff_generator(void **state)
{
    struct gtp_event fa, sl;
    struct diff_stats st = {0};
    size_t n, *lens = NULL;
    (void)state;
    char **v = generator_lines("--count 20000 --seed 11 --chaos 0.3", &n, &lens);
    assert_int_equal(n, 20000);
    gtp_event_init(&fa);
    gtp_event_init(&sl);
    for (size_t i = 0; i < n; i++)
        check_same(&fa, &sl, v[i], lens[i], &st);
    report("generator --chaos 0.3", &st);
    /* The comparison means something only if the fast path did the work:
     * every clean event takes it (70 % are clean), and it rejects some. */
    assert_true(st.fast_by[GTP_REJECT_NONE] * 100 >= st.by[GTP_REJECT_NONE] * 95);
    assert_true(st.fast * 100 >= st.n * 70);
    assert_true(st.fast_by[GTP_REJECT_MISSING_FIELD] > 0);
    assert_true(st.fast_by[GTP_REJECT_BAD_TIMESTAMP] > 0);
    assert_true(st.fast_by[GTP_REJECT_FUTURE_TIMESTAMP] > 0);
    gtp_event_fini(&fa);
    gtp_event_fini(&sl);
    free_lines(v, n, lens);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Bytes that move the JSON grammar around, more often than random ones. */
static const char *const pieces[] = {
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\\",
    " ",
    "\t",
    "\n",
    "\r",
    "\f",
    "/",
    "b",
    "n",
    "t",
    "u",
    "0",
    "1",
    "-",
    ".",
    "e",
    "a",
    "_",
    "true",
    "false",
    "null",
    "\\u0000",
    "\\\"",
    "\\n",
    "\\u00e9",
    "\xc3\xa9",
    "\x01",
    "\x7f",
    "\"\":",
    "\"title\":",
    "\"job_id\":\"x\",",
    "\"payload\":{},",
    "\"is_remote\":",
    "[[[[",
    "]]]]",
    "1e999",
    "-0",
    "\"\"",
};

static size_t mutate(char *m, size_t len, size_t cap)
{
    int ops = 1 + (int)(rng() % 3);
    for (int k = 0; k < ops && len > 0; k++) {
        size_t at = rng() % len;
        char one[2] = {(char)(rng() & 0xff), 0};
        const char *pc = rng() % 8 == 0 ? one : pieces[rng() % GTP_ARRAY_LEN(pieces)];
        size_t pl = pc == one ? 1 : strlen(pc);
        switch (rng() % 6) {
        case 0: /* replace */
        case 1:
            if (at + pl <= len)
                memcpy(m + at, pc, pl);
            break;
        case 2: /* insert */
            if (len + pl <= cap) {
                memmove(m + at + pl, m + at, len - at);
                memcpy(m + at, pc, pl);
                len += pl;
            }
            break;
        case 3: /* delete a few bytes */
        {
            size_t d = 1 + rng() % 4;
            if (at + d <= len) {
                memmove(m + at, m + at + d, len - at - d);
                len -= d;
            }
            break;
        }
        case 4: /* copy a slice elsewhere: repeated keys, nesting */
        {
            size_t from = rng() % len, sl = 1 + rng() % 40;
            if (from + sl <= len && len + sl <= cap) {
                char tmp[40];
                memcpy(tmp, m + from, sl);
                memmove(m + at + sl, m + at, len - at);
                memcpy(m + at, tmp, sl);
                len += sl;
            }
            break;
        }
        default: /* truncate */
            if (rng() % 4 == 0)
                len = at;
        }
    }
    return len;
}

/* (b) 50,000 mutations of valid events. */
static void test_diff_mutations(void **state)
{
    struct gtp_event fa, sl;
    struct diff_stats st = {0};
    size_t n, *lens = NULL, nbase = 0;
    const char *base[64];
    size_t blen[64];
    (void)state;
    char **v = generator_lines("--count 200 --seed 5 --chaos 0", &n, &lens);
    assert_true(n == 200);
    base[nbase] = EV("\"e1\"", "\"2024-03-15T10:30:00Z\"", GOOD_PAYLOAD);
    blen[nbase] = strlen(base[nbase]);
    nbase++;
    base[nbase] = "{\"event_id\":\"e\\\\\\/\\\"\",\"timestamp\":\"2024-03-15T10:30:00Z\","
                  "\"payload\":{\"job_id\":\"1\",\"title\":\"Senior\\tPython\\nDev\",\"x\":[{},[],"
                  "null,true,\"s\"],\"description\":\"Kafka\\r\\b\\f\",\"is_remote\":false}}";
    blen[nbase] = strlen(base[nbase]);
    nbase++;
    for (size_t i = 0; i < n && nbase < GTP_ARRAY_LEN(base); i += 4, nbase++) {
        base[nbase] = v[i];
        blen[nbase] = lens[i];
    }
    gtp_event_init(&fa);
    gtp_event_init(&sl);
    char *m = gtp_xmalloc(4096);
    for (int iter = 0; iter < 50000; iter++) {
        size_t b = rng() % nbase;
        assert_true(blen[b] < 2048);
        memcpy(m, base[b], blen[b]);
        size_t len = mutate(m, blen[b], 4096);
        check_same(&fa, &sl, m, len, &st);
    }
    report("mutations", &st);
    assert_true(st.fast * 100 >= st.n * 20);
    assert_true(st.fast_by[GTP_REJECT_NONE] > 1000);
    assert_true(st.fast_by[GTP_REJECT_WRONG_TYPE] > 0);
    assert_true(st.fast_by[GTP_REJECT_MISSING_FIELD] > 0);
    assert_true(st.by[GTP_REJECT_INVALID_JSON] > 1000);
    free(m);
    gtp_event_fini(&fa);
    gtp_event_fini(&sl);
    free_lines(v, n, lens);
}

#define HEAD "{\"event_id\":\"e\",\"timestamp\":\"2024-03-15T10:30:00Z\","
#define PAY  "\"payload\":{\"job_id\":\"1\",\"title\":\"Python Dev\""

/* (c) crafted edge cases; fast says whether the fast path must decide
 * (1), must decline (0), or either (-1). */
static const struct {
    const char *json;
    int fast;
} edge[] = {
    /* duplicate keys: jansson keeps the last */
    {HEAD "\"event_id\":\"e2\"," PAY "}}", 0},
    {HEAD PAY ",\"title\":\"Go Dev\"}}", 0},
    {HEAD PAY "},\"payload\":{\"job_id\":\"2\",\"title\":\"t\"}}", 0},
    {HEAD PAY ",\"location\":null,\"location\":\"Paris\"}}", 0},
    {HEAD "\"source\":1,\"source\":\"s\"," PAY "}}", 0},
    {HEAD PAY ",\"x\":1,\"x\":2}}", 0},
    {HEAD PAY ",\"x\":\"a\",\"x\":\"b\"}}", 1},
    {HEAD PAY ",\"x\":{\"title\":\"a\",\"title\":\"b\"}}}", 1},
    {HEAD "\"x\":{\"payload\":1,\"payload\":2}," PAY "}}", 0},
    {HEAD "\"x\":{\"payload\":\"a\",\"payload\":\"b\"}," PAY "}}", 1},
    /* escapes */
    {HEAD PAY ",\"description\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t Python\"}}", 1},
    {"{\"event_id\":\"\\\"\",\"timestamp\":\"2024-03-15T10:30:00Z\"," PAY "}}", 1},
    {"{\"event_id\":\"e\",\"timestamp\":\"2024-03-15T10:30:00\\/Z\"," PAY "}}", 1},
    {"{\"event_id\":\"e\",\"timestamp\":\"\\t2024-03-15T10:30:00Z\"," PAY "}}", 1},
    {HEAD PAY ",\"location\":\"Lond\\u006fn, UK\"}}", 0},
    {HEAD PAY ",\"location\":\"\\ud83d\\ude00\"}}", 0},
    {HEAD PAY ",\"location\":\"\\ud83d\"}}", 0},
    {HEAD PAY ",\"location\":\"\\x41\"}}", 0},
    {HEAD PAY ",\"location\":\"\\'\"}}", 0},
    {HEAD PAY ",\"location\":\"a\\\"}}", 0},
    {HEAD PAY ",\"location\":\"a\\", 0},
    {"{\"event\\u005fid\":\"e\",\"timestamp\":\"2024-03-15T10:30:00Z\"," PAY "}}", 0},
    {"{\"event\\/id\":\"e\",\"timestamp\":\"2024-03-15T10:30:00Z\"," PAY "}}", 1},
    {"{\"event_id\\t\":\"e\",\"timestamp\":\"2024-03-15T10:30:00Z\"," PAY "}}", 1},
    {HEAD PAY ",\"\":\"empty key\",\"\\\"\":1}}", 0},
    {HEAD PAY ",\"\":\"empty key\",\"\\\"\":true}}", 1},
    {HEAD PAY ",\"location\":\"tab\there\"}}", 0},
    {HEAD PAY ",\"location\":\"del\x7fhere\"}}", 1},
    {HEAD PAY ",\"location\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}}", 1},
    /* UTF-8 boundaries in strings (U+0080, U+07FF, U+0800, U+FEFF, U+FFFE,
     * U+FFFF, U+10000, U+10FFFF), empty optional strings */
    {HEAD PAY ",\"location\":\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbb\xbf\xef\xbf\xbe"
              "\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}}",
     1},
    {HEAD "\"source\":\"\"," PAY ",\"company\":\"\",\"location\":\"\",\"description\":\"\"}}", 1},
    /* numbers anywhere */
    {HEAD PAY ",\"salary\":100000}}", 0},
    {HEAD PAY ",\"salary\":-0}}", 0},
    {HEAD PAY ",\"salary\":1e999}}", 0},
    {HEAD PAY ",\"salary\":18446744073709551616}}", 0},
    {HEAD PAY ",\"salary\":01}}", 0},
    {HEAD PAY ",\"salary\":.5}}", 0},
    {HEAD PAY ",\"salary\":+1}}", 0},
    {HEAD PAY ",\"is_remote\":0}}", 0},
    {"{\"event_id\":7,\"timestamp\":\"2024-03-15T10:30:00Z\"," PAY "}}", 0},
    {"1", 0},
    {"-1.5e3", 0},
    /* shapes */
    {"{}", 1},
    {" { } ", 1},
    {"{\"payload\":{}}", 1},
    {HEAD "\"payload\":{}}", 1},
    {HEAD "\"payload\":[]}", 1},
    {HEAD "\"payload\":\"{}\"}", 1},
    {HEAD "\"payload\":true}", 1},
    {HEAD "\"payload\":null}", 1},
    {"[]", 1},
    {"[{\"event_id\":\"e\"}]", 1},
    {"\"event\"", 1},
    {"true", 1},
    {"false", 1},
    {" null ", 1},
    {"nul", 0},
    {"truex", 0},
    {"True", 0},
    {"[true,false,null,\"\",[],{}]", 1},
    {"[true1]", 0},
    {HEAD PAY ",\"is_remote\":tru}}", 0},
    {HEAD PAY ",\"is_remote\":truee}}", 0},
    {HEAD PAY ",\"is_remote\":\"true\"}}", 1},
    {HEAD PAY ",\"is_remote\":[true]}}", 1},
    {HEAD PAY ",\"is_remote\":false}}", 1},
    /* trailing garbage and broken structure */
    {HEAD PAY "}}x", 0},
    {HEAD PAY "}} }", 0},
    {HEAD PAY "}}}", 0},
    {HEAD PAY "}},", 0},
    {HEAD PAY "}", 0},
    {HEAD PAY ",}}", 0},
    {HEAD PAY "}},{}", 0},
    {HEAD PAY ",\"a\" \"b\"}}", 0},
    {HEAD PAY ",\"a\":\"b\" \"c\":1}}", 0},
    {HEAD PAY ",,\"a\":1}}", 0},
    {"{,}", 0},
    {"{\"a\"}", 0},
    {"{\"a\":}", 0},
    {"[,]", 0},
    {"[1,]", 0},
    {"[\"a\",]", 0},
    {"\xef\xbb\xbf{}", 0},
    {"{}\xc2\xa0", 0},
    {"", 0},
    {" ", 0},
    /* whitespace variants: all four JSON ones, and two that are not */
    {" \t\r\n{ \t\r\n\"event_id\" \t\r\n: \t\r\n\"e\" \t\r\n, \t\r\n\"timestamp\"\n:\n"
     "\"2024-03-15T10:30:00Z\"\r,\r\"payload\"\t:\t{\t\"job_id\"\n:\"1\" ,\"title\" : \"t\" , "
     "\"is_remote\" : true \t}\r\n} \t\r\n",
     1},
    {HEAD PAY ",\"is_remote\":true\f}}", 0},
    {HEAD PAY ",\"is_remote\":true\v}}", 0},
    {"\f{}", 0},
    /* reject reasons decided on the fast path, in jansson's order */
    {HEAD "\"payload\":{\"title\":\"t\"}}", 1},
    {HEAD "\"payload\":{\"job_id\":\"\",\"title\":\"t\"}}", 1},
    {HEAD "\"payload\":{\"job_id\":null,\"title\":\"t\"}}", 1},
    {HEAD "\"payload\":{\"job_id\":[],\"title\":\"t\"}}", 1},
    {HEAD "\"payload\":{\"job_id\":\"1\",\"title\":{}}}", 1},
    {HEAD "\"source\":[]," PAY "}}", 1},
    {HEAD "\"source\":null," PAY ",\"company\":false}}", 1},
    {HEAD PAY ",\"location\":{\"city\":\"Paris\"}}}", 1},
    {HEAD PAY ",\"description\":true}}", 1},
    {"{\"timestamp\":\"2024-03-15T10:30:00Z\"," PAY "}}", 1},
    {"{\"event_id\":\"\",\"timestamp\":\"2024-03-15T10:30:00Z\"," PAY "}}", 1},
    {"{\"event_id\":\"e\",\"timestamp\":\"\"," PAY "}}", 1},
    {"{\"event_id\":\"e\",\"timestamp\":false," PAY "}}", 1},
    {"{\"event_id\":\"e\"," PAY "}}", 1},
    {"{\"event_id\":\"e\",\"timestamp\":\"a very long unparseable timestamp value over 40 "
     "bytes\"," PAY "}}",
     1},
    {"{\"event_id\":\"e\",\"timestamp\":\"2024-03-15T10:30:00+25:00\"," PAY "}}", 1},
    {"{\"event_id\":\"e\",\"timestamp\":\"2024-03-16T01:00:00.000001Z\"," PAY "}}", 1},
    {"{\"event_id\":\"e\",\"timestamp\":\"2099-12-31T23:59:59Z\"," PAY "}}", 1},
    {"{\"payload\":{\"title\":[]},\"timestamp\":\"x\",\"event_id\":\"e\"}", 1},
};

static size_t nested(char *s, const char *head, int depth, const char *open, const char *close,
                     const char *tail)
{
    size_t n = (size_t)sprintf(s, "%s", head);
    for (int i = 0; i < depth; i++)
        n += (size_t)sprintf(s + n, "%s", open);
    for (int i = 0; i < depth; i++)
        n += (size_t)sprintf(s + n, "%s", close);
    n += (size_t)sprintf(s + n, "%s", tail);
    return n;
}

static void test_diff_edges(void **state)
{
    struct gtp_event fa, sl;
    struct diff_stats st = {0};
    char s[4096];
    (void)state;
    gtp_event_init(&fa);
    gtp_event_init(&sl);
    for (size_t i = 0; i < GTP_ARRAY_LEN(edge); i++) {
        check_same(&fa, &sl, edge[i].json, strlen(edge[i].json), &st);
        if (edge[i].fast >= 0 && fa.parsed_fast != edge[i].fast) {
            fprintf(stderr, "edge case %zu: fast path %s: %s\n", i,
                    edge[i].fast ? "declined" : "decided", edge[i].json);
            fail();
        }
    }
    /* The table of the reject tests too. */
    for (size_t i = 0; i < GTP_ARRAY_LEN(cases); i++)
        check_same(&fa, &sl, cases[i].json, strlen(cases[i].json), &st);

    /* Raw NUL bytes, inside and outside strings. */
    static const char nul1[] = HEAD PAY ",\"x\":\"a\0b\"}}";
    static const char nul2[] = HEAD PAY "}}\0";
    static const char nul3[] = "{\0}";
    check_same(&fa, &sl, nul1, sizeof(nul1) - 1, &st);
    check_same(&fa, &sl, nul2, sizeof(nul2) - 1, &st);
    check_same(&fa, &sl, nul3, sizeof(nul3) - 1, &st);
    check_same(&fa, &sl, NULL, 0, &st);

    /* Nesting: the root object is level 1; up to 32 levels stay on the fast
     * path, deeper ones go to jansson (which allows 2048). */
    for (int d = 28; d <= 36; d++) {
        size_t n = nested(s, HEAD PAY ",\"x\":", d - 2, "[", "]", "}}");
        check_same(&fa, &sl, s, n, &st);
        assert_int_equal(fa.reject, GTP_REJECT_NONE);
        assert_int_equal(fa.parsed_fast, d <= 32);
        /* The same depth with objects, the innermost holding a null. */
        n = (size_t)sprintf(s, HEAD PAY ",\"x\":");
        for (int k = 0; k < d - 2; k++)
            n += (size_t)sprintf(s + n, "{\"k\":");
        n += (size_t)sprintf(s + n, "null");
        for (int k = 0; k < d - 2; k++)
            n += (size_t)sprintf(s + n, "}");
        n += (size_t)sprintf(s + n, "}}");
        check_same(&fa, &sl, s, n, &st);
        assert_int_equal(fa.reject, GTP_REJECT_NONE);
        assert_int_equal(fa.parsed_fast, d <= 32);
        n = nested(s, "", d, "[", "]", "");
        check_same(&fa, &sl, s, n, &st);
        assert_int_equal(fa.reject, d <= 2048 ? GTP_REJECT_WRONG_TYPE : GTP_REJECT_INVALID_JSON);
        assert_int_equal(fa.parsed_fast, d <= 32);
    }

    /* Every byte value in a string, after a key, after a value. */
    for (int c = 0; c < 256; c++) {
        int n = snprintf(s, sizeof(s), HEAD PAY ",\"location\":\"a%cb\"}}", c);
        check_same(&fa, &sl, s, (size_t)n + (c == 0), &st);
        n = snprintf(s, sizeof(s), HEAD PAY ",\"x\"%c:true}}", c);
        check_same(&fa, &sl, s, (size_t)n + (c == 0), &st);
        n = snprintf(s, sizeof(s), HEAD PAY ",\"x\":true%c}}", c);
        check_same(&fa, &sl, s, (size_t)n + (c == 0), &st);
        n = snprintf(s, sizeof(s), HEAD PAY ",\"location\":\"a\\%cb\"}}", c);
        check_same(&fa, &sl, s, (size_t)n + (c == 0), &st);
    }
    /* One special byte at every offset of strings up to 40 bytes: the
     * scanner's 16- and 8-byte steps and their tails. */
    static const char *const specials[] = {"\\\"", "\\\\", "\\n",      "\x1f",
                                           "\x01", "\x7f", "\xc3\xa9", "\""};
    for (int slen = 0; slen <= 40; slen++)
        for (int at = 0; at <= slen; at++)
            for (size_t k = 0; k < GTP_ARRAY_LEN(specials); k++) {
                int n = snprintf(s, sizeof(s), HEAD PAY ",\"location\":\"%.*s%s%.*s\"}}", at,
                                 "Pythonista Pythonista Pythonista Pythonista", specials[k],
                                 slen - at, "KafkaKafkaKafkaKafkaKafkaKafkaKafkaKafka");
                check_same(&fa, &sl, s, (size_t)n, &st);
            }
    report("edge cases", &st);
    gtp_event_fini(&fa);
    gtp_event_fini(&sl);
}

/* Strings stay valid after a long event is followed by short ones (the
 * arena is reused, not reallocated), and a reparse drops the old event. */
static void test_arena_reuse(void **state)
{
    struct gtp_event ev;
    (void)state;
    gtp_event_init(&ev);
    char *big = sized_event(200000);
    assert_int_equal(gtp_event_parse(&ev, big, 200000, ref_us), GTP_REJECT_NONE);
    assert_int_equal(ev.parsed_fast, 1);
    assert_null(ev.root);
    char *arena = ev.arena;
    assert_true(ev.arena_cap >= 200000);
    free(big);
    const char *small = EV("\"e1\"", "\"2024-03-15T10:30:00Z\"", GOOD_PAYLOAD);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(gtp_event_parse(&ev, small, strlen(small), ref_us), GTP_REJECT_NONE);
        assert_ptr_equal(ev.arena, arena);
        assert_string_equal(ev.title.s, "Senior Data Engineer");
        assert_string_equal(ev.source.s, "linkedin_sim");
        assert_int_equal(ev.is_remote, 1);
    }
    /* A fallback event after a fast one: fields come from jansson now. */
    const char *num = "{\"event_id\":\"e\",\"timestamp\":\"2024-03-15T10:30:00Z\",\"n\":1,"
                      "\"payload\":{\"job_id\":\"1\",\"title\":\"t\"}}";
    assert_int_equal(gtp_event_parse(&ev, num, strlen(num), ref_us), GTP_REJECT_NONE);
    assert_int_equal(ev.parsed_fast, 0);
    assert_non_null(ev.root);
    assert_null(ev.source.s);
    assert_int_equal(ev.is_remote, -1);
    gtp_event_fini(&ev);
    assert_null(ev.arena);
}

/* The remembered layout: learned from an accepted event, then every event with
 * the same bytes between its values is read by it, and must agree with jansson
 * whatever the values are; anything else falls to the full scan. */
static void test_layout(void **state)
{
    struct gtp_event fa, sl;
    struct diff_stats st = {0};
    (void)state;
#define L_EV(id, title, company, remote)                                                           \
    "{\"event_id\": " id ", \"timestamp\": \"2024-03-15T10:30:00Z\", \"source\": \"x\", "          \
    "\"payload\": {\"job_id\": \"7\", \"title\": " title ", \"company\": " company                 \
    ", \"description\": \"Python and SQL\", \"is_remote\": " remote "}}"
    static const struct {
        const char *what, *doc;
        int shaped; /* read by the layout learned from the first */
        enum gtp_reject r;
    } layout_cases[] = {
        {"learned", L_EV("\"a\"", "\"Data Engineer\"", "\"Acme\"", "false"), 0, GTP_REJECT_NONE},
        {"other values", L_EV("\"b\"", "\"Senior Go Developer\"", "\"B\"", "true"), 1,
         GTP_REJECT_NONE},
        {"null company", L_EV("\"c\"", "\"t\"", "null", "null"), 1, GTP_REJECT_NONE},
        {"company as a literal", L_EV("\"c\"", "\"t\"", "true", "false"), 1, GTP_REJECT_WRONG_TYPE},
        {"is_remote a string", L_EV("\"c\"", "\"t\"", "\"A\"", "\"yes\""), 1,
         GTP_REJECT_WRONG_TYPE},
        {"null event_id", L_EV("null", "\"t\"", "\"A\"", "false"), 1, GTP_REJECT_MISSING_FIELD},
        {"empty title", L_EV("\"d\"", "\"\"", "\"A\"", "false"), 1, GTP_REJECT_MISSING_FIELD},
        /* an escaped quote, then bytes that look like the next gap */
        {"escapes", L_EV("\"e\"", "\"a\\\", \\\"company\\\": \\\"x\"", "\"A\\\\\"", "false"), 1,
         GTP_REJECT_NONE},
        {"raw newline in a value", L_EV("\"f\"", "\"a\nb\"", "\"A\"", "false"), 0,
         GTP_REJECT_INVALID_JSON},
        {"\\u escape", L_EV("\"g\"", "\"\\u0041\"", "\"A\"", "false"), 0, GTP_REJECT_NONE},
        {"number", L_EV("\"h\"", "\"t\"", "1", "false"), 0, GTP_REJECT_WRONG_TYPE},
        {"object", L_EV("\"i\"", "\"t\"", "{}", "false"), 0, GTP_REJECT_WRONG_TYPE},
        {"truex", L_EV("\"j\"", "\"t\"", "\"A\"", "falsey"), 0, GTP_REJECT_INVALID_JSON},
        {"learned again", L_EV("\"a\"", "\"Data Engineer\"", "\"Acme\"", "false"), 1,
         GTP_REJECT_NONE},
        {"one more space",
         "{\"event_id\":  \"k\", \"timestamp\": \"2024-03-15T10:30:00Z\", "
         "\"payload\": {\"job_id\": \"7\", \"title\": \"t\"}}",
         0, GTP_REJECT_NONE},
        /* learned from the one before: its absent fields stay absent */
        {"fewer fields",
         "{\"event_id\":  \"l\", \"timestamp\": \"2024-03-15T10:30:00Z\", "
         "\"payload\": {\"job_id\": \"8\", \"title\": \"u\"}}",
         1, GTP_REJECT_NONE},
        {"trailing space",
         "{\"event_id\":  \"l\", \"timestamp\": \"2024-03-15T10:30:00Z\", "
         "\"payload\": {\"job_id\": \"8\", \"title\": \"u\"}} ",
         0, GTP_REJECT_NONE},
        {"cut short",
         "{\"event_id\":  \"l\", \"timestamp\": \"2024-03-15T10:30:00Z\", "
         "\"payload\": {\"job_id\": \"8\", \"title\": \"u\"}",
         0, GTP_REJECT_INVALID_JSON},
        {"bad timestamp",
         "{\"event_id\":  \"l\", \"timestamp\": \"2024-03-15 10:30\", "
         "\"payload\": {\"job_id\": \"8\", \"title\": \"u\"}} ",
         1, GTP_REJECT_BAD_TIMESTAMP},
    };
#undef L_EV
    gtp_event_init(&fa);
    gtp_event_init(&sl);
    for (size_t i = 0; i < GTP_ARRAY_LEN(layout_cases); i++) {
        check_same(&fa, &sl, layout_cases[i].doc, strlen(layout_cases[i].doc), &st);
        if (fa.parsed_shape != layout_cases[i].shaped || fa.reject != layout_cases[i].r) {
            fprintf(stderr, "%s: layout %d (expected %d), %s (expected %s)\n", layout_cases[i].what,
                    fa.parsed_shape, layout_cases[i].shaped, gtp_reject_name(fa.reject),
                    gtp_reject_name(layout_cases[i].r));
            fail();
        }
    }
    assert_string_equal(fa.title.s, "u");
    assert_null(fa.company.s);
    gtp_event_fini(&fa);
    gtp_event_fini(&sl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reject_table),   cmocka_unit_test(test_names),
        cmocka_unit_test(test_enriched_exact), cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_hostile),        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_diff_edges),     cmocka_unit_test(test_arena_reuse),
        cmocka_unit_test(test_diff_generator), cmocka_unit_test(test_diff_mutations),
        cmocka_unit_test(test_layout),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
