/* Title -> experience_level by word n-gram lookups in a hash of cues: titles
 * are short, so a few dozen probes per title beat any regex. */
#include "gtp/seniority.h"
#include "gtp/err.h"
#include "gtp/strmap.h"
#include "gtp/textnorm.h"
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
    struct gtp_strmap *cues; /* normalized cue -> (void *)level */
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
    free(sn);
}

struct gtp_seniority *gtp_seniority_load(const char *taxonomy_dir, char *errstr, size_t errstr_size)
{
    char path[4096], key[NORM_MAX];
    struct gtp_seniority *sn = gtp_xcalloc(1, sizeof(*sn));
    FILE *fp = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int ok = 0;

    sn->cues = gtp_strmap_new();
    snprintf(path, sizeof(path), "%s/seniority.tsv", taxonomy_dir);
    if (!(fp = fopen(path, "r"))) {
        gtp_errf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        goto out;
    }
    while ((n = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        char *tab = strchr(line, '\t');
        int level;
        if (!tab || (level = gtp_seniority_parse((*tab = '\0', line))) <= 0) {
            gtp_errf(errstr, errstr_size, "%s:%ld: expected level<TAB>cue with a known level", path,
                     lineno);
            goto out;
        }
        size_t klen = gtp_textnorm_key(tab + 1, strlen(tab + 1), key, sizeof(key));
        if (klen == 0) {
            gtp_errf(errstr, errstr_size, "%s:%ld: empty cue", path, lineno);
            goto out;
        }
        void *prev = gtp_strmap_put(sn->cues, key, klen, (void *)(intptr_t)level);
        if (prev && (intptr_t)prev != level) {
            gtp_errf(errstr, errstr_size, "%s:%ld: cue '%s' already listed as %s", path, lineno,
                     key, level_names[(intptr_t)prev]);
            goto out;
        }
    }
    ok = 1;
out:
    free(line);
    if (fp)
        fclose(fp);
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
