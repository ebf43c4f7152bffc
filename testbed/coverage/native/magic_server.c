/*
 * magic_server.c: magic-value MCP server in C, the native coverage fixture for mcpfuzz.
 *
 * Newline-delimited JSON-RPC 2.0 on stdin/stdout (requests, notifications, batches and the
 * Invalid Request cases as testbed/jsonline.py answers them): initialize, ping, tools/list
 * and tools/call with one tool, `inspect {value: string}`. The handler
 * compares the value with a six-character secret one character at a time in nested ifs,
 * so that a coverage-guided fuzzer sees every extra matching character as a new edge. A
 * value that starts with all six characters makes the process abort (SIGABRT). The secret
 * is built from character codes and appears in no schema, description or reply. Every
 * other input gets a correct reply, so that the fuzzer's other oracles stay quiet and the
 * benchmark measures the search for the secret. Logs nothing: stdout belongs to the
 * protocol.
 *
 * Build it with build.sh (gcc -fsanitize-coverage=trace-pc plus the mcpfuzz_cov runtime).
 * C99, standard library only.
 */

#define _POSIX_C_SOURCE 200809L /* getline */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROTOCOL "2025-06-18"

/* A decoded JSON string: bytes (UTF-8, may contain NUL) and their count. */
struct text {
    char *bytes;
    size_t len;
};

/* ---- A validating JSON scanner over one line ------------------------------------------
 * Values are not built into a tree: `skip_value` checks the syntax and returns the end of
 * a value, and `member` walks an object to find one key. Good enough for one message per
 * line; nesting is capped so a deep line cannot exhaust the stack. */

#define MAX_DEPTH 200

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static long read_hex4(const char *p)
{
    long value = 0;
    int i;
    for (i = 0; i < 4; i++) {
        int digit = hex_value(p[i]);
        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The length of the valid UTF-8 sequence at `p` (not ASCII), or 0. */
static size_t utf8_length(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t len, i;
    unsigned long cp;
    if (u[0] >= 0xC2 && u[0] <= 0xDF) {
        len = 2;
        cp = u[0] & 0x1F;
    } else if (u[0] >= 0xE0 && u[0] <= 0xEF) {
        len = 3;
        cp = u[0] & 0x0F;
    } else if (u[0] >= 0xF0 && u[0] <= 0xF4) {
        len = 4;
        cp = u[0] & 0x07;
    } else {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if ((u[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (u[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* Scans the string starting at the opening quote. Returns the position after the closing
 * quote, or NULL if malformed. When `out` is given, decodes into out->bytes (which must
 * hold at least as many bytes as the raw string). */
static const char *scan_string(const char *p, struct text *out)
{
    size_t n = 0;
    if (*p != '"')
        return NULL;
    p++;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c < 0x20)
            return NULL; /* also the terminating NUL: unterminated string */
        if (c >= 0x80) {
            /* Strict JSON text is UTF-8: a byte that starts no valid sequence is an error. */
            size_t len = utf8_length(p);
            if (len == 0)
                return NULL;
            if (out)
                memcpy(out->bytes + n, p, len);
            n += len;
            p += len;
            continue;
        }
        if (c != '\\') {
            if (out)
                out->bytes[n] = (char)c;
            n++;
            p++;
            continue;
        }
        p++;
        switch (*p) {
        case '"': case '\\': case '/':
            c = (unsigned char)*p; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
            long cp = read_hex4(p + 1);
            if (cp < 0)
                return NULL;
            p += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return NULL; /* a lone low surrogate: strict parsers reject it */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                long low = p[1] == '\\' && p[2] == 'u' ? read_hex4(p + 3) : -1;
                if (low < 0xDC00 || low > 0xDFFF)
                    return NULL; /* a lone high surrogate */
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                p += 6;
            }
            if (out)
                n += put_utf8(out->bytes + n, (unsigned long)cp);
            else
                n += 4;
            p++;
            continue;
        }
        default:
            return NULL;
        }
        if (out)
            out->bytes[n] = (char)c;
        n++;
        p++;
    }
    if (out)
        out->len = n;
    return p + 1;
}

static const char *scan_digits(const char *p)
{
    if (*p < '0' || *p > '9')
        return NULL;
    while (*p >= '0' && *p <= '9')
        p++;
    return p;
}

static const char *scan_number(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if ((p = scan_digits(p)) == NULL)
        return NULL;
    if (*p == '.' && (p = scan_digits(p + 1)) == NULL)
        return NULL;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if ((p = scan_digits(p)) == NULL)
            return NULL;
    }
    return p;
}

static const char *skip_value(const char *p, int depth)
{
    p = skip_ws(p);
    if (depth > MAX_DEPTH)
        return NULL;
    switch (*p) {
    case '"':
        return scan_string(p, NULL);
    case '{':
        p = skip_ws(p + 1);
        if (*p == '}')
            return p + 1;
        for (;;) {
            if ((p = scan_string(skip_ws(p), NULL)) == NULL)
                return NULL;
            p = skip_ws(p);
            if (*p != ':')
                return NULL;
            if ((p = skip_value(p + 1, depth + 1)) == NULL)
                return NULL;
            p = skip_ws(p);
            if (*p == '}')
                return p + 1;
            if (*p != ',')
                return NULL;
            p++;
        }
    case '[':
        p = skip_ws(p + 1);
        if (*p == ']')
            return p + 1;
        for (;;) {
            if ((p = skip_value(p, depth + 1)) == NULL)
                return NULL;
            p = skip_ws(p);
            if (*p == ']')
                return p + 1;
            if (*p != ',')
                return NULL;
            p++;
        }
    case 't':
        return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        return scan_number(p);
    }
}

/* In the (already validated) object at `object`, finds the last member named `key` and
 * returns the start of its value, or NULL. */
static const char *member(const char *object, const char *key)
{
    const char *p;
    const char *found = NULL;
    size_t key_len = strlen(key);
    if (object == NULL)
        return NULL;
    p = skip_ws(object);
    if (*p != '{')
        return NULL;
    p = skip_ws(p + 1);
    if (*p == '}')
        return NULL;
    for (;;) {
        const char *name = skip_ws(p);
        const char *after = scan_string(name, NULL);
        const char *value = skip_ws(skip_ws(after) + 1);
        /* Compares the raw key: escaped keys do not match, which is fine for a fixture. */
        if ((size_t)(after - name) == key_len + 2 && memcmp(name + 1, key, key_len) == 0)
            found = value;
        p = skip_ws(skip_value(value, 0));
        if (*p == '}')
            return found;
        p++;
    }
}

/* Decodes the string value at `p` into a fresh buffer, or returns 0 if it is no string. */
static int decode_string(const char *p, struct text *out)
{
    const char *end;
    if (p == NULL)
        return 0;
    p = skip_ws(p);
    if (*p != '"')
        return 0;
    end = scan_string(p, NULL);
    out->bytes = malloc((size_t)(end - p) + 1);
    if (out->bytes == NULL)
        abort();
    scan_string(p, out);
    out->bytes[out->len] = '\0';
    return 1;
}

static int text_is(const struct text *t, const char *literal)
{
    return t->len == strlen(literal) && memcmp(t->bytes, literal, t->len) == 0;
}

/* ---- Replies --------------------------------------------------------------------------- */

/* Inside a batch, replies are collected into one array line: the number written so far. */
static int in_batch, batch_replies;

/* Writes `{"jsonrpc":"2.0","id":<id>,` with the raw id text (or null), then `tail`: a line
 * of its own, or the next element of the batch's array. */
static void reply(const char *id, size_t id_len, const char *tail)
{
    if (in_batch)
        fputc(batch_replies++ ? ',' : '[', stdout);
    fputs("{\"jsonrpc\":\"2.0\",\"id\":", stdout);
    if (id != NULL)
        fwrite(id, 1, id_len, stdout);
    else
        fputs("null", stdout);
    fputc(',', stdout);
    fputs(tail, stdout);
    fputc('}', stdout);
    if (!in_batch) {
        fputc('\n', stdout);
        fflush(stdout);
    }
}

#define INVALID(why) "\"error\":{\"code\":-32600,\"message\":\"Invalid Request" why "\"}"

/* The planted bug. The secret's character codes, one nested if each. */
static void inspect(const struct text *value, char *result, size_t result_size)
{
    const unsigned char *v = (const unsigned char *)value->bytes;
    size_t n = value->len;
    size_t n_chars = 0, i;
    if (n >= 1 && v[0] == 0x52) {
        if (n >= 2 && v[1] == 0x39) {
            if (n >= 3 && v[2] == 0x78) {
                if (n >= 4 && v[3] == 0x40) {
                    if (n >= 5 && v[4] == 0x66) {
                        if (n >= 6 && v[5] == 0x54) {
                            abort();
                        }
                    }
                }
            }
        }
    }
    /* Count code points, not bytes, like the Python twin. */
    for (i = 0; i < n; i++)
        if ((v[i] & 0xC0) != 0x80)
            n_chars++;
    snprintf(result, result_size,
             "\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"inspected %lu characters\"}],"
             "\"isError\":false}",
             (unsigned long)n_chars);
}

static void tools_call(const char *params, const char *id, size_t id_len)
{
    struct text name = {NULL, 0}, value = {NULL, 0};
    const char *arguments;
    char result[256];
    if (params == NULL || *params != '{' || !decode_string(member(params, "name"), &name) ||
        !text_is(&name, "inspect")) {
        reply(id, id_len, "\"error\":{\"code\":-32602,\"message\":\"Unknown tool\"}");
        free(name.bytes);
        return;
    }
    free(name.bytes);
    arguments = member(params, "arguments");
    if (arguments != NULL && *arguments == '{' && decode_string(member(arguments, "value"), &value)) {
        inspect(&value, result, sizeof result);
        free(value.bytes);
        reply(id, id_len, result);
        return;
    }
    reply(id, id_len,
          "\"error\":{\"code\":-32602,\"message\":\"Invalid params: value must be a string\"}");
}

/* Answers one message (an element of a batch or a whole line), already validated as JSON,
 * by the rules of testbed/jsonline.py. */
static void handle_message(const char *message)
{
    const char *id = member(message, "id");
    const char *method_at = member(message, "method");
    const char *params = member(message, "params");
    const char *valid_id = NULL;
    struct text method = {NULL, 0}, version = {NULL, 0};
    size_t id_len = 0;
    int version_ok;

    if (*skip_ws(message) != '{') {
        reply(NULL, 0, INVALID(""));
        return;
    }
    if (id != NULL && (*id == '"' || *id == '-' || (*id >= '0' && *id <= '9'))) {
        valid_id = id;
        id_len = (size_t)(skip_value(id, 0) - id);
    }
    if (method_at == NULL) {
        if (member(message, "result") == NULL && member(message, "error") == NULL)
            reply(valid_id, id_len, INVALID(": no method"));
        return; /* otherwise a reply from the client; this server never asks anything */
    }
    version_ok = decode_string(member(message, "jsonrpc"), &version) && text_is(&version, "2.0");
    free(version.bytes);
    if (!version_ok) {
        reply(valid_id, id_len, INVALID(": jsonrpc must be \\\"2.0\\\""));
        return;
    }
    if (!decode_string(method_at, &method)) {
        reply(valid_id, id_len, INVALID(": method must be a string"));
        return;
    }
    if (id == NULL) {
        free(method.bytes); /* a notification: never answered */
        return;
    }
    if (valid_id == NULL) {
        reply(NULL, 0, INVALID(": id must be a string or a number"));
    } else if (params != NULL && *params != '{' && *params != '[') {
        reply(id, id_len, INVALID(": params must be an object or an array"));
    } else if (!text_is(&method, "initialize") && !text_is(&method, "ping") &&
               !text_is(&method, "tools/list") && !text_is(&method, "tools/call")) {
        reply(id, id_len, "\"error\":{\"code\":-32601,\"message\":\"Method not found\"}");
    } else if (params != NULL && *params == '[') {
        reply(id, id_len,
              "\"error\":{\"code\":-32602,\"message\":\"Invalid params: params must be an object\"}");
    } else if (text_is(&method, "initialize")) {
        reply(id, id_len,
              "\"result\":{\"protocolVersion\":\"" PROTOCOL "\",\"capabilities\":{\"tools\":{}},"
              "\"serverInfo\":{\"name\":\"magic-c\",\"version\":\"1.0.0\"}}");
    } else if (text_is(&method, "ping")) {
        reply(id, id_len, "\"result\":{}");
    } else if (text_is(&method, "tools/list")) {
        reply(id, id_len,
              "\"result\":{\"tools\":[{\"name\":\"inspect\",\"description\":\"Inspects a value\","
              "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"value\":{\"type\":\"string\"}},"
              "\"required\":[\"value\"]}}]}");
    } else {
        tools_call(params, id, id_len);
    }
    free(method.bytes);
}

/* Answers one line: a parse error, a message, or a batch (one array of replies, none for a
 * batch of notifications). */
static void handle(const char *line)
{
    const char *end = skip_value(line, 0);
    const char *p = skip_ws(line);

    if (end == NULL || *skip_ws(end) != '\0') {
        reply(NULL, 0, "\"error\":{\"code\":-32700,\"message\":\"Parse error\"}");
        return;
    }
    if (*p != '[') {
        handle_message(p);
        return;
    }
    p = skip_ws(p + 1);
    if (*p == ']') {
        reply(NULL, 0, INVALID(": empty batch"));
        return;
    }
    in_batch = 1;
    batch_replies = 0;
    for (;;) {
        handle_message(p);
        p = skip_ws(skip_value(p, 0));
        if (*p == ']')
            break;
        p = skip_ws(p + 1);
    }
    in_batch = 0;
    if (batch_replies) {
        fputs("]\n", stdout);
        fflush(stdout);
    }
}

int main(void)
{
    char *line = NULL;
    size_t capacity = 0;
    long n;
    while ((n = (long)getline(&line, &capacity, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if ((long)strlen(line) != n) {
            /* A raw NUL byte is never valid JSON text. */
            reply(NULL, 0, "\"error\":{\"code\":-32700,\"message\":\"Parse error\"}");
            continue;
        }
        if (*skip_ws(line) == '\0')
            continue;
        handle(line);
    }
    free(line);
    return 0;
}
