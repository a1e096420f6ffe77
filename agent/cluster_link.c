/*
 * The agent's cluster link: report, plan, drain and moves over Redis.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "cluster_link.h"
#include "rt/cluster_report.h"
#include "rt/keys.h"
#include "rt/log.h"
#include "rt/redis_link.h"

#define CPU_MAX_CORES 256
#define PROC_STAT_MAX 65536

struct cluster_link {
    uv_loop_t *loop;
    const struct cluster_link_config *cfg;
    struct policy_plan *plan;
    const struct cluster_link_ops *ops;
    struct redis_link *cmd;
    struct redis_link *sub;
    struct move_stream *moves;
    uv_timer_t report_timer;
    uv_timer_t reread_timer;
    uv_timer_t drain_timer;
    int open_handles;           /* timers not closed yet */
    char report_key[KEYS_REPORT_SIZE];
    enum cluster_agent_state state;
    bool plan_fetching;
    bool plan_again;            /* an epoch arrived during a GET */
    char *cpu_prev;             /* last /proc/stat text, or NULL */
    uint64_t proc_cpu_prev_ns;  /* the agent's CPU time at the last sample */
    uint64_t proc_wall_prev_ns; /* monotonic time of that sample, 0: none */
    uint64_t cpu_sample_ns;     /* monotonic time of the last CPU sample */
    uint16_t cpu_last_pm;       /* and its result */
    bool draining;              /* a plan drain is running */
    uint64_t drain_last_ms;     /* monotonic, previous drain tick */
    double drain_budget;        /* REDIRECTs due and not sent yet */
    size_t drain_rotate;        /* first target of the next tick */
    struct cluster_link_stats stats;
};

static uint64_t
wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Reads per-core busy and total jiffies from /proc/stat text. */
static size_t
cpu_parse(const char *text, unsigned long long *busy,
    unsigned long long *total)
{
    size_t n = 0;

    for (const char *line = text; line != NULL && *line != '\0' &&
        n < CPU_MAX_CORES; line = strchr(line, '\n')) {
        unsigned long long v[8] = { 0 };
        unsigned core;

        if (*line == '\n')
            line++;
        if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9')
            continue;
        if (sscanf(line, "cpu%u %llu %llu %llu %llu %llu %llu %llu %llu",
            &core, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
            &v[7]) < 5)
            continue;
        total[n] = 0;
        for (size_t i = 0; i < 8; i++)
            total[n] += v[i];
        /* idle and iowait are the 4th and 5th values. */
        busy[n] = total[n] - v[3] - v[4];
        n++;
    }
    return n;
}

uint16_t
cluster_cpu_busiest_permille(const char *prev, const char *cur)
{
    unsigned long long pb[CPU_MAX_CORES], pt[CPU_MAX_CORES];
    unsigned long long cb[CPU_MAX_CORES], ct[CPU_MAX_CORES];
    size_t np = cpu_parse(prev, pb, pt), nc = cpu_parse(cur, cb, ct);
    unsigned long long best = 0;

    for (size_t i = 0; i < np && i < nc; i++) {
        unsigned long long dt = ct[i] - pt[i], db = cb[i] - pb[i], pm;

        if (ct[i] <= pt[i] || cb[i] < pb[i])
            continue;
        pm = db * 1000 / dt;
        if (pm > best)
            best = pm;
    }
    return (uint16_t)(best > 1000 ? 1000 : best);
}

static char *
proc_stat_read(void)
{
    char *buf = malloc(PROC_STAT_MAX);
    size_t len = 0;
    ssize_t n;
    int fd;

    if (buf == NULL)
        return NULL;
    if ((fd = open("/proc/stat", O_RDONLY | O_CLOEXEC)) < 0) {
        free(buf);
        return NULL;
    }
    while (len + 1 < PROC_STAT_MAX &&
        (n = read(fd, buf + len, PROC_STAT_MAX - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = '\0';
    return buf;
}

/* Returns the agent's CPU time over wall time since the previous call, in
 * permille of one core. */
static uint16_t
cpu_sample_process(struct cluster_link *cl)
{
    struct timespec cpu, wall;
    uint64_t cpu_ns, wall_ns, pm = 0;

    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) < 0 ||
        clock_gettime(CLOCK_MONOTONIC, &wall) < 0)
        return 0;
    cpu_ns = (uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec;
    wall_ns = (uint64_t)wall.tv_sec * 1000000000u + (uint64_t)wall.tv_nsec;
    if (cl->proc_wall_prev_ns != 0 && wall_ns > cl->proc_wall_prev_ns)
        pm = (cpu_ns - cl->proc_cpu_prev_ns) * 1000 /
            (wall_ns - cl->proc_wall_prev_ns);
    cl->proc_cpu_prev_ns = cpu_ns;
    cl->proc_wall_prev_ns = wall_ns;
    return (uint16_t)(pm > 1000 ? 1000 : pm);
}

/* A report sent right after another one (at link ready, say) repeats the
 * last CPU figure: over a few milliseconds, one burst of work reads as a
 * busy core, and /proc/stat counts in 10 ms ticks. */
#define CPU_SAMPLE_MIN_NS   (100 * 1000000ull)

/* Returns the reported CPU load since the previous sample, in permille. */
static uint16_t
cpu_sample(struct cluster_link *cl)
{
    struct timespec ts;
    uint64_t now_ns;
    char *cur;
    uint16_t pm = 0;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    now_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    if (cl->cpu_sample_ns != 0 && now_ns - cl->cpu_sample_ns <
        CPU_SAMPLE_MIN_NS)
        return cl->cpu_last_pm;
    cl->cpu_sample_ns = now_ns;
    if (cl->cfg->cpu_source == CLUSTER_CPU_PROCESS) {
        pm = cpu_sample_process(cl);
    } else if ((cur = proc_stat_read()) != NULL) {
        if (cl->cpu_prev != NULL)
            pm = cluster_cpu_busiest_permille(cl->cpu_prev, cur);
        free(cl->cpu_prev);
        cl->cpu_prev = cur;
    }
    cl->cpu_last_pm = pm;
    return pm;
}

static void
addr_text(const struct sockaddr_storage *ss, char *out, size_t size)
{
    const void *a = ss->ss_family == AF_INET6 ?
        (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
        (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

    if (inet_ntop(ss->ss_family, a, out, (socklen_t)size) == NULL)
        out[0] = '\0';
}

static void
report_build(struct cluster_link *cl, struct cluster_report *r)
{
    const struct cluster_link_config *c = cl->cfg;

    memset(r, 0, sizeof(*r));
    cl->ops->fill_report(cl->ops->arg, r);
    snprintf(r->gateway_id, sizeof(r->gateway_id), "%s", c->gateway_id);
    snprintf(r->site, sizeof(r->site), "%s", c->site);
    r->state = cl->state;
    r->sent_at_ms = wall_ms();
    r->interval_ms = (uint32_t)c->report_interval_ms;
    r->capacity = c->capacity;
    r->cpu_busiest_permille = cpu_sample(cl);
    r->plan_epoch = policy_plan_get_epoch(cl->plan);
    snprintf(r->config_hash, sizeof(r->config_hash), "%s", c->config_hash);
    for (size_t i = 0; i < c->n_unicast && i < CLUSTER_MAX_ADDRS; i++)
        addr_text(&c->unicast[i], r->unicast[r->n_unicast++],
            sizeof(r->unicast[0]));
    if (c->public_address != NULL)
        snprintf(r->public_addr, sizeof(r->public_addr), "%s",
            c->public_address);
    if (c->n_anycast > 0)
        addr_text(&c->anycast[0], r->anycast, sizeof(r->anycast));
}

static void
on_report_written(struct redis_link *link, int status,
    const redisReply *reply, void *arg)
{
    struct cluster_link *cl = arg;

    (void)link;
    (void)reply;
    if (status == -ECANCELED)
        return;
    if (status == 0)
        cl->stats.reports_written++;
    else
        cl->stats.report_errors++;
}

void
cluster_link_report_now(struct cluster_link *cl)
{
    struct cluster_report r;
    char err[CLUSTER_ERR_SIZE], *text = NULL;

    if (redis_link_get_state(cl->cmd) != REDIS_LINK_READY)
        return;
    report_build(cl, &r);
    if (cluster_report_encode(&r, &text, err, sizeof(err)) < 0) {
        cl->stats.report_errors++;
        log_error("cluster", "encoding the report failed; error=\"%s\"", err);
        return;
    }
    if (redis_link_command(cl->cmd, on_report_written, cl, "SET %s %s PX %llu",
        cl->report_key, text, (unsigned long long)cl->cfg->report_ttl_ms) < 0)
        cl->stats.report_errors++;
    free(text);
}

static void
on_report_timer(uv_timer_t *t)
{
    cluster_link_report_now(t->data);
}

static void plan_fetch(struct cluster_link *cl);

static void
on_plan_read(struct redis_link *link, int status, const redisReply *reply,
    void *arg)
{
    struct cluster_link *cl = arg;

    (void)link;
    if (status == -ECANCELED)
        return;
    cl->plan_fetching = false;
    if (status == 0 && reply->type == REDIS_REPLY_STRING) {
        cl->stats.plan_reads++;
        if (policy_plan_apply_text(cl->plan, reply->str, reply->len) ==
            POLICY_PLAN_APPLIED)
            cluster_link_report_now(cl);
    } else if (status == 0 && reply->type == REDIS_REPLY_NIL) {
        cl->stats.plan_reads++;
        log_debug("cluster", "no plan in Redis; key=" KEYS_PLAN);
    } else if (status != -ENOTCONN) {
        log_warn("cluster", "reading the plan failed; error=\"%s\"",
            reply != NULL && reply->str != NULL ? reply->str :
            strerror(-status));
    }
    if (cl->plan_again) {
        cl->plan_again = false;
        plan_fetch(cl);
    }
}

static void
plan_fetch(struct cluster_link *cl)
{
    if (cl->plan_fetching) {
        cl->plan_again = true;
        return;
    }
    if (redis_link_command(cl->cmd, on_plan_read, cl, "GET %s", KEYS_PLAN)
        == 0)
        cl->plan_fetching = true;
}

static void
on_reread_timer(uv_timer_t *t)
{
    plan_fetch(t->data);
}

static void
on_epoch(struct redis_link *link, const char *channel, const char *payload,
    size_t len, void *arg)
{
    struct cluster_link *cl = arg;
    char text[24];
    unsigned long long epoch;
    char *end;

    (void)link;
    (void)channel;
    if (len == 0 || len >= sizeof(text))
        return;
    memcpy(text, payload, len);
    text[len] = '\0';
    epoch = strtoull(text, &end, 10);
    /* A lower epoch may be a controller that restarted on an empty Redis,
     * so every announcement is read; the epoch rule decides. */
    if (*end != '\0')
        log_debug("cluster", "invalid epoch announcement; payload=%s", text);
    else if (epoch != policy_plan_get_epoch(cl->plan))
        plan_fetch(cl);
}

/* Splits one tick's REDIRECTs over the targets by weight; returns how
 * many were sent. */
static size_t
drain_send(struct cluster_link *cl, size_t budget)
{
    size_t n = policy_plan_target_count(cl->plan), sent = 0;
    uint64_t sum = 0;
    uint32_t w;

    for (size_t i = 0; i < n; i++) {
        policy_plan_get_target(cl->plan, i, &w);
        sum += w;
    }
    for (size_t k = 0; k < n && sent < budget && sum > 0; k++) {
        size_t i = (cl->drain_rotate + k) % n;
        const struct policy_target *t = policy_plan_get_target(cl->plan, i,
            &w);
        size_t share = (size_t)((uint64_t)budget * w / sum);

        if (share == 0)
            share = 1;
        if (share > budget - sent)
            share = budget - sent;
        sent += cl->ops->redirect_some(cl->ops->arg, t, share);
    }
    cl->drain_rotate++;
    cl->stats.drain_redirects += sent;
    return sent;
}

size_t
cluster_link_drain_some(struct cluster_link *cl, size_t max)
{
    return max > 0 ? drain_send(cl, max) : 0;
}

static void
on_drain_timer(uv_timer_t *t)
{
    struct cluster_link *cl = t->data;
    struct policy_plan_drain d;
    uint64_t now = uv_now(cl->loop);
    size_t sas = cl->ops->sa_count(cl->ops->arg);
    bool active;

    policy_plan_is_serving(cl->plan);   /* logs expiry without traffic */
    active = policy_plan_get_drain(cl->plan, &d) && sas > 0;
    if (active != cl->draining) {
        if (active)
            log_notice("cluster", "draining by the plan; sas=%zu pace=%u"
                " deadline_at_ms=%llu", sas, d.pace_per_s,
                (unsigned long long)d.deadline_at_ms);
        else
            log_notice("cluster", "plan drain ended; sas=%zu", sas);
        cl->draining = active;
        cl->drain_last_ms = now;
        cl->drain_budget = 1;
    }
    if (!active)
        return;
    cl->drain_budget += (double)d.pace_per_s * (double)(now -
        cl->drain_last_ms) / 1000.0;
    cl->drain_last_ms = now;
    if (cl->drain_budget >= 1) {
        size_t budget = (size_t)cl->drain_budget;

        cl->drain_budget -= (double)budget;
        drain_send(cl, budget);
    }
}

static void
on_cmd_state(struct redis_link *link, enum redis_link_state state, int err,
    void *arg)
{
    struct cluster_link *cl = arg;

    (void)link;
    (void)err;
    if (state != REDIS_LINK_READY)
        return;
    cluster_link_report_now(cl);
    plan_fetch(cl);
    move_stream_link_ready(cl->moves);
}

static void
on_sub_state(struct redis_link *link, enum redis_link_state state, int err,
    void *arg)
{
    struct cluster_link *cl = arg;

    (void)link;
    (void)err;
    /* Announcements made while unsubscribed are lost, so read the plan. */
    if (state == REDIS_LINK_READY)
        plan_fetch(cl);
}

static int
cluster_move(void *arg, const struct move_request *req)
{
    const struct cluster_link *cl = arg;

    return cl->ops->execute_move(cl->ops->arg, req);
}

struct cluster_link *
cluster_link_new(uv_loop_t *loop, const struct cluster_link_config *cfg,
    struct policy_plan *plan, const struct cluster_link_ops *ops)
{
    struct redis_link_options o;
    struct cluster_link *cl;
    char name[CLUSTER_ID_MAX + 16];

    if (cfg->report_interval_ms < CLUSTER_REPORT_INTERVAL_MIN_MS ||
        cfg->report_interval_ms > CLUSTER_REPORT_INTERVAL_MAX_MS ||
        cfg->report_ttl_ms == 0 || cfg->plan_reread_ms == 0 ||
        cfg->move_poll_ms == 0 || cfg->move_poll_ms > UINT32_MAX)
        return NULL;
    if ((cl = calloc(1, sizeof(*cl))) == NULL)
        return NULL;
    cl->loop = loop;
    cl->cfg = cfg;
    cl->plan = plan;
    cl->ops = ops;
    if (keys_report(cl->report_key, sizeof(cl->report_key),
        cfg->gateway_id) == NULL)
        goto fail;
    memset(&o, 0, sizeof(o));
    snprintf(name, sizeof(name), "agent-%s", cfg->gateway_id);
    o.name = name;
    o.host = cfg->redis_host;
    o.port = cfg->redis_port;
    o.user = cfg->user;
    o.password = cfg->password;
    if ((cl->cmd = redis_link_new(loop, &o, on_cmd_state, cl)) == NULL)
        goto fail;
    snprintf(name, sizeof(name), "agent-%s-sub", cfg->gateway_id);
    o.subscriber = true;
    if ((cl->sub = redis_link_new(loop, &o, on_sub_state, cl)) == NULL ||
        redis_link_subscribe(cl->sub, KEYS_PLAN_CHANNEL, on_epoch, cl) < 0)
        goto fail;
    cl->moves = move_stream_new(loop, cl->cmd, cfg->gateway_id,
        (uint32_t)cfg->move_poll_ms, cluster_move, cl);
    if (cl->moves == NULL)
        goto fail;
    uv_timer_init(loop, &cl->report_timer);
    uv_timer_init(loop, &cl->reread_timer);
    uv_timer_init(loop, &cl->drain_timer);
    cl->report_timer.data = cl;
    cl->reread_timer.data = cl;
    cl->drain_timer.data = cl;
    cl->open_handles = 3;
    return cl;
fail:
    redis_link_free(cl->cmd);
    redis_link_free(cl->sub);
    free(cl);
    return NULL;
}

int
cluster_link_start(struct cluster_link *cl)
{
    int ret;

    if ((ret = redis_link_start(cl->cmd)) < 0 ||
        (ret = redis_link_start(cl->sub)) < 0)
        return ret;
    uv_timer_start(&cl->report_timer, on_report_timer,
        cl->cfg->report_interval_ms, cl->cfg->report_interval_ms);
    uv_timer_start(&cl->reread_timer, on_reread_timer,
        cl->cfg->plan_reread_ms, cl->cfg->plan_reread_ms);
    uv_timer_start(&cl->drain_timer, on_drain_timer,
        CLUSTER_LINK_DRAIN_TICK_MS, CLUSTER_LINK_DRAIN_TICK_MS);
    log_notice("cluster", "cluster link started; gateway=%s redis=%s:%u",
        cl->cfg->gateway_id, cl->cfg->redis_host, cl->cfg->redis_port);
    return 0;
}

static void
on_timer_closed(uv_handle_t *h)
{
    struct cluster_link *cl = h->data;

    if (--cl->open_handles > 0)
        return;
    free(cl->cpu_prev);
    free(cl);
}

void
cluster_link_free(struct cluster_link *cl)
{
    if (cl == NULL)
        return;
    /* The links first: their pending callbacks still reach cl->moves. */
    redis_link_free(cl->cmd);
    redis_link_free(cl->sub);
    move_stream_free(cl->moves);
    uv_close((uv_handle_t *)&cl->report_timer, on_timer_closed);
    uv_close((uv_handle_t *)&cl->reread_timer, on_timer_closed);
    uv_close((uv_handle_t *)&cl->drain_timer, on_timer_closed);
}

void
cluster_link_set_state(struct cluster_link *cl,
    enum cluster_agent_state state)
{
    cl->state = state;
}

const struct cluster_link_stats *
cluster_link_get_stats(const struct cluster_link *cl)
{
    return &cl->stats;
}
