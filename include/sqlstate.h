/*
 * include/sqlstate.h — the SQLSTATE codes pgbaton decides on, by name.
 *
 * Decisions are made on SQLSTATE, never on message text (db.h). Every code
 * compared anywhere in the program is named here, with PostgreSQL's name
 * for it (Appendix A, "PostgreSQL Error Codes").
 */
#ifndef PGBATON_SQLSTATE_H
#define PGBATON_SQLSTATE_H

#define SQLSTATE_CLASS_CONNECTION        "08"    /* connection_exception (class) */
#define SQLSTATE_STRING_TRUNCATION       "22001" /* string_data_right_truncation */
#define SQLSTATE_NUMERIC_OUT_OF_RANGE    "22003" /* numeric_value_out_of_range */
#define SQLSTATE_INVALID_PARAMETER_VALUE "22023" /* invalid_parameter_value */
#define SQLSTATE_NOT_NULL_VIOLATION      "23502" /* not_null_violation */
#define SQLSTATE_FOREIGN_KEY_VIOLATION   "23503" /* foreign_key_violation */
#define SQLSTATE_UNIQUE_VIOLATION        "23505" /* unique_violation */
#define SQLSTATE_CHECK_VIOLATION         "23514" /* check_violation */
#define SQLSTATE_EXCLUSION_VIOLATION     "23P01" /* exclusion_violation */
#define SQLSTATE_READ_ONLY_TRANSACTION   "25006" /* read_only_sql_transaction */
#define SQLSTATE_SERIALIZATION_FAILURE   "40001" /* serialization_failure */
#define SQLSTATE_DEADLOCK_DETECTED       "40P01" /* deadlock_detected */
#define SQLSTATE_INSUFFICIENT_PRIVILEGE  "42501" /* insufficient_privilege */
#define SQLSTATE_UNDEFINED_OBJECT        "42704" /* undefined_object */
#define SQLSTATE_LOCK_NOT_AVAILABLE      "55P03" /* lock_not_available */
#define SQLSTATE_QUERY_CANCELED          "57014" /* query_canceled (statement_timeout) */
#define SQLSTATE_ADMIN_SHUTDOWN          "57P01" /* admin_shutdown */
#define SQLSTATE_CRASH_SHUTDOWN          "57P02" /* crash_shutdown */
#define SQLSTATE_CANNOT_CONNECT_NOW      "57P03" /* cannot_connect_now */
#define SQLSTATE_UNDEFINED_FILE          "58P01" /* undefined_file (a missing library) */

#endif
