/*
 * src/wal2json.c — decode wal2json format-version-2 messages.
 *
 * How it works: the raw message is first copied with every bare number
 * token (outside strings) wrapped in quotes, so jansson only ever sees
 * strings and the digits reach the target exactly as the source printed
 * them (numerics beyond 64 bits, 1e400, float8 with 17 digits). The quoted
 * text is parsed with jansson; the change struct then points into the
 * parsed tree (no copies), except for bytea values, which wal2json sends as
 * hex without the "\x" that the target's input function needs: those get a
 * small owned string. Buffers are kept in the change and reused from one
 * message to the next.
 */
#include "wal2json.h"

#include <stdlib.h>
#include <string.h>

#define BYTEA_OID 17

static void buf_reserve(w2j_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = realloc(b->data, cap);
    if (!b->data)
        abort();
    b->cap = cap;
}

void w2j_buf_free(w2j_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static bool is_number_char(char ch)
{
    return (ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' ||
           ch == 'E';
}

void w2j_quote_numbers(const char *in, size_t len, w2j_buf *out)
{
    out->len = 0;
    /* worst case every token is a one-character number: 3x */
    buf_reserve(out, len + len / 2 + 16);
    size_t i = 0;
    while (i < len) {
        char ch = in[i];
        if (ch == '"') {
            /* copy the whole string, escapes included */
            size_t start = i++;
            while (i < len && in[i] != '"')
                i += (in[i] == '\\' && i + 1 < len) ? 2 : 1;
            if (i < len)
                i++;
            buf_reserve(out, i - start);
            memcpy(out->data + out->len, in + start, i - start);
            out->len += i - start;
        } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
            size_t start = i;
            while (i < len && is_number_char(in[i]))
                i++;
            buf_reserve(out, i - start + 2);
            out->data[out->len++] = '"';
            memcpy(out->data + out->len, in + start, i - start);
            out->len += i - start;
            out->data[out->len++] = '"';
        } else {
            buf_reserve(out, 1);
            out->data[out->len++] = ch;
            i++;
        }
    }
    out->data[out->len] = '\0';
}

/* Borrowed string value of KEY in OBJ, or NULL (absent, null, not text). */
static const char *get_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool get_lsn(json_t *obj, const char *key, lsn_t *out)
{
    const char *s = get_str(obj, key);
    *out = LSN_INVALID;
    return !s || lsn_parse(s, out);
}

static const char *keep_scratch(w2j_change *c, char *s)
{
    if (c->nscratch == c->capscratch) {
        c->capscratch = c->capscratch ? 2 * c->capscratch : 8;
        c->scratch = realloc(c->scratch, (size_t)c->capscratch * sizeof(char *));
        if (!c->scratch)
            abort();
    }
    c->scratch[c->nscratch++] = s;
    return s;
}

/* Text form of one JSON value: strings as they are, booleans as true/false,
 * null as NULL. Numbers never appear (they were quoted). */
static bool value_text(json_t *v, const char **out)
{
    if (json_is_null(v) || !v)
        *out = NULL;
    else if (json_is_string(v))
        *out = json_string_value(v);
    else if (json_is_true(v))
        *out = "true";
    else if (json_is_false(v))
        *out = "false";
    else
        return false;
    return true;
}

static bool decode_columns(w2j_change *c, json_t *arr, w2j_column **cols, int *n, int *cap)
{
    *n = 0;
    if (!arr)
        return true;
    if (!json_is_array(arr))
        return false;
    int count = (int)json_array_size(arr);
    if (count > *cap) {
        *cap = count;
        *cols = realloc(*cols, (size_t)count * sizeof(w2j_column));
        if (!*cols)
            abort();
    }
    for (int i = 0; i < count; i++) {
        json_t *o = json_array_get(arr, (size_t)i);
        w2j_column *col = &(*cols)[i];
        col->name = get_str(o, "name");
        col->type = get_str(o, "type");
        const char *oid = get_str(o, "typeoid");
        col->typeoid = oid ? (uint32_t)strtoul(oid, NULL, 10) : 0;
        if (!col->name || !value_text(json_object_get(o, "value"), &col->value))
            return false;
        bool bytea = col->typeoid ? col->typeoid == BYTEA_OID
                                  : (col->type && strcmp(col->type, "bytea") == 0);
        if (bytea && col->value) {
            size_t l = strlen(col->value);
            char *s = malloc(l + 3);
            if (!s)
                abort();
            s[0] = '\\';
            s[1] = 'x';
            memcpy(s + 2, col->value, l + 1);
            col->value = keep_scratch(c, s);
        }
    }
    *n = count;
    return true;
}

static void release_message(w2j_change *c)
{
    json_decref(c->root);
    c->root = NULL;
    for (int i = 0; i < c->nscratch; i++)
        free(c->scratch[i]);
    c->nscratch = 0;
}

bool w2j_decode(w2j_change *c, const char *msg, size_t len, const char **err)
{
    release_message(c);
    c->ncolumns = c->nidentity = 0;
    c->schema = c->table = c->xid = c->timestamp = c->prefix = c->content = NULL;
    c->transactional = false;

    w2j_quote_numbers(msg, len, &c->quoted);
    json_error_t jerr;
    c->root = json_loadb(c->quoted.data, c->quoted.len, 0, &jerr);
    if (!json_is_object(c->root)) {
        *err = "not a JSON object";
        return false;
    }
    const char *action = get_str(c->root, "action");
    if (!action || strlen(action) != 1 || !strchr("BCIUDTM", action[0])) {
        *err = "unknown or missing \"action\"";
        return false;
    }
    c->kind = (w2j_kind)action[0];
    c->xid = get_str(c->root, "xid");
    c->timestamp = get_str(c->root, "timestamp");
    if (!get_lsn(c->root, "lsn", &c->lsn) || !get_lsn(c->root, "nextlsn", &c->nextlsn)) {
        *err = "malformed \"lsn\" or \"nextlsn\"";
        return false;
    }
    switch (c->kind) {
    case W2J_BEGIN:
    case W2J_COMMIT:
        if (c->kind == W2J_COMMIT && c->nextlsn == LSN_INVALID) {
            *err = "commit without \"nextlsn\"";
            return false;
        }
        return true;
    case W2J_MESSAGE:
        c->transactional = json_is_true(json_object_get(c->root, "transactional"));
        c->prefix = get_str(c->root, "prefix");
        c->content = get_str(c->root, "content");
        if (!c->prefix) {
            *err = "message without \"prefix\"";
            return false;
        }
        return true;
    default:
        break;
    }
    c->schema = get_str(c->root, "schema");
    c->table = get_str(c->root, "table");
    if (!c->schema || !c->table) {
        *err = "change without \"schema\" or \"table\"";
        return false;
    }
    if (!decode_columns(c, json_object_get(c->root, "columns"), &c->columns, &c->ncolumns,
                        &c->capcolumns) ||
        !decode_columns(c, json_object_get(c->root, "identity"), &c->identity, &c->nidentity,
                        &c->capidentity)) {
        *err = "malformed \"columns\" or \"identity\"";
        return false;
    }
    if ((c->kind == W2J_INSERT || c->kind == W2J_UPDATE) && c->ncolumns == 0) {
        *err = "insert or update without \"columns\"";
        return false;
    }
    if ((c->kind == W2J_UPDATE || c->kind == W2J_DELETE) && c->nidentity == 0) {
        *err = "update or delete without \"identity\" (table without replica identity?)";
        return false;
    }
    return true;
}

void w2j_change_free(w2j_change *c)
{
    release_message(c);
    free(c->scratch);
    free(c->columns);
    free(c->identity);
    w2j_buf_free(&c->quoted);
    memset(c, 0, sizeof *c);
}
