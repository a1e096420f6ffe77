/*
 * ikeshift-agent: the gateway's IKEv2 responder with RFC 5685 redirects.
 *
 *   ikeshift-agent -c FILE [--log-level LEVEL] [--debug-keys FILE]
 *   ikeshift-agent -c FILE --check-config
 *   ikeshift-agent ctl --socket PATH list|counters
 *   ikeshift-agent ctl --socket PATH move [--peer IP] [--id ID]
 *       [--spi HEX] --to TARGET
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "agent_config.h"
#include "ctlsock.h"
#include "engine.h"
#include "keylog.h"
#include "rt/log.h"
#include "udp_io.h"

#define AGENT_VERSION "0.1.0"

struct agent {
    uv_loop_t *loop;
    struct agent_config *cfg;
    struct ike_engine *engine;
    struct udp_io *io;
    struct ctlsock *ctl;
    struct keylog *keylog;
    uv_timer_t tick;            /* one-shot, armed for the next deadline */
    uv_prepare_t prepare;       /* re-arms tick before each poll */
    uint64_t armed_ms;          /* deadline tick is armed for */
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
        "usage: ikeshift-agent -c FILE [--log-level LEVEL]"
        " [--debug-keys FILE]\n"
        "       ikeshift-agent -c FILE --check-config\n"
        "       ikeshift-agent --version\n"
        "       ikeshift-agent ctl --socket PATH list|counters\n"
        "       ikeshift-agent ctl --socket PATH move [--peer IP] [--id ID]"
        " [--spi HEX] --to TARGET\n"
        "  -c FILE         configuration file (JSON)\n"
        "  --check-config  validate FILE and exit: 0 valid, 2 invalid\n"
        "  --log-level L   minimum log level, %s\n"
        "  --debug-keys F  append each IKE SA's SPIs and SK_e/SK_a keys to F"
        " in\n"
        "                  Wireshark's format, for tests only (overrides"
        " debug_keys_file)\n", LOG_LEVEL_EXPECTED);
}

static void
ctl_usage(FILE *fp)
{
    fprintf(fp,
        "usage: ikeshift-agent ctl [--socket PATH] list|counters\n"
        "       ikeshift-agent ctl [--socket PATH] move [--peer IP[:PORT]]"
        " [--id ID] [--spi HEX] --to TARGET\n"
        "Talks to a running agent over its control socket (JSON lines;\n"
        "default /run/ikeshift-agent.sock, the control_socket key).\n"
        "  list      print every IKE SA as JSON\n"
        "  counters  print the agent's counters as JSON\n"
        "  move      send a mid-session REDIRECT to TARGET (IPv4, IPv6 or\n"
        "            host name) to each established SA that matches all of\n"
        "            the given selectors; at least one is required.  --peer\n"
        "            with a port matches that port only.  The answer counts\n"
        "            the SAs moved and those refused because the client did\n"
        "            not announce redirect support or TARGET is the SA's own\n"
        "            address.\n");
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
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            ctl_usage(stdout);
            json_decref(req);
            return 0;
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
    uv_prepare_stop(&a->prepare);
    uv_close((uv_handle_t *)&a->prepare, NULL);
    uv_close((uv_handle_t *)&a->sigterm, NULL);
    uv_close((uv_handle_t *)&a->sigint, NULL);
    udp_io_close(a->io);
    ctlsock_close(a->ctl);
}

static void on_tick(uv_timer_t *t);

/* Returns the next time the agent has something to do. */
static uint64_t
agent_next_wakeup(const struct agent *a)
{
    uint64_t next = engine_next_deadline(a->engine);

    if (a->draining) {
        if (engine_sa_count(a->engine) == 0)
            return 0;
        if (a->drain_next_ms < next)
            next = a->drain_next_ms;
        if (a->drain_deadline_ms < next)
            next = a->drain_deadline_ms;
    }
    return next;
}

/*
 * Runs before libuv polls for I/O, after the datagrams and control
 * commands of this loop iteration were handled, so a deadline that they
 * made earlier is armed before the loop sleeps.
 */
static void
on_prepare(uv_prepare_t *p)
{
    struct agent *a = p->data;
    uint64_t next = agent_next_wakeup(a), now = uv_now(a->loop);

    if (a->stopping || next == a->armed_ms)
        return;
    a->armed_ms = next;
    if (next == UINT64_MAX) {
        uv_timer_stop(&a->tick);
        return;
    }
    uv_timer_start(&a->tick, on_tick, next > now ? next - now : 0, 0);
}

static void
on_tick(uv_timer_t *t)
{
    struct agent *a = t->data;
    uint64_t now = uv_now(a->loop);

    a->armed_ms = UINT64_MAX;
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
    if (cfg->debug_keys_file != NULL) {
        if ((a.keylog = keylog_open(cfg->debug_keys_file)) == NULL) {
            ret = -errno;
            log_error("agent", "opening the debug key log failed; file=%s"
                " error=%s", cfg->debug_keys_file, strerror(errno));
            goto fail;
        }
        engine_set_keylog(a.engine, keylog_write, a.keylog);
        log_warn("agent", "DEBUG KEY LOGGING IS ON: the keys of every IKE SA"
            " are written to a file, and anyone who reads it can decrypt"
            " the IKE traffic; use it in tests only; file=%s",
            cfg->debug_keys_file);
    }
    if ((ret = ctlsock_new(a.loop, cfg->control_socket, a.engine, a.io,
        &a.ctl)) < 0)
        goto fail;
    uv_timer_init(a.loop, &a.tick);
    a.tick.data = &a;
    a.armed_ms = UINT64_MAX;
    uv_prepare_init(a.loop, &a.prepare);
    a.prepare.data = &a;
    uv_prepare_start(&a.prepare, on_prepare);
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
    keylog_close(a.keylog);
    uv_loop_close(a.loop);
    log_notice("agent", "stopped");
    return 0;
fail:
    udp_io_close(a.io);
    ctlsock_close(a.ctl);
    uv_run(a.loop, UV_RUN_DEFAULT);
    engine_free(a.engine);
    keylog_close(a.keylog);
    return 1;
}

int
main(int argc, char **argv)
{
    const char *path = NULL, *level = NULL, *keys = NULL;
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
        } else if (strcmp(argv[i], "--debug-keys") == 0 && i + 1 < argc) {
            keys = argv[++i];
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
    if (keys != NULL)
        cfg->debug_keys_file = keys;
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
