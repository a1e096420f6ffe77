/*
 * Safety checks shared by the load generators in tests/bench: which
 * addresses they may send to, and that the route to the target stays on
 * this host.  Traffic to a documentation address from the root network
 * namespace would leave through the default route, so every generator
 * runs bench_net_check_route() before its first datagram.
 */
#ifndef IKESHIFT_TEST_BENCH_NET_H
#define IKESHIFT_TEST_BENCH_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * Returns true for 127.0.0.0/8, 198.51.100.0/24 and 203.0.113.0/24
 * (RFC 5737), ::1 and 2001:db8::/32 (RFC 3849), else false.
 */
bool
bench_net_addr_allowed(const struct sockaddr_storage *ss);

/*
 * Stores in *out the IPv4 address `offset` places after base's, with
 * base's port.  Returns 0, or -EINVAL when base is not IPv4 or the sum
 * passes 255.255.255.255.
 */
int
bench_net_span_addr(const struct sockaddr_storage *base, unsigned long offset,
                    struct sockaddr_storage *out);

/*
 * Parses an IPv4 or IPv6 literal into *ss with `port` and sets *len to
 * the size of that family's address.  Returns 0, or -EINVAL for anything
 * else (host names are not looked up).
 */
int
bench_net_parse_addr(const char *text, uint16_t port,
                     struct sockaddr_storage *ss, socklen_t *len);

/* Parses a decimal integer within [min, max] into *out; returns 0 or
 * -EINVAL. */
int
bench_net_parse_ulong(const char *text, unsigned long min, unsigned long max,
                      unsigned long *out);

/*
 * Runs `ip route get target` without a shell, so target must be a numeric
 * address.  Accepts the route only when its "dev" is lo or one of the
 * n_allow_dev names in allow_dev.  Returns 0, or -EPERM after printing
 * the reason to stderr, prefixed with prog.
 */
int
bench_net_check_route(const char *prog, const char *target,
                      const char *const *allow_dev, size_t n_allow_dev);

#endif /* IKESHIFT_TEST_BENCH_NET_H */
