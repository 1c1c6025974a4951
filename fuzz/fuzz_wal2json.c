/*
 * fuzz/fuzz_wal2json.c — libFuzzer target for the wal2json reader
 * (src/wal2json.c, include/wal2json.h).
 *
 * The input is one format-version-2 message. It is decoded three times into
 * the same change, as the stream reuses one change for every message: whole,
 * whole again (the buffers have grown: the hot path), and its first half
 * (a shorter message over the longer one's leftovers). Each is decoded from
 * a buffer of exactly its length, so a read past the message is an
 * AddressSanitizer report. Any result is fine; a successful one must pass
 * change_check().
 */
#include "change_check.h"
#include "wal2json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void decode(pgb_change *c, const uint8_t *data, size_t size)
{
    char *msg = malloc(size ? size : 1);
    if (!msg)
        abort();
    memcpy(msg, data, size);
    const char *err = NULL;
    if (w2j_decode(c, msg, size, &err))
        change_check(c);
    else if (!err)
        abort(); /* a failure always says why */
    free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pgb_change c = {0};
    decode(&c, data, size);
    decode(&c, data, size);
    decode(&c, data, size / 2);
    change_free(&c);
    return 0;
}
