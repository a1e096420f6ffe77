/*
 * Planner: turns the gateway registry and the running drains into the
 * cluster plan (struct cluster_plan in rt/cluster.h).  docs/planner.md
 * gives the model: bottleneck load, EWMA smoothing, weights from headroom
 * with slow start, hysteresis, same-site targets, and the targets' loads
 * that agents use for the second choice (cluster_choose_target() in
 * rt/maglev.h).
 *
 * Pure code: time is passed in; no I/O.
 */
#ifndef IKESHIFT_PLANNER_H
#define IKESHIFT_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rt/cluster.h"

struct gwreg;

#define PLANNER_ACCEPT_THRESHOLD    0.90    /* load at which new clients stop */
#define PLANNER_HYSTERESIS          0.05    /* share of the maximum weight */
#define PLANNER_SLOW_START_MS       60000
#define PLANNER_SLOW_START_FLOOR    0.05
#define PLANNER_PLAN_TTL_MS         30000
#define PLANNER_WEIGHT_MAX          65535

/* Zero fields take the defaults above. */
struct planner_config {
    double accept_threshold;
    double hysteresis;
    uint32_t slow_start_ms;
    double slow_start_floor;
    uint32_t plan_ttl_ms;       /* expires_at_ms = created_at_ms + this */
};

/* A running drain's part of its gateway's plan entry (see drain.h). */
struct planner_drain {
    char gateway_id[CLUSTER_ID_MAX + 1];
    uint32_t pace_per_s;
    uint64_t deadline_at_ms;
};

struct planner;

/*
 * Computes the bottleneck load of one report: the maximum of
 * ike_sas/capacity, pool_used/pool_size, the busiest core and
 * half_open/half_open_limit.  A dimension whose limit is 0 is skipped,
 * except capacity: a capacity of 0 gives 1 (full).
 */
double
planner_load_sample(const struct cluster_report *report);

/*
 * Creates a planner.  `cfg` is copied and may be NULL for the defaults.
 * The first plan gets epoch `last_epoch` + 1, so a controller that
 * restarts passes the epoch it read back.  Returns NULL when out of memory.
 */
struct planner *
planner_new(const struct planner_config *cfg, uint64_t last_epoch);

/* Frees the planner and its plan; NULL is accepted. */
void
planner_free(struct planner *p);

/* Sets the leader fields written into every later plan; `leader_id` is
 * copied and truncated to CLUSTER_ID_MAX. */
void
planner_set_leader(struct planner *p, const char *leader_id, uint64_t term);

/*
 * Computes a plan from the live gateways in `reg` and the `n_drains`
 * entries of `drains` (borrowed) at `now_ms`.  Returns 1 when the plan
 * changed and got a new epoch, 0 when the previous plan is kept
 * (weights moved less than the hysteresis, nothing else changed and the
 * plan is younger than half its TTL), or -ENOMEM.
 */
int
planner_compute(struct planner *p, const struct gwreg *reg,
    const struct planner_drain *drains, size_t n_drains, uint64_t now_ms);

/* Returns the current plan, lent until the next planner_compute(). */
const struct cluster_plan *
planner_get_plan(const struct planner *p);

#endif /* IKESHIFT_PLANNER_H */
