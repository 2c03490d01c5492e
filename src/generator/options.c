/* The option table of gtp-generator. */
#include "options.h"

#include <stddef.h>

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
