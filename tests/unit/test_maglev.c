/*
 * Tests for the Maglev table: balance against the weights, disruption
 * when a target leaves, determinism and order independence.  Keys are
 * "client-N" strings, as an agent might hash a client's identity.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt/maglev.h"

#define N_KEYS 200000

static void
make_targets(struct cluster_target *t, size_t n, const uint32_t *weights)
{
    memset(t, 0, n * sizeof(*t));
    for (size_t i = 0; i < n; i++) {
        snprintf(t[i].gateway_id, sizeof(t[i].gateway_id), "gw%zu", i + 1);
        snprintf(t[i].address, sizeof(t[i].address), "198.51.100.%zu", i + 1);
        t[i].weight = weights != NULL ? weights[i] : 100;
    }
}

static int
lookup_client(const struct maglev_table *m, size_t client)
{
    char key[32];
    int len = snprintf(key, sizeof(key), "client-%zu", client);

    return maglev_lookup(m, key, (size_t)len);
}

/* Asserts that the share of keys and of slots of each target is within
 * `tolerance` (relative) of its share of the total weight. */
static void
expect_balance(const struct cluster_target *t, size_t n, uint32_t size,
    double tolerance)
{
    struct maglev_table *m = maglev_new(size);
    size_t counts[MAGLEV_MAX_TARGETS] = { 0 };
    double total = 0;

    cr_assert_not_null(m);
    cr_assert_eq(maglev_build(m, t, n), 0);
    for (size_t i = 0; i < n; i++)
        total += t[i].weight;
    for (size_t k = 0; k < N_KEYS; k++) {
        int idx = lookup_client(m, k);

        cr_assert(idx >= 0 && (size_t)idx < n);
        counts[idx]++;
    }
    for (size_t i = 0; i < n; i++) {
        double want = t[i].weight / total;
        double keys = (double)counts[i] / N_KEYS;
        double slots = (double)maglev_count_slots(m, i) / size;

        cr_expect(keys > want * (1 - tolerance) && keys < want *
            (1 + tolerance), "target %zu: key share %.4f, weight share %.4f",
            i, keys, want);
        cr_expect(slots > want * (1 - tolerance) && slots < want *
            (1 + tolerance), "target %zu: slot share %.4f, weight share %.4f",
            i, slots, want);
    }
    maglev_free(m);
}

TestSuite(maglev, .timeout = 30);

Test(maglev, rejects_table_size_that_is_not_prime)
{
    cr_expect_null(maglev_new(0));
    cr_expect_null(maglev_new(1));
    cr_expect_null(maglev_new(65536));
    cr_expect_null(maglev_new(4097));
    struct maglev_table *m = maglev_new(MAGLEV_SIZE_SMALL);
    cr_expect_not_null(m);
    cr_expect_eq(maglev_get_size(m), MAGLEV_SIZE_SMALL);
    maglev_free(m);
    maglev_free(NULL);
}

Test(maglev, returns_enoent_when_empty)
{
    struct maglev_table *m = maglev_new(MAGLEV_SIZE_SMALL);

    cr_assert_not_null(m);
    cr_expect_eq(maglev_lookup(m, "a", 1), -ENOENT);
    cr_expect_eq(maglev_build(m, NULL, 0), 0);
    cr_expect_eq(maglev_lookup(m, "a", 1), -ENOENT);
    maglev_free(m);
}

Test(maglev, rejects_zero_weight_and_too_many_targets)
{
    struct cluster_target t[MAGLEV_MAX_TARGETS + 1];
    struct maglev_table *m = maglev_new(MAGLEV_SIZE_SMALL);

    cr_assert_not_null(m);
    make_targets(t, MAGLEV_MAX_TARGETS + 1, NULL);
    cr_expect_eq(maglev_build(m, t, MAGLEV_MAX_TARGETS + 1), -EINVAL);
    t[1].weight = 0;
    cr_expect_eq(maglev_build(m, t, 3), -EINVAL);
    /* A failed build leaves the table empty. */
    cr_expect_eq(maglev_lookup(m, "a", 1), -ENOENT);
    maglev_free(m);
}

Test(maglev, maps_every_key_to_the_only_target)
{
    struct cluster_target t[1];
    struct maglev_table *m = maglev_new(MAGLEV_SIZE_SMALL);

    cr_assert_not_null(m);
    make_targets(t, 1, NULL);
    cr_assert_eq(maglev_build(m, t, 1), 0);
    for (size_t k = 0; k < 1000; k++)
        cr_assert_eq(lookup_client(m, k), 0);
    cr_expect_eq(maglev_count_slots(m, 0), MAGLEV_SIZE_SMALL);
    maglev_free(m);
}

Test(maglev, balances_equal_weights)
{
    struct cluster_target t[8];

    make_targets(t, 8, NULL);
    expect_balance(t, 8, MAGLEV_SIZE_DEFAULT, 0.03);
}

Test(maglev, balances_by_weight)
{
    static const uint32_t weights[] = { 100, 200, 300, 400, 1000 };
    struct cluster_target t[5];

    make_targets(t, 5, weights);
    expect_balance(t, 5, MAGLEV_SIZE_DEFAULT, 0.03);
}

Test(maglev, balances_many_targets_in_small_table)
{
    uint32_t weights[MAGLEV_MAX_TARGETS];
    struct cluster_target t[MAGLEV_MAX_TARGETS];

    for (size_t i = 0; i < MAGLEV_MAX_TARGETS; i++)
        weights[i] = 1 + (uint32_t)(i % 4);
    make_targets(t, MAGLEV_MAX_TARGETS, weights);
    /* About 26 slots per weight unit, so the rounding shows. */
    expect_balance(t, MAGLEV_MAX_TARGETS, MAGLEV_SIZE_SMALL, 0.25);
}

/* Builds tables with and without target `gone` and returns the fraction
 * of keys whose gateway changed. */
static double
measure_disruption(size_t n, size_t gone, size_t *moved_from_others)
{
    struct cluster_target all[MAGLEV_MAX_TARGETS], rest[MAGLEV_MAX_TARGETS];
    struct maglev_table *a = maglev_new(MAGLEV_SIZE_DEFAULT);
    struct maglev_table *b = maglev_new(MAGLEV_SIZE_DEFAULT);
    size_t changed = 0, m = 0;

    cr_assert(a != NULL && b != NULL);
    make_targets(all, n, NULL);
    for (size_t i = 0; i < n; i++)
        if (i != gone)
            rest[m++] = all[i];
    cr_assert_eq(maglev_build(a, all, n), 0);
    cr_assert_eq(maglev_build(b, rest, m), 0);
    *moved_from_others = 0;
    for (size_t k = 0; k < N_KEYS; k++) {
        const char *before = all[lookup_client(a, k)].gateway_id;
        const char *after = rest[lookup_client(b, k)].gateway_id;

        cr_assert_str_neq(after, all[gone].gateway_id);
        if (strcmp(before, after) != 0) {
            changed++;
            if (strcmp(before, all[gone].gateway_id) != 0)
                (*moved_from_others)++;
        }
    }
    maglev_free(a);
    maglev_free(b);
    return (double)changed / N_KEYS;
}

Test(maglev, moves_about_one_nth_when_a_target_leaves)
{
    static const size_t sizes[] = { 4, 10, 32 };

    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t n = sizes[s], others;
        double moved = measure_disruption(n, n / 2, &others);
        double ideal = 1.0 / (double)n;

        /* Maglev also moves a few keys between the remaining targets.
         * Measured: 1.01 to 1.14 times the ideal for these sizes. */
        cr_expect(moved >= ideal * 0.9 && moved <= ideal * 1.3,
            "n=%zu: %.4f of keys moved, ideal %.4f", n, moved, ideal);
        cr_expect_lt((double)others / N_KEYS, ideal * 0.3,
            "n=%zu: %zu keys moved between remaining targets", n, others);
    }
}

Test(maglev, is_deterministic_and_independent_of_order)
{
    static const uint32_t weights[] = { 10, 20, 30, 40, 50, 60 };
    struct cluster_target t[6], reversed[6];
    struct maglev_table *a = maglev_new(MAGLEV_SIZE_DEFAULT);
    struct maglev_table *b = maglev_new(MAGLEV_SIZE_DEFAULT);
    struct maglev_table *c = maglev_new(MAGLEV_SIZE_DEFAULT);

    cr_assert(a != NULL && b != NULL && c != NULL);
    make_targets(t, 6, weights);
    for (size_t i = 0; i < 6; i++)
        reversed[i] = t[5 - i];
    cr_assert_eq(maglev_build(a, t, 6), 0);
    cr_assert_eq(maglev_build(b, t, 6), 0);
    cr_assert_eq(maglev_build(c, reversed, 6), 0);
    for (size_t k = 0; k < 20000; k++) {
        int ia = lookup_client(a, k);

        cr_assert_eq(lookup_client(b, k), ia);
        cr_assert_str_eq(reversed[lookup_client(c, k)].gateway_id,
            t[ia].gateway_id);
    }
    maglev_free(a);
    maglev_free(b);
    maglev_free(c);
}

Test(maglev, rebuild_replaces_previous_targets)
{
    struct cluster_target t[4];
    struct maglev_table *m = maglev_new(MAGLEV_SIZE_SMALL);

    cr_assert_not_null(m);
    make_targets(t, 4, NULL);
    cr_assert_eq(maglev_build(m, t, 4), 0);
    cr_assert_eq(maglev_build(m, t + 3, 1), 0);
    for (size_t k = 0; k < 1000; k++)
        cr_assert_eq(lookup_client(m, k), 0);
    maglev_free(m);
}

static int
lookup2_client(const struct maglev_table *m, size_t client, int out[2])
{
    char key[32];
    int len = snprintf(key, sizeof(key), "client-%zu", client);

    return maglev_lookup2(m, key, (size_t)len, out);
}

Test(maglev, lookup2_returns_enoent_when_empty)
{
    struct maglev_table *m = maglev_new(MAGLEV_SIZE_SMALL);
    int out[2];

    cr_assert_not_null(m);
    cr_expect_eq(maglev_lookup2(m, "a", 1, out), -ENOENT);
    maglev_free(m);
}

Test(maglev, lookup2_repeats_the_only_target)
{
    struct cluster_target t[1];
    struct maglev_table *m = maglev_new(MAGLEV_SIZE_SMALL);
    int out[2];

    cr_assert_not_null(m);
    make_targets(t, 1, NULL);
    cr_assert_eq(maglev_build(m, t, 1), 0);
    cr_expect_eq(lookup2_client(m, 7, out), 1);
    cr_expect_eq(out[0], 0);
    cr_expect_eq(out[1], 0);
    maglev_free(m);
}

/*
 * The second candidate is another target than the first, and is spread
 * over the targets by weight: given a first candidate i, target j != i
 * is expected as second with probability w_j / (W - w_i).
 */
Test(maglev, lookup2_spreads_distinct_second_candidates)
{
    static const uint32_t weights[4] = { 100, 200, 300, 400 };
    struct cluster_target t[4];
    struct maglev_table *m = maglev_new(MAGLEV_SIZE_DEFAULT);
    size_t firsts[4] = { 0 }, seconds[4] = { 0 };
    double expected[4] = { 0 };
    int out[2];

    cr_assert_not_null(m);
    make_targets(t, 4, weights);
    cr_assert_eq(maglev_build(m, t, 4), 0);
    for (size_t k = 0; k < N_KEYS; k++) {
        cr_assert_eq(lookup2_client(m, k, out), 2);
        cr_assert_eq(out[0], lookup_client(m, k));
        cr_assert_neq(out[1], out[0], "key %zu", k);
        firsts[out[0]]++;
        seconds[out[1]]++;
    }
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 4; j++)
            if (j != i)
                expected[j] += (double)firsts[i] * weights[j] /
                    (1000.0 - weights[i]);
    for (size_t j = 0; j < 4; j++)
        cr_expect_lt(fabs(seconds[j] - expected[j]) / expected[j], 0.05,
            "target %zu: %zu as second, expected %.0f", j, seconds[j],
            expected[j]);
    maglev_free(m);
}

Test(maglev, second_choice_only_when_first_clearly_busier)
{
    uint16_t loads[] = { 500, 650, 550, 900, 100 };

    cr_expect_eq(cluster_choose_target(loads, 1, 0, 100), 0);
    cr_expect_eq(cluster_choose_target(loads, 1, 2, 100), 1);
    cr_expect_eq(cluster_choose_target(loads, 0, 1, 100), 0);
    cr_expect_eq(cluster_choose_target(loads, 3, 4, 100), 4);
    cr_expect_eq(cluster_choose_target(loads, 4, 3, 100), 4);
    cr_expect_eq(cluster_choose_target(loads, 2, 2, 0), 2);
}
