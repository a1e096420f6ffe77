/*
 * Key derivation: suite checks, SKEYSEED and the SK_* split against NIST
 * SP 800-135 samples and a logged strongSwan 5.9.8 handshake, IKE SA
 * rekeying and CHILD SA KEYMAT.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <string.h>

#include "ike_const.h"
#include "ike_keys.h"
#include "test_crypto_kat.h"

TestSuite(ike_keys);

/* The inputs of one SP 800-135 case. */
struct kdf_case {
    uint16_t prf;
    uint8_t ni[256], nr[256], g_ir[512], g_ir_new[512];
    uint8_t spi_i[8], spi_r[8];
    uint8_t skeyseed[64], skeyseed_rekey[64], dkm[512];
    size_t ni_len, nr_len, g_ir_len, g_ir_new_len, skeyseed_len, dkm_len;
};

static void
kdf_case_load(json_t *c, struct kdf_case *k)
{
    memset(k, 0, sizeof(*k));
    k->prf = (uint16_t)json_integer_value(json_object_get(c, "prf"));
    k->ni_len = kat_json_hex(c, "ni", k->ni, sizeof(k->ni));
    k->nr_len = kat_json_hex(c, "nr", k->nr, sizeof(k->nr));
    k->g_ir_len = kat_json_hex(c, "g_ir", k->g_ir, sizeof(k->g_ir));
    k->g_ir_new_len = kat_json_hex(c, "g_ir_new", k->g_ir_new,
                                   sizeof(k->g_ir_new));
    cr_assert_eq(kat_json_hex(c, "spi_i", k->spi_i, 8), 8);
    cr_assert_eq(kat_json_hex(c, "spi_r", k->spi_r, 8), 8);
    k->skeyseed_len = kat_json_hex(c, "skeyseed", k->skeyseed,
                                   sizeof(k->skeyseed));
    cr_assert_eq(kat_json_hex(c, "skeyseed_rekey", k->skeyseed_rekey,
                              sizeof(k->skeyseed_rekey)), k->skeyseed_len);
    k->dkm_len = kat_json_hex(c, "dkm", k->dkm, sizeof(k->dkm));
}

static struct ike_keys_seed
kdf_case_seed(const struct kdf_case *k)
{
    struct ike_keys_seed seed = {
        k->ni, k->ni_len, k->nr, k->nr_len, k->spi_i, k->spi_r, NULL,
    };

    return seed;
}

/*
 * Compares key[0..len), which starts at offset off of the prf+ stream,
 * with the part of the published DKM that covers it.
 */
static void
check_dkm_slice(const struct kdf_case *k, const uint8_t *key, size_t off,
                size_t len, const char *name)
{
    if (off >= k->dkm_len)
        return;
    if (len > k->dkm_len - off)
        len = k->dkm_len - off;
    cr_assert_arr_eq(key, k->dkm + off, len, "PRF %u %s", k->prf, name);
}

Test(ike_keys, matches_sp800_135_skeyseeds)
{
    json_t *root = kat_load_json("kat/sp800-135-ikev2.json");
    json_t *cases = json_object_get(root, "cases");

    cr_assert_eq(json_array_size(cases), 3);
    for (size_t i = 0; i < json_array_size(cases); i++) {
        struct kdf_case k;
        uint8_t out[64];
        size_t prf_len;

        kdf_case_load(json_array_get(cases, i), &k);
        prf_len = ike_prf_len(k.prf);
        cr_assert_eq(k.skeyseed_len, prf_len);
        cr_assert_eq(ike_keys_skeyseed(k.prf, k.ni, k.ni_len, k.nr, k.nr_len,
                                       k.g_ir, k.g_ir_len, out, sizeof(out)),
                     0);
        cr_assert_arr_eq(out, k.skeyseed, prf_len, "PRF %u SKEYSEED", k.prf);
        /* SK_d(old) is the first PRF-length octets of the DKM. */
        cr_assert_eq(ike_keys_rekey_skeyseed(k.prf, k.dkm, prf_len,
                                             k.g_ir_new, k.g_ir_new_len,
                                             k.ni, k.ni_len, k.nr, k.nr_len,
                                             out, sizeof(out)), 0);
        cr_assert_arr_eq(out, k.skeyseed_rekey, prf_len,
                         "PRF %u SKEYSEED(Rekey)", k.prf);
    }
    json_decref(root);
}

/*
 * With AES-GCM the split is SK_d | SK_ei | SK_er | SK_pi | SK_pr, so each
 * key must be the matching slice of the published DKM.
 */
Test(ike_keys, splits_sp800_135_dkm_into_sk_keys)
{
    json_t *root = kat_load_json("kat/sp800-135-ikev2.json");
    json_t *cases = json_object_get(root, "cases");

    for (size_t i = 0; i < json_array_size(cases); i++) {
        const uint16_t bits[] = { 128, 256 };
        struct kdf_case k;

        kdf_case_load(json_array_get(cases, i), &k);
        for (size_t b = 0; b < 2; b++) {
            struct ike_suite suite = {
                IKE_ENCR_AES_GCM_16, bits[b], k.prf, IKE_INTEG_NONE,
                IKE_DH_MODP_2048,
            };
            struct ike_keys_seed seed = kdf_case_seed(&k);
            struct ike_sa_keys keys;
            size_t p, e;

            cr_assert_eq(ike_keys_derive_sa(&keys, &suite, k.g_ir,
                                            k.g_ir_len, &seed), 0);
            p = keys.prf_len;
            e = keys.encr_len;
            cr_assert_eq(p, ike_prf_len(k.prf));
            cr_assert_eq(e, bits[b] / 8 + 4u);
            cr_assert_eq(keys.integ_len, 0);
            check_dkm_slice(&k, keys.sk_d, 0, p, "SK_d");
            check_dkm_slice(&k, keys.sk_ei, p, e, "SK_ei");
            check_dkm_slice(&k, keys.sk_er, p + e, e, "SK_er");
            check_dkm_slice(&k, keys.sk_pi, p + 2 * e, p, "SK_pi");
            check_dkm_slice(&k, keys.sk_pr, 2 * p + 2 * e, p, "SK_pr");
            ike_keys_wipe_sa(&keys);
        }
    }
    json_decref(root);
}

/* Same DKM with AES-CBC: SK_ai and SK_ar sit between SK_d and SK_ei. */
Test(ike_keys, places_integrity_keys_after_sk_d)
{
    json_t *root = kat_load_json("kat/sp800-135-ikev2.json");
    struct kdf_case k;
    struct ike_suite suite = {
        IKE_ENCR_AES_CBC, 128, IKE_PRF_HMAC_SHA1,
        IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_MODP_2048,
    };
    struct ike_keys_seed seed;
    struct ike_sa_keys keys;

    kdf_case_load(json_array_get(json_object_get(root, "cases"), 0), &k);
    cr_assert_eq(k.prf, IKE_PRF_HMAC_SHA1);
    seed = kdf_case_seed(&k);
    cr_assert_eq(ike_keys_split_sa(&keys, &suite, k.skeyseed, k.skeyseed_len,
                                   &seed), 0);
    cr_assert_eq(keys.integ_len, 32);
    cr_assert_eq(keys.encr_len, 16);
    check_dkm_slice(&k, keys.sk_d, 0, 20, "SK_d");
    check_dkm_slice(&k, keys.sk_ai, 20, 32, "SK_ai");
    check_dkm_slice(&k, keys.sk_ar, 52, 32, "SK_ar");
    check_dkm_slice(&k, keys.sk_ei, 84, 16, "SK_ei");
    check_dkm_slice(&k, keys.sk_er, 100, 16, "SK_er");
    check_dkm_slice(&k, keys.sk_pi, 116, 20, "SK_pi");
    ike_keys_wipe_sa(&keys);
    json_decref(root);
}

/*
 * RFC 7296 2.18: the new SA's keys are prf+ of SKEYSEED(Rekey) with the
 * new suite, where SKEYSEED(Rekey) is NIST's value.
 */
Test(ike_keys, rekeys_with_old_sk_d_and_old_prf)
{
    json_t *root = kat_load_json("kat/sp800-135-ikev2.json");
    json_t *cases = json_object_get(root, "cases");

    for (size_t i = 0; i < json_array_size(cases); i++) {
        struct kdf_case k;
        struct ike_keys_seed seed;
        struct ike_sa_keys old, fresh, expect;

        kdf_case_load(json_array_get(cases, i), &k);
        seed = kdf_case_seed(&k);
        struct ike_suite old_suite = {
            IKE_ENCR_AES_GCM_16, 128, k.prf, IKE_INTEG_NONE, IKE_DH_ECP_256,
        };
        /* A different PRF for the new SA shows which one makes SKEYSEED. */
        struct ike_suite new_suite = {
            IKE_ENCR_AES_CBC, 256, IKE_PRF_HMAC_SHA2_512,
            IKE_INTEG_HMAC_SHA2_512_256, IKE_DH_ECP_384,
        };

        cr_assert_eq(ike_keys_derive_sa(&old, &old_suite, k.g_ir, k.g_ir_len,
                                        &seed), 0);
        cr_assert_eq(ike_keys_rekey_sa(&fresh, &new_suite, &old, k.g_ir_new,
                                       k.g_ir_new_len, &seed), 0);
        cr_assert_eq(ike_keys_split_sa(&expect, &new_suite, k.skeyseed_rekey,
                                       k.skeyseed_len, &seed), 0);
        cr_assert_eq(memcmp(&fresh, &expect, sizeof(fresh)), 0,
                     "PRF %u rekeyed keys", k.prf);
        cr_assert_eq(fresh.suite.prf, IKE_PRF_HMAC_SHA2_512);
        cr_assert_eq(fresh.prf_len, 64);
        ike_keys_wipe_sa(&old);
        ike_keys_wipe_sa(&fresh);
        ike_keys_wipe_sa(&expect);
    }
    json_decref(root);
}

/* SP 800-135 inputs; the expected KEYMAT is libreswan's recorded output. */
Test(ike_keys, child_keymat_matches_recorded_dkm)
{
    json_t *root = kat_load_json("kat/sp800-135-ikev2.json");
    json_t *c = json_array_get(json_object_get(root, "cases"), 0);
    struct ike_suite suite = {
        IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA1, IKE_INTEG_NONE,
        IKE_DH_MODP_2048,
    };
    uint8_t child[512], child_dh[512], out[512];
    size_t child_len, child_dh_len;
    struct ike_keys_seed seed;
    struct ike_sa_keys ike;
    struct kdf_case k;

    kdf_case_load(c, &k);
    child_len = kat_json_hex(c, "dkm_child", child, sizeof(child));
    child_dh_len = kat_json_hex(c, "dkm_child_dh", child_dh,
                                sizeof(child_dh));
    seed = kdf_case_seed(&k);
    cr_assert_eq(ike_keys_derive_sa(&ike, &suite, k.g_ir, k.g_ir_len, &seed),
                 0);
    /* The child seed has no SPIs (RFC 7296 2.17). */
    seed.spi_i = NULL;
    seed.spi_r = NULL;
    cr_assert_eq(ike_keys_child_keymat(&ike, NULL, 0, &seed, out,
                                       child_len), 0);
    cr_assert_arr_eq(out, child, child_len, "KEYMAT without PFS");
    cr_assert_eq(ike_keys_child_keymat(&ike, k.g_ir_new, k.g_ir_new_len,
                                       &seed, out, child_dh_len), 0);
    cr_assert_arr_eq(out, child_dh, child_dh_len, "KEYMAT with PFS");

    /* ESP AES-CBC-128 + HMAC-SHA2-256-128: 16 + 32 per direction. */
    struct ike_child_suite cbc = {
        IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128,
    };
    struct ike_child_keys esp;

    cr_assert_eq(ike_keys_derive_child(&esp, &cbc, &ike, NULL, 0, &seed), 0);
    cr_assert_eq(esp.encr_len, 16);
    cr_assert_eq(esp.integ_len, 32);
    cr_assert_arr_eq(esp.encr_i, child, 16);
    cr_assert_arr_eq(esp.integ_i, child + 16, 32);
    cr_assert_arr_eq(esp.encr_r, child + 48, 16);
    cr_assert_arr_eq(esp.integ_r, child + 64, 32);

    /* ESP AES-GCM-16-256 with PFS: key and salt, 36 octets each way. */
    struct ike_child_suite gcm = {
        IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE,
    };

    cr_assert_eq(ike_keys_derive_child(&esp, &gcm, &ike, k.g_ir_new,
                                       k.g_ir_new_len, &seed), 0);
    cr_assert_eq(esp.encr_len, 36);
    cr_assert_eq(esp.integ_len, 0);
    cr_assert_arr_eq(esp.encr_i, child_dh, 36);
    cr_assert_arr_eq(esp.encr_r, child_dh + 36, 36);
    ike_keys_wipe_child(&esp);
    ike_keys_wipe_sa(&ike);
    json_decref(root);
}

/* The AES-GCM-16-128 / PRF-HMAC-SHA2-256 handshake strongSwan logged. */
Test(ike_keys, derives_strongswan_logged_keys)
{
    json_t *root = kat_load_json("vectors/kat-sw-gcm-handshake.json");
    uint8_t ni[64], nr[64], spi_i[8], spi_r[8], g_ir[32], skeyseed[32];
    uint8_t sk_d[32], sk_ei[20], sk_er[20], sk_pi[32], sk_pr[32], out[64];
    size_t ni_len = kat_json_hex(root, "ni", ni, sizeof(ni));
    size_t nr_len = kat_json_hex(root, "nr", nr, sizeof(nr));
    struct ike_suite suite = {
        IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256, IKE_INTEG_NONE,
        IKE_DH_CURVE25519,
    };
    struct ike_keys_seed seed = { ni, ni_len, nr, nr_len, spi_i, spi_r, NULL };
    struct ike_sa_keys keys;

    cr_assert_eq(kat_json_hex(root, "spi_i", spi_i, 8), 8);
    cr_assert_eq(kat_json_hex(root, "spi_r", spi_r, 8), 8);
    cr_assert_eq(kat_json_hex(root, "g_ir", g_ir, 32), 32);
    cr_assert_eq(kat_json_hex(root, "skeyseed", skeyseed, 32), 32);
    cr_assert_eq(kat_json_hex(root, "sk_d", sk_d, 32), 32);
    cr_assert_eq(kat_json_hex(root, "sk_ei_with_salt", sk_ei, 20), 20);
    cr_assert_eq(kat_json_hex(root, "sk_er_with_salt", sk_er, 20), 20);
    cr_assert_eq(kat_json_hex(root, "sk_pi", sk_pi, 32), 32);
    cr_assert_eq(kat_json_hex(root, "sk_pr", sk_pr, 32), 32);

    cr_assert_eq(ike_keys_skeyseed(IKE_PRF_HMAC_SHA2_256, ni, ni_len, nr,
                                   nr_len, g_ir, 32, out, sizeof(out)), 0);
    cr_assert_arr_eq(out, skeyseed, 32, "SKEYSEED");
    cr_assert_eq(ike_keys_derive_sa(&keys, &suite, g_ir, 32, &seed), 0);
    cr_assert_arr_eq(keys.sk_d, sk_d, 32, "SK_d");
    cr_assert_arr_eq(keys.sk_ei, sk_ei, 20, "SK_ei with salt");
    cr_assert_arr_eq(keys.sk_er, sk_er, 20, "SK_er with salt");
    cr_assert_arr_eq(keys.sk_pi, sk_pi, 32, "SK_pi");
    cr_assert_arr_eq(keys.sk_pr, sk_pr, 32, "SK_pr");
    ike_keys_wipe_sa(&keys);
    json_decref(root);
}

/* The Wireshark key lines of vectors 18 to 20 name the same keys. */
Test(ike_keys, agrees_with_the_capture_key_lines)
{
    json_t *root = kat_load_json("vectors/kat-sw-gcm-handshake.json");
    uint8_t sk_ei[20], sk_er[20];
    const char *nums[] = { "18", "19", "20" };

    kat_json_hex(root, "sk_ei_with_salt", sk_ei, sizeof(sk_ei));
    kat_json_hex(root, "sk_er_with_salt", sk_er, sizeof(sk_er));
    for (size_t i = 0; i < 3; i++) {
        struct kat_keys_line line;

        kat_read_keys(nums[i], &line);
        cr_assert_eq(line.sk_e_len, 20, "vector %s", nums[i]);
        cr_assert_arr_eq(line.sk_ei, sk_ei, 20, "vector %s", nums[i]);
        cr_assert_arr_eq(line.sk_er, sk_er, 20, "vector %s", nums[i]);
    }
    json_decref(root);
}

struct suite_case {
    struct ike_suite suite;
    int ret;
    uint8_t prf_len, integ_len, encr_len;
};

ParameterizedTestParameters(ike_keys, checks_suites_and_sizes_keys)
{
    /* Lengths from RFC 7296 3.3.2, RFC 4868 2.1.1 and RFC 5282 7.1. */
    static struct suite_case cases[] = {
        { { IKE_ENCR_AES_CBC, 128, IKE_PRF_HMAC_SHA2_256,
            IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_MODP_2048 }, 0, 32, 32, 16 },
        { { IKE_ENCR_AES_CBC, 256, IKE_PRF_HMAC_SHA2_384,
            IKE_INTEG_HMAC_SHA2_384_192, IKE_DH_ECP_384 }, 0, 48, 48, 32 },
        { { IKE_ENCR_AES_CBC, 256, IKE_PRF_HMAC_SHA2_512,
            IKE_INTEG_HMAC_SHA2_512_256, IKE_DH_ECP_256 }, 0, 64, 64, 32 },
        { { IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA1,
            IKE_INTEG_NONE, IKE_DH_CURVE25519 }, 0, 20, 0, 20 },
        { { IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_256,
            IKE_INTEG_NONE, IKE_DH_CURVE25519 }, 0, 32, 0, 36 },
        /* AES-CBC without integrity, AES-GCM with it (RFC 5282 8). */
        { { IKE_ENCR_AES_CBC, 128, IKE_PRF_HMAC_SHA2_256,
            IKE_INTEG_NONE, IKE_DH_MODP_2048 }, -ENOTSUP, 0, 0, 0 },
        { { IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256,
            IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_MODP_2048 }, -ENOTSUP, 0, 0,
          0 },
        { { IKE_ENCR_AES_CBC, 192, IKE_PRF_HMAC_SHA2_256,
            IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_MODP_2048 }, -ENOTSUP, 0, 0,
          0 },
        { { IKE_ENCR_AES_GCM_8, 128, IKE_PRF_HMAC_SHA2_256,
            IKE_INTEG_NONE, IKE_DH_MODP_2048 }, -ENOTSUP, 0, 0, 0 },
        { { IKE_ENCR_AES_CBC, 128, 4 /* AES128-XCBC */,
            IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_MODP_2048 }, -ENOTSUP, 0, 0,
          0 },
        { { IKE_ENCR_AES_CBC, 128, IKE_PRF_HMAC_SHA2_256,
            IKE_INTEG_HMAC_SHA1_96, IKE_DH_MODP_2048 }, -ENOTSUP, 0, 0, 0 },
        { { IKE_ENCR_AES_CBC, 128, IKE_PRF_HMAC_SHA2_256,
            IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_ECP_521 }, -ENOTSUP, 0, 0,
          0 },
    };

    return cr_make_param_array(struct suite_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct suite_case *c, ike_keys, checks_suites_and_sizes_keys)
{
    const uint8_t g_ir[32] = { 1 }, ni[16] = { 2 }, nr[16] = { 3 };
    const uint8_t spi_i[8] = { 4 }, spi_r[8] = { 5 };
    struct ike_keys_seed seed = { ni, 16, nr, 16, spi_i, spi_r, NULL };
    struct ike_sa_keys keys;

    cr_assert_eq(ike_keys_check_suite(&c->suite), c->ret);
    cr_assert_eq(ike_keys_derive_sa(&keys, &c->suite, g_ir, sizeof(g_ir),
                                    &seed), c->ret);
    cr_assert_eq(keys.prf_len, c->prf_len);
    cr_assert_eq(keys.integ_len, c->integ_len);
    cr_assert_eq(keys.encr_len, c->encr_len);
}

Test(ike_keys, keeps_sa_keys_compact)
{
    /* An established IKE SA should fit in about 2 KB of state. */
    cr_assert_leq(sizeof(struct ike_sa_keys), 512);
    cr_assert_leq(sizeof(struct ike_child_keys), 256);
}

Test(ike_keys, accepts_suite_inside_the_output)
{
    const uint8_t skeyseed[32] = { 7 }, ni[16] = { 2 }, nr[16] = { 3 };
    const uint8_t spi_i[8] = { 4 }, spi_r[8] = { 5 };
    struct ike_keys_seed seed = { ni, 16, nr, 16, spi_i, spi_r, NULL };
    struct ike_sa_keys keys;

    keys.suite = (struct ike_suite){
        IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_256, IKE_INTEG_NONE,
        IKE_DH_ECP_256,
    };
    cr_assert_eq(ike_keys_split_sa(&keys, &keys.suite, skeyseed, 32, &seed),
                 0);
    cr_assert_eq(keys.suite.encr, IKE_ENCR_AES_GCM_16);
    cr_assert_eq(keys.encr_len, 36);
}

Test(ike_keys, wipes_keys_on_bad_input)
{
    static uint8_t long_nonce[257];
    const uint8_t g_ir[32] = { 1 }, nr[16] = { 3 };
    const uint8_t spi[8] = { 4 };
    struct ike_suite suite = {
        IKE_ENCR_AES_GCM_16, 128, IKE_PRF_HMAC_SHA2_256, IKE_INTEG_NONE,
        IKE_DH_ECP_256,
    };
    struct ike_keys_seed seed = { long_nonce, 257, nr, 16, spi, spi, NULL };
    struct ike_child_suite esp = {
        IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE,
    };
    struct ike_child_keys child;
    struct ike_sa_keys keys;
    const uint8_t zero[sizeof(keys)] = { 0 };
    uint8_t out[64];

    memset(&keys, 0xa5, sizeof(keys));
    cr_assert_eq(ike_keys_derive_sa(&keys, &suite, g_ir, 32, &seed),
                 -EINVAL, "nonce above 256 octets");
    cr_assert_eq(memcmp(&keys, zero, sizeof(keys)), 0);
    seed.ni_len = 16;
    seed.spi_r = NULL;
    memset(&keys, 0xa5, sizeof(keys));
    cr_assert_eq(ike_keys_derive_sa(&keys, &suite, g_ir, 32, &seed),
                 -EINVAL, "missing SPI");
    cr_assert_eq(memcmp(&keys, zero, sizeof(keys)), 0);
    cr_assert_eq(ike_keys_skeyseed(IKE_PRF_HMAC_SHA2_256, nr, 16, nr, 16,
                                   g_ir, 32, out, 31), -ENOBUFS);
    cr_assert_eq(ike_keys_derive_child(&child, NULL, NULL, NULL, 0, &seed),
                 -ENOTSUP, "no child suite");
    cr_assert_eq(ike_keys_derive_child(&child, &esp, NULL, NULL, 0, &seed),
                 -EINVAL, "no IKE SA keys");
}

Test(ike_keys, wipe_clears_every_key)
{
    const uint8_t g_ir[32] = { 1 }, ni[16] = { 2 }, nr[16] = { 3 };
    const uint8_t spi[8] = { 4 };
    struct ike_keys_seed seed = { ni, 16, nr, 16, spi, spi, NULL };
    struct ike_suite suite = {
        IKE_ENCR_AES_CBC, 256, IKE_PRF_HMAC_SHA2_512,
        IKE_INTEG_HMAC_SHA2_512_256, IKE_DH_ECP_384,
    };
    struct ike_sa_keys keys;
    const uint8_t zero[sizeof(keys)] = { 0 };

    cr_assert_eq(ike_keys_derive_sa(&keys, &suite, g_ir, 32, &seed), 0);
    cr_assert_neq(memcmp(keys.sk_pr, zero, 64), 0);
    ike_keys_wipe_sa(&keys);
    cr_assert_eq(memcmp(&keys, zero, sizeof(keys)), 0);
    ike_keys_wipe_sa(NULL);
    ike_keys_wipe_child(NULL);
}
