/*
 * IKE_AUTH with pre-shared keys (RFC 7296 1.2, 2.15), the first CHILD SA,
 * the inner address (RFC 7296 2.19) and the IKE_AUTH-stage redirect
 * (RFC 5685 6).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "engine_priv.h"
#include "ike_auth.h"
#include "ike_redirect.h"
#include "policy_static.h"
#include "rt/log.h"

/* Renders IDi data as the text that PSK entries and rules name. */
static int
auth_id_text(const struct ike_id *id, char *out, size_t cap)
{
    if (id->id_type == IKE_ID_IPV4_ADDR && id->len == 4)
        return inet_ntop(AF_INET, id->data, out, (socklen_t)cap) ? 0 :
            -EINVAL;
    if (id->id_type == IKE_ID_IPV6_ADDR && id->len == 16)
        return inet_ntop(AF_INET6, id->data, out, (socklen_t)cap) ? 0 :
            -EINVAL;
    if (id->len == 0 || id->len >= cap || memchr(id->data, 0, id->len))
        return -EINVAL;
    memcpy(out, id->data, id->len);
    out[id->len] = '\0';
    return 0;
}

static const struct engine_psk *
auth_find_psk(const struct engine_config *cfg, const char *id)
{
    const struct engine_psk *any = NULL;

    for (size_t i = 0; i < cfg->n_psks; i++) {
        if (strcmp(cfg->psks[i].id, id) == 0)
            return &cfg->psks[i];
        if (strcmp(cfg->psks[i].id, "*") == 0)
            any = &cfg->psks[i];
    }
    return any;
}

static void
auth_fail(struct ike_engine *e, struct ike_sa *sa, const struct engine_rx *rx,
    uint16_t notify, const char *why, const char *id)
{
    struct ike_writer w;
    char tag[160], idbuf[LOG_ESCAPE_SIZE(64)];

    ike_writer_init(&w, e->reply, sizeof(e->reply));
    ike_chain_begin(&w);
    ike_payload_build_notify(&w, 0, NULL, 0, notify, NULL, 0);
    engine_send_response(e, sa, rx, &w);
    engine_count(e, ENGINE_CTR_AUTH_FAILED);
    engine_sa_tag(sa, tag, sizeof(tag));
    log_warn("ike", "IKE_AUTH failed; %s id=%s reason=%s", tag,
        log_escape_str(idbuf, sizeof(idbuf), id), why);
    /* RFC 7296 2.21.2: AUTHENTICATION_FAILED ends the SA without a
     * Delete. */
    engine_sa_delete(e, sa, why);
}

/* Builds IDr and AUTH (RFC 7296 2.15) into w. */
static int
auth_build_own(struct ike_engine *e, struct ike_sa *sa,
    const struct engine_psk *psk, struct ike_writer *w)
{
    const struct engine_config *cfg = e->cfg;
    uint8_t idr[4 + ENGINE_ID_MAX], auth[IKE_PRF_MAX_LEN];
    size_t auth_len;
    struct ike_auth_octets in;
    int ret;

    memset(idr, 0, 4);
    idr[0] = cfg->local_id_type;
    memcpy(idr + 4, cfg->local_id, cfg->local_id_len);
    memset(&in, 0, sizeof(in));
    in.message = sa->init->response;
    in.message_len = sa->init->response_len;
    in.nonce = sa->init->ni;
    in.nonce_len = sa->init->ni_len;
    in.id = idr;
    in.id_len = 4 + cfg->local_id_len;
    in.sk_p = sa->keys.sk_pr;
    in.sk_p_len = sa->keys.prf_len;
    in.prf_ctx = e->prf_ctx;
    if ((ret = ike_auth_compute(IKE_AUTH_SHARED_KEY_MIC, sa->keys.suite.prf,
        psk->key, psk->key_len, &in, auth, sizeof(auth), &auth_len)) < 0)
        return ret;
    ike_payload_build_id(w, IKE_P_IDR, cfg->local_id_type, cfg->local_id,
        cfg->local_id_len);
    ike_payload_build_auth(w, IKE_AUTH_SHARED_KEY_MIC, auth, auth_len);
    OPENSSL_cleanse(auth, sizeof(auth));
    return ike_writer_error(w);
}

/*
 * Handles the CP and CHILD SA part.  Writes CP, SA, TSi, TSr or an error
 * notify into w.  Failures here keep the IKE SA (RFC 7296 2.21.2).
 */
static void
auth_child(struct ike_engine *e, struct ike_sa *sa, const struct engine_rx *rx,
    struct ike_writer *w)
{
    const struct ike_chain *c = &rx->inner;
    const struct ike_payload *cp_p = ike_chain_find(c, IKE_P_CP, NULL);
    struct exch_child_plan plan;
    struct in_addr vip = { 0 };
    uint16_t err;
    bool want_dns = false;

    if (ike_chain_find(c, IKE_P_SA, NULL) == NULL) {
        /* RFC 6023: a childless IKE SA. */
        if (!sa->childless)
            ike_payload_build_notify(w, 0, NULL, 0, IKE_N_INVALID_SYNTAX,
                NULL, 0);
        return;
    }
    if ((err = exch_child_choose(e, c, 0, &plan)) != 0) {
        engine_count(e, ENGINE_CTR_CHILD_NO_PROPOSAL);
        ike_payload_build_notify(w, 0, NULL, 0, err, NULL, 0);
        return;
    }
    if (cp_p != NULL) {
        struct ike_cp cp;
        struct ike_cp_attr a;
        size_t cur = 0;
        struct in_addr req = { 0 };
        bool want_v4 = false;

        if (ike_payload_parse_cp(cp_p, &cp, NULL) == 0 &&
            cp.cfg_type == IKE_CFG_REQUEST) {
            while (ike_payload_next_cp_attr(&cp, &cur, &a, NULL) == 1) {
                if (a.type == IKE_CA_INTERNAL_IP4_ADDRESS) {
                    want_v4 = true;
                    if (a.len == 4)
                        memcpy(&req, a.value, 4);
                } else if (a.type == IKE_CA_INTERNAL_IP4_DNS) {
                    want_dns = true;
                }
            }
        }
        if (want_v4 && (e->pool == NULL ||
            pool_acquire(e->pool, sa->id, sa->id_len, req, &vip) < 0)) {
            engine_count(e, ENGINE_CTR_CHILD_ADDRESS_FAILURE);
            ike_payload_build_notify(w, 0, NULL, 0,
                IKE_N_INTERNAL_ADDRESS_FAILURE, NULL, 0);
            return;
        }
    }
    if ((err = exch_child_narrow(e, c, vip, &plan)) != 0) {
        if (vip.s_addr != 0)
            pool_release(e->pool, vip);
        engine_count(e, ENGINE_CTR_CHILD_TS_UNACCEPTABLE);
        ike_payload_build_notify(w, 0, NULL, 0, err, NULL, 0);
        return;
    }
    if (exch_child_keys(e, sa, &plan, sa->init->ni, sa->init->ni_len,
        sa->init->nr, sa->init->nr_len, NULL, 0) < 0) {
        if (vip.s_addr != 0)
            pool_release(e->pool, vip);
        ike_payload_build_notify(w, 0, NULL, 0, IKE_N_NO_PROPOSAL_CHOSEN,
            NULL, 0);
        return;
    }
    if (vip.s_addr != 0) {
        struct ike_cp_attr attrs[1 + ENGINE_MAX_DNS];
        size_t n = 0;

        attrs[n].type = IKE_CA_INTERNAL_IP4_ADDRESS;
        attrs[n].value = (const uint8_t *)&vip;
        attrs[n++].len = 4;
        for (size_t i = 0; want_dns && i < e->cfg->n_dns; i++) {
            attrs[n].type = IKE_CA_INTERNAL_IP4_DNS;
            attrs[n].value = (const uint8_t *)&e->cfg->dns[i];
            attrs[n++].len = 4;
        }
        /* RFC 7296 2.19: the CP comes before the SA payload. */
        ike_payload_build_cp(w, IKE_CFG_REPLY, attrs, n);
        sa->vip = vip;
    }
    exch_child_build_sa(w, &plan);
    exch_child_build_ts(w, &plan);
    exch_child_add(sa, &plan);
    engine_count(e, ENGINE_CTR_CHILD_CREATED);
}

/* Asks the policy about the authenticated identity. */
static bool
auth_policy(struct ike_engine *e, struct ike_sa *sa,
    const struct engine_rx *rx, struct policy_target *t)
{
    struct policy_query q;

    if (!sa->redirect_supported || e->policy.decide == NULL)
        return false;
    memset(&q, 0, sizeof(q));
    q.stage = POLICY_STAGE_AUTH;
    q.peer = rx->peer;
    q.local = rx->local;
    q.id_type = sa->id_type;
    q.id = (const uint8_t *)sa->id;
    q.id_len = sa->id_len;
    return e->policy.decide(e->policy.arg, &q, t) == POLICY_REDIRECT;
}

void
exch_auth_request(struct ike_engine *e, struct ike_sa *sa,
    const struct engine_rx *rx)
{
    const struct ike_chain *c = &rx->inner;
    const struct ike_payload *idi_p = ike_chain_find(c, IKE_P_IDI, NULL);
    const struct ike_payload *auth_p = ike_chain_find(c, IKE_P_AUTH, NULL);
    const struct engine_psk *psk;
    struct ike_id idi;
    struct ike_auth auth;
    struct ike_auth_octets in;
    struct policy_target target;
    struct ike_writer w;
    char id[ENGINE_ID_MAX + 1], tag[160], idlog[LOG_ESCAPE_SIZE(64)];
    char gw[IKE_REDIRECT_GW_TEXT_MAX], vip[INET_ADDRSTRLEN] = "none";
    bool redirect;

    if (idi_p == NULL || auth_p == NULL ||
        ike_payload_parse_id(idi_p, &idi, NULL) < 0 ||
        ike_payload_parse_auth(auth_p, &auth, NULL) < 0 ||
        auth_id_text(&idi, id, sizeof(id)) < 0) {
        /* TODO: EAP (no AUTH payload in the first request) is not
         * implemented, so such clients get INVALID_SYNTAX. */
        auth_fail(e, sa, rx, IKE_N_INVALID_SYNTAX, "invalid_syntax", "");
        return;
    }
    if ((psk = auth_find_psk(e->cfg, id)) == NULL) {
        auth_fail(e, sa, rx, IKE_N_AUTHENTICATION_FAILED, "unknown_id", id);
        return;
    }
    memset(&in, 0, sizeof(in));
    in.message = sa->init->request;
    in.message_len = sa->init->request_len;
    in.nonce = sa->init->nr;
    in.nonce_len = sa->init->nr_len;
    in.id = idi_p->body;
    in.id_len = idi_p->body_len;
    in.sk_p = sa->keys.sk_pi;
    in.sk_p_len = sa->keys.prf_len;
    in.prf_ctx = e->prf_ctx;
    if (ike_auth_verify(auth.method, sa->keys.suite.prf, psk->key,
        psk->key_len, &in, auth.data, auth.len) < 0) {
        auth_fail(e, sa, rx, IKE_N_AUTHENTICATION_FAILED, "auth_mismatch",
            id);
        return;
    }
    if ((sa->id = strdup(id)) == NULL)
        return;
    sa->id_type = idi.id_type;
    sa->id_len = (uint8_t)strlen(id);
    ike_writer_init(&w, e->reply, sizeof(e->reply));
    ike_chain_begin(&w);
    if (auth_build_own(e, sa, psk, &w) < 0) {
        log_error("ike", "computing our AUTH failed");
        return;
    }
    redirect = auth_policy(e, sa, rx, &target);
    if (redirect && e->cfg->auth_redirect == ENGINE_AUTH_REDIRECT_RFC) {
        struct ike_redirect_gw g = { target.gw_type, target.id, target.len };

        /* RFC 5685 6: IDr, AUTH and REDIRECT; no CHILD SA, no address. */
        ike_redirect_build(&w, &g, NULL, 0);
        sa->redirected = true;
    } else {
        auth_child(e, sa, rx, &w);
    }
    if (ike_writer_error(&w) < 0) {
        log_error("ike", "building the IKE_AUTH response failed");
        return;
    }
    engine_sa_established(e, sa, rx->now_ms);
    engine_send_response(e, sa, rx, &w);
    ike_sa_drop_init(sa);
    engine_count(e, ENGINE_CTR_SA_ESTABLISHED);
    if (log_enabled(LOG_LEVEL_INFO)) {
        engine_sa_tag(sa, tag, sizeof(tag));
        if (sa->vip.s_addr != 0)
            inet_ntop(AF_INET, &sa->vip, vip, sizeof(vip));
        log_info("ike", "IKE SA established; %s id=%s vip=%s children=%u",
            tag, log_escape_str(idlog, sizeof(idlog), id), vip,
            (unsigned)sa->n_children);
    }
    if (!redirect)
        return;
    policy_target_to_text(&target, gw, sizeof(gw));
    engine_count(e, ENGINE_CTR_REDIRECT_AUTH);
    if (e->cfg->auth_redirect == ENGINE_AUTH_REDIRECT_RFC) {
        sa->expire_ms = rx->now_ms + e->cfg->auth_redirect_delete_ms;
        engine_sa_schedule(e, sa);
        log_info("ike", "redirecting peer; stage=ike_auth mode=rfc %s gw=%s",
            tag, gw);
        return;
    }
    log_info("ike", "redirecting peer; stage=ike_auth mode=informational %s"
        " gw=%s", tag, gw);
    if (engine_redirect_later(e, sa, &target,
        rx->now_ms + e->cfg->auth_redirect_delay_ms) < 0)
        engine_count(e, ENGINE_CTR_TX_ERRORS);
}
