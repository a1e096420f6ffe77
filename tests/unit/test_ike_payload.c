/*
 * Tests for payload body parsers and builders (ike_payload).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "ike_const.h"
#include "ike_msg.h"
#include "ike_payload.h"
#include "ike_sa_payload.h"
#include "test_ike_vectors.h"

TestSuite(ike_payload);

static const struct ike_header test_hdr = {
    .spi_i = { 0xcb, 0xa7, 0x58, 0x97, 0x85, 0x3c, 0xdc, 0xda },
    .spi_r = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 },
    .exchange = IKE_X_AUTH,
    .flags = IKE_FLAG_INITIATOR,
    .msg_id = 1,
};

/* Parses the message the writer holds and returns its only payload. */
static const struct ike_payload *
parse_single(struct ike_writer *w, struct ike_msg *msg, uint8_t type)
{
    struct ike_parse_error err;

    cr_assert_eq(ike_writer_error(w), 0);
    cr_assert_eq(ike_msg_parse(msg, w->buf, ike_writer_len(w), &err), 0,
        "%s at %zu", ike_error_name(err.code), err.offset);
    cr_assert_eq(msg->chain.count, 1);
    cr_assert_eq(msg->chain.payloads[0].type, type);
    cr_assert_eq(msg->chain.payloads[0].offset, IKE_HDR_LEN);
    return &msg->chain.payloads[0];
}

static void
start(struct ike_writer *w, uint8_t *buf, size_t cap)
{
    ike_writer_init(w, buf, cap);
    ike_msg_begin(w, &test_hdr);
}

Test(ike_payload, ke_round_trips)
{
    static const uint8_t data[32] = { 0x95, 0x7e, 0xf6, 0x87, [31] = 0x01 };
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_ke_payload ke;

    start(&w, buf, sizeof(buf));
    ike_payload_build_ke(&w, IKE_DH_CURVE25519, data, sizeof(data));

    const struct ike_payload *p = parse_single(&w, &msg, IKE_P_KE);

    cr_assert_eq(ike_payload_parse_ke(p, &ke, NULL), 0);
    cr_expect_eq(ke.group, IKE_DH_CURVE25519);
    cr_expect_eq(ke.len, sizeof(data));
    cr_expect_eq(memcmp(ke.data, data, sizeof(data)), 0);
    cr_expect_eq(p->body[2], 0, "RESERVED must be zero");
    cr_expect_eq(p->body[3], 0, "RESERVED must be zero");
}

Test(ike_payload, ke_group_uses_both_octets)
{
    static const uint8_t data[8] = { 1 };
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_ke_payload ke;

    /* A private-use group number above 255 (RFC 7296 3.3.2). */
    start(&w, buf, sizeof(buf));
    ike_payload_build_ke(&w, 0x8123, data, sizeof(data));

    const struct ike_payload *p = parse_single(&w, &msg, IKE_P_KE);

    cr_assert_eq(ike_payload_parse_ke(p, &ke, NULL), 0);
    cr_expect_eq(ke.group, 0x8123);
}

Test(ike_payload, nonce_round_trips_at_both_limits)
{
    static const uint8_t data[IKE_NONCE_MAX_LEN] = { 0x71, 0xbe, 0x37 };
    size_t sizes[] = { IKE_NONCE_MIN_LEN, IKE_NONCE_MAX_LEN };

    for (size_t i = 0; i < 2; i++) {
        uint8_t buf[512];
        struct ike_writer w;
        struct ike_msg msg;
        struct ike_nonce nonce;

        start(&w, buf, sizeof(buf));
        ike_payload_build_nonce(&w, data, sizes[i]);

        const struct ike_payload *p = parse_single(&w, &msg, IKE_P_NONCE);

        cr_assert_eq(ike_payload_parse_nonce(p, &nonce, NULL), 0);
        cr_expect_eq(nonce.len, sizes[i]);
        cr_expect_eq(memcmp(nonce.data, data, sizes[i]), 0);
    }
}

Test(ike_payload, notify_without_spi_round_trips)
{
    static const uint8_t data[] = { 0x00, 0x02, 0x00, 0x03 };
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_notify n;

    start(&w, buf, sizeof(buf));
    ike_payload_build_notify(&w, 0, NULL, 0, IKE_N_SIGNATURE_HASH_ALGORITHMS,
        data, sizeof(data));

    const struct ike_payload *p = parse_single(&w, &msg, IKE_P_NOTIFY);

    cr_assert_eq(ike_payload_parse_notify(p, &n, NULL), 0);
    cr_expect_eq(n.proto_id, 0);
    cr_expect_eq(n.spi_size, 0);
    cr_expect_null(n.spi);
    cr_expect_eq(n.type, IKE_N_SIGNATURE_HASH_ALGORITHMS);
    cr_expect_eq(n.data_len, sizeof(data));
    cr_expect_eq(memcmp(n.data, data, sizeof(data)), 0);
    cr_expect_eq(n.offset, IKE_HDR_LEN);
    cr_expect_eq(n.data_offset, IKE_HDR_LEN + 8);
}

Test(ike_payload, notify_with_spi_round_trips)
{
    static const uint8_t spi[4] = { 0xc1, 0x2a, 0x00, 0x07 };
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_notify n;

    start(&w, buf, sizeof(buf));
    ike_payload_build_notify(&w, IKE_PROTO_ESP, spi, sizeof(spi),
        IKE_N_REKEY_SA, NULL, 0);

    const struct ike_payload *p = parse_single(&w, &msg, IKE_P_NOTIFY);

    cr_assert_eq(ike_payload_parse_notify(p, &n, NULL), 0);
    cr_expect_eq(n.proto_id, IKE_PROTO_ESP);
    cr_expect_eq(n.spi_size, 4);
    cr_assert_not_null(n.spi);
    cr_expect_eq(memcmp(n.spi, spi, sizeof(spi)), 0);
    cr_expect_eq(n.type, IKE_N_REKEY_SA);
    cr_expect_eq(n.data_len, 0);
    cr_expect_eq(n.data_offset, IKE_HDR_LEN + 12);
}

Test(ike_payload, notify_builder_rejects_missing_spi)
{
    uint8_t buf[256];
    struct ike_writer w;

    start(&w, buf, sizeof(buf));
    ike_payload_build_notify(&w, IKE_PROTO_ESP, NULL, 4, IKE_N_REKEY_SA,
        NULL, 0);
    cr_expect_eq(ike_writer_error(&w), -EINVAL);
}

Test(ike_payload, id_round_trips_for_idi_and_idr)
{
    static const uint8_t fqdn[] = "gw.example.net";
    static const uint8_t addr[4] = { 198, 51, 100, 1 };
    uint8_t types[] = { IKE_P_IDI, IKE_P_IDR };

    for (size_t i = 0; i < 2; i++) {
        uint8_t buf[256];
        struct ike_writer w;
        struct ike_msg msg;
        struct ike_id id;
        const uint8_t *data = i == 0 ? addr : fqdn;
        size_t len = i == 0 ? sizeof(addr) : sizeof(fqdn) - 1;
        uint8_t id_type = i == 0 ? IKE_ID_IPV4_ADDR : IKE_ID_FQDN;

        start(&w, buf, sizeof(buf));
        ike_payload_build_id(&w, types[i], id_type, data, len);

        const struct ike_payload *p = parse_single(&w, &msg, types[i]);

        cr_assert_eq(ike_payload_parse_id(p, &id, NULL), 0);
        cr_expect_eq(id.id_type, id_type);
        cr_expect_eq(id.len, len);
        cr_expect_eq(memcmp(id.data, data, len), 0);
    }
}

Test(ike_payload, auth_round_trips)
{
    static const uint8_t data[32] = { 0x12, 0x4c, 0xf1, [31] = 0xc9 };
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_auth auth;

    start(&w, buf, sizeof(buf));
    ike_payload_build_auth(&w, IKE_AUTH_SHARED_KEY_MIC, data, sizeof(data));

    const struct ike_payload *p = parse_single(&w, &msg, IKE_P_AUTH);

    cr_assert_eq(ike_payload_parse_auth(p, &auth, NULL), 0);
    cr_expect_eq(auth.method, IKE_AUTH_SHARED_KEY_MIC);
    cr_expect_eq(auth.len, sizeof(data));
    cr_expect_eq(memcmp(auth.data, data, sizeof(data)), 0);
}

Test(ike_payload, cert_and_certreq_round_trip)
{
    static const uint8_t der[] = { 0x30, 0x82, 0x01, 0x0a, 0x02, 0x01 };
    uint8_t types[] = { IKE_P_CERT, IKE_P_CERTREQ };

    for (size_t i = 0; i < 2; i++) {
        uint8_t buf[256];
        struct ike_writer w;
        struct ike_msg msg;
        struct ike_cert cert;

        start(&w, buf, sizeof(buf));
        ike_payload_build_cert(&w, types[i], 4, der, sizeof(der));

        const struct ike_payload *p = parse_single(&w, &msg, types[i]);

        cr_assert_eq(ike_payload_parse_cert(p, &cert, NULL), 0);
        cr_expect_eq(cert.encoding, 4);
        cr_expect_eq(cert.len, sizeof(der));
        cr_expect_eq(memcmp(cert.data, der, sizeof(der)), 0);
    }
}

Test(ike_payload, certreq_may_be_empty)
{
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_cert cert;

    start(&w, buf, sizeof(buf));
    ike_payload_build_cert(&w, IKE_P_CERTREQ, 4, NULL, 0);

    const struct ike_payload *p = parse_single(&w, &msg, IKE_P_CERTREQ);

    cr_assert_eq(ike_payload_parse_cert(p, &cert, NULL), 0);
    cr_expect_eq(cert.len, 0);
}

Test(ike_payload, ts_round_trips_ipv4_and_ipv6)
{
    static const uint8_t v4_start[4] = { 10, 0, 0, 1 };
    static const uint8_t v4_end[4] = { 10, 0, 0, 1 };
    static const uint8_t v6_start[16] = { 0x20, 0x01, 0x0d, 0xb8 };
    static const uint8_t v6_end[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0xff };
    struct ike_ts in[2] = {
        { .type = IKE_TS_IPV4_ADDR_RANGE, .ip_proto = 17,
          .start_port = 500, .end_port = 4500,
          .start_addr = v4_start, .end_addr = v4_end, .addr_len = 4 },
        { .type = IKE_TS_IPV6_ADDR_RANGE, .ip_proto = 0,
          .start_port = 0, .end_port = 65535,
          .start_addr = v6_start, .end_addr = v6_end, .addr_len = 16 },
    };
    uint8_t types[] = { IKE_P_TSI, IKE_P_TSR };

    for (size_t t = 0; t < 2; t++) {
        uint8_t buf[256];
        struct ike_writer w;
        struct ike_msg msg;
        struct ike_ts_payload tsp;
        struct ike_ts ts;
        size_t cursor = 0;

        start(&w, buf, sizeof(buf));
        ike_payload_build_ts(&w, types[t], in, 2);

        const struct ike_payload *p = parse_single(&w, &msg, types[t]);

        cr_assert_eq(p->body_len, 4 + IKE_TS_IPV4_LEN + IKE_TS_IPV6_LEN);
        cr_assert_eq(ike_payload_parse_ts(p, &tsp, NULL), 0);
        cr_expect_eq(tsp.count, 2);
        cr_expect_eq(tsp.payload_type, types[t]);
        for (size_t i = 0; i < 2; i++) {
            cr_assert_eq(ike_payload_next_ts(&tsp, &cursor, &ts, NULL), 1);
            cr_expect_eq(ts.type, in[i].type);
            cr_expect_eq(ts.ip_proto, in[i].ip_proto);
            cr_expect_eq(ts.start_port, in[i].start_port);
            cr_expect_eq(ts.end_port, in[i].end_port);
            cr_assert_eq(ts.addr_len, in[i].addr_len);
            cr_expect_eq(memcmp(ts.start_addr, in[i].start_addr,
                ts.addr_len), 0);
            cr_expect_eq(memcmp(ts.end_addr, in[i].end_addr, ts.addr_len),
                0);
        }
        cr_expect_eq(ike_payload_next_ts(&tsp, &cursor, &ts, NULL), 0);
    }
}

Test(ike_payload, ts_keeps_unknown_selector_type_opaque)
{
    static const uint8_t label[] = { 's', 'e', 'c' };
    struct ike_ts in = {
        .type = 10, .data = label, .data_len = sizeof(label),
    };
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_ts_payload tsp;
    struct ike_ts ts;
    size_t cursor = 0;

    start(&w, buf, sizeof(buf));
    ike_payload_build_ts(&w, IKE_P_TSI, &in, 1);

    const struct ike_payload *p = parse_single(&w, &msg, IKE_P_TSI);

    cr_assert_eq(ike_payload_parse_ts(p, &tsp, NULL), 0);
    cr_assert_eq(ike_payload_next_ts(&tsp, &cursor, &ts, NULL), 1);
    cr_expect_eq(ts.type, 10);
    cr_expect_eq(ts.addr_len, 0);
    cr_expect_eq(ts.data_len, sizeof(label));
    cr_expect_eq(memcmp(ts.data, label, sizeof(label)), 0);
}

Test(ike_payload, ts_builder_rejects_wrong_address_length)
{
    static const uint8_t addr[16];
    struct ike_ts in = {
        .type = IKE_TS_IPV4_ADDR_RANGE, .start_addr = addr, .end_addr = addr,
        .addr_len = 16,
    };
    uint8_t buf[256];
    struct ike_writer w;

    start(&w, buf, sizeof(buf));
    ike_payload_build_ts(&w, IKE_P_TSI, &in, 1);
    cr_expect_eq(ike_writer_error(&w), -EINVAL);
}

Test(ike_payload, cp_round_trips_with_attributes)
{
    static const uint8_t dns[4] = { 198, 51, 100, 53 };
    static const uint8_t ver[] = { 'i', 'k', 'e' };
    struct ike_cp_attr in[] = {
        { .type = IKE_CA_INTERNAL_IP4_ADDRESS, .value = NULL, .len = 0 },
        { .type = IKE_CA_INTERNAL_IP4_DNS, .value = dns, .len = sizeof(dns) },
        { .type = IKE_CA_APPLICATION_VERSION, .value = ver,
          .len = sizeof(ver) },
    };
    size_t n_in = sizeof(in) / sizeof(in[0]);
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_cp cp;
    struct ike_cp_attr attr;
    size_t cursor = 0;

    start(&w, buf, sizeof(buf));
    ike_payload_build_cp(&w, IKE_CFG_REPLY, in, n_in);

    const struct ike_payload *p = parse_single(&w, &msg, IKE_P_CP);

    cr_assert_eq(ike_payload_parse_cp(p, &cp, NULL), 0);
    cr_expect_eq(cp.cfg_type, IKE_CFG_REPLY);
    for (size_t i = 0; i < n_in; i++) {
        cr_assert_eq(ike_payload_next_cp_attr(&cp, &cursor, &attr, NULL), 1);
        cr_expect_eq(attr.type, in[i].type);
        cr_assert_eq(attr.len, in[i].len);
        if (attr.len > 0)
            cr_expect_eq(memcmp(attr.value, in[i].value, attr.len), 0);
    }
    cr_expect_eq(ike_payload_next_cp_attr(&cp, &cursor, &attr, NULL), 0);
}

Test(ike_payload, cp_ignores_reserved_attribute_bit)
{
    static const uint8_t body[] = { 1, 0, 0, 0, 0x80, 0x01, 0x00, 0x00 };
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_cp cp;
    struct ike_cp_attr attr;
    size_t cursor = 0;

    start(&w, buf, sizeof(buf));
    ike_payload_build_raw(&w, IKE_P_CP, 0, body, sizeof(body));

    const struct ike_payload *p = parse_single(&w, &msg, IKE_P_CP);

    cr_assert_eq(ike_payload_parse_cp(p, &cp, NULL), 0);
    cr_assert_eq(ike_payload_next_cp_attr(&cp, &cursor, &attr, NULL), 1);
    cr_expect_eq(attr.type, IKE_CA_INTERNAL_IP4_ADDRESS);
}

Test(ike_payload, delete_round_trips_for_ike_and_esp)
{
    static const uint8_t spis[8] = { 0xc1, 0x2a, 0, 7, 0xc1, 0x2a, 0, 8 };
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_delete del;

    start(&w, buf, sizeof(buf));
    ike_payload_build_delete(&w, IKE_PROTO_IKE, 0, NULL, 0);

    const struct ike_payload *p = parse_single(&w, &msg, IKE_P_DELETE);

    cr_assert_eq(ike_payload_parse_delete(p, &del, NULL), 0);
    cr_expect_eq(del.proto_id, IKE_PROTO_IKE);
    cr_expect_eq(del.spi_size, 0);
    cr_expect_eq(del.n_spi, 0);

    start(&w, buf, sizeof(buf));
    ike_payload_build_delete(&w, IKE_PROTO_ESP, 4, spis, 2);
    p = parse_single(&w, &msg, IKE_P_DELETE);
    cr_assert_eq(ike_payload_parse_delete(p, &del, NULL), 0);
    cr_expect_eq(del.proto_id, IKE_PROTO_ESP);
    cr_expect_eq(del.spi_size, 4);
    cr_expect_eq(del.n_spi, 2);
    cr_expect_eq(memcmp(del.spis, spis, sizeof(spis)), 0);
}

Test(ike_payload, vendor_id_round_trips)
{
    static const uint8_t vid[16] = { 0x88, 0x2f, 0xe5, 0x6d, [15] = 0x01 };
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;

    start(&w, buf, sizeof(buf));
    ike_payload_build_vendor(&w, vid, sizeof(vid));

    const struct ike_payload *p = parse_single(&w, &msg, IKE_P_VENDOR);

    cr_expect_eq(p->body_len, sizeof(vid));
    cr_expect_eq(memcmp(p->body, vid, sizeof(vid)), 0);
    cr_expect_eq(p->known, 1);
}

Test(ike_payload, eap_round_trips_as_raw_payload)
{
    static const uint8_t eap[] = { 1, 7, 0, 5, 1 };
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;

    start(&w, buf, sizeof(buf));
    ike_payload_build_raw(&w, IKE_P_EAP, 0, eap, sizeof(eap));

    const struct ike_payload *p = parse_single(&w, &msg, IKE_P_EAP);

    cr_expect_eq(p->body_len, sizeof(eap));
    cr_expect_eq(memcmp(p->body, eap, sizeof(eap)), 0);
}

Test(ike_payload, sk_round_trips)
{
    static const uint8_t body[48] = { 0x63, 0x4e, 0x26, [47] = 0xd0 };
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_sk sk;

    start(&w, buf, sizeof(buf));
    ike_payload_build_sk(&w, IKE_P_NOTIFY, body, sizeof(body));

    const struct ike_payload *p = parse_single(&w, &msg, IKE_P_SK);

    cr_assert_eq(ike_payload_parse_sk(p, &sk, NULL), 0);
    cr_expect_eq(sk.first_inner, IKE_P_NOTIFY);
    cr_expect_eq(sk.len, sizeof(body));
    cr_expect_eq(memcmp(sk.data, body, sizeof(body)), 0);
    cr_expect_eq(ike_msg_encrypted(&msg), p);
}

Test(ike_payload, sk_built_in_place_matches_copy)
{
    static const uint8_t body[24] = { 1, 2, 3, [23] = 24 };
    uint8_t a[128];
    uint8_t b[128];
    struct ike_writer wa;
    struct ike_writer wb;

    start(&wa, a, sizeof(a));
    ike_payload_build_sk(&wa, IKE_P_IDI, body, sizeof(body));
    start(&wb, b, sizeof(b));
    ike_msg_sk_begin(&wb, IKE_P_IDI);

    uint8_t *p = ike_writer_reserve(&wb, sizeof(body));

    cr_assert_not_null(p);
    memcpy(p, body, sizeof(body));
    ike_msg_payload_end(&wb);
    cr_assert_eq(ike_writer_error(&wb), 0);
    cr_assert_eq(ike_writer_len(&wa), ike_writer_len(&wb));
    cr_expect_eq(memcmp(a, b, ike_writer_len(&wa)), 0);
}

Test(ike_payload, skf_round_trips)
{
    static const uint8_t body[40] = { 0xaa, [39] = 0xbb };
    uint16_t numbers[][2] = { { 1, 3 }, { 3, 3 } };

    for (size_t i = 0; i < 2; i++) {
        uint8_t buf[256];
        struct ike_writer w;
        struct ike_msg msg;
        struct ike_skf skf;
        uint8_t inner = numbers[i][0] == 1 ? IKE_P_IDI : IKE_P_NONE;

        start(&w, buf, sizeof(buf));
        ike_payload_build_skf(&w, inner, numbers[i][0], numbers[i][1], body,
            sizeof(body));

        const struct ike_payload *p = parse_single(&w, &msg, IKE_P_SKF);

        cr_assert_eq(ike_payload_parse_skf(p, &skf, NULL), 0);
        cr_expect_eq(skf.first_inner, inner);
        cr_expect_eq(skf.fragment, numbers[i][0]);
        cr_expect_eq(skf.total, numbers[i][1]);
        cr_expect_eq(skf.len, sizeof(body));
        cr_expect_eq(memcmp(skf.data, body, sizeof(body)), 0);
    }
}

/*
 * Malformed bodies.  Each is sent as the only payload after the header,
 * so the body starts at offset 32.  Offsets are those of the field at fault.
 */
struct body_case {
    char name[48];
    uint8_t type;
    char body[80];                  /* hex */
    int code;
    size_t offset;
};

ParameterizedTestParameters(ike_payload, rejects_malformed_body)
{
    static struct body_case cases[] = {
        { "KE shorter than its fixed part", IKE_P_KE, "001f00",
          IKE_E_BODY_TRUNCATED, 32 },
        { "KE data empty", IKE_P_KE, "001f0000",
          IKE_E_KE_DATA_EMPTY, 36 },
        { "X25519 KE data of 31 octets", IKE_P_KE,
          "001f0000000102030405060708090a0b0c0d0e0f101112131415161718191a1b"
          "1c1d1e",
          IKE_E_KE_DATA_LEN, 36 },
        { "nonce of 15 octets", IKE_P_NONCE,
          "000102030405060708090a0b0c0d0e",
          IKE_E_NONCE_TOO_SHORT, 32 },
        { "notify shorter than its fixed part", IKE_P_NOTIFY, "000040",
          IKE_E_BODY_TRUNCATED, 32 },
        { "notify SPI beyond payload", IKE_P_NOTIFY, "030440090102",
          IKE_E_NOTIFY_SPI_BEYOND_PAYLOAD, 33 },
        { "ID shorter than its fixed part", IKE_P_IDI, "010000",
          IKE_E_BODY_TRUNCATED, 32 },
        { "IPv4 ID of 3 octets", IKE_P_IDI, "01000000c63364",
          IKE_E_ID_ADDR_LEN, 36 },
        { "IPv6 ID of 4 octets", IKE_P_IDR, "05000000c6336401",
          IKE_E_ID_ADDR_LEN, 36 },
        { "AUTH shorter than its fixed part", IKE_P_AUTH, "020000",
          IKE_E_BODY_TRUNCATED, 32 },
        { "AUTH data empty", IKE_P_AUTH, "02000000",
          IKE_E_AUTH_DATA_EMPTY, 36 },
        { "CERT without encoding", IKE_P_CERT, "",
          IKE_E_BODY_TRUNCATED, 32 },
        { "CERTREQ without encoding", IKE_P_CERTREQ, "",
          IKE_E_BODY_TRUNCATED, 32 },
        { "TS shorter than its fixed part", IKE_P_TSI, "010000",
          IKE_E_BODY_TRUNCATED, 32 },
        { "TS without selectors", IKE_P_TSI, "00000000",
          IKE_E_TS_EMPTY, 32 },
        { "TS selector header truncated", IKE_P_TSR, "010000000700",
          IKE_E_TS_TRUNCATED, 36 },
        { "TS selector length below 4", IKE_P_TSI, "0100000007000003",
          IKE_E_TS_LEN_INVALID, 36 },
        { "TS selector beyond payload", IKE_P_TSI,
          "01000000070000100000ffff",
          IKE_E_TS_TRUNCATED, 36 },
        { "IPv4 selector of 12 octets", IKE_P_TSI,
          "010000000700000c0000ffff0a000001",
          IKE_E_TS_LEN_INVALID, 36 },
        { "IPv6 selector of 16 octets", IKE_P_TSI,
          "01000000080000100000ffff0a0000010a0000ff",
          IKE_E_TS_LEN_INVALID, 36 },
        { "TS count above selectors", IKE_P_TSI,
          "02000000070000100000ffff0a0000010a0000ff",
          IKE_E_TS_COUNT_MISMATCH, 32 },
        { "TS count below selectors", IKE_P_TSI,
          "01000000070000100000ffff0a0000010a0000ff"
          "070000100000ffff0a0000010a0000ff",
          IKE_E_TS_COUNT_MISMATCH, 32 },
        { "CP shorter than its fixed part", IKE_P_CP, "010000",
          IKE_E_BODY_TRUNCATED, 32 },
        { "CP attribute header truncated", IKE_P_CP, "010000000001",
          IKE_E_CP_ATTR_TRUNCATED, 36 },
        { "CP attribute beyond payload", IKE_P_CP, "0100000000010004c633",
          IKE_E_CP_ATTR_TRUNCATED, 36 },
        { "delete shorter than its fixed part", IKE_P_DELETE, "010000",
          IKE_E_BODY_TRUNCATED, 32 },
        { "delete SPI count beyond payload", IKE_P_DELETE,
          "0304000201020304",
          IKE_E_DELETE_SPI_MISMATCH, 34 },
        { "delete octets beyond SPI count", IKE_P_DELETE, "0304000001020304",
          IKE_E_DELETE_SPI_MISMATCH, 34 },
        { "delete for IKE with SPI size 4", IKE_P_DELETE, "0104000101020304",
          IKE_E_DELETE_SPI_SIZE, 33 },
        { "SKF shorter than its fixed part", IKE_P_SKF, "000100",
          IKE_E_BODY_TRUNCATED, 32 },
        { "SKF fragment number 0", IKE_P_SKF, "00000001aabb",
          IKE_E_SKF_NUMBER_INVALID, 32 },
        { "SKF fragment above total", IKE_P_SKF, "00030002aabb",
          IKE_E_SKF_NUMBER_INVALID, 32 },
        { "SKF total of 0", IKE_P_SKF, "00010000aabb",
          IKE_E_SKF_NUMBER_INVALID, 32 },
        { "EAP shorter than its header", IKE_P_EAP, "010203",
          IKE_E_BODY_TRUNCATED, 32 },
    };

    return cr_make_param_array(struct body_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct body_case *c, ike_payload, rejects_malformed_body)
{
    uint8_t body[64];
    size_t len = vec_unhex(c->body, body, sizeof(body));
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_parse_error err = { -1, 0, 0 };

    cr_assert_neq(len, (size_t)-1, "%s", c->name);
    start(&w, buf, sizeof(buf));
    ike_payload_build_raw(&w, c->type, 0, body, len);
    cr_assert_eq(ike_writer_error(&w), 0);
    cr_assert_eq(ike_msg_parse(&msg, buf, ike_writer_len(&w), &err),
        -EBADMSG, "%s", c->name);
    cr_expect_eq(err.code, c->code, "%s: got %s", c->name,
        ike_error_name(err.code));
    cr_expect_eq(err.offset, c->offset, "%s", c->name);
    cr_expect_eq(err.payload, c->type, "%s", c->name);
}

Test(ike_payload, parser_rejects_wrong_payload_type)
{
    static const uint8_t nonce[32];
    uint8_t buf[256];
    struct ike_writer w;
    struct ike_msg msg;
    struct ike_ke_payload ke;
    struct ike_parse_error err;

    start(&w, buf, sizeof(buf));
    ike_payload_build_nonce(&w, nonce, sizeof(nonce));

    const struct ike_payload *p = parse_single(&w, &msg, IKE_P_NONCE);

    cr_expect_eq(ike_payload_parse_ke(p, &ke, &err), -EINVAL);
    cr_expect_eq(err.code, IKE_E_PAYLOAD_TYPE_MISMATCH);
    cr_expect_eq(err.payload, IKE_P_NONCE);
}

Test(ike_payload, type_names_follow_rfc)
{
    cr_expect_str_eq(ike_payload_type_name(IKE_P_SA), "SA");
    cr_expect_str_eq(ike_payload_type_name(IKE_P_NOTIFY), "N");
    cr_expect_str_eq(ike_payload_type_name(IKE_P_SKF), "SKF");
    cr_expect_null(ike_payload_type_name(49));
    cr_expect_eq(ike_payload_type_known(IKE_P_EAP), 1);
    cr_expect_eq(ike_payload_type_known(IKE_P_NONE), 0);
    cr_expect_str_eq(ike_notify_type_name(IKE_N_REDIRECT), "REDIRECT");
    cr_expect_str_eq(ike_notify_type_name(16430),
        "IKEV2_FRAGMENTATION_SUPPORTED");
    cr_expect_null(ike_notify_type_name(40960));
}

/* Re-encodes one parsed payload of the kinds the INIT vectors carry. */
static void
rebuild_payload(struct ike_writer *w, const struct ike_payload *p)
{
    if (p->type == IKE_P_KE) {
        struct ike_ke_payload ke;

        cr_assert_eq(ike_payload_parse_ke(p, &ke, NULL), 0);
        ike_payload_build_ke(w, ke.group, ke.data, ke.len);
    } else if (p->type == IKE_P_NONCE) {
        struct ike_nonce nonce;

        cr_assert_eq(ike_payload_parse_nonce(p, &nonce, NULL), 0);
        ike_payload_build_nonce(w, nonce.data, nonce.len);
    } else if (p->type == IKE_P_NOTIFY) {
        struct ike_notify n;

        cr_assert_eq(ike_payload_parse_notify(p, &n, NULL), 0);
        ike_payload_build_notify(w, n.proto_id, n.spi, n.spi_size, n.type,
            n.data, n.data_len);
    } else {
        struct ike_proposal_spec specs[4];
        struct ike_transform xfs[4][16];
        struct ike_proposal prop;
        size_t pc = 0;
        size_t n = 0;

        cr_assert_eq(p->type, IKE_P_SA);
        while (ike_sa_payload_next_proposal(p, &pc, &prop, NULL) > 0) {
            size_t tc = 0;
            size_t k = 0;

            cr_assert_lt(n, 4);
            while (k < 16 && ike_sa_payload_next_transform(&prop, &tc,
                &xfs[n][k], NULL) > 0) {
                /* Build from the decoded key length, not the raw octets. */
                xfs[n][k].attrs = NULL;
                k++;
            }
            specs[n] = (struct ike_proposal_spec){
                .num = prop.num, .proto_id = prop.proto_id,
                .spi_size = prop.spi_size, .spi = prop.spi,
                .transforms = xfs[n], .n_transforms = k,
            };
            n++;
        }
        ike_sa_payload_build(w, specs, n);
    }
}

struct rebuild_case {
    char prefix[3];
};

ParameterizedTestParameters(ike_payload, rebuilt_vector_equals_capture)
{
    static struct rebuild_case cases[] = {
        { "01" }, { "02" }, { "03" }, { "04" }, { "05" }, { "06" },
        { "07" }, { "08" }, { "09" }, { "10" }, { "11" }, { "12" },
        { "13" }, { "15" }, { "21" }, { "22" },
    };

    return cr_make_param_array(struct rebuild_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

/* Build from parsed values must reproduce the captured octets exactly. */
ParameterizedTest(struct rebuild_case *c, ike_payload,
    rebuilt_vector_equals_capture)
{
    uint8_t in[VEC_MAX_LEN];
    uint8_t out[VEC_MAX_LEN];
    size_t n = vec_load(c->prefix, in, sizeof(in));
    struct ike_msg msg;
    struct ike_writer w;

    cr_assert_eq(ike_msg_parse(&msg, in, n, NULL), 0);
    ike_writer_init(&w, out, sizeof(out));
    ike_msg_begin(&w, &msg.hdr);
    for (size_t i = 0; i < msg.chain.count; i++)
        rebuild_payload(&w, &msg.chain.payloads[i]);
    cr_assert_eq(ike_writer_error(&w), 0);
    cr_assert_eq(ike_writer_len(&w), n, "vector %s", c->prefix);
    cr_expect_eq(memcmp(in, out, n), 0, "vector %s", c->prefix);
}
