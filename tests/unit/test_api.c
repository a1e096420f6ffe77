/*
 * The API's routing, authorization and body validation, called in memory
 * through api_handle_request() with a backend that records its calls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>

#include "api.h"

#define RW "rw-token"
#define RO "ro-token"

static int backend_calls;

static int
record_resume(void *ctx, const char *id, json_t **out, char *msg)
{
    (void)ctx;
    (void)msg;
    backend_calls++;
    *out = json_pack("{s:s}", "gateway_id", id);
    return 0;
}

static int
fail_get_plan(void *ctx, json_t **out, char *msg)
{
    int rc = *(const int *)ctx;

    (void)out;
    snprintf(msg, API_MESSAGE_MAX, "plan failed on purpose");
    return rc;
}

static int plan_error = -EAGAIN;

static struct api *
make_api(bool read_requires_token)
{
    struct api_backend backend = {
        .ctx = &plan_error,
        .resume = record_resume,
        .get_plan = fail_get_plan,
    };
    struct api_config cfg = {
        .read_write_token = RW,
        .read_only_token = RO,
        .read_requires_token = read_requires_token,
    };
    struct api *api = api_new(&cfg, &backend);

    cr_assert_not_null(api);
    backend_calls = 0;
    return api;
}

static int
call(struct api *api, const char *method, const char *target,
    const char *auth, const char *type, const char *body,
    struct http_response *resp)
{
    struct http_request req = {
        .method = method,
        .target = target,
        .authorization = auth,
        .content_type = type,
        .body = body != NULL ? body : "",
        .body_len = body != NULL ? strlen(body) : 0,
        .peer = "127.0.0.1:1",
    };

    memset(resp, 0, sizeof(*resp));
    api_handle_request(api, &req, resp);
    return resp->status;
}

TestSuite(api);

Test(api, rejects_empty_token_in_config)
{
    struct api_backend backend = { 0 };
    struct api_config cfg = { .read_write_token = "" };

    cr_expect_null(api_new(&cfg, &backend));
}

Test(api, accepts_bearer_scheme_in_any_case)
{
    struct api *api = make_api(false);
    struct http_response resp;

    cr_expect_eq(call(api, "POST", "/v1/gateways/gw1/resume",
        "bearer   " RW, NULL, NULL, &resp), 200);
    free(resp.body);
    cr_expect_eq(backend_calls, 1);
    api_free(api);
}

Test(api, rejects_other_auth_scheme)
{
    struct api *api = make_api(false);
    struct http_response resp;

    cr_expect_eq(call(api, "POST", "/v1/gateways/gw1/resume",
        "Basic cnc6dG9rZW4=", NULL, NULL, &resp), 401);
    cr_expect_not_null(strstr(resp.www_authenticate, "invalid_token"));
    free(resp.body);
    cr_expect_eq(backend_calls, 0);
    api_free(api);
}

Test(api, rejects_token_prefix)
{
    struct api *api = make_api(false);
    struct http_response resp;

    cr_expect_eq(call(api, "POST", "/v1/gateways/gw1/resume",
        "Bearer rw-toke", NULL, NULL, &resp), 401);
    free(resp.body);
    api_free(api);
}

Test(api, requires_token_for_get_when_configured)
{
    struct api *api = make_api(true);
    struct http_response resp;

    cr_expect_eq(call(api, "GET", "/v1/cluster", NULL, NULL, NULL, &resp),
        401);
    free(resp.body);
    cr_expect_eq(call(api, "GET", "/healthz", NULL, NULL, NULL, &resp),
        200);
    free(resp.body);
    api_free(api);
}

Test(api, answers_missing_callback_with_501)
{
    struct api *api = make_api(false);
    struct http_response resp;

    cr_expect_eq(call(api, "GET", "/v1/cluster", NULL, NULL, NULL, &resp),
        501);
    free(resp.body);
    api_free(api);
}

Test(api, maps_backend_errors_to_status)
{
    static const struct {
        int rc;
        int status;
    } cases[] = {
        { -ENOENT, 404 }, { -EINVAL, 400 }, { -EBUSY, 409 },
        { -EALREADY, 409 }, { -EAGAIN, 503 }, { -EIO, 500 },
    };
    struct api *api = make_api(false);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct http_response resp;
        plan_error = cases[i].rc;
        cr_expect_eq(call(api, "GET", "/v1/plan", NULL, NULL, NULL, &resp),
            cases[i].status, "rc %d", cases[i].rc);
        cr_expect_not_null(strstr(resp.body, "plan failed on purpose"));
        free(resp.body);
    }
    api_free(api);
}

Test(api, routes_ignore_query_string)
{
    struct api *api = make_api(false);
    struct http_response resp;

    cr_expect_eq(call(api, "GET", "/healthz?verbose=1", NULL, NULL, NULL,
        &resp), 200);
    free(resp.body);
    api_free(api);
}

Test(api, rejects_invalid_gateway_id_in_path)
{
    struct api *api = make_api(false);
    struct http_response resp;

    cr_expect_eq(call(api, "POST", "/v1/gateways/gw%201/resume",
        "Bearer " RW, NULL,
        NULL, &resp), 400);
    free(resp.body);
    cr_expect_eq(call(api, "GET", "/v1/gateways/gw1/extra", NULL, NULL,
        NULL, &resp), 404);
    free(resp.body);
    cr_expect_eq(backend_calls, 0);
    api_free(api);
}

Test(api, rejects_resume_body_with_fields)
{
    struct api *api = make_api(false);
    struct http_response resp;

    cr_expect_eq(call(api, "POST", "/v1/gateways/gw1/resume",
        "Bearer " RW, "application/json; charset=utf-8", "{\"now\": true}", &resp), 400);
    cr_expect_not_null(strstr(resp.body, "now: unknown field"));
    free(resp.body);
    api_free(api);
}

/* ---- drain body -------------------------------------------------------- */

/* Criterion runs each case in a new process, so the tables hold arrays
 * and not pointers, which would not be valid there. */
struct drain_case {
    char body[96];
    int rc;
    uint32_t duration_ms;
    uint32_t pace;
    enum drain_policy policy;
    char field[48];             /* expected start of the error text */
};

ParameterizedTestParameters(api, validates_drain_body)
{
    static struct drain_case drain_cases[] = {
        { "{}", 0, 0, 0, DRAIN_POLICY_FORCE, "" },
        { "{\"deadline\": 90}", 0, 90000, 0, DRAIN_POLICY_FORCE, "" },
        { "{\"deadline\": \"90s\"}", 0, 90000, 0, DRAIN_POLICY_FORCE, "" },
        { "{\"deadline\": \"30m\"}", 0, 1800000, 0, DRAIN_POLICY_FORCE, "" },
        { "{\"deadline\": \"2h\", \"pace\": 7, \"policy\": \"hold\"}", 0,
            7200000, 7, DRAIN_POLICY_HOLD, "" },
        { "{\"deadline\": 0}", -EINVAL, 0, 0, 0, "deadline:" },
        { "{\"deadline\": -5}", -EINVAL, 0, 0, 0, "deadline:" },
        { "{\"deadline\": \"30\"}", -EINVAL, 0, 0, 0, "deadline:" },
        { "{\"deadline\": \"30d\"}", -EINVAL, 0, 0, 0, "deadline:" },
        { "{\"deadline\": \"999h\"}", -EINVAL, 0, 0, 0, "deadline:" },
        { "{\"deadline\": \"m\"}", -EINVAL, 0, 0, 0, "deadline:" },
        { "{\"deadline\": 1.5}", -EINVAL, 0, 0, 0, "deadline:" },
        { "{\"pace\": 0}", -EINVAL, 0, 0, 0, "pace:" },
        { "{\"pace\": 10001}", -EINVAL, 0, 0, 0, "pace:" },
        { "{\"pace\": \"5\"}", -EINVAL, 0, 0, 0, "pace:" },
        { "{\"policy\": \"drop\"}", -EINVAL, 0, 0, 0, "policy:" },
        { "{\"policy\": null}", -EINVAL, 0, 0, 0, "policy:" },
        { "{\"speed\": 5}", -EINVAL, 0, 0, 0, "speed: unknown field" },
        { "[1]", -EINVAL, 0, 0, 0, "the body must be a JSON object" },
    };

    return cr_make_param_array(struct drain_case, drain_cases,
        sizeof(drain_cases) / sizeof(drain_cases[0]));
}

ParameterizedTest(struct drain_case *c, api, validates_drain_body)
{
    struct drain_params params;
    char err[256] = "";
    json_t *body = json_loads(c->body, 0, NULL);

    cr_assert_not_null(body, "bad test JSON %s", c->body);
    int rc = api_parse_drain(body, &params, err, sizeof(err));
    json_decref(body);
    cr_expect_eq(rc, c->rc, "%s: %s", c->body, err);
    if (c->rc == 0) {
        cr_expect_eq(params.duration_ms, c->duration_ms, "%s", c->body);
        cr_expect_eq(params.pace_per_s, c->pace, "%s", c->body);
        cr_expect_eq(params.policy, c->policy, "%s", c->body);
    } else {
        cr_expect_eq(strncmp(err, c->field, strlen(c->field)), 0,
            "%s: got '%s'", c->body, err);
    }
}

/* ---- redirect body ----------------------------------------------------- */

struct redirect_case {
    char body[96];
    int rc;
    enum api_selector selector;
    char field[48];
};

ParameterizedTestParameters(api, validates_redirect_body)
{
    static struct redirect_case redirect_cases[] = {
        { "{\"peer\": \"198.51.100.7\", \"target\": \"gw2\"}", 0,
            API_SELECT_PEER, "" },
        { "{\"peer\": \"2001:db8::7\", \"target\": \"gw2\"}", 0,
            API_SELECT_PEER, "" },
        { "{\"identity\": \"alice@example.net\", \"target\": \"gw2\"}", 0,
            API_SELECT_IDENTITY, "" },
        { "{\"spi\": \"0x8C1F02AA4D3E9B10\", \"target\": \"gw2\"}", 0,
            API_SELECT_SPI, "" },
        { "{\"target\": \"gw2\"}", -EINVAL, 0, "selector:" },
        { "{}", -EINVAL, 0, "selector:" },
        { "{\"peer\": \"198.51.100.7\", \"spi\": \"1\", \"target\": \"gw2\"}",
            -EINVAL, 0, "selector:" },
        { "{\"peer\": \"\", \"target\": \"gw2\"}", -EINVAL, 0, "peer:" },
        { "{\"peer\": \"gw1.example.net\", \"target\": \"gw2\"}", -EINVAL, 0,
            "peer:" },
        { "{\"identity\": \"\", \"target\": \"gw2\"}", -EINVAL, 0,
            "identity:" },
        { "{\"identity\": \"a\\nb\", \"target\": \"gw2\"}", -EINVAL, 0,
            "identity:" },
        { "{\"spi\": \"0\", \"target\": \"gw2\"}", -EINVAL, 0, "spi:" },
        { "{\"spi\": \"12345678901234567\", \"target\": \"gw2\"}", -EINVAL, 0,
            "spi:" },
        { "{\"spi\": \"xyz\", \"target\": \"gw2\"}", -EINVAL, 0, "spi:" },
        { "{\"spi\": 5, \"target\": \"gw2\"}", -EINVAL, 0, "spi:" },
        { "{\"peer\": \"198.51.100.7\"}", -EINVAL, 0, "target:" },
        { "{\"peer\": \"198.51.100.7\", \"target\": \"gw 2\"}", -EINVAL, 0,
            "target:" },
    };

    return cr_make_param_array(struct redirect_case, redirect_cases,
        sizeof(redirect_cases) / sizeof(redirect_cases[0]));
}

ParameterizedTest(struct redirect_case *c, api, validates_redirect_body)
{
    struct api_redirect out;
    char err[256] = "";
    json_t *body = json_loads(c->body, 0, NULL);

    cr_assert_not_null(body, "bad test JSON %s", c->body);
    int rc = api_parse_redirect(body, &out, err, sizeof(err));
    json_decref(body);
    cr_expect_eq(rc, c->rc, "%s: %s", c->body, err);
    if (c->rc == 0) {
        cr_expect_eq(out.selector, c->selector, "%s", c->body);
        cr_expect_str_eq(out.target, "gw2", "%s", c->body);
    } else {
        cr_expect_eq(strncmp(err, c->field, strlen(c->field)), 0,
            "%s: got '%s'", c->body, err);
    }
}

Test(api, parses_spi_as_hex)
{
    struct api_redirect out;
    char err[256];
    json_t *body = json_pack("{s:s, s:s}", "spi", "8c1f02aa4d3e9b10",
        "target", "gw2");

    cr_assert_eq(api_parse_redirect(body, &out, err, sizeof(err)), 0);
    cr_expect_eq(out.spi, 0x8c1f02aa4d3e9b10ull);
    json_decref(body);
}
