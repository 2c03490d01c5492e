/* Validation and enrichment of one raw event. Hot path of the processor
 * (~60k events/s): the value is parsed once with jansson and every field is
 * read in place, borrowed from the parsed tree, without copies. */
#include "gtp/event.h"
#include "gtp/timeparse.h"
#include "gtp/util.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const reject_names[GTP_REJECT_COUNT] = {
    "none",       "invalid_json",  "invalid_utf8",     "missing_field",
    "wrong_type", "bad_timestamp", "future_timestamp", "too_large",
};

const char *gtp_reject_name(enum gtp_reject r)
{
    if ((int)r < 0 || (int)r >= GTP_REJECT_COUNT)
        return "unknown";
    return reject_names[r];
}

int gtp_reject_parse(const char *name)
{
    for (int i = 1; name && i < GTP_REJECT_COUNT; i++)
        if (strcmp(name, reject_names[i]) == 0)
            return i;
    return -1;
}

/* ---- UTF-8 --------------------------------------------------------------------- */

int gtp_utf8_valid(const void *buf, size_t len, size_t *bad_at)
{
    const unsigned char *s = buf;
    size_t i = 0;
    while (i < len) {
        /* ASCII runs dominate JSON: skip them 8 bytes at a time. */
        if (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & UINT64_C(0x8080808080808080))) {
                i += 8;
                continue;
            }
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* over U+10FFFF */
        } else {
            goto bad;
        }
        if (i + need >= len)
            goto bad;
        if (s[i + 1] < lo || s[i + 1] > hi)
            goto bad;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                goto bad;
        i += need + 1;
    }
    return 1;
bad:
    if (bad_at)
        *bad_at = i;
    return 0;
}

/* ---- JSON output --------------------------------------------------------------- */

static void reserve(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    size_t n = *cap ? *cap : 1024;
    while (n < need)
        n *= 2;
    *buf = gtp_xrealloc(*buf, n);
    *cap = n;
}

static void append(char **buf, size_t *cap, size_t *pos, const char *s, size_t len)
{
    reserve(buf, cap, *pos + len + 1);
    memcpy(*buf + *pos, s, len);
    *pos += len;
    (*buf)[*pos] = '\0';
}

#define APPEND_LIT(b, c, p, lit) append((b), (c), (p), (lit), sizeof(lit) - 1)

void gtp_json_append_str(char **buf, size_t *cap, size_t *pos, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case every byte becomes \u00XX (6 bytes) plus quotes and NUL. */
    reserve(buf, cap, *pos + len * 6 + 3);
    char *o = *buf + *pos;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o++ = '"';
    *o = '\0';
    *pos = (size_t)(o - *buf);
}

static void append_opt(char **buf, size_t *cap, size_t *pos, struct gtp_str v)
{
    if (v.s)
        gtp_json_append_str(buf, cap, pos, v.s, v.len);
    else
        APPEND_LIT(buf, cap, pos, "null");
}

size_t gtp_event_to_json(const struct gtp_event *ev, const struct gtp_skills *sk, char **buf,
                         size_t *cap)
{
    char t[GTP_TIME_RFC3339_MAX];
    size_t pos = 0, n, first = 1;

    reserve(buf, cap, 512);
    (*buf)[0] = '\0';
    APPEND_LIT(buf, cap, &pos, "{\"event_id\":");
    gtp_json_append_str(buf, cap, &pos, ev->event_id.s, ev->event_id.len);
    APPEND_LIT(buf, cap, &pos, ",\"posted_at\":");
    n = gtp_time_format(ev->posted_us, t, sizeof(t));
    gtp_json_append_str(buf, cap, &pos, t, n);
    APPEND_LIT(buf, cap, &pos, ",\"date_posted\":");
    n = gtp_time_format_date(ev->posted_us, t, sizeof(t));
    gtp_json_append_str(buf, cap, &pos, t, n);
    APPEND_LIT(buf, cap, &pos, ",\"title\":");
    gtp_json_append_str(buf, cap, &pos, ev->title.s, ev->title.len);
    APPEND_LIT(buf, cap, &pos, ",\"company\":");
    append_opt(buf, cap, &pos, ev->company);
    APPEND_LIT(buf, cap, &pos, ",\"skills_array\":[");
    /* Walk the set bits, not all ~400 skills: most postings name a handful. */
    size_t count = sk ? gtp_skills_count(sk) : 0;
    for (size_t w = 0; w < GTP_ARRAY_LEN(ev->skills.bits) && w * 64 < count; w++) {
        for (uint64_t bits = ev->skills.bits[w]; bits; bits &= bits - 1) {
            size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
            if (i >= count)
                break;
            if (!first)
                APPEND_LIT(buf, cap, &pos, ",");
            first = 0;
            const char *id = gtp_skills_id(sk, i);
            gtp_json_append_str(buf, cap, &pos, id, strlen(id));
        }
    }
    APPEND_LIT(buf, cap, &pos, "],\"experience_level\":");
    const char *lv = gtp_seniority_name(ev->level);
    gtp_json_append_str(buf, cap, &pos, lv, strlen(lv));
    APPEND_LIT(buf, cap, &pos, ",\"region\":");
    gtp_json_append_str(buf, cap, &pos, ev->region, strlen(ev->region));
    APPEND_LIT(buf, cap, &pos, ",\"job_id\":");
    gtp_json_append_str(buf, cap, &pos, ev->job_id.s, ev->job_id.len);
    APPEND_LIT(buf, cap, &pos, ",\"source\":");
    append_opt(buf, cap, &pos, ev->source);
    APPEND_LIT(buf, cap, &pos, ",\"location\":");
    append_opt(buf, cap, &pos, ev->location);
    APPEND_LIT(buf, cap, &pos, ",\"is_remote\":");
    if (ev->is_remote < 0)
        APPEND_LIT(buf, cap, &pos, "null}");
    else if (ev->is_remote)
        APPEND_LIT(buf, cap, &pos, "true}");
    else
        APPEND_LIT(buf, cap, &pos, "false}");
    return pos;
}

size_t gtp_event_reject_json(const struct gtp_event *ev, char **buf, size_t *cap)
{
    size_t pos = 0;
    const char *r = gtp_reject_name(ev->reject);
    reserve(buf, cap, 64);
    (*buf)[0] = '\0';
    APPEND_LIT(buf, cap, &pos, "{\"rejected\":");
    gtp_json_append_str(buf, cap, &pos, r, strlen(r));
    APPEND_LIT(buf, cap, &pos, ",\"detail\":");
    /* The detail may quote input bytes; keep the output valid UTF-8 even then. */
    size_t dl = strlen(ev->detail), bad;
    while (dl && !gtp_utf8_valid(ev->detail, dl, &bad))
        dl = bad;
    gtp_json_append_str(buf, cap, &pos, ev->detail, dl);
    APPEND_LIT(buf, cap, &pos, "}");
    return pos;
}

/* ---- validation ---------------------------------------------------------------- */

void gtp_event_init(struct gtp_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->is_remote = -1;
}

static void reset(struct gtp_event *ev)
{
    json_t *root = (json_t *)ev->root;
    ev->root = NULL;
    json_decref(root);
    gtp_event_init(ev);
}

void gtp_event_fini(struct gtp_event *ev)
{
    reset(ev);
}

static enum gtp_reject fail(struct gtp_event *ev, enum gtp_reject r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum gtp_reject fail(struct gtp_event *ev, enum gtp_reject r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev->detail, sizeof(ev->detail), fmt, ap);
    va_end(ap);
    ev->reject = r;
    return r;
}

/* Read a required string member. An empty identifier or title is no value
 * at all (missing_field); an empty timestamp is one more unparseable
 * timestamp (bad_timestamp, checked later) when allow_empty is set. */
static enum gtp_reject need_str(struct gtp_event *ev, json_t *obj, const char *key,
                                const char *path, int allow_empty, struct gtp_str *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return fail(ev, GTP_REJECT_MISSING_FIELD, "%s is missing", path);
    if (!json_is_string(v))
        return fail(ev, GTP_REJECT_WRONG_TYPE, "%s must be a string", path);
    if (json_string_length(v) == 0 && !allow_empty)
        return fail(ev, GTP_REJECT_MISSING_FIELD, "%s is empty", path);
    out->s = json_string_value(v);
    out->len = json_string_length(v);
    return GTP_REJECT_NONE;
}

static enum gtp_reject opt_str(struct gtp_event *ev, json_t *obj, const char *key, const char *path,
                               struct gtp_str *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return GTP_REJECT_NONE;
    if (!json_is_string(v))
        return fail(ev, GTP_REJECT_WRONG_TYPE, "%s must be a string or null", path);
    out->s = json_string_value(v);
    out->len = json_string_length(v);
    return GTP_REJECT_NONE;
}

enum gtp_reject gtp_event_parse(struct gtp_event *ev, const void *buf, size_t len, int64_t ref_us)
{
    json_error_t jerr;
    json_t *root, *payload;
    size_t bad;
    enum gtp_reject r;
    char terr[96];

    reset(ev);
    if (len > GTP_EVENT_MAX_BYTES)
        return fail(ev, GTP_REJECT_TOO_LARGE, "value is %zu bytes, over the limit of %d", len,
                    GTP_EVENT_MAX_BYTES);
    if (!buf && len)
        return fail(ev, GTP_REJECT_INVALID_JSON, "no value");
    if (!gtp_utf8_valid(buf, len, &bad))
        return fail(ev, GTP_REJECT_INVALID_UTF8, "invalid utf-8 at byte %zu", bad);
    /* JSON_ALLOW_NUL: "\u0000" is valid JSON; strings are kept with lengths. */
    root = json_loadb(buf ? buf : "", len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!root)
        return fail(ev, GTP_REJECT_INVALID_JSON, "%s at line %d column %d", jerr.text, jerr.line,
                    jerr.column);
    ev->root = (struct json_t *)root;
    if (!json_is_object(root))
        return fail(ev, GTP_REJECT_WRONG_TYPE, "event must be a json object");

    if ((r = need_str(ev, root, "event_id", "event_id", 0, &ev->event_id)) ||
        (r = need_str(ev, root, "timestamp", "timestamp", 1, &ev->timestamp)))
        return r;
    payload = json_object_get(root, "payload");
    if (!payload || json_is_null(payload))
        return fail(ev, GTP_REJECT_MISSING_FIELD, "payload is missing");
    if (!json_is_object(payload))
        return fail(ev, GTP_REJECT_WRONG_TYPE, "payload must be an object");
    if ((r = need_str(ev, payload, "job_id", "payload.job_id", 0, &ev->job_id)) ||
        (r = need_str(ev, payload, "title", "payload.title", 0, &ev->title)))
        return r;

    if ((r = opt_str(ev, root, "source", "source", &ev->source)) ||
        (r = opt_str(ev, payload, "company", "payload.company", &ev->company)) ||
        (r = opt_str(ev, payload, "location", "payload.location", &ev->location)) ||
        (r = opt_str(ev, payload, "description", "payload.description", &ev->description)))
        return r;
    json_t *rem = json_object_get(payload, "is_remote");
    if (rem && !json_is_null(rem)) {
        if (!json_is_boolean(rem))
            return fail(ev, GTP_REJECT_WRONG_TYPE, "payload.is_remote must be a boolean or null");
        ev->is_remote = json_is_true(rem);
    }

    if (gtp_time_parse(ev->timestamp.s, ev->timestamp.len, &ev->posted_us, terr, sizeof(terr))) {
        /* Quote at most 40 bytes of the bad value; a NUL inside ends it early. */
        return fail(ev, GTP_REJECT_BAD_TIMESTAMP, "timestamp \"%.40s\": %s", ev->timestamp.s, terr);
    }
    if (ev->posted_us > ref_us + GTP_EVENT_FUTURE_US) {
        char a[GTP_TIME_RFC3339_MAX], b[GTP_TIME_RFC3339_MAX];
        gtp_time_format(ev->posted_us, a, sizeof(a));
        gtp_time_format(ref_us, b, sizeof(b));
        return fail(ev, GTP_REJECT_FUTURE_TIMESTAMP, "timestamp %s is more than 1 h after %s", a,
                    b);
    }
    ev->reject = GTP_REJECT_NONE;
    snprintf(ev->region, sizeof(ev->region), "%s", GTP_REGION_UNKNOWN);
    return GTP_REJECT_NONE;
}

void gtp_event_enrich(struct gtp_event *ev, const struct gtp_taxonomy *tx)
{
    const char *region;

    if (ev->reject != GTP_REJECT_NONE || !tx)
        return;
    region = gtp_regions_lookup(tx->regions, ev->location.s, ev->location.len);
    snprintf(ev->region, sizeof(ev->region), "%s", region);
    ev->level = gtp_seniority_of(tx->seniority, ev->title.s, ev->title.len);
    memset(&ev->skills, 0, sizeof(ev->skills));
    /* A PCRE2 match-limit error keeps the skills found so far: an event is
     * never rejected for being hard to match. */
    (void)gtp_skills_match(tx->skills, ev->title.s, ev->title.len, &ev->skills);
    if (ev->description.s)
        (void)gtp_skills_match(tx->skills, ev->description.s, ev->description.len, &ev->skills);
}

enum gtp_reject gtp_event_process(struct gtp_event *ev, const struct gtp_taxonomy *tx,
                                  const void *buf, size_t len, int64_t ref_us)
{
    enum gtp_reject r = gtp_event_parse(ev, buf, len, ref_us);
    if (r == GTP_REJECT_NONE)
        gtp_event_enrich(ev, tx);
    return r;
}
