/*
 * ikeshift-dump: prints one IKEv2 datagram as JSON.
 *
 * The input is hex text or raw octets, optionally starting with the
 * 4-octet non-ESP marker of port 4500.  With --keys, the SK payload is
 * decrypted and verified and its inner payloads are printed too.  Invalid
 * input gets one line on stderr naming what is wrong and where, and exit
 * status 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "dump_input.h"
#include "dump_json.h"
#include "ike_const.h"
#include "ike_error.h"
#include "ike_msg.h"
#include "ike_natd.h"
#include "ike_sk.h"

static void
usage(FILE *out)
{
    fprintf(out,
        "usage: ikeshift-dump [--keys FILE] [--compact] [FILE]\n"
        "Prints one IKEv2 datagram (hex text or raw octets; FILE or - for\n"
        "standard input) as JSON.\n"
        "  --keys FILE  decrypt the SK payload with the first line of FILE:\n"
        "               SPIi,SPIr,SK_ei,SK_er,\"cipher\",SK_ai,SK_ar,"
        "\"integrity\"\n"
        "               (Wireshark's IKEv2 decryption table format)\n"
        "  --compact    print the JSON on one line\n");
}

static int
report_parse_error(const char *what, const struct ike_parse_error *err)
{
    fprintf(stderr, "ikeshift-dump: invalid %s: %s (%s) at offset %zu\n",
        what, ike_error_describe(err->code), ike_error_name(err->code),
        err->offset);
    return 1;
}

/* Returns what an ike_sk_open() error means for someone holding keys. */
static const char *
sk_open_error(int ret)
{
    switch (ret) {
    case -EBADMSG:
        return "integrity check failed (wrong keys or corrupted message)";
    case -ERANGE:
        return "pad length beyond the plaintext (wrong encryption key?)";
    case -ENODATA:
        return "payload too short to hold the IV and the ICV";
    case -EPROTO:
        return "ciphertext is not a whole number of cipher blocks";
    case -ENOTSUP:
        return "cipher suite not supported";
    case -EINVAL:
        return "length fields disagree with the message";
    default:
        return strerror(-ret);
    }
}

/* Decrypts the SK payload of msg and appends its payloads to out.  `base`
 * is the offset of the IKE header in the datagram. */
static int
dump_encrypted(json_t *out, const struct ike_msg *msg,
    const struct ike_payload *sk, const struct dump_keys *keys, size_t base)
{
    uint8_t plain[DUMP_MAX_DATAGRAM];
    struct ike_chain inner;
    struct ike_parse_error err = { 0 };
    enum ike_sk_dir dir;
    size_t plain_len = 0;
    uint8_t next = 0;
    json_t *enc, *list;
    int ret;

    if (memcmp(keys->spi_i, msg->hdr.spi_i, 8) != 0 ||
        memcmp(keys->spi_r, msg->hdr.spi_r, 8) != 0) {
        fprintf(stderr, "ikeshift-dump: the keys are for another IKE SA "
            "(SPIs differ from the message's)\n");
        return 1;
    }
    dir = msg->hdr.flags & IKE_FLAG_INITIATOR ? IKE_SK_FROM_INITIATOR :
        IKE_SK_FROM_RESPONDER;
    ret = ike_sk_open(&keys->sa, dir, msg->raw, msg->len, sk->offset, plain,
        sizeof(plain), &plain_len, &next);
    if (ret < 0) {
        fprintf(stderr, "ikeshift-dump: cannot open SK payload at offset "
            "%zu: %s\n", base + sk->offset, sk_open_error(ret));
        return 1;
    }
    ret = ike_chain_parse(&inner, plain, plain_len, next, &err);
    if (ret == 0) {
        enc = json_object();
        list = json_array();
        json_object_set_new(enc, "integrity", json_string("verified"));
        json_object_set_new(enc, "plaintext_length",
            json_integer((json_int_t)plain_len));
        json_object_set_new(enc, "payloads", list);
        json_object_set_new(out, "encrypted", enc);
        ret = dump_json_chain(list, &inner, &msg->hdr, 0, &err);
    }
    OPENSSL_cleanse(plain, sizeof(plain));
    if (ret < 0)
        return report_parse_error("decrypted payload (offset counted from "
            "the plaintext)", &err);
    return 0;
}

static int
dump_datagram(const uint8_t *buf, size_t len, const struct dump_keys *keys,
    size_t json_flags)
{
    struct ike_parse_error err = { 0 };
    struct ike_msg msg;
    const struct ike_payload *sk;
    size_t off = 0;
    json_t *root, *payloads;
    int status = 0;

    /* A datagram from port 4500 starts with four zero octets (RFC 3948
     * 2.2).  An IKE message on port 500 may start so too, because only the
     * whole 8-octet SPIi must be non-zero, so a message that does not parse
     * after the marker is tried once more from offset 0. */
    if (len >= IKE_NON_ESP_MARKER_LEN && ike_load32(buf) == 0 &&
        ike_natd_classify(buf, len, &off) == IKE_UDP_IKE &&
        ike_msg_parse(&msg, buf + off, len - off, &err) < 0) {
        struct ike_parse_error err0 = { 0 };

        if (ike_msg_parse(&msg, buf, len, &err0) == 0) {
            off = 0;
        } else {
            err.offset += off;
            return report_parse_error("IKE message after the non-ESP marker",
                &err);
        }
    } else if (ike_msg_parse(&msg, buf + off, len - off, &err) < 0) {
        err.offset += off;
        return report_parse_error("IKE message", &err);
    }
    root = json_object();
    payloads = json_array();
    json_object_set_new(root, "non_esp_marker", json_boolean(off != 0));
    json_object_set_new(root, "header", dump_json_header(&msg.hdr));
    json_object_set_new(root, "payloads", payloads);
    if (dump_json_chain(payloads, &msg.chain, &msg.hdr, off, &err) < 0) {
        json_decref(root);
        return report_parse_error("payload", &err);
    }
    sk = ike_msg_encrypted(&msg);
    if (sk != NULL && sk->type == IKE_P_SK && keys != NULL)
        status = dump_encrypted(root, &msg, sk, keys, off);
    else if (keys != NULL && sk != NULL)
        fprintf(stderr, "ikeshift-dump: --keys given but the message carries "
            "an SKF fragment, which this tool does not decrypt; printing it "
            "unencrypted\n");
    else if (keys != NULL)
        fprintf(stderr, "ikeshift-dump: --keys given but the message has "
            "no SK payload; printing it unencrypted\n");
    if (status == 0) {
        char *text = json_dumps(root, json_flags);

        if (text == NULL) {
            fprintf(stderr, "ikeshift-dump: out of memory\n");
            status = 1;
        } else {
            puts(text);
            free(text);
        }
    }
    json_decref(root);
    return status;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "keys", required_argument, NULL, 'k' },
        { "compact", no_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static uint8_t buf[DUMP_MAX_DATAGRAM];
    struct dump_keys keys;
    const char *keys_path = NULL;
    const char *path = "-";
    size_t json_flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER;
    char errbuf[256];
    size_t len = 0;
    int c, status;

    while ((c = getopt_long(argc, argv, "k:ch", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            keys_path = optarg;
            break;
        case 'c':
            json_flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (argc - optind > 1) {
        usage(stderr);
        return 2;
    }
    if (argc - optind == 1)
        path = argv[optind];
    if (keys_path != NULL &&
        dump_read_keys(keys_path, &keys, errbuf, sizeof(errbuf)) < 0) {
        fprintf(stderr, "ikeshift-dump: %s\n", errbuf);
        return 1;
    }
    if (dump_read_datagram(path, buf, sizeof(buf), &len, errbuf,
        sizeof(errbuf)) < 0) {
        fprintf(stderr, "ikeshift-dump: %s\n", errbuf);
        return 1;
    }
    status = dump_datagram(buf, len, keys_path != NULL ? &keys : NULL,
        json_flags);
    OPENSSL_cleanse(&keys, sizeof(keys));
    return status;
}
