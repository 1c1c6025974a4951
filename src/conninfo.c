/*
 * src/conninfo.c — parse and mask connection strings.
 *
 * Parsing is libpq's (PQconninfoParse), so pgbaton accepts exactly what psql
 * accepts. Masking is textual, on the string as the user wrote it, so the
 * masked form looks like the input with only the password replaced.
 */
#include "conninfo.h"

#include "db.h"
#include "log.h"
#include "strbuf.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MASK "****"

/* The token written in place of a password: MASK, or "*" where the masked
 * string must not be longer than the original (conninfo_scrub_arg). */
static const char *mask_token = MASK;

bool conninfo_is_uri(const char *raw)
{
    return strncmp(raw, "postgresql://", 13) == 0 || strncmp(raw, "postgres://", 11) == 0;
}

/* Mask ?password=... and &password=... in a URI query string starting at Q. */
static void mask_uri_query(strbuf *b, const char *q)
{
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        if (n >= 9 && strncmp(q, "password=", 9) == 0) {
            strbuf_append(b, q, 9);
            strbuf_puts(b, mask_token);
        } else {
            strbuf_append(b, q, n);
        }
        q += n;
        if (*q == '&') {
            strbuf_append(b, "&", 1);
            q++;
        }
    }
}

static char *mask_uri(const char *raw)
{
    strbuf b = {0};
    const char *rest = strstr(raw, "://") + 3;
    strbuf_append(&b, raw, (size_t)(rest - raw));

    /* userinfo ends at the first '@' before any '/' or '?' (libpq's rule) */
    const char *at = NULL;
    for (const char *p = rest; *p && *p != '/' && *p != '?'; p++) {
        if (*p == '@') {
            at = p;
            break;
        }
    }
    const char *hostpart = rest;
    if (at) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        if (colon) {
            strbuf_append(&b, rest, (size_t)(colon - rest) + 1);
            strbuf_puts(&b, mask_token);
        } else {
            strbuf_append(&b, rest, (size_t)(at - rest));
        }
        strbuf_append(&b, "@", 1);
        hostpart = at + 1;
    }
    const char *q = strchr(hostpart, '?');
    if (!q) {
        strbuf_puts(&b, hostpart);
    } else {
        strbuf_append(&b, hostpart, (size_t)(q - hostpart) + 1);
        mask_uri_query(&b, q + 1);
    }
    return b.data;
}

/* key=value masking following libpq's tokenizer: values may be single-quoted
 * with backslash escapes, or bare up to whitespace. */
static char *mask_kv(const char *raw)
{
    strbuf b = {0};
    const char *p = raw;
    strbuf_puts(&b, "");
    while (*p) {
        const char *ws = p;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        strbuf_append(&b, ws, (size_t)(p - ws));
        if (!*p)
            break;
        const char *key = p;
        while (*p && *p != '=' && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
        size_t keylen = (size_t)(p - key);
        bool is_pw = keylen == 8 && strncmp(key, "password", 8) == 0;
        const char *eq = p;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '=') {
            /* malformed: keep the key, mask everything after a "password" key */
            strbuf_append(&b, key, (size_t)(p - key));
            if (is_pw) {
                strbuf_puts(&b, " ");
                strbuf_puts(&b, mask_token);
                return b.data;
            }
            continue;
        }
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        strbuf_append(&b, key, (size_t)(p - key));
        (void)eq;
        const char *val = p;
        if (*p == '\'') {
            p++;
            while (*p && *p != '\'') {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
            if (*p == '\'')
                p++;
        } else {
            while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
        }
        if (is_pw)
            strbuf_puts(&b, mask_token);
        else
            strbuf_append(&b, val, (size_t)(p - val));
    }
    return b.data;
}

char *conninfo_mask(const char *raw)
{
    if (!raw)
        return xstrdup("");
    return conninfo_is_uri(raw) ? mask_uri(raw) : mask_kv(raw);
}

/* libpq's parse errors quote fragments of the input ("missing \"=\" after
 * \"xyz\""): replace every quoted fragment so no part of the string, and so
 * no password, is echoed. */
static char *unquote_fragments(const char *msg)
{
    strbuf b = {0};
    strbuf_puts(&b, "");
    bool in = false;
    for (const char *p = msg; *p; p++) {
        if (*p == '"') {
            strbuf_append(&b, "\"", 1);
            if (!in)
                strbuf_puts(&b, "...");
            in = !in;
        } else if (!in && *p != '\n') {
            strbuf_append(&b, p, 1);
        }
    }
    return b.data;
}

/* Register the password exactly as written in the raw string too (a URI may
 * percent-encode it, and libpq errors may echo the raw form). */
static void register_raw_password(const char *raw)
{
    if (!conninfo_is_uri(raw))
        return;
    const char *rest = strstr(raw, "://") + 3;
    const char *at = NULL;
    for (const char *p = rest; *p && *p != '/' && *p != '?'; p++)
        if (*p == '@') {
            at = p;
            break;
        }
    if (!at)
        return;
    const char *colon = memchr(rest, ':', (size_t)(at - rest));
    if (!colon || colon + 1 >= at)
        return;
    char *pw = xstrndup(colon + 1, (size_t)(at - colon - 1));
    log_add_secret(pw);
    free(pw);
}

conninfo *conninfo_parse(const char *raw, char **errmsg)
{
    *errmsg = NULL;
    char *perr = NULL;
    conninfo *ci = xcalloc(1, sizeof *ci);
    if (!db_conninfo_split(raw ? raw : "", &ci->keys, &ci->values, &perr)) {
        *errmsg = unquote_fragments(perr ? perr : "out of memory");
        free(perr);
        free(ci);
        register_raw_password(raw ? raw : "");
        return NULL;
    }
    for (int i = 0; ci->keys[i]; i++)
        if (strcmp(ci->keys[i], "password") == 0)
            log_add_secret(ci->values[i]);
    register_raw_password(raw);
    ci->masked = conninfo_mask(raw);
    return ci;
}

void conninfo_free(conninfo *ci)
{
    if (!ci)
        return;
    for (int i = 0; ci->keys[i]; i++) {
        free(ci->keys[i]);
        free(ci->values[i]);
    }
    free(ci->keys);
    free(ci->values);
    free(ci->masked);
    free(ci);
}

const char *conninfo_get(const conninfo *ci, const char *key)
{
    for (int i = 0; ci->keys[i]; i++)
        if (strcmp(ci->keys[i], key) == 0)
            return ci->values[i];
    return NULL;
}

void conninfo_scrub_arg(char *arg)
{
    if (!arg)
        return;
    size_t n = strlen(arg);
    char *masked = conninfo_mask(arg);
    if (strlen(masked) > n) {
        /* a password shorter than "****": mask it with a single "*" so the
         * rest of the string still fits in place (argv is single-threaded
         * start-up code, so the static token switch is safe) */
        free(masked);
        mask_token = "*";
        masked = conninfo_mask(arg);
        mask_token = MASK;
    }
    size_t m = strlen(masked);
    if (m > n)
        m = n; /* cannot happen: every password is at least one character */
    memcpy(arg, masked, m);
    memset(arg + m, '\0', n - m);
    free(masked);
}

void conninfo_register_env_secrets(void)
{
    const char *pw = getenv("PGPASSWORD");
    if (pw && *pw)
        log_add_secret(pw);

    char path[4096];
    const char *pf = getenv("PGPASSFILE");
    if (pf && *pf)
        snprintf(path, sizeof path, "%s", pf);
    else if (getenv("HOME"))
        snprintf(path, sizeof path, "%s/.pgpass", getenv("HOME"));
    else
        return;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        /* hostname:port:database:username:password, with \: and \\ escapes */
        int field = 0;
        char val[4096];
        size_t vn = 0;
        for (char *p = line; *p && *p != '\n' && *p != '\r'; p++) {
            if (*p == '\\' && p[1]) {
                p++;
                if (field == 4 && vn + 1 < sizeof val)
                    val[vn++] = *p;
            } else if (*p == ':' && field < 4) {
                field++;
            } else if (field == 4 && vn + 1 < sizeof val) {
                val[vn++] = *p;
            }
        }
        val[vn] = '\0';
        if (field == 4 && vn > 0)
            log_add_secret(val);
    }
    fclose(f);
}
