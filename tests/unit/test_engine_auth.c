/*
 * The responder engine at IKE_AUTH, driven in memory by the test
 * initiator: establishment with each suite and an inner address, PSK
 * failure, CHILD SA failures, the two IKE_AUTH redirect modes, cached
 * responses, message ID checks and damaged requests.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <arpa/inet.h>
#include <string.h>

#include "engine_harness.h"
#include "ike_const.h"
#include "ike_msg.h"

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

TestSuite(engine_auth, .init = setup, .fini = teardown);

static const uint8_t target_v4[4] = { 198, 51, 100, 4 };

static struct ike_initiator *
new_client(const struct ike_initiator_config *cfg)
{
    struct ike_initiator *ini = ike_initiator_new(cfg);

    cr_assert_not_null(ini);
    return ini;
}

static uint64_t
counter(enum engine_counter c)
{
    return engine_counter_get(h.engine, c);
}

/* Runs IKE_SA_INIT and leaves the IKE_AUTH request in *out. */
static void
run_init(struct ike_initiator *ini, struct ike_initiator_out *out)
{
    cr_assert_eq(ike_initiator_start(ini, out), 0);
    cr_assert_eq(harness_step(&h, ini, out), IKE_INITIATOR_EV_AUTH_SENT);
}

static bool
vip_in_pool(const char *vip)
{
    struct in_addr a;

    if (inet_pton(AF_INET, vip, &a) != 1)
        return false;
    /* The harness pool is 203.0.113.64/26. */
    return (ntohl(a.s_addr) & 0xffffffc0u) == 0xcb007140u;
}

ParameterizedTestParameters(engine_auth, establishes_with_each_suite)
{
    static struct ike_suite suites[3];

    suites[0] = harness_suite_gcm_x25519;
    suites[1] = harness_suite_cbc_modp2048;
    suites[2] = harness_suite_gcm_p256;
    return cr_make_param_array(struct ike_suite, suites, 3);
}

ParameterizedTest(struct ike_suite *suite, engine_auth,
    establishes_with_each_suite)
{
    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator_config cfg = harness_client_config(&h, suite);
    struct ike_initiator *ini = new_client(&cfg);
    struct ike_initiator_out out;
    struct engine_sa_info info;

    run_init(ini, &out);
    /* IKE_AUTH { IDi, AUTH, CP(REQUEST), SA, TSi, TSr } --> */
    /* <-- IKE_AUTH { IDr, AUTH, CP(REPLY), SA, TSi, TSr } */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_ESTABLISHED);
    cr_assert_eq(ike_initiator_error(ini), 0);
    cr_assert_not_null(ike_initiator_child_keys(ini));
    cr_assert(vip_in_pool(ike_initiator_vip(ini)), "vip %s",
        ike_initiator_vip(ini));
    cr_assert(harness_find_sa(&h, ike_initiator_spi_i(ini), &info));
    cr_assert_str_eq(info.state, "established");
    cr_assert_str_eq(info.id, "client@example.net");
    cr_assert_str_eq(info.vip, ike_initiator_vip(ini));
    cr_assert(info.redirect_supported);
    cr_assert_eq(engine_half_open_count(h.engine), 0);
    cr_assert_eq(counter(ENGINE_CTR_SA_ESTABLISHED), 1);
    cr_assert_eq(counter(ENGINE_CTR_CHILD_CREATED), 1);
    ike_initiator_free(ini);
}

Test(engine_auth, gives_two_identities_different_addresses)
{
    cr_assert_eq(harness_start(&h), 0);

    static const uint8_t other_id[] = "other@example.net";
    struct ike_initiator_config cfg =
        harness_client_config(&h, &harness_suite_gcm_x25519);
    struct ike_initiator *a = new_client(&cfg);

    cfg.id = other_id;
    cfg.id_len = sizeof(other_id) - 1;

    struct ike_initiator *b = new_client(&cfg);

    cr_assert_eq(harness_run(&h, a), IKE_INITIATOR_EV_ESTABLISHED);
    cr_assert_eq(harness_run(&h, b), IKE_INITIATOR_EV_ESTABLISHED);
    cr_assert(vip_in_pool(ike_initiator_vip(a)));
    cr_assert(vip_in_pool(ike_initiator_vip(b)));
    cr_assert_str_neq(ike_initiator_vip(a), ike_initiator_vip(b));
    ike_initiator_free(a);
    ike_initiator_free(b);
}

Test(engine_auth, rejects_wrong_psk_with_authentication_failed)
{
    static const uint8_t wrong[] = "not-the-harness-psk";

    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator_config cfg =
        harness_client_config(&h, &harness_suite_gcm_x25519);

    cfg.psk = wrong;
    cfg.psk_len = sizeof(wrong) - 1;

    struct ike_initiator *ini = new_client(&cfg);
    struct ike_initiator_out out;
    struct engine_sa_info info;

    run_init(ini, &out);
    /* <-- IKE_AUTH { N(AUTHENTICATION_FAILED) } */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_ERROR);
    cr_assert_eq(ike_initiator_error(ini), IKE_N_AUTHENTICATION_FAILED);
    cr_assert_eq(counter(ENGINE_CTR_AUTH_FAILED), 1);
    cr_assert_eq(counter(ENGINE_CTR_SA_ESTABLISHED), 0);
    if (harness_find_sa(&h, ike_initiator_spi_i(ini), &info))
        cr_assert_str_neq(info.state, "established");
    ike_initiator_free(ini);
}

Test(engine_auth, answers_no_proposal_chosen_for_child)
{
    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator_config cfg =
        harness_client_config(&h, &harness_suite_gcm_x25519);

    cfg.esp = (struct ike_child_suite) {
        IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_512_256,
    };

    struct ike_initiator *ini = new_client(&cfg);
    struct ike_initiator_out out;

    run_init(ini, &out);
    /* <-- IKE_AUTH { IDr, AUTH, N(NO_PROPOSAL_CHOSEN) } */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_ESTABLISHED);
    cr_assert_eq(ike_initiator_error(ini), IKE_N_NO_PROPOSAL_CHOSEN);
    cr_assert_null(ike_initiator_child_keys(ini));
    cr_assert_eq(counter(ENGINE_CTR_CHILD_NO_PROPOSAL), 1);
    ike_initiator_free(ini);
}

Test(engine_auth, answers_ts_unacceptable_outside_subnets)
{
    static const uint8_t start[4] = { 203, 0, 113, 0 };
    static const uint8_t end[4] = { 203, 0, 113, 255 };
    struct ike_ts tsr = {
        .type = IKE_TS_IPV4_ADDR_RANGE, .start_port = 0, .end_port = 0xffff,
        .start_addr = start, .end_addr = end, .addr_len = 4,
    };

    /* Only 198.51.100.0/24 is behind the harness gateway. */
    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator_config cfg =
        harness_client_config(&h, &harness_suite_gcm_x25519);

    cfg.tsr = &tsr;

    struct ike_initiator *ini = new_client(&cfg);
    struct ike_initiator_out out;

    run_init(ini, &out);
    /* <-- IKE_AUTH { IDr, AUTH, N(TS_UNACCEPTABLE) } */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_ESTABLISHED);
    cr_assert_eq(ike_initiator_error(ini), IKE_N_TS_UNACCEPTABLE);
    cr_assert_null(ike_initiator_child_keys(ini));
    cr_assert_eq(counter(ENGINE_CTR_CHILD_TS_UNACCEPTABLE), 1);
    ike_initiator_free(ini);
}

static struct policy_static_rule auth_rule;

static void
redirect_client_at_auth(enum engine_auth_redirect mode)
{
    auth_rule.id = "client@example.net";
    memset(&auth_rule.target, 0, sizeof(auth_rule.target));
    auth_rule.target.gw_type = IKE_GW_IPV4;
    auth_rule.target.len = 4;
    memcpy(auth_rule.target.id, target_v4, 4);
    h.policy.rules = &auth_rule;
    h.policy.n_rules = 1;
    h.cfg.auth_redirect = mode;
}

Test(engine_auth, redirects_at_auth_in_rfc_mode)
{
    redirect_client_at_auth(ENGINE_AUTH_REDIRECT_RFC);
    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator_config cfg =
        harness_client_config(&h, &harness_suite_gcm_x25519);
    struct ike_initiator *ini = new_client(&cfg);
    struct ike_initiator_out out;

    run_init(ini, &out);
    /* <-- IKE_AUTH { IDr, AUTH, N(REDIRECT, 198.51.100.4) } */
    cr_assert_eq(harness_step(&h, ini, &out),
        IKE_INITIATOR_EV_AUTH_REDIRECT);
    cr_assert_arr_eq(ike_initiator_redirect_target(ini)->value, target_v4, 4);
    cr_assert_null(ike_initiator_child_keys(ini));
    cr_assert_str_eq(ike_initiator_vip(ini), "");
    cr_assert_eq(counter(ENGINE_CTR_REDIRECT_AUTH), 1);
    cr_assert_eq(counter(ENGINE_CTR_CHILD_CREATED), 0);
    ike_initiator_free(ini);
}

Test(engine_auth, redirects_at_auth_by_informational)
{
    redirect_client_at_auth(ENGINE_AUTH_REDIRECT_INFORMATIONAL);
    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator_config cfg =
        harness_client_config(&h, &harness_suite_gcm_x25519);
    struct ike_initiator *ini = new_client(&cfg);
    struct ike_initiator_out out;
    size_t before;

    run_init(ini, &out);
    before = h.n_sent;
    /* <-- IKE_AUTH { IDr, AUTH, CP(REPLY), SA, TSi, TSr } */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_ESTABLISHED);
    cr_assert_eq(h.n_sent, before + 1);
    /* The REDIRECT waits so that the client has processed the response. */
    h.now_ms += h.cfg.auth_redirect_delay_ms - 1;
    engine_run_timers(h.engine, h.now_ms);
    cr_assert_eq(h.n_sent, before + 1);
    h.now_ms += 1;
    engine_run_timers(h.engine, h.now_ms);
    cr_assert_eq(h.n_sent, before + 2);
    /* <-- INFORMATIONAL { N(REDIRECT, 198.51.100.4) } (MID 0) */
    cr_assert_eq(harness_deliver(&h, before + 1, ini, &out),
        IKE_INITIATOR_EV_PEER_REDIRECT);
    cr_assert_arr_eq(ike_initiator_redirect_target(ini)->value, target_v4, 4);
    /* INFORMATIONAL { } --> */
    cr_assert_eq(harness_input(&h, out.msg, out.len), 0);

    struct engine_sa_info info;

    cr_assert(harness_find_sa(&h, ike_initiator_spi_i(ini), &info));
    cr_assert(info.redirected);
    ike_initiator_free(ini);
}

Test(engine_auth, repeats_cached_response_to_retransmission)
{
    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator_config cfg =
        harness_client_config(&h, &harness_suite_gcm_x25519);
    struct ike_initiator *ini = new_client(&cfg);
    struct ike_initiator_out out, again;
    uint8_t first[IKE_INITIATOR_MSG_MAX];
    size_t first_len;

    run_init(ini, &out);
    cr_assert_eq(harness_input(&h, out.msg, out.len), 1);
    first_len = harness_last(&h)->len;
    memcpy(first, harness_last(&h)->msg, first_len);
    /* IKE_AUTH (retransmitted) --> */
    cr_assert_eq(ike_initiator_retransmit(ini, &again), 0);
    cr_assert_eq(harness_input(&h, again.msg, again.len), 1);
    cr_assert_eq(harness_last(&h)->len, first_len);
    cr_assert_arr_eq(harness_last(&h)->msg, first, first_len);
    cr_assert_eq(counter(ENGINE_CTR_SA_ESTABLISHED), 1);
    cr_assert_eq(harness_deliver_last(&h, ini, &out),
        IKE_INITIATOR_EV_ESTABLISHED);
    ike_initiator_free(ini);
}

/* One damaged IKE_AUTH request. */
struct auth_fault {
    enum ike_initiator_fault fault;
    uint32_t arg;
};

ParameterizedTestParameters(engine_auth, drops_damaged_request_then_serves)
{
    static struct auth_fault cases[] = {
        { IKE_INITIATOR_FAULT_ICV, 0 },
        { IKE_INITIATOR_FAULT_TRUNCATE, 40 },
        { IKE_INITIATOR_FAULT_TRUNCATE, 100 },
        { IKE_INITIATOR_FAULT_HDR_LENGTH, 4 },
        { IKE_INITIATOR_FAULT_PAYLOAD_LENGTH, 4 },
        { IKE_INITIATOR_FAULT_PAYLOAD_LENGTH, 0x8000 },
        { IKE_INITIATOR_FAULT_MSG_ID, 1 },
        { IKE_INITIATOR_FAULT_MSG_ID, 0xfffffffeu },
        { IKE_INITIATOR_FAULT_SPI_R, 0 },
        { IKE_INITIATOR_FAULT_CRITICAL, 0 },
    };

    return cr_make_param_array(struct auth_fault, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct auth_fault *c, engine_auth,
    drops_damaged_request_then_serves)
{
    cr_assert_eq(harness_start(&h), 0);

    struct ike_initiator_config cfg =
        harness_client_config(&h, &harness_suite_gcm_x25519);
    struct ike_initiator *ini = new_client(&cfg);
    struct ike_initiator_out out;

    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    ike_initiator_set_fault(ini, c->fault, c->arg);
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_AUTH_SENT);
    /* IKE_AUTH (damaged) --> nothing */
    cr_assert_eq(harness_input(&h, out.msg, out.len), 0,
        "fault %d/%u was answered", c->fault, c->arg);
    cr_assert_eq(counter(ENGINE_CTR_SA_ESTABLISHED), 0);
    cr_assert_eq(ike_initiator_retransmit(ini, &out), 0);
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_ESTABLISHED);
    ike_initiator_free(ini);
}
