/*
 * Leader lease over Redis; leader.h describes the protocol.
 */
#include "leader.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt/keys.h"
#include "rt/log.h"
#include "rt/redis_link.h"

/*
 * Sets the lease if it is free and takes a new term.  Returns {term,
 * epoch, unreadable}: term 0 when the lease is held by someone else;
 * epoch of the stored plan, 0 without one; unreadable 1 when a plan
 * exists whose epoch could not be read.  Reading the epoch after the INCR
 * sees every write of earlier terms, because those are fenced by term.
 */
static const char leader_acquire_lua[] =
    "if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then\n"
    "  return {0, 0, 0}\n"
    "end\n"
    "local term = redis.call('INCR', KEYS[2])\n"
    "local plan = redis.call('GET', KEYS[3])\n"
    "if not plan then return {term, 0, 0} end\n"
    "local ok, doc = pcall(cjson.decode, plan)\n"
    "if ok and type(doc) == 'table' and type(doc.epoch) == 'number' then\n"
    "  return {term, doc.epoch, 0}\n"
    "end\n"
    "return {term, 0, 1}\n";

static const char leader_renew_lua[] =
    LEADER_LUA_FENCE
    "return redis.call('PEXPIRE', KEYS[1], ARGV[3])\n";

static const char leader_release_lua[] =
    LEADER_LUA_FENCE
    "return redis.call('DEL', KEYS[1])\n";

enum leader_op {
    LEADER_OP_ACQUIRE,
    LEADER_OP_RENEW,
    LEADER_OP_RELEASE,
};

struct leader {
    uv_loop_t *loop;
    struct redis_link *link;
    uv_timer_t timer;
    char id[CLUSTER_ID_MAX + 1];
    uint32_t ttl_ms;
    uint32_t renew_ms;
    leader_change_fn *cb;
    void *arg;
    bool running;
    bool leading;
    uint64_t term;
    uint64_t stored_epoch;
    uint64_t valid_until_ms;    /* on uv_now(): local end of the lease */
    uint64_t sent_at_ms;        /* of the command in flight */
    enum leader_op op;          /* of the command in flight */
    unsigned inflight;
    uint64_t errors;            /* lease commands that failed */
    bool freed;                 /* leader_free() was called */
    bool timer_closed;
    leader_done_fn *done_cb;
    void *done_arg;
};

static void leader_tick_cb(uv_timer_t *timer);

/* Frees the memory once the timer is closed and no reply is due. */
static void
leader_maybe_destroy(struct leader *l)
{
    if (l->freed && l->timer_closed && l->inflight == 0)
        free(l);
}

static void
leader_timer_close_cb(uv_handle_t *handle)
{
    struct leader *l = handle->data;

    l->timer_closed = true;
    leader_maybe_destroy(l);
}

/* Drift margin: the local lease ends this much before Redis's. */
static uint64_t
leader_margin_ms(const struct leader *l)
{
    uint64_t m = l->ttl_ms / 10;

    return m < 50 ? 50 : m;
}

static void
leader_step_down(struct leader *l, const char *why)
{
    if (!l->leading)
        return;
    l->leading = false;
    log_notice("leader", "lost leadership; id=%s term=%" PRIu64 " reason=%s",
        l->id, l->term, why);
    if (!l->freed && l->cb != NULL)
        l->cb(l, false, l->arg);
}

struct leader *
leader_new(uv_loop_t *loop, struct redis_link *link,
    const struct leader_config *cfg, leader_change_fn *cb, void *arg)
{
    struct leader *l;
    uint32_t ttl = cfg->ttl_ms != 0 ? cfg->ttl_ms : LEADER_TTL_MS_DEFAULT;
    uint32_t renew = cfg->renew_ms != 0 ? cfg->renew_ms : ttl / 3;

    if (cfg->id == NULL || !cluster_id_is_valid(cfg->id, strlen(cfg->id),
        false))
        return NULL;
    if (ttl < LEADER_TTL_MS_MIN || renew == 0 || renew >= ttl)
        return NULL;
    if ((l = calloc(1, sizeof(*l))) == NULL)
        return NULL;
    l->loop = loop;
    l->link = link;
    snprintf(l->id, sizeof(l->id), "%s", cfg->id);
    l->ttl_ms = ttl;
    l->renew_ms = renew;
    l->cb = cb;
    l->arg = arg;
    uv_timer_init(loop, &l->timer);
    l->timer.data = l;
    return l;
}

int
leader_start(struct leader *l)
{
    l->running = true;
    uv_timer_start(&l->timer, leader_tick_cb, 0, l->renew_ms);
    return 0;
}

void
leader_stop(struct leader *l)
{
    l->running = false;
    uv_timer_stop(&l->timer);
    leader_step_down(l, "stopped");
}

/* Handles the reply to an acquire script. */
static void
leader_on_acquire(struct leader *l, const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_INTEGER ||
        r->element[1]->type != REDIS_REPLY_INTEGER ||
        r->element[2]->type != REDIS_REPLY_INTEGER) {
        log_error("leader", "unexpected reply to the lease script; id=%s",
            l->id);
        return;
    }
    if (r->element[0]->integer <= 0)
        return;     /* another controller holds the lease */
    l->term = (uint64_t)r->element[0]->integer;
    l->stored_epoch = r->element[1]->integer > 0 ?
        (uint64_t)r->element[1]->integer : 0;
    if (r->element[2]->integer != 0)
        log_warn("leader", "stored plan has no readable epoch; key=%s",
            KEYS_PLAN);
    l->valid_until_ms = l->sent_at_ms + l->ttl_ms - leader_margin_ms(l);
    l->leading = true;
    log_notice("leader", "became leader; id=%s term=%" PRIu64
        " stored_epoch=%" PRIu64 " ttl_ms=%" PRIu32, l->id, l->term,
        l->stored_epoch, l->ttl_ms);
    if (l->cb != NULL)
        l->cb(l, true, l->arg);
}

static void
leader_on_renew(struct leader *l, const redisReply *r)
{
    if (r->type != REDIS_REPLY_INTEGER) {
        log_error("leader", "unexpected reply to the renew script; id=%s",
            l->id);
        return;
    }
    if (r->integer != 1) {
        leader_step_down(l, "lease_taken");
        return;
    }
    if (l->leading)
        l->valid_until_ms = l->sent_at_ms + l->ttl_ms - leader_margin_ms(l);
}

static void
leader_reply_cb(struct redis_link *link, int status, const redisReply *reply,
    void *arg)
{
    struct leader *l = arg;

    (void)link;
    l->inflight--;
    if (l->freed) {
        leader_maybe_destroy(l);
        return;
    }
    if (status != 0) {
        const char *text = reply != NULL && reply->str != NULL ?
            reply->str : "";

        l->errors++;
        /* The lease script fails on a value when a lease key holds
         * something else, for example after a manual SET, so the log
         * names the keys. */
        log_error("leader", "lease command failed; id=%s error=%d text=%s%s",
            l->id, status, text, strstr(text, "not an integer") != NULL ?
            "; hint: " KEYS_LEADER_TERM " must hold an integer term and "
            KEYS_LEADER " the leader's id" : "");
        return;
    }
    if (l->op == LEADER_OP_RENEW && l->leading)
        leader_on_renew(l, reply);
    else if (l->op == LEADER_OP_ACQUIRE && l->running)
        leader_on_acquire(l, reply);
}

static void
leader_release_cb(struct redis_link *link, int status,
    const redisReply *reply, void *arg)
{
    struct leader *l = arg;
    leader_done_fn *cb = l->done_cb;

    (void)link;
    l->inflight--;
    l->done_cb = NULL;
    if (status != 0)
        log_error("leader", "lease release failed; id=%s error=%d text=%s",
            l->id, status, reply != NULL && reply->str != NULL ?
            reply->str : "");
    else if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1)
        log_notice("leader", "released the lease; id=%s term=%" PRIu64,
            l->id, l->term);
    if (!l->freed && cb != NULL)
        cb(l, status, l->done_arg);
    leader_maybe_destroy(l);
}

/* Sends one lease script with the standard keys and arguments. */
static int
leader_send(struct leader *l, enum leader_op op, redis_reply_fn *cb)
{
    char term[24], ttl[16];
    const char *script = op == LEADER_OP_ACQUIRE ? leader_acquire_lua :
        op == LEADER_OP_RENEW ? leader_renew_lua : leader_release_lua;
    int rc;

    snprintf(term, sizeof(term), "%" PRIu64, l->term);
    snprintf(ttl, sizeof(ttl), "%" PRIu32, l->ttl_ms);
    if (op == LEADER_OP_ACQUIRE)
        rc = redis_link_command(l->link, cb, l, "EVAL %s 3 %s %s %s %s %s",
            script, KEYS_LEADER, KEYS_LEADER_TERM, KEYS_PLAN, l->id, ttl);
    else
        rc = redis_link_command(l->link, cb, l, "EVAL %s 2 %s %s %s %s %s",
            script, KEYS_LEADER, KEYS_LEADER_TERM, l->id, term, ttl);
    if (rc == 0) {
        l->inflight++;
        l->op = op;
        l->sent_at_ms = uv_now(l->loop);
    }
    return rc;
}

static void
leader_tick_cb(uv_timer_t *timer)
{
    struct leader *l = timer->data;

    uv_update_time(l->loop);
    if (l->leading && uv_now(l->loop) >= l->valid_until_ms)
        leader_step_down(l, "renewal_not_confirmed");
    if (l->inflight > 0)
        return;
    if (redis_link_get_state(l->link) != REDIS_LINK_READY)
        return;
    leader_send(l, l->leading ? LEADER_OP_RENEW : LEADER_OP_ACQUIRE,
        leader_reply_cb);
}

void
leader_release(struct leader *l, leader_done_fn *cb, void *arg)
{
    bool was_leading = l->leading;

    l->running = false;
    uv_timer_stop(&l->timer);
    leader_step_down(l, "released");
    if (!was_leading) {
        if (cb != NULL)
            cb(l, 0, arg);
        return;
    }
    l->done_cb = cb;
    l->done_arg = arg;
    if (leader_send(l, LEADER_OP_RELEASE, leader_release_cb) < 0) {
        log_error("leader", "lease release not sent; id=%s reason=%s",
            l->id, "link not ready");
        l->done_cb = NULL;
        if (cb != NULL)
            cb(l, -ENOTCONN, arg);
    }
}

void
leader_free(struct leader *l)
{
    if (l == NULL)
        return;
    l->freed = true;
    l->running = false;
    uv_timer_stop(&l->timer);
    uv_close((uv_handle_t *)&l->timer, leader_timer_close_cb);
}

bool
leader_is_leading(const struct leader *l)
{
    return l->leading;
}

uint64_t
leader_get_term(const struct leader *l)
{
    return l->term;
}

uint64_t
leader_get_stored_epoch(const struct leader *l)
{
    return l->stored_epoch;
}

uint64_t
leader_get_errors(const struct leader *l)
{
    return l->errors;
}

const char *
leader_get_id(const struct leader *l)
{
    return l->id;
}

int
leader_get_fence(const struct leader *l, struct leader_fence *out)
{
    if (!l->leading)
        return -EAGAIN;
    memcpy(out->id, l->id, sizeof(out->id));
    out->term = l->term;
    return 0;
}
