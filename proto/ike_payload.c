/*
 * Payload body parsers and builders, documented in ike_payload.h.
 */
#include "ike_payload.h"

#include <errno.h>
#include <string.h>

#include "ike_const.h"
#include "ike_msg.h"
#include "ike_sa_payload.h"

/* Fixed parts of bodies, after the 4-octet generic header. */
#define KE_FIXED_LEN        4       /* group, reserved (3.4) */
#define NOTIFY_FIXED_LEN    4       /* protocol, SPI size, type (3.10) */
#define ID_FIXED_LEN        4       /* ID type, reserved (3.5) */
#define AUTH_FIXED_LEN      4       /* method, reserved (3.8) */
#define CERT_FIXED_LEN      1       /* encoding (3.6, 3.7) */
#define TS_FIXED_LEN        4       /* count, reserved (3.13) */
#define TS_HDR_LEN          4       /* type, protocol, length (3.13.1) */
#define CP_FIXED_LEN        4       /* CFG type, reserved (3.15) */
#define CP_ATTR_HDR_LEN     4       /* type, length (3.15.1) */
#define DELETE_FIXED_LEN    4       /* protocol, SPI size, count (3.11) */
#define SKF_FIXED_LEN       4       /* fragment number, total (RFC 7383) */
#define EAP_FIXED_LEN       4       /* code, identifier, length (RFC 3748) */
#define PAYLOAD_MAX_LEN     65535

/* Offset, from the chain's buffer, of octet i of p's body. */
static size_t
body_off(const struct ike_payload *p, size_t i)
{
    return p->offset + IKE_PAYLOAD_HDR_LEN + i;
}

static int
reject(const struct ike_payload *p, struct ike_parse_error *err, int code,
    size_t body_index)
{
    ike_error_set(err, code, body_off(p, body_index), p->type);
    return -EBADMSG;
}

static int
check_type(const struct ike_payload *p, uint8_t a, uint8_t b,
    struct ike_parse_error *err)
{
    if (p->type == a || p->type == b)
        return 0;
    ike_error_set(err, IKE_E_PAYLOAD_TYPE_MISMATCH, p->offset, p->type);
    return -EINVAL;
}

/* RFC 7296 3.2 assigns 33 to 48 without gaps; RFC 7383 adds 53. */
int
ike_payload_type_known(uint8_t type)
{
    return (type >= IKE_P_SA && type <= IKE_P_EAP) || type == IKE_P_SKF;
}

const char *
ike_payload_type_name(uint8_t type)
{
    switch (type) {
    case IKE_P_SA:          return "SA";
    case IKE_P_KE:          return "KE";
    case IKE_P_IDI:         return "IDi";
    case IKE_P_IDR:         return "IDr";
    case IKE_P_CERT:        return "CERT";
    case IKE_P_CERTREQ:     return "CERTREQ";
    case IKE_P_AUTH:        return "AUTH";
    case IKE_P_NONCE:       return "Nonce";
    case IKE_P_NOTIFY:      return "N";
    case IKE_P_DELETE:      return "D";
    case IKE_P_VENDOR:      return "V";
    case IKE_P_TSI:         return "TSi";
    case IKE_P_TSR:         return "TSr";
    case IKE_P_SK:          return "SK";
    case IKE_P_CP:          return "CP";
    case IKE_P_EAP:         return "EAP";
    case IKE_P_SKF:         return "SKF";
    default:                return NULL;
    }
}

struct notify_name {
    uint16_t type;
    const char *name;
};

static const struct notify_name notify_names[] = {
    { IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD, "UNSUPPORTED_CRITICAL_PAYLOAD" },
    { IKE_N_INVALID_IKE_SPI, "INVALID_IKE_SPI" },
    { IKE_N_INVALID_MAJOR_VERSION, "INVALID_MAJOR_VERSION" },
    { IKE_N_INVALID_SYNTAX, "INVALID_SYNTAX" },
    { IKE_N_INVALID_MESSAGE_ID, "INVALID_MESSAGE_ID" },
    { IKE_N_INVALID_SPI, "INVALID_SPI" },
    { IKE_N_NO_PROPOSAL_CHOSEN, "NO_PROPOSAL_CHOSEN" },
    { IKE_N_INVALID_KE_PAYLOAD, "INVALID_KE_PAYLOAD" },
    { IKE_N_AUTHENTICATION_FAILED, "AUTHENTICATION_FAILED" },
    { IKE_N_SINGLE_PAIR_REQUIRED, "SINGLE_PAIR_REQUIRED" },
    { IKE_N_NO_ADDITIONAL_SAS, "NO_ADDITIONAL_SAS" },
    { IKE_N_INTERNAL_ADDRESS_FAILURE, "INTERNAL_ADDRESS_FAILURE" },
    { IKE_N_FAILED_CP_REQUIRED, "FAILED_CP_REQUIRED" },
    { IKE_N_TS_UNACCEPTABLE, "TS_UNACCEPTABLE" },
    { IKE_N_INVALID_SELECTORS, "INVALID_SELECTORS" },
    { IKE_N_TEMPORARY_FAILURE, "TEMPORARY_FAILURE" },
    { IKE_N_CHILD_SA_NOT_FOUND, "CHILD_SA_NOT_FOUND" },
    { IKE_N_INITIAL_CONTACT, "INITIAL_CONTACT" },
    { IKE_N_SET_WINDOW_SIZE, "SET_WINDOW_SIZE" },
    { IKE_N_ADDITIONAL_TS_POSSIBLE, "ADDITIONAL_TS_POSSIBLE" },
    { IKE_N_IPCOMP_SUPPORTED, "IPCOMP_SUPPORTED" },
    { IKE_N_NAT_DETECTION_SOURCE_IP, "NAT_DETECTION_SOURCE_IP" },
    { IKE_N_NAT_DETECTION_DESTINATION_IP, "NAT_DETECTION_DESTINATION_IP" },
    { IKE_N_COOKIE, "COOKIE" },
    { IKE_N_USE_TRANSPORT_MODE, "USE_TRANSPORT_MODE" },
    { IKE_N_REKEY_SA, "REKEY_SA" },
    { IKE_N_ESP_TFC_PADDING_NOT_SUPPORTED, "ESP_TFC_PADDING_NOT_SUPPORTED" },
    { IKE_N_NON_FIRST_FRAGMENTS_ALSO, "NON_FIRST_FRAGMENTS_ALSO" },
    { IKE_N_MOBIKE_SUPPORTED, "MOBIKE_SUPPORTED" },
    { IKE_N_ADDITIONAL_IP4_ADDRESS, "ADDITIONAL_IP4_ADDRESS" },
    { IKE_N_ADDITIONAL_IP6_ADDRESS, "ADDITIONAL_IP6_ADDRESS" },
    { IKE_N_MULTIPLE_AUTH_SUPPORTED, "MULTIPLE_AUTH_SUPPORTED" },
    { IKE_N_ANOTHER_AUTH_FOLLOWS, "ANOTHER_AUTH_FOLLOWS" },
    { IKE_N_REDIRECT_SUPPORTED, "REDIRECT_SUPPORTED" },
    { IKE_N_REDIRECT, "REDIRECT" },
    { IKE_N_REDIRECTED_FROM, "REDIRECTED_FROM" },
    { IKE_N_EAP_ONLY_AUTHENTICATION, "EAP_ONLY_AUTHENTICATION" },
    { IKE_N_CHILDLESS_IKEV2_SUPPORTED, "CHILDLESS_IKEV2_SUPPORTED" },
    { IKE_N_IKEV2_MESSAGE_ID_SYNC_SUPPORTED,
        "IKEV2_MESSAGE_ID_SYNC_SUPPORTED" },
    { IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, "IKEV2_FRAGMENTATION_SUPPORTED" },
    { IKE_N_SIGNATURE_HASH_ALGORITHMS, "SIGNATURE_HASH_ALGORITHMS" },
};

const char *
ike_notify_type_name(uint16_t type)
{
    size_t n = sizeof(notify_names) / sizeof(notify_names[0]);

    for (size_t i = 0; i < n; i++) {
        if (notify_names[i].type == type)
            return notify_names[i].name;
    }
    return NULL;
}

/* Returns the KE data length of a known group (RFC 3526, RFC 5903 7,
 * RFC 8031 3.1), or 0 for a group whose length this library does not
 * check. */
static size_t
ke_group_len(uint16_t group)
{
    switch (group) {
    case IKE_DH_MODP_2048:  return 256;
    case IKE_DH_ECP_256:    return 64;
    case IKE_DH_ECP_384:    return 96;
    case IKE_DH_ECP_521:    return 132;
    case IKE_DH_CURVE25519: return 32;
    case IKE_DH_CURVE448:   return 56;
    default:                return 0;
    }
}

int
ike_payload_parse_ke(const struct ike_payload *p, struct ike_ke_payload *out,
    struct ike_parse_error *err)
{
    if (check_type(p, IKE_P_KE, IKE_P_KE, err) < 0)
        return -EINVAL;
    if (p->body_len < KE_FIXED_LEN)
        return reject(p, err, IKE_E_BODY_TRUNCATED, 0);
    if (p->body_len == KE_FIXED_LEN)
        return reject(p, err, IKE_E_KE_DATA_EMPTY, KE_FIXED_LEN);
    out->group = ike_load16(p->body);
    out->data = p->body + KE_FIXED_LEN;
    out->len = p->body_len - KE_FIXED_LEN;
    if (ke_group_len(out->group) != 0 &&
        out->len != ke_group_len(out->group))
        return reject(p, err, IKE_E_KE_DATA_LEN, KE_FIXED_LEN);
    return 0;
}

/* RFC 7296 3.9: a nonce is 16 to 256 octets. */
int
ike_payload_parse_nonce(const struct ike_payload *p, struct ike_nonce *out,
    struct ike_parse_error *err)
{
    if (check_type(p, IKE_P_NONCE, IKE_P_NONCE, err) < 0)
        return -EINVAL;
    if (p->body_len < IKE_NONCE_MIN_LEN)
        return reject(p, err, IKE_E_NONCE_TOO_SHORT, 0);
    if (p->body_len > IKE_NONCE_MAX_LEN)
        return reject(p, err, IKE_E_NONCE_TOO_LONG, 0);
    out->data = p->body;
    out->len = p->body_len;
    return 0;
}

int
ike_payload_parse_notify(const struct ike_payload *p, struct ike_notify *out,
    struct ike_parse_error *err)
{
    if (check_type(p, IKE_P_NOTIFY, IKE_P_NOTIFY, err) < 0)
        return -EINVAL;
    if (p->body_len < NOTIFY_FIXED_LEN)
        return reject(p, err, IKE_E_BODY_TRUNCATED, 0);

    uint8_t spi_size = p->body[1];

    if (spi_size > p->body_len - NOTIFY_FIXED_LEN)
        return reject(p, err, IKE_E_NOTIFY_SPI_BEYOND_PAYLOAD, 1);
    out->proto_id = p->body[0];
    out->spi_size = spi_size;
    out->spi = spi_size > 0 ? p->body + NOTIFY_FIXED_LEN : NULL;
    out->type = ike_load16(p->body + 2);
    out->data = p->body + NOTIFY_FIXED_LEN + spi_size;
    out->data_len = p->body_len - NOTIFY_FIXED_LEN - spi_size;
    out->offset = p->offset;
    out->data_offset = body_off(p, NOTIFY_FIXED_LEN + spi_size);
    return 0;
}

int
ike_payload_parse_id(const struct ike_payload *p, struct ike_id *out,
    struct ike_parse_error *err)
{
    if (check_type(p, IKE_P_IDI, IKE_P_IDR, err) < 0)
        return -EINVAL;
    if (p->body_len < ID_FIXED_LEN)
        return reject(p, err, IKE_E_BODY_TRUNCATED, 0);

    uint8_t id_type = p->body[0];
    size_t len = p->body_len - ID_FIXED_LEN;

    /* RFC 7296 3.5: the address types carry exactly one address. */
    if ((id_type == IKE_ID_IPV4_ADDR && len != 4) ||
        (id_type == IKE_ID_IPV6_ADDR && len != 16))
        return reject(p, err, IKE_E_ID_ADDR_LEN, ID_FIXED_LEN);
    out->id_type = id_type;
    out->data = p->body + ID_FIXED_LEN;
    out->len = len;
    return 0;
}

int
ike_payload_parse_auth(const struct ike_payload *p, struct ike_auth *out,
    struct ike_parse_error *err)
{
    if (check_type(p, IKE_P_AUTH, IKE_P_AUTH, err) < 0)
        return -EINVAL;
    if (p->body_len < AUTH_FIXED_LEN)
        return reject(p, err, IKE_E_BODY_TRUNCATED, 0);
    if (p->body_len == AUTH_FIXED_LEN)
        return reject(p, err, IKE_E_AUTH_DATA_EMPTY, AUTH_FIXED_LEN);
    out->method = p->body[0];
    out->data = p->body + AUTH_FIXED_LEN;
    out->len = p->body_len - AUTH_FIXED_LEN;
    return 0;
}

int
ike_payload_parse_cert(const struct ike_payload *p, struct ike_cert *out,
    struct ike_parse_error *err)
{
    if (check_type(p, IKE_P_CERT, IKE_P_CERTREQ, err) < 0)
        return -EINVAL;
    if (p->body_len < CERT_FIXED_LEN)
        return reject(p, err, IKE_E_BODY_TRUNCATED, 0);
    out->encoding = p->body[0];
    out->data = p->body + CERT_FIXED_LEN;
    out->len = p->body_len - CERT_FIXED_LEN;
    return 0;
}

int
ike_payload_next_ts(const struct ike_ts_payload *tsp, size_t *cursor,
    struct ike_ts *ts, struct ike_parse_error *err)
{
    size_t pos = *cursor;

    if (pos >= tsp->selectors_len)
        return 0;

    const uint8_t *s = tsp->selectors + pos;
    size_t left = tsp->selectors_len - pos;
    size_t off = tsp->selectors_offset + pos;
    uint8_t type = tsp->payload_type;

    if (left < TS_HDR_LEN) {
        ike_error_set(err, IKE_E_TS_TRUNCATED, off, type);
        return -EBADMSG;
    }

    uint16_t len = ike_load16(s + 2);

    if (len < TS_HDR_LEN) {
        ike_error_set(err, IKE_E_TS_LEN_INVALID, off, type);
        return -EBADMSG;
    }
    if (len > left) {
        ike_error_set(err, IKE_E_TS_TRUNCATED, off, type);
        return -EBADMSG;
    }

    size_t addr_len = 0;

    if (s[0] == IKE_TS_IPV4_ADDR_RANGE)
        addr_len = 4;
    else if (s[0] == IKE_TS_IPV6_ADDR_RANGE)
        addr_len = 16;
    memset(ts, 0, sizeof(*ts));
    ts->type = s[0];
    ts->ip_proto = s[1];
    ts->offset = off;
    if (addr_len > 0) {
        /* RFC 7296 3.13.1: 8 octets of header and ports, two addresses. */
        if (len != 8 + 2 * addr_len) {
            ike_error_set(err, IKE_E_TS_LEN_INVALID, off, type);
            return -EBADMSG;
        }
        ts->start_port = ike_load16(s + 4);
        ts->end_port = ike_load16(s + 6);
        ts->start_addr = s + 8;
        ts->end_addr = s + 8 + addr_len;
        ts->addr_len = addr_len;
    } else {
        ts->data = s + TS_HDR_LEN;
        ts->data_len = len - TS_HDR_LEN;
    }
    *cursor = pos + len;
    return 1;
}

int
ike_payload_parse_ts(const struct ike_payload *p, struct ike_ts_payload *out,
    struct ike_parse_error *err)
{
    if (check_type(p, IKE_P_TSI, IKE_P_TSR, err) < 0)
        return -EINVAL;
    if (p->body_len < TS_FIXED_LEN)
        return reject(p, err, IKE_E_BODY_TRUNCATED, 0);

    struct ike_ts_payload tsp = {
        .payload_type = p->type,
        .count = p->body[0],
        .selectors = p->body + TS_FIXED_LEN,
        .selectors_len = p->body_len - TS_FIXED_LEN,
        .selectors_offset = body_off(p, TS_FIXED_LEN),
    };

    if (tsp.count == 0)
        return reject(p, err, IKE_E_TS_EMPTY, 0);

    size_t cursor = 0;
    size_t found = 0;
    struct ike_ts ts;
    int ret;

    while ((ret = ike_payload_next_ts(&tsp, &cursor, &ts, err)) > 0)
        found++;
    if (ret < 0)
        return ret;
    if (found != tsp.count)
        return reject(p, err, IKE_E_TS_COUNT_MISMATCH, 0);
    *out = tsp;
    return 0;
}

int
ike_payload_next_cp_attr(const struct ike_cp *cp, size_t *cursor,
    struct ike_cp_attr *attr, struct ike_parse_error *err)
{
    size_t pos = *cursor;

    if (pos >= cp->attrs_len)
        return 0;

    const uint8_t *a = cp->attrs + pos;
    size_t left = cp->attrs_len - pos;
    size_t off = cp->attrs_offset + pos;

    if (left < CP_ATTR_HDR_LEN ||
        ike_load16(a + 2) > left - CP_ATTR_HDR_LEN) {
        ike_error_set(err, IKE_E_CP_ATTR_TRUNCATED, off, IKE_P_CP);
        return -EBADMSG;
    }
    /* RFC 7296 3.15.1: the top bit is reserved and ignored on receipt. */
    attr->type = ike_load16(a) & 0x7fff;
    attr->len = ike_load16(a + 2);
    attr->value = a + CP_ATTR_HDR_LEN;
    attr->offset = off;
    *cursor = pos + CP_ATTR_HDR_LEN + attr->len;
    return 1;
}

int
ike_payload_parse_cp(const struct ike_payload *p, struct ike_cp *out,
    struct ike_parse_error *err)
{
    if (check_type(p, IKE_P_CP, IKE_P_CP, err) < 0)
        return -EINVAL;
    if (p->body_len < CP_FIXED_LEN)
        return reject(p, err, IKE_E_BODY_TRUNCATED, 0);

    struct ike_cp cp = {
        .cfg_type = p->body[0],
        .attrs = p->body + CP_FIXED_LEN,
        .attrs_len = p->body_len - CP_FIXED_LEN,
        .attrs_offset = body_off(p, CP_FIXED_LEN),
    };
    size_t cursor = 0;
    struct ike_cp_attr attr;
    int ret;

    while ((ret = ike_payload_next_cp_attr(&cp, &cursor, &attr, err)) > 0)
        ;
    if (ret < 0)
        return ret;
    *out = cp;
    return 0;
}

int
ike_payload_parse_delete(const struct ike_payload *p, struct ike_delete *out,
    struct ike_parse_error *err)
{
    if (check_type(p, IKE_P_DELETE, IKE_P_DELETE, err) < 0)
        return -EINVAL;
    if (p->body_len < DELETE_FIXED_LEN)
        return reject(p, err, IKE_E_BODY_TRUNCATED, 0);

    uint8_t proto_id = p->body[0];
    uint8_t spi_size = p->body[1];
    uint16_t n_spi = ike_load16(p->body + 2);

    /* RFC 7296 3.11: SPI Size is 0 for IKE and 4 for AH and ESP. */
    if ((proto_id == IKE_PROTO_IKE && spi_size != 0) ||
        ((proto_id == IKE_PROTO_AH || proto_id == IKE_PROTO_ESP) &&
        spi_size != 4))
        return reject(p, err, IKE_E_DELETE_SPI_SIZE, 1);

    if ((size_t)spi_size * n_spi != p->body_len - DELETE_FIXED_LEN)
        return reject(p, err, IKE_E_DELETE_SPI_MISMATCH, 2);
    out->proto_id = p->body[0];
    out->spi_size = spi_size;
    out->n_spi = n_spi;
    out->spis = p->body + DELETE_FIXED_LEN;
    return 0;
}

int
ike_payload_parse_sk(const struct ike_payload *p, struct ike_sk *out,
    struct ike_parse_error *err)
{
    if (check_type(p, IKE_P_SK, IKE_P_SK, err) < 0)
        return -EINVAL;
    out->first_inner = p->next;
    out->data = p->body;
    out->len = p->body_len;
    return 0;
}

/* RFC 7383 2.5: fragments are numbered from 1 up to Total Fragments. */
int
ike_payload_parse_skf(const struct ike_payload *p, struct ike_skf *out,
    struct ike_parse_error *err)
{
    if (check_type(p, IKE_P_SKF, IKE_P_SKF, err) < 0)
        return -EINVAL;
    if (p->body_len < SKF_FIXED_LEN)
        return reject(p, err, IKE_E_BODY_TRUNCATED, 0);

    uint16_t fragment = ike_load16(p->body);
    uint16_t total = ike_load16(p->body + 2);

    if (fragment == 0 || fragment > total)
        return reject(p, err, IKE_E_SKF_NUMBER_INVALID, 0);
    out->first_inner = p->next;
    out->fragment = fragment;
    out->total = total;
    out->data = p->body + SKF_FIXED_LEN;
    out->len = p->body_len - SKF_FIXED_LEN;
    return 0;
}

int
ike_payload_validate(const struct ike_payload *p, struct ike_parse_error *err)
{
    union {
        struct ike_ke_payload ke;
        struct ike_nonce nonce;
        struct ike_notify notify;
        struct ike_id id;
        struct ike_auth auth;
        struct ike_cert cert;
        struct ike_ts_payload ts;
        struct ike_cp cp;
        struct ike_delete del;
        struct ike_sk sk;
        struct ike_skf skf;
    } u;

    switch (p->type) {
    case IKE_P_SA:
        return ike_sa_payload_validate(p, err);
    case IKE_P_KE:
        return ike_payload_parse_ke(p, &u.ke, err);
    case IKE_P_IDI:
    case IKE_P_IDR:
        return ike_payload_parse_id(p, &u.id, err);
    case IKE_P_CERT:
    case IKE_P_CERTREQ:
        return ike_payload_parse_cert(p, &u.cert, err);
    case IKE_P_AUTH:
        return ike_payload_parse_auth(p, &u.auth, err);
    case IKE_P_NONCE:
        return ike_payload_parse_nonce(p, &u.nonce, err);
    case IKE_P_NOTIFY:
        return ike_payload_parse_notify(p, &u.notify, err);
    case IKE_P_DELETE:
        return ike_payload_parse_delete(p, &u.del, err);
    case IKE_P_TSI:
    case IKE_P_TSR:
        return ike_payload_parse_ts(p, &u.ts, err);
    case IKE_P_CP:
        return ike_payload_parse_cp(p, &u.cp, err);
    case IKE_P_SK:
        return ike_payload_parse_sk(p, &u.sk, err);
    case IKE_P_SKF:
        return ike_payload_parse_skf(p, &u.skf, err);
    case IKE_P_EAP:
        /* TODO: the EAP Length field is not compared with the payload, so
         * a mismatch is found only by the EAP code that reads it. */
        if (p->body_len < EAP_FIXED_LEN)
            return reject(p, err, IKE_E_BODY_TRUNCATED, 0);
        return 0;
    default:
        /* Vendor ID and unknown types are opaque. */
        return 0;
    }
}

void
ike_payload_build_raw(struct ike_writer *w, uint8_t type, int critical,
    const uint8_t *body, size_t len)
{
    ike_msg_payload_begin(w, type, critical);
    ike_writer_bytes(w, body, len);
    ike_msg_payload_end(w);
}

void
ike_payload_build_ke(struct ike_writer *w, uint16_t group,
    const uint8_t *data, size_t len)
{
    ike_msg_payload_begin(w, IKE_P_KE, 0);
    ike_writer_u16(w, group);
    ike_writer_zero(w, 2);
    ike_writer_bytes(w, data, len);
    ike_msg_payload_end(w);
}

void
ike_payload_build_nonce(struct ike_writer *w, const uint8_t *data,
    size_t len)
{
    ike_payload_build_raw(w, IKE_P_NONCE, 0, data, len);
}

void
ike_payload_build_notify(struct ike_writer *w, uint8_t proto_id,
    const uint8_t *spi, uint8_t spi_size, uint16_t type,
    const uint8_t *data, size_t len)
{
    if (spi == NULL && spi_size > 0) {
        ike_writer_fail(w, -EINVAL);
        return;
    }
    ike_msg_payload_begin(w, IKE_P_NOTIFY, 0);
    ike_writer_u8(w, proto_id);
    ike_writer_u8(w, spi_size);
    ike_writer_u16(w, type);
    ike_writer_bytes(w, spi, spi_size);
    ike_writer_bytes(w, data, len);
    ike_msg_payload_end(w);
}

void
ike_payload_build_id(struct ike_writer *w, uint8_t payload_type,
    uint8_t id_type, const uint8_t *data, size_t len)
{
    ike_msg_payload_begin(w, payload_type, 0);
    ike_writer_u8(w, id_type);
    ike_writer_zero(w, 3);
    ike_writer_bytes(w, data, len);
    ike_msg_payload_end(w);
}

void
ike_payload_build_auth(struct ike_writer *w, uint8_t method,
    const uint8_t *data, size_t len)
{
    ike_msg_payload_begin(w, IKE_P_AUTH, 0);
    ike_writer_u8(w, method);
    ike_writer_zero(w, 3);
    ike_writer_bytes(w, data, len);
    ike_msg_payload_end(w);
}

void
ike_payload_build_cert(struct ike_writer *w, uint8_t payload_type,
    uint8_t encoding, const uint8_t *data, size_t len)
{
    ike_msg_payload_begin(w, payload_type, 0);
    ike_writer_u8(w, encoding);
    ike_writer_bytes(w, data, len);
    ike_msg_payload_end(w);
}

/* Writes one selector of ike_payload_build_ts(). */
static void
build_one_ts(struct ike_writer *w, const struct ike_ts *ts)
{
    size_t want = 0;

    if (ts->type == IKE_TS_IPV4_ADDR_RANGE)
        want = 4;
    else if (ts->type == IKE_TS_IPV6_ADDR_RANGE)
        want = 16;
    if (want == 0) {
        if (ts->data_len > PAYLOAD_MAX_LEN - TS_HDR_LEN) {
            ike_writer_fail(w, -EMSGSIZE);
            return;
        }
        ike_writer_u8(w, ts->type);
        ike_writer_u8(w, ts->ip_proto);
        ike_writer_u16(w, (uint16_t)(TS_HDR_LEN + ts->data_len));
        ike_writer_bytes(w, ts->data, ts->data_len);
        return;
    }
    if (ts->addr_len != want || ts->start_addr == NULL ||
        ts->end_addr == NULL) {
        ike_writer_fail(w, -EINVAL);
        return;
    }
    ike_writer_u8(w, ts->type);
    ike_writer_u8(w, ts->ip_proto);
    ike_writer_u16(w, (uint16_t)(8 + 2 * want));
    ike_writer_u16(w, ts->start_port);
    ike_writer_u16(w, ts->end_port);
    ike_writer_bytes(w, ts->start_addr, want);
    ike_writer_bytes(w, ts->end_addr, want);
}

void
ike_payload_build_ts(struct ike_writer *w, uint8_t payload_type,
    const struct ike_ts *ts, size_t n)
{
    if (n > UINT8_MAX) {
        ike_writer_fail(w, -EINVAL);
        return;
    }
    ike_msg_payload_begin(w, payload_type, 0);
    ike_writer_u8(w, (uint8_t)n);
    ike_writer_zero(w, 3);
    for (size_t i = 0; i < n; i++)
        build_one_ts(w, &ts[i]);
    ike_msg_payload_end(w);
}

void
ike_payload_build_cp(struct ike_writer *w, uint8_t cfg_type,
    const struct ike_cp_attr *attrs, size_t n)
{
    ike_msg_payload_begin(w, IKE_P_CP, 0);
    ike_writer_u8(w, cfg_type);
    ike_writer_zero(w, 3);
    for (size_t i = 0; i < n; i++) {
        if (attrs[i].type > 0x7fff) {
            ike_writer_fail(w, -EINVAL);
            return;
        }
        if (attrs[i].len > PAYLOAD_MAX_LEN) {
            ike_writer_fail(w, -EMSGSIZE);
            return;
        }
        ike_writer_u16(w, attrs[i].type);
        ike_writer_u16(w, (uint16_t)attrs[i].len);
        ike_writer_bytes(w, attrs[i].value, attrs[i].len);
    }
    ike_msg_payload_end(w);
}

void
ike_payload_build_delete(struct ike_writer *w, uint8_t proto_id,
    uint8_t spi_size, const uint8_t *spis, uint16_t n_spi)
{
    size_t len = (size_t)spi_size * n_spi;

    if (spis == NULL && len > 0) {
        ike_writer_fail(w, -EINVAL);
        return;
    }
    ike_msg_payload_begin(w, IKE_P_DELETE, 0);
    ike_writer_u8(w, proto_id);
    ike_writer_u8(w, spi_size);
    ike_writer_u16(w, n_spi);
    ike_writer_bytes(w, spis, len);
    ike_msg_payload_end(w);
}

void
ike_payload_build_vendor(struct ike_writer *w, const uint8_t *data,
    size_t len)
{
    ike_payload_build_raw(w, IKE_P_VENDOR, 0, data, len);
}

void
ike_payload_build_sk(struct ike_writer *w, uint8_t first_inner,
    const uint8_t *data, size_t len)
{
    ike_msg_sk_begin(w, first_inner);
    ike_writer_bytes(w, data, len);
    ike_msg_payload_end(w);
}

void
ike_payload_build_skf(struct ike_writer *w, uint8_t first_inner,
    uint16_t fragment, uint16_t total, const uint8_t *data, size_t len)
{
    ike_msg_skf_begin(w, first_inner, fragment, total);
    ike_writer_bytes(w, data, len);
    ike_msg_payload_end(w);
}
