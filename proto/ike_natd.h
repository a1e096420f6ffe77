/*
 * NAT traversal helpers: port 4500 datagram classification (RFC 3948 2,
 * RFC 7296 2.23) and the NAT_DETECTION_*_IP hashes (RFC 7296 2.23).
 */
#ifndef IKESHIFT_IKE_NATD_H
#define IKESHIFT_IKE_NATD_H

#include <stddef.h>
#include <stdint.h>

#include "ike_error.h"
#include "ike_payload.h"

#define IKE_ESP_MIN_LEN     8       /* SPI and sequence number, RFC 4303 */
#define IKE_NAT_KEEPALIVE   0xff    /* the one octet of a keepalive */

/* What a datagram received on UDP port 4500 carries. */
enum ike_udp_kind {
    IKE_UDP_INVALID = 0,    /* none of the below, to be dropped */
    IKE_UDP_IKE,            /* non-ESP marker, then an IKE message */
    IKE_UDP_ESP,            /* UDP-encapsulated ESP (non-zero SPI) */
    IKE_UDP_KEEPALIVE,      /* NAT keepalive, the single octet 0xFF */
};

/*
 * Classifies a port 4500 datagram dgram[0..len).  For IKE_UDP_IKE, stores
 * in *ike_offset (if not NULL) where the IKE header starts, which is 4.
 * For the other kinds it stores 0.  It reads at most the first 4 octets,
 * so an IKE datagram still has to pass ike_msg_parse().
 */
enum ike_udp_kind
ike_natd_classify(const uint8_t *dgram, size_t len, size_t *ike_offset);

/*
 * Computes SHA-1(SPIi | SPIr | IP | port) into out: addr is 4 (IPv4) or 16
 * (IPv6) raw octets and port is in host order (hashed in network order).
 * Returns 0, -EINVAL for another addr_len, or -EIO if OpenSSL fails.
 */
int
ike_natd_hash(uint8_t out[IKE_NATD_HASH_LEN], const uint8_t spi_i[8],
    const uint8_t spi_r[8], const uint8_t *addr, size_t addr_len,
    uint16_t port);

/*
 * Compares the data of NAT_DETECTION notify n with the hash of the given
 * SPIs, address and port.  Returns 1 on a match, 0 on a mismatch, -EBADMSG
 * with err set (IKE_E_NATD_LEN) when the data is not 20 octets, or the
 * error of ike_natd_hash().
 */
int
ike_natd_match(const struct ike_notify *n, const uint8_t spi_i[8],
    const uint8_t spi_r[8], const uint8_t *addr, size_t addr_len,
    uint16_t port, struct ike_parse_error *err);

#endif /* IKESHIFT_IKE_NATD_H */
