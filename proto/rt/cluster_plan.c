/*
 * Plan encoding and parsing.  The field readers live in cluster_report.c.
 */
#include "rt/cluster_plan.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt/log.h"

#define PLAN_I64_MAX ((uint64_t)INT64_MAX)

/* Sized for "plan.gateways[255].targets[63]" with room to spare. */
#define PLAN_PATH_SIZE 64

static const char *const plan_admin_names[] = {
    "active", "draining", "drained", "maintenance", NULL,
};

/* Reads an array of 0..max elements, or reports it. */
static const json_t *
plan_get_array(const json_t *obj, const char *parent, const char *key,
    size_t max, const char *what, char *err, size_t err_size)
{
    const json_t *arr = json_object_get(obj, key);

    if (arr == NULL || !json_is_array(arr) || json_array_size(arr) > max) {
        cluster_json_error(err, err_size, parent, key,
            "%s, expected an array of 0-%zu %s", arr == NULL ? "missing" :
            json_is_array(arr) ? "too many elements" : "invalid type", max,
            what);
        return NULL;
    }
    return arr;
}

static int
plan_read_target(const json_t *v, const char *parent,
    struct cluster_target *t, char *err, size_t err_size)
{
    uint64_t weight;
    uint64_t load;

    if (!json_is_object(v)) {
        cluster_json_error(err, err_size, parent, NULL,
            "invalid type, expected an object");
        return -EINVAL;
    }
    if (cluster_json_get_text(v, parent, "gateway_id", CLUSTER_TEXT_ID, 0,
        t->gateway_id, sizeof(t->gateway_id), err, err_size) < 0 ||
        cluster_json_get_text(v, parent, "address", CLUSTER_TEXT_ADDR,
        CLUSTER_ADDR_IP | CLUSTER_ADDR_FQDN, t->address, sizeof(t->address),
        err, err_size) < 0 ||
        cluster_json_get_uint(v, parent, "weight", 1, CLUSTER_WEIGHT_MAX,
        &weight, err, err_size) < 0)
        return -EINVAL;
    t->weight = (uint32_t)weight;
    /* Optional, because plans written before the field existed lack it;
     * such targets count as idle. */
    t->load_permille = 0;
    if (json_object_get(v, "load_permille") == NULL)
        return 0;
    if (cluster_json_get_uint(v, parent, "load_permille", 0,
        CLUSTER_LOAD_PERMILLE_MAX, &load, err, err_size) < 0)
        return -EINVAL;
    t->load_permille = (uint16_t)load;
    return 0;
}

static int
plan_read_targets(const json_t *gw, const char *parent,
    struct cluster_plan_gateway *g, char *err, size_t err_size)
{
    char path[PLAN_PATH_SIZE];
    const json_t *arr = plan_get_array(gw, parent, "targets",
        CLUSTER_MAX_TARGETS, "targets", err, err_size);

    if (arr == NULL)
        return -EINVAL;
    g->n_targets = json_array_size(arr);
    for (size_t i = 0; i < g->n_targets; i++) {
        if (snprintf(path, sizeof(path), "%s.targets[%zu]", parent, i) < 0)
            return -EINVAL;
        if (plan_read_target(json_array_get(arr, i), path, &g->targets[i],
            err, err_size) < 0)
            return -EINVAL;
        /* Maglev places targets by id, so an id may appear once. */
        for (size_t j = 0; j < i; j++) {
            if (strcmp(g->targets[j].gateway_id,
                g->targets[i].gateway_id) == 0) {
                cluster_json_error(err, err_size, path, "gateway_id",
                    "duplicate value %s, also in targets[%zu]",
                    g->targets[i].gateway_id, j);
                return -EINVAL;
            }
        }
    }
    return 0;
}

static int
plan_read_gateway(const json_t *v, const char *parent,
    struct cluster_plan_gateway *g, char *err, size_t err_size)
{
    uint64_t n;
    int admin;

    if (!json_is_object(v)) {
        cluster_json_error(err, err_size, parent, NULL,
            "invalid type, expected an object");
        return -EINVAL;
    }
    if (cluster_json_get_text(v, parent, "gateway_id", CLUSTER_TEXT_ID, 0,
        g->gateway_id, sizeof(g->gateway_id), err, err_size) < 0)
        return -EINVAL;
    if (cluster_json_get_enum(v, parent, "admin", plan_admin_names, &admin,
        err, err_size) < 0)
        return -EINVAL;
    g->admin = (enum cluster_admin_state)admin;
    if (cluster_json_get_bool(v, parent, "accept_new", &g->accept_new, err,
        err_size) < 0)
        return -EINVAL;
    if (cluster_json_get_uint(v, parent, "weight", 0, CLUSTER_WEIGHT_MAX, &n,
        err, err_size) < 0)
        return -EINVAL;
    g->weight = (uint32_t)n;
    if (plan_read_targets(v, parent, g, err, err_size) < 0)
        return -EINVAL;
    if (cluster_json_get_uint(v, parent, "drain_pace_per_s", 0,
        CLUSTER_PLAN_MAX_PACE, &n, err, err_size) < 0)
        return -EINVAL;
    g->drain_pace_per_s = (uint32_t)n;
    return cluster_json_get_uint(v, parent, "drain_deadline_at_ms", 0,
        PLAN_I64_MAX, &g->drain_deadline_at_ms, err, err_size);
}

static int
plan_read_header(const json_t *root, struct cluster_plan *p, char *err,
    size_t err_size)
{
    uint64_t version;

    if (!json_is_object(root)) {
        cluster_json_error(err, err_size, "plan", NULL,
            "invalid type, expected an object");
        return -EINVAL;
    }
    if (cluster_json_get_uint(root, "plan", "version", 1, PLAN_I64_MAX,
        &version, err, err_size) < 0)
        return -EINVAL;
    if (version != CLUSTER_FORMAT_VERSION) {
        cluster_json_error(err, err_size, "plan", "version",
            "unsupported version %" PRIu64 ", expected %d", version,
            CLUSTER_FORMAT_VERSION);
        return -EINVAL;
    }
    if (cluster_json_get_uint(root, "plan", "epoch", 1, PLAN_I64_MAX,
        &p->epoch, err, err_size) < 0 ||
        cluster_json_get_uint(root, "plan", "leader_term", 0, PLAN_I64_MAX,
        &p->leader_term, err, err_size) < 0 ||
        cluster_json_get_text(root, "plan", "leader_id", CLUSTER_TEXT_ID, 0,
        p->leader_id, sizeof(p->leader_id), err, err_size) < 0 ||
        cluster_json_get_uint(root, "plan", "created_at_ms", 0, PLAN_I64_MAX,
        &p->created_at_ms, err, err_size) < 0 ||
        cluster_json_get_uint(root, "plan", "expires_at_ms", 0, PLAN_I64_MAX,
        &p->expires_at_ms, err, err_size) < 0)
        return -EINVAL;
    if (p->expires_at_ms <= p->created_at_ms) {
        cluster_json_error(err, err_size, "plan", "expires_at_ms",
            "invalid value %" PRIu64 ", expected above created_at_ms %"
            PRIu64, p->expires_at_ms, p->created_at_ms);
        return -EINVAL;
    }
    return 0;
}

static int
plan_read(const json_t *root, struct cluster_plan *p, char *err,
    size_t err_size)
{
    char path[PLAN_PATH_SIZE];

    if (plan_read_header(root, p, err, err_size) < 0)
        return -EINVAL;
    const json_t *arr = plan_get_array(root, "plan", "gateways",
        CLUSTER_PLAN_MAX_GATEWAYS, "gateways", err, err_size);
    if (arr == NULL)
        return -EINVAL;
    size_t n = json_array_size(arr);
    if (n > 0 && (p->gateways = calloc(n, sizeof(*p->gateways))) == NULL) {
        cluster_json_error(err, err_size, "plan", NULL, "out of memory");
        return -ENOMEM;
    }
    p->n_gateways = n;
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "plan.gateways[%zu]", i);
        if (plan_read_gateway(json_array_get(arr, i), path, &p->gateways[i],
            err, err_size) < 0)
            return -EINVAL;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(p->gateways[j].gateway_id,
                p->gateways[i].gateway_id) == 0) {
                cluster_json_error(err, err_size, path, "gateway_id",
                    "duplicate value %s, also in gateways[%zu]",
                    p->gateways[i].gateway_id, j);
                return -EINVAL;
            }
        }
    }
    return 0;
}

int
cluster_plan_parse(const char *text, size_t len, struct cluster_plan *out,
    char *err, size_t err_size)
{
    json_error_t jerr;
    int ret;

    memset(out, 0, sizeof(*out));
    if (err != NULL && err_size > 0)
        err[0] = '\0';
    if (len > CLUSTER_PLAN_TEXT_MAX) {
        cluster_json_error(err, err_size, "plan", NULL,
            "text of %zu bytes exceeds the limit of %d", len,
            CLUSTER_PLAN_TEXT_MAX);
        return -EMSGSIZE;
    }
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        cluster_json_error(err, err_size, "plan", NULL,
            "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
            jerr.text);
        return -EINVAL;
    }
    ret = plan_read(root, out, err, err_size);
    json_decref(root);
    if (ret < 0)
        cluster_plan_clear(out);
    return ret;
}

void
cluster_plan_clear(struct cluster_plan *plan)
{
    if (plan == NULL)
        return;
    free(plan->gateways);
    memset(plan, 0, sizeof(*plan));
}

const struct cluster_plan_gateway *
cluster_plan_find_gateway(const struct cluster_plan *plan,
    const char *gateway_id)
{
    for (size_t i = 0; i < plan->n_gateways; i++)
        if (strcmp(plan->gateways[i].gateway_id, gateway_id) == 0)
            return &plan->gateways[i];
    return NULL;
}

/* Sets obj[key] to a copy of s[0..size), which must hold a NUL. */
static int
plan_put_text(json_t *obj, const char *key, const char *s, size_t size)
{
    size_t len = strnlen(s, size);

    if (len == size)
        return -EINVAL;
    return json_object_set_new(obj, key, json_stringn(s, len)) < 0 ?
        -ENOMEM : 0;
}

/* Sets obj[key] to v; values above INT64_MAX do not fit JSON integers. */
static int
plan_put_uint(json_t *obj, const char *key, uint64_t v)
{
    if (v > PLAN_I64_MAX)
        return -EINVAL;
    return json_object_set_new(obj, key, json_integer((json_int_t)v)) < 0 ?
        -ENOMEM : 0;
}

static int
plan_build_target(const struct cluster_target *t, json_t *arr)
{
    json_t *o = json_object();
    int ret;

    if (o == NULL || json_array_append_new(arr, o) < 0)
        return -ENOMEM;
    if ((ret = plan_put_text(o, "gateway_id", t->gateway_id,
        sizeof(t->gateway_id))) < 0 ||
        (ret = plan_put_text(o, "address", t->address,
        sizeof(t->address))) < 0)
        return ret;
    if ((ret = plan_put_uint(o, "weight", t->weight)) < 0)
        return ret;
    return plan_put_uint(o, "load_permille", t->load_permille);
}

static int
plan_build_gateway(const struct cluster_plan_gateway *g, json_t *arr)
{
    const char *admin = cluster_admin_state_name(g->admin);
    json_t *o = json_object();
    int ret;

    if (o == NULL || json_array_append_new(arr, o) < 0)
        return -ENOMEM;
    if (admin == NULL || g->n_targets > CLUSTER_MAX_TARGETS)
        return -EINVAL;
    if ((ret = plan_put_text(o, "gateway_id", g->gateway_id,
        sizeof(g->gateway_id))) < 0)
        return ret;
    if (json_object_set_new(o, "admin", json_string(admin)) < 0 ||
        json_object_set_new(o, "accept_new", json_boolean(g->accept_new)) < 0)
        return -ENOMEM;
    if ((ret = plan_put_uint(o, "weight", g->weight)) < 0)
        return ret;
    json_t *targets = json_array();
    if (targets == NULL || json_object_set_new(o, "targets", targets) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < g->n_targets; i++)
        if ((ret = plan_build_target(&g->targets[i], targets)) < 0)
            return ret;
    if ((ret = plan_put_uint(o, "drain_pace_per_s", g->drain_pace_per_s)) < 0)
        return ret;
    return plan_put_uint(o, "drain_deadline_at_ms", g->drain_deadline_at_ms);
}

static int
plan_build(const struct cluster_plan *p, json_t *root)
{
    int ret;

    if (p->n_gateways > CLUSTER_PLAN_MAX_GATEWAYS ||
        (p->n_gateways > 0 && p->gateways == NULL))
        return -EINVAL;
    if ((ret = plan_put_uint(root, "version", CLUSTER_FORMAT_VERSION)) < 0 ||
        (ret = plan_put_uint(root, "epoch", p->epoch)) < 0 ||
        (ret = plan_put_uint(root, "leader_term", p->leader_term)) < 0 ||
        (ret = plan_put_text(root, "leader_id", p->leader_id,
        sizeof(p->leader_id))) < 0 ||
        (ret = plan_put_uint(root, "created_at_ms", p->created_at_ms)) < 0 ||
        (ret = plan_put_uint(root, "expires_at_ms", p->expires_at_ms)) < 0)
        return ret;
    json_t *arr = json_array();
    if (arr == NULL || json_object_set_new(root, "gateways", arr) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < p->n_gateways; i++)
        if ((ret = plan_build_gateway(&p->gateways[i], arr)) < 0)
            return ret;
    return 0;
}

int
cluster_plan_encode(const struct cluster_plan *plan, char **out, char *err,
    size_t err_size)
{
    struct cluster_plan check = { 0 };
    char *text = NULL;
    json_t *root;
    int ret = -ENOMEM;

    *out = NULL;
    if (err != NULL && err_size > 0)
        err[0] = '\0';
    if ((root = json_object()) == NULL)
        goto out;
    if ((ret = plan_build(plan, root)) < 0) {
        /* NOTE: only checks that JSON cannot express end up here; the
         * parse below names the field for every other rule. */
        if (ret == -EINVAL)
            cluster_json_error(err, err_size, "plan", NULL,
                "a count, enum, text or integer in the struct cannot be "
                "encoded");
        goto out;
    }
    ret = -ENOMEM;
    if ((text = json_dumps(root, JSON_COMPACT)) == NULL)
        goto out;
    if ((ret = cluster_plan_parse(text, strlen(text), &check, err,
        err_size)) < 0)
        goto out;
    *out = text;
    text = NULL;
out:
    cluster_plan_clear(&check);
    free(text);
    json_decref(root);
    return ret;
}
