/*
 * src/metrics.c — the Prometheus endpoint of `start --metrics` (see
 * include/metrics.h).
 *
 * One thread: it waits for a connection (polling a stop flag every
 * POLL_MS), reads one request, answers it and closes the connection
 * (HTTP/1.1 with "Connection: close"). GET /metrics reads a status snapshot
 * on the thread's own sessions (opened at the first scrape, opened again
 * after a failure) and renders it; any other path is a 404, any other
 * method a 405. A slow or silent client is dropped after READ_TIMEOUT_MS,
 * so that it cannot hold the endpoint.
 */
#include "metrics.h"

#include "log.h"
#include "strbuf.h"
#include "strutil.h"
#include "xalloc.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define POLL_MS         250
#define READ_TIMEOUT_MS 2000
#define REQUEST_MAX     8192

/* ---- the address ------------------------------------------------------------ */

static bool valid_port(const char *p)
{
    if (!*p || strlen(p) > 5)
        return false;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    long n = strtol(p, NULL, 10);
    return n >= 1 && n <= 65535;
}

bool metrics_parse(const char *spec, char **host, char **port, char **err)
{
    *host = *port = *err = NULL;
    const char *colon = strrchr(spec, ':');
    char *h = NULL;
    const char *p = spec;
    bool bracketed = spec[0] == '[';
    if (bracketed) {
        const char *close = strchr(spec, ']');
        if (close && close[1] == ':') {
            h = xstrndup(spec + 1, (size_t)(close - spec - 1));
            p = close + 2;
        }
    } else if (colon) {
        h = xstrndup(spec, (size_t)(colon - spec));
        p = colon + 1;
    }
    /* an IPv6 address needs its brackets: "::1:9187" is ambiguous */
    if (!valid_port(p) || (bracketed && !h) || (h && (!*h || (!bracketed && strchr(h, ':'))))) {
        free(h);
        *err = xstrdup("write it as PORT (on 127.0.0.1), HOST:PORT or [IPv6]:PORT, with a "
                       "port from 1 to 65535, for example --metrics 9187");
        return false;
    }
    *host = h ? h : xstrdup("127.0.0.1");
    *port = xstrdup(p);
    return true;
}

/* ---- the text --------------------------------------------------------------- */

/* Append S as a label value: backslash, double quote and newline escaped. */
static void put_label(strbuf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '\\' || *p == '"')
            strbuf_putc(b, '\\');
        if (*p == '\n')
            strbuf_puts(b, "\\n");
        else if (*p != '\r')
            strbuf_putc(b, *p);
    }
}

/* A metric without labels but the migration's: HELP, TYPE and the value
 * (NaN when unknown, as the format allows). */
static void metric(strbuf *b, const char *name, const char *type, const char *help,
                   const char *migration, double v)
{
    strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s{migration=\"", name, help, name, type, name);
    put_label(b, migration);
    if (isnan(v))
        strbuf_puts(b, "\"} NaN\n");
    else
        strbuf_printf(b, "\"} %.17g\n", v);
}

static double known(int64_t v)
{
    return v < 0 ? NAN : (double)v;
}

char *metrics_render(const char *name, const status_snapshot *s, bool read_ok)
{
    strbuf b = {0};
    metric(&b, "pgbaton_up", "gauge", "1 while this pgbaton start serves metrics.", name, 1);
    metric(&b, "pgbaton_state_read_ok", "gauge",
           "1 when this scrape read the migration's state on the target.", name, read_ok);
    if (!read_ok)
        return b.data;
    metric(&b, "pgbaton_migration_found", "gauge",
           "1 when the migration is recorded on the target.", name, s->found);
    if (!s->found)
        return b.data;
    strbuf_puts(&b, "# HELP pgbaton_phase The migration's phase as `pgbaton status` shows it "
                    "(1 for the current one).\n# TYPE pgbaton_phase gauge\n");
    for (state_phase p = PHASE_COPYING; p <= PHASE_STOPPED; p++) {
        strbuf_puts(&b, "pgbaton_phase{migration=\"");
        put_label(&b, name);
        strbuf_printf(&b, "\",phase=\"%s\"} %d\n", state_phase_name(p),
                      strcmp(s->phase, state_phase_name(p)) == 0);
    }
    metric(&b, "pgbaton_start_alive", "gauge", "1 while start's sign of life is fresh.", name,
           s->alive);
    metric(&b, "pgbaton_tables", "gauge", "Tables of the migration.", name, s->ntables);
    metric(&b, "pgbaton_tables_copied", "gauge", "Tables whose copy is complete.", name,
           s->tables_copied);
    metric(&b, "pgbaton_rows_copied_total", "counter", "Rows copied by the initial copy.", name,
           (double)s->rows_copied);
    metric(&b, "pgbaton_copy_sent_bytes_total", "counter",
           "Bytes of COPY data sent to the target by the initial copy.", name,
           (double)s->bytes_copied);
    metric(&b, "pgbaton_source_table_bytes", "gauge",
           "Size on disk of the source tables being copied.", name, (double)s->bytes_total);
    metric(&b, "pgbaton_changes_applied_total", "counter",
           "Changes applied to the target by the stream.", name, (double)s->changes_applied);
    metric(&b, "pgbaton_lag_bytes", "gauge",
           "WAL of the source not yet applied to the target (NaN: unknown).", name,
           known(s->lag_bytes));
    metric(&b, "pgbaton_lag_seconds", "gauge",
           "Age of the oldest change not yet applied, on the source's clock (NaN: unknown).", name,
           s->lag_seconds);
    metric(&b, "pgbaton_apply_rate", "gauge", "Changes applied per second, recently.", name,
           s->apply_rate);
    metric(&b, "pgbaton_wal_retained_bytes", "gauge",
           "WAL the source keeps for the slot (NaN: unknown).", name, known(s->wal_retained));
    strbuf_puts(&b, "# HELP pgbaton_last_error 1 with the last error recorded on the target as "
                    "its message label; 0 when there is none.\n# TYPE pgbaton_last_error gauge\n"
                    "pgbaton_last_error{migration=\"");
    put_label(&b, name);
    strbuf_puts(&b, "\",message=\"");
    if (s->last_error) {
        char *clean = log_redact(s->last_error);
        put_label(&b, clean);
        free(clean);
    }
    strbuf_printf(&b, "\"} %d\n", s->last_error != NULL);
    return b.data;
}

/* ---- the server ------------------------------------------------------------- */

struct metrics_server {
    int fd; /* listening socket */
    const conninfo *source, *target;
    char *name;
    char *where; /* "HOST:PORT", for messages */
    db_conn *src, *tgt;
    status_prev prev;
    atomic_bool stop;
    pthread_t thread;
};

/* Read a snapshot (opening the sessions as needed) and render it. */
static char *scrape(metrics_server *m)
{
    db_connect_opts co = {.application_name = "pgbaton metrics", .errmode = DB_QUIET};
    if (!m->tgt)
        m->tgt = db_connect(m->target, DB_TARGET, &co, NULL, NULL);
    char *err = NULL;
    if (!m->src)
        m->src = db_connect(m->source, DB_SOURCE, &co, NULL, &err);
    status_snapshot s;
    bool ok = m->tgt && status_read(m->src, m->tgt, m->name, &m->prev, &s);
    char *text;
    if (ok) {
        if (!m->src && s.found && !s.source_error) {
            s.source_error = err;
            err = NULL;
        }
        text = metrics_render(m->name, &s, true);
        status_free(&s);
    } else {
        text = metrics_render(m->name, NULL, false);
        db_close(m->tgt); /* a new session at the next scrape */
        m->tgt = NULL;
    }
    free(err);
    if (m->src && !db_alive(m->src)) {
        db_close(m->src);
        m->src = NULL;
    }
    return text;
}

static void reply(int fd, const char *status, const char *type, const char *body)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, type, strlen(body));
    if (send(fd, head, (size_t)n, MSG_NOSIGNAL) == n)
        (void)send(fd, body, strlen(body), MSG_NOSIGNAL);
}

/* Read a request's head (up to the blank line) into BUF; false when the
 * client sends too much, too slowly, or nothing. */
static bool read_request(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    while (len + 1 < cap) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, READ_TIMEOUT_MS) <= 0)
            return false;
        ssize_t got = recv(fd, buf + len, cap - 1 - len, 0);
        if (got <= 0)
            return false;
        len += (size_t)got;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
            return true;
    }
    return false;
}

static void serve(metrics_server *m, int fd)
{
    char req[REQUEST_MAX];
    if (!read_request(fd, req, sizeof req))
        return;
    char method[16] = "", path[256] = "";
    if (sscanf(req, "%15s %255s", method, path) != 2) {
        reply(fd, "400 Bad Request", "text/plain", "bad request\n");
        return;
    }
    path[strcspn(path, "?")] = '\0';
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        reply(fd, "405 Method Not Allowed", "text/plain", "use GET /metrics\n");
        return;
    }
    if (strcmp(path, "/metrics") != 0) {
        reply(fd, "404 Not Found", "text/plain", "pgbaton serves its metrics at /metrics\n");
        return;
    }
    char *text = scrape(m);
    reply(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", text);
    free(text);
}

static void *run(void *arg)
{
    metrics_server *m = arg;
    while (!atomic_load(&m->stop)) {
        struct pollfd p = {.fd = m->fd, .events = POLLIN};
        int n = poll(&p, 1, POLL_MS);
        if (n <= 0)
            continue;
        int c = accept(m->fd, NULL, NULL);
        if (c < 0)
            continue;
        serve(m, c);
        close(c);
    }
    return NULL;
}

/* A socket listening on HOST:PORT, or -1 with *ERR set. */
static int listen_on(const char *host, const char *port, char **err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        *err = str_printf("cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, last = 0;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 8) != 0) {
            last = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        *err = str_printf("cannot listen on %s:%s: %s (is another process using the "
                          "port? choose another with --metrics)",
                          host, port, strerror(last));
    return fd;
}

metrics_server *metrics_start(const char *spec, const conninfo *source, const conninfo *target,
                              const char *name, char **err)
{
    char *host, *port, *why;
    if (!metrics_parse(spec, &host, &port, &why)) {
        *err = str_printf("invalid --metrics \"%s\": %s", spec, why);
        free(why);
        return NULL;
    }
    int fd = listen_on(host, port, err);
    if (fd < 0) {
        free(host);
        free(port);
        return NULL;
    }
    metrics_server *m = xcalloc(1, sizeof *m);
    m->fd = fd;
    m->source = source;
    m->target = target;
    m->name = xstrdup(name);
    m->where = str_printf("%s:%s", host, port);
    free(host);
    free(port);
    atomic_init(&m->stop, false);
    int e = pthread_create(&m->thread, NULL, run, m);
    if (e != 0) {
        *err = str_printf("cannot start the metrics thread: %s", strerror(e));
        close(fd);
        free(m->name);
        free(m->where);
        free(m);
        return NULL;
    }
    log_info("metrics served at http://%s/metrics", m->where);
    return m;
}

void metrics_stop(metrics_server *m)
{
    if (!m)
        return;
    atomic_store(&m->stop, true);
    pthread_join(m->thread, NULL);
    close(m->fd);
    db_close(m->src);
    db_close(m->tgt);
    free(m->name);
    free(m->where);
    free(m);
}
