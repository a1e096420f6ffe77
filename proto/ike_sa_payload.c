/*
 * SA payload proposals, transforms and attributes, documented in
 * ike_sa_payload.h.
 */
#include "ike_sa_payload.h"

#include <errno.h>
#include <string.h>

#include "ike_const.h"
#include "ike_msg.h"

#define ATTR_TYPE_MASK      0x7fff
#define PAYLOAD_MAX_LEN     65535

static int
sa_reject(struct ike_parse_error *err, int code, size_t off)
{
    ike_error_set(err, code, off, IKE_P_SA);
    return -EBADMSG;
}

int
ike_sa_payload_next_attr(const struct ike_transform *xf, size_t *cursor,
    struct ike_sa_attr *attr, struct ike_parse_error *err)
{
    size_t pos = *cursor;

    if (pos >= xf->attrs_len)
        return 0;

    const uint8_t *a = xf->attrs + pos;
    size_t left = xf->attrs_len - pos;
    size_t off = xf->attrs_offset + pos;

    if (left < IKE_ATTR_HDR_LEN)
        return sa_reject(err, IKE_E_ATTR_TRUNCATED, off);

    uint16_t word = ike_load16(a);

    attr->type = word & ATTR_TYPE_MASK;
    attr->tv = (word & IKE_ATTR_AF_TV) != 0;
    attr->offset = off;
    if (attr->tv) {
        /* RFC 7296 3.3.5: a TV attribute has its 2-octet value in place of
         * the length. */
        attr->value = ike_load16(a + 2);
        attr->data = a + 2;
        attr->len = 2;
        *cursor = pos + IKE_ATTR_HDR_LEN;
        return 1;
    }

    uint16_t len = ike_load16(a + 2);

    if (len > left - IKE_ATTR_HDR_LEN)
        return sa_reject(err, IKE_E_ATTR_TRUNCATED, off);
    /* RFC 7296 3.3.5: Key Length only ever uses the TV format. */
    if (attr->type == IKE_ATTR_KEY_LENGTH)
        return sa_reject(err, IKE_E_ATTR_KEY_LENGTH_NOT_TV, off);
    attr->value = 0;
    attr->data = a + IKE_ATTR_HDR_LEN;
    attr->len = len;
    *cursor = pos + IKE_ATTR_HDR_LEN + len;
    return 1;
}

/* Decodes the transform at t (left octets remain in its proposal). */
static int
parse_transform(const uint8_t *t, size_t left, size_t off,
    struct ike_transform *xf, struct ike_parse_error *err)
{
    if (left < IKE_TRANSFORM_HDR_LEN)
        return sa_reject(err, IKE_E_TRANSFORM_TRUNCATED, off);

    uint16_t len = ike_load16(t + 2);

    if (len < IKE_TRANSFORM_HDR_LEN || len > left)
        return sa_reject(err, IKE_E_TRANSFORM_LEN_INVALID, off);

    /* RFC 7296 3.3.2: 0 marks the last transform, 3 one more to come. */
    uint8_t want = len == left ? IKE_SUBSTRUCT_LAST : IKE_SUBSTRUCT_TRANSFORM;

    if (t[0] != want)
        return sa_reject(err, IKE_E_TRANSFORM_LAST_INVALID, off);
    xf->type = t[4];
    xf->id = ike_load16(t + 6);
    xf->has_key_length = 0;
    xf->key_length = 0;
    xf->attrs = t + IKE_TRANSFORM_HDR_LEN;
    xf->attrs_len = len - IKE_TRANSFORM_HDR_LEN;
    xf->attrs_offset = off + IKE_TRANSFORM_HDR_LEN;
    xf->offset = off;

    size_t cursor = 0;
    struct ike_sa_attr attr;
    int ret;

    while ((ret = ike_sa_payload_next_attr(xf, &cursor, &attr, err)) > 0) {
        if (attr.tv && attr.type == IKE_ATTR_KEY_LENGTH) {
            xf->has_key_length = 1;
            xf->key_length = attr.value;
        }
    }
    return ret < 0 ? ret : (int)len;
}

int
ike_sa_payload_next_transform(const struct ike_proposal *prop,
    size_t *cursor, struct ike_transform *xf, struct ike_parse_error *err)
{
    size_t pos = *cursor;

    if (pos >= prop->transforms_len)
        return 0;

    int len = parse_transform(prop->transforms + pos,
        prop->transforms_len - pos, prop->transforms_offset + pos, xf, err);

    if (len < 0)
        return len;
    *cursor = pos + (size_t)len;
    return 1;
}

/* Checks the transforms of prop and their count. */
static int
check_transforms(const struct ike_proposal *prop, struct ike_parse_error *err)
{
    size_t cursor = 0;
    size_t found = 0;
    struct ike_transform xf;
    int ret;

    while ((ret = ike_sa_payload_next_transform(prop, &cursor, &xf,
        err)) > 0)
        found++;
    if (ret < 0)
        return ret;
    if (found != prop->n_transforms)
        return sa_reject(err, IKE_E_TRANSFORM_COUNT_MISMATCH,
            prop->offset + 7);
    return 0;
}

int
ike_sa_payload_next_proposal(const struct ike_payload *sa, size_t *cursor,
    struct ike_proposal *prop, struct ike_parse_error *err)
{
    size_t pos = *cursor;
    size_t body_off = sa->offset + IKE_PAYLOAD_HDR_LEN;

    if (sa->type != IKE_P_SA) {
        ike_error_set(err, IKE_E_PAYLOAD_TYPE_MISMATCH, sa->offset, sa->type);
        return -EINVAL;
    }
    if (sa->body_len == 0)
        return sa_reject(err, IKE_E_SA_EMPTY, body_off);
    if (pos >= sa->body_len)
        return 0;

    const uint8_t *p = sa->body + pos;
    size_t left = sa->body_len - pos;
    size_t off = body_off + pos;

    if (left < IKE_PROPOSAL_HDR_LEN)
        return sa_reject(err, IKE_E_PROPOSAL_TRUNCATED, off);

    uint16_t len = ike_load16(p + 2);
    uint8_t spi_size = p[6];

    if (len < IKE_PROPOSAL_HDR_LEN + spi_size || len > left)
        return sa_reject(err, IKE_E_PROPOSAL_LEN_INVALID, off);

    /* RFC 7296 3.3.1: 0 marks the last proposal, 2 one more to come. */
    uint8_t want = len == left ? IKE_SUBSTRUCT_LAST : IKE_SUBSTRUCT_PROPOSAL;

    if (p[0] != want)
        return sa_reject(err, IKE_E_PROPOSAL_LAST_INVALID, off);
    prop->num = p[4];
    prop->proto_id = p[5];
    prop->spi_size = spi_size;
    prop->n_transforms = p[7];
    prop->spi = spi_size > 0 ? p + IKE_PROPOSAL_HDR_LEN : NULL;
    prop->transforms = p + IKE_PROPOSAL_HDR_LEN + spi_size;
    prop->transforms_len = len - IKE_PROPOSAL_HDR_LEN - spi_size;
    prop->transforms_offset = off + IKE_PROPOSAL_HDR_LEN + spi_size;
    prop->offset = off;

    int ret = check_transforms(prop, err);

    if (ret < 0)
        return ret;
    *cursor = pos + len;
    return 1;
}

int
ike_sa_payload_validate(const struct ike_payload *sa,
    struct ike_parse_error *err)
{
    size_t cursor = 0;
    struct ike_proposal prop;
    int ret;

    while ((ret = ike_sa_payload_next_proposal(sa, &cursor, &prop, err)) > 0)
        ;
    return ret;
}

/* Writes one transform.  last is 1 for the final one of its proposal. */
static void
build_transform(struct ike_writer *w, const struct ike_transform *xf,
    int last)
{
    size_t attrs_len;

    if (xf->attrs != NULL)
        attrs_len = xf->attrs_len;
    else
        attrs_len = xf->has_key_length ? IKE_ATTR_HDR_LEN : 0;
    if (attrs_len > PAYLOAD_MAX_LEN - IKE_TRANSFORM_HDR_LEN) {
        ike_writer_fail(w, -EMSGSIZE);
        return;
    }
    ike_writer_u8(w, last ? IKE_SUBSTRUCT_LAST : IKE_SUBSTRUCT_TRANSFORM);
    ike_writer_u8(w, 0);
    ike_writer_u16(w, (uint16_t)(IKE_TRANSFORM_HDR_LEN + attrs_len));
    ike_writer_u8(w, xf->type);
    ike_writer_u8(w, 0);
    ike_writer_u16(w, xf->id);
    if (xf->attrs != NULL) {
        ike_writer_bytes(w, xf->attrs, xf->attrs_len);
    } else if (xf->has_key_length) {
        ike_writer_u16(w, IKE_ATTR_AF_TV | IKE_ATTR_KEY_LENGTH);
        ike_writer_u16(w, xf->key_length);
    }
}

/* Writes one proposal.  last is 1 for the final one of the SA. */
static void
build_proposal(struct ike_writer *w, const struct ike_proposal_spec *ps,
    int last)
{
    if (ps->n_transforms > UINT8_MAX ||
        (ps->spi == NULL && ps->spi_size > 0)) {
        ike_writer_fail(w, -EINVAL);
        return;
    }

    size_t start = ike_writer_len(w);

    ike_writer_u8(w, last ? IKE_SUBSTRUCT_LAST : IKE_SUBSTRUCT_PROPOSAL);
    ike_writer_u8(w, 0);
    ike_writer_u16(w, 0);           /* Proposal Length, set below */
    ike_writer_u8(w, ps->num);
    ike_writer_u8(w, ps->proto_id);
    ike_writer_u8(w, ps->spi_size);
    ike_writer_u8(w, (uint8_t)ps->n_transforms);
    ike_writer_bytes(w, ps->spi, ps->spi_size);
    for (size_t i = 0; i < ps->n_transforms; i++)
        build_transform(w, &ps->transforms[i], i + 1 == ps->n_transforms);
    if (ike_writer_error(w) != 0)
        return;

    size_t len = ike_writer_len(w) - start;

    if (len > PAYLOAD_MAX_LEN) {
        ike_writer_fail(w, -EMSGSIZE);
        return;
    }
    ike_writer_patch16(w, start + 2, (uint16_t)len);
}

void
ike_sa_payload_build(struct ike_writer *w,
    const struct ike_proposal_spec *props, size_t n)
{
    ike_msg_payload_begin(w, IKE_P_SA, 0);
    for (size_t i = 0; i < n; i++)
        build_proposal(w, &props[i], i + 1 == n);
    ike_msg_payload_end(w);
}
