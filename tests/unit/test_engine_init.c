/*
 * The responder engine at IKE_SA_INIT, driven in memory by the test
 * initiator: each suite, the three redirect cases of RFC 5685 at this
 * stage, COOKIE and INVALID_KE_PAYLOAD and their order, retransmissions,
 * the half-open timeout, the per-client redirect bound and malformed
 * requests.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <string.h>

#include "engine_harness.h"
#include "ike_const.h"
#include "ike_msg.h"
#include "ike_redirect.h"

static struct harness h;

static void
setup(void)
{
    harness_init(&h);
}

static void
teardown(void)
{
    harness_free(&h);
}

TestSuite(engine_init, .init = setup, .fini = teardown);

static const uint8_t target_v4[4] = { 198, 51, 100, 4 };

static void
set_target(struct policy_target *t)
{
    memset(t, 0, sizeof(*t));
    t->gw_type = IKE_GW_IPV4;
    t->len = 4;
    memcpy(t->id, target_v4, 4);
}

static struct ike_initiator *
new_client(const struct ike_suite *suite,
    enum ike_initiator_redirect_mode mode)
{
    struct ike_initiator_config cfg = harness_client_config(&h, suite);

    cfg.redirect = mode;
    if (mode == IKE_INITIATOR_REDIRECT_FROM)
        cr_assert_eq(ike_initiator_gw_set(&cfg.from_gw, IKE_GW_IPV4,
            target_v4, 4), 0);

    struct ike_initiator *ini = ike_initiator_new(&cfg);

    cr_assert_not_null(ini);
    return ini;
}

static uint64_t
counter(enum engine_counter c)
{
    return engine_counter_get(h.engine, c);
}

ParameterizedTestParameters(engine_init, accepts_each_configured_suite)
{
    static struct ike_suite suites[3];

    suites[0] = harness_suite_gcm_x25519;
    suites[1] = harness_suite_cbc_modp2048;
    suites[2] = harness_suite_gcm_p256;
    return cr_make_param_array(struct ike_suite, suites, 3);
}

ParameterizedTest(struct ike_suite *suite, engine_init,
    accepts_each_configured_suite)
{
    struct ike_initiator_out out;
    struct ike_msg msg;
    static const uint8_t zero[8];

    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator *ini = new_client(suite,
        IKE_INITIATOR_REDIRECT_SUPPORTED);

    /* IKE_SA_INIT { SA, KE, Ni, N(NAT_D) x2, N(REDIRECT_SUPPORTED) } --> */
    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(harness_input(&h, out.msg, out.len), 1);

    const struct harness_dgram *d = harness_last(&h);

    /* <-- IKE_SA_INIT { SA, KE, Nr, N(NAT_D) x2 } */
    cr_assert_eq(ike_msg_parse(&msg, d->msg, d->len, NULL), 0);
    cr_assert_neq(memcmp(msg.hdr.spi_r, zero, 8), 0);
    cr_assert_not_null(ike_chain_find(&msg.chain, IKE_P_NONCE, NULL));
    cr_assert_eq(harness_deliver_last(&h, ini, &out),
        IKE_INITIATOR_EV_AUTH_SENT);
    cr_assert_not(ike_initiator_nat_detected(ini));
    cr_assert_eq(engine_half_open_count(h.engine), 1);
    cr_assert_eq(counter(ENGINE_CTR_INIT_ACCEPTED), 1);
    ike_initiator_free(ini);
}

Test(engine_init, redirects_with_only_the_redirect_notify)
{
    struct ike_initiator_out out;
    struct ike_msg msg;
    struct ike_notify n;
    struct ike_redirect r;
    static const uint8_t zero[8];
    size_t ni_len;

    h.policy.have_all_target = true;
    set_target(&h.policy.all_target);
    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator *ini = new_client(&harness_suite_gcm_x25519,
        IKE_INITIATOR_REDIRECT_SUPPORTED);
    const uint8_t *ni = ike_initiator_ni(ini, &ni_len);

    /* IKE_SA_INIT { SA, KE, Ni, N(NAT_D) x2, N(REDIRECT_SUPPORTED) } --> */
    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(harness_input(&h, out.msg, out.len), 1);

    /* <-- IKE_SA_INIT { N(REDIRECT, 198.51.100.4, Ni) } */
    const struct harness_dgram *d = harness_last(&h);

    cr_assert_eq(ike_msg_parse(&msg, d->msg, d->len, NULL), 0);
    cr_assert_eq(msg.chain.count, 1);
    cr_assert_eq(memcmp(msg.hdr.spi_r, zero, 8), 0);
    cr_assert_not_null(ike_chain_find_notify(&msg.chain, IKE_N_REDIRECT, &n));
    cr_assert_eq(ike_redirect_parse(&n, IKE_REDIRECT_CTX_INIT_RESPONSE, &r,
        NULL), 0);
    cr_assert_eq(r.nonce_len, ni_len);
    cr_assert_arr_eq(r.nonce, ni, ni_len);
    cr_assert_eq(harness_deliver_last(&h, ini, &out),
        IKE_INITIATOR_EV_REDIRECT);
    cr_assert_arr_eq(ike_initiator_redirect_target(ini)->value, target_v4, 4);
    cr_assert_eq(engine_sa_count(h.engine), 0);
    cr_assert_eq(counter(ENGINE_CTR_REDIRECT_INIT), 1);
    ike_initiator_free(ini);
}

Test(engine_init, accepts_redirected_from_while_active)
{
    h.policy.have_all_target = true;
    set_target(&h.policy.all_target);
    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator *ini = new_client(&harness_suite_gcm_x25519,
        IKE_INITIATOR_REDIRECT_FROM);
    struct ike_initiator_out out;

    /* IKE_SA_INIT { SA, KE, Ni, N(NAT_D) x2, N(REDIRECTED_FROM) } --> */
    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    /* <-- IKE_SA_INIT { SA, KE, Nr, N(NAT_D) x2 } */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_AUTH_SENT);
    cr_assert_eq(counter(ENGINE_CTR_INIT_REDIRECTED_FROM), 1);
    cr_assert_eq(counter(ENGINE_CTR_REDIRECT_INIT), 0);
    ike_initiator_free(ini);
}

/* Bodies of N(REDIRECTED_FROM) whose GW identity does not decode. */
struct bad_from {
    uint8_t data[8];
    size_t len;
};

static struct bad_from bad_froms[] = {
    { { IKE_GW_IPV4, 2, 198, 51 }, 4 },                 /* 2-octet IPv4 */
    { { 99, 4, 198, 51, 100, 4 }, 6 },                  /* unknown type */
    { { IKE_GW_IPV4, 8, 198, 51, 100, 4 }, 6 },         /* length too long */
    { { 0 }, 0 },                                       /* empty */
};

ParameterizedTestParameters(engine_init, ignores_malformed_redirected_from)
{
    return cr_make_param_array(struct bad_from, bad_froms,
        sizeof(bad_froms) / sizeof(bad_froms[0]));
}

ParameterizedTest(struct bad_from *bf, engine_init,
    ignores_malformed_redirected_from)
{
    struct ike_initiator_notify extra = { IKE_N_REDIRECTED_FROM, bf->data,
        bf->len };
    struct ike_initiator_out out;

    h.policy.have_all_target = true;
    set_target(&h.policy.all_target);
    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator_config cfg = harness_client_config(&h,
        &harness_suite_gcm_x25519);

    cfg.redirect = IKE_INITIATOR_REDIRECT_NONE;
    cfg.init_notifies = &extra;
    cfg.n_init_notifies = 1;

    struct ike_initiator *ini = ike_initiator_new(&cfg);

    cr_assert_not_null(ini);
    /* IKE_SA_INIT { SA, KE, Ni, N(NAT_D) x2, N(REDIRECTED_FROM, bad) } -->
     * is served as from a client without RFC 5685 support. */
    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_AUTH_SENT);
    cr_expect_eq(counter(ENGINE_CTR_REDIRECT_INIT), 0);
    cr_expect_eq(counter(ENGINE_CTR_INIT_REDIRECTED_FROM), 0);
    cr_expect_eq(counter(ENGINE_CTR_INIT_REDIRECTED_FROM_MALFORMED), 1);
    cr_expect_eq(counter(ENGINE_CTR_INIT_NO_REDIRECT_SUPPORT), 1);
    ike_initiator_free(ini);
}

Test(engine_init, redirected_from_without_proposal_is_not_accepted)
{
    static const struct ike_suite weak = {
        IKE_ENCR_AES_CBC, 128, IKE_PRF_HMAC_SHA1, IKE_INTEG_HMAC_SHA1_96,
        IKE_DH_ECP_384,
    };
    struct ike_initiator_out out;

    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator *ini = new_client(&weak, IKE_INITIATOR_REDIRECT_FROM);

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    /* <-- IKE_SA_INIT { N(NO_PROPOSAL_CHOSEN) } */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_ERROR);
    cr_expect_eq(counter(ENGINE_CTR_INIT_NO_PROPOSAL), 1);
    cr_expect_eq(counter(ENGINE_CTR_INIT_REDIRECTED_FROM), 0);
    ike_initiator_free(ini);
}

Test(engine_init, redirects_redirected_from_while_draining)
{
    h.policy.state = POLICY_ADMIN_DRAINING;
    h.policy.have_drain_target = true;
    set_target(&h.policy.drain_target);
    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator *ini = new_client(&harness_suite_gcm_x25519,
        IKE_INITIATOR_REDIRECT_FROM);
    struct ike_initiator_out out;

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    /* <-- IKE_SA_INIT { N(REDIRECT, 198.51.100.4, Ni) } */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_REDIRECT);
    cr_assert_eq(counter(ENGINE_CTR_REDIRECT_INIT), 1);
    cr_assert_eq(engine_sa_count(h.engine), 0);
    ike_initiator_free(ini);
}

Test(engine_init, serves_and_counts_client_without_support)
{
    h.policy.have_all_target = true;
    set_target(&h.policy.all_target);
    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator *ini = new_client(&harness_suite_gcm_x25519,
        IKE_INITIATOR_REDIRECT_NONE);
    struct ike_initiator_out out;

    /* IKE_SA_INIT { SA, KE, Ni, N(NAT_D) x2 } --> */
    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    /* <-- IKE_SA_INIT { SA, KE, Nr, N(NAT_D) x2 } */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_AUTH_SENT);
    cr_assert_eq(counter(ENGINE_CTR_INIT_NO_REDIRECT_SUPPORT), 1);
    cr_assert_eq(counter(ENGINE_CTR_REDIRECT_INIT), 0);
    ike_initiator_free(ini);
}

Test(engine_init, redirects_anycast_arrivals)
{
    harness_addr4(&h.anycast, "198.51.100.3", 500);
    h.cfg.anycast = &h.anycast;
    h.cfg.n_anycast = 1;
    h.policy.have_anycast_target = true;
    set_target(&h.policy.anycast_target);
    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator *ini = new_client(&harness_suite_gcm_x25519,
        IKE_INITIATOR_REDIRECT_SUPPORTED);
    struct ike_initiator_out out;

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_REDIRECT);
    ike_initiator_free(ini);
}

Test(engine_init, asks_cookie_then_group_then_accepts)
{
    struct ike_initiator_config cfg =
        harness_client_config(&h, &harness_suite_gcm_x25519);
    struct ike_initiator_out out;
    size_t cookie_len;

    h.cfg.cookie_threshold = 0;
    cr_assert_eq(harness_start(&h), 0);
    cfg.ke_group = IKE_DH_ECP_256;

    struct ike_initiator *ini = ike_initiator_new(&cfg);

    /* IKE_SA_INIT { SA(x25519), KE(P-256), Ni, ... } --> */
    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    /* <-- IKE_SA_INIT { N(COOKIE) } */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_COOKIE);
    cr_assert_not_null(ike_initiator_cookie(ini, &cookie_len));
    cr_assert_eq(engine_sa_count(h.engine), 0);
    /* IKE_SA_INIT { N(COOKIE), SA, KE(P-256), Ni, ... } --> */
    /* <-- IKE_SA_INIT { N(INVALID_KE_PAYLOAD, 31) } */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_INVALID_KE);
    cr_assert_eq(ike_initiator_ke_group(ini), IKE_DH_CURVE25519);
    cr_assert_eq(engine_sa_count(h.engine), 0);
    /* IKE_SA_INIT { N(COOKIE), SA, KE(x25519), Ni, ... } --> */
    /* <-- IKE_SA_INIT { SA, KE, Nr, N(NAT_D) x2 } */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_AUTH_SENT);
    cr_assert_eq(counter(ENGINE_CTR_INIT_COOKIES_SENT), 1);
    cr_assert_eq(counter(ENGINE_CTR_INIT_INVALID_KE), 1);
    cr_assert_eq(engine_half_open_count(h.engine), 1);
    ike_initiator_free(ini);
}

Test(engine_init, sends_cookie_before_redirect_before_ke_check)
{
    struct ike_initiator_config cfg =
        harness_client_config(&h, &harness_suite_gcm_x25519);
    struct ike_initiator_out out;

    h.cfg.cookie_threshold = 0;
    h.policy.have_all_target = true;
    set_target(&h.policy.all_target);
    cr_assert_eq(harness_start(&h), 0);
    cfg.ke_group = IKE_DH_ECP_256;

    struct ike_initiator *ini = ike_initiator_new(&cfg);

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    /* <-- IKE_SA_INIT { N(COOKIE) } */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_COOKIE);
    /* <-- IKE_SA_INIT { N(REDIRECT) }, not INVALID_KE_PAYLOAD */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_REDIRECT);
    cr_assert_eq(counter(ENGINE_CTR_INIT_INVALID_KE), 0);
    ike_initiator_free(ini);
}

Test(engine_init, answers_no_proposal_chosen)
{
    static const struct ike_suite weak = {
        IKE_ENCR_AES_CBC, 128, IKE_PRF_HMAC_SHA1, IKE_INTEG_HMAC_SHA1_96,
        IKE_DH_ECP_384,
    };
    struct ike_initiator_out out;

    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator *ini = new_client(&weak, IKE_INITIATOR_REDIRECT_NONE);

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    /* <-- IKE_SA_INIT { N(NO_PROPOSAL_CHOSEN) } */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_ERROR);
    cr_assert_eq(ike_initiator_error(ini), IKE_N_NO_PROPOSAL_CHOSEN);
    cr_assert_eq(engine_sa_count(h.engine), 0);
    cr_assert_eq(counter(ENGINE_CTR_INIT_NO_PROPOSAL), 1);
    ike_initiator_free(ini);
}

Test(engine_init, repeats_cached_response_to_retransmission)
{
    struct ike_initiator_out out;
    uint8_t first[IKE_INITIATOR_MSG_MAX];
    size_t first_len;

    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator *ini = new_client(&harness_suite_gcm_x25519,
        IKE_INITIATOR_REDIRECT_SUPPORTED);

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(harness_input(&h, out.msg, out.len), 1);
    first_len = harness_last(&h)->len;
    memcpy(first, harness_last(&h)->msg, first_len);
    /* IKE_SA_INIT (retransmitted) --> */
    cr_assert_eq(ike_initiator_retransmit(ini, &out), 0);
    cr_assert_eq(harness_input(&h, out.msg, out.len), 1);
    cr_assert_eq(harness_last(&h)->len, first_len);
    cr_assert_arr_eq(harness_last(&h)->msg, first, first_len);
    cr_assert_eq(engine_sa_count(h.engine), 1);
    cr_assert_eq(counter(ENGINE_CTR_RX_RETRANSMITS), 1);
    ike_initiator_free(ini);
}

Test(engine_init, expires_half_open_sa)
{
    struct ike_initiator_out out;

    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator *ini = new_client(&harness_suite_gcm_x25519,
        IKE_INITIATOR_REDIRECT_SUPPORTED);

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_AUTH_SENT);
    cr_assert_eq(engine_half_open_count(h.engine), 1);
    engine_run_timers(h.engine, h.now_ms + h.cfg.half_open_timeout_ms - 1);
    cr_assert_eq(engine_sa_count(h.engine), 1);
    engine_run_timers(h.engine, h.now_ms + h.cfg.half_open_timeout_ms + 1);
    cr_assert_eq(engine_sa_count(h.engine), 0);
    cr_assert_eq(counter(ENGINE_CTR_HALF_OPEN_EXPIRED), 1);
    ike_initiator_free(ini);
}

Test(engine_init, bounds_redirects_per_client)
{
    h.policy.have_all_target = true;
    set_target(&h.policy.all_target);
    cr_assert_eq(harness_start(&h), 0);

    /* The engine bounds redirects per client: by default 5 in 300 s. */
    for (int i = 0; i < 5; i++) {
        struct ike_initiator *ini = new_client(&harness_suite_gcm_x25519,
            IKE_INITIATOR_REDIRECT_SUPPORTED);

        cr_assert_eq(harness_run(&h, ini), IKE_INITIATOR_EV_REDIRECT,
            "redirect %d", i + 1);
        ike_initiator_free(ini);
        h.now_ms += 1000;
    }

    struct ike_initiator *sixth = new_client(&harness_suite_gcm_x25519,
        IKE_INITIATOR_REDIRECT_SUPPORTED);
    struct ike_initiator_out out;

    cr_assert_eq(ike_initiator_start(sixth, &out), 0);
    cr_assert_eq(harness_step(&h, sixth, &out), IKE_INITIATOR_EV_AUTH_SENT);
    cr_assert_eq(counter(ENGINE_CTR_REDIRECT_CLIENT_LIMIT), 1);
    ike_initiator_free(sixth);

    h.now_ms += h.cfg.client_redirect_period_ms;

    struct ike_initiator *later = new_client(&harness_suite_gcm_x25519,
        IKE_INITIATOR_REDIRECT_SUPPORTED);

    cr_assert_eq(harness_run(&h, later), IKE_INITIATOR_EV_REDIRECT);
    ike_initiator_free(later);
}

/* One damaged IKE_SA_INIT request. */
struct init_fault {
    enum ike_initiator_fault fault;
    uint32_t arg;
};

ParameterizedTestParameters(engine_init, drops_damaged_request_then_serves)
{
    static struct init_fault cases[] = {
        { IKE_INITIATOR_FAULT_TRUNCATE, 0 },
        { IKE_INITIATOR_FAULT_TRUNCATE, 27 },
        { IKE_INITIATOR_FAULT_TRUNCATE, 28 },
        { IKE_INITIATOR_FAULT_TRUNCATE, 60 },
        { IKE_INITIATOR_FAULT_TRUNCATE, 100 },
        { IKE_INITIATOR_FAULT_HDR_LENGTH, 1 },
        { IKE_INITIATOR_FAULT_HDR_LENGTH, 0xffffff00u },
        { IKE_INITIATOR_FAULT_PAYLOAD_LENGTH, 1 },
        { IKE_INITIATOR_FAULT_PAYLOAD_LENGTH, 0xfff0 },
        { IKE_INITIATOR_FAULT_CRITICAL, 0 },
        { IKE_INITIATOR_FAULT_MSG_ID, 1 },
        { IKE_INITIATOR_FAULT_SPI_R, 0 },
    };

    return cr_make_param_array(struct init_fault, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct init_fault *c, engine_init,
    drops_damaged_request_then_serves)
{
    struct ike_initiator_out out;

    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator *ini = new_client(&harness_suite_gcm_x25519,
        IKE_INITIATOR_REDIRECT_SUPPORTED);

    ike_initiator_set_fault(ini, c->fault, c->arg);
    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    cr_assert_eq(harness_input(&h, out.msg, out.len), 0,
        "fault %d/%u was answered", c->fault, c->arg);
    cr_assert_eq(engine_sa_count(h.engine), 0);
    /* The intact copy, as a retransmission, is still served. */
    cr_assert_eq(ike_initiator_retransmit(ini, &out), 0);
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_AUTH_SENT);
    ike_initiator_free(ini);
}

Test(engine_init, survives_garbage_datagrams)
{
    uint8_t junk[600];

    cr_assert_eq(harness_start(&h), 0);
    /* A deterministic sequence, so that a failure can be repeated. */
    uint32_t x = 0x12345678;

    for (int round = 0; round < 200; round++) {
        size_t len = (size_t)round * 3 % sizeof(junk);

        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            junk[i] = (uint8_t)(x >> 16);
        }
        if (len >= 28) {
            /* A plausible header, so parsing goes past the first check. */
            junk[16] = IKE_P_SA;
            junk[17] = IKE_VERSION_2;
            junk[18] = IKE_X_SA_INIT;
            junk[19] = IKE_FLAG_INITIATOR;
            ike_store32(junk + 24, (uint32_t)len);
        }
        harness_input(&h, junk, len);
    }
    cr_assert_eq(engine_sa_count(h.engine), 0);
    cr_assert_gt(counter(ENGINE_CTR_RX_DROP_PARSE), 0);
}
