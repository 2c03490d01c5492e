/* The event stream of gtp-generator: postings from the model, rendered in the
 * seed's JSON shape (docs/events.md), timestamped by a simulated clock, with a
 * fraction of chaotic events. Everything is a pure function of the options, so
 * `--seed S` reproduces the stream byte for byte; output (Kafka or a file) and
 * pacing against the wall clock live in main.c. */
#ifndef GEN_GEN_H
#define GEN_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* Chaos kinds (docs/events.md), each switchable with --chaos-kinds and counted in
 * gtp_generator_chaos_events_total{kind=...}. */
enum gen_chaos {
    GEN_CHAOS_NONE = -1,
    GEN_CHAOS_BAD_LOCATION = 0, /* null, empty or garbage location */
    GEN_CHAOS_BAD_DATE,         /* malformed or impossible timestamp */
    GEN_CHAOS_TIME_FORMAT,      /* valid, but with an offset or fractional seconds */
    GEN_CHAOS_MISSING_FIELD,    /* event_id, timestamp, payload, payload.job_id or .title */
    GEN_CHAOS_WRONG_TYPE,       /* title/job_id as numbers, payload as string, is_remote "yes" */
    GEN_CHAOS_MALFORMED,        /* truncated JSON or not JSON at all */
    GEN_CHAOS_INVALID_UTF8,     /* invalid UTF-8 bytes inside strings */
    GEN_CHAOS_OVERSIZED,        /* description of 100 KiB up to a little over 1 MiB */
    GEN_CHAOS_HTML,             /* HTML and script fragments in text fields */
    GEN_CHAOS_DUPLICATE,        /* an earlier event re-sent byte for byte */
    GEN_CHAOS_LATE,             /* timestamp hours behind the simulated clock */
    GEN_CHAOS_FUTURE,           /* timestamp in 2090-2099 */
    GEN_CHAOS_NKINDS
};

#define GEN_CHAOS_ALL ((1u << GEN_CHAOS_NKINDS) - 1)

/* "bad_location", ...; NULL for an out-of-range kind. */
const char *gen_chaos_name(int kind);

/* Parse a comma list of kind names ("all" or "none" allowed) into a bit mask.
 * Returns 0, or -1 with errstr naming the unknown kind. */
int gen_chaos_parse(const char *list, unsigned *mask, char *errstr, size_t errstr_size);

struct gen_opts {
    uint64_t seed;
    double chaos;                /* fraction of chaotic events, 0..1 */
    unsigned chaos_mask;         /* enabled kinds (bits of enum gen_chaos) */
    int64_t start_us;            /* simulated clock at event 0 (UTC micros) */
    int64_t origin_us;           /* the market's time zero: --start, kept across --resume
                                  * (0: start_us) */
    double density;              /* mean events per simulated second (before the daily cycle) */
    const struct market *market; /* borrowed, must outlive the generator (market_load) */
};

/* One event, borrowed from the generator until the next gen_next(). */
struct gen_event {
    const char *value;
    size_t len;
    const char *key; /* NULL: null key (the job id is missing) */
    size_t key_len;
    int chaos;      /* enum gen_chaos */
    int64_t sim_us; /* the simulated clock for this event (not the emitted timestamp) */
    const struct posting *posting; /* the posting it was made from (tests) */
};

struct gen;

/* New generator. Never NULL. */
struct gen *gen_new(const struct gen_opts *o);
void gen_free(struct gen *g);

/* Produce the next event. */
void gen_next(struct gen *g, struct gen_event *ev);

/* ---- shared with chaos.c --------------------------------------------------- */

/* How one field is rendered. */
enum field_mode { F_STR, F_SAFE, F_RAWSTR, F_JSON, F_NULL, F_OMIT };

struct field {
    enum field_mode mode; /* F_STR: escaped string; F_SAFE: model text known to need no
                           * escaping (copied as is); F_RAWSTR: bytes between quotes,
                           * unescaped (invalid UTF-8 on purpose); F_JSON: verbatim value */
    const char *s;
    size_t n;
};

enum {
    FLD_EVENT_ID,
    FLD_TIMESTAMP,
    FLD_SOURCE,
    FLD_JOB_ID,
    FLD_TITLE,
    FLD_COMPANY,
    FLD_LOCATION,
    FLD_DESCRIPTION,
    FLD_IS_REMOTE,
    FLD_N
};

struct fields {
    struct field f[FLD_N];
    enum field_mode payload; /* F_JSON (object), F_STR (object as a string), F_OMIT, F_NULL */
};

/* Render fields in the seed's key order into out (appended); scratch holds
 * the payload when it is rendered as a string. */
void gen_render(struct gtp_buf *out, const struct fields *fl, struct gtp_buf *scratch);

/* Format a UTC timestamp: frac_digits 0..6, offset_min east of UTC (the local
 * time is shifted accordingly; 0 with zulu writes "Z", else "+00:00"). */
size_t gen_fmt_time(char *out, int64_t us, int frac_digits, int offset_min, bool zulu);

/* Chaos state and the mutation of one event (chaos.c). scratch buffers are
 * owned by struct chaos. */
struct chaos;
struct chaos *chaos_new(void);
void chaos_free(struct chaos *c);
/* Pick a kind for one event: GEN_CHAOS_NONE with probability 1 - p. */
int chaos_pick(struct rng *r, double p, unsigned mask, bool have_history);
/* Mutate fl for kind (not DUPLICATE, not MALFORMED's final step). */
void chaos_apply(struct chaos *c, struct rng *r, int kind, struct fields *fl, int64_t sim_us,
                 bool *null_key);
/* MALFORMED: replace the rendered event in out with a truncated copy or a
 * non-JSON payload. */
void chaos_malform(struct chaos *c, struct rng *r, struct gtp_buf *out);

#endif
