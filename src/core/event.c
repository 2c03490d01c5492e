/* Validation and enrichment of one raw event. Hot path of the processor
 * (>= 60k events/s on one core): a single-pass scanner reads the common clean
 * event without building a tree; jansson handles every other value and is
 * the reference the scanner must match exactly. */
#include "gtp/event.h"
#include "event_internal.h"
#include "gtp/timeparse.h"
#include "gtp/json.h"
#include "gtp/utf8.h"
#include "gtp/util.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* ---- JSON output --------------------------------------------------------------- */

/* The callers keep a plain (*buf, *cap) pair across events; borrow it as a
 * gtp_buf for one output and hand it back. */
static struct gtp_buf borrow(char **buf, size_t *cap)
{
    struct gtp_buf b = {.p = *buf, .len = 0, .cap = *buf ? *cap : 0};
    return b;
}

static size_t give_back(struct gtp_buf *b, char **buf, size_t *cap)
{
    *buf = b->p;
    *cap = b->cap;
    return b->len;
}

#define PUT_LIT(b, lit) gtp_buf_put((b), (lit), sizeof(lit) - 1)

static void put_str(struct gtp_buf *b, const char *s, size_t len)
{
    gtp_json_quote(b, s, len, GTP_JSON_PLAIN);
}

static void put_opt(struct gtp_buf *b, struct gtp_str v)
{
    if (v.s)
        put_str(b, v.s, v.len);
    else
        PUT_LIT(b, "null");
}

size_t gtp_event_to_json(const struct gtp_event *ev, const struct gtp_skills *sk, char **buf,
                         size_t *cap)
{
    char t[GTP_TIME_RFC3339_MAX];
    size_t n, first = 1;
    struct gtp_buf b = borrow(buf, cap);

    gtp_buf_reserve(&b, 512);
    PUT_LIT(&b, "{\"event_id\":");
    put_str(&b, ev->event_id.s, ev->event_id.len);
    PUT_LIT(&b, ",\"posted_at\":");
    n = gtp_time_format(ev->posted_us, t, sizeof(t));
    put_str(&b, t, n);
    PUT_LIT(&b, ",\"date_posted\":");
    n = gtp_time_format_date(ev->posted_us, t, sizeof(t));
    put_str(&b, t, n);
    PUT_LIT(&b, ",\"title\":");
    put_str(&b, ev->title.s, ev->title.len);
    PUT_LIT(&b, ",\"company\":");
    put_opt(&b, ev->company);
    PUT_LIT(&b, ",\"skills_array\":[");
    /* Walk the set bits, not all ~400 skills: most postings name a handful. */
    size_t count = sk ? gtp_skills_count(sk) : 0;
    for (size_t w = 0; w < GTP_ARRAY_LEN(ev->skills.bits) && w * 64 < count; w++) {
        for (uint64_t bits = ev->skills.bits[w]; bits; bits &= bits - 1) {
            size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
            if (i >= count)
                break;
            if (!first)
                PUT_LIT(&b, ",");
            first = 0;
            const char *id = gtp_skills_id(sk, i);
            put_str(&b, id, strlen(id));
        }
    }
    PUT_LIT(&b, "],\"experience_level\":");
    const char *lv = gtp_seniority_name(ev->level);
    put_str(&b, lv, strlen(lv));
    PUT_LIT(&b, ",\"region\":");
    put_str(&b, ev->region, strlen(ev->region));
    PUT_LIT(&b, ",\"job_id\":");
    put_str(&b, ev->job_id.s, ev->job_id.len);
    PUT_LIT(&b, ",\"source\":");
    put_opt(&b, ev->source);
    PUT_LIT(&b, ",\"location\":");
    put_opt(&b, ev->location);
    PUT_LIT(&b, ",\"is_remote\":");
    if (ev->is_remote < 0)
        PUT_LIT(&b, "null}");
    else if (ev->is_remote)
        PUT_LIT(&b, "true}");
    else
        PUT_LIT(&b, "false}");
    return give_back(&b, buf, cap);
}

size_t gtp_event_reject_json(const struct gtp_event *ev, char **buf, size_t *cap)
{
    const char *r = gtp_reject_name(ev->reject);
    struct gtp_buf b = borrow(buf, cap);

    gtp_buf_reserve(&b, 64);
    PUT_LIT(&b, "{\"rejected\":");
    put_str(&b, r, strlen(r));
    PUT_LIT(&b, ",\"detail\":");
    /* The detail may quote input bytes; keep the output valid UTF-8 even then. */
    size_t dl = strlen(ev->detail), bad;
    while (dl && !gtp_utf8_valid(ev->detail, dl, &bad))
        dl = bad;
    put_str(&b, ev->detail, dl);
    PUT_LIT(&b, "}");
    return give_back(&b, buf, cap);
}

/* ---- validation ---------------------------------------------------------------- */

void gtp_event_init(struct gtp_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->is_remote = -1;
}

/* Drop the previous event; the arena stays for the next one. */
static void reset(struct gtp_event *ev)
{
    json_t *root = (json_t *)ev->root;
    char *arena = ev->arena;
    size_t arena_cap = ev->arena_cap;
    struct gtp_regions_memo memo = ev->region_memo;
    struct gtp_title_memo tmemo = ev->title_memo;
    struct gtp_event_shape *shape = ev->shape;
    json_decref(root);
    gtp_event_init(ev);
    ev->arena = arena;
    ev->arena_cap = arena_cap;
    ev->region_memo = memo;
    ev->title_memo = tmemo;
    ev->shape = shape;
}

void gtp_event_fini(struct gtp_event *ev)
{
    reset(ev);
    free(ev->arena);
    free(ev->shape);
    gtp_regions_memo_fini(&ev->region_memo);
    gtp_title_memo_fini(&ev->title_memo);
    gtp_event_init(ev);
}

static enum gtp_reject fail(struct gtp_event *ev, enum gtp_reject r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum gtp_reject fail(struct gtp_event *ev, enum gtp_reject r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev->detail, sizeof(ev->detail), fmt, ap);
    va_end(ap);
    /* A detail may quote input cut in the middle of a character (jansson's
     * "near '...'" does): keep it UTF-8 for the DLQ header and the logs. */
    for (size_t n = strlen(ev->detail), bad; !gtp_utf8_valid(ev->detail, n, &bad);)
        ev->detail[bad] = '?';
    ev->reject = r;
    return r;
}

/* Steps 1-2, shared by both parsers. */
static enum gtp_reject precheck(struct gtp_event *ev, const void *buf, size_t len)
{
    size_t bad;

    if (len > GTP_EVENT_MAX_BYTES)
        return fail(ev, GTP_REJECT_TOO_LARGE, "value is %zu bytes, over the limit of %d", len,
                    GTP_EVENT_MAX_BYTES);
    if (!buf && len)
        return fail(ev, GTP_REJECT_INVALID_JSON, "no value");
    if (!gtp_utf8_valid(buf, len, &bad))
        return fail(ev, GTP_REJECT_INVALID_UTF8, "invalid utf-8 at byte %zu", bad);
    return GTP_REJECT_NONE;
}

/* snprintf(ev->region, ..., "%s", code) without printf's cost (per event). */
static void set_region(struct gtp_event *ev, const char *code)
{
    size_t n = strnlen(code, sizeof(ev->region) - 1);
    memcpy(ev->region, code, n);
    ev->region[n] = '\0';
}

/* Steps 7-8 once the fields are read, shared by both parsers. */
static enum gtp_reject finish(struct gtp_event *ev, int64_t ref_us)
{
    char terr[96];

    if (gtp_time_parse(ev->timestamp.s, ev->timestamp.len, &ev->posted_us, terr, sizeof(terr))) {
        /* Quote at most 40 bytes of the bad value, cut on a character boundary
         * so the detail stays UTF-8 (the value is); a NUL inside ends it early. */
        int q = ev->timestamp.len < 40 ? (int)ev->timestamp.len : 40;
        while (q > 0 && (size_t)q < ev->timestamp.len && (ev->timestamp.s[q] & 0xc0) == 0x80)
            q--;
        return fail(ev, GTP_REJECT_BAD_TIMESTAMP, "timestamp \"%.*s\": %s", q, ev->timestamp.s,
                    terr);
    }
    if (ev->posted_us > ref_us + GTP_EVENT_FUTURE_US) {
        char a[GTP_TIME_RFC3339_MAX], b[GTP_TIME_RFC3339_MAX];
        gtp_time_format(ev->posted_us, a, sizeof(a));
        gtp_time_format(ref_us, b, sizeof(b));
        return fail(ev, GTP_REJECT_FUTURE_TIMESTAMP, "timestamp %s is more than 1 h after %s", a,
                    b);
    }
    ev->reject = GTP_REJECT_NONE;
    set_region(ev, GTP_REGION_UNKNOWN);
    return GTP_REJECT_NONE;
}

/* ---- jansson path (reference, and everything the fast path declines) ----------- */

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

/* Steps 3-8 with jansson; ev is freshly reset and passed precheck(). */
static enum gtp_reject parse_jansson(struct gtp_event *ev, const void *buf, size_t len,
                                     int64_t ref_us)
{
    json_error_t jerr;
    json_t *root, *payload;
    enum gtp_reject r;

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
    return finish(ev, ref_us);
}

enum gtp_reject gtp_event_parse_slow(struct gtp_event *ev, const void *buf, size_t len,
                                     int64_t ref_us)
{
    enum gtp_reject r;

    reset(ev);
    if ((r = precheck(ev, buf, len)))
        return r;
    return parse_jansson(ev, buf, len, ref_us);
}

/* ---- fast path ------------------------------------------------------------------
 * A validating scanner for a strict subset of JSON. It reads the ten fields
 * in one pass, copies their strings into ev->arena, and applies the same
 * rules in the same order as parse_jansson(). Whenever the document leaves
 * the subset (numbers, \u escapes, raw control bytes, nesting over
 * FJ_MAX_DEPTH, a repeated field we read, non-ASCII outside strings, ...) it
 * declines and jansson decides: the scanner only has to be sure that what it
 * accepts is valid JSON that jansson reads the same way, never to reproduce
 * jansson's errors. Decline costs one wasted scan, only for unusual events. */

#define FJ_MAX_DEPTH 32

enum fj_kind { FJ_ABSENT = 0, FJ_NULL, FJ_STR, FJ_TRUE, FJ_FALSE, FJ_OBJ, FJ_ARR };

enum fj_field {
    F_EVENT_ID,
    F_TIMESTAMP,
    F_SOURCE,
    F_PAYLOAD,
    F_JOB_ID,
    F_TITLE,
    F_COMPANY,
    F_LOCATION,
    F_DESCRIPTION,
    F_IS_REMOTE,
    F_COUNT
};

/* Which object the scanner is in: only the root's and the payload's keys matter. */
enum fj_role { R_OTHER, R_ROOT, R_PAYLOAD };

struct fj_val {
    enum fj_kind kind;
    int esc;                /* the string holds backslash escapes */
    const unsigned char *p; /* string: raw bytes between the quotes; else the value's first byte */
    size_t n;               /* bytes at p */
};

struct fj {
    const unsigned char *p, *end;
    struct fj_val f[F_COUNT];
};

/* 1 for the bytes a string may hold unescaped: not '"', not '\\', no control
 * byte. Bytes >= 0x80 are fine: the whole value is valid UTF-8 already. */
static const unsigned char fj_plain[256] = {
    [0x20] = 1,
    [0x21] = 1,
    [0x23 ... 0x5B] = 1,
    [0x5D ... 0xFF] = 1,
};

#define FJ_ONES  UINT64_C(0x0101010101010101)
#define FJ_HIGHS UINT64_C(0x8080808080808080)

/* Whether any byte of w is '"', '\\' or below 0x20 (exact as a whole, the
 * classic "has less than" and "has zero byte" bit tricks). */
static inline int fj_special8(uint64_t w)
{
    uint64_t q = w ^ (FJ_ONES * '"'), b = w ^ (FJ_ONES * '\\');
    uint64_t t = ((w - FJ_ONES * 0x20) & ~w) | ((q - FJ_ONES) & ~q) | ((b - FJ_ONES) & ~b);
    return (t & FJ_HIGHS) != 0;
}

static inline void fj_ws(struct fj *s)
{
    /* every JSON whitespace byte is <= ' ', so one compare settles the usual case (a
     * value or punctuation right there) */
    while (s->p < s->end && *s->p <= ' ' &&
           (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* s->p is at the opening quote. */
static int fj_string(struct fj *s, struct fj_val *out)
{
    const unsigned char *p = s->p + 1, *e = s->end, *start = p;
    int esc = 0;

    for (;;) {
#ifdef __SSE2__
        /* 16 bytes at a time: '"', '\\' or a byte below 0x20 (signed
         * compare, so bytes >= 0x80 are shifted out of the range first). */
        while (e - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i lo = _mm_cmplt_epi8(_mm_xor_si128(v, _mm_set1_epi8((char)0x80)),
                                        _mm_set1_epi8((char)(0x20 ^ 0x80)));
            __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                                       lo);
            int m = _mm_movemask_epi8(hit);
            if (m) {
                /* p is at the byte that ends the run: the narrower loops below
                 * would only find it again (most strings are short keys) */
                p += __builtin_ctz((unsigned)m);
                goto special;
            }
            p += 16;
        }
#endif
        while (e - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (fj_special8(w))
                break;
            p += 8;
        }
        while (p < e && fj_plain[*p])
            p++;
        if (p >= e)
            return -1;
#ifdef __SSE2__
    special:
#endif
        if (*p == '"')
            break;
        if (*p != '\\')
            return -1; /* raw control byte: jansson's error to report */
        if (e - p < 2)
            return -1;
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            break;
        default:
            return -1; /* \u (surrogates, NUL) and invalid escapes */
        }
        esc = 1;
        p += 2;
    }
    if (out) {
        out->kind = FJ_STR;
        out->esc = esc;
        out->p = start;
        out->n = (size_t)(p - start);
    }
    s->p = p + 1;
    return 0;
}

static int fj_value(struct fj *s, int depth, enum fj_role role, struct fj_val *out);

static enum fj_field fj_key(enum fj_role role, const unsigned char *k, size_t n)
{
#define FJ_IS(lit) (n == sizeof(lit) - 1 && memcmp(k, lit, sizeof(lit) - 1) == 0)
    if (role == R_ROOT) {
        if (FJ_IS("event_id"))
            return F_EVENT_ID;
        if (FJ_IS("timestamp"))
            return F_TIMESTAMP;
        if (FJ_IS("source"))
            return F_SOURCE;
        if (FJ_IS("payload"))
            return F_PAYLOAD;
    } else if (role == R_PAYLOAD) {
        if (FJ_IS("job_id"))
            return F_JOB_ID;
        if (FJ_IS("title"))
            return F_TITLE;
        if (FJ_IS("company"))
            return F_COMPANY;
        if (FJ_IS("location"))
            return F_LOCATION;
        if (FJ_IS("description"))
            return F_DESCRIPTION;
        if (FJ_IS("is_remote"))
            return F_IS_REMOTE;
    }
#undef FJ_IS
    return F_COUNT;
}

/* s->p is at '{'; depth counts this object. */
static int fj_object(struct fj *s, int depth, enum fj_role role)
{
    s->p++;
    fj_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        struct fj_val key = {0}, *slot = NULL;
        enum fj_role sub = R_OTHER;

        fj_ws(s);
        if (s->p >= s->end || *s->p != '"' || fj_string(s, &key))
            return -1;
        fj_ws(s);
        if (s->p >= s->end || *s->p != ':')
            return -1;
        s->p++;
        /* A key with escapes cannot spell one of ours: they are plain ASCII
         * letters and '_', and a simple escape never yields one of those. */
        if (role != R_OTHER && !key.esc) {
            enum fj_field f = fj_key(role, key.p, key.n);
            if (f != F_COUNT) {
                /* jansson keeps the last duplicate; leave that to it. */
                if (s->f[f].kind != FJ_ABSENT)
                    return -1;
                slot = &s->f[f];
                if (f == F_PAYLOAD)
                    sub = R_PAYLOAD;
            }
        }
        if (fj_value(s, depth, sub, slot))
            return -1;
        fj_ws(s);
        if (s->p >= s->end)
            return -1;
        if (*s->p == '}') {
            s->p++;
            return 0;
        }
        if (*s->p != ',')
            return -1;
        s->p++;
    }
}

static int fj_array(struct fj *s, int depth)
{
    s->p++;
    fj_ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 0;
    }
    for (;;) {
        if (fj_value(s, depth, R_OTHER, NULL))
            return -1;
        fj_ws(s);
        if (s->p >= s->end)
            return -1;
        if (*s->p == ']') {
            s->p++;
            return 0;
        }
        if (*s->p != ',')
            return -1;
        s->p++;
    }
}

/* A literal must end at a delimiter, or jansson would read something else
 * ("truex" is one bad token for it). */
static int fj_literal(struct fj *s, const char *lit, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return -1;
    s->p += n;
    if (s->p < s->end) {
        unsigned char c = *s->p;
        if (c != ',' && c != '}' && c != ']' && c != ' ' && c != '\n' && c != '\r' && c != '\t')
            return -1;
    }
    return 0;
}

/* true, false or null at s->p (fj_literal): its kind, or FJ_ABSENT for anything else. */
static enum fj_kind fj_word(struct fj *s)
{
    switch (*s->p) {
    case 't':
        return fj_literal(s, "true", 4) ? FJ_ABSENT : FJ_TRUE;
    case 'f':
        return fj_literal(s, "false", 5) ? FJ_ABSENT : FJ_FALSE;
    case 'n':
        return fj_literal(s, "null", 4) ? FJ_ABSENT : FJ_NULL;
    default:
        return FJ_ABSENT;
    }
}

/* Scan one value at depth (containers around it); out (may be NULL) gets its
 * kind and, for a string, its raw span. */
static int fj_value(struct fj *s, int depth, enum fj_role role, struct fj_val *out)
{
    enum fj_kind kind;
    const unsigned char *at;

    fj_ws(s);
    if (s->p >= s->end)
        return -1;
    at = s->p;
    switch (*s->p) {
    case '"':
        return fj_string(s, out);
    case '{':
        if (depth >= FJ_MAX_DEPTH || fj_object(s, depth + 1, role))
            return -1;
        kind = FJ_OBJ;
        break;
    case '[':
        if (depth >= FJ_MAX_DEPTH || fj_array(s, depth + 1))
            return -1;
        kind = FJ_ARR;
        break;
    default: /* true, false or null; numbers and anything that is not JSON decline */
        if ((kind = fj_word(s)) == FJ_ABSENT)
            return -1;
    }
    if (out) {
        out->kind = kind;
        out->p = at;
        out->n = (size_t)(s->p - at);
    }
    return 0;
}

/* ---- the remembered layout ------------------------------------------------------
 * After an accepted event the scanner keeps the bytes between its field values
 * (keys, spaces, punctuation, the opening '{' and the closing '}}'). The next
 * event is read by comparing those bytes and scanning only the values: each a
 * string by fj_string()'s rules or one of true/false/null, exactly what the full
 * scan would accept there. Identical bytes between values that are each one
 * complete token parse identically, so the fields, their kinds and the absent
 * ones are what the full scan would find; any difference hands the event to it. */

#define SHAPE_SLOTS   (F_COUNT - 1) /* every field but the payload object */
#define SHAPE_GAP_MAX 512           /* bytes between the values, at most */

struct gtp_event_shape {
    unsigned nslots;
    uint8_t field[SHAPE_SLOTS]; /* enum fj_field, in document order */
    uint16_t gap_off[SHAPE_SLOTS + 1], gap_len[SHAPE_SLOTS + 1]; /* before each, after the last */
    unsigned char gaps[SHAPE_GAP_MAX];
};

/* A slot value's first byte and length in the document (its quotes included), or 0 for a
 * container, which no slot holds. */
static size_t fj_span(const struct fj_val *v, const unsigned char **start)
{
    if (v->kind == FJ_STR) {
        *start = v->p - 1;
        return v->n + 2;
    }
    *start = v->p;
    return v->kind == FJ_OBJ || v->kind == FJ_ARR ? 0 : v->n;
}

/* Remember the layout of buf, fully scanned into s (top and payload objects). A
 * field whose value is an object or an array, or gaps over SHAPE_GAP_MAX, leave the
 * old layout (if any) in place. */
static void shape_learn(struct gtp_event *ev, const unsigned char *buf, size_t len,
                        const struct fj *s)
{
    const unsigned char *start[SHAPE_SLOTS];
    size_t span[SHAPE_SLOTS], gap[SHAPE_SLOTS + 1], total = 0;
    uint8_t field[SHAPE_SLOTS];
    unsigned n = 0;

    for (int f = 0; f < F_COUNT; f++) {
        if (f == F_PAYLOAD || s->f[f].kind == FJ_ABSENT)
            continue;
        const unsigned char *at = NULL;
        size_t sp = fj_span(&s->f[f], &at);
        if (!sp)
            return;
        /* insertion by position: at most nine values */
        unsigned k = n++;
        for (; k > 0 && start[k - 1] > at; k--) {
            start[k] = start[k - 1];
            span[k] = span[k - 1];
            field[k] = field[k - 1];
        }
        start[k] = at;
        span[k] = sp;
        field[k] = (uint8_t)f;
    }
    if (n == 0)
        return;
    /* gap k ends where value k starts (the last, at the document's end) */
    for (unsigned k = 0; k <= n; k++) {
        const unsigned char *from = k ? start[k - 1] + span[k - 1] : buf;
        gap[k] = (size_t)((k < n ? start[k] : buf + len) - from);
        total += gap[k];
    }
    if (total > SHAPE_GAP_MAX)
        return;
    if (!ev->shape)
        ev->shape = gtp_xmalloc(sizeof(*ev->shape));
    struct gtp_event_shape *sh = ev->shape;
    size_t off = 0;
    sh->nslots = n;
    memcpy(sh->field, field, n);
    for (unsigned k = 0; k <= n; k++) {
        memcpy(sh->gaps + off, (k ? start[k - 1] + span[k - 1] : buf), gap[k]);
        sh->gap_off[k] = (uint16_t)off;
        sh->gap_len[k] = (uint16_t)gap[k];
        off += gap[k];
    }
}

/* Whether p[0..n) equals g[0..n); the caller has checked that n bytes are there. */
static inline int gap_eq(const unsigned char *p, const unsigned char *g, size_t n)
{
    uint64_t a, b, d = 0;
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            memcpy(&a, p + i, 8);
            memcpy(&b, g + i, 8);
            d |= a ^ b;
        }
        /* the tail as the last 8 bytes, overlapping */
        memcpy(&a, p + n - 8, 8);
        memcpy(&b, g + n - 8, 8);
        return (d | (a ^ b)) == 0;
    }
    for (size_t i = 0; i < n; i++)
        d |= (uint64_t)(p[i] ^ g[i]);
    return d == 0;
}

/* Read s->p..s->end by the layout sh into s->f (zeroed by the caller). 0, or -1 when
 * the document does not have that layout. */
static int shape_scan(const struct gtp_event_shape *sh, struct fj *s)
{
    const unsigned char *e = s->end;

    for (unsigned k = 0;; k++) {
        size_t gl = sh->gap_len[k];
        if ((size_t)(e - s->p) < gl || !gap_eq(s->p, sh->gaps + sh->gap_off[k], gl))
            return -1;
        s->p += gl;
        if (k == sh->nslots)
            break;
        struct fj_val *v = &s->f[sh->field[k]];
        if (s->p >= e)
            return -1;
        /* a string or true/false/null, read as the full scan reads them */
        if (*s->p == '"') {
            if (fj_string(s, v))
                return -1;
        } else if ((v->kind = fj_word(s)) == FJ_ABSENT) {
            return -1;
        }
    }
    if (s->p != e)
        return -1;
    s->f[F_PAYLOAD].kind = FJ_OBJ;
    return 0;
}

/* Copy a scanned string into the arena at *a, unescaped and NUL-terminated. */
static struct gtp_str fj_copy(char **a, const struct fj_val *v)
{
    struct gtp_str out = {*a, 0};
    char *o = *a;

    if (!v->esc) {
        memcpy(o, v->p, v->n);
        o += v->n;
    } else {
        for (size_t i = 0; i < v->n; i++) {
            unsigned char c = v->p[i];
            if (c != '\\') {
                *o++ = (char)c;
                continue;
            }
            switch (v->p[++i]) {
            case 'b':
                *o++ = '\b';
                break;
            case 'f':
                *o++ = '\f';
                break;
            case 'n':
                *o++ = '\n';
                break;
            case 'r':
                *o++ = '\r';
                break;
            case 't':
                *o++ = '\t';
                break;
            default: /* '"', '\\', '/' */
                *o++ = (char)v->p[i];
            }
        }
    }
    out.len = (size_t)(o - *a);
    *o++ = '\0';
    *a = o;
    return out;
}

/* need_str() and opt_str() over scanned values: same checks, same texts. */
static enum gtp_reject fj_need(struct gtp_event *ev, char **a, const struct fj_val *v,
                               const char *path, int allow_empty, struct gtp_str *out)
{
    if (v->kind == FJ_ABSENT || v->kind == FJ_NULL)
        return fail(ev, GTP_REJECT_MISSING_FIELD, "%s is missing", path);
    if (v->kind != FJ_STR)
        return fail(ev, GTP_REJECT_WRONG_TYPE, "%s must be a string", path);
    /* Every escape decodes to one byte: empty raw <=> empty value. */
    if (v->n == 0 && !allow_empty)
        return fail(ev, GTP_REJECT_MISSING_FIELD, "%s is empty", path);
    *out = fj_copy(a, v);
    return GTP_REJECT_NONE;
}

static enum gtp_reject fj_opt(struct gtp_event *ev, char **a, const struct fj_val *v,
                              const char *path, struct gtp_str *out)
{
    if (v->kind == FJ_ABSENT || v->kind == FJ_NULL)
        return GTP_REJECT_NONE;
    if (v->kind != FJ_STR)
        return fail(ev, GTP_REJECT_WRONG_TYPE, "%s must be a string or null", path);
    *out = fj_copy(a, v);
    return GTP_REJECT_NONE;
}

/* s set to scan buf[0..len) from the start, no field read yet. */
static void fj_start(struct fj *s, const void *buf, size_t len)
{
    memset(s, 0, sizeof(*s));
    s->p = buf;
    s->end = s->p + len;
}

/* Steps 3-8 on the fast path; ev is freshly reset and passed precheck().
 * Returns -1 (ev untouched) when jansson must decide, else 0 with *res set. */
static int parse_fast(struct gtp_event *ev, const void *buf, size_t len, int64_t ref_us,
                      enum gtp_reject *res)
{
    struct fj s;
    struct fj_val top = {0};
    const struct fj_val *f = s.f;
    enum gtp_reject r;
    size_t need = 0;
    int shaped = 0;
    char *a;

    if (len == 0)
        return -1;
    fj_start(&s, buf, len);
    if (ev->shape && shape_scan(ev->shape, &s) == 0) {
        shaped = 1;
        top.kind = FJ_OBJ;
    } else {
        fj_start(&s, buf, len); /* what the layout read is dropped */
        if (fj_value(&s, 0, R_ROOT, &top))
            return -1;
        fj_ws(&s);
        if (s.p != s.end)
            return -1; /* trailing bytes */
    }

    /* Room for every string field we may copy: no allocation in steady state. */
    for (int i = 0; i < F_COUNT; i++)
        if (f[i].kind == FJ_STR)
            need += f[i].n + 1;
    if (need > ev->arena_cap) {
        size_t cap = ev->arena_cap ? ev->arena_cap : 4096;
        while (cap < need)
            cap *= 2;
        free(ev->arena);
        ev->arena = gtp_xmalloc(cap);
        ev->arena_cap = cap;
    }
    a = ev->arena;
    ev->parsed_fast = 1;

    if (top.kind != FJ_OBJ)
        r = fail(ev, GTP_REJECT_WRONG_TYPE, "event must be a json object");
    else if ((r = fj_need(ev, &a, &f[F_EVENT_ID], "event_id", 0, &ev->event_id)) ||
             (r = fj_need(ev, &a, &f[F_TIMESTAMP], "timestamp", 1, &ev->timestamp)))
        ;
    else if (f[F_PAYLOAD].kind == FJ_ABSENT || f[F_PAYLOAD].kind == FJ_NULL)
        r = fail(ev, GTP_REJECT_MISSING_FIELD, "payload is missing");
    else if (f[F_PAYLOAD].kind != FJ_OBJ)
        r = fail(ev, GTP_REJECT_WRONG_TYPE, "payload must be an object");
    else if ((r = fj_need(ev, &a, &f[F_JOB_ID], "payload.job_id", 0, &ev->job_id)) ||
             (r = fj_need(ev, &a, &f[F_TITLE], "payload.title", 0, &ev->title)) ||
             (r = fj_opt(ev, &a, &f[F_SOURCE], "source", &ev->source)) ||
             (r = fj_opt(ev, &a, &f[F_COMPANY], "payload.company", &ev->company)) ||
             (r = fj_opt(ev, &a, &f[F_LOCATION], "payload.location", &ev->location)) ||
             (r = fj_opt(ev, &a, &f[F_DESCRIPTION], "payload.description", &ev->description)))
        ;
    else if (f[F_IS_REMOTE].kind != FJ_ABSENT && f[F_IS_REMOTE].kind != FJ_NULL &&
             f[F_IS_REMOTE].kind != FJ_TRUE && f[F_IS_REMOTE].kind != FJ_FALSE)
        r = fail(ev, GTP_REJECT_WRONG_TYPE, "payload.is_remote must be a boolean or null");
    else {
        if (f[F_IS_REMOTE].kind == FJ_TRUE || f[F_IS_REMOTE].kind == FJ_FALSE)
            ev->is_remote = f[F_IS_REMOTE].kind == FJ_TRUE;
        r = finish(ev, ref_us);
    }
    ev->parsed_shape = shaped;
    if (!shaped && r == GTP_REJECT_NONE) /* accepted: the top and the payload are objects */
        shape_learn(ev, buf, len, &s);
    *res = r;
    return 0;
}

enum gtp_reject gtp_event_parse(struct gtp_event *ev, const void *buf, size_t len, int64_t ref_us)
{
    enum gtp_reject r;

    reset(ev);
    if ((r = precheck(ev, buf, len)))
        return r;
    if (parse_fast(ev, buf, len, ref_us, &r) == 0)
        return r;
    return parse_jansson(ev, buf, len, ref_us);
}

void gtp_event_enrich(struct gtp_event *ev, const struct gtp_taxonomy *tx)
{
    const char *region;

    if (ev->reject != GTP_REJECT_NONE || !tx)
        return;
    region =
        gtp_regions_lookup_memo(tx->regions, &ev->region_memo, ev->location.s, ev->location.len);
    set_region(ev, region);
    memset(&ev->skills, 0, sizeof(ev->skills));
    /* Titles recur: their level and skills come from the thread's memo (gtp/titlememo.h).
     * A PCRE2 match-limit error keeps the skills found so far: an event is never rejected
     * for being hard to match. */
    ev->level = gtp_title_memo_enrich(&ev->title_memo, tx, ev->title.s, ev->title.len, &ev->skills);
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
