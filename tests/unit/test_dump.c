/*
 * ikeshift-dump against tshark: both decode every captured vector, and
 * they must agree on the exchange type, SPIs, payload order, notify types
 * and REDIRECT contents.  tshark (Wireshark 4.0) is the independent decoder.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TSHARK_FIELDS \
    "-e isakmp.ispi -e isakmp.rspi -e isakmp.exchangetype " \
    "-e isakmp.typepayload -e isakmp.notify.msgtype " \
    "-e isakmp.notify.data.redirect.gw_ident.type " \
    "-e isakmp.notify.data.redirect.new_resp_gw_ident.ipv4 " \
    "-e isakmp.notify.data.redirect.new_resp_gw_ident.ipv6 " \
    "-e isakmp.notify.data.redirect.new_resp_gw_ident.fqdn " \
    "-e isakmp.notify.data.redirect.org_resp_gw_ident.ipv4 " \
    "-e isakmp.notify.data.redirect.org_resp_gw_ident.ipv6 " \
    "-e isakmp.notify.data.redirect.nonce_data"

enum tshark_col {
    COL_ISPI, COL_RSPI, COL_EXCH, COL_PAYLOADS, COL_NOTIFIES, COL_GW_TYPE,
    COL_NEW_V4, COL_NEW_V6, COL_NEW_FQDN, COL_ORG_V4, COL_ORG_V6, COL_NONCE,
    COL_COUNT,
};

struct decode {
    char cols[COL_COUNT][512];
};

static char *
run_capture(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    size_t cap = 1 << 16, len = 0, n;
    char *out = malloc(cap);

    cr_assert_not_null(p, "popen failed: %s", cmd);
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0)
        len += n;
    out[len] = '\0';
    cr_assert_eq(pclose(p), 0, "command failed: %s", cmd);
    return out;
}

static void
keys_option(const char *base, char *out, size_t cap)
{
    char path[512];
    char line[1024] = "";
    FILE *f;

    snprintf(path, sizeof(path), "%s.keys", base);
    out[0] = '\0';
    if ((f = fopen(path, "r")) == NULL)
        return;
    if (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        snprintf(out, cap, "-o 'uat:ikev2_decryption_table:%s'", line);
    }
    fclose(f);
}

static void
tshark_decode(const char *base, struct decode *d)
{
    char cmd[4096], keys[1200];
    char *out, *p;

    keys_option(base, keys, sizeof(keys));
    snprintf(cmd, sizeof(cmd), "tshark -r '%s.pcap' %s -T fields "
        "-E separator='|' " TSHARK_FIELDS " 2>/dev/null", base, keys);
    out = run_capture(cmd);
    out[strcspn(out, "\n")] = '\0';
    p = out;
    for (int i = 0; i < COL_COUNT; i++) {
        size_t n = strcspn(p, "|");

        cr_assert_lt(n, sizeof(d->cols[i]));
        memcpy(d->cols[i], p, n);
        d->cols[i][n] = '\0';
        p += n;
        if (*p == '|')
            p++;
    }
    free(out);
}

static json_t *
dump_decode(const char *base)
{
    char cmd[2048], keys[600] = "";
    json_error_t jerr;
    json_t *root;
    char *out;
    FILE *f;

    snprintf(keys, sizeof(keys), "%s.keys", base);
    if ((f = fopen(keys, "r")) != NULL) {
        fclose(f);
        snprintf(cmd, sizeof(cmd), "'%s' --compact --keys '%s.keys' "
            "'%s.hex'", DUMP_BIN, base, base);
    } else {
        snprintf(cmd, sizeof(cmd), "'%s' --compact '%s.hex'", DUMP_BIN, base);
    }
    out = run_capture(cmd);
    root = json_loads(out, 0, &jerr);
    cr_assert_not_null(root, "dump output is not JSON: %s", jerr.text);
    free(out);
    return root;
}

/* Appends the comma-separated numbers of `field` from every payload. */
static void
append_numbers(char *out, size_t cap, json_t *payloads, const char *field,
    int skip_missing)
{
    size_t i;
    json_t *p;

    json_array_foreach(payloads, i, p) {
        json_t *v = json_object_get(p, field);
        size_t len = strlen(out);

        if (v == NULL && skip_missing)
            continue;
        snprintf(out + len, cap - len, "%s%lld", len > 0 ? "," : "",
            (long long)json_integer_value(v));
    }
}

/* tshark lists proposal (2) and transform (3) substructures among the
 * payload types; keep only real payload types (33 and up). */
static void
payload_types_only(const char *in, char *out, size_t cap)
{
    char copy[512];

    snprintf(copy, sizeof(copy), "%s", in);
    out[0] = '\0';
    for (char *tok = strtok(copy, ","); tok != NULL; tok = strtok(NULL, ",")) {
        size_t len = strlen(out);

        if (atoi(tok) >= 33)
            snprintf(out + len, cap - len, "%s%s", len > 0 ? "," : "", tok);
    }
}

static json_t *
all_payloads(json_t *root)
{
    json_t *list = json_deep_copy(json_object_get(root, "payloads"));
    json_t *enc = json_object_get(root, "encrypted");

    if (enc != NULL)
        json_array_extend(list, json_object_get(enc, "payloads"));
    return list;
}

/* Returns the REDIRECT or REDIRECTED_FROM payload, if any. */
static json_t *
find_redirect(json_t *payloads)
{
    size_t i;
    json_t *p;

    json_array_foreach(payloads, i, p)
        if (json_object_get(p, "gateway") != NULL)
            return p;
    return NULL;
}

struct vector_name {
    char base[256];
};

static struct vector_name names[64];

static struct vector_name *
list_vectors(size_t *count)
{
    glob_t g;

    cr_assert_eq(glob(TEST_DATA_DIR "/vectors/*.pcap", 0, NULL, &g), 0);
    *count = g.gl_pathc < 64 ? g.gl_pathc : 64;
    for (size_t i = 0; i < *count; i++) {
        snprintf(names[i].base, sizeof(names[i].base), "%.*s",
            (int)(strlen(g.gl_pathv[i]) - 5), g.gl_pathv[i]);
    }
    globfree(&g);
    return names;
}

ParameterizedTestParameters(dump, agrees_with_tshark)
{
    size_t count;
    struct vector_name *v = list_vectors(&count);

    return cr_make_param_array(struct vector_name, v, count);
}

ParameterizedTest(struct vector_name *v, dump, agrees_with_tshark)
{
    struct decode ts;
    char ours[512] = "", theirs[512];
    json_t *root, *hdr, *payloads, *rd;

    tshark_decode(v->base, &ts);
    root = dump_decode(v->base);
    hdr = json_object_get(root, "header");
    payloads = all_payloads(root);

    cr_expect_str_eq(json_string_value(json_object_get(hdr, "spi_i")),
        ts.cols[COL_ISPI], "%s: SPIi", v->base);
    cr_expect_str_eq(json_string_value(json_object_get(hdr, "spi_r")),
        ts.cols[COL_RSPI], "%s: SPIr", v->base);
    cr_expect_eq(json_integer_value(json_object_get(hdr, "exchange_type")),
        atoi(ts.cols[COL_EXCH]), "%s: exchange type", v->base);

    append_numbers(ours, sizeof(ours), payloads, "type_number", 0);
    payload_types_only(ts.cols[COL_PAYLOADS], theirs, sizeof(theirs));
    cr_expect_str_eq(ours, theirs, "%s: payload order", v->base);

    ours[0] = '\0';
    append_numbers(ours, sizeof(ours), payloads, "notify_type", 1);
    cr_expect_str_eq(ours, ts.cols[COL_NOTIFIES], "%s: notify types",
        v->base);

    rd = find_redirect(payloads);
    cr_expect_eq(rd != NULL, ts.cols[COL_GW_TYPE][0] != '\0',
        "%s: presence of a GW identity", v->base);
    if (rd != NULL) {
        json_t *gw = json_object_get(rd, "gateway");
        const char *id = json_string_value(json_object_get(gw, "identity"));
        json_t *nonce = json_object_get(rd, "nonce");
        const char *expected_id = "";

        for (int c = COL_NEW_V4; c <= COL_ORG_V6; c++)
            if (ts.cols[c][0] != '\0')
                expected_id = ts.cols[c];
        cr_expect_eq(json_integer_value(json_object_get(gw, "type_number")),
            atoi(ts.cols[COL_GW_TYPE]), "%s: GW identity type", v->base);
        cr_expect_str_eq(id, expected_id, "%s: GW identity", v->base);
        cr_expect_str_eq(nonce != NULL ? json_string_value(nonce) : "",
            ts.cols[COL_NONCE], "%s: redirect nonce", v->base);
    }
    json_decref(payloads);
    json_decref(root);
}

Test(dump, rejects_truncated_header_with_offset)
{
    char cmd[1024];
    FILE *p;
    char line[256] = "";
    int status;

    snprintf(cmd, sizeof(cmd), "printf 'cba75897853cdcda00000000' | "
        "'%s' - 2>&1", DUMP_BIN);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    cr_assert_not_null(fgets(line, sizeof(line), p));
    status = pclose(p);
    cr_expect_eq(WEXITSTATUS(status), 1);
    cr_expect(strstr(line, "offset 0") != NULL, "message: %s", line);
}

Test(dump, rejects_wrong_keys)
{
    char cmd[2048];
    int status;

    /* Vector 16's keys belong to another SA than vector 14. */
    snprintf(cmd, sizeof(cmd), "'%s' --keys '%s/vectors/16-lsw-"
        "informational-req-redirect-gw_ipv4-encrypted.keys' '%s/vectors/"
        "14-sw-informational-req-redirect-gw_ipv4-encrypted.hex' "
        ">/dev/null 2>&1", DUMP_BIN, TEST_DATA_DIR, TEST_DATA_DIR);
    status = system(cmd);
    cr_expect_eq(WEXITSTATUS(status), 1);
}
