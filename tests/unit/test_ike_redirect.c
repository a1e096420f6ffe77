/*
 * Tests for the RFC 5685 notifies (ike_redirect).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "ike_const.h"
#include "ike_msg.h"
#include "ike_payload.h"
#include "ike_redirect.h"
#include "test_ike_vectors.h"

TestSuite(ike_redirect);

/* Returns the first notify of type in vector prefix, loaded into buf. */
static void
vector_notify(const char *prefix, uint16_t type, uint8_t *buf, size_t cap,
    struct ike_msg *msg, struct ike_notify *n)
{
    size_t len = vec_load(prefix, buf, cap);

    cr_assert_eq(ike_msg_parse(msg, buf, len, NULL), 0, "vector %s", prefix);
    cr_assert_not_null(ike_chain_find_notify(&msg->chain, type, n),
        "vector %s has no notify %u", prefix, type);
}

/*
 * REDIRECT and REDIRECTED_FROM as tshark 4.0.17 decodes them in the
 * vectors' .txt files ("Gateway Identity Type", the identity, "Redirect
 * Nonce Data"), copied by hand.  An empty nonce means none is expected.
 */
struct vector_case {
    char prefix[3];
    uint16_t type;
    uint8_t gw_type;
    char gw_text[32];
    char nonce[65];
};

ParameterizedTestParameters(ike_redirect, vector_gateway_matches_tshark)
{
    static struct vector_case cases[] = {
        { "02", 16407, 1, "198.51.100.3",
          "71be370a0ed62798ea857d5c7ef8d64ee33f2457352ab8b98cf0c6639e5785de" },
        { "04", 16407, 3, "gw3.example.net",
          "6f4fe5143eadb751a8a9a9b276e65fe071bcb62d9d40cdd27afa35dd30cf84cb" },
        { "06", 16407, 2, "2001:db8:1::3",
          "6bc6b81c38860352552d8544ae44163a3d3cefaf77882f29b0006e6ab08a6177" },
        { "09", 16407, 2, "2001:db8:1::3",
          "28f5f0c24be6d77d2d04d476def0285522212c61de0d3b684c220bf2a128a514" },
        { "03", 16408, 1, "198.51.100.2", "" },
        { "05", 16408, 1, "198.51.100.2", "" },
        { "07", 16408, 1, "198.51.100.2", "" },
        { "10", 16408, 2, "2001:db8:1::2", "" },
        { "13", 16408, 1, "198.51.100.3", "" },
        { "15", 16408, 1, "198.51.100.3", "" },
    };

    return cr_make_param_array(struct vector_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct vector_case *c, ike_redirect,
    vector_gateway_matches_tshark)
{
    uint8_t buf[VEC_MAX_LEN];
    struct ike_msg msg;
    struct ike_notify n;
    struct ike_redirect rd = { 0 };
    struct ike_parse_error err;
    char text[IKE_REDIRECT_GW_TEXT_MAX];

    vector_notify(c->prefix, c->type, buf, sizeof(buf), &msg, &n);
    if (c->type == IKE_N_REDIRECT) {
        cr_assert_eq(ike_redirect_parse(&n, IKE_REDIRECT_CTX_INIT_RESPONSE,
            &rd, &err), 0, "vector %s: %s", c->prefix,
            ike_error_name(err.code));
        cr_expect(vec_equal_hex(rd.nonce, rd.nonce_len, c->nonce),
            "vector %s nonce", c->prefix);
    } else {
        cr_assert_eq(ike_redirect_parse_from(&n, &rd.gw, &err), 0,
            "vector %s: %s", c->prefix, ike_error_name(err.code));
    }
    cr_expect_eq(rd.gw.type, c->gw_type, "vector %s", c->prefix);
    cr_assert_eq(ike_redirect_gw_to_text(&rd.gw, text, sizeof(text)), 0);
    cr_expect_str_eq(text, c->gw_text, "vector %s", c->prefix);
}

Test(ike_redirect, init_redirect_echoes_ni_of_request)
{
    uint8_t req[VEC_MAX_LEN];
    uint8_t resp[VEC_MAX_LEN];
    struct ike_msg req_msg;
    struct ike_msg resp_msg;
    struct ike_notify n;
    struct ike_redirect rd;
    struct ike_nonce ni;
    size_t len = vec_load("01", req, sizeof(req));

    cr_assert_eq(ike_msg_parse(&req_msg, req, len, NULL), 0);

    const struct ike_payload *p = ike_chain_find(&req_msg.chain, IKE_P_NONCE,
        NULL);

    cr_assert_not_null(p);
    cr_assert_eq(ike_payload_parse_nonce(p, &ni, NULL), 0);
    vector_notify("02", IKE_N_REDIRECT, resp, sizeof(resp), &resp_msg, &n);
    cr_assert_eq(ike_redirect_parse(&n, IKE_REDIRECT_CTX_INIT_RESPONSE, &rd,
        NULL), 0);
    cr_assert_eq(rd.nonce_len, ni.len);
    cr_expect_eq(memcmp(rd.nonce, ni.data, ni.len), 0);
}

Test(ike_redirect, build_reproduces_vector_02)
{
    uint8_t req[VEC_MAX_LEN];
    uint8_t want[VEC_MAX_LEN];
    uint8_t out[VEC_MAX_LEN];
    struct ike_msg req_msg;
    struct ike_nonce ni;
    struct ike_redirect_gw gw;
    uint8_t storage[16];
    size_t req_len = vec_load("01", req, sizeof(req));
    size_t want_len = vec_load("02", want, sizeof(want));

    cr_assert_eq(ike_msg_parse(&req_msg, req, req_len, NULL), 0);
    cr_assert_eq(ike_payload_parse_nonce(ike_chain_find(&req_msg.chain,
        IKE_P_NONCE, NULL), &ni, NULL), 0);
    cr_assert_eq(ike_redirect_gw_from_text(&gw, "198.51.100.3", storage), 0);

    /* IKE_SA_INIT response: SPIr stays zero, only R is set. */
    struct ike_header hdr = req_msg.hdr;
    struct ike_writer w;

    hdr.flags = IKE_FLAG_RESPONSE;
    ike_writer_init(&w, out, sizeof(out));
    ike_msg_begin(&w, &hdr);
    ike_redirect_build(&w, &gw, ni.data, ni.len);
    cr_assert_eq(ike_writer_error(&w), 0);
    cr_assert_eq(ike_writer_len(&w), want_len);
    cr_expect_eq(memcmp(out, want, want_len), 0);
}

/* Parses the one-notify message in w and decodes the notify into *n. */
static void
build_and_parse(struct ike_writer *w, struct ike_msg *msg,
    struct ike_notify *n)
{
    struct ike_parse_error err;

    cr_assert_eq(ike_writer_error(w), 0);
    cr_assert_eq(ike_msg_parse(msg, w->buf, ike_writer_len(w), &err), 0,
        "%s at %zu", ike_error_name(err.code), err.offset);
    cr_assert_eq(msg->chain.count, 1);
    cr_assert_eq(ike_payload_parse_notify(&msg->chain.payloads[0], n, NULL),
        0);
}

static const struct ike_header test_hdr = {
    .spi_i = { 0xa9, 0x79, 0x65, 0x50, 0xcd, 0xa4, 0x50, 0xb8 },
    .spi_r = { 0xc3, 0x51, 0x4a, 0xfb, 0x71, 0x5c, 0xc2, 0x15 },
    .exchange = IKE_X_INFORMATIONAL,
};

Test(ike_redirect, redirect_round_trips_in_each_context)
{
    static const uint8_t ni[32] = { 0x71, 0xbe, [31] = 0xde };
    const char *targets[] = { "198.51.100.4", "2001:db8::4",
        "gw4.example.net" };
    uint8_t types[] = { IKE_GW_IPV4, IKE_GW_IPV6, IKE_GW_FQDN };

    for (size_t i = 0; i < 3; i++) {
        for (int ctx = 1; ctx <= 2; ctx++) {
            uint8_t storage[16];
            uint8_t buf[256];
            struct ike_redirect_gw gw;
            struct ike_writer w;
            struct ike_msg msg;
            struct ike_notify n;
            struct ike_redirect rd;
            char text[IKE_REDIRECT_GW_TEXT_MAX];
            int init = ctx == IKE_REDIRECT_CTX_INIT_RESPONSE;

            cr_assert_eq(ike_redirect_gw_from_text(&gw, targets[i],
                storage), 0);
            cr_expect_eq(gw.type, types[i]);
            ike_writer_init(&w, buf, sizeof(buf));
            ike_msg_begin(&w, &test_hdr);
            ike_redirect_build(&w, &gw, init ? ni : NULL,
                init ? sizeof(ni) : 0);
            build_and_parse(&w, &msg, &n);
            cr_expect_eq(n.type, IKE_N_REDIRECT);
            cr_assert_eq(ike_redirect_parse(&n, ctx, &rd, NULL), 0,
                "%s ctx %d", targets[i], ctx);
            cr_expect_eq(rd.gw.type, types[i]);
            cr_assert_eq(ike_redirect_gw_to_text(&rd.gw, text,
                sizeof(text)), 0);
            cr_expect_str_eq(text, targets[i]);
            if (init) {
                cr_assert_eq(rd.nonce_len, sizeof(ni));
                cr_expect_eq(memcmp(rd.nonce, ni, sizeof(ni)), 0);
            } else {
                cr_expect_null(rd.nonce);
                cr_expect_eq(rd.nonce_len, 0);
            }
        }
    }
}

Test(ike_redirect, redirected_from_round_trips)
{
    uint8_t storage[16];
    uint8_t buf[256];
    struct ike_redirect_gw gw;
    struct ike_redirect_gw got;
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_notify n;

    cr_assert_eq(ike_redirect_gw_from_text(&gw, "203.0.113.10", storage), 0);
    ike_writer_init(&w, buf, sizeof(buf));
    ike_msg_begin(&w, &test_hdr);
    ike_redirect_build_from(&w, &gw);
    build_and_parse(&w, &msg, &n);
    cr_expect_eq(n.type, IKE_N_REDIRECTED_FROM);
    cr_expect_eq(n.data_len, 6);
    cr_assert_eq(ike_redirect_parse_from(&n, &got, NULL), 0);
    cr_expect_eq(got.type, IKE_GW_IPV4);
    cr_assert_eq(got.len, 4);
    cr_expect_eq(memcmp(got.value, storage, 4), 0);
}

Test(ike_redirect, redirect_supported_round_trips)
{
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_notify n;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_msg_begin(&w, &test_hdr);
    ike_redirect_build_supported(&w);
    build_and_parse(&w, &msg, &n);
    cr_expect_eq(n.type, IKE_N_REDIRECT_SUPPORTED);
    cr_expect_eq(n.proto_id, 0);
    cr_expect_eq(n.spi_size, 0);
    cr_expect_eq(n.data_len, 0);
    cr_expect_eq(ike_redirect_parse_supported(&n, NULL), 0);
}

Test(ike_redirect, longest_fqdn_round_trips)
{
    char name[256];
    uint8_t buf[512];
    struct ike_redirect_gw gw;
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_notify n;
    struct ike_redirect rd;
    uint8_t storage[16];

    /* Four labels of 63 characters and three dots: 255 octets. */
    memset(name, 'a', 255);
    name[63] = name[127] = name[191] = '.';
    name[255] = '\0';
    cr_assert_eq(ike_redirect_gw_from_text(&gw, name, storage), 0);
    ike_writer_init(&w, buf, sizeof(buf));
    ike_msg_begin(&w, &test_hdr);
    ike_redirect_build(&w, &gw, NULL, 0);
    build_and_parse(&w, &msg, &n);
    cr_assert_eq(ike_redirect_parse(&n, IKE_REDIRECT_CTX_PROTECTED, &rd,
        NULL), 0);
    cr_expect_eq(rd.gw.len, 255);
}

Test(ike_redirect, builder_rejects_invalid_gateway)
{
    static const uint8_t addr[16];
    static const uint8_t bad_name[] = "gw_1.example.net";
    struct ike_redirect_gw cases[] = {
        { .type = 5, .value = addr, .len = 4 },
        { .type = IKE_GW_IPV4, .value = addr, .len = 16 },
        { .type = IKE_GW_IPV6, .value = addr, .len = 4 },
        { .type = IKE_GW_FQDN, .value = addr, .len = 0 },
        { .type = IKE_GW_FQDN, .value = bad_name,
          .len = sizeof(bad_name) - 1 },
        { .type = IKE_GW_IPV4, .value = NULL, .len = 4 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[256];
        struct ike_writer w;

        ike_writer_init(&w, buf, sizeof(buf));
        ike_msg_begin(&w, &test_hdr);
        ike_redirect_build(&w, &cases[i], NULL, 0);
        cr_expect_eq(ike_writer_error(&w), -EINVAL, "case %zu", i);
        ike_writer_init(&w, buf, sizeof(buf));
        ike_msg_begin(&w, &test_hdr);
        ike_redirect_build_from(&w, &cases[i]);
        cr_expect_eq(ike_writer_error(&w), -EINVAL, "case %zu", i);
    }
}

Test(ike_redirect, parse_rejects_other_notify_type)
{
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_notify n;
    struct ike_redirect rd;
    struct ike_parse_error err;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_msg_begin(&w, &test_hdr);
    ike_redirect_build_supported(&w);
    build_and_parse(&w, &msg, &n);
    cr_expect_eq(ike_redirect_parse(&n, IKE_REDIRECT_CTX_PROTECTED, &rd,
        &err), -EINVAL);
    cr_expect_eq(err.code, IKE_E_REDIRECT_NOTIFY_TYPE);
    cr_expect_eq(err.offset, IKE_HDR_LEN + 4 + 2);
    cr_expect_eq(ike_redirect_parse_from(&n, &rd.gw, &err), -EINVAL);
    cr_expect_eq(err.code, IKE_E_REDIRECT_NOTIFY_TYPE);
}

/*
 * Malformed redirect notifies.  The notify sits at 28 with no SPI, so
 * Protocol ID is at 32, SPI Size at 33, GW Ident Type at 36, GW Ident Len
 * at 37 and the identity from 38.
 */
enum check_kind {
    CHECK_INIT = IKE_REDIRECT_CTX_INIT_RESPONSE,
    CHECK_PROTECTED = IKE_REDIRECT_CTX_PROTECTED,
    CHECK_FROM,
    CHECK_SUPPORTED,
};

struct bad_case {
    char name[48];
    int check;                      /* enum check_kind */
    uint8_t proto_id;
    uint8_t spi_size;               /* SPI of zero octets when non-zero */
    char data[160];                 /* hex */
    int add_nonce;                  /* append a 32-octet nonce */
    int code;
    size_t offset;
};

ParameterizedTestParameters(ike_redirect, rejects_malformed_notify)
{
    static struct bad_case cases[] = {
        { "zero-length FQDN", CHECK_INIT, 0, 0, "0300", 1,
          IKE_E_REDIRECT_FQDN_EMPTY, 37 },
        { "type 1 with length 16", CHECK_INIT, 0, 0,
          "011020010db8000100000000000000000003", 1,
          IKE_E_REDIRECT_IPV4_LEN, 37 },
        { "type 2 with length 4", CHECK_INIT, 0, 0, "0204c6336403", 1,
          IKE_E_REDIRECT_IPV6_LEN, 37 },
        { "unknown type 5", CHECK_INIT, 0, 0, "0504c6336403", 1,
          IKE_E_REDIRECT_GW_TYPE_UNKNOWN, 36 },
        { "reserved type 0", CHECK_PROTECTED, 0, 0, "0004c6336403", 0,
          IKE_E_REDIRECT_GW_TYPE_UNKNOWN, 36 },
        { "private-use type 241", CHECK_PROTECTED, 0, 0, "f104c6336403", 0,
          IKE_E_REDIRECT_GW_TYPE_UNKNOWN, 36 },
        { "identity length beyond data", CHECK_PROTECTED, 0, 0,
          "030f677733", 0, IKE_E_REDIRECT_GW_LEN_BEYOND_DATA, 37 },
        { "IPv4 identity cut short", CHECK_PROTECTED, 0, 0, "0104c63364",
          0, IKE_E_REDIRECT_GW_LEN_BEYOND_DATA, 37 },
        { "nonce missing in IKE_SA_INIT", CHECK_INIT, 0, 0, "0104c6336403",
          0, IKE_E_REDIRECT_NONCE_MISSING, 42 },
        { "nonce of 8 octets in IKE_SA_INIT", CHECK_INIT, 0, 0,
          "0104c63364030001020304050607", 0, IKE_E_NONCE_TOO_SHORT, 42 },
        { "trailing octets after REDIRECT", CHECK_PROTECTED, 0, 0,
          "0104c633640300", 0, IKE_E_REDIRECT_TRAILING_OCTETS, 42 },
        { "nonce in protected REDIRECT", CHECK_PROTECTED, 0, 0,
          "0104c6336403", 1, IKE_E_REDIRECT_TRAILING_OCTETS, 42 },
        { "trailing octets after REDIRECTED_FROM", CHECK_FROM, 0, 0,
          "0104c6336402ff", 0, IKE_E_REDIRECT_TRAILING_OCTETS, 42 },
        { "FQDN with underscore", CHECK_PROTECTED, 0, 0, "030567775f3378",
          0, IKE_E_REDIRECT_FQDN_CHAR, 40 },
        { "FQDN with space", CHECK_FROM, 0, 0, "03056777203378", 0,
          IKE_E_REDIRECT_FQDN_CHAR, 40 },
        { "FQDN with NUL", CHECK_INIT, 0, 0, "0303677700", 1,
          IKE_E_REDIRECT_FQDN_CHAR, 40 },
        { "FQDN label starting with hyphen", CHECK_PROTECTED, 0, 0,
          "03052d67772e78", 0, IKE_E_REDIRECT_FQDN_LABEL, 38 },
        { "FQDN label ending with hyphen", CHECK_PROTECTED, 0, 0,
          "030567772d2e78", 0, IKE_E_REDIRECT_FQDN_LABEL, 38 },
        { "FQDN with empty label", CHECK_PROTECTED, 0, 0, "030567772e2e78",
          0, IKE_E_REDIRECT_FQDN_LABEL, 41 },
        { "FQDN with leading dot", CHECK_PROTECTED, 0, 0, "03022e78", 0,
          IKE_E_REDIRECT_FQDN_LABEL, 38 },
        { "FQDN with trailing dot", CHECK_PROTECTED, 0, 0, "030367772e", 0,
          IKE_E_REDIRECT_FQDN_LABEL, 41 },
        { "FQDN label of 64 characters", CHECK_PROTECTED, 0, 0,
          "0340"
          "61616161616161616161616161616161"
          "61616161616161616161616161616161"
          "61616161616161616161616161616161"
          "61616161616161616161616161616161", 0,
          IKE_E_REDIRECT_FQDN_LABEL, 38 },
        { "no identity header", CHECK_PROTECTED, 0, 0, "03", 0,
          IKE_E_REDIRECT_TRUNCATED, 36 },
        { "empty REDIRECTED_FROM", CHECK_FROM, 0, 0, "", 0,
          IKE_E_REDIRECT_TRUNCATED, 36 },
        { "protocol ID not 0", CHECK_PROTECTED, 1, 0, "0104c6336403", 0,
          IKE_E_REDIRECT_PROTO_ID, 32 },
        { "SPI size not 0", CHECK_INIT, 0, 4, "0104c6336403", 1,
          IKE_E_REDIRECT_SPI_SIZE, 33 },
        { "REDIRECTED_FROM protocol ID not 0", CHECK_FROM, 3, 0,
          "0104c6336403", 0, IKE_E_REDIRECT_PROTO_ID, 32 },
        { "REDIRECT_SUPPORTED with data", CHECK_SUPPORTED, 0, 0, "00", 0,
          IKE_E_REDIRECT_TRAILING_OCTETS, 36 },
        { "REDIRECT_SUPPORTED with SPI", CHECK_SUPPORTED, 0, 8, "", 0,
          IKE_E_REDIRECT_SPI_SIZE, 33 },
    };

    return cr_make_param_array(struct bad_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

static uint16_t
check_notify_type(int check)
{
    switch (check) {
    case CHECK_FROM:
        return IKE_N_REDIRECTED_FROM;
    case CHECK_SUPPORTED:
        return IKE_N_REDIRECT_SUPPORTED;
    default:
        return IKE_N_REDIRECT;
    }
}

ParameterizedTest(struct bad_case *c, ike_redirect, rejects_malformed_notify)
{
    static const uint8_t spi[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    uint8_t data[160];
    size_t len = vec_unhex(c->data, data, sizeof(data) - 32);
    uint8_t buf[512];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_notify n;
    struct ike_redirect rd;
    struct ike_parse_error err = { -1, 0, 0 };
    int ret;

    cr_assert_neq(len, (size_t)-1, "%s: bad hex", c->name);
    if (c->add_nonce) {
        for (size_t i = 0; i < 32; i++)
            data[len + i] = (uint8_t)(0x80 + i);
        len += 32;
    }
    ike_writer_init(&w, buf, sizeof(buf));
    ike_msg_begin(&w, &test_hdr);
    ike_payload_build_notify(&w, c->proto_id, c->spi_size ? spi : NULL,
        c->spi_size, check_notify_type(c->check), data, len);
    build_and_parse(&w, &msg, &n);

    if (c->check == CHECK_FROM)
        ret = ike_redirect_parse_from(&n, &rd.gw, &err);
    else if (c->check == CHECK_SUPPORTED)
        ret = ike_redirect_parse_supported(&n, &err);
    else
        ret = ike_redirect_parse(&n, c->check, &rd, &err);
    cr_assert_eq(ret, -EBADMSG, "%s", c->name);
    cr_expect_eq(err.code, c->code, "%s: got %s", c->name,
        ike_error_name(err.code));
    cr_expect_eq(err.offset, c->offset, "%s", c->name);
    cr_expect_eq(err.payload, IKE_P_NOTIFY, "%s", c->name);
}

struct fqdn_case {
    char name[80];
    int valid;
};

ParameterizedTestParameters(ike_redirect, checks_fqdn_syntax)
{
    static struct fqdn_case cases[] = {
        { "gw3.example.net", 1 },
        { "GW-3.Example.NET", 1 },
        { "3com.example", 1 },
        { "a", 1 },
        { "x-1.y-2.z", 1 },
        { "gw3.example.net.", 0 },
        { ".example.net", 0 },
        { "gw3..example", 0 },
        { "-gw3.example", 0 },
        { "gw3-.example", 0 },
        { "gw3.example-", 0 },
        { "gw_3.example", 0 },
        { "gw3.ex@mple", 0 },
        { "gw\xc3\xa9.example", 0 },
        { "198.51.100.3:500", 0 },
    };

    return cr_make_param_array(struct fqdn_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct fqdn_case *c, ike_redirect, checks_fqdn_syntax)
{
    int ret = ike_redirect_check_fqdn((const uint8_t *)c->name,
        strlen(c->name), NULL);

    cr_expect_eq(ret == 0, c->valid, "%s", c->name);
}

Test(ike_redirect, gateway_text_rejects_overlong_fqdn)
{
    char name[260];
    struct ike_redirect_gw gw;
    uint8_t storage[16];

    /* 256 octets of valid labels: one more than GW Ident Len holds. */
    memset(name, 'a', 256);
    name[63] = name[127] = name[191] = name[254] = '.';
    name[256] = '\0';
    cr_expect_eq(ike_redirect_gw_from_text(&gw, name, storage), -EINVAL);
    cr_expect_eq(ike_redirect_gw_from_text(&gw, "", storage), -EINVAL);
    cr_expect_eq(ike_redirect_gw_from_text(&gw, "gw_1", storage), -EINVAL);
}

Test(ike_redirect, gateway_text_needs_room)
{
    uint8_t addr[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
    struct ike_redirect_gw gw = {
        .type = IKE_GW_IPV6, .value = addr, .len = 16,
    };
    struct ike_redirect_gw fqdn = {
        .type = IKE_GW_FQDN, .value = (const uint8_t *)"gw.example",
        .len = 10,
    };
    char small[10];
    char fits[11];

    cr_expect_eq(ike_redirect_gw_to_text(&gw, small, 4), -ENOSPC);
    cr_expect_eq(ike_redirect_gw_to_text(&fqdn, small, sizeof(small)),
        -ENOSPC);
    cr_expect_eq(ike_redirect_gw_to_text(&fqdn, fits, sizeof(fits)), 0);
    cr_expect_str_eq(fits, "gw.example");
}
