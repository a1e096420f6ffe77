/*
 * Report encoding and parsing, and the JSON field readers that the plan
 * parser shares (declared in cluster.h).
 */
#include "rt/cluster_report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt/log.h"

#define CLUSTER_U32_MAX ((uint64_t)UINT32_MAX)
#define CLUSTER_I64_MAX ((uint64_t)INT64_MAX)

/* Maximum length of a DNS name in text form: the 255-octet limit of
 * RFC 1035, section 2.3.4, less the first length octet and the root. */
#define CLUSTER_FQDN_MAX 253

static const char *const cluster_admin_names[] = {
    "active", "draining", "drained", "maintenance", NULL,
};

static const char *const cluster_agent_names[] = {
    "serving", "draining", "stopping", NULL,
};

bool
cluster_id_is_valid(const char *s, size_t len, bool allow_empty)
{
    if (len == 0)
        return allow_empty;
    if (len > CLUSTER_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool
cluster_fqdn_is_valid(const char *s, size_t len)
{
    size_t label = 0;
    bool all_digits = true;

    if (len == 0 || len > CLUSTER_FQDN_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '.') {
            /* An empty label, or one that ends in a hyphen. */
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        if (c == '-') {
            if (label == 0)
                return false;
        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9'))) {
            return false;
        }
        if (c < '0' || c > '9')
            all_digits = false;
        if (++label > 63)
            return false;
    }
    if (label == 0 || s[len - 1] == '-')
        return false;
    /* "10.0.0.300" is neither an address nor a name (RFC 1123, 2.1). */
    return !all_digits;
}

bool
cluster_addr_is_valid(const char *s, size_t len, int flags)
{
    char buf[CLUSTER_ADDR_TEXT_MAX + 1];
    unsigned char bin[sizeof(struct in6_addr)];

    if (len == 0 || len > CLUSTER_ADDR_TEXT_MAX || memchr(s, '\0', len))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (flags & CLUSTER_ADDR_IP) {
        if (inet_pton(AF_INET, buf, bin) == 1 ||
            inet_pton(AF_INET6, buf, bin) == 1)
            return true;
    }
    if (flags & CLUSTER_ADDR_FQDN)
        return cluster_fqdn_is_valid(s, len);
    return false;
}

const char *
cluster_admin_state_name(enum cluster_admin_state state)
{
    if ((unsigned)state > CLUSTER_ADMIN_MAINTENANCE)
        return NULL;
    return cluster_admin_names[state];
}

const char *
cluster_agent_state_name(enum cluster_agent_state state)
{
    if ((unsigned)state > CLUSTER_AGENT_STOPPING)
        return NULL;
    return cluster_agent_names[state];
}

void
cluster_json_error(char *err, size_t err_size, const char *parent,
    const char *key, const char *fmt, ...)
{
    char reason[CLUSTER_ERR_SIZE];
    va_list ap;

    if (err == NULL || err_size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (key != NULL)
        snprintf(err, err_size, "%s.%s: %s", parent, key, reason);
    else
        snprintf(err, err_size, "%s: %s", parent, reason);
}

static const char *
cluster_json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "real";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

/* Looks up the value and reports it missing; NULL if it is. */
static const json_t *
cluster_json_value(const json_t *obj, const char *parent, const char *key,
    const char *expected, char *err, size_t err_size)
{
    const json_t *v = obj;

    if (key != NULL)
        v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (v == NULL)
        cluster_json_error(err, err_size, parent, key, "missing, expected %s",
            expected);
    return v;
}

int
cluster_json_get_uint(const json_t *obj, const char *parent, const char *key,
    uint64_t min, uint64_t max, uint64_t *out, char *err, size_t err_size)
{
    char expected[64];

    snprintf(expected, sizeof(expected), "an integer %" PRIu64 "-%" PRIu64,
        min, max);
    const json_t *v = cluster_json_value(obj, parent, key, expected, err,
        err_size);
    if (v == NULL)
        return -EINVAL;
    if (!json_is_integer(v)) {
        cluster_json_error(err, err_size, parent, key,
            "invalid type %s, expected %s", cluster_json_type_name(v),
            expected);
        return -EINVAL;
    }
    json_int_t n = json_integer_value(v);
    if (n < 0 || (uint64_t)n < min || (uint64_t)n > max) {
        cluster_json_error(err, err_size, parent, key,
            "invalid value %lld, expected %" PRIu64 "-%" PRIu64,
            (long long)n, min, max);
        return -EINVAL;
    }
    *out = (uint64_t)n;
    return 0;
}

int
cluster_json_get_bool(const json_t *obj, const char *parent, const char *key,
    bool *out, char *err, size_t err_size)
{
    const json_t *v = cluster_json_value(obj, parent, key, "true or false",
        err, err_size);

    if (v == NULL)
        return -EINVAL;
    if (!json_is_boolean(v)) {
        cluster_json_error(err, err_size, parent, key,
            "invalid type %s, expected true or false",
            cluster_json_type_name(v));
        return -EINVAL;
    }
    *out = json_is_true(v);
    return 0;
}

static const char *
cluster_text_expected(enum cluster_text_kind kind, int addr_flags)
{
    switch (kind) {
    case CLUSTER_TEXT_ID:
        return "1-63 characters of A-Z a-z 0-9 . _ -";
    case CLUSTER_TEXT_ID_OR_EMPTY:
        return "0-63 characters of A-Z a-z 0-9 . _ -";
    case CLUSTER_TEXT_SHA256_OR_EMPTY:
        return "64 lower-case hex digits or \"\"";
    case CLUSTER_TEXT_IDENTITY_OR_EMPTY:
        return "an identity \"TYPE:VALUE\" (fqdn, email, ipv4, ipv6," \
            " key-id) or \"\"";
    case CLUSTER_TEXT_ADDR:
        break;
    }
    if ((addr_flags & CLUSTER_ADDR_FQDN) && (addr_flags & CLUSTER_ADDR_EMPTY))
        return "an IPv4 or IPv6 address, a DNS name or \"\"";
    if (addr_flags & CLUSTER_ADDR_FQDN)
        return "an IPv4 or IPv6 address or a DNS name";
    if (addr_flags & CLUSTER_ADDR_EMPTY)
        return "an IPv4 or IPv6 address or \"\"";
    return "an IPv4 or IPv6 address";
}

static bool
cluster_text_is_valid(const char *s, size_t len, enum cluster_text_kind kind,
    int addr_flags)
{
    switch (kind) {
    case CLUSTER_TEXT_ID:
        return cluster_id_is_valid(s, len, false);
    case CLUSTER_TEXT_ID_OR_EMPTY:
        return cluster_id_is_valid(s, len, true);
    case CLUSTER_TEXT_SHA256_OR_EMPTY:
        if (len == 0)
            return true;
        if (len != 64)
            return false;
        for (size_t i = 0; i < len; i++)
            if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                return false;
        return true;
    case CLUSTER_TEXT_IDENTITY_OR_EMPTY:
        return cluster_identity_is_valid(s, len, true);
    case CLUSTER_TEXT_ADDR:
        if (len == 0)
            return (addr_flags & CLUSTER_ADDR_EMPTY) != 0;
        return cluster_addr_is_valid(s, len, addr_flags);
    }
    return false;
}

int
cluster_json_get_text(const json_t *obj, const char *parent, const char *key,
    enum cluster_text_kind kind, int addr_flags, char *out, size_t size,
    char *err, size_t err_size)
{
    const char *expected = cluster_text_expected(kind, addr_flags);
    const json_t *v = cluster_json_value(obj, parent, key, expected, err,
        err_size);
    char shown[72];

    if (v == NULL)
        return -EINVAL;
    if (!json_is_string(v)) {
        cluster_json_error(err, err_size, parent, key,
            "invalid type %s, expected %s", cluster_json_type_name(v),
            expected);
        return -EINVAL;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len >= size || !cluster_text_is_valid(s, len, kind, addr_flags)) {
        /* The value came from Redis: escape it and keep it short. */
        log_escape(shown, sizeof(shown), s, len);
        cluster_json_error(err, err_size, parent, key,
            "invalid value %s, expected %s", shown, expected);
        return -EINVAL;
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

int
cluster_json_get_enum(const json_t *obj, const char *parent, const char *key,
    const char *const *names, int *out, char *err, size_t err_size)
{
    char expected[128] = "one of:";
    char shown[72];

    for (size_t i = 0; names[i] != NULL; i++) {
        size_t used = strlen(expected);

        snprintf(expected + used, sizeof(expected) - used, "%s %s",
            i == 0 ? "" : ",", names[i]);
    }
    const json_t *v = cluster_json_value(obj, parent, key, expected, err,
        err_size);
    if (v == NULL)
        return -EINVAL;
    if (!json_is_string(v)) {
        cluster_json_error(err, err_size, parent, key,
            "invalid type %s, expected %s", cluster_json_type_name(v),
            expected);
        return -EINVAL;
    }
    for (int i = 0; names[i] != NULL; i++) {
        if (strlen(names[i]) == json_string_length(v) &&
            strcmp(names[i], json_string_value(v)) == 0) {
            *out = i;
            return 0;
        }
    }
    log_escape(shown, sizeof(shown), json_string_value(v),
        json_string_length(v));
    cluster_json_error(err, err_size, parent, key,
        "invalid value %s, expected %s", shown, expected);
    return -EINVAL;
}

/* Fields of a report that are unsigned integers, with their ranges. */
struct report_uint_field {
    const char *key;
    size_t offset;
    size_t width;               /* sizeof the struct member */
    uint64_t min, max;
};

#define REPORT_FIELD(name, lo, hi) \
    { #name, offsetof(struct cluster_report, name), \
      sizeof(((struct cluster_report *)0)->name), lo, hi }

static const struct report_uint_field report_uint_fields[] = {
    REPORT_FIELD(sent_at_ms, 0, CLUSTER_I64_MAX),
    REPORT_FIELD(interval_ms, CLUSTER_REPORT_INTERVAL_MIN_MS,
        CLUSTER_REPORT_INTERVAL_MAX_MS),
    REPORT_FIELD(ike_sas, 0, CLUSTER_U32_MAX),
    REPORT_FIELD(half_open, 0, CLUSTER_U32_MAX),
    REPORT_FIELD(half_open_limit, 0, CLUSTER_U32_MAX),
    REPORT_FIELD(capacity, 0, CLUSTER_U32_MAX),
    REPORT_FIELD(pool_used, 0, CLUSTER_U32_MAX),
    REPORT_FIELD(pool_size, 0, CLUSTER_U32_MAX),
    REPORT_FIELD(cpu_busiest_permille, 0, 1000),
    REPORT_FIELD(plan_epoch, 0, CLUSTER_I64_MAX),
    REPORT_FIELD(redirects_sent, 0, CLUSTER_I64_MAX),
    REPORT_FIELD(sas_established, 0, CLUSTER_I64_MAX),
    REPORT_FIELD(drops, 0, CLUSTER_I64_MAX),
};

#define REPORT_N_UINT (sizeof(report_uint_fields) / sizeof(report_uint_fields[0]))

static uint64_t
report_uint_load(const struct cluster_report *r,
    const struct report_uint_field *f)
{
    const unsigned char *p = (const unsigned char *)r + f->offset;

    switch (f->width) {
    case sizeof(uint16_t): {
        uint16_t v;
        memcpy(&v, p, sizeof(v));
        return v;
    }
    case sizeof(uint32_t): {
        uint32_t v;
        memcpy(&v, p, sizeof(v));
        return v;
    }
    default: {
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        return v;
    }
    }
}

static void
report_uint_store(struct cluster_report *r, const struct report_uint_field *f,
    uint64_t value)
{
    unsigned char *p = (unsigned char *)r + f->offset;

    /* The ranges in report_uint_fields keep value within the member. */
    switch (f->width) {
    case sizeof(uint16_t): {
        uint16_t v = (uint16_t)value;
        memcpy(p, &v, sizeof(v));
        break;
    }
    case sizeof(uint32_t): {
        uint32_t v = (uint32_t)value;
        memcpy(p, &v, sizeof(v));
        break;
    }
    default:
        memcpy(p, &value, sizeof(value));
        break;
    }
}

/* Checks "version" against CLUSTER_FORMAT_VERSION. */
static int
report_check_version(const json_t *root, const char *parent, char *err,
    size_t err_size)
{
    uint64_t version;

    if (cluster_json_get_uint(root, parent, "version", 1, CLUSTER_I64_MAX,
        &version, err, err_size) < 0)
        return -EINVAL;
    if (version != CLUSTER_FORMAT_VERSION) {
        cluster_json_error(err, err_size, parent, "version",
            "unsupported version %" PRIu64 ", expected %d", version,
            CLUSTER_FORMAT_VERSION);
        return -EINVAL;
    }
    return 0;
}

static int
report_read_addrs(const json_t *root, struct cluster_report *r, char *err,
    size_t err_size)
{
    const json_t *arr = json_object_get(root, "unicast");
    char parent[48];

    if (arr == NULL || !json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > CLUSTER_MAX_ADDRS) {
        cluster_json_error(err, err_size, "report", "unicast",
            "%s, expected an array of 1-%d addresses",
            arr == NULL ? "missing" : json_is_array(arr) ?
            "invalid length" : "invalid type", CLUSTER_MAX_ADDRS);
        return -EINVAL;
    }
    r->n_unicast = json_array_size(arr);
    for (size_t i = 0; i < r->n_unicast; i++) {
        snprintf(parent, sizeof(parent), "report.unicast[%zu]", i);
        if (cluster_json_get_text(json_array_get(arr, i), parent, NULL,
            CLUSTER_TEXT_ADDR, CLUSTER_ADDR_IP, r->unicast[i],
            sizeof(r->unicast[i]), err, err_size) < 0)
            return -EINVAL;
    }
    if (cluster_json_get_text(root, "report", "public_addr",
        CLUSTER_TEXT_ADDR, CLUSTER_ADDR_IP | CLUSTER_ADDR_EMPTY,
        r->public_addr, sizeof(r->public_addr), err, err_size) < 0)
        return -EINVAL;
    if (cluster_json_get_text(root, "report", "anycast", CLUSTER_TEXT_ADDR,
        CLUSTER_ADDR_IP | CLUSTER_ADDR_EMPTY, r->anycast, sizeof(r->anycast),
        err, err_size) < 0)
        return -EINVAL;
    /* Optional: an agent that predates it reports no identity. */
    if (json_object_get(root, "identity") == NULL) {
        r->identity[0] = '\0';
        return 0;
    }
    return cluster_json_get_text(root, "report", "identity",
        CLUSTER_TEXT_IDENTITY_OR_EMPTY, 0, r->identity, sizeof(r->identity),
        err, err_size);
}

static int
report_read(const json_t *root, struct cluster_report *r, char *err,
    size_t err_size)
{
    int state;

    if (!json_is_object(root)) {
        cluster_json_error(err, err_size, "report", NULL,
            "invalid type %s, expected an object",
            cluster_json_type_name(root));
        return -EINVAL;
    }
    if (report_check_version(root, "report", err, err_size) < 0)
        return -EINVAL;
    if (cluster_json_get_text(root, "report", "gateway_id", CLUSTER_TEXT_ID,
        0, r->gateway_id, sizeof(r->gateway_id), err, err_size) < 0)
        return -EINVAL;
    if (cluster_json_get_text(root, "report", "site",
        CLUSTER_TEXT_ID_OR_EMPTY, 0, r->site, sizeof(r->site), err,
        err_size) < 0)
        return -EINVAL;
    if (cluster_json_get_enum(root, "report", "state", cluster_agent_names,
        &state, err, err_size) < 0)
        return -EINVAL;
    r->state = (enum cluster_agent_state)state;
    for (size_t i = 0; i < REPORT_N_UINT; i++) {
        const struct report_uint_field *f = &report_uint_fields[i];
        uint64_t v;

        if (cluster_json_get_uint(root, "report", f->key, f->min, f->max, &v,
            err, err_size) < 0)
            return -EINVAL;
        report_uint_store(r, f, v);
    }
    if (cluster_json_get_text(root, "report", "config_hash",
        CLUSTER_TEXT_SHA256_OR_EMPTY, 0, r->config_hash,
        sizeof(r->config_hash), err, err_size) < 0)
        return -EINVAL;
    if (report_read_addrs(root, r, err, err_size) < 0)
        return -EINVAL;
    if (r->pool_used > r->pool_size) {
        cluster_json_error(err, err_size, "report", "pool_used",
            "invalid value %" PRIu32 ", expected at most pool_size %" PRIu32,
            r->pool_used, r->pool_size);
        return -EINVAL;
    }
    return 0;
}

int
cluster_report_parse(const char *text, size_t len, struct cluster_report *out,
    char *err, size_t err_size)
{
    json_error_t jerr;
    int ret;

    memset(out, 0, sizeof(*out));
    if (err != NULL && err_size > 0)
        err[0] = '\0';
    if (len > CLUSTER_REPORT_TEXT_MAX) {
        cluster_json_error(err, err_size, "report", NULL,
            "text of %zu bytes exceeds the limit of %d", len,
            CLUSTER_REPORT_TEXT_MAX);
        return -EMSGSIZE;
    }
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        cluster_json_error(err, err_size, "report", NULL,
            "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
            jerr.text);
        return -EINVAL;
    }
    ret = report_read(root, out, err, err_size);
    json_decref(root);
    if (ret < 0)
        memset(out, 0, sizeof(*out));
    return ret;
}

/* Copies a fixed-size text member into obj[key]; -EINVAL if unterminated. */
static int
report_put_text(json_t *obj, const char *key, const char *s, size_t size)
{
    size_t len = strnlen(s, size);

    if (len == size)
        return -EINVAL;
    return json_object_set_new(obj, key, json_stringn(s, len)) < 0 ?
        -ENOMEM : 0;
}

static int
report_build(const struct cluster_report *r, json_t *root, char *err,
    size_t err_size)
{
    const char *state = cluster_agent_state_name(r->state);
    int ret = -ENOMEM;

    if (state == NULL) {
        cluster_json_error(err, err_size, "report", "state",
            "invalid value %d, expected an enum cluster_agent_state",
            (int)r->state);
        return -EINVAL;
    }
    if (r->n_unicast > CLUSTER_MAX_ADDRS) {
        cluster_json_error(err, err_size, "report", "unicast",
            "invalid length %zu, expected 1-%d", r->n_unicast,
            CLUSTER_MAX_ADDRS);
        return -EINVAL;
    }
    if (json_object_set_new(root, "version",
        json_integer(CLUSTER_FORMAT_VERSION)) < 0 ||
        json_object_set_new(root, "state", json_string(state)) < 0)
        return -ENOMEM;
    if ((ret = report_put_text(root, "gateway_id", r->gateway_id,
        sizeof(r->gateway_id))) < 0 ||
        (ret = report_put_text(root, "site", r->site, sizeof(r->site))) < 0 ||
        (ret = report_put_text(root, "config_hash", r->config_hash,
        sizeof(r->config_hash))) < 0 ||
        (ret = report_put_text(root, "public_addr", r->public_addr,
        sizeof(r->public_addr))) < 0 ||
        (ret = report_put_text(root, "anycast", r->anycast,
        sizeof(r->anycast))) < 0 ||
        (ret = report_put_text(root, "identity", r->identity,
        sizeof(r->identity))) < 0)
        goto text_error;
    for (size_t i = 0; i < REPORT_N_UINT; i++) {
        const struct report_uint_field *f = &report_uint_fields[i];
        uint64_t v = report_uint_load(r, f);

        if (v > CLUSTER_I64_MAX) {
            cluster_json_error(err, err_size, "report", f->key,
                "invalid value %" PRIu64 ", expected %" PRIu64 "-%" PRIu64,
                v, f->min, f->max);
            return -EINVAL;
        }
        if (json_object_set_new(root, f->key, json_integer((json_int_t)v)) < 0)
            return -ENOMEM;
    }
    json_t *arr = json_array();
    if (arr == NULL || json_object_set_new(root, "unicast", arr) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < r->n_unicast; i++) {
        size_t len = strnlen(r->unicast[i], sizeof(r->unicast[i]));

        if (len == sizeof(r->unicast[i])) {
            ret = -EINVAL;
            goto text_error;
        }
        if (json_array_append_new(arr, json_stringn(r->unicast[i], len)) < 0)
            return -ENOMEM;
    }
    return 0;
text_error:
    if (ret == -EINVAL)
        cluster_json_error(err, err_size, "report", NULL,
            "a text field is not NUL-terminated");
    return ret;
}

int
cluster_report_encode(const struct cluster_report *report, char **out,
    char *err, size_t err_size)
{
    struct cluster_report *check = NULL;
    int ret = -ENOMEM;
    char *text = NULL;
    json_t *root;

    *out = NULL;
    if (err != NULL && err_size > 0)
        err[0] = '\0';
    if ((root = json_object()) == NULL)
        goto out;
    if ((ret = report_build(report, root, err, err_size)) < 0)
        goto out;
    ret = -ENOMEM;
    if ((text = json_dumps(root, JSON_COMPACT)) == NULL)
        goto out;
    if ((check = malloc(sizeof(*check))) == NULL)
        goto out;
    /* Parse what we wrote, so the encoder and the parser share one set of
     * rules. */
    if ((ret = cluster_report_parse(text, strlen(text), check, err,
        err_size)) < 0)
        goto out;
    *out = text;
    text = NULL;
out:
    free(check);
    free(text);
    json_decref(root);
    return ret;
}
