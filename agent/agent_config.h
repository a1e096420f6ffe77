/*
 * The agent's JSON configuration file, read through rt/config.h.  Every
 * key is validated; errors name file:line:col and the key path.  The keys
 * are documented in docs/agent-config.md.
 */
#ifndef IKESHIFT_AGENT_CONFIG_H
#define IKESHIFT_AGENT_CONFIG_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "cluster_link.h"
#include "engine_config.h"
#include "policy_static.h"
#include "rt/log.h"

#define AGENT_MAX_ADDRS 8
#define AGENT_PASSWORD_MAX 512

/* The "cluster" section; absent means the static policy alone. */
struct agent_cluster_config {
    bool enabled;
    struct cluster_link_config link;    /* strings point into the file */
    char redis_host[INET6_ADDRSTRLEN];
    const char *password_file;          /* NULL: no AUTH */
};

struct agent_config {
    struct config *file;                /* owns every string below */
    struct engine_config engine;        /* points into this struct */
    struct policy_static policy;
    struct sockaddr_storage unicast[AGENT_MAX_ADDRS];
    size_t n_unicast;
    struct sockaddr_storage anycast[AGENT_MAX_ADDRS];
    size_t n_anycast;
    uint16_t ike_port;
    uint16_t natt_port;
    int64_t rcvbuf;                     /* SO_RCVBUF in bytes */
    struct engine_psk *psks;
    struct policy_static_rule *rules;
    const char *control_socket;
    const char *debug_keys_file;        /* NULL: no key log (the default) */
    enum log_level log_level;
    uint64_t drain_interval_ms;         /* between two REDIRECT batches */
    unsigned drain_batch;               /* REDIRECTs per batch */
    uint64_t drain_deadline_ms;         /* exit after this even if SAs stay */
    char config_hash[65];               /* hex SHA-256 of the file, or "" */
    struct agent_cluster_config cluster;
};

/*
 * Loads and validates the file at `path` into a new configuration.
 * Returns it, or NULL after printing every error to `errors` (one
 * "file:line:col: path: reason" line each).  Free with agent_config_free().
 */
struct agent_config *
agent_config_load(const char *path, FILE *errors);

/*
 * Reads the first line of cfg->cluster.password_file into
 * password[0..size).  Returns 0, -ENOENT when no file is configured, or
 * another negative errno (-EINVAL for an empty or over-long password).
 * The caller wipes the buffer with OPENSSL_cleanse() after use.
 */
int
agent_config_read_password(const struct agent_config *cfg, char *password,
    size_t size);

/* Frees cfg, wiping the keys; NULL is allowed. */
void
agent_config_free(struct agent_config *cfg);

#endif /* IKESHIFT_AGENT_CONFIG_H */
