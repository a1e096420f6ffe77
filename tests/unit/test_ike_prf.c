/*
 * PRF and prf+: RFC 4231 HMAC known answers, prf+ against its definition
 * in RFC 7296 2.13 and against the NIST SP 800-135 IKEv2 samples.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <string.h>

#include "ike_const.h"
#include "ike_prf.h"
#include "test_crypto_kat.h"

TestSuite(ike_prf);

struct prf_size {
    uint16_t prf;
    size_t len;
};

ParameterizedTestParameters(ike_prf, reports_output_lengths)
{
    /* RFC 7296 3.3.2 and RFC 4868 2.1.2: the hash output length. */
    static struct prf_size sizes[] = {
        { IKE_PRF_HMAC_SHA1, 20 },
        { IKE_PRF_HMAC_SHA2_256, 32 },
        { IKE_PRF_HMAC_SHA2_384, 48 },
        { IKE_PRF_HMAC_SHA2_512, 64 },
        { 1, 0 },                           /* PRF_HMAC_MD5 */
        { 4, 0 },                           /* PRF_AES128_XCBC */
        { 0, 0 },
    };

    return cr_make_param_array(struct prf_size, sizes,
                               sizeof(sizes) / sizeof(sizes[0]));
}

ParameterizedTest(struct prf_size *s, ike_prf, reports_output_lengths)
{
    cr_assert_eq(ike_prf_len(s->prf), s->len, "PRF %u", s->prf);
}

Test(ike_prf, matches_rfc4231_test_cases)
{
    static const struct {
        uint16_t prf;
        const char *field;
    } hashes[] = {
        { IKE_PRF_HMAC_SHA2_256, "sha256" },
        { IKE_PRF_HMAC_SHA2_384, "sha384" },
        { IKE_PRF_HMAC_SHA2_512, "sha512" },
    };
    json_t *root = kat_load_json("kat/rfc4231-hmac.json");
    json_t *cases = json_object_get(root, "cases");

    cr_assert_eq(json_array_size(cases), 7);
    for (size_t i = 0; i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i);
        json_t *truncate = json_object_get(c, "truncate");
        uint8_t key[256], data[512];
        size_t key_len = kat_json_hex(c, "key", key, sizeof(key));
        size_t data_len = kat_json_hex(c, "data", data, sizeof(data));

        for (size_t h = 0; h < 3; h++) {
            uint8_t expect[64], out[64];
            size_t expect_len = kat_json_hex(c, hashes[h].field, expect,
                                             sizeof(expect));

            if (truncate == NULL)
                cr_assert_eq(expect_len, ike_prf_len(hashes[h].prf));
            else
                cr_assert_eq(expect_len,
                             (size_t)json_integer_value(truncate));
            cr_assert_eq(ike_prf_compute(hashes[h].prf, key, key_len, data,
                                         data_len, out, sizeof(out)), 0);
            cr_assert_arr_eq(out, expect, expect_len, "case %zu %s", i + 1,
                             hashes[h].field);
        }
    }
    json_decref(root);
}

Test(ike_prf, computev_equals_compute_of_the_concatenation)
{
    const uint8_t key[] = "a key";
    const uint8_t data[] = "one two three four";
    uint8_t whole[IKE_PRF_MAX_LEN], pieces[IKE_PRF_MAX_LEN];
    struct ike_prf_iov iov[] = {
        { data, 3 },
        { NULL, 0 },
        { data + 3, 8 },
        { data + 11, sizeof(data) - 1 - 11 },
    };

    cr_assert_eq(ike_prf_compute(IKE_PRF_HMAC_SHA2_384, key, 5, data,
                                 sizeof(data) - 1, whole, sizeof(whole)), 0);
    cr_assert_eq(ike_prf_computev(IKE_PRF_HMAC_SHA2_384, key, 5, iov, 4,
                                  pieces, sizeof(pieces)), 0);
    cr_assert_arr_eq(whole, pieces, 48);
}

Test(ike_prf, rejects_bad_prf_arguments)
{
    const uint8_t key[4] = { 1, 2, 3, 4 };
    uint8_t out[IKE_PRF_MAX_LEN];

    cr_assert_eq(ike_prf_compute(4, key, 4, key, 4, out, sizeof(out)),
                 -ENOTSUP);
    cr_assert_eq(ike_prf_compute(IKE_PRF_HMAC_SHA1, key, 0, key, 4, out,
                                 sizeof(out)), -EINVAL);
    cr_assert_eq(ike_prf_compute(IKE_PRF_HMAC_SHA2_256, key, 4, key, 4, out,
                                 31), -ENOBUFS);
    cr_assert_eq(ike_prf_plus(4, key, 4, NULL, 0, out, 10), -ENOTSUP);
}

/* RFC 7296 2.13: T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n). */
Test(ike_prf, prf_plus_follows_rfc7296_definition)
{
    const uint16_t prfs[] = {
        IKE_PRF_HMAC_SHA1, IKE_PRF_HMAC_SHA2_256, IKE_PRF_HMAC_SHA2_384,
        IKE_PRF_HMAC_SHA2_512,
    };
    const uint8_t key[] = "prf+ key";
    const uint8_t seed[] = "seed: Ni | Nr | SPIi | SPIr";

    for (size_t p = 0; p < 4; p++) {
        size_t len = ike_prf_len(prfs[p]);
        uint8_t got[5 * IKE_PRF_MAX_LEN], expect[5 * IKE_PRF_MAX_LEN];
        uint8_t block[IKE_PRF_MAX_LEN];
        struct ike_prf_iov iov = { seed, sizeof(seed) - 1 };

        for (unsigned int n = 1; n <= 5; n++) {
            uint8_t counter = (uint8_t)n;
            struct ike_prf_iov parts[] = {
                { block, n > 1 ? len : 0 },
                { seed, sizeof(seed) - 1 },
                { &counter, 1 },
            };

            cr_assert_eq(ike_prf_computev(prfs[p], key, sizeof(key) - 1,
                                          parts, 3, block, sizeof(block)),
                         0);
            memcpy(expect + (n - 1) * len, block, len);
        }
        /* An odd length checks that the last block is cut, not padded. */
        cr_assert_eq(ike_prf_plus(prfs[p], key, sizeof(key) - 1, &iov, 1,
                                  got, 5 * len - 3), 0);
        cr_assert_arr_eq(got, expect, 5 * len - 3, "PRF %u", prfs[p]);
    }
}

Test(ike_prf, prf_plus_stops_after_255_blocks)
{
    static uint8_t out[255 * 20 + 1];
    const uint8_t key[] = { 0x42 };

    cr_assert_eq(ike_prf_plus(IKE_PRF_HMAC_SHA1, key, 1, NULL, 0, out,
                              255 * 20), 0);
    cr_assert_eq(ike_prf_plus(IKE_PRF_HMAC_SHA1, key, 1, NULL, 0, out,
                              255 * 20 + 1), -ERANGE);
}

Test(ike_prf, prf_plus_of_zero_octets_succeeds)
{
    const uint8_t key[] = { 0x42 };
    uint8_t out[1] = { 0x5a };

    cr_assert_eq(ike_prf_plus(IKE_PRF_HMAC_SHA2_256, key, 1, NULL, 0, out,
                              0), 0);
    cr_assert_eq(out[0], 0x5a);
}

/* NIST SP 800-135 IKEv2: DKM = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr). */
Test(ike_prf, prf_plus_matches_sp800_135_dkm)
{
    json_t *root = kat_load_json("kat/sp800-135-ikev2.json");
    json_t *cases = json_object_get(root, "cases");

    cr_assert_eq(json_array_size(cases), 3);
    for (size_t i = 0; i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i);
        uint16_t prf = (uint16_t)json_integer_value(json_object_get(c,
                                                                    "prf"));
        uint8_t skeyseed[64], ni[256], nr[256], spi_i[8], spi_r[8];
        uint8_t dkm[512], out[512];
        size_t skeyseed_len = kat_json_hex(c, "skeyseed", skeyseed,
                                           sizeof(skeyseed));
        size_t ni_len = kat_json_hex(c, "ni", ni, sizeof(ni));
        size_t nr_len = kat_json_hex(c, "nr", nr, sizeof(nr));
        size_t dkm_len = kat_json_hex(c, "dkm", dkm, sizeof(dkm));

        cr_assert_eq(kat_json_hex(c, "spi_i", spi_i, 8), 8);
        cr_assert_eq(kat_json_hex(c, "spi_r", spi_r, 8), 8);
        cr_assert_eq(skeyseed_len, ike_prf_len(prf));

        struct ike_prf_iov seed[] = {
            { ni, ni_len }, { nr, nr_len }, { spi_i, 8 }, { spi_r, 8 },
        };
        cr_assert_eq(ike_prf_plus(prf, skeyseed, skeyseed_len, seed, 4, out,
                                  dkm_len), 0);
        cr_assert_arr_eq(out, dkm, dkm_len, "PRF %u", prf);
    }
    json_decref(root);
}

/*
 * One struct ike_prf_ctx re-keyed across PRFs and keys gives the same
 * output as a fresh context per call.  The keys include one longer than
 * the SHA-1 block (64 octets), which HMAC hashes first.
 */
Test(ike_prf, context_reuse_matches_fresh_contexts)
{
    const uint16_t prfs[] = {
        IKE_PRF_HMAC_SHA2_256, IKE_PRF_HMAC_SHA1, IKE_PRF_HMAC_SHA2_512,
        IKE_PRF_HMAC_SHA2_256, IKE_PRF_HMAC_SHA2_384, IKE_PRF_HMAC_SHA1,
    };
    uint8_t long_key[100];
    const uint8_t data[] = "signed octets";
    struct ike_prf_iov iov = { data, sizeof(data) - 1 };
    struct ike_prf_ctx *ctx = ike_prf_ctx_new();

    cr_assert_not_null(ctx);
    memset(long_key, 0x5a, sizeof(long_key));
    for (size_t i = 0; i < sizeof(prfs) / sizeof(prfs[0]); i++) {
        size_t key_len = i % 2 == 0 ? 7 : sizeof(long_key);
        uint8_t fresh[IKE_PRF_MAX_LEN], reused[IKE_PRF_MAX_LEN];

        long_key[0] = (uint8_t)i;
        cr_assert_eq(ike_prf_computev(prfs[i], long_key, key_len, &iov, 1,
                                      fresh, sizeof(fresh)), 0);
        cr_assert_eq(ike_prf_ctx_computev(ctx, prfs[i], long_key, key_len,
                                          &iov, 1, reused, sizeof(reused)),
                     0);
        cr_assert_arr_eq(reused, fresh, ike_prf_len(prfs[i]), "call %zu", i);
    }
    ike_prf_ctx_free(ctx);
}

/* prf+ restarts every block from the keyed state of the reused context. */
Test(ike_prf, context_prf_plus_matches_prf_plus)
{
    const uint16_t prfs[] = {
        IKE_PRF_HMAC_SHA1, IKE_PRF_HMAC_SHA2_256, IKE_PRF_HMAC_SHA2_384,
        IKE_PRF_HMAC_SHA2_512,
    };
    const uint8_t key[] = "prf+ key";
    const uint8_t seed[] = "Ni | Nr | SPIi | SPIr";
    struct ike_prf_iov iov = { seed, sizeof(seed) - 1 };
    struct ike_prf_ctx *ctx = ike_prf_ctx_new();

    cr_assert_not_null(ctx);
    for (size_t p = 0; p < 4; p++) {
        size_t len = 7 * ike_prf_len(prfs[p]) - 5;
        uint8_t fresh[7 * IKE_PRF_MAX_LEN], reused[7 * IKE_PRF_MAX_LEN];
        uint8_t other[IKE_PRF_MAX_LEN];

        /* A call with another key first, so that stale state would show. */
        cr_assert_eq(ike_prf_ctx_computev(ctx, prfs[p], seed, 5, &iov, 1,
                                          other, sizeof(other)), 0);
        cr_assert_eq(ike_prf_plus(prfs[p], key, sizeof(key) - 1, &iov, 1,
                                  fresh, len), 0);
        cr_assert_eq(ike_prf_ctx_plus(ctx, prfs[p], key, sizeof(key) - 1,
                                      &iov, 1, reused, len), 0);
        cr_assert_arr_eq(reused, fresh, len, "PRF %u", prfs[p]);
    }
    ike_prf_ctx_free(ctx);
}

Test(ike_prf, context_rejects_bad_prf_arguments)
{
    const uint8_t key[4] = { 1, 2, 3, 4 };
    struct ike_prf_iov iov = { key, 4 };
    /* prf+ wipes out[0..out_len) on failure, so it must hold 256 blocks. */
    static uint8_t out[256 * 32];
    struct ike_prf_ctx *ctx = ike_prf_ctx_new();

    cr_assert_not_null(ctx);
    cr_assert_eq(ike_prf_ctx_computev(ctx, 4, key, 4, &iov, 1, out,
                                      sizeof(out)), -ENOTSUP);
    cr_assert_eq(ike_prf_ctx_computev(ctx, IKE_PRF_HMAC_SHA1, key, 0, &iov,
                                      1, out, sizeof(out)), -EINVAL);
    cr_assert_eq(ike_prf_ctx_computev(ctx, IKE_PRF_HMAC_SHA2_256, key, 4,
                                      &iov, 1, out, 31), -ENOBUFS);
    cr_assert_eq(ike_prf_ctx_plus(ctx, IKE_PRF_HMAC_SHA2_256, key, 4, &iov,
                                  1, out, sizeof(out)), -ERANGE);
    ike_prf_ctx_free(ctx);
    ike_prf_ctx_free(NULL);
}
