/*
 * Tests for identities as cluster text: what an agent reports as its IDr
 * and what the controller compares with the cluster identity.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <string.h>

#include "ike_const.h"
#include "rt/cluster.h"

struct id_format_case {
    uint8_t type;
    uint8_t data[20];
    size_t len;
    char expect[32];        /* "": -EINVAL */
};

ParameterizedTestParameters(cluster_identity, formats_each_type)
{
    static struct id_format_case cases[] = {
        { IKE_ID_FQDN, "vpn.example.net", 15, "fqdn:vpn.example.net" },
        { IKE_ID_RFC822_ADDR, "ops@example.net", 15,
          "email:ops@example.net" },
        { IKE_ID_IPV4_ADDR, { 198, 51, 100, 7 }, 4, "ipv4:198.51.100.7" },
        { IKE_ID_IPV6_ADDR, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 16,
          "ipv6:2001:db8::1" },
        { IKE_ID_KEY_ID, { 0x00, 0xab, 0x7f }, 3, "key-id:00ab7f" },
        { IKE_ID_FQDN, "", 0, "" },
        { IKE_ID_FQDN, "vpn example", 11, "" },
        { IKE_ID_FQDN, "vpn\n", 4, "" },
        { IKE_ID_IPV4_ADDR, { 198, 51, 100 }, 3, "" },
        { IKE_ID_IPV6_ADDR, { 0x20 }, 4, "" },
        { IKE_ID_KEY_ID, { 0 }, 0, "" },
        { IKE_ID_DER_ASN1_DN, { 0x30, 0x00 }, 2, "" },
    };

    return cr_make_param_array(struct id_format_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct id_format_case *c, cluster_identity,
    formats_each_type)
{
    char out[CLUSTER_IDENTITY_TEXT_MAX + 1];
    int rc = cluster_identity_format(c->type, c->data, c->len, out,
        sizeof(out));

    if (c->expect[0] == '\0') {
        cr_assert_eq(rc, -EINVAL);
        return;
    }
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(out, c->expect);
    cr_assert(cluster_identity_is_valid(out, strlen(out), false));
}

Test(cluster_identity, formats_longest_key_id_within_text_max)
{
    uint8_t key[255];
    char out[CLUSTER_IDENTITY_TEXT_MAX + 1];

    memset(key, 0xee, sizeof(key));
    cr_assert_eq(cluster_identity_format(IKE_ID_KEY_ID, key, sizeof(key),
        out, sizeof(out)), 0);
    cr_assert_eq(strlen(out), 7 + 2 * sizeof(key));
    cr_assert_eq(cluster_identity_format(IKE_ID_KEY_ID, key, sizeof(key),
        out, 7 + 2 * sizeof(key)), -EINVAL);
}

/* Criterion copies parameters into each test's process, so they hold
 * arrays, not pointers. */
struct id_config_case {
    char type[8], value[24], expect[32];    /* expect "": -EINVAL */
};

ParameterizedTestParameters(cluster_identity, reads_configured_identity)
{
    static struct id_config_case cases[] = {
        { "fqdn", "vpn.example.net", "fqdn:vpn.example.net" },
        { "email", "ops@example.net", "email:ops@example.net" },
        { "ipv4", "198.51.100.7", "ipv4:198.51.100.7" },
        { "ipv6", "2001:DB8:0:0::1", "ipv6:2001:db8::1" },
        { "key-id", "k1", "key-id:6b31" },
        { "ipv4", "198.51.100.300", "" },
        { "ipv6", "vpn.example.net", "" },
        { "dn", "CN=vpn", "" },
        { "fqdn", "", "" },
    };

    return cr_make_param_array(struct id_config_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct id_config_case *c, cluster_identity,
    reads_configured_identity)
{
    char out[CLUSTER_IDENTITY_TEXT_MAX + 1];
    int rc = cluster_identity_from_config(c->type, c->value, out,
        sizeof(out));

    if (c->expect[0] == '\0') {
        cr_assert_eq(rc, -EINVAL);
        return;
    }
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(out, c->expect);
}

struct id_valid_case {
    char text[32];
    bool valid;
};

ParameterizedTestParameters(cluster_identity, validates_text)
{
    static struct id_valid_case cases[] = {
        { "fqdn:vpn.example.net", true },
        { "email:a@example.net", true },
        { "ipv4:198.51.100.1", true },
        { "ipv6:2001:db8::1", true },
        { "key-id:00ff", true },
        { "fqdn:", false },
        { "fqdn", false },
        { ":vpn.example.net", false },
        { "FQDN:vpn.example.net", false },
        { "fqdn:vpn example.net", false },
        { "ipv4:2001:db8::1", false },
        { "ipv6:198.51.100.1.", false },
        { "key-id:0", false },
        { "key-id:00FF", false },
        { "key-id:zz", false },
        { "dn:CN=vpn", false },
    };

    return cr_make_param_array(struct id_valid_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct id_valid_case *c, cluster_identity, validates_text)
{
    cr_assert_eq(cluster_identity_is_valid(c->text, strlen(c->text), false),
        c->valid, "%s", c->text);
}

Test(cluster_identity, empty_text_is_valid_only_when_allowed)
{
    cr_assert(cluster_identity_is_valid("", 0, true));
    cr_assert_not(cluster_identity_is_valid("", 0, false));
}

struct id_equal_case {
    char a[32], b[32];
    bool equal;
};

ParameterizedTestParameters(cluster_identity, compares_as_peers_do)
{
    static struct id_equal_case cases[] = {
        { "fqdn:vpn.example.net", "fqdn:vpn.example.net", true },
        { "fqdn:vpn.example.net", "fqdn:VPN.Example.NET", true },
        { "email:Ops@example.net", "email:ops@example.net", true },
        { "fqdn:vpn.example.net", "fqdn:vpn.other.example", false },
        { "fqdn:vpn.example.net", "email:vpn.example.net", false },
        { "key-id:00ab", "key-id:00ab", true },
        { "key-id:00ab", "key-id:00ac", false },
        { "ipv4:198.51.100.1", "ipv4:198.51.100.1", true },
        { "ipv6:2001:db8::1", "ipv6:2001:DB8:0:0:0:0:0:1", true },
        { "ipv6:2001:db8::1", "ipv6:2001:db8::2", false },
        { "fqdn:vpn.example.net", "", false },
        { "", "", false },
    };

    return cr_make_param_array(struct id_equal_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct id_equal_case *c, cluster_identity,
    compares_as_peers_do)
{
    cr_assert_eq(cluster_identity_equal(c->a, c->b), c->equal, "%s vs %s",
        c->a, c->b);
}
