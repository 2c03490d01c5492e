/* Error codes shared by the core and the exit codes every program uses (docs/programs.md). */
#ifndef GTP_ERR_H
#define GTP_ERR_H

/* Core functions return 0 or one of these (negative) and write a human reason
 * into the caller's errstr buffer. */
enum gtp_err {
    GTP_OK = 0,
    GTP_ERR_INVAL = -1,       /* bad argument or input data */
    GTP_ERR_NOMEM = -2,       /* only for size limits: allocation failure aborts */
    GTP_ERR_IO = -3,          /* file system or socket */
    GTP_ERR_PARSE = -4,       /* malformed text (JSON, config, time) */
    GTP_ERR_KAFKA = -5,       /* librdkafka reported an error */
    GTP_ERR_REDIS = -6,       /* hiredis reported an error: reconnect */
    GTP_ERR_CONFIG = -7,      /* bad configuration value (exit 78) */
    GTP_ERR_USAGE = -8,       /* bad command line (exit 64) */
    GTP_ERR_UNAVAILABLE = -9, /* a required service cannot be reached (exit 69) */
    GTP_ERR_FENCED = -10,     /* another owner holds the partition */
    GTP_ERR_INTERNAL = -11,   /* invariant broken (exit 70) */
    GTP_ERR_NOSPACE = -12,    /* disk full: pause and retry */
    GTP_ERR_STALE = -13,      /* what the caller read is gone (cleaned up): reload */
};

/* Process exit codes (sysexits.h values). */
enum gtp_exit {
    GTP_EXIT_OK = 0,
    GTP_EXIT_USAGE = 64,
    GTP_EXIT_UNAVAILABLE = 69,
    GTP_EXIT_SOFTWARE = 70,
    GTP_EXIT_CONFIG = 78,
};

/* Static name of an error code ("invalid argument", ...). Never NULL. */
const char *gtp_err_str(int err);

/* The exit code main() should use for a core error code. */
int gtp_err_exit_code(int err);

#endif
