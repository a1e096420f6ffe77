/*
 * flood_init: a bounded IKE_SA_INIT flood for load tests of the responder.
 *
 * Every request comes from a distinct initiator: its own SPIi and a fresh
 * 32-octet Ni, a valid Curve25519 KE (taken from a pool of key pairs) and
 * N(REDIRECT_SUPPORTED).  Requests leave round-robin from --sources UDP
 * sockets with sendmmsg() at --rate per second, and the responses are read
 * with recvmmsg() and sorted into REDIRECT, COOKIE, normal (SA payload)
 * and other responses.  Each REDIRECT must echo the request's Ni
 * (RFC 5685 3).  The result is one JSON object on stdout.
 *
 * Safety: the target must be a loopback or documentation address, and the
 * route to it (`ip route get`) must leave through lo or an interface named
 * with --allow-dev; otherwise nothing is sent.  Count, rate and duration
 * have hard upper limits, and the tool stops by itself.
 *
 *   flood_init --target ADDR [--port N] [--count N] [--rate N]
 *       [--duration S] [--sources N] [--bind ADDR] [--bind-span N]
 *       [--wait MS] [--allow-dev DEV]...
 *
 * --bind-span spreads the sockets over N consecutive IPv4 addresses from
 * --bind, so that a responder's per-client-address limits (reply tokens,
 * redirects per client) see N clients instead of one.
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
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "bench_net.h"
#include "ike_buf.h"
#include "ike_const.h"
#include "ike_ke.h"
#include "ike_msg.h"
#include "ike_payload.h"
#include "ike_redirect.h"
#include "ike_sa_payload.h"

#define MAX_COUNT       1000000     /* requests per run */
#define MAX_RATE        500000      /* requests per second */
#define MAX_DURATION_S  300
#define MAX_SOURCES     4096
#define MAX_BIND_SPAN   4096
#define MAX_WAIT_MS     10000
#define MAX_ALLOW_DEV   8
#define KE_POOL         64          /* Curve25519 key pairs reused */
#define NONCE_LEN       32
#define BATCH           32          /* datagrams per sendmmsg/recvmmsg */
#define PKT_MAX         512

enum reply_kind {
    REPLY_NONE,
    REPLY_REDIRECT,
    REPLY_COOKIE,
    REPLY_NORMAL,
    REPLY_OTHER,
};

struct options {
    struct sockaddr_storage target;
    socklen_t target_len;
    char target_text[INET6_ADDRSTRLEN];
    struct sockaddr_storage bind;
    bool have_bind;
    unsigned long bind_span;    /* consecutive IPv4 addresses from bind */
    unsigned long count;
    unsigned long rate;
    unsigned long duration_s;
    unsigned long sources;
    unsigned long wait_ms;
    const char *allow_dev[MAX_ALLOW_DEV];
    size_t n_allow_dev;
};

/* What the tool remembers of each request. */
struct request {
    uint8_t nonce[NONCE_LEN];
    uint64_t sent_ns;
    uint32_t latency_us;
    uint8_t reply;              /* enum reply_kind of the first response */
};

struct flood {
    const struct options *opt;
    struct sockaddr_storage target; /* a copy, since msg_name is not const */
    int *fds;
    struct request *req;
    uint8_t spi_prefix[4];      /* SPIi = prefix | request index */
    struct ike_ke *ke[KE_POOL];
    unsigned long sent;
    unsigned long send_errors;
    unsigned long replies[REPLY_OTHER + 1];
    unsigned long duplicates;
    unsigned long unmatched;
    unsigned long bad_nonce;
    uint64_t start_ns;          /* first request sent */
    uint64_t last_reply_ns;     /* latest response matched */
};

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
usage(FILE *fp)
{
    fprintf(fp,
        "usage: flood_init --target ADDR [options]\n"
        "  --target ADDR     responder address (loopback or documentation"
        " range)\n"
        "  --port N          UDP port, default 500\n"
        "  --count N         requests to send, default 1000, at most %d\n"
        "  --rate N          requests per second, default 1000, at most %d\n"
        "  --duration S      stop sending after S seconds, default 60,"
        " at most %d\n"
        "  --sources N       source ports (one socket each), default 64,"
        " at most %d\n"
        "  --bind ADDR       local address of the sockets\n"
        "  --bind-span N     spread the sockets over N consecutive IPv4"
        " addresses from --bind, default 1, at most %d\n"
        "  --wait MS         wait for responses after the last request,"
        " default 1000, at most %d\n"
        "  --allow-dev DEV   accept a route through DEV besides lo"
        " (repeatable)\n",
        MAX_COUNT, MAX_RATE, MAX_DURATION_S, MAX_SOURCES, MAX_BIND_SPAN,
        MAX_WAIT_MS);
}

static int
parse_options(int argc, char **argv, struct options *o)
{
    const char *target = NULL, *bind_text = NULL;
    unsigned long port = 500;

    memset(o, 0, sizeof(*o));
    o->count = 1000;
    o->rate = 1000;
    o->duration_s = 60;
    o->sources = 64;
    o->wait_ms = 1000;
    o->bind_span = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;

        if (v == NULL) {
            fprintf(stderr, "flood_init: missing value after %s\n", a);
            return -EINVAL;
        }
        i++;
        if (strcmp(a, "--target") == 0)
            target = v;
        else if (strcmp(a, "--bind") == 0)
            bind_text = v;
        else if (strcmp(a, "--port") == 0)
            bad = bench_net_parse_ulong(v, 1, 65535, &port);
        else if (strcmp(a, "--count") == 0)
            bad = bench_net_parse_ulong(v, 1, MAX_COUNT, &o->count);
        else if (strcmp(a, "--rate") == 0)
            bad = bench_net_parse_ulong(v, 1, MAX_RATE, &o->rate);
        else if (strcmp(a, "--duration") == 0)
            bad = bench_net_parse_ulong(v, 1, MAX_DURATION_S, &o->duration_s);
        else if (strcmp(a, "--sources") == 0)
            bad = bench_net_parse_ulong(v, 1, MAX_SOURCES, &o->sources);
        else if (strcmp(a, "--bind-span") == 0)
            bad = bench_net_parse_ulong(v, 1, MAX_BIND_SPAN, &o->bind_span);
        else if (strcmp(a, "--wait") == 0)
            bad = bench_net_parse_ulong(v, 0, MAX_WAIT_MS, &o->wait_ms);
        else if (strcmp(a, "--allow-dev") == 0 &&
            o->n_allow_dev < MAX_ALLOW_DEV)
            o->allow_dev[o->n_allow_dev++] = v;
        else
            bad = -EINVAL;
        if (bad < 0) {
            fprintf(stderr, "flood_init: invalid option %s %s\n", a, v);
            return -EINVAL;
        }
    }
    if (target == NULL ||
        bench_net_parse_addr(target, (uint16_t)port, &o->target, &o->target_len) < 0) {
        fprintf(stderr, "flood_init: missing or invalid --target\n");
        return -EINVAL;
    }
    if (!bench_net_addr_allowed(&o->target)) {
        fprintf(stderr, "flood_init: target %s is not a loopback or"
            " documentation address; refusing to send\n", target);
        return -EPERM;
    }
    snprintf(o->target_text, sizeof(o->target_text), "%s", target);
    if (bind_text != NULL) {
        socklen_t len;

        if (bench_net_parse_addr(bind_text, 0, &o->bind, &len) < 0 ||
            o->bind.ss_family != o->target.ss_family) {
            fprintf(stderr, "flood_init: invalid --bind %s\n", bind_text);
            return -EINVAL;
        }
        o->have_bind = true;
    }
    if (o->bind_span > 1 && (!o->have_bind || o->bind.ss_family != AF_INET)) {
        fprintf(stderr, "flood_init: --bind-span needs an IPv4 --bind\n");
        return -EINVAL;
    }
    if (o->bind_span > 1) {
        struct sockaddr_storage last;

        /* Every address of the span must stay in an allowed range. */
        if (bench_net_span_addr(&o->bind, o->bind_span - 1, &last) < 0 ||
            !bench_net_addr_allowed(&o->bind) || !bench_net_addr_allowed(&last)) {
            fprintf(stderr, "flood_init: --bind %s with --bind-span %lu"
                " leaves the loopback and documentation ranges\n",
                bind_text, o->bind_span);
            return -EINVAL;
        }
    }
    return 0;
}

static int
open_sockets(struct flood *f)
{
    const struct options *o = f->opt;

    if ((f->fds = calloc(o->sources, sizeof(*f->fds))) == NULL)
        return -ENOMEM;
    for (unsigned long i = 0; i < o->sources; i++)
        f->fds[i] = -1;
    for (unsigned long i = 0; i < o->sources; i++) {
        struct sockaddr_storage local;
        int fd = socket(o->target.ss_family,
            SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int buf = 1 << 20;

        if (fd < 0)
            return -errno;
        f->fds[i] = fd;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
        memset(&local, 0, sizeof(local));
        if (o->have_bind && o->bind_span > 1)
            bench_net_span_addr(&o->bind, i % o->bind_span, &local);
        else if (o->have_bind)
            local = o->bind;
        else
            local.ss_family = o->target.ss_family;
        if (bind(fd, (struct sockaddr *)&local, o->target_len) < 0)
            return -errno;
    }
    return 0;
}

/* Writes request i: HDR, SA, KE, Ni, N(REDIRECT_SUPPORTED). */
static size_t
build_request(struct flood *f, unsigned long i, uint8_t *buf, size_t cap)
{
    struct ike_writer w;
    struct ike_header hdr;
    struct ike_transform xf[3];
    struct ike_proposal_spec spec;
    const uint8_t *pub;
    size_t pub_len;
    struct request *r = &f->req[i];

    memset(&hdr, 0, sizeof(hdr));
    memcpy(hdr.spi_i, f->spi_prefix, 4);
    ike_store32(hdr.spi_i + 4, (uint32_t)i);
    hdr.exchange = IKE_X_SA_INIT;
    hdr.flags = IKE_FLAG_INITIATOR;
    memset(xf, 0, sizeof(xf));
    xf[0].type = IKE_T_ENCR;
    xf[0].id = IKE_ENCR_AES_GCM_16;
    xf[0].has_key_length = 1;
    xf[0].key_length = 128;
    xf[1].type = IKE_T_PRF;
    xf[1].id = IKE_PRF_HMAC_SHA2_256;
    xf[2].type = IKE_T_DH;
    xf[2].id = IKE_DH_CURVE25519;
    memset(&spec, 0, sizeof(spec));
    spec.num = 1;
    spec.proto_id = IKE_PROTO_IKE;
    spec.transforms = xf;
    spec.n_transforms = 3;
    if (RAND_bytes(r->nonce, NONCE_LEN) != 1)
        return 0;
    pub = ike_ke_public(f->ke[i % KE_POOL], &pub_len);
    ike_writer_init(&w, buf, cap);
    ike_msg_begin(&w, &hdr);
    ike_sa_payload_build(&w, &spec, 1);
    ike_payload_build_ke(&w, IKE_DH_CURVE25519, pub, pub_len);
    ike_payload_build_nonce(&w, r->nonce, NONCE_LEN);
    ike_redirect_build_supported(&w);
    return ike_writer_error(&w) < 0 ? 0 : ike_writer_len(&w);
}

/* Sends requests [first, first + n) from one socket. */
static void
send_batch(struct flood *f, unsigned long first, unsigned n, int fd)
{
    static uint8_t bufs[BATCH][PKT_MAX];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    unsigned built = 0;
    uint64_t t;
    int sent;

    memset(msgs, 0, sizeof(msgs));
    for (unsigned k = 0; k < n; k++) {
        size_t len = build_request(f, first + k, bufs[k], PKT_MAX);

        if (len == 0)
            break;
        iov[k].iov_base = bufs[k];
        iov[k].iov_len = len;
        msgs[k].msg_hdr.msg_name = &f->target;
        msgs[k].msg_hdr.msg_namelen = f->opt->target_len;
        msgs[k].msg_hdr.msg_iov = &iov[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
        built++;
    }
    t = now_ns();
    sent = sendmmsg(fd, msgs, built, 0);
    if (sent < 0)
        sent = 0;
    for (unsigned k = 0; k < built; k++)
        f->req[first + k].sent_ns = t;
    f->send_errors += n - (unsigned)sent;
    f->sent += n;
}

static enum reply_kind
classify(struct flood *f, const struct ike_msg *m, const struct request *r)
{
    const struct ike_chain *c = &m->chain;
    struct ike_notify n;
    struct ike_redirect rd;

    if (ike_chain_find(c, IKE_P_SA, NULL) != NULL)
        return REPLY_NORMAL;
    if (ike_chain_find_notify(c, IKE_N_COOKIE, NULL) != NULL)
        return REPLY_COOKIE;
    if (ike_chain_find_notify(c, IKE_N_REDIRECT, &n) != NULL) {
        if (ike_redirect_parse(&n, IKE_REDIRECT_CTX_INIT_RESPONSE, &rd,
            NULL) < 0 || rd.nonce_len != NONCE_LEN ||
            memcmp(rd.nonce, r->nonce, NONCE_LEN) != 0)
            f->bad_nonce++;
        return REPLY_REDIRECT;
    }
    return REPLY_OTHER;
}

static void
handle_reply(struct flood *f, const uint8_t *buf, size_t len, uint64_t t)
{
    struct ike_msg m;
    uint32_t i;
    struct request *r;

    if (ike_msg_parse(&m, buf, len, NULL) < 0 ||
        m.hdr.exchange != IKE_X_SA_INIT ||
        memcmp(m.hdr.spi_i, f->spi_prefix, 4) != 0 ||
        (i = ike_load32(m.hdr.spi_i + 4)) >= f->sent) {
        f->unmatched++;
        return;
    }
    r = &f->req[i];
    if (r->reply != REPLY_NONE) {
        f->duplicates++;
        return;
    }
    r->reply = (uint8_t)classify(f, &m, r);
    r->latency_us = (uint32_t)((t - r->sent_ns) / 1000);
    f->replies[r->reply]++;
    f->last_reply_ns = t;
}

/* Reads whatever is queued on every socket, waiting up to timeout_ms. */
static void
receive_all(struct flood *f, struct pollfd *pfd, int timeout_ms)
{
    static uint8_t bufs[BATCH][PKT_MAX * 4];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];

    if (poll(pfd, f->opt->sources, timeout_ms) <= 0)
        return;
    for (unsigned long s = 0; s < f->opt->sources; s++) {
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
            uint64_t t = now_ns();

            for (int k = 0; k < n; k++)
                handle_reply(f, bufs[k], msgs[k].msg_len, t);
        } while (n == BATCH);
    }
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static json_t *
latency_json(const struct flood *f)
{
    uint32_t *v = malloc((f->sent + 1) * sizeof(*v));
    size_t n = 0;
    json_t *j = json_object();

    if (v == NULL)
        return j;
    for (unsigned long i = 0; i < f->sent; i++) {
        if (f->req[i].reply != REPLY_NONE)
            v[n++] = f->req[i].latency_us;
    }
    if (n > 0) {
        qsort(v, n, sizeof(*v), cmp_u32);
        json_object_set_new(j, "p50", json_integer(v[n / 2]));
        json_object_set_new(j, "p90", json_integer(v[n * 9 / 10]));
        json_object_set_new(j, "p99", json_integer(v[n * 99 / 100]));
        json_object_set_new(j, "max", json_integer(v[n - 1]));
    }
    free(v);
    return j;
}

static void
print_result(const struct flood *f, double send_s)
{
    json_t *j = json_object();
    json_t *rep = json_object();
    char *text;

    json_object_set_new(j, "target", json_string(f->opt->target_text));
    json_object_set_new(j, "sources", json_integer((json_int_t)
        f->opt->sources));
    json_object_set_new(j, "rate_requested", json_integer((json_int_t)
        f->opt->rate));
    json_object_set_new(j, "sent", json_integer((json_int_t)f->sent));
    json_object_set_new(j, "send_errors", json_integer((json_int_t)
        f->send_errors));
    json_object_set_new(j, "run_seconds", json_real(send_s));
    /* Responses per second from the first request to the last response,
     * the figure that the benchmark compares between responders. */
    unsigned long answered = f->replies[REPLY_REDIRECT] +
        f->replies[REPLY_COOKIE] + f->replies[REPLY_NORMAL] +
        f->replies[REPLY_OTHER];
    double reply_s = (double)(f->last_reply_ns - f->start_ns) / 1e9;

    json_object_set_new(j, "reply_rate", json_real(answered > 0 &&
        reply_s > 0 ? (double)answered / reply_s : 0.0));
    json_object_set_new(rep, "redirect", json_integer((json_int_t)
        f->replies[REPLY_REDIRECT]));
    json_object_set_new(rep, "cookie", json_integer((json_int_t)
        f->replies[REPLY_COOKIE]));
    json_object_set_new(rep, "normal", json_integer((json_int_t)
        f->replies[REPLY_NORMAL]));
    json_object_set_new(rep, "other", json_integer((json_int_t)
        f->replies[REPLY_OTHER]));
    json_object_set_new(rep, "none", json_integer((json_int_t)(f->sent -
        f->replies[REPLY_REDIRECT] - f->replies[REPLY_COOKIE] -
        f->replies[REPLY_NORMAL] - f->replies[REPLY_OTHER])));
    json_object_set_new(j, "replies", rep);
    json_object_set_new(j, "redirect_bad_nonce", json_integer((json_int_t)
        f->bad_nonce));
    json_object_set_new(j, "duplicates", json_integer((json_int_t)
        f->duplicates));
    json_object_set_new(j, "unmatched", json_integer((json_int_t)
        f->unmatched));
    json_object_set_new(j, "latency_us", latency_json(f));
    text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text != NULL)
        printf("%s\n", text);
    free(text);
    json_decref(j);
}

/* Sends at the requested pace until count or duration is reached,
 * reading responses in between, then waits opt->wait_ms for stragglers. */
static void
flood_run(struct flood *f, struct pollfd *pfd)
{
    const struct options *o = f->opt;
    uint64_t start = now_ns(), end = start + o->duration_s * 1000000000ull;

    f->start_ns = start;
    uint64_t t, wait_end;
    unsigned long src = 0;

    while (f->sent < o->count && (t = now_ns()) < end) {
        unsigned long due = (unsigned long)((t - start) / 1000 * o->rate /
            1000000) + 1;

        if (due > o->count)
            due = o->count;
        while (f->sent < due) {
            unsigned long n = due - f->sent;

            if (n > BATCH)
                n = BATCH;
            send_batch(f, f->sent, (unsigned)n, f->fds[src]);
            src = (src + 1) % o->sources;
        }
        receive_all(f, pfd, 1);
    }
    wait_end = now_ns() + o->wait_ms * 1000000ull;
    while ((t = now_ns()) < wait_end) {
        receive_all(f, pfd, (int)((wait_end - t) / 1000000) + 1);
        if (f->replies[REPLY_REDIRECT] + f->replies[REPLY_COOKIE] +
            f->replies[REPLY_NORMAL] + f->replies[REPLY_OTHER] >= f->sent)
            break;
    }
}

int
main(int argc, char **argv)
{
    struct options opt;
    struct flood f;
    struct pollfd *pfd = NULL;
    struct ike_ke_ctx *ctx = NULL;
    uint64_t t0;
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
    if (bench_net_check_route("flood_init", opt.target_text, opt.allow_dev,
        opt.n_allow_dev) < 0)
        return 2;
    memset(&f, 0, sizeof(f));
    f.opt = &opt;
    f.target = opt.target;
    if ((f.req = calloc(opt.count, sizeof(*f.req))) == NULL ||
        (pfd = calloc(opt.sources, sizeof(*pfd))) == NULL ||
        (ctx = ike_ke_ctx_new()) == NULL ||
        RAND_bytes(f.spi_prefix, sizeof(f.spi_prefix)) != 1)
        goto out;
    for (int i = 0; i < KE_POOL; i++) {
        if ((f.ke[i] = ike_ke_new(ctx, IKE_DH_CURVE25519)) == NULL)
            goto out;
    }
    if (open_sockets(&f) < 0) {
        fprintf(stderr, "flood_init: opening %lu sockets failed: %s\n",
            opt.sources, strerror(errno));
        goto out;
    }
    for (unsigned long i = 0; i < opt.sources; i++) {
        pfd[i].fd = f.fds[i];
        pfd[i].events = POLLIN;
    }
    t0 = now_ns();
    flood_run(&f, pfd);
    print_result(&f, (double)(now_ns() - t0) / 1e9);
    ret = f.bad_nonce == 0 ? 0 : 1;
out:
    for (unsigned long i = 0; f.fds != NULL && i < opt.sources; i++) {
        if (f.fds[i] >= 0)
            close(f.fds[i]);
    }
    for (int i = 0; i < KE_POOL; i++)
        ike_ke_free(f.ke[i]);
    ike_ke_ctx_free(ctx);
    free(f.fds);
    free(f.req);
    free(pfd);
    return ret;
}
