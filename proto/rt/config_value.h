/*
 * Parsers for the text forms of configuration values: durations, IP
 * addresses, address:port pairs and CIDR prefixes.  They take a
 * NUL-terminated string, so command-line options can use them too, and
 * keep no state.
 */
#ifndef IKESHIFT_RT_CONFIG_VALUE_H
#define IKESHIFT_RT_CONFIG_VALUE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A CIDR prefix, such as 198.51.100.0/24 or 2001:db8::/32. */
struct config_prefix {
    int family;                 /* AF_INET or AF_INET6 */
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } addr;                     /* network address, host bits zero */
    unsigned len;               /* prefix length in bits */
};

/*
 * Parses a duration made of one or more number-unit pairs in decreasing
 * units, with units "h", "m", "s" and "ms": "250ms", "30s", "5m",
 * "1h30m".  Stores milliseconds in *out_ms.  Returns 0, -EINVAL for text
 * of another form, or -ERANGE beyond INT64_MAX ms.
 */
int
config_value_parse_duration(const char *s, int64_t *out_ms);

/*
 * Writes `ms` in the largest unit that divides it ("5m", "30s", "250ms")
 * into `buf` and returns `buf`.
 */
char *
config_value_format_duration(int64_t ms, char *buf, size_t size);

/*
 * Parses an IPv4 or IPv6 address with inet_pton() into *out, with port 0.
 * `family` is AF_INET or AF_INET6 to accept only that family, or
 * AF_UNSPEC for both.  Returns 0, -EINVAL if `s` is not an address, or
 * -EAFNOSUPPORT if it is one of the other family.
 */
int
config_value_parse_addr(const char *s, int family,
    struct sockaddr_storage *out);

/*
 * Parses "198.51.100.7:500" or "[2001:db8::1]:500" into *out.  When
 * `default_port` is not 0 the port may be left out ("198.51.100.7",
 * "[2001:db8::1]" or "2001:db8::1") and is then `default_port`.  Ports
 * are 1-65535.  Returns 0, -EINVAL for another form, -ERANGE for a bad
 * port, or -EAFNOSUPPORT as config_value_parse_addr().
 */
int
config_value_parse_addrport(const char *s, int family, uint16_t default_port,
    struct sockaddr_storage *out);

/*
 * Parses "198.51.100.0/24" or "2001:db8::/32" into *out.  Returns 0,
 * -EINVAL for another form, -ERANGE for a length beyond the family's
 * bits, -EDOM when bits below the prefix length are set (the
 * network address is still stored in *out, so an error text can show
 * it), or -EAFNOSUPPORT as config_value_parse_addr().
 */
int
config_value_parse_prefix(const char *s, int family, struct config_prefix *out);

/*
 * Writes an address (with its port, as "[v6]:port", when `with_port`)
 * into `buf` and returns `buf`; "?" for an unknown family.
 */
char *
config_value_format_addr(const struct sockaddr_storage *ss, int with_port,
    char *buf, size_t size);

/* Writes a prefix as "198.51.100.0/24" into `buf` and returns `buf`. */
char *
config_value_format_prefix(const struct config_prefix *p, char *buf,
    size_t size);

#endif /* IKESHIFT_RT_CONFIG_VALUE_H */
