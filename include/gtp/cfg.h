/* Table-driven configuration (docs/programs.md). One option table per program drives
 * parsing, environment lookup, validation, --help and the README's flag docs.
 *
 * Precedence, lowest to highest: default < config file (--config FILE or
 * GTP_CONFIG) < environment GTP_* < command-line flags < -X key=value (kept
 * apart and handed verbatim to librdkafka, as kcat does).
 *
 * Config file: one `key = value` per line, `#` comments, keys are the long
 * option names ("brokers", "flush-ms"); `kafka.<prop> = value` lines are
 * librdkafka properties (like -X, but below the command line). */
#ifndef GTP_CFG_H
#define GTP_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum gtp_opt_type {
    GTP_OPT_STR,    /* char *, owned by the config struct (gtp_cfg_free) */
    GTP_OPT_INT,    /* long long */
    GTP_OPT_DOUBLE, /* double */
    GTP_OPT_BOOL,   /* bool; on the command line `--name` (true) or `--name=false` */
};

struct gtp_opt {
    const char *name; /* long flag without dashes; also the config-file key */
    int short_name;   /* 'b', or 0 */
    const char *env;  /* "GTP_BROKERS", or NULL */
    enum gtp_opt_type type;
    size_t offset;       /* offsetof(struct <program>_cfg, field) */
    const char *def;     /* default as text; NULL = unset (STR stays NULL, numbers 0) */
    const char *metavar; /* shown in --help: "HOST:PORT" */
    const char *help;    /* one line, lowercase, no trailing period */
    double min, max;     /* inclusive numeric range; min == max == 0: unchecked */
};

/* What a program is, for parsing and --help. */
struct gtp_cli {
    const char *program; /* "gtp-generator" */
    const char *summary; /* one line for --help */
    const struct gtp_opt *opts;
    size_t nopts;
    bool kafka_props; /* accepts -X key=value */
};

/* librdkafka properties collected from -X and the config file, in order
 * (later entries override earlier ones when applied). */
struct gtp_kv {
    char *key;
    char *value;
};
struct gtp_kvlist {
    struct gtp_kv *items;
    size_t n;
};

/* gtp_cfg_parse() returned because --help or --version was printed: exit 0. */
#define GTP_CFG_EXIT 1

/* Fill *dst (the program's config struct) from defaults, config file, env and
 * argv; -X pairs go to *kprops (may be NULL when cli->kafka_props is false).
 * Returns 0, GTP_CFG_EXIT (help/version printed on stdout), GTP_ERR_USAGE (bad
 * flag: exit 64) or GTP_ERR_CONFIG (bad value, env or file:line: exit 78); the
 * message names the offending flag, variable or file:line. dst must be zeroed
 * by the caller before the first call. */
int gtp_cfg_parse(const struct gtp_cli *cli, void *dst, struct gtp_kvlist *kprops, int argc,
                  char **argv, char *errstr, size_t errstr_size);

/* Free the strings gtp_cfg_parse() stored in dst and kprops. NULL-safe. */
void gtp_cfg_free(const struct gtp_cli *cli, void *dst, struct gtp_kvlist *kprops);

/* --help text (usage, every flag with env, default and range). */
void gtp_cfg_usage(const struct gtp_cli *cli, FILE *out);

/* The same table as a Markdown table, for the README. */
void gtp_cfg_markdown(const struct gtp_cli *cli, FILE *out);

/* --version text: program version plus the linked library versions. */
void gtp_cfg_version(const struct gtp_cli *cli, FILE *out);

/* Append key=value to a list (both copied). */
void gtp_kvlist_add(struct gtp_kvlist *l, const char *key, const char *value);

/* ---- the shared options (docs/programs.md) -------------------------------------
 * A program's config struct names its fields as below to use these:
 *   char *brokers, *topic, *dlq_topic, *redis_url, *taxonomy, *log_level;
 *   long long metrics_port; */
#define GTP_OPTS_KAFKA(T)                                                                          \
    {"brokers",                                                                                    \
     'b',                                                                                          \
     "GTP_BROKERS",                                                                                \
     GTP_OPT_STR,                                                                                  \
     offsetof(T, brokers),                                                                         \
     "localhost:9092",                                                                             \
     "HOST:PORT,...",                                                                              \
     "kafka bootstrap servers",                                                                    \
     0,                                                                                            \
     0},                                                                                           \
        {"topic",                                                                                  \
         't',                                                                                      \
         "GTP_TOPIC",                                                                              \
         GTP_OPT_STR,                                                                              \
         offsetof(T, topic),                                                                       \
         "job.postings.v1",                                                                        \
         "NAME",                                                                                   \
         "topic of raw job-posting events",                                                        \
         0,                                                                                        \
         0},                                                                                       \
    {                                                                                              \
        "dlq-topic", 0, "GTP_DLQ_TOPIC", GTP_OPT_STR, offsetof(T, dlq_topic), "job.postings.dlq",  \
            "NAME", "dead-letter topic for rejected events", 0, 0                                  \
    }

#define GTP_OPTS_REDIS(T)                                                                          \
    {                                                                                              \
        "redis", 0, "GTP_REDIS_URL", GTP_OPT_STR, offsetof(T, redis_url),                          \
            "redis://127.0.0.1:6379/0", "URL",                                                     \
            "redis url: redis://[[user]:password@]host:port/db or unix:///path.sock?db=N", 0, 0    \
    }

#define GTP_OPTS_TAXONOMY(T)                                                                       \
    {                                                                                              \
        "taxonomy", 0, "GTP_TAXONOMY", GTP_OPT_STR, offsetof(T, taxonomy), GTP_TAXONOMY_DEFAULT,   \
            "DIR", "taxonomy directory (skills, regions, seniority)", 0, 0                         \
    }

#define GTP_OPTS_LOG(T)                                                                            \
    {                                                                                              \
        "log-level", 0, "GTP_LOG_LEVEL", GTP_OPT_STR, offsetof(T, log_level), "info", "LEVEL",     \
            "debug, info, warn or error", 0, 0                                                     \
    }

#define GTP_OPTS_METRICS(T, port)                                                                  \
    {                                                                                              \
        "metrics-port", 0, "GTP_METRICS_PORT", GTP_OPT_INT, offsetof(T, metrics_port), port,       \
            "PORT", "port of /metrics, /livez and /readyz (0 disables)", 0, 65535                  \
    }

#endif
