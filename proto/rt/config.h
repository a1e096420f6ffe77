/*
 * Configuration loading for the ikeshift daemons.  A configuration file is
 * one JSON object.  The loader parses it with jansson, indexes the position
 * of every value (jsonpos.h), and gives the daemon a typed API: open an
 * object, then read each field with a type and range check.  Every problem
 * becomes an error that names the file, line, column and field path, and
 * states what is wrong and what was expected:
 *
 *   agent.json:14:13: listen[1].port: invalid value 70000, expected an
 *   integer 1-65535
 *
 * The getters do not stop at the first error.  A daemon reads its whole
 * schema, calls config_finish(), and if that returns a nonzero count,
 * prints the errors with config_print_errors() and exits with status
 * CONFIG_EXIT_INVALID (2).
 *
 * Handles (struct config_obj, struct config_arr) and the strings that the
 * getters return belong to the struct config and stay valid until
 * config_free().  A handle that failed is still a valid handle, so calls
 * can be chained without checks.  A NULL handle is accepted too: getters
 * then store the default and return -EINVAL, and openers return NULL.
 *
 * Getters that read one value return 0 when the value is present and
 * valid.  They return CONFIG_ABSENT after storing the default when an
 * optional key is absent.  They return -EINVAL when the value is missing
 * or invalid, or when the enclosing object failed.  The default is then
 * stored, and an error is recorded unless the enclosing object had failed.
 * In an object that is itself absent every getter returns CONFIG_ABSENT
 * and stores the default, even for a key marked CONFIG_REQUIRED, because a
 * required key is required only when its object is present.
 */
#ifndef IKESHIFT_RT_CONFIG_H
#define IKESHIFT_RT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rt/config_value.h"

/* Defaults for struct config_limits. */
#define CONFIG_DEFAULT_MAX_SIZE   (1024 * 1024)
#define CONFIG_DEFAULT_MAX_DEPTH  16
#define CONFIG_DEFAULT_MAX_ERRORS 20

/* Limits on what the loader accepts; a zero field takes the default. */
struct config_limits {
    size_t max_size;            /* file size in bytes */
    unsigned max_depth;         /* nesting of objects and arrays */
    unsigned max_errors;        /* errors kept; later ones are counted */
};

/* Sizes of the text fields of struct config_error, NUL included. */
#define CONFIG_PATH_SIZE   256
#define CONFIG_REASON_SIZE 384

/* One problem in a configuration. */
struct config_error {
    uint32_t line;              /* 1-based; 0 for the file as a whole */
    uint32_t column;            /* 1-based, in characters */
    char path[CONFIG_PATH_SIZE];     /* "listen[1].port"; "" at top level */
    char reason[CONFIG_REASON_SIZE]; /* what is wrong, what was expected */
};

/* Flags for the getters; combine with '|'. */
#define CONFIG_OPTIONAL 0x00    /* absent key: store the default */
#define CONFIG_REQUIRED 0x01    /* absent key: an error */
#define CONFIG_OPEN     0x02    /* objects: allow unread keys */
#define CONFIG_NONEMPTY 0x04    /* strings: reject "" */
#define CONFIG_IPV4     0x08    /* addresses: only IPv4 */
#define CONFIG_IPV6     0x10    /* addresses: only IPv6 */

/* Exit status of a daemon that rejects its configuration. */
#define CONFIG_EXIT_INVALID 2

/* Return value of a getter whose optional key was absent. */
#define CONFIG_ABSENT 1

struct config;
struct config_obj;
struct config_arr;

/*
 * Reads and parses the file at `path` (the name used in errors).  Returns
 * a configuration that the caller frees with config_free(), or NULL when
 * out of memory.  A file that cannot be read or parsed still yields a
 * configuration, holding the error; `limits` may be NULL.
 */
struct config *
config_load_file(const char *path, const struct config_limits *limits);

/*
 * As config_load_file(), for buf[0..len) (copied) under the name `name`
 * (copied).  The fuzz target and tests use it.
 */
struct config *
config_load_buffer(const char *name, const void *buf, size_t len,
    const struct config_limits *limits);

/* Frees `cfg` with its handles and strings; NULL is ignored. */
void
config_free(struct config *cfg);

/*
 * Returns the top-level object, with `flags` CONFIG_OPEN or 0.  When the
 * file failed to load the handle is failed, so its getters store defaults
 * and add no errors.  Returns NULL only for a NULL `cfg`.
 */
struct config_obj *
config_root(struct config *cfg, int flags);

/*
 * Reports every key of `obj` that no getter requested, as "unknown key"
 * with the list of the keys that getters requested, unless `obj` was opened
 * with CONFIG_OPEN.  Later calls for the same object do nothing.
 */
void
config_obj_finish(struct config_obj *obj);

/*
 * Runs config_obj_finish() on every object not finished yet, sorts the
 * errors by position and returns their number (kept and dropped).  Call
 * it once, after reading the whole schema.
 */
size_t
config_finish(struct config *cfg);

/* Returns the number of errors recorded, kept or not. */
size_t
config_error_count(const struct config *cfg);

/* Returns the i-th kept error (lent), or NULL when i is out of range. */
const struct config_error *
config_get_error(const struct config *cfg, size_t i);

/*
 * Formats the i-th error as "name:line:col: path: reason" into `buf`
 * ("name: reason" without a position; the path part is left out at top
 * level).  Returns the length that the text needs, as snprintf() does,
 * or -EINVAL when i is out of range.
 */
int
config_format_error(const struct config *cfg, size_t i, char *buf,
    size_t size);

/*
 * Writes each kept error on its own line to `fp`, then, if errors were
 * dropped at the limit, a line saying how many.
 */
void
config_print_errors(const struct config *cfg, FILE *fp);

/*
 * Records an error found by the daemon itself (a value valid alone but not
 * with another), at the position of `key` in `obj` (NULL for the object).
 * `fmt` gives the reason, e.g. "must differ from controller.address".
 */
void
config_obj_error(struct config_obj *obj, const char *key, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* As config_obj_error(), at element i of `arr`. */
void
config_arr_error(struct config_arr *arr, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Returns true if `obj` is present (not absent, not failed). */
bool
config_obj_is_present(const struct config_obj *obj);

/*
 * Returns true if `obj` has `key`.  It does not count as reading it: a
 * key only tested is still reported by config_obj_finish().
 */
bool
config_obj_has_key(const struct config_obj *obj, const char *key);

/* Returns the number of keys in `obj`; 0 unless it is present. */
size_t
config_obj_key_count(const struct config_obj *obj);

/*
 * Returns the i-th key of `obj` in file order (lent), or NULL; with
 * CONFIG_OPEN it lets a daemon read a map such as {"gw1": {...}}.
 */
const char *
config_obj_key_at(const struct config_obj *obj, size_t i);

/*
 * Opens the object at `key`.  `flags`: CONFIG_REQUIRED, CONFIG_OPEN.  An
 * absent optional key gives an absent handle; a wrong type or a missing
 * required key records an error and gives a failed handle.
 */
struct config_obj *
config_get_object(struct config_obj *obj, const char *key, int flags);

/*
 * Opens the array at `key`, which must have min_len to max_len elements
 * (max_len 0: no limit).  Handles as config_get_object(); an absent or
 * failed array has length 0.
 */
struct config_arr *
config_get_array(struct config_obj *obj, const char *key, int flags,
    size_t min_len, size_t max_len);

/*
 * Reads a string of at most max_len bytes (0: no limit); with
 * CONFIG_NONEMPTY "" is invalid.  *out is lent until config_free(), or is
 * `def` (may be NULL).  JSON strings never contain NUL.
 */
int
config_get_string(struct config_obj *obj, const char *key, int flags,
    const char *def, size_t max_len, const char **out);

/* Reads true or false. */
int
config_get_bool(struct config_obj *obj, const char *key, int flags, bool def,
    bool *out);

/* Reads an integer in [min, max]; 1.0 and "1" are invalid. */
int
config_get_int(struct config_obj *obj, const char *key, int flags,
    int64_t def, int64_t min, int64_t max, int64_t *out);

/*
 * Reads a duration in [min_ms, max_ms] into *out_ms: a string such as
 * "250ms", "30s", "5m" or "1h30m", or a plain integer counted in units
 * of `plain_unit_ms` (1000 for seconds; 0 rejects plain integers).
 */
int
config_get_duration(struct config_obj *obj, const char *key, int flags,
    int64_t def_ms, int64_t min_ms, int64_t max_ms, int64_t plain_unit_ms,
    int64_t *out_ms);

/*
 * Reads an IPv4 or IPv6 address (CONFIG_IPV4 or CONFIG_IPV6 to allow one
 * family) into *out with port 0.  `def` is parsed the same way (NULL:
 * *out is zeroed, family AF_UNSPEC).
 */
int
config_get_addr(struct config_obj *obj, const char *key, int flags,
    const char *def, struct sockaddr_storage *out);

/*
 * Reads "198.51.100.7:500" or "[2001:db8::1]:500" into *out.  With
 * `default_port` not 0 the port may be left out.  `def` and the family
 * flags as config_get_addr().
 */
int
config_get_addrport(struct config_obj *obj, const char *key, int flags,
    const char *def, uint16_t default_port, struct sockaddr_storage *out);

/*
 * Reads a CIDR prefix such as "198.51.100.0/24"; host bits must be zero.
 * `def` and the family flags as config_get_addr().
 */
int
config_get_prefix(struct config_obj *obj, const char *key, int flags,
    const char *def, struct config_prefix *out);

/*
 * Reads a string that must be one of `names` (NULL-terminated) and stores
 * its index in *out.
 */
int
config_get_enum(struct config_obj *obj, const char *key, int flags, int def,
    const char *const *names, int *out);

/* Returns the number of elements of `arr`; 0 unless it is present. */
size_t
config_arr_len(const struct config_arr *arr);

/*
 * The element getters read element i (< config_arr_len()) with the checks
 * of the getters above.  They return 0, or -EINVAL with an error recorded
 * (none for a failed or absent array, or i out of range).  On -EINVAL
 * *out is left as it was.  `flags` takes the type's flags above
 * (CONFIG_OPEN, CONFIG_NONEMPTY, CONFIG_IPV4, CONFIG_IPV6).
 */
struct config_obj *
config_arr_get_object(struct config_arr *arr, size_t i, int flags);
struct config_arr *
config_arr_get_array(struct config_arr *arr, size_t i, size_t min_len,
    size_t max_len);
int
config_arr_get_string(struct config_arr *arr, size_t i, int flags,
    size_t max_len, const char **out);
int
config_arr_get_bool(struct config_arr *arr, size_t i, bool *out);
int
config_arr_get_int(struct config_arr *arr, size_t i, int64_t min, int64_t max,
    int64_t *out);
int
config_arr_get_duration(struct config_arr *arr, size_t i, int64_t min_ms,
    int64_t max_ms, int64_t plain_unit_ms, int64_t *out_ms);
int
config_arr_get_addr(struct config_arr *arr, size_t i, int flags,
    struct sockaddr_storage *out);
int
config_arr_get_addrport(struct config_arr *arr, size_t i, int flags,
    uint16_t default_port, struct sockaddr_storage *out);
int
config_arr_get_prefix(struct config_arr *arr, size_t i, int flags,
    struct config_prefix *out);
int
config_arr_get_enum(struct config_arr *arr, size_t i,
    const char *const *names, int *out);

#endif /* IKESHIFT_RT_CONFIG_H */
