/*
 * ikeshift-agent: the gateway's IKEv2 responder with RFC 5685 redirects.
 *
 *   ikeshift-agent -c FILE [--log-level LEVEL] [--debug-keys FILE]
 *   ikeshift-agent -c FILE --check-config
 *   ikeshift-agent ctl --socket PATH list|counters
 *   ikeshift-agent ctl --socket PATH move [--peer IP] [--id ID]
 *       [--spi HEX] --to TARGET
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <uv.h>

#include "agent_config.h"
#include "cluster_link.h"
#include "ctlsock.h"
#include "engine.h"
#include "engine_priv.h"
#include "keylog.h"
#include "policy_plan.h"
#include "rt/log.h"
#include "rt/sdnotify.h"
#include "udp_io.h"

#define AGENT_VERSION "0.1.0"

struct agent {
    uv_loop_t *loop;
    struct agent_config *cfg;
    struct ike_engine *engine;
    struct udp_io *io;
    struct ctlsock *ctl;
    struct keylog *keylog;
    struct policy_plan *plan;   /* NULL without a "cluster" section */
    struct cluster_link *cluster;
    struct cluster_link_ops cluster_ops;
    uv_timer_t tick;            /* one-shot, armed for the next deadline */
    uv_prepare_t prepare;       /* re-arms tick before each poll */
    uint64_t armed_ms;          /* deadline tick is armed for */
    uv_signal_t sigterm;
    uv_signal_t sigint;
    uv_signal_t sighup;
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
    uv_close((uv_handle_t *)&a->sighup, NULL);
    udp_io_close(a->io);
    ctlsock_close(a->ctl);
    cluster_link_free(a->cluster);
    a->cluster = NULL;
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
        if (a->cfg->policy.have_drain_target)
            engine_redirect_some(a->engine, &a->cfg->policy.drain_target,
                a->cfg->drain_batch, now);
        else
            cluster_link_drain_some(a->cluster, a->cfg->drain_batch);
        a->drain_next_ms = now + a->cfg->drain_interval_ms;
        sdnotify_status("draining; sas=%zu", engine_sa_count(a->engine));
    }
}

/* SIGHUP would end the process by default.  There is no reload, so it
 * is logged and ignored. */
static void
on_sighup(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    log_notice("agent", "SIGHUP ignored: the configuration is read only at"
        " start; restart the agent to apply a change");
}

static void
on_signal(uv_signal_t *s, int signum)
{
    struct agent *a = s->data;
    uint64_t now = uv_now(a->loop);

    sdnotify_stopping();
    /* A drain needs somewhere to send the clients: the configured drain
     * target, else the targets of this gateway's plan entry. */
    if (signum == SIGTERM && (a->cfg->policy.have_drain_target ||
        a->cluster != NULL) && !a->draining) {
        char gw[300] = "plan targets";

        a->draining = 1;
        a->cfg->policy.state = POLICY_ADMIN_DRAINING;
        if (a->plan != NULL)
            policy_plan_set_self_draining(a->plan, true);
        if (a->cluster != NULL) {
            cluster_link_set_state(a->cluster, CLUSTER_AGENT_DRAINING);
            cluster_link_report_now(a->cluster);
        }
        a->drain_next_ms = now;
        a->drain_deadline_ms = now + a->cfg->drain_deadline_ms;
        if (a->cfg->policy.have_drain_target)
            policy_target_to_text(&a->cfg->policy.drain_target, gw,
                sizeof(gw));
        log_notice("agent", "draining; sas=%zu target=%s",
            engine_sa_count(a->engine), gw);
        sdnotify_status("draining; sas=%zu target=%s",
            engine_sa_count(a->engine), gw);
        return;
    }
    log_notice("agent", "deleting every IKE SA; signal=%d sas=%zu", signum,
        engine_sa_count(a->engine));
    engine_delete_all(a->engine, now);
    agent_stop(a);
}

static void
agent_fill_report(void *arg, struct cluster_report *r)
{
    const struct agent *a = arg;
    const struct ike_engine *e = a->engine;
    const struct engine_config *ec = &a->cfg->engine;
    uint64_t drops = 0;

    r->half_open = (uint32_t)engine_half_open_count(e);
    r->ike_sas = (uint32_t)(engine_sa_count(e) - engine_half_open_count(e));
    r->half_open_limit = ec->max_half_open;
    if (ec->have_pool) {
        r->pool_size = ((uint32_t)1 << (32 - ec->pool.len)) - 3;
        r->pool_used = (uint32_t)pool_used(e->pool);
    }
    r->redirects_sent = engine_counter_get(e, ENGINE_CTR_REDIRECT_INIT) +
        engine_counter_get(e, ENGINE_CTR_REDIRECT_AUTH) +
        engine_counter_get(e, ENGINE_CTR_REDIRECT_MIDSESSION);
    r->sas_established = engine_counter_get(e, ENGINE_CTR_SA_ESTABLISHED);
    /* The controller leaves a gateway whose IDr differs from the
     * cluster's out of every plan. */
    if (cluster_identity_format(ec->local_id_type, ec->local_id,
        ec->local_id_len, r->identity, sizeof(r->identity)) < 0)
        r->identity[0] = '\0';
    for (int c = ENGINE_CTR_RX_DROP_PARSE; c <= ENGINE_CTR_RX_DROP_FRAGMENT;
        c++)
        drops += engine_counter_get(e, (enum engine_counter)c);
    for (int c = ENGINE_CTR_INIT_DROP_HALF_OPEN;
        c <= ENGINE_CTR_INIT_DROP_MAX_SAS; c++)
        drops += engine_counter_get(e, (enum engine_counter)c);
    r->drops = drops;
}

static size_t
agent_redirect_some(void *arg, const struct policy_target *target,
    size_t max)
{
    struct agent *a = arg;

    return engine_redirect_some(a->engine, target, max, uv_now(a->loop));
}

static size_t
agent_sa_count(void *arg)
{
    const struct agent *a = arg;

    return engine_sa_count(a->engine);
}

static int
agent_execute_move(void *arg, const struct move_request *req)
{
    struct agent *a = arg;
    struct engine_selector sel;

    memset(&sel, 0, sizeof(sel));
    if (req->have_peer)
        sel.peer = (const struct sockaddr *)&req->peer;
    if (req->have_id)
        sel.id = req->id;
    if (req->have_spi)
        sel.spi_i = req->spi_i;
    return engine_redirect_sas(a->engine, &sel, &req->to, uv_now(a->loop));
}

/*
 * Creates the plan policy from the "cluster" section.  Anycast arrivals
 * that the plan accepts go to the public address, else the first unicast.
 */
static int
agent_plan_new(struct agent *a)
{
    const struct agent_cluster_config *cc = &a->cfg->cluster;
    struct policy_target own;
    char text[INET6_ADDRSTRLEN];
    const struct sockaddr_storage *u = &a->cfg->unicast[0];
    const void *addr = u->ss_family == AF_INET6 ?
        (const void *)&((const struct sockaddr_in6 *)u)->sin6_addr :
        (const void *)&((const struct sockaddr_in *)u)->sin_addr;
    const char *own_text = cc->link.public_address;

    if (own_text == NULL)
        own_text = inet_ntop(u->ss_family, addr, text, sizeof(text));
    if (own_text == NULL || policy_target_from_text(&own, own_text) < 0)
        return -EINVAL;
    if ((a->plan = policy_plan_new(cc->link.gateway_id, &own)) == NULL)
        return -ENOMEM;
    return 0;
}

/* Connects to Redis; the password is read here and wiped after the copy. */
static int
agent_cluster_start(struct agent *a)
{
    struct agent_config *cfg = a->cfg;
    char password[AGENT_PASSWORD_MAX];
    bool auth = cfg->cluster.password_file != NULL;
    int ret;

    /* A configured file that has gone missing since the configuration was
     * checked is an error too, not a reason to connect without AUTH. */
    if (auth &&
        (ret = agent_config_read_password(cfg, password, sizeof(password)))
        < 0) {
        log_error("agent", "reading the Redis password failed; file=%s"
            " error=%s", cfg->cluster.password_file, strerror(-ret));
        return ret;
    }
    cfg->cluster.link.password = auth ? password : NULL;
    a->cluster_ops.fill_report = agent_fill_report;
    a->cluster_ops.redirect_some = agent_redirect_some;
    a->cluster_ops.sa_count = agent_sa_count;
    a->cluster_ops.execute_move = agent_execute_move;
    a->cluster_ops.arg = a;
    a->cluster = cluster_link_new(a->loop, &cfg->cluster.link, a->plan,
        &a->cluster_ops);
    cfg->cluster.link.password = NULL;
    OPENSSL_cleanse(password, sizeof(password));
    if (a->cluster == NULL) {
        log_error("agent", "creating the cluster link failed");
        return -ENOMEM;
    }
    return cluster_link_start(a->cluster);
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
    if (cfg->cluster.enabled && (ret = agent_plan_new(&a)) < 0) {
        log_error("agent", "creating the plan policy failed; error=%s",
            strerror(-ret));
        goto fail;
    }
    a.engine = engine_new(&cfg->engine, a.plan != NULL ?
        policy_plan_policy(a.plan) : policy_static_policy(&cfg->policy),
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
    uv_signal_init(a.loop, &a.sighup);
    uv_signal_start(&a.sighup, on_sighup, SIGHUP);
    if (cfg->cluster.enabled && (ret = agent_cluster_start(&a)) < 0) {
        agent_stop(&a);
        uv_run(a.loop, UV_RUN_DEFAULT);
        engine_free(a.engine);
        keylog_close(a.keylog);
        policy_plan_free(a.plan);
        return 1;
    }
    log_notice("agent", "started; version=" AGENT_VERSION " addresses=%zu",
        n);
    /* The UDP and control sockets are bound, so the agent serves now. */
    sdnotify_ready();
    uv_run(a.loop, UV_RUN_DEFAULT);
    engine_free(a.engine);
    keylog_close(a.keylog);
    policy_plan_free(a.plan);
    uv_loop_close(a.loop);
    log_notice("agent", "stopped");
    return 0;
fail:
    udp_io_close(a.io);
    ctlsock_close(a.ctl);
    uv_run(a.loop, UV_RUN_DEFAULT);
    engine_free(a.engine);
    keylog_close(a.keylog);
    policy_plan_free(a.plan);
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
