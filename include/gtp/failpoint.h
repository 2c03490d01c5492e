/* Test seam: crash the process at a named moment, so tests can prove recovery from exactly
 * that point. GTP_ARCHIVER_FAILPOINT=<name>:<N> makes the N-th call of
 * gtp_failpoint("<name>") log and SIGKILL the process; without the variable (every real
 * run) a call costs a getenv. Names in use: "files" (a roll's files published, not
 * committed), "commit" (a roll committed), "compact" (a compacted file published, its
 * rewrite not committed), "checkpoint" (a checkpoint's Parquet file published, its snapshot
 * and _last_checkpoint not). Thread safe. */
#ifndef GTP_FAILPOINT_H
#define GTP_FAILPOINT_H

void gtp_failpoint(const char *name);

#endif
