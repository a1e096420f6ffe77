/*
 * Tests for the Redis link against a real redis-server that each test
 * starts on a free loopback port (tests/support/redis_server.h).  Every
 * wait is bounded by a guard timer, so a link that never reaches the
 * expected state fails the test instead of hanging it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "redis_server.h"
#include "rt/keys.h"
#include "rt/log.h"
#include "rt/redis_link.h"

#define RL_MAX_EVENTS 64

/* One test's loop, server, link and everything the callbacks saw. */
struct rl {
    uv_loop_t loop;
    uv_timer_t guard;
    bool expired;
    struct redis_server *srv;
    struct redis_link *link;
    enum redis_link_state states[RL_MAX_EVENTS];
    int state_errs[RL_MAX_EVENTS];
    size_t n_states;
    size_t n_replies;
    int status[RL_MAX_EVENTS];
    char text[RL_MAX_EVENTS][128];
    long long integer[RL_MAX_EVENTS];
    size_t n_msgs;
    char msgs[RL_MAX_EVENTS][64];
};

static void
rl_state_cb(struct redis_link *link, enum redis_link_state state, int err,
    void *arg)
{
    struct rl *t = arg;

    (void)link;
    if (t->n_states < RL_MAX_EVENTS) {
        t->states[t->n_states] = state;
        t->state_errs[t->n_states] = err;
    }
    t->n_states++;
}

static void
rl_reply_cb(struct redis_link *link, int status, const redisReply *reply,
    void *arg)
{
    struct rl *t = arg;
    size_t i = t->n_replies++;

    (void)link;
    if (i >= RL_MAX_EVENTS)
        return;
    t->status[i] = status;
    if (reply != NULL && reply->str != NULL)
        snprintf(t->text[i], sizeof(t->text[i]), "%.*s", (int)reply->len,
            reply->str);
    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER)
        t->integer[i] = reply->integer;
}

static void
rl_message_cb(struct redis_link *link, const char *channel,
    const char *payload, size_t len, void *arg)
{
    struct rl *t = arg;

    (void)link;
    cr_expect_str_eq(channel, KEYS_PLAN_CHANNEL);
    if (t->n_msgs < RL_MAX_EVENTS)
        snprintf(t->msgs[t->n_msgs], sizeof(t->msgs[0]), "%.*s", (int)len,
            payload);
    t->n_msgs++;
}

static void
rl_guard_cb(uv_timer_t *timer)
{
    struct rl *t = timer->data;

    t->expired = true;
}

/* Sets up the loop only, for tests that need no server. */
static void
rl_init_loop(struct rl *t)
{
    memset(t, 0, sizeof(*t));
    cr_assert_eq(uv_loop_init(&t->loop), 0);
    uv_timer_init(&t->loop, &t->guard);
    t->guard.data = t;
}

/* Sets up the loop and a server with `server_args` (may be NULL). */
static void
rl_init(struct rl *t, const char *const *server_args)
{
    rl_init_loop(t);
    t->srv = redis_server_start(server_args);
    cr_assert_not_null(t->srv, "redis-server did not start");
}

static struct redis_link_options
rl_options(uint16_t port)
{
    struct redis_link_options o = {
        .name = "test-link",
        .host = "127.0.0.1",
        .port = port,
        .connect_timeout_ms = 1000,
        .command_timeout_ms = 500,
        .backoff_min_ms = 20,
        .backoff_max_ms = 100,
    };
    return o;
}

static void
rl_open(struct rl *t, const struct redis_link_options *o)
{
    t->link = redis_link_new(&t->loop, o, rl_state_cb, t);
    cr_assert_not_null(t->link);
}

static void
rl_fini(struct rl *t)
{
    redis_link_free(t->link);
    uv_close((uv_handle_t *)&t->guard, NULL);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    /* Every handle of the link was closed, or this returns UV_EBUSY. */
    cr_expect_eq(uv_loop_close(&t->loop), 0);
    redis_server_free(t->srv);
}

typedef bool rl_pred_fn(const struct rl *t, size_t arg);

/* Runs the loop until pred is true or ms pass, and returns pred. */
static bool
rl_wait(struct rl *t, rl_pred_fn *pred, size_t arg, uint64_t ms)
{
    t->expired = false;
    uv_timer_start(&t->guard, rl_guard_cb, ms, 0);
    while (!pred(t, arg) && !t->expired)
        uv_run(&t->loop, UV_RUN_ONCE);
    uv_timer_stop(&t->guard);
    return pred(t, arg);
}

static bool
rl_in_state(const struct rl *t, size_t state)
{
    return redis_link_get_state(t->link) == (enum redis_link_state)state;
}

static bool
rl_has_replies(const struct rl *t, size_t n)
{
    return t->n_replies >= n;
}

static bool
rl_has_msgs(const struct rl *t, size_t n)
{
    return t->n_msgs >= n;
}

/* The error that came with the last change to `state`, or 1 if none. */
static int
rl_last_err(const struct rl *t, enum redis_link_state state)
{
    for (size_t i = t->n_states; i > 0; i--)
        if (i - 1 < RL_MAX_EVENTS && t->states[i - 1] == state)
            return t->state_errs[i - 1];
    return 1;
}

static void
rl_connect(struct rl *t, const struct redis_link_options *o)
{
    rl_open(t, o);
    cr_assert_eq(redis_link_start(t->link), 0);
    cr_assert(rl_wait(t, rl_in_state, REDIS_LINK_READY, 3000),
        "not ready: %s", redis_link_get_error(t->link));
}

TestSuite(redis_link, .timeout = 30);

Test(redis_link, returns_replies_and_error_replies)
{
    struct rl t;

    rl_init(&t, NULL);
    struct redis_link_options o = rl_options(redis_server_port(t.srv));
    rl_connect(&t, &o);
    cr_assert_eq(redis_link_command(t.link, rl_reply_cb, &t, "SET %s %s",
        "ikeshift:test", "v1"), 0);
    cr_assert_eq(redis_link_command(t.link, rl_reply_cb, &t, "GET %s",
        "ikeshift:test"), 0);
    const char *argv[] = { "INCR", "ikeshift:test" };
    size_t argvlen[] = { 4, 13 };
    cr_assert_eq(redis_link_command_argv(t.link, rl_reply_cb, &t, 2, argv,
        argvlen), 0);
    cr_assert_eq(redis_link_command(t.link, rl_reply_cb, &t, "INCR %s",
        "ikeshift:counter"), 0);
    cr_assert(rl_wait(&t, rl_has_replies, 4, 2000));
    cr_expect_eq(t.status[0], 0);
    cr_expect_str_eq(t.text[0], "OK");
    cr_expect_eq(t.status[1], 0);
    cr_expect_str_eq(t.text[1], "v1");
    cr_expect_eq(t.status[2], -EIO);
    cr_expect(strstr(t.text[2], "not an integer") != NULL, "got %s",
        t.text[2]);
    cr_expect_eq(t.status[3], 0);
    cr_expect_eq(t.integer[3], 1);
    rl_fini(&t);
}

Test(redis_link, rejects_commands_before_ready)
{
    struct rl t;

    rl_init(&t, NULL);
    struct redis_link_options o = rl_options(redis_server_port(t.srv));
    rl_open(&t, &o);
    cr_expect_eq(redis_link_get_state(t.link), REDIS_LINK_IDLE);
    cr_expect_eq(redis_link_command(t.link, rl_reply_cb, &t, "PING"),
        -ENOTCONN);
    cr_expect_eq(redis_link_start(t.link), 0);
    cr_expect_eq(redis_link_start(t.link), -EALREADY);
    rl_fini(&t);
}

Test(redis_link, rejects_invalid_options)
{
    uv_loop_t loop;
    struct redis_link_options o = rl_options(6379);

    cr_assert_eq(uv_loop_init(&loop), 0);
    o.host = "localhost";
    cr_expect_null(redis_link_new(&loop, &o, NULL, NULL));
    o.host = "127.0.0.1";
    o.port = 0;
    cr_expect_null(redis_link_new(&loop, &o, NULL, NULL));
    o.port = 6379;
    o.name = "two words";
    cr_expect_null(redis_link_new(&loop, &o, NULL, NULL));
    cr_expect_eq(uv_loop_close(&loop), 0);
}

Test(redis_link, authenticates_with_password)
{
    const char *args[] = { "--requirepass", "s3cret-pw", NULL };
    struct rl t;

    rl_init(&t, args);
    struct redis_link_options o = rl_options(redis_server_port(t.srv));
    o.password = "s3cret-pw";
    rl_connect(&t, &o);
    cr_assert_eq(redis_link_command(t.link, rl_reply_cb, &t, "PING"), 0);
    cr_assert(rl_wait(&t, rl_has_replies, 1, 2000));
    cr_expect_eq(t.status[0], 0);
    cr_expect_str_eq(t.text[0], "PONG");
    rl_fini(&t);
}

Test(redis_link, authenticates_as_acl_user)
{
    const char *args[] = { "--requirepass", "admin-pw", NULL };
    struct rl t;

    rl_init(&t, args);
    cr_assert_eq(redis_server_command(t.srv, "admin-pw",
        "ACL SETUSER agent on >agent-pw ~ikeshift:* +@all"), 0);
    struct redis_link_options o = rl_options(redis_server_port(t.srv));
    o.user = "agent";
    o.password = "agent-pw";
    rl_connect(&t, &o);
    cr_assert_eq(redis_link_command(t.link, rl_reply_cb, &t, "SET %s 1",
        "ikeshift:allowed"), 0);
    cr_assert_eq(redis_link_command(t.link, rl_reply_cb, &t, "SET %s 1",
        "other:denied"), 0);
    cr_assert(rl_wait(&t, rl_has_replies, 2, 2000));
    cr_expect_eq(t.status[0], 0);
    /* The key pattern applies, so the link really is user "agent". */
    cr_expect_eq(t.status[1], -EIO);
    cr_expect(strstr(t.text[1], "NOPERM") != NULL, "got %s", t.text[1]);
    rl_fini(&t);
}

Test(redis_link, reports_wrong_password_without_logging_it)
{
    const char *args[] = { "--requirepass", "right-pw", NULL };
    char path[] = "/tmp/ikeshift-log-XXXXXX";
    char buf[8192];
    struct rl t;
    int fd = mkstemp(path);

    cr_assert_geq(fd, 0);
    log_init("test", fd, LOG_LEVEL_DEBUG);
    rl_init(&t, args);
    struct redis_link_options o = rl_options(redis_server_port(t.srv));
    o.password = "wrong-pw-1234";
    rl_open(&t, &o);
    cr_assert_eq(redis_link_start(t.link), 0);
    cr_assert(rl_wait(&t, rl_in_state, REDIS_LINK_DISCONNECTED, 3000));
    cr_expect_eq(rl_last_err(&t, REDIS_LINK_DISCONNECTED), -EACCES);
    cr_expect(strstr(redis_link_get_error(t.link), "WRONGPASS") != NULL,
        "got %s", redis_link_get_error(t.link));
    rl_fini(&t);
    log_init("test", 2, LOG_LEVEL_INFO);

    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    unlink(path);
    cr_assert_gt(n, 0);
    buf[n] = '\0';
    cr_expect(strstr(buf, "authentication failed") != NULL, "log: %s", buf);
    cr_expect_null(strstr(buf, "wrong-pw-1234"), "log: %s", buf);
}

Test(redis_link, fails_fast_on_closed_port)
{
    struct rl t;

    rl_init_loop(&t);
    struct redis_link_options o = rl_options(redis_server_free_port());
    o.connect_timeout_ms = 500;
    rl_open(&t, &o);
    uint64_t start = uv_hrtime();
    cr_assert_eq(redis_link_start(t.link), 0);
    cr_assert(rl_wait(&t, rl_in_state, REDIS_LINK_DISCONNECTED, 2000));
    uint64_t elapsed_ms = (uv_hrtime() - start) / 1000000;
    cr_expect_leq(elapsed_ms, 500);
    cr_expect_eq(rl_last_err(&t, REDIS_LINK_DISCONNECTED), -ECONNREFUSED,
        "error %s", redis_link_get_error(t.link));
    /* It keeps trying with backoff. */
    cr_expect(rl_wait(&t, rl_in_state, REDIS_LINK_CONNECTING, 1000));
    rl_fini(&t);
}

Test(redis_link, times_out_connect_to_stopped_server)
{
    struct rl t;

    rl_init(&t, NULL);
    cr_assert_eq(redis_server_pause(t.srv), 0);
    struct redis_link_options o = rl_options(redis_server_port(t.srv));
    o.connect_timeout_ms = 300;
    rl_open(&t, &o);
    uint64_t start = uv_hrtime();
    cr_assert_eq(redis_link_start(t.link), 0);
    cr_assert(rl_wait(&t, rl_in_state, REDIS_LINK_DISCONNECTED, 3000));
    uint64_t elapsed_ms = (uv_hrtime() - start) / 1000000;
    cr_expect_geq(elapsed_ms, 290);
    cr_expect_leq(elapsed_ms, 1000);
    cr_expect_eq(rl_last_err(&t, REDIS_LINK_DISCONNECTED), -ETIMEDOUT);
    cr_assert_eq(redis_server_resume(t.srv), 0);
    cr_expect(rl_wait(&t, rl_in_state, REDIS_LINK_READY, 3000),
        "not ready: %s", redis_link_get_error(t.link));
    rl_fini(&t);
}

Test(redis_link, reconnects_after_server_restart)
{
    struct rl t;

    rl_init(&t, NULL);
    struct redis_link_options o = rl_options(redis_server_port(t.srv));
    rl_connect(&t, &o);
    cr_assert_eq(redis_server_kill(t.srv), 0);
    cr_assert(rl_wait(&t, rl_in_state, REDIS_LINK_DISCONNECTED, 2000));
    cr_expect_eq(rl_last_err(&t, REDIS_LINK_DISCONNECTED), -ECONNRESET,
        "error %s", redis_link_get_error(t.link));
    cr_expect_eq(redis_link_command(t.link, rl_reply_cb, &t, "PING"),
        -ENOTCONN);
    /* Let a few attempts fail against the closed port first. */
    usleep(200000);
    uv_run(&t.loop, UV_RUN_NOWAIT);
    cr_assert_eq(redis_server_restart(t.srv), 0);
    cr_assert(rl_wait(&t, rl_in_state, REDIS_LINK_READY, 3000),
        "not ready: %s", redis_link_get_error(t.link));
    cr_assert_eq(redis_link_command(t.link, rl_reply_cb, &t, "SET %s %s",
        "ikeshift:after", "restart"), 0);
    cr_assert_eq(redis_link_command(t.link, rl_reply_cb, &t, "GET %s",
        "ikeshift:after"), 0);
    cr_assert(rl_wait(&t, rl_has_replies, 2, 2000));
    cr_expect_eq(t.status[1], 0);
    cr_expect_str_eq(t.text[1], "restart");
    rl_fini(&t);
}

Test(redis_link, times_out_command_on_stopped_server)
{
    struct rl t;

    rl_init(&t, NULL);
    struct redis_link_options o = rl_options(redis_server_port(t.srv));
    o.command_timeout_ms = 300;
    o.connect_timeout_ms = 300;
    rl_connect(&t, &o);
    cr_assert_eq(redis_server_pause(t.srv), 0);
    uint64_t start = uv_hrtime();
    cr_assert_eq(redis_link_command(t.link, rl_reply_cb, &t, "PING"), 0);
    cr_assert_eq(redis_link_command(t.link, rl_reply_cb, &t, "PING"), 0);
    cr_assert(rl_wait(&t, rl_has_replies, 2, 3000));
    uint64_t elapsed_ms = (uv_hrtime() - start) / 1000000;
    cr_expect_eq(t.status[0], -ETIMEDOUT);
    /* The link drops the connection, so the second one is cut off. */
    cr_expect_eq(t.status[1], -ENOTCONN);
    cr_expect_geq(elapsed_ms, 290);
    cr_expect_leq(elapsed_ms, 1000);
    cr_expect_neq(redis_link_get_state(t.link), REDIS_LINK_READY);
    cr_assert_eq(redis_server_resume(t.srv), 0);
    cr_expect(rl_wait(&t, rl_in_state, REDIS_LINK_READY, 3000),
        "not ready: %s", redis_link_get_error(t.link));
    rl_fini(&t);
}

Test(redis_link, cancels_pending_commands_on_free)
{
    struct rl t;

    rl_init(&t, NULL);
    struct redis_link_options o = rl_options(redis_server_port(t.srv));
    rl_connect(&t, &o);
    cr_assert_eq(redis_server_pause(t.srv), 0);
    cr_assert_eq(redis_link_command(t.link, rl_reply_cb, &t, "PING"), 0);
    redis_link_free(t.link);
    t.link = NULL;
    cr_expect_eq(t.n_replies, 1);
    cr_expect_eq(t.status[0], -ECANCELED);
    rl_fini(&t);
}

static void
rl_subscribe(struct rl *t)
{
    struct redis_link_options o = rl_options(redis_server_port(t->srv));

    o.subscriber = true;
    o.name = "test-sub";
    rl_open(t, &o);
    cr_assert_eq(redis_link_subscribe(t->link, KEYS_PLAN_CHANNEL,
        rl_message_cb, t), 0);
    cr_assert_eq(redis_link_start(t->link), 0);
    cr_assert(rl_wait(t, rl_in_state, REDIS_LINK_READY, 3000),
        "not ready: %s", redis_link_get_error(t->link));
}

Test(redis_link, receives_published_messages)
{
    struct rl t;

    rl_init(&t, NULL);
    rl_subscribe(&t);
    cr_expect_eq(redis_link_command(t.link, rl_reply_cb, &t, "PING"),
        -EINVAL);
    cr_expect_eq(redis_link_subscribe(t.link, KEYS_PLAN_CHANNEL,
        rl_message_cb, &t), -EINVAL);
    cr_assert_eq(redis_server_command(t.srv, NULL, "PUBLISH %s %s",
        KEYS_PLAN_CHANNEL, "41"), 0);
    cr_assert_eq(redis_server_command(t.srv, NULL, "PUBLISH %s %s",
        KEYS_PLAN_CHANNEL, "42"), 0);
    cr_assert(rl_wait(&t, rl_has_msgs, 2, 2000));
    cr_expect_str_eq(t.msgs[0], "41");
    cr_expect_str_eq(t.msgs[1], "42");
    rl_fini(&t);
}

Test(redis_link, resubscribes_after_client_kill)
{
    struct rl t;

    rl_init(&t, NULL);
    rl_subscribe(&t);
    size_t before = t.n_states;
    cr_assert_eq(redis_server_command(t.srv, NULL,
        "CLIENT KILL TYPE pubsub"), 0);
    cr_assert(rl_wait(&t, rl_in_state, REDIS_LINK_DISCONNECTED, 2000));
    cr_assert(rl_wait(&t, rl_in_state, REDIS_LINK_READY, 3000),
        "not ready: %s", redis_link_get_error(t.link));
    cr_expect_gt(t.n_states, before);
    cr_assert_eq(redis_server_command(t.srv, NULL, "PUBLISH %s %s",
        KEYS_PLAN_CHANNEL, "43"), 0);
    cr_assert(rl_wait(&t, rl_has_msgs, 1, 2000));
    cr_expect_str_eq(t.msgs[0], "43");
    rl_fini(&t);
}

Test(redis_link, command_link_rejects_subscribe)
{
    struct rl t;

    rl_init_loop(&t);
    struct redis_link_options o = rl_options(6379);
    rl_open(&t, &o);
    cr_expect_eq(redis_link_subscribe(t.link, "x", rl_message_cb, &t),
        -EINVAL);
    rl_fini(&t);
}
