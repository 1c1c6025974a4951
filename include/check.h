/*
 * include/check.h — TEMPORARY minimal stand-in for the preflight API (the
 * `check` branch provides the real header). The lead drops this file and
 * src/check_stub.c at merge. Only the calls cmd_start makes are declared.
 */
#ifndef PGBATON_CHECK_H
#define PGBATON_CHECK_H

#include "cli.h"
#include "conninfo.h"

#include <stdbool.h>

typedef enum check_status {
    CHECK_PASS,
    CHECK_WARN,
    CHECK_FAIL,
} check_status;

typedef struct check_report check_report;

/* Run every preflight check; NULL when it could not run at all (logged). */
check_report *check_run(const pgb_options *o, const conninfo *src, const conninfo *dst);
int check_report_count(const check_report *r, check_status status);
void check_report_print(const check_report *r, bool json);
void check_report_free(check_report *r);

#endif
