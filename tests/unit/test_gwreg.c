#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "gwreg.h"
#include "planner.h"

/* Start the clock well past the start-up window, so slow start applies. */
#define T0 100000u

static struct cluster_report
make_report(const char *id, uint32_t sas, uint32_t capacity)
{
    struct cluster_report r;

    memset(&r, 0, sizeof(r));
    snprintf(r.gateway_id, sizeof(r.gateway_id), "%s", id);
    snprintf(r.site, sizeof(r.site), "site-a");
    r.ike_sas = sas;
    r.capacity = capacity;
    r.n_unicast = 1;
    snprintf(r.unicast[0], sizeof(r.unicast[0]), "198.51.100.10");
    return r;
}

static struct gwreg *reg;

static void
setup(void)
{
    reg = gwreg_new(NULL, 0);
    cr_assert_not_null(reg);
}

static void
teardown(void)
{
    gwreg_free(reg);
}

TestSuite(gwreg, .init = setup, .fini = teardown);

Test(gwreg, stores_report_and_last_seen)
{
    struct cluster_report r = make_report("gw1", 10, 100);
    const struct gwreg_entry *e;

    cr_assert_eq(gwreg_update_report(reg, &r, T0), 0);
    e = gwreg_get(reg, "gw1");
    cr_assert_not_null(e);
    cr_assert(e->live);
    cr_assert_eq(e->last_seen_ms, T0);
    cr_assert_eq(e->report.ike_sas, 10);
    cr_assert_eq(e->admin, CLUSTER_ADMIN_ACTIVE);
}

Test(gwreg, rejects_empty_gateway_id)
{
    struct cluster_report r = make_report("", 10, 100);

    cr_assert_eq(gwreg_update_report(reg, &r, T0), -EINVAL);
    cr_assert_eq(gwreg_count(reg), 0);
}

Test(gwreg, keeps_entries_in_id_order)
{
    const char *ids[] = { "gw3", "gw1", "gw2", "gw0" };

    for (size_t i = 0; i < 4; i++) {
        struct cluster_report r = make_report(ids[i], 1, 10);

        cr_assert_eq(gwreg_update_report(reg, &r, T0), 0);
    }
    cr_assert_eq(gwreg_count(reg), 4);
    for (size_t i = 1; i < 4; i++)
        cr_assert_lt(strcmp(gwreg_get_at(reg, i - 1)->gateway_id,
            gwreg_get_at(reg, i)->gateway_id), 0);
}

Test(gwreg, keeps_report_within_ttl)
{
    struct cluster_report r = make_report("gw1", 1, 10);

    gwreg_update_report(reg, &r, T0);
    cr_assert_eq(gwreg_expire(reg, T0 + GWREG_EXPIRE_AFTER_MS), 0);
    cr_assert_not_null(gwreg_get(reg, "gw1"));
}

Test(gwreg, drops_dead_gateway_within_3500_ms)
{
    struct cluster_report r = make_report("gw1", 1, 10);
    uint64_t dropped_at = 0;

    gwreg_update_report(reg, &r, T0);
    /* The daemon sweeps every GWREG_SWEEP_MS from an arbitrary phase. */
    for (uint64_t t = T0 + 1; t <= T0 + 10000; t += GWREG_SWEEP_MS) {
        if (gwreg_expire(reg, t) > 0) {
            dropped_at = t;
            break;
        }
    }
    cr_assert_neq(dropped_at, 0);
    cr_assert_leq(dropped_at - T0, 3500);
    cr_assert_null(gwreg_get(reg, "gw1"));
}

Test(gwreg, next_expiry_is_oldest_report)
{
    struct cluster_report a = make_report("gw1", 1, 10);
    struct cluster_report b = make_report("gw2", 1, 10);

    cr_assert_eq(gwreg_next_expiry_ms(reg), UINT64_MAX);
    gwreg_update_report(reg, &a, T0 + 300);
    gwreg_update_report(reg, &b, T0);
    cr_assert_eq(gwreg_next_expiry_ms(reg), T0 + GWREG_EXPIRE_AFTER_MS + 1);
    cr_assert_eq(gwreg_expire(reg, gwreg_next_expiry_ms(reg)), 1);
    cr_assert_null(gwreg_get(reg, "gw2"));
}

Test(gwreg, keeps_admin_state_of_expired_gateway)
{
    struct cluster_report r = make_report("gw1", 1, 10);
    const struct gwreg_entry *e;

    gwreg_update_report(reg, &r, T0);
    cr_assert_eq(gwreg_set_admin(reg, "gw1", CLUSTER_ADMIN_MAINTENANCE, T0),
        0);
    cr_assert_eq(gwreg_expire(reg, T0 + 5000), 1);
    e = gwreg_get(reg, "gw1");
    cr_assert_not_null(e);
    cr_assert_not(e->live);
    cr_assert_eq(e->admin, CLUSTER_ADMIN_MAINTENANCE);
}

Test(gwreg, rejects_unknown_admin_state)
{
    cr_assert_eq(gwreg_set_admin(reg, "gw1",
        (enum cluster_admin_state)17, T0), -EINVAL);
}

Test(gwreg, starts_slow_start_for_returning_gateway)
{
    struct cluster_report r = make_report("gw1", 1, 10);
    const struct gwreg_entry *e;

    gwreg_update_report(reg, &r, T0);
    gwreg_expire(reg, T0 + 5000);
    gwreg_update_report(reg, &r, T0 + 6000);
    e = gwreg_get(reg, "gw1");
    cr_assert_eq(e->slow_start_at_ms, T0 + 6000);
    cr_assert_float_eq(gwreg_slow_start_factor(e, T0 + 6000 + 30000, 60000,
        0.05), 0.5, 1e-9);
    cr_assert_float_eq(gwreg_slow_start_factor(e, T0 + 6000 + 60000, 60000,
        0.05), 1.0, 1e-9);
}

Test(gwreg, slow_start_factor_never_below_floor)
{
    struct cluster_report r = make_report("gw1", 1, 10);

    gwreg_update_report(reg, &r, T0);
    cr_assert_float_eq(gwreg_slow_start_factor(gwreg_get(reg, "gw1"),
        T0 + 600, 60000, 0.05), 0.05, 1e-9);
}

Test(gwreg, no_slow_start_right_after_controller_start)
{
    struct cluster_report r = make_report("gw1", 1, 10);

    gwreg_update_report(reg, &r, 1000);
    cr_assert_eq(gwreg_get(reg, "gw1")->slow_start_at_ms, 0);
}

Test(gwreg, starts_slow_start_on_return_to_active)
{
    struct cluster_report r = make_report("gw1", 1, 10);

    gwreg_update_report(reg, &r, 1000);
    gwreg_set_admin(reg, "gw1", CLUSTER_ADMIN_DRAINED, T0);
    cr_assert_eq(gwreg_get(reg, "gw1")->slow_start_at_ms, 0);
    gwreg_set_admin(reg, "gw1", CLUSTER_ADMIN_ACTIVE, T0 + 10);
    cr_assert_eq(gwreg_get(reg, "gw1")->slow_start_at_ms, T0 + 10);
}

Test(gwreg, checks_identity_and_ramps_up_once_fixed)
{
    struct gwreg_config cfg = { 0 };
    struct cluster_report r = make_report("gw1", 1, 10);
    const struct gwreg_entry *e;

    gwreg_free(reg);
    snprintf(cfg.identity, sizeof(cfg.identity), "fqdn:vpn.example.net");
    reg = gwreg_new(&cfg, 0);
    cr_assert_not_null(reg);
    snprintf(r.identity, sizeof(r.identity), "fqdn:vpn.other.example");
    gwreg_update_report(reg, &r, 1000);
    e = gwreg_get(reg, "gw1");
    cr_assert_not(e->identity_ok);
    cr_assert_eq(e->slow_start_at_ms, 0);
    snprintf(r.identity, sizeof(r.identity), "fqdn:vpn.example.net");
    gwreg_update_report(reg, &r, T0);
    cr_assert(e->identity_ok);
    cr_assert_eq(e->slow_start_at_ms, T0);
    gwreg_update_report(reg, &r, T0 + 1000);
    cr_assert_eq(e->slow_start_at_ms, T0, "a steady identity restarted the "
        "ramp");
}

Test(gwreg, refuses_new_gateway_beyond_max_live)
{
    struct gwreg_config cfg = { .max_live = 2 };
    struct cluster_report a = make_report("gw1", 1, 10);
    struct cluster_report b = make_report("gw2", 1, 10);
    struct cluster_report c = make_report("gw3", 1, 10);

    gwreg_free(reg);
    reg = gwreg_new(&cfg, 0);
    cr_assert_not_null(reg);
    cr_assert_eq(gwreg_update_report(reg, &a, T0), 0);
    cr_assert_eq(gwreg_update_report(reg, &b, T0), 0);
    cr_assert_eq(gwreg_update_report(reg, &c, T0), -ENOSPC);
    cr_assert_null(gwreg_get(reg, "gw3"));
    cr_assert_eq(gwreg_update_report(reg, &a, T0 + 1000), 0,
        "a live gateway must keep reporting");
    cr_assert_eq(gwreg_expire(reg, T0 + 3000), 1);      /* gw2 */
    cr_assert_eq(gwreg_update_report(reg, &c, T0 + 3000), 0);
}

Test(gwreg, default_max_live_is_plan_limit)
{
    char id[16];

    for (int i = 0; i < CLUSTER_PLAN_MAX_GATEWAYS; i++) {
        snprintf(id, sizeof(id), "gw%d", i);
        struct cluster_report r = make_report(id, 1, 10);

        cr_assert_eq(gwreg_update_report(reg, &r, T0), 0);
    }
    struct cluster_report extra = make_report("extra", 1, 10);

    cr_assert_eq(gwreg_update_report(reg, &extra, T0), -ENOSPC);
}

Test(gwreg, smooths_load_with_time_constant)
{
    struct cluster_report low = make_report("gw1", 0, 100);
    struct cluster_report high = make_report("gw1", 100, 100);
    const struct gwreg_entry *e;

    gwreg_update_report(reg, &low, T0);
    gwreg_update_report(reg, &high, T0 + GWREG_LOAD_TAU_MS);
    e = gwreg_get(reg, "gw1");
    /* After one time constant the EWMA covers 1 - 1/e of a step. */
    cr_assert_float_eq(e->load, 1.0 - exp(-1.0), 1e-9);
    cr_assert_float_eq(e->load_instant, 1.0, 1e-9);
}

Test(gwreg, tolerates_free_of_null)
{
    gwreg_free(NULL);
}
