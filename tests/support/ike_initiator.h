/*
 * A test IKEv2 initiator built on proto/ alone, with no sockets and no
 * clock.  It is driven in steps: ike_initiator_start() returns the first
 * IKE_SA_INIT request, and each ike_initiator_input() takes one datagram
 * from the responder and returns an event plus, when there is one, the next
 * datagram to send.  Unit tests, interop helpers and load generators drive
 * it the same way.
 *
 * It covers IKE_SA_INIT (COOKIE echo, INVALID_KE_PAYLOAD retry, REDIRECT
 * with the nonce check of RFC 5685), IKE_AUTH with a PSK (RFC 7296 2.15),
 * INFORMATIONAL requests in both directions, and CREATE_CHILD_SA rekeys of
 * the CHILD SA and the IKE SA (RFC 7296 2.8, 2.18).  A fault set with
 * ike_initiator_set_fault() damages the next datagram handed out while the
 * initiator keeps the intact request for ike_initiator_retransmit(), as if
 * the damaged copy had been lost on the way.
 */
#ifndef IKESHIFT_IKE_INITIATOR_H
#define IKESHIFT_IKE_INITIATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ike_ke.h"
#include "ike_keys.h"
#include "ike_payload.h"

/* Largest datagram the initiator builds or accepts. */
#define IKE_INITIATOR_MSG_MAX   4096

/* What the IKE_SA_INIT request says about RFC 5685 support. */
enum ike_initiator_redirect_mode {
    IKE_INITIATOR_REDIRECT_NONE,        /* no RFC 5685 notify */
    IKE_INITIATOR_REDIRECT_SUPPORTED,   /* N(REDIRECT_SUPPORTED) */
    IKE_INITIATOR_REDIRECT_FROM,        /* N(REDIRECTED_FROM, from_gw) */
};

/* A gateway identity of RFC 5685 9.2, stored by value. */
struct ike_initiator_gw {
    uint8_t type;               /* IKE_GW_IPV4, IKE_GW_IPV6 or IKE_GW_FQDN */
    uint8_t len;
    uint8_t value[255];
};

/* An extra status notify for the IKE_SA_INIT request; data is borrowed. */
struct ike_initiator_notify {
    uint16_t type;
    const uint8_t *data;
    size_t len;
};

/*
 * Values that replace the random ones, for known-answer tests.  A fixed key
 * exchange takes the public value to send and the shared secret to use in
 * place of a key pair; it only applies to the group ke_group.  Every
 * pointer is borrowed and must outlive the initiator.
 */
struct ike_initiator_fixed {
    const uint8_t *spi_i;       /* 8 octets, or NULL */
    const uint8_t *ni;          /* or NULL */
    size_t ni_len;
    uint16_t ke_group;
    const uint8_t *ke_public;   /* or NULL */
    size_t ke_public_len;
    const uint8_t *g_ir;
    size_t g_ir_len;
};

/*
 * The initiator's settings.  Every pointer is borrowed and must outlive
 * the initiator; addresses are copied.  Zero fields take the defaults
 * given in the comments.
 */
struct ike_initiator_config {
    struct ike_suite ike;               /* the one IKE proposal offered */
    uint16_t ke_group;                  /* group of KEi; 0 = ike.dh */
    struct ike_child_suite esp;         /* the one ESP proposal offered */
    bool childless;                     /* no SA, TSi, TSr in IKE_AUTH */
    enum ike_initiator_redirect_mode redirect;
    struct ike_initiator_gw from_gw;    /* REDIRECTED_FROM identity */
    bool no_natd;                       /* leave out the NAT-D notifies */
    const struct ike_initiator_notify *init_notifies;
    size_t n_init_notifies;             /* after NAT-D, before RFC 5685 */
    size_t nonce_len;                   /* 0 = 32 octets */

    const uint8_t *psk;
    size_t psk_len;
    uint8_t id_type;                    /* 0 = IKE_ID_RFC822_ADDR */
    const uint8_t *id;
    size_t id_len;
    uint8_t idr_type;                   /* IDr is sent when idr_len > 0 */
    const uint8_t *idr;
    size_t idr_len;
    bool initial_contact;               /* N(INITIAL_CONTACT) in IKE_AUTH */
    bool request_vip;                   /* CP(CFG_REQUEST) for an IPv4 */
    const struct ike_ts *tsi;           /* NULL = all IPv4 */
    const struct ike_ts *tsr;           /* NULL = all IPv4 */

    struct sockaddr_storage local;      /* for NAT-D; port in the address */
    struct sockaddr_storage peer;

    struct ike_ke_ctx *ke_ctx;          /* borrowed cache, or NULL */
    struct ike_prf_ctx *prf_ctx;        /* borrowed HMAC contexts, or NULL */
    const struct ike_initiator_fixed *fixed;    /* or NULL */
};

/* What one step did.  The datagram, if any, is in struct ike_initiator_out. */
enum ike_initiator_event {
    IKE_INITIATOR_EV_NONE = 0,
    IKE_INITIATOR_EV_DROPPED,           /* input ignored, nothing to send */
    IKE_INITIATOR_EV_INIT_SENT,         /* IKE_SA_INIT request */
    IKE_INITIATOR_EV_COOKIE,            /* request repeated with COOKIE */
    IKE_INITIATOR_EV_INVALID_KE,        /* request repeated, new group */
    IKE_INITIATOR_EV_REDIRECT,          /* IKE_SA_INIT REDIRECT, nonce ok */
    IKE_INITIATOR_EV_AUTH_SENT,         /* IKE_AUTH request */
    IKE_INITIATOR_EV_ESTABLISHED,       /* IKE_AUTH done, AUTH verified */
    IKE_INITIATOR_EV_AUTH_REDIRECT,     /* IKE_AUTH done with REDIRECT */
    IKE_INITIATOR_EV_AUTH_FAILED,       /* the responder's AUTH is wrong */
    IKE_INITIATOR_EV_ERROR,             /* error notify; see ..._error() */
    IKE_INITIATOR_EV_REQUEST_SENT,      /* INFORMATIONAL or CREATE_CHILD */
    IKE_INITIATOR_EV_RESPONSE,          /* answer to that request */
    IKE_INITIATOR_EV_PEER_REQUEST,      /* responder's request answered */
    IKE_INITIATOR_EV_PEER_REDIRECT,     /* ... and it carried REDIRECT */
    IKE_INITIATOR_EV_PEER_DELETE,       /* ... and it deleted the IKE SA */
    IKE_INITIATOR_EV_CHILD_REKEYED,     /* new CHILD SA; DELETE of old */
    IKE_INITIATOR_EV_IKE_REKEYED,       /* new IKE SA; DELETE of old */
};

/* The result of one step.  msg is lent until the next call, or NULL. */
struct ike_initiator_out {
    enum ike_initiator_event event;
    const uint8_t *msg;
    size_t len;
};

/* Damage applied to the next datagram handed out (not to the stored one). */
enum ike_initiator_fault {
    IKE_INITIATOR_FAULT_NONE = 0,
    IKE_INITIATOR_FAULT_TRUNCATE,       /* cut to arg octets */
    IKE_INITIATOR_FAULT_HDR_LENGTH,     /* header Length += arg */
    IKE_INITIATOR_FAULT_PAYLOAD_LENGTH, /* first payload Length += arg */
    IKE_INITIATOR_FAULT_MSG_ID,         /* sealed with Message ID + arg */
    IKE_INITIATOR_FAULT_ICV,            /* last octet flipped */
    IKE_INITIATOR_FAULT_CRITICAL,       /* unknown critical payload added */
    IKE_INITIATOR_FAULT_SPI_R,          /* responder SPI changed */
};

struct ike_initiator;

/*
 * Creates an initiator from cfg, which is copied (its pointers are
 * borrowed).  Draws the SPI, nonce and key pair unless cfg->fixed gives
 * them.  Returns NULL on an unsupported group or out of memory.
 */
struct ike_initiator *
ike_initiator_new(const struct ike_initiator_config *cfg);

/* Wipes the keys and frees ini; NULL is allowed. */
void
ike_initiator_free(struct ike_initiator *ini);

/*
 * Builds the IKE_SA_INIT request into out (event INIT_SENT).  Returns 0,
 * -EINVAL if already started, or -ENOBUFS if a builder failed.
 */
int
ike_initiator_start(struct ike_initiator *ini, struct ike_initiator_out *out);

/*
 * Takes one datagram from the responder (no non-ESP marker) and fills out
 * with the event and the datagram to send next, if any.  Input that does
 * not belong to this exchange, fails to parse or to decrypt gives event
 * DROPPED.  Returns 0, or a negative errno on an internal failure.
 */
int
ike_initiator_input(struct ike_initiator *ini, const uint8_t *msg,
    size_t len, struct ike_initiator_out *out);

/*
 * Hands out the outstanding request again, octet for octet as first built
 * (event REQUEST_SENT or the original one).  Returns -ENOENT when no
 * request is outstanding.
 */
int
ike_initiator_retransmit(struct ike_initiator *ini,
    struct ike_initiator_out *out);

/*
 * Each builds one request on the established IKE SA: INFORMATIONAL with
 * D(IKE), an empty INFORMATIONAL (liveness check, RFC 7296 1.4), a
 * CREATE_CHILD_SA rekey of the CHILD SA (REKEY_SA, no PFS) or of the IKE SA
 * (new SPI, nonce and key exchange).  Event REQUEST_SENT.  Returns 0,
 * -EBUSY while a request is outstanding, -ENOTCONN when not established.
 */
int
ike_initiator_delete(struct ike_initiator *ini, struct ike_initiator_out *out);

int
ike_initiator_liveness(struct ike_initiator *ini,
    struct ike_initiator_out *out);

int
ike_initiator_rekey_child(struct ike_initiator *ini,
    struct ike_initiator_out *out);

int
ike_initiator_rekey_ike(struct ike_initiator *ini,
    struct ike_initiator_out *out);

/* Damages the next datagram handed out; arg is used as the enum says. */
void
ike_initiator_set_fault(struct ike_initiator *ini,
    enum ike_initiator_fault fault, uint32_t arg);

/* Accessors.  Pointers are lent until ini changes state or is freed. */
const uint8_t *
ike_initiator_spi_i(const struct ike_initiator *ini);

const uint8_t *
ike_initiator_spi_r(const struct ike_initiator *ini);

const uint8_t *
ike_initiator_ni(const struct ike_initiator *ini, size_t *len);

/* Returns the keys of the current IKE SA, or NULL before they exist. */
const struct ike_sa_keys *
ike_initiator_keys(const struct ike_initiator *ini);

/* Returns the keys of the current CHILD SA, or NULL if none. */
const struct ike_child_keys *
ike_initiator_child_keys(const struct ike_initiator *ini);

/* Returns the ESP SPIs (4 octets each) of the current CHILD SA. */
const uint8_t *
ike_initiator_child_spi(const struct ike_initiator *ini, bool responder);

/* Returns the first error notify type of the last response, or 0. */
uint16_t
ike_initiator_error(const struct ike_initiator *ini);

/* Returns the target of the last REDIRECT received, or NULL if none. */
const struct ike_initiator_gw *
ike_initiator_redirect_target(const struct ike_initiator *ini);

/* Returns the inner IPv4 address assigned through CP, or "" if none. */
const char *
ike_initiator_vip(const struct ike_initiator *ini);

/* Returns the COOKIE data the responder sent, or NULL. */
const uint8_t *
ike_initiator_cookie(const struct ike_initiator *ini, size_t *len);

/* Returns the group of the KEi the initiator sends now. */
uint16_t
ike_initiator_ke_group(const struct ike_initiator *ini);

/* Returns whether the response's NAT-D hashes matched our addresses. */
bool
ike_initiator_nat_detected(const struct ike_initiator *ini);

/* Returns the Message ID of the next request the initiator sends. */
uint32_t
ike_initiator_next_msg_id(const struct ike_initiator *ini);

/* Returns true between IKE_AUTH success and the end of the IKE SA. */
bool
ike_initiator_established(const struct ike_initiator *ini);

/*
 * Converts a gateway identity to the struct used by the REDIRECTED_FROM
 * setting.  Returns 0 or -EINVAL when value does not fit.
 */
int
ike_initiator_gw_set(struct ike_initiator_gw *gw, uint8_t type,
    const uint8_t *value, size_t len);

#endif /* IKESHIFT_IKE_INITIATOR_H */
