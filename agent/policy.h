/*
 * The redirect policy: the one place where the responder asks whether to
 * serve a client or send it to another gateway.  The static policy reads
 * its rules from the agent configuration; the cluster plan replaces it
 * later through the same interface.
 */
#ifndef IKESHIFT_POLICY_H
#define IKESHIFT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The point in an IKE SA's life at which the decision is taken. */
enum policy_stage {
    POLICY_STAGE_INIT,          /* IKE_SA_INIT request, no state kept */
    POLICY_STAGE_AUTH,          /* IKE_AUTH request, client authenticated */
    POLICY_STAGE_MIDSESSION,    /* established IKE SA, INFORMATIONAL */
};

enum policy_verdict {
    POLICY_ACCEPT,
    POLICY_REDIRECT,
};

/* What the responder knows when it asks; pointers are borrowed. */
struct policy_query {
    enum policy_stage stage;
    const struct sockaddr *peer;        /* client address and port */
    const struct sockaddr *local;       /* address the request arrived on */
    bool local_is_anycast;              /* local is the anycast address */
    bool redirected_from;               /* request carried REDIRECTED_FROM */
    const uint8_t *spi_i;               /* initiator SPI, 8 octets, or NULL */
    uint8_t id_type;                    /* IDi type at POLICY_STAGE_AUTH */
    const uint8_t *id;                  /* IDi data, NULL before IKE_AUTH */
    size_t id_len;
};

/* A redirect target as RFC 5685 9.2 encodes it: GW identity type 1, 2 or
 * 3 and its octets (4, 16, or 1-255 octets of FQDN text). */
struct policy_target {
    uint8_t gw_type;
    uint8_t len;
    uint8_t id[255];
};

/* Decides one query.  On POLICY_REDIRECT fills *target.  Must not block. */
typedef enum policy_verdict (*policy_decide_fn)(void *arg,
    const struct policy_query *query, struct policy_target *target);

struct policy {
    policy_decide_fn decide;
    void *arg;
};

#endif /* IKESHIFT_POLICY_H */
