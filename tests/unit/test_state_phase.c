/*
 * tests/unit/test_state_phase.c — the phase's names and the table of
 * transitions (include/state.h, src/state_phase.c).
 */
#include "state.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_names_round_trip(void **state)
{
    (void)state;
    for (int p = PHASE_COPYING; p < PHASE_UNKNOWN; p++)
        assert_int_equal(state_phase_parse(state_phase_name((state_phase)p)), p);
    assert_int_equal(state_phase_parse("streaming"), PHASE_STREAMING);
    assert_int_equal(state_phase_parse("Streaming"), PHASE_UNKNOWN);
    assert_int_equal(state_phase_parse(""), PHASE_UNKNOWN);
    assert_int_equal(state_phase_parse(NULL), PHASE_UNKNOWN);
    assert_string_equal(state_phase_name(PHASE_UNKNOWN), "unknown");
}

static void test_transitions(void **state)
{
    (void)state;
    /* the ones the commands make */
    assert_true(state_phase_transition_ok(PHASE_COPYING, PHASE_INDEXING));
    assert_true(state_phase_transition_ok(PHASE_INDEXING, PHASE_INDEXING));
    assert_true(state_phase_transition_ok(PHASE_INDEXING, PHASE_STREAMING));
    assert_true(state_phase_transition_ok(PHASE_STREAMING, PHASE_CUTOVER));
    assert_true(state_phase_transition_ok(PHASE_CUTOVER, PHASE_STREAMING));
    assert_true(state_phase_transition_ok(PHASE_CUTOVER, PHASE_DONE));
    assert_true(state_phase_transition_ok(PHASE_STREAMING, PHASE_STOPPED));
    /* the stream gives up at once; a new start resumes after the copy */
    assert_true(state_phase_transition_ok(PHASE_STREAMING, PHASE_FAILED));
    assert_true(state_phase_transition_ok(PHASE_FAILED, PHASE_STREAMING));
    /* never */
    assert_false(state_phase_transition_ok(PHASE_DONE, PHASE_STREAMING));
    assert_false(state_phase_transition_ok(PHASE_STOPPED, PHASE_COPYING));
    assert_false(state_phase_transition_ok(PHASE_COPYING, PHASE_STREAMING));
    assert_false(state_phase_transition_ok(PHASE_STREAMING, PHASE_DONE));
    assert_false(state_phase_transition_ok(PHASE_CUTOVER, PHASE_FAILED));
    assert_false(state_phase_transition_ok(PHASE_UNKNOWN, PHASE_DONE));
    assert_false(state_phase_transition_ok(PHASE_STREAMING, PHASE_UNKNOWN));
}

static void test_sources(void **state)
{
    (void)state;
    char *s = state_phase_sources(PHASE_INDEXING);
    assert_string_equal(s, "{copying,indexing}");
    free(s);
    s = state_phase_sources(PHASE_DONE);
    assert_string_equal(s, "{cutover}");
    free(s);
    s = state_phase_sources(PHASE_FAILED);
    assert_string_equal(s, "{copying,indexing,streaming,failed}");
    free(s);
    s = state_phase_sources(PHASE_COPYING);
    assert_string_equal(s, "{}");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
