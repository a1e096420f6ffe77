/*
 * ikeshift-controller: reads the agents' reports from Redis, holds or
 * waits for the leader lease, computes and writes the plan while leading,
 * and serves the JSON API.  Usage: ikeshift-controller -c FILE [-t].
 */
#include <errno.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "api.h"
#include "backend.h"
#include "ctl_config.h"
#include "http_server.h"
#include "leader.h"
#include "rt/config.h"
#include "rt/log.h"
#include "rt/redis_link.h"
#include "rt/sdnotify.h"
#include "store.h"

/* How long a stop waits for the lease release before it gives up. */
#define CTL_STOP_TIMEOUT_MS 2000

struct ctl {
    struct ctl_config *cfg;
    uv_loop_t loop;
    uv_timer_t cycle;
    uv_timer_t stop_guard;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    uv_signal_t sighup;
    struct redis_link *link;
    struct leader *leader;
    struct store *store;
    struct ctl_backend *backend;
    struct api *api;
    struct http_server *http;
    bool stopping;
    bool closed;
};

static void
ctl_usage(FILE *fp)
{
    fprintf(fp, "usage: ikeshift-controller -c FILE [-t]\n"
        "  -c, --config FILE  configuration file (JSON)\n"
        "  -t, --test         check the configuration and exit\n"
        "  -h, --help         print this help\n");
}

static void
ctl_leader_cb(struct leader *l, bool leading, void *arg)
{
    struct ctl *c = arg;

    log_info("controller", leading ? "leadership gained; term=%llu" :
        "leadership lost; term=%llu",
        (unsigned long long)leader_get_term(l));
    ctl_backend_set_leading(c->backend, leading);
}

static void
ctl_cycle_cb(uv_timer_t *timer)
{
    struct ctl *c = timer->data;
    int rc;

    if ((rc = ctl_backend_cycle(c->backend)) < 0 && rc != -ENOTCONN)
        log_error("controller", "cycle not started; error=%d", rc);
}

/* Frees every part; the loop then finishes the close callbacks. */
static void
ctl_close(struct ctl *c)
{
    if (c->closed)
        return;
    c->closed = true;
    http_server_free(c->http);
    c->http = NULL;
    api_free(c->api);
    c->api = NULL;
    store_free(c->store);
    c->store = NULL;
    ctl_backend_free(c->backend);
    c->backend = NULL;
    leader_free(c->leader);
    c->leader = NULL;
    redis_link_free(c->link);
    c->link = NULL;
    uv_close((uv_handle_t *)&c->cycle, NULL);
    uv_close((uv_handle_t *)&c->stop_guard, NULL);
    uv_close((uv_handle_t *)&c->sigterm, NULL);
    uv_close((uv_handle_t *)&c->sigint, NULL);
    uv_close((uv_handle_t *)&c->sighup, NULL);
}

static void
ctl_released_cb(struct leader *l, int status, void *arg)
{
    struct ctl *c = arg;

    (void)l;
    (void)status;
    ctl_close(c);
}

static void
ctl_stop_guard_cb(uv_timer_t *timer)
{
    struct ctl *c = timer->data;

    log_warn("controller", "lease release timed out; timeout_ms=%d",
        CTL_STOP_TIMEOUT_MS);
    ctl_close(c);
}

/* SIGHUP would end the process by default.  There is no reload, so it
 * is logged and ignored. */
static void
ctl_sighup_cb(uv_signal_t *sig, int signum)
{
    (void)sig;
    (void)signum;
    log_notice("controller", "SIGHUP ignored: the configuration is read"
        " only at start; restart the controller to apply a change");
}

static void
ctl_signal_cb(uv_signal_t *sig, int signum)
{
    struct ctl *c = sig->data;

    if (c->stopping)
        return;
    c->stopping = true;
    log_notice("controller", "stopping; signal=%s",
        signum == SIGTERM ? "SIGTERM" : "SIGINT");
    sdnotify_stopping();
    uv_timer_stop(&c->cycle);
    uv_timer_start(&c->stop_guard, ctl_stop_guard_cb, CTL_STOP_TIMEOUT_MS,
        0);
    leader_release(c->leader, ctl_released_cb, c);
}

/* Creates the Redis link with the password read from its file. */
static int
ctl_open_redis(struct ctl *c)
{
    char password[CTL_CONFIG_SECRET_BUF];
    struct redis_link_options o = {
        .name = c->cfg->controller_id,
        .host = c->cfg->redis_host,
        .port = c->cfg->redis_port,
        .user = c->cfg->redis_user,
        .connect_timeout_ms = c->cfg->redis_connect_timeout_ms,
        .command_timeout_ms = c->cfg->redis_command_timeout_ms,
    };
    int rc;

    if (c->cfg->redis_password_file != NULL) {
        rc = ctl_config_read_secret(c->cfg->redis_password_file, password,
            sizeof(password));
        if (rc < 0) {
            log_error("controller", "redis password not read; file=%s "
                "error=%s", c->cfg->redis_password_file, strerror(-rc));
            return rc;
        }
        o.password = password;
    }
    c->link = redis_link_new(&c->loop, &o, NULL, NULL);
    OPENSSL_cleanse(password, sizeof(password));
    if (c->link == NULL) {
        log_error("controller", "redis link not created; host=%s port=%u",
            o.host, (unsigned)o.port);
        return -EINVAL;
    }
    return redis_link_start(c->link);
}

/* Reads an optional token file into buf; returns 0 or a negative errno. */
static int
ctl_read_token(const char *path, char *buf, size_t size, const char **out)
{
    int rc;

    *out = NULL;
    if (path == NULL)
        return 0;
    if ((rc = ctl_config_read_secret(path, buf, size)) < 0) {
        log_error("controller", "API token not read; file=%s error=%s",
            path, strerror(-rc));
        return rc;
    }
    *out = buf;
    return 0;
}

static int
ctl_open_api(struct ctl *c)
{
    char rw[CTL_CONFIG_SECRET_BUF], ro[CTL_CONFIG_SECRET_BUF];
    struct api_config acfg = {
        .read_requires_token = c->cfg->api_read_requires_token,
    };
    struct http_server_config hcfg;
    struct api_backend be;
    int rc, err = 0;

    memset(rw, 0, sizeof(rw));
    memset(ro, 0, sizeof(ro));
    if ((rc = ctl_read_token(c->cfg->api_read_write_token_file, rw,
        sizeof(rw), &acfg.read_write_token)) < 0 ||
        (rc = ctl_read_token(c->cfg->api_read_only_token_file, ro,
        sizeof(ro), &acfg.read_only_token)) < 0)
        goto out;
    ctl_backend_get_api(c->backend, &be);
    rc = -ENOMEM;
    if ((c->api = api_new(&acfg, &be)) == NULL)
        goto out;
    http_server_config_init(&hcfg);
    hcfg.address = c->cfg->api_address;
    hcfg.port = c->cfg->api_port;
    hcfg.tls_cert_file = c->cfg->api_tls_cert_file;
    hcfg.tls_key_file = c->cfg->api_tls_key_file;
    c->http = http_server_new(&c->loop, &hcfg, api_handle_request, c->api,
        &err);
    if (c->http == NULL) {
        log_error("controller", "API server not started; address=%s "
            "port=%u error=%d", hcfg.address, (unsigned)hcfg.port, err);
        rc = err < 0 ? err : -EINVAL;
        goto out;
    }
    rc = 0;
out:
    OPENSSL_cleanse(rw, sizeof(rw));
    OPENSSL_cleanse(ro, sizeof(ro));
    return rc;
}

/* Builds every part; returns 0 or a negative errno after logging. */
static int
ctl_open(struct ctl *c)
{
    struct leader_config lcfg = {
        .id = c->cfg->controller_id,
        .ttl_ms = c->cfg->lease_ttl_ms,
        .renew_ms = c->cfg->lease_renew_ms,
    };
    struct ctl_backend_config bcfg = {
        .planner = c->cfg->planner,
        .registry = c->cfg->registry,
    };
    int rc;

    uv_timer_init(&c->loop, &c->cycle);
    c->cycle.data = c;
    uv_timer_init(&c->loop, &c->stop_guard);
    c->stop_guard.data = c;
    uv_signal_init(&c->loop, &c->sigterm);
    c->sigterm.data = c;
    uv_signal_init(&c->loop, &c->sigint);
    c->sigint.data = c;
    uv_signal_init(&c->loop, &c->sighup);
    if ((rc = ctl_open_redis(c)) < 0)
        return rc;
    c->leader = leader_new(&c->loop, c->link, &lcfg, ctl_leader_cb, c);
    c->store = store_new(c->link);
    if (c->leader == NULL || c->store == NULL)
        return -ENOMEM;
    if ((c->backend = ctl_backend_new(&bcfg, c->store, c->leader)) == NULL)
        return -ENOMEM;
    if ((rc = ctl_open_api(c)) < 0)
        return rc;
    uv_signal_start(&c->sigterm, ctl_signal_cb, SIGTERM);
    uv_signal_start(&c->sigint, ctl_signal_cb, SIGINT);
    uv_signal_start(&c->sighup, ctl_sighup_cb, SIGHUP);
    leader_start(c->leader);
    uv_timer_start(&c->cycle, ctl_cycle_cb, c->cfg->loop_ms,
        c->cfg->loop_ms);
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "test", no_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *path = NULL;
    bool test_only = false;
    struct ctl c;
    int opt, rc;

    while ((opt = getopt_long(argc, argv, "c:th", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 't':
            test_only = true;
            break;
        case 'h':
            ctl_usage(stdout);
            return 0;
        default:
            ctl_usage(stderr);
            return 1;
        }
    }
    if (path == NULL || optind != argc) {
        ctl_usage(stderr);
        return 1;
    }
    memset(&c, 0, sizeof(c));
    if ((c.cfg = ctl_config_load(path, stderr)) == NULL)
        return CONFIG_EXIT_INVALID;
    if (test_only) {
        printf("%s: configuration valid\n", path);
        ctl_config_free(c.cfg);
        return 0;
    }
    log_init("ikeshift-controller", STDERR_FILENO, c.cfg->log_level);
    signal(SIGPIPE, SIG_IGN);
    if (uv_loop_init(&c.loop) != 0) {
        log_error("controller", "event loop not created; error=%d", -ENOMEM);
        ctl_config_free(c.cfg);
        return 1;
    }
    log_notice("controller", "starting; id=%s redis=%s:%u lease_ttl_ms=%u "
        "loop_ms=%u", c.cfg->controller_id, c.cfg->redis_host,
        (unsigned)c.cfg->redis_port, (unsigned)c.cfg->lease_ttl_ms,
        (unsigned)c.cfg->loop_ms);
    /* Every controller of a cluster needs the same identity key, or a
     * failover changes which gateways may get clients. */
    if (c.cfg->registry.identity[0] == '\0')
        log_warn("controller", "no cluster identity configured, so gateways"
            " that present any IKE identity get clients; set \"identity\""
            " the same on every controller");
    else
        log_info("controller", "cluster identity %s",
            c.cfg->registry.identity);
    rc = ctl_open(&c);
    if (rc < 0)
        ctl_close(&c);
    else
        sdnotify_ready();   /* the API listens; Redis connects on its own */
    uv_run(&c.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&c.loop) != 0)
        log_warn("controller", "event loop closed with open handles; "
            "id=%s", c.cfg->controller_id);
    log_notice("controller", "stopped; id=%s status=%s",
        c.cfg->controller_id, rc < 0 ? "failed" : "ok");
    ctl_config_free(c.cfg);
    return rc < 0 ? 1 : 0;
}
