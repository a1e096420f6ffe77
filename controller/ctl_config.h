/*
 * The controller's JSON configuration file, read through rt/config.h.
 * Every key is validated; errors name file:line:col and the key path.
 * docs/controller-config.md lists the keys, units and defaults.
 */
#ifndef IKESHIFT_CTL_CONFIG_H
#define IKESHIFT_CTL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gwreg.h"
#include "planner.h"
#include "rt/cluster.h"
#include "rt/log.h"

#define CTL_CONFIG_LOOP_MS          250
#define CTL_CONFIG_REDIS_PORT       6379
#define CTL_CONFIG_SECRET_MAX       512     /* password or token, bytes */
/* A buffer for one secret: the secret, its line end and a NUL. */
#define CTL_CONFIG_SECRET_BUF       (CTL_CONFIG_SECRET_MAX + 2)

struct ctl_config {
    struct config *file;                /* owns every string below */
    const char *controller_id;
    enum log_level log_level;
    uint32_t loop_ms;                   /* report read and plan period */

    /* "redis" */
    char redis_host[64];                /* IPv4 or IPv6 literal */
    uint16_t redis_port;
    const char *redis_user;             /* NULL: "default" */
    const char *redis_password_file;    /* NULL: no AUTH */
    uint32_t redis_connect_timeout_ms;
    uint32_t redis_command_timeout_ms;

    /* "lease" */
    uint32_t lease_ttl_ms;
    uint32_t lease_renew_ms;

    /* "api" */
    char api_address[64];
    uint16_t api_port;
    const char *api_read_write_token_file;  /* NULL: read-only API */
    const char *api_read_only_token_file;   /* NULL: none */
    bool api_read_requires_token;
    const char *api_tls_cert_file;
    const char *api_tls_key_file;

    /* "planner", "registry" */
    struct planner_config planner;
    struct gwreg_config registry;
};

/*
 * Loads and validates the file at `path`.  Returns a configuration that
 * the caller frees with ctl_config_free(), or NULL after writing every
 * error to `errors` ("file:line:col: path: reason", one per line).
 */
struct ctl_config *
ctl_config_load(const char *path, FILE *errors);

/* Frees `cfg`; NULL is ignored. */
void
ctl_config_free(struct ctl_config *cfg);

/*
 * Reads the first line of the regular file at `path` into buf[0..size),
 * without its line end.  The line may be up to size - 2 bytes long.
 * Returns 0 or -errno when the file cannot be read.  It returns -EISDIR
 * for a directory and -ENOTSUP for another file that is not regular,
 * because a FIFO would block.  An empty or over-long line, or one with a
 * NUL byte, gives -EINVAL.  The rest of buf is wiped, all of it on
 * failure.
 */
int
ctl_config_read_secret(const char *path, char *buf, size_t size);

#endif /* IKESHIFT_CTL_CONFIG_H */
