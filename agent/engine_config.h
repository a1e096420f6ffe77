/*
 * Settings of the IKEv2 responder engine: proposals, identities and keys,
 * the inner address pool, timers and limits.  The agent fills the struct
 * from its configuration file (agent_config.h); tests fill it by hand after
 * engine_config_init().  The engine borrows it, so it must outlive the
 * engine.  Strings and arrays in it belong to whoever filled it.
 */
#ifndef IKESHIFT_ENGINE_CONFIG_H
#define IKESHIFT_ENGINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "ike_keys.h"
#include "rt/config_value.h"

#define ENGINE_MAX_PROPOSALS    8
#define ENGINE_MAX_SUBNETS      8
#define ENGINE_MAX_DNS          2
#define ENGINE_ID_MAX           255
#define ENGINE_PSK_MAX          256

/* How a redirect decided at IKE_AUTH is carried out. */
enum engine_auth_redirect {
    /* Finish IKE_AUTH, then send an INFORMATIONAL REDIRECT at once.  Safe
     * with strongSwan 5.9.8 to 5.9.11, which crash on the other mode. */
    ENGINE_AUTH_REDIRECT_INFORMATIONAL,
    /* RFC 5685 6: IDr, AUTH and REDIRECT only, no CHILD SA. */
    ENGINE_AUTH_REDIRECT_RFC,
};

/* One ESP proposal; dh is IKE_DH_* for PFS in CREATE_CHILD_SA, or 0. */
struct engine_esp_proposal {
    struct ike_child_suite suite;
    uint16_t dh;
};

/* A client's pre-shared key, looked up by its IDi as text. */
struct engine_psk {
    const char *id;             /* IDi data as text; "*" matches any */
    uint8_t key[ENGINE_PSK_MAX];
    size_t key_len;
};

struct engine_config {
    /* IKE proposals in the order of preference (RFC 7296 2.7). */
    struct ike_suite ike[ENGINE_MAX_PROPOSALS];
    size_t n_ike;
    struct engine_esp_proposal esp[ENGINE_MAX_PROPOSALS];
    size_t n_esp;

    /* IDr: the cluster identity every gateway shares (RFC 7296 3.5). */
    uint8_t local_id_type;      /* IKE_ID_* */
    uint8_t local_id[ENGINE_ID_MAX];
    size_t local_id_len;

    const struct engine_psk *psks;  /* borrowed */
    size_t n_psks;

    /* Inner IPv4 addresses handed out in CP replies (RFC 7296 2.19). */
    bool have_pool;
    struct config_prefix pool;
    struct in_addr dns[ENGINE_MAX_DNS];
    size_t n_dns;
    /* Subnets behind the gateway, the TSr a client may get. */
    struct config_prefix subnets[ENGINE_MAX_SUBNETS];
    size_t n_subnets;

    /* Addresses of this gateway that are anycast (policy input). */
    const struct sockaddr_storage *anycast;     /* borrowed */
    size_t n_anycast;

    /* Timers, all in milliseconds. */
    uint64_t half_open_timeout_ms;  /* IKE_SA_INIT done, no IKE_AUTH yet */
    uint64_t liveness_interval_ms;  /* idle time before a liveness check */
    uint64_t retransmit_base_ms;    /* first retransmission of a request */
    unsigned retransmit_tries;      /* sends of one request before giving up */
    uint64_t redirect_grace_ms;     /* redirected SA kept this long */
    uint64_t auth_redirect_delete_ms; /* SA after an RFC IKE_AUTH redirect */
    /* Wait between the IKE_AUTH response and the INFORMATIONAL REDIRECT in
     * the complete-then-informational mode: strongSwan 5.9.8 ignores an
     * INFORMATIONAL that arrives before it has processed the response. */
    uint64_t auth_redirect_delay_ms;
    uint64_t cookie_rotate_ms;      /* lifetime of one cookie secret */

    /* Limits. */
    unsigned cookie_threshold;      /* half-open SAs before COOKIEs */
    unsigned max_half_open;         /* in total */
    unsigned max_half_open_per_peer;/* per source address */
    unsigned max_sas;               /* IKE SAs of any state */
    unsigned client_redirect_max;   /* redirects per client and period */
    uint64_t client_redirect_period_ms;
    unsigned reply_rate;            /* COOKIE and REDIRECT replies per s */
    unsigned reply_rate_per_peer;   /* the same per client IP address */

    enum engine_auth_redirect auth_redirect;
    bool childless;                 /* RFC 6023 childless IKE SAs allowed */
};

/*
 * Fills cfg with the defaults that docs/agent-config.md lists: no
 * proposals, no keys, no pool, 30 s half-open timeout and so on.  The
 * caller then adds proposals and keys.
 */
void
engine_config_init(struct engine_config *cfg);

/*
 * Parses an IKE proposal written as "aes256-sha256-modp2048" or
 * "aes256gcm16-prfsha256-x25519" into *suite.  Returns 0, or -EINVAL with
 * a short reason in *why (static text) for an unknown or missing token.
 */
int
engine_config_parse_ike(const char *text, struct ike_suite *suite,
    const char **why);

/*
 * Parses an ESP proposal such as "aes256gcm16" or "aes128-sha256-ecp256"
 * (a group enables PFS in CREATE_CHILD_SA) into *prop.  Returns as
 * engine_config_parse_ike().
 */
int
engine_config_parse_esp(const char *text, struct engine_esp_proposal *prop,
    const char **why);

/*
 * Decodes a PSK as the configuration writes it: ASCII text as is, or
 * "0x" and an even number of hex digits (RFC 7296 2.15 requires both).
 * Returns the key length, or -EINVAL for bad hex or an empty key, or
 * -ENOSPC beyond cap octets.
 */
int
engine_config_parse_psk(const char *text, uint8_t *key, size_t cap);

#endif /* IKESHIFT_ENGINE_CONFIG_H */
