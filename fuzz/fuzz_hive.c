/* Fuzz target: Hive partition paths. Escaping must round-trip, produce one
 * safe path component per column, respect every output size, and the
 * directories made from it must stay inside the archive root. */
#define _GNU_SOURCE
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "gtp/util.h"
#include "gtp/err.h"
#include "gtp/hive.h"

static const char SPECIAL[] = "\"#%'*/:=?\\{[]^";

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (ftw->level > 0)
        remove(path);
    return 0;
}

/* Every size below the needed one fails cleanly; exact-size heap buffers. */
static void check_sizes(const char *value, int need)
{
    for (int k = 0; k <= need + 1; k++) {
        char *b = gtp_xmalloc(k ? (size_t)k : 1);
        int rc = gtp_hive_escape(value, b, (size_t)k);
        if (k <= need)
            FUZZ_CHECK(rc == GTP_ERR_INVAL, "escape into %d bytes (need %d) returned %d", k,
                       need + 1, rc);
        else
            FUZZ_CHECK(rc == need, "escape into %d bytes returned %d", k, rc);
        free(b);
        if (need > 64 && k == 8)
            k = need - 2; /* long values: the ends are what matters */
    }
}

static void check_escaped(const char *value, const char *esc, int n)
{
    char back[4096];
    FUZZ_CHECK(n >= 0 && (size_t)n == strlen(esc), "escape length");
    for (const unsigned char *p = (const unsigned char *)esc; *p; p++) {
        FUZZ_CHECK(*p >= 0x20 && *p != 0x7f, "control byte 0x%02x left in \"%s\"", *p, esc);
        if (*p == '%') {
            FUZZ_CHECK(p[1] && p[2] && strchr("0123456789ABCDEF", p[1]) &&
                           strchr("0123456789ABCDEF", p[2]),
                       "bad %% escape in \"%s\"", esc);
            continue;
        }
        FUZZ_CHECK(!strchr(SPECIAL, *p), "'%c' left unescaped in \"%s\"", *p, esc);
    }
    if (!*value) {
        FUZZ_CHECK(strcmp(esc, GTP_HIVE_DEFAULT_PARTITION) == 0, "empty value -> \"%s\"", esc);
        return;
    }
    n = gtp_hive_unescape(esc, back, sizeof(back));
    /* a literal "__HIVE_DEFAULT_PARTITION__" value reads back as null, as in Spark */
    if (strcmp(value, GTP_HIVE_DEFAULT_PARTITION) == 0)
        FUZZ_CHECK(n == 0, "default marker should unescape to \"\"");
    else
        FUZZ_CHECK(n >= 0 && strcmp(back, value) == 0, "unescape(escape(\"%s\")) = \"%s\"", value,
                   n >= 0 ? back : "(error)");
}

static void check_dir(const char *d, size_t ncols, const char *const *names)
{
    char uri[16384], back[8192];
    const char *c = d;
    int n;
    for (size_t i = 0; i < ncols; i++) {
        size_t len = strcspn(c, "/"), nl = strlen(names[i]);
        FUZZ_CHECK(len <= GTP_HIVE_MAX_COMPONENT, "component of %zu bytes", len);
        FUZZ_CHECK(len > nl && memcmp(c, names[i], nl) == 0 && c[nl] == '=',
                   "component %zu of \"%s\" does not start with %s=", i, d, names[i]);
        c += len;
        FUZZ_CHECK((i + 1 < ncols) == (*c == '/'), "wrong number of components in \"%s\"", d);
        if (*c)
            c++;
    }
    n = gtp_hive_uri_encode(d, uri, sizeof(uri));
    FUZZ_CHECK(n >= 0, "uri_encode failed on \"%s\"", d);
    for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
        FUZZ_CHECK(*p > 0x20 && *p < 0x7f && !strchr(" \"#<>?[\\]^`{|}", *p),
                   "uri \"%s\" holds 0x%02x", uri, *p);
    n = gtp_hive_uri_decode(uri, back, sizeof(back));
    FUZZ_CHECK(n >= 0 && strcmp(back, d) == 0, "uri round trip: \"%s\" -> \"%s\" -> \"%s\"", d, uri,
               n >= 0 ? back : "(error)");
}

/* Create root/rel and check that every directory made is under root. */
static void check_mkdirs(const char *rel, int must_succeed)
{
    const char *root = gtp_fuzz_tmpdir();
    char errstr[256], path[PATH_MAX + 8], real[PATH_MAX], realroot[PATH_MAX];
    int rc = gtp_hive_mkdirs(root, rel, errstr, sizeof(errstr));
    if (must_succeed)
        FUZZ_CHECK(rc == 0, "mkdirs \"%s\": %s", rel, errstr);
    if (rc == 0) {
        FUZZ_CHECK(realpath(root, realroot), "realpath root");
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        FUZZ_CHECK(realpath(path, real), "made \"%s\" but cannot resolve it", rel);
        /* "" names the root itself; anything else must be strictly inside */
        FUZZ_CHECK(strncmp(real, realroot, strlen(realroot)) == 0 &&
                       (real[strlen(realroot)] == '/' || (!*rel && !real[strlen(realroot)])),
                   "\"%s\" escaped the root: %s", rel, real);
    }
    nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int gtp_fuzz_hive(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"date_posted", "region"};
    struct fuzz_in in = {data, size};
    uint8_t mode = fuzz_u8(&in);
    char *v1 = fuzz_bytes(&in, 300, NULL);
    char *v2 = fuzz_bytes(&in, 300, NULL);
    char esc[1024], dir[2048];
    const char *values[2];
    int n;

    n = gtp_hive_escape(v1, esc, sizeof(esc));
    FUZZ_CHECK(n >= 0, "escape of %zu bytes failed", strlen(v1));
    check_escaped(v1, esc, n);
    if (mode & 1)
        check_sizes(v1, n);
    FUZZ_CHECK(gtp_hive_escape(NULL, esc, sizeof(esc)) == (int)strlen(GTP_HIVE_DEFAULT_PARTITION),
               "NULL value");

    values[0] = (mode & 2) ? NULL : v1;
    values[1] = v2;
    n = gtp_hive_partition_dir(names, values, 2, dir, sizeof(dir));
    if (n >= 0) {
        FUZZ_CHECK((size_t)n == strlen(dir), "partition_dir length");
        check_dir(dir, 2, names);
        if ((mode & 0x1c) == 0x04)
            check_mkdirs(dir, 1);
    } else {
        /* only a component over NAME_MAX may fail with this buffer */
        char e1[1024], e2[1024];
        int a = gtp_hive_escape(values[0], e1, sizeof(e1));
        int b = gtp_hive_escape(values[1], e2, sizeof(e2));
        FUZZ_CHECK(a + 12 > GTP_HIVE_MAX_COMPONENT || b + 7 > GTP_HIVE_MAX_COMPONENT,
                   "partition_dir failed on short values");
    }

    /* raw, unescaped data as a relative path: refused or kept inside the root */
    if ((mode & 0x1c) == 0x08)
        check_mkdirs(v2, 0);

    free(v1);
    free(v2);
    return 0;
}
