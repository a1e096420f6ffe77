/*
 * UDP I/O over libuv.  Datagrams are read with libuv's recvmmsg batches;
 * replies are queued and sent with sendmmsg(2) once per loop iteration.
 */
/* sendmmsg() and struct mmsghdr are GNU extensions of glibc. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "ike_const.h"
#include "ike_natd.h"
#include "rt/config_value.h"
#include "rt/log.h"
#include "udp_io.h"

/*
 * libuv 1.44 reads one datagram per 64 KiB of the buffer with recvmmsg,
 * at most 20 per call (UV__MMSG_MAXWIDTH in libuv's src/unix/udp.c).
 */
#define UDP_IO_BATCH    20
#define UDP_IO_DGRAM    65536
#define UDP_IO_MAX_SOCK 32
/* Datagrams, and octets of copied payload, queued before a sendmmsg. */
#define UDP_IO_TXQ      64
#define UDP_IO_TXARENA  (256 * 1024)

struct udp_sock {
    uv_udp_t handle;            /* first, so the handle casts to it */
    struct udp_io *io;
    struct sockaddr_storage local;
    int natt;                   /* 1 on the NAT-T port */
};

/*
 * Datagrams waiting for the next flush, in the order udp_io_send() got
 * them.  Each one's payload (with the non-ESP marker on the NAT-T port)
 * is copied into the arena, because the engine reuses its buffer.
 */
struct udp_txq {
    struct mmsghdr msgs[UDP_IO_TXQ];
    struct iovec iov[UDP_IO_TXQ];
    struct sockaddr_storage peers[UDP_IO_TXQ];
    uint8_t sock[UDP_IO_TXQ];   /* index into udp_io.socks */
    size_t n;
    size_t used;                /* octets of the arena in use */
    uint8_t arena[UDP_IO_TXARENA];
};

struct udp_io {
    uv_loop_t *loop;
    struct ike_engine *engine;
    struct udp_sock socks[UDP_IO_MAX_SOCK];
    size_t n_socks;
    size_t open;                /* handles not closed yet */
    uv_check_t flush;           /* sends the queue after each poll phase */
    struct udp_io_counters counters;
    struct udp_txq txq;
    char *rxbuf;                /* UDP_IO_BATCH datagrams */
    int rxbuf_busy;
};

static void
udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct udp_sock *s = (struct udp_sock *)h;

    (void)suggested;
    /* One buffer for all sockets: libuv delivers a whole batch before
     * it reads another socket. */
    if (s->io->rxbuf_busy) {
        buf->base = NULL;
        buf->len = 0;
        return;
    }
    s->io->rxbuf_busy = 1;
    buf->base = s->io->rxbuf;
    buf->len = UDP_IO_BATCH * UDP_IO_DGRAM;
}

static void
udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
    const struct sockaddr *peer, unsigned flags)
{
    struct udp_sock *s = (struct udp_sock *)h;
    struct udp_io *io = s->io;
    const uint8_t *p = (const uint8_t *)buf->base;
    size_t len = nread > 0 ? (size_t)nread : 0, off = 0;

    if ((flags & UV_UDP_MMSG_CHUNK) == 0 && buf->base == io->rxbuf)
        io->rxbuf_busy = 0;
    if (nread <= 0 || peer == NULL)
        return;
    if (s->natt) {
        switch (ike_natd_classify(p, len, &off)) {
        case IKE_UDP_IKE:
            break;
        case IKE_UDP_ESP:
            io->counters.esp_dropped++;
            return;
        case IKE_UDP_KEEPALIVE:
            io->counters.keepalives_dropped++;
            return;
        default:
            io->counters.invalid_dropped++;
            return;
        }
    }
    if (io->engine != NULL)
        engine_input(io->engine, p + off, len - off,
            (const struct sockaddr *)&s->local, peer, uv_now(io->loop));
}

static int
udp_open(struct udp_io *io, const struct sockaddr_storage *addr,
    uint16_t port, int natt, int rcvbuf)
{
    struct udp_sock *s = &io->socks[io->n_socks];
    char text[64];
    int ret, size = rcvbuf;

    memset(s, 0, sizeof(*s));
    s->io = io;
    s->natt = natt;
    s->local = *addr;
    if (addr->ss_family == AF_INET)
        ((struct sockaddr_in *)&s->local)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&s->local)->sin6_port = htons(port);
    config_value_format_addr(&s->local, 1, text, sizeof(text));
    if ((ret = uv_udp_init_ex(io->loop, &s->handle,
        addr->ss_family | UV_UDP_RECVMMSG)) < 0) {
        log_error("udp", "creating a socket failed; addr=%s error=%s", text,
            uv_strerror(ret));
        return ret;
    }
    io->n_socks++;
    io->open++;
    s->handle.data = s;
    if ((ret = uv_udp_bind(&s->handle, (const struct sockaddr *)&s->local,
        addr->ss_family == AF_INET6 ? UV_UDP_IPV6ONLY : 0)) < 0) {
        log_error("udp", "bind failed; addr=%s error=%s", text,
            uv_strerror(ret));
        return ret;
    }
    if ((ret = uv_recv_buffer_size((uv_handle_t *)&s->handle, &size)) < 0)
        log_warn("udp", "raising SO_RCVBUF failed; addr=%s error=%s", text,
            uv_strerror(ret));
    if ((ret = uv_udp_recv_start(&s->handle, udp_alloc, udp_recv)) < 0) {
        log_error("udp", "receive failed; addr=%s error=%s", text,
            uv_strerror(ret));
        return ret;
    }
    log_notice("udp", "listening; addr=%s", text);
    return 0;
}

static void udp_flush_cb(uv_check_t *h);

int
udp_io_new(uv_loop_t *loop, const struct sockaddr_storage *addrs, size_t n,
    uint16_t ike_port, uint16_t natt_port, int rcvbuf, struct udp_io **out)
{
    struct udp_io *io;
    int ret = UV_EINVAL;

    *out = NULL;
    if (2 * n > UDP_IO_MAX_SOCK || (io = calloc(1, sizeof(*io))) == NULL)
        return n == 0 ? UV_EINVAL : UV_ENOMEM;
    io->loop = loop;
    if ((io->rxbuf = malloc(UDP_IO_BATCH * UDP_IO_DGRAM)) == NULL) {
        free(io);
        return UV_ENOMEM;
    }
    /* The check handle runs after every poll phase but does not keep the
     * loop alive by itself. */
    uv_check_init(loop, &io->flush);
    io->flush.data = io;
    io->open++;
    uv_check_start(&io->flush, udp_flush_cb);
    uv_unref((uv_handle_t *)&io->flush);
    *out = io;
    for (size_t i = 0; i < n; i++) {
        if ((ret = udp_open(io, &addrs[i], ike_port, 0, rcvbuf)) < 0 ||
            (ret = udp_open(io, &addrs[i], natt_port, 1, rcvbuf)) < 0)
            return ret;
    }
    return 0;
}

void
udp_io_set_engine(struct udp_io *io, struct ike_engine *engine)
{
    io->engine = engine;
}

static int
port_of(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)sa)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
}

static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family)
        return 0;
    if (b->sa_family == AF_INET)
        return memcmp(a, b, sizeof(struct sockaddr_in)) == 0 ||
            (((const struct sockaddr_in *)a)->sin_addr.s_addr ==
            ((const struct sockaddr_in *)b)->sin_addr.s_addr &&
            port_of((const struct sockaddr *)a) == port_of(b));
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
        &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0 &&
        port_of((const struct sockaddr *)a) == port_of(b);
}

/* Returns true for errors after which the socket may accept more later. */
static bool
udp_error_is_transient(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS;
}

/* Sends msgs[0..n) one sendmsg() each, counting every failure. */
static void
udp_send_each(struct udp_io *io, int fd, struct mmsghdr *msgs, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        ssize_t r;

        do
            r = sendmsg(fd, &msgs[k].msg_hdr, MSG_DONTWAIT);
        while (r < 0 && errno == EINTR);
        if (r < 0)
            io->counters.send_errors++;
    }
}

/*
 * Sends msgs[0..n), all from socket s, with as few sendmmsg() calls as the
 * kernel allows.  sendmmsg() stops at the first datagram that fails and
 * reports the error only if that datagram is the first one.  So a
 * permanent error (a peer the route rejects, say) costs just that
 * datagram.  On a full socket buffer the rest goes out one sendmsg() each.
 */
static void
udp_send_run(struct udp_io *io, struct udp_sock *s, struct mmsghdr *msgs,
    size_t n)
{
    uv_os_fd_t fd;
    size_t done = 0;

    if (uv_fileno((const uv_handle_t *)&s->handle, &fd) < 0) {
        io->counters.send_errors += n;
        return;
    }
    while (done < n) {
        int r = sendmmsg(fd, msgs + done, (unsigned)(n - done),
            MSG_DONTWAIT);

        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && udp_error_is_transient(errno)) {
            udp_send_each(io, fd, msgs + done, n - done);
            return;
        }
        io->counters.send_errors++;
        done++;
    }
}

/* Sends every queued datagram, in order, and empties the queue. */
static void
udp_flush_queue(struct udp_io *io)
{
    struct udp_txq *q = &io->txq;
    size_t i = 0;

    while (i < q->n) {
        size_t j = i + 1;

        while (j < q->n && q->sock[j] == q->sock[i])
            j++;
        udp_send_run(io, &io->socks[q->sock[i]], &q->msgs[i], j - i);
        i = j;
    }
    q->n = 0;
    q->used = 0;
}

static void
udp_flush_cb(uv_check_t *h)
{
    struct udp_io *io = h->data;

    if (io->txq.n > 0)
        udp_flush_queue(io);
}

/* Copies one datagram into the queue; the caller made room for it. */
static void
udp_queue_datagram(struct udp_io *io, size_t sock, const struct sockaddr *peer,
    const uint8_t *msg, size_t len)
{
    struct udp_txq *q = &io->txq;
    struct udp_sock *s = &io->socks[sock];
    size_t k = q->n++;
    uint8_t *p = q->arena + q->used;
    size_t marker = s->natt ? IKE_NON_ESP_MARKER_LEN : 0;

    /* RFC 3948 2.2: IKE on port 4500 starts with four zero octets. */
    memset(p, 0, marker);
    memcpy(p + marker, msg, len);
    q->used += marker + len;
    q->iov[k].iov_base = p;
    q->iov[k].iov_len = marker + len;
    memcpy(&q->peers[k], peer, peer->sa_family == AF_INET ?
        sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    memset(&q->msgs[k], 0, sizeof(q->msgs[k]));
    q->msgs[k].msg_hdr.msg_name = &q->peers[k];
    q->msgs[k].msg_hdr.msg_namelen = peer->sa_family == AF_INET ?
        sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    q->msgs[k].msg_hdr.msg_iov = &q->iov[k];
    q->msgs[k].msg_hdr.msg_iovlen = 1;
    q->sock[k] = (uint8_t)sock;
}

int
udp_io_send(void *arg, const struct sockaddr *local,
    const struct sockaddr *peer, const uint8_t *msg, size_t len)
{
    struct udp_io *io = arg;

    if (peer->sa_family != AF_INET && peer->sa_family != AF_INET6) {
        io->counters.send_errors++;
        return -EAFNOSUPPORT;
    }
    for (size_t i = 0; i < io->n_socks; i++) {
        struct udp_sock *s = &io->socks[i];
        size_t need = len + (s->natt ? IKE_NON_ESP_MARKER_LEN : 0);

        if (!same_addr(&s->local, local))
            continue;
        if (len > UDP_IO_DGRAM) {
            io->counters.send_errors++;
            return -EMSGSIZE;
        }
        if (io->txq.n == UDP_IO_TXQ || io->txq.used + need > UDP_IO_TXARENA)
            udp_flush_queue(io);
        udp_queue_datagram(io, i, peer, msg, len);
        return 0;
    }
    io->counters.send_errors++;
    return -EADDRNOTAVAIL;
}

const struct udp_io_counters *
udp_io_get_counters(const struct udp_io *io)
{
    return &io->counters;
}

static void
udp_io_release(struct udp_io *io)
{
    if (--io->open == 0) {
        free(io->rxbuf);
        free(io);
    }
}

static void
udp_closed(uv_handle_t *h)
{
    struct udp_sock *s = h->data;

    udp_io_release(s->io);
}

static void
udp_flush_closed(uv_handle_t *h)
{
    udp_io_release(h->data);
}

void
udp_io_close(struct udp_io *io)
{
    if (io == NULL)
        return;
    /* Replies queued in this loop iteration still go out. */
    udp_flush_queue(io);
    uv_close((uv_handle_t *)&io->flush, udp_flush_closed);
    for (size_t i = 0; i < io->n_socks; i++)
        uv_close((uv_handle_t *)&io->socks[i].handle, udp_closed);
}
