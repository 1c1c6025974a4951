/*
 * include/conninfo.h — connection strings: parse, mask, register secrets.
 *
 * A connection string is a libpq URI (postgres://user:pw@host/db?...) or a
 * key=value string. It is parsed once with libpq's own parser; the password
 * (from the string, PGPASSWORD or the pgpass file) is registered with the
 * logger as a secret; the string is only ever displayed masked:
 *   postgres://app:****@db.example.com:5432/shop
 *   host=db.example.com user=app password=****
 */
#ifndef PGBATON_CONNINFO_H
#define PGBATON_CONNINFO_H

#include <stdbool.h>

typedef struct conninfo {
    char **keys;   /* parsed options with a value, NULL-terminated; owned */
    char **values; /* their values, same length; owned */
    char *masked;  /* display form, password replaced by ****; owned */
} conninfo;

/* Parse RAW (URI or key=value). On failure returns NULL and sets *ERRMSG to a
 * malloc'd message that never echoes the string itself. Registers the
 * password, if any, as a log secret. */
conninfo *conninfo_parse(const char *raw, char **errmsg) __attribute__((warn_unused_result));
void conninfo_free(conninfo *ci);

/* Value of option KEY ("host", "dbname", ...) or NULL when not set. */
const char *conninfo_get(const conninfo *ci, const char *key);

/* Mask the password in RAW (URI userinfo, URI ?password=, key=value
 * password=...). Returns a new malloc'd string. Works on unparsable input
 * too (best effort: anything after "password" is masked). */
char *conninfo_mask(const char *raw);

/* True if RAW is written as a URI (postgres:// or postgresql://). */
bool conninfo_is_uri(const char *raw);

/* Overwrite a command-line argument in place with its masked form (padded
 * with NULs), so that `ps` does not show the password. */
void conninfo_scrub_arg(char *arg);

/* Register as log secrets PGPASSWORD and every password in the pgpass file
 * (PGPASSFILE or ~/.pgpass). Called once at start-up. */
void conninfo_register_env_secrets(void);

#endif
