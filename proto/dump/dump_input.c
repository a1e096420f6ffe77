/*
 * Input side of ikeshift-dump: datagrams in hex or raw form, and keys in
 * the line format of Wireshark's IKEv2 decryption table.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "dump_input.h"
#include "ike_const.h"

static int
hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Returns 1 when buf holds only hex digits and white space. */
static int
is_hex_text(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isspace(buf[i]) && hex_value(buf[i]) < 0)
            return 0;
    return 1;
}

/* Decodes hex digits into out, skipping white space.  Returns the number
 * of octets, -1 for an odd number of digits, -2 when out is too small. */
static long
decode_hex(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int high = -1;

    for (size_t i = 0; i < len; i++) {
        int v = hex_value(in[i]);

        if (v < 0)
            continue;
        if (high < 0) {
            high = v;
            continue;
        }
        if (n == cap)
            return -2;
        out[n++] = (uint8_t)(high << 4 | v);
        high = -1;
    }
    return high < 0 ? (long)n : -1;
}

int
dump_read_datagram(const char *path, uint8_t *buf, size_t cap, size_t *len,
    char *errbuf, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    uint8_t *text = NULL;
    size_t n;
    long decoded;
    int ret = -1;

    if (f == NULL) {
        snprintf(errbuf, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if ((text = malloc(DUMP_MAX_INPUT + 1)) == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        goto out;
    }
    n = fread(text, 1, DUMP_MAX_INPUT + 1, f);
    if (ferror(f)) {
        snprintf(errbuf, errlen, "cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    if (n > DUMP_MAX_INPUT) {
        snprintf(errbuf, errlen, "%s: input is larger than %d octets", path,
            DUMP_MAX_INPUT);
        goto out;
    }
    if (is_hex_text(text, n)) {
        decoded = decode_hex(text, n, buf, cap);
        if (decoded == -1) {
            snprintf(errbuf, errlen, "%s: odd number of hex digits", path);
            goto out;
        }
        if (decoded == -2) {
            snprintf(errbuf, errlen, "%s: hex input decodes to more than "
                "%zu octets", path, cap);
            goto out;
        }
        n = (size_t)decoded;
    } else if (n > cap) {
        snprintf(errbuf, errlen, "%s: input is larger than %zu octets",
            path, cap);
        goto out;
    } else {
        memcpy(buf, text, n);
    }
    if (n == 0) {
        snprintf(errbuf, errlen, "%s: empty input", path);
        goto out;
    }
    *len = n;
    ret = 0;
out:
    free(text);
    if (f != stdin)
        fclose(f);
    return ret;
}

/* Splits the next comma-separated field of *cursor into out, dropping the
 * quotes around it. */
static int
next_field(const char **cursor, char *out, size_t cap)
{
    const char *p = *cursor;
    size_t n = 0;
    int quoted = 0;

    if (p == NULL)
        return -1;
    while (*p == ' ')
        p++;
    if (*p == '"') {
        quoted = 1;
        p++;
    }
    while (*p != '\0' && *p != '\n' && *p != '\r' &&
        (quoted ? *p != '"' : *p != ',')) {
        if (n + 1 >= cap)
            return -1;
        out[n++] = *p++;
    }
    out[n] = '\0';
    if (quoted) {
        if (*p != '"')
            return -1;
        p++;
    }
    *cursor = *p == ',' ? p + 1 : NULL;
    return 0;
}

static int
parse_hex_field(const char *text, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(text);

    if (n % 2 != 0 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_value((unsigned char)text[2 * i]);
        int lo = hex_value((unsigned char)text[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return 0;
}

struct cipher_name {
    const char *name;
    uint16_t encr;
    uint16_t bits;
};

/* The names Wireshark 4.0 shows in its IKEv2 decryption table. */
static const struct cipher_name ciphers[] = {
    { "AES-CBC-128 [RFC3602]", IKE_ENCR_AES_CBC, 128 },
    { "AES-CBC-256 [RFC3602]", IKE_ENCR_AES_CBC, 256 },
    { "AES-GCM-128 with 16 octet ICV [RFC5282]", IKE_ENCR_AES_GCM_16, 128 },
    { "AES-GCM-256 with 16 octet ICV [RFC5282]", IKE_ENCR_AES_GCM_16, 256 },
};

struct integ_name {
    const char *name;
    uint16_t integ;
    uint8_t key_len;
};

static const struct integ_name integs[] = {
    { "NONE [RFC4306]", IKE_INTEG_NONE, 0 },
    { "HMAC_SHA2_256_128 [RFC4868]", IKE_INTEG_HMAC_SHA2_256_128, 32 },
    { "HMAC_SHA2_384_192 [RFC4868]", IKE_INTEG_HMAC_SHA2_384_192, 48 },
    { "HMAC_SHA2_512_256 [RFC4868]", IKE_INTEG_HMAC_SHA2_512_256, 64 },
};

static int
fail(char *errbuf, size_t errlen, const char *field)
{
    snprintf(errbuf, errlen, "keys: invalid or missing field %s", field);
    return -1;
}

int
dump_parse_keys(const char *line, struct dump_keys *keys, char *errbuf,
    size_t errlen)
{
    static const char *const names[] = {
        "SPIi", "SPIr", "SK_ei", "SK_er", "cipher", "SK_ai", "SK_ar",
        "integrity",
    };
    char field[8][160];
    const char *cursor = line;
    const struct cipher_name *cipher = NULL;
    const struct integ_name *integ = NULL;
    size_t n, ei_len, er_len, ai_len, ar_len;

    memset(keys, 0, sizeof(*keys));
    for (size_t i = 0; i < 8; i++)
        if (next_field(&cursor, field[i], sizeof(field[i])) < 0)
            return fail(errbuf, errlen, names[i]);
    if (parse_hex_field(field[0], keys->spi_i, 8, &n) < 0 || n != 8)
        return fail(errbuf, errlen, names[0]);
    if (parse_hex_field(field[1], keys->spi_r, 8, &n) < 0 || n != 8)
        return fail(errbuf, errlen, names[1]);
    for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
        if (strcmp(field[4], ciphers[i].name) == 0)
            cipher = &ciphers[i];
    if (cipher == NULL)
        return fail(errbuf, errlen, names[4]);
    for (size_t i = 0; i < sizeof(integs) / sizeof(integs[0]); i++)
        if (strcmp(field[7], integs[i].name) == 0)
            integ = &integs[i];
    if (integ == NULL ||
        (cipher->encr == IKE_ENCR_AES_GCM_16) !=
        (integ->integ == IKE_INTEG_NONE))
        return fail(errbuf, errlen, names[7]);

    keys->sa.suite.encr = cipher->encr;
    keys->sa.suite.encr_bits = cipher->bits;
    keys->sa.suite.integ = integ->integ;
    keys->sa.suite.prf = IKE_PRF_HMAC_SHA2_256;
    keys->sa.encr_len = (uint8_t)(cipher->bits / 8 +
        (cipher->encr == IKE_ENCR_AES_GCM_16 ? IKE_KEYS_SALT_LEN : 0));
    keys->sa.integ_len = integ->key_len;
    if (parse_hex_field(field[2], keys->sa.sk_ei, sizeof(keys->sa.sk_ei),
        &ei_len) < 0 || ei_len != keys->sa.encr_len)
        return fail(errbuf, errlen, names[2]);
    if (parse_hex_field(field[3], keys->sa.sk_er, sizeof(keys->sa.sk_er),
        &er_len) < 0 || er_len != keys->sa.encr_len)
        return fail(errbuf, errlen, names[3]);
    if (parse_hex_field(field[5], keys->sa.sk_ai, sizeof(keys->sa.sk_ai),
        &ai_len) < 0 || ai_len != keys->sa.integ_len)
        return fail(errbuf, errlen, names[5]);
    if (parse_hex_field(field[6], keys->sa.sk_ar, sizeof(keys->sa.sk_ar),
        &ar_len) < 0 || ar_len != keys->sa.integ_len)
        return fail(errbuf, errlen, names[6]);
    return 0;
}

int
dump_read_keys(const char *path, struct dump_keys *keys, char *errbuf,
    size_t errlen)
{
    char line[1024];
    FILE *f = fopen(path, "r");
    int ret;

    if (f == NULL) {
        snprintf(errbuf, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fgets(line, sizeof(line), f) == NULL) {
        fclose(f);
        snprintf(errbuf, errlen, "%s: empty keys file", path);
        return -1;
    }
    fclose(f);
    ret = dump_parse_keys(line, keys, errbuf, errlen);
    OPENSSL_cleanse(line, sizeof(line));
    return ret;
}
