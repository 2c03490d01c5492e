/* Names of the core error codes and their mapping to exit codes. */
#include "gtp/err.h"

const char *gtp_err_str(int err)
{
    switch (err) {
    case GTP_OK:
        return "success";
    case GTP_ERR_INVAL:
        return "invalid argument";
    case GTP_ERR_NOMEM:
        return "size limit exceeded";
    case GTP_ERR_IO:
        return "i/o error";
    case GTP_ERR_PARSE:
        return "parse error";
    case GTP_ERR_KAFKA:
        return "kafka error";
    case GTP_ERR_REDIS:
        return "redis error";
    case GTP_ERR_CONFIG:
        return "bad configuration";
    case GTP_ERR_USAGE:
        return "bad usage";
    case GTP_ERR_UNAVAILABLE:
        return "service unavailable";
    case GTP_ERR_FENCED:
        return "fenced by another owner";
    case GTP_ERR_INTERNAL:
        return "internal error";
    case GTP_ERR_NOSPACE:
        return "no space left on device";
    case GTP_ERR_STALE:
        return "stale read position";
    default:
        return "unknown error";
    }
}

int gtp_err_exit_code(int err)
{
    switch (err) {
    case GTP_OK:
        return GTP_EXIT_OK;
    case GTP_ERR_USAGE:
        return GTP_EXIT_USAGE;
    case GTP_ERR_CONFIG:
        return GTP_EXIT_CONFIG;
    case GTP_ERR_UNAVAILABLE:
        return GTP_EXIT_UNAVAILABLE;
    default:
        return GTP_EXIT_SOFTWARE;
    }
}
