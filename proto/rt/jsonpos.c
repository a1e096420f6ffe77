/*
 * JSON position index: an iterative scanner that builds a flat tree of
 * nodes in document order, with each node's position, key and children.
 */
#include "rt/jsonpos.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSONPOS_PATH_SIZE 256
#define NO_INDEX UINT32_MAX

struct jsonpos_node {
    struct jsonpos pos;         /* first byte of the value */
    struct jsonpos key_pos;     /* opening quote of the key, if any */
    uint32_t parent;            /* NO_INDEX for the top-level value */
    uint32_t index;             /* position among the parent's children */
    uint32_t key_off;           /* offset in doc->keys, or NO_INDEX */
    uint32_t key_len;
    uint32_t n_kids;
    uint32_t kids_off;          /* offset of the first child in doc->kids */
    uint8_t kind;               /* enum jsonpos_kind */
};

struct jsonpos_doc {
    struct jsonpos_node *nodes;
    size_t n_nodes;
    size_t cap_nodes;
    uint32_t *kids;             /* child node indices, grouped by parent */
    char *keys;                 /* decoded keys, each NUL-terminated */
    size_t keys_len;
    size_t keys_cap;
    enum jsonpos_status status;
    struct jsonpos stop_pos;
    char stop_path[JSONPOS_PATH_SIZE];
};

/* State of an open container: the token that it expects next. */
enum jsonpos_state {
    OBJ_FIRST_KEY,              /* after '{': a key or '}' */
    OBJ_KEY,                    /* after ',': a key */
    OBJ_COLON,                  /* after a key */
    OBJ_VALUE,                  /* after ':' */
    OBJ_NEXT,                   /* after a member: ',' or '}' */
    ARR_FIRST,                  /* after '[': a value or ']' */
    ARR_VALUE,                  /* after ',': a value */
    ARR_NEXT,                   /* after an element: ',' or ']' */
};

struct jsonpos_frame {
    uint32_t node;
    enum jsonpos_state state;
    bool has_key;               /* a key was read for the current member */
    uint32_t key_off;
    uint32_t key_len;
    struct jsonpos key_pos;
    uint32_t cur_index;         /* array: index of the current element */
};

struct jsonpos_scanner {
    const unsigned char *text;
    size_t len;
    size_t off;
    struct jsonpos cur;         /* position of text[off] */
    struct jsonpos last_token;  /* start of the last token begun */
    struct jsonpos_doc *doc;
    unsigned depth;
    unsigned max_depth;
    bool top_done;              /* the top-level value is complete */
    bool oom;
    struct jsonpos_frame frames[JSONPOS_DEPTH_MAX];
};

/* Moves `cur` past byte c. */
static void
pos_advance(struct jsonpos *cur, unsigned char c)
{
    if (c == '\n') {
        cur->line++;
        cur->column = 1;
    } else if ((c & 0xc0) != 0x80) {
        cur->column++;
    }
}

/* Consumes n bytes, keeping the line and column of the next one. */
static void
scan_advance(struct jsonpos_scanner *s, size_t n)
{
    for (size_t i = 0; i < n && s->off < s->len; i++)
        pos_advance(&s->cur, s->text[s->off++]);
}

static void
scan_skip_space(struct jsonpos_scanner *s)
{
    while (s->off < s->len) {
        unsigned char c = s->text[s->off];

        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        scan_advance(s, 1);
    }
}

/* Stops the scan with `status` at position `pos`. */
static int
scan_stop(struct jsonpos_scanner *s, enum jsonpos_status status,
    struct jsonpos pos)
{
    s->doc->status = status;
    s->doc->stop_pos = pos;
    return -1;
}

static bool
scan_is_scalar_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c == '-' || c == '+' || c == '.';
}

static int
scan_hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads the 4 hex digits at text[off..off+4); returns -1 if one is not. */
static long
scan_hex4(const unsigned char *p)
{
    long v = 0;

    for (int i = 0; i < 4; i++) {
        int d = scan_hex_digit(p[i]);

        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Appends one decoded key byte; the arena is sized so that it fits. */
static bool
scan_put_key_byte(struct jsonpos_scanner *s, unsigned char c)
{
    struct jsonpos_doc *doc = s->doc;

    if (doc->keys_len + 1 >= doc->keys_cap)
        return false;
    doc->keys[doc->keys_len++] = (char)c;
    return true;
}

static bool
scan_put_utf8(struct jsonpos_scanner *s, unsigned long cp)
{
    unsigned char b[4];
    size_t n;

    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xc0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xe0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xf0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    for (size_t i = 0; i < n; i++) {
        if (!scan_put_key_byte(s, b[i]))
            return false;
    }
    return true;
}

/*
 * Reads the \uXXXX escape at text[off] (and a low surrogate after a high
 * one, RFC 8259 section 7) and returns the code point and the number of
 * bytes in *used.  A lone surrogate becomes U+FFFD.  Returns -1 if the
 * text ends early, -2 on a non-hex digit.
 */
static int
scan_read_unicode(struct jsonpos_scanner *s, unsigned long *cp, size_t *used)
{
    const unsigned char *p = s->text + s->off;
    size_t left = s->len - s->off;
    long hi;

    if (left < 6)
        return -1;
    if ((hi = scan_hex4(p + 2)) < 0)
        return -2;
    *used = 6;
    *cp = (unsigned long)hi;
    if (hi >= 0xdc00 && hi <= 0xdfff) {
        *cp = 0xfffd;
    } else if (hi >= 0xd800 && hi <= 0xdbff) {
        long lo = -1;

        if (left >= 12 && p[6] == '\\' && p[7] == 'u')
            lo = scan_hex4(p + 8);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
            *cp = 0x10000 + (((unsigned long)hi - 0xd800) << 10) +
                  ((unsigned long)lo - 0xdc00);
            *used = 12;
        } else {
            *cp = 0xfffd;
        }
    }
    return 0;
}

/* Decodes a one-character escape such as \n; returns -1 if invalid. */
static int
scan_simple_escape(unsigned char e)
{
    switch (e) {
    case '"':
    case '\\':
    case '/':
        return e;
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return -1;
    }
}

/*
 * Reads the string at text[off] (which is '"').  With `decode`, appends
 * its decoded bytes and a NUL to the key arena.  Returns 0, or -1 after
 * stopping the scan.
 */
static int
scan_string(struct jsonpos_scanner *s, bool decode)
{
    scan_advance(s, 1);
    while (s->off < s->len) {
        unsigned char c = s->text[s->off];
        unsigned long cp;
        size_t used = 2;

        if (c == '"') {
            scan_advance(s, 1);
            if (decode && !scan_put_key_byte(s, '\0'))
                return scan_stop(s, JSONPOS_UNEXPECTED, s->cur);
            return 0;
        }
        if (c < 0x20)
            return scan_stop(s, JSONPOS_UNEXPECTED, s->cur);
        if (c != '\\') {
            if (decode && !scan_put_key_byte(s, c))
                return scan_stop(s, JSONPOS_UNEXPECTED, s->cur);
            scan_advance(s, 1);
            continue;
        }
        if (s->len - s->off < 2)
            break;
        if (s->text[s->off + 1] == 'u') {
            int rc = scan_read_unicode(s, &cp, &used);

            if (rc == -1)
                break;
            if (rc < 0)
                return scan_stop(s, JSONPOS_UNEXPECTED, s->cur);
        } else {
            int e = scan_simple_escape(s->text[s->off + 1]);

            if (e < 0)
                return scan_stop(s, JSONPOS_UNEXPECTED, s->cur);
            cp = (unsigned long)e;
        }
        if (decode && !scan_put_utf8(s, cp))
            return scan_stop(s, JSONPOS_UNEXPECTED, s->cur);
        scan_advance(s, used);
    }
    return scan_stop(s, JSONPOS_TRUNCATED, s->last_token);
}

/* Appends a node for a value starting at the current byte. */
static int
scan_add_node(struct jsonpos_scanner *s, enum jsonpos_kind kind)
{
    struct jsonpos_doc *doc = s->doc;
    struct jsonpos_node *n;

    if (doc->n_nodes == doc->cap_nodes) {
        size_t cap = doc->cap_nodes != 0 ? doc->cap_nodes * 2 : 16;
        struct jsonpos_node *p = realloc(doc->nodes, cap * sizeof(*p));

        if (p == NULL) {
            s->oom = true;
            return -1;
        }
        doc->nodes = p;
        doc->cap_nodes = cap;
    }
    n = &doc->nodes[doc->n_nodes];
    memset(n, 0, sizeof(*n));
    n->pos = s->cur;
    n->parent = NO_INDEX;
    n->key_off = NO_INDEX;
    n->kind = (uint8_t)kind;
    if (s->depth > 0) {
        struct jsonpos_frame *f = &s->frames[s->depth - 1];
        struct jsonpos_node *parent = &doc->nodes[f->node];

        n->parent = f->node;
        n->index = parent->n_kids++;
        if (parent->kind == JSONPOS_OBJECT && f->has_key) {
            n->key_off = f->key_off;
            n->key_len = f->key_len;
            n->key_pos = f->key_pos;
        }
    }
    doc->n_nodes++;
    return 0;
}

/* Reads one value at the current byte; a container is left open. */
static int
scan_value(struct jsonpos_scanner *s)
{
    unsigned char c = s->text[s->off];
    enum jsonpos_kind kind;

    if (c == '{')
        kind = JSONPOS_OBJECT;
    else if (c == '[')
        kind = JSONPOS_ARRAY;
    else if (c == '"')
        kind = JSONPOS_STRING;
    else if (scan_is_scalar_byte(c))
        kind = JSONPOS_SCALAR;
    else
        return scan_stop(s, JSONPOS_UNEXPECTED, s->cur);

    bool container = kind == JSONPOS_OBJECT || kind == JSONPOS_ARRAY;
    if (container && s->depth >= s->max_depth)
        return scan_stop(s, JSONPOS_TOO_DEEP, s->cur);

    s->last_token = s->cur;
    if (scan_add_node(s, kind) < 0)
        return -1;
    if (container) {
        struct jsonpos_frame *f = &s->frames[s->depth++];

        memset(f, 0, sizeof(*f));
        f->node = (uint32_t)(s->doc->n_nodes - 1);
        f->state = kind == JSONPOS_OBJECT ? OBJ_FIRST_KEY : ARR_FIRST;
        scan_advance(s, 1);
        return 0;
    }
    if (kind == JSONPOS_STRING) {
        if (scan_string(s, false) < 0)
            return -1;
    } else {
        while (s->off < s->len && scan_is_scalar_byte(s->text[s->off]))
            scan_advance(s, 1);
    }
    if (s->depth == 0)
        s->top_done = true;
    return 0;
}

/* Reads a member key at the current byte into the top frame. */
static int
scan_key(struct jsonpos_scanner *s, struct jsonpos_frame *f)
{
    size_t start = s->doc->keys_len;

    if (s->text[s->off] != '"')
        return scan_stop(s, JSONPOS_UNEXPECTED, s->cur);
    s->last_token = s->cur;
    f->key_pos = s->cur;
    f->key_off = (uint32_t)start;
    f->has_key = true;
    if (scan_string(s, true) < 0) {
        /* Terminate a cut key so that the stop path can show it. */
        s->doc->keys[s->doc->keys_len] = '\0';
        f->key_len = (uint32_t)(s->doc->keys_len - start);
        return -1;
    }
    f->key_len = (uint32_t)(s->doc->keys_len - start - 1);
    f->state = OBJ_COLON;
    return 0;
}

/* Consumes the closing bracket of the top frame. */
static void
scan_close(struct jsonpos_scanner *s)
{
    s->last_token = s->cur;
    scan_advance(s, 1);
    s->depth--;
    if (s->depth == 0)
        s->top_done = true;
}

/* Reads the next token of the open container in the top frame. */
static int
scan_in_container(struct jsonpos_scanner *s)
{
    struct jsonpos_frame *f = &s->frames[s->depth - 1];
    unsigned char c = s->text[s->off];

    switch (f->state) {
    case OBJ_FIRST_KEY:
        if (c == '}') {
            scan_close(s);
            return 0;
        }
        return scan_key(s, f);
    case OBJ_KEY:
        return scan_key(s, f);
    case OBJ_COLON:
        if (c != ':')
            return scan_stop(s, JSONPOS_UNEXPECTED, s->cur);
        s->last_token = s->cur;
        scan_advance(s, 1);
        f->state = OBJ_VALUE;
        return 0;
    case OBJ_VALUE:
        f->state = OBJ_NEXT;
        return scan_value(s);
    case ARR_FIRST:
        if (c == ']') {
            scan_close(s);
            return 0;
        }
        /* fall through */
    case ARR_VALUE:
        f->state = ARR_NEXT;
        f->cur_index = s->doc->nodes[f->node].n_kids;
        return scan_value(s);
    case OBJ_NEXT:
    case ARR_NEXT:
        if (c == ',') {
            s->last_token = s->cur;
            scan_advance(s, 1);
            if (f->state == OBJ_NEXT) {
                f->state = OBJ_KEY;
                f->has_key = false;
            } else {
                f->state = ARR_VALUE;
                f->cur_index = s->doc->nodes[f->node].n_kids;
            }
            return 0;
        }
        if (c == (f->state == OBJ_NEXT ? '}' : ']')) {
            scan_close(s);
            return 0;
        }
        return scan_stop(s, JSONPOS_UNEXPECTED, s->cur);
    }
    return scan_stop(s, JSONPOS_UNEXPECTED, s->cur);
}

/* Writes the path of the value the scanner is in into doc->stop_path. */
static void
scan_format_stop_path(struct jsonpos_scanner *s)
{
    struct jsonpos_doc *doc = s->doc;
    char *buf = doc->stop_path;

    buf[0] = '\0';
    if (s->depth == 0)
        return;

    struct jsonpos_frame *f = &s->frames[s->depth - 1];
    jsonpos_format_path(doc, f->node, buf, sizeof(doc->stop_path));
    if (doc->nodes[f->node].kind == JSONPOS_OBJECT) {
        if (f->has_key)
            jsonpos_append_key(buf, sizeof(doc->stop_path),
                doc->keys + f->key_off, f->key_len);
    } else {
        jsonpos_append_index(buf, sizeof(doc->stop_path), f->cur_index);
    }
}

/* Groups each node's children in doc->kids, in document order. */
static int
scan_link_children(struct jsonpos_doc *doc)
{
    size_t off = 0;

    if (doc->n_nodes == 0)
        return 0;
    if ((doc->kids = calloc(doc->n_nodes, sizeof(*doc->kids))) == NULL)
        return -1;
    for (size_t i = 0; i < doc->n_nodes; i++) {
        doc->nodes[i].kids_off = (uint32_t)off;
        off += doc->nodes[i].n_kids;
    }
    for (size_t i = 1; i < doc->n_nodes; i++) {
        const struct jsonpos_node *n = &doc->nodes[i];
        const struct jsonpos_node *p = &doc->nodes[n->parent];

        doc->kids[p->kids_off + n->index] = (uint32_t)i;
    }
    return 0;
}

/* Runs the scanner loop until the text ends or a byte does not fit. */
static void
scan_run(struct jsonpos_scanner *s)
{
    for (;;) {
        scan_skip_space(s);
        if (s->off == s->len) {
            if (s->depth == 0 && s->top_done)
                scan_stop(s, JSONPOS_OK, s->cur);
            else if (s->last_token.line != 0)
                scan_stop(s, JSONPOS_TRUNCATED, s->last_token);
            else
                scan_stop(s, JSONPOS_TRUNCATED, s->cur);
            return;
        }

        int rc;
        if (s->depth > 0)
            rc = scan_in_container(s);
        else if (!s->top_done)
            rc = scan_value(s);
        else
            rc = scan_stop(s, JSONPOS_UNEXPECTED, s->cur);
        if (rc < 0)
            return;
    }
}

struct jsonpos_doc *
jsonpos_scan(const char *text, size_t len, unsigned max_depth)
{
    struct jsonpos_scanner *s = NULL;
    struct jsonpos_doc *doc;

    if ((doc = calloc(1, sizeof(*doc))) == NULL)
        return NULL;
    doc->stop_pos = (struct jsonpos){ 1, 1 };
    if (text == NULL)
        len = 0;
    if (len > JSONPOS_TEXT_MAX) {
        doc->status = JSONPOS_TOO_LARGE;
        return doc;
    }
    /* Decoded keys never take more bytes than their quoted text. */
    doc->keys_cap = len + 1;
    if ((doc->keys = malloc(doc->keys_cap)) == NULL)
        goto fail;
    doc->keys[0] = '\0';
    if ((s = calloc(1, sizeof(*s))) == NULL)
        goto fail;
    s->text = (const unsigned char *)text;
    s->len = len;
    s->cur = (struct jsonpos){ 1, 1 };
    s->doc = doc;
    s->max_depth = max_depth < JSONPOS_DEPTH_MAX ? max_depth
                                                 : JSONPOS_DEPTH_MAX;

    scan_run(s);
    if (s->oom || scan_link_children(doc) < 0)
        goto fail;
    scan_format_stop_path(s);
    free(s);
    return doc;

fail:
    free(s);
    jsonpos_free(doc);
    return NULL;
}

struct jsonpos
jsonpos_offset_to_pos(const char *text, size_t len, size_t offset)
{
    struct jsonpos cur = { 1, 1 };

    if (text == NULL)
        return cur;
    if (offset > len)
        offset = len;
    for (size_t i = 0; i < offset; i++)
        pos_advance(&cur, (unsigned char)text[i]);
    return cur;
}

void
jsonpos_free(struct jsonpos_doc *doc)
{
    if (doc == NULL)
        return;
    free(doc->nodes);
    free(doc->kids);
    free(doc->keys);
    free(doc);
}

enum jsonpos_status
jsonpos_get_status(const struct jsonpos_doc *doc)
{
    return doc->status;
}

struct jsonpos
jsonpos_get_stop_pos(const struct jsonpos_doc *doc)
{
    return doc->stop_pos;
}

const char *
jsonpos_get_stop_path(const struct jsonpos_doc *doc)
{
    return doc->stop_path;
}

size_t
jsonpos_count(const struct jsonpos_doc *doc)
{
    return doc != NULL ? doc->n_nodes : 0;
}

static const struct jsonpos_node *
jsonpos_node_at(const struct jsonpos_doc *doc, size_t idx)
{
    if (doc == NULL || idx >= doc->n_nodes)
        return NULL;
    return &doc->nodes[idx];
}

enum jsonpos_kind
jsonpos_get_kind(const struct jsonpos_doc *doc, size_t idx)
{
    const struct jsonpos_node *n = jsonpos_node_at(doc, idx);

    return n != NULL ? (enum jsonpos_kind)n->kind : JSONPOS_SCALAR;
}

struct jsonpos
jsonpos_get_pos(const struct jsonpos_doc *doc, size_t idx)
{
    const struct jsonpos_node *n = jsonpos_node_at(doc, idx);

    return n != NULL ? n->pos : (struct jsonpos){ 0, 0 };
}

struct jsonpos
jsonpos_get_key_pos(const struct jsonpos_doc *doc, size_t idx)
{
    const struct jsonpos_node *n = jsonpos_node_at(doc, idx);

    return n != NULL ? n->key_pos : (struct jsonpos){ 0, 0 };
}

const char *
jsonpos_get_key(const struct jsonpos_doc *doc, size_t idx, size_t *len)
{
    const struct jsonpos_node *n = jsonpos_node_at(doc, idx);

    if (n == NULL || n->key_off == NO_INDEX)
        return NULL;
    if (len != NULL)
        *len = n->key_len;
    return doc->keys + n->key_off;
}

size_t
jsonpos_child_count(const struct jsonpos_doc *doc, size_t idx)
{
    const struct jsonpos_node *n = jsonpos_node_at(doc, idx);

    return n != NULL ? n->n_kids : 0;
}

size_t
jsonpos_child(const struct jsonpos_doc *doc, size_t idx, size_t i)
{
    const struct jsonpos_node *n = jsonpos_node_at(doc, idx);

    if (n == NULL || i >= n->n_kids || doc->kids == NULL)
        return JSONPOS_NONE;
    return doc->kids[n->kids_off + i];
}

size_t
jsonpos_find_key(const struct jsonpos_doc *doc, size_t idx, const char *key,
    size_t key_len)
{
    size_t hint = 0;

    return jsonpos_find_key_from(doc, idx, key, key_len, &hint);
}

size_t
jsonpos_find_key_from(const struct jsonpos_doc *doc, size_t idx,
    const char *key, size_t key_len, size_t *hint)
{
    const struct jsonpos_node *n = jsonpos_node_at(doc, idx);

    if (n == NULL || n->kind != JSONPOS_OBJECT || key == NULL)
        return JSONPOS_NONE;
    for (size_t k = 0; k < n->n_kids; k++) {
        size_t i = (*hint + k) % n->n_kids;
        size_t c = jsonpos_child(doc, idx, i);
        const struct jsonpos_node *m = jsonpos_node_at(doc, c);

        if (m != NULL && m->key_off != NO_INDEX && m->key_len == key_len &&
            memcmp(doc->keys + m->key_off, key, key_len) == 0) {
            *hint = i + 1;
            return c;
        }
    }
    return JSONPOS_NONE;
}

/*
 * Appends s[0..n) to the NUL-terminated string in buf; what does not fit
 * is replaced by "..." at the end of the buffer.
 */
static void
path_add(char *buf, size_t size, const char *s, size_t n)
{
    size_t len;

    if (buf == NULL || size == 0)
        return;
    len = strnlen(buf, size - 1);
    if (len + n < size) {
        memcpy(buf + len, s, n);
        buf[len + n] = '\0';
        return;
    }
    if (size < 4) {
        buf[0] = '\0';
        return;
    }
    size_t keep = size - 4;
    if (keep > len)
        memcpy(buf + len, s, keep - len);
    memcpy(buf + keep, "...", 4);
}

static bool
path_key_is_bare(const char *key, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

char *
jsonpos_append_key(char *buf, size_t size, const char *key, size_t key_len)
{
    if (buf == NULL || size == 0)
        return buf;
    if (key == NULL)
        key_len = 0;
    if (path_key_is_bare(key, key_len)) {
        if (strnlen(buf, size) > 0)
            path_add(buf, size, ".", 1);
        path_add(buf, size, key, key_len);
        return buf;
    }
    path_add(buf, size, "[\"", 2);
    for (size_t i = 0; i < key_len; i++) {
        unsigned char c = (unsigned char)key[i];
        char esc[8];

        if (c == '"' || c == '\\')
            snprintf(esc, sizeof(esc), "\\%c", c);
        else if (c < 0x20 || c > 0x7e)
            snprintf(esc, sizeof(esc), "\\x%02x", c);
        else
            snprintf(esc, sizeof(esc), "%c", c);
        path_add(buf, size, esc, strlen(esc));
    }
    path_add(buf, size, "\"]", 2);
    return buf;
}

char *
jsonpos_append_index(char *buf, size_t size, size_t index)
{
    char tmp[32];

    snprintf(tmp, sizeof(tmp), "[%zu]", index);
    path_add(buf, size, tmp, strlen(tmp));
    return buf;
}

char *
jsonpos_format_path(const struct jsonpos_doc *doc, size_t idx, char *buf,
    size_t size)
{
    uint32_t chain[JSONPOS_DEPTH_MAX + 2];
    size_t depth = 0;

    if (buf == NULL || size == 0)
        return buf;
    buf[0] = '\0';
    if (jsonpos_node_at(doc, idx) == NULL)
        return buf;
    /* Collect the ancestors below the top level, innermost first. */
    for (size_t i = idx; doc->nodes[i].parent != NO_INDEX;
         i = doc->nodes[i].parent) {
        if (depth == sizeof(chain) / sizeof(chain[0]))
            break;
        chain[depth++] = (uint32_t)i;
    }
    while (depth > 0) {
        const struct jsonpos_node *n = &doc->nodes[chain[--depth]];

        if (n->key_off != NO_INDEX)
            jsonpos_append_key(buf, size, doc->keys + n->key_off, n->key_len);
        else
            jsonpos_append_index(buf, size, n->index);
    }
    return buf;
}
