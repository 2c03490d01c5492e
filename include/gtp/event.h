/* One raw job-posting event validated and enriched (docs/events.md): the
 * code path shared by gtp-processor, gtp-archiver and gtp-enrich.
 *
 * Validation order (the first failure decides the reject reason):
 *  1. too_large     the value is over GTP_EVENT_MAX_BYTES (1 MiB) bytes;
 *  2. invalid_utf8  the whole value is not valid UTF-8 (overlong forms,
 *                   surrogates and code points over U+10FFFF included);
 *  3. invalid_json  it does not parse as JSON (truncated, not JSON, nesting
 *                   deeper than jansson's 2048 levels, trailing bytes);
 *  4. wrong_type    the value is JSON but not an object;
 *  5. required fields in this order: event_id, timestamp, payload,
 *     payload.job_id, payload.title. For each: absent or null ->
 *     missing_field; present with another type -> wrong_type (all strings,
 *     payload an object; a numeric job_id is wrong_type, not converted).
 *     An empty event_id, job_id or title ("") is missing_field; an empty
 *     timestamp is just an unparseable one (bad_timestamp, step 7);
 *  6. optional fields source, payload.company, payload.location,
 *     payload.description (strings) and payload.is_remote (boolean): absent or
 *     null is fine (treated as absent), any other type -> wrong_type;
 *  7. bad_timestamp the timestamp is not RFC 3339 (gtp_time_parse) or its UTC
 *     instant is outside the years 2000..2100;
 *  8. future_timestamp  more than 1 h (GTP_EVENT_FUTURE_US) after the
 *     reference time (the Kafka message timestamp, or gtp-enrich --now).
 * Unknown extra fields are ignored. Strings may contain NUL (\u0000): every
 * string is handled as (pointer, length).
 *
 * Two parsers give exactly the same result (reason, detail, fields): a
 * single-pass scanner for the common clean event (strings with simple
 * escapes, true/false/null, nesting <= 32, no numbers, no \u escapes, no
 * duplicate field we read), and jansson for everything else, which alone
 * decides invalid_json. The scanner first tries the layout of the last event
 * it accepted (a producer writes its keys, spaces and punctuation the same
 * way every time): only the values are scanned, every byte between them is
 * compared with the remembered one.
 *
 * Enrichment of a valid event: region from payload.location (absent ->
 * UNKNOWN), experience_level from the title, skills from title + description
 * (absent description -> skills of the title only). */
#ifndef GTP_EVENT_H
#define GTP_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "gtp/region.h"
#include "gtp/seniority.h"
#include "gtp/skills.h"
#include "gtp/taxonomy.h"
#include "gtp/titlememo.h"
#include "gtp/utf8.h" /* gtp_utf8_valid, step 2 */

#define GTP_EVENT_MAX_BYTES 1048576
#define GTP_EVENT_FUTURE_US (INT64_C(3600) * 1000000)

enum gtp_reject {
    GTP_REJECT_NONE = 0, /* accepted */
    GTP_REJECT_INVALID_JSON,
    GTP_REJECT_INVALID_UTF8,
    GTP_REJECT_MISSING_FIELD,
    GTP_REJECT_WRONG_TYPE,
    GTP_REJECT_BAD_TIMESTAMP,
    GTP_REJECT_FUTURE_TIMESTAMP,
    GTP_REJECT_TOO_LARGE,
};
#define GTP_REJECT_COUNT 8

/* "invalid_json", ... as in docs/events.md (the DLQ header value); "none" for
 * GTP_REJECT_NONE; "unknown" out of range. Static strings. */
const char *gtp_reject_name(enum gtp_reject r);

/* Reason of a name, or -1. */
int gtp_reject_parse(const char *name);

/* A string borrowed from the parsed JSON: s == NULL means absent or null. */
struct gtp_str {
    const char *s;
    size_t len;
};

struct json_t;
struct gtp_event_shape; /* private to the event module: a remembered layout */

/* Embedded object: gtp_event_init() once, gtp_event_parse() any number of
 * times (each call drops the previous event), gtp_event_fini() at the end.
 * Not shared between threads; use one per thread. */
struct gtp_event {
    /* private: owner of the strings below. The fast path copies them into
     * arena (kept and reused across parses, freed by fini) and leaves root
     * NULL; the jansson path borrows them from root. */
    struct json_t *root;
    char *arena;
    size_t arena_cap;
    int parsed_fast;  /* 1 when the last parse took the fast path (tests, benchmarks) */
    int parsed_shape; /* 1 when it matched the remembered layout (the same) */
    struct gtp_event_shape *shape;       /* owned, kept across parses, freed by fini */
    struct gtp_regions_memo region_memo; /* kept across parses, freed by fini */
    struct gtp_title_memo title_memo;    /* the same */

    /* Validated fields, NUL-terminated (a string may also contain NUL: use
     * len), owned by the event: valid until the next parse/fini. */
    struct gtp_str event_id, timestamp, source;
    struct gtp_str job_id, title, company, location, description;
    int is_remote;     /* 1 true, 0 false, -1 absent or null */
    int64_t posted_us; /* timestamp in µs since the epoch, UTC */

    /* Enrichment (gtp_event_enrich). */
    char region[GTP_REGION_CODE_MAX]; /* "UK", "REMOTE", "UNKNOWN" */
    enum gtp_seniority_level level;
    struct gtp_skill_set skills; /* indexes into the taxonomy's skills */

    /* Result of the last parse. */
    enum gtp_reject reject;
    char detail[200]; /* human text for the DLQ header, "" when accepted */
};

void gtp_event_init(struct gtp_event *ev);
void gtp_event_fini(struct gtp_event *ev);

/* Validate buf[0..len) (borrowed, not kept) against reference time ref_us:
 * for a Kafka message rd_kafka_message_timestamp() * 1000 (µs), or the wall
 * clock when the message has no timestamp; for gtp-enrich, --now.
 * Returns GTP_REJECT_NONE and fills the fields, or the reject reason (also in
 * ev->reject) with ev->detail set. Never crashes on any input. buf may be
 * NULL only when len is 0 (a Kafka tombstone: invalid_json). */
enum gtp_reject gtp_event_parse(struct gtp_event *ev, const void *buf, size_t len, int64_t ref_us);

/* Fill region, level and skills of a validated event from tx (borrowed). */
void gtp_event_enrich(struct gtp_event *ev, const struct gtp_taxonomy *tx);

/* gtp_event_parse() then, when accepted, gtp_event_enrich(). */
enum gtp_reject gtp_event_process(struct gtp_event *ev, const struct gtp_taxonomy *tx,
                                  const void *buf, size_t len, int64_t ref_us);

/* Serialize an enriched event as one JSON object (no newline) into *buf
 * (grown with gtp_xrealloc as needed; *buf may start NULL with *cap 0), NUL-
 * terminated. Keys in this order: event_id, posted_at (RFC 3339 UTC, see
 * gtp_time_format), date_posted, title, company, skills_array (ids in taxonomy
 * order), experience_level, region, job_id, source, location, is_remote;
 * absent optional fields are null. sk must be the skills that enriched ev.
 * Returns the length. */
size_t gtp_event_to_json(const struct gtp_event *ev, const struct gtp_skills *sk, char **buf,
                         size_t *cap);

/* {"rejected": "<reason>", "detail": "<detail>"} for a rejected event. */
size_t gtp_event_reject_json(const struct gtp_event *ev, char **buf, size_t *cap);

#endif
