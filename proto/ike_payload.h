/*
 * IKEv2 payload bodies (RFC 7296 3.4 to 3.15, RFC 7383 2.5), except SA,
 * which is in ike_sa_payload.h.
 *
 * A struct ike_payload is a reference to one payload inside a parsed chain.
 * Each ike_payload_parse_*() decodes its body into a small struct whose
 * pointers lend octets of the parsed buffer, so none allocates or copies.
 * Error offsets count from the start of the chain's buffer and point at the
 * field at fault.  Each ike_payload_build_*() appends one whole payload to a
 * chain opened with ike_msg_begin() or ike_chain_begin(), and failures are
 * recorded in the writer (ike_writer_error()).  Data arguments are copied.
 */
#ifndef IKESHIFT_IKE_PAYLOAD_H
#define IKESHIFT_IKE_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "ike_buf.h"
#include "ike_error.h"

#define IKE_NONCE_MIN_LEN       16      /* RFC 7296 3.9 */
#define IKE_NONCE_MAX_LEN       256
#define IKE_NATD_HASH_LEN       20      /* SHA-1 output, RFC 7296 2.23 */
#define IKE_TS_IPV4_LEN         16      /* selector length, RFC 7296 3.13.1 */
#define IKE_TS_IPV6_LEN         40
#define IKE_SKF_HDR_LEN         8       /* generic header + number + total */

/* One payload of a parsed chain. */
struct ike_payload {
    size_t offset;          /* generic header, from the chain's buffer */
    const uint8_t *body;    /* octets after the generic header */
    size_t body_len;        /* Payload Length minus 4 */
    uint8_t type;           /* from the previous Next Payload field */
    uint8_t next;           /* this payload's Next Payload field */
    uint8_t critical;       /* 1 if the critical bit was set */
    uint8_t known;          /* 1 if this library validates the body */
};

/* Key Exchange (3.4). */
struct ike_ke_payload {
    uint16_t group;         /* Diffie-Hellman group, IKE_DH_* */
    const uint8_t *data;    /* key exchange data, never empty */
    size_t len;
};

/* Nonce (3.9): 16 to 256 octets. */
struct ike_nonce {
    const uint8_t *data;
    size_t len;
};

/* Notify (3.10). */
struct ike_notify {
    uint8_t proto_id;       /* IKE_PROTO_* or 0 */
    uint8_t spi_size;
    const uint8_t *spi;     /* spi_size octets, NULL when spi_size is 0 */
    uint16_t type;          /* IKE_N_* */
    const uint8_t *data;    /* notification data, may be empty */
    size_t data_len;
    size_t offset;          /* generic header of the Notify payload */
    size_t data_offset;     /* first octet of data */
};

/* Identification, IDi or IDr (3.5). */
struct ike_id {
    uint8_t id_type;        /* IKE_ID_* */
    const uint8_t *data;    /* identification data */
    size_t len;
};

/* Authentication (3.8). */
struct ike_auth {
    uint8_t method;         /* IKE_AUTH_* */
    const uint8_t *data;    /* authentication data, never empty */
    size_t len;
};

/* Certificate or Certificate Request (3.6, 3.7), with opaque data. */
struct ike_cert {
    uint8_t encoding;       /* certificate encoding */
    const uint8_t *data;
    size_t len;
};

/*
 * One traffic selector (3.13.1).  For types 7 and 8 the ports and addresses
 * are decoded and addr_len is 4 or 16.  For other types only data is set:
 * the octets after the type, protocol and length fields.
 */
struct ike_ts {
    uint8_t type;           /* IKE_TS_* */
    uint8_t ip_proto;       /* IP protocol, 0 for any */
    uint16_t start_port;
    uint16_t end_port;
    const uint8_t *start_addr;
    const uint8_t *end_addr;
    size_t addr_len;        /* octets per address, 0 for unknown types */
    const uint8_t *data;    /* unknown types: selector after its 4-octet head */
    size_t data_len;
    size_t offset;          /* first octet of the selector */
};

/* Traffic Selector payload, TSi or TSr (3.13). */
struct ike_ts_payload {
    uint8_t payload_type;   /* IKE_P_TSI or IKE_P_TSR */
    uint8_t count;          /* Number of TSs, at least 1 */
    const uint8_t *selectors;
    size_t selectors_len;
    size_t selectors_offset;
};

/* Configuration attribute (3.15.1), its type without the R bit. */
struct ike_cp_attr {
    uint16_t type;          /* IKE_CA_* */
    const uint8_t *value;
    size_t len;
    size_t offset;          /* first octet of the attribute */
};

/* Configuration payload (3.15). */
struct ike_cp {
    uint8_t cfg_type;       /* IKE_CFG_* */
    const uint8_t *attrs;
    size_t attrs_len;
    size_t attrs_offset;
};

/* Delete (3.11). */
struct ike_delete {
    uint8_t proto_id;       /* IKE_PROTO_* */
    uint8_t spi_size;       /* 0 for IKE, 4 for AH and ESP */
    uint16_t n_spi;
    const uint8_t *spis;    /* n_spi * spi_size octets */
};

/* Encrypted and Authenticated, SK (3.14): framing only. */
struct ike_sk {
    uint8_t first_inner;    /* type of the first payload inside */
    const uint8_t *data;    /* IV, ciphertext and ICV, still encrypted */
    size_t len;
};

/* Encrypted Fragment, SKF (RFC 7383 2.5): framing only. */
struct ike_skf {
    uint8_t first_inner;    /* non-zero only in fragment 1 */
    uint16_t fragment;      /* 1 to total */
    uint16_t total;
    const uint8_t *data;    /* IV, ciphertext and ICV of this fragment */
    size_t len;
};

/* Returns 1 if this library validates bodies of payload type, else 0. */
int
ike_payload_type_known(uint8_t type);

/*
 * Returns the RFC abbreviation of a payload type ("SA", "KE", "N", "SK",
 * "SKF", ...), or NULL for types ike_payload_type_known() rejects.
 */
const char *
ike_payload_type_name(uint8_t type);

/* Returns the name of a notify type in ike_const.h, or NULL. */
const char *
ike_notify_type_name(uint16_t type);

/*
 * Checks the body of p by the rules of its type, walking every proposal,
 * transform, attribute, selector and configuration attribute.  Returns 0
 * for a valid body or an unknown type, or -EBADMSG with err set.
 */
int
ike_payload_validate(const struct ike_payload *p,
    struct ike_parse_error *err);

/*
 * Body parsers.  Each decodes the body of p into *out and returns 0, or
 * returns -EBADMSG with err set for a malformed body, or -EINVAL with
 * IKE_E_PAYLOAD_TYPE_MISMATCH when p is of another payload type.
 */
int
ike_payload_parse_ke(const struct ike_payload *p, struct ike_ke_payload *out,
    struct ike_parse_error *err);

int
ike_payload_parse_nonce(const struct ike_payload *p, struct ike_nonce *out,
    struct ike_parse_error *err);

int
ike_payload_parse_notify(const struct ike_payload *p, struct ike_notify *out,
    struct ike_parse_error *err);

/* Accepts IDi and IDr. */
int
ike_payload_parse_id(const struct ike_payload *p, struct ike_id *out,
    struct ike_parse_error *err);

int
ike_payload_parse_auth(const struct ike_payload *p, struct ike_auth *out,
    struct ike_parse_error *err);

/* Accepts CERT and CERTREQ. */
int
ike_payload_parse_cert(const struct ike_payload *p, struct ike_cert *out,
    struct ike_parse_error *err);

/* Accepts TSi and TSr and checks every selector. */
int
ike_payload_parse_ts(const struct ike_payload *p, struct ike_ts_payload *out,
    struct ike_parse_error *err);

/*
 * Decodes the selector at *cursor (start at 0) and advances the cursor.
 * Returns 1 with *ts set, 0 after the last selector, or -EBADMSG with err.
 */
int
ike_payload_next_ts(const struct ike_ts_payload *tsp, size_t *cursor,
    struct ike_ts *ts, struct ike_parse_error *err);

/* Checks every attribute. */
int
ike_payload_parse_cp(const struct ike_payload *p, struct ike_cp *out,
    struct ike_parse_error *err);

/* Iterates the attributes of cp as ike_payload_next_ts() does selectors. */
int
ike_payload_next_cp_attr(const struct ike_cp *cp, size_t *cursor,
    struct ike_cp_attr *attr, struct ike_parse_error *err);

int
ike_payload_parse_delete(const struct ike_payload *p, struct ike_delete *out,
    struct ike_parse_error *err);

int
ike_payload_parse_sk(const struct ike_payload *p, struct ike_sk *out,
    struct ike_parse_error *err);

int
ike_payload_parse_skf(const struct ike_payload *p, struct ike_skf *out,
    struct ike_parse_error *err);

/*
 * Builders.  Each appends one payload with the critical bit clear.  A
 * payload over 65535 octets fails the writer with -EMSGSIZE, and arguments
 * the format cannot express (more than 255 selectors, a NULL SPI of non-zero
 * size, an address length that does not fit the selector type) with
 * -EINVAL.  Builders do not enforce receive-side limits such as the nonce
 * length, so tests can build malformed input.
 */
void
ike_payload_build_ke(struct ike_writer *w, uint16_t group,
    const uint8_t *data, size_t len);

void
ike_payload_build_nonce(struct ike_writer *w, const uint8_t *data,
    size_t len);

/* spi may be NULL when spi_size is 0. */
void
ike_payload_build_notify(struct ike_writer *w, uint8_t proto_id,
    const uint8_t *spi, uint8_t spi_size, uint16_t type,
    const uint8_t *data, size_t len);

/* payload_type is IKE_P_IDI or IKE_P_IDR. */
void
ike_payload_build_id(struct ike_writer *w, uint8_t payload_type,
    uint8_t id_type, const uint8_t *data, size_t len);

void
ike_payload_build_auth(struct ike_writer *w, uint8_t method,
    const uint8_t *data, size_t len);

/* payload_type is IKE_P_CERT or IKE_P_CERTREQ. */
void
ike_payload_build_cert(struct ike_writer *w, uint8_t payload_type,
    uint8_t encoding, const uint8_t *data, size_t len);

/*
 * payload_type is IKE_P_TSI or IKE_P_TSR, and ts[0..n) are written in order.
 * Types 7 and 8 are written from the ports and addresses (addr_len must be
 * 4 or 16 to match), other types from data.
 */
void
ike_payload_build_ts(struct ike_writer *w, uint8_t payload_type,
    const struct ike_ts *ts, size_t n);

/* attrs[0..n) are written in order.  Their offset fields are ignored. */
void
ike_payload_build_cp(struct ike_writer *w, uint8_t cfg_type,
    const struct ike_cp_attr *attrs, size_t n);

/* spis contains n_spi * spi_size octets. */
void
ike_payload_build_delete(struct ike_writer *w, uint8_t proto_id,
    uint8_t spi_size, const uint8_t *spis, uint16_t n_spi);

void
ike_payload_build_vendor(struct ike_writer *w, const uint8_t *data,
    size_t len);

/*
 * Appends an SK payload carrying data (IV, ciphertext and ICV) as is.  The
 * crypto code that encrypts in place uses ike_msg_sk_begin() instead.
 */
void
ike_payload_build_sk(struct ike_writer *w, uint8_t first_inner,
    const uint8_t *data, size_t len);

void
ike_payload_build_skf(struct ike_writer *w, uint8_t first_inner,
    uint16_t fragment, uint16_t total, const uint8_t *data, size_t len);

/*
 * Appends a payload of any type with body copied verbatim, for EAP and for
 * tests that need unknown or critical payloads.
 */
void
ike_payload_build_raw(struct ike_writer *w, uint8_t type, int critical,
    const uint8_t *body, size_t len);

#endif /* IKESHIFT_IKE_PAYLOAD_H */
