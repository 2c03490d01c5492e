/* The option table of gtp-generator, and the options that need more than its checks. */
#include "options.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen.h"
#include "gtp/err.h"
#include "gtp/timeparse.h"
#include "gtp/util.h"

#define T struct gen_cfg
static const struct gtp_opt opts[] = {
    GTP_OPTS_KAFKA(T),
    {"rate", 'r', "GTP_RATE", GTP_OPT_DOUBLE, offsetof(T, rate), "0", "N",
     "mean events per simulated second, i.e. per wall second at --speed 1 (the daily cycle "
     "modulates it); 0 = as fast as possible",
     0, 1e9},
    {"count", 'n', "GTP_COUNT", GTP_OPT_INT, offsetof(T, count), "0", "N",
     "stop after N events (0 = run until SIGTERM/SIGINT)", 0, 9e18},
    {"seed", 's', "GTP_SEED", GTP_OPT_STR, offsetof(T, seed), NULL, "S",
     "PRNG seed (unsigned 64-bit); same seed and flags give the same bytes; without it the "
     "seed comes from the time",
     0, 0},
    {"chaos", 0, "GTP_CHAOS", GTP_OPT_DOUBLE, offsetof(T, chaos), "0.05", "P",
     "fraction of chaotic events", 0, 1},
    {"chaos-kinds", 0, "GTP_CHAOS_KINDS", GTP_OPT_STR, offsetof(T, chaos_kinds), "all", "LIST",
     "comma list of chaos kinds: bad_location, bad_date, time_format, missing_field, "
     "wrong_type, malformed, invalid_utf8, oversized, html, duplicate, late, future (or all)",
     0, 0},
    {"start", 0, "GTP_START", GTP_OPT_STR, offsetof(T, start), NULL, "TIME",
     "simulated clock start: RFC 3339 time, now, or now-N{s,m,h,d}; default 2024-03-15T00:00:00Z "
     "with --seed, else now",
     0, 0},
    {"speed", 0, "GTP_SPEED", GTP_OPT_DOUBLE, offsetof(T, speed), "1", "X",
     "simulated seconds per wall second while the simulated clock is behind now", 0.0001, 1e9},
    {"out", 'o', "GTP_OUT", GTP_OPT_STR, offsetof(T, out), NULL, "FILE|-",
     "write JSON lines to FILE or stdout instead of Kafka", 0, 0},
    {"resume", 0, "GTP_RESUME", GTP_OPT_BOOL, offsetof(T, resume), "false", NULL,
     "continue the simulated clock just after the newest one already on the topic (read from "
     "the gtp.sim_us header of each partition's last message), if that is later than --start",
     0, 0},
    GTP_OPTS_LOG(T),
    GTP_OPTS_METRICS(T, "9101"),
    /* the market model (docs/events.md) */
    GTP_OPTS_TAXONOMY(T),
    {"print-model", 0, NULL, GTP_OPT_BOOL, offsetof(T, print_model), "false", NULL,
     "write the market model's expected per-skill, per-country weights at --at as JSON to "
     "stdout and exit (uses --seed, --start, --taxonomy)",
     0, 0},
    {"at", 0, NULL, GTP_OPT_STR, offsetof(T, at), NULL, "TIME",
     "simulated time for --print-model: RFC 3339, or +N{s,m,h,d} after --start (default --start)",
     0, 0},
};
#undef T

const struct gtp_cli gen_cli = {
    .program = "gtp-generator",
    .summary =
        "synthesize realistic, chaotic job-posting events into Kafka (or JSON lines with --out)\n"
        "\n"
        "Event timestamps come from a simulated clock: Poisson arrivals at --rate events per\n"
        "simulated second (100 when --rate is 0) following a daily and weekly cycle. The clock\n"
        "starts at --start; with --seed and no --start it starts at 2024-03-15T00:00:00Z, so a\n"
        "seeded run is reproducible byte for byte; without --seed the seed comes from the time\n"
        "and the clock starts now. With --rate N the generator emits events as the simulated\n"
        "clock advances at --speed X simulated seconds per wall second (--rate 0: as fast as\n"
        "possible); it never runs ahead of the wall clock: once it catches up it continues in\n"
        "real time. Backfill the last 24 h, then go live: --start now-24h --speed 3600 --rate 50;\n"
        "with --resume a second run continues after the newest event already on the topic.\n"
        "The Kafka message timestamp is always the producer's wall clock.",
    .opts = opts,
    .nopts = GTP_ARRAY_LEN(opts),
    .kafka_props = true,
};

/* The clock of a seeded run without --start (the lead's decision), so seeded
 * runs reproduce their timestamps too. */
#define SEEDED_START_US INT64_C(1710460800000000) /* 2024-03-15T00:00:00Z */
#define DEFAULT_DENSITY 100.0                     /* events per simulated second at --rate 0 */

static int parse_seed(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_start(const char *s, int64_t now_us, int64_t *out, char *err, size_t errsz)
{
    if (strcmp(s, "now") == 0) {
        *out = now_us;
        return 0;
    }
    if (strncmp(s, "now-", 4) == 0) {
        char *end;
        errno = 0;
        double v = strtod(s + 4, &end);
        double unit = 0;
        if (end != s + 4 && !errno && v >= 0 && end[0] && !end[1]) {
            unit = end[0] == 's'   ? 1
                   : end[0] == 'm' ? 60
                   : end[0] == 'h' ? 3600
                   : end[0] == 'd' ? 86400
                                   : 0;
        }
        if (unit == 0) {
            gtp_errf(err, errsz, "--start: '%s' is not now-N{s,m,h,d}", s);
            return -1;
        }
        *out = now_us - (int64_t)(v * unit * 1e6);
        return 0;
    }
    char why[128];
    if (gtp_time_parse(s, strlen(s), out, why, sizeof(why)) != 0) {
        gtp_errf(err, errsz, "--start: '%s': %s", s, why);
        return -1;
    }
    return 0;
}

int gen_options_resolve(const struct gen_cfg *cfg, int64_t now_us, struct gen_opts *go, char *err,
                        size_t errsz)
{
    bool seeded = cfg->seed != NULL;
    *go = (struct gen_opts){.chaos = cfg->chaos};
    if (seeded && parse_seed(cfg->seed, &go->seed) != 0) {
        gtp_errf(err, errsz, "--seed: '%s' is not an unsigned 64-bit integer", cfg->seed);
        return GTP_ERR_CONFIG;
    }
    if (!seeded)
        go->seed = (uint64_t)now_us ^ ((uint64_t)getpid() << 32);
    char why[256];
    if (gen_chaos_parse(cfg->chaos_kinds, &go->chaos_mask, why, sizeof(why)) != 0) {
        gtp_errf(err, errsz, "--chaos-kinds: %s", why);
        return GTP_ERR_CONFIG;
    }
    go->start_us = seeded ? SEEDED_START_US : now_us;
    if (cfg->start && parse_start(cfg->start, now_us, &go->start_us, err, errsz) != 0)
        return GTP_ERR_CONFIG;
    go->origin_us = go->start_us; /* a --resume moves the clock, not the market's trends */
    if (go->start_us > now_us + INT64_C(60000000)) {
        /* the clock never runs ahead of the wall clock: it would just wait */
        gtp_errf(err, errsz, "--start %s is in the future", cfg->start);
        return GTP_ERR_CONFIG;
    }
    go->density = cfg->rate > 0 ? cfg->rate : DEFAULT_DENSITY;
    return 0;
}
