/* gtp-generator's metrics, health, progress line and summary (docs/metrics.md). */
#include <inttypes.h>
#include <stdio.h>

#include "app.h"
#include "gtp/err.h"
#include "gtp/util.h"

bool app_health(void *opaque, char *detail, size_t detail_size)
{
    struct app *a = opaque;
    if (a->prod && gtp_producer_fatal(a->prod, detail, detail_size))
        return false;
    if (a->out_failed) {
        gtp_errf(detail, detail_size, "output write failed");
        return false;
    }
    return true;
}

void app_metrics_setup(struct app *a)
{
    a->metrics = gtp_metrics_new();
    a->m_events = gtp_metrics_counter(a->metrics, "generator_events",
                                      "events generated (including chaotic ones)", NULL);
    a->m_bytes = gtp_metrics_counter(a->metrics, "generator_bytes", "bytes of event values", NULL);
    for (int k = 0; k < GEN_CHAOS_NKINDS; k++) {
        const char *labels[] = {"kind", gen_chaos_name(k), NULL};
        a->m_chaos[k] = gtp_metrics_counter(a->metrics, "generator_chaos_events",
                                            "chaotic events by kind", labels);
    }
    a->m_delivered = gtp_metrics_counter(a->metrics, "generator_delivered",
                                         "events acknowledged by kafka", NULL);
    a->m_failed = gtp_metrics_counter(a->metrics, "generator_delivery_failed",
                                      "events kafka failed to deliver", NULL);
    a->m_sim_time = gtp_metrics_gauge(a->metrics, "generator_simulated_time_seconds",
                                      "simulated clock (unix seconds)", NULL);
    a->m_queue = gtp_metrics_gauge(a->metrics, "generator_producer_queue",
                                   "messages waiting in the producer queue", NULL);
}

void app_delivery_sync(struct app *a)
{
    if (!a->prod)
        return;
    struct gtp_producer_stats st;
    gtp_producer_stats(a->prod, &st);
    gtp_metric_add(a->m_delivered, st.delivered - a->last_stats.delivered);
    gtp_metric_add(a->m_failed, st.failed - a->last_stats.failed);
    gtp_metric_set(a->m_queue, (double)rd_kafka_outq_len(gtp_producer_handle(a->prod)));
    a->last_stats = st;
}

void app_progress(struct app *a, int64_t t0, bool final)
{
    double secs = (double)(gtp_mono_us() - t0) / 1e6;
    double pct = a->cfg.count ? 100.0 * (double)a->events / (double)a->cfg.count : 0;
    fprintf(stderr, "\r%s: %" PRIu64 "/%lld events (%.1f%%), %.0f events/s   %s", gen_cli.program,
            a->events, a->cfg.count, pct, secs > 0 ? (double)a->events / secs : 0.0,
            final ? "\n" : "");
}

/* Periodic work off the monotonic clock: metrics that are polled rather than
 * counted, and the progress line. Called every 1024 events and while pacing. */
void app_tick(struct app *a, int64_t *last, int64_t sim_us, bool tty, int64_t t0)
{
    int64_t now = gtp_mono_us();
    if (now - *last < 250000)
        return;
    *last = now;
    gtp_metrics_beat(a->metrics); /* /livez: the loop is turning */
    app_delivery_sync(a);
    gtp_metric_set(a->m_sim_time, (double)sim_us / 1e6);
    if (tty)
        app_progress(a, t0, false);
}

void app_summary(struct app *a, double secs)
{
    uint64_t chaotic = 0;
    for (int k = 0; k < GEN_CHAOS_NKINDS; k++)
        chaotic += a->chaos_n[k];
    fprintf(stderr,
            "%s: summary: %" PRIu64 " events, %" PRIu64 " bytes in %.2f s (%.0f events/s); "
            "chaotic %" PRIu64 " (%.2f%%)\n",
            gen_cli.program, a->events, a->bytes, secs, secs > 0 ? (double)a->events / secs : 0.0,
            chaotic, a->events ? 100.0 * (double)chaotic / (double)a->events : 0.0);
    fprintf(stderr, "%s: summary: chaos", gen_cli.program);
    for (int k = 0; k < GEN_CHAOS_NKINDS; k++)
        fprintf(stderr, " %s=%" PRIu64, gen_chaos_name(k), a->chaos_n[k]);
    fputc('\n', stderr);
    if (a->prod) {
        struct gtp_producer_stats st;
        gtp_producer_stats(a->prod, &st);
        fprintf(stderr,
                "%s: summary: kafka topic %s queued=%" PRIu64 " delivered=%" PRIu64
                " failed=%" PRIu64 "\n",
                gen_cli.program, a->cfg.topic, st.queued, st.delivered, st.failed);
    }
}
