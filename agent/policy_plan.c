/*
 * Cluster redirect policy: the plan in memory and the per-packet decision.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy_plan.h"
#include "policy_static.h"
#include "rt/cluster_plan.h"
#include "rt/log.h"
#include "rt/maglev.h"

/* Whether the agent steers clients by a plan, for logging changes once. */
enum plan_mode {
    PLAN_MODE_NONE,             /* no plan applied yet */
    PLAN_MODE_SERVING,
    PLAN_MODE_NOT_LISTED,       /* the plan does not name this gateway */
    PLAN_MODE_EXPIRED,
};

static const char *const plan_mode_names[] = {
    "none", "serving", "not listed", "expired",
};

/* One applied plan with what the decisions need, built before the swap. */
struct plan_state {
    struct cluster_plan plan;
    const struct cluster_plan_gateway *self;    /* into plan, or NULL */
    struct policy_target *targets;              /* self->n_targets */
    uint32_t *weights;
    uint16_t *loads;                            /* load_permille */
    size_t n_targets;
    struct maglev_table *table;
};

struct policy_plan {
    char gateway_id[CLUSTER_ID_MAX + 1];
    bool have_own;
    struct policy_target own;
    policy_plan_clock_fn clock;
    void *clock_arg;
    bool self_draining;
    bool have_plan;
    struct plan_state cur;
    enum plan_mode mode;
    struct policy_plan_stats stats;
};

static uint64_t
realtime_ms(void *arg)
{
    struct timespec ts;

    (void)arg;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
state_clear(struct plan_state *st)
{
    cluster_plan_clear(&st->plan);
    free(st->targets);
    free(st->weights);
    free(st->loads);
    maglev_free(st->table);
    memset(st, 0, sizeof(*st));
}

struct policy_plan *
policy_plan_new(const char *gateway_id, const struct policy_target *own)
{
    struct policy_plan *pp;

    if (!cluster_id_is_valid(gateway_id, strlen(gateway_id), false))
        return NULL;
    if ((pp = calloc(1, sizeof(*pp))) == NULL)
        return NULL;
    strcpy(pp->gateway_id, gateway_id);
    if (own != NULL) {
        pp->have_own = true;
        pp->own = *own;
    }
    pp->clock = realtime_ms;
    return pp;
}

void
policy_plan_free(struct policy_plan *pp)
{
    if (pp == NULL)
        return;
    state_clear(&pp->cur);
    free(pp);
}

void
policy_plan_set_clock(struct policy_plan *pp, policy_plan_clock_fn fn,
    void *arg)
{
    pp->clock = fn;
    pp->clock_arg = arg;
}

/*
 * Converts the plan's targets for this gateway and builds the Maglev
 * table.  A target whose address is no valid RFC 5685 identity cannot
 * occur, as the plan parser checks it, but is skipped all the same.
 */
static int
state_build(struct plan_state *st, const char *gateway_id)
{
    struct cluster_target kept[CLUSTER_MAX_TARGETS];
    size_t n = 0;

    st->self = cluster_plan_find_gateway(&st->plan, gateway_id);
    if (st->self == NULL || st->self->n_targets == 0)
        return 0;
    st->targets = calloc(st->self->n_targets, sizeof(*st->targets));
    st->weights = calloc(st->self->n_targets, sizeof(*st->weights));
    st->loads = calloc(st->self->n_targets, sizeof(*st->loads));
    if (st->targets == NULL || st->weights == NULL || st->loads == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < st->self->n_targets; i++) {
        const struct cluster_target *t = &st->self->targets[i];

        if (policy_target_from_text(&st->targets[n], t->address) < 0)
            continue;
        st->weights[n] = t->weight;
        st->loads[n] = t->load_permille;
        kept[n++] = *t;
    }
    st->n_targets = n;
    if ((st->table = maglev_new(MAGLEV_SIZE_SMALL)) == NULL)
        return -ENOMEM;
    return maglev_build(st->table, kept, n);
}

static bool
plan_expired(const struct cluster_plan *plan, uint64_t now)
{
    return now >= plan->expires_at_ms;
}

/* The epoch rule of docs/redis-keys.md, "Plan epochs". */
static enum policy_plan_outcome
plan_judge(const struct policy_plan *pp, const struct cluster_plan *next,
    uint64_t now)
{
    const struct cluster_plan *cur = &pp->cur.plan;

    if (plan_expired(next, now))
        return POLICY_PLAN_EXPIRED;
    if (!pp->have_plan)
        return POLICY_PLAN_APPLIED;
    if (next->epoch == cur->epoch && next->leader_term == cur->leader_term)
        return POLICY_PLAN_SAME;
    if (next->leader_term > cur->leader_term)
        return POLICY_PLAN_APPLIED;
    if (next->leader_term == cur->leader_term && next->epoch > cur->epoch)
        return POLICY_PLAN_APPLIED;
    /* Redis lost its data, so the epoch and the term counter restarted;
     * once the current plan expired, the plan in Redis is all there is. */
    if (plan_expired(cur, now))
        return POLICY_PLAN_APPLIED;
    return POLICY_PLAN_STALE;
}

int
policy_plan_apply_text(struct policy_plan *pp, const char *text, size_t len)
{
    struct plan_state next;
    char err[CLUSTER_ERR_SIZE];
    enum policy_plan_outcome outcome;
    int ret;

    memset(&next, 0, sizeof(next));
    ret = cluster_plan_parse(text, len, &next.plan, err, sizeof(err));
    if (ret == -ENOMEM)
        return ret;
    if (ret < 0) {
        pp->stats.invalid++;
        log_warn("plan", "invalid plan dropped, keeping the current one;"
            " error=\"%s\" epoch=%llu", err,
            (unsigned long long)pp->cur.plan.epoch);
        return POLICY_PLAN_INVALID;
    }
    outcome = plan_judge(pp, &next.plan, pp->clock(pp->clock_arg));
    if (outcome != POLICY_PLAN_APPLIED) {
        if (outcome != POLICY_PLAN_SAME) {
            pp->stats.stale++;
            log_info("plan", "plan ignored; outcome=%s epoch=%llu term=%llu"
                " current_epoch=%llu current_term=%llu",
                policy_plan_outcome_name(outcome),
                (unsigned long long)next.plan.epoch,
                (unsigned long long)next.plan.leader_term,
                (unsigned long long)pp->cur.plan.epoch,
                (unsigned long long)pp->cur.plan.leader_term);
        }
        state_clear(&next);
        return (int)outcome;
    }
    if ((ret = state_build(&next, pp->gateway_id)) < 0) {
        state_clear(&next);
        return ret;
    }
    log_info("plan", "plan applied; epoch=%llu term=%llu leader=%s"
        " listed=%s targets=%zu", (unsigned long long)next.plan.epoch,
        (unsigned long long)next.plan.leader_term, next.plan.leader_id,
        next.self != NULL ? "yes" : "no", next.n_targets);
    state_clear(&pp->cur);
    pp->cur = next;
    pp->have_plan = true;
    pp->stats.applied++;
    policy_plan_is_serving(pp);
    return POLICY_PLAN_APPLIED;
}

uint64_t
policy_plan_get_epoch(const struct policy_plan *pp)
{
    return pp->have_plan ? pp->cur.plan.epoch : 0;
}

bool
policy_plan_is_serving(struct policy_plan *pp)
{
    enum plan_mode mode = PLAN_MODE_SERVING;

    if (!pp->have_plan)
        mode = PLAN_MODE_NONE;
    else if (plan_expired(&pp->cur.plan, pp->clock(pp->clock_arg)))
        mode = PLAN_MODE_EXPIRED;
    else if (pp->cur.self == NULL)
        mode = PLAN_MODE_NOT_LISTED;
    if (mode != pp->mode) {
        if (mode == PLAN_MODE_SERVING)
            log_info("plan", "steering clients by the plan; epoch=%llu",
                (unsigned long long)pp->cur.plan.epoch);
        else
            log_warn("plan", "no valid plan, accepting every new client;"
                " reason=\"%s\" epoch=%llu", plan_mode_names[mode],
                (unsigned long long)pp->cur.plan.epoch);
        pp->mode = mode;
    }
    return mode == PLAN_MODE_SERVING;
}

void
policy_plan_set_self_draining(struct policy_plan *pp, bool draining)
{
    pp->self_draining = draining;
}

/* True while this gateway must take no new clients at all. */
static bool
self_is_draining(const struct policy_plan *pp)
{
    return pp->self_draining || (pp->cur.self != NULL &&
        pp->cur.self->admin != CLUSTER_ADMIN_ACTIVE);
}

bool
policy_plan_get_drain(struct policy_plan *pp, struct policy_plan_drain *out)
{
    const struct cluster_plan_gateway *self = pp->cur.self;

    if (self == NULL || self->admin != CLUSTER_ADMIN_DRAINING ||
        self->drain_pace_per_s == 0 || pp->cur.n_targets == 0 ||
        pp->clock(pp->clock_arg) >= self->drain_deadline_at_ms)
        return false;
    out->pace_per_s = self->drain_pace_per_s;
    out->deadline_at_ms = self->drain_deadline_at_ms;
    return true;
}

size_t
policy_plan_target_count(const struct policy_plan *pp)
{
    return pp->cur.n_targets;
}

const struct policy_target *
policy_plan_get_target(const struct policy_plan *pp, size_t i,
    uint32_t *weight)
{
    if (i >= pp->cur.n_targets)
        return NULL;
    if (weight != NULL)
        *weight = pp->cur.weights[i];
    return &pp->cur.targets[i];
}

const struct policy_plan_stats *
policy_plan_get_stats(const struct policy_plan *pp)
{
    return &pp->stats;
}

const char *
policy_plan_outcome_name(enum policy_plan_outcome outcome)
{
    static const char *const names[] = {
        "applied", "same", "stale", "expired", "invalid",
    };

    if ((unsigned)outcome >= sizeof(names) / sizeof(names[0]))
        return "?";
    return names[outcome];
}

/*
 * Builds the Maglev key from the client's address, port and SPIi, so that
 * many clients behind one NAT address still spread over the targets.
 */
static size_t
client_key(const struct policy_query *q, uint8_t *key)
{
    size_t n = 0;

    if (q->peer->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)q->peer;

        memcpy(key, &in->sin_addr, 4);
        memcpy(key + 4, &in->sin_port, 2);
        n = 6;
    } else if (q->peer->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)q->peer;

        memcpy(key, &in6->sin6_addr, 16);
        memcpy(key + 16, &in6->sin6_port, 2);
        n = 18;
    }
    if (q->spi_i != NULL) {
        memcpy(key + n, q->spi_i, 8);
        n += 8;
    }
    return n;
}

/*
 * Picks the Maglev choice for the client, or a second, independent one
 * when the first is busier by more than CLUSTER_P2C_MARGIN_PERMILLE by
 * the plan's loads (power of two choices).  A plan without loads reads
 * as all idle, so the first choice stays.
 */
static bool
pick_target(struct policy_plan *pp, const struct policy_query *q,
    struct policy_target *target)
{
    uint8_t key[32];
    int cand[2];
    int n;
    size_t i;

    if (pp->cur.n_targets == 0)
        return false;
    n = maglev_lookup2(pp->cur.table, key, client_key(q, key), cand);
    if (n < 0)
        return false;
    i = cluster_choose_target(pp->cur.loads, (size_t)cand[0],
        (size_t)cand[1], CLUSTER_P2C_MARGIN_PERMILLE);
    *target = pp->cur.targets[i];
    return true;
}

/* Accepts, unless the client came in on anycast and must go to unicast. */
static enum policy_verdict
accept_here(const struct policy_plan *pp, const struct policy_query *q,
    struct policy_target *target)
{
    if (q->local_is_anycast && pp->have_own) {
        *target = pp->own;
        return POLICY_REDIRECT;
    }
    return POLICY_ACCEPT;
}

static enum policy_verdict
policy_plan_decide(void *arg, const struct policy_query *q,
    struct policy_target *target)
{
    struct policy_plan *pp = arg;
    bool serving;
    enum policy_verdict v;

    if (q->stage != POLICY_STAGE_INIT)
        return POLICY_ACCEPT;
    serving = policy_plan_is_serving(pp);
    if (self_is_draining(pp) && pick_target(pp, q, target))
        v = POLICY_REDIRECT;
    else if (!serving || q->redirected_from || pp->cur.self->accept_new)
        v = accept_here(pp, q, target);
    else if (pick_target(pp, q, target))
        v = POLICY_REDIRECT;
    else
        v = accept_here(pp, q, target);
    if (v == POLICY_REDIRECT)
        pp->stats.redirects++;
    return v;
}

struct policy
policy_plan_policy(struct policy_plan *pp)
{
    struct policy p = { policy_plan_decide, pp };

    return p;
}
