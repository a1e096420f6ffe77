/*
 * The Encrypted payload SK (RFC 7296 3.14) and the Encrypted Fragment
 * payload SKF (RFC 7383 2.5), sealed and opened with the keys of an IKE
 * SA (ike_keys.h).  Supported: AES-CBC-128/256 with HMAC-SHA2-256-128,
 * -384-192 or -512-256, and AES-GCM with a 16-octet ICV and a 128- or
 * 256-bit key (RFC 5282).
 *
 *   SK:  Next Payload | C | RESERVED | Payload Length | IV | ciphertext | ICV
 *   SKF: the same with Fragment Number (2) | Total Fragments (2) after the
 *        Payload Length, so its header is 8 octets.
 *
 * The ciphertext is inner payloads | padding | Pad Length (1).  AES-CBC
 * uses a 16-octet random IV and pads to 16 octets; its ICV is the
 * truncated HMAC over the IKE header through the ciphertext.  AES-GCM uses
 * an 8-octet IV from the gcm_iv_next counter in struct ike_sa_keys, the
 * nonce salt | IV (RFC 5282 4) and the IKE header through the SK or SKF
 * header as AAD (RFC 5282 5.1).  Every function works on caller buffers.
 *
 * Errors returned by ike_sk_open() and ike_sk_open_fragment():
 *   -EINVAL   sk_off does not leave room for the SK or SKF header, or (after
 *             the ICV has verified) a length field disagrees with msg_len
 *             or the fragment numbers are invalid
 *   -ENODATA  the payload is too short to hold the IV, the ICV and one octet
 *   -ENOBUFS  the plaintext buffer is smaller than the ciphertext
 *   -EBADMSG  the ICV does not verify
 *   -EPROTO   AES-CBC ciphertext that is not a whole number of blocks
 *   -ERANGE   the Pad Length octet points before the plaintext
 *   -ENOTSUP  the keys' suite is not supported
 *   -ENOMEM   OpenSSL failed
 * Nothing taken from the ciphertext is used until the ICV has verified.
 */
#ifndef IKESHIFT_IKE_SK_H
#define IKESHIFT_IKE_SK_H

#include <stddef.h>
#include <stdint.h>

#include "ike_keys.h"

#define IKE_SK_HDR_LEN          4   /* generic payload header */
#define IKE_SKF_HDR_LEN         8   /* plus Fragment Number, Total Fragments */
#define IKE_SK_GCM_NONCE_LEN    12  /* salt (4) | IV (8), RFC 5282 4 */
#define IKE_SK_GCM_ICV_LEN      16

/* Original role of the sender, which selects SK_ei/SK_ai or SK_er/SK_ar
 * no matter which side started the exchange (RFC 7296 2.14). */
enum ike_sk_dir {
    IKE_SK_FROM_INITIATOR,
    IKE_SK_FROM_RESPONDER,
};

/* Fields of an SKF header (RFC 7383 2.5). */
struct ike_skf_info {
    uint8_t next_payload;   /* first inner payload type in fragment 1, else 0 */
    uint16_t number;        /* Fragment Number, 1 to total */
    uint16_t total;         /* Total Fragments */
};

/*
 * Returns the length of an SK payload that carries plain_len octets of
 * inner payloads with keys' suite, header to ICV, or 0 when the suite is
 * not supported.  Add IKE_SKF_HDR_LEN - IKE_SK_HDR_LEN for SKF.
 */
size_t
ike_sk_payload_len(const struct ike_sa_keys *keys, size_t plain_len);

/*
 * Appends an SK payload that encrypts plain[0..plain_len) to the message
 * in msg[0..msg_len): the IKE header and any payloads before SK, written
 * by the caller, who has also set the Next Payload field that precedes SK
 * to IKE_P_SK.  Writes the SK header with next_payload as the first inner
 * payload type, sets the SK Payload Length and the IKE header Length
 * (offset 24), then encrypts and adds the ICV.  plain may lie inside msg
 * at the ciphertext position.  msg_size is the capacity of msg; *out_len
 * receives the new message length.  An AES-GCM seal advances
 * keys->gcm_iv_next.  Returns 0, -EINVAL for msg_len < 28, -EMSGSIZE
 * when the payload would exceed 65535 octets or the message 2^32 - 1,
 * -ENOBUFS when msg_size is too small, -EOVERFLOW when the GCM IV counter
 * is exhausted, -ENOTSUP, -ENOMEM.  When encryption fails after the copy
 * into msg, the copied plaintext is wiped.
 */
int
ike_sk_seal(struct ike_sa_keys *keys, enum ike_sk_dir dir,
            uint8_t next_payload, const uint8_t *plain, size_t plain_len,
            uint8_t *msg, size_t msg_len, size_t msg_size, size_t *out_len);

/*
 * Same as ike_sk_seal() for one SKF fragment with the header fields in
 * *info (RFC 7383 2.5).  Returns -EINVAL when info->number is 0 or above
 * info->total, else as ike_sk_seal().
 */
int
ike_sk_seal_fragment(struct ike_sa_keys *keys, enum ike_sk_dir dir,
                     const struct ike_skf_info *info,
                     const uint8_t *plain, size_t plain_len,
                     uint8_t *msg, size_t msg_len, size_t msg_size,
                     size_t *out_len);

/*
 * Opens the SK payload at msg + sk_off of the message msg[0..msg_len),
 * which starts with the IKE header (no non-ESP marker) and ends with the
 * SK payload, as RFC 7296 3.14 requires.  The ICV is the last octets of
 * msg and is checked in constant time before anything else.  On success
 * plain receives the inner payloads without padding, *plain_len their
 * length and *next_payload the first inner payload type (the SK header's
 * Next Payload).  plain must not overlap msg, and plain_size must be at
 * least the ciphertext length (msg_len - sk_off is always enough).  On
 * failure, whatever was decrypted into plain is wiped.
 * Returns 0 or an error listed at the top of this header.
 */
int
ike_sk_open(const struct ike_sa_keys *keys, enum ike_sk_dir dir,
            const uint8_t *msg, size_t msg_len, size_t sk_off,
            uint8_t *plain, size_t plain_size, size_t *plain_len,
            uint8_t *next_payload);

/*
 * Same as ike_sk_open() for an SKF payload at sk_off.  Its 8-octet header
 * is covered by the ICV or AAD (RFC 7383 2.5), and its fields are returned
 * in *info.  Returns as ike_sk_open().
 */
int
ike_sk_open_fragment(const struct ike_sa_keys *keys, enum ike_sk_dir dir,
                     const uint8_t *msg, size_t msg_len, size_t sk_off,
                     uint8_t *plain, size_t plain_size, size_t *plain_len,
                     struct ike_skf_info *info);

/*
 * AES-GCM with a 16-octet tag, the primitive under SK sealing: encrypts
 * in[0..len) into out (which may equal in) with a 12-octet nonce and aad,
 * and writes the tag.  key_len is 16 or 32.  Returns 0, -EINVAL or
 * -ENOMEM.
 */
int
ike_sk_gcm_encrypt(const uint8_t *key, size_t key_len,
                   const uint8_t nonce[IKE_SK_GCM_NONCE_LEN],
                   const uint8_t *aad, size_t aad_len,
                   const uint8_t *in, size_t len, uint8_t *out,
                   uint8_t tag[IKE_SK_GCM_ICV_LEN]);

/*
 * Decrypts and verifies what ike_sk_gcm_encrypt() made.  Returns 0,
 * -EBADMSG when the tag does not verify (out is then wiped), -EINVAL or
 * -ENOMEM.
 */
int
ike_sk_gcm_decrypt(const uint8_t *key, size_t key_len,
                   const uint8_t nonce[IKE_SK_GCM_NONCE_LEN],
                   const uint8_t *aad, size_t aad_len,
                   const uint8_t *in, size_t len, uint8_t *out,
                   const uint8_t tag[IKE_SK_GCM_ICV_LEN]);

#endif /* IKESHIFT_IKE_SK_H */
