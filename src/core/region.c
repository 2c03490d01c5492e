/* Location string -> region code. The taxonomy files are loaded into one hash
 * map from normalized names to what they may mean (country, country code, US
 * state, city); a lookup normalizes the location once and probes whole parts,
 * then word n-grams, so it costs a handful of hash probes, not a scan. */
#include "gtp/region.h"
#include "gtp/err.h"
#include "gtp/strmap.h"
#include "gtp/textnorm.h"
#include "gtp/tsv.h"
#include "gtp/util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NORM_MAX  256
#define MAX_PARTS 8
#define MAX_NGRAM 4

enum { STATE_NONE = 0, STATE_NAME = 1, STATE_ABBR = 2 };

/* Everything a normalized key can mean. A key may mean several things at once
 * ("georgia": a country and a state; "de": Germany's code and Delaware). */
struct place {
    char country[GTP_REGION_CODE_MAX]; /* a country name or alias */
    char iso[GTP_REGION_CODE_MAX];     /* the country's code itself ("de") */
    char city[GTP_REGION_CODE_MAX];    /* a city in that country */
    int state;                         /* a US state name or abbreviation */
};

struct country {
    char code[GTP_REGION_CODE_MAX];
    char *name;
};

struct gtp_regions {
    struct gtp_strmap *map; /* key -> (void *)(place index + 1) */
    struct place *places;
    size_t nplaces, cap;
    struct country *countries;
    size_t ncountries;
    struct gtp_strmap *codes; /* code -> (void *)(country index + 1) */
    uint64_t serial;          /* this load's number, for memos (never 0) */
};

static uint64_t load_serial;

/* ---- loading ------------------------------------------------------------------- */

static struct place *place_for(struct gtp_regions *rg, const char *key, size_t klen)
{
    uintptr_t idx = (uintptr_t)gtp_strmap_get(rg->map, key, klen);
    if (idx)
        return &rg->places[idx - 1];
    if (rg->nplaces == rg->cap) {
        rg->cap = rg->cap ? rg->cap * 2 : 512;
        rg->places = gtp_xrealloc(rg->places, rg->cap * sizeof(*rg->places));
    }
    memset(&rg->places[rg->nplaces], 0, sizeof(*rg->places));
    rg->nplaces++;
    gtp_strmap_put(rg->map, key, klen, (void *)(uintptr_t)rg->nplaces);
    return &rg->places[rg->nplaces - 1];
}

enum field { F_COUNTRY, F_ISO, F_CITY, F_STATE_NAME, F_STATE_ABBR };

/* Record that name means code (as kind); a name claimed by two different
 * codes of the same kind is a data error. */
static int add_name(struct gtp_regions *rg, const char *name, enum field kind, const char *code,
                    const char *where, char *errstr, size_t errstr_size)
{
    char key[NORM_MAX];
    size_t klen = gtp_textnorm_key(name, strlen(name), key, sizeof(key));
    if (klen == 0)
        return 0; /* empty alias list entry */
    struct place *p = place_for(rg, key, klen);
    char *slot = kind == F_COUNTRY ? p->country : kind == F_ISO ? p->iso : p->city;
    if (kind == F_STATE_NAME || kind == F_STATE_ABBR) {
        p->state = kind == F_STATE_ABBR ? STATE_ABBR : (p->state ? p->state : STATE_NAME);
        return 0;
    }
    if (slot[0] && strcmp(slot, code) != 0) {
        gtp_errf(errstr, errstr_size, "%s: '%s' already maps to %s, not %s", where, name, slot,
                 code);
        return GTP_ERR_CONFIG;
    }
    snprintf(slot, GTP_REGION_CODE_MAX, "%s", code);
    return 0;
}

static int add_aliases(struct gtp_regions *rg, char *aliases, enum field kind, const char *code,
                       const char *where, char *errstr, size_t errstr_size)
{
    char *save = NULL;
    for (char *a = strtok_r(aliases, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        int err = add_name(rg, a, kind, code, where, errstr, errstr_size);
        if (err)
            return err;
    }
    return 0;
}

static int is_code(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return 0;
    return s[n] == '\0';
}

enum file { FILE_COUNTRIES, FILE_STATES, FILE_CITIES };

static int load_line(struct gtp_regions *rg, enum file which, char **f, const char *where,
                     char *errstr, size_t errstr_size)
{
    const char *code = f[0], *name = f[1];
    int err;

    if (!name[0]) {
        gtp_errf(errstr, errstr_size, "%s: expected code<TAB>name<TAB>aliases", where);
        return GTP_ERR_CONFIG;
    }
    if (which == FILE_COUNTRIES) {
        if (!is_code(code, 2) && strcmp(code, GTP_REGION_REMOTE) != 0) {
            gtp_errf(errstr, errstr_size, "%s: bad region code '%s'", where, code);
            return GTP_ERR_CONFIG;
        }
        if (gtp_strmap_get(rg->codes, code, strlen(code))) {
            gtp_errf(errstr, errstr_size, "%s: duplicate code %s", where, code);
            return GTP_ERR_CONFIG;
        }
        rg->countries = gtp_xrealloc(rg->countries, (rg->ncountries + 1) * sizeof(*rg->countries));
        struct country *c = &rg->countries[rg->ncountries++];
        snprintf(c->code, sizeof(c->code), "%s", code);
        c->name = gtp_xstrdup(name);
        gtp_strmap_put(rg->codes, code, strlen(code), (void *)(uintptr_t)rg->ncountries);
        if ((err = add_name(rg, name, F_COUNTRY, code, where, errstr, errstr_size)))
            return err;
        if (strcmp(code, GTP_REGION_REMOTE) != 0 &&
            (err = add_name(rg, code, F_ISO, code, where, errstr, errstr_size)))
            return err;
        return add_aliases(rg, f[2], F_COUNTRY, code, where, errstr, errstr_size);
    }
    if (which == FILE_STATES) {
        if (!is_code(code, 2)) {
            gtp_errf(errstr, errstr_size, "%s: bad state abbreviation '%s'", where, code);
            return GTP_ERR_CONFIG;
        }
        if ((err = add_name(rg, code, F_STATE_ABBR, "US", where, errstr, errstr_size)) ||
            (err = add_name(rg, name, F_STATE_NAME, "US", where, errstr, errstr_size)))
            return err;
        return add_aliases(rg, f[2], F_STATE_NAME, "US", where, errstr, errstr_size);
    }
    if (!gtp_strmap_get(rg->codes, code, strlen(code)) || strcmp(code, GTP_REGION_REMOTE) == 0) {
        gtp_errf(errstr, errstr_size, "%s: region code '%s' not in countries.tsv", where, code);
        return GTP_ERR_CONFIG;
    }
    if ((err = add_name(rg, name, F_CITY, code, where, errstr, errstr_size)))
        return err;
    return add_aliases(rg, f[2], F_CITY, code, where, errstr, errstr_size);
}

static int load_file(struct gtp_regions *rg, const char *dir, const char *fname, enum file which,
                     char *errstr, size_t errstr_size)
{
    char path[4096], where[4200];
    struct gtp_tsv t;
    int err, rc;

    snprintf(path, sizeof(path), "%s/%s", dir, fname);
    if ((err = gtp_tsv_open(&t, path, errstr, errstr_size)))
        return err;
    while ((rc = gtp_tsv_next(&t, errstr, errstr_size)) > 0) {
        /* aliases may be left out; a fourth column is a mistake */
        if ((err = gtp_tsv_expect(&t, 1, 3, "code<TAB>name<TAB>aliases", errstr, errstr_size)))
            goto out;
        snprintf(where, sizeof(where), "%s:%ld", t.path, t.line);
        if ((err = load_line(rg, which, t.field, where, errstr, errstr_size)))
            goto out;
    }
    err = rc;
out:
    gtp_tsv_close(&t);
    return err;
}

void gtp_regions_free(struct gtp_regions *rg)
{
    if (!rg)
        return;
    gtp_strmap_free(rg->map);
    gtp_strmap_free(rg->codes);
    for (size_t i = 0; i < rg->ncountries; i++)
        free(rg->countries[i].name);
    free(rg->countries);
    free(rg->places);
    free(rg);
}

struct gtp_regions *gtp_regions_load(const char *taxonomy_dir, char *errstr, size_t errstr_size)
{
    struct gtp_regions *rg = gtp_xcalloc(1, sizeof(*rg));
    rg->serial = __atomic_add_fetch(&load_serial, 1, __ATOMIC_RELAXED);
    rg->map = gtp_strmap_new();
    rg->codes = gtp_strmap_new();
    if (load_file(rg, taxonomy_dir, "countries.tsv", FILE_COUNTRIES, errstr, errstr_size) ||
        load_file(rg, taxonomy_dir, "us_states.tsv", FILE_STATES, errstr, errstr_size) ||
        load_file(rg, taxonomy_dir, "cities.tsv", FILE_CITIES, errstr, errstr_size)) {
        gtp_regions_free(rg);
        return NULL;
    }
    if (!gtp_strmap_get(rg->codes, "US", 2)) {
        gtp_errf(errstr, errstr_size, "%s/countries.tsv: no US entry (us_states.tsv needs it)",
                 taxonomy_dir);
        gtp_regions_free(rg);
        return NULL;
    }
    return rg;
}

/* ---- lookup -------------------------------------------------------------------- */

struct part {
    const char *s;
    size_t len;
};

static const struct place *get(const struct gtp_regions *rg, const char *s, size_t len)
{
    uintptr_t idx = (uintptr_t)gtp_strmap_get(rg->map, s, len);
    return idx ? &rg->places[idx - 1] : NULL;
}

/* Code string owned by rg for a code held in a place (so callers may keep it). */
static const char *owned(const struct gtp_regions *rg, const char *code)
{
    uintptr_t idx = (uintptr_t)gtp_strmap_get(rg->codes, code, strlen(code));
    return idx ? rg->countries[idx - 1].code : GTP_REGION_UNKNOWN;
}

/* Word n-gram iteration over one part: calls fn for every run of 1..MAX_NGRAM
 * consecutive words, longest first, left to right; stops when fn returns
 * non-NULL and returns that. */
typedef const char *(*ngram_fn)(const struct gtp_regions *rg, const struct place *p, void *arg);

static const char *each_ngram(const struct gtp_regions *rg, struct part pt, ngram_fn fn, void *arg)
{
    size_t starts[64], ends[64], nw = 0;
    for (size_t i = 0; i < pt.len && nw < 64;) {
        starts[nw] = i;
        while (i < pt.len && pt.s[i] != ' ')
            i++;
        ends[nw++] = i;
        i++;
    }
    for (size_t n = nw < MAX_NGRAM ? nw : MAX_NGRAM; n >= 1; n--) {
        for (size_t w = 0; w + n <= nw; w++) {
            const struct place *p = get(rg, pt.s + starts[w], ends[w + n - 1] - starts[w]);
            const char *r;
            if (p && (r = fn(rg, p, arg)))
                return r;
        }
    }
    return NULL;
}

struct ctx {
    struct part parts[MAX_PARTS];
    size_t nparts;
    const char *want; /* for city_is() */
};

static const char *city_is_fn(const struct gtp_regions *rg, const struct place *p, void *arg)
{
    (void)rg;
    return p->city[0] && strcmp(p->city, (const char *)arg) == 0 ? p->city : NULL;
}

/* Does a city of country code appear anywhere in the location? */
static int city_is(const struct gtp_regions *rg, const struct ctx *c, const char *code)
{
    for (size_t i = 0; i < c->nparts; i++)
        if (each_ngram(rg, c->parts[i], city_is_fn, (void *)code))
            return 1;
    return 0;
}

/* A key that names a country (cc) and also a US state: "Georgia", "DE", "IN".
 * A city beside it decides; otherwise a lone word is the country and a
 * "Something, XX" pair follows the US "City, ST" convention. */
static const char *disambiguate(const struct gtp_regions *rg, const struct ctx *c, const char *cc)
{
    if (strcmp(cc, "US") == 0 || city_is(rg, c, "US"))
        return owned(rg, "US");
    if (city_is(rg, c, cc))
        return owned(rg, cc);
    return c->nparts > 1 ? owned(rg, "US") : owned(rg, cc);
}

static const char *country_of(const struct gtp_regions *rg, const struct ctx *c,
                              const struct place *p, int allow_codes)
{
    const char *cc = p->country[0] ? p->country : (allow_codes && p->iso[0]) ? p->iso : NULL;
    int st = p->state == STATE_NAME || (allow_codes && p->state == STATE_ABBR);
    if (cc && strcmp(cc, GTP_REGION_REMOTE) == 0)
        cc = NULL;
    if (cc && st)
        return disambiguate(rg, c, cc);
    if (cc)
        return owned(rg, cc);
    if (st)
        return owned(rg, "US");
    return NULL;
}

struct ngram_arg {
    const struct ctx *c;
};

static const char *country_ngram_fn(const struct gtp_regions *rg, const struct place *p, void *arg)
{
    /* Bare codes ("in", "de") only count as a whole part, never inside text. */
    return country_of(rg, ((struct ngram_arg *)arg)->c, p, 0);
}

static const char *city_ngram_fn(const struct gtp_regions *rg, const struct place *p, void *arg)
{
    (void)arg;
    return p->city[0] ? owned(rg, p->city) : NULL;
}

static int is_remote(const struct gtp_regions *rg, const char *s, size_t len)
{
    const struct place *p = get(rg, s, len);
    return p && strcmp(p->country, GTP_REGION_REMOTE) == 0;
}

/* Copy part pt into out without its remote cue words ("remote", "fully remote",
 * "wfh"); returns 1 when it had any. */
static int strip_remote(const struct gtp_regions *rg, struct part *pt, char *out, size_t *used)
{
    size_t starts[64], ends[64], nw = 0, o = *used;
    int found = 0;
    for (size_t i = 0; i < pt->len && nw < 64;) {
        starts[nw] = i;
        while (i < pt->len && pt->s[i] != ' ')
            i++;
        ends[nw++] = i;
        i++;
    }
    for (size_t w = 0; w < nw;) {
        size_t n;
        for (n = nw - w < MAX_NGRAM ? nw - w : MAX_NGRAM; n >= 1; n--)
            if (is_remote(rg, pt->s + starts[w], ends[w + n - 1] - starts[w]))
                break;
        if (n >= 1) {
            found = 1;
            w += n;
            continue;
        }
        if (o > *used)
            out[o++] = ' ';
        memcpy(out + o, pt->s + starts[w], ends[w] - starts[w]);
        o += ends[w] - starts[w];
        w++;
    }
    if (found) {
        pt->s = out + *used;
        pt->len = o - *used;
        *used = o;
    }
    return found;
}

const char *gtp_regions_lookup(const struct gtp_regions *rg, const char *loc, size_t len)
{
    char norm[NORM_MAX], stripped[NORM_MAX];
    size_t n, used = 0;
    struct ctx c;
    int remote = 0;
    const char *r;

    if (!rg || !loc)
        return GTP_REGION_UNKNOWN;
    n = gtp_textnorm(loc, len, norm, sizeof(norm));
    c.nparts = 0;
    for (size_t i = 0; i < n && c.nparts < MAX_PARTS;) {
        size_t j = i;
        while (j < n && norm[j] != GTP_TEXTNORM_PART)
            j++;
        struct part pt = {norm + i, j - i};
        if (strip_remote(rg, &pt, stripped, &used))
            remote = 1;
        if (pt.len)
            c.parts[c.nparts++] = pt;
        i = j + 1;
    }

    /* 1. a whole part that is a country, a country code or a US state (last first) */
    for (size_t i = c.nparts; i-- > 0;) {
        const struct place *p = get(rg, c.parts[i].s, c.parts[i].len);
        if (p && (r = country_of(rg, &c, p, 1)))
            return r;
    }
    /* 2. a whole part that is a city */
    for (size_t i = c.nparts; i-- > 0;) {
        const struct place *p = get(rg, c.parts[i].s, c.parts[i].len);
        if (p && p->city[0])
            return owned(rg, p->city);
    }
    /* 3. words inside the parts: countries and states first, then cities */
    struct ngram_arg a = {&c};
    for (size_t i = c.nparts; i-- > 0;)
        if ((r = each_ngram(rg, c.parts[i], country_ngram_fn, &a)))
            return r;
    for (size_t i = c.nparts; i-- > 0;)
        if ((r = each_ngram(rg, c.parts[i], city_ngram_fn, NULL)))
            return r;
    return remote ? GTP_REGION_REMOTE : GTP_REGION_UNKNOWN;
}

const char *gtp_regions_lookup_memo(const struct gtp_regions *rg, struct gtp_regions_memo *m,
                                    const char *loc, size_t len)
{
    struct gtp_regions_memo_slot *s;
    uint64_t h;
    const char *code;

    if (!rg || !loc || len > GTP_REGIONS_MEMO_KEY)
        return gtp_regions_lookup(rg, loc, len);
    h = gtp_strmap_hash(loc, len);
    if (!m->slots)
        m->slots = gtp_xcalloc(GTP_REGIONS_MEMO_SLOTS, sizeof(*m->slots));
    s = &m->slots[h % GTP_REGIONS_MEMO_SLOTS];
    if (s->serial == rg->serial && s->len == len && memcmp(s->key, loc, len) == 0)
        return s->code;
    code = gtp_regions_lookup(rg, loc, len);
    s->serial = rg->serial;
    s->code = code;
    s->len = (uint8_t)len;
    memcpy(s->key, loc, len);
    return code;
}

void gtp_regions_memo_fini(struct gtp_regions_memo *m)
{
    free(m->slots);
    m->slots = NULL;
}

const char *gtp_regions_name(const struct gtp_regions *rg, const char *code)
{
    uintptr_t idx;
    if (!rg || !code)
        return NULL;
    idx = (uintptr_t)gtp_strmap_get(rg->codes, code, strlen(code));
    return idx ? rg->countries[idx - 1].name : NULL;
}

size_t gtp_regions_count(const struct gtp_regions *rg)
{
    return rg->ncountries;
}

const char *gtp_regions_code(const struct gtp_regions *rg, size_t i)
{
    return i < rg->ncountries ? rg->countries[i].code : NULL;
}

size_t gtp_regions_keys(const struct gtp_regions *rg)
{
    return gtp_strmap_count(rg->map);
}
