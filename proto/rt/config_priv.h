/*
 * Internals shared by config.c (loading, handles, errors) and
 * config_get.c (typed getters).  Not for use outside these two files.
 */
#ifndef IKESHIFT_RT_CONFIG_PRIV_H
#define IKESHIFT_RT_CONFIG_PRIV_H

#include <jansson.h>
#include <stdarg.h>

#include "rt/config.h"
#include "rt/jsonpos.h"

enum config_state {
    CONFIG_STATE_PRESENT,       /* the value exists and has the right type */
    CONFIG_STATE_ABSENT,        /* an optional value that is not there */
    CONFIG_STATE_FAILED,        /* an error was recorded; read nothing */
};

/* Per-node marks in struct config. */
#define CONFIG_MARK_USED    0x01    /* a getter requested this member */
#define CONFIG_MARK_CHECKED 0x02    /* its object got the unknown-key check */

/*
 * An object or array handle.  Absent and present handles are allocated
 * and kept in cfg->handles; the failed ones are the two embedded in
 * struct config, which are never written after config_new().
 */
struct config_obj {
    struct config *cfg;
    enum config_state state;
    bool is_array;
    bool open;                  /* CONFIG_OPEN: no unknown-key check */
    bool finished;
    json_t *json;               /* lent by cfg->root; NULL unless present */
    size_t node;                /* jsonpos node, or JSONPOS_NONE */
    struct jsonpos pos;         /* the value, or its parent when absent */
    char *path;
    size_t lookup_hint;         /* for jsonpos_find_key_from() */
    char *requested;            /* keys requested, each NUL-terminated */
    size_t requested_len;
    size_t requested_cap;
    size_t n_requested;
    struct config_obj *next;
};

struct config_arr {
    struct config_obj h;        /* first, so a config_arr is freed as one */
};

struct config {
    char *name;
    char *text;
    size_t len;
    json_t *root;               /* NULL when loading failed */
    struct jsonpos_doc *doc;
    uint8_t *marks;             /* CONFIG_MARK_* per jsonpos node */
    struct config_limits limits;
    struct config_error *errors;
    size_t n_errors;
    size_t n_dropped;
    bool oom;                   /* an allocation failed after loading */
    struct config_obj *handles;     /* in creation order */
    struct config_obj *handles_tail;
    struct config_obj *root_obj;    /* what config_root() returned */
    struct config_obj failed_obj;
    struct config_arr failed_arr;
};

/* One value that a getter reads: a member by key or an element by index. */
struct config_slot {
    struct config_obj *parent;
    json_t *json;               /* NULL when absent */
    size_t node;                /* JSONPOS_NONE when absent or unknown */
    const char *key;            /* NULL for an array element */
    size_t index;
};

/* Results of config_slot_by_key() and config_slot_by_index(). */
enum config_slot_result {
    CONFIG_SLOT_PRESENT,
    CONFIG_SLOT_ABSENT,         /* optional and absent, or parent absent */
    CONFIG_SLOT_MISSING,        /* required and absent: report it */
    CONFIG_SLOT_FAILED,         /* the parent failed: report nothing */
};

/* Size of an "expected ..." text. */
#define CONFIG_WANT_SIZE 192

void
config_add_error(struct config *cfg, struct jsonpos pos, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

void
config_add_verror(struct config *cfg, struct jsonpos pos, const char *path,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/* Looks up `key` in `obj`, marks it read and notes it as requested. */
enum config_slot_result
config_slot_by_key(struct config_obj *obj, const char *key, int flags,
    struct config_slot *slot);

/* Looks up element i of `arr`. */
enum config_slot_result
config_slot_by_index(struct config_arr *arr, size_t i,
    struct config_slot *slot);

/* Records an error at the slot's value (or at its parent when absent). */
void
config_slot_error(const struct config_slot *slot, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes the path of the slot ("listen[1].port") into buf. */
char *
config_slot_path(const struct config_slot *slot, char *buf, size_t size);

/*
 * Turns a non-present slot result into a getter's return value, recording
 * "missing required key, expected <want>" for CONFIG_SLOT_MISSING.
 */
int
config_slot_absent(const struct config_slot *slot,
    enum config_slot_result result, const char *want);

/*
 * Returns a handle for the slot: present if the slot contains a value of
 * type `type` (JSON_OBJECT or JSON_ARRAY), absent or failed otherwise.
 */
struct config_obj *
config_handle_for_slot(const struct config_slot *slot,
    enum config_slot_result result, json_type type, const char *want);

/* Writes a short form of a JSON value for an error text into buf. */
char *
config_describe_value(const json_t *v, char *buf, size_t size);

#endif /* IKESHIFT_RT_CONFIG_PRIV_H */
