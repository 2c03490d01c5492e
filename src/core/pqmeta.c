/* Footer metadata shared by the Parquet writers (see include/gtp/pqenc.h): SchemaElements
 * and ColumnChunks with their statistics, written field by field into a Thrift compact
 * buffer. Field numbers and enum values are parquet.thrift's; why each choice:
 * docs/parquet.md. */
#include <string.h>

#include "gtp/pqenc.h"

/* ConvertedType values (parquet.thrift) */
enum { CT_UTF8 = 0, CT_MAP = 1, CT_LIST = 3, CT_DATE = 6, CT_TIMESTAMP_MICROS = 10 };
/* LogicalType union members */
enum { LT_STRING = 1, LT_MAP = 2, LT_LIST = 3, LT_DATE = 6, LT_TIMESTAMP = 8 };

void gtp_pqenc_schema_root(struct gtp_thrift *t, size_t nelems, size_t nkids)
{
    gtp_thrift_list_begin(t, 2, GTP_THRIFT_STRUCT, nelems);
    gtp_thrift_elem_struct_begin(t);
    gtp_thrift_string(t, 4, "schema");
    gtp_thrift_i32(t, 5, (int32_t)nkids);
    gtp_thrift_struct_end(t);
}

/* converted_type (field 6) and logicalType (field 10) of lt. */
static void logical_type(struct gtp_thrift *t, enum gtp_pqenc_logical lt)
{
    static const int converted[] = {
        [GTP_PQENC_LT_STRING] = CT_UTF8, [GTP_PQENC_LT_TIMESTAMP_MICROS] = CT_TIMESTAMP_MICROS,
        [GTP_PQENC_LT_DATE] = CT_DATE,   [GTP_PQENC_LT_LIST] = CT_LIST,
        [GTP_PQENC_LT_MAP] = CT_MAP,
    };
    static const int member[] = {
        [GTP_PQENC_LT_STRING] = LT_STRING, [GTP_PQENC_LT_TIMESTAMP_MICROS] = LT_TIMESTAMP,
        [GTP_PQENC_LT_DATE] = LT_DATE,     [GTP_PQENC_LT_LIST] = LT_LIST,
        [GTP_PQENC_LT_MAP] = LT_MAP,
    };
    if (lt == GTP_PQENC_LT_NONE)
        return;
    gtp_thrift_i32(t, 6, converted[lt]);
    gtp_thrift_struct_begin(t, 10);
    if (lt == GTP_PQENC_LT_TIMESTAMP_MICROS) {
        gtp_thrift_struct_begin(t, LT_TIMESTAMP);
        gtp_thrift_bool(t, 1, true);   /* isAdjustedToUTC */
        gtp_thrift_struct_begin(t, 2); /* unit */
        gtp_thrift_empty_struct(t, 2); /* MICROS */
        gtp_thrift_struct_end(t);
        gtp_thrift_struct_end(t);
    } else {
        gtp_thrift_empty_struct(t, member[lt]);
    }
    gtp_thrift_struct_end(t);
}

void gtp_pqenc_schema_elem(struct gtp_thrift *t, const char *name, int type, int rep, size_t nkids,
                           enum gtp_pqenc_logical lt)
{
    bool leaf = nkids == 0 && type >= 0;
    gtp_thrift_elem_struct_begin(t);
    if (leaf)
        gtp_thrift_i32(t, 1, type);
    gtp_thrift_i32(t, 3, rep);
    gtp_thrift_string(t, 4, name);
    if (!leaf)
        gtp_thrift_i32(t, 5, (int32_t)nkids);
    logical_type(t, lt);
    gtp_thrift_struct_end(t);
}

/* Statistics (field 12 of ColumnMetaData). */
static void statistics(struct gtp_thrift *t, const struct gtp_pqenc_chunk_meta *cm, int type,
                       const struct gtp_pqenc_leaf *l)
{
    uint8_t mn[8], mx[8];
    const uint8_t *mnp = mn, *mxp = mx;
    size_t mnl = 0, mxl = 0;
    bool integer = type == GTP_PQENC_INT64 || type == GTP_PQENC_INT32;

    if (cm->has_minmax) {
        if (type == GTP_PQENC_BYTE_ARRAY) {
            mnp = gtp_pqenc_leaf_value(l, cm->min_v, &mnl);
            mxp = gtp_pqenc_leaf_value(l, cm->max_v, &mxl);
        } else if (type == GTP_PQENC_INT64) {
            gtp_pqenc_le64(mn, (uint64_t)cm->min_i);
            gtp_pqenc_le64(mx, (uint64_t)cm->max_i);
            mnl = mxl = 8;
        } else if (type == GTP_PQENC_INT32) {
            gtp_pqenc_le32(mn, (uint32_t)(int32_t)cm->min_i);
            gtp_pqenc_le32(mx, (uint32_t)(int32_t)cm->max_i);
            mnl = mxl = 4;
        } else {
            mn[0] = (uint8_t)cm->min_i;
            mx[0] = (uint8_t)cm->max_i;
            mnl = mxl = 1;
        }
    }
    gtp_thrift_struct_begin(t, 12);
    /* The legacy signed-order fields mean the same only for the integer types. */
    if (cm->has_minmax && integer) {
        gtp_thrift_binary(t, 1, mxp, mxl);
        gtp_thrift_binary(t, 2, mnp, mnl);
    }
    gtp_thrift_i64(t, 3, cm->null_count);
    if (cm->has_minmax) {
        gtp_thrift_binary(t, 5, mxp, mxl);
        gtp_thrift_binary(t, 6, mnp, mnl);
        gtp_thrift_bool(t, 7, true);
        gtp_thrift_bool(t, 8, true);
    }
    gtp_thrift_struct_end(t);
}

void gtp_pqenc_column_chunk(struct gtp_thrift *t, const struct gtp_pqenc_chunk_meta *cm, int type,
                            const struct gtp_pqenc_leaf *l, const char *const *path, size_t npath,
                            enum gtp_parquet_codec codec)
{
    gtp_thrift_elem_struct_begin(t);
    gtp_thrift_i64(t, 2, cm->start);
    gtp_thrift_struct_begin(t, 3); /* ColumnMetaData */
    gtp_thrift_i32(t, 1, type);
    gtp_thrift_list_begin(t, 2, GTP_THRIFT_I32, cm->dict ? 3 : 2);
    gtp_thrift_elem_i32(t, GTP_PQENC_PLAIN);
    gtp_thrift_elem_i32(t, GTP_PQENC_RLE);
    if (cm->dict)
        gtp_thrift_elem_i32(t, GTP_PQENC_RLE_DICTIONARY);
    gtp_thrift_list_begin(t, 3, GTP_THRIFT_BINARY, npath);
    for (size_t k = 0; k < npath; k++)
        gtp_thrift_elem_binary(t, path[k], strlen(path[k]));
    gtp_thrift_i32(t, 4, (int32_t)codec);
    gtp_thrift_i64(t, 5, cm->num_values);
    gtp_thrift_i64(t, 6, cm->total_uncomp);
    gtp_thrift_i64(t, 7, cm->total_comp);
    gtp_thrift_i64(t, 9, cm->data_off);
    if (cm->dict)
        gtp_thrift_i64(t, 11, cm->dict_off);
    statistics(t, cm, type, l);
    /* encoding_stats: tells parquet-java whether every data page is dictionary encoded. */
    gtp_thrift_list_begin(t, 13, GTP_THRIFT_STRUCT, cm->dict ? 2 : 1);
    if (cm->dict) {
        gtp_thrift_elem_struct_begin(t);
        gtp_thrift_i32(t, 1, GTP_PQENC_PAGE_DICTIONARY);
        gtp_thrift_i32(t, 2, GTP_PQENC_PLAIN);
        gtp_thrift_i32(t, 3, 1);
        gtp_thrift_struct_end(t);
    }
    gtp_thrift_elem_struct_begin(t);
    gtp_thrift_i32(t, 1, GTP_PQENC_PAGE_DATA);
    gtp_thrift_i32(t, 2, cm->dict ? GTP_PQENC_RLE_DICTIONARY : GTP_PQENC_PLAIN);
    gtp_thrift_i32(t, 3, cm->n_data_pages);
    gtp_thrift_struct_end(t);
    gtp_thrift_struct_end(t); /* ColumnMetaData */
    gtp_thrift_struct_end(t); /* ColumnChunk */
}
