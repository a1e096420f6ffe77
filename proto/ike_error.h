/*
 * Parse error codes for the IKEv2 wire format, with stable names.
 *
 * Every parser in proto/ that rejects input returns a negative errno and, if
 * the caller passed a struct ike_parse_error, fills it with one of the codes
 * below, the offset where the fault was found and the payload type it was
 * found in.  The codes and their names never change meaning once released,
 * so logs, counters and the JSON dump can use them as keys.
 */
#ifndef IKESHIFT_IKE_ERROR_H
#define IKESHIFT_IKE_ERROR_H

#include <stddef.h>
#include <stdint.h>

enum ike_error_code {
    IKE_E_OK = 0,

    /* IKE header (RFC 7296 3.1). */
    IKE_E_HDR_TRUNCATED = 1,
    IKE_E_HDR_LEN_BEYOND_DATAGRAM = 2,
    IKE_E_HDR_LEN_TOO_SHORT = 3,
    IKE_E_MAJOR_VERSION = 4,

    /* Payload chain (RFC 7296 3.2 and 3.14, RFC 7383 2.5). */
    IKE_E_PAYLOAD_LEN_TOO_SHORT = 10,
    IKE_E_PAYLOAD_LEN_BEYOND_MESSAGE = 11,
    IKE_E_CHAIN_OVERRUN = 12,
    IKE_E_TRAILING_OCTETS = 13,
    IKE_E_SK_NOT_LAST = 14,
    IKE_E_SK_NESTED = 15,
    IKE_E_UNSUPPORTED_CRITICAL = 16,
    IKE_E_TOO_MANY_PAYLOADS = 17,

    /* Payload bodies (RFC 7296 3.3 to 3.15, RFC 7383 2.5). */
    IKE_E_BODY_TRUNCATED = 30,
    IKE_E_PAYLOAD_TYPE_MISMATCH = 31,
    IKE_E_NONCE_TOO_SHORT = 32,
    IKE_E_NONCE_TOO_LONG = 33,
    IKE_E_KE_DATA_EMPTY = 34,
    IKE_E_NOTIFY_SPI_BEYOND_PAYLOAD = 35,
    IKE_E_ID_ADDR_LEN = 36,
    IKE_E_AUTH_DATA_EMPTY = 37,
    IKE_E_DELETE_SPI_MISMATCH = 38,
    IKE_E_SA_EMPTY = 39,
    IKE_E_PROPOSAL_TRUNCATED = 40,
    IKE_E_PROPOSAL_LEN_INVALID = 41,
    IKE_E_PROPOSAL_LAST_INVALID = 42,
    IKE_E_TRANSFORM_TRUNCATED = 43,
    IKE_E_TRANSFORM_LEN_INVALID = 44,
    IKE_E_TRANSFORM_LAST_INVALID = 45,
    IKE_E_TRANSFORM_COUNT_MISMATCH = 46,
    IKE_E_ATTR_TRUNCATED = 47,
    IKE_E_ATTR_KEY_LENGTH_NOT_TV = 48,
    IKE_E_TS_EMPTY = 49,
    IKE_E_TS_TRUNCATED = 50,
    IKE_E_TS_LEN_INVALID = 51,
    IKE_E_TS_COUNT_MISMATCH = 52,
    IKE_E_CP_ATTR_TRUNCATED = 53,
    IKE_E_SKF_NUMBER_INVALID = 54,
    IKE_E_KE_DATA_LEN = 55,
    IKE_E_DELETE_SPI_SIZE = 56,

    /* RFC 5685 notifies (REDIRECT_SUPPORTED, REDIRECT, REDIRECTED_FROM). */
    IKE_E_REDIRECT_NOTIFY_TYPE = 70,
    IKE_E_REDIRECT_PROTO_ID = 71,
    IKE_E_REDIRECT_SPI_SIZE = 72,
    IKE_E_REDIRECT_TRUNCATED = 73,
    IKE_E_REDIRECT_GW_TYPE_UNKNOWN = 74,
    IKE_E_REDIRECT_GW_LEN_BEYOND_DATA = 75,
    IKE_E_REDIRECT_IPV4_LEN = 76,
    IKE_E_REDIRECT_IPV6_LEN = 77,
    IKE_E_REDIRECT_FQDN_EMPTY = 78,
    IKE_E_REDIRECT_FQDN_CHAR = 79,
    IKE_E_REDIRECT_FQDN_LABEL = 80,
    IKE_E_REDIRECT_NONCE_MISSING = 81,
    IKE_E_REDIRECT_TRAILING_OCTETS = 82,

    /* NAT detection (RFC 7296 2.23). */
    IKE_E_NATD_LEN = 90,

    IKE_E_CODE_LIMIT = 91       /* one above the highest code, not a code */
};

/*
 * One rejected input: code is an enum ike_error_code, offset counts octets
 * from the first octet of the buffer the chain was parsed from (the IKE
 * header for a message, the plaintext for an inner chain), and payload is
 * the type of the payload the fault is in (0 for the IKE header).
 */
struct ike_parse_error {
    int code;
    size_t offset;
    uint8_t payload;
};

/*
 * Returns the stable lower_snake_case name of code, such as
 * "payload_len_beyond_message", for log fields and JSON keys.  Unknown
 * codes return "unknown".  The string is static.
 */
const char *
ike_error_name(int code);

/*
 * Returns a short description of code, such as "payload length exceeds
 * message".  Unknown codes return "unknown error".  The string is static.
 */
const char *
ike_error_describe(int code);

/*
 * Returns the notify type a responder answers a request rejected with code:
 * IKE_N_INVALID_MAJOR_VERSION (RFC 7296 2.5), IKE_N_UNSUPPORTED_CRITICAL_
 * PAYLOAD with the payload type as data (3.2), 0 when the header is too
 * broken to answer at all, and IKE_N_INVALID_SYNTAX otherwise (2.21).
 */
int
ike_error_notify_type(int code);

/*
 * Fills err (if not NULL) with code, offset and payload.  Parsers use it,
 * and callers rarely need it.
 */
void
ike_error_set(struct ike_parse_error *err, int code, size_t offset,
    uint8_t payload);

#endif /* IKESHIFT_IKE_ERROR_H */
