/*
 * IKE header and payload chain parsing and building, documented in ike_msg.h.
 */
#include "ike_msg.h"

#include <errno.h>
#include <string.h>

#define HDR_OFF_NEXT        16
#define HDR_OFF_VERSION     17
#define HDR_OFF_LENGTH      24
#define PAYLOAD_MAX_LEN     65535

int
ike_msg_parse_header(struct ike_header *hdr, const uint8_t *buf, size_t len,
    struct ike_parse_error *err)
{
    if (len < IKE_HDR_LEN) {
        ike_error_set(err, IKE_E_HDR_TRUNCATED, 0, 0);
        return -EBADMSG;
    }
    memcpy(hdr->spi_i, buf, IKE_SPI_LEN);
    memcpy(hdr->spi_r, buf + IKE_SPI_LEN, IKE_SPI_LEN);
    hdr->next_payload = buf[HDR_OFF_NEXT];
    hdr->version = buf[HDR_OFF_VERSION];
    hdr->exchange = buf[18];
    hdr->flags = buf[19];
    hdr->msg_id = ike_load32(buf + 20);
    hdr->length = ike_load32(buf + HDR_OFF_LENGTH);

    /* RFC 7296 2.5: only the major version matters, the minor is ignored. */
    if ((hdr->version >> 4) != (IKE_VERSION_2 >> 4)) {
        ike_error_set(err, IKE_E_MAJOR_VERSION, HDR_OFF_VERSION, 0);
        return -EBADMSG;
    }
    if (hdr->length < IKE_HDR_LEN) {
        ike_error_set(err, IKE_E_HDR_LEN_TOO_SHORT, HDR_OFF_LENGTH, 0);
        return -EBADMSG;
    }
    if (hdr->length > len) {
        ike_error_set(err, IKE_E_HDR_LEN_BEYOND_DATAGRAM, HDR_OFF_LENGTH, 0);
        return -EBADMSG;
    }
    return 0;
}

static int
chain_reject(struct ike_parse_error *err, int code, size_t off, uint8_t type)
{
    ike_error_set(err, code, off, type);
    return -EBADMSG;
}

/*
 * Walks the chain buf[start..end) starting with payload type first.  An
 * inner chain (SK plaintext) may not hold SK or SKF itself.
 */
static int
parse_chain(struct ike_chain *c, const uint8_t *buf, size_t start,
    size_t end, uint8_t first, int inner, struct ike_parse_error *err)
{
    size_t pos = start;
    uint8_t type = first;

    c->buf = buf;
    c->len = end;
    c->count = 0;
    while (type != IKE_P_NONE) {
        if (end - pos < IKE_PAYLOAD_HDR_LEN)
            return chain_reject(err, IKE_E_CHAIN_OVERRUN, pos, type);

        const uint8_t *h = buf + pos;
        uint16_t plen = ike_load16(h + 2);

        if (plen < IKE_PAYLOAD_HDR_LEN)
            return chain_reject(err, IKE_E_PAYLOAD_LEN_TOO_SHORT, pos, type);
        if (plen > end - pos)
            return chain_reject(err, IKE_E_PAYLOAD_LEN_BEYOND_MESSAGE, pos,
                type);

        /* RFC 7296 3.2: the critical bit only matters for unknown types. */
        int known = ike_payload_type_known(type);
        int critical = (h[1] & 0x80) != 0;

        if (!known && critical)
            return chain_reject(err, IKE_E_UNSUPPORTED_CRITICAL, pos, type);
        if (c->count == IKE_CHAIN_MAX_PAYLOADS)
            return chain_reject(err, IKE_E_TOO_MANY_PAYLOADS, pos, type);

        int encrypted = type == IKE_P_SK || type == IKE_P_SKF;

        /* RFC 7296 3.14, RFC 7383 2.5: SK and SKF come last. */
        if (encrypted && inner)
            return chain_reject(err, IKE_E_SK_NESTED, pos, type);
        if (encrypted && plen != end - pos)
            return chain_reject(err, IKE_E_SK_NOT_LAST, pos, type);

        struct ike_payload *p = &c->payloads[c->count];

        p->offset = pos;
        p->body = h + IKE_PAYLOAD_HDR_LEN;
        p->body_len = plen - IKE_PAYLOAD_HDR_LEN;
        p->type = type;
        p->next = h[0];
        p->critical = (uint8_t)critical;
        p->known = (uint8_t)known;
        if (known && ike_payload_validate(p, err) < 0)
            return -EBADMSG;
        c->count++;
        pos += plen;
        /* The Next Payload of SK names the first payload inside it. */
        if (encrypted)
            break;
        type = h[0];
    }
    if (pos != end) {
        uint8_t last = c->count > 0 ? c->payloads[c->count - 1].type : 0;

        return chain_reject(err, IKE_E_TRAILING_OCTETS, pos, last);
    }
    return 0;
}

int
ike_msg_parse(struct ike_msg *msg, const uint8_t *buf, size_t len,
    struct ike_parse_error *err)
{
    ike_error_set(err, IKE_E_OK, 0, 0);
    msg->raw = buf;
    msg->len = 0;
    msg->chain.buf = buf;
    msg->chain.len = 0;
    msg->chain.count = 0;
    if (ike_msg_parse_header(&msg->hdr, buf, len, err) < 0)
        return -EBADMSG;
    msg->len = msg->hdr.length;
    return parse_chain(&msg->chain, buf, IKE_HDR_LEN, msg->len,
        msg->hdr.next_payload, 0, err);
}

int
ike_chain_parse(struct ike_chain *chain, const uint8_t *buf, size_t len,
    uint8_t first_type, struct ike_parse_error *err)
{
    ike_error_set(err, IKE_E_OK, 0, 0);
    return parse_chain(chain, buf, 0, len, first_type, 1, err);
}

const struct ike_payload *
ike_chain_find(const struct ike_chain *chain, uint8_t type,
    const struct ike_payload *prev)
{
    size_t i = prev == NULL ? 0 : (size_t)(prev - chain->payloads) + 1;

    for (; i < chain->count; i++) {
        if (chain->payloads[i].type == type)
            return &chain->payloads[i];
    }
    return NULL;
}

const struct ike_payload *
ike_chain_find_notify(const struct ike_chain *chain, uint16_t notify_type,
    struct ike_notify *notify)
{
    const struct ike_payload *p = NULL;
    struct ike_notify n;

    while ((p = ike_chain_find(chain, IKE_P_NOTIFY, p)) != NULL) {
        if (ike_payload_parse_notify(p, &n, NULL) == 0 &&
            n.type == notify_type) {
            if (notify != NULL)
                *notify = n;
            return p;
        }
    }
    return NULL;
}

const char *
ike_msg_exchange_name(uint8_t exchange)
{
    switch (exchange) {
    case IKE_X_SA_INIT:         return "IKE_SA_INIT";
    case IKE_X_AUTH:            return "IKE_AUTH";
    case IKE_X_CREATE_CHILD_SA: return "CREATE_CHILD_SA";
    case IKE_X_INFORMATIONAL:   return "INFORMATIONAL";
    default:                    return NULL;
    }
}

const struct ike_payload *
ike_msg_encrypted(const struct ike_msg *msg)
{
    if (msg->chain.count == 0)
        return NULL;

    const struct ike_payload *last = &msg->chain.payloads[msg->chain.count - 1];

    if (last->type == IKE_P_SK || last->type == IKE_P_SKF)
        return last;
    return NULL;
}

void
ike_msg_begin(struct ike_writer *w, const struct ike_header *hdr)
{
    size_t off = ike_writer_len(w);

    ike_chain_begin(w);
    ike_writer_bytes(w, hdr->spi_i, IKE_SPI_LEN);
    ike_writer_bytes(w, hdr->spi_r, IKE_SPI_LEN);
    ike_writer_u8(w, IKE_P_NONE);
    ike_writer_u8(w, IKE_VERSION_2);
    ike_writer_u8(w, hdr->exchange);
    ike_writer_u8(w, hdr->flags);
    ike_writer_u32(w, hdr->msg_id);
    ike_writer_u32(w, IKE_HDR_LEN);
    if (ike_writer_error(w) != 0)
        return;
    w->hdr_off = off;
    w->np_off = off + HDR_OFF_NEXT;
}

void
ike_chain_begin(struct ike_writer *w)
{
    w->hdr_off = IKE_WRITER_NONE;
    w->np_off = IKE_WRITER_NONE;
    w->payload_off = IKE_WRITER_NONE;
    w->first_type = IKE_P_NONE;
    w->payload_open = 0;
    w->chain_closed = 0;
}

void
ike_msg_payload_begin(struct ike_writer *w, uint8_t type, int critical)
{
    if (ike_writer_error(w) != 0)
        return;
    if (w->payload_open || w->chain_closed || type == IKE_P_NONE) {
        ike_writer_fail(w, -EINVAL);
        return;
    }

    size_t off = ike_writer_len(w);

    ike_writer_u8(w, IKE_P_NONE);
    ike_writer_u8(w, critical ? 0x80 : 0);
    ike_writer_u16(w, IKE_PAYLOAD_HDR_LEN);
    if (ike_writer_error(w) != 0)
        return;
    if (w->np_off != IKE_WRITER_NONE)
        ike_writer_patch8(w, w->np_off, type);
    if (w->first_type == IKE_P_NONE)
        w->first_type = type;
    w->np_off = off;
    w->payload_off = off;
    w->payload_open = 1;
}

void
ike_msg_payload_end(struct ike_writer *w)
{
    if (ike_writer_error(w) != 0)
        return;
    if (!w->payload_open) {
        ike_writer_fail(w, -EINVAL);
        return;
    }

    size_t plen = ike_writer_len(w) - w->payload_off;

    if (plen > PAYLOAD_MAX_LEN) {
        ike_writer_fail(w, -EMSGSIZE);
        return;
    }
    ike_writer_patch16(w, w->payload_off + 2, (uint16_t)plen);
    if (w->hdr_off != IKE_WRITER_NONE) {
        size_t total = ike_writer_len(w) - w->hdr_off;

        if (total > UINT32_MAX) {
            ike_writer_fail(w, -EMSGSIZE);
            return;
        }
        ike_writer_patch32(w, w->hdr_off + HDR_OFF_LENGTH, (uint32_t)total);
    }
    w->payload_open = 0;
}

void
ike_msg_sk_begin(struct ike_writer *w, uint8_t first_inner)
{
    ike_msg_payload_begin(w, IKE_P_SK, 0);
    if (ike_writer_error(w) != 0)
        return;
    ike_writer_patch8(w, w->payload_off, first_inner);
    w->np_off = IKE_WRITER_NONE;
    w->chain_closed = 1;
}

/* RFC 7383 2.5: Fragment Number and Total Fragments follow the header. */
void
ike_msg_skf_begin(struct ike_writer *w, uint8_t first_inner,
    uint16_t fragment, uint16_t total)
{
    ike_msg_payload_begin(w, IKE_P_SKF, 0);
    if (ike_writer_error(w) != 0)
        return;
    ike_writer_patch8(w, w->payload_off, first_inner);
    ike_writer_u16(w, fragment);
    ike_writer_u16(w, total);
    w->np_off = IKE_WRITER_NONE;
    w->chain_closed = 1;
}

uint8_t
ike_writer_first_type(const struct ike_writer *w)
{
    return w->first_type;
}
