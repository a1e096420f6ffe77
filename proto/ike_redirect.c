/*
 * RFC 5685 redirect notifies, documented in ike_redirect.h.
 */
#include "ike_redirect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "ike_const.h"
#include "ike_msg.h"

#define GW_HDR_LEN          2       /* GW Ident Type, GW Ident Len */
#define GW_IPV4_LEN         4
#define GW_IPV6_LEN         16

static int
redirect_reject(struct ike_parse_error *err, int code, size_t off)
{
    ike_error_set(err, code, off, IKE_P_NOTIFY);
    return -EBADMSG;
}

static int
is_host_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-';
}

int
ike_redirect_check_fqdn(const uint8_t *name, size_t len,
    struct ike_parse_error *err)
{
    if (len == 0) {
        ike_error_set(err, IKE_E_REDIRECT_FQDN_EMPTY, 0, IKE_P_NOTIFY);
        return -EINVAL;
    }

    size_t label = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && name[i] != '.') {
            if (!is_host_char(name[i])) {
                ike_error_set(err, IKE_E_REDIRECT_FQDN_CHAR, i, IKE_P_NOTIFY);
                return -EINVAL;
            }
            continue;
        }

        /* RFC 1123 2.1: a label has 1 to 63 characters and neither starts
         * nor ends with a hyphen. */
        size_t n = i - label;

        if (n == 0 || n > IKE_REDIRECT_FQDN_LABEL_MAX ||
            name[label] == '-' || name[i - 1] == '-') {
            ike_error_set(err, IKE_E_REDIRECT_FQDN_LABEL, label,
                IKE_P_NOTIFY);
            return -EINVAL;
        }
        label = i + 1;
    }
    return 0;
}

/*
 * Checks len against what RFC 5685 9.2 allows for type.  Returns 0 or the
 * IKE_E_ code of the fault.
 */
static int
gw_len_code(uint8_t type, size_t len)
{
    switch (type) {
    case IKE_GW_IPV4:
        return len == GW_IPV4_LEN ? 0 : IKE_E_REDIRECT_IPV4_LEN;
    case IKE_GW_IPV6:
        return len == GW_IPV6_LEN ? 0 : IKE_E_REDIRECT_IPV6_LEN;
    case IKE_GW_FQDN:
        return len > 0 && len <= UINT8_MAX ? 0 : IKE_E_REDIRECT_FQDN_EMPTY;
    default:
        return IKE_E_REDIRECT_GW_TYPE_UNKNOWN;
    }
}

int
ike_redirect_check_gw(const struct ike_redirect_gw *gw,
    struct ike_parse_error *err)
{
    int code = gw_len_code(gw->type, gw->len);

    if (code != 0) {
        ike_error_set(err, code, 0, IKE_P_NOTIFY);
        return -EINVAL;
    }
    if (gw->value == NULL) {
        ike_error_set(err, IKE_E_REDIRECT_TRUNCATED, 0, IKE_P_NOTIFY);
        return -EINVAL;
    }
    if (gw->type == IKE_GW_FQDN)
        return ike_redirect_check_fqdn(gw->value, gw->len, err);
    return 0;
}

/* Checks the header fields every redirect notify shares (RFC 5685 9). */
static int
check_notify(const struct ike_notify *n, uint16_t type,
    struct ike_parse_error *err)
{
    size_t body = n->offset + IKE_PAYLOAD_HDR_LEN;

    if (n->type != type) {
        ike_error_set(err, IKE_E_REDIRECT_NOTIFY_TYPE, body + 2,
            IKE_P_NOTIFY);
        return -EINVAL;
    }
    if (n->proto_id != 0)
        return redirect_reject(err, IKE_E_REDIRECT_PROTO_ID, body);
    if (n->spi_size != 0)
        return redirect_reject(err, IKE_E_REDIRECT_SPI_SIZE, body + 1);
    return 0;
}

/*
 * Decodes the gateway identity at the start of n's data and stores in *end
 * the data index just past it.
 */
static int
parse_gw(const struct ike_notify *n, struct ike_redirect_gw *gw,
    size_t *end, struct ike_parse_error *err)
{
    const uint8_t *d = n->data;
    size_t off = n->data_offset;

    if (n->data_len < GW_HDR_LEN)
        return redirect_reject(err, IKE_E_REDIRECT_TRUNCATED, off);

    uint8_t type = d[0];
    uint8_t len = d[1];
    int code = gw_len_code(type, len);

    if (code == IKE_E_REDIRECT_GW_TYPE_UNKNOWN)
        return redirect_reject(err, code, off);
    if (code != 0)
        return redirect_reject(err, code, off + 1);
    if (len > n->data_len - GW_HDR_LEN)
        return redirect_reject(err, IKE_E_REDIRECT_GW_LEN_BEYOND_DATA,
            off + 1);
    if (type == IKE_GW_FQDN &&
        ike_redirect_check_fqdn(d + GW_HDR_LEN, len, err) < 0) {
        err->offset += off + GW_HDR_LEN;
        return -EBADMSG;
    }
    gw->type = type;
    gw->value = d + GW_HDR_LEN;
    gw->len = len;
    *end = GW_HDR_LEN + (size_t)len;
    return 0;
}

int
ike_redirect_parse(const struct ike_notify *n, enum ike_redirect_context ctx,
    struct ike_redirect *out, struct ike_parse_error *err)
{
    struct ike_parse_error scratch;
    size_t end;
    int ret;

    /* parse_gw adjusts err->offset, so it always needs an error record. */
    if (err == NULL)
        err = &scratch;
    if ((ret = check_notify(n, IKE_N_REDIRECT, err)) < 0)
        return ret;
    if ((ret = parse_gw(n, &out->gw, &end, err)) < 0)
        return ret;

    size_t rest = n->data_len - end;
    size_t off = n->data_offset + end;

    out->nonce = NULL;
    out->nonce_len = 0;
    if (ctx != IKE_REDIRECT_CTX_INIT_RESPONSE) {
        if (rest != 0)
            return redirect_reject(err, IKE_E_REDIRECT_TRAILING_OCTETS, off);
        return 0;
    }
    /* RFC 5685 9.2: the nonce is Ni, so RFC 7296 3.9's limits apply. */
    if (rest == 0)
        return redirect_reject(err, IKE_E_REDIRECT_NONCE_MISSING, off);
    if (rest < IKE_NONCE_MIN_LEN)
        return redirect_reject(err, IKE_E_NONCE_TOO_SHORT, off);
    if (rest > IKE_NONCE_MAX_LEN)
        return redirect_reject(err, IKE_E_NONCE_TOO_LONG, off);
    out->nonce = n->data + end;
    out->nonce_len = rest;
    return 0;
}

int
ike_redirect_parse_from(const struct ike_notify *n,
    struct ike_redirect_gw *gw, struct ike_parse_error *err)
{
    struct ike_parse_error scratch;
    size_t end;
    int ret;

    if (err == NULL)
        err = &scratch;
    if ((ret = check_notify(n, IKE_N_REDIRECTED_FROM, err)) < 0)
        return ret;
    if ((ret = parse_gw(n, gw, &end, err)) < 0)
        return ret;
    if (end != n->data_len)
        return redirect_reject(err, IKE_E_REDIRECT_TRAILING_OCTETS,
            n->data_offset + end);
    return 0;
}

int
ike_redirect_parse_supported(const struct ike_notify *n,
    struct ike_parse_error *err)
{
    int ret;

    if ((ret = check_notify(n, IKE_N_REDIRECT_SUPPORTED, err)) < 0)
        return ret;
    if (n->data_len != 0)
        return redirect_reject(err, IKE_E_REDIRECT_TRAILING_OCTETS,
            n->data_offset);
    return 0;
}

int
ike_redirect_gw_from_text(struct ike_redirect_gw *gw, const char *text,
    uint8_t storage[16])
{
    if (inet_pton(AF_INET, text, storage) == 1) {
        gw->type = IKE_GW_IPV4;
        gw->value = storage;
        gw->len = GW_IPV4_LEN;
        return 0;
    }
    if (inet_pton(AF_INET6, text, storage) == 1) {
        gw->type = IKE_GW_IPV6;
        gw->value = storage;
        gw->len = GW_IPV6_LEN;
        return 0;
    }

    size_t len = strlen(text);

    if (len > UINT8_MAX ||
        ike_redirect_check_fqdn((const uint8_t *)text, len, NULL) < 0)
        return -EINVAL;
    gw->type = IKE_GW_FQDN;
    gw->value = (const uint8_t *)text;
    gw->len = len;
    return 0;
}

int
ike_redirect_gw_to_text(const struct ike_redirect_gw *gw, char *out,
    size_t cap)
{
    if (ike_redirect_check_gw(gw, NULL) < 0)
        return -EINVAL;
    if (gw->type == IKE_GW_FQDN) {
        if (cap <= gw->len)
            return -ENOSPC;
        memcpy(out, gw->value, gw->len);
        out[gw->len] = '\0';
        return 0;
    }

    int af = gw->type == IKE_GW_IPV4 ? AF_INET : AF_INET6;

    if (cap > UINT32_MAX)
        cap = UINT32_MAX;
    if (inet_ntop(af, gw->value, out, (socklen_t)cap) == NULL)
        return -ENOSPC;
    return 0;
}

/* Writes the three fields of a gateway identity. */
static void
build_gw(struct ike_writer *w, const struct ike_redirect_gw *gw)
{
    ike_writer_u8(w, gw->type);
    ike_writer_u8(w, (uint8_t)gw->len);
    ike_writer_bytes(w, gw->value, gw->len);
}

void
ike_redirect_build_supported(struct ike_writer *w)
{
    ike_payload_build_notify(w, 0, NULL, 0, IKE_N_REDIRECT_SUPPORTED, NULL,
        0);
}

void
ike_redirect_build(struct ike_writer *w, const struct ike_redirect_gw *gw,
    const uint8_t *nonce, size_t nonce_len)
{
    if (ike_redirect_check_gw(gw, NULL) < 0 ||
        (nonce == NULL && nonce_len > 0)) {
        ike_writer_fail(w, -EINVAL);
        return;
    }
    ike_msg_payload_begin(w, IKE_P_NOTIFY, 0);
    ike_writer_u8(w, 0);
    ike_writer_u8(w, 0);
    ike_writer_u16(w, IKE_N_REDIRECT);
    build_gw(w, gw);
    ike_writer_bytes(w, nonce, nonce_len);
    ike_msg_payload_end(w);
}

void
ike_redirect_build_from(struct ike_writer *w,
    const struct ike_redirect_gw *gw)
{
    if (ike_redirect_check_gw(gw, NULL) < 0) {
        ike_writer_fail(w, -EINVAL);
        return;
    }
    ike_msg_payload_begin(w, IKE_P_NOTIFY, 0);
    ike_writer_u8(w, 0);
    ike_writer_u8(w, 0);
    ike_writer_u16(w, IKE_N_REDIRECTED_FROM);
    build_gw(w, gw);
    ike_msg_payload_end(w);
}
