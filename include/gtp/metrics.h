/* Prometheus metrics for the daemons (docs/programs.md): a registry of counters and
 * gauges updated lock-free from the main loop, rendered in the Prometheus text
 * exposition format, and a small libmicrohttpd server for GET /metrics and
 * GET /healthz.
 *
 * Thread safety: registration and rendering take the registry's mutex, so a
 * metric may be registered at any time; updates (gtp_metric_add/set) are single
 * C11 atomic operations and may run on any thread while the HTTP thread
 * renders. A metric handle stays valid until gtp_metrics_free(). */
#ifndef GTP_METRICS_H
#define GTP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gtp_metrics; /* the registry */
struct gtp_metric;  /* one series: a family name plus a label set */

/* New empty registry. Never NULL (aborts on OOM). */
struct gtp_metrics *gtp_metrics_new(void);

/* Frees the registry and every metric handle it gave out. NULL-safe. Stop the
 * server (gtp_metrics_server_stop) before freeing the registry it serves. */
void gtp_metrics_free(struct gtp_metrics *m);

/* Register (or look up) a counter series. name is the family name without the
 * `gtp_` prefix and `_total` suffix ("generator_events" is rendered as
 * gtp_generator_events_total); [a-z0-9_] only. help: one line, used for the
 * HELP line of the family (the first registration's text wins). labels: NULL
 * or a NULL-terminated array of key, value, key, value, ... (values are
 * escaped when rendered). All strings are copied.
 * Registering the same name and labels twice returns the same handle.
 * Returns a borrowed handle owned by the registry, or NULL when the name or a
 * label key is invalid or the name is already a gauge. */
struct gtp_metric *gtp_metrics_counter(struct gtp_metrics *m, const char *name, const char *help,
                                       const char *const *labels);

/* Same for a gauge (rendered as gtp_<name>, no suffix). */
struct gtp_metric *gtp_metrics_gauge(struct gtp_metrics *m, const char *name, const char *help,
                                     const char *const *labels);

/* Counter: add n. Gauge: add n as well (it is a double underneath). NULL-safe
 * (a no-op), so optional metrics need no checks at the call site. */
void gtp_metric_add(struct gtp_metric *mt, uint64_t n);
static inline void gtp_metric_inc(struct gtp_metric *mt)
{
    gtp_metric_add(mt, 1);
}

/* Gauge: set the value. On a counter it is ignored. NULL-safe. */
void gtp_metric_set(struct gtp_metric *mt, double v);

/* Current value (counters as a whole number). NULL -> 0. */
double gtp_metric_value(const struct gtp_metric *mt);

/* Render every family in registration order in the Prometheus text format
 * (version 0.0.4): "# HELP", "# TYPE", then one line per series.
 * Returns a new NUL-terminated string (free with free()); *len gets its length
 * when len is not NULL. */
char *gtp_metrics_render(struct gtp_metrics *m, size_t *len);

/* ---- HTTP server ---------------------------------------------------------- */

/* Health check run on the HTTP thread for GET /healthz: return true when
 * healthy; may write a short reason into detail (shown with 503). Must be
 * thread safe (read atomics/flags only). */
typedef bool (*gtp_health_fn)(void *opaque, char *detail, size_t detail_size);

struct gtp_metrics_server;

/* Serve GET/HEAD /metrics (the registry m, borrowed: it must outlive the
 * server) and /healthz (health may be NULL: always healthy) on all interfaces
 * (IPv6 dual stack when available, else IPv4) on port (0: an ephemeral port,
 * see gtp_metrics_server_port; callers implement "--metrics-port 0 disables"
 * by not starting the server). Other methods get 405, other paths 404.
 * Connection timeout, total and per-IP connection limits are set.
 * Returns a new server (runs its own thread) or NULL with errstr set. */
struct gtp_metrics_server *gtp_metrics_server_start(struct gtp_metrics *m, int port,
                                                    gtp_health_fn health, void *opaque,
                                                    char *errstr, size_t errstr_size);

/* The port actually bound (useful after port 0). */
int gtp_metrics_server_port(const struct gtp_metrics_server *s);

/* Stop the thread and free. NULL-safe. */
void gtp_metrics_server_stop(struct gtp_metrics_server *s);

#endif
