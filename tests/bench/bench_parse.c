/*
 * Benchmark: parse and validate one IKE_SA_INIT request of 300 octets, the
 * strongSwan 5.9.8 request of vector 01 padded with a Vendor ID payload.
 * Two baselines run in the same process: copying the datagram, and
 * walking only the generic payload headers, which is the least any IKEv2
 * parser must do.  Prints one JSON object.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ike_buf.h"
#include "ike_const.h"
#include "ike_msg.h"

#define TARGET_LEN  300
#define ROUNDS      7

#define VECTOR_01 \
    "tests/data/vectors/01-sw-ike_sa_init-req-redirect_supported-ipv4.hex"

static volatile size_t sink;

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reads a hex vector file (white space ignored) into out. */
static size_t
read_hex_file(const char *path, uint8_t *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    unsigned v;

    if (f == NULL) {
        fprintf(stderr, "bench_parse: cannot open %s\n", path);
        exit(1);
    }
    while (n < cap && fscanf(f, " %2x", &v) == 1)
        out[n++] = (uint8_t)v;
    fclose(f);
    return n;
}

/* Builds the 300-octet request: vector 01's payloads, then a Vendor ID. */
static size_t
build_request(const char *path, uint8_t *out, size_t cap)
{
    uint8_t v01[512];
    size_t len = read_hex_file(path, v01, sizeof(v01));
    struct ike_parse_error err;
    struct ike_writer w;
    struct ike_msg msg;
    uint8_t vid[64];

    if (ike_msg_parse(&msg, v01, len, &err) < 0) {
        fprintf(stderr, "bench_parse: vector does not parse: %s\n",
            ike_error_name(err.code));
        exit(1);
    }
    ike_writer_init(&w, out, cap);
    ike_msg_begin(&w, &msg.hdr);
    for (size_t i = 0; i < msg.chain.count; i++) {
        const struct ike_payload *p = &msg.chain.payloads[i];

        ike_payload_build_raw(&w, p->type, p->critical, p->body,
            p->body_len);
    }
    memset(vid, 0x5a, sizeof(vid));
    ike_payload_build_vendor(&w, vid, TARGET_LEN - len - IKE_PAYLOAD_HDR_LEN);
    if (w.err != 0 || w.len != TARGET_LEN) {
        fprintf(stderr, "bench_parse: built %zu octets, not %d\n", w.len,
            TARGET_LEN);
        exit(1);
    }
    return w.len;
}

/* The baseline parser: follows Next Payload and Payload Length only. */
static size_t
walk_generic(const uint8_t *buf, size_t len)
{
    size_t off = IKE_HDR_LEN, count = 0;
    uint8_t next = buf[16];

    while (next != IKE_P_NONE && off + IKE_PAYLOAD_HDR_LEN <= len) {
        size_t plen = ike_load16(buf + off + 2);

        if (plen < IKE_PAYLOAD_HDR_LEN || off + plen > len)
            return 0;
        next = buf[off];
        off += plen;
        count++;
    }
    return count;
}

enum op { OP_PARSE, OP_WALK, OP_COPY };

static double
measure(enum op op, const uint8_t *req, size_t len, long iters)
{
    uint8_t copy[TARGET_LEN];
    struct ike_parse_error err;
    struct ike_msg msg;
    double best = 1e30;

    for (int r = 0; r < ROUNDS; r++) {
        uint64_t t0 = now_ns();

        for (long i = 0; i < iters; i++) {
            switch (op) {
            case OP_PARSE:
                if (ike_msg_parse(&msg, req, len, &err) < 0)
                    exit(1);
                sink += msg.chain.count;
                break;
            case OP_WALK:
                sink += walk_generic(req, len);
                break;
            case OP_COPY:
                memcpy(copy, req, len);
                sink += copy[i % len];
                break;
            }
        }
        double ns = (double)(now_ns() - t0) / (double)iters;
        if (ns < best)
            best = ns;
    }
    return best;
}

int
main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 2000000;
    const char *vector = argc > 2 ? argv[2] : VECTOR_01;
    uint8_t req[TARGET_LEN + 64];
    size_t len = build_request(vector, req, sizeof(req));
    double parse = measure(OP_PARSE, req, len, iters);
    double walk = measure(OP_WALK, req, len, iters);
    double copy = measure(OP_COPY, req, len, iters);

    printf("{\"benchmark\":\"parse_ike_sa_init\",\"message_octets\":%zu,"
        "\"iterations\":%ld,\"rounds\":%d,\"statistic\":\"best round\","
        "\"parse_validate_ns\":%.1f,\"baseline_walk_generic_ns\":%.1f,"
        "\"baseline_memcpy_ns\":%.1f,\"parse_over_walk\":%.2f}\n",
        len, iters, ROUNDS, parse, walk, copy, parse / walk);
    return 0;
}
