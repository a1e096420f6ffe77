/*
 * Tests for the agent's cluster link (agent/cluster_link.h) and move
 * stream (agent/move_stream.h) against a real redis-server on a free
 * loopback port.  The engine is replaced by callbacks that count, and
 * every wait is bounded, so a missing reply fails instead of hanging.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "cluster_link.h"
#include "move_stream.h"
#include "policy_plan.h"
#include "policy_static.h"
#include "redis_server.h"
#include "rt/cluster_report.h"
#include "rt/keys.h"
#include "rt/log.h"

#define WAIT_MS 5000
#define STREAM "ikeshift:moves:gw1"

struct rig {
    uv_loop_t loop;
    uv_timer_t poll;
    struct redis_server *srv;
    redisContext *redis;
    struct policy_plan *plan;
    struct cluster_link_config cfg;
    struct cluster_link_ops ops;
    struct cluster_link *cl;
    struct sockaddr_storage unicast;
    int moves_run;
    char last_to[CLUSTER_ADDR_TEXT_MAX + 1];
};

static struct rig rig;

static uint64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
fill_report(void *arg, struct cluster_report *r)
{
    (void)arg;
    r->ike_sas = 7;
    r->half_open = 2;
    r->half_open_limit = 100;
    r->pool_used = 3;
    r->pool_size = 250;
}

static size_t
redirect_some(void *arg, const struct policy_target *t, size_t max)
{
    (void)arg;
    (void)t;
    (void)max;
    return 0;
}

static size_t
sa_count(void *arg)
{
    (void)arg;
    return 0;
}

static int
execute_move(void *arg, const struct move_request *req)
{
    struct rig *r = arg;

    r->moves_run++;
    snprintf(r->last_to, sizeof(r->last_to), "%s", req->to_text);
    return 3;
}

static void
on_poll(uv_timer_t *t)
{
    (void)t;
}

static void
setup(void)
{
    struct sockaddr_in *in = (struct sockaddr_in *)&rig.unicast;
    struct policy_target own;

    log_init("test", 2, LOG_LEVEL_ERROR);
    memset(&rig, 0, sizeof(rig));
    cr_assert_eq(uv_loop_init(&rig.loop), 0);
    uv_timer_init(&rig.loop, &rig.poll);
    rig.srv = redis_server_start(NULL);
    cr_assert_not_null(rig.srv);
    rig.redis = redisConnect("127.0.0.1", redis_server_port(rig.srv));
    cr_assert(rig.redis != NULL && rig.redis->err == 0);
    in->sin_family = AF_INET;
    inet_pton(AF_INET, "198.51.100.1", &in->sin_addr);
    policy_target_from_text(&own, "198.51.100.1");
    rig.plan = policy_plan_new("gw1", &own);
    rig.cfg.redis_host = "127.0.0.1";
    rig.cfg.redis_port = redis_server_port(rig.srv);
    rig.cfg.gateway_id = "gw1";
    rig.cfg.site = "fra";
    rig.cfg.report_interval_ms = 200;
    rig.cfg.report_ttl_ms = 500;
    rig.cfg.plan_reread_ms = 5000;
    rig.cfg.move_poll_ms = 50;
    rig.cfg.capacity = 1000;
    rig.cfg.unicast = &rig.unicast;
    rig.cfg.n_unicast = 1;
    rig.cfg.config_hash = "";
    rig.ops.fill_report = fill_report;
    rig.ops.redirect_some = redirect_some;
    rig.ops.sa_count = sa_count;
    rig.ops.execute_move = execute_move;
    rig.ops.arg = &rig;
}

static void
agent_stop(void)
{
    cluster_link_free(rig.cl);
    rig.cl = NULL;
    uv_run(&rig.loop, UV_RUN_NOWAIT);
    uv_run(&rig.loop, UV_RUN_NOWAIT);
}

static void
agent_start(void)
{
    rig.cl = cluster_link_new(&rig.loop, &rig.cfg, rig.plan, &rig.ops);
    cr_assert_not_null(rig.cl);
    cr_assert_eq(cluster_link_start(rig.cl), 0);
}

static void
teardown(void)
{
    agent_stop();
    uv_close((uv_handle_t *)&rig.poll, NULL);
    uv_run(&rig.loop, UV_RUN_DEFAULT);
    uv_loop_close(&rig.loop);
    policy_plan_free(rig.plan);
    if (rig.redis != NULL)
        redisFree(rig.redis);
    redis_server_free(rig.srv);
}

TestSuite(agent_cluster_redis, .init = setup, .fini = teardown,
    .timeout = 30);

/* Runs the loop until *flag changes from `from` or WAIT_MS pass. */
static bool
run_until_changed(const int *flag, int from)
{
    uint64_t end = now_ms() + WAIT_MS;

    uv_timer_start(&rig.poll, on_poll, 10, 10);
    while (*flag == from && now_ms() < end)
        uv_run(&rig.loop, UV_RUN_ONCE);
    uv_timer_stop(&rig.poll);
    return *flag != from;
}

/* Runs the loop for `ms` milliseconds. */
static void
run_for(uint64_t ms)
{
    uint64_t end = now_ms() + ms;

    uv_timer_start(&rig.poll, on_poll, 10, 10);
    while (now_ms() < end)
        uv_run(&rig.loop, UV_RUN_ONCE);
    uv_timer_stop(&rig.poll);
}

static redisReply *
cmd(const char *fmt, ...)
{
    va_list ap;
    redisReply *r;

    va_start(ap, fmt);
    r = redisvCommand(rig.redis, fmt, ap);
    va_end(ap);
    cr_assert_not_null(r);
    return r;
}

static void
cmd_ok(const char *fmt, ...)
{
    va_list ap;
    redisReply *r;

    va_start(ap, fmt);
    r = redisvCommand(rig.redis, fmt, ap);
    va_end(ap);
    cr_assert_not_null(r);
    cr_assert_neq(r->type, REDIS_REPLY_ERROR, "%s", r->str);
    freeReplyObject(r);
}

static void
plan_write(uint64_t epoch, uint64_t term, const char *accept_new)
{
    char text[1024];
    uint64_t now = now_ms();

    snprintf(text, sizeof(text),
        "{\"version\":1,\"epoch\":%llu,\"leader_term\":%llu,"
        "\"leader_id\":\"ctl-a\",\"created_at_ms\":%llu,"
        "\"expires_at_ms\":%llu,\"gateways\":[{\"gateway_id\":\"gw1\","
        "\"admin\":\"active\",\"accept_new\":%s,\"weight\":1,"
        "\"targets\":[{\"gateway_id\":\"gw2\",\"address\":\"198.51.100.2\","
        "\"weight\":1}],\"drain_pace_per_s\":0,\"drain_deadline_at_ms\":0}]}",
        (unsigned long long)epoch, (unsigned long long)term,
        (unsigned long long)now, (unsigned long long)(now + 60000),
        accept_new);
    cmd_ok("SET %s %s", KEYS_PLAN, text);
    cmd_ok("PUBLISH %s %llu", KEYS_PLAN_CHANNEL, (unsigned long long)epoch);
}

/* Waits until the plan has epoch `epoch`, and returns false after WAIT_MS. */
static bool
wait_epoch(uint64_t epoch)
{
    uint64_t end = now_ms() + WAIT_MS;

    uv_timer_start(&rig.poll, on_poll, 10, 10);
    while (policy_plan_get_epoch(rig.plan) != epoch && now_ms() < end)
        uv_run(&rig.loop, UV_RUN_ONCE);
    uv_timer_stop(&rig.poll);
    return policy_plan_get_epoch(rig.plan) == epoch;
}

Test(agent_cluster_redis, writes_report_with_ttl)
{
    struct cluster_report r;
    char err[CLUSTER_ERR_SIZE];
    redisReply *reply;
    int written = 0;

    agent_start();
    for (int i = 0; i < 100 && written == 0; i++) {
        run_for(20);
        written = (int)cluster_link_get_stats(rig.cl)->reports_written;
    }
    cr_assert_gt(written, 0);
    reply = cmd("GET %s", KEYS_REPORT_PREFIX "gw1");
    cr_assert_eq(reply->type, REDIS_REPLY_STRING);
    cr_expect_eq(cluster_report_parse(reply->str, reply->len, &r, err,
        sizeof(err)), 0, "%s", err);
    freeReplyObject(reply);
    cr_expect_str_eq(r.gateway_id, "gw1");
    cr_expect_str_eq(r.site, "fra");
    cr_expect_eq(r.ike_sas, 7);
    cr_expect_eq(r.capacity, 1000);
    cr_expect_str_eq(r.unicast[0], "198.51.100.1");
    reply = cmd("PTTL %s", KEYS_REPORT_PREFIX "gw1");
    cr_expect_gt(reply->integer, 0);
    cr_expect_leq(reply->integer, 500);
    freeReplyObject(reply);
}

/* Keeps this process's CPU busy for `ms` milliseconds. */
static void
burn_cpu(uint64_t ms)
{
    struct timespec ts;
    uint64_t start, now;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    start = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    do {
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    } while (now - start < ms);
}

Test(agent_cluster_redis, burst_between_close_reports_is_not_load)
{
    struct cluster_report r;
    char err[CLUSTER_ERR_SIZE];
    redisReply *reply;
    uint64_t before;

    rig.cfg.cpu_source = CLUSTER_CPU_PROCESS;
    agent_start();
    for (int i = 0; i < 100 &&
        cluster_link_get_stats(rig.cl)->reports_written == 0; i++)
        run_for(20);
    run_for(150);
    cluster_link_report_now(rig.cl);
    burn_cpu(8);
    before = cluster_link_get_stats(rig.cl)->reports_written;
    cluster_link_report_now(rig.cl);
    for (int i = 0; i < 50 &&
        cluster_link_get_stats(rig.cl)->reports_written <= before; i++)
        run_for(5);
    reply = cmd("GET %s", KEYS_REPORT_PREFIX "gw1");
    cr_assert_eq(reply->type, REDIS_REPLY_STRING);
    cr_assert_eq(cluster_report_parse(reply->str, reply->len, &r, err,
        sizeof(err)), 0, "%s", err);
    freeReplyObject(reply);
    cr_expect_lt(r.cpu_busiest_permille, 500, "8 ms of work within a few ms"
        " of wall time read as %u permille", r.cpu_busiest_permille);
}

Test(agent_cluster_redis, applies_published_plan)
{
    agent_start();
    plan_write(3, 1, "false");
    cr_expect(wait_epoch(3));
}

Test(agent_cluster_redis, reports_applied_epoch)
{
    struct cluster_report r;
    char err[CLUSTER_ERR_SIZE];
    redisReply *reply;

    agent_start();
    plan_write(3, 1, "false");
    cr_assert(wait_epoch(3));
    run_for(300);
    reply = cmd("GET %s", KEYS_REPORT_PREFIX "gw1");
    cr_assert_eq(reply->type, REDIS_REPLY_STRING);
    cr_assert_eq(cluster_report_parse(reply->str, reply->len, &r, err,
        sizeof(err)), 0, "%s", err);
    freeReplyObject(reply);
    cr_expect_eq(r.plan_epoch, 3);
}

Test(agent_cluster_redis, ignores_lower_published_epoch)
{
    agent_start();
    plan_write(5, 1, "false");
    cr_assert(wait_epoch(5));
    plan_write(4, 1, "true");
    run_for(300);
    cr_expect_eq(policy_plan_get_epoch(rig.plan), 5);
    cr_expect_geq(policy_plan_get_stats(rig.plan)->stale, 1);
}

Test(agent_cluster_redis, drops_garbage_plan_and_keeps_last)
{
    agent_start();
    plan_write(5, 1, "false");
    cr_assert(wait_epoch(5));
    cmd_ok("SET %s %s", KEYS_PLAN, "{\"version\":1,\"epoch\":\"six\"}");
    cmd_ok("PUBLISH %s 6", KEYS_PLAN_CHANNEL);
    run_for(300);
    cr_expect_geq(policy_plan_get_stats(rig.plan)->invalid, 1);
    cr_expect_eq(policy_plan_get_epoch(rig.plan), 5);
}

Test(agent_cluster_redis, reads_plan_written_before_start)
{
    plan_write(9, 2, "true");
    agent_start();
    cr_expect(wait_epoch(9));
}

Test(agent_cluster_redis, runs_move_once_and_acknowledges)
{
    redisReply *reply;
    char id[64], key[128];

    agent_start();
    reply = cmd("XADD %s * to 198.51.100.2 peer 203.0.113.5 move_id m-1",
        STREAM);
    cr_assert_eq(reply->type, REDIS_REPLY_STRING);
    snprintf(id, sizeof(id), "%s", reply->str);
    freeReplyObject(reply);
    cr_assert(run_until_changed(&rig.moves_run, 0));
    run_for(300);
    cr_expect_eq(rig.moves_run, 1);
    cr_expect_str_eq(rig.last_to, "198.51.100.2");
    reply = cmd("XPENDING %s %s", STREAM, MOVE_STREAM_GROUP);
    cr_expect_eq(reply->element[0]->integer, 0);
    freeReplyObject(reply);
    snprintf(key, sizeof(key), "%s:result:%s", STREAM, id);
    reply = cmd("GET %s", key);
    cr_assert_eq(reply->type, REDIS_REPLY_STRING);
    cr_expect_not_null(strstr(reply->str, "\"moved\":3"), "%s", reply->str);
    cr_expect_not_null(strstr(reply->str, "\"status\":\"done\""));
    freeReplyObject(reply);
}

Test(agent_cluster_redis, runs_pending_move_after_restart)
{
    redisReply *reply;

    cmd_ok("XGROUP CREATE %s %s 0 MKSTREAM", STREAM, MOVE_STREAM_GROUP);
    cmd_ok("XADD %s * to 198.51.100.2 id c@example.net", STREAM);
    /* The previous agent took the entry and died before XACK. */
    cmd_ok("XREADGROUP GROUP %s gw1 COUNT 1 STREAMS %s >",
        MOVE_STREAM_GROUP, STREAM);
    agent_start();
    cr_assert(run_until_changed(&rig.moves_run, 0));
    run_for(300);
    cr_expect_eq(rig.moves_run, 1);
    reply = cmd("XPENDING %s %s", STREAM, MOVE_STREAM_GROUP);
    cr_expect_eq(reply->element[0]->integer, 0);
    freeReplyObject(reply);
}

Test(agent_cluster_redis, skips_pending_move_that_has_a_result)
{
    redisReply *reply;
    char id[64];

    cmd_ok("XGROUP CREATE %s %s 0 MKSTREAM", STREAM, MOVE_STREAM_GROUP);
    reply = cmd("XADD %s * to 198.51.100.2 id c@example.net", STREAM);
    snprintf(id, sizeof(id), "%s", reply->str);
    freeReplyObject(reply);
    cmd_ok("XREADGROUP GROUP %s gw1 COUNT 1 STREAMS %s >",
        MOVE_STREAM_GROUP, STREAM);
    /* It ran and its result was written, but the XACK is missing. */
    cmd_ok("SET %s:result:%s {\"status\":\"done\",\"moved\":1}", STREAM, id);
    agent_start();
    run_for(500);
    cr_expect_eq(rig.moves_run, 0);
    reply = cmd("XPENDING %s %s", STREAM, MOVE_STREAM_GROUP);
    cr_expect_eq(reply->element[0]->integer, 0);
    freeReplyObject(reply);
}

Test(agent_cluster_redis, runs_move_once_across_agent_restart)
{
    agent_start();
    cmd_ok("XADD %s * to 198.51.100.2 peer 203.0.113.5", STREAM);
    cr_assert(run_until_changed(&rig.moves_run, 0));
    run_for(200);
    agent_stop();
    agent_start();
    run_for(500);
    cr_expect_eq(rig.moves_run, 1);
}

Test(agent_cluster_redis, acknowledges_invalid_move_without_running)
{
    redisReply *reply;

    agent_start();
    cmd_ok("XADD %s * to 198.51.100.2", STREAM);
    run_for(500);
    cr_expect_eq(rig.moves_run, 0);
    reply = cmd("XPENDING %s %s", STREAM, MOVE_STREAM_GROUP);
    cr_expect_eq(reply->element[0]->integer, 0);
    freeReplyObject(reply);
}

Test(agent_cluster_redis, rereads_plan_after_redis_restart)
{
    agent_start();
    plan_write(5, 1, "false");
    cr_assert(wait_epoch(5));
    cr_assert_eq(redis_server_kill(rig.srv), 0);
    redisFree(rig.redis);
    cr_assert_eq(redis_server_restart(rig.srv), 0);
    rig.redis = redisConnect("127.0.0.1", redis_server_port(rig.srv));
    cr_assert(rig.redis != NULL && rig.redis->err == 0);
    /* The new leader has a higher term, and its epoch starts over. */
    cmd_ok("FLUSHALL");
    plan_write(1, 2, "true");
    cr_expect(wait_epoch(1));
}
