/* Start-up shared by every program: options, log level, signal handlers. */
#include "gtp/program.h"

#include <stdio.h>
#include <string.h>

#include "gtp/err.h"
#include "gtp/log.h"
#include "gtp/sig.h"

/* The --log-level value in the parsed config, NULL when the program has no such option. */
static const char *log_level_of(const struct gtp_cli *cli, const void *cfg)
{
    for (size_t i = 0; i < cli->nopts; i++) {
        const struct gtp_opt *o = &cli->opts[i];
        if (o->type == GTP_OPT_STR && strcmp(o->name, "log-level") == 0)
            return *(char *const *)((const char *)cfg + o->offset);
    }
    return NULL;
}

int gtp_program_init(const struct gtp_cli *cli, void *cfg, struct gtp_kvlist *kprops, int argc,
                     char **argv, int *exit_code)
{
    char err[512];
    const char *level;
    int e;

    *exit_code = GTP_EXIT_OK;
    gtp_log_init(cli->program);
    e = gtp_cfg_parse(cli, cfg, kprops, argc, argv, err, sizeof(err));
    if (e == GTP_CFG_EXIT)
        return 1;
    if (e) {
        fprintf(stderr, "%s: %s\n", cli->program, err);
        *exit_code = gtp_err_exit_code(e);
        return 1;
    }
    level = log_level_of(cli, cfg);
    if (level && gtp_log_set_level(level)) {
        fprintf(stderr, "%s: --log-level: unknown level '%s'\n", cli->program, level);
        *exit_code = GTP_EXIT_CONFIG;
        return 1;
    }
    /* Without the handlers SIGTERM kills the daemon mid-flush instead of a clean stop, and a
     * closed socket's SIGPIPE kills it outright: not a state to run in. */
    e = gtp_sig_install();
    if (e) {
        fprintf(stderr, "%s: cannot install signal handlers: %s\n", cli->program, gtp_err_str(e));
        *exit_code = gtp_err_exit_code(e);
        return 1;
    }
    return 0;
}
