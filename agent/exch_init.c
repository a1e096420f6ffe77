/*
 * IKE_SA_INIT (RFC 7296 1.2) with the stateless replies: COOKIE
 * (RFC 7296 2.6), REDIRECT (RFC 5685 3), NO_PROPOSAL_CHOSEN and
 * INVALID_KE_PAYLOAD (RFC 7296 1.3).  The order of the checks is: limits,
 * cookie, redirect decision, proposal, key exchange group, so a client
 * that is sent away is never asked for another group first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "engine_priv.h"
#include "ike_natd.h"
#include "ike_prf.h"
#include "ike_redirect.h"
#include "ike_sa_payload.h"
#include "rt/log.h"

#define NR_LEN 32

/* The parts of an IKE_SA_INIT request the checks look at. */
struct init_request {
    const struct ike_msg *msg;
    const struct ike_payload *sa;
    struct ike_ke_payload ke;
    struct ike_nonce ni;
    const struct ike_payload *cookie;   /* only when it comes first */
    struct ike_notify cookie_n;
    bool redirect_supported;
    bool redirected_from;               /* with a well-formed identity */
    bool redirected_from_malformed;     /* present, identity invalid */
    const struct ike_payload *natd_src;
    const struct ike_payload *natd_dst;
};

static int
init_parse(struct init_request *r, const struct ike_msg *msg)
{
    const struct ike_chain *c = &msg->chain;
    const struct ike_payload *p;
    struct ike_notify n;

    memset(r, 0, sizeof(*r));
    r->msg = msg;
    if ((r->sa = ike_chain_find(c, IKE_P_SA, NULL)) == NULL)
        return -EBADMSG;
    if ((p = ike_chain_find(c, IKE_P_KE, NULL)) == NULL ||
        ike_payload_parse_ke(p, &r->ke, NULL) < 0)
        return -EBADMSG;
    if ((p = ike_chain_find(c, IKE_P_NONCE, NULL)) == NULL ||
        ike_payload_parse_nonce(p, &r->ni, NULL) < 0)
        return -EBADMSG;
    /* RFC 7296 2.6: the cookie counts only as the first payload. */
    if (c->count > 0 && c->payloads[0].type == IKE_P_NOTIFY &&
        ike_payload_parse_notify(&c->payloads[0], &n, NULL) == 0 &&
        n.type == IKE_N_COOKIE) {
        r->cookie = &c->payloads[0];
        r->cookie_n = n;
    }
    r->redirect_supported =
        ike_chain_find_notify(c, IKE_N_REDIRECT_SUPPORTED, NULL) != NULL;
    /* A REDIRECTED_FROM whose GW identity does not decode (RFC 5685 9.3)
     * is treated as absent, so it cannot claim RFC 5685 support. */
    if (ike_chain_find_notify(c, IKE_N_REDIRECTED_FROM, &n) != NULL) {
        struct ike_redirect_gw gw;

        r->redirected_from = ike_redirect_parse_from(&n, &gw, NULL) == 0;
        r->redirected_from_malformed = !r->redirected_from;
    }
    r->natd_src = ike_chain_find_notify(c, IKE_N_NAT_DETECTION_SOURCE_IP,
        NULL);
    r->natd_dst = ike_chain_find_notify(c,
        IKE_N_NAT_DETECTION_DESTINATION_IP, NULL);
    return 0;
}

/* Writes the header of a stateless reply (SPIr zero) into w. */
static void
init_reply_begin(struct ike_writer *w, uint8_t *buf, size_t cap,
    const struct ike_msg *msg)
{
    struct ike_header hdr;

    memset(&hdr, 0, sizeof(hdr));
    memcpy(hdr.spi_i, msg->hdr.spi_i, 8);
    hdr.exchange = IKE_X_SA_INIT;
    hdr.flags = IKE_FLAG_RESPONSE;
    hdr.msg_id = 0;
    ike_writer_init(w, buf, cap);
    ike_msg_begin(w, &hdr);
}

static void
init_send_notify(struct ike_engine *e, const struct engine_rx *rx,
    const struct ike_msg *msg, uint16_t type, const uint8_t *data,
    size_t len)
{
    struct ike_writer w;

    init_reply_begin(&w, e->out, sizeof(e->out), msg);
    ike_payload_build_notify(&w, 0, NULL, 0, type, data, len);
    if (ike_writer_error(&w) == 0)
        engine_send_raw(e, rx->local, rx->peer, e->out, ike_writer_len(&w));
}

/* Computes version | HMAC-SHA-256(secret, Ni | IPi | SPIi)[0..16). */
static int
cookie_compute(const struct ike_engine *e, unsigned which,
    const struct init_request *r, const struct sockaddr *peer,
    uint8_t out[ENGINE_COOKIE_LEN])
{
    uint8_t mac[IKE_PRF_MAX_LEN];
    const uint8_t *addr;
    uint16_t port;
    size_t addr_len = engine_addr_bytes(peer, &addr, &port);
    struct ike_prf_iov iov[3] = {
        { r->ni.data, r->ni.len },
        { addr, addr_len },
        { r->msg->hdr.spi_i, 8 },
    };
    int ret;

    /* RFC 7296 2.6.1: KEi is left out, so the cookie survives a retry
     * with another group. */
    ret = ike_prf_ctx_computev(e->prf_ctx, IKE_PRF_HMAC_SHA2_256,
        e->cookie_secret[which], ENGINE_COOKIE_SECRET, iov, 3, mac,
        sizeof(mac));
    if (ret < 0)
        return ret;
    out[0] = (uint8_t)(e->cookie_version - which);
    memcpy(out + 1, mac, ENGINE_COOKIE_LEN - 1);
    return 0;
}

/* Returns true when the request carries a cookie we made. */
static bool
cookie_valid(const struct ike_engine *e, const struct init_request *r,
    const struct sockaddr *peer)
{
    uint8_t want[ENGINE_COOKIE_LEN];

    if (r->cookie == NULL || r->cookie_n.data_len != ENGINE_COOKIE_LEN)
        return false;
    for (unsigned which = 0; which < 2; which++) {
        if (r->cookie_n.data[0] != (uint8_t)(e->cookie_version - which))
            continue;
        if (cookie_compute(e, which, r, peer, want) == 0 &&
            CRYPTO_memcmp(want, r->cookie_n.data, sizeof(want)) == 0)
            return true;
    }
    return false;
}

static bool
local_is_anycast(const struct engine_config *cfg, const struct sockaddr *l)
{
    for (size_t i = 0; i < cfg->n_anycast; i++) {
        if (ike_sa_addr_equal((const struct sockaddr *)&cfg->anycast[i], l,
            false))
            return true;
    }
    return false;
}

/*
 * RFC 5685 7 recommends a bound on redirects per client; we keep it on
 * the gateway side too.  Returns true if one more is allowed (and counts
 * it).
 */
static bool
client_redirect_allowed(struct ike_engine *e, const struct sockaddr *peer,
    uint64_t now)
{
    struct engine_client_slot *s = &e->clients[engine_client_slot(peer)];

    if (now >= s->period_start_ms + e->cfg->client_redirect_period_ms ||
        s->redirects == 0) {
        s->period_start_ms = now;
        s->redirects = 0;
    }
    if (s->redirects >= e->cfg->client_redirect_max)
        return false;
    s->redirects++;
    return true;
}

/*
 * Asks the policy and sends the REDIRECT.  Returns true when the request
 * was handled (redirected or dropped) and must not be served.
 */
static bool
init_redirect(struct ike_engine *e, const struct engine_rx *rx,
    const struct init_request *r)
{
    struct policy_query q;
    struct policy_target t;
    struct ike_redirect_gw gw;
    struct ike_writer w;
    char peer[64], target[IKE_REDIRECT_GW_TEXT_MAX];

    if (!r->redirect_supported && !r->redirected_from) {
        engine_count(e, ENGINE_CTR_INIT_NO_REDIRECT_SUPPORT);
        return false;
    }
    memset(&q, 0, sizeof(q));
    q.stage = POLICY_STAGE_INIT;
    q.peer = rx->peer;
    q.local = rx->local;
    q.local_is_anycast = local_is_anycast(e->cfg, rx->local);
    q.redirected_from = r->redirected_from;
    q.spi_i = r->msg->hdr.spi_i;
    if (e->policy.decide == NULL ||
        e->policy.decide(e->policy.arg, &q, &t) != POLICY_REDIRECT)
        return false;
    /* Addresses are formatted only for lines that are logged: at a high
     * REDIRECT rate the text would cost more than parsing the request. */
    if (!client_redirect_allowed(e, rx->peer, rx->now_ms)) {
        engine_count(e, ENGINE_CTR_REDIRECT_CLIENT_LIMIT);
        if (log_enabled(LOG_LEVEL_DEBUG)) {
            engine_addr_text(rx->peer, peer, sizeof(peer));
            log_debug("ike", "redirect skipped, client over its limit; "
                "peer=%s", peer);
        }
        return false;
    }
    if (!engine_take_reply_token(e, rx->peer, rx->now_ms)) {
        engine_count(e, ENGINE_CTR_INIT_DROP_RATE);
        return true;
    }
    gw.type = t.gw_type;
    gw.value = t.id;
    gw.len = t.len;
    /* RFC 5685 3: only the REDIRECT, echoing this request's Ni. */
    init_reply_begin(&w, e->out, sizeof(e->out), r->msg);
    ike_redirect_build(&w, &gw, r->ni.data, r->ni.len);
    if (ike_writer_error(&w) < 0) {
        engine_addr_text(rx->peer, peer, sizeof(peer));
        log_error("ike", "building a REDIRECT failed; peer=%s", peer);
        return true;
    }
    engine_send_raw(e, rx->local, rx->peer, e->out, ike_writer_len(&w));
    engine_count(e, ENGINE_CTR_REDIRECT_INIT);
    if (log_enabled(LOG_LEVEL_INFO)) {
        engine_addr_text(rx->peer, peer, sizeof(peer));
        ike_redirect_gw_to_text(&gw, target, sizeof(target));
        log_info("ike", "redirecting peer; stage=ike_sa_init peer=%s gw=%s",
            peer, target);
    }
    return true;
}

/* Returns true if proposal prop offers every transform of suite. */
static bool
proposal_offers(const struct ike_proposal *prop, const struct ike_suite *s)
{
    struct ike_transform xf;
    size_t cur = 0;
    bool encr = false, prf = false, integ = s->integ == IKE_INTEG_NONE;
    bool dh = false, other_integ = false;

    while (ike_sa_payload_next_transform(prop, &cur, &xf, NULL) == 1) {
        switch (xf.type) {
        case IKE_T_ENCR:
            if (xf.id == s->encr && xf.has_key_length &&
                xf.key_length == s->encr_bits)
                encr = true;
            break;
        case IKE_T_PRF:
            prf |= xf.id == s->prf;
            break;
        case IKE_T_INTEG:
            if (xf.id == s->integ)
                integ = true;
            else if (xf.id != IKE_INTEG_NONE)
                other_integ = true;
            break;
        case IKE_T_DH:
            dh |= xf.id == s->dh;
            break;
        default:
            break;
        }
    }
    /* RFC 5282 8: an AEAD proposal carries no integrity algorithm. */
    if (s->integ == IKE_INTEG_NONE && other_integ)
        return false;
    return encr && prf && integ && dh;
}

/* Picks the first configured suite that a client proposal offers. */
int
exch_init_choose(const struct engine_config *cfg,
    const struct ike_payload *sa, uint8_t spi_size, struct ike_suite *out,
    uint8_t *prop_num, const uint8_t **spi)
{
    for (size_t i = 0; i < cfg->n_ike; i++) {
        struct ike_proposal prop;
        size_t cur = 0;

        while (ike_sa_payload_next_proposal(sa, &cur, &prop, NULL) == 1) {
            if (prop.proto_id != IKE_PROTO_IKE || prop.spi_size != spi_size)
                continue;
            if (proposal_offers(&prop, &cfg->ike[i])) {
                *out = cfg->ike[i];
                *prop_num = prop.num;
                if (spi != NULL)
                    *spi = prop.spi;
                return 0;
            }
        }
    }
    return -ENOENT;
}

/* Appends the SA payload holding the chosen suite (RFC 7296 3.3.6). */
void
exch_init_build_sa(struct ike_writer *w, const struct ike_suite *s,
    uint8_t prop_num, const uint8_t *spi, uint8_t spi_size)
{
    struct ike_transform xf[4];
    struct ike_proposal_spec spec;
    size_t n = 0;

    memset(xf, 0, sizeof(xf));
    xf[n].type = IKE_T_ENCR;
    xf[n].id = s->encr;
    xf[n].has_key_length = 1;
    xf[n++].key_length = s->encr_bits;
    xf[n].type = IKE_T_PRF;
    xf[n++].id = s->prf;
    if (s->integ != IKE_INTEG_NONE) {
        xf[n].type = IKE_T_INTEG;
        xf[n++].id = s->integ;
    }
    xf[n].type = IKE_T_DH;
    xf[n++].id = s->dh;
    memset(&spec, 0, sizeof(spec));
    spec.num = prop_num;
    spec.proto_id = IKE_PROTO_IKE;
    spec.spi_size = spi_size;
    spec.spi = spi;
    spec.transforms = xf;
    spec.n_transforms = n;
    ike_sa_payload_build(w, &spec, 1);
}

static void
build_natd(struct ike_writer *w, uint16_t type, const uint8_t spi_i[8],
    const uint8_t spi_r[8], const struct sockaddr *addr)
{
    uint8_t hash[IKE_NATD_HASH_LEN];
    const uint8_t *a;
    uint16_t port;
    size_t len = engine_addr_bytes(addr, &a, &port);

    if (ike_natd_hash(hash, spi_i, spi_r, a, len, port) < 0) {
        ike_writer_fail(w, -EIO);
        return;
    }
    ike_payload_build_notify(w, 0, NULL, 0, type, hash, sizeof(hash));
}

/* Logs what the client's NAT_DETECTION notifies tell (RFC 7296 2.23). */
static void
init_check_natd(const struct engine_rx *rx, const struct init_request *r)
{
    static const uint8_t zero[8];
    struct ike_notify n;
    const uint8_t *a;
    uint16_t port;
    size_t len;
    char peer[64];

    if (r->natd_src == NULL || r->natd_dst == NULL ||
        !log_enabled(LOG_LEVEL_DEBUG))
        return;
    engine_addr_text(rx->peer, peer, sizeof(peer));
    len = engine_addr_bytes(rx->peer, &a, &port);
    if (ike_payload_parse_notify(r->natd_src, &n, NULL) == 0 &&
        ike_natd_match(&n, r->msg->hdr.spi_i, zero, a, len, port, NULL) == 0)
        log_debug("ike", "client is behind a NAT; peer=%s", peer);
    len = engine_addr_bytes(rx->local, &a, &port);
    if (ike_payload_parse_notify(r->natd_dst, &n, NULL) == 0 &&
        ike_natd_match(&n, r->msg->hdr.spi_i, zero, a, len, port, NULL) == 0)
        log_debug("ike", "this gateway is behind a NAT; peer=%s", peer);
}

/* Makes a fresh, non-zero SPIr that no SA uses yet. */
void
exch_init_new_spi(struct ike_engine *e, uint8_t spi[8])
{
    static const uint8_t zero[8];

    do {
        engine_rand(spi, 8);
    } while (memcmp(spi, zero, 8) == 0 ||
        ike_sa_table_find(&e->table, spi) != NULL);
}

/* Generates KEr, computes g^ir and derives the SK_* keys into sa. */
static struct ike_ke *
init_keys(struct ike_engine *e, struct ike_sa *sa, const struct ike_suite *s,
    const struct init_request *r, const uint8_t *nr)
{
    struct ike_ke *ke = ike_ke_new(e->ke_ctx, s->dh);
    uint8_t g_ir[IKE_KE_MAX_SECRET_LEN];
    size_t g_len = ike_ke_secret_len(s->dh);
    struct ike_keys_seed seed = {
        r->ni.data, r->ni.len, nr, NR_LEN, sa->spi_i, sa->spi_r,
        e->prf_ctx,
    };
    int ret;

    if (ke == NULL)
        return NULL;
    ret = ike_ke_derive(ke, r->ke.data, r->ke.len, g_ir, sizeof(g_ir));
    if (ret == 0)
        ret = ike_keys_derive_sa(&sa->keys, s, g_ir, g_len, &seed);
    OPENSSL_cleanse(g_ir, sizeof(g_ir));
    if (ret < 0) {
        ike_ke_free(ke);
        return NULL;
    }
    return ke;
}

static int
init_save(struct ike_sa *sa, const struct init_request *r,
    const uint8_t digest[IKE_SA_DIGEST_LEN], const uint8_t *nr,
    const uint8_t *resp, size_t resp_len)
{
    struct ike_sa_init *in = calloc(1, sizeof(*in));

    if (in == NULL)
        return -ENOMEM;
    sa->init = in;
    if ((in->request = malloc(r->msg->len)) == NULL ||
        (in->response = malloc(resp_len)) == NULL)
        return -ENOMEM;
    memcpy(in->request, r->msg->raw, r->msg->len);
    in->request_len = r->msg->len;
    memcpy(in->response, resp, resp_len);
    in->response_len = resp_len;
    memcpy(in->digest, digest, IKE_SA_DIGEST_LEN);
    memcpy(in->ni, r->ni.data, r->ni.len);
    in->ni_len = (uint16_t)r->ni.len;
    memcpy(in->nr, nr, NR_LEN);
    in->nr_len = NR_LEN;
    return 0;
}

/* Builds the normal response, creates the half-open SA and sends. */
static void
init_accept(struct ike_engine *e, const struct engine_rx *rx,
    const struct init_request *r, const struct ike_suite *suite,
    uint8_t prop_num, const uint8_t digest[IKE_SA_DIGEST_LEN])
{
    struct ike_sa *sa = ike_sa_new();
    struct ike_ke *ke = NULL;
    struct ike_writer w;
    struct ike_header hdr;
    uint8_t nr[NR_LEN];
    const uint8_t *pub;
    size_t pub_len;
    char tag[160];

    if (sa == NULL)
        goto fail;
    memcpy(sa->spi_i, r->msg->hdr.spi_i, 8);
    exch_init_new_spi(e, sa->spi_r);
    engine_rand(nr, sizeof(nr));
    if ((ke = init_keys(e, sa, suite, r, nr)) == NULL) {
        /* A peer value that is not a valid point or element. */
        engine_count(e, ENGINE_CTR_RX_DROP_PARSE);
        goto fail;
    }
    engine_keylog_sa(e, sa);
    memset(&hdr, 0, sizeof(hdr));
    memcpy(hdr.spi_i, sa->spi_i, 8);
    memcpy(hdr.spi_r, sa->spi_r, 8);
    hdr.exchange = IKE_X_SA_INIT;
    hdr.flags = IKE_FLAG_RESPONSE;
    ike_writer_init(&w, e->out, sizeof(e->out));
    ike_msg_begin(&w, &hdr);
    exch_init_build_sa(&w, suite, prop_num, NULL, 0);
    pub = ike_ke_public(ke, &pub_len);
    ike_payload_build_ke(&w, suite->dh, pub, pub_len);
    ike_payload_build_nonce(&w, nr, sizeof(nr));
    build_natd(&w, IKE_N_NAT_DETECTION_SOURCE_IP, sa->spi_i, sa->spi_r,
        rx->local);
    build_natd(&w, IKE_N_NAT_DETECTION_DESTINATION_IP, sa->spi_i, sa->spi_r,
        rx->peer);
    /* RFC 6023 3: the responder announces support in its response, and
     * then accepts an IKE_AUTH without SA whether or not the request had
     * the notify.  strongSwan 5.9.8 does not send it as initiator, yet
     * goes childless once the response has it. */
    sa->childless = e->cfg->childless;
    if (sa->childless)
        ike_payload_build_notify(&w, 0, NULL, 0,
            IKE_N_CHILDLESS_IKEV2_SUPPORTED, NULL, 0);
    if (ike_writer_error(&w) < 0)
        goto fail;
    if (init_save(sa, r, digest, nr, e->out, ike_writer_len(&w)) < 0)
        goto fail;
    ike_sa_addr_set(&sa->local, rx->local);
    ike_sa_addr_set(&sa->peer, rx->peer);
    sa->state = IKE_SA_HALF_OPEN;
    sa->redirect_supported = r->redirect_supported || r->redirected_from;
    sa->rx_mid = 1;
    sa->created_ms = rx->now_ms;
    sa->last_rx_ms = rx->now_ms;
    sa->expire_ms = rx->now_ms + e->cfg->half_open_timeout_ms;
    sa->client_slot = engine_client_slot(rx->peer);
    ike_sa_table_insert(&e->table, sa);
    engine_digest_insert(e, sa);
    engine_sa_schedule(e, sa);
    e->n_half_open++;
    e->clients[sa->client_slot].half_open++;
    engine_count(e, ENGINE_CTR_INIT_ACCEPTED);
    if (r->redirected_from)
        engine_count(e, ENGINE_CTR_INIT_REDIRECTED_FROM);
    init_check_natd(rx, r);
    /* The tag costs more than the rest of the reply's bookkeeping, so it
     * is made only when the line is written. */
    if (log_enabled(LOG_LEVEL_DEBUG)) {
        engine_sa_tag(sa, tag, sizeof(tag));
        log_debug("ike", "IKE_SA_INIT response sent; %s", tag);
    }
    engine_send_raw(e, rx->local, rx->peer, e->out, ike_writer_len(&w));
    ike_ke_free(ke);
    OPENSSL_cleanse(nr, sizeof(nr));
    return;
fail:
    ike_ke_free(ke);
    ike_sa_free(sa);
    OPENSSL_cleanse(nr, sizeof(nr));
}

/* Resends the cached response to a repeated IKE_SA_INIT from its half-open
 * SA.  Returns true if one was found. */
static bool
init_retransmit(struct ike_engine *e, const struct engine_rx *rx,
    const uint8_t digest[IKE_SA_DIGEST_LEN])
{
    struct ike_sa *sa = engine_digest_find(e, digest);

    if (sa == NULL)
        return false;
    engine_count(e, ENGINE_CTR_RX_RETRANSMITS);
    engine_send_raw(e, rx->local, rx->peer, sa->init->response,
        sa->init->response_len);
    return true;
}

static bool
init_limits_ok(struct ike_engine *e, const struct engine_rx *rx)
{
    const struct engine_config *cfg = e->cfg;

    if (e->table.count >= cfg->max_sas) {
        engine_count(e, ENGINE_CTR_INIT_DROP_MAX_SAS);
        return false;
    }
    if (e->n_half_open >= cfg->max_half_open) {
        engine_count(e, ENGINE_CTR_INIT_DROP_HALF_OPEN);
        return false;
    }
    if (e->clients[engine_client_slot(rx->peer)].half_open >=
        cfg->max_half_open_per_peer) {
        engine_count(e, ENGINE_CTR_INIT_DROP_PEER_LIMIT);
        return false;
    }
    return true;
}

void
exch_init_request(struct ike_engine *e, const struct engine_rx *rx,
    const uint8_t *buf, size_t len)
{
    struct ike_msg msg;
    struct init_request r;
    struct ike_suite suite;
    uint8_t digest[IKE_SA_DIGEST_LEN], prop_num, group[2];
    unsigned int dlen = 0;

    if (ike_msg_parse(&msg, buf, len, NULL) < 0 ||
        init_parse(&r, &msg) < 0) {
        engine_count(e, ENGINE_CTR_RX_DROP_PARSE);
        return;
    }
    engine_count(e, ENGINE_CTR_INIT_REQUESTS);
    if (r.redirected_from_malformed)
        engine_count(e, ENGINE_CTR_INIT_REDIRECTED_FROM_MALFORMED);
    /* RFC 7296 2.1: match a retransmission by the packet, not by SPIi
     * and address, since two clients behind one NAT may pick one SPIi. */
    if (EVP_Digest(msg.raw, msg.len, digest, &dlen, e->sha256, NULL) != 1)
        return;
    if (init_retransmit(e, rx, digest))
        return;
    if (!init_limits_ok(e, rx))
        return;
    if (e->n_half_open >= e->cfg->cookie_threshold &&
        !cookie_valid(e, &r, rx->peer)) {
        uint8_t cookie[ENGINE_COOKIE_LEN];

        if (r.cookie != NULL)
            engine_count(e, ENGINE_CTR_INIT_COOKIE_INVALID);
        if (!engine_take_reply_token(e, rx->peer, rx->now_ms)) {
            engine_count(e, ENGINE_CTR_INIT_DROP_RATE);
            return;
        }
        if (cookie_compute(e, 0, &r, rx->peer, cookie) < 0)
            return;
        init_send_notify(e, rx, &msg, IKE_N_COOKIE, cookie, sizeof(cookie));
        engine_count(e, ENGINE_CTR_INIT_COOKIES_SENT);
        return;
    }
    if (init_redirect(e, rx, &r))
        return;
    if (exch_init_choose(e->cfg, r.sa, 0, &suite, &prop_num, NULL) < 0) {
        char peer[64];

        engine_count(e, ENGINE_CTR_INIT_NO_PROPOSAL);
        /* A stateless error reply is reflected to a possibly spoofed
         * source like a COOKIE, so it spends the same reply budget. */
        if (!engine_take_reply_token(e, rx->peer, rx->now_ms)) {
            engine_count(e, ENGINE_CTR_INIT_DROP_RATE);
            return;
        }
        init_send_notify(e, rx, &msg, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
        engine_addr_text(rx->peer, peer, sizeof(peer));
        log_write_limited(e->warn_rl, peer, strlen(peer), rx->now_ms,
            LOG_LEVEL_WARN, "ike", "no acceptable IKE proposal; peer=%s "
            "answer=NO_PROPOSAL_CHOSEN", peer);
        return;
    }
    if (r.ke.group != suite.dh) {
        /* RFC 7296 1.3: name the group we want. */
        engine_count(e, ENGINE_CTR_INIT_INVALID_KE);
        if (!engine_take_reply_token(e, rx->peer, rx->now_ms)) {
            engine_count(e, ENGINE_CTR_INIT_DROP_RATE);
            return;
        }
        ike_store16(group, suite.dh);
        init_send_notify(e, rx, &msg, IKE_N_INVALID_KE_PAYLOAD, group, 2);
        return;
    }
    init_accept(e, rx, &r, &suite, prop_num, digest);
}
