/*
 * Debug key log lines in Wireshark's ikev2_decryption_table format.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ike_const.h"
#include "keylog.h"

static const uint8_t spi_i[8] = { 0xa9, 0x79, 0x65, 0x50, 0xcd, 0xa4, 0x50,
    0xb8 };
static const uint8_t spi_r[8] = { 0xc3, 0x51, 0x4a, 0xfb, 0x71, 0x5c, 0xc2,
    0x15 };

/* Fills every key octet with its index plus `base`, so each key is known. */
static void
fill_keys(struct ike_sa_keys *k, uint16_t encr, uint16_t bits,
    uint16_t integ, uint8_t encr_len, uint8_t integ_len)
{
    memset(k, 0, sizeof(*k));
    k->suite.encr = encr;
    k->suite.encr_bits = bits;
    k->suite.integ = integ;
    k->encr_len = encr_len;
    k->integ_len = integ_len;
    for (int i = 0; i < IKE_KEYS_MAX_ENCR_LEN; i++) {
        k->sk_ei[i] = (uint8_t)(0x10 + i);
        k->sk_er[i] = (uint8_t)(0x80 + i);
    }
    for (int i = 0; i < IKE_KEYS_MAX_INTEG_LEN; i++) {
        k->sk_ai[i] = (uint8_t)(0x40 + i);
        k->sk_ar[i] = (uint8_t)(0xc0 + i);
    }
}

static void
hex(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

Test(agent_keylog, formats_gcm_line_without_integrity)
{
    struct ike_sa_keys k;
    char line[KEYLOG_LINE_MAX], ei[64], er[64], want[KEYLOG_LINE_MAX];
    int len;

    /* AES-GCM-128: 16 key octets and the 4-octet salt (RFC 5282 7.1). */
    fill_keys(&k, IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, 20, 0);
    hex(ei, k.sk_ei, 20);
    hex(er, k.sk_er, 20);
    snprintf(want, sizeof(want), "a9796550cda450b8,c3514afb715cc215,%s,%s,"
        "\"AES-GCM-128 with 16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\"\n",
        ei, er);
    len = keylog_format(line, sizeof(line), spi_i, spi_r, &k);
    cr_assert_eq(len, (int)strlen(want));
    cr_assert_str_eq(line, want);
}

Test(agent_keylog, formats_cbc_line_with_integrity_keys)
{
    struct ike_sa_keys k;
    char line[KEYLOG_LINE_MAX], ei[80], er[80], ai[80], ar[80];
    char want[KEYLOG_LINE_MAX];

    fill_keys(&k, IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, 32,
        32);
    hex(ei, k.sk_ei, 32);
    hex(er, k.sk_er, 32);
    hex(ai, k.sk_ai, 32);
    hex(ar, k.sk_ar, 32);
    snprintf(want, sizeof(want), "a9796550cda450b8,c3514afb715cc215,%s,%s,"
        "\"AES-CBC-256 [RFC3602]\",%s,%s,\"HMAC_SHA2_256_128 [RFC4868]\"\n",
        ei, er, ai, ar);
    cr_assert_gt(keylog_format(line, sizeof(line), spi_i, spi_r, &k), 0);
    cr_assert_str_eq(line, want);
}

Test(agent_keylog, longest_suite_fits_line_max)
{
    struct ike_sa_keys k;
    char line[KEYLOG_LINE_MAX];

    fill_keys(&k, IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256, 32,
        IKE_KEYS_MAX_INTEG_LEN);
    cr_assert_gt(keylog_format(line, sizeof(line), spi_i, spi_r, &k), 0);
}

Test(agent_keylog, rejects_suite_without_wireshark_name)
{
    struct ike_sa_keys k;
    char line[KEYLOG_LINE_MAX];

    fill_keys(&k, IKE_ENCR_CHACHA20_POLY1305, 256, IKE_INTEG_NONE, 36, 0);
    cr_assert_eq(keylog_format(line, sizeof(line), spi_i, spi_r, &k),
        -ENOTSUP);
}

Test(agent_keylog, rejects_short_buffer_and_wipes_it)
{
    struct ike_sa_keys k;
    char line[40];

    fill_keys(&k, IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, 36, 0);
    cr_assert_eq(keylog_format(line, sizeof(line), spi_i, spi_r, &k),
        -ENOSPC);
    for (size_t i = 0; i < sizeof(line); i++)
        cr_assert_eq(line[i], 0, "octet %zu not wiped", i);
}

Test(agent_keylog, appends_one_line_per_sa_to_file)
{
    char path[] = "/tmp/test_agent_keylog.XXXXXX";
    int fd = mkstemp(path);
    struct keylog *kl;
    struct ike_sa_keys k;
    char buf[2 * KEYLOG_LINE_MAX] = "";
    FILE *fp;
    size_t n;
    int lines = 0;

    cr_assert_geq(fd, 0);
    close(fd);
    fill_keys(&k, IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, 20, 0);
    kl = keylog_open(path);
    cr_assert_not_null(kl);
    keylog_write(kl, spi_i, spi_r, &k);
    keylog_write(kl, spi_r, spi_i, &k);
    cr_assert_eq(keylog_errors(kl), 0);
    keylog_close(kl);
    fp = fopen(path, "r");
    cr_assert_not_null(fp);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    unlink(path);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        lines += buf[i] == '\n';
    cr_assert_eq(lines, 2);
    cr_assert_eq(strncmp(buf, "a9796550cda450b8,", 17), 0);
}
