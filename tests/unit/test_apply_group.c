/* tests/unit/test_apply_group.c — the array literals of grouped statements
 * (apply_array_literal): every value must reach the element type's input
 * function exactly as the source sent it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "apply_internal.h"
#include "strbuf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static char *literal(const char *const *vals, int n, char delim)
{
    strbuf b = {0};
    apply_array_literal(&b, vals, n, delim);
    assert_int_equal(strlen(b.data), b.len); /* terminated, no NUL inside */
    return b.data;
}

static void check(const char *const *vals, int n, char delim, const char *want)
{
    char *got = literal(vals, n, delim);
    assert_string_equal(got, want);
    free(got);
}

/* Split LIT as array_in reads a one-dimensional array literal: elements
 * between DELIM, a quoted element taken literally but for backslash
 * escapes, an unquoted NULL (any case) the null value. Fills VALS (malloc'd
 * strings, NULL for null); returns the element count, -1 when malformed. */
static int parse(const char *lit, char delim, char **vals, int max)
{
    const char *p = lit;
    if (*p++ != '{')
        return -1;
    if (*p == '}')
        return p[1] == '\0' ? 0 : -1;
    int n = 0;
    for (;;) {
        if (n == max)
            return -1;
        if (*p == '"') {
            strbuf v = {0};
            strbuf_reserve(&v, 0);
            v.data[0] = '\0';
            for (p++; *p != '"'; p++) {
                if (*p == '\0')
                    return -1;
                if (*p == '\\')
                    p++;
                if (*p == '\0')
                    return -1;
                strbuf_putc(&v, *p);
            }
            p++;
            vals[n++] = v.data;
        } else if (strncasecmp(p, "NULL", 4) == 0) {
            vals[n++] = NULL;
            p += 4;
        } else {
            return -1; /* the encoder quotes every value */
        }
        if (*p == '}')
            return p[1] == '\0' ? n : -1;
        if (*p++ != delim)
            return -1;
    }
}

static void check_round_trip(const char *const *vals, int n, char delim)
{
    char *lit = literal(vals, n, delim);
    char *back[64];
    assert_true(n <= 64);
    int got = parse(lit, delim, back, 64);
    assert_int_equal(got, n);
    for (int i = 0; i < n; i++) {
        if (!vals[i]) {
            assert_null(back[i]);
        } else {
            assert_non_null(back[i]);
            assert_string_equal(back[i], vals[i]);
        }
        free(back[i]);
    }
    free(lit);
}

static void null_and_empty(void **state)
{
    (void)state;
    const char *v[] = {NULL, "", "NULL", "null"};
    /* SQL NULL is the bare word; the text "NULL" and "" are quoted values */
    check(v, 4, ',', "{NULL,\"\",\"NULL\",\"null\"}");
    check(v, 0, ',', "{}");
    check(v, 1, ',', "{NULL}");
}

static void quotes_and_backslashes(void **state)
{
    (void)state;
    const char *v[] = {"say \"hi\"", "C:\\dir\\", "\\x00ff", "\"", "\\"};
    check(v, 5, ',', "{\"say \\\"hi\\\"\",\"C:\\\\dir\\\\\",\"\\\\x00ff\",\"\\\"\",\"\\\\\"}");
    check_round_trip(v, 5, ',');
}

static void braces_delimiters_whitespace(void **state)
{
    (void)state;
    const char *v[] = {"{1,2}", "a,b", "}", "{", " lead", "trail ", " ", "\t\n\r", "a;b"};
    check(v, 4, ',', "{\"{1,2}\",\"a,b\",\"}\",\"{\"}");
    check(v + 4, 4, ',', "{\" lead\",\"trail \",\" \",\"\t\n\r\"}");
    check_round_trip(v, 9, ',');
    /* box and other types whose delimiter is ';' */
    const char *boxes[] = {"(1,2),(0,0)", NULL, "(3,4),(1,1)"};
    check(boxes, 3, ';', "{\"(1,2),(0,0)\";NULL;\"(3,4),(1,1)\"}");
    check_round_trip(v, 9, ';');
}

static void non_ascii_bytes_unchanged(void **state)
{
    (void)state;
    const char *v[] = {"\xc3\xa9t\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x90\x98",
                       "\x80\xff\x01"};
    check(v, 2, ',', "{\"\xc3\xa9t\xc3\xa9\",\"\xe6\x97\xa5\xe6\x9c\xac\"}");
    check_round_trip(v, 4, ',');
}

static void appends_after_what_the_buffer_holds(void **state)
{
    (void)state;
    strbuf b = {0};
    const char *v1[] = {"a"}, *v2[] = {NULL, "b\"c"};
    apply_array_literal(&b, v1, 1, ',');
    strbuf_putc(&b, '\0'); /* as group_flush lays out its parameters */
    size_t second = b.len;
    apply_array_literal(&b, v2, 2, ',');
    assert_string_equal(b.data, "{\"a\"}");
    assert_string_equal(b.data + second, "{NULL,\"b\\\"c\"}");
    strbuf_free(&b);
}

/* Random values of every byte but NUL, some NULL, some long: the literal
 * always reads back as the same values. */
static void random_values_round_trip(void **state)
{
    (void)state;
    unsigned seed = 12345;
    for (int round = 0; round < 500; round++) {
        char *vals[16];
        int n = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 16;
        for (int i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            if ((seed >> 16) % 7 == 0) {
                vals[i] = NULL;
                continue;
            }
            size_t len = (seed >> 16) % (round % 50 == 0 ? 5000 : 20);
            vals[i] = malloc(len + 1);
            for (size_t k = 0; k < len; k++) {
                seed = seed * 1103515245u + 12345u;
                vals[i][k] = (char)(1 + (seed >> 16) % 255);
            }
            vals[i][len] = '\0';
        }
        check_round_trip((const char *const *)vals, n, round % 3 ? ',' : ';');
        for (int i = 0; i < n; i++)
            free(vals[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_and_empty),
        cmocka_unit_test(quotes_and_backslashes),
        cmocka_unit_test(braces_delimiters_whitespace),
        cmocka_unit_test(non_ascii_bytes_unchanged),
        cmocka_unit_test(appends_after_what_the_buffer_holds),
        cmocka_unit_test(random_values_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
