/*
 * include/largeobj.h — copy large objects at the snapshot.
 */
#ifndef PGBATON_LARGEOBJ_H
#define PGBATON_LARGEOBJ_H

#include "db.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum largeobj_owner {
    LARGEOBJ_KEEP_OWNER, /* ALTER LARGE OBJECT ... OWNER TO the source's owner */
    LARGEOBJ_NO_OWNER,   /* leave them owned by the connecting role */
} largeobj_owner;

/* Copy every large object from SRC (a session that imported the snapshot)
 * to DST, chunk by chunk (bounded memory). *BYTES is advanced as data goes
 * (other threads read it for progress); the copy stops, returning false, as
 * soon as *ABORT_FLAG is set (by another thread). *COUNT gets the number of
 * objects copied. False on error (logged). */
bool largeobj_copy(db_conn *src, db_conn *dst, largeobj_owner owner, int64_t *count,
                   atomic_int_fast64_t *bytes, const atomic_int *abort_flag)
    __attribute__((warn_unused_result));

#endif
