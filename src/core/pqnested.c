/* Schema-driven Parquet writer for nested data (see include/gtp/pqnested.h). A Spark JSON
 * schema becomes a tree of nodes that know their Dremel levels; each row is shredded into
 * per-leaf level and value arrays (rolled back if the row turns out to be invalid); a write
 * cuts those into row groups and pages with the encoders shared with the archive writer
 * (pqenc.c). Format choices: docs/parquet.md; the checkpoint schema: docs/archive.md. */
#include "gtp/pqnested.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gtp/err.h"
#include "gtp/pqenc.h"
#include "gtp/thrift.h"
#include "gtp/utf8.h"
#include "gtp/util.h"

#ifndef GTP_VERSION
#define GTP_VERSION "0.0.0"
#endif

/* Parquet enum values (parquet.thrift) */
enum {
    PT_BOOLEAN = GTP_PQENC_BOOLEAN,
    PT_INT32 = GTP_PQENC_INT32,
    PT_INT64 = GTP_PQENC_INT64,
    PT_BYTE_ARRAY = GTP_PQENC_BYTE_ARRAY
};

#define PAGE_MAX_ENTRIES 20000 /* as the archive writer: parquet-java's page row limit */

/* ------------------------------------------------------------------------------------------
 * Schema */

enum kind { K_STRING, K_LONG, K_INTEGER, K_BOOLEAN, K_TIMESTAMP, K_DATE, K_STRUCT, K_ARRAY, K_MAP };

static const struct {
    const char *name;
    enum kind kind;
    int type; /* physical */
} PRIMITIVES[] = {
    {"string", K_STRING, PT_BYTE_ARRAY},  {"long", K_LONG, PT_INT64},
    {"integer", K_INTEGER, PT_INT32},     {"boolean", K_BOOLEAN, PT_BOOLEAN},
    {"timestamp", K_TIMESTAMP, PT_INT64}, {"date", K_DATE, PT_INT32},
};

struct node {
    char *name;
    char *path; /* dotted field path ("add.partitionValues.value"), for messages */
    enum kind kind;
    bool optional;
    int def;           /* definition level of a present (non-null) value of this node */
    int rep;           /* array/map: repetition level of entries after the first */
    struct node *kids; /* struct fields; array: element; map: key, value */
    size_t nkids;
    size_t leaf0, nleaves; /* the leaves under this node are contiguous */
};

struct leaf_info {
    const struct node *node;
    int type;
    int max_def;
    int max_rep;
    char **parts; /* path_in_schema */
    size_t nparts;
    char *path; /* the parts joined with '.' */
};

struct gtp_pqnested_schema {
    struct node root;
    struct leaf_info *leaves;
    size_t nleaves;
    size_t nelems; /* SchemaElements in the footer, root included */
};

static void node_fini(struct node *n)
{
    for (size_t i = 0; i < n->nkids; i++)
        node_fini(&n->kids[i]);
    free(n->kids);
    free(n->name);
    free(n->path);
}

void gtp_pqnested_schema_free(struct gtp_pqnested_schema *schema)
{
    if (!schema)
        return;
    node_fini(&schema->root);
    for (size_t i = 0; i < schema->nleaves; i++) {
        for (size_t k = 0; k < schema->leaves[i].nparts; k++)
            free(schema->leaves[i].parts[k]);
        free(schema->leaves[i].parts);
        free(schema->leaves[i].path);
    }
    free(schema->leaves);
    free(schema);
}

static char *path_join(const char *parent, const char *name)
{
    if (!parent || !*parent)
        return gtp_xstrdup(name);
    size_t n = strlen(parent) + strlen(name) + 2;
    char *p = gtp_xmalloc(n);
    snprintf(p, n, "%s.%s", parent, name);
    return p;
}

static void node_set(struct node *n, const char *parent_path, const char *name, bool optional)
{
    n->name = gtp_xstrdup(name);
    n->path = path_join(parent_path, name);
    n->optional = optional;
}

static int parse_type(const json_t *t, struct node *n, int depth, char *errstr, size_t errstr_size);

static int need_bool(const json_t *o, const char *key, const char *path, bool *out, char *errstr,
                     size_t errstr_size)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_boolean(v)) {
        gtp_errf(errstr, errstr_size, "schema %s: \"%s\" must be true or false", path, key);
        return GTP_ERR_PARSE;
    }
    *out = json_is_true(v);
    return 0;
}

static int parse_struct(const json_t *t, struct node *n, int depth, char *errstr,
                        size_t errstr_size)
{
    const json_t *fields = json_object_get(t, "fields");
    const char *where = *n->path ? n->path : "(root)";
    if (!json_is_array(fields) || json_array_size(fields) == 0) {
        gtp_errf(errstr, errstr_size, "schema %s: a struct needs a non-empty \"fields\" array",
                 where);
        return GTP_ERR_PARSE;
    }
    n->kind = K_STRUCT;
    n->nkids = json_array_size(fields);
    n->kids = gtp_xcalloc(n->nkids, sizeof(*n->kids));
    for (size_t i = 0; i < n->nkids; i++) {
        const json_t *f = json_array_get(fields, i);
        const char *name = json_string_value(json_object_get(f, "name"));
        const json_t *md = json_object_get(f, "metadata");
        bool nullable;
        if (!json_is_object(f) || !name || !*name) {
            gtp_errf(errstr, errstr_size, "schema %s: field %zu needs a non-empty \"name\"", where,
                     i);
            return GTP_ERR_PARSE;
        }
        /* Spark and Delta treat field names case-insensitively. */
        for (size_t k = 0; k < i; k++) {
            if (strcasecmp(n->kids[k].name, name) == 0) {
                gtp_errf(errstr, errstr_size, "schema %s: duplicate field \"%s\"", where, name);
                return GTP_ERR_PARSE;
            }
        }
        char *path = path_join(n->path, name);
        int err = need_bool(f, "nullable", path, &nullable, errstr, errstr_size);
        if (!err && md && !json_is_object(md)) {
            gtp_errf(errstr, errstr_size, "schema %s: \"metadata\" must be an object", path);
            err = GTP_ERR_PARSE;
        }
        free(path);
        if (err)
            return err;
        node_set(&n->kids[i], n->path, name, nullable);
        err = parse_type(json_object_get(f, "type"), &n->kids[i], depth + 1, errstr, errstr_size);
        if (err)
            return err;
    }
    return 0;
}

static int parse_type(const json_t *t, struct node *n, int depth, char *errstr, size_t errstr_size)
{
    if (depth > GTP_PQNESTED_MAX_DEPTH) {
        gtp_errf(errstr, errstr_size, "schema %s: nested deeper than %d levels", n->path,
                 GTP_PQNESTED_MAX_DEPTH);
        return GTP_ERR_PARSE;
    }
    if (json_is_string(t)) {
        const char *s = json_string_value(t);
        for (size_t i = 0; i < GTP_ARRAY_LEN(PRIMITIVES); i++) {
            if (strcmp(s, PRIMITIVES[i].name) == 0) {
                n->kind = PRIMITIVES[i].kind;
                return 0;
            }
        }
        gtp_errf(errstr, errstr_size, "schema %s: unsupported type \"%s\"", n->path, s);
        return GTP_ERR_PARSE;
    }
    const char *tt = json_string_value(json_object_get(t, "type"));
    if (!tt) {
        gtp_errf(errstr, errstr_size,
                 "schema %s: \"type\" must be a name or an object with "
                 "a \"type\"",
                 n->path);
        return GTP_ERR_PARSE;
    }
    if (strcmp(tt, "struct") == 0)
        return parse_struct(t, n, depth, errstr, errstr_size);
    if (strcmp(tt, "array") == 0) {
        bool nullable;
        int err = need_bool(t, "containsNull", n->path, &nullable, errstr, errstr_size);
        if (err)
            return err;
        n->kind = K_ARRAY;
        n->nkids = 1;
        n->kids = gtp_xcalloc(1, sizeof(*n->kids));
        node_set(&n->kids[0], n->path, "element", nullable);
        return parse_type(json_object_get(t, "elementType"), &n->kids[0], depth + 1, errstr,
                          errstr_size);
    }
    if (strcmp(tt, "map") == 0) {
        bool nullable;
        const char *kt = json_string_value(json_object_get(t, "keyType"));
        if (!kt || strcmp(kt, "string") != 0) {
            gtp_errf(errstr, errstr_size, "schema %s: map keys must be \"string\"", n->path);
            return GTP_ERR_PARSE;
        }
        int err = need_bool(t, "valueContainsNull", n->path, &nullable, errstr, errstr_size);
        if (err)
            return err;
        n->kind = K_MAP;
        n->nkids = 2;
        n->kids = gtp_xcalloc(2, sizeof(*n->kids));
        node_set(&n->kids[0], n->path, "key", false);
        n->kids[0].kind = K_STRING;
        node_set(&n->kids[1], n->path, "value", nullable);
        return parse_type(json_object_get(t, "valueType"), &n->kids[1], depth + 1, errstr,
                          errstr_size);
    }
    gtp_errf(errstr, errstr_size, "schema %s: unsupported type \"%s\"", n->path, tt);
    return GTP_ERR_PARSE;
}

/* Levels (Dremel, docs/parquet.md): an OPTIONAL node adds one definition level, a repeated group
 * (LIST's "list", MAP's "key_value") one definition and one repetition level. Leaves are
 * numbered depth first, which is the Parquet column order. parts is the path so far. */
static void assign(struct gtp_pqnested_schema *s, struct node *n, int parent_def, int parent_rep,
                   const char **parts, size_t nparts)
{
    n->def = parent_def + (n->optional ? 1 : 0);
    n->rep = parent_rep;
    n->leaf0 = s->nleaves;
    if (nparts > 0)
        s->nelems++;
    switch (n->kind) {
    case K_STRUCT:
        for (size_t i = 0; i < n->nkids; i++) {
            parts[nparts] = n->kids[i].name;
            assign(s, &n->kids[i], n->def, parent_rep, parts, nparts + 1);
        }
        break;
    case K_ARRAY:
    case K_MAP:
        s->nelems++; /* the repeated group */
        n->rep = parent_rep + 1;
        parts[nparts] = n->kind == K_ARRAY ? "list" : "key_value";
        for (size_t i = 0; i < n->nkids; i++) {
            parts[nparts + 1] = n->kids[i].name;
            assign(s, &n->kids[i], n->def + 1, n->rep, parts, nparts + 2);
        }
        break;
    default: {
        s->leaves = gtp_xrealloc(s->leaves, (s->nleaves + 1) * sizeof(*s->leaves));
        struct leaf_info *li = &s->leaves[s->nleaves++];
        memset(li, 0, sizeof(*li));
        li->node = n;
        li->max_def = n->def;
        li->max_rep = parent_rep;
        for (size_t i = 0; i < GTP_ARRAY_LEN(PRIMITIVES); i++)
            if (PRIMITIVES[i].kind == n->kind)
                li->type = PRIMITIVES[i].type;
        li->nparts = nparts;
        li->parts = gtp_xmalloc(nparts * sizeof(char *));
        for (size_t i = 0; i < nparts; i++) {
            li->parts[i] = gtp_xstrdup(parts[i]);
            char *p = path_join(li->path, parts[i]);
            free(li->path);
            li->path = p;
        }
        break;
    }
    }
    n->nleaves = s->nleaves - n->leaf0;
}

struct gtp_pqnested_schema *gtp_pqnested_schema_parse(const char *json, char *errstr,
                                                      size_t errstr_size)
{
    struct gtp_pqnested_schema *s = NULL;
    json_t *root = NULL;
    json_error_t jerr;
    /* Deep enough for the deepest schema: each level adds at most two path parts. */
    const char *parts[2 * GTP_PQNESTED_MAX_DEPTH + 4];

    if (!json) {
        gtp_errf(errstr, errstr_size, "schema: NULL");
        goto fail;
    }
    root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        gtp_errf(errstr, errstr_size, "schema: %s (line %d column %d)", jerr.text, jerr.line,
                 jerr.column);
        goto fail;
    }
    const char *tt = json_string_value(json_object_get(root, "type"));
    if (!tt || strcmp(tt, "struct") != 0) {
        gtp_errf(errstr, errstr_size, "schema: the top level must be {\"type\":\"struct\",...}");
        goto fail;
    }
    s = gtp_xcalloc(1, sizeof(*s));
    node_set(&s->root, NULL, "", false);
    if (parse_struct(root, &s->root, 0, errstr, errstr_size) != 0)
        goto fail;
    s->nelems = 1; /* root */
    assign(s, &s->root, 0, 0, parts, 0);
    json_decref(root);
    return s;
fail:
    gtp_pqnested_schema_free(s);
    json_decref(root);
    return NULL;
}

size_t gtp_pqnested_schema_leaves(const struct gtp_pqnested_schema *schema)
{
    return schema->nleaves;
}

const char *gtp_pqnested_schema_leaf_path(const struct gtp_pqnested_schema *schema, size_t i)
{
    return i < schema->nleaves ? schema->leaves[i].path : NULL;
}

int gtp_pqnested_schema_leaf_max_def(const struct gtp_pqnested_schema *schema, size_t i)
{
    return i < schema->nleaves ? schema->leaves[i].max_def : -1;
}

int gtp_pqnested_schema_leaf_max_rep(const struct gtp_pqnested_schema *schema, size_t i)
{
    return i < schema->nleaves ? schema->leaves[i].max_rep : -1;
}

/* ------------------------------------------------------------------------------------------
 * Writer state */

/* A leaf's lengths before a row, to undo a rejected row. */
struct mark {
    size_t def, rep, data, nentries, nvals, nulls;
};

struct gtp_pqnested_writer {
    const struct gtp_pqnested_schema *s; /* borrowed */
    struct gtp_parquet_opts opts;
    char created_by[160];
    struct gtp_pqenc_leaf *leaves;
    struct mark *marks;
    size_t nrows;

    /* scratch, reused across writes */
    struct gtp_buf body;
    struct gtp_pqenc_pager pg;
    uint32_t *tmp32;
    size_t tmp32_cap;
    struct gtp_pqenc_chunk_meta *chunks;
    size_t chunks_cap;
    size_t *ecur, *vcur; /* per leaf: next entry / value to write */
};

void gtp_pqnested_reset(struct gtp_pqnested_writer *w)
{
    for (size_t i = 0; i < w->s->nleaves; i++)
        gtp_pqenc_leaf_reset(&w->leaves[i]);
    w->nrows = 0;
}

struct gtp_pqnested_writer *gtp_pqnested_writer_new(const struct gtp_pqnested_schema *schema,
                                                    const struct gtp_parquet_opts *opts)
{
    struct gtp_parquet_opts o;
    char created_by[sizeof(((struct gtp_pqnested_writer *)0)->created_by)];
    if (!schema || gtp_pqenc_opts_resolve(opts, &o, created_by, sizeof(created_by)))
        return NULL;

    struct gtp_pqnested_writer *w = gtp_xcalloc(1, sizeof(*w));
    w->s = schema;
    w->opts = o;
    memcpy(w->created_by, created_by, sizeof(created_by));
    size_t nl = schema->nleaves;
    w->leaves = gtp_xcalloc(nl, sizeof(*w->leaves));
    w->marks = gtp_xcalloc(nl, sizeof(*w->marks));
    w->ecur = gtp_xcalloc(nl, sizeof(size_t));
    w->vcur = gtp_xcalloc(nl, sizeof(size_t));
    for (size_t i = 0; i < nl; i++)
        gtp_pqenc_leaf_init(&w->leaves[i], 64);
    if (gtp_pqenc_pager_init(&w->pg, o.codec, o.zstd_level) != 0) {
        gtp_pqnested_writer_free(w);
        return NULL;
    }
    gtp_pqnested_reset(w);
    return w;
}

void gtp_pqnested_writer_free(struct gtp_pqnested_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->s->nleaves; i++)
        gtp_pqenc_leaf_fini(&w->leaves[i]);
    free(w->leaves);
    free(w->marks);
    free(w->ecur);
    free(w->vcur);
    gtp_buf_fini(&w->body);
    gtp_pqenc_pager_fini(&w->pg);
    free(w->tmp32);
    free(w->chunks);
    free(w);
}

size_t gtp_pqnested_rows(const struct gtp_pqnested_writer *w)
{
    return w->nrows;
}

int gtp_pqnested_leaf_levels(const struct gtp_pqnested_writer *w, size_t i, const uint8_t **def,
                             const uint8_t **rep, size_t *n, size_t *nvals, size_t *nulls)
{
    if (i >= w->s->nleaves)
        return GTP_ERR_INVAL;
    const struct gtp_pqenc_leaf *l = &w->leaves[i];
    const struct leaf_info *li = &w->s->leaves[i];
    if (def)
        *def = li->max_def ? l->def.u : NULL;
    if (rep)
        *rep = li->max_rep ? l->rep.u : NULL;
    if (n)
        *n = l->nentries;
    if (nvals)
        *nvals = l->nvals;
    if (nulls)
        *nulls = l->nulls;
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Shredding rows (docs/parquet.md): every leaf gets one (rep, def) entry per value, or per
 * null / empty list or map at the depth where the value stops. */

static void put_entry(struct gtp_pqnested_writer *w, size_t i, int r, int d)
{
    const struct leaf_info *li = &w->s->leaves[i];
    struct gtp_pqenc_leaf *l = &w->leaves[i];
    if (li->max_rep)
        gtp_buf_putc(&l->rep, (uint8_t)r);
    if (li->max_def)
        gtp_buf_putc(&l->def, (uint8_t)d);
    l->nentries++;
    if (d < li->max_def)
        l->nulls++;
}

/* Node n stops at definition level d: one entry for each of its leaves. */
static void put_absent(struct gtp_pqnested_writer *w, const struct node *n, int r, int d)
{
    for (size_t i = n->leaf0; i < n->leaf0 + n->nleaves; i++)
        put_entry(w, i, r, d);
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "real";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

static int wrong_type(const struct node *n, const json_t *v, const char *want, char *errstr,
                      size_t errstr_size)
{
    gtp_errf(errstr, errstr_size, "%s: expected %s, got %s", *n->path ? n->path : "row", want,
             json_type_name(v));
    return GTP_ERR_INVAL;
}

static int put_string(struct gtp_pqnested_writer *w, const struct node *n, const char *s,
                      size_t len, int r, char *errstr, size_t errstr_size)
{
    if (len > GTP_PARQUET_MAX_VALUE) {
        gtp_errf(errstr, errstr_size, "%s: value of %zu bytes exceeds the %u-byte limit", n->path,
                 len, GTP_PARQUET_MAX_VALUE);
        return GTP_ERR_INVAL;
    }
    if (!gtp_utf8_valid(s, len, NULL)) {
        gtp_errf(errstr, errstr_size, "%s: malformed UTF-8", n->path);
        return GTP_ERR_INVAL;
    }
    put_entry(w, n->leaf0, r, n->def);
    gtp_pqenc_leaf_put(&w->leaves[n->leaf0], s, len, true);
    return 0;
}

static int shred_leaf(struct gtp_pqnested_writer *w, const struct node *n, const json_t *v, int r,
                      char *errstr, size_t errstr_size)
{
    struct gtp_pqenc_leaf *l = &w->leaves[n->leaf0];
    uint8_t b[8];
    switch (n->kind) {
    case K_STRING:
        if (!json_is_string(v))
            return wrong_type(n, v, "string", errstr, errstr_size);
        return put_string(w, n, json_string_value(v), json_string_length(v), r, errstr,
                          errstr_size);
    case K_LONG:
    case K_TIMESTAMP:
        if (!json_is_integer(v))
            return wrong_type(n, v, "integer", errstr, errstr_size);
        gtp_pqenc_le64(b, (uint64_t)(int64_t)json_integer_value(v));
        put_entry(w, n->leaf0, r, n->def);
        gtp_pqenc_leaf_put(l, b, 8, false);
        return 0;
    case K_INTEGER:
    case K_DATE: {
        if (!json_is_integer(v))
            return wrong_type(n, v, "integer", errstr, errstr_size);
        json_int_t x = json_integer_value(v);
        if (x < INT32_MIN || x > INT32_MAX) {
            gtp_errf(errstr, errstr_size, "%s: %lld is out of the 32-bit range", n->path,
                     (long long)x);
            return GTP_ERR_INVAL;
        }
        gtp_pqenc_le32(b, (uint32_t)(int32_t)x);
        put_entry(w, n->leaf0, r, n->def);
        gtp_pqenc_leaf_put(l, b, 4, false);
        return 0;
    }
    case K_BOOLEAN:
        if (!json_is_boolean(v))
            return wrong_type(n, v, "boolean", errstr, errstr_size);
        b[0] = json_is_true(v) ? 1 : 0;
        put_entry(w, n->leaf0, r, n->def);
        gtp_pqenc_leaf_put(l, b, 1, false);
        return 0;
    default:
        break;
    }
    gtp_errf(errstr, errstr_size, "%s: not a leaf", n->path);
    return GTP_ERR_INTERNAL;
}

/* Shred value v (NULL = absent) of node n; r is the repetition level of its first entry. */
static int shred(struct gtp_pqnested_writer *w, const struct node *n, const json_t *v, int r,
                 char *errstr, size_t errstr_size)
{
    int err;
    if (!v || json_is_null(v)) {
        if (!n->optional) {
            gtp_errf(errstr, errstr_size, "%s: required value is null", *n->path ? n->path : "row");
            return GTP_ERR_INVAL;
        }
        put_absent(w, n, r, n->def - 1);
        return 0;
    }
    switch (n->kind) {
    case K_STRUCT: {
        if (!json_is_object(v))
            return wrong_type(n, v, "object", errstr, errstr_size);
        size_t found = 0;
        for (size_t i = 0; i < n->nkids; i++) {
            const json_t *c = json_object_get(v, n->kids[i].name);
            found += c != NULL;
            err = shred(w, &n->kids[i], c, r, errstr, errstr_size);
            if (err)
                return err;
        }
        if (found != json_object_size(v)) {
            /* Name the first key the schema does not know. jansson's iterator API takes a
             * non-const object; iterating does not modify it. */
            const char *key;
            json_t *c;
            json_object_foreach((json_t *)v, key, c)
            {
                bool known = false;
                for (size_t i = 0; i < n->nkids && !known; i++)
                    known = strcmp(n->kids[i].name, key) == 0;
                if (!known)
                    break;
            }
            gtp_errf(errstr, errstr_size, "%s: unknown field \"%s\"", *n->path ? n->path : "row",
                     key ? key : "?");
            return GTP_ERR_INVAL;
        }
        return 0;
    }
    case K_ARRAY: {
        if (!json_is_array(v))
            return wrong_type(n, v, "array", errstr, errstr_size);
        size_t len = json_array_size(v);
        if (len == 0) {
            put_absent(w, n, r, n->def);
            return 0;
        }
        for (size_t i = 0; i < len; i++) {
            err = shred(w, &n->kids[0], json_array_get(v, i), i ? n->rep : r, errstr, errstr_size);
            if (err)
                return err;
        }
        return 0;
    }
    case K_MAP: {
        if (!json_is_object(v))
            return wrong_type(n, v, "object", errstr, errstr_size);
        if (json_object_size(v) == 0) {
            put_absent(w, n, r, n->def);
            return 0;
        }
        /* Entries in the object's (insertion) order; see the const note above. */
        int rr = r;
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            err = put_string(w, &n->kids[0], json_object_iter_key(it), json_object_iter_key_len(it),
                             rr, errstr, errstr_size);
            if (!err)
                err = shred(w, &n->kids[1], json_object_iter_value(it), rr, errstr, errstr_size);
            if (err)
                return err;
            rr = n->rep;
        }
        return 0;
    }
    default:
        return shred_leaf(w, n, v, r, errstr, errstr_size);
    }
}

int gtp_pqnested_add_row(struct gtp_pqnested_writer *w, const json_t *row, char *errstr,
                         size_t errstr_size)
{
    size_t nl = w->s->nleaves;
    int err;

    if (w->nrows >= (size_t)INT32_MAX) {
        gtp_errf(errstr, errstr_size, "too many buffered rows");
        return GTP_ERR_INVAL;
    }
    if (!json_is_object(row)) {
        gtp_errf(errstr, errstr_size, "row: expected object, got %s",
                 row ? json_type_name(row) : "NULL");
        return GTP_ERR_INVAL;
    }
    /* Shred straight into the buffers and undo on error: the buffers only grow, so their
     * lengths before the row are all it takes to forget it. */
    for (size_t i = 0; i < nl; i++) {
        const struct gtp_pqenc_leaf *l = &w->leaves[i];
        w->marks[i] =
            (struct mark){l->def.len, l->rep.len, l->data.len, l->nentries, l->nvals, l->nulls};
    }
    err = shred(w, &w->s->root, row, 0, errstr, errstr_size);
    if (err) {
        for (size_t i = 0; i < nl; i++) {
            struct gtp_pqenc_leaf *l = &w->leaves[i];
            const struct mark *m = &w->marks[i];
            l->def.len = m->def;
            l->rep.len = m->rep;
            l->data.len = m->data;
            l->nentries = m->nentries;
            l->nvals = m->nvals;
            l->nulls = m->nulls;
        }
        return err;
    }
    w->nrows++;
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Column chunks and pages */

static size_t value_size(const struct gtp_pqenc_leaf *l, const struct leaf_info *li, size_t v)
{
    switch (li->type) {
    case PT_BYTE_ARRAY:
        return 4 + (size_t)(l->off[v + 1] - l->off[v]);
    case PT_INT64:
        return 8;
    case PT_INT32:
        return 4;
    default:
        return 1; /* boolean: an eighth, but a byte keeps the estimate simple */
    }
}

/* First entry after the row that starts at entry e (rows start where rep == 0). */
static size_t row_end(const struct gtp_pqenc_leaf *l, const struct leaf_info *li, size_t e)
{
    e++;
    if (li->max_rep)
        while (e < l->nentries && l->rep.u[e] != 0)
            e++;
    return e;
}

static int64_t int_at(const struct gtp_pqenc_leaf *l, const struct leaf_info *li, size_t v)
{
    const uint8_t *p = l->data.u;
    if (li->type == PT_INT64) {
        uint64_t u = 0;
        for (int k = 0; k < 8; k++)
            u |= (uint64_t)p[v * 8 + (size_t)k] << (8 * k);
        return (int64_t)u;
    }
    if (li->type == PT_INT32) {
        uint32_t u = 0;
        for (int k = 0; k < 4; k++)
            u |= (uint32_t)p[v * 4 + (size_t)k] << (8 * k);
        return (int32_t)u;
    }
    return p[v];
}

static void chunk_minmax(const struct gtp_pqenc_leaf *l, const struct leaf_info *li, size_t v0,
                         size_t v1, struct gtp_pqenc_chunk_meta *cm)
{
    cm->has_minmax = v1 > v0;
    if (!cm->has_minmax)
        return;
    if (li->type == PT_BYTE_ARRAY) {
        gtp_pqenc_leaf_minmax(l, NULL, v1 - v0, v0, &cm->min_v, &cm->max_v);
        return;
    }
    cm->min_i = INT64_MAX;
    cm->max_i = INT64_MIN;
    for (size_t v = v0; v < v1; v++) {
        int64_t x = int_at(l, li, v);
        if (x < cm->min_i)
            cm->min_i = x;
        if (x > cm->max_i)
            cm->max_i = x;
    }
}

/* PLAIN values [v0, v1) of a leaf. */
static void put_plain(struct gtp_buf *b, const struct gtp_pqenc_leaf *l, const struct leaf_info *li,
                      size_t v0, size_t v1)
{
    size_t nv = v1 - v0;
    switch (li->type) {
    case PT_BYTE_ARRAY:
        gtp_buf_reserve(b, (size_t)(l->off[v1] - l->off[v0]) + 4 * nv);
        for (size_t v = v0; v < v1; v++) {
            size_t n = (size_t)(l->off[v + 1] - l->off[v]);
            gtp_pqenc_le32(b->u + b->len, (uint32_t)n);
            memcpy(b->u + b->len + 4, l->data.u + l->off[v], n);
            b->len += 4 + n;
        }
        break;
    case PT_INT64:
        gtp_buf_put(b, l->data.u + v0 * 8, nv * 8);
        break;
    case PT_INT32:
        gtp_buf_put(b, l->data.u + v0 * 4, nv * 4);
        break;
    default: { /* BOOLEAN: bit-packed LSB first, no length */
        size_t nbytes = (nv + 7) / 8;
        gtp_buf_reserve(b, nbytes);
        memset(b->u + b->len, 0, nbytes);
        for (size_t k = 0; k < nv; k++)
            if (l->data.u[v0 + k])
                b->u[b->len + k / 8] |= (uint8_t)(1u << (k % 8));
        b->len += nbytes;
        break;
    }
    }
}

/* Write leaf i's chunk of the next nrows rows, from the leaf's cursors on. */
static int write_chunk(struct gtp_pqnested_writer *w, struct gtp_pqenc_sink *s, size_t i,
                       size_t nrows, struct gtp_pqenc_chunk_meta *cm, char *errstr,
                       size_t errstr_size)
{
    const struct leaf_info *li = &w->s->leaves[i];
    const struct gtp_pqenc_leaf *l = &w->leaves[i];
    size_t e0 = w->ecur[i], v0 = w->vcur[i], e = e0, v = v0;
    int err;

    memset(cm, 0, sizeof(*cm));
    cm->start = s->off;
    /* Data pages, each starting on a row boundary (a page must begin with rep 0). */
    while (nrows > 0) {
        size_t pe0 = e, pv0 = v, est = 0;
        do {
            size_t end = row_end(l, li, e);
            for (; e < end; e++) {
                est++;
                if (li->max_def && l->def.u[e] != li->max_def)
                    continue;
                est += value_size(l, li, v);
                v++;
            }
            nrows--;
        } while (nrows > 0 && est < w->opts.page_bytes && e - pe0 < PAGE_MAX_ENTRIES);
        if (e - pe0 > INT32_MAX) {
            gtp_errf(errstr, errstr_size, "%s: one row has too many entries for a page",
                     li->node->path);
            return GTP_ERR_INTERNAL;
        }

        struct gtp_buf *b = &w->body;
        b->len = 0;
        if (li->max_rep)
            gtp_pqenc_levels(b, l->rep.u + pe0, e - pe0, li->max_rep, &w->tmp32, &w->tmp32_cap);
        if (li->max_def)
            gtp_pqenc_levels(b, l->def.u + pe0, e - pe0, li->max_def, &w->tmp32, &w->tmp32_cap);
        put_plain(b, l, li, pv0, v);
        int64_t at = s->off;
        err = gtp_pqenc_page(&w->pg, s, GTP_PQENC_PAGE_DATA, b, (int32_t)(e - pe0), GTP_PQENC_PLAIN,
                             &cm->total_uncomp, &cm->total_comp, errstr, errstr_size);
        if (err)
            return err;
        if (cm->n_data_pages++ == 0)
            cm->data_off = at;
    }
    cm->num_values = (int64_t)(e - e0);
    cm->null_count = (int64_t)((e - e0) - (v - v0));
    chunk_minmax(l, li, v0, v, cm);
    w->ecur[i] = e;
    w->vcur[i] = v;
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Footer */

static void schema_elems(struct gtp_thrift *t, const struct node *n)
{
    static const enum gtp_pqenc_logical logical[] = {
        [K_STRING] = GTP_PQENC_LT_STRING, [K_TIMESTAMP] = GTP_PQENC_LT_TIMESTAMP_MICROS,
        [K_DATE] = GTP_PQENC_LT_DATE,     [K_ARRAY] = GTP_PQENC_LT_LIST,
        [K_MAP] = GTP_PQENC_LT_MAP,
    };
    static const int physical[] = {
        [K_STRING] = PT_BYTE_ARRAY,
        [K_LONG] = PT_INT64,
        [K_INTEGER] = PT_INT32,
        [K_BOOLEAN] = PT_BOOLEAN,
        [K_TIMESTAMP] = PT_INT64,
        [K_DATE] = PT_INT32,
        [K_STRUCT] = -1,
        [K_ARRAY] = -1,
        [K_MAP] = -1,
    };
    int rep = n->optional ? GTP_PQENC_OPTIONAL : GTP_PQENC_REQUIRED;
    bool repeated = n->kind == K_ARRAY || n->kind == K_MAP;
    /* a list or map is a group of one child, the repeated group that holds the entries */
    gtp_pqenc_schema_elem(t, n->name, physical[n->kind], rep, repeated ? 1 : n->nkids,
                          logical[n->kind]);
    if (repeated) {
        /* The repeated group: names and shape of LogicalTypes.md's 3-level forms. */
        gtp_pqenc_schema_elem(t, n->kind == K_ARRAY ? "list" : "key_value", -1, GTP_PQENC_REPEATED,
                              n->nkids, GTP_PQENC_LT_NONE);
    }
    for (size_t i = 0; i < n->nkids; i++)
        schema_elems(t, &n->kids[i]);
}

static void write_column_chunk(struct gtp_pqnested_writer *w, struct gtp_thrift *t, size_t i,
                               const struct gtp_pqenc_chunk_meta *cm)
{
    const struct leaf_info *li = &w->s->leaves[i];
    gtp_pqenc_column_chunk(t, cm, li->type, &w->leaves[i], (const char *const *)li->parts,
                           li->nparts, w->opts.codec);
}

static void footer_chunk(void *ctx, struct gtp_thrift *t, size_t g, size_t i,
                         struct gtp_pqenc_chunk_sizes *sz)
{
    struct gtp_pqnested_writer *w = ctx;
    const struct gtp_pqenc_chunk_meta *cm = &w->chunks[g * w->s->nleaves + i];
    write_column_chunk(w, t, i, cm);
    *sz = (struct gtp_pqenc_chunk_sizes){cm->start, cm->total_uncomp, cm->total_comp};
}

static void write_footer(struct gtp_pqnested_writer *w, struct gtp_pqenc_sink *s, size_t nrg)
{
    struct gtp_thrift *t = &w->pg.th;
    size_t nl = w->s->nleaves;
    const struct node *root = &w->s->root;

    gtp_thrift_reset(t);
    gtp_thrift_i32(t, 1, 1);
    gtp_pqenc_schema_root(t, w->s->nelems, root->nkids);
    for (size_t i = 0; i < root->nkids; i++)
        schema_elems(t, &root->kids[i]);
    gtp_thrift_i64(t, 3, (int64_t)w->nrows);
    gtp_pqenc_row_groups(t, nrg, nl, w->nrows, w->opts.row_group_rows, footer_chunk, w);
    gtp_pqenc_footer_finish(t, s, w->created_by, nl);
}

/* ------------------------------------------------------------------------------------------
 * Writing files */

/* Everything of gtp_pqnested_write_fd except the reset. */
static int write_fd(struct gtp_pqnested_writer *w, int fd, char *errstr, size_t errstr_size)
{
    struct gtp_pqenc_sink s = {.fd = fd};
    size_t nl = w->s->nleaves, rgrows = w->opts.row_group_rows;
    size_t nrg = (w->nrows + rgrows - 1) / rgrows;
    int err = 0;

    if (nrg * nl > w->chunks_cap) {
        w->chunks_cap = nrg * nl;
        w->chunks = gtp_xrealloc(w->chunks, w->chunks_cap * sizeof(*w->chunks));
    }
    memset(w->ecur, 0, nl * sizeof(size_t));
    memset(w->vcur, 0, nl * sizeof(size_t));
    gtp_pqenc_sink_put(&s, "PAR1", 4);
    for (size_t g = 0; g < nrg && !err && !s.err; g++) {
        size_t r0 = g * rgrows, r1 = r0 + rgrows < w->nrows ? r0 + rgrows : w->nrows;
        for (size_t i = 0; i < nl && !err; i++)
            err = write_chunk(w, &s, i, r1 - r0, &w->chunks[g * nl + i], errstr, errstr_size);
    }
    if (err)
        goto out;
    write_footer(w, &s, nrg);
    gtp_pqenc_sink_flush(&s);
    if (s.err)
        err = gtp_pqenc_io_error(s.err, "write", errstr, errstr_size);
out:
    gtp_buf_fini(&s.b);
    return err;
}

int gtp_pqnested_write_fd(struct gtp_pqnested_writer *w, int fd, char *errstr, size_t errstr_size)
{
    int err = write_fd(w, fd, errstr, errstr_size);
    if (!err)
        gtp_pqnested_reset(w);
    return err;
}

static int publish_write(void *ctx, int fd, char *errstr, size_t errstr_size)
{
    return write_fd(ctx, fd, errstr, errstr_size);
}

int gtp_pqnested_write_file(struct gtp_pqnested_writer *w, const char *dir, const char *name,
                            char *errstr, size_t errstr_size)
{
    int err = gtp_pqenc_publish(dir, name, publish_write, w, errstr, errstr_size);
    if (!err)
        gtp_pqnested_reset(w);
    return err;
}
