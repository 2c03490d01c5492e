/* Fuzz target: the skill matcher on arbitrary bytes (invalid UTF-8, NUL,
 * huge runs of separators) with the repository's skills.tsv. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gtp/util.h"
#include "gtp/err.h"
#include "gtp/skills.h"
#include "gtp/taxonomy.h"

int gtp_fuzz_skills(const uint8_t *data, size_t size)
{
    const struct gtp_skills *sk = gtp_fuzz_taxonomy()->skills;
    struct gtp_skill_set a, b, c;
    size_t count = gtp_skills_count(sk);
    char *text = gtp_xmalloc(size ? size : 1);
    int rc;

    /* exact size, no NUL after it: an over-read hits ASan */
    if (size)
        memcpy(text, data, size);
    memset(&a, 0, sizeof(a));
    rc = gtp_skills_match(sk, text, size, &a);
    FUZZ_CHECK(rc == 0 || rc == GTP_ERR_INTERNAL, "match returned %d", rc);
    for (size_t i = count; i < GTP_SKILLS_MAX; i++)
        FUZZ_CHECK(!gtp_skill_set_has(&a, i), "index %zu past the %zu skills", i, count);

    /* deterministic, and it only adds to what *out holds */
    memset(&b, 0, sizeof(b));
    FUZZ_CHECK(gtp_skills_match(sk, text, size, &b) == rc && memcmp(&a, &b, sizeof(a)) == 0,
               "second match differs");
    memset(&c, 0xff, sizeof(c));
    gtp_skills_match(sk, text, size, &c);
    for (size_t i = 0; i < GTP_SKILLS_MAX; i++)
        FUZZ_CHECK(gtp_skill_set_has(&c, i), "match cleared bit %zu", i);

    /* each matched id is one of the taxonomy's and finds itself */
    for (size_t i = 0; i < count; i++)
        if (gtp_skill_set_has(&a, i))
            FUZZ_CHECK(gtp_skills_find(sk, gtp_skills_id(sk, i)) == (int)i, "id lookup");

    /* the prefilter only skips work: without it, the same skills */
    static struct gtp_skills *ref;
    if (!ref) {
        char err[256];
        ref = gtp_skills_load(gtp_fuzz_taxonomy()->dir, err, sizeof(err));
        FUZZ_CHECK(ref != NULL, "reference matcher: %s", err);
        FUZZ_CHECK(gtp_skills_disable_prefilter(ref, err, sizeof(err)) == 0,
                   "reference pattern: %s", err);
    }
    memset(&b, 0, sizeof(b));
    gtp_skills_match(ref, text, size, &b);
    for (size_t i = 0; rc == 0 && i < count; i++)
        FUZZ_CHECK(gtp_skill_set_has(&a, i) == gtp_skill_set_has(&b, i),
                   "the prefilter changed skill %s (%d with it, %d without)", gtp_skills_id(sk, i),
                   gtp_skill_set_has(&a, i), gtp_skill_set_has(&b, i));

    /* a prefix of the text never runs past its own end either */
    if (size > 1) {
        size_t half = size / 2;
        char *pre = gtp_xmalloc(half);
        memcpy(pre, data, half);
        memset(&b, 0, sizeof(b));
        rc = gtp_skills_match(sk, pre, half, &b);
        FUZZ_CHECK(rc == 0 || rc == GTP_ERR_INTERNAL, "match returned %d", rc);
        free(pre);
    }
    free(text);
    return 0;
}
