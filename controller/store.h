/*
 * The controller's reads and writes in Redis, over one command link:
 * reports in, plans out, and the admin and drain states that must survive
 * a restart or a change of leader.  Every write is a Lua script that
 * begins with LEADER_LUA_FENCE, so only the current leader under its
 * current term changes anything.  docs/redis-keys.md lists the keys.
 *
 * Each call sends one command and reports through its callback, which
 * runs on the loop thread.  The status is 0, -EPERM when the fence
 * rejected the write, -EPROTO for a reply of an unexpected shape, or the
 * link's error (-EIO, -ETIMEDOUT, -ENOTCONN).  Calls return 0 when the
 * command was sent, else the link's error, and then the callback never
 * runs.
 */
#ifndef IKESHIFT_STORE_H
#define IKESHIFT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drain.h"
#include "leader.h"
#include "rt/cluster.h"
#include "rt/keys.h"

struct redis_link;

/* Hash of gateway id to its drain's JSON (drain_encode()). */
#define STORE_DRAINS_KEY KEYS_PREFIX "drains"

/* Stream per gateway with the session moves its agent should make. */
#define STORE_MOVES_PREFIX KEYS_PREFIX "moves:"

/* Entries kept per moves stream (XADD MAXLEN ~). */
#define STORE_MOVES_MAXLEN 10000

/* Reports read per scan at most; further keys are left for later. */
#define STORE_MAX_REPORTS 1024

struct store_stats {
    uint64_t reports_read;      /* valid reports returned */
    uint64_t reports_invalid;   /* report values skipped as garbage */
    uint64_t plans_written;
    uint64_t writes_fenced;     /* writes the fence refused */
    uint64_t redis_errors;      /* failed commands of any kind */
};

struct store_admin {
    char gateway_id[CLUSTER_ID_MAX + 1];
    enum cluster_admin_state admin;
};

/* Admin and drain states as stored; arrays lent to the callback. */
struct store_state {
    size_t n_admin;
    const struct store_admin *admin;
    size_t n_drains;
    const struct drain *drains;
};

/*
 * One session move for an agent, in the fields that agent/move_stream.h
 * reads; strings are borrowed for the call.
 */
struct store_move {
    const char *selector;       /* stream field: "peer", "id" or "spi" */
    const char *value;          /* address, IKE identity, SPIi in hex */
    const char *to;             /* address clients reach the target at */
    const char *target_id;      /* gateway id of the target, informative */
    const char *move_id;        /* id that the agent's result carries */
    uint64_t expires_at_ms;     /* wall clock; the agent drops it after */
};

struct store;

/* Reports read; `reports` is lent for the call, valid ones only. */
typedef void store_reports_fn(struct store *s, int status,
    const struct cluster_report *reports, size_t n, void *arg);
typedef void store_state_fn(struct store *s, int status,
    const struct store_state *state, void *arg);
typedef void store_write_fn(struct store *s, int status, void *arg);
/* `text` is the stored plan, lent for the call; NULL with status -ENOENT
 * when KEYS_PLAN is absent. */
typedef void store_plan_fn(struct store *s, int status, const char *text,
    size_t len, void *arg);

/*
 * Creates a store on `link` (borrowed; its redis_link_free() cancels the
 * pending commands).  Returns NULL when out of memory.
 */
struct store *
store_new(struct redis_link *link);

/*
 * Frees the store; pending commands keep the memory until they complete,
 * and no callback runs after this call.  NULL is ignored.
 */
void
store_free(struct store *s);

/*
 * Reads every report key (SCAN by KEYS_REPORT_PREFIX, then GET, in one
 * script).  Values that fail cluster_report_parse(), or whose gateway_id
 * differs from the key, are counted in reports_invalid, logged at most
 * once per key per 10 s, and skipped.
 */
int
store_read_reports(struct store *s, store_reports_fn *cb, void *arg);

/*
 * Reads the admin states (KEYS_ADMIN) and drains (STORE_DRAINS_KEY).
 * Invalid entries are logged and skipped.
 */
int
store_load_state(struct store *s, store_state_fn *cb, void *arg);

/*
 * Reads the stored plan (GET KEYS_PLAN) as text, for a standby that
 * serves GET /v1/plan.  The caller parses it.
 */
int
store_read_plan(struct store *s, store_plan_fn *cb, void *arg);

/*
 * Writes `plan` (encoded here; borrowed) to KEYS_PLAN and PUBLISHes its
 * epoch on KEYS_PLAN_CHANNEL, if `fence` still holds the lease.
 */
int
store_write_plan(struct store *s, const struct leader_fence *fence,
    const struct cluster_plan *plan, store_write_fn *cb, void *arg);

/*
 * Stores a gateway's admin state and its drain (NULL removes the drain)
 * in one fenced script.  `d` is encoded before this returns.
 */
int
store_save_gateway(struct store *s, const struct leader_fence *fence,
    const char *gateway_id, enum cluster_admin_state admin,
    const struct drain *d, store_write_fn *cb, void *arg);

/*
 * Appends `move` to the stream STORE_MOVES_PREFIX<gateway_id> with XADD
 * MAXLEN ~ STORE_MOVES_MAXLEN, fenced.
 */
int
store_push_move(struct store *s, const struct leader_fence *fence,
    const char *gateway_id, const struct store_move *move,
    store_write_fn *cb, void *arg);

/* Returns the counters, lent for the store's lifetime. */
const struct store_stats *
store_get_stats(const struct store *s);

/*
 * Parses an admin state name into *out.  Returns 0, or -EINVAL for a
 * name that is not one of cluster_admin_state_name()'s.
 */
int
store_parse_admin(const char *name, size_t len,
    enum cluster_admin_state *out);

#endif /* IKESHIFT_STORE_H */
