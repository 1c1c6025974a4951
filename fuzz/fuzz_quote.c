/*
 * fuzz/fuzz_quote.c — libFuzzer target for SQL quoting (src/db.c):
 * db_quote_ident, db_quote_literal, db_quote_qualified, db_text_array.
 *
 * The input is split at its NUL bytes into strings (at most MAX_ITEMS).
 * Each is quoted as an identifier and as a literal, each neighbouring pair
 * as schema.name, and all of them as one text[] literal; every result is
 * read back as PostgreSQL reads it (undo_quotes) and must give back the
 * strings exactly, with nothing after the closing quote or brace. An
 * identifier is "..." with '"' doubled; a literal is '...' with '\'' doubled,
 * or E'...' with '\\' doubled too when the string holds a backslash (and
 * then no other backslash escape, which PostgreSQL would read differently);
 * an array is {"a","b"} with '"' and '\\' escaped by a backslash. A
 * violation is abort(), a crash for libFuzzer.
 */
#include "db.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 16

typedef enum quoting {
    QUOTE_IDENT,   /* "..." with "" */
    QUOTE_LITERAL, /* '...' with '' */
    QUOTE_ESCAPED, /* E'...' with '' and \\ */
    QUOTE_ELEMENT, /* an array element: "..." with \" and \\ */
} quoting;

static _Noreturn void wrong(const char *what, const char *text)
{
    fprintf(stderr, "fuzz: %s: %s\n", what, text);
    abort();
}

/* Read the quoted text at *P (its opening quote) as PostgreSQL does; the
 * string it stands for, malloc'd, with *P past the closing quote. NULL when
 * the quoting is malformed. */
static char *undo_quotes(const char **p, quoting how)
{
    char quote = how == QUOTE_IDENT || how == QUOTE_ELEMENT ? '"' : '\'';
    if (**p != quote)
        return NULL;
    const char *q = *p + 1;
    char *out = malloc(strlen(q) + 1), *o = out;
    if (!out)
        abort();
    for (;; q++) {
        if (*q == '\0') {
            free(out);
            return NULL;
        }
        if (how == QUOTE_ELEMENT && *q == '\\' && q[1]) {
            *o++ = *++q;
        } else if (how == QUOTE_ESCAPED && *q == '\\') {
            if (q[1] != '\\')
                break; /* another escape: malformed for this check */
            *o++ = *++q;
        } else if (*q == quote && how != QUOTE_ELEMENT && q[1] == quote) {
            *o++ = *++q;
        } else if (*q == quote) {
            *o = '\0';
            *p = q + 1;
            return out;
        } else {
            *o++ = *q;
        }
    }
    free(out);
    return NULL;
}

/* Q, read back from *P with HOW, is S. */
static void expect_quoted(const char **p, quoting how, const char *s, const char *what,
                          const char *q)
{
    char *back = undo_quotes(p, how);
    if (!back || strcmp(back, s) != 0)
        wrong(what, q);
    free(back);
}

static void check_ident(const char *s)
{
    char *q = db_quote_ident(s);
    const char *p = q;
    expect_quoted(&p, QUOTE_IDENT, s, "db_quote_ident", q);
    if (*p)
        wrong("db_quote_ident: text after the closing quote", q);
    free(q);
}

static void check_literal(const char *s)
{
    char *q = db_quote_literal(s);
    const char *p = q;
    quoting how = QUOTE_LITERAL;
    if (strchr(s, '\\')) {
        if (*p++ != 'E')
            wrong("db_quote_literal: a backslash outside an E'' literal", q);
        how = QUOTE_ESCAPED;
    }
    expect_quoted(&p, how, s, "db_quote_literal", q);
    if (*p)
        wrong("db_quote_literal: text after the closing quote", q);
    free(q);
}

static void check_qualified(const char *schema, const char *name)
{
    char *q = db_quote_qualified(schema, name);
    const char *p = q;
    expect_quoted(&p, QUOTE_IDENT, schema, "db_quote_qualified (schema)", q);
    if (*p++ != '.')
        wrong("db_quote_qualified: no '.' after the schema", q);
    expect_quoted(&p, QUOTE_IDENT, name, "db_quote_qualified (name)", q);
    if (*p)
        wrong("db_quote_qualified: text after the name", q);
    free(q);
}

static void check_array(const char *const *items, int n)
{
    char *q = db_text_array(items, n);
    const char *p = q;
    if (*p++ != '{')
        wrong("db_text_array: no opening brace", q);
    for (int i = 0; i < n; i++) {
        if (i > 0 && *p++ != ',')
            wrong("db_text_array: no ',' between elements", q);
        expect_quoted(&p, QUOTE_ELEMENT, items[i], "db_text_array (an element)", q);
    }
    if (*p++ != '}' || *p)
        wrong("db_text_array: unbalanced braces or text after them", q);
    free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    const char *items[MAX_ITEMS];
    int n = 0;
    for (const char *s = text; n < MAX_ITEMS && s <= text + size; s += strlen(s) + 1)
        items[n++] = s;
    for (int i = 0; i < n; i++) {
        check_ident(items[i]);
        check_literal(items[i]);
        if (i > 0)
            check_qualified(items[i - 1], items[i]);
    }
    check_array(items, n);
    check_array(items, 0);
    free(text);
    return 0;
}
