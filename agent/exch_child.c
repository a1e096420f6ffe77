/*
 * CHILD SA negotiation (RFC 7296 2.7, 2.9, 2.17) for IKE_AUTH and
 * CREATE_CHILD_SA, and the CREATE_CHILD_SA exchange itself: new CHILD SAs,
 * CHILD SA rekeys (RFC 7296 2.8) and IKE SA rekeys (RFC 7296 2.18).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "engine_priv.h"
#include "ike_sa_payload.h"
#include "rt/log.h"

#define NR_LEN 32

static bool
esp_offers(const struct ike_proposal *prop,
    const struct engine_esp_proposal *want, uint16_t ke_group)
{
    struct ike_transform xf;
    size_t cur = 0;
    bool encr = false, integ = want->suite.integ == IKE_INTEG_NONE;
    bool esn_no = false, esn_any = false, dh = ke_group == 0;
    bool other_integ = false;

    while (ike_sa_payload_next_transform(prop, &cur, &xf, NULL) == 1) {
        switch (xf.type) {
        case IKE_T_ENCR:
            if (xf.id == want->suite.encr && xf.has_key_length &&
                xf.key_length == want->suite.encr_bits)
                encr = true;
            break;
        case IKE_T_INTEG:
            if (xf.id == want->suite.integ)
                integ = true;
            else if (xf.id != IKE_INTEG_NONE)
                other_integ = true;
            break;
        case IKE_T_ESN:
            esn_any = true;
            esn_no |= xf.id == IKE_ESN_NO;
            break;
        case IKE_T_DH:
            if (ke_group != 0 && xf.id == ke_group)
                dh = true;
            break;
        default:
            break;
        }
    }
    if (want->suite.integ == IKE_INTEG_NONE && other_integ)
        return false;
    /* We do not implement extended sequence numbers. */
    return encr && integ && dh && (esn_no || !esn_any);
}

uint16_t
exch_child_choose(struct ike_engine *e, const struct ike_chain *req,
    uint16_t ke_group, struct exch_child_plan *plan)
{
    const struct ike_payload *sa = ike_chain_find(req, IKE_P_SA, NULL);
    const struct engine_config *cfg = e->cfg;

    memset(plan, 0, sizeof(*plan));
    if (sa == NULL)
        return IKE_N_NO_PROPOSAL_CHOSEN;
    for (size_t i = 0; i < cfg->n_esp; i++) {
        struct ike_proposal prop;
        size_t cur = 0;

        while (ike_sa_payload_next_proposal(sa, &cur, &prop, NULL) == 1) {
            if (prop.proto_id != IKE_PROTO_ESP || prop.spi_size != 4)
                continue;
            if (!esp_offers(&prop, &cfg->esp[i], ke_group))
                continue;
            plan->prop_num = prop.num;
            plan->suite = cfg->esp[i].suite;
            plan->dh = ke_group;
            plan->spi_i = ike_load32(prop.spi);
            /* SPIs 1-255 are reserved (RFC 4303 2.1). */
            do {
                engine_rand(&plan->spi_r, sizeof(plan->spi_r));
            } while (plan->spi_r < 256);
            return 0;
        }
    }
    return IKE_N_NO_PROPOSAL_CHOSEN;
}

static uint32_t
load4(const uint8_t *p)
{
    return ike_load32(p);
}

/* Collects the IPv4 range selectors of the TS payload of `type`. */
static size_t
ts_collect(const struct ike_chain *req, uint8_t type, struct exch_ts4 *out)
{
    const struct ike_payload *p = ike_chain_find(req, type, NULL);
    struct ike_ts_payload tsp;
    struct ike_ts ts;
    size_t cur = 0, n = 0;

    if (p == NULL || ike_payload_parse_ts(p, &tsp, NULL) < 0)
        return 0;
    /* TODO: IPv6 selectors are skipped, so an IPv6-only child gets
     * TS_UNACCEPTABLE. */
    while (n < EXCH_CHILD_MAX_TS &&
        ike_payload_next_ts(&tsp, &cur, &ts, NULL) == 1) {
        if (ts.type != IKE_TS_IPV4_ADDR_RANGE || ts.addr_len != 4)
            continue;
        out[n].ip_proto = ts.ip_proto;
        out[n].start_port = ts.start_port;
        out[n].end_port = ts.end_port;
        memcpy(out[n].start, ts.start_addr, 4);
        memcpy(out[n].end, ts.end_addr, 4);
        n++;
    }
    return n;
}

uint16_t
exch_child_narrow(struct ike_engine *e, const struct ike_chain *req,
    struct in_addr vip, struct exch_child_plan *plan)
{
    struct exch_ts4 tsi[EXCH_CHILD_MAX_TS], tsr[EXCH_CHILD_MAX_TS];
    size_t n_tsi = ts_collect(req, IKE_P_TSI, tsi);
    size_t n_tsr = ts_collect(req, IKE_P_TSR, tsr);
    const struct engine_config *cfg = e->cfg;

    plan->n_tsi = plan->n_tsr = 0;
    if (vip.s_addr != 0) {
        uint32_t v = ntohl(vip.s_addr);

        /* RFC 7296 2.19: TSi becomes the assigned address alone. */
        for (size_t i = 0; i < n_tsi && plan->n_tsi == 0; i++) {
            if (v < load4(tsi[i].start) || v > load4(tsi[i].end))
                continue;
            plan->tsi[0] = tsi[i];
            memcpy(plan->tsi[0].start, &vip, 4);
            memcpy(plan->tsi[0].end, &vip, 4);
            plan->n_tsi = 1;
        }
    } else {
        /* TODO: without an inner address the client's TSi is accepted as
         * proposed, not checked against its outer address. */
        memcpy(plan->tsi, tsi, n_tsi * sizeof(tsi[0]));
        plan->n_tsi = n_tsi;
    }
    if (cfg->n_subnets == 0) {
        memcpy(plan->tsr, tsr, n_tsr * sizeof(tsr[0]));
        plan->n_tsr = n_tsr;
    }
    for (size_t s = 0; s < cfg->n_subnets; s++) {
        const struct config_prefix *pfx = &cfg->subnets[s];
        uint32_t lo, hi;

        if (pfx->family != AF_INET)
            continue;
        lo = ntohl(pfx->addr.v4.s_addr);
        hi = lo | (pfx->len == 0 ? 0xffffffffu :
            (uint32_t)((1ull << (32 - pfx->len)) - 1));
        for (size_t i = 0; i < n_tsr && plan->n_tsr < EXCH_CHILD_MAX_TS;
            i++) {
            uint32_t a = load4(tsr[i].start), b = load4(tsr[i].end);
            uint32_t x = a > lo ? a : lo, y = b < hi ? b : hi;
            struct exch_ts4 *t;

            if (x > y)
                continue;
            t = &plan->tsr[plan->n_tsr++];
            *t = tsr[i];
            ike_store32(t->start, x);
            ike_store32(t->end, y);
        }
    }
    if (plan->n_tsi == 0 || plan->n_tsr == 0)
        return IKE_N_TS_UNACCEPTABLE;
    return 0;
}

void
exch_child_build_sa(struct ike_writer *w, const struct exch_child_plan *plan)
{
    struct ike_transform xf[4];
    struct ike_proposal_spec spec;
    uint8_t spi[4];
    size_t n = 0;

    memset(xf, 0, sizeof(xf));
    xf[n].type = IKE_T_ENCR;
    xf[n].id = plan->suite.encr;
    xf[n].has_key_length = 1;
    xf[n++].key_length = plan->suite.encr_bits;
    if (plan->suite.integ != IKE_INTEG_NONE) {
        xf[n].type = IKE_T_INTEG;
        xf[n++].id = plan->suite.integ;
    }
    if (plan->dh != 0) {
        xf[n].type = IKE_T_DH;
        xf[n++].id = plan->dh;
    }
    xf[n].type = IKE_T_ESN;
    xf[n++].id = IKE_ESN_NO;
    ike_store32(spi, plan->spi_r);
    memset(&spec, 0, sizeof(spec));
    spec.num = plan->prop_num;
    spec.proto_id = IKE_PROTO_ESP;
    spec.spi_size = 4;
    spec.spi = spi;
    spec.transforms = xf;
    spec.n_transforms = n;
    ike_sa_payload_build(w, &spec, 1);
}

static void
build_ts(struct ike_writer *w, uint8_t type, const struct exch_ts4 *in,
    size_t n)
{
    struct ike_ts ts[EXCH_CHILD_MAX_TS];

    memset(ts, 0, sizeof(ts));
    for (size_t i = 0; i < n; i++) {
        ts[i].type = IKE_TS_IPV4_ADDR_RANGE;
        ts[i].ip_proto = in[i].ip_proto;
        ts[i].start_port = in[i].start_port;
        ts[i].end_port = in[i].end_port;
        ts[i].start_addr = in[i].start;
        ts[i].end_addr = in[i].end;
        ts[i].addr_len = 4;
    }
    ike_payload_build_ts(w, type, ts, n);
}

void
exch_child_build_ts(struct ike_writer *w, const struct exch_child_plan *plan)
{
    build_ts(w, IKE_P_TSI, plan->tsi, plan->n_tsi);
    build_ts(w, IKE_P_TSR, plan->tsr, plan->n_tsr);
}

int
exch_child_keys(struct ike_engine *e, struct ike_sa *sa,
    const struct exch_child_plan *plan, const uint8_t *ni, size_t ni_len,
    const uint8_t *nr, size_t nr_len, const uint8_t *g_ir, size_t g_ir_len)
{
    struct ike_child_keys keys;
    struct ike_keys_seed seed = {
        ni, ni_len, nr, nr_len, NULL, NULL, e->prf_ctx,
    };
    int ret;

    ret = ike_keys_derive_child(&keys, &plan->suite, &sa->keys, g_ir,
        g_ir_len, &seed);
    ike_keys_wipe_child(&keys);
    if (ret == 0)
        engine_log_child_keys_once(e);
    return ret;
}

int
exch_child_add(struct ike_sa *sa, const struct exch_child_plan *plan)
{
    if (sa->n_children >= IKE_SA_MAX_CHILDREN)
        return -ENOSPC;
    sa->children[sa->n_children].spi_i = plan->spi_i;
    sa->children[sa->n_children].spi_r = plan->spi_r;
    sa->n_children++;
    return 0;
}

static void
reply_notify(struct ike_engine *e, struct ike_sa *sa,
    const struct engine_rx *rx, uint16_t type, const uint8_t *data,
    size_t len)
{
    struct ike_writer w;

    ike_writer_init(&w, e->reply, sizeof(e->reply));
    ike_chain_begin(&w);
    ike_payload_build_notify(&w, 0, NULL, 0, type, data, len);
    engine_send_response(e, sa, rx, &w);
}

/* Generates KEr and g^ir for `group`; NULL on failure. */
static struct ike_ke *
child_dh(struct ike_engine *e, const struct ike_ke_payload *kei, uint8_t *g_ir,
    size_t *g_len)
{
    struct ike_ke *ke = ike_ke_new(e->ke_ctx, kei->group);

    if (ke == NULL)
        return NULL;
    *g_len = ike_ke_secret_len(kei->group);
    if (ike_ke_derive(ke, kei->data, kei->len, g_ir,
        IKE_KE_MAX_SECRET_LEN) < 0) {
        ike_ke_free(ke);
        return NULL;
    }
    return ke;
}

/* Rekeys the IKE SA (RFC 7296 2.18): a new SA replaces sa. */
static void
child_rekey_ike(struct ike_engine *e, struct ike_sa *sa,
    const struct engine_rx *rx, const struct ike_nonce *ni,
    const struct ike_ke_payload *kei)
{
    const struct ike_payload *sap = ike_chain_find(&rx->inner, IKE_P_SA,
        NULL);
    struct ike_suite suite;
    uint8_t prop_num, nr[NR_LEN], g_ir[IKE_KE_MAX_SECRET_LEN], group[2];
    const uint8_t *spi;
    struct ike_sa *n = NULL;
    struct ike_ke *ke = NULL;
    struct ike_writer w;
    const uint8_t *pub;
    size_t pub_len, g_len = 0;
    char tag[160];

    if (exch_init_choose(e->cfg, sap, 8, &suite, &prop_num, &spi) < 0) {
        reply_notify(e, sa, rx, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
        return;
    }
    if (kei == NULL || kei->group != suite.dh) {
        ike_store16(group, suite.dh);
        reply_notify(e, sa, rx, IKE_N_INVALID_KE_PAYLOAD, group, 2);
        return;
    }
    if ((n = ike_sa_new()) == NULL || (ke = child_dh(e, kei, g_ir, &g_len))
        == NULL)
        goto out;
    memcpy(n->spi_i, spi, 8);
    exch_init_new_spi(e, n->spi_r);
    engine_rand(nr, sizeof(nr));
    {
        struct ike_keys_seed seed = {
            ni->data, ni->len, nr, sizeof(nr), n->spi_i, n->spi_r,
            e->prf_ctx,
        };

        if (ike_keys_rekey_sa(&n->keys, &suite, &sa->keys, g_ir, g_len,
            &seed) < 0)
            goto out;
    }
    engine_keylog_sa(e, n);
    ike_writer_init(&w, e->reply, sizeof(e->reply));
    ike_chain_begin(&w);
    exch_init_build_sa(&w, &suite, prop_num, n->spi_r, 8);
    ike_payload_build_nonce(&w, nr, sizeof(nr));
    pub = ike_ke_public(ke, &pub_len);
    ike_payload_build_ke(&w, suite.dh, pub, pub_len);
    if (ike_writer_error(&w) < 0)
        goto out;
    /* The new SA takes over identity, address, children and the
     * redirect support flag; its message IDs start at 0. */
    n->local = sa->local;
    n->peer = sa->peer;
    n->state = IKE_SA_ESTABLISHED;
    n->redirect_supported = sa->redirect_supported;
    n->redirected = sa->redirected;
    n->childless = sa->childless;
    n->id_type = sa->id_type;
    n->id_len = sa->id_len;
    n->id = sa->id;
    sa->id = NULL;
    n->vip = sa->vip;
    sa->vip.s_addr = 0;
    memcpy(n->children, sa->children, sizeof(sa->children));
    n->n_children = sa->n_children;
    sa->n_children = 0;
    n->created_ms = n->established_ms = n->last_rx_ms = rx->now_ms;
    n->client_slot = sa->client_slot;
    ike_sa_table_insert(&e->table, n);
    engine_sa_schedule(e, n);
    engine_send_response(e, sa, rx, &w);
    /* The client deletes the old SA; if it does not, we do. */
    sa->expire_ms = rx->now_ms + e->cfg->redirect_grace_ms;
    engine_sa_schedule(e, sa);
    engine_count(e, ENGINE_CTR_IKE_REKEYED);
    engine_sa_tag(n, tag, sizeof(tag));
    log_info("ike", "IKE SA rekeyed; %s", tag);
    n = NULL;
out:
    ike_sa_free(n);
    ike_ke_free(ke);
    OPENSSL_cleanse(g_ir, sizeof(g_ir));
    OPENSSL_cleanse(nr, sizeof(nr));
}

/* Creates or rekeys a CHILD SA (RFC 7296 1.3.1, 1.3.3). */
static void
child_create(struct ike_engine *e, struct ike_sa *sa,
    const struct engine_rx *rx, const struct ike_nonce *ni,
    const struct ike_ke_payload *kei)
{
    struct ike_notify rekey;
    bool is_rekey = ike_chain_find_notify(&rx->inner, IKE_N_REKEY_SA,
        &rekey) != NULL;
    struct exch_child_plan plan;
    uint8_t nr[NR_LEN], g_ir[IKE_KE_MAX_SECRET_LEN];
    struct ike_ke *ke = NULL;
    struct ike_writer w;
    size_t g_len = 0;
    uint16_t err;
    int old = -1;

    if (is_rekey) {
        for (int i = 0; i < sa->n_children; i++) {
            if (rekey.spi_size == 4 &&
                sa->children[i].spi_i == ike_load32(rekey.spi))
                old = i;
        }
        if (old < 0) {
            reply_notify(e, sa, rx, IKE_N_CHILD_SA_NOT_FOUND, NULL, 0);
            return;
        }
    } else if (sa->redirected) {
        /* RFC 5685 5: no new CHILD SAs once the client is sent away. */
        engine_count(e, ENGINE_CTR_CHILD_REFUSED_REDIRECTED);
        reply_notify(e, sa, rx, IKE_N_NO_ADDITIONAL_SAS, NULL, 0);
        return;
    }
    if (kei != NULL && ike_ke_public_len(kei->group) == 0) {
        uint8_t group[2];

        ike_store16(group, e->cfg->ike[0].dh);
        reply_notify(e, sa, rx, IKE_N_INVALID_KE_PAYLOAD, group, 2);
        return;
    }
    if ((err = exch_child_choose(e, &rx->inner, kei ? kei->group : 0,
        &plan)) != 0 ||
        (err = exch_child_narrow(e, &rx->inner, sa->vip, &plan)) != 0) {
        engine_count(e, err == IKE_N_TS_UNACCEPTABLE ?
            ENGINE_CTR_CHILD_TS_UNACCEPTABLE : ENGINE_CTR_CHILD_NO_PROPOSAL);
        reply_notify(e, sa, rx, err, NULL, 0);
        return;
    }
    if (!is_rekey && sa->n_children >= IKE_SA_MAX_CHILDREN) {
        reply_notify(e, sa, rx, IKE_N_NO_ADDITIONAL_SAS, NULL, 0);
        return;
    }
    engine_rand(nr, sizeof(nr));
    if (kei != NULL && (ke = child_dh(e, kei, g_ir, &g_len)) == NULL) {
        reply_notify(e, sa, rx, IKE_N_INVALID_SYNTAX, NULL, 0);
        goto out;
    }
    if (exch_child_keys(e, sa, &plan, ni->data, ni->len, nr, sizeof(nr),
        ke ? g_ir : NULL, g_len) < 0)
        goto out;
    ike_writer_init(&w, e->reply, sizeof(e->reply));
    ike_chain_begin(&w);
    exch_child_build_sa(&w, &plan);
    ike_payload_build_nonce(&w, nr, sizeof(nr));
    if (ke != NULL) {
        size_t pub_len;
        const uint8_t *pub = ike_ke_public(ke, &pub_len);

        ike_payload_build_ke(&w, kei->group, pub, pub_len);
    }
    exch_child_build_ts(&w, &plan);
    if (is_rekey) {
        /* The old child stays until the client deletes it; replace it in
         * place when the table is full. */
        if (exch_child_add(sa, &plan) < 0) {
            sa->children[old].spi_i = plan.spi_i;
            sa->children[old].spi_r = plan.spi_r;
        }
        engine_count(e, ENGINE_CTR_CHILD_REKEYED);
    } else {
        exch_child_add(sa, &plan);
        engine_count(e, ENGINE_CTR_CHILD_CREATED);
    }
    engine_send_response(e, sa, rx, &w);
out:
    ike_ke_free(ke);
    OPENSSL_cleanse(g_ir, sizeof(g_ir));
    OPENSSL_cleanse(nr, sizeof(nr));
}

void
exch_child_request(struct ike_engine *e, struct ike_sa *sa,
    const struct engine_rx *rx)
{
    const struct ike_chain *c = &rx->inner;
    const struct ike_payload *sap = ike_chain_find(c, IKE_P_SA, NULL);
    const struct ike_payload *p;
    struct ike_nonce ni;
    struct ike_ke_payload kei;
    struct ike_proposal prop;
    size_t cur = 0;
    bool have_ke = false;

    if (sap == NULL || (p = ike_chain_find(c, IKE_P_NONCE, NULL)) == NULL ||
        ike_payload_parse_nonce(p, &ni, NULL) < 0 ||
        ike_sa_payload_next_proposal(sap, &cur, &prop, NULL) != 1) {
        reply_notify(e, sa, rx, IKE_N_INVALID_SYNTAX, NULL, 0);
        return;
    }
    if ((p = ike_chain_find(c, IKE_P_KE, NULL)) != NULL) {
        if (ike_payload_parse_ke(p, &kei, NULL) < 0) {
            reply_notify(e, sa, rx, IKE_N_INVALID_SYNTAX, NULL, 0);
            return;
        }
        have_ke = true;
    }
    if (sa->state != IKE_SA_ESTABLISHED) {
        reply_notify(e, sa, rx, IKE_N_TEMPORARY_FAILURE, NULL, 0);
        return;
    }
    if (prop.proto_id == IKE_PROTO_IKE)
        child_rekey_ike(e, sa, rx, &ni, have_ke ? &kei : NULL);
    else
        child_create(e, sa, rx, &ni, have_ke ? &kei : NULL);
}
