/*
 * Benchmark: the agent's per-packet decision time, one engine_input() call
 * on an IKE_SA_INIT request that the static policy redirects (the engine
 * parses the request, queries the policy and builds the REDIRECT response).
 * The engine runs in memory (tests/support/engine_harness.h), so no socket
 * is timed.  The baseline in the same run is ike_msg_parse() of the same
 * requests, the least any responder does per packet.
 *
 * REQUESTS different initiators are made first; each request is fed once
 * from its own client address, so the per-client redirect bound is never
 * reached.  Prints one JSON object with p50 and p99 in nanoseconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_harness.h"
#include "ike_const.h"
#include "ike_msg.h"
#include "rt/log.h"

#define REQUESTS    4000

struct request {
    uint8_t msg[IKE_INITIATOR_MSG_MAX];
    size_t len;
    struct sockaddr_storage peer;
};

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
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static void
print_percentiles(const char *name, uint64_t *v, size_t n, int last)
{
    qsort(v, n, sizeof(*v), cmp_u64);
    printf("  \"%s\": { \"p50\": %llu, \"p99\": %llu }%s\n", name,
        (unsigned long long)v[n / 2], (unsigned long long)v[n * 99 / 100],
        last ? "" : ",");
}

int
main(void)
{
    static struct harness h;
    struct request *req = calloc(REQUESTS, sizeof(*req));
    uint64_t *decide = calloc(REQUESTS, sizeof(*decide));
    uint64_t *parse = calloc(REQUESTS, sizeof(*parse));
    size_t redirected = 0;
    int ret = 1;

    if (req == NULL || decide == NULL || parse == NULL)
        goto out;
    /* Each REDIRECT logs at info; at warn the timing leaves logging out,
     * as in the agent's benchmark configuration. */
    log_set_level(LOG_LEVEL_WARN);
    harness_init(&h);
    h.cfg.reply_rate = 10000000;
    h.cfg.reply_rate_per_peer = 10000000;
    h.cfg.cookie_threshold = 9999999;
    h.cfg.max_half_open = 10000000;
    h.policy.have_all_target = true;
    if (policy_target_from_text(&h.policy.all_target, "198.51.100.4") < 0 ||
        harness_start(&h) < 0)
        goto out;
    for (size_t i = 0; i < REQUESTS; i++) {
        struct ike_initiator_config cfg =
            harness_client_config(&h, &harness_suite_gcm_x25519);
        struct ike_initiator *ini;
        struct ike_initiator_out o;
        char addr[32];

        /* 198.51.100.x and 203.0.113.x, port 500 + i / 254. */
        snprintf(addr, sizeof(addr), "%s.%zu", i % 2 ? "198.51.100" :
            "203.0.113", 1 + (i / 2) % 254);
        harness_addr4(&req[i].peer, addr, (uint16_t)(500 + i / 508));
        cfg.peer = h.gw;
        cfg.local = req[i].peer;
        if ((ini = ike_initiator_new(&cfg)) == NULL ||
            ike_initiator_start(ini, &o) < 0) {
            ike_initiator_free(ini);
            goto out;
        }
        memcpy(req[i].msg, o.msg, o.len);
        req[i].len = o.len;
        ike_initiator_free(ini);
    }
    for (size_t i = 0; i < REQUESTS; i++) {
        struct ike_msg m;
        uint64_t t0 = now_ns();

        if (ike_msg_parse(&m, req[i].msg, req[i].len, NULL) < 0)
            goto out;
        parse[i] = now_ns() - t0;
    }
    for (size_t i = 0; i < REQUESTS; i++) {
        size_t before = h.n_sent;
        uint64_t t0 = now_ns();

        engine_input(h.engine, req[i].msg, req[i].len,
            (const struct sockaddr *)&h.gw,
            (const struct sockaddr *)&req[i].peer, h.now_ms);
        decide[i] = now_ns() - t0;
        if (h.n_sent > before)
            redirected++;
    }
    printf("{\n  \"requests\": %d,\n  \"responses\": %zu,\n", REQUESTS,
        redirected);
    print_percentiles("engine_input_redirect_ns", decide, REQUESTS, 0);
    print_percentiles("baseline_parse_ns", parse, REQUESTS, 1);
    printf("}\n");
    ret = redirected == REQUESTS ? 0 : 1;
out:
    harness_free(&h);
    free(req);
    free(decide);
    free(parse);
    return ret;
}
