/*
 * fuzz/fuzz_conninfo.c — libFuzzer target for connection strings
 * (src/conninfo.c) and the log redaction of what they hold (src/log.c).
 *
 * The input, as a NUL-terminated string, is parsed (conninfo_parse, which
 * registers the password as a log secret) and masked (conninfo_mask). When
 * it parses, with a password P:
 *   - P (4 bytes or more, no '*', the mask's own character) appears neither
 *     in log_redact() of the input nor, when it is written out literally in
 *     the input (see written_once), in the masked string or in the input
 *     after conninfo_scrub_arg();
 *   - the masked string parses too, to the same options but the password,
 *     which is **** or absent: masking changes the password and nothing
 *     else, so the masked string holds no password, however it was written.
 * A violation is abort(), a crash for libFuzzer. Secrets are forgotten
 * before each input, so that a crash replays from its input alone.
 */
#include "conninfo.h"
#include "log.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHORT_SECRET 4 /* log.c masks shorter secrets only standing alone */

static _Noreturn void leak(const char *where)
{
    fprintf(stderr, "fuzz: the password survives %s\n", where);
    abort();
}

static char *copy(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Occurrences of NEEDLE in S, overlapping ones counted. */
static int occurrences(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Is P written in RAW exactly once, as it is? With no quoting, escapes or
 * percent-encoding in RAW, the password field's text is P itself, so when P
 * occurs only once that occurrence is the field, and masking must remove it.
 * (Otherwise the string may show P legitimately, as another option's value,
 * or by coincidence, around an escaped password; the check on the parsed
 * masked string then stands alone.) Masking inserts only "****" and spaces
 * beside it: P has neither. */
static bool written_once(const char *raw, const char *p)
{
    if (strpbrk(raw, "\\'%") || strpbrk(p, " \t\n\v\f\r"))
        return false;
    return occurrences(raw, p) == 1;
}

static _Noreturn void misread(const char *what, const char *key)
{
    fprintf(stderr, "fuzz: masking changed what the string means: %s %s\n", what, key);
    abort();
}

/* MASKED parses to CI's options, but for a password of **** or none. */
static void check_masked_parse(const conninfo *ci, const char *masked)
{
    char *err = NULL;
    log_forget_secrets(); /* the masked string's "****" is no secret */
    conninfo *m = conninfo_parse(masked, &err);
    if (!m)
        misread("the masked string does not parse:", err);
    const char *pw = conninfo_get(m, "password");
    if (pw && strcmp(pw, "****") != 0)
        misread("the masked string's password is not ****, but", pw);
    for (int i = 0; m->keys[i]; i++) {
        const char *was = conninfo_get(ci, m->keys[i]);
        if (strcmp(m->keys[i], "password") != 0 && (!was || strcmp(was, m->values[i]) != 0))
            misread("another value or a new option:", m->keys[i]);
    }
    for (int i = 0; ci->keys[i]; i++)
        if (strcmp(ci->keys[i], "password") != 0 && !conninfo_get(m, ci->keys[i]))
            misread("an option lost:", ci->keys[i]);
    conninfo_free(m);
}

/* The parsed password P is in none of the texts that should hide it. Before
 * check_masked_parse(), which forgets P as a secret. */
static void check_password(const conninfo *ci, const char *raw)
{
    const char *pw = conninfo_get(ci, "password");
    if (!pw || strlen(pw) < SHORT_SECRET || strchr(pw, '*'))
        return;
    char *redacted = log_redact(raw);
    if (strstr(redacted, pw))
        leak("log_redact");
    free(redacted);
    if (!written_once(raw, pw))
        return;
    if (strstr(ci->masked, pw))
        leak("conninfo_mask");
    char *arg = strdup(raw);
    if (!arg)
        abort();
    conninfo_scrub_arg(arg);
    if (strstr(arg, pw))
        leak("conninfo_scrub_arg");
    free(arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *raw = copy(data, size);
    log_forget_secrets();
    char *err = NULL;
    conninfo *ci = conninfo_parse(raw, &err);
    if (ci) {
        check_password(ci, raw);
        check_masked_parse(ci, ci->masked);
    } else {
        free(err);
    }
    /* masking works on anything, parsable or not */
    free(conninfo_mask(raw));
    conninfo_free(ci);
    free(raw);
    return 0;
}
