/* Title -> experience_level by word n-gram lookups in a hash of cues: titles
 * are short, so a few dozen probes per title beat any regex. */
#include "gtp/seniority.h"
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
#include <strings.h>

#define NORM_MAX  256
#define MAX_NGRAM 3

static const char *const level_names[GTP_SENIORITY_NLEVELS] = {
    "Unspecified", "Intern", "Junior", "Mid", "Senior", "Lead", "Principal", "Director",
};

struct gtp_seniority {
    struct gtp_strmap *cues;  /* normalized cue -> (void *)level */
    struct gtp_strmap *first; /* the first word of every cue -> (void *)1 */
};

const char *gtp_seniority_name(enum gtp_seniority_level level)
{
    if ((int)level < 0 || (int)level >= GTP_SENIORITY_NLEVELS)
        return level_names[0];
    return level_names[level];
}

int gtp_seniority_parse(const char *name)
{
    for (int i = 0; name && i < GTP_SENIORITY_NLEVELS; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

void gtp_seniority_free(struct gtp_seniority *sn)
{
    if (!sn)
        return;
    gtp_strmap_free(sn->cues);
    gtp_strmap_free(sn->first);
    free(sn);
}

struct gtp_seniority *gtp_seniority_load(const char *taxonomy_dir, char *errstr, size_t errstr_size)
{
    char path[4096], key[NORM_MAX];
    struct gtp_seniority *sn = gtp_xcalloc(1, sizeof(*sn));
    struct gtp_tsv t;
    int ok = 0, rc;

    sn->cues = gtp_strmap_new();
    sn->first = gtp_strmap_new();
    snprintf(path, sizeof(path), "%s/seniority.tsv", taxonomy_dir);
    if (gtp_tsv_open(&t, path, errstr, errstr_size))
        goto out;
    while ((rc = gtp_tsv_next(&t, errstr, errstr_size)) > 0) {
        int level;
        if (gtp_tsv_expect(&t, 2, 2, "level<TAB>cue with a known level", errstr, errstr_size))
            goto out;
        if ((level = gtp_seniority_parse(t.field[0])) <= 0) {
            gtp_tsv_errf(&t, errstr, errstr_size, "expected level<TAB>cue with a known level");
            goto out;
        }
        size_t klen = gtp_textnorm_key(t.field[1], strlen(t.field[1]), key, sizeof(key));
        if (klen == 0) {
            gtp_tsv_errf(&t, errstr, errstr_size, "empty cue");
            goto out;
        }
        const char *sp = memchr(key, ' ', klen);
        (void)gtp_strmap_put(sn->first, key, sp ? (size_t)(sp - key) : klen, (void *)1);
        void *prev = gtp_strmap_put(sn->cues, key, klen, (void *)(intptr_t)level);
        if (prev && (intptr_t)prev != level) {
            gtp_tsv_errf(&t, errstr, errstr_size, "cue '%s' already listed as %s", key,
                         level_names[(intptr_t)prev]);
            goto out;
        }
    }
    ok = rc == 0;
out:
    gtp_tsv_close(&t);
    if (!ok) {
        gtp_seniority_free(sn);
        sn = NULL;
    }
    return sn;
}

enum gtp_seniority_level gtp_seniority_of(const struct gtp_seniority *sn, const char *title,
                                          size_t len)
{
    char norm[NORM_MAX];
    size_t starts[64], ends[64], nw = 0, n;
    intptr_t best = GTP_SENIORITY_UNSPECIFIED;

    if (!sn || !title)
        return GTP_SENIORITY_UNSPECIFIED;
    n = gtp_textnorm_key(title, len, norm, sizeof(norm));
    for (size_t i = 0; i < n && nw < 64;) {
        starts[nw] = i;
        while (i < n && norm[i] != ' ')
            i++;
        ends[nw++] = i;
        i++;
    }
    for (size_t w = 0; w < nw; w++) {
        /* most words start no cue: one probe instead of one per n-gram */
        if (!gtp_strmap_get(sn->first, norm + starts[w], ends[w] - starts[w]))
            continue;
        for (size_t k = 1; k <= MAX_NGRAM && w + k <= nw; k++) {
            intptr_t lv =
                (intptr_t)gtp_strmap_get(sn->cues, norm + starts[w], ends[w + k - 1] - starts[w]);
            if (lv > best)
                best = lv;
        }
    }
    return (enum gtp_seniority_level)best;
}

size_t gtp_seniority_cues(const struct gtp_seniority *sn)
{
    return gtp_strmap_count(sn->cues);
}
