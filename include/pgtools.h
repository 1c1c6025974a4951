/*
 * include/pgtools.h — running PostgreSQL's client programs (pg_dump,
 * pg_restore, psql).
 *
 * The connection goes to the child as a key=value string WITHOUT the
 * password (for -d / --dbname); the password goes only into the child's
 * environment (PGPASSWORD), never into its argument list, so `ps` never shows
 * it. The child's stderr is collected and logged line by line, redacted,
 * after it exits.
 */
#ifndef PGBATON_PGTOOLS_H
#define PGBATON_PGTOOLS_H

#include "conninfo.h"

#include <stdbool.h>
#include <sys/types.h>

typedef struct pgtool {
    char *path;      /* absolute path, owned */
    int major;       /* major version, e.g. 15 */
    int version_num; /* e.g. 150020 */
} pgtool;

/* Find NAME ("pg_dump") with major version >= MIN_MAJOR: the highest among
 * /usr/lib/postgresql/N/bin, then PATH. On failure logs nothing and returns
 * false; *OUT then holds the best version found (path NULL when none). */
bool pgtool_find(const char *name, int min_major, pgtool *out);
void pgtool_free(pgtool *t);

/* Start asking, in a background thread, the versions pgtool_find(NAME)
 * will need, so that the `--version` processes run while the caller does
 * something else; a later pgtool_find uses (or waits for) the answers. */
void pgtool_prefetch(const char *name);

/* key=value connection string for CI without its password; malloc'd. */
char *pgtool_connstr(const conninfo *ci);

typedef struct pgtool_proc {
    pid_t pid;
    int errfd;        /* temporary file holding the child's stderr */
    const char *what; /* label for log lines, e.g. "pg_dump (source)" */
} pgtool_proc;

/* Start ARGV (argv[0] is the program's path) with the password of CI (may be
 * NULL) in its environment, stdin from IN_FD and stdout to OUT_FD (-1: the
 * null device / our own stdout respectively). Closes nothing of the
 * caller's. False (logged) when it cannot start. */
bool pgtool_spawn(const char *const *argv, const conninfo *ci, int in_fd, int out_fd,
                  const char *what, pgtool_proc *p) __attribute__((warn_unused_result));

/* Wait for the child, log its stderr (WARN when it failed, DEBUG
 * otherwise). Returns true when it exited 0. */
bool pgtool_wait(pgtool_proc *p);

/* spawn + wait. */
bool pgtool_run(const char *const *argv, const conninfo *ci, int in_fd, int out_fd,
                const char *what);

#endif
