/* Prometheus metrics for the daemons (docs/metrics.md): a registry of counters,
 * gauges and histograms updated lock-free from the main loop, rendered in the
 * Prometheus text exposition format, and a small libmicrohttpd server for
 * GET /metrics, /livez, /readyz and /healthz (docs/programs.md).
 *
 * Units are Prometheus base units: durations are seconds (names end in
 * `_seconds`), sizes bytes.
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

/* Bucket upper bounds (seconds) for durations from a millisecond to ten
 * seconds: flushes, rolls, http requests. */
#define GTP_METRICS_DURATION_BUCKETS                                                               \
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
/* For event lag (event time to processed): a second to a day, since the
 * generator can replay history. */
#define GTP_METRICS_LAG_BUCKETS 1, 5, 15, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600

/* Same for a histogram (rendered as gtp_<name>_bucket{le=...}, _sum, _count;
 * name it after its unit: "processor_flush_duration_seconds"). bounds: the
 * finite bucket upper bounds, strictly increasing, nbounds >= 1 (copied; +Inf
 * is implied). Returns NULL as above, or when the bounds are not increasing,
 * or a label is "le". */
struct gtp_metric *gtp_metrics_histogram(struct gtp_metrics *m, const char *name, const char *help,
                                         const double *bounds, size_t nbounds,
                                         const char *const *labels);

/* Histogram: count one observation of v (NaN is ignored). Other types: a
 * no-op. NULL-safe. Lock-free: two atomic adds and a compare-and-swap. */
void gtp_metric_observe(struct gtp_metric *mt, double v);

/* Register the metrics every daemon exposes (docs/metrics.md):
 * gtp_build_info{version="..."} 1 and the process_* family read from
 * /proc/self at each render (CPU seconds, resident and virtual memory, open
 * and max fds, start time). Idempotent. gtp_metrics_server_start calls it. */
void gtp_metrics_standard(struct gtp_metrics *m);

/* ---- liveness ------------------------------------------------------------- */

/* Default for gtp_metrics_set_stall_limit: longer than any single step of a
 * main loop (a roll, a flush against a slow redis, a compaction round). */
#define GTP_METRICS_STALL_MS_DEFAULT 60000

/* The main loop calls this once per turn: one relaxed atomic store of the
 * monotonic clock, cheap enough for every iteration. Any thread. NULL-safe. */
void gtp_metrics_beat(struct gtp_metrics *m);

/* How old the last beat may be before /livez answers 503 (ms, > 0). The
 * registry starts with GTP_METRICS_STALL_MS_DEFAULT and a beat at creation. */
void gtp_metrics_set_stall_limit(struct gtp_metrics *m, int64_t ms);

/* true when the main loop beat within the stall limit (or m is NULL); else
 * false with the age of the last beat in detail. Thread safe. */
bool gtp_metrics_live(struct gtp_metrics *m, char *detail, size_t detail_size);

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

/* Readiness check run on the HTTP thread for GET /readyz (and its alias
 * /healthz): return true when the daemon's dependencies are up; may write a
 * short reason into detail (shown with 503). Must be thread safe (read
 * atomics/flags only). */
typedef bool (*gtp_health_fn)(void *opaque, char *detail, size_t detail_size);

struct gtp_metrics_server;

/* Serve GET/HEAD /metrics (the registry m, borrowed: it must outlive the
 * server; gtp_metrics_standard(m) is applied), /livez (gtp_metrics_live),
 * /readyz and /healthz (health may be NULL: always ready) on all interfaces
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
