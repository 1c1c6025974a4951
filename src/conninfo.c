/*
 * src/conninfo.c — parse and mask connection strings.
 *
 * Parsing is libpq's (PQconninfoParse), so pgbaton accepts exactly what psql
 * accepts. Masking is textual, on the string as the user wrote it, so the
 * masked form looks like the input with only the password replaced. It reads
 * the string as libpq does (its whitespace, where a URI's userinfo and query
 * end, percent-decoded query keywords), so that what libpq takes for the
 * password is what is masked; fuzz/fuzz_conninfo.c checks that the masked
 * string parses to the same options with the password ****.
 */
#include "conninfo.h"

#include "db.h"
#include "log.h"
#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
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

/* Is the URI query parameter Q (N bytes) password=...? libpq percent-decodes
 * the keyword, so pass%77ord= is one too. */
static bool uri_param_is_password(const char *q, size_t n)
{
    static const char want[] = "password";
    size_t k = 0;
    for (size_t i = 0; i < n && q[i] != '='; k++) {
        char c = q[i++];
        if (c == '%' && i + 1 < n && isxdigit((unsigned char)q[i]) &&
            isxdigit((unsigned char)q[i + 1])) {
            char hex[3] = {q[i], q[i + 1], '\0'};
            c = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        if (k >= sizeof want - 1 || c != want[k])
            return false;
    }
    return k == sizeof want - 1 && memchr(q, '=', n);
}

/* Mask ?password=... and &password=... in a URI query string starting at Q. */
static void mask_uri_query(strbuf *b, const char *q)
{
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        if (uri_param_is_password(q, n)) {
            const char *eq = memchr(q, '=', n);
            strbuf_append(b, q, (size_t)(eq - q) + 1);
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

/* The '@' that ends the userinfo of a URI whose text after "://" is REST, or
 * NULL: libpq's rule, the first '@' before any '/' (a '?' does not end it). */
static const char *uri_userinfo_end(const char *rest)
{
    const char *p = rest + strcspn(rest, "@/");
    return *p == '@' ? p : NULL;
}

/* The '?' that starts the query of a URI whose host list starts at P, or
 * NULL: libpq's rule, the first '?' after the hosts and ports, where a host
 * may be an IPv6 address in brackets, which may hold a '?'. */
static const char *uri_query(const char *p)
{
    for (;;) {
        if (*p == '[') {
            const char *close = strchr(p, ']');
            if (!close)
                return strchr(p, '?'); /* malformed: mask what may be a query */
            p = close + 1;
        }
        p += strcspn(p, ",/?");
        if (*p != ',')
            return *p ? strchr(p, '?') : NULL;
        p++;
    }
}

static char *mask_uri(const char *raw)
{
    strbuf b = {0};
    const char *rest = strstr(raw, "://") + 3;
    strbuf_append(&b, raw, (size_t)(rest - raw));

    const char *at = uri_userinfo_end(rest);
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
    const char *q = uri_query(hostpart);
    if (!q) {
        strbuf_puts(&b, hostpart);
    } else {
        strbuf_append(&b, hostpart, (size_t)(q - hostpart) + 1);
        mask_uri_query(&b, q + 1);
    }
    return b.data;
}

/* libpq's whitespace in key=value strings: isspace() in the C locale. */
static bool kv_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* key=value masking following libpq's tokenizer: keys end at '=' or
 * whitespace; values may be single-quoted with backslash escapes, or bare
 * up to whitespace. */
static char *mask_kv(const char *raw)
{
    strbuf b = {0};
    const char *p = raw;
    strbuf_puts(&b, "");
    while (*p) {
        const char *ws = p;
        while (kv_space(*p))
            p++;
        strbuf_append(&b, ws, (size_t)(p - ws));
        if (!*p)
            break;
        const char *key = p;
        while (*p && *p != '=' && !kv_space(*p))
            p++;
        size_t keylen = (size_t)(p - key);
        bool is_pw = keylen == 8 && strncmp(key, "password", 8) == 0;
        while (kv_space(*p))
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
        while (kv_space(*p))
            p++;
        strbuf_append(&b, key, (size_t)(p - key));
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
            while (*p && !kv_space(*p)) {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
        }
        if (is_pw) {
            strbuf_puts(&b, mask_token);
            /* a quoted value may be followed by the next key at once
             * (password='x'host=h): the bare mask must not run into it */
            if (*p && !kv_space(*p))
                strbuf_putc(&b, ' ');
        } else {
            strbuf_append(&b, val, (size_t)(p - val));
        }
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
    const char *at = uri_userinfo_end(rest);
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
