/*
 * Benchmark: one planner_compute() over 64, 1,024 and 10,000 live
 * gateways at 8 sites with loads spread over 0-0.95.  The baseline,
 * measured in the same run, is copying the same number of reports, which
 * is the least a controller does with them each second.  Each figure is the median of
 * ROUNDS runs; between runs every report is renewed with new loads, so
 * weights move and a new plan is built each time.  Prints one JSON object.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gwreg.h"
#include "planner.h"

#define ROUNDS  15
#define SITES   8

static volatile size_t sink;

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static uint64_t
median(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_u64);
    return v[n / 2];
}

/* A deterministic report for gateway i in round `round`. */
static void
make_report(struct cluster_report *r, size_t i, unsigned round)
{
    uint32_t mix = (uint32_t)(i * 2654435761u) ^ (round * 40503u);

    memset(r, 0, sizeof(*r));
    snprintf(r->gateway_id, sizeof(r->gateway_id), "gw%05zu", i);
    snprintf(r->site, sizeof(r->site), "site%zu", i % SITES);
    r->capacity = 1000u << (i % 3);
    r->ike_sas = (uint32_t)((uint64_t)r->capacity * (mix % 950) / 1000);
    r->half_open_limit = 1000;
    r->half_open = mix % 100;
    r->n_unicast = 1;
    snprintf(r->unicast[0], sizeof(r->unicast[0]), "198.51.%zu.%zu",
        100 + i / 250 % 100, 1 + i % 250);
}

static int
bench_one(size_t n, uint64_t *plan_ns, uint64_t *copy_ns)
{
    struct cluster_report *reports = calloc(n, sizeof(*reports));
    struct cluster_report *copy = calloc(n, sizeof(*copy));
    struct gwreg_config rc = { .max_live = 100000 };
    struct gwreg *reg = gwreg_new(&rc, 0);
    struct planner *pl = planner_new(NULL, 0);
    uint64_t t_plan[ROUNDS], t_copy[ROUNDS];
    int ret = -1;

    if (reports == NULL || copy == NULL || reg == NULL || pl == NULL)
        goto out;
    for (unsigned round = 0; round < ROUNDS; round++) {
        uint64_t now_ms = 1000u * (round + 1);
        uint64_t t;

        for (size_t i = 0; i < n; i++) {
            make_report(&reports[i], i, round);
            if (gwreg_update_report(reg, &reports[i], now_ms) < 0)
                goto out;
        }
        t = now_ns();
        memcpy(copy, reports, n * sizeof(*copy));
        sink += copy[n / 2].ike_sas;
        t_copy[round] = now_ns() - t;
        t = now_ns();
        if (planner_compute(pl, reg, NULL, 0, now_ms) < 0)
            goto out;
        t_plan[round] = now_ns() - t;
        sink += planner_get_plan(pl)->n_gateways;
    }
    *plan_ns = median(t_plan, ROUNDS);
    *copy_ns = median(t_copy, ROUNDS);
    ret = 0;
out:
    planner_free(pl);
    gwreg_free(reg);
    free(copy);
    free(reports);
    return ret;
}

int
main(void)
{
    static const size_t sizes[] = { 64, 1024, 10000 };

    printf("{\n  \"benchmark\": \"plan\",\n  \"rounds\": %d,\n"
        "  \"sites\": %d,\n  \"plan_entry_bytes\": %zu,\n  \"results\": [\n",
        ROUNDS, SITES, sizeof(struct cluster_plan_gateway));
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        uint64_t plan_ns, copy_ns;

        if (bench_one(sizes[s], &plan_ns, &copy_ns) < 0) {
            fprintf(stderr, "bench_plan: out of memory at %zu gateways\n",
                sizes[s]);
            return 1;
        }
        printf("    { \"gateways\": %zu, \"plan_us\": %.1f, "
            "\"copy_reports_us\": %.1f, \"ratio\": %.1f }%s\n", sizes[s],
            plan_ns / 1e3, copy_ns / 1e3,
            copy_ns ? (double)plan_ns / copy_ns : 0.0,
            s + 1 < sizeof(sizes) / sizeof(sizes[0]) ? "," : "");
    }
    printf("  ]\n}\n");
    return 0;
}
