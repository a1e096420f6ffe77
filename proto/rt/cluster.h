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
/* An IKE identity as text, "type:value" (cluster_identity_format()); a
 * key-id of 255 octets takes 7 + 510 characters. */
#define CLUSTER_IDENTITY_TEXT_MAX 520

/* Operator intent for one gateway, kept by the controller. */
enum cluster_admin_state {
    CLUSTER_ADMIN_ACTIVE,
    CLUSTER_ADMIN_DRAINING,
    CLUSTER_ADMIN_DRAINED,
    CLUSTER_ADMIN_MAINTENANCE,
};

/* What the agent itself reports that it is doing. */
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
    /* The IDr the gateway presents, as cluster_identity_format() writes
     * it; "" from an agent that does not report it. */
    char identity[CLUSTER_IDENTITY_TEXT_MAX + 1];
    /* Counters since the agent started. */
    uint64_t redirects_sent;
    uint64_t sas_established;
    uint64_t drops;
};

#define CLUSTER_LOAD_PERMILLE_MAX   1000

/* A redirect target as the plan names it: an address clients can reach
 * (the public one for a gateway behind NAT), with its weight and load. */
struct cluster_target {
    char gateway_id[CLUSTER_ID_MAX + 1];
    char address[CLUSTER_ADDR_TEXT_MAX + 1];    /* IPv4, IPv6 or FQDN */
    uint32_t weight;                            /* 1-65535 */
    /* Smoothed bottleneck load, 0-1000, for the second choice; 0 in a
     * plan that omits it. */
    uint16_t load_permille;
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

/*
 * Helpers shared by the report and plan parsers (cluster_report.c and
 * cluster_plan.c).  They are defined in cluster_report.c.
 */

/* Size of the error text that the parsers write, NUL included. */
#define CLUSTER_ERR_SIZE 256

/* Flags for cluster_addr_is_valid(). */
#define CLUSTER_ADDR_IP     0x01    /* IPv4 or IPv6 literal */
#define CLUSTER_ADDR_FQDN   0x02    /* a DNS name, RFC 1123 labels */

/*
 * Returns true if s[0..len) is 1 to CLUSTER_ID_MAX characters of
 * [A-Za-z0-9._-], or empty when `allow_empty` is set.
 */
bool
cluster_id_is_valid(const char *s, size_t len, bool allow_empty);

/*
 * Returns true if s[0..len) is an address of a kind that `flags` allows.
 * CLUSTER_ADDR_IP accepts what inet_pton() reads as IPv4 or IPv6.
 * CLUSTER_ADDR_FQDN accepts a DNS name of at most 253 characters, made of
 * labels of 1-63 letters, digits and inner hyphens (RFC 1123, 2.1).
 */
bool
cluster_addr_is_valid(const char *s, size_t len, int flags);

/*
 * Writes the IKE identity of `type` (IKE_ID_FQDN, IKE_ID_RFC822_ADDR,
 * IKE_ID_IPV4_ADDR, IKE_ID_IPV6_ADDR or IKE_ID_KEY_ID) and data[0..len)
 * as "fqdn:vpn.example.net", "email:a@example.net", "ipv4:198.51.100.1",
 * "ipv6:2001:db8::1" or "key-id:" and lower-case hex, the type names of
 * the agent's configuration.  Returns 0, or -EINVAL for another type, a
 * value that is empty, of the wrong length or not printable, or text that
 * does not fit in out[0..size).
 */
int
cluster_identity_format(uint8_t type, const uint8_t *data, size_t len,
    char *out, size_t size);

/*
 * Writes the text of an identity given as configured: a type name of the
 * list above and its value (for key-id, the octets of `value` itself, as
 * the agent reads it).  An IPv4 or IPv6 value is written in the form
 * inet_ntop() gives, so "2001:DB8:0::1" and "2001:db8::1" agree.  Returns
 * 0 or -EINVAL.
 */
int
cluster_identity_from_config(const char *type, const char *value, char *out,
    size_t size);

/* Returns true if s[0..len) is text that cluster_identity_format() can
 * write; "" is valid when `allow_empty` is set. */
bool
cluster_identity_is_valid(const char *s, size_t len, bool allow_empty);

/*
 * Returns true if identity texts `a` and `b` name the same identity: the
 * same type, and the same value, without regard to case for fqdn and
 * email (DNS names compare that way, RFC 4343).
 */
bool
cluster_identity_equal(const char *a, const char *b);

/* Returns the wire name of a state, or NULL for a value outside the enum. */
const char *
cluster_admin_state_name(enum cluster_admin_state state);
const char *
cluster_agent_state_name(enum cluster_agent_state state);

struct json_t;

/*
 * Typed readers for one JSON value.  Each reads obj[key], or `obj` itself
 * when `key` is NULL, and names the value `parent.key` (or `parent`) in
 * the error text written to err[0..err_size).  They return 0, or -EINVAL
 * when the value is missing, of the wrong type or out of range.
 */
int
cluster_json_get_uint(const struct json_t *obj, const char *parent,
    const char *key, uint64_t min, uint64_t max, uint64_t *out, char *err,
    size_t err_size);
int
cluster_json_get_bool(const struct json_t *obj, const char *parent,
    const char *key, bool *out, char *err, size_t err_size);

/* Kinds of text that cluster_json_get_text() accepts. */
enum cluster_text_kind {
    CLUSTER_TEXT_ID,            /* cluster_id_is_valid(), not empty */
    CLUSTER_TEXT_ID_OR_EMPTY,
    CLUSTER_TEXT_ADDR,          /* cluster_addr_is_valid() with addr_flags */
    CLUSTER_TEXT_SHA256_OR_EMPTY,   /* 64 lower-case hex digits, or "" */
    CLUSTER_TEXT_IDENTITY_OR_EMPTY, /* cluster_identity_is_valid(), or "" */
};

#define CLUSTER_ADDR_EMPTY  0x04    /* CLUSTER_TEXT_ADDR: "" is allowed */

/*
 * Reads a string of `kind` into out[0..size) (NUL-terminated).  A string
 * that does not fit is invalid.
 */
int
cluster_json_get_text(const struct json_t *obj, const char *parent,
    const char *key, enum cluster_text_kind kind, int addr_flags, char *out,
    size_t size, char *err, size_t err_size);

/*
 * Reads one of the NULL-terminated `names` and stores its index in *out.
 */
int
cluster_json_get_enum(const struct json_t *obj, const char *parent,
    const char *key, const char *const *names, int *out, char *err,
    size_t err_size);

/* Writes "parent.key: reason" (or "parent: reason") into err. */
void
cluster_json_error(char *err, size_t err_size, const char *parent,
    const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif /* IKESHIFT_CLUSTER_H */
