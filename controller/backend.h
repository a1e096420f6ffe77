/*
 * The controller's working state and the API's backend: the gateway
 * registry, the planner and the drains, fed from Redis through the store
 * and written back under the leader's fence.  The daemon calls
 * ctl_backend_cycle() every loop interval; each cycle reads the reports
 * and then, on a standby, the stored admin and drain states, or, on the
 * leader, steps the drains, computes the plan and writes it when it
 * changed.
 *
 * Every function runs on the loop thread.  Times passed to the pure
 * modules are wall-clock milliseconds, because the plan and drain
 * deadlines go to the agents.
 */
#ifndef IKESHIFT_BACKEND_H
#define IKESHIFT_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "gwreg.h"
#include "planner.h"

struct leader;
struct store;

#define CTL_BACKEND_MAX_DRAINS      64
#define CTL_BACKEND_MOVE_TTL_MS     60000   /* agents drop older moves */
#define CTL_BACKEND_WARN_MS         10000   /* one warning per kind and 10 s */

/* Optional clock for tests; NULL uses CLOCK_REALTIME. */
typedef uint64_t ctl_backend_clock_fn(void *arg);

struct ctl_backend_config {
    struct planner_config planner;      /* copied */
    struct gwreg_config registry;       /* copied */
    ctl_backend_clock_fn *clock;
    void *clock_arg;
};

struct ctl_backend;

/*
 * Creates the backend over `store` and `leader`, both borrowed.  Its
 * commands carry the backend as the callback argument, so free the store
 * before the backend: store_free() drops the callbacks still due.
 * Returns NULL when out of memory.
 */
struct ctl_backend *
ctl_backend_new(const struct ctl_backend_config *cfg, struct store *store,
    struct leader *leader);

/* Frees the backend, after store_free() (see above).  NULL is ignored. */
void
ctl_backend_free(struct ctl_backend *b);

/*
 * Tells the backend about a change of leadership (a leader_change_fn
 * forwards it).  A new leader reloads the stored states and continues
 * the epochs from leader_get_stored_epoch() before it plans.
 */
void
ctl_backend_set_leading(struct ctl_backend *b, bool leading);

/*
 * Runs one cycle (see above).  A cycle whose previous one has not
 * finished is skipped.  Returns 0, or the store's error when the first
 * command could not be sent.
 */
int
ctl_backend_cycle(struct ctl_backend *b);

/* Returns true once this leader reloaded the state and may plan. */
bool
ctl_backend_is_planning(const struct ctl_backend *b);

/* Fills `out` with the API callbacks over this backend. */
void
ctl_backend_get_api(struct ctl_backend *b, struct api_backend *out);

/* Returns the registry, lent until the next cycle. */
const struct gwreg *
ctl_backend_get_registry(const struct ctl_backend *b);

/* Returns the last plan computed, or NULL; lent until the next cycle. */
const struct cluster_plan *
ctl_backend_get_plan(const struct ctl_backend *b);

/* Returns the epoch of the last plan that Redis confirmed, 0 for none. */
uint64_t
ctl_backend_get_written_epoch(const struct ctl_backend *b);

#endif /* IKESHIFT_BACKEND_H */
