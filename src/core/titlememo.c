/* Job titles' level and skills, remembered per thread (see titlememo.h). */
#include "gtp/titlememo.h"
#include "gtp/strmap.h"
#include "gtp/util.h"

#include <stdlib.h>
#include <string.h>

/* The two lookups, and the slot filled when the answer fits one (else left empty). */
static enum gtp_seniority_level compute(const struct gtp_taxonomy *tx, const char *title,
                                        size_t len, struct gtp_skill_set *skills,
                                        struct gtp_title_memo_slot *s)
{
    struct gtp_skill_set own = {{0}};
    enum gtp_seniority_level level = gtp_seniority_of(tx->seniority, title, len);
    /* a PCRE2 match-limit error (the reference path only) keeps what was found and is not
     * remembered */
    int err = gtp_skills_match(tx->skills, title, len, &own);
    size_t n = 0;

    if (s)
        s->serial = 0;
    for (size_t w = 0; w < GTP_SKILLS_MAX / 64; w++) {
        skills->bits[w] |= own.bits[w];
        for (uint64_t b = own.bits[w]; b; b &= b - 1) {
            if (n < GTP_TITLE_MEMO_SKILLS && s)
                s->skills[n] = (uint16_t)(w * 64 + (size_t)__builtin_ctzll(b));
            n++;
        }
    }
    if (s && !err && n <= GTP_TITLE_MEMO_SKILLS) {
        s->serial = tx->serial;
        s->nskills = (uint8_t)n;
        s->level = (uint8_t)level;
        s->len = (uint8_t)len;
        memcpy(s->key, title, len);
    }
    return level;
}

enum gtp_seniority_level gtp_title_memo_enrich(struct gtp_title_memo *m,
                                               const struct gtp_taxonomy *tx, const char *title,
                                               size_t len, struct gtp_skill_set *skills)
{
    struct gtp_title_memo_slot *s;

    if (!title || len > GTP_TITLE_MEMO_KEY)
        return compute(tx, title, len, skills, NULL);
    if (!m->slots)
        m->slots = gtp_xcalloc(GTP_TITLE_MEMO_SLOTS, sizeof(*m->slots));
    s = &m->slots[gtp_strmap_hash(title, len) % GTP_TITLE_MEMO_SLOTS];
    if (s->serial != tx->serial || s->len != len || memcmp(s->key, title, len) != 0)
        return compute(tx, title, len, skills, s);
    for (size_t i = 0; i < s->nskills; i++)
        gtp_skill_set_add(skills, s->skills[i]);
    return (enum gtp_seniority_level)s->level;
}

void gtp_title_memo_fini(struct gtp_title_memo *m)
{
    free(m->slots);
    m->slots = NULL;
}
