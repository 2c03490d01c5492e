/* Fuzz entry points (issue 9): one function per target, each taking one input
 * and aborting with a message when an invariant breaks. libFuzzer binaries call
 * them from LLVMFuzzerTestOneInput (fuzz/entry.c, built by CMake with -DGTP_FUZZ=ON);
 * tests/unit/test_fuzz_regressions.c replays tests/data/fuzz-regressions/ through
 * them in the normal build. Not thread safe (targets keep per-process state). */
#ifndef GTP_FUZZ_H
#define GTP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

struct gtp_taxonomy;

/* Every target returns 0 (libFuzzer's convention) or aborts. */
int gtp_fuzz_event(const uint8_t *data, size_t size);
int gtp_fuzz_time(const uint8_t *data, size_t size);
int gtp_fuzz_skills(const uint8_t *data, size_t size);
int gtp_fuzz_hive(const uint8_t *data, size_t size);
int gtp_fuzz_dashboard(const uint8_t *data, size_t size);
int gtp_fuzz_parquet(const uint8_t *data, size_t size);
int gtp_fuzz_pqread(const uint8_t *data, size_t size);
int gtp_fuzz_market(const uint8_t *data, size_t size);

/* The repository's taxonomy, loaded once (env GTP_TAXONOMY_DIR, else the
 * build's default); borrowed, lives until exit. Aborts when it cannot load. */
const struct gtp_taxonomy *gtp_fuzz_taxonomy(void);

/* A private temporary directory, created once and removed at exit. */
const char *gtp_fuzz_tmpdir(void);

/* Report a broken invariant with the input's size and abort (a crash for
 * libFuzzer, a failed test for ctest). */
void gtp_fuzz_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond))                                                                               \
            gtp_fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);                                        \
    } while (0)

/* Independent UTF-8 validator (RFC 3629: no overlongs, surrogates or code
 * points above U+10FFFF), written apart from the modules under test. */
int gtp_fuzz_utf8_ok(const uint8_t *s, size_t n);

/* A byte reader that carves typed values out of one input; reading past the
 * end yields zeros / empty strings. */
struct fuzz_in {
    const uint8_t *p;
    size_t n;
};
uint8_t fuzz_u8(struct fuzz_in *in);
uint64_t fuzz_u64(struct fuzz_in *in);
/* Up to max bytes, length taken from the next byte, as a new NUL-terminated
 * copy (free()); *len gets the byte count (the copy may contain NUL). */
char *fuzz_bytes(struct fuzz_in *in, size_t max, size_t *len);

#endif
