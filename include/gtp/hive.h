/* Hive-style partition paths (`date_posted=2024-03-15/region=UK`) and their URI form
 * for Delta add.path (docs/archive.md, "Columns and partitions").
 *
 * Escaping follows Spark's ExternalCatalogUtils.escapePathName (copied from Hive):
 * bytes 0x01-0x1F, 0x7F and  " # % ' * / : = ? \ { [ ] ^  become %XX (uppercase hex);
 * everything else, non-ASCII included, stays. A null or empty value becomes
 * __HIVE_DEFAULT_PARTITION__. Because '/' is escaped and every component starts with
 * "<column>=", no value can climb out of the archive root (a value ".." yields the
 * directory "region=.."). All functions are thread safe and allocate nothing. */
#ifndef GTP_HIVE_H
#define GTP_HIVE_H

#include <stddef.h>

#define GTP_HIVE_DEFAULT_PARTITION "__HIVE_DEFAULT_PARTITION__"
/* Longest single path component we produce (NAME_MAX on Linux file systems). */
#define GTP_HIVE_MAX_COMPONENT 255

/* Escape one name or value into out (NUL-terminated). value NULL or "" gives
 * __HIVE_DEFAULT_PARTITION__. Returns the length, or GTP_ERR_INVAL when out_size is too
 * small. */
int gtp_hive_escape(const char *value, char *out, size_t out_size);

/* Reverse of gtp_hive_escape (percent-decoding); __HIVE_DEFAULT_PARTITION__ decodes to
 * the empty string. Returns the length or GTP_ERR_INVAL (bad %XX or out too small). */
int gtp_hive_unescape(const char *path, char *out, size_t out_size);

/* "<name>=<escaped value>" for each pair, joined by '/': the relative partition
 * directory. values[i] may be NULL (null partition value). Returns the length, or
 * GTP_ERR_INVAL when out is too small or a component exceeds GTP_HIVE_MAX_COMPONENT. */
int gtp_hive_partition_dir(const char *const *names, const char *const *values, size_t n, char *out,
                           size_t out_size);

/* URI-encode a relative path that is already Hive-escaped, for Delta add.path: '%' becomes
 * %25 (so "US%2FEast" is written "US%252FEast"), as do space, " # < > ? [ \ ] ^ ` { | },
 * controls and non-ASCII bytes; '/' and '=' stay. Returns the length or GTP_ERR_INVAL. */
int gtp_hive_uri_encode(const char *path, char *out, size_t out_size);

/* Percent-decode a Delta add.path back to the on-disk relative path. Returns the length
 * or GTP_ERR_INVAL. */
int gtp_hive_uri_decode(const char *uri, char *out, size_t out_size);

/* Create dir root/rel and its missing parents (mode 0755). rel must be relative with no
 * "." or ".." components. Returns 0, GTP_ERR_INVAL, GTP_ERR_NOSPACE or GTP_ERR_IO. */
int gtp_hive_mkdirs(const char *root, const char *rel, char *errstr, size_t errstr_size);

#endif
