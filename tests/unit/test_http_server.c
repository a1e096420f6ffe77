/*
 * The HTTP server and the API over real TCP on loopback, against a fake
 * backend that implements the callback interface of api.h.  The server
 * runs on its own libuv loop in a second thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <uv.h>

#include "api.h"
#include "http_client.h"
#include "http_server.h"
#include "rt/log.h"

#define RW_TOKEN "rw-secret-token"
#define RO_TOKEN "ro-secret-token"

/* Fake backend: one gateway "gw1" whose drain advances on every read. */
struct fake {
    pthread_mutex_t lock;
    int drains;
    struct drain_params last_params;
    char last_id[CLUSTER_ID_MAX + 1];
    struct api_redirect last_redirect;
    int remaining;          /* IKE SAs left on gw1 */
    bool draining;
    /* A drain of "gw-later" ("gw-lost") gets its response 100 ms later,
     * as stored (as refused by the fence). */
    uv_timer_t later;
    bool later_started;
    bool later_lost;
    api_done_fn *later_done;
    void *later_arg;
};

struct fixture {
    uv_loop_t loop;
    uv_async_t stop;
    pthread_t thread;
    struct http_server *srv;
    struct api *api;
    struct fake fake;
    struct http_url url;
    char url_text[64];
};

static struct fixture fx;

static uv_loop_t *
fx_loop(void)
{
    return &fx.loop;
}

static json_t *
fake_gateway_json(struct fake *f)
{
    const char *state = !f->draining ? "active"
        : f->remaining > 0 ? "evacuating" : "drained";

    return json_pack("{s:s, s:b, s:s, s:i, s:i, s:f, s:{s:s, s:i, s:f}}",
        "gateway_id", "gw1", "live", 1, "admin",
        f->draining ? "draining" : "active", "ike_sas", f->remaining,
        "capacity", 1000, "load", 0.25, "drain", "state", state,
        "remaining", f->remaining, "rate_per_s", 10.0);
}

static int
fake_get_cluster(void *ctx, json_t **out, char *msg)
{
    (void)ctx;
    (void)msg;
    *out = json_pack("{s:s, s:i, s:i, s:i}", "leader_id", "ctl-a",
        "plan_epoch", 42, "gateways", 1, "live", 1);
    return 0;
}

static int
fake_list_gateways(void *ctx, json_t **out, char *msg)
{
    struct fake *f = ctx;

    (void)msg;
    pthread_mutex_lock(&f->lock);
    *out = json_pack("{s:[o]}", "gateways", fake_gateway_json(f));
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int
fake_get_gateway(void *ctx, const char *id, json_t **out, char *msg)
{
    struct fake *f = ctx;

    if (strcmp(id, "gw1") != 0) {
        snprintf(msg, API_MESSAGE_MAX, "gateway %s is not known", id);
        return -ENOENT;
    }
    pthread_mutex_lock(&f->lock);
    *out = fake_gateway_json(f);
    if (f->draining && f->remaining > 0)
        f->remaining -= 10;
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int
fake_get_plan(void *ctx, json_t **out, char *msg)
{
    (void)ctx;
    (void)msg;
    *out = json_pack("{s:i, s:[{s:s, s:b, s:i}]}", "epoch", 42, "gateways",
        "gateway_id", "gw1", "accept_new", 1, "weight", 100);
    return 0;
}

static void
fake_later_cb(uv_timer_t *timer)
{
    struct fake *f = timer->data;

    if (f->later_lost)
        f->later_done(f->later_arg, -EAGAIN, NULL, "lost the lease");
    else
        f->later_done(f->later_arg, 0, json_pack("{s:s}", "gateway_id",
            "gw-later"), "");
}

static int
fake_drain(void *ctx, const char *id, const struct drain_params *params,
    json_t **out, char *msg, api_done_fn *done, void *done_arg)
{
    struct fake *f = ctx;

    if (strcmp(id, "gw-now") == 0) {
        /* Completes before it returns: the API must respond at once. */
        done(done_arg, 0, json_pack("{s:s}", "gateway_id", "gw-now"), "");
        return 1;
    }
    if (strcmp(id, "gw-later") == 0 || strcmp(id, "gw-lost") == 0) {
        /* The handler runs on the server's loop, so the timer may start. */
        f->later_lost = strcmp(id, "gw-lost") == 0;
        f->later_done = done;
        f->later_arg = done_arg;
        if (!f->later_started) {
            uv_timer_init(fx_loop(), &f->later);
            f->later.data = f;
            f->later_started = true;
        }
        uv_timer_start(&f->later, fake_later_cb, 100, 0);
        return 1;
    }
    if (strcmp(id, "gw1") != 0) {
        snprintf(msg, API_MESSAGE_MAX, "gateway %s is not known", id);
        return -ENOENT;
    }
    pthread_mutex_lock(&f->lock);
    if (f->draining) {
        pthread_mutex_unlock(&f->lock);
        snprintf(msg, API_MESSAGE_MAX, "gateway gw1 is already draining");
        return -EALREADY;
    }
    f->drains++;
    f->last_params = *params;
    snprintf(f->last_id, sizeof(f->last_id), "%s", id);
    f->draining = true;
    *out = fake_gateway_json(f);
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int
fake_resume(void *ctx, const char *id, json_t **out, char *msg)
{
    struct fake *f = ctx;

    (void)msg;
    if (strcmp(id, "gw1") != 0)
        return -ENOENT;
    pthread_mutex_lock(&f->lock);
    f->draining = false;
    *out = fake_gateway_json(f);
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int
fake_redirect(void *ctx, const struct api_redirect *req, json_t **out,
    char *msg)
{
    struct fake *f = ctx;

    (void)msg;
    pthread_mutex_lock(&f->lock);
    f->last_redirect = *req;
    pthread_mutex_unlock(&f->lock);
    *out = json_pack("{s:i}", "matched", 1);
    return 0;
}

static int
fake_metrics(void *ctx, char **text, char *msg)
{
    (void)ctx;
    (void)msg;
    *text = strdup("# TYPE ikeshift_gateways gauge\nikeshift_gateways 1\n");
    return *text != NULL ? 0 : -ENOMEM;
}

static void *
loop_thread(void *arg)
{
    uv_run(arg, UV_RUN_DEFAULT);
    return NULL;
}

static void
on_stop(uv_async_t *async)
{
    http_server_free(fx.srv);
    if (fx.fake.later_started)
        uv_close((uv_handle_t *)&fx.fake.later, NULL);
    uv_close((uv_handle_t *)async, NULL);
}

/* Starts the server with `cfg` changes applied by the caller's values. */
static void
fixture_start(struct http_server_config *cfg, bool read_requires_token)
{
    static const struct api_backend backend = {
        .ctx = &fx.fake,
        .get_cluster = fake_get_cluster,
        .list_gateways = fake_list_gateways,
        .get_gateway = fake_get_gateway,
        .get_plan = fake_get_plan,
        .drain = fake_drain,
        .resume = fake_resume,
        .redirect = fake_redirect,
        .metrics = fake_metrics,
    };
    struct api_config acfg = {
        .read_write_token = RW_TOKEN,
        .read_only_token = RO_TOKEN,
        .read_requires_token = read_requires_token,
    };
    int err;

    log_set_level(LOG_LEVEL_ERROR);
    memset(&fx, 0, sizeof(fx));
    pthread_mutex_init(&fx.fake.lock, NULL);
    fx.fake.remaining = 30;
    cr_assert_eq(uv_loop_init(&fx.loop), 0);
    fx.api = api_new(&acfg, &backend);
    cr_assert_not_null(fx.api);
    fx.srv = http_server_new(&fx.loop, cfg, api_handle_request, fx.api,
        &err);
    cr_assert_not_null(fx.srv, "http_server_new failed: %d", err);
    cr_assert_eq(uv_async_init(&fx.loop, &fx.stop, on_stop), 0);
    snprintf(fx.url_text, sizeof(fx.url_text), "http://127.0.0.1:%u",
        (unsigned)http_server_get_port(fx.srv));
    cr_assert_eq(http_url_parse(fx.url_text, &fx.url), 0);
    cr_assert_eq(pthread_create(&fx.thread, NULL, loop_thread, &fx.loop), 0);
}

static void
setup(void)
{
    struct http_server_config cfg;

    http_server_config_init(&cfg);
    cfg.port = 0;
    cfg.max_body_bytes = 1024;
    cfg.max_header_bytes = 2048;
    cfg.max_connections = 4;
    cfg.request_timeout_ms = 300;
    cfg.idle_timeout_ms = 2000;
    fixture_start(&cfg, false);
}

static void
teardown(void)
{
    if (fx.srv == NULL)
        return;
    uv_async_send(&fx.stop);
    pthread_join(fx.thread, NULL);
    uv_loop_close(&fx.loop);
    api_free(fx.api);
    pthread_mutex_destroy(&fx.fake.lock);
}

/* Connects a plain blocking socket to the test server. */
static int
raw_connect(uint16_t port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    struct timeval tv = { .tv_sec = 3 };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    cr_assert_geq(fd, 0);
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    return fd;
}

/* Reads until the server closes (or 3 s pass) into a NUL-terminated buf. */
static size_t
raw_read_all(int fd, char *buf, size_t size)
{
    size_t len = 0;
    ssize_t n;

    while (len + 1 < size && (n = recv(fd, buf + len, size - 1 - len, 0)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    return len;
}

/* Sends `req` as is and returns everything the server writes back. */
static char *
raw_exchange(const char *req, size_t len)
{
    static char buf[65536];
    int fd = raw_connect(http_server_get_port(fx.srv));

    cr_assert_eq(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    raw_read_all(fd, buf, sizeof(buf));
    close(fd);
    return buf;
}

static int
status_of(const char *response)
{
    int status = -1;

    if (sscanf(response, "HTTP/1.1 %d", &status) != 1)
        return -1;
    return status;
}

static int
request(const char *method, const char *path, const char *token,
    const char *body, struct http_client_response *resp)
{
    int rc = http_client_request(&fx.url, method, path, token, body, 3000,
        resp);

    cr_assert_eq(rc, 0, "%s %s: request failed: %d", method, path, rc);
    return resp->status;
}

/* Returns the "error" member of a JSON error body, or "" (static). */
static const char *
error_code_of(const struct http_client_response *resp)
{
    static char code[64];
    json_t *j = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *s = json_string_value(json_object_get(j, "error"));

    snprintf(code, sizeof(code), "%s", s != NULL ? s : "");
    json_decref(j);
    return code;
}

TestSuite(http_server, .init = setup, .fini = teardown, .timeout = 20);

Test(http_server, serves_every_get_route)
{
    static const struct {
        const char *path;
        const char *member;
    } routes[] = {
        { "/healthz", "status" },
        { "/v1/cluster", "leader_id" },
        { "/v1/gateways", "gateways" },
        { "/v1/gateways/gw1", "gateway_id" },
        { "/v1/plan", "epoch" },
    };

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        struct http_client_response resp;
        cr_expect_eq(request("GET", routes[i].path, NULL, NULL, &resp), 200,
            "GET %s", routes[i].path);
        cr_expect_str_eq(resp.content_type, "application/json",
            "GET %s", routes[i].path);
        json_t *j = json_loadb(resp.body, resp.body_len, 0, NULL);
        cr_expect_not_null(j, "GET %s: body is not JSON", routes[i].path);
        cr_expect_not_null(json_object_get(j, routes[i].member),
            "GET %s: no member %s", routes[i].path, routes[i].member);
        json_decref(j);
        http_client_free(&resp);
    }
}

Test(http_server, serves_metrics_in_prometheus_text)
{
    struct http_client_response resp;

    cr_assert_eq(request("GET", "/healthz", NULL, NULL, &resp), 200);
    http_client_free(&resp);
    cr_assert_eq(request("GET", "/metrics", NULL, NULL, &resp), 200);
    cr_expect_str_eq(resp.content_type,
        "text/plain; version=0.0.4; charset=utf-8");
    cr_expect_not_null(strstr(resp.body, "ikeshift_gateways 1\n"));
    cr_expect_not_null(strstr(resp.body,
        "ikeshift_api_requests_total{code=\"200\"} 1\n"));
    http_client_free(&resp);
}

Test(http_server, drains_with_read_write_token)
{
    struct http_client_response resp;

    cr_assert_eq(request("POST", "/v1/gateways/gw1/drain", RW_TOKEN,
        "{\"deadline\": \"10m\", \"pace\": 20, \"policy\": \"hold\"}",
        &resp), 202);
    http_client_free(&resp);
    cr_expect_eq(fx.fake.drains, 1);
    cr_expect_str_eq(fx.fake.last_id, "gw1");
    cr_expect_eq(fx.fake.last_params.duration_ms, 600000u);
    cr_expect_eq(fx.fake.last_params.pace_per_s, 20u);
    cr_expect_eq(fx.fake.last_params.policy, DRAIN_POLICY_HOLD);
}

Test(http_server, answers_deferred_drain_once_backend_is_done)
{
    struct http_client_response resp;
    struct timespec t0, t1;
    long ms;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(request("POST", "/v1/gateways/gw-later/drain", RW_TOKEN,
        "{}", &resp), 202);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    cr_expect_geq(ms, 90, "answered after %ld ms, before the backend", ms);
    cr_expect_not_null(strstr(resp.body, "gw-later"), "%s", resp.body);
    http_client_free(&resp);
}

Test(http_server, answers_at_once_when_backend_finishes_early)
{
    struct http_client_response resp;

    cr_assert_eq(request("POST", "/v1/gateways/gw-now/drain", RW_TOKEN,
        "{}", &resp), 202);
    cr_expect_not_null(strstr(resp.body, "gw-now"), "%s", resp.body);
    http_client_free(&resp);
}

Test(http_server, answers_deferred_refusal_with_503)
{
    struct http_client_response resp;

    cr_assert_eq(request("POST", "/v1/gateways/gw-lost/drain", RW_TOKEN,
        "{}", &resp), 503);
    cr_expect_str_eq(error_code_of(&resp), "unavailable");
    cr_expect_not_null(strstr(resp.body, "lost the lease"), "%s", resp.body);
    http_client_free(&resp);
}

Test(http_server, survives_client_gone_before_deferred_answer)
{
    struct http_client_response resp;
    char req[256];
    int fd = raw_connect(http_server_get_port(fx.srv));
    int n = snprintf(req, sizeof(req), "POST /v1/gateways/gw-later/drain "
        "HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
        "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
        RW_TOKEN);

    cr_assert_eq(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    usleep(20000);
    close(fd);
    usleep(200000);         /* the response is due after 100 ms */
    cr_expect_eq(request("GET", "/healthz", NULL, NULL, &resp), 200);
    http_client_free(&resp);
}

Test(http_server, answers_backend_conflict_with_409)
{
    struct http_client_response resp;

    cr_assert_eq(request("POST", "/v1/gateways/gw1/drain", RW_TOKEN, "{}",
        &resp), 202);
    http_client_free(&resp);
    cr_expect_eq(request("POST", "/v1/gateways/gw1/drain", RW_TOKEN, "{}",
        &resp), 409);
    cr_expect_str_eq(error_code_of(&resp), "conflict");
    http_client_free(&resp);
}

Test(http_server, resumes_and_redirects)
{
    struct http_client_response resp;

    cr_expect_eq(request("POST", "/v1/gateways/gw1/resume", RW_TOKEN, NULL,
        &resp), 200);
    http_client_free(&resp);
    cr_expect_eq(request("POST", "/v1/sessions/redirect", RW_TOKEN,
        "{\"spi\": \"8c1f02aa4d3e9b10\", \"target\": \"gw2\"}", &resp), 202);
    http_client_free(&resp);
    cr_expect_eq(fx.fake.last_redirect.selector, API_SELECT_SPI);
    cr_expect_eq(fx.fake.last_redirect.spi, 0x8c1f02aa4d3e9b10ull);
    cr_expect_str_eq(fx.fake.last_redirect.target, "gw2");
}

Test(http_server, rejects_post_without_token_with_401)
{
    char req[] = "POST /v1/gateways/gw1/resume HTTP/1.1\r\nHost: x\r\n"
        "Content-Length: 0\r\nConnection: close\r\n\r\n";
    char *out = raw_exchange(req, strlen(req));

    cr_expect_eq(status_of(out), 401);
    cr_expect_not_null(strstr(out, "WWW-Authenticate: Bearer"));
    cr_expect_eq(fx.fake.drains, 0);
}

Test(http_server, rejects_unknown_token_with_401)
{
    struct http_client_response resp;

    cr_expect_eq(request("POST", "/v1/gateways/gw1/drain", "wrong", "{}",
        &resp), 401);
    cr_expect_str_eq(error_code_of(&resp), "unauthorized");
    http_client_free(&resp);
}

Test(http_server, rejects_post_with_read_only_token_with_403)
{
    struct http_client_response resp;

    cr_expect_eq(request("POST", "/v1/gateways/gw1/drain", RO_TOKEN, "{}",
        &resp), 403);
    cr_expect_str_eq(error_code_of(&resp), "forbidden");
    http_client_free(&resp);
    cr_expect_eq(fx.fake.drains, 0);
}

Test(http_server, answers_unknown_path_with_404)
{
    struct http_client_response resp;

    cr_expect_eq(request("GET", "/v2/cluster", NULL, NULL, &resp), 404);
    cr_expect_str_eq(error_code_of(&resp), "not_found");
    http_client_free(&resp);
    cr_expect_eq(request("GET", "/v1/gateways/gw9", NULL, NULL, &resp), 404);
    http_client_free(&resp);
}

Test(http_server, answers_wrong_method_with_405_and_allow)
{
    char req[] = "DELETE /v1/cluster HTTP/1.1\r\nHost: x\r\n"
        "Connection: close\r\n\r\n";
    char *out = raw_exchange(req, strlen(req));

    cr_expect_eq(status_of(out), 405);
    cr_expect_not_null(strstr(out, "\r\nAllow: GET\r\n"));
}

Test(http_server, answers_oversized_body_with_413)
{
    char req[256];

    snprintf(req, sizeof(req), "POST /v1/sessions/redirect HTTP/1.1\r\n"
        "Host: x\r\nAuthorization: Bearer " RW_TOKEN "\r\n"
        "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{");
    char *out = raw_exchange(req, strlen(req));
    cr_expect_eq(status_of(out), 413);
}

Test(http_server, answers_wrong_content_type_with_415)
{
    char req[] = "POST /v1/gateways/gw1/drain HTTP/1.1\r\nHost: x\r\n"
        "Authorization: Bearer " RW_TOKEN "\r\n"
        "Content-Type: text/plain\r\nContent-Length: 2\r\n"
        "Connection: close\r\n\r\n{}";
    char *out = raw_exchange(req, strlen(req));

    cr_expect_eq(status_of(out), 415);
    cr_expect_eq(fx.fake.drains, 0);
}

Test(http_server, answers_malformed_json_with_400)
{
    struct http_client_response resp;

    cr_expect_eq(request("POST", "/v1/gateways/gw1/drain", RW_TOKEN,
        "{\"pace\": ", &resp), 400);
    cr_expect_str_eq(error_code_of(&resp), "invalid_request");
    http_client_free(&resp);
}

Test(http_server, answers_empty_selector_with_400)
{
    struct http_client_response resp;

    cr_expect_eq(request("POST", "/v1/sessions/redirect", RW_TOKEN,
        "{\"target\": \"gw2\"}", &resp), 400);
    cr_expect_not_null(strstr(resp.body, "selector"));
    http_client_free(&resp);
}

Test(http_server, answers_malformed_requests_with_400)
{
    static const char *const reqs[] = {
        "GARBAGE\r\n\r\n",
        "GET /v1/cluster HTTP/9.9\r\n\r\n",
        "GET /v1/cluster HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET /v1/cluster HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
            "Content-Length: 2\r\n\r\n",
        "GET /v1/cluster HTTP/1.1\r\nAuthorization: a\r\n"
            "Authorization: b\r\n\r\n",
    };

    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        char *out = raw_exchange(reqs[i], strlen(reqs[i]));
        cr_expect_eq(status_of(out), 400, "request %zu", i);
        cr_expect_not_null(strstr(out, "\"invalid_request\""),
            "request %zu", i);
    }
}

Test(http_server, answers_oversized_headers_with_431)
{
    char req[4096];
    int n = snprintf(req, sizeof(req), "GET /v1/cluster HTTP/1.1\r\nX: ");

    memset(req + n, 'a', 3000);
    strcpy(req + n + 3000, "\r\n\r\n");
    char *out = raw_exchange(req, strlen(req));
    cr_expect_eq(status_of(out), 431);
}

Test(http_server, times_out_slow_client_with_408)
{
    char partial[] = "GET /v1/cluster HTTP/1.1\r\nHost: x\r\n";
    char buf[4096];
    int fd = raw_connect(http_server_get_port(fx.srv));

    cr_assert_eq(send(fd, partial, strlen(partial), 0),
        (ssize_t)strlen(partial));
    raw_read_all(fd, buf, sizeof(buf));
    close(fd);
    cr_expect_eq(status_of(buf), 408);
    cr_expect_not_null(strstr(buf, "\"request_timeout\""));
}

Test(http_server, answers_pipelined_requests_in_order)
{
    char req[] =
        "GET /v1/plan HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /v2/nothing HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    char *out = raw_exchange(req, strlen(req));
    char *second = strstr(out + 1, "HTTP/1.1 ");
    char *third = second != NULL ? strstr(second + 1, "HTTP/1.1 ") : NULL;

    cr_assert_not_null(third, "expected three responses: %s", out);
    cr_expect_eq(status_of(out), 200);
    cr_expect_not_null(strstr(out, "\"epoch\""));
    cr_expect_eq(status_of(second), 404);
    cr_expect_eq(status_of(third), 200);
    cr_expect_not_null(strstr(third, "Connection: close"));
}

Test(http_server, keeps_connection_alive_between_requests)
{
    char one[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    char buf[2048];
    int fd = raw_connect(http_server_get_port(fx.srv));

    for (int i = 0; i < 3; i++) {
        cr_assert_eq(send(fd, one, strlen(one), 0), (ssize_t)strlen(one));
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        cr_assert_gt(n, 0, "round %d", i);
        buf[n] = '\0';
        cr_expect_eq(status_of(buf), 200, "round %d", i);
        cr_expect_not_null(strstr(buf, "Connection: keep-alive"));
    }
    close(fd);
}

static uint64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The fixture has request_timeout 300 ms and idle_timeout 2000 ms. */
Test(http_server, closes_silent_connection_after_request_timeout)
{
    char buf[64];
    int fd = raw_connect(http_server_get_port(fx.srv));
    uint64_t start = mono_ms();
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    uint64_t waited = mono_ms() - start;

    cr_expect_eq(n, 0, "expected EOF, got %zd", n);
    cr_expect_lt(waited, 1500, "closed after %llu ms",
        (unsigned long long)waited);
    close(fd);
}

Test(http_server, keeps_idle_timeout_after_first_request)
{
    char one[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    char buf[2048];
    struct pollfd pfd;
    int fd = raw_connect(http_server_get_port(fx.srv));

    cr_assert_eq(send(fd, one, strlen(one), 0), (ssize_t)strlen(one));
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
    cr_assert_gt(n, 0);
    pfd.fd = fd;
    pfd.events = POLLIN;
    cr_expect_eq(poll(&pfd, 1, 900), 0,
        "connection closed before the idle timeout");
    close(fd);
}

Test(http_server, rejects_connections_beyond_limit_with_503)
{
    int fds[4];
    char buf[2048];

    for (int i = 0; i < 4; i++)
        fds[i] = raw_connect(http_server_get_port(fx.srv));
    int extra = raw_connect(http_server_get_port(fx.srv));
    raw_read_all(extra, buf, sizeof(buf));
    cr_expect_eq(status_of(buf), 503);
    close(extra);
    for (int i = 0; i < 4; i++)
        close(fds[i]);
}

static void
token_setup(void)
{
    struct http_server_config cfg;

    http_server_config_init(&cfg);
    cfg.port = 0;
    fixture_start(&cfg, true);
}

TestSuite(http_server_token, .init = token_setup, .fini = teardown,
    .timeout = 20);

Test(http_server_token, requires_token_for_get)
{
    struct http_client_response resp;

    cr_expect_eq(request("GET", "/v1/cluster", NULL, NULL, &resp), 401);
    http_client_free(&resp);
    cr_expect_eq(request("GET", "/v1/cluster", RO_TOKEN, NULL, &resp), 200);
    http_client_free(&resp);
    cr_expect_eq(request("GET", "/healthz", NULL, NULL, &resp), 200);
    http_client_free(&resp);
}

Test(http_server_config, refuses_non_loopback_without_tls)
{
    struct http_server_config cfg;
    uv_loop_t loop;
    int err = 0;

    log_set_level(LOG_LEVEL_ERROR);
    http_server_config_init(&cfg);
    cfg.address = "198.51.100.10";
    cfg.port = 0;
    cr_assert_eq(uv_loop_init(&loop), 0);
    cr_expect_null(http_server_new(&loop, &cfg, api_handle_request, NULL,
        &err));
    cr_expect_eq(err, -EPERM);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_expect_eq(uv_loop_close(&loop), 0);
}

/* ---- ikeshiftctl against the test server ------------------------------- */

/* ikeshiftctl is built next to ikeshift-dump in the same build tree. */
static const char *
ctl_path(void)
{
    static char path[512];
    const char *dump = DUMP_BIN;
    const char *slash = strrchr(dump, '/');

    snprintf(path, sizeof(path), "%.*s/ikeshiftctl", (int)(slash - dump),
        dump);
    cr_assert_eq(access(path, X_OK), 0, "%s is missing; build it with "
        "make BUILD=... <build>/bin/ikeshiftctl", path);
    return path;
}

/* Runs ikeshiftctl with `args`; returns its exit status, output in out. */
static int
ctl_run(const char *args, char *out, size_t size)
{
    char cmd[1024];

    snprintf(cmd, sizeof(cmd), "%s --url %s %s 2>&1", ctl_path(),
        fx.url_text, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t len = fread(out, 1, size - 1, p);
    out[len] = '\0';
    int status = pclose(p);
    cr_assert(WIFEXITED(status), "%s did not exit", cmd);
    return WEXITSTATUS(status);
}

Test(http_server, ctl_prints_cluster_status)
{
    char out[4096];

    cr_expect_eq(ctl_run("status", out, sizeof(out)), 0, "%s", out);
    cr_expect_not_null(strstr(out, "leader_id: ctl-a\n"), "%s", out);
    cr_expect_not_null(strstr(out, "plan_epoch: 42\n"), "%s", out);
}

Test(http_server, ctl_prints_gateway_table)
{
    char out[4096];

    cr_expect_eq(ctl_run("gateways", out, sizeof(out)), 0, "%s", out);
    cr_expect_not_null(strstr(out, "GATEWAY"), "%s", out);
    cr_expect_not_null(strstr(out, "\ngw1 "), "no row for gw1: %s", out);
}

Test(http_server, ctl_prints_raw_json_with_json_flag)
{
    char out[4096];

    cr_expect_eq(ctl_run("--json gateway gw1", out, sizeof(out)), 0);
    json_t *j = json_loads(out, 0, NULL);
    cr_expect_not_null(j, "not JSON: %s", out);
    cr_expect_str_eq(json_string_value(json_object_get(j, "gateway_id")),
        "gw1");
    json_decref(j);
}

Test(http_server, ctl_waits_until_drain_completes)
{
    char out[8192];

    cr_expect_eq(ctl_run("--token " RW_TOKEN " drain gw1 --deadline 30m "
        "--pace 5 --policy force --wait --interval 20", out, sizeof(out)), 0,
        "%s", out);
    cr_expect_not_null(strstr(out, "state=evacuating remaining=30"), "%s",
        out);
    cr_expect_not_null(strstr(out, "state=drained remaining=0"), "%s", out);
    cr_expect_eq(fx.fake.last_params.pace_per_s, 5u);
    cr_expect_eq(fx.fake.last_params.duration_ms, 1800000u);
}

Test(http_server, ctl_exits_1_on_api_error)
{
    char out[4096];

    cr_expect_eq(ctl_run("gateway gw9", out, sizeof(out)), 1);
    cr_expect_not_null(strstr(out, "gateway gw9 is not known"), "%s", out);
    cr_expect_eq(ctl_run("--token " RO_TOKEN " resume gw1", out,
        sizeof(out)), 1);
    cr_expect_not_null(strstr(out, "403"), "%s", out);
}

Test(http_server, ctl_exits_2_on_usage_error)
{
    char out[4096];

    cr_expect_eq(ctl_run("frobnicate", out, sizeof(out)), 2);
    cr_expect_eq(ctl_run("move --to gw2", out, sizeof(out)), 2);
    cr_expect_eq(ctl_run("drain gw1 --policy maybe", out, sizeof(out)), 2);
}

Test(http_server, ctl_rejects_host_name_url_with_2)
{
    char cmd[1024], out[4096];

    snprintf(cmd, sizeof(cmd), "%s --url http://localhost:8680 status 2>&1",
        ctl_path());
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t len = fread(out, 1, sizeof(out) - 1, p);
    out[len] = '\0';
    int status = pclose(p);
    cr_assert(WIFEXITED(status), "%s did not exit", cmd);
    cr_expect_eq(WEXITSTATUS(status), 2, "%s", out);
    cr_expect_not_null(strstr(out, "IP address"), "%s", out);
}

Test(http_server, ctl_exits_3_when_controller_unreachable)
{
    char out[4096];
    char cmd[1024];
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    /* A port that was just free and has no listener. */
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    snprintf(cmd, sizeof(cmd), "%s --url http://127.0.0.1:%u status 2>&1",
        ctl_path(), (unsigned)ntohs(sin.sin_port));
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    out[fread(out, 1, sizeof(out) - 1, p)] = '\0';
    int status = pclose(p);
    cr_expect_eq(WEXITSTATUS(status), 3, "%s", out);
    cr_expect_not_null(strstr(out, "cannot reach the controller"), "%s", out);
}

/* ---- TLS --------------------------------------------------------------- */

/* Writes a self-signed P-256 certificate for 127.0.0.1 and its key. */
static void
tls_make_cert(const char *cert_path, const char *key_path)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();

    cr_assert_not_null(key);
    cr_assert_not_null(x);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
        (const unsigned char *)"127.0.0.1", -1, -1, 0);
    X509_set_issuer_name(x, name);
    cr_assert_gt(X509_sign(x, key, EVP_sha256()), 0);

    FILE *f = fopen(cert_path, "w");
    cr_assert_not_null(f);
    PEM_write_X509(f, x);
    fclose(f);
    f = fopen(key_path, "w");
    cr_assert_not_null(f);
    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void
tls_setup(void)
{
    struct http_server_config cfg;
    char dir[] = "/tmp/ikeshift-tls-XXXXXX";
    static char cert[64];
    static char key[64];

    cr_assert_not_null(mkdtemp(dir));
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    tls_make_cert(cert, key);
    http_server_config_init(&cfg);
    cfg.port = 0;
    cfg.tls_cert_file = cert;
    cfg.tls_key_file = key;
    cfg.request_timeout_ms = 1000;
    fixture_start(&cfg, false);
    /* The server has loaded both files, so they can go now. */
    unlink(cert);
    unlink(key);
    rmdir(dir);
}

TestSuite(http_server_tls, .init = tls_setup, .fini = teardown,
    .timeout = 20);

Test(http_server_tls, serves_request_over_tls)
{
    char req[] = "GET /v1/cluster HTTP/1.1\r\nHost: x\r\n"
        "Connection: close\r\n\r\n";
    char buf[4096];
    size_t len = 0;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    int fd = raw_connect(http_server_get_port(fx.srv));

    cr_assert_not_null(ctx);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    cr_assert_eq(SSL_connect(ssl), 1, "handshake failed");
    cr_assert_eq(SSL_write(ssl, req, (int)strlen(req)), (int)strlen(req));
    int n;
    while ((n = SSL_read(ssl, buf + len, (int)(sizeof(buf) - 1 - len))) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    cr_expect_eq(status_of(buf), 200, "%s", buf);
    cr_expect_not_null(strstr(buf, "\"leader_id\""));
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
}

Test(http_server_tls, closes_plain_request_on_tls_port)
{
    char req[] = "GET /v1/cluster HTTP/1.1\r\nHost: x\r\n\r\n";
    char *out = raw_exchange(req, strlen(req));

    cr_expect_eq(strncmp(out, "HTTP/", 5) != 0, true,
        "the TLS port answered in plain HTTP: %s", out);
    cr_expect_eq(fx.fake.drains, 0);
}
