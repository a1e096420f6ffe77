/*
 * Helpers shared by the crypto tests: hex text, the JSON known-answer
 * files in tests/data/kat, and the captured vectors in tests/data/vectors
 * (NN-*.hex datagrams, NN-*.keys Wireshark key lines, NN-*.txt tshark
 * decodes).  Every helper fails the running test on bad input.
 */
#ifndef IKESHIFT_TEST_CRYPTO_KAT_H
#define IKESHIFT_TEST_CRYPTO_KAT_H

#include <ctype.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#define KAT_MAX_MSG     4096

/* Decodes hex digits (either case, whitespace skipped) into out. */
static inline size_t
kat_unhex(const char *hex, uint8_t *out, size_t size)
{
    size_t n = 0;
    int high = -1;

    for (const char *c = hex; *c != '\0'; c++) {
        int v;

        if (isspace((unsigned char)*c))
            continue;
        cr_assert(isxdigit((unsigned char)*c), "bad hex digit '%c'", *c);
        v = isdigit((unsigned char)*c) ? *c - '0'
                                       : tolower((unsigned char)*c) - 'a' + 10;
        if (high < 0) {
            high = v;
            continue;
        }
        cr_assert_lt(n, size, "hex value longer than %zu octets", size);
        out[n++] = (uint8_t)(high << 4 | v);
        high = -1;
    }
    cr_assert_lt(high, 0, "odd number of hex digits");
    return n;
}

/* Loads TEST_DATA_DIR/<relpath> as JSON; release with json_decref(). */
static inline json_t *
kat_load_json(const char *relpath)
{
    char path[1024];
    json_error_t error;
    json_t *root;

    snprintf(path, sizeof(path), "%s/%s", TEST_DATA_DIR, relpath);
    root = json_load_file(path, 0, &error);
    cr_assert_not_null(root, "%s: %s", path, error.text);
    return root;
}

/* Decodes the hex string member `key` of obj into out. */
static inline size_t
kat_json_hex(json_t *obj, const char *key, uint8_t *out, size_t size)
{
    const char *hex = json_string_value(json_object_get(obj, key));

    cr_assert_not_null(hex, "missing hex field \"%s\"", key);
    return kat_unhex(hex, out, size);
}

/* Reads the vector file matching vectors/<num>-*.<ext>; free() it. */
static inline char *
kat_read_vector_file(const char *num, const char *ext)
{
    char pattern[1024];
    glob_t g;
    FILE *f;
    char *text;
    long len;

    snprintf(pattern, sizeof(pattern), "%s/vectors/%s-*.%s", TEST_DATA_DIR,
             num, ext);
    cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no file %s", pattern);
    cr_assert_eq(g.gl_pathc, 1, "%zu files match %s", g.gl_pathc, pattern);
    f = fopen(g.gl_pathv[0], "r");
    cr_assert_not_null(f, "cannot open %s", g.gl_pathv[0]);
    globfree(&g);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    cr_assert_geq(len, 0);
    rewind(f);
    text = malloc((size_t)len + 1);
    cr_assert_not_null(text);
    cr_assert_eq(fread(text, 1, (size_t)len, f), (size_t)len);
    text[len] = '\0';
    fclose(f);
    return text;
}

/*
 * Loads vector <num> as an IKE message: the datagram without the 4-octet
 * non-ESP marker of port 4500 (an IKE SPI is never zero, RFC 7296 3.1).
 */
static inline size_t
kat_read_message(const char *num, uint8_t *out, size_t size)
{
    uint8_t datagram[KAT_MAX_MSG];
    char *text = kat_read_vector_file(num, "hex");
    size_t len = kat_unhex(text, datagram, sizeof(datagram));
    size_t skip = 0;

    free(text);
    if (len >= 4 && memcmp(datagram, "\0\0\0\0", 4) == 0)
        skip = 4;
    cr_assert_leq(len - skip, size);
    memcpy(out, datagram + skip, len - skip);
    return len - skip;
}

/* One line of a vectors/NN-*.keys file: Wireshark's IKEv2 key table. */
struct kat_keys_line {
    uint8_t sk_ei[64], sk_er[64], sk_ai[64], sk_ar[64];
    size_t sk_e_len, sk_a_len;
};

/* Parses SPIi,SPIr,SK_ei,SK_er,"cipher",SK_ai,SK_ar,"integrity". */
static inline void
kat_read_keys(const char *num, struct kat_keys_line *k)
{
    char *text = kat_read_vector_file(num, "keys");
    char *fields[8];
    char *save = NULL;
    char *field = strtok_r(text, ",\n", &save);
    int n = 0;

    memset(k, 0, sizeof(*k));
    for (; field != NULL && n < 8; field = strtok_r(NULL, ",\n", &save))
        fields[n++] = field;
    /* strtok_r skips empty fields, so AEAD lines have 6 of them. */
    cr_assert(n == 8 || n == 6, "%d fields in %s.keys", n, num);
    k->sk_e_len = kat_unhex(fields[2], k->sk_ei, sizeof(k->sk_ei));
    cr_assert_eq(kat_unhex(fields[3], k->sk_er, sizeof(k->sk_er)),
                 k->sk_e_len);
    if (n == 8) {
        k->sk_a_len = kat_unhex(fields[5], k->sk_ai, sizeof(k->sk_ai));
        cr_assert_eq(kat_unhex(fields[6], k->sk_ar, sizeof(k->sk_ar)),
                     k->sk_a_len);
    }
    free(text);
}

/*
 * Lists the payload types that tshark decoded inside the encrypted
 * payload of vector <num>: every "Payload: <name> (<type>)" line after
 * "Decrypted Data".  Returns the count.
 */
static inline size_t
kat_txt_inner_types(const char *num, uint8_t *types, size_t max)
{
    char *text = kat_read_vector_file(num, "txt");
    char *inner = strstr(text, "Decrypted Data");
    size_t n = 0;

    cr_assert_not_null(inner, "%s.txt has no decrypted data", num);
    for (char *p = strstr(inner, "Payload: "); p != NULL;
         p = strstr(p + 1, "Payload: ")) {
        char *open = strchr(p, '(');
        char *eol = strchr(p, '\n');

        cr_assert_not_null(open);
        cr_assert(eol == NULL || open < eol, "no type on line in %s", num);
        cr_assert_lt(n, max);
        types[n++] = (uint8_t)strtoul(open + 1, NULL, 10);
    }
    free(text);
    return n;
}

/* Copies the hex value after the first `label` in vector <num>'s .txt. */
static inline size_t
kat_txt_hex_after(const char *num, const char *label, uint8_t *out,
                  size_t size)
{
    char *text = kat_read_vector_file(num, "txt");
    char *p = strstr(text, label);
    char value[1024];
    size_t n = 0;

    cr_assert_not_null(p, "%s.txt has no \"%s\"", num, label);
    p += strlen(label);
    while (*p == ' ')
        p++;
    while (isxdigit((unsigned char)*p) && n + 1 < sizeof(value))
        value[n++] = *p++;
    value[n] = '\0';
    free(text);
    return kat_unhex(value, out, size);
}

/* Copies the text after the first `label` in vector <num>'s .txt, to the
 * end of the line, into out. */
static inline void
kat_txt_text_after(const char *num, const char *label, char *out,
                   size_t size)
{
    char *text = kat_read_vector_file(num, "txt");
    char *p = strstr(text, label);
    size_t n = 0;

    cr_assert_not_null(p, "%s.txt has no \"%s\"", num, label);
    p += strlen(label);
    while (*p != '\n' && *p != '\0' && n + 1 < size)
        out[n++] = *p++;
    out[n] = '\0';
    free(text);
}

/* Walks an inner payload chain starting with type `first`; returns the
 * number of payloads and stores their types. */
static inline size_t
kat_chain_types(const uint8_t *plain, size_t len, uint8_t first,
                uint8_t *types, size_t max)
{
    size_t off = 0, n = 0;
    uint8_t type = first;

    while (type != 0) {
        size_t plen;

        cr_assert_leq(off + 4, len, "payload header beyond plaintext");
        plen = (size_t)plain[off + 2] << 8 | plain[off + 3];
        cr_assert_geq(plen, 4);
        cr_assert_leq(off + plen, len, "payload beyond plaintext");
        cr_assert_lt(n, max);
        types[n++] = type;
        type = plain[off];
        off += plen;
    }
    cr_assert_eq(off, len, "octets after the last inner payload");
    return n;
}

#endif /* IKESHIFT_TEST_CRYPTO_KAT_H */
