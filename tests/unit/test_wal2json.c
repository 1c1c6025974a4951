/* tests/unit/test_wal2json.c — number quoting and message decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "wal2json.h"

#include <string.h>

static const char *quote(w2j_buf *b, const char *in)
{
    w2j_quote_numbers(in, strlen(in), b);
    return b->data;
}

static void quotes_numbers_exactly(void **state)
{
    (void)state;
    w2j_buf b = {0};
    assert_string_equal(quote(&b, "{\"v\":123456789012345678901234567890}"),
                        "{\"v\":\"123456789012345678901234567890\"}");
    assert_string_equal(quote(&b, "[1e400,-0.000001,-5,0.30000000000000004,2E-3]"),
                        "[\"1e400\",\"-0.000001\",\"-5\",\"0.30000000000000004\",\"2E-3\"]");
    assert_string_equal(quote(&b, "{\"a\": 1.50 , \"b\" :7}"), "{\"a\": \"1.50\" , \"b\" :\"7\"}");
    w2j_buf_free(&b);
}

static void leaves_strings_and_literals(void **state)
{
    (void)state;
    w2j_buf b = {0};
    assert_string_equal(quote(&b, "{\"s\":\"12 -3 1e5\",\"n\":null,\"t\":true,\"f\":false}"),
                        "{\"s\":\"12 -3 1e5\",\"n\":null,\"t\":true,\"f\":false}");
    /* escaped quotes and backslashes do not end the string */
    assert_string_equal(quote(&b, "[\"a\\\"1\\\\\",2,\"\\\\\\\"3\"]"),
                        "[\"a\\\"1\\\\\",\"2\",\"\\\\\\\"3\"]");
    assert_string_equal(quote(&b, ""), "");
    w2j_buf_free(&b);
}

static void decode(w2j_change *c, const char *msg)
{
    const char *err = NULL;
    bool ok = w2j_decode(c, msg, strlen(msg), &err);
    if (!ok)
        fail_msg("decode failed: %s", err);
}

static void decodes_begin_commit(void **state)
{
    (void)state;
    w2j_change c = {0};
    decode(&c, "{\"action\":\"C\",\"xid\":727,\"timestamp\":\"2026-11-21 10:37:25.718298+00\","
               "\"lsn\":\"0/15444D8\",\"nextlsn\":\"0/1544508\"}");
    assert_int_equal(c.kind, W2J_COMMIT);
    assert_string_equal(c.xid, "727");
    assert_int_equal(c.lsn, 0x15444D8);
    assert_int_equal(c.nextlsn, 0x1544508);
    assert_string_equal(c.timestamp, "2026-11-21 10:37:25.718298+00");
    w2j_change_free(&c);
}

static void decodes_insert_values(void **state)
{
    (void)state;
    w2j_change c = {0};
    decode(&c, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"columns\":["
               "{\"name\":\"n\",\"type\":\"numeric\",\"typeoid\":1700,"
               "\"value\":123456789012345678901234567890.123456789},"
               "{\"name\":\"b\",\"type\":\"bytea\",\"typeoid\":17,\"value\":\"00ff\"},"
               "{\"name\":\"x\",\"type\":\"boolean\",\"typeoid\":16,\"value\":true},"
               "{\"name\":\"z\",\"type\":\"text\",\"typeoid\":25,\"value\":null},"
               "{\"name\":\"f\",\"type\":\"double precision\",\"typeoid\":701,\"value\":1e400}]}");
    assert_int_equal(c.kind, W2J_INSERT);
    assert_string_equal(c.schema, "s");
    assert_string_equal(c.table, "t");
    assert_int_equal(c.ncolumns, 5);
    assert_string_equal(c.columns[0].value, "123456789012345678901234567890.123456789");
    assert_int_equal(c.columns[0].typeoid, 1700);
    assert_string_equal(c.columns[1].value, "\\x00ff");
    assert_string_equal(c.columns[2].value, "true");
    assert_null(c.columns[3].value);
    assert_string_equal(c.columns[4].value, "1e400");
    w2j_change_free(&c);
}

static void decodes_update_delete_truncate_message(void **state)
{
    (void)state;
    w2j_change c = {0};
    decode(&c, "{\"action\":\"U\",\"schema\":\"public\",\"table\":\"t\",\"columns\":["
               "{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":2}],"
               "\"identity\":[{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":1}]}");
    assert_int_equal(c.kind, W2J_UPDATE);
    assert_string_equal(c.columns[0].value, "2");
    assert_int_equal(c.nidentity, 1);
    assert_string_equal(c.identity[0].value, "1");
    /* the same struct is reused */
    decode(&c, "{\"action\":\"D\",\"schema\":\"public\",\"table\":\"t\",\"identity\":["
               "{\"name\":\"id\",\"type\":\"integer\",\"typeoid\":23,\"value\":-7}]}");
    assert_int_equal(c.kind, W2J_DELETE);
    assert_int_equal(c.ncolumns, 0);
    assert_string_equal(c.identity[0].value, "-7");
    decode(&c, "{\"action\":\"T\",\"xid\":733,\"lsn\":\"0/1545CC8\",\"schema\":\"public\","
               "\"table\":\"full_t\"}");
    assert_int_equal(c.kind, W2J_TRUNCATE);
    assert_string_equal(c.table, "full_t");
    decode(&c, "{\"action\":\"M\",\"xid\":null,\"timestamp\":null,\"lsn\":\"0/1545F80\","
               "\"transactional\":false,\"prefix\":\"pgbaton\",\"content\":\"{\\\"x\\\":1}\"}");
    assert_int_equal(c.kind, W2J_MESSAGE);
    assert_false(c.transactional);
    assert_string_equal(c.prefix, "pgbaton");
    assert_string_equal(c.content, "{\"x\":1}");
    assert_int_equal(c.lsn, 0x1545F80);
    w2j_change_free(&c);
}

static void rejects_malformed(void **state)
{
    (void)state;
    w2j_change c = {0};
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
    w2j_change_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quotes_numbers_exactly),
        cmocka_unit_test(leaves_strings_and_literals),
        cmocka_unit_test(decodes_begin_commit),
        cmocka_unit_test(decodes_insert_values),
        cmocka_unit_test(decodes_update_delete_truncate_message),
        cmocka_unit_test(rejects_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
