/*
 * libFuzzer target for the plan parser: parse, encode, parse again and
 * compare, and look every gateway up by its id.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt/cluster_plan.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_compare(const struct cluster_plan *a, const struct cluster_plan *b)
{
    if (a->epoch != b->epoch || a->leader_term != b->leader_term ||
        strcmp(a->leader_id, b->leader_id) != 0 ||
        a->created_at_ms != b->created_at_ms ||
        a->expires_at_ms != b->expires_at_ms ||
        a->n_gateways != b->n_gateways)
        abort();
    for (size_t i = 0; i < a->n_gateways; i++) {
        if (memcmp(&a->gateways[i], &b->gateways[i],
            sizeof(a->gateways[i])) != 0)
            abort();
        if (cluster_plan_find_gateway(a, a->gateways[i].gateway_id) !=
            &a->gateways[i])
            abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cluster_plan a, b;
    char err[CLUSTER_ERR_SIZE];
    char *text;

    if (cluster_plan_parse((const char *)data, size, &a, err,
        sizeof(err)) < 0) {
        if (err[0] == '\0' || a.gateways != NULL || a.n_gateways != 0)
            abort();
        return 0;
    }
    if (cluster_plan_encode(&a, &text, err, sizeof(err)) < 0)
        abort();
    if (cluster_plan_parse(text, strlen(text), &b, err, sizeof(err)) < 0)
        abort();
    fuzz_compare(&a, &b);
    cluster_plan_clear(&a);
    cluster_plan_clear(&b);
    free(text);
    return 0;
}
