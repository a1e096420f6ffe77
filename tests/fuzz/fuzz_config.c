/*
 * libFuzzer target for configuration loading.  Each input goes through:
 *   1. the position scanner on the raw bytes, walking every node;
 *   2. a differential check: when jansson accepts the bytes, the scanner
 *      must report the same tree (kinds, keys, lengths) with positions in
 *      document order, or the target aborts;
 *   3. the loader with a sample schema that uses every getter, then the
 *      error list;
 *   4. the value parsers on the bytes as a string.
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt/config.h"
#include "rt/jsonpos.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_levels[] = {
    "error", "warn", "notice", "info", "debug", NULL,
};

static int
fuzz_pos_cmp(struct jsonpos a, struct jsonpos b)
{
    if (a.line != b.line)
        return a.line < b.line ? -1 : 1;
    if (a.column != b.column)
        return a.column < b.column ? -1 : 1;
    return 0;
}

/* Touches every node of a scan, whatever its status. */
static void
fuzz_walk_doc(const struct jsonpos_doc *doc)
{
    char path[64];

    for (size_t i = 0; i < jsonpos_count(doc); i++) {
        size_t len;

        jsonpos_format_path(doc, i, path, sizeof(path));
        (void)jsonpos_get_key(doc, i, &len);
        for (size_t c = 0; c < jsonpos_child_count(doc, i); c++)
            if (jsonpos_child(doc, i, c) >= jsonpos_count(doc))
                abort();
    }
    (void)jsonpos_get_stop_path(doc);
}

static enum jsonpos_kind
fuzz_kind_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return JSONPOS_OBJECT;
    case JSON_ARRAY:
        return JSONPOS_ARRAY;
    case JSON_STRING:
        return JSONPOS_STRING;
    default:
        return JSONPOS_SCALAR;
    }
}

/* Aborts unless node idx of doc describes the jansson value v. */
static void
fuzz_compare(const json_t *v, const struct jsonpos_doc *doc, size_t idx)
{
    if (idx >= jsonpos_count(doc) || jsonpos_get_kind(doc, idx) !=
        fuzz_kind_of(v))
        abort();
    if (json_is_object(v)) {
        if (jsonpos_child_count(doc, idx) != json_object_size(v))
            abort();
        for (size_t i = 0; i < jsonpos_child_count(doc, idx); i++) {
            size_t c = jsonpos_child(doc, idx, i), len;
            const char *key = jsonpos_get_key(doc, c, &len);
            const json_t *m;

            if (key == NULL || (m = json_object_getn(v, key, len)) == NULL)
                abort();
            if (fuzz_pos_cmp(jsonpos_get_key_pos(doc, c),
                    jsonpos_get_pos(doc, c)) >= 0)
                abort();
            fuzz_compare(m, doc, c);
        }
    } else if (json_is_array(v)) {
        if (jsonpos_child_count(doc, idx) != json_array_size(v))
            abort();
        for (size_t i = 0; i < json_array_size(v); i++)
            fuzz_compare(json_array_get(v, i), doc, jsonpos_child(doc, idx, i));
    }
}

static void
fuzz_differential(const char *text, size_t size)
{
    json_error_t err;
    json_t *root;

    /* jansson 2.14 accepts some text with NUL bytes, which is not JSON. */
    if (memchr(text, '\0', size) != NULL)
        return;
    root = json_loadb(text, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
        &err);
    if (root == NULL)
        return;
    struct jsonpos_doc *doc = jsonpos_scan(text, size, JSONPOS_DEPTH_MAX);
    if (doc == NULL)
        abort();
    /* jansson nests up to 2048 levels; the scanner stops at 512. */
    if (jsonpos_get_status(doc) == JSONPOS_OK) {
        fuzz_compare(root, doc, 0);
        for (size_t i = 1; i < jsonpos_count(doc); i++)
            if (fuzz_pos_cmp(jsonpos_get_pos(doc, i - 1),
                    jsonpos_get_pos(doc, i)) >= 0)
                abort();
    } else if (jsonpos_get_status(doc) != JSONPOS_TOO_DEEP) {
        abort();
    }
    jsonpos_free(doc);
    json_decref(root);
}

static void
fuzz_read_listener(struct config_obj *l)
{
    struct sockaddr_storage ss;
    int64_t port;
    bool b;

    config_get_addr(l, "address", CONFIG_REQUIRED, NULL, &ss);
    config_get_int(l, "port", CONFIG_OPTIONAL, 500, 1, 65535, &port);
    config_get_addrport(l, "peer", CONFIG_OPTIONAL, "198.51.100.1:500", 500,
        &ss);
    config_get_bool(l, "nat", CONFIG_OPTIONAL, false, &b);
    config_obj_error(l, "port", "sample cross-field error");
}

static void
fuzz_read_schema(struct config *cfg)
{
    struct config_obj *root = config_root(cfg, 0);
    struct sockaddr_storage ss;
    struct config_prefix pfx;
    const char *s;
    int64_t n;
    int level;
    bool b;

    config_get_string(root, "name", CONFIG_REQUIRED | CONFIG_NONEMPTY, NULL,
        32, &s);
    config_get_int(root, "weight", CONFIG_OPTIONAL, 1, -5, 100, &n);
    config_get_duration(root, "interval", CONFIG_OPTIONAL, 1000, 10,
        3600000, 1000, &n);
    config_get_enum(root, "log_level", CONFIG_OPTIONAL, 3, fuzz_levels,
        &level);
    config_get_bool(root, "enabled", CONFIG_OPTIONAL, true, &b);
    config_get_prefix(root, "net", CONFIG_OPTIONAL | CONFIG_IPV4, NULL, &pfx);
    config_get_addr(root, "v6", CONFIG_OPTIONAL | CONFIG_IPV6, "::1", &ss);

    struct config_arr *listen = config_get_array(root, "listen",
        CONFIG_OPTIONAL, 0, 8);
    for (size_t i = 0; i < config_arr_len(listen); i++)
        fuzz_read_listener(config_arr_get_object(listen, i, 0));

    struct config_arr *nets = config_get_array(root, "nets", 0, 1, 0);
    for (size_t i = 0; i < config_arr_len(nets); i++) {
        config_arr_get_prefix(nets, i, 0, &pfx);
        config_arr_get_addr(nets, i, 0, &ss);
        config_arr_get_addrport(nets, i, 0, 0, &ss);
        config_arr_get_string(nets, i, 0, 8, &s);
        config_arr_get_enum(nets, i, fuzz_levels, &level);
        config_arr_get_duration(nets, i, 0, INT64_MAX, 0, &n);
        config_arr_get_int(nets, i, INT64_MIN, INT64_MAX, &n);
        config_arr_get_bool(nets, i, &b);
        config_arr_error(nets, i, "sample element error");
    }

    struct config_arr *matrix = config_get_array(root, "matrix", 0, 0, 4);
    for (size_t i = 0; i < config_arr_len(matrix); i++) {
        struct config_arr *row = config_arr_get_array(matrix, i, 1, 4);

        for (size_t j = 0; j < config_arr_len(row); j++)
            config_arr_get_int(row, j, 0, 9, &n);
    }

    struct config_obj *map = config_get_object(root, "gateways", CONFIG_OPEN);
    for (size_t i = 0; i < config_obj_key_count(map); i++) {
        const char *key = config_obj_key_at(map, i);
        struct config_obj *gw = config_get_object(map, key, CONFIG_REQUIRED);

        config_get_string(gw, "host", CONFIG_OPTIONAL, "x", 0, &s);
        config_get_duration(gw, "drain", CONFIG_OPTIONAL, 0, 0, 60000, 0,
            &n);
        if (config_obj_has_key(gw, "extra"))
            config_obj_error(gw, "extra", "sample error");
    }
    config_finish(cfg);

    char line[1024];
    for (size_t i = 0; config_get_error(cfg, i) != NULL; i++)
        config_format_error(cfg, i, line, sizeof(line));
}

static void
fuzz_value_parsers(const char *text, size_t size)
{
    char *s = malloc(size + 1);
    struct sockaddr_storage ss;
    struct config_prefix pfx;
    char out[128];
    int64_t ms;

    if (s == NULL)
        return;
    memcpy(s, text, size);
    s[size] = '\0';
    if (config_value_parse_duration(s, &ms) == 0)
        config_value_format_duration(ms, out, sizeof(out));
    if (config_value_parse_addrport(s, AF_UNSPEC, 500, &ss) == 0)
        config_value_format_addr(&ss, 1, out, sizeof(out));
    int rc = config_value_parse_prefix(s, AF_UNSPEC, &pfx);
    if (rc == 0 || rc == -EDOM)
        config_value_format_prefix(&pfx, out, sizeof(out));
    free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct config_limits limits = { .max_depth = 8, .max_errors = 8 };

    struct jsonpos_doc *doc = jsonpos_scan(text, size, 8);
    if (doc != NULL) {
        fuzz_walk_doc(doc);
        jsonpos_free(doc);
    }
    fuzz_differential(text, size);

    struct config *cfg = config_load_buffer("fuzz.json", data, size, &limits);
    if (cfg != NULL) {
        fuzz_read_schema(cfg);
        config_free(cfg);
    }
    if (size < 256)
        fuzz_value_parsers(text, size);
    return 0;
}
