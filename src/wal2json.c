/*
 * src/wal2json.c — decode wal2json format-version-2 messages.
 *
 * How it works: a small JSON reader made for this one job reads the message
 * (LEN bytes, not NUL-terminated: every read is checked against the end) in
 * one pass and fills the change directly. Every value it keeps is written,
 * unescaped and NUL-terminated, into one text buffer owned by the change:
 * strings with their escapes resolved (\uXXXX and surrogate pairs become
 * UTF-8; other bytes, server-encoding bytes included, pass through as they
 * are), numbers as exactly the characters the source printed (never through
 * a double or int64: numerics beyond 64 bits, 1e400, float8 with 17 digits
 * stay exact), true/false as that text, null as NULL. Each value is preceded
 * in the buffer by the two bytes "\x", so a bytea value (wal2json sends its
 * hex without the "\x" the target's input function needs) is the same
 * string started two bytes earlier. Keys may come in any order; unknown keys
 * are skipped, nested values included.
 *
 * Why not jansson here (it is used elsewhere): this is the hot path of the
 * streaming apply, once per row change. jansson builds a tree of allocated
 * nodes and a hash table per object for every message, cannot keep numbers
 * exact (they needed a quoting pass first) and rejects text that is not
 * UTF-8. Here nothing is allocated per message once the buffers have grown
 * to the largest message seen: the text buffer is reserved for the whole
 * message before reading (so pointers into it stay valid while it fills)
 * and the column arrays only grow.
 */
#include "wal2json.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BYTEA_OID 17
#define MAX_DEPTH 64 /* nesting of skipped values (wal2json sends none) */
#define KEY_MAX   16 /* longer keys are none of ours */

/* ---- the reader ---------------------------------------------------------- */

typedef struct reader {
    const char *start; /* first byte of the message */
    const char *p;     /* next byte to read */
    const char *end;   /* one past the last byte */
    strbuf *out;       /* decoded text; never reallocated while reading */
    const char *what;  /* the first error, or NULL */
    size_t where;      /* its byte offset */
} reader;

/* What read_value found. */
typedef enum token {
    TOK_STRING,
    TOK_NUMBER,
    TOK_TRUE,
    TOK_FALSE,
    TOK_NULL,
    TOK_NESTED, /* an object or array, skipped */
} token;

static bool fail(reader *r, const char *what)
{
    if (!r->what) {
        r->what = what;
        r->where = (size_t)(r->p - r->start);
    }
    return false;
}

/* Append N bytes to the text. The buffer was reserved for the whole message
 * (a kept value never takes more than its JSON text plus 3 bytes, and every
 * kept value follows a key of at least 3 bytes that is not kept), so this
 * check never fires; it is there so that a mistake cannot overrun. */
static bool emit(reader *r, const char *s, size_t n)
{
    if (r->out->len + n >= r->out->cap)
        return fail(r, "message does not fit its buffer");
    memcpy(r->out->data + r->out->len, s, n);
    r->out->len += n;
    return true;
}

static void skip_ws(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

/* The next significant byte in *CH (not consumed). */
static bool peek(reader *r, char *ch)
{
    skip_ws(r);
    if (r->p >= r->end)
        return fail(r, "unexpected end of message");
    *ch = *r->p;
    return true;
}

static bool expect(reader *r, char want, const char *what)
{
    char ch;
    if (!peek(r, &ch))
        return false;
    if (ch != want)
        return fail(r, what);
    r->p++;
    return true;
}

static bool read_hex4(reader *r, unsigned *u)
{
    if (r->end - r->p < 4)
        return fail(r, "truncated \\u escape");
    *u = 0;
    for (int i = 0; i < 4; i++) {
        char ch = r->p[i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            d = (unsigned)(ch - 'A' + 10);
        else
            return fail(r, "bad hex digit in \\u escape");
        *u = (*u << 4) | d;
    }
    r->p += 4;
    return true;
}

static bool emit_utf8(reader *r, unsigned cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return emit(r, b, n);
}

/* \uXXXX (R at the 'u'), a surrogate pair taken as one code point. */
static bool read_unicode_escape(reader *r)
{
    unsigned cp, lo;
    r->p++;
    if (!read_hex4(r, &cp))
        return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(r, "lone low surrogate in \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
            return fail(r, "high surrogate without its low surrogate");
        r->p += 2;
        if (!read_hex4(r, &lo))
            return false;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(r, "high surrogate without its low surrogate");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp == 0)
        return fail(r, "\\u0000 in a string (text cannot hold NUL)");
    return emit_utf8(r, cp);
}

/* One escape, R just past the backslash. */
static bool read_escape(reader *r)
{
    if (r->p >= r->end)
        return fail(r, "unterminated string");
    char ch = *r->p, out;
    switch (ch) {
    case '"':
    case '\\':
    case '/':
        out = ch;
        break;
    case 'b':
        out = '\b';
        break;
    case 'f':
        out = '\f';
        break;
    case 'n':
        out = '\n';
        break;
    case 'r':
        out = '\r';
        break;
    case 't':
        out = '\t';
        break;
    case 'u':
        return read_unicode_escape(r);
    default:
        return fail(r, "unknown escape in a string");
    }
    r->p++;
    return emit(r, &out, 1);
}

/* The string at R (its opening quote), unescaped and NUL-terminated onto
 * the text; the caller knows where it started. */
static bool read_string(reader *r)
{
    r->p++;
    for (;;) {
        const char *q = r->p;
        while (q < r->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
            q++;
        if (!emit(r, r->p, (size_t)(q - r->p)))
            return false;
        r->p = q;
        if (q >= r->end)
            return fail(r, "unterminated string");
        r->p++;
        if (*q == '"')
            return emit(r, "", 1);
        if (*q != '\\')
            return fail(r, "control character in a string");
        if (!read_escape(r))
            return false;
    }
}

static bool read_digits(reader *r)
{
    const char *q = r->p;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
        r->p++;
    return r->p > q || fail(r, "malformed number");
}

/* A JSON number at R, copied as its exact characters. */
static bool read_number(reader *r)
{
    const char *b = r->p;
    if (*r->p == '-')
        r->p++;
    if (r->p < r->end && *r->p == '0')
        r->p++;
    else if (!read_digits(r))
        return false;
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (!read_digits(r))
            return false;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (!read_digits(r))
            return false;
    }
    return emit(r, b, (size_t)(r->p - b)) && emit(r, "", 1);
}

static bool read_literal(reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return fail(r, "unexpected character");
    r->p += n;
    return true;
}

static bool read_value(reader *r, int depth, token *t, const char **text);

/* The key at R and its colon; KEY gets a copy ("" when longer than ours). */
static bool read_key(reader *r, char key[KEY_MAX])
{
    char ch;
    if (!peek(r, &ch))
        return false;
    if (ch != '"')
        return fail(r, "expected a key");
    const char *b = r->p + 1, *q = b;
    while (q < r->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
        q++;
    if (q < r->end && *q == '"') {
        /* the usual case, no escapes: copied straight from the message */
        size_t n = (size_t)(q - b);
        memcpy(key, b, n < KEY_MAX ? n : 0);
        key[n < KEY_MAX ? n : 0] = '\0';
        r->p = q + 1;
    } else {
        size_t mark = r->out->len;
        if (!read_string(r))
            return false;
        size_t n = r->out->len - mark; /* with its NUL */
        memcpy(key, r->out->data + mark, n <= KEY_MAX ? n : 0);
        key[n <= KEY_MAX ? n - 1 : 0] = '\0';
        r->out->len = mark;
    }
    return expect(r, ':', "expected ':' after a key");
}

/* After a member or element: true with *MORE when a ',' follows, true
 * without when CLOSE does (both consumed). */
static bool next_item(reader *r, char close, bool *more)
{
    char ch;
    if (!peek(r, &ch))
        return false;
    r->p++;
    if (ch == ',')
        *more = true;
    else if (ch == close)
        *more = false;
    else
        return fail(r, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    return true;
}

/* MEMBER is called with R at each member's value, which it must read. */
typedef bool (*member_fn)(reader *r, const char *key, void *arg);

/* The object at R (its '{'). */
static bool read_object(reader *r, member_fn member, void *arg)
{
    char ch, key[KEY_MAX];
    bool more = true;
    r->p++;
    if (!peek(r, &ch))
        return false;
    if (ch == '}') {
        r->p++;
        return true;
    }
    while (more) {
        if (!read_key(r, key) || !member(r, key, arg) || !next_item(r, '}', &more))
            return false;
    }
    return true;
}

/* Skip any value (kept text discarded). */
static bool skip_value(reader *r, int depth)
{
    size_t mark = r->out->len;
    token t;
    const char *text;
    bool ok = read_value(r, depth, &t, &text);
    r->out->len = mark;
    return ok;
}

static bool skip_member(reader *r, const char *key, void *arg)
{
    (void)key;
    return skip_value(r, *(int *)arg);
}

/* The object or array at R, validated and skipped. */
static bool skip_nested(reader *r, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(r, "nested too deeply");
    if (*r->p == '{')
        return read_object(r, skip_member, &depth);
    char ch;
    bool more = true;
    r->p++;
    if (!peek(r, &ch))
        return false;
    if (ch == ']') {
        r->p++;
        return true;
    }
    while (more) {
        if (!skip_value(r, depth) || !next_item(r, ']', &more))
            return false;
    }
    return true;
}

/* One value at R. Strings, numbers, true and false: *TEXT is their text,
 * NUL-terminated in the text buffer right after the two bytes "\x". null:
 * *TEXT is NULL. Objects and arrays are skipped (TOK_NESTED, *TEXT NULL). */
static bool read_value(reader *r, int depth, token *t, const char **text)
{
    char ch;
    *text = NULL;
    if (!peek(r, &ch))
        return false;
    if (ch == '{' || ch == '[') {
        *t = TOK_NESTED;
        return skip_nested(r, depth + 1);
    }
    if (ch == 'n') {
        *t = TOK_NULL;
        return read_literal(r, "null");
    }
    if (!emit(r, "\\x", 2))
        return false;
    size_t at = r->out->len;
    bool ok;
    if (ch == '"') {
        *t = TOK_STRING;
        ok = read_string(r);
    } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
        *t = TOK_NUMBER;
        ok = read_number(r);
    } else if (ch == 't') {
        *t = TOK_TRUE;
        ok = read_literal(r, "true") && emit(r, "true", 5);
    } else if (ch == 'f') {
        *t = TOK_FALSE;
        ok = read_literal(r, "false") && emit(r, "false", 6);
    } else {
        ok = fail(r, "unexpected character");
    }
    *text = r->out->data + at;
    return ok;
}

/* A value read for a field that holds text: strings and numbers give their
 * text, anything else NULL (as absent). */
static bool read_text(reader *r, const char **out)
{
    token t;
    if (!read_value(r, 1, &t, out))
        return false;
    if (t != TOK_STRING && t != TOK_NUMBER)
        *out = NULL;
    return true;
}

/* ---- the message --------------------------------------------------------- */

typedef struct column_read {
    pgb_column *col;
    const char *typeoid; /* text, or NULL */
} column_read;

static bool column_member(reader *r, const char *key, void *arg)
{
    column_read *cr = arg;
    if (strcmp(key, "name") == 0)
        return read_text(r, &cr->col->name);
    if (strcmp(key, "type") == 0)
        return read_text(r, &cr->col->type);
    if (strcmp(key, "typeoid") == 0)
        return read_text(r, &cr->typeoid);
    if (strcmp(key, "value") != 0)
        return skip_value(r, 1);
    token t;
    if (!read_value(r, 1, &t, &cr->col->value))
        return false;
    return t != TOK_NESTED || fail(r, "malformed \"columns\" or \"identity\"");
}

/* One element of "columns" or "identity" at R into COL. */
static bool read_column(reader *r, pgb_column *col)
{
    char ch;
    if (!peek(r, &ch))
        return false;
    if (ch != '{')
        return fail(r, "malformed \"columns\" or \"identity\"");
    *col = (pgb_column){0};
    column_read cr = {col, NULL};
    if (!read_object(r, column_member, &cr))
        return false;
    if (!col->name)
        return fail(r, "malformed \"columns\" or \"identity\"");
    col->typeoid = cr.typeoid ? (uint32_t)strtoul(cr.typeoid, NULL, 10) : 0;
    bool bytea =
        col->typeoid ? col->typeoid == BYTEA_OID : (col->type && strcmp(col->type, "bytea") == 0);
    if (bytea && col->value)
        col->value -= 2; /* the "\x" that precedes every value */
    return true;
}

/* The array of columns at R into *COLS (grown as needed), *N of them. */
static bool read_columns(reader *r, pgb_column **cols, int *n, int *cap)
{
    char ch;
    bool more = true;
    *n = 0;
    if (!peek(r, &ch))
        return false;
    if (ch != '[')
        return fail(r, "malformed \"columns\" or \"identity\"");
    r->p++;
    if (!peek(r, &ch))
        return false;
    if (ch == ']') {
        r->p++;
        return true;
    }
    while (more) {
        if (!read_column(r, change_column_add(cols, n, cap)))
            return false;
        if (!next_item(r, ']', &more))
            return false;
    }
    return true;
}

/* Top-level fields as text, before they are checked. */
typedef struct message_read {
    pgb_change *c;
    const char *action, *lsn, *nextlsn;
} message_read;

static bool message_member(reader *r, const char *key, void *arg)
{
    message_read *m = arg;
    pgb_change *c = m->c;
    if (strcmp(key, "action") == 0)
        return read_text(r, &m->action);
    if (strcmp(key, "columns") == 0)
        return read_columns(r, &c->columns, &c->ncolumns, &c->capcolumns);
    if (strcmp(key, "identity") == 0)
        return read_columns(r, &c->identity, &c->nidentity, &c->capidentity);
    if (strcmp(key, "schema") == 0)
        return read_text(r, &c->schema);
    if (strcmp(key, "table") == 0)
        return read_text(r, &c->table);
    if (strcmp(key, "lsn") == 0)
        return read_text(r, &m->lsn);
    if (strcmp(key, "nextlsn") == 0)
        return read_text(r, &m->nextlsn);
    if (strcmp(key, "xid") == 0)
        return read_text(r, &c->xid);
    if (strcmp(key, "timestamp") == 0)
        return read_text(r, &c->timestamp);
    if (strcmp(key, "prefix") == 0)
        return read_text(r, &c->prefix);
    if (strcmp(key, "content") == 0)
        return read_text(r, &c->content);
    if (strcmp(key, "transactional") == 0) {
        token t;
        const char *text;
        if (!read_value(r, 1, &t, &text))
            return false;
        c->transactional = t == TOK_TRUE;
        return true;
    }
    return skip_value(r, 1);
}

/* Read the whole message into C and M; on failure *ERR describes it. */
static bool read_message(pgb_change *c, message_read *m, const char *msg, size_t len,
                         const char **err)
{
    c->text.len = 0;
    strbuf_reserve(&c->text, 2 * len + 64);
    reader r = {.start = msg, .p = msg, .end = msg + len, .out = &c->text};
    bool ok = false;
    skip_ws(&r);
    if (r.p >= r.end || *r.p != '{') {
        *err = "not a JSON object";
        return false;
    }
    if (read_object(&r, message_member, m)) {
        skip_ws(&r);
        ok = r.p == r.end || fail(&r, "data after the object");
    }
    if (!ok) {
        snprintf(c->errbuf, sizeof c->errbuf, "%s at byte %zu", r.what ? r.what : "malformed JSON",
                 r.where);
        *err = c->errbuf;
    }
    return ok;
}

static bool parse_lsn(const char *s, lsn_t *out)
{
    *out = LSN_INVALID;
    return !s || lsn_parse(s, out);
}

/* The checks on a message read whole. */
static bool check_message(pgb_change *c, const message_read *m, const char **err)
{
    if (!m->action || strlen(m->action) != 1 || !strchr("BCIUDTM", m->action[0])) {
        *err = "unknown or missing \"action\"";
        return false;
    }
    c->kind = (change_kind)m->action[0];
    if (!parse_lsn(m->lsn, &c->lsn) || !parse_lsn(m->nextlsn, &c->nextlsn)) {
        *err = "malformed \"lsn\" or \"nextlsn\"";
        return false;
    }
    switch (c->kind) {
    case CHG_BEGIN:
    case CHG_COMMIT:
        if (c->kind == CHG_COMMIT && c->nextlsn == LSN_INVALID) {
            *err = "commit without \"nextlsn\"";
            return false;
        }
        return true;
    case CHG_MESSAGE:
        if (!c->prefix) {
            *err = "message without \"prefix\"";
            return false;
        }
        return true;
    default:
        break;
    }
    if (!c->schema || !c->table) {
        *err = "change without \"schema\" or \"table\"";
        return false;
    }
    if ((c->kind == CHG_INSERT || c->kind == CHG_UPDATE) && c->ncolumns == 0) {
        *err = "insert or update without \"columns\"";
        return false;
    }
    if ((c->kind == CHG_UPDATE || c->kind == CHG_DELETE) && c->nidentity == 0) {
        *err = "update or delete without \"identity\" (table without replica identity?)";
        return false;
    }
    return true;
}

bool w2j_decode(pgb_change *c, const char *msg, size_t len, const char **err)
{
    c->ncolumns = c->nidentity = 0;
    c->schema = c->table = c->xid = c->timestamp = c->prefix = c->content = NULL;
    c->transactional = false;
    c->lsn = c->nextlsn = LSN_INVALID;
    message_read m = {.c = c};
    return read_message(c, &m, msg, len, err) && check_message(c, &m, err);
}
