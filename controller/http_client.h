/*
 * Small blocking HTTP/1.1 client for ikeshiftctl and the tests: one
 * request per connection over TCP, the response read with llhttp.
 */
#ifndef IKESHIFT_HTTP_CLIENT_H
#define IKESHIFT_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_CLIENT_HOST_MAX        255
#define HTTP_CLIENT_BODY_MAX        (4u << 20)

/* A parsed http:// URL. */
struct http_url {
    char host[HTTP_CLIENT_HOST_MAX + 1];    /* IP literal, without [] */
    uint16_t port;
};

struct http_client_response {
    int status;
    char *body;             /* NUL-terminated, owned; http_client_free() */
    size_t body_len;
    char content_type[128];
};

/*
 * Parses "http://HOST[:PORT][/]" where HOST is an IPv4 address or an IPv6
 * address in brackets; the port defaults to 80.  Returns 0, -ENOTSUP for
 * https:// or another scheme, or -EINVAL.
 */
int
http_url_parse(const char *url, struct http_url *out);

/*
 * Sends `method` `path` to `url` with `token` as a bearer token (NULL for
 * none) and `body` as application/json (NULL for none), and reads the
 * whole response, waiting at most `timeout_ms` per socket operation.
 * Returns 0 with *resp filled, -ECONNREFUSED, -ETIMEDOUT or another
 * negative errno when the server cannot be reached, or -EPROTO for a
 * malformed response.
 */
int
http_client_request(const struct http_url *url, const char *method,
    const char *path, const char *token, const char *body, int timeout_ms,
    struct http_client_response *resp);

/* Frees the response body; a zeroed response is accepted. */
void
http_client_free(struct http_client_response *resp);

#endif /* IKESHIFT_HTTP_CLIENT_H */
