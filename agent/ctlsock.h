/*
 * The agent's local control socket: a unix stream socket that takes one
 * JSON object per line and answers one JSON object per line.
 *   {"cmd":"list"}       -> {"ok":true,"sas":[{...}, ...]}
 *   {"cmd":"counters"}   -> {"ok":true,"counters":{"name":n, ...}}
 *   {"cmd":"move","peer":"198.51.100.1","id":"...","spi":"<16 hex>",
 *    "to":"198.51.100.4"} -> {"ok":true,"moved":n}
 * A move needs at least one selector (peer, id, spi) and a target; errors
 * are {"ok":false,"error":"..."}.
 */
#ifndef IKESHIFT_CTLSOCK_H
#define IKESHIFT_CTLSOCK_H

#include <stddef.h>
#include <uv.h>

struct ctlsock;
struct ike_engine;
struct udp_io;

/*
 * Listens on `path` (an existing socket file is replaced) and serves
 * commands against `engine` and `io` (both borrowed).  Returns 0 with
 * *out set, or a libuv error.
 */
int
ctlsock_new(uv_loop_t *loop, const char *path, struct ike_engine *engine,
    struct udp_io *io, struct ctlsock **out);

/* Closes the socket and its clients and removes the socket file. */
void
ctlsock_close(struct ctlsock *cs);

/*
 * Handles one request line and returns the reply line (NUL-terminated,
 * newline included), which the caller frees.  Used by the socket and by
 * tests.  `now_ms` is the engine's clock.
 */
char *
ctlsock_handle_line(struct ike_engine *engine, struct udp_io *io,
    const char *line, size_t len, uint64_t now_ms);

/*
 * The CLI: connects to `path`, sends `request` (one JSON object) and
 * prints the reply to stdout.  Returns 0, or 1 when the reply says
 * "ok":false, or 2 when the socket cannot be used.
 */
int
ctlsock_client(const char *path, const char *request);

#endif /* IKESHIFT_CTLSOCK_H */
