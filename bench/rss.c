/*
 * bench/rss.c — run a command and report its peak resident set size.
 *
 *   rss -o FILE -- COMMAND [ARGS...]
 *
 * Forks, execs COMMAND, forwards SIGTERM/SIGINT/SIGHUP to it, waits for it
 * with wait4() and writes "maxrss_kb N" (ru_maxrss, in kB on Linux) to FILE.
 * The figure is the largest single process among COMMAND and the children it
 * waited for (pg_dump it spawns, for example): a peak, not a sum.
 * Exits with COMMAND's exit status, or 128 + the signal that ended it.
 *
 * Part of the benchmark harness only: built by bench/run.sh, never by make.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t child_pid = 0;

/* Pass a termination signal on to the command; we keep waiting for it. */
static void forward_signal(int sig)
{
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
}

static void install_forwarding(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static int usage(void)
{
    fprintf(stderr, "usage: rss -o FILE -- COMMAND [ARGS...]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 5 || strcmp(argv[1], "-o") != 0 || strcmp(argv[3], "--") != 0)
        return usage();
    const char *out_path = argv[2];
    char **cmd = &argv[4];

    /* hold the signals until child_pid is known, so none is lost */
    sigset_t held, old;
    sigemptyset(&held);
    sigaddset(&held, SIGTERM);
    sigaddset(&held, SIGINT);
    sigaddset(&held, SIGHUP);
    sigprocmask(SIG_BLOCK, &held, &old);
    install_forwarding();
    pid_t pid = fork();
    if (pid < 0) {
        perror("rss: fork");
        return 1;
    }
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL); /* exec resets the handlers */
        execvp(cmd[0], cmd);
        fprintf(stderr, "rss: cannot run %s: %s\n", cmd[0], strerror(errno));
        _exit(127);
    }
    child_pid = pid;
    sigprocmask(SIG_SETMASK, &old, NULL);

    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("rss: wait4");
            return 1;
        }
    }

    FILE *out = fopen(out_path, "w");
    if (out == NULL) {
        fprintf(stderr, "rss: cannot write %s: %s\n", out_path, strerror(errno));
        return 1;
    }
    fprintf(out, "maxrss_kb %ld\n", ru.ru_maxrss);
    fclose(out);

    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}
