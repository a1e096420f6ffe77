/*
 * Benchmark: the X25519 work of one IKE SA setup on the responder, as
 * OpenSSL 3 does it through EVP and as proto/ike_ke.c does it.
 *
 *   openssl_keygen_per_s   EVP_PKEY_keygen() with one reused context
 *   openssl_derive_per_s   EVP_PKEY_derive() with one reused context, as
 *                          `openssl speed ecdhx25519` measures it
 *   ike_ke_pair_per_s      ike_ke_new() with a cache, then ike_ke_derive()
 *                          with a peer value: a responder's whole X25519
 *                          work per SA
 *
 * Each figure is the median of ROUNDS rounds of ITERATIONS operations.
 * setups_bound_per_s is the rate of one core that does nothing but one
 * key generation and one derivation per SA.  Its key generation is the
 * cheaper of OpenSSL's and a derivation from the base point, which is how
 * ike_ke.c computes the public value.  Prints one JSON object.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/evp.h>

#include "ike_const.h"
#include "ike_ke.h"

#define ROUNDS      5
#define ITERATIONS  2000

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

/* Operations per second from the median of ROUNDS round times. */
static double
rate_of(uint64_t *round_ns)
{
    qsort(round_ns, ROUNDS, sizeof(*round_ns), cmp_u64);
    return ITERATIONS * 1e9 / (double)round_ns[ROUNDS / 2];
}

static int
time_openssl_keygen(double *rate)
{
    EVP_PKEY_CTX *gen = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
    uint64_t t[ROUNDS];
    int ret = -1;

    if (gen == NULL || EVP_PKEY_keygen_init(gen) <= 0)
        goto out;
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t t0 = now_ns();

        for (int i = 0; i < ITERATIONS; i++) {
            EVP_PKEY *pkey = NULL;

            if (EVP_PKEY_keygen(gen, &pkey) <= 0)
                goto out;
            EVP_PKEY_free(pkey);
        }
        t[r] = now_ns() - t0;
    }
    *rate = rate_of(t);
    ret = 0;
out:
    EVP_PKEY_CTX_free(gen);
    return ret;
}

static int
time_openssl_derive(double *rate)
{
    EVP_PKEY_CTX *gen = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
    EVP_PKEY_CTX *derive = NULL;
    EVP_PKEY *own = NULL, *peer = NULL;
    uint8_t secret[32];
    uint64_t t[ROUNDS];
    int ret = -1;

    if (gen == NULL || EVP_PKEY_keygen_init(gen) <= 0 ||
        EVP_PKEY_keygen(gen, &own) <= 0 || EVP_PKEY_keygen(gen, &peer) <= 0)
        goto out;
    if ((derive = EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL)) == NULL ||
        EVP_PKEY_derive_init(derive) <= 0 ||
        EVP_PKEY_derive_set_peer_ex(derive, peer, 0) <= 0)
        goto out;
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t t0 = now_ns();

        for (int i = 0; i < ITERATIONS; i++) {
            size_t len = sizeof(secret);

            if (EVP_PKEY_derive(derive, secret, &len) <= 0)
                goto out;
        }
        t[r] = now_ns() - t0;
    }
    *rate = rate_of(t);
    ret = 0;
out:
    EVP_PKEY_CTX_free(derive);
    EVP_PKEY_CTX_free(gen);
    EVP_PKEY_free(own);
    EVP_PKEY_free(peer);
    return ret;
}

static int
time_ike_ke_pair(double *rate)
{
    struct ike_ke_ctx *ctx = ike_ke_ctx_new();
    struct ike_ke *peer = ctx != NULL ?
        ike_ke_new(ctx, IKE_DH_CURVE25519) : NULL;
    const uint8_t *peer_value;
    uint8_t secret[32];
    uint64_t t[ROUNDS];
    size_t peer_len;
    int ret = -1;

    if (peer == NULL)
        goto out;
    peer_value = ike_ke_public(peer, &peer_len);
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t t0 = now_ns();

        for (int i = 0; i < ITERATIONS; i++) {
            struct ike_ke *ke = ike_ke_new(ctx, IKE_DH_CURVE25519);
            int rc = ke != NULL ? ike_ke_derive(ke, peer_value, peer_len,
                secret, sizeof(secret)) : -1;

            ike_ke_free(ke);
            if (rc < 0)
                goto out;
        }
        t[r] = now_ns() - t0;
    }
    *rate = rate_of(t);
    ret = 0;
out:
    ike_ke_free(peer);
    ike_ke_ctx_free(ctx);
    return ret;
}

int
main(void)
{
    double keygen, derive, pair, keygen_cost;

    if (time_openssl_keygen(&keygen) < 0 ||
        time_openssl_derive(&derive) < 0 || time_ike_ke_pair(&pair) < 0) {
        fprintf(stderr, "bench_x25519: an OpenSSL X25519 call failed\n");
        return 1;
    }
    keygen_cost = keygen > derive ? 1.0 / keygen : 1.0 / derive;
    printf("{\"openssl_keygen_per_s\": %.0f, \"openssl_derive_per_s\": %.0f,"
        " \"ike_ke_pair_per_s\": %.0f, \"setups_bound_per_s\": %.0f,"
        " \"rounds\": %d, \"iterations\": %d}\n", keygen, derive, pair,
        1.0 / (keygen_cost + 1.0 / derive), ROUNDS, ITERATIONS);
    return 0;
}
