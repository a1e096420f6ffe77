/*
 * Redis key and channel names of the cluster, in one place.  Every name
 * starts with KEYS_PREFIX so that one Redis can serve other applications;
 * docs/redis-keys.md describes what each key contains and who writes it.
 */
#ifndef IKESHIFT_RT_KEYS_H
#define IKESHIFT_RT_KEYS_H

#include <stddef.h>
#include <stdio.h>

#include "rt/cluster.h"

#define KEYS_PREFIX "ikeshift:"

/* String, one per gateway: the agent's report JSON (cluster_report.h),
 * written with SET ... PX KEYS_REPORT_TTL_INTERVALS * interval_ms. */
#define KEYS_REPORT_PREFIX KEYS_PREFIX "report:"

/* Reports outlive this many report intervals, so a gateway that stops
 * writing drops out after three intervals (3 s at an interval of 1 s). */
#define KEYS_REPORT_TTL_INTERVALS 3

/* String: the current plan JSON (cluster_plan.h), written by the leader. */
#define KEYS_PLAN KEYS_PREFIX "plan"

/* Channel: the leader PUBLISHes the plan's epoch in decimal after every
 * write of KEYS_PLAN. */
#define KEYS_PLAN_CHANNEL KEYS_PREFIX "plan:epoch"

/* String with a PX expiry: the id of the controller that holds the lease. */
#define KEYS_LEADER KEYS_PREFIX "leader"

/* Integer, INCR by each new leader: the fencing term in plans. */
#define KEYS_LEADER_TERM KEYS_PREFIX "leader:term"

/* Hash of gateway id to admin state name ("active", "draining", ...). */
#define KEYS_ADMIN KEYS_PREFIX "admin"

/* Buffer size for keys_report(), NUL included. */
#define KEYS_REPORT_SIZE (sizeof(KEYS_REPORT_PREFIX) + CLUSTER_ID_MAX)

/*
 * Writes the report key of `gateway_id` into buf[0..size) and returns
 * buf, or NULL when the key does not fit.
 */
static inline char *
keys_report(char *buf, size_t size, const char *gateway_id)
{
    int n = snprintf(buf, size, "%s%s", KEYS_REPORT_PREFIX, gateway_id);

    return n < 0 || (size_t)n >= size ? NULL : buf;
}

#endif /* IKESHIFT_RT_KEYS_H */
