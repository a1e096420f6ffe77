/*
 * Stateless cookies (RFC 7296 2.6): a cookie stays valid across one
 * rotation of the secret and is refused after two.
 */
#include <criterion/criterion.h>

#include "engine_harness.h"
#include "ike_const.h"

#define ROTATE_MS 1000

static struct harness h;

static void
setup(void)
{
    harness_init(&h);
    h.cfg.cookie_threshold = 0;
    h.cfg.cookie_rotate_ms = ROTATE_MS;
    cr_assert_eq(harness_start(&h), 0);
    /* The first timer run makes the first rotation; start after it. */
    engine_run_timers(h.engine, h.now_ms);
}

static void
teardown(void)
{
    harness_free(&h);
}

TestSuite(agent_cookie, .init = setup, .fini = teardown);

/* Returns a client that holds a cookie; *out is its retry with it. */
static struct ike_initiator *
client_with_cookie(struct ike_initiator_out *out)
{
    struct ike_initiator_config cfg =
        harness_client_config(&h, &harness_suite_gcm_x25519);
    struct ike_initiator *ini = ike_initiator_new(&cfg);

    cr_assert_not_null(ini);
    /* IKE_SA_INIT { SA, KE, Ni, ... } --> */
    cr_assert_eq(ike_initiator_start(ini, out), 0);
    /* <-- IKE_SA_INIT { N(COOKIE) } */
    cr_assert_eq(harness_step(&h, ini, out), IKE_INITIATOR_EV_COOKIE);
    return ini;
}

static void
rotate(void)
{
    h.now_ms += ROTATE_MS;
    engine_run_timers(h.engine, h.now_ms);
}

Test(agent_cookie, accepts_cookie_of_current_secret)
{
    struct ike_initiator_out out;
    struct ike_initiator *ini = client_with_cookie(&out);

    /* IKE_SA_INIT { N(COOKIE), SA, KE, Ni, ... } --> */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_AUTH_SENT);
    cr_assert_eq(engine_half_open_count(h.engine), 1);
    ike_initiator_free(ini);
}

Test(agent_cookie, accepts_cookie_after_one_rotation)
{
    struct ike_initiator_out out;
    struct ike_initiator *ini = client_with_cookie(&out);

    rotate();
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_AUTH_SENT);
    cr_assert_eq(engine_counter_get(h.engine,
        ENGINE_CTR_INIT_COOKIE_INVALID), 0);
    ike_initiator_free(ini);
}

Test(agent_cookie, refuses_cookie_after_two_rotations)
{
    struct ike_initiator_out out;
    struct ike_initiator *ini = client_with_cookie(&out);

    rotate();
    rotate();
    /* <-- IKE_SA_INIT { N(COOKIE) } again, with a new cookie */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_COOKIE);
    cr_assert_eq(engine_counter_get(h.engine,
        ENGINE_CTR_INIT_COOKIE_INVALID), 1);
    cr_assert_eq(engine_half_open_count(h.engine), 0);
    /* The new cookie works. */
    cr_assert_eq(harness_step(&h, ini, &out), IKE_INITIATOR_EV_AUTH_SENT);
    ike_initiator_free(ini);
}

Test(agent_cookie, rotation_is_the_next_timer_deadline)
{
    uint64_t next = engine_next_deadline(h.engine);

    cr_assert_eq(next, h.now_ms + ROTATE_MS);
}
