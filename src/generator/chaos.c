/* Chaos for gtp-generator (docs/events.md): which events go wrong, and how. Each kind
 * mutates the fields of one event before it is rendered (or, for malformed
 * payloads, the rendered bytes), drawing only from the chaos PRNG stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "gtp/util.h"
#include "gtp/buf.h"

static const char *const kind_names[GEN_CHAOS_NKINDS] = {
    "bad_location", "bad_date",  "time_format", "missing_field", "wrong_type", "malformed",
    "invalid_utf8", "oversized", "html",        "duplicate",     "late",       "future",
};

/* Relative frequency among chaotic events. Oversized events are rare because
 * each one is up to a megabyte: at the default --chaos 0.05 they add ~0.3 KB
 * per event on average instead of ~5 KB. */
static const unsigned kind_weight[GEN_CHAOS_NKINDS] = {
    10, 10, 10, 10, 10, 10, 10, 1, 10, 10, 10, 10,
};

const char *gen_chaos_name(int kind)
{
    return kind >= 0 && kind < GEN_CHAOS_NKINDS ? kind_names[kind] : NULL;
}

int gen_chaos_parse(const char *list, unsigned *mask, char *errstr, size_t errstr_size)
{
    unsigned m = 0;
    const char *s = list ? list : "";
    while (*s) {
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        while (n && (*s == ' ')) {
            s++;
            n--;
        }
        while (n && s[n - 1] == ' ')
            n--;
        if (n) {
            int found = -1;
            if (n == 3 && strncmp(s, "all", 3) == 0) {
                m |= GEN_CHAOS_ALL;
                found = 0;
            } else if (n == 4 && strncmp(s, "none", 4) == 0) {
                found = 0;
            }
            for (int k = 0; found < 0 && k < GEN_CHAOS_NKINDS; k++)
                if (strlen(kind_names[k]) == n && strncmp(s, kind_names[k], n) == 0) {
                    m |= 1u << k;
                    found = k;
                }
            if (found < 0) {
                gtp_errf(errstr, errstr_size,
                         "unknown chaos kind '%.*s' (kinds: bad_location, bad_date, time_format, "
                         "missing_field, wrong_type, malformed, invalid_utf8, oversized, html, "
                         "duplicate, late, future, all, none)",
                         (int)n, s);
                return -1;
            }
        }
        if (!end)
            break;
        s = end + 1;
    }
    *mask = m;
    return 0;
}

struct chaos {
    struct gtp_buf a, b, big;
    char ts[64];
    char num[32];
};

struct chaos *chaos_new(void)
{
    struct chaos *c = gtp_xcalloc(1, sizeof(*c));
    gtp_buf_init(&c->a, 1024);
    gtp_buf_init(&c->b, 1024);
    gtp_buf_init(&c->big, 4096);
    return c;
}

void chaos_free(struct chaos *c)
{
    if (!c)
        return;
    gtp_buf_fini(&c->a);
    gtp_buf_fini(&c->b);
    gtp_buf_fini(&c->big);
    free(c);
}

int chaos_pick(struct rng *r, double p, unsigned mask, bool have_history)
{
    if (p <= 0 || !rng_chance(r, p))
        return GEN_CHAOS_NONE;
    if (!have_history)
        mask &= ~(1u << GEN_CHAOS_DUPLICATE);
    unsigned total = 0;
    for (int k = 0; k < GEN_CHAOS_NKINDS; k++)
        if (mask & (1u << k))
            total += kind_weight[k];
    if (total == 0)
        return GEN_CHAOS_NONE;
    uint32_t x = rng_below(r, total);
    for (int k = 0; k < GEN_CHAOS_NKINDS; k++) {
        if (!(mask & (1u << k)))
            continue;
        if (x < kind_weight[k])
            return k;
        x -= kind_weight[k];
    }
    return GEN_CHAOS_NONE; /* not reached */
}

#define PICK(r, arr) ((arr)[rng_below((r), (uint32_t)GTP_ARRAY_LEN(arr))])

static void set_str(struct field *f, enum field_mode mode, const char *s, size_t n)
{
    f->mode = mode;
    f->s = s;
    f->n = n;
}

static const char *const garbage_locations[] = {
    "",
    "   ",
    "???",
    "N/A",
    "asdfgh",
    "12345",
    "Narnia",
    "-",
    "TBD",
    "null",
    "Middle Earth",
    "Planet Mars",
    "#!@$%^&*",
    "Location",
    "see description",
    "Atlantis, Ocean",
    "0.0, 0.0",
    "Earth",
};

static const char *const bad_dates[] = {
    "2024-02-30T10:00:00Z",
    "2024-13-01T00:00:00Z",
    "2023-02-29T12:00:00Z",
    "2024-06-31T08:15:00Z",
    "2024-03-15T25:61:00Z",
    "0000-00-00T00:00:00Z",
    "yesterday",
    "",
    "15/03/2024 10:30",
    "not a date",
    "March 15, 2024",
    "2024-03-15T10:30:00+25:00",
    "2024/03/15 10:30:00",
    "2024-00-10T10:00:00Z",
    "2024-03-15T10:30:00 UTC+",
};

static const char *const html_bits[] = {
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert(1)>",
    "<b>Urgent!</b>",
    "<a href=\"javascript:alert(1)\">apply here</a>",
    "\"><script>alert(document.cookie)</script>",
    "<iframe src=\"//evil.example/\"></iframe>",
    "<style>body{display:none}</style>",
    "<svg onload=alert(1)>",
    "</textarea><script>fetch('//evil.example')</script>",
    "<div onmouseover=\"alert('hi')\">hover</div>",
};

/* Byte sequences that are not UTF-8: stray continuation bytes, a truncated
 * sequence, an overlong '/', a UTF-16 surrogate, a 5-byte form, 0xFF. */
static const char *const bad_utf8[] = {
    "\xff",
    "\xc3\x28",
    "\xa0\xa1",
    "\xe2\x28\xa1",
    "\xc0\xaf",
    "\xed\xa0\x80",
    "\xf8\x88\x80\x80\x80",
    "\xfe\xfe\xff\xff",
    "\xe2\x82",
};

/* Time-zone offsets in minutes east of UTC, as real feeds write them. */
static const int offsets[] = {330, -480, 60, 120, -300, 540, 0, 345, -210, 600};

static const int frac_digits[] = {0, 1, 3, 6, 6};

static int text_field(struct rng *r)
{
    static const int fields[] = {FLD_TITLE, FLD_COMPANY, FLD_LOCATION, FLD_DESCRIPTION};
    return PICK(r, fields);
}

/* a = field text with `bit` inserted at the start, the end, or a space. */
static void insert_bit(struct gtp_buf *a, struct rng *r, const struct field *f, const char *bit)
{
    size_t at = 0;
    uint32_t where = rng_below(r, 3);
    if (where == 1) {
        at = f->n;
    } else if (where == 2 && f->n) {
        /* a space, so a valid multi-byte character is never split */
        size_t start = rng_below(r, (uint32_t)f->n);
        at = start;
        while (at < f->n && f->s[at] != ' ')
            at++;
    }
    gtp_buf_reset(a);
    gtp_buf_put(a, f->s, at);
    if (where != 0)
        gtp_buf_putc(a, ' ');
    gtp_buf_puts(a, bit);
    if (where == 0)
        gtp_buf_putc(a, ' ');
    gtp_buf_put(a, f->s + at, f->n - at);
}

#define KIB      1024
#define US_PER_H 3600000000LL

void chaos_apply(struct chaos *c, struct rng *r, int kind, struct fields *fl, int64_t sim_us,
                 bool *null_key)
{
    switch (kind) {
    case GEN_CHAOS_BAD_LOCATION: {
        uint32_t v = rng_below(r, 4);
        if (v == 0) {
            fl->f[FLD_LOCATION].mode = F_NULL;
        } else {
            const char *s = v == 1 ? "" : PICK(r, garbage_locations);
            set_str(&fl->f[FLD_LOCATION], F_STR, s, strlen(s));
        }
        break;
    }
    case GEN_CHAOS_BAD_DATE: {
        uint32_t v = rng_below(r, 4);
        if (v == 0) { /* a real-looking time in a year outside 2000-2100 */
            int year =
                rng_chance(r, 0.5) ? 1850 + (int)rng_below(r, 100) : 2101 + (int)rng_below(r, 800);
            gen_fmt_time(c->ts, sim_us, 0, 0, true);
            char y[12]; /* an int in full, so no build sees a truncation */
            snprintf(y, sizeof(y), "%04d", year);
            memcpy(c->ts, y, 4);
            set_str(&fl->f[FLD_TIMESTAMP], F_STR, c->ts, strlen(c->ts));
        } else {
            const char *s = PICK(r, bad_dates);
            set_str(&fl->f[FLD_TIMESTAMP], F_STR, s, strlen(s));
        }
        break;
    }
    case GEN_CHAOS_TIME_FORMAT: {
        int off = PICK(r, offsets);
        int frac = PICK(r, frac_digits);
        bool zulu = off == 0 && frac > 0 && rng_chance(r, 0.5);
        if (off == 0 && frac == 0)
            frac = 3; /* "+00:00" alone is still a change of format, but make it visible */
        size_t n = gen_fmt_time(c->ts, sim_us, frac, off, zulu);
        set_str(&fl->f[FLD_TIMESTAMP], F_STR, c->ts, n);
        break;
    }
    case GEN_CHAOS_MISSING_FIELD: {
        static const int which[] = {FLD_EVENT_ID, FLD_TIMESTAMP, -1, FLD_JOB_ID, FLD_TITLE};
        int w = PICK(r, which);
        if (w < 0) {
            fl->payload = F_OMIT;
            *null_key = true;
        } else {
            fl->f[w].mode = F_OMIT;
            if (w == FLD_JOB_ID)
                *null_key = true;
        }
        break;
    }
    case GEN_CHAOS_WRONG_TYPE:
        switch (rng_below(r, 4)) {
        case 0:
            snprintf(c->num, sizeof(c->num), "%u", 1 + rng_below(r, 99999));
            set_str(&fl->f[FLD_TITLE], F_JSON, c->num, strlen(c->num));
            break;
        case 1:
            fl->payload = F_STR;
            break;
        case 2: /* the digits, unquoted */
            set_str(&fl->f[FLD_JOB_ID], F_JSON, fl->f[FLD_JOB_ID].s, fl->f[FLD_JOB_ID].n);
            break;
        default: {
            static const char *const yes[] = {"yes", "no", "true", "1", "Y"};
            const char *s = PICK(r, yes);
            set_str(&fl->f[FLD_IS_REMOTE], F_STR, s, strlen(s));
        }
        }
        break;
    case GEN_CHAOS_INVALID_UTF8: {
        int f = text_field(r);
        insert_bit(&c->a, r, &fl->f[f], PICK(r, bad_utf8));
        set_str(&fl->f[f], F_RAWSTR, c->a.p, c->a.len);
        break;
    }
    case GEN_CHAOS_OVERSIZED: {
        /* Mostly 100-300 KiB; one in six is 1 MiB +- 8 KiB up to 1.1 MiB, so
         * some exceed the 1 MiB too_large limit and some sit just below it.
         * Keeps the mean near 330 KB: at the default chaos these events are
         * already a fifth of all bytes. */
        size_t target = rng_chance(r, 1.0 / 6)
                            ? 1016 * KIB + rng_below(r, (uint32_t)(1126 * KIB - 1016 * KIB))
                            : 100 * KIB + rng_below(r, 200 * KIB);
        const struct field *d = &fl->f[FLD_DESCRIPTION];
        gtp_buf_reset(&c->big);
        if (c->big.cap < target + 64)
            gtp_buf_reserve(&c->big, target + 64);
        while (c->big.len < target) {
            gtp_buf_put(&c->big, d->s, d->n);
            gtp_buf_putc(&c->big, ' ');
        }
        c->big.len = target;
        set_str(&fl->f[FLD_DESCRIPTION], d->mode, c->big.p, c->big.len);
        break;
    }
    case GEN_CHAOS_HTML: {
        int f = text_field(r);
        insert_bit(&c->a, r, &fl->f[f], PICK(r, html_bits));
        set_str(&fl->f[f], F_STR, c->a.p, c->a.len);
        if (rng_chance(r, 0.3)) { /* sometimes a second field too */
            int g = text_field(r);
            if (g != f) {
                insert_bit(&c->b, r, &fl->f[g], PICK(r, html_bits));
                set_str(&fl->f[g], F_STR, c->b.p, c->b.len);
            }
        }
        break;
    }
    case GEN_CHAOS_LATE: {
        int64_t behind = US_PER_H + (int64_t)(rng_double(r) * 11.0 * (double)US_PER_H);
        size_t n = gen_fmt_time(c->ts, sim_us - behind, 0, 0, true);
        set_str(&fl->f[FLD_TIMESTAMP], F_STR, c->ts, n);
        break;
    }
    case GEN_CHAOS_FUTURE: {
        const int64_t y2090 = 3786912000LL, y2100 = 4102444800LL; /* UTC seconds */
        int64_t s = y2090 + (int64_t)(rng_double(r) * (double)(y2100 - y2090));
        size_t n = gen_fmt_time(c->ts, s * 1000000LL, 0, 0, true);
        set_str(&fl->f[FLD_TIMESTAMP], F_STR, c->ts, n);
        break;
    }
    default: /* MALFORMED and DUPLICATE act elsewhere */
        break;
    }
}

static const char *const not_json[] = {
    "not json",
    "<html><body><h1>503 Service Unavailable</h1></body></html>",
    "event_id=42;title=Data Engineer;company=Tech Corp",
    "{'event_id': 'abc', 'title': 'Data Engineer'}",
    "[1, 2, 3",
    "{\"event_id\": \"abc\", \"timestamp\": }",
    "ERROR: upstream timeout",
    "{{{{",
    "\"just a string",
};

void chaos_malform(struct chaos *c, struct rng *r, struct gtp_buf *out)
{
    (void)c;
    uint32_t v = rng_below(r, 3);
    if (v < 2 && out->len > 2) {
        /* truncated: any proper prefix of an object is invalid JSON */
        out->len = 1 + rng_below(r, (uint32_t)(out->len - 2));
        return;
    }
    if (rng_chance(r, 0.2)) { /* binary noise, never a newline (--out is one event a line) */
        size_t n = 8 + rng_below(r, 120);
        gtp_buf_reset(out);
        for (size_t i = 0; i < n; i++) {
            char b = (char)rng_below(r, 256);
            gtp_buf_putc(out, b == '\n' ? '?' : b);
        }
        return;
    }
    gtp_buf_reset(out);
    gtp_buf_puts(out, PICK(r, not_json));
}
