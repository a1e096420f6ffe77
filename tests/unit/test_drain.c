#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>

#include "drain.h"
#include "gwreg.h"
#include "planner.h"

#define T0 100000u

static struct gwreg *reg;

static void
report(const char *id, uint32_t sas, uint32_t capacity, uint64_t now_ms)
{
    struct cluster_report r;

    memset(&r, 0, sizeof(r));
    snprintf(r.gateway_id, sizeof(r.gateway_id), "%s", id);
    snprintf(r.site, sizeof(r.site), "s");
    r.ike_sas = sas;
    r.capacity = capacity;
    r.half_open_limit = 1000;
    r.n_unicast = 1;
    snprintf(r.unicast[0], sizeof(r.unicast[0]), "198.51.100.1");
    cr_assert_eq(gwreg_update_report(reg, &r, now_ms), 0);
}

/* gw1 has 400 SAs; gw2 and gw3 have room for 2 x 800 at 90%. */
static void
setup(void)
{
    reg = gwreg_new(NULL, 0);
    cr_assert_not_null(reg);
    report("gw1", 400, 1000, T0);
    report("gw2", 100, 1000, T0);
    report("gw3", 100, 1000, T0);
}

static void
teardown(void)
{
    gwreg_free(reg);
}

TestSuite(drain, .init = setup, .fini = teardown);

/* Steps once and stores the admin state, as the controller does. */
static int
step(struct drain *d, uint64_t now_ms)
{
    int ret = drain_step(d, reg, now_ms);

    cr_assert_eq(gwreg_set_admin(reg, d->gateway_id, drain_admin_state(d),
        now_ms), 0);
    return ret;
}

/* Drives a fresh drain of gw1 to evacuating. */
static void
start_evacuating(struct drain *d, const struct drain_params *params)
{
    cr_assert_eq(drain_init(d, "gw1", params, 7, T0), 0);
    step(d, T0);
    step(d, T0);
    cr_assert_eq(d->state, DRAIN_NO_NEW_CLIENTS);
    step(d, T0 + d->params.settle_ms);
    cr_assert_eq(d->state, DRAIN_EVACUATING);
}

Test(drain, starts_requested)
{
    struct drain d;

    cr_assert_eq(drain_init(&d, "gw1", NULL, 1, T0), 0);
    cr_assert_eq(d.state, DRAIN_REQUESTED);
    cr_assert_eq(d.deadline_at_ms, T0 + DRAIN_DURATION_MS);
    cr_assert_eq(drain_admin_state(&d), CLUSTER_ADMIN_ACTIVE);
}

Test(drain, rejects_bad_gateway_id)
{
    struct drain d;

    cr_assert_eq(drain_init(&d, "gw 1", NULL, 1, T0), -EINVAL);
    cr_assert_eq(drain_init(&d, "", NULL, 1, T0), -EINVAL);
}

Test(drain, rejects_jitter_above_one)
{
    struct drain d;
    struct drain_params p = { .jitter = 1.5 };

    cr_assert_eq(drain_init(&d, "gw1", &p, 1, T0), -EINVAL);
}

Test(drain, requested_moves_to_admission)
{
    struct drain d;

    drain_init(&d, "gw1", NULL, 1, T0);
    cr_assert_eq(step(&d, T0), 1);
    cr_assert_eq(d.state, DRAIN_ADMISSION);
}

Test(drain, admission_turns_away_new_clients)
{
    struct drain d;
    struct planner_drain pd;

    drain_init(&d, "gw1", NULL, 1, T0);
    step(&d, T0);
    cr_assert_eq(step(&d, T0), 1);
    cr_assert_eq(d.state, DRAIN_NO_NEW_CLIENTS);
    cr_assert_eq(drain_admin_state(&d), CLUSTER_ADMIN_DRAINING);
    cr_assert(drain_plan_entry(&d, &pd));
    cr_assert_eq(pd.pace_per_s, 0);
    cr_assert_eq(pd.deadline_at_ms, d.deadline_at_ms);
}

Test(drain, refuses_when_others_lack_room)
{
    struct drain d;

    /* A fresh registry, so the loads are these reports' loads. */
    gwreg_free(reg);
    reg = gwreg_new(NULL, 0);
    report("gw1", 900, 1000, T0);
    report("gw2", 400, 1000, T0);
    report("gw3", 400, 1000, T0);
    /* Room 2 x 500 = 1000 < 900 x 1.2 = 1080. */
    drain_init(&d, "gw1", NULL, 1, T0);
    step(&d, T0);
    step(&d, T0);
    cr_assert_eq(d.state, DRAIN_REFUSED);
    cr_assert_eq(d.refusal, DRAIN_REFUSAL_NO_ROOM);
    cr_assert_str_eq(d.reason, "other gateways have room for 1000 "
        "sessions, drain needs 1080 (900 and margin 0.20)");
    cr_assert_eq(drain_admin_state(&d), CLUSTER_ADMIN_ACTIVE);
    cr_assert(drain_is_final(&d));
}

Test(drain, refuses_empty_gateway_when_no_peer_takes_clients)
{
    struct gwreg_config cfg = { 0 };
    struct cluster_report r;
    struct drain d;

    /* gw2 presents another identity; gw1 is empty. */
    gwreg_free(reg);
    snprintf(cfg.identity, sizeof(cfg.identity), "fqdn:vpn.example.net");
    reg = gwreg_new(&cfg, 0);
    memset(&r, 0, sizeof(r));
    snprintf(r.gateway_id, sizeof(r.gateway_id), "gw1");
    snprintf(r.identity, sizeof(r.identity), "fqdn:vpn.example.net");
    r.capacity = 1000;
    cr_assert_eq(gwreg_update_report(reg, &r, T0), 0);
    snprintf(r.gateway_id, sizeof(r.gateway_id), "gw2");
    snprintf(r.identity, sizeof(r.identity), "fqdn:vpn.other.example");
    cr_assert_eq(gwreg_update_report(reg, &r, T0), 0);
    drain_init(&d, "gw1", NULL, 1, T0);
    step(&d, T0);
    step(&d, T0);
    cr_assert_eq(d.state, DRAIN_REFUSED);
    cr_assert_eq(d.refusal, DRAIN_REFUSAL_NO_ROOM);
    cr_assert_str_eq(d.reason, "no other gateway takes new clients (live, "
        "active, serving, right identity, below the threshold)");
}

Test(drain, refuses_when_too_many_out)
{
    struct drain d;

    gwreg_set_admin(reg, "gw3", CLUSTER_ADMIN_MAINTENANCE, T0);
    drain_init(&d, "gw1", NULL, 1, T0);
    step(&d, T0);
    step(&d, T0);
    cr_assert_eq(d.refusal, DRAIN_REFUSAL_TOO_MANY_OUT);
    cr_assert_str_eq(d.reason, "1 gateways already out, at most 1 at once");
}

Test(drain, admits_second_drain_when_max_out_allows)
{
    struct drain d;
    struct drain_params p = { .max_out = 2 };

    report("gw4", 0, 1000, T0);
    gwreg_set_admin(reg, "gw3", CLUSTER_ADMIN_MAINTENANCE, T0);
    drain_init(&d, "gw1", &p, 1, T0);
    step(&d, T0);
    step(&d, T0);
    cr_assert_eq(d.state, DRAIN_NO_NEW_CLIENTS);
}

Test(drain, refuses_unknown_gateway)
{
    struct drain d;

    drain_init(&d, "gw9", NULL, 1, T0);
    step(&d, T0);
    step(&d, T0);
    cr_assert_eq(d.refusal, DRAIN_REFUSAL_NOT_LIVE);
    cr_assert_str_eq(d.reason, "no live report for gateway gw9");
}

Test(drain, refuses_gateway_not_active)
{
    struct drain d;
    struct drain_params p = { .max_out = 3 };

    gwreg_set_admin(reg, "gw1", CLUSTER_ADMIN_MAINTENANCE, T0);
    drain_init(&d, "gw1", &p, 1, T0);
    drain_step(&d, reg, T0);
    drain_step(&d, reg, T0);
    cr_assert_eq(d.refusal, DRAIN_REFUSAL_NOT_ACTIVE);
}

Test(drain, waits_settle_time_before_evacuating)
{
    struct drain d;

    drain_init(&d, "gw1", NULL, 1, T0);
    step(&d, T0);
    step(&d, T0);
    cr_assert_eq(step(&d, T0 + DRAIN_SETTLE_MS - 1), 0);
    cr_assert_eq(d.state, DRAIN_NO_NEW_CLIENTS);
    cr_assert_eq(step(&d, T0 + DRAIN_SETTLE_MS), 1);
    cr_assert_eq(d.state, DRAIN_EVACUATING);
    cr_assert_eq(d.initial_sessions, 400);
}

Test(drain, pace_is_operator_pace_with_jitter)
{
    struct drain d;
    struct planner_drain pd;
    struct drain_params p = { .pace_per_s = 40, .jitter = 0.25 };

    start_evacuating(&d, &p);
    step(&d, T0 + 4000);
    cr_assert(drain_plan_entry(&d, &pd));
    cr_assert_geq(pd.pace_per_s, 30);
    cr_assert_leq(pd.pace_per_s, 50);
    cr_assert_eq(pd.deadline_at_ms, d.deadline_at_ms);
}

Test(drain, pace_limited_by_targets_headroom)
{
    struct drain d;
    struct cluster_report r;
    struct drain_params p = { .pace_per_s = 1000, .jitter = 0.001 };

    start_evacuating(&d, &p);
    /* gw2 and gw3 have 10 free half-open slots each: 20 x 0.5 = 10/s. */
    for (int i = 2; i <= 3; i++) {
        memset(&r, 0, sizeof(r));
        snprintf(r.gateway_id, sizeof(r.gateway_id), "gw%d", i);
        r.ike_sas = 100;
        r.capacity = 1000;
        r.half_open = 90;
        r.half_open_limit = 100;
        gwreg_update_report(reg, &r, T0 + 3500);
    }
    d.pace_per_s = 0;
    step(&d, T0 + 4000);
    cr_assert_eq(d.pace_per_s, 10);
}

Test(drain, keeps_pace_between_repace_intervals)
{
    struct drain d;
    uint32_t first;

    start_evacuating(&d, NULL);
    step(&d, T0 + 4000);
    first = d.pace_per_s;
    step(&d, T0 + 4000 + DRAIN_REPACE_MS - 1);
    cr_assert_eq(d.pace_per_s, first);
}

Test(drain, reports_progress_and_estimated_end)
{
    struct drain d;
    struct drain_progress pr;

    start_evacuating(&d, NULL);
    for (uint64_t t = T0 + 4000, sas = 380; t <= T0 + 34000;
        t += 1000, sas -= 10) {
        report("gw1", (uint32_t)sas, 1000, t);
        step(&d, t);
    }
    drain_get_progress(&d, T0 + 34000, &pr);
    cr_assert_eq(pr.remaining, 80);
    cr_assert_gt(pr.rate_per_s, 5.0);
    cr_assert_leq(pr.rate_per_s, 10.0);
    cr_assert_gt(pr.estimated_end_at_ms, T0 + 34000 + 8000);
    cr_assert_lt(pr.estimated_end_at_ms, T0 + 34000 + 16001);
}

Test(drain, drained_when_no_sas_left)
{
    struct drain d;
    struct planner_drain pd;

    start_evacuating(&d, NULL);
    report("gw1", 0, 1000, T0 + 5000);
    cr_assert_eq(step(&d, T0 + 5000), 1);
    cr_assert_eq(d.state, DRAIN_DRAINED);
    cr_assert_eq(drain_admin_state(&d), CLUSTER_ADMIN_DRAINED);
    cr_assert(drain_is_final(&d));
    cr_assert(drain_plan_entry(&d, &pd));
    cr_assert_eq(pd.pace_per_s, 0);
    cr_assert_eq(pd.deadline_at_ms, 0);
}

Test(drain, drained_when_report_expires)
{
    struct drain d;

    start_evacuating(&d, NULL);
    report("gw2", 100, 1000, T0 + 9000);
    report("gw3", 100, 1000, T0 + 9000);
    gwreg_expire(reg, T0 + 9000);
    step(&d, T0 + 9000);
    cr_assert_eq(d.state, DRAIN_DRAINED);
    cr_assert_str_eq(d.reason, "report expired");
}

Test(drain, deadline_with_force_policy_deletes_rest)
{
    struct drain d;
    struct planner_drain pd;
    struct drain_params p = { .duration_ms = 60000,
        .policy = DRAIN_POLICY_FORCE };

    start_evacuating(&d, &p);
    report("gw1", 120, 1000, T0 + 60000);
    cr_assert_eq(step(&d, T0 + 60000), 1);
    cr_assert_eq(d.state, DRAIN_FORCED);
    cr_assert_eq(drain_admin_state(&d), CLUSTER_ADMIN_DRAINED);
    cr_assert_str_eq(d.reason, "deadline reached with 120 IKE SAs left");
    cr_assert(drain_plan_entry(&d, &pd));
    cr_assert_eq(pd.pace_per_s, 0);
    cr_assert_eq(pd.deadline_at_ms, T0 + 60000);
}

Test(drain, deadline_with_hold_policy_stops)
{
    struct drain d;
    struct planner_drain pd;
    struct drain_params p = { .duration_ms = 60000,
        .policy = DRAIN_POLICY_HOLD };

    start_evacuating(&d, &p);
    report("gw1", 120, 1000, T0 + 60000);
    step(&d, T0 + 60000);
    cr_assert_eq(d.state, DRAIN_HELD);
    cr_assert_eq(drain_admin_state(&d), CLUSTER_ADMIN_DRAINING);
    cr_assert_not(drain_is_final(&d));
    cr_assert(drain_plan_entry(&d, &pd));
    cr_assert_eq(pd.pace_per_s, 0);
    cr_assert_eq(pd.deadline_at_ms, 0);
    cr_assert_eq(d.remaining, 120);
}

Test(drain, deadline_while_waiting_to_evacuate)
{
    struct drain d;
    struct drain_params p = { .duration_ms = 1000, .settle_ms = 5000 };

    drain_init(&d, "gw1", &p, 1, T0);
    step(&d, T0);
    step(&d, T0);
    step(&d, T0 + 1000);
    cr_assert_eq(d.state, DRAIN_FORCED);
}

Test(drain, resume_returns_gateway_through_slow_start)
{
    struct drain d;
    struct planner_drain pd;

    start_evacuating(&d, NULL);
    cr_assert_eq(drain_resume(&d, T0 + 9000), 0);
    gwreg_set_admin(reg, "gw1", drain_admin_state(&d), T0 + 9000);
    cr_assert_eq(d.state, DRAIN_RESUMED);
    cr_assert_eq(gwreg_get(reg, "gw1")->admin, CLUSTER_ADMIN_ACTIVE);
    cr_assert_eq(gwreg_get(reg, "gw1")->slow_start_at_ms, T0 + 9000);
    cr_assert_not(drain_plan_entry(&d, &pd));
}

Test(drain, resume_after_hold)
{
    struct drain d;
    struct drain_params p = { .duration_ms = 60000,
        .policy = DRAIN_POLICY_HOLD };

    start_evacuating(&d, &p);
    step(&d, T0 + 60000);
    cr_assert_eq(drain_resume(&d, T0 + 61000), 0);
    cr_assert_eq(drain_admin_state(&d), CLUSTER_ADMIN_ACTIVE);
}

Test(drain, resume_of_refused_drain_fails)
{
    struct drain d;

    drain_init(&d, "gw9", NULL, 1, T0);
    step(&d, T0);
    step(&d, T0);
    cr_assert_eq(drain_resume(&d, T0), -EALREADY);
}

Test(drain, restart_continues_from_serialized_state)
{
    struct drain d, back;
    char err[200];
    char *text;

    start_evacuating(&d, NULL);
    report("gw1", 300, 1000, T0 + 5000);
    step(&d, T0 + 5000);
    text = drain_encode(&d);
    cr_assert_not_null(text);
    cr_assert_eq(drain_parse(&back, text, strlen(text), err, sizeof(err)), 0,
        "%s", err);
    free(text);
    cr_assert_str_eq(back.gateway_id, "gw1");
    cr_assert_eq(back.state, DRAIN_EVACUATING);
    cr_assert_eq(back.deadline_at_ms, d.deadline_at_ms);
    cr_assert_eq(back.remaining, 300);
    cr_assert_eq(back.rng, d.rng);
    cr_assert_eq(back.pace_per_s, d.pace_per_s);
    cr_assert_float_eq(back.rate_per_s, d.rate_per_s, 1e-9);
    cr_assert_float_eq(back.params.margin, d.params.margin, 1e-12);
    /* The restored machine finishes the drain. */
    report("gw1", 0, 1000, T0 + 6000);
    step(&back, T0 + 6000);
    cr_assert_eq(back.state, DRAIN_DRAINED);
}

Test(drain, refusal_survives_encoding)
{
    struct drain d, back;
    char err[200];
    char *text;

    drain_init(&d, "gw9", NULL, 1, T0);
    step(&d, T0);
    step(&d, T0);
    text = drain_encode(&d);
    cr_assert_eq(drain_parse(&back, text, strlen(text), err, sizeof(err)), 0,
        "%s", err);
    free(text);
    cr_assert_eq(back.refusal, DRAIN_REFUSAL_NOT_LIVE);
    cr_assert_str_eq(back.reason, d.reason);
}

/* Each bad input replaces one field of a valid encoding.  Criterion may
 * run each case in a new process image, so the strings are arrays. */
struct bad_case {
    char field[24];         /* "key" at top level or "params.key" */
    char value[24];         /* JSON text */
    char message[96];
};

ParameterizedTestParameters(drain, parse_rejects_bad_field)
{
    static struct bad_case cases[] = {
        { "version", "2", "drain.version: invalid value 2, expected 1-1" },
        { "state", "\"sleeping\"", "drain.state: invalid value "
            "\"sleeping\"" },
        { "state", "3", "drain.state: invalid type, expected a string" },
        { "gateway_id", "\"gw 1\"", "drain.gateway_id: invalid value "
            "\"gw 1\", expected 1-63 characters of A-Z a-z 0-9 . _ -" },
        { "remaining", "-1", "drain.remaining: invalid value -1, expected "
            "0-4294967295" },
        { "remaining", "\"5\"", "drain.remaining: invalid type, expected "
            "an integer" },
        { "deadline_at_ms", "5", "drain.deadline_at_ms: invalid value, "
            "before requested_at_ms" },
        { "rng", "\"0000000000000000\"", "drain.rng: invalid value 0" },
        { "rng", "\"xyz\"", "drain.rng: invalid value, expected 16 hex "
            "digits" },
        { "refusal", "\"no_room\"", "drain.refusal: invalid value "
            "\"no_room\" in state evacuating" },
        { "params", "[]", "drain.params: missing or not an object" },
        { "params.margin", "11", "drain.params.margin: invalid value 11, "
            "expected 0-10" },
        { "params.policy", "\"drop\"", "drain.params.policy: invalid value "
            "\"drop\"" },
        { "params.pace_per_s", "0", "drain.params.pace_per_s: invalid value "
            "0, expected 1-4294967295" },
        { "reason", "null", "drain.reason: invalid type, expected a "
            "string" },
    };

    return cr_make_param_array(struct bad_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_case *c, drain, parse_rejects_bad_field)
{
    struct drain d, out, before;
    json_t *root, *obj, *value;
    const char *key = c->field;
    char err[200] = "";
    char *text;

    drain_init(&d, "gw1", NULL, 1, T0);
    d.state = DRAIN_EVACUATING;
    text = drain_encode(&d);
    root = json_loads(text, 0, NULL);
    free(text);
    cr_assert_not_null(root);
    obj = root;
    if (strncmp(key, "params.", 7) == 0) {
        obj = json_object_get(root, "params");
        key += 7;
    }
    value = json_loads(c->value, JSON_DECODE_ANY, NULL);
    cr_assert_not_null(value);
    json_object_set_new(obj, key, value);
    text = json_dumps(root, 0);
    json_decref(root);
    memset(&out, 0xa5, sizeof(out));
    before = out;
    cr_assert_eq(drain_parse(&out, text, strlen(text), err, sizeof(err)),
        -EINVAL);
    free(text);
    cr_assert_str_eq(err, c->message);
    cr_assert_eq(memcmp(&out, &before, sizeof(out)), 0);
}

Test(drain, parse_rejects_truncated_json)
{
    struct drain d;
    char err[200];

    cr_assert_eq(drain_parse(&d, "{\"version\":", 11, err, sizeof(err)),
        -EINVAL);
    cr_assert_eq(strncmp(err, "drain: invalid JSON", 19), 0);
}

Test(drain, parse_rejects_missing_field)
{
    struct drain d;
    char err[200];

    cr_assert_eq(drain_parse(&d, "{\"version\":1}", 13, err, sizeof(err)),
        -EINVAL);
    cr_assert_str_eq(err, "drain.gateway_id: missing");
}
