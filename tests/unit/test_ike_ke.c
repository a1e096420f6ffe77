/*
 * Key exchange: RFC 7748 and RFC 5903 known answers, agreement over many
 * random pairs, and rejection of invalid peer values.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ike_const.h"
#include "ike_ke.h"
#include "test_crypto_kat.h"

static const uint16_t groups[] = {
    IKE_DH_MODP_2048, IKE_DH_ECP_256, IKE_DH_ECP_384, IKE_DH_CURVE25519,
};

TestSuite(ike_ke);

struct group_sizes {
    uint16_t group;
    size_t public_len;
    size_t secret_len;
};

ParameterizedTestParameters(ike_ke, reports_encoding_lengths)
{
    /* RFC 7296 3.4, RFC 5903 7, RFC 8031 3.1. */
    static struct group_sizes sizes[] = {
        { IKE_DH_MODP_2048, 256, 256 },
        { IKE_DH_ECP_256, 64, 32 },
        { IKE_DH_ECP_384, 96, 48 },
        { IKE_DH_CURVE25519, 32, 32 },
        { IKE_DH_ECP_521, 0, 0 },
        { IKE_DH_CURVE448, 0, 0 },
        { 0, 0, 0 },
    };

    return cr_make_param_array(struct group_sizes, sizes,
                               sizeof(sizes) / sizeof(sizes[0]));
}

ParameterizedTest(struct group_sizes *s, ike_ke, reports_encoding_lengths)
{
    cr_assert_eq(ike_ke_public_len(s->group), s->public_len,
                 "group %u", s->group);
    cr_assert_eq(ike_ke_secret_len(s->group), s->secret_len,
                 "group %u", s->group);
}

Test(ike_ke, rejects_unsupported_group)
{
    cr_assert_null(ike_ke_new(NULL, IKE_DH_ECP_521));
    cr_assert_null(ike_ke_new(NULL, 0));
}

Test(ike_ke, free_accepts_null)
{
    ike_ke_free(NULL);
    ike_ke_ctx_free(NULL);
}

/* Both sides of `pairs` fresh exchanges in `group` derive one secret. */
static void
check_agreement(struct ike_ke_ctx *ctx, uint16_t group, int pairs)
{
    size_t secret_len = ike_ke_secret_len(group);

    for (int i = 0; i < pairs; i++) {
        struct ike_ke *a = ike_ke_new(ctx, group);
        struct ike_ke *b = ike_ke_new(ctx, group);
        uint8_t sa[IKE_KE_MAX_SECRET_LEN], sb[IKE_KE_MAX_SECRET_LEN];
        const uint8_t *pa, *pb;
        size_t la, lb;

        cr_assert_not_null(a, "group %u pair %d", group, i);
        cr_assert_not_null(b, "group %u pair %d", group, i);
        cr_assert_eq(ike_ke_group(a), group);
        pa = ike_ke_public(a, &la);
        pb = ike_ke_public(b, &lb);
        cr_assert_eq(la, ike_ke_public_len(group));
        cr_assert_eq(lb, ike_ke_public_len(group));
        cr_assert_neq(memcmp(pa, pb, la), 0, "two key pairs are equal");
        cr_assert_eq(ike_ke_derive(a, pb, lb, sa, sizeof(sa)), 0,
                     "group %u pair %d", group, i);
        cr_assert_eq(ike_ke_derive(b, pa, la, sb, sizeof(sb)), 0,
                     "group %u pair %d", group, i);
        cr_assert_arr_eq(sa, sb, secret_len, "group %u pair %d", group, i);
        ike_ke_free(a);
        ike_ke_free(b);
    }
}

Test(ike_ke, agrees_over_300_modp_pairs)
{
    struct ike_ke_ctx *ctx = ike_ke_ctx_new();

    cr_assert_not_null(ctx);
    check_agreement(ctx, IKE_DH_MODP_2048, 300);
    ike_ke_ctx_free(ctx);
}

Test(ike_ke, agrees_over_ecp_and_x25519_pairs)
{
    struct ike_ke_ctx *ctx = ike_ke_ctx_new();

    cr_assert_not_null(ctx);
    check_agreement(ctx, IKE_DH_ECP_256, 200);
    check_agreement(ctx, IKE_DH_ECP_384, 50);
    check_agreement(ctx, IKE_DH_CURVE25519, 300);
    ike_ke_ctx_free(ctx);
}

Test(ike_ke, agrees_without_a_cache)
{
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        check_agreement(NULL, groups[i], 3);
}

Test(ike_ke, cached_keys_outlive_the_cache)
{
    struct ike_ke_ctx *ctx = ike_ke_ctx_new();
    struct ike_ke *a, *b;
    uint8_t secret[IKE_KE_MAX_SECRET_LEN];
    const uint8_t *pb;
    size_t lb;

    cr_assert_not_null(ctx);
    a = ike_ke_new(ctx, IKE_DH_ECP_256);
    b = ike_ke_new(ctx, IKE_DH_ECP_256);
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    ike_ke_ctx_free(ctx);
    pb = ike_ke_public(b, &lb);
    cr_assert_eq(ike_ke_derive(a, pb, lb, secret, sizeof(secret)), 0);
    ike_ke_free(a);
    ike_ke_free(b);
}

static BIGNUM *
rfc3526_prime(void)
{
    json_t *root = kat_load_json("kat/rfc3526-modp2048.json");
    uint8_t p[256];
    BIGNUM *bn;

    cr_assert_eq(kat_json_hex(root, "prime", p, sizeof(p)), sizeof(p));
    cr_assert_eq(json_integer_value(json_object_get(root, "generator")), 2);
    json_decref(root);
    bn = BN_bin2bn(p, sizeof(p), NULL);
    cr_assert_not_null(bn);
    return bn;
}

/*
 * The expected secret is (peer y)^x mod p computed with BIGNUM and
 * left-padded.  About one pair in 256 has a secret with a leading zero
 * octet, so the loop runs until it has seen three of them.  An unpadded
 * secret would differ in those pairs.
 */
Test(ike_ke, left_pads_modp_secrets_with_leading_zeros)
{
    BIGNUM *p = rfc3526_prime();
    BN_CTX *bn_ctx = BN_CTX_new();
    BIGNUM *y = BN_new(), *x = BN_new(), *expect_bn = BN_new();
    struct ike_ke *peer = ike_ke_new(NULL, IKE_DH_MODP_2048);
    int leading_zero = 0;

    cr_assert_not_null(bn_ctx);
    cr_assert_not_null(peer);
    const uint8_t *peer_pub;
    size_t peer_len;
    peer_pub = ike_ke_public(peer, &peer_len);
    cr_assert_not_null(BN_bin2bn(peer_pub, (int)peer_len, y));
    for (int i = 0; i < 20000 && leading_zero < 3; i++) {
        uint8_t priv[16], secret[256], expect[256];
        struct ike_ke *ke;

        cr_assert_eq(RAND_bytes(priv, sizeof(priv)), 1);
        priv[0] |= 0x80;
        ke = ike_ke_new_from_private(IKE_DH_MODP_2048, priv, sizeof(priv));
        cr_assert_not_null(ke);
        cr_assert_eq(ike_ke_derive(ke, peer_pub, peer_len, secret,
                                   sizeof(secret)), 0);
        cr_assert_not_null(BN_bin2bn(priv, sizeof(priv), x));
        cr_assert(BN_mod_exp(expect_bn, y, x, p, bn_ctx));
        cr_assert_eq(BN_bn2binpad(expect_bn, expect, sizeof(expect)),
                     (int)sizeof(expect));
        cr_assert_arr_eq(secret, expect, sizeof(secret), "pair %d", i);
        if (expect[0] == 0)
            leading_zero++;
        ike_ke_free(ke);
    }
    cr_assert_eq(leading_zero, 3, "too few secrets with a leading zero");
    ike_ke_free(peer);
    BN_free(y);
    BN_free(x);
    BN_free(expect_bn);
    BN_free(p);
    BN_CTX_free(bn_ctx);
}

/* A public value made from exponent x is 2^x mod p with RFC 3526's p. */
Test(ike_ke, uses_the_rfc3526_group)
{
    BIGNUM *p = rfc3526_prime();
    BN_CTX *bn_ctx = BN_CTX_new();
    BIGNUM *two = BN_new(), *x = BN_new(), *y = BN_new();
    uint8_t priv[32], expect[256];
    struct ike_ke *ke;
    const uint8_t *pub;
    size_t len;

    cr_assert_eq(RAND_bytes(priv, sizeof(priv)), 1);
    priv[0] |= 0x80;
    ke = ike_ke_new_from_private(IKE_DH_MODP_2048, priv, sizeof(priv));
    cr_assert_not_null(ke);
    cr_assert(BN_set_word(two, 2));
    cr_assert_not_null(BN_bin2bn(priv, sizeof(priv), x));
    cr_assert(BN_mod_exp(y, two, x, p, bn_ctx));
    cr_assert_eq(BN_bn2binpad(y, expect, sizeof(expect)), 256);
    pub = ike_ke_public(ke, &len);
    cr_assert_eq(len, sizeof(expect));
    cr_assert_arr_eq(pub, expect, sizeof(expect));
    ike_ke_free(ke);
    BN_free(two);
    BN_free(x);
    BN_free(y);
    BN_free(p);
    BN_CTX_free(bn_ctx);
}

/* peer value = p + delta for delta in {-2, -1, 0}, big-endian. */
static void
modp_near_prime(int delta, uint8_t out[256])
{
    BIGNUM *p = rfc3526_prime();

    if (delta < 0)
        cr_assert(BN_sub_word(p, (BN_ULONG)-delta));
    cr_assert_eq(BN_bn2binpad(p, out, 256), 256);
    BN_free(p);
}

Test(ike_ke, checks_modp_peer_range)
{
    struct ike_ke *ke = ike_ke_new(NULL, IKE_DH_MODP_2048);
    uint8_t y[256], secret[256];

    cr_assert_not_null(ke);
    memset(y, 0, sizeof(y));
    cr_assert_eq(ike_ke_derive(ke, y, sizeof(y), secret, sizeof(secret)),
                 -EINVAL, "y = 0");
    y[255] = 1;
    cr_assert_eq(ike_ke_derive(ke, y, sizeof(y), secret, sizeof(secret)),
                 -EINVAL, "y = 1");
    y[255] = 2;
    cr_assert_eq(ike_ke_derive(ke, y, sizeof(y), secret, sizeof(secret)),
                 0, "y = 2");
    modp_near_prime(-2, y);
    cr_assert_eq(ike_ke_derive(ke, y, sizeof(y), secret, sizeof(secret)),
                 0, "y = p - 2");
    modp_near_prime(-1, y);
    cr_assert_eq(ike_ke_derive(ke, y, sizeof(y), secret, sizeof(secret)),
                 -EINVAL, "y = p - 1");
    modp_near_prime(0, y);
    cr_assert_eq(ike_ke_derive(ke, y, sizeof(y), secret, sizeof(secret)),
                 -EINVAL, "y = p");
    memset(y, 0xff, sizeof(y));
    cr_assert_eq(ike_ke_derive(ke, y, sizeof(y), secret, sizeof(secret)),
                 -EINVAL, "y = 2^2048 - 1");
    ike_ke_free(ke);
}

Test(ike_ke, rejects_wrong_peer_lengths)
{
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        struct ike_ke *a = ike_ke_new(NULL, groups[i]);
        struct ike_ke *b = ike_ke_new(NULL, groups[i]);
        uint8_t peer[IKE_KE_MAX_PUBLIC_LEN + 1] = { 0 };
        uint8_t secret[IKE_KE_MAX_SECRET_LEN];
        const uint8_t *pub;
        size_t len;

        cr_assert_not_null(a);
        cr_assert_not_null(b);
        pub = ike_ke_public(b, &len);
        memcpy(peer, pub, len);
        cr_assert_eq(ike_ke_derive(a, peer, len - 1, secret, sizeof(secret)),
                     -EINVAL, "group %u short", groups[i]);
        cr_assert_eq(ike_ke_derive(a, peer, len + 1, secret, sizeof(secret)),
                     -EINVAL, "group %u long", groups[i]);
        cr_assert_eq(ike_ke_derive(a, peer, 0, secret, sizeof(secret)),
                     -EINVAL, "group %u empty", groups[i]);
        cr_assert_eq(ike_ke_derive(a, peer, len, secret,
                                   ike_ke_secret_len(groups[i]) - 1),
                     -ENOBUFS, "group %u small buffer", groups[i]);
        ike_ke_free(a);
        ike_ke_free(b);
    }
}

Test(ike_ke, rejects_ecp_points_off_the_curve)
{
    const uint16_t ecp[] = { IKE_DH_ECP_256, IKE_DH_ECP_384 };

    for (size_t i = 0; i < 2; i++) {
        struct ike_ke *a = ike_ke_new(NULL, ecp[i]);
        struct ike_ke *b = ike_ke_new(NULL, ecp[i]);
        uint8_t peer[IKE_KE_MAX_PUBLIC_LEN], secret[IKE_KE_MAX_SECRET_LEN];
        const uint8_t *pub;
        size_t len;

        cr_assert_not_null(a);
        cr_assert_not_null(b);
        pub = ike_ke_public(b, &len);
        memcpy(peer, pub, len);
        cr_assert_eq(ike_ke_derive(a, peer, len, secret, sizeof(secret)), 0);
        peer[len - 1] ^= 0x01;
        cr_assert_eq(ike_ke_derive(a, peer, len, secret, sizeof(secret)),
                     -EINVAL, "group %u y changed", ecp[i]);
        memset(peer, 0, len);
        cr_assert_eq(ike_ke_derive(a, peer, len, secret, sizeof(secret)),
                     -EINVAL, "group %u (0, 0)", ecp[i]);
        /* Coordinates at or above the field prime are not field elements. */
        memset(peer, 0xff, len);
        cr_assert_eq(ike_ke_derive(a, peer, len, secret, sizeof(secret)),
                     -EINVAL, "group %u all ones", ecp[i]);
        ike_ke_free(a);
        ike_ke_free(b);
    }
}

/*
 * RFC 7748 7: u = 0, 1, p - 1, p and p + 1 (p = 2^255 - 19, little-endian)
 * have small order, so X25519 with any clamped scalar gives all zeros.
 */
Test(ike_ke, rejects_small_order_x25519_shares)
{
    struct ike_ke *ke = ike_ke_new(NULL, IKE_DH_CURVE25519);
    uint8_t u[32], secret[32];
    const uint8_t low_first[] = { 0x00, 0x01, 0xec, 0xed, 0xee };

    cr_assert_not_null(ke);
    for (size_t i = 0; i < sizeof(low_first); i++) {
        memset(u, low_first[i] < 2 ? 0x00 : 0xff, sizeof(u));
        u[0] = low_first[i];
        u[31] = low_first[i] < 2 ? 0x00 : 0x7f;
        cr_assert_eq(ike_ke_derive(ke, u, sizeof(u), secret, sizeof(secret)),
                     -EINVAL, "u starting %02x", low_first[i]);
    }
    ike_ke_free(ke);
}

Test(ike_ke, rejects_invalid_private_values)
{
    uint8_t v[48];

    memset(v, 0, sizeof(v));
    cr_assert_null(ike_ke_new_from_private(IKE_DH_ECP_256, v, 32),
                   "ECP scalar 0");
    memset(v, 0xff, sizeof(v));
    cr_assert_null(ike_ke_new_from_private(IKE_DH_ECP_256, v, 32),
                   "ECP scalar above the order");
    cr_assert_null(ike_ke_new_from_private(IKE_DH_ECP_384, v, 32),
                   "ECP scalar of the wrong length");
    cr_assert_null(ike_ke_new_from_private(IKE_DH_CURVE25519, v, 31),
                   "X25519 scalar of the wrong length");
    memset(v, 0, sizeof(v));
    v[0] = 1;
    cr_assert_null(ike_ke_new_from_private(IKE_DH_MODP_2048, v, 1),
                   "MODP exponent 1");
    cr_assert_null(ike_ke_new_from_private(IKE_DH_MODP_2048, v, 0),
                   "MODP exponent empty");
    cr_assert_null(ike_ke_new_from_private(IKE_DH_ECP_521, v, 1),
                   "unsupported group");
}

/* RFC 7748 5.2: X25519(scalar, u) through the derive path. */
Test(ike_ke, matches_rfc7748_scalar_multiplication)
{
    json_t *root = kat_load_json("kat/rfc7748-x25519.json");
    json_t *cases = json_object_get(root, "scalar_mult");
    size_t n = json_array_size(cases);

    cr_assert_eq(n, 2);
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(cases, i);
        uint8_t scalar[32], u[32], expect[32], secret[32];
        struct ike_ke *ke;

        cr_assert_eq(kat_json_hex(c, "scalar", scalar, sizeof(scalar)), 32);
        cr_assert_eq(kat_json_hex(c, "u", u, sizeof(u)), 32);
        cr_assert_eq(kat_json_hex(c, "output", expect, sizeof(expect)), 32);
        ke = ike_ke_new_from_private(IKE_DH_CURVE25519, scalar, 32);
        cr_assert_not_null(ke);
        cr_assert_eq(ike_ke_derive(ke, u, 32, secret, sizeof(secret)), 0);
        cr_assert_arr_eq(secret, expect, 32, "vector %zu", i);
        ike_ke_free(ke);
    }
    json_decref(root);
}

/* RFC 7748 5.2: k = X25519(k, u), u = old k, starting from k = u = 9. */
Test(ike_ke, matches_rfc7748_iterated_results)
{
    json_t *root = kat_load_json("kat/rfc7748-x25519.json");
    json_t *iterated = json_object_get(root, "iterated");
    uint8_t k[32], u[32], next[32];
    long done = 0;

    cr_assert_eq(kat_json_hex(root, "iterated_start", k, sizeof(k)), 32);
    memcpy(u, k, sizeof(u));
    for (size_t i = 0; i < json_array_size(iterated); i++) {
        json_t *c = json_array_get(iterated, i);
        long target = (long)json_integer_value(json_object_get(c,
                                                               "iterations"));
        uint8_t expect[32];

        for (; done < target; done++) {
            struct ike_ke *ke;

            ke = ike_ke_new_from_private(IKE_DH_CURVE25519, k, sizeof(k));
            cr_assert_not_null(ke);
            cr_assert_eq(ike_ke_derive(ke, u, sizeof(u), next, sizeof(next)),
                         0, "iteration %ld", done + 1);
            ike_ke_free(ke);
            memcpy(u, k, sizeof(u));
            memcpy(k, next, sizeof(k));
        }
        cr_assert_eq(kat_json_hex(c, "output", expect, sizeof(expect)), 32);
        cr_assert_arr_eq(k, expect, 32, "after %ld iterations", target);
    }
    cr_assert_eq(done, 1000);
    json_decref(root);
}

/* RFC 7748 6.1: both public values and the shared secret. */
Test(ike_ke, matches_rfc7748_alice_and_bob)
{
    json_t *root = kat_load_json("kat/rfc7748-x25519.json");
    json_t *dh = json_object_get(root, "dh");
    uint8_t a_priv[32], a_pub[32], b_priv[32], b_pub[32], shared[32];
    uint8_t secret[32];
    struct ike_ke *alice, *bob;
    const uint8_t *pub;
    size_t len;

    kat_json_hex(dh, "alice_private", a_priv, 32);
    kat_json_hex(dh, "alice_public", a_pub, 32);
    kat_json_hex(dh, "bob_private", b_priv, 32);
    kat_json_hex(dh, "bob_public", b_pub, 32);
    kat_json_hex(dh, "shared", shared, 32);
    alice = ike_ke_new_from_private(IKE_DH_CURVE25519, a_priv, 32);
    bob = ike_ke_new_from_private(IKE_DH_CURVE25519, b_priv, 32);
    cr_assert_not_null(alice);
    cr_assert_not_null(bob);
    pub = ike_ke_public(alice, &len);
    cr_assert_eq(len, 32);
    cr_assert_arr_eq(pub, a_pub, 32, "Alice's public key");
    pub = ike_ke_public(bob, &len);
    cr_assert_arr_eq(pub, b_pub, 32, "Bob's public key");
    cr_assert_eq(ike_ke_derive(alice, b_pub, 32, secret, 32), 0);
    cr_assert_arr_eq(secret, shared, 32, "Alice's secret");
    cr_assert_eq(ike_ke_derive(bob, a_pub, 32, secret, 32), 0);
    cr_assert_arr_eq(secret, shared, 32, "Bob's secret");
    ike_ke_free(alice);
    ike_ke_free(bob);
    json_decref(root);
}

/* RFC 5903 8.1 and 8.2: g^i, g^r and the x-only shared secret. */
Test(ike_ke, matches_rfc5903_ecdh_vectors)
{
    json_t *root = kat_load_json("kat/rfc5903-ecdh.json");
    json_t *list = json_object_get(root, "groups");

    cr_assert_eq(json_array_size(list), 2);
    for (size_t n = 0; n < json_array_size(list); n++) {
        json_t *c = json_array_get(list, n);
        uint16_t group = (uint16_t)json_integer_value(json_object_get(c,
                                                                      "group"));
        size_t clen = ike_ke_secret_len(group);
        uint8_t i[48], r[48], gi[96], gr[96], gir[48], secret[48];
        struct ike_ke *ki, *kr;
        const uint8_t *pub;
        size_t len;

        cr_assert_eq(kat_json_hex(c, "i", i, sizeof(i)), clen);
        cr_assert_eq(kat_json_hex(c, "r", r, sizeof(r)), clen);
        kat_json_hex(c, "gix", gi, clen);
        kat_json_hex(c, "giy", gi + clen, clen);
        kat_json_hex(c, "grx", gr, clen);
        kat_json_hex(c, "gry", gr + clen, clen);
        cr_assert_eq(kat_json_hex(c, "girx", gir, sizeof(gir)), clen);
        ki = ike_ke_new_from_private(group, i, clen);
        kr = ike_ke_new_from_private(group, r, clen);
        cr_assert_not_null(ki, "group %u", group);
        cr_assert_not_null(kr, "group %u", group);
        pub = ike_ke_public(ki, &len);
        cr_assert_eq(len, 2 * clen);
        cr_assert_arr_eq(pub, gi, len, "group %u g^i", group);
        pub = ike_ke_public(kr, &len);
        cr_assert_arr_eq(pub, gr, len, "group %u g^r", group);
        cr_assert_eq(ike_ke_derive(ki, gr, 2 * clen, secret, sizeof(secret)),
                     0);
        cr_assert_arr_eq(secret, gir, clen, "group %u initiator", group);
        cr_assert_eq(ike_ke_derive(kr, gi, 2 * clen, secret, sizeof(secret)),
                     0);
        cr_assert_arr_eq(secret, gir, clen, "group %u responder", group);
        ike_ke_free(ki);
        ike_ke_free(kr);
    }
    json_decref(root);
}
