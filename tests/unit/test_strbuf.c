/* tests/unit/test_strbuf.c — the string buffer (strbuf.h) and the shared
 * hash (str_hash, strutil.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "strbuf.h"
#include "strlist.h"
#include "strutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void empty_then_appends(void **state)
{
    (void)state;
    strbuf b = {0};
    assert_null(b.data);
    strbuf_puts(&b, "");
    assert_non_null(b.data); /* any append makes a C string, even of nothing */
    assert_string_equal(b.data, "");
    strbuf_puts(&b, "ab");
    strbuf_putc(&b, 'c');
    strbuf_append(&b, "defgh", 2);
    strbuf_printf(&b, "-%d-%s", 42, "x");
    assert_string_equal(b.data, "abcde-42-x");
    assert_int_equal(b.len, 10);
    assert_true(b.len < b.cap);
    strbuf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
}

static void grows_and_keeps_its_content(void **state)
{
    (void)state;
    strbuf b = {0};
    for (int i = 0; i < 10000; i++)
        strbuf_putc(&b, (char)('a' + i % 26));
    assert_int_equal(b.len, 10000);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(b.data[i], 'a' + i % 26);
    assert_int_equal(b.data[b.len], '\0');
    strbuf_free(&b);
}

static void printf_longer_than_the_room(void **state)
{
    (void)state;
    char big[3000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    strbuf b = {0};
    strbuf_puts(&b, "start:");
    strbuf_printf(&b, "%s|%s", big, big); /* far beyond the first allocation */
    assert_int_equal(b.len, 6 + 2 * 2999 + 1);
    assert_memory_equal(b.data, "start:", 6);
    assert_memory_equal(b.data + 6, big, 2999);
    assert_int_equal(b.data[6 + 2999], '|');
    assert_string_equal(b.data + 6 + 3000, big);
    strbuf_printf(&b, "%s", "");
    assert_int_equal(b.len, 6 + 2 * 2999 + 1);
    strbuf_free(&b);
}

static void embedded_nuls(void **state)
{
    (void)state;
    strbuf b = {0};
    strbuf_append(&b, "one", 4); /* with its NUL */
    strbuf_append(&b, "two", 4);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.data, "one");
    assert_string_equal(b.data + 4, "two");
    strbuf_putc(&b, '\0');
    assert_int_equal(b.len, 9);
    strbuf_free(&b);
}

static void reserve_gives_room_without_moving_after(void **state)
{
    (void)state;
    strbuf b = {0};
    strbuf_puts(&b, "abc");
    strbuf_reserve(&b, 1000);
    assert_true(b.len + 1000 < b.cap);
    char *before = b.data;
    for (int i = 0; i < 1000; i++)
        b.data[b.len++] = 'x'; /* writing into reserved room */
    b.data[b.len] = '\0';
    strbuf_reserve(&b, 0); /* room for the NUL is there: no move */
    assert_ptr_equal(b.data, before);
    assert_int_equal(strlen(b.data), 1003);
    strbuf_free(&b);
}

static void reset_keeps_memory(void **state)
{
    (void)state;
    strbuf b = {0};
    strbuf_reset(&b); /* on an empty buffer: nothing to do */
    assert_null(b.data);
    strbuf_printf(&b, "%0500d", 7);
    size_t cap = b.cap;
    char *data = b.data;
    strbuf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(b.cap, cap);
    strbuf_puts(&b, "again");
    assert_ptr_equal(b.data, data);
    assert_string_equal(b.data, "again");
    strbuf_free(&b);
}

static void hash_is_fnv1a_with_markers(void **state)
{
    (void)state;
    /* FNV-1a 32 bits of "a" then the marker \x01 */
    const char *a[] = {"a"};
    assert_int_equal(str_hash(a, 1), 0x2c24d1d7u);
    const char *st[] = {"s", "t"};
    assert_int_equal(str_hash(st, 2), 0xcf168502u);
    assert_int_equal(str_hash(NULL, 0), 2166136261u); /* the FNV offset basis */
}

static void hash_tells_lists_apart(void **state)
{
    (void)state;
    const char *null1[] = {NULL}, *empty1[] = {""};
    assert_int_not_equal(str_hash(null1, 1), str_hash(empty1, 1));
    const char *ab_c[] = {"ab", "c"}, *a_bc[] = {"a", "bc"}, *abc[] = {"abc"};
    assert_int_not_equal(str_hash(ab_c, 2), str_hash(a_bc, 2));
    assert_int_not_equal(str_hash(ab_c, 2), str_hash(abc, 1));
    const char *xy[] = {"x", "y"}, *yx[] = {"y", "x"};
    assert_int_not_equal(str_hash(xy, 2), str_hash(yx, 2));
    const char *x_null[] = {"x", NULL}, *x_empty[] = {"x", ""};
    assert_int_not_equal(str_hash(x_null, 2), str_hash(x_empty, 2));
    /* the same list, other pointers: the same hash */
    char s1[] = "public", s2[] = "orders";
    const char *again[] = {s1, s2}, *lit[] = {"public", "orders"};
    assert_int_equal(str_hash(again, 2), str_hash(lit, 2));
}

/* The table cache takes the hash modulo its buckets: keys that differ in
 * one character spread over them. */
static void hash_spreads_similar_keys(void **state)
{
    (void)state;
    enum { BUCKETS = 1024, KEYS = 4096 };
    static int used[BUCKETS];
    char name[32];
    for (int i = 0; i < KEYS; i++) {
        snprintf(name, sizeof name, "t%d", i);
        const char *k[] = {"public", name};
        used[str_hash(k, 2) % BUCKETS]++;
    }
    int empty = 0, most = 0;
    for (int i = 0; i < BUCKETS; i++) {
        empty += used[i] == 0;
        most = used[i] > most ? used[i] : most;
    }
    /* 4 keys a bucket on average: a uniform hash leaves about 2% empty */
    assert_true(empty < BUCKETS / 10);
    assert_true(most < 20);
}

/* a first reserve alone gives an empty string, not garbage */
static void reserve_alone_is_empty_string(void **state)
{
    (void)state;
    strbuf b = {0};
    strbuf_reserve(&b, 100);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    free(b.data);
}

static void strlist_is_an_argv(void **state)
{
    (void)state;
    strlist l = {0};
    assert_int_equal(l.n, 0);
    for (int i = 0; i < 20; i++)
        strlist_addf(&l, "--opt%d=%s", i, i % 2 ? "odd" : "even");
    assert_int_equal(l.n, 20);
    assert_string_equal(l.items[0], "--opt0=even");
    assert_string_equal(l.items[19], "--opt19=odd");
    assert_null(l.items[20]); /* NULL-terminated after every add */
    const char *s = "copied";
    strlist_add(&l, s);
    assert_true(l.items[20] != s);
    assert_null(l.items[21]);
    strlist_free(&l);
    assert_int_equal(l.n, 0);
    assert_null(l.items);
}

static void strlist_join_shows_at_most(void **state)
{
    (void)state;
    strlist l = {0};
    char *j = strlist_join(&l, ", ", 2);
    assert_string_equal(j, "");
    free(j);
    strlist_add(&l, "a");
    strlist_add(&l, "b");
    j = strlist_join(&l, ", ", 2);
    assert_string_equal(j, "a, b");
    free(j);
    strlist_add(&l, "c");
    strlist_add(&l, "d");
    j = strlist_join(&l, ", ", 2);
    assert_string_equal(j, "a, b and 2 more");
    free(j);
    j = strlist_join(&l, " | ", 0);
    assert_string_equal(j, "a | b | c | d");
    free(j);
    strlist_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_then_appends),
        cmocka_unit_test(grows_and_keeps_its_content),
        cmocka_unit_test(printf_longer_than_the_room),
        cmocka_unit_test(embedded_nuls),
        cmocka_unit_test(reserve_gives_room_without_moving_after),
        cmocka_unit_test(reset_keeps_memory),
        cmocka_unit_test(hash_is_fnv1a_with_markers),
        cmocka_unit_test(hash_tells_lists_apart),
        cmocka_unit_test(hash_spreads_similar_keys),
        cmocka_unit_test(reserve_alone_is_empty_string),
        cmocka_unit_test(strlist_is_an_argv),
        cmocka_unit_test(strlist_join_shows_at_most),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
