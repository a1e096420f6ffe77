/*
 * Tests for the plan policy (agent/policy_plan.h): the epoch rule, expiry
 * and the per-packet decisions, with a clock that each test sets.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent_config.h"
#include "move_stream.h"
#include "policy_plan.h"
#include "policy_static.h"
#include "rt/log.h"
#include "rt/maglev.h"

#define T0 1767225600000ULL     /* 2026-01-01, the tests' "now" */

struct fixture {
    struct policy_plan *pp;
    uint64_t now;
    struct sockaddr_in peer;
    struct sockaddr_in local;
    uint8_t spi[8];
};

static struct fixture fx;

static uint64_t
fake_clock(void *arg)
{
    return *(const uint64_t *)arg;
}

static void
setup(void)
{
    struct policy_target own;

    log_init("test", 2, LOG_LEVEL_ERROR);
    memset(&fx, 0, sizeof(fx));
    fx.now = T0;
    cr_assert_eq(policy_target_from_text(&own, "198.51.100.1"), 0);
    fx.pp = policy_plan_new("gw1", &own);
    cr_assert_not_null(fx.pp);
    policy_plan_set_clock(fx.pp, fake_clock, &fx.now);
    fx.peer.sin_family = AF_INET;
    fx.peer.sin_port = htons(500);
    inet_pton(AF_INET, "203.0.113.50", &fx.peer.sin_addr);
    fx.local.sin_family = AF_INET;
    inet_pton(AF_INET, "198.51.100.1", &fx.local.sin_addr);
}

static void
teardown(void)
{
    policy_plan_free(fx.pp);
}

TestSuite(agent_cluster, .init = setup, .fini = teardown);

/*
 * Applies a plan in which gw1 has `admin`, `accept_new` and targets gw2
 * (198.51.100.2) and gw3 (198.51.100.3), expiring `ttl` ms after T0.
 */
static int
apply(uint64_t epoch, uint64_t term, const char *admin, bool accept_new,
    uint64_t ttl)
{
    char text[2048];

    snprintf(text, sizeof(text),
        "{\"version\":1,\"epoch\":%llu,\"leader_term\":%llu,"
        "\"leader_id\":\"ctl-a\",\"created_at_ms\":%llu,"
        "\"expires_at_ms\":%llu,\"gateways\":[{\"gateway_id\":\"gw1\","
        "\"admin\":\"%s\",\"accept_new\":%s,\"weight\":100,\"targets\":["
        "{\"gateway_id\":\"gw2\",\"address\":\"198.51.100.2\",\"weight\":1},"
        "{\"gateway_id\":\"gw3\",\"address\":\"198.51.100.3\",\"weight\":1}"
        "],\"drain_pace_per_s\":%d,\"drain_deadline_at_ms\":%llu}]}",
        (unsigned long long)epoch, (unsigned long long)term,
        (unsigned long long)(T0 - 1000), (unsigned long long)(T0 + ttl),
        admin, accept_new ? "true" : "false",
        strcmp(admin, "draining") == 0 ? 50 : 0,
        strcmp(admin, "draining") == 0 ? (unsigned long long)(T0 + ttl) :
        0ULL);
    return policy_plan_apply_text(fx.pp, text, strlen(text));
}

static enum policy_verdict
decide(bool anycast, bool redirected_from, struct policy_target *t)
{
    struct policy p = policy_plan_policy(fx.pp);
    struct policy_query q;

    memset(&q, 0, sizeof(q));
    q.stage = POLICY_STAGE_INIT;
    q.peer = (const struct sockaddr *)&fx.peer;
    q.local = (const struct sockaddr *)&fx.local;
    q.local_is_anycast = anycast;
    q.redirected_from = redirected_from;
    q.spi_i = fx.spi;
    memset(t, 0, sizeof(*t));
    return p.decide(p.arg, &q, t);
}

static const char *
target_text(const struct policy_target *t, char *buf, size_t size)
{
    return policy_target_to_text(t, buf, size);
}

Test(agent_cluster, applies_first_plan)
{
    cr_expect_eq(apply(5, 1, "active", true, 60000), POLICY_PLAN_APPLIED);
    cr_expect_eq(policy_plan_get_epoch(fx.pp), 5);
    cr_expect(policy_plan_is_serving(fx.pp));
}

Test(agent_cluster, ignores_lower_epoch)
{
    apply(5, 1, "active", true, 60000);
    cr_expect_eq(apply(4, 1, "active", false, 60000), POLICY_PLAN_STALE);
    cr_expect_eq(policy_plan_get_epoch(fx.pp), 5);
}

Test(agent_cluster, ignores_same_epoch)
{
    apply(5, 1, "active", true, 60000);
    cr_expect_eq(apply(5, 1, "active", false, 60000), POLICY_PLAN_SAME);
    cr_expect_eq(policy_plan_get_stats(fx.pp)->applied, 1);
}

Test(agent_cluster, drops_garbage_and_keeps_last_plan)
{
    struct policy_target t;

    apply(5, 1, "active", false, 60000);
    cr_expect_eq(policy_plan_apply_text(fx.pp, "{\"version\":1,", 13),
        POLICY_PLAN_INVALID);
    cr_expect_eq(policy_plan_get_stats(fx.pp)->invalid, 1);
    cr_expect_eq(policy_plan_get_epoch(fx.pp), 5);
    cr_expect_eq(decide(false, false, &t), POLICY_REDIRECT);
}

Test(agent_cluster, accepts_lower_epoch_with_newer_term)
{
    apply(50, 3, "active", true, 60000);
    cr_expect_eq(apply(1, 4, "active", true, 60000), POLICY_PLAN_APPLIED);
    cr_expect_eq(policy_plan_get_epoch(fx.pp), 1);
}

Test(agent_cluster, rejects_higher_epoch_from_older_term)
{
    apply(50, 3, "active", true, 60000);
    cr_expect_eq(apply(51, 2, "active", true, 60000), POLICY_PLAN_STALE);
    cr_expect_eq(policy_plan_get_epoch(fx.pp), 50);
}

Test(agent_cluster, accepts_reset_epoch_after_current_expired)
{
    apply(50, 3, "active", true, 10000);
    /* Redis lost its data: the controller restarts at term 1, epoch 1. */
    cr_expect_eq(apply(1, 1, "active", true, 70000), POLICY_PLAN_STALE);
    fx.now = T0 + 10000;
    cr_expect_eq(apply(1, 1, "active", true, 70000), POLICY_PLAN_APPLIED);
    cr_expect_eq(policy_plan_get_epoch(fx.pp), 1);
}

Test(agent_cluster, ignores_plan_that_already_expired)
{
    fx.now = T0 + 5000;
    cr_expect_eq(apply(5, 1, "active", true, 5000), POLICY_PLAN_EXPIRED);
    cr_expect_eq(policy_plan_get_epoch(fx.pp), 0);
}

Test(agent_cluster, accepts_without_plan)
{
    struct policy_target t;

    cr_expect_eq(decide(false, false, &t), POLICY_ACCEPT);
}

Test(agent_cluster, accepts_when_accept_new)
{
    struct policy_target t;

    apply(5, 1, "active", true, 60000);
    cr_expect_eq(decide(false, false, &t), POLICY_ACCEPT);
}

Test(agent_cluster, redirects_to_plan_target)
{
    struct policy_target t;
    char buf[64];
    const char *text;

    apply(5, 1, "active", false, 60000);
    cr_assert_eq(decide(false, false, &t), POLICY_REDIRECT);
    text = target_text(&t, buf, sizeof(buf));
    cr_expect(strcmp(text, "198.51.100.2") == 0 ||
        strcmp(text, "198.51.100.3") == 0, "target %s", text);
    cr_expect_eq(policy_plan_get_stats(fx.pp)->redirects, 1);
}

Test(agent_cluster, spreads_clients_behind_one_nat_by_spi)
{
    struct policy_target t;
    char buf[64];
    int to_gw2 = 0;

    apply(5, 1, "active", false, 60000);
    for (int i = 0; i < 200; i++) {
        fx.spi[0] = (uint8_t)i;
        fx.spi[1] = (uint8_t)(i * 7);
        cr_assert_eq(decide(false, false, &t), POLICY_REDIRECT);
        if (strcmp(target_text(&t, buf, sizeof(buf)), "198.51.100.2") == 0)
            to_gw2++;
    }
    /* Equal weights: both targets get a fair share of one address. */
    cr_expect_gt(to_gw2, 50);
    cr_expect_lt(to_gw2, 150);
}

Test(agent_cluster, same_client_gets_same_target)
{
    struct policy_target a, b;

    apply(5, 1, "active", false, 60000);
    decide(false, false, &a);
    decide(false, false, &b);
    cr_expect_eq(memcmp(&a, &b, sizeof(a)), 0);
}

Test(agent_cluster, sends_anycast_arrival_to_own_unicast)
{
    struct policy_target t;
    char buf[64];

    apply(5, 1, "active", true, 60000);
    cr_assert_eq(decide(true, false, &t), POLICY_REDIRECT);
    cr_expect_str_eq(target_text(&t, buf, sizeof(buf)), "198.51.100.1");
}

Test(agent_cluster, sends_anycast_arrival_to_unicast_target)
{
    struct policy_target t;
    char buf[64];

    apply(5, 1, "active", false, 60000);
    cr_assert_eq(decide(true, false, &t), POLICY_REDIRECT);
    cr_expect_str_neq(target_text(&t, buf, sizeof(buf)), "198.51.100.1");
}

Test(agent_cluster, accepts_redirected_from_when_not_accepting_new)
{
    struct policy_target t;

    apply(5, 1, "active", false, 60000);
    cr_expect_eq(decide(false, true, &t), POLICY_ACCEPT);
}

Test(agent_cluster, redirects_redirected_from_while_draining)
{
    struct policy_target t;

    apply(5, 1, "draining", false, 60000);
    cr_expect_eq(decide(false, true, &t), POLICY_REDIRECT);
}

Test(agent_cluster, redirects_redirected_from_in_maintenance)
{
    struct policy_target t;

    apply(5, 1, "maintenance", true, 60000);
    cr_expect_eq(decide(false, true, &t), POLICY_REDIRECT);
}

Test(agent_cluster, redirects_everyone_while_self_draining)
{
    struct policy_target t;

    apply(5, 1, "active", true, 60000);
    policy_plan_set_self_draining(fx.pp, true);
    cr_expect_eq(decide(false, false, &t), POLICY_REDIRECT);
}

Test(agent_cluster, fails_open_after_expiry)
{
    struct policy_target t;

    apply(5, 1, "active", false, 10000);
    cr_expect_eq(decide(false, false, &t), POLICY_REDIRECT);
    fx.now = T0 + 10000;
    cr_expect_eq(decide(false, false, &t), POLICY_ACCEPT);
    cr_expect_not(policy_plan_is_serving(fx.pp));
}

Test(agent_cluster, keeps_own_drain_after_expiry)
{
    struct policy_target t;

    apply(5, 1, "draining", false, 10000);
    fx.now = T0 + 20000;
    cr_expect_eq(decide(false, false, &t), POLICY_REDIRECT);
}

Test(agent_cluster, reports_drain_pace_and_deadline)
{
    struct policy_plan_drain d;

    apply(5, 1, "draining", false, 10000);
    cr_assert(policy_plan_get_drain(fx.pp, &d));
    cr_expect_eq(d.pace_per_s, 50);
    cr_expect_eq(d.deadline_at_ms, T0 + 10000);
    fx.now = T0 + 10000;
    cr_expect_not(policy_plan_get_drain(fx.pp, &d));
}

Test(agent_cluster, accepts_at_auth_stage)
{
    struct policy p;
    struct policy_query q;
    struct policy_target t;

    apply(5, 1, "draining", false, 60000);
    p = policy_plan_policy(fx.pp);
    memset(&q, 0, sizeof(q));
    q.stage = POLICY_STAGE_AUTH;
    q.peer = (const struct sockaddr *)&fx.peer;
    cr_expect_eq(p.decide(p.arg, &q, &t), POLICY_ACCEPT);
}

Test(agent_cluster, accepts_when_not_in_plan)
{
    struct policy_target own, t;
    struct policy_plan *other;
    struct policy p;
    struct policy_query q;
    const char *text = "{\"version\":1,\"epoch\":1,\"leader_term\":1,"
        "\"leader_id\":\"c\",\"created_at_ms\":1,\"expires_at_ms\":"
        "99999999999999,\"gateways\":[]}";

    policy_target_from_text(&own, "198.51.100.9");
    other = policy_plan_new("gw9", &own);
    cr_assert_eq(policy_plan_apply_text(other, text, strlen(text)),
        POLICY_PLAN_APPLIED);
    p = policy_plan_policy(other);
    memset(&q, 0, sizeof(q));
    q.stage = POLICY_STAGE_INIT;
    q.peer = (const struct sockaddr *)&fx.peer;
    cr_expect_eq(p.decide(p.arg, &q, &t), POLICY_ACCEPT);
    policy_plan_free(other);
}

/*
 * Applies a plan with epoch `epoch` in which gw1 takes no new clients and
 * has n targets: target i is gw<i+2> at 198.51.100.<i+2>, of weight 1 and
 * load loads[i], or with no load_permille field when loads[i] is -1.
 */
static int
apply_loads(uint64_t epoch, size_t n, const int *loads)
{
    char text[2048], load[32];
    size_t len;

    len = (size_t)snprintf(text, sizeof(text),
        "{\"version\":1,\"epoch\":%llu,\"leader_term\":1,"
        "\"leader_id\":\"ctl-a\",\"created_at_ms\":%llu,"
        "\"expires_at_ms\":%llu,\"gateways\":[{\"gateway_id\":\"gw1\","
        "\"admin\":\"active\",\"accept_new\":false,\"weight\":100,"
        "\"targets\":[", (unsigned long long)epoch,
        (unsigned long long)(T0 - 1000), (unsigned long long)(T0 + 60000));
    for (size_t i = 0; i < n; i++) {
        load[0] = '\0';
        if (loads[i] >= 0)
            snprintf(load, sizeof(load), ",\"load_permille\":%d", loads[i]);
        len += (size_t)snprintf(text + len, sizeof(text) - len,
            "%s{\"gateway_id\":\"gw%zu\",\"address\":\"198.51.100.%zu\","
            "\"weight\":1%s}", i > 0 ? "," : "", i + 2, i + 2, load);
    }
    len += (size_t)snprintf(text + len, sizeof(text) - len,
        "],\"drain_pace_per_s\":0,\"drain_deadline_at_ms\":0}]}");
    cr_assert_lt(len, sizeof(text));
    return policy_plan_apply_text(fx.pp, text, len);
}

/* Returns the index of the target that decide() picks for the current
 * SPIi, or -1 when the verdict is no redirect to a plan target. */
static int
decided_target(void)
{
    struct policy_target t;
    char buf[64];
    unsigned idx;

    if (decide(false, false, &t) != POLICY_REDIRECT)
        return -1;
    if (sscanf(target_text(&t, buf, sizeof(buf)), "198.51.100.%u",
        &idx) != 1 || idx < 2)
        return -1;
    return (int)idx - 2;
}

/* Returns the target that a plan without loads gives the current SPIi:
 * the Maglev choice, as a plan without loads never takes the second. */
static int
first_choice(uint64_t epoch, size_t n)
{
    int none[CLUSTER_MAX_TARGETS];

    for (size_t i = 0; i < n; i++)
        none[i] = -1;
    cr_assert_eq(apply_loads(epoch, n, none), POLICY_PLAN_APPLIED);
    return decided_target();
}

Test(agent_cluster, sends_client_to_second_when_first_busy)
{
    int loads[2];
    int first = first_choice(1, 2);

    cr_assert_geq(first, 0);
    loads[first] = 900;
    loads[1 - first] = 100;
    cr_assert_eq(apply_loads(2, 2, loads), POLICY_PLAN_APPLIED);
    cr_expect_eq(decided_target(), 1 - first);
}

Test(agent_cluster, keeps_first_choice_at_equal_loads)
{
    int loads[3] = { 700, 700, 700 };

    for (int i = 0; i < 20; i++) {
        fx.spi[0] = (uint8_t)i;
        int first = first_choice((uint64_t)(2 * i + 1), 3);

        cr_assert_geq(first, 0);
        cr_assert_eq(apply_loads((uint64_t)(2 * i + 2), 3, loads),
            POLICY_PLAN_APPLIED);
        cr_expect_eq(decided_target(), first, "spi[0]=%d", i);
    }
}

Test(agent_cluster, keeps_first_choice_within_margin)
{
    int loads[2];
    int first = first_choice(1, 2);

    cr_assert_geq(first, 0);
    /* Busier by exactly the margin is not busier by more than it. */
    loads[first] = 100 + CLUSTER_P2C_MARGIN_PERMILLE;
    loads[1 - first] = 100;
    cr_assert_eq(apply_loads(2, 2, loads), POLICY_PLAN_APPLIED);
    cr_expect_eq(decided_target(), first);
}

Test(agent_cluster, keeps_only_target_when_busy)
{
    int loads[1] = { 900 };

    cr_assert_eq(apply_loads(1, 1, loads), POLICY_PLAN_APPLIED);
    cr_expect_eq(decided_target(), 0);
}

Test(agent_cluster, moves_every_client_off_busy_target)
{
    int loads[2] = { 900, 100 };

    cr_assert_eq(apply_loads(1, 2, loads), POLICY_PLAN_APPLIED);
    for (int i = 0; i < 64; i++) {
        fx.spi[0] = (uint8_t)i;
        fx.spi[1] = (uint8_t)(i * 7);
        cr_expect_eq(decided_target(), 1, "spi[0]=%d", i);
    }
}

/* Move entries: field tables as Redis returns them.  Criterion copies
 * parameters into another process, so they hold text, not pointers. */
struct move_case {
    char fields[3][16];
    char values[3][40];
    size_t n;
    int expect;
};

ParameterizedTestParameters(agent_cluster, parses_move_entries)
{
    static struct move_case cases[] = {
        { { "to", "peer" }, { "198.51.100.2", "203.0.113.5" }, 2, 0 },
        { { "to", "peer" }, { "198.51.100.2", "203.0.113.5:4500" }, 2, 0 },
        { { "to", "peer" }, { "gw2.example.net", "[2001:db8::5]:500" }, 2,
          0 },
        { { "to", "id" }, { "198.51.100.2", "c@example.net" }, 2, 0 },
        { { "to", "spi" }, { "198.51.100.2", "0011223344556677" }, 2, 0 },
        { { "to", "spi", "move_id" }, { "198.51.100.2", "0011223344556677",
          "m-1" }, 3, 0 },
        { { "peer" }, { "203.0.113.5" }, 1, -EINVAL },
        { { "to" }, { "198.51.100.2" }, 1, -EINVAL },
        { { "to", "peer" }, { "198.51.100.2", "203.0.113.5:0" }, 2, -EINVAL },
        { { "to", "peer" }, { "198.51.100.2", "nonsense" }, 2, -EINVAL },
        { { "to", "spi" }, { "198.51.100.2", "00112233" }, 2, -EINVAL },
        { { "to", "spi" }, { "198.51.100.2", "00112233445566zz" }, 2,
          -EINVAL },
        { { "to", "peer" }, { "bad..name", "203.0.113.5" }, 2, -EINVAL },
        { { "to", "peer", "expires_at_ms" }, { "198.51.100.2",
          "203.0.113.5", "-1" }, 3, -EINVAL },
    };

    return cr_make_param_array(struct move_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct move_case *mc, agent_cluster, parses_move_entries)
{
    const char *f[3], *v[3];
    struct move_request req;
    char err[160] = "";

    for (size_t i = 0; i < 3; i++) {
        f[i] = mc->fields[i];
        v[i] = mc->values[i];
    }
    memset(&req, 0, sizeof(req));
    cr_expect_eq(move_request_parse(f, v, mc->n, &req, err, sizeof(err)),
        mc->expect, "%s=%s: %s", f[1], v[1], err);
}

Test(agent_cluster, parses_move_peer_port)
{
    const char *f[] = { "to", "peer" };
    const char *v[] = { "198.51.100.2", "203.0.113.5:4500" };
    struct move_request req;
    char err[160];

    memset(&req, 0, sizeof(req));
    cr_assert_eq(move_request_parse(f, v, 2, &req, err, sizeof(err)), 0);
    cr_expect_eq(ntohs(((struct sockaddr_in *)&req.peer)->sin_port), 4500);
    cr_expect(req.have_peer);
}

/* Writes `cluster` as the "cluster" section of a minimal agent file. */
static struct agent_config *
config_with_cluster(const char *cluster)
{
    char path[] = "/tmp/acl-agent-XXXXXX";
    struct agent_config *c;
    FILE *fp, *errors = fopen("/dev/null", "w");
    int fd = mkstemp(path);

    cr_assert_geq(fd, 0);
    fp = fdopen(fd, "w");
    fprintf(fp, "{\"listen\":{\"unicast\":[\"198.51.100.1\"]},"
        "\"identity\":{\"value\":\"vpn.example.net\"},"
        "\"clients\":[{\"id\":\"c@example.net\",\"psk\":\"k\"}],"
        "\"cluster\":%s}", cluster);
    fclose(fp);
    c = agent_config_load(path, errors);
    fclose(errors);
    unlink(path);
    return c;
}

Test(agent_cluster, config_reads_cluster_defaults)
{
    struct agent_config *c = config_with_cluster(
        "{\"redis\":\"127.0.0.1\",\"gateway_id\":\"gw1\"}");

    cr_assert_not_null(c);
    cr_expect(c->cluster.enabled);
    cr_expect_str_eq(c->cluster.link.redis_host, "127.0.0.1");
    cr_expect_eq(c->cluster.link.redis_port, 6379);
    cr_expect_eq(c->cluster.link.report_interval_ms, 1000);
    cr_expect_eq(c->cluster.link.report_ttl_ms, 2500);
    cr_expect_eq(c->cluster.link.capacity, c->engine.max_sas);
    cr_expect_eq(strlen(c->config_hash), 64);
    agent_config_free(c);
}

Test(agent_cluster, config_rejects_bad_gateway_id)
{
    cr_expect_null(config_with_cluster(
        "{\"redis\":\"127.0.0.1\",\"gateway_id\":\"gw 1\"}"));
}

Test(agent_cluster, config_rejects_ttl_below_interval)
{
    cr_expect_null(config_with_cluster("{\"redis\":\"127.0.0.1:6380\","
        "\"gateway_id\":\"gw1\",\"report_interval\":\"2s\","
        "\"report_ttl\":\"1s\"}"));
}
