/*
 * The responder engine after IKE_AUTH, driven in memory by the test
 * initiator: mid-session REDIRECT through engine_redirect_sas(), DELETE,
 * liveness checks in both directions, message ID checks, and rekeys of
 * the CHILD SA and the IKE SA.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "engine_harness.h"
#include "ike_const.h"
#include "ike_msg.h"

static struct harness h;
static struct ike_initiator *ini;

static void
setup(void)
{
    harness_init(&h);
    ini = NULL;
}

static void
teardown(void)
{
    ike_initiator_free(ini);
    harness_free(&h);
}

TestSuite(engine_info, .init = setup, .fini = teardown);

static const uint8_t target_v4[4] = { 198, 51, 100, 4 };

static uint64_t
counter(enum engine_counter c)
{
    return engine_counter_get(h.engine, c);
}

/* Starts the engine and establishes one client in the given mode. */
static void
establish(enum ike_initiator_redirect_mode mode)
{
    struct ike_initiator_config cfg =
        harness_client_config(&h, &harness_suite_gcm_x25519);

    cr_assert_eq(harness_start(&h), 0);
    cfg.redirect = mode;
    if (mode == IKE_INITIATOR_REDIRECT_FROM)
        cr_assert_eq(ike_initiator_gw_set(&cfg.from_gw, IKE_GW_IPV4,
            target_v4, 4), 0);
    ini = ike_initiator_new(&cfg);
    cr_assert_not_null(ini);
    /* IKE_SA_INIT, IKE_AUTH --> <-- */
    cr_assert_eq(harness_run(&h, ini), IKE_INITIATOR_EV_ESTABLISHED);
}

static struct policy_target
target(void)
{
    struct policy_target t;

    memset(&t, 0, sizeof(t));
    t.gw_type = IKE_GW_IPV4;
    t.len = 4;
    memcpy(t.id, target_v4, 4);
    return t;
}

Test(engine_info, redirects_established_sa_by_id)
{
    struct engine_selector sel = { .id = "client@example.net" };
    struct policy_target t = target();
    struct ike_initiator_out out;
    struct engine_sa_info info;
    struct ike_msg msg;

    establish(IKE_INITIATOR_REDIRECT_SUPPORTED);
    cr_assert_eq(engine_redirect_sas(h.engine, &sel, &t, h.now_ms), 1);
    /* <-- INFORMATIONAL { N(REDIRECT, 198.51.100.4) }, MID 0 */
    cr_assert_eq(ike_msg_parse(&msg, harness_last(&h)->msg,
        harness_last(&h)->len, NULL), 0);
    cr_assert_eq(msg.hdr.exchange, IKE_X_INFORMATIONAL);
    cr_assert_eq(msg.hdr.msg_id, 0);
    cr_assert_eq(msg.hdr.flags, 0);
    cr_assert_eq(harness_deliver_last(&h, ini, &out),
        IKE_INITIATOR_EV_PEER_REDIRECT);
    cr_assert_arr_eq(ike_initiator_redirect_target(ini)->value, target_v4, 4);
    /* INFORMATIONAL { } --> */
    cr_assert_eq(harness_input(&h, out.msg, out.len), 0);
    cr_assert(harness_find_sa(&h, ike_initiator_spi_i(ini), &info));
    cr_assert(info.redirected);
    cr_assert_eq(counter(ENGINE_CTR_REDIRECT_MIDSESSION), 1);
}

Test(engine_info, redirects_client_that_arrived_by_redirect)
{
    struct engine_selector sel = { .id = "client@example.net" };
    struct policy_target t = target();
    struct ike_initiator_out out;

    establish(IKE_INITIATOR_REDIRECT_FROM);
    cr_assert_eq(engine_redirect_sas(h.engine, &sel, &t, h.now_ms), 1);
    cr_assert_eq(harness_deliver_last(&h, ini, &out),
        IKE_INITIATOR_EV_PEER_REDIRECT);
}

Test(engine_info, refuses_redirect_without_support)
{
    struct engine_selector sel = { .id = "client@example.net" };
    struct policy_target t = target();
    size_t before;

    establish(IKE_INITIATOR_REDIRECT_NONE);
    before = h.n_sent;
    cr_assert_eq(engine_redirect_sas(h.engine, &sel, &t, h.now_ms), 0);
    cr_assert_eq(h.n_sent, before);
    cr_assert_eq(counter(ENGINE_CTR_REDIRECT_MIDSESSION), 0);
}

Test(engine_info, refuses_redirect_to_own_address)
{
    struct engine_selector sel = { .id = "client@example.net" };
    const struct sockaddr_in *gw = (const struct sockaddr_in *)&h.gw;
    struct policy_target self = { .gw_type = IKE_GW_IPV4, .len = 4 };
    size_t before;

    memcpy(self.id, &gw->sin_addr, 4);
    establish(IKE_INITIATOR_REDIRECT_SUPPORTED);
    before = h.n_sent;
    cr_assert_eq(engine_redirect_sas(h.engine, &sel, &self, h.now_ms), 0);
    cr_assert_eq(h.n_sent, before);
    cr_assert_eq(counter(ENGINE_CTR_REDIRECT_SELF), 1);
    cr_assert_eq(counter(ENGINE_CTR_REDIRECT_MIDSESSION), 0);
}

Test(engine_info, rejects_empty_selector)
{
    struct engine_selector sel = { 0 };
    struct policy_target t = target();

    establish(IKE_INITIATOR_REDIRECT_SUPPORTED);
    cr_assert_lt(engine_redirect_sas(h.engine, &sel, &t, h.now_ms), 0);
}

Test(engine_info, deletes_sa_on_client_delete)
{
    struct ike_initiator_out out;

    establish(IKE_INITIATOR_REDIRECT_SUPPORTED);
    /* INFORMATIONAL { D(IKE) } --> */
    cr_assert_eq(ike_initiator_delete(ini, &out), 0);
    /* <-- INFORMATIONAL { } */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_RESPONSE);
    cr_assert_eq(engine_sa_count(h.engine), 0);
    cr_assert_eq(counter(ENGINE_CTR_DELETES_RECEIVED), 1);
}

Test(engine_info, answers_liveness_check_and_its_retransmission)
{
    struct ike_initiator_out out, again;
    uint8_t first[IKE_INITIATOR_MSG_MAX];
    size_t first_len;

    establish(IKE_INITIATOR_REDIRECT_SUPPORTED);
    /* INFORMATIONAL { } --> */
    cr_assert_eq(ike_initiator_liveness(ini, &out), 0);
    cr_assert_eq(harness_input(&h, out.msg, out.len), 1);
    first_len = harness_last(&h)->len;
    memcpy(first, harness_last(&h)->msg, first_len);
    cr_assert_eq(ike_initiator_retransmit(ini, &again), 0);
    cr_assert_eq(harness_input(&h, again.msg, again.len), 1);
    cr_assert_eq(harness_last(&h)->len, first_len);
    cr_assert_arr_eq(harness_last(&h)->msg, first, first_len);
    /* <-- INFORMATIONAL { } */
    cr_assert_eq(harness_deliver_last(&h, ini, &out),
        IKE_INITIATOR_EV_RESPONSE);
}

Test(engine_info, drops_old_and_future_message_ids)
{
    struct ike_initiator_out out;
    uint8_t auth_req[IKE_INITIATOR_MSG_MAX];
    size_t auth_len = 0;

    /* Keep the IKE_AUTH request (MID 1) to replay it later. */
    struct ike_initiator_config cfg =
        harness_client_config(&h, &harness_suite_gcm_x25519);

    cr_assert_eq(harness_start(&h), 0);
    ini = ike_initiator_new(&cfg);
    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_AUTH_SENT);
    memcpy(auth_req, out.msg, out.len);
    auth_len = out.len;
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_ESTABLISHED);

    /* INFORMATIONAL (MID 3, one beyond the window) --> dropped */
    ike_initiator_set_fault(ini, IKE_INITIATOR_FAULT_MSG_ID, 1);
    cr_assert_eq(ike_initiator_liveness(ini, &out), 0);
    cr_assert_eq(harness_input(&h, out.msg, out.len), 0);
    cr_assert_eq(counter(ENGINE_CTR_RX_DROP_FUTURE_MID), 1);
    /* INFORMATIONAL (MID 2) --> <-- */
    cr_assert_eq(ike_initiator_retransmit(ini, &out), 0);
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_RESPONSE);
    /* IKE_AUTH (MID 1, older than the cached response) --> dropped */
    cr_assert_eq(harness_input(&h, auth_req, auth_len), 0);
    cr_assert_eq(counter(ENGINE_CTR_RX_DROP_OLD_MID), 1);
}

Test(engine_info, drops_informational_with_bad_icv)
{
    struct ike_initiator_out out;

    establish(IKE_INITIATOR_REDIRECT_SUPPORTED);
    ike_initiator_set_fault(ini, IKE_INITIATOR_FAULT_ICV, 0);
    cr_assert_eq(ike_initiator_delete(ini, &out), 0);
    cr_assert_eq(harness_input(&h, out.msg, out.len), 0);
    cr_assert_eq(engine_sa_count(h.engine), 1);
    cr_assert_eq(counter(ENGINE_CTR_RX_DROP_INTEGRITY), 1);
}

Test(engine_info, sends_liveness_check_when_idle)
{
    struct ike_initiator_out out;
    size_t before;
    struct ike_msg msg;

    establish(IKE_INITIATOR_REDIRECT_SUPPORTED);
    before = h.n_sent;
    h.now_ms += h.cfg.liveness_interval_ms + 1;
    engine_run_timers(h.engine, h.now_ms);
    cr_assert_eq(h.n_sent, before + 1);
    /* <-- INFORMATIONAL { } */
    cr_assert_eq(ike_msg_parse(&msg, harness_last(&h)->msg,
        harness_last(&h)->len, NULL), 0);
    cr_assert_eq(msg.hdr.exchange, IKE_X_INFORMATIONAL);
    cr_assert_eq(harness_deliver_last(&h, ini, &out),
        IKE_INITIATOR_EV_PEER_REQUEST);
    /* INFORMATIONAL { } --> */
    cr_assert_eq(harness_input(&h, out.msg, out.len), 0);
    cr_assert_eq(counter(ENGINE_CTR_LIVENESS_SENT), 1);
    cr_assert_eq(counter(ENGINE_CTR_LIVENESS_FAILED), 0);
    cr_assert_eq(engine_sa_count(h.engine), 1);
}

Test(engine_info, deletes_sa_after_unanswered_liveness)
{
    establish(IKE_INITIATOR_REDIRECT_SUPPORTED);
    h.now_ms += h.cfg.liveness_interval_ms + 1;
    /* The client is gone: nothing is delivered to it. */
    for (int i = 0; i < 64 && engine_sa_count(h.engine) > 0; i++) {
        uint64_t next = engine_run_timers(h.engine, h.now_ms);

        if (next == UINT64_MAX)
            break;
        h.now_ms = next > h.now_ms ? next : h.now_ms + 1;
    }
    cr_assert_eq(engine_sa_count(h.engine), 0);
    cr_assert_eq(counter(ENGINE_CTR_LIVENESS_FAILED), 1);
}

Test(engine_info, rekeys_child_sa)
{
    struct ike_initiator_out out;
    uint8_t old_spi[4];

    establish(IKE_INITIATOR_REDIRECT_SUPPORTED);
    memcpy(old_spi, ike_initiator_child_spi(ini, false), 4);
    /* CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, TSi, TSr } --> */
    cr_assert_eq(ike_initiator_rekey_child(ini, &out), 0);
    /* <-- CREATE_CHILD_SA { SA, Nr, TSi, TSr } */
    cr_assert_eq(harness_step(&h, ini, &out),
        IKE_INITIATOR_EV_CHILD_REKEYED);
    cr_assert_neq(memcmp(old_spi, ike_initiator_child_spi(ini, false), 4),
        0);
    /* INFORMATIONAL { D(ESP, old SPI) } --> <-- */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_RESPONSE);
    cr_assert_eq(counter(ENGINE_CTR_CHILD_REKEYED), 1);
    cr_assert_eq(engine_sa_count(h.engine), 1);
}

Test(engine_info, rekeys_ike_sa_keeping_redirect_support)
{
    struct ike_initiator_out out;
    struct engine_sa_info info;
    uint8_t old_spi[8];

    establish(IKE_INITIATOR_REDIRECT_SUPPORTED);
    memcpy(old_spi, ike_initiator_spi_i(ini), 8);
    /* CREATE_CHILD_SA { SA(IKE, new SPIi), Ni, KEi } --> */
    cr_assert_eq(ike_initiator_rekey_ike(ini, &out), 0);
    /* <-- CREATE_CHILD_SA { SA(IKE, new SPIr), Nr, KEr } */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_IKE_REKEYED);
    /* INFORMATIONAL { D(IKE) } on the old SA --> <-- */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_RESPONSE);
    cr_assert_eq(counter(ENGINE_CTR_IKE_REKEYED), 1);
    cr_assert_eq(engine_sa_count(h.engine), 1);
    cr_assert_not(harness_find_sa(&h, old_spi, &info));
    cr_assert(harness_find_sa(&h, ike_initiator_spi_i(ini), &info));
    cr_assert(info.redirect_supported);
    cr_assert_str_eq(info.state, "established");

    /* The new SA works: liveness, then a mid-session REDIRECT. */
    cr_assert_eq(ike_initiator_liveness(ini, &out), 0);
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_RESPONSE);

    struct engine_selector sel = { .spi_i = ike_initiator_spi_i(ini) };
    struct policy_target t = target();

    cr_assert_eq(engine_redirect_sas(h.engine, &sel, &t, h.now_ms), 1);
    cr_assert_eq(harness_deliver_last(&h, ini, &out),
        IKE_INITIATOR_EV_PEER_REDIRECT);
}
