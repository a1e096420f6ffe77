/*
 * Configuration loading: reading the file, parsing it with jansson,
 * indexing positions, handles, and the error list.  The typed getters are
 * in config_get.c.
 */
#include "rt/config_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Path of the top level and of the failed handles; never written. */
static char config_empty_path[1];

static const struct jsonpos config_no_pos = { 0, 0 };

/* Keys of an object kept for the "expected one of" list. */
#define CONFIG_REQUESTED_MAX 64

static struct config *
config_new(const char *name, const struct config_limits *limits)
{
    struct config *cfg;

    if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
        return NULL;
    if (limits != NULL)
        cfg->limits = *limits;
    if (cfg->limits.max_size == 0)
        cfg->limits.max_size = CONFIG_DEFAULT_MAX_SIZE;
    if (cfg->limits.max_size > JSONPOS_TEXT_MAX)
        cfg->limits.max_size = JSONPOS_TEXT_MAX;
    if (cfg->limits.max_depth == 0)
        cfg->limits.max_depth = CONFIG_DEFAULT_MAX_DEPTH;
    if (cfg->limits.max_depth > JSONPOS_DEPTH_MAX)
        cfg->limits.max_depth = JSONPOS_DEPTH_MAX;
    if (cfg->limits.max_errors == 0)
        cfg->limits.max_errors = CONFIG_DEFAULT_MAX_ERRORS;

    cfg->name = strdup(name != NULL ? name : "(unnamed)");
    cfg->errors = calloc(cfg->limits.max_errors, sizeof(*cfg->errors));
    if (cfg->name == NULL || cfg->errors == NULL) {
        config_free(cfg);
        return NULL;
    }
    cfg->failed_obj = (struct config_obj){
        .cfg = cfg,
        .state = CONFIG_STATE_FAILED,
        .node = JSONPOS_NONE,
        .path = config_empty_path,
    };
    cfg->failed_arr.h = cfg->failed_obj;
    cfg->failed_arr.h.is_array = true;
    return cfg;
}

void
config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    for (struct config_obj *h = cfg->handles, *next; h != NULL; h = next) {
        next = h->next;
        free(h->path);
        free(h->requested);
        free(h);
    }
    json_decref(cfg->root);
    jsonpos_free(cfg->doc);
    free(cfg->marks);
    free(cfg->errors);
    free(cfg->text);
    free(cfg->name);
    free(cfg);
}

void
config_add_verror(struct config *cfg, struct jsonpos pos, const char *path,
    const char *fmt, va_list ap)
{
    struct config_error *e;

    if (cfg->n_errors == cfg->limits.max_errors) {
        cfg->n_dropped++;
        return;
    }
    e = &cfg->errors[cfg->n_errors++];
    e->line = pos.line;
    e->column = pos.column;
    snprintf(e->path, sizeof(e->path), "%s", path != NULL ? path : "");
    vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
}

void
config_add_error(struct config *cfg, struct jsonpos pos, const char *path,
    const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    config_add_verror(cfg, pos, path, fmt, ap);
    va_end(ap);
}

/* Records the first allocation failure after loading. */
static void
config_note_oom(struct config *cfg)
{
    if (cfg->oom)
        return;
    cfg->oom = true;
    config_add_error(cfg, config_no_pos, "", "out of memory");
}

/* Copies jansson's error text, writing bytes outside 0x20-0x7e as \xNN. */
static void
config_sanitize(char *out, size_t size, const char *in)
{
    size_t n = 0;

    for (; *in != '\0' && n + 5 < size; in++) {
        unsigned char c = (unsigned char)*in;

        if (c >= 0x20 && c <= 0x7e)
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, size - n, "\\x%02x", c);
    }
    out[n] = '\0';
}

static void
config_report_too_deep(struct config *cfg, const struct jsonpos_doc *doc)
{
    config_add_error(cfg, jsonpos_get_stop_pos(doc),
        jsonpos_get_stop_path(doc),
        "nesting too deep, expected at most %u levels of objects and arrays",
        cfg->limits.max_depth);
}

/*
 * Reports a jansson parse error.  The text before the error is a valid
 * start of a JSON document, so a scan of it finds the path of the error
 * and whether the nesting limit was passed before it.
 */
static void
config_report_syntax(struct config *cfg, const json_error_t *jerr)
{
    enum json_error_code code = json_error_code(jerr);
    size_t off = jerr->position > 0 ? (size_t)jerr->position : 0;
    struct jsonpos pos = { 0, 0 };
    struct jsonpos_doc *prefix;
    char text[JSON_ERROR_TEXT_LENGTH * 4];
    const char *path = "";

    if (code == json_error_out_of_memory) {
        config_add_error(cfg, config_no_pos, "", "out of memory");
        return;
    }
    if (off > cfg->len)
        off = cfg->len;
    prefix = jsonpos_scan(cfg->text, off, cfg->limits.max_depth);
    if (prefix != NULL && jsonpos_get_status(prefix) == JSONPOS_TOO_DEEP) {
        config_report_too_deep(cfg, prefix);
        goto out;
    }
    if (prefix != NULL)
        path = jsonpos_get_stop_path(prefix);
    if (jerr->line > 0)
        pos = (struct jsonpos){ (uint32_t)jerr->line,
            jerr->column > 0 ? (uint32_t)jerr->column : 1 };
    else
        pos = jsonpos_offset_to_pos(cfg->text, cfg->len, off);

    switch (code) {
    case json_error_duplicate_key:
        /* jansson stops after the key, but the scan records its start. */
        if (prefix != NULL)
            pos = jsonpos_get_stop_pos(prefix);
        config_add_error(cfg, pos, path,
            "duplicate key, expected each key once per object");
        break;
    case json_error_invalid_utf8:
        /* jansson's position is the offset of the first bad byte. */
        if (off < cfg->len) {
            pos = jsonpos_offset_to_pos(cfg->text, cfg->len, off);
            config_add_error(cfg, pos, path,
                "invalid UTF-8 byte 0x%02x, expected UTF-8 text",
                (unsigned char)cfg->text[off]);
        } else {
            config_add_error(cfg, pos, path,
                "invalid UTF-8, expected UTF-8 text");
        }
        break;
    default:
        config_sanitize(text, sizeof(text), jerr->text);
        config_add_error(cfg, pos, path, "invalid JSON: %s", text);
        break;
    }
out:
    jsonpos_free(prefix);
}

static void
config_report_nul(struct config *cfg, size_t off)
{
    struct jsonpos_doc *prefix = jsonpos_scan(cfg->text, off,
        cfg->limits.max_depth);

    config_add_error(cfg, jsonpos_offset_to_pos(cfg->text, cfg->len, off),
        prefix != NULL ? jsonpos_get_stop_path(prefix) : "",
        "invalid byte 0x00, expected UTF-8 text without NUL bytes");
    jsonpos_free(prefix);
}

static bool
config_is_blank(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' &&
            text[i] != '\r')
            return false;
    }
    return true;
}

/* Parses cfg->text; on any error cfg->root stays NULL. */
static void
config_parse(struct config *cfg)
{
    json_error_t jerr;
    json_t *root;

    if (config_is_blank(cfg->text, cfg->len)) {
        config_add_error(cfg, (struct jsonpos){ 1, 1 }, "",
            "empty file, expected a JSON object");
        return;
    }
    /*
     * JSON text never contains a NUL byte, but jansson 2.14 accepts some
     * documents with one, such as {"a":1<NUL>}, so reject them first.
     */
    const char *nul = memchr(cfg->text, '\0', cfg->len);
    if (nul != NULL) {
        config_report_nul(cfg, (size_t)(nul - cfg->text));
        return;
    }
    root = json_loadb(cfg->text, cfg->len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        config_report_syntax(cfg, &jerr);
        return;
    }
    cfg->doc = jsonpos_scan(cfg->text, cfg->len, cfg->limits.max_depth);
    if (cfg->doc == NULL) {
        config_add_error(cfg, config_no_pos, "", "out of memory");
        goto out;
    }
    switch (jsonpos_get_status(cfg->doc)) {
    case JSONPOS_OK:
        break;
    case JSONPOS_TOO_DEEP:
        config_report_too_deep(cfg, cfg->doc);
        goto out;
    default:
        /* The fuzz target checks that this does not happen. */
        config_add_error(cfg, jsonpos_get_stop_pos(cfg->doc), "",
            "internal error: position index disagrees with the JSON parser");
        goto out;
    }
    if ((cfg->marks = calloc(jsonpos_count(cfg->doc), 1)) == NULL) {
        config_add_error(cfg, config_no_pos, "", "out of memory");
        goto out;
    }
    cfg->root = root;
    root = NULL;
out:
    json_decref(root);
}

struct config *
config_load_buffer(const char *name, const void *buf, size_t len,
    const struct config_limits *limits)
{
    struct config *cfg = config_new(name, limits);

    if (cfg == NULL)
        return NULL;
    if (buf == NULL)
        len = 0;
    if (len > cfg->limits.max_size) {
        config_add_error(cfg, config_no_pos, "",
            "file too large: %zu bytes, expected at most %zu bytes", len,
            cfg->limits.max_size);
        return cfg;
    }
    if ((cfg->text = malloc(len + 1)) == NULL) {
        config_free(cfg);
        return NULL;
    }
    if (len > 0)
        memcpy(cfg->text, buf, len);
    cfg->text[len] = '\0';
    cfg->len = len;
    config_parse(cfg);
    return cfg;
}

/* Reads at most max_size bytes of fd into cfg->text; 0 or -1 (reported). */
static int
config_read_fd(struct config *cfg, int fd)
{
    size_t max = cfg->limits.max_size;
    size_t cap = 4096, len = 0;
    struct stat st;
    char *buf = NULL;

    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        (uintmax_t)st.st_size > max) {
        config_add_error(cfg, config_no_pos, "",
            "file too large: %jd bytes, expected at most %zu bytes",
            (intmax_t)st.st_size, max);
        return -1;
    }
    for (;;) {
        if (len == cap || buf == NULL) {
            char *p;

            if (buf != NULL)
                cap = cap <= (max + 1) / 2 ? cap * 2 : max + 1;
            if ((p = realloc(buf, cap + 1)) == NULL) {
                config_add_error(cfg, config_no_pos, "", "out of memory");
                goto fail;
            }
            buf = p;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            config_add_error(cfg, config_no_pos, "", "read failed: %s",
                strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max) {
            config_add_error(cfg, config_no_pos, "",
                "file too large: more than %zu bytes, expected at most %zu "
                "bytes", max, max);
            goto fail;
        }
    }
    buf[len] = '\0';
    cfg->text = buf;
    cfg->len = len;
    return 0;

fail:
    free(buf);
    return -1;
}

struct config *
config_load_file(const char *path, const struct config_limits *limits)
{
    struct config *cfg = config_new(path, limits);
    int fd;

    if (cfg == NULL)
        return NULL;
    if (path == NULL) {
        config_add_error(cfg, config_no_pos, "", "no file name given");
        return cfg;
    }
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        config_add_error(cfg, config_no_pos, "", "open failed: %s",
            strerror(errno));
        return cfg;
    }
    int rc = config_read_fd(cfg, fd);
    close(fd);
    if (rc == 0)
        config_parse(cfg);
    return cfg;
}

/* Allocates a handle and links it into cfg; a failed handle on ENOMEM. */
static struct config_obj *
config_handle_new(struct config *cfg, enum config_state state, bool is_array,
    const char *path)
{
    struct config_obj *h;
    size_t size = is_array ? sizeof(struct config_arr) : sizeof(*h);

    if ((h = calloc(1, size)) == NULL || (h->path = strdup(path)) == NULL) {
        free(h);
        config_note_oom(cfg);
        return is_array ? &cfg->failed_arr.h : &cfg->failed_obj;
    }
    h->cfg = cfg;
    h->state = state;
    h->is_array = is_array;
    h->node = JSONPOS_NONE;
    if (cfg->handles_tail != NULL)
        cfg->handles_tail->next = h;
    else
        cfg->handles = h;
    cfg->handles_tail = h;
    return h;
}

struct config_obj *
config_root(struct config *cfg, int flags)
{
    struct config_obj *h;

    if (cfg == NULL)
        return NULL;
    if (cfg->root_obj != NULL)
        return cfg->root_obj;
    if (cfg->root == NULL) {
        h = &cfg->failed_obj;
    } else if (!json_is_object(cfg->root)) {
        char desc[64];

        config_add_error(cfg, jsonpos_get_pos(cfg->doc, 0), "",
            "invalid value %s, expected a JSON object",
            config_describe_value(cfg->root, desc, sizeof(desc)));
        h = &cfg->failed_obj;
    } else {
        h = config_handle_new(cfg, CONFIG_STATE_PRESENT, false, "");
        if (h->state == CONFIG_STATE_PRESENT) {
            h->json = cfg->root;
            h->node = 0;
            h->pos = jsonpos_get_pos(cfg->doc, 0);
            h->open = (flags & CONFIG_OPEN) != 0;
        }
    }
    cfg->root_obj = h;
    return h;
}

/*
 * Adds `key` to the keys requested from `obj`, once.  Only the first
 * CONFIG_REQUESTED_MAX are kept, which is more than an error text shows,
 * so that reading a large map stays linear.
 */
static void
config_note_requested(struct config_obj *obj, const char *key)
{
    size_t n = strlen(key) + 1;

    if (obj->open || obj->n_requested == CONFIG_REQUESTED_MAX)
        return;
    for (size_t off = 0; off < obj->requested_len;
         off += strlen(obj->requested + off) + 1) {
        if (strcmp(obj->requested + off, key) == 0)
            return;
    }
    if (obj->requested_len + n > obj->requested_cap) {
        size_t cap = obj->requested_cap * 2 + n + 64;
        char *p = realloc(obj->requested, cap);

        if (p == NULL) {
            config_note_oom(obj->cfg);
            return;
        }
        obj->requested = p;
        obj->requested_cap = cap;
    }
    memcpy(obj->requested + obj->requested_len, key, n);
    obj->requested_len += n;
    obj->n_requested++;
}

enum config_slot_result
config_slot_by_key(struct config_obj *obj, const char *key, int flags,
    struct config_slot *slot)
{
    memset(slot, 0, sizeof(*slot));
    slot->parent = obj;
    slot->key = key;
    slot->node = JSONPOS_NONE;
    if (obj == NULL || key == NULL || obj->is_array ||
        obj->state == CONFIG_STATE_FAILED)
        return CONFIG_SLOT_FAILED;
    if (obj->state == CONFIG_STATE_ABSENT)
        return CONFIG_SLOT_ABSENT;

    config_note_requested(obj, key);
    slot->json = json_object_get(obj->json, key);
    if (slot->json == NULL)
        return (flags & CONFIG_REQUIRED) ? CONFIG_SLOT_MISSING
                                         : CONFIG_SLOT_ABSENT;
    struct config *cfg = obj->cfg;
    slot->node = jsonpos_find_key_from(cfg->doc, obj->node, key, strlen(key),
        &obj->lookup_hint);
    if (slot->node != JSONPOS_NONE)
        cfg->marks[slot->node] |= CONFIG_MARK_USED;
    return CONFIG_SLOT_PRESENT;
}

enum config_slot_result
config_slot_by_index(struct config_arr *arr, size_t i,
    struct config_slot *slot)
{
    memset(slot, 0, sizeof(*slot));
    slot->parent = arr != NULL ? &arr->h : NULL;
    slot->index = i;
    slot->node = JSONPOS_NONE;
    if (arr == NULL || arr->h.state == CONFIG_STATE_FAILED)
        return CONFIG_SLOT_FAILED;
    if (arr->h.state == CONFIG_STATE_ABSENT)
        return CONFIG_SLOT_ABSENT;
    if ((slot->json = json_array_get(arr->h.json, i)) == NULL)
        return CONFIG_SLOT_FAILED;
    slot->node = jsonpos_child(arr->h.cfg->doc, arr->h.node, i);
    return CONFIG_SLOT_PRESENT;
}

char *
config_slot_path(const struct config_slot *slot, char *buf, size_t size)
{
    snprintf(buf, size, "%s", slot->parent != NULL ? slot->parent->path : "");
    if (slot->key != NULL)
        return jsonpos_append_key(buf, size, slot->key, strlen(slot->key));
    return jsonpos_append_index(buf, size, slot->index);
}

/* Position of the slot's value, or of its parent when it has none. */
static struct jsonpos
config_slot_pos(const struct config_slot *slot)
{
    if (slot->node != JSONPOS_NONE)
        return jsonpos_get_pos(slot->parent->cfg->doc, slot->node);
    return slot->parent->pos;
}

void
config_slot_error(const struct config_slot *slot, const char *fmt, ...)
{
    char path[CONFIG_PATH_SIZE];
    va_list ap;

    if (slot->parent == NULL)
        return;
    config_slot_path(slot, path, sizeof(path));
    va_start(ap, fmt);
    config_add_verror(slot->parent->cfg, config_slot_pos(slot), path, fmt,
        ap);
    va_end(ap);
}

int
config_slot_absent(const struct config_slot *slot,
    enum config_slot_result result, const char *want)
{
    switch (result) {
    case CONFIG_SLOT_ABSENT:
        return CONFIG_ABSENT;
    case CONFIG_SLOT_MISSING:
        config_slot_error(slot, "missing required key, expected %s", want);
        return -EINVAL;
    default:
        return -EINVAL;
    }
}

struct config_obj *
config_handle_for_slot(const struct config_slot *slot,
    enum config_slot_result result, json_type type, const char *want)
{
    struct config_obj *parent = slot->parent;
    bool is_array = type == JSON_ARRAY;
    char path[CONFIG_PATH_SIZE];
    struct config_obj *h;

    if (parent == NULL)
        return NULL;
    struct config *cfg = parent->cfg;
    struct config_obj *failed = is_array ? &cfg->failed_arr.h
                                         : &cfg->failed_obj;

    switch (result) {
    case CONFIG_SLOT_PRESENT:
        break;
    case CONFIG_SLOT_ABSENT:
        h = config_handle_new(cfg, CONFIG_STATE_ABSENT, is_array,
            config_slot_path(slot, path, sizeof(path)));
        if (h->state == CONFIG_STATE_ABSENT)
            h->pos = parent->pos;
        return h;
    case CONFIG_SLOT_MISSING:
        config_slot_absent(slot, result, want);
        return failed;
    default:
        return failed;
    }

    if (json_typeof(slot->json) != type) {
        char desc[64];

        config_slot_error(slot, "invalid value %s, expected %s",
            config_describe_value(slot->json, desc, sizeof(desc)), want);
        return failed;
    }
    h = config_handle_new(cfg, CONFIG_STATE_PRESENT, is_array,
        config_slot_path(slot, path, sizeof(path)));
    if (h->state != CONFIG_STATE_PRESENT)
        return h;
    h->json = slot->json;
    h->node = slot->node;
    h->pos = config_slot_pos(slot);
    return h;
}

/* Writes the keys requested from obj as "a, b, c" into buf. */
static void
config_format_requested(const struct config_obj *obj, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t off = 0; off < obj->requested_len;
         off += strlen(obj->requested + off) + 1) {
        char name[CONFIG_PATH_SIZE] = "";
        int n;

        jsonpos_append_key(name, sizeof(name), obj->requested + off,
            strlen(obj->requested + off));
        n = snprintf(buf + len, size - len, "%s%s", len > 0 ? ", " : "",
            name);
        if (n < 0 || (size_t)n >= size - len) {
            /* Cut the list at a whole name. */
            if (len + 5 <= size)
                snprintf(buf + len, size - len, ", ...");
            return;
        }
        len += (size_t)n;
    }
}

void
config_obj_finish(struct config_obj *obj)
{
    if (obj == NULL || obj->state != CONFIG_STATE_PRESENT || obj->is_array ||
        obj->finished)
        return;
    obj->finished = true;

    struct config *cfg = obj->cfg;
    if (obj->open || obj->node == JSONPOS_NONE ||
        (cfg->marks[obj->node] & CONFIG_MARK_CHECKED))
        return;
    cfg->marks[obj->node] |= CONFIG_MARK_CHECKED;

    char requested[CONFIG_REASON_SIZE - 64];
    config_format_requested(obj, requested, sizeof(requested));
    for (size_t i = 0; i < jsonpos_child_count(cfg->doc, obj->node); i++) {
        size_t c = jsonpos_child(cfg->doc, obj->node, i);
        char path[CONFIG_PATH_SIZE];
        size_t key_len;
        const char *key;

        if (c == JSONPOS_NONE || (cfg->marks[c] & CONFIG_MARK_USED))
            continue;
        if ((key = jsonpos_get_key(cfg->doc, c, &key_len)) == NULL)
            continue;
        snprintf(path, sizeof(path), "%s", obj->path);
        jsonpos_append_key(path, sizeof(path), key, key_len);
        if (requested[0] != '\0')
            config_add_error(cfg, jsonpos_get_key_pos(cfg->doc, c), path,
                "unknown key, expected one of: %s", requested);
        else
            config_add_error(cfg, jsonpos_get_key_pos(cfg->doc, c), path,
                "unknown key, expected no keys in this object");
    }
}

static int
config_error_cmp(const struct config_error *a, const struct config_error *b)
{
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->column != b->column)
        return a->column < b->column ? -1 : 1;
    return 0;
}

size_t
config_finish(struct config *cfg)
{
    if (cfg == NULL)
        return 0;
    for (struct config_obj *h = cfg->handles; h != NULL; h = h->next)
        config_obj_finish(h);

    /* Insertion sort: stable, and the list is short. */
    for (size_t i = 1; i < cfg->n_errors; i++) {
        struct config_error e = cfg->errors[i];
        size_t j = i;

        while (j > 0 && config_error_cmp(&cfg->errors[j - 1], &e) > 0) {
            cfg->errors[j] = cfg->errors[j - 1];
            j--;
        }
        cfg->errors[j] = e;
    }
    return cfg->n_errors + cfg->n_dropped;
}

size_t
config_error_count(const struct config *cfg)
{
    return cfg != NULL ? cfg->n_errors + cfg->n_dropped : 0;
}

const struct config_error *
config_get_error(const struct config *cfg, size_t i)
{
    if (cfg == NULL || i >= cfg->n_errors)
        return NULL;
    return &cfg->errors[i];
}

int
config_format_error(const struct config *cfg, size_t i, char *buf,
    size_t size)
{
    const struct config_error *e = config_get_error(cfg, i);
    char where[32] = "";

    if (e == NULL)
        return -EINVAL;
    if (e->line != 0)
        snprintf(where, sizeof(where), ":%u:%u", e->line, e->column);
    return snprintf(buf, size, "%s%s: %s%s%s", cfg->name, where, e->path,
        e->path[0] != '\0' ? ": " : "", e->reason);
}

void
config_print_errors(const struct config *cfg, FILE *fp)
{
    char line[CONFIG_PATH_SIZE + CONFIG_REASON_SIZE + 512];

    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->n_errors; i++) {
        config_format_error(cfg, i, line, sizeof(line));
        fprintf(fp, "%s\n", line);
    }
    if (cfg->n_dropped > 0)
        fprintf(fp, "%s: %zu more errors not shown\n", cfg->name,
            cfg->n_dropped);
}

/* Records an error at a member of obj, or at obj itself for key NULL. */
static void
config_obj_verror(struct config_obj *obj, const char *key, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));

static void
config_obj_verror(struct config_obj *obj, const char *key, const char *fmt,
    va_list ap)
{
    char path[CONFIG_PATH_SIZE];
    struct jsonpos pos = obj->pos;

    snprintf(path, sizeof(path), "%s", obj->path);
    if (key != NULL) {
        jsonpos_append_key(path, sizeof(path), key, strlen(key));
        if (obj->state == CONFIG_STATE_PRESENT) {
            size_t c = jsonpos_find_key(obj->cfg->doc, obj->node, key,
                strlen(key));

            if (c != JSONPOS_NONE)
                pos = jsonpos_get_pos(obj->cfg->doc, c);
        }
    }
    config_add_verror(obj->cfg, pos, path, fmt, ap);
}

void
config_obj_error(struct config_obj *obj, const char *key, const char *fmt,
    ...)
{
    va_list ap;

    if (obj == NULL || obj->is_array || obj->state == CONFIG_STATE_FAILED)
        return;
    va_start(ap, fmt);
    config_obj_verror(obj, key, fmt, ap);
    va_end(ap);
}

void
config_arr_error(struct config_arr *arr, size_t i, const char *fmt, ...)
{
    struct config_slot slot;
    va_list ap;

    if (arr == NULL || arr->h.state == CONFIG_STATE_FAILED)
        return;
    config_slot_by_index(arr, i, &slot);
    char path[CONFIG_PATH_SIZE];
    config_slot_path(&slot, path, sizeof(path));
    va_start(ap, fmt);
    config_add_verror(arr->h.cfg, config_slot_pos(&slot), path, fmt, ap);
    va_end(ap);
}

bool
config_obj_is_present(const struct config_obj *obj)
{
    return obj != NULL && obj->state == CONFIG_STATE_PRESENT;
}

bool
config_obj_has_key(const struct config_obj *obj, const char *key)
{
    if (!config_obj_is_present(obj) || obj->is_array || key == NULL)
        return false;
    return json_object_get(obj->json, key) != NULL;
}

size_t
config_obj_key_count(const struct config_obj *obj)
{
    if (!config_obj_is_present(obj) || obj->is_array)
        return 0;
    return jsonpos_child_count(obj->cfg->doc, obj->node);
}

const char *
config_obj_key_at(const struct config_obj *obj, size_t i)
{
    if (!config_obj_is_present(obj) || obj->is_array)
        return NULL;
    return jsonpos_get_key(obj->cfg->doc,
        jsonpos_child(obj->cfg->doc, obj->node, i), NULL);
}

/*
 * Writes s[0..len) quoted into buf, escaped as in paths and cut with "..."
 * after 40 bytes or when buf is full.  `size` is at least 16.
 */
static void
config_describe_string(const char *s, size_t len, char *buf, size_t size)
{
    const size_t shown = 40;
    size_t n = 0;

    buf[n++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        /* Each byte takes at most 4; keep 5 for ...", NUL. */
        if (i == shown || n + 4 + 5 > size) {
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c < 0x20 || c > 0x7e) {
            n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
        } else {
            buf[n++] = (char)c;
        }
    }
    buf[n++] = '"';
    buf[n] = '\0';
}

char *
config_describe_value(const json_t *v, char *buf, size_t size)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        config_describe_string(json_string_value(v), json_string_length(v),
            buf, size);
        break;
    case JSON_INTEGER:
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        /* Keep 1.0 apart from the integer 1 in an error text. */
        snprintf(buf, size, "%.15g", json_real_value(v));
        if (strpbrk(buf, ".eEn") == NULL && strlen(buf) + 3 <= size)
            strcat(buf, ".0");
        break;
    case JSON_TRUE:
        snprintf(buf, size, "true");
        break;
    case JSON_FALSE:
        snprintf(buf, size, "false");
        break;
    case JSON_NULL:
        snprintf(buf, size, "null");
        break;
    case JSON_OBJECT:
        snprintf(buf, size, "%s", json_object_size(v) > 0 ? "{...}" : "{}");
        break;
    case JSON_ARRAY:
        snprintf(buf, size, "%s", json_array_size(v) > 0 ? "[...]" : "[]");
        break;
    }
    return buf;
}
