/*
 * src/state_phase.c — the migration's phase: its names and the one table of
 * allowed transitions (who makes each one: src/state.c, top of file).
 */
#include "state.h"

#include "strutil.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const phase_names[] = {
    [PHASE_COPYING] = "copying", [PHASE_INDEXING] = "indexing", [PHASE_STREAMING] = "streaming",
    [PHASE_CUTOVER] = "cutover", [PHASE_DONE] = "done",         [PHASE_FAILED] = "failed",
    [PHASE_STOPPED] = "stopped", [PHASE_UNKNOWN] = "unknown",
};

#define PHASE_BIT(p) (1u << (p))

/* allowed[FROM]: the phases FROM may change to. */
static const unsigned allowed[PHASE_UNKNOWN] = {
    /* start: the copy ends; a failure; abort */
    [PHASE_COPYING] =
        PHASE_BIT(PHASE_INDEXING) | PHASE_BIT(PHASE_FAILED) | PHASE_BIT(PHASE_STOPPED),
    /* start: indexes_done_at is stamped in phase indexing, then streaming */
    [PHASE_INDEXING] = PHASE_BIT(PHASE_INDEXING) | PHASE_BIT(PHASE_STREAMING) |
                       PHASE_BIT(PHASE_FAILED) | PHASE_BIT(PHASE_STOPPED),
    /* cutover step 2; start fails; abort */
    [PHASE_STREAMING] =
        PHASE_BIT(PHASE_CUTOVER) | PHASE_BIT(PHASE_FAILED) | PHASE_BIT(PHASE_STOPPED),
    /* cutover rolls back or completes; abort unfreezes */
    [PHASE_CUTOVER] = PHASE_BIT(PHASE_STREAMING) | PHASE_BIT(PHASE_DONE) | PHASE_BIT(PHASE_STOPPED),
    /* a start resumed after the copy streams again (state_resume); it
     * fails again; abort */
    [PHASE_FAILED] =
        PHASE_BIT(PHASE_STREAMING) | PHASE_BIT(PHASE_FAILED) | PHASE_BIT(PHASE_STOPPED),
    /* final */
    [PHASE_DONE] = 0,
    [PHASE_STOPPED] = 0,
};

const char *state_phase_name(state_phase p)
{
    return p >= PHASE_COPYING && p <= PHASE_UNKNOWN ? phase_names[p] : "unknown";
}

state_phase state_phase_parse(const char *text)
{
    if (text)
        for (int p = PHASE_COPYING; p < PHASE_UNKNOWN; p++)
            if (strcmp(text, phase_names[p]) == 0)
                return (state_phase)p;
    return PHASE_UNKNOWN;
}

bool state_phase_transition_ok(state_phase from, state_phase to)
{
    if (from < PHASE_COPYING || from >= PHASE_UNKNOWN || to < PHASE_COPYING || to >= PHASE_UNKNOWN)
        return false;
    return (allowed[from] & PHASE_BIT(to)) != 0;
}

char *state_phase_sources(state_phase to)
{
    char *list = xstrdup("{");
    for (int p = PHASE_COPYING; p < PHASE_UNKNOWN; p++) {
        if (!state_phase_transition_ok((state_phase)p, to))
            continue;
        char *next = str_printf("%s%s%s", list, list[1] ? "," : "", phase_names[p]);
        free(list);
        list = next;
    }
    char *done = str_printf("%s}", list);
    free(list);
    return done;
}
