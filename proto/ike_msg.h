/*
 * IKEv2 message header and payload chain (RFC 7296 3.1, 3.2).
 *
 * Parsing is zero-copy: struct ike_msg and struct ike_chain point into the
 * caller's buffer, which must stay valid and unchanged while they are used.
 * Nothing on the parse path allocates.  Building goes through a struct
 * ike_writer (ike_buf.h): begin a message or a bare chain, then append
 * payloads with the builders in ike_payload.h, ike_sa_payload.h and
 * ike_redirect.h.  Each payload appended sets the previous Next Payload
 * field and the IKE header Length, so the octets are a complete message
 * after every payload.
 */
#ifndef IKESHIFT_IKE_MSG_H
#define IKESHIFT_IKE_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "ike_buf.h"
#include "ike_const.h"
#include "ike_error.h"
#include "ike_payload.h"

#define IKE_SPI_LEN                 8

/*
 * Payload references one chain can hold.  A chain with more payloads is
 * rejected with IKE_E_TOO_MANY_PAYLOADS.  The longest chain in the captured
 * vectors has 9 (strongSwan 5.9.8's IKE_AUTH request, inside SK).
 */
#define IKE_CHAIN_MAX_PAYLOADS      32

/* The fixed IKE header, decoded (RFC 7296 3.1). */
struct ike_header {
    uint8_t spi_i[IKE_SPI_LEN];     /* initiator SPI, as on the wire */
    uint8_t spi_r[IKE_SPI_LEN];     /* responder SPI, zero in a first request */
    uint8_t next_payload;           /* type of the first payload */
    uint8_t version;                /* major in the high nibble, minor low */
    uint8_t exchange;               /* IKE_X_* */
    uint8_t flags;                  /* IKE_FLAG_* */
    uint32_t msg_id;                /* Message ID */
    uint32_t length;                /* whole message, header included */
};

/*
 * A parsed payload chain.  Offsets in payloads[] count from buf.  Unknown
 * payload types without the critical bit appear here too (known == 0), so a
 * dump can show them, but nothing parses their bodies.
 */
struct ike_chain {
    const uint8_t *buf;             /* the octets the offsets count from */
    size_t len;                     /* end of the chain, from buf */
    size_t count;                   /* payloads[] entries in use */
    struct ike_payload payloads[IKE_CHAIN_MAX_PAYLOADS];
};

/*
 * A parsed message.  raw and len cover exactly the IKE message: from the
 * first SPI octet (after any non-ESP marker) to hdr.length.  Octets the
 * datagram has beyond hdr.length are not part of it.
 */
struct ike_msg {
    struct ike_header hdr;
    const uint8_t *raw;
    size_t len;
    struct ike_chain chain;         /* the payloads after the header */
};

/*
 * Decodes the 28-octet header at buf without looking at the payloads, for
 * a quick SPI lookup.  len is the octets available.  Returns 0, or -EBADMSG
 * with err set to IKE_E_HDR_TRUNCATED, IKE_E_MAJOR_VERSION (offset 17),
 * IKE_E_HDR_LEN_BEYOND_DATAGRAM or IKE_E_HDR_LEN_TOO_SHORT (offset 24).
 */
int
ike_msg_parse_header(struct ike_header *hdr, const uint8_t *buf, size_t len,
    struct ike_parse_error *err);

/*
 * Parses and validates a whole message: the header, the chain of generic
 * payload headers and the body of every payload type this library knows
 * (ike_payload_validate()).  An SK or SKF payload must come last, and its
 * body stays encrypted.  buf is the datagram after any non-ESP marker and is
 * borrowed by msg.  Returns 0, or -EBADMSG with err (if not NULL) set.
 */
int
ike_msg_parse(struct ike_msg *msg, const uint8_t *buf, size_t len,
    struct ike_parse_error *err);

/*
 * Parses an inner chain, such as the plaintext of an SK payload, under the
 * same rules as ike_msg_parse(), except that SK and SKF are rejected in it
 * (IKE_E_SK_NESTED).  first_type is the Next Payload of the SK payload.  An
 * empty chain (first_type 0, len 0) is valid.  buf is borrowed by chain.
 */
int
ike_chain_parse(struct ike_chain *chain, const uint8_t *buf, size_t len,
    uint8_t first_type, struct ike_parse_error *err);

/*
 * Returns the first payload of type after prev (NULL to search from the
 * start), or NULL when there is none.  The pointer is into chain.
 */
const struct ike_payload *
ike_chain_find(const struct ike_chain *chain, uint8_t type,
    const struct ike_payload *prev);

/*
 * Returns the first Notify payload of notify_type, with its body in *notify
 * (which may be NULL), or NULL when there is none.  The chain must have
 * been validated, so its notifies decode.
 */
const struct ike_payload *
ike_chain_find_notify(const struct ike_chain *chain, uint16_t notify_type,
    struct ike_notify *notify);

/* Returns the name of an exchange type ("IKE_SA_INIT", ...), or NULL. */
const char *
ike_msg_exchange_name(uint8_t exchange);

/* Returns the SK or SKF payload that ends msg, or NULL if it has none. */
const struct ike_payload *
ike_msg_encrypted(const struct ike_msg *msg);

/*
 * Starts a message at the writer's position: writes the header from hdr
 * with version 2.0, Next Payload 0 and Length 28 (next_payload, version and
 * length of hdr are ignored).  Failures are recorded in the writer.
 */
void
ike_msg_begin(struct ike_writer *w, const struct ike_header *hdr);

/*
 * Starts a bare payload chain with no IKE header, such as SK plaintext.
 * ike_writer_first_type() then returns the type to put in the SK payload.
 */
void
ike_chain_begin(struct ike_writer *w);

/*
 * Opens a payload of type: sets the previous Next Payload field (header or
 * previous payload) to type and writes a generic header with Next Payload
 * 0.  The caller then writes the body and calls ike_msg_payload_end().
 * Fails the writer with -EINVAL if a payload is open or the chain has ended
 * with SK or SKF.
 */
void
ike_msg_payload_begin(struct ike_writer *w, uint8_t type, int critical);

/*
 * Closes the open payload: sets its Payload Length and, for a message, the
 * header Length.  A payload over 65535 octets fails the writer with
 * -EMSGSIZE.
 */
void
ike_msg_payload_end(struct ike_writer *w);

/*
 * Opens an SK (or, for ike_msg_skf_begin, SKF) payload whose Next Payload is
 * first_inner, the type of the first payload inside it.  The caller appends
 * the IV, ciphertext and ICV and closes it with ike_msg_payload_end().  No
 * payload may follow (RFC 7296 3.14, RFC 7383 2.5).
 */
void
ike_msg_sk_begin(struct ike_writer *w, uint8_t first_inner);

void
ike_msg_skf_begin(struct ike_writer *w, uint8_t first_inner,
    uint16_t fragment, uint16_t total);

/*
 * Returns the type of the first payload of the chain being built, or 0 if
 * none was appended yet.
 */
uint8_t
ike_writer_first_type(const struct ike_writer *w);

#endif /* IKESHIFT_IKE_MSG_H */
