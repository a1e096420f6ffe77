/*
 * Helpers shared by the IKE wire format tests: loading the captured
 * vectors in tests/data/vectors and converting hex text.
 *
 * Each NN-*.hex file contains the UDP payload of one datagram as hex text.
 * Vectors sent on port 4500 start with the 4-octet non-ESP marker.
 */
#ifndef IKESHIFT_TEST_IKE_VECTORS_H
#define IKESHIFT_TEST_IKE_VECTORS_H

#include <glob.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#define VEC_MAX_LEN     2048

static inline int
vec_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Decodes the hex digits of text into out, skipping whitespace.  Returns
 * the number of octets, or (size_t)-1 on a stray character, an odd digit
 * count or overflow of cap.
 */
static inline size_t
vec_unhex(const char *text, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int high = -1;

    for (const char *c = text; *c != '\0'; c++) {
        if (*c == ' ' || *c == '\n' || *c == '\r' || *c == '\t')
            continue;

        int v = vec_hex_digit(*c);

        if (v < 0)
            return (size_t)-1;
        if (high < 0) {
            high = v;
            continue;
        }
        if (n == cap)
            return (size_t)-1;
        out[n++] = (uint8_t)(high << 4 | v);
        high = -1;
    }
    return high < 0 ? n : (size_t)-1;
}

/*
 * Loads the vector whose file name starts with prefix ("01") and ends in
 * suffix (".hex") into out.  Fails the test if there is not exactly one
 * such file or it does not decode.
 */
static inline size_t
vec_load(const char *prefix, uint8_t *out, size_t cap)
{
    char pattern[512];
    glob_t g;

    snprintf(pattern, sizeof(pattern), "%s/vectors/%s-*.hex", TEST_DATA_DIR,
        prefix);
    cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no vector %s", pattern);
    cr_assert_eq(g.gl_pathc, 1, "vector %s is ambiguous", pattern);

    FILE *f = fopen(g.gl_pathv[0], "r");
    static char text[2 * VEC_MAX_LEN + 512];

    cr_assert_not_null(f, "cannot open %s", g.gl_pathv[0]);

    size_t got = fread(text, 1, sizeof(text) - 1, f);

    fclose(f);
    globfree(&g);
    text[got] = '\0';

    size_t n = vec_unhex(text, out, cap);

    cr_assert_neq(n, (size_t)-1, "vector %s is not hex", prefix);
    return n;
}

/* Returns 1 if data[0..len) equals the octets hex encodes. */
static inline int
vec_equal_hex(const uint8_t *data, size_t len, const char *hex)
{
    uint8_t want[VEC_MAX_LEN];
    size_t n = vec_unhex(hex, want, sizeof(want));

    return n == len && (len == 0 || memcmp(data, want, len) == 0);
}

#endif /* IKESHIFT_TEST_IKE_VECTORS_H */
