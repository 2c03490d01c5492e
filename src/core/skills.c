/* The skill matcher (docs/events.md): taxonomy/skills.tsv compiled into
 * two tries of aliases, run as one table-driven automaton by a scanner that
 * makes one lookup per byte (the fast path) and emitted as one trie-shaped
 * PCRE2 JIT pattern (the reference the fast path is tested against), plus
 * the context rules that keep ordinary words ("go above and beyond",
 * "excel at", "R&D") from counting as skills. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "gtp/skills.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "gtp/buf.h"
#include "gtp/err.h"
#include "gtp/tsv.h"
#include "gtp/util.h"

/* Alias flags (the prefixes of taxonomy/skills.tsv). */
#define F_CASE 1u /* '=': only as written or in ALL CAPS (compiled case-sensitively) */
#define F_WORD 2u /* '~': ordinary word; next-word rule, evidence unless written case */
#define F_EVID 4u /* '!': always needs tech evidence, plus the next-word rule */

/* Evidence from an unambiguous skill counts within this many bytes. */
#define EVIDENCE_WINDOW 60
/* Ambiguous candidates waiting for evidence from a later skill. */
#define MAX_PENDING 32
/* Longest word the context rules look at. */
#define WORD_MAX 32

/* PCRE2 budgets: the trie is backtrack-light, so these only stop a broken
 * taxonomy from burning CPU. */
#define MATCH_LIMIT 1000000u
#define DEPTH_LIMIT 10000u

struct wordlist {
    char **w;
    size_t n;
};

struct skill {
    char *id, *name, *category;
    struct wordlist not_before, not_after;
    int year_not_before; /* "#year" in not-before */
};

struct alias {
    char *text;      /* as written in the TSV (no flags, single spaces) */
    size_t text_len; /* bytes */
    unsigned flags;
    int line;
    uint16_t *skills; /* the row's own skill first, then '>' targets */
    size_t n_skills;
    char *implied_raw; /* the '>' part until resolved */
};

/* Both tries as one table (see "automaton" below). */
struct dfa {
    uint16_t *next; /* [states * ncls]: next state | DFA_REC */
    int32_t *term;  /* [states]: the alias decided on entering a DFA_REC state */
    uint32_t *scan; /* [(states + 2) * scan_w]: the scanner (see scan_build) */
    uint32_t scan_w, scan_root, scan_in_word, scan_word_dot;
    size_t nstates, ncls;
    uint8_t cls[256]; /* input byte -> class */
};

struct gtp_skills {
    struct skill *skills;
    size_t count;
    struct alias *aliases;
    size_t n_aliases, cap_aliases;
    /* The trie pattern (PCRE2_ANCHORED: "which alias starts here?"), built by
     * gtp_skills_disable_prefilter; NULL until then. */
    pcre2_code *anchored;
    pcre2_match_context *mctx;
    /* The same two tries as one table (the fast path); reference: match
     * with PCRE2 at every word start instead (gtp_skills_disable_prefilter). */
    struct dfa dfa;
    int reference;
};

/* ---- trie used only to emit the pattern -------------------------------- */

struct trie {
    unsigned char ch[96]; /* child edge bytes, ascending */
    struct trie *kid[96];
    int n;
    int terminal; /* alias index or -1 */
};

static struct trie *trie_new(void)
{
    struct trie *t = gtp_xcalloc(1, sizeof(*t));
    t->terminal = -1;
    return t;
}

static void trie_free(struct trie *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < t->n; i++)
        trie_free(t->kid[i]);
    free(t);
}

/* Returns the alias index that already owned this key, or -1 after inserting. */
static int trie_insert(struct trie *t, const char *key, int alias)
{
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        int i = 0;
        while (i < t->n && t->ch[i] < *p)
            i++;
        if (i == t->n || t->ch[i] != *p) {
            memmove(&t->ch[i + 1], &t->ch[i], (size_t)(t->n - i));
            memmove(&t->kid[i + 1], &t->kid[i], (size_t)(t->n - i) * sizeof(t->kid[0]));
            t->ch[i] = *p;
            t->kid[i] = trie_new();
            t->n++;
        }
        t = t->kid[i];
    }
    if (t->terminal >= 0)
        return t->terminal;
    t->terminal = alias;
    return -1;
}

static void emit_char(struct gtp_buf *b, unsigned char c)
{
    char tmp[3];
    if (c == ' ') {
        gtp_buf_puts(b, "\\s+"); /* any run of whitespace: "Apache\n  Spark" */
    } else if (isalnum(c)) {
        tmp[0] = (char)c;
        gtp_buf_put(b, tmp, 1);
    } else {
        tmp[0] = '\\';
        tmp[1] = (char)c;
        gtp_buf_put(b, tmp, 2);
    }
}

/* Children before the terminal, so PCRE2's ordered alternation tries the
 * longest alias first ("react native" before "react"). Right boundaries
 * are checked in C: a per-leaf lookahead would blow the 64 KiB compiled
 * pattern limit of a LINK_SIZE=2 build. */
static void trie_emit(struct gtp_buf *b, const struct trie *t)
{
    char mark[32];
    while (t->n == 1 && t->terminal < 0) {
        emit_char(b, t->ch[0]);
        t = t->kid[0];
    }
    int alts = t->n + (t->terminal >= 0);
    if (alts > 1)
        gtp_buf_puts(b, "(?:");
    for (int i = 0; i < t->n; i++) {
        if (i > 0)
            gtp_buf_puts(b, "|");
        emit_char(b, t->ch[i]);
        trie_emit(b, t->kid[i]);
    }
    if (t->terminal >= 0) {
        snprintf(mark, sizeof(mark), "%s(*:%d)", t->n > 0 ? "|" : "", t->terminal);
        gtp_buf_puts(b, mark);
    }
    if (alts > 1)
        gtp_buf_puts(b, ")");
}

/* ---- loading --------------------------------------------------------------- */

static int is_slug(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return 0;
    return 1;
}

static void wordlist_fini(struct wordlist *wl)
{
    for (size_t i = 0; i < wl->n; i++)
        free(wl->w[i]);
    free(wl->w);
    wl->w = NULL;
    wl->n = 0;
}

static int wordlist_has(const struct wordlist *wl, const char *w)
{
    for (size_t i = 0; i < wl->n; i++)
        if (strcmp(wl->w[i], w) == 0)
            return 1;
    return 0;
}

/* "w1,w2" appended to wl, lowercased. */
static void wordlist_parse(struct wordlist *wl, const char *s, int *year)
{
    const char *p = s;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0) {
            char *w = gtp_xstrndup(p, n);
            for (char *q = w; *q; q++)
                *q = (char)tolower((unsigned char)*q);
            if (year != NULL && strcmp(w, "#year") == 0) {
                *year = 1;
                free(w);
            } else {
                wl->w = gtp_xrealloc(wl->w, (wl->n + 1) * sizeof(*wl->w));
                wl->w[wl->n++] = w;
            }
        }
        p += n;
        if (*p == ',')
            p++;
    }
}

void gtp_skills_free(struct gtp_skills *sk)
{
    if (sk == NULL)
        return;
    for (size_t i = 0; i < sk->count; i++) {
        free(sk->skills[i].id);
        free(sk->skills[i].name);
        free(sk->skills[i].category);
        wordlist_fini(&sk->skills[i].not_before);
        wordlist_fini(&sk->skills[i].not_after);
    }
    free(sk->skills);
    for (size_t i = 0; i < sk->n_aliases; i++) {
        free(sk->aliases[i].text);
        free(sk->aliases[i].skills);
        free(sk->aliases[i].implied_raw);
    }
    free(sk->aliases);
    pcre2_code_free(sk->anchored);
    pcre2_match_context_free(sk->mctx);
    free(sk->dfa.next);
    free(sk->dfa.term);
    free(sk->dfa.scan);
    free(sk);
}

static int parse_rules(struct skill *s, char *rules, const char *path, int line, char *errstr,
                       size_t errstr_size)
{
    if (strcmp(rules, "-") == 0 || rules[0] == '\0')
        return 0;
    for (char *save = NULL, *r = strtok_r(rules, ";", &save); r; r = strtok_r(NULL, ";", &save)) {
        if (strncmp(r, "not-before:", 11) == 0) {
            wordlist_parse(&s->not_before, r + 11, &s->year_not_before);
        } else if (strncmp(r, "not-after:", 10) == 0) {
            wordlist_parse(&s->not_after, r + 10, NULL);
        } else {
            gtp_errf(errstr, errstr_size, "%s:%d: unknown rule '%s'", path, line, r);
            return GTP_ERR_PARSE;
        }
    }
    return 0;
}

/* One alias token "[=~!]*text[>id,id]" of skill idx. */
static int parse_alias(struct gtp_skills *sk, size_t idx, const char *tok, const char *path,
                       int line, char *errstr, size_t errstr_size)
{
    unsigned flags = 0;
    for (;; tok++) {
        if (*tok == '=')
            flags |= F_CASE;
        else if (*tok == '~')
            flags |= F_WORD;
        else if (*tok == '!')
            flags |= F_EVID;
        else
            break;
    }
    const char *gt = strchr(tok, '>');
    size_t n = gt ? (size_t)(gt - tok) : strlen(tok);
    /* Collapse and trim spaces: one space in the alias = any whitespace run. */
    char *text = gtp_xmalloc(n + 1);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)tok[i];
        if (c >= 0x80 || c < 0x20 || c == 0x7f) {
            free(text);
            gtp_errf(errstr, errstr_size, "%s:%d: alias '%.*s' must be printable ASCII", path, line,
                     (int)n, tok);
            return GTP_ERR_PARSE;
        }
        if (c == ' ' && (m == 0 || text[m - 1] == ' '))
            continue;
        text[m++] = (char)c;
    }
    while (m > 0 && text[m - 1] == ' ')
        m--;
    text[m] = '\0';
    if (m == 0) {
        free(text);
        gtp_errf(errstr, errstr_size, "%s:%d: empty alias", path, line);
        return GTP_ERR_PARSE;
    }
    if (sk->n_aliases == sk->cap_aliases) {
        sk->cap_aliases = sk->cap_aliases ? sk->cap_aliases * 2 : 512;
        sk->aliases = gtp_xrealloc(sk->aliases, sk->cap_aliases * sizeof(*sk->aliases));
    }
    struct alias *a = &sk->aliases[sk->n_aliases++];
    memset(a, 0, sizeof(*a));
    a->text = text;
    a->text_len = m;
    a->flags = flags;
    a->line = line;
    a->skills = gtp_xmalloc(sizeof(*a->skills));
    a->skills[0] = (uint16_t)idx;
    a->n_skills = 1;
    a->implied_raw = gt ? gtp_xstrdup(gt + 1) : NULL;
    return 0;
}

static int resolve_implied(struct gtp_skills *sk, const char *path, char *errstr,
                           size_t errstr_size)
{
    for (size_t i = 0; i < sk->n_aliases; i++) {
        struct alias *a = &sk->aliases[i];
        if (a->implied_raw == NULL)
            continue;
        for (char *save = NULL, *id = strtok_r(a->implied_raw, ",", &save); id;
             id = strtok_r(NULL, ",", &save)) {
            int k = gtp_skills_find(sk, id);
            if (k < 0) {
                gtp_errf(errstr, errstr_size, "%s:%d: alias '%s' implies unknown skill '%s'", path,
                         a->line, a->text, id);
                return GTP_ERR_PARSE;
            }
            a->skills = gtp_xrealloc(a->skills, (a->n_skills + 1) * sizeof(*a->skills));
            a->skills[a->n_skills++] = (uint16_t)k;
        }
        free(a->implied_raw);
        a->implied_raw = NULL;
    }
    return 0;
}

static void cue_init(void);

/* Byte classes for the scanner: case folding and "word character". */
static uint8_t fold_tab[256];
static uint8_t word_tab[256];
static uint8_t alpha_tab[256]; /* letters and '_' */
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void tab_init(void)
{
    for (int c = 0; c < 256; c++) {
        fold_tab[c] = (uint8_t)((c >= 'A' && c <= 'Z') ? c + 32 : c);
        word_tab[c] = (uint8_t)((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '_');
        alpha_tab[c] = (uint8_t)(word_tab[c] && !(c >= '0' && c <= '9'));
    }
    cue_init();
}

/* ---- automaton: both tries as one table ------------------------------------
 *
 * The fast path runs the two tries the pattern is emitted from as one
 * deterministic automaton over byte classes: a state is a pair (node of the
 * case-insensitive trie, node of the case-sensitive one), and
 * next[state * ncls + cls[byte]] is the next state (0: dead), with DFA_REC
 * set when entering it decides the answer so far (term[state]). The pattern
 * tries children before the terminal and each byte takes at most one edge,
 * so it matches the deepest alias on the one path the input takes, and the
 * case-sensitive branch only when the case-insensitive one matched nothing:
 * a case-sensitive terminal records only while no case-insensitive one was
 * passed. A space edge is the pattern's \s+: a self-loop on whitespace in
 * the state after it. A word that starts no alias dies after a byte or
 * three, so the automaton is its own prefilter; PCRE2 stays as the
 * reference (gtp_skills_disable_prefilter) the tables must agree with. */

#define DFA_REC   0x8000u
#define DFA_STATE 0x7fffu

/* The bytes PCRE2's \s matches without UCP (its built-in C-locale tables). */
static int pcre_space(unsigned c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static void trie_used(const struct trie *t, uint8_t *used)
{
    for (int i = 0; i < t->n; i++) {
        used[t->ch[i]] = 1;
        trie_used(t->kid[i], used);
    }
}

/* The child of t along edge byte c (0: none), or NULL. */
static const struct trie *trie_child(const struct trie *t, unsigned char c)
{
    if (t == NULL || c == 0)
        return NULL;
    for (int i = 0; i < t->n; i++)
        if (t->ch[i] == c)
            return t->kid[i];
    return NULL;
}

/* What the scanner needs to know of a byte besides its edges. */
enum { K_OTHER, K_WORD, K_DOT };

static uint8_t byte_kind(unsigned c)
{
    return word_tab[c] ? K_WORD : c == '.' ? K_DOT : K_OTHER;
}

/* Byte classes: bytes alike for both tries and for the scanner share one.
 * ci_key/cs_key: the edge byte a class follows in each trie (0: none);
 * whitespace follows ' '. */
static void dfa_classes(struct dfa *d, const struct trie *ci, const struct trie *cs,
                        unsigned char *ci_key, unsigned char *cs_key, uint8_t *kind)
{
    uint8_t ci_used[256] = {0}, cs_used[256] = {0};
    trie_used(ci, ci_used);
    trie_used(cs, cs_used);
    ci_key[0] = cs_key[0] = 0;
    kind[0] = K_OTHER;
    d->ncls = 1;
    for (unsigned c = 0; c < 256; c++) {
        unsigned char a = pcre_space(c) ? ' ' : fold_tab[c], b = pcre_space(c) ? ' ' : (uint8_t)c;
        size_t k = 0;
        a = ci_used[a] ? a : 0;
        b = cs_used[b] ? b : 0;
        while (k < d->ncls && !(ci_key[k] == a && cs_key[k] == b && kind[k] == byte_kind(c)))
            k++;
        if (k == d->ncls) {
            ci_key[k] = a;
            cs_key[k] = b;
            kind[k] = byte_kind(c);
            d->ncls++;
        }
        d->cls[c] = (uint8_t)k;
    }
}

struct dfa_state {
    const struct trie *ci, *cs; /* NULL: that trie is dead */
    int ci_seen;                /* a case-insensitive terminal lies on the path */
    int after_space;
};

/* State of (ci, cs) in st[0..*n), added when new. A linear probe keyed
 * on the pair; the table holds twice the state limit. */
static size_t dfa_state_of(struct dfa_state *st, size_t *n, uint32_t *slot, size_t nslot,
                           const struct dfa_state *want)
{
    uintptr_t h = ((uintptr_t)want->ci * 31u) ^ ((uintptr_t)want->cs * 17u);
    size_t i = (size_t)((h >> 4) * 0x9E3779B1u) & (nslot - 1);
    for (; slot[i] != 0; i = (i + 1) & (nslot - 1))
        if (st[slot[i]].ci == want->ci && st[slot[i]].cs == want->cs)
            return slot[i];
    st[*n] = *want;
    slot[i] = (uint32_t)*n;
    return (*n)++;
}

/* The scanner: the automaton's word-character paths plus three contexts,
 * run over the whole text with one table lookup per byte. Its states are
 * the automaton's (the root meaning "a word may start at the next byte")
 * and two more: inside a word that can start no alias, and just after
 * "word." (the pattern's left boundary refuses the next byte there). It
 * stops (SCAN_EXIT) only where the automaton must run from a word start:
 * an alias ends (so the deepest one must be found), a path goes on past a
 * non-word byte ("c++", "apache spark"), or a '.' may start an alias
 * (".net"). Everywhere else the walk died inside a word without passing a
 * terminal, so no alias starts there and the scanner moves on without
 * leaving the loop. Entries are the next state's row offset (state *
 * scan_w); two more columns give a row's state and its depth (bytes from
 * the word start), so a stop needs no division and no look back. */
#define SCAN_EXIT 0x80000000u /* row offsets stay below */
#define DFA_ROOT  1u

static void scan_build(struct dfa *d, const uint8_t *kind, const uint8_t *depth)
{
    size_t n = d->nstates + 2, ncls = d->ncls, w = ncls + 2;
    uint32_t in_word = (uint32_t)d->nstates, word_dot = in_word + 1;
    d->scan = gtp_xmalloc(n * w * sizeof(*d->scan));
    d->scan_w = (uint32_t)w;
    d->scan_root = DFA_ROOT * (uint32_t)w;
    d->scan_in_word = in_word * (uint32_t)w;
    d->scan_word_dot = word_dot * (uint32_t)w;
    for (size_t s = 0; s < n; s++) {
        d->scan[s * w + ncls] = (uint32_t)s;
        d->scan[s * w + ncls + 1] = s < d->nstates ? depth[s] : 0;
        for (size_t k = 0; k < ncls; k++) {
            unsigned x = s < d->nstates ? d->next[s * ncls + k] : 0;
            uint32_t to;
            if (s == 0) /* the dead state: never entered */
                to = SCAN_EXIT;
            else if (s >= d->nstates) /* inside a word, or after "word." */
                to = kind[k] == K_WORD  ? in_word
                     : kind[k] == K_DOT ? (s == in_word ? word_dot : DFA_ROOT)
                                        : DFA_ROOT;
            else if (s == DFA_ROOT && kind[k] != K_WORD)
                to = kind[k] == K_DOT && x != 0 ? SCAN_EXIT : DFA_ROOT;
            else if (x & DFA_REC)
                to = SCAN_EXIT;
            else if (kind[k] == K_WORD)
                to = x != 0 ? (x & DFA_STATE) : in_word;
            else
                to = x != 0 ? SCAN_EXIT : kind[k] == K_DOT ? word_dot : DFA_ROOT;
            d->scan[s * w + k] = to == SCAN_EXIT ? SCAN_EXIT : to * (uint32_t)w;
        }
    }
}

static int dfa_build(struct dfa *d, const struct trie *ci, const struct trie *cs, const char *path,
                     char *errstr, size_t errstr_size)
{
    unsigned char ci_key[256], cs_key[256];
    uint8_t kind[256], *depth = gtp_xcalloc(DFA_STATE + 1, 1);
    size_t nslot = 2 * (DFA_STATE + 1), n = 1;
    struct dfa_state *st = gtp_xcalloc(DFA_STATE + 1, sizeof(*st));
    uint32_t *slot = gtp_xcalloc(nslot, sizeof(*slot));
    int err = GTP_ERR_PARSE;

    dfa_classes(d, ci, cs, ci_key, cs_key, kind);
    d->next = gtp_xcalloc((DFA_STATE + 1) * d->ncls, sizeof(*d->next));
    d->term = gtp_xmalloc((DFA_STATE + 1) * sizeof(*d->term));
    d->term[0] = d->term[1] = -1;
    (void)dfa_state_of(st, &n, slot, nslot, &(struct dfa_state){.ci = ci, .cs = cs}); /* 1 */
    for (size_t s = 1; s < n; s++) {
        for (size_t k = 1; k < d->ncls; k++) {
            struct dfa_state to = {0};
            int space = ci_key[k] == ' ' || cs_key[k] == ' ';
            if (st[s].after_space && space) {
                d->next[s * d->ncls + k] = (uint16_t)s; /* the rest of the run */
                continue;
            }
            to.ci = trie_child(st[s].ci, ci_key[k]);
            to.cs = trie_child(st[s].cs, cs_key[k]);
            to.ci_seen = to.ci != NULL && (st[s].ci_seen || to.ci->terminal >= 0);
            if (to.ci_seen)
                to.cs = NULL; /* a case-insensitive match is decided */
            if (to.ci == NULL && (to.cs == NULL || st[s].ci_seen))
                continue; /* dead, or the answer can no longer change */
            to.after_space = space;
            if (n > DFA_STATE) {
                gtp_errf(errstr, errstr_size, "%s: more than %u matcher states", path,
                         (unsigned)DFA_STATE);
                goto out;
            }
            size_t t = dfa_state_of(st, &n, slot, nslot, &to);
            depth[t] = (uint8_t)(depth[s] + 1); /* < 256: the aliases are */
            int32_t rec = -1;
            if (to.ci != NULL && to.ci->terminal >= 0)
                rec = to.ci->terminal;
            else if (!to.ci_seen && to.cs != NULL && to.cs->terminal >= 0)
                rec = to.cs->terminal;
            d->term[t] = rec;
            d->next[s * d->ncls + k] = (uint16_t)(t | (rec >= 0 ? DFA_REC : 0));
        }
    }
    d->nstates = n;
    /* Sized for the state limit while building; keep what is used. */
    d->next = gtp_xrealloc(d->next, n * d->ncls * sizeof(*d->next));
    d->term = gtp_xrealloc(d->term, n * sizeof(*d->term));
    scan_build(d, kind, depth);
    err = 0;
out:
    free(st);
    free(slot);
    free(depth);
    return err;
}

/* The rest of a walk from state s at i: the alias decided last on the
 * path, with its end in *end, or -1 when the path passes no terminal. */
static long dfa_walk(const struct dfa *d, const uint8_t *t, size_t len, size_t s, size_t i,
                     size_t *end)
{
    size_t rec = 0, rec_end = 0;
    while (i < len) {
        unsigned x = d->next[s * d->ncls + d->cls[t[i++]]];
        if (x == 0)
            break;
        s = x & DFA_STATE;
        if (x & DFA_REC) {
            rec = s;
            rec_end = i;
        }
    }
    if (rec == 0)
        return -1;
    *end = rec_end;
    return d->term[rec];
}

/* What the anchored pattern matches at i: the same left boundary (no word
 * character before, no "x." before), then the deepest alias on the path
 * (see above). Returns the alias index with its end in *end, or -1. */
static long dfa_match_at(const struct gtp_skills *sk, const uint8_t *t, size_t len, size_t i,
                         size_t *end)
{
    if (i > 0 && (word_tab[t[i - 1]] || (i > 1 && t[i - 1] == '.' && word_tab[t[i - 2]])))
        return -1;
    return dfa_walk(&sk->dfa, t, len, DFA_ROOT, i, end);
}

/* Runs the scanner from state *s over t[i..len): returns where it stops
 * (len, or the byte whose step is SCAN_EXIT, not taken) with the state
 * before that byte in *s. One dependent load per byte is the whole cost
 * (scan_run2 overlaps two of them); this one runs the short pieces. */
static size_t scan_run(const uint32_t *scan, const uint8_t *cls, const uint8_t *t, size_t i,
                       size_t len, uint32_t *sp)
{
    uint32_t s = *sp;
    for (; i < len; i++) {
        uint32_t x = scan[s + cls[t[i]]];
        if (x == SCAN_EXIT)
            break;
        s = x;
    }
    *sp = s;
    return i;
}

/* Two scanner chains in step over a[0..n) and b[0..n): returns how many
 * steps both took before either met SCAN_EXIT (not taken), the states in
 * *sa and *sb. */
static __attribute__((noinline)) size_t scan_run2(const uint32_t *scan, const uint8_t *cls,
                                                  const uint8_t *a, const uint8_t *b, size_t n,
                                                  uint32_t *sa, uint32_t *sb)
{
    uint32_t s1 = *sa, s2 = *sb, x1, x2;
    size_t j = 0;
#define SCAN_STEP2(k)                                                                              \
    x1 = scan[s1 + cls[a[(k)]]];                                                                   \
    x2 = scan[s2 + cls[b[(k)]]];                                                                   \
    if ((x1 | x2) & SCAN_EXIT) {                                                                   \
        j = (k);                                                                                   \
        goto out;                                                                                  \
    }                                                                                              \
    s1 = x1;                                                                                       \
    s2 = x2
    for (; j + 2 <= n; j += 2) {
        SCAN_STEP2(j);
        SCAN_STEP2(j + 1);
    }
    for (; j < n; j++) {
        SCAN_STEP2(j);
    }
#undef SCAN_STEP2
out:
    *sa = s1;
    *sb = s2;
    return j;
}

/* The scanner's state where a scan may start at pos: between words, inside
 * one, or after "word." (from the bytes before pos alone). */
static uint32_t scan_context(const struct dfa *d, const uint8_t *t, size_t pos)
{
    if (pos > 0 && word_tab[t[pos - 1]])
        return d->scan_in_word;
    if (pos > 1 && t[pos - 1] == '.' && word_tab[t[pos - 2]])
        return d->scan_word_dot;
    return d->scan_root;
}

/* Where the scanner stopped: a word start (or a '.') where an alias may
 * begin, and the walk so far (automaton state s before byte i). */
struct scan_stop {
    size_t c, i;
    uint32_t s;
};

/* The text is scanned a window at a time into a list of stops, as two
 * chains of lookups (the window's two halves) interleaved: each step waits
 * for the one before it, so one chain leaves the core idle between loads.
 * The stops of a chain fit its half of the list: a stop is a word start or
 * a '.' before one, so two stops take at least three bytes (" .C"); a
 * chain covers at most 3/4 of a window and one byte, so it notes at most
 * 2/3 * (3/4 * 256 + 1) + 2 < 136 stops. One chain for the whole window
 * notes under 2/3 * 256 + 2 < 272. */
#define SCAN_BYTES 256
#define SCAN_HALF  136
#define SCAN_STOPS (2 * SCAN_HALF)

struct scan_buf {
    size_t n, next; /* v[next..n): stops not yet used */
    size_t end;     /* scanned up to here, */
    uint32_t state; /* in this state (a walk may go on into the next window) */
    struct scan_stop v[SCAN_STOPS];
};

/* Notes the stop at t[i] (scanner state *s) and
 * returns where the chain goes on, its state in *s: after the candidate's
 * word, as if no alias started there (scan_alias decides). */
static size_t scan_note(const struct dfa *d, const uint8_t *t, size_t len, size_t i, uint32_t *s,
                        struct scan_stop *v, size_t *n)
{
    if (*s == d->scan_root) {
        /* An alias of one byte, or a '.' that may start one (a word start
         * only when a word character follows). */
        if (word_tab[t[i]] || (i + 1 < len && word_tab[t[i + 1]]))
            v[(*n)++] = (struct scan_stop){i, i, DFA_ROOT};
        *s = word_tab[t[i]] ? d->scan_in_word : *s;
        return i + 1;
    }
    /* The word start: the walk took only word bytes, one per level. */
    v[(*n)++] = (struct scan_stop){i - d->scan[*s + d->ncls + 1], i, d->scan[*s + d->ncls]};
    *s = d->scan_in_word;
    return i;
}

/* One chain from t[i] (state *s) to stop. It may end inside a walk: the
 * next window goes on from its state. */
static size_t scan_chain(const struct dfa *d, const uint8_t *t, size_t len, size_t i, size_t stop,
                         uint32_t *s, struct scan_stop *v, size_t *n)
{
    while ((i = scan_run(d->scan, d->cls, t, i, stop, s)) < stop)
        i = scan_note(d, t, len, i, s, v, n);
    return i;
}

/* Scans the next window from b->end into b->v. */
static void scan_fill(const struct dfa *d, const uint8_t *t, size_t len, struct scan_buf *b)
{
    const uint32_t *scan = d->scan;
    const uint8_t *cls = d->cls;
    size_t lo = b->end, hi = len - lo > SCAN_BYTES ? lo + SCAN_BYTES : len, mid = 0, na = 0, nb = 0;
    uint32_t sa = b->state, sb = d->scan_root;

    /* Split at a byte that ends any word (so the second half starts between
     * words) in the window's middle half; too short a window is one chain. */
    for (size_t j = lo + (hi - lo) / 2; hi - lo >= 64 && j < lo + 3 * (hi - lo) / 4; j++)
        if (!word_tab[t[j]] && t[j] != '.') {
            mid = j;
            break;
        }
    if (mid == 0) {
        b->end = scan_chain(d, t, len, lo, hi, &sa, b->v, &na);
        assert(na <= SCAN_STOPS);
        b->state = sa;
        b->n = na;
        b->next = 0;
        return;
    }
    struct scan_stop *vb = b->v + SCAN_HALF;
    size_t ia = lo, ib = mid + 1;
    while (ia <= mid && ib < hi) {
        size_t n = mid + 1 - ia < hi - ib ? mid + 1 - ia : hi - ib;
        size_t j = scan_run2(scan, cls, t + ia, t + ib, n, &sa, &sb);
        ia += j;
        ib += j;
        if (j == n)
            break;
        uint32_t xa = scan[sa + cls[t[ia]]], xb = scan[sb + cls[t[ib]]];
        if (xa == SCAN_EXIT)
            ia = scan_note(d, t, len, ia, &sa, b->v, &na);
        else
            sa = xa, ia++;
        if (xb == SCAN_EXIT)
            ib = scan_note(d, t, len, ib, &sb, vb, &nb);
        else
            sb = xb, ib++;
    }
    (void)scan_chain(d, t, len, ia, mid + 1, &sa, b->v, &na);
    b->end = scan_chain(d, t, len, ib, hi, &sb, vb, &nb);
    assert(na <= SCAN_HALF && nb <= SCAN_HALF);
    b->state = sb;
    memmove(b->v + na, vb, nb * sizeof(*vb));
    b->n = na + nb;
    b->next = 0;
}

/* The fast path's search: the first alias starting at or after pos, its
 * start in *start and end in *end, or -1. The scanner passes the word
 * starts where none can begin; where it stopped, the walk goes on from its
 * state rather than from the word start again. b: the text's stops so
 * far (b->end = 0 and b->n = 0 before the first call). */
static long scan_alias(const struct dfa *d, const uint8_t *t, size_t len, size_t pos,
                       struct scan_buf *b, size_t *start, size_t *end)
{
    for (;;) {
        while (b->next < b->n) {
            const struct scan_stop *st = &b->v[b->next++];
            if (st->c < pos)
                continue; /* inside a match already taken */
            long k = dfa_walk(d, t, len, st->s, st->i, end);
            if (k >= 0) {
                *start = st->c;
                return k;
            }
        }
        if (b->end >= len)
            return -1;
        if (b->end < pos) {
            /* A match ran past the scanned part: from pos on, the stops do
             * not depend on where the scan started. */
            b->end = pos;
            b->state = scan_context(d, t, pos);
        }
        scan_fill(d, t, len, b);
    }
}

/* Builds both tries from the aliases: case-insensitive keys lowercased in
 * ci, case-sensitive keys as written plus ALL CAPS in cs. Returns 0, or
 * GTP_ERR_PARSE with errstr (path names the file) for an alias too long or
 * one claimed twice. */
static int tries_build(const struct gtp_skills *sk, struct trie *ci, struct trie *cs,
                       const char *path, char *errstr, size_t errstr_size)
{
    char key[256];

    for (size_t i = 0; i < sk->n_aliases; i++) {
        const struct alias *a = &sk->aliases[i];
        if (a->text_len >= sizeof(key)) {
            gtp_errf(errstr, errstr_size, "%s:%d: alias too long", path, a->line);
            return GTP_ERR_PARSE;
        }
        for (int variant = 0; variant < 2; variant++) {
            for (size_t j = 0; j <= a->text_len; j++) {
                unsigned char c = (unsigned char)a->text[j];
                if (!(a->flags & F_CASE))
                    c = (unsigned char)tolower(c);
                else if (variant == 1)
                    c = (unsigned char)toupper(c);
                key[j] = (char)c;
            }
            if (variant == 1 && (!(a->flags & F_CASE) || strcmp(key, a->text) == 0))
                break; /* no separate ALL CAPS form */
            int prev = trie_insert((a->flags & F_CASE) ? cs : ci, key, (int)i);
            if (prev >= 0) {
                gtp_errf(errstr, errstr_size,
                         "%s:%d: alias '%s' of '%s' already claimed by '%s' (line %d)", path,
                         a->line, a->text, sk->skills[a->skills[0]].id,
                         sk->skills[sk->aliases[prev].skills[0]].id, sk->aliases[prev].line);
                return GTP_ERR_PARSE;
            }
        }
    }
    return 0;
}

/* Builds both tries and compiles them into the automaton. The reference
 * pattern is built from the same tries only when asked for
 * (gtp_skills_disable_prefilter). */
static int compile_matcher(struct gtp_skills *sk, const char *path, char *errstr,
                           size_t errstr_size)
{
    struct trie *ci = trie_new(), *cs = trie_new();
    int err = tries_build(sk, ci, cs, path, errstr, errstr_size);
    if (!err && dfa_build(&sk->dfa, ci, cs, path, errstr, errstr_size) < 0)
        err = GTP_ERR_PARSE;
    trie_free(ci);
    trie_free(cs);
    return err;
}

/* The reference pattern: both tries as one PCRE2 pattern, anchored by the
 * caller. The aliases passed tries_build when sk was loaded, so its errors
 * cannot recur here; they are passed on all the same. */
static int pattern_build(const struct gtp_skills *sk, struct gtp_buf *b, char *errstr,
                         size_t errstr_size)
{
    struct trie *ci = trie_new(), *cs = trie_new();
    int err = tries_build(sk, ci, cs, "skills.tsv", errstr, errstr_size);
    if (!err) {
        /* Left boundary: no word character before, and not "x." before (so
         * ".js" in "Node.js" or "sql" in "mysql" never start a match). */
        gtp_buf_puts(b, "(?<!\\w)(?<!\\w\\.)(?:");
        trie_emit(b, ci);
        if (cs->n > 0) {
            gtp_buf_puts(b, "|(?-i)");
            trie_emit(b, cs);
        }
        gtp_buf_puts(b, ")");
    }
    trie_free(ci);
    trie_free(cs);
    return err;
}

struct gtp_skills *gtp_skills_load(const char *taxonomy_dir, char *errstr, size_t errstr_size)
{
    struct gtp_skills *sk = NULL;
    char path[4096];
    struct gtp_tsv t = {0};
    int lineno = 0, ok = 0, rc;

    if (taxonomy_dir == NULL) {
        gtp_errf(errstr, errstr_size, "no taxonomy directory");
        goto out;
    }
    snprintf(path, sizeof(path), "%s/skills.tsv", taxonomy_dir);
    if (gtp_tsv_open(&t, path, errstr, errstr_size))
        goto out;
    pthread_once(&tab_once, tab_init);
    sk = gtp_xcalloc(1, sizeof(*sk));
    sk->skills = gtp_xcalloc(GTP_SKILLS_MAX, sizeof(*sk->skills));

    while ((rc = gtp_tsv_next(&t, errstr, errstr_size)) > 0) {
        char **field = t.field;
        size_t nf = t.nfields;
        lineno = (int)t.line;
        if (gtp_tsv_expect(&t, 4, 5, NULL, errstr, errstr_size))
            goto out;
        if (!is_slug(field[0])) {
            gtp_tsv_errf(&t, errstr, errstr_size, "id '%s' is not a slug [a-z0-9-]+", field[0]);
            goto out;
        }
        if (gtp_skills_find(sk, field[0]) >= 0) {
            gtp_tsv_errf(&t, errstr, errstr_size, "duplicate id '%s'", field[0]);
            goto out;
        }
        if (field[1][0] == '\0' || field[2][0] == '\0' || field[3][0] == '\0') {
            gtp_tsv_errf(&t, errstr, errstr_size, "empty name, category or aliases");
            goto out;
        }
        if (sk->count == GTP_SKILLS_MAX) {
            gtp_tsv_errf(&t, errstr, errstr_size, "more than %d skills", GTP_SKILLS_MAX);
            goto out;
        }
        size_t idx = sk->count++;
        struct skill *s = &sk->skills[idx];
        s->id = gtp_xstrdup(field[0]);
        s->name = gtp_xstrdup(field[1]);
        s->category = gtp_xstrdup(field[2]);
        for (char *save = NULL, *tok = strtok_r(field[3], "|", &save); tok;
             tok = strtok_r(NULL, "|", &save))
            if (parse_alias(sk, idx, tok, path, lineno, errstr, errstr_size) < 0)
                goto out;
        if (nf == 5 && parse_rules(s, field[4], path, lineno, errstr, errstr_size) < 0)
            goto out;
    }
    if (rc < 0)
        goto out;
    if (sk->count == 0) {
        gtp_errf(errstr, errstr_size, "%s: no skills", path);
        goto out;
    }
    if (resolve_implied(sk, path, errstr, errstr_size) < 0)
        goto out;
    if (compile_matcher(sk, path, errstr, errstr_size) < 0)
        goto out;
    ok = 1;
out:
    gtp_tsv_close(&t);
    if (!ok) {
        gtp_skills_free(sk);
        sk = NULL;
    }
    return sk;
}

size_t gtp_skills_count(const struct gtp_skills *sk)
{
    return sk ? sk->count : 0;
}

const char *gtp_skills_id(const struct gtp_skills *sk, size_t idx)
{
    return idx < sk->count ? sk->skills[idx].id : NULL;
}

const char *gtp_skills_name(const struct gtp_skills *sk, size_t idx)
{
    return idx < sk->count ? sk->skills[idx].name : NULL;
}

const char *gtp_skills_category(const struct gtp_skills *sk, size_t idx)
{
    return idx < sk->count ? sk->skills[idx].category : NULL;
}

int gtp_skills_find(const struct gtp_skills *sk, const char *id)
{
    if (sk == NULL || id == NULL)
        return -1;
    for (size_t i = 0; i < sk->count; i++)
        if (strcmp(sk->skills[i].id, id) == 0)
            return (int)i;
    return -1;
}

/* ---- matching ------------------------------------------------------------- */

/* Words a skill name may be followed by (connectors), and words that also
 * show the tech sense (nouns that follow a technology's name). */
static const char *const next_connectors[] = {
    "and",      "or",      "nor",  "plus", "vs",    "versus",    "is",  "are",
    "was",      "were",    "etc",  "eg",   "ie",    "including", "for", "preferred",
    "required", "desired", "nice", "a",    "would", "will",      "also"};

static const char *const tech_nouns[] = {
    "developer",    "developers",    "development", "engineer",     "engineers",    "engineering",
    "programming",  "programmer",    "programmers", "language",     "languages",    "code",
    "coding",       "codebase",      "codebases",   "service",      "services",     "microservices",
    "microservice", "backend",       "backends",    "frontend",     "stack",        "experience",
    "experienced",  "skills",        "skill",       "knowledge",    "proficiency",  "proficient",
    "expertise",    "expert",        "experts",     "application",  "applications", "apps",
    "app",          "libraries",     "library",     "framework",    "frameworks",   "ecosystem",
    "script",       "scripts",       "scripting",   "job",          "jobs",         "cluster",
    "clusters",     "pipeline",      "pipelines",   "streaming",    "api",          "apis",
    "module",       "modules",       "package",     "packages",     "tooling",      "tools",
    "project",      "projects",      "environment", "environments", "dag",          "dags",
    "queries",      "query",         "model",       "models",       "runtime",      "version",
    "versions",     "certification", "certified",   "workloads",    "workflows",    "mvc",
    "core",         "dashboard",     "dashboards",  "reports",      "reporting",    "spreadsheet",
    "spreadsheets", "formulas",      "macros",      "modelling",    "modeling",     "functions",
    "routines",     "goroutines",    "concurrency", "generics",     "server",       "servers",
    "components",   "hooks",         "ui",          "sdk",          "chart",        "charts",
    "tables",       "notebooks",     "programs",    "internals",    "tuning",       "optimization",
    "optimisation", "testing",       "tests",       "compiler",     "toolchain",    "crates",
    "cookbooks",    "manifests",     "plugins",     "templates",    "data",         "analytics",
    "analysis",     "users",         "user",        "specialist",   "consultant",   "architect",
    "architecture", "platform",      "platforms",   "integration",  "integrations", "migration",
    "migrations",   "stack",         "roles",       "role",         "position",     "positions",
    "background",   "fluency",       "familiarity", "best",         "idioms",       "idiomatic",
    "web",          "backend",       "systems",     "tasks",        "operators",    "schemas",
    "schema",       "sql",           "mobile",      "native"};

static const char *const prev_cues[] = {
    "with",         "using",       "use",         "uses",        "in",       "knowledge",
    "experience",   "experienced", "proficient",  "proficiency", "fluent",   "fluency",
    "expertise",    "expert",      "strong",      "advanced",    "solid",    "languages",
    "language",     "like",        "including",   "include",     "includes", "eg",
    "ie",           "write",       "writing",     "written",     "develop",  "developing",
    "programming",  "skilled",     "familiarity", "familiar",    "built",    "build",
    "building",     "leverage",    "leveraging",  "via",         "plus",     "modern",
    "idiomatic",    "production",  "senior",      "junior",      "hands-on", "deep",
    "professional", "commercial",  "years"};

/* The three lists in one open-addressing table: judge() looks up two or
 * three words per ambiguous candidate, and a linear strcmp scan of ~300
 * words was a tenth of the matcher's instructions. */
enum { CUE_CONNECTOR = 1, CUE_TECH = 2, CUE_PREV = 4 };
#define CUE_SLOTS 1024 /* a power of two, over twice the words */

struct cue {
    const char *w;
    unsigned lists;
};

static struct cue cue_tab[CUE_SLOTS];

static uint32_t cue_hash(const char *w)
{
    uint32_t h = 2166136261u;
    for (; *w; w++)
        h = (h ^ (uint8_t)*w) * 16777619u;
    return h;
}

static struct cue *cue_slot(const char *w)
{
    uint32_t i = cue_hash(w) & (CUE_SLOTS - 1);
    while (cue_tab[i].w != NULL && strcmp(cue_tab[i].w, w) != 0)
        i = (i + 1) & (CUE_SLOTS - 1);
    return &cue_tab[i];
}

static void cue_add(const char *const *list, size_t n, unsigned bit)
{
    for (size_t i = 0; i < n; i++) {
        struct cue *c = cue_slot(list[i]);
        c->w = list[i];
        c->lists |= bit;
    }
}

static void cue_init(void)
{
    cue_add(next_connectors, GTP_ARRAY_LEN(next_connectors), CUE_CONNECTOR);
    cue_add(tech_nouns, GTP_ARRAY_LEN(tech_nouns), CUE_TECH);
    cue_add(prev_cues, GTP_ARRAY_LEN(prev_cues), CUE_PREV);
}

/* Which of the lists hold w (CUE_* bits). */
static unsigned cue_lists(const char *w)
{
    return cue_slot(w)->lists;
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(unsigned char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9');
}

/* A non-ASCII character counts as a letter when its UTF-8 lead byte is in
 * C3..D4 (Latin-1 letters through Cyrillic/Armenian): "Pythonía" is no
 * match, while CJK text, curly quotes, bullets and dashes are separators. */
static int utf8_letter_lead(unsigned char c)
{
    return c >= 0xC3 && c <= 0xD4;
}

static int left_is_word(const unsigned char *t, size_t s)
{
    if (s == 0 || t[s - 1] < 0x80)
        return 0; /* ASCII was checked by the pattern's lookbehind */
    size_t i = s - 1, back = 0;
    while (i > 0 && back < 3 && (t[i] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    return utf8_letter_lead(t[i]);
}

/* Right boundary: no letter, '_', '+' or '#' after ("C" in "C++"); digits
 * only after aliases of 3+ characters ending in a letter ("Python3"). */
static int right_ok(const struct alias *a, const unsigned char *t, size_t len, size_t e)
{
    if (e >= len)
        return 1;
    unsigned char c = t[e];
    if (is_alpha(c) || c == '_' || c == '+' || c == '#')
        return 0;
    if (c >= '0' && c <= '9') {
        unsigned char last = (unsigned char)a->text[a->text_len - 1];
        return a->text_len >= 3 && is_alpha(last);
    }
    if (c >= 0x80)
        return !utf8_letter_lead(c);
    return 1;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* Lowercased letters (and apostrophes/hyphens inside) starting at i. */
static size_t word_at(const unsigned char *t, size_t len, size_t i, char *w)
{
    size_t n = 0;
    while (i < len && (is_alpha(t[i]) || ((t[i] == '\'' || t[i] == '-') && n > 0 && i + 1 < len &&
                                          is_alpha(t[i + 1])))) {
        if (n < WORD_MAX - 1)
            w[n++] = (char)tolower(t[i]);
        i++;
    }
    w[n] = '\0';
    return n;
}

/* The word ending just before position s (skipping spaces), lowercased. */
static void word_before(const unsigned char *t, size_t s, char *w)
{
    size_t i = s;
    while (i > 0 && is_space(t[i - 1]))
        i--;
    size_t end = i;
    while (i > 0 && (is_alpha(t[i - 1]) || t[i - 1] == '\'' || t[i - 1] == '.'))
        i--;
    size_t n = 0;
    for (size_t k = i; k < end && n < WORD_MAX - 1; k++)
        if (t[k] != '.')
            w[n++] = (char)tolower(t[k]);
    w[n] = '\0';
}

/* The alias index a (*:N) mark names, or -1. */
static long mark_index(PCRE2_SPTR mark)
{
    long k = 0;
    if (mark == NULL || *mark == 0)
        return -1;
    for (; *mark; mark++) {
        if (*mark < '0' || *mark > '9' || k > 1000000)
            return -1;
        k = k * 10 + (*mark - '0');
    }
    return k;
}

static pcre2_match_data *thread_md(void);

/* The alias the pattern matches at i (its end in *end), or -1: the tables
 * on the fast path, PCRE2 on the reference path, where *err is set when
 * PCRE2 fails (a match limit). */
static long alias_at(const struct gtp_skills *sk, const unsigned char *t, size_t len, size_t i,
                     size_t *end, int *err)
{
    if (!sk->reference)
        return dfa_match_at(sk, t, len, i, end);
    pcre2_match_data *md = thread_md();
    int rc = pcre2_jit_match(sk->anchored, t, len, i, 0, md, sk->mctx);
    if (rc == PCRE2_ERROR_JIT_BADOPTION)
        rc = pcre2_match(sk->anchored, t, len, i, 0, md, sk->mctx); /* no JIT here */
    if (rc == PCRE2_ERROR_NOMATCH)
        return -1;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    long k = rc < 0 ? -1 : mark_index(pcre2_get_mark(md));
    if (k < 0 || (size_t)k >= sk->n_aliases || ov[0] != i || ov[1] <= ov[0]) {
        *err = GTP_ERR_INTERNAL;
        return -1;
    }
    *end = ov[1];
    return k;
}

/* Does an unambiguous alias start at i? */
static int skill_starts_at(const struct gtp_skills *sk, const unsigned char *t, size_t len,
                           size_t i)
{
    size_t e;
    int err = 0;
    long k = alias_at(sk, t, len, i, &e, &err);
    return k >= 0 && sk->aliases[k].flags == 0;
}

enum verdict { REJECT, ACCEPT, NEED_EVIDENCE };

/* The context rules for an alias with ~ or ! (see taxonomy/skills.tsv). */
static enum verdict judge(const struct gtp_skills *sk, const struct alias *a,
                          const unsigned char *t, size_t len, size_t s, size_t e)
{
    const struct skill *sd = &sk->skills[a->skills[0]];
    char w[WORD_MAX];
    int evidence = 0;

    /* Glued to the next character: "R&D", "C-suite", "go-to", "R.Smith". */
    if (e < len) {
        unsigned char c = t[e];
        if (c == '&')
            return REJECT;
        if ((c == '-' || c == '.') && e + 1 < len && is_alnum(t[e + 1]))
            return REJECT;
        if (c == '\'' && !(e + 2 <= len && (e + 2 == len || !is_alpha(t[e + 2])) && e + 1 < len &&
                           (t[e + 1] == 's' || t[e + 1] == 'S')))
            return REJECT;
    }
    word_before(t, s, w);
    if (w[0] != '\0') {
        if (wordlist_has(&sd->not_after, w))
            return REJECT;
        if (cue_lists(w) & CUE_PREV)
            evidence = 1;
    }
    /* The character before, skipping spaces: a list separator is evidence. */
    size_t i = s;
    while (i > 0 && is_space(t[i - 1]))
        i--;
    if (i > 0 && strchr(",/(;|&+:", t[i - 1]) != NULL)
        evidence = 1;

    size_t k = e;
    if (k < len && t[k] == '\'')
        k += 2; /* "Go's" */
    while (k < len && is_space(t[k]))
        k++;
    if (k < len) {
        unsigned char c = t[k];
        if (c >= '0' && c <= '9') {
            size_t nd = 0, v = 0;
            while (k + nd < len && t[k + nd] >= '0' && t[k + nd] <= '9' && nd < 6)
                v = v * 10 + (t[k + nd++] - '0');
            if (sd->year_not_before && nd == 4 && v >= 1900 && v <= 2099)
                return REJECT;
            if (k + nd + 1 < len && t[k + nd] == '.' && t[k + nd + 1] >= '0' &&
                t[k + nd + 1] <= '9')
                evidence = 1; /* a version: "Go 1.22" */
        } else if (is_alpha(c)) {
            word_at(t, len, k, w);
            if (wordlist_has(&sd->not_before, w))
                return REJECT;
            unsigned lists = cue_lists(w);
            if ((lists & CUE_TECH) || skill_starts_at(sk, t, len, k))
                evidence = 1;
            else if (!(lists & CUE_CONNECTOR))
                return REJECT; /* "spark innovation", "Go above", "Excel at" */
        } else if (strchr(",/;|)", c) != NULL) {
            evidence = 1;
        }
    }
    if (evidence)
        return ACCEPT;
    if (a->flags & F_EVID)
        return NEED_EVIDENCE;
    /* '~': the written capitalisation (or ALL CAPS) is enough. */
    if ((size_t)(e - s) == a->text_len) {
        if (memcmp(t + s, a->text, a->text_len) == 0)
            return ACCEPT;
        size_t j = 0;
        while (j < a->text_len && t[s + j] == (unsigned char)toupper((unsigned char)a->text[j]))
            j++;
        if (j == a->text_len)
            return ACCEPT;
    }
    return NEED_EVIDENCE;
}

static void add_alias(const struct alias *a, struct gtp_skill_set *out)
{
    for (size_t i = 0; i < a->n_skills; i++)
        gtp_skill_set_add(out, a->skills[i]);
}

/* Match data is per thread and sized for one ovector pair, so it serves
 * every gtp_skills object (a SIGHUP reload included) without a malloc per
 * call. It is freed when the thread exits. */
static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_destroy(void *p)
{
    pcre2_match_data_free(p);
}

static void md_key_init(void)
{
    (void)pthread_key_create(&md_key, md_destroy);
}

static pcre2_match_data *thread_md(void)
{
    static _Thread_local pcre2_match_data *md;
    if (md == NULL) {
        pthread_once(&md_once, md_key_init);
        md = pcre2_match_data_create(1, NULL);
        if (md == NULL) {
            fprintf(stderr, "out of memory\n");
            abort();
        }
        (void)pthread_setspecific(md_key, md);
    }
    return md;
}

struct pending {
    size_t e;
    const struct alias *a;
};

/* The reference path's search: PCRE2 at every word start (a word
 * character, or a '.' before one) from pos on. Same contract as
 * scan_alias, plus *err when PCRE2 fails. */
static long ref_alias(const struct gtp_skills *sk, const unsigned char *t, size_t len, size_t pos,
                      size_t *start, size_t *end, int *err)
{
    size_t i = pos;
    while (i > 0 && i < len && word_tab[t[i - 1]] && word_tab[t[i]])
        i++; /* resumed inside a word: not a word start */
    while (i < len) {
        uint8_t c = t[i];
        if (!word_tab[c] && !(c == '.' && i + 1 < len && word_tab[t[i + 1]])) {
            i++;
            continue;
        }
        long k = alias_at(sk, t, len, i, end, err);
        if (k >= 0 || *err != 0) {
            *start = i;
            return k;
        }
        /* A token ".word" may still hold an alias from the 'w' on
         * (" .saltstack"): then only the '.' is skipped. */
        if (c == '.')
            i++;
        else
            while (i < len && word_tab[t[i]])
                i++;
    }
    return -1;
}

int gtp_skills_disable_prefilter(struct gtp_skills *sk, char *errstr, size_t errstr_size)
{
    struct gtp_buf b = {0};
    int ec, err = 0;
    PCRE2_SIZE eo;
    uint32_t opts =
        PCRE2_CASELESS | PCRE2_NEVER_UTF | PCRE2_NEVER_UCP | PCRE2_DOTALL | PCRE2_ANCHORED;

    if (sk->anchored != NULL)
        goto out;
    if ((err = pattern_build(sk, &b, errstr, errstr_size)))
        goto out;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)b.p, b.len, opts, &ec, &eo, NULL);
    if (code == NULL) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        gtp_errf(errstr, errstr_size, "reference pattern of %zu bytes does not compile: %s", b.len,
                 (const char *)msg);
        err = GTP_ERR_INTERNAL;
        goto out;
    }
    /* Without JIT (e.g. a platform without support) the interpreter
     * still gives the same answers, only slower. */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    sk->anchored = code;
    sk->mctx = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(sk->mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(sk->mctx, DEPTH_LIMIT);
out:
    if (!err)
        sk->reference = 1;
    gtp_buf_fini(&b);
    return err;
}

int gtp_skills_match(const struct gtp_skills *sk, const char *text, size_t len,
                     struct gtp_skill_set *out)
{
    if (sk == NULL || out == NULL)
        return GTP_ERR_INVAL;
    if (text == NULL || len == 0)
        return 0;
    const unsigned char *t = (const unsigned char *)text;
    struct pending pend[MAX_PENDING];
    size_t npend = 0, pos = 0;
    size_t last_sure = (size_t)-1; /* end of the last unambiguous match */
    int err = 0;
    struct scan_buf sb;

    sb.n = sb.next = sb.end = 0;
    sb.state = sk->dfa.scan_root;

    while (pos < len && err == 0) {
        size_t i = pos, e = 0;
        long k = sk->reference ? ref_alias(sk, t, len, pos, &i, &e, &err)
                               : scan_alias(&sk->dfa, t, len, pos, &sb, &i, &e);
        if (k < 0)
            break;
        size_t s = i;
        const struct alias *a = &sk->aliases[k];
        if (left_is_word(t, s) || !right_ok(a, t, len, e)) {
            pos = s + 1;
            continue;
        }
        if ((a->flags & (F_WORD | F_EVID)) == 0) {
            /* A sure match: evidence for the candidates waiting before it. */
            for (size_t j = 0; j < npend; j++)
                if (s - pend[j].e <= EVIDENCE_WINDOW)
                    add_alias(pend[j].a, out);
            npend = 0;
            add_alias(a, out);
            last_sure = e;
            pos = e;
            continue;
        }
        enum verdict v = judge(sk, a, t, len, s, e);
        if (v == NEED_EVIDENCE && last_sure != (size_t)-1 && s - last_sure <= EVIDENCE_WINDOW)
            v = ACCEPT;
        if (v == ACCEPT) {
            add_alias(a, out);
        } else if (v == NEED_EVIDENCE && npend < MAX_PENDING) {
            pend[npend].e = e;
            pend[npend].a = a;
            npend++;
        }
        pos = v == REJECT ? s + 1 : e;
    }
    return err;
}
