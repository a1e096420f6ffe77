/*
 * IKEv2 protocol numbers: exchange types, payload types, notify types and
 * transform IDs.  Values come from RFC 7296 section 3, RFC 5685 section 10
 * (redirect), RFC 7383 (fragmentation) and the IANA IKEv2 registry.
 */
#ifndef IKESHIFT_IKE_CONST_H
#define IKESHIFT_IKE_CONST_H

#define IKE_HDR_LEN             28      /* fixed IKE header, RFC 7296 3.1 */
#define IKE_PAYLOAD_HDR_LEN     4       /* generic payload header, 3.2 */
#define IKE_NON_ESP_MARKER_LEN  4       /* zero marker on port 4500, 2.23 */
#define IKE_VERSION_2           0x20    /* major 2, minor 0 */

/* Header flags (RFC 7296 3.1). */
#define IKE_FLAG_INITIATOR      0x08
#define IKE_FLAG_VERSION        0x10
#define IKE_FLAG_RESPONSE       0x20

/* Exchange types (RFC 7296 3.1). */
#define IKE_X_SA_INIT           34
#define IKE_X_AUTH              35
#define IKE_X_CREATE_CHILD_SA   36
#define IKE_X_INFORMATIONAL     37

/* Payload types (RFC 7296 3.2, RFC 7383 2.5). */
#define IKE_P_NONE              0
#define IKE_P_SA                33
#define IKE_P_KE                34
#define IKE_P_IDI               35
#define IKE_P_IDR               36
#define IKE_P_CERT              37
#define IKE_P_CERTREQ           38
#define IKE_P_AUTH              39
#define IKE_P_NONCE             40
#define IKE_P_NOTIFY            41
#define IKE_P_DELETE            42
#define IKE_P_VENDOR            43
#define IKE_P_TSI               44
#define IKE_P_TSR               45
#define IKE_P_SK                46
#define IKE_P_CP                47
#define IKE_P_EAP               48
#define IKE_P_SKF               53

/* Notify error types (RFC 7296 3.10.1). */
#define IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD  1
#define IKE_N_INVALID_IKE_SPI               4
#define IKE_N_INVALID_MAJOR_VERSION         5
#define IKE_N_INVALID_SYNTAX                7
#define IKE_N_INVALID_MESSAGE_ID            9
#define IKE_N_INVALID_SPI                   11
#define IKE_N_NO_PROPOSAL_CHOSEN            14
#define IKE_N_INVALID_KE_PAYLOAD            17
#define IKE_N_AUTHENTICATION_FAILED         24
#define IKE_N_SINGLE_PAIR_REQUIRED          34
#define IKE_N_NO_ADDITIONAL_SAS             35
#define IKE_N_INTERNAL_ADDRESS_FAILURE      36
#define IKE_N_FAILED_CP_REQUIRED            37
#define IKE_N_TS_UNACCEPTABLE               38
#define IKE_N_INVALID_SELECTORS             39
#define IKE_N_TEMPORARY_FAILURE             43
#define IKE_N_CHILD_SA_NOT_FOUND            44

/* Notify status types (RFC 7296 3.10.1, RFC 4555, RFC 5685, RFC 7383). */
#define IKE_N_INITIAL_CONTACT               16384
#define IKE_N_SET_WINDOW_SIZE               16385
#define IKE_N_ADDITIONAL_TS_POSSIBLE        16386
#define IKE_N_IPCOMP_SUPPORTED              16387
#define IKE_N_NAT_DETECTION_SOURCE_IP       16388
#define IKE_N_NAT_DETECTION_DESTINATION_IP  16389
#define IKE_N_COOKIE                        16390
#define IKE_N_USE_TRANSPORT_MODE            16391
#define IKE_N_REKEY_SA                      16393
#define IKE_N_ESP_TFC_PADDING_NOT_SUPPORTED 16394
#define IKE_N_NON_FIRST_FRAGMENTS_ALSO      16395
#define IKE_N_MOBIKE_SUPPORTED              16396
#define IKE_N_ADDITIONAL_IP4_ADDRESS        16397
#define IKE_N_ADDITIONAL_IP6_ADDRESS        16398
#define IKE_N_MULTIPLE_AUTH_SUPPORTED       16404
#define IKE_N_ANOTHER_AUTH_FOLLOWS          16405
#define IKE_N_REDIRECT_SUPPORTED            16406
#define IKE_N_REDIRECT                      16407
#define IKE_N_REDIRECTED_FROM               16408
#define IKE_N_EAP_ONLY_AUTHENTICATION       16417
#define IKE_N_CHILDLESS_IKEV2_SUPPORTED     16418
#define IKE_N_IKEV2_MESSAGE_ID_SYNC_SUPPORTED 16420
#define IKE_N_IKEV2_FRAGMENTATION_SUPPORTED 16430
#define IKE_N_SIGNATURE_HASH_ALGORITHMS     16431

/* Protocol IDs in proposals, notifies and deletes (RFC 7296 3.3.1). */
#define IKE_PROTO_IKE           1
#define IKE_PROTO_AH            2
#define IKE_PROTO_ESP           3

/* Transform types (RFC 7296 3.3.2). */
#define IKE_T_ENCR              1
#define IKE_T_PRF               2
#define IKE_T_INTEG             3
#define IKE_T_DH                4
#define IKE_T_ESN               5

/* Encryption algorithm IDs (RFC 7296 3.3.2, RFC 5282). */
#define IKE_ENCR_AES_CBC        12
#define IKE_ENCR_AES_GCM_8      18
#define IKE_ENCR_AES_GCM_12     19
#define IKE_ENCR_AES_GCM_16     20
#define IKE_ENCR_CHACHA20_POLY1305 28

/* PRF IDs. */
#define IKE_PRF_HMAC_SHA1       2
#define IKE_PRF_HMAC_SHA2_256   5
#define IKE_PRF_HMAC_SHA2_384   6
#define IKE_PRF_HMAC_SHA2_512   7

/* Integrity algorithm IDs (RFC 4868 for the SHA-2 ones). */
#define IKE_INTEG_NONE          0
#define IKE_INTEG_HMAC_SHA1_96  2
#define IKE_INTEG_HMAC_SHA2_256_128 12
#define IKE_INTEG_HMAC_SHA2_384_192 13
#define IKE_INTEG_HMAC_SHA2_512_256 14

/* Key exchange groups. */
#define IKE_DH_MODP_2048        14
#define IKE_DH_ECP_256          19
#define IKE_DH_ECP_384          20
#define IKE_DH_ECP_521          21
#define IKE_DH_CURVE25519       31
#define IKE_DH_CURVE448         32

/* Extended sequence numbers (ESP). */
#define IKE_ESN_NO              0
#define IKE_ESN_YES             1

/* Transform attribute: key length in bits, always TV format (3.3.5). */
#define IKE_ATTR_KEY_LENGTH     14
#define IKE_ATTR_AF_TV          0x8000

/* Identification types (RFC 7296 3.5). */
#define IKE_ID_IPV4_ADDR        1
#define IKE_ID_FQDN             2
#define IKE_ID_RFC822_ADDR      3
#define IKE_ID_IPV6_ADDR        5
#define IKE_ID_DER_ASN1_DN      9
#define IKE_ID_DER_ASN1_GN      10
#define IKE_ID_KEY_ID           11

/* Authentication methods (RFC 7296 3.8, RFC 7427). */
#define IKE_AUTH_RSA_SIG        1
#define IKE_AUTH_SHARED_KEY_MIC 2
#define IKE_AUTH_DSS_SIG        3
#define IKE_AUTH_DIGITAL_SIGNATURE 14

/* Traffic selector types (RFC 7296 3.13.1). */
#define IKE_TS_IPV4_ADDR_RANGE  7
#define IKE_TS_IPV6_ADDR_RANGE  8

/* Configuration payload types and attributes (RFC 7296 3.15). */
#define IKE_CFG_REQUEST         1
#define IKE_CFG_REPLY           2
#define IKE_CFG_SET             3
#define IKE_CFG_ACK             4
#define IKE_CA_INTERNAL_IP4_ADDRESS 1
#define IKE_CA_INTERNAL_IP4_NETMASK 2
#define IKE_CA_INTERNAL_IP4_DNS     3
#define IKE_CA_INTERNAL_IP4_NBNS    4
#define IKE_CA_INTERNAL_IP4_DHCP    6
#define IKE_CA_APPLICATION_VERSION  7
#define IKE_CA_INTERNAL_IP6_ADDRESS 8
#define IKE_CA_INTERNAL_IP6_DNS     10
#define IKE_CA_INTERNAL_IP4_SUBNET  13
#define IKE_CA_SUPPORTED_ATTRIBUTES 14
#define IKE_CA_INTERNAL_IP6_SUBNET  15

/* RFC 5685 9.2: gateway identity types in REDIRECT and REDIRECTED_FROM. */
#define IKE_GW_IPV4             1
#define IKE_GW_IPV6             2
#define IKE_GW_FQDN             3

#endif /* IKESHIFT_IKE_CONST_H */
