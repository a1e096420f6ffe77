/*
 * UDP I/O over libuv.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "ike_const.h"
#include "ike_natd.h"
#include "rt/config_value.h"
#include "rt/log.h"
#include "udp_io.h"

/* libuv 1.44 reads one datagram per 64 KiB of the buffer with recvmmsg. */
#define UDP_IO_BATCH    16
#define UDP_IO_DGRAM    65536
#define UDP_IO_MAX_SOCK 32

struct udp_sock {
    uv_udp_t handle;            /* first, so the handle casts to it */
    struct udp_io *io;
    struct sockaddr_storage local;
    int natt;                   /* 1 on the NAT-T port */
};

struct udp_io {
    uv_loop_t *loop;
    struct ike_engine *engine;
    struct udp_sock socks[UDP_IO_MAX_SOCK];
    size_t n_socks;
    size_t open;                /* handles not closed yet */
    struct udp_io_counters counters;
    uint8_t sendbuf[IKE_NON_ESP_MARKER_LEN + UDP_IO_DGRAM];
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

int
udp_io_send(void *arg, const struct sockaddr *local,
    const struct sockaddr *peer, const uint8_t *msg, size_t len)
{
    struct udp_io *io = arg;
    uv_buf_t buf;
    int ret;

    for (size_t i = 0; i < io->n_socks; i++) {
        struct udp_sock *s = &io->socks[i];

        if (!same_addr(&s->local, local))
            continue;
        if (s->natt) {
            if (len > UDP_IO_DGRAM)
                return -EMSGSIZE;
            memset(io->sendbuf, 0, IKE_NON_ESP_MARKER_LEN);
            memcpy(io->sendbuf + IKE_NON_ESP_MARKER_LEN, msg, len);
            buf = uv_buf_init((char *)io->sendbuf,
                (unsigned)(len + IKE_NON_ESP_MARKER_LEN));
        } else {
            buf = uv_buf_init((char *)(uintptr_t)msg, (unsigned)len);
        }
        if ((ret = uv_udp_try_send(&s->handle, &buf, 1, peer)) < 0) {
            io->counters.send_errors++;
            return ret;
        }
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
udp_closed(uv_handle_t *h)
{
    struct udp_sock *s = h->data;
    struct udp_io *io = s->io;

    if (--io->open == 0) {
        free(io->rxbuf);
        free(io);
    }
}

void
udp_io_close(struct udp_io *io)
{
    if (io == NULL)
        return;
    if (io->open == 0) {
        free(io->rxbuf);
        free(io);
        return;
    }
    for (size_t i = 0; i < io->n_socks; i++)
        uv_close((uv_handle_t *)&io->socks[i].handle, udp_closed);
}
