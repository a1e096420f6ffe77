/*
 * The controller's Redis reads and fenced writes; store.h describes them.
 */
#include "store.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt/cluster_plan.h"
#include "rt/cluster_report.h"
#include "rt/log.h"
#include "rt/redis_link.h"

/* Lines about one bad key at most this often. */
#define STORE_WARN_INTERVAL_MS  10000
#define STORE_WARN_KEYS         256

/*
 * Returns {key1, value1, key2, value2, ...} for at most ARGV[2] keys that
 * match ARGV[1].  A key that is not a string comes back with false (a nil
 * reply) so that the caller reports its type; a key that expired after
 * the SCAN is left out.
 */
static const char store_reports_lua[] =
    "local out, cursor, n = {}, '0', 0\n"
    "local max = tonumber(ARGV[2])\n"
    "repeat\n"
    "  local r = redis.call('SCAN', cursor, 'MATCH', ARGV[1], "
    "'COUNT', 1000)\n"
    "  cursor = r[1]\n"
    "  for _, k in ipairs(r[2]) do\n"
    "    if n >= max then return out end\n"
    "    local v = redis.pcall('GET', k)\n"
    "    if v then\n"
    "      if type(v) ~= 'string' then v = false end\n"
    "      out[#out + 1] = k\n"
    "      out[#out + 1] = v\n"
    "      n = n + 1\n"
    "    end\n"
    "  end\n"
    "until cursor == '0'\n"
    "return out\n";

static const char store_state_lua[] =
    "return {redis.call('HGETALL', KEYS[1]), "
    "redis.call('HGETALL', KEYS[2])}\n";

/* KEYS: lease, term, plan.  ARGV: id, term, plan text, channel, epoch. */
static const char store_plan_lua[] =
    LEADER_LUA_FENCE
    "redis.call('SET', KEYS[3], ARGV[3])\n"
    "redis.call('PUBLISH', ARGV[4], ARGV[5])\n"
    "return 1\n";

/* KEYS: lease, term, admin, drains.  ARGV: id, term, gateway, admin
 * name, drain JSON or "" to remove the drain. */
static const char store_gateway_lua[] =
    LEADER_LUA_FENCE
    "redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])\n"
    "if ARGV[5] == '' then redis.call('HDEL', KEYS[4], ARGV[3])\n"
    "else redis.call('HSET', KEYS[4], ARGV[3], ARGV[5]) end\n"
    "return 1\n";

/* KEYS: lease, term, stream.  ARGV: id, term, maxlen, field, value... */
static const char store_move_lua[] =
    LEADER_LUA_FENCE
    "redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', "
    "unpack(ARGV, 4))\n"
    "return 1\n";

struct store {
    struct redis_link *link;
    struct log_ratelimit *warn_limit;
    struct store_stats stats;
    unsigned inflight;
    bool freed;
};

/* One command in flight. */
struct store_req {
    struct store *s;
    const char *what;           /* for logs */
    store_reports_fn *reports_cb;
    store_state_fn *state_cb;
    store_write_fn *write_cb;
    store_plan_fn *plan_cb;
    void *arg;
};

struct store *
store_new(struct redis_link *link)
{
    struct store *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->link = link;
    s->warn_limit = log_ratelimit_new(1, STORE_WARN_INTERVAL_MS,
        STORE_WARN_KEYS);
    if (s->warn_limit == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

static void
store_destroy(struct store *s)
{
    log_ratelimit_free(s->warn_limit);
    free(s);
}

void
store_free(struct store *s)
{
    if (s == NULL)
        return;
    s->freed = true;
    if (s->inflight == 0)
        store_destroy(s);
}

const struct store_stats *
store_get_stats(const struct store *s)
{
    return &s->stats;
}

int
store_parse_admin(const char *name, size_t len,
    enum cluster_admin_state *out)
{
    for (int i = CLUSTER_ADMIN_ACTIVE; i <= CLUSTER_ADMIN_MAINTENANCE; i++) {
        const char *n = cluster_admin_state_name(i);

        if (strlen(n) == len && memcmp(n, name, len) == 0) {
            *out = i;
            return 0;
        }
    }
    return -EINVAL;
}

static struct store_req *
store_req_new(struct store *s, const char *what, void *arg)
{
    struct store_req *req = calloc(1, sizeof(*req));

    if (req == NULL)
        return NULL;
    req->s = s;
    req->what = what;
    req->arg = arg;
    return req;
}

/* Counts a request that was sent, or frees it when sending failed (rc,
 * the result of redis_link_command()); returns 0 or rc. */
static int
store_sent(struct store *s, struct store_req *req, int rc)
{
    if (rc < 0) {
        free(req);
        return rc;
    }
    s->inflight++;
    return 0;
}

/*
 * Takes the request back from a reply callback.  Returns the store when
 * its callbacks may still run, else NULL (the store may be gone).
 */
static struct store *
store_req_finish(struct store_req *req, int status,
    const redisReply *reply)
{
    struct store *s = req->s;

    s->inflight--;
    if (s->freed) {
        if (s->inflight == 0)
            store_destroy(s);
        return NULL;
    }
    if (status != 0) {
        s->stats.redis_errors++;
        log_error("store", "redis command failed; command=%s error=%d "
            "text=%s", req->what, status, reply != NULL &&
            reply->str != NULL ? reply->str : "");
    }
    return s;
}

/* Warns about one bad value, at most once per key and interval. */
static void
store_warn_value(struct store *s, const char *key, size_t key_len,
    const char *err)
{
    char ekey[LOG_ESCAPE_SIZE(KEYS_REPORT_SIZE)];
    char eerr[LOG_ESCAPE_SIZE(CLUSTER_ERR_SIZE)];
    log_escape(ekey, sizeof(ekey), key, key_len);
    log_escape_str(eerr, sizeof(eerr), err);
    log_write_limited(s->warn_limit, key, key_len,
        uv_hrtime() / 1000000, LOG_LEVEL_WARN, "store",
        "invalid value skipped; key=%s error=%s", ekey, eerr);
}

/* Parses one report value; returns 0 or -EINVAL after counting it. */
static int
store_parse_report(struct store *s, const redisReply *key,
    const redisReply *val, struct cluster_report *out)
{
    char err[CLUSTER_ERR_SIZE];
    size_t plen = sizeof(KEYS_REPORT_PREFIX) - 1;

    if (key->type != REDIS_REPLY_STRING) {
        s->stats.reports_invalid++;
        return -EINVAL;
    }
    if (val->type != REDIS_REPLY_STRING) {
        snprintf(err, sizeof(err), "wrong Redis type: expected a string"
            " holding a JSON report");
        goto bad;
    }
    if (cluster_report_parse(val->str, val->len, out, err,
        sizeof(err)) < 0)
        goto bad;
    if (key->len != plen + strlen(out->gateway_id) ||
        memcmp(key->str + plen, out->gateway_id, key->len - plen) != 0) {
        snprintf(err, sizeof(err), "report.gateway_id: %s differs from "
            "the key", out->gateway_id);
        goto bad;
    }
    s->stats.reports_read++;
    return 0;
bad:
    s->stats.reports_invalid++;
    store_warn_value(s, key->str, key->len, err);
    return -EINVAL;
}

static void
store_reports_reply_cb(struct redis_link *link, int status,
    const redisReply *reply, void *arg)
{
    struct store_req *req = arg;
    struct store *s = store_req_finish(req, status, reply);
    struct cluster_report *reports = NULL;
    size_t n = 0;

    (void)link;
    if (s == NULL)
        goto out;
    if (status == 0 && reply->type != REDIS_REPLY_ARRAY)
        status = -EPROTO;
    if (status == 0 && reply->elements > 0) {
        reports = calloc(reply->elements / 2, sizeof(*reports));
        if (reports == NULL)
            status = -ENOMEM;
    }
    for (size_t i = 0; status == 0 && i + 1 < reply->elements; i += 2)
        if (store_parse_report(s, reply->element[i], reply->element[i + 1],
            &reports[n]) == 0)
            n++;
    req->reports_cb(s, status, reports, n, req->arg);
out:
    free(reports);
    free(req);
}

int
store_read_reports(struct store *s, store_reports_fn *cb, void *arg)
{
    struct store_req *req = store_req_new(s, "read_reports", arg);
    char max[16];
    int rc;

    if (req == NULL)
        return -ENOMEM;
    req->reports_cb = cb;
    snprintf(max, sizeof(max), "%d", STORE_MAX_REPORTS);
    rc = redis_link_command(s->link, store_reports_reply_cb, req,
        "EVAL %s 0 %s* %s", store_reports_lua, KEYS_REPORT_PREFIX, max);
    return store_sent(s, req, rc);
}

/* Reads the admin hash's flat reply into `out`; returns the count. */
static size_t
store_parse_admin_reply(struct store *s, const redisReply *r,
    struct store_admin *out)
{
    size_t n = 0;

    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (!cluster_id_is_valid(k->str, k->len, false) ||
            store_parse_admin(v->str, v->len, &out[n].admin) < 0) {
            store_warn_value(s, k->str, k->len, "admin: invalid entry, "
                "expected a gateway id and active, draining, drained or "
                "maintenance");
            continue;
        }
        memcpy(out[n].gateway_id, k->str, k->len);
        out[n].gateway_id[k->len] = '\0';
        n++;
    }
    return n;
}

static size_t
store_parse_drains_reply(struct store *s, const redisReply *r,
    struct drain *out)
{
    size_t n = 0;
    char err[CLUSTER_ERR_SIZE];

    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (drain_parse(&out[n], v->str, v->len, err, sizeof(err)) < 0) {
            store_warn_value(s, k->str, k->len, err);
            continue;
        }
        if (strlen(out[n].gateway_id) != k->len ||
            memcmp(out[n].gateway_id, k->str, k->len) != 0) {
            store_warn_value(s, k->str, k->len,
                "drain.gateway_id: differs from the hash field");
            continue;
        }
        n++;
    }
    return n;
}

static void
store_state_reply_cb(struct redis_link *link, int status,
    const redisReply *reply, void *arg)
{
    struct store_req *req = arg;
    struct store *s = store_req_finish(req, status, reply);
    struct store_admin *admin = NULL;
    struct drain *drains = NULL;
    struct store_state st = { 0 };

    (void)link;
    if (s == NULL)
        goto out;
    if (status == 0 && (reply->type != REDIS_REPLY_ARRAY ||
        reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_ARRAY ||
        reply->element[1]->type != REDIS_REPLY_ARRAY))
        status = -EPROTO;
    if (status == 0) {
        admin = calloc(reply->element[0]->elements / 2 + 1, sizeof(*admin));
        drains = calloc(reply->element[1]->elements / 2 + 1,
            sizeof(*drains));
        if (admin == NULL || drains == NULL)
            status = -ENOMEM;
    }
    if (status == 0) {
        st.n_admin = store_parse_admin_reply(s, reply->element[0], admin);
        st.admin = admin;
        st.n_drains = store_parse_drains_reply(s, reply->element[1],
            drains);
        st.drains = drains;
    }
    req->state_cb(s, status, status == 0 ? &st : NULL, req->arg);
out:
    free(admin);
    free(drains);
    free(req);
}

int
store_load_state(struct store *s, store_state_fn *cb, void *arg)
{
    struct store_req *req = store_req_new(s, "load_state", arg);
    int rc;

    if (req == NULL)
        return -ENOMEM;
    req->state_cb = cb;
    rc = redis_link_command(s->link, store_state_reply_cb, req,
        "EVAL %s 2 %s %s", store_state_lua, KEYS_ADMIN, STORE_DRAINS_KEY);
    return store_sent(s, req, rc);
}

/* Completes a plan read: the text, or -ENOENT when no plan is stored. */
static void
store_plan_reply_cb(struct redis_link *link, int status,
    const redisReply *reply, void *arg)
{
    struct store_req *req = arg;
    struct store *s = store_req_finish(req, status, reply);

    (void)link;
    if (s == NULL)
        goto out;
    if (status == 0 && reply->type == REDIS_REPLY_NIL)
        status = -ENOENT;
    else if (status == 0 && reply->type != REDIS_REPLY_STRING)
        status = -EPROTO;
    if (status == 0)
        req->plan_cb(s, 0, reply->str, reply->len, req->arg);
    else
        req->plan_cb(s, status, NULL, 0, req->arg);
out:
    free(req);
}

int
store_read_plan(struct store *s, store_plan_fn *cb, void *arg)
{
    struct store_req *req = store_req_new(s, "read_plan", arg);
    int rc;

    if (req == NULL)
        return -ENOMEM;
    req->plan_cb = cb;
    rc = redis_link_command(s->link, store_plan_reply_cb, req, "GET %s",
        KEYS_PLAN);
    return store_sent(s, req, rc);
}

/* Completes a fenced write: 1 written, 0 refused by the fence. */
static void
store_write_reply_cb(struct redis_link *link, int status,
    const redisReply *reply, void *arg)
{
    struct store_req *req = arg;
    struct store *s = store_req_finish(req, status, reply);

    (void)link;
    if (s == NULL)
        goto out;
    if (status == 0 && reply->type != REDIS_REPLY_INTEGER)
        status = -EPROTO;
    if (status == 0 && reply->integer != 1) {
        status = -EPERM;
        s->stats.writes_fenced++;
        log_warn("store", "write refused, lease not held; command=%s",
            req->what);
    }
    if (status == 0 && strcmp(req->what, "write_plan") == 0)
        s->stats.plans_written++;
    if (req->write_cb != NULL)
        req->write_cb(s, status, req->arg);
out:
    free(req);
}

/*
 * Sends a fenced script: argv[0..2] are filled here with EVAL, the
 * script and the key count; the caller fills the rest from argv[3].
 */
static int
store_send_fenced(struct store *s, const char *what, int argc,
    const char **argv, const size_t *argvlen, store_write_fn *cb, void *arg)
{
    struct store_req *req = store_req_new(s, what, arg);
    int rc;

    if (req == NULL)
        return -ENOMEM;
    req->write_cb = cb;
    rc = redis_link_command_argv(s->link, store_write_reply_cb, req, argc,
        argv, argvlen);
    return store_sent(s, req, rc);
}

/* Fills argv/argvlen entry i with a NUL-terminated string. */
static void
store_arg(const char **argv, size_t *argvlen, int i, const char *v)
{
    argv[i] = v;
    argvlen[i] = strlen(v);
}

int
store_write_plan(struct store *s, const struct leader_fence *fence,
    const struct cluster_plan *plan, store_write_fn *cb, void *arg)
{
    char err[CLUSTER_ERR_SIZE], term[24], epoch[24];
    char *text = NULL;
    const char *argv[11];
    size_t argvlen[11];
    int rc;

    if ((rc = cluster_plan_encode(plan, &text, err, sizeof(err))) < 0) {
        log_error("store", "plan not encoded; epoch=%" PRIu64 " error=%s",
            plan->epoch, err);
        return rc;
    }
    snprintf(term, sizeof(term), "%" PRIu64, fence->term);
    snprintf(epoch, sizeof(epoch), "%" PRIu64, plan->epoch);
    store_arg(argv, argvlen, 0, "EVAL");
    store_arg(argv, argvlen, 1, store_plan_lua);
    store_arg(argv, argvlen, 2, "3");
    store_arg(argv, argvlen, 3, KEYS_LEADER);
    store_arg(argv, argvlen, 4, KEYS_LEADER_TERM);
    store_arg(argv, argvlen, 5, KEYS_PLAN);
    store_arg(argv, argvlen, 6, fence->id);
    store_arg(argv, argvlen, 7, term);
    store_arg(argv, argvlen, 8, text);
    store_arg(argv, argvlen, 9, KEYS_PLAN_CHANNEL);
    store_arg(argv, argvlen, 10, epoch);
    rc = store_send_fenced(s, "write_plan", 11, argv, argvlen, cb, arg);
    free(text);
    return rc;
}

int
store_save_gateway(struct store *s, const struct leader_fence *fence,
    const char *gateway_id, enum cluster_admin_state admin,
    const struct drain *d, store_write_fn *cb, void *arg)
{
    char term[24];
    char *json = NULL;
    const char *argv[12];
    size_t argvlen[12];
    const char *admin_name = cluster_admin_state_name(admin);
    int rc;

    if (admin_name == NULL ||
        !cluster_id_is_valid(gateway_id, strlen(gateway_id), false))
        return -EINVAL;
    if (d != NULL && (json = drain_encode(d)) == NULL)
        return -ENOMEM;
    snprintf(term, sizeof(term), "%" PRIu64, fence->term);
    store_arg(argv, argvlen, 0, "EVAL");
    store_arg(argv, argvlen, 1, store_gateway_lua);
    store_arg(argv, argvlen, 2, "4");
    store_arg(argv, argvlen, 3, KEYS_LEADER);
    store_arg(argv, argvlen, 4, KEYS_LEADER_TERM);
    store_arg(argv, argvlen, 5, KEYS_ADMIN);
    store_arg(argv, argvlen, 6, STORE_DRAINS_KEY);
    store_arg(argv, argvlen, 7, fence->id);
    store_arg(argv, argvlen, 8, term);
    store_arg(argv, argvlen, 9, gateway_id);
    store_arg(argv, argvlen, 10, admin_name);
    store_arg(argv, argvlen, 11, json != NULL ? json : "");
    rc = store_send_fenced(s, "save_gateway", 12, argv, argvlen, cb, arg);
    free(json);
    return rc;
}

int
store_push_move(struct store *s, const struct leader_fence *fence,
    const char *gateway_id, const struct store_move *move,
    store_write_fn *cb, void *arg)
{
    char term[24], maxlen[16], at[24], key[sizeof(STORE_MOVES_PREFIX) +
        CLUSTER_ID_MAX];
    const char *argv[24];
    size_t argvlen[24];
    int n = 0;

    if (!cluster_id_is_valid(gateway_id, strlen(gateway_id), false))
        return -EINVAL;
    snprintf(key, sizeof(key), "%s%s", STORE_MOVES_PREFIX, gateway_id);
    snprintf(term, sizeof(term), "%" PRIu64, fence->term);
    snprintf(maxlen, sizeof(maxlen), "%d", STORE_MOVES_MAXLEN);
    snprintf(at, sizeof(at), "%" PRIu64, move->expires_at_ms);
    store_arg(argv, argvlen, n++, "EVAL");
    store_arg(argv, argvlen, n++, store_move_lua);
    store_arg(argv, argvlen, n++, "3");
    store_arg(argv, argvlen, n++, KEYS_LEADER);
    store_arg(argv, argvlen, n++, KEYS_LEADER_TERM);
    store_arg(argv, argvlen, n++, key);
    store_arg(argv, argvlen, n++, fence->id);
    store_arg(argv, argvlen, n++, term);
    store_arg(argv, argvlen, n++, maxlen);
    store_arg(argv, argvlen, n++, move->selector);
    store_arg(argv, argvlen, n++, move->value);
    store_arg(argv, argvlen, n++, "to");
    store_arg(argv, argvlen, n++, move->to);
    store_arg(argv, argvlen, n++, "target");
    store_arg(argv, argvlen, n++, move->target_id);
    store_arg(argv, argvlen, n++, "move_id");
    store_arg(argv, argvlen, n++, move->move_id);
    store_arg(argv, argvlen, n++, "expires_at_ms");
    store_arg(argv, argvlen, n++, at);
    return store_send_fenced(s, "push_move", n, argv, argvlen, cb, arg);
}
