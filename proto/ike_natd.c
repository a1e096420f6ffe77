/*
 * Port 4500 framing and NAT detection hashes, documented in ike_natd.h.
 */
#include "ike_natd.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "ike_buf.h"
#include "ike_const.h"
#include "ike_msg.h"

enum ike_udp_kind
ike_natd_classify(const uint8_t *dgram, size_t len, size_t *ike_offset)
{
    if (ike_offset != NULL)
        *ike_offset = 0;
    /* RFC 3948 2.3: a keepalive is exactly one octet of 0xFF. */
    if (len == 1 && dgram[0] == IKE_NAT_KEEPALIVE)
        return IKE_UDP_KEEPALIVE;
    if (len < IKE_NON_ESP_MARKER_LEN)
        return IKE_UDP_INVALID;
    /* RFC 3948 2.2: IKE starts with four zero octets where ESP has its
     * SPI, which is never zero. */
    if (ike_load32(dgram) == 0) {
        if (ike_offset != NULL)
            *ike_offset = IKE_NON_ESP_MARKER_LEN;
        return IKE_UDP_IKE;
    }
    if (len < IKE_ESP_MIN_LEN)
        return IKE_UDP_INVALID;
    return IKE_UDP_ESP;
}

int
ike_natd_hash(uint8_t out[IKE_NATD_HASH_LEN], const uint8_t spi_i[8],
    const uint8_t spi_r[8], const uint8_t *addr, size_t addr_len,
    uint16_t port)
{
    uint8_t in[2 * IKE_SPI_LEN + 16 + 2];
    size_t n = 0;
    unsigned int out_len = 0;

    if (addr_len != 4 && addr_len != 16)
        return -EINVAL;
    memcpy(in, spi_i, IKE_SPI_LEN);
    n += IKE_SPI_LEN;
    memcpy(in + n, spi_r, IKE_SPI_LEN);
    n += IKE_SPI_LEN;
    memcpy(in + n, addr, addr_len);
    n += addr_len;
    ike_store16(in + n, port);
    n += 2;
    if (EVP_Digest(in, n, out, &out_len, EVP_sha1(), NULL) != 1 ||
        out_len != IKE_NATD_HASH_LEN)
        return -EIO;
    return 0;
}

int
ike_natd_match(const struct ike_notify *n, const uint8_t spi_i[8],
    const uint8_t spi_r[8], const uint8_t *addr, size_t addr_len,
    uint16_t port, struct ike_parse_error *err)
{
    uint8_t want[IKE_NATD_HASH_LEN];
    int ret;

    if (n->data_len != IKE_NATD_HASH_LEN) {
        ike_error_set(err, IKE_E_NATD_LEN, n->data_offset, IKE_P_NOTIFY);
        return -EBADMSG;
    }
    if ((ret = ike_natd_hash(want, spi_i, spi_r, addr, addr_len, port)) < 0)
        return ret;
    return memcmp(want, n->data, IKE_NATD_HASH_LEN) == 0;
}
