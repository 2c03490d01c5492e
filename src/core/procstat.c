/* Process metrics from /proc/self (gtp/procstat.h). Field positions are those
 * of proc(5); the command name in /proc/self/stat may hold spaces and ')' so
 * parsing starts after its last ')'. */
#include "gtp/procstat.h"
#include "gtp/err.h"
#include "gtp/util.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Whole small file into buf (NUL-terminated); returns bytes read or -1. */
static ssize_t slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n;
    if (!f)
        return -1;
    n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
    return (ssize_t)n;
}

/* Seconds since the epoch at boot ("btime" in /proc/stat), read once: it
 * does not change while we run. */
static long long btime_cached = -1;
static pthread_once_t btime_once = PTHREAD_ONCE_INIT;

static void btime_load(void)
{
    static char buf[65536]; /* /proc/stat grows with the CPU count; once only */
    const char *p;
    if (slurp("/proc/stat", buf, sizeof(buf)) < 0)
        return;
    p = strstr(buf, "\nbtime ");
    if (p)
        btime_cached = strtoll(p + 7, NULL, 10);
}

static long long boot_time(void)
{
    pthread_once(&btime_once, btime_load);
    return btime_cached;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int n = 0;
    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}

int gtp_procstat_read(struct gtp_procstat *st, char *errstr, size_t errstr_size)
{
    char buf[2048];
    const char *p;
    unsigned long long utime, stime, start, vsize;
    long long rss, btime;
    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    struct rlimit rl;
    int fds;

    memset(st, 0, sizeof(*st));
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        st->max_fds = (double)rl.rlim_cur;
    fds = count_fds();
    if (fds >= 0)
        st->open_fds = fds;
    if (slurp("/proc/self/stat", buf, sizeof(buf)) < 0) {
        gtp_errf(errstr, errstr_size, "/proc/self/stat: %s", strerror(errno));
        return GTP_ERR_IO;
    }
    p = strrchr(buf, ')');
    /* after ") ": state(3) ... utime(14) stime(15) ... starttime(22) vsize(23) rss(24) */
    if (!p || tick <= 0 || page <= 0 ||
        sscanf(p + 2,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
               "%llu %llu %lld",
               &utime, &stime, &start, &vsize, &rss) != 5) {
        gtp_errf(errstr, errstr_size, "/proc/self/stat: unexpected format");
        return GTP_ERR_IO;
    }
    st->cpu_seconds = (double)(utime + stime) / (double)tick;
    st->virtual_bytes = (double)vsize;
    st->resident_bytes = (double)rss * (double)page;
    btime = boot_time();
    if (btime < 0) {
        gtp_errf(errstr, errstr_size, "/proc/stat: no btime");
        return GTP_ERR_IO;
    }
    st->start_time_seconds = (double)btime + (double)start / (double)tick;
    return 0;
}
