/*
 * JSON rendering of IKEv2 payloads for ikeshift-dump.  Names follow
 * RFC 7296 and the IANA IKEv2 registry.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dump_json.h"
#include "ike_const.h"
#include "ike_redirect.h"
#include "ike_sa_payload.h"

static json_t *
json_hex(const uint8_t *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *text = malloc(2 * len + 1);
    json_t *out;

    if (text == NULL)
        return json_null();
    for (size_t i = 0; i < len; i++) {
        text[2 * i] = digits[data[i] >> 4];
        text[2 * i + 1] = digits[data[i] & 0x0f];
    }
    text[2 * len] = '\0';
    out = json_string(text);
    free(text);
    return out;
}

/* Sets obj[key] to the octets as text when all are printable ASCII, or
 * else obj[key "_hex"] to their hex, so the two forms never look alike. */
static void
set_text_or_hex(json_t *obj, const char *key, const uint8_t *data,
    size_t len)
{
    char hex_key[32];

    for (size_t i = 0; i < len; i++) {
        if (data[i] < 0x20 || data[i] > 0x7e) {
            snprintf(hex_key, sizeof(hex_key), "%s_hex", key);
            json_object_set_new(obj, hex_key, json_hex(data, len));
            return;
        }
    }
    json_object_set_new(obj, key, json_stringn((const char *)data, len));
}

static json_t *
json_addr(const uint8_t *addr, size_t len)
{
    char text[INET6_ADDRSTRLEN];

    if (len == 4 && inet_ntop(AF_INET, addr, text, sizeof(text)) != NULL)
        return json_string(text);
    if (len == 16 && inet_ntop(AF_INET6, addr, text, sizeof(text)) != NULL)
        return json_string(text);
    return json_hex(addr, len);
}

static const char *
protocol_name(uint8_t proto)
{
    switch (proto) {
    case 0:                 return "none";
    case IKE_PROTO_IKE:     return "IKE";
    case IKE_PROTO_AH:      return "AH";
    case IKE_PROTO_ESP:     return "ESP";
    default:                return "unknown";
    }
}

static const char *
transform_type_name(uint8_t type)
{
    switch (type) {
    case IKE_T_ENCR:        return "ENCR";
    case IKE_T_PRF:         return "PRF";
    case IKE_T_INTEG:       return "INTEG";
    case IKE_T_DH:          return "D-H";
    case IKE_T_ESN:         return "ESN";
    default:                return "unknown";
    }
}

static const char *
transform_id_name(uint8_t type, uint16_t id)
{
    switch (type) {
    case IKE_T_ENCR:
        switch (id) {
        case IKE_ENCR_AES_CBC:      return "ENCR_AES_CBC";
        case IKE_ENCR_AES_GCM_8:    return "ENCR_AES_GCM_8";
        case IKE_ENCR_AES_GCM_12:   return "ENCR_AES_GCM_12";
        case IKE_ENCR_AES_GCM_16:   return "ENCR_AES_GCM_16";
        case IKE_ENCR_CHACHA20_POLY1305: return "ENCR_CHACHA20_POLY1305";
        }
        break;
    case IKE_T_PRF:
        switch (id) {
        case IKE_PRF_HMAC_SHA1:     return "PRF_HMAC_SHA1";
        case IKE_PRF_HMAC_SHA2_256: return "PRF_HMAC_SHA2_256";
        case IKE_PRF_HMAC_SHA2_384: return "PRF_HMAC_SHA2_384";
        case IKE_PRF_HMAC_SHA2_512: return "PRF_HMAC_SHA2_512";
        }
        break;
    case IKE_T_INTEG:
        switch (id) {
        case IKE_INTEG_NONE:        return "NONE";
        case IKE_INTEG_HMAC_SHA1_96: return "AUTH_HMAC_SHA1_96";
        case IKE_INTEG_HMAC_SHA2_256_128: return "AUTH_HMAC_SHA2_256_128";
        case IKE_INTEG_HMAC_SHA2_384_192: return "AUTH_HMAC_SHA2_384_192";
        case IKE_INTEG_HMAC_SHA2_512_256: return "AUTH_HMAC_SHA2_512_256";
        }
        break;
    case IKE_T_DH:
        switch (id) {
        case IKE_DH_MODP_2048:      return "MODP_2048";
        case IKE_DH_ECP_256:        return "ECP_256";
        case IKE_DH_ECP_384:        return "ECP_384";
        case IKE_DH_ECP_521:        return "ECP_521";
        case IKE_DH_CURVE25519:     return "CURVE25519";
        case IKE_DH_CURVE448:       return "CURVE448";
        }
        break;
    case IKE_T_ESN:
        return id == IKE_ESN_YES ? "ESN" : id == IKE_ESN_NO ? "NO_ESN" : NULL;
    }
    return NULL;
}

static const char *
id_type_name(uint8_t type)
{
    switch (type) {
    case IKE_ID_IPV4_ADDR:      return "ID_IPV4_ADDR";
    case IKE_ID_FQDN:           return "ID_FQDN";
    case IKE_ID_RFC822_ADDR:    return "ID_RFC822_ADDR";
    case IKE_ID_IPV6_ADDR:      return "ID_IPV6_ADDR";
    case IKE_ID_DER_ASN1_DN:    return "ID_DER_ASN1_DN";
    case IKE_ID_DER_ASN1_GN:    return "ID_DER_ASN1_GN";
    case IKE_ID_KEY_ID:         return "ID_KEY_ID";
    default:                    return "unknown";
    }
}

static const char *
gw_type_name(uint8_t type)
{
    switch (type) {
    case IKE_GW_IPV4:   return "ipv4";
    case IKE_GW_IPV6:   return "ipv6";
    case IKE_GW_FQDN:   return "fqdn";
    default:            return "unknown";
    }
}

static const char *
cfg_type_name(uint8_t type)
{
    switch (type) {
    case IKE_CFG_REQUEST:   return "CFG_REQUEST";
    case IKE_CFG_REPLY:     return "CFG_REPLY";
    case IKE_CFG_SET:       return "CFG_SET";
    case IKE_CFG_ACK:       return "CFG_ACK";
    default:                return "unknown";
    }
}

/* Sets obj[key] to `name`, or to "unknown" for a number without one. */
static void
set_name(json_t *obj, const char *key, const char *name)
{
    json_object_set_new(obj, key, json_string(name != NULL ? name :
        "unknown"));
}

static int
dump_sa(json_t *obj, const struct ike_payload *p, struct ike_parse_error *err)
{
    json_t *props = json_array();
    struct ike_proposal prop;
    size_t cursor = 0;
    int ret;

    json_object_set_new(obj, "proposals", props);
    while ((ret = ike_sa_payload_next_proposal(p, &cursor, &prop, err)) > 0) {
        json_t *jp = json_object();
        json_t *xfs = json_array();
        struct ike_transform xf;
        size_t xcur = 0;

        json_object_set_new(jp, "number", json_integer(prop.num));
        json_object_set_new(jp, "protocol",
            json_string(protocol_name(prop.proto_id)));
        if (prop.spi_size > 0)
            json_object_set_new(jp, "spi", json_hex(prop.spi, prop.spi_size));
        while ((ret = ike_sa_payload_next_transform(&prop, &xcur, &xf,
            err)) > 0) {
            json_t *jx = json_object();

            json_object_set_new(jx, "type",
                json_string(transform_type_name(xf.type)));
            set_name(jx, "id", transform_id_name(xf.type, xf.id));
            json_object_set_new(jx, "id_number", json_integer(xf.id));
            if (xf.has_key_length)
                json_object_set_new(jx, "key_length",
                    json_integer(xf.key_length));
            json_array_append_new(xfs, jx);
        }
        json_object_set_new(jp, "transforms", xfs);
        json_array_append_new(props, jp);
        if (ret < 0)
            return ret;
    }
    return ret;
}

static int
dump_redirect(json_t *obj, const struct ike_notify *n,
    const struct ike_header *hdr, struct ike_parse_error *err)
{
    struct ike_redirect_gw gw;
    struct ike_redirect rd;
    json_t *jgw = json_object();
    int ret;

    if (n->type == IKE_N_REDIRECTED_FROM) {
        ret = ike_redirect_parse_from(n, &gw, err);
    } else {
        enum ike_redirect_context ctx =
            hdr->exchange == IKE_X_SA_INIT &&
            (hdr->flags & IKE_FLAG_RESPONSE) != 0 ?
            IKE_REDIRECT_CTX_INIT_RESPONSE : IKE_REDIRECT_CTX_PROTECTED;

        ret = ike_redirect_parse(n, ctx, &rd, err);
        gw = rd.gw;
    }
    if (ret < 0) {
        json_decref(jgw);
        return ret;
    }
    json_object_set_new(jgw, "type", json_string(gw_type_name(gw.type)));
    json_object_set_new(jgw, "type_number", json_integer(gw.type));
    if (gw.type == IKE_GW_FQDN)
        set_text_or_hex(jgw, "identity", gw.value, gw.len);
    else
        json_object_set_new(jgw, "identity", json_addr(gw.value, gw.len));
    json_object_set_new(obj, "gateway", jgw);
    if (n->type == IKE_N_REDIRECT && rd.nonce != NULL)
        json_object_set_new(obj, "nonce", json_hex(rd.nonce, rd.nonce_len));
    return 0;
}

static int
dump_notify(json_t *obj, const struct ike_payload *p,
    const struct ike_header *hdr, struct ike_parse_error *err)
{
    struct ike_notify n;
    int ret;

    if ((ret = ike_payload_parse_notify(p, &n, err)) < 0)
        return ret;
    set_name(obj, "notify", ike_notify_type_name(n.type));
    json_object_set_new(obj, "notify_type", json_integer(n.type));
    json_object_set_new(obj, "protocol", json_string(protocol_name(n.proto_id)));
    if (n.spi_size > 0)
        json_object_set_new(obj, "spi", json_hex(n.spi, n.spi_size));
    if (n.data_len > 0)
        json_object_set_new(obj, "data", json_hex(n.data, n.data_len));
    if (n.type == IKE_N_REDIRECT || n.type == IKE_N_REDIRECTED_FROM)
        return dump_redirect(obj, &n, hdr, err);
    if (n.type == IKE_N_REDIRECT_SUPPORTED)
        return ike_redirect_parse_supported(&n, err);
    return 0;
}

static int
dump_ts(json_t *obj, const struct ike_payload *p, struct ike_parse_error *err)
{
    struct ike_ts_payload tsp;
    struct ike_ts ts;
    json_t *list = json_array();
    size_t cursor = 0;
    int ret;

    json_object_set_new(obj, "selectors", list);
    if ((ret = ike_payload_parse_ts(p, &tsp, err)) < 0)
        return ret;
    while ((ret = ike_payload_next_ts(&tsp, &cursor, &ts, err)) > 0) {
        json_t *js = json_object();

        json_object_set_new(js, "ts_type", json_integer(ts.type));
        json_object_set_new(js, "ip_protocol", json_integer(ts.ip_proto));
        json_object_set_new(js, "start_port", json_integer(ts.start_port));
        json_object_set_new(js, "end_port", json_integer(ts.end_port));
        if (ts.addr_len > 0) {
            json_object_set_new(js, "start_address",
                json_addr(ts.start_addr, ts.addr_len));
            json_object_set_new(js, "end_address",
                json_addr(ts.end_addr, ts.addr_len));
        }
        json_array_append_new(list, js);
    }
    return ret;
}

static int
dump_cp(json_t *obj, const struct ike_payload *p, struct ike_parse_error *err)
{
    struct ike_cp cp;
    struct ike_cp_attr attr;
    json_t *list = json_array();
    size_t cursor = 0;
    int ret;

    json_object_set_new(obj, "attributes", list);
    if ((ret = ike_payload_parse_cp(p, &cp, err)) < 0)
        return ret;
    json_object_set_new(obj, "cfg_type", json_string(cfg_type_name(cp.cfg_type)));
    while ((ret = ike_payload_next_cp_attr(&cp, &cursor, &attr, err)) > 0) {
        json_t *ja = json_object();

        json_object_set_new(ja, "type", json_integer(attr.type));
        if (attr.len > 0)
            json_object_set_new(ja, "value", json_hex(attr.value, attr.len));
        json_array_append_new(list, ja);
    }
    return ret;
}

/* Decodes the body of one payload into obj. */
static int
dump_body(json_t *obj, const struct ike_payload *p,
    const struct ike_header *hdr, struct ike_parse_error *err)
{
    struct ike_ke_payload ke;
    struct ike_nonce nonce;
    struct ike_id id;
    struct ike_auth auth;
    struct ike_delete del;
    struct ike_sk sk;
    struct ike_skf skf;
    int ret = 0;

    switch (p->type) {
    case IKE_P_SA:
        return dump_sa(obj, p, err);
    case IKE_P_KE:
        if ((ret = ike_payload_parse_ke(p, &ke, err)) < 0)
            return ret;
        set_name(obj, "group", transform_id_name(IKE_T_DH, ke.group));
        json_object_set_new(obj, "group_number", json_integer(ke.group));
        json_object_set_new(obj, "data", json_hex(ke.data, ke.len));
        break;
    case IKE_P_NONCE:
        if ((ret = ike_payload_parse_nonce(p, &nonce, err)) < 0)
            return ret;
        json_object_set_new(obj, "data", json_hex(nonce.data, nonce.len));
        break;
    case IKE_P_NOTIFY:
        return dump_notify(obj, p, hdr, err);
    case IKE_P_IDI:
    case IKE_P_IDR:
        if ((ret = ike_payload_parse_id(p, &id, err)) < 0)
            return ret;
        json_object_set_new(obj, "id_type", json_string(id_type_name(id.id_type)));
        if (id.id_type == IKE_ID_IPV4_ADDR || id.id_type == IKE_ID_IPV6_ADDR)
            json_object_set_new(obj, "id", json_addr(id.data, id.len));
        else
            set_text_or_hex(obj, "id", id.data, id.len);
        break;
    case IKE_P_AUTH:
        if ((ret = ike_payload_parse_auth(p, &auth, err)) < 0)
            return ret;
        json_object_set_new(obj, "method", json_integer(auth.method));
        json_object_set_new(obj, "data", json_hex(auth.data, auth.len));
        break;
    case IKE_P_TSI:
    case IKE_P_TSR:
        return dump_ts(obj, p, err);
    case IKE_P_CP:
        return dump_cp(obj, p, err);
    case IKE_P_DELETE:
        if ((ret = ike_payload_parse_delete(p, &del, err)) < 0)
            return ret;
        json_object_set_new(obj, "protocol", json_string(protocol_name(del.proto_id)));
        json_object_set_new(obj, "spis", json_hex(del.spis,
            (size_t)del.n_spi * del.spi_size));
        break;
    case IKE_P_VENDOR:
        json_object_set_new(obj, "data", json_hex(p->body, p->body_len));
        break;
    case IKE_P_SK:
        if ((ret = ike_payload_parse_sk(p, &sk, err)) < 0)
            return ret;
        set_name(obj, "first_inner", ike_payload_type_name(sk.first_inner));
        break;
    case IKE_P_SKF:
        if ((ret = ike_payload_parse_skf(p, &skf, err)) < 0)
            return ret;
        json_object_set_new(obj, "fragment", json_integer(skf.fragment));
        json_object_set_new(obj, "total", json_integer(skf.total));
        break;
    default:
        if ((ret = ike_payload_validate(p, err)) < 0)
            return ret;
        break;
    }
    return 0;
}

json_t *
dump_json_header(const struct ike_header *hdr)
{
    json_t *obj = json_object();
    json_t *flags = json_object();
    char version[8];

    snprintf(version, sizeof(version), "%u.%u", hdr->version >> 4,
        hdr->version & 0x0f);
    json_object_set_new(obj, "spi_i", json_hex(hdr->spi_i, IKE_SPI_LEN));
    json_object_set_new(obj, "spi_r", json_hex(hdr->spi_r, IKE_SPI_LEN));
    json_object_set_new(obj, "version", json_string(version));
    set_name(obj, "exchange", ike_msg_exchange_name(hdr->exchange));
    json_object_set_new(obj, "exchange_type", json_integer(hdr->exchange));
    json_object_set_new(flags, "initiator",
        json_boolean(hdr->flags & IKE_FLAG_INITIATOR));
    json_object_set_new(flags, "response",
        json_boolean(hdr->flags & IKE_FLAG_RESPONSE));
    json_object_set_new(flags, "version",
        json_boolean(hdr->flags & IKE_FLAG_VERSION));
    json_object_set_new(obj, "flags", flags);
    json_object_set_new(obj, "flags_value", json_integer(hdr->flags));
    json_object_set_new(obj, "message_id", json_integer(hdr->msg_id));
    json_object_set_new(obj, "length", json_integer(hdr->length));
    return obj;
}

int
dump_json_chain(json_t *array, const struct ike_chain *chain,
    const struct ike_header *hdr, size_t base, struct ike_parse_error *err)
{
    for (size_t i = 0; i < chain->count; i++) {
        const struct ike_payload *p = &chain->payloads[i];
        json_t *obj = json_object();
        const char *name = ike_payload_type_name(p->type);

        json_object_set_new(obj, "type", json_string(name != NULL ? name :
            "unknown"));
        json_object_set_new(obj, "type_number", json_integer(p->type));
        json_object_set_new(obj, "critical", json_boolean(p->critical));
        json_object_set_new(obj, "length",
            json_integer((json_int_t)p->body_len + IKE_PAYLOAD_HDR_LEN));
        json_object_set_new(obj, "offset", json_integer((json_int_t)(base +
            p->offset)));
        json_array_append_new(array, obj);
        if (dump_body(obj, p, hdr, err) < 0) {
            err->offset += base;
            return -1;
        }
    }
    return 0;
}
