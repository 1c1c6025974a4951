/*
 * src/main.c — command line and dispatch.
 *
 * One option table serves every command; each command lists the options it
 * accepts, and both the parser and `pgbaton COMMAND --help` are driven by
 * that list, so the help is always what the parser does. Connection strings
 * given on the command line are copied and then overwritten in argv so that
 * `ps` shows them masked.
 */
#include "cli.h"
#include "failpoint.h"
#include "filter.h"
#include "log.h"
#include "metrics.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Option identifiers, also bit positions in a command's accepted set. */
enum opt_id {
    OPT_SOURCE,
    OPT_TARGET,
    OPT_NAME,
    OPT_JSON,
    OPT_DDL,
    OPT_JOBS,
    OPT_SPLIT,
    OPT_RESTART,
    OPT_ROLES,
    OPT_INCLUDE_SCHEMA,
    OPT_EXCLUDE_SCHEMA,
    OPT_INCLUDE_TABLE,
    OPT_EXCLUDE_TABLE,
    OPT_PLUGIN,
    OPT_ACCEPT_NAN_AS_NULL,
    OPT_METRICS,
    OPT_WATCH,
    OPT_EVENTS,
    OPT_MAX_LAG,
    OPT_TIMEOUT,
    OPT_EXEC,
    OPT_SKIP_COUNT,
    OPT_UNLOGGED_RECOPY_MAX,
    OPT_SAMPLE,
    OPT_CRUD,
    OPT_FORMAT,
    OPT_OUTPUT,
    /* accepted by every command */
    OPT_VERBOSE,
    OPT_QUIET,
    OPT_LOG_FILE,
    OPT_HELP,
    OPT_COUNT
};

#define BIT(x) (1ULL << (x))
#define COMMON (BIT(OPT_VERBOSE) | BIT(OPT_QUIET) | BIT(OPT_LOG_FILE) | BIT(OPT_HELP))
#define CONNS  (BIT(OPT_SOURCE) | BIT(OPT_TARGET) | BIT(OPT_NAME))

typedef struct opt_def {
    const char *long_name;
    int short_name; /* 0 when none */
    int has_arg;
    const char *arg_name;
    const char *help;
} opt_def;

static const opt_def opt_defs[OPT_COUNT] = {
    /* connections */
    [OPT_SOURCE] = {"source", 's', required_argument, "CONNSTR",
                    "source database (libpq URI or key=value); default $PGBATON_SOURCE"},
    [OPT_TARGET] = {"target", 't', required_argument, "CONNSTR",
                    "target database (libpq URI or key=value); default $PGBATON_TARGET"},
    [OPT_NAME] = {"name", 'n', required_argument, "NAME",
                  "migration name: slot and state row (default \"pgbaton\"; a-z, 0-9, _)"},
    /* output */
    [OPT_JSON] = {"json", 0, no_argument, NULL, "print machine-readable JSON on stdout"},
    /* inventory */
    [OPT_DDL] = {"ddl", 0, required_argument, "FILE",
                 "also write the schema creation script (pg_dump --schema-only) to FILE"},
    /* start */
    [OPT_JOBS] = {"jobs", 'j', required_argument, "N", "parallel workers (default: CPUs)"},
    [OPT_SPLIT] = {"split-larger-than", 0, required_argument, "SIZE",
                   "copy tables larger than SIZE in parallel ranges (default: tables larger "
                   "than one worker's share of the copy, at least 1GB)"},
    [OPT_RESTART] = {"restart", 0, no_argument, NULL,
                     "drop an interrupted copy and its slot, and start over"},
    [OPT_ROLES] = {"roles", 0, no_argument, NULL, "also copy roles used by the source database"},
    [OPT_INCLUDE_SCHEMA] = {"include-schema", 0, required_argument, "PATTERN",
                            "only schemas matching PATTERN (repeatable)"},
    [OPT_EXCLUDE_SCHEMA] = {"exclude-schema", 0, required_argument, "PATTERN",
                            "skip schemas matching PATTERN (repeatable)"},
    [OPT_INCLUDE_TABLE] = {"include-table", 0, required_argument, "PATTERN",
                           "only tables matching PATTERN (repeatable)"},
    [OPT_EXCLUDE_TABLE] = {"exclude-table", 0, required_argument, "PATTERN",
                           "skip tables matching PATTERN (repeatable)"},
    [OPT_PLUGIN] = {"plugin", 0, required_argument, "auto|wal2json|pgoutput",
                    "logical decoding plugin (default auto: one the source allows that carries "
                    "every value of the selected tables exactly)"},
    [OPT_ACCEPT_NAN_AS_NULL] = {"accept-nan-as-null", 0, no_argument, NULL,
                                "with --plugin wal2json before 2.6: accept that NaN and "
                                "+/-Infinity written while streaming arrive as NULL"},
    [OPT_METRICS] = {"metrics", 0, required_argument, "[HOST:]PORT",
                     "serve Prometheus metrics at http://HOST:PORT/metrics (HOST default "
                     "127.0.0.1)"},
    /* status */
    [OPT_WATCH] = {"watch", 'w', required_argument, "N", "refresh every N seconds"},
    [OPT_EVENTS] = {"events", 0, no_argument, NULL,
                    "also list every action pgbaton took on either server (the audit trail)"},
    /* cutover */
    [OPT_MAX_LAG] = {"max-lag", 0, required_argument, "DURATION",
                     "freeze only once lag is below DURATION (default 1s; units ms, s, min, "
                     "h)"},
    [OPT_TIMEOUT] = {"timeout", 0, required_argument, "DURATION",
                     "give up (and unfreeze) after DURATION (default 5min; units ms, s, min, "
                     "h)"},
    [OPT_EXEC] = {"exec", 0, required_argument, "CMD", "run CMD once the target is ready"},
    [OPT_SKIP_COUNT] = {"skip-count", 0, no_argument, NULL,
                        "skip the row-count comparison during cutover"},
    [OPT_UNLOGGED_RECOPY_MAX] = {"unlogged-recopy-max", 0, required_argument, "SIZE",
                                 "copy unlogged tables up to SIZE again in full under the freeze "
                                 "(default 1GB; 0 = never)"},
    /* verify */
    [OPT_SAMPLE] = {"sample", 0, required_argument, "N",
                    "compare the first N rows of each table value by value (default 10)"},
    [OPT_CRUD] = {"crud", 0, no_argument, NULL,
                  "also run the CRUD smoke test and the backup check on the target"},
    /* report */
    [OPT_FORMAT] = {"format", 'f', required_argument, "md|json", "report format (default md)"},
    [OPT_OUTPUT] = {"output", 'o', required_argument, "FILE", "write the report to FILE"},
    /* common */
    [OPT_VERBOSE] = {"verbose", 'v', no_argument, NULL, "more detail in the log (DEBUG)"},
    [OPT_QUIET] = {"quiet", 'q', no_argument, NULL, "only warnings and errors in the log"},
    [OPT_LOG_FILE] = {"log-file", 0, required_argument, "FILE", "also append the log to FILE"},
    [OPT_HELP] = {"help", 'h', no_argument, NULL, "show this help"},
};

typedef struct command_def {
    const char *name;
    const char *summary;
    const char *usage;       /* what comes after "pgbaton NAME" */
    const char *description; /* a paragraph for COMMAND --help */
    unsigned long long accepts;
    int (*run)(const pgb_options *o);
} command_def;

static const command_def commands[] = {
    {"check", "preflight both servers: can this migration work?",
     "-s SRC -t DST [--json] [--name NAME] [table filters]",
     "Checks both servers and prints one line per check: PASS, WARN or FAIL, each WARN and\n"
     "FAIL with the fix, and which decoding plugin `start` would use and why. Changes\n"
     "nothing (a temporary slot is created and dropped to probe wal2json). Exit 3 when\n"
     "anything FAILs.",
     CONNS | BIT(OPT_JSON) | BIT(OPT_INCLUDE_SCHEMA) | BIT(OPT_EXCLUDE_SCHEMA) |
         BIT(OPT_INCLUDE_TABLE) | BIT(OPT_EXCLUDE_TABLE) | BIT(OPT_PLUGIN) |
         BIT(OPT_ACCEPT_NAN_AS_NULL) | COMMON,
     cmd_check},
    {"inventory", "describe the source's structure", "-s SRC [--json] [--ddl FILE]",
     "Lists the source's schemas, tables (estimated rows, size, key, replica identity),\n"
     "columns, indexes, constraints, triggers, functions, sequences, views, extensions and\n"
     "large objects. --ddl FILE writes the schema creation script.",
     BIT(OPT_SOURCE) | BIT(OPT_JSON) | BIT(OPT_DDL) | COMMON, cmd_inventory},
    {"start", "copy schema and data at one snapshot, then follow changes",
     "-s SRC -t DST [--jobs N] [--name NAME] [--roles] [--plugin P] [filters]",
     "Copies the source's schema and data onto the target at one consistent snapshot\n"
     "(N parallel workers, indexes built as tables complete), then streams changes from\n"
     "the logical slot until stopped. Run again, it resumes streaming; an interrupted copy\n"
     "must start over with --restart. The decoding plugin (--plugin) is chosen once, for\n"
     "the new slot, and kept when resuming. Exit 3 when the preflight finds blocking\n"
     "problems.",
     CONNS | BIT(OPT_JOBS) | BIT(OPT_SPLIT) | BIT(OPT_RESTART) | BIT(OPT_ROLES) |
         BIT(OPT_INCLUDE_SCHEMA) | BIT(OPT_EXCLUDE_SCHEMA) | BIT(OPT_INCLUDE_TABLE) |
         BIT(OPT_EXCLUDE_TABLE) | BIT(OPT_PLUGIN) | BIT(OPT_ACCEPT_NAN_AS_NULL) | BIT(OPT_METRICS) |
         COMMON,
     cmd_start},
    {"status", "where the migration stands: phase, copy progress, lag, ETA",
     "-s SRC -t DST [--json] [--watch N]",
     "Reads the state on the target and the slot on the source (from any machine that\n"
     "reaches both). Shows the phase, per-table copy progress, source and applied LSN, lag\n"
     "in bytes and seconds (source clock), apply rate, ETA, WAL retained by the slot, time\n"
     "since the last applied change and the last error. A `start` that is not running\n"
     "shows as stopped, with since when. Exit 0 when healthy, 1 when failed, stopped or\n"
     "stalled.",
     CONNS | BIT(OPT_JSON) | BIT(OPT_WATCH) | BIT(OPT_EVENTS) | COMMON, cmd_status},
    {"cutover", "freeze the source, drain, copy sequences, check, hand over to the target",
     "-s SRC -t DST [--max-lag DURATION] [--timeout DURATION] [--exec CMD] [--json]",
     "Waits until lag is below --max-lag (exit 4, nothing changed, if it never is), makes the\n"
     "source read-only for every role and ends its other sessions, writes a fence and waits\n"
     "for `start` to apply it, copies sequence values, compares row counts, marks the\n"
     "migration done and prints the write-unavailability. Any failure after the freeze\n"
     "unfreezes the source and exits 4. --exec CMD runs with $PGBATON_TARGET and\n"
     "$PGBATON_NAME in its environment (exit 1 if it fails; the target is ready anyway).\n"
     "Safe to run again: it resumes an interrupted cutover and says when it is done.",
     CONNS | BIT(OPT_MAX_LAG) | BIT(OPT_TIMEOUT) | BIT(OPT_EXEC) | BIT(OPT_SKIP_COUNT) |
         BIT(OPT_UNLOGGED_RECOPY_MAX) | BIT(OPT_JSON) | COMMON,
     cmd_cutover},
    {"abort", "stop a migration: unfreeze the source, drop the slot (target data kept)",
     "-s SRC -t DST",
     "Unfreezes the source if pgbaton froze it (not after a completed cutover), marks the\n"
     "migration stopped (a running `start` stops), ends the session holding the slot and\n"
     "drops the slot. Idempotent; prints what it did.",
     CONNS | COMMON, cmd_abort},
    {"clean", "remove pgbaton's objects from both sides", "-s SRC -t DST",
     "Everything abort does, plus pgbaton's leftover slots of this migration on the source\n"
     "and its state on the target (schema pgbaton, once no other migration is recorded).\n"
     "Idempotent; prints what it removed.",
     CONNS | COMMON, cmd_clean},
    {"verify", "compare source and target: schema, rows, checksums, sequences",
     "-s SRC -t DST [--jobs N] [--sample N] [--crud] [--json]",
     "Compares the structure, row counts and content checksums of every table (tables\n"
     "in parallel; a differing one narrowed down by key ranges), the first --sample\n"
     "rows value by value and the sequences, at one consistent point even while\n"
     "streaming. Names each difference (keys only, never other values). --crud also\n"
     "runs a rolled-back INSERT/SELECT/UPDATE/DELETE on every target table, and the\n"
     "backup check: a pg_dump of the target by the target's role, to /dev/null. Exit 0\n"
     "when all is equal, 1 when anything differs or a check fails.",
     CONNS | BIT(OPT_JOBS) | BIT(OPT_SAMPLE) | BIT(OPT_CRUD) | BIT(OPT_JSON) | COMMON, cmd_verify},
    {"report", "final report for the change ticket (Markdown or JSON)",
     "-s SRC -t DST [--format md|json] [-o FILE]",
     "Writes the migration's report: source and target (masked) and versions, the structure\n"
     "migrated, rows per table, verify, CRUD smoke-test and backup-check results, the time\n"
     "of each step and the write unavailability, lag over the run (an SVG chart beside\n"
     "-o FILE, named after it), warnings.\n"
     "Works during the migration too (marked in progress). Never a password or a value.",
     CONNS | BIT(OPT_FORMAT) | BIT(OPT_OUTPUT) | COMMON, cmd_report},
};
#define NCOMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void print_main_help(FILE *f)
{
    fprintf(f,
            "pgbaton %s — move a live PostgreSQL database to another server with near-zero "
            "downtime.\n\n",
            PGBATON_VERSION);
    fprintf(f, "Usage: pgbaton COMMAND [OPTIONS]\n\nCommands:\n");
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\nRun \"pgbaton COMMAND --help\" for a command's options.\n"
            "  --version    print the version\n"
            "  --help       show this help\n\n"
            "Connection strings come from --source/--target or $PGBATON_SOURCE/$PGBATON_TARGET;\n"
            "the usual libpq environment (PGPASSWORD, PGPASSFILE, PGSSLMODE, ...) applies.\n"
            "Passwords are never printed.\n\n"
            "Exit codes: 0 success, 1 runtime failure, 2 bad usage or input,\n"
            "3 preflight found blocking problems, 4 cutover rolled back (source writable).\n");
}

static void print_command_help(const command_def *c)
{
    printf("Usage: pgbaton %s %s\n\n%s\n\nOptions:\n", c->name, c->usage, c->description);
    for (int i = 0; i < OPT_COUNT; i++) {
        if (!(c->accepts & BIT(i)))
            continue;
        const opt_def *d = &opt_defs[i];
        char left[64];
        if (d->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", d->short_name, d->long_name,
                     d->arg_name ? " " : "", d->arg_name ? d->arg_name : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", d->long_name, d->arg_name ? " " : "",
                     d->arg_name ? d->arg_name : "");
        printf("  %-32s %s\n", left, d->help);
    }
}

/* --- value parsers: each logs what is wrong and how to write it ---------- */

static bool parse_int_opt(const char *opt, const char *arg, int min, int max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < min || v > max) {
        log_error("invalid value \"%s\" for --%s: give a whole number from %d to %d", arg, opt, min,
                  max);
        return false;
    }
    *out = (int)v;
    return true;
}

/* A unit suffix and what it multiplies by. */
typedef struct unit {
    const char *suffix;
    double mult;
} unit;

/* "" means no suffix. Compared case-insensitively. */
static const unit duration_units[] = {{"", 1},   {"s", 1},    {"ms", 0.001}, {"min", 60},
                                      {"m", 60}, {"h", 3600}, {NULL, 0}};
static const unit size_units[] = {{"", 1},
                                  {"B", 1},
                                  {"kB", 1024.0},
                                  {"MB", 1024.0 * 1024},
                                  {"GB", 1024.0 * 1024 * 1024},
                                  {"TB", 1024.0 * 1024 * 1024 * 1024},
                                  {NULL, 0}};

/* A non-negative number with one of UNITS; false on anything else. */
static bool parse_with_unit(const char *arg, const unit *units, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || end == arg || v < 0)
        return false;
    for (const unit *u = units; u->suffix; u++) {
        if (strcasecmp(end, u->suffix) == 0) {
            *out = v * u->mult;
            return true;
        }
    }
    return false;
}

/* DURATION: a number with an optional unit ms, s, min (or m), h (default seconds). */
static bool parse_duration_opt(const char *opt, const char *arg, double *out)
{
    if (parse_with_unit(arg, duration_units, out))
        return true;
    log_error("invalid duration \"%s\" for --%s: write a number with a unit, like 500ms, 2s, "
              "5min or 1h",
              arg, opt);
    return false;
}

/* SIZE: a number with an optional unit kB, MB, GB, TB (default bytes). */
static bool parse_size_opt(const char *opt, const char *arg, int64_t *out)
{
    double v;
    if (parse_with_unit(arg, size_units, &v)) {
        *out = (int64_t)v;
        return true;
    }
    log_error("invalid size \"%s\" for --%s: write a number with a unit, like 512MB or 2GB", arg,
              opt);
    return false;
}

static bool valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 48)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

static const command_def *find_command(const char *name)
{
    for (int i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Apply one parsed option; false on a bad value (already logged). */
static bool apply_option(pgb_options *o, int id, char *arg)
{
    const char *nm = opt_defs[id].long_name;
    switch (id) {
    case OPT_SOURCE:
    case OPT_TARGET:
        free(id == OPT_SOURCE ? o->source : o->target);
        *(id == OPT_SOURCE ? &o->source : &o->target) = xstrdup(arg);
        conninfo_scrub_arg(arg);
        return true;
    case OPT_NAME:
        if (!valid_name(arg)) {
            log_error("invalid --name \"%s\": use 1 to 48 characters from a-z, 0-9 and _", arg);
            return false;
        }
        o->name = arg;
        return true;
    case OPT_JSON:
        o->json = true;
        return true;
    case OPT_DDL:
        o->ddl_file = arg;
        return true;
    case OPT_JOBS:
        return parse_int_opt(nm, arg, 1, 64, &o->jobs);
    case OPT_SPLIT:
        return parse_size_opt(nm, arg, &o->split_larger_than);
    case OPT_RESTART:
        o->restart = true;
        return true;
    case OPT_ROLES:
        o->roles = true;
        return true;
    case OPT_INCLUDE_SCHEMA:
        strlist_add(&o->filters.include_schema, arg);
        return true;
    case OPT_EXCLUDE_SCHEMA:
        strlist_add(&o->filters.exclude_schema, arg);
        return true;
    case OPT_INCLUDE_TABLE:
        strlist_add(&o->filters.include_table, arg);
        return true;
    case OPT_EXCLUDE_TABLE:
        strlist_add(&o->filters.exclude_table, arg);
        return true;
    case OPT_PLUGIN:
        if (strcmp(arg, "auto") != 0 && strcmp(arg, "wal2json") != 0 &&
            strcmp(arg, "pgoutput") != 0) {
            log_error("invalid --plugin \"%s\": use auto, wal2json or pgoutput", arg);
            return false;
        }
        o->plugin = arg;
        return true;
    case OPT_METRICS: {
        char *host, *port, *why;
        if (!metrics_parse(arg, &host, &port, &why)) {
            log_error("invalid --metrics \"%s\": %s", arg, why);
            free(why);
            return false;
        }
        free(host);
        free(port);
        o->metrics = arg;
        return true;
    }
    case OPT_ACCEPT_NAN_AS_NULL:
        o->accept_nan_as_null = true;
        return true;
    case OPT_EVENTS:
        o->events = true;
        return true;
    case OPT_WATCH:
        return parse_int_opt(nm, arg, 1, 3600, &o->watch);
    case OPT_MAX_LAG:
        return parse_duration_opt(nm, arg, &o->max_lag);
    case OPT_TIMEOUT:
        return parse_duration_opt(nm, arg, &o->timeout);
    case OPT_EXEC:
        o->exec = arg;
        return true;
    case OPT_SKIP_COUNT:
        o->skip_count = true;
        return true;
    case OPT_UNLOGGED_RECOPY_MAX:
        return parse_size_opt(nm, arg, &o->unlogged_recopy_max);
    case OPT_SAMPLE:
        return parse_int_opt(nm, arg, 0, 1000000, &o->sample);
    case OPT_CRUD:
        o->crud = true;
        return true;
    case OPT_FORMAT:
        if (strcmp(arg, "md") != 0 && strcmp(arg, "json") != 0) {
            log_error("invalid --format \"%s\": use md or json", arg);
            return false;
        }
        o->format = arg;
        return true;
    case OPT_OUTPUT:
        o->output = arg;
        return true;
    case OPT_VERBOSE:
        log_set_level(LOG_LEVEL_DEBUG);
        return true;
    case OPT_QUIET:
        log_set_level(LOG_LEVEL_WARN);
        return true;
    case OPT_LOG_FILE:
        return log_open_file(arg);
    }
    return false;
}

int main(int argc, char **argv)
{
    conninfo_register_env_secrets();
    const char *env;

    if (argc < 2) {
        print_main_help(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_main_help(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("pgbaton %s\n", PGBATON_VERSION);
        return EXIT_OK;
    }
    const command_def *cmd = find_command(argv[1]);
    if (!cmd) {
        log_error("unknown command \"%s\": run \"pgbaton --help\" for the list of commands",
                  argv[1]);
        return EXIT_USAGE;
    }
    /* the fault tests' failpoints (a testing facility): refused when unknown */
    if (!failpoint_init())
        return EXIT_USAGE;

    /* getopt_long table from the command's accepted options */
    struct option longopts[OPT_COUNT + 1];
    char shortopts[3 * OPT_COUNT + 2];
    int nl = 0, ns = 0;
    shortopts[ns++] = ':'; /* report missing arguments distinctly */
    for (int i = 0; i < OPT_COUNT; i++) {
        if (!(cmd->accepts & BIT(i)))
            continue;
        const opt_def *d = &opt_defs[i];
        longopts[nl++] = (struct option){d->long_name, d->has_arg, NULL, 1000 + i};
        if (d->short_name) {
            shortopts[ns++] = (char)d->short_name;
            if (d->has_arg == required_argument)
                shortopts[ns++] = ':';
        }
    }
    longopts[nl] = (struct option){0};
    shortopts[ns] = '\0';

    pgb_options o = {
        .command = cmd->name,
        .name = "pgbaton",
        .jobs = 0,
        .split_larger_than = -1, /* auto: see src/copy.c */
        .max_lag = 1.0,
        .timeout = 300.0,
        .unlogged_recopy_max = 1024LL * 1024 * 1024,
        .sample = 10,
        .format = "md",
        .plugin = "auto",
    };

    int rc;
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(sub_argc, sub_argv, shortopts, longopts, NULL)) != -1) {
        int id = -1;
        if (c >= 1000) {
            id = c - 1000;
        } else if (c == '?' || c == ':') {
            const char *bad = sub_argv[optind - 1];
            if (c == ':')
                log_error("option %s needs a value: see \"pgbaton %s --help\"", bad, cmd->name);
            else
                log_error("unknown option %s for \"pgbaton %s\": see \"pgbaton %s --help\"", bad,
                          cmd->name, cmd->name);
            rc = EXIT_USAGE;
            goto out;
        } else {
            for (int i = 0; i < OPT_COUNT; i++)
                if ((cmd->accepts & BIT(i)) && opt_defs[i].short_name == c)
                    id = i;
        }
        rc = EXIT_USAGE;
        if (id < 0 || (id != OPT_HELP && !apply_option(&o, id, optarg)))
            goto out;
        if (id == OPT_HELP) {
            print_command_help(cmd);
            rc = EXIT_OK;
            goto out;
        }
    }
    if (optind < sub_argc) {
        log_error("unexpected argument \"%s\" for \"pgbaton %s\": see \"pgbaton %s --help\"",
                  sub_argv[optind], cmd->name, cmd->name);
        rc = EXIT_USAGE;
        goto out;
    }

    if ((cmd->accepts & BIT(OPT_SOURCE)) && !o.source && (env = getenv("PGBATON_SOURCE")))
        o.source = xstrdup(env);
    if ((cmd->accepts & BIT(OPT_TARGET)) && !o.target && (env = getenv("PGBATON_TARGET")))
        o.target = xstrdup(env);

    rc = cmd->run(&o);
out:
    free(o.source);
    free(o.target);
    filter_set_free(&o.filters);
    log_close();
    return rc;
}
