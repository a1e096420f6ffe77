#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "gwreg.h"
#include "planner.h"
#include "rt/maglev.h"

#define T0 100000u

static struct cluster_report
make_report(const char *id, const char *site, uint32_t sas,
    uint32_t capacity, const char *addr)
{
    struct cluster_report r;

    memset(&r, 0, sizeof(r));
    snprintf(r.gateway_id, sizeof(r.gateway_id), "%s", id);
    snprintf(r.site, sizeof(r.site), "%s", site);
    r.ike_sas = sas;
    r.capacity = capacity;
    if (addr != NULL) {
        r.n_unicast = 1;
        snprintf(r.unicast[0], sizeof(r.unicast[0]), "%s", addr);
    }
    return r;
}

static struct gwreg *reg;
static struct planner *pl;

static void
setup(void)
{
    /* Created at 0 and used from T0, so reports start slow start. */
    reg = gwreg_new(NULL, 0);
    pl = planner_new(NULL, 0);
    cr_assert_not_null(reg);
    cr_assert_not_null(pl);
}

static void
teardown(void)
{
    planner_free(pl);
    gwreg_free(reg);
}

/* Adds a report read in the start-up window, so no slow start applies. */
static void
add_gateway(const char *id, const char *site, uint32_t sas, uint32_t cap,
    const char *addr)
{
    struct cluster_report r = make_report(id, site, sas, cap, addr);

    cr_assert_eq(gwreg_update_report(reg, &r, 0), 0);
}

static const struct cluster_plan_gateway *
plan_gateway(const char *id)
{
    const struct cluster_plan *plan = planner_get_plan(pl);

    for (size_t i = 0; i < plan->n_gateways; i++)
        if (strcmp(plan->gateways[i].gateway_id, id) == 0)
            return &plan->gateways[i];
    return NULL;
}

static const struct cluster_target *
find_target(const struct cluster_plan_gateway *g, const char *id)
{
    for (size_t i = 0; i < g->n_targets; i++)
        if (strcmp(g->targets[i].gateway_id, id) == 0)
            return &g->targets[i];
    return NULL;
}

/* Load sample: each row names the dimension that dominates. */
struct load_case {
    uint32_t sas, capacity, pool_used, pool_size, half_open, half_open_limit;
    uint16_t cpu;
    double expected;
};

ParameterizedTestParameters(planner, load_is_bottleneck_resource)
{
    static struct load_case cases[] = {
        { 50, 100, 0, 0, 0, 0, 0, 0.50 },       /* sessions */
        { 10, 100, 80, 100, 0, 0, 0, 0.80 },    /* address pool */
        { 10, 100, 10, 100, 0, 0, 700, 0.70 },  /* busiest core */
        { 10, 100, 0, 0, 90, 100, 0, 0.90 },    /* half-open SAs */
        { 10, 0, 0, 0, 0, 0, 0, 1.00 },         /* no capacity: full */
        { 150, 100, 0, 0, 0, 0, 0, 1.50 },      /* over capacity */
        { 0, 100, 5, 0, 5, 0, 0, 0.00 },        /* limits of 0 skipped */
    };

    return cr_make_param_array(struct load_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct load_case *c, planner, load_is_bottleneck_resource)
{
    struct cluster_report r = make_report("gw", "s", c->sas, c->capacity,
        NULL);

    r.pool_used = c->pool_used;
    r.pool_size = c->pool_size;
    r.half_open = c->half_open;
    r.half_open_limit = c->half_open_limit;
    r.cpu_busiest_permille = c->cpu;
    cr_assert_float_eq(planner_load_sample(&r), c->expected, 1e-9);
}

TestSuite(planner, .init = setup, .fini = teardown);

Test(planner, first_plan_gets_next_epoch)
{
    struct planner *p2 = planner_new(NULL, 41);

    add_gateway("gw1", "s", 0, 100, "198.51.100.1");
    cr_assert_eq(planner_compute(p2, reg, NULL, 0, T0), 1);
    cr_assert_eq(planner_get_plan(p2)->epoch, 42);
    cr_assert_eq(planner_get_plan(p2)->expires_at_ms,
        T0 + PLANNER_PLAN_TTL_MS);
    planner_free(p2);
}

Test(planner, weights_follow_free_capacity)
{
    add_gateway("big", "s", 0, 2000, "198.51.100.1");
    add_gateway("half", "s", 500, 1000, "198.51.100.2");
    add_gateway("small", "s", 0, 1000, "198.51.100.3");
    cr_assert_eq(planner_compute(pl, reg, NULL, 0, T0), 1);
    cr_assert_eq(plan_gateway("big")->weight, PLANNER_WEIGHT_MAX);
    cr_assert_eq(plan_gateway("small")->weight,
        (uint32_t)lround(PLANNER_WEIGHT_MAX / 2.0));
    cr_assert_eq(plan_gateway("half")->weight,
        (uint32_t)lround(PLANNER_WEIGHT_MAX / 4.0));
}

Test(planner, targets_exclude_self)
{
    add_gateway("gw1", "s", 0, 100, "198.51.100.1");
    add_gateway("gw2", "s", 0, 100, "198.51.100.2");
    planner_compute(pl, reg, NULL, 0, T0);
    cr_assert_eq(plan_gateway("gw1")->n_targets, 1);
    cr_assert_null(find_target(plan_gateway("gw1"), "gw1"));
    cr_assert_not_null(find_target(plan_gateway("gw1"), "gw2"));
}

Test(planner, expired_gateway_leaves_plan)
{
    struct cluster_report r = make_report("gw1", "s", 0, 100,
        "198.51.100.1");

    add_gateway("gw2", "s", 0, 100, "198.51.100.2");
    add_gateway("gw3", "s", 0, 100, "198.51.100.3");
    planner_compute(pl, reg, NULL, 0, T0);
    cr_assert_not_null(find_target(plan_gateway("gw2"), "gw3"));
    /* gw1 and gw2 keep reporting; gw3 stops. */
    gwreg_update_report(reg, &r, T0 + 3000);
    r = make_report("gw2", "s", 0, 100, "198.51.100.2");
    gwreg_update_report(reg, &r, T0 + 3000);
    cr_assert_eq(gwreg_expire(reg, T0 + 3000), 1);
    cr_assert_eq(planner_compute(pl, reg, NULL, 0, T0 + 3000), 1);
    cr_assert_null(plan_gateway("gw3"));
    cr_assert_null(find_target(plan_gateway("gw2"), "gw3"));
    cr_assert_not_null(find_target(plan_gateway("gw2"), "gw1"));
}

Test(planner, inactive_gateway_is_no_target)
{
    add_gateway("gw1", "s", 0, 100, "198.51.100.1");
    add_gateway("gw2", "s", 0, 100, "198.51.100.2");
    add_gateway("gw3", "s", 0, 100, "198.51.100.3");
    gwreg_set_admin(reg, "gw3", CLUSTER_ADMIN_MAINTENANCE, T0);
    planner_compute(pl, reg, NULL, 0, T0);
    cr_assert_null(find_target(plan_gateway("gw1"), "gw3"));
    cr_assert_not(plan_gateway("gw3")->accept_new);
    cr_assert_eq(plan_gateway("gw3")->weight, 0);
    cr_assert_eq(plan_gateway("gw3")->admin, CLUSTER_ADMIN_MAINTENANCE);
    cr_assert_not_null(find_target(plan_gateway("gw3"), "gw1"));
}

Test(planner, self_draining_agent_is_no_target)
{
    struct cluster_report r = make_report("gw2", "s", 0, 100,
        "198.51.100.2");

    add_gateway("gw1", "s", 0, 100, "198.51.100.1");
    r.state = CLUSTER_AGENT_DRAINING;
    gwreg_update_report(reg, &r, 0);
    planner_compute(pl, reg, NULL, 0, T0);
    cr_assert_null(find_target(plan_gateway("gw1"), "gw2"));
    cr_assert_not(plan_gateway("gw2")->accept_new);
}

Test(planner, busy_gateway_stops_accepting)
{
    add_gateway("gw1", "s", 95, 100, "198.51.100.1");
    add_gateway("gw2", "s", 10, 100, "198.51.100.2");
    planner_compute(pl, reg, NULL, 0, T0);
    cr_assert_not(plan_gateway("gw1")->accept_new);
    cr_assert(plan_gateway("gw2")->accept_new);
    cr_assert_null(find_target(plan_gateway("gw2"), "gw1"));
}

Test(planner, names_public_address_before_unicast)
{
    struct cluster_report r = make_report("gw2", "s", 0, 100,
        "198.51.100.2");

    snprintf(r.public_addr, sizeof(r.public_addr), "203.0.113.2");
    gwreg_update_report(reg, &r, 0);
    add_gateway("gw1", "s", 0, 100, "2001:db8::1");
    planner_compute(pl, reg, NULL, 0, T0);
    cr_assert_str_eq(find_target(plan_gateway("gw1"), "gw2")->address,
        "203.0.113.2");
    cr_assert_str_eq(find_target(plan_gateway("gw2"), "gw1")->address,
        "2001:db8::1");
}

Test(planner, gateway_with_other_identity_is_no_target)
{
    struct gwreg_config cfg = { 0 };
    struct cluster_report r;

    gwreg_free(reg);
    snprintf(cfg.identity, sizeof(cfg.identity), "fqdn:vpn.example.net");
    reg = gwreg_new(&cfg, 0);
    cr_assert_not_null(reg);
    r = make_report("gw1", "s", 0, 100, "198.51.100.1");
    snprintf(r.identity, sizeof(r.identity), "fqdn:VPN.example.net");
    gwreg_update_report(reg, &r, 0);
    r = make_report("gw2", "s", 0, 100, "198.51.100.2");
    snprintf(r.identity, sizeof(r.identity), "fqdn:vpn.other.example");
    gwreg_update_report(reg, &r, 0);
    r = make_report("gw3", "s", 0, 100, "198.51.100.3");
    gwreg_update_report(reg, &r, 0);            /* reports no identity */
    planner_compute(pl, reg, NULL, 0, T0);
    cr_assert(gwreg_get(reg, "gw1")->identity_ok);
    cr_assert_not(gwreg_get(reg, "gw2")->identity_ok);
    cr_assert_not(gwreg_get(reg, "gw3")->identity_ok);
    cr_assert(plan_gateway("gw1")->accept_new);
    cr_assert_eq(plan_gateway("gw1")->n_targets, 0);
    cr_assert_not(plan_gateway("gw2")->accept_new);
    cr_assert_eq(plan_gateway("gw2")->weight, 0);
    cr_assert_not_null(find_target(plan_gateway("gw2"), "gw1"));
    cr_assert_null(find_target(plan_gateway("gw3"), "gw2"));
}

Test(planner, any_identity_serves_without_cluster_identity)
{
    struct cluster_report r = make_report("gw2", "s", 0, 100,
        "198.51.100.2");

    add_gateway("gw1", "s", 0, 100, "198.51.100.1");
    snprintf(r.identity, sizeof(r.identity), "fqdn:vpn.other.example");
    gwreg_update_report(reg, &r, 0);
    planner_compute(pl, reg, NULL, 0, T0);
    cr_assert(gwreg_get(reg, "gw2")->identity_ok);
    cr_assert_not_null(find_target(plan_gateway("gw1"), "gw2"));
}

Test(planner, gateway_without_address_is_no_target)
{
    add_gateway("gw1", "s", 0, 100, "198.51.100.1");
    add_gateway("gw2", "s", 0, 100, NULL);
    planner_compute(pl, reg, NULL, 0, T0);
    cr_assert_null(find_target(plan_gateway("gw1"), "gw2"));
}

Test(planner, prefers_targets_of_own_site)
{
    add_gateway("a1", "site-a", 0, 100, "198.51.100.1");
    add_gateway("a2", "site-a", 0, 100, "198.51.100.2");
    add_gateway("b1", "site-b", 0, 1000, "198.51.100.3");
    planner_compute(pl, reg, NULL, 0, T0);
    cr_assert_eq(plan_gateway("a1")->n_targets, 1);
    cr_assert_not_null(find_target(plan_gateway("a1"), "a2"));
    cr_assert_null(find_target(plan_gateway("a1"), "b1"));
}

Test(planner, uses_other_sites_when_own_site_full)
{
    add_gateway("a1", "site-a", 0, 100, "198.51.100.1");
    add_gateway("a2", "site-a", 99, 100, "198.51.100.2");
    add_gateway("b1", "site-b", 0, 100, "198.51.100.3");
    planner_compute(pl, reg, NULL, 0, T0);
    cr_assert_not_null(find_target(plan_gateway("a1"), "b1"));
    cr_assert_null(find_target(plan_gateway("a1"), "a2"));
}

Test(planner, draining_gateway_gets_pace_and_deadline)
{
    struct planner_drain d = { .gateway_id = "gw1", .pace_per_s = 40,
        .deadline_at_ms = T0 + 60000 };

    add_gateway("gw1", "s", 50, 100, "198.51.100.1");
    add_gateway("gw2", "s", 0, 100, "198.51.100.2");
    gwreg_set_admin(reg, "gw1", CLUSTER_ADMIN_DRAINING, T0);
    planner_compute(pl, reg, &d, 1, T0);
    cr_assert_not(plan_gateway("gw1")->accept_new);
    cr_assert_eq(plan_gateway("gw1")->drain_pace_per_s, 40);
    cr_assert_eq(plan_gateway("gw1")->drain_deadline_at_ms, T0 + 60000);
    cr_assert_eq(plan_gateway("gw2")->drain_pace_per_s, 0);
    cr_assert_not_null(find_target(plan_gateway("gw1"), "gw2"));
    cr_assert_null(find_target(plan_gateway("gw2"), "gw1"));
}

Test(planner, keeps_plan_when_weights_barely_move)
{
    struct cluster_report r = make_report("gw1", "s", 0, 100,
        "198.51.100.1");

    add_gateway("gw1", "s", 0, 100, "198.51.100.1");
    add_gateway("gw2", "s", 0, 100, "198.51.100.2");
    cr_assert_eq(planner_compute(pl, reg, NULL, 0, T0), 1);
    /* 2% more load on gw1 moves its weight by about 2% of the maximum. */
    r.ike_sas = 2;
    gwreg_update_report(reg, &r, T0 + 1000);
    cr_assert_eq(planner_compute(pl, reg, NULL, 0, T0 + 1000), 0);
    cr_assert_eq(planner_get_plan(pl)->epoch, 1);
}

Test(planner, new_plan_when_weights_move_past_hysteresis)
{
    struct cluster_report r = make_report("gw1", "s", 0, 100,
        "198.51.100.1");

    add_gateway("gw1", "s", 0, 100, "198.51.100.1");
    add_gateway("gw2", "s", 0, 100, "198.51.100.2");
    planner_compute(pl, reg, NULL, 0, T0);
    r.ike_sas = 60;
    for (uint64_t t = T0 + 1000; t <= T0 + 20000; t += 1000)
        gwreg_update_report(reg, &r, t);
    cr_assert_eq(planner_compute(pl, reg, NULL, 0, T0 + 20000), 1);
    cr_assert_eq(planner_get_plan(pl)->epoch, 2);
    cr_assert_lt(plan_gateway("gw1")->weight, plan_gateway("gw2")->weight);
}

Test(planner, new_plan_when_membership_changes)
{
    add_gateway("gw1", "s", 0, 100, "198.51.100.1");
    planner_compute(pl, reg, NULL, 0, T0);
    add_gateway("gw2", "s", 0, 100, "198.51.100.2");
    cr_assert_eq(planner_compute(pl, reg, NULL, 0, T0 + 1000), 1);
}

Test(planner, new_plan_when_admin_changes)
{
    add_gateway("gw1", "s", 0, 100, "198.51.100.1");
    add_gateway("gw2", "s", 0, 100, "198.51.100.2");
    planner_compute(pl, reg, NULL, 0, T0);
    gwreg_set_admin(reg, "gw2", CLUSTER_ADMIN_MAINTENANCE, T0 + 500);
    cr_assert_eq(planner_compute(pl, reg, NULL, 0, T0 + 1000), 1);
}

Test(planner, refreshes_plan_at_half_ttl)
{
    add_gateway("gw1", "s", 0, 100, "198.51.100.1");
    planner_compute(pl, reg, NULL, 0, T0);
    cr_assert_eq(planner_compute(pl, reg, NULL, 0,
        T0 + PLANNER_PLAN_TTL_MS / 2 - 1), 0);
    cr_assert_eq(planner_compute(pl, reg, NULL, 0,
        T0 + PLANNER_PLAN_TTL_MS / 2), 1);
}

Test(planner, returning_gateway_ramps_up)
{
    struct cluster_report r = make_report("new", "s", 0, 100,
        "198.51.100.9");
    uint32_t w_start, w_mid;

    add_gateway("old", "s", 0, 100, "198.51.100.1");
    gwreg_update_report(reg, &r, T0);
    planner_compute(pl, reg, NULL, 0, T0);
    w_start = plan_gateway("new")->weight;
    planner_compute(pl, reg, NULL, 0, T0 + PLANNER_SLOW_START_MS / 2);
    w_mid = plan_gateway("new")->weight;
    planner_compute(pl, reg, NULL, 0, T0 + PLANNER_SLOW_START_MS);
    cr_assert_eq(w_start, (uint32_t)lround(PLANNER_WEIGHT_MAX *
        PLANNER_SLOW_START_FLOOR));
    cr_assert_eq(w_mid, (uint32_t)lround(PLANNER_WEIGHT_MAX * 0.5));
    cr_assert_eq(plan_gateway("new")->weight, PLANNER_WEIGHT_MAX);
}

Test(planner, fills_target_loads)
{
    const struct cluster_plan_gateway *g;

    add_gateway("gw1", "s", 0, 100, "198.51.100.1");
    add_gateway("gw2", "s", 30, 100, "198.51.100.2");
    add_gateway("gw3", "s", 70, 100, "198.51.100.3");
    planner_compute(pl, reg, NULL, 0, T0);
    g = plan_gateway("gw1");
    cr_assert_eq(g->n_targets, 2);
    for (size_t i = 0; i < g->n_targets; i++) {
        uint16_t expected = strcmp(g->targets[i].gateway_id, "gw2") == 0 ?
            300 : 700;

        cr_assert_eq(g->targets[i].load_permille, expected,
            "target %s", g->targets[i].gateway_id);
    }
}

Test(planner, caps_target_load_at_full)
{
    struct planner_config cfg = { .accept_threshold = 2.0 };
    const struct cluster_plan_gateway *g;

    /* Only a threshold above 1 keeps a gateway beyond its capacity
     * eligible as a target.  Its load in the plan still ends at 1000. */
    planner_free(pl);
    pl = planner_new(&cfg, 0);
    cr_assert_not_null(pl);
    add_gateway("gw1", "s", 0, 100, "198.51.100.1");
    add_gateway("gw2", "s", 150, 100, "198.51.100.2");
    planner_compute(pl, reg, NULL, 0, T0);
    g = plan_gateway("gw1");
    cr_assert_eq(g->n_targets, 1);
    cr_assert_str_eq(g->targets[0].gateway_id, "gw2");
    cr_assert_eq(g->targets[0].load_permille, CLUSTER_LOAD_PERMILLE_MAX);
}

Test(planner, caps_targets_at_plan_limit)
{
    char id[16], addr[32];

    for (int i = 0; i < CLUSTER_MAX_TARGETS + 10; i++) {
        snprintf(id, sizeof(id), "gw%03d", i);
        snprintf(addr, sizeof(addr), "198.51.100.%d", i + 1);
        add_gateway(id, "s", (uint32_t)i, 1000, addr);
    }
    planner_compute(pl, reg, NULL, 0, T0);
    cr_assert_eq(plan_gateway("gw000")->n_targets, CLUSTER_MAX_TARGETS);
    /* The heaviest (least loaded) are kept; gw073 is the lightest. */
    cr_assert_not_null(find_target(plan_gateway("gw000"), "gw001"));
    cr_assert_null(find_target(plan_gateway("gw000"), "gw073"));
}

/*
 * Balance.  32 gateways of mixed capacity (8 x 4000, 8 x 2000, 16 x 1000)
 * take 40,000 clients arriving through one entry gateway that redirects by
 * the plan.  Half the clients share addresses: 12,000 behind 4 NAT
 * addresses (distinct ports), 8,000 from one host with many connections
 * (same address and port, distinct SPIi).  The plan is recomputed every
 * 500 arrivals, one simulated second apart.
 */
#define BAL_GATEWAYS    32
#define BAL_CLIENTS     40000
#define BAL_ROUND       500

enum bal_mode { BAL_ROUND_ROBIN, BAL_KEY_ADDR, BAL_KEY_FULL, BAL_KEY_FULL_P2C };

static uint32_t
bal_capacity(int i)
{
    if (i < 8)
        return 4000;
    if (i < 16)
        return 2000;
    return 1000;
}

/* Client c's address, port and SPIi, as the agent would hash them. */
static size_t
bal_client_key(int c, enum bal_mode mode, uint8_t *key)
{
    uint32_t addr, port, spi_hi = 0x5a5a0000u + (uint32_t)c;
    uint32_t spi_lo = (uint32_t)c * 2654435761u;

    if (c % 10 < 3) {           /* 30%: behind 4 NAT addresses */
        addr = 0xc6336400u + (uint32_t)(c % 4);
        port = 1024 + (uint32_t)c % 60000;
    } else if (c % 10 < 5) {    /* 20%: one host, many connections */
        addr = 0xc6336480u;
        port = 500;
    } else {                    /* 50%: an address each */
        addr = 0xcb007100u + (uint32_t)c;
        port = 500;
    }
    memcpy(key, &addr, 4);
    if (mode == BAL_KEY_ADDR)
        return 4;
    memcpy(key + 4, &port, 4);
    memcpy(key + 8, &spi_hi, 4);
    memcpy(key + 12, &spi_lo, 4);
    return 16;
}

static void
bal_report_all(const uint32_t *sessions, uint64_t now_ms)
{
    char id[16], addr[32];

    for (int i = 0; i < BAL_GATEWAYS; i++) {
        struct cluster_report r;

        snprintf(id, sizeof(id), "gw%02d", i);
        snprintf(addr, sizeof(addr), "198.51.100.%d", i + 1);
        r = make_report(id, "s", sessions[i], bal_capacity(i), addr);
        gwreg_update_report(reg, &r, now_ms);
    }
    /* The entry gateway takes no clients itself, so its targets are all
     * eligible gateways. */
    struct cluster_report e = make_report("entry", "s", 0, 1, "203.0.113.1");
    gwreg_update_report(reg, &e, now_ms);
    gwreg_set_admin(reg, "entry", CLUSTER_ADMIN_MAINTENANCE, now_ms);
}

/*
 * Returns max/mean of sessions/capacity over the gateways, and in
 * *n_second the number of clients sent to the second candidate, which
 * BAL_KEY_FULL_P2C takes when the first is busier by more than
 * `margin_permille`.  Each run
 * starts with a new registry and planner, so no run inherits the loads
 * and plan of the one before it.
 */
static double
bal_run(enum bal_mode mode, uint16_t margin_permille, int *n_second)
{
    uint32_t sessions[BAL_GATEWAYS] = { 0 };
    struct maglev_table *t = maglev_new(MAGLEV_SIZE_DEFAULT);
    const struct cluster_plan_gateway *g = NULL;
    uint16_t loads[CLUSTER_MAX_TARGETS] = { 0 };
    double sum = 0.0, max = 0.0;
    uint8_t key[16];

    cr_assert_not_null(t);
    teardown();
    setup();
    *n_second = 0;
    for (int c = 0; c < BAL_CLIENTS; c++) {
        int chosen;

        if (c % BAL_ROUND == 0 && mode != BAL_ROUND_ROBIN) {
            uint64_t now = T0 + (uint64_t)(c / BAL_ROUND) * 1000;

            bal_report_all(sessions, now);
            cr_assert_geq(planner_compute(pl, reg, NULL, 0, now), 0);
            g = plan_gateway("entry");
            /* A gateway at the accept threshold leaves the targets. */
            cr_assert_gt(g->n_targets, 0);
            cr_assert_eq(maglev_build(t, g->targets, g->n_targets), 0);
            for (size_t i = 0; i < g->n_targets; i++)
                loads[i] = g->targets[i].load_permille;
        }
        if (mode == BAL_ROUND_ROBIN) {
            sessions[c % BAL_GATEWAYS]++;
            continue;
        }
        size_t len = bal_client_key(c, mode, key);
        int cand[2];

        /* The agent's rule: the plan's loads decide between the two. */
        cr_assert_gt(maglev_lookup2(t, key, len, cand), 0);
        chosen = cand[0];
        if (mode == BAL_KEY_FULL_P2C)
            chosen = (int)cluster_choose_target(loads, (size_t)cand[0],
                (size_t)cand[1], margin_permille);
        if (chosen != cand[0])
            (*n_second)++;
        sessions[atoi(g->targets[chosen].gateway_id + 2)]++;
    }
    maglev_free(t);
    for (int i = 0; i < BAL_GATEWAYS; i++) {
        double u = (double)sessions[i] / bal_capacity(i);

        sum += u;
        if (u > max)
            max = u;
    }
    return max / (sum / BAL_GATEWAYS);
}

Test(planner, spreads_shared_addresses_better_than_round_robin)
{
    int second[5];
    double rr = bal_run(BAL_ROUND_ROBIN, 0, &second[0]);
    double by_addr = bal_run(BAL_KEY_ADDR, 0, &second[1]);
    double full = bal_run(BAL_KEY_FULL, 0, &second[2]);
    double p2c = bal_run(BAL_KEY_FULL_P2C, CLUSTER_P2C_MARGIN_PERMILLE,
        &second[3]);
    double p2c_20 = bal_run(BAL_KEY_FULL_P2C, 20, &second[4]);

    cr_log_info("max/mean load: round_robin=%.3f maglev_addr=%.3f "
        "maglev_addr_port_spi=%.3f with_p2c=%.3f second_choices=%d "
        "with_p2c_margin_20=%.3f second_choices=%d", rr, by_addr, full, p2c,
        second[3], p2c_20, second[4]);
    cr_assert_lt(full, rr);
    cr_assert_lt(full, by_addr);
    cr_assert_leq(p2c, full);
    cr_assert_lt(p2c, 1.15);
    /* A smaller margin lets the second choice act on the small load
     * differences that the plan's weights leave. */
    cr_assert_gt(second[4], 0);
    cr_assert_lt(p2c_20, full);
}
