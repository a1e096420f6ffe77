/*
 * ike_setup: a bounded load generator of full IKE SA setups (IKE_SA_INIT
 * then IKE_AUTH with a PSK, RFC 7296 1.2) against any IKEv2 responder.
 *
 * Each SA is one in-memory initiator of tests/support/ike_initiator.h with
 * its own identity (client-N@example.net) and SPIi (a run prefix, then N),
 * driven over UDP from --sources sockets.  All initiators, and with them
 * their key pairs, are made before the clock starts, so the generator
 * spends its timed CPU on the Diffie-Hellman, PRF and AES-GCM work of the
 * exchange alone.  All initiators share one set of HMAC contexts.  At
 * most --window setups are in flight; a request that stays unanswered for
 * --timeout ms is sent again, at most twice.  The default window, 256,
 * keeps a responder's core busy when it needs 0.1 ms per setup and
 * responds within 25 ms (Little's law); fewer in flight left the agent's
 * core partly idle.
 *
 * The result is one JSON object on stdout: SAs established, failures by
 * kind, the setup rate from the first request to the last completion,
 * latency percentiles and the generator's own CPU time.  With --hold S the
 * tool then keeps its SAs (and sockets) for S seconds, answering nothing,
 * so that the responder's memory can be read with every SA up.
 *
 * Safety, as in flood_init: only a loopback or documentation target whose
 * `ip route get` leaves through lo or an --allow-dev interface; count,
 * window and duration have hard upper limits and the tool stops by itself.
 *
 *   ike_setup --target ADDR --psk TEXT [--port N] [--count N] [--window N]
 *       [--sources N] [--bind ADDR] [--bind-span N] [--timeout MS]
 *       [--duration S] [--hold S] [--allow-dev DEV]...
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "bench_net.h"
#include "ike_buf.h"
#include "ike_const.h"
#include "ike_initiator.h"

#define MAX_COUNT       200000
#define MAX_WINDOW      8192
#define MAX_SOURCES     4096
#define MAX_BIND_SPAN   4096
#define MAX_DURATION_S  300
#define MAX_HOLD_S      600
#define MAX_ALLOW_DEV   8
#define MAX_TRIES       3           /* sends of one request */
#define BATCH           32
#define ID_MAX          48

enum setup_state {
    SETUP_IDLE,
    SETUP_INIT,                 /* IKE_SA_INIT request outstanding */
    SETUP_AUTH,                 /* IKE_AUTH request outstanding */
    SETUP_DONE,
    SETUP_FAILED,
};

struct options {
    struct sockaddr_storage target;
    socklen_t target_len;
    char target_text[INET6_ADDRSTRLEN];
    struct sockaddr_storage bind;
    bool have_bind;
    unsigned long bind_span;
    const char *psk;
    unsigned long count;
    unsigned long window;
    unsigned long sources;
    unsigned long timeout_ms;
    unsigned long duration_s;
    unsigned long hold_s;
    const char *allow_dev[MAX_ALLOW_DEV];
    size_t n_allow_dev;
};

struct setup {
    struct ike_initiator *ini;
    uint8_t spi_i[8];
    char id[ID_MAX];
    uint8_t state;              /* enum setup_state */
    uint8_t tries;
    uint64_t started_ns;
    uint64_t sent_ns;           /* of the outstanding request */
    uint32_t latency_us;
};

struct generator {
    const struct options *opt;
    struct sockaddr_storage target; /* a copy, since msg_name is not const */
    int *fds;
    struct sockaddr_storage *locals;
    struct setup *sa;
    struct ike_prf_ctx *prf_ctx;    /* HMAC contexts of every initiator */
    uint8_t spi_prefix[4];
    unsigned long next;         /* next setup to start */
    unsigned long in_flight;
    unsigned long established;
    unsigned long retransmits;
    unsigned long timeouts;
    unsigned long errors;       /* error notify, AUTH failure, other event */
    unsigned long dropped;      /* responses the initiator ignored */
    unsigned long unmatched;
    unsigned long send_errors;
    uint64_t start_ns;
    uint64_t last_done_ns;
};

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double
cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
        (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
usage(FILE *fp)
{
    fprintf(fp,
        "usage: ike_setup --target ADDR --psk TEXT [options]\n"
        "  --target ADDR     responder address (loopback or documentation"
        " range)\n"
        "  --psk TEXT        pre-shared key, as ASCII\n"
        "  --port N          UDP port, default 500\n"
        "  --count N         IKE SAs to set up, default 1000, at most %d\n"
        "  --window N        setups in flight, default 256, at most %d\n"
        "  --sources N       source sockets, default 64, at most %d\n"
        "  --bind ADDR       local IPv4 or IPv6 address of the sockets\n"
        "  --bind-span N     spread the sockets over N consecutive IPv4"
        " addresses from --bind, default 1, at most %d\n"
        "  --timeout MS      resend an unanswered request after MS ms,"
        " default 2000\n"
        "  --duration S      give up after S seconds, default 60, at most"
        " %d\n"
        "  --hold S          keep the SAs for S seconds after the result,"
        " default 0, at most %d\n"
        "  --allow-dev DEV   accept a route through DEV besides lo"
        " (repeatable)\n",
        MAX_COUNT, MAX_WINDOW, MAX_SOURCES, MAX_BIND_SPAN, MAX_DURATION_S,
        MAX_HOLD_S);
}

static int
parse_one(struct options *o, const char *a, const char *v,
    const char **target, const char **bind_text, unsigned long *port)
{
    if (strcmp(a, "--target") == 0)
        *target = v;
    else if (strcmp(a, "--bind") == 0)
        *bind_text = v;
    else if (strcmp(a, "--psk") == 0)
        o->psk = v;
    else if (strcmp(a, "--port") == 0)
        return bench_net_parse_ulong(v, 1, 65535, port);
    else if (strcmp(a, "--count") == 0)
        return bench_net_parse_ulong(v, 1, MAX_COUNT, &o->count);
    else if (strcmp(a, "--window") == 0)
        return bench_net_parse_ulong(v, 1, MAX_WINDOW, &o->window);
    else if (strcmp(a, "--sources") == 0)
        return bench_net_parse_ulong(v, 1, MAX_SOURCES, &o->sources);
    else if (strcmp(a, "--bind-span") == 0)
        return bench_net_parse_ulong(v, 1, MAX_BIND_SPAN, &o->bind_span);
    else if (strcmp(a, "--timeout") == 0)
        return bench_net_parse_ulong(v, 10, 60000, &o->timeout_ms);
    else if (strcmp(a, "--duration") == 0)
        return bench_net_parse_ulong(v, 1, MAX_DURATION_S, &o->duration_s);
    else if (strcmp(a, "--hold") == 0)
        return bench_net_parse_ulong(v, 0, MAX_HOLD_S, &o->hold_s);
    else if (strcmp(a, "--allow-dev") == 0 && o->n_allow_dev < MAX_ALLOW_DEV)
        o->allow_dev[o->n_allow_dev++] = v;
    else
        return -EINVAL;
    return 0;
}

static int
parse_options(int argc, char **argv, struct options *o)
{
    const char *target = NULL, *bind_text = NULL;
    unsigned long port = 500;
    struct sockaddr_storage last;

    memset(o, 0, sizeof(*o));
    o->count = 1000;
    o->window = 256;
    o->sources = 64;
    o->bind_span = 1;
    o->timeout_ms = 2000;
    o->duration_s = 60;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc) {
            fprintf(stderr, "ike_setup: missing value after %s\n", argv[i]);
            return -EINVAL;
        }
        if (parse_one(o, argv[i], argv[i + 1], &target, &bind_text,
            &port) < 0) {
            fprintf(stderr, "ike_setup: invalid option %s %s\n", argv[i],
                argv[i + 1]);
            return -EINVAL;
        }
    }
    if (o->psk == NULL || o->psk[0] == '\0') {
        fprintf(stderr, "ike_setup: missing --psk\n");
        return -EINVAL;
    }
    if (target == NULL ||
        bench_net_parse_addr(target, (uint16_t)port, &o->target, &o->target_len) < 0) {
        fprintf(stderr, "ike_setup: missing or invalid --target\n");
        return -EINVAL;
    }
    if (!bench_net_addr_allowed(&o->target)) {
        fprintf(stderr, "ike_setup: target %s is not a loopback or"
            " documentation address; refusing to send\n", target);
        return -EPERM;
    }
    snprintf(o->target_text, sizeof(o->target_text), "%s", target);
    if (bind_text != NULL) {
        socklen_t len;

        if (bench_net_parse_addr(bind_text, 0, &o->bind, &len) < 0 ||
            o->bind.ss_family != o->target.ss_family) {
            fprintf(stderr, "ike_setup: invalid --bind %s\n", bind_text);
            return -EINVAL;
        }
        o->have_bind = true;
    }
    if (o->bind_span > 1 && (!o->have_bind ||
        bench_net_span_addr(&o->bind, o->bind_span - 1, &last) < 0 ||
        !bench_net_addr_allowed(&o->bind) || !bench_net_addr_allowed(&last))) {
        fprintf(stderr, "ike_setup: --bind-span needs an IPv4 --bind, and"
            " the span must stay in the loopback or documentation ranges\n");
        return -EINVAL;
    }
    return 0;
}

static int
open_sockets(struct generator *g)
{
    const struct options *o = g->opt;

    g->fds = calloc(o->sources, sizeof(*g->fds));
    g->locals = calloc(o->sources, sizeof(*g->locals));
    if (g->fds == NULL || g->locals == NULL)
        return -ENOMEM;
    for (unsigned long i = 0; i < o->sources; i++)
        g->fds[i] = -1;
    for (unsigned long i = 0; i < o->sources; i++) {
        struct sockaddr_storage local;
        socklen_t len = sizeof(g->locals[i]);
        int buf = 1 << 20;
        int fd = socket(o->target.ss_family,
            SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        if (fd < 0)
            return -errno;
        g->fds[i] = fd;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
        memset(&local, 0, sizeof(local));
        if (o->have_bind && o->bind_span > 1)
            bench_net_span_addr(&o->bind, i % o->bind_span, &local);
        else if (o->have_bind)
            local = o->bind;
        else
            local.ss_family = o->target.ss_family;
        if (bind(fd, (struct sockaddr *)&local, o->target_len) < 0 ||
            getsockname(fd, (struct sockaddr *)&g->locals[i], &len) < 0)
            return -errno;
    }
    return 0;
}

/* Makes every initiator, and so every key pair, before the clock starts. */
static int
make_initiators(struct generator *g)
{
    const struct options *o = g->opt;
    struct ike_initiator_config cfg;
    struct ike_initiator_fixed fixed;
    struct ike_ke_ctx *ctx = ike_ke_ctx_new();

    if (ctx == NULL)
        return -ENOMEM;
    for (unsigned long i = 0; i < o->count; i++) {
        struct setup *s = &g->sa[i];
        int n = snprintf(s->id, sizeof(s->id), "client-%lu@example.net", i);

        memcpy(s->spi_i, g->spi_prefix, 4);
        ike_store32(s->spi_i + 4, (uint32_t)i);
        memset(&fixed, 0, sizeof(fixed));
        fixed.spi_i = s->spi_i;
        memset(&cfg, 0, sizeof(cfg));
        cfg.ike.encr = IKE_ENCR_AES_GCM_16;
        cfg.ike.encr_bits = 128;
        cfg.ike.prf = IKE_PRF_HMAC_SHA2_256;
        cfg.ike.integ = IKE_INTEG_NONE;
        cfg.ike.dh = IKE_DH_CURVE25519;
        cfg.childless = true;
        cfg.redirect = IKE_INITIATOR_REDIRECT_SUPPORTED;
        cfg.psk = (const uint8_t *)o->psk;
        cfg.psk_len = strlen(o->psk);
        cfg.id_type = IKE_ID_RFC822_ADDR;
        cfg.id = (const uint8_t *)s->id;
        cfg.id_len = (size_t)n;
        cfg.local = g->locals[i % o->sources];
        cfg.peer = o->target;
        /* The key cache is only read while ike_initiator_new() runs
         * here; nothing after this loop makes a key pair. */
        cfg.ke_ctx = ctx;
        cfg.prf_ctx = g->prf_ctx;
        cfg.fixed = &fixed;
        if ((s->ini = ike_initiator_new(&cfg)) == NULL) {
            ike_ke_ctx_free(ctx);
            return -ENOMEM;
        }
    }
    ike_ke_ctx_free(ctx);
    return 0;
}

static void
send_to(struct generator *g, unsigned long i, const uint8_t *msg,
    size_t len)
{
    int fd = g->fds[i % g->opt->sources];

    if (sendto(fd, msg, len, 0, (const struct sockaddr *)&g->target,
        g->opt->target_len) < 0)
        g->send_errors++;
    g->sa[i].sent_ns = now_ns();
}

static void
setup_finish(struct generator *g, struct setup *s, bool ok, uint64_t t)
{
    s->state = ok ? SETUP_DONE : SETUP_FAILED;
    s->latency_us = (uint32_t)((t - s->started_ns) / 1000);
    g->in_flight--;
    if (ok) {
        g->established++;
        g->last_done_ns = t;
    }
}

static void
start_more(struct generator *g)
{
    struct ike_initiator_out out;

    while (g->in_flight < g->opt->window && g->next < g->opt->count) {
        unsigned long i = g->next++;
        struct setup *s = &g->sa[i];

        s->started_ns = now_ns();
        s->tries = 1;
        g->in_flight++;
        if (ike_initiator_start(s->ini, &out) < 0 || out.msg == NULL) {
            g->errors++;
            setup_finish(g, s, false, s->started_ns);
            continue;
        }
        s->state = SETUP_INIT;
        send_to(g, i, out.msg, out.len);
    }
}

static void
handle_response(struct generator *g, const uint8_t *buf, size_t len)
{
    struct ike_initiator_out out;
    struct setup *s;
    uint32_t i;

    if (len < 28 || memcmp(buf, g->spi_prefix, 4) != 0 ||
        (i = ike_load32(buf + 4)) >= g->next) {
        g->unmatched++;
        return;
    }
    s = &g->sa[i];
    if (s->state != SETUP_INIT && s->state != SETUP_AUTH) {
        g->unmatched++;
        return;
    }
    if (ike_initiator_input(s->ini, buf, len, &out) < 0) {
        g->errors++;
        setup_finish(g, s, false, now_ns());
        return;
    }
    switch (out.event) {
    case IKE_INITIATOR_EV_AUTH_SENT:
        s->state = SETUP_AUTH;
        s->tries = 1;
        send_to(g, i, out.msg, out.len);
        break;
    case IKE_INITIATOR_EV_COOKIE:
    case IKE_INITIATOR_EV_INVALID_KE:
        s->tries = 1;
        send_to(g, i, out.msg, out.len);
        break;
    case IKE_INITIATOR_EV_ESTABLISHED:
        setup_finish(g, s, true, now_ns());
        break;
    case IKE_INITIATOR_EV_DROPPED:
        g->dropped++;
        break;
    default:
        g->errors++;
        setup_finish(g, s, false, now_ns());
        break;
    }
}

static void
receive_all(struct generator *g, struct pollfd *pfd, int timeout_ms)
{
    static uint8_t bufs[BATCH][IKE_INITIATOR_MSG_MAX];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];

    if (poll(pfd, g->opt->sources, timeout_ms) <= 0)
        return;
    for (unsigned long s = 0; s < g->opt->sources; s++) {
        int n;

        if ((pfd[s].revents & POLLIN) == 0)
            continue;
        do {
            memset(msgs, 0, sizeof(msgs));
            for (unsigned k = 0; k < BATCH; k++) {
                iov[k].iov_base = bufs[k];
                iov[k].iov_len = sizeof(bufs[k]);
                msgs[k].msg_hdr.msg_iov = &iov[k];
                msgs[k].msg_hdr.msg_iovlen = 1;
            }
            n = recvmmsg(pfd[s].fd, msgs, BATCH, MSG_DONTWAIT, NULL);
            for (int k = 0; k < n; k++)
                handle_response(g, bufs[k], msgs[k].msg_len);
        } while (n == BATCH);
    }
}

/* Resends requests older than --timeout; gives up after MAX_TRIES. */
static void
check_timeouts(struct generator *g, uint64_t t)
{
    uint64_t limit = g->opt->timeout_ms * 1000000ull;
    struct ike_initiator_out out;

    for (unsigned long i = 0; i < g->next; i++) {
        struct setup *s = &g->sa[i];

        if ((s->state != SETUP_INIT && s->state != SETUP_AUTH) ||
            t - s->sent_ns < limit)
            continue;
        if (s->tries >= MAX_TRIES ||
            ike_initiator_retransmit(s->ini, &out) < 0) {
            g->timeouts++;
            setup_finish(g, s, false, t);
            continue;
        }
        s->tries++;
        g->retransmits++;
        send_to(g, i, out.msg, out.len);
    }
}

static void
generator_run(struct generator *g, struct pollfd *pfd)
{
    uint64_t end, last_check;

    g->start_ns = now_ns();
    end = g->start_ns + g->opt->duration_s * 1000000000ull;
    last_check = g->start_ns;
    start_more(g);
    while (g->in_flight > 0 && now_ns() < end) {
        uint64_t t;

        receive_all(g, pfd, 5);
        start_more(g);
        t = now_ns();
        if (t - last_check > 100000000ull) {
            check_timeouts(g, t);
            last_check = t;
        }
    }
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static json_t *
latency_json(const struct generator *g)
{
    uint32_t *v = malloc((g->established + 1) * sizeof(*v));
    size_t n = 0;
    json_t *j = json_object();

    if (v == NULL)
        return j;
    for (unsigned long i = 0; i < g->next; i++) {
        if (g->sa[i].state == SETUP_DONE)
            v[n++] = g->sa[i].latency_us;
    }
    if (n > 0) {
        qsort(v, n, sizeof(*v), cmp_u32);
        json_object_set_new(j, "p50", json_integer(v[n / 2]));
        json_object_set_new(j, "p99", json_integer(v[n * 99 / 100]));
        json_object_set_new(j, "max", json_integer(v[n - 1]));
    }
    free(v);
    return j;
}

static void
print_result(const struct generator *g, double prepare_s, double cpu_s)
{
    json_t *j = json_object();
    double run_s = g->last_done_ns > g->start_ns ?
        (double)(g->last_done_ns - g->start_ns) / 1e9 : 0.0;
    char *text;

#define SET_ULONG(name, v) \
    json_object_set_new(j, name, json_integer((json_int_t)(v)))
    json_object_set_new(j, "target", json_string(g->opt->target_text));
    SET_ULONG("count", g->opt->count);
    SET_ULONG("window", g->opt->window);
    SET_ULONG("sources", g->opt->sources);
    SET_ULONG("started", g->next);
    SET_ULONG("established", g->established);
    SET_ULONG("errors", g->errors);
    SET_ULONG("timeouts", g->timeouts);
    SET_ULONG("retransmits", g->retransmits);
    SET_ULONG("dropped", g->dropped);
    SET_ULONG("unmatched", g->unmatched);
    SET_ULONG("send_errors", g->send_errors);
#undef SET_ULONG
    json_object_set_new(j, "prepare_seconds", json_real(prepare_s));
    json_object_set_new(j, "run_seconds", json_real(run_s));
    json_object_set_new(j, "setups_per_second", json_real(run_s > 0 ?
        (double)g->established / run_s : 0.0));
    json_object_set_new(j, "generator_cpu_seconds", json_real(cpu_s));
    json_object_set_new(j, "latency_us", latency_json(g));
    text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text != NULL)
        printf("%s\n", text);
    fflush(stdout);
    free(text);
    json_decref(j);
}

int
main(int argc, char **argv)
{
    struct options opt;
    struct generator g;
    struct pollfd *pfd = NULL;
    double t_prepare, cpu0;
    int ret = 1;

    if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (parse_options(argc, argv, &opt) < 0) {
        usage(stderr);
        return 2;
    }
    if (bench_net_check_route("ike_setup", opt.target_text, opt.allow_dev,
        opt.n_allow_dev) < 0)
        return 2;
    memset(&g, 0, sizeof(g));
    g.opt = &opt;
    g.target = opt.target;
    if ((g.sa = calloc(opt.count, sizeof(*g.sa))) == NULL ||
        (g.prf_ctx = ike_prf_ctx_new()) == NULL ||
        (pfd = calloc(opt.sources, sizeof(*pfd))) == NULL ||
        RAND_bytes(g.spi_prefix, sizeof(g.spi_prefix)) != 1)
        goto out;
    if (open_sockets(&g) < 0) {
        fprintf(stderr, "ike_setup: opening %lu sockets failed: %s\n",
            opt.sources, strerror(errno));
        goto out;
    }
    t_prepare = (double)now_ns();
    if (make_initiators(&g) < 0) {
        fprintf(stderr, "ike_setup: making %lu initiators failed\n",
            opt.count);
        goto out;
    }
    t_prepare = ((double)now_ns() - t_prepare) / 1e9;
    for (unsigned long i = 0; i < opt.sources; i++) {
        pfd[i].fd = g.fds[i];
        pfd[i].events = POLLIN;
    }
    cpu0 = cpu_seconds();
    generator_run(&g, pfd);
    print_result(&g, t_prepare, cpu_seconds() - cpu0);
    if (opt.hold_s > 0)
        sleep((unsigned)opt.hold_s);
    ret = g.established == opt.count ? 0 : 1;
out:
    for (unsigned long i = 0; g.fds != NULL && i < opt.sources; i++) {
        if (g.fds[i] >= 0)
            close(g.fds[i]);
    }
    for (unsigned long i = 0; g.sa != NULL && i < opt.count; i++)
        ike_initiator_free(g.sa[i].ini);
    free(g.fds);
    free(g.locals);
    free(g.sa);
    ike_prf_ctx_free(g.prf_ctx);
    free(pfd);
    return ret;
}
