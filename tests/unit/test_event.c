/* Event validation and enrichment: every reject reason from a crafted event,
 * the precedence between them, exact enriched fields, and hostile input
 * (invalid UTF-8, >1 MiB values, 100k-deep nesting, NUL bytes) that must
 * never crash. Run under ASan+UBSan in CI. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reject_table),   cmocka_unit_test(test_names),
        cmocka_unit_test(test_enriched_exact), cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_hostile),        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
