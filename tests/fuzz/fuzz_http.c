/*
 * libFuzzer harness for the API's request path without sockets: llhttp
 * through struct http_reader, routing, authorization and JSON body
 * validation in api_handle_request(), with a backend that answers every
 * route.  The first input byte chooses where the rest is split in two
 * reads, so requests that cross read boundaries are covered too.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "http_server.h"
#include "rt/log.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_json(void *ctx, json_t **out, char *msg)
{
    (void)ctx;
    (void)msg;
    *out = json_object();
    return 0;
}

static int
fuzz_gateway(void *ctx, const char *id, json_t **out, char *msg)
{
    (void)ctx;
    (void)msg;
    *out = json_pack("{s:s}", "gateway_id", id);
    return 0;
}

static int
fuzz_drain(void *ctx, const char *id, const struct drain_params *params,
    json_t **out, char *msg)
{
    (void)ctx;
    (void)params;
    (void)msg;
    *out = json_pack("{s:s}", "gateway_id", id);
    return 0;
}

static int
fuzz_redirect(void *ctx, const struct api_redirect *req, json_t **out,
    char *msg)
{
    (void)ctx;
    (void)msg;
    *out = json_pack("{s:s}", "target", req->target);
    return 0;
}

static int
fuzz_metrics(void *ctx, char **text, char *msg)
{
    (void)ctx;
    (void)msg;
    *text = strdup("ikeshift_up 1\n");
    return *text != NULL ? 0 : -1;
}

static int
fuzz_emit(void *ctx, const char *buf, size_t len)
{
    size_t *total = ctx;

    (void)buf;
    *total += len;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct api_backend backend = {
        .get_cluster = fuzz_json,
        .list_gateways = fuzz_json,
        .get_gateway = fuzz_gateway,
        .get_plan = fuzz_json,
        .drain = fuzz_drain,
        .resume = fuzz_gateway,
        .redirect = fuzz_redirect,
        .metrics = fuzz_metrics,
    };
    static const struct api_config acfg = {
        .read_write_token = "fuzz-rw",
        .read_only_token = "fuzz-ro",
    };
    struct http_server_config cfg;
    struct http_reader reader;
    size_t emitted = 0;

    if (size == 0)
        return 0;
    log_set_level(LOG_LEVEL_ERROR);
    http_server_config_init(&cfg);
    cfg.max_header_bytes = 1024;
    cfg.max_body_bytes = 2048;
    cfg.max_requests = 8;

    struct api *api = api_new(&acfg, &backend);
    if (api == NULL)
        return 0;
    if (http_reader_init(&reader, &cfg, "127.0.0.1:1", api_handle_request,
            api, fuzz_emit, &emitted) == 0) {
        size_t split = data[0] % size;
        const char *text = (const char *)data + 1;
        size_t len = size - 1;
        if (split > len)
            split = len;
        if (http_reader_feed(&reader, text, split) == 0)
            http_reader_feed(&reader, text + split, len - split);
        http_reader_timeout(&reader);
    }
    http_reader_cleanup(&reader);
    api_free(api);
    return 0;
}
