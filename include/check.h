/*
 * include/check.h — preflight: can this migration work?
 *
 * check_run() connects to both servers and runs every check (connections,
 * source settings and privileges, wal2json, row identity of the selected
 * tables, target version/extensions/privileges/emptiness, slot name, client
 * programs). It changes nothing on either server except a temporary logical
 * slot that it creates and drops to probe wal2json. `pgbaton check` prints
 * the report; `pgbaton start` prints it too when anything WARNs or FAILs,
 * refuses to start when anything FAILs, and records each WARN as an event.
 *
 * Testing aid: PGBATON_CHECK_SLOT_TIMEOUT (seconds, default 30) bounds the
 * wait for the probe slot's creation.
 */
#ifndef PGBATON_CHECK_H
#define PGBATON_CHECK_H

#include "cli.h"
#include "conninfo.h"
#include "db.h"

#include <stdbool.h>

typedef enum check_status {
    CHECK_PASS,
    CHECK_WARN,
    CHECK_FAIL,
} check_status;

typedef struct check_item {
    char *id;            /* short check name, e.g. "source-wal-level"; owned */
    check_status status; /* pass, warn or fail */
    char *message;       /* one line, never a password; owned */
    char *fix;           /* one sentence; NULL for PASS; owned */
} check_item;

typedef struct check_report {
    check_item *items; /* in the order the checks ran; owned */
    int n;
    char plugin[16]; /* the decoder start would use: "wal2json", "pgoutput", "" when unknown */
} check_report;

/* Sessions the caller already has open, for check_run to use instead of
 * connecting again (each SCRAM connection costs a round of hashing on both
 * ends). Borrowed; the checks only read, and what they try on the target
 * (SET LOCAL) is rolled back, so each is left as it was. NULL: check_run
 * connects that side itself. */
typedef struct check_sessions {
    db_conn *src;
    db_conn *dst;
} check_sessions;

/* Run every check. Options used: name (slot, state row) and the table
 * filters. GIVEN may be NULL. Never NULL. The caller frees the report. */
check_report *check_run(const pgb_options *o, const conninfo *src, const conninfo *dst,
                        const check_sessions *given);

/* How many items have status ST. */
int check_report_count(const check_report *r, check_status st);

/* Print the report on stdout: one line per check and a summary, or (JSON)
 * an array of {"check", "status", "message", "fix"} and nothing else. */
void check_report_print(const check_report *r, bool json);

/* ITEM as one line of text, as the human report prints it but on one line:
 * "<id>: <message>; fix: <fix>" (no "; fix" when there is none). Never a
 * password (the item's text is redacted). Malloc'd; the caller frees it.
 * `start` records its preflight WARNs in pgbaton.event with it. */
char *check_item_text(const check_item *item);

void check_report_free(check_report *r);

/* Append an item; copies (and redacts) MESSAGE and FIX (FIX may be NULL). */
void check_report_add(check_report *r, const char *id, check_status st, const char *message,
                      const char *fix);

/* Does the output_plugin_libraries value SETTING (comma-separated, spaces
 * and double quotes allowed) list LIBRARY? */
bool check_plugin_listed(const char *setting, const char *library);

#endif
