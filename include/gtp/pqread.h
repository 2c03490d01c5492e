/* Parquet reader for the archive's data files, so the archiver can read its own files back
 * into rows (compaction rewrites the small files of a partition into one, docs/archive.md).
 *
 *     r = gtp_pqread_open(path, errstr, sizeof errstr);         NULL + reason on failure
 *     while ((rc = gtp_pqread_next(r, &row, errstr, sizeof errstr)) == 1)
 *         gtp_parquet_add_row(w, &row, errstr, sizeof errstr);
 *     gtp_pqread_close(r);                                       rc: 0 at the end, or < 0
 *
 * Accepted: exactly the schema of gtp/parquet.h, same columns in the same order with the
 * same physical types, logical/converted types (at least one of the two, and every one
 * present must agree) and repetitions; skills_array as the 3-level list `OPTIONAL group
 * (LIST) { REPEATED group list { OPTIONAL BYTE_ARRAY STRING <any name> } }`. Anything else is
 * refused with the column named. Codecs UNCOMPRESSED, SNAPPY, ZSTD; data pages v1 with RLE
 * levels; values PLAIN or dictionary-encoded (a PLAIN / PLAIN_DICTIONARY dictionary page
 * first in the chunk, RLE_DICTIONARY / PLAIN_DICTIONARY data pages; both may mix in a chunk
 * after a writer's dictionary fallback), booleans PLAIN or RLE; any number of row groups
 * and pages, pages that start inside a list included. Index pages are skipped; statistics,
 * page indexes, bloom filters and key/value metadata are ignored. Refused: data pages v2,
 * other codecs and encodings (DELTA_*, BYTE_STREAM_SPLIT), encrypted files, column data in
 * other files (file_path), dictionaries for BOOLEAN.
 *
 * Files written by gtp/parquet.h and by pyarrow (tests/integration/test_pqread_readers.py)
 * read back as the rows written: reading a file and adding its rows to a writer with the
 * same options gives a byte-identical file (tests/unit/test_pqread.c).
 *
 * The input is untrusted. Every offset, length, count, level and dictionary index is
 * checked; a malformed or truncated file gives GTP_ERR_PARSE with the reason (the column,
 * row group and file offset where it applies), never a crash or unbounded work: a page or
 * dictionary may hold at most min(GTP_PQREAD_MAX_PAGE, max(1024 x the file size,
 * GTP_PARQUET_MAX_VALUE + 1 MiB)) uncompressed bytes (a decompressor must produce exactly
 * the header's size), levels and indexes are decoded as they are consumed (a run of two
 * billion nulls costs no memory), and one row may hold at most GTP_PQREAD_MAX_ROW_BYTES
 * and GTP_PQREAD_MAX_SKILLS skills. Memory: one decompressed page and dictionary per column,
 * plus the current row. A row the reader returns is one gtp_parquet_add_row accepts
 * (strings are valid UTF-8 of at most GTP_PARQUET_MAX_VALUE bytes; a skill holding a NUL
 * byte, which a row cannot carry, is refused as GTP_ERR_PARSE).
 *
 * Not thread safe: one reader per thread (readers are independent). */
#ifndef GTP_PQREAD_H
#define GTP_PQREAD_H

#include <stddef.h>
#include <stdint.h>

#include "gtp/parquet.h"

/* Largest uncompressed page or dictionary accepted: the writer's largest page_bytes option
 * (256 MiB) plus the row that closes the page. */
#define GTP_PQREAD_MAX_PAGE ((size_t)(256u << 20) + 2 * (size_t)GTP_PARQUET_MAX_VALUE)
/* Largest row (all its strings together) and list: a raw message is at most 1 MiB (docs/events.md),
 * so a real row is far below; the writer's own list limit. */
#define GTP_PQREAD_MAX_ROW_BYTES (8 * (size_t)GTP_PARQUET_MAX_VALUE)
#define GTP_PQREAD_MAX_SKILLS    1000000

struct gtp_pqread;

/* Open the Parquet file at path and check its footer and schema. The file is mapped, not
 * copied: data files are immutable once published (written to a temp file, then renamed),
 * and an unlink or a rename over it leaves the mapping intact. Returns a new reader, or NULL
 * with the reason in errstr (I/O error, or the file is not an archive file). */
struct gtp_pqread *gtp_pqread_open(const char *path, char *errstr, size_t errstr_size);

/* The same over size bytes at data: borrowed, they must outlive the reader. */
struct gtp_pqread *gtp_pqread_open_mem(const void *data, size_t size, char *errstr,
                                       size_t errstr_size);

/* Release the reader (and its mapping). Accepts NULL. */
void gtp_pqread_close(struct gtp_pqread *r);

/* Rows in the file (the footer's num_rows, checked against its row groups). */
int64_t gtp_pqread_rows(const struct gtp_pqread *r);

/* Read the next row into *row (overwritten entirely). Returns 1 with the row filled, 0 at
 * the end of the file (after exactly gtp_pqread_rows() rows and a check that no column holds
 * more values), or GTP_ERR_PARSE with the reason in errstr. After an error the reader is
 * dead: every later call returns the same error.
 *
 * The row's strings and skills array are borrowed from the reader until the next call or
 * close. Every string is NUL-terminated AND row->lens_set is true with lens[] holding the
 * byte length of each top-level string column (values may hold NUL bytes); skill elements
 * never hold NUL bytes. Null values are NULL; skills_null marks a null list, n_skills 0 an
 * empty one (skills NULL then), a NULL element a null element; is_remote is -1 (null), 0
 * or 1. */
int gtp_pqread_next(struct gtp_pqread *r, struct gtp_parquet_row *row, char *errstr,
                    size_t errstr_size);

#endif
