/*
 * Tests for the SA payload: proposals, transforms, attributes
 * (ike_sa_payload).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "ike_const.h"
#include "ike_msg.h"
#include "ike_sa_payload.h"
#include "test_ike_vectors.h"

TestSuite(ike_sa_payload);

#define MAX_XF 8

/*
 * The IKE proposals tshark 4.0.17 decodes in the vectors' .txt files,
 * copied by hand.  key_length 0 means the transform has no Key Length.
 */
struct sa_vector_case {
    char prefix[3];
    uint8_t n_transforms;
    uint8_t type[MAX_XF];
    uint16_t id[MAX_XF];
    uint16_t key_length[MAX_XF];
};

ParameterizedTestParameters(ike_sa_payload, vector_proposal_matches_tshark)
{
    static struct sa_vector_case cases[] = {
        { "01", 4, { 1, 3, 2, 4 }, { 12, 12, 5, 31 }, { 128, 0, 0, 0 } },
        { "12", 4, { 1, 2, 3, 4 }, { 12, 5, 12, 31 }, { 128, 0, 0, 0 } },
        { "21", 3, { 1, 2, 4 }, { 20, 5, 31 }, { 128, 0, 0 } },
        { "22", 3, { 1, 2, 4 }, { 20, 5, 31 }, { 128, 0, 0 } },
    };

    return cr_make_param_array(struct sa_vector_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct sa_vector_case *c, ike_sa_payload,
    vector_proposal_matches_tshark)
{
    uint8_t buf[VEC_MAX_LEN];
    size_t n = vec_load(c->prefix, buf, sizeof(buf));
    struct ike_msg msg;
    struct ike_proposal prop;
    struct ike_transform xf;
    size_t pc = 0;
    size_t tc = 0;

    cr_assert_eq(ike_msg_parse(&msg, buf, n, NULL), 0);

    const struct ike_payload *sa = ike_chain_find(&msg.chain, IKE_P_SA,
        NULL);

    cr_assert_not_null(sa);
    cr_assert_eq(ike_sa_payload_next_proposal(sa, &pc, &prop, NULL), 1);
    cr_expect_eq(prop.num, 1, "vector %s", c->prefix);
    cr_expect_eq(prop.proto_id, IKE_PROTO_IKE, "vector %s", c->prefix);
    cr_expect_eq(prop.spi_size, 0, "vector %s", c->prefix);
    cr_expect_eq(prop.n_transforms, c->n_transforms, "vector %s", c->prefix);
    for (size_t i = 0; i < c->n_transforms; i++) {
        cr_assert_eq(ike_sa_payload_next_transform(&prop, &tc, &xf, NULL), 1,
            "vector %s transform %zu", c->prefix, i);
        cr_expect_eq(xf.type, c->type[i], "vector %s transform %zu",
            c->prefix, i);
        cr_expect_eq(xf.id, c->id[i], "vector %s transform %zu", c->prefix,
            i);
        cr_expect_eq(xf.has_key_length, c->key_length[i] != 0,
            "vector %s transform %zu", c->prefix, i);
        cr_expect_eq(xf.key_length, c->key_length[i],
            "vector %s transform %zu", c->prefix, i);
    }
    cr_expect_eq(ike_sa_payload_next_transform(&prop, &tc, &xf, NULL), 0);
    cr_expect_eq(ike_sa_payload_next_proposal(sa, &pc, &prop, NULL), 0);
}

Test(ike_sa_payload, key_length_attribute_reads_as_tv)
{
    uint8_t buf[VEC_MAX_LEN];
    size_t n = vec_load("01", buf, sizeof(buf));
    struct ike_msg msg;
    struct ike_proposal prop;
    struct ike_transform xf;
    struct ike_sa_attr attr;
    size_t pc = 0;
    size_t tc = 0;
    size_t ac = 0;

    cr_assert_eq(ike_msg_parse(&msg, buf, n, NULL), 0);
    cr_assert_eq(ike_sa_payload_next_proposal(&msg.chain.payloads[0], &pc,
        &prop, NULL), 1);
    cr_assert_eq(ike_sa_payload_next_transform(&prop, &tc, &xf, NULL), 1);
    cr_assert_eq(ike_sa_payload_next_attr(&xf, &ac, &attr, NULL), 1);
    cr_expect_eq(attr.tv, 1);
    cr_expect_eq(attr.type, IKE_ATTR_KEY_LENGTH);
    cr_expect_eq(attr.value, 128);
    /* SA at 28, proposal at 32, transform at 40, attribute at 48. */
    cr_expect_eq(attr.offset, 48);
    cr_expect_eq(ike_load16(buf + attr.offset), 0x800e);
    cr_expect_eq(ike_sa_payload_next_attr(&xf, &ac, &attr, NULL), 0);
}

Test(ike_sa_payload, proposals_round_trip)
{
    static const uint8_t esp_spi[4] = { 0xc1, 0x2a, 0x00, 0x07 };
    static const uint8_t tlv[] = { 0x00, 0x10, 0x00, 0x02, 0xab, 0xcd };
    struct ike_transform ike_xf[] = {
        { .type = IKE_T_ENCR, .id = IKE_ENCR_AES_CBC, .has_key_length = 1,
          .key_length = 256 },
        { .type = IKE_T_INTEG, .id = IKE_INTEG_HMAC_SHA2_256_128 },
        { .type = IKE_T_PRF, .id = IKE_PRF_HMAC_SHA2_256 },
        { .type = IKE_T_DH, .id = IKE_DH_MODP_2048 },
    };
    struct ike_transform esp_xf[] = {
        { .type = IKE_T_ENCR, .id = IKE_ENCR_AES_GCM_16, .has_key_length = 1,
          .key_length = 128 },
        { .type = IKE_T_ESN, .id = IKE_ESN_NO, .attrs = tlv,
          .attrs_len = sizeof(tlv) },
    };
    struct ike_proposal_spec specs[] = {
        { .num = 1, .proto_id = IKE_PROTO_IKE, .transforms = ike_xf,
          .n_transforms = 4 },
        { .num = 2, .proto_id = IKE_PROTO_ESP, .spi_size = 4,
          .spi = esp_spi, .transforms = esp_xf, .n_transforms = 2 },
    };
    struct ike_header hdr = { .exchange = IKE_X_SA_INIT };
    uint8_t buf[512];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_parse_error err;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_msg_begin(&w, &hdr);
    ike_sa_payload_build(&w, specs, 2);
    cr_assert_eq(ike_writer_error(&w), 0);
    cr_assert_eq(ike_msg_parse(&msg, buf, ike_writer_len(&w), &err), 0,
        "%s at %zu", ike_error_name(err.code), err.offset);

    const struct ike_payload *sa = &msg.chain.payloads[0];
    struct ike_proposal prop;
    struct ike_transform xf;
    size_t pc = 0;

    for (size_t i = 0; i < 2; i++) {
        size_t tc = 0;

        cr_assert_eq(ike_sa_payload_next_proposal(sa, &pc, &prop, NULL), 1);
        cr_expect_eq(prop.num, specs[i].num);
        cr_expect_eq(prop.proto_id, specs[i].proto_id);
        cr_expect_eq(prop.spi_size, specs[i].spi_size);
        cr_expect_eq(prop.n_transforms, specs[i].n_transforms);
        if (specs[i].spi_size > 0)
            cr_expect_eq(memcmp(prop.spi, specs[i].spi, specs[i].spi_size),
                0);
        for (size_t k = 0; k < specs[i].n_transforms; k++) {
            const struct ike_transform *want = &specs[i].transforms[k];

            cr_assert_eq(ike_sa_payload_next_transform(&prop, &tc, &xf,
                NULL), 1);
            cr_expect_eq(xf.type, want->type);
            cr_expect_eq(xf.id, want->id);
            cr_expect_eq(xf.has_key_length, want->has_key_length);
            cr_expect_eq(xf.key_length, want->key_length);
            if (want->attrs != NULL) {
                cr_assert_eq(xf.attrs_len, want->attrs_len);
                cr_expect_eq(memcmp(xf.attrs, want->attrs, xf.attrs_len), 0);
            }
        }
    }
    cr_expect_eq(ike_sa_payload_next_proposal(sa, &pc, &prop, NULL), 0);
}

Test(ike_sa_payload, builder_rejects_missing_spi)
{
    struct ike_proposal_spec spec = {
        .num = 1, .proto_id = IKE_PROTO_ESP, .spi_size = 4,
    };
    struct ike_header hdr = { .exchange = IKE_X_SA_INIT };
    uint8_t buf[128];
    struct ike_writer w;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_msg_begin(&w, &hdr);
    ike_sa_payload_build(&w, &spec, 1);
    cr_expect_eq(ike_writer_error(&w), -EINVAL);
}

/*
 * Malformed SA bodies.  The SA payload sits at 28, so its body (the first
 * proposal) starts at 32 and the first transform of a proposal without SPI
 * at 40.  Offsets point at the substructure at fault.
 */
struct sa_bad_case {
    char name[48];
    char body[96];                  /* hex */
    int code;
    size_t offset;
};

ParameterizedTestParameters(ike_sa_payload, rejects_malformed_sa)
{
    static struct sa_bad_case cases[] = {
        { "no proposals", "", IKE_E_SA_EMPTY, 32 },
        { "proposal header truncated", "000000", IKE_E_PROPOSAL_TRUNCATED,
          32 },
        { "proposal length below header and SPI", "000000080301040000000000",
          IKE_E_PROPOSAL_LEN_INVALID, 32 },
        { "proposal length beyond SA", "0000000c01010000",
          IKE_E_PROPOSAL_LEN_INVALID, 32 },
        { "last proposal marked more", "0200000801010000",
          IKE_E_PROPOSAL_LAST_INVALID, 32 },
        { "proposal marked last with more after",
          "00000008010100000000000802010000", IKE_E_PROPOSAL_LAST_INVALID,
          32 },
        { "proposal marker neither 0 nor 2", "0100000801010000",
          IKE_E_PROPOSAL_LAST_INVALID, 32 },
        { "transform header truncated", "0000000c0101000100000008",
          IKE_E_TRANSFORM_TRUNCATED, 40 },
        { "transform length below 8", "0000001001010001"
          "000000040100000c", IKE_E_TRANSFORM_LEN_INVALID, 40 },
        { "transform length beyond proposal", "0000001001010001"
          "0000000c0100000c", IKE_E_TRANSFORM_LEN_INVALID, 40 },
        { "last transform marked more", "0000001001010001"
          "030000080100000c", IKE_E_TRANSFORM_LAST_INVALID, 40 },
        { "transform count above transforms", "0000001001010002"
          "000000080100000c", IKE_E_TRANSFORM_COUNT_MISMATCH, 39 },
        { "transform count below transforms", "0000001801010001"
          "030000080100000c0000000803000002",
          IKE_E_TRANSFORM_COUNT_MISMATCH, 39 },
        { "attribute header truncated", "00000012010100010000000a"
          "0100000c800e", IKE_E_ATTR_TRUNCATED, 48 },
        { "TLV attribute beyond transform", "0000001401010001"
          "0000000c0100000c00050004", IKE_E_ATTR_TRUNCATED, 48 },
        { "key length in TLV format", "0000001601010001"
          "0000000e0100000c000e00020080", IKE_E_ATTR_KEY_LENGTH_NOT_TV, 48 },
    };

    return cr_make_param_array(struct sa_bad_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct sa_bad_case *c, ike_sa_payload, rejects_malformed_sa)
{
    uint8_t body[64];
    size_t len = vec_unhex(c->body, body, sizeof(body));
    struct ike_header hdr = { .exchange = IKE_X_SA_INIT };
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_parse_error err = { -1, 0, 0 };

    cr_assert_neq(len, (size_t)-1, "%s: bad hex", c->name);
    ike_writer_init(&w, buf, sizeof(buf));
    ike_msg_begin(&w, &hdr);
    ike_payload_build_raw(&w, IKE_P_SA, 0, body, len);
    cr_assert_eq(ike_writer_error(&w), 0);
    cr_assert_eq(ike_msg_parse(&msg, buf, ike_writer_len(&w), &err),
        -EBADMSG, "%s", c->name);
    cr_expect_eq(err.code, c->code, "%s: got %s", c->name,
        ike_error_name(err.code));
    cr_expect_eq(err.offset, c->offset, "%s", c->name);
    cr_expect_eq(err.payload, IKE_P_SA, "%s", c->name);
}
