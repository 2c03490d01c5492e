/* Table-driven configuration: defaults, config file, environment, command line
 * and -X librdkafka properties, in that order of precedence (docs/programs.md).
 * The environment also carries secrets from files (GTP_*_FILE) and librdkafka
 * properties (GTP_KAFKA_<PROPERTY>). */
#include "gtp/cfg.h"
#include "gtp/err.h"
#include "gtp/redis.h"
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

/* ---- environment: GTP_*_FILE secrets and GTP_KAFKA_<PROPERTY> ------------------- */

extern char **environ; /* POSIX: the process environment */

/* Secrets read from files (Docker and Kubernetes mount them so) are small:
 * a password, a URL. A bigger file is a mistake, not a secret. */
#define SECRET_MAX (64 * 1024)

/* Read the secret file named by the variable var into *out (new); one trailing
 * newline (\n or \r\n) is dropped, as editors and `echo` add it. */
static int read_secret(const char *var, const char *path, char **out, char *errstr,
                       size_t errstr_size)
{
    FILE *f = NULL;
    char *buf = gtp_xmalloc(SECRET_MAX + 1);
    size_t n;
    int err = 0;

    *out = NULL;
    if (!*path || !(f = fopen(path, "r"))) {
        gtp_errf(errstr, errstr_size, "%s: cannot read '%s': %s", var, path,
                 *path ? strerror(errno) : "empty path");
        err = GTP_ERR_CONFIG;
        goto out;
    }
    n = fread(buf, 1, SECRET_MAX + 1, f);
    if (ferror(f) || n > SECRET_MAX || memchr(buf, '\0', n)) {
        gtp_errf(errstr, errstr_size, "%s: '%s' is %s", var, path,
                 ferror(f)        ? "unreadable"
                 : n > SECRET_MAX ? "larger than 64 KiB"
                                  : "binary (holds a NUL byte)");
        err = GTP_ERR_CONFIG;
        goto out;
    }
    if (n && buf[n - 1] == '\n')
        n--;
    if (n && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *out = buf;
    buf = NULL;
out:
    if (f)
        fclose(f);
    if (buf) {
        memset(buf, 0, SECRET_MAX + 1);
        free(buf);
    }
    return err;
}

/* The value of variable var, or of var_FILE's file: *out is new or NULL
 * (neither set). Both set is an error: which one wins would be a guess. */
static int env_value(const char *var, char **out, char *errstr, size_t errstr_size)
{
    char file_var[160];
    const char *v = getenv(var), *path;

    *out = NULL;
    snprintf(file_var, sizeof(file_var), "%s_FILE", var);
    path = getenv(file_var);
    if (v && path) {
        gtp_errf(errstr, errstr_size, "%s and %s are both set; use one", var, file_var);
        return GTP_ERR_CONFIG;
    }
    if (path)
        return read_secret(file_var, path, out, errstr, errstr_size);
    *out = v ? gtp_xstrdup(v) : NULL;
    return 0;
}

static void free_secret(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

/* GTP_KAFKA_* variables that belong to scripts/services.sh (the local broker's
 * ports and start-up wait), not to librdkafka. */
static const char *const kafka_env_reserved[] = {"PORT", "CONTROLLER_PORT", "WAIT"};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* GTP_KAFKA_<PROPERTY>[_FILE] -> kprops: SECURITY_PROTOCOL is
 * security.protocol (lowercase, '_' -> '.'). Each is checked against
 * librdkafka here, so a typo fails naming the variable. Sorted by name for a
 * stable order; they land after the config file's kafka.* lines and before
 * -X, which therefore wins. Programs without -X ignore them. */
/* Whether GTP_KAFKA_<rest> (rest[0..n)) is not a property: the scripts' own
 * variables and the program's own options. */
static bool kafka_env_skipped(const struct gtp_cli *cli, const char *name, size_t n)
{
    for (size_t i = 0; i < GTP_ARRAY_LEN(kafka_env_reserved); i++)
        if (strlen(kafka_env_reserved[i]) == n - 10 &&
            !strncmp(name + 10, kafka_env_reserved[i], n - 10))
            return true;
    for (size_t i = 0; i < cli->nopts; i++)
        if (cli->opts[i].env && strlen(cli->opts[i].env) == n &&
            !strncmp(name, cli->opts[i].env, n))
            return true;
    return false;
}

/* One GTP_KAFKA_<PROPERTY>[_FILE] variable (name) into kprops, checked on
 * probe (a scratch librdkafka conf). */
static int kafka_env_one(rd_kafka_conf_t *probe, const char *name, struct gtp_kvlist *kprops,
                         char *errstr, size_t errstr_size)
{
    size_t len = strlen(name);
    bool is_file = len > 10 + 5 && !strcmp(name + len - 5, "_FILE");
    char base[160], prop[160], rkerr[512];
    char *value = NULL;
    int err;

    if (len - (is_file ? 5 : 0) >= sizeof(base)) {
        gtp_errf(errstr, errstr_size, "%.100s...: name too long", name);
        return GTP_ERR_CONFIG;
    }
    snprintf(base, sizeof(base), "%.*s", (int)(len - (is_file ? 5 : 0)), name);
    if (is_file && getenv(base))
        return 0; /* GTP_KAFKA_X and GTP_KAFKA_X_FILE: env_value refuses both, on X */
    for (size_t k = 10; base[k]; k++)
        prop[k - 10] = base[k] == '_' ? '.' : (char)tolower((unsigned char)base[k]);
    prop[strlen(base) - 10] = '\0';
    err = env_value(base, &value, errstr, errstr_size);
    if (err || !value)
        return err;
    switch (rd_kafka_conf_set(probe, prop, value, rkerr, sizeof(rkerr))) {
    case RD_KAFKA_CONF_OK:
        gtp_kvlist_add(kprops, prop, value);
        break;
    case RD_KAFKA_CONF_UNKNOWN:
        gtp_errf(errstr, errstr_size,
                 "%s: '%s' is not a librdkafka property (names with '_' need -X)", base, prop);
        err = GTP_ERR_CONFIG;
        break;
    default: /* librdkafka's reason, unless it quotes the value: it may be a password */
        gtp_errf(errstr, errstr_size, "%s: invalid value for %s%s%s", base, prop,
                 *value && strstr(rkerr, value) ? "" : ": ",
                 *value && strstr(rkerr, value) ? "" : rkerr);
        err = GTP_ERR_CONFIG;
    }
    free_secret(value);
    return err;
}

static int load_kafka_env(const struct gtp_cli *cli, struct gtp_kvlist *kprops, char *errstr,
                          size_t errstr_size)
{
    char **names = NULL;
    size_t n = 0;
    rd_kafka_conf_t *probe = NULL;
    int err = 0;

    /* programs without Kafka ignore them: one environment may serve all */
    if (!cli->kafka_props || !kprops)
        return 0;
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || strncmp(*e, "GTP_KAFKA_", 10) != 0 || eq == *e + 10 ||
            kafka_env_skipped(cli, *e, (size_t)(eq - *e)))
            continue;
        names = gtp_xrealloc(names, (n + 1) * sizeof(*names));
        names[n++] = gtp_xstrndup(*e, (size_t)(eq - *e));
    }
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    probe = rd_kafka_conf_new();
    for (size_t i = 0; i < n && !err; i++)
        err = kafka_env_one(probe, names[i], kprops, errstr, errstr_size);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    rd_kafka_conf_destroy(probe);
    return err;
}

/* GTP_REDIS_PASSWORD_FILE: the password of the --redis URL, kept out of the
 * URL (and so out of `ps`, config files and compose files). */
static int apply_redis_password(const struct gtp_cli *cli, void *dst, char *errstr,
                                size_t errstr_size)
{
    const struct gtp_opt *o = NULL;
    char *pw = NULL, *url = NULL, **slot;
    const char *path = getenv("GTP_REDIS_PASSWORD_FILE");
    int err = 0;

    if (!path)
        return 0;
    for (size_t i = 0; i < cli->nopts; i++)
        if (!strcmp(cli->opts[i].name, "redis") && cli->opts[i].type == GTP_OPT_STR)
            o = &cli->opts[i];
    if (!o) {
        gtp_errf(errstr, errstr_size, "GTP_REDIS_PASSWORD_FILE: %s uses no redis", cli->program);
        return GTP_ERR_CONFIG;
    }
    slot = (char **)(void *)((char *)dst + o->offset);
    err = read_secret("GTP_REDIS_PASSWORD_FILE", path, &pw, errstr, errstr_size);
    if (err)
        goto out;
    err = gtp_redis_url_with_password(*slot, pw, &url, errstr, errstr_size);
    if (err) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%s", errstr);
        gtp_errf(errstr, errstr_size, "GTP_REDIS_PASSWORD_FILE with --redis: %s", msg);
        goto out;
    }
    free_secret(*slot);
    *slot = url;
out:
    free_secret(pw);
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

    /* 3. environment: GTP_X, or GTP_X_FILE's contents; then GTP_KAFKA_* */
    for (size_t i = 0; i < cli->nopts; i++) {
        const struct gtp_opt *o = &cli->opts[i];
        struct origin from = {"env", o->env, 0};
        char *v = NULL;
        if (!o->env)
            continue;
        err = env_value(o->env, &v, errstr, errstr_size);
        if (!err && v)
            err = opt_set(o, dst, v, &from, errstr, errstr_size);
        free_secret(v);
        if (err)
            return err;
    }
    err = load_kafka_env(cli, kprops, errstr, errstr_size);
    if (err)
        return err;

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
    /* last: the password joins whichever URL won */
    return apply_redis_password(cli, dst, errstr, errstr_size);
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
    fprintf(out, "\nenvironment: GTP_X_FILE=PATH reads GTP_X from a file (secrets)%s\n",
            cli->kafka_props ? "; GTP_KAFKA_<PROPERTY> sets a librdkafka property "
                               "(GTP_KAFKA_SECURITY_PROTOCOL=ssl)"
                             : "");
    fprintf(out,
            "precedence: default < config file < environment < flags < -X\n"
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
