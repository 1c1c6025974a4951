/*
 * fuzz/fuzz_pgoutput.c — libFuzzer target for the pgoutput reader
 * (src/pgoutput.c, include/pgoutput.h).
 *
 * The input is a session: a sequence of frames, each a 2-byte big-endian
 * length and that many bytes of one XLogData payload (the last frame takes
 * what is left when it is short), so that Relation messages come before the
 * Insert, Update, Delete and Truncate messages that use them. A frame of
 * length 0 is pgo_reset() (a new replication session). One decoder reads
 * the whole input; message N goes into change N % 2, so that after every
 * decode both changes are checked: the new one, and the one before it,
 * which must stay valid whatever came since (a later Relation message or a
 * reset included). After a Truncate, pgo_next() gives the other relations.
 * Every payload is decoded from a buffer of exactly its length, so a read
 * past it is an AddressSanitizer report. Any result is fine; a successful
 * one must pass change_check().
 */
#include "change_check.h"
#include "pgoutput.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WAL_STEP 0x100 /* WAL distance between two frames' starts */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pgo_decoder *d = pgo_new();
    pgb_change c[2] = {{0}, {0}};
    lsn_t wal_start = 0x1000000;
    int n = 0;
    while (size >= 2) {
        size_t len = (size_t)data[0] << 8 | data[1];
        data += 2;
        size -= 2;
        if (len > size)
            len = size;
        if (len == 0) {
            pgo_reset(d);
            continue;
        }
        char *msg = malloc(len);
        if (!msg)
            abort();
        memcpy(msg, data, len);
        data += len;
        size -= len;

        pgb_change *cur = &c[n % 2];
        const char *err = NULL;
        if (pgo_decode(d, cur, msg, len, wal_start, &err)) {
            change_check(cur);
            while (pgo_next(d, cur))
                change_check(cur);
        } else if (!err) {
            abort(); /* a failure always says why */
        }
        change_check(&c[(n + 1) % 2]);
        free(msg);
        wal_start += WAL_STEP;
        n++;
    }
    change_free(&c[0]);
    change_free(&c[1]);
    pgo_free(d);
    return 0;
}
