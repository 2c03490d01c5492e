/* Building Redis commands argument by argument (argv style, binary safe, no
 * format-string quoting) and sending them with hiredis, alone or pipelined:
 * the processor's flush (one EVALSHA with thousands of arguments) and the
 * dashboard's queries are built here.
 *
 * An argument is either borrowed (the caller's bytes, which must stay
 * alive and unchanged until the command is appended to a context) or copied
 * into the command's own arena (numbers, formatted keys, packed values).
 * Zero-initialised = empty command. Not thread safe; one command per writer.
 * Allocation aborts on OOM. */
#ifndef GTP_REDISCMD_H
#define GTP_REDISCMD_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "gtp/buf.h"

struct gtp_rediscmd {
    size_t argc; /* arguments so far */
    /* private: argv is resolved from off/arena when the command is sent,
     * because the arena moves while it grows */
    const char **argv;
    size_t *argvlen;
    size_t *off; /* arena offset of a copied argument, SIZE_MAX when borrowed */
    size_t cap;
    struct gtp_buf arena;
};

/* Free everything; the command is empty and reusable. NULL-safe. */
void gtp_rediscmd_fini(struct gtp_rediscmd *c);
/* Forget the arguments, keep the memory. */
void gtp_rediscmd_reset(struct gtp_rediscmd *c);

/* Borrowed s[0..n) / borrowed NUL-terminated s. */
void gtp_rediscmd_arg(struct gtp_rediscmd *c, const char *s, size_t n);
void gtp_rediscmd_arg_str(struct gtp_rediscmd *c, const char *s);
/* Copied s[0..n). */
void gtp_rediscmd_arg_copy(struct gtp_rediscmd *c, const void *s, size_t n);
/* Copied printf-formatted text (no length limit). */
void gtp_rediscmd_argf(struct gtp_rediscmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Copied decimal v. */
void gtp_rediscmd_arg_i64(struct gtp_rediscmd *c, int64_t v);

/* A copied argument built in pieces: begin adds an empty one, append
 * extends it. Valid while no other argument was added after it. */
void gtp_rediscmd_arg_begin(struct gtp_rediscmd *c);
void gtp_rediscmd_arg_append(struct gtp_rediscmd *c, const void *p, size_t n);

/* Replace argument i (< argc) by the copied decimal v: for counts that are
 * known only after the arguments they count (written as a placeholder first). */
void gtp_rediscmd_set_i64(struct gtp_rediscmd *c, size_t i, int64_t v);

/* Argument i's bytes and length (for tests and logs); valid until the next
 * change to c. */
const char *gtp_rediscmd_argv(struct gtp_rediscmd *c, size_t i, size_t *len);

/* Append c to rc's output buffer (redisAppendCommandArgv). hiredis copies it:
 * c and its borrowed bytes may change afterwards. Returns 0 or GTP_ERR_REDIS
 * with errstr. */
int gtp_rediscmd_append(redisContext *rc, struct gtp_rediscmd *c, char *errstr, size_t errstr_size);

/* Send n commands in one pipeline and read their replies into reps[0..n)
 * (each new: freeReplyObject, or NULL). On GTP_ERR_REDIS (the connection is
 * dead: reconnect) every reps[i] is NULL. A Redis error reply is a reply
 * (REDIS_REPLY_ERROR), not a failure here. */
int gtp_rediscmd_pipeline(redisContext *rc, struct gtp_rediscmd *cmds, size_t n, redisReply **reps,
                          char *errstr, size_t errstr_size);

#endif
