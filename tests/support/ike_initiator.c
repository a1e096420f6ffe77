/*
 * The test IKEv2 initiator: message builders, response handlers and the
 * step API of ike_initiator.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ike_auth.h"
#include "ike_const.h"
#include "ike_initiator.h"
#include "ike_ke.h"
#include "ike_keys.h"
#include "ike_msg.h"
#include "ike_natd.h"
#include "ike_payload.h"
#include "ike_redirect.h"
#include "ike_sa_payload.h"
#include "ike_sk.h"

#define NONCE_DEFAULT_LEN       32
#define ESP_SPI_LEN             4
#define COOKIE_MAX_LEN          255
/* Payload types 55 to 127 are unassigned (IANA IKEv2 payload types). */
#define UNKNOWN_PAYLOAD_TYPE    100
#define HDR_OFF_SPI_R           8
#define HDR_OFF_NEXT            16
#define HDR_OFF_LENGTH          24

enum ini_state {
    ST_IDLE,
    ST_INIT_SENT,
    ST_AUTH_SENT,
    ST_ESTABLISHED,
    ST_CLOSED,
};

/* The request that is outstanding, if any. */
enum ini_request {
    REQ_NONE,
    REQ_INIT,
    REQ_AUTH,
    REQ_DELETE,
    REQ_LIVENESS,
    REQ_REKEY_CHILD,
    REQ_REKEY_IKE,
    REQ_DELETE_CHILD,
    REQ_DELETE_OLD_IKE,
};

/* One IKE SA as the initiator sees it. */
struct ini_sa {
    uint8_t spi_i[IKE_SPI_LEN];
    uint8_t spi_r[IKE_SPI_LEN];
    struct ike_sa_keys keys;
    bool have_keys;
    uint32_t next_mid;          /* Message ID of our next request */
    uint32_t peer_mid;          /* Message ID of the peer's next request */
    uint8_t resp[IKE_INITIATOR_MSG_MAX];    /* last response sent to the peer */
    size_t resp_len;
};

struct ike_initiator {
    struct ike_initiator_config cfg;
    enum ini_state state;
    struct ini_sa sa;
    struct ini_sa old;          /* replaced IKE SA until its DELETE is done */
    bool old_live;

    uint8_t ni[IKE_NONCE_MAX_LEN];
    size_t ni_len;
    uint8_t nr[IKE_NONCE_MAX_LEN];
    size_t nr_len;
    struct ike_ke *ke;
    uint16_t group;
    uint8_t cookie[COOKIE_MAX_LEN];
    size_t cookie_len;
    uint8_t init_req[IKE_INITIATOR_MSG_MAX];    /* RealMessage1 */
    size_t init_req_len;
    uint8_t init_resp[IKE_INITIATOR_MSG_MAX];   /* RealMessage2 */
    size_t init_resp_len;

    enum ini_request pending;
    enum ike_initiator_event pending_event;
    uint32_t req_mid;
    uint8_t req[IKE_INITIATOR_MSG_MAX];
    size_t req_len;
    uint8_t out[IKE_INITIATOR_MSG_MAX];     /* damaged copy of a request */

    bool have_child;
    uint8_t child_spi_i[ESP_SPI_LEN];       /* our inbound SPI */
    uint8_t child_spi_r[ESP_SPI_LEN];
    struct ike_child_keys child;

    /* Values of a CREATE_CHILD_SA exchange in progress. */
    uint8_t rk_spi_i[IKE_SPI_LEN];
    uint8_t rk_child_spi[ESP_SPI_LEN];
    uint8_t old_child_spi[ESP_SPI_LEN];
    uint8_t rk_ni[IKE_NONCE_MAX_LEN];
    size_t rk_ni_len;
    struct ike_ke *rk_ke;

    uint16_t error;
    struct ike_initiator_gw target;
    bool have_target;
    char vip[INET6_ADDRSTRLEN];
    bool nat_detected;

    enum ike_initiator_fault fault;
    uint32_t fault_arg;
};

/* Per-build variations used to make damaged copies. */
struct build_opts {
    uint32_t mid;
    bool critical;
};

/* ---- small helpers ---- */

static int
random_fill(uint8_t *buf, size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

static void
sa_wipe(struct ini_sa *sa)
{
    ike_keys_wipe_sa(&sa->keys);
    sa->have_keys = false;
}

static void
out_set(struct ike_initiator_out *out, enum ike_initiator_event ev,
    const uint8_t *msg, size_t len)
{
    out->event = ev;
    out->msg = msg;
    out->len = msg != NULL ? len : 0;
}

/* Stores the raw address octets and port of ss. */
static int
addr_octets(const struct sockaddr_storage *ss, const uint8_t **addr,
    size_t *len, uint16_t *port)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

        *addr = (const uint8_t *)&sin->sin_addr;
        *len = 4;
        *port = ntohs(sin->sin_port);
        return 0;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

        *addr = (const uint8_t *)&sin6->sin6_addr;
        *len = 16;
        *port = ntohs(sin6->sin6_port);
        return 0;
    }
    return -EAFNOSUPPORT;
}

static bool
natd_enabled(const struct ike_initiator *ini)
{
    return !ini->cfg.no_natd &&
        (ini->cfg.local.ss_family == AF_INET ||
         ini->cfg.local.ss_family == AF_INET6) &&
        ini->cfg.peer.ss_family == ini->cfg.local.ss_family;
}

/* Fills the transforms of the IKE proposal; returns how many. */
static size_t
ike_transforms(const struct ike_suite *s, uint16_t group,
    struct ike_transform xf[4])
{
    size_t n = 0;

    memset(xf, 0, 4 * sizeof(*xf));
    xf[n].type = IKE_T_ENCR;
    xf[n].id = s->encr;
    xf[n].has_key_length = s->encr_bits != 0;
    xf[n].key_length = s->encr_bits;
    n++;
    if (s->integ != IKE_INTEG_NONE) {
        xf[n].type = IKE_T_INTEG;
        xf[n].id = s->integ;
        n++;
    }
    xf[n].type = IKE_T_PRF;
    xf[n].id = s->prf;
    n++;
    xf[n].type = IKE_T_DH;
    xf[n].id = group;
    n++;
    return n;
}

static size_t
esp_transforms(const struct ike_child_suite *s, struct ike_transform xf[3])
{
    size_t n = 0;

    memset(xf, 0, 3 * sizeof(*xf));
    xf[n].type = IKE_T_ENCR;
    xf[n].id = s->encr;
    xf[n].has_key_length = s->encr_bits != 0;
    xf[n].key_length = s->encr_bits;
    n++;
    if (s->integ != IKE_INTEG_NONE) {
        xf[n].type = IKE_T_INTEG;
        xf[n].id = s->integ;
        n++;
    }
    xf[n].type = IKE_T_ESN;
    xf[n].id = IKE_ESN_NO;
    n++;
    return n;
}

static void
build_ike_sa(struct ike_writer *w, const struct ike_suite *s, uint16_t group,
    const uint8_t *spi, uint8_t spi_size)
{
    struct ike_transform xf[4];
    struct ike_proposal_spec prop = {
        .num = 1, .proto_id = IKE_PROTO_IKE, .spi_size = spi_size,
        .spi = spi, .transforms = xf,
    };

    prop.n_transforms = ike_transforms(s, group, xf);
    ike_sa_payload_build(w, &prop, 1);
}

static void
build_esp_sa(struct ike_writer *w, const struct ike_child_suite *s,
    const uint8_t spi[ESP_SPI_LEN])
{
    struct ike_transform xf[3];
    struct ike_proposal_spec prop = {
        .num = 1, .proto_id = IKE_PROTO_ESP, .spi_size = ESP_SPI_LEN,
        .spi = spi, .transforms = xf,
    };

    prop.n_transforms = esp_transforms(s, xf);
    ike_sa_payload_build(w, &prop, 1);
}

/* The default traffic selector: every IPv4 address, any protocol. */
static const uint8_t ts_any_start[4] = { 0, 0, 0, 0 };
static const uint8_t ts_any_end[4] = { 255, 255, 255, 255 };

static void
build_ts_pair(struct ike_writer *w, const struct ike_initiator_config *cfg)
{
    struct ike_ts any = {
        .type = IKE_TS_IPV4_ADDR_RANGE, .start_port = 0, .end_port = 0xffff,
        .start_addr = ts_any_start, .end_addr = ts_any_end, .addr_len = 4,
    };

    ike_payload_build_ts(w, IKE_P_TSI, cfg->tsi != NULL ? cfg->tsi : &any, 1);
    ike_payload_build_ts(w, IKE_P_TSR, cfg->tsr != NULL ? cfg->tsr : &any, 1);
}

static void
build_critical(struct ike_writer *w)
{
    static const uint8_t body[4] = { 0xde, 0xad, 0xbe, 0xef };

    ike_payload_build_raw(w, UNKNOWN_PAYLOAD_TYPE, 1, body, sizeof(body));
}

/*
 * Seals plain[0..plain_len) (first inner type `first`) into a message of
 * SA `sa` in buf.  Keys follow the original roles (RFC 7296 2.14), so the
 * initiator always seals with SK_ei/SK_ai.
 */
static int
seal_message(struct ini_sa *sa, uint8_t exchange, uint8_t flags,
    uint32_t mid, const uint8_t *plain, size_t plain_len, uint8_t first,
    uint8_t *buf, size_t cap, size_t *len)
{
    struct ike_header hdr;
    struct ike_writer w;

    memset(&hdr, 0, sizeof(hdr));
    memcpy(hdr.spi_i, sa->spi_i, IKE_SPI_LEN);
    memcpy(hdr.spi_r, sa->spi_r, IKE_SPI_LEN);
    hdr.exchange = exchange;
    hdr.flags = flags;
    hdr.msg_id = mid;
    ike_writer_init(&w, buf, cap);
    ike_msg_begin(&w, &hdr);
    if (ike_writer_error(&w) != 0)
        return ike_writer_error(&w);
    buf[HDR_OFF_NEXT] = IKE_P_SK;
    return ike_sk_seal(&sa->keys, IKE_SK_FROM_INITIATOR, first, plain,
        plain_len, buf, IKE_HDR_LEN, cap, len);
}

/*
 * Opens the SK payload of msg, received on sa from the responder, and
 * parses the inner chain into *chain over plain.
 */
static int
open_message(const struct ini_sa *sa, const struct ike_msg *msg,
    uint8_t *plain, size_t plain_size, struct ike_chain *chain)
{
    const struct ike_payload *sk = ike_msg_encrypted(msg);
    size_t plain_len;
    uint8_t first;
    int ret;

    if (sk == NULL || sk->type != IKE_P_SK || !sa->have_keys)
        return -EBADMSG;
    ret = ike_sk_open(&sa->keys, IKE_SK_FROM_RESPONDER, msg->raw, msg->len,
        sk->offset, plain, plain_size, &plain_len, &first);
    if (ret < 0)
        return ret;
    return ike_chain_parse(chain, plain, plain_len, first, NULL);
}

/* Returns the first error notify type (below 16384, RFC 7296 3.10.1). */
static uint16_t
chain_error(const struct ike_chain *chain)
{
    for (size_t i = 0; i < chain->count; i++) {
        const struct ike_payload *p = &chain->payloads[i];
        struct ike_notify n;

        if (p->type != IKE_P_NOTIFY)
            continue;
        if (ike_payload_parse_notify(p, &n, NULL) < 0)
            continue;
        if (n.type != 0 && n.type < IKE_N_INITIAL_CONTACT)
            return n.type;
    }
    return 0;
}

/* ---- request builders ---- */

static void
build_natd(struct ike_initiator *ini, struct ike_writer *w)
{
    static const uint8_t zero_spi[IKE_SPI_LEN];
    uint8_t hash[IKE_NATD_HASH_LEN];
    const uint8_t *addr;
    size_t alen;
    uint16_t port;

    if (addr_octets(&ini->cfg.local, &addr, &alen, &port) < 0 ||
        ike_natd_hash(hash, ini->sa.spi_i, zero_spi, addr, alen, port) < 0) {
        ike_writer_fail(w, -EINVAL);
        return;
    }
    ike_payload_build_notify(w, 0, NULL, 0, IKE_N_NAT_DETECTION_SOURCE_IP,
        hash, sizeof(hash));
    if (addr_octets(&ini->cfg.peer, &addr, &alen, &port) < 0 ||
        ike_natd_hash(hash, ini->sa.spi_i, zero_spi, addr, alen, port) < 0) {
        ike_writer_fail(w, -EINVAL);
        return;
    }
    ike_payload_build_notify(w, 0, NULL, 0,
        IKE_N_NAT_DETECTION_DESTINATION_IP, hash, sizeof(hash));
}

static const uint8_t *
ke_public(const struct ike_initiator *ini, size_t *len)
{
    const struct ike_initiator_fixed *fx = ini->cfg.fixed;

    if (fx != NULL && fx->ke_public != NULL && fx->ke_group == ini->group) {
        *len = fx->ke_public_len;
        return fx->ke_public;
    }
    return ike_ke_public(ini->ke, len);
}

/*
 * IKE_SA_INIT request (RFC 7296 1.2, 2.6, 2.23; RFC 5685):
 * [N(COOKIE)], SA, KE, Ni, [N(NAT_D) x2], [extra], [N(REDIRECT_*)].
 */
static int
build_init(struct ike_initiator *ini, const struct build_opts *opt,
    uint8_t *buf, size_t cap, size_t *len)
{
    struct ike_header hdr;
    struct ike_writer w;
    const uint8_t *pub;
    size_t pub_len;

    memset(&hdr, 0, sizeof(hdr));
    memcpy(hdr.spi_i, ini->sa.spi_i, IKE_SPI_LEN);
    hdr.exchange = IKE_X_SA_INIT;
    hdr.flags = IKE_FLAG_INITIATOR;
    hdr.msg_id = opt->mid;
    ike_writer_init(&w, buf, cap);
    ike_msg_begin(&w, &hdr);
    if (ini->cookie_len > 0)
        ike_payload_build_notify(&w, 0, NULL, 0, IKE_N_COOKIE, ini->cookie,
            ini->cookie_len);
    build_ike_sa(&w, &ini->cfg.ike, ini->cfg.ike.dh, NULL, 0);
    pub = ke_public(ini, &pub_len);
    ike_payload_build_ke(&w, ini->group, pub, pub_len);
    ike_payload_build_nonce(&w, ini->ni, ini->ni_len);
    if (natd_enabled(ini))
        build_natd(ini, &w);
    for (size_t i = 0; i < ini->cfg.n_init_notifies; i++) {
        const struct ike_initiator_notify *n = &ini->cfg.init_notifies[i];

        ike_payload_build_notify(&w, 0, NULL, 0, n->type, n->data, n->len);
    }
    if (ini->cfg.redirect == IKE_INITIATOR_REDIRECT_SUPPORTED) {
        ike_redirect_build_supported(&w);
    } else if (ini->cfg.redirect == IKE_INITIATOR_REDIRECT_FROM) {
        struct ike_redirect_gw gw = {
            ini->cfg.from_gw.type, ini->cfg.from_gw.value,
            ini->cfg.from_gw.len,
        };

        ike_redirect_build_from(&w, &gw);
    }
    if (opt->critical)
        build_critical(&w);
    if (ike_writer_error(&w) != 0)
        return ike_writer_error(&w);
    *len = ike_writer_len(&w);
    return 0;
}

/* Writes the IDi payload body (ID Type, RESERVED, data) into body. */
static size_t
idi_body(const struct ike_initiator *ini, uint8_t *body, size_t cap)
{
    size_t n = 4 + ini->cfg.id_len;

    if (n > cap)
        return 0;
    memset(body, 0, 4);
    body[0] = ini->cfg.id_type;
    memcpy(body + 4, ini->cfg.id, ini->cfg.id_len);
    return n;
}

/*
 * IKE_AUTH request (RFC 7296 1.2, 2.15, 2.19):
 * SK{IDi, [N(INITIAL_CONTACT)], [IDr], AUTH, [CP], [SA, TSi, TSr]}.
 * AUTH covers RealMessage1 | Nr | prf(SK_pi, IDi').
 */
static int
build_auth_plain(struct ike_initiator *ini, struct ike_writer *w)
{
    uint8_t body[4 + 256];
    uint8_t auth[IKE_PRF_MAX_LEN];
    size_t body_len = idi_body(ini, body, sizeof(body));
    size_t auth_len;
    int ret;

    if (body_len == 0)
        return -EINVAL;

    struct ike_auth_octets in = {
        ini->init_req, ini->init_req_len, ini->nr, ini->nr_len,
        body, body_len, ini->sa.keys.sk_pi, ini->sa.keys.prf_len,
        ini->cfg.prf_ctx,
    };

    ret = ike_auth_compute(IKE_AUTH_SHARED_KEY_MIC, ini->cfg.ike.prf,
        ini->cfg.psk, ini->cfg.psk_len, &in, auth, sizeof(auth), &auth_len);
    if (ret < 0)
        return ret;
    ike_payload_build_id(w, IKE_P_IDI, ini->cfg.id_type, ini->cfg.id,
        ini->cfg.id_len);
    if (ini->cfg.initial_contact)
        ike_payload_build_notify(w, 0, NULL, 0, IKE_N_INITIAL_CONTACT,
            NULL, 0);
    if (ini->cfg.idr_len > 0)
        ike_payload_build_id(w, IKE_P_IDR, ini->cfg.idr_type, ini->cfg.idr,
            ini->cfg.idr_len);
    ike_payload_build_auth(w, IKE_AUTH_SHARED_KEY_MIC, auth, auth_len);
    OPENSSL_cleanse(auth, sizeof(auth));
    if (ini->cfg.request_vip) {
        struct ike_cp_attr attr = { IKE_CA_INTERNAL_IP4_ADDRESS, NULL, 0, 0 };

        ike_payload_build_cp(w, IKE_CFG_REQUEST, &attr, 1);
    }
    if (!ini->cfg.childless) {
        build_esp_sa(w, &ini->cfg.esp, ini->child_spi_i);
        build_ts_pair(w, &ini->cfg);
    }
    return 0;
}

/* CREATE_CHILD_SA rekeying the CHILD SA (RFC 7296 1.3.3). */
static void
build_rekey_child_plain(struct ike_initiator *ini, struct ike_writer *w)
{
    ike_payload_build_notify(w, IKE_PROTO_ESP, ini->child_spi_i, ESP_SPI_LEN,
        IKE_N_REKEY_SA, NULL, 0);
    build_esp_sa(w, &ini->cfg.esp, ini->rk_child_spi);
    ike_payload_build_nonce(w, ini->rk_ni, ini->rk_ni_len);
    build_ts_pair(w, &ini->cfg);
}

/* CREATE_CHILD_SA rekeying the IKE SA (RFC 7296 1.3.2): SA, Ni, KEi. */
static void
build_rekey_ike_plain(struct ike_initiator *ini, struct ike_writer *w)
{
    size_t pub_len;
    const uint8_t *pub = ike_ke_public(ini->rk_ke, &pub_len);

    build_ike_sa(w, &ini->cfg.ike, ini->group, ini->rk_spi_i, IKE_SPI_LEN);
    ike_payload_build_nonce(w, ini->rk_ni, ini->rk_ni_len);
    ike_payload_build_ke(w, ini->group, pub, pub_len);
}

/* Builds request `kind` into buf with the Message ID and options of opt. */
static int
build_request(struct ike_initiator *ini, enum ini_request kind,
    const struct build_opts *opt, uint8_t *buf, size_t cap, size_t *len)
{
    uint8_t plain[IKE_INITIATOR_MSG_MAX];
    struct ike_writer w;
    struct ini_sa *sa = &ini->sa;
    uint8_t exchange = IKE_X_INFORMATIONAL;
    int ret = 0;

    if (kind == REQ_INIT)
        return build_init(ini, opt, buf, cap, len);
    ike_writer_init(&w, plain, sizeof(plain));
    ike_chain_begin(&w);
    switch (kind) {
    case REQ_AUTH:
        exchange = IKE_X_AUTH;
        ret = build_auth_plain(ini, &w);
        break;
    case REQ_DELETE:
        ike_payload_build_delete(&w, IKE_PROTO_IKE, 0, NULL, 0);
        break;
    case REQ_LIVENESS:
        break;
    case REQ_REKEY_CHILD:
        exchange = IKE_X_CREATE_CHILD_SA;
        build_rekey_child_plain(ini, &w);
        break;
    case REQ_REKEY_IKE:
        exchange = IKE_X_CREATE_CHILD_SA;
        build_rekey_ike_plain(ini, &w);
        break;
    case REQ_DELETE_CHILD:
        ike_payload_build_delete(&w, IKE_PROTO_ESP, ESP_SPI_LEN,
            ini->old_child_spi, 1);
        break;
    case REQ_DELETE_OLD_IKE:
        sa = &ini->old;
        ike_payload_build_delete(&w, IKE_PROTO_IKE, 0, NULL, 0);
        break;
    default:
        ret = -EINVAL;
        break;
    }
    if (ret == 0 && opt->critical)
        build_critical(&w);
    if (ret == 0)
        ret = ike_writer_error(&w);
    if (ret == 0)
        ret = seal_message(sa, exchange, IKE_FLAG_INITIATOR, opt->mid, plain,
            ike_writer_len(&w), ike_writer_first_type(&w), buf, cap, len);
    OPENSSL_cleanse(plain, sizeof(plain));
    return ret;
}

/* Damages a copy of the stored request into ini->out by ini->fault. */
static int
apply_fault(struct ike_initiator *ini, enum ini_request kind, size_t *len)
{
    struct build_opts opt = { ini->req_mid, false };
    uint32_t arg = ini->fault_arg;

    switch (ini->fault) {
    case IKE_INITIATOR_FAULT_MSG_ID:
        opt.mid += arg;
        return build_request(ini, kind, &opt, ini->out, sizeof(ini->out),
            len);
    case IKE_INITIATOR_FAULT_CRITICAL:
        opt.critical = true;
        return build_request(ini, kind, &opt, ini->out, sizeof(ini->out),
            len);
    default:
        break;
    }
    memcpy(ini->out, ini->req, ini->req_len);
    *len = ini->req_len;
    switch (ini->fault) {
    case IKE_INITIATOR_FAULT_TRUNCATE:
        if (arg < *len)
            *len = arg;
        break;
    case IKE_INITIATOR_FAULT_HDR_LENGTH:
        ike_store32(ini->out + HDR_OFF_LENGTH,
            ike_load32(ini->out + HDR_OFF_LENGTH) + arg);
        break;
    case IKE_INITIATOR_FAULT_PAYLOAD_LENGTH:
        ike_store16(ini->out + IKE_HDR_LEN + 2,
            (uint16_t)(ike_load16(ini->out + IKE_HDR_LEN + 2) + arg));
        break;
    case IKE_INITIATOR_FAULT_ICV:
        ini->out[*len - 1] ^= 0xff;
        break;
    case IKE_INITIATOR_FAULT_SPI_R:
        ini->out[HDR_OFF_SPI_R] ^= 0x5a;
        break;
    default:
        break;
    }
    return 0;
}

/*
 * Builds request `kind` with the next Message ID of its SA, stores it for
 * retransmission and hands out either it or its damaged copy.
 */
static int
emit_request(struct ike_initiator *ini, enum ini_request kind,
    enum ike_initiator_event ev, struct ike_initiator_out *out)
{
    struct ini_sa *sa = kind == REQ_DELETE_OLD_IKE ? &ini->old : &ini->sa;
    struct build_opts opt = { kind == REQ_INIT ? 0 : sa->next_mid, false };
    size_t len;
    int ret;

    ini->req_mid = opt.mid;
    ret = build_request(ini, kind, &opt, ini->req, sizeof(ini->req),
        &ini->req_len);
    if (ret < 0)
        return ret;
    if (kind == REQ_INIT) {
        memcpy(ini->init_req, ini->req, ini->req_len);
        ini->init_req_len = ini->req_len;
    } else {
        sa->next_mid++;
    }
    ini->pending = kind;
    ini->pending_event = ev;
    if (ini->fault == IKE_INITIATOR_FAULT_NONE) {
        out_set(out, ev, ini->req, ini->req_len);
        return 0;
    }
    ret = apply_fault(ini, kind, &len);
    ini->fault = IKE_INITIATOR_FAULT_NONE;
    if (ret < 0)
        return ret;
    out_set(out, ev, ini->out, len);
    return 0;
}

/* ---- life cycle ---- */

static int
new_key_pair(struct ike_initiator *ini, uint16_t group)
{
    const struct ike_initiator_fixed *fx = ini->cfg.fixed;

    ike_ke_free(ini->ke);
    ini->ke = NULL;
    ini->group = group;
    if (fx != NULL && fx->ke_public != NULL && fx->ke_group == group)
        return 0;
    ini->ke = ike_ke_new(ini->cfg.ke_ctx, group);
    return ini->ke != NULL ? 0 : -ENOTSUP;
}

struct ike_initiator *
ike_initiator_new(const struct ike_initiator_config *cfg)
{
    struct ike_initiator *ini = calloc(1, sizeof(*ini));
    const struct ike_initiator_fixed *fx = cfg->fixed;

    if (ini == NULL)
        return NULL;
    ini->cfg = *cfg;
    if (ini->cfg.nonce_len == 0)
        ini->cfg.nonce_len = NONCE_DEFAULT_LEN;
    if (ini->cfg.id_type == 0)
        ini->cfg.id_type = IKE_ID_RFC822_ADDR;
    if (ini->cfg.esp.encr == 0) {
        ini->cfg.esp.encr = IKE_ENCR_AES_GCM_16;
        ini->cfg.esp.encr_bits = 256;
        ini->cfg.esp.integ = IKE_INTEG_NONE;
    }
    if (ini->cfg.nonce_len > IKE_NONCE_MAX_LEN)
        goto fail;
    if (fx != NULL && fx->spi_i != NULL)
        memcpy(ini->sa.spi_i, fx->spi_i, IKE_SPI_LEN);
    else if (random_fill(ini->sa.spi_i, IKE_SPI_LEN) < 0)
        goto fail;
    if (fx != NULL && fx->ni != NULL) {
        if (fx->ni_len > IKE_NONCE_MAX_LEN)
            goto fail;
        memcpy(ini->ni, fx->ni, fx->ni_len);
        ini->ni_len = fx->ni_len;
    } else {
        ini->ni_len = ini->cfg.nonce_len;
        if (random_fill(ini->ni, ini->ni_len) < 0)
            goto fail;
    }
    if (random_fill(ini->child_spi_i, ESP_SPI_LEN) < 0)
        goto fail;
    if (new_key_pair(ini, cfg->ke_group != 0 ? cfg->ke_group : cfg->ike.dh)
        < 0)
        goto fail;
    return ini;
fail:
    ike_initiator_free(ini);
    return NULL;
}

void
ike_initiator_free(struct ike_initiator *ini)
{
    if (ini == NULL)
        return;
    ike_ke_free(ini->ke);
    ike_ke_free(ini->rk_ke);
    sa_wipe(&ini->sa);
    sa_wipe(&ini->old);
    ike_keys_wipe_child(&ini->child);
    OPENSSL_cleanse(ini, sizeof(*ini));
    free(ini);
}

int
ike_initiator_start(struct ike_initiator *ini, struct ike_initiator_out *out)
{
    if (ini->state != ST_IDLE)
        return -EINVAL;
    ini->state = ST_INIT_SENT;
    return emit_request(ini, REQ_INIT, IKE_INITIATOR_EV_INIT_SENT, out);
}

/* ---- IKE_SA_INIT response ---- */

/* Checks that the responder's proposal is the one offered. */
static int
check_ike_proposal(const struct ike_initiator *ini,
    const struct ike_payload *sa, uint8_t *spi, size_t spi_size)
{
    struct ike_proposal prop;
    struct ike_transform xf;
    size_t cursor = 0, xcur = 0;
    unsigned seen = 0;
    const struct ike_suite *s = &ini->cfg.ike;

    if (ike_sa_payload_next_proposal(sa, &cursor, &prop, NULL) != 1)
        return -EBADMSG;
    if (prop.proto_id != IKE_PROTO_IKE || prop.spi_size != spi_size)
        return -EBADMSG;
    if (spi_size > 0)
        memcpy(spi, prop.spi, spi_size);
    while (ike_sa_payload_next_transform(&prop, &xcur, &xf, NULL) == 1) {
        bool ok;

        switch (xf.type) {
        case IKE_T_ENCR:
            ok = xf.id == s->encr && xf.key_length == s->encr_bits;
            break;
        case IKE_T_PRF:
            ok = xf.id == s->prf;
            break;
        case IKE_T_INTEG:
            ok = xf.id == s->integ;
            break;
        case IKE_T_DH:
            ok = xf.id == ini->group;
            break;
        default:
            ok = false;
            break;
        }
        if (!ok || (seen & (1u << xf.type)) != 0)
            return -EBADMSG;
        seen |= 1u << xf.type;
    }
    if ((seen & (1u << IKE_T_ENCR)) == 0 || (seen & (1u << IKE_T_PRF)) == 0 ||
        (seen & (1u << IKE_T_DH)) == 0)
        return -EBADMSG;
    return 0;
}

/* Records whether the response's NAT-D hashes match (RFC 7296 2.23). */
static void
check_natd(struct ike_initiator *ini, const struct ike_msg *msg)
{
    struct ike_notify n;
    const uint8_t *addr;
    size_t alen;
    uint16_t port;
    bool src_ok = false, dst_ok = false;

    if (!natd_enabled(ini)) {
        ini->nat_detected = false;
        return;
    }
    if (ike_chain_find_notify(&msg->chain, IKE_N_NAT_DETECTION_SOURCE_IP,
        &n) != NULL && addr_octets(&ini->cfg.peer, &addr, &alen, &port) == 0)
        src_ok = ike_natd_match(&n, ini->sa.spi_i, ini->sa.spi_r, addr, alen,
            port, NULL) == 1;
    if (ike_chain_find_notify(&msg->chain,
        IKE_N_NAT_DETECTION_DESTINATION_IP, &n) != NULL &&
        addr_octets(&ini->cfg.local, &addr, &alen, &port) == 0)
        dst_ok = ike_natd_match(&n, ini->sa.spi_i, ini->sa.spi_r, addr, alen,
            port, NULL) == 1;
    ini->nat_detected = !(src_ok && dst_ok);
}

/* The peer's KE data, as the KE payload parser lends it. */
struct ike_ke_payload_ref {
    const uint8_t *data;
    size_t len;
};

static int
compute_g_ir(struct ike_initiator *ini, const struct ike_ke *ke,
    const struct ike_ke_payload_ref *peer, uint8_t *g_ir, size_t *g_ir_len)
{
    const struct ike_initiator_fixed *fx = ini->cfg.fixed;
    int ret;

    if (ke == NULL && fx != NULL && fx->g_ir != NULL) {
        if (fx->g_ir_len > IKE_KE_MAX_SECRET_LEN)
            return -EINVAL;
        memcpy(g_ir, fx->g_ir, fx->g_ir_len);
        *g_ir_len = fx->g_ir_len;
        return 0;
    }
    if (ke == NULL)
        return -EINVAL;
    *g_ir_len = ike_ke_secret_len(ike_ke_group(ke));
    ret = ike_ke_derive(ke, peer->data, peer->len, g_ir,
        IKE_KE_MAX_SECRET_LEN);
    return ret;
}

static int
handle_init_redirect(struct ike_initiator *ini, const struct ike_notify *n,
    struct ike_initiator_out *out)
{
    struct ike_redirect r;

    if (ike_redirect_parse(n, IKE_REDIRECT_CTX_INIT_RESPONSE, &r, NULL) < 0)
        goto drop;
    /* RFC 5685: the echoed Ni is the only proof that the REDIRECT is real. */
    if (r.nonce_len != ini->ni_len ||
        CRYPTO_memcmp(r.nonce, ini->ni, ini->ni_len) != 0)
        goto drop;
    if (ike_initiator_gw_set(&ini->target, r.gw.type, r.gw.value,
        r.gw.len) < 0)
        goto drop;
    ini->have_target = true;
    ini->pending = REQ_NONE;
    ini->state = ST_CLOSED;
    out_set(out, IKE_INITIATOR_EV_REDIRECT, NULL, 0);
    return 0;
drop:
    out_set(out, IKE_INITIATOR_EV_DROPPED, NULL, 0);
    return 0;
}

static int
handle_init_invalid_ke(struct ike_initiator *ini, const struct ike_notify *n,
    struct ike_initiator_out *out)
{
    uint16_t group;
    int ret;

    if (n->data_len != 2) {
        out_set(out, IKE_INITIATOR_EV_DROPPED, NULL, 0);
        return 0;
    }
    group = ike_load16(n->data);
    if (group == ini->group || ike_ke_public_len(group) == 0) {
        ini->error = IKE_N_INVALID_KE_PAYLOAD;
        ini->state = ST_CLOSED;
        ini->pending = REQ_NONE;
        out_set(out, IKE_INITIATOR_EV_ERROR, NULL, 0);
        return 0;
    }
    ret = new_key_pair(ini, group);
    if (ret < 0)
        return ret;
    /* RFC 7296 2.6.1: the COOKIE is kept across the KE retry. */
    return emit_request(ini, REQ_INIT, IKE_INITIATOR_EV_INVALID_KE, out);
}

static int
handle_init_success(struct ike_initiator *ini, const struct ike_msg *msg,
    struct ike_initiator_out *out)
{
    const struct ike_payload *sa, *kep, *np;
    struct ike_ke_payload ke;
    struct ike_nonce nr;
    struct ike_ke_payload_ref peer;
    uint8_t g_ir[IKE_KE_MAX_SECRET_LEN];
    size_t g_ir_len = 0;
    int ret;

    sa = ike_chain_find(&msg->chain, IKE_P_SA, NULL);
    kep = ike_chain_find(&msg->chain, IKE_P_KE, NULL);
    np = ike_chain_find(&msg->chain, IKE_P_NONCE, NULL);
    if (sa == NULL || kep == NULL || np == NULL ||
        check_ike_proposal(ini, sa, NULL, 0) < 0 ||
        ike_payload_parse_ke(kep, &ke, NULL) < 0 || ke.group != ini->group ||
        ike_payload_parse_nonce(np, &nr, NULL) < 0 ||
        msg->len > sizeof(ini->init_resp)) {
        out_set(out, IKE_INITIATOR_EV_DROPPED, NULL, 0);
        return 0;
    }
    memcpy(ini->sa.spi_r, msg->hdr.spi_r, IKE_SPI_LEN);
    memcpy(ini->nr, nr.data, nr.len);
    ini->nr_len = nr.len;
    peer.data = ke.data;
    peer.len = ke.len;
    ret = compute_g_ir(ini, ini->ke, &peer, g_ir, &g_ir_len);
    if (ret < 0) {
        out_set(out, IKE_INITIATOR_EV_DROPPED, NULL, 0);
        return 0;
    }

    struct ike_keys_seed seed = {
        ini->ni, ini->ni_len, ini->nr, ini->nr_len, ini->sa.spi_i,
        ini->sa.spi_r, ini->cfg.prf_ctx,
    };

    ret = ike_keys_derive_sa(&ini->sa.keys, &ini->cfg.ike, g_ir, g_ir_len,
        &seed);
    OPENSSL_cleanse(g_ir, sizeof(g_ir));
    if (ret < 0)
        return ret;
    ini->sa.have_keys = true;
    ini->sa.next_mid = 1;
    memcpy(ini->init_resp, msg->raw, msg->len);
    ini->init_resp_len = msg->len;
    check_natd(ini, msg);
    ini->state = ST_AUTH_SENT;
    return emit_request(ini, REQ_AUTH, IKE_INITIATOR_EV_AUTH_SENT, out);
}

/*
 * IKE_SA_INIT response.  COOKIE and REDIRECT come alone (RFC 7296 2.6,
 * RFC 5685); INVALID_KE_PAYLOAD names the group to use (RFC 7296 1.3).
 */
static int
handle_init_response(struct ike_initiator *ini, const struct ike_msg *msg,
    struct ike_initiator_out *out)
{
    struct ike_notify n;
    uint16_t error;

    if (msg->hdr.exchange != IKE_X_SA_INIT || msg->hdr.msg_id != 0 ||
        (msg->hdr.flags & IKE_FLAG_RESPONSE) == 0 ||
        (msg->hdr.flags & IKE_FLAG_INITIATOR) != 0) {
        out_set(out, IKE_INITIATOR_EV_DROPPED, NULL, 0);
        return 0;
    }
    if (ike_chain_find_notify(&msg->chain, IKE_N_COOKIE, &n) != NULL) {
        if (n.data_len == 0 || n.data_len > COOKIE_MAX_LEN) {
            out_set(out, IKE_INITIATOR_EV_DROPPED, NULL, 0);
            return 0;
        }
        memcpy(ini->cookie, n.data, n.data_len);
        ini->cookie_len = n.data_len;
        return emit_request(ini, REQ_INIT, IKE_INITIATOR_EV_COOKIE, out);
    }
    if (ike_chain_find_notify(&msg->chain, IKE_N_REDIRECT, &n) != NULL)
        return handle_init_redirect(ini, &n, out);
    if (ike_chain_find_notify(&msg->chain, IKE_N_INVALID_KE_PAYLOAD, &n)
        != NULL)
        return handle_init_invalid_ke(ini, &n, out);
    error = chain_error(&msg->chain);
    if (error != 0) {
        ini->error = error;
        ini->state = ST_CLOSED;
        ini->pending = REQ_NONE;
        out_set(out, IKE_INITIATOR_EV_ERROR, NULL, 0);
        return 0;
    }
    return handle_init_success(ini, msg, out);
}

/* ---- IKE_AUTH response ---- */

static void
read_vip(struct ike_initiator *ini, const struct ike_chain *chain)
{
    const struct ike_payload *p = ike_chain_find(chain, IKE_P_CP, NULL);
    struct ike_cp cp;
    struct ike_cp_attr attr;
    size_t cursor = 0;

    ini->vip[0] = '\0';
    if (p == NULL || ike_payload_parse_cp(p, &cp, NULL) < 0 ||
        cp.cfg_type != IKE_CFG_REPLY)
        return;
    while (ike_payload_next_cp_attr(&cp, &cursor, &attr, NULL) == 1) {
        if (attr.type == IKE_CA_INTERNAL_IP4_ADDRESS && attr.len == 4) {
            inet_ntop(AF_INET, attr.value, ini->vip, sizeof(ini->vip));
            return;
        }
    }
}

/* Reads the responder's ESP SPI from its SA payload. */
static int
read_child_spi(const struct ike_chain *chain, uint8_t spi[ESP_SPI_LEN])
{
    const struct ike_payload *p = ike_chain_find(chain, IKE_P_SA, NULL);
    struct ike_proposal prop;
    size_t cursor = 0;

    if (p == NULL || ike_sa_payload_next_proposal(p, &cursor, &prop, NULL)
        != 1 || prop.proto_id != IKE_PROTO_ESP ||
        prop.spi_size != ESP_SPI_LEN)
        return -EBADMSG;
    memcpy(spi, prop.spi, ESP_SPI_LEN);
    return 0;
}

static int
derive_child(struct ike_initiator *ini, const uint8_t *ni, size_t ni_len,
    const uint8_t *nr, size_t nr_len)
{
    struct ike_keys_seed seed = {
        ni, ni_len, nr, nr_len, NULL, NULL, ini->cfg.prf_ctx,
    };

    return ike_keys_derive_child(&ini->child, &ini->cfg.esp, &ini->sa.keys,
        NULL, 0, &seed);
}

/* Verifies AUTH_r = prf(prf(PSK, pad), RealMessage2 | Ni | prf(SK_pr,
 * IDr')) of RFC 7296 2.15.  Returns 0 on a match. */
static int
verify_responder(struct ike_initiator *ini, const struct ike_chain *chain)
{
    const struct ike_payload *idr = ike_chain_find(chain, IKE_P_IDR, NULL);
    const struct ike_payload *ap = ike_chain_find(chain, IKE_P_AUTH, NULL);
    struct ike_auth auth;

    if (idr == NULL || ap == NULL ||
        ike_payload_parse_auth(ap, &auth, NULL) < 0 ||
        auth.method != IKE_AUTH_SHARED_KEY_MIC)
        return -EACCES;

    struct ike_auth_octets in = {
        ini->init_resp, ini->init_resp_len, ini->ni, ini->ni_len,
        idr->body, idr->body_len, ini->sa.keys.sk_pr, ini->sa.keys.prf_len,
        ini->cfg.prf_ctx,
    };

    return ike_auth_verify(IKE_AUTH_SHARED_KEY_MIC, ini->cfg.ike.prf,
        ini->cfg.psk, ini->cfg.psk_len, &in, auth.data, auth.len);
}

static int
handle_auth_response(struct ike_initiator *ini, const struct ike_chain *chain,
    struct ike_initiator_out *out)
{
    struct ike_notify n;

    ini->error = chain_error(chain);
    if (ike_chain_find(chain, IKE_P_AUTH, NULL) == NULL) {
        ini->state = ST_CLOSED;
        out_set(out, IKE_INITIATOR_EV_ERROR, NULL, 0);
        return 0;
    }
    if (verify_responder(ini, chain) < 0) {
        ini->state = ST_CLOSED;
        out_set(out, IKE_INITIATOR_EV_AUTH_FAILED, NULL, 0);
        return 0;
    }
    ini->state = ST_ESTABLISHED;
    if (ike_chain_find_notify(chain, IKE_N_REDIRECT, &n) != NULL) {
        struct ike_redirect r;

        if (ike_redirect_parse(&n, IKE_REDIRECT_CTX_PROTECTED, &r, NULL) < 0
            || ike_initiator_gw_set(&ini->target, r.gw.type, r.gw.value,
                r.gw.len) < 0) {
            out_set(out, IKE_INITIATOR_EV_DROPPED, NULL, 0);
            return 0;
        }
        ini->have_target = true;
        out_set(out, IKE_INITIATOR_EV_AUTH_REDIRECT, NULL, 0);
        return 0;
    }
    read_vip(ini, chain);
    if (!ini->cfg.childless && ini->error == 0 &&
        read_child_spi(chain, ini->child_spi_r) == 0) {
        int ret = derive_child(ini, ini->ni, ini->ni_len, ini->nr,
            ini->nr_len);

        if (ret < 0)
            return ret;
        ini->have_child = true;
    }
    out_set(out, IKE_INITIATOR_EV_ESTABLISHED, NULL, 0);
    return 0;
}

/* ---- CREATE_CHILD_SA responses ---- */

static int
handle_rekey_child_response(struct ike_initiator *ini,
    const struct ike_chain *chain, struct ike_initiator_out *out)
{
    const struct ike_payload *np = ike_chain_find(chain, IKE_P_NONCE, NULL);
    struct ike_nonce nr;
    uint8_t spi_r[ESP_SPI_LEN];
    int ret;

    ini->error = chain_error(chain);
    if (ini->error != 0 || np == NULL ||
        ike_payload_parse_nonce(np, &nr, NULL) < 0 ||
        read_child_spi(chain, spi_r) < 0) {
        out_set(out, IKE_INITIATOR_EV_ERROR, NULL, 0);
        return 0;
    }
    ret = derive_child(ini, ini->rk_ni, ini->rk_ni_len, nr.data, nr.len);
    if (ret < 0)
        return ret;
    memcpy(ini->old_child_spi, ini->child_spi_i, ESP_SPI_LEN);
    memcpy(ini->child_spi_i, ini->rk_child_spi, ESP_SPI_LEN);
    memcpy(ini->child_spi_r, spi_r, ESP_SPI_LEN);
    ini->have_child = true;
    return emit_request(ini, REQ_DELETE_CHILD, IKE_INITIATOR_EV_CHILD_REKEYED,
        out);
}

static int
handle_rekey_ike_response(struct ike_initiator *ini,
    const struct ike_chain *chain, struct ike_initiator_out *out)
{
    const struct ike_payload *sa = ike_chain_find(chain, IKE_P_SA, NULL);
    const struct ike_payload *np = ike_chain_find(chain, IKE_P_NONCE, NULL);
    const struct ike_payload *kep = ike_chain_find(chain, IKE_P_KE, NULL);
    struct ike_nonce nr;
    struct ike_ke_payload ke;
    struct ike_ke_payload_ref peer;
    uint8_t spi_r[IKE_SPI_LEN];
    uint8_t g_ir[IKE_KE_MAX_SECRET_LEN];
    size_t g_ir_len = 0;
    struct ini_sa next;
    int ret;

    ini->error = chain_error(chain);
    if (ini->error != 0 || sa == NULL || np == NULL || kep == NULL ||
        check_ike_proposal(ini, sa, spi_r, IKE_SPI_LEN) < 0 ||
        ike_payload_parse_nonce(np, &nr, NULL) < 0 ||
        ike_payload_parse_ke(kep, &ke, NULL) < 0 || ke.group != ini->group) {
        out_set(out, IKE_INITIATOR_EV_ERROR, NULL, 0);
        return 0;
    }
    peer.data = ke.data;
    peer.len = ke.len;
    ret = compute_g_ir(ini, ini->rk_ke, &peer, g_ir, &g_ir_len);
    if (ret < 0) {
        out_set(out, IKE_INITIATOR_EV_ERROR, NULL, 0);
        return 0;
    }
    memset(&next, 0, sizeof(next));
    memcpy(next.spi_i, ini->rk_spi_i, IKE_SPI_LEN);
    memcpy(next.spi_r, spi_r, IKE_SPI_LEN);

    struct ike_keys_seed seed = {
        ini->rk_ni, ini->rk_ni_len, nr.data, nr.len, next.spi_i, next.spi_r,
        ini->cfg.prf_ctx,
    };

    /* RFC 7296 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr). */
    ret = ike_keys_rekey_sa(&next.keys, &ini->cfg.ike, &ini->sa.keys, g_ir,
        g_ir_len, &seed);
    OPENSSL_cleanse(g_ir, sizeof(g_ir));
    if (ret < 0)
        return ret;
    next.have_keys = true;
    sa_wipe(&ini->old);
    ini->old = ini->sa;
    ini->old_live = true;
    ini->sa = next;
    OPENSSL_cleanse(&next, sizeof(next));
    return emit_request(ini, REQ_DELETE_OLD_IKE, IKE_INITIATOR_EV_IKE_REKEYED,
        out);
}

/* A response to our outstanding request on sa. */
static int
handle_response(struct ike_initiator *ini, struct ini_sa *sa,
    const struct ike_msg *msg, const struct ike_chain *chain,
    struct ike_initiator_out *out)
{
    enum ini_request kind = ini->pending;
    struct ini_sa *req_sa = kind == REQ_DELETE_OLD_IKE ? &ini->old : &ini->sa;

    if (kind == REQ_NONE || kind == REQ_INIT || sa != req_sa ||
        msg->hdr.msg_id != ini->req_mid) {
        out_set(out, IKE_INITIATOR_EV_DROPPED, NULL, 0);
        return 0;
    }
    ini->pending = REQ_NONE;
    switch (kind) {
    case REQ_AUTH:
        return handle_auth_response(ini, chain, out);
    case REQ_REKEY_CHILD:
        return handle_rekey_child_response(ini, chain, out);
    case REQ_REKEY_IKE:
        return handle_rekey_ike_response(ini, chain, out);
    case REQ_DELETE:
        ini->state = ST_CLOSED;
        break;
    case REQ_DELETE_OLD_IKE:
        sa_wipe(&ini->old);
        ini->old_live = false;
        break;
    default:
        break;
    }
    ini->error = chain_error(chain);
    out_set(out, IKE_INITIATOR_EV_RESPONSE, NULL, 0);
    return 0;
}

/* ---- requests from the responder ---- */

/*
 * Answers a request the responder started on sa (RFC 7296 1.4, 2.2): a
 * REDIRECT (RFC 5685) or a DELETE of the IKE SA gets an empty response,
 * a DELETE of our CHILD SA gets the matching DELETE back.  A repeated
 * request gets the cached response again.
 */
static int
handle_peer_request(struct ike_initiator *ini, struct ini_sa *sa,
    const struct ike_msg *msg, const struct ike_chain *chain,
    struct ike_initiator_out *out)
{
    enum ike_initiator_event ev = IKE_INITIATOR_EV_PEER_REQUEST;
    uint8_t plain[256];
    struct ike_writer w;
    struct ike_notify n;
    const struct ike_payload *p = NULL;
    int ret;

    if (sa->resp_len > 0 && msg->hdr.msg_id + 1 == sa->peer_mid) {
        out_set(out, IKE_INITIATOR_EV_PEER_REQUEST, sa->resp, sa->resp_len);
        return 0;
    }
    if (msg->hdr.msg_id != sa->peer_mid) {
        out_set(out, IKE_INITIATOR_EV_DROPPED, NULL, 0);
        return 0;
    }
    ike_writer_init(&w, plain, sizeof(plain));
    ike_chain_begin(&w);
    if (ike_chain_find_notify(chain, IKE_N_REDIRECT, &n) != NULL) {
        struct ike_redirect r;

        if (ike_redirect_parse(&n, IKE_REDIRECT_CTX_PROTECTED, &r, NULL) == 0
            && ike_initiator_gw_set(&ini->target, r.gw.type, r.gw.value,
                r.gw.len) == 0) {
            ini->have_target = true;
            ev = IKE_INITIATOR_EV_PEER_REDIRECT;
        }
    }
    while ((p = ike_chain_find(chain, IKE_P_DELETE, p)) != NULL) {
        struct ike_delete d;

        if (ike_payload_parse_delete(p, &d, NULL) < 0)
            continue;
        if (d.proto_id == IKE_PROTO_IKE) {
            ev = IKE_INITIATOR_EV_PEER_DELETE;
            if (sa == &ini->sa)
                ini->state = ST_CLOSED;
        } else if (d.proto_id == IKE_PROTO_ESP && ini->have_child) {
            ike_payload_build_delete(&w, IKE_PROTO_ESP, ESP_SPI_LEN,
                ini->child_spi_i, 1);
            ini->have_child = false;
        }
    }
    /* TODO: a CREATE_CHILD_SA request from the responder gets an empty
     * response, so responder-started rekeys are not covered. */
    if (ike_writer_error(&w) != 0)
        return ike_writer_error(&w);
    ret = seal_message(sa, msg->hdr.exchange,
        IKE_FLAG_INITIATOR | IKE_FLAG_RESPONSE, msg->hdr.msg_id, plain,
        ike_writer_len(&w), ike_writer_first_type(&w), sa->resp,
        sizeof(sa->resp), &sa->resp_len);
    if (ret < 0)
        return ret;
    sa->peer_mid++;
    out_set(out, ev, sa->resp, sa->resp_len);
    return 0;
}

int
ike_initiator_input(struct ike_initiator *ini, const uint8_t *buf,
    size_t len, struct ike_initiator_out *out)
{
    uint8_t plain[IKE_INITIATOR_MSG_MAX];
    struct ike_chain chain;
    struct ike_msg msg;
    struct ini_sa *sa;
    int ret;

    out_set(out, IKE_INITIATOR_EV_DROPPED, NULL, 0);
    if (ike_msg_parse(&msg, buf, len, NULL) < 0 ||
        (msg.hdr.flags & IKE_FLAG_INITIATOR) != 0)
        return 0;
    if (ini->state == ST_INIT_SENT) {
        if (memcmp(msg.hdr.spi_i, ini->sa.spi_i, IKE_SPI_LEN) != 0)
            return 0;
        return handle_init_response(ini, &msg, out);
    }
    if (memcmp(msg.hdr.spi_i, ini->sa.spi_i, IKE_SPI_LEN) == 0 &&
        memcmp(msg.hdr.spi_r, ini->sa.spi_r, IKE_SPI_LEN) == 0)
        sa = &ini->sa;
    else if (ini->old_live &&
        memcmp(msg.hdr.spi_i, ini->old.spi_i, IKE_SPI_LEN) == 0 &&
        memcmp(msg.hdr.spi_r, ini->old.spi_r, IKE_SPI_LEN) == 0)
        sa = &ini->old;
    else
        return 0;
    if (open_message(sa, &msg, plain, sizeof(plain), &chain) < 0)
        return 0;
    if ((msg.hdr.flags & IKE_FLAG_RESPONSE) != 0)
        ret = handle_response(ini, sa, &msg, &chain, out);
    else
        ret = handle_peer_request(ini, sa, &msg, &chain, out);
    OPENSSL_cleanse(plain, sizeof(plain));
    return ret;
}

int
ike_initiator_retransmit(struct ike_initiator *ini,
    struct ike_initiator_out *out)
{
    if (ini->pending == REQ_NONE)
        return -ENOENT;
    out_set(out, ini->pending_event, ini->req, ini->req_len);
    return 0;
}

/* ---- requests on the established SA ---- */

static int
check_ready(const struct ike_initiator *ini)
{
    if (ini->state != ST_ESTABLISHED)
        return -ENOTCONN;
    if (ini->pending != REQ_NONE)
        return -EBUSY;
    return 0;
}

int
ike_initiator_delete(struct ike_initiator *ini, struct ike_initiator_out *out)
{
    int ret = check_ready(ini);

    if (ret < 0)
        return ret;
    return emit_request(ini, REQ_DELETE, IKE_INITIATOR_EV_REQUEST_SENT, out);
}

int
ike_initiator_liveness(struct ike_initiator *ini,
    struct ike_initiator_out *out)
{
    int ret = check_ready(ini);

    if (ret < 0)
        return ret;
    return emit_request(ini, REQ_LIVENESS, IKE_INITIATOR_EV_REQUEST_SENT,
        out);
}

int
ike_initiator_rekey_child(struct ike_initiator *ini,
    struct ike_initiator_out *out)
{
    int ret = check_ready(ini);

    if (ret < 0)
        return ret;
    if (!ini->have_child)
        return -ENOENT;
    ini->rk_ni_len = ini->cfg.nonce_len;
    if ((ret = random_fill(ini->rk_ni, ini->rk_ni_len)) < 0 ||
        (ret = random_fill(ini->rk_child_spi, ESP_SPI_LEN)) < 0)
        return ret;
    return emit_request(ini, REQ_REKEY_CHILD, IKE_INITIATOR_EV_REQUEST_SENT,
        out);
}

int
ike_initiator_rekey_ike(struct ike_initiator *ini,
    struct ike_initiator_out *out)
{
    int ret = check_ready(ini);

    if (ret < 0)
        return ret;
    ini->rk_ni_len = ini->cfg.nonce_len;
    if ((ret = random_fill(ini->rk_ni, ini->rk_ni_len)) < 0 ||
        (ret = random_fill(ini->rk_spi_i, IKE_SPI_LEN)) < 0)
        return ret;
    ike_ke_free(ini->rk_ke);
    ini->rk_ke = ike_ke_new(ini->cfg.ke_ctx, ini->group);
    if (ini->rk_ke == NULL)
        return -ENOMEM;
    return emit_request(ini, REQ_REKEY_IKE, IKE_INITIATOR_EV_REQUEST_SENT,
        out);
}

void
ike_initiator_set_fault(struct ike_initiator *ini,
    enum ike_initiator_fault fault, uint32_t arg)
{
    ini->fault = fault;
    ini->fault_arg = arg;
}

/* ---- accessors ---- */

const uint8_t *
ike_initiator_spi_i(const struct ike_initiator *ini)
{
    return ini->sa.spi_i;
}

const uint8_t *
ike_initiator_spi_r(const struct ike_initiator *ini)
{
    return ini->sa.spi_r;
}

const uint8_t *
ike_initiator_ni(const struct ike_initiator *ini, size_t *len)
{
    *len = ini->ni_len;
    return ini->ni;
}

const struct ike_sa_keys *
ike_initiator_keys(const struct ike_initiator *ini)
{
    return ini->sa.have_keys ? &ini->sa.keys : NULL;
}

const struct ike_child_keys *
ike_initiator_child_keys(const struct ike_initiator *ini)
{
    return ini->have_child ? &ini->child : NULL;
}

const uint8_t *
ike_initiator_child_spi(const struct ike_initiator *ini, bool responder)
{
    return responder ? ini->child_spi_r : ini->child_spi_i;
}

uint16_t
ike_initiator_error(const struct ike_initiator *ini)
{
    return ini->error;
}

const struct ike_initiator_gw *
ike_initiator_redirect_target(const struct ike_initiator *ini)
{
    return ini->have_target ? &ini->target : NULL;
}

const char *
ike_initiator_vip(const struct ike_initiator *ini)
{
    return ini->vip;
}

const uint8_t *
ike_initiator_cookie(const struct ike_initiator *ini, size_t *len)
{
    *len = ini->cookie_len;
    return ini->cookie_len > 0 ? ini->cookie : NULL;
}

uint16_t
ike_initiator_ke_group(const struct ike_initiator *ini)
{
    return ini->group;
}

bool
ike_initiator_nat_detected(const struct ike_initiator *ini)
{
    return ini->nat_detected;
}

uint32_t
ike_initiator_next_msg_id(const struct ike_initiator *ini)
{
    return ini->sa.next_mid;
}

bool
ike_initiator_established(const struct ike_initiator *ini)
{
    return ini->state == ST_ESTABLISHED;
}

int
ike_initiator_gw_set(struct ike_initiator_gw *gw, uint8_t type,
    const uint8_t *value, size_t len)
{
    if (len == 0 || len > sizeof(gw->value))
        return -EINVAL;
    gw->type = type;
    gw->len = (uint8_t)len;
    memcpy(gw->value, value, len);
    return 0;
}
