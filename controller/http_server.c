/*
 * HTTP/1.1 server for the API: a request reader over llhttp, and the
 * libuv connection handling with optional TLS over memory BIOs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <llhttp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <uv.h>

#include "http_server.h"
#include "rt/log.h"

enum header_kind {
    HEADER_OTHER,
    HEADER_CONTENT_TYPE,
    HEADER_AUTHORIZATION,
    HEADER_EXPECT,
};

void
http_server_config_init(struct http_server_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->address = HTTP_SERVER_DEFAULT_ADDRESS;
    cfg->port = HTTP_SERVER_DEFAULT_PORT;
    cfg->max_header_bytes = HTTP_SERVER_MAX_HEADER_BYTES;
    cfg->max_body_bytes = HTTP_SERVER_MAX_BODY_BYTES;
    cfg->max_connections = HTTP_SERVER_MAX_CONNECTIONS;
    cfg->idle_timeout_ms = HTTP_SERVER_IDLE_TIMEOUT_MS;
    cfg->request_timeout_ms = HTTP_SERVER_REQUEST_TIMEOUT_MS;
    cfg->max_requests = HTTP_SERVER_MAX_REQUESTS;
}

bool
http_address_is_loopback(const char *address)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (address == NULL)
        return false;
    if (inet_pton(AF_INET, address, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, address, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}

const char *
http_status_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

int
http_response_set_json_take(struct http_response *resp, int status,
    json_t *json)
{
    char *text = NULL;

    resp->status = status;
    if (json != NULL)
        text = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    free(resp->body);
    resp->body = text;
    resp->body_len = text != NULL ? strlen(text) : 0;
    resp->content_type = "application/json";
    return text != NULL ? 0 : -ENOMEM;
}

int
http_response_set_error(struct http_response *resp, int status,
    const char *code, const char *message)
{
    json_t *obj = json_pack("{s:s, s:s}", "error", code, "message", message);

    return http_response_set_json_take(resp, status, obj);
}

/*
 * Serializes `resp` into one malloc'd buffer: status line, headers, body.
 * Returns 0 or -ENOMEM.
 */
static int
http_response_serialize(const struct http_response *resp, bool keep_alive,
    char **out, size_t *out_len)
{
    char head[512];
    int n;

    n = snprintf(head, sizeof(head),
        "HTTP/1.1 %d %s\r\n"
        "Content-Length: %zu\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: %s\r\n"
        "%s%s%s"
        "%s%s%s"
        "%s%s%s"
        "\r\n",
        resp->status, http_status_reason(resp->status), resp->body_len,
        keep_alive ? "keep-alive" : "close",
        resp->content_type != NULL ? "Content-Type: " : "",
        resp->content_type != NULL ? resp->content_type : "",
        resp->content_type != NULL ? "\r\n" : "",
        resp->allow[0] != '\0' ? "Allow: " : "", resp->allow,
        resp->allow[0] != '\0' ? "\r\n" : "",
        resp->www_authenticate[0] != '\0' ? "WWW-Authenticate: " : "",
        resp->www_authenticate,
        resp->www_authenticate[0] != '\0' ? "\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof(head))
        return -EINVAL;

    char *buf = malloc((size_t)n + resp->body_len);
    if (buf == NULL)
        return -ENOMEM;
    memcpy(buf, head, (size_t)n);
    if (resp->body_len > 0)
        memcpy(buf + n, resp->body, resp->body_len);
    *out = buf;
    *out_len = (size_t)n + resp->body_len;
    return 0;
}

/* ---- request reader ---------------------------------------------------- */

static struct http_reader *
reader_of(llhttp_t *parser)
{
    return parser->data;
}

/* Records the first error of a request; llhttp is then stopped with -1. */
static int
reader_fail(struct http_reader *r, int status, const char *code,
    const char *message)
{
    if (r->err_status == 0) {
        r->err_status = status;
        r->err_code = code;
        r->err_message = message;
    }
    return -1;
}

static int
reader_count_header_bytes(struct http_reader *r, size_t len)
{
    r->header_bytes += len;
    if (r->header_bytes > r->cfg->max_header_bytes)
        return reader_fail(r, 431, "header_too_large",
            "the request line and headers exceed the size limit");
    return 0;
}

static int
reader_on_message_begin(llhttp_t *parser)
{
    struct http_reader *r = reader_of(parser);

    r->in_message = true;
    r->header_bytes = 0;
    r->url_len = 0;
    r->field_len = 0;
    r->value_len = 0;
    r->has_content_type = false;
    r->has_authorization = false;
    r->value_too_long = false;
    r->expect_continue = false;
    r->body_len = 0;
    return 0;
}

static int
reader_on_url(llhttp_t *parser, const char *at, size_t len)
{
    struct http_reader *r = reader_of(parser);

    if (reader_count_header_bytes(r, len) < 0)
        return -1;
    memcpy(r->url + r->url_len, at, len);
    r->url_len += len;
    r->url[r->url_len] = '\0';
    return 0;
}

static int
reader_on_header_field(llhttp_t *parser, const char *at, size_t len)
{
    struct http_reader *r = reader_of(parser);

    if (reader_count_header_bytes(r, len) < 0)
        return -1;
    /* Longer names than the buffer are none of the headers we read. */
    size_t room = sizeof(r->field) - 1 - r->field_len;
    size_t n = len < room ? len : room;
    memcpy(r->field + r->field_len, at, n);
    r->field_len += n;
    r->field[r->field_len] = '\0';
    if (n < len)
        r->field[0] = '\0';
    return 0;
}

static int
reader_on_header_field_complete(llhttp_t *parser)
{
    struct http_reader *r = reader_of(parser);

    r->field_kind = HEADER_OTHER;
    if (strcasecmp(r->field, "content-type") == 0)
        r->field_kind = HEADER_CONTENT_TYPE;
    else if (strcasecmp(r->field, "authorization") == 0)
        r->field_kind = HEADER_AUTHORIZATION;
    else if (strcasecmp(r->field, "expect") == 0)
        r->field_kind = HEADER_EXPECT;
    r->field_len = 0;
    r->field[0] = '\0';
    r->value_len = 0;
    return 0;
}

static char *
reader_value_buffer(struct http_reader *r)
{
    switch (r->field_kind) {
    case HEADER_CONTENT_TYPE:
        return r->content_type;
    case HEADER_AUTHORIZATION:
        return r->authorization;
    case HEADER_EXPECT:
        return r->expect;
    default:
        return NULL;
    }
}

static size_t
reader_value_size(struct http_reader *r)
{
    return r->field_kind == HEADER_EXPECT ? sizeof(r->expect)
        : HTTP_HEADER_VALUE_MAX + 1;
}

static int
reader_on_header_value(llhttp_t *parser, const char *at, size_t len)
{
    struct http_reader *r = reader_of(parser);
    char *buf = reader_value_buffer(r);

    if (reader_count_header_bytes(r, len) < 0)
        return -1;
    if (buf == NULL)
        return 0;
    if (len > reader_value_size(r) - 1 - r->value_len) {
        r->value_too_long = true;
        return 0;
    }
    memcpy(buf + r->value_len, at, len);
    r->value_len += len;
    buf[r->value_len] = '\0';
    return 0;
}

static int
reader_on_header_value_complete(llhttp_t *parser)
{
    struct http_reader *r = reader_of(parser);
    char *buf = reader_value_buffer(r);

    if (buf == NULL)
        return 0;
    if (r->value_too_long)
        return reader_fail(r, 431, "header_too_large",
            "a Content-Type, Authorization or Expect value is too long");
    buf[r->value_len] = '\0';
    if (r->field_kind == HEADER_CONTENT_TYPE) {
        if (r->has_content_type)
            return reader_fail(r, 400, "invalid_request",
                "the Content-Type header appears more than once");
        r->has_content_type = true;
    } else if (r->field_kind == HEADER_AUTHORIZATION) {
        if (r->has_authorization)
            return reader_fail(r, 400, "invalid_request",
                "the Authorization header appears more than once");
        r->has_authorization = true;
    } else if (strcasecmp(buf, "100-continue") == 0) {
        r->expect_continue = true;
    } else {
        return reader_fail(r, 417, "expectation_failed",
            "the Expect header has a value other than 100-continue");
    }
    return 0;
}

static int
reader_on_headers_complete(llhttp_t *parser)
{
    struct http_reader *r = reader_of(parser);

    /* Content-Length is known here, so an oversized body is refused
     * before any of it is read; chunked bodies are counted in on_body. */
    if ((parser->flags & F_CONTENT_LENGTH) != 0
        && parser->content_length > r->cfg->max_body_bytes)
        return reader_fail(r, 413, "payload_too_large",
            "the request body exceeds the size limit");
    if (r->expect_continue) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        int rc = r->emit(r->emit_ctx, cont, sizeof(cont) - 1);
        if (rc < 0) {
            r->emit_error = rc;
            return -1;
        }
    }
    return 0;
}

static int
reader_on_body(llhttp_t *parser, const char *at, size_t len)
{
    struct http_reader *r = reader_of(parser);

    if (len > r->cfg->max_body_bytes - r->body_len)
        return reader_fail(r, 413, "payload_too_large",
            "the request body exceeds the size limit");
    if (r->body_len + len + 1 > r->body_cap) {
        size_t cap = r->body_cap != 0 ? r->body_cap : 1024;
        while (cap < r->body_len + len + 1)
            cap *= 2;
        char *body = realloc(r->body, cap);
        if (body == NULL)
            return reader_fail(r, 500, "internal_error", "out of memory");
        r->body = body;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, at, len);
    r->body_len += len;
    return 0;
}

/* Logs one answered request: debug always, warn (limited) for errors. */
static void
reader_log_response(const struct http_reader *r, const char *method,
    int status)
{
    char path[128];
    char peer[80];

    log_escape(path, sizeof(path), r->url, r->url_len);
    log_escape_str(peer, sizeof(peer), r->peer);
    log_debug("http", "request; method=%s path=%s status=%d peer=%s",
        method, path, status, peer);
    if (status < 400 || r->ratelimit == NULL)
        return;

    /* The key is the address without the port. */
    const char *colon = strrchr(r->peer, ':');
    size_t key_len = colon != NULL ? (size_t)(colon - r->peer)
        : strlen(r->peer);
    log_write_limited(r->ratelimit, r->peer, key_len, r->now_ms,
        LOG_LEVEL_WARN, "http", "request failed; method=%s path=%s "
        "status=%d peer=%s", method, path, status, peer);
}

/* Serializes and emits `resp`, then frees its body. */
static int
reader_emit_response(struct http_reader *r, struct http_response *resp,
    const char *method, bool keep_alive)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;

    reader_log_response(r, method, resp->status);
    rc = http_response_serialize(resp, keep_alive, &buf, &len);
    free(resp->body);
    resp->body = NULL;
    if (rc < 0)
        return rc;
    rc = r->emit(r->emit_ctx, buf, len);
    free(buf);
    return rc;
}

static int
reader_on_message_complete(llhttp_t *parser)
{
    struct http_reader *r = reader_of(parser);
    struct http_response resp;
    const char *method = llhttp_method_name(llhttp_get_method(parser));

    r->in_message = false;
    r->requests++;
    if (r->body == NULL) {
        if ((r->body = malloc(1)) == NULL)
            return reader_fail(r, 500, "internal_error", "out of memory");
        r->body_cap = 1;
    }
    r->body[r->body_len] = '\0';

    struct http_request req = {
        .method = method,
        .target = r->url,
        .content_type = r->has_content_type ? r->content_type : NULL,
        .authorization = r->has_authorization ? r->authorization : NULL,
        .body = r->body,
        .body_len = r->body_len,
        .peer = r->peer,
        .reader = r,
    };
    memset(&resp, 0, sizeof(resp));
    resp.status = 500;
    r->handler(r->handler_ctx, &req, &resp);
    if (r->pending != NULL) {
        /* The response comes later; nothing after this request is read. */
        free(resp.body);
        r->close = true;
        return HPE_PAUSED;
    }

    bool keep_alive = llhttp_should_keep_alive(parser)
        && r->requests < r->cfg->max_requests;
    int rc = reader_emit_response(r, &resp, method, keep_alive);
    if (rc < 0) {
        r->emit_error = rc;
        return -1;
    }
    if (!keep_alive) {
        r->close = true;
        return HPE_PAUSED;
    }
    return 0;
}

int
http_reader_init(struct http_reader *r, const struct http_server_config *cfg,
    const char *peer, http_handler_fn *handler, void *handler_ctx,
    http_emit_fn *emit, void *emit_ctx)
{
    memset(r, 0, sizeof(*r));
    r->cfg = cfg;
    r->peer = peer;
    r->handler = handler;
    r->handler_ctx = handler_ctx;
    r->emit = emit;
    r->emit_ctx = emit_ctx;
    if ((r->url = malloc(cfg->max_header_bytes + 1)) == NULL)
        return -ENOMEM;
    r->url[0] = '\0';

    llhttp_settings_init(&r->settings);
    r->settings.on_message_begin = reader_on_message_begin;
    r->settings.on_url = reader_on_url;
    r->settings.on_header_field = reader_on_header_field;
    r->settings.on_header_field_complete = reader_on_header_field_complete;
    r->settings.on_header_value = reader_on_header_value;
    r->settings.on_header_value_complete = reader_on_header_value_complete;
    r->settings.on_headers_complete = reader_on_headers_complete;
    r->settings.on_body = reader_on_body;
    r->settings.on_message_complete = reader_on_message_complete;
    llhttp_init(&r->parser, HTTP_REQUEST, &r->settings);
    r->parser.data = r;
    return 0;
}

/* The reader's half of a deferred response. */
struct http_pending {
    struct http_reader *r;      /* NULL once the connection is gone */
    char method[16];
};

struct http_pending *
http_request_defer(const struct http_request *req)
{
    struct http_reader *r = req->reader;
    struct http_pending *p;

    if (r == NULL || r->pending != NULL ||
        (p = calloc(1, sizeof(*p))) == NULL)
        return NULL;
    p->r = r;
    snprintf(p->method, sizeof(p->method), "%s", req->method);
    r->pending = p;
    return p;
}

void
http_pending_finish(struct http_pending *p, struct http_response *resp)
{
    struct http_reader *r = p->r;

    if (r == NULL) {
        free(resp->body);
        resp->body = NULL;
        free(p);
        return;
    }
    r->pending = NULL;
    if (reader_emit_response(r, resp, p->method, false) < 0)
        r->emit_error = -EIO;
    free(p);
    if (r->deferred_done != NULL)
        r->deferred_done(r->emit_ctx);
}

/* Forgets a deferred response that is still due, for a closing
 * connection. */
static void
reader_drop_pending(struct http_reader *r)
{
    if (r->pending != NULL)
        r->pending->r = NULL;
    r->pending = NULL;
}

void
http_reader_cleanup(struct http_reader *r)
{
    reader_drop_pending(r);
    free(r->url);
    free(r->body);
    r->url = NULL;
    r->body = NULL;
    r->body_cap = 0;
    if (r->authorization[0] != '\0')
        OPENSSL_cleanse(r->authorization, sizeof(r->authorization));
}

/* Answers the error that stopped llhttp and marks the stream closed. */
static int
reader_answer_error(struct http_reader *r, llhttp_errno_t err)
{
    struct http_response resp;
    char message[160];
    int status = r->err_status;
    const char *code = r->err_code;
    const char *text = r->err_message;

    if (status == 0) {
        /* llhttp itself found the request malformed. */
        snprintf(message, sizeof(message), "malformed request: %s",
            llhttp_get_error_reason(&r->parser) != NULL
                ? llhttp_get_error_reason(&r->parser)
                : llhttp_errno_name(err));
        status = 400;
        code = "invalid_request";
        text = message;
    }
    memset(&resp, 0, sizeof(resp));
    http_response_set_error(&resp, status, code, text);
    r->close = true;
    r->in_message = false;
    int rc = reader_emit_response(r, &resp, "-", false);
    return rc < 0 ? rc : 1;
}

int
http_reader_feed(struct http_reader *r, const char *data, size_t len)
{
    if (r->close)
        return 1;

    llhttp_errno_t err = llhttp_execute(&r->parser, data, len);
    if (r->emit_error < 0)
        return r->emit_error;
    if (err == HPE_OK)
        return 0;
    if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
        /* Connection: close, the request limit, or an Upgrade request;
         * none of them may be followed by another request. */
        r->close = true;
        return 1;
    }
    return reader_answer_error(r, err);
}

bool
http_reader_timeout(struct http_reader *r)
{
    if (!r->in_message || r->close)
        return false;
    r->err_status = 408;
    r->err_code = "request_timeout";
    r->err_message = "the request was not complete within the time limit";
    return reader_answer_error(r, HPE_OK) >= 0;
}

bool
http_reader_in_request(const struct http_reader *r)
{
    return r->in_message;
}

/* ---- connections ------------------------------------------------------- */

#define CONN_READ_SIZE  16384
#define RATELIMIT_BURST 5
#define RATELIMIT_MS    10000

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    struct http_server_config cfg;
    char *address;                  /* cfg.address, owned */
    http_handler_fn *handler;
    void *handler_ctx;
    SSL_CTX *ssl_ctx;               /* NULL without TLS */
    struct log_ratelimit *ratelimit;
    struct http_conn *conns;        /* doubly linked list */
    unsigned n_conns;
    bool listening;                 /* the listener handle is open */
    bool closing;
    uint16_t port;
};

enum conn_timer_mode {
    CONN_TIMER_NONE,
    CONN_TIMER_FIRST_BYTE,          /* accepted, no request started yet */
    CONN_TIMER_IDLE,
    CONN_TIMER_REQUEST,
};

struct http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    struct http_server *srv;
    struct http_conn *prev;
    struct http_conn *next;
    struct http_reader reader;
    SSL *ssl;
    BIO *rbio;                      /* network -> OpenSSL, owned by ssl */
    BIO *wbio;                      /* OpenSSL -> network, owned by ssl */
    bool handshake_done;
    bool closing;
    bool shutting_down;
    int open_handles;
    enum conn_timer_mode timer_mode;
    unsigned timer_requests;        /* reader.requests when armed */
    char peer[64];
    char rbuf[CONN_READ_SIZE];
};

struct conn_write {
    uv_write_t req;
    size_t len;
    char data[];
};

static void
server_maybe_free(struct http_server *srv)
{
    if (!srv->closing || srv->listening || srv->n_conns > 0)
        return;
    SSL_CTX_free(srv->ssl_ctx);
    log_ratelimit_free(srv->ratelimit);
    free(srv->address);
    free(srv);
}

static void
conn_on_close(uv_handle_t *handle)
{
    struct http_conn *c = handle->data;

    if (--c->open_handles > 0)
        return;

    struct http_server *srv = c->srv;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    srv->n_conns--;
    SSL_free(c->ssl);
    http_reader_cleanup(&c->reader);
    free(c);
    server_maybe_free(srv);
}

static void
conn_close(struct http_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    reader_drop_pending(&c->reader);
    uv_close((uv_handle_t *)&c->tcp, conn_on_close);
    uv_close((uv_handle_t *)&c->timer, conn_on_close);
}

static void
conn_on_write(uv_write_t *req, int status)
{
    struct conn_write *w = (struct conn_write *)req;
    struct http_conn *c = req->data;

    free(w);
    if (status < 0 && status != UV_ECANCELED)
        conn_close(c);
}

/* Queues data[0..len) on the socket as it is. */
static int
conn_write_raw(struct http_conn *c, const char *data, size_t len)
{
    struct conn_write *w;

    if (c->closing)
        return -EPIPE;
    if ((w = malloc(sizeof(*w) + len)) == NULL)
        return -ENOMEM;
    memcpy(w->data, data, len);
    w->len = len;
    w->req.data = c;
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1,
        conn_on_write);
    if (rc < 0)
        free(w);
    return rc;
}

/* Sends whatever OpenSSL has written into the outgoing memory BIO. */
static int
conn_flush_tls(struct http_conn *c)
{
    char buf[CONN_READ_SIZE];
    int n;

    while ((n = BIO_read(c->wbio, buf, sizeof(buf))) > 0) {
        int rc = conn_write_raw(c, buf, (size_t)n);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int
conn_emit(void *ctx, const char *data, size_t len)
{
    struct http_conn *c = ctx;

    if (c->ssl == NULL)
        return conn_write_raw(c, data, len);
    if (len > 0 && SSL_write(c->ssl, data, (int)len) <= 0) {
        ERR_clear_error();
        return -EIO;
    }
    return conn_flush_tls(c);
}

static void
conn_on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    conn_close(req->data);
}

/* Closes after the queued responses are written. */
static void
conn_finish(struct http_conn *c)
{
    if (c->closing || c->shutting_down)
        return;
    c->shutting_down = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_timer_stop(&c->timer);
    if (c->ssl != NULL && c->handshake_done) {
        SSL_shutdown(c->ssl);
        conn_flush_tls(c);
    }
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp,
            conn_on_shutdown) < 0)
        conn_close(c);
}

static void
conn_on_timer(uv_timer_t *timer)
{
    struct http_conn *c = timer->data;

    if (c->timer_mode == CONN_TIMER_REQUEST) {
        c->reader.now_ms = uv_now(c->srv->loop);
        http_reader_timeout(&c->reader);
    }
    conn_finish(c);
}

/*
 * Arms the request timer during a request and the idle timer between two.
 * A new connection gets the request timeout until its first request starts,
 * so connections that never send anything cannot hold every slot for the
 * longer idle timeout.  The TLS handshake runs inside that first-byte
 * window too.
 */
static void
conn_arm_timer(struct http_conn *c)
{
    const struct http_server_config *cfg = &c->srv->cfg;

    if (c->timer_mode == CONN_TIMER_NONE) {
        c->timer_mode = CONN_TIMER_FIRST_BYTE;
        uv_timer_start(&c->timer, conn_on_timer, cfg->request_timeout_ms, 0);
        return;
    }
    if (c->timer_mode == CONN_TIMER_FIRST_BYTE && c->reader.requests == 0
        && !http_reader_in_request(&c->reader))
        return;
    if (http_reader_in_request(&c->reader)) {
        if (c->timer_mode == CONN_TIMER_REQUEST
            && c->timer_requests == c->reader.requests)
            return;
        c->timer_mode = CONN_TIMER_REQUEST;
        c->timer_requests = c->reader.requests;
        uv_timer_start(&c->timer, conn_on_timer, cfg->request_timeout_ms, 0);
    } else if (c->timer_mode != CONN_TIMER_IDLE) {
        c->timer_mode = CONN_TIMER_IDLE;
        uv_timer_start(&c->timer, conn_on_timer, cfg->idle_timeout_ms, 0);
    }
}

static void
conn_feed(struct http_conn *c, const char *data, size_t len)
{
    c->reader.now_ms = uv_now(c->srv->loop);
    if (http_reader_feed(&c->reader, data, len) != 0) {
        /* A deferred response is due: read nothing more, and finish
         * once it went out (conn_deferred_done). */
        if (c->reader.pending != NULL) {
            uv_read_stop((uv_stream_t *)&c->tcp);
            uv_timer_stop(&c->timer);
            return;
        }
        conn_finish(c);
        return;
    }
    conn_arm_timer(c);
}

static void
conn_deferred_done(void *ctx)
{
    conn_finish(ctx);
}

static void
conn_log_tls_error(struct http_conn *c, const char *what)
{
    char reason[160];
    char peer[80];
    unsigned long e = ERR_peek_last_error();

    ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    log_escape_str(peer, sizeof(peer), c->peer);
    const char *colon = strrchr(c->peer, ':');
    size_t key_len = colon != NULL ? (size_t)(colon - c->peer)
        : strlen(c->peer);
    log_write_limited(c->srv->ratelimit, c->peer, key_len,
        uv_now(c->srv->loop), LOG_LEVEL_WARN, "http",
        "%s; peer=%s reason=\"%s\"", what, peer, reason);
}

/* Runs the handshake and decrypts what arrived in the incoming BIO. */
static void
conn_read_tls(struct http_conn *c, const char *data, size_t len)
{
    char plain[CONN_READ_SIZE];

    if (BIO_write(c->rbio, data, (int)len) != (int)len) {
        conn_close(c);
        return;
    }
    if (!c->handshake_done) {
        int rc = SSL_do_handshake(c->ssl);
        conn_flush_tls(c);
        if (rc != 1) {
            int e = SSL_get_error(c->ssl, rc);
            if (e == SSL_ERROR_WANT_READ) {
                conn_arm_timer(c);
                return;
            }
            conn_log_tls_error(c, "TLS handshake failed");
            conn_finish(c);
            return;
        }
        c->handshake_done = true;
    }
    while (!c->closing && !c->shutting_down) {
        int n = SSL_read(c->ssl, plain, sizeof(plain));
        if (n > 0) {
            conn_feed(c, plain, (size_t)n);
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ)
            break;
        if (e != SSL_ERROR_ZERO_RETURN)
            conn_log_tls_error(c, "TLS read failed");
        conn_finish(c);
        break;
    }
}

static void
conn_on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    struct http_conn *c = handle->data;

    (void)suggested;
    *buf = uv_buf_init(c->rbuf, sizeof(c->rbuf));
}

static void
conn_on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct http_conn *c = stream->data;

    if (nread < 0) {
        /* EOF or a reset: what was answered is still written out. */
        conn_finish(c);
        return;
    }
    if (nread == 0)
        return;
    if (c->ssl != NULL)
        conn_read_tls(c, buf->base, (size_t)nread);
    else
        conn_feed(c, buf->base, (size_t)nread);
}

static void
conn_set_peer(struct http_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
            uv_ip4_name(sin, host, sizeof(host));
            port = ntohs(sin->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
            uv_ip6_name(s6, host, sizeof(host));
            port = ntohs(s6->sin6_port);
        }
    }
    snprintf(c->peer, sizeof(c->peer), "%s:%u", host, port);
}

/* Answers a connection beyond max_connections with 503 and closes it. */
static void
conn_reject_busy(struct http_conn *c)
{
    struct http_response resp;
    char *buf = NULL;
    size_t len = 0;

    log_write_limited(c->srv->ratelimit, "busy", 4, uv_now(c->srv->loop),
        LOG_LEVEL_WARN, "http", "connection rejected; reason=too_many "
        "max_connections=%u", c->srv->cfg.max_connections);
    /* A TLS client cannot read a plain answer, so it only sees the close. */
    if (c->ssl == NULL) {
        memset(&resp, 0, sizeof(resp));
        http_response_set_error(&resp, 503, "service_unavailable",
            "too many connections; retry later");
        if (http_response_serialize(&resp, false, &buf, &len) == 0)
            conn_write_raw(c, buf, len);
        free(buf);
        free(resp.body);
    }
    conn_finish(c);
}

static int
conn_start_tls(struct http_conn *c)
{
    if ((c->ssl = SSL_new(c->srv->ssl_ctx)) == NULL)
        return -ENOMEM;
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (c->rbio == NULL || c->wbio == NULL) {
        BIO_free(c->rbio);
        BIO_free(c->wbio);
        return -ENOMEM;
    }
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_accept_state(c->ssl);
    return 0;
}

static void
server_on_connection(uv_stream_t *listener, int status)
{
    struct http_server *srv = listener->data;
    struct http_conn *c;

    if (status < 0 || srv->closing)
        return;
    if ((c = calloc(1, sizeof(*c))) == NULL) {
        log_error("http", "cannot accept connection; error=ENOMEM");
        return;
    }
    c->srv = srv;
    uv_tcp_init(srv->loop, &c->tcp);
    uv_timer_init(srv->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->open_handles = 2;
    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;
    srv->n_conns++;

    if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    conn_set_peer(c);
    if (srv->ssl_ctx != NULL && conn_start_tls(c) < 0) {
        conn_close(c);
        return;
    }
    if (http_reader_init(&c->reader, &srv->cfg, c->peer, srv->handler,
            srv->handler_ctx, conn_emit, c) < 0) {
        conn_close(c);
        return;
    }
    c->reader.ratelimit = srv->ratelimit;
    c->reader.deferred_done = conn_deferred_done;
    if (srv->n_conns > srv->cfg.max_connections) {
        conn_reject_busy(c);
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->tcp, conn_on_alloc,
            conn_on_read) < 0) {
        conn_close(c);
        return;
    }
    conn_arm_timer(c);
}

/* Loads the certificate chain and key into a server context. */
static SSL_CTX *
server_new_tls(const struct http_server_config *cfg, int *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    *err = -ENOMEM;
    if (ctx == NULL)
        goto fail;
    *err = -EINVAL;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
        goto fail;
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert_file) != 1) {
        log_error("http", "cannot load TLS certificate; file=%s",
            cfg->tls_cert_file);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key_file,
            SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        log_error("http", "cannot load TLS key or it does not match the "
            "certificate; file=%s", cfg->tls_key_file);
        goto fail;
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    *err = 0;
    return ctx;
fail:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

static int
server_bind(struct http_server *srv)
{
    struct sockaddr_storage ss;
    int rc;

    if (uv_ip4_addr(srv->address, srv->cfg.port,
            (struct sockaddr_in *)&ss) != 0
        && (rc = uv_ip6_addr(srv->address, srv->cfg.port,
            (struct sockaddr_in6 *)&ss)) != 0)
        return rc;
    if ((rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&ss, 0)) < 0)
        return rc;
    if ((rc = uv_listen((uv_stream_t *)&srv->listener, 128,
            server_on_connection)) < 0)
        return rc;

    int len = sizeof(ss);
    if ((rc = uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss,
            &len)) < 0)
        return rc;
    if (ss.ss_family == AF_INET)
        srv->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    else
        srv->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

static void
server_on_listener_close(uv_handle_t *handle)
{
    struct http_server *srv = handle->data;

    srv->listening = false;
    server_maybe_free(srv);
}

struct http_server *
http_server_new(uv_loop_t *loop, const struct http_server_config *cfg,
    http_handler_fn *handler, void *handler_ctx, int *err)
{
    struct http_server *srv;
    bool tls = cfg->tls_cert_file != NULL && cfg->tls_key_file != NULL;
    const char *address = cfg->address != NULL ? cfg->address
        : HTTP_SERVER_DEFAULT_ADDRESS;
    char addr_text[80];

    log_escape_str(addr_text, sizeof(addr_text), address);
    if (!tls && !http_address_is_loopback(address)) {
        log_error("http", "refusing to serve the API without TLS on a "
            "non-loopback address; set a TLS certificate and key, or bind "
            "127.0.0.1; address=%s", addr_text);
        *err = -EPERM;
        return NULL;
    }
    if (cfg->max_header_bytes == 0 || cfg->max_connections == 0
        || cfg->idle_timeout_ms == 0 || cfg->request_timeout_ms == 0
        || cfg->max_requests == 0) {
        *err = -EINVAL;
        return NULL;
    }
    *err = -ENOMEM;
    if ((srv = calloc(1, sizeof(*srv))) == NULL)
        return NULL;
    srv->loop = loop;
    srv->cfg = *cfg;
    srv->handler = handler;
    srv->handler_ctx = handler_ctx;
    srv->address = strdup(address);
    srv->ratelimit = log_ratelimit_new(RATELIMIT_BURST, RATELIMIT_MS, 256);
    if (srv->address == NULL || srv->ratelimit == NULL)
        goto fail;
    srv->cfg.address = srv->address;
    /* The file names are only needed here, so they are not kept. */
    srv->cfg.tls_cert_file = NULL;
    srv->cfg.tls_key_file = NULL;
    if (tls && (srv->ssl_ctx = server_new_tls(cfg, err)) == NULL)
        goto fail;

    uv_tcp_init(loop, &srv->listener);
    srv->listener.data = srv;
    srv->listening = true;
    if ((*err = server_bind(srv)) < 0) {
        log_error("http", "cannot listen; address=%s port=%u error=%s",
            addr_text, (unsigned)cfg->port, uv_strerror(*err));
        srv->closing = true;
        uv_close((uv_handle_t *)&srv->listener, server_on_listener_close);
        return NULL;
    }
    log_notice("http", "API listening; address=%s port=%u tls=%s",
        addr_text, (unsigned)srv->port, tls ? "on" : "off");
    *err = 0;
    return srv;
fail:
    SSL_CTX_free(srv->ssl_ctx);
    log_ratelimit_free(srv->ratelimit);
    free(srv->address);
    free(srv);
    return NULL;
}

uint16_t
http_server_get_port(const struct http_server *srv)
{
    return srv->port;
}

unsigned
http_server_connection_count(const struct http_server *srv)
{
    return srv->n_conns;
}

void
http_server_free(struct http_server *srv)
{
    if (srv == NULL || srv->closing)
        return;
    log_notice("http", "API stopping; port=%u connections=%u",
        (unsigned)srv->port, srv->n_conns);
    srv->closing = true;
    for (struct http_conn *c = srv->conns; c != NULL; c = c->next)
        conn_close(c);
    uv_close((uv_handle_t *)&srv->listener, server_on_listener_close);
}
