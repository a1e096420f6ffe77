/*
 * Routing and JSON handlers of the controller's API.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "api.h"
#include "rt/log.h"

#define API_PATH_MAX    256
#define API_STATUS_SLOTS 16

enum api_role {
    API_ROLE_NONE,
    API_ROLE_READ,
    API_ROLE_WRITE,
};

/* Count of responses per status code, for /metrics. */
struct api_status_count {
    int status;
    uint64_t count;
};

struct api {
    struct api_backend backend;
    bool read_requires_token;
    bool has_rw_token;
    bool has_ro_token;
    unsigned char rw_hash[SHA256_DIGEST_LENGTH];
    unsigned char ro_hash[SHA256_DIGEST_LENGTH];
    struct api_status_count counts[API_STATUS_SLOTS];
};

/* One parsed route: which resource, with the gateway id if it has one. */
enum api_route {
    ROUTE_NONE,
    ROUTE_HEALTHZ,
    ROUTE_METRICS,
    ROUTE_CLUSTER,
    ROUTE_GATEWAYS,
    ROUTE_GATEWAY,
    ROUTE_DRAIN,
    ROUTE_RESUME,
    ROUTE_PLAN,
    ROUTE_REDIRECT,
};

static void
api_hash_token(const char *token, size_t len,
    unsigned char out[SHA256_DIGEST_LENGTH])
{
    SHA256((const unsigned char *)token, len, out);
}

struct api *
api_new(const struct api_config *cfg, const struct api_backend *backend)
{
    struct api *api;

    if ((cfg->read_write_token != NULL && cfg->read_write_token[0] == '\0')
        || (cfg->read_only_token != NULL && cfg->read_only_token[0] == '\0'))
        return NULL;
    if ((api = calloc(1, sizeof(*api))) == NULL)
        return NULL;
    api->backend = *backend;
    api->read_requires_token = cfg->read_requires_token;
    /* Tokens are compared as SHA-256 hashes, so the comparison takes the
     * same time whatever the length of the presented token. */
    if (cfg->read_write_token != NULL) {
        api->has_rw_token = true;
        api_hash_token(cfg->read_write_token, strlen(cfg->read_write_token),
            api->rw_hash);
    }
    if (cfg->read_only_token != NULL) {
        api->has_ro_token = true;
        api_hash_token(cfg->read_only_token, strlen(cfg->read_only_token),
            api->ro_hash);
    }
    return api;
}

void
api_free(struct api *api)
{
    if (api == NULL)
        return;
    OPENSSL_cleanse(api, sizeof(*api));
    free(api);
}

static void
api_count_status(struct api *api, int status)
{
    for (size_t i = 0; i < API_STATUS_SLOTS; i++) {
        if (api->counts[i].status == status) {
            api->counts[i].count++;
            return;
        }
        if (api->counts[i].status == 0) {
            api->counts[i].status = status;
            api->counts[i].count = 1;
            return;
        }
    }
    /* NOTE: a seventeenth distinct status would not be counted, but the
     * handlers produce fewer distinct statuses than that. */
}

/* ---- request validation ------------------------------------------------ */

int
api_parse_duration(const char *text, uint32_t *seconds)
{
    uint64_t value = 0;
    size_t i = 0;

    if (!isdigit((unsigned char)text[0]))
        return -EINVAL;
    for (; isdigit((unsigned char)text[i]); i++) {
        value = value * 10 + (uint64_t)(text[i] - '0');
        if (value > API_DEADLINE_MAX_S)
            return -EINVAL;
    }
    if (text[i] == 'm')
        value *= 60;
    else if (text[i] == 'h')
        value *= 3600;
    else if (text[i] != 's')
        return -EINVAL;
    if (text[i + 1] != '\0' || value == 0 || value > API_DEADLINE_MAX_S)
        return -EINVAL;
    *seconds = (uint32_t)value;
    return 0;
}

/* Rejects members other than the NULL-terminated `known` names. */
static int
api_check_fields(const json_t *body, const char *const *known, char *err,
    size_t err_size)
{
    const char *key;
    json_t *value;

    if (!json_is_object(body)) {
        snprintf(err, err_size, "the body must be a JSON object");
        return -EINVAL;
    }
    json_object_foreach((json_t *)(uintptr_t)body, key, value) {
        size_t i = 0;
        while (known[i] != NULL && strcmp(known[i], key) != 0)
            i++;
        if (known[i] == NULL) {
            char name[64];
            log_escape_str(name, sizeof(name), key);
            snprintf(err, err_size, "%s: unknown field", name);
            return -EINVAL;
        }
    }
    return 0;
}

int
api_parse_drain(const json_t *body, struct drain_params *params, char *err,
    size_t err_size)
{
    static const char *const known[] = { "deadline", "pace", "policy", NULL };
    const json_t *v;

    memset(params, 0, sizeof(*params));
    if (api_check_fields(body, known, err, err_size) < 0)
        return -EINVAL;

    if ((v = json_object_get(body, "deadline")) != NULL) {
        uint32_t seconds = 0;
        bool ok;
        if (json_is_integer(v))
            ok = json_integer_value(v) >= 1
                && json_integer_value(v) <= API_DEADLINE_MAX_S
                && (seconds = (uint32_t)json_integer_value(v)) > 0;
        else
            ok = json_is_string(v)
                && api_parse_duration(json_string_value(v), &seconds) == 0;
        if (!ok) {
            snprintf(err, err_size, "deadline: must be seconds (1 to %u) or "
                "a string such as \"90s\", \"30m\" or \"2h\"",
                API_DEADLINE_MAX_S);
            return -EINVAL;
        }
        params->duration_ms = seconds * 1000u;
    }
    if ((v = json_object_get(body, "pace")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 1
            || json_integer_value(v) > API_PACE_MAX) {
            snprintf(err, err_size, "pace: must be an integer number of "
                "redirects per second from 1 to %u", API_PACE_MAX);
            return -EINVAL;
        }
        params->pace_per_s = (uint32_t)json_integer_value(v);
    }
    if ((v = json_object_get(body, "policy")) != NULL) {
        const char *s = json_string_value(v);
        if (s != NULL && strcmp(s, "force") == 0) {
            params->policy = DRAIN_POLICY_FORCE;
        } else if (s != NULL && strcmp(s, "hold") == 0) {
            params->policy = DRAIN_POLICY_HOLD;
        } else {
            snprintf(err, err_size, "policy: must be \"force\" or \"hold\"");
            return -EINVAL;
        }
    }
    return 0;
}

static int
api_parse_spi(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    for (; s[n] != '\0'; n++) {
        int c = tolower((unsigned char)s[n]);
        if (n >= 16 || !isxdigit(c))
            return -EINVAL;
        v = v << 4 | (uint64_t)(isdigit(c) ? c - '0' : c - 'a' + 10);
    }
    if (n == 0 || v == 0)
        return -EINVAL;
    *out = v;
    return 0;
}

static bool
api_text_is_printable(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return false;
    return true;
}

/* Reads the one selector member that is present into `out`. */
static int
api_parse_selector(const json_t *body, struct api_redirect *out, char *err,
    size_t err_size)
{
    const json_t *peer = json_object_get(body, "peer");
    const json_t *identity = json_object_get(body, "identity");
    const json_t *spi = json_object_get(body, "spi");
    int count = (peer != NULL) + (identity != NULL) + (spi != NULL);
    const char *s;

    if (count == 0) {
        snprintf(err, err_size, "selector: one of peer, identity or spi "
            "is required");
        return -EINVAL;
    }
    if (count > 1) {
        snprintf(err, err_size, "selector: give only one of peer, identity "
            "or spi");
        return -EINVAL;
    }
    if (peer != NULL) {
        struct in6_addr a;
        s = json_string_value(peer);
        out->selector = API_SELECT_PEER;
        if (s == NULL || strlen(s) > API_PEER_MAX
            || (inet_pton(AF_INET, s, &a) != 1
                && inet_pton(AF_INET6, s, &a) != 1)) {
            snprintf(err, err_size, "peer: must be an IPv4 or IPv6 address");
            return -EINVAL;
        }
        strcpy(out->peer, s);
    } else if (identity != NULL) {
        s = json_string_value(identity);
        out->selector = API_SELECT_IDENTITY;
        if (s == NULL || s[0] == '\0' || strlen(s) > API_IDENTITY_MAX
            || !api_text_is_printable(s)) {
            snprintf(err, err_size, "identity: must be 1 to %u printable "
                "characters", API_IDENTITY_MAX);
            return -EINVAL;
        }
        strcpy(out->identity, s);
    } else {
        s = json_string_value(spi);
        out->selector = API_SELECT_SPI;
        if (s == NULL || api_parse_spi(s, &out->spi) < 0) {
            snprintf(err, err_size, "spi: must be a non-zero IKE SPI of 1 "
                "to 16 hex digits");
            return -EINVAL;
        }
    }
    return 0;
}

int
api_parse_redirect(const json_t *body, struct api_redirect *out, char *err,
    size_t err_size)
{
    static const char *const known[] = {
        "peer", "identity", "spi", "target", NULL,
    };

    memset(out, 0, sizeof(*out));
    if (api_check_fields(body, known, err, err_size) < 0)
        return -EINVAL;
    if (api_parse_selector(body, out, err, err_size) < 0)
        return -EINVAL;

    const char *target = json_string_value(json_object_get(body, "target"));
    if (target == NULL || !cluster_id_is_valid(target, strlen(target),
            false)) {
        snprintf(err, err_size, "target: must be a gateway id of 1 to %d "
            "characters from [A-Za-z0-9._-]", CLUSTER_ID_MAX);
        return -EINVAL;
    }
    strcpy(out->target, target);
    return 0;
}

/* ---- authorization ----------------------------------------------------- */

/*
 * Finds the role of the bearer token in `authorization` (RFC 6750, 2.1).
 * Returns 0 with *role set, or -EACCES when a token is present but unknown
 * or malformed.
 */
static int
api_authorize(const struct api *api, const char *authorization,
    enum api_role *role)
{
    unsigned char hash[SHA256_DIGEST_LENGTH];

    *role = API_ROLE_NONE;
    if (authorization == NULL)
        return 0;
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return -EACCES;

    const char *token = authorization + 7;
    while (*token == ' ')
        token++;
    size_t len = strlen(token);
    while (len > 0 && (token[len - 1] == ' ' || token[len - 1] == '\t'))
        len--;
    if (len == 0)
        return -EACCES;
    api_hash_token(token, len, hash);
    /* Both comparisons always run, so the timing shows no role either. */
    bool rw = CRYPTO_memcmp(hash, api->rw_hash, sizeof(hash)) == 0
        && api->has_rw_token;
    bool ro = CRYPTO_memcmp(hash, api->ro_hash, sizeof(hash)) == 0
        && api->has_ro_token;
    OPENSSL_cleanse(hash, sizeof(hash));
    if (rw)
        *role = API_ROLE_WRITE;
    else if (ro)
        *role = API_ROLE_READ;
    else
        return -EACCES;
    return 0;
}

/* Sets a 401 or 403 response and returns false unless access is granted. */
static bool
api_check_access(const struct api *api, const struct http_request *req,
    bool change, struct http_response *resp)
{
    enum api_role role;

    if (api_authorize(api, req->authorization, &role) < 0) {
        snprintf(resp->www_authenticate, sizeof(resp->www_authenticate),
            "Bearer realm=\"ikeshift\", error=\"invalid_token\"");
        http_response_set_error(resp, 401, "unauthorized",
            "the bearer token is not valid");
        return false;
    }
    if (role == API_ROLE_NONE && (change || api->read_requires_token)) {
        snprintf(resp->www_authenticate, sizeof(resp->www_authenticate),
            "Bearer realm=\"ikeshift\"");
        http_response_set_error(resp, 401, "unauthorized",
            "a bearer token is required: send Authorization: Bearer TOKEN");
        return false;
    }
    if (change && role != API_ROLE_WRITE) {
        snprintf(resp->www_authenticate, sizeof(resp->www_authenticate),
            "Bearer realm=\"ikeshift\", error=\"insufficient_scope\"");
        http_response_set_error(resp, 403, "forbidden",
            "this token is read-only; changes need the read-write token");
        return false;
    }
    return true;
}

/* ---- routing ----------------------------------------------------------- */

/*
 * Splits the path of `target` into a route and a gateway id.  Returns
 * ROUTE_NONE for an unknown path; *bad_id is set when the path has the
 * shape of a gateway route but the id is invalid.
 */
static enum api_route
api_match_route(const char *target, char *id, size_t id_size, bool *bad_id)
{
    char path[API_PATH_MAX];
    size_t len = strcspn(target, "?#");

    *bad_id = false;
    id[0] = '\0';
    if (len >= sizeof(path))
        return ROUTE_NONE;
    memcpy(path, target, len);
    path[len] = '\0';

    static const struct {
        const char *path;
        enum api_route route;
    } fixed[] = {
        { "/healthz", ROUTE_HEALTHZ },
        { "/metrics", ROUTE_METRICS },
        { "/v1/cluster", ROUTE_CLUSTER },
        { "/v1/gateways", ROUTE_GATEWAYS },
        { "/v1/plan", ROUTE_PLAN },
        { "/v1/sessions/redirect", ROUTE_REDIRECT },
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strcmp(path, fixed[i].path) == 0)
            return fixed[i].route;

    static const char prefix[] = "/v1/gateways/";
    if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
        return ROUTE_NONE;
    const char *rest = path + sizeof(prefix) - 1;
    size_t id_len = strcspn(rest, "/");
    const char *tail = rest + id_len;
    enum api_route route;
    if (strcmp(tail, "") == 0)
        route = ROUTE_GATEWAY;
    else if (strcmp(tail, "/drain") == 0)
        route = ROUTE_DRAIN;
    else if (strcmp(tail, "/resume") == 0)
        route = ROUTE_RESUME;
    else
        return ROUTE_NONE;
    if (!cluster_id_is_valid(rest, id_len, false) || id_len >= id_size) {
        *bad_id = true;
        return route;
    }
    memcpy(id, rest, id_len);
    id[id_len] = '\0';
    return route;
}

static bool
api_route_is_change(enum api_route route)
{
    return route == ROUTE_DRAIN || route == ROUTE_RESUME
        || route == ROUTE_REDIRECT;
}

/* Maps a backend error to its status and sets the error response. */
static void
api_answer_backend_error(struct http_response *resp, int rc, const char *msg)
{
    int status = 500;
    const char *code = "internal_error";
    char text[API_MESSAGE_MAX + 64];

    switch (rc) {
    case -ENOENT:
        status = 404;
        code = "not_found";
        break;
    case -EINVAL:
        status = 400;
        code = "invalid_request";
        break;
    case -EBUSY:
    case -EALREADY:
    case -EEXIST:
        status = 409;
        code = "conflict";
        break;
    case -EAGAIN:
        status = 503;
        code = "unavailable";
        break;
    default:
        break;
    }
    if (msg[0] != '\0')
        snprintf(text, sizeof(text), "%s", msg);
    else
        snprintf(text, sizeof(text), "the controller failed: %s",
            strerror(rc < 0 ? -rc : rc));
    http_response_set_error(resp, status, code, text);
}

/* Checks Content-Type and parses the body; an empty body is {}. */
static json_t *
api_read_body(const struct http_request *req, struct http_response *resp)
{
    json_error_t jerr;
    json_t *body;

    if (req->body_len == 0 && req->content_type == NULL)
        return json_object();

    char media[64] = "";
    if (req->content_type != NULL) {
        size_t n = strcspn(req->content_type, "; \t");
        if (n < sizeof(media)) {
            memcpy(media, req->content_type, n);
            media[n] = '\0';
        }
    }
    if (strcasecmp(media, "application/json") != 0) {
        http_response_set_error(resp, 415, "unsupported_media_type",
            "the body must be sent as Content-Type: application/json");
        return NULL;
    }
    if (req->body_len == 0)
        return json_object();
    body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES,
        &jerr);
    if (body == NULL) {
        char text[256];
        snprintf(text, sizeof(text), "malformed JSON at line %d column %d: "
            "%s", jerr.line, jerr.column, jerr.text);
        http_response_set_error(resp, 400, "invalid_request", text);
    }
    return body;
}

static void
api_answer_json(struct http_response *resp, int status, int rc, json_t *out,
    const char *msg)
{
    if (rc < 0) {
        json_decref(out);
        api_answer_backend_error(resp, rc, msg);
    } else if (out == NULL) {
        http_response_set_error(resp, 500, "internal_error",
            "the controller returned no data");
    } else if (http_response_set_json_take(resp, status, out) < 0) {
        http_response_set_error(resp, 500, "internal_error",
            "out of memory");
    }
}

static void
api_serve_metrics(struct api *api, struct http_response *resp)
{
    char *text = NULL;
    char msg[API_MESSAGE_MAX] = "";
    int rc = api->backend.metrics(api->backend.ctx, &text, msg);

    if (rc < 0) {
        free(text);
        api_answer_backend_error(resp, rc, msg);
        return;
    }

    size_t len = text != NULL ? strlen(text) : 0;
    size_t cap = len + 256 + API_STATUS_SLOTS * 80;
    char *buf = malloc(cap);
    if (buf == NULL) {
        free(text);
        http_response_set_error(resp, 500, "internal_error", "out of memory");
        return;
    }
    memcpy(buf, text != NULL ? text : "", len);
    free(text);
    /* The counts exclude this request, which is counted after its response. */
    size_t n = len;
    n += (size_t)snprintf(buf + n, cap - n,
        "# HELP ikeshift_api_requests_total API requests answered, by "
        "HTTP status.\n# TYPE ikeshift_api_requests_total counter\n");
    for (size_t i = 0; i < API_STATUS_SLOTS && api->counts[i].status; i++)
        n += (size_t)snprintf(buf + n, cap - n,
            "ikeshift_api_requests_total{code=\"%d\"} %llu\n",
            api->counts[i].status,
            (unsigned long long)api->counts[i].count);
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp->body = buf;
    resp->body_len = n;
}

/* Runs a GET route's backend callback. */
static void
api_serve_get(struct api *api, enum api_route route, const char *id,
    struct http_response *resp)
{
    const struct api_backend *b = &api->backend;
    char msg[API_MESSAGE_MAX] = "";
    json_t *out = NULL;
    int rc = -ENOSYS;

    switch (route) {
    case ROUTE_HEALTHZ:
        http_response_set_json_take(resp, 200,
            json_pack("{s:s}", "status", "ok"));
        return;
    case ROUTE_METRICS:
        if (b->metrics != NULL) {
            api_serve_metrics(api, resp);
            return;
        }
        break;
    case ROUTE_CLUSTER:
        if (b->get_cluster != NULL)
            rc = b->get_cluster(b->ctx, &out, msg);
        break;
    case ROUTE_GATEWAYS:
        if (b->list_gateways != NULL)
            rc = b->list_gateways(b->ctx, &out, msg);
        break;
    case ROUTE_GATEWAY:
        if (b->get_gateway != NULL)
            rc = b->get_gateway(b->ctx, id, &out, msg);
        break;
    case ROUTE_PLAN:
        if (b->get_plan != NULL)
            rc = b->get_plan(b->ctx, &out, msg);
        break;
    default:
        break;
    }
    if (rc == -ENOSYS) {
        http_response_set_error(resp, 501, "not_implemented",
            "this controller does not serve this route");
        return;
    }
    api_answer_json(resp, 200, rc, out, msg);
}

/* A request whose response the backend completes later (api_done_fn). */
struct api_wait {
    struct http_pending *pending;   /* NULL when it could not be deferred */
    int status;                     /* on success */
    bool returned;                  /* the backend call has returned */
    /* A result given before the backend returned, sent at once. */
    bool early;
    int early_rc;
    json_t *early_out;
    char early_msg[API_MESSAGE_MAX];
};

static void
api_wait_done(void *done_arg, int rc, json_t *out, const char *msg)
{
    struct api_wait *w = done_arg;
    struct http_response resp;

    if (!w->returned) {
        w->early = true;
        w->early_rc = rc;
        w->early_out = out;
        snprintf(w->early_msg, sizeof(w->early_msg), "%s",
            msg != NULL ? msg : "");
        return;
    }
    if (w->pending == NULL) {
        json_decref(out);
        free(w);
        return;
    }
    memset(&resp, 0, sizeof(resp));
    api_answer_json(&resp, w->status, rc, out, msg != NULL ? msg : "");
    http_pending_finish(w->pending, &resp);
    free(w);
}

/* Validates a POST route's body and runs its backend callback. */
static void
api_serve_post(struct api *api, enum api_route route, const char *id,
    const struct http_request *req, struct http_response *resp)
{
    const struct api_backend *b = &api->backend;
    char msg[API_MESSAGE_MAX] = "";
    char err[256] = "";
    json_t *out = NULL;
    json_t *body;
    int rc = -ENOSYS;
    int status = 202;

    if ((body = api_read_body(req, resp)) == NULL)
        return;
    if (route == ROUTE_DRAIN) {
        struct drain_params params;
        struct api_wait *w;

        if (api_parse_drain(body, &params, err, sizeof(err)) < 0)
            goto invalid;
        if (b->drain != NULL && (w = calloc(1, sizeof(*w))) == NULL) {
            rc = -ENOMEM;
        } else if (b->drain != NULL) {
            w->status = status;
            rc = b->drain(b->ctx, id, &params, &out, msg, api_wait_done, w);
            w->returned = true;
            if (rc == 1 && w->early) {
                /* The backend finished before it returned. */
                rc = w->early_rc;
                out = w->early_out;
                snprintf(msg, API_MESSAGE_MAX, "%s", w->early_msg);
            } else if (rc == 1) {
                /* The response goes out in api_wait_done(). */
                json_decref(body);
                if ((w->pending = http_request_defer(req)) == NULL)
                    http_response_set_error(resp, 500, "internal_error",
                        "the response could not be deferred; check GET "
                        "/v1/gateways/{id} for the drain");
                return;
            }
            free(w);
        }
    } else if (route == ROUTE_RESUME) {
        static const char *const none[] = { NULL };
        if (api_check_fields(body, none, err, sizeof(err)) < 0)
            goto invalid;
        status = 200;
        if (b->resume != NULL)
            rc = b->resume(b->ctx, id, &out, msg);
    } else {
        struct api_redirect redirect;
        if (api_parse_redirect(body, &redirect, err, sizeof(err)) < 0)
            goto invalid;
        if (b->redirect != NULL)
            rc = b->redirect(b->ctx, &redirect, &out, msg);
    }
    json_decref(body);
    if (rc == -ENOSYS) {
        http_response_set_error(resp, 501, "not_implemented",
            "this controller does not serve this route");
        return;
    }
    api_answer_json(resp, status, rc, out, msg);
    return;
invalid:
    json_decref(body);
    http_response_set_error(resp, 400, "invalid_request", err);
}

static void
api_route_request(struct api *api, const struct http_request *req,
    struct http_response *resp)
{
    char id[CLUSTER_ID_MAX + 1];
    bool bad_id;
    enum api_route route = api_match_route(req->target, id, sizeof(id),
        &bad_id);

    if (route == ROUTE_NONE) {
        http_response_set_error(resp, 404, "not_found",
            "no such resource; the routes are listed in docs/api.md");
        return;
    }

    bool change = api_route_is_change(route);
    const char *method = change ? "POST" : "GET";
    if (strcmp(req->method, method) != 0) {
        snprintf(resp->allow, sizeof(resp->allow), "%s", method);
        http_response_set_error(resp, 405, "method_not_allowed",
            change ? "this resource accepts only POST"
                   : "this resource accepts only GET");
        return;
    }
    /* The health check stays open so that a load balancer needs no token. */
    if (route != ROUTE_HEALTHZ && !api_check_access(api, req, change, resp))
        return;
    if (bad_id) {
        http_response_set_error(resp, 400, "invalid_request",
            "gateway id: must be 1 to 63 characters from [A-Za-z0-9._-]");
        return;
    }
    if (change)
        api_serve_post(api, route, id, req, resp);
    else
        api_serve_get(api, route, id, resp);
}

void
api_handle_request(void *ctx, const struct http_request *req,
    struct http_response *resp)
{
    struct api *api = ctx;

    api_route_request(api, req, resp);
    api_count_status(api, resp->status);
}
