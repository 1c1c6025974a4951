/* tests/unit/test_wal2json.c — decoding wal2json messages: values exact,
 * keys in any order, malformed and truncated input rejected cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "wal2json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void decode(pgb_change *c, const char *msg)
{
    const char *err = NULL;
    bool ok = w2j_decode(c, msg, strlen(msg), &err);
    if (!ok)
        fail_msg("decode failed: %s", err);
}

static void decodes_begin_commit(void **state)
{
    (void)state;
    pgb_change c = {0};
    decode(&c, "{\"action\":\"C\",\"xid\":727,\"timestamp\":\"2026-11-21 10:37:25.718298+00\","
               "\"lsn\":\"0/15444D8\",\"nextlsn\":\"0/1544508\"}");
    assert_int_equal(c.kind, CHG_COMMIT);
    assert_string_equal(c.xid, "727");
    assert_int_equal(c.lsn, 0x15444D8);
    assert_int_equal(c.nextlsn, 0x1544508);
    assert_string_equal(c.timestamp, "2026-11-21 10:37:25.718298+00");
    change_free(&c);
}

static void decodes_insert_values(void **state)
{
    (void)state;
    pgb_change c = {0};
    decode(&c, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":["
               "{\"name\":\"n\",\"type\":\"numeric\",\"typeoid\":1700,"
               "\"value\":123456789012345678901234567890.123456789},"
               "{\"name\":\"b\",\"type\":\"bytea\",\"typeoid\":17,\"value\":\"00ff\"},"
               "{\"name\":\"x\",\"type\":\"boolean\",\"typeoid\":16,\"value\":true},"
               "{\"name\":\"z\",\"type\":\"text\",\"typeoid\":25,\"value\":null},"
               "{\"name\":\"f\",\"type\":\"double precision\",\"typeoid\":701,\"value\":1e400}]}");
    assert_int_equal(c.kind, CHG_INSERT);
    assert_string_equal(c.schema, "s");
    assert_string_equal(c.table, "t");
    assert_int_equal(c.ncolumns, 5);
    assert_string_equal(c.columns[0].value, "123456789012345678901234567890.123456789");
    assert_int_equal(c.columns[0].typeoid, 1700);
    assert_string_equal(c.columns[1].value, "\\x00ff");
    assert_string_equal(c.columns[2].value, "true");
    assert_null(c.columns[3].value);
    assert_string_equal(c.columns[4].value, "1e400");
    change_free(&c);
}

static void decodes_update_delete_truncate_message(void **state)
{
    (void)state;
    pgb_change c = {0};
    decode(&c, "{\"action\":\"U\",\"schema\":\"public\",\"table\":\"t\",\"columns\":["
               "{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":2}],"
               "\"identity\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":1}]}");
    assert_int_equal(c.kind, CHG_UPDATE);
    assert_string_equal(c.columns[0].value, "2");
    assert_int_equal(c.nidentity, 1);
    assert_string_equal(c.identity[0].value, "1");
    /* the same struct is reused */
    decode(&c, "{\"action\":\"D\",\"schema\":\"public\",\"table\":\"t\",\"identity\":["
               "{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":-7}]}");
    assert_int_equal(c.kind, CHG_DELETE);
    assert_int_equal(c.ncolumns, 0);
    assert_string_equal(c.identity[0].value, "-7");
    decode(&c, "{\"action\":\"T\",\"xid\":733,\"lsn\":\"0/1545CC8\",\"schema\":\"public\","
               "\"table\":\"full_t\"}");
    assert_int_equal(c.kind, CHG_TRUNCATE);
    assert_string_equal(c.table, "full_t");
    decode(&c, "{\"action\":\"M\",\"xid\":null,\"timestamp\":null,\"lsn\":\"0/1545F80\","
               "\"transactional\":false,\"prefix\":\"pgbaton\",\"content\":\"{\\\"x\\\":1}\"}");
    assert_int_equal(c.kind, CHG_MESSAGE);
    assert_false(c.transactional);
    assert_string_equal(c.prefix, "pgbaton");
    assert_string_equal(c.content, "{\"x\":1}");
    assert_int_equal(c.lsn, 0x1545F80);
    change_free(&c);
}

static void rejects_malformed(void **state)
{
    (void)state;
    pgb_change c = {0};
    const char *err = NULL;
    const char *bad[] = {
        "not json",
        "{\"action\":\"X\"}",
        "{\"action\":\"I\",\"schema\":\"s\"}",
        "{\"action\":\"U\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"a\","
        "\"value\":1}]}",
        "{\"action\":\"C\",\"lsn\":\"zz\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err = NULL;
        assert_false(w2j_decode(&c, bad[i], strlen(bad[i]), &err));
        assert_non_null(err);
    }
    change_free(&c);
}

/* MSG must be rejected with a description. */
static void reject(pgb_change *c, const char *msg)
{
    const char *err = NULL;
    if (w2j_decode(c, msg, strlen(msg), &err))
        fail_msg("accepted: %s", msg);
    assert_non_null(err);
}

/* An insert of one text column whose JSON value is VALUE (JSON text). */
static const char *one_value(pgb_change *c, char *msg, size_t sz, const char *value)
{
    snprintf(msg, sz,
             "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"v\","
             "\"type\":\"text\",\"typeoid\":25,\"value\":%s}]}",
             value);
    decode(c, msg);
    assert_int_equal(c->ncolumns, 1);
    return c->columns[0].value;
}

static void unescapes_every_escape(void **state)
{
    (void)state;
    pgb_change c = {0};
    char msg[512];
    assert_string_equal(one_value(&c, msg, sizeof msg, "\"q\\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t.\""),
                        "q\"b\\s/b\bf\fn\nr\rt\t.");
    /* \u escapes: 1, 2 and 3 UTF-8 bytes, both hex cases */
    assert_string_equal(one_value(&c, msg, sizeof msg, "\"\\u0041\\u00e9\\u00C9\\u20ac\""),
                        "A\xc3\xa9\xc3\x89\xe2\x82\xac");
    /* surrogate pairs: U+1F600 and U+10FFFF */
    assert_string_equal(one_value(&c, msg, sizeof msg, "\"<\\ud83d\\ude00\\uDBFF\\uDFFF>\""),
                        "<\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf>");
    /* raw non-ASCII bytes (any server encoding) pass through unchanged */
    assert_string_equal(one_value(&c, msg, sizeof msg, "\"caf\xe9 \xc3\xa9 \x7f\""),
                        "caf\xe9 \xc3\xa9 \x7f");
    assert_string_equal(one_value(&c, msg, sizeof msg, "\"\""), "");
    assert_string_equal(one_value(&c, msg, sizeof msg, "false"), "false");
    assert_null(one_value(&c, msg, sizeof msg, " null "));
    change_free(&c);
}

static void rejects_bad_strings(void **state)
{
    (void)state;
    pgb_change c = {0};
    char msg[512];
    const char *bad[] = {
        "\"\\ud83d\"",        /* high surrogate alone */
        "\"\\ud83dx\"",       /* high surrogate, then not an escape */
        "\"\\ud83d\\u0041\"", /* high surrogate, then not a low one */
        "\"\\ude00\"",        /* low surrogate alone */
        "\"\\u0000\"",        /* NUL */
        "\"\\u12g4\"",        /* bad hex */
        "\"\\x41\"",          /* unknown escape */
        "\"a\tb\"",           /* raw control character */
        "\"abc",              /* unterminated */
        "\"\\u12\"",          /* short \u */
        "tru",
        "nul",
        "True",
        "{\"x\":1}", /* a value must be text */
        "[1]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(msg, sizeof msg,
                 "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":"
                 "\"v\",\"value\":%s}]}",
                 bad[i]);
        reject(&c, msg);
    }
    change_free(&c);
}

static void keeps_numbers_exact(void **state)
{
    (void)state;
    pgb_change c = {0};
    char msg[512];
    const char *same[] = {
        "1e400",
        "123456789012345678901234567890.123456789",
        "-123456789012345678901234567890",
        "0",
        "-0",
        "-5",
        "0.30000000000000004",
        "-0.000001",
        "2E-3",
        "1.5e+20",
        "-1.7976931348623157e308",
        "4.9e-324",
        "1e-05",
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        assert_string_equal(one_value(&c, msg, sizeof msg, same[i]), same[i]);
    const char *bad[] = {"01", "-", "1.", ".5", "1e", "1e+", "+1", "1.e3", "--1", "0x10", "1 2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(msg, sizeof msg,
                 "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":"
                 "\"v\",\"value\":%s}]}",
                 bad[i]);
        reject(&c, msg);
    }
    change_free(&c);
}

static void skips_unknown_nested_values(void **state)
{
    (void)state;
    pgb_change c = {0};
    decode(&c, "{\"action\":\"U\",\"pk\":[{\"name\":\"id\",\"type\":\"integer\"}],"
               "\"extra\":{\"a\":[1,{\"b\":[[],{}]},\"x\\\"}]\",null,true,-2.5e3],\"c\":{}},"
               "\"schema\":\"s\",\"table\":\"t\",\"columns\":[{\"name\":\"id\","
               "\"meta\":{\"k\":[\"v\"]},\"value\":2,\"more\":[]}],"
               "\"identity\":[{\"junk\":[[[\"]\"]]],\"name\":\"id\",\"value\":1}],"
               "\"\\u0073chema2\":\"ignored\"}");
    assert_int_equal(c.kind, CHG_UPDATE);
    assert_string_equal(c.schema, "s");
    assert_int_equal(c.ncolumns, 1);
    assert_string_equal(c.columns[0].name, "id");
    assert_string_equal(c.columns[0].value, "2");
    assert_null(c.columns[0].type);
    assert_int_equal(c.columns[0].typeoid, 0);
    assert_string_equal(c.identity[0].value, "1");
    /* too deep, or structurally broken, nested values are errors */
    char deep[400] = "{\"action\":\"B\",\"x\":";
    for (int i = 0; i < 100; i++)
        strcat(deep, "[");
    for (int i = 0; i < 100; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    reject(&c, deep);
    reject(&c, "{\"action\":\"B\",\"x\":[}");
    reject(&c, "{\"action\":\"B\",\"x\":{\"a\"}}");
    reject(&c, "{\"action\":\"B\",\"x\":[1,]}");
    reject(&c, "{\"action\":\"B\",}");
    reject(&c, "{\"action\":\"B\"} x");
    reject(&c, "[{\"action\":\"B\"}]");
    reject(&c, "");
    reject(&c, "   ");
    decode(&c, " \n{ \"action\" : \"B\" }\r\n\t");
    assert_int_equal(c.kind, CHG_BEGIN);
    change_free(&c);
}

static void takes_keys_in_any_order(void **state)
{
    (void)state;
    pgb_change c = {0};
    /* action last, value before type and typeoid (bytea known only afterwards),
     * identity before columns, escaped key names */
    decode(&c, "{\"identity\":[{\"value\":\"0a\",\"typeoid\":17,\"name\":\"k\"}],"
               "\"columns\":[{\"value\":\"beef\",\"type\":\"bytea\",\"name\":\"b\"},"
               "{\"value\":null,\"typeoid\":17,\"type\":\"bytea\",\"name\":\"n\"},"
               "{\"typeoid\":1700,\"value\":-1.50,\"name\":\"x\"}],"
               "\"t\\u0061ble\":\"tab\",\"schema\":\"sch\",\"action\":\"U\"}");
    assert_int_equal(c.kind, CHG_UPDATE);
    assert_string_equal(c.table, "tab");
    assert_string_equal(c.schema, "sch");
    assert_string_equal(c.identity[0].value, "\\x0a");
    assert_int_equal(c.identity[0].typeoid, 17);
    assert_string_equal(c.columns[0].value, "\\xbeef");
    assert_string_equal(c.columns[0].type, "bytea");
    assert_null(c.columns[1].value);
    assert_string_equal(c.columns[2].value, "-1.50");
    assert_int_equal(c.columns[2].typeoid, 1700);
    decode(&c, "{\"nextlsn\":\"0/20\",\"lsn\":\"0/10\",\"xid\":9,\"action\":\"C\"}");
    assert_int_equal(c.kind, CHG_COMMIT);
    assert_int_equal(c.lsn, 0x10);
    assert_int_equal(c.nextlsn, 0x20);
    assert_string_equal(c.xid, "9");
    assert_null(c.schema);
    assert_int_equal(c.ncolumns, 0);
    decode(&c, "{\"content\":\"c\",\"prefix\":\"p\",\"transactional\":true,\"action\":\"M\"}");
    assert_true(c.transactional);
    assert_string_equal(c.content, "c");
    change_free(&c);
}

/* Every strict prefix of a message, in a buffer of exactly that size (so
 * the sanitizer sees any read past the end), fails with a description; the
 * whole message decodes. */
static void rejects_every_truncation(void **state)
{
    (void)state;
    const char *sample =
        "{\"action\":\"U\",\"xid\":727,\"schema\":\"public\",\"table\":\"t\\u00e9\","
        "\"columns\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":-2},"
        "{\"name\":\"s\",\"type\":\"text\",\"typeoid\":25,"
        "\"value\":\"a\\\"b\\\\c\\/\\n\\ud83d\\ude00\xc3\xa9\"},"
        "{\"name\":\"n\",\"type\":\"numeric\",\"typeoid\":1700,\"value\":-1.5e-10},"
        "{\"name\":\"b\",\"type\":\"bytea\",\"typeoid\":17,\"value\":\"00ff\"},"
        "{\"name\":\"f\",\"type\":\"boolean\",\"typeoid\":16,\"value\":false},"
        "{\"name\":\"z\",\"type\":\"text\",\"typeoid\":25,\"value\":null}],"
        "\"x\":{\"y\":[true,null,1]},"
        "\"identity\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":1}]}";
    size_t len = strlen(sample);
    pgb_change c = {0};
    for (size_t n = 0; n <= len; n++) {
        char *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, sample, n);
        const char *err = NULL;
        bool ok = w2j_decode(&c, copy, n, &err);
        if (n < len) {
            if (ok)
                fail_msg("prefix of %zu bytes accepted", n);
            assert_non_null(err);
        } else {
            if (!ok)
                fail_msg("whole message rejected: %s", err);
            assert_int_equal(c.ncolumns, 6);
            assert_string_equal(c.table, "t\xc3\xa9");
            assert_string_equal(c.columns[1].value, "a\"b\\c/\n\xf0\x9f\x98\x80\xc3\xa9");
            assert_string_equal(c.columns[2].value, "-1.5e-10");
            assert_string_equal(c.columns[3].value, "\\x00ff");
            assert_string_equal(c.columns[4].value, "false");
            assert_null(c.columns[5].value);
        }
        free(copy);
    }
    change_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decodes_begin_commit),
        cmocka_unit_test(decodes_insert_values),
        cmocka_unit_test(decodes_update_delete_truncate_message),
        cmocka_unit_test(rejects_malformed),
        cmocka_unit_test(unescapes_every_escape),
        cmocka_unit_test(rejects_bad_strings),
        cmocka_unit_test(keeps_numbers_exact),
        cmocka_unit_test(skips_unknown_nested_values),
        cmocka_unit_test(takes_keys_in_any_order),
        cmocka_unit_test(rejects_every_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
