/*
 * Debug key log in Wireshark's IKEv2 decryption table format.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ike_const.h"
#include "keylog.h"

struct keylog {
    int fd;
    unsigned long errors;
};

/* Wireshark's names for the encryption transforms it can decrypt; the
 * key length tells AES-128 from AES-256 (with the 4-octet GCM salt). */
static const char *
cipher_name(const struct ike_suite *s)
{
    if (s->encr == IKE_ENCR_AES_CBC && s->encr_bits == 128)
        return "AES-CBC-128 [RFC3602]";
    if (s->encr == IKE_ENCR_AES_CBC && s->encr_bits == 256)
        return "AES-CBC-256 [RFC3602]";
    if (s->encr == IKE_ENCR_AES_GCM_16 && s->encr_bits == 128)
        return "AES-GCM-128 with 16 octet ICV [RFC5282]";
    if (s->encr == IKE_ENCR_AES_GCM_16 && s->encr_bits == 256)
        return "AES-GCM-256 with 16 octet ICV [RFC5282]";
    return NULL;
}

static const char *
integ_name(uint16_t integ)
{
    switch (integ) {
    case IKE_INTEG_NONE:
        return "NONE [RFC4306]";
    case IKE_INTEG_HMAC_SHA2_256_128:
        return "HMAC_SHA2_256_128 [RFC4868]";
    case IKE_INTEG_HMAC_SHA2_384_192:
        return "HMAC_SHA2_384_192 [RFC4868]";
    case IKE_INTEG_HMAC_SHA2_512_256:
        return "HMAC_SHA2_512_256 [RFC4868]";
    default:
        return NULL;
    }
}

/* Appends len octets as lower-case hex at *pos; false when out is full. */
static bool
put_hex(char *out, size_t cap, size_t *pos, const uint8_t *p, size_t len)
{
    static const char digits[] = "0123456789abcdef";

    if (cap - *pos <= 2 * len)
        return false;
    for (size_t i = 0; i < len; i++) {
        out[(*pos)++] = digits[p[i] >> 4];
        out[(*pos)++] = digits[p[i] & 15];
    }
    out[*pos] = '\0';
    return true;
}

static bool
put_text(char *out, size_t cap, size_t *pos, const char *text)
{
    size_t len = strlen(text);

    if (cap - *pos <= len)
        return false;
    memcpy(out + *pos, text, len + 1);
    *pos += len;
    return true;
}

int
keylog_format(char *out, size_t cap, const uint8_t *spi_i,
    const uint8_t *spi_r, const struct ike_sa_keys *keys)
{
    const char *cipher = cipher_name(&keys->suite);
    const char *integ = integ_name(keys->suite.integ);
    size_t pos = 0;
    bool ok;

    if (cipher == NULL || integ == NULL)
        return -ENOTSUP;
    if (cap == 0)
        return -ENOSPC;
    out[0] = '\0';
    ok = put_hex(out, cap, &pos, spi_i, 8) &&
        put_text(out, cap, &pos, ",") &&
        put_hex(out, cap, &pos, spi_r, 8) &&
        put_text(out, cap, &pos, ",") &&
        put_hex(out, cap, &pos, keys->sk_ei, keys->encr_len) &&
        put_text(out, cap, &pos, ",") &&
        put_hex(out, cap, &pos, keys->sk_er, keys->encr_len) &&
        put_text(out, cap, &pos, ",\"") &&
        put_text(out, cap, &pos, cipher) &&
        put_text(out, cap, &pos, "\",") &&
        put_hex(out, cap, &pos, keys->sk_ai, keys->integ_len) &&
        put_text(out, cap, &pos, ",") &&
        put_hex(out, cap, &pos, keys->sk_ar, keys->integ_len) &&
        put_text(out, cap, &pos, ",\"") &&
        put_text(out, cap, &pos, integ) &&
        put_text(out, cap, &pos, "\"\n");
    if (!ok) {
        OPENSSL_cleanse(out, cap);
        return -ENOSPC;
    }
    return (int)pos;
}

struct keylog *
keylog_open(const char *path)
{
    struct keylog *kl = calloc(1, sizeof(*kl));

    if (kl == NULL)
        return NULL;
    kl->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (kl->fd < 0) {
        int saved = errno;

        free(kl);
        errno = saved;
        return NULL;
    }
    return kl;
}

void
keylog_close(struct keylog *kl)
{
    if (kl == NULL)
        return;
    close(kl->fd);
    free(kl);
}

void
keylog_write(void *arg, const uint8_t *spi_i, const uint8_t *spi_r,
    const struct ike_sa_keys *keys)
{
    struct keylog *kl = arg;
    char line[KEYLOG_LINE_MAX];
    int len = keylog_format(line, sizeof(line), spi_i, spi_r, keys);

    /* O_APPEND and one write() per line keep lines whole even when a test
     * reads the file while the agent writes it. */
    if (len < 0 || write(kl->fd, line, (size_t)len) != len)
        kl->errors++;
    OPENSSL_cleanse(line, sizeof(line));
}

unsigned long
keylog_errors(const struct keylog *kl)
{
    return kl->errors;
}
