/*
 * Tests for configuration loading: the position index (jsonpos), the value
 * parsers (config_value) and the typed API with its error texts (config).
 * Expected positions in the bad-configuration table were worked out from
 * the text by hand, not taken from the loader's output.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt/config.h"
#include "rt/jsonpos.h"

/* A sample schema, close to what the agent reads. */
struct agent_cfg {
    const char *name;
    bool enabled;
    int64_t weight;
    int64_t interval_ms;
    int log_level;
    size_t n_listen;
    struct sockaddr_storage listen[4];
    bool nat[4];
    bool has_controller;
    struct sockaddr_storage redis;
    int64_t timeout_ms;
    size_t n_allow;
    struct config_prefix allow[4];
    size_t n_peers;
    struct sockaddr_storage peers[4];
};

static const char *const agent_levels[] = {
    "error", "warn", "notice", "info", "debug", NULL,
};

/* Reads the sample schema from cfg and returns config_finish(). */
static size_t
read_agent(struct config *cfg, struct agent_cfg *a)
{
    struct config_obj *root = config_root(cfg, 0);

    memset(a, 0, sizeof(*a));
    config_get_string(root, "name", CONFIG_REQUIRED | CONFIG_NONEMPTY, NULL,
        16, &a->name);
    config_get_bool(root, "enabled", CONFIG_OPTIONAL, true, &a->enabled);
    config_get_int(root, "weight", CONFIG_OPTIONAL, 10, 1, 100, &a->weight);
    config_get_duration(root, "interval", CONFIG_OPTIONAL, 1000, 100,
        3600000, 1000, &a->interval_ms);
    config_get_enum(root, "log_level", CONFIG_OPTIONAL, 3, agent_levels,
        &a->log_level);

    struct config_arr *listen = config_get_array(root, "listen",
        CONFIG_REQUIRED, 1, 4);
    a->n_listen = config_arr_len(listen);
    for (size_t i = 0; i < a->n_listen; i++) {
        struct config_obj *l = config_arr_get_object(listen, i, 0);

        config_get_addrport(l, "address", CONFIG_REQUIRED, NULL, 500,
            &a->listen[i]);
        config_get_bool(l, "nat", CONFIG_OPTIONAL, false, &a->nat[i]);
    }

    struct config_obj *ctl = config_get_object(root, "controller",
        CONFIG_OPTIONAL);
    a->has_controller = config_obj_is_present(ctl);
    config_get_addrport(ctl, "redis", CONFIG_REQUIRED, "127.0.0.1:6379",
        6379, &a->redis);
    config_get_duration(ctl, "timeout", CONFIG_OPTIONAL, 5000, 1, 60000, 0,
        &a->timeout_ms);

    struct config_arr *allow = config_get_array(root, "allow",
        CONFIG_OPTIONAL, 0, 4);
    a->n_allow = config_arr_len(allow);
    for (size_t i = 0; i < a->n_allow; i++)
        config_arr_get_prefix(allow, i, 0, &a->allow[i]);

    struct config_arr *peers = config_get_array(root, "peers",
        CONFIG_OPTIONAL, 0, 4);
    a->n_peers = config_arr_len(peers);
    for (size_t i = 0; i < a->n_peers; i++)
        config_arr_get_addr(peers, i, CONFIG_IPV4, &a->peers[i]);

    return config_finish(cfg);
}

static struct config *
load_text(const char *text)
{
    struct config *cfg = config_load_buffer("agent.json", text, strlen(text),
        NULL);

    cr_assert_not_null(cfg);
    return cfg;
}

/* Returns error i formatted, in a static buffer. */
static const char *
error_text(const struct config *cfg, size_t i)
{
    static char buf[1024];

    cr_assert_geq(config_format_error(cfg, i, buf, sizeof(buf)), 0,
        "no error %zu", i);
    return buf;
}

static void
assert_addr(const struct sockaddr_storage *ss, const char *want)
{
    char text[80];

    cr_assert_str_eq(config_value_format_addr(ss, 1, text, sizeof(text)),
        want);
}

/*
 * Criterion runs each parameterized case in a new process image, so the
 * case structs hold arrays, not pointers into this one.
 */
struct bad_case {
    char name[40];
    char text[512];
    char want[384];
};

ParameterizedTestParameters(config, reports_bad_configuration)
{
    static struct bad_case cases[] = {
    {
        "syntax_error",
        "{\n  \"name\": \"gw1\",\n  \"listen\": [{\"address\": "
        "\"198.51.100.7\"}],\n}",
        "agent.json:4:1: invalid JSON: string or '}' expected near '}'",
    },
    {
        "wrong_type",
        "{\"name\": 5, \"listen\": [{\"address\": \"198.51.100.7\"}]}",
        "agent.json:1:10: name: invalid value 5, expected a non-empty string "
        "of at most 16 bytes",
    },
    {
        "out_of_range",
        "{\"name\": \"gw1\", \"weight\": 0, \"listen\": [{\"address\": "
        "\"198.51.100.7\"}]}",
        "agent.json:1:27: weight: invalid value 0, expected an integer 1-100",
    },
    {
        "real_for_integer",
        "{\"name\": \"gw1\", \"weight\": 1.0, \"listen\": [{\"address\": "
        "\"198.51.100.7\"}]}",
        "agent.json:1:27: weight: invalid value 1.0, expected an integer 1-100",
    },
    {
        "unknown_key",
        "{\n  \"name\": \"gw1\",\n  \"lisen\": [],\n  \"listen\": "
        "[{\"address\": \"198.51.100.7\"}]\n}",
        "agent.json:3:3: lisen: unknown key, expected one of: name, enabled, "
        "weight, interval, log_level, listen, controller, allow, peers",
    },
    {
        "unknown_nested_key",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}],\n "
        "\"controller\": {\"redis\": \"198.51.100.9\",\n                "
        "\"timout\": \"1s\"}}",
        "agent.json:3:17: controller.timout: unknown key, expected one of: "
        "redis, timeout",
    },
    {
        "missing_required",
        "{\"listen\": [{\"address\": \"198.51.100.7\"}]}",
        "agent.json:1:1: name: missing required key, expected a non-empty "
        "string of at most 16 bytes",
    },
    {
        "missing_required_nested",
        "{\"name\": \"gw1\", \"listen\": [\n  {\"address\": "
        "\"198.51.100.7\"},\n  {\"nat\": true}\n]}",
        "agent.json:3:3: listen[1].address: missing required key, expected an "
        "IPv4 or IPv6 address with an optional port 1-65535, such as "
        "\"198.51.100.7:500\" or \"[2001:db8::1]:500\"",
    },
    {
        "port_out_of_range",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": "
        "\"198.51.100.7:70000\"}]}",
        "agent.json:1:40: listen[0].address: invalid value "
        "\"198.51.100.7:70000\", expected an IPv4 or IPv6 address with an "
        "optional port 1-65535, such as \"198.51.100.7:500\" or "
        "\"[2001:db8::1]:500\"",
    },
    {
        "bad_ipv4_address",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}], "
        "\"peers\": [\"198.51.100.8\", \"198.51.100.256\"]}",
        "agent.json:1:84: peers[1]: invalid value \"198.51.100.256\", "
        "expected an IPv4 address",
    },
    {
        "address_of_wrong_family",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}], "
        "\"peers\": [\"2001:db8::1\"]}",
        "agent.json:1:68: peers[0]: invalid value \"2001:db8::1\", expected "
        "an IPv4 address",
    },
    {
        "bad_duration_text",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}], "
        "\"interval\": \"30 s\"}",
        "agent.json:1:70: interval: invalid value \"30 s\", expected a "
        "duration of 100ms-1h such as \"30s\", \"250ms\" or \"5m\", or an "
        "integer number of seconds",
    },
    {
        "bad_duration_unit",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}], "
        "\"interval\": \"5x\"}",
        "agent.json:1:70: interval: invalid value \"5x\", expected a duration "
        "of 100ms-1h such as \"30s\", \"250ms\" or \"5m\", or an integer "
        "number of seconds",
    },
    {
        "duration_out_of_range",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}], "
        "\"interval\": 7200}",
        "agent.json:1:70: interval: invalid value 7200, expected a duration "
        "of 100ms-1h such as \"30s\", \"250ms\" or \"5m\", or an integer "
        "number of seconds",
    },
    {
        "duration_below_minimum",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}], "
        "\"interval\": \"50ms\"}",
        "agent.json:1:70: interval: invalid value \"50ms\", expected a "
        "duration of 100ms-1h such as \"30s\", \"250ms\" or \"5m\", or an "
        "integer number of seconds",
    },
    {
        "duplicate_key",
        "{\"name\": \"gw1\",\n \"name\": \"gw2\", \"listen\": [{\"address\": "
        "\"198.51.100.7\"}]}",
        "agent.json:2:2: name: duplicate key, expected each key once per "
        "object",
    },
    {
        "duplicate_nested_key",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\",\n  "
        "\"nat\": true, \"nat\": false}]}",
        "agent.json:2:16: listen[0].nat: duplicate key, expected each key "
        "once per object",
    },
    {
        "too_deep",
        "{\"name\": \"gw1\", \"a\": [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}",
        "agent.json:1:37: a[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: "
        "nesting too deep, expected at most 16 levels of objects and arrays",
    },
    {
        "empty_file",
        "",
        "agent.json:1:1: empty file, expected a JSON object",
    },
    {
        "blank_file",
        " \n\t\r\n",
        "agent.json:1:1: empty file, expected a JSON object",
    },
    {
        "latin1_byte",
        "{\"name\": \"caf\xe9\", \"listen\": []}",
        "agent.json:1:14: name: invalid UTF-8 byte 0xe9, expected UTF-8 text",
    },
    {
        "bad_byte_in_key",
        "{\"name\": \"gw1\",\n \"k\xc3\xa9y\xff\": 1}",
        "agent.json:2:6: [\"k\\xc3\\xa9y\"]: invalid UTF-8 byte 0xff, "
        "expected UTF-8 text",
    },
    {
        "array_at_top_level",
        "[{\"name\": \"gw1\"}]",
        "agent.json:1:1: invalid value [...], expected a JSON object",
    },
    {
        "string_at_top_level",
        "\"agent\"",
        "agent.json:1:7: invalid JSON: '[' or '{' expected near '\"agent\"'",
    },
    {
        "bad_enum",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}], "
        "\"log_level\": \"verbose\"}",
        "agent.json:1:71: log_level: invalid value \"verbose\", expected one "
        "of: error, warn, notice, info, debug",
    },
    {
        "prefix_with_host_bits",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}], "
        "\"allow\": [\"203.0.113.0/24\", \"198.51.100.7/24\"]}",
        "agent.json:1:86: allow[1]: invalid value \"198.51.100.7/24\", "
        "expected the network address \"198.51.100.0/24\" with host bits zero",
    },
    {
        "prefix_too_long",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}], "
        "\"allow\": [\"198.51.100.0/33\"]}",
        "agent.json:1:68: allow[0]: invalid value \"198.51.100.0/33\", "
        "expected a CIDR prefix such as \"198.51.100.0/24\" or "
        "\"2001:db8::/32\"",
    },
    {
        "array_too_long",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.1\"}, "
        "{\"address\": \"198.51.100.2\"}, {\"address\": \"198.51.100.3\"}, "
        "{\"address\": \"198.51.100.4\"}, {\"address\": \"198.51.100.5\"}]}",
        "agent.json:1:27: listen: invalid length 5, expected an array of 1-4 "
        "elements",
    },
    {
        "array_empty",
        "{\"name\": \"gw1\", \"listen\": []}",
        "agent.json:1:27: listen: invalid length 0, expected an array of 1-4 "
        "elements",
    },
    {
        "string_for_bool",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}], "
        "\"enabled\": \"yes\"}",
        "agent.json:1:69: enabled: invalid value \"yes\", expected true or "
        "false",
    },
    {
        "string_too_long",
        "{\"name\": \"gateway-number-0001\", \"listen\": [{\"address\": "
        "\"198.51.100.7\"}]}",
        "agent.json:1:10: name: invalid value \"gateway-number-0001\", "
        "expected a non-empty string of at most 16 bytes",
    },
    {
        "string_empty",
        "{\"name\": \"\", \"listen\": [{\"address\": \"198.51.100.7\"}]}",
        "agent.json:1:10: name: invalid value \"\", expected a non-empty "
        "string of at most 16 bytes",
    },
    {
        "array_for_object",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}], "
        "\"controller\": []}",
        "agent.json:1:72: controller: invalid value [], expected an object",
    },
    {
        "integer_beyond_jansson",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}], "
        "\"weight\": 99999999999999999999}",
        "agent.json:1:87: weight: invalid JSON: too big integer near "
        "'99999999999999999999'",
    },
    {
        "missing_key_in_present_object",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}], "
        "\"controller\": {\"timeout\": \"1s\"}}",
        "agent.json:1:72: controller.redis: missing required key, expected an "
        "IPv4 or IPv6 address with an optional port 1-65535, such as "
        "\"198.51.100.7:500\" or \"[2001:db8::1]:500\"",
    },
    {
        "plain_integer_not_allowed",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}], "
        "\"controller\": {\"redis\": \"198.51.100.9\", \"timeout\": 30}}",
        "agent.json:1:109: controller.timeout: invalid value 30, expected a "
        "duration of 1ms-1m such as \"30s\", \"250ms\" or \"5m\"",
    },
    {
        "value_after_escapes",
        "{\"name\": \"g\\u00e9 \\\"q\\\" \\\\ \\n\",\n \"controller\": "
        "{\"redis\": \"198.51.100.9\", \"timeout\": \"1s\"},\n \"peers\": "
        "[\"\xc3\xa9\xc3\xa9\", \"198.51.100.1\"], \"listen\": [{\"address\": "
        "\"198.51.100.7\"}]}",
        "agent.json:3:12: peers[0]: invalid value \"\\xc3\\xa9\\xc3\\xa9\", "
        "expected an IPv4 address",
    },
    {
        "column_counts_characters",
        "{\"name\": \"a\\tb\\u0041\", \"listen\": [{\"address\": "
        "\"198.51.100.7\"},\n  {\"address\": \"\xc3\xa9 \\\" x\", \"nat\": "
        "true}]}",
        "agent.json:2:15: listen[1].address: invalid value \"\\xc3\\xa9 \\\" "
        "x\", expected an IPv4 or IPv6 address with an optional port 1-65535, "
        "such as \"198.51.100.7:500\" or \"[2001:db8::1]:500\"",
    },
    {
        "array_for_bool_in_array",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\",\n  "
        "\"nat\": [true]}]}",
        "agent.json:2:10: listen[0].nat: invalid value [...], expected true "
        "or false",
    },
    {
        "unknown_key_needing_quotes",
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}], "
        "\"weird key\": 1}",
        "agent.json:1:58: [\"weird key\"]: unknown key, expected one of: "
        "name, enabled, weight, interval, log_level, listen, controller, "
        "allow, peers",
    },
    };

    return cr_make_param_array(struct bad_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

TestSuite(config);

ParameterizedTest(struct bad_case *c, config, reports_bad_configuration)
{
    struct config *cfg = load_text(c->text);
    struct agent_cfg a;

    cr_assert_eq(read_agent(cfg, &a), 1, "case %s: %zu errors, first: %s",
        c->name, config_error_count(cfg), error_text(cfg, 0));
    const char *got = error_text(cfg, 0);
    cr_assert_str_eq(got, c->want, "case %s\n got: %s\nwant: %s", c->name,
        got, c->want);
    config_free(cfg);
}

Test(config, reads_typed_values)
{
    struct config *cfg = load_text(
        "{\n"
        "  \"name\": \"gw-1\",\n"
        "  \"enabled\": false,\n"
        "  \"weight\": 100,\n"
        "  \"interval\": \"1m30s\",\n"
        "  \"log_level\": \"debug\",\n"
        "  \"listen\": [\n"
        "    {\"address\": \"198.51.100.7:4500\", \"nat\": true},\n"
        "    {\"address\": \"[2001:db8::1]:500\"},\n"
        "    {\"address\": \"2001:db8::2\"}\n"
        "  ],\n"
        "  \"controller\": {\"redis\": \"203.0.113.5\",\n"
        "                 \"timeout\": \"250ms\"},\n"
        "  \"allow\": [\"198.51.100.0/24\", \"2001:db8::/32\"],\n"
        "  \"peers\": [\"198.51.100.20\"]\n"
        "}\n");
    struct agent_cfg a;
    char text[64];

    cr_assert_eq(read_agent(cfg, &a), 0, "first error: %s",
        error_text(cfg, 0));
    cr_assert_str_eq(a.name, "gw-1");
    cr_assert(!a.enabled);
    cr_assert_eq(a.weight, 100);
    cr_assert_eq(a.interval_ms, 90000);
    cr_assert_eq(a.log_level, 4);
    cr_assert_eq(a.n_listen, 3);
    assert_addr(&a.listen[0], "198.51.100.7:4500");
    assert_addr(&a.listen[1], "[2001:db8::1]:500");
    assert_addr(&a.listen[2], "[2001:db8::2]:500");
    cr_assert(a.nat[0]);
    cr_assert(!a.nat[1]);
    cr_assert(a.has_controller);
    assert_addr(&a.redis, "203.0.113.5:6379");
    cr_assert_eq(a.timeout_ms, 250);
    cr_assert_eq(a.n_allow, 2);
    cr_assert_str_eq(config_value_format_prefix(&a.allow[0], text,
        sizeof(text)), "198.51.100.0/24");
    cr_assert_str_eq(config_value_format_prefix(&a.allow[1], text,
        sizeof(text)), "2001:db8::/32");
    cr_assert_eq(a.n_peers, 1);
    assert_addr(&a.peers[0], "198.51.100.20:0");
    config_free(cfg);
}

Test(config, applies_defaults_for_absent_keys)
{
    struct config *cfg = load_text(
        "{\"name\": \"gw1\", \"listen\": [{\"address\": \"198.51.100.7\"}]}");
    struct agent_cfg a;

    cr_assert_eq(read_agent(cfg, &a), 0);
    cr_assert(a.enabled);
    cr_assert_eq(a.weight, 10);
    cr_assert_eq(a.interval_ms, 1000);
    cr_assert_eq(a.log_level, 3);
    assert_addr(&a.listen[0], "198.51.100.7:500");
    cr_assert(!a.has_controller);
    assert_addr(&a.redis, "127.0.0.1:6379");
    cr_assert_eq(a.timeout_ms, 5000);
    cr_assert_eq(a.n_allow, 0);
    cr_assert_eq(a.n_peers, 0);
    config_free(cfg);
}

Test(config, returns_absent_for_default)
{
    struct config *cfg = load_text("{\"a\": 1}");
    struct config_obj *root = config_root(cfg, CONFIG_OPEN);
    const char *s = "unset";
    int64_t n = 0;

    cr_assert_eq(config_get_int(root, "a", 0, 7, 0, 9, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(config_get_int(root, "b", 0, 7, 0, 9, &n), CONFIG_ABSENT);
    cr_assert_eq(n, 7);
    cr_assert_eq(config_get_string(root, "c", 0, NULL, 0, &s),
        CONFIG_ABSENT);
    cr_assert_null(s);
    cr_assert_eq(config_finish(cfg), 0);
    config_free(cfg);
}

Test(config, stores_default_for_invalid_value)
{
    struct config *cfg = load_text("{\"a\": \"x\", \"b\": \"x\"}");
    struct config_obj *root = config_root(cfg, 0);
    struct sockaddr_storage ss;
    int64_t n = 0;

    cr_assert_eq(config_get_int(root, "a", 0, 7, 0, 9, &n), -EINVAL);
    cr_assert_eq(n, 7);
    cr_assert_eq(config_get_addrport(root, "b", 0, "198.51.100.1:500", 0,
        &ss), -EINVAL);
    assert_addr(&ss, "198.51.100.1:500");
    cr_assert_eq(config_finish(cfg), 2);
    config_free(cfg);
}

Test(config, absent_object_waives_required_keys)
{
    struct config *cfg = load_text("{}");
    struct config_obj *root = config_root(cfg, 0);
    struct config_obj *ctl = config_get_object(root, "controller", 0);
    struct config_obj *inner = config_get_object(ctl, "tls", 0);
    int64_t n = 0;

    cr_assert(!config_obj_is_present(ctl));
    cr_assert_eq(config_get_int(inner, "port", CONFIG_REQUIRED, 443, 1,
        65535, &n), CONFIG_ABSENT);
    cr_assert_eq(n, 443);
    cr_assert_eq(config_finish(cfg), 0);
    config_free(cfg);
}

Test(config, collects_errors_in_file_order)
{
    struct config *cfg = load_text(
        "{\n"
        "  \"listen\": [{\"address\": \"x\"}],\n"
        "  \"weight\": 500,\n"
        "  \"typo\": 1\n"
        "}");
    struct agent_cfg a;

    cr_assert_eq(read_agent(cfg, &a), 4);
    cr_assert_str_eq(error_text(cfg, 0), "agent.json:1:1: name: missing "
        "required key, expected a non-empty string of at most 16 bytes");
    cr_assert_str_eq(error_text(cfg, 1), "agent.json:2:26: "
        "listen[0].address: invalid value \"x\", expected an IPv4 or IPv6 "
        "address with an optional port 1-65535, such as \"198.51.100.7:500\""
        " or \"[2001:db8::1]:500\"");
    cr_assert_str_eq(error_text(cfg, 2), "agent.json:3:13: weight: invalid "
        "value 500, expected an integer 1-100");
    cr_assert_str_eq(error_text(cfg, 3), "agent.json:4:3: typo: unknown "
        "key, expected one of: name, enabled, weight, interval, log_level, "
        "listen, controller, allow, peers");
    config_free(cfg);
}

Test(config, keeps_errors_up_to_limit)
{
    struct config_limits limits = { .max_errors = 2 };
    const char *text = "{\"a\": 1, \"b\": 2, \"c\": 3, \"d\": 4, \"e\": 5}";
    struct config *cfg = config_load_buffer("x.json", text, strlen(text),
        &limits);
    char *out = NULL;
    size_t out_len = 0;
    FILE *fp;

    config_root(cfg, 0);
    cr_assert_eq(config_finish(cfg), 5);
    cr_assert_not_null(config_get_error(cfg, 1));
    cr_assert_null(config_get_error(cfg, 2));
    cr_assert_eq(config_format_error(cfg, 2, NULL, 0), -EINVAL);

    fp = open_memstream(&out, &out_len);
    cr_assert_not_null(fp);
    config_print_errors(cfg, fp);
    fclose(fp);
    cr_assert_str_eq(out,
        "x.json:1:2: a: unknown key, expected no keys in this object\n"
        "x.json:1:10: b: unknown key, expected no keys in this object\n"
        "x.json: 3 more errors not shown\n");
    free(out);
    config_free(cfg);
}

Test(config, open_object_lists_keys_in_order)
{
    struct config *cfg = load_text(
        "{\"gateways\": {\"gw2\": {\"weight\": 2}, \"gw1\": {\"weight\": 1},\n"
        "              \"gw3\": {\"weight\": 3, \"wieght\": 4}}}");
    struct config_obj *root = config_root(cfg, 0);
    struct config_obj *map = config_get_object(root, "gateways",
        CONFIG_OPEN);
    const char *want[] = { "gw2", "gw1", "gw3" };
    int64_t w;

    cr_assert_eq(config_obj_key_count(map), 3);
    for (size_t i = 0; i < 3; i++) {
        const char *key = config_obj_key_at(map, i);
        struct config_obj *gw = config_get_object(map, key, CONFIG_REQUIRED);

        cr_assert_str_eq(key, want[i]);
        cr_assert_eq(config_get_int(gw, "weight", CONFIG_REQUIRED, 0, 0, 9,
            &w), 0);
        cr_assert_eq(w, (int64_t)(want[i][2] - '0'));
    }
    cr_assert_null(config_obj_key_at(map, 3));
    cr_assert_eq(config_finish(cfg), 1);
    cr_assert_str_eq(error_text(cfg, 0), "agent.json:2:36: gateways.gw3."
        "wieght: unknown key, expected one of: weight");
    config_free(cfg);
}

Test(config, open_root_allows_unknown_keys)
{
    struct config *cfg = load_text("{\"known\": 1, \"other\": {\"x\": 1}}");
    int64_t n;

    config_get_int(config_root(cfg, CONFIG_OPEN), "known", 0, 0, 0, 9, &n);
    cr_assert_eq(config_finish(cfg), 0);
    config_free(cfg);
}

Test(config, tested_key_still_counts_as_unknown)
{
    struct config *cfg = load_text("{\"legacy\": 1}");
    struct config_obj *root = config_root(cfg, 0);

    cr_assert(config_obj_has_key(root, "legacy"));
    cr_assert(!config_obj_has_key(root, "other"));
    cr_assert_eq(config_finish(cfg), 1);
    config_free(cfg);
}

Test(config, daemon_error_points_at_value)
{
    struct config *cfg = load_text(
        "{\"listen\": [\"198.51.100.7:500\",\n"
        "            \"198.51.100.7:500\"],\n"
        " \"controller\": {\"redis\": \"198.51.100.7:500\"}}");
    struct config_obj *root = config_root(cfg, 0);
    struct config_arr *listen = config_get_array(root, "listen", 0, 0, 0);
    struct config_obj *ctl = config_get_object(root, "controller", 0);
    struct sockaddr_storage ss;

    config_get_addrport(ctl, "redis", 0, NULL, 0, &ss);
    config_arr_error(listen, 1, "duplicate listen address");
    config_obj_error(ctl, "redis", "must differ from listen[0]");
    config_obj_error(ctl, "tls", "required with a remote redis");
    config_obj_error(ctl, NULL, "whole object");
    cr_assert_eq(config_finish(cfg), 4);
    cr_assert_str_eq(error_text(cfg, 0),
        "agent.json:2:13: listen[1]: duplicate listen address");
    cr_assert_str_eq(error_text(cfg, 1),
        "agent.json:3:16: controller.tls: required with a remote redis");
    cr_assert_str_eq(error_text(cfg, 2),
        "agent.json:3:16: controller: whole object");
    cr_assert_str_eq(error_text(cfg, 3),
        "agent.json:3:26: controller.redis: must differ from listen[0]");
    config_free(cfg);
}

Test(config, reads_arrays_of_each_type)
{
    struct config *cfg = load_text(
        "{\"s\": [\"a\", \"\"], \"b\": [true], \"i\": [-3], "
        "\"d\": [\"2s\", 3], \"e\": [\"warn\"], \"m\": [[1, 2], [3]]}");
    struct config_obj *root = config_root(cfg, 0);
    struct config_arr *s = config_get_array(root, "s", 0, 0, 0);
    struct config_arr *m = config_get_array(root, "m", 0, 2, 2);
    const char *str = NULL;
    int64_t n = 0;
    bool b = false;
    int e = -1;

    cr_assert_eq(config_arr_get_string(s, 0, CONFIG_NONEMPTY, 4, &str), 0);
    cr_assert_str_eq(str, "a");
    cr_assert_eq(config_arr_get_string(s, 1, CONFIG_NONEMPTY, 4, &str),
        -EINVAL);
    cr_assert_str_eq(str, "a", "a failed element leaves *out alone");
    cr_assert_eq(config_arr_get_bool(config_get_array(root, "b", 0, 1, 1), 0,
        &b), 0);
    cr_assert(b);
    cr_assert_eq(config_arr_get_int(config_get_array(root, "i", 0, 0, 0), 0,
        -5, 5, &n), 0);
    cr_assert_eq(n, -3);

    struct config_arr *d = config_get_array(root, "d", 0, 0, 0);
    cr_assert_eq(config_arr_get_duration(d, 0, 0, INT64_MAX, 1000, &n), 0);
    cr_assert_eq(n, 2000);
    cr_assert_eq(config_arr_get_duration(d, 1, 0, INT64_MAX, 1000, &n), 0);
    cr_assert_eq(n, 3000);
    cr_assert_eq(config_arr_get_enum(config_get_array(root, "e", 0, 0, 0), 0,
        agent_levels, &e), 0);
    cr_assert_eq(e, 1);

    cr_assert_eq(config_arr_len(m), 2);
    struct config_arr *row = config_arr_get_array(m, 1, 1, 1);
    cr_assert_eq(config_arr_get_int(row, 0, 0, 9, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_eq(config_arr_get_int(row, 1, 0, 9, &n), -EINVAL,
        "index beyond the end");

    cr_assert_eq(config_finish(cfg), 1);
    cr_assert_str_eq(error_text(cfg, 0), "agent.json:1:13: s[1]: invalid "
        "value \"\", expected a non-empty string of at most 4 bytes");
    config_free(cfg);
}

Test(config, rejects_nul_byte)
{
    const char text[] = "{\"name\": \"a\0b\"}";
    struct config *cfg = config_load_buffer("agent.json", text,
        sizeof(text) - 1, NULL);

    config_root(cfg, 0);
    cr_assert_eq(config_finish(cfg), 1);
    cr_assert_str_eq(error_text(cfg, 0), "agent.json:1:12: name: invalid "
        "byte 0x00, expected UTF-8 text without NUL bytes");
    config_free(cfg);
}

Test(config, rejects_buffer_beyond_size_limit)
{
    size_t len = CONFIG_DEFAULT_MAX_SIZE + 1;
    char *text = malloc(len);
    struct config *cfg;

    cr_assert_not_null(text);
    memset(text, ' ', len);
    text[0] = '{';
    text[len - 1] = '}';
    cfg = config_load_buffer("agent.json", text, len, NULL);
    cr_assert_eq(config_error_count(cfg), 1);
    cr_assert_str_eq(error_text(cfg, 0), "agent.json: file too large: "
        "1048577 bytes, expected at most 1048576 bytes");
    config_free(cfg);

    /* One byte less is accepted. */
    text[len - 2] = '}';
    cfg = config_load_buffer("agent.json", text, len - 1, NULL);
    cr_assert_eq(config_error_count(cfg), 0, "%s", error_text(cfg, 0));
    config_free(cfg);
    free(text);
}

Test(config, applies_custom_depth_limit)
{
    struct config_limits limits = { .max_depth = 2 };
    const char *ok = "{\"a\": [1]}", *deep = "{\"a\": [{}]}";
    struct config *cfg = config_load_buffer("d.json", ok, strlen(ok),
        &limits);

    cr_assert_eq(config_error_count(cfg), 0);
    config_free(cfg);
    cfg = config_load_buffer("d.json", deep, strlen(deep), &limits);
    cr_assert_str_eq(error_text(cfg, 0), "d.json:1:8: a[0]: nesting too "
        "deep, expected at most 2 levels of objects and arrays");
    config_free(cfg);
}

Test(config, reports_depth_before_later_syntax_error)
{
    struct config_limits limits = { .max_depth = 2 };
    const char *text = "{\"a\": [[1]], \"b\": }";
    struct config *cfg = config_load_buffer("d.json", text, strlen(text),
        &limits);

    cr_assert_eq(config_error_count(cfg), 1);
    cr_assert_str_eq(error_text(cfg, 0), "d.json:1:8: a[0]: nesting too "
        "deep, expected at most 2 levels of objects and arrays");
    config_free(cfg);
}

Test(config, syntax_error_names_enclosing_value)
{
    struct config *cfg = load_text("{\"listen\": [{\"address\": tru}]}");

    cr_assert_eq(config_error_count(cfg), 1);
    cr_assert_str_eq(error_text(cfg, 0), "agent.json:1:27: "
        "listen[0].address: invalid JSON: invalid token near 'tru'");
    config_free(cfg);
}

/* Writes text to a new temporary file and returns its name. */
static char *
write_temp(const char *text, size_t len)
{
    static char name[64];
    int fd;

    snprintf(name, sizeof(name), "/tmp/test_config.XXXXXX");
    fd = mkstemp(name);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    return name;
}

Test(config, loads_file)
{
    const char *text = "{\"name\": \"gw1\",\n \"listen\": [{\"address\": 5}]}";
    char *path = write_temp(text, strlen(text));
    struct config *cfg = config_load_file(path, NULL);
    struct agent_cfg a;
    char want[256];

    cr_assert_eq(read_agent(cfg, &a), 1);
    snprintf(want, sizeof(want), "%s:2:25: listen[0].address: invalid value "
        "5, expected an IPv4 or IPv6 address with an optional port 1-65535, "
        "such as \"198.51.100.7:500\" or \"[2001:db8::1]:500\"", path);
    cr_assert_str_eq(error_text(cfg, 0), want);
    config_free(cfg);
    unlink(path);
}

Test(config, reports_missing_file)
{
    struct config *cfg = config_load_file("/nonexistent/agent.json", NULL);
    struct agent_cfg a;

    cr_assert_eq(read_agent(cfg, &a), 1, "the failed root adds no errors");
    cr_assert_str_eq(error_text(cfg, 0), "/nonexistent/agent.json: open "
        "failed: No such file or directory");
    cr_assert_null(a.name);
    config_free(cfg);
}

Test(config, reports_directory)
{
    struct config *cfg = config_load_file("/tmp", NULL);

    cr_assert_str_eq(error_text(cfg, 0), "/tmp: read failed: Is a directory");
    config_free(cfg);
}

Test(config, rejects_file_beyond_size_limit)
{
    struct config_limits limits = { .max_size = 16 };
    const char *text = "{\"name\": \"gateway-one\"}";
    char *path = write_temp(text, strlen(text));
    struct config *cfg = config_load_file(path, &limits);
    char want[128];

    snprintf(want, sizeof(want), "%s: file too large: 23 bytes, expected at "
        "most 16 bytes", path);
    cr_assert_str_eq(error_text(cfg, 0), want);
    config_free(cfg);
    unlink(path);
}

Test(config, rejects_pipe_beyond_size_limit)
{
    struct config_limits limits = { .max_size = 16 };
    int fds[2];
    char path[64];

    /* A pipe has no size to check up front, so the limit applies on read. */
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(write(fds[1], "{\"name\": \"gateway-one\"}", 23), 23);
    close(fds[1]);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
    struct config *cfg = config_load_file(path, &limits);
    char want[128];
    snprintf(want, sizeof(want), "%s: file too large: more than 16 bytes, "
        "expected at most 16 bytes", path);
    cr_assert_str_eq(error_text(cfg, 0), want);
    config_free(cfg);
    close(fds[0]);
}

Test(config, reports_invalid_default)
{
    struct config *cfg = load_text("{}");
    struct sockaddr_storage ss;

    config_get_addr(config_root(cfg, 0), "peer", 0, "not-an-address", &ss);
    cr_assert_eq(config_finish(cfg), 1);
    cr_assert_str_eq(error_text(cfg, 0), "agent.json:1:1: peer: internal "
        "error: invalid default \"not-an-address\"");
    cr_assert_eq(ss.ss_family, AF_UNSPEC);
    config_free(cfg);
}

Test(config, null_handles_are_ignored)
{
    int64_t n = 0;
    const char *s = "x";
    struct sockaddr_storage ss;

    cr_assert_null(config_root(NULL, 0));
    cr_assert_eq(config_get_int(NULL, "a", CONFIG_REQUIRED, 4, 0, 9, &n),
        -EINVAL);
    cr_assert_eq(n, 4);
    cr_assert_eq(config_get_string(NULL, "a", 0, NULL, 0, &s), -EINVAL);
    cr_assert_null(s);
    cr_assert_eq(config_get_addr(NULL, "a", 0, NULL, &ss), -EINVAL);
    cr_assert_null(config_get_object(NULL, "a", 0));
    cr_assert_null(config_get_array(NULL, "a", 0, 0, 0));
    cr_assert_eq(config_arr_len(NULL), 0);
    cr_assert_eq(config_finish(NULL), 0);
    config_obj_finish(NULL);
    config_free(NULL);
}

Test(config, returns_same_root_handle)
{
    struct config *cfg = load_text("[]");

    cr_assert_eq(config_root(cfg, 0), config_root(cfg, 0));
    cr_assert_eq(config_finish(cfg), 1, "the top-level error is kept once");
    config_free(cfg);
}

Test(config, failed_object_adds_no_errors)
{
    struct config *cfg = load_text("{\"controller\": 5}");
    struct config_obj *root = config_root(cfg, 0);
    struct config_obj *ctl = config_get_object(root, "controller", 0);
    int64_t n = 0;

    cr_assert(!config_obj_is_present(ctl));
    cr_assert_eq(config_get_int(ctl, "port", CONFIG_REQUIRED, 5, 0, 9, &n),
        -EINVAL);
    cr_assert_eq(n, 5);
    cr_assert_eq(config_finish(cfg), 1);
    cr_assert_str_eq(error_text(cfg, 0), "agent.json:1:16: controller: "
        "invalid value 5, expected an object");
    config_free(cfg);
}

Test(config, cuts_long_string_in_error)
{
    struct config *cfg = load_text(
        "{\"name\": \"0123456789012345678901234567890123456789abcdef\"}");

    const char *s;
    config_get_string(config_root(cfg, 0), "name", 0, NULL, 8, &s);
    cr_assert_eq(config_finish(cfg), 1);
    cr_assert_str_eq(error_text(cfg, 0), "agent.json:1:10: name: invalid "
        "value \"0123456789012345678901234567890123456789...\", expected a "
        "string of at most 8 bytes");
    config_free(cfg);
}

TestSuite(jsonpos);

/* Node of `path`, following keys and indexes ("a", 1, "b"). */
static size_t
node_at(const struct jsonpos_doc *doc, const char *key1, size_t idx,
    const char *key2)
{
    size_t n = jsonpos_find_key(doc, 0, key1, strlen(key1));

    if (idx != SIZE_MAX)
        n = jsonpos_child(doc, n, idx);
    if (key2 != NULL)
        n = jsonpos_find_key(doc, n, key2, strlen(key2));
    return n;
}

static void
assert_pos(struct jsonpos got, uint32_t line, uint32_t column)
{
    cr_assert_eq(got.line, line, "line %u, want %u", got.line, line);
    cr_assert_eq(got.column, column, "column %u, want %u", got.column,
        column);
}

Test(jsonpos, records_positions_in_nested_containers)
{
    const char *text =
        "{\n"
        "\t\"a\": [1,\n"
        "    {\"b\": \"x\\\"y\\u00e9\", \"c\": [true, null]}],\n"
        "  \"\xc3\xa9t\xc3\xa9\": {\"d\": -1.5e3}\n"
        "}";
    struct jsonpos_doc *doc = jsonpos_scan(text, strlen(text), 8);
    char path[64];

    cr_assert_eq(jsonpos_get_status(doc), JSONPOS_OK);
    cr_assert_eq(jsonpos_count(doc), 10);
    assert_pos(jsonpos_get_pos(doc, 0), 1, 1);
    assert_pos(jsonpos_get_key_pos(doc, node_at(doc, "a", SIZE_MAX, NULL)),
        2, 2);
    assert_pos(jsonpos_get_pos(doc, node_at(doc, "a", SIZE_MAX, NULL)), 2, 7);
    assert_pos(jsonpos_get_pos(doc, node_at(doc, "a", 0, NULL)), 2, 8);
    assert_pos(jsonpos_get_pos(doc, node_at(doc, "a", 1, NULL)), 3, 5);
    assert_pos(jsonpos_get_pos(doc, node_at(doc, "a", 1, "b")), 3, 11);
    assert_pos(jsonpos_get_key_pos(doc, node_at(doc, "a", 1, "c")), 3, 25);

    size_t c = node_at(doc, "a", 1, "c");
    assert_pos(jsonpos_get_pos(doc, jsonpos_child(doc, c, 1)), 3, 37);
    cr_assert_str_eq(jsonpos_format_path(doc, jsonpos_child(doc, c, 1), path,
        sizeof(path)), "a[1].c[1]");

    size_t d = node_at(doc, "\xc3\xa9t\xc3\xa9", SIZE_MAX, "d");
    assert_pos(jsonpos_get_key_pos(doc, d), 4, 11);
    assert_pos(jsonpos_get_pos(doc, d), 4, 16);
    cr_assert_eq(jsonpos_get_kind(doc, d), JSONPOS_SCALAR);
    cr_assert_eq(jsonpos_get_kind(doc, c), JSONPOS_ARRAY);
    jsonpos_free(doc);
}

Test(jsonpos, decodes_escaped_keys)
{
    const char *text = "{\"c\\u0070\": 1, \"\\ud83d\\ude00\": 2, "
                       "\"\\ud800x\": 3, \"t\\tq\\\"\": 4}";
    struct jsonpos_doc *doc = jsonpos_scan(text, strlen(text), 8);
    size_t len;

    cr_assert_eq(jsonpos_get_status(doc), JSONPOS_OK);
    cr_assert_str_eq(jsonpos_get_key(doc, jsonpos_child(doc, 0, 0), &len),
        "cp");
    cr_assert_eq(len, 2);
    cr_assert_str_eq(jsonpos_get_key(doc, jsonpos_child(doc, 0, 1), &len),
        "\xf0\x9f\x98\x80");
    cr_assert_str_eq(jsonpos_get_key(doc, jsonpos_child(doc, 0, 2), &len),
        "\xef\xbf\xbdx", "a lone surrogate becomes U+FFFD");
    cr_assert_str_eq(jsonpos_get_key(doc, jsonpos_child(doc, 0, 3), &len),
        "t\tq\"");
    cr_assert_eq(jsonpos_find_key(doc, 0, "t\tq\"", 4),
        jsonpos_child(doc, 0, 3));
    cr_assert_eq(jsonpos_find_key(doc, 0, "cq", 2), JSONPOS_NONE);
    cr_assert_null(jsonpos_get_key(doc, 0, &len), "the top level has no key");
    jsonpos_free(doc);
}

struct stop_case {
    char text[64];
    enum jsonpos_status status;
    uint32_t line;
    uint32_t column;
    char path[64];
};

ParameterizedTestParameters(jsonpos, reports_where_scan_stopped)
{
    static struct stop_case cases[] = {
        { "", JSONPOS_TRUNCATED, 1, 1, "" },
        { "  \n ", JSONPOS_TRUNCATED, 2, 2, "" },
        { "{\"a\": [1, 2", JSONPOS_TRUNCATED, 1, 11, "a[1]" },
        { "{\"a\": 1, \"bc\"", JSONPOS_TRUNCATED, 1, 10, "bc" },
        { "{\"a\": \"open", JSONPOS_TRUNCATED, 1, 7, "a" },
        { "{\"a\": \"x\\", JSONPOS_TRUNCATED, 1, 7, "a" },
        { "{\"a\": \"\\u00", JSONPOS_TRUNCATED, 1, 7, "a" },
        { "{\"a\": 1,}", JSONPOS_UNEXPECTED, 1, 9, "" },
        { "{\"a\" 1}", JSONPOS_UNEXPECTED, 1, 6, "a" },
        { "[1 2]", JSONPOS_UNEXPECTED, 1, 4, "[0]" },
        { "[1, ]", JSONPOS_UNEXPECTED, 1, 5, "[1]" },
        { "{\"a\": [}", JSONPOS_UNEXPECTED, 1, 8, "a[0]" },
        { "{\"a\": \"\\q\"}", JSONPOS_UNEXPECTED, 1, 8, "a" },
        { "{\"a\": \"\\u00zz\"}", JSONPOS_UNEXPECTED, 1, 8, "a" },
        { "{\"a\": \"x\ny\"}", JSONPOS_UNEXPECTED, 1, 9, "a" },
        { "{} {}", JSONPOS_UNEXPECTED, 1, 4, "" },
        { "{\"a\": {\"b\": [[1]]}}", JSONPOS_TOO_DEEP, 1, 14, "a.b[0]" },
        { "{\"x y\": [1,\n  {}]}", JSONPOS_OK, 2, 7, "" },
    };

    return cr_make_param_array(struct stop_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct stop_case *c, jsonpos, reports_where_scan_stopped)
{
    struct jsonpos_doc *doc = jsonpos_scan(c->text, strlen(c->text), 3);
    struct jsonpos stop;

    cr_assert_not_null(doc);
    stop = jsonpos_get_stop_pos(doc);
    cr_assert_eq(jsonpos_get_status(doc), c->status, "text %s", c->text);
    cr_assert_eq(stop.line, c->line, "text %s", c->text);
    cr_assert_eq(stop.column, c->column, "text %s", c->text);
    cr_assert_str_eq(jsonpos_get_stop_path(doc), c->path, "text %s",
        c->text);
    jsonpos_free(doc);
}

Test(jsonpos, rejects_text_beyond_limit_unread)
{
    /* The scanner checks the length before reading a byte. */
    struct jsonpos_doc *doc = jsonpos_scan("{}", JSONPOS_TEXT_MAX + 1, 8);

    cr_assert_eq(jsonpos_get_status(doc), JSONPOS_TOO_LARGE);
    cr_assert_eq(jsonpos_count(doc), 0);
    jsonpos_free(doc);
}

Test(jsonpos, quotes_keys_in_paths)
{
    char buf[64] = "";

    jsonpos_append_key(buf, sizeof(buf), "gateways", 8);
    jsonpos_append_key(buf, sizeof(buf), "gw.1", 4);
    jsonpos_append_index(buf, sizeof(buf), 2);
    jsonpos_append_key(buf, sizeof(buf), "a\"b\\\n", 5);
    jsonpos_append_key(buf, sizeof(buf), "", 0);
    jsonpos_append_key(buf, sizeof(buf), "port_2-x", 8);
    cr_assert_str_eq(buf,
        "gateways[\"gw.1\"][2][\"a\\\"b\\\\\\x0a\"][\"\"].port_2-x");
}

Test(jsonpos, cuts_long_path)
{
    char buf[16] = "";

    jsonpos_append_key(buf, sizeof(buf), "abcdefgh", 8);
    jsonpos_append_key(buf, sizeof(buf), "ijklmnop", 8);
    cr_assert_str_eq(buf, "abcdefgh.ijk...");
    jsonpos_append_index(buf, sizeof(buf), 7);
    cr_assert_str_eq(buf, "abcdefgh.ijk...");
}

Test(jsonpos, converts_offset_to_position)
{
    const char *text = "ab\n\xc3\xa9x\n";

    assert_pos(jsonpos_offset_to_pos(text, strlen(text), 0), 1, 1);
    assert_pos(jsonpos_offset_to_pos(text, strlen(text), 2), 1, 3);
    assert_pos(jsonpos_offset_to_pos(text, strlen(text), 3), 2, 1);
    assert_pos(jsonpos_offset_to_pos(text, strlen(text), 5), 2, 2);
    assert_pos(jsonpos_offset_to_pos(text, strlen(text), 99), 3, 1);
}

TestSuite(config_value);

struct duration_case {
    char text[32];
    int rc;
    int64_t ms;
};

ParameterizedTestParameters(config_value, parses_durations)
{
    static struct duration_case cases[] = {
        { "250ms", 0, 250 },
        { "30s", 0, 30000 },
        { "5m", 0, 300000 },
        { "2h", 0, 7200000 },
        { "1h30m", 0, 5400000 },
        { "1m30s250ms", 0, 90250 },
        { "0s", 0, 0 },
        { "007s", 0, 7000 },
        { "9223372036854775807ms", 0, INT64_MAX },
        { "9223372036854775808ms", -ERANGE, -1 },
        { "2562047788015216h", -ERANGE, -1 },
        { "99999999999999999999999s", -ERANGE, -1 },
        { "", -EINVAL, -1 },
        { "30", -EINVAL, -1 },
        { "s", -EINVAL, -1 },
        { "30 s", -EINVAL, -1 },
        { " 30s", -EINVAL, -1 },
        { "-1s", -EINVAL, -1 },
        { "+1s", -EINVAL, -1 },
        { "1.5s", -EINVAL, -1 },
        { "30S", -EINVAL, -1 },
        { "5d", -EINVAL, -1 },
        { "5m1h", -EINVAL, -1 },
        { "1s1s", -EINVAL, -1 },
        { "1msx", -EINVAL, -1 },
    };

    return cr_make_param_array(struct duration_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct duration_case *c, config_value, parses_durations)
{
    int64_t ms = -1;

    cr_assert_eq(config_value_parse_duration(c->text, &ms), c->rc, "\"%s\"",
        c->text);
    cr_assert_eq(ms, c->ms, "\"%s\"", c->text);
}

Test(config_value, formats_durations_in_largest_unit)
{
    char buf[32];

    cr_assert_str_eq(config_value_format_duration(3600000, buf, sizeof(buf)),
        "1h");
    cr_assert_str_eq(config_value_format_duration(300000, buf, sizeof(buf)),
        "5m");
    cr_assert_str_eq(config_value_format_duration(90000, buf, sizeof(buf)),
        "90s");
    cr_assert_str_eq(config_value_format_duration(1500, buf, sizeof(buf)),
        "1500ms");
    cr_assert_str_eq(config_value_format_duration(0, buf, sizeof(buf)),
        "0s");
}

struct addrport_case {
    char text[64];
    int family;
    uint16_t default_port;
    int rc;
    char want[64];
};

ParameterizedTestParameters(config_value, parses_address_and_port)
{
    static struct addrport_case cases[] = {
        { "198.51.100.7:500", AF_UNSPEC, 0, 0, "198.51.100.7:500" },
        { "[2001:db8::1]:4500", AF_UNSPEC, 0, 0, "[2001:db8::1]:4500" },
        { "198.51.100.7", AF_UNSPEC, 500, 0, "198.51.100.7:500" },
        { "2001:db8::1", AF_UNSPEC, 500, 0, "[2001:db8::1]:500" },
        { "[2001:db8::1]", AF_UNSPEC, 500, 0, "[2001:db8::1]:500" },
        { "198.51.100.7:65535", AF_UNSPEC, 0, 0, "198.51.100.7:65535" },
        { "198.51.100.7:00500", AF_UNSPEC, 0, 0, "198.51.100.7:500" },
        { "198.51.100.7", AF_UNSPEC, 0, -EINVAL, "" },
        { "2001:db8::1", AF_UNSPEC, 0, -EINVAL, "" },
        { "198.51.100.7:0", AF_UNSPEC, 0, -ERANGE, "" },
        { "198.51.100.7:65536", AF_UNSPEC, 0, -ERANGE, "" },
        { "198.51.100.7:", AF_UNSPEC, 0, -EINVAL, "" },
        { "198.51.100.7:5a", AF_UNSPEC, 0, -EINVAL, "" },
        { "198.51.100.7:-1", AF_UNSPEC, 0, -EINVAL, "" },
        { "[198.51.100.7]:500", AF_UNSPEC, 0, -EINVAL, "" },
        { "[2001:db8::1", AF_UNSPEC, 0, -EINVAL, "" },
        { "[2001:db8::1]x", AF_UNSPEC, 0, -EINVAL, "" },
        { "[]:500", AF_UNSPEC, 0, -EINVAL, "" },
        { "gw1.example.net:500", AF_UNSPEC, 0, -EINVAL, "" },
        { " 198.51.100.7:500", AF_UNSPEC, 0, -EINVAL, "" },
        { ":500", AF_UNSPEC, 0, -EINVAL, "" },
        { "[2001:db8::1]:500", AF_INET, 0, -EAFNOSUPPORT, "" },
        { "198.51.100.7:500", AF_INET6, 0, -EAFNOSUPPORT, "" },
    };

    return cr_make_param_array(struct addrport_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct addrport_case *c, config_value,
    parses_address_and_port)
{
    struct sockaddr_storage ss;
    char text[80];

    memset(&ss, 0, sizeof(ss));
    cr_assert_eq(config_value_parse_addrport(c->text, c->family,
        c->default_port, &ss), c->rc, "\"%s\"", c->text);
    if (c->rc == 0)
        cr_assert_str_eq(config_value_format_addr(&ss, 1, text,
            sizeof(text)), c->want);
    else
        cr_assert_eq(ss.ss_family, AF_UNSPEC, "*out untouched on error");
}

Test(config_value, parses_plain_addresses)
{
    struct sockaddr_storage ss;
    char text[80];

    cr_assert_eq(config_value_parse_addr("::ffff:198.51.100.7", AF_UNSPEC,
        &ss), 0);
    cr_assert_eq(ss.ss_family, AF_INET6);
    cr_assert_str_eq(config_value_format_addr(&ss, 0, text, sizeof(text)),
        "::ffff:198.51.100.7");
    cr_assert_eq(config_value_parse_addr("198.51.100.07", AF_UNSPEC, &ss),
        -EINVAL, "inet_pton rejects leading zeros");
    cr_assert_eq(config_value_parse_addr("198.51.100.7", AF_INET6, &ss),
        -EAFNOSUPPORT);
}

struct prefix_case {
    char text[64];
    int rc;
    char want[64];
};

ParameterizedTestParameters(config_value, parses_prefixes)
{
    static struct prefix_case cases[] = {
        { "198.51.100.0/24", 0, "198.51.100.0/24" },
        { "2001:db8::/32", 0, "2001:db8::/32" },
        { "0.0.0.0/0", 0, "0.0.0.0/0" },
        { "198.51.100.7/32", 0, "198.51.100.7/32" },
        { "203.0.113.128/25", 0, "203.0.113.128/25" },
        { "198.51.100.7/24", -EDOM, "198.51.100.0/24" },
        { "203.0.113.200/25", -EDOM, "203.0.113.128/25" },
        { "2001:db8::1/127", -EDOM, "2001:db8::/127" },
        { "198.51.100.0/33", -ERANGE, "" },
        { "2001:db8::/129", -ERANGE, "" },
        { "198.51.100.0", -EINVAL, "" },
        { "198.51.100.0/", -EINVAL, "" },
        { "198.51.100.0/2x", -EINVAL, "" },
        { "198.51.100.0/-1", -EINVAL, "" },
        { "/24", -EINVAL, "" },
        { "example.net/24", -EINVAL, "" },
    };

    return cr_make_param_array(struct prefix_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct prefix_case *c, config_value, parses_prefixes)
{
    struct config_prefix p;
    char text[80];

    memset(&p, 0, sizeof(p));
    cr_assert_eq(config_value_parse_prefix(c->text, AF_UNSPEC, &p), c->rc,
        "\"%s\"", c->text);
    if (c->want[0] != '\0')
        cr_assert_str_eq(config_value_format_prefix(&p, text, sizeof(text)),
            c->want);
}

Test(jsonpos, finds_keys_in_any_order)
{
    const char *text = "{\"a\": 1, \"b\": 2, \"c\": 3}";
    struct jsonpos_doc *doc = jsonpos_scan(text, strlen(text), 8);
    size_t hint = 0;

    cr_assert_eq(jsonpos_find_key_from(doc, 0, "b", 1, &hint),
        jsonpos_child(doc, 0, 1));
    cr_assert_eq(hint, 2);
    cr_assert_eq(jsonpos_find_key_from(doc, 0, "c", 1, &hint),
        jsonpos_child(doc, 0, 2));
    cr_assert_eq(jsonpos_find_key_from(doc, 0, "a", 1, &hint),
        jsonpos_child(doc, 0, 0), "the search wraps around");
    cr_assert_eq(hint, 1);
    cr_assert_eq(jsonpos_find_key_from(doc, 0, "d", 1, &hint), JSONPOS_NONE);
    cr_assert_eq(hint, 1, "a miss leaves the hint");
    cr_assert_eq(jsonpos_find_key(doc, jsonpos_child(doc, 0, 0), "a", 1),
        JSONPOS_NONE, "a number has no members");
    jsonpos_free(doc);
}
