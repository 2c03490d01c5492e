/* gtp-enrich: raw events (JSON lines) on stdin -> one JSON object per line on
 * stdout, the enriched record or {"rejected": REASON, "detail": ...}; with
 * --text, plain-text lines -> JSON arrays of skill ids. The validation and
 * enrichment code is the daemons' own (src/core/event.c). */
#include "gtp/buf.h"
#include "gtp/cfg.h"
#include "gtp/err.h"
#include "gtp/event.h"
#include "gtp/json.h"
#include "gtp/log.h"
#include "gtp/program.h"
#include "gtp/sig.h"
#include "gtp/taxonomy.h"
#include "gtp/timeparse.h"
#include "gtp/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct enrich_cfg {
    char *taxonomy;
    char *log_level;
    bool text;
    char *now;
};

static const struct gtp_opt opts[] = {
    GTP_OPTS_TAXONOMY(struct enrich_cfg),
    GTP_OPTS_LOG(struct enrich_cfg),
    {"text", 0, "GTP_ENRICH_TEXT", GTP_OPT_BOOL, offsetof(struct enrich_cfg, text), "false", NULL,
     "treat each line as plain text and print the json array of its skill ids", 0, 0},
    {"now", 0, "GTP_NOW", GTP_OPT_STR, offsetof(struct enrich_cfg, now), NULL, "TIME",
     "reference clock for future_timestamp, rfc 3339 (default: the wall clock per line)", 0, 0},
};

static const struct gtp_cli cli = {
    "gtp-enrich",
    "validate and enrich raw job-posting events (json lines on stdin) like the processor does",
    opts,
    GTP_ARRAY_LEN(opts),
    false,
};

/* Line reader on read(2): unlike getline() it loses nothing when a signal
 * interrupts a read mid-line, and it lets us flush stdout exactly when we are
 * about to block (so gtp-enrich works as an interactive coprocess). */
struct reader {
    struct gtp_buf b; /* unread bytes are b.p[start..b.len) */
    size_t start;
    int eof;
};

/* Next line (without the newline) in line and n. Returns 1, 0 at end of input, or -1
 * when interrupted by a signal with no complete line buffered. */
static int next_line(struct reader *r, const char **line, size_t *n)
{
    for (;;) {
        char *nl = r->b.p ? memchr(r->b.p + r->start, '\n', r->b.len - r->start) : NULL;
        if (nl || (r->eof && r->b.len > r->start)) {
            size_t end = nl ? (size_t)(nl - r->b.p) : r->b.len;
            *line = r->b.p + r->start;
            *n = end - r->start;
            r->start = nl ? end + 1 : end;
            return 1;
        }
        if (r->eof)
            return 0;
        if (r->start > 0) {
            memmove(r->b.p, r->b.p + r->start, r->b.len - r->start);
            r->b.len -= r->start;
            r->start = 0;
        }
        gtp_buf_reserve(&r->b, r->b.cap ? 65536 : 1 << 20);
        if (fflush(stdout) == EOF)
            return -2;
        ssize_t got = read(STDIN_FILENO, r->b.p + r->b.len, r->b.cap - r->b.len - 1);
        if (got < 0 && errno == EINTR)
            return -1;
        if (got < 0) {
            gtp_log(GTP_LOG_ERROR, "enrich", "stdin: %s", strerror(errno));
            return -2;
        }
        if (got == 0)
            r->eof = 1;
        r->b.len += (size_t)got;
    }
}

static void reload(struct gtp_taxonomy **tx, const char *dir)
{
    char err[512];
    struct gtp_taxonomy *fresh = gtp_taxonomy_load(dir, err, sizeof(err));
    if (!fresh) {
        gtp_log(GTP_LOG_WARN, "taxonomy", "reload failed, keeping the old one: %s", err);
        return;
    }
    gtp_taxonomy_free(*tx);
    *tx = fresh;
    gtp_log(GTP_LOG_INFO, "taxonomy", "reloaded from %s", dir);
}

/* The skill ids the text names, as a JSON array, into (*buf, *cap). */
static size_t text_json(const struct gtp_skills *sk, const char *line, size_t n, char **buf,
                        size_t *cap)
{
    struct gtp_skill_set set;
    struct gtp_buf b = {.p = *buf, .cap = *buf ? *cap : 0};
    int first = 1;
    memset(&set, 0, sizeof(set));
    (void)gtp_skills_match(sk, line, n, &set);
    gtp_buf_putc(&b, '[');
    for (size_t i = 0; i < gtp_skills_count(sk); i++) {
        if (!gtp_skill_set_has(&set, i))
            continue;
        if (!first)
            gtp_buf_putc(&b, ',');
        first = 0;
        gtp_json_quote_cstr(&b, gtp_skills_id(sk, i), GTP_JSON_PLAIN);
    }
    gtp_buf_putc(&b, ']');
    *buf = b.p;
    *cap = b.cap;
    return b.len;
}

int main(int argc, char **argv)
{
    struct enrich_cfg cfg;
    struct gtp_taxonomy *tx = NULL;
    struct gtp_event ev;
    struct reader rd = {0};
    char err[512], *out = NULL;
    size_t cap = 0;
    int64_t now_us = 0;
    int rc = GTP_EXIT_OK, r;
    unsigned long long lines = 0, rejected = 0;

    memset(&cfg, 0, sizeof(cfg));
    gtp_event_init(&ev);
    if (gtp_program_init(&cli, &cfg, NULL, argc, argv, &rc))
        goto out;
    if (cfg.now && gtp_time_parse(cfg.now, strlen(cfg.now), &now_us, err, sizeof(err))) {
        fprintf(stderr, "gtp-enrich: --now '%s': %s\n", cfg.now, err);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    if (!(tx = gtp_taxonomy_load(cfg.taxonomy, err, sizeof(err)))) {
        fprintf(stderr, "gtp-enrich: --taxonomy: %s\n", err);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    gtp_log(GTP_LOG_DEBUG, "enrich", "taxonomy %s: %zu skills, %zu region keys", cfg.taxonomy,
            gtp_skills_count(tx->skills), gtp_regions_keys(tx->regions));

    while (!gtp_sig_stop) {
        const char *line;
        size_t n, len;
        if (gtp_sig_reload) {
            gtp_sig_reload = 0;
            reload(&tx, cfg.taxonomy);
        }
        r = next_line(&rd, &line, &n);
        if (r == 0)
            break;
        if (r == -1)
            continue; /* a signal: look at the flags */
        if (r < 0) {
            rc = GTP_EXIT_SOFTWARE;
            break;
        }
        lines++;
        if (cfg.text) {
            len = text_json(tx->skills, line, n, &out, &cap);
        } else {
            int64_t ref = cfg.now ? now_us : gtp_wall_us();
            if (gtp_event_process(&ev, tx, line, n, ref) == GTP_REJECT_NONE) {
                len = gtp_event_to_json(&ev, tx->skills, &out, &cap);
            } else {
                rejected++;
                len = gtp_event_reject_json(&ev, &out, &cap);
            }
        }
        out[len++] = '\n'; /* the writers always leave room for the NUL */
        if (fwrite(out, 1, len, stdout) != len) {
            gtp_log(GTP_LOG_ERROR, "enrich", "stdout: %s", strerror(errno));
            rc = GTP_EXIT_SOFTWARE;
            break;
        }
    }
    if (fflush(stdout) == EOF && rc == GTP_EXIT_OK) {
        gtp_log(GTP_LOG_ERROR, "enrich", "stdout: %s", strerror(errno));
        rc = GTP_EXIT_SOFTWARE;
    }
    gtp_log(GTP_LOG_DEBUG, "enrich", "%llu lines, %llu rejected", lines, rejected);
out:
    gtp_event_fini(&ev);
    gtp_taxonomy_free(tx);
    free(out);
    gtp_buf_fini(&rd.b);
    gtp_cfg_free(&cli, &cfg, NULL);
    return rc;
}
