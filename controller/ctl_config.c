/*
 * The controller's configuration file; docs/controller-config.md lists
 * the keys.
 */
#include "ctl_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "http_server.h"
#include "leader.h"
#include "rt/config.h"

/* Writes the address and port of `ss` into host[0..size) and *port. */
static void
ctl_config_split_addr(const struct sockaddr_storage *ss, char *host,
    size_t size, uint16_t *port)
{
    const void *a;

    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

        a = &s6->sin6_addr;
        *port = ntohs(s6->sin6_port);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

        a = &s4->sin_addr;
        *port = ntohs(s4->sin_port);
    }
    inet_ntop(ss->ss_family, a, host, (socklen_t)size);
}

/* Reads an optional duration in ms; `*out` keeps its value when absent. */
static void
ctl_config_read_ms(struct config_obj *o, const char *key, uint32_t *out,
    int64_t min, int64_t max)
{
    int64_t v;

    if (config_get_duration(o, key, 0, *out, min, max, 0, &v) == 0)
        *out = (uint32_t)v;
}

/* Reads an optional permille into a share 0..1; 0 leaves the default. */
static void
ctl_config_read_share(struct config_obj *o, const char *key, double *out,
    int64_t min, int64_t max)
{
    int64_t v;

    if (config_get_int(o, key, 0, 0, min, max, &v) == 0)
        *out = (double)v / 1000.0;
}

/* Reads the secret file of `key` once, so that -t finds what the start
 * would fail on; the secret itself is wiped at once. */
static void
ctl_config_check_secret(struct config_obj *o, const char *key,
    const char *path)
{
    char buf[CTL_CONFIG_SECRET_BUF];
    int rc;

    if (path == NULL)
        return;
    rc = ctl_config_read_secret(path, buf, sizeof(buf));
    OPENSSL_cleanse(buf, sizeof(buf));
    if (rc == -EISDIR)
        config_obj_error(o, key, "cannot use \"%s\": it is a directory",
            path);
    else if (rc == -ENOTSUP)
        config_obj_error(o, key, "cannot use \"%s\": it is not a regular"
            " file", path);
    else if (rc == -EINVAL)
        config_obj_error(o, key, "cannot use \"%s\": its first line is"
            " empty, longer than %d bytes or holds a NUL byte", path,
            CTL_CONFIG_SECRET_MAX);
    else if (rc < 0)
        config_obj_error(o, key, "cannot use \"%s\": %s", path,
            strerror(-rc));
}

static void
ctl_config_read_redis(struct ctl_config *c, struct config_obj *root)
{
    struct config_obj *o = config_get_object(root, "redis", 0);
    struct sockaddr_storage ss;

    if (config_get_addrport(o, "address", 0, "127.0.0.1",
        CTL_CONFIG_REDIS_PORT, &ss) >= 0 && ss.ss_family != AF_UNSPEC)
        ctl_config_split_addr(&ss, c->redis_host, sizeof(c->redis_host),
            &c->redis_port);
    config_get_string(o, "user", CONFIG_NONEMPTY, NULL, 128, &c->redis_user);
    config_get_string(o, "password_file", CONFIG_NONEMPTY, NULL, 4096,
        &c->redis_password_file);
    ctl_config_check_secret(o, "password_file", c->redis_password_file);
    c->redis_connect_timeout_ms = 2000;
    ctl_config_read_ms(o, "connect_timeout", &c->redis_connect_timeout_ms,
        100, 60000);
    c->redis_command_timeout_ms = 1000;
    ctl_config_read_ms(o, "command_timeout", &c->redis_command_timeout_ms,
        50, 60000);
}

static void
ctl_config_read_lease(struct ctl_config *c, struct config_obj *root)
{
    struct config_obj *o = config_get_object(root, "lease", 0);

    c->lease_ttl_ms = LEADER_TTL_MS_DEFAULT;
    ctl_config_read_ms(o, "ttl", &c->lease_ttl_ms, LEADER_TTL_MS_MIN,
        600000);
    c->lease_renew_ms = c->lease_ttl_ms / 3;
    ctl_config_read_ms(o, "renew_interval", &c->lease_renew_ms, 50, 600000);
    if (c->lease_renew_ms >= c->lease_ttl_ms)
        config_obj_error(o, "renew_interval", "must be below lease.ttl (%u"
            " ms)", (unsigned)c->lease_ttl_ms);
    if (c->redis_command_timeout_ms >= c->lease_ttl_ms)
        config_obj_error(o, "ttl", "must be above redis.command_timeout"
            " (%u ms)", (unsigned)c->redis_command_timeout_ms);
}

static void
ctl_config_read_api(struct ctl_config *c, struct config_obj *root)
{
    struct config_obj *o = config_get_object(root, "api", 0);
    struct sockaddr_storage ss;

    if (config_get_addrport(o, "listen", 0, "127.0.0.1:8680", 8680, &ss)
        >= 0 && ss.ss_family != AF_UNSPEC)
        ctl_config_split_addr(&ss, c->api_address, sizeof(c->api_address),
            &c->api_port);
    config_get_string(o, "read_write_token_file", CONFIG_NONEMPTY, NULL,
        4096, &c->api_read_write_token_file);
    config_get_string(o, "read_only_token_file", CONFIG_NONEMPTY, NULL,
        4096, &c->api_read_only_token_file);
    config_get_bool(o, "read_requires_token", 0, false,
        &c->api_read_requires_token);
    config_get_string(o, "tls_cert_file", CONFIG_NONEMPTY, NULL, 4096,
        &c->api_tls_cert_file);
    config_get_string(o, "tls_key_file", CONFIG_NONEMPTY, NULL, 4096,
        &c->api_tls_key_file);
    if ((c->api_tls_cert_file == NULL) != (c->api_tls_key_file == NULL))
        config_obj_error(o, c->api_tls_cert_file == NULL ? "tls_key_file" :
            "tls_cert_file", "tls_cert_file and tls_key_file must be set"
            " together");
    if (c->api_address[0] != '\0' && c->api_tls_cert_file == NULL &&
        !http_address_is_loopback(c->api_address))
        config_obj_error(o, "listen", "%s is not a loopback address, so the"
            " API needs tls_cert_file and tls_key_file", c->api_address);
    ctl_config_check_secret(o, "read_write_token_file",
        c->api_read_write_token_file);
    ctl_config_check_secret(o, "read_only_token_file",
        c->api_read_only_token_file);
}

static void
ctl_config_read_planner(struct ctl_config *c, struct config_obj *root)
{
    struct config_obj *o = config_get_object(root, "planner", 0);
    struct config_obj *r = config_get_object(root, "registry", 0);
    struct planner_config *p = &c->planner;

    ctl_config_read_share(o, "accept_threshold_permille",
        &p->accept_threshold, 1, 1000);
    ctl_config_read_share(o, "hysteresis_permille", &p->hysteresis, 1, 1000);
    p->slow_start_ms = PLANNER_SLOW_START_MS;
    ctl_config_read_ms(o, "slow_start", &p->slow_start_ms, 1, 3600000);
    ctl_config_read_share(o, "slow_start_floor_permille",
        &p->slow_start_floor, 1, 1000);
    p->plan_ttl_ms = PLANNER_PLAN_TTL_MS;
    ctl_config_read_ms(o, "plan_ttl", &p->plan_ttl_ms, 1000, 3600000);
    c->registry.expire_after_ms = GWREG_EXPIRE_AFTER_MS;
    ctl_config_read_ms(r, "expire_after", &c->registry.expire_after_ms, 100,
        600000);
    c->registry.load_tau_ms = GWREG_LOAD_TAU_MS;
    ctl_config_read_ms(r, "load_tau", &c->registry.load_tau_ms, 100,
        3600000);
}

/* "identity": the IDr every gateway presents, in the agent's form. */
static void
ctl_config_read_identity(struct ctl_config *c, struct config_obj *root)
{
    static const char *const types[] = {
        "fqdn", "email", "ipv4", "ipv6", "key-id", NULL,
    };
    struct config_obj *o;
    const char *value = NULL;
    int type = 0;

    if (!config_obj_has_key(root, "identity"))
        return;
    o = config_get_object(root, "identity", CONFIG_REQUIRED);
    config_get_enum(o, "type", 0, 0, types, &type);
    if (config_get_string(o, "value", CONFIG_REQUIRED | CONFIG_NONEMPTY, "",
        255, &value) != 0 || value == NULL)
        return;
    if (cluster_identity_from_config(types[type], value, c->registry.identity,
        sizeof(c->registry.identity)) < 0)
        config_obj_error(o, "value", "invalid %s identity \"%s\"%s",
            types[type], value, type >= 2 && type <= 3 ?
            ": expected an address" : ": expected printable ASCII without"
            " spaces");
}

static void
ctl_config_read_root(struct ctl_config *c, struct config_obj *root)
{
    static const char *const levels[] = {
        "error", "warn", "notice", "info", "debug", NULL,
    };
    int level;

    if (config_get_string(root, "controller_id", CONFIG_REQUIRED, "",
        CLUSTER_ID_MAX, &c->controller_id) == 0 &&
        !cluster_id_is_valid(c->controller_id, strlen(c->controller_id),
        false))
        config_obj_error(root, "controller_id", "invalid id \"%s\": expected"
            " 1-%d characters of A-Z a-z 0-9 . _ -", c->controller_id,
            CLUSTER_ID_MAX);
    config_get_enum(root, "log_level", 0, LOG_LEVEL_INFO, levels, &level);
    c->log_level = (enum log_level)level;
    c->loop_ms = CTL_CONFIG_LOOP_MS;
    ctl_config_read_ms(root, "loop_interval", &c->loop_ms, 10, 10000);
}

struct ctl_config *
ctl_config_load(const char *path, FILE *errors)
{
    struct ctl_config *c = calloc(1, sizeof(*c));
    struct config_obj *root;

    if (c == NULL || (c->file = config_load_file(path, NULL)) == NULL) {
        fprintf(errors, "%s: out of memory\n", path);
        free(c);
        return NULL;
    }
    root = config_root(c->file, 0);
    ctl_config_read_root(c, root);
    ctl_config_read_redis(c, root);
    ctl_config_read_lease(c, root);
    ctl_config_read_api(c, root);
    ctl_config_read_planner(c, root);
    ctl_config_read_identity(c, root);
    if (c->loop_ms >= c->lease_ttl_ms)
        config_obj_error(root, "loop_interval", "must be below lease.ttl"
            " (%u ms)", (unsigned)c->lease_ttl_ms);
    if (config_finish(c->file) > 0) {
        config_print_errors(c->file, errors);
        ctl_config_free(c);
        return NULL;
    }
    return c;
}

void
ctl_config_free(struct ctl_config *cfg)
{
    if (cfg == NULL)
        return;
    config_free(cfg->file);
    free(cfg);
}

int
ctl_config_read_secret(const char *path, char *buf, size_t size)
{
    struct stat st;
    FILE *fp;
    size_t n, len;
    int ret = -EINVAL;

    if (size < 2)
        return -EINVAL;
    if (stat(path, &st) < 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    if (!S_ISREG(st.st_mode))
        return -ENOTSUP;
    if ((fp = fopen(path, "r")) == NULL)
        return -errno;
    n = fread(buf, 1, size - 1, fp);
    for (len = 0; len < n && buf[len] != '\n' && buf[len] != '\r'; len++)
        if (buf[len] == '\0')
            goto out;           /* a NUL would cut the secret short */
    /* No line end within size - 1 bytes: longer than size - 2. */
    if (len == 0 || len == size - 1)
        goto out;
    buf[len] = '\0';
    OPENSSL_cleanse(buf + len + 1, size - len - 1);
    ret = 0;
out:
    if (ret < 0)
        OPENSSL_cleanse(buf, size);
    fclose(fp);
    return ret;
}
