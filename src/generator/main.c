/* gtp-generator: synthesizes realistic, chaotic job-posting events (docs/events.md)
 * into Kafka or a JSON-lines file, paced by a simulated clock that never runs
 * ahead of the wall clock. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "gen.h"
#include "market.h"
#include "options.h"
#include "resume.h"
#include "gtp/cfg.h"
#include "gtp/err.h"
#include "gtp/kafka.h"
#include "gtp/log.h"
#include "gtp/metrics.h"
#include "gtp/program.h"
#include "gtp/sig.h"
#include "gtp/timeparse.h"
#include "gtp/util.h"

/* Sleep up to us microseconds in short slices, serving Kafka callbacks. */
static void idle(struct app *a, int64_t us)
{
    if (us <= 0)
        return;
    if (us > 100000)
        us = 100000;
    if (a->prod) {
        gtp_producer_poll(a->prod, (int)((us + 999) / 1000));
    } else {
        struct timespec ts = {0, (long)us * 1000L};
        nanosleep(&ts, NULL);
    }
}

/* --resume: move the clock's start just past the newest simulated time already
 * on the topic when that is later, so a restarted demo continues its timeline
 * instead of producing the same hours again (docs/events.md, "Resuming"). The
 * resume point is mixed into the seed: a resumed seeded run must not repeat
 * the event ids of the run it continues, yet stays reproducible. */
static int resume_clock(struct app *a, struct gen_opts *go, char *err, size_t errsz)
{
    bool found = false;
    int64_t last_us = 0;
    char t[GTP_TIME_RFC3339_MAX];
    int rc = gen_resume_point(a->cfg.brokers, &a->kprops, a->cfg.topic, 30000, &found, &last_us,
                              err, errsz);
    if (rc != 0)
        return rc;
    if (!found) {
        gtp_log(GTP_LOG_INFO, "resume", "no earlier events on %s: starting at --start",
                a->cfg.topic);
        return 0;
    }
    gtp_time_format(last_us, t, sizeof(t));
    if (last_us < go->start_us) {
        gtp_log(GTP_LOG_INFO, "resume", "newest simulated time on %s is %s, before --start: kept",
                a->cfg.topic, t);
        return 0;
    }
    go->start_us = last_us + 1;
    go->seed ^= (uint64_t)go->start_us * UINT64_C(0x9e3779b97f4a7c15);
    gtp_log(GTP_LOG_INFO, "resume", "newest simulated time on %s is %s: continuing from there",
            a->cfg.topic, t);
    return 0;
}

int main(int argc, char **argv)
{
    static struct app app; /* zeroed; static keeps it off the small main stack */
    struct app *a = &app;
    char err[512];
    int rc = GTP_EXIT_OK;
    struct market *mk = NULL;

    if (gtp_program_init(&gen_cli, &a->cfg, &a->kprops, argc, argv, &rc))
        goto out;

    /* options that need more than the table's checks */
    struct gen_opts go;
    if (gen_options_resolve(&a->cfg, gtp_wall_us(), &go, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", gen_cli.program, err);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }

    /* the market model: what moves, where and when (docs/events.md) */
    mk = market_load(a->cfg.taxonomy, err, sizeof(err));
    if (!mk) {
        fprintf(stderr, "%s: %s\n", gen_cli.program, err);
        rc = GTP_EXIT_CONFIG;
        goto out;
    }
    go.market = mk;
    if (a->cfg.print_model) {
        int64_t at = go.start_us;
        if (a->cfg.at && market_parse_at(a->cfg.at, go.start_us, &at, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: --at: %s\n", gen_cli.program, err);
            rc = GTP_EXIT_CONFIG;
            goto out;
        }
        if (market_print(mk, stdout, go.seed, go.start_us, at) != 0)
            rc = GTP_EXIT_SOFTWARE;
        goto out;
    }

    /* output */
    if (a->cfg.out) {
        if (a->cfg.resume) {
            /* a file has no previous run to continue */
            fprintf(stderr, "%s: --resume needs Kafka output, not --out\n", gen_cli.program);
            rc = GTP_EXIT_CONFIG;
            goto out;
        }
        if (strcmp(a->cfg.out, "-") == 0) {
            a->out = stdout;
        } else {
            a->out = fopen(a->cfg.out, "w");
            if (!a->out) {
                fprintf(stderr, "%s: --out %s: %s\n", gen_cli.program, a->cfg.out, strerror(errno));
                rc = GTP_EXIT_CONFIG;
                goto out;
            }
            a->out_close = true;
        }
        /* big buffer: one write(2) per MiB instead of per 4 KiB. glibc ignores
         * the size when it allocates the buffer itself, and stdout is flushed
         * after main() returns, hence a static one. */
        static char outbuf[1 << 20];
        setvbuf(a->out, outbuf, _IOFBF, sizeof(outbuf));
    } else {
        a->prod = gtp_producer_new(a->cfg.brokers, &a->kprops, err, sizeof(err));
        if (!a->prod) {
            fprintf(stderr, "%s: %s\n", gen_cli.program, err);
            rc = GTP_EXIT_CONFIG;
            goto out;
        }
        bool exists = false;
        if (gtp_kafka_wait_ready(gtp_producer_handle(a->prod), a->cfg.topic, &exists, 20000, err,
                                 sizeof(err)) != 0) {
            gtp_log(GTP_LOG_ERROR, "kafka", "%s", err);
            rc = GTP_EXIT_UNAVAILABLE;
            goto out;
        }
        if (!exists)
            gtp_log(GTP_LOG_WARN, "kafka",
                    "topic %s does not exist yet (relying on broker auto-creation)", a->cfg.topic);
        if (a->cfg.resume && exists && resume_clock(a, &go, err, sizeof(err)) != 0) {
            gtp_log(GTP_LOG_ERROR, "kafka", "%s", err);
            rc = GTP_EXIT_UNAVAILABLE;
            goto out;
        }
    }

    app_metrics_setup(a);
    if (a->cfg.metrics_port > 0) {
        a->server = gtp_metrics_server_start(a->metrics, (int)a->cfg.metrics_port, app_health, a,
                                             err, sizeof(err));
        if (!a->server && !a->out) {
            gtp_log(GTP_LOG_ERROR, "metrics", "%s", err);
            rc = GTP_EXIT_UNAVAILABLE;
            goto out;
        }
        /* A file run beside a live daemon must not fail over the port. */
        if (!a->server)
            gtp_log(GTP_LOG_WARN, "metrics", "%s; continuing without /metrics", err);
    }

    {
        char start_txt[GTP_TIME_RFC3339_MAX];
        gtp_time_format(go.start_us, start_txt, sizeof(start_txt));
        gtp_log(GTP_LOG_INFO, "generator",
                "seed %" PRIu64 ", start %s, speed %g, rate %g/s, chaos %g, output %s", go.seed,
                start_txt, a->cfg.speed, a->cfg.rate, a->cfg.chaos,
                a->cfg.out ? a->cfg.out : a->cfg.topic);
    }

    a->gen = gen_new(&go);
    bool tty = a->cfg.count > 0 && isatty(STDERR_FILENO);
    int64_t t0 = gtp_mono_us(), last_tick = t0;
    int64_t sim0 = go.start_us;
    int64_t wall_seen = gtp_wall_us(); /* the wall clock only moves forward */
    struct gen_event ev;

    while (!gtp_sig_stop && (a->cfg.count == 0 || (long long)a->events < a->cfg.count)) {
        gen_next(a->gen, &ev);

        /* pacing: --rate follows the simulated clock at --speed, and nothing
         * is emitted before the wall clock reaches its simulated time */
        while (a->cfg.rate > 0 || ev.sim_us > wall_seen) {
            int64_t wait = 0;
            if (a->cfg.rate > 0) {
                int64_t due = t0 + (int64_t)((double)(ev.sim_us - sim0) / a->cfg.speed);
                wait = due - gtp_mono_us();
            }
            if (ev.sim_us > wall_seen) {
                wall_seen = gtp_wall_us();
                if (ev.sim_us - wall_seen > wait)
                    wait = ev.sim_us - wall_seen;
            }
            if (wait <= 1000 || gtp_sig_stop)
                break;
            if (a->out)
                fflush(a->out); /* a live stream should not sit in the buffer */
            idle(a, wait);
            app_tick(a, &last_tick, ev.sim_us, tty, t0);
        }
        if (gtp_sig_stop)
            break;

        if (a->out) {
            if (fwrite(ev.value, 1, ev.len, a->out) != ev.len || putc('\n', a->out) == EOF) {
                if (errno != EPIPE)
                    gtp_log(GTP_LOG_ERROR, "output", "write failed: %s", strerror(errno));
                a->out_failed = true;
                rc = errno == EPIPE ? GTP_EXIT_OK : GTP_EXIT_SOFTWARE;
                break;
            }
        } else {
            /* the simulated clock travels with every event, for --resume */
            char sim[24];
            int sim_len = snprintf(sim, sizeof(sim), "%" PRId64, ev.sim_us);
            struct gtp_kafka_header hdr = {GEN_SIM_HEADER, sim, (size_t)sim_len};
            int src = gtp_producer_send(a->prod, a->cfg.topic, RD_KAFKA_PARTITION_UA, ev.key,
                                        ev.key_len, ev.value, ev.len, &hdr, 1, err, sizeof(err));
            if (src != 0) {
                if (!gtp_sig_stop) {
                    gtp_log(GTP_LOG_ERROR, "kafka", "%s", err);
                    rc = GTP_EXIT_SOFTWARE;
                }
                break;
            }
        }
        a->events++;
        a->bytes += ev.len;
        gtp_metric_inc(a->m_events);
        gtp_metric_add(a->m_bytes, ev.len);
        if (ev.chaos != GEN_CHAOS_NONE) {
            a->chaos_n[ev.chaos]++;
            gtp_metric_inc(a->m_chaos[ev.chaos]);
        }

        /* periodic work, off the monotonic clock, every 1024 events */
        if ((a->events & 1023) == 0) {
            if (a->prod) {
                gtp_producer_poll(a->prod, 0);
                if (gtp_producer_fatal(a->prod, err, sizeof(err))) {
                    gtp_log(GTP_LOG_ERROR, "kafka", "stopping: %s", err);
                    rc = GTP_EXIT_SOFTWARE;
                    break;
                }
            }
            app_tick(a, &last_tick, ev.sim_us, tty, t0);
        } else if (a->prod) {
            gtp_producer_poll(a->prod, 0);
        }
    }
    if (tty)
        app_progress(a, t0, true);

    /* graceful stop: flush what is in flight, then report */
    if (a->out) {
        if (fflush(a->out) != 0 && errno != EPIPE && rc == GTP_EXIT_OK) {
            gtp_log(GTP_LOG_ERROR, "output", "flush failed: %s", strerror(errno));
            rc = GTP_EXIT_SOFTWARE;
        }
    } else if (a->prod) {
        if (gtp_producer_flush(a->prod, 30000, err, sizeof(err)) != 0) {
            gtp_log(GTP_LOG_ERROR, "kafka", "%s", err);
            if (rc == GTP_EXIT_OK)
                rc = GTP_EXIT_UNAVAILABLE;
        }
        if (gtp_producer_fatal(a->prod, err, sizeof(err)) && rc == GTP_EXIT_OK)
            rc = GTP_EXIT_SOFTWARE;
        app_delivery_sync(a);
    }
    app_summary(a, (double)(gtp_mono_us() - t0) / 1e6);

out:
    gtp_metrics_server_stop(a->server);
    gen_free(a->gen);
    market_free(mk);
    gtp_producer_free(a->prod);
    if (a->out_close && a->out)
        fclose(a->out);
    gtp_metrics_free(a->metrics);
    gtp_cfg_free(&gen_cli, &a->cfg, &a->kprops);
    return rc;
}
