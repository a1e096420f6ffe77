/*
 * Reply token bucket, alone and as the engine applies it per client.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine_harness.h"
#include "ike_const.h"
#include "ratelimit.h"

Test(agent_ratelimit, starts_full_with_one_second_burst)
{
    struct ratelimit rl = { 0 };
    int taken = 0;

    for (int i = 0; i < 20; i++)
        taken += ratelimit_take(&rl, 10, 5000);
    cr_assert_eq(taken, 10);
}

Test(agent_ratelimit, refills_at_rate)
{
    struct ratelimit rl = { 0 };
    int taken = 0;

    for (int i = 0; i < 10; i++)
        cr_assert(ratelimit_take(&rl, 10, 0));
    cr_assert_not(ratelimit_take(&rl, 10, 0));
    /* 10 per second: one token every 100 ms. */
    cr_assert_not(ratelimit_take(&rl, 10, 99));
    cr_assert(ratelimit_take(&rl, 10, 100));
    for (int i = 0; i < 20; i++)
        taken += ratelimit_take(&rl, 10, 400);
    cr_assert_eq(taken, 3);
}

Test(agent_ratelimit, caps_after_long_idle_time)
{
    struct ratelimit rl = { 0 };
    int taken = 0;

    cr_assert(ratelimit_take(&rl, 1000, 1));
    for (int i = 0; i < 3000; i++)
        taken += ratelimit_take(&rl, 1000, UINT64_C(1) << 62);
    cr_assert_eq(taken, 1000);
}

Test(agent_ratelimit, ignores_time_going_backwards)
{
    struct ratelimit rl = { 0 };

    cr_assert(ratelimit_take(&rl, 1, 10000));
    cr_assert_not(ratelimit_take(&rl, 1, 5000));
    cr_assert_not(ratelimit_take(&rl, 1, 10999));
    cr_assert(ratelimit_take(&rl, 1, 11000));
}

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

/* Sends a fresh IKE_SA_INIT from peer; returns the datagrams sent back. */
static size_t
send_init(const struct sockaddr_storage *peer)
{
    struct ike_initiator_config cfg =
        harness_client_config(&h, &harness_suite_gcm_x25519);
    struct ike_initiator *ini = ike_initiator_new(&cfg);
    struct ike_initiator_out out;
    size_t n;

    cr_assert_not_null(ini);
    cr_assert_eq(ike_initiator_start(ini, &out), 0);
    n = harness_input_from(&h, peer, out.msg, out.len);
    ike_initiator_free(ini);
    return n;
}

TestSuite(agent_reply_rate, .init = setup, .fini = teardown);

Test(agent_reply_rate, flooding_address_keeps_others_budget)
{
    struct sockaddr_storage flooder, other;

    h.cfg.cookie_threshold = 0;
    h.cfg.reply_rate = 5;
    h.cfg.reply_rate_per_peer = 2;
    cr_assert_eq(harness_start(&h), 0);
    harness_addr4(&flooder, "198.51.100.7", 500);
    harness_addr4(&other, "198.51.100.8", 500);
    /* N(COOKIE) for the first two, nothing for the next eight. */
    cr_assert_eq(send_init(&flooder), 1);
    cr_assert_eq(send_init(&flooder), 1);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(send_init(&flooder), 0);
    /* The shared budget of 5 still has 3 replies for another address. */
    cr_assert_eq(send_init(&other), 1);
    cr_assert_eq(engine_counter_get(h.engine, ENGINE_CTR_INIT_DROP_RATE), 8);
    cr_assert_eq(engine_counter_get(h.engine, ENGINE_CTR_INIT_COOKIES_SENT),
        3);
}

Test(agent_reply_rate, shared_budget_caps_all_addresses)
{
    struct sockaddr_storage peer;
    char text[32];
    size_t replies = 0;

    h.cfg.cookie_threshold = 0;
    h.cfg.reply_rate = 4;
    h.cfg.reply_rate_per_peer = 100;
    cr_assert_eq(harness_start(&h), 0);
    for (int i = 0; i < 10; i++) {
        snprintf(text, sizeof(text), "203.0.113.%d", 10 + i);
        harness_addr4(&peer, text, 500);
        replies += send_init(&peer);
    }
    cr_assert_eq(replies, 4);
}
