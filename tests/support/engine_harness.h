/*
 * An in-memory test bed for the responder engine: one engine with a fake
 * clock, a send callback that captures every datagram, the static policy,
 * and helpers that pass messages between it and a test initiator
 * (ike_initiator.h).  Nothing touches a socket.
 */
#ifndef IKESHIFT_ENGINE_HARNESS_H
#define IKESHIFT_ENGINE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "engine.h"
#include "engine_config.h"
#include "ike_initiator.h"
#include "policy_static.h"

#define HARNESS_MAX_SENT    64

/* One datagram the engine sent. */
struct harness_dgram {
    uint8_t msg[IKE_INITIATOR_MSG_MAX];
    size_t len;
    struct sockaddr_storage local;
    struct sockaddr_storage peer;
};

/*
 * The test bed.  Tests change cfg and policy between harness_init() and
 * harness_start(); the engine borrows both.  sent[] keeps the last
 * HARNESS_MAX_SENT datagrams, and n_sent counts all of them.
 */
struct harness {
    struct engine_config cfg;
    struct engine_psk psk;
    struct policy_static policy;
    struct sockaddr_storage anycast;
    struct ike_engine *engine;
    uint64_t now_ms;
    struct sockaddr_storage gw;         /* 198.51.100.3 port 500 */
    struct sockaddr_storage client;     /* 198.51.100.1 port 500 */
    struct harness_dgram sent[HARNESS_MAX_SENT];
    size_t n_sent;
};

/* The IKE suites the harness engine offers, in its order of preference. */
extern const struct ike_suite harness_suite_gcm_x25519;
extern const struct ike_suite harness_suite_cbc_modp2048;
extern const struct ike_suite harness_suite_gcm_p256;

/* The shared key and identities the harness configures. */
extern const uint8_t harness_psk[];
extern const size_t harness_psk_len;

/*
 * Fills h with the defaults of engine_config_init() plus the three suites
 * above, two ESP proposals, the key for every IDi, IDr gw.example.net,
 * an inner pool 203.0.113.64/26 and the subnet 198.51.100.0/24.  The
 * engine is not created yet.
 */
void
harness_init(struct harness *h);

/* Creates the engine from h->cfg and h->policy.  Returns 0 or -ENOMEM. */
int
harness_start(struct harness *h);

/* Frees the engine; h itself belongs to the caller. */
void
harness_free(struct harness *h);

/*
 * Returns an initiator configuration for suite, with the harness client
 * and gateway addresses, the harness key, IDi client@example.net, a
 * CFG_REQUEST and REDIRECT_SUPPORTED.
 */
struct ike_initiator_config
harness_client_config(const struct harness *h, const struct ike_suite *suite);

/*
 * Passes msg from the client address to the engine at h->now_ms.
 * Returns the number of datagrams the engine sent in response.
 */
size_t
harness_input(struct harness *h, const uint8_t *msg, size_t len);

/* Same as harness_input() from another client address. */
size_t
harness_input_from(struct harness *h, const struct sockaddr_storage *peer,
    const uint8_t *msg, size_t len);

/* Returns the last datagram the engine sent, or NULL if none. */
const struct harness_dgram *
harness_last(const struct harness *h);

/*
 * Passes out->msg to the engine and gives the first datagram the engine
 * sent in return to ini, leaving ini's result in *out.  Later datagrams
 * of the same input stay in sent[] for harness_deliver().  Returns the
 * initiator's event, or IKE_INITIATOR_EV_NONE (out->msg NULL) when the
 * engine sent nothing.
 */
enum ike_initiator_event
harness_step(struct harness *h, struct ike_initiator *ini,
    struct ike_initiator_out *out);

/*
 * Starts ini and steps it until the engine stops responding or the
 * initiator has nothing to send.  Returns the last event.
 */
enum ike_initiator_event
harness_run(struct harness *h, struct ike_initiator *ini);

/* Returns datagram number index (counting from 0), or NULL when it is
 * not kept any more or was not sent yet. */
const struct harness_dgram *
harness_sent(const struct harness *h, size_t index);

/* Gives datagram number index to ini; returns the event (NONE if gone). */
enum ike_initiator_event
harness_deliver(struct harness *h, size_t index, struct ike_initiator *ini,
    struct ike_initiator_out *out);

/* Gives the engine's last datagram to ini; returns the event. */
enum ike_initiator_event
harness_deliver_last(struct harness *h, struct ike_initiator *ini,
    struct ike_initiator_out *out);

/*
 * Finds the engine's IKE SA with initiator SPI spi_i and copies its
 * summary into *info.  Returns true if found.
 */
bool
harness_find_sa(struct harness *h, const uint8_t spi_i[8],
    struct engine_sa_info *info);

/* Fills *ss with an IPv4 address and port; text must be valid. */
void
harness_addr4(struct sockaddr_storage *ss, const char *text, uint16_t port);

#endif /* IKESHIFT_ENGINE_HARNESS_H */
