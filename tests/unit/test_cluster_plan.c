/*
 * Tests for the plan format: a hand-written plan, round trips, limits,
 * and a table of bad plans made by changing one value of the good one,
 * each with the error text written from the format's rules.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt/cluster_plan.h"

static const char good_plan[] =
    "{\"version\":1,\"epoch\":42,\"leader_term\":3,\"leader_id\":\"ctl-a\","
    "\"created_at_ms\":1767225600000,\"expires_at_ms\":1767225630000,"
    "\"gateways\":["
    "{\"gateway_id\":\"gw1\",\"admin\":\"active\",\"accept_new\":true,"
    "\"weight\":100,\"targets\":[],\"drain_pace_per_s\":0,"
    "\"drain_deadline_at_ms\":0},"
    "{\"gateway_id\":\"gw2\",\"admin\":\"draining\",\"accept_new\":false,"
    "\"weight\":0,\"targets\":["
    "{\"gateway_id\":\"gw1\",\"address\":\"198.51.100.1\",\"weight\":100,"
    "\"load_permille\":350},"
    "{\"gateway_id\":\"gw3\",\"address\":\"gw3.example.net\",\"weight\":50,"
    "\"load_permille\":1000}"
    "],\"drain_pace_per_s\":20,\"drain_deadline_at_ms\":1767226200000},"
    "{\"gateway_id\":\"gw3\",\"admin\":\"active\",\"accept_new\":true,"
    "\"weight\":50,\"targets\":["
    "{\"gateway_id\":\"gw1\",\"address\":\"2001:db8:1::1\",\"weight\":1}"
    "],\"drain_pace_per_s\":0,\"drain_deadline_at_ms\":0}]}";

/*
 * Returns good_plan with the value at `path` ("gateways.1.targets.0.weight",
 * numbers index arrays) set to the JSON text `value`, or removed when
 * value is "".  The caller frees the result.
 */
static char *
plan_with(const char *path, const char *value)
{
    json_t *root = json_loads(good_plan, 0, NULL);
    char buf[128], *save = NULL;
    json_t *parent = root;

    cr_assert_not_null(root);
    snprintf(buf, sizeof(buf), "%s", path);
    char *tok = strtok_r(buf, ".", &save);
    for (char *next; (next = strtok_r(NULL, ".", &save)) != NULL; tok = next) {
        parent = json_is_array(parent) ?
            json_array_get(parent, strtoul(tok, NULL, 10)) :
            json_object_get(parent, tok);
        cr_assert_not_null(parent, "bad test path %s", path);
    }
    json_t *v = value[0] != '\0' ? json_loads(value, JSON_DECODE_ANY, NULL) :
        NULL;
    if (value[0] != '\0')
        cr_assert_not_null(v, "bad test value %s", value);
    if (json_is_array(parent))
        json_array_set_new(parent, strtoul(tok, NULL, 10), v);
    else if (v == NULL)
        json_object_del(parent, tok);
    else
        json_object_set_new(parent, tok, v);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    cr_assert_not_null(text);
    return text;
}

TestSuite(cluster_plan);

Test(cluster_plan, parses_every_field)
{
    struct cluster_plan p;
    char err[CLUSTER_ERR_SIZE];

    cr_assert_eq(cluster_plan_parse(good_plan, strlen(good_plan), &p, err,
        sizeof(err)), 0, "%s", err);
    cr_expect_eq(p.epoch, 42);
    cr_expect_eq(p.leader_term, 3);
    cr_expect_str_eq(p.leader_id, "ctl-a");
    cr_expect_eq(p.created_at_ms, 1767225600000ull);
    cr_expect_eq(p.expires_at_ms, 1767225630000ull);
    cr_assert_eq(p.n_gateways, 3);
    cr_expect_str_eq(p.gateways[0].gateway_id, "gw1");
    cr_expect_eq(p.gateways[0].admin, CLUSTER_ADMIN_ACTIVE);
    cr_expect(p.gateways[0].accept_new);
    cr_expect_eq(p.gateways[0].weight, 100);
    cr_expect_eq(p.gateways[0].n_targets, 0);

    const struct cluster_plan_gateway *g = &p.gateways[1];
    cr_expect_eq(g->admin, CLUSTER_ADMIN_DRAINING);
    cr_expect_not(g->accept_new);
    cr_expect_eq(g->weight, 0);
    cr_assert_eq(g->n_targets, 2);
    cr_expect_str_eq(g->targets[0].gateway_id, "gw1");
    cr_expect_str_eq(g->targets[0].address, "198.51.100.1");
    cr_expect_eq(g->targets[0].weight, 100);
    cr_expect_eq(g->targets[0].load_permille, 350);
    cr_expect_str_eq(g->targets[1].address, "gw3.example.net");
    cr_expect_eq(g->targets[1].weight, 50);
    cr_expect_eq(g->targets[1].load_permille, 1000);
    cr_expect_eq(g->drain_pace_per_s, 20);
    cr_expect_eq(g->drain_deadline_at_ms, 1767226200000ull);
    cr_expect_str_eq(p.gateways[2].targets[0].address, "2001:db8:1::1");
    /* Plans from before load_permille existed omit it. */
    cr_expect_eq(p.gateways[2].targets[0].load_permille, 0);

    cr_expect_eq(cluster_plan_find_gateway(&p, "gw3"), &p.gateways[2]);
    cr_expect_null(cluster_plan_find_gateway(&p, "gw4"));
    cluster_plan_clear(&p);
    cr_expect_null(p.gateways);
    cr_expect_eq(p.n_gateways, 0);
    cluster_plan_clear(NULL);
}

static void
expect_same_plan(const struct cluster_plan *a, const struct cluster_plan *b)
{
    cr_expect_eq(a->epoch, b->epoch);
    cr_expect_eq(a->leader_term, b->leader_term);
    cr_expect_str_eq(a->leader_id, b->leader_id);
    cr_expect_eq(a->created_at_ms, b->created_at_ms);
    cr_expect_eq(a->expires_at_ms, b->expires_at_ms);
    cr_assert_eq(a->n_gateways, b->n_gateways);
    /* Parsed gateways start zeroed, so their padding compares too. */
    for (size_t i = 0; i < a->n_gateways; i++)
        cr_expect_eq(memcmp(&a->gateways[i], &b->gateways[i],
            sizeof(a->gateways[i])), 0, "gateway %zu differs", i);
}

Test(cluster_plan, round_trips_parsed_plan)
{
    struct cluster_plan a, b;
    char err[CLUSTER_ERR_SIZE];
    char *text;

    cr_assert_eq(cluster_plan_parse(good_plan, strlen(good_plan), &a, err,
        sizeof(err)), 0, "%s", err);
    cr_assert_eq(cluster_plan_encode(&a, &text, err, sizeof(err)), 0, "%s",
        err);
    cr_assert_eq(cluster_plan_parse(text, strlen(text), &b, err,
        sizeof(err)), 0, "%s", err);
    expect_same_plan(&a, &b);
    cluster_plan_clear(&a);
    cluster_plan_clear(&b);
    free(text);
}

Test(cluster_plan, round_trips_plan_at_its_limits)
{
    struct cluster_plan a = { 0 }, b;
    char err[CLUSTER_ERR_SIZE];
    char *text;

    a.epoch = INT64_MAX;
    a.leader_term = INT64_MAX;
    strcpy(a.leader_id, "ctl");
    a.created_at_ms = 0;
    a.expires_at_ms = INT64_MAX;
    a.n_gateways = CLUSTER_PLAN_MAX_GATEWAYS;
    a.gateways = calloc(a.n_gateways, sizeof(*a.gateways));
    cr_assert_not_null(a.gateways);
    for (size_t i = 0; i < a.n_gateways; i++) {
        struct cluster_plan_gateway *g = &a.gateways[i];

        snprintf(g->gateway_id, sizeof(g->gateway_id), "gw%zu", i);
        g->admin = (enum cluster_admin_state)(i % 4);
        g->weight = CLUSTER_WEIGHT_MAX;
        g->drain_pace_per_s = CLUSTER_PLAN_MAX_PACE;
        g->drain_deadline_at_ms = INT64_MAX;
    }
    struct cluster_plan_gateway *g = &a.gateways[7];
    g->n_targets = CLUSTER_MAX_TARGETS;
    for (size_t i = 0; i < g->n_targets; i++) {
        snprintf(g->targets[i].gateway_id, CLUSTER_ID_MAX + 1, "t%zu", i);
        snprintf(g->targets[i].address, CLUSTER_ADDR_TEXT_MAX + 1,
            "gw%zu.example.net", i);
        g->targets[i].weight = 1 + (uint32_t)i;
        g->targets[i].load_permille = (uint16_t)(i * 1000 /
            (CLUSTER_MAX_TARGETS - 1));
    }
    cr_assert_eq(cluster_plan_encode(&a, &text, err, sizeof(err)), 0, "%s",
        err);
    cr_assert_eq(cluster_plan_parse(text, strlen(text), &b, err,
        sizeof(err)), 0, "%s", err);
    expect_same_plan(&a, &b);
    free(text);

    /* One gateway more is one too many. */
    a.n_gateways++;
    cr_expect_eq(cluster_plan_encode(&a, &text, err, sizeof(err)), -EINVAL);
    cr_expect_null(text);
    cluster_plan_clear(&a);
    cluster_plan_clear(&b);
}

Test(cluster_plan, encode_rejects_invalid_plan)
{
    struct cluster_plan p;
    char err[CLUSTER_ERR_SIZE];
    char *text;

    cr_assert_eq(cluster_plan_parse(good_plan, strlen(good_plan), &p, err,
        sizeof(err)), 0);
    p.gateways[2].targets[0].weight = 0;
    cr_expect_eq(cluster_plan_encode(&p, &text, err, sizeof(err)), -EINVAL);
    cr_expect_null(text);
    cr_expect_str_eq(err, "plan.gateways[2].targets[0].weight: invalid value "
        "0, expected 1-65535");
    p.gateways[2].targets[0].weight = 1;
    p.gateways[0].admin = (enum cluster_admin_state)9;
    cr_expect_eq(cluster_plan_encode(&p, &text, err, sizeof(err)), -EINVAL);
    cluster_plan_clear(&p);
}

Test(cluster_plan, rejects_too_many_gateways_and_targets)
{
    json_t *root = json_loads(good_plan, 0, NULL);
    struct cluster_plan p;
    char err[CLUSTER_ERR_SIZE];

    cr_assert_not_null(root);
    json_t *gws = json_object_get(root, "gateways");
    json_t *targets = json_object_get(json_array_get(gws, 1), "targets");
    json_t *target = json_array_get(targets, 0);
    for (size_t i = 2; i <= CLUSTER_MAX_TARGETS; i++)
        json_array_append_new(targets, json_deep_copy(target));
    char *text = json_dumps(root, JSON_COMPACT);
    cr_expect_eq(cluster_plan_parse(text, strlen(text), &p, err,
        sizeof(err)), -EINVAL);
    cr_expect_str_eq(err, "plan.gateways[1].targets: too many elements, "
        "expected an array of 0-64 targets");
    free(text);

    json_array_clear(targets);
    json_t *gw = json_array_get(gws, 0);
    for (size_t i = 3; i <= CLUSTER_PLAN_MAX_GATEWAYS; i++)
        json_array_append_new(gws, json_deep_copy(gw));
    text = json_dumps(root, JSON_COMPACT);
    cr_expect_eq(cluster_plan_parse(text, strlen(text), &p, err,
        sizeof(err)), -EINVAL);
    cr_expect_str_eq(err, "plan.gateways: too many elements, expected an "
        "array of 0-256 gateways");
    cr_expect_null(p.gateways);
    free(text);
    json_decref(root);
}

Test(cluster_plan, rejects_text_above_limit)
{
    size_t len = CLUSTER_PLAN_TEXT_MAX + 1;
    char *text = malloc(len);
    struct cluster_plan p;
    char err[CLUSTER_ERR_SIZE];

    cr_assert_not_null(text);
    memset(text, ' ', len);
    cr_expect_eq(cluster_plan_parse(text, len, &p, err, sizeof(err)),
        -EMSGSIZE);
    cr_expect_str_eq(err, "plan: text of 8388609 bytes exceeds the limit of "
        "8388608");
    free(text);
}

/* Inline arrays: criterion copies parameters into the test process. */
struct bad_plan {
    char path[48];
    char value[96];             /* JSON text; "" removes the value */
    char error[CLUSTER_ERR_SIZE];
};

#define I64 "9223372036854775807"
#define IDS "characters of A-Z a-z 0-9 . _ -"
#define ADDR "an IPv4 or IPv6 address or a DNS name"

ParameterizedTestParameters(cluster_plan, rejects_bad_field)
{
    static struct bad_plan cases[] = {
        { "gateways.2.targets.0.weight", "0",
          "plan.gateways[2].targets[0].weight: invalid value 0, expected "
          "1-65535" },
        { "gateways.1.targets.1.weight", "65536",
          "plan.gateways[1].targets[1].weight: invalid value 65536, "
          "expected 1-65535" },
        { "version", "0",
          "plan.version: invalid value 0, expected 1-" I64 },
        { "version", "3",
          "plan.version: unsupported version 3, expected 1" },
        { "epoch", "0",
          "plan.epoch: invalid value 0, expected 1-" I64 },
        { "leader_term", "\"3\"",
          "plan.leader_term: invalid type string, expected an integer 0-"
          I64 },
        { "leader_id", "\"ctl a\"",
          "plan.leader_id: invalid value \"ctl a\", expected 1-63 " IDS },
        { "leader_id", "",
          "plan.leader_id: missing, expected 1-63 " IDS },
        { "expires_at_ms", "1767225600000",
          "plan.expires_at_ms: invalid value 1767225600000, expected above "
          "created_at_ms 1767225600000" },
        { "gateways", "{}",
          "plan.gateways: invalid type, expected an array of 0-256 "
          "gateways" },
        { "gateways", "",
          "plan.gateways: missing, expected an array of 0-256 gateways" },
        { "gateways.0", "5",
          "plan.gateways[0]: invalid type, expected an object" },
        { "gateways.0.admin", "\"paused\"",
          "plan.gateways[0].admin: invalid value paused, expected one of: "
          "active, draining, drained, maintenance" },
        { "gateways.0.accept_new", "1",
          "plan.gateways[0].accept_new: invalid type integer, expected "
          "true or false" },
        { "gateways.0.weight", "70000",
          "plan.gateways[0].weight: invalid value 70000, expected 0-65535" },
        { "gateways.0.targets", "",
          "plan.gateways[0].targets: missing, expected an array of 0-64 "
          "targets" },
        { "gateways.1.gateway_id", "\"gw1\"",
          "plan.gateways[1].gateway_id: duplicate value gw1, also in "
          "gateways[0]" },
        { "gateways.1.targets.1.gateway_id", "\"gw1\"",
          "plan.gateways[1].targets[1].gateway_id: duplicate value gw1, "
          "also in targets[0]" },
        { "gateways.1.targets.0", "[]",
          "plan.gateways[1].targets[0]: invalid type, expected an object" },
        { "gateways.1.targets.0.address", "\"-bad.example\"",
          "plan.gateways[1].targets[0].address: invalid value "
          "-bad.example, expected " ADDR },
        { "gateways.1.targets.0.address", "\"10.0.0.300\"",
          "plan.gateways[1].targets[0].address: invalid value 10.0.0.300, "
          "expected " ADDR },
        { "gateways.1.targets.0.address", "",
          "plan.gateways[1].targets[0].address: missing, expected " ADDR },
        { "gateways.1.targets.0.load_permille", "1001",
          "plan.gateways[1].targets[0].load_permille: invalid value 1001, "
          "expected 0-1000" },
        { "gateways.1.targets.1.load_permille", "-1",
          "plan.gateways[1].targets[1].load_permille: invalid value -1, "
          "expected 0-1000" },
        { "gateways.1.targets.0.load_permille", "0.5",
          "plan.gateways[1].targets[0].load_permille: invalid type real, "
          "expected an integer 0-1000" },
        { "gateways.1.targets.0.load_permille", "null",
          "plan.gateways[1].targets[0].load_permille: invalid type null, "
          "expected an integer 0-1000" },
        { "gateways.1.drain_pace_per_s", "100001",
          "plan.gateways[1].drain_pace_per_s: invalid value 100001, "
          "expected 0-100000" },
        { "gateways.1.drain_deadline_at_ms", "-1",
          "plan.gateways[1].drain_deadline_at_ms: invalid value -1, "
          "expected 0-" I64 },
    };
    return cr_make_param_array(struct bad_plan, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_plan *c, cluster_plan, rejects_bad_field)
{
    char *text = plan_with(c->path, c->value);
    struct cluster_plan p;
    char err[CLUSTER_ERR_SIZE];

    cr_expect_eq(cluster_plan_parse(text, strlen(text), &p, err,
        sizeof(err)), -EINVAL, "accepted %s", text);
    cr_expect_str_eq(err, c->error);
    /* A failed parse frees what it allocated and leaves the plan empty. */
    cr_expect_null(p.gateways);
    cr_expect_eq(p.n_gateways, 0);
    free(text);
}
