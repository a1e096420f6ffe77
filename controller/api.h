/*
 * The controller's JSON API: routing, bearer-token authorization, request
 * validation and error answers, over a backend of callbacks that the
 * daemon fills with its registry, planner and drains.  api_handle_request()
 * is an http_handler_fn, so the HTTP server calls it for every request.
 * docs/api.md describes the routes and bodies.
 *
 * The API runs on the server's loop thread and does no I/O of its own.
 */
#ifndef IKESHIFT_API_H
#define IKESHIFT_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "drain.h"
#include "http_server.h"
#include "rt/cluster.h"

#define API_STRINGIFY(x)        #x
#define API_STRINGIFY_VALUE(x)  API_STRINGIFY(x)

/* Default URL of ikeshiftctl: the server's default address and port. */
#define API_DEFAULT_URL \
    "http://" HTTP_SERVER_DEFAULT_ADDRESS ":" \
    API_STRINGIFY_VALUE(HTTP_SERVER_DEFAULT_PORT)

#define API_IDENTITY_MAX        255     /* IKE identity as text */
#define API_PEER_MAX            45      /* INET6_ADDRSTRLEN - 1 */
#define API_MESSAGE_MAX         256     /* backend error text, NUL included */
#define API_DEADLINE_MAX_S      (7u * 24 * 3600)
#define API_PACE_MAX            10000

/* Selector kind of POST /v1/sessions/redirect. */
enum api_selector {
    API_SELECT_PEER,        /* the client's IP address */
    API_SELECT_IDENTITY,    /* the client's IKE identity (IDi) */
    API_SELECT_SPI,         /* the initiator's IKE SPI */
};

struct api_redirect {
    enum api_selector selector;
    char peer[API_PEER_MAX + 1];            /* API_SELECT_PEER */
    char identity[API_IDENTITY_MAX + 1];    /* API_SELECT_IDENTITY */
    uint64_t spi;                           /* API_SELECT_SPI, not 0 */
    char target[CLUSTER_ID_MAX + 1];        /* gateway id */
};

/*
 * Backend callbacks.  Each returns 0 and stores a new JSON value in *out,
 * which the API takes, or a negative errno that selects the status:
 * -ENOENT 404, -EINVAL 400, -EBUSY, -EALREADY or -EEXIST 409, -EAGAIN 503
 * (for example while this controller is not the leader), anything else
 * 500.  On failure the backend may write a message for the operator into
 * msg[0..API_MESSAGE_MAX).  `gateway_id` has passed cluster_id_is_valid().
 */
typedef int api_get_cluster_fn(void *ctx, json_t **out, char *msg);
typedef int api_list_gateways_fn(void *ctx, json_t **out, char *msg);
typedef int api_get_gateway_fn(void *ctx, const char *gateway_id,
    json_t **out, char *msg);
typedef int api_get_plan_fn(void *ctx, json_t **out, char *msg);
/*
 * Completes a request that a backend finishes later: `rc` and `out`
 * (taken) as a callback would return them, `msg` the message for a
 * failure.
 */
typedef void api_done_fn(void *done_arg, int rc, json_t *out,
    const char *msg);
/*
 * `params` has zero fields where the request left the default.  The
 * backend may also return 1 and call `done` with `done_arg` exactly once,
 * for example once the drain is stored.  A call made before the backend
 * returns is taken as the immediate result.
 */
typedef int api_drain_fn(void *ctx, const char *gateway_id,
    const struct drain_params *params, json_t **out, char *msg,
    api_done_fn *done, void *done_arg);
typedef int api_resume_fn(void *ctx, const char *gateway_id, json_t **out,
    char *msg);
typedef int api_redirect_fn(void *ctx, const struct api_redirect *req,
    json_t **out, char *msg);
/*
 * Stores in *text a malloc'd Prometheus text (format 0.0.4) with the
 * controller's metrics, which the API takes and follows with its own.
 */
typedef int api_metrics_fn(void *ctx, char **text, char *msg);

/* A NULL callback makes its route return 501. */
struct api_backend {
    void *ctx;
    api_get_cluster_fn *get_cluster;
    api_list_gateways_fn *list_gateways;
    api_get_gateway_fn *get_gateway;
    api_get_plan_fn *get_plan;
    api_drain_fn *drain;
    api_resume_fn *resume;
    api_redirect_fn *redirect;
    api_metrics_fn *metrics;
};

struct api_config {
    const char *read_write_token;   /* NULL: no request may change state */
    const char *read_only_token;    /* NULL: none */
    bool read_requires_token;       /* GETs need either token */
};

struct api;

/*
 * Creates the API.  `cfg` is read (only hashes of the tokens are kept) and
 * `backend` is copied; backend->ctx is borrowed.  Returns NULL when out of
 * memory or for an empty token; free with api_free().
 */
struct api *
api_new(const struct api_config *cfg, const struct api_backend *backend);

/* Frees the API; NULL is accepted. */
void
api_free(struct api *api);

/*
 * Answers one request (an http_handler_fn; `ctx` is the struct api).
 * Every error is a JSON body {"error": code, "message": text}.
 */
void
api_handle_request(void *ctx, const struct http_request *req,
    struct http_response *resp);

/*
 * Validates a drain body (a JSON object with optional "deadline",
 * "pace" and "policy") into `params`.  Returns 0, or -EINVAL with a
 * message naming the field in err[0..err_size).
 */
int
api_parse_drain(const json_t *body, struct drain_params *params, char *err,
    size_t err_size);

/*
 * Validates a redirect body: exactly one of "peer", "identity" or "spi",
 * and "target".  Returns 0, or -EINVAL with a field-level message.
 */
int
api_parse_redirect(const json_t *body, struct api_redirect *out, char *err,
    size_t err_size);

/*
 * Parses a duration: a JSON integer of seconds or a string of digits with
 * an "s", "m" or "h" suffix, 1 s to API_DEADLINE_MAX_S.  Stores seconds.
 * Returns 0 or -EINVAL.
 */
int
api_parse_duration(const char *text, uint32_t *seconds);

#endif /* IKESHIFT_API_H */
