/* market.tsv: parsing and validation (errors name market.tsv:LINE), and the
 * time-dependent parts of the market model: local working days, trends,
 * emergence, spikes, and the --print-model document. */
#include "market.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/err.h"
#include "gtp/timeparse.h"
#include "gtp/tsv.h"
#include "gtp/util.h"
#include "model.h"
#include "rng.h"

#define MAX_FIELDS 8

/* ---- parsing helpers ------------------------------------------------------------ */

struct parse {
    const char *file;
    size_t line;
    char *errstr;
    size_t errstr_size;
};

__attribute__((format(printf, 2, 3))) static int bad(struct parse *ps, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (ps->line)
        gtp_errf(ps->errstr, ps->errstr_size, "%s:%zu: %s", ps->file, ps->line, why);
    else
        gtp_errf(ps->errstr, ps->errstr_size, "%s: %s", ps->file, why);
    return -1;
}

static int num(struct parse *ps, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v) || v < lo || v > hi)
        return bad(ps, "'%s' is not a number in [%g, %g]", s, lo, hi);
    *out = v;
    return 0;
}

static int skill_of(struct parse *ps, const char *id, int *out)
{
    *out = model_skill_find(id);
    return *out < 0 ? bad(ps, "unknown skill '%s' (not in the generator's skill table)", id) : 0;
}

static int country_of(struct parse *ps, const struct market *mk, const char *code, int *out)
{
    *out = market_country_find(mk, code);
    return *out < 0 ? bad(ps, "unknown country '%s' (no country line before it)", code) : 0;
}

/* Split a comma list into skill indexes. */
static int skill_list(struct parse *ps, char *s, int *out, size_t *n)
{
    *n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (*n == MARKET_MAX_LIST)
            return bad(ps, "more than %d skills in a list", MARKET_MAX_LIST);
        if (skill_of(ps, tok, &out[*n]) != 0)
            return -1;
        (*n)++;
    }
    return *n ? 0 : bad(ps, "empty skill list");
}

static bool json_safe(const char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            return false;
    return true;
}

/* "+05:30" -> 330 */
static int utc_offset(struct parse *ps, const char *s, int *out)
{
    if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
        return bad(ps, "UTC offset '%s' is not +HH:MM or -HH:MM", s);
    for (int i = 1; i < 6; i++)
        if (i != 3 && (s[i] < '0' || s[i] > '9'))
            return bad(ps, "UTC offset '%s' is not +HH:MM or -HH:MM", s);
    int m = ((s[1] - '0') * 10 + (s[2] - '0')) * 60 + (s[4] - '0') * 10 + (s[5] - '0');
    if (m > 14 * 60)
        return bad(ps, "UTC offset '%s' is out of range", s);
    *out = s[0] == '-' ? -m : m;
    return 0;
}

/* ---- records ------------------------------------------------------------------------- */

struct load {
    struct market *mk;
    bool have_act[2], have_employers, have_spikes;
    size_t nnamed, cap_named, cap_stacks, cap_emerging;
    char **named_stack; /* stack names of named employers, resolved at the end */
    size_t *named_line;
};

static int rec_country(struct parse *ps, struct load *ld, char **f, size_t nf)
{
    struct market *mk = ld->mk;
    if (nf != 6)
        return bad(ps, "country needs 5 fields: CODE UTC-OFFSET WEEKEND JUNIOR REMOTE");
    if (market_country_find(mk, f[1]) >= 0)
        return bad(ps, "country '%s' listed twice", f[1]);
    if (mk->ncountries == MARKET_MAX_COUNTRIES)
        return bad(ps, "more than %d countries", MARKET_MAX_COUNTRIES);
    if (strlen(f[1]) < 2 || strlen(f[1]) >= sizeof(mk->country[0].code))
        return bad(ps, "country code '%s' is not a region code", f[1]);
    struct market_country *c = &mk->country[mk->ncountries];
    snprintf(c->code, sizeof(c->code), "%s", f[1]);
    if (utc_offset(ps, f[2], &c->offset_min) != 0)
        return -1;
    if (strcmp(f[3], "sat-sun") == 0)
        c->weekend_first = 5;
    else if (strcmp(f[3], "fri-sat") == 0)
        c->weekend_first = 4;
    else
        return bad(ps, "weekend '%s' is not sat-sun or fri-sat", f[3]);
    if (num(ps, f[4], 0, 10, &c->junior) || num(ps, f[5], 0, 10, &c->remote))
        return -1;
    mk->ncountries++;
    return 0;
}

static int rec_activity(struct parse *ps, struct load *ld, char **f, size_t nf)
{
    if (nf != 3)
        return bad(ps, "activity needs 2 fields: weekday|weekend VALUES");
    int which = strcmp(f[1], "weekday") == 0 ? 0 : strcmp(f[1], "weekend") == 0 ? 1 : -1;
    if (which < 0)
        return bad(ps, "activity '%s' is not weekday or weekend", f[1]);
    size_t n = 0;
    for (char *tok = strtok(f[2], ","); tok; tok = strtok(NULL, ",")) {
        if (n == 24)
            return bad(ps, "activity needs 24 values, got more");
        if (num(ps, tok, 0, 1000, &ld->mk->act[which][n]) != 0)
            return -1;
        n++;
    }
    if (n != 24)
        return bad(ps, "activity needs 24 values (one per local hour)");
    ld->have_act[which] = true;
    return 0;
}

static int rec_affinity(struct parse *ps, struct load *ld, char **f, size_t nf)
{
    struct market *mk = ld->mk;
    int c, s;
    double v = 0; /* num() sets it or fails; gcc -O3 cannot tell */
    if (nf != 4)
        return bad(ps, "affinity needs 3 fields: CODE SKILL FACTOR");
    if (country_of(ps, mk, f[1], &c) || skill_of(ps, f[2], &s) || num(ps, f[3], 0.01, 100, &v))
        return -1;
    mk->affinity[(size_t)c * mk->nskills + (size_t)s] = v;
    return 0;
}

static int rec_trend(struct parse *ps, struct load *ld, char **f, size_t nf)
{
    struct market *mk = ld->mk;
    int s;
    if (nf != 4)
        return bad(ps, "trend needs 3 fields: SKILL FACTOR DAYS");
    if (skill_of(ps, f[1], &s) || num(ps, f[2], 0.01, 100, &mk->trend_factor[s]) ||
        num(ps, f[3], 0.01, 3650, &mk->trend_days[s]))
        return -1;
    return 0;
}

static int rec_emerging(struct parse *ps, struct load *ld, char **f, size_t nf)
{
    struct market *mk = ld->mk;
    if (nf != 6)
        return bad(ps, "emerging needs 5 fields: SKILL MID-DAY WIDTH WEIGHT ROLES");
    if (ld->cap_emerging == mk->nemerging) {
        ld->cap_emerging = ld->cap_emerging ? 2 * ld->cap_emerging : 4;
        mk->emerging = gtp_xrealloc(mk->emerging, ld->cap_emerging * sizeof(*mk->emerging));
    }
    struct market_emerging *e = &mk->emerging[mk->nemerging];
    memset(e, 0, sizeof(*e));
    if (skill_of(ps, f[1], &e->skill) || num(ps, f[2], 0, 3650, &e->mid_day) ||
        num(ps, f[3], 0.01, 365, &e->width_days) || num(ps, f[4], 0.01, 1000, &e->weight))
        return -1;
    if (mk->emerging_of[e->skill] >= 0)
        return bad(ps, "skill '%s' is emerging twice", f[1]);
    for (char *tok = strtok(f[5], ","); tok; tok = strtok(NULL, ",")) {
        if (e->nroles == MARKET_MAX_LIST)
            return bad(ps, "more than %d roles", MARKET_MAX_LIST);
        int r = model_role_find(tok);
        if (r < 0)
            return bad(ps, "unknown role '%s'", tok);
        e->roles[e->nroles++] = r;
    }
    if (!e->nroles)
        return bad(ps, "emerging skill '%s' has no roles", f[1]);
    mk->emerging_of[e->skill] = (int)mk->nemerging++;
    return 0;
}

static int rec_spikes(struct parse *ps, struct load *ld, char **f, size_t nf)
{
    struct market *mk = ld->mk;
    double per_day = 0;
    if (nf != 6)
        return bad(ps, "spikes needs 5 fields: PER-DAY FACTOR MIN-HOURS MAX-HOURS SKILLS");
    if (num(ps, f[1], 0, 16, &per_day) || num(ps, f[2], 1, 100, &mk->spike_factor) ||
        num(ps, f[3], 1, 72, &mk->spike_min_h) ||
        num(ps, f[4], mk->spike_min_h, 72, &mk->spike_max_h))
        return -1;
    if (per_day != floor(per_day) || mk->spike_min_h != floor(mk->spike_min_h) ||
        mk->spike_max_h != floor(mk->spike_max_h))
        return bad(ps, "spikes: PER-DAY and the hours are whole numbers");
    mk->spikes_per_day = (size_t)per_day;
    ld->have_spikes = true;
    return skill_list(ps, f[5], mk->spike_skills, &mk->nspike_skills);
}

static int rec_employers(struct parse *ps, struct load *ld, char **f, size_t nf)
{
    struct market *mk = ld->mk;
    double n = 0, multi = 0;
    if (nf != 5)
        return bad(ps, "employers needs 4 fields: COUNT ZIPF-S MULTINATIONALS ABROAD");
    if (num(ps, f[1], 1, 1000000, &n) || num(ps, f[2], 0, 5, &mk->zipf_s) ||
        num(ps, f[3], 0, n, &multi) || num(ps, f[4], 0, 1, &mk->abroad_p))
        return -1;
    if (n != floor(n) || multi != floor(multi))
        return bad(ps, "employers: COUNT and MULTINATIONALS are whole numbers");
    mk->nemployers = (size_t)n;
    mk->multinationals = (size_t)multi;
    ld->have_employers = true;
    return 0;
}

static int rec_stack(struct parse *ps, struct load *ld, char **f, size_t nf)
{
    struct market *mk = ld->mk;
    if (nf != 3)
        return bad(ps, "stack needs 2 fields: NAME SKILLS");
    for (size_t i = 0; i < mk->nstacks; i++)
        if (strcmp(mk->stacks[i].name, f[1]) == 0)
            return bad(ps, "stack '%s' listed twice", f[1]);
    if (strlen(f[1]) >= sizeof(mk->stacks[0].name))
        return bad(ps, "stack name '%s' is too long", f[1]);
    if (ld->cap_stacks == mk->nstacks) {
        ld->cap_stacks = ld->cap_stacks ? 2 * ld->cap_stacks : 8;
        mk->stacks = gtp_xrealloc(mk->stacks, ld->cap_stacks * sizeof(*mk->stacks));
    }
    struct market_stack *st = &mk->stacks[mk->nstacks];
    snprintf(st->name, sizeof(st->name), "%s", f[1]);
    if (skill_list(ps, f[2], st->skills, &st->n) != 0)
        return -1;
    mk->nstacks++;
    return 0;
}

static int rec_employer(struct parse *ps, struct load *ld, char **f, size_t nf)
{
    struct market *mk = ld->mk;
    int home;
    if (nf != 4)
        return bad(ps, "employer needs 3 fields: NAME HOME STACK");
    if (!*f[1] || strlen(f[1]) > 64 || !json_safe(f[1]))
        return bad(ps,
                   "employer name '%s' is empty, longer than 64 bytes or has quotes, "
                   "backslashes or control characters",
                   f[1]);
    if (country_of(ps, mk, f[2], &home) != 0)
        return -1;
    for (size_t i = 0; i < ld->nnamed; i++)
        if (strcmp(mk->employers[i].name, f[1]) == 0)
            return bad(ps, "employer '%s' listed twice", f[1]);
    if (ld->cap_named == ld->nnamed) {
        ld->cap_named = ld->cap_named ? 2 * ld->cap_named : 16;
        mk->employers = gtp_xrealloc(mk->employers, ld->cap_named * sizeof(*mk->employers));
        ld->named_stack = gtp_xrealloc(ld->named_stack, ld->cap_named * sizeof(char *));
        ld->named_line = gtp_xrealloc(ld->named_line, ld->cap_named * sizeof(size_t));
    }
    mk->employers[ld->nnamed] =
        (struct market_employer){gtp_xstrdup(f[1]), strlen(f[1]), home, -1, 0};
    ld->named_stack[ld->nnamed] = gtp_xstrdup(f[3]);
    ld->named_line[ld->nnamed] = ps->line;
    ld->nnamed++;
    return 0;
}

static int rec_role(struct parse *ps, struct load *ld, char **f, size_t nf)
{
    struct market *mk = ld->mk;
    if (nf != 4)
        return bad(ps, "role needs 3 fields: NAME REMOTE JUNIOR");
    int r = model_role_find(f[1]);
    if (r < 0)
        return bad(ps, "unknown role '%s'", f[1]);
    return num(ps, f[2], 0, 10, &mk->role_remote[r]) || num(ps, f[3], 0, 10, &mk->role_junior[r])
               ? -1
               : 0;
}

static int rec_reposts(struct parse *ps, struct load *ld, char **f, size_t nf)
{
    struct market *mk = ld->mk;
    double rank = 0;
    if (nf != 4)
        return bad(ps, "reposts needs 3 fields: P MIN-DAYS MAX-RANK");
    if (num(ps, f[1], 0, 0.5, &mk->repost_p) || num(ps, f[2], 0, 365, &mk->repost_min_days) ||
        num(ps, f[3], 1, 1000000, &rank))
        return -1;
    mk->repost_max_rank = (size_t)rank;
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(struct parse *, struct load *, char **, size_t);
} records[] = {
    {"country", rec_country},     {"activity", rec_activity}, {"affinity", rec_affinity},
    {"trend", rec_trend},         {"emerging", rec_emerging}, {"spikes", rec_spikes},
    {"employers", rec_employers}, {"stack", rec_stack},       {"employer", rec_employer},
    {"role", rec_role},           {"reposts", rec_reposts},
};

/* After the last line: what needs the whole file. */
static int finish(struct parse *ps, struct load *ld)
{
    struct market *mk = ld->mk;
    ps->line = 0;
    if (!ld->have_act[0] || !ld->have_act[1])
        return bad(ps, "activity weekday and activity weekend are both required");
    if (!ld->have_employers)
        return bad(ps, "the employers line is required");
    if (!mk->nstacks)
        return bad(ps, "at least one stack is required");
    if (ld->nnamed > mk->nemployers)
        return bad(ps, "more named employers than the employers COUNT");
    for (size_t i = 0; i < ld->nnamed; i++) {
        for (size_t s = 0; s < mk->nstacks; s++)
            if (strcmp(mk->stacks[s].name, ld->named_stack[i]) == 0)
                mk->employers[i].stack = (int)s;
        if (mk->employers[i].stack < 0) {
            ps->line = ld->named_line[i];
            return bad(ps, "unknown stack '%s'", ld->named_stack[i]);
        }
    }
    /* every place the model posts in needs a clock */
    for (size_t i = 0; i < model_location_count(); i++) {
        const char *code = model_location_country(i);
        if (strcmp(code, "REMOTE") != 0 && market_country_find(mk, code) < 0)
            return bad(ps, "no country line for '%s' (the generator posts there)", code);
    }
    for (size_t c = 0; c < mk->ncountries; c++)
        if (model_country_weight(mk->country[c].code) <= 0)
            return bad(ps, "country '%s' has no location in the generator's table",
                       mk->country[c].code);
    mk->act_max = 0;
    for (int w = 0; w < 2; w++)
        for (int h = 0; h < 24; h++)
            mk->act_max = fmax(mk->act_max, mk->act[w][h]);
    if (!(mk->act_max > 0))
        return bad(ps, "activity is zero everywhere");
    return 0;
}

struct market *market_load(const char *taxonomy_dir, char *errstr, size_t errstr_size)
{
    struct market *mk = gtp_xcalloc(1, sizeof(*mk));
    struct load ld = {.mk = mk};
    struct parse ps = {"market.tsv", 0, errstr, errstr_size};
    char path[4096];
    struct gtp_tsv t = {0};
    bool built = false;
    int rc = -1, e;

    mk->nskills = model_skill_count();
    mk->nroles = model_role_count();
    mk->affinity = gtp_xmalloc(MARKET_MAX_COUNTRIES * mk->nskills * sizeof(double));
    for (size_t i = 0; i < MARKET_MAX_COUNTRIES * mk->nskills; i++)
        mk->affinity[i] = 1;
    mk->trend_factor = gtp_xmalloc(mk->nskills * sizeof(double));
    mk->trend_days = gtp_xmalloc(mk->nskills * sizeof(double));
    mk->weight_max = gtp_xmalloc(mk->nskills * sizeof(double));
    mk->emerging_of = gtp_xmalloc(mk->nskills * sizeof(int));
    for (size_t s = 0; s < mk->nskills; s++) {
        mk->trend_factor[s] = 1;
        mk->trend_days[s] = 1;
        mk->emerging_of[s] = -1;
    }
    mk->role_remote = gtp_xmalloc(mk->nroles * sizeof(double));
    mk->role_junior = gtp_xmalloc(mk->nroles * sizeof(double));
    for (size_t r = 0; r < mk->nroles; r++)
        mk->role_remote[r] = mk->role_junior[r] = 1;

    if (!taxonomy_dir) {
        gtp_errf(errstr, errstr_size, "market.tsv: no taxonomy directory");
        goto out;
    }
    snprintf(path, sizeof(path), "%s/market.tsv", taxonomy_dir);
    if (gtp_tsv_open(&t, path, errstr, errstr_size))
        goto out;
    while ((e = gtp_tsv_next(&t, errstr, errstr_size)) > 0) {
        ps.line = (size_t)t.line;
        if (t.nfields > MAX_FIELDS) {
            bad(&ps, "more than %d TAB-separated fields", MAX_FIELDS);
            goto out;
        }
        size_t r = 0;
        while (r < GTP_ARRAY_LEN(records) && strcmp(records[r].name, t.field[0]) != 0)
            r++;
        if (r == GTP_ARRAY_LEN(records)) {
            bad(&ps, "unknown record '%s'", t.field[0]);
            goto out;
        }
        if (records[r].fn(&ps, &ld, t.field, t.nfields) != 0)
            goto out;
    }
    if (e < 0)
        goto out;
    if (finish(&ps, &ld) != 0 || market_employers_build(mk, ld.nnamed, errstr, errstr_size) != 0)
        goto out;
    built = true; /* the names now belong to mk->employers */

    /* the largest weight each skill reaches: the model oversamples by it and
     * thins down to the weight of the moment */
    for (size_t s = 0; s < mk->nskills; s++) {
        double aff = 0;
        for (size_t c = 0; c < mk->ncountries; c++)
            aff = fmax(aff, mk->affinity[c * mk->nskills + s]);
        double w = fmax(1.0, mk->trend_factor[s]) * aff;
        for (size_t i = 0; i < mk->nspike_skills; i++)
            if (mk->spike_skills[i] == (int)s) {
                w *= mk->spike_factor;
                break;
            }
        mk->weight_max[s] = w;
    }
    /* normalise the intensity over a week, in 5-minute steps */
    mk->intensity_norm = 1;
    double sum = 0;
    int steps = 7 * 24 * 12;
    for (int i = 0; i < steps; i++)
        sum += market_intensity(mk, (int64_t)i * 300000000LL);
    mk->intensity_norm = sum / steps;
    if (!(mk->intensity_norm > 0)) {
        gtp_errf(errstr, errstr_size, "market.tsv: no country ever posts");
        goto out;
    }
    rc = 0;

out:
    gtp_tsv_close(&t);
    if (!built) { /* named employers not yet handed over */
        for (size_t i = 0; i < ld.nnamed; i++)
            free(mk->employers[i].name);
        mk->nemployers = 0;
    }
    for (size_t i = 0; i < ld.nnamed; i++)
        free(ld.named_stack[i]);
    free(ld.named_stack);
    free(ld.named_line);
    if (rc != 0) {
        market_free(mk);
        return NULL;
    }
    return mk;
}

void market_free(struct market *mk)
{
    if (!mk)
        return;
    for (size_t i = 0; i < mk->nemployers && mk->employers; i++)
        free(mk->employers[i].name);
    free(mk->employers);
    free(mk->affinity);
    free(mk->trend_factor);
    free(mk->trend_days);
    free(mk->weight_max);
    free(mk->emerging_of);
    free(mk->emerging);
    free(mk->stacks);
    free(mk->role_remote);
    free(mk->role_junior);
    free(mk);
}

int market_country_find(const struct market *mk, const char *code)
{
    for (size_t c = 0; c < mk->ncountries; c++)
        if (strcmp(mk->country[c].code, code) == 0)
            return (int)c;
    return -1;
}

/* ---- time ---------------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

double market_activity(const struct market *mk, size_t c, int64_t sim_us)
{
    int64_t local = sim_us + (int64_t)mk->country[c].offset_min * 60000000LL;
    int64_t day = floor_div(local, MARKET_DAY_US);
    double hour = (double)(local - day * MARKET_DAY_US) / (double)MARKET_HOUR_US;
    /* 1970-01-01 was a Thursday: weekday 0 = Monday */
    int wday = (int)(((day + 3) % 7 + 7) % 7);
    int first = mk->country[c].weekend_first;
    int weekend = wday == first || wday == (first + 1) % 7;
    int h = (int)hour;
    if (h > 23)
        h = 23;
    double frac = hour - h;
    /* the curve wraps at midnight into the same kind of day: the step between
     * a Friday night and a Saturday morning is small next to the daytime hump */
    return mk->act[weekend][h] * (1 - frac) + mk->act[weekend][(h + 1) % 24] * frac;
}

double market_intensity(const struct market *mk, int64_t sim_us)
{
    double sum = 0;
    for (size_t c = 0; c < mk->ncountries; c++)
        sum += mk->country[c].share * market_activity(mk, c, sim_us);
    return sum / mk->act_max / mk->intensity_norm;
}

double market_trend(const struct market *mk, int skill, int64_t start_us, int64_t sim_us)
{
    double d = (double)(sim_us - start_us) / (double)MARKET_DAY_US;
    double f = 1;
    if (mk->trend_factor[skill] != 1) {
        /* triangle in log space: up (or down) for DAYS, back for DAYS, repeat */
        double period = 2 * mk->trend_days[skill];
        double x = fmod(d < 0 ? 0 : d, period) / mk->trend_days[skill];
        double phase = x <= 1 ? x : 2 - x;
        f = exp(log(mk->trend_factor[skill]) * phase);
    }
    int e = mk->emerging_of[skill];
    if (e >= 0) {
        const struct market_emerging *em = &mk->emerging[e];
        f *= 1.0 / (1.0 + exp(-(d - em->mid_day) / em->width_days));
    }
    return f;
}

size_t market_spikes_of_day(const struct market *mk, uint64_t seed, int64_t start_us, int64_t day,
                            struct market_spike *out, size_t max)
{
    if (!mk->nspike_skills || !mk->spikes_per_day)
        return 0;
    /* one stream per day, so any day's spikes are known without drawing the earlier ones */
    struct rng r;
    rng_seed(&r, seed ^ 0x7370696b6573ULL ^ ((uint64_t)day * 0x9e3779b97f4a7c15ULL));
    size_t n = 0;
    for (size_t i = 0; i < mk->spikes_per_day && n < max; i++) {
        struct market_spike *sp = &out[n++];
        sp->skill = mk->spike_skills[rng_below(&r, (uint32_t)mk->nspike_skills)];
        /* the country by posting share: spikes happen where the postings are */
        double u = rng_double(&r), acc = 0;
        sp->country = (int)mk->ncountries - 1;
        for (size_t c = 0; c < mk->ncountries; c++) {
            acc += mk->country[c].share;
            if (u < acc) {
                sp->country = (int)c;
                break;
            }
        }
        int64_t hour = rng_below(&r, 24);
        int64_t span = (int64_t)mk->spike_min_h +
                       rng_below(&r, (uint32_t)(mk->spike_max_h - mk->spike_min_h + 1));
        sp->from_us = start_us + day * MARKET_DAY_US + hour * MARKET_HOUR_US;
        sp->to_us = sp->from_us + span * MARKET_HOUR_US;
        sp->factor = mk->spike_factor;
    }
    return n;
}

/* Spikes active at sim_us: those of its day and of the day before (a spike
 * may run past midnight, never longer than 72 h, so three days cover it). */
static double spike_mult(const struct market *mk, uint64_t seed, int64_t start_us, int skill,
                         size_t c, int64_t sim_us)
{
    struct market_spike sp[64];
    int64_t day = floor_div(sim_us - start_us, MARKET_DAY_US);
    double f = 1;
    for (int64_t d = day - 3; d <= day; d++) {
        size_t n = market_spikes_of_day(mk, seed, start_us, d, sp, GTP_ARRAY_LEN(sp));
        for (size_t i = 0; i < n; i++)
            if (sp[i].skill == skill && sp[i].country == (int)c && sim_us >= sp[i].from_us &&
                sim_us < sp[i].to_us)
                f = sp[i].factor; /* overlapping spikes do not stack */
    }
    return f;
}

double market_weight(const struct market *mk, uint64_t seed, int64_t start_us, int skill, size_t c,
                     int64_t sim_us)
{
    return market_trend(mk, skill, start_us, sim_us) *
           mk->affinity[c * mk->nskills + (size_t)skill] *
           spike_mult(mk, seed, start_us, skill, c, sim_us);
}

int market_parse_at(const char *s, int64_t start_us, int64_t *out, char *errstr, size_t errstr_size)
{
    static const struct {
        char unit;
        double secs;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    char why[128];
    if (s[0] != '+') { /* an absolute time */
        if (gtp_time_parse(s, strlen(s), out, why, sizeof(why)) == 0)
            return 0;
        gtp_errf(errstr, errstr_size, "'%s': %s", s, why);
        return -1;
    }
    char *end;
    errno = 0;
    double v = strtod(s + 1, &end);
    for (size_t i = 0; i < GTP_ARRAY_LEN(units) && end != s + 1 && !errno && v >= 0 && v < 1e6; i++)
        if (end[0] == units[i].unit && !end[1]) {
            *out = start_us + (int64_t)(v * units[i].secs * 1e6);
            return 0;
        }
    gtp_errf(errstr, errstr_size, "'%s' is not +N{s,m,h,d}", s);
    return -1;
}

/* ---- --print-model --------------------------------------------------------------------- */

static void put_time(FILE *f, const char *key, int64_t us)
{
    char t[GTP_TIME_RFC3339_MAX];
    gtp_time_format(us, t, sizeof(t));
    fprintf(f, "\"%s\": \"%s\"", key, t);
}

int market_print(const struct market *mk, FILE *f, uint64_t seed, int64_t start_us, int64_t at_us)
{
    fputc('{', f);
    put_time(f, "at", at_us);
    fputs(", ", f);
    put_time(f, "start", start_us);
    fprintf(f, ", \"seed\": %llu, \"day\": %.6f, \"intensity\": %.6g,\n \"countries\": {",
            (unsigned long long)seed, (double)(at_us - start_us) / (double)MARKET_DAY_US,
            market_intensity(mk, at_us));
    for (size_t c = 0; c < mk->ncountries; c++) {
        const struct market_country *mc = &mk->country[c];
        fprintf(f,
                "%s\n  \"%s\": {\"utc_offset_min\": %d, \"weekend\": \"%s\", \"share\": %.6g, "
                "\"activity\": %.6g}",
                c ? "," : "", mc->code, mc->offset_min,
                mc->weekend_first == 4 ? "fri-sat" : "sat-sun", mc->share,
                market_activity(mk, c, at_us) / mk->act_max);
    }
    fputs("},\n \"skills\": {", f);
    /* spikes once for the whole document: the per-cell lookups would redo them */
    struct market_spike sp[256];
    size_t nsp = 0;
    int64_t day = floor_div(at_us - start_us, MARKET_DAY_US);
    for (int64_t d = day - 3; d <= day; d++)
        nsp += market_spikes_of_day(mk, seed, start_us, d, sp + nsp, GTP_ARRAY_LEN(sp) - nsp);
    bool first = true;
    for (size_t s = 0; s < mk->nskills; s++) {
        const char *kind = mk->emerging_of[s] >= 0     ? "emerging"
                           : mk->trend_factor[s] > 1.0 ? "rising"
                           : mk->trend_factor[s] < 1.0 ? "falling"
                                                       : "steady";
        double tr = market_trend(mk, (int)s, start_us, at_us);
        fprintf(f, "%s\n  \"%s\": {\"kind\": \"%s\", \"trend\": %.6g, \"regions\": {",
                first ? "" : ",", model_skill_id((int)s), kind, tr);
        first = false;
        for (size_t c = 0; c < mk->ncountries; c++) {
            double w = tr * mk->affinity[c * mk->nskills + s], spike = 1;
            for (size_t i = 0; i < nsp; i++)
                if (sp[i].skill == (int)s && sp[i].country == (int)c && at_us >= sp[i].from_us &&
                    at_us < sp[i].to_us)
                    spike = sp[i].factor;
            w *= spike;
            fprintf(f, "%s\"%s\": %.6g", c ? ", " : "", mk->country[c].code, w);
        }
        fputs("}}", f);
    }
    fputs("},\n \"spikes\": [", f);
    for (size_t i = 0; i < nsp; i++) {
        fprintf(f, "%s\n  {\"skill\": \"%s\", \"country\": \"%s\", \"factor\": %g, ", i ? "," : "",
                model_skill_id(sp[i].skill), mk->country[sp[i].country].code, sp[i].factor);
        put_time(f, "from", sp[i].from_us);
        fputs(", ", f);
        put_time(f, "to", sp[i].to_us);
        fprintf(f, ", \"active\": %s}",
                at_us >= sp[i].from_us && at_us < sp[i].to_us ? "true" : "false");
    }
    double total = 0, top = 0;
    size_t ntop = mk->nemployers / 100 ? mk->nemployers / 100 : 1;
    for (size_t i = 0; i < mk->nemployers; i++) {
        total += mk->employers[i].w;
        if (i < ntop)
            top += mk->employers[i].w;
    }
    fprintf(f,
            "],\n \"employers\": {\"count\": %zu, \"zipf_s\": %g, \"multinationals\": %zu, "
            "\"top1pct_share\": %.6g, \"top\": [",
            mk->nemployers, mk->zipf_s, mk->multinationals, top / total);
    for (size_t i = 0; i < mk->nemployers && i < 10; i++)
        fprintf(f, "%s{\"name\": \"%s\", \"home\": \"%s\", \"stack\": \"%s\", \"share\": %.6g}",
                i ? ", " : "", mk->employers[i].name, mk->country[mk->employers[i].home].code,
                mk->stacks[mk->employers[i].stack].name, mk->employers[i].w / total);
    fprintf(f, "]},\n \"reposts\": {\"p\": %g, \"min_days\": %g, \"max_rank\": %zu}}\n",
            mk->repost_p, mk->repost_min_days, mk->repost_max_rank);
    return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
