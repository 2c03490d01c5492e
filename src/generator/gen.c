/* The event stream: simulated clock, ids, the seed-shaped JSON rendering, and
 * the history of recent events that duplicates are re-sent from. */
#include "gen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/timeparse.h"
#include "gtp/util.h"
#include "gtp/uuidtext.h"
#include "gtp/buf.h"
#include "gtp/json.h"
#include "repost.h"

#define HIST     64    /* recent events a duplicate may copy */
#define HIST_MAX 16384 /* larger events are not kept for duplication */

struct hist_entry {
    struct gtp_buf buf;
    char key[24];
    size_t key_len;
    bool null_key;
};

struct gen {
    struct gen_opts o;
    struct model *model;
    struct repost_pool *reposts;
    /* Separate streams, so the clock and the postings do not change when only
     * --chaos or --chaos-kinds change. */
    struct rng clock_rng, content_rng, chaos_rng;
    struct posting post;
    struct chaos *chaos;
    struct gtp_buf out, scratch;
    int64_t sim_us;
    uint64_t index;
    char event_id[40], ts[48], job_id[24];
    struct hist_entry hist[HIST];
    size_t hist_n, hist_pos;
};

struct gen *gen_new(const struct gen_opts *o)
{
    struct gen *g = gtp_xcalloc(1, sizeof(*g));
    g->o = *o;
    if (!(g->o.density > 0))
        g->o.density = 100;
    int64_t origin = o->origin_us ? o->origin_us : o->start_us;
    g->model = model_new(o->market, o->seed, origin);
    g->reposts = repost_new(o->market, o->seed, origin, g->o.density);
    rng_seed(&g->clock_rng, o->seed ^ 0x636c6f636bULL);     /* "clock" */
    rng_seed(&g->content_rng, o->seed ^ 0x636f6e74656eULL); /* "conten" */
    rng_seed(&g->chaos_rng, o->seed ^ 0x6368616f73ULL);     /* "chaos" */
    posting_init(&g->post);
    g->chaos = chaos_new();
    gtp_buf_init(&g->out, 4096);
    gtp_buf_init(&g->scratch, 4096);
    for (size_t i = 0; i < HIST; i++)
        gtp_buf_init(&g->hist[i].buf, 1024);
    g->sim_us = o->start_us;
    return g;
}

void gen_free(struct gen *g)
{
    if (!g)
        return;
    model_free(g->model);
    repost_free(g->reposts);
    posting_fini(&g->post);
    chaos_free(g->chaos);
    gtp_buf_fini(&g->out);
    gtp_buf_fini(&g->scratch);
    for (size_t i = 0; i < HIST; i++)
        gtp_buf_fini(&g->hist[i].buf);
    free(g);
}

/* ---- time formatting ---------------------------------------------------------- */

static char *put2(char *o, int v)
{
    o[0] = (char)('0' + v / 10 % 10);
    o[1] = (char)('0' + v % 10);
    return o + 2;
}

size_t gen_fmt_time(char *out, int64_t us, int frac_digits, int offset_min, bool zulu)
{
    int64_t local = us + (int64_t)offset_min * 60000000LL;
    struct gtp_tm tm;
    gtp_time_split(local, &tm); /* the core's civil calendar, negative times included */
    int y = tm.year, mo = tm.month, d = tm.day;
    int64_t frac = tm.usec;
    int64_t sod = (int64_t)tm.hour * 3600 + tm.minute * 60 + tm.second;
    char *o = out;
    if (y < 0 || y > 9999)
        y = 0; /* never written by the generator; keeps the format fixed-width */
    o = put2(o, y / 100);
    o = put2(o, y % 100);
    *o++ = '-';
    o = put2(o, mo);
    *o++ = '-';
    o = put2(o, d);
    *o++ = 'T';
    o = put2(o, (int)(sod / 3600));
    *o++ = ':';
    o = put2(o, (int)(sod / 60 % 60));
    *o++ = ':';
    o = put2(o, (int)(sod % 60));
    if (frac_digits > 0) {
        *o++ = '.';
        int64_t div = 100000;
        for (int i = 0; i < frac_digits && i < 6; i++, div /= 10)
            *o++ = (char)('0' + frac / div % 10);
    }
    if (offset_min == 0 && zulu) {
        *o++ = 'Z';
    } else {
        int a = offset_min < 0 ? -offset_min : offset_min;
        *o++ = offset_min < 0 ? '-' : '+';
        o = put2(o, a / 60);
        *o++ = ':';
        o = put2(o, a % 60);
    }
    *o = '\0';
    return (size_t)(o - out);
}

/* ---- rendering ----------------------------------------------------------------- */

static const char *const field_names[FLD_N] = {
    "event_id", "timestamp", "source",      "job_id",    "title",
    "company",  "location",  "description", "is_remote",
};

static void put_field(struct gtp_buf *b, int idx, const struct field *f, bool *first)
{
    if (f->mode == F_OMIT)
        return;
    if (!*first)
        gtp_buf_put(b, ", ", 2);
    *first = false;
    gtp_buf_putc(b, '"');
    gtp_buf_puts(b, field_names[idx]);
    gtp_buf_put(b, "\": ", 3);
    switch (f->mode) {
    case F_STR:
        gtp_buf_putc(b, '"');
        gtp_json_escape(b, f->s, f->n, GTP_JSON_PLAIN);
        gtp_buf_putc(b, '"');
        break;
    case F_SAFE:
    case F_RAWSTR:
        gtp_buf_putc(b, '"');
        gtp_buf_put(b, f->s, f->n);
        gtp_buf_putc(b, '"');
        break;
    case F_JSON:
        gtp_buf_put(b, f->s, f->n);
        break;
    case F_NULL:
        gtp_buf_put(b, "null", 4);
        break;
    case F_OMIT:
        break;
    }
}

void gen_render(struct gtp_buf *out, const struct fields *fl, struct gtp_buf *scratch)
{
    bool first = true;
    gtp_buf_putc(out, '{');
    put_field(out, FLD_EVENT_ID, &fl->f[FLD_EVENT_ID], &first);
    put_field(out, FLD_TIMESTAMP, &fl->f[FLD_TIMESTAMP], &first);
    put_field(out, FLD_SOURCE, &fl->f[FLD_SOURCE], &first);
    if (fl->payload != F_OMIT) {
        if (!first)
            gtp_buf_put(out, ", ", 2);
        first = false;
        gtp_buf_put(out, "\"payload\": ", 11);
        if (fl->payload == F_NULL) {
            gtp_buf_put(out, "null", 4);
        } else {
            struct gtp_buf *pb = fl->payload == F_STR ? scratch : out;
            if (pb == scratch)
                gtp_buf_reset(scratch);
            bool pfirst = true;
            gtp_buf_putc(pb, '{');
            for (int i = FLD_JOB_ID; i <= FLD_IS_REMOTE; i++)
                put_field(pb, i, &fl->f[i], &pfirst);
            gtp_buf_putc(pb, '}');
            if (pb == scratch) { /* payload as a string: wrong type on purpose */
                gtp_buf_putc(out, '"');
                gtp_json_escape(out, scratch->p, scratch->len, GTP_JSON_PLAIN);
                gtp_buf_putc(out, '"');
            }
        }
    }
    gtp_buf_putc(out, '}');
}

/* ---- the stream ------------------------------------------------------------------- */

static void make_uuid(struct rng *r, char *out)
{
    uint64_t hi = rng_next(r), lo = rng_next(r);
    /* version 4, variant 10xx (RFC 4122) */
    hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
    lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    unsigned char b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(hi >> (56 - 8 * i));
        b[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
    }
    gtp_uuidtext_unpack(b, out);
    out[GTP_UUIDTEXT_LEN] = '\0';
}

static size_t fmt_u64(char *out, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

static void set(struct field *f, enum field_mode mode, const char *s)
{
    f->mode = mode;
    f->s = s;
    f->n = s ? strlen(s) : 0;
}

void gen_next(struct gen *g, struct gen_event *ev)
{
    /* Simulated clock: exponential inter-arrival times at the model's intensity
     * (Poisson arrivals following the daily cycle). */
    if (g->index > 0) {
        double rate = g->o.density * model_intensity(g->model, g->sim_us);
        double gap = rng_exp(&g->clock_rng) * 1e6 / rate;
        g->sim_us += (int64_t)gap;
    }
    int64_t sim = g->sim_us;
    uint64_t idx = g->index++;

    /* a big employer's open job re-posted, or a new posting */
    uint64_t jid;
    const struct posting *post = repost_take(g->reposts, sim, &jid);
    if (!post) {
        struct rng before = g->content_rng;
        model_make(g->model, &g->content_rng, sim, &g->post);
        /* Job ids: a bijective scramble of the index into 9 digits, unique
         * within 900 million events of one stream. */
        jid = 100000000ULL +
              ((idx + g->o.seed * 7919ULL) % 900000000ULL) * 2654435761ULL % 900000000ULL;
        repost_offer(g->reposts, &before, sim, jid, &g->post);
        post = &g->post;
    }
    make_uuid(&g->content_rng, g->event_id);
    size_t jid_len = fmt_u64(g->job_id, jid);

    int kind = chaos_pick(&g->chaos_rng, g->o.chaos, g->o.chaos_mask, g->hist_n > 0);
    ev->chaos = kind;
    ev->sim_us = sim;
    ev->posting = post;

    if (kind == GEN_CHAOS_DUPLICATE) {
        struct hist_entry *h = &g->hist[rng_below(&g->chaos_rng, (uint32_t)g->hist_n)];
        gtp_buf_reset(&g->out);
        gtp_buf_put(&g->out, h->buf.p, h->buf.len);
        memcpy(g->job_id, h->key,
               sizeof(g->job_id) < sizeof(h->key) ? sizeof(g->job_id) : sizeof(h->key));
        ev->value = g->out.p;
        ev->len = g->out.len;
        ev->key = h->null_key ? NULL : g->job_id;
        ev->key_len = h->key_len;
        return;
    }

    struct fields fl;
    size_t ts_len = gen_fmt_time(g->ts, sim, 0, 0, true);
    fl.f[FLD_TIMESTAMP] = (struct field){F_SAFE, g->ts, ts_len};
    /* The model's text is JSON-safe by construction (test_generator checks
     * that every event parses), so it is copied without an escaping pass. */
    fl.f[FLD_EVENT_ID] = (struct field){F_SAFE, g->event_id, 36};
    set(&fl.f[FLD_SOURCE], F_SAFE, post->source);
    fl.f[FLD_JOB_ID] = (struct field){F_SAFE, g->job_id, jid_len};
    fl.f[FLD_TITLE] = (struct field){F_SAFE, post->title, post->title_len};
    fl.f[FLD_COMPANY] = (struct field){F_SAFE, post->company, post->company_len};
    set(&fl.f[FLD_LOCATION], F_SAFE, post->location);
    fl.f[FLD_DESCRIPTION] = (struct field){F_SAFE, post->desc.p, post->desc.len};
    set(&fl.f[FLD_IS_REMOTE], F_JSON, post->is_remote ? "true" : "false");
    fl.payload = F_JSON;

    bool null_key = false;
    if (kind != GEN_CHAOS_NONE)
        chaos_apply(g->chaos, &g->chaos_rng, kind, &fl, sim, &null_key);

    gtp_buf_reset(&g->out);
    gen_render(&g->out, &fl, &g->scratch);
    if (kind == GEN_CHAOS_MALFORMED)
        chaos_malform(g->chaos, &g->chaos_rng, &g->out);

    ev->value = g->out.p;
    ev->len = g->out.len;
    ev->key = null_key ? NULL : g->job_id;
    ev->key_len = null_key ? 0 : jid_len;

    /* Only clean events are re-sent as duplicates: the copy is then exactly
     * what the processor must drop as already counted. */
    if (kind == GEN_CHAOS_NONE && g->out.len <= HIST_MAX) {
        struct hist_entry *h = &g->hist[g->hist_pos];
        g->hist_pos = (g->hist_pos + 1) % HIST;
        if (g->hist_n < HIST)
            g->hist_n++;
        gtp_buf_reset(&h->buf);
        gtp_buf_put(&h->buf, g->out.p, g->out.len);
        memcpy(h->key, g->job_id, jid_len + 1);
        h->key_len = jid_len;
        h->null_key = false;
    }
}
