/*
 * Tests for port 4500 classification and NAT detection hashes (ike_natd).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "ike_const.h"
#include "ike_msg.h"
#include "ike_natd.h"
#include "test_ike_vectors.h"

TestSuite(ike_natd);

struct classify_case {
    char name[40];
    char dgram[64];                 /* hex */
    int kind;                       /* enum ike_udp_kind */
    size_t offset;
};

ParameterizedTestParameters(ike_natd, classifies_port_4500_datagram)
{
    static struct classify_case cases[] = {
        { "keepalive", "ff", IKE_UDP_KEEPALIVE, 0 },
        { "IKE after marker", "00000000a9796550cda450b8", IKE_UDP_IKE, 4 },
        { "marker alone", "00000000", IKE_UDP_IKE, 4 },
        { "ESP", "c12a000700000001deadbeef", IKE_UDP_ESP, 0 },
        { "ESP header only", "c12a000700000001", IKE_UDP_ESP, 0 },
        { "ESP shorter than its header", "c12a0007000000", IKE_UDP_INVALID,
          0 },
        { "empty", "", IKE_UDP_INVALID, 0 },
        { "single octet not 0xFF", "00", IKE_UDP_INVALID, 0 },
        { "two octets of 0xFF", "ffff", IKE_UDP_INVALID, 0 },
        { "three zero octets", "000000", IKE_UDP_INVALID, 0 },
        { "zero SPI in low octets only", "000000010000000a", IKE_UDP_ESP, 0 },
    };

    return cr_make_param_array(struct classify_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct classify_case *c, ike_natd,
    classifies_port_4500_datagram)
{
    uint8_t buf[64];
    size_t len = vec_unhex(c->dgram, buf, sizeof(buf));
    size_t off = 99;

    cr_assert_neq(len, (size_t)-1);
    cr_expect_eq((int)ike_natd_classify(buf, len, &off), c->kind, "%s",
        c->name);
    cr_expect_eq(off, c->offset, "%s", c->name);
}

Test(ike_natd, classify_accepts_null_offset)
{
    static const uint8_t marker[8];

    cr_expect_eq(ike_natd_classify(marker, sizeof(marker), NULL),
        IKE_UDP_IKE);
}

/*
 * NAT_DETECTION notifies of the captured vectors.  Addresses and ports
 * come from the IP and UDP headers in tshark's decode (.txt), and the
 * expected hashes from tshark's "Notification DATA" lines, so neither side
 * of the comparison comes from this library.
 */
struct natd_case {
    char prefix[3];
    char src[40];
    uint16_t src_port;
    char dst[40];
    uint16_t dst_port;
    char src_hash[41];
    char dst_hash[41];
};

ParameterizedTestParameters(ike_natd, vector_hashes_match_addresses)
{
    static struct natd_case cases[] = {
        { "01", "198.51.100.1", 500, "198.51.100.2", 500,
          "c7414088a6ab3bae7d9d6bdb8a1455780b749f2b",
          "f5f1b3f39a1123df5abd89e9693f26075f4221f3" },
        { "03", "198.51.100.1", 500, "198.51.100.3", 500,
          "e91ecb7745fd77709e6283e24fb6eeca864c20e7",
          "8d37b68f71c8773f46edd9ff9beb8496de56d13b" },
        { "05", "198.51.100.1", 500, "198.51.100.3", 500,
          "99af9ce103ae64405557606bd390b83957387be0",
          "e5a33f31f7359ef151c9fc21465640f7ce34d1c5" },
        { "07", "2001:db8:1::1", 500, "2001:db8:1::3", 500,
          "1997dc76d762a570d36c43e58faf8db35494bab0",
          "0a707d628596d9daf7b4ffe5fa21d9a1cd982cda" },
        { "08", "2001:db8:1::1", 500, "2001:db8:1::2", 500,
          "a4c987b5894b6cfb6ea531c4f9b58875ef5e2b5a",
          "3757a1a1563c24d956423d8f21af87e745b3f9a4" },
        { "10", "2001:db8:1::1", 500, "2001:db8:1::3", 500,
          "749428490950aac3fb8a1fa045d06b37af67d555",
          "e3d69ee3b077ff0a10938d5d55457737432a6f17" },
        { "11", "198.51.100.1", 500, "198.51.100.2", 500,
          "5c9ecbd8ed7e320f5d8b423cd4d9d5e5f83aaeba",
          "0c9157472ea8cfbd0cb453e99b118b7ac659ecc0" },
        { "12", "198.51.100.2", 500, "198.51.100.3", 500,
          "a465c4e27094847abb6756fe2347469ca9932ac6",
          "bf452a68ea39c6c701ff45b231447c4bc7960f72" },
        { "13", "198.51.100.2", 500, "198.51.100.4", 500,
          "635fb6c2d7f5698c2657b57990048d39b6eb3212",
          "cd638788ab363e43e4dc691f8a184854414133fd" },
        { "15", "198.51.100.1", 500, "198.51.100.4", 500,
          "f13bc07b2cc180d819c181f79d1789fd2910f9a9",
          "608a273ddd6d6c25b7c42d4d392a81194f8fa38c" },
        { "21", "198.51.100.1", 500, "198.51.100.3", 500,
          "bdffb18c35cdfbde148a6cf4a15be480da873ee8",
          "ae48aa9eea481a562e28bf0796e84c0919f99dc2" },
        { "22", "198.51.100.3", 500, "198.51.100.1", 500,
          "3c2db66a4975c83da7324a64e03c02de9231c025",
          "fa9bfdfc05458717f96bce349727553d97dcac1f" },
    };

    return cr_make_param_array(struct natd_case, cases,
        sizeof(cases) / sizeof(cases[0]));
}

/* Converts an address literal to raw octets and returns 4 or 16. */
static size_t
parse_addr(const char *text, uint8_t out[16])
{
    if (inet_pton(AF_INET, text, out) == 1)
        return 4;
    cr_assert_eq(inet_pton(AF_INET6, text, out), 1, "bad address %s", text);
    return 16;
}

ParameterizedTest(struct natd_case *c, ike_natd,
    vector_hashes_match_addresses)
{
    uint8_t buf[VEC_MAX_LEN];
    size_t n = vec_load(c->prefix, buf, sizeof(buf));
    struct ike_msg msg;
    struct ike_notify src;
    struct ike_notify dst;
    uint8_t addr[16];
    uint8_t hash[IKE_NATD_HASH_LEN];
    size_t alen;

    cr_assert_eq(ike_msg_parse(&msg, buf, n, NULL), 0);
    cr_assert_not_null(ike_chain_find_notify(&msg.chain,
        IKE_N_NAT_DETECTION_SOURCE_IP, &src));
    cr_assert_not_null(ike_chain_find_notify(&msg.chain,
        IKE_N_NAT_DETECTION_DESTINATION_IP, &dst));

    alen = parse_addr(c->src, addr);
    cr_assert_eq(ike_natd_hash(hash, msg.hdr.spi_i, msg.hdr.spi_r, addr,
        alen, c->src_port), 0);
    cr_expect(vec_equal_hex(hash, sizeof(hash), c->src_hash),
        "vector %s source", c->prefix);
    cr_expect_eq(ike_natd_match(&src, msg.hdr.spi_i, msg.hdr.spi_r, addr,
        alen, c->src_port, NULL), 1, "vector %s source", c->prefix);
    /* The source notify must not match the destination address. */
    cr_expect_eq(ike_natd_match(&dst, msg.hdr.spi_i, msg.hdr.spi_r, addr,
        alen, c->src_port, NULL), 0, "vector %s", c->prefix);

    alen = parse_addr(c->dst, addr);
    cr_assert_eq(ike_natd_hash(hash, msg.hdr.spi_i, msg.hdr.spi_r, addr,
        alen, c->dst_port), 0);
    cr_expect(vec_equal_hex(hash, sizeof(hash), c->dst_hash),
        "vector %s destination", c->prefix);
    cr_expect_eq(ike_natd_match(&dst, msg.hdr.spi_i, msg.hdr.spi_r, addr,
        alen, c->dst_port, NULL), 1, "vector %s destination", c->prefix);
}

/*
 * Port 4500 and an IPv6 address, which no vector has.  The expected values
 * were computed with Python's hashlib.sha1 over the same concatenation.
 */
Test(ike_natd, hash_puts_port_in_network_order)
{
    static const uint8_t spi_i[8] = {
        0xa9, 0x79, 0x65, 0x50, 0xcd, 0xa4, 0x50, 0xb8 };
    static const uint8_t spi_r[8] = {
        0xc3, 0x51, 0x4a, 0xfb, 0x71, 0x5c, 0xc2, 0x15 };
    uint8_t addr[16];
    uint8_t hash[IKE_NATD_HASH_LEN];

    cr_assert_eq(ike_natd_hash(hash, spi_i, spi_r, addr,
        parse_addr("198.51.100.3", addr), 4500), 0);
    cr_expect(vec_equal_hex(hash, sizeof(hash),
        "2d4641fd561de05a21135fb0ec3de331547f3455"));
    cr_assert_eq(ike_natd_hash(hash, spi_i, spi_r, addr,
        parse_addr("2001:db8::3", addr), 4500), 0);
    cr_expect(vec_equal_hex(hash, sizeof(hash),
        "6fe612ca94a3a38343742d5ec61df15435597038"));
}

Test(ike_natd, hash_rejects_other_address_lengths)
{
    static const uint8_t spi[8];
    static const uint8_t addr[16];
    uint8_t hash[IKE_NATD_HASH_LEN];

    cr_expect_eq(ike_natd_hash(hash, spi, spi, addr, 0, 500), -EINVAL);
    cr_expect_eq(ike_natd_hash(hash, spi, spi, addr, 5, 500), -EINVAL);
    cr_expect_eq(ike_natd_hash(hash, spi, spi, addr, 15, 500), -EINVAL);
}

Test(ike_natd, match_rejects_wrong_data_length)
{
    static const uint8_t spi[8];
    static const uint8_t addr[4];
    static const uint8_t data[19];
    struct ike_notify n = {
        .type = IKE_N_NAT_DETECTION_SOURCE_IP, .data = data,
        .data_len = sizeof(data), .offset = 28, .data_offset = 36,
    };
    struct ike_parse_error err;

    cr_expect_eq(ike_natd_match(&n, spi, spi, addr, 4, 500, &err),
        -EBADMSG);
    cr_expect_eq(err.code, IKE_E_NATD_LEN);
    cr_expect_eq(err.offset, 36);
}
