/*
 * src/largeobj.c — copy large objects at the snapshot.
 *
 * Large objects live in a catalog (pg_largeobject) that logical decoding
 * does not see, so they are copied once, at the snapshot, by one copy
 * worker: their OIDs are read in batches of LO_BATCH, each object is
 * recreated with the same OID on the target and its data moved in chunks of
 * LO_CHUNK bytes (lo_get on the source, lo_put on the target), one target
 * transaction per batch. Memory stays bounded whatever their sizes.
 */
#include "largeobj.h"

#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LO_BATCH 500
#define LO_CHUNK (256 * 1024)

/* Copy the data of large object OID (text) chunk by chunk. */
static bool copy_one(db_conn *src, db_conn *dst, const char *oid, atomic_int_fast64_t *bytes,
                     const atomic_int *abort_flag)
{
    const char *cparams[] = {oid};
    if (!db_commandp(dst, "SELECT lo_create($1::oid)", 1, cparams))
        return false;
    for (int64_t off = 0;; off += LO_CHUNK) {
        if (atomic_load(abort_flag))
            return false;
        char offs[32], lens[32];
        snprintf(offs, sizeof offs, "%" PRId64, off);
        snprintf(lens, sizeof lens, "%d", LO_CHUNK);
        const char *gparams[] = {oid, offs, lens};
        db_res *res = db_exec(src, DB_LOG,
                              "SELECT d, length(d) FROM lo_get($1::oid, $2::bigint, $3::int) "
                              "AS d",
                              3, gparams);
        if (!res)
            return false;
        if (!db_check_shape(src, res, 2, 1, "lo_get")) {
            db_res_free(res);
            return false;
        }
        int64_t got = strtoll(db_val(res, 0, 1), NULL, 10);
        bool ok = true;
        if (got > 0) {
            const char *pparams[] = {oid, offs, db_val(res, 0, 0)};
            ok = db_commandp(dst, "SELECT lo_put($1::oid, $2::bigint, $3::bytea)", 3, pparams);
            atomic_fetch_add(bytes, got);
        }
        db_res_free(res);
        if (!ok)
            return false;
        if (got < LO_CHUNK)
            return true;
    }
}

static bool set_owner(db_conn *dst, const char *oid, const char *owner)
{
    char *q = db_quote_ident(owner);
    char sql[512];
    snprintf(sql, sizeof sql, "ALTER LARGE OBJECT %s OWNER TO %s", oid, q);
    free(q);
    return db_command(dst, sql);
}

bool largeobj_copy(db_conn *src, db_conn *dst, largeobj_owner owner, int64_t *count,
                   atomic_int_fast64_t *bytes, const atomic_int *abort_flag)
{
    char last[16] = "0";
    *count = 0;
    for (;;) {
        const char *params[] = {last};
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT oid, pg_get_userbyid(lomowner) FROM pg_largeobject_metadata "
                 "WHERE oid > $1::oid ORDER BY oid LIMIT %d",
                 LO_BATCH);
        db_res *res = db_exec(src, DB_LOG, sql, 1, params);
        if (!res)
            return false;
        if (!db_check_shape(src, res, 2, 0, "large object list")) {
            db_res_free(res);
            return false;
        }
        int n = db_nrows(res);
        bool ok = n == 0 || db_command(dst, "BEGIN");
        for (int i = 0; ok && i < n; i++) {
            const char *oid = db_val(res, i, 0);
            ok = copy_one(src, dst, oid, bytes, abort_flag) &&
                 (owner == LARGEOBJ_NO_OWNER || set_owner(dst, oid, db_val(res, i, 1)));
            snprintf(last, sizeof last, "%s", oid);
        }
        ok = ok && (n == 0 || db_command(dst, "COMMIT"));
        db_res_free(res);
        if (!ok)
            return false;
        *count += n;
        if (n < LO_BATCH) {
            log_info("copied %" PRId64 " large objects", *count);
            return true;
        }
    }
}
