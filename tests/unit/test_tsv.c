/* The taxonomy TSV reader: comments, blank lines, CRLF, empty fields, a
 * missing final newline, long lines, rows with too many or too few fields,
 * and every error naming path:line (a missing file names the path). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gtp/err.h"
#include "gtp/tsv.h"

static char path[64];

static void write_file(const char *text, size_t n)
{
    int fd;
    snprintf(path, sizeof(path), "/tmp/gtp-test-tsv-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

static void test_rows(void **state)
{
    static const char text[] = "# comment\n"
                               "\n"
                               "a\tb\tc\n"
                               "x\t\t\r\n" /* CRLF, empty middle and last fields */
                               "\r\n"
                               "  # not a comment: does not start with '#'\n"
                               "last\tline"; /* no final newline */
    struct gtp_tsv t;
    char err[256] = "";
    (void)state;
    write_file(text, sizeof(text) - 1);
    assert_int_equal(gtp_tsv_open(&t, path, err, sizeof(err)), 0);
    assert_string_equal(t.path, path);

    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), 1);
    assert_int_equal(t.line, 3);
    assert_int_equal(t.nfields, 3);
    assert_string_equal(t.field[0], "a");
    assert_string_equal(t.field[1], "b");
    assert_string_equal(t.field[2], "c");
    assert_string_equal(t.field[3], ""); /* past nfields: empty */

    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), 1);
    assert_int_equal(t.line, 4);
    assert_int_equal(t.nfields, 3);
    assert_string_equal(t.field[0], "x");
    assert_string_equal(t.field[1], "");
    assert_string_equal(t.field[2], "");

    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), 1);
    assert_int_equal(t.line, 6);
    assert_int_equal(t.nfields, 1);
    assert_string_equal(t.field[0], "  # not a comment: does not start with '#'");

    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), 1);
    assert_int_equal(t.line, 7);
    assert_int_equal(t.nfields, 2);
    assert_string_equal(t.field[1], "line");

    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), 0);
    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), 0); /* stays at the end */
    assert_string_equal(err, "");
    gtp_tsv_close(&t);
    gtp_tsv_close(&t); /* idempotent */
    gtp_tsv_close(NULL);
    unlink(path);
}

static void test_field_count_errors(void **state)
{
    static const char text[] = "# level<TAB>cue\n"
                               "senior\tlead\n"
                               "junior\tentry\textra\n"
                               "lonely\n";
    struct gtp_tsv t;
    char err[256], want[300];
    (void)state;
    write_file(text, sizeof(text) - 1);
    assert_int_equal(gtp_tsv_open(&t, path, err, sizeof(err)), 0);
    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), 1);
    assert_int_equal(gtp_tsv_expect(&t, 2, 2, NULL, err, sizeof(err)), 0);

    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), 1);
    assert_int_equal(gtp_tsv_expect(&t, 2, 2, NULL, err, sizeof(err)), GTP_ERR_CONFIG);
    snprintf(want, sizeof(want), "%s:3: expected 2 TAB-separated fields, not 3", path);
    assert_string_equal(err, want);
    assert_int_equal(gtp_tsv_expect(&t, 4, 5, NULL, err, sizeof(err)), GTP_ERR_CONFIG);
    snprintf(want, sizeof(want), "%s:3: expected 4 or 5 TAB-separated fields, not 3", path);
    assert_string_equal(err, want);
    assert_int_equal(gtp_tsv_expect(&t, 1, 3, NULL, err, sizeof(err)), 0);

    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), 1);
    assert_int_equal(gtp_tsv_expect(&t, 2, 9, "level<TAB>cue", err, sizeof(err)), GTP_ERR_CONFIG);
    snprintf(want, sizeof(want), "%s:4: expected level<TAB>cue", path);
    assert_string_equal(err, want);
    assert_int_equal(gtp_tsv_expect(&t, 2, 9, NULL, err, sizeof(err)), GTP_ERR_CONFIG);
    snprintf(want, sizeof(want), "%s:4: expected 2 to 9 TAB-separated fields, not 1", path);
    assert_string_equal(err, want);

    gtp_tsv_errf(&t, err, sizeof(err), "cue '%s' already listed", "lead");
    snprintf(want, sizeof(want), "%s:4: cue 'lead' already listed", path);
    assert_string_equal(err, want);
    gtp_tsv_close(&t);
    unlink(path);
}

/* More fields than the reader keeps, and a line far longer than any buffer
 * it starts with. */
static void test_wide_and_long(void **state)
{
    size_t n = 0, big = 200000;
    char *text = malloc(big + 200);
    struct gtp_tsv t;
    char err[256];
    (void)state;
    for (int i = 0; i < 20; i++)
        n += (size_t)sprintf(text + n, "f%d%s", i, i < 19 ? "\t" : "\n");
    memset(text + n, 'w', big);
    n += big;
    text[n++] = '\t';
    text[n++] = 'z';
    write_file(text, n);
    assert_int_equal(gtp_tsv_open(&t, path, err, sizeof(err)), 0);
    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), 1);
    assert_int_equal(t.nfields, 20); /* all counted */
    assert_string_equal(t.field[0], "f0");
    assert_string_equal(t.field[GTP_TSV_MAX_FIELDS - 1], "f15");
    assert_int_equal(gtp_tsv_expect(&t, 2, 16, NULL, err, sizeof(err)), GTP_ERR_CONFIG);
    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), 1);
    assert_int_equal(t.line, 2);
    assert_int_equal(strlen(t.field[0]), big);
    assert_string_equal(t.field[1], "z");
    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), 0);
    gtp_tsv_close(&t);
    unlink(path);
    free(text);
}

static void test_missing_and_empty(void **state)
{
    struct gtp_tsv t;
    char err[256] = "";
    (void)state;
    assert_int_equal(gtp_tsv_open(&t, "/nonexistent/dir/skills.tsv", err, sizeof(err)), GTP_ERR_IO);
    assert_string_equal(err, "/nonexistent/dir/skills.tsv: No such file or directory");
    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), 0); /* a failed open reads nothing */
    gtp_tsv_close(&t);
    /* a directory opens but cannot be read: path:line: read error */
    assert_int_equal(gtp_tsv_open(&t, "/tmp", err, sizeof(err)), 0);
    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), GTP_ERR_IO);
    assert_string_equal(err, "/tmp:1: read error");
    gtp_tsv_close(&t);
    write_file("", 0);
    assert_int_equal(gtp_tsv_open(&t, path, err, sizeof(err)), 0);
    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), 0);
    gtp_tsv_close(&t);
    unlink(path);
    /* a NUL byte would cut a field short without a word: refused, with its line */
    static const char nul[] = "a\tb\nc\0d\te\n";
    write_file(nul, sizeof(nul) - 1);
    assert_int_equal(gtp_tsv_open(&t, path, err, sizeof(err)), 0);
    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), 1);
    assert_int_equal(gtp_tsv_next(&t, err, sizeof(err)), GTP_ERR_CONFIG);
    assert_non_null(strstr(err, ":2: NUL byte in the line"));
    gtp_tsv_close(&t);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_field_count_errors),
        cmocka_unit_test(test_wide_and_long),
        cmocka_unit_test(test_missing_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
