/*
 * src/check_stub.c — TEMPORARY stand-in for the preflight (branch `copy`
 * only): every check passes. The lead drops this file at merge in favour of
 * the real src/check.c from the `check` branch.
 */
#include "check.h"

#include <stdlib.h>

struct check_report {
    int nfail; /* always 0 here */
};

check_report *check_run(const pgb_options *o, const conninfo *src, const conninfo *dst)
{
    (void)o;
    (void)src;
    (void)dst;
    return calloc(1, sizeof(check_report));
}

int check_report_count(const check_report *r, check_status status)
{
    return status == CHECK_FAIL ? r->nfail : 0;
}

void check_report_print(const check_report *r, bool json)
{
    (void)r;
    (void)json;
}

void check_report_free(check_report *r)
{
    free(r);
}
