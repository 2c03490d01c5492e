/* Signal handling for daemons: handlers only set flags; main loops act on them. */
#include "gtp/sig.h"
#include "gtp/err.h"

#include <string.h>

volatile sig_atomic_t gtp_sig_stop;
volatile sig_atomic_t gtp_sig_reload;

static void on_stop(int signo)
{
    (void)signo;
    gtp_sig_stop = 1;
}

static void on_reload(int signo)
{
    (void)signo;
    gtp_sig_reload = 1;
}

int gtp_sig_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a blocking read of stdin or a sleep must return EINTR so
     * the loop sees the flag promptly. */
    sa.sa_handler = on_stop;
    if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
        return GTP_ERR_INTERNAL;
    sa.sa_handler = on_reload;
    if (sigaction(SIGHUP, &sa, NULL))
        return GTP_ERR_INTERNAL;
    /* A peer closing a socket must be an error return, not process death. */
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL))
        return GTP_ERR_INTERNAL;
    return 0;
}
