/*
 * Security Association payload: proposals, transforms and transform
 * attributes (RFC 7296 3.3).
 *
 * Parsing is by iteration with a cursor, so no fixed limit on proposals or
 * transforms applies and nothing is copied: each struct lends pointers into
 * the parsed buffer.  ike_sa_payload_next_proposal() checks a proposal with
 * all its transforms and attributes before it returns it, so the transform
 * and attribute iterators only fail on misuse.
 */
#ifndef IKESHIFT_IKE_SA_PAYLOAD_H
#define IKESHIFT_IKE_SA_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "ike_buf.h"
#include "ike_error.h"
#include "ike_payload.h"

#define IKE_PROPOSAL_HDR_LEN    8       /* RFC 7296 3.3.1 */
#define IKE_TRANSFORM_HDR_LEN   8       /* 3.3.2 */
#define IKE_ATTR_HDR_LEN        4       /* 3.3.5 */
#define IKE_SUBSTRUCT_LAST      0       /* last proposal or transform */
#define IKE_SUBSTRUCT_PROPOSAL  2       /* another proposal follows */
#define IKE_SUBSTRUCT_TRANSFORM 3       /* another transform follows */

/* One proposal (3.3.1). */
struct ike_proposal {
    uint8_t num;            /* Proposal Num */
    uint8_t proto_id;       /* IKE_PROTO_* */
    uint8_t spi_size;
    uint8_t n_transforms;   /* Num Transforms, checked against the octets */
    const uint8_t *spi;     /* spi_size octets, NULL when spi_size is 0 */
    const uint8_t *transforms;
    size_t transforms_len;
    size_t transforms_offset;
    size_t offset;          /* first octet of the proposal */
};

/*
 * One transform (3.3.2).  The Key Length attribute is decoded into
 * key_length, and attrs has all attributes as received, Key Length included.
 * For building, attrs (when not NULL) is written verbatim and has_key_length
 * and key_length are ignored.
 */
struct ike_transform {
    uint8_t type;           /* IKE_T_* */
    uint16_t id;            /* transform ID, such as IKE_ENCR_AES_CBC */
    uint8_t has_key_length; /* 1 if a Key Length attribute is present */
    uint16_t key_length;    /* key length in bits */
    const uint8_t *attrs;
    size_t attrs_len;
    size_t attrs_offset;
    size_t offset;          /* first octet of the transform */
};

/*
 * One transform attribute (3.3.5).  A TV attribute has its value in value
 * and data points at the same 2 octets.  A TLV attribute has data and len.
 */
struct ike_sa_attr {
    uint16_t type;          /* attribute type without the AF bit */
    uint8_t tv;             /* 1 for TV format (AF bit set) */
    uint16_t value;         /* TV value */
    const uint8_t *data;
    size_t len;
    size_t offset;          /* first octet of the attribute */
};

/* A proposal to build, with transforms[0..n_transforms) in wire order. */
struct ike_proposal_spec {
    uint8_t num;
    uint8_t proto_id;
    uint8_t spi_size;
    const uint8_t *spi;     /* spi_size octets, may be NULL when 0 */
    const struct ike_transform *transforms;
    size_t n_transforms;
};

/*
 * Decodes and checks the proposal at *cursor (start at 0) of the SA payload
 * sa and advances the cursor.  Returns 1 with *prop set, 0 after the last
 * proposal, or -EBADMSG with err set (an SA with no proposal at all is
 * IKE_E_SA_EMPTY).
 */
int
ike_sa_payload_next_proposal(const struct ike_payload *sa, size_t *cursor,
    struct ike_proposal *prop, struct ike_parse_error *err);

/*
 * Decodes the transform at *cursor (start at 0) of prop and advances.
 * Returns 1 with *xf set, 0 after the last one, or -EBADMSG with err set.
 */
int
ike_sa_payload_next_transform(const struct ike_proposal *prop,
    size_t *cursor, struct ike_transform *xf, struct ike_parse_error *err);

/* Iterates the attributes of xf like ike_sa_payload_next_transform(). */
int
ike_sa_payload_next_attr(const struct ike_transform *xf, size_t *cursor,
    struct ike_sa_attr *attr, struct ike_parse_error *err);

/*
 * Checks the whole SA payload sa.  Returns 0, or -EBADMSG with err set.
 */
int
ike_sa_payload_validate(const struct ike_payload *sa,
    struct ike_parse_error *err);

/*
 * Appends an SA payload with props[0..n) in order, setting each proposal's
 * and transform's last-substructure field and length.  Each transform gets
 * a TV Key Length attribute when has_key_length is set, or attrs verbatim.
 * More than 255 transforms in a proposal fail the writer with -EINVAL.
 */
void
ike_sa_payload_build(struct ike_writer *w,
    const struct ike_proposal_spec *props, size_t n);

#endif /* IKESHIFT_IKE_SA_PAYLOAD_H */
