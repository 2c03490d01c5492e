/* The crash seam of tests (include/gtp/failpoint.h). */
#include "gtp/failpoint.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/log.h"

void gtp_failpoint(const char *name)
{
    /* one counter per name in use is plenty; names are few and fixed */
    static const char *names[8];
    static atomic_long counts[8];
    const char *fp = getenv("GTP_ARCHIVER_FAILPOINT");
    size_t n = strlen(name), k;
    if (!fp || strncmp(fp, name, n) != 0 || fp[n] != ':')
        return;
    for (k = 0; k < 8 && names[k] && strcmp(names[k], name) != 0; k++)
        ;
    if (k == 8)
        return;
    names[k] = name;
    if (atomic_fetch_add(&counts[k], 1) + 1 == atol(fp + n + 1)) {
        gtp_log(GTP_LOG_WARN, "failpoint", "%s: killing myself", fp);
        raise(SIGKILL);
    }
}
