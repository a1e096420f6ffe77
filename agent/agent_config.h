/*
 * The agent's JSON configuration file, read through rt/config.h.  Every
 * key is validated; errors name file:line:col and the key path.  The keys
 * are documented in docs/agent-config.md.
 */
#ifndef IKESHIFT_AGENT_CONFIG_H
#define IKESHIFT_AGENT_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "engine_config.h"
#include "policy_static.h"
#include "rt/log.h"

#define AGENT_MAX_ADDRS 8

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
};

/*
 * Loads and validates the file at `path` into a new configuration.
 * Returns it, or NULL after printing every error to `errors` (one
 * "file:line:col: path: reason" line each).  Free with agent_config_free().
 */
struct agent_config *
agent_config_load(const char *path, FILE *errors);

/* Frees cfg, wiping the keys; NULL is allowed. */
void
agent_config_free(struct agent_config *cfg);

#endif /* IKESHIFT_AGENT_CONFIG_H */
