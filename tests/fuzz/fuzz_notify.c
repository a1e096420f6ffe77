/*
 * libFuzzer harness for the RFC 5685 notify parsers.
 *
 * The first input octet selects what the rest becomes: bits 0-1 pick
 * REDIRECT, REDIRECTED_FROM, REDIRECT_SUPPORTED or a raw Notify body, bit 2
 * sets Protocol ID 1 and bit 3 adds a 4-octet SPI.  The rest is the notify
 * data.  Every notify that decodes is rebuilt and must decode to the same
 * gateway and nonce, and its identity must survive a trip through text.
 * Any disagreement calls abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike_const.h"
#include "ike_msg.h"
#include "ike_natd.h"
#include "ike_payload.h"
#include "ike_redirect.h"

#define BUF_MAX     70000

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
    if (!cond)
        abort();
}

static int
same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static const struct ike_header hdr = {
    .spi_i = { 0xcb, 0xa7, 0x58, 0x97, 0x85, 0x3c, 0xdc, 0xda },
    .exchange = IKE_X_SA_INIT,
    .flags = IKE_FLAG_RESPONSE,
};

static uint8_t buf_in[BUF_MAX];
static uint8_t buf_out[BUF_MAX];

/* Parses the one-notify message in buf into *n, or returns 0. */
static int
parse_notify(const uint8_t *buf, size_t len, struct ike_notify *n)
{
    static struct ike_msg msg;

    if (ike_msg_parse(&msg, buf, len, NULL) < 0)
        return 0;
    check(msg.chain.count == 1);
    check(ike_payload_parse_notify(&msg.chain.payloads[0], n, NULL) == 0);
    return 1;
}

/* An error must point inside the notify. */
static void
check_error(const struct ike_notify *n, const struct ike_parse_error *err)
{
    check(err->code != IKE_E_OK);
    check(err->payload == IKE_P_NOTIFY);
    check(err->offset >= n->offset);
    check(err->offset <= n->data_offset + n->data_len);
}

/* The identity must convert to text and back to the same octets. */
static void
check_text(const struct ike_redirect_gw *gw)
{
    char text[IKE_REDIRECT_GW_TEXT_MAX];
    uint8_t storage[16];
    struct ike_redirect_gw back;

    check(ike_redirect_gw_to_text(gw, text, sizeof(text)) == 0);
    check(ike_redirect_gw_from_text(&back, text, storage) == 0);
    /* A dotted-decimal FQDN is valid host-name syntax, but as text it reads
     * back as an IPv4 address. */
    if (gw->type == IKE_GW_FQDN && back.type == IKE_GW_IPV4)
        return;
    check(back.type == gw->type);
    check(same_bytes(back.value, back.len, gw->value, gw->len));
}

static void
round_trip_redirect(const struct ike_notify *n, int ctx,
    const struct ike_redirect *rd)
{
    struct ike_writer w;
    struct ike_notify again;
    struct ike_redirect rd2;

    check_text(&rd->gw);
    if (ctx == IKE_REDIRECT_CTX_INIT_RESPONSE) {
        check(rd->nonce_len >= IKE_NONCE_MIN_LEN);
        check(rd->nonce_len <= IKE_NONCE_MAX_LEN);
    } else {
        check(rd->nonce == NULL && rd->nonce_len == 0);
    }
    ike_writer_init(&w, buf_out, sizeof(buf_out));
    ike_msg_begin(&w, &hdr);
    ike_redirect_build(&w, &rd->gw, rd->nonce, rd->nonce_len);
    check(ike_writer_error(&w) == 0);
    check(parse_notify(buf_out, ike_writer_len(&w), &again));
    check(same_bytes(again.data, again.data_len, n->data, n->data_len));
    check(ike_redirect_parse(&again, ctx, &rd2, NULL) == 0);
    check(rd2.gw.type == rd->gw.type);
    check(same_bytes(rd2.gw.value, rd2.gw.len, rd->gw.value, rd->gw.len));
    check(same_bytes(rd2.nonce, rd2.nonce_len, rd->nonce, rd->nonce_len));
}

static void
round_trip_from(const struct ike_notify *n, const struct ike_redirect_gw *gw)
{
    struct ike_writer w;
    struct ike_notify again;
    struct ike_redirect_gw gw2;

    check_text(gw);
    ike_writer_init(&w, buf_out, sizeof(buf_out));
    ike_msg_begin(&w, &hdr);
    ike_redirect_build_from(&w, gw);
    check(ike_writer_error(&w) == 0);
    check(parse_notify(buf_out, ike_writer_len(&w), &again));
    check(same_bytes(again.data, again.data_len, n->data, n->data_len));
    check(ike_redirect_parse_from(&again, &gw2, NULL) == 0);
    check(gw2.type == gw->type);
    check(same_bytes(gw2.value, gw2.len, gw->value, gw->len));
}

/* Runs every decoder on n, whatever its type. */
static void
exercise(const struct ike_notify *n)
{
    struct ike_parse_error err;
    struct ike_redirect rd;
    struct ike_redirect_gw gw;

    for (int ctx = 1; ctx <= 2; ctx++) {
        if (ike_redirect_parse(n, ctx, &rd, &err) == 0)
            round_trip_redirect(n, ctx, &rd);
        else if (n->type == IKE_N_REDIRECT)
            check_error(n, &err);
    }
    if (ike_redirect_parse_from(n, &gw, &err) == 0)
        round_trip_from(n, &gw);
    else if (n->type == IKE_N_REDIRECTED_FROM)
        check_error(n, &err);
    if (ike_redirect_parse_supported(n, &err) == 0)
        check(n->data_len == 0 && n->spi_size == 0 && n->proto_id == 0);
    else if (n->type == IKE_N_REDIRECT_SUPPORTED)
        check_error(n, &err);

    /* A name the checker accepts holds only host-name characters. */
    if (ike_redirect_check_fqdn(n->data, n->data_len, NULL) == 0) {
        for (size_t i = 0; i < n->data_len; i++) {
            uint8_t c = n->data[i];

            check((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '-' || c == '.');
        }
    }
    if (n->data_len == IKE_NATD_HASH_LEN) {
        static const uint8_t addr[16] = { 0x20, 0x01, 0x0d, 0xb8 };
        int m = ike_natd_match(n, hdr.spi_i, hdr.spi_r, addr, sizeof(addr),
            4500, NULL);

        check(m == 0 || m == 1);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t types[] = {
        IKE_N_REDIRECT, IKE_N_REDIRECTED_FROM, IKE_N_REDIRECT_SUPPORTED,
    };
    static const uint8_t spi[4] = { 0xc1, 0x2a, 0x00, 0x07 };
    struct ike_writer w;
    struct ike_notify n;

    if (size < 1)
        return 0;

    uint8_t mode = data[0] & 3;
    uint8_t proto = (data[0] & 4) ? 1 : 0;
    uint8_t spi_size = (data[0] & 8) ? sizeof(spi) : 0;

    ike_writer_init(&w, buf_in, sizeof(buf_in));
    ike_msg_begin(&w, &hdr);
    if (mode == 3)
        ike_payload_build_raw(&w, IKE_P_NOTIFY, 0, data + 1, size - 1);
    else
        ike_payload_build_notify(&w, proto, spi_size ? spi : NULL, spi_size,
            types[mode], data + 1, size - 1);
    if (ike_writer_error(&w) != 0)
        return 0;
    if (!parse_notify(buf_in, ike_writer_len(&w), &n))
        return 0;
    exercise(&n);
    return 0;
}
