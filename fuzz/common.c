/* Shared pieces of the fuzz targets: the taxonomy, a temporary directory,
 * failure reports, an independent UTF-8 check and the input reader. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gtp/taxonomy.h"
#include "gtp/util.h"

static struct gtp_taxonomy *fuzz_tx;
static char fuzz_dir[256];

const struct gtp_taxonomy *gtp_fuzz_taxonomy(void)
{
    char errstr[256];
    const char *dir;
    if (fuzz_tx)
        return fuzz_tx;
    dir = getenv("GTP_TAXONOMY_DIR");
    if (!dir || !*dir)
        dir = GTP_TAXONOMY_DEFAULT;
    fuzz_tx = gtp_taxonomy_load(dir, errstr, sizeof(errstr));
    if (!fuzz_tx) {
        fprintf(stderr, "fuzz: taxonomy %s: %s\n", dir, errstr);
        abort();
    }
    return fuzz_tx;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void tmpdir_cleanup(void)
{
    if (fuzz_dir[0])
        nftw(fuzz_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    /* the taxonomy stays referenced by fuzz_tx until exit on purpose */
}

const char *gtp_fuzz_tmpdir(void)
{
    const char *base;
    if (fuzz_dir[0])
        return fuzz_dir;
    base = getenv("TMPDIR");
    snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/gtp-fuzz-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(fuzz_dir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(tmpdir_cleanup);
    return fuzz_dir;
}

void gtp_fuzz_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz invariant broken at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

int gtp_fuzz_utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t c = s[i], cp;
        size_t k;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            k = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            k = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            k = 4, cp = c & 0x07;
        else
            return 0;
        if (n - i < k)
            return 0;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k;
    }
    return 1;
}

uint8_t fuzz_u8(struct fuzz_in *in)
{
    uint8_t v;
    if (!in->n)
        return 0;
    v = in->p[0];
    in->p++;
    in->n--;
    return v;
}

uint64_t fuzz_u64(struct fuzz_in *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | fuzz_u8(in);
    return v;
}

char *fuzz_bytes(struct fuzz_in *in, size_t max, size_t *len)
{
    size_t n = fuzz_u8(in);
    char *s;
    if (max > 255)
        n = n * (max / 255 + 1); /* long values stay reachable with one length byte */
    if (n > max)
        n = max;
    if (n > in->n)
        n = in->n;
    s = gtp_xmalloc(n + 1);
    memcpy(s, in->p, n);
    s[n] = '\0';
    in->p += n;
    in->n -= n;
    if (len)
        *len = n;
    return s;
}
