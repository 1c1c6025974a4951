/*
 * src/failpoint.c — named failure points for the fault tests (see
 * include/failpoint.h for the syntax and docs/testing.md for where each
 * point is).
 *
 * The variable is parsed once by failpoint_init (main, before any thread);
 * afterwards the specs are only read. Hits are counted per spec with an
 * atomic counter, because copy workers pass copy.rows and copy.index
 * concurrently: exactly one thread sees the count reach N. An armed error
 * is kept per thread (the thread that passed the point fails its own next
 * query on that side), so that a heartbeat or keepalive thread cannot take
 * it instead.
 */
#include "failpoint.h"

#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const failpoint_names[] = {
    "start.slot-created",      /* the slot exists, its consistent point not yet recorded */
    "start.pre-data",          /* pre-data restored, the tables not yet recorded */
    "copy.rows",               /* each batch of COPY rows sent to the target (256 kB at most) */
    "copy.index",              /* after each index or key build of the copy */
    "apply.before-commit",     /* a batch's statements and position sent, COMMIT not yet */
    "apply.after-commit",      /* the batch committed, no feedback sent for it yet */
    "cutover.freeze-recorded", /* the freeze recorded in the state, the source not yet frozen */
    "cutover.freeze",          /* the source frozen, no fence yet */
    "cutover.fence-written",   /* the fence written and recorded, not yet applied */
    "cutover.fence-applied",   /* start applied the fence, nothing after it */
    "cutover.sequences",       /* the sequences copied */
    "cutover.counts",          /* the row counts compared */
    "cutover.before-done",     /* in the transaction that marks the migration done, before COMMIT */
    "abort.middle",            /* abort: unfrozen and stopped, the slot not yet dropped */
    "clean.middle",            /* clean: slot, publication and triggers done, the state not yet */
    NULL,
};

static bool armed; /* PGBATON_FAILPOINT named at least one point */
static failpoint_spec specs[FAILPOINT_MAX_SPECS];
static atomic_long hits[FAILPOINT_MAX_SPECS];
static int nspecs;
static _Thread_local const char *pending_error[2]; /* [0] target, [1] source */

static int point_index(const char *name, size_t len)
{
    for (int i = 0; failpoint_names[i]; i++)
        if (strlen(failpoint_names[i]) == len && strncmp(failpoint_names[i], name, len) == 0)
            return i;
    return -1;
}

/* One SPEC, S[0..LEN-1]: NAME[:N][=ACTION]. */
static bool parse_one(const char *s, size_t len, failpoint_spec *out, char *err, size_t errlen)
{
    const char *end = s + len;
    const char *eq = memchr(s, '=', len);
    const char *name_end = eq ? eq : end;
    const char *colon = memchr(s, ':', (size_t)(name_end - s));
    if (colon)
        name_end = colon;
    int point = point_index(s, (size_t)(name_end - s));
    if (point < 0) {
        snprintf(err, errlen, "unknown failpoint \"%.*s\"", (int)(name_end - s), s);
        return false;
    }
    long nth = 1;
    if (colon) {
        const char *num = colon + 1, *num_end = eq ? eq : end;
        char buf[24];
        size_t nlen = (size_t)(num_end - num);
        char *stop = NULL;
        if (nlen > 0 && nlen < sizeof buf) {
            memcpy(buf, num, nlen);
            buf[nlen] = '\0';
            errno = 0;
            nth = strtol(buf, &stop, 10);
        }
        if (nlen == 0 || nlen >= sizeof buf || *stop || errno || nth < 1 || buf[0] < '0' ||
            buf[0] > '9') {
            snprintf(err, errlen,
                     "failpoint %s: the count after ':' must be a whole number of 1 "
                     "or more, not \"%.*s\"",
                     failpoint_names[point], (int)nlen, num);
            return false;
        }
    }
    failpoint_action action = FAILPOINT_KILL;
    if (eq) {
        size_t alen = (size_t)(end - eq - 1);
        const char *a = eq + 1;
        if (alen == 4 && strncmp(a, "kill", 4) == 0)
            action = FAILPOINT_KILL;
        else if (alen == 12 && strncmp(a, "error-source", 12) == 0)
            action = FAILPOINT_ERROR_SOURCE;
        else if (alen == 12 && strncmp(a, "error-target", 12) == 0)
            action = FAILPOINT_ERROR_TARGET;
        else {
            snprintf(err, errlen,
                     "failpoint %s: unknown action \"%.*s\" (kill, error-source or "
                     "error-target)",
                     failpoint_names[point], (int)alen, a);
            return false;
        }
    }
    *out = (failpoint_spec){.point = point, .nth = nth, .action = action};
    return true;
}

bool failpoint_parse(const char *text, failpoint_spec *out, int max, int *n, char *err,
                     size_t errlen)
{
    *n = 0;
    if (errlen > 0)
        err[0] = '\0';
    if (!text || !*text)
        return true;
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0) {
            snprintf(err, errlen, "empty failpoint in \"%s\"", text);
            return false;
        }
        if (*n >= max) {
            snprintf(err, errlen, "more than %d failpoints", max);
            return false;
        }
        if (!parse_one(p, len, &out[*n], err, errlen))
            return false;
        (*n)++;
        if (!comma)
            return true;
        p = comma + 1;
    }
}

bool failpoint_init(void)
{
    const char *text = getenv(FAILPOINT_ENV);
    char err[256];
    int n = 0;
    if (!failpoint_parse(text, specs, FAILPOINT_MAX_SPECS, &n, err, sizeof err)) {
        char known[1024] = "";
        size_t used = 0;
        for (int i = 0; failpoint_names[i] && used < sizeof known; i++)
            used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                     failpoint_names[i]);
        log_error("%s (a testing facility): %s; the syntax is NAME[:N][=kill|=error-source|"
                  "=error-target], several separated by commas; the known names are: %s",
                  FAILPOINT_ENV, err, known);
        return false;
    }
    nspecs = n;
    for (int i = 0; i < n; i++)
        atomic_store(&hits[i], 0);
    armed = n > 0;
    if (armed)
        log_info("%s=%s: failpoints armed (testing only)", FAILPOINT_ENV, text);
    return true;
}

/* Kill the process where it stands: one line on stderr (unbuffered, written
 * directly), then SIGKILL. */
static void kill_now(const char *name)
{
    char line[128];
    int len = snprintf(line, sizeof line, "pgbaton: failpoint %s: SIGKILL\n", name);
    if (len > 0 && write(STDERR_FILENO, line, (size_t)len) < 0) {
        /* nothing to be done: the process dies either way */
    }
    raise(SIGKILL);
}

void failpoint(const char *name)
{
    if (!armed)
        return;
    for (int i = 0; i < nspecs; i++) {
        const failpoint_spec *s = &specs[i];
        if (strcmp(failpoint_names[s->point], name) != 0)
            continue;
        if (atomic_fetch_add(&hits[i], 1) + 1 != s->nth)
            continue;
        if (s->action == FAILPOINT_KILL)
            kill_now(name);
        bool source = s->action == FAILPOINT_ERROR_SOURCE;
        pending_error[source] = failpoint_names[s->point];
        log_info("failpoint %s: the next query of this thread to the %s fails", name,
                 source ? "source" : "target");
    }
}

const char *failpoint_error_sql(bool source, char *buf, size_t buflen)
{
    if (!armed || !pending_error[source])
        return NULL;
    const char *name = pending_error[source];
    pending_error[source] = NULL;
    /* names are [a-z.-]: nothing to quote */
    snprintf(buf, buflen,
             "DO $pgbaton_failpoint$ BEGIN RAISE EXCEPTION 'pgbaton failpoint %s'; END "
             "$pgbaton_failpoint$",
             name);
    return buf;
}
