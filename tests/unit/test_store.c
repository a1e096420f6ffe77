/*
 * Tests for the controller's Redis store against a real redis-server on a
 * free loopback port.  Setup and checks of stored values use hiredis's
 * blocking API on a second connection; the store runs on a libuv loop.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "drain.h"
#include "gwreg.h"
#include "leader.h"
#include "planner.h"
#include "redis_server.h"
#include "rt/cluster_plan.h"
#include "rt/cluster_report.h"
#include "rt/keys.h"
#include "rt/log.h"
#include "rt/redis_link.h"
#include "store.h"

struct st {
    uv_loop_t loop;
    uv_timer_t guard;
    bool expired;
    struct redis_server *srv;
    redisContext *sync;
    struct redis_link *link;
    struct redis_link *sub;
    struct leader *leader;
    struct store *store;
    bool done;
    int status;
    size_t n_reports;
    struct cluster_report reports[4];
    size_t n_admin;
    struct store_admin admin[4];
    size_t n_drains;
    struct drain drains[4];
    size_t n_msgs;
    char msg[32];
};

static void
st_guard_cb(uv_timer_t *timer)
{
    struct st *t = timer->data;

    t->expired = true;
}

static struct redis_link *
st_link(struct st *t, bool subscriber)
{
    struct redis_link_options o = {
        .name = subscriber ? "test-sub" : "test-store",
        .host = "127.0.0.1",
        .port = redis_server_port(t->srv),
        .connect_timeout_ms = 1000,
        .command_timeout_ms = 1000,
        .backoff_min_ms = 20,
        .backoff_max_ms = 100,
        .subscriber = subscriber,
    };
    struct redis_link *link = redis_link_new(&t->loop, &o, NULL, NULL);

    cr_assert_not_null(link);
    return link;
}

typedef bool st_pred_fn(const struct st *t);

static bool
st_wait(struct st *t, st_pred_fn *pred, uint64_t ms)
{
    t->expired = false;
    uv_timer_start(&t->guard, st_guard_cb, ms, 0);
    while (!pred(t) && !t->expired)
        uv_run(&t->loop, UV_RUN_ONCE);
    uv_timer_stop(&t->guard);
    return pred(t);
}

static bool
st_ready(const struct st *t)
{
    return redis_link_get_state(t->link) == REDIS_LINK_READY;
}

static bool
st_done(const struct st *t)
{
    return t->done;
}

static bool
st_leading(const struct st *t)
{
    return leader_is_leading(t->leader);
}

static bool
st_has_msg(const struct st *t)
{
    return t->n_msgs > 0;
}

/* Creates a leader named `id` and waits until it holds the lease. */
static void
st_lead(struct st *t, const char *id)
{
    struct leader_config cfg = { .id = id, .ttl_ms = 2000 };

    t->leader = leader_new(&t->loop, t->link, &cfg, NULL, NULL);
    cr_assert_not_null(t->leader);
    leader_start(t->leader);
    cr_assert(st_wait(t, st_leading, 3000), "%s did not lead", id);
}

static void
st_init(struct st *t)
{
    memset(t, 0, sizeof(*t));
    log_init("test_store", 2, LOG_LEVEL_ERROR);
    cr_assert_eq(uv_loop_init(&t->loop), 0);
    uv_timer_init(&t->loop, &t->guard);
    t->guard.data = t;
    t->srv = redis_server_start(NULL);
    cr_assert_not_null(t->srv, "redis-server did not start");
    t->sync = redisConnect("127.0.0.1", redis_server_port(t->srv));
    cr_assert(t->sync != NULL && t->sync->err == 0);
    t->link = st_link(t, false);
    cr_assert_eq(redis_link_start(t->link), 0);
    cr_assert(st_wait(t, st_ready, 3000));
    t->store = store_new(t->link);
    cr_assert_not_null(t->store);
}

/* Frees the store, leader and links, as a controller that stops. */
static void
st_stop(struct st *t)
{
    store_free(t->store);
    t->store = NULL;
    leader_free(t->leader);
    t->leader = NULL;
    redis_link_free(t->link);
    t->link = NULL;
    redis_link_free(t->sub);
    t->sub = NULL;
    uv_run(&t->loop, UV_RUN_NOWAIT);
}

/* Starts a new store on a new link, as a controller that restarts. */
static void
st_restart(struct st *t)
{
    st_stop(t);
    t->link = st_link(t, false);
    cr_assert_eq(redis_link_start(t->link), 0);
    cr_assert(st_wait(t, st_ready, 3000));
    t->store = store_new(t->link);
    cr_assert_not_null(t->store);
}

static void
st_fini(struct st *t)
{
    st_stop(t);
    uv_close((uv_handle_t *)&t->guard, NULL);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    cr_expect_eq(uv_loop_close(&t->loop), 0);
    redisFree(t->sync);
    redis_server_free(t->srv);
}

/* Runs a blocking command and returns the reply, which the caller frees. */
static redisReply *
st_sync(struct st *t, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;

    va_start(ap, fmt);
    r = redisvCommand(t->sync, fmt, ap);
    va_end(ap);
    cr_assert_not_null(r, "blocking command failed");
    return r;
}

static void
st_sync_ok(struct st *t, const char *fmt, const char *a, const char *b)
{
    redisReply *r = st_sync(t, fmt, a, b);

    cr_assert_neq(r->type, REDIS_REPLY_ERROR, "%s", r->str);
    freeReplyObject(r);
}

static void
st_report(struct cluster_report *r, const char *id, uint32_t ike_sas)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->gateway_id, sizeof(r->gateway_id), "%s", id);
    r->state = CLUSTER_AGENT_SERVING;
    r->sent_at_ms = 1767225600000ull;
    r->interval_ms = 1000;
    r->ike_sas = ike_sas;
    r->half_open_limit = 100;
    r->capacity = 1000;
    r->pool_size = 1000;
    r->n_unicast = 1;
    snprintf(r->unicast[0], sizeof(r->unicast[0]), "198.51.100.%u",
        ike_sas % 200 + 1);
}

/* Stores a valid report of `id` under its key. */
static void
st_put_report(struct st *t, const char *id, uint32_t ike_sas)
{
    struct cluster_report r;
    char key[KEYS_REPORT_SIZE], err[CLUSTER_ERR_SIZE];
    char *text;

    st_report(&r, id, ike_sas);
    cr_assert_eq(cluster_report_encode(&r, &text, err, sizeof(err)), 0,
        "%s", err);
    st_sync_ok(t, "SET %s %s", keys_report(key, sizeof(key), id), text);
    free(text);
}

static void
st_reports_cb(struct store *s, int status,
    const struct cluster_report *reports, size_t n, void *arg)
{
    struct st *t = arg;

    (void)s;
    t->status = status;
    t->n_reports = n;
    for (size_t i = 0; i < n && i < 4; i++)
        t->reports[i] = reports[i];
    t->done = true;
}

static void
st_state_cb(struct store *s, int status, const struct store_state *state,
    void *arg)
{
    struct st *t = arg;

    (void)s;
    t->status = status;
    if (state != NULL) {
        t->n_admin = state->n_admin;
        for (size_t i = 0; i < state->n_admin && i < 4; i++)
            t->admin[i] = state->admin[i];
        t->n_drains = state->n_drains;
        for (size_t i = 0; i < state->n_drains && i < 4; i++)
            t->drains[i] = state->drains[i];
    }
    t->done = true;
}

static void
st_write_cb(struct store *s, int status, void *arg)
{
    struct st *t = arg;

    (void)s;
    t->status = status;
    t->done = true;
}

static void
st_msg_cb(struct redis_link *link, const char *channel, const char *payload,
    size_t len, void *arg)
{
    struct st *t = arg;

    (void)link;
    (void)channel;
    snprintf(t->msg, sizeof(t->msg), "%.*s", (int)len, payload);
    t->n_msgs++;
}

/* Waits for the callback of the command just sent; returns its status. */
static int
st_finish(struct st *t)
{
    cr_assert(st_wait(t, st_done, 3000), "no reply");
    t->done = false;
    return t->status;
}

static void
st_release_cb(struct leader *l, int status, void *arg)
{
    struct st *t = arg;

    (void)l;
    t->status = status;
    t->done = true;
}

static int
st_write_plan(struct st *t, uint64_t epoch)
{
    struct leader_fence f;
    struct cluster_plan plan = { .epoch = epoch, .created_at_ms = 1000,
        .expires_at_ms = 31000 };

    cr_assert_eq(leader_get_fence(t->leader, &f), 0);
    plan.leader_term = f.term;
    snprintf(plan.leader_id, sizeof(plan.leader_id), "%s", f.id);
    cr_assert_eq(store_write_plan(t->store, &f, &plan, st_write_cb, t), 0);
    return st_finish(t);
}

TestSuite(store, .timeout = 30);

Test(store, reads_reports_and_skips_garbage)
{
    struct st t;
    char key[KEYS_REPORT_SIZE];

    st_init(&t);
    st_put_report(&t, "gw1", 10);
    st_put_report(&t, "gw2", 20);
    st_sync_ok(&t, "SET %s %s", keys_report(key, sizeof(key), "gw3"),
        "{not json");
    /* A valid report of gw4 under gw5's key is garbage too. */
    st_put_report(&t, "gw4", 40);
    st_sync_ok(&t, "RENAME %s %s", keys_report(key, sizeof(key), "gw4"),
        KEYS_REPORT_PREFIX "gw5");
    st_sync_ok(&t, "HSET %s %s 1", keys_report(key, sizeof(key), "gw6"),
        "f");
    st_sync_ok(&t, "SET %s %s", "ikeshift:other", "{}");
    cr_assert_eq(store_read_reports(t.store, st_reports_cb, &t), 0);
    cr_assert_eq(st_finish(&t), 0);
    cr_expect_eq(t.n_reports, 2);
    cr_expect_eq(store_get_stats(t.store)->reports_read, 2);
    cr_expect_eq(store_get_stats(t.store)->reports_invalid, 3);
    for (size_t i = 0; i < t.n_reports && i < 4; i++)
        cr_expect(strcmp(t.reports[i].gateway_id, "gw1") == 0 ||
            strcmp(t.reports[i].gateway_id, "gw2") == 0,
            "unexpected gateway %s", t.reports[i].gateway_id);
    st_fini(&t);
}

Test(store, logs_wrong_type_of_report_key)
{
    struct st t;
    char key[KEYS_REPORT_SIZE], path[] = "/tmp/test_store_log.XXXXXX";
    char text[4096];
    int fd = mkstemp(path);
    ssize_t n;

    cr_assert_geq(fd, 0);
    unlink(path);
    st_init(&t);
    log_init("test", fd, LOG_LEVEL_WARN);
    st_sync_ok(&t, "HSET %s %s 1", keys_report(key, sizeof(key), "gw6"),
        "f");
    cr_assert_eq(store_read_reports(t.store, st_reports_cb, &t), 0);
    cr_assert_eq(st_finish(&t), 0);
    st_fini(&t);
    log_init("test_store", STDERR_FILENO, LOG_LEVEL_ERROR);
    n = pread(fd, text, sizeof(text) - 1, 0);
    close(fd);
    cr_assert_geq(n, 0);
    text[n] = '\0';
    cr_expect_not_null(strstr(text, "wrong Redis type"), "log: %s", text);
    cr_expect_null(strstr(text, "invalid JSON"), "log: %s", text);
}

Test(store, reads_no_reports_from_empty_database)
{
    struct st t;

    st_init(&t);
    cr_assert_eq(store_read_reports(t.store, st_reports_cb, &t), 0);
    cr_expect_eq(st_finish(&t), 0);
    cr_expect_eq(t.n_reports, 0);
    cr_expect_eq(store_get_stats(t.store)->reports_invalid, 0);
    st_fini(&t);
}

Test(store, writes_plan_and_publishes_epoch)
{
    struct st t;
    struct cluster_plan back;
    char err[CLUSTER_ERR_SIZE];
    redisReply *r;

    st_init(&t);
    t.sub = st_link(&t, true);
    cr_assert_eq(redis_link_subscribe(t.sub, KEYS_PLAN_CHANNEL, st_msg_cb,
        &t), 0);
    cr_assert_eq(redis_link_start(t.sub), 0);
    st_lead(&t, "ctl-a");
    while (redis_link_get_state(t.sub) != REDIS_LINK_READY && !t.expired)
        uv_run(&t.loop, UV_RUN_ONCE);
    cr_assert_eq(st_write_plan(&t, 7), 0);
    cr_assert(st_wait(&t, st_has_msg, 3000), "no epoch published");
    cr_expect_str_eq(t.msg, "7");
    r = st_sync(&t, "GET %s", KEYS_PLAN);
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_assert_eq(cluster_plan_parse(r->str, r->len, &back, err,
        sizeof(err)), 0, "%s", err);
    cr_expect_eq(back.epoch, 7);
    cr_expect_eq(back.leader_term, leader_get_term(t.leader));
    cr_expect_str_eq(back.leader_id, "ctl-a");
    cluster_plan_clear(&back);
    freeReplyObject(r);
    cr_expect_eq(store_get_stats(t.store)->plans_written, 1);
    st_fini(&t);
}

Test(store, epoch_increases_across_restart)
{
    struct st t;
    struct planner *p;
    struct gwreg *reg;
    uint64_t stored;

    st_init(&t);
    st_lead(&t, "ctl-a");
    cr_assert_eq(st_write_plan(&t, 41), 0);
    leader_release(t.leader, st_release_cb, &t);
    cr_assert_eq(st_finish(&t), 0);
    st_restart(&t);
    st_lead(&t, "ctl-a");
    stored = leader_get_stored_epoch(t.leader);
    cr_expect_eq(stored, 41);
    /* The planner of the restarted controller continues from there. */
    p = planner_new(NULL, stored);
    reg = gwreg_new(NULL, 0);
    cr_assert(p != NULL && reg != NULL);
    cr_assert_eq(planner_compute(p, reg, NULL, 0, 1000), 1);
    cr_expect_gt(planner_get_plan(p)->epoch, 41);
    planner_free(p);
    gwreg_free(reg);
    st_fini(&t);
}

Test(store, admin_state_and_drain_persist_across_restart)
{
    struct st t;
    struct leader_fence f;
    struct drain d;

    st_init(&t);
    st_lead(&t, "ctl-a");
    cr_assert_eq(leader_get_fence(t.leader, &f), 0);
    cr_assert_eq(drain_init(&d, "gw1", NULL, 1, 5000), 0);
    cr_assert_eq(store_save_gateway(t.store, &f, "gw1",
        CLUSTER_ADMIN_DRAINING, &d, st_write_cb, &t), 0);
    cr_assert_eq(st_finish(&t), 0);
    cr_assert_eq(store_save_gateway(t.store, &f, "gw2",
        CLUSTER_ADMIN_MAINTENANCE, NULL, st_write_cb, &t), 0);
    cr_assert_eq(st_finish(&t), 0);
    st_restart(&t);
    cr_assert_eq(store_load_state(t.store, st_state_cb, &t), 0);
    cr_assert_eq(st_finish(&t), 0);
    cr_assert_eq(t.n_admin, 2);
    for (size_t i = 0; i < 2; i++) {
        if (strcmp(t.admin[i].gateway_id, "gw1") == 0)
            cr_expect_eq(t.admin[i].admin, CLUSTER_ADMIN_DRAINING);
        else
            cr_expect_eq(t.admin[i].admin, CLUSTER_ADMIN_MAINTENANCE);
    }
    cr_assert_eq(t.n_drains, 1);
    cr_expect_str_eq(t.drains[0].gateway_id, "gw1");
    cr_expect_eq(t.drains[0].requested_at_ms, 5000);
    cr_expect_eq(t.drains[0].state, DRAIN_REQUESTED);
    st_fini(&t);
}

Test(store, save_without_drain_removes_stored_drain)
{
    struct st t;
    struct leader_fence f;
    struct drain d;

    st_init(&t);
    st_lead(&t, "ctl-a");
    cr_assert_eq(leader_get_fence(t.leader, &f), 0);
    cr_assert_eq(drain_init(&d, "gw1", NULL, 1, 5000), 0);
    cr_assert_eq(store_save_gateway(t.store, &f, "gw1",
        CLUSTER_ADMIN_DRAINING, &d, st_write_cb, &t), 0);
    cr_assert_eq(st_finish(&t), 0);
    cr_assert_eq(store_save_gateway(t.store, &f, "gw1",
        CLUSTER_ADMIN_ACTIVE, NULL, st_write_cb, &t), 0);
    cr_assert_eq(st_finish(&t), 0);
    cr_assert_eq(store_load_state(t.store, st_state_cb, &t), 0);
    cr_assert_eq(st_finish(&t), 0);
    cr_expect_eq(t.n_drains, 0);
    cr_assert_eq(t.n_admin, 1);
    cr_expect_eq(t.admin[0].admin, CLUSTER_ADMIN_ACTIVE);
    st_fini(&t);
}

Test(store, load_state_skips_invalid_entries)
{
    struct st t;

    st_init(&t);
    st_sync_ok(&t, "HSET " KEYS_ADMIN " %s %s", "gw1", "sleeping");
    st_sync_ok(&t, "HSET " KEYS_ADMIN " %s %s", "gw2", "drained");
    st_sync_ok(&t, "HSET " STORE_DRAINS_KEY " %s %s", "gw1", "{\"x\":1}");
    cr_assert_eq(store_load_state(t.store, st_state_cb, &t), 0);
    cr_assert_eq(st_finish(&t), 0);
    cr_assert_eq(t.n_admin, 1);
    cr_expect_str_eq(t.admin[0].gateway_id, "gw2");
    cr_expect_eq(t.n_drains, 0);
    st_fini(&t);
}

Test(store, pushes_move_with_agent_fields)
{
    struct st t;
    struct leader_fence f;
    struct store_move m = {
        .selector = "peer", .value = "198.51.100.7", .to = "198.51.100.2",
        .target_id = "gw2", .move_id = "m1", .expires_at_ms = 99000,
    };
    redisReply *r;
    bool saw_peer = false, saw_to = false;

    st_init(&t);
    st_lead(&t, "ctl-a");
    cr_assert_eq(leader_get_fence(t.leader, &f), 0);
    cr_assert_eq(store_push_move(t.store, &f, "gw1", &m, st_write_cb, &t),
        0);
    cr_assert_eq(st_finish(&t), 0);
    r = st_sync(&t, "XRANGE %s - +", STORE_MOVES_PREFIX "gw1");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 1);
    redisReply *fields = r->element[0]->element[1];
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        if (strcmp(fields->element[i]->str, "peer") == 0)
            saw_peer = strcmp(fields->element[i + 1]->str,
                "198.51.100.7") == 0;
        if (strcmp(fields->element[i]->str, "to") == 0)
            saw_to = strcmp(fields->element[i + 1]->str,
                "198.51.100.2") == 0;
    }
    cr_expect(saw_peer, "peer field missing or wrong");
    cr_expect(saw_to, "to field missing or wrong");
    freeReplyObject(r);
    st_fini(&t);
}

Test(store, refuses_write_from_wrong_term)
{
    struct st t;
    struct leader_fence f;

    st_init(&t);
    st_lead(&t, "ctl-a");
    cr_assert_eq(leader_get_fence(t.leader, &f), 0);
    f.term++;
    cr_assert_eq(store_save_gateway(t.store, &f, "gw1",
        CLUSTER_ADMIN_MAINTENANCE, NULL, st_write_cb, &t), 0);
    cr_expect_eq(st_finish(&t), -EPERM);
    cr_expect_eq(store_get_stats(t.store)->writes_fenced, 1);
    st_fini(&t);
}
