/*
 * fuzz/change_check.h — the checks every decoded change passes, shared by
 * the decoder fuzz targets (fuzz_wal2json.c, fuzz_pgoutput.c).
 */
#ifndef PGBATON_FUZZ_CHANGE_CHECK_H
#define PGBATON_FUZZ_CHANGE_CHECK_H

#include "change.h"

/* Abort (a crash for libFuzzer) unless C, as a decoder left it after a
 * successful decode, is sound: a known kind, schema and table for row
 * changes and truncations, a name for every column, and every string it
 * points at NUL-terminated inside its own text buffer (include/change.h:
 * the change borrows nothing). Every string is read, so a dangling pointer
 * is an AddressSanitizer report. */
void change_check(const pgb_change *c);

#endif
