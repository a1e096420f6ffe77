/*
 * Typed getters of the configuration API: each reads one slot (a member by
 * key or an array element by index), checks its type and range, and
 * records an error that states what was expected.
 */
#include "rt/config_priv.h"

#include <errno.h>
#include <string.h>

/* Records "invalid value X, expected <want>" and returns -EINVAL. */
static int
config_invalid(const struct config_slot *slot, const char *want)
{
    char desc[64];

    config_slot_error(slot, "invalid value %s, expected %s",
        config_describe_value(slot->json, desc, sizeof(desc)), want);
    return -EINVAL;
}

static int
config_family(int flags)
{
    bool v4 = (flags & CONFIG_IPV4) != 0;
    bool v6 = (flags & CONFIG_IPV6) != 0;

    if (v4 && !v6)
        return AF_INET;
    if (v6 && !v4)
        return AF_INET6;
    return AF_UNSPEC;
}

static const char *
config_family_name(int flags)
{
    switch (config_family(flags)) {
    case AF_INET:
        return "an IPv4";
    case AF_INET6:
        return "an IPv6";
    default:
        return "an IPv4 or IPv6";
    }
}

/* Records that the caller's own default does not parse. */
static void
config_bad_default(const struct config_slot *slot, const char *def)
{
    config_slot_error(slot, "internal error: invalid default \"%s\"", def);
}

static void
config_want_string(char *buf, size_t size, int flags, size_t max_len)
{
    const char *kind = (flags & CONFIG_NONEMPTY) ? "a non-empty string"
                                                 : "a string";

    if (max_len == 0)
        snprintf(buf, size, "%s", kind);
    else
        snprintf(buf, size, "%s of at most %zu bytes", kind, max_len);
}

static void
config_want_int(char *buf, size_t size, int64_t min, int64_t max)
{
    long long lo = (long long)min, hi = (long long)max;

    if (min == INT64_MIN && max == INT64_MAX)
        snprintf(buf, size, "an integer");
    else if (max == INT64_MAX)
        snprintf(buf, size, "an integer of at least %lld", lo);
    else if (min == INT64_MIN)
        snprintf(buf, size, "an integer of at most %lld", hi);
    else if (min >= 0)
        snprintf(buf, size, "an integer %lld-%lld", lo, hi);
    else
        snprintf(buf, size, "an integer from %lld to %lld", lo, hi);
}

static const char *
config_unit_name(int64_t unit_ms)
{
    switch (unit_ms) {
    case 1:
        return "milliseconds";
    case 1000:
        return "seconds";
    case 60000:
        return "minutes";
    case 3600000:
        return "hours";
    default:
        return NULL;
    }
}

static void
config_want_duration(char *buf, size_t size, int64_t min_ms, int64_t max_ms,
    int64_t plain_unit_ms)
{
    char lo[32], hi[32], range[80], plain[64] = "";

    config_value_format_duration(min_ms, lo, sizeof(lo));
    config_value_format_duration(max_ms, hi, sizeof(hi));
    if (min_ms <= 0 && max_ms == INT64_MAX)
        snprintf(range, sizeof(range), "a duration");
    else if (max_ms == INT64_MAX)
        snprintf(range, sizeof(range), "a duration of at least %s", lo);
    else if (min_ms <= 0)
        snprintf(range, sizeof(range), "a duration of at most %s", hi);
    else
        snprintf(range, sizeof(range), "a duration of %s-%s", lo, hi);

    if (plain_unit_ms > 0) {
        const char *unit = config_unit_name(plain_unit_ms);

        if (unit != NULL)
            snprintf(plain, sizeof(plain), ", or an integer number of %s",
                unit);
        else
            snprintf(plain, sizeof(plain), ", or an integer count of %lldms",
                (long long)plain_unit_ms);
    }
    snprintf(buf, size, "%s such as \"30s\", \"250ms\" or \"5m\"%s", range,
        plain);
}

static void
config_want_addrport(char *buf, size_t size, int flags, uint16_t def_port)
{
    const char *example;

    switch (config_family(flags)) {
    case AF_INET:
        example = "\"198.51.100.7:500\"";
        break;
    case AF_INET6:
        example = "\"[2001:db8::1]:500\"";
        break;
    default:
        example = "\"198.51.100.7:500\" or \"[2001:db8::1]:500\"";
        break;
    }
    if (def_port != 0)
        snprintf(buf, size, "%s address with an optional port 1-65535, "
            "such as %s", config_family_name(flags), example);
    else
        snprintf(buf, size, "%s address and port 1-65535, such as %s",
            config_family_name(flags), example);
}

static void
config_want_prefix(char *buf, size_t size, int flags)
{
    switch (config_family(flags)) {
    case AF_INET:
        snprintf(buf, size, "an IPv4 CIDR prefix such as \"198.51.100.0/24\"");
        break;
    case AF_INET6:
        snprintf(buf, size, "an IPv6 CIDR prefix such as \"2001:db8::/32\"");
        break;
    default:
        snprintf(buf, size, "a CIDR prefix such as \"198.51.100.0/24\" or "
            "\"2001:db8::/32\"");
        break;
    }
}

static void
config_want_enum(char *buf, size_t size, const char *const *names)
{
    size_t len = (size_t)snprintf(buf, size, "one of:");

    for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
        int n = snprintf(buf + len, size - len, "%s %s", i > 0 ? "," : "",
            names[i]);

        if (n < 0 || (size_t)n >= size - len) {
            if (len + 5 <= size)
                snprintf(buf + len, size - len, ", ...");
            return;
        }
        len += (size_t)n;
    }
}

static void
config_want_array(char *buf, size_t size, size_t min_len, size_t max_len)
{
    if (min_len == 0 && max_len == 0)
        snprintf(buf, size, "an array");
    else if (max_len == 0)
        snprintf(buf, size, "an array of at least %zu element%s", min_len,
            min_len == 1 ? "" : "s");
    else if (min_len == 0)
        snprintf(buf, size, "an array of at most %zu element%s", max_len,
            max_len == 1 ? "" : "s");
    else if (min_len == max_len)
        snprintf(buf, size, "an array of %zu element%s", min_len,
            min_len == 1 ? "" : "s");
    else
        snprintf(buf, size, "an array of %zu-%zu elements", min_len, max_len);
}

/* The readers: check a present slot and store its value. */

static int
config_read_string(const struct config_slot *slot, int flags, size_t max_len,
    const char **out)
{
    char want[CONFIG_WANT_SIZE];
    size_t len;

    config_want_string(want, sizeof(want), flags, max_len);
    if (!json_is_string(slot->json))
        return config_invalid(slot, want);
    len = json_string_length(slot->json);
    if ((max_len != 0 && len > max_len) ||
        ((flags & CONFIG_NONEMPTY) && len == 0))
        return config_invalid(slot, want);
    *out = json_string_value(slot->json);
    return 0;
}

static int
config_read_bool(const struct config_slot *slot, bool *out)
{
    if (!json_is_boolean(slot->json))
        return config_invalid(slot, "true or false");
    *out = json_is_true(slot->json);
    return 0;
}

static int
config_read_int(const struct config_slot *slot, int64_t min, int64_t max,
    int64_t *out)
{
    char want[CONFIG_WANT_SIZE];
    int64_t v;

    config_want_int(want, sizeof(want), min, max);
    if (!json_is_integer(slot->json))
        return config_invalid(slot, want);
    v = (int64_t)json_integer_value(slot->json);
    if (v < min || v > max)
        return config_invalid(slot, want);
    *out = v;
    return 0;
}

static int
config_read_duration(const struct config_slot *slot, int64_t min_ms,
    int64_t max_ms, int64_t plain_unit_ms, int64_t *out_ms)
{
    char want[CONFIG_WANT_SIZE];
    int64_t ms;

    config_want_duration(want, sizeof(want), min_ms, max_ms, plain_unit_ms);
    if (json_is_integer(slot->json) && plain_unit_ms > 0) {
        int64_t n = (int64_t)json_integer_value(slot->json);

        if (n < 0 || n > INT64_MAX / plain_unit_ms)
            return config_invalid(slot, want);
        ms = n * plain_unit_ms;
    } else if (json_is_string(slot->json)) {
        if (config_value_parse_duration(json_string_value(slot->json),
                &ms) < 0)
            return config_invalid(slot, want);
    } else {
        return config_invalid(slot, want);
    }
    if (ms < min_ms || ms > max_ms)
        return config_invalid(slot, want);
    *out_ms = ms;
    return 0;
}

static int
config_read_addr(const struct config_slot *slot, int flags,
    struct sockaddr_storage *out)
{
    char want[CONFIG_WANT_SIZE];

    snprintf(want, sizeof(want), "%s address", config_family_name(flags));
    if (!json_is_string(slot->json) ||
        config_value_parse_addr(json_string_value(slot->json),
            config_family(flags), out) < 0)
        return config_invalid(slot, want);
    return 0;
}

static int
config_read_addrport(const struct config_slot *slot, int flags,
    uint16_t default_port, struct sockaddr_storage *out)
{
    char want[CONFIG_WANT_SIZE];

    config_want_addrport(want, sizeof(want), flags, default_port);
    if (!json_is_string(slot->json) ||
        config_value_parse_addrport(json_string_value(slot->json),
            config_family(flags), default_port, out) < 0)
        return config_invalid(slot, want);
    return 0;
}

static int
config_read_prefix(const struct config_slot *slot, int flags,
    struct config_prefix *out)
{
    char want[CONFIG_WANT_SIZE];
    struct config_prefix p;
    int rc;

    config_want_prefix(want, sizeof(want), flags);
    if (!json_is_string(slot->json))
        return config_invalid(slot, want);
    rc = config_value_parse_prefix(json_string_value(slot->json),
        config_family(flags), &p);
    if (rc == -EDOM) {
        char net[64], desc[64];

        config_value_format_prefix(&p, net, sizeof(net));
        config_slot_error(slot, "invalid value %s, expected the network "
            "address \"%s\" with host bits zero",
            config_describe_value(slot->json, desc, sizeof(desc)), net);
        return -EINVAL;
    }
    if (rc < 0)
        return config_invalid(slot, want);
    *out = p;
    return 0;
}

static int
config_read_enum(const struct config_slot *slot, const char *const *names,
    int *out)
{
    char want[CONFIG_WANT_SIZE];

    config_want_enum(want, sizeof(want), names);
    if (!json_is_string(slot->json) || names == NULL)
        return config_invalid(slot, want);
    for (int i = 0; names[i] != NULL; i++) {
        if (strcmp(json_string_value(slot->json), names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return config_invalid(slot, want);
}

/* Getters by key. */

struct config_obj *
config_get_object(struct config_obj *obj, const char *key, int flags)
{
    struct config_slot slot;
    enum config_slot_result r = config_slot_by_key(obj, key, flags, &slot);
    struct config_obj *h;

    h = config_handle_for_slot(&slot, r, JSON_OBJECT, "an object");
    if (h != NULL && h->state == CONFIG_STATE_PRESENT)
        h->open = (flags & CONFIG_OPEN) != 0;
    return h;
}

/* Checks an array's length; returns false after recording an error. */
static bool
config_check_array_len(const struct config_slot *slot, size_t min_len,
    size_t max_len)
{
    char want[CONFIG_WANT_SIZE];
    size_t n = json_array_size(slot->json);

    if (n >= min_len && (max_len == 0 || n <= max_len))
        return true;
    config_want_array(want, sizeof(want), min_len, max_len);
    config_slot_error(slot, "invalid length %zu, expected %s", n, want);
    return false;
}

struct config_arr *
config_get_array(struct config_obj *obj, const char *key, int flags,
    size_t min_len, size_t max_len)
{
    struct config_slot slot;
    enum config_slot_result r = config_slot_by_key(obj, key, flags, &slot);
    char want[CONFIG_WANT_SIZE];

    if (obj == NULL)
        return NULL;
    config_want_array(want, sizeof(want), min_len, max_len);
    if (r == CONFIG_SLOT_PRESENT && json_is_array(slot.json) &&
        !config_check_array_len(&slot, min_len, max_len))
        return &obj->cfg->failed_arr;
    return (struct config_arr *)config_handle_for_slot(&slot, r, JSON_ARRAY,
        want);
}

int
config_get_string(struct config_obj *obj, const char *key, int flags,
    const char *def, size_t max_len, const char **out)
{
    struct config_slot slot;
    enum config_slot_result r = config_slot_by_key(obj, key, flags, &slot);
    char want[CONFIG_WANT_SIZE];

    *out = def;
    if (r == CONFIG_SLOT_PRESENT)
        return config_read_string(&slot, flags, max_len, out);
    config_want_string(want, sizeof(want), flags, max_len);
    return config_slot_absent(&slot, r, want);
}

int
config_get_bool(struct config_obj *obj, const char *key, int flags, bool def,
    bool *out)
{
    struct config_slot slot;
    enum config_slot_result r = config_slot_by_key(obj, key, flags, &slot);

    *out = def;
    if (r == CONFIG_SLOT_PRESENT)
        return config_read_bool(&slot, out);
    return config_slot_absent(&slot, r, "true or false");
}

int
config_get_int(struct config_obj *obj, const char *key, int flags,
    int64_t def, int64_t min, int64_t max, int64_t *out)
{
    struct config_slot slot;
    enum config_slot_result r = config_slot_by_key(obj, key, flags, &slot);
    char want[CONFIG_WANT_SIZE];

    *out = def;
    if (r == CONFIG_SLOT_PRESENT)
        return config_read_int(&slot, min, max, out);
    config_want_int(want, sizeof(want), min, max);
    return config_slot_absent(&slot, r, want);
}

int
config_get_duration(struct config_obj *obj, const char *key, int flags,
    int64_t def_ms, int64_t min_ms, int64_t max_ms, int64_t plain_unit_ms,
    int64_t *out_ms)
{
    struct config_slot slot;
    enum config_slot_result r = config_slot_by_key(obj, key, flags, &slot);
    char want[CONFIG_WANT_SIZE];

    *out_ms = def_ms;
    if (r == CONFIG_SLOT_PRESENT)
        return config_read_duration(&slot, min_ms, max_ms, plain_unit_ms,
            out_ms);
    config_want_duration(want, sizeof(want), min_ms, max_ms, plain_unit_ms);
    return config_slot_absent(&slot, r, want);
}

int
config_get_addr(struct config_obj *obj, const char *key, int flags,
    const char *def, struct sockaddr_storage *out)
{
    struct config_slot slot;
    enum config_slot_result r = config_slot_by_key(obj, key, flags, &slot);
    char want[CONFIG_WANT_SIZE];

    memset(out, 0, sizeof(*out));
    if (def != NULL && config_value_parse_addr(def, config_family(flags),
                           out) < 0)
        config_bad_default(&slot, def);
    if (r == CONFIG_SLOT_PRESENT) {
        struct sockaddr_storage ss;
        int rc = config_read_addr(&slot, flags, &ss);

        if (rc == 0)
            *out = ss;
        return rc;
    }
    snprintf(want, sizeof(want), "%s address", config_family_name(flags));
    return config_slot_absent(&slot, r, want);
}

int
config_get_addrport(struct config_obj *obj, const char *key, int flags,
    const char *def, uint16_t default_port, struct sockaddr_storage *out)
{
    struct config_slot slot;
    enum config_slot_result r = config_slot_by_key(obj, key, flags, &slot);
    char want[CONFIG_WANT_SIZE];

    memset(out, 0, sizeof(*out));
    if (def != NULL && config_value_parse_addrport(def, config_family(flags),
                           default_port, out) < 0)
        config_bad_default(&slot, def);
    if (r == CONFIG_SLOT_PRESENT) {
        struct sockaddr_storage ss;
        int rc = config_read_addrport(&slot, flags, default_port, &ss);

        if (rc == 0)
            *out = ss;
        return rc;
    }
    config_want_addrport(want, sizeof(want), flags, default_port);
    return config_slot_absent(&slot, r, want);
}

int
config_get_prefix(struct config_obj *obj, const char *key, int flags,
    const char *def, struct config_prefix *out)
{
    struct config_slot slot;
    enum config_slot_result r = config_slot_by_key(obj, key, flags, &slot);
    char want[CONFIG_WANT_SIZE];

    memset(out, 0, sizeof(*out));
    if (def != NULL && config_value_parse_prefix(def, config_family(flags),
                           out) < 0)
        config_bad_default(&slot, def);
    if (r == CONFIG_SLOT_PRESENT)
        return config_read_prefix(&slot, flags, out);
    config_want_prefix(want, sizeof(want), flags);
    return config_slot_absent(&slot, r, want);
}

int
config_get_enum(struct config_obj *obj, const char *key, int flags, int def,
    const char *const *names, int *out)
{
    struct config_slot slot;
    enum config_slot_result r = config_slot_by_key(obj, key, flags, &slot);
    char want[CONFIG_WANT_SIZE];

    *out = def;
    if (r == CONFIG_SLOT_PRESENT)
        return config_read_enum(&slot, names, out);
    config_want_enum(want, sizeof(want), names);
    return config_slot_absent(&slot, r, want);
}

/* Getters by index. */

size_t
config_arr_len(const struct config_arr *arr)
{
    if (arr == NULL || arr->h.state != CONFIG_STATE_PRESENT)
        return 0;
    return json_array_size(arr->h.json);
}

struct config_obj *
config_arr_get_object(struct config_arr *arr, size_t i, int flags)
{
    struct config_slot slot;
    enum config_slot_result r = config_slot_by_index(arr, i, &slot);
    struct config_obj *h;

    h = config_handle_for_slot(&slot, r, JSON_OBJECT, "an object");
    if (h != NULL && h->state == CONFIG_STATE_PRESENT)
        h->open = (flags & CONFIG_OPEN) != 0;
    return h;
}

struct config_arr *
config_arr_get_array(struct config_arr *arr, size_t i, size_t min_len,
    size_t max_len)
{
    struct config_slot slot;
    enum config_slot_result r = config_slot_by_index(arr, i, &slot);
    char want[CONFIG_WANT_SIZE];

    if (arr == NULL)
        return NULL;
    config_want_array(want, sizeof(want), min_len, max_len);
    if (r == CONFIG_SLOT_PRESENT && json_is_array(slot.json) &&
        !config_check_array_len(&slot, min_len, max_len))
        return &arr->h.cfg->failed_arr;
    return (struct config_arr *)config_handle_for_slot(&slot, r, JSON_ARRAY,
        want);
}

int
config_arr_get_string(struct config_arr *arr, size_t i, int flags,
    size_t max_len, const char **out)
{
    struct config_slot slot;

    if (config_slot_by_index(arr, i, &slot) != CONFIG_SLOT_PRESENT)
        return -EINVAL;
    return config_read_string(&slot, flags, max_len, out);
}

int
config_arr_get_bool(struct config_arr *arr, size_t i, bool *out)
{
    struct config_slot slot;

    if (config_slot_by_index(arr, i, &slot) != CONFIG_SLOT_PRESENT)
        return -EINVAL;
    return config_read_bool(&slot, out);
}

int
config_arr_get_int(struct config_arr *arr, size_t i, int64_t min, int64_t max,
    int64_t *out)
{
    struct config_slot slot;

    if (config_slot_by_index(arr, i, &slot) != CONFIG_SLOT_PRESENT)
        return -EINVAL;
    return config_read_int(&slot, min, max, out);
}

int
config_arr_get_duration(struct config_arr *arr, size_t i, int64_t min_ms,
    int64_t max_ms, int64_t plain_unit_ms, int64_t *out_ms)
{
    struct config_slot slot;

    if (config_slot_by_index(arr, i, &slot) != CONFIG_SLOT_PRESENT)
        return -EINVAL;
    return config_read_duration(&slot, min_ms, max_ms, plain_unit_ms, out_ms);
}

int
config_arr_get_addr(struct config_arr *arr, size_t i, int flags,
    struct sockaddr_storage *out)
{
    struct config_slot slot;
    struct sockaddr_storage ss;
    int rc;

    if (config_slot_by_index(arr, i, &slot) != CONFIG_SLOT_PRESENT)
        return -EINVAL;
    if ((rc = config_read_addr(&slot, flags, &ss)) == 0)
        *out = ss;
    return rc;
}

int
config_arr_get_addrport(struct config_arr *arr, size_t i, int flags,
    uint16_t default_port, struct sockaddr_storage *out)
{
    struct config_slot slot;
    struct sockaddr_storage ss;
    int rc;

    if (config_slot_by_index(arr, i, &slot) != CONFIG_SLOT_PRESENT)
        return -EINVAL;
    if ((rc = config_read_addrport(&slot, flags, default_port, &ss)) == 0)
        *out = ss;
    return rc;
}

int
config_arr_get_prefix(struct config_arr *arr, size_t i, int flags,
    struct config_prefix *out)
{
    struct config_slot slot;

    if (config_slot_by_index(arr, i, &slot) != CONFIG_SLOT_PRESENT)
        return -EINVAL;
    return config_read_prefix(&slot, flags, out);
}

int
config_arr_get_enum(struct config_arr *arr, size_t i,
    const char *const *names, int *out)
{
    struct config_slot slot;

    if (config_slot_by_index(arr, i, &slot) != CONFIG_SLOT_PRESENT)
        return -EINVAL;
    return config_read_enum(&slot, names, out);
}
