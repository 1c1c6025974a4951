/*
 * src/log.c — logging with levels, timestamps and redaction.
 *
 * Redaction: secrets (passwords parsed from connection strings, the raw
 * connection strings themselves) are registered once at start-up; each line
 * is formatted into a buffer, every occurrence of a secret is replaced by
 * "****", and only then written. One mutex serialises writers so that lines
 * from copy workers never interleave.
 */
#include "log.h"
#include "strbuf.h"
#include "strlist.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static log_level min_level = LOG_LEVEL_INFO;
static FILE *log_file;  /* --log-file, or NULL */
static strlist secrets; /* no cap: every secret registered is masked */

static const char *level_names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

void log_set_level(log_level level)
{
    pthread_mutex_lock(&log_lock);
    min_level = level;
    pthread_mutex_unlock(&log_lock);
}

bool log_open_file(const char *path)
{
    FILE *f = fopen(path, "a");
    if (!f) {
        log_error("cannot open log file \"%s\": %m; check the directory exists and is writable",
                  path);
        return false;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    pthread_mutex_lock(&log_lock);
    log_file = f;
    pthread_mutex_unlock(&log_lock);
    return true;
}

void log_close(void)
{
    pthread_mutex_lock(&log_lock);
    if (log_file)
        fclose(log_file);
    log_file = NULL;
    pthread_mutex_unlock(&log_lock);
}

void log_add_secret(const char *secret)
{
    if (!secret || !*secret)
        return;
    pthread_mutex_lock(&log_lock);
    for (int i = 0; i < secrets.n; i++) {
        if (strcmp(secrets.items[i], secret) == 0) {
            pthread_mutex_unlock(&log_lock);
            return;
        }
    }
    strlist_add(&secrets, secret);
    pthread_mutex_unlock(&log_lock);
}

void log_forget_secrets(void)
{
    pthread_mutex_lock(&log_lock);
    strlist_free(&secrets);
    pthread_mutex_unlock(&log_lock);
}

static bool is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Does secret S (length N) match at P, where P is START's position? Very short
 * secrets (under SHORT_SECRET characters) only match standing alone, so that a
 * password "pw" does not turn every word containing "pw" into stars. */
#define SHORT_SECRET 4
static bool secret_at(const char *start, const char *p, const char *s, size_t n)
{
    if (strncmp(p, s, n) != 0)
        return false;
    if (n >= SHORT_SECRET)
        return true;
    bool left_ok = p == start || !is_word_char(p[-1]);
    bool right_ok = !is_word_char(p[n]);
    return left_ok && right_ok;
}

/* Caller holds log_lock. Longest secrets are tried first at each position so
 * that a secret containing another is masked whole. */
static char *redact_locked(const char *text)
{
    strbuf out = {0};
    strbuf_reserve(&out, strlen(text));
    const char *p = text;
    while (*p) {
        size_t best = 0;
        for (int i = 0; i < secrets.n; i++) {
            size_t n = strlen(secrets.items[i]);
            if (n > best && secret_at(text, p, secrets.items[i], n))
                best = n;
        }
        if (best) {
            strbuf_puts(&out, "****");
            p += best;
        } else {
            strbuf_putc(&out, *p);
            p++;
        }
    }
    return out.data;
}

char *log_redact(const char *text)
{
    pthread_mutex_lock(&log_lock);
    char *r = redact_locked(text ? text : "");
    pthread_mutex_unlock(&log_lock);
    return r;
}

void log_msg(log_level level, const char *fmt, ...)
{
    /* under the lock: log_close() (at exit) may be clearing log_file while
     * a thread still logs */
    pthread_mutex_lock(&log_lock);
    log_level file_min = min_level < LOG_LEVEL_INFO ? min_level : LOG_LEVEL_INFO;
    bool wanted = level >= min_level || (log_file && level >= file_min);
    pthread_mutex_unlock(&log_lock);
    if (!wanted)
        return;

    char stackbuf[1024];
    char *msg = stackbuf;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(stackbuf, sizeof stackbuf, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof stackbuf) {
        msg = xmalloc((size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    /* strip trailing newlines: libpq messages end with one */
    size_t mlen = strlen(msg);
    while (mlen > 0 && (msg[mlen - 1] == '\n' || msg[mlen - 1] == '\r'))
        msg[--mlen] = '\0';

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);

    pthread_mutex_lock(&log_lock);
    file_min = min_level < LOG_LEVEL_INFO ? min_level : LOG_LEVEL_INFO;
    char *clean = redact_locked(msg);
    if (level >= min_level)
        fprintf(stderr, "%s.%03d %s %s\n", ts, (int)(tv.tv_usec / 1000), level_names[level], clean);
    if (log_file && level >= file_min)
        fprintf(log_file, "%s.%03d %s %s\n", ts, (int)(tv.tv_usec / 1000), level_names[level],
                clean);
    pthread_mutex_unlock(&log_lock);
    free(clean);
    if (msg != stackbuf)
        free(msg);
}

bool log_stderr_is_tty(void)
{
    return isatty(STDERR_FILENO) == 1;
}
