/*
 * Redis link: hiredis 0.14.1 async on libuv, with our own event adapter.
 *
 * Debian's adapters/libuv.h ignores a negative status in its poll
 * callback.  libuv reports a socket error that way and stops the poll, so
 * a connect to a Redis that is down never completes there.  This adapter
 * hands the error to hiredis, which reads SO_ERROR and fails the connect.
 */
#include "rt/redis_link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "rt/log.h"

#define REDIS_ERRSTR_SIZE 192

/* Socket watcher of one connection; outlives it until uv_close ends. */
struct redis_io {
    uv_poll_t poll;
    struct redis_link *link;
    redisAsyncContext *ac;
    int events;
    bool closing;
};

/* A command waiting for its reply, in send order on link->pending. */
struct redis_cmd {
    struct redis_link *link;
    redis_reply_fn *cb;
    void *arg;
    uint64_t deadline_ms;       /* on uv_now() */
    bool done;                  /* cb has been called */
    struct redis_cmd *prev, *next;
};

struct redis_sub {
    struct redis_link *link;
    char *channel;
    redis_message_fn *cb;
    void *arg;
    bool confirmed;             /* on the current connection */
};

struct redis_link {
    uv_loop_t *loop;
    char *name, *host, *user, *password;
    uint16_t port;
    uint32_t connect_timeout_ms, command_timeout_ms;
    uint32_t backoff_min_ms, backoff_max_ms;
    bool subscriber;
    redis_link_state_fn *state_cb;
    void *state_arg;

    enum redis_link_state state;
    char errstr[REDIS_ERRSTR_SIZE];
    redisAsyncContext *ac;      /* NULL between connections */
    unsigned failures;          /* attempts since the last READY */
    uint64_t rng;
    bool started, freeing, failure_logged;

    uv_timer_t connect_timer, retry_timer, command_timer;
    int open_handles;
    struct redis_cmd *pending_head, *pending_tail;
    struct redis_sub subs[REDIS_LINK_MAX_CHANNELS];
    size_t n_subs;
};

static void redis_link_fail(struct redis_link *link, int err);
static void redis_link_send_subscribe(struct redis_link *link,
    struct redis_sub *sub);

const char *
redis_link_state_name(enum redis_link_state state)
{
    switch (state) {
    case REDIS_LINK_IDLE:
        return "idle";
    case REDIS_LINK_CONNECTING:
        return "connecting";
    case REDIS_LINK_READY:
        return "ready";
    case REDIS_LINK_DISCONNECTED:
        return "disconnected";
    }
    return "unknown";
}

/* Logs a transition and calls the state callback.  After the first failed
 * attempt, repeated failures are logged at debug level only. */
static void
redis_link_set_state(struct redis_link *link, enum redis_link_state state,
    int err)
{
    char error[LOG_ESCAPE_SIZE(REDIS_ERRSTR_SIZE)];
    enum redis_link_state old = link->state;

    if (old == state)
        return;
    link->state = state;
    log_escape_str(error, sizeof(error), link->errstr);
    if (state == REDIS_LINK_READY) {
        log_info("redis", "connected; link=%s addr=%s:%u attempts=%u",
            link->name, link->host, link->port, link->failures + 1);
        link->failures = 0;
        link->failure_logged = false;
    } else if (state == REDIS_LINK_DISCONNECTED && old == REDIS_LINK_READY) {
        log_warn("redis", "connection lost, reconnecting; link=%s "
            "addr=%s:%u error=%s", link->name, link->host, link->port,
            error);
    } else if (state == REDIS_LINK_DISCONNECTED && !link->failure_logged) {
        link->failure_logged = true;
        log_write(err == -EACCES ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN, "redis",
            "connect failed, retrying with backoff; link=%s addr=%s:%u "
            "error=%s", link->name, link->host, link->port, error);
    } else {
        log_debug("redis", "state changed; link=%s state=%s error=%s",
            link->name, redis_link_state_name(state), error);
    }
    if (link->state_cb != NULL)
        link->state_cb(link, state, err, link->state_arg);
}

static void
redis_link_set_error(struct redis_link *link, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
redis_link_set_error(struct redis_link *link, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(link->errstr, sizeof(link->errstr), fmt, ap);
    va_end(ap);
}

/* Maps a hiredis context error to a negative errno.  During the connect
 * callback only the inner context's error is set. */
static int
redis_link_map_error(const redisAsyncContext *ac)
{
    switch (ac->err != 0 ? ac->err : ac->c.err) {
    case REDIS_ERR_EOF:
        return -ECONNRESET;
    case REDIS_ERR_PROTOCOL:
        return -EPROTO;
    case REDIS_ERR_OOM:
        return -ENOMEM;
    case REDIS_ERR_IO:
        if (ac->errstr != NULL && strstr(ac->errstr, "refused") != NULL)
            return -ECONNREFUSED;
        return -EIO;
    default:
        return -EIO;
    }
}

/* --- libuv adapter for hiredis ------------------------------------- */

static void
redis_io_close_cb(uv_handle_t *handle)
{
    free(handle->data);
}

static void
redis_io_poll_cb(uv_poll_t *poll, int status, int events)
{
    struct redis_io *io = poll->data;
    redisAsyncContext *ac = io->ac;

    if (io->closing)
        return;
    if (status < 0) {
        /* libuv stopped the poll.  hiredis reads SO_ERROR on a pending
         * connect, or the error on a read, and drops the context. */
        if (!(ac->c.flags & REDIS_CONNECTED))
            redisAsyncHandleWrite(ac);
        else
            redisAsyncHandleRead(ac);
        if (!io->closing && io->link->ac == ac) {
            redis_link_set_error(io->link, "socket error: %s",
                uv_strerror(status));
            redis_link_fail(io->link, -EIO);
        }
        return;
    }
    if (events & UV_READABLE)
        redisAsyncHandleRead(ac);
    if (!io->closing && (events & UV_WRITABLE))
        redisAsyncHandleWrite(ac);
}

static void
redis_io_update(struct redis_io *io, int events)
{
    if (io->closing || events == io->events)
        return;
    io->events = events;
    if (events == 0)
        uv_poll_stop(&io->poll);
    else
        uv_poll_start(&io->poll, events, redis_io_poll_cb);
}

static void
redis_io_add_read(void *data)
{
    struct redis_io *io = data;

    redis_io_update(io, io->events | UV_READABLE);
}

static void
redis_io_del_read(void *data)
{
    struct redis_io *io = data;

    redis_io_update(io, io->events & ~UV_READABLE);
}

static void
redis_io_add_write(void *data)
{
    struct redis_io *io = data;

    redis_io_update(io, io->events | UV_WRITABLE);
}

static void
redis_io_del_write(void *data)
{
    struct redis_io *io = data;

    redis_io_update(io, io->events & ~UV_WRITABLE);
}

/* hiredis calls this before it closes the socket, which libuv requires. */
static void
redis_io_cleanup(void *data)
{
    struct redis_io *io = data;

    io->closing = true;
    uv_poll_stop(&io->poll);
    uv_close((uv_handle_t *)&io->poll, redis_io_close_cb);
}

static int
redis_io_attach(struct redis_link *link, redisAsyncContext *ac)
{
    struct redis_io *io = calloc(1, sizeof(*io));

    if (io == NULL)
        return -ENOMEM;
    int ret = uv_poll_init(link->loop, &io->poll, ac->c.fd);
    if (ret < 0) {
        free(io);
        return ret;
    }
    io->poll.data = io;
    io->link = link;
    io->ac = ac;
    ac->ev.data = io;
    ac->ev.addRead = redis_io_add_read;
    ac->ev.delRead = redis_io_del_read;
    ac->ev.addWrite = redis_io_add_write;
    ac->ev.delWrite = redis_io_del_write;
    ac->ev.cleanup = redis_io_cleanup;
    return 0;
}

/* --- commands and their timeouts ----------------------------------- */

static void
redis_cmd_unlink(struct redis_link *link, struct redis_cmd *cmd)
{
    if (cmd->prev != NULL)
        cmd->prev->next = cmd->next;
    else if (link->pending_head == cmd)
        link->pending_head = cmd->next;
    if (cmd->next != NULL)
        cmd->next->prev = cmd->prev;
    else if (link->pending_tail == cmd)
        link->pending_tail = cmd->prev;
    cmd->prev = cmd->next = NULL;
}

static void redis_cmd_timer_cb(uv_timer_t *timer);

/* Arms the command timer for the oldest pending command.  All commands
 * share one timeout, so the oldest one expires first. */
static void
redis_cmd_arm_timer(struct redis_link *link)
{
    if (link->freeing)
        return;
    if (link->pending_head == NULL) {
        uv_timer_stop(&link->command_timer);
        return;
    }
    uint64_t now = uv_now(link->loop);
    uint64_t deadline = link->pending_head->deadline_ms;
    uv_timer_start(&link->command_timer, redis_cmd_timer_cb,
        deadline > now ? deadline - now : 0, 0);
}

static void
redis_cmd_timer_cb(uv_timer_t *timer)
{
    struct redis_link *link = timer->data;
    struct redis_cmd *cmd = link->pending_head;

    if (cmd == NULL)
        return;
    if (cmd->deadline_ms > uv_now(link->loop)) {
        redis_cmd_arm_timer(link);
        return;
    }
    /* hiredis keeps its callback, which frees cmd when the context goes. */
    cmd->done = true;
    redis_cmd_unlink(link, cmd);
    redis_link_set_error(link, "command timed out after %u ms",
        (unsigned)link->command_timeout_ms);
    if (cmd->cb != NULL)
        cmd->cb(link, -ETIMEDOUT, NULL, cmd->arg);
    /* Redis replies in order, so the commands behind it wait as well. */
    if (!link->freeing && link->ac != NULL)
        redis_link_fail(link, -ETIMEDOUT);
}

static void
redis_cmd_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    struct redis_cmd *cmd = privdata;
    struct redis_link *link = cmd->link;
    const redisReply *reply = r;

    (void)ac;
    if (!cmd->done) {
        int status = 0;

        cmd->done = true;
        redis_cmd_unlink(link, cmd);
        if (reply == NULL)
            status = link->freeing ? -ECANCELED : -ENOTCONN;
        else if (reply->type == REDIS_REPLY_ERROR)
            status = -EIO;
        if (cmd->cb != NULL)
            cmd->cb(link, status, status == -EIO || status == 0 ? reply :
                NULL, cmd->arg);
        redis_cmd_arm_timer(link);
    }
    free(cmd);
}

static struct redis_cmd *
redis_cmd_new(struct redis_link *link, redis_reply_fn *cb, void *arg)
{
    struct redis_cmd *cmd = calloc(1, sizeof(*cmd));

    if (cmd == NULL)
        return NULL;
    cmd->link = link;
    cmd->cb = cb;
    cmd->arg = arg;
    /* uv_now() is cached per loop iteration; the caller may have been
     * busy since. */
    uv_update_time(link->loop);
    cmd->deadline_ms = uv_now(link->loop) + link->command_timeout_ms;
    return cmd;
}

static void
redis_cmd_append(struct redis_link *link, struct redis_cmd *cmd)
{
    cmd->prev = link->pending_tail;
    if (link->pending_tail != NULL)
        link->pending_tail->next = cmd;
    else
        link->pending_head = cmd;
    link->pending_tail = cmd;
    if (cmd->prev == NULL)
        redis_cmd_arm_timer(link);
}

static int
redis_link_check_ready(const struct redis_link *link)
{
    if (link->subscriber)
        return -EINVAL;
    if (link->state != REDIS_LINK_READY || link->ac == NULL)
        return -ENOTCONN;
    return 0;
}

int
redis_link_command(struct redis_link *link, redis_reply_fn *cb, void *arg,
    const char *fmt, ...)
{
    struct redis_cmd *cmd;
    va_list ap;
    int ret;

    if ((ret = redis_link_check_ready(link)) < 0)
        return ret;
    if ((cmd = redis_cmd_new(link, cb, arg)) == NULL)
        return -ENOMEM;
    va_start(ap, fmt);
    ret = redisvAsyncCommand(link->ac, redis_cmd_reply_cb, cmd, fmt, ap);
    va_end(ap);
    if (ret != REDIS_OK) {
        free(cmd);
        return -EINVAL;
    }
    redis_cmd_append(link, cmd);
    return 0;
}

int
redis_link_command_argv(struct redis_link *link, redis_reply_fn *cb,
    void *arg, int argc, const char **argv, const size_t *argvlen)
{
    struct redis_cmd *cmd;
    int ret;

    if ((ret = redis_link_check_ready(link)) < 0)
        return ret;
    if (argc < 1)
        return -EINVAL;
    if ((cmd = redis_cmd_new(link, cb, arg)) == NULL)
        return -ENOMEM;
    if (redisAsyncCommandArgv(link->ac, redis_cmd_reply_cb, cmd, argc, argv,
        argvlen) != REDIS_OK) {
        free(cmd);
        return -EINVAL;
    }
    redis_cmd_append(link, cmd);
    return 0;
}

/* --- connection life cycle ----------------------------------------- */

static uint32_t
redis_link_backoff_ms(struct redis_link *link)
{
    uint64_t delay = link->backoff_min_ms;
    unsigned shift = link->failures > 0 ? link->failures - 1 : 0;

    for (unsigned i = 0; i < shift && delay < link->backoff_max_ms; i++)
        delay *= 2;
    if (delay > link->backoff_max_ms)
        delay = link->backoff_max_ms;
    /* xorshift64: jitter only, so that agents do not retry in step. */
    link->rng ^= link->rng << 13;
    link->rng ^= link->rng >> 7;
    link->rng ^= link->rng << 17;
    /* Full delay minus up to half of it. */
    return (uint32_t)(delay - (link->rng % (delay / 2 + 1)));
}

static void redis_link_retry_cb(uv_timer_t *timer);

static void
redis_link_schedule_retry(struct redis_link *link)
{
    if (link->freeing)
        return;
    uv_timer_stop(&link->connect_timer);
    link->failures++;
    uv_timer_start(&link->retry_timer, redis_link_retry_cb,
        redis_link_backoff_ms(link), 0);
}

/*
 * Drops the current connection, if any, and waits for the next attempt.
 * hiredis completes the pending commands with a NULL reply.
 */
static void
redis_link_fail(struct redis_link *link, int err)
{
    redisAsyncContext *ac = link->ac;

    link->ac = NULL;
    for (size_t i = 0; i < link->n_subs; i++)
        link->subs[i].confirmed = false;
    if (ac != NULL)
        redisAsyncFree(ac);
    if (link->freeing)
        return;
    redis_link_schedule_retry(link);
    redis_link_set_state(link, REDIS_LINK_DISCONNECTED, err);
}

static void
redis_link_become_ready(struct redis_link *link)
{
    uv_timer_stop(&link->connect_timer);
    link->errstr[0] = '\0';
    redis_link_set_state(link, REDIS_LINK_READY, 0);
}

static void
redis_sub_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    const redisReply *reply = r;
    struct redis_sub *sub = privdata;

    /* NULL: the context is going away, perhaps with the link. */
    if (reply == NULL)
        return;
    struct redis_link *link = sub->link;
    if (link->ac != ac || reply->type != REDIS_REPLY_ARRAY ||
        reply->elements < 3 ||
        reply->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = reply->element[0]->str;
    if (strcasecmp(kind, "subscribe") == 0) {
        sub->confirmed = true;
        if (link->state != REDIS_LINK_CONNECTING)
            return;
        for (size_t i = 0; i < link->n_subs; i++)
            if (!link->subs[i].confirmed)
                return;
        redis_link_become_ready(link);
    } else if (strcasecmp(kind, "message") == 0 &&
        reply->element[2]->type == REDIS_REPLY_STRING) {
        if (sub->cb != NULL)
            sub->cb(link, sub->channel, reply->element[2]->str,
                reply->element[2]->len, sub->arg);
    }
}

/*
 * TODO: a subscriber link sends nothing after SUBSCRIBE, so a Redis that
 * stops replying (but keeps the TCP connection) goes unnoticed until TCP
 * fails.  Agents still see such a Redis through the timed plan re-read on
 * their command link, whose commands time out.
 */
static void
redis_link_send_subscribe(struct redis_link *link, struct redis_sub *sub)
{
    if (redisAsyncCommand(link->ac, redis_sub_cb, sub, "SUBSCRIBE %s",
        sub->channel) != REDIS_OK) {
        redis_link_set_error(link, "SUBSCRIBE could not be sent");
        redis_link_fail(link, -EIO);
    }
}

static void
redis_link_setname_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    const redisReply *reply = r;
    struct redis_link *link = privdata;

    if (reply == NULL || link->ac != ac)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        redis_link_set_error(link, "CLIENT SETNAME failed: %s", reply->str);
        redis_link_fail(link, -EIO);
        return;
    }
    if (!link->subscriber || link->n_subs == 0) {
        redis_link_become_ready(link);
        return;
    }
    for (size_t i = 0; i < link->n_subs && link->ac == ac; i++)
        redis_link_send_subscribe(link, &link->subs[i]);
}

static void
redis_link_send_setname(struct redis_link *link)
{
    if (redisAsyncCommand(link->ac, redis_link_setname_cb, link,
        "CLIENT SETNAME %s", link->name) != REDIS_OK) {
        redis_link_set_error(link, "CLIENT SETNAME could not be sent");
        redis_link_fail(link, -EIO);
    }
}

static void
redis_link_auth_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    const redisReply *reply = r;
    struct redis_link *link = privdata;

    if (reply == NULL || link->ac != ac)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        /* Redis 7 replies "WRONGPASS invalid username-password pair or
         * user is disabled."; it never echoes the password. */
        redis_link_set_error(link, "authentication failed for user %s: %s",
            link->user != NULL ? link->user : "default", reply->str);
        redis_link_fail(link, -EACCES);
        return;
    }
    redis_link_send_setname(link);
}

/* Sends AUTH [user] password (Redis 6 and later take the user). */
static void
redis_link_send_auth(struct redis_link *link)
{
    const char *argv[3] = { "AUTH" };
    size_t argvlen[3] = { 4 };
    int argc = 1;

    if (link->user != NULL) {
        argv[argc] = link->user;
        argvlen[argc++] = strlen(link->user);
    }
    argv[argc] = link->password;
    argvlen[argc++] = strlen(link->password);
    if (redisAsyncCommandArgv(link->ac, redis_link_auth_cb, link, argc, argv,
        argvlen) != REDIS_OK) {
        redis_link_set_error(link, "AUTH could not be sent");
        redis_link_fail(link, -EIO);
    }
}

static void
redis_link_connect_cb(const redisAsyncContext *ac, int status)
{
    struct redis_link *link = ac->data;

    if (link->ac != ac)
        return;
    if (status != REDIS_OK) {
        /* hiredis frees the context when this returns. */
        redis_link_set_error(link, "%s", ac->errstr);
        link->ac = NULL;
        redis_link_fail(link, redis_link_map_error(ac));
        return;
    }
    if (link->password != NULL)
        redis_link_send_auth(link);
    else
        redis_link_send_setname(link);
}

static void
redis_link_disconnect_cb(const redisAsyncContext *ac, int status)
{
    struct redis_link *link = ac->data;

    if (link->ac != ac)
        return;
    if (status == REDIS_OK || ac->err == 0)
        redis_link_set_error(link, "connection closed");
    else
        redis_link_set_error(link, "%s", ac->errstr);
    link->ac = NULL;
    redis_link_fail(link, status == REDIS_OK ? -ECONNRESET :
        redis_link_map_error(ac));
}

static void
redis_link_connect_timeout_cb(uv_timer_t *timer)
{
    struct redis_link *link = timer->data;

    if (link->state != REDIS_LINK_CONNECTING)
        return;
    redis_link_set_error(link, "connect timed out after %u ms",
        (unsigned)link->connect_timeout_ms);
    redis_link_fail(link, -ETIMEDOUT);
}

static void
redis_link_connect(struct redis_link *link)
{
    redisAsyncContext *ac = redisAsyncConnect(link->host, link->port);
    int err = -ENOMEM;

    if (ac == NULL) {
        redis_link_set_error(link, "out of memory");
        goto fail;
    }
    if (ac->err != 0) {
        redis_link_set_error(link, "%s", ac->errstr);
        err = redis_link_map_error(ac);
        redisAsyncFree(ac);
        goto fail;
    }
    if ((err = redis_io_attach(link, ac)) < 0) {
        redis_link_set_error(link, "%s", uv_strerror(err));
        redisAsyncFree(ac);
        goto fail;
    }
    ac->data = link;
    link->ac = ac;
    /* Setting the connect callback arms the first write event. */
    redisAsyncSetConnectCallback(ac, redis_link_connect_cb);
    redisAsyncSetDisconnectCallback(ac, redis_link_disconnect_cb);
    uv_update_time(link->loop);
    uv_timer_start(&link->connect_timer, redis_link_connect_timeout_cb,
        link->connect_timeout_ms, 0);
    redis_link_set_state(link, REDIS_LINK_CONNECTING, 0);
    return;
fail:
    redis_link_fail(link, err);
}

static void
redis_link_retry_cb(uv_timer_t *timer)
{
    redis_link_connect(timer->data);
}

/* --- public API ------------------------------------------------------ */

static bool
redis_link_name_is_valid(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++)
        if (name[i] <= ' ' || name[i] > '~')
            return false;
    return true;
}

static char *
redis_link_strdup(const char *s, bool *failed)
{
    char *copy;

    if (s == NULL)
        return NULL;
    if ((copy = strdup(s)) == NULL)
        *failed = true;
    return copy;
}

static void
redis_link_destroy(struct redis_link *link)
{
    if (link->password != NULL) {
        OPENSSL_cleanse(link->password, strlen(link->password));
        free(link->password);
    }
    for (size_t i = 0; i < link->n_subs; i++)
        free(link->subs[i].channel);
    free(link->name);
    free(link->host);
    free(link->user);
    free(link);
}

static void
redis_link_timer_close_cb(uv_handle_t *handle)
{
    struct redis_link *link = handle->data;

    if (--link->open_handles == 0)
        redis_link_destroy(link);
}

struct redis_link *
redis_link_new(uv_loop_t *loop, const struct redis_link_options *opts,
    redis_link_state_fn *state_cb, void *arg)
{
    unsigned char addr[sizeof(struct in6_addr)];
    const char *name = opts->name != NULL ? opts->name : "ikeshift";
    bool failed = false;
    struct redis_link *link;

    if (opts->host == NULL || opts->port == 0 ||
        !redis_link_name_is_valid(name) ||
        (inet_pton(AF_INET, opts->host, addr) != 1 &&
        inet_pton(AF_INET6, opts->host, addr) != 1))
        return NULL;
    if ((link = calloc(1, sizeof(*link))) == NULL)
        return NULL;
    link->loop = loop;
    link->name = redis_link_strdup(name, &failed);
    link->host = redis_link_strdup(opts->host, &failed);
    link->user = redis_link_strdup(opts->user, &failed);
    link->password = redis_link_strdup(opts->password, &failed);
    if (failed) {
        redis_link_destroy(link);
        return NULL;
    }
    link->port = opts->port;
    link->connect_timeout_ms = opts->connect_timeout_ms != 0 ?
        opts->connect_timeout_ms : REDIS_LINK_CONNECT_TIMEOUT_MS;
    link->command_timeout_ms = opts->command_timeout_ms != 0 ?
        opts->command_timeout_ms : REDIS_LINK_COMMAND_TIMEOUT_MS;
    link->backoff_min_ms = opts->backoff_min_ms != 0 ?
        opts->backoff_min_ms : REDIS_LINK_BACKOFF_MIN_MS;
    link->backoff_max_ms = opts->backoff_max_ms != 0 ?
        opts->backoff_max_ms : REDIS_LINK_BACKOFF_MAX_MS;
    if (link->backoff_max_ms < link->backoff_min_ms)
        link->backoff_max_ms = link->backoff_min_ms;
    link->subscriber = opts->subscriber;
    link->state_cb = state_cb;
    link->state_arg = arg;
    link->rng = uv_hrtime() ^ ((uint64_t)getpid() << 32) ^
        (uint64_t)(uintptr_t)link;
    if (link->rng == 0)
        link->rng = 1;
    uv_timer_init(loop, &link->connect_timer);
    uv_timer_init(loop, &link->retry_timer);
    uv_timer_init(loop, &link->command_timer);
    link->connect_timer.data = link;
    link->retry_timer.data = link;
    link->command_timer.data = link;
    link->open_handles = 3;
    return link;
}

int
redis_link_start(struct redis_link *link)
{
    if (link->started)
        return -EALREADY;
    link->started = true;
    redis_link_connect(link);
    return 0;
}

void
redis_link_free(struct redis_link *link)
{
    if (link == NULL || link->freeing)
        return;
    link->freeing = true;
    uv_timer_stop(&link->connect_timer);
    uv_timer_stop(&link->retry_timer);
    uv_timer_stop(&link->command_timer);
    redisAsyncContext *ac = link->ac;
    link->ac = NULL;
    if (ac != NULL)
        redisAsyncFree(ac);
    uv_close((uv_handle_t *)&link->connect_timer, redis_link_timer_close_cb);
    uv_close((uv_handle_t *)&link->retry_timer, redis_link_timer_close_cb);
    uv_close((uv_handle_t *)&link->command_timer, redis_link_timer_close_cb);
}

int
redis_link_subscribe(struct redis_link *link, const char *channel,
    redis_message_fn *cb, void *arg)
{
    if (!link->subscriber || channel == NULL || channel[0] == '\0')
        return -EINVAL;
    for (size_t i = 0; i < link->n_subs; i++)
        if (strcmp(link->subs[i].channel, channel) == 0)
            return -EINVAL;
    if (link->n_subs == REDIS_LINK_MAX_CHANNELS)
        return -ENOSPC;
    struct redis_sub *sub = &link->subs[link->n_subs];
    if ((sub->channel = strdup(channel)) == NULL)
        return -ENOMEM;
    sub->link = link;
    sub->cb = cb;
    sub->arg = arg;
    sub->confirmed = false;
    link->n_subs++;
    if (link->state == REDIS_LINK_READY && link->ac != NULL)
        redis_link_send_subscribe(link, sub);
    return 0;
}

enum redis_link_state
redis_link_get_state(const struct redis_link *link)
{
    return link->state;
}

const char *
redis_link_get_error(const struct redis_link *link)
{
    return link->errstr;
}
