/*
 * Tests for the report format: a hand-written report, round trips, and a
 * table of bad reports, each made by changing one field of the good one,
 * with the error text expected for it.  The texts were written from the
 * format's rules, not copied from the parser's output.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt/cluster_report.h"

#define HASH "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static const char good_report[] =
    "{\"version\":1,\"gateway_id\":\"gw-1.fra\",\"site\":\"fra\","
    "\"state\":\"serving\",\"sent_at_ms\":1767225600000,"
    "\"interval_ms\":1000,\"ike_sas\":120,\"half_open\":3,"
    "\"half_open_limit\":500,\"capacity\":10000,\"pool_used\":120,"
    "\"pool_size\":4096,\"cpu_busiest_permille\":250,\"plan_epoch\":41,"
    "\"config_hash\":\"" HASH "\","
    "\"unicast\":[\"198.51.100.3\",\"2001:db8:1::3\"],"
    "\"public_addr\":\"203.0.113.9\",\"anycast\":\"203.0.113.1\","
    "\"identity\":\"fqdn:vpn.example.net\","
    "\"redirects_sent\":7,\"sas_established\":130,\"drops\":2}";

/*
 * Returns good_report with `key` set to the JSON text `value`, or removed
 * when value is NULL.  The caller frees the result.
 */
static char *
report_with(const char *key, const char *value)
{
    json_t *root = json_loads(good_report, 0, NULL);

    cr_assert_not_null(root);
    if (value == NULL) {
        json_object_del(root, key);
    } else {
        json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);

        cr_assert_not_null(v, "bad test value %s", value);
        json_object_set_new(root, key, v);
    }
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    cr_assert_not_null(text);
    return text;
}

TestSuite(cluster_report);

Test(cluster_report, parses_every_field)
{
    struct cluster_report r;
    char err[CLUSTER_ERR_SIZE];

    cr_assert_eq(cluster_report_parse(good_report, strlen(good_report), &r,
        err, sizeof(err)), 0, "%s", err);
    cr_expect_str_eq(r.gateway_id, "gw-1.fra");
    cr_expect_str_eq(r.site, "fra");
    cr_expect_eq(r.state, CLUSTER_AGENT_SERVING);
    cr_expect_eq(r.sent_at_ms, 1767225600000ull);
    cr_expect_eq(r.interval_ms, 1000);
    cr_expect_eq(r.ike_sas, 120);
    cr_expect_eq(r.half_open, 3);
    cr_expect_eq(r.half_open_limit, 500);
    cr_expect_eq(r.capacity, 10000);
    cr_expect_eq(r.pool_used, 120);
    cr_expect_eq(r.pool_size, 4096);
    cr_expect_eq(r.cpu_busiest_permille, 250);
    cr_expect_eq(r.plan_epoch, 41);
    cr_expect_str_eq(r.config_hash, HASH);
    cr_expect_eq(r.n_unicast, 2);
    cr_expect_str_eq(r.unicast[0], "198.51.100.3");
    cr_expect_str_eq(r.unicast[1], "2001:db8:1::3");
    cr_expect_str_eq(r.public_addr, "203.0.113.9");
    cr_expect_str_eq(r.anycast, "203.0.113.1");
    cr_expect_str_eq(r.identity, "fqdn:vpn.example.net");
    cr_expect_eq(r.redirects_sent, 7);
    cr_expect_eq(r.sas_established, 130);
    cr_expect_eq(r.drops, 2);
    cr_expect_str_eq(err, "");
}

Test(cluster_report, round_trips_parsed_report)
{
    struct cluster_report a, b;
    char err[CLUSTER_ERR_SIZE];
    char *text;

    cr_assert_eq(cluster_report_parse(good_report, strlen(good_report), &a,
        err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(cluster_report_encode(&a, &text, err, sizeof(err)), 0, "%s",
        err);
    cr_assert_eq(cluster_report_parse(text, strlen(text), &b, err,
        sizeof(err)), 0, "%s", err);
    cr_expect_eq(memcmp(&a, &b, sizeof(a)), 0);
    free(text);
}

Test(cluster_report, round_trips_built_report_with_limits)
{
    struct cluster_report a, b;
    char err[CLUSTER_ERR_SIZE];
    char *text;

    memset(&a, 0, sizeof(a));
    memset(a.gateway_id, 'g', CLUSTER_ID_MAX);
    a.state = CLUSTER_AGENT_STOPPING;
    a.sent_at_ms = INT64_MAX;
    a.interval_ms = CLUSTER_REPORT_INTERVAL_MAX_MS;
    a.ike_sas = UINT32_MAX;
    a.pool_used = UINT32_MAX;
    a.pool_size = UINT32_MAX;
    a.cpu_busiest_permille = 1000;
    a.drops = INT64_MAX;
    a.n_unicast = CLUSTER_MAX_ADDRS;
    for (size_t i = 0; i < CLUSTER_MAX_ADDRS; i++)
        snprintf(a.unicast[i], sizeof(a.unicast[i]), "2001:db8::%zu", i);
    cr_assert_eq(cluster_report_encode(&a, &text, err, sizeof(err)), 0, "%s",
        err);
    cr_assert_eq(cluster_report_parse(text, strlen(text), &b, err,
        sizeof(err)), 0, "%s", err);
    cr_expect_eq(memcmp(&a, &b, sizeof(a)), 0);
    cr_expect_str_eq(b.site, "");
    cr_expect_str_eq(b.public_addr, "");
    cr_expect_str_eq(b.config_hash, "");
    free(text);
}

Test(cluster_report, encode_rejects_invalid_struct)
{
    struct cluster_report r;
    char err[CLUSTER_ERR_SIZE];
    char *text = (char *)"unchanged";

    cr_assert_eq(cluster_report_parse(good_report, strlen(good_report), &r,
        err, sizeof(err)), 0);
    strcpy(r.gateway_id, "gw 1");
    cr_expect_eq(cluster_report_encode(&r, &text, err, sizeof(err)),
        -EINVAL);
    cr_expect_null(text);
    cr_expect_str_eq(err, "report.gateway_id: invalid value \"gw 1\", "
        "expected 1-63 characters of A-Z a-z 0-9 . _ -");

    strcpy(r.gateway_id, "gw1");
    r.n_unicast = CLUSTER_MAX_ADDRS + 1;
    cr_expect_eq(cluster_report_encode(&r, &text, err, sizeof(err)),
        -EINVAL);
    cr_expect_str_eq(err, "report.unicast: invalid length 9, expected 1-8");

    r.n_unicast = 1;
    r.state = (enum cluster_agent_state)7;
    cr_expect_eq(cluster_report_encode(&r, &text, err, sizeof(err)),
        -EINVAL);
    r.state = CLUSTER_AGENT_DRAINING;
    r.plan_epoch = UINT64_MAX;
    cr_expect_eq(cluster_report_encode(&r, &text, err, sizeof(err)),
        -EINVAL);
    cr_expect_str_eq(err, "report.plan_epoch: invalid value "
        "18446744073709551615, expected 0-9223372036854775807");
}

Test(cluster_report, reads_report_without_identity_as_empty)
{
    char *text = report_with("identity", NULL);
    struct cluster_report r;
    char err[CLUSTER_ERR_SIZE];

    memset(&r, 0x55, sizeof(r));
    cr_assert_eq(cluster_report_parse(text, strlen(text), &r, err,
        sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(r.identity, "");
    free(text);
}

Test(cluster_report, ignores_unknown_keys)
{
    char *text = report_with("added_later", "{\"x\":[1,2]}");
    struct cluster_report r;
    char err[CLUSTER_ERR_SIZE];

    cr_expect_eq(cluster_report_parse(text, strlen(text), &r, err,
        sizeof(err)), 0, "%s", err);
    free(text);
}

Test(cluster_report, rejects_text_above_limit)
{
    size_t len = CLUSTER_REPORT_TEXT_MAX + 1;
    char *text = malloc(len);
    struct cluster_report r;
    char err[CLUSTER_ERR_SIZE];

    cr_assert_not_null(text);
    memset(text, ' ', len);
    cr_expect_eq(cluster_report_parse(text, len, &r, err, sizeof(err)),
        -EMSGSIZE);
    cr_expect_str_eq(err, "report: text of 16385 bytes exceeds the limit "
        "of 16384");
    free(text);
}

Test(cluster_report, rejects_text_that_is_not_json)
{
    static const char text[] = "{\"version\":1,";
    struct cluster_report r;
    char err[CLUSTER_ERR_SIZE];

    cr_expect_eq(cluster_report_parse(text, strlen(text), &r, err,
        sizeof(err)), -EINVAL);
    cr_expect(strncmp(err, "report: invalid JSON at line 1", 30) == 0,
        "got %s", err);
    cr_expect_eq(cluster_report_parse("[1]", 3, &r, err, sizeof(err)),
        -EINVAL);
    cr_expect_str_eq(err, "report: invalid type array, expected an object");
    /* A failed parse leaves nothing behind. */
    cr_expect_str_eq(r.gateway_id, "");
}

/* Inline arrays, because criterion copies parameters into the test
 * process and pointers to the table's strings would not be valid there. */
struct bad_report {
    char key[32];
    char value[160];            /* JSON text; "" removes the key */
    char error[CLUSTER_ERR_SIZE];
};

#define IDS "characters of A-Z a-z 0-9 . _ -"
#define U32 "0-4294967295"
#define I64 "0-9223372036854775807"
#define IP "an IPv4 or IPv6 address"

ParameterizedTestParameters(cluster_report, rejects_bad_field)
{
    static struct bad_report cases[] = {
        { "version", "2",
          "report.version: unsupported version 2, expected 1" },
        { "version", "",
          "report.version: missing, expected an integer 1-"
          "9223372036854775807" },
        { "gateway_id", "\"gw 1\"",
          "report.gateway_id: invalid value \"gw 1\", expected 1-63 " IDS },
        { "gateway_id", "\"\"",
          "report.gateway_id: invalid value \"\", expected 1-63 " IDS },
        { "gateway_id", "\"gw\\u00e9\"",
          "report.gateway_id: invalid value \"gw\\xc3\\xa9\", expected "
          "1-63 " IDS },
        { "site", "\"fra/1\"",
          "report.site: invalid value fra/1, expected 0-63 " IDS },
        { "state", "\"up\"",
          "report.state: invalid value up, expected one of: serving, "
          "draining, stopping" },
        { "state", "3",
          "report.state: invalid type integer, expected one of: serving, "
          "draining, stopping" },
        { "sent_at_ms", "-5",
          "report.sent_at_ms: invalid value -5, expected " I64 },
        { "interval_ms", "50",
          "report.interval_ms: invalid value 50, expected 100-600000" },
        { "ike_sas", "-1",
          "report.ike_sas: invalid value -1, expected " U32 },
        { "ike_sas", "4294967296",
          "report.ike_sas: invalid value 4294967296, expected " U32 },
        { "ike_sas", "\"12\"",
          "report.ike_sas: invalid type string, expected an integer " U32 },
        { "ike_sas", "1.5",
          "report.ike_sas: invalid type real, expected an integer " U32 },
        { "capacity", "",
          "report.capacity: missing, expected an integer " U32 },
        { "cpu_busiest_permille", "1001",
          "report.cpu_busiest_permille: invalid value 1001, expected "
          "0-1000" },
        { "config_hash", "\"ABC\"",
          "report.config_hash: invalid value ABC, expected 64 lower-case "
          "hex digits or \"\"" },
        { "unicast", "[]",
          "report.unicast: invalid length, expected an array of 1-8 "
          "addresses" },
        { "unicast", "\"198.51.100.3\"",
          "report.unicast: invalid type, expected an array of 1-8 "
          "addresses" },
        { "unicast", "[\"1.1.1.1\",\"1.1.1.2\",\"1.1.1.3\",\"1.1.1.4\","
          "\"1.1.1.5\",\"1.1.1.6\",\"1.1.1.7\",\"1.1.1.8\",\"1.1.1.9\"]",
          "report.unicast: invalid length, expected an array of 1-8 "
          "addresses" },
        { "unicast", "[\"198.51.100.3\",\"gw.example.net\"]",
          "report.unicast[1]: invalid value gw.example.net, expected " IP },
        { "unicast", "[\"198.51.100.300\"]",
          "report.unicast[0]: invalid value 198.51.100.300, expected " IP },
        { "unicast", "[7]",
          "report.unicast[0]: invalid type integer, expected " IP },
        { "public_addr", "\"2001:db8::zz\"",
          "report.public_addr: invalid value 2001:db8::zz, expected " IP
          " or \"\"" },
        { "anycast", "null",
          "report.anycast: invalid type null, expected " IP " or \"\"" },
        { "identity", "\"vpn.example.net\"",
          "report.identity: invalid value vpn.example.net, expected an "
          "identity \"TYPE:VALUE\" (fqdn, email, ipv4, ipv6, key-id) or "
          "\"\"" },
        { "identity", "5",
          "report.identity: invalid type integer, expected an identity "
          "\"TYPE:VALUE\" (fqdn, email, ipv4, ipv6, key-id) or \"\"" },
        { "pool_used", "5000",
          "report.pool_used: invalid value 5000, expected at most "
          "pool_size 4096" },
        { "drops", "true",
          "report.drops: invalid type boolean, expected an integer " I64 },
    };
    return cr_make_param_array(struct bad_report, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_report *c, cluster_report, rejects_bad_field)
{
    char *text = report_with(c->key, c->value[0] != '\0' ? c->value : NULL);
    struct cluster_report r;
    char err[CLUSTER_ERR_SIZE];

    cr_expect_eq(cluster_report_parse(text, strlen(text), &r, err,
        sizeof(err)), -EINVAL, "accepted %s", text);
    cr_expect_str_eq(err, c->error);
    free(text);
}

struct addr_case {
    char text[80];
    int flags;
    bool valid;
};

ParameterizedTestParameters(cluster_report, checks_address_syntax)
{
    static struct addr_case cases[] = {
        { "198.51.100.7", CLUSTER_ADDR_IP, true },
        { "2001:db8::1", CLUSTER_ADDR_IP, true },
        { "::ffff:198.51.100.7", CLUSTER_ADDR_IP, true },
        { "198.51.100.7", CLUSTER_ADDR_FQDN, false },
        { "gw1.example.net", CLUSTER_ADDR_FQDN, true },
        { "gw1.example.net", CLUSTER_ADDR_IP, false },
        { "a-b.example", CLUSTER_ADDR_FQDN, true },
        { "-ab.example", CLUSTER_ADDR_FQDN, false },
        { "ab-.example", CLUSTER_ADDR_FQDN, false },
        { "a..example", CLUSTER_ADDR_FQDN, false },
        { "example.", CLUSTER_ADDR_FQDN, false },
        { "under_score.example", CLUSTER_ADDR_FQDN, false },
        { "10.0.0.300", CLUSTER_ADDR_IP | CLUSTER_ADDR_FQDN, false },
        { "", CLUSTER_ADDR_IP | CLUSTER_ADDR_FQDN, false },
        { "a.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          CLUSTER_ADDR_FQDN, true },
        { "a.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          CLUSTER_ADDR_FQDN, false },
    };
    return cr_make_param_array(struct addr_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct addr_case *c, cluster_report, checks_address_syntax)
{
    cr_expect_eq(cluster_addr_is_valid(c->text, strlen(c->text), c->flags),
        c->valid, "%s", c->text);
}

Test(cluster_report, checks_id_charset_and_length)
{
    char id[CLUSTER_ID_MAX + 2];

    memset(id, 'a', sizeof(id));
    cr_expect(cluster_id_is_valid("gw-1.fra_2", 10, false));
    cr_expect(cluster_id_is_valid(id, CLUSTER_ID_MAX, false));
    cr_expect_not(cluster_id_is_valid(id, CLUSTER_ID_MAX + 1, false));
    cr_expect_not(cluster_id_is_valid("", 0, false));
    cr_expect(cluster_id_is_valid("", 0, true));
    cr_expect_not(cluster_id_is_valid("gw:1", 4, false));
    cr_expect_not(cluster_id_is_valid("gw\0" "1", 4, false));
}
