/*
 * Names and descriptions of the parse error codes in ike_error.h.
 */
#include "ike_error.h"

#include "ike_const.h"

struct ike_error_text {
    const char *name;
    const char *description;
};

static const struct ike_error_text ike_error_texts[IKE_E_CODE_LIMIT] = {
    [IKE_E_OK] = { "ok", "no error" },
    [IKE_E_HDR_TRUNCATED] = {
        "hdr_truncated", "datagram shorter than the IKE header" },
    [IKE_E_HDR_LEN_BEYOND_DATAGRAM] = {
        "hdr_len_beyond_datagram", "header length exceeds datagram" },
    [IKE_E_HDR_LEN_TOO_SHORT] = {
        "hdr_len_too_short", "header length below 28" },
    [IKE_E_MAJOR_VERSION] = {
        "major_version", "major version is not 2" },
    [IKE_E_PAYLOAD_LEN_TOO_SHORT] = {
        "payload_len_too_short", "payload length below 4" },
    [IKE_E_PAYLOAD_LEN_BEYOND_MESSAGE] = {
        "payload_len_beyond_message", "payload length exceeds message" },
    [IKE_E_CHAIN_OVERRUN] = {
        "chain_overrun", "payload chain runs past the end of the message" },
    [IKE_E_TRAILING_OCTETS] = {
        "trailing_octets", "octets after the last payload" },
    [IKE_E_SK_NOT_LAST] = {
        "sk_not_last", "SK or SKF payload is not the last payload" },
    [IKE_E_SK_NESTED] = {
        "sk_nested", "SK or SKF payload inside an encrypted payload" },
    [IKE_E_UNSUPPORTED_CRITICAL] = {
        "unsupported_critical",
        "unsupported payload type with the critical bit set" },
    [IKE_E_TOO_MANY_PAYLOADS] = {
        "too_many_payloads", "more payloads than the parser can hold" },
    [IKE_E_BODY_TRUNCATED] = {
        "body_truncated", "payload shorter than its fixed fields" },
    [IKE_E_PAYLOAD_TYPE_MISMATCH] = {
        "payload_type_mismatch", "payload given to the wrong body parser" },
    [IKE_E_NONCE_TOO_SHORT] = {
        "nonce_too_short", "nonce shorter than 16 octets" },
    [IKE_E_NONCE_TOO_LONG] = {
        "nonce_too_long", "nonce longer than 256 octets" },
    [IKE_E_KE_DATA_EMPTY] = {
        "ke_data_empty", "key exchange data is empty" },
    [IKE_E_NOTIFY_SPI_BEYOND_PAYLOAD] = {
        "notify_spi_beyond_payload", "notify SPI size exceeds payload" },
    [IKE_E_ID_ADDR_LEN] = {
        "id_addr_len", "identification address length does not fit its type" },
    [IKE_E_AUTH_DATA_EMPTY] = {
        "auth_data_empty", "authentication data is empty" },
    [IKE_E_DELETE_SPI_MISMATCH] = {
        "delete_spi_mismatch",
        "delete SPI count times SPI size does not match payload length" },
    [IKE_E_SA_EMPTY] = {
        "sa_empty", "SA payload has no proposals" },
    [IKE_E_PROPOSAL_TRUNCATED] = {
        "proposal_truncated", "proposal header truncated" },
    [IKE_E_PROPOSAL_LEN_INVALID] = {
        "proposal_len_invalid",
        "proposal length below its header or beyond the SA payload" },
    [IKE_E_PROPOSAL_LAST_INVALID] = {
        "proposal_last_invalid",
        "proposal last-substructure field disagrees with the SA payload" },
    [IKE_E_TRANSFORM_TRUNCATED] = {
        "transform_truncated", "transform header truncated" },
    [IKE_E_TRANSFORM_LEN_INVALID] = {
        "transform_len_invalid",
        "transform length below 8 or beyond the proposal" },
    [IKE_E_TRANSFORM_LAST_INVALID] = {
        "transform_last_invalid",
        "transform last-substructure field disagrees with the proposal" },
    [IKE_E_TRANSFORM_COUNT_MISMATCH] = {
        "transform_count_mismatch",
        "proposal transform count does not match its transforms" },
    [IKE_E_ATTR_TRUNCATED] = {
        "attr_truncated", "transform attribute truncated" },
    [IKE_E_ATTR_KEY_LENGTH_NOT_TV] = {
        "attr_key_length_not_tv", "key length attribute is not in TV format" },
    [IKE_E_TS_EMPTY] = {
        "ts_empty", "traffic selector payload has no selectors" },
    [IKE_E_TS_TRUNCATED] = {
        "ts_truncated", "traffic selector truncated" },
    [IKE_E_TS_LEN_INVALID] = {
        "ts_len_invalid", "traffic selector length does not fit its type" },
    [IKE_E_TS_COUNT_MISMATCH] = {
        "ts_count_mismatch",
        "traffic selector count does not match the selectors" },
    [IKE_E_CP_ATTR_TRUNCATED] = {
        "cp_attr_truncated", "configuration attribute truncated" },
    [IKE_E_KE_DATA_LEN] = {
        "ke_data_len", "key exchange data length does not match its group" },
    [IKE_E_DELETE_SPI_SIZE] = {
        "delete_spi_size",
        "delete SPI size is not 0 for IKE or 4 for AH and ESP" },
    [IKE_E_SKF_NUMBER_INVALID] = {
        "skf_number_invalid",
        "fragment number is 0 or exceeds total fragments" },
    [IKE_E_REDIRECT_NOTIFY_TYPE] = {
        "redirect_notify_type", "notify is not the expected redirect type" },
    [IKE_E_REDIRECT_PROTO_ID] = {
        "redirect_proto_id", "redirect notify protocol ID is not 0" },
    [IKE_E_REDIRECT_SPI_SIZE] = {
        "redirect_spi_size", "redirect notify SPI size is not 0" },
    [IKE_E_REDIRECT_TRUNCATED] = {
        "redirect_truncated", "gateway identity type or length missing" },
    [IKE_E_REDIRECT_GW_TYPE_UNKNOWN] = {
        "redirect_gw_type_unknown", "unknown gateway identity type" },
    [IKE_E_REDIRECT_GW_LEN_BEYOND_DATA] = {
        "redirect_gw_len_beyond_data",
        "gateway identity length exceeds notify data" },
    [IKE_E_REDIRECT_IPV4_LEN] = {
        "redirect_ipv4_len", "IPv4 gateway identity is not 4 octets" },
    [IKE_E_REDIRECT_IPV6_LEN] = {
        "redirect_ipv6_len", "IPv6 gateway identity is not 16 octets" },
    [IKE_E_REDIRECT_FQDN_EMPTY] = {
        "redirect_fqdn_empty", "FQDN gateway identity is empty" },
    [IKE_E_REDIRECT_FQDN_CHAR] = {
        "redirect_fqdn_char",
        "FQDN gateway identity contains an invalid character" },
    [IKE_E_REDIRECT_FQDN_LABEL] = {
        "redirect_fqdn_label",
        "FQDN label is empty, longer than 63 or starts or ends with '-'" },
    [IKE_E_REDIRECT_NONCE_MISSING] = {
        "redirect_nonce_missing", "redirect in IKE_SA_INIT carries no nonce" },
    [IKE_E_REDIRECT_TRAILING_OCTETS] = {
        "redirect_trailing_octets", "octets after the gateway identity" },
    [IKE_E_NATD_LEN] = {
        "natd_len", "NAT detection data is not 20 octets" },
};

const char *
ike_error_name(int code)
{
    if (code < 0 || code >= IKE_E_CODE_LIMIT ||
        ike_error_texts[code].name == NULL)
        return "unknown";
    return ike_error_texts[code].name;
}

const char *
ike_error_describe(int code)
{
    if (code < 0 || code >= IKE_E_CODE_LIMIT ||
        ike_error_texts[code].description == NULL)
        return "unknown error";
    return ike_error_texts[code].description;
}

int
ike_error_notify_type(int code)
{
    switch (code) {
    case IKE_E_OK:
        return 0;
    case IKE_E_HDR_TRUNCATED:
    case IKE_E_HDR_LEN_BEYOND_DATAGRAM:
    case IKE_E_HDR_LEN_TOO_SHORT:
        /* No usable header, so there is nothing to address a reply to. */
        return 0;
    case IKE_E_MAJOR_VERSION:
        return IKE_N_INVALID_MAJOR_VERSION;
    case IKE_E_UNSUPPORTED_CRITICAL:
        return IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD;
    default:
        return IKE_N_INVALID_SYNTAX;
    }
}

void
ike_error_set(struct ike_parse_error *err, int code, size_t offset,
    uint8_t payload)
{
    if (err == NULL)
        return;
    err->code = code;
    err->offset = offset;
    err->payload = payload;
}
