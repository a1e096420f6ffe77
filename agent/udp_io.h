/*
 * UDP sockets of the agent: ports 500 and 4500 on each configured
 * address, each bound to its address so the local address of every
 * datagram is known, read in batches with recvmmsg (libuv
 * UV_UDP_RECVMMSG).  On port 4500 the non-ESP marker is stripped
 * (RFC 3948 2.2); ESP and NAT keepalives are dropped and counted.
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
    uint64_t send_errors;
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
 * The engine_send_fn of this module: sends msg from the socket bound to
 * `local`, adding the marker on the NAT-T port.  `arg` is the udp_io.
 */
int
udp_io_send(void *arg, const struct sockaddr *local,
    const struct sockaddr *peer, const uint8_t *msg, size_t len);

/* Returns the drop counters (lent). */
const struct udp_io_counters *
udp_io_get_counters(const struct udp_io *io);

/* Closes every socket; the memory is freed once libuv has closed them. */
void
udp_io_close(struct udp_io *io);

#endif /* IKESHIFT_UDP_IO_H */
