/* Fuzz target: a raw Kafka value through validation and enrichment
 * (gtp_event_process with the repository's taxonomy), the JSON the enricher
 * prints, and - when the event module exposes it - the jansson-only reference
 * parser, which must agree with the fast path on every input. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "gtp/util.h"
#include "gtp/event.h"
#include "gtp/taxonomy.h"
#include "gtp/timeparse.h"

#if defined(__has_include)
#if __has_include("../src/core/event_internal.h")
#include "../src/core/event_internal.h"
#define FUZZ_HAVE_SLOW 1
#endif
#endif

/* 2024-06-01T00:00:00Z: the reference time (a Kafka message timestamp). */
#define REF_US INT64_C(1717200000000000)

static int str_eq(struct gtp_str a, struct gtp_str b)
{
    if (!a.s || !b.s)
        return !a.s && !b.s;
    return a.len == b.len && memcmp(a.s, b.s, a.len) == 0;
}

static void check_str(const char *name, struct gtp_str v, int required)
{
    if (!v.s) {
        FUZZ_CHECK(!required, "accepted event without %s", name);
        return;
    }
    FUZZ_CHECK(v.s[v.len] == '\0', "%s not NUL-terminated", name);
    FUZZ_CHECK(gtp_fuzz_utf8_ok((const uint8_t *)v.s, v.len), "%s is not UTF-8", name);
    FUZZ_CHECK(!required || v.len > 0, "accepted event with an empty %s", name);
}

/* A JSON document we produced must parse (NUL allowed as \u0000). */
static json_t *must_parse(const char *what, const char *buf, size_t len)
{
    json_error_t jerr;
    json_t *j;
    FUZZ_CHECK(strlen(buf) == len, "%s: length %zu but strlen %zu", what, len, strlen(buf));
    FUZZ_CHECK(gtp_fuzz_utf8_ok((const uint8_t *)buf, len), "%s: not UTF-8: %s", what, buf);
    j = json_loadb(buf, len, JSON_ALLOW_NUL, &jerr);
    FUZZ_CHECK(j && json_is_object(j), "%s does not parse (%s): %s", what, jerr.text, buf);
    return j;
}

static void check_same_json_str(json_t *o, const char *key, struct gtp_str v)
{
    json_t *m = json_object_get(o, key);
    if (!v.s) {
        FUZZ_CHECK(json_is_null(m), "%s should be null", key);
        return;
    }
    FUZZ_CHECK(json_is_string(m) && json_string_length(m) == v.len &&
                   memcmp(json_string_value(m), v.s, v.len) == 0,
               "%s does not round-trip through the output JSON", key);
}

/* A generator event: its layout is remembered before the input is read again. */
static const char layout_seed[] =
    "{\"event_id\": \"6fc8f714-69e0-4eb0-b291-2c5c8ffcede0\", \"timestamp\": "
    "\"2024-03-15T00:00:00Z\", \"source\": \"linkedin_sim\", \"payload\": {\"job_id\": "
    "\"932901971\", \"title\": \"UX Designer\", \"company\": \"Falcon Retail\", \"location\": "
    "\"Hong Kong\", \"description\": \"Must have: CSS.\", \"is_remote\": false}}";

static void check_same(const struct gtp_event *a, const struct gtp_event *b)
{
    FUZZ_CHECK(a->reject == b->reject, "fast path says %s (%s), jansson says %s (%s)",
               gtp_reject_name(a->reject), a->detail, gtp_reject_name(b->reject), b->detail);
    FUZZ_CHECK(strcmp(a->detail, b->detail) == 0, "details differ: \"%s\" vs \"%s\"", a->detail,
               b->detail);
    if (a->reject != GTP_REJECT_NONE)
        return;
    FUZZ_CHECK(str_eq(a->event_id, b->event_id) && str_eq(a->timestamp, b->timestamp) &&
                   str_eq(a->source, b->source) && str_eq(a->job_id, b->job_id) &&
                   str_eq(a->title, b->title) && str_eq(a->company, b->company) &&
                   str_eq(a->location, b->location) && str_eq(a->description, b->description),
               "fast path and jansson read different fields");
    FUZZ_CHECK(a->is_remote == b->is_remote && a->posted_us == b->posted_us,
               "fast path and jansson differ in is_remote/posted_us");
}

int gtp_fuzz_event(const uint8_t *data, size_t size)
{
    const struct gtp_taxonomy *tx = gtp_fuzz_taxonomy();
    struct gtp_event ev;
    enum gtp_reject r;
    char *out = NULL;
    size_t cap = 0, len;
    /* An exact-size heap copy: ASan sees any read past the value. */
    uint8_t *buf = gtp_xmalloc(size ? size : 1);
    json_t *j;

    if (size)
        memcpy(buf, data, size);
    gtp_event_init(&ev);
    r = gtp_event_process(&ev, tx, size ? buf : NULL, size, REF_US);
    FUZZ_CHECK(r == ev.reject && (int)r >= 0 && r < GTP_REJECT_COUNT, "bad reject %d", (int)r);
    if (r != GTP_REJECT_NONE)
        FUZZ_CHECK(gtp_reject_parse(gtp_reject_name(r)) == (int)r,
                   "reject name does not parse back");
    if (size > GTP_EVENT_MAX_BYTES)
        FUZZ_CHECK(r == GTP_REJECT_TOO_LARGE, "oversized input got %s", gtp_reject_name(r));
    else if (!gtp_fuzz_utf8_ok(data, size))
        FUZZ_CHECK(r == GTP_REJECT_INVALID_UTF8, "invalid UTF-8 input got %s", gtp_reject_name(r));
    else
        FUZZ_CHECK(r != GTP_REJECT_INVALID_UTF8, "valid UTF-8 rejected as invalid_utf8");
    FUZZ_CHECK(gtp_utf8_valid(data, size, NULL) == gtp_fuzz_utf8_ok(data, size),
               "gtp_utf8_valid disagrees with the reference validator");

    if (r == GTP_REJECT_NONE) {
        check_str("event_id", ev.event_id, 1);
        check_str("timestamp", ev.timestamp, 1);
        check_str("job_id", ev.job_id, 1);
        check_str("title", ev.title, 1);
        check_str("source", ev.source, 0);
        check_str("company", ev.company, 0);
        check_str("location", ev.location, 0);
        check_str("description", ev.description, 0);
        FUZZ_CHECK(ev.is_remote >= -1 && ev.is_remote <= 1, "is_remote %d", ev.is_remote);
        FUZZ_CHECK(ev.posted_us >= GTP_TIME_MIN_US && ev.posted_us < GTP_TIME_MAX_US,
                   "posted_us out of range");
        FUZZ_CHECK(ev.posted_us <= REF_US + GTP_EVENT_FUTURE_US, "future event accepted");
        FUZZ_CHECK(ev.region[0] && strlen(ev.region) < sizeof(ev.region), "empty region");
        for (const char *c = ev.region; *c; c++)
            FUZZ_CHECK(*c >= 'A' && *c <= 'Z', "region \"%s\" is not [A-Z]+", ev.region);
        FUZZ_CHECK((int)ev.level >= 0 && ev.level < GTP_SENIORITY_NLEVELS, "level %d",
                   (int)ev.level);
        for (size_t i = gtp_skills_count(tx->skills); i < GTP_SKILLS_MAX; i++)
            FUZZ_CHECK(!gtp_skill_set_has(&ev.skills, i), "skill index %zu past the taxonomy", i);

        len = gtp_event_to_json(&ev, tx->skills, &out, &cap);
        j = must_parse("event JSON", out, len);
        check_same_json_str(j, "event_id", ev.event_id);
        check_same_json_str(j, "title", ev.title);
        check_same_json_str(j, "job_id", ev.job_id);
        check_same_json_str(j, "company", ev.company);
        check_same_json_str(j, "location", ev.location);
        FUZZ_CHECK(json_is_array(json_object_get(j, "skills_array")), "skills_array");
        json_decref(j);
    } else {
        FUZZ_CHECK(ev.detail[0] != '\0', "rejected without a detail");
        len = gtp_event_reject_json(&ev, &out, &cap);
        j = must_parse("reject JSON", out, len);
        FUZZ_CHECK(json_is_string(json_object_get(j, "rejected")), "rejected member");
        json_decref(j);
        /* the detail travels as a Kafka header and in logs */
        FUZZ_CHECK(gtp_fuzz_utf8_ok((const uint8_t *)ev.detail, strlen(ev.detail)),
                   "detail is not UTF-8: %s", ev.detail);
    }

#ifdef FUZZ_HAVE_SLOW
    {
        struct gtp_event slow;
        gtp_event_init(&slow);
        gtp_event_parse_slow(&slow, size ? buf : NULL, size, REF_US);
        /* process() also enriched ev: compare the parse part only */
        check_same(&ev, &slow);
        gtp_event_fini(&slow);
    }
#endif

    /* The same answer from an object that read a generator event first (the input
     * read by that event's remembered layout where it keeps it), then from the same
     * object again (the arena reused, and the input's own layout if it was accepted). */
    {
        struct gtp_event again;
        gtp_event_init(&again);
        FUZZ_CHECK(gtp_event_parse(&again, layout_seed, strlen(layout_seed), REF_US) ==
                       GTP_REJECT_NONE,
                   "layout seed rejected: %s", again.detail);
        gtp_event_parse(&again, size ? buf : NULL, size, REF_US);
        check_same(&again, &ev);
        gtp_event_parse(&again, size ? buf : NULL, size, REF_US);
        check_same(&again, &ev);
        gtp_event_fini(&again);
    }

    free(out);
    gtp_event_fini(&ev);
    free(buf);
    return 0;
}
