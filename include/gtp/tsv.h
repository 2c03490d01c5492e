/* Reading the taxonomy's TAB-separated files (skills, countries, US states,
 * cities, seniority cues), with every error naming the place as
 * "path:line: ...", the way compilers do, so a bad edit is found at once.
 *
 * A row is one line: the trailing LF or CRLF is dropped, empty lines and
 * lines starting with '#' are skipped, and the line is split at every TAB
 * (empty fields are kept: "a\t\tb" is three fields). Usage:
 *
 *     struct gtp_tsv t;
 *     if (gtp_tsv_open(&t, path, errstr, errstr_size)) return error;
 *     while ((rc = gtp_tsv_next(&t, errstr, errstr_size)) > 0) {
 *         if (gtp_tsv_expect(&t, 2, 3, "code<TAB>name<TAB>aliases", errstr, errstr_size)) ...
 *         ... t.field[0] ...
 *     }
 *     gtp_tsv_close(&t);
 *
 * Not thread safe; one reader per file. */
#ifndef GTP_TSV_H
#define GTP_TSV_H

#include <stddef.h>
#include <stdio.h>

/* Fields kept per row; a row may have more (nfields counts them all). */
#define GTP_TSV_MAX_FIELDS 16

struct gtp_tsv {
    char path[4096]; /* as given to gtp_tsv_open (cut if longer) */
    long line;       /* line number of the current row, from 1 */
    size_t nfields;  /* fields in the current row, all of them */
    /* the first GTP_TSV_MAX_FIELDS fields, NUL-terminated and writable (a
     * caller may split one further); those past nfields are empty strings.
     * Borrowed from the reader: valid until the next gtp_tsv_next or close. */
    char *field[GTP_TSV_MAX_FIELDS];
    FILE *fp;  /* private */
    char *buf; /* private: the current line */
    size_t cap;
};

/* Open path for reading. Returns 0, or GTP_ERR_IO with "path: <strerror>"
 * in errstr (t is then closed: gtp_tsv_close is optional). */
int gtp_tsv_open(struct gtp_tsv *t, const char *path, char *errstr, size_t errstr_size);

/* Read the next row. Returns 1 with a row in t, 0 at end of file,
 * GTP_ERR_CONFIG with "path:line: NUL byte in the line", or GTP_ERR_IO with
 * "path:line: read error" in errstr. */
int gtp_tsv_next(struct gtp_tsv *t, char *errstr, size_t errstr_size);

/* 0 when the row has min..max fields, else GTP_ERR_CONFIG with
 * "path:line: expected <what>" in errstr (what: "code<TAB>name", or NULL
 * for "N TAB-separated fields" / "N or M ..."/"N to M ..."). */
int gtp_tsv_expect(const struct gtp_tsv *t, size_t min, size_t max, const char *what, char *errstr,
                   size_t errstr_size);

/* Format "path:line: " and the message into errstr. */
void gtp_tsv_errf(const struct gtp_tsv *t, char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Close the file and free the line. NULL-safe, idempotent. */
void gtp_tsv_close(struct gtp_tsv *t);

#endif
