/*
 * include/cli.h — parsed command-line options and the commands' entry points.
 *
 * main.c parses the command line into one pgb_options and calls the
 * command's function, which returns an exit code (include/exitcode.h).
 * Only main.c exits. Modules below the commands take their own option
 * structs, never pgb_options.
 */
#ifndef PGBATON_CLI_H
#define PGBATON_CLI_H

#include "conninfo.h"
#include "db.h"
#include "exitcode.h"
#include "filter.h"
#include "strlist.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct pgb_options {
    const char *command;
    char *source; /* raw connection string: secret, never printed; owned */
    char *target; /* idem */
    char *name;   /* migration name: slot, state row, fence messages */
    bool json;    /* machine-readable output */
    /* inventory */
    char *ddl_file;
    /* start */
    int jobs;
    int64_t split_larger_than; /* bytes */
    bool restart;
    bool roles;
    filter_set filters; /* --include-schema ... --exclude-table */
    /* check, start */
    const char *plugin;      /* "auto", "wal2json" or "pgoutput" */
    bool accept_nan_as_null; /* --plugin wal2json < 2.6 with NaN-capable columns */
    const char *metrics;     /* start --metrics [HOST:]PORT, or NULL */
    /* status */
    int watch;   /* seconds between refreshes, 0 = once */
    bool events; /* status --events: also the audit trail */
    /* cutover */
    double max_lag; /* seconds */
    double timeout; /* seconds */
    char *exec;
    bool skip_count;
    int64_t unlogged_recopy_max; /* bytes; 0 = never copy an unlogged table again */
    /* verify */
    int sample;
    bool crud;
    /* report */
    char *format;
    char *output;
} pgb_options;

/* Parse the source or target connection string from the options (or
 * PGBATON_SOURCE / PGBATON_TARGET). On failure logs one message naming the
 * problem and the fix and returns NULL: the caller exits EXIT_USAGE. */
conninfo *cli_conninfo(const pgb_options *o, db_side side) __attribute__((warn_unused_result));

/* Commands. Each returns an exit code. */
int cmd_check(const pgb_options *o);
int cmd_inventory(const pgb_options *o);
int cmd_start(const pgb_options *o);
int cmd_status(const pgb_options *o);
int cmd_cutover(const pgb_options *o);
int cmd_abort(const pgb_options *o);
int cmd_clean(const pgb_options *o);
int cmd_verify(const pgb_options *o);
int cmd_report(const pgb_options *o);

#endif
