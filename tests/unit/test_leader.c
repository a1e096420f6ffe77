/*
 * Tests for the leader lease with two controllers in one process, against
 * a real redis-server on a free loopback port.  Each controller has its
 * own link, as separate processes would.  Every wait is bounded.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "leader.h"
#include "redis_server.h"
#include "rt/log.h"
#include "rt/redis_link.h"
#include "store.h"

#define LT_TTL_MS   1000
#define LT_RENEW_MS 200

struct lt {
    uv_loop_t loop;
    uv_timer_t guard;
    uv_timer_t watch;           /* checks that two never lead at once */
    bool expired;
    struct redis_server *srv;
    struct redis_link *link[2];
    struct leader *leader[2];
    struct store *store;
    unsigned both_leading;      /* watch ticks that saw two leaders */
    unsigned became[2];
    unsigned lost[2];
    int write_status;
    bool write_done;
};

static void
lt_change_cb(struct leader *l, bool leading, void *arg)
{
    struct lt *t = arg;
    int i = l == t->leader[0] ? 0 : 1;

    if (leading)
        t->became[i]++;
    else
        t->lost[i]++;
}

static void
lt_guard_cb(uv_timer_t *timer)
{
    struct lt *t = timer->data;

    t->expired = true;
}

static void
lt_watch_cb(uv_timer_t *timer)
{
    struct lt *t = timer->data;

    if (t->leader[0] != NULL && t->leader[1] != NULL &&
        leader_is_leading(t->leader[0]) && leader_is_leading(t->leader[1]))
        t->both_leading++;
}

static struct redis_link *
lt_link(struct lt *t, const char *name)
{
    struct redis_link_options o = {
        .name = name,
        .host = "127.0.0.1",
        .port = redis_server_port(t->srv),
        .connect_timeout_ms = 1000,
        .command_timeout_ms = 500,
        .backoff_min_ms = 20,
        .backoff_max_ms = 100,
    };
    struct redis_link *link = redis_link_new(&t->loop, &o, NULL, NULL);

    cr_assert_not_null(link);
    cr_assert_eq(redis_link_start(link), 0);
    return link;
}

static void
lt_init(struct lt *t)
{
    static const char *const ids[2] = { "ctl-a", "ctl-b" };

    memset(t, 0, sizeof(*t));
    log_init("test_leader", 2, LOG_LEVEL_WARN);
    cr_assert_eq(uv_loop_init(&t->loop), 0);
    uv_timer_init(&t->loop, &t->guard);
    t->guard.data = t;
    uv_timer_init(&t->loop, &t->watch);
    t->watch.data = t;
    uv_timer_start(&t->watch, lt_watch_cb, 5, 5);
    t->srv = redis_server_start(NULL);
    cr_assert_not_null(t->srv, "redis-server did not start");
    for (int i = 0; i < 2; i++) {
        struct leader_config cfg = {
            .id = ids[i], .ttl_ms = LT_TTL_MS, .renew_ms = LT_RENEW_MS,
        };

        t->link[i] = lt_link(t, ids[i]);
        t->leader[i] = leader_new(&t->loop, t->link[i], &cfg, lt_change_cb,
            t);
        cr_assert_not_null(t->leader[i]);
    }
    t->store = store_new(t->link[1]);
    cr_assert_not_null(t->store);
}

/* Frees controller i as a crash would: no release. */
static void
lt_kill(struct lt *t, int i)
{
    leader_free(t->leader[i]);
    t->leader[i] = NULL;
    if (i == 1) {
        store_free(t->store);
        t->store = NULL;
    }
    redis_link_free(t->link[i]);
    t->link[i] = NULL;
}

static void
lt_fini(struct lt *t)
{
    for (int i = 0; i < 2; i++)
        if (t->leader[i] != NULL)
            lt_kill(t, i);
    uv_close((uv_handle_t *)&t->guard, NULL);
    uv_close((uv_handle_t *)&t->watch, NULL);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    cr_expect_eq(uv_loop_close(&t->loop), 0);
    redis_server_free(t->srv);
}

typedef bool lt_pred_fn(const struct lt *t, int arg);

/* Runs the loop until pred holds or ms pass; returns pred. */
static bool
lt_wait(struct lt *t, lt_pred_fn *pred, int arg, uint64_t ms)
{
    t->expired = false;
    uv_timer_start(&t->guard, lt_guard_cb, ms, 0);
    while (!pred(t, arg) && !t->expired)
        uv_run(&t->loop, UV_RUN_ONCE);
    uv_timer_stop(&t->guard);
    return pred(t, arg);
}

static bool
lt_never(const struct lt *t, int arg)
{
    (void)t;
    (void)arg;
    return false;
}

static bool
lt_leads(const struct lt *t, int i)
{
    return t->leader[i] != NULL && leader_is_leading(t->leader[i]);
}

static bool
lt_any_leads(const struct lt *t, int arg)
{
    (void)arg;
    return lt_leads(t, 0) || lt_leads(t, 1);
}

static bool
lt_write_done(const struct lt *t, int arg)
{
    (void)arg;
    return t->write_done;
}

static void
lt_write_cb(struct store *s, int status, void *arg)
{
    struct lt *t = arg;

    (void)s;
    t->write_status = status;
    t->write_done = true;
}

/* Starts a first and waits until it leads, then starts b. */
static void
lt_start_a_then_b(struct lt *t)
{
    leader_start(t->leader[0]);
    cr_assert(lt_wait(t, lt_leads, 0, 3000), "ctl-a never became leader");
    leader_start(t->leader[1]);
}

/* Writes a one-gateway-free plan of `epoch` with `fence`. */
static int
lt_write_plan(struct lt *t, const struct leader_fence *fence, uint64_t epoch)
{
    struct cluster_plan plan = {
        .epoch = epoch,
        .leader_term = fence->term,
        .created_at_ms = 1000,
        .expires_at_ms = 2000,
    };

    snprintf(plan.leader_id, sizeof(plan.leader_id), "%s", fence->id);
    t->write_done = false;
    cr_assert_eq(store_write_plan(t->store, fence, &plan, lt_write_cb, t),
        0);
    cr_assert(lt_wait(t, lt_write_done, 0, 2000), "plan write timed out");
    return t->write_status;
}

TestSuite(leader, .init = NULL, .timeout = 30);

Test(leader, one_of_two_controllers_leads)
{
    struct lt t;

    lt_init(&t);
    leader_start(t.leader[0]);
    leader_start(t.leader[1]);
    cr_assert(lt_wait(&t, lt_any_leads, 0, 3000), "nobody became leader");
    lt_wait(&t, lt_never, 0, 3 * LT_TTL_MS);
    cr_expect_neq(lt_leads(&t, 0), lt_leads(&t, 1));
    cr_expect_eq(t.both_leading, 0);
    cr_expect_eq(t.became[0] + t.became[1], 1,
        "leadership changed hands %u times", t.became[0] + t.became[1]);
    lt_fini(&t);
}

Test(leader, standby_takes_over_within_ttl_after_leader_dies)
{
    struct lt t;
    uint64_t killed_at, took_at;

    lt_init(&t);
    lt_start_a_then_b(&t);
    lt_wait(&t, lt_never, 0, 2 * LT_RENEW_MS);
    cr_assert(!lt_leads(&t, 1));
    lt_kill(&t, 0);
    uv_update_time(&t.loop);
    killed_at = uv_now(&t.loop);
    cr_assert(lt_wait(&t, lt_leads, 1, 3 * LT_TTL_MS),
        "ctl-b did not take over");
    took_at = uv_now(&t.loop);
    /* TTL plus one attempt period, and 100 ms for the loop and Redis. */
    cr_expect_leq(took_at - killed_at, LT_TTL_MS + LT_RENEW_MS + 100,
        "took over after %llu ms", (unsigned long long)(took_at - killed_at));
    cr_expect_eq(t.both_leading, 0);
    lt_fini(&t);
}

Test(leader, new_leadership_increments_term)
{
    struct lt t;
    uint64_t term_a;

    lt_init(&t);
    lt_start_a_then_b(&t);
    term_a = leader_get_term(t.leader[0]);
    lt_kill(&t, 0);
    cr_assert(lt_wait(&t, lt_leads, 1, 3 * LT_TTL_MS));
    cr_expect_eq(leader_get_term(t.leader[1]), term_a + 1);
    lt_fini(&t);
}

Test(leader, paused_leader_cannot_write_plan)
{
    struct lt t;
    struct leader_fence old, cur;

    lt_init(&t);
    lt_start_a_then_b(&t);
    cr_assert_eq(leader_get_fence(t.leader[0], &old), 0);
    cr_expect_eq(lt_write_plan(&t, &old, 1), 0, "the leader could not write");
    /* ctl-a stops renewing, as a paused process; it still has its fence. */
    leader_stop(t.leader[0]);
    cr_assert(lt_wait(&t, lt_leads, 1, 3 * LT_TTL_MS),
        "ctl-b did not take over");
    cr_expect_eq(lt_write_plan(&t, &old, 2), -EPERM);
    cr_assert_eq(leader_get_fence(t.leader[1], &cur), 0);
    cr_expect_eq(lt_write_plan(&t, &cur, 2), 0);
    cr_expect_eq(store_get_stats(t.store)->writes_fenced, 1);
    lt_fini(&t);
}

Test(leader, expired_lease_refuses_write_without_successor)
{
    struct lt t;
    struct leader_fence old;

    lt_init(&t);
    leader_start(t.leader[0]);
    cr_assert(lt_wait(&t, lt_leads, 0, 3000));
    cr_assert_eq(leader_get_fence(t.leader[0], &old), 0);
    leader_stop(t.leader[0]);
    lt_wait(&t, lt_never, 0, LT_TTL_MS + 200);
    cr_expect_eq(lt_write_plan(&t, &old, 1), -EPERM);
    lt_fini(&t);
}

static void
lt_release_cb(struct leader *l, int status, void *arg)
{
    struct lt *t = arg;

    (void)l;
    t->write_status = status;
    t->write_done = true;
}

Test(leader, release_hands_over_before_ttl)
{
    struct lt t;
    uint64_t released_at, took_at;

    lt_init(&t);
    lt_start_a_then_b(&t);
    lt_wait(&t, lt_never, 0, 2 * LT_RENEW_MS);
    leader_release(t.leader[0], lt_release_cb, &t);
    cr_expect(!lt_leads(&t, 0));
    uv_update_time(&t.loop);
    released_at = uv_now(&t.loop);
    cr_assert(lt_wait(&t, lt_leads, 1, 3 * LT_TTL_MS));
    took_at = uv_now(&t.loop);
    cr_assert(lt_wait(&t, lt_write_done, 0, 2000), "release not confirmed");
    cr_expect_eq(t.write_status, 0);
    cr_expect_lt(took_at - released_at, LT_TTL_MS,
        "took over after %llu ms", (unsigned long long)(took_at - released_at));
    lt_fini(&t);
}

Test(leader, rejects_renew_period_not_below_ttl)
{
    uv_loop_t loop;
    struct leader_config cfg = { .id = "ctl-a", .ttl_ms = 1000,
        .renew_ms = 1000 };

    cr_assert_eq(uv_loop_init(&loop), 0);
    cr_expect_null(leader_new(&loop, NULL, &cfg, NULL, NULL));
    cfg.renew_ms = 0;
    cfg.id = "bad id";
    cr_expect_null(leader_new(&loop, NULL, &cfg, NULL, NULL));
    uv_loop_close(&loop);
}
