/*
 * The cluster redirect policy: decisions from the controller's plan, held
 * in memory, so a packet never waits for Redis.  cluster_link.h fetches
 * plans and hands their text to policy_plan_apply_text(), which decides
 * whether a plan replaces the current one (the epoch rule below).
 *
 * Decisions at IKE_SA_INIT (the engine asks only about clients that
 * announced redirect support or sent REDIRECTED_FROM):
 *   - while this gateway drains (its plan entry is not "active", or the
 *     agent drains itself), every new client, REDIRECTED_FROM or not,
 *     goes to a plan target;
 *   - with no valid plan (none yet, expired, or this gateway not in it)
 *     every client is accepted: the agent fails open;
 *   - REDIRECTED_FROM is accepted;
 *   - accept_new false sends the client to a target that a Maglev table
 *     picks by client address, port and SPIi, or to a second candidate
 *     when the plan's loads show the first busier by more than
 *     CLUSTER_P2C_MARGIN_PERMILLE (rt/maglev.h);
 *   - an accepted client that arrived on the anycast address is sent to
 *     this gateway's own unicast address instead.
 * Later stages are always accepted.
 */
#ifndef IKESHIFT_POLICY_PLAN_H
#define IKESHIFT_POLICY_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "rt/cluster.h"

struct policy_plan;

/* Returns the wall-clock time in Unix milliseconds. */
typedef uint64_t (*policy_plan_clock_fn)(void *arg);

/* What policy_plan_apply_text() did with a plan. */
enum policy_plan_outcome {
    POLICY_PLAN_APPLIED,        /* the plan is now the current one */
    POLICY_PLAN_SAME,           /* same epoch and term as the current one */
    POLICY_PLAN_STALE,          /* older than the current one, ignored */
    POLICY_PLAN_EXPIRED,        /* expires_at_ms already passed, ignored */
    POLICY_PLAN_INVALID,        /* failed to parse, dropped and counted */
};

/* Counters since policy_plan_new(). */
struct policy_plan_stats {
    uint64_t applied;
    uint64_t invalid;
    uint64_t stale;             /* STALE and EXPIRED outcomes */
    uint64_t redirects;         /* REDIRECT verdicts at IKE_SA_INIT */
};

/* The drain that the current plan requests of this gateway. */
struct policy_plan_drain {
    uint32_t pace_per_s;
    uint64_t deadline_at_ms;    /* wall clock */
};

/*
 * Creates a policy for the gateway `gateway_id` (copied), whose own
 * unicast target is `own` (copied; NULL when it has none, so anycast
 * arrivals are accepted in place).  The clock is CLOCK_REALTIME until
 * policy_plan_set_clock().  Returns NULL on a bad id or out of memory.
 */
struct policy_plan *
policy_plan_new(const char *gateway_id, const struct policy_target *own);

/* Frees `pp` and its plan; NULL is ignored. */
void
policy_plan_free(struct policy_plan *pp);

/* Returns the policy interface over `pp`, which stays owned by the caller. */
struct policy
policy_plan_policy(struct policy_plan *pp);

/* Replaces the wall clock, for tests. */
void
policy_plan_set_clock(struct policy_plan *pp, policy_plan_clock_fn fn,
    void *arg);

/*
 * Parses text[0..len) and applies it when it passes the epoch rule
 * (docs/redis-keys.md, "Plan epochs"): no current plan; a higher leader
 * term; the same term and a higher epoch; or any other epoch or term once
 * the current plan expired.  A plan that expired already is never
 * applied.  Returns the outcome, or -ENOMEM (the current plan stays).
 */
int
policy_plan_apply_text(struct policy_plan *pp, const char *text, size_t len);

/* Returns the epoch of the current plan, 0 before the first one. */
uint64_t
policy_plan_get_epoch(const struct policy_plan *pp);

/*
 * Returns true while a current plan exists, has not expired and names
 * this gateway.  Logs each change of that state once.
 */
bool
policy_plan_is_serving(struct policy_plan *pp);

/* Makes the gateway drain whatever the plan says (SIGTERM), or stop. */
void
policy_plan_set_self_draining(struct policy_plan *pp, bool draining);

/*
 * Fills *out and returns true when the current plan puts this gateway in
 * "draining" with a pace and a deadline still ahead.  The drain goes on
 * after the plan expires, as the fail-open rule exempts the own drain.
 */
bool
policy_plan_get_drain(struct policy_plan *pp, struct policy_plan_drain *out);

/* Returns the number of redirect targets of the current plan. */
size_t
policy_plan_target_count(const struct policy_plan *pp);

/*
 * Returns target i of the current plan and its weight in *weight (may be
 * NULL), lent until the next applied plan, or NULL when i is out of range.
 */
const struct policy_target *
policy_plan_get_target(const struct policy_plan *pp, size_t i,
    uint32_t *weight);

/* Returns the counters (lent). */
const struct policy_plan_stats *
policy_plan_get_stats(const struct policy_plan *pp);

/* Returns the name of an outcome ("applied", "same", ...). */
const char *
policy_plan_outcome_name(enum policy_plan_outcome outcome);

#endif /* IKESHIFT_POLICY_PLAN_H */
