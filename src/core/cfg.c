/* Table-driven configuration: defaults, config file, environment, command line
 * and -X librdkafka properties, in that order of precedence (docs/programs.md). */
#include "gtp/cfg.h"
#include "gtp/err.h"
#include "gtp/util.h"

#include <errno.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <microhttpd.h>
#include <zstd.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* Where a value came from, for error messages that name the culprit. */
struct origin {
    const char *what; /* "flag", "env", "file" */
    const char *name; /* "--rate", "GTP_RATE", "gtp.conf" */
    int line;         /* file line, 0 otherwise */
};

static void origin_format(const struct origin *o, char *buf, size_t size)
{
    if (o->line)
        snprintf(buf, size, "%s:%d", o->name, o->line);
    else
        snprintf(buf, size, "%s", o->name);
}

static int parse_bool(const char *s, bool *out)
{
    static const char *yes[] = {"1", "true", "yes", "on"};
    static const char *no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < GTP_ARRAY_LEN(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return GTP_ERR_INVAL;
}

static bool range_checked(const struct gtp_opt *o)
{
    return !(o->min == 0 && o->max == 0);
}

/* Store one textual value into dst according to the option's type. */
static int opt_set(const struct gtp_opt *o, void *dst, const char *value, const struct origin *from,
                   char *errstr, size_t errstr_size)
{
    char *base = dst;
    char where[300];
    long long ll;
    double d;
    bool b;

    origin_format(from, where, sizeof(where));
    switch (o->type) {
    case GTP_OPT_STR: {
        char **slot = (char **)(void *)(base + o->offset);
        free(*slot);
        *slot = gtp_xstrdup(value);
        return 0;
    }
    case GTP_OPT_INT:
        if (gtp_parse_ll(value, &ll)) {
            gtp_errf(errstr, errstr_size, "%s: --%s expects an integer, got '%s'", where, o->name,
                     value);
            return GTP_ERR_CONFIG;
        }
        if (range_checked(o) && (ll < (long long)o->min || ll > (long long)o->max)) {
            gtp_errf(errstr, errstr_size, "%s: --%s must be between %.0f and %.0f, got %lld", where,
                     o->name, o->min, o->max, ll);
            return GTP_ERR_CONFIG;
        }
        *(long long *)(void *)(base + o->offset) = ll;
        return 0;
    case GTP_OPT_DOUBLE:
        if (gtp_parse_double(value, &d)) {
            gtp_errf(errstr, errstr_size, "%s: --%s expects a number, got '%s'", where, o->name,
                     value);
            return GTP_ERR_CONFIG;
        }
        if (range_checked(o) && (d < o->min || d > o->max)) {
            gtp_errf(errstr, errstr_size, "%s: --%s must be between %g and %g, got %g", where,
                     o->name, o->min, o->max, d);
            return GTP_ERR_CONFIG;
        }
        *(double *)(void *)(base + o->offset) = d;
        return 0;
    case GTP_OPT_BOOL:
        if (parse_bool(value, &b)) {
            gtp_errf(errstr, errstr_size, "%s: --%s expects true or false, got '%s'", where,
                     o->name, value);
            return GTP_ERR_CONFIG;
        }
        *(bool *)(void *)(base + o->offset) = b;
        return 0;
    }
    gtp_errf(errstr, errstr_size, "--%s: unknown option type", o->name);
    return GTP_ERR_INTERNAL;
}

static const struct gtp_opt *find_long(const struct gtp_cli *cli, const char *name, size_t len)
{
    for (size_t i = 0; i < cli->nopts; i++) {
        const struct gtp_opt *o = &cli->opts[i];
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    }
    return NULL;
}

static const struct gtp_opt *find_short(const struct gtp_cli *cli, int c)
{
    for (size_t i = 0; i < cli->nopts; i++)
        if (cli->opts[i].short_name && cli->opts[i].short_name == c)
            return &cli->opts[i];
    return NULL;
}

void gtp_kvlist_add(struct gtp_kvlist *l, const char *key, const char *value)
{
    l->items = gtp_xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
    l->items[l->n].key = gtp_xstrdup(key);
    l->items[l->n].value = gtp_xstrdup(value);
    l->n++;
}

/* Split "key=value" for -X; returns 0 or GTP_ERR_USAGE. */
static int add_kafka_prop(struct gtp_kvlist *kprops, const char *kv, char *errstr,
                          size_t errstr_size)
{
    const char *eq = strchr(kv, '=');
    char *key = NULL;
    if (!eq || eq == kv) {
        gtp_errf(errstr, errstr_size, "-X expects key=value, got '%s'", kv);
        return GTP_ERR_USAGE;
    }
    key = gtp_xstrndup(kv, (size_t)(eq - kv));
    gtp_kvlist_add(kprops, key, eq + 1);
    free(key);
    return 0;
}

static char *trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Config file: `key = value` lines; kafka.<prop> lines are librdkafka
 * properties. Unknown keys are errors (a typo must not be silently ignored). */
static int load_file(const struct gtp_cli *cli, void *dst, struct gtp_kvlist *kprops,
                     const char *path, char *errstr, size_t errstr_size)
{
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, err = 0;

    f = fopen(path, "r");
    if (!f) {
        gtp_errf(errstr, errstr_size, "config file %s: %s", path, strerror(errno));
        err = GTP_ERR_CONFIG;
        goto out;
    }
    while (getline(&line, &cap, f) >= 0) {
        char *s, *eq, *key, *value;
        const struct gtp_opt *o;
        struct origin from = {"file", path, ++lineno};

        s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        eq = strchr(s, '=');
        if (!eq) {
            gtp_errf(errstr, errstr_size, "%s:%d: expected 'key = value'", path, lineno);
            err = GTP_ERR_CONFIG;
            goto out;
        }
        *eq = '\0';
        key = trim(s);
        value = trim(eq + 1);
        if (strncmp(key, "kafka.", 6) == 0 && key[6]) {
            if (!cli->kafka_props || !kprops) {
                gtp_errf(errstr, errstr_size, "%s:%d: %s takes no kafka properties", path, lineno,
                         cli->program);
                err = GTP_ERR_CONFIG;
                goto out;
            }
            gtp_kvlist_add(kprops, key + 6, value);
            continue;
        }
        o = find_long(cli, key, strlen(key));
        if (!o) {
            gtp_errf(errstr, errstr_size, "%s:%d: unknown key '%s'", path, lineno, key);
            err = GTP_ERR_CONFIG;
            goto out;
        }
        err = opt_set(o, dst, value, &from, errstr, errstr_size);
        if (err)
            goto out;
    }
out:
    free(line);
    if (f)
        fclose(f);
    return err;
}

/* The config file is read before env and flags, so find it first. */
static const char *find_config_path(int argc, char **argv)
{
    const char *path = getenv("GTP_CONFIG");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
    }
    return path && *path ? path : NULL;
}

int gtp_cfg_parse(const struct gtp_cli *cli, void *dst, struct gtp_kvlist *kprops, int argc,
                  char **argv, char *errstr, size_t errstr_size)
{
    const char *cfg_path;
    int err = 0;

    /* 1. defaults */
    for (size_t i = 0; i < cli->nopts; i++) {
        const struct gtp_opt *o = &cli->opts[i];
        struct origin from = {"default", "built-in default", 0};
        if (!o->def)
            continue;
        err = opt_set(o, dst, o->def, &from, errstr, errstr_size);
        if (err)
            return GTP_ERR_INTERNAL;
    }

    /* 2. config file */
    cfg_path = find_config_path(argc, argv);
    if (cfg_path) {
        err = load_file(cli, dst, kprops, cfg_path, errstr, errstr_size);
        if (err)
            return err;
    }

    /* 3. environment */
    for (size_t i = 0; i < cli->nopts; i++) {
        const struct gtp_opt *o = &cli->opts[i];
        const char *v = o->env ? getenv(o->env) : NULL;
        struct origin from = {"env", o->env, 0};
        if (!v)
            continue;
        err = opt_set(o, dst, v, &from, errstr, errstr_size);
        if (err)
            return err;
    }

    /* 4. command line (-X pairs land in kprops after the file's) */
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const struct gtp_opt *o = NULL;
        const char *value = NULL;
        char flag[128];

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            gtp_cfg_usage(cli, stdout);
            return GTP_CFG_EXIT;
        }
        if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
            gtp_cfg_version(cli, stdout);
            return GTP_CFG_EXIT;
        }
        if (strcmp(arg, "--config") == 0) {
            i++; /* already loaded */
            continue;
        }
        if (strncmp(arg, "--config=", 9) == 0)
            continue;
        if (strncmp(arg, "-X", 2) == 0) {
            const char *kv = arg[2] ? arg + 2 : (i + 1 < argc ? argv[++i] : NULL);
            if (!cli->kafka_props || !kprops) {
                gtp_errf(errstr, errstr_size, "%s takes no -X kafka properties", cli->program);
                return GTP_ERR_USAGE;
            }
            if (!kv) {
                gtp_errf(errstr, errstr_size, "-X needs key=value");
                return GTP_ERR_USAGE;
            }
            err = add_kafka_prop(kprops, kv, errstr, errstr_size);
            if (err)
                return err;
            continue;
        }
        if (strncmp(arg, "--", 2) == 0 && arg[2]) {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            o = find_long(cli, name, len);
            snprintf(flag, sizeof(flag), "--%.*s", (int)(len < 100 ? len : 100), name);
            if (!o) {
                gtp_errf(errstr, errstr_size, "unknown option '%s' (see --help)", flag);
                return GTP_ERR_USAGE;
            }
            if (eq)
                value = eq + 1;
        } else if (arg[0] == '-' && arg[1] && arg[1] != '-') {
            o = find_short(cli, (unsigned char)arg[1]);
            snprintf(flag, sizeof(flag), "-%c", arg[1]);
            if (!o) {
                gtp_errf(errstr, errstr_size, "unknown option '%s' (see --help)", flag);
                return GTP_ERR_USAGE;
            }
            if (arg[2])
                value = arg + 2;
        } else {
            gtp_errf(errstr, errstr_size, "unexpected argument '%s' (see --help)", arg);
            return GTP_ERR_USAGE;
        }
        if (!value) {
            if (o->type == GTP_OPT_BOOL) {
                value = "true";
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                gtp_errf(errstr, errstr_size, "option '%s' needs a value", flag);
                return GTP_ERR_USAGE;
            }
        }
        {
            struct origin from = {"flag", flag, 0};
            err = opt_set(o, dst, value, &from, errstr, errstr_size);
            if (err)
                return err;
        }
    }
    return 0;
}

void gtp_cfg_free(const struct gtp_cli *cli, void *dst, struct gtp_kvlist *kprops)
{
    if (cli && dst) {
        for (size_t i = 0; i < cli->nopts; i++) {
            const struct gtp_opt *o = &cli->opts[i];
            if (o->type == GTP_OPT_STR) {
                char **slot = (char **)(void *)((char *)dst + o->offset);
                free(*slot);
                *slot = NULL;
            }
        }
    }
    if (kprops) {
        for (size_t i = 0; i < kprops->n; i++) {
            free(kprops->items[i].key);
            free(kprops->items[i].value);
        }
        free(kprops->items);
        kprops->items = NULL;
        kprops->n = 0;
    }
}

static void flag_text(const struct gtp_opt *o, char *buf, size_t size)
{
    const char *mv = o->type == GTP_OPT_BOOL ? "" : (o->metavar ? o->metavar : "VALUE");
    if (o->short_name)
        snprintf(buf, size, "-%c, --%s%s%s", o->short_name, o->name, *mv ? " " : "", mv);
    else
        snprintf(buf, size, "    --%s%s%s", o->name, *mv ? " " : "", mv);
}

void gtp_cfg_usage(const struct gtp_cli *cli, FILE *out)
{
    char flag[160];
    fprintf(out, "usage: %s [options]\n%s\n\noptions:\n", cli->program, cli->summary);
    for (size_t i = 0; i < cli->nopts; i++) {
        const struct gtp_opt *o = &cli->opts[i];
        flag_text(o, flag, sizeof(flag));
        fprintf(out, "  %-30s %s", flag, o->help);
        if (o->def && *o->def)
            fprintf(out, " (default %s)", o->def);
        if (range_checked(o))
            fprintf(out, " [%g..%g]", o->min, o->max);
        if (o->env)
            fprintf(out, " [env %s]", o->env);
        fputc('\n', out);
    }
    fprintf(out, "  %-30s %s\n", "    --config FILE",
            "config file of 'key = value' lines [env GTP_CONFIG]");
    if (cli->kafka_props)
        fprintf(out, "  %-30s %s\n", "-X KEY=VALUE",
                "librdkafka property, passed verbatim (repeatable)");
    fprintf(out, "  %-30s %s\n", "-h, --help", "show this help and exit");
    fprintf(out, "  %-30s %s\n", "-V, --version", "show versions and exit");
    fprintf(out,
            "\nprecedence: default < config file < environment < flags < -X\n"
            "exit codes: 0 ok, 64 usage, 69 service unavailable, 70 internal, 78 configuration\n");
}

void gtp_cfg_markdown(const struct gtp_cli *cli, FILE *out)
{
    char flag[160];
    fprintf(out, "| flag | env | default | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < cli->nopts; i++) {
        const struct gtp_opt *o = &cli->opts[i];
        flag_text(o, flag, sizeof(flag));
        fprintf(out, "| `%s` | %s%s%s | %s%s%s | %s", trim(flag), o->env ? "`" : "",
                o->env ? o->env : "", o->env ? "`" : "", o->def && *o->def ? "`" : "",
                o->def ? o->def : "", o->def && *o->def ? "`" : "", o->help);
        if (range_checked(o))
            fprintf(out, " (%g..%g)", o->min, o->max);
        fprintf(out, " |\n");
    }
    fprintf(out, "| `--config FILE` | `GTP_CONFIG` |  | config file of `key = value` lines |\n");
    if (cli->kafka_props)
        fprintf(out, "| `-X KEY=VALUE` |  |  | librdkafka property, passed verbatim |\n");
}

void gtp_cfg_version(const struct gtp_cli *cli, FILE *out)
{
    char pcre[64] = "";
    pcre2_config(PCRE2_CONFIG_VERSION, pcre);
    fprintf(out, "%s %s\n", cli->program, GTP_VERSION);
    fprintf(out, "  librdkafka %s\n", rd_kafka_version_str());
    fprintf(out, "  hiredis %d.%d.%d\n", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
    fprintf(out, "  jansson %s\n", jansson_version_str());
    fprintf(out, "  pcre2 %s\n", pcre);
    fprintf(out, "  libmicrohttpd %s\n", MHD_get_version());
    fprintf(out, "  zstd %s\n", ZSTD_versionString());
}
