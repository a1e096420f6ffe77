/*
 * JSON form of the controller's plan (struct cluster_plan in cluster.h).
 * The controller stores it under one key and publishes its epoch; agents
 * parse it and must never act on a plan that fails any check here.
 *
 *   {"version":1,"epoch":42,"leader_term":3,"leader_id":"ctl-a",
 *    "created_at_ms":...,"expires_at_ms":...,
 *    "gateways":[{"gateway_id":"gw1","admin":"active","accept_new":true,
 *      "weight":100,"targets":[{"gateway_id":"gw2",
 *      "address":"198.51.100.2","weight":100,"load_permille":350}],
 *      "drain_pace_per_s":0,"drain_deadline_at_ms":0}]}
 *
 * As with reports, unknown keys are ignored.  A target's load_permille
 * is optional and reads as 0 when absent, so plans from controllers that
 * do not write it still parse.  docs/redis-keys.md lists every field.
 */
#ifndef IKESHIFT_RT_CLUSTER_PLAN_H
#define IKESHIFT_RT_CLUSTER_PLAN_H

#include <stddef.h>

#include "rt/cluster.h"

/* Limits that the parser enforces. */
#define CLUSTER_PLAN_MAX_GATEWAYS   256
#define CLUSTER_PLAN_TEXT_MAX       (8 * 1024 * 1024)
#define CLUSTER_PLAN_MAX_PACE       100000  /* drain_pace_per_s */
#define CLUSTER_WEIGHT_MAX          65535

/*
 * Encodes `plan` as compact JSON into *out, a NUL-terminated string that
 * the caller frees with free().  The text is checked with
 * cluster_plan_parse() before it is returned.  Returns 0, -EINVAL with the
 * reason in err[0..err_size), or -ENOMEM.
 */
int
cluster_plan_encode(const struct cluster_plan *plan, char **out, char *err,
    size_t err_size);

/*
 * Parses text[0..len) into *out, which the caller later releases with
 * cluster_plan_clear() (out->gateways is allocated).  Returns 0,
 * -EMSGSIZE above CLUSTER_PLAN_TEXT_MAX, -EINVAL for an invalid plan, or
 * -ENOMEM; on failure *out is empty and err names the first bad field,
 * e.g. "plan.gateways[2].targets[0].weight: invalid value 0, expected
 * 1-65535".
 */
int
cluster_plan_parse(const char *text, size_t len, struct cluster_plan *out,
    char *err, size_t err_size);

/*
 * Frees plan->gateways and zeroes *plan, which itself belongs to the
 * caller.  NULL is ignored.
 */
void
cluster_plan_clear(struct cluster_plan *plan);

/*
 * Returns the plan's entry for `gateway_id` (lent until the plan is
 * cleared), or NULL when the plan does not name it.
 */
const struct cluster_plan_gateway *
cluster_plan_find_gateway(const struct cluster_plan *plan,
    const char *gateway_id);

#endif /* IKESHIFT_RT_CLUSTER_PLAN_H */
