/* Schema-driven Parquet writer for nested data (structs, maps, lists), written for Delta
 * Lake classic checkpoints (`NNN.checkpoint.parquet`, docs/archive.md; format choices in
 * docs/parquet.md) and usable for any small nested table. The archive's flat files keep their own,
 * faster writer (gtp/parquet.h); both share the encoders of gtp/pqenc.h.
 *
 *     s = gtp_pqnested_schema_parse(schema_json, errstr, sizeof errstr);
 *     w = gtp_pqnested_writer_new(s, NULL);                  default options: ZSTD level 3
 *     gtp_pqnested_add_row(w, row, errstr, sizeof errstr);   ... one jansson object per row
 *     gtp_pqnested_write_file(w, dir, "00000000000000000010.checkpoint.parquet", errstr, ...);
 *     gtp_pqnested_writer_free(w);
 *     gtp_pqnested_schema_free(s);
 *
 * Schema: the Spark/Delta JSON schema (Delta's `schemaString`):
 *     {"type":"struct","fields":[{"name":N,"type":T,"nullable":B,"metadata":{...}}, ...]}
 * with T one of "string" "long" "integer" "boolean" "timestamp" "date",
 *     {"type":"struct","fields":[...]},
 *     {"type":"array","elementType":T,"containsNull":B},
 *     {"type":"map","keyType":"string","valueType":T,"valueContainsNull":B}.
 * "nullable"/"containsNull"/"valueContainsNull" are required booleans; "metadata" is
 * optional and ignored. Rejected: other types (double, decimal, binary, ...), map keys
 * other than string, empty structs, empty or duplicate field names (duplicates compared
 * ignoring ASCII case, as Spark and Delta do), nesting deeper than GTP_PQNESTED_MAX_DEPTH.
 *
 * Parquet mapping: nullable -> OPTIONAL, else REQUIRED; string -> BYTE_ARRAY STRING (+UTF8);
 * long -> INT64; integer -> INT32; boolean -> BOOLEAN; timestamp -> INT64
 * TIMESTAMP(isAdjustedToUTC=true, MICROS) (+TIMESTAMP_MICROS); date -> INT32 DATE (+DATE);
 * struct -> group; array -> 3-level `<rep> group name (LIST) { repeated group list
 * { <rep> element } }`; map -> `<rep> group name (MAP) { repeated group key_value
 * { required binary key (STRING); <rep> value } }`. The root element is named "schema"
 * and has no repetition_type (DuckDB rejects one).
 *
 * Files: "PAR1", one column chunk per leaf per row group (opts.row_group_rows rows per
 * group; checkpoints fit one), data pages v1 that each start on a row boundary (cut at
 * opts.page_bytes of uncompressed values or 20,000 level entries), PLAIN values, levels in
 * the RLE / bit-packed hybrid, pages compressed with opts.codec; footer with num_rows,
 * per chunk num_values (level entries: nulls and every list/map entry counted),
 * path_in_schema, offsets, sizes, codec, statistics (null_count = entries with
 * def < max_def, as parquet-java and Arrow count; exact min/max of the non-null leaf
 * values: strings in unsigned byte order, numbers signed), column_orders = TypeDefinedOrder
 * per leaf, created_by = "gtp version <ver> (build <id>)". opts.no_dictionary is ignored:
 * this writer never builds dictionaries.
 *
 * Not thread safe: one writer per thread. A schema is immutable after parsing and may be
 * shared by writers in several threads. */
#ifndef GTP_PQNESTED_H
#define GTP_PQNESTED_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gtp/parquet.h"

/* Nesting limit of the schema (structs, arrays and maps count one level each); keeps the
 * levels in a byte and the shredder's recursion bounded. */
#define GTP_PQNESTED_MAX_DEPTH 32

struct gtp_pqnested_schema;

/* Parse a Spark/Delta JSON schema (json borrowed). Returns a new schema (free with
 * gtp_pqnested_schema_free), or NULL with the reason in errstr. */
struct gtp_pqnested_schema *gtp_pqnested_schema_parse(const char *json, char *errstr,
                                                      size_t errstr_size);
void gtp_pqnested_schema_free(struct gtp_pqnested_schema *schema); /* accepts NULL */

/* Leaf (primitive) columns, in Parquet column order (depth first). */
size_t gtp_pqnested_schema_leaves(const struct gtp_pqnested_schema *schema);

/* Leaf i's dotted Parquet path, e.g. "add.partitionValues.key_value.key" (borrowed, lives
 * as long as the schema), and its maximum definition and repetition levels. NULL / -1 when
 * i is out of range. */
const char *gtp_pqnested_schema_leaf_path(const struct gtp_pqnested_schema *schema, size_t i);
int gtp_pqnested_schema_leaf_max_def(const struct gtp_pqnested_schema *schema, size_t i);
int gtp_pqnested_schema_leaf_max_rep(const struct gtp_pqnested_schema *schema, size_t i);

struct gtp_pqnested_writer;

/* New writer for schema (borrowed: must outlive the writer); opts borrowed, NULL =
 * gtp_parquet_opts_default(). NULL when schema is NULL or an option is out of range
 * (unknown codec, zstd level, row_group_rows 0 or > INT32_MAX, page_bytes 0 or > 256 MiB). */
struct gtp_pqnested_writer *gtp_pqnested_writer_new(const struct gtp_pqnested_schema *schema,
                                                    const struct gtp_parquet_opts *opts);
void gtp_pqnested_writer_free(struct gtp_pqnested_writer *w); /* accepts NULL */

/* Buffer one row (row borrowed; the writer copies what it needs). row must be a JSON
 * object keyed by top-level field names. Values: a missing key or JSON null is null; a
 * struct is an object (its own missing keys are null), a map an object whose entries are
 * written in the object's key order (jansson keeps insertion order), an array an array;
 * long/integer: JSON integers (integer within INT32); boolean: true/false; string: a
 * JSON string (may hold NUL bytes); timestamp: integer microseconds since the epoch, UTC;
 * date: integer days since 1970-01-01 (INT32 range).
 * Returns 0, or GTP_ERR_INVAL with the field's path in errstr when row is not an object,
 * an object has a key the schema does not know (so a misspelt field is never silently
 * dropped), a value has the wrong JSON type or range, a required field / element / map
 * value is null, or a string is not well-formed UTF-8 or longer than
 * GTP_PARQUET_MAX_VALUE. A rejected row leaves the writer exactly as it was. */
int gtp_pqnested_add_row(struct gtp_pqnested_writer *w, const json_t *row, char *errstr,
                         size_t errstr_size);

/* Rows buffered. */
size_t gtp_pqnested_rows(const struct gtp_pqnested_writer *w);

/* Drop the buffered rows. */
void gtp_pqnested_reset(struct gtp_pqnested_writer *w);

/* Introspection (tests, diagnostics): the levels buffered for leaf i. *def / *rep point
 * at *n entries (borrowed, valid until the next add_row/write/reset), or are NULL when the
 * leaf's maximum level is 0 (every entry's level is 0 then). *nvals = non-null values,
 * *nulls = entries with def < max_def. Any output pointer may be NULL. Returns 0 or
 * GTP_ERR_INVAL for a bad i. */
int gtp_pqnested_leaf_levels(const struct gtp_pqnested_writer *w, size_t i, const uint8_t **def,
                             const uint8_t **rep, size_t *n, size_t *nvals, size_t *nulls);

/* Write the buffered rows as one complete file to fd, positioned at the start of an empty
 * file (offsets are counted from there). Zero rows make a valid file without row groups.
 * On success the writer is reset; on error the rows stay buffered so the caller can retry.
 * Returns 0, GTP_ERR_NOSPACE (ENOSPC/EDQUOT), GTP_ERR_IO or GTP_ERR_INTERNAL (compression
 * failure, page over 2 GiB). Does not fsync. */
int gtp_pqnested_write_fd(struct gtp_pqnested_writer *w, int fd, char *errstr, size_t errstr_size);

/* Atomic publish, as gtp_parquet_write_file: write dir/.<name>.tmp, fsync it, rename() it
 * to dir/<name> (replacing a file of that name), fsync dir; readers never see a partial
 * file. GTP_ERR_INVAL for a name that is empty, has a '/' or starts with '.'; otherwise the
 * returns of gtp_pqnested_write_fd. The writer is reset only on success. */
int gtp_pqnested_write_file(struct gtp_pqnested_writer *w, const char *dir, const char *name,
                            char *errstr, size_t errstr_size);

#endif
