/*
 * include/schema.h — the schema part of the copy: pg_dump at the snapshot,
 * pg_restore of pre-data before the data and of post-data after it, and the
 * roles the schema refers to.
 */
#ifndef PGBATON_SCHEMA_H
#define PGBATON_SCHEMA_H

#include "conninfo.h"
#include "copy.h"
#include "db.h"
#include "strlist.h"

#include <stdbool.h>

typedef enum schema_owners {
    SCHEMA_WITH_OWNERS, /* restore ownership and privileges */
    SCHEMA_NO_OWNERS,   /* --no-owner --no-privileges: some roles are missing */
} schema_owners;

typedef struct schema_dump_opts {
    const conninfo *source;
    const char *snapshot;           /* exported snapshot name */
    const char *path;               /* custom-format archive to write */
    const strlist *exclude_schemas; /* schemas not selected */
    const strlist *exclude_tables;  /* "schema"."table" not selected */
} schema_dump_opts;

/* pg_dump --schema-only -Fc --snapshot of the selected objects. */
bool schema_dump(const schema_dump_opts *opts) __attribute__((warn_unused_result));

/* pg_restore --section=pre-data, one transaction. */
bool schema_restore_pre(const conninfo *target, const char *path, schema_owners owners)
    __attribute__((warn_unused_result));

/* pg_restore --section=post-data -j JOBS, without the indexes and
 * constraints the copy built already (PLAN). TMPDIR holds the list file. */
bool schema_restore_post(const conninfo *target, const char *path, const char *tmpdir,
                         const copy_plan *plan, int jobs, schema_owners owners)
    __attribute__((warn_unused_result));

/* Roles that own or are granted objects of the source database (SNAP). */
bool schema_roles_used(db_conn *snap, strlist *out) __attribute__((warn_unused_result));

/* Those of NAMES that do not exist on the target. */
bool schema_roles_missing(db_conn *dst, const strlist *names, strlist *missing)
    __attribute__((warn_unused_result));

/* Create NAMES (and the roles they are members of) on the target with the
 * source's attributes, memberships and password hashes. Roles that exist
 * already are left as they are. Password hashes never reach a log line.
 * *NO_PASSWORD receives the roles created without a password because the
 * source role cannot read pg_authid. */
bool schema_copy_roles(db_conn *src, db_conn *dst, const strlist *names, strlist *no_password)
    __attribute__((warn_unused_result));

#endif
