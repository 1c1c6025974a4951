/*
 * src/pgtools.c — find and run pg_dump / pg_restore / psql (and the
 * cutover's --exec hook) safely from a threaded process: posix_spawn with
 * an argument list and environment built beforehand, the password only in
 * the environment, no descriptor of ours inherited. A child pgbaton waits
 * for (pgtool_wait) is terminated when a stop signal arrives: a pg_restore
 * -j N of the post-data section would otherwise run its index and key
 * builds to the end before start could stop.
 */
#include "pgtools.h"

#include "log.h"
#include "signals.h"
#include "strbuf.h"
#include "strutil.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* --- starting a child -----------------------------------------------------
 *
 * pgbaton has threads (copy workers, connection and version prefetches)
 * whenever it starts a program, and after fork() in a threaded process the
 * child may only call async-signal-safe functions: no malloc, no setenv, no
 * stdio, no logging (another thread may have held their locks at the fork).
 * So everything the child needs (argument list, environment, descriptor
 * moves) is prepared here, in the parent, and posix_spawn does the rest;
 * an exec failure comes back as its return value instead of a message the
 * child would have had to print. */

/* Does ENTRY ("NAME=value") set NAME? */
static bool env_entry_is(const char *entry, const char *name)
{
    size_t n = strlen(name);
    return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* Connection strings of our own, perhaps with passwords, that no child
 * inherits (a hook gets PGBATON_TARGET back explicitly). */
static const char *const env_never_inherited[] = {"PGBATON_SOURCE", "PGBATON_TARGET", NULL};

static bool env_dropped(const char *entry, const pgtool_envvar *changes)
{
    for (int i = 0; env_never_inherited[i]; i++)
        if (env_entry_is(entry, env_never_inherited[i]))
            return true;
    for (int i = 0; changes && changes[i].name; i++)
        if (env_entry_is(entry, changes[i].name))
            return true;
    return false;
}

/* Our environment minus env_never_inherited, with CHANGES applied (may be
 * NULL). NULL-terminated; the array and its strings are new, freed by
 * env_free. */
static char **env_build(const pgtool_envvar *changes)
{
    size_t n = 0, nchanges = 0;
    while (environ && environ[n])
        n++;
    while (changes && changes[nchanges].name)
        nchanges++;
    char **env = xcalloc(n + nchanges + 1, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!env_dropped(environ[i], changes))
            env[k++] = xstrdup(environ[i]);
    for (size_t i = 0; i < nchanges; i++)
        if (changes[i].value)
            env[k++] = str_printf("%s=%s", changes[i].name, changes[i].value);
    env[k] = NULL;
    return env;
}

/* Free ENV, wiping each string first: one may hold a password. */
static void env_free(char **env)
{
    for (size_t i = 0; env[i]; i++) {
        explicit_bzero(env[i], strlen(env[i]));
        free(env[i]);
    }
    free(env);
}

/* Make the child's descriptor TARGET what SPEC says (see pgtool_child). */
static int plan_fd(posix_spawn_file_actions_t *fa, int target, int spec, int null_flags)
{
    if (spec == PGTOOL_INHERIT || spec == target)
        return 0;
    if (spec == PGTOOL_NULLDEV)
        return posix_spawn_file_actions_addopen(fa, target, "/dev/null", null_flags, 0);
    return posix_spawn_file_actions_adddup2(fa, spec, target);
}

/* The descriptor moves of C, then every other descriptor closed (our
 * connections, pipes to other children). 0 or an errno value. */
static int plan_files(posix_spawn_file_actions_t *fa, const pgtool_child *c)
{
    int err = plan_fd(fa, STDIN_FILENO, c->in_fd, O_RDONLY);
    if (!err)
        err = plan_fd(fa, STDOUT_FILENO, c->out_fd, O_WRONLY);
    if (!err)
        err = plan_fd(fa, STDERR_FILENO, c->err_fd, O_WRONLY);
    if (!err)
        err = posix_spawn_file_actions_addclosefrom_np(fa, STDERR_FILENO + 1);
    return err;
}

/* Default dispositions for the signals pgbaton catches or ignores (an
 * ignored SIGPIPE would survive the exec) and no signal blocked. */
static int plan_signals(posix_spawnattr_t *attr)
{
    sigset_t def, none;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    int err = posix_spawnattr_setsigdefault(attr, &def);
    if (!err)
        err = posix_spawnattr_setsigmask(attr, &none);
    if (!err)
        err = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    return err;
}

pid_t pgtool_start(const pgtool_child *c)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int err = posix_spawn_file_actions_init(&fa);
    if (err) {
        errno = err;
        if (!c->quiet)
            log_error("cannot start %s: %m", c->what);
        return -1;
    }
    err = posix_spawnattr_init(&attr);
    if (err) {
        posix_spawn_file_actions_destroy(&fa);
        errno = err;
        if (!c->quiet)
            log_error("cannot start %s: %m", c->what);
        return -1;
    }
    char **env = env_build(c->env);
    pid_t pid = -1;
    err = plan_files(&fa, c);
    if (!err)
        err = plan_signals(&attr);
    if (!err)
        err = posix_spawn(&pid, c->argv[0], &fa, &attr, (char *const *)c->argv, env);
    env_free(env);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    if (err) {
        errno = err;
        if (!c->quiet)
            log_error("cannot start %s (%s): %m", c->what, c->argv[0]);
        return -1;
    }
    return pid;
}

bool pgtool_reap(pid_t pid, const char *what, int *status)
{
    for (;;) {
        if (waitpid(pid, status, 0) == pid)
            return true;
        if (errno != EINTR)
            break;
    }
    log_error("cannot learn how %s (process %ld) ended: waitpid: %m", what, (long)pid);
    return false;
}

/* Run "PATH --version" and parse "(PostgreSQL) 15.20" into 150020; 0 when
 * it cannot be run or says something else. */
static int tool_version(const char *path)
{
    int fds[2];
    /* close-on-exec: a program another thread starts meanwhile must not
     * hold the write end (the read below would wait for it to exit) */
    if (pipe2(fds, O_CLOEXEC) != 0)
        return 0;
    const char *argv[] = {path, "--version", NULL};
    pgtool_child child = {.argv = argv,
                          .in_fd = PGTOOL_NULLDEV,
                          .out_fd = fds[1],
                          .err_fd = PGTOOL_NULLDEV,
                          .what = path,
                          .quiet = true};
    pid_t pid = pgtool_start(&child);
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return 0;
    }
    char buf[256] = {0};
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fds[0], buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == sizeof buf - 1)
            break;
    }
    close(fds[0]);
    int st;
    if (!pgtool_reap(pid, path, &st) || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return 0;
    const char *p = strstr(buf, ") ");
    if (!p)
        return 0;
    int maj = 0, min = 0;
    if (sscanf(p + 2, "%d.%d", &maj, &min) < 1)
        return 0;
    return maj >= 10 ? maj * 10000 + min : 0;
}

/* Versions already asked, by path: one start asks for pg_dump's and
 * pg_restore's several times (preflight, dump, restores), and each
 * `--version` is a process start. An entry is added before its process
 * runs (ready = false), so a second asker waits for the first instead of
 * starting another. */
#define VERSION_CACHE 16
static struct {
    char *path;
    int version;
    bool ready;
} version_cache[VERSION_CACHE];
static int version_cached;
static pthread_mutex_t version_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t version_ready = PTHREAD_COND_INITIALIZER;

static int cached_version(const char *path)
{
    pthread_mutex_lock(&version_lock);
    for (int i = 0; i < version_cached; i++)
        if (strcmp(version_cache[i].path, path) == 0) {
            while (!version_cache[i].ready)
                pthread_cond_wait(&version_ready, &version_lock);
            int v = version_cache[i].version;
            pthread_mutex_unlock(&version_lock);
            return v;
        }
    if (version_cached == VERSION_CACHE) {
        pthread_mutex_unlock(&version_lock);
        return tool_version(path);
    }
    int i = version_cached++;
    version_cache[i].path = xstrdup(path);
    version_cache[i].ready = false;
    pthread_mutex_unlock(&version_lock);
    int v = tool_version(path);
    pthread_mutex_lock(&version_lock);
    version_cache[i].version = v;
    version_cache[i].ready = true;
    pthread_cond_broadcast(&version_ready);
    pthread_mutex_unlock(&version_lock);
    return v;
}

static void *prefetch_main(void *arg)
{
    pgtool t;
    pgtool_find(arg, 0, &t);
    pgtool_free(&t);
    free(arg);
    return NULL;
}

void pgtool_prefetch(const char *name)
{
    pthread_attr_t attr;
    pthread_t th;
    char *copy = xstrdup(name);
    if (pthread_attr_init(&attr) != 0) {
        free(copy);
        return;
    }
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, prefetch_main, copy) != 0)
        free(copy); /* no harm: pgtool_find asks when it needs to */
    pthread_attr_destroy(&attr);
}

static void consider(const char *path, int min_major, pgtool *best)
{
    if (access(path, X_OK) != 0)
        return;
    int v = cached_version(path);
    if (v == 0 || (best->path && best->version_num >= v))
        return;
    free(best->path);
    best->path = xstrdup(path);
    best->version_num = v;
    best->major = v / 10000;
    (void)min_major;
}

bool pgtool_find(const char *name, int min_major, pgtool *out)
{
    memset(out, 0, sizeof *out);
    char path[4096];
    DIR *d = opendir("/usr/lib/postgresql");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "/usr/lib/postgresql/%s/bin/%s", e->d_name, name);
            consider(path, min_major, out);
        }
        closedir(d);
    }
    if (!out->path || out->major < min_major) {
        const char *envpath = getenv("PATH");
        char *copy = xstrdup(envpath ? envpath : "/usr/bin:/bin");
        char *save = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
            snprintf(path, sizeof path, "%s/%s", dir, name);
            consider(path, min_major, out);
        }
        free(copy);
    }
    return out->path && out->major >= min_major;
}

void pgtool_free(pgtool *t)
{
    free(t->path);
    t->path = NULL;
}

char *pgtool_connstr(const conninfo *ci)
{
    strbuf s = {0};
    strbuf_reserve(&s, 256);
    for (int i = 0; ci->keys[i]; i++) {
        if (strcmp(ci->keys[i], "password") == 0)
            continue;
        strbuf_printf(&s, "%s%s='", s.len ? " " : "", ci->keys[i]);
        for (const char *p = ci->values[i]; *p; p++) {
            if (*p == '\'' || *p == '\\')
                strbuf_putc(&s, '\\');
            strbuf_putc(&s, *p);
        }
        strbuf_putc(&s, '\'');
    }
    return s.data;
}

bool pgtool_spawn(const char *const *argv, const conninfo *ci, int in_fd, int out_fd,
                  const char *what, pgtool_proc *p)
{
    p->pid = -1;
    p->what = what;
    p->error[0] = '\0';
    FILE *errf = tmpfile();
    if (!errf) {
        log_error("cannot start %s: no temporary file for its messages: %m", what);
        return false;
    }
    /* close-on-exec in the parent: programs other threads start meanwhile
     * must not hold it (the child gets it as its stderr) */
    p->errfd = fcntl(fileno(errf), F_DUPFD_CLOEXEC, 0);
    fclose(errf);
    if (p->errfd < 0) {
        log_error("cannot start %s: no descriptor for its messages: %m", what);
        return false;
    }
    /* the password only in the environment, never in the arguments */
    const char *password = ci ? conninfo_get(ci, "password") : NULL;
    pgtool_envvar env[] = {{"PGPASSWORD", password}, {NULL, NULL}};
    pgtool_child child = {
        .argv = argv,
        .env = password ? env : NULL,
        .in_fd = in_fd >= 0 ? in_fd : PGTOOL_NULLDEV,
        .out_fd = out_fd >= 0 ? out_fd : PGTOOL_INHERIT,
        .err_fd = p->errfd,
        .what = what,
    };
    p->pid = pgtool_start(&child);
    if (p->pid < 0) {
        close(p->errfd);
        p->errfd = -1;
        return false;
    }
    return true;
}

/* LINE (a message of P's child) as P->error: one line, redacted. */
static void keep_error(pgtool_proc *p, const char *line)
{
    char *clean = log_redact(line);
    snprintf(p->error, sizeof p->error, "%.*s", (int)strcspn(clean, "\r\n"), clean);
    free(clean);
}

/* Log the child's collected stderr, at WARN when it failed; its first error
 * line into P->error. Closes P->errfd. */
static void log_child_messages(pgtool_proc *p, bool failed)
{
    FILE *f = fdopen(p->errfd, "r");
    if (!f) {
        log_warn("cannot read the messages of %s: %m", p->what);
        close(p->errfd);
        p->errfd = -1;
        return;
    }
    rewind(f);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        const char *e = strstr(line, "error: ");
        if (e && !p->error[0])
            keep_error(p, e + strlen("error: "));
        if (failed)
            log_warn("%s: %s", p->what, line);
        else
            log_debug("%s: %s", p->what, line);
    }
    fclose(f);
    p->errfd = -1;
}

/* How often a waiting parent looks for a stop signal. The signal may be
 * delivered to any of our threads, so a blocking waitpid in this one is not
 * reliably interrupted by it: poll instead. */
#define STOP_POLL_MS 50

/* Wait for P's child like pgtool_reap; when a stop signal arrives first,
 * send it SIGTERM (pg_restore and pg_dump then cancel their queries, their
 * parallel workers included, and exit) and wait for it to end. *TERMINATED
 * says whether we did. */
static bool reap_or_terminate(pgtool_proc *p, int *status, bool *terminated)
{
    *terminated = false;
    for (;;) {
        pid_t r = waitpid(p->pid, status, WNOHANG);
        if (r == p->pid)
            return true;
        if (r < 0 && errno != EINTR) {
            log_error("cannot learn how %s (process %ld) ended: waitpid: %m", p->what,
                      (long)p->pid);
            return false;
        }
        if (signals_stop_requested()) {
            log_info("stop requested: terminating %s (process %ld)", p->what, (long)p->pid);
            if (kill(p->pid, SIGTERM) == 0) {
                *terminated = true;
                return pgtool_reap(p->pid, p->what, status);
            }
            if (errno != ESRCH) /* ESRCH: it has just ended; reap it above */
                log_warn("cannot terminate %s (process %ld): %m", p->what, (long)p->pid);
            return pgtool_reap(p->pid, p->what, status);
        }
        struct timespec pause = {.tv_sec = 0, .tv_nsec = STOP_POLL_MS * 1000L * 1000L};
        nanosleep(&pause, NULL);
    }
}

bool pgtool_wait(pgtool_proc *p)
{
    int st = 0;
    bool terminated = false;
    bool reaped = reap_or_terminate(p, &st, &terminated);
    bool ok = reaped && !terminated && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    log_child_messages(p, !ok && !terminated);
    if (terminated)
        log_error("%s was terminated: a stop signal interrupted it", p->what);
    else if (reaped && WIFSIGNALED(st)) /* (not reaped: pgtool_reap said why) */
        log_error("%s was killed by signal %d (%s)", p->what, WTERMSIG(st),
                  strsignal(WTERMSIG(st)));
    else if (reaped && !ok)
        log_error("%s failed with exit code %d (its messages are above)", p->what, WEXITSTATUS(st));
    p->pid = -1;
    return ok;
}

bool pgtool_run(const char *const *argv, const conninfo *ci, int in_fd, int out_fd,
                const char *what)
{
    pgtool_proc p;
    if (!pgtool_spawn(argv, ci, in_fd, out_fd, what, &p))
        return false;
    return pgtool_wait(&p);
}
