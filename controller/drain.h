/*
 * Drain state machine for one gateway:
 *
 *   requested -> admission -> no_new_clients -> evacuating -> drained
 *                    |                              |
 *                 refused                 deadline: forced | held
 *
 * and from any state but refused, resumed (back to active through
 * slow start).  The machine reads the gateway registry and is advanced by
 * drain_step() with the time passed in.  After each step the caller stores
 * drain_admin_state() in the registry, so steps of several drains must run
 * one after another.  The state encodes to JSON so that a controller that
 * takes over continues the drain.
 */
#ifndef IKESHIFT_DRAIN_H
#define IKESHIFT_DRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rt/cluster.h"

struct gwreg;
struct planner_drain;

enum drain_state {
    DRAIN_REQUESTED,
    DRAIN_ADMISSION,
    DRAIN_REFUSED,          /* final, with the cause in drain.refusal */
    DRAIN_NO_NEW_CLIENTS,
    DRAIN_EVACUATING,
    DRAIN_DRAINED,          /* final: no IKE SAs left */
    DRAIN_FORCED,           /* final: deadline passed, the rest deleted */
    DRAIN_HELD,             /* deadline passed, evacuation stopped */
    DRAIN_RESUMED,          /* final: the gateway is active again */
};

/* Action on the SAs still left at the deadline. */
enum drain_policy {
    DRAIN_POLICY_FORCE,     /* the agent deletes them */
    DRAIN_POLICY_HOLD,      /* they stay; the operator decides */
};

enum drain_refusal {
    DRAIN_REFUSAL_NONE,
    DRAIN_REFUSAL_NOT_LIVE,     /* no live report for the gateway */
    DRAIN_REFUSAL_NOT_ACTIVE,   /* admin state is not active */
    DRAIN_REFUSAL_TOO_MANY_OUT, /* max_out gateways are already out */
    DRAIN_REFUSAL_NO_ROOM,      /* the rest cannot absorb the sessions */
};

#define DRAIN_PACE_PER_S        50
#define DRAIN_DURATION_MS       (30u * 60 * 1000)
#define DRAIN_MARGIN            0.20
#define DRAIN_MAX_OUT           1
#define DRAIN_JITTER            0.20
#define DRAIN_ACCEPT_THRESHOLD  0.90
#define DRAIN_SETTLE_MS         3000
#define DRAIN_HEADROOM_SHARE    0.50
#define DRAIN_REPACE_MS         10000
#define DRAIN_REASON_MAX        160

/* Operator's parameters; drain_init() replaces zero fields by defaults. */
struct drain_params {
    uint32_t pace_per_s;        /* maximum mid-session REDIRECTs per second */
    uint32_t duration_ms;       /* deadline = requested_at_ms + this */
    enum drain_policy policy;
    double margin;              /* spare room required beyond the sessions */
    uint32_t max_out;           /* gateways not active at once, this included */
    double jitter;              /* pace varies by +-jitter, 0..1 */
    double accept_threshold;    /* targets are filled up to this load */
    uint32_t settle_ms;         /* no_new_clients lasts this long */
    double headroom_share;      /* share of the targets' headroom rate used */
};

struct drain {
    char gateway_id[CLUSTER_ID_MAX + 1];
    enum drain_state state;
    struct drain_params params;
    uint64_t requested_at_ms;
    uint64_t state_since_ms;
    uint64_t deadline_at_ms;
    enum drain_refusal refusal;
    char reason[DRAIN_REASON_MAX];  /* refusal or end, for the operator */
    uint32_t initial_sessions;      /* IKE SAs when evacuation started */
    uint32_t remaining;             /* IKE SAs at the last step */
    uint64_t sample_at_ms;          /* time of `remaining` */
    double rate_per_s;              /* EWMA of SAs leaving per second */
    uint32_t pace_per_s;            /* current pace, jitter included */
    uint64_t paced_at_ms;           /* when pace_per_s was chosen */
    uint64_t rng;                   /* xorshift64 state, never 0 */
};

struct drain_progress {
    uint32_t remaining;
    double rate_per_s;
    uint64_t estimated_end_at_ms;   /* 0 when unknown */
};

/*
 * Starts a drain of `gateway_id` in state requested at `now_ms`.
 * `params` is copied and may be NULL for the defaults; `seed` feeds the
 * pace jitter.  Returns 0, or -EINVAL for a bad id or parameter.
 */
int
drain_init(struct drain *d, const char *gateway_id,
    const struct drain_params *params, uint64_t seed, uint64_t now_ms);

/*
 * Runs the function of the current state once against `reg` (borrowed)
 * at `now_ms`.  Returns 1 when the state changed, 0 when it did not, or
 * -EINVAL for a corrupt state.
 */
int
drain_step(struct drain *d, const struct gwreg *reg, uint64_t now_ms);

/*
 * Ends the drain so the gateway returns to active (the registry starts
 * its slow start when the caller sets the admin state).  Returns 0, or
 * -EALREADY when the drain is already refused or resumed.
 */
int
drain_resume(struct drain *d, uint64_t now_ms);

/* Returns true when no step can change the state any more. */
bool
drain_is_final(const struct drain *d);

/* Returns the admin state the gateway should have in this drain state. */
enum cluster_admin_state
drain_admin_state(const struct drain *d);

/*
 * Fills the plan's part of this drain: pace 0 while clients are only
 * turned away, the jittered pace while evacuating, the (past) deadline
 * when forced and pace and deadline 0 when held or drained.  Returns
 * false when the drain adds nothing (requested, refused, resumed).
 */
bool
drain_plan_entry(const struct drain *d, struct planner_drain *out);

/* Fills `out` with remaining SAs, the rate and the estimated end. */
void
drain_get_progress(const struct drain *d, uint64_t now_ms,
    struct drain_progress *out);

/* Returns the lower_snake name of a state, policy or refusal. */
const char *
drain_state_name(enum drain_state s);
const char *
drain_policy_name(enum drain_policy p);
const char *
drain_refusal_name(enum drain_refusal r);

/*
 * Encodes the drain as one JSON object.  Returns a NUL-terminated string
 * that the caller frees with free(), or NULL when out of memory.
 */
char *
drain_encode(const struct drain *d);

/*
 * Parses text[0..len) written by drain_encode() into `d`, validating
 * every field.  On failure returns -EINVAL with a message naming the
 * field in err[0..err_len) and leaves `d` unchanged.
 */
int
drain_parse(struct drain *d, const char *text, size_t len, char *err,
    size_t err_len);

#endif /* IKESHIFT_DRAIN_H */
