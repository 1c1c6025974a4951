/*
 * src/pgtools.c — find and run pg_dump / pg_restore / psql safely.
 */
#include "pgtools.h"

#include "log.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Run "PATH --version" and parse "(PostgreSQL) 15.20" into 150020. */
static int tool_version(const char *path)
{
    int fds[2];
    /* close-on-exec: a program another thread starts meanwhile must not
     * hold the write end (the read below would wait for it to exit) */
    if (pipe2(fds, O_CLOEXEC) != 0)
        return 0;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return 0;
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, STDERR_FILENO);
        close(fds[0]);
        execl(path, path, "--version", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[256] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    if (n <= 0)
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
    size_t cap = 256, len = 0;
    char *s = xmalloc(cap);
    s[0] = '\0';
    for (int i = 0; ci->keys[i]; i++) {
        if (strcmp(ci->keys[i], "password") == 0)
            continue;
        const char *v = ci->values[i];
        size_t need = len + strlen(ci->keys[i]) + 2 * strlen(v) + 8;
        if (need > cap) {
            while (need > cap)
                cap *= 2;
            s = xrealloc(s, cap);
        }
        len += (size_t)sprintf(s + len, "%s%s='", len ? " " : "", ci->keys[i]);
        for (const char *p = v; *p; p++) {
            if (*p == '\'' || *p == '\\')
                s[len++] = '\\';
            s[len++] = *p;
        }
        s[len++] = '\'';
        s[len] = '\0';
    }
    return s;
}

bool pgtool_spawn(const char *const *argv, const conninfo *ci, int in_fd, int out_fd,
                  const char *what, pgtool_proc *p)
{
    p->pid = -1;
    p->what = what;
    FILE *errf = tmpfile();
    if (!errf) {
        log_error("cannot start %s: no temporary file for its messages: %m", what);
        return false;
    }
    p->errfd = dup(fileno(errf));
    fclose(errf);

    const char *password = ci ? conninfo_get(ci, "password") : NULL;
    pid_t pid = fork();
    if (pid < 0) {
        log_error("cannot start %s: %m", what);
        close(p->errfd);
        return false;
    }
    if (pid == 0) {
        /* child: our connection strings must not leak into its environment */
        unsetenv("PGBATON_SOURCE");
        unsetenv("PGBATON_TARGET");
        if (password)
            setenv("PGPASSWORD", password, 1);
        if (in_fd < 0)
            in_fd = open("/dev/null", O_RDONLY);
        if (in_fd >= 0 && in_fd != STDIN_FILENO)
            dup2(in_fd, STDIN_FILENO);
        if (out_fd >= 0 && out_fd != STDOUT_FILENO)
            dup2(out_fd, STDOUT_FILENO);
        dup2(p->errfd, STDERR_FILENO);
        /* close every other descriptor (pipes to other children included) */
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot execute %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    p->pid = pid;
    return true;
}

bool pgtool_wait(pgtool_proc *p)
{
    int st = 0;
    while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
        ;
    bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    FILE *f = fdopen(p->errfd, "r");
    if (f) {
        rewind(f);
        char line[4096];
        while (fgets(line, sizeof line, f)) {
            if (ok)
                log_debug("%s: %s", p->what, line);
            else
                log_warn("%s: %s", p->what, line);
        }
        fclose(f);
    } else {
        close(p->errfd);
    }
    if (!ok) {
        if (WIFSIGNALED(st))
            log_error("%s was killed by signal %d", p->what, WTERMSIG(st));
        else
            log_error("%s failed with exit code %d (its messages are above)", p->what,
                      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
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
