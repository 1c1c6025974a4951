/*
 * src/lsn.c — WAL positions: "16/B374D848" <-> 64-bit integer.
 */
#include "lsn.h"

#include <stdio.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parse 1..8 hex digits at *P into *OUT, advancing *P. */
static bool parse_half(const char **p, uint32_t *out)
{
    uint32_t v = 0;
    int n = 0;
    while (hexval(**p) >= 0) {
        if (++n > 8)
            return false;
        v = (v << 4) | (uint32_t)hexval(**p);
        (*p)++;
    }
    *out = v;
    return n > 0;
}

bool lsn_parse(const char *text, lsn_t *out)
{
    if (!text)
        return false;
    const char *p = text;
    uint32_t hi, lo;
    if (!parse_half(&p, &hi) || *p++ != '/' || !parse_half(&p, &lo) || *p != '\0')
        return false;
    *out = ((lsn_t)hi << 32) | lo;
    return true;
}

char *lsn_format(lsn_t lsn, char *buf, size_t bufsz)
{
    snprintf(buf, bufsz, "%X/%X", (unsigned)(lsn >> 32), (unsigned)(lsn & 0xFFFFFFFFu));
    return buf;
}
