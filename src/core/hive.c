/* Hive partition path escaping and Delta add.path URI encoding (see include/gtp/hive.h). */
#include "gtp/hive.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "gtp/err.h"
#include "gtp/util.h"

static const char HEX[] = "0123456789ABCDEF";

static bool hive_needs_escape(unsigned char c)
{
    if ((c >= 0x01 && c <= 0x1F) || c == 0x7F)
        return true;
    return strchr("\"#%'*/:=?\\{[]^", c) != NULL && c != 0;
}

/* Characters java.net.URI quotes in a path (plus '%' itself, and non-ASCII so the
 * result is plain ASCII). */
static bool uri_needs_escape(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7F)
        return true;
    return strchr("\"#%<>?[\\]^`{|}", c) != NULL;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int encode(const char *s, char *out, size_t out_size, bool (*needs)(unsigned char))
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        size_t need = needs(*p) ? 3 : 1;
        if (o + need >= out_size)
            return GTP_ERR_INVAL;
        if (need == 3) {
            out[o++] = '%';
            out[o++] = HEX[*p >> 4];
            out[o++] = HEX[*p & 15];
        } else {
            out[o++] = (char)*p;
        }
    }
    if (o >= out_size)
        return GTP_ERR_INVAL;
    out[o] = 0;
    return (int)o;
}

static int decode(const char *s, char *out, size_t out_size)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int c = *p;
        if (c == '%') {
            int hi = hexval(p[1]), lo = hi >= 0 ? hexval(p[2]) : -1;
            if (hi < 0 || lo < 0)
                return GTP_ERR_INVAL;
            c = hi * 16 + lo;
            if (c == 0)
                return GTP_ERR_INVAL;
            p += 2;
        }
        if (o + 1 >= out_size)
            return GTP_ERR_INVAL;
        out[o++] = (char)c;
    }
    if (out_size == 0)
        return GTP_ERR_INVAL;
    out[o] = 0;
    return (int)o;
}

int gtp_hive_escape(const char *value, char *out, size_t out_size)
{
    if (!value || !*value)
        value = GTP_HIVE_DEFAULT_PARTITION;
    return encode(value, out, out_size, hive_needs_escape);
}

int gtp_hive_unescape(const char *path, char *out, size_t out_size)
{
    if (strcmp(path, GTP_HIVE_DEFAULT_PARTITION) == 0) {
        if (out_size == 0)
            return GTP_ERR_INVAL;
        out[0] = 0;
        return 0;
    }
    return decode(path, out, out_size);
}

int gtp_hive_partition_dir(const char *const *names, const char *const *values, size_t n, char *out,
                           size_t out_size)
{
    size_t o = 0;
    if (out_size == 0)
        return GTP_ERR_INVAL;
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t start = o;
        if (i) {
            if (o + 1 >= out_size)
                return GTP_ERR_INVAL;
            out[o++] = '/';
            start = o;
        }
        if (!names[i] || !*names[i])
            return GTP_ERR_INVAL;
        int k = encode(names[i], out + o, out_size - o, hive_needs_escape);
        if (k < 0)
            return k;
        o += (size_t)k;
        if (o + 1 >= out_size)
            return GTP_ERR_INVAL;
        out[o++] = '=';
        k = gtp_hive_escape(values[i], out + o, out_size - o);
        if (k < 0)
            return k;
        o += (size_t)k;
        if (o - start > GTP_HIVE_MAX_COMPONENT)
            return GTP_ERR_INVAL;
    }
    out[o] = 0;
    return (int)o;
}

int gtp_hive_uri_encode(const char *path, char *out, size_t out_size)
{
    return encode(path, out, out_size, uri_needs_escape);
}

int gtp_hive_uri_decode(const char *uri, char *out, size_t out_size)
{
    return decode(uri, out, out_size);
}

int gtp_hive_mkdirs(const char *root, const char *rel, char *errstr, size_t errstr_size)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", root, rel);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        gtp_errf(errstr, errstr_size, "path too long: %s/%s", root, rel);
        return GTP_ERR_INVAL;
    }
    /* Refuse absolute paths and dot components: rel comes from data. */
    if (rel[0] == '/') {
        gtp_errf(errstr, errstr_size, "partition path must be relative: %s", rel);
        return GTP_ERR_INVAL;
    }
    for (const char *c = rel; *c;) {
        size_t len = strcspn(c, "/");
        if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.')) {
            gtp_errf(errstr, errstr_size, "bad partition path: %s", rel);
            return GTP_ERR_INVAL;
        }
        c += len;
        if (*c == '/')
            c++;
    }
    size_t rootlen = strlen(root);
    for (char *p = path + rootlen + 1;; p++) {
        if (*p != '/' && *p != 0)
            continue;
        char save = *p;
        *p = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            int e = errno;
            gtp_errf(errstr, errstr_size, "mkdir %s: %s", path, strerror(e));
            return e == ENOSPC || e == EDQUOT ? GTP_ERR_NOSPACE : GTP_ERR_IO;
        }
        *p = save;
        if (!save)
            break;
    }
    return 0;
}
