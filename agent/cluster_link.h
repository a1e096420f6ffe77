/*
 * The agent's side of the cluster, over two Redis links on the agent's
 * libuv loop: a command link for the report, the plan and the move stream,
 * and a subscriber link for the plan's epoch channel.
 *   - every report interval it SETs the report key (cluster_report.h) with
 *     a PX expiry;
 *   - it GETs the plan when the epoch channel announces one, each time the
 *     subscriber link becomes READY, and on a re-read timer, and hands the
 *     text to policy_plan_apply_text();
 *   - while the plan drains this gateway it sends paced mid-session
 *     REDIRECTs to the plan's targets until no SA is left or the deadline;
 *   - it runs moves from the gateway's stream (move_stream.h).
 * When Redis is down the agent keeps serving from the plan in memory, and
 * redis_link reconnects with backoff and logs each state change once.
 */
#ifndef IKESHIFT_CLUSTER_LINK_H
#define IKESHIFT_CLUSTER_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "move_stream.h"
#include "policy.h"
#include "policy_plan.h"
#include "rt/cluster.h"

struct cluster_link;

/* Defaults of the "cluster" configuration section. */
#define CLUSTER_LINK_REPORT_INTERVAL_MS 1000
#define CLUSTER_LINK_PLAN_REREAD_MS     5000
#define CLUSTER_LINK_MOVE_POLL_MS       250
#define CLUSTER_LINK_DRAIN_TICK_MS      100

/* Settings, all borrowed for the life of the link. */
/*
 * Source of the reported CPU load.  The agent runs one event-loop thread,
 * so by default it reports that thread's share of one core.  The host-wide
 * busiest core also counts other programs, so several gateways sharing one
 * machine would all look busy.
 */
enum cluster_cpu_source {
    CLUSTER_CPU_PROCESS,    /* the agent's CPU time over wall time */
    CLUSTER_CPU_HOST,       /* the busiest core in /proc/stat */
};

struct cluster_link_config {
    const char *redis_host;             /* IPv4 or IPv6 address */
    uint16_t redis_port;
    const char *user;                   /* ACL user, NULL for "default" */
    const char *password;               /* NULL: no AUTH */
    const char *gateway_id;
    const char *site;                   /* "" for none */
    uint64_t report_interval_ms;
    uint64_t report_ttl_ms;             /* PX of the report key */
    uint64_t plan_reread_ms;
    uint64_t move_poll_ms;
    uint32_t capacity;                  /* IKE SAs this gateway takes */
    enum cluster_cpu_source cpu_source; /* what cpu_busiest_permille means */
    const struct sockaddr_storage *unicast;
    size_t n_unicast;
    const struct sockaddr_storage *anycast;     /* first one reported */
    size_t n_anycast;
    const char *public_address;         /* after NAT, or NULL */
    const char *config_hash;            /* hex SHA-256, or "" */
};

/*
 * Fills the engine's share of a report: ike_sas, half_open,
 * half_open_limit, pool_used, pool_size and the counters.
 */
typedef void (*cluster_fill_report_fn)(void *arg, struct cluster_report *r);

/* Sends up to `max` mid-session REDIRECTs to `target`; returns the count. */
typedef size_t (*cluster_redirect_some_fn)(void *arg,
    const struct policy_target *target, size_t max);

/* Returns the number of IKE SAs the gateway holds. */
typedef size_t (*cluster_sa_count_fn)(void *arg);

/* What the link calls back into the agent; every one is required. */
struct cluster_link_ops {
    cluster_fill_report_fn fill_report;
    cluster_redirect_some_fn redirect_some;
    cluster_sa_count_fn sa_count;
    move_stream_execute_fn execute_move;
    void *arg;
};

/*
 * Creates the link on `loop`; `cfg`, `plan` and `ops` are borrowed and
 * must outlive it.  Nothing is sent before cluster_link_start().  Returns
 * NULL on invalid settings or out of memory.
 */
struct cluster_link *
cluster_link_new(uv_loop_t *loop, const struct cluster_link_config *cfg,
    struct policy_plan *plan, const struct cluster_link_ops *ops);

/* Connects both links and starts the timers.  Returns 0 or -errno. */
int
cluster_link_start(struct cluster_link *cl);

/*
 * Closes the links and frees `cl` in libuv close callbacks, so the loop
 * must run once more.  NULL is ignored.
 */
void
cluster_link_free(struct cluster_link *cl);

/* Sets the state that the next reports carry (draining after SIGTERM). */
void
cluster_link_set_state(struct cluster_link *cl,
    enum cluster_agent_state state);

/*
 * Sends up to `max` mid-session REDIRECTs, split over the targets of this
 * gateway's plan entry by weight: the SIGTERM drain of an agent without
 * policy.drain_target.  Returns how many were sent, 0 while the plan
 * lists no target.
 */
size_t
cluster_link_drain_some(struct cluster_link *cl, size_t max);

/* Writes the report now instead of at the next interval. */
void
cluster_link_report_now(struct cluster_link *cl);

/* Counters of the link, for tests and the control socket. */
struct cluster_link_stats {
    uint64_t reports_written;
    uint64_t report_errors;
    uint64_t plan_reads;
    uint64_t drain_redirects;
};

/* Returns the counters (lent). */
const struct cluster_link_stats *
cluster_link_get_stats(const struct cluster_link *cl);

/*
 * Returns the busiest core's load in permille between two /proc/stat
 * samples, `prev` and `cur` (text of the whole file), or 0 when either
 * has no per-core line.  Exposed for tests.
 */
uint16_t
cluster_cpu_busiest_permille(const char *prev, const char *cur);

#endif /* IKESHIFT_CLUSTER_LINK_H */
