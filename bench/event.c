/* Event validation benchmark: events/s of gtp_event_process() (parse +
 * enrich) and of gtp_event_parse() alone, with the fast path and with the
 * jansson-only reference path, in the same run on one core. Time is thread
 * CPU time, best of ROUNDS interleaved rounds (a loaded machine makes wall
 * time meaningless).
 *
 *   bench_event TAXONOMY_DIR EVENTS_FILE [ROUNDS]
 *
 * EVENTS_FILE: JSON lines (gtp-generator --out). Results are reported for
 * every event and for the clean (accepted) ones only. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gtp/event.h"
#include "gtp/taxonomy.h"
#include "gtp/util.h"

#include "../src/core/event_internal.h"

struct line {
    char *p;
    size_t len;
};

enum mode { FAST_PROCESS, SLOW_PROCESS, FAST_PARSE, SLOW_PARSE, NMODES };

static const char *const mode_names[NMODES] = {"process fast", "process jansson", "parse fast",
                                               "parse jansson"};

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One pass over v in mode m; returns the number of accepted events. */
static size_t run(enum mode m, struct gtp_event *ev, const struct gtp_taxonomy *tx,
                  const struct line *v, size_t n, int64_t ref_us)
{
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        enum gtp_reject r;
        switch (m) {
        case FAST_PROCESS:
            r = gtp_event_process(ev, tx, v[i].p, v[i].len, ref_us);
            break;
        case SLOW_PROCESS:
            r = gtp_event_parse_slow(ev, v[i].p, v[i].len, ref_us);
            if (r == GTP_REJECT_NONE)
                gtp_event_enrich(ev, tx);
            break;
        case FAST_PARSE:
            r = gtp_event_parse(ev, v[i].p, v[i].len, ref_us);
            break;
        default:
            r = gtp_event_parse_slow(ev, v[i].p, v[i].len, ref_us);
        }
        ok += r == GTP_REJECT_NONE;
    }
    return ok;
}

/* Best events/s of each mode over rounds, the modes interleaved per round. */
static void measure(const char *label, const struct gtp_taxonomy *tx, const struct line *v,
                    size_t n, int64_t ref_us, int rounds)
{
    double best[NMODES];
    size_t ok[NMODES] = {0};
    struct gtp_event ev;

    gtp_event_init(&ev);
    for (int m = 0; m < NMODES; m++) {
        best[m] = 1e30;
        run((enum mode)m, &ev, tx, v, n < 2000 ? n : 2000, ref_us); /* warm caches */
    }
    for (int r = 0; r < rounds; r++) {
        for (int m = 0; m < NMODES; m++) {
            double t0 = cpu_s();
            ok[m] = run((enum mode)m, &ev, tx, v, n, ref_us);
            double t = cpu_s() - t0;
            if (t < best[m])
                best[m] = t;
        }
    }
    gtp_event_fini(&ev);
    if (ok[FAST_PROCESS] != ok[SLOW_PROCESS] || ok[FAST_PARSE] != ok[SLOW_PARSE]) {
        fprintf(stderr, "paths disagree: %zu vs %zu accepted\n", ok[FAST_PROCESS],
                ok[SLOW_PROCESS]);
        exit(1);
    }
    printf("%s: %zu events, %zu accepted, best of %d rounds (thread CPU time)\n", label, n,
           ok[FAST_PROCESS], rounds);
    for (int m = 0; m < NMODES; m++)
        printf("  %-16s %10.0f events/s  %6.2f us/event\n", mode_names[m], (double)n / best[m],
               best[m] * 1e6 / (double)n);
    printf("  ratio process  %.2fx   ratio parse  %.2fx\n", best[SLOW_PROCESS] / best[FAST_PROCESS],
           best[SLOW_PARSE] / best[FAST_PARSE]);
}

int main(int argc, char **argv)
{
    char err[512], *buf = NULL;
    size_t cap = 0, n = 0, vcap = 0, nclean = 0, nfast = 0, bytes = 0;
    ssize_t got;
    struct line *v = NULL, *clean;
    struct gtp_event ev;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;

    if (argc < 3 || rounds < 1) {
        fprintf(stderr, "usage: %s TAXONOMY_DIR EVENTS_FILE [ROUNDS]\n", argv[0]);
        return 64;
    }
    struct gtp_taxonomy *tx = gtp_taxonomy_load(argv[1], err, sizeof(err));
    if (!tx) {
        fprintf(stderr, "%s\n", err);
        return 78;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 66;
    }
    while ((got = getline(&buf, &cap, f)) > 0) {
        if (buf[got - 1] == '\n')
            got--;
        if (n == vcap) {
            vcap = vcap ? vcap * 2 : 4096;
            v = gtp_xrealloc(v, vcap * sizeof(*v));
        }
        v[n].p = gtp_xmalloc((size_t)got + 1);
        memcpy(v[n].p, buf, (size_t)got);
        v[n].len = (size_t)got;
        bytes += (size_t)got;
        n++;
    }
    free(buf);
    fclose(f);
    if (n == 0) {
        fprintf(stderr, "%s: no events\n", argv[2]);
        return 65;
    }

    /* The processor's reference time: the wall clock (Kafka CreateTime). */
    int64_t ref_us = (int64_t)time(NULL) * 1000000;
    clean = gtp_xmalloc(n * sizeof(*clean));
    gtp_event_init(&ev);
    for (size_t i = 0; i < n; i++) {
        if (gtp_event_parse(&ev, v[i].p, v[i].len, ref_us) == GTP_REJECT_NONE)
            clean[nclean++] = v[i];
        nfast += (size_t)ev.parsed_fast;
    }
    gtp_event_fini(&ev);
    printf("%s: %zu events, %.1f MB, fast path taken by %.1f %%\n", argv[2], n, bytes / 1e6,
           100.0 * (double)nfast / (double)n);
    measure("all events", tx, v, n, ref_us, rounds);
    measure("clean events", tx, clean, nclean, ref_us, rounds);

    for (size_t i = 0; i < n; i++)
        free(v[i].p);
    free(v);
    free(clean);
    gtp_taxonomy_free(tx);
    return 0;
}
