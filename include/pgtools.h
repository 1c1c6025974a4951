/*
 * include/pgtools.h — running PostgreSQL's client programs (pg_dump,
 * pg_restore, psql).
 *
 * The connection goes to the child as a key=value string WITHOUT the
 * password (for -d / --dbname); the password goes only into the child's
 * environment (PGPASSWORD), never into its argument list, so `ps` never shows
 * it. The child's stderr is collected and logged line by line, redacted,
 * after it exits.
 *
 * Children are started with posix_spawn: pgbaton runs threads, and after
 * fork() in a threaded process the child may call only async-signal-safe
 * functions, so argument list and environment are built before the child
 * exists. No child inherits a descriptor of ours above 2 (connections,
 * pipes to other children), PGBATON_SOURCE or PGBATON_TARGET (unless the
 * caller sets it), an ignored SIGPIPE or a blocked signal.
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

/* What a child's descriptor 0, 1 or 2 becomes: a descriptor of ours, or
 * one of these. */
#define PGTOOL_INHERIT (-1) /* the same as ours */
#define PGTOOL_NULLDEV (-2) /* /dev/null */

/* One change to the environment a child gets: NAME set to VALUE, or
 * removed when VALUE is NULL. A list of them ends with name NULL. */
typedef struct pgtool_envvar {
    const char *name;
    const char *value;
} pgtool_envvar;

typedef struct pgtool_child {
    const char *const *argv;  /* argv[0] is the program's path; NULL-terminated */
    const pgtool_envvar *env; /* changes to our environment, or NULL */
    int in_fd, out_fd;        /* stdin, stdout: a descriptor or PGTOOL_* */
    int err_fd;               /* stderr: likewise */
    const char *what;         /* label for messages, e.g. "the --exec hook" */
    bool quiet;               /* log nothing when it cannot start */
} pgtool_child;

/* Start C's program. Returns its pid, or -1 when it cannot start (not
 * found, not executable, out of processes), logged naming C->what unless
 * C->quiet. Closes nothing of the caller's. */
pid_t pgtool_start(const pgtool_child *c) __attribute__((warn_unused_result));

/* Wait for PID to end, retrying on EINTR; *STATUS as waitpid sets it.
 * False (logged, naming WHAT) when waitpid fails otherwise. */
bool pgtool_reap(pid_t pid, const char *what, int *status) __attribute__((warn_unused_result));

typedef struct pgtool_proc {
    pid_t pid;
    int errfd;        /* temporary file holding the child's stderr */
    const char *what; /* label for log lines, e.g. "pg_dump (source)" */
    char error[512];  /* after pgtool_wait: the first line of its messages that
                       * says "error:", without the program's prefix and
                       * redacted; "" when none */
} pgtool_proc;

/* Start ARGV (argv[0] is the program's path) with the password of CI (may be
 * NULL) in its environment, stdin from IN_FD and stdout to OUT_FD (-1: the
 * null device / our own stdout respectively). Closes nothing of the
 * caller's. False (logged) when it cannot start. */
bool pgtool_spawn(const char *const *argv, const conninfo *ci, int in_fd, int out_fd,
                  const char *what, pgtool_proc *p) __attribute__((warn_unused_result));

/* Wait for the child, log its stderr (WARN when it failed, DEBUG
 * otherwise). Returns true when it exited 0. When a stop signal arrives
 * (signals_stop_requested) before it ends, the child is sent SIGTERM and
 * waited for, and the result is false ("X was terminated"): a stop is
 * answered at once, not after the child's work. */
bool pgtool_wait(pgtool_proc *p);

/* spawn + wait. */
bool pgtool_run(const char *const *argv, const conninfo *ci, int in_fd, int out_fd,
                const char *what);

#endif
