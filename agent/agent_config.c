/*
 * Agent configuration loader.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "agent_config.h"
#include "ike_const.h"
#include "rt/cluster_report.h"
#include "rt/config.h"

/* Indexed by enum cluster_cpu_source. */
static const char *const cpu_sources[] = { "process", "host", NULL };

static const char *const auth_modes[] = {
    "complete-then-informational", "rfc", NULL,
};

static const char *const id_types[] = { "fqdn", "email", "ipv4", "ipv6",
    "key-id", NULL };

static bool
addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
            &((const struct sockaddr_in6 *)b)->sin6_addr,
            sizeof(struct in6_addr)) == 0;
    return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
        ((const struct sockaddr_in *)b)->sin_addr.s_addr;
}

static void
addr_format(const struct sockaddr_storage *ss, char *buf, size_t size)
{
    const void *a = ss->ss_family == AF_INET6 ?
        (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
        (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

    if (inet_ntop(ss->ss_family, a, buf, (socklen_t)size) == NULL)
        snprintf(buf, size, "?");
}

/* Returns the index of addr in list[0..n), or -1. */
static int
addr_find(const struct sockaddr_storage *list, size_t n,
    const struct sockaddr_storage *addr)
{
    for (size_t i = 0; i < n; i++) {
        if (addr_equal(&list[i], addr))
            return (int)i;
    }
    return -1;
}

/*
 * Reads an address list.  An address that appears twice in the list, or
 * that is also in `other` (named `other_key`), is an error because every
 * address gets its own socket and the second bind() fails with EADDRINUSE.
 */
static void
read_addrs(struct config_obj *o, const char *key, int flags,
    const struct sockaddr_storage *other, size_t n_other,
    const char *other_key, struct sockaddr_storage *out, size_t *n)
{
    struct config_arr *a = config_get_array(o, key, flags, flags ? 1 : 0,
        AGENT_MAX_ADDRS);
    char text[INET6_ADDRSTRLEN];

    *n = 0;
    for (size_t i = 0; i < config_arr_len(a); i++) {
        if (config_arr_get_addr(a, i, 0, &out[*n]) != 0)
            continue;
        addr_format(&out[*n], text, sizeof(text));
        if (addr_find(out, *n, &out[*n]) >= 0) {
            config_arr_error(a, i, "duplicate address %s in listen.%s", text,
                key);
            continue;
        }
        if (addr_find(other, n_other, &out[*n]) >= 0) {
            config_arr_error(a, i, "address %s is also in listen.%s; list"
                " each address once", text, other_key);
            continue;
        }
        (*n)++;
    }
}

static void
read_listen(struct agent_config *c, struct config_obj *root)
{
    struct config_obj *o = config_get_object(root, "listen", CONFIG_REQUIRED);
    int64_t v;

    read_addrs(o, "unicast", CONFIG_REQUIRED, NULL, 0, NULL, c->unicast,
        &c->n_unicast);
    read_addrs(o, "anycast", CONFIG_OPTIONAL, c->unicast, c->n_unicast,
        "unicast", c->anycast, &c->n_anycast);
    config_get_int(o, "ike_port", 0, 500, 1, 65535, &v);
    c->ike_port = (uint16_t)v;
    config_get_int(o, "natt_port", 0, 4500, 1, 65535, &v);
    c->natt_port = (uint16_t)v;
    config_get_int(o, "receive_buffer", 0, 4 << 20, 65536, 1 << 30,
        &c->rcvbuf);
    if (c->ike_port == c->natt_port)
        config_obj_error(o, "natt_port", "must differ from ike_port");
}

static void
read_identity(struct agent_config *c, struct config_obj *root)
{
    struct config_obj *o = config_get_object(root, "identity",
        CONFIG_REQUIRED);
    struct engine_config *e = &c->engine;
    char text[CLUSTER_IDENTITY_TEXT_MAX + 1];
    const char *value = "";
    int type = 0;

    config_get_enum(o, "type", 0, 0, id_types, &type);
    if (config_get_string(o, "value", CONFIG_REQUIRED | CONFIG_NONEMPTY, "",
        ENGINE_ID_MAX, &value) != 0)
        return;
    switch (type) {
    case 2:
        e->local_id_type = IKE_ID_IPV4_ADDR;
        if (inet_pton(AF_INET, value, e->local_id) != 1)
            config_obj_error(o, "value", "invalid IPv4 address");
        e->local_id_len = 4;
        return;
    case 3:
        e->local_id_type = IKE_ID_IPV6_ADDR;
        if (inet_pton(AF_INET6, value, e->local_id) != 1)
            config_obj_error(o, "value", "invalid IPv6 address");
        e->local_id_len = 16;
        return;
    default:
        e->local_id_type = type == 0 ? IKE_ID_FQDN : type == 1 ?
            IKE_ID_RFC822_ADDR : IKE_ID_KEY_ID;
        e->local_id_len = strlen(value);
        memcpy(e->local_id, value, e->local_id_len);
    }
    /* The report carries the identity as text, and the controller
     * compares it, so a value that the text cannot carry is refused. */
    if (cluster_identity_format(e->local_id_type, e->local_id,
        e->local_id_len, text, sizeof(text)) < 0)
        config_obj_error(o, "value", "invalid %s identity: expected"
            " printable ASCII without spaces", id_types[type]);
}

static void
read_proposals(struct agent_config *c, struct config_obj *root)
{
    struct engine_config *e = &c->engine;
    struct config_arr *a;
    const char *s, *why;

    a = config_get_array(root, "ike_proposals", 0, 1, ENGINE_MAX_PROPOSALS);
    for (size_t i = 0; i < config_arr_len(a); i++) {
        s = NULL;
        if (config_arr_get_string(a, i, CONFIG_NONEMPTY, 64, &s) == 0 &&
            engine_config_parse_ike(s, &e->ike[e->n_ike], &why) < 0)
            config_arr_error(a, i, "invalid IKE proposal \"%s\": %s", s, why);
        else if (s != NULL)
            e->n_ike++;
    }
    if (!config_obj_has_key(root, "ike_proposals")) {
        engine_config_parse_ike("aes256gcm16-prfsha256-x25519", &e->ike[0],
            &why);
        engine_config_parse_ike("aes256-sha256-ecp256", &e->ike[1], &why);
        engine_config_parse_ike("aes256-sha256-modp2048", &e->ike[2], &why);
        e->n_ike = 3;
    }
    a = config_get_array(root, "esp_proposals", 0, 1, ENGINE_MAX_PROPOSALS);
    for (size_t i = 0; i < config_arr_len(a); i++) {
        s = NULL;
        if (config_arr_get_string(a, i, CONFIG_NONEMPTY, 64, &s) == 0 &&
            engine_config_parse_esp(s, &e->esp[e->n_esp], &why) < 0)
            config_arr_error(a, i, "invalid ESP proposal \"%s\": %s", s, why);
        else if (s != NULL)
            e->n_esp++;
    }
    if (!config_obj_has_key(root, "esp_proposals")) {
        engine_config_parse_esp("aes256gcm16", &e->esp[0], &why);
        engine_config_parse_esp("aes256-sha256", &e->esp[1], &why);
        e->n_esp = 2;
    }
}

static bool
psk_find(const struct engine_psk *psks, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(psks[i].id, id) == 0)
            return true;
    }
    return false;
}

static void
read_clients(struct agent_config *c, struct config_obj *root)
{
    struct config_arr *a = config_get_array(root, "clients", CONFIG_REQUIRED,
        1, 0);
    size_t n = config_arr_len(a);

    if (n == 0 || (c->psks = calloc(n, sizeof(*c->psks))) == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        struct config_obj *o = config_arr_get_object(a, i, 0);
        struct engine_psk *p = &c->psks[c->engine.n_psks];
        const char *id = NULL, *secret = NULL;
        int len;

        config_get_string(o, "id", CONFIG_REQUIRED | CONFIG_NONEMPTY, NULL,
            ENGINE_ID_MAX, &id);
        if (config_get_string(o, "psk", CONFIG_REQUIRED | CONFIG_NONEMPTY,
            NULL, 0, &secret) != 0 || id == NULL)
            continue;
        if (psk_find(c->psks, c->engine.n_psks, id)) {
            config_obj_error(o, "id", "duplicate client id \"%s\"", id);
            continue;
        }
        len = engine_config_parse_psk(secret, p->key, sizeof(p->key));
        if (len < 0) {
            config_obj_error(o, "psk", "invalid key: expected text or 0x"
                " and an even number of hex digits, at most %d octets",
                ENGINE_PSK_MAX);
            continue;
        }
        p->id = id;
        p->key_len = (size_t)len;
        c->engine.n_psks++;
    }
    c->engine.psks = c->psks;
}

/* Tells whether two IPv4 prefixes share any address. */
static bool
prefix4_overlap(const struct config_prefix *a, const struct config_prefix *b)
{
    unsigned len = a->len < b->len ? a->len : b->len;
    uint32_t mask = len == 0 ? 0 : UINT32_MAX << (32 - len);

    return ((ntohl(a->addr.v4.s_addr) ^ ntohl(b->addr.v4.s_addr)) & mask)
        == 0;
}

static void
read_network(struct agent_config *c, struct config_obj *root)
{
    struct engine_config *e = &c->engine;
    struct config_arr *a;

    if (config_obj_has_key(root, "pool") &&
        config_get_prefix(root, "pool", CONFIG_IPV4, NULL, &e->pool) == 0) {
        e->have_pool = true;
        if (e->pool.len < 16 || e->pool.len > 29)
            config_obj_error(root, "pool", "prefix length must be 16-29");
    } else {
        /* Reads the key so that a bad value is reported. */
        config_get_prefix(root, "pool", CONFIG_IPV4, NULL, &e->pool);
    }
    a = config_get_array(root, "dns", 0, 0, ENGINE_MAX_DNS);
    for (size_t i = 0; i < config_arr_len(a); i++) {
        struct sockaddr_storage ss;

        if (config_arr_get_addr(a, i, CONFIG_IPV4, &ss) == 0)
            e->dns[e->n_dns++] = ((struct sockaddr_in *)&ss)->sin_addr;
    }
    a = config_get_array(root, "protected_subnets", 0, 0, ENGINE_MAX_SUBNETS);
    for (size_t i = 0; i < config_arr_len(a); i++) {
        struct config_prefix *sn = &e->subnets[e->n_subnets];

        if (config_arr_get_prefix(a, i, CONFIG_IPV4, sn) != 0)
            continue;
        /* Client inner addresses inside a protected subnet would make the
         * routes on the gateway ambiguous. */
        if (e->have_pool && prefix4_overlap(sn, &e->pool)) {
            char text[INET_ADDRSTRLEN];

            inet_ntop(AF_INET, &e->pool.addr.v4, text, sizeof(text));
            config_arr_error(a, i, "overlaps pool %s/%u", text, e->pool.len);
            continue;
        }
        e->n_subnets++;
    }
}

static void
read_ms(struct config_obj *o, const char *key, uint64_t *out, int64_t min,
    int64_t max)
{
    int64_t v;

    config_get_duration(o, key, 0, (int64_t)*out, min, max, 1000, &v);
    *out = (uint64_t)v;
}

static void
read_uint(struct config_obj *o, const char *key, unsigned *out, int64_t min,
    int64_t max)
{
    int64_t v;

    config_get_int(o, key, 0, *out, min, max, &v);
    *out = (unsigned)v;
}

static void
read_timers_limits(struct agent_config *c, struct config_obj *root)
{
    struct engine_config *e = &c->engine;
    struct config_obj *t = config_get_object(root, "timers", 0);
    struct config_obj *l = config_get_object(root, "limits", 0);
    struct config_obj *r = config_get_object(root, "redirect", 0);
    int mode = 0;

    read_ms(t, "half_open_timeout", &e->half_open_timeout_ms, 1000, 600000);
    read_ms(t, "liveness_interval", &e->liveness_interval_ms, 0, 86400000);
    read_ms(t, "retransmit_base", &e->retransmit_base_ms, 100, 60000);
    read_uint(t, "retransmit_tries", &e->retransmit_tries, 1, 10);
    read_ms(t, "cookie_rotate", &e->cookie_rotate_ms, 1000, 86400000);
    read_uint(l, "cookie_threshold", &e->cookie_threshold, 0, 10000000);
    read_uint(l, "max_half_open", &e->max_half_open, 1, 10000000);
    read_uint(l, "max_half_open_per_peer", &e->max_half_open_per_peer, 1,
        10000000);
    read_uint(l, "max_sas", &e->max_sas, 1, 100000000);
    /* At max_half_open every IKE_SA_INIT is dropped, even one with a valid
     * cookie, so cookies have to start before that. */
    if (e->cookie_threshold >= e->max_half_open)
        config_obj_error(l, "cookie_threshold", "must be below"
            " max_half_open (%u)", e->max_half_open);
    read_uint(l, "reply_rate", &e->reply_rate, 1, 10000000);
    read_uint(l, "reply_rate_per_peer", &e->reply_rate_per_peer, 1,
        10000000);
    read_uint(r, "client_max", &e->client_redirect_max, 1, 1000);
    read_ms(r, "client_period", &e->client_redirect_period_ms, 1000,
        86400000);
    read_ms(r, "grace", &e->redirect_grace_ms, 0, 3600000);
    read_ms(r, "auth_rfc_delete", &e->auth_redirect_delete_ms, 0, 3600000);
    read_ms(r, "auth_informational_delay", &e->auth_redirect_delay_ms, 0,
        10000);
    config_get_enum(r, "auth_mode", 0, 0, auth_modes, &mode);
    e->auth_redirect = mode == 1 ? ENGINE_AUTH_REDIRECT_RFC :
        ENGINE_AUTH_REDIRECT_INFORMATIONAL;
    config_get_bool(r, "childless", 0, true, &e->childless);
}

static void
read_target(struct config_obj *o, const char *key, bool *have,
    struct policy_target *t)
{
    const char *s = NULL;

    if (config_get_string(o, key, CONFIG_NONEMPTY, NULL, 255, &s) != 0 ||
        s == NULL)
        return;
    if (policy_target_from_text(t, s) < 0) {
        config_obj_error(o, key, "invalid gateway \"%s\": expected an IPv4 or"
            " IPv6 address or a host name", s);
        return;
    }
    *have = true;
}

static void
read_policy(struct agent_config *c, struct config_obj *root)
{
    struct config_obj *o = config_get_object(root, "policy", 0);
    struct policy_static *ps = &c->policy;
    struct config_arr *a;
    int state = 0;
    size_t n;

    config_get_enum(o, "state", 0, 0, policy_admin_state_names, &state);
    ps->state = (enum policy_admin_state)state;
    read_target(o, "anycast_target", &ps->have_anycast_target,
        &ps->anycast_target);
    read_target(o, "redirect_all_to", &ps->have_all_target, &ps->all_target);
    read_target(o, "drain_target", &ps->have_drain_target, &ps->drain_target);
    a = config_get_array(o, "identity_rules", 0, 0, 0);
    n = config_arr_len(a);
    if (n == 0 || (c->rules = calloc(n, sizeof(*c->rules))) == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        struct config_obj *r = config_arr_get_object(a, i, 0);
        struct policy_static_rule *rule = &c->rules[ps->n_rules];
        bool have = false;

        config_get_string(r, "id", CONFIG_REQUIRED | CONFIG_NONEMPTY, NULL,
            ENGINE_ID_MAX, &rule->id);
        if (!config_obj_has_key(r, "to"))
            config_obj_error(r, NULL, "missing key \"to\"");
        read_target(r, "to", &have, &rule->target);
        if (have && rule->id != NULL)
            ps->n_rules++;
    }
    ps->rules = c->rules;
}

static void
read_misc(struct agent_config *c, struct config_obj *root)
{
    struct config_obj *d = config_get_object(root, "drain", 0);
    const char *level = "info";
    unsigned batch = 10;

    config_get_string(root, "control_socket", CONFIG_NONEMPTY,
        "/run/ikeshift-agent.sock", 107, &c->control_socket);
    config_get_string(root, "debug_keys_file", CONFIG_NONEMPTY, NULL, 4096,
        &c->debug_keys_file);
    config_get_string(root, "log_level", CONFIG_NONEMPTY, "info", 16, &level);
    if (log_parse_level(level, &c->log_level) < 0)
        config_obj_error(root, "log_level", "invalid level \"%s\", expected %s",
            level, LOG_LEVEL_EXPECTED);
    c->drain_interval_ms = 100;
    c->drain_deadline_ms = 300000;
    read_ms(d, "interval", &c->drain_interval_ms, 1, 60000);
    read_uint(d, "batch", &batch, 1, 100000);
    c->drain_batch = batch;
    read_ms(d, "deadline", &c->drain_deadline_ms, 1000, 86400000);
}

/*
 * Reads the "cluster" section.  The report TTL defaults to two and a half
 * report intervals, so one lost report does not make the gateway vanish
 * and a dead agent drops out within three intervals.
 */
static void
read_cluster(struct agent_config *c, struct config_obj *root)
{
    struct config_obj *o = config_get_object(root, "cluster", 0);
    struct agent_cluster_config *cc = &c->cluster;
    struct cluster_link_config *l = &cc->link;
    struct sockaddr_storage ss;
    struct stat st;
    const void *a;
    int64_t v;
    int source;

    if (!config_obj_is_present(o))
        return;
    cc->enabled = true;
    if (config_get_addrport(o, "redis", CONFIG_REQUIRED, NULL, 6379, &ss)
        == 0) {
        a = ss.ss_family == AF_INET6 ?
            (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr :
            (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
        inet_ntop(ss.ss_family, a, cc->redis_host, sizeof(cc->redis_host));
        l->redis_port = ntohs(ss.ss_family == AF_INET6 ?
            ((struct sockaddr_in6 *)&ss)->sin6_port :
            ((struct sockaddr_in *)&ss)->sin_port);
    }
    l->redis_host = cc->redis_host;
    config_get_string(o, "user", CONFIG_NONEMPTY, NULL, 128, &l->user);
    if (config_get_string(o, "password_file", CONFIG_NONEMPTY, NULL, 4096,
        &cc->password_file) == 0 && cc->password_file != NULL &&
        stat(cc->password_file, &st) != 0)
        config_obj_error(o, "password_file", "cannot use \"%s\": %s",
            cc->password_file, strerror(errno));
    if (config_get_string(o, "gateway_id", CONFIG_REQUIRED, "", CLUSTER_ID_MAX,
        &l->gateway_id) == 0 &&
        !cluster_id_is_valid(l->gateway_id, strlen(l->gateway_id), false))
        config_obj_error(o, "gateway_id", "invalid id \"%s\": expected 1-%d"
            " characters of A-Z a-z 0-9 . _ -", l->gateway_id,
            CLUSTER_ID_MAX);
    if (config_get_string(o, "site", 0, "", CLUSTER_ID_MAX, &l->site) == 0 &&
        !cluster_id_is_valid(l->site, strlen(l->site), true))
        config_obj_error(o, "site", "invalid id \"%s\": expected 0-%d"
            " characters of A-Z a-z 0-9 . _ -", l->site, CLUSTER_ID_MAX);
    l->report_interval_ms = CLUSTER_LINK_REPORT_INTERVAL_MS;
    read_ms(o, "report_interval", &l->report_interval_ms,
        CLUSTER_REPORT_INTERVAL_MIN_MS, CLUSTER_REPORT_INTERVAL_MAX_MS);
    l->report_ttl_ms = l->report_interval_ms * 5 / 2;
    read_ms(o, "report_ttl", &l->report_ttl_ms, 200, 3600000);
    if (l->report_ttl_ms <= l->report_interval_ms)
        config_obj_error(o, "report_ttl", "must be above report_interval"
            " (%llu ms)", (unsigned long long)l->report_interval_ms);
    l->plan_reread_ms = CLUSTER_LINK_PLAN_REREAD_MS;
    read_ms(o, "plan_reread_interval", &l->plan_reread_ms, 100, 3600000);
    l->move_poll_ms = CLUSTER_LINK_MOVE_POLL_MS;
    read_ms(o, "move_poll_interval", &l->move_poll_ms, 10, 60000);
    config_get_int(o, "capacity", 0, c->engine.max_sas, 0, UINT32_MAX, &v);
    l->capacity = (uint32_t)v;
    config_get_enum(o, "cpu_source", 0, CLUSTER_CPU_PROCESS, cpu_sources,
        &source);
    l->cpu_source = (enum cluster_cpu_source)source;
    if (config_get_string(o, "public_address", CONFIG_NONEMPTY, NULL,
        CLUSTER_ADDR_TEXT_MAX, &l->public_address) == 0 &&
        !cluster_addr_is_valid(l->public_address,
        strlen(l->public_address), CLUSTER_ADDR_IP))
        config_obj_error(o, "public_address", "invalid address \"%s\":"
            " expected an IPv4 or IPv6 address", l->public_address);
    l->unicast = c->unicast;
    l->n_unicast = c->n_unicast;
    l->anycast = c->anycast;
    l->n_anycast = c->n_anycast;
    l->config_hash = c->config_hash;
}

/* Stores the hex SHA-256 of the file, or "" when it cannot be read. */
static void
hash_file(struct agent_config *c, const char *path)
{
    unsigned char md[EVP_MAX_MD_SIZE], buf[8192];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int md_len = 0;
    FILE *fp = fopen(path, "rb");
    size_t n;
    int ok = ctx != NULL && fp != NULL &&
        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;

    while (ok && (n = fread(buf, 1, sizeof(buf), fp)) > 0)
        ok = EVP_DigestUpdate(ctx, buf, n) == 1;
    if (ok && !ferror(fp) && EVP_DigestFinal_ex(ctx, md, &md_len) == 1 &&
        md_len == 32) {
        for (unsigned int i = 0; i < md_len; i++)
            snprintf(c->config_hash + 2 * i, 3, "%02x", md[i]);
    }
    if (fp != NULL)
        fclose(fp);
    EVP_MD_CTX_free(ctx);
}

int
agent_config_read_password(const struct agent_config *cfg, char *password,
    size_t size)
{
    FILE *fp;
    size_t len;
    int ret = -EINVAL;

    if (cfg->cluster.password_file == NULL)
        return -ENOENT;
    if ((fp = fopen(cfg->cluster.password_file, "r")) == NULL)
        return -errno;
    if (fgets(password, (int)size, fp) == NULL)
        goto out;
    len = strcspn(password, "\r\n");
    if (password[len] == '\0' && !feof(fp) && len + 1 == size)
        goto out;               /* longer than the buffer */
    password[len] = '\0';
    if (len > 0)
        ret = 0;
out:
    if (ret < 0)
        OPENSSL_cleanse(password, size);
    fclose(fp);
    return ret;
}

struct agent_config *
agent_config_load(const char *path, FILE *errors)
{
    struct agent_config *c = calloc(1, sizeof(*c));
    struct config_obj *root;

    if (c == NULL) {
        fprintf(errors, "%s: out of memory\n", path);
        return NULL;
    }
    if ((c->file = config_load_file(path, NULL)) == NULL) {
        fprintf(errors, "%s: out of memory\n", path);
        free(c);
        return NULL;
    }
    engine_config_init(&c->engine);
    root = config_root(c->file, 0);
    read_listen(c, root);
    read_identity(c, root);
    read_proposals(c, root);
    read_clients(c, root);
    read_network(c, root);
    read_timers_limits(c, root);
    read_policy(c, root);
    read_misc(c, root);
    read_cluster(c, root);
    hash_file(c, path);
    c->engine.anycast = c->anycast;
    c->engine.n_anycast = c->n_anycast;
    if (config_finish(c->file) > 0) {
        config_print_errors(c->file, errors);
        agent_config_free(c);
        return NULL;
    }
    return c;
}

void
agent_config_free(struct agent_config *cfg)
{
    if (cfg == NULL)
        return;
    if (cfg->psks != NULL) {
        OPENSSL_cleanse(cfg->psks, cfg->engine.n_psks * sizeof(*cfg->psks));
        free(cfg->psks);
    }
    free(cfg->rules);
    config_free(cfg->file);
    free(cfg);
}
