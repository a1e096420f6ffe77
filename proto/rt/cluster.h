/*
 * The cluster's own protocol, in memory: what an agent reports about its
 * gateway, and the plan the controller computes for every gateway.  Both
 * travel through Redis as JSON; cluster_report.h and cluster_plan.h encode
 * and parse them.  Times are milliseconds: `_ms` fields ending in `_at_ms`
 * are wall-clock Unix times, others are durations.
 */
#ifndef IKESHIFT_CLUSTER_H
#define IKESHIFT_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLUSTER_ID_MAX          63      /* gateway id, site: [A-Za-z0-9._-] */
#define CLUSTER_ADDR_TEXT_MAX   255     /* an address or an FQDN as text */
#define CLUSTER_MAX_ADDRS       8       /* unicast addresses per gateway */
#define CLUSTER_MAX_TARGETS     64      /* redirect targets per gateway */
#define CLUSTER_FORMAT_VERSION  1

/* Operator intent for one gateway, kept by the controller. */
enum cluster_admin_state {
    CLUSTER_ADMIN_ACTIVE,
    CLUSTER_ADMIN_DRAINING,
    CLUSTER_ADMIN_DRAINED,
    CLUSTER_ADMIN_MAINTENANCE,
};

/* What the agent itself says it is doing. */
enum cluster_agent_state {
    CLUSTER_AGENT_SERVING,
    CLUSTER_AGENT_DRAINING,     /* draining itself, e.g. after SIGTERM */
    CLUSTER_AGENT_STOPPING,
};

/* One agent's report, written about once a second with a short TTL. */
struct cluster_report {
    char gateway_id[CLUSTER_ID_MAX + 1];
    char site[CLUSTER_ID_MAX + 1];
    enum cluster_agent_state state;
    uint64_t sent_at_ms;            /* agent's wall clock */
    uint32_t interval_ms;           /* the agent's report interval */
    uint32_t ike_sas;               /* established IKE SAs */
    uint32_t half_open;             /* half-open IKE SAs */
    uint32_t half_open_limit;
    uint32_t capacity;              /* maximum IKE SAs this gateway takes */
    uint32_t pool_used;             /* inner addresses leased */
    uint32_t pool_size;
    uint16_t cpu_busiest_permille;  /* busiest core, 0-1000 */
    uint64_t plan_epoch;            /* last plan applied, 0 for none */
    char config_hash[65];           /* hex SHA-256 of the config file */
    size_t n_unicast;
    char unicast[CLUSTER_MAX_ADDRS][CLUSTER_ADDR_TEXT_MAX + 1];
    char public_addr[CLUSTER_ADDR_TEXT_MAX + 1];  /* after NAT, or "" */
    char anycast[CLUSTER_ADDR_TEXT_MAX + 1];      /* or "" */
    /* Counters since the agent started. */
    uint64_t redirects_sent;
    uint64_t sas_established;
    uint64_t drops;
};

/* A redirect target as the plan names it: an address clients can reach
 * (the public one for a gateway behind NAT), with its weight. */
struct cluster_target {
    char gateway_id[CLUSTER_ID_MAX + 1];
    char address[CLUSTER_ADDR_TEXT_MAX + 1];    /* IPv4, IPv6 or FQDN */
    uint32_t weight;                            /* 1-65535 */
};

/* The plan's entry for one gateway. */
struct cluster_plan_gateway {
    char gateway_id[CLUSTER_ID_MAX + 1];
    enum cluster_admin_state admin;
    bool accept_new;                /* takes new clients itself */
    uint32_t weight;                /* its own weight as a target, 0 if none */
    size_t n_targets;
    struct cluster_target targets[CLUSTER_MAX_TARGETS];
    /* Evacuation by mid-session REDIRECT while draining. */
    uint32_t drain_pace_per_s;      /* 0 when not draining */
    uint64_t drain_deadline_at_ms;  /* 0 when not draining */
};

/* The whole plan, stored under one key and published by its epoch. */
struct cluster_plan {
    uint64_t epoch;                 /* increases with every plan */
    uint64_t leader_term;           /* fencing token of the writing leader */
    char leader_id[CLUSTER_ID_MAX + 1];
    uint64_t created_at_ms;
    uint64_t expires_at_ms;         /* agents fail open after this */
    size_t n_gateways;
    struct cluster_plan_gateway *gateways;  /* n_gateways entries, owned */
};

#endif /* IKESHIFT_CLUSTER_H */
