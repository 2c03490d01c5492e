/* Region of a job's location string (docs/events.md): an uppercase ISO 3166-1
 * alpha-2 code (UK for the United Kingdom), REMOTE or UNKNOWN, from the data in
 * taxonomy/{countries,us_states,cities}.tsv. */
#ifndef GTP_REGION_H
#define GTP_REGION_H

#include <stddef.h>
#include <stdint.h>

/* Longest region code plus NUL ("UNKNOWN"). */
#define GTP_REGION_CODE_MAX 8
#define GTP_REGION_UNKNOWN  "UNKNOWN"
#define GTP_REGION_REMOTE   "REMOTE"

/* Opaque and immutable once loaded: lookups may run on several threads. */
struct gtp_regions;

/* Load countries.tsv, us_states.tsv and cities.tsv from taxonomy_dir.
 * Returns a new object (gtp_regions_free) or NULL with errstr naming file:line
 * (bad code, a name or alias claimed by two different codes, unknown city
 * country, unreadable file). */
struct gtp_regions *gtp_regions_load(const char *taxonomy_dir, char *errstr, size_t errstr_size);

/* NULL-safe. */
void gtp_regions_free(struct gtp_regions *rg);

/* Region code of loc[0..len) (any bytes; loc may be NULL). Recognized forms:
 * a country name, alias or code ("Germany", "Deutschland", "USA", "DE" alone
 * or after a comma), "City, Country", "City, ST[, USA]", "City, State", a
 * known city alone ("Bengaluru"), free text containing one of those
 * ("Greater London Area", "Berlin Germany"), and remote cues: "Remote" alone
 * -> REMOTE, "Remote - UK" / "Remote (Germany)" / "Remote, US" -> the country.
 * Case, accents, extra spaces and punctuation do not matter. Only the first
 * 255 bytes after normalization are examined.
 * Returns a borrowed string, valid as long as rg: the code ("DE", "UK",
 * GTP_REGION_REMOTE, GTP_REGION_UNKNOWN). Never NULL. */
const char *gtp_regions_lookup(const struct gtp_regions *rg, const char *loc, size_t len);

/* A memo of one thread's recent lookups: the same locations recur, and a
 * lookup normalizes the text and tries several keys. Zero-initialise; owned
 * by one thread; entries of a freed or reloaded gtp_regions never match
 * (each load has its own serial). */
#define GTP_REGIONS_MEMO_SLOTS 1024
#define GTP_REGIONS_MEMO_KEY   46 /* longer locations are looked up every time */
struct gtp_regions_memo_slot {
    uint64_t serial; /* 0: empty */
    const char *code;
    uint8_t len;
    char key[GTP_REGIONS_MEMO_KEY];
};
struct gtp_regions_memo {
    struct gtp_regions_memo_slot *slots; /* allocated on first use */
};

/* gtp_regions_lookup through the memo m: the same result. */
const char *gtp_regions_lookup_memo(const struct gtp_regions *rg, struct gtp_regions_memo *m,
                                    const char *loc, size_t len);

/* Free the memo's memory (m is empty and reusable afterwards). */
void gtp_regions_memo_fini(struct gtp_regions_memo *m);

/* Display name of a code ("UK" -> "United Kingdom", "REMOTE" -> "Remote"),
 * borrowed; NULL when the code is not in countries.tsv. */
const char *gtp_regions_name(const struct gtp_regions *rg, const char *code);

/* The codes of countries.tsv in file order (for dashboards): count, and the
 * borrowed code of entry i < count. */
size_t gtp_regions_count(const struct gtp_regions *rg);
const char *gtp_regions_code(const struct gtp_regions *rg, size_t i);

/* Number of distinct lookup keys loaded (names, aliases, codes, cities). */
size_t gtp_regions_keys(const struct gtp_regions *rg);

#endif
