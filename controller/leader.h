/*
 * Leader lease of the controllers.  Every controller runs one leader
 * object over its Redis command link; at most one of them holds the lease
 * at a time:
 *
 *   acquire:  SET ikeshift:leader <id> NX PX <ttl>, then INCR
 *             ikeshift:leader:term, in one Lua script
 *   renew:    PEXPIRE, in a script that first checks that the key still
 *             holds <id> and the term is still ours (compare and set)
 *   release:  DEL, in a script with the same check
 *
 * The term is the fencing token: every write of the leader goes through a
 * script that starts with LEADER_LUA_FENCE, so a leader that lost the
 * lease while it was paused cannot write afterwards.
 *
 * Locally a leader counts its lease from the time it sent the last
 * successful acquire or renew, minus a margin for clock drift, and steps
 * down by itself when that time passes without a confirmed renewal.
 */
#ifndef IKESHIFT_LEADER_H
#define IKESHIFT_LEADER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "rt/cluster.h"

struct redis_link;

#define LEADER_TTL_MS_DEFAULT   5000
#define LEADER_TTL_MS_MIN       500

/*
 * Lua that returns 0 unless KEYS[1] (the lease) contains ARGV[1] (our id)
 * and KEYS[2] (the term counter) contains ARGV[2] (our term).  Fenced
 * scripts start with it and pass those two keys and arguments first.
 */
#define LEADER_LUA_FENCE \
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] or " \
    "redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end\n"

struct leader_config {
    const char *id;             /* controller id, unique per controller */
    uint32_t ttl_ms;            /* lease TTL; LEADER_TTL_MS_DEFAULT if 0 */
    uint32_t renew_ms;          /* attempt period; ttl_ms / 3 if 0 */
};

/* What a fenced write presents: who writes and under which term. */
struct leader_fence {
    char id[CLUSTER_ID_MAX + 1];
    uint64_t term;
};

struct leader;

/*
 * Called when this controller becomes leader (`leading` true) or stops
 * being one.  On a new leadership leader_get_term() is the new term and
 * leader_get_stored_epoch() the epoch of the plan found in Redis then.
 */
typedef void leader_change_fn(struct leader *l, bool leading, void *arg);

/* Called once when leader_release() is done; status 0 or negative errno. */
typedef void leader_done_fn(struct leader *l, int status, void *arg);

/*
 * Creates a leader on `loop` (borrowed) that sends its commands on `link`
 * (borrowed; it must outlive the leader's pending commands, which
 * redis_link_free() cancels).  `cfg` is copied.  Returns NULL for an
 * invalid id, a TTL below LEADER_TTL_MS_MIN, a renew period not below the
 * TTL, or out of memory.
 */
struct leader *
leader_new(uv_loop_t *loop, struct redis_link *link,
    const struct leader_config *cfg, leader_change_fn *cb, void *arg);

/* Starts the attempts: one now, then every renew_ms.  Returns 0. */
int
leader_start(struct leader *l);

/*
 * Stops acquiring and renewing without releasing, as a paused or hung
 * process would; the lease then expires in Redis.  The local state steps
 * down (with a change callback) if it was leading.
 */
void
leader_stop(struct leader *l);

/*
 * Stops, then deletes the lease in Redis if this controller holds it, so
 * a standby takes over without waiting for the TTL.  `cb` (may be NULL)
 * runs once with the result, possibly before this returns.
 */
void
leader_release(struct leader *l, leader_done_fn *cb, void *arg);

/*
 * Frees the leader.  A command still pending keeps the memory until its
 * reply or its cancellation; no callback runs after this call.  The timer
 * closes in a libuv callback, so the loop must run once more.  NULL is
 * ignored.
 */
void
leader_free(struct leader *l);

/* Returns true while this controller counts itself the leader. */
bool
leader_is_leading(const struct leader *l);

/* Returns the current term, or the last one held; 0 before any. */
uint64_t
leader_get_term(const struct leader *l);

/* Returns the stored plan's epoch read when the lease was acquired. */
uint64_t
leader_get_stored_epoch(const struct leader *l);

/* Returns how many lease commands failed (Redis errors and timeouts). */
uint64_t
leader_get_errors(const struct leader *l);

/* Returns the controller id, lent for the leader's lifetime. */
const char *
leader_get_id(const struct leader *l);

/*
 * Fills `out` with this leader's id and term.  Returns 0, or -EAGAIN when
 * this controller is not the leader.
 */
int
leader_get_fence(const struct leader *l, struct leader_fence *out);

#endif /* IKESHIFT_LEADER_H */
