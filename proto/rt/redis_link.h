/*
 * One connection to Redis for the ikeshift daemons, on a libuv loop, with
 * hiredis 0.14.1's asynchronous API underneath.  The link connects,
 * authenticates, reconnects with exponential backoff and jitter after any
 * failure, and times out connects and commands itself, because hiredis
 * 0.14 has no timeouts in its asynchronous API.
 *
 * A link is either a command link or a subscriber link, as Redis allows
 * no other commands on a connection in subscribed mode (RESP2).  A daemon
 * that needs both opens two links.
 *
 * All calls and callbacks happen on the loop's thread.  Each state change
 * is logged once under the component "redis"; the password never is.
 */
#ifndef IKESHIFT_RT_REDIS_LINK_H
#define IKESHIFT_RT_REDIS_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct redisReply;
struct redis_link;

/* Defaults for the zero fields of struct redis_link_options. */
#define REDIS_LINK_CONNECT_TIMEOUT_MS   2000
#define REDIS_LINK_COMMAND_TIMEOUT_MS   1000
#define REDIS_LINK_BACKOFF_MIN_MS       100
/* A 1 s cap keeps plans resuming within about 1.5 s of Redis's return
 * (measured 5-9 s with a 10 s cap after a 10 s outage); one connect a
 * second per daemon costs a Redis nothing. */
#define REDIS_LINK_BACKOFF_MAX_MS       1000

/* Channels one subscriber link may hold. */
#define REDIS_LINK_MAX_CHANNELS 16

enum redis_link_state {
    REDIS_LINK_IDLE,            /* created, redis_link_start() not called */
    REDIS_LINK_CONNECTING,      /* TCP connect, AUTH, SETNAME, SUBSCRIBE */
    REDIS_LINK_READY,           /* commands may be sent */
    REDIS_LINK_DISCONNECTED,    /* waiting for the next attempt */
};

struct redis_link_options {
    const char *name;           /* for logs and CLIENT SETNAME; copied */
    const char *host;           /* IPv4 or IPv6 address; copied */
    uint16_t port;
    const char *user;           /* ACL user, or NULL for "default"; copied */
    const char *password;       /* NULL: no AUTH; copied, wiped on free */
    uint32_t connect_timeout_ms;    /* connect through SUBSCRIBE */
    uint32_t command_timeout_ms;
    uint32_t backoff_min_ms;    /* first retry delay before jitter */
    uint32_t backoff_max_ms;    /* cap on the doubling delay */
    bool subscriber;            /* SUBSCRIBE only, no commands */
};

/*
 * Called on every state change.  `err` is 0 or the negative errno of the
 * failure that caused it: -ETIMEDOUT, -EACCES (AUTH rejected),
 * -ECONNRESET (connection closed), -EIO or another I/O error.
 * redis_link_get_error() has the text.
 */
typedef void redis_link_state_fn(struct redis_link *link,
    enum redis_link_state state, int err, void *arg);

/*
 * Called once per command.  `status` is 0 with the reply, -EIO with an
 * error reply (reply->str has Redis's text), -ETIMEDOUT or -ENOTCONN
 * (connection lost first) with reply NULL, or -ECANCELED during
 * redis_link_free().  The reply is borrowed: copy what you keep.
 */
typedef void redis_reply_fn(struct redis_link *link, int status,
    const struct redisReply *reply, void *arg);

/* Called for each message on a subscribed channel; both are borrowed. */
typedef void redis_message_fn(struct redis_link *link, const char *channel,
    const char *payload, size_t len, void *arg);

/*
 * Creates a link on `loop` (borrowed) that reports changes to `state_cb`
 * (may be NULL).  Options are copied.  Returns NULL when host is not an
 * IP address, port is 0, or out of memory.  Free with redis_link_free().
 */
struct redis_link *
redis_link_new(uv_loop_t *loop, const struct redis_link_options *opts,
    redis_link_state_fn *state_cb, void *arg);

/*
 * Starts the first connection attempt.  Returns 0, or -EALREADY when the
 * link was already started.
 */
int
redis_link_start(struct redis_link *link);

/*
 * Closes the connection and frees the link.  Pending commands complete
 * with -ECANCELED, some of them before this returns; no state callback
 * follows.  The memory is released in libuv close callbacks, so the loop
 * must run once more.  NULL is ignored.
 */
void
redis_link_free(struct redis_link *link);

/*
 * Sends a command in hiredis's format ("SET %s %b", ...).  Returns 0 and
 * later calls `cb` (may be NULL), or returns -ENOTCONN when the link is
 * not READY, -EINVAL on a subscriber link or a bad format, or -ENOMEM.
 * A command with no reply after command_timeout_ms completes with
 * -ETIMEDOUT, and the link then drops the connection and reconnects.
 */
int
redis_link_command(struct redis_link *link, redis_reply_fn *cb, void *arg,
    const char *fmt, ...);

/* As redis_link_command(), with argc arguments of argvlen[i] bytes. */
int
redis_link_command_argv(struct redis_link *link, redis_reply_fn *cb,
    void *arg, int argc, const char **argv, const size_t *argvlen);

/*
 * Subscribes a subscriber link to `channel` (copied), now if READY and on
 * every later connection.  READY is reported only after Redis confirmed
 * every channel, so a caller that re-reads its state on READY misses no
 * update.  Returns 0, -EINVAL on a command link or for a channel given
 * twice, or -ENOSPC beyond REDIS_LINK_MAX_CHANNELS.
 */
int
redis_link_subscribe(struct redis_link *link, const char *channel,
    redis_message_fn *cb, void *arg);

/* Returns the current state. */
enum redis_link_state
redis_link_get_state(const struct redis_link *link);

/*
 * Returns the text of the last failure ("" if none), lent until the next
 * state change.
 */
const char *
redis_link_get_error(const struct redis_link *link);

/* Returns "idle", "connecting", "ready" or "disconnected". */
const char *
redis_link_state_name(enum redis_link_state state);

#endif /* IKESHIFT_RT_REDIS_LINK_H */
