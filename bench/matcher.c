/* Skill matcher benchmark: MB/s of description text on one core for the
 * real matcher (gtp_skills_match), for its reference path (PCRE2 at every
 * word start, gtp_skills_disable_prefilter) and for the seed's naive
 * approach (a case-insensitive substring search per alias per text), in
 * the same run. Every distinct text is also matched both ways and the
 * skill sets compared: a difference is reported and exits 1.
 *
 *   bench_matcher TAXONOMY_DIR TEXTS_FILE [TARGET_MB]
 *
 * TEXTS_FILE: one text per line (JSON lines with a "text" or
 * "payload.description" field are unwrapped). The texts are replicated
 * until TARGET_MB (default 50) is reached. BENCH_NO_BASELINE=1 skips the
 * naive baseline, BENCH_NO_REFERENCE=1 the reference (timing and check),
 * so that a profile of gtp_skills_match sees the timed loop alone. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gtp/skills.h"

struct text {
    char *p;
    size_t len;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: robust on a busy machine */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The naive baseline's alias list: every alias text of skills.tsv, lowercased,
 * flags and '>' targets stripped (what a seed-style matcher would hold). */
static char **load_aliases(const char *dir, size_t *n_out)
{
    char path[4096], *line = NULL;
    size_t cap = 0, n = 0;
    char **v = NULL;
    snprintf(path, sizeof(path), "%s/skills.tsv", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    while (getline(&line, &cap, f) > 0) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char *save = NULL, *fld = strtok_r(line, "\t", &save);
        for (int i = 0; i < 3 && fld; i++)
            fld = strtok_r(NULL, "\t", &save);
        if (fld == NULL)
            continue;
        char *s2 = NULL;
        for (char *a = strtok_r(fld, "|", &s2); a; a = strtok_r(NULL, "|", &s2)) {
            a += strspn(a, "=~!");
            a[strcspn(a, ">\n")] = '\0';
            v = realloc(v, (n + 1) * sizeof(*v));
            v[n++] = strdup(a);
        }
    }
    free(line);
    fclose(f);
    *n_out = n;
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s TAXONOMY_DIR TEXTS_FILE [TARGET_MB]\n", argv[0]);
        return 64;
    }
    double target_mb = argc > 3 ? atof(argv[3]) : 50.0;
    char err[512];
    struct gtp_skills *sk = gtp_skills_load(argv[1], err, sizeof(err));
    if (sk == NULL) {
        fprintf(stderr, "%s\n", err);
        return 78;
    }
    size_t n_alias = 0;
    char **aliases = load_aliases(argv[1], &n_alias);

    /* Read the distinct texts. */
    FILE *f = fopen(argv[2], "r");
    if (f == NULL) {
        perror(argv[2]);
        return 66;
    }
    struct text *uniq = NULL;
    size_t n_uniq = 0, cap = 0;
    char *line = NULL;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        const char *s = line;
        size_t sl = (size_t)len;
        json_t *o = NULL;
        if (line[0] == '{' && (o = json_loadb(line, (size_t)len, 0, NULL)) != NULL) {
            json_t *t = json_object_get(o, "text");
            if (t == NULL)
                t = json_object_get(json_object_get(o, "payload"), "description");
            s = json_string_value(t);
            sl = s ? json_string_length(t) : 0;
        }
        if (s != NULL && sl > 0) {
            uniq = realloc(uniq, (n_uniq + 1) * sizeof(*uniq));
            uniq[n_uniq].p = malloc(sl + 1);
            memcpy(uniq[n_uniq].p, s, sl);
            uniq[n_uniq].p[sl] = '\0';
            uniq[n_uniq].len = sl;
            n_uniq++;
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    if (n_uniq == 0) {
        fprintf(stderr, "no texts in %s\n", argv[2]);
        return 65;
    }
    /* Replicate to the target size in one buffer (NUL-separated so the
     * baseline can use strcasestr). */
    size_t total = 0, target = (size_t)(target_mb * 1e6), count = 0;
    for (size_t i = 0; total < target; i++)
        total += uniq[i % n_uniq].len + 1;
    char *all = malloc(total);
    struct text *texts = malloc(sizeof(*texts) * (total / 2 + 1));
    size_t off = 0;
    for (size_t i = 0; off < total; i++, count++) {
        const struct text *u = &uniq[i % n_uniq];
        memcpy(all + off, u->p, u->len + 1);
        texts[count].p = all + off;
        texts[count].len = u->len;
        off += u->len + 1;
    }
    size_t bytes = total - count;
    fflush(stdout);
    fprintf(stderr, "%zu texts (%zu distinct), %.1f MB, %zu skills, %zu aliases\n", count, n_uniq,
            (double)bytes / 1e6, gtp_skills_count(sk), n_alias);

    /* Real matcher. */
    unsigned long long found = 0;
    double t0 = now_s();
    for (size_t i = 0; i < count; i++) {
        struct gtp_skill_set set;
        memset(&set, 0, sizeof(set));
        gtp_skills_match(sk, texts[i].p, texts[i].len, &set);
        for (size_t w = 0; w < GTP_SKILLS_MAX / 64; w++)
            found += (unsigned long long)__builtin_popcountll(set.bits[w]);
    }
    double t_real = now_s() - t0;

    /* Reference path on a fifth of the texts, scaled. */
    struct gtp_skills *ref = gtp_skills_load(argv[1], err, sizeof(err));
    if (ref == NULL) {
        fprintf(stderr, "%s\n", err);
        return 78;
    }
    if (gtp_skills_disable_prefilter(ref, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return 70;
    }
    size_t ref_count = getenv("BENCH_NO_REFERENCE") != NULL ? 1 : count / 5 ? count / 5 : count;
    size_t ref_bytes = 0;
    t0 = now_s();
    for (size_t i = 0; i < ref_count; i++) {
        struct gtp_skill_set set;
        memset(&set, 0, sizeof(set));
        gtp_skills_match(ref, texts[i].p, texts[i].len, &set);
        ref_bytes += texts[i].len;
    }
    double t_ref = now_s() - t0;

    /* The fast path and the reference agree on every distinct text. */
    size_t differ = 0, checked = getenv("BENCH_NO_REFERENCE") != NULL ? 0 : n_uniq;
    for (size_t i = 0; i < checked; i++) {
        struct gtp_skill_set a, b;
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        gtp_skills_match(sk, uniq[i].p, uniq[i].len, &a);
        gtp_skills_match(ref, uniq[i].p, uniq[i].len, &b);
        if (memcmp(&a, &b, sizeof(a)) != 0 && ++differ <= 5)
            fprintf(stderr, "reference differs on: %s\n", uniq[i].p);
    }

    /* Naive baseline on a tenth of the texts (it is slow), scaled. */
    size_t base_count = count / 10 ? count / 10 : count, base_bytes = 0;
    if (getenv("BENCH_NO_BASELINE") != NULL)
        base_count = 1;
    unsigned long long base_found = 0;
    t0 = now_s();
    for (size_t i = 0; i < base_count; i++) {
        base_bytes += texts[i].len;
        for (size_t a = 0; a < n_alias; a++)
            base_found += strcasestr(texts[i].p, aliases[a]) != NULL;
    }
    double t_base = now_s() - t0;

    double mbs_real = (double)bytes / 1e6 / t_real;
    double mbs_base = (double)base_bytes / 1e6 / t_base;
    printf("matcher:  %.1f MB/s  (%.0f texts/s, %.2f skills/text)\n", mbs_real,
           (double)count / t_real, (double)found / (double)count);
    printf("reference: %.1f MB/s  (PCRE2 at every word start; same skills on %zu of %zu distinct "
           "texts)\n",
           (double)ref_bytes / 1e6 / t_ref, checked - differ, checked);
    printf("baseline: %.1f MB/s  (strcasestr per alias per text, %zu aliases, %llu hits)\n",
           mbs_base, n_alias, base_found);
    printf("ratio:    %.1fx\n", mbs_real / mbs_base);
    for (size_t i = 0; i < n_uniq; i++)
        free(uniq[i].p);
    free(uniq);
    free(texts);
    free(all);
    for (size_t i = 0; i < n_alias; i++)
        free(aliases[i]);
    free(aliases);
    gtp_skills_free(sk);
    gtp_skills_free(ref);
    return differ ? 1 : 0;
}
