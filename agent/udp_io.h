/*
 * UDP sockets of the agent: ports 500 and 4500 on each configured
 * address, each bound to its address so the local address of every
 * datagram is known, read in batches with recvmmsg (libuv
 * UV_UDP_RECVMMSG).  On port 4500 the non-ESP marker is stripped
 * (RFC 3948 2.2); ESP and NAT keepalives are dropped and counted.
 * Outgoing datagrams are queued and sent with sendmmsg(2), up to 64 per
 * system call, from a uv_check handle after each poll phase of the loop.
 */
#ifndef IKESHIFT_UDP_IO_H
#define IKESHIFT_UDP_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

struct udp_io;
struct ike_engine;

/* Datagrams that udp_io drops itself. */
struct udp_io_counters {
    uint64_t esp_dropped;
    uint64_t keepalives_dropped;
    uint64_t invalid_dropped;
    uint64_t send_errors;       /* datagrams not sent, queued or not */
};

/*
 * Creates the sockets: for each of addrs[0..n), one on `ike_port` and one
 * on `natt_port`, with SO_RCVBUF raised to `rcvbuf`.  The engine is set
 * later with udp_io_set_engine().  Returns 0 with *out set, or the libuv
 * error of the failed bind (the address is logged).
 */
int
udp_io_new(uv_loop_t *loop, const struct sockaddr_storage *addrs, size_t n,
    uint16_t ike_port, uint16_t natt_port, int rcvbuf, struct udp_io **out);

/* Sets the engine that receives IKE messages (borrowed). */
void
udp_io_set_engine(struct udp_io *io, struct ike_engine *engine);

/*
 * The engine_send_fn of this module (`arg` is the udp_io): queues a copy
 * of msg for the socket bound to `local`, with the marker on the NAT-T
 * port.  Returns 0 once queued, -EADDRNOTAVAIL when no socket is bound to
 * `local` and -EMSGSIZE above 64 KiB.  A queued datagram that the kernel
 * rejects later is counted only in send_errors.
 */
int
udp_io_send(void *arg, const struct sockaddr *local,
    const struct sockaddr *peer, const uint8_t *msg, size_t len);

/* Returns the drop counters (lent). */
const struct udp_io_counters *
udp_io_get_counters(const struct udp_io *io);

/*
 * Sends what is still queued, then closes every socket; the memory is
 * freed once libuv has closed them.  NULL is allowed.
 */
void
udp_io_close(struct udp_io *io);

#endif /* IKESHIFT_UDP_IO_H */
