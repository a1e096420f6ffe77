/*
 * INFORMATIONAL exchanges (RFC 7296 1.4): Delete of IKE and CHILD SAs,
 * liveness checks in both directions (RFC 7296 2.4) and the mid-session
 * REDIRECT (RFC 5685 5), which the gateway sends as the original
 * responder with its own message IDs, sealed with SK_er/SK_ar.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_priv.h"
#include "ike_redirect.h"
#include "rt/log.h"

static void
info_delete_children(struct ike_engine *e, struct ike_sa *sa,
    const struct ike_delete *d, struct ike_writer *w)
{
    uint8_t spis[4 * IKE_SA_MAX_CHILDREN];
    uint16_t n = 0;

    (void)e;
    for (uint16_t i = 0; i < d->n_spi; i++) {
        uint32_t spi = ike_load32(d->spis + 4 * i);

        for (int c = 0; c < sa->n_children; c++) {
            if (sa->children[c].spi_i != spi)
                continue;
            ike_store32(spis + 4 * n++, sa->children[c].spi_r);
            sa->children[c] = sa->children[--sa->n_children];
            break;
        }
    }
    /* RFC 7296 1.4.1: answer with the SPIs of our half of each pair. */
    if (n > 0)
        ike_payload_build_delete(w, IKE_PROTO_ESP, 4, spis, n);
}

void
exch_info_request(struct ike_engine *e, struct ike_sa *sa,
    const struct engine_rx *rx)
{
    const struct ike_payload *p = NULL;
    struct ike_writer w;
    bool delete_ike = false;

    ike_writer_init(&w, e->reply, sizeof(e->reply));
    ike_chain_begin(&w);
    while ((p = ike_chain_find(&rx->inner, IKE_P_DELETE, p)) != NULL) {
        struct ike_delete d;

        if (ike_payload_parse_delete(p, &d, NULL) < 0)
            continue;
        engine_count(e, ENGINE_CTR_DELETES_RECEIVED);
        if (d.proto_id == IKE_PROTO_IKE)
            delete_ike = true;
        else if (d.proto_id == IKE_PROTO_ESP && d.spi_size == 4)
            info_delete_children(e, sa, &d, &w);
    }
    if (delete_ike) {
        /* RFC 7296 1.4.1: the response to an IKE SA Delete is empty. */
        ike_writer_init(&w, e->reply, sizeof(e->reply));
        ike_chain_begin(&w);
        engine_send_response(e, sa, rx, &w);
        engine_sa_delete(e, sa, "deleted_by_peer");
        return;
    }
    engine_send_response(e, sa, rx, &w);
}

void
exch_info_response(struct ike_engine *e, struct ike_sa *sa,
    const struct engine_rx *rx)
{
    struct ike_sa_request *req = sa->request;
    uint8_t kind = req->kind;

    (void)rx;
    free(req);
    sa->request = NULL;
    switch (kind) {
    case IKE_SA_REQ_REDIRECT:
        /* RFC 5685 5: the client now builds its SA at the target and
         * deletes this one; after the grace time we delete it. */
        if (sa->expire_ms == 0)
            sa->expire_ms = rx->now_ms + e->cfg->redirect_grace_ms;
        break;
    case IKE_SA_REQ_DELETE:
        engine_sa_delete(e, sa, "deleted");
        return;
    default:
        break;
    }
    /* A REDIRECT may be waiting for the request slot, which is free now. */
    engine_sa_schedule(e, sa);
}

int
exch_info_send_redirect(struct ike_engine *e, struct ike_sa *sa,
    const struct policy_target *target, uint64_t now_ms)
{
    struct ike_redirect_gw gw = { target->gw_type, target->id, target->len };
    struct ike_writer w;
    int ret;

    ike_writer_init(&w, e->reply, sizeof(e->reply));
    ike_chain_begin(&w);
    /* RFC 5685 9.2: outside IKE_SA_INIT the REDIRECT has no nonce. */
    ike_redirect_build(&w, &gw, NULL, 0);
    if ((ret = engine_send_request(e, sa, IKE_SA_REQ_REDIRECT, &w,
        now_ms)) < 0)
        return ret;
    sa->redirected = true;
    return 0;
}

int
exch_info_send_liveness(struct ike_engine *e, struct ike_sa *sa,
    uint64_t now_ms)
{
    struct ike_writer w;
    int ret;

    ike_writer_init(&w, e->reply, sizeof(e->reply));
    ike_chain_begin(&w);
    if ((ret = engine_send_request(e, sa, IKE_SA_REQ_LIVENESS, &w,
        now_ms)) == 0)
        engine_count(e, ENGINE_CTR_LIVENESS_SENT);
    return ret;
}

int
exch_info_send_delete(struct ike_engine *e, struct ike_sa *sa,
    uint64_t now_ms)
{
    struct ike_writer w;

    ike_writer_init(&w, e->reply, sizeof(e->reply));
    ike_chain_begin(&w);
    ike_payload_build_delete(&w, IKE_PROTO_IKE, 0, NULL, 0);
    return engine_send_request(e, sa, IKE_SA_REQ_DELETE, &w, now_ms);
}
