/* Process signals for daemons: handlers only set flags (docs/programs.md). */
#ifndef GTP_SIG_H
#define GTP_SIG_H

#include <signal.h>

/* Set by SIGTERM/SIGINT: stop intake, flush, commit, exit 0. */
extern volatile sig_atomic_t gtp_sig_stop;
/* Set by SIGHUP: reload the taxonomy. The main loop clears it after reloading. */
extern volatile sig_atomic_t gtp_sig_reload;

/* Install the handlers with sigaction (SA_RESTART off so blocking calls wake
 * up) and ignore SIGPIPE. Returns 0 or GTP_ERR_INTERNAL. */
int gtp_sig_install(void);

#endif
