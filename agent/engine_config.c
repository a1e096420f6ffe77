/*
 * Engine defaults and the proposal and key text formats.
 */
#include <errno.h>
#include <string.h>

#include "engine_config.h"
#include "ike_const.h"

void
engine_config_init(struct engine_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->local_id_type = IKE_ID_FQDN;
    cfg->half_open_timeout_ms = 30000;
    cfg->liveness_interval_ms = 30000;
    cfg->retransmit_base_ms = 2000;
    cfg->retransmit_tries = 5;
    cfg->redirect_grace_ms = 30000;
    cfg->auth_redirect_delete_ms = 30000;
    cfg->auth_redirect_delay_ms = 200;
    cfg->cookie_rotate_ms = 120000;
    cfg->cookie_threshold = 30;
    cfg->max_half_open = 4096;
    cfg->max_half_open_per_peer = 32;
    cfg->max_sas = 100000;
    cfg->client_redirect_max = 5;
    cfg->client_redirect_period_ms = 300000;
    cfg->reply_rate = 1000;
    cfg->reply_rate_per_peer = 100;
    cfg->auth_redirect = ENGINE_AUTH_REDIRECT_INFORMATIONAL;
    cfg->childless = true;
}

struct token {
    const char *name;
    uint8_t kind;               /* IKE_T_* */
    uint16_t id;
    uint16_t bits;              /* ENCR key length; INTEG: the PRF id */
};

static const struct token tokens[] = {
    { "aes128", IKE_T_ENCR, IKE_ENCR_AES_CBC, 128 },
    { "aes256", IKE_T_ENCR, IKE_ENCR_AES_CBC, 256 },
    { "aes128gcm16", IKE_T_ENCR, IKE_ENCR_AES_GCM_16, 128 },
    { "aes256gcm16", IKE_T_ENCR, IKE_ENCR_AES_GCM_16, 256 },
    { "sha256", IKE_T_INTEG, IKE_INTEG_HMAC_SHA2_256_128,
      IKE_PRF_HMAC_SHA2_256 },
    { "sha384", IKE_T_INTEG, IKE_INTEG_HMAC_SHA2_384_192,
      IKE_PRF_HMAC_SHA2_384 },
    { "sha512", IKE_T_INTEG, IKE_INTEG_HMAC_SHA2_512_256,
      IKE_PRF_HMAC_SHA2_512 },
    { "prfsha1", IKE_T_PRF, IKE_PRF_HMAC_SHA1, 0 },
    { "prfsha256", IKE_T_PRF, IKE_PRF_HMAC_SHA2_256, 0 },
    { "prfsha384", IKE_T_PRF, IKE_PRF_HMAC_SHA2_384, 0 },
    { "prfsha512", IKE_T_PRF, IKE_PRF_HMAC_SHA2_512, 0 },
    { "modp2048", IKE_T_DH, IKE_DH_MODP_2048, 0 },
    { "ecp256", IKE_T_DH, IKE_DH_ECP_256, 0 },
    { "ecp384", IKE_T_DH, IKE_DH_ECP_384, 0 },
    { "x25519", IKE_T_DH, IKE_DH_CURVE25519, 0 },
    { "curve25519", IKE_T_DH, IKE_DH_CURVE25519, 0 },
};

static const struct token *
token_find(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        if (strlen(tokens[i].name) == len &&
            memcmp(tokens[i].name, s, len) == 0)
            return &tokens[i];
    }
    return NULL;
}

/*
 * Splits text at '-' and fills the four transform slots; a slot that
 * stays 0xffff was not given.  Returns 0 or -EINVAL with *why set.
 */
static int
proposal_tokens(const char *text, uint16_t *encr, uint16_t *bits,
    uint16_t *integ, uint16_t *integ_prf, uint16_t *prf, uint16_t *dh,
    const char **why)
{
    const char *p = text;

    *encr = *integ = *prf = *dh = 0xffff;
    *bits = *integ_prf = 0;
    if (*p == '\0') {
        *why = "empty proposal";
        return -EINVAL;
    }
    while (*p != '\0') {
        const char *end = strchr(p, '-');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        const struct token *t = token_find(p, len);
        uint16_t *slot;

        if (t == NULL) {
            *why = "unknown algorithm; expected aes128, aes256, aes128gcm16,"
                " aes256gcm16, sha256, sha384, sha512, prfsha1-512,"
                " modp2048, ecp256, ecp384 or x25519";
            return -EINVAL;
        }
        slot = t->kind == IKE_T_ENCR ? encr : t->kind == IKE_T_INTEG ?
            integ : t->kind == IKE_T_PRF ? prf : dh;
        if (*slot != 0xffff) {
            *why = "two algorithms of the same kind";
            return -EINVAL;
        }
        *slot = t->id;
        if (t->kind == IKE_T_ENCR)
            *bits = t->bits;
        if (t->kind == IKE_T_INTEG)
            *integ_prf = t->bits;
        p += len;
        if (*p == '-')
            p++;
    }
    if (*encr == 0xffff) {
        *why = "no encryption algorithm";
        return -EINVAL;
    }
    return 0;
}

int
engine_config_parse_ike(const char *text, struct ike_suite *suite,
    const char **why)
{
    uint16_t encr, bits, integ, integ_prf, prf, dh;
    int ret;

    if ((ret = proposal_tokens(text, &encr, &bits, &integ, &integ_prf, &prf,
        &dh, why)) < 0)
        return ret;
    memset(suite, 0, sizeof(*suite));
    suite->encr = encr;
    suite->encr_bits = bits;
    if (encr == IKE_ENCR_AES_GCM_16) {
        if (integ != 0xffff) {
            *why = "AES-GCM takes no integrity algorithm";
            return -EINVAL;
        }
        suite->integ = IKE_INTEG_NONE;
    } else {
        if (integ == 0xffff) {
            *why = "AES-CBC needs an integrity algorithm";
            return -EINVAL;
        }
        suite->integ = integ;
    }
    if (prf == 0xffff)
        prf = integ_prf;
    if (prf == 0xffff || prf == 0) {
        *why = "no PRF; add prfsha256 or an integrity algorithm";
        return -EINVAL;
    }
    suite->prf = prf;
    if (dh == 0xffff) {
        *why = "no key exchange group";
        return -EINVAL;
    }
    suite->dh = dh;
    if (ike_keys_check_suite(suite) < 0) {
        *why = "combination not supported";
        return -EINVAL;
    }
    return 0;
}

int
engine_config_parse_esp(const char *text, struct engine_esp_proposal *prop,
    const char **why)
{
    uint16_t encr, bits, integ, integ_prf, prf, dh;
    int ret;

    if ((ret = proposal_tokens(text, &encr, &bits, &integ, &integ_prf, &prf,
        &dh, why)) < 0)
        return ret;
    memset(prop, 0, sizeof(*prop));
    if (prf != 0xffff) {
        *why = "ESP takes no PRF";
        return -EINVAL;
    }
    prop->suite.encr = encr;
    prop->suite.encr_bits = bits;
    if (encr == IKE_ENCR_AES_GCM_16) {
        if (integ != 0xffff) {
            *why = "AES-GCM takes no integrity algorithm";
            return -EINVAL;
        }
        prop->suite.integ = IKE_INTEG_NONE;
    } else {
        if (integ == 0xffff) {
            *why = "AES-CBC needs an integrity algorithm";
            return -EINVAL;
        }
        prop->suite.integ = integ;
    }
    prop->dh = dh == 0xffff ? 0 : dh;
    return 0;
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
engine_config_parse_psk(const char *text, uint8_t *key, size_t cap)
{
    size_t len = strlen(text);

    if (len == 0)
        return -EINVAL;
    if (len > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        size_t n = (len - 2) / 2;

        if ((len - 2) % 2 != 0)
            return -EINVAL;
        if (n > cap)
            return -ENOSPC;
        for (size_t i = 0; i < n; i++) {
            int hi = hex_value(text[2 + 2 * i]);
            int lo = hex_value(text[3 + 2 * i]);

            if (hi < 0 || lo < 0)
                return -EINVAL;
            key[i] = (uint8_t)(hi << 4 | lo);
        }
        return (int)n;
    }
    if (len > cap)
        return -ENOSPC;
    memcpy(key, text, len);
    return (int)len;
}
