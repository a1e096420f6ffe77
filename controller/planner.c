/*
 * Planner.  Each computation fills a scratch plan, compares it with the
 * current one and swaps the two only when the difference is worth a new
 * epoch, so the buffers are reused from one second to the next.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwreg.h"
#include "planner.h"

/* One live gateway during a computation. */
struct planner_cand {
    const struct gwreg_entry *e;
    const char *address;        /* what clients reach, or NULL */
    bool eligible;              /* may take new clients and be a target */
    uint32_t weight;            /* 0 unless eligible */
    uint16_t load_permille;
};

/* Sort key of an eligible candidate; qsort() passes no context, so the
 * key carries what the comparisons need. */
struct planner_key {
    uint32_t weight;
    const char *site;
    const char *id;
    size_t cand;                /* index into planner.cands */
};

/* A plan and the capacity of its gateways[], as one swappable buffer. */
struct planner_buf {
    struct cluster_plan plan;
    size_t cap;
};

struct planner {
    struct planner_config cfg;
    uint64_t epoch;
    char leader_id[CLUSTER_ID_MAX + 1];
    uint64_t leader_term;
    struct planner_buf cur;
    struct planner_buf next;
    struct planner_cand *cands;
    struct planner_key *by_weight;  /* eligible, heaviest first */
    struct planner_key *by_site;    /* eligible, by site, heaviest first */
    size_t n_eligible;
    size_t cap;
};

double
planner_load_sample(const struct cluster_report *r)
{
    double u;

    if (r->capacity == 0)
        return 1.0;
    u = (double)r->ike_sas / r->capacity;
    if (r->pool_size > 0 && (double)r->pool_used / r->pool_size > u)
        u = (double)r->pool_used / r->pool_size;
    if (r->cpu_busiest_permille / 1000.0 > u)
        u = r->cpu_busiest_permille / 1000.0;
    if (r->half_open_limit > 0 &&
        (double)r->half_open / r->half_open_limit > u)
        u = (double)r->half_open / r->half_open_limit;
    return u;
}

struct planner *
planner_new(const struct planner_config *cfg, uint64_t last_epoch)
{
    struct planner *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    if (cfg != NULL)
        p->cfg = *cfg;
    if (p->cfg.accept_threshold <= 0.0)
        p->cfg.accept_threshold = PLANNER_ACCEPT_THRESHOLD;
    if (p->cfg.hysteresis <= 0.0)
        p->cfg.hysteresis = PLANNER_HYSTERESIS;
    if (p->cfg.slow_start_ms == 0)
        p->cfg.slow_start_ms = PLANNER_SLOW_START_MS;
    if (p->cfg.slow_start_floor <= 0.0)
        p->cfg.slow_start_floor = PLANNER_SLOW_START_FLOOR;
    if (p->cfg.plan_ttl_ms == 0)
        p->cfg.plan_ttl_ms = PLANNER_PLAN_TTL_MS;
    p->epoch = last_epoch;
    return p;
}

static void
planner_buf_free(struct planner_buf *b)
{
    free(b->plan.gateways);
}

void
planner_free(struct planner *p)
{
    if (p == NULL)
        return;
    planner_buf_free(&p->cur);
    planner_buf_free(&p->next);
    free(p->cands);
    free(p->by_weight);
    free(p->by_site);
    free(p);
}

void
planner_set_leader(struct planner *p, const char *leader_id, uint64_t term)
{
    size_t len = strnlen(leader_id, CLUSTER_ID_MAX);

    memcpy(p->leader_id, leader_id, len);
    p->leader_id[len] = '\0';
    p->leader_term = term;
}

static int
planner_buf_reserve(struct planner_buf *b, size_t n)
{
    struct cluster_plan_gateway *g;

    if (n <= b->cap)
        return 0;
    if ((g = realloc(b->plan.gateways, n * sizeof(*g))) == NULL)
        return -ENOMEM;
    b->plan.gateways = g;
    b->cap = n;
    return 0;
}

static int
planner_reserve(struct planner *p, size_t n)
{
    void *q;

    if (planner_buf_reserve(&p->cur, n) < 0 ||
        planner_buf_reserve(&p->next, n) < 0)
        return -ENOMEM;
    if (n <= p->cap)
        return 0;
    if ((q = realloc(p->cands, n * sizeof(*p->cands))) == NULL)
        return -ENOMEM;
    p->cands = q;
    if ((q = realloc(p->by_weight, n * sizeof(*p->by_weight))) == NULL)
        return -ENOMEM;
    p->by_weight = q;
    if ((q = realloc(p->by_site, n * sizeof(*p->by_site))) == NULL)
        return -ENOMEM;
    p->by_site = q;
    p->cap = n;
    return 0;
}

/* The address clients reach: the public one behind NAT, else the first
 * unicast address.  NULL when the report announced neither. */
static const char *
planner_client_address(const struct cluster_report *r)
{
    if (r->public_addr[0] != '\0')
        return r->public_addr;
    if (r->n_unicast > 0 && r->unicast[0][0] != '\0')
        return r->unicast[0];
    return NULL;
}

/* A load as the plan carries it: a gateway above its capacity counts as
 * full, because load_permille ends at 1000. */
static uint16_t
planner_permille(double u)
{
    double pm = round(u * 1000.0);

    if (pm <= 0.0)
        return 0;
    if (pm >= CLUSTER_LOAD_PERMILLE_MAX)
        return CLUSTER_LOAD_PERMILLE_MAX;
    return (uint16_t)pm;
}

static double
planner_raw_weight(const struct planner *p, const struct gwreg_entry *e,
    uint64_t now_ms)
{
    return e->report.capacity * (1.0 - e->load) *
        gwreg_slow_start_factor(e, now_ms, p->cfg.slow_start_ms,
            p->cfg.slow_start_floor);
}

/* Fills p->cands from the live entries; returns their number. */
static size_t
planner_collect(struct planner *p, const struct gwreg *reg, uint64_t now_ms)
{
    size_t n = 0;
    double max_raw = 0.0;

    for (size_t i = 0; i < gwreg_count(reg); i++) {
        const struct gwreg_entry *e = gwreg_get_at(reg, i);
        struct planner_cand *c;

        if (!e->live)
            continue;
        c = &p->cands[n++];
        c->e = e;
        c->address = planner_client_address(&e->report);
        c->load_permille = planner_permille(e->load);
        c->eligible = e->admin == CLUSTER_ADMIN_ACTIVE && e->identity_ok &&
            e->report.state == CLUSTER_AGENT_SERVING &&
            e->report.capacity > 0 && c->address != NULL &&
            e->load < p->cfg.accept_threshold;
        c->weight = 0;
    }
    /* Raw weight: free capacity in sessions, scaled by slow start; the
     * plan's weights are raw weights scaled so the largest is 65535. */
    for (size_t i = 0; i < n; i++) {
        struct planner_cand *c = &p->cands[i];
        double r;

        if (!c->eligible)
            continue;
        r = planner_raw_weight(p, c->e, now_ms);
        if (r > max_raw)
            max_raw = r;
    }
    for (size_t i = 0; i < n; i++) {
        struct planner_cand *c = &p->cands[i];
        double r, w;

        if (!c->eligible)
            continue;
        r = planner_raw_weight(p, c->e, now_ms);
        w = max_raw > 0.0 ? round(PLANNER_WEIGHT_MAX * r / max_raw) : 1.0;
        c->weight = w < 1.0 ? 1 : (uint32_t)w;
    }
    return n;
}

static int
planner_cmp_weight(const void *a, const void *b)
{
    const struct planner_key *x = a;
    const struct planner_key *y = b;

    if (x->weight != y->weight)
        return x->weight > y->weight ? -1 : 1;
    return strcmp(x->id, y->id);
}

static int
planner_cmp_site(const void *a, const void *b)
{
    const struct planner_key *x = a;
    const struct planner_key *y = b;
    int c = strcmp(x->site, y->site);

    return c != 0 ? c : planner_cmp_weight(a, b);
}

/* Builds the two sorted lists of eligible candidates. */
static void
planner_sort(struct planner *p, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        const struct planner_cand *c = &p->cands[i];

        if (!c->eligible)
            continue;
        p->by_weight[k].weight = c->weight;
        p->by_weight[k].site = c->e->report.site;
        p->by_weight[k].id = c->e->gateway_id;
        p->by_weight[k].cand = i;
        k++;
    }
    p->n_eligible = k;
    memcpy(p->by_site, p->by_weight, k * sizeof(*p->by_site));
    qsort(p->by_weight, k, sizeof(*p->by_weight), planner_cmp_weight);
    qsort(p->by_site, k, sizeof(*p->by_site), planner_cmp_site);
}

/* Returns the first index in by_site whose site is `site`; *len gets the
 * length of that run, 0 when no eligible gateway is at that site. */
static size_t
planner_site_run(const struct planner *p, const char *site, size_t *len)
{
    size_t lo = 0;
    size_t hi = p->n_eligible;
    size_t end;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(p->by_site[mid].site, site) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    end = lo;
    while (end < p->n_eligible && strcmp(p->by_site[end].site, site) == 0)
        end++;
    *len = end - lo;
    return lo;
}

/* Appends the candidates of keys[0..n) other than `self` as targets. */
static void
planner_add_targets(const struct planner *p, struct cluster_plan_gateway *g,
    const struct planner_key *keys, size_t n, size_t self)
{
    for (size_t i = 0; i < n && g->n_targets < CLUSTER_MAX_TARGETS; i++) {
        const struct planner_cand *c = &p->cands[keys[i].cand];
        struct cluster_target *t = &g->targets[g->n_targets];
        size_t len;

        if (keys[i].cand == self)
            continue;
        memcpy(t->gateway_id, c->e->gateway_id, sizeof(t->gateway_id));
        len = strnlen(c->address, CLUSTER_ADDR_TEXT_MAX);
        memcpy(t->address, c->address, len);
        t->address[len] = '\0';
        t->weight = c->weight;
        t->load_permille = c->load_permille;
        g->n_targets++;
    }
}

/* Fills plan entry `i` of the scratch buffer for candidate `i`.  Same-site
 * targets come first: the gateway lists only its own site's eligible
 * gateways when there is one other than itself, else the heaviest of all
 * sites. */
static void
planner_fill_gateway(struct planner *p, size_t i)
{
    const struct planner_cand *c = &p->cands[i];
    struct cluster_plan_gateway *g = &p->next.plan.gateways[i];
    size_t run_len;
    size_t run = planner_site_run(p, c->e->report.site, &run_len);

    memcpy(g->gateway_id, c->e->gateway_id, sizeof(g->gateway_id));
    g->admin = c->e->admin;
    g->accept_new = c->eligible;
    g->weight = c->weight;
    g->n_targets = 0;
    g->drain_pace_per_s = 0;
    g->drain_deadline_at_ms = 0;
    if (run_len > (c->eligible ? 1u : 0u))
        planner_add_targets(p, g, &p->by_site[run], run_len, i);
    else
        planner_add_targets(p, g, p->by_weight, p->n_eligible, i);
}

static int
planner_cmp_plan_id(const void *key, const void *elem)
{
    const struct cluster_plan_gateway *g = elem;

    return strcmp(key, g->gateway_id);
}

static void
planner_apply_drains(struct planner *p, const struct planner_drain *drains,
    size_t n_drains)
{
    for (size_t i = 0; i < n_drains; i++) {
        struct cluster_plan_gateway *g = bsearch(drains[i].gateway_id,
            p->next.plan.gateways, p->next.plan.n_gateways,
            sizeof(*g), planner_cmp_plan_id);

        if (g == NULL)
            continue;
        g->accept_new = false;
        g->weight = 0;
        g->drain_pace_per_s = drains[i].pace_per_s;
        g->drain_deadline_at_ms = drains[i].deadline_at_ms;
    }
}

static bool
planner_weight_moved(const struct planner *p, uint32_t a, uint32_t b)
{
    uint32_t d = a > b ? a - b : b - a;

    return d > p->cfg.hysteresis * PLANNER_WEIGHT_MAX;
}

static bool
planner_gateway_differs(const struct planner *p,
    const struct cluster_plan_gateway *a, const struct cluster_plan_gateway *b)
{
    if (strcmp(a->gateway_id, b->gateway_id) != 0 || a->admin != b->admin ||
        a->accept_new != b->accept_new || a->n_targets != b->n_targets ||
        a->drain_pace_per_s != b->drain_pace_per_s ||
        a->drain_deadline_at_ms != b->drain_deadline_at_ms ||
        planner_weight_moved(p, a->weight, b->weight))
        return true;
    for (size_t t = 0; t < a->n_targets; t++) {
        const struct cluster_target *x = &a->targets[t];
        const struct cluster_target *y = &b->targets[t];

        if (strcmp(x->gateway_id, y->gateway_id) != 0 ||
            strcmp(x->address, y->address) != 0 ||
            planner_weight_moved(p, x->weight, y->weight))
            return true;
    }
    return false;
}

/* A new epoch is worth it when membership, admin state, acceptance,
 * targets or drain parameters changed, when a weight moved by more than
 * the hysteresis, or when the current plan is half way to expiry.
 * NOTE: a change of load_permille alone does not count, so the loads that
 * agents compare can lag by up to half the plan TTL while the weights
 * stay within the hysteresis. */
static bool
planner_plan_changed(const struct planner *p, uint64_t now_ms)
{
    const struct cluster_plan *cur = &p->cur.plan;
    const struct cluster_plan *nx = &p->next.plan;

    if (cur->epoch == 0 || cur->n_gateways != nx->n_gateways)
        return true;
    if (now_ms >= cur->created_at_ms + p->cfg.plan_ttl_ms / 2)
        return true;
    for (size_t i = 0; i < nx->n_gateways; i++)
        if (planner_gateway_differs(p, &cur->gateways[i], &nx->gateways[i]))
            return true;
    return false;
}

int
planner_compute(struct planner *p, const struct gwreg *reg,
    const struct planner_drain *drains, size_t n_drains, uint64_t now_ms)
{
    struct planner_buf tmp;
    size_t n;

    if (planner_reserve(p, gwreg_count(reg) ? gwreg_count(reg) : 1) < 0)
        return -ENOMEM;
    n = planner_collect(p, reg, now_ms);
    planner_sort(p, n);
    p->next.plan.n_gateways = n;
    for (size_t i = 0; i < n; i++)
        planner_fill_gateway(p, i);
    planner_apply_drains(p, drains, n_drains);
    if (!planner_plan_changed(p, now_ms))
        return 0;
    p->next.plan.epoch = ++p->epoch;
    p->next.plan.leader_term = p->leader_term;
    memcpy(p->next.plan.leader_id, p->leader_id, sizeof(p->leader_id));
    p->next.plan.created_at_ms = now_ms;
    p->next.plan.expires_at_ms = now_ms + p->cfg.plan_ttl_ms;
    tmp = p->cur;
    p->cur = p->next;
    p->next = tmp;
    return 1;
}

const struct cluster_plan *
planner_get_plan(const struct planner *p)
{
    return &p->cur.plan;
}

