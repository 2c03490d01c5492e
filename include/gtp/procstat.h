/* The standard process metrics (process_cpu_seconds_total and friends, as
 * Prometheus client libraries export them) read from /proc/self, for the
 * /metrics endpoint (docs/metrics.md). Linux only. */
#ifndef GTP_PROCSTAT_H
#define GTP_PROCSTAT_H

#include <stddef.h>

struct gtp_procstat {
    double cpu_seconds;        /* user + system time */
    double resident_bytes;     /* resident set size */
    double virtual_bytes;      /* virtual memory size */
    double open_fds;           /* entries in /proc/self/fd */
    double max_fds;            /* soft RLIMIT_NOFILE */
    double start_time_seconds; /* process start, seconds since the Unix epoch */
};

/* Fill *st from /proc/self/stat, /proc/stat (boot time) and /proc/self/fd.
 * Returns 0, or GTP_ERR_IO with errstr (fields it could not read stay 0).
 * Thread safe (no shared state); costs a few syscalls, so call it per
 * scrape, not per event. */
int gtp_procstat_read(struct gtp_procstat *st, char *errstr, size_t errstr_size);

#endif
