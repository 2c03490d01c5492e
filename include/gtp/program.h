/* How every program starts (docs/programs.md): options parsed from the table (flags, env,
 * config file), the log level applied, signal handlers installed. One path, so the five
 * programs report bad input and a failed sigaction the same way. */
#ifndef GTP_PROGRAM_H
#define GTP_PROGRAM_H

#include "gtp/cfg.h"

/* Start a program described by cli: names the log lines after cli->program, fills *cfg (the
 * program's zeroed config struct) and *kprops (-X pairs; NULL when cli->kafka_props is false)
 * as gtp_cfg_parse() does, applies the option named "log-level" when the table has one, then
 * installs the signal handlers (gtp_sig_install). Problems are reported on stderr as
 * "<program>: <reason>".
 *
 * Returns 0 when the program goes on, or 1 when it must exit now with *exit_code: 0 after
 * --help/--version, 64 for a bad flag, 78 for a bad value, 70 when the handlers could not be
 * installed. Either way the caller frees cfg and kprops with gtp_cfg_free(). */
int gtp_program_init(const struct gtp_cli *cli, void *cfg, struct gtp_kvlist *kprops, int argc,
                     char **argv, int *exit_code);

#endif
