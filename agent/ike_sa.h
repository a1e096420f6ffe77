/*
 * One IKE SA of the responder and the table that finds it by SPIr.
 *
 * An established SA keeps only what later exchanges need: SPIs,
 * addresses, keys, message ID counters, the last response for
 * retransmissions, its CHILD SA SPIs and the client's identity.  Data that
 * only IKE_AUTH uses (both IKE_SA_INIT messages and nonces) lives in a
 * separate allocation that is freed once IKE_AUTH is done.
 */
#ifndef IKESHIFT_IKE_SA_H
#define IKESHIFT_IKE_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "ike_keys.h"
#include "policy.h"

#define IKE_SA_MAX_CHILDREN     4
#define IKE_SA_DIGEST_LEN       32  /* SHA-256 of an IKE_SA_INIT request */

enum ike_sa_state {
    IKE_SA_HALF_OPEN,       /* IKE_SA_INIT answered, waiting for IKE_AUTH */
    IKE_SA_ESTABLISHED,
    IKE_SA_CLOSING,         /* deleted or redirected, waiting to be freed */
};

/* An IPv4 or IPv6 socket address in 28 octets. */
union ike_sa_addr {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
};

/* What IKE_AUTH needs from IKE_SA_INIT (RFC 7296 2.15). */
struct ike_sa_init {
    uint8_t digest[IKE_SA_DIGEST_LEN];  /* of the request, for retransmits */
    uint8_t *request;       /* RealMessage1, the last request version */
    size_t request_len;
    uint8_t *response;      /* RealMessage2 as sent */
    size_t response_len;
    uint16_t ni_len;        /* nonces are 16-256 octets */
    uint16_t nr_len;
    uint8_t ni[256];
    uint8_t nr[32];
};

/* One CHILD SA: the ESP SPIs only, because keys are not installed. */
struct ike_child {
    uint32_t spi_i;         /* the client's inbound SPI */
    uint32_t spi_r;         /* ours */
};

/* The responder's own outstanding request (window of one, RFC 7296 2.3). */
enum ike_sa_request_kind {
    IKE_SA_REQ_LIVENESS,
    IKE_SA_REQ_REDIRECT,
    IKE_SA_REQ_DELETE,
};

struct ike_sa_request {
    uint8_t kind;           /* enum ike_sa_request_kind */
    uint8_t tries;          /* sends so far */
    uint32_t mid;
    uint64_t next_ms;       /* next retransmission */
    size_t len;
    uint8_t msg[];          /* the sealed message as sent */
};

struct ike_sa {
    struct ike_sa *hnext;   /* SPIr hash chain */
    struct ike_sa *dnext;   /* IKE_SA_INIT digest chain, while half-open */
    uint64_t due_ms;        /* when the engine's timer heap visits it */
    uint32_t heap_pos;      /* 1-based slot in that heap, 0 when not in it */
    struct ike_sa *prev;    /* list of all SAs */
    struct ike_sa *next;
    uint8_t spi_i[8];
    uint8_t spi_r[8];
    union ike_sa_addr local;
    union ike_sa_addr peer;
    uint8_t state;          /* enum ike_sa_state */
    bool redirect_supported;    /* REDIRECT_SUPPORTED or REDIRECTED_FROM */
    bool redirected;        /* a REDIRECT was sent on this SA */
    bool childless;         /* both sides sent CHILDLESS_IKEV2_SUPPORTED */
    bool have_response;
    uint8_t id_type;        /* IDi type once authenticated */
    uint8_t id_len;
    uint8_t n_children;
    uint16_t client_slot;   /* engine's per-client slot of the first peer */
    char *id;               /* IDi data, NUL-terminated; NULL before AUTH */
    struct in_addr vip;     /* leased inner address, 0 if none */
    uint32_t rx_mid;        /* next request ID expected from the client */
    uint32_t tx_mid;        /* ID of our next request */
    uint32_t response_mid;  /* ID of the cached response */
    uint32_t response_len;
    uint8_t *response;      /* last response, for retransmitted requests */
    uint64_t created_ms;
    uint64_t established_ms;
    uint64_t last_rx_ms;    /* last authenticated message from the client */
    uint64_t expire_ms;     /* half-open timeout or grace end; 0: none */
    struct ike_sa_keys keys;
    struct ike_sa_init *init;           /* NULL after IKE_AUTH */
    struct ike_sa_request *request;     /* NULL when none is outstanding */
    struct policy_target *redirect_to;  /* REDIRECT waiting to be sent */
    uint64_t redirect_at_ms;            /* not before this time */
    struct ike_child children[IKE_SA_MAX_CHILDREN];
};

/* SAs hashed by SPIr; the SPIr is random, so its first octets hash it. */
struct ike_sa_table {
    struct ike_sa **buckets;
    size_t mask;            /* bucket count minus one */
    size_t count;
    struct ike_sa *head;    /* all SAs, newest first */
};

/* Allocates a zeroed SA; the caller inserts it.  NULL when out of memory. */
struct ike_sa *
ike_sa_new(void);

/*
 * Frees sa with everything it owns, after wiping its keys; NULL is
 * allowed.  sa must not be in a table.
 */
void
ike_sa_free(struct ike_sa *sa);

/* Frees the IKE_AUTH data of sa (wiping the nonces). */
void
ike_sa_drop_init(struct ike_sa *sa);

/* Returns the state name for listings ("half-open", ...). */
const char *
ike_sa_state_name(const struct ike_sa *sa);

/* Sets up an empty table.  Returns 0 or -ENOMEM. */
int
ike_sa_table_init(struct ike_sa_table *t);

/* Frees the buckets; the SAs must have been removed. */
void
ike_sa_table_fini(struct ike_sa_table *t);

/* Adds sa (its spi_r set and unique); grows the table.  0 or -ENOMEM. */
int
ike_sa_table_insert(struct ike_sa_table *t, struct ike_sa *sa);

/* Removes sa from the table; the caller still owns it. */
void
ike_sa_table_remove(struct ike_sa_table *t, struct ike_sa *sa);

/* Returns the SA with this SPIr, or NULL. */
struct ike_sa *
ike_sa_table_find(const struct ike_sa_table *t, const uint8_t spi_r[8]);

/* Copies a sockaddr into a union ike_sa_addr; other families zero it. */
void
ike_sa_addr_set(union ike_sa_addr *dst, const struct sockaddr *src);

/* Returns true if both addresses have the same family, address and port
 * (the port is ignored when `port` is false). */
bool
ike_sa_addr_equal(const struct sockaddr *a, const struct sockaddr *b,
    bool port);

#endif /* IKESHIFT_IKE_SA_H */
