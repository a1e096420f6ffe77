/*
 * Gateway registry: a sorted array of entry pointers, so that lookups are
 * binary searches and iteration is in gateway-id order, which keeps plans
 * deterministic.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gwreg.h"
#include "planner.h"

struct gwreg {
    struct gwreg_config cfg;
    uint64_t created_at_ms;
    size_t n_live;
    size_t n;
    size_t cap;
    struct gwreg_entry **entries;   /* sorted by gateway_id */
};

struct gwreg *
gwreg_new(const struct gwreg_config *cfg, uint64_t now_ms)
{
    struct gwreg *reg = calloc(1, sizeof(*reg));

    if (reg == NULL)
        return NULL;
    if (cfg != NULL)
        reg->cfg = *cfg;
    if (reg->cfg.expire_after_ms == 0)
        reg->cfg.expire_after_ms = GWREG_EXPIRE_AFTER_MS;
    if (reg->cfg.load_tau_ms == 0)
        reg->cfg.load_tau_ms = GWREG_LOAD_TAU_MS;
    if (reg->cfg.max_live == 0)
        reg->cfg.max_live = CLUSTER_PLAN_MAX_GATEWAYS;
    reg->created_at_ms = now_ms;
    return reg;
}

void
gwreg_free(struct gwreg *reg)
{
    if (reg == NULL)
        return;
    for (size_t i = 0; i < reg->n; i++)
        free(reg->entries[i]);
    free(reg->entries);
    free(reg);
}

/* Returns the index of `id`, or the insertion point with *found false. */
static size_t
gwreg_search(const struct gwreg *reg, const char *id, bool *found)
{
    size_t lo = 0;
    size_t hi = reg->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(reg->entries[mid]->gateway_id, id);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static bool
gwreg_id_valid(const char *id)
{
    size_t len = strnlen(id, CLUSTER_ID_MAX + 1);

    return len > 0 && len <= CLUSTER_ID_MAX;
}

/* Returns the entry for `id`, inserting a new one that is not live. */
static struct gwreg_entry *
gwreg_get_or_add(struct gwreg *reg, const char *id)
{
    bool found;
    size_t at = gwreg_search(reg, id, &found);
    struct gwreg_entry *e;

    if (found)
        return reg->entries[at];
    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 16;
        struct gwreg_entry **p = realloc(reg->entries, cap * sizeof(*p));

        if (p == NULL)
            return NULL;
        reg->entries = p;
        reg->cap = cap;
    }
    if ((e = calloc(1, sizeof(*e))) == NULL)
        return NULL;
    memcpy(e->gateway_id, id, strlen(id) + 1);
    e->admin = CLUSTER_ADMIN_ACTIVE;
    memmove(&reg->entries[at + 1], &reg->entries[at],
        (reg->n - at) * sizeof(*reg->entries));
    reg->entries[at] = e;
    reg->n++;
    return e;
}

/* A gateway starts slow start when it comes back, except during the first
 * expiry window after the registry was created. */
static void
gwreg_start_slow_start(struct gwreg *reg, struct gwreg_entry *e,
    uint64_t now_ms)
{
    if (now_ms < reg->created_at_ms + reg->cfg.expire_after_ms)
        return;
    /* 0 means "not ramping", so a ramp that starts at time 0 uses 1. */
    e->slow_start_at_ms = now_ms ? now_ms : 1;
}

/* EWMA over irregular samples: alpha = 1 - exp(-dt / tau). */
static void
gwreg_smooth_load(struct gwreg *reg, struct gwreg_entry *e, bool first,
    uint64_t now_ms)
{
    double sample = planner_load_sample(&e->report);

    e->load_instant = sample;
    if (first) {
        e->load = sample;
        return;
    }
    double dt = now_ms > e->last_seen_ms ?
        (double)(now_ms - e->last_seen_ms) : 0.0;
    double alpha = 1.0 - exp(-dt / reg->cfg.load_tau_ms);

    e->load += alpha * (sample - e->load);
}

int
gwreg_update_report(struct gwreg *reg, const struct cluster_report *report,
    uint64_t now_ms)
{
    const struct gwreg_entry *old;
    struct gwreg_entry *e;
    bool first, was_ok;

    if (!gwreg_id_valid(report->gateway_id))
        return -EINVAL;
    old = gwreg_get(reg, report->gateway_id);
    if ((old == NULL || !old->live) && reg->n_live >= reg->cfg.max_live)
        return -ENOSPC;
    if ((e = gwreg_get_or_add(reg, report->gateway_id)) == NULL)
        return -ENOMEM;
    first = !e->live;
    was_ok = e->identity_ok;
    e->report = *report;
    e->identity_ok = reg->cfg.identity[0] == '\0' ||
        cluster_identity_equal(reg->cfg.identity, report->identity);
    /* A gateway whose identity was fixed comes back like one that
     * returns: gradually. */
    if (!first && !was_ok && e->identity_ok)
        gwreg_start_slow_start(reg, e, now_ms);
    gwreg_smooth_load(reg, e, first, now_ms);
    if (first) {
        reg->n_live++;
        e->live = true;
        e->first_seen_ms = now_ms;
        gwreg_start_slow_start(reg, e, now_ms);
    }
    e->last_seen_ms = now_ms;
    return 0;
}

int
gwreg_set_admin(struct gwreg *reg, const char *gateway_id,
    enum cluster_admin_state admin, uint64_t now_ms)
{
    struct gwreg_entry *e;

    if (!gwreg_id_valid(gateway_id) || admin < CLUSTER_ADMIN_ACTIVE ||
        admin > CLUSTER_ADMIN_MAINTENANCE)
        return -EINVAL;
    if ((e = gwreg_get_or_add(reg, gateway_id)) == NULL)
        return -ENOMEM;
    if (admin == CLUSTER_ADMIN_ACTIVE && e->admin != CLUSTER_ADMIN_ACTIVE)
        gwreg_start_slow_start(reg, e, now_ms);
    e->admin = admin;
    return 0;
}

size_t
gwreg_expire(struct gwreg *reg, uint64_t now_ms)
{
    size_t dropped = 0;
    size_t kept = 0;

    for (size_t i = 0; i < reg->n; i++) {
        struct gwreg_entry *e = reg->entries[i];

        if (e->live && now_ms > e->last_seen_ms + reg->cfg.expire_after_ms) {
            reg->n_live--;
            e->live = false;
            memset(&e->report, 0, sizeof(e->report));
            e->load = e->load_instant = 0.0;
            e->slow_start_at_ms = 0;
            dropped++;
        }
        /* An entry that is not live and is active carries no information. */
        if (!e->live && e->admin == CLUSTER_ADMIN_ACTIVE) {
            free(e);
            continue;
        }
        reg->entries[kept++] = e;
    }
    reg->n = kept;
    return dropped;
}

uint64_t
gwreg_next_expiry_ms(const struct gwreg *reg)
{
    uint64_t next = UINT64_MAX;

    for (size_t i = 0; i < reg->n; i++) {
        const struct gwreg_entry *e = reg->entries[i];
        uint64_t at = e->last_seen_ms + reg->cfg.expire_after_ms + 1;

        if (e->live && at < next)
            next = at;
    }
    return next;
}

size_t
gwreg_count(const struct gwreg *reg)
{
    return reg->n;
}

const struct gwreg_entry *
gwreg_get_at(const struct gwreg *reg, size_t i)
{
    return i < reg->n ? reg->entries[i] : NULL;
}

const struct gwreg_entry *
gwreg_get(const struct gwreg *reg, const char *gateway_id)
{
    bool found;
    size_t at = gwreg_search(reg, gateway_id, &found);

    return found ? reg->entries[at] : NULL;
}

double
gwreg_slow_start_factor(const struct gwreg_entry *e, uint64_t now_ms,
    uint32_t period_ms, double floor)
{
    double f;

    if (e->slow_start_at_ms == 0 || period_ms == 0)
        return 1.0;
    if (now_ms <= e->slow_start_at_ms)
        return floor;
    f = (double)(now_ms - e->slow_start_at_ms) / period_ms;
    if (f >= 1.0)
        return 1.0;
    return f < floor ? floor : f;
}
