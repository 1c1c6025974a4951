/*
 * include/strlist.h — the one list of strings.
 *
 * A strlist is two fields callers may read: ITEMS[0..N-1], each owned by
 * the list, and ITEMS[N] is NULL (so a list of arguments is an argv). A
 * zeroed strlist is an empty list (ITEMS NULL until the first add). Allocation failures abort
 * (xalloc.h).
 */
#ifndef PGBATON_STRLIST_H
#define PGBATON_STRLIST_H

#include <jansson.h>

typedef struct strlist {
    char **items; /* owned, each owned */
    int n;
    int cap; /* allocated slots of items */
} strlist;

/* Append a copy of S. */
void strlist_add(strlist *l, const char *s);
/* Append printf output. */
void strlist_addf(strlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Free every item; L is empty again. */
void strlist_free(strlist *l);
/* The items joined by SEP; when MAX_SHOWN > 0 and there are more, the first
 * MAX_SHOWN and " and N more". Malloc'd ("" for an empty list). */
char *strlist_join(const strlist *l, const char *sep, int max_shown);
/* The items as a JSON array of strings (new reference). */
json_t *strlist_json(const strlist *l);

#endif
