/*
 * HTTP/1.1 server for the controller's API, on a libuv loop.  Requests are
 * parsed with llhttp; the server enforces the limits of struct
 * http_server_config (header and body size, connections, idle and request
 * timeouts, requests per connection) and responds to violations itself.
 * Every complete request goes to one handler function, which fills the
 * response synchronously.  TLS runs through OpenSSL over memory BIOs when a
 * certificate and key are configured.
 *
 * The request reader (struct http_reader) is public so that the fuzz
 * harness can drive llhttp and the handler without sockets.
 */
#ifndef IKESHIFT_HTTP_SERVER_H
#define IKESHIFT_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <llhttp.h>
#include <uv.h>

struct log_ratelimit;

/* TCP port of the API when none is configured; ikeshiftctl uses it too. */
#define HTTP_SERVER_DEFAULT_PORT        8680
#define HTTP_SERVER_DEFAULT_ADDRESS     "127.0.0.1"

#define HTTP_SERVER_MAX_HEADER_BYTES    8192
#define HTTP_SERVER_MAX_BODY_BYTES      65536
#define HTTP_SERVER_MAX_CONNECTIONS     64
#define HTTP_SERVER_IDLE_TIMEOUT_MS     30000
#define HTTP_SERVER_REQUEST_TIMEOUT_MS  10000
#define HTTP_SERVER_MAX_REQUESTS        1000

/* Longest Content-Type or Authorization value that a request may carry. */
#define HTTP_HEADER_VALUE_MAX           1024

/* One parsed request, lent to the handler for the duration of the call. */
struct http_request {
    const char *method;         /* "GET", "POST", ... */
    const char *target;         /* request target as sent, e.g. "/v1/plan" */
    const char *content_type;   /* NULL when absent */
    const char *authorization;  /* NULL when absent */
    const char *body;           /* NUL-terminated, body_len bytes */
    size_t body_len;
    const char *peer;           /* "address:port" of the client */
    struct http_reader *reader; /* for http_request_defer() */
};

/* The handler's response.  The server frees `body` with free(). */
struct http_response {
    int status;
    const char *content_type;   /* static string; NULL for no body type */
    char *body;
    size_t body_len;
    char allow[64];             /* Allow header value for 405, or "" */
    char www_authenticate[128]; /* WWW-Authenticate value for 401, or "" */
};

/* Fills `resp` for one request.  Must not keep `req` after returning. */
typedef void http_handler_fn(void *ctx, const struct http_request *req,
    struct http_response *resp);

/* A response that a handler sends later (http_request_defer()). */
struct http_pending;

/*
 * Called by a handler, during its call, to respond later: the handler
 * then leaves `resp` empty and returns, and http_pending_finish() sends
 * the response.  The connection reads no further request and closes after
 * that response.  Returns NULL when out of memory or when the request
 * cannot be deferred (the handler then responds at once).
 */
struct http_pending *
http_request_defer(const struct http_request *req);

/*
 * Sends `resp` (its body is taken) as the deferred response and frees
 * `p`.  If the client has closed the connection meanwhile, the response is
 * dropped.
 */
void
http_pending_finish(struct http_pending *p, struct http_response *resp);

struct http_server_config {
    const char *address;        /* IPv4 or IPv6 literal to bind */
    uint16_t port;              /* 0 lets the kernel choose (tests) */
    const char *tls_cert_file;  /* PEM; TLS is on when both are set */
    const char *tls_key_file;
    size_t max_header_bytes;    /* request line plus headers; 431 beyond */
    size_t max_body_bytes;      /* 413 beyond */
    unsigned max_connections;   /* further connections get 503 */
    uint32_t idle_timeout_ms;   /* keep-alive connection without a request */
    uint32_t request_timeout_ms;    /* first byte to last byte; 408 */
    unsigned max_requests;      /* per connection, then Connection: close */
};

/*
 * Fills `cfg` with the defaults above: loopback, HTTP_SERVER_DEFAULT_PORT,
 * no TLS.
 */
void
http_server_config_init(struct http_server_config *cfg);

/*
 * Returns true if `address` is an IPv4 address in 127.0.0.0/8 or the IPv6
 * address ::1; every other text, including names, is not loopback.
 */
bool
http_address_is_loopback(const char *address);

/*
 * Fills `resp` with a JSON error body {"error": code, "message": message}.
 * Returns 0 or -ENOMEM, in which case the body is empty but the status is
 * still set.
 */
int
http_response_set_error(struct http_response *resp, int status,
    const char *code, const char *message);

/*
 * Fills `resp` with `status` and the JSON text of `json`, which it takes
 * (the reference is released).  Returns 0 or -ENOMEM.
 */
int
http_response_set_json_take(struct http_response *resp, int status,
    json_t *json);

/* Returns the reason phrase of `status`, "Unknown" when it has none. */
const char *
http_status_reason(int status);

/*
 * Request reader: llhttp plus the limits on one byte stream.  It calls the
 * handler for every complete request and the emit function with every
 * serialized response, in request order, so pipelined requests get their
 * responses in order.
 */
typedef int http_emit_fn(void *ctx, const char *data, size_t len);

struct http_reader {
    llhttp_t parser;
    llhttp_settings_t settings;
    const struct http_server_config *cfg;   /* borrowed */
    http_handler_fn *handler;
    void *handler_ctx;
    http_emit_fn *emit;
    void *emit_ctx;
    const char *peer;                       /* borrowed */
    size_t header_bytes;
    bool in_message;        /* a request has started and is not complete */
    bool close;             /* stop after the response just emitted */
    unsigned requests;
    int emit_error;         /* first error that emit returned */
    char *url;              /* max_header_bytes + 1 */
    size_t url_len;
    char field[32];
    size_t field_len;
    int field_kind;         /* which header the value belongs to */
    char content_type[HTTP_HEADER_VALUE_MAX + 1];
    char authorization[HTTP_HEADER_VALUE_MAX + 1];
    size_t value_len;
    bool has_content_type;
    bool has_authorization;
    char expect[32];
    bool value_too_long;
    bool expect_continue;
    int err_status;         /* error that stopped llhttp, or 0 */
    const char *err_code;
    const char *err_message;
    struct log_ratelimit *ratelimit;    /* borrowed, NULL for no warn */
    uint64_t now_ms;        /* monotonic time for the rate limit */
    char *body;
    size_t body_len;
    size_t body_cap;
    struct http_pending *pending;   /* a deferred response is due */
    /* Called with emit_ctx once the deferred response went out; NULL
     * for none. */
    void (*deferred_done)(void *ctx);
};

/*
 * Prepares `r` for one connection.  `cfg`, `peer` and both contexts are
 * borrowed for the reader's lifetime.  Returns 0 or -ENOMEM; release with
 * http_reader_cleanup() in either case.
 */
int
http_reader_init(struct http_reader *r, const struct http_server_config *cfg,
    const char *peer, http_handler_fn *handler, void *handler_ctx,
    http_emit_fn *emit, void *emit_ctx);

/* Frees the reader's buffers; a zeroed reader is accepted. */
void
http_reader_cleanup(struct http_reader *r);

/*
 * Parses data[0..len), answering each complete request.  A malformed
 * request or a broken limit is answered with its error status.  Returns 0
 * while the connection may go on, 1 when it must be closed after the
 * emitted responses (an error, Connection: close, or the request limit),
 * or the negative error that emit returned.
 */
int
http_reader_feed(struct http_reader *r, const char *data, size_t len);

/*
 * Answers the request in progress with 408 when one has started.  Returns
 * true if a response was emitted.  The connection must then be closed.
 */
bool
http_reader_timeout(struct http_reader *r);

/* Returns true while a request is partly read. */
bool
http_reader_in_request(const struct http_reader *r);

struct http_server;

/*
 * Creates a server on `loop` (borrowed) that binds and listens at once.
 * `cfg` is copied, with its strings.  The server refuses (NULL, with *err
 * set to -EPERM and an error logged) to listen on a non-loopback address
 * without TLS.  Other failures return NULL with the libuv or OpenSSL
 * error in *err (-EINVAL for an unreadable certificate or key).
 */
struct http_server *
http_server_new(uv_loop_t *loop, const struct http_server_config *cfg,
    http_handler_fn *handler, void *handler_ctx, int *err);

/* Returns the port the server listens on (the chosen one for port 0). */
uint16_t
http_server_get_port(const struct http_server *srv);

/* Returns the number of open connections. */
unsigned
http_server_connection_count(const struct http_server *srv);

/*
 * Closes the listener and every connection, then frees the server from
 * the last close callback.  `srv` must not be used after the call; NULL
 * is accepted.  The loop's uv_run() returns once everything is closed.
 */
void
http_server_free(struct http_server *srv);

#endif /* IKESHIFT_HTTP_SERVER_H */
