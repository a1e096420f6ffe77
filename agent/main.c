/*
 * ikeshift-agent: the gateway's IKEv2 responder with RFC 5685 redirects.
 *
 *   ikeshift-agent -c FILE [--log-level LEVEL]
 *   ikeshift-agent -c FILE --check-config
 *   ikeshift-agent ctl --socket PATH list|counters
 *   ikeshift-agent ctl --socket PATH move [--peer IP] [--id ID]
 *       [--spi HEX] --to TARGET
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "agent_config.h"
#include "ctlsock.h"
#include "engine.h"
#include "rt/log.h"
#include "udp_io.h"

#define AGENT_VERSION "0.1.0"
#define TICK_MS 100

struct agent {
    uv_loop_t *loop;
    struct agent_config *cfg;
    struct ike_engine *engine;
    struct udp_io *io;
    struct ctlsock *ctl;
    uv_timer_t tick;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    int draining;
    uint64_t drain_next_ms;
    uint64_t drain_deadline_ms;
    int stopping;
};

static void
usage(FILE *fp)
{
    fprintf(fp,
        "usage: ikeshift-agent -c FILE [--log-level LEVEL]\n"
        "       ikeshift-agent -c FILE --check-config\n"
        "       ikeshift-agent --version\n"
        "       ikeshift-agent ctl --socket PATH list|counters\n"
        "       ikeshift-agent ctl --socket PATH move [--peer IP] [--id ID]"
        " [--spi HEX] --to TARGET\n"
        "  -c FILE         configuration file (JSON)\n"
        "  --check-config  validate FILE and exit: 0 valid, 2 invalid\n"
        "  --log-level L   minimum log level, %s\n", LOG_LEVEL_EXPECTED);
}

static int
ctl_main(int argc, char **argv)
{
    const char *path = "/run/ikeshift-agent.sock", *cmd = NULL;
    json_t *req = json_object();
    char *line;
    int ret;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *key = NULL;

        if (strcmp(a, "--socket") == 0 && i + 1 < argc) {
            path = argv[++i];
            continue;
        }
        if (strcmp(a, "--peer") == 0)
            key = "peer";
        else if (strcmp(a, "--id") == 0)
            key = "id";
        else if (strcmp(a, "--spi") == 0)
            key = "spi";
        else if (strcmp(a, "--to") == 0)
            key = "to";
        if (key != NULL && i + 1 < argc) {
            json_object_set_new(req, key, json_string(argv[++i]));
            continue;
        }
        if (key == NULL && cmd == NULL && a[0] != '-') {
            cmd = a;
            continue;
        }
        fprintf(stderr, "ctl: invalid argument: %s\n", a);
        usage(stderr);
        json_decref(req);
        return 2;
    }
    if (cmd == NULL) {
        usage(stderr);
        json_decref(req);
        return 2;
    }
    json_object_set_new(req, "cmd", json_string(cmd));
    line = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    ret = line != NULL ? ctlsock_client(path, line) : 2;
    free(line);
    return ret;
}

static void
agent_stop(struct agent *a)
{
    if (a->stopping)
        return;
    a->stopping = 1;
    log_notice("agent", "stopping; sas=%zu", engine_sa_count(a->engine));
    uv_timer_stop(&a->tick);
    uv_close((uv_handle_t *)&a->tick, NULL);
    uv_close((uv_handle_t *)&a->sigterm, NULL);
    uv_close((uv_handle_t *)&a->sigint, NULL);
    udp_io_close(a->io);
    ctlsock_close(a->ctl);
}

static void
on_tick(uv_timer_t *t)
{
    struct agent *a = t->data;
    uint64_t now = uv_now(a->loop);

    engine_run_timers(a->engine, now);
    if (!a->draining)
        return;
    if (engine_sa_count(a->engine) == 0) {
        log_notice("agent", "drain complete");
        agent_stop(a);
        return;
    }
    if (now >= a->drain_deadline_ms) {
        log_notice("agent", "drain deadline reached; sas=%zu",
            engine_sa_count(a->engine));
        engine_delete_all(a->engine, now);
        agent_stop(a);
        return;
    }
    if (now >= a->drain_next_ms) {
        engine_redirect_some(a->engine, &a->cfg->policy.drain_target,
            a->cfg->drain_batch, now);
        a->drain_next_ms = now + a->cfg->drain_interval_ms;
    }
}

static void
on_signal(uv_signal_t *s, int signum)
{
    struct agent *a = s->data;
    uint64_t now = uv_now(a->loop);

    if (signum == SIGTERM && a->cfg->policy.have_drain_target &&
        !a->draining) {
        char gw[300];

        a->draining = 1;
        a->cfg->policy.state = POLICY_ADMIN_DRAINING;
        a->drain_next_ms = now;
        a->drain_deadline_ms = now + a->cfg->drain_deadline_ms;
        log_notice("agent", "draining; sas=%zu target=%s",
            engine_sa_count(a->engine),
            policy_target_to_text(&a->cfg->policy.drain_target, gw,
            sizeof(gw)));
        return;
    }
    log_notice("agent", "deleting every IKE SA; signal=%d sas=%zu", signum,
        engine_sa_count(a->engine));
    engine_delete_all(a->engine, now);
    agent_stop(a);
}

static int
agent_run(struct agent_config *cfg)
{
    struct agent a;
    struct sockaddr_storage addrs[2 * AGENT_MAX_ADDRS];
    size_t n = 0;
    int ret;

    memset(&a, 0, sizeof(a));
    a.cfg = cfg;
    a.loop = uv_default_loop();
    for (size_t i = 0; i < cfg->n_unicast; i++)
        addrs[n++] = cfg->unicast[i];
    for (size_t i = 0; i < cfg->n_anycast; i++)
        addrs[n++] = cfg->anycast[i];
    if ((ret = udp_io_new(a.loop, addrs, n, cfg->ike_port, cfg->natt_port,
        (int)cfg->rcvbuf, &a.io)) < 0)
        goto fail;
    a.engine = engine_new(&cfg->engine, policy_static_policy(&cfg->policy),
        udp_io_send, a.io);
    if (a.engine == NULL) {
        log_error("agent", "creating the engine failed");
        ret = UV_ENOMEM;
        goto fail;
    }
    udp_io_set_engine(a.io, a.engine);
    if ((ret = ctlsock_new(a.loop, cfg->control_socket, a.engine, a.io,
        &a.ctl)) < 0)
        goto fail;
    uv_timer_init(a.loop, &a.tick);
    a.tick.data = &a;
    uv_timer_start(&a.tick, on_tick, TICK_MS, TICK_MS);
    uv_signal_init(a.loop, &a.sigterm);
    a.sigterm.data = &a;
    uv_signal_start(&a.sigterm, on_signal, SIGTERM);
    uv_signal_init(a.loop, &a.sigint);
    a.sigint.data = &a;
    uv_signal_start(&a.sigint, on_signal, SIGINT);
    log_notice("agent", "started; version=" AGENT_VERSION " addresses=%zu",
        n);
    uv_run(a.loop, UV_RUN_DEFAULT);
    engine_free(a.engine);
    uv_loop_close(a.loop);
    log_notice("agent", "stopped");
    return 0;
fail:
    udp_io_close(a.io);
    ctlsock_close(a.ctl);
    uv_run(a.loop, UV_RUN_DEFAULT);
    engine_free(a.engine);
    return 1;
}

int
main(int argc, char **argv)
{
    const char *path = NULL, *level = NULL;
    struct agent_config *cfg;
    enum log_level lvl;
    int check = 0, ret;

    if (argc > 1 && strcmp(argv[1], "ctl") == 0)
        return ctl_main(argc - 2, argv + 2);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--check-config") == 0) {
            check = 1;
        } else if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) {
            level = argv[++i];
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("ikeshift-agent " AGENT_VERSION "\n");
            return 0;
        } else if (strcmp(argv[i], "-h") == 0 ||
            strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "ikeshift-agent: invalid argument: %s\n",
                argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (path == NULL) {
        fprintf(stderr, "ikeshift-agent: missing -c FILE\n");
        usage(stderr);
        return 2;
    }
    if ((cfg = agent_config_load(path, stderr)) == NULL)
        return 2;
    if (check) {
        printf("%s: valid\n", path);
        agent_config_free(cfg);
        return 0;
    }
    lvl = cfg->log_level;
    if (level != NULL && log_parse_level(level, &lvl) < 0) {
        fprintf(stderr, "ikeshift-agent: invalid --log-level %s, expected"
            " %s\n", level, LOG_LEVEL_EXPECTED);
        agent_config_free(cfg);
        return 2;
    }
    log_init("ikeshift-agent", 2, lvl);
    ret = agent_run(cfg);
    agent_config_free(cfg);
    return ret;
}
