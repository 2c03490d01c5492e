/* gtp-generator's run state, shared by main.c (the loop) and report.c (metrics, health,
 * progress and the summary). One per process. */
#ifndef GEN_APP_H
#define GEN_APP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gen.h"
#include "options.h"
#include "gtp/cfg.h"
#include "gtp/kafka.h"
#include "gtp/metrics.h"

struct app {
    struct gen_cfg cfg;
    struct gtp_kvlist kprops;
    struct gen *gen;
    struct gtp_producer *prod;
    FILE *out;
    bool out_close;
    _Atomic bool out_failed;
    struct gtp_metrics *metrics;
    struct gtp_metrics_server *server;
    struct gtp_metric *m_events, *m_bytes, *m_chaos[GEN_CHAOS_NKINDS], *m_delivered, *m_failed,
        *m_sim_time, *m_queue;
    uint64_t events, bytes, chaos_n[GEN_CHAOS_NKINDS];
    struct gtp_producer_stats last_stats;
};

/* Register the generator's metrics (docs/metrics.md) in a->metrics (created here). */
void app_metrics_setup(struct app *a);

/* Copy the producer's delivery counters and queue length into the metrics. */
void app_delivery_sync(struct app *a);

/* /readyz: the producer has no fatal error and the output file did not fail. */
bool app_health(void *opaque, char *detail, size_t detail_size);

/* The progress line on stderr (a tty), final: end it with a newline. */
void app_progress(struct app *a, int64_t t0, bool final);

/* Periodic work off the monotonic clock, at most every 250 ms: /livez beat, polled metrics,
 * the simulated clock gauge and the progress line. *last is the caller's last tick. */
void app_tick(struct app *a, int64_t *last, int64_t sim_us, bool tty, int64_t t0);

/* The summary lines on stderr after secs of running. */
void app_summary(struct app *a, double secs);

#endif
