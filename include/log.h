/*
 * include/log.h — logging: levels, timestamps, redaction of secrets.
 *
 * Every line goes to stderr (and to --log-file when given) as
 *   2026-11-21 10:40:01.123 INFO  message
 * Before a line is written, every string registered with log_add_secret()
 * is replaced by "****", so a password that slips into a libpq error text
 * or a query never reaches the terminal or a file. Thread-safe.
 */
#ifndef PGBATON_LOG_H
#define PGBATON_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum log_level {
    LOG_LEVEL_DEBUG = 0,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
} log_level;

/* Set the minimum level printed on stderr. */
void log_set_level(log_level level);

/* Also append every line (from INFO, or from DEBUG when verbose) to PATH.
 * Returns false (and logs why) when the file cannot be opened. */
bool log_open_file(const char *path) __attribute__((warn_unused_result));
void log_close(void);

/* Register a secret: it is masked in every later log line and in
 * log_redact(). Secrets shorter than 4 characters are masked only where they
 * stand alone, not inside longer words (see log.c). The string is copied. */
void log_add_secret(const char *secret);

/* Forget every registered secret (the fuzz target starts each input with
 * none, so that a crash replays from its input alone). */
void log_forget_secrets(void);

/* Replace every registered secret in TEXT; returns a new malloc'd string. */
char *log_redact(const char *text);

void log_msg(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

/* True when stderr is a terminal (progress bars, --watch redraws). */
bool log_stderr_is_tty(void);

#endif
