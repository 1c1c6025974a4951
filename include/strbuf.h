/*
 * include/strbuf.h — the one growing string buffer.
 *
 * A strbuf is a struct of three fields that callers may read (and, having
 * reserved room, write into): DATA, LEN used bytes, CAP allocated bytes. A
 * zeroed struct is an empty buffer ({0}); it allocates at the first append
 * or reserve, and DATA is "" from then on.
 * The appending functions keep DATA[LEN] a NUL, so DATA is a C string
 * (which may hold NULs of its own); code that writes into reserved room
 * itself terminates it if it needs to. Growing moves DATA: pointers into
 * it are valid until the next append or reserve that grows it. Allocation
 * failure exits (xalloc.h), so nothing here returns an error.
 */
#ifndef PGBATON_STRBUF_H
#define PGBATON_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct strbuf {
    char *data; /* owned; NULL until the first append or reserve */
    size_t len; /* bytes used, the terminating NUL not counted */
    size_t cap; /* bytes allocated */
} strbuf;

/* Room for EXTRA more bytes and a NUL after them (LEN + EXTRA < CAP). */
void strbuf_reserve(strbuf *b, size_t extra);

/* Append N bytes of S (which may hold NULs). */
void strbuf_append(strbuf *b, const void *s, size_t n);

/* Append the string S. */
void strbuf_puts(strbuf *b, const char *s);

/* Append one byte. */
void strbuf_putc(strbuf *b, char c);

/* Append printf output. */
void strbuf_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vprintf(strbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Empty B, keeping its memory. */
void strbuf_reset(strbuf *b);

/* Free what B holds and empty it ({0} again). */
void strbuf_free(strbuf *b);

#endif
