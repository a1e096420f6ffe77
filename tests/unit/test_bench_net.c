/*
 * The load generators' address and route checks: which targets they
 * accept, the address span of their sockets, and that a route must stay
 * on lo.  `ip route get` only reads the routing table, so these tests
 * send nothing.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "bench_net.h"

TestSuite(bench_net);

/* Text, not a pointer: criterion copies parameters into each worker. */
struct addr_case {
    char text[48];
    bool allowed;
};

ParameterizedTestParameters(bench_net, allows_only_test_addresses)
{
    static struct addr_case cases[] = {
        { "127.0.0.1", true },
        { "127.255.0.9", true },
        { "198.51.100.0", true },
        { "198.51.100.255", true },
        { "203.0.113.7", true },
        { "::1", true },
        { "2001:db8::1", true },
        { "2001:db8:ffff::9", true },
        { "198.51.101.1", false },
        { "203.0.112.1", false },
        { "192.0.2.1", false },
        { "10.0.0.1", false },
        { "8.8.8.8", false },
        { "::2", false },
        { "2001:db9::1", false },
        { "fe80::1", false },
    };

    return cr_make_param_array(struct addr_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

static struct sockaddr_storage
addr_of(const char *text)
{
    struct sockaddr_storage ss;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;

    memset(&ss, 0, sizeof(ss));
    memset(&in, 0, sizeof(in));
    memset(&in6, 0, sizeof(in6));
    if (inet_pton(AF_INET, text, &in.sin_addr) == 1) {
        in.sin_family = AF_INET;
        in.sin_port = htons(500);
        memcpy(&ss, &in, sizeof(in));
    } else {
        cr_assert_eq(inet_pton(AF_INET6, text, &in6.sin6_addr), 1, "%s",
                     text);
        in6.sin6_family = AF_INET6;
        memcpy(&ss, &in6, sizeof(in6));
    }
    return ss;
}

ParameterizedTest(struct addr_case *c, bench_net, allows_only_test_addresses)
{
    struct sockaddr_storage ss = addr_of(c->text);

    cr_assert_eq(bench_net_addr_allowed(&ss), c->allowed, "%s", c->text);
}

Test(bench_net, rejects_unknown_address_family)
{
    struct sockaddr_storage ss;

    memset(&ss, 0, sizeof(ss));
    ss.ss_family = AF_UNIX;
    cr_assert_eq(bench_net_addr_allowed(&ss), false);
}

Test(bench_net, spans_ipv4_addresses_across_octets)
{
    struct sockaddr_storage base = addr_of("127.0.1.255"), out;
    struct sockaddr_in in;
    char text[INET_ADDRSTRLEN];

    cr_assert_eq(bench_net_span_addr(&base, 4097, &out), 0);
    memcpy(&in, &out, sizeof(in));
    cr_assert_eq(in.sin_family, AF_INET);
    cr_assert_eq(ntohs(in.sin_port), 500);
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text));
    cr_assert_str_eq(text, "127.0.18.0");
}

Test(bench_net, span_rejects_ipv6_and_overflow)
{
    struct sockaddr_storage v6 = addr_of("::1");
    struct sockaddr_storage top = addr_of("255.255.255.250"), out;

    cr_assert_eq(bench_net_span_addr(&v6, 1, &out), -EINVAL);
    cr_assert_eq(bench_net_span_addr(&top, 5, &out), 0);
    cr_assert_eq(bench_net_span_addr(&top, 6, &out), -EINVAL);
}

Test(bench_net, accepts_route_through_lo)
{
    cr_assert_eq(bench_net_check_route("test", "127.0.0.1", NULL, 0), 0);
}

/* Outside a test namespace a documentation address has no route through
 * lo: either the default route takes it, or there is no route at all. */
Test(bench_net, rejects_route_that_leaves_lo)
{
    cr_assert_eq(bench_net_check_route("test", "198.51.100.77", NULL, 0),
                 -EPERM);
}

Test(bench_net, rejects_route_for_invalid_target)
{
    cr_assert_eq(bench_net_check_route("test", "not-an-address", NULL, 0),
                 -EPERM);
}

Test(bench_net, parses_address_literals_with_port)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;

    cr_assert_eq(bench_net_parse_addr("127.0.0.1", 500, &ss, &len), 0);
    cr_expect_eq(ss.ss_family, AF_INET);
    cr_expect_eq(len, sizeof(struct sockaddr_in));
    cr_expect_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 500);
    cr_assert_eq(bench_net_parse_addr("::1", 4500, &ss, &len), 0);
    cr_expect_eq(ss.ss_family, AF_INET6);
    cr_expect_eq(len, sizeof(struct sockaddr_in6));
    cr_expect_eq(bench_net_parse_addr("localhost", 500, &ss, &len), -EINVAL);
    cr_expect_eq(bench_net_parse_addr("198.51.100.300", 500, &ss, &len),
        -EINVAL);
}

Test(bench_net, parses_integers_within_bounds)
{
    unsigned long v = 0;

    cr_assert_eq(bench_net_parse_ulong("256", 1, 1000, &v), 0);
    cr_expect_eq(v, 256);
    cr_expect_eq(bench_net_parse_ulong("0", 1, 1000, &v), -EINVAL);
    cr_expect_eq(bench_net_parse_ulong("1001", 1, 1000, &v), -EINVAL);
    cr_expect_eq(bench_net_parse_ulong("12x", 1, 1000, &v), -EINVAL);
    cr_expect_eq(bench_net_parse_ulong("", 1, 1000, &v), -EINVAL);
}
