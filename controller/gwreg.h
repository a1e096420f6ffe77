/*
 * Gateway registry: the controller's view of every gateway, built from the
 * agents' reports and the operators' admin states.  Each entry contains the
 * last report, when the controller last saw it, the smoothed load, the
 * admin state and the start of slow start.
 *
 * Time is passed in by the caller as milliseconds on the controller's own
 * clock; the agents' clocks (sent_at_ms) are never compared with it.  The
 * registry does no I/O.
 */
#ifndef IKESHIFT_GWREG_H
#define IKESHIFT_GWREG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rt/cluster.h"
#include "rt/cluster_plan.h"

/* A report older than this is dropped; it matches the agents' 2.5 s TTL. */
#define GWREG_EXPIRE_AFTER_MS   2500
/* The daemon calls gwreg_expire() this often, so a dead gateway is gone
 * at most 2.5 s + 1 s = 3.5 s after its last report was read. */
#define GWREG_SWEEP_MS          1000
/* Time constant of the load EWMA. */
#define GWREG_LOAD_TAU_MS       5000

struct gwreg_config {
    uint32_t expire_after_ms;   /* GWREG_EXPIRE_AFTER_MS when 0 */
    uint32_t load_tau_ms;       /* GWREG_LOAD_TAU_MS when 0 */
    /* The identity every gateway must present, in the text form of
     * cluster_identity_format(), or "" to accept any. */
    char identity[CLUSTER_IDENTITY_TEXT_MAX + 1];
    /* The maximum of live gateways, CLUSTER_PLAN_MAX_GATEWAYS (what one
     * plan can carry) when 0. */
    size_t max_live;
};

/* One gateway.  `live` is false for an entry that only keeps an operator's
 * admin state for a gateway whose report expired. */
struct gwreg_entry {
    char gateway_id[CLUSTER_ID_MAX + 1];
    bool live;
    struct cluster_report report;   /* valid when live */
    uint64_t first_seen_ms;         /* when it last became live */
    uint64_t last_seen_ms;          /* when its last report was read */
    double load_instant;            /* planner_load_sample() of the report */
    double load;                    /* EWMA of load_instant, 0..1+ */
    enum cluster_admin_state admin;
    uint64_t slow_start_at_ms;      /* 0 when not ramping */
    /* False while the live report names an identity other than the
     * cluster's: no plan, drain or move sends clients there. */
    bool identity_ok;
};

struct gwreg;

/*
 * Creates an empty registry.  `cfg` is copied and may be NULL for the
 * defaults.  Reports read within expire_after_ms of `now_ms` start no slow
 * start, because after a controller restart the gateways were already
 * serving.  Returns NULL when out of memory; free with gwreg_free().
 */
struct gwreg *
gwreg_new(const struct gwreg_config *cfg, uint64_t now_ms);

/* Frees the registry and every entry; NULL is accepted. */
void
gwreg_free(struct gwreg *reg);

/*
 * Stores a report read at `now_ms` (the report is copied), updates the
 * gateway's smoothed load and sets identity_ok from the report's identity.
 * A gateway whose identity becomes right again starts slow start.
 * A gateway that is not live yet is refused with -ENOSPC while max_live
 * gateways are live, so that a flood of reports cannot grow the plan
 * past what it can carry.  A gateway that was not live starts slow start
 * unless the registry is still in its start-up window.  Returns 0, -EINVAL
 * for an empty gateway id, -ENOSPC (see above), or -ENOMEM.
 */
int
gwreg_update_report(struct gwreg *reg, const struct cluster_report *report,
    uint64_t now_ms);

/*
 * Sets an operator's admin state, creating an entry that is not live when
 * the gateway is unknown.  A change to ACTIVE from another state starts
 * slow start at `now_ms`.  Returns 0, -EINVAL or -ENOMEM.
 */
int
gwreg_set_admin(struct gwreg *reg, const char *gateway_id,
    enum cluster_admin_state admin, uint64_t now_ms);

/*
 * Drops every report last seen more than expire_after_ms before `now_ms`.
 * An entry with a non-active admin state stays as an entry that is not
 * live; others are removed.  Returns the number of reports dropped.
 */
size_t
gwreg_expire(struct gwreg *reg, uint64_t now_ms);

/*
 * Returns the time at which the oldest live report expires, or UINT64_MAX
 * when none is live, so the daemon can arm its timer for that moment.
 */
uint64_t
gwreg_next_expiry_ms(const struct gwreg *reg);

/* Returns the number of entries, live or not. */
size_t
gwreg_count(const struct gwreg *reg);

/* Returns entry `i` (0 <= i < gwreg_count()) in gateway-id order.  The
 * pointer is lent until the registry next changes. */
const struct gwreg_entry *
gwreg_get_at(const struct gwreg *reg, size_t i);

/* Returns the entry for `gateway_id`, or NULL; lent as gwreg_get_at(). */
const struct gwreg_entry *
gwreg_get(const struct gwreg *reg, const char *gateway_id);

/*
 * Returns the slow-start factor of an entry at `now_ms`: 1 when not
 * ramping, else the elapsed share of `period_ms`, at least `floor`.
 */
double
gwreg_slow_start_factor(const struct gwreg_entry *e, uint64_t now_ms,
    uint32_t period_ms, double floor);

#endif /* IKESHIFT_GWREG_H */
