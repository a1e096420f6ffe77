/*
 * Tests for the controller's backend: the API callbacks over the
 * registry, planner and drains, with a real redis-server, a real lease and
 * agents' reports that the test rewrites on every cycle.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "api.h"
#include "backend.h"
#include "leader.h"
#include "redis_server.h"
#include "rt/cluster_plan.h"
#include "rt/cluster_report.h"
#include "rt/keys.h"
#include "rt/log.h"
#include "rt/redis_link.h"
#include "store.h"

#define CB_CYCLE_MS 50

struct cb {
    uv_loop_t loop;
    uv_timer_t guard;
    uv_timer_t cycle;
    bool expired;
    struct redis_server *srv;
    redisContext *sync;
    struct redis_link *link;
    struct leader *leader;
    struct store *store;
    struct ctl_backend *backend;
    struct api_backend api;
    uint32_t ike_sas[3];        /* reported per gateway gw1..gw3 */
    char identity[3][40];       /* the IDr each reports, "" for none */
    size_t n_gateways;
    struct cluster_plan plan;   /* last plan read back from Redis */
};

static void
cb_guard_cb(uv_timer_t *timer)
{
    struct cb *t = timer->data;

    t->expired = true;
}

/* Writes fresh reports of every gateway, as agents would. */
static void
cb_put_reports(struct cb *t)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    for (size_t i = 0; i < t->n_gateways; i++) {
        struct cluster_report r = { 0 };
        char key[KEYS_REPORT_SIZE], err[CLUSTER_ERR_SIZE];
        char *text;
        redisReply *reply;

        snprintf(r.gateway_id, sizeof(r.gateway_id), "gw%zu", i + 1);
        r.state = CLUSTER_AGENT_SERVING;
        r.sent_at_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec /
            1000000;
        r.interval_ms = 1000;
        r.ike_sas = t->ike_sas[i];
        r.half_open_limit = 100;
        r.capacity = 1000;
        r.pool_size = 1000;
        r.n_unicast = 1;
        snprintf(r.unicast[0], sizeof(r.unicast[0]), "198.51.100.%zu",
            i + 1);
        snprintf(r.identity, sizeof(r.identity), "%s", t->identity[i]);
        cr_assert_eq(cluster_report_encode(&r, &text, err, sizeof(err)), 0,
            "%s", err);
        reply = redisCommand(t->sync, "SET %s %s PX 3000",
            keys_report(key, sizeof(key), r.gateway_id), text);
        cr_assert_not_null(reply);
        freeReplyObject(reply);
        free(text);
    }
}

static void
cb_cycle_cb(uv_timer_t *timer)
{
    struct cb *t = timer->data;

    cb_put_reports(t);
    ctl_backend_cycle(t->backend);
}

static void
cb_leader_cb(struct leader *l, bool leading, void *arg)
{
    struct cb *t = arg;

    (void)l;
    ctl_backend_set_leading(t->backend, leading);
}

typedef bool cb_pred_fn(struct cb *t, const char *arg);

static bool
cb_wait(struct cb *t, cb_pred_fn *pred, const char *arg, uint64_t ms)
{
    t->expired = false;
    uv_timer_start(&t->guard, cb_guard_cb, ms, 0);
    while (!pred(t, arg) && !t->expired)
        uv_run(&t->loop, UV_RUN_ONCE);
    uv_timer_stop(&t->guard);
    return pred(t, arg);
}

static bool
cb_planning(struct cb *t, const char *arg)
{
    (void)arg;
    return ctl_backend_is_planning(t->backend);
}

/* Reads the stored plan into t->plan; returns false when there is none. */
static bool
cb_read_plan(struct cb *t)
{
    char err[CLUSTER_ERR_SIZE];
    redisReply *r = redisCommand(t->sync, "GET %s", KEYS_PLAN);
    bool ok;

    cr_assert_not_null(r);
    cluster_plan_clear(&t->plan);
    ok = r->type == REDIS_REPLY_STRING && cluster_plan_parse(r->str, r->len,
        &t->plan, err, sizeof(err)) == 0;
    freeReplyObject(r);
    return ok;
}

/* True when the stored plan gives `arg` ("gw1=draining") that admin. */
static bool
cb_plan_has_admin(struct cb *t, const char *arg)
{
    char id[CLUSTER_ID_MAX + 1];
    const char *eq = strchr(arg, '=');
    const struct cluster_plan_gateway *g;

    snprintf(id, sizeof(id), "%.*s", (int)(eq - arg), arg);
    if (!cb_read_plan(t) ||
        (g = cluster_plan_find_gateway(&t->plan, id)) == NULL)
        return false;
    return strcmp(cluster_admin_state_name(g->admin), eq + 1) == 0;
}

/* True when the stored plan has no entry for gateway `arg`. */
static bool
cb_plan_lacks(struct cb *t, const char *arg)
{
    return cb_read_plan(t) && cluster_plan_find_gateway(&t->plan, arg) ==
        NULL;
}

/* True when the moves stream of gateway `arg` has an entry. */
static bool
cb_has_move(struct cb *t, const char *arg)
{
    redisReply *r = redisCommand(t->sync, "XLEN %s%s", STORE_MOVES_PREFIX,
        arg);
    bool ok;

    cr_assert_not_null(r);
    ok = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
    freeReplyObject(r);
    return ok;
}

/* The planner's accept threshold for the next cb_init(), 0 for default. */
static double cb_accept_threshold;
/* The cluster identity for the next cb_init(), "" for none, and the one
 * gateway 3 reports. */
static const char *cb_cluster_identity = "";
static const char *cb_gw3_identity = "";

static void
cb_init(struct cb *t, size_t n_gateways)
{
    struct redis_link_options o = {
        .name = "test-backend", .host = "127.0.0.1",
        .connect_timeout_ms = 1000, .command_timeout_ms = 1000,
        .backoff_min_ms = 20, .backoff_max_ms = 100,
    };
    struct leader_config lc = { .id = "ctl-a", .ttl_ms = 1000,
        .renew_ms = 200 };
    struct ctl_backend_config bc = { 0 };

    bc.planner.accept_threshold = cb_accept_threshold;
    snprintf(bc.registry.identity, sizeof(bc.registry.identity), "%s",
        cb_cluster_identity);

    memset(t, 0, sizeof(*t));
    log_init("test_controller_backend", 2, LOG_LEVEL_ERROR);
    cr_assert_eq(uv_loop_init(&t->loop), 0);
    uv_timer_init(&t->loop, &t->guard);
    t->guard.data = t;
    uv_timer_init(&t->loop, &t->cycle);
    t->cycle.data = t;
    t->srv = redis_server_start(NULL);
    cr_assert_not_null(t->srv, "redis-server did not start");
    t->sync = redisConnect("127.0.0.1", redis_server_port(t->srv));
    cr_assert(t->sync != NULL && t->sync->err == 0);
    o.port = redis_server_port(t->srv);
    t->link = redis_link_new(&t->loop, &o, NULL, NULL);
    cr_assert_not_null(t->link);
    cr_assert_eq(redis_link_start(t->link), 0);
    t->leader = leader_new(&t->loop, t->link, &lc, cb_leader_cb, t);
    t->store = store_new(t->link);
    cr_assert(t->leader != NULL && t->store != NULL);
    t->backend = ctl_backend_new(&bc, t->store, t->leader);
    cr_assert_not_null(t->backend);
    ctl_backend_get_api(t->backend, &t->api);
    t->n_gateways = n_gateways;
    for (size_t i = 0; i < 3; i++) {
        t->ike_sas[i] = 100;
        snprintf(t->identity[i], sizeof(t->identity[i]), "%s",
            i == 2 ? cb_gw3_identity : "fqdn:vpn.example.net");
    }
    cb_put_reports(t);
    uv_timer_start(&t->cycle, cb_cycle_cb, CB_CYCLE_MS, CB_CYCLE_MS);
}

/* Starts the lease and waits until the backend plans. */
static void
cb_lead(struct cb *t)
{
    leader_start(t->leader);
    cr_assert(cb_wait(t, cb_planning, NULL, 3000), "backend never planned");
}

static void
cb_fini(struct cb *t)
{
    cluster_plan_clear(&t->plan);
    store_free(t->store);
    ctl_backend_free(t->backend);
    leader_free(t->leader);
    redis_link_free(t->link);
    uv_close((uv_handle_t *)&t->guard, NULL);
    uv_close((uv_handle_t *)&t->cycle, NULL);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    cr_expect_eq(uv_loop_close(&t->loop), 0);
    redisFree(t->sync);
    redis_server_free(t->srv);
}

/* The result of a drain request that the backend completed later. */
struct cb_answer {
    bool done;
    int rc;
    json_t *out;
    char msg[API_MESSAGE_MAX];
};

static void
cb_answer_cb(void *arg, int rc, json_t *out, const char *msg)
{
    struct cb_answer *a = arg;

    a->done = true;
    a->rc = rc;
    a->out = out;
    snprintf(a->msg, sizeof(a->msg), "%s", msg);
}

static bool
cb_answered(struct cb *t, const char *arg)
{
    (void)t;
    return ((const struct cb_answer *)(const void *)arg)->done;
}

/* Asks for a drain and waits up to 3 s for a deferred result; returns
 * it as a synchronous callback would. */
static int
cb_drain(struct cb *t, const char *id, json_t **out, char *msg)
{
    struct drain_params params = { 0 };
    struct cb_answer a = { 0 };
    int rc;

    *out = NULL;
    msg[0] = '\0';
    rc = t->api.drain(t->api.ctx, id, &params, out, msg, cb_answer_cb, &a);
    if (rc != 1)
        return rc;
    cr_assert(cb_wait(t, cb_answered, (const char *)&a, 3000),
        "the deferred drain result never came");
    *out = a.out;
    snprintf(msg, API_MESSAGE_MAX, "%s", a.msg);
    return a.rc;
}

TestSuite(controller_backend, .timeout = 30);

Test(controller_backend, drain_request_reaches_plan)
{
    struct cb t;
    char msg[API_MESSAGE_MAX];
    json_t *out;
    const struct cluster_plan_gateway *g;

    cb_init(&t, 3);
    cb_lead(&t);
    cr_assert(cb_wait(&t, cb_plan_has_admin, "gw1=active", 3000),
        "no plan with gw1 active");
    cr_assert_eq(cb_drain(&t, "gw1", &out, msg), 0, "%s", msg);
    cr_expect_str_eq(json_string_value(json_object_get(out, "state")),
        "no_new_clients");
    json_decref(out);
    cr_assert(cb_wait(&t, cb_plan_has_admin, "gw1=draining", 3000),
        "the drain did not reach the plan");
    g = cluster_plan_find_gateway(&t.plan, "gw1");
    cr_expect(!g->accept_new);
    cr_expect_eq(g->weight, 0);
    cr_expect_gt(g->drain_deadline_at_ms, t.plan.created_at_ms);
    g = cluster_plan_find_gateway(&t.plan, "gw2");
    cr_assert_not_null(g);
    for (size_t i = 0; i < g->n_targets; i++)
        cr_expect_str_neq(g->targets[i].gateway_id, "gw1",
            "a draining gateway is still a target");
    cb_fini(&t);
}

Test(controller_backend, drained_gateway_evacuates_then_is_drained)
{
    struct cb t;
    char msg[API_MESSAGE_MAX];
    json_t *out;

    cb_init(&t, 3);
    cb_lead(&t);
    cr_assert(cb_wait(&t, cb_plan_has_admin, "gw1=active", 3000));
    cr_assert_eq(cb_drain(&t, "gw1", &out, msg), 0, "%s", msg);
    json_decref(out);
    /* The agent reports its sessions gone; after the 3 s settle time the
     * drain evacuates and then ends as drained. */
    t.ike_sas[0] = 0;
    cr_expect(cb_wait(&t, cb_plan_has_admin, "gw1=drained", 8000),
        "gw1 never became drained");
    cb_fini(&t);
}

Test(controller_backend, dead_gateway_leaves_plan_within_3500ms)
{
    struct cb t;
    uint64_t stopped_at, gone_at;

    cb_init(&t, 3);
    cb_lead(&t);
    cr_assert(cb_wait(&t, cb_plan_has_admin, "gw3=active", 3000));
    /* gw3's agent stops writing; its key would live 3 s more. */
    t.n_gateways = 2;
    uv_update_time(&t.loop);
    stopped_at = uv_now(&t.loop);
    cr_assert(cb_wait(&t, cb_plan_lacks, "gw3", 5000),
        "gw3 stayed in the plan");
    gone_at = uv_now(&t.loop);
    cr_expect_leq(gone_at - stopped_at, 3500, "gone after %llu ms",
        (unsigned long long)(gone_at - stopped_at));
    cr_expect_not_null(cluster_plan_find_gateway(&t.plan, "gw2"));
    cb_fini(&t);
}

/* True when the stored plan has an entry for gateway `arg`. */
static bool
cb_plan_has(struct cb *t, const char *arg)
{
    return cb_read_plan(t) && cluster_plan_find_gateway(&t->plan, arg) !=
        NULL;
}

Test(controller_backend, unchanged_report_does_not_revive_gateway)
{
    struct cb t;
    redisReply *r;
    char key[KEYS_REPORT_SIZE];

    cb_init(&t, 3);
    cb_lead(&t);
    cr_assert(cb_wait(&t, cb_plan_has_admin, "gw3=active", 3000));
    /* gw3 stops, but its last report stays in Redis for a minute. */
    t.n_gateways = 2;
    keys_report(key, sizeof(key), "gw3");
    r = redisCommand(t.sync, "PEXPIRE %s 60000", key);
    cr_assert(r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer == 1);
    freeReplyObject(r);
    cr_assert(cb_wait(&t, cb_plan_lacks, "gw3", 5000),
        "gw3 stayed in the plan");
    /* Several cycles later the same report must still be ignored. */
    cr_expect_not(cb_wait(&t, cb_plan_has, "gw3", 2000),
        "gw3 came back from an unchanged report");
    cb_fini(&t);
}

Test(controller_backend, second_drain_of_gateway_is_rejected)
{
    struct cb t;
    char msg[API_MESSAGE_MAX];
    json_t *out;

    cb_init(&t, 3);
    cb_lead(&t);
    cr_assert(cb_wait(&t, cb_plan_has_admin, "gw1=active", 3000));
    cr_assert_eq(cb_drain(&t, "gw1", &out, msg), 0, "%s", msg);
    json_decref(out);
    cr_expect_eq(cb_drain(&t, "gw1", &out, msg), -EALREADY);
    cr_expect_null(out);
    cb_fini(&t);
}

Test(controller_backend, drain_without_room_is_refused)
{
    struct cb t;
    char msg[API_MESSAGE_MAX];
    json_t *out;

    cb_init(&t, 2);
    t.ike_sas[0] = 800;
    t.ike_sas[1] = 800;
    cb_lead(&t);
    cr_assert(cb_wait(&t, cb_plan_has_admin, "gw1=active", 3000));
    cr_expect_eq(cb_drain(&t, "gw1", &out, msg), -EBUSY);
    cr_expect(strstr(msg, "no_room") != NULL, "message: %s", msg);
    cb_fini(&t);
}

/* gw2 at load 0.55 has room for 350 sessions below the default threshold
 * of 0.90 and 450 below 1.0; gw1's 300 sessions need 360 with the 20 %
 * margin, so only the configured threshold admits the drain. */
static int
drain_with_threshold(double threshold, char *msg)
{
    struct cb t;
    json_t *out = NULL;
    int rc;

    cb_accept_threshold = threshold;
    cb_init(&t, 2);
    cb_accept_threshold = 0.0;
    t.ike_sas[0] = 300;
    t.ike_sas[1] = 550;
    cb_put_reports(&t);
    cb_lead(&t);
    cr_assert(cb_wait(&t, cb_plan_has_admin, "gw1=active", 3000));
    rc = cb_drain(&t, "gw1", &out, msg);
    json_decref(out);
    cb_fini(&t);
    return rc;
}

Test(controller_backend, drain_admission_uses_planner_threshold)
{
    char msg[API_MESSAGE_MAX];

    cr_expect_eq(drain_with_threshold(0.0, msg), -EBUSY,
        "default threshold: %s", msg);
    cr_expect_eq(drain_with_threshold(1.0, msg), 0,
        "threshold 1.0: %s", msg);
}

Test(controller_backend, drain_of_unknown_gateway_is_not_found)
{
    struct cb t;
    char msg[API_MESSAGE_MAX];
    json_t *out = NULL;

    cb_init(&t, 3);
    cb_lead(&t);
    cr_assert(cb_wait(&t, cb_plan_has_admin, "gw1=active", 3000));
    cr_expect_eq(cb_drain(&t, "gw9", &out, msg), -ENOENT);
    cr_expect(strstr(msg, "gw9") != NULL, "message: %s", msg);
    cr_expect_null(out);
    cb_fini(&t);
}

Test(controller_backend, standby_rejects_drain)
{
    struct cb t;
    char msg[API_MESSAGE_MAX];
    json_t *out;

    cb_init(&t, 3);
    cr_expect_eq(cb_drain(&t, "gw1", &out, msg), -EAGAIN);
    cr_expect_null(out);
    cb_fini(&t);
}

/* Writes a valid plan of epoch 77 with one gateway, or `text` as is. */
static void
cb_store_plan(struct cb *t, const char *text)
{
    struct cluster_plan_gateway g = { .gateway_id = "gw9",
        .accept_new = true, .weight = 100 };
    struct cluster_plan plan = { .epoch = 77, .leader_term = 3,
        .leader_id = "ctl-z", .created_at_ms = 1000,
        .expires_at_ms = 4102444800000ull, .n_gateways = 1,
        .gateways = &g };
    char err[CLUSTER_ERR_SIZE];
    char *encoded = NULL;
    redisReply *r;

    if (text == NULL) {
        cr_assert_eq(cluster_plan_encode(&plan, &encoded, err, sizeof(err)),
            0, "%s", err);
        text = encoded;
    }
    r = redisCommand(t->sync, "SET %s %s", KEYS_PLAN, text);
    cr_assert_not_null(r);
    freeReplyObject(r);
    free(encoded);
}

/* True when the API's GET /v1/plan returns epoch `arg`. */
static bool
cb_api_plan_epoch(struct cb *t, const char *arg)
{
    char msg[API_MESSAGE_MAX];
    json_t *out = NULL;
    bool ok;

    if (t->api.get_plan(t->api.ctx, &out, msg) != 0)
        return false;
    ok = json_integer_value(json_object_get(out, "epoch")) == atoll(arg);
    json_decref(out);
    return ok;
}

Test(controller_backend, standby_serves_stored_plan)
{
    struct cb t;
    char msg[API_MESSAGE_MAX];
    json_t *out = NULL;

    cb_init(&t, 3);
    cr_expect_eq(t.api.get_plan(t.api.ctx, &out, msg), -EAGAIN,
        "a plan before one was read");
    cr_expect(strstr(msg, "standby") != NULL, "%s", msg);
    cb_store_plan(&t, NULL);
    cr_assert(cb_wait(&t, cb_api_plan_epoch, "77", 2000),
        "the standby never served the stored plan");
    cr_assert_eq(t.api.get_cluster(t.api.ctx, &out, msg), 0, "%s", msg);
    cr_expect_eq(json_integer_value(json_object_get(out, "plan_epoch")), 77);
    json_decref(out);
    out = NULL;
    /* A garbage value keeps the last good copy. */
    cb_store_plan(&t, "{\"epoch\": \"x\"}");
    for (int i = 0; i < 5; i++)
        uv_run(&t.loop, UV_RUN_ONCE);
    cr_expect(cb_wait(&t, cb_api_plan_epoch, "77", 500));
    cb_fini(&t);
}

Test(controller_backend, resume_returns_gateway_to_active)
{
    struct cb t;
    char msg[API_MESSAGE_MAX];
    json_t *out;

    cb_init(&t, 3);
    cb_lead(&t);
    cr_assert(cb_wait(&t, cb_plan_has_admin, "gw1=active", 3000));
    cr_assert_eq(cb_drain(&t, "gw1", &out, msg), 0, "%s", msg);
    json_decref(out);
    cr_assert(cb_wait(&t, cb_plan_has_admin, "gw1=draining", 3000));
    cr_assert_eq(t.api.resume(t.api.ctx, "gw1", &out, msg), 0, "%s", msg);
    json_decref(out);
    cr_expect(cb_wait(&t, cb_plan_has_admin, "gw1=active", 3000),
        "gw1 stayed out of the plan's active set");
    cb_fini(&t);
}

Test(controller_backend, redirect_queues_move_on_other_gateways)
{
    struct cb t;
    char msg[API_MESSAGE_MAX];
    struct api_redirect req = { .selector = API_SELECT_PEER,
        .peer = "198.51.100.77", .target = "gw2" };
    json_t *out;
    redisReply *r;

    cb_init(&t, 3);
    cb_lead(&t);
    cr_assert(cb_wait(&t, cb_plan_has_admin, "gw3=active", 3000));
    cr_assert_eq(t.api.redirect(t.api.ctx, &req, &out, msg), 0, "%s", msg);
    cr_expect_str_eq(json_string_value(json_object_get(out, "to")),
        "198.51.100.2");
    cr_expect_eq(json_array_size(json_object_get(out, "queued_on")), 2);
    json_decref(out);
    cr_expect(cb_wait(&t, cb_has_move, "gw1", 2000), "gw1 got no move");
    cr_expect(cb_wait(&t, cb_has_move, "gw3", 2000), "gw3 got no move");
    r = redisCommand(t.sync, "XLEN %s", STORE_MOVES_PREFIX "gw2");
    cr_expect_eq(r->integer, 0, "the target got its own move");
    freeReplyObject(r);
    cb_fini(&t);
}

/* True when the stored plan exists and gateway 3 is in it. */
static bool
cb_plan_has_gw3(struct cb *t, const char *arg)
{
    (void)arg;
    return cb_read_plan(t) && cluster_plan_find_gateway(&t->plan, "gw3") !=
        NULL;
}

static void
cb_wrong_identity_init(void)
{
    cb_cluster_identity = "fqdn:vpn.example.net";
    cb_gw3_identity = "fqdn:vpn.other.example";
}

Test(controller_backend, gateway_with_other_identity_gets_no_clients,
    .init = cb_wrong_identity_init)
{
    struct cb t;
    char msg[API_MESSAGE_MAX];
    struct api_redirect req = { .selector = API_SELECT_PEER,
        .peer = "198.51.100.77", .target = "gw3" };
    const struct cluster_plan_gateway *g;
    json_t *out = NULL;

    cb_init(&t, 3);
    cb_lead(&t);
    cr_assert(cb_wait(&t, cb_plan_has_gw3, NULL, 3000));
    for (size_t i = 0; i < t.plan.n_gateways; i++) {
        g = &t.plan.gateways[i];
        for (size_t j = 0; j < g->n_targets; j++)
            cr_expect_str_neq(g->targets[j].gateway_id, "gw3",
                "%s names gw3 as a target", g->gateway_id);
    }
    g = cluster_plan_find_gateway(&t.plan, "gw3");
    cr_expect_not(g->accept_new);
    cr_expect_eq(g->weight, 0);
    cr_assert_eq(t.api.get_gateway(t.api.ctx, "gw3", &out, msg), 0, "%s",
        msg);
    cr_expect(json_is_false(json_object_get(out, "identity_ok")));
    cr_expect_str_eq(json_string_value(json_object_get(out, "identity")),
        "fqdn:vpn.other.example");
    json_decref(out);
    cr_assert_eq(t.api.get_gateway(t.api.ctx, "gw1", &out, msg), 0, "%s",
        msg);
    cr_expect(json_is_true(json_object_get(out, "identity_ok")));
    json_decref(out);
    out = NULL;
    cr_expect_eq(t.api.redirect(t.api.ctx, &req, &out, msg), -EBUSY);
    cr_expect(strstr(msg, "not the cluster identity") != NULL, "%s", msg);
    json_decref(out);
    cb_fini(&t);
}

Test(controller_backend, cluster_reports_leadership)
{
    struct cb t;
    char msg[API_MESSAGE_MAX];
    json_t *out;

    cb_init(&t, 2);
    cr_assert_eq(t.api.get_cluster(t.api.ctx, &out, msg), 0);
    cr_expect(json_is_false(json_object_get(out, "leader")));
    json_decref(out);
    cb_lead(&t);
    cr_assert_eq(t.api.get_cluster(t.api.ctx, &out, msg), 0);
    cr_expect(json_is_true(json_object_get(out, "leader")));
    cr_expect_str_eq(json_string_value(json_object_get(out,
        "controller_id")), "ctl-a");
    json_decref(out);
    cb_fini(&t);
}
