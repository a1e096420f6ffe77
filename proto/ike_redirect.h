/*
 * The RFC 5685 notifies: REDIRECT_SUPPORTED, REDIRECT and REDIRECTED_FROM.
 *
 * All three have Protocol ID 0 and SPI Size 0 (RFC 5685 9).  REDIRECT and
 * REDIRECTED_FROM carry a gateway identity: GW Ident Type (1 octet), GW
 * Ident Len (1 octet) and the identity.  A REDIRECT in an IKE_SA_INIT
 * response adds the initiator's Ni after the identity, while in IKE_AUTH and
 * INFORMATIONAL it ends with the identity (RFC 5685 9.2).  Parsers lend
 * pointers into the notify's buffer, and builders copy their arguments.
 */
#ifndef IKESHIFT_IKE_REDIRECT_H
#define IKESHIFT_IKE_REDIRECT_H

#include <stddef.h>
#include <stdint.h>

#include "ike_buf.h"
#include "ike_error.h"
#include "ike_payload.h"

#define IKE_REDIRECT_FQDN_LABEL_MAX 63      /* RFC 1035 2.3.4 */
#define IKE_REDIRECT_GW_TEXT_MAX    256     /* ike_redirect_gw_to_text() */

/* A gateway identity (RFC 5685 9.2). */
struct ike_redirect_gw {
    uint8_t type;           /* IKE_GW_IPV4, IKE_GW_IPV6 or IKE_GW_FQDN */
    const uint8_t *value;   /* 4 or 16 address octets, or FQDN text */
    size_t len;             /* 4, 16, or 1 to 255 for an FQDN */
};

/* A decoded REDIRECT. */
struct ike_redirect {
    struct ike_redirect_gw gw;
    const uint8_t *nonce;   /* echoed Ni in IKE_SA_INIT, else NULL */
    size_t nonce_len;
};

/* Where a REDIRECT was received, which decides whether a nonce follows. */
enum ike_redirect_context {
    /* IKE_SA_INIT response: identity, then Ni (16 to 256 octets). */
    IKE_REDIRECT_CTX_INIT_RESPONSE = 1,
    /* IKE_AUTH response or INFORMATIONAL request: identity only. */
    IKE_REDIRECT_CTX_PROTECTED = 2,
};

/*
 * Decodes a REDIRECT notify n received in ctx.  Returns 0 with *out set,
 * -EINVAL if n is not a REDIRECT (IKE_E_REDIRECT_NOTIFY_TYPE), or -EBADMSG
 * with err set.  The nonce is returned, not compared: the caller checks it
 * against the Ni it sent.
 */
int
ike_redirect_parse(const struct ike_notify *n, enum ike_redirect_context ctx,
    struct ike_redirect *out, struct ike_parse_error *err);

/*
 * Decodes a REDIRECTED_FROM notify n: the identity only, nothing after it.
 * Returns as ike_redirect_parse() does.
 */
int
ike_redirect_parse_from(const struct ike_notify *n,
    struct ike_redirect_gw *gw, struct ike_parse_error *err);

/*
 * Checks a REDIRECT_SUPPORTED notify n: Protocol ID 0, SPI Size 0, no data.
 * Returns as ike_redirect_parse() does.
 */
int
ike_redirect_parse_supported(const struct ike_notify *n,
    struct ike_parse_error *err);

/*
 * Checks that name[0..len) is a host name: labels of 1 to 63 letters,
 * digits and hyphens, separated by single dots, no label starting or ending
 * with a hyphen, no trailing dot.  Returns 0, or -EINVAL with err set
 * (offset counts from name).
 */
int
ike_redirect_check_fqdn(const uint8_t *name, size_t len,
    struct ike_parse_error *err);

/*
 * Checks that gw has a known type, the length its type needs and, for an
 * FQDN, a valid host name.  Returns 0, or -EINVAL with err set: offset 0
 * for a length error, the index of the first bad octet of an FQDN.
 */
int
ike_redirect_check_gw(const struct ike_redirect_gw *gw,
    struct ike_parse_error *err);

/*
 * Sets *gw from text: an IPv4 or IPv6 address literal becomes type 1 or 2
 * with its octets in storage (16 octets, caller-owned), anything else must
 * be a valid FQDN and gw->value then points into text.  Returns 0 or
 * -EINVAL.  text and storage must outlive gw.  Text that inet_pton()
 * accepts as IPv4, such as "198.51.100.3", becomes an IPv4 identity; other
 * digit-and-dot names ("198.051.100.3", "1.2.3") become FQDNs.
 */
int
ike_redirect_gw_from_text(struct ike_redirect_gw *gw, const char *text,
    uint8_t storage[16]);

/*
 * Writes gw as NUL-terminated text (dotted quad, RFC 5952 IPv6, or the
 * FQDN as is) into out[0..cap).  Returns 0, -EINVAL for an invalid gw, or
 * -ENOSPC if cap is too small (IKE_REDIRECT_GW_TEXT_MAX always suffices).
 */
int
ike_redirect_gw_to_text(const struct ike_redirect_gw *gw, char *out,
    size_t cap);

/* Appends N(REDIRECT_SUPPORTED), which has no data (RFC 5685 9.1). */
void
ike_redirect_build_supported(struct ike_writer *w);

/*
 * Appends N(REDIRECT) naming gw.  In an IKE_SA_INIT response pass the
 * request's Ni as nonce, elsewhere NULL and 0.  An invalid gw fails
 * the writer with -EINVAL.
 */
void
ike_redirect_build(struct ike_writer *w, const struct ike_redirect_gw *gw,
    const uint8_t *nonce, size_t nonce_len);

/* Appends N(REDIRECTED_FROM) naming gw (RFC 5685 9.3). */
void
ike_redirect_build_from(struct ike_writer *w,
    const struct ike_redirect_gw *gw);

#endif /* IKESHIFT_IKE_REDIRECT_H */
