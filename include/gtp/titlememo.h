/* A memo of one thread's recent job titles: titles recur far more than descriptions do (736
 * distinct among 100,000 generator postings, against 99,984 descriptions), and each one costs a
 * seniority lookup (normalize, a probe per word and n-gram) and a skill match. A title's level
 * and skills depend on the title and the taxonomy alone (gtp_skills_match only adds to its set),
 * so a remembered answer is the answer. Zero-initialise; owned by one thread; entries made
 * under another taxonomy load never match (each load has its own serial). */
#ifndef GTP_TITLEMEMO_H
#define GTP_TITLEMEMO_H

#include <stddef.h>
#include <stdint.h>

#include "gtp/seniority.h"
#include "gtp/skills.h"
#include "gtp/taxonomy.h"

#define GTP_TITLE_MEMO_SLOTS  2048 /* direct-mapped: 92 % hits on generator titles */
#define GTP_TITLE_MEMO_KEY    55   /* longer titles are looked up every time */
#define GTP_TITLE_MEMO_SKILLS 7    /* a title with more skills is looked up every time */

struct gtp_title_memo_slot {
    uint64_t serial; /* the taxonomy load's; 0: empty */
    uint16_t skills[GTP_TITLE_MEMO_SKILLS];
    uint8_t nskills, level, len;
    char key[GTP_TITLE_MEMO_KEY];
};

struct gtp_title_memo {
    struct gtp_title_memo_slot *slots; /* allocated on first use, owned */
};

/* The experience level of title[0..len) (gtp_seniority_of) and its skills added to *skills
 * (gtp_skills_match), through the memo m: the same results as those two calls. */
enum gtp_seniority_level gtp_title_memo_enrich(struct gtp_title_memo *m,
                                               const struct gtp_taxonomy *tx, const char *title,
                                               size_t len, struct gtp_skill_set *skills);

/* Free the memo's memory (m is empty and reusable afterwards). */
void gtp_title_memo_fini(struct gtp_title_memo *m);

#endif
